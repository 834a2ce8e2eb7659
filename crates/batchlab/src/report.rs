//! CSV and JSON reports: the only place where output files are formatted, so the CLI and
//! the web app write the same bytes.

use crate::plan::PlanResult;
use crate::run::RunResult;

/// A one-row CSV (header + row) of a single run.
pub fn run_csv(r: &RunResult) -> String {
    let _ = r;
    todo!("run csv")
}

/// The run as pretty JSON (config, fit, metrics, bins, time series, notes).
pub fn run_json(r: &RunResult) -> String {
    let _ = r;
    todo!("run json")
}

/// The plan's files: `<prefix>_step1_request_scaling.csv`, `_step2_gpu_scaling.csv`,
/// `_step3_kbins_sensitivity.csv`, `_all_results.csv`, `_analysis.json`, as
/// (file name, contents) in that order.
pub fn plan_files(plan: &PlanResult, prefix: &str) -> Vec<(String, String)> {
    let _ = (plan, prefix);
    todo!("plan files")
}
