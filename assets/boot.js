// Loads the page's wasm (trunk's inline loader is disabled: the CSP forbids inline
// scripts). Paths are relative to this file, so dist/ works under any prefix.
import init from "./batchlab-web.js";

init({ module_or_path: new URL("./batchlab-web_bg.wasm", import.meta.url) }).catch((e) => {
  const box = document.getElementById("error");
  if (box) box.textContent = `BatchLab could not start: ${e}`;
  console.error(e);
});
