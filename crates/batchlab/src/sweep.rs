//! Sweeps: a base configuration and axes over any of its fields, run as the cartesian
//! product of the axes' values in a fixed order (the last axis fastest), so a sweep split
//! into shards and merged gives exactly the rows of the whole.
//!
//! A spec is TOML:
//!
//! ```toml
//! preset = "paper"            # the base: a preset...
//! [base]                      # ...and fields set on it (dotted names as in errors)
//! requests = 20000
//! "iteration.chunked_prefill" = true
//! [axes]                      # each a list of values; the product is the sweep
//! scheduler = ["continuous", "multi_bin_continuous"]
//! "load.factor" = [20, 50, 100]
//! seed = [1, 2, 3]            # seeds: the summary's mean and 95% interval are over them
//! ```
//!
//! A field is set by its dotted name in the configuration's JSON form, so every field a
//! `Config` has can be swept, and a name it does not have is an error naming it.

use serde_json::Value;

use crate::config::{Config, Preset};
use crate::error::{Error, Result};
use crate::run::RunResult;
use crate::tasks::{Planner, Progress, RunTask, TaskDone};

/// The axis whose values are repetitions, not settings: the summary averages over it.
pub const SEED_AXIS: &str = "seed";

#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    pub field: String,
    pub values: Vec<Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SweepSpec {
    /// The spec file's name, for errors.
    pub file: String,
    pub preset: Preset,
    /// The configuration the `base` fields are set on; `None`: the preset's (a spec
    /// file). The page sweeps from what its controls hold.
    pub start: Option<Config>,
    pub base: Vec<(String, Value)>,
    pub axes: Vec<Axis>,
}

/// One run of a sweep: its index in the whole sweep, its axis values, its configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepPoint {
    pub index: usize,
    /// One per axis, in the axes' order.
    pub values: Vec<Value>,
    pub config: Config,
}

/// Most runs one sweep may have: a product of a few long axes can be astronomically big.
pub const MAX_SWEEP_RUNS: usize = 100_000;

impl SweepSpec {
    /// Read a spec; an error names the file (and the line of a TOML syntax error).
    pub fn parse_toml(bytes: &[u8], file: &str) -> Result<Self> {
        let fail = |msg: String| Error::input(file, None, None, msg);
        let text = std::str::from_utf8(bytes).map_err(|_| fail("not UTF-8 text".into()))?;
        let doc: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            let line = e.span().map_or(1, |s| text[..s.start].lines().count().max(1));
            fail(format!("line {line}: {}", e.message()))
        })?;
        let mut preset = Preset::Paper;
        let (mut base, mut axes) = (Vec::new(), Vec::new());
        for (key, value) in doc {
            match (key.as_str(), value) {
                ("preset", toml::Value::String(name)) => preset = Preset::parse(&name).map_err(|e| fail(e.to_string()))?,
                ("base", toml::Value::Table(t)) => {
                    for (field, v) in t {
                        base.push((field, json_of(v)));
                    }
                }
                ("axes", toml::Value::Table(t)) => {
                    for (field, v) in t {
                        let toml::Value::Array(values) = v else {
                            return Err(fail(format!("axis '{field}' must be a list of values")));
                        };
                        if values.is_empty() {
                            return Err(fail(format!("axis '{field}' has no value")));
                        }
                        axes.push(Axis { field, values: values.into_iter().map(json_of).collect() });
                    }
                }
                (key, _) => return Err(fail(format!("unknown key '{key}' (a spec has preset, [base] and [axes])"))),
            }
        }
        if axes.is_empty() {
            return Err(fail("no [axes]: a sweep needs at least one axis".into()));
        }
        let spec = SweepSpec { file: file.to_string(), preset, start: None, base, axes };
        spec.run_count()?;
        Ok(spec)
    }

    /// Number of runs: the product of the axes' lengths.
    pub fn run_count(&self) -> Result<usize> {
        let mut n: usize = 1;
        for a in &self.axes {
            n = n.checked_mul(a.values.len()).filter(|&n| n <= MAX_SWEEP_RUNS).ok_or_else(|| {
                Error::input(&self.file, None, None, format!("the axes make more than {MAX_SWEEP_RUNS} runs"))
            })?;
        }
        Ok(n)
    }

    /// Runs `range` of the sweep (all: `0..len`), each configuration validated.
    pub fn points(&self, range: std::ops::Range<usize>) -> Result<Vec<SweepPoint>> {
        let start = self.start.clone().unwrap_or_else(|| Config::preset(self.preset));
        let mut base = serde_json::to_value(start).expect("a Config serialises");
        for (field, value) in &self.base {
            set_field(&mut base, field, value.clone(), &self.file, "base")?;
        }
        let lens: Vec<usize> = self.axes.iter().map(|a| a.values.len()).collect();
        range
            .map(|index| {
                // Mixed radix, the last axis fastest.
                let mut rest = index;
                let mut picks = vec![0; lens.len()];
                for (pick, &len) in picks.iter_mut().zip(&lens).rev() {
                    *pick = rest % len;
                    rest /= len;
                }
                let mut doc = base.clone();
                let values: Vec<Value> = self.axes.iter().zip(&picks).map(|(a, &p)| a.values[p].clone()).collect();
                for (axis, value) in self.axes.iter().zip(&values) {
                    set_field(&mut doc, &axis.field, value.clone(), &self.file, "axes")?;
                }
                let config: Config = serde_json::from_value(doc)
                    .map_err(|e| Error::input(&self.file, None, None, format!("run {index}: {e}")))?;
                config.validate().map_err(|e| Error::input(&self.file, None, None, format!("run {index} ({}): {e}", describe(&self.axes, &values))))?;
                Ok(SweepPoint { index, values, config })
            })
            .collect()
    }

    /// A short fingerprint of what the spec runs (shards of different specs do not merge).
    pub fn fingerprint(&self) -> String {
        let start = self.start.as_ref().map_or(String::new(), |c| serde_json::to_string(c).expect("a Config serialises"));
        let canonical = format!(
            "{}{start}|{}|{}",
            self.preset.name(),
            self.base.iter().map(|(f, v)| format!("{f}={v}")).collect::<Vec<_>>().join(";"),
            self.axes.iter().map(|a| format!("{}={}", a.field, Value::Array(a.values.clone()))).collect::<Vec<_>>().join(";")
        );
        crate::config::fingerprint(canonical.as_bytes())
    }
}

