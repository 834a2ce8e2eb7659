// The token pass in the page (issue 4): on the visitor's GPU through WebGPU when the
// browser has an adapter, on the CPU otherwise or when the visitor asks; the same CSV
// either way, equal to the CLI's CPU pass. Headless Chromium gets a WebGPU adapter
// (SwiftShader, which runs compute shaders on the CPU) only with --enable-unsafe-webgpu,
// so each describe block launches its own browser, with and without that flag.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  assertSvgChart, cancelRunningJob, cliHas, download, gpuLine, jobsDone, jsonWithoutWallClock as noWall, launch, openPage, ROOT, runCli,
  runJob, seen, setValue, summary, watchPage, withoutWallClock,
} from "./helpers.mjs";

const N10K = 12; // request slider position of 10,000
// A configuration whose per-token SLA binds for some requests, not all.
const FRAGMENT = "preset=paper&gpus=8&k=5&scheduler=multi_bin_dynamic&rps=50&dtoken=0.0075&seed=7";
const CLI_ARGS = [
  "run", "--preset", "paper", "--requests", "10000", "--gpus", "8", "--k", "5", "--scheduler", "multi_bin_dynamic",
  "--rps-scaling", "50", "--d-sla-token", "0.0075", "--seed", "7",
];

/// The CLI's CSV for `args`, its token pass forced onto the CPU when it has the option.
function cliCsv(args) {
  const backend = cliHas("--token-backend") ? ["--token-backend", "cpu"] : [];
  return readFileSync(join(runCli([...args, ...backend]), "run.csv"), "utf8");
}

async function runCsv(page) {
  await runJob(page, "#run");
  return withoutWallClock((await download(page, "run.csv")).text);
}

