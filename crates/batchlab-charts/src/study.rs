//! The final paper's five figures (the figures of f1be833's `generate_analysis_plots.py`),
//! drawn from a study's results: each one file of panels, one panel per load where the
//! published figure has one. The representative request count is 100K as published, or
//! the largest count the study ran below it (the panel titles say which).

use batchlab::study::{LoadResult, Sensitivity, StudyResult, StudyRun, STUDY_K};

use crate::{bar_chart_on, line_chart, panels, LineChart, Series};

pub const FIG1: &str = "figures/fig1_throughput_vs_gpu.svg";
pub const FIG2: &str = "figures/fig2_sla_pareto_frontier.svg";
pub const FIG3: &str = "figures/fig3_latency_throughput_tradeoff.svg";
pub const FIG4: &str = "figures/fig4_scheduler_comparison.svg";
pub const FIG5: &str = "figures/fig5_sensitivity_variance.svg";

/// The K values figure 1 draws (as published).
const FIG1_K: [u32; 4] = [1, 4, 8, 16];
/// The request counts figure 2 draws (as published), where run.
const FIG2_SIZES: [usize; 3] = [10_000, 100_000, 1_000_000];
const REPRESENTATIVE_REQUESTS: usize = 100_000;
const METHODS: [&str; 4] = ["Static FIFO (1 GPU)", "Dynamic No-Bins (1 GPU)", "Multi-Bin (1 GPU)", "Multi-Bin (optimal)"];

fn load_label(rps: f64) -> String {
    let level = if rps >= 100.0 {
        "High"
    } else if rps >= 10.0 {
        "Medium"
    } else {
        "Low"
    };
    format!("{level} load (x{rps})")
}

// `%` rather than `is_multiple_of`: that needs Rust 1.87, above the workspace's 1.85.
#[allow(clippy::manual_is_multiple_of)]
fn size_label(n: usize) -> String {
    if n >= 1_000_000 && n % 1_000_000 == 0 {
        format!("{}M", n / 1_000_000)
    } else if n >= 1_000 && n % 1_000 == 0 {
        format!("{}K", n / 1_000)
    } else {
        n.to_string()
    }
}

/// The request count the figures show: 100K, or the largest run below it.
fn representative(study: &StudyResult) -> usize {
    let sizes = study.spec.sizes();
    sizes.iter().copied().filter(|&n| n <= REPRESENTATIVE_REQUESTS).max().unwrap_or(sizes[0])
}

/// Grid runs of `load` with `n` requests and K = `k`, by GPU count.
fn grid_runs(load: &LoadResult, n: usize, k: u32) -> impl Iterator<Item = &StudyRun> {
    load.grid.iter().filter(move |r| r.result.config.requests == n && r.result.config.k_bins == k)
}

/// One series per K of `ks` over the grid runs of `load` with `n` requests, each run a
/// point `point(run)`, titled with the load and the request count.
fn per_k(load: &LoadResult, n: usize, ks: &[u32], point: impl Fn(&StudyRun) -> (f64, f64)) -> (String, Vec<Series>) {
    let series = ks.iter().map(|&k| Series { name: format!("K = {k}"), points: grid_runs(load, n, k).map(&point).collect() }).collect();
    (format!("{} ({} requests)", load_label(load.rps_scaling), size_label(n)), series)
}

/// Figure 1: throughput against GPUs, one line per K, per load.
fn throughput_vs_gpus(study: &StudyResult, n: usize, who: &str) -> String {
    let charts: Vec<String> = study
        .loads
        .iter()
        .map(|load| {
            let (title, series) = per_k(load, n, &FIG1_K, |r| (r.result.config.gpus as f64, r.result.metrics.throughput_tokens_per_s));
            line_chart(&LineChart { title: &title, x_label: "GPUs", y_label: "throughput (tokens/s)", log_x: true, series, ..Default::default() })
        })
        .collect();
    panels(&format!("{who}Throughput vs GPU count"), &charts)
}

/// Figure 2: the lowest request-SLA violation rate over K at each GPU count, one line per
/// request count, with the 5% and 10% targets.
fn sla_frontier(study: &StudyResult, who: &str) -> String {
    let sizes: Vec<usize> = FIG2_SIZES.iter().copied().filter(|n| study.spec.sizes().contains(n)).collect();
    let sizes = if sizes.is_empty() { study.spec.sizes() } else { sizes };
    let charts: Vec<String> = study
        .loads
        .iter()
        .map(|load| {
            let series = sizes
                .iter()
                .map(|&n| {
                    let points = study
                        .spec
                        .gpus()
                        .into_iter()
                        .filter_map(|g| {
                            let rates = load.grid.iter().filter(|r| r.result.config.requests == n && r.result.config.gpus == g);
                            let best = rates.map(|r| r.result.metrics.request_sla_violation_rate * 100.0).reduce(f64::min)?;
                            Some((g as f64, best))
                        })
                        .collect();
                    Series { name: size_label(n), points }
                })
                .collect();
            let title = load_label(load.rps_scaling);
            line_chart(&LineChart {
                title: &title,
                x_label: "GPUs",
                y_label: "request SLA violations (%), best K",
                log_x: true,
                series,
                hlines: vec![(5.0, "5% target".into()), (10.0, "10% target".into())],
                ..Default::default()
            })
        })
        .collect();
    panels(&format!("{who}Request-SLA violations vs GPU count (best K per GPU count)"), &charts)
}

