// The arrival rate typed in requests per second, beside the RPS scaling factor: typing it
// sets the factor (rate ÷ the source's own rate) and so the link, which carries the factor
// alone; typing the factor rewrites the rate; a run on a trace arrives at the rate typed;
// a rate that gives no factor is listed and marked like any control's bad value; axe-core
// finds nothing serious. dist/ must be built (scripts/test-browser.sh).
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { launch, openPage, ROOT, runJob, setValue, summary, problems } from "./helpers.mjs";

const AXE = join(ROOT, "tests/browser/node_modules/axe-core/axe.min.js");

let env;
before(async () => {
  env = await launch();
});
after(async () => {
  await env?.close();
});


/// axe-core's serious or critical violations of the page as it is now (none expected).
async function axeSerious(page) {
  if (!(await page.evaluate(() => "axe" in window))) await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ["violations"] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 4).map((n) => `${n.target.join(" ")}: ${n.failureSummary}`) }));
  });
  return violations.filter((v) => v.impact === "serious" || v.impact === "critical");
}

const fragmentValue = (page, key) => new URL(page.url()).hash.slice(1).split("&").find((kv) => kv.startsWith(`${key}=`))?.slice(key.length + 1);

const BAD_RATE = (got) =>
  `Arrival rate: must be a positive number of requests per second; it sets the RPS scaling factor to the rate ÷ 0.271 req/s, the source's own rate (${got})`;

