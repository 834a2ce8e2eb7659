// A simulation worker that dies (a wasm trap, out of memory) while a job runs: the page
// says so in words, the job ends (a job of many runs whole), the worker is replaced, the
// results shown stay, and the next job gives the same results as before. The workers
// fail for real, through Playwright's handle on them (no test hook in the site): their
// wasm memory is grown to the browser's limit (4 GiB) so the run's own allocations fail,
// or wasm-bindgen's allocator is handed a request it must abort on.
// dist/ must be built (scripts/test-browser.sh).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { download, launch, openPage, runJob } from "./helpers.mjs";

let env;
before(async () => {
  env = await launch();
});
after(async () => {
  await env?.close();
});

/// The summary table's rows, as a record of the run shown (its wall-clock rows left out).
const shownRun = (page) =>
  page.$$eval("#summary-table tbody tr", (rows) =>
    rows.map((r) => r.textContent).filter((t) => !t.startsWith("wall time") && !t.startsWith("token pass")),
  );

/// The worker the page starts next (a replacement), once the page has it ready.
async function nextWorker(page, trigger) {
  const [worker] = await Promise.all([page.waitForEvent("worker"), trigger()]);
  await page.waitForSelector("body[data-worker=ready]", { timeout: 30_000 });
  return worker;
}

/// Arm `worker`: the next message it gets (a job's) dies in its wasm. `how`:
/// "oom-now" grows its memory to the limit and asks its allocator for 1 GiB more (out
/// of memory: the worker's allocator reports it before the trap); "trap" asks
/// wasm-bindgen's allocator for more than a wasm32 size can be (it aborts at once: a
/// bare `RuntimeError: unreachable`, no last words); "garble" answers with a message
/// that is no answer of the protocol's (the worker lives; the job's answer never comes).
async function armDeath(worker, how) {
  await worker.evaluate(async (how) => {
    const wasm = await wasm_bindgen();
    // wasm-bindgen's allocator: `__wbindgen_export` in the release site, whose wasm has
    // no name section (the glue passes it as passStringToWasm0's malloc).
    const malloc = wasm.__wbindgen_malloc ?? wasm.__wbindgen_export;
    const real = self.onmessage;
    self.onmessage = () => {
      self.onmessage = real;
      if (how === "garble") return self.postMessage({ NoSuchAnswer: 1 });
      if (how === "trap") malloc(2 ** 31, 1);
      for (let pages = 16384; pages >= 1; ) {
        try {
          wasm.memory.grow(pages);
        } catch {
          pages >>= 1;
        }
      }
      malloc(2 ** 30, 8);
    };
  }, how);
}

/// Grow `worker`'s wasm memory to the browser's limit, so that the next run's own
/// allocations fail (a fresh worker holds too little for a run of 20,000 requests).
async function exhaustMemory(worker) {
  return worker.evaluate(async () => {
    const wasm = await wasm_bindgen();
    for (let pages = 16384; pages >= 1; ) {
      try {
        wasm.memory.grow(pages);
      } catch {
        pages >>= 1;
      }
    }
    return wasm.memory.buffer.byteLength / 2 ** 20;
  });
}

/// Click `button` and wait until the job is over (done or failed).
async function runToEnd(page, button) {
  await page.click(button);
  await page.waitForFunction(() => document.body.dataset.busy === "false", null, { timeout: 120_000 });
}

/// Every job button usable again, Cancel not.
async function buttonsBack(page) {
  const disabled = await page.$$eval("#run, #compare, #plan, #study, #sweep, #capacity, #cancel", (bs) => Object.fromEntries(bs.map((b) => [b.id, b.disabled])));
  assert.deepEqual(disabled, { run: false, compare: false, plan: false, study: false, sweep: false, capacity: false, cancel: true });
}