/// A sweep's points as one job of runs (`tasks::Planner`): every point at once.
pub struct SweepJob {
    points: Vec<SweepPoint>,
    handed: bool,
    results: Vec<Option<std::result::Result<RunResult, String>>>,
    recorded: usize,
    requests_simulated: u64,
    last_label: String,
    axes: Vec<Axis>,
}

impl SweepJob {
    pub fn new(spec: &SweepSpec, points: Vec<SweepPoint>) -> SweepJob {
        let results = vec![None; points.len()];
        SweepJob { points, handed: false, results, recorded: 0, requests_simulated: 0, last_label: String::new(), axes: spec.axes.clone() }
    }

    /// Each point with its result or its error's message, in the sweep's order.
    pub fn finish(self) -> Vec<(SweepPoint, std::result::Result<RunResult, String>)> {
        self.points.into_iter().zip(self.results).map(|(p, r)| (p, r.unwrap_or_else(|| Err("not run".into())))).collect()
    }
}

impl Planner for SweepJob {
    fn ready(&mut self) -> Vec<RunTask> {
        if std::mem::replace(&mut self.handed, true) {
            return Vec::new();
        }
        let tasks = self.points.iter().enumerate().map(|(id, p)| RunTask {
            id,
            label: describe(&self.axes, &p.values),
            workload: p.config.clone(),
            config: p.config.clone(),
            keep_timeseries: false,
        });
        // The largest runs first, so no thread is left with a big one at the end.
        let mut tasks: Vec<RunTask> = tasks.collect();
        tasks.sort_by_key(|t| std::cmp::Reverse(t.config.requests));
        tasks
    }

    fn record(&mut self, done: TaskDone) -> Result<()> {
        let point = self.points.get(done.id).ok_or_else(crate::tasks::stalled)?;
        // A failed run keeps its message (a row of the CSV); the sweep goes on.
        self.last_label = describe(&self.axes, &point.values);
        self.requests_simulated += point.config.requests as u64;
        if self.results[done.id].replace(done.outcome.map_err(|e| e.to_string())).is_none() {
            self.recorded += 1;
        }
        Ok(())
    }

    fn progress(&self) -> Progress {
        Progress { runs_done: self.recorded, runs_total: self.points.len(), requests_simulated: self.requests_simulated, last_label: self.last_label.clone() }
    }

    fn finished(&self) -> bool {
        self.recorded == self.points.len()
    }
}

/// "scheduler=continuous, load.factor=20" for messages.
pub fn describe(axes: &[Axis], values: &[Value]) -> String {
    axes.iter().zip(values).map(|(a, v)| format!("{}={}", a.field, cell(v))).collect::<Vec<_>>().join(", ")
}

