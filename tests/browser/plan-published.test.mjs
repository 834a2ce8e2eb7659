// The stress plan beside the original's published runs (issue 11): under the plan's runs
// the page shows each run with the published run of its configuration, says where those
// come from, and offers the same comparison CSV as `batchlab stress`.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { csvRecords, download, launch, openPage, runCli, runJob } from "./helpers.mjs";

let env;
before(async () => {
  env = await launch();
});
after(async () => {
  await env?.close();
});

test("the compat plan capped at 10,000 requests shows and downloads its runs beside the published ones, as the CLI writes them", async () => {
  const { page, close } = await openPage(env, "preset=compat");
  await page.selectOption("#cap", "10000");
  await runJob(page, "#plan");
  const name = "comprehensive_stress_results_published_vs_reproduced.csv";
  const file = await download(page, name);
  const cli = readFileSync(join(runCli(["stress", "--preset", "compat", "--max-requests", "10000"]), name), "utf8");
  assert.equal(file.text, cli, "the page's file is the CLI's, byte for byte");
  const rows = csvRecords(file.text);
  assert.equal(rows.length, 24, "one row per run");
  const matched = rows.filter((r) => r.published_file !== "");
  assert.ok(matched.length >= 13, `steps 1 and 2 were published: ${matched.length}`);

  const note = await page.locator("#plan-published-note").textContent();
  assert.ok(note.startsWith(`${matched.length} of the 24 runs have a published run`), note);
  const caption = await page.locator("#plan-published caption").textContent();
  assert.ok(caption.includes("TravisLeeTS/llm-scheduler-sim at dd5f07f"), caption);
  const cells = await page.locator("#plan-published tbody tr").evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent)));
  assert.equal(cells.length, 24);
  cells.forEach((row, i) => {
    // step, run, setting, then (ours, published) per metric: a published cell is "–"
    // exactly where the CSV has no published run.
    assert.equal(row.length, 3 + 2 * 8, `row ${i}`);
    const published = row.slice(3).filter((_, j) => j % 2 === 1);
    const has = rows[i].published_file !== "";
    assert.equal(row[2], has ? "same" : "–", `row ${i}`);
    assert.ok(published.every((c) => (c === "–") === !has), `row ${i}: ${row}`);
  });
  await close();
});
