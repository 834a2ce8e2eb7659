//! The analysis of a stress plan: per-step trends, scaling efficiency, saturation, best K
//! and sensitivity, improvements over static_fifo, and key findings written as sentences
//! from the numbers (nothing here is copied from a published table).
//!
//! `analyse` gives a typed [`Analysis`]; shells read its fields, and `analysis_json`
//! serialises it once for the `_analysis.json` file.
//!
//! The file's bytes are pinned by `tests/data/analysis/`. Its keys are in alphabetical
//! order at every level: it used to be built as a `serde_json::Value`, whose map sorts
//! keys. serde writes a struct's fields in declaration order, so every struct below
//! declares its fields alphabetically (a test checks it); maps keyed by data are
//! `BTreeMap`s. Non-finite numbers come out as `null`, serde_json's rule for f64.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::SchedulerKind;
use crate::plan::PlanResult;
use crate::run::RunResult;

/// Relative change above which a trend counts as rising or falling.
const TREND_TOLERANCE: f64 = 0.05;
/// A GPU count is "saturated" once it reaches this share of step 2's best throughput.
const SATURATION_SHARE: f64 = 0.95;

/// The whole analysis. Fields alphabetical: see the module's comment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    pub batchlab_version: &'static str,
    /// Step 3's GPU count (None: step 3 not run) and where it came from.
    pub best_gpu_count: Option<u32>,
    pub best_gpu_count_origin: String,
    /// Sentences, in order: step 1, 2, 3, failed runs, then each run note once.
    pub key_findings: Vec<String>,
    /// Runs of the plan, failed ones included.
    pub runs: usize,
    pub runs_failed: usize,
    pub seed: u64,
    pub source_requests: usize,
    /// Always present (empty when step 1 has no successful run).
    pub step1_request_scaling: RequestScaling,
    /// None (`null`) when step 2 has no successful run.
    pub step2_gpu_scaling: Option<GpuScaling>,
    /// None (`null`) when step 3 has no successful run.
    pub step3_kbins_sensitivity: Option<KSensitivity>,
    pub workload: String,
}

/// Step 1: each configuration over N, and the gains over static_fifo.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequestScaling {
    /// Keyed by the configuration's name, e.g. "multi_bin_dynamic (4 GPUs)".
    pub configs: BTreeMap<String, ConfigSeries>,
    /// One per other run, against static_fifo at the same N, in run order.
    pub improvement_over_static_fifo: Vec<Improvement>,
}

/// One configuration of step 1, a value per N (in run order).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfigSeries {
    pub latency_mean_s: Vec<f64>,
    pub latency_trend: Trend,
    pub request_sla_violation_rate: Vec<f64>,
    /// N of each run, as floats: the file has always written them as `1000.0`.
    pub requests: Vec<f64>,
    pub throughput_rps: Vec<f64>,
    pub throughput_trend: Trend,
    pub violation_trend: Trend,
}

/// One step-1 run against static_fifo (1 GPU in the plan) at the same N, in percent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Improvement {
    pub capacity_gain_pct: f64,
    /// The configuration's name, as in [`RequestScaling::configs`].
    pub config: String,
    /// Positive when the run's mean latency is lower.
    pub latency_mean_reduction_pct: f64,
    pub requests: usize,
    pub throughput_gain_pct: f64,
}

/// Step 2: one value per GPU count (in run order).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GpuScaling {
    /// Of the largest GPU count's run.
    pub arrival_rate_rps: f64,
    pub capacity_under_sla_rps: Vec<f64>,
    pub gpu_util_mean: Vec<f64>,
    pub gpus: Vec<u32>,
    pub latency_mean_s: Vec<f64>,
    pub latency_p99_s: Vec<f64>,
    /// The smallest GPU count reaching 95% (`SATURATION_SHARE`) of the best throughput.
    pub saturation_gpus: Option<u32>,
    pub saturation_rule: String,
    /// Throughput gain over the first run divided by GPU gain: 1.0 = linear.
    pub scaling_efficiency: Vec<f64>,
    pub throughput_rps: Vec<f64>,
    pub throughput_trend: Trend,
}

/// Step 3: one value per K (in run order), all on `gpus` GPUs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KSensitivity {
    pub batch_size_mean: Vec<f64>,
    /// Highest capacity under SLA; ties to the smaller K.
    pub best_k: u32,
    pub best_k_rule: &'static str,
    pub capacity_under_sla_rps: Vec<f64>,
    pub gpus: u32,
    pub k: Vec<u32>,
    pub latency_mean_s: Vec<f64>,
    pub latency_p99_s: Vec<f64>,
    /// From each K to the next (named for the plan's K, which double).
    pub per_doubling: Vec<KChange>,
    pub throughput_rps: Vec<f64>,
    /// (max - min) / min of the throughputs, in percent.
    pub throughput_sensitivity_pct: f64,
}

