//! What the page shows, as HTML / SVG text built from the core's results: the summary
//! tables and every chart. Pure functions, tested natively; `page.rs` only inserts them.
//! (Display formatting only: downloadable CSV / JSON always come from the core.)

use batchlab::capacity::Capacity;
use batchlab::plan::PlanRun;
use batchlab::report::human;
use batchlab::report::metrics_table::{self, metric};
use batchlab::report::sweep::SUMMARY_METRICS;
use batchlab::run::RunResult;
use batchlab::sweep::{mean_ci95, SEED_AXIS};
use batchlab::token::histogram::edges_f64;
use batchlab::token::LogHistogram;
use batchlab::SchedulerKind;

use batchlab_charts::{bar_chart, decimate_max, escape, line_chart, panels, LineChart, Series};
use crate::protocol::{PlanOutput, RunOutput, StudyOutput, TokenPassInfo};

/// A chart ready to show and download.
pub struct Chart {
    pub file_name: String,
    pub svg: String,
    /// One line for people: what the chart shows (empty: none).
    pub caption: String,
    /// Several panels side by side: scrolls sideways on a narrow screen.
    pub wide: bool,
    /// The settings it was drawn from, set once drawn (`overview::settings_line`; empty:
    /// none): `shown_svg` adds them to the picture and its `<desc>`.
    pub settings: String,
}

impl Chart {
    pub fn new(file_name: &str, svg: String) -> Self {
        Chart { file_name: file_name.into(), svg, caption: String::new(), wide: false, settings: String::new() }
    }

    /// The SVG to show and to download: the chart with its settings line, if any.
    pub fn shown_svg(&self) -> String {
        crate::overview::with_settings(&self.svg, &self.settings)
    }

    /// The chart with its "what am I looking at?" line.
    pub fn explained(self, caption: &str) -> Self {
        Chart { caption: caption.into(), ..self }
    }
}

