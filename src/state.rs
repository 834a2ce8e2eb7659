//! The page's controls as one value, its mapping to a core `Config` / `PlanSpec`, and
//! its encoding in the URL fragment, so a link reproduces a run or a figure.
//!
//! The fragment is `#preset=paper&n=100000&gpus=4&...`: a preset first (its defaults),
//! then the values the visitor changed. Unknown keys are ignored; a bad value is
//! reported and the default kept, so any link opens a working page.

use batchlab::config::{Config, IterationConfig, Load, Predictor, Preset, Router, SchedulerKind};
use batchlab::plan::PlanSpec;
use batchlab::study::StudySpec;
use batchlab::token::Semantics;

/// E12 mantissas: the request slider moves over 1.0, 1.2, 1.5, ... x 10^k, 12 steps per
/// decade from 1,000 to 1,000,000 (integers only, so every platform agrees).
const E12: [usize; 12] = [10, 12, 15, 18, 22, 27, 33, 39, 47, 56, 68, 82];
pub const REQUEST_STEPS: u32 = 36;
pub const MAX_GPUS: u32 = 128;
pub const MAX_K: u32 = 32;
/// The plan's cap on requests per run: the choices offered, and the browser's default.
pub const PLAN_CAPS: [usize; 4] = [1_000, 10_000, 100_000, 1_000_000];
pub const DEFAULT_PLAN_CAP: usize = 100_000;
/// Bounds of the continuous-batching controls: a KV block of up to 1,024 tokens, up to
/// 2^20 running sequences per GPU (the core's limit), a token budget of up to 2^24.
pub const MAX_BLOCK_TOKENS: u32 = 1024;
pub const MAX_SEQS: u32 = 1 << 20;
pub const MAX_BATCHED_TOKENS: u32 = 1 << 24;

/// The page's control (element id) and label for a configuration field the core names
/// in an error (`batchlab::config::FIELDS`); `None` for a field the page has no control
/// for (the preset fixes it).
pub fn control_for(field: &str) -> Option<(&'static str, &'static str)> {
    Some(match field {
        "preset" => ("preset", "Preset"),
        "requests" => ("requests", "Requests"),
        "gpus" => ("gpus", "GPUs"),
        "k_bins" => ("k", "K bins"),
        "scheduler" => ("scheduler", "Scheduler"),
        "load.factor" => ("rps", "RPS scaling factor"),
        "d_sla_token_s" => ("dtoken", "Per-token SLA"),
        "d_sla_request_s" => ("drequest", "Per-request SLA"),
        "predictor" => ("predictor", "Output-length predictor"),
        "predictor.sigma" => ("sigma", "Predictor sigma"),
        "seed" => ("seed", "Seed"),
        "plan.max_requests" => ("cap", "Plan cap"),
        "token_semantics" => ("semantics", "Batch semantics"),
        "token_kappa" => ("kappa", "Context cost kappa"),
        "calibration" => ("calib-file", "Calibration grid"),
        "iteration.router" => ("router", "Router"),
        "iteration.chunked_prefill" => ("chunked", "Chunked prefill"),
        "iteration.max_batched_tokens" => ("budget", "Token budget per iteration"),
        "iteration.max_seqs" => ("maxseqs", "Max running sequences"),
        "iteration.block_tokens" => ("block", "KV block size"),
        "iteration.ttft_slo_s" => ("ttftslo", "TTFT SLO"),
        "iteration.tbt_slo_s" => ("tbtslo", "TBT SLO"),
        _ => return None,
    })
}

/// How the page names a field in an error: its control's label, else the preset value.
pub fn field_words(field: &str) -> String {
    match control_for(field) {
        Some((_, label)) => label.to_string(),
        None => format!("the preset's {}", field.replace(['_', '.'], " ")),
    }
}

/// Requests at slider position `pos` (0..=36).
pub fn requests_at(pos: u32) -> usize {
    let pos = pos.min(REQUEST_STEPS) as usize;
    E12[pos % 12] * 10usize.pow(2 + (pos / 12) as u32)
}

/// The slider position whose value is nearest to `n` (on a log scale).
pub fn position_of(n: usize) -> u32 {
    let ratio = |pos: u32| {
        let v = requests_at(pos) as f64;
        let n = n.max(1) as f64;
        if v > n { v / n } else { n / v }
    };
    (0..=REQUEST_STEPS).min_by(|&a, &b| ratio(a).total_cmp(&ratio(b))).unwrap_or(0)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PredictorChoice {
    Prompt,
    Noisy,
    Oracle,
}

impl PredictorChoice {
    pub const ALL: [PredictorChoice; 3] = [PredictorChoice::Prompt, PredictorChoice::Noisy, PredictorChoice::Oracle];

    pub fn name(self) -> &'static str {
        match self {
            PredictorChoice::Prompt => "prompt",
            PredictorChoice::Noisy => "noisy",
            PredictorChoice::Oracle => "oracle",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == s)
    }
}

