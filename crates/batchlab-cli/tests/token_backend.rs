//! `--token-backend gpu|cpu|auto` and the token-model options, end to end: the GPU and
//! the CPU token passes write identical files (run and stress), the options reach the
//! configuration, bad values are one-line errors naming the option.
//!
//! The GPU tests need an adapter (CI installs lavapipe, Mesa's software Vulkan). A
//! missing adapter FAILS them, unless BATCHLAB_ALLOW_NO_GPU=1 is set outside CI: then
//! each prints "SKIPPED: no GPU adapter" and scripts/test.sh counts a skipped suite (see
//! `common::skip_without_gpu`). In a build without the `gpu` feature, `--token-backend
//! gpu` must be refused.

mod common;

use std::path::Path;
use std::process::Output;

use common::*;

/// Whether a `--token-backend gpu` command found an adapter. A missing adapter panics,
/// or, when the no-GPU policy allows it, reports the test skipped and returns false.
/// Any other failure panics.
#[cfg(feature = "gpu")]
#[track_caller]
fn gpu_ran(o: &Output, test: &str) -> bool {
    if o.status.success() {
        return true;
    }
    let err = stderr(o);
    if no_adapter(&err) {
        skip_without_gpu(test, &err);
        return false;
    }
    panic!("{test}: --token-backend gpu failed\nstderr:\n{err}\nstdout:\n{}", stdout(o));
}

/// Whether stderr is the CLI's one-line "no adapter" error for `--token-backend gpu`.
#[cfg(feature = "gpu")]
fn no_adapter(err: &str) -> bool {
    let err = err.trim();
    !err.contains('\n') && err.starts_with("error: option --token-backend: ") && err.ends_with(" (use --token-backend cpu or auto)")
}

fn run_into(out: &Path, backend: &str, extra: &[&str]) -> Output {
    let mut args = vec!["run", "--requests", "3000", "--out", out.to_str().unwrap(), "--token-backend", backend];
    args.extend_from_slice(extra);
    batchlab(&args)
}

/// run.json without its one wall-clock field.
fn json_without_wall_clock(path: &Path) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_str(&read(path)).expect("run.json is JSON");
    v.as_object_mut().expect("an object").remove("wall_time_s").expect("a wall_time_s field");
    v
}

