//! End-to-end tests of the `batchlab` binary: files written, row counts, determinism,
//! trace import through the CLI, and one-line errors with exit code 2.

mod common;

use std::path::Path;
use std::process::Output;

use common::*;

#[test]
fn run_on_the_synthetic_default_writes_csv_and_json() {
    let dir = TempDir::new("run-synthetic");
    let out = dir.path("out");
    let o = batchlab(&["run", "--requests", "300", "--gpus", "2", "--out", out.to_str().unwrap()]);
    assert_ok(&o);
    let text = stdout(&o);
    // Every metric of the core's table a batch run has, labelled as on the page, times
    // humanised; continuous batching's own are left out.
    let continuous_only = |key: &str| {
        key.starts_with("iteration_")
            || ["ttft_mean_s", "tpot_mean_s", "slo_attainment", "slo_goodput_rps", "preemptions", "kv_util_mean", "kv_util_max"].contains(&key)
    };
    for m in batchlab::report::metrics_table::all() {
        let shown = text.lines().any(|l| l.trim_start().starts_with(m.label));
        assert_eq!(shown, !continuous_only(m.key), "{}:\n{text}", m.label);
    }
    let o = batchlab(&["run", "--requests", "300", "--scheduler", "continuous", "--out", out.to_str().unwrap()]);
    assert_ok(&o);
    let text = stdout(&o);
    for m in batchlab::report::metrics_table::all() {
        assert!(text.lines().any(|l| l.trim_start().starts_with(m.label)), "{} missing:\n{text}", m.label);
    }
    assert!(text.contains("iteration cost (roofline RTX 4080 / Qwen3-1.7B)"), "{text}");
    let o = batchlab(&["run", "--requests", "300", "--gpus", "2", "--out", out.to_str().unwrap()]);
    assert_ok(&o);
    let makespan = text.lines().find_map(|l| l.trim_start().strip_prefix("makespan")).unwrap_or_default().trim();
    assert!([" ms", " s", " min", " h"].iter().any(|unit| makespan.ends_with(unit)), "makespan {makespan:?}");

    let (header, rows) = csv_rows(&read(&out.join("run.csv")));
    assert_eq!(rows.len(), 1);
    assert_eq!(column(&header, &rows[0], "requests"), "300");
    assert_eq!(column(&header, &rows[0], "gpus"), "2");
    assert_eq!(column(&header, &rows[0], "scheduler"), "multi_bin_dynamic");
    assert_eq!(column(&header, &rows[0], "status"), "ok");

    let json: serde_json::Value = serde_json::from_str(&read(&out.join("run.json"))).expect("run.json is JSON");
    assert_eq!(json["config"]["requests"], 300);
    assert_eq!(json["metrics"]["requests_completed"], 300);
}

#[test]
fn explicit_options_override_the_preset() {
    let dir = TempDir::new("run-override");
    let out = dir.path("out");
    let o = batchlab(&[
        "run", "--preset", "first-results", "--controller-target", "0.5", "--requests", "200", "--scheduler", "static_fifo",
        "--predictor", "oracle", "--real-timestamps", "--out", out.to_str().unwrap(),
    ]);
    assert_ok(&o);
    let json: serde_json::Value = serde_json::from_str(&read(&out.join("run.json"))).unwrap();
    let c = &json["config"];
    assert_eq!(c["sla"]["d_s"], 0.5);
    // The rest of the preset stays: first-results regulates batch latency, 2 GB model.
    assert_eq!(c["sla"]["signal"], "batch_latency");
    assert_eq!(c["memory"]["m_model_gb"], 2.0);
    assert_eq!(c["scheduler"], "static_fifo");
    assert_eq!(c["predictor"]["kind"], "oracle");
    assert_eq!(c["load"]["kind"], "real_timestamps");
}

#[test]
fn run_loads_a_trace_in_the_seed_format() {
    let dir = TempDir::new("trace-seed");
    let trace = dir.write(
        "seed.csv",
        "arrival_time,prompt_length,output_length\n0.0,120,30\n0.5,300,80\n1.25,50,10\n2.0,800,200\n",
    );
    let out = dir.path("out");
    let o = batchlab(&["run", "--trace", &trace, "--out", out.to_str().unwrap()]);
    assert_ok(&o);
    let text = stdout(&o);
    assert!(text.contains("4 rows loaded"), "{text}");
    let (header, rows) = csv_rows(&read(&out.join("run.csv")));
    assert_eq!(column(&header, &rows[0], "requests"), "4");
    assert_eq!(column(&header, &rows[0], "requests_completed"), "4");
}