describe("a simulation worker that dies", () => {
  test("a single run: a trap and then a real out of memory, each said in words; the worker replaced; the next run gives the same result", async () => {
    const { page, errors, close } = await openPage(env, "preset=paper&n=20000&gpus=2&show=run");
    await page.waitForFunction(() => Number(document.body.dataset.jobsDone ?? "0") >= 1, null, { timeout: 120_000 });
    assert.equal(await page.textContent("#error"), "");
    const before = await shownRun(page);
    assert.ok(before.some((r) => r.startsWith("requests completed")), "a run is shown");
    const url = page.url();

    // A bare trap in the worker's wasm while it takes the run.
    await armDeath(page.workers()[0], "trap");
    const fresh = await nextWorker(page, () => runToEnd(page, "#run"));
    assert.equal(
      await page.textContent("#error"),
      "The simulation worker stopped (out of memory or an internal error: RuntimeError: unreachable). The run was stopped and the worker replaced; your settings and earlier results are kept. Try fewer requests.",
    );
    assert.equal(await page.textContent("#status"), "failed: the simulation worker stopped");
    await buttonsBack(page);
    assert.deepEqual(await shownRun(page), before, "the earlier result stays on screen");
    assert.equal(page.url(), url, "the settings (the link) are kept");

    // The replacement holds a fresh worker's little memory: grown to the limit from
    // outside, the run's own allocations fail (out of memory in the simulation).
    assert.equal(await exhaustMemory(fresh), 4096, "the worker's memory is at the browser's limit");
    const third = await nextWorker(page, () => runToEnd(page, "#run"));
    assert.equal(
      await page.textContent("#error"),
      "The simulation worker ran out of memory (it held 4096 MB and the browser gave it no more). The run was stopped and the worker replaced; your settings and earlier results are kept. Try fewer requests.",
    );
    assert.equal(await page.textContent("#status"), "failed: the simulation worker stopped");
    await buttonsBack(page);
    assert.deepEqual(await shownRun(page), before);
    assert.ok(third, "a replacement worker was started");

    // The next run works, on the replacement, and gives the same result.
    await runJob(page, "#run");
    assert.deepEqual(await shownRun(page), before);
    assert.match(await page.textContent("#status"), /^done: 1 run\(s\)/);
    assert.deepEqual(errors, [], "nothing uncaught in the page");
    await close();
  });

  test("a sweep on two workers: one runs out of memory mid-job; the whole sweep is reported stopped, nothing hangs, the next sweep gives the same files", async () => {
    const { page, errors, close } = await openPage(env, "preset=paper&n=1000&workers=2&sx=gpus&sxv=1,2,4&ss=scheduler&ssv=static_fifo,multi_bin_dynamic&seeds=2&metric=throughput_rps&show=sweep");
    await page.waitForFunction(() => Number(document.body.dataset.jobsDone ?? "0") >= 1, null, { timeout: 120_000 });
    assert.equal(await page.textContent("#error"), "");
    const summaryBefore = (await download(page, "sweep_summary.csv")).text;
    const shownBefore = await page.textContent("#sweep-summary");
    const workers = page.workers();
    assert.equal(workers.length, 2, "the pool has two workers");

    // The second worker dies on the first run it is handed; the first keeps running its own.
    await armDeath(workers[1], "oom-now");
    await nextWorker(page, () => runToEnd(page, "#sweep"));
    assert.equal(
      await page.textContent("#error"),
      "One of the simulation workers running the sweep ran out of memory (it held 4096 MB and the browser gave it no more). The whole sweep was stopped (it needs every one of its runs) and its workers replaced; your settings and earlier results are kept. Try fewer requests.",
    );
    assert.equal(await page.textContent("#status"), "failed: the simulation worker stopped");
    await buttonsBack(page);
    assert.equal(await page.textContent("#sweep-summary"), shownBefore, "the earlier sweep stays on screen");

    // The next sweep starts its pool again and gives the same files.
    await runJob(page, "#sweep");
    assert.equal((await download(page, "sweep_summary.csv")).text, summaryBefore);
    assert.deepEqual(errors, [], "nothing uncaught in the page");
    await close();
  });

  test("a comparison whose worker answers what the page cannot read fails in words instead of waiting for ever", async () => {
    const { page, errors, close } = await openPage(env, "preset=paper&n=1000&gpus=2&workers=1&show=compare");
    await page.waitForFunction(() => Number(document.body.dataset.jobsDone ?? "0") >= 1, null, { timeout: 120_000 });
    const before = await page.textContent("#overview");
    await armDeath(page.workers()[0], "garble");
    await nextWorker(page, () => runToEnd(page, "#compare"));
    assert.equal(
      await page.textContent("#error"),
      "One of the simulation workers running the comparison of schedulers sent an answer the page could not read. The whole comparison of schedulers was stopped (it needs every one of its runs) and its workers replaced; your settings and earlier results are kept.",
    );
    await buttonsBack(page);
    assert.equal(await page.textContent("#overview"), before, "the earlier comparison stays on screen");
    await runJob(page, "#compare");
    assert.equal(await page.textContent("#overview"), before, "the next comparison gives the same figures");
    assert.deepEqual(errors, [], "nothing uncaught in the page");
    await close();
  });
});