/// A metric of run.csv's one row.
fn metric(out: &Path, name: &str) -> f64 {
    let (header, rows) = csv_rows(&read(&out.join("run.csv")));
    column(&header, &rows[0], name).parse().unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[cfg(feature = "gpu")]
#[test]
fn run_on_the_gpu_writes_the_same_files_as_on_the_cpu() {
    let dir = TempDir::new("gpu-run");
    // The default model, and one where the per-token SLA binds (a 7 ms limit against
    // 5.7-7.5 ms steps, longer with context cost) and finished sequences leave early.
    let binding = ["--token-semantics", "early_exit", "--token-kappa", "0.5", "--d-sla-token", "0.007"];
    for (name, extra) in [("default", &[][..]), ("binding", &binding[..])] {
        let (cpu, gpu) = (dir.path(&format!("{name}-cpu")), dir.path(&format!("{name}-gpu")));
        let on_gpu = run_into(&gpu, "gpu", extra);
        if !gpu_ran(&on_gpu, "run_on_the_gpu_writes_the_same_files_as_on_the_cpu") {
            return;
        }
        let on_cpu = run_into(&cpu, "cpu", extra);
        assert_ok(&on_cpu);
        assert!(stdout(&on_gpu).lines().any(|l| l.contains("token pass") && l.contains("GPU ")), "{}", stdout(&on_gpu));
        assert!(stderr(&on_gpu).starts_with("token pass: GPU "), "{}", stderr(&on_gpu));
        assert!(stdout(&on_cpu).lines().any(|l| l.contains("token pass") && l.contains("CPU")), "{}", stdout(&on_cpu));
        assert_eq!(
            without_wall_clock(&read(&cpu.join("run.csv"))),
            without_wall_clock(&read(&gpu.join("run.csv"))),
            "{name}: run.csv differs between the CPU and the GPU"
        );
        assert_eq!(json_without_wall_clock(&cpu.join("run.json")), json_without_wall_clock(&gpu.join("run.json")), "{name}");
    }
    // auto does not look for an adapter for a pass this small: the CPU, saying why.
    let auto = run_into(&dir.path("auto"), "auto", &[]);
    assert_ok(&auto);
    let auto_line = stderr(&auto).lines().next().unwrap_or_default().to_string();
    assert!(auto_line.starts_with("token pass: CPU (small token pass: "), "{auto_line}");
    // The comparison is not vacuous: the binding model has violating requests and gaps.
    let out = dir.path("binding-cpu");
    for rate in ["token_sla_violation_rate", "token_sla_violation_rate_tokens"] {
        let v = metric(&out, rate);
        assert!(v > 0.0 && v < 1.0, "{rate} = {v}");
    }
}

#[cfg(feature = "gpu")]
#[test]
fn stress_on_the_gpu_writes_the_same_results_as_on_the_cpu() {
    let dir = TempDir::new("gpu-stress");
    let plan = |out: &Path, backend: &str| {
        batchlab(&[
            "stress", "--max-requests", "2000", "--max-gpus", "2", "--seed", "7", "--output", "plan", "--out",
            out.to_str().unwrap(), "--token-backend", backend, "--d-sla-token", "0.007",
        ])
    };
    let (cpu, gpu) = (dir.path("cpu"), dir.path("gpu"));
    let on_gpu = plan(&gpu, "gpu");
    if !gpu_ran(&on_gpu, "stress_on_the_gpu_writes_the_same_results_as_on_the_cpu") {
        return;
    }
    assert_ok(&plan(&cpu, "cpu"));
    assert!(stdout(&on_gpu).contains("token passes"), "{}", stdout(&on_gpu));
    let (cpu_rows, gpu_rows) =
        (without_wall_clock(&read(&cpu.join("plan_all_results.csv"))), without_wall_clock(&read(&gpu.join("plan_all_results.csv"))));
    // Steps 1 (N = 1000 x 4 configurations within 2 GPUs), 2 (1, 2 GPUs) and 3 (6 K values).
    assert!(cpu_rows.len() > 10, "{} rows", cpu_rows.len());
    assert_eq!(cpu_rows, gpu_rows, "plan_all_results.csv differs between the CPU and the GPU");
    assert_eq!(read(&cpu.join("plan_analysis.json")), read(&gpu.join("plan_analysis.json")));
}

#[test]
fn auto_runs_and_says_which_backend() {
    let dir = TempDir::new("auto");
    let (auto, cpu) = (dir.path("auto"), dir.path("cpu"));
    let o = run_into(&auto, "auto", &[]);
    assert_ok(&o);
    let err = stderr(&o);
    let line = err.lines().find(|l| l.starts_with("token pass: ")).unwrap_or_else(|| panic!("no backend line:\n{err}"));
    // A 3,000-request run is far too small to look for a GPU (~3.7e5 token steps).
    let steps: u64 = line
        .strip_prefix("token pass: CPU (small token pass: ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not a small CPU pass: {line}"));
    assert_eq!(line, format!("token pass: CPU (small token pass: {steps} token steps, under the 120000000 worth looking for a GPU)"));
    assert!(steps > 100_000 && steps < 1_000_000, "{steps}");
    // The default is auto.
    let o = batchlab(&["run", "--requests", "3000", "--out", cpu.to_str().unwrap()]);
    assert_ok(&o);
    assert!(stderr(&o).contains("token pass: "), "{}", stderr(&o));
    // And whichever ran, the numbers are the CPU's.
    assert_ok(&run_into(&cpu, "cpu", &[]));
    assert_eq!(without_wall_clock(&read(&auto.join("run.csv"))), without_wall_clock(&read(&cpu.join("run.csv"))));
}

