//! The controls of `index.html` <-> `UiState`: every value read, checked and shown.

use batchlab::config::{Preset, Router, SchedulerKind};
use batchlab::token::Semantics;

use super::{el, input, select};
use crate::state::{position_of, requests_at, ManyRuns, PredictorChoice, UiState};

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
}

pub(super) fn read_state() -> Result<UiState, String> {
    fn number<T: std::str::FromStr>(id: &str, label: &str) -> Result<T, String> {
        let v = input(id).value();
        v.trim().parse().map_err(|_| format!("{label}: '{v}' is not a valid number"))
    }
    let preset = Preset::parse(&select("preset").value()).map_err(|e| e.to_string())?;
    let target: f64 = number("target", "Capacity target")?;
    if !(target > 0.0 && target <= 100.0) {
        return Err(format!("Capacity target: must be a percentage in (0, 100] (got {target})"));
    }
    let seeds: u32 = number("sweep-seeds", "Seeds per point")?;
    if !(1..=crate::state::MAX_SWEEP_SEEDS).contains(&seeds) {
        return Err(format!("Seeds per point: must be between 1 and {} (got {seeds})", crate::state::MAX_SWEEP_SEEDS));
    }
    let many = ManyRuns {
        sweep_x: select("sweep-x").value(),
        sweep_x_values: input("sweep-xv").value(),
        sweep_series: select("sweep-s").value(),
        sweep_series_values: input("sweep-sv").value(),
        sweep_seeds: seeds,
        sweep_metric: select("sweep-metric").value(),
        capacity_target: target / 100.0,
        // From the link only: kept as the page was opened with it.
        workers: super::with(|a| a.workers_wanted),
    };
    Ok(UiState {
        many,
        preset,
        requests: requests_at(number("requests", "Requests")?),
        gpus: number("gpus", "GPUs")?,
        k_bins: number("k", "K bins")?,
        scheduler: SchedulerKind::parse(&select("scheduler").value()).map_err(|e| e.to_string())?,
        real_timestamps: select("load").value() == "real",
        rps_factor: number("rps", "RPS scaling factor")?,
        d_sla_token_s: number("dtoken", "Per-token SLA")?,
        d_sla_request_s: number("drequest", "Per-request SLA")?,
        predictor: PredictorChoice::parse(&select("predictor").value()).unwrap_or(PredictorChoice::Prompt),
        sigma: number("sigma", "Predictor sigma")?,
        seed: number("seed", "Seed")?,
        plan_cap: select("cap").value().parse().map_err(|_| "Plan cap: not a number".to_string())?,
        token_semantics: Semantics::parse(&select("semantics").value()).map_err(|e| e.to_string())?,
        token_kappa: number("kappa", "Context cost kappa")?,
        token_on_cpu: input("tokencpu").checked(),
        software_gpu: input("softgpu").checked(),
        router: Router::parse(&select("router").value()).map_err(|e| e.to_string())?,
        chunked_prefill: input("chunked").checked(),
        max_batched_tokens: number("budget", "Token budget per iteration")?,
        max_seqs: number("maxseqs", "Max running sequences")?,
        block_tokens: number("block", "KV block size")?,
        ttft_slo_s: number("ttftslo", "TTFT SLO")?,
        tbt_slo_s: number("tbtslo", "TBT SLO")?,
    })
}