describe("with a WebGPU adapter (--enable-unsafe-webgpu: SwiftShader)", () => {
  let env;
  before(async () => {
    env = await launch({ webgpu: true });
  });
  after(async () => {
    await env?.close();
  });

  test("a software adapter is skipped unless asked: the page says there is no hardware GPU and times tokens on the CPU", async () => {
    const { page, errors, close } = await openPage(env, `${FRAGMENT}&n=10000`);
    const gpu = await gpuLine(page);
    assert.match(gpu, /^GPU: no hardware GPU — token pass on the CPU \(a software adapter, .*swiftshader.*, is used only if you tick it below\)$/);
    assert.equal(await page.getAttribute("body", "data-gpu"), "software");
    const cpuCsv = await runCsv(page);
    assert.match(await page.textContent("#token-pass"), /^Token pass: CPU, /);
    // Asked for, the same adapter times the tokens; the numbers do not change.
    await page.check("#softgpu");
    assert.match(page.url(), /softgpu=1/);
    const gpuCsv = await runCsv(page);
    assert.match(await page.textContent("#token-pass"), /^Token pass: GPU \(.*swiftshader.*\), /);
    assert.equal(gpuCsv, cpuCsv);
    assert.deepEqual(errors, []);
    await close();
  });

  test("the page names the adapter; the GPU run's CSV equals the CLI's and the page's forced-CPU run", async () => {
    const { page, errors, close } = await openPage(env, `${FRAGMENT}&softgpu=1`);
    await gpuLine(page);
    const adapter = await page.evaluate(() => document.getElementById("gpu").textContent.match(/a software adapter, (.*), is used/)[1]);
    await setValue(page, "#requests", N10K);

    const gpuCsv = await runCsv(page);
    assert.equal(await page.textContent("#token-pass").then((t) => t.startsWith(`Token pass: GPU (${adapter}), `)), true);
    let t = await summary(page);
    assert.match(t["token pass"][0], /^GPU, \d+\.\d ms$/);
    // Durations as report::human writes them: three significant digits and a unit.
    for (const row of ["TTFT p50", "TTFT p95", "TTFT p99", "TTFT max", "TBT p50", "TBT p95", "TBT p99", "TBT max"]) {
      assert.match(t[row][0], /^(\d\.\d\d|\d\d\.\d|\d{3,}) (µs|ms|s|min|h)$/, row);
    }
    const byRequests = parseFloat(t["token SLA violations (requests)"][0]);
    assert.ok(byRequests > 0 && byRequests < 100, `the token SLA binds for some requests: ${byRequests}`);
    assert.match(t["token SLA violations (tokens)"][0], /^(0|\d[\d.]*(e-\d+)?) %$/);
    assert.match(t["goodput: both SLAs met"][0], /^(0|\d[\d.]*(e-?\d+)?) req\/s$/);
    const gpuJson = noWall((await download(page, "run.json")).text);
    await assertSvgChart(page, await download(page, "tbt_distribution.svg"), {
      title: "Time between tokens (TBT): every decode gap, shortest to longest", xLabel: "% of gaps at or below", yLabel: "TBT (ms)",
      legend: ["multi-bin dynamic"], lines: 1,
    });
    assert.equal(await page.locator("#charts svg").count(), 4);

    assert.equal(gpuCsv, withoutWallClock(cliCsv(CLI_ARGS)), "GPU pass in the page = the CLI's CPU pass");

    // The switch is a labelled checkbox, usable from the keyboard, kept in the URL.
    await page.focus("#tokencpu");
    await page.keyboard.press("Space");
    assert.equal(await page.isChecked("#tokencpu"), true);
    assert.match(page.url(), /tokencpu=1/);
    const cpuCsv = await runCsv(page);
    assert.match(await page.textContent("#token-pass"), /^Token pass: CPU, \d+\.\d ms$/);
    assert.match((await summary(page))["token pass"][0], /^CPU, /);
    assert.equal(cpuCsv, gpuCsv, "forced CPU = GPU");
    assert.equal(noWall((await download(page, "run.json")).text), gpuJson);
    assert.deepEqual(errors, []);
    await close();

    const reopened = await openPage(env, page.url().split("#")[1]);
    assert.equal(await reopened.page.isChecked("#tokencpu"), true, "the link keeps the switch");
    await reopened.close();
  });

  test("early-exit semantics with a context cost: GPU = CPU in the page (and the CLI's)", async () => {
    const { page, close } = await openPage(env, `${FRAGMENT}&n=10000&softgpu=1`);
    await gpuLine(page);
    await page.selectOption("#semantics", "early_exit");
    await setValue(page, "#kappa", 0.3);
    assert.match(page.url(), /semantics=early_exit&kappa=0\.3/);
    const gpuCsv = await runCsv(page);
    assert.match(await page.textContent("#token-pass"), /^Token pass: GPU/);
    await page.check("#tokencpu");
    const cpuCsv = await runCsv(page);
    assert.match(await page.textContent("#token-pass"), /^Token pass: CPU/);
    assert.equal(gpuCsv, cpuCsv);
    if (cliHas("--token-semantics")) {
      const args = [...CLI_ARGS, "--token-semantics", "early_exit", "--token-kappa", "0.3"];
      assert.equal(gpuCsv, withoutWallClock(cliCsv(args)));
    }
    await close();
  });

  // What Cancel does, not how fast: a 1M-request run (its token pass alone takes
  // SwiftShader seconds) is cancelled as soon as it is running; it ends as "cancelled",
  // never reports, and the replacement worker finds the GPU again.
  test("Cancel stops a GPU run; nothing of it appears; the replacement worker finds the GPU again", async () => {
    const { page, errors, close } = await openPage(env, "n=1000000&gpus=4&softgpu=1");
    await gpuLine(page);
    await watchPage(page);
    const done = await jobsDone(page);
    await page.click("#run");
    await page.waitForSelector("body[data-busy=true]", { timeout: 30_000 });
    await cancelRunningJob(page);
    assert.equal(await page.textContent("#status"), "cancelled");
    assert.equal(await jobsDone(page), done);
    const statusesAtCancel = (await seen(page)).statuses.length;

    await setValue(page, "#requests", 0);
    await runJob(page, "#run", 60_000);
    assert.deepEqual((await summary(page))["requests completed"], ["1000"]);
    assert.match(await page.textContent("#token-pass"), /^Token pass: GPU/);
    assert.equal(await page.textContent("#status"), "done: 1 run(s), 1000 requests simulated");
    const { statuses, results } = await seen(page);
    assert.deepEqual(results, [["1000"]], "the cancelled run's result never appeared");
    assert.deepEqual(statuses.slice(statusesAtCancel), ["running", "done: 1 run(s), 1000 requests simulated"]);
    assert.equal(await jobsDone(page), done + 1);
    assert.deepEqual(errors, []);
    await close();
  });

  test("Compare schedulers runs each token pass on the GPU; the plan on the CPU", async () => {
    const { page, errors, close } = await openPage(env, "n=1000&gpus=2&k=3&softgpu=1");
    await gpuLine(page);
    await runJob(page, "#compare");
    const t = await summary(page);
    // The four batch schedulers' passes on the GPU; continuous batching has none (its engine times the tokens).
    assert.equal(t["token pass"].length, 6);
    assert.ok(t["token pass"].slice(0, 4).every((c) => c.startsWith("GPU, ")), t["token pass"]);
    assert.deepEqual(t["token pass"].slice(4), ["none: the iteration engine timed every token", "none: the iteration engine timed every token"]);
    assert.match(await page.textContent("#token-pass"), /^Token pass: GPU \(.+\), \d+\.\d ms for 4 runs$/);
    await page.selectOption("#cap", "1000");
    await runJob(page, "#plan");
    assert.match(await page.textContent("#token-pass"), /CPU/);
    assert.deepEqual(errors, []);
    await close();
  });
});

