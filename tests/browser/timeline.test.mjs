// "Inside the cluster" (the timeline of a window of a single run) in headless Chromium:
// it draws a lane per GPU and a box per batch (per run of iterations under continuous
// batching) with their tooltips, as many as the run implies; Play moves the cursor
// repainting only the cursor; the scrubber moves the shown time and queues.
// Every wait is on the page's DOM, never on a timer.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { download, launch, openPage, runCli, runJob, setValue, summary } from "./helpers.mjs";

let env;
before(async () => {
  env = await launch();
});
after(async () => {
  await env?.close();
});

/// Ask for the window in the fields (`act` presses the button, or Enter), wait for it to be
/// drawn, and describe what the picture holds.
async function draw(page, act = () => page.click("#timeline-draw")) {
  const drawn = () => page.evaluate(() => Number(document.getElementById("timeline").dataset.drawn ?? "0"));
  const before = await drawn();
  await act();
  await page.waitForFunction(
    (n) => Number(document.getElementById("timeline").dataset.drawn ?? "0") > n || document.getElementById("error").textContent !== "" || document.getElementById("timeline-error").textContent !== "",
    before,
    { timeout: 120_000 },
  );
  const error = (await page.textContent("#error")) + (await page.textContent("#timeline-error"));
  if (error) throw new Error(`the page shows an error: ${error}`);
  if ((await drawn()) !== before + 1) throw new Error("not drawn");
  return page.evaluate(() => {
    const svg = document.querySelector("#timeline-figure svg");
    return {
      label: svg.getAttribute("aria-label"),
      lanes: [...svg.querySelectorAll("text")].map((t) => t.textContent).filter((t) => /^GPU \d+$/.test(t)),
      boxes: [...svg.querySelectorAll("rect[data-gpu]")].map((r) => ({
        gpu: Number(r.dataset.gpu),
        bin: Number(r.dataset.bin),
        size: Number(r.dataset.size),
        title: r.querySelector("title")?.textContent ?? "",
      })),
      polylines: svg.querySelectorAll("polyline").length,
      texts: [...svg.querySelectorAll("text")].map((t) => t.textContent),
      status: document.getElementById("timeline-status").textContent,
      cursor: document.getElementById("timeline-cursor").getAttribute("transform"),
    };
  });
}

/// Seconds in a title or readout ("12.3 s", "1234 s", "1.23e-5 s").
const seconds = (text) => Number(/^([-\d.e]+) s/.exec(text)[1]);

/// The readout beside the scrubber: its time and the requests waiting per bin.
async function readout(page) {
  const text = await page.textContent("#timeline-now");
  return { text, time: seconds(text), waiting: [...text.matchAll(/bin \d+: (\d+)/g)].map((m) => Number(m[1])) };
}

/// Press Play and wait until the cursor has moved and the play has reached the window's
/// end. Returns the main-thread tasks over 50 ms seen meanwhile ('longtask' entries, ms)
/// and how many changes the picture itself and the cursor's layer saw.
async function play(page) {
  await page.evaluate(() => {
    const seen = { long: [], picture: 0, cursor: 0 };
    window.__play = seen;
    new PerformanceObserver((list) => seen.long.push(...list.getEntries().map((e) => e.duration))).observe({ type: "longtask" });
    const picture = (r) => !(r.target.nodeType === Node.ELEMENT_NODE ? r.target : r.target.parentElement).closest(".timeline-cursor-layer");
    new MutationObserver((m) => (seen.picture += m.filter(picture).length)).observe(document.getElementById("timeline-figure"), { subtree: true, childList: true, attributes: true, characterData: true });
    new MutationObserver((m) => (seen.cursor += m.length)).observe(document.getElementById("timeline-cursor"), { attributes: true });
  });
  await page.click("#timeline-play");
  await page.waitForFunction(() => document.getElementById("timeline-cursor").getAttribute("transform") !== "translate(0.00 0)");
  await page.waitForSelector("#timeline[data-playing=false]", { timeout: 60_000 });
  return page.evaluate(() => window.__play);
}