describe("the arrival rate beside the factor", () => {
  test("typing a rate sets the factor and the link; typing the factor rewrites the rate; a link's factor shows its rate", async () => {
    const { page, errors, close } = await openPage(env, "preset=paper&n=1000", { bypassCSP: true });
    // The paper's factor of 100 on one request per 3.69 s.
    assert.equal(await page.inputValue("#rps"), "100");
    assert.equal(await page.inputValue("#rate"), "27.1003");
    assert.equal(await page.getAttribute("#rate", "aria-describedby"), "rate-desc rps-info");

    await setValue(page, "#rate", "10");
    assert.equal(await page.inputValue("#rps"), "36.9", "factor = rate × 3.69 s");
    assert.equal(fragmentValue(page, "rps"), "36.9", "the link carries the factor");
    assert.equal(fragmentValue(page, "rate"), undefined, "and no rate");
    assert.equal(await page.inputValue("#rate"), "10", "the rate stays as typed");
    assert.match(await page.textContent("#rps-info"), /\(10\.0 req\/s, the synthetic BurstGPT-like workload's mean 0\.271 req\/s × 36\.9\)/);

    await setValue(page, "#rps", "200");
    assert.equal(await page.inputValue("#rate"), "54.2005");
    assert.equal(fragmentValue(page, "rps"), "200");

    // Real timestamps: no factor, so no rate to type; the source's own rate is shown.
    await page.selectOption("#load", "real");
    assert.equal(await page.isDisabled("#rate"), true);
    assert.equal(await page.inputValue("#rate"), "0.271003");
    await page.selectOption("#load", "rps");
    assert.equal(await page.isDisabled("#rate"), false);
    assert.equal(await page.inputValue("#rate"), "54.2005");
    assert.deepEqual(await axeSerious(page), []);

    // A link's factor shows its rate.
    await page.goto(env.server.url + "#preset=paper&n=1000&rps=36.9");
    await page.waitForSelector("body[data-worker=ready]");
    assert.equal(await page.inputValue("#rate"), "10");
    // Another preset's source: continuous batching's Poisson arrivals at 50 req/s.
    await page.selectOption("#preset", "h100-llama3.1-8b");
    const factor = Number(await page.inputValue("#rps"));
    assert.equal(await page.inputValue("#rate"), String(50 * factor));
    await setValue(page, "#rate", "75");
    assert.equal(await page.inputValue("#rps"), "1.5");
    assert.deepEqual(errors, []);
    await close();
  });

  test("a bad rate is listed and marked in page order, blocks a job, and goes once fixed", async () => {
    const { page, errors, close } = await openPage(env, "preset=paper&n=1000", { bypassCSP: true });
    const url = page.url();
    await setValue(page, "#rate", "-5");
    let now = await problems(page);
    assert.deepEqual(now.lines, [BAD_RATE("got '-5'")]);
    assert.deepEqual(now.marks, { rate: BAD_RATE("got '-5'") });
    assert.equal(await page.inputValue("#rps"), "100", "the factor is kept");
    assert.equal(page.url(), url, "the link is kept");
    assert.deepEqual(await axeSerious(page), [], "axe-clean with the rate marked");

    // Listed in page order among other bad values: before the per-token SLA's below it.
    await setValue(page, "#dtoken", "-1");
    now = await problems(page);
    assert.deepEqual(now.lines, [BAD_RATE("got '-5'"), "Per-token SLA: must be a positive number (got '-1')"]);
    assert.deepEqual(Object.keys(now.marks).sort(), ["dtoken", "rate"]);
    await setValue(page, "#dtoken", "0.01");

    // Empty, and a rate whose factor would not be a number.
    await setValue(page, "#rate", "");
    assert.deepEqual((await problems(page)).lines, [BAD_RATE("it is empty")]);
    await setValue(page, "#rate", "1e308");
    assert.deepEqual((await problems(page)).lines, [BAD_RATE("got '1e308'")]);

    // A job does not start on it: the rate takes the focus.
    await page.click("#run");
    assert.equal(await page.getAttribute("body", "data-busy"), "false");
    assert.equal(await page.evaluate(() => document.activeElement.id), "rate");

    // Typing the factor puts a good rate back; so does typing a good rate.
    await setValue(page, "#rps", "50");
    assert.deepEqual(await problems(page), { lines: [], marks: {} });
    assert.equal(await page.inputValue("#rate"), "13.5501");
    await setValue(page, "#rate", "-1");
    await setValue(page, "#rate", "2");
    assert.deepEqual(await problems(page), { lines: [], marks: {} });
    assert.equal(await page.inputValue("#rps"), "7.38");
    assert.deepEqual(errors, []);
    await close();
  });

  test("on a trace, the rate typed is the rate the run's arrivals have", async () => {
    const { page, errors, close } = await openPage(env, "preset=paper&n=1000");
    await page.setInputFiles("#trace-file", join(ROOT, "tests/browser/fixtures/burstgpt_sample.csv"));
    await page.waitForFunction(() => /600 rows loaded/.test(document.getElementById("file-info").textContent));
    await page.waitForFunction(() => !document.getElementById("rate").disabled);
    const own = /its own rate: ([\d.]+) req\/s/.exec(await page.textContent("#trace-load"))[1];
    // The trace's own rate × the factor (100), to the field's 6 digits.
    const rateAt100 = Number(await page.inputValue("#rate"));
    assert.ok(Math.abs(rateAt100 / (100 * Number(own)) - 1) < 0.005, `${rateAt100} vs ${own} × 100`);

    await setValue(page, "#rate", "5");
    const factor = Number(await page.inputValue("#rps"));
    assert.equal(fragmentValue(page, "rps"), String(factor));
    assert.match(await page.textContent("#trace-load"), /this trace arrives at 5\.00 req\/s/);
    await runJob(page, "#run");
    // 600 requests over the trace's span: the run's rate counts the 599 gaps between them,
    // the trace's own rate its 600 rows, so the run arrives at 5 × 599/600 req/s.
    assert.deepEqual((await summary(page))["requests completed"], ["600"]);
    const [shown] = (await summary(page))["arrival rate"];
    const m = /^([\d.]+) req\/s$/.exec(shown);
    assert.ok(m, shown);
    assert.ok(Math.abs(Number(m[1]) - (5 * 599) / 600) <= 0.005, `${shown} vs 5 × 599/600 req/s`);
    assert.deepEqual(errors, []);
    await close();
  });
});
