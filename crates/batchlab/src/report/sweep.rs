//! A sweep's files: `sweep_runs.csv` (one row per run: its index, its axis values, then
//! the run CSV's columns), `sweep_summary.csv` (per setting of the axes other than the
//! seed: the mean and 95% interval of the key metrics over the seeds), and for a shard
//! `sweep_shard.json`, which says which runs of which spec it holds so that `merge`
//! can check and join shards into exactly the whole sweep's bytes.
//!
//! The summary is computed from the runs CSV itself, so a merged sweep and a whole one
//! have the same summary to the byte.

use serde::{Deserialize, Serialize};

use super::{fmt_f64, row, text};
use crate::error::{Error, Result};
use crate::run::RunResult;
use crate::sweep::{cell, describe, mean_ci95, Axis, SweepPoint, SEED_AXIS};

pub const RUNS_FILE: &str = "sweep_runs.csv";
pub const SUMMARY_FILE: &str = "sweep_summary.csv";
pub const SHARD_FILE: &str = "sweep_shard.json";

/// The metrics the summary averages (CSV columns of the run).
pub const SUMMARY_METRICS: &[&str] = &[
    "throughput_rps",
    "latency_mean_s",
    "latency_p99_s",
    "ttft_p99_s",
    "tbt_p99_s",
    "request_sla_violation_rate",
    "token_sla_violation_rate",
    "capacity_under_sla_rps",
    "slo_attainment",
    "gpu_util_mean",
];

/// Which runs of which spec a shard holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardInfo {
    pub spec_fingerprint: String,
    pub shard: usize,
    pub shards: usize,
    pub first_run: usize,
    pub end_run: usize,
    pub total_runs: usize,
    /// The axes' fields, for the summary of a merge.
    pub axes: Vec<String>,
}

impl ShardInfo {
    /// A shard's `sweep_shard.json` as `batchlab merge` reads it; `file` names it in errors.
    pub fn parse_json(bytes: &[u8], file: &str) -> Result<ShardInfo> {
        serde_json::from_slice(bytes).map_err(|e| Error::input(file, None, None, format!("not a shard's info: {e}")))
    }
}

fn header(axes: &[String]) -> String {
    let mut cols = vec!["sweep_index".to_string()];
    cols.extend(axes.iter().map(|a| format!("axis_{a}")));
    cols.extend(row("", "", &Err(String::new())).into_iter().map(|(n, _)| n.to_string()));
    cols.join(",")
}

/// The runs CSV of `runs` (in index order).
pub fn runs_csv(axes: &[Axis], runs: &[(SweepPoint, std::result::Result<RunResult, String>)]) -> String {
    let names: Vec<String> = axes.iter().map(|a| a.field.clone()).collect();
    let mut out = header(&names);
    out.push('\n');
    for (point, result) in runs {
        let mut cells = vec![point.index.to_string()];
        cells.extend(point.values.iter().map(|v| text(&cell(v))));
        let label = describe(axes, &point.values);
        cells.extend(row("", &label, result).into_iter().map(|(_, v)| v));
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

/// The summary CSV of a runs CSV with these axes.
pub fn summary_csv(axes: &[String], runs_csv: &str) -> Result<String> {
    let fail = |msg: String| Error::input(RUNS_FILE, None, None, msg);
    let mut reader = csv::ReaderBuilder::new().from_reader(runs_csv.as_bytes());
    let head: Vec<String> = reader.headers().map_err(|e| fail(e.to_string()))?.iter().map(str::to_string).collect();
    let col = |name: &str| head.iter().position(|h| h == name).ok_or_else(|| fail(format!("no column {name}")));
    let group_axes: Vec<&String> = axes.iter().filter(|a| a.as_str() != SEED_AXIS).collect();
    let group_cols: Vec<usize> = group_axes.iter().map(|a| col(&format!("axis_{a}"))).collect::<Result<_>>()?;
    let metric_cols: Vec<usize> = SUMMARY_METRICS.iter().map(|m| col(m)).collect::<Result<_>>()?;
    // Groups in order of first appearance (the sweep's order).
    let mut groups: Vec<(Vec<String>, Vec<Vec<f64>>)> = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| fail(e.to_string()))?;
        let key: Vec<String> = group_cols.iter().map(|&c| record.get(c).unwrap_or("").to_string()).collect();
        let values: Vec<f64> = metric_cols.iter().map(|&c| record.get(c).and_then(|v| v.parse().ok()).unwrap_or(f64::NAN)).collect();
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, rows)) => rows.push(values),
            None => groups.push((key, vec![values])),
        }
    }
    let mut cols: Vec<String> = group_axes.iter().map(|a| format!("axis_{a}")).collect();
    cols.push("runs".into());
    for m in SUMMARY_METRICS {
        cols.push(format!("{m}_mean"));
        cols.push(format!("{m}_ci95"));
    }
    let mut out = cols.join(",");
    out.push('\n');
    for (key, rows) in groups {
        let mut cells: Vec<String> = key.iter().map(|k| text(k)).collect();
        cells.push(rows.len().to_string());
        for m in 0..SUMMARY_METRICS.len() {
            let xs: Vec<f64> = rows.iter().map(|r| r[m]).filter(|x| x.is_finite()).collect();
            let (mean, ci) = mean_ci95(&xs);
            cells.push(fmt_f64(mean));
            cells.push(fmt_f64(ci));
        }
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    Ok(out)
}