#[test]
fn run_loads_burstgpt_native_columns_and_reports_a_failed_row() {
    let dir = TempDir::new("trace-burstgpt");
    let trace = dir.write(
        "BurstGPT_tiny.csv",
        "Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n\
         5,ChatGPT,472,18,490,Conversation log\n\
         5,ChatGPT,1087,0,1087,Conversation log\n\
         7,GPT-4,300,120,420,API log\n\
         9,ChatGPT,90,45,135,Conversation log\n",
    );
    let out = dir.path("out");
    let o = batchlab(&["run", "--trace", &trace, "--out", out.to_str().unwrap()]);
    assert_ok(&o);
    let text = stdout(&o);
    assert!(text.contains("4 rows loaded"), "{text}");
    // The failed request (0 response tokens) is data row 2 = spreadsheet row 3.
    assert!(text.contains("1 of them with 0 output tokens"), "{text}");
    assert!(text.contains("first at row 3"), "{text}");
    // The paper preset keeps it, as the original does; --keep-zero-output false leaves it out.
    let (header, rows) = csv_rows(&read(&out.join("run.csv")));
    assert_eq!(column(&header, &rows[0], "requests_completed"), "4");
    let o = batchlab(&["run", "--trace", &trace, "--keep-zero-output", "false", "--out", out.to_str().unwrap()]);
    assert_ok(&o);
    let (header, rows) = csv_rows(&read(&out.join("run.csv")));
    assert_eq!(column(&header, &rows[0], "requests_completed"), "3");
}

/// Write `contents` as a trace and run on it; it must fail with one line naming `needles`.
#[track_caller]
fn assert_trace_error(name: &str, contents: &str, needles: &[&str]) {
    let dir = TempDir::new("trace-error");
    let trace = dir.write(name, contents);
    let out = dir.path("out");
    let o = batchlab(&["run", "--trace", &trace, "--out", out.to_str().unwrap()]);
    let mut all = vec![name];
    all.extend_from_slice(needles);
    assert_usage_error(&o, &all);
    assert!(!out.join("run.csv").exists(), "no output on error");
}

#[test]
fn trace_errors_name_file_row_and_column() {
    assert_trace_error("missing_column.csv", "arrival_time,prompt_length\n0,10\n1,20\n", &["output"]);
    assert_trace_error(
        "not_numeric.csv",
        "arrival_time,prompt_length,output_length\n0,10,5\n1,abc,5\n",
        &["row 3", "prompt_length"],
    );
    assert_trace_error(
        "negative.csv",
        "arrival_time,prompt_length,output_length\n0,10,5\n1,10,-5\n",
        &["row 3", "output_length"],
    );
    assert_trace_error(
        "nan_time.csv",
        "arrival_time,prompt_length,output_length\n0,10,5\nNaN,10,5\n",
        &["row 3", "arrival_time"],
    );
    assert_trace_error(
        "unsorted.csv",
        "arrival_time,prompt_length,output_length\n0,10,5\n5,10,5\n2,10,5\n",
        &["row 4", "arrival_time"],
    );
    assert_trace_error("empty.csv", "", &["empty"]);
}

#[test]
fn a_missing_file_is_named() {
    let dir = TempDir::new("missing");
    let missing = dir.path("no_such_trace.csv");
    let o = batchlab(&["run", "--trace", missing.to_str().unwrap()]);
    assert_usage_error(&o, &["cannot read", "no_such_trace.csv"]);
    let o = batchlab(&["fit-calibration", missing.to_str().unwrap()]);
    assert_usage_error(&o, &["cannot read", "no_such_trace.csv"]);
}

