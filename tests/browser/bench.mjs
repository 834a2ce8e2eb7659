// Benchmark of the web app in headless Chromium (run by hand, not in CI):
//   bash scripts/build-web.sh && node tests/browser/bench.mjs
// Prints: first-load bytes (gzip -9 of what the page loads), a 1M-request run
// (multi_bin_dynamic, 4 GPUs, K = 8: in-worker time = workload generation + simulation,
// and click-to-table time), the same 1M requests under continuous batching (4 GPUs: its
// engine times every token, no token pass), the longest main-thread task during them,
// the full 34-run plan on one worker and on the pool (one worker per core, at most 8),
// and the 1M run's token pass on WebGPU (SwiftShader) vs the wasm CPU pass.
// `node tests/browser/bench.mjs plan` runs only the plan's figures, `... longtasks` only the
// longest main-thread tasks (during 1M-request runs and while the timeline plays). With a release CLI (cargo build --release -p batchlab-cli) it also prints
// `batchlab bench --plan` and the wall time of
// `batchlab run --scheduler continuous --requests 1000000` (3 times) for the native figures.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { gpuLine, launch, openPage, ROOT, runJob, summary } from "./helpers.mjs";

const FIRST_LOAD = [
  "index.html", "style.css", "boot.js", "batchlab-web.js", "batchlab-web_bg.wasm",
  "worker-loader.js", "batchlab-worker.js", "batchlab-worker_bg.wasm",
];
let total = 0;
for (const f of FIRST_LOAD) {
  const gz = gzipSync(readFileSync(join(process.env.BATCHLAB_DIST ?? join(ROOT, "dist"), f)), { level: 9 }).length;
  total += gz;
  console.log(`  ${f.padEnd(26)} ${String(gz).padStart(8)} bytes gzip`);
}
console.log(`first load: ${total} bytes gzip (${(total / 1024 / 1024).toFixed(2)} MiB)`);

// `plan`: only the plan's figures; `longtasks`: only the main thread's longest tasks.
const onlyPlan = process.argv[2] === "plan";
const onlyLongTasks = process.argv[2] === "longtasks";

/// The full plan (cap 1M), click to figures, on `workers` workers (undefined: the pool).
async function planSeconds(env, workers) {
  const { page, close } = await openPage(env, `preset=paper&cap=1000000${workers ? `&workers=${workers}` : ""}`);
  const pool = (await page.textContent("#workers")).match(/share (\d+) worker/)[1];
  const t0 = performance.now();
  await runJob(page, "#plan", 900_000);
  const s = (performance.now() - t0) / 1e3;
  await close();
  return { s, pool };
}

