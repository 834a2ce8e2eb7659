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
/// Bound of the SLA controller's batch sizes (B_min, B_max, B_static) on the page.
pub const MAX_BATCH: u32 = 4096;

/// A value the page cannot take as it is, in one line for people, and the control at
/// fault (its element id) when there is one, to be marked.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub control: Option<&'static str>,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Every control the page reads, in page order: (element id, its key in links, label).
pub const CONTROLS: [(&str, &str, &str); 36] = [
    ("preset", "preset", "Preset"),
    ("requests", "n", "Requests"),
    ("gpus", "gpus", "GPUs"),
    ("k", "k", "K bins"),
    ("scheduler", "scheduler", "Scheduler"),
    ("load", "load", "Load"),
    ("rps", "rps", "RPS scaling factor"),
    ("dtoken", "dtoken", "Per-token SLA"),
    ("drequest", "drequest", "Per-request SLA"),
    ("predictor", "predictor", "Output-length predictor"),
    ("sigma", "sigma", "Predictor sigma"),
    ("seed", "seed", "Seed"),
    ("sla-d", "slad", "Controller target D"),
    ("sla-eps", "slaeps", "Controller tolerance eps"),
    ("bmin", "bmin", "Smallest dynamic batch B_min"),
    ("bmax", "bmax", "Largest dynamic batch B_max"),
    ("bstatic", "bstatic", "Static batch size B_static"),
    ("router", "router", "Router"),
    ("chunked", "chunked", "Chunked prefill"),
    ("budget", "budget", "Token budget per iteration"),
    ("maxseqs", "maxseqs", "Max running sequences"),
    ("block", "block", "KV block size"),
    ("ttftslo", "ttftslo", "TTFT SLO"),
    ("tbtslo", "tbtslo", "TBT SLO"),
    ("semantics", "semantics", "Batch semantics"),
    ("kappa", "kappa", "Context cost kappa"),
    ("tokencpu", "tokencpu", "Use CPU for the token pass"),
    ("softgpu", "softgpu", "Use a software GPU adapter"),
    ("sweep-x", "sx", "Sweep (x axis)"),
    ("sweep-xv", "sxv", "Sweep values"),
    ("sweep-s", "ss", "Sweep series"),
    ("sweep-sv", "ssv", "Series values"),
    ("sweep-seeds", "seeds", "Seeds per point"),
    ("sweep-metric", "metric", "Sweep chart"),
    ("target", "target", "Capacity target"),
    ("cap", "cap", "Plan cap"),
];

/// The control (element id) and label of a link key, if the page has one for it.
fn control_of_key(key: &str) -> Option<(&'static str, &'static str)> {
    CONTROLS.iter().find(|(_, k, _)| *k == key).map(|&(id, _, label)| (id, label))
}

/// The label of a control, by element id.
pub fn label_of(id: &str) -> &'static str {
    CONTROLS.iter().find(|(i, _, _)| *i == id).map_or("", |&(_, _, label)| label)
}

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
        "iteration_profile" => ("profile-file", "Iteration profile"),
        "sla.d_s" => ("sla-d", "Controller target D"),
        "sla.eps_s" => ("sla-eps", "Controller tolerance eps"),
        "b_min" => ("bmin", "Smallest dynamic batch B_min"),
        "b_max" => ("bmax", "Largest dynamic batch B_max"),
        "b_static" => ("bstatic", "Static batch size B_static"),
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
    /// The SLA controller's own settings ("Advanced"): its target D (`None`: the SLA set
    /// above, as the preset has it), its tolerance eps, and the batch sizes B_min, B_max
    /// (dynamic batches) and B_static (static FIFO's).
    pub sla_d_s: Option<f64>,
    pub sla_eps_s: f64,
    pub b_min: u32,
    pub b_max: u32,
    pub b_static: u32,
    /// Names of the user's files (trace, calibration grid, iteration profile): a link
    /// names them (`trace=`, `calib=`, `profile=`) but cannot carry them.
    pub files: [Option<String>; 3],
}

