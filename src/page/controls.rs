//! The controls of `index.html` <-> `UiState`: every value read, checked and shown.

use batchlab::config::{Config, Preset};
use wasm_bindgen::JsCast;
use web_sys::{File, HtmlInputElement, HtmlSelectElement};

use super::{el, input, select};
use crate::load::{factor_for_rate, native_rate_rps, rate_text};
use crate::state::{position_of, PredictorChoice, Problem, UiState, CONTROLS};

pub(super) fn write_state(s: &UiState) {
    select("preset").set_value(s.preset.name());
    input("requests").set_value(&position_of(s.requests).to_string());
    input("gpus").set_value(&s.gpus.to_string());
    input("k").set_value(&s.k_bins.to_string());
    select("scheduler").set_value(s.scheduler.name());
    select("load").set_value(if s.real_timestamps { "real" } else { "rps" });
    input("rps").set_value(&s.rps_factor.to_string());
    input("dtoken").set_value(&s.d_sla_token_s.to_string());
    input("drequest").set_value(&s.d_sla_request_s.to_string());
    select("predictor").set_value(s.predictor.name());
    input("sigma").set_value(&s.sigma.to_string());
    input("seed").set_value(&s.seed.to_string());
    select("cap").set_value(&s.plan_cap.to_string());
    select("semantics").set_value(s.token_semantics.name());
    input("kappa").set_value(&s.token_kappa.to_string());
    input("tokencpu").set_checked(s.token_on_cpu);
    input("softgpu").set_checked(s.software_gpu);
    select("router").set_value(s.router.name());
    input("chunked").set_checked(s.chunked_prefill);
    input("budget").set_value(&s.max_batched_tokens.to_string());
    input("maxseqs").set_value(&s.max_seqs.to_string());
    input("block").set_value(&s.block_tokens.to_string());
    input("ttftslo").set_value(&s.ttft_slo_s.to_string());
    input("tbtslo").set_value(&s.tbt_slo_s.to_string());
    let m = &s.many;
    select("sweep-x").set_value(&m.sweep_x);
    input("sweep-xv").set_value(&m.sweep_x_values);
    select("sweep-s").set_value(&m.sweep_series);
    input("sweep-sv").set_value(&m.sweep_series_values);
    input("sweep-seeds").set_value(&m.sweep_seeds.to_string());
    select("sweep-metric").set_value(&m.sweep_metric);
    input("target").set_value(&(m.capacity_target * 100.0).to_string());
    input("sla-d").set_value(&s.sla_d_s.map_or(String::new(), |d| d.to_string()));
    input("sla-eps").set_value(&s.sla_eps_s.to_string());
    input("bmin").set_value(&s.b_min.to_string());
    input("bmax").set_value(&s.b_max.to_string());
    input("bstatic").set_value(&s.b_static.to_string());
    show_values(s);
}

pub(super) fn show_values(s: &UiState) {
    el("requests-value").set_text_content(Some(&s.requests.to_string()));
    // The slider's value is a position on the log scale: announce the count instead.
    el("requests").set_attribute("aria-valuetext", &format!("{} requests", s.requests)).ok();
    el("gpus-value").set_text_content(Some(&s.gpus.to_string()));
    el("k-value").set_text_content(Some(&s.k_bins.to_string()));
    input("rps").set_disabled(s.real_timestamps);
    input("sigma").set_disabled(s.predictor != PredictorChoice::Noisy);
    // The continuous-batching controls apply to the continuous schedulers (and to
    // Compare's continuous runs, which take the values shown).
    let _ = el("iteration").toggle_attribute_with_force("disabled", !s.scheduler.is_continuous());
    input("sweep-sv").set_disabled(s.many.sweep_series.is_empty());
    // The plan's size under the cap chosen.
    el("plan").set_text_content(Some(&format!("Stress plan of the original study (3 steps, {} runs)", s.to_plan_spec().run_count())));
    // The load: the factor's arrival rate and its share of the cluster's estimated capacity.
    let attached = super::with(|a| a.files.each_ref().map(Option::is_some));
    let line = crate::load::describe(s.preset, &s.to_config(), attached);
    let info = el("rps-info");
    info.set_text_content(Some(&line.text));
    let _ = info.set_attribute("class", if line.overloaded { "hint warn" } else { "hint" });
    // A job under way keeps the controls it does not read greyed.
    for id in super::with(|a| a.unused.clone()) {
        let _ = el(id).set_attribute("disabled", "");
    }
    sync_rate(Some(s.rps_factor), s.real_timestamps);
    mirror_rate_disabled();
}

