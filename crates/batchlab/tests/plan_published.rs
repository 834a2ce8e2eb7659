//! The plan beside dd5f07f's published runs (`plan::published`,
//! `<prefix>_published_vs_reproduced.csv`): one row per plan run, the published cells
//! filled exactly where a published run has the run's configuration, and the shape both
//! sides share. No published number is copied here as an expected result.

use batchlab::config::{Preset, Synthetic};
use batchlab::latency::CalibrationGrid;
use batchlab::plan::published::runs;
use batchlab::plan::{run_plan, Hooks, PlanResult, PlanSpec};
use batchlab::report::plan_files;
use batchlab::workload::Source;

/// `compat`'s plan (the dd5f07f setting: x200, 1.0 s) capped at 10,000 requests and 4 GPUs.
fn compat_plan() -> PlanResult {
    let mut spec = PlanSpec::new(Preset::Compat);
    spec.max_requests = 10_000;
    spec.max_gpus = 4;
    run_plan(
        Source::Synthetic(Synthetic::BurstGpt),
        &CalibrationGrid::for_preset(Preset::Compat),
        &spec,
        Hooks { clock: &|| 0.0, progress: &mut |_| true },
    )
    .unwrap()
}

fn records(csv: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(csv.as_bytes());
    let header = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader.records().map(|r| r.unwrap().iter().map(String::from).collect()).collect();
    (header, rows)
}

#[test]
fn every_plan_run_has_a_row_and_the_published_cells_where_a_published_run_matches() {
    let plan = compat_plan();
    let files = plan_files(&plan, "p");
    let (name, csv) = files.last().unwrap();
    assert_eq!(name, "p_published_vs_reproduced.csv");
    let (header, rows) = records(csv);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"));
    assert_eq!(rows.len(), plan.runs.len());
    let published = runs();
    let mut matched = 0;
    for (row, run) in rows.iter().zip(&plan.runs) {
        assert_eq!(row[col("label")], run.label);
        let config = &run.result.as_ref().unwrap().config;
        let twin = published.iter().find(|p| p.matches(config));
        assert_eq!(row[col("published_file")].is_empty(), twin.is_none(), "{}", run.label);
        for key in ["request_sla_violation_rate", "throughput_rps", "latency_p99_s", "capacity_qps_under_sla"] {
            assert!(!row[col(&format!("{key}_reproduced"))].is_empty(), "{key}: {}", run.label);
            assert_eq!(row[col(&format!("{key}_published"))].is_empty(), twin.is_none(), "{key}: {}", run.label);
        }
        if twin.is_some() {
            matched += 1;
            // compat is dd5f07f's setting: x200 and a 1.0 s deadline.
            assert_eq!(row[col("same_setting")], "true", "{}", run.label);
        }
    }
    // Step 1 at 1K and 10K (5 configurations each) and step 2 at 10K on 1, 2, 4 GPUs
    // were all published; step 3's K vary.
    let steps_1_2 = plan.runs.iter().filter(|r| r.step < 3).count();
    assert_eq!(steps_1_2, 13);
    assert!(matched >= steps_1_2, "{matched} matched");

    // The shape: in step 2, violations fall as GPUs are added, published and reproduced.
    let step2: Vec<&Vec<String>> = rows.iter().filter(|r| r[col("step")] == "2").collect();
    assert_eq!(step2.iter().map(|r| r[col("gpus")].as_str()).collect::<Vec<_>>(), ["1", "2", "4"]);
    for side in ["published", "reproduced"] {
        let v: Vec<f64> = step2.iter().map(|r| r[col(&format!("request_sla_violation_rate_{side}"))].parse().unwrap()).collect();
        assert!(v.windows(2).all(|w| w[1] < w[0]), "{side}: {v:?}");
    }
}

#[test]
fn a_plan_off_the_published_configurations_has_empty_published_cells() {
    let mut spec = PlanSpec::new(Preset::Compat);
    spec.steps = [false, true, false];
    spec.max_requests = 3_000;
    spec.max_gpus = 2;
    let plan = run_plan(
        Source::Synthetic(Synthetic::BurstGpt),
        &CalibrationGrid::for_preset(Preset::Compat),
        &spec,
        Hooks { clock: &|| 0.0, progress: &mut |_| true },
    )
    .unwrap();
    let (header, rows) = records(&plan_files(&plan, "p").last().unwrap().1);
    let published = header.iter().enumerate().filter(|(_, h)| h.starts_with("published_") || h.ends_with("_published"));
    let columns: Vec<usize> = published.map(|(i, _)| i).collect();
    assert_eq!(columns.len(), 4 + 8);
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| columns.iter().all(|&c| r[c].is_empty())));
}
