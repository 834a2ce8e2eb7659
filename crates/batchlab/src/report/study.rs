//! The study's files, with the columns and the rounding of the published ones
//! (`step1_grid_search.csv`, `step2_comparison.csv`, one pair per load folder). The
//! published `timestamp` column held the wall-clock date of each run; here it is left
//! empty so that the files are the same on every machine, and `execution_time_s` (the
//! run's wall time, rounded to 0.1 s) is the only cell that varies.

use crate::study::{round_to, LoadResult, Sensitivity, StudyResult, StudyRun};

pub const STEP1_FILE: &str = "step1_grid_search.csv";
pub const STEP2_FILE: &str = "step2_comparison.csv";
pub const SENSITIVITY_FILE: &str = "figures/sensitivity_analysis.csv";
pub const SEEDS_FILE: &str = "figures/multi_seed_variance.csv";

/// Python's `round(x, digits)` as the published files print it: the nearest value with
/// that many decimals, printed in the shortest form that reads back the same (`96.1`,
/// `0.0`, `1000.0`).
pub fn python_round(x: f64, digits: usize) -> String {
    if !x.is_finite() {
        return if x.is_nan() { "nan".into() } else if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let s = format!("{}", round_to(x, digits));
    if s.contains(['.', 'e']) { s } else { format!("{s}.0") }
}


/// `x` as Python's `repr` prints a float: the shortest form that reads back the same,
/// with `.0` on whole numbers (Python switches to exponents below 1e-4 and from 1e16;
/// no study value gets there).
pub fn python_repr(x: f64) -> String {
    if !x.is_finite() {
        return python_round(x, 0);
    }
    let s = format!("{x}");
    if s.contains(['.', 'e']) { s } else { format!("{s}.0") }
}

/// The columns both files share after their first ones, as (name, cell).
fn metric_cells(r: &StudyRun) -> Vec<(&'static str, String)> {
    let c = &r.result.config;
    let m = &r.result.metrics;
    let f = &r.final_metrics;
    vec![
        ("rps_scaling", python_round(r.rps_scaling, 1)),
        ("d_sla_token_ms", python_round(c.d_sla_token_s * 1000.0, 1)),
        ("d_sla_request_s", python_round(c.d_sla_request_s, 1)),
        ("token_sla_pct", python_round(f.token_sla_violation_rate * 100.0, 3)),
        ("request_sla_pct", python_round(m.request_sla_violation_rate * 100.0, 3)),
        ("avg_ttft_ms", python_round(f.ttft_mean_s * 1000.0, 2)),
        ("avg_decode_tbt_ms", python_round(f.decode_tbt_mean_s * 1000.0, 2)),
        ("avg_tbt_ms", python_round(f.tbt_mean_s * 1000.0, 2)),
        ("avg_latency_s", python_round(m.latency_mean_s, 2)),
        ("p50_latency_s", python_round(m.latency_p50_s, 2)),
        ("p95_latency_s", python_round(m.latency_p95_s, 2)),
        ("p99_latency_s", python_round(m.latency_p99_s, 2)),
        ("avg_queue_delay_s", python_round(m.queue_delay_mean_s, 2)),
        ("avg_service_time_s", python_round(m.service_time_mean_s, 2)),
        ("throughput_tok_s", python_round(m.throughput_tokens_per_s, 1)),
        ("throughput_req_s", python_round(m.throughput_rps, 3)),
        ("avg_batch_size", python_round(m.batch_size_mean, 1)),
        ("gpu_utilization_pct", python_round(m.gpu_util_mean * 100.0, 1)),
        ("execution_time_s", python_round(r.result.wall_time_s, 1)),
        ("completed_requests", m.requests_completed.to_string()),
    ]
}

/// A CSV field, quoted when it holds a comma or a quote (as pandas writes it).
fn field(s: &str) -> String {
    if s.contains([',', '"']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

fn write(rows: Vec<Vec<(&'static str, String)>>, empty_header: &[&str]) -> String {
    let header: Vec<&str> = match rows.first() {
        Some(r) => r.iter().map(|c| c.0).collect(),
        None => empty_header.to_vec(),
    };
    let mut out = header.join(",");
    out.push('\n');
    for r in rows {
        out.push_str(&r.iter().map(|c| field(&c.1)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}

/// A file of `runs`: each row its leading cells (`lead`), then the shared metric cells
/// without `skip`.
fn runs_csv(runs: &[StudyRun], lead: impl Fn(&StudyRun) -> Vec<(&'static str, String)>, skip: &str, empty_header: &[&str]) -> String {
    let rows = runs
        .iter()
        .map(|r| {
            let mut cells = vec![("timestamp", String::new())];
            cells.extend(lead(r));
            cells.extend(metric_cells(r).into_iter().filter(|c| c.0 != skip));
            cells
        })
        .collect();
    write(rows, empty_header)
}

/// `step1_grid_search.csv` of one load.
pub fn step1_csv(load: &LoadResult) -> String {
    let lead = |r: &StudyRun| {
        let c = &r.result.config;
        vec![
            ("num_requests", c.requests.to_string()),
            ("num_gpus", c.gpus.to_string()),
            ("k_bins", c.k_bins.to_string()),
            ("scheduler", c.scheduler.to_string()),
        ]
    };
    runs_csv(&load.grid, lead, "", &["timestamp", "num_requests", "num_gpus", "k_bins", "scheduler"])
}

/// `step2_comparison.csv` of one load (the published one has no `avg_tbt_ms`).
pub fn step2_csv(load: &LoadResult) -> String {
    let lead = |r: &StudyRun| {
        let c = &r.result.config;
        vec![
            ("num_requests", c.requests.to_string()),
            ("method", r.method.clone().unwrap_or_default()),
            ("scheduler_type", c.scheduler.to_string()),
            ("num_gpus", c.gpus.to_string()),
            ("k_bins", c.k_bins.to_string()),
        ]
    };
    runs_csv(&load.comparison, lead, "avg_tbt_ms", &["timestamp", "num_requests", "method", "scheduler_type", "num_gpus", "k_bins"])
}

/// Figure 5's K and GPU runs (`figures/sensitivity_analysis.csv`, unrounded as
/// published; `avg_batch_size` holds the runs' mean batch size, where the published file
/// has 0, a key its metrics did not have).
pub fn sensitivity_csv(s: &Sensitivity) -> String {
    let mut out = String::from("parameter,value,request_sla_pct,throughput_tok_s,p95_latency_s,avg_batch_size\n");
    let k = s.k_runs.iter().map(|r| ("K_BINS", r.result.config.k_bins, r));
    let g = s.gpu_runs.iter().map(|r| ("NUM_GPUS", r.result.config.gpus, r));
    for (parameter, value, r) in k.chain(g) {
        let m = &r.result.metrics;
        out += &format!(
            "{parameter},{value},{},{},{},{}\n",
            python_repr(m.request_sla_violation_rate * 100.0),
            python_repr(m.throughput_tokens_per_s),
            python_repr(m.latency_p95_s),
            python_repr(m.batch_size_mean)
        );
    }
    out
}

/// Figure 5's seed runs (`figures/multi_seed_variance.csv`, unrounded as published).
pub fn seeds_csv(s: &Sensitivity) -> String {
    let mut out = String::from("seed,request_sla_pct,throughput_tok_s,p95_latency_s,p99_latency_s,avg_latency_s\n");
    for r in &s.seed_runs {
        let m = &r.result.metrics;
        out += &format!(
            "{},{},{},{},{},{}\n",
            r.result.config.seed,
            python_repr(m.request_sla_violation_rate * 100.0),
            python_repr(m.throughput_tokens_per_s),
            python_repr(m.latency_p95_s),
            python_repr(m.latency_p99_s),
            python_repr(m.latency_mean_s)
        );
    }
    out
}

/// Every file of the study: (path relative to the output folder, contents).
pub fn study_files(study: &StudyResult) -> Vec<(String, String)> {
    let mut files = Vec::new();
    for load in &study.loads {
        files.push((format!("{}/{STEP1_FILE}", load.folder), step1_csv(load)));
        files.push((format!("{}/{STEP2_FILE}", load.folder), step2_csv(load)));
    }
    if let Some(s) = &study.sensitivity {
        files.push((SENSITIVITY_FILE.to_string(), sensitivity_csv(s)));
        files.push((SEEDS_FILE.to_string(), seeds_csv(s)));
    }
    files
}