/// Figure 3: p95 latency against throughput, every GPU count, one colour per K.
fn latency_throughput(study: &StudyResult, n: usize, who: &str) -> String {
    let charts: Vec<String> = study
        .loads
        .iter()
        .map(|load| {
            let (title, series) = per_k(load, n, &STUDY_K, |r| (r.result.metrics.throughput_tokens_per_s, r.result.metrics.latency_p95_s));
            line_chart(&LineChart {
                title: &title,
                x_label: "throughput (tokens/s)",
                y_label: "p95 latency (s)",
                log_y: true,
                series,
                scatter: true,
                ..Default::default()
            })
        })
        .collect();
    panels(&format!("{who}Latency-throughput trade-off"), &charts)
}

/// Figure 4: step 2's four methods at each load: request-SLA violations, throughput,
/// p95 latency (log).
fn scheduler_comparison(study: &StudyResult, n: usize, who: &str) -> String {
    let labels: Vec<String> = study.loads.iter().map(|l| load_label(l.rps_scaling)).collect();
    let categories: Vec<&str> = labels.iter().map(String::as_str).collect();
    let values = |f: &dyn Fn(&StudyRun) -> f64| -> Vec<(String, Vec<f64>)> {
        (0..METHODS.len())
            .map(|m| {
                let per_load = study
                    .loads
                    .iter()
                    .map(|l| l.comparison.iter().filter(|r| r.result.config.requests == n).nth(m).map_or(f64::NAN, f))
                    .collect();
                (METHODS[m].to_string(), per_load)
            })
            .collect()
    };
    let title = |what: &str| format!("{} requests: {what}", size_label(n));
    let charts = [
        bar_chart_on(&title("request SLA"), "violations (%)", &categories, &values(&|r| r.result.metrics.request_sla_violation_rate * 100.0), false),
        bar_chart_on(&title("throughput"), "tokens/s", &categories, &values(&|r| r.result.metrics.throughput_tokens_per_s), false),
        bar_chart_on(&title("latency"), "p95 latency (s, log)", &categories, &values(&|r| r.result.metrics.latency_p95_s), true),
    ];
    panels(&format!("{who}Scheduler comparison"), &charts)
}

/// The coefficient of variation of `xs`, percent (population standard deviation).
fn cv_pct(xs: &[f64]) -> f64 {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
    100.0 * var.sqrt() / mean
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// Figure 5: sensitivity to K and to the GPU count, and the spread over seeds.
fn sensitivity(s: &Sensitivity, who: &str) -> String {
    let sla = |r: &StudyRun| r.result.metrics.request_sla_violation_rate * 100.0;
    let k_labels: Vec<String> = s.k_runs.iter().map(|r| format!("K={}", r.result.config.k_bins)).collect();
    let g_labels: Vec<String> = s.gpu_runs.iter().map(|r| format!("{} GPUs", r.result.config.gpus)).collect();
    let seed_labels: Vec<String> = s.seed_runs.iter().map(|r| format!("seed {}", r.result.config.seed)).collect();
    let seed_sla: Vec<f64> = s.seed_runs.iter().map(sla).collect();
    let seed_tput: Vec<f64> = s.seed_runs.iter().map(|r| r.result.metrics.throughput_tokens_per_s).collect();
    let n = s.k_runs.first().map_or(0, |r| r.result.config.requests);
    let charts = [
        bar_chart_on(
            "K sensitivity (4 GPUs)",
            "request SLA violations (%)",
            &refs(&k_labels),
            &[("violations".to_string(), s.k_runs.iter().map(sla).collect())],
            false,
        ),
        bar_chart_on(
            "GPU scaling (K = 4)",
            "% and k tokens/s",
            &refs(&g_labels),
            &[
                ("violations (%)".to_string(), s.gpu_runs.iter().map(sla).collect()),
                ("throughput (k tokens/s)".to_string(), s.gpu_runs.iter().map(|r| r.result.metrics.throughput_tokens_per_s / 1e3).collect()),
            ],
            false,
        ),
        bar_chart_on(
            &format!("Seeds: SLA CV {:.1}%, throughput CV {:.1}%", cv_pct(&seed_sla), cv_pct(&seed_tput)),
            "request SLA violations (%)",
            &refs(&seed_labels),
            &[("violations".to_string(), seed_sla)],
            false,
        ),
    ];
    panels(&format!("{who}Sensitivity and variance ({} requests, x10 load)", size_label(n)), &charts)
}

/// The figures the study's runs allow: (path, SVG).
pub fn study_figures(study: &StudyResult) -> Vec<(String, String)> {
    figures(study, "")
}

/// The same five figures drawn from the published numbers (`batchlab::study::published`),
/// titled as such, at `figures/published/`.
pub fn published_figures() -> Vec<(String, String)> {
    let who = "Published (f1be833): ";
    figures(&batchlab::study::published::study(), who)
        .into_iter()
        .map(|(path, svg)| (path.replace("figures/", "figures/published/"), svg))
        .collect()
}

fn figures(study: &StudyResult, who: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if !study.loads.is_empty() {
        let n = representative(study);
        out.push((FIG1.to_string(), throughput_vs_gpus(study, n, who)));
        out.push((FIG2.to_string(), sla_frontier(study, who)));
        out.push((FIG3.to_string(), latency_throughput(study, n, who)));
        out.push((FIG4.to_string(), scheduler_comparison(study, n, who)));
    }
    if let Some(s) = &study.sensitivity {
        out.push((FIG5.to_string(), sensitivity(s, who)));
    }
    out
}