type Row = (&'static str, fn(&RunResult) -> String);

/// What ran: the rows above the metrics.
const CONFIG_ROWS: &[Row] = &[
    ("scheduler", |r| r.config.scheduler.name().into()),
    ("GPUs", |r| r.config.gpus.to_string()),
    ("K bins", |r| if r.config.scheduler.uses_bins() { r.config.k_bins.to_string() } else { "1".into() }),
];

/// Where the numbers come from, and what to know about them: the rows below the metrics.
const SOURCE_ROWS: &[Row] = &[
    ("workload", |r| r.workload.clone()),
    ("calibration", |r| r.calibration.clone()),
    ("notes", |r| if r.notes.is_empty() { human::UNDEFINED.into() } else { r.notes.join(" ") }),
];

/// What a continuous run says instead of a token pass (as the CLI does): its engine
/// timed every token.
pub const NO_TOKEN_PASS: &str = "none: the iteration engine timed every token";

/// "GPU, 12.3 ms" / "CPU, 40.1 ms": which device ran a token pass and how long it took.
pub fn token_pass_cell(p: &TokenPassInfo) -> String {
    let device = match (&p.gpu, &p.gpu_error) {
        (Some(_), _) => "GPU",
        (None, Some(_)) => "CPU (the GPU failed)",
        (None, None) => "CPU",
    };
    format!("{device}, {:.1} ms", p.seconds * 1e3)
}

/// The summary's groups of metrics: a heading and the metrics' CSV columns, in the order
/// shown. Every metric of `metrics_table::all()` but the wall time (shown with where the
/// numbers come from) is in exactly one (a test holds it).
pub const METRIC_GROUPS: &[(&str, &[&str])] = &[
    ("Throughput", &["requests_completed", "arrival_rate_rps", "makespan_s", "throughput_rps", "throughput_tokens_per_s"]),
    (
        "Latency",
        &[
            "latency_mean_s", "latency_p50_s", "latency_p95_s", "latency_p99_s", "latency_max_s", "queue_delay_mean_s", "service_time_mean_s",
            "ttft_mean_s", "ttft_p50_s", "ttft_p95_s", "ttft_p99_s", "ttft_max_s", "tbt_p50_s", "tbt_p95_s", "tbt_p99_s", "tbt_max_s", "tpot_mean_s",
        ],
    ),
    (
        "SLAs",
        &[
            "slo_attainment", "slo_goodput_rps", "request_sla_violation_rate", "token_sla_violation_rate", "token_sla_violation_rate_tokens",
            "capacity_under_sla_rps", "token_sla_can_bind",
        ],
    ),
    ("Utilisation", &["gpu_util_mean", "gpu_util_min", "gpu_util_max", "kv_util_mean", "kv_util_max", "preemptions"]),
    ("Batches", &["batch_count", "batch_size_mean", "batch_size_min", "batch_size_max"]),
    (
        "Latency model",
        &["alpha_s", "beta_s", "gamma", "fit_r2", "iteration_c0_s", "iteration_prefill_token_s", "iteration_decode_seq_s", "iteration_context_token_s"],
    ),
];

/// The metrics of one or more runs, one column per run, in captioned groups (each a
/// `<tbody>` under a heading row): what ran, `METRIC_GROUPS`, and where the numbers come
/// from; `passes` (one per run, or none) adds a row saying where each token pass ran.
pub fn summary_table(results: &[&RunResult], passes: &[&TokenPassInfo]) -> String {
    let mut html = String::from(r#"<table id="summary-table"><caption>Run summary</caption><thead><tr><th scope="col">metric</th>"#);
    for r in results {
        html += &format!(r#"<th scope="col">{}</th>"#, escape(scheduler_words(r.config.scheduler)));
    }
    html += "</tr></thead>";
    let group = |html: &mut String, heading: &str| {
        *html += &format!(r#"<tbody><tr class="group"><th scope="rowgroup" colspan="{}">{}</th></tr>"#, results.len() + 1, escape(heading));
    };
    let row = |html: &mut String, label: &str, cell: &dyn Fn(&RunResult) -> String| {
        *html += &format!(r#"<tr><th scope="row">{}</th>"#, escape(label));
        for r in results {
            *html += &format!("<td>{}</td>", escape(&cell(r)));
        }
        *html += "</tr>";
    };
    group(&mut html, "What ran");
    for &(label, cell) in CONFIG_ROWS {
        row(&mut html, label, &cell);
    }
    html += "</tbody>";
    // Every metric, labelled and formatted as in the CLI's summary; those that no run
    // here measures (continuous batching's, for batch runs alone) are left out, and a
    // run that does not measure a metric others do shows "–".
    for &(heading, keys) in METRIC_GROUPS {
        let shown: Vec<_> = keys.iter().map(|&k| metric(k)).filter(|m| results.iter().any(|r| m.applies(r))).collect();
        if shown.is_empty() {
            continue;
        }
        group(&mut html, heading);
        for m in shown {
            row(&mut html, m.label, &|r| m.human(r));
        }
        html += "</tbody>";
    }
    group(&mut html, "Where the numbers come from");
    for &(label, cell) in SOURCE_ROWS {
        row(&mut html, label, &cell);
    }
    if passes.len() == results.len() && !passes.is_empty() {
        html += r#"<tr><th scope="row">token pass</th>"#;
        for (r, p) in results.iter().zip(passes) {
            let cell = if r.config.scheduler.is_continuous() { NO_TOKEN_PASS.to_string() } else { token_pass_cell(p) };
            html += &format!("<td>{}</td>", escape(&cell));
        }
        html += "</tr>";
    }
    let wall = &metrics_table::WALL_TIME;
    row(&mut html, wall.label, &|r| wall.human(r));
    html + "</tbody></table>"
}

/// The TBT distribution of a run as its quantiles: (% of decode gaps, the gap in
/// milliseconds that this share of gaps stays at or below), `points` evenly spaced shares
/// from 0% (the smallest gap) to 100% (the largest). A quantile is the nearest rank's
/// histogram bucket at its geometric middle (clamped to [min, max]), so the curve is
/// exact to the histogram's 0.1% resolution. Empty without gaps.
///
/// (The shares go on the chart's linear x axis and the gaps on its y axis, log when they
/// spread widely: a log x axis would label every point's x.)
pub fn tbt_quantiles(h: &LogHistogram, edges: &[f64], points: usize) -> Vec<(f64, f64)> {
    if h.total == 0 || !(h.min.is_finite() && h.max.is_finite() && h.min > 0.0) || points < 2 {
        return Vec::new();
    }
    let (lo, hi) = (h.min, h.max.max(h.min));
    let middle = |k: usize| match k {
        0 => lo,
        k if k >= edges.len() => hi,
        k => (edges[k - 1] * edges[k]).sqrt().clamp(lo, hi),
    };
    let mut out = Vec::with_capacity(points);
    let (mut k, mut seen) = (0usize, 0u64);
    for i in 0..points {
        let share = i as f64 / (points - 1) as f64;
        let gap = if i == 0 {
            lo
        } else if i + 1 == points {
            hi
        } else {
            // Nearest rank: the gap with at least `share` of all gaps at or below it.
            let rank = ((share * h.total as f64).ceil() as u64).clamp(1, h.total);
            while seen < rank && k < h.counts.len() {
                seen += h.counts[k];
                k += 1;
            }
            middle(k.saturating_sub(1))
        };
        out.push((100.0 * share, gap * 1e3));
    }
    out
}

/// What a run's gaps between tokens are held to: continuous batching's TBT SLO, or the
/// batch schedulers' per-token SLA (seconds, label).
fn tbt_limit(r: &RunResult) -> (f64, String) {
    if r.config.scheduler.is_continuous() {
        let slo = r.config.iteration.tbt_slo_s;
        (slo, format!("TBT SLO {}", human::duration(slo)))
    } else {
        (r.config.d_sla_token_s, format!("per-token SLA {}", human::duration(r.config.d_sla_token_s)))
    }
}

/// Per-bin statistics of a multi-bin run (empty for a single queue).
pub fn bins_table(r: &RunResult) -> String {
    if r.bins.len() < 2 {
        return String::new();
    }
    let edge = |x: f64| if x.is_finite() { format!("{x:.0}") } else { "∞".into() };
    let mut html = String::from(concat!(
        r#"<table id="bins"><caption>Bins (by predicted output length)</caption><thead><tr>"#,
        r#"<th scope="col">bin</th><th scope="col">predicted length</th><th scope="col">requests</th>"#,
        r#"<th scope="col">batches</th><th scope="col">batch size mean</th><th scope="col">output tokens</th>"#,
        r#"<th scope="col">latency mean</th></tr></thead><tbody>"#
    ));
    for b in &r.bins {
        html += &format!(
            "<tr><td>{}</td><td>[{}, {})</td><td>{}</td><td>{}</td><td>{}</td><td>{}–{}</td><td>{}</td></tr>",
            b.bin,
            edge(b.predicted_lo),
            edge(b.predicted_hi),
            b.requests,
            b.batches,
            human::number(b.batch_size_mean),
            b.output_tokens_min,
            b.output_tokens_max,
            human::duration(b.latency_mean_s)
        );
    }
    html + "</tbody></table>"
}

/// Latency percentiles, queue lengths and busy GPUs over time.
pub fn run_charts(results: &[&RunResult]) -> Vec<Chart> {
    const MAX_POINTS: usize = 300;
    let names: Vec<String> = results.iter().map(|r| scheduler_words(r.config.scheduler).to_string()).collect();
    let cats = ["mean", "p50", "p95", "p99", "max"];
    let lat: Vec<(String, Vec<f64>)> = results
        .iter()
        .zip(&names)
        .map(|(r, n)| {
            let m = &r.metrics;
            (n.clone(), vec![m.latency_mean_s, m.latency_p50_s, m.latency_p95_s, m.latency_p99_s, m.latency_max_s])
        })
        .collect();
    let mut charts = vec![Chart::new("latency_percentiles.svg", bar_chart("End-to-end latency", "seconds", &cats, &lat))
        .explained("Time from a request's arrival to its last token: the mean, the median, the tail and the worst, one colour per scheduler.")];
    // One run: a line per bin. Several: the total queue of each.
    let queue_series: Vec<Series> = if let [r] = results {
        let ts = &r.timeseries;
        ts.queue_len
            .iter()
            .enumerate()
            .map(|(b, q)| Series {
                name: if ts.queue_len.len() == 1 { "queue".into() } else { format!("bin {b}") },
                points: decimate_max(&ts.t_s.iter().zip(q).map(|(&t, &v)| (t, v as f64)).collect::<Vec<_>>(), MAX_POINTS),
            })
            .collect()
    } else {
        results
            .iter()
            .zip(&names)
            .map(|(r, n)| {
                let ts = &r.timeseries;
                let total = (0..ts.t_s.len()).map(|i| (ts.t_s[i], ts.queue_len.iter().map(|q| q[i] as f64).sum()));
                Series { name: n.clone(), points: decimate_max(&total.collect::<Vec<_>>(), MAX_POINTS) }
            })
            .collect()
    };
    let busy: Vec<Series> = results
        .iter()
        .zip(&names)
        .map(|(r, n)| {
            let ts = &r.timeseries;
            let pts: Vec<(f64, f64)> = ts.t_s.iter().zip(&ts.busy_gpus).map(|(&t, &b)| (t, b as f64)).collect();
            Series { name: n.clone(), points: decimate_max(&pts, MAX_POINTS) }
        })
        .collect();
    let line = |title, y_label, series| LineChart {
        title,
        x_label: "simulated time (s)",
        y_label,
        log_x: false,
        log_y: false,
        series,
        marker: None,
        ..Default::default()
    };
    charts.push(
        Chart::new("queue_length.svg", line_chart(&line("Queue length over time (peak per interval)", "requests waiting", queue_series)))
            .explained("Requests waiting to be served over simulated time, the most in each sampling interval: one line per bin, or per scheduler when comparing."),
    );
    charts.push(
        Chart::new("busy_gpus.svg", line_chart(&line("Busy GPUs over time (peak per interval)", "GPUs", busy)))
            .explained("GPUs running a batch or an iteration over simulated time, the most in each sampling interval."),
    );
    // Continuous batching: its KV cache and running sequences, one line per continuous run.
    let continuous: Vec<(&RunResult, &String)> =
        results.iter().copied().zip(&names).filter(|(r, _)| !r.timeseries.kv_used.is_empty()).collect();
    if !continuous.is_empty() {
        let over_time = |value: &dyn Fn(&RunResult, usize) -> f64| -> Vec<Series> {
            continuous
                .iter()
                .map(|&(r, n)| {
                    let ts = &r.timeseries;
                    let samples = ts.t_s.len().min(ts.kv_used.len()).min(ts.running.len());
                    let pts: Vec<(f64, f64)> = (0..samples).map(|i| (ts.t_s[i], value(r, i))).collect();
                    Series { name: n.clone(), points: decimate_max(&pts, MAX_POINTS) }
                })
                .collect()
        };
        let kv = over_time(&|r, i| 100.0 * f64::from(r.timeseries.kv_used[i]));
        let running = over_time(&|r, i| f64::from(r.timeseries.running[i]));
        let svg = panels(
            "KV cache in use and running sequences over time",
            &[
                line_chart(&line("KV cache in use (peak per interval)", "% of KV blocks, all GPUs", kv)),
                line_chart(&line("Running sequences (peak per interval)", "sequences, all GPUs", running)),
            ],
        );
        charts.push(Chart { wide: true, ..Chart::new("kv_cache_running.svg", svg) }.explained(
            "Left: the share of all GPUs' KV-cache blocks holding sequences; right: the sequences prefilling or decoding; the most in each sampling interval. A full cache makes requests wait, or preempts running ones.",
        ));
    }
    let edges = edges_f64();
    let mut tbt = Vec::new();
    let mut limits: Vec<(f64, String)> = Vec::new();
    for (r, n) in results.iter().zip(&names) {
        let points = tbt_quantiles(&r.tbt_histogram, &edges, MAX_POINTS);
        if !points.is_empty() {
            tbt.push(Series { name: n.clone(), points });
            let (limit, label) = tbt_limit(r);
            if !limits.iter().any(|(_, l)| *l == label) {
                limits.push((limit * 1e3, label));
            }
        }
    }
    if !tbt.is_empty() {
        // A log axis when the gaps spread widely (prefill stalls under continuous
        // batching); a linear one for the narrow range of a batch run's steps.
        let log_y = needs_log(tbt.iter().flat_map(|s| s.points.iter().map(|p| p.1)).chain(limits.iter().map(|l| l.0)));
        let svg = line_chart(&LineChart {
            title: "Time between tokens (TBT): every decode gap, shortest to longest",
            x_label: "% of gaps at or below",
            y_label: "TBT (ms)",
            log_x: false,
            log_y,
            series: tbt,
            marker: None,
            hlines: limits,
            ..Default::default()
        });
        charts.push(Chart::new("tbt_distribution.svg", svg).explained(
            "At x % the line is the gap between two tokens that x % of all gaps stay within; a steep rise at the right is the slow tail (under continuous batching, decodes stalled while an iteration prefills prompts).",
        ));
    }
    charts
}

/// "Token pass: GPU (SwiftShader Device), 12.3 ms" (summed over a compare's runs that
/// have one: continuous runs time their tokens in the iteration engine).
pub fn token_pass_line(outs: &[RunOutput]) -> String {
    let passes: Vec<&TokenPassInfo> =
        outs.iter().filter(|o| !o.result.config.scheduler.is_continuous()).map(|o| &o.token_pass).collect();
    if passes.is_empty() {
        return format!("Token pass: {NO_TOKEN_PASS}");
    }
    let seconds: f64 = passes.iter().map(|p| p.seconds).sum();
    let time = format!("{:.1} ms", seconds * 1e3);
    let runs = if passes.len() > 1 { format!(" for {} runs", passes.len()) } else { String::new() };
    if let Some(e) = passes.iter().find_map(|p| p.gpu_error.as_deref()) {
        return format!("Token pass: CPU, {time}{runs} (the GPU failed: {e})");
    }
    match passes.iter().find_map(|p| p.gpu.as_deref()) {
        Some(adapter) => format!("Token pass: GPU ({adapter}), {time}{runs}"),
        None => format!("Token pass: CPU, {time}{runs}"),
    }
}

fn ok(runs: &[&PlanRun]) -> Vec<RunResult> {
    runs.iter().filter_map(|r| r.result.as_ref().ok().cloned()).collect()
}

fn needs_log(values: impl Iterator<Item = f64>) -> bool {
    spans_more_than(50.0, values)
}

/// Whether the positive finite values span more than `ratio` (largest / smallest).
fn spans_more_than(ratio: f64, values: impl Iterator<Item = f64>) -> bool {
    let v: Vec<f64> = values.filter(|v| v.is_finite() && *v > 0.0).collect();
    let (lo, hi) = v.iter().fold((f64::INFINITY, 0.0f64), |(a, b), &x| (a.min(x), b.max(x)));
    !v.is_empty() && hi / lo > ratio
}

/// The three paper figures (five charts): step 1 throughput and latency vs N per
/// configuration, step 2 throughput vs GPUs with the saturation point, step 3 vs K.
pub fn plan_charts(plan: &PlanOutput) -> Vec<Chart> {
    let runs = |step: u8| ok(&plan.result.runs.iter().filter(|r| r.step == step).collect::<Vec<_>>());
    let mut charts = Vec::new();
    let step1 = runs(1);
    if !step1.is_empty() {
        let mut configs: Vec<(String, Vec<&RunResult>)> = Vec::new();
        for r in &step1 {
            let name = format!("{} ({} GPU)", scheduler_words(r.config.scheduler), r.config.gpus);
            match configs.iter_mut().find(|(n, _)| *n == name) {
                Some((_, v)) => v.push(r),
                None => configs.push((name, vec![r])),
            }
        }
        let series = |f: fn(&RunResult) -> f64| -> Vec<Series> {
            configs
                .iter()
                .map(|(n, rs)| Series { name: n.clone(), points: rs.iter().map(|r| (r.config.requests as f64, f(r))).collect() })
                .collect()
        };
        let lat = series(|r| r.metrics.latency_mean_s);
        let log_y = needs_log(lat.iter().flat_map(|s| s.points.iter().map(|p| p.1)));
        let chart = |title, y_label, log_y, series| LineChart { title, x_label: "requests N", y_label, log_x: true, log_y, series, marker: None, ..Default::default() };
        charts.push(
            Chart::new("step1_throughput.svg", line_chart(&chart("Step 1: throughput vs requests", "req/s", false, series(|r| r.metrics.throughput_rps))))
                .explained("Requests served per second as the workload grows from 1,000 requests, one line per scheduler and GPU count."),
        );
        charts.push(
            Chart::new("step1_latency.svg", line_chart(&chart("Step 1: mean latency vs requests", "seconds", log_y, lat)))
                .explained("Mean time from arrival to last token as the workload grows: a line that climbs means queues that keep growing."),
        );
    }
    let step2 = runs(2);
    if !step2.is_empty() {
        let pts = |f: fn(&RunResult) -> f64| step2.iter().map(|r| (r.config.gpus as f64, f(r))).collect();
        // The arrival rate bounds throughput: the line shows how far the runs are from it.
        let last = &step2[step2.len() - 1];
        let arrival = last.metrics.arrival_rate_rps;
        let caption = match plan.saturation_gpus {
            Some(g) => format!("Throughput levels off from {g} GPUs: the larger counts tried gained at most 5% more."),
            None => format!(
                "No saturation within the GPUs tried: throughput was still rising at {} GPUs ({} of {} arriving).",
                last.config.gpus,
                human::with_unit(last.metrics.throughput_rps, "req/s"),
                human::with_unit(arrival, "req/s")
            ),
        };
        charts.push(Chart::new("step2_gpu_scaling.svg", line_chart(&LineChart {
            title: "Step 2: throughput vs GPUs",
            x_label: "GPUs",
            y_label: "req/s",
            log_x: true,
            log_y: false,
            series: vec![
                Series { name: "throughput".into(), points: pts(|r| r.metrics.throughput_rps) },
                Series { name: "capacity under SLA".into(), points: pts(|r| r.metrics.capacity_under_sla_rps) },
            ],
            marker: plan.saturation_gpus.map(|g| (g as f64, format!("saturation: {g} GPUs"))),
            hlines: if arrival.is_finite() { vec![(arrival, format!("arrival rate {}", human::with_unit(arrival, "req/s")))] } else { Vec::new() },
            ..Default::default()
        })).explained(&caption));
    }
    let step3 = runs(3);
    if !step3.is_empty() {
        let pts = |f: fn(&RunResult) -> f64| step3.iter().map(|r| (r.config.k_bins as f64, f(r))).collect();
        let gpus = step3[0].config.gpus;
        charts.push(Chart::new("step3_k_throughput.svg", line_chart(&LineChart {
            title: &format!("Step 3: throughput vs K ({gpus} GPUs)"),
            x_label: "K bins",
            y_label: "req/s",
            log_x: true,
            log_y: false,
            series: vec![
                Series { name: "throughput".into(), points: pts(|r| r.metrics.throughput_rps) },
                Series { name: "capacity under SLA".into(), points: pts(|r| r.metrics.capacity_under_sla_rps) },
            ],
            marker: None,
            ..Default::default()
        }))
        .explained("Multi-bin dynamic batching with K = 1 to 32 bins on the best GPU count: more bins separate lengths better but split the queue."));
        charts.push(Chart::new("step3_k_latency.svg", line_chart(&LineChart {
            title: &format!("Step 3: latency vs K ({gpus} GPUs)"),
            x_label: "K bins",
            y_label: "seconds",
            log_x: true,
            log_y: false,
            series: vec![
                Series { name: "mean".into(), points: pts(|r| r.metrics.latency_mean_s) },
                Series { name: "p99".into(), points: pts(|r| r.metrics.latency_p99_s) },
            ],
            marker: None,
            ..Default::default()
        }))
        .explained("The mean and the tail (p99) of latency for each K: where the two part, a few requests wait far longer than most."));
    }
    charts
}

/// A scheduler in people's words: the page's scheduler menu's text, up to its
/// parenthesis (a test holds the two together).
pub fn scheduler_words(kind: SchedulerKind) -> &'static str {
    match kind {
        SchedulerKind::StaticFifo => "static FIFO",
        SchedulerKind::DynamicNoBins => "dynamic, no bins",
        SchedulerKind::MultiBinDynamic => "multi-bin dynamic",
        SchedulerKind::MultiBinFixed => "multi-bin fixed",
        SchedulerKind::Continuous => "continuous",
        SchedulerKind::MultiBinContinuous => "multi-bin continuous",
    }
}

/// A row label in words: a scheduler's spelling as `scheduler_words`, anything else as is.
fn label_words(label: &str) -> &str {
    SchedulerKind::parse(label).map_or(label, |k| scheduler_words(k))
}

/// "12.3 req/s"; "at least 12.3 req/s" when the search ran out of runs before its
/// bracket closed; or why there is none.
fn capacity_words(c: &Capacity) -> String {
    match c.arrival_rate_rps {
        Some(rate) if c.converged => human::with_unit(rate, "req/s"),
        Some(rate) => format!("at least {}", human::with_unit(rate, "req/s")),
        None => "below the lowest load tried".into(),
    }
}

/// A capacity search's curves: SLO attainment (%) against the arrival rate of every load
/// tried, one line per `(label, capacity)` row (its legend says its capacity), the
/// target as a dashed line, and a dashed line at the capacity when only one row has one.
pub fn capacity_chart(rows: &[(String, Capacity)], target: f64) -> String {
    let series: Vec<Series> = rows
        .iter()
        .map(|(label, c)| Series {
            name: format!("{}: {}", label_words(label), capacity_words(c)),
            points: c.points.iter().map(|p| (p.arrival_rate_rps, 100.0 * p.attainment)).collect(),
        })
        .collect();
    let capacities: Vec<f64> = rows.iter().filter_map(|(_, c)| c.arrival_rate_rps).collect();
    // Several capacity lines would be told apart by nothing but their position.
    let marker = match capacities[..] {
        [rate] => Some((rate, format!("capacity {}", human::with_unit(rate, "req/s")))),
        _ => None,
    };
    let rates = rows.iter().flat_map(|(_, c)| c.points.iter().map(|p| p.arrival_rate_rps));
    line_chart(&LineChart {
        title: "SLO attainment vs load",
        x_label: "arrival rate (req/s)",
        y_label: "SLO attainment (%)",
        log_x: spans_more_than(10.0, rates),
        series,
        marker,
        hlines: vec![(100.0 * target, format!("target {}", human::percent(target)))],
        ..Default::default()
    })
}

/// The records of a CSV text (RFC 4180: a quoted cell may hold commas, doubled quotes and
/// line breaks, as the core's `text` cells do).
fn csv_records(text: &str) -> Vec<Vec<String>> {
    let (mut records, mut record, mut cell) = (Vec::new(), Vec::new(), String::new());
    let (mut quoted, mut chars) = (false, text.chars().peekable());
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut cell)),
            (false, '\n') => {
                record.push(std::mem::take(&mut cell));
                records.push(std::mem::take(&mut record));
            }
            (false, '\r') => {}
            (_, c) => cell.push(c),
        }
    }
    if !cell.is_empty() || !record.is_empty() {
        record.push(cell);
        records.push(record);
    }
    records
}