#[test]
fn token_model_options_reach_the_configuration_and_the_results() {
    let dir = TempDir::new("token-options");
    let (base, custom) = (dir.path("base"), dir.path("custom"));
    assert_ok(&run_into(&base, "cpu", &[]));
    let o = run_into(
        &custom,
        "cpu",
        &["--token-semantics", "early_exit", "--token-kappa", "0.25", "--token-context-ref", "2048"],
    );
    assert_ok(&o);
    assert!(stdout(&o).contains("token model: early_exit, kappa 0.25, context ref 2048 tokens"), "{}", stdout(&o));
    let c = &json_without_wall_clock(&custom.join("run.json"))["config"];
    assert_eq!(c["token_semantics"], "early_exit");
    assert_eq!(c["token_kappa"], 0.25);
    assert_eq!(c["token_context_ref_tokens"], 2048.0);
    // Context cost makes late tokens slower: the slowest gap grows.
    assert!(metric(&custom, "tbt_max_s") > metric(&base, "tbt_max_s"));
    // The summary shows every token metric, one per line.
    let labels = [
        "TTFT p50", "TTFT p95", "TTFT p99", "TTFT max", "TBT p50", "TBT p95", "TBT p99", "TBT max",
        "token SLA violations (requests)", "token SLA violations (tokens)", "goodput",
    ];
    for label in labels {
        assert!(stdout(&o).lines().any(|l| l.trim_start().starts_with(label)), "{label} missing:\n{}", stdout(&o));
    }
}

#[test]
fn bad_token_options_are_one_line_errors_naming_the_option() {
    for cmd in ["run", "stress"] {
        assert_usage_error(&batchlab(&[cmd, "--token-semantics", "bogus"]), &["--token-semantics", "bogus"]);
        assert_usage_error(&batchlab(&[cmd, "--token-kappa", "-1"]), &["--token-kappa", "-1"]);
        assert_usage_error(&batchlab(&[cmd, "--token-kappa", "NaN"]), &["--token-kappa"]);
        assert_usage_error(&batchlab(&[cmd, "--token-context-ref", "0"]), &["--token-context-ref"]);
        assert_usage_error(&batchlab(&[cmd, "--token-backend", "tpu"]), &["--token-backend", "tpu"]);
    }
    assert_usage_error(&batchlab(&["bench", "--token-backend", "tpu"]), &["--token-backend", "tpu"]);
}

#[cfg(not(feature = "gpu"))]
#[test]
fn without_the_gpu_feature_gpu_is_refused_and_auto_uses_the_cpu() {
    let dir = TempDir::new("no-gpu-feature");
    for cmd in [&["run", "--requests", "100"][..], &["stress", "--max-requests", "100"], &["bench", "--requests", "100"]] {
        let mut args = cmd.to_vec();
        args.extend_from_slice(&["--token-backend", "gpu"]);
        assert_usage_error(&batchlab(&args), &["--token-backend", "'gpu' feature"]);
    }
    let o = run_into(&dir.path("auto"), "auto", &[]);
    assert_ok(&o);
    assert!(stderr(&o).contains("token pass: CPU (small token pass: "), "{}", stderr(&o));
}

#[test]
fn bench_times_the_token_pass() {
    let o = batchlab(&["bench", "--requests", "5000", "--repeat", "1", "--token-backend", "cpu"]);
    assert_ok(&o);
    let text = stdout(&o);
    for needle in ["token pass, CPU", "token steps/s", "token steps: "] {
        assert!(text.contains(needle), "{needle} missing:\n{text}");
    }
    assert!(!text.contains("token pass, GPU"), "{text}");
}

#[cfg(feature = "gpu")]
#[test]
fn bench_times_the_gpu_and_names_a_software_adapter() {
    let o = batchlab(&["bench", "--requests", "5000", "--repeat", "1", "--token-backend", "gpu"]);
    if !gpu_ran(&o, "bench_times_the_gpu_and_names_a_software_adapter") {
        return;
    }
    let text = stdout(&o);
    for needle in ["token pass, CPU", "token pass, GPU", "GPU adapter: ", "identical to the CPU's"] {
        assert!(text.contains(needle), "{needle} missing:\n{text}");
    }
    let adapter = text.lines().find(|l| l.starts_with("GPU adapter: ")).unwrap().to_ascii_lowercase();
    let software = ["llvmpipe", "lavapipe", "swiftshader"].iter().any(|s| adapter.contains(s));
    assert_eq!(software, text.contains("a software adapter"), "{text}");
}
