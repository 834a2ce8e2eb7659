// Shared set-up of the browser tests: Debian's Chromium through playwright-core (never a
// browser download), dist/ served under /batchlab/ by server.mjs, and small page helpers.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { startServer } from "./server.mjs";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const PREFIX = "/batchlab/";

/// Each scheduler in people's words, as the page's legends and headings say it.
export const SCHEDULER_WORDS = {
  static_fifo: "static FIFO",
  dynamic_no_bins: "dynamic, no bins",
  multi_bin_dynamic: "multi-bin dynamic",
  multi_bin_fixed: "multi-bin fixed",
  continuous: "continuous",
  multi_bin_continuous: "multi-bin continuous",
};

/// Start the server and Chromium. `webgpu: true` adds `--enable-unsafe-webgpu`, which
/// gives headless Chromium a WebGPU adapter (SwiftShader, on the CPU); without it
/// `navigator.gpu.requestAdapter()` finds none and the page falls back to the CPU.
/// `dist` serves another build of the site (e.g. the CPU-only one).
export async function launch({ webgpu = false, dist = process.env.BATCHLAB_DIST ?? join(ROOT, "dist") } = {}) {
  // A missing build fails the tests that need it (never a silent skip).
  if (!existsSync(join(dist, "index.html"))) throw new Error(`${dist}/index.html is missing: build it first (scripts/test-browser.sh does)`);
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
/// every request. Without a fragment, the paper preset's defaults with no job (a bare
/// link, `""`, runs the first view: see layout.test.mjs). `contextOptions`: more options of
/// the browser context (viewport, colorScheme, ...).
export async function openPage(env, fragment = "preset=paper", contextOptions = {}) {
  const context = await env.browser.newContext({ acceptDownloads: true, ...contextOptions });
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

/// Cancel the job in progress. The check that a job is running and the click on Cancel
/// happen in one task of the page, so the job cannot finish in between: this never
/// depends on how fast the machine is. Fails if no job was running.
export async function cancelRunningJob(page) {
  const wasBusy = await page.evaluate(() => {
    if (document.body.dataset.busy !== "true") return false;
    document.getElementById("cancel").click();
    return true;
  });
  if (!wasBusy) throw new Error("no job was running to cancel");
  await page.waitForSelector("body[data-busy=false]", { timeout: 30_000 });
}

/// Start recording, in the page, every status line shown and the "requests completed"
/// cells of every result shown; `seen(page)` returns both. Lets a test assert that a
/// cancelled job never reported anything, by what happened rather than by a timer.
export async function watchPage(page) {
  await page.evaluate(() => {
    const seen = { statuses: [], results: [] };
    window.__seen = seen;
    const status = document.getElementById("status");
    new MutationObserver(() => seen.statuses.push(status.textContent)).observe(status, { childList: true, characterData: true, subtree: true });
    new MutationObserver(() => {
      const row = [...document.querySelectorAll("#summary-table tbody tr")].find((r) => r.querySelector("th")?.textContent === "requests completed");
      if (row) seen.results.push([...row.querySelectorAll("td")].map((td) => td.textContent));
    }).observe(document.getElementById("summary"), { childList: true });
  });
}

export async function seen(page) {
  return page.evaluate(() => window.__seen);
}

/// Parse an SVG download with the browser's own XML parser (DOMParser, in the page) and
/// describe what it holds: parse errors, the root, its size, every text, the data marks.
export async function parseSvg(page, text) {
  return page.evaluate((t) => {
    const NS = "http://www.w3.org/2000/svg";
    const doc = new DOMParser().parseFromString(t, "image/svg+xml");
    const root = doc.documentElement;
    const all = (tag) => [...doc.getElementsByTagNameNS(NS, tag)];
    return {
      parseErrors: doc.getElementsByTagName("parsererror").length,
      root: root.localName,
      namespace: root.namespaceURI,
      viewBox: root.getAttribute("viewBox"),
      width: root.getAttribute("width"),
      height: root.getAttribute("height"),
      label: root.getAttribute("aria-label"),
      // Charts nested in a figure of several panels.
      panels: all("svg").length - 1,
      texts: all("text").map((e) => e.textContent),
      // Each polyline's points as [x, y] pairs.
      polylines: all("polyline").map((e) => e.getAttribute("points").trim().split(/\s+/).map((p) => p.split(",").map(Number))),
      // Bars: the rects that carry a <title> (their value).
      bars: all("rect").filter((r) => r.querySelector("title")).map((r) => ({
        value: r.querySelector("title").textContent,
        height: Number(r.getAttribute("height")),
      })),
    };
  }, text);
}

// Chromium drops a frame's 11th URL download within a second (a browser policy against
// abuse, chromium CL 1132485: the download event never comes). A test that downloads
// many files in a row waits that window out before its 10th: pacing for the browser's
// rule, not a timing assertion (a slow machine never waits).
const DOWNLOADS_PER_WINDOW = 9;
const WINDOW_MS = 1_100;
const recentDownloads = new WeakMap();

/// Click a download button, return the file's name and text.
export async function download(page, name) {
  const recent = (recentDownloads.get(page) ?? []).filter((t) => Date.now() - t < WINDOW_MS);
  if (recent.length >= DOWNLOADS_PER_WINDOW) await new Promise((ok) => setTimeout(ok, recent[0] + WINDOW_MS - Date.now()));
  const [d] = await Promise.all([page.waitForEvent("download"), page.click(`button:text-is("Download ${name}")`)]);
  recentDownloads.set(page, [...recent, Date.now()]);
  return { name: d.suggestedFilename(), text: readFileSync(await d.path(), "utf8") };
}

/// The summary table as { metric: [cells...] } (its groups' heading rows left out).
export async function summary(page) {
  return page.$$eval("#summary-table tbody tr:not(.group)", (rows) =>
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

/// `run.json` with its one wall-clock field blanked.
export const jsonWithoutWallClock = (s) => s.replace(/"wall_time_s": [^,\n]*/, '"wall_time_s": _');

/// A CSV's rows as arrays of cells (RFC 4180 quotes; no line breaks inside cells),
/// header first.
export function csvRows(text) {
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => {
      const cells = [""];
      let quoted = false;
      for (let i = 0; i < line.length; i++) {
        const c = line[i];
        if (c === '"' && quoted && line[i + 1] === '"') {
          cells[cells.length - 1] += '"';
          i++;
        } else if (c === '"') quoted = !quoted;
        else if (c === "," && !quoted) cells.push("");
        else cells[cells.length - 1] += c;
      }
      return cells;
    });
}

/// A CSV's data rows as objects keyed by the header.
export function csvRecords(text) {
  const [header, ...rows] = csvRows(text);
  return rows.map((r) => {
    assert.equal(r.length, header.length, `ragged CSV row: ${r}`);
    return Object.fromEntries(header.map((h, i) => [h, r[i]]));
  });
}

/// A chart's number label ("1.23", "45.6k", "2.1M") as a number.
export function chartNumber(label) {
  const m = /^(-?[\d.]+)([kM]?)$/.exec(label);
  assert.ok(m, `not a chart number: ${label}`);
  return Number(m[1]) * { "": 1, k: 1e3, M: 1e6 }[m[2]];
}

/// Assert that a downloaded chart is a well-formed SVG file (parsed by the browser's
/// DOMParser) with its title, axis labels, legend and data marks: `lines` polylines of
/// `points[i]` points each (when given) inside the picture, or `bars` value bars.
export async function assertSvgChart(page, file, { title, xLabel, yLabel, legend = [], texts = [], lines = 0, points, bars = 0 }) {
  const what = file.name;
  assert.match(what, /\.svg$/);
  const svg = await parseSvg(page, file.text);
  assert.equal(svg.parseErrors, 0, `${what}: not well-formed: ${file.text.slice(0, 200)}`);
  assert.equal(svg.root, "svg", what);
  assert.equal(svg.namespace, "http://www.w3.org/2000/svg", what);
  const [w, h] = [Number(svg.width), Number(svg.height)];
  assert.ok(w > 0 && h > 0, `${what}: size ${svg.width} x ${svg.height}`);
  assert.equal(svg.viewBox, `0 0 ${w} ${h}`, what);
  assert.equal(svg.label, title, `${what}: aria-label`);
  for (const t of [title, xLabel, yLabel, ...legend, ...texts].filter((t) => t)) {
    assert.ok(svg.texts.includes(t), `${what}: no text "${t}" in ${JSON.stringify(svg.texts)}`);
  }
  assert.equal(svg.polylines.length, lines, `${what}: polylines`);
  svg.polylines.forEach((pl, i) => {
    assert.ok(pl.length >= 2, `${what}: line ${i} has ${pl.length} point(s)`);
    if (points) assert.equal(pl.length, points[i], `${what}: points of line ${i}`);
    for (const [x, y] of pl) assert.ok(x >= 0 && x <= w && y >= 0 && y <= h, `${what}: point ${x},${y} outside the picture`);
  });
  assert.equal(svg.bars.length, bars, `${what}: bars`);
  if (bars) {
    assert.ok(svg.bars.every((b) => b.height >= 0 && b.height <= h), `${what}: bar heights`);
    assert.ok(svg.bars.some((b) => b.height > 0), `${what}: every bar is empty`);
  }
  return svg;
}

/// The error region's lines, and each marked control with the line its mark names.
export async function problems(page) {
  return page.evaluate(() => {
    const region = document.getElementById("error");
    const items = [...region.querySelectorAll("li")];
    const lines = items.length ? items.map((l) => l.textContent) : region.textContent ? [region.textContent] : [];
    const marks = Object.fromEntries(
      [...document.querySelectorAll("[aria-invalid=true]")].map((e) => [e.id, document.getElementById(e.getAttribute("aria-errormessage"))?.textContent]),
    );
    return { lines, marks };
  });
}

/// A trace of `rows` BurstGPT-like rows (BurstGPT's columns, whole-second stamps, 1 in
/// 50 failed), the same for every call.
export function burstgpt(rows) {
  const parts = ["Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n"];
  let x = 12345;
  for (let i = 0; i < rows; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    const p = 20 + (x % 1500);
    const o = i % 50 === 7 ? 0 : 1 + (Math.floor(x / 2048) % 600);
    parts.push(`${1000000 + Math.floor(i / 4)},${i % 4 ? "ChatGPT" : "GPT-4"},${p},${o},${p + o},${i % 3 ? "Conversation log" : "API log"}\n`);
  }
  return parts.join("");
}