/// The link keys of the user's files, in `UiState::files` order.
pub const FILE_KEYS: [&str; 3] = ["trace", "calib", "profile"];

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
            sla_d_s: c.sla.d_s,
            sla_eps_s: c.sla.eps_s,
            b_min: c.b_min.clamp(1, MAX_BATCH),
            b_max: c.b_max.clamp(1, MAX_BATCH),
            b_static: c.b_static.clamp(1, MAX_BATCH),
            files: Default::default(),
        }
    }

    /// The state after choosing `preset`: its values for every control it defines; the
    /// plan cap, the "Many runs" forms, the CPU switch and the files stay as they were.
    pub fn with_preset(&self, preset: Preset) -> UiState {
        UiState {
            plan_cap: self.plan_cap,
            many: self.many.clone(),
            token_on_cpu: self.token_on_cpu,
            files: self.files.clone(),
            ..UiState::from_preset(preset)
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
            b_min: self.b_min,
            b_max: self.b_max,
            b_static: self.b_static,
            sla: batchlab::config::SlaControllerConfig { d_s: self.sla_d_s, eps_s: self.sla_eps_s, ..preset.sla.clone() },
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
            ("sxv", list_for_link(&self.many.sweep_x_values)),
            ("ss", self.many.sweep_series.clone()),
            ("ssv", list_for_link(&self.many.sweep_series_values)),
            ("seeds", self.many.sweep_seeds.to_string()),
            ("metric", self.many.sweep_metric.clone()),
            ("target", self.many.capacity_target.to_string()),
            ("slad", self.sla_d_s.map_or(String::new(), |d| d.to_string())),
            ("slaeps", self.sla_eps_s.to_string()),
            ("bmin", self.b_min.to_string()),
            ("bmax", self.b_max.to_string()),
            ("bstatic", self.b_static.to_string()),
        ];
        let mut text = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
        if let Some(n) = self.many.workers {
            text.push_str(&format!("&workers={n}"));
        }
        for (key, name) in FILE_KEYS.iter().zip(&self.files) {
            if let Some(name) = name {
                text.push_str(&format!("&{key}={}", encode(name)));
            }
        }
        text
    }

    /// Parse a fragment (with or without its leading '#'). Returns the state and one
    /// problem per value that was ignored or changed, each naming its control.
    pub fn from_fragment(fragment: &str) -> (UiState, Vec<Problem>) {
        let pairs: Vec<(&str, &str)> =
            fragment.trim_start_matches('#').split('&').filter_map(|kv| kv.split_once('=')).collect();
        let mut ignored: Vec<(&str, &str, String)> = Vec::new();
        let preset = match pairs.iter().find(|(k, _)| *k == "preset") {
            Some((_, v)) => Preset::parse(v).unwrap_or_else(|_| {
                let names: Vec<&str> = Preset::ALL.iter().map(|p| p.name()).collect();
                ignored.push(("preset", v, format!("expected one of {}", names.join(", "))));
                Preset::Paper
            }),
            None => Preset::Paper,
        };
        let mut s = UiState::from_preset(preset);
        let mut snapped = Vec::new();
        for &(key, value) in &pairs {
            match s.set(key, value) {
                Err(why) => ignored.push((key, value, why)),
                // The slider has no such step: the nearest one is taken, and said so.
                Ok(()) if key == "n" && value.parse::<usize>().ok() != Some(s.requests) => snapped.push(Problem {
                    control: Some("requests"),
                    message: shown(format!("Requests: n={value} in the link is not on the request slider's steps: {} used", thousands(s.requests))),
                }),
                Ok(()) => {}
            }
        }
        // What each ignored value left in place, as the link would write it now.
        let now = s.to_fragment();
        let kept = |key: &str| {
            let v = now.split('&').find_map(|kv| kv.strip_prefix(key).and_then(|r| r.strip_prefix('='))).unwrap_or("");
            match key {
                "n" => thousands(s.requests),
                "slad" if v.is_empty() => "the SLA above".into(),
                "workers" if v.is_empty() => "one worker per core".into(),
                _ => v.to_string(),
            }
        };
        let mut problems: Vec<Problem> = ignored
            .into_iter()
            .map(|(key, value, why)| {
                let (control, label) = match control_of_key(key) {
                    Some((id, label)) => (Some(id), label),
                    None => (None, "Workers"),
                };
                Problem { control, message: shown(format!("{label}: '{key}={value}' in the link ignored ({why}); {} kept", kept(key))) }
            })
            .collect();
        problems.extend(snapped);
        (s, problems)
    }

    /// The state the page's controls hold: `values` are (element id, value as typed; a
    /// checkbox "1" or "0"), in page order; `workers` and `files` come from the page.
    /// Every control whose value cannot be taken is a problem naming it, in page order.
    pub fn from_controls(values: &[(&str, String)], workers: Option<usize>, files: [Option<String>; 3]) -> Result<UiState, Vec<Problem>> {
        let value_of = |id: &str| values.iter().find(|(i, _)| *i == id).map_or("", |(_, v)| v.as_str());
        let mut problems = Vec::new();
        let mut bad = |id: &'static str, value: &str, why: &str| {
            let got = if value.trim().is_empty() { "it is empty".to_string() } else { format!("got '{}'", value.trim()) };
            problems.push(Problem { control: Some(id), message: format!("{}: {why} ({got})", label_of(id)) });
        };
        let preset = Preset::parse(value_of("preset")).unwrap_or_else(|e| {
            bad("preset", value_of("preset"), &e.to_string());
            Preset::Paper
        });
        let mut s = UiState { files, ..UiState::from_preset(preset) };
        s.many.workers = workers;
        for &(id, key, _) in CONTROLS.iter().filter(|(id, _, _)| *id != "preset") {
            let Some((_, raw)) = values.iter().find(|(i, _)| *i == id) else { continue };
            let value = raw.trim();
            let taken = match id {
                // The slider's value is its position on the log scale.
                "requests" => value
                    .parse::<u32>()
                    .ok()
                    .filter(|&p| p <= REQUEST_STEPS)
                    .map(|p| s.requests = requests_at(p))
                    .ok_or_else(|| format!("must be a slider position between 0 and {REQUEST_STEPS}")),
                // A percentage on the page, a fraction in links.
                "target" => match value.parse::<f64>() {
                    Ok(x) if x > 0.0 && x <= 100.0 => {
                        s.many.capacity_target = x / 100.0;
                        Ok(())
                    }
                    _ => Err("must be a percentage in (0, 100]".into()),
                },
                _ => s.set(key, value),
            };
            if let Err(why) = taken {
                bad(id, raw, &why);
            }
        }
        if problems.is_empty() { Ok(s) } else { Err(problems) }
    }

    fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        fn num<T: std::str::FromStr>(v: &str, why: impl Fn() -> String) -> Result<T, String> {
            v.trim().parse().map_err(|_| why())
        }
        fn positive(v: &str) -> Result<f64, String> {
            let why = || "must be a positive number".to_string();
            let x: f64 = num(v, why)?;
            if x.is_finite() && x > 0.0 { Ok(x) } else { Err(why()) }
        }
        fn non_negative(v: &str) -> Result<f64, String> {
            let why = || "must be a number >= 0".to_string();
            let x: f64 = num(v, why)?;
            if x.is_finite() && x >= 0.0 { Ok(x) } else { Err(why()) }
        }
        /// A whole number in 1..=max; anything else (-3, 2.5, abc) says so with the bounds.
        fn whole(v: &str, max: u32) -> Result<u32, String> {
            let why = || format!("must be a whole number between 1 and {max}");
            let x: i64 = num(v, why)?;
            if (1..=i64::from(max)).contains(&x) { Ok(x as u32) } else { Err(why()) }
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
            "n" => {
                let (lo, hi) = (requests_at(0), requests_at(REQUEST_STEPS));
                let why = || format!("must be a whole number between {} and {}", thousands(lo), thousands(hi));
                let n: usize = num(value, why)?;
                if !(lo..=hi).contains(&n) {
                    return Err(why());
                }
                self.requests = requests_at(position_of(n));
            }
            "gpus" => self.gpus = whole(value, MAX_GPUS)?,
            "k" => self.k_bins = whole(value, MAX_K)?,
            "scheduler" => {
                self.scheduler = SchedulerKind::parse(value).map_err(|_| {
                    let names: Vec<&str> = SchedulerKind::ALL.iter().map(|s| s.name()).collect();
                    format!("expected one of {}", names.join(", "))
                })?
            }
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
            "predictor" => self.predictor = PredictorChoice::parse(value).ok_or("expected 'prompt', 'noisy' or 'oracle'")?,
            "sigma" => self.sigma = non_negative(value)?,
            "seed" => self.seed = num(value, || format!("must be a whole number between 0 and {}", u64::MAX))?,
            "cap" => {
                let x: usize = num(value, || format!("must be one of {PLAN_CAPS:?}"))?;
                if !PLAN_CAPS.contains(&x) {
                    return Err(format!("must be one of {PLAN_CAPS:?}"));
                }
                self.plan_cap = x;
            }
            "semantics" => self.token_semantics = Semantics::parse(value).map_err(|_| "expected 'padded' or 'early_exit'".to_string())?,
            "kappa" => self.token_kappa = non_negative(value)?,
            "tokencpu" => self.token_on_cpu = flag(value)?,
            "softgpu" => self.software_gpu = flag(value)?,
            "router" => self.router = Router::parse(value).map_err(|_| "expected 'round_robin' or 'least_loaded'".to_string())?,
            "chunked" => self.chunked_prefill = flag(value)?,
            "budget" => self.max_batched_tokens = whole(value, MAX_BATCHED_TOKENS)?,
            "maxseqs" => self.max_seqs = whole(value, MAX_SEQS)?,
            "block" => self.block_tokens = whole(value, MAX_BLOCK_TOKENS)?,
            "ttftslo" => self.ttft_slo_s = positive(value)?,
            "tbtslo" => self.tbt_slo_s = positive(value)?,
            // Empty: the controller follows the SLA set above.
            "slad" => self.sla_d_s = if value.trim().is_empty() { None } else { Some(positive(value)?) },
            "slaeps" => self.sla_eps_s = non_negative(value)?,
            "bmin" => self.b_min = whole(value, MAX_BATCH)?,
            "bmax" => self.b_max = whole(value, MAX_BATCH)?,
            "bstatic" => self.b_static = whole(value, MAX_BATCH)?,
            "trace" | "calib" | "profile" => {
                let slot = FILE_KEYS.iter().position(|k| *k == key).unwrap_or(0);
                self.files[slot] = Some(decode(value)).filter(|n| !n.is_empty());
            }
            "sx" | "ss" => {
                let known = SWEEP_FIELDS.iter().any(|(f, _)| *f == value) || (key == "ss" && value.is_empty());
                if !known {
                    return Err("not a field the page can sweep".into());
                }
                if key == "sx" { self.many.sweep_x = value.into() } else { self.many.sweep_series = value.into() }
            }
            "sxv" => self.many.sweep_x_values = decode(value),
            "ssv" => self.many.sweep_series_values = decode(value),
            "seeds" => self.many.sweep_seeds = whole(value, MAX_SWEEP_SEEDS)?,
            "metric" => {
                if !batchlab::report::sweep::SUMMARY_METRICS.contains(&value) {
                    return Err("not a metric the sweep summarises".into());
                }
                self.many.sweep_metric = value.into();
            }
            "target" => {
                let x: f64 = num(value, || "must be a fraction in (0, 1]".to_string())?;
                if !(x > 0.0 && x <= 1.0) {
                    return Err("must be a fraction in (0, 1]".into());
                }
                self.many.capacity_target = x;
            }
            "workers" => self.many.workers = Some(whole(value, 8)? as usize),
            _ => {} // unknown keys: ignored (links from newer versions still open)
        }
        Ok(())
    }
}

