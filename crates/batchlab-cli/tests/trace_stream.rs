//! A trace streamed from disk with the CLI's cap on rows kept (lowered here through
//! BATCHLAB_MAX_TRACE_ROWS): past the cap a one-line error naming the file, the row and
//! what to do; at the cap the run of a whole read; `--requests` reads only its rows.
//! (The multi-GB benchmark is in the README, not here.)

mod common;

use std::process::{Command, Output};

use common::*;

/// 60,000 BurstGPT-like rows (~3 MB), every 50th a failed request.
fn burstgpt_like(rows: usize) -> String {
    let mut text = String::from("Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n");
    for i in 0..rows {
        let (p, o) = (20 + i * 7919 % 2000, if i % 50 == 7 { 0 } else { 1 + i * 104_729 % 600 });
        text += &format!("{:.3},ChatGPT,{p},{o},{},Conversation log\n", i as f64 * 0.25, p + o);
    }
    text
}

fn run_capped(cap: Option<&str>, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_batchlab"));
    command.args(args).env_remove("BATCHLAB_MAX_TRACE_ROWS");
    if let Some(cap) = cap {
        command.env("BATCHLAB_MAX_TRACE_ROWS", cap);
    }
    command.output().expect("run batchlab")
}

#[test]
fn the_row_cap_refuses_a_longer_trace_and_a_whole_read_under_it_runs_as_before() {
    let dir = TempDir::new("trace-stream");
    let trace = dir.write("big.csv", &burstgpt_like(60_000));
    let out = dir.path("out");
    let run = |cap, requests: &str| {
        run_capped(cap, &["run", "--trace", &trace, "--requests", requests, "--gpus", "8", "--out", out.to_str().unwrap()])
    };

    let o = run(Some("59999"), "60000");
    assert_usage_error(&o, &["big.csv, row 60001: more than 59,999 requests", "BATCHLAB_MAX_TRACE_ROWS", "--requests"]);
    assert!(!out.join("run.csv").exists(), "no output on error");
    // A limited read stops before the cap is reached.
    let o = run(Some("1000"), "500");
    assert_ok(&o);
    assert!(stdout(&o).contains("first 500 rows loaded, all the run needs"), "{}", stdout(&o));

    // At the cap: the whole file, and the same run as without a cap in force.
    let o = run(Some("60_000"), "60000");
    assert_ok(&o);
    assert!(stdout(&o).contains("big.csv: 60000 rows loaded"), "{}", stdout(&o));
    let capped = without_wall_clock(&read(&out.join("run.csv")));
    let o = run(None, "60000");
    assert_ok(&o);
    assert_eq!(without_wall_clock(&read(&out.join("run.csv"))), capped);

    assert_usage_error(&run(Some("lots"), "10"), &["BATCHLAB_MAX_TRACE_ROWS", "'lots'"]);
}
