// The page's teaching and reviewing aids in headless Chromium: the guided tour (each
// step a link that runs what it shows), the glossary, the zip of every output with its
// reproducibility stamp.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { download, jobsDone, launch, openPage, summary } from "./helpers.mjs";

let env;
before(async () => {
  env = await launch();
});
after(async () => {
  await env?.close();
});

/// The files of a zip, read back with Python's zipfile: { name: text }.
function unzip(bytes) {
  const path = join(mkdtempSync(join(tmpdir(), "batchlab-zip-")), "all.zip");
  writeFileSync(path, bytes);
  const script = "import sys, zipfile, json\nz = zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nprint(json.dumps({i.filename: z.read(i).decode() for i in z.infolist()}))";
  return JSON.parse(execFileSync("python3", ["-c", script, path], { encoding: "utf8" }));
}

describe("learning and reviewing", () => {
  test("the guided tour: five step links; a step's link runs what it shows, and the URL is the step's", async () => {
    const { page, errors, close } = await openPage(env);
    const steps = await page.$$eval("#tour a[data-tour-step]", (as) => as.map((a) => ({ text: a.textContent, href: a.getAttribute("href") })));
    assert.equal(steps.length, 5);
    assert.ok(steps.every((s) => s.href.startsWith("#preset=") && /&show=(run|compare)/.test(s.href)), JSON.stringify(steps));
    assert.equal(await page.locator("#glossary dt").count() >= 7, true, "a glossary of the terms");
    // Step 2 from the page (the tour unfolded): the link sets the controls and runs dynamic batching.
    await page.click("#tour-box summary");
    let before = await jobsDone(page);
    await page.click("#tour a[data-tour-step='2']");
    await page.waitForFunction((n) => Number(document.body.dataset.jobsDone ?? "0") > n, before, { timeout: 120_000 });
    assert.equal(await page.inputValue("#scheduler"), "dynamic_no_bins");
    assert.deepEqual((await summary(page))["requests completed"], ["22000"]);
    // The page's link now spells every setting; it holds each of the step's.
    const pairs = (hash) => hash.replace(/^.*#/, "").split("&");
    const shown = pairs(page.url());
    assert.deepEqual(pairs(steps[1].href).filter((kv) => !shown.includes(kv)), [], `${page.url()} holds step 2's link`);
    await close();
    // Step 5 opened from its URL: all six schedulers compared.
    const step5 = await openPage(env, steps[4].href.slice(1));
    await step5.page.waitForFunction(() => Number(document.body.dataset.jobsDone ?? "0") > 0, null, { timeout: 120_000 });
    assert.equal((await summary(step5.page))["requests completed"].length, 6);
    assert.equal(await step5.page.inputValue("#scheduler"), "continuous");
    assert.deepEqual([...errors, ...step5.errors], []);
    await step5.close();
  });

  test("'Download everything' is a zip of every single download, the configuration and a stamp that names the build, the configuration and the files", async () => {
    const { page, errors, close } = await openPage(env, "preset=paper&n=1000&gpus=2&k=3");
    await page.click("#run");
    await page.waitForFunction(() => Number(document.body.dataset.jobsDone ?? "0") > 0, null, { timeout: 60_000 });
    const names = await page.$$eval("#results button[data-download]", (bs) => bs.map((b) => b.textContent.replace(/^Download /, "")));
    assert.ok(names.includes("run.csv") && names.includes("run.json") && names.some((n) => n.endsWith(".svg")), names.join(", "));
    const [zipDownload] = await Promise.all([page.waitForEvent("download"), page.click("#download-all")]);
    assert.equal(zipDownload.suggestedFilename(), "batchlab-results.zip");
    const files = unzip(readFileSync(await zipDownload.path()));
    assert.deepEqual(Object.keys(files).sort(), [...names, "config.json", "stamp.json"].sort());
    for (const name of names) assert.equal(files[name], (await download(page, name)).text, name);
    const stamp = JSON.parse(files["stamp.json"]);
    assert.equal(stamp.preset, "paper");
    assert.match(stamp.config_fingerprint, /^[0-9a-f]{16}$/);
    assert.match(stamp.commit, /^[0-9a-f]{7,}$/, "the site knows the commit it was built from");
    assert.deepEqual(JSON.parse(files["config.json"]), stamp.config);
    assert.equal(stamp.config.gpus, 2);
    assert.equal(JSON.parse(files["run.json"]).config.gpus, 2);
    assert.match(await page.textContent("#stamp"), new RegExp(`^Reproducibility stamp: BatchLab \\S+ \\(commit ${stamp.commit}\\), preset paper, configuration ${stamp.config_fingerprint}, synthetic workload$`));
    // A trace run's stamp names the trace and the fingerprint of its bytes.
    await page.setInputFiles("#trace-file", join(import.meta.dirname, "fixtures/burstgpt_sample.csv"));
    await page.waitForFunction(() => document.getElementById("file-info").textContent !== "");
    // The trace described: its span, its own rate, its lengths; and what the load makes of it.
    assert.match(await page.textContent("#file-info"), /600 rows loaded .*; spans \S+ (s|min|h) at (\S+) req\/s of its own; prompts \S+ tokens and outputs \S+ tokens on average$/);
    const own = (await page.textContent("#file-info")).match(/at (\S+) req\/s of its own/)[1];
    assert.equal(await page.textContent("#trace-load"), `At RPS scaling ×${await page.inputValue("#rps")} this trace arrives at ${(await page.textContent("#trace-load")).match(/arrives at (\S+) req/)[1]} req/s (its own rate: ${own} req/s).`);
    const scaled = Number((await page.textContent("#trace-load")).match(/arrives at (\S+) req/)[1]);
    assert.ok(Math.abs(scaled / (Number(own) * Number(await page.inputValue("#rps"))) - 1) < 0.01, "own rate x factor");
    await page.selectOption("#load", "real");
    assert.equal(await page.textContent("#trace-load"), `At real timestamps this trace arrives at ${own} req/s.`);
    const n = await jobsDone(page);
    await page.click("#run");
    await page.waitForFunction((k) => Number(document.body.dataset.jobsDone ?? "0") > k, n, { timeout: 60_000 });
    assert.match(await page.textContent("#stamp"), /, trace burstgpt_sample\.csv \([0-9a-f]{16}\)$/);
    assert.deepEqual(errors, []);
    await close();
  });
});

describe("live controls", () => {
  test("after a small run, moving a slider runs it again by itself; a large run keeps the Run button", async () => {
    const { page, errors, close } = await openPage(env, "preset=paper&n=2200&gpus=2&k=3&show=run");
    await page.waitForFunction(() => Number(document.body.dataset.jobsDone ?? "0") > 0, null, { timeout: 60_000 });
    assert.deepEqual((await summary(page))["GPUs"], ["2"]);
    const done = await jobsDone(page);
    // Three quick moves: the controls settle, then one run on the last value.
    for (const g of [3, 5, 6]) {
      await page.$eval("#gpus", (el, v) => { el.value = String(v); el.dispatchEvent(new Event("input", { bubbles: true })); }, g);
    }
    await page.waitForFunction((n) => Number(document.body.dataset.jobsDone ?? "0") > n, done, { timeout: 60_000 });
    assert.deepEqual((await summary(page))["GPUs"], ["6"]);
    assert.match(page.url(), /gpus=6.*&show=run$/, "the link names the figure shown again");
    assert.equal(await page.getAttribute("#results", "data-stale"), null);
    // Above 200,000 requests a change only marks the results stale.
    await page.$eval("#requests", (el) => { el.value = "30"; el.dispatchEvent(new Event("input", { bubbles: true })); });
    assert.equal(await page.getAttribute("#results", "data-stale"), "true");
    assert.match(await page.textContent("#results-note"), /press Run/);
    assert.deepEqual(errors, []);
    await close();
  });
});