/// Every control of the page.
#[derive(Debug, Clone, PartialEq)]
pub struct UiState {
    pub preset: Preset,
    pub requests: usize,
    pub gpus: u32,
    pub k_bins: u32,
    pub scheduler: SchedulerKind,
    /// Real timestamps (true) or arrival times divided by `rps_factor` (false).
    pub real_timestamps: bool,
    pub rps_factor: f64,
    pub d_sla_token_s: f64,
    pub d_sla_request_s: f64,
    pub predictor: PredictorChoice,
    /// Used when `predictor` is `Noisy`.
    pub sigma: f64,
    pub seed: u64,
    pub plan_cap: usize,
    /// Token-level model: batch semantics and the context cost kappa.
    pub token_semantics: Semantics,
    pub token_kappa: f64,
    /// Run the token pass on the CPU even when a GPU adapter is available.
    pub token_on_cpu: bool,
    /// Time tokens on a software GPU adapter (SwiftShader) when that is all there is;
    /// off: such an adapter is skipped (it is slower than the CPU).
    pub software_gpu: bool,
    /// Continuous batching (`config.iteration`): the router, chunked prefill, the token
    /// budget and the most sequences of an iteration, the KV block size, and the SLO.
    pub router: Router,
    pub chunked_prefill: bool,
    pub max_batched_tokens: u32,
    pub max_seqs: u32,
    pub block_tokens: u32,
    pub ttft_slo_s: f64,
    pub tbt_slo_s: f64,
    /// The sweep and capacity forms, and the link's worker count.
    pub many: ManyRuns,
}

/// Fields a sweep on the page can vary (the core's dotted names) and their labels.
pub const SWEEP_FIELDS: [(&str, &str); 10] = [
    ("scheduler", "Scheduler"),
    ("gpus", "GPUs"),
    ("k_bins", "K bins"),
    ("load.factor", "RPS scaling factor"),
    ("requests", "Requests"),
    ("d_sla_token_s", "Per-token SLA (s)"),
    ("d_sla_request_s", "Per-request SLA (s)"),
    ("predictor.sigma", "Predictor sigma (noisy predictor)"),
    ("iteration.max_seqs", "Max running sequences"),
    ("iteration.max_batched_tokens", "Token budget per iteration"),
];
/// Most runs a sweep on the page may make (seeds included).
pub const MAX_PAGE_SWEEP_RUNS: usize = 400;
pub const MAX_SWEEP_SEEDS: u32 = 10;

/// The "Many runs" forms: a sweep over one or two fields (values as typed, comma
/// separated) repeated over seeds, the metric its chart shows, and the SLO-attainment
/// target of the capacity search. `workers` comes from a link only (`workers=N`): the
/// size of the page's pool of workers (else one per core, at most 8).
#[derive(Debug, Clone, PartialEq)]
pub struct ManyRuns {
    pub sweep_x: String,
    pub sweep_x_values: String,
    /// "" for none.
    pub sweep_series: String,
    pub sweep_series_values: String,
    pub sweep_seeds: u32,
    pub sweep_metric: String,
    pub capacity_target: f64,
    pub workers: Option<usize>,
}

impl Default for ManyRuns {
    fn default() -> Self {
        ManyRuns {
            sweep_x: "gpus".into(),
            sweep_x_values: "1,2,4,8".into(),
            sweep_series: "scheduler".into(),
            sweep_series_values: "static_fifo,multi_bin_dynamic".into(),
            sweep_seeds: 2,
            sweep_metric: "throughput_rps".into(),
            capacity_target: 0.9,
            workers: None,
        }
    }
}

/// A typed value list: "1, 2, 4" -> numbers (integers stay integers), "static_fifo" -> names.
fn sweep_values(field: &str, text: &str) -> Result<Vec<serde_json::Value>, String> {
    let values: Vec<serde_json::Value> = text
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| {
            if let Ok(i) = t.parse::<u64>() {
                serde_json::Value::from(i)
            } else if let Some(x) = t.parse::<f64>().ok().filter(|x| x.is_finite()) {
                serde_json::Value::from(x)
            } else {
                serde_json::Value::from(t)
            }
        })
        .collect();
    if values.is_empty() {
        return Err(format!("Sweep: no values for '{}' (type them separated by commas)", sweep_label(field)));
    }
    Ok(values)
}

fn sweep_label(field: &str) -> &str {
    SWEEP_FIELDS.iter().find(|(f, _)| *f == field).map_or(field, |(_, l)| l)
}

