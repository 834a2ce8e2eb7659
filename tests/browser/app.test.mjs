// The web app in headless Chromium: node --test + playwright-core. dist/ must be built
// (scripts/test-browser.sh builds it and the CLI first).
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  assertSvgChart, cancelRunningJob, chartNumber, cliHas, csvRecords, download, jobsDone, jsonWithoutWallClock, launch, openPage, parseSvg,
  ROOT, runCli, runJob, SCHEDULER_WORDS, seen, setValue, summary, watchPage, withoutWallClock,
} from "./helpers.mjs";

// Slider positions of the request slider (E12 steps: 0 = 1K, 12 = 10K, 24 = 100K, 36 = 1M).
const N1K = 0;
const N10K = 12;
const N100K = 24;
const N1M = 36;

let env;
before(async () => {
  env = await launch();
});
after(async () => {
  await env?.close();
});

const network = (urls) => urls.filter((u) => u.startsWith("http:") || u.startsWith("https:"));
// Every scheduler, in the order "Compare schedulers" runs them (SchedulerKind::ALL).
const SCHEDULERS = ["static_fifo", "dynamic_no_bins", "multi_bin_dynamic", "multi_bin_fixed", "continuous", "multi_bin_continuous"];
// The same in the words of the charts' legends.
const LEGENDS = SCHEDULERS.map((s) => SCHEDULER_WORDS[s]);

/// The CLI's run.csv and run.json for `args` (run in folder `cwd`), its token pass on the
/// CPU when it has the option (both backends give the same numbers; the CPU is quicker
/// to start than a software GPU adapter).
function cliRun(args, cwd = ROOT) {
  const backend = cliHas("--token-backend") ? ["--token-backend", "cpu"] : [];
  const out = runCli([...args, ...backend], cwd);
  return { csv: readFileSync(join(out, "run.csv"), "utf8"), json: readFileSync(join(out, "run.json"), "utf8") };
}

/// Assert a downloaded run CSV and JSON equal the CLI's, apart from wall-clock time.
function assertSameAsCli(page, cli, what) {
  assert.equal(withoutWallClock(page.csv.text), withoutWallClock(cli.csv), `${what}: CSV`);
  assert.equal(jsonWithoutWallClock(page.json.text), jsonWithoutWallClock(cli.json), `${what}: JSON`);
}

