// The page's first view, layout and care: a bare link compares the schedulers at once and
// shows its key figures first; results in groups and in people's words; focus and stale
// results after a job; no line moves while a job runs; nothing wider than a phone;
// light and dark; and axe-core (the accessibility engine, injected into the page) finds
// no serious or critical violation. Saves screenshots into target/screenshots/.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { assertSvgChart, download, launch, openPage, parseSvg, ROOT, runJob, SCHEDULER_WORDS, setValue, summary } from "./helpers.mjs";

const SCREENSHOTS = join(ROOT, "target/screenshots");
const AXE = join(ROOT, "tests/browser/node_modules/axe-core/axe.min.js");
const LEGENDS = Object.values(SCHEDULER_WORDS); // SchedulerKind::ALL's order
// The first view's settings (UiState::first_view) as its charts say them.
const FIRST_SETTINGS = "preset paper · 18000 requests · 8 GPUs · K = 8 · load: arrival times ÷ 12 · seed 42";

let env;
before(async () => {
  env = await launch();
  mkdirSync(SCREENSHOTS, { recursive: true });
});
after(async () => {
  await env?.close();
});

/// axe-core's violations of the page as it is now; fails on any "serious" or "critical"
/// one. (The page's CSP forbids the injected script: the test's context bypasses it.)
async function assertAxeClean(page, what) {
  if (!(await page.evaluate(() => "axe" in window))) await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ["violations"] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 4).map((n) => `${n.target.join(" ")}: ${n.failureSummary}`) }));
  });
  const bad = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  if (process.env.AXE_VERBOSE) console.log(what, JSON.stringify(violations, null, 1));
  assert.deepEqual(bad, [], `${what}: ${JSON.stringify(bad, null, 1)}`);
  return violations;
}

/// Watch, while a job runs, where the page's fixed parts are (the run buttons, status,
/// settings, the results' heading): sampled at every change of the status or elapsed
/// time until the results are drawn. `moves(page)` lists the samples where any moved.
async function watchLayout(page) {
  await page.evaluate(() => {
    const ids = ["run", "cancel", "progress", "status", "controls", "results-heading", "overview", "summary"];
    const where = () => ids.map((id) => {
      const r = document.getElementById(id).getBoundingClientRect();
      return `${id} ${r.x.toFixed(1)},${(r.y + window.scrollY).toFixed(1)} ${r.width.toFixed(1)}x${r.height.toFixed(1)}`;
    });
    // From the job's start (a click may scroll first): the first sample is the reference.
    const watch = { first: null, samples: 0, moves: [] };
    window.__layout = watch;
    const status = document.getElementById("status");
    const sample = () => {
      // The job's end draws its results: from there on, things may move.
      if (document.body.dataset.busy !== "true" || status.textContent.startsWith("done")) return;
      watch.samples += 1;
      const now = where();
      watch.first ??= now;
      const moved = now.filter((w, i) => w !== watch.first[i]);
      if (moved.length && watch.moves.length < 3) watch.moves.push(`${status.textContent}: ${moved.join("; ")} (was ${watch.first.join("; ")})`);
    };
    for (const id of ["status", "elapsed", "progress"]) {
      new MutationObserver(sample).observe(document.getElementById(id), { childList: true, characterData: true, subtree: true, attributes: true });
    }
  });
}

async function layoutMoves(page) {
  return page.evaluate(() => window.__layout);
}