/// A message quoting a link's text, on one line: control characters in the link (a line
/// break, a carriage return) written as escapes. (Found by the fragment fuzz target.)
fn shown(message: String) -> String {
    if !message.chars().any(char::is_control) {
        return message;
    }
    message.chars().map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() }).collect()
}

/// A count with thousands separators: 12000 -> "12,000".
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let groups: Vec<&str> = digits.as_bytes().rchunks(3).rev().map(|g| std::str::from_utf8(g).unwrap_or("")).collect();
    groups.join(",")
}

/// A value for a link: every byte but unreserved ASCII as %XX (UTF-8), so a file name
/// with '&', '=', '#', spaces or any script survives the fragment.
pub fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

/// A typed list of values for a link: spaces dropped, and the three characters that
/// would end the value or the fragment escaped ('1, 2, 4' stays readable as 1,2,4).
fn list_for_link(text: &str) -> String {
    text.replace(' ', "").replace('%', "%25").replace('&', "%26").replace('#', "%23")
}

/// The inverse of `encode`; a malformed escape is kept as written.
pub fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl UiState {
    /// The controls a preset defines, as (label, value in words), in page order.
    fn preset_controls(&self) -> Vec<(&'static str, String)> {
        let on_off = |b: bool| if b { "on" } else { "off" }.to_string();
        vec![
            ("Requests", thousands(self.requests)),
            ("GPUs", self.gpus.to_string()),
            ("K bins", self.k_bins.to_string()),
            ("Scheduler", crate::view::scheduler_words(self.scheduler).to_string()),
            ("Load", if self.real_timestamps { "real timestamps" } else { "RPS scaling" }.to_string()),
            ("RPS scaling factor", self.rps_factor.to_string()),
            ("Per-token SLA", format!("{} s", self.d_sla_token_s)),
            ("Per-request SLA", format!("{} s", self.d_sla_request_s)),
            ("Output-length predictor", self.predictor.name().to_string()),
            ("Predictor sigma", self.sigma.to_string()),
            ("Seed", self.seed.to_string()),
            ("Controller target D", self.sla_d_s.map_or("the SLA above".into(), |d| format!("{d} s"))),
            ("Controller tolerance eps", format!("{} s", self.sla_eps_s)),
            ("B_min", self.b_min.to_string()),
            ("B_max", self.b_max.to_string()),
            ("B_static", self.b_static.to_string()),
            ("Router", self.router.name().to_string()),
            ("Chunked prefill", on_off(self.chunked_prefill)),
            ("Token budget per iteration", self.max_batched_tokens.to_string()),
            ("Max running sequences", self.max_seqs.to_string()),
            ("KV block size", self.block_tokens.to_string()),
            ("TTFT SLO", format!("{} s", self.ttft_slo_s)),
            ("TBT SLO", format!("{} s", self.tbt_slo_s)),
            ("Batch semantics", self.token_semantics.name().to_string()),
            ("Context cost kappa", self.token_kappa.to_string()),
        ]
    }
}

