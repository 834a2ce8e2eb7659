//! The plan's runs beside the published ones of the same configuration
//! (`plan::published`): `<prefix>_published_vs_reproduced.csv`, one row per plan run,
//! and the metrics both sides are compared on, for the page's table too.

use super::{fmt_f64, load_cell, text};
use crate::plan::published::{pair, runs as published_runs, PublishedRun};
use crate::plan::PlanRun;
use crate::run::RunResult;

/// The compared metrics (`metrics_table` keys), each with a published column.
pub const COMPARED: [&str; 7] = [
    "request_sla_violation_rate",
    "throughput_rps",
    "throughput_tokens_per_s",
    "latency_mean_s",
    "latency_p99_s",
    "gpu_util_mean",
    "batch_size_mean",
];

/// The capacity as dd5f07f defines it: requests meeting the request deadline per second
/// of makespan (BatchLab's `capacity_under_sla_rps` also asks for the per-token SLA).
pub const CAPACITY: &str = "capacity_qps_under_sla";

/// `CAPACITY` of a run: its throughput times the share meeting the request deadline
/// (of a published run: the published column).
pub fn capacity(r: &RunResult, published: bool) -> f64 {
    if published {
        r.metrics.capacity_under_sla_rps
    } else {
        r.metrics.throughput_rps * (1.0 - r.metrics.request_sla_violation_rate)
    }
}

/// The file's name after the plan's prefix.
pub const FILE: &str = "published_vs_reproduced.csv";

/// One row per plan run: its configuration, the matched published run's (empty when
/// none), whether load factor and request deadline are the same, then each compared
/// metric published and reproduced.
pub fn published_vs_reproduced_csv(runs: &[PlanRun]) -> String {
    let mut header: Vec<String> = [
        "step", "label", "status", "scheduler", "requests", "gpus", "k_bins", "load", "d_sla_request_s", "published_file",
        "published_timestamp", "published_load", "published_d_sla_s", "same_setting",
    ]
    .map(String::from)
    .to_vec();
    for key in COMPARED.iter().chain([&CAPACITY]) {
        header.push(format!("{key}_published"));
        header.push(format!("{key}_reproduced"));
    }
    let mut out = header.join(",") + "\n";
    let published = published_runs();
    for (run, p) in pair(runs, &published) {
        out += &row(run, p).join(",");
        out.push('\n');
    }
    out
}

fn row(run: &PlanRun, p: Option<&PublishedRun>) -> Vec<String> {
    let mut cells = vec![run.step.to_string(), text(&run.label)];
    let Ok(r) = &run.result else {
        cells.push("error".into());
        cells.resize(14 + 2 * (COMPARED.len() + 1), String::new());
        return cells;
    };
    let c = &r.config;
    cells.extend([
        "ok".into(),
        c.scheduler.to_string(),
        c.requests.to_string(),
        c.gpus.to_string(),
        if c.scheduler.uses_bins() { c.k_bins.to_string() } else { "1".into() },
        load_cell(&c.load),
        fmt_f64(c.d_sla_request_s),
    ]);
    let theirs = p.map(PublishedRun::as_result);
    match (p, &theirs) {
        (Some(p), Some(t)) => cells.extend([
            p.file.to_string(),
            text(p.timestamp()),
            load_cell(&t.config.load),
            fmt_f64(p.d_sla_s),
            p.same_setting(c).to_string(),
        ]),
        _ => cells.extend(std::iter::repeat_n(String::new(), 5)),
    }
    let cell = |m: &super::metrics_table::Metric, x: Option<&RunResult>| x.map_or(String::new(), |x| m.csv(x));
    for key in COMPARED {
        let m = super::metrics_table::metric(key);
        cells.push(cell(m, theirs.as_ref()));
        cells.push(cell(m, Some(r)));
    }
    cells.push(theirs.as_ref().map_or(String::new(), |t| fmt_f64(capacity(t, true))));
    cells.push(fmt_f64(capacity(r, false)));
    cells
}
