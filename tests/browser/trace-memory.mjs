// Not a test: the worker's wasm memory (WebAssembly.Memory's size, which only grows)
// when it has read a generated BurstGPT-like trace of ROWS rows, and after a run of the
// page's largest request count on it. README ("Traces of any size") quotes it; the cap
// on rows in src/trace_file.rs is sized from it. Needs dist/ built.
//   node trace-memory.mjs [ROWS]     (default 1000000; the file goes to the temp dir)
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { burstgpt, launch, openPage, runJob, setValue, summary } from "./helpers.mjs";

const rows = Number(process.argv[2] ?? 1_000_000);
const dir = mkdtempSync(join(tmpdir(), "batchlab-memory-"));
const file = join(dir, `trace-${rows}.csv`);
writeFileSync(file, burstgpt(rows));
const env = await launch();
try {
  const { page, close } = await openPage(env);
  // The worker loader's wasm_bindgen(...) promise is cached: asking again gives its exports.
  const memory = async () => {
    const bytes = await page.workers()[0].evaluate(async () => (await wasm_bindgen({ module_or_path: "./batchlab-worker_bg.wasm" })).memory.buffer.byteLength);
    return `${(bytes / 1048576).toFixed(0)} MiB`;
  };
  console.log(`fresh worker: ${await memory()}`);
  await page.setInputFiles("#trace-file", file);
  await page.waitForFunction(() => /rows loaded/.test(document.getElementById("file-info").textContent), null, { timeout: 600_000 });
  console.log(`after reading ${rows} rows: ${await memory()}`);
  await setValue(page, "#requests", 36); // the slider's last step: 1M requests
  await runJob(page, "#run", 600_000);
  console.log(`after a run of ${(await summary(page))["requests completed"]} requests: ${await memory()}`);
  await close();
} finally {
  await env.close();
  rmSync(dir, { recursive: true, force: true });
}
