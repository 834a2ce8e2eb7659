//! CSV and JSON reports: the only place where output files are formatted, so the CLI and
//! the web app write the same bytes.
//!
//! CSV format (fixed, documented in README): comma-separated, `\n` line ends, a header
//! row; every float printed with exactly 6 decimals by Rust's correctly rounded
//! formatter (identical on every platform); NaN as an empty cell, infinity as `inf`;
//! integers as integers; lists (per-bin values) joined with `;`. The only
//! non-deterministic column is `wall_time_s`, always the last one.
//!
//! `metrics_table` defines each metric once (CSV column, label, kind, accessor) for the
//! CSV and for the tables people read; `human` is the one formatter of those tables.

use crate::analysis::analysis_json;
use crate::config::{Load, Predictor, Synthetic};
use crate::plan::{PlanResult, PlanRun};
use crate::run::RunResult;

pub mod human;
pub mod metrics_table;
pub mod capacity;
pub mod plan_published;
pub mod study;
pub mod sweep;
pub mod timeline;

use metrics_table::{FIT, ITERATION, METRICS, WALL_TIME};


pub fn fmt_f64(x: f64) -> String {
    if x.is_nan() {
        String::new()
    } else if x.is_infinite() {
        if x > 0.0 { "inf" } else { "-inf" }.to_string()
    } else {
        format!("{x:.6}")
    }
}

fn fmt_list<T: Copy>(xs: impl Iterator<Item = T>, f: impl Fn(T) -> String) -> String {
    xs.map(f).collect::<Vec<_>>().join(";")
}