/// The index of `item` in `list`, appended first if new (keeps the sweep's order).
fn slot(list: &mut Vec<String>, item: &str) -> usize {
    list.iter().position(|v| v == item).unwrap_or_else(|| {
        list.push(item.to_string());
        list.len() - 1
    })
}

/// A sweep's metric averaged over the seeds: the values of the first non-seed axis, and
/// per setting of the other non-seed axes ("field=value, ..."; "" when there are none)
/// the mean at each of them (NaN where no run of that setting has a value).
#[derive(Debug)]
struct SweepMeans {
    x_field: String,
    xs: Vec<String>,
    series: Vec<(String, Vec<f64>)>,
}

fn sweep_means(runs_csv: &str, axes: &[String], metric: &str) -> Result<SweepMeans, String> {
    let records = csv_records(runs_csv);
    let (head, rows) = records.split_first().ok_or("the sweep's runs CSV is empty")?;
    let col = |name: &str| head.iter().position(|h| h == name);
    let value = col(metric).ok_or_else(|| format!("the sweep's runs have no column '{metric}'"))?;
    let mut settings = Vec::new();
    for axis in axes {
        let c = col(&format!("axis_{axis}")).ok_or_else(|| format!("the sweep's runs have no axis '{axis}' (column axis_{axis})"))?;
        if axis != SEED_AXIS {
            settings.push((axis.as_str(), c));
        }
    }
    let Some((&(x_field, x_col), rest)) = settings.split_first() else {
        return Err("the sweep has no axis but the seed: nothing to draw the metric against".into());
    };
    let (mut xs, mut names) = (Vec::new(), Vec::new());
    let mut values: Vec<Vec<Vec<f64>>> = Vec::new(); // per series, per x: the seeds' values
    for row in rows {
        let cell = |c: usize| row.get(c).map_or("", String::as_str);
        let x = slot(&mut xs, cell(x_col));
        let name: Vec<String> = rest.iter().map(|&(field, c)| format!("{field}={}", cell(c))).collect();
        let s = slot(&mut names, &name.join(", "));
        values.resize(names.len(), Vec::new());
        values[s].resize(xs.len(), Vec::new());
        // Failed runs and undefined values are empty cells: skipped.
        if let Some(v) = cell(value).parse::<f64>().ok().filter(|v| v.is_finite()) {
            values[s][x].push(v);
        }
    }
    let series = names
        .into_iter()
        .zip(values)
        .map(|(name, mut per_x)| {
            per_x.resize(xs.len(), Vec::new());
            (name, per_x.iter().map(|v| mean_ci95(v).0).collect())
        })
        .collect();
    Ok(SweepMeans { x_field: x_field.to_string(), xs, series })
}