impl UiState {
    pub fn from_preset(preset: Preset) -> Self {
        let c = Config::preset(preset);
        let (real_timestamps, rps_factor) = match c.load {
            Load::RpsScaling { factor } => (false, factor),
            Load::RealTimestamps => (true, 200.0),
        };
        let (predictor, sigma) = match c.predictor {
            Predictor::Noisy { sigma } => (PredictorChoice::Noisy, sigma),
            Predictor::Oracle => (PredictorChoice::Oracle, 0.5),
            Predictor::Prompt | Predictor::PromptNumpy | Predictor::Trace => (PredictorChoice::Prompt, 0.5),
        };
        UiState {
            preset,
            requests: requests_at(position_of(c.requests)),
            gpus: c.gpus.clamp(1, MAX_GPUS),
            k_bins: c.k_bins.clamp(1, MAX_K),
            scheduler: c.scheduler,
            real_timestamps,
            rps_factor,
            d_sla_token_s: c.d_sla_token_s,
            d_sla_request_s: c.d_sla_request_s,
            predictor,
            sigma,
            seed: c.seed,
            plan_cap: DEFAULT_PLAN_CAP,
            token_semantics: c.token_semantics,
            token_kappa: c.token_kappa,
            token_on_cpu: false,
            software_gpu: false,
            router: c.iteration.router,
            chunked_prefill: c.iteration.chunked_prefill,
            max_batched_tokens: c.iteration.max_batched_tokens,
            max_seqs: c.iteration.max_seqs,
            block_tokens: c.iteration.block_tokens,
            ttft_slo_s: c.iteration.ttft_slo_s,
            tbt_slo_s: c.iteration.tbt_slo_s,
            many: ManyRuns::default(),
        }
    }

    /// What a bare link (no fragment) opens on, and compares at once: the paper preset
    /// on 18,000 requests (an E12 value near 20K) and 8 GPUs at 12x load, where static
    /// FIFO saturates its GPUs and meets few SLAs while the multi-bin and continuous
    /// schedulers meet most (a native test holds the story). At 4 GPUs no load tells
    /// it: multi-bin dynamic meets at most three quarters where static FIFO is loaded.
    ///
    /// A state of its own, not the preset's defaults: a plan or study starts from
    /// `from_preset`, so that the page's files equal the CLI's for the same preset.
    pub fn first_view() -> Self {
        UiState { requests: 18_000, gpus: 8, rps_factor: 12.0, ..UiState::from_preset(Preset::Paper) }
    }

    /// The sweep form as a spec on the controls' configuration: the x field, the series
    /// field (if any), then seeds `seed`, `seed + 1`, ... when more than one.
    pub fn to_sweep_spec(&self) -> Result<batchlab::sweep::SweepSpec, String> {
        use batchlab::sweep::{Axis, SweepSpec, SEED_AXIS};
        let m = &self.many;
        let mut axes = vec![Axis { field: m.sweep_x.clone(), values: sweep_values(&m.sweep_x, &m.sweep_x_values)? }];
        if !m.sweep_series.is_empty() {
            if m.sweep_series == m.sweep_x {
                return Err(format!("Sweep: '{}' is both the x axis and the series", sweep_label(&m.sweep_x)));
            }
            axes.push(Axis { field: m.sweep_series.clone(), values: sweep_values(&m.sweep_series, &m.sweep_series_values)? });
        }
        if m.sweep_seeds > 1 {
            let seeds = (0..u64::from(m.sweep_seeds)).map(|i| serde_json::Value::from(self.seed.wrapping_add(i))).collect();
            axes.push(Axis { field: SEED_AXIS.into(), values: seeds });
        }
        let spec = SweepSpec { file: "the sweep".into(), preset: self.preset, start: Some(self.to_config()), base: Vec::new(), axes };
        let runs: usize = spec.axes.iter().map(|a| a.values.len()).product();
        if runs > MAX_PAGE_SWEEP_RUNS {
            return Err(format!("Sweep: {runs} runs is more than the page's {MAX_PAGE_SWEEP_RUNS}; the CLI's `batchlab sweep` has no such limit"));
        }
        Ok(spec)
    }

    /// Every scheduler's capacity search on the controls' configuration.
    pub fn to_capacity(&self) -> (batchlab::capacity::CapacitySpec, Vec<(String, Config)>) {
        let spec = batchlab::capacity::CapacitySpec { target: self.many.capacity_target, ..Default::default() };
        let config = self.to_config();
        let rows = SchedulerKind::ALL.iter().map(|&s| (s.name().to_string(), Config { scheduler: s, ..config.clone() })).collect();
        (spec, rows)
    }