/// Quote a text cell if it needs it (RFC 4180).
fn text(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// A load as the CSVs write it: `rps_scaling:200.000000` or `real_timestamps`.
fn load_cell(load: &Load) -> String {
    match load {
        Load::RpsScaling { factor } => format!("rps_scaling:{}", fmt_f64(*factor)),
        Load::RealTimestamps => "real_timestamps".to_string(),
    }
}

/// The columns of one row: (name, value). Same order for every row of every file.
fn row(step: &str, label: &str, result: &Result<RunResult, String>) -> Vec<(&'static str, String)> {
    let (status, error) = match result {
        Ok(_) => ("ok", String::new()),
        Err(e) => ("error", e.clone()),
    };
    let mut cols: Vec<(&'static str, String)> = vec![
        ("step", step.to_string()),
        ("label", text(label)),
        ("status", status.to_string()),
        ("error", text(&error)),
    ];
    let Ok(r) = result else {
        // A failed run keeps every column, empty, so the file stays rectangular.
        let names = row("", "", &Ok(RunResult::default()));
        cols.extend(names.into_iter().skip(4).map(|(n, _)| (n, String::new())));
        return cols;
    };
    let c = &r.config;
    let f = fmt_f64;
    cols.extend([
        ("scheduler", c.scheduler.to_string()),
        ("gpus", c.gpus.to_string()),
        ("k_bins", if c.scheduler.uses_bins() { c.k_bins.to_string() } else { "1".to_string() }),
        ("bin_policy", c.bin_policy.to_string()),
        ("requests", c.requests.to_string()),
        ("seed", c.seed.to_string()),
        ("workload", text(&r.workload)),
        (
            "synthetic",
            match c.synthetic {
                Synthetic::BurstGpt => c.synthetic.kind().to_string(),
                Synthetic::Poisson { rate_rps } => format!("{}:{}", c.synthetic.kind(), f(rate_rps)),
            },
        ),
        ("load", load_cell(&c.load)),
        (
            "predictor",
            match c.predictor {
                Predictor::Noisy { sigma } => format!("{}:{}", c.predictor.kind(), f(sigma)),
                Predictor::Prompt | Predictor::PromptNumpy | Predictor::Oracle | Predictor::Trace => c.predictor.kind().to_string(),
            },
        ),
        ("calibration", text(&r.calibration)),
        ("latency_mode", c.latency_mode.to_string()),
        ("completion", c.completion.to_string()),
        ("event_order", c.event_order.to_string()),
        ("bin_edge_rule", c.bin_edge_rule.to_string()),
        ("token_semantics", c.token_semantics.to_string()),
        ("token_kappa", f(c.token_kappa)),
        ("token_context_ref_tokens", f(c.token_context_ref_tokens)),
    ]);
    cols.extend(FIT.iter().map(|m| (m.key, m.csv(r))));
    cols.extend([
        ("sla_rules", c.sla.rules.to_string()),
        ("sla_signal", c.sla.signal.to_string()),
        // The target the controller used: its own setting, else the SLA it follows.
        ("sla_d_s", f(c.controller_target_s())),
        ("sla_eps_s", f(c.sla.eps_s)),
        ("sla_feed", c.sla.feed.to_string()),
        ("d_sla_token_s", f(c.d_sla_token_s)),
        ("d_sla_request_s", f(c.d_sla_request_s)),
    ]);
    // Continuous batching's settings: empty for the batch schedulers.
    let it = &c.iteration;
    let continuous = c.scheduler.is_continuous();
    let only = |v: String| if continuous { v } else { String::new() };
    cols.extend([
        ("router", only(it.router.to_string())),
        ("iteration_form", only(it.form.to_string())),
        ("chunked_prefill", only(it.chunked_prefill.to_string())),
        ("max_batched_tokens", only(it.max_batched_tokens.to_string())),
        ("max_seqs", only(it.max_seqs.to_string())),
        ("block_tokens", only(it.block_tokens.to_string())),
        ("kv_watermark", only(f(it.watermark))),
        ("ttft_slo_s", only(f(it.ttft_slo_s))),
        ("tbt_slo_s", only(f(it.tbt_slo_s))),
        ("iteration_cost_source", only(text(r.iteration.as_ref().map_or("", |m| &m.source)))),
    ]);
    cols.extend(ITERATION.iter().map(|m| (m.key, m.csv(r))));
    cols.extend(METRICS.iter().map(|m| (m.key, m.csv(r))));
    cols.extend([
        ("bin_edges", fmt_list(r.bins.iter().skip(1), |b| f(b.predicted_lo))),
        ("bin_requests", fmt_list(r.bins.iter(), |b| b.requests.to_string())),
        ("bin_batch_size_mean", fmt_list(r.bins.iter(), |b| f(b.batch_size_mean))),
        ("bin_output_tokens_min", fmt_list(r.bins.iter(), |b| b.output_tokens_min.to_string())),
        ("bin_output_tokens_max", fmt_list(r.bins.iter(), |b| b.output_tokens_max.to_string())),
        ("bin_latency_mean_s", fmt_list(r.bins.iter(), |b| f(b.latency_mean_s))),
        ("notes", text(&r.notes.join(" "))),
    ]);
    cols.push((WALL_TIME.key, WALL_TIME.csv(r)));
    cols
}

fn table<'a>(rows: impl Iterator<Item = (String, &'a str, &'a Result<RunResult, String>)>) -> String {
    let mut out = String::new();
    let header: Vec<&str> = row("", "", &Err(String::new())).into_iter().map(|(n, _)| n).collect();
    out.push_str(&header.join(","));
    out.push('\n');
    for (step, label, result) in rows {
        let cells: Vec<String> = row(&step, label, result).into_iter().map(|(_, v)| v).collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

/// A one-row CSV (header + row) of a single run; same columns as the plan's CSVs.
pub fn run_csv(r: &RunResult) -> String {
    let res = Ok(r.clone());
    table(std::iter::once((String::new(), "run", &res)))
}

/// The runs of "Compare schedulers" as one CSV: one row per run (label: its scheduler),
/// the plan's columns.
pub fn compare_csv(results: &[RunResult]) -> String {
    let rows: Vec<(String, String, Result<RunResult, String>)> =
        results.iter().map(|r| (String::new(), r.config.scheduler.to_string(), Ok(r.clone()))).collect();
    table(rows.iter().map(|(step, label, r)| (step.clone(), label.as_str(), r)))
}

/// The run as pretty JSON (config, fit, metrics, bins, time series, notes).
pub fn run_json(r: &RunResult) -> String {
    serde_json::to_string_pretty(r).expect("RunResult serialises")
}

fn plan_table<'a>(runs: impl Iterator<Item = &'a PlanRun>) -> String {
    table(runs.map(|r| (r.step.to_string(), r.label.as_str(), &r.result)))
}

/// The plan's files: `<prefix>_step1_request_scaling.csv`, `_step2_gpu_scaling.csv`,
/// `_step3_kbins_sensitivity.csv`, `_all_results.csv`, `_analysis.json`,
/// `_published_vs_reproduced.csv` (the runs beside the published ones), as
/// (file name, contents) in that order.
pub fn plan_files(plan: &PlanResult, prefix: &str) -> Vec<(String, String)> {
    vec![
        (format!("{prefix}_step1_request_scaling.csv"), plan_table(plan.step(1))),
        (format!("{prefix}_step2_gpu_scaling.csv"), plan_table(plan.step(2))),
        (format!("{prefix}_step3_kbins_sensitivity.csv"), plan_table(plan.step(3))),
        (format!("{prefix}_all_results.csv"), plan_table(plan.runs.iter())),
        (format!("{prefix}_analysis.json"), analysis_json(plan)),
        (format!("{prefix}_{}", plan_published::FILE), plan_published::published_vs_reproduced_csv(&plan.runs)),
    ]
}

/// Blank the wall-clock cells of a CSV made here, to compare two runs' bytes.
/// (`wall_time_s` is the last column and numeric, so it is what follows the last comma.)
/// For tests only (the feature `test-support`), so it is no part of the API.
#[cfg(any(test, feature = "test-support"))]
pub fn without_wall_clock(csv: &str) -> String {
    csv.lines().map(|line| match line.rfind(',') {
        Some(i) if !line.ends_with("wall_time_s") => format!("{}\n", &line[..=i]),
        _ => format!("{line}\n"),
    }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_have_a_fixed_format() {
        assert_eq!(fmt_f64(0.1 + 0.2), "0.300000");
        assert_eq!(fmt_f64(1234.5678915), "1234.567892");
        assert_eq!(fmt_f64(f64::NAN), "");
        assert_eq!(fmt_f64(f64::INFINITY), "inf");
        assert_eq!(text("a,b"), "\"a,b\"");
        assert_eq!(text("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn failed_rows_keep_every_column_and_wall_clock_is_last() {
        let ok = row("1", "x", &Ok(RunResult::default()));
        let bad = row("1", "x", &Err("boom, badly".into()));
        assert_eq!(ok.len(), bad.len());
        assert!(ok.iter().zip(&bad).all(|(a, b)| a.0 == b.0));
        assert_eq!(ok.last().unwrap().0, "wall_time_s");
        assert_eq!(bad[3].1, "\"boom, badly\"");
    }

    #[test]
    fn the_csv_header_is_fixed() {
        // The metric columns come from `metrics_table`; this pins their names and order
        // (README's file format) against an edit there.
        let header = concat!(
            "step,label,status,error,scheduler,gpus,k_bins,bin_policy,requests,seed,workload,",
            "synthetic,load,predictor,calibration,latency_mode,completion,event_order,bin_edge_rule,token_semantics,",
            "token_kappa,token_context_ref_tokens,alpha_s,beta_s,gamma,fit_r2,sla_rules,sla_signal,sla_d_s,",
            "sla_eps_s,sla_feed,d_sla_token_s,d_sla_request_s,router,iteration_form,chunked_prefill,max_batched_tokens,max_seqs,",
            "block_tokens,kv_watermark,ttft_slo_s,tbt_slo_s,iteration_cost_source,iteration_c0_s,",
            "iteration_prefill_token_s,iteration_decode_seq_s,iteration_context_token_s,",
            "requests_completed,arrival_rate_rps,makespan_s,",
            "throughput_rps,throughput_tokens_per_s,latency_mean_s,latency_p50_s,latency_p95_s,",
            "latency_p99_s,latency_max_s,queue_delay_mean_s,service_time_mean_s,ttft_p50_s,",
            "ttft_p95_s,ttft_p99_s,ttft_max_s,tbt_p50_s,tbt_p95_s,tbt_p99_s,tbt_max_s,",
            "token_sla_violation_rate,token_sla_violation_rate_tokens,request_sla_violation_rate,",
            "capacity_under_sla_rps,token_sla_can_bind,gpu_util_mean,gpu_util_min,gpu_util_max,",
            "batch_count,batch_size_mean,batch_size_min,batch_size_max,ttft_mean_s,tpot_mean_s,",
            "slo_attainment,slo_goodput_rps,preemptions,kv_util_mean,kv_util_max,bin_edges,bin_requests,",
            "bin_batch_size_mean,bin_output_tokens_min,bin_output_tokens_max,bin_latency_mean_s,",
            "notes,wall_time_s",
        );
        assert_eq!(run_csv(&RunResult::default()).lines().next(), Some(header));
    }

    #[test]
    fn wall_clock_blanking() {
        let csv = "a,b,wall_time_s\n1,2,0.5\n3,4,0.7\n";
        assert_eq!(without_wall_clock(csv), "a,b,wall_time_s\n1,2,\n3,4,\n");
    }
}
