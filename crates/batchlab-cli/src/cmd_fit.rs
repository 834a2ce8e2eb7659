//! `batchlab fit-calibration`: fit T(b, L) = alpha + beta L (1 + gamma (b - 1) / b) to a
//! calibration grid and show the fit point by point.

use std::path::PathBuf;

use batchlab::config::Preset;
use batchlab::latency::CalibrationGrid;
use clap::Args;

use crate::error::{read_file, CliError, CliResult};
use crate::output::{print_table, say, secs, Align::*};

#[derive(Args, Debug)]
pub struct FitArgs {
    /// Calibration grid CSV: columns batch_size, max_seq_len, mean_latency_sec (seconds).
    #[arg(value_name = "FILE", required_unless_present = "builtin", conflicts_with = "builtin")]
    pub file: Option<PathBuf>,

    /// Fit a built-in grid instead: paper (measured RTX 4080, Qwen3-1.7B) or first-results
    /// (the first, synthetic grid).
    #[arg(long, value_name = "NAME")]
    pub builtin: Option<String>,
}

pub fn run(args: FitArgs) -> CliResult<()> {
    let grid = match (&args.file, &args.builtin) {
        (Some(path), _) => CalibrationGrid::parse_csv(&read_file(path)?, &path.display().to_string())?,
        (None, Some(name)) => CalibrationGrid::for_preset(builtin(name)?),
        (None, None) => return Err(CliError::new("give a calibration FILE or --builtin paper|first-results")),
    };
    let fit = grid.fit()?;
    say!("Calibration grid: {} ({} points)", grid.name, grid.points.len());
    say!();
    say!("  alpha = {:.3} ms        (fixed cost of a batch)", fit.alpha_s * 1e3);
    say!("  beta  = {:.4} ms/token  (decode time per token of a batch of 1)", fit.beta_s * 1e3);
    say!("  gamma = {:.4}           (h(b) = 1 + gamma (b - 1) / b)", fit.gamma);
    say!("  R^2   = {:.6}", fit.r2);
    say!();
    let rows = grid.points.iter().map(|p| {
        let predicted = fit.alpha_s + fit.beta_s * p.max_seq_len as f64 * fit.h(p.batch_size);
        vec![
            p.batch_size.to_string(),
            p.max_seq_len.to_string(),
            secs(p.latency_s),
            secs(predicted),
            format!("{:+.2}%", (predicted - p.latency_s) / p.latency_s * 100.0),
        ]
    });
    let columns = [("batch_size", Right), ("max_seq_len", Right), ("measured", Right), ("predicted", Right), ("error", Right)];
    print_table(&columns, rows);
    Ok(())
}

fn builtin(name: &str) -> CliResult<Preset> {
    match name {
        "paper" => Ok(Preset::Paper),
        "first-results" => Ok(Preset::FirstResults),
        _ => Err(CliError::option("--builtin", format!("unknown grid '{name}' (expected one of: paper, first-results)"))),
    }
}