/// A runs-CSV column for people: its label, the label with its unit (for an axis), and
/// the factor from the CSV's value to that unit (fractions are shown as %). A column
/// that is no metric keeps its name and its values.
fn metric_axis(key: &str) -> (String, String, f64) {
    use metrics_table::Kind;
    let Some(m) = metrics_table::all().find(|m| m.key == key) else { return (key.into(), key.into(), 1.0) };
    let (unit, scale) = match m.kind {
        Kind::Seconds => ("s", 1.0),
        Kind::SecondsPerToken => ("s/token", 1.0),
        Kind::Rate(unit) => (unit, 1.0),
        Kind::Fraction => ("%", 100.0),
        Kind::Number | Kind::Count | Kind::Flag => ("", 1.0),
    };
    let with_unit = if unit.is_empty() { m.label.to_string() } else { format!("{} ({unit})", m.label) };
    (m.label.to_string(), with_unit, scale)
}

/// An axis field in the page's words ("GPUs", "RPS scaling factor", "scheduler"), else
/// its name.
fn axis_words(field: &str) -> String {
    let Some((_, label)) = crate::state::control_for(field) else { return field.into() };
    // Lower case inside a sentence, but not an acronym's capital ("GPUs", "TTFT SLO").
    let mut chars = label.chars();
    match (chars.next(), chars.next()) {
        (Some(first), Some(second)) if second.is_lowercase() => first.to_lowercase().chain(label[first.len_utf8()..].chars()).collect(),
        _ => label.into(),
    }
}

/// An axis value in words: a scheduler as `scheduler_words`, anything else as is.
fn value_words(field: &str, value: &str) -> String {
    if field == "scheduler" { label_words(value).to_string() } else { value.to_string() }
}

/// A sweep series' settings ("scheduler=static_fifo, gpus=4") in words ("static FIFO,
/// GPUs = 4"): a scheduler by its words alone, another field by its control's label.
fn settings_words(name: &str) -> String {
    let words = name.split(", ").map(|part| match part.split_once('=') {
        Some(("scheduler", value)) => label_words(value).to_string(),
        Some((field, value)) => format!("{} = {value}", axis_words(field)),
        None => part.to_string(),
    });
    words.collect::<Vec<_>>().join(", ")
}

/// The metrics a sweep chart offers: (runs-CSV column, label with its unit), the ones
/// the sweep's summary averages.
pub fn sweep_metric_choices() -> Vec<(&'static str, String)> {
    SUMMARY_METRICS.iter().map(|&key| (key, metric_axis(key).1)).collect()
}

/// A sweep's `metric` (a column of `batchlab::report::sweep::runs_csv`) averaged over
/// the seeds, against the first of `axes` other than the seed: a line chart when its
/// values are numbers (log when they span more than 10x), grouped bars when they are
/// not; one line or bar colour per setting of the other axes. An error (one line) for a
/// column or an axis that the CSV does not have.
pub fn sweep_chart(runs_csv: &str, axes: &[String], metric: &str) -> Result<String, String> {
    let means = sweep_means(runs_csv, axes, metric)?;
    let (label, y_label, scale) = metric_axis(metric);
    let x_words = axis_words(&means.x_field);
    let over_seeds = if axes.iter().any(|a| a == SEED_AXIS) { " (mean over the seeds)" } else { "" };
    let title = format!("{label} vs {x_words}{over_seeds}");
    let series_name = |name: &str| if name.is_empty() { label.clone() } else { settings_words(name) };
    let numbers: Option<Vec<f64>> = means.xs.iter().map(|x| x.parse::<f64>().ok().filter(|v| v.is_finite())).collect();
    let Some(xs) = numbers else {
        let categories: Vec<String> = means.xs.iter().map(|x| value_words(&means.x_field, x)).collect();
        let categories: Vec<&str> = categories.iter().map(String::as_str).collect();
        let bars: Vec<(String, Vec<f64>)> =
            means.series.iter().map(|(name, ys)| (series_name(name), ys.iter().map(|y| y * scale).collect())).collect();
        return Ok(bar_chart(&title, &y_label, &categories, &bars));
    };
    let series = means
        .series
        .iter()
        .map(|(name, ys)| {
            let mut points: Vec<(f64, f64)> = xs.iter().zip(ys).filter(|(_, y)| y.is_finite()).map(|(&x, &y)| (x, y * scale)).collect();
            points.sort_by(|a, b| a.0.total_cmp(&b.0)); // the sweep may list an axis in any order
            Series { name: series_name(name), points }
        })
        .collect();
    Ok(line_chart(&LineChart {
        title: &title,
        x_label: &x_words,
        y_label: &y_label,
        log_x: xs.iter().all(|&x| x > 0.0) && spans_more_than(10.0, xs.iter().copied()),
        series,
        ..Default::default()
    }))
}

/// The metrics of the plan's table, as in the CLI's `stress` (plus the wall time).
const PLAN_COLUMNS: [&str; 5] = ["throughput_rps", "latency_mean_s", "latency_p99_s", "capacity_under_sla_rps", "wall_time_s"];

/// Each scheduler's capacity: the load factor and arrival rate, the runs the search
/// made, and whether it closed to its tolerance.
pub fn capacity_table(rows: &[(String, Capacity)], target: f64) -> String {
    let mut html = format!(
        r#"<table id="capacity-table"><caption>Capacity: the highest load with SLO attainment of at least {}</caption><thead><tr><th scope="col">scheduler</th><th scope="col">capacity (load factor)</th><th scope="col">arrival rate</th><th scope="col">runs</th><th scope="col">converged</th></tr></thead><tbody>"#,
        human::percent(target)
    );
    for (label, c) in rows {
        let words = SchedulerKind::parse(label).map_or_else(|_| label.clone(), |k| scheduler_words(k).to_string());
        html += &format!(
            r#"<tr><th scope="row">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
            batchlab_charts::escape(&words),
            c.factor.map_or("below the lowest load tried".into(), human::number),
            c.arrival_rate_rps.map_or(human::UNDEFINED.into(), |r| human::with_unit(r, "req/s")),
            c.points.len(),
            if c.converged { "yes" } else { "no (ran out of runs)" }
        );
    }
    html + "</tbody></table>"
}