/// A value as a CSV cell: strings without their quotes.
pub fn cell(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The runs of shard `i` of `n` (1-based `i`): contiguous, as even as whole runs allow.
pub fn shard_range(total: usize, i: usize, n: usize) -> std::ops::Range<usize> {
    let start = total * (i - 1) / n;
    let end = total * i / n;
    start..end
}

fn json_of(v: toml::Value) -> Value {
    serde_json::to_value(v).expect("TOML values are JSON values")
}

/// Set `doc.a.b.c = value` where the field already exists (so a misspelt name is an error).
fn set_field(doc: &mut Value, field: &str, value: Value, file: &str, section: &str) -> Result<()> {
    let unknown = || Error::input(file, None, None, format!("[{section}] unknown field '{field}': not a field of the configuration"));
    let mut node = doc;
    for part in field.split('.') {
        node = node.as_object_mut().and_then(|o| o.get_mut(part)).ok_or_else(unknown)?;
    }
    // A whole number where the configuration has a float (load.factor = 20) is that float.
    *node = match (&*node, value) {
        (Value::Number(old), Value::Number(new)) if old.is_f64() && !new.is_f64() => {
            serde_json::Number::from_f64(new.as_f64().unwrap_or(0.0)).map(Value::Number).unwrap_or(Value::Null)
        }
        (_, v) => v,
    };
    Ok(())
}

/// The mean and the half-width of its 95% confidence interval (Student's t), of `xs`;
/// the half-width is NaN for fewer than two values.
pub fn mean_ci95(xs: &[f64]) -> (f64, f64) {
    let n = xs.len();
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let mean = xs.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return (mean, f64::NAN);
    }
    let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1) as f64;
    (mean, t975(n - 1) * libm::sqrt(var / n as f64))
}

/// The 97.5% quantile of Student's t with `df` degrees of freedom.
fn t975(df: usize) -> f64 {
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110,
        2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::NAN,
        1..=30 => T[df - 1],
        31..=60 => 2.000,
        61..=120 => 1.980,
        _ => 1.960,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SchedulerKind;

    const SPEC: &str = r#"
preset = "paper"
[base]
requests = 500
"iteration.max_seqs" = 64
[axes]
scheduler = ["continuous", "dynamic_no_bins"]
"load.factor" = [20, 50]
seed = [1, 2, 3]
"#;

    #[test]
    fn the_product_runs_in_order_and_shards_cover_it_once() {
        let spec = SweepSpec::parse_toml(SPEC.as_bytes(), "s.toml").unwrap();
        assert_eq!(spec.run_count().unwrap(), 12);
        let all = spec.points(0..12).unwrap();
        assert_eq!(all[0].config.scheduler, SchedulerKind::Continuous);
        assert_eq!(all[0].config.iteration.max_seqs, 64);
        assert_eq!((all[1].config.seed, all[3].config.load), (2, crate::config::Load::RpsScaling { factor: 50.0 }));
        assert_eq!(all[11].config.scheduler, SchedulerKind::DynamicNoBins);
        assert_eq!(describe(&spec.axes, &all[4].values), "scheduler=continuous, load.factor=50, seed=2");
        let mut covered = Vec::new();
        for i in 1..=5 {
            covered.extend(shard_range(12, i, 5));
        }
        assert_eq!(covered, (0..12).collect::<Vec<_>>());
        assert_eq!(spec.points(shard_range(12, 2, 5)).unwrap(), all[2..4].to_vec());
    }

    #[test]
    fn bad_specs_are_one_line_errors_naming_the_file() {
        let err = |text: &str| SweepSpec::parse_toml(text.as_bytes(), "s.toml").and_then(|s| s.points(0..s.run_count()?)).unwrap_err().to_string();
        assert!(err("[axes]\nschedulr = [\"continuous\"]\n").contains("unknown field 'schedulr'"));
        assert!(err("[axes]\nseed = []\n").contains("axis 'seed' has no value"));
        assert!(err("[axes\nseed = [1]\n").contains("line 1"));
        assert!(err("preset = \"paper\"\n").contains("no [axes]"));
        assert!(err("[axes]\ngpus = [0]\n").contains("gpus"));
        for e in [err("[axes]\nschedulr = [1]\n"), err("[axes\n")] {
            assert!(e.starts_with("s.toml") && !e.contains('\n'), "{e}");
        }
        let a = SweepSpec::parse_toml(SPEC.as_bytes(), "a.toml").unwrap();
        let b = SweepSpec::parse_toml(SPEC.replace("64", "65").as_bytes(), "b.toml").unwrap();
        assert_ne!(a.fingerprint(), b.fingerprint());
        assert_eq!(a.fingerprint(), SweepSpec::parse_toml(SPEC.as_bytes(), "c.toml").unwrap().fingerprint());
    }

    #[test]
    fn the_interval_is_students() {
        let (m, h) = mean_ci95(&[1.0, 2.0, 3.0]);
        assert_eq!(m, 2.0);
        assert!((h - 4.303 * (1.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert!(mean_ci95(&[5.0]).1.is_nan());
    }
}
