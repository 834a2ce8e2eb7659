// Traces of any size in the page: a dropped file is read in slices by the worker with
// progress shown, a BurstGPT-sized one (1.4M rows) loads and runs, and a file past the
// worker's cap on rows (lowered here by the link's test hook ?max-trace-rows=N) is
// refused in words while the page stays usable.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { burstgpt, launch, openPage, runJob, setValue, seen, summary, watchPage } from "./helpers.mjs";

// Slider position of 1K requests (see app.test.mjs).
const N1K = 0;


let env;
let dir;
before(async () => {
  env = await launch();
  dir = mkdtempSync(join(tmpdir(), "batchlab-bigfile-"));
  writeFileSync(join(dir, "big.csv"), burstgpt(1_400_000));
  writeFileSync(join(dir, "over.csv"), burstgpt(1_500));
  writeFileSync(join(dir, "under.csv"), burstgpt(900));
  // 200,000 rows with a 400-byte column no role claims: ~85 MB of file, 3.2 MB of rows.
  const note = "x".repeat(400);
  writeFileSync(join(dir, "wide.csv"), "time,prompt,output,note\n" + Array.from({ length: 200_000 }, (_, i) => `${i},5,6,${note}\n`).join(""));
});
after(async () => {
  await env?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const fileInfo = (page) => page.textContent("#file-info");

describe("traces of any size", () => {
  test("a BurstGPT-sized trace is read in slices with progress shown, and runs", async () => {
    const { page, errors, close } = await openPage(env);
    await watchPage(page);
    await page.setInputFiles("#trace-file", join(dir, "big.csv"));
    await page.waitForFunction(() => /big\.csv: 1400000 rows loaded/.test(document.getElementById("file-info").textContent), null, { timeout: 120_000 });
    // 28,000 failed rows (every 50th), the first on row 9; 350,000 s of whole seconds.
    assert.match(await fileInfo(page), /28000 of them with 0 output tokens \(failed requests, first at row 9\)/);
    // Progress as the bytes passed: several steps, each in words, and the status put back.
    const reading = (await seen(page)).statuses.filter((s) => s.startsWith("reading big.csv"));
    assert.ok(new Set(reading).size >= 3, JSON.stringify(reading));
    for (const s of reading) assert.match(s, /^reading big\.csv: \d+% \(\d+\.\d MB of \d+\.\d MB\)$/);
    assert.doesNotMatch(await page.textContent("#status"), /^reading/);
    await setValue(page, "#requests", N1K);
    await runJob(page, "#run");
    assert.deepEqual((await summary(page))["requests completed"], ["1000"]);
    assert.deepEqual(errors, []);
    await close();
  });

  test("the worker holds the rows, never the file: its memory stays far below the file's size", async () => {
    const { page, close } = await openPage(env);
    await page.setInputFiles("#trace-file", join(dir, "wide.csv"));
    await page.waitForFunction(() => /wide\.csv: 200000 rows loaded/.test(document.getElementById("file-info").textContent), null, { timeout: 120_000 });
    // WebAssembly.Memory only grows: its size is the most the worker ever held. The
    // loader's wasm_bindgen(...) promise is cached: asking again gives its exports.
    const bytes = await page.workers()[0].evaluate(async () => (await wasm_bindgen({ module_or_path: "./batchlab-worker_bg.wasm" })).memory.buffer.byteLength);
    assert.ok(bytes < 40e6, `worker memory ${bytes} bytes for an 85 MB file`);
    await close();
  });

  test("past a lowered cap a trace is refused in words; the results and the page stay", async () => {
    const context = await env.browser.newContext();
    const page = await context.newPage();
    await page.goto(`${env.server.url}?max-trace-rows=1000#preset=paper`);
    await page.waitForSelector("body[data-worker=ready]", { timeout: 30_000 });
    await setValue(page, "#requests", N1K);
    await runJob(page, "#run");
    const before = await summary(page);
    await page.setInputFiles("#trace-file", join(dir, "over.csv"));
    await page.waitForFunction(() => document.getElementById("error").textContent !== "");
    assert.match(
      await page.textContent("#error"),
      /over\.csv, row 1002: more than 1,000 requests: the page holds at most that many \(its memory\); cut the file, or use the CLI/,
    );
    // The file is dropped, the last results kept, and the next run works.
    assert.doesNotMatch(await page.textContent("#trace-name"), /over\.csv/);
    assert.deepEqual(await summary(page), before);
    await runJob(page, "#run");
    await page.setInputFiles("#trace-file", join(dir, "under.csv"));
    await page.waitForFunction(() => /under\.csv: 900 rows loaded/.test(document.getElementById("file-info").textContent));
    await runJob(page, "#run");
    assert.deepEqual((await summary(page))["requests completed"], ["900"]);
    await context.close();
  });
});