    /// The run's configuration: the preset's, with the controls' values.
    pub fn to_config(&self) -> Config {
        let preset = Config::preset(self.preset);
        Config {
            requests: self.requests,
            gpus: self.gpus,
            k_bins: self.k_bins,
            scheduler: self.scheduler,
            load: if self.real_timestamps {
                Load::RealTimestamps
            } else {
                Load::RpsScaling { factor: self.rps_factor }
            },
            d_sla_token_s: self.d_sla_token_s,
            d_sla_request_s: self.d_sla_request_s,
            predictor: match self.predictor {
                // The preset's prompt predictor: compat and paper draw its noise as the original.
                PredictorChoice::Prompt => match Config::preset(self.preset).predictor {
                    Predictor::PromptNumpy => Predictor::PromptNumpy,
                    _ => Predictor::Prompt,
                },
                PredictorChoice::Noisy => Predictor::Noisy { sigma: self.sigma },
                PredictorChoice::Oracle => Predictor::Oracle,
            },
            seed: self.seed,
            token_semantics: self.token_semantics,
            token_kappa: self.token_kappa,
            iteration: IterationConfig {
                router: self.router,
                chunked_prefill: self.chunked_prefill,
                max_batched_tokens: self.max_batched_tokens,
                max_seqs: self.max_seqs,
                block_tokens: self.block_tokens,
                ttft_slo_s: self.ttft_slo_s,
                tbt_slo_s: self.tbt_slo_s,
                ..preset.iteration.clone()
            },
            ..preset
        }
    }

    /// The paper's plan on the controls' workload settings, capped at `plan_cap`.
    pub fn to_plan_spec(&self) -> PlanSpec {
        PlanSpec { max_requests: self.plan_cap, base: self.to_config(), ..PlanSpec::new(self.preset) }
    }

    /// The final paper's study under the same cap on requests per run as the plan.
    pub fn to_study_spec(&self) -> StudySpec {
        StudySpec { max_requests: self.plan_cap, ..StudySpec::new(self.to_config()) }
    }

    pub fn to_fragment(&self) -> String {
        let pairs = [
            ("preset", self.preset.name().to_string()),
            ("n", self.requests.to_string()),
            ("gpus", self.gpus.to_string()),
            ("k", self.k_bins.to_string()),
            ("scheduler", self.scheduler.name().to_string()),
            ("load", if self.real_timestamps { "real" } else { "rps" }.to_string()),
            ("rps", self.rps_factor.to_string()),
            ("dtoken", self.d_sla_token_s.to_string()),
            ("drequest", self.d_sla_request_s.to_string()),
            ("predictor", self.predictor.name().to_string()),
            ("sigma", self.sigma.to_string()),
            ("seed", self.seed.to_string()),
            ("cap", self.plan_cap.to_string()),
            ("semantics", self.token_semantics.name().to_string()),
            ("kappa", self.token_kappa.to_string()),
            ("tokencpu", if self.token_on_cpu { "1" } else { "0" }.to_string()),
            ("softgpu", if self.software_gpu { "1" } else { "0" }.to_string()),
            ("router", self.router.name().to_string()),
            ("chunked", if self.chunked_prefill { "1" } else { "0" }.to_string()),
            ("budget", self.max_batched_tokens.to_string()),
            ("maxseqs", self.max_seqs.to_string()),
            ("block", self.block_tokens.to_string()),
            ("ttftslo", self.ttft_slo_s.to_string()),
            ("tbtslo", self.tbt_slo_s.to_string()),
            ("sx", self.many.sweep_x.clone()),
            ("sxv", self.many.sweep_x_values.replace(' ', "")),
            ("ss", self.many.sweep_series.clone()),
            ("ssv", self.many.sweep_series_values.replace(' ', "")),
            ("seeds", self.many.sweep_seeds.to_string()),
            ("metric", self.many.sweep_metric.clone()),
            ("target", self.many.capacity_target.to_string()),
        ];
        let mut text = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
        if let Some(n) = self.many.workers {
            text.push_str(&format!("&workers={n}"));
        }
        text
    }

    /// Parse a fragment (with or without its leading '#'). Returns the state and one
    /// message per value that was ignored.
    pub fn from_fragment(fragment: &str) -> (UiState, Vec<String>) {
        let pairs: Vec<(&str, &str)> =
            fragment.trim_start_matches('#').split('&').filter_map(|kv| kv.split_once('=')).collect();
        let mut problems = Vec::new();
        let preset = match pairs.iter().find(|(k, _)| *k == "preset") {
            Some((_, v)) => Preset::parse(v).unwrap_or_else(|e| {
                problems.push(format!("URL: {e}"));
                Preset::Paper
            }),
            None => Preset::Paper,
        };
        let mut s = UiState::from_preset(preset);
        for (key, value) in pairs {
            if let Err(why) = s.set(key, value) {
                problems.push(format!("URL: '{key}={value}' ignored: {why}"));
            }
        }
        (s, problems)
    }

    fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        fn num<T: std::str::FromStr>(v: &str) -> Result<T, String> {
            v.parse().map_err(|_| "not a valid number".to_string())
        }
        fn positive(v: &str) -> Result<f64, String> {
            let x: f64 = num(v)?;
            if x.is_finite() && x > 0.0 { Ok(x) } else { Err("must be a positive number".into()) }
        }
        fn within(x: u32, max: u32) -> Result<u32, String> {
            if (1..=max).contains(&x) { Ok(x) } else { Err(format!("must be between 1 and {max}")) }
        }
        fn flag(v: &str) -> Result<bool, String> {
            match v {
                "1" => Ok(true),
                "0" => Ok(false),
                _ => Err("expected 0 or 1".into()),
            }
        }
        match key {
            "preset" => {}
            "n" => self.requests = requests_at(position_of(num(value)?)),
            "gpus" => self.gpus = within(num(value)?, MAX_GPUS)?,
            "k" => self.k_bins = within(num(value)?, MAX_K)?,
            "scheduler" => self.scheduler = SchedulerKind::parse(value).map_err(|_| "unknown scheduler".to_string())?,
            "load" => {
                self.real_timestamps = match value {
                    "real" => true,
                    "rps" => false,
                    _ => return Err("expected 'rps' or 'real'".into()),
                }
            }
            "rps" => self.rps_factor = positive(value)?,
            "dtoken" => self.d_sla_token_s = positive(value)?,
            "drequest" => self.d_sla_request_s = positive(value)?,
            "predictor" => self.predictor = PredictorChoice::parse(value).ok_or("unknown predictor")?,
            "sigma" => {
                let x: f64 = num(value)?;
                if !(x.is_finite() && x >= 0.0) {
                    return Err("must be a number >= 0".into());
                }
                self.sigma = x;
            }
            "seed" => self.seed = num(value)?,
            "cap" => {
                let x: usize = num(value)?;
                if !PLAN_CAPS.contains(&x) {
                    return Err(format!("must be one of {PLAN_CAPS:?}"));
                }
                self.plan_cap = x;
            }
            "semantics" => self.token_semantics = Semantics::parse(value).map_err(|_| "expected 'padded' or 'early_exit'".to_string())?,
            "kappa" => {
                let x: f64 = num(value)?;
                if !(x.is_finite() && x >= 0.0) {
                    return Err("must be a number >= 0".into());
                }
                self.token_kappa = x;
            }
            "tokencpu" => self.token_on_cpu = flag(value)?,
            "softgpu" => self.software_gpu = flag(value)?,
            "router" => self.router = Router::parse(value).map_err(|_| "expected 'round_robin' or 'least_loaded'".to_string())?,
            "chunked" => self.chunked_prefill = flag(value)?,
            "budget" => self.max_batched_tokens = within(num(value)?, MAX_BATCHED_TOKENS)?,
            "maxseqs" => self.max_seqs = within(num(value)?, MAX_SEQS)?,
            "block" => self.block_tokens = within(num(value)?, MAX_BLOCK_TOKENS)?,
            "ttftslo" => self.ttft_slo_s = positive(value)?,
            "tbtslo" => self.tbt_slo_s = positive(value)?,
            "sx" | "ss" => {
                let known = SWEEP_FIELDS.iter().any(|(f, _)| *f == value) || (key == "ss" && value.is_empty());
                if !known {
                    return Err("not a field the page can sweep".into());
                }
                if key == "sx" { self.many.sweep_x = value.into() } else { self.many.sweep_series = value.into() }
            }
            "sxv" => self.many.sweep_x_values = value.into(),
            "ssv" => self.many.sweep_series_values = value.into(),
            "seeds" => self.many.sweep_seeds = within(num(value)?, MAX_SWEEP_SEEDS)?,
            "metric" => {
                if !batchlab::report::sweep::SUMMARY_METRICS.contains(&value) {
                    return Err("not a metric the sweep summarises".into());
                }
                self.many.sweep_metric = value.into();
            }
            "target" => {
                let x: f64 = num(value)?;
                if !(x > 0.0 && x <= 1.0) {
                    return Err("must be a fraction in (0, 1]".into());
                }
                self.many.capacity_target = x;
            }
            "workers" => self.many.workers = Some(within(num(value)?, 8)? as usize),
            _ => {} // unknown keys: ignored (links from newer versions still open)
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every field the core can name in an error has words on the page, and every
    /// control named for one exists in index.html.
    #[test]
    fn every_core_field_has_page_words_and_real_controls() {
        let html = include_str!("../index.html");
        for field in batchlab::config::FIELDS {
            assert!(!field_words(field).contains("  "), "{field}");
            if let Some((id, label)) = control_for(field) {
                assert!(html.contains(&format!("id=\"{id}\"")), "{field}: no control #{id}");
                assert!(!label.is_empty());
            }
        }
        assert_eq!(field_words("k_bins"), "K bins");
        assert_eq!(field_words("memory.m_max_gb"), "the preset's memory m max gb");
        // Continuous batching's settings on the page: each has its control.
        for field in [
            "iteration.router",
            "iteration.chunked_prefill",
            "iteration.max_batched_tokens",
            "iteration.max_seqs",
            "iteration.block_tokens",
            "iteration.ttft_slo_s",
            "iteration.tbt_slo_s",
        ] {
            assert!(control_for(field).is_some(), "{field}");
        }
        assert_eq!(field_words("iteration.max_batched_tokens"), "Token budget per iteration");
        assert_eq!(field_words("iteration.watermark"), "the preset's iteration watermark");
    }

    #[test]
    fn the_sweep_form_is_a_spec_on_the_controls_configuration() {
        let mut s = UiState::from_preset(Preset::Paper);
        s.gpus = 3;
        s.seed = 7;
        s.many.sweep_x_values = "1, 2.5, 4".into();
        s.many.sweep_seeds = 3;
        let spec = s.to_sweep_spec().unwrap();
        let fields: Vec<&str> = spec.axes.iter().map(|a| a.field.as_str()).collect();
        assert_eq!(fields, ["gpus", "scheduler", "seed"]);
        assert_eq!(spec.axes[0].values, [serde_json::json!(1), serde_json::json!(2.5), serde_json::json!(4)]);
        assert_eq!(spec.axes[1].values, [serde_json::json!("static_fifo"), serde_json::json!("multi_bin_dynamic")]);
        assert_eq!(spec.axes[2].values, [serde_json::json!(7), serde_json::json!(8), serde_json::json!(9)]);
        // 2.5 GPUs is no configuration: the run is named in the error.
        let err = spec.points(0..18).unwrap_err().to_string();
        assert!(err.starts_with("the sweep") && err.contains("run 6"), "{err}");
        s.many.sweep_x_values = "1, 2".into();
        let points = s.to_sweep_spec().unwrap().points(0..12).unwrap();
        // The controls' settings are the base: GPUs is swept, the rest kept.
        assert_eq!(points[0].config, Config { gpus: 1, scheduler: SchedulerKind::StaticFifo, seed: 7, ..s.to_config() });
        s.many.sweep_series = String::new();
        s.many.sweep_seeds = 1;
        assert_eq!(s.to_sweep_spec().unwrap().axes.len(), 1);
        s.many.sweep_series = "gpus".into();
        assert!(s.to_sweep_spec().unwrap_err().contains("both the x axis and the series"));
        s.many.sweep_series = "seed".into();
        s.many.sweep_x_values = " , ".into();
        assert!(s.to_sweep_spec().unwrap_err().starts_with("Sweep: no values for 'GPUs'"));
        s.many.sweep_x_values = (1..=401).map(|i| i.to_string()).collect::<Vec<_>>().join(",");
        assert!(s.to_sweep_spec().unwrap_err().contains("more than the page's 400"));
    }

    #[test]
    fn request_slider_covers_1k_to_1m_on_round_values() {
        assert_eq!(requests_at(0), 1_000);
        assert_eq!(requests_at(12), 10_000);
        assert_eq!(requests_at(24), 100_000);
        assert_eq!(requests_at(REQUEST_STEPS), 1_000_000);
        assert!((0..REQUEST_STEPS).all(|p| requests_at(p) < requests_at(p + 1)));
        assert!((0..=REQUEST_STEPS).all(|p| position_of(requests_at(p)) == p));
        assert_eq!(requests_at(position_of(12_345)), 12_000);
    }

    #[test]
    fn fragment_round_trips() {
        let mut s = UiState::from_preset(Preset::FirstResults);
        s.requests = 47_000;
        s.gpus = 16;
        s.k_bins = 3;
        s.scheduler = SchedulerKind::StaticFifo;
        s.real_timestamps = true;
        s.rps_factor = 12.5;
        s.d_sla_token_s = 0.02;
        s.d_sla_request_s = 7.5;
        s.predictor = PredictorChoice::Noisy;
        s.sigma = 0.25;
        s.seed = 7;
        s.plan_cap = 10_000;
        s.token_semantics = Semantics::EarlyExit;
        s.token_kappa = 0.25;
        s.token_on_cpu = true;
        s.router = Router::RoundRobin;
        s.chunked_prefill = true;
        s.max_batched_tokens = 512;
        s.max_seqs = 64;
        s.block_tokens = 32;
        s.ttft_slo_s = 0.75;
        s.tbt_slo_s = 0.05;
        let (back, problems) = UiState::from_fragment(&format!("#{}", s.to_fragment()));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(back, s);
    }

    /// The first view is the paper preset with three values moved, all of which a link
    /// carries: requests on the slider's scale, GPUs and the load factor.
    #[test]
    fn the_first_view_is_the_paper_preset_at_another_load() {
        let first = UiState::first_view();
        assert_eq!(requests_at(position_of(first.requests)), first.requests, "a value of the slider");
        assert_eq!(UiState { requests: 100_000, gpus: 4, rps_factor: 100.0, ..first.clone() }, UiState::from_preset(Preset::Paper));
        let (back, problems) = UiState::from_fragment(&first.to_fragment());
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(back, first);
    }

    /// Any positive finite f64, subnormals included.
    #[cfg(not(target_arch = "wasm32"))]
    fn positive() -> impl proptest::strategy::Strategy<Value = f64> {
        use proptest::num::f64::{NORMAL, POSITIVE, SUBNORMAL};
        POSITIVE | NORMAL | SUBNORMAL
    }

    /// Any valid state: every field drawn independently over its whole valid range.
    #[cfg(not(target_arch = "wasm32"))]
    fn valid_state() -> impl proptest::strategy::Strategy<Value = UiState> {
        use proptest::prelude::*;
        use proptest::sample::select;
        let workload = (
            select(Preset::ALL.to_vec()),
            (0..=REQUEST_STEPS).prop_map(requests_at),
            1..=MAX_GPUS,
            1..=MAX_K,
            select(SchedulerKind::ALL.to_vec()),
            any::<bool>(),
            positive(),
        );
        let rest = (
            positive(),
            positive(),
            select(PredictorChoice::ALL.to_vec()),
            // sigma and kappa: >= 0, so zero too.
            prop_oneof![Just(0.0), positive()],
            // Seeds anywhere in u64, half of them above 2^53 (where an f64 would round).
            prop_oneof![any::<u64>(), (1u64 << 53)..=u64::MAX],
            select(PLAN_CAPS.to_vec()),
            select(vec![Semantics::Padded, Semantics::EarlyExit]),
            prop_oneof![Just(0.0), positive()],
            any::<bool>(),
        );
        let iteration = (
            select(Router::ALL.to_vec()),
            any::<bool>(),
            1..=MAX_BATCHED_TOKENS,
            1..=MAX_SEQS,
            1..=MAX_BLOCK_TOKENS,
            positive(),
            positive(),
        );
        (workload, rest, iteration).prop_map(
            |(
                (preset, requests, gpus, k_bins, scheduler, real_timestamps, rps_factor),
                (d_sla_token_s, d_sla_request_s, predictor, sigma, seed, plan_cap, token_semantics, token_kappa, token_on_cpu),
                (router, chunked_prefill, max_batched_tokens, max_seqs, block_tokens, ttft_slo_s, tbt_slo_s),
            )| UiState {
                preset,
                requests,
                gpus,
                k_bins,
                scheduler,
                real_timestamps,
                rps_factor,
                d_sla_token_s,
                d_sla_request_s,
                predictor,
                sigma,
                seed,
                plan_cap,
                token_semantics,
                token_kappa,
                token_on_cpu,
                software_gpu: token_on_cpu && chunked_prefill,
                router,
                chunked_prefill,
                max_batched_tokens,
                max_seqs,
                block_tokens,
                ttft_slo_s,
                tbt_slo_s,
                many: ManyRuns::default(),
            },
        )
    }

    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        #[test]
        fn any_valid_state_round_trips_through_the_fragment(s in valid_state()) {
            let (back, problems) = UiState::from_fragment(&format!("#{}", s.to_fragment()));
            proptest::prop_assert!(problems.is_empty(), "{:?}", problems);
            // Bit-exact: f64s are written in their shortest round-trip form, seeds as u64.
            proptest::prop_assert_eq!(back.seed, s.seed);
            proptest::prop_assert_eq!(back, s);
        }
    }