/// From one K to the next, in percent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KChange {
    pub from_k: u32,
    pub latency_mean_change_pct: f64,
    pub throughput_change_pct: f64,
    pub to_k: u32,
}

/// The direction of a series, from its first to its last value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trend {
    Increasing,
    Decreasing,
    /// Within 5% (`TREND_TOLERANCE`) of the first value.
    Flat,
    /// Fewer than two values, or a first value of 0.
    #[serde(rename = "n/a")]
    NotApplicable,
}

impl Analysis {
    /// The `_analysis.json` file: pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("analysis serialises")
    }

    /// Step 2's saturation point (None: step 2 not run, or no throughput reached it).
    pub fn saturation_gpus(&self) -> Option<u32> {
        self.step2_gpu_scaling.as_ref().and_then(|s| s.saturation_gpus)
    }

    /// Step 2's saturation point where the runs show one: a GPU count (`saturation_gpus`)
    /// after which a larger count was tried and gained at most 1/0.95 - 1 (5.3%) of
    /// throughput. When it is the largest count tried, throughput may still be rising
    /// (e.g. at half the arrival rate): no saturation was seen, and this is None.
    pub fn saturation_seen(&self) -> Option<u32> {
        let s = self.step2_gpu_scaling.as_ref()?;
        s.saturation_gpus.filter(|&g| s.gpus.iter().any(|&other| other > g))
    }
}

fn pct(new: f64, old: f64) -> f64 {
    if old == 0.0 {
        f64::NAN
    } else {
        (new - old) / old * 100.0
    }
}

/// The trend of `values`, from the first to the last.
pub fn trend(values: &[f64]) -> Trend {
    match (values.first(), values.last()) {
        (Some(&a), Some(&b)) if values.len() >= 2 && a != 0.0 => {
            let r = (b - a) / a.abs();
            if r > TREND_TOLERANCE {
                Trend::Increasing
            } else if r < -TREND_TOLERANCE {
                Trend::Decreasing
            } else {
                Trend::Flat
            }
        }
        _ => Trend::NotApplicable,
    }
}

fn ok_runs(plan: &PlanResult, step: u8) -> Vec<&RunResult> {
    plan.step(step).filter_map(|r| r.result.as_ref().ok()).collect()
}

fn config_name(r: &RunResult) -> String {
    format!("{} ({} GPU{})", r.config.scheduler.name(), r.config.gpus, if r.config.gpus == 1 { "" } else { "s" })
}

