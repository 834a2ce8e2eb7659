// The page as a new user meets it: a link's bad values and bad typed values listed in
// the page's words with their controls marked; what a preset changed; a link that names a
// trace; the plan's button, labels and saturation; the load the factor gives; the SLA
// controller's settings. dist/ and the CLI must be built (scripts/test-browser.sh).
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { csvRecords, download, launch, openPage, ROOT, runJob, setValue, summary, withoutWallClock, problems } from "./helpers.mjs";

let env;
before(async () => {
  env = await launch();
});
after(async () => {
  await env?.close();
});


describe("the page's defects, fixed", () => {
  test("a link's bad values are all listed in the page's words with their bounds, their controls marked until changed", async () => {
    const { page, errors, close } = await openPage(env, "gpus=-3&n=12345&k=abc&dtoken=-1&seed=7");
    const { lines, marks } = await problems(page);
    const gpus = "GPUs: 'gpus=-3' in the link ignored (must be a whole number between 1 and 128); 4 kept";
    const dtoken = "Per-token SLA: 'dtoken=-1' in the link ignored (must be a positive number); 0.01 kept";
    const requests = "Requests: n=12345 in the link is not on the request slider's steps: 12,000 used";
    assert.deepEqual(lines, [gpus, "K bins: 'k=abc' in the link ignored (must be a whole number between 1 and 32); 8 kept", dtoken, requests]);
    assert.ok(lines.every((l) => !l.includes("--") && !l.startsWith("URL")), "no CLI spelling");
    // Each control at fault carries the mark, naming its own line.
    assert.deepEqual(marks, { gpus, k: lines[1], dtoken, requests });
    assert.equal(await page.textContent("#requests-value"), "12000");
    assert.equal(await page.inputValue("#seed"), "7", "the link's good value is taken");
    // Changing a control drops its line and its mark; the others stay.
    await setValue(page, "#gpus", 5);
    const now = await problems(page);
    assert.deepEqual(now.lines, [lines[1], dtoken, requests]);
    assert.deepEqual(Object.keys(now.marks).sort(), ["dtoken", "k", "requests"]);
    await close();

    // Out of the slider's range: the preset's count is kept, and said so.
    const zero = await openPage(env, "n=0");
    assert.deepEqual((await problems(zero.page)).lines, [
      "Requests: 'n=0' in the link ignored (must be a whole number between 1,000 and 1,000,000); 100,000 kept",
    ]);
    assert.equal(await zero.page.textContent("#requests-value"), "100000");
    await zero.close();
    assert.deepEqual(errors, []);
  });

  test("bad values typed into controls are all marked and listed; Run focuses the first and runs nothing; fixed, the marks go", async () => {
    const { page, errors, close } = await openPage(env, "n=1000");
    await setValue(page, "#seed", "1.5");
    await setValue(page, "#rps", "-1");
    await setValue(page, "#dtoken", "");
    const rps = "RPS scaling factor: must be a positive number (got '-1')";
    const dtoken = "Per-token SLA: must be a positive number (it is empty)";
    const seed = "Seed: must be a whole number between 0 and 18446744073709551615 (got '1.5')";
    let p = await problems(page);
    assert.deepEqual(p.lines, [rps, dtoken, seed], "in page order");
    assert.deepEqual(p.marks, { rps, dtoken, seed });
    await page.$eval("#gpus", (e) => e.focus());
    await page.click("#run");
    assert.equal(await page.evaluate(() => document.activeElement.id), "rps", "the first bad control has the focus");
    assert.equal(await page.getAttribute("body", "data-busy"), "false", "nothing ran");
    assert.equal(await page.getAttribute("body", "data-jobs-done"), null);
    await setValue(page, "#rps", 50);
    p = await problems(page);
    assert.deepEqual(p.lines, [dtoken, seed]);
    assert.equal(await page.getAttribute("#rps", "aria-invalid"), null);
    await setValue(page, "#dtoken", 0.01);
    await setValue(page, "#seed", 3);
    assert.deepEqual(await problems(page), { lines: [], marks: {} });
    await runJob(page, "#run");
    assert.deepEqual((await summary(page))["requests completed"], ["1000"]);
    assert.deepEqual(errors, []);
    await close();
  });

  test("the SLA controller's settings: in Advanced, in the link and the run's CSV; a core error opens and marks them", async () => {
    const link = "preset=first-results&n=1000&scheduler=dynamic_no_bins&slad=0.8&slaeps=0.05&bmin=2&bmax=64&bstatic=16";
    const { page, errors, close } = await openPage(env, link);
    assert.equal(await page.getAttribute("#advanced", "open"), null, "closed until needed");
    const read = () => page.$$eval(["sla-d", "sla-eps", "bmin", "bmax", "bstatic"].map((i) => `#${i}`).join(","), (els) => els.map((e) => e.value));
    assert.deepEqual(await read(), ["0.8", "0.05", "2", "64", "16"]);
    for (const id of ["sla-d", "sla-eps", "bmin", "bmax", "bstatic"]) {
      assert.ok(await page.$eval(`#${id}`, (e) => !!document.querySelector(`label[for="${e.id}"]`) && !!e.getAttribute("aria-describedby")), id);
    }
    await runJob(page, "#run");
    const [row] = csvRecords((await download(page, "run.csv")).text);
    assert.deepEqual([row.sla_d_s, row.sla_eps_s], ["0.800000", "0.050000"]);
    assert.match(page.url(), /slad=0\.8&slaeps=0\.05&bmin=2&bmax=64&bstatic=16/);
    // Empty D follows the SLA: in the link as an empty value.
    await setValue(page, "#sla-d", "");
    assert.match(page.url(), /slad=&/);
    // B_min above B_max: each fine alone; the core names b_min and the page marks it.
    await setValue(page, "#bmin", 100);
    await page.click("#run");
    await page.waitForFunction(() => document.getElementById("error").textContent !== "" && document.body.dataset.busy === "false");
    assert.match(await page.textContent("#error"), /^Smallest dynamic batch B_min: must satisfy 1 <= b_min <= b_max \(got b_min 100, b_max 64\)$/);
    assert.equal(await page.getAttribute("#bmin", "aria-invalid"), "true");
    assert.equal(await page.evaluate(() => document.activeElement.id), "bmin");
    await setValue(page, "#bmin", 1);
    assert.equal(await page.getAttribute("#bmin", "aria-invalid"), null);
    assert.equal(await page.textContent("#error"), "");
    // A bad link value of theirs is named like any other, and opens the section.
    const bad = await openPage(env, "bmax=0");
    assert.deepEqual((await problems(bad.page)).lines, ["Largest dynamic batch B_max: 'bmax=0' in the link ignored (must be a whole number between 1 and 4096); 128 kept"]);
    assert.equal(await bad.page.getAttribute("#advanced", "open"), "");
    await bad.close();
    assert.deepEqual(errors, []);
    await close();
  });

  test("choosing a preset says, beside it, which controls it set", async () => {
    const { page, close } = await openPage(env);
    assert.equal(await page.getAttribute("#preset-note", "aria-live"), "polite");
    await setValue(page, "#gpus", 16);
    await page.selectOption("#cap", "10000");
    await page.selectOption("#preset", "compat");
    const note = await page.textContent("#preset-note");
    assert.match(note, /^Preset 'compat' set: GPUs 4, .*RPS scaling factor 200, .*Per-request SLA 1 s/);
    assert.doesNotMatch(note, /Seed/, "unchanged values are not listed");
    assert.equal(await page.inputValue("#gpus"), "4");
    assert.equal(await page.inputValue("#cap"), "10000", "a setting the preset does not define stays");
    await close();
  });

  test("a link made after a trace run names the trace; opened without it, the page says so and waits for it or for the visitor", async () => {
    const fixtures = join(ROOT, "tests/browser/fixtures");
    const first = await openPage(env, "n=1000&gpus=2&load=real&predictor=oracle");
    await first.page.setInputFiles("#trace-file", join(fixtures, "burstgpt_sample.csv"));
    await first.page.waitForFunction(() => /600 rows loaded/.test(document.getElementById("file-info").textContent));
    assert.match(first.page.url(), /&trace=burstgpt_sample\.csv/);
    await runJob(first.page, "#run");
    const traced = withoutWallClock((await download(first.page, "run.csv")).text);
    const link = first.page.url().split("#")[1];
    assert.match(link, /trace=burstgpt_sample\.csv.*&show=run$/);
    await first.close();

    const notice =
      "This link was made with the trace burstgpt_sample.csv, which is not part of links: choose it below to reproduce the figure; " +
      "until then runs use the synthetic workload.";
    const second = await openPage(env, link);
    const p = second.page;
    assert.equal(await p.isVisible("#link-notice"), true);
    assert.equal(await p.textContent("#link-notice-text"), `${notice} The link's run waits until you choose it, or runs without it if you ask.`);
    // The run was not started: a job begins (data-busy) as the link is applied, before the worker is ready.
    assert.equal(await p.getAttribute("body", "data-busy"), "false");
    assert.equal(await p.getAttribute("body", "data-jobs-done"), null);
    // Choosing the trace starts the link's run: the same CSV as where the link was made.
    await p.setInputFiles("#trace-file", join(fixtures, "burstgpt_sample.csv"));
    await p.waitForSelector("body[data-jobs-done='1']", { timeout: 60_000 });
    assert.equal(await p.isVisible("#link-notice"), false);
    assert.equal(withoutWallClock((await download(p, "run.csv")).text), traced);
    await second.close();

    // Or the visitor runs it without the trace: the notice stays, its button goes.
    const third = await openPage(env, link);
    await third.page.click("#link-notice-run");
    await third.page.waitForSelector("body[data-jobs-done='1']", { timeout: 60_000 });
    const [row] = csvRecords((await download(third.page, "run.csv")).text);
    assert.match(row.workload, /^synthetic/);
    assert.equal(await third.page.textContent("#link-notice-text"), notice);
    assert.equal(await third.page.isVisible("#link-notice-run"), false);
    await third.close();
  });

  test("the plan: its button counts its runs under the cap, the controls it ignores are greyed while it runs, static runs carry no K, saturation only where seen", async () => {
    const { page, errors, close } = await openPage(env);
    const button = () => page.textContent("#plan");
    assert.equal(await button(), "Stress plan of the original study (3 steps, 29 runs)");
    await page.selectOption("#cap", "10000");
    assert.equal(await button(), "Stress plan of the original study (3 steps, 24 runs)");
    await page.selectOption("#cap", "1000");
    assert.equal(await button(), "Stress plan of the original study (3 steps, 19 runs)");
    const disabled = (ids) => page.$$eval(ids.map((i) => `#${i}`).join(","), (els) => els.map((e) => e.disabled));
    // Click and read in one task of the page: the plan cannot finish in between.
    const during = await page.evaluate(() => ({
      started: document.getElementById("plan").click() ?? true,
      busy: document.body.dataset.busy,
      unused: ["requests", "gpus", "k", "scheduler"].map((i) => document.getElementById(i).disabled),
      used: ["rps", "seed", "dtoken"].map((i) => document.getElementById(i).disabled),
      note: document.getElementById("unused-note").textContent,
    }));
    assert.equal(during.busy, "true");
    assert.deepEqual(during.unused, [true, true, true, true]);
    assert.deepEqual(during.used, [false, false, false]);
    assert.match(during.note, /^Not used by the stress plan \(it sets them for each of its runs\): Requests, GPUs, K bins, Scheduler, /);
    await page.waitForSelector("body[data-busy=false]", { timeout: 120_000 });
    assert.equal(await page.textContent("#error"), "");
    assert.deepEqual(await disabled(["requests", "gpus", "k", "scheduler"]), [false, false, false, false]);
    assert.equal(await page.textContent("#unused-note"), "");

    const labels = await page.$$eval("#plan-table tbody tr td:nth-child(2)", (tds) => tds.map((td) => td.textContent));
    assert.equal(labels.length, 19);
    for (const l of labels.filter((l) => /static_fifo|dynamic_no_bins/.test(l))) assert.doesNotMatch(l, /K=/, l);
    assert.ok(labels.some((l) => /multi_bin_dynamic .*K=8/.test(l)));
    // The analysis' 95% point is a saturation only if a larger count was tried after it.
    const analysis = JSON.parse((await download(page, "comprehensive_stress_results_analysis.json")).text).step2_gpu_scaling;
    const seen = analysis.saturation_gpus !== Math.max(...analysis.gpus);
    const figure = await page.$eval("#charts figure:has(svg[aria-label='Step 2: throughput vs GPUs'])", (f) => ({
      caption: f.querySelector(".what").textContent,
      texts: [...f.querySelectorAll("svg text")].map((t) => t.textContent),
    }));
    assert.equal(figure.texts.includes(`saturation: ${analysis.saturation_gpus} GPUs`), seen, JSON.stringify(figure));
    assert.match(figure.caption, seen ? /^Throughput levels off from \d+ GPUs/ : /^No saturation within the GPUs tried/);
    assert.ok(figure.texts.some((t) => /^arrival rate [\d.]+ req\/s$/.test(t)), figure.texts.join("|"));
    assert.deepEqual(errors, []);
    await close();
  });

  test("the factor's arrival rate and load beside it; an overload warned before the run and after it", async () => {
    const { page, errors, close } = await openPage(env, "n=1000&scheduler=static_fifo&rps=100");
    const info = () => page.textContent("#rps-info");
    assert.match(await info(), /^Overloaded: arrivals \(27\.1 req\/s, the synthetic BurstGPT-like workload's mean 0\.271 req\/s × 100\) exceed the cluster's estimated capacity \([\d.]+ req\/s, load [\d.]+ %\); queues will grow without bound\.$/);
    assert.equal(await page.getAttribute("#rps-info", "class"), "hint warn");
    await runJob(page, "#run");
    assert.match(await page.textContent("#load-after"), /^Overloaded: the run's throughput [\d.]+ req\/s of [\d.]+ req\/s arriving; the cluster could not keep up/);
    // A light load: a share of the capacity, and no warning after the run.
    await setValue(page, "#rps", 0.5);
    assert.match(await info(), /^Arrivals ≈ 0\.136 req\/s \(.*× 0\.500\): [\d.]+ % of the cluster's estimated capacity \([\d.]+ req\/s\)\.$/);
    assert.equal(await page.getAttribute("#rps-info", "class"), "hint");
    await runJob(page, "#run");
    assert.equal(await page.textContent("#load-after"), "");
    assert.deepEqual(errors, []);
    await close();
  });
});