/// What choosing a preset did, in one line: the controls whose values it changed, with
/// their new values (`before` the controls as they were, `after` with the preset).
pub fn preset_note(before: &UiState, after: &UiState) -> String {
    let changed: Vec<String> = before
        .preset_controls()
        .into_iter()
        .zip(after.preset_controls())
        .filter(|(b, a)| b.1 != a.1)
        .map(|(_, (label, value))| format!("{label} {value}"))
        .collect();
    let name = after.preset.name();
    if changed.is_empty() {
        format!("Preset '{name}': every control already held its value")
    } else {
        format!("Preset '{name}' set: {}", changed.join(", "))
    }
}

/// The controls (element ids) a job does not read, each with why: the plan and the study
/// choose requests, GPUs, K and scheduler per run; the capacity search varies the load
/// and runs every scheduler; a sweep sets the fields it sweeps; Compare runs every
/// scheduler.
pub fn unused_by(job: &str, s: &UiState) -> Vec<&'static str> {
    const PER_RUN: [&str; 4] = ["requests", "gpus", "k", "scheduler"];
    // Continuous batching's controls: the plan's and the study's runs are batch runs.
    const ITERATION: [&str; 7] = ["router", "chunked", "budget", "maxseqs", "block", "ttftslo", "tbtslo"];
    let sweep_control = |field: &str| -> Option<&'static str> {
        match field {
            "k_bins" => Some("k"),
            "load.factor" => Some("rps"),
            _ => control_for(field).map(|(id, _)| id),
        }
    };
    match job {
        // The plan's runs take the CPU pass (see `page::Job::Plan`).
        "plan" => PER_RUN.iter().chain(&ITERATION).chain(&["tokencpu", "softgpu"]).copied().collect(),
        "study" => PER_RUN.iter().chain(&["load", "rps"]).chain(&ITERATION).copied().collect(),
        // Capacity searches and sweeps take the CPU pass too (many passes).
        "capacity" => vec!["scheduler", "load", "rps", "tokencpu", "softgpu"],
        "compare" => vec!["scheduler"],
        "sweep" => {
            let m = &s.many;
            let swept = [m.sweep_x.as_str(), m.sweep_series.as_str()].into_iter().filter_map(sweep_control);
            swept.chain(["tokencpu", "softgpu"]).collect()
        }
        _ => Vec::new(),
    }
}

