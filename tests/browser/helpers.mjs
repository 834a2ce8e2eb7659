// Shared set-up of the browser tests: Debian's Chromium through playwright-core (never a
// browser download), dist/ served under /batchlab/ by server.mjs, and small page helpers.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { startServer } from "./server.mjs";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const PREFIX = "/batchlab/";

/// Start the server and Chromium. `webgpu: true` adds `--enable-unsafe-webgpu`, which
/// gives headless Chromium a WebGPU adapter (SwiftShader, on the CPU); without it
/// `navigator.gpu.requestAdapter()` finds none and the page falls back to the CPU.
/// `dist` serves another build of the site (e.g. the CPU-only one).
export async function launch({ webgpu = false, dist = process.env.BATCHLAB_DIST ?? join(ROOT, "dist") } = {}) {
  const server = await startServer(dist, { prefix: PREFIX, cache: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      ...(webgpu ? ["--enable-unsafe-webgpu"] : []),
    ],
  });
  return {
    server,
    browser,
    close: async () => {
      await browser.close();
      await server.close();
    },
  };
}

/// A fresh page on `fragment`, ready (worker started), recording console errors and
/// every request.
export async function openPage(env, fragment = "") {
  const context = await env.browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  const errors = [];
  const requests = [];
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("request", (r) => requests.push(r.url()));
  await page.goto(env.server.url + (fragment ? `#${fragment}` : ""));
  await page.waitForSelector("body[data-worker=ready]", { timeout: 30_000 });
  return { page, errors, requests, close: () => context.close() };
}

/// Wait for the worker's WebGPU probe; returns the page's GPU line.
export async function gpuLine(page) {
  await page.waitForSelector("body[data-gpu]", { timeout: 30_000 });
  return page.textContent("#gpu");
}

/// Set a range or number input and fire the events a user's change would.
export async function setValue(page, selector, value) {
  await page.$eval(
    selector,
    (el, v) => {
      el.value = String(v);
      el.dispatchEvent(new Event("input", { bubbles: true }));
      el.dispatchEvent(new Event("change", { bubbles: true }));
    },
    value,
  );
}

export async function jobsDone(page) {
  return Number((await page.getAttribute("body", "data-jobs-done")) ?? "0");
}

/// Click a run button and wait until the job is shown (or fail on an error).
export async function runJob(page, button, timeout = 120_000) {
  const before = await jobsDone(page);
  await page.click(button);
  await page.waitForFunction(
    (n) => Number(document.body.dataset.jobsDone ?? "0") > n || document.getElementById("error").textContent !== "",
    before,
    { timeout },
  );
  const error = await page.textContent("#error");
  if (error) throw new Error(`the page shows an error: ${error}`);
}

/// Click a download button, return the file's name and text.
export async function download(page, name) {
  const [d] = await Promise.all([page.waitForEvent("download"), page.click(`button:text-is("Download ${name}")`)]);
  return { name: d.suggestedFilename(), text: readFileSync(await d.path(), "utf8") };
}

/// The summary table as { metric: [cells...] }.
export async function summary(page) {
  return page.$$eval("#summary-table tbody tr", (rows) =>
    Object.fromEntries(rows.map((r) => [r.querySelector("th").textContent, [...r.querySelectorAll("td")].map((td) => td.textContent)])),
  );
}

/// The CLI binary (built by scripts/test-browser.sh).
export function cli() {
  const candidates = [process.env.BATCHLAB_CLI, join(ROOT, "target/release/batchlab"), join(ROOT, "target/debug/batchlab")];
  const found = candidates.find((p) => p && existsSync(p));
  if (!found) throw new Error("no batchlab CLI binary: run scripts/test-browser.sh (it builds one)");
  return found;
}

/// Whether the CLI's `run` has option `flag` (e.g. "--token-backend").
export function cliHas(flag) {
  return execFileSync(cli(), ["run", "--help"], { encoding: "utf8" }).includes(flag);
}

/// Run the CLI with `args` plus `--out DIR` (in folder `cwd`); returns DIR.
export function runCli(args, cwd = ROOT) {
  const out = mkdtempSync(join(tmpdir(), "batchlab-cli-"));
  execFileSync(cli(), [...args, "--out", out], { cwd, stdio: ["ignore", "ignore", "pipe"] });
  return out;
}

/// A CSV with its wall-clock column (`wall_time_s`, always last) blanked.
export function withoutWallClock(csv) {
  const lines = csv.split("\n");
  const header = lines[0].split(",");
  if (header[header.length - 1] !== "wall_time_s") throw new Error("wall_time_s is not the last column");
  return lines.map((line, i) => (i === 0 || line === "" ? line : line.slice(0, line.lastIndexOf(",") + 1))).join("\n");
}