describe("BatchLab page", () => {
  test("loads under a path prefix with no console error, every control labelled", async () => {
    const { page, errors, requests, close } = await openPage(env);
    assert.deepEqual(errors, []);
    assert.ok(network(requests).every((u) => u.startsWith(env.server.url)), `outside the server: ${requests}`);
    const unlabelled = await page.$$eval("input, select", (els) =>
      els.filter((e) => !document.querySelector(`label[for="${e.id}"]`)).map((e) => e.id),
    );
    assert.deepEqual(unlabelled, []);
    assert.equal(await page.textContent("#gpus-value"), "4");
    assert.equal(await page.textContent("#status"), "ready");
    await close();
  });

  test("sliders (mouse and keyboard) and Run update the table and charts", async () => {
    const { page, errors, close } = await openPage(env);
    await setValue(page, "#requests", N1K);
    assert.equal(await page.textContent("#requests-value"), "1000");
    await page.focus("#gpus");
    await page.keyboard.press("ArrowRight");
    assert.equal(await page.textContent("#gpus-value"), "5");
    await setValue(page, "#k", 3);
    await runJob(page, "#run");
    let t = await summary(page);
    assert.deepEqual(t["GPUs"], ["5"]);
    assert.deepEqual(t["K bins"], ["3"]);
    assert.deepEqual(t["requests completed"], ["1000"]);
    assert.equal(await page.locator("#charts svg").count(), 4, "latency, queue, busy GPUs, TBT distribution");
    const before = await page.innerHTML("#charts");

    await setValue(page, "#k", 12);
    await page.selectOption("#scheduler", "multi_bin_fixed");
    await runJob(page, "#run");
    t = await summary(page);
    assert.deepEqual(t["K bins"], ["12"]);
    assert.deepEqual(t["scheduler"], ["multi_bin_fixed"]);
    assert.notEqual(await page.innerHTML("#charts"), before, "charts follow the new run");

    await runJob(page, "#compare");
    t = await summary(page);
    assert.deepEqual(t["scheduler"], SCHEDULERS);
    assert.deepEqual(errors, []);
    await close();
  });

  test("a 100K-request run finishes", async () => {
    const { page, close } = await openPage(env);
    await setValue(page, "#requests", N100K);
    await runJob(page, "#run");
    assert.deepEqual((await summary(page))["requests completed"], ["100000"]);
    assert.match(await page.textContent("#status"), /done: 1 run\(s\), 100000 requests simulated/);
    await close();
  });

  // Not how fast Cancel is (a benchmark's business), but what it does: the job ends as
  // "cancelled", nothing of it is ever shown, and the next job runs.
  test("Cancel stops a 1M run and a plan: status cancelled, no result or progress of theirs appears, the app stays usable", async () => {
    const { page, errors, close } = await openPage(env);
    await watchPage(page);
    const done = await jobsDone(page);
    await setValue(page, "#requests", N1M);
    await page.click("#run");
    await page.waitForSelector("body[data-busy=true]", { timeout: 30_000 });
    await cancelRunningJob(page);
    assert.equal(await page.textContent("#status"), "cancelled");
    assert.equal(await page.isDisabled("#run"), false, "Run is offered again");
    assert.equal(await jobsDone(page), done);
    assert.equal(await page.locator("#summary table").count(), 0);

    // A plan, cancelled once it has reported progress.
    await page.selectOption("#cap", "1000000");
    await page.click("#plan");
    await page.waitForFunction(() => /of \d+ runs done/.test(document.getElementById("status").textContent), null, { timeout: 60_000 });
    await cancelRunningJob(page);
    assert.equal(await page.textContent("#status"), "cancelled");
    const statusesAtCancel = (await seen(page)).statuses.length;

    // The same 1M run again, not cancelled: by the time it is shown, the cancelled run
    // (and the plan's next runs) would have reported too, had their worker lived.
    await runJob(page, "#run", 300_000);
    assert.deepEqual((await summary(page))["requests completed"], ["1000000"]);
    assert.equal(await jobsDone(page), done + 1, "only the last job completed");
    const { statuses, results } = await seen(page);
    assert.deepEqual(results, [["1000000"]], "the page showed one result: the last run's");
    assert.deepEqual(statuses.slice(statusesAtCancel), ["running", "done: 1 run(s), 1000000 requests simulated"], "no progress of the cancelled plan");
    assert.deepEqual(errors, []);
    await close();
  });

  test("the downloaded run CSV and JSON equal the CLI's (apart from wall-clock time)", async () => {
    const { page, close } = await openPage(env);
    await page.selectOption("#preset", "paper");
    await setValue(page, "#requests", N10K);
    await setValue(page, "#gpus", 3);
    await setValue(page, "#k", 5);
    await page.selectOption("#scheduler", "multi_bin_dynamic");
    await page.selectOption("#predictor", "noisy");
    await setValue(page, "#sigma", 0.3);
    await setValue(page, "#rps", 150);
    await setValue(page, "#dtoken", 0.012);
    await setValue(page, "#drequest", 15);
    await setValue(page, "#seed", 7);
    await runJob(page, "#run");
    const csv = await download(page, "run.csv");
    const json = await download(page, "run.json");
    assert.equal(csv.name, "run.csv");

    const out = runCli([
      "run", "--preset", "paper", "--requests", "10000", "--gpus", "3", "--k", "5",
      "--scheduler", "multi_bin_dynamic", "--predictor", "noisy", "--predictor-sigma", "0.3",
      "--rps-scaling", "150", "--d-sla-token", "0.012", "--d-sla-request", "15", "--seed", "7",
    ]);
    const cliCsv = readFileSync(join(out, "run.csv"), "utf8");
    assert.equal(withoutWallClock(csv.text), withoutWallClock(cliCsv));
    assert.equal(jsonWithoutWallClock(json.text), jsonWithoutWallClock(readFileSync(join(out, "run.json"), "utf8")));
    await close();
  });

  test("Compare schedulers: each scheduler's CSV and JSON equal the CLI's run with that scheduler", async () => {
    const { page, errors, close } = await openPage(
      env,
      "preset=first-results&n=10000&gpus=3&k=4&rps=120&dtoken=0.02&drequest=20&predictor=noisy&sigma=0.2&seed=5",
    );
    assert.equal(await page.textContent("#requests-value"), "10000");
    await runJob(page, "#compare");
    const args = [
      "run", "--preset", "first-results", "--requests", "10000", "--gpus", "3", "--k", "4", "--rps-scaling", "120",
      "--d-sla-token", "0.02", "--d-sla-request", "20", "--predictor", "noisy", "--predictor-sigma", "0.2", "--seed", "5",
    ];
    const csvs = new Set();
    for (const scheduler of SCHEDULERS) {
      const csv = await download(page, `run_${scheduler}.csv`);
      const json = await download(page, `run_${scheduler}.json`);
      assert.equal(csv.name, `run_${scheduler}.csv`);
      assert.equal(csvRecords(csv.text)[0].scheduler, scheduler);
      assertSameAsCli({ csv, json }, cliRun([...args, "--scheduler", scheduler]), scheduler);
      csvs.add(withoutWallClock(csv.text));
    }
    assert.equal(csvs.size, SCHEDULERS.length, "six different runs, not one file six times");
    assert.deepEqual(errors, []);
    await close();
  });

  test("continuous batching: its controls and link, a run with the KV-cache chart and SLO attainment as the CLI gives them, a bad setting named, Compare of all six", async () => {
    const { page, errors, close } = await openPage(env, "n=2200&gpus=2");
    const greyed = (id) => page.$eval(`#${id}`, (e) => e.matches(":disabled"));
    const ITERATION = ["router", "chunked", "budget", "maxseqs", "block", "ttftslo", "tbtslo"];
    for (const id of ITERATION) assert.equal(await greyed(id), true, `${id}: greyed under a batch scheduler`);
    await page.selectOption("#scheduler", "continuous");
    for (const id of ITERATION) assert.equal(await greyed(id), false, `${id}: enabled under continuous batching`);
    await page.selectOption("#router", "round_robin");
    await page.check("#chunked");
    await setValue(page, "#budget", 512);
    await setValue(page, "#maxseqs", 64);
    await setValue(page, "#block", 32);
    await setValue(page, "#ttftslo", 1.5);
    await setValue(page, "#tbtslo", 0.05);
    assert.match(page.url(), /scheduler=continuous&.*&router=round_robin&chunked=1&budget=512&maxseqs=64&block=32&ttftslo=1.5&tbtslo=0.05/);
    // The link opens the same controls.
    const read = (p) => p.$$eval(ITERATION.map((i) => `#${i}`).join(","), (els) => els.map((e) => `${e.id}=${e.type === "checkbox" ? e.checked : e.value}`));
    const linked = await openPage(env, page.url().split("#")[1]);
    assert.deepEqual(await read(linked.page), await read(page));
    assert.deepEqual(await read(page), ["router=round_robin", "chunked=true", "budget=512", "maxseqs=64", "block=32", "ttftslo=1.5", "tbtslo=0.05"]);
    await linked.close();

    await runJob(page, "#run");
    const t = await summary(page);
    assert.deepEqual(t["scheduler"], ["continuous"]);
    assert.deepEqual(t["requests completed"], ["2200"]);
    assert.match(t["SLO attainment (TTFT and TBT)"][0], /^\d+(\.\d+)? %$/);
    assert.deepEqual(t["token pass"], ["none: the iteration engine timed every token"]);
    assert.equal(await page.locator("#charts > figure").count(), 5, "latency, queue, busy GPUs, KV cache, TBT");
    const kv = await assertSvgChart(page, await download(page, "kv_cache_running.svg"), {
      title: "KV cache in use and running sequences over time", xLabel: "simulated time (s)", legend: ["continuous"], lines: 2,
      texts: ["KV cache in use (peak per interval)", "% of KV blocks, all GPUs", "Running sequences (peak per interval)", "sequences, all GPUs"],
    });
    assert.equal(kv.panels, 2);
    assert.match(await page.textContent("#charts"), /Left: the share of all GPUs' KV-cache blocks holding sequences/);
    await assertSvgChart(page, await download(page, "tbt_distribution.svg"), {
      title: "Time between tokens (TBT): every decode gap, shortest to longest", legend: ["continuous"], texts: ["TBT SLO 50.0 ms"], lines: 1,
    });
    // The same run from the CLI's options: the controls are the configuration.
    const cli = cliRun([
      "run", "--preset", "paper", "--requests", "2200", "--gpus", "2", "--scheduler", "continuous", "--router", "round_robin",
      "--chunked-prefill", "512", "--max-seqs", "64", "--block-size", "32", "--ttft-slo", "1.5", "--tbt-slo", "0.05",
    ]);
    assertSameAsCli({ csv: await download(page, "run.csv"), json: await download(page, "run.json") }, cli, "continuous");

    // A budget below the running sequences: the core's error names the control and marks it.
    const failedRun = async () => {
      await page.click("#run");
      await page.waitForFunction(() => document.getElementById("error").textContent !== "" && document.body.dataset.busy === "false");
    };
    await setValue(page, "#budget", 10);
    await failedRun();
    assert.match(await page.textContent("#error"), /^Token budget per iteration: must be at least max_seqs \(64\)/);
    assert.equal(await page.getAttribute("#budget", "aria-invalid"), "true");
    // Every run checks it: under a batch scheduler the greyed control is enabled again to be fixed.
    await page.selectOption("#scheduler", "static_fifo");
    assert.equal(await greyed("budget"), true);
    await failedRun();
    assert.match(await page.textContent("#error"), /^Token budget per iteration:/);
    assert.equal(await greyed("budget"), false);
    await setValue(page, "#budget", 1024);
    assert.equal(await greyed("budget"), true, "greyed again once fixed");
    await runJob(page, "#run");
    assert.deepEqual((await summary(page))["scheduler"], ["static_fifo"]);

    // Compare runs all six on the same workload; the batch runs show "–" for the SLO.
    await runJob(page, "#compare");
    const c = await summary(page);
    assert.deepEqual(c["scheduler"], SCHEDULERS);
    assert.deepEqual(c["SLO attainment (TTFT and TBT)"].slice(0, 4), ["–", "–", "–", "–"]);
    for (const cell of c["SLO attainment (TTFT and TBT)"].slice(4)) assert.match(cell, /^\d+(\.\d+)? %$/);
    assert.match(await page.textContent("#token-pass"), /^Token pass: CPU, [\d.]+ ms for 4 runs$/);
    assert.deepEqual(errors, []);
    await close();
  });

  test("a run on an uploaded calibration grid gives the CLI's CSV and JSON with --calibration of that file", async () => {
    // A measured-looking grid (a +-3 % wobble around alpha + beta L (1 + gamma (b-1)/b)),
    // written to a file that the page uploads and the CLI reads.
    const rows = [];
    for (const b of [1, 2, 4, 8, 16, 32]) {
      for (const l of [128, 256, 512, 1024, 2048]) {
        const t = (0.03 + 0.00025 * l * (1 + (0.4 * (b - 1)) / b)) * (1 + 0.03 * Math.sin(b * 7 + l));
        rows.push(`${b},${l},${t.toFixed(6)}`);
      }
    }
    const dir = mkdtempSync(join(tmpdir(), "batchlab-calibration-"));
    writeFileSync(join(dir, "measured_grid.csv"), ["batch_size,max_seq_len,mean_latency_sec", ...rows].join("\n") + "\n");

    const { page, errors, close } = await openPage(env, "preset=paper&n=10000&gpus=2&k=3&scheduler=multi_bin_dynamic&rps=100&seed=3");
    await page.setInputFiles("#calib-file", join(dir, "measured_grid.csv"));
    await page.waitForFunction(() => /measured_grid\.csv: 30 points; fit alpha/.test(document.getElementById("file-info").textContent));
    await runJob(page, "#run");
    assert.deepEqual((await summary(page))["calibration"], ["measured_grid.csv"]);
    const downloaded = { csv: await download(page, "run.csv"), json: await download(page, "run.json") };

    const args = ["run", "--preset", "paper", "--requests", "10000", "--gpus", "2", "--k", "3", "--scheduler", "multi_bin_dynamic", "--rps-scaling", "100", "--seed", "3"];
    assertSameAsCli(downloaded, cliRun([...args, "--calibration", "measured_grid.csv"], dir), "with the uploaded grid");
    // The grid was used: the latency model differs from the preset's built-in grid.
    const [mine] = csvRecords(downloaded.csv.text);
    const [builtin] = csvRecords(cliRun(args).csv);
    assert.equal(mine.calibration, "measured_grid.csv");
    assert.notEqual(mine.alpha_s, builtin.alpha_s);
    assert.notEqual(mine.latency_mean_s, builtin.latency_mean_s);
    assert.deepEqual(errors, []);
    await close();
  });

  test("every chart download of a run and of a compare is a well-formed SVG showing the run's data", async () => {
    const { page, errors, close } = await openPage(env, "n=1000&gpus=2&k=3&scheduler=multi_bin_dynamic");
    await runJob(page, "#run");
    const [run] = csvRecords((await download(page, "run.csv")).text);
    const latency = await assertSvgChart(page, await download(page, "latency_percentiles.svg"), {
      title: "End-to-end latency", yLabel: "seconds", legend: ["multi-bin dynamic"], texts: ["mean", "p50", "p95", "p99", "max"], bars: 5,
    });
    // The bars are the run's latencies, in order (labels keep 3 significant digits).
    const want = ["latency_mean_s", "latency_p50_s", "latency_p95_s", "latency_p99_s", "latency_max_s"].map((c) => Number(run[c]));
    latency.bars.forEach((bar, i) => {
      const got = chartNumber(bar.value);
      assert.ok(Math.abs(got - want[i]) <= 0.006 * want[i], `bar ${i}: ${bar.value} for ${want[i]}`);
    });
    const timeAxis = { xLabel: "simulated time (s)" };
    await assertSvgChart(page, await download(page, "queue_length.svg"), {
      title: "Queue length over time (peak per interval)", ...timeAxis, yLabel: "requests waiting", legend: ["bin 0", "bin 1", "bin 2"], lines: 3,
    });
    await assertSvgChart(page, await download(page, "busy_gpus.svg"), {
      title: "Busy GPUs over time (peak per interval)", ...timeAxis, yLabel: "GPUs", legend: ["multi-bin dynamic"], lines: 1,
    });
    const tbt = await assertSvgChart(page, await download(page, "tbt_distribution.svg"), {
      title: "Time between tokens (TBT): every decode gap, shortest to longest", xLabel: "% of gaps at or below", yLabel: "TBT (ms)",
      legend: ["multi-bin dynamic"], texts: ["per-token SLA 10.0 ms"], lines: 1,
    });
    assert.ok(tbt.texts.length < 40, `a few axis labels, not one per point: ${tbt.texts.length}`);

    // Compare: one series (bar group member, line) per scheduler.
    await runJob(page, "#compare");
    await assertSvgChart(page, await download(page, "latency_percentiles.svg"), {
      title: "End-to-end latency", yLabel: "seconds", legend: LEGENDS, bars: 5 * SCHEDULERS.length,
    });
    for (const [name, title] of [["queue_length.svg", "Queue length over time (peak per interval)"], ["busy_gpus.svg", "Busy GPUs over time (peak per interval)"]]) {
      await assertSvgChart(page, await download(page, name), { title, ...timeAxis, yLabel: name.startsWith("queue") ? "requests waiting" : "GPUs", legend: LEGENDS, lines: SCHEDULERS.length });
    }
    // The two continuous runs' KV cache and running sequences; every run's gaps.
    await assertSvgChart(page, await download(page, "kv_cache_running.svg"), {
      title: "KV cache in use and running sequences over time", legend: ["continuous", "multi-bin continuous"], lines: 2 * 2,
    });
    await assertSvgChart(page, await download(page, "tbt_distribution.svg"), {
      title: "Time between tokens (TBT): every decode gap, shortest to longest", legend: LEGENDS, lines: SCHEDULERS.length,
      texts: ["per-token SLA 10.0 ms", "TBT SLO 100 ms"],
    });
    assert.deepEqual(errors, []);
    await close();
  });

  test("a run on an uploaded BurstGPT trace gives the CLI's CSV", async () => {
    const { page, close } = await openPage(env);
    const fixtures = join(ROOT, "tests/browser/fixtures");
    await page.setInputFiles("#trace-file", join(fixtures, "burstgpt_sample.csv"));
    await page.waitForFunction(() => /600 rows loaded/.test(document.getElementById("file-info").textContent));
    assert.match(await page.textContent("#file-info"), /3 of them with 0 output tokens/);
    await setValue(page, "#requests", N1K);
    await setValue(page, "#gpus", 2);
    await page.selectOption("#load", "real");
    await page.selectOption("#predictor", "oracle");
    await runJob(page, "#run");
    const csv = await download(page, "run.csv");
    const args = ["run", "--trace", "burstgpt_sample.csv", "--requests", "1000", "--gpus", "2", "--real-timestamps", "--predictor", "oracle"];
    const out = runCli(args, fixtures);
    assert.equal(withoutWallClock(csv.text), withoutWallClock(readFileSync(join(out, "run.csv"), "utf8")));
    // The paper preset keeps the failed requests, as the original did.
    assert.deepEqual((await summary(page))["requests completed"], ["600"]);
    await close();
  });

  test("a 3-step plan capped at 10,000 requests gives the 4 CSVs and the JSON, as the CLI does", async () => {
    const { page, close } = await openPage(env);
    await page.selectOption("#cap", "10000");
    await runJob(page, "#plan");
    const prefix = "comprehensive_stress_results";
    const expected = { step1_request_scaling: 10, step2_gpu_scaling: 8, step3_kbins_sensitivity: 6, all_results: 24 };
    const out = runCli(["stress", "--preset", "paper", "--max-requests", "10000"]);
    const texts = {};
    for (const [name, rows] of Object.entries(expected)) {
      const file = await download(page, `${prefix}_${name}.csv`);
      texts[name] = file.text;
      assert.equal(file.text.trimEnd().split("\n").length, rows + 1, `${name}: header + ${rows} rows`);
      const cliText = readFileSync(join(out, `${prefix}_${name}.csv`), "utf8");
      assert.equal(withoutWallClock(file.text), withoutWallClock(cliText), name);
    }
    // The five charts parse and plot the CSVs' rows: step 1 one line per (scheduler,
    // GPUs) configuration with a point per request count; steps 2 and 3 two lines
    // with a point per GPU count / K.
    const rowsOf = async (name) => csvRecords(texts[name]);
    const step1 = await rowsOf("step1_request_scaling");
    const configs = new Map();
    for (const r of step1) {
      const name = `${SCHEDULER_WORDS[r.scheduler]} (${r.gpus} GPU)`;
      configs.set(name, (configs.get(name) ?? 0) + 1);
    }
    const step1Lines = { legend: [...configs.keys()], lines: configs.size, points: [...configs.values()], xLabel: "requests N" };
    await assertSvgChart(page, await download(page, "step1_throughput.svg"), { title: "Step 1: throughput vs requests", yLabel: "req/s", ...step1Lines });
    await assertSvgChart(page, await download(page, "step1_latency.svg"), { title: "Step 1: mean latency vs requests", yLabel: "seconds", ...step1Lines });
    const step2 = await rowsOf("step2_gpu_scaling");
    await assertSvgChart(page, await download(page, "step2_gpu_scaling.svg"), {
      title: "Step 2: throughput vs GPUs", xLabel: "GPUs", yLabel: "req/s", legend: ["throughput", "capacity under SLA"],
      texts: step2.map((r) => r.gpus), lines: 2, points: [step2.length, step2.length],
    });
    const step3 = await rowsOf("step3_kbins_sensitivity");
    const k = { xLabel: "K bins", texts: step3.map((r) => r.k_bins), lines: 2, points: [step3.length, step3.length] };
    await assertSvgChart(page, await download(page, "step3_k_throughput.svg"), {
      title: `Step 3: throughput vs K (${step3[0].gpus} GPUs)`, yLabel: "req/s", legend: ["throughput", "capacity under SLA"], ...k,
    });
    await assertSvgChart(page, await download(page, "step3_k_latency.svg"), {
      title: `Step 3: latency vs K (${step3[0].gpus} GPUs)`, yLabel: "seconds", legend: ["mean", "p99"], ...k,
    });
    const analysis = await download(page, `${prefix}_analysis.json`);
    assert.equal(JSON.parse(analysis.text).runs, 24);
    assert.equal(analysis.text, readFileSync(join(out, `${prefix}_analysis.json`), "utf8"));
    assert.equal(await page.locator("#charts svg").count(), 5, "three paper figures (five charts)");
    assert.equal(await page.locator("#plan-table tbody tr").count(), 24);
    await close();
  });

  test("many runs: a plan, a sweep and a capacity search on a pool of workers give the files of one worker, the sweep the CLI's, with their charts", async () => {
    // One worker, then four (more than this machine's cores: the runs still share them).
    const jobs = async (workers) => {
      const { page, errors, close } = await openPage(env, `preset=paper&n=${1000}&workers=${workers}&cap=1000&sx=gpus&sxv=1,2,4&ss=scheduler&ssv=static_fifo,multi_bin_dynamic&seeds=2&metric=throughput_rps&target=0.9`);
      assert.match(await page.textContent("#workers"), new RegExp(`share ${workers} worker`));
      const files = {};
      await runJob(page, "#plan");
      for (const name of ["step1_request_scaling", "step2_gpu_scaling", "step3_kbins_sensitivity", "all_results"]) {
        files[name] = withoutWallClock((await download(page, `comprehensive_stress_results_${name}.csv`)).text);
      }
      files.analysis = (await download(page, "comprehensive_stress_results_analysis.json")).text;
      await runJob(page, "#sweep");
      assert.match(await page.textContent("#sweep-summary"), /gpus × scheduler × seed: 12 runs/);
      files.sweep = withoutWallClock((await download(page, "sweep_runs.csv")).text);
      files.summary = (await download(page, "sweep_summary.csv")).text;
      files.sweepSvg = (await download(page, "sweep.svg")).text;
      await runJob(page, "#capacity");
      files.capacity = (await download(page, "capacity.csv")).text;
      files.points = (await download(page, "capacity_points.csv")).text;
      files.capacitySvg = (await download(page, "capacity.svg")).text;
      files.capacityRows = await page.locator("#capacity-table tbody tr").count();
      assert.deepEqual(errors, []);
      await close();
      return files;
    };
    const one = await jobs(1);
    const four = await jobs(4);
    for (const key of Object.keys(one)) assert.deepEqual(four[key], one[key], key);

    // The sweep is the CLI's sweep of the same settings.
    const dir = mkdtempSync(join(tmpdir(), "batchlab-sweep-"));
    const spec = join(dir, "sweep.toml");
    writeFileSync(spec, 'preset = "paper"\n[base]\nrequests = 1000\n[axes]\ngpus = [1, 2, 4]\nscheduler = ["static_fifo", "multi_bin_dynamic"]\nseed = [42, 43]\n');
    const out = runCli(["sweep", spec]);
    assert.equal(one.sweep, withoutWallClock(readFileSync(join(out, "sweep_runs.csv"), "utf8")));
    assert.equal(one.summary, readFileSync(join(out, "sweep_summary.csv"), "utf8"));

    // Charts: the sweep's two lines of three points; every scheduler's attainment curve
    // with the target line.
    const { page, close } = await openPage(env);
    const sweepSvg = await parseSvg(page, one.sweepSvg);
    assert.equal(sweepSvg.parseErrors, 0);
    assert.equal(sweepSvg.polylines.length, 2, "a line per scheduler");
    const capSvg = await parseSvg(page, one.capacitySvg);
    assert.equal(capSvg.parseErrors, 0);
    assert.equal(capSvg.polylines.length, SCHEDULERS.length, "an attainment curve per scheduler");
    assert.ok(capSvg.texts.some((t) => /target 90/.test(t)), capSvg.texts.join("|"));
    assert.equal(one.capacityRows, SCHEDULERS.length);
    // capacity.csv: a row per scheduler, in SchedulerKind::ALL order.
    assert.deepEqual(csvRecords(one.capacity).map((r) => r.label), SCHEDULERS);
    await close();
  });

  test("the final paper's study capped at 1,000 requests: five figures and the files equal the CLI's", async () => {
    const { page, errors, close } = await openPage(env);
    await page.selectOption("#cap", "1000");
    await runJob(page, "#study");
    const out = runCli(["paper", "--preset", "paper", "--max-requests", "1000"]);
    // The study's wall-clock column, blanked.
    const withoutExecutionTime = (csv) => {
      const lines = csv.split("\n");
      const col = lines[0].split(",").indexOf("execution_time_s");
      assert.ok(col > 0, "execution_time_s column");
      return lines.map((line, i) => (i === 0 || line === "" ? line : line.replace(/,[^,]*,([^,]*)$/, ",,$1"))).join("\n");
    };
    for (const folder of ["stress_test_final", "stress_test_low_load", "stress_test_ultra_low_load"]) {
      for (const [name, rows] of [["step1_grid_search", 48], ["step2_comparison", 4]]) {
        const file = await download(page, `${folder}_${name}.csv`);
        assert.equal(file.text.trimEnd().split("\n").length, rows + 1, `${folder}/${name}: header + ${rows} rows`);
        assert.equal(withoutExecutionTime(file.text), withoutExecutionTime(readFileSync(join(out, folder, `${name}.csv`), "utf8")), `${folder}/${name}`);
      }
    }
    for (const name of ["sensitivity_analysis.csv", "multi_seed_variance.csv"]) {
      const file = await download(page, `figures_${name}`);
      assert.equal(file.text, readFileSync(join(out, "figures", name), "utf8"), name);
    }
    // The five figures, each beside the same figure drawn from the published numbers:
    // drawn in the page, the same SVG as the CLI's, each one figure of three panels.
    assert.equal(await page.locator("#charts figure").count(), 10);
    for (const name of ["fig1_throughput_vs_gpu", "fig2_sla_pareto_frontier", "fig3_latency_throughput_tradeoff", "fig4_scheduler_comparison", "fig5_sensitivity_variance"]) {
      for (const [download_name, cli_path] of [[`${name}.svg`, ["figures", `${name}.svg`]], [`published_${name}.svg`, ["figures", "published", `${name}.svg`]]]) {
        const file = await download(page, download_name);
        assert.equal(file.text, readFileSync(join(out, ...cli_path), "utf8"), download_name);
        const svg = await parseSvg(page, file.text);
        assert.equal(svg.parseErrors, 0, download_name);
        assert.equal(svg.panels, 3, `${download_name}: three panels`);
      }
    }
    assert.match((await parseSvg(page, (await download(page, "published_fig1_throughput_vs_gpu.svg")).text)).label, /^Published \(f1be833\)/);
    // Step 2 per load, beside the published row of the same method and request count.
    assert.equal(await page.locator(".study-table").count(), 3, "step 2 per load");
    const first = await page.locator(".study-table").first().locator("tbody tr").first().locator("td").allTextContents();
    assert.equal(first[1], "1. Static FIFO (1 GPU)");
    assert.equal(first[3], "0.531 req/s", "published static FIFO at 1,000 requests, x100");
    assert.equal(first[9], "1. Static FIFO (1 GPU)");
    assert.match(await page.textContent("#study-note"), /only the shapes of the figures compare/);
    assert.deepEqual(errors, []);
    await close();
  });

  test("a malformed trace shows its one-line error and the next run still works", async () => {
    const { page, errors, close } = await openPage(env);
    await page.setInputFiles("#trace-file", {
      name: "broken.csv",
      mimeType: "text/csv",
      buffer: Buffer.from("arrival_time,prompt_length,output_length\n0,10,20\n1,abc,5\n"),
    });
    await page.waitForFunction(() => document.getElementById("error").textContent !== "");
    const message = await page.textContent("#error");
    assert.match(message, /^broken\.csv, row \d+/);
    assert.ok(!message.includes("\n"));
    assert.match(await page.textContent("#trace-name"), /none/);

    await setValue(page, "#requests", N1K);
    await runJob(page, "#run");
    assert.equal(await page.textContent("#error"), "");
    assert.deepEqual((await summary(page))["workload"], ["synthetic burstgpt"]);

    // A good trace is used by the next run.
    const rows = Array.from({ length: 300 }, (_, i) => `${i * 0.5},${50 + (i % 40)},${20 + ((i * 7) % 90)}`);
    await page.setInputFiles("#trace-file", {
      name: "small.csv",
      mimeType: "text/csv",
      buffer: Buffer.from(["arrival_time,prompt_length,output_length", ...rows].join("\n") + "\n"),
    });
    await page.waitForFunction(() => /small\.csv: 300 rows loaded/.test(document.getElementById("file-info").textContent));
    await runJob(page, "#run");
    const t = await summary(page);
    assert.deepEqual(t["workload"], ["trace small.csv"]);
    assert.deepEqual(t["requests completed"], ["300"]);
    assert.deepEqual(errors, []);
    await close();
  });

  test("a calibration grid file is fitted and used; a bad one is rejected with its row", async () => {
    const { page, errors, close } = await openPage(env);
    const rows = [];
    for (const b of [1, 2, 4, 8, 16]) {
      for (const l of [128, 256, 512, 1024]) rows.push(`${b},${l},${(0.02 + 0.0004 * l * (1 + (0.5 * (b - 1)) / b)).toFixed(6)}`);
    }
    const grid = ["batch_size,max_seq_len,mean_latency_sec", ...rows].join("\n") + "\n";
    await page.setInputFiles("#calib-file", { name: "grid.csv", mimeType: "text/csv", buffer: Buffer.from(grid) });
    await page.waitForFunction(() => /grid\.csv: 20 points; fit alpha 20\.000 ms/.test(document.getElementById("file-info").textContent));
    await setValue(page, "#requests", N1K);
    await runJob(page, "#run");
    const t = await summary(page);
    assert.deepEqual(t["calibration"], ["grid.csv"]);
    assert.deepEqual(t["fit alpha"], ["20.0 ms"]);

    const bad = grid.replace("\n2,128,", "\n2,128,-");
    await page.setInputFiles("#calib-file", { name: "bad-grid.csv", mimeType: "text/csv", buffer: Buffer.from(bad) });
    await page.waitForFunction(() => document.getElementById("error").textContent !== "");
    assert.match(await page.textContent("#error"), /^bad-grid\.csv, row 6, column 'mean_latency_sec'/);
    assert.match(await page.textContent("#calib-name"), /built-in/);
    await runJob(page, "#run");
    assert.match((await summary(page))["calibration"][0], /built-in/);
    assert.deepEqual(errors, []);
    await close();
  });

  test("an iteration profile is fitted and prices continuous runs as the CLI's --iteration-profile; a bad one is rejected with its row; Remove drops it", async () => {
    // Made from known coefficients: 5 ms + 20 us per prefill token + 0.1 ms per decoding
    // sequence + 0.3 us per context token.
    const points = [[0, 1, 100], [512, 0, 0], [0, 64, 40000], [256, 32, 9000], [1024, 8, 3000], [0, 16, 500]];
    const rows = points.map(([p, d, c]) => `${p},${d},${c},${(0.005 + 2e-5 * p + 1e-4 * d + 3e-7 * c).toFixed(9)}`);
    const profile = ["prefill_tokens,decode_seqs,context_tokens,seconds", ...rows].join("\n") + "\n";
    const dir = mkdtempSync(join(tmpdir(), "batchlab-profile-"));
    writeFileSync(join(dir, "iterations.csv"), profile);
    const { page, errors, close } = await openPage(env, "n=2200&gpus=2&seed=3");
    const fileInfo = () => page.textContent("#file-info");
    const runCsv = async () => csvRecords((await download(page, "run.csv")).text)[0];
    // In the continuous-batching section: greyed with it under a batch scheduler.
    assert.equal(await page.$eval("#profile-file", (e) => e.matches(":disabled")), true);
    assert.equal(await page.textContent("#profile-name"), "none: the roofline prices each iteration");
    await page.selectOption("#scheduler", "continuous");
    await page.setInputFiles("#profile-file", join(dir, "iterations.csv"));
    await page.waitForFunction(() => /iterations\.csv: iteration cost fit c0 5\.000 ms/.test(document.getElementById("file-info").textContent));
    assert.match(await fileInfo(), /0\.0200 ms per prefill token, 0\.1000 ms per decoding sequence, 0\.300 µs per context token, R² 1\.0000$/);
    assert.equal(await page.textContent("#profile-name"), "iterations.csv");
    assert.equal(await page.textContent("#error"), "");

    await runJob(page, "#run");
    assert.deepEqual((await summary(page))["requests completed"], ["2200"]);
    const downloaded = { csv: await download(page, "run.csv"), json: await download(page, "run.json") };
    const [mine] = csvRecords(downloaded.csv.text);
    assert.equal(mine.iteration_cost_source, "iterations.csv");
    assert.ok(Math.abs(Number(mine.iteration_c0_s) - 0.005) < 1e-9, `c0 ${mine.iteration_c0_s}`);
    const args = ["run", "--preset", "paper", "--requests", "2200", "--gpus", "2", "--seed", "3", "--scheduler", "continuous"];
    assertSameAsCli(downloaded, cliRun([...args, "--iteration-profile", "iterations.csv"], dir), "with the uploaded profile");

    // A non-numeric cell: one line naming file, row and column; the profile is dropped
    // and the page goes on with the roofline.
    const bad = profile.replace("\n512,", "\nabc,");
    await page.setInputFiles("#profile-file", { name: "bad-iterations.csv", mimeType: "text/csv", buffer: Buffer.from(bad) });
    await page.waitForFunction(() => document.getElementById("error").textContent !== "");
    const error = await page.textContent("#error");
    assert.match(error, /^bad-iterations\.csv, row 3, column 'prefill_tokens'/);
    assert.ok(!error.includes("\n"), error);
    assert.equal(await page.textContent("#profile-name"), "none: the roofline prices each iteration");
    await runJob(page, "#run");
    assert.match((await runCsv()).iteration_cost_source, /^roofline /);

    // Chosen again, then removed: the next run is on the roofline.
    await page.$eval("#file-info", (e) => (e.textContent = ""));
    await page.setInputFiles("#profile-file", join(dir, "iterations.csv"));
    await page.waitForFunction(() => /^iterations\.csv: iteration cost fit/.test(document.getElementById("file-info").textContent));
    await page.click("#profile-clear");
    assert.equal(await page.textContent("#profile-name"), "none: the roofline prices each iteration");
    assert.equal(await page.inputValue("#profile-file"), "");
    await runJob(page, "#run");
    assert.match((await runCsv()).iteration_cost_source, /^roofline /);
    assert.deepEqual(errors, []);
    await close();
  });

  test("the URL round-trips the configuration and a link reproduces a job", async () => {
    const first = await openPage(env);
    const p = first.page;
    await p.selectOption("#preset", "first-results");
    await setValue(p, "#requests", 20);
    await setValue(p, "#gpus", 16);
    await setValue(p, "#k", 7);
    await p.selectOption("#scheduler", "dynamic_no_bins");
    await p.selectOption("#load", "real");
    await setValue(p, "#drequest", 12.5);
    await p.selectOption("#predictor", "oracle");
    await setValue(p, "#seed", 99);
    await p.selectOption("#cap", "10000");
    const ids = ["preset", "requests", "gpus", "k", "scheduler", "load", "rps", "dtoken", "drequest", "predictor", "sigma", "seed", "cap"];
    const read = (page) => page.$$eval(ids.map((i) => `#${i}`).join(","), (els) => els.map((e) => `${e.id}=${e.value}`));
    const values = await read(p);
    const url = p.url();
    assert.match(url, /#preset=first-results&n=47000&gpus=16&k=7&scheduler=dynamic_no_bins&load=real/);
    await first.close();

    const second = await openPage(env, url.split("#")[1]);
    assert.deepEqual(await read(second.page), values);
    assert.equal(await second.page.textContent("#requests-value"), "47000");
    assert.equal(await second.page.textContent("#error"), "");
    await second.close();

    // After a job, the link reproduces it: opening it runs that job.
    const third = await openPage(env, "n=1000&gpus=2&k=3");
    await runJob(third.page, "#compare");
    const link = third.page.url().split("#")[1];
    assert.match(link, /n=1000&gpus=2&k=3&.*&show=compare$/);
    await third.close();
    const auto = await openPage(env, link);
    await auto.page.waitForSelector("body[data-jobs-done='1']", { timeout: 60_000 });
    const t = await summary(auto.page);
    assert.deepEqual(t["scheduler"], SCHEDULERS);
    assert.deepEqual(t["GPUs"], SCHEDULERS.map(() => "2"));

    // A link opened in a tab that already shows the page changes only the fragment.
    await auto.page.evaluate(() => {
      location.hash = "#n=1000&gpus=9&scheduler=static_fifo&show=run";
    });
    await auto.page.waitForSelector("body[data-jobs-done='2']", { timeout: 60_000 });
    assert.deepEqual((await summary(auto.page))["GPUs"], ["9"]);
    assert.equal(await auto.page.inputValue("#gpus"), "9");
    await auto.close();

    const bad = await openPage(env, "gpus=0&seed=5");
    assert.match(await bad.page.textContent("#error"), /gpus=0/);
    assert.equal(await bad.page.inputValue("#seed"), "5");
    await bad.close();
  });

  test("no network request after load", async () => {
    const { page, requests, close } = await openPage(env);
    const atLoad = network(requests).length;
    const hitsAtLoad = env.server.hits.length;
    assert.ok(network(requests).every((u) => u.startsWith(env.server.url)));
    await setValue(page, "#requests", N1K);
    await runJob(page, "#run");
    await download(page, "run.csv");
    await runJob(page, "#compare");
    await page.setInputFiles("#trace-file", { name: "x.csv", mimeType: "text/csv", buffer: Buffer.from("nonsense\n") });
    await page.waitForFunction(() => document.getElementById("error").textContent !== "");
    // Cancel replaces the worker: the new one loads the site's worker files again, from
    // the browser's cache (the server sees nothing).
    await setValue(page, "#requests", N1M);
    await page.click("#run");
    await page.waitForSelector("body[data-busy=true]", { timeout: 30_000 });
    await cancelRunningJob(page);
    await setValue(page, "#requests", N1K);
    await runJob(page, "#run");
    assert.deepEqual(env.server.hits.slice(hitsAtLoad), [], "the server saw no request after load");
    // Compare started the rest of the pool; Cancel a replacement first worker: each
    // loads the worker's files (from the browser's cache).
    const pool = Number((await page.textContent("#workers")).match(/share (\d+) worker/)[1]);
    const worker = ["worker-loader.js", "batchlab-worker.js", "batchlab-worker_bg.wasm"].map((f) => env.server.url + f);
    const starts = Array.from({ length: pool }, () => worker).flat();
    assert.deepEqual(network(requests).slice(atLoad), starts, "only the pool's and the replacement worker's files, from cache");
    await close();
  });
});