#[test]
fn bad_options_name_the_option() {
    assert_usage_error(&batchlab(&["run", "--scheduler", "fifo"]), &["--scheduler", "fifo"]);
    assert_usage_error(&batchlab(&["run", "--k", "0"]), &["--k"]);
    assert_usage_error(&batchlab(&["run", "--gpus", "0"]), &["--gpus"]);
    assert_usage_error(&batchlab(&["run", "--rps-scaling", "-1"]), &["--rps-scaling"]);
    assert_usage_error(&batchlab(&["run", "--preset", "nope"]), &["--preset", "nope"]);
    assert_usage_error(&batchlab(&["run", "--bin-policy", "random"]), &["--bin-policy"]);
    assert_usage_error(&batchlab(&["run", "--requests", "many"]), &["--requests"]);
    assert_usage_error(&batchlab(&["run", "--no-such-option"]), &["--no-such-option"]);
    assert_usage_error(&batchlab(&["run", "--synthetic", "burstgpt", "--poisson-rate", "2"]), &["--poisson-rate"]);
    assert_usage_error(&batchlab(&["stress", "--max-gpus", "0"]), &["--max-gpus"]);
    assert_usage_error(&batchlab(&["stress", "--step1-only", "--step2-only"]), &["--step"]);
    assert_usage_error(&batchlab(&["bench", "--repeat", "0"]), &["--repeat"]);
    assert_usage_error(&batchlab(&["paper", "--loads", "100,7"]), &["--loads", "'7'"]);
    assert_usage_error(&batchlab(&["paper", "--max-gpus", "0"]), &["--max-gpus"]);
    // Absurd sizes are refused before anything is allocated (no out-of-memory abort).
    assert_usage_error(&batchlab(&["run", "--gpus", "4000000000"]), &["--gpus", "at most"]);
    assert_usage_error(&batchlab(&["run", "--k", "4000000000"]), &["--k", "at most"]);
    assert_usage_error(&batchlab(&["run", "--requests", "100000000000000"]), &["--requests", "at most"]);
    assert_usage_error(&batchlab(&["run", "--timeseries-points", "100000000000"]), &["--timeseries-points"]);
    assert_usage_error(&batchlab(&["stress", "--best-gpu-count", "4000000000"]), &["--best-gpu-count"]);
    assert_usage_error(&batchlab(&["bench", "--requests", "100000000000000"]), &["--requests"]);
    assert_usage_error(&batchlab(&[]), &["command"]);
}

#[test]
fn bad_calibration_grid_is_named() {
    let dir = TempDir::new("bad-grid");
    // One batch size only: gamma cannot be fitted.
    let grid = dir.write(
        "one_batch.csv",
        "batch_size,max_seq_len,mean_latency_sec\n1,128,0.8\n1,256,1.5\n1,512,3.0\n",
    );
    assert_usage_error(&batchlab(&["run", "--calibration", &grid]), &["one_batch.csv", "batch"]);
    assert_usage_error(&batchlab(&["fit-calibration", &grid]), &["one_batch.csv"]);
    let grid = dir.write("bad_cell.csv", "batch_size,max_seq_len,mean_latency_sec\n1,128,0.8\n2,x,1.5\n");
    assert_usage_error(&batchlab(&["fit-calibration", &grid]), &["bad_cell.csv", "row 3", "max_seq_len"]);
}

#[test]
fn fit_calibration_of_the_paper_grid() {
    let o = batchlab(&["fit-calibration", "--builtin", "paper"]);
    assert_ok(&o);
    let text = stdout(&o);
    let alpha_ms: f64 = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("alpha"))
        .and_then(|rest| rest.trim_start_matches([' ', '=']).split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no alpha line in:\n{text}"));
    assert!((50.0..70.0).contains(&alpha_ms), "alpha {alpha_ms} ms");
    for word in ["beta", "gamma", "R^2", "predicted"] {
        assert!(text.contains(word), "{word} missing:\n{text}");
    }
    // 30 grid points, one line each.
    assert!(text.lines().filter(|l| l.trim_start().starts_with("32 ")).count() == 5, "{text}");
}

#[test]
fn fit_calibration_of_a_file() {
    let dir = TempDir::new("grid-file");
    // Exactly T = 0.02 + 0.001 L (1 + 0.5 (b - 1) / b): the fit recovers it.
    let mut csv = String::from("batch_size,max_seq_len,mean_latency_sec\n");
    for b in [1u32, 4, 16] {
        for l in [100u32, 400, 1600] {
            let h = 1.0 + 0.5 * (b as f64 - 1.0) / b as f64;
            csv.push_str(&format!("{b},{l},{}\n", 0.02 + 0.001 * l as f64 * h));
        }
    }
    let grid = dir.write("grid.csv", &csv);
    let o = batchlab(&["fit-calibration", &grid]);
    assert_ok(&o);
    let text = stdout(&o);
    assert!(text.contains("alpha = 20.000 ms"), "{text}");
    assert!(text.contains("beta  = 1.0000 ms/token"), "{text}");
    assert!(text.contains("gamma = 0.5000"), "{text}");
}