/// The line saying which controls a job leaves unused (`ids` from `unused_by`).
pub fn unused_note(job: &str, ids: &[&str]) -> String {
    if ids.is_empty() {
        return String::new();
    }
    let who = match job {
        "plan" => "the stress plan (it sets them for each of its runs)",
        "study" => "the study (it sets them for each of its runs)",
        "capacity" => "the capacity search (it varies the load for every scheduler)",
        "sweep" => "the sweep (it sets them for each of its runs)",
        _ => "Compare schedulers (it runs every scheduler)",
    };
    let labels: Vec<&str> = ids.iter().map(|id| label_of(id)).collect();
    format!("Not used by {who}: {}.", labels.join(", "))
}

/// The user's files in words: (what, what runs use without it).
const FILE_WORDS: [(&str, &str); 3] = [
    ("the trace", "the synthetic workload"),
    ("the calibration grid", "the preset's built-in grid"),
    ("the iteration profile", "the roofline"),
];

/// When a link names files the page does not hold (`linked` names by slot, `attached`
/// whether a file is in that slot), the notice saying so; `waiting` names the job the
/// link would start, which waits for them or for the visitor to run it without them.
pub fn files_notice(linked: &[Option<String>; 3], attached: [bool; 3], waiting: Option<&str>) -> Option<String> {
    let missing: Vec<usize> = (0..3).filter(|&i| linked[i].is_some() && !attached[i]).collect();
    if missing.is_empty() {
        return None;
    }
    let join = |parts: Vec<String>| match parts.len() {
        1 => parts[0].clone(),
        _ => format!("{} and {}", parts[..parts.len() - 1].join(", "), parts[parts.len() - 1]),
    };
    let what = join(missing.iter().map(|&i| format!("{} {}", FILE_WORDS[i].0, linked[i].as_deref().unwrap_or(""))).collect());
    let instead = join(missing.iter().map(|&i| FILE_WORDS[i].1.to_string()).collect());
    let (which, them) = if missing.len() == 1 { ("which is", "it") } else { ("which are", "them") };
    let mut text = format!(
        "This link was made with {what}, {which} not part of links: choose {them} below to reproduce the figure; until then runs use {instead}."
    );
    if let Some(job) = waiting {
        text += &format!(" The link's {job} waits until you choose {them}, or runs without {them} if you ask.");
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A link carrying line breaks gives one-line problems that quote them as escapes.
    #[test]
    fn a_links_line_breaks_stay_out_of_its_problems() {
        let (s, problems) = UiState::from_fragment("preset=p\r&n=7\n&k=x\u{2028}");
        assert_eq!(s, UiState::from_preset(Preset::Paper));
        assert_eq!(problems.len(), 3, "{problems:?}");
        for p in &problems {
            assert!(!p.message.contains(['\n', '\r']), "{:?}", p.message);
        }
        assert!(problems[0].message.contains("'preset=p\\r'"), "{:?}", problems[0].message);
    }

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
        s.sla_d_s = Some(0.5);
        s.sla_eps_s = 0.02;
        s.b_min = 2;
        s.b_max = 64;
        s.b_static = 16;
        s.files = [Some("my trace & co #2=ü.csv".into()), None, Some("profile.csv".into())];
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
        let controller = (
            proptest::option::of(positive()),
            prop_oneof![Just(0.0), positive()],
            1..=MAX_BATCH,
            1..=MAX_BATCH,
            1..=MAX_BATCH,
            // File names: any text (the link encodes it), or none.
            [proptest::option::of(".+"), proptest::option::of(".+"), proptest::option::of(".+")],
        );
        (workload, rest, iteration, controller).prop_map(
            |(
                (preset, requests, gpus, k_bins, scheduler, real_timestamps, rps_factor),
                (d_sla_token_s, d_sla_request_s, predictor, sigma, seed, plan_cap, token_semantics, token_kappa, token_on_cpu),
                (router, chunked_prefill, max_batched_tokens, max_seqs, block_tokens, ttft_slo_s, tbt_slo_s),
                (sla_d_s, sla_eps_s, b_min, b_max, b_static, files),
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
                sla_d_s,
                sla_eps_s,
                b_min,
                b_max,
                b_static,
                files,
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
        assert_eq!(problems[0].message, "GPUs: 'gpus=0' in the link ignored (must be a whole number between 1 and 128); 4 kept");
        assert_eq!(problems[0].control, Some("gpus"));

        // The continuous-batching controls: each bad value reported, its default kept.
        let bad = "router=random&chunked=yes&budget=0&maxseqs=-3&block=2048&ttftslo=0&tbtslo=abc&seed=9";
        let (s, problems) = UiState::from_fragment(bad);
        assert_eq!(problems.len(), 7, "{problems:?}");
        assert_eq!(UiState { seed: 42, ..s }, UiState::from_preset(Preset::Paper));
        assert_eq!(s.seed, 9, "the good value of the same link is taken");
        for (control, message) in [
            ("router", "Router: 'router=random' in the link ignored (expected 'round_robin' or 'least_loaded'); least_loaded kept"),
            ("chunked", "Chunked prefill: 'chunked=yes' in the link ignored (expected 0 or 1); 0 kept"),
            ("budget", "Token budget per iteration: 'budget=0' in the link ignored (must be a whole number between 1 and 16777216); 8192 kept"),
            ("maxseqs", "Max running sequences: 'maxseqs=-3' in the link ignored (must be a whole number between 1 and 1048576); 256 kept"),
            ("block", "KV block size: 'block=2048' in the link ignored (must be a whole number between 1 and 1024); 16 kept"),
            ("ttftslo", "TTFT SLO: 'ttftslo=0' in the link ignored (must be a positive number); 2 kept"),
            ("tbtslo", "TBT SLO: 'tbtslo=abc' in the link ignored (must be a positive number); 0.1 kept"),
        ] {
            let p = problems.iter().find(|p| p.control == Some(control)).unwrap_or_else(|| panic!("{control}: {problems:?}"));
            assert_eq!(p.message, message);
        }
    }

    /// A link's values in the page's words: bounds said, every problem listed with the
    /// control it marks, a request count off the slider's steps taken at the nearest step.
    #[test]
    fn link_problems_say_the_bounds_and_name_the_controls() {
        let (s, problems) = UiState::from_fragment("gpus=-3&n=12345&k=2.5&dtoken=-1&bmax=0&preset=nope&workers=9");
        let messages: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "Preset: 'preset=nope' in the link ignored (expected one of paper, first-results, compat, h100-llama3.1-8b); paper kept",
                "GPUs: 'gpus=-3' in the link ignored (must be a whole number between 1 and 128); 4 kept",
                "K bins: 'k=2.5' in the link ignored (must be a whole number between 1 and 32); 8 kept",
                "Per-token SLA: 'dtoken=-1' in the link ignored (must be a positive number); 0.01 kept",
                "Largest dynamic batch B_max: 'bmax=0' in the link ignored (must be a whole number between 1 and 4096); 128 kept",
                "Workers: 'workers=9' in the link ignored (must be a whole number between 1 and 8); one worker per core kept",
                "Requests: n=12345 in the link is not on the request slider's steps: 12,000 used",
            ]
        );
        let controls: Vec<Option<&str>> = problems.iter().map(|p| p.control).collect();
        assert_eq!(controls, [Some("preset"), Some("gpus"), Some("k"), Some("dtoken"), Some("bmax"), None, Some("requests")]);
        assert_eq!(s.requests, 12_000);
        // Out of the slider's range: the preset's count stays.
        let (s, problems) = UiState::from_fragment("n=0");
        assert_eq!(s.requests, 100_000);
        assert_eq!(problems[0].message, "Requests: 'n=0' in the link ignored (must be a whole number between 1,000 and 1,000,000); 100,000 kept");
        // On a step: no problem.
        assert!(UiState::from_fragment("n=47000").1.is_empty());
        // No CLI spelling anywhere.
        assert!(messages.iter().all(|m| !m.contains("--") && !m.starts_with("URL")));
    }

    #[test]
    fn controls_give_every_bad_value_with_its_control() {
        let good: Vec<(&str, String)> = CONTROLS
            .iter()
            .map(|&(id, key, _)| {
                let fragment = UiState::from_preset(Preset::Paper).to_fragment();
                let v = fragment.split('&').find_map(|kv| kv.strip_prefix(key).and_then(|r| r.strip_prefix('='))).unwrap_or("").to_string();
                // The page's own forms of three values: slider position, percentage.
                let v = match id {
                    "requests" => position_of(100_000).to_string(),
                    "target" => "90".into(),
                    _ => v,
                };
                (id, v)
            })
            .collect();
        let s = UiState::from_controls(&good, Some(3), [None, Some("grid.csv".into()), None]).unwrap();
        assert_eq!(s, UiState { many: ManyRuns { workers: Some(3), ..ManyRuns::default() }, files: [None, Some("grid.csv".into()), None], ..UiState::from_preset(Preset::Paper) });
        let with = |changes: &[(&str, &str)]| {
            let mut v = good.clone();
            for (id, value) in changes {
                v.iter_mut().find(|(i, _)| i == id).unwrap().1 = value.to_string();
            }
            UiState::from_controls(&v, None, Default::default())
        };
        let problems = with(&[("gpus", "-3"), ("rps", ""), ("bmin", "0"), ("sla-d", "x"), ("target", "150"), ("seed", "1.5")]).unwrap_err();
        let messages: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "GPUs: must be a whole number between 1 and 128 (got '-3')",
                "RPS scaling factor: must be a positive number (it is empty)",
                "Seed: must be a whole number between 0 and 18446744073709551615 (got '1.5')",
                "Controller target D: must be a positive number (got 'x')",
                "Smallest dynamic batch B_min: must be a whole number between 1 and 4096 (got '0')",
                "Capacity target: must be a percentage in (0, 100] (got '150')",
            ]
        );
        let controls: Vec<&str> = problems.iter().filter_map(|p| p.control).collect();
        assert_eq!(controls, ["gpus", "rps", "seed", "sla-d", "bmin", "target"]);
        // Fixed: no problem; the controller's target left empty follows the SLA.
        let s = with(&[("sla-d", ""), ("sla-eps", "0.002"), ("bmin", "2"), ("bmax", "64"), ("bstatic", "4")]).unwrap();
        assert_eq!((s.sla_d_s, s.sla_eps_s, s.b_min, s.b_max, s.b_static), (None, 0.002, 2, 64, 4));
        let c = with(&[("sla-d", "0.02")]).unwrap().to_config();
        assert_eq!((c.sla.d_s, c.sla.eps_s), (Some(0.02), 0.001));
    }

    #[test]
    fn the_controllers_settings_reach_the_config_and_core_errors_mark_them() {
        let mut s = UiState::from_preset(Preset::FirstResults);
        (s.sla_d_s, s.sla_eps_s, s.b_min, s.b_max, s.b_static) = (Some(0.8), 0.05, 4, 96, 12);
        let c = s.to_config();
        assert_eq!((c.sla.d_s, c.sla.eps_s, c.b_min, c.b_max, c.b_static), (Some(0.8), 0.05, 4, 96, 12));
        assert_eq!(c.sla.rules, Config::preset(Preset::FirstResults).sla.rules, "the preset's other controller settings");
        // B_min above B_max: the core names b_min, the page marks its control.
        s.b_min = 100;
        let field = s.to_config().validate().unwrap_err().field_name().map(str::to_string).unwrap();
        assert_eq!(control_for(&field), Some(("bmin", "Smallest dynamic batch B_min")));
        for (field, id) in [("sla.d_s", "sla-d"), ("sla.eps_s", "sla-eps"), ("b_max", "bmax"), ("b_static", "bstatic")] {
            assert_eq!(control_for(field).map(|c| c.0), Some(id));
        }
    }

    #[test]
    fn a_preset_says_what_it_set_and_keeps_what_it_does_not_define() {
        let mut before = UiState::from_preset(Preset::Paper);
        before.gpus = 16;
        before.plan_cap = 10_000;
        before.token_on_cpu = true;
        before.files[0] = Some("t.csv".into());
        before.many.sweep_seeds = 5;
        let after = before.with_preset(Preset::Compat);
        assert_eq!((after.plan_cap, after.token_on_cpu, after.many.sweep_seeds), (10_000, true, 5));
        assert_eq!(after.files[0].as_deref(), Some("t.csv"));
        assert_eq!(after.gpus, Config::preset(Preset::Compat).gpus.min(MAX_GPUS));
        let note = preset_note(&before, &after);
        assert!(note.starts_with("Preset 'compat' set: "), "{note}");
        assert!(note.contains(&format!("GPUs {}", after.gpus)), "{note}");
        assert!(note.contains("Per-request SLA 1 s"), "{note}");
        assert!(!note.contains("Seed"), "unchanged values are not listed: {note}");
        assert!(!note.contains('\n'));
        assert_eq!(preset_note(&after, &after), "Preset 'compat': every control already held its value");
    }

    #[test]
    fn jobs_name_the_controls_they_do_not_read() {
        let s = UiState::from_preset(Preset::Paper);
        let plan = unused_by("plan", &s);
        for id in ["requests", "gpus", "k", "scheduler", "budget"] {
            assert!(plan.contains(&id), "{id}");
        }
        assert!(!plan.contains(&"rps") && !plan.contains(&"seed"));
        assert!(unused_by("study", &s).contains(&"rps"));
        assert_eq!(unused_by("sweep", &s), ["gpus", "scheduler", "tokencpu", "softgpu"]);
        assert!(unused_by("run", &s).is_empty());
        assert_eq!(
            unused_note("capacity", &unused_by("capacity", &s)),
            "Not used by the capacity search (it varies the load for every scheduler): Scheduler, Load, RPS scaling factor, Use CPU for the token pass, Use a software GPU adapter."
        );
        assert_eq!(unused_note("run", &[]), "");
        // Every id is a control of the page.
        let html = include_str!("../index.html");
        for job in ["plan", "study", "capacity", "compare", "sweep"] {
            for id in unused_by(job, &s) {
                assert!(html.contains(&format!("id=\"{id}\"")), "{job}: {id}");
            }
        }
        // The plan's K is the preset's, not the control's: K is truly unused.
        let k5 = UiState { k_bins: 5, ..s.clone() };
        assert_eq!(k5.to_plan_spec().k_bins, s.to_plan_spec().k_bins);
    }

    #[test]
    fn a_link_names_its_files_and_says_when_they_are_missing() {
        let mut s = UiState::from_preset(Preset::Paper);
        s.files = [Some("burst gpt&1.csv".into()), None, None];
        let fragment = s.to_fragment();
        assert!(fragment.ends_with("&trace=burst%20gpt%261.csv"), "{fragment}");
        let (back, problems) = UiState::from_fragment(&fragment);
        assert!(problems.is_empty());
        assert_eq!(back.files[0].as_deref(), Some("burst gpt&1.csv"));
        let none = [false; 3];
        assert_eq!(
            files_notice(&back.files, none, Some("run")).unwrap(),
            "This link was made with the trace burst gpt&1.csv, which is not part of links: choose it below to reproduce the figure; \
             until then runs use the synthetic workload. The link's run waits until you choose it, or runs without it if you ask."
        );
        assert_eq!(files_notice(&back.files, [true, false, false], Some("run")), None, "a trace is attached");
        let two = [Some("t.csv".into()), Some("g.csv".into()), None];
        assert!(files_notice(&two, [true, false, false], None).unwrap().starts_with("This link was made with the calibration grid g.csv, which is"));
        let notice = files_notice(&two, none, None).unwrap();
        assert!(notice.starts_with("This link was made with the trace t.csv and the calibration grid g.csv, which are not part of links: choose them below"), "{notice}");
        assert!(notice.ends_with("until then runs use the synthetic workload and the preset's built-in grid."), "{notice}");
        assert_eq!(files_notice(&Default::default(), [true; 3], None), None, "a link without files needs none");
        assert_eq!(decode("a%2"), "a%2", "a malformed escape is kept");
    }

    #[test]
    fn typed_sweep_values_stay_in_their_key_of_a_link() {
        // Free text typed into the sweep's value lists must not become other keys.
        let mut s = UiState::from_preset(Preset::Paper);
        s.many.sweep_x_values = "1, 2&gpus=99#x%41".into();
        s.many.sweep_series_values = "a&b".into();
        let (back, _) = UiState::from_fragment(&format!("#{}", s.to_fragment()));
        assert_eq!(back.many.sweep_x_values, "1,2&gpus=99#x%41");
        assert_eq!(back.many.sweep_series_values, "a&b");
        assert_eq!(back.gpus, s.gpus);
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