/// One row per plan run (errors included), and the analysis' key findings.
pub fn plan_table(plan: &PlanOutput) -> String {
    let columns = PLAN_COLUMNS.map(metric);
    let mut html = String::from(concat!(
        r#"<table id="plan-table"><caption>Stress plan runs</caption><thead><tr>"#,
        r#"<th scope="col">step</th><th scope="col">run</th>"#,
    ));
    for m in &columns {
        html += &format!(r#"<th scope="col">{}</th>"#, escape(m.label));
    }
    html += "</tr></thead><tbody>";
    for run in &plan.result.runs {
        html += &format!("<tr><td>{}</td><td>{}</td>", run.step, escape(&run_label(&run.label)));
        match &run.result {
            Ok(r) => {
                for m in &columns {
                    html += &format!("<td>{}</td>", escape(&m.human(r)));
                }
            }
            Err(e) => html += &format!(r#"<td colspan="{}">error: {}</td>"#, columns.len(), escape(e)),
        }
        html += "</tr>";
    }
    html += "</tbody></table>";
    if !plan.findings.is_empty() {
        html += r#"<h3>Key findings</h3><ul id="findings">"#;
        for f in &plan.findings {
            html += &format!("<li>{}</li>", escape(f));
        }
        html += "</ul>";
    }
    html
}

/// A plan run's label for people: "K=..." left out for a scheduler without bins (static
/// FIFO's step-1 runs carry the plan's K in the CSV's label, but serve one queue).
pub fn run_label(label: &str) -> String {
    let binless = label.split(' ').any(|w| SchedulerKind::parse(w).is_ok_and(|k| !k.uses_bins()));
    if !binless {
        return label.to_string();
    }
    label.split(' ').filter(|w| !w.starts_with("K=")).collect::<Vec<_>>().join(" ")
}

/// The plan's runs beside dd5f07f's published runs of the same scheduler, N, GPUs and K
/// (`plan::published`; the metrics of `_published_vs_reproduced.csv`), with where the
/// published ones come from and what they can be compared on.
pub fn plan_published_table(plan: &PlanOutput) -> String {
    use batchlab::plan::published::{pair, runs, SOURCE};
    use batchlab::report::plan_published::{capacity, COMPARED};
    let published = runs();
    let pairs = pair(&plan.result.runs, &published);
    let matched = pairs.iter().filter(|(_, p)| p.is_some()).count();
    let same = |run: &PlanRun, p: &batchlab::plan::published::PublishedRun| run.result.as_ref().is_ok_and(|r| p.same_setting(&r.config));
    let differ = pairs.iter().filter(|(run, p)| p.is_some_and(|p| !same(run, p))).count();
    let mut html = format!(
        concat!(
            r#"<p id="plan-published-note">{} of the {} runs have a published run of the same scheduler, requests, GPUs and K. "#,
            r#"The published runs read the original's own input (data/BurstGPT_sample.csv, not in its repository) at x200 load with a 1.0 s request deadline (or the trace's own timestamps): "#,
            r#"they agree with these in shape, not in value, unless the input is that file and the setting is the same (preset compat).{}</p>"#,
            r#"<table id="plan-published"><caption>The plan's runs and the published ones (source: {})</caption><thead><tr>"#,
            r#"<th scope="col">step</th><th scope="col">run</th><th scope="col">load and deadline</th>"#,
        ),
        matched,
        pairs.len(),
        if differ > 0 { format!(" {differ} matched run(s) differ in load factor or request deadline.") } else { String::new() },
        escape(SOURCE),
    );
    for key in COMPARED {
        html += &format!(r#"<th scope="col">{}</th><th scope="col">published</th>"#, escape(metric(key).label));
    }
    html += r#"<th scope="col">capacity under the request deadline</th><th scope="col">published</th></tr></thead><tbody>"#;
    for (run, p) in pairs {
        html += &format!("<tr><td>{}</td><td>{}</td>", run.step, escape(&run_label(&run.label)));
        let Ok(r) = &run.result else {
            html += &format!(r#"<td colspan="{}">error</td></tr>"#, 1 + 2 * (COMPARED.len() + 1));
            continue;
        };
        let theirs = p.map(|p| p.as_result());
        html += &format!("<td>{}</td>", if p.is_some_and(|p| same(run, p)) { "same" } else if p.is_some() { "differ" } else { "–" });
        let cell = |x: Option<String>| format!("<td>{}</td>", escape(&x.unwrap_or_else(|| "–".into())));
        for key in COMPARED {
            let m = metric(key);
            html += &cell(Some(m.human(r)));
            html += &cell(theirs.as_ref().map(|t| m.human(t)));
        }
        html += &cell(Some(human::with_unit(capacity(r, false), "req/s")));
        html += &cell(theirs.as_ref().map(|t| human::with_unit(capacity(t, true), "req/s")));
        html += "</tr>";
    }
    html + "</tbody></table>"
}

/// The study's step 2 per load (the four methods per request count) beside the published
/// numbers of the same method and request count, and what the two can be compared on.
pub fn study_table(study: &StudyOutput) -> String {
    use batchlab::study::published::{published, SOURCE};
    let r = &study.result;
    let mut html = String::new();
    if r.workload.starts_with("synthetic") {
        html += r#"<p id="study-note">These runs use the synthetic BurstGPT-like workload: only the shapes of the figures compare with the published ones (the original's input, data/BurstGPT_sample.csv, is not in its repository). With your own BurstGPT file the numbers should match.</p>"#;
    }
    let pct = |a: f64, b: f64| if b != 0.0 && a.is_finite() && b.is_finite() { format!("{:+.0}%", 100.0 * (a - b) / b) } else { "–".into() };
    for load in &r.loads {
        let reference = published(&load.folder, 2);
        html += &format!(
            concat!(
                r#"<table class="study-table"><caption>Step 2 at x{} load: the methods compared, and published (source: {})</caption><thead><tr>"#,
                r#"<th scope="col">requests</th><th scope="col">method</th><th scope="col">throughput</th><th scope="col">published</th><th scope="col">difference</th>"#,
                r#"<th scope="col">latency mean</th><th scope="col">published</th><th scope="col">request SLA violations</th><th scope="col">published</th><th scope="col">published method</th></tr></thead><tbody>"#
            ),
            load.rps_scaling,
            escape(SOURCE)
        );
        for (i, run) in load.comparison.iter().enumerate() {
            let m = &run.result.metrics;
            let number = i % 4 + 1;
            let p = reference.iter().find(|p| p.num_requests == run.result.config.requests && p.method_number() == Some(number as u32));
            let value = |c: &str| p.and_then(|p| p.value(c)).unwrap_or(f64::NAN);
            use batchlab::report::human::{duration, percent, with_unit};
            html += &format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                run.result.config.requests,
                escape(run.method.as_deref().unwrap_or("")),
                with_unit(m.throughput_rps, "req/s"),
                with_unit(value("throughput_req_s"), "req/s"),
                pct(m.throughput_rps, value("throughput_req_s")),
                duration(m.latency_mean_s),
                duration(value("avg_latency_s")),
                percent(m.request_sla_violation_rate),
                percent(value("request_sla_pct") / 100.0),
                escape(p.map_or("–", |p| p.method.as_str())),
            );
        }
        html += "</tbody></table>";
    }
    html
}

#[cfg(test)]
mod tests {
    use super::*;
    use batchlab::metrics::BinStats;
    use batchlab::token::histogram::bucket_f64;

    #[test]
    fn tables_escape_text_and_list_every_bin() {
        let mut r = RunResult { workload: "trace <a&b>.csv".into(), ..Default::default() };
        assert!(summary_table(&[&r], &[]).contains("trace &lt;a&amp;b&gt;.csv"));
        assert!(!summary_table(&[&r], &[]).contains("token pass"));
        let pass = TokenPassInfo { gpu: Some("SwiftShader".into()), gpu_error: None, seconds: 0.0123 };
        assert!(summary_table(&[&r], &[&pass]).contains("<td>GPU, 12.3 ms</td>"));
        assert_eq!(bins_table(&r), "");
        r.bins = (0..3)
            .map(|i| BinStats { bin: i, predicted_lo: i as f64 * 10.0, predicted_hi: if i == 2 { f64::INFINITY } else { (i + 1) as f64 * 10.0 }, ..Default::default() })
            .collect();
        let html = bins_table(&r);
        assert_eq!(html.matches("<tr><td>").count(), 3);
        assert!(html.contains("[20, ∞)"));
    }

    #[test]
    fn summary_rows_are_the_cores_metrics_humanised() {
        let mut r = RunResult::default();
        r.metrics.ttft_p95_s = 2510.329767;
        r.metrics.tbt_p50_s = f64::NAN;
        r.metrics.token_sla_violation_rate = 0.25;
        let html = summary_table(&[&r], &[]);
        for m in metrics_table::all() {
            // A batch run alone: continuous batching's metrics and costs are left out.
            let row = format!(r#"<th scope="row">{}</th>"#, escape(m.label));
            assert_eq!(html.contains(&row), m.applies(&r), "{}", m.label);
        }
        assert!(!html.contains("SLO attainment"), "{html}");
        assert!(html.contains(r#"<th scope="row">TTFT p95</th><td>41.8 min</td>"#), "{html}");
        assert!(html.contains(r#"<th scope="row">TBT p50</th><td>–</td>"#), "{html}");
        assert!(html.contains(r#"<th scope="row">token SLA violations (requests)</th><td>25.0 %</td>"#), "{html}");
        assert!(html.contains(r#"<th scope="row">notes</th><td>–</td>"#), "{html}");

        // Beside a continuous run: its metrics appear, "–" for the batch run.
        let mut c = RunResult::default();
        c.config.scheduler = batchlab::SchedulerKind::Continuous;
        c.metrics.continuous = Some(batchlab::metrics::ContinuousMetrics { slo_attainment: 0.875, preemptions: 3, ..Default::default() });
        let pass = TokenPassInfo { gpu: Some("SwiftShader".into()), gpu_error: None, seconds: 0.0123 };
        let no_pass = TokenPassInfo { gpu: None, gpu_error: None, seconds: 0.0 };
        let html = summary_table(&[&r, &c], &[&pass, &no_pass]);
        assert!(html.contains(r#"<th scope="row">SLO attainment (TTFT and TBT)</th><td>–</td><td>87.5 %</td>"#), "{html}");
        assert!(html.contains(r#"<th scope="row">preemptions</th><td>–</td><td>3</td>"#), "{html}");
        assert!(html.contains(r#"<th scope="row">token pass</th><td>GPU, 12.3 ms</td><td>none: the iteration engine timed every token</td>"#), "{html}");
    }

    /// Every metric is shown in one group (the wall time with the sources); the groups
    /// come in order, each a <tbody> under a heading row that spans the table.
    #[test]
    fn summary_groups_hold_every_metric_once() {
        for m in metrics_table::all() {
            let groups = METRIC_GROUPS.iter().filter(|(_, keys)| keys.contains(&m.key)).count();
            assert_eq!(groups, usize::from(m.key != metrics_table::WALL_TIME.key), "{}", m.key);
        }
        let r = RunResult::default();
        let html = summary_table(&[&r, &r], &[]);
        let headings: Vec<&str> = html.split(r#"<th scope="rowgroup" colspan="3">"#).skip(1).map(|h| &h[..h.find('<').unwrap()]).collect();
        assert_eq!(headings, ["What ran", "Throughput", "Latency", "SLAs", "Utilisation", "Batches", "Latency model", "Where the numbers come from"]);
        assert_eq!(html.matches("<tbody>").count(), headings.len());
        assert_eq!(html.matches("</tbody>").count(), headings.len());
        assert!(html.contains(r#"<th scope="col">multi-bin dynamic</th><th scope="col">multi-bin dynamic</th></tr></thead>"#), "{html}");
        // A metric sits in its group: p99 latency after "Latency", before "SLAs".
        let at = |text: &str| html.find(text).unwrap_or_else(|| panic!("{text}"));
        assert!(at(">Latency<") < at(">latency p99<") && at(">latency p99<") < at(">SLAs<"));
        assert!(at(">Where the numbers come from<") < at(">wall time<"));
    }

    /// Static FIFO's runs have no bins: the page leaves out the plan's K from their label.
    #[test]
    fn plan_labels_name_k_only_for_binned_schedulers() {
        assert_eq!(run_label("step1 static_fifo N=1000 GPUs=1 K=8"), "step1 static_fifo N=1000 GPUs=1");
        assert_eq!(run_label("step1 dynamic_no_bins N=1000 GPUs=1 K=8"), "step1 dynamic_no_bins N=1000 GPUs=1");
        assert_eq!(run_label("step1 multi_bin_dynamic N=1000 GPUs=2 K=8"), "step1 multi_bin_dynamic N=1000 GPUs=2 K=8");
    }

    /// Step 2's chart marks a saturation only where the analysis saw one, else says so.
    #[test]
    fn step2_marks_saturation_only_where_the_runs_show_it() {
        use batchlab::plan::{PlanResult, PlanSpec};
        use batchlab::Preset;
        let run = |gpus: u32, thr: f64| {
            let mut r = RunResult::default();
            r.config.gpus = gpus;
            r.metrics.throughput_rps = thr;
            r.metrics.arrival_rate_rps = 40.0;
            PlanRun { step: 2, label: format!("step2 multi_bin_dynamic GPUs={gpus} K=8"), result: Ok(r) }
        };
        let plan = |runs: Vec<PlanRun>| {
            let result = PlanResult {
                spec: PlanSpec::new(Preset::Paper),
                workload: "w".into(),
                source_requests: 1,
                runs,
                best_gpu_count: None,
                best_gpu_count_origin: String::new(),
            };
            batchlab::session::plan_output(result, "p")
        };
        // Still rising at the largest count, at half the arrival rate: no marker.
        let rising = plan(vec![run(1, 5.0), run(2, 10.0), run(4, 20.0)]);
        assert_eq!(rising.saturation_gpus, None);
        let chart = plan_charts(&rising).into_iter().find(|c| c.file_name == "step2_gpu_scaling.svg").unwrap();
        assert!(!chart.svg.contains("saturation"), "{}", chart.svg);
        assert!(chart.svg.contains("arrival rate 40.0 req/s"));
        assert_eq!(chart.caption, "No saturation within the GPUs tried: throughput was still rising at 4 GPUs (20.0 req/s of 40.0 req/s arriving).");
        // Levelled off at 2 GPUs: marked there.
        let level = plan(vec![run(1, 5.0), run(2, 39.0), run(4, 40.0)]);
        let chart = plan_charts(&level).into_iter().find(|c| c.file_name == "step2_gpu_scaling.svg").unwrap();
        assert!(chart.svg.contains("saturation: 2 GPUs"));
        assert!(chart.caption.starts_with("Throughput levels off from 2 GPUs"));
    }

    #[test]
    fn plan_table_shows_each_run_and_spans_errors() {
        use batchlab::plan::{PlanResult, PlanSpec};
        use batchlab::Preset;
        let mut ok = RunResult { wall_time_s: 0.0123, ..Default::default() };
        ok.metrics.throughput_rps = 3.456;
        let runs = vec![
            PlanRun { step: 1, label: "a".into(), result: Ok(ok) },
            PlanRun { step: 2, label: "b <x>".into(), result: Err("boom".into()) },
        ];
        let result = PlanResult {
            spec: PlanSpec::new(Preset::Paper),
            workload: "w".into(),
            source_requests: 1,
            runs,
            best_gpu_count: None,
            best_gpu_count_origin: String::new(),
        };
        let html = plan_table(&PlanOutput { result, files: Vec::new(), saturation_gpus: None, findings: vec!["f".into()] });
        assert!(html.contains(r#"<th scope="col">goodput: both SLAs met</th>"#), "{html}");
        assert!(html.contains("<td>3.46 req/s</td>") && html.contains("<td>12.3 ms</td>"), "{html}");
        assert!(html.contains(r#"<td>b &lt;x&gt;</td><td colspan="5">error: boom</td>"#), "{html}");
        assert!(html.contains(r#"<ul id="findings"><li>f</li></ul>"#), "{html}");
    }

    #[test]
    fn the_plans_published_table_pairs_runs_by_configuration() {
        use batchlab::config::{Config, SchedulerKind};
        use batchlab::plan::{PlanResult, PlanSpec};
        use batchlab::Preset;
        let run = |step: u8, scheduler: SchedulerKind, requests: usize, gpus: u32, k_bins: u32, preset: Preset| {
            let config = Config { scheduler, requests, gpus, k_bins, ..Config::preset(preset) };
            let mut r = RunResult { config, ..Default::default() };
            r.metrics.throughput_rps = 3.456;
            r.metrics.request_sla_violation_rate = 0.5;
            PlanRun { step, label: format!("step{step} {scheduler} N={requests} GPUs={gpus} K={k_bins}"), result: Ok(r) }
        };
        let runs = vec![
            run(1, SchedulerKind::StaticFifo, 1_000, 1, 8, Preset::Compat),
            run(2, SchedulerKind::MultiBinDynamic, 1_000_000, 100, 8, Preset::Paper),
            run(2, SchedulerKind::MultiBinDynamic, 2_000, 2, 8, Preset::Compat),
            PlanRun { step: 3, label: "c".into(), result: Err("boom".into()) },
        ];
        let result = PlanResult {
            spec: PlanSpec::new(Preset::Compat),
            workload: "w".into(),
            source_requests: 1,
            runs,
            best_gpu_count: None,
            best_gpu_count_origin: String::new(),
        };
        let html = plan_published_table(&PlanOutput { result, files: Vec::new(), saturation_gpus: None, findings: Vec::new() });
        assert!(html.contains("2 of the 4 runs have a published run") && html.contains("1 matched run(s) differ"), "{html}");
        assert!(html.contains("TravisLeeTS/llm-scheduler-sim at dd5f07f"), "{html}");
        let rows: Vec<&str> = html.split("<tr>").skip(2).collect();
        assert_eq!(rows.len(), 4);
        // Binless: the plan's K is left out of the label and does not stop the match.
        assert!(rows[0].starts_with("<td>1</td><td>step1 static_fifo N=1000 GPUs=1</td><td>same</td><td>50.0 %</td><td>"), "{}", rows[0]);
        assert!(rows[1].contains("<td>differ</td>"), "{}", rows[1]);
        // No published run of 2,000 requests: every published cell is "–".
        assert_eq!(rows[2].matches("<td>–</td>").count(), 1 + COMPARED_COUNT, "{}", rows[2]);
        assert!(rows[3].contains(r#"<td colspan="17">error</td>"#), "{}", rows[3]);
    }

    /// The compared metrics and the capacity: one published cell each.
    const COMPARED_COUNT: usize = batchlab::report::plan_published::COMPARED.len() + 1;

    #[test]
    fn run_charts_are_three_svgs_plus_kv_and_tbt_when_the_run_has_them() {
        let mut r = RunResult::default();
        let charts = run_charts(&[&r, &r]);
        let names: Vec<&str> = charts.iter().map(|c| c.file_name.as_str()).collect();
        assert_eq!(names, ["latency_percentiles.svg", "queue_length.svg", "busy_gpus.svg"]);
        assert!(charts.iter().all(|c| c.svg.starts_with("<svg") && !c.caption.is_empty() && !c.wide));
        let edges = edges_f64();
        r.tbt_histogram.add_to_bucket(bucket_f64(&edges, 0.01), 3);
        r.tbt_histogram.cover(0.01, 0.01);
        let charts = run_charts(&[&r]);
        assert_eq!(charts.last().unwrap().file_name, "tbt_distribution.svg");
        assert!(charts.last().unwrap().svg.starts_with("<svg"));

        // A continuous run's KV cache and running sequences: two panels, one line each.
        r.timeseries.t_s = vec![0.0, 1.0, 2.0];
        r.timeseries.kv_used = vec![0.0, 0.5, 0.25];
        r.timeseries.running = vec![0, 7, 3];
        let charts = run_charts(&[&r]);
        let names: Vec<&str> = charts.iter().map(|c| c.file_name.as_str()).collect();
        assert_eq!(names, ["latency_percentiles.svg", "queue_length.svg", "busy_gpus.svg", "kv_cache_running.svg", "tbt_distribution.svg"]);
        let kv = &charts[3];
        assert!(kv.wide && kv.caption.starts_with("Left: the share of all GPUs' KV-cache blocks"));
        assert_eq!(kv.svg.matches("<svg").count(), 3, "a figure of two panels");
        assert_eq!(kv.svg.matches("<polyline").count(), 2);
        for text in ["KV cache in use and running sequences over time", "% of KV blocks, all GPUs", "sequences, all GPUs"] {
            assert!(kv.svg.contains(text), "{text}");
        }
    }

    #[test]
    fn tbt_quantiles_rise_from_the_smallest_gap_at_0_to_the_largest_at_100_percent() {
        let edges = edges_f64();
        let mut h = LogHistogram::default();
        assert!(tbt_quantiles(&h, &edges, 50).is_empty());
        // 10 gaps of 5 ms, 30 of 8 ms, 60 of 20 ms.
        for (x, n) in [(0.005, 10), (0.008, 30), (0.020, 60)] {
            h.add_to_bucket(bucket_f64(&edges, x), n);
        }
        h.cover(0.005, 0.020);
        let q = tbt_quantiles(&h, &edges, 201);
        assert_eq!(q.len(), 201);
        assert_eq!((q[0].0, q[0].1), (0.0, 5.0));
        assert_eq!(q[200], (100.0, 20.0));
        assert!(q.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1), "increasing");
        // Nearest rank: 10% of gaps are 5 ms, the 11th of 100 is 8 ms, the 41st 20 ms.
        let at = |pct: f64| q.iter().find(|p| (p.0 - pct).abs() < 1e-9).unwrap().1;
        let near = |got: f64, ms: f64| (got / ms - 1.0).abs() < 1e-3;
        assert!(near(at(10.0), 5.0) && near(at(10.5), 8.0) && near(at(40.0), 8.0) && near(at(40.5), 20.0), "{q:?}");
    }

    /// A log time axis labelled every point of the curve (300 labels on top of one
    /// another); the quantiles on a linear share axis label a few round values.
    #[test]
    fn tbt_chart_labels_a_few_round_values_and_marks_the_limit() {
        let edges = edges_f64();
        let mut r = RunResult::default();
        // Decodes of 5 ms and a few prefill stalls of up to 2 s: a log gap axis.
        for (x, n) in [(0.005, 9_000), (0.006, 900), (0.3, 90), (2.0, 10)] {
            r.tbt_histogram.add_to_bucket(bucket_f64(&edges, x), n);
        }
        r.tbt_histogram.cover(0.005, 2.0);
        r.config.scheduler = batchlab::SchedulerKind::Continuous;
        let charts = run_charts(&[&r]);
        let svg = &charts.last().unwrap().svg;
        assert!(svg.matches("<text").count() < 30, "{svg}");
        assert!(svg.contains("TBT SLO 100 ms"), "the continuous run's TBT SLO");
        for tick in [">10</text>", ">100</text>", ">1000</text>"] {
            assert!(svg.contains(tick), "log axis tick {tick}");
        }
        // A batch run's narrow range: a linear axis, with its per-token SLA.
        r.config.scheduler = batchlab::SchedulerKind::MultiBinDynamic;
        r.tbt_histogram = LogHistogram::default();
        r.tbt_histogram.add_to_bucket(bucket_f64(&edges, 0.0057), 50);
        r.tbt_histogram.add_to_bucket(bucket_f64(&edges, 0.0075), 50);
        r.tbt_histogram.cover(0.0057, 0.0075);
        let charts = run_charts(&[&r]);
        let svg = &charts.last().unwrap().svg;
        assert!(svg.contains("per-token SLA 10.0 ms") && svg.contains(">0</text>"), "{svg}");
    }

    /// Compare: six real runs, batch and continuous, on one small workload.
    #[test]
    fn compare_of_all_six_schedulers_draws_and_tabulates_without_nan() {
        use batchlab::config::{Config, Preset, SchedulerKind};
        use batchlab::session::{Inputs, Session};
        let config = Config { requests: 1_000, gpus: 2, k_bins: 3, ..Config::preset(Preset::Paper) };
        let session = Session::open(&Inputs::default()).unwrap();
        let hooks = batchlab::Hooks { clock: &|| 0.0, progress: &mut |_| true };
        let outs = batchlab::token::now(session.compare(Preset::Paper, &config, hooks, batchlab::token::CpuTokenPass)).unwrap();
        let results: Vec<&RunResult> = outs.iter().map(|o| &o.result).collect();
        assert_eq!(results.iter().map(|r| r.config.scheduler).collect::<Vec<_>>(), SchedulerKind::ALL.to_vec());

        let charts = run_charts(&results);
        let names: Vec<&str> = charts.iter().map(|c| c.file_name.as_str()).collect();
        assert_eq!(names, ["latency_percentiles.svg", "queue_length.svg", "busy_gpus.svg", "kv_cache_running.svg", "tbt_distribution.svg"]);
        for c in &charts {
            assert!(!c.svg.contains("NaN") && !c.svg.contains("inf"), "{}", c.file_name);
        }
        assert_eq!(charts[0].svg.matches("<title>").count(), 5 * 6, "every latency bar");
        for (chart, lines) in [(1, 6), (2, 6), (3, 2 * 2), (4, 6)] {
            assert_eq!(charts[chart].svg.matches("<polyline").count(), lines, "{}", names[chart]);
        }
        assert!(charts[3].svg.contains(">continuous</text>") && charts[3].svg.contains(">multi-bin continuous</text>"));
        assert!(!charts[3].svg.contains(">static FIFO</text>"), "only the continuous runs have a KV cache");
        // Legends in words, never the spelling of the files and links.
        for c in &charts {
            assert!(!c.svg.contains("static_fifo") && !c.svg.contains("multi_bin"), "{}", c.file_name);
        }
        assert!(charts[0].svg.contains(">static FIFO</text>") && charts[0].svg.contains(">dynamic, no bins</text>"));
        let tbt = &charts[4].svg;
        assert!(tbt.contains("per-token SLA 10.0 ms") && tbt.contains("TBT SLO 100 ms"), "both limits");

        let passes: Vec<&TokenPassInfo> = outs.iter().map(|o| &o.token_pass).collect();
        let html = summary_table(&results, &passes);
        let row = |label: &str| {
            let start = html.find(&format!(r#"<th scope="row">{label}</th>"#)).unwrap_or_else(|| panic!("no row {label}"));
            let row = &html[start..];
            row[..row.find("</tr>").unwrap()].matches("<td>").count()
        };
        assert_eq!(row("SLO attainment (TTFT and TBT)"), 6);
        assert!(html.matches("<td>–</td>").count() >= 4 * 7, "the batch runs' continuous metrics");
        assert!(!html.contains("NaN"));
        assert_eq!(token_pass_line(&outs), "Token pass: CPU, 0.0 ms for 4 runs");
        assert_eq!(token_pass_line(&outs[4..]), "Token pass: none: the iteration engine timed every token");
    }

    /// Each scheduler's words are the page's menu text for it (up to a parenthesis).
    #[test]
    fn scheduler_words_are_the_menus() {
        let html = include_str!("../index.html");
        for &s in SchedulerKind::ALL {
            let option = format!(r#"<option value="{}">{}"#, s.name(), scheduler_words(s));
            let start = html.find(&option).unwrap_or_else(|| panic!("{s}: no {option}"));
            assert!(matches!(&html[start + option.len()..][..2], "</" | " ("), "{s}: the menu says more");
        }
        assert_eq!(label_words("multi_bin_continuous"), "multi-bin continuous");
        assert_eq!(label_words("my tuned config"), "my tuned config");
    }

    /// The text of each <text> of an SVG, its tspans joined (a wrapped legend entry is one).
    fn texts(svg: &str) -> Vec<String> {
        let strip = |t: &str| t.split('<').map(|part| part.split_once('>').map_or(part, |(_, text)| text)).collect::<String>();
        svg.split("<text").skip(1).map(|t| strip(&t[t.find('>').unwrap() + 1..t.find("</text>").unwrap()])).collect()
    }

    fn capacity(points: &[(f64, f64)], capacity: Option<f64>, converged: bool) -> Capacity {
        use batchlab::capacity::LoadPoint;
        let points = points.iter().map(|&(rate, attainment)| LoadPoint { factor: rate / 2.0, arrival_rate_rps: rate, attainment }).collect();
        Capacity { factor: capacity.map(|r| r / 2.0), arrival_rate_rps: capacity, points, converged }
    }

    #[test]
    fn capacity_chart_names_each_scheduler_and_its_capacity_in_words() {
        let fifo = capacity(&[(2.0, 1.0), (4.0, 0.98), (6.0, 0.93), (7.0, 0.91), (8.0, 0.5)], Some(7.0), true);
        let continuous = capacity(&[(2.0, 0.7), (4.0, 0.4)], None, false);
        let mine = capacity(&[(3.0, 0.95), (6.0, 0.2), (4.5, 0.92)], Some(4.5), false);
        let rows = vec![("static_fifo".to_string(), fifo), ("multi_bin_continuous".to_string(), continuous)];
        let svg = capacity_chart(&rows, 0.9);
        let shown = texts(&svg);
        for text in [
            "SLO attainment vs load",
            "arrival rate (req/s)",
            "static FIFO: 7.00 req/s",
            "multi-bin continuous: below the lowest load tried",
            "target 90.0 %",
            "capacity 7.00 req/s", // the one capacity: a line at it
        ] {
            assert!(shown.iter().any(|t| t == text), "{text}\n{shown:?}");
        }
        assert!(!svg.contains("static_fifo") && !svg.contains("NaN"), "{svg}");
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert_eq!(svg.matches("<circle").count(), 5 + 2, "a marker per load tried");

        // Two capacities: no line at either (the legend says them); a label that is no
        // scheduler is kept; a search that ran out of runs gives a lower bound.
        let rows = vec![rows[0].clone(), ("my config".to_string(), mine)];
        let svg = capacity_chart(&rows, 0.95);
        let shown = texts(&svg);
        assert!(shown.contains(&"my config: at least 4.50 req/s".into()) && shown.contains(&"target 95.0 %".into()), "{shown:?}");
        assert!(!shown.iter().any(|t| t.starts_with("capacity ")), "{shown:?}");
        assert_eq!(svg.matches("<circle").count(), 5 + 3);
    }

    /// The arrival-rate axis is logarithmic (ticks at the loads tried) past 10x, linear
    /// (round ticks) below.
    #[test]
    fn capacity_chart_goes_log_past_a_tenfold_span_of_loads() {
        let wide = capacity(&[(1.5, 1.0), (3.0, 0.95), (30.0, 0.1)], Some(3.0), true); // 20x
        let svg = capacity_chart(&[("continuous".into(), wide)], 0.9);
        assert!(svg.contains(">1.5</text>") && svg.contains(">3</text>") && svg.contains(">30</text>"), "{svg}");
        let narrow = capacity(&[(2.0, 1.0), (3.0, 0.95), (16.0, 0.1)], Some(3.0), true); // 8x
        let svg = capacity_chart(&[("continuous".into(), narrow)], 0.9);
        assert!(svg.contains(">10</text>") && !svg.contains(">3</text>"), "{svg}");
    }

    type SweepRuns = Vec<(batchlab::sweep::SweepPoint, Result<RunResult, String>)>;

    /// A real sweep (`batchlab sweep`'s runs, through the core's session): its axes and runs.
    fn sweep(axes_toml: &str) -> (Vec<String>, SweepRuns) {
        use batchlab::session::{Inputs, Session};
        use batchlab::sweep::SweepSpec;
        use batchlab::token::{now, CpuTokenPass};
        let text = format!("preset = \"paper\"\n[base]\nrequests = 300\n[axes]\n{axes_toml}");
        let spec = SweepSpec::parse_toml(text.as_bytes(), "test.toml").unwrap();
        let session = Session::open(&Inputs::default()).unwrap();
        let runs = spec
            .points(0..spec.run_count().unwrap())
            .unwrap()
            .into_iter()
            .map(|p| {
                let out = now(session.run(spec.preset, &p.config, &|| 0.0, CpuTokenPass));
                let result = out.map(|o| o.result).map_err(|e| e.to_string());
                (p, result)
            })
            .collect();
        (spec.axes.iter().map(|a| a.field.clone()).collect(), runs)
    }

    /// The runs CSV that `sweep_chart` reads (`runs_csv` takes only the axes' fields).
    fn runs_csv(axes: &[String], runs: &SweepRuns) -> String {
        let spec_axes: Vec<batchlab::sweep::Axis> = axes.iter().map(|a| batchlab::sweep::Axis { field: a.clone(), values: Vec::new() }).collect();
        batchlab::report::sweep::runs_csv(&spec_axes, runs)
    }

    /// The mean over the seeds of the runs that pass `pick`, from the results themselves.
    fn mean_of(runs: &SweepRuns, pick: impl Fn(&RunResult) -> bool, value: fn(&RunResult) -> f64) -> (f64, Vec<f64>) {
        let xs: Vec<f64> = runs.iter().filter_map(|(_, r)| r.as_ref().ok()).filter(|r| pick(r)).map(value).collect();
        (xs.iter().sum::<f64>() / xs.len() as f64, xs)
    }

    #[test]
    fn sweep_chart_draws_a_line_per_scheduler_of_the_seeds_mean_against_gpus() {
        let (axes, mut runs) = sweep("gpus = [1, 2, 4]\nscheduler = [\"static_fifo\", \"multi_bin_dynamic\"]\nseed = [1, 2]\n");
        assert_eq!(runs.len(), 12);
        let csv = runs_csv(&axes, &runs);
        let svg = sweep_chart(&csv, &axes, "throughput_rps").unwrap();
        let shown = texts(&svg);
        for text in ["throughput vs GPUs (mean over the seeds)", "GPUs", "throughput (req/s)", "static FIFO", "multi-bin dynamic"] {
            assert!(shown.iter().any(|t| t == text), "{text}\n{shown:?}");
        }
        assert_eq!(svg.matches("<polyline").count(), 2, "a line per scheduler");
        assert_eq!(svg.matches("<circle").count(), 2 * 3, "a point per GPU count, the seeds averaged");

        // The plotted values: each setting's mean over its two seeds (which differ).
        let means = sweep_means(&csv, &axes, "throughput_rps").unwrap();
        assert_eq!((means.x_field.as_str(), means.xs.clone()), ("gpus", vec!["1".to_string(), "2".into(), "4".into()]));
        let (name, ys) = &means.series[1];
        assert_eq!(name, "scheduler=multi_bin_dynamic");
        let pick = |r: &RunResult| r.config.gpus == 2 && r.config.scheduler == SchedulerKind::MultiBinDynamic;
        let (expected, seeds) = mean_of(&runs, pick, |r| r.metrics.throughput_rps);
        assert!(seeds.len() == 2 && seeds[0] != seeds[1], "{seeds:?}");
        assert!((ys[1] - expected).abs() < 1e-6, "{} vs {expected}", ys[1]); // the CSV's 6 decimals

        // A failed run is left out of its mean: the other seed's value alone.
        let failed = runs.iter().position(|(_, r)| r.as_ref().is_ok_and(pick)).unwrap();
        runs[failed].1 = Err("boom, a failure".into());
        let means = sweep_means(&runs_csv(&axes, &runs), &axes, "throughput_rps").unwrap();
        let (rest, _) = mean_of(&runs, pick, |r| r.metrics.throughput_rps);
        assert!(rest != expected && (means.series[1].1[1] - rest).abs() < 1e-6, "{means:?}");
    }

    #[test]
    fn sweep_chart_draws_bars_for_a_categorical_axis() {
        let (axes, runs) = sweep("scheduler = [\"static_fifo\", \"multi_bin_dynamic\"]\ngpus = [1, 2, 4]\nseed = [1, 2]\n");
        let csv = runs_csv(&axes, &runs);
        let svg = sweep_chart(&csv, &axes, "gpu_util_mean").unwrap();
        let shown = texts(&svg);
        for text in ["GPU utilisation mean vs scheduler (mean over the seeds)", "GPU utilisation mean (%)", "static FIFO", "multi-bin dynamic", "GPUs = 1", "GPUs = 4"] {
            assert!(shown.iter().any(|t| t == text), "{text}\n{shown:?}");
        }
        assert!(!svg.contains("<polyline"));
        assert_eq!(svg.matches("<title>").count(), 2 * 3, "a bar per scheduler and GPU count");
        // Each bar's value is the mean over the seeds, in %.
        let pick = |r: &RunResult| r.config.gpus == 4 && r.config.scheduler == SchedulerKind::StaticFifo;
        let (expected, _) = mean_of(&runs, pick, |r| 100.0 * r.metrics.gpu_util_mean);
        assert!(svg.contains(&format!("<title>{}</title>", batchlab_charts::tick_label(expected))), "{expected}\n{svg}");
    }

    #[test]
    fn sweep_chart_errors_are_one_line_and_its_choices_are_labelled() {
        let (axes, runs) = sweep("scheduler = [\"static_fifo\"]\nseed = [1]\n");
        let csv = runs_csv(&axes, &runs);
        assert!(sweep_chart(&csv, &axes, "throughput_rps").is_ok());
        let unknown = sweep_chart(&csv, &axes, "latency_p42_s").unwrap_err();
        assert_eq!(unknown, "the sweep's runs have no column 'latency_p42_s'");
        let no_axis = sweep_chart(&csv, &["scheduler".into(), "k_bins".into()], "throughput_rps").unwrap_err();
        assert_eq!(no_axis, "the sweep's runs have no axis 'k_bins' (column axis_k_bins)");
        assert!(sweep_chart(&csv, &["seed".into()], "throughput_rps").unwrap_err().contains("no axis but the seed"));
        let choices = sweep_metric_choices();
        assert_eq!(choices.len(), SUMMARY_METRICS.len());
        assert_eq!(choices[0], ("throughput_rps", "throughput (req/s)".to_string()));
        assert!(choices.iter().any(|c| *c == ("slo_attainment", "SLO attainment (TTFT and TBT) (%)".to_string())), "{choices:?}");
    }

    /// Quoted cells (commas, doubled quotes) stay one cell; a numeric axis spanning more
    /// than 10x is logarithmic, ticks at its values; a column that is no metric keeps its name.
    #[test]
    fn sweep_chart_reads_quoted_cells_and_goes_log_past_tenfold() {
        let csv = "sweep_index,axis_load.factor,label,batch_size_mean,sla_d_s\n\
                   0,3,\"load.factor=3, \"\"x\"\"\",4,1\n1,1.5,\"a,b\",2,1\n2,30,c,8,1\n";
        assert_eq!(csv_records(csv)[1][2], "load.factor=3, \"x\"");
        assert_eq!(csv_records("a,\"two\nlines\"\r\n,\n"), [vec!["a", "two\nlines"], vec!["", ""]]);
        let axes = ["load.factor".to_string()];
        let means = sweep_means(csv, &axes, "batch_size_mean").unwrap();
        assert_eq!(means.series, vec![(String::new(), vec![4.0, 2.0, 8.0])]);
        let svg = sweep_chart(csv, &axes, "batch_size_mean").unwrap();
        // The line runs left to right whatever the order of the axis's values.
        let points = svg.split(r#"points=""#).nth(1).and_then(|p| p.split('"').next()).unwrap();
        let xs: Vec<f64> = points.split(' ').map(|p| p.split(',').next().unwrap().parse().unwrap()).collect();
        assert!(xs.len() == 3 && xs.windows(2).all(|w| w[0] < w[1]), "{points}");
        assert!(svg.contains(">RPS scaling factor</text>") && svg.contains(">batch size mean</text>"), "{svg}");
        assert!(svg.contains(">1.5</text>") && svg.contains(">3</text>") && svg.contains(">30</text>"), "{svg}");
        assert!(sweep_chart(csv, &axes, "sla_d_s").unwrap().contains(">sla_d_s</text>"));
        // A zero (kappa may be 0) keeps the axis linear: a log axis would drop its point.
        let csv = "sweep_index,axis_token_kappa,throughput_rps\n0,0,1\n1,1,2\n2,20,3\n";
        let svg = sweep_chart(csv, &["token_kappa".to_string()], "throughput_rps").unwrap();
        assert_eq!(svg.matches("<circle").count(), 3, "{svg}");
    }
}
