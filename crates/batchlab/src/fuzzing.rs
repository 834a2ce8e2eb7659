//! The entry points of the fuzz targets (`fuzz/fuzz_targets/*.rs`, run by
//! `scripts/fuzz.sh` on nightly) and of the stable test that replays their kept inputs
//! (`tests/fuzz_regressions.rs`): each takes arbitrary bytes, feeds them to one input
//! surface the way a shell does, and returns the one-line error a user would see. A
//! panic, a message that is empty or spans lines, or a broken invariant asserted here
//! is a bug. Not an API for shells.

use crate::config::{Config, LatencyMode, Preset, SchedulerKind};
use crate::iteration_cost::IterationProfile;
use crate::latency::{CalibrationGrid, LatencyModel};
use crate::report::sweep::{merge, ShardInfo};
use crate::session::{InputFile, Inputs, Session};
use crate::sweep::SweepSpec;
use crate::token::{now, CpuTokenPass};
use crate::workload::{parse_trace, parse_trace_first, RowLimit};

/// What every entry returns: the error's text, as a shell shows it.
pub type Outcome = std::result::Result<(), String>;

/// The error's text, checked to be one non-empty line.
fn line(e: impl std::fmt::Display) -> String {
    let text = e.to_string();
    assert!(!text.trim().is_empty() && !text.contains(['\n', '\r']), "not a one-line error: {text:?}");
    text
}

/// `parts` pieces of `bytes` cut at NUL bytes (the last piece keeps any further NULs),
/// for targets that read several files.
fn split(bytes: &[u8], parts: usize) -> Vec<&[u8]> {
    bytes.splitn(parts, |&b| b == 0).collect()
}

/// A trace CSV: the first byte picks `parse_trace_first`'s limit (low 7 bits: usable
/// rows; high bit: keep rows with 0 output tokens), the rest is the file. Parsed whole
/// and up to the limit: where the whole file parses, the first rows must parse too and
/// be its prefix.
pub fn trace(bytes: &[u8]) -> Outcome {
    let Some((&pick, file)) = bytes.split_first() else { return parse_trace(bytes, "t.csv").map(|_| ()).map_err(line) };
    let limit = RowLimit { usable: usize::from(pick & 0x7f), keep_zero_output: pick & 0x80 != 0 };
    let first = parse_trace_first(file, "t.csv", limit);
    let whole = parse_trace(file, "t.csv").map_err(line)?;
    let first = first.unwrap_or_else(|e| panic!("the whole trace parses but its first rows do not: {e}"));
    let n = first.arrival_s.len();
    assert!(n <= whole.arrival_s.len() && n == first.prompt_tokens.len() && n == first.output_tokens.len());
    assert_eq!(first.arrival_s, whole.arrival_s[..n]);
    assert_eq!(first.prompt_tokens, whole.prompt_tokens[..n]);
    assert_eq!(first.output_tokens, whole.output_tokens[..n]);
    assert!(whole.arrival_s.iter().all(|t| t.is_finite() && *t >= 0.0), "arrivals not finite and >= 0");
    assert!(whole.arrival_s.windows(2).all(|w| w[0] <= w[1]), "arrivals out of order");
    let _ = (whole.span_s(), whole.native_rate_rps());
    Ok(())
}

/// A calibration grid CSV, fitted and turned into a latency model as a run does.
pub fn calibration(bytes: &[u8]) -> Outcome {
    let grid = CalibrationGrid::parse_csv(bytes, "grid.csv").map_err(line)?;
    grid.fit().map_err(line)?;
    for mode in [LatencyMode::Fit, LatencyMode::Grid] {
        let model = LatencyModel::new(grid.clone(), mode).map_err(line)?;
        for (b, len) in [(1, 1), (8, 512), (256, 4096)] {
            let _ = (model.batch_time_s(b, len), model.token_step_s(b, len));
        }
    }
    Ok(())
}

/// An iteration profile CSV, fitted.
pub fn iteration_profile(bytes: &[u8]) -> Outcome {
    let profile = IterationProfile::parse_csv(bytes, "profile.csv").map_err(line)?;
    let model = profile.fit().map_err(line)?;
    let _ = model.cost.iteration_s(512.0, 8.0, 4096.0);
    Ok(())
}

/// A sweep spec (TOML): parsed, counted, fingerprinted and its first points (at most 64)
/// built, as `batchlab sweep` and the page do before any run.
pub fn sweep_spec(bytes: &[u8]) -> Outcome {
    let spec = SweepSpec::parse_toml(bytes, "s.toml").map_err(line)?;
    let total = spec.run_count().map_err(line)?;
    let _ = spec.fingerprint();
    let points = spec.points(0..total.min(64)).map_err(line)?;
    assert_eq!(points.len(), total.min(64));
    Ok(())
}

/// Shards to merge (`batchlab merge`): pieces cut at NUL bytes, alternately a shard's
/// `sweep_shard.json` and its runs CSV, at most 4 shards.
pub fn shard_merge(bytes: &[u8]) -> Outcome {
    let parts = split(bytes, 8);
    let mut shards = Vec::new();
    for pair in parts.chunks(2) {
        let info = ShardInfo::parse_json(pair[0], "sweep_shard.json").map_err(line)?;
        let runs = String::from_utf8(pair.get(1).unwrap_or(&&b""[..]).to_vec()).map_err(|_| line("sweep_runs.csv: not UTF-8 text"))?;
        shards.push((info, runs));
    }
    let (runs, _summary) = merge(shards).map_err(line)?;
    assert!(runs.ends_with('\n'));
    Ok(())
}

/// The user's files as a session opens them (trace, calibration grid, iteration profile:
/// pieces cut at NUL bytes), described as the page's check does, then one small run on
/// them (at most 16 requests of the trace) under the first byte's batch scheduler. (Not
/// the continuous ones: building their run's tables took most of an execution, and
/// `tests/no_panic.rs` runs them on garbage traces.)
pub fn session(bytes: &[u8]) -> Outcome {
    let Some((&pick, rest)) = bytes.split_first() else { return Ok(()) };
    let parts = split(rest, 3);
    let file = |i: usize, name: &str| parts.get(i).map(|b| InputFile { name: name.into(), bytes: b.to_vec() });
    let inputs = Inputs { trace: file(0, "t.csv"), calibration: file(1, "grid.csv"), iteration_profile: file(2, "profile.csv") };
    let requests = 1 + usize::from(pick & 0x0f);
    let limit = RowLimit { usable: requests, keep_zero_output: false };
    let session = Session::open_first(&inputs, limit).map_err(line)?;
    session.describe_inputs().map_err(line)?;
    let batch: Vec<SchedulerKind> = SchedulerKind::ALL.iter().copied().filter(|k| !k.is_continuous()).collect();
    let scheduler = batch[usize::from(pick >> 4) % batch.len()];
    // A short time series keeps each execution cheap (its JSON is most of a run's bytes).
    let config = Config { requests, gpus: 2, scheduler, timeseries_points: 4, ..Config::preset(Preset::Paper) };
    let out = now(session.run(Preset::Paper, &config, &|| 0.0, CpuTokenPass)).map_err(line)?;
    assert!(out.result.config.requests <= requests && !out.csv.is_empty());
    Ok(())
}