const PLAN_FILES: [(&str, usize); 4] = [
    // step 1: N = 1000 only (10K > cap) x 5 configurations (all within 4 GPUs).
    ("plan_step1_request_scaling.csv", 5),
    // step 2: GPUs 1, 2, 4.
    ("plan_step2_gpu_scaling.csv", 3),
    // step 3: K in 1, 2, 4, 8, 16, 32.
    ("plan_step3_kbins_sensitivity.csv", 6),
    ("plan_all_results.csv", 5 + 3 + 6),
];

fn stress(out: &Path) -> Output {
    stress_with(out, &[])
}

fn stress_with(out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["stress", "--max-requests", "2000", "--max-gpus", "4", "--seed", "7", "--output", "plan", "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    batchlab(&args)
}

#[test]
fn stress_writes_five_files_with_the_plans_rows_and_is_deterministic() {
    let dir = TempDir::new("stress");
    let (a, b) = (dir.path("a"), dir.path("b"));
    let first = stress(&a);
    assert_ok(&first);
    let text = stdout(&first);
    assert!(text.contains("Best GPU count"), "{text}");
    for (name, rows) in PLAN_FILES {
        assert!(text.contains(name), "{name} not listed:\n{text}");
        let (header, data) = csv_rows(&read(&a.join(name)));
        assert_eq!(data.len(), rows, "{name}");
        for r in &data {
            assert_eq!(column(&header, r, "status"), "ok", "{name}: {r:?}");
        }
    }
    let analysis: serde_json::Value =
        serde_json::from_str(&read(&a.join("plan_analysis.json"))).expect("analysis is JSON");
    assert_eq!(analysis["runs"], 14);
    // The plan always has findings (best GPU count, best K, ...); stdout lists every one,
    // in the analysis's order, under its heading.
    let findings: Vec<&str> =
        analysis["key_findings"].as_array().expect("key_findings is a list").iter().map(|f| f.as_str().unwrap()).collect();
    assert!(!findings.is_empty(), "no key findings in the analysis");
    let listed: Vec<&str> = text
        .lines()
        .skip_while(|l| l.trim() != "Key findings:")
        .skip(1)
        .map_while(|l| l.strip_prefix("  - "))
        .collect();
    assert_eq!(listed, findings, "{text}");

    // A stage's runs on two threads or one at a time: the same files.
    let second = stress_with(&b, &["--threads", "2", "--token-backend", "cpu"]);
    assert_ok(&second);
    assert!(stdout(&second).contains("on 2 threads"), "{}", stdout(&second));
    let third = stress_with(&dir.path("c"), &["--threads", "1", "--token-backend", "cpu"]);
    assert_ok(&third);
    for (name, _) in PLAN_FILES {
        assert_eq!(without_wall_clock(&read(&a.join(name))), without_wall_clock(&read(&dir.path("c").join(name))), "{name} differs");
    }
    for (name, _) in PLAN_FILES {
        assert_eq!(without_wall_clock(&read(&a.join(name))), without_wall_clock(&read(&b.join(name))), "{name} differs");
    }
    assert_eq!(read(&a.join("plan_analysis.json")), read(&b.join("plan_analysis.json")));
}

#[test]
fn paper_writes_each_loads_grid_and_comparison() {
    let dir = TempDir::new("paper");
    let out = dir.path("out");
    let o = batchlab(&["paper", "--max-requests", "1000", "--max-gpus", "2", "--loads", "100,1", "--out", out.to_str().unwrap()]);
    assert_ok(&o);
    // Per load: 1 size x 2 GPU counts x 6 K grid runs, 4 methods.
    for folder in ["stress_test_final", "stress_test_ultra_low_load"] {
        assert_eq!(read(&out.join(folder).join("step1_grid_search.csv")).lines().count(), 1 + 12, "{folder}");
        let step2 = read(&out.join(folder).join("step2_comparison.csv"));
        assert_eq!(step2.lines().count(), 1 + 4, "{folder}");
        assert!(step2.contains("1. Static FIFO (1 GPU),static_fifo,1,1,"), "{step2}");
    }
    assert!(!out.join("stress_test_low_load").exists());
    for f in ["sensitivity_analysis.csv", "multi_seed_variance.csv", "fig1_throughput_vs_gpu.svg", "fig5_sensitivity_variance.svg"] {
        assert!(out.join("figures").join(f).exists(), "{f}");
    }
    assert!(stdout(&o).contains("Step 2 at x100 load:"), "{}", stdout(&o));
}

#[test]
fn run_csv_has_the_plans_columns() {
    let dir = TempDir::new("columns");
    let out = dir.path("out");
    assert_ok(&batchlab(&["run", "--requests", "100", "--out", out.to_str().unwrap()]));
    assert_ok(&batchlab(&[
        "stress", "--step2-only", "--max-requests", "100", "--max-gpus", "1", "--out", out.to_str().unwrap(),
    ]));
    let run_header = read(&out.join("run.csv")).lines().next().unwrap().to_string();
    let plan = read(&out.join("comprehensive_stress_results_step2_gpu_scaling.csv"));
    assert_eq!(plan.lines().next().unwrap(), run_header);
    assert_eq!(plan.lines().count(), 2);
}

#[test]
fn help_explains_every_command() {
    for cmd in ["run", "stress", "paper", "fit-calibration", "bench"] {
        let o = batchlab(&[cmd, "--help"]);
        assert_ok(&o);
        assert!(stdout(&o).contains("Usage: batchlab"), "{cmd}");
    }
    let help = stdout(&batchlab(&["stress", "--help"]));
    for opt in [
        "--step1-only", "--step2-only", "--step3-only", "--best-gpu-count", "--max-requests", "--max-gpus",
        "--rps-scaling", "--use-real-timestamps", "--d-sla-request", "--dataset", "--calibration", "--output",
        "--scheduler-preset", "--trace", "--synthetic", "--seed", "--k", "--out", "--token-backend",
        "--token-semantics", "--token-kappa", "--token-context-ref",
    ] {
        assert!(help.contains(opt), "stress --help lacks {opt}");
    }
    for cmd in ["run", "bench"] {
        assert!(stdout(&batchlab(&[cmd, "--help"])).contains("--token-backend"), "{cmd} --help lacks --token-backend");
    }
}

#[test]
fn continuous_batching_takes_its_options_and_an_iteration_profile() {
    let dir = TempDir::new("run-continuous");
    let out = dir.path("out");
    // A profile made from known costs: 5 ms + 20 µs per prefill token + 0.1 ms per
    // decoding sequence + 0.3 µs per context token.
    let mut csv = String::from("prefill_tokens,decode_seqs,context_tokens,seconds\n");
    for (p, d, c) in [(0, 1, 100), (512, 0, 0), (0, 64, 40000), (256, 32, 9000), (1024, 8, 3000), (0, 16, 500)] {
        let seconds = 0.005 + 2e-5 * p as f64 + 1e-4 * d as f64 + 3e-7 * c as f64;
        csv += &format!("{p},{d},{c},{seconds}\n");
    }
    let profile = dir.write("profile.csv", &csv);
    let args = [
        "run", "--scheduler", "multi_bin_continuous", "--k", "3", "--requests", "400", "--router", "round_robin",
        "--chunked-prefill", "256", "--max-seqs", "32", "--block-size", "8", "--ttft-slo", "1.5", "--tbt-slo", "0.05",
        "--iteration-profile", &profile, "--out", out.to_str().unwrap(),
    ];
    let o = batchlab(&args);
    assert_ok(&o);
    let text = stdout(&o);
    assert!(text.contains("iteration cost fit c0 5.000 ms"), "{text}");
    assert!(text.contains("router round_robin, at most 32 sequences and 256 tokens per iteration (chunked prefill), KV blocks of 8 tokens"), "{text}");
    let (header, rows) = csv_rows(&read(&out.join("run.csv")));
    let cell = |name| column(&header, &rows[0], name).to_string();
    assert_eq!(cell("scheduler"), "multi_bin_continuous");
    assert_eq!(cell("chunked_prefill"), "true");
    assert_eq!(cell("max_batched_tokens"), "256");
    assert!(cell("iteration_cost_source").ends_with("profile.csv"), "{}", cell("iteration_cost_source"));
    assert_eq!(cell("iteration_c0_s"), "0.005000");
    let slo: f64 = cell("slo_attainment").parse().unwrap();
    assert!((0.0..=1.0).contains(&slo));

    // Errors name the file, row and column, or the option.
    let bad = dir.write("bad.csv", "prefill_tokens,decode_seqs,context_tokens,seconds\n0,1,0,0.01\n0,2,x,0.01\n");
    let o = batchlab(&["run", "--scheduler", "continuous", "--iteration-profile", &bad, "--out", out.to_str().unwrap()]);
    assert_usage_error(&o, &["bad.csv", "row 3", "context_tokens"]);
    let o = batchlab(&["run", "--scheduler", "continuous", "--max-seqs", "300", "--max-batched-tokens", "100", "--out", out.to_str().unwrap()]);
    assert_usage_error(&o, &["--max-batched-tokens", "max_seqs"]);
}
