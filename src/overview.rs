//! What the page shows first of a run or a comparison (a few large figures and the
//! comparison's chart), and the settings line every chart it exports carries. Pure
//! functions of the core's results, tested natively; `page::results` inserts them.

use batchlab::capacity::attainment;
use batchlab::config::{Config, Load, Preset};
use batchlab::report::human;
use batchlab::run::RunResult;
use batchlab_charts::{bar_chart, escape};

use crate::state::thousands;
use crate::view::{scheduler_words, Chart};

/// Height of the settings line added under a chart, in the chart's pixels.
const SETTINGS_STRIP: f64 = 18.0;

/// The settings a chart was drawn from, in one line: preset, requests, GPUs, K, load,
/// seed (and the trace, if one was used). `varied` names the fields (as the core spells
/// them: `gpus`, `load.factor`) that a job of many runs varied: they are listed as
/// varied instead of given one value.
pub fn settings_line(preset: Preset, config: &Config, trace: Option<&str>, varied: &[String]) -> String {
    let is_varied = |field: &str| varied.iter().any(|v| v == field);
    let mut parts = vec![format!("preset {}", preset.name())];
    if let Some(name) = trace {
        parts.push(format!("trace {name}"));
    }
    for (field, text) in [
        ("requests", format!("{} requests", config.requests)),
        ("gpus", format!("{} GPU{}", config.gpus, if config.gpus == 1 { "" } else { "s" })),
        ("k_bins", format!("K = {}", config.k_bins)),
        (
            "load.factor",
            match config.load {
                Load::RpsScaling { factor } => format!("load: arrival times ÷ {factor}"),
                Load::RealTimestamps => "load: real timestamps".into(),
            },
        ),
        ("seed", format!("seed {}", config.seed)),
    ] {
        if !is_varied(field) {
            parts.push(text);
        }
    }
    let mut line = parts.join(" · ");
    let varied: Vec<String> = varied.iter().map(|f| crate::state::control_for(f).map_or_else(|| f.clone(), |(_, label)| label.to_string())).collect();
    if !varied.is_empty() {
        line += &format!(" · varied: {}", varied.join(", "));
    }
    line
}

/// `svg` (a chart of `batchlab_charts`, whose root names its width and height) with
/// `line` as its `<desc>` and as a small line of text in a strip added at its bottom,
/// so a downloaded chart says what it was drawn from. An empty line changes nothing;
/// an SVG whose root has no size is returned as it is.
pub fn with_settings(svg: &str, line: &str) -> String {
    if line.is_empty() {
        return svg.to_string();
    }
    let Some(end) = svg.find('>') else { return svg.to_string() };
    let (root, rest) = svg.split_at(end);
    let number = |attr: &str| -> Option<(String, f64)> {
        let start = root.find(&format!(" {attr}=\""))? + attr.len() + 3;
        let text = &root[start..start + root[start..].find('"')?];
        Some((text.to_string(), text.parse().ok()?))
    };
    let (Some((w_text, w)), Some((h_text, h))) = (number("width"), number("height")) else { return svg.to_string() };
    let Some(body) = rest.strip_suffix("</svg>") else { return svg.to_string() };
    let new_h = h + SETTINGS_STRIP;
    let root = root
        .replacen(&format!(" height=\"{h_text}\""), &format!(" height=\"{new_h}\""), 1)
        .replacen(&format!("viewBox=\"0 0 {w_text} {h_text}\""), &format!("viewBox=\"0 0 {w_text} {new_h}\""), 1);
    let line = escape(line);
    // `body` still starts with the root's '>'.
    format!(
        concat!(
            r##"{root}>"##,
            r##"<desc>Settings: {line}</desc>{body}"##,
            r##"<rect y="{h}" width="{w}" height="{strip}" fill="#ffffff"/>"##,
            r##"<text x="8" y="{y}" font-size="10" fill="#555555">{line}</text></svg>"##
        ),
        root = root,
        line = line,
        body = &body[1..],
        h = h,
        w = w,
        strip = SETTINGS_STRIP,
        y = h + 13.0,
    )
}

/// What "SLAs met" counts for a run, in words.
fn sla_words(r: &RunResult) -> String {
    let c = &r.config;
    if c.scheduler.is_continuous() {
        format!("first token ≤ {}, 99 % of token gaps ≤ {}", human::duration(c.iteration.ttft_slo_s), human::duration(c.iteration.tbt_slo_s))
    } else {
        format!("latency ≤ {}, token gaps ≤ {}", human::duration(c.d_sla_request_s), human::duration(c.d_sla_token_s))
    }
}