    #[test]
    fn seeds_beyond_two_to_the_53_survive_the_link() {
        // 2^53 + 1 is the first integer an f64 cannot hold; u64::MAX the last seed.
        for seed in [(1u64 << 53) + 1, u64::MAX] {
            let s = UiState { seed, ..UiState::from_preset(Preset::Paper) };
            assert!(s.to_fragment().contains(&format!("seed={seed}")));
            assert_eq!(UiState::from_fragment(&s.to_fragment()).0.seed, seed);
        }
    }

    #[test]
    fn bad_values_are_reported_and_defaults_kept() {
        let (s, problems) = UiState::from_fragment("gpus=0&k=abc&seed=5&bogus=1&semantics=lazy&kappa=-1&tokencpu=yes");
        assert_eq!(s.gpus, UiState::from_preset(Preset::Paper).gpus);
        assert_eq!(s.seed, 5);
        assert_eq!((s.token_semantics, s.token_kappa, s.token_on_cpu), (Semantics::Padded, 0.0, false));
        assert_eq!(problems.len(), 5, "{problems:?}");
        assert!(problems[0].contains("gpus=0"));

        // The continuous-batching controls: each bad value reported, its default kept.
        let bad = "router=random&chunked=yes&budget=0&maxseqs=-3&block=2048&ttftslo=0&tbtslo=abc&seed=9";
        let (s, problems) = UiState::from_fragment(bad);
        assert_eq!(problems.len(), 7, "{problems:?}");
        assert_eq!(UiState { seed: 42, ..s }, UiState::from_preset(Preset::Paper));
        assert_eq!(s.seed, 9, "the good value of the same link is taken");
        for (key, why) in [
            ("router=random", "expected 'round_robin' or 'least_loaded'"),
            ("chunked=yes", "expected 0 or 1"),
            ("budget=0", "must be between 1 and 16777216"),
            ("maxseqs=-3", "not a valid number"),
            ("block=2048", "must be between 1 and 1024"),
            ("ttftslo=0", "must be a positive number"),
            ("tbtslo=abc", "not a valid number"),
        ] {
            assert!(problems.iter().any(|p| p == &format!("URL: '{key}' ignored: {why}")), "{key}: {problems:?}");
        }
    }