describe("without a WebGPU adapter", () => {
  let env;
  before(async () => {
    env = await launch({ webgpu: false });
  });
  after(async () => {
    await env?.close();
  });

  test("the page falls back to the CPU, says so, and the CSV equals the CLI's", async () => {
    const { page, errors, close } = await openPage(env, FRAGMENT);
    assert.equal(await gpuLine(page), "GPU: no hardware GPU found — token pass on the CPU");
    await setValue(page, "#requests", N10K);
    const csv = await runCsv(page);
    assert.match(await page.textContent("#token-pass"), /^Token pass: CPU, \d+\.\d ms$/);
    assert.equal(csv, withoutWallClock(cliCsv(CLI_ARGS)));
    assert.equal(await page.textContent("#error"), "", "no error: the fallback is silent");
    assert.deepEqual(errors, []);
    await close();
  });
});

// scripts/test-browser.sh builds it: scripts/build-web.sh --no-default-features --dist target/dist-cpu.
// Missing, this block fails (launch() says so): a suite that did not run must not pass.
const CPU_ONLY_DIST = join(ROOT, "target/dist-cpu");

describe("a build without the webgpu feature (no wgpu), in a browser that has an adapter", () => {
  let env;
  before(async () => {
    env = await launch({ webgpu: true, dist: CPU_ONLY_DIST });
  });
  after(async () => {
    await env?.close();
  });

  test("runs the token pass on the CPU, says so, and gives the CLI's CSV", async () => {
    const { page, errors, close } = await openPage(env, FRAGMENT);
    assert.equal(await gpuLine(page), "GPU: no hardware GPU found — token pass on the CPU");
    assert.match(await page.getAttribute("#gpu", "title"), /without the webgpu feature/);
    await setValue(page, "#requests", N10K);
    const csv = await runCsv(page);
    assert.match(await page.textContent("#token-pass"), /^Token pass: CPU/);
    assert.equal(csv, withoutWallClock(cliCsv(CLI_ARGS)));
    assert.deepEqual(errors, []);
    await close();
  });
});