/// One row of large figures: a title and throughput, p99 latency, SLAs met, GPU use.
fn figure_row(title: &str, r: &RunResult) -> String {
    let m = &r.metrics;
    let cells = [
        ("throughput", human::with_unit(m.throughput_rps, "req/s"), String::new()),
        ("p99 latency", human::duration(m.latency_p99_s), String::new()),
        ("SLAs met", human::percent(attainment(r)), sla_words(r)),
        ("GPU utilisation", human::percent(m.gpu_util_mean), String::new()),
    ];
    let mut html = format!(r#"<div class="key-row" data-scheduler="{}"><h3>{}</h3><dl>"#, r.config.scheduler.name(), escape(title));
    for (label, value, note) in cells {
        let note = if note.is_empty() { String::new() } else { format!(r#"<small>{}</small>"#, escape(&note)) };
        // The number large, its unit smaller ("4.25" "req/s").
        let value = match value.split_once(' ') {
            Some((number, unit)) => format!(r#"{}<span class="unit"> {}</span>"#, escape(number), escape(unit)),
            None => escape(&value),
        };
        html += &format!(r#"<div><dt>{label}</dt><dd><span class="big">{value}</span>{note}</dd></div>"#);
    }
    html + "</dl></div>"
}

/// The best and the worst of `results` by the share of requests meeting their SLAs
/// (ties: by throughput); the same run twice for one.
pub fn best_and_worst<'a>(results: &[&'a RunResult]) -> Option<(&'a RunResult, &'a RunResult)> {
    let key = |r: &&RunResult| (attainment(r), r.metrics.throughput_rps);
    let cmp = |a: &&&RunResult, b: &&&RunResult| {
        let (ka, kb) = (key(a), key(b));
        ka.0.total_cmp(&kb.0).then(ka.1.total_cmp(&kb.1))
    };
    // `max_by` keeps the last of equals and `min_by` the first: the earlier run wins a tie.
    let best = results.iter().rev().max_by(cmp)?;
    let worst = results.iter().min_by(cmp)?;
    Some((*best, *worst))
}

/// The large figures shown first: for one run its own; for a comparison the best and
/// the worst scheduler by SLAs met, with a sentence saying so. Empty for no run.
pub fn key_figures(results: &[&RunResult]) -> String {
    let Some((best, worst)) = best_and_worst(results) else { return String::new() };
    let mut html = String::from(r#"<section id="key-figures" aria-labelledby="key-figures-title"><h3 id="key-figures-title" class="visually-hidden">Key figures</h3>"#);
    if results.len() == 1 {
        html += &figure_row(&format!("This run: {}", scheduler_words(best.config.scheduler)), best);
    } else {
        let c = &best.config;
        html += &format!(
            r#"<p class="story">On the same {} requests and {} GPU{}, {} meets the SLAs of {} of requests; {} of {}.</p>"#,
            thousands(c.requests),
            c.gpus,
            if c.gpus == 1 { "" } else { "s" },
            scheduler_words(best.config.scheduler),
            human::percent(attainment(best)),
            scheduler_words(worst.config.scheduler),
            human::percent(attainment(worst)),
        );
        html += &figure_row(&format!("Best: {}", scheduler_words(best.config.scheduler)), best);
        html += &figure_row(&format!("Worst: {}", scheduler_words(worst.config.scheduler)), worst);
    }
    html + "</section>"
}

/// A comparison in one picture: per scheduler, the share of requests meeting their SLAs
/// beside the GPUs' mean utilisation (both in %).
pub fn comparison_chart(results: &[&RunResult]) -> Chart {
    let series: Vec<(String, Vec<f64>)> = results
        .iter()
        .map(|r| (scheduler_words(r.config.scheduler).to_string(), vec![100.0 * attainment(r), 100.0 * r.metrics.gpu_util_mean]))
        .collect();
    let svg = bar_chart("Requests meeting their SLAs, and GPU utilisation", "% (of requests; of GPU time)", &["SLAs met", "GPU utilisation"], &series);
    Chart {
        caption: "Per scheduler, on the same requests: the share that met their SLAs (both SLAs under the batch schedulers; the TTFT and TBT SLO under continuous batching) beside how busy the GPUs were.".into(),
        ..Chart::new("slas_and_utilisation.svg", svg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use batchlab::SchedulerKind;

    fn run(scheduler: SchedulerKind, sla_share: f64, throughput: f64) -> RunResult {
        let mut r = RunResult::default();
        r.config.scheduler = scheduler;
        r.metrics.requests_completed = 1000;
        r.metrics.makespan_s = 100.0;
        r.metrics.capacity_under_sla_rps = sla_share * 10.0;
        r.metrics.throughput_rps = throughput;
        r.metrics.latency_p99_s = 12.5;
        r.metrics.gpu_util_mean = 0.5;
        r
    }

    #[test]
    fn settings_line_names_the_settings_and_what_a_job_varied() {
        let c = Config { requests: 18_000, gpus: 8, k_bins: 8, seed: 42, load: Load::RpsScaling { factor: 12.0 }, ..Config::preset(Preset::Paper) };
        assert_eq!(settings_line(Preset::Paper, &c, None, &[]), "preset paper · 18000 requests · 8 GPUs · K = 8 · load: arrival times ÷ 12 · seed 42");
        let one = Config { gpus: 1, load: Load::RealTimestamps, ..c.clone() };
        assert_eq!(
            settings_line(Preset::Compat, &one, Some("a <b>.csv"), &["gpus".into(), "seed".into(), "scheduler".into()]),
            "preset compat · trace a <b>.csv · 18000 requests · K = 8 · load: real timestamps · varied: GPUs, Seed, Scheduler"
        );
    }

    #[test]
    fn settings_go_in_the_desc_and_a_strip_under_the_chart() {
        let svg = bar_chart("t", "y", &["a"], &[("s".into(), vec![1.0])]);
        assert_eq!(with_settings(&svg, ""), svg);
        let stamped = with_settings(&svg, "preset paper · K = 8 <x>");
        assert!(stamped.starts_with(r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 640 338" width="640" height="338" "#), "{stamped}");
        assert!(stamped.contains(r##"aria-label="t"><desc>Settings: preset paper · K = 8 &lt;x&gt;</desc><rect width="640" height="320" fill="#ffffff"/>"##), "{stamped}");
        assert!(stamped.ends_with(r##"<rect y="320" width="640" height="18" fill="#ffffff"/><text x="8" y="333" font-size="10" fill="#555555">preset paper · K = 8 &lt;x&gt;</text></svg>"##), "{stamped}");
        assert_eq!(stamped.matches("<svg").count(), 1);
        // Not a chart of ours: left alone.
        assert_eq!(with_settings("<svg>x</svg>", "a"), "<svg>x</svg>");
    }

    #[test]
    fn key_figures_show_one_run_or_the_best_and_worst_of_a_comparison() {
        assert_eq!(key_figures(&[]), "");
        let fifo = run(SchedulerKind::StaticFifo, 0.02, 3.7);
        let html = key_figures(&[&fifo]);
        assert!(html.contains(r#"<h3>This run: static FIFO</h3>"#), "{html}");
        for cell in [
            r#"<dt>throughput</dt><dd><span class="big">3.70<span class="unit"> req/s</span></span>"#,
            r#"<dt>p99 latency</dt><dd><span class="big">12.5<span class="unit"> s</span></span>"#,
            r#"<dt>SLAs met</dt><dd><span class="big">2.00<span class="unit"> %</span></span><small>latency ≤ 20.0 s, token gaps ≤ 10.0 ms</small>"#,
            r#"<dt>GPU utilisation</dt><dd><span class="big">50.0<span class="unit"> %</span></span>"#,
        ] {
            assert!(html.contains(cell), "{cell}\n{html}");
        }
        let bins = run(SchedulerKind::MultiBinDynamic, 0.73, 4.2);
        let twin = run(SchedulerKind::MultiBinFixed, 0.73, 4.2);
        let mut cont = run(SchedulerKind::Continuous, 0.0, 4.25);
        cont.metrics.continuous = Some(batchlab::metrics::ContinuousMetrics { slo_attainment: 0.97, ..Default::default() });
        let html = key_figures(&[&fifo, &bins, &twin, &cont]);
        assert!(html.contains("<h3>Best: continuous</h3>") && html.contains("<h3>Worst: static FIFO</h3>"), "{html}");
        assert!(html.contains("continuous meets the SLAs of 97.0 % of requests; static FIFO of 2.00 %."), "{html}");
        assert!(html.contains("first token ≤ 2.00 s, 99 % of token gaps ≤ 100 ms"), "{html}");
        assert_eq!(html.matches(r#"class="key-row""#).count(), 2);
        // A tie goes to the earlier run, both ways.
        let (best, worst) = best_and_worst(&[&bins, &twin]).unwrap();
        assert_eq!((best.config.scheduler, worst.config.scheduler), (SchedulerKind::MultiBinDynamic, SchedulerKind::MultiBinDynamic));
    }

    #[test]
    fn comparison_chart_has_a_bar_per_scheduler_and_measure_in_words() {
        let fifo = run(SchedulerKind::StaticFifo, 0.25, 3.7);
        let bins = run(SchedulerKind::MultiBinDynamic, 0.75, 4.2);
        let chart = comparison_chart(&[&fifo, &bins]);
        assert_eq!(chart.file_name, "slas_and_utilisation.svg");
        assert!(chart.svg.contains(">static FIFO</text>") && chart.svg.contains(">multi-bin dynamic</text>"), "{}", chart.svg);
        assert!(!chart.svg.contains("static_fifo"));
        for value in ["<title>25</title>", "<title>75</title>", "<title>50</title>"] {
            assert!(chart.svg.contains(value), "{value}");
        }
        assert_eq!(chart.svg.matches("<title>").count(), 2 * 2);
    }

    /// The dark theme recolours charts by the colours they are drawn in: each colour its
    /// CSS selects is one the charts use.
    #[test]
    fn the_dark_themes_chart_colours_are_the_charts() {
        use batchlab_charts::{line_chart, LineChart, Series};
        let css = include_str!("../assets/style.css");
        let dark = &css[css.find("figure svg rect[fill=").expect("the dark charts' rules")..];
        let selected: Vec<&str> = dark.split("svg ").skip(1).filter_map(|rule| rule.split_once('[').map(|(_, r)| &r[..r.find(']').unwrap()])).collect();
        assert!(selected.len() >= 5, "{selected:?}");
        let chart = line_chart(&LineChart {
            series: vec![Series { name: "s".into(), points: vec![(1.0, 1.0), (2.0, 2.0)] }],
            marker: Some((1.5, "m".into())),
            hlines: vec![(1.5, "h".into())],
            ..Default::default()
        });
        let svg = with_settings(&chart, "settings");
        for attr in selected {
            let (element_attr, value) = attr.split_once('=').unwrap();
            assert!(svg.contains(&format!("{element_attr}={value}")), "{attr} is drawn by no chart");
        }
    }

    /// The first view tells its story: on its settings, static FIFO meets few SLAs with
    /// its GPUs nearly full, multi-bin dynamic most, continuous batching nearly all.
    #[test]
    fn the_first_view_compares_schedulers_where_they_differ() {
        use batchlab::session::{Inputs, Session};
        let state = crate::state::UiState::first_view();
        let session = Session::open(&Inputs::default()).unwrap();
        let hooks = batchlab::Hooks { clock: &|| 0.0, progress: &mut |_| true };
        let outs = batchlab::token::now(session.compare(state.preset, &state.to_config(), hooks, batchlab::token::CpuTokenPass)).unwrap();
        let share = |s: SchedulerKind| attainment(&outs.iter().find(|o| o.result.config.scheduler == s).unwrap().result);
        let fifo = &outs[0].result;
        assert_eq!(fifo.config.scheduler, SchedulerKind::StaticFifo);
        assert!(share(SchedulerKind::StaticFifo) < 0.1 && fifo.metrics.gpu_util_mean > 0.9, "static FIFO: {}", share(SchedulerKind::StaticFifo));
        assert!(share(SchedulerKind::MultiBinDynamic) > 0.6, "multi-bin dynamic: {}", share(SchedulerKind::MultiBinDynamic));
        assert!(share(SchedulerKind::Continuous) > 0.9, "continuous: {}", share(SchedulerKind::Continuous));
        let results: Vec<&RunResult> = outs.iter().map(|o| &o.result).collect();
        let (best, worst) = best_and_worst(&results).unwrap();
        assert_eq!((best.config.scheduler, worst.config.scheduler), (SchedulerKind::Continuous, SchedulerKind::StaticFifo));
    }
}
