//! The page's results: tables, charts and download buttons of a finished job, and the
//! downloads themselves (a Blob of the core's text, never re-formatted here).

use js_sys::Array;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Blob, BlobPropertyBag, HtmlAnchorElement, HtmlElement, Url};

use batchlab::config::Config;

use super::{document, el, with};
use crate::overview::{comparison_chart, key_figures, settings_line};
use crate::protocol::{CapacityOutput, PlanOutput, RunOutput, StudyOutput, SweepOutput};
use crate::view::{bins_table, capacity_chart, capacity_table, plan_charts, plan_published_table, plan_table, run_charts, study_table, summary_table, sweep_chart, token_pass_line, Chart};

fn download_button(index: usize, label: &str) -> String {
    format!(r#"<button type="button" data-download="{index}">{}</button>"#, batchlab_charts::escape(label))
}

/// Figures with their caption and a download button each; returns their HTML and adds
/// them to `downloads`. `wide` (or a chart's own `wide`): figures of several panels,
/// which scroll sideways on a narrow screen rather than shrink past reading.
fn figures(charts: Vec<Chart>, downloads: &mut Vec<(String, String, String)>, wide: bool) -> String {
    let mut html = String::new();
    for c in charts {
        let i = downloads.len();
        let class = if wide || c.wide { r#" class="wide""# } else { "" };
        let caption = if c.caption.is_empty() { String::new() } else { format!(r#"<span class="what">{}</span> "#, batchlab_charts::escape(&c.caption)) };
        let svg = c.shown_svg();
        html += &format!(r#"<figure{class}>{svg}<figcaption>{caption}{}</figcaption></figure>"#, download_button(i, &format!("Download {}", c.file_name)));
        downloads.push((c.file_name, "image/svg+xml".into(), svg));
    }
    html
}

/// The settings line of the job being shown, whose charts drew `config` and varied the
/// fields `varied` (empty when the job did not start from the controls).
fn settings_of(config: &Config, varied: &[String]) -> String {
    with(|a| a.started.as_ref().map(|s| settings_line(s.state.preset, config, s.trace.as_deref(), varied))).unwrap_or_default()
}

/// The same settings line on every chart.
fn with_settings(mut charts: Vec<Chart>, line: &str) -> Vec<Chart> {
    for c in &mut charts {
        c.settings = line.to_string();
    }
    charts
}

/// The configuration of the controls the job being shown started from.
fn started_config() -> Option<Config> {
    with(|a| a.started.as_ref().map(|s| s.state.to_config()))
}

pub(super) fn show_runs(outs: &[RunOutput]) -> (usize, u64) {
    let results: Vec<_> = outs.iter().map(|o| &o.result).collect();
    let mut downloads = Vec::new();
    let line = results.first().map_or(String::new(), |r| settings_of(&r.config, &[]));
    // First the large figures and, for a comparison, its chart; the details below.
    let mut overview = key_figures(&results);
    if results.len() > 1 {
        overview += &figures(with_settings(vec![comparison_chart(&results)], &line), &mut downloads, false);
    }
    let charts = figures(with_settings(run_charts(&results), &line), &mut downloads, false);
    let mut links = String::new();
    for o in outs {
        let stem = if outs.len() == 1 { "run".to_string() } else { format!("run_{}", o.result.config.scheduler.name()) };
        for (ext, mime, text) in [("csv", "text/csv", &o.csv), ("json", "application/json", &o.json)] {
            let name = format!("{stem}.{ext}");
            links += &download_button(downloads.len(), &format!("Download {name}"));
            downloads.push((name, mime.into(), text.clone()));
        }
    }
    let bins = if let [r] = results.as_slice() { bins_table(r) } else { String::new() };
    let passes: Vec<_> = outs.iter().map(|o| &o.token_pass).collect();
    el("overview").set_inner_html(&overview);
    el("summary").set_inner_html(&(summary_table(&results, &passes) + &bins));
    el("token-pass").set_text_content(Some(&token_pass_line(outs)));
    el("charts").set_inner_html(&charts);
    el("downloads").set_inner_html(&links);
    with(|a| a.downloads = downloads);
    (outs.len(), outs.iter().map(|o| o.result.metrics.requests_completed).sum())
}

pub(super) fn show_plan(plan: &PlanOutput) -> (usize, u64) {
    let mut downloads = Vec::new();
    let varied = ["requests", "gpus", "k_bins", "scheduler"].map(String::from);
    let line = settings_of(&plan.result.spec.base, &varied);
    let charts = figures(with_settings(plan_charts(plan), &line), &mut downloads, false);
    let mut links = String::new();
    for (name, text) in &plan.files {
        let mime = if name.ends_with(".json") { "application/json" } else { "text/csv" };
        links += &download_button(downloads.len(), &format!("Download {name}"));
        downloads.push((name.clone(), mime.into(), text.clone()));
    }
    el("overview").set_inner_html("");
    el("summary").set_inner_html(&(plan_table(plan) + &plan_published_table(plan)));
    el("token-pass").set_text_content(Some("Token pass: CPU (the stress plan always runs it on the CPU)"));
    el("charts").set_inner_html(&charts);
    el("downloads").set_inner_html(&links);
    with(|a| a.downloads = downloads);
    let ok = plan.result.runs.iter().filter_map(|r| r.result.as_ref().ok());
    (plan.result.runs.len(), ok.map(|r| r.metrics.requests_completed).sum())
}

/// The final paper's study: its five figures, its step-2 tables, and every file.
pub(super) fn show_study(study: &StudyOutput) -> (usize, u64) {
    let mut downloads = Vec::new();
    // Each figure, then the same figure drawn from the published numbers beside it.
    let ours = batchlab_charts::study::study_figures(&study.result);
    let published = batchlab_charts::study::published_figures();
    let name = |path: &str, prefix: &str| format!("{prefix}{}", path.rsplit('/').next().unwrap_or(path));
    let mut charts = Vec::new();
    for (path, svg) in ours {
        let twin = published.iter().find(|(p, _)| name(p, "") == name(&path, ""));
        charts.push(Chart::new(&name(&path, ""), svg));
        if let Some((p, svg)) = twin {
            charts.push(Chart::new(&name(p, "published_"), svg.clone()));
        }
    }
    let charts = figures(charts, &mut downloads, true);
    let mut links = String::new();
    for (name, text) in &study.files {
        // "stress_test_final/step1_grid_search.csv" -> "stress_test_final_step1_grid_search.csv"
        let name = name.replace('/', "_");
        links += &download_button(downloads.len(), &format!("Download {name}"));
        downloads.push((name, "text/csv".into(), text.clone()));
    }
    el("overview").set_inner_html("");
    el("summary").set_inner_html(&study_table(study));
    el("token-pass").set_text_content(Some("Token pass: none (the study's metrics come from the schedule)"));
    el("charts").set_inner_html(&charts);
    el("downloads").set_inner_html(&links);
    with(|a| a.downloads = downloads);
    let r = &study.result;
    let runs = r.loads.iter().flat_map(|l| l.grid.iter().chain(&l.comparison));
    let runs: Vec<_> = runs.chain(r.sensitivity.iter().flat_map(|s| s.k_runs.iter().chain(&s.gpu_runs).chain(&s.seed_runs))).collect();
    (runs.len(), runs.iter().map(|s| s.result.metrics.requests_completed).sum())
}

/// Files as download buttons (CSV, JSON), after those already in `downloads`.
fn file_buttons(files: &[(String, String)], downloads: &mut Vec<(String, String, String)>) -> String {
    let mut links = String::new();
    for (name, text) in files {
        let mime = if name.ends_with(".json") { "application/json" } else { "text/csv" };
        links += &download_button(downloads.len(), &format!("Download {name}"));
        downloads.push((name.clone(), mime.into(), text.clone()));
    }
    links
}

/// A sweep: its chart of `metric` (mean over the seeds) and its two CSVs.
pub(super) fn show_sweep(out: &SweepOutput, metric: &str) -> (usize, u64) {
    let mut downloads = Vec::new();
    let runs_csv = out.files.iter().find(|(n, _)| n == batchlab::report::sweep::RUNS_FILE).map_or("", |(_, t)| t.as_str());
    let (charts, note) = match sweep_chart(runs_csv, &out.axes, metric) {
        Ok(svg) => {
            let line = started_config().map_or(String::new(), |c| settings_of(&c, &out.axes));
            (figures(with_settings(vec![Chart::new("sweep.svg", svg).explained("Each point is one setting's mean over its seeds; a line per value of the second field.")], &line), &mut downloads, false), String::new())
        }
        Err(e) => (String::new(), format!("<p>No chart: {}</p>", batchlab_charts::escape(&e))),
    };
    let links = file_buttons(&out.files, &mut downloads);
    let failed = if out.failed > 0 { format!(", {} failed (their rows say why)", out.failed) } else { String::new() };
    el("overview").set_inner_html("");
    el("summary").set_inner_html(&format!(r#"<p id="sweep-summary">Sweep over {}: {} runs{failed}.</p>{note}"#, batchlab_charts::escape(&out.axes.join(" × ")), out.runs));
    el("token-pass").set_text_content(Some("Token pass: CPU (sweeps run it on the CPU)"));
    el("charts").set_inner_html(&charts);
    el("downloads").set_inner_html(&links);
    with(|a| a.downloads = downloads);
    (out.runs, 0)
}

/// Capacity searches: "SLO attainment vs load" with each capacity, a table, the CSVs.
pub(super) fn show_capacity(out: &CapacityOutput) -> (usize, u64) {
    let mut downloads = Vec::new();
    let chart = Chart::new("capacity.svg", capacity_chart(&out.rows, out.spec.target))
        .explained("Each scheduler's share of requests meeting their SLOs as the arrival rate grows; its capacity is the highest rate still on or above the target line.");
    let line = started_config().map_or(String::new(), |c| settings_of(&c, &["load.factor".into(), "scheduler".into()]));
    let charts = figures(with_settings(vec![chart], &line), &mut downloads, false);
    let links = file_buttons(&out.files, &mut downloads);
    el("overview").set_inner_html("");
    el("summary").set_inner_html(&capacity_table(&out.rows, out.spec.target));
    el("token-pass").set_text_content(Some("Token pass: CPU (capacity searches run it on the CPU)"));
    el("charts").set_inner_html(&charts);
    el("downloads").set_inner_html(&links);
    with(|a| a.downloads = downloads);
    (out.rows.iter().map(|(_, c)| c.points.len()).sum(), 0)
}

pub(super) fn download(name: &str, mime: &str, text: &str) {
    save(name, mime, Array::of1(&JsValue::from_str(text)));
}

pub(super) fn download_bytes(name: &str, mime: &str, bytes: &[u8]) {
    save(name, mime, Array::of1(&js_sys::Uint8Array::from(bytes)));
}

fn save(name: &str, mime: &str, parts: Array) {
    let opts = BlobPropertyBag::new();
    opts.set_type(mime);
    let Ok(blob) = Blob::new_with_str_sequence_and_options(&parts, &opts) else { return };
    let Ok(url) = Url::create_object_url_with_blob(&blob) else { return };
    let a: HtmlAnchorElement = document().create_element("a").expect("can create <a>").unchecked_into();
    a.set_href(&url);
    a.set_download(name);
    a.unchecked_ref::<HtmlElement>().click();
    let _ = Url::revoke_object_url(&url);
}