fn step1(plan: &PlanResult, findings: &mut Vec<String>) -> RequestScaling {
    let runs = ok_runs(plan, 1);
    let mut configs = BTreeMap::new();
    for r in &runs {
        let name = config_name(r);
        if configs.contains_key(&name) {
            continue;
        }
        let mine: Vec<&RunResult> = runs.iter().copied().filter(|x| config_name(x) == name).collect();
        let values = |f: &dyn Fn(&RunResult) -> f64| -> Vec<f64> { mine.iter().map(|x| f(x)).collect() };
        let thr = values(&|x| x.metrics.throughput_rps);
        let lat = values(&|x| x.metrics.latency_mean_s);
        let viol = values(&|x| x.metrics.request_sla_violation_rate);
        let series = ConfigSeries {
            latency_trend: trend(&lat),
            throughput_trend: trend(&thr),
            violation_trend: trend(&viol),
            requests: values(&|x| x.config.requests as f64),
            latency_mean_s: lat,
            request_sla_violation_rate: viol,
            throughput_rps: thr,
        };
        configs.insert(name, series);
    }
    // Improvements of each configuration over static_fifo at the same N.
    let mut improvements = Vec::new();
    for base in runs.iter().filter(|r| r.config.scheduler == SchedulerKind::StaticFifo) {
        for r in runs.iter().filter(|r| r.config.requests == base.config.requests && !std::ptr::eq(**r, *base)) {
            improvements.push(Improvement {
                capacity_gain_pct: pct(r.metrics.capacity_under_sla_rps, base.metrics.capacity_under_sla_rps),
                config: config_name(r),
                latency_mean_reduction_pct: -pct(r.metrics.latency_mean_s, base.metrics.latency_mean_s),
                requests: r.config.requests,
                throughput_gain_pct: pct(r.metrics.throughput_rps, base.metrics.throughput_rps),
            });
        }
    }
    if let Some(max_n) = runs.iter().map(|r| r.config.requests).max() {
        let at = |sched: SchedulerKind, g: u32| {
            runs.iter().find(|r| r.config.requests == max_n && r.config.scheduler == sched && r.config.gpus == g)
        };
        let static_1 = at(SchedulerKind::StaticFifo, 1);
        if let (Some(s), Some(d)) = (static_1, at(SchedulerKind::DynamicNoBins, 1)) {
            findings.push(format!(
                "Step 1, N = {max_n}, 1 GPU: dynamic_no_bins served {:.2} req/s vs {:.2} for static_fifo ({:+.1}%), mean latency {:.2} s vs {:.2} s.",
                d.metrics.throughput_rps, s.metrics.throughput_rps,
                pct(d.metrics.throughput_rps, s.metrics.throughput_rps),
                d.metrics.latency_mean_s, s.metrics.latency_mean_s
            ));
        }
        for g in [1, 4] {
            if let (Some(s), Some(m)) = (static_1, at(SchedulerKind::MultiBinDynamic, g)) {
                findings.push(format!(
                    "Step 1, N = {max_n}: multi_bin_dynamic on {g} GPU{} served {:.2} req/s ({:+.1}% over static_fifo on 1 GPU), mean latency {:.2} s.",
                    if g == 1 { "" } else { "s" },
                    m.metrics.throughput_rps,
                    pct(m.metrics.throughput_rps, s.metrics.throughput_rps),
                    m.metrics.latency_mean_s
                ));
            }
        }
    }
    RequestScaling { configs, improvement_over_static_fifo: improvements }
}

fn step2(plan: &PlanResult, findings: &mut Vec<String>) -> Option<GpuScaling> {
    let runs = ok_runs(plan, 2);
    let last = runs.last()?;
    let gpus: Vec<u32> = runs.iter().map(|r| r.config.gpus).collect();
    let thr: Vec<f64> = runs.iter().map(|r| r.metrics.throughput_rps).collect();
    let (g0, t0) = (gpus[0] as f64, thr[0]);
    // Efficiency relative to the smallest GPU count: 1.0 = perfectly linear scaling.
    let efficiency: Vec<f64> = gpus.iter().zip(&thr).map(|(&g, &t)| (t / t0) / (g as f64 / g0)).collect();
    let best_thr = thr.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let saturation = gpus.iter().zip(&thr).find(|(_, &t)| t >= SATURATION_SHARE * best_thr).map(|(&g, _)| g);
    let arrival_rate = last.metrics.arrival_rate_rps;
    findings.push(format!(
        "Step 2: throughput rose from {:.2} req/s on {} GPU{} to {:.2} req/s on {} GPUs (arrival rate {:.2} req/s); it reaches {:.0}% of its maximum at {} GPUs.",
        t0, gpus[0], if gpus[0] == 1 { "" } else { "s" }, thr[thr.len() - 1], last.config.gpus, arrival_rate,
        SATURATION_SHARE * 100.0, saturation.map_or("n/a".to_string(), |g| g.to_string())
    ));
    findings.push(format!(
        "Step 2, {} GPUs: mean GPU utilisation {:.1}%, mean batch size {:.2}, scaling efficiency {:.1}% of linear.",
        last.config.gpus, last.metrics.gpu_util_mean * 100.0, last.metrics.batch_size_mean, efficiency[efficiency.len() - 1] * 100.0
    ));
    Some(GpuScaling {
        arrival_rate_rps: arrival_rate,
        capacity_under_sla_rps: runs.iter().map(|r| r.metrics.capacity_under_sla_rps).collect(),
        gpu_util_mean: runs.iter().map(|r| r.metrics.gpu_util_mean).collect(),
        gpus,
        latency_mean_s: runs.iter().map(|r| r.metrics.latency_mean_s).collect(),
        latency_p99_s: runs.iter().map(|r| r.metrics.latency_p99_s).collect(),
        saturation_gpus: saturation,
        saturation_rule: format!("smallest GPU count reaching {:.0}% of the best throughput", SATURATION_SHARE * 100.0),
        scaling_efficiency: efficiency,
        throughput_trend: trend(&thr),
        throughput_rps: thr,
    })
}

