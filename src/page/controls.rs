//! The controls of `index.html` <-> `UiState`: every value read, checked and shown.

use wasm_bindgen::JsCast;
use web_sys::{File, HtmlInputElement, HtmlSelectElement};

use super::{el, input, select};
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
    UiState::from_controls(&control_values(), workers, files)
}