/// Join shards (their info and runs CSV, any order) into the whole sweep's runs and
/// summary CSVs; an error if they come from different specs, overlap or leave a gap.
pub fn merge(mut shards: Vec<(ShardInfo, String)>) -> Result<(String, String)> {
    let fail = |msg: String| Error::input(SHARD_FILE, None, None, msg);
    let Some((first, _)) = shards.first() else { return Err(fail("no shard to merge".into())) };
    let (fingerprint, total, axes) = (first.spec_fingerprint.clone(), first.total_runs, first.axes.clone());
    for (info, _) in &shards {
        if info.spec_fingerprint != fingerprint || info.total_runs != total || info.axes != axes {
            return Err(fail(format!(
                "shards of different specs (fingerprints {} and {}): merge the shards of one sweep",
                fingerprint, info.spec_fingerprint
            )));
        }
        // (A shard past the sweep's end used to underflow the message below.)
        if info.first_run > info.end_run || info.end_run > total {
            return Err(fail(format!(
                "shard {} of {}: its runs (from {} up to {}) are not within the sweep's {total}",
                info.shard, info.shards, info.first_run, info.end_run
            )));
        }
    }
    shards.sort_by_key(|(info, _)| info.first_run);
    let mut out = header(&axes);
    out.push('\n');
    let mut next = 0;
    for (info, csv) in &shards {
        if info.first_run != next {
            let what = if info.first_run < next { "overlap" } else { "leave a gap" };
            return Err(fail(format!("the shards {what} at run {} (shard {} of {})", info.first_run.min(next), info.shard, info.shards)));
        }
        let mut lines = csv.lines();
        if lines.next() != Some(header(&axes).as_str()) {
            return Err(fail(format!("shard {} of {}: its runs CSV does not have the sweep's columns", info.shard, info.shards)));
        }
        for line in lines {
            out.push_str(line);
            out.push('\n');
        }
        next = info.end_run;
    }
    if next != total {
        return Err(fail(format!("runs {next} to {} are in no shard given", total - 1)));
    }
    let summary = summary_csv(&axes, &out)?;
    Ok((out, summary))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shard(first_run: usize, end_run: usize, total_runs: usize) -> (ShardInfo, String) {
        let axes = vec!["seed".to_string()];
        let info = ShardInfo { spec_fingerprint: "f".into(), shard: 1, shards: 2, first_run, end_run, total_runs, axes: axes.clone() };
        (info, format!("{}\n", header(&axes)))
    }

    /// Found by the shard_merge fuzz target: a shard info saying it ends past the sweep's
    /// end used to underflow `total - 1` (a panic in a debug build, a wrong run number in
    /// a release one).
    #[test]
    fn a_shard_past_the_sweeps_end_is_a_one_line_error() {
        for bad in [shard(0, 2, 0), shard(0, 5, 3), shard(2, 1, 3)] {
            let e = merge(vec![bad]).unwrap_err().to_string();
            assert!(e.contains("are not within the sweep's"), "{e}");
        }
        assert!(merge(vec![shard(0, 0, 0)]).is_ok());
        let gap = merge(vec![shard(0, 1, 3)]).unwrap_err().to_string();
        assert!(gap.contains("runs 1 to 2 are in no shard given"), "{gap}");
    }
}