const env = await launch();
try {
  for (let i = 1; i <= (onlyLongTasks ? 0 : 2); i++) {
    const one = await planSeconds(env, 1);
    const pool = await planSeconds(env);
    console.log(`full 34-run plan #${i}: ${one.s.toFixed(2)} s on 1 worker, ${pool.s.toFixed(2)} s on ${pool.pool} workers (${((100 * pool.s) / one.s).toFixed(0)}%)`);
  }
  if (onlyPlan) {
    await env.close();
    process.exit(0);
  }
  const { page, close } = await openPage(env, "preset=paper&n=1000000&gpus=4&k=8&scheduler=multi_bin_dynamic");
  await page.evaluate(() => {
    window.__longest = 0;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longest = Math.max(window.__longest, e.duration);
    }).observe({ type: "longtask" });
  });
  for (let i = 1; i <= (onlyLongTasks ? 1 : 3); i++) {
    const t0 = performance.now();
    await runJob(page, "#run", 300_000);
    const clickToTable = performance.now() - t0;
    const inWorker = (await summary(page))["wall time"][0];
    console.log(`1M run #${i}: in worker ${inWorker}, click to table ${(clickToTable / 1e3).toFixed(3)} s`);
  }
  // Continuous batching, same 1M requests and 4 GPUs (paper preset): generation + the
  // iteration engine, which times every token itself.
  await page.selectOption("#scheduler", "continuous");
  for (let i = 1; i <= (onlyLongTasks ? 1 : 3); i++) {
    const t0 = performance.now();
    await runJob(page, "#run", 300_000);
    const clickToTable = performance.now() - t0;
    const t = await summary(page);
    if (t["scheduler"][0] !== "continuous" || t["requests completed"][0] !== "1000000") throw new Error(`not the continuous 1M run: ${t["scheduler"]}`);
    console.log(`1M continuous run #${i} (4 GPUs): in worker ${t["wall time"][0]}, click to table ${(clickToTable / 1e3).toFixed(3)} s`);
  }
  console.log(`longest main-thread task during the 1M runs: ${(await page.evaluate(() => window.__longest)).toFixed(0)} ms (0 = none over 50 ms)`);
  // The timeline of a 3,000-box window of a continuous run, played to its end.
  await close();
  {
    const { page, close } = await openPage(env, "preset=paper&n=100000&gpus=8&k=4&scheduler=multi_bin_continuous&rps=200&show=run");
    await page.waitForFunction(() => Number(document.body.dataset.jobsDone ?? "0") > 0, null, { timeout: 300_000 });
    await page.waitForSelector("#timeline-draw", { state: "visible" });
    const drawn = Number((await page.getAttribute("#timeline", "data-drawn")) ?? "0");
    await page.click("#timeline-draw");
    await page.waitForFunction((n) => Number(document.getElementById("timeline").dataset.drawn ?? "0") > n, drawn, { timeout: 300_000 });
    await page.evaluate(() => {
      window.__longest = 0;
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) window.__longest = Math.max(window.__longest, e.duration);
      }).observe({ type: "longtask" });
    });
    await page.click("#timeline-play");
    await page.waitForSelector("#timeline[data-playing=false]", { timeout: 120_000 });
    const boxes = await page.locator("#timeline-figure rect[data-gpu]").count();
    console.log(`timeline play (${boxes} boxes): longest main-thread task ${(await page.evaluate(() => window.__longest)).toFixed(0)} ms (0 = none over 50 ms)`);
    await close();
  }
  if (onlyLongTasks) {
    await env.close();
    process.exit(0);
  }
} finally {
  await env.close();
}

// The token pass of the 1M-request run: WebGPU (SwiftShader, Chromium's software
// adapter: a CPU pretending to be a GPU) against the wasm CPU pass, in the same page.
const gpuEnv = await launch({ webgpu: true });
try {
  const { page, close } = await openPage(gpuEnv, "preset=paper&n=1000000&gpus=4&k=8&scheduler=multi_bin_dynamic");
  console.log(await gpuLine(page));
  for (const cpu of [false, true]) {
    await page.setChecked("#tokencpu", cpu);
    for (let i = 1; i <= 2; i++) {
      await runJob(page, "#run", 600_000);
      const t = await summary(page);
      console.log(`1M run token pass #${i}: ${t["token pass"][0]} (whole run in worker ${t["wall time"][0]})`);
    }
  }
  await close();
} finally {
  await gpuEnv.close();
}

const cli = join(ROOT, "target/release/batchlab");
if (existsSync(cli)) {
  console.log("native (batchlab bench --plan --repeat 3):");
  console.log(execFileSync(cli, ["bench", "--plan", "--repeat", "3"], { encoding: "utf8" }));
  const out = mkdtempSync(join(tmpdir(), "batchlab-bench-"));
  for (let i = 1; i <= 3; i++) {
    const text = execFileSync(cli, ["run", "--scheduler", "continuous", "--requests", "1000000", "--out", out], { encoding: "utf8" });
    const wall = text.split("\n").find((l) => /wall time/.test(l)) ?? "(no wall time line)";
    console.log(`native 1M continuous run #${i} (batchlab run --scheduler continuous --requests 1000000): ${wall.replace(/[│|]/g, " ").replace(/\s+/g, " ").trim()}`);
  }
}