// ----- the arrival rate beside the factor -----
//
// The rate field is a view of the factor, which alone goes into the link and the
// configuration: typing a rate sets the factor to rate ÷ the source's own rate (the exact
// inverse of the rate shown, `load::describe`); typing the factor rewrites the rate.

/// The source's own rate the factor multiplies, as the page knows it now (the preset's
/// synthetic workload, or the chosen trace's once the worker has read it).
fn native_now() -> Option<f64> {
    let preset = Preset::parse(&select("preset").value()).unwrap_or(Preset::Paper);
    let (attached, trace) = super::with(|a| (a.files.each_ref().map(Option::is_some), a.trace_rate_rps));
    native_rate_rps(&Config::preset(preset), attached, trace)
}

/// Put the rate field in step with `factor` (None: not a factor; the rate is left): left
/// as typed while it gives that factor, else rewritten; under real timestamps, the
/// source's own rate; empty while that rate is unknown.
fn sync_rate(factor: Option<f64>, real_timestamps: bool) {
    let rate = input("rate");
    let text = match (native_now(), factor) {
        (None, _) => String::new(),
        (Some(n), _) if real_timestamps => rate_text(n, 1.0),
        (Some(n), Some(f)) if factor_for_rate(&rate.value(), n) != Ok(f) => rate_text(n, f),
        _ => return,
    };
    rate.set_value(&text);
}

/// The rate is greyed with the factor (real timestamps, a job that does not read it), and
/// while the source's rate is unknown (a trace not yet read).
pub(super) fn mirror_rate_disabled() {
    input("rate").set_disabled(input("rps").disabled() || native_now().is_none());
}

/// The factor was typed: the rate follows (if the factor is a number).
pub(super) fn factor_typed() {
    let factor = input("rps").value().trim().parse::<f64>().ok().filter(|f| f.is_finite() && *f > 0.0);
    sync_rate(factor, select("load").value() == "real");
}

/// A rate was typed: the factor it gives, into the factor's field. False if the rate
/// cannot be taken (`read_state` lists why).
pub(super) fn rate_typed() -> bool {
    match native_now().map(|n| factor_for_rate(&input("rate").value(), n)) {
        Some(Ok(factor)) => {
            input("rps").set_value(&factor.to_string());
            true
        }
        _ => false,
    }
}

/// The rate field's problem, where it applies (the factor's load, a source of known rate).
fn rate_problem() -> Option<Problem> {
    if select("load").value() == "real" {
        return None;
    }
    let text = input("rate").value();
    let why = factor_for_rate(&text, native_now()?).err()?;
    let got = if text.trim().is_empty() { "it is empty".to_string() } else { format!("got '{}'", text.trim()) };
    Some(Problem { control: Some("rate"), message: format!("Arrival rate: {why} ({got})") })
}

/// Every control's value as typed, in page order: (element id, text; a checkbox "1" / "0").
fn control_values() -> Vec<(&'static str, String)> {
    CONTROLS
        .iter()
        .map(|&(id, _, _)| {
            let e = el(id);
            let value = if e.tag_name() == "SELECT" {
                e.unchecked_into::<HtmlSelectElement>().value()
            } else {
                let i: HtmlInputElement = e.unchecked_into();
                if i.type_() == "checkbox" { if i.checked() { "1" } else { "0" }.to_string() } else { i.value() }
            };
            (id, value)
        })
        .collect()
}

/// The controls as a state, or every control whose value cannot be taken.
pub(super) fn read_state() -> Result<UiState, Vec<Problem>> {
    let (workers, files) = super::with(|a| (a.workers_wanted, a.files.each_ref().map(|f| f.as_ref().map(File::name))));
    let state = UiState::from_controls(&control_values(), workers, files);
    let Some(rate) = rate_problem() else { return state };
    // In page order: the rate's line after the factor's, before the controls below it.
    let mut problems = state.err().unwrap_or_default();
    let order = |id: &str| CONTROLS.iter().position(|(i, _, _)| *i == id);
    let rps = order("rps");
    let at = problems.iter().position(|p| p.control.and_then(order) > rps).unwrap_or(problems.len());
    problems.insert(at, rate);
    Err(problems)
}