describe("first view, layout and care", () => {
  for (const [width, height] of [[1400, 900], [390, 844]]) {
    for (const scheme of ["light", "dark"]) {
      test(`a bare link compares the schedulers at once, key figures first (${width}x${height}, ${scheme})`, async () => {
        const { page, errors, close } = await openPage(env, "", { viewport: { width, height }, colorScheme: scheme, bypassCSP: true });
        await page.waitForSelector("body[data-jobs-done='1']", { timeout: 120_000 });
        // As a visitor first sees it (before the downloads below scroll the page).
        await page.screenshot({ path: join(SCREENSHOTS, `first-view-${width}x${height}-${scheme}.png`) });
        assert.match(page.url(), /#preset=paper&n=18000&gpus=8&k=8&scheduler=multi_bin_dynamic&load=rps&rps=12&.*&show=compare$/);
        assert.equal(await page.evaluate(() => document.activeElement === document.body), true, "the first view takes no focus");
        assert.match(await page.textContent("#results-note"), /^The first view: every scheduler on the paper's setting, at a load where they differ\./);
        assert.equal(await page.textContent("#results-heading"), "Results: the schedulers compared");

        // The best and the worst by SLAs met, four large figures each.
        const rows = await page.$$eval("#key-figures .key-row", (rs) => rs.map((r) => ({
          scheduler: r.dataset.scheduler,
          title: r.querySelector("h3").textContent,
          labels: [...r.querySelectorAll("dt")].map((d) => d.textContent),
          values: [...r.querySelectorAll("dd .big")].map((d) => d.textContent),
        })));
        assert.equal(rows.length, 2, JSON.stringify(rows));
        const [best, worst] = rows;
        assert.equal(worst.scheduler, "static_fifo");
        assert.equal(worst.title, "Worst: static FIFO");
        assert.equal(best.title, `Best: ${SCHEDULER_WORDS[best.scheduler]}`);
        for (const r of rows) assert.deepEqual(r.labels, ["throughput", "p99 latency", "SLAs met", "GPU utilisation"]);
        const pct = (s) => Number(s.replace(" %", ""));
        assert.ok(pct(best.values[2]) > 90 && pct(worst.values[2]) < 10, `SLAs met: ${best.values[2]} vs ${worst.values[2]}`);
        assert.ok(pct(worst.values[3]) > 90, `static FIFO's GPUs are nearly full: ${worst.values[3]}`);
        assert.match(await page.textContent("#key-figures .story"), /^On the same 18,000 requests and 8 GPUs, .+ meets the SLAs of [\d.]+ % of requests; static FIFO of [\d.]+ %\.$/);

        // Then the comparison's chart, then the other charts, then the details in groups.
        const top = (sel) => page.$eval(sel, (e) => e.getBoundingClientRect().top);
        assert.ok((await top("#key-figures")) < (await top("#overview figure")), "figures, then the comparison");
        assert.ok((await top("#overview figure")) < (await top("#charts")) && (await top("#charts")) < (await top("#summary-table")), "then charts, then details");
        const groups = await page.$$eval("#summary-table tr.group th", (ths) => ths.map((t) => t.textContent));
        assert.deepEqual(groups, ["What ran", "Throughput", "Latency", "SLAs", "Utilisation", "Batches", "Latency model", "Where the numbers come from"]);
        assert.deepEqual(await page.$$eval("#summary-table thead th[scope=col]", (ths) => ths.slice(1).map((t) => t.textContent)), LEGENDS);
        const t = await summary(page);
        assert.deepEqual(t["GPUs"], LEGENDS.map(() => "8"));
        assert.equal(t["Throughput"], undefined, "group headings are no rows of the table");

        if (width === 1400 && scheme === "light") {
          // The comparison's chart: bars per scheduler in words, its settings on it.
          const file = await download(page, "slas_and_utilisation.svg");
          const svg = await assertSvgChart(page, file, {
            title: "Requests meeting their SLAs, and GPU utilisation", legend: LEGENDS, texts: ["SLAs met", "GPU utilisation", FIRST_SETTINGS], bars: 2 * LEGENDS.length,
          });
          assert.ok(file.text.includes(`<desc>Settings: ${FIRST_SETTINGS}</desc>`), file.text.slice(0, 400));
          assert.ok(!file.text.includes("static_fifo"), "words, not spellings");
          // Every chart carries the settings, its legend in words.
          const latency = await parseSvg(page, (await download(page, "latency_percentiles.svg")).text);
          assert.ok(latency.texts.includes(FIRST_SETTINGS) && LEGENDS.every((l) => latency.texts.includes(l)), latency.texts.join("|"));
          assert.ok(svg.bars.some((b) => b.height > 0));
        }

        // Wide: settings beside the results; a phone: one column, nothing wider than it.
        const side = await page.$eval("#side", (e) => e.getBoundingClientRect());
        const results = await page.$eval("#results", (e) => e.getBoundingClientRect());
        if (width === 1400) {
          assert.ok(side.left >= results.right && side.top < results.bottom, `side by side: ${JSON.stringify({ side, results })}`);
          assert.equal(await page.$eval("#side", (e) => getComputedStyle(e).overflowY), "auto", "the settings scroll on their own");
        } else {
          assert.ok(side.top >= results.bottom, "one column, results first");
          const wide = await page.evaluate(() => document.documentElement.scrollWidth);
          assert.ok(wide <= 390, `the page is ${wide} px wide`);
        }
        // Dark: the page and the charts' background are dark, their text light.
        const colours = await page.evaluate(() => ({
          body: getComputedStyle(document.body).backgroundColor,
          chart: getComputedStyle(document.querySelector("#charts svg rect")).fill,
          text: getComputedStyle(document.querySelector("#charts svg text")).fill,
        }));
        const light = scheme === "light";
        assert.deepEqual(colours, light
          ? { body: "rgb(255, 255, 255)", chart: "rgb(255, 255, 255)", text: "rgb(0, 0, 0)" }
          : { body: "rgb(22, 24, 28)", chart: "rgb(29, 32, 38)", text: "rgb(230, 230, 230)" });

        await assertAxeClean(page, `first view ${width}x${height} ${scheme}`);
        assert.deepEqual(errors, []);
        await close();
      });
    }
  }

  test("after Run: the results take focus, say when the settings change, and nothing moves while it runs", async () => {
    const { page, errors, close } = await openPage(env, "preset=paper&n=10000&gpus=2&k=3&scheduler=multi_bin_dynamic", { viewport: { width: 1400, height: 900 }, bypassCSP: true });
    assert.equal(await page.locator("#key-figures").count(), 0, "a link without show= runs nothing");
    await watchLayout(page);
    await runJob(page, "#run");
    const watched = await layoutMoves(page);
    assert.ok(watched.samples > 1, "sampled while it ran");
    assert.deepEqual(watched.moves, []);
    assert.equal(await page.evaluate(() => document.activeElement.id), "results-heading");
    assert.equal(await page.textContent("#results-heading"), "Results: one run");
    assert.equal(await page.textContent("#results-note"), "");
    assert.deepEqual(await page.$$eval("#key-figures .key-row h3", (hs) => hs.map((h) => h.textContent)), ["This run: multi-bin dynamic"]);
    assert.equal(await page.locator("#overview figure").count(), 0, "one run: no comparison chart");
    assert.match(page.url(), /&show=run$/);
    await assertAxeClean(page, "after a run");

    // A setting changed: the results are marked as the previous settings', the link no
    // longer reproduces them; set back, they are current again.
    await setValue(page, "#gpus", 3);
    assert.equal(await page.getAttribute("#results", "data-stale"), "true");
    assert.equal(await page.textContent("#results-note"), "These results are for the previous settings: press Run to see yours.");
    assert.doesNotMatch(page.url(), /show=/);
    await setValue(page, "#gpus", 2);
    assert.equal(await page.getAttribute("#results", "data-stale"), null);
    assert.equal(await page.textContent("#results-note"), "");
    assert.match(page.url(), /&show=run$/);

    // Changed while a job runs (in the task that started it: before it can end): its
    // results come marked.
    await page.evaluate(() => {
      document.getElementById("compare").click();
      const predictor = document.getElementById("predictor");
      predictor.value = "oracle";
      predictor.dispatchEvent(new Event("change", { bubbles: true }));
    });
    await page.waitForSelector("body[data-jobs-done='2']", { timeout: 120_000 });
    assert.equal(await page.getAttribute("#results", "data-stale"), "true");
    assert.match(await page.textContent("#results-note"), /press Compare schedulers/);
    assert.doesNotMatch(page.url(), /show=/);

    // A control the keyboard reaches is shown whole, not under the sticky run buttons:
    // focused from the settings' bottom, or from just under those buttons.
    for (const [id, from] of ["preset", "requests", "seed", "kappa", "tokencpu", "sweep-x"].flatMap((id) => [[id, "bottom"], [id, "under"]])) {
      await page.$eval(`#${id}`, (e, from) => {
        const side = document.getElementById("side");
        document.activeElement.blur();
        if (from === "bottom") side.scrollTo(0, side.scrollHeight);
        else side.scrollBy(0, e.getBoundingClientRect().top - document.getElementById("run-bar").getBoundingClientRect().bottom + 40);
      }, from);
      const hidden = await page.$eval(`#${id}`, (e) => {
        e.focus();
        if (document.activeElement !== e) return "not focusable";
        const r = e.getBoundingClientRect();
        const at = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        return at === e || e.contains(at) ? null : at?.outerHTML.slice(0, 80);
      });
      assert.equal(hidden, null, `#${id}, focused from the ${from}: under something`);
    }

    // Focus is visible: the keyboard's next stop has an outline.
    await page.keyboard.press("Tab");
    const ring = await page.evaluate(() => {
      const s = getComputedStyle(document.activeElement);
      return [document.activeElement.matches(":focus-visible"), s.outlineStyle, s.outlineWidth];
    });
    assert.deepEqual(ring, [true, "solid", "3px"]);
    assert.deepEqual(errors, []);
    await close();
  });

  test("sweep and capacity results: legends in words, settings on the charts, no layout shift, axe clean", async () => {
    const fragment = "preset=paper&n=1000&sx=gpus&sxv=1,2,4&ss=scheduler&ssv=static_fifo,multi_bin_dynamic&seeds=2&metric=throughput_rps&target=0.9";
    const { page, errors, close } = await openPage(env, fragment, { viewport: { width: 1400, height: 900 }, bypassCSP: true });
    await watchLayout(page);
    await runJob(page, "#sweep");
    const watched = await layoutMoves(page);
    assert.ok(watched.samples > 1);
    assert.deepEqual(watched.moves, []);
    assert.equal(await page.textContent("#results-heading"), "Results: the sweep");
    assert.equal(await page.locator("#key-figures").count(), 0);
    const sweep = await parseSvg(page, (await download(page, "sweep.svg")).text);
    for (const text of ["static FIFO", "multi-bin dynamic", "preset paper · 1000 requests · K = 8 · load: arrival times ÷ 100 · varied: GPUs, Scheduler, Seed"]) {
      assert.ok(sweep.texts.includes(text), `${text}: ${sweep.texts.join("|")}`);
    }
    await assertAxeClean(page, "sweep");

    await runJob(page, "#capacity");
    assert.equal(await page.textContent("#results-heading"), "Results: each scheduler's capacity");
    const capacity = await parseSvg(page, (await download(page, "capacity.svg")).text);
    assert.ok(capacity.texts.some((t) => t.startsWith("static FIFO: ")), capacity.texts.join("|"));
    assert.ok(capacity.texts.includes("preset paper · 1000 requests · 4 GPUs · K = 8 · seed 42 · varied: RPS scaling factor, Scheduler"), capacity.texts.join("|"));
    await assertAxeClean(page, "capacity");
    assert.deepEqual(errors, []);
    await close();
  });
});