fn step3(plan: &PlanResult, findings: &mut Vec<String>) -> Option<KSensitivity> {
    let runs = ok_runs(plan, 3);
    let first = runs.first()?;
    let ks: Vec<u32> = runs.iter().map(|r| r.config.k_bins).collect();
    let thr: Vec<f64> = runs.iter().map(|r| r.metrics.throughput_rps).collect();
    let lat: Vec<f64> = runs.iter().map(|r| r.metrics.latency_mean_s).collect();
    let cap: Vec<f64> = runs.iter().map(|r| r.metrics.capacity_under_sla_rps).collect();
    // Best K: highest capacity under SLA, ties to the smaller K (the first in order).
    let best = (0..ks.len()).fold(0, |b, i| if cap[i] > cap[b] { i } else { b });
    let (t_min, t_max) = thr.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &t| (a.min(t), b.max(t)));
    let per_doubling: Vec<KChange> = (1..ks.len())
        .map(|i| KChange {
            from_k: ks[i - 1],
            latency_mean_change_pct: pct(lat[i], lat[i - 1]),
            throughput_change_pct: pct(thr[i], thr[i - 1]),
            to_k: ks[i],
        })
        .collect();
    findings.push(format!(
        "Step 3 ({} GPUs): the best K by capacity under SLA is {} ({:.2} req/s); throughput varies by {:.1}% across K.",
        first.config.gpus, ks[best], cap[best], pct(t_max, t_min)
    ));
    if ks.len() >= 2 {
        findings.push(format!(
            "Step 3: K = {} -> {} changed mean latency by {:+.1}% and throughput by {:+.1}%; K = {} -> {} by {:+.1}% and {:+.1}%.",
            ks[0], ks[1], pct(lat[1], lat[0]), pct(thr[1], thr[0]),
            ks[ks.len() - 2], ks[ks.len() - 1],
            pct(lat[ks.len() - 1], lat[ks.len() - 2]), pct(thr[ks.len() - 1], thr[ks.len() - 2])
        ));
    }
    Some(KSensitivity {
        batch_size_mean: runs.iter().map(|r| r.metrics.batch_size_mean).collect(),
        best_k: ks[best],
        best_k_rule: "highest capacity under SLA; ties to the smaller K",
        capacity_under_sla_rps: cap,
        gpus: first.config.gpus,
        latency_mean_s: lat,
        latency_p99_s: runs.iter().map(|r| r.metrics.latency_p99_s).collect(),
        per_doubling,
        throughput_rps: thr,
        throughput_sensitivity_pct: pct(t_max, t_min),
        k: ks,
    })
}

/// The analysis of a finished plan.
pub fn analyse(plan: &PlanResult) -> Analysis {
    let mut findings = Vec::new();
    let step1_request_scaling = step1(plan, &mut findings);
    let step2_gpu_scaling = step2(plan, &mut findings);
    let step3_kbins_sensitivity = step3(plan, &mut findings);
    let failed: Vec<&str> = plan.runs.iter().filter(|r| r.result.is_err()).map(|r| r.label.as_str()).collect();
    if !failed.is_empty() {
        findings.push(format!("{} run(s) failed: {}.", failed.len(), failed.join("; ")));
    }
    // Say so when the SLA cannot bind: the run notes carry the reason.
    let mut notes: Vec<String> = Vec::new();
    for r in plan.runs.iter().filter_map(|r| r.result.as_ref().ok()) {
        for n in &r.notes {
            if !notes.contains(n) {
                notes.push(n.clone());
            }
        }
    }
    findings.extend(notes);
    Analysis {
        batchlab_version: crate::VERSION,
        best_gpu_count: plan.best_gpu_count,
        best_gpu_count_origin: plan.best_gpu_count_origin.clone(),
        key_findings: findings,
        runs: plan.runs.len(),
        runs_failed: failed.len(),
        seed: plan.spec.base.seed,
        source_requests: plan.source_requests,
        step1_request_scaling,
        step2_gpu_scaling,
        step3_kbins_sensitivity,
        workload: plan.workload.clone(),
    }
}

/// The analysis as pretty JSON: the `_analysis.json` file.
pub fn analysis_json(plan: &PlanResult) -> String {
    analyse(plan).to_json()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trends() {
        assert_eq!(trend(&[1.0, 2.0]), Trend::Increasing);
        assert_eq!(trend(&[2.0, 1.0]), Trend::Decreasing);
        assert_eq!(trend(&[1.0, 1.01]), Trend::Flat);
        assert_eq!(trend(&[1.0]), Trend::NotApplicable);
        assert_eq!(trend(&[0.0, 1.0]), Trend::NotApplicable);
    }
}