/// The play repaints nothing but the cursor's layer, and the cursor moves frame by frame.
/// (How long its frames take is measured by tests/browser/bench.mjs, not asserted here:
/// a task's length on a shared machine says more about the machine than the page.)
function assertSmoothPlay(p) {
  assert.equal(p.picture, 0, "the picture changed while playing");
  assert.ok(p.cursor > 10, `the cursor moved in ${p.cursor} frames`);
}

const transform = (page) => page.getAttribute("#timeline-cursor", "transform");

describe("Inside the cluster", () => {
  test("a multi-bin dynamic run's timeline: boxes as the run implies, tooltips, play with no long task, scrubbing", async () => {
    const { page, errors, close } = await openPage(env, "preset=paper&n=2200&gpus=2&k=3&scheduler=multi_bin_dynamic&seed=3");
    assert.equal(await page.isHidden("#timeline"), true, "shown only after a single run");
    await runJob(page, "#run");
    await page.waitForSelector("#timeline:not([hidden])");
    assert.equal(await page.isDisabled("#timeline-play"), true, "nothing to play before a window is drawn");
    const t = await summary(page);
    const batches = Number(t["batches"][0]);
    const perBin = await page.$$eval("#bins tbody tr", (rows) => rows.map((r) => Number(r.cells[3].textContent)));
    assert.equal(perBin.length, 3);
    // The default window: a minute, where the queues were longest.
    const [from0, to0] = [Number(await page.inputValue("#timeline-from")), Number(await page.inputValue("#timeline-to"))];
    assert.equal(to0 - from0, 60);

    // The whole run: a box per batch, per bin as in the bins table, on 2 lanes.
    await setValue(page, "#timeline-from", 0);
    await setValue(page, "#timeline-to", 100000);
    const whole = await draw(page);
    assert.deepEqual(whole.lanes, ["GPU 0", "GPU 1"]);
    assert.equal(whole.boxes.length, batches, whole.status);
    assert.deepEqual([0, 1, 2].map((b) => whole.boxes.filter((x) => x.bin === b).length), perBin);
    assert.match(whole.status, new RegExp(`^multi_bin_dynamic from 0 s to 100000 s on GPUs 0–1: ${batches} batches \\(every one in the window\\)\\.$`));
    assert.equal(whole.polylines, 4, "a queue line per bin and the memory line");
    assert.ok(whole.texts.includes("memory held by running batches (% of all GPUs' room for batches)"));
    const reasons = new Set();
    for (const b of whole.boxes) {
      const lines = b.title.split("\n");
      assert.equal(lines[0], `GPU ${b.gpu}, bin ${b.bin}: a batch of ${b.size} request${b.size === 1 ? "" : "s"}`);
      assert.match(lines[1], /^members: #\d+/);
      assert.match(lines[2], new RegExp(`^L = \\d+ tokens \\(longest prompt \\+ output\\), b = ${b.size}, a token every `));
      assert.match(lines[3], /^[\d.e-]+ s to [\d.e-]+ s \(/);
      assert.match(lines[4], /^size set by the (memory cap \(b_mem\)|SLA target \(b_SLA\)|queue \(every waiting request was taken\)|memory check \(the next request did not fit\))$/);
      reasons.add(lines[4]);
    }
    assert.ok(reasons.size >= 2, `more than one reason: ${[...reasons]}`);

    // A bad window is a one-line error on its field; the page stays usable.
    await setValue(page, "#timeline-from", 50);
    await setValue(page, "#timeline-to", 10);
    await page.click("#timeline-draw");
    assert.equal(await page.textContent("#timeline-error"), "Timeline window: 'to' must be a number of seconds after 'from'.");
    assert.equal(await page.getAttribute("#timeline-to", "aria-invalid"), "true");
    assert.equal(await page.evaluate(() => document.activeElement.id), "timeline-to");

    // The default window again, drawn from the keyboard (Enter in a field).
    await setValue(page, "#timeline-from", from0);
    await setValue(page, "#timeline-to", to0);
    const busy = await draw(page, async () => {
      await page.focus("#timeline-to");
      await page.keyboard.press("Enter");
    });
    assert.equal(await page.textContent("#timeline-error"), "");
    assert.equal(await page.getAttribute("#timeline-to", "aria-invalid"), null);
    assert.match(await page.textContent("#status"), /^done: the timeline drawn, 1 run of 2200 requests simulated again$/);
    assert.ok(busy.boxes.length > 0 && busy.boxes.length < batches, `${busy.boxes.length} of ${batches}`);
    for (const b of busy.boxes) {
      const [start, end] = b.title.split("\n")[3].split(" to ").map(seconds);
      assert.ok(end > from0 && start < to0, `${start}-${end} outside ${from0}-${to0}`);
    }
    assert.equal(busy.cursor, "translate(0.00 0)");
    assert.equal((await readout(page)).time, from0);

    // Play: the button says Pause, the cursor and the readout move frame by frame.
    await page.click("#timeline-play");
    assert.equal(await page.textContent("#timeline-play"), "Pause");
    await page.waitForFunction(() => document.getElementById("timeline-cursor").getAttribute("transform") !== "translate(0.00 0)");
    const moving = await readout(page);
    assert.ok(moving.time > from0, moving.text);
    await page.waitForSelector("#timeline[data-playing=false]", { timeout: 60_000 });
    // To the window's end, again from its start, repainting only the cursor.
    assertSmoothPlay(await play(page));
    assert.equal(await page.inputValue("#timeline-scrub"), "1000");
    assert.equal((await readout(page)).time, to0);
    assert.equal(await page.textContent("#timeline-play"), "Play");
    assert.match(await page.textContent("#timeline-under"), new RegExp(`^At ${to0} s: GPU 0: .*; GPU 1: `));

    // From the keyboard: Play from the start again, then Pause where it is.
    await page.focus("#timeline-play");
    await page.keyboard.press("Enter");
    await page.waitForSelector("#timeline[data-playing=true]");
    await page.waitForFunction(([start, end]) => {
      const now = parseFloat(document.getElementById("timeline-now").textContent);
      return now > start && now < end;
    }, [from0, to0]);
    await page.keyboard.press("Enter");
    await page.waitForSelector("#timeline[data-playing=false]");
    const paused = await transform(page);
    assert.notEqual(paused, "translate(0.00 0)");

    // The scrubber: the shown time follows it, and so do the queues.
    const seen = [];
    for (const step of [0, 250, 500, 750, 1000]) {
      await setValue(page, "#timeline-scrub", step);
      const r = await readout(page);
      assert.equal(r.waiting.length, 3, r.text);
      assert.ok(Math.abs(r.time - (from0 + (60 * step) / 1000)) <= 0.05 + 1e-9, `${step}: ${r.text}`);
      assert.equal(await page.getAttribute("#timeline-scrub", "aria-valuetext"), r.text);
      seen.push(r);
    }
    assert.equal(new Set(seen.map((r) => r.time)).size, 5);
    assert.ok(new Set(seen.map((r) => r.waiting.join())).size > 1, `the queues change: ${seen.map((r) => r.text).join(" | ")}`);
    // Arrow keys move it too.
    await page.focus("#timeline-scrub");
    await page.keyboard.press("Home");
    await page.keyboard.press("ArrowRight");
    assert.equal(await page.inputValue("#timeline-scrub"), "1");
    assert.equal(await transform(page), `translate(${(876 / 1000).toFixed(2)} 0)`);

    // Another job's results replace the section.
    await runJob(page, "#compare");
    assert.equal(await page.isHidden("#timeline"), true);
    assert.deepEqual(errors, []);
    await close();
  });

  test("a continuous-batching run's timeline: a box per run of iterations, every iteration in one", async () => {
    const { page, errors, close } = await openPage(env, "preset=paper&n=1000&gpus=2&scheduler=continuous&seed=3");
    await runJob(page, "#run");
    await page.waitForSelector("#timeline:not([hidden])");
    const iterations = Number((await summary(page))["batches"][0]);
    await setValue(page, "#timeline-from", 0);
    await setValue(page, "#timeline-to", 100000);
    const whole = await draw(page);
    assert.match(whole.status, /^continuous from 0 s to 100000 s on GPUs 0–1: \d+ runs of iterations \(every one in the window\)\.$/);
    assert.deepEqual(whole.lanes, ["GPU 0", "GPU 1"]);
    // Every iteration of the run is in one box (the summary's "batches" are iterations).
    let sum = 0;
    for (const b of whole.boxes) {
      const m = /^GPU (\d+), bin 0: (\d+) iterations? of (\d+) sequences?\n/.exec(b.title);
      assert.ok(m, b.title);
      assert.equal(Number(m[1]), b.gpu);
      assert.equal(Number(m[3]), b.size);
      assert.ok(b.size >= 1);
      assert.match(b.title, /\nsize set by (the queue|the most running sequences|the KV cache|the token budget|a preemption)\b/);
      sum += Number(m[2]);
    }
    assert.ok(whole.boxes.length > 10 && whole.boxes.length < iterations, `${whole.boxes.length} runs`);
    assert.equal(sum, iterations);
    assert.ok(whole.texts.includes("KV cache in use (% of all GPUs' blocks)"));

    await setValue(page, "#timeline-to", 30);
    const first = await draw(page);
    assert.ok(first.boxes.length > 0 && first.boxes.length < whole.boxes.length);
    assert.deepEqual(errors, []);
    await close();
  });

  test("the busiest minute of a larger continuous run: 3,000 boxes at most, the rest marked; playing it has no long task", async () => {
    const { page, errors, close } = await openPage(env, "preset=paper&n=10000&gpus=8&k=4&scheduler=multi_bin_continuous&seed=3");
    await runJob(page, "#run");
    await page.waitForSelector("#timeline:not([hidden])");
    const t = await draw(page);
    assert.equal(t.lanes.length, 8);
    assert.equal(t.boxes.length, 3000, t.status);
    const m = /^multi_bin_continuous from [\d.]+ s to [\d.]+ s on GPUs 0–7: 3000 runs of iterations drawn of (\d+) \(at most 3000 are: every one that starts before [\d.]+ s is; (\d+) later ones are left out\)\.$/.exec(t.status);
    assert.ok(m, t.status);
    assert.equal(Number(m[1]), 3000 + Number(m[2]));
    assert.ok(t.texts.includes(`${m[2]} later boxes not drawn`));
    // Each bin has its own GPUs here (8 GPUs, 4 bins): all four colours are drawn.
    assert.deepEqual([...new Set(t.boxes.map((b) => b.bin))].sort(), [0, 1, 2, 3]);

    assertSmoothPlay(await play(page));
    assert.match((await readout(page)).text, /^[\d.]+ s: waiting bin 0: \d+, bin 1: \d+, bin 2: \d+, bin 3: \d+; KV cache in use [\d.]+ %$/);
    assert.deepEqual(errors, []);
    await close();
  });
  test("the window drawn downloads as the CLI's batchlab timeline writes it", async () => {
    const { page, errors, close } = await openPage(env, "preset=paper&n=2200&gpus=2&k=3&scheduler=multi_bin_dynamic&seed=3");
    await runJob(page, "#run");
    await page.waitForSelector("#timeline:not([hidden])");
    assert.equal(await page.isDisabled("#timeline-download-boxes"), true, "nothing to download before a window is drawn");
    await setValue(page, "#timeline-from", 120.5);
    await setValue(page, "#timeline-to", 400);
    await draw(page);
    const out = runCli(["timeline", "--preset", "paper", "--requests", "2200", "--gpus", "2", "--k", "3", "--scheduler", "multi_bin_dynamic", "--seed", "3", "--from", "120.5", "--to", "400"]);
    for (const name of ["timeline_boxes.csv", "timeline_series.csv"]) {
      const file = await download(page, name);
      assert.equal(file.name, name);
      assert.ok(file.text.split("\n").length > 3, `${name} has rows`);
      assert.equal(file.text, readFileSync(join(out, name), "utf8"), name);
    }
    assert.deepEqual(errors, []);
    await close();
  });
});