    #[test]
    fn config_applies_the_controls_to_the_preset() {
        let mut s = UiState::from_preset(Preset::Compat);
        s.predictor = PredictorChoice::Noisy;
        s.sigma = 0.3;
        s.token_semantics = Semantics::EarlyExit;
        s.token_kappa = 0.5;
        let c = s.to_config();
        assert_eq!(c.predictor, Predictor::Noisy { sigma: 0.3 });
        assert_eq!((c.token_semantics, c.token_kappa), (Semantics::EarlyExit, 0.5));
        assert!(c.sla.original_state, "keeps the preset's other fields");
        for preset in Preset::ALL {
            assert_eq!(UiState::from_preset(*preset).to_config(), Config::preset(*preset), "{preset}");
        }
        let spec = s.to_plan_spec();
        assert_eq!(spec.max_requests, DEFAULT_PLAN_CAP);
        assert!(spec.bins_cached_per_k);
    }

    #[test]
    fn config_takes_the_continuous_batching_controls() {
        let mut s = UiState::from_preset(Preset::H100Llama);
        assert!(s.chunked_prefill && s.scheduler.is_continuous(), "the preset's own values");
        s.router = Router::RoundRobin;
        s.chunked_prefill = false;
        s.max_batched_tokens = 4096;
        s.max_seqs = 128;
        s.block_tokens = 8;
        s.ttft_slo_s = 0.5;
        s.tbt_slo_s = 0.04;
        let it = s.to_config().iteration;
        assert_eq!(
            (it.router, it.chunked_prefill, it.max_batched_tokens, it.max_seqs, it.block_tokens, it.ttft_slo_s, it.tbt_slo_s),
            (Router::RoundRobin, false, 4096, 128, 8, 0.5, 0.04)
        );
        let preset = Config::preset(Preset::H100Llama).iteration;
        assert_eq!((it.form, &it.hardware, &it.model, it.watermark), (preset.form, &preset.hardware, &preset.model, preset.watermark), "the preset's other iteration fields");
    }

    /// Every scheduler and preset is offered, with words for people beside its spelling.
    #[test]
    fn index_html_offers_every_scheduler_and_preset() {
        let html = include_str!("../index.html");
        let option = |value: &str| {
            let start = html.find(&format!(r#"<option value="{value}">"#)).unwrap_or_else(|| panic!("no option {value}"));
            let text = &html[start..];
            text[text.find('>').unwrap() + 1..text.find("</option>").unwrap()].to_string()
        };
        for s in SchedulerKind::ALL {
            let label = option(s.name());
            assert!(!label.contains('_'), "{s}: '{label}' is a spelling, not words");
        }
        assert_eq!(option("continuous"), "continuous (iteration-level, vLLM-style)");
        assert_eq!(option("multi_bin_continuous"), "multi-bin continuous");
        for p in Preset::ALL {
            option(p.name());
        }
        for r in Router::ALL {
            option(r.name());
        }
    }
}
