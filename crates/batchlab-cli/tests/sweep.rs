//! `batchlab sweep` and `batchlab merge`: the same bytes whatever the thread count, shards
//! that merge into exactly the whole sweep, shard indices from Slurm's environment, and
//! one-line errors for bad specs, shards out of range and shards of different specs.

mod common;

use std::process::Command;

use common::*;

const SPEC: &str = r#"
preset = "paper"
[base]
requests = 600
gpus = 2
[axes]
scheduler = ["continuous", "dynamic_no_bins"]
"load.factor" = [20, 100]
seed = [1, 2]
"#;

fn sweep(dir: &TempDir, spec: &str, out: &str, extra: &[&str]) -> (String, String) {
    let out = dir.path(out);
    let mut args = vec!["sweep", spec, "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = batchlab(&args);
    assert_ok(&o);
    let summary = std::fs::read_to_string(out.join("sweep_summary.csv")).unwrap_or_default();
    (read(&out.join("sweep_runs.csv")), summary)
}

/// The runs CSV with its wall-clock cells (the last column) blanked.
fn blanked(csv: &str) -> Vec<String> {
    csv.lines().map(|l| l.rsplit_once(',').map_or(l, |(head, _)| head).to_string()).collect()
}

#[test]
fn any_thread_count_and_any_sharding_give_the_same_sweep() {
    let dir = TempDir::new("sweep-same");
    let spec = dir.write("spec.toml", SPEC);
    let (one, summary_one) = sweep(&dir, &spec, "one", &["--threads", "1"]);
    let (two, summary_two) = sweep(&dir, &spec, "two", &["--threads", "2"]);
    assert_eq!(blanked(&one), blanked(&two));
    assert_eq!(summary_one, summary_two);
    assert_eq!(one.lines().count(), 1 + 8);
    let (header, rows) = csv_rows(&one);
    assert_eq!(column(&header, &rows[5], "axis_scheduler"), "dynamic_no_bins");
    assert_eq!(column(&header, &rows[5], "axis_load.factor"), "20");
    assert_eq!(column(&header, &rows[5], "seed"), "2");
    // Two settings per scheduler, each averaged over its two seeds.
    assert_eq!(summary_one.lines().count(), 1 + 4);
    assert!(summary_one.starts_with("axis_scheduler,axis_load.factor,runs,throughput_rps_mean,throughput_rps_ci95,"));

    let mut dirs = Vec::new();
    for i in 1..=3 {
        let name = format!("shard{i}");
        let (_, summary) = sweep(&dir, &spec, &name, &["--shard", &format!("{i}/3")]);
        assert!(summary.is_empty(), "a shard writes no summary");
        dirs.push(dir.path(&name).to_str().unwrap().to_string());
    }
    let merged = dir.path("merged");
    let mut args = vec!["merge", "--out", merged.to_str().unwrap()];
    // Any order.
    args.extend(dirs.iter().rev().map(String::as_str));
    assert_ok(&batchlab(&args));
    assert_eq!(blanked(&read(&merged.join("sweep_runs.csv"))), blanked(&one));
    assert_eq!(read(&merged.join("sweep_summary.csv")), summary_one);

    // Slurm's array variables choose the shard when --shard is not given.
    let out = dir.path("slurm");
    let o = Command::new(env!("CARGO_BIN_EXE_batchlab"))
        .args(["sweep", &spec, "--out", out.to_str().unwrap()])
        .env("SLURM_ARRAY_TASK_ID", "2")
        .env("SLURM_ARRAY_TASK_COUNT", "3")
        .env("SLURM_ARRAY_TASK_MIN", "1")
        .output()
        .unwrap();
    assert_ok(&o);
    assert_eq!(read(&out.join("sweep_shard.json")), read(&dir.path("shard2").join("sweep_shard.json")));

    // Errors: a gap, shards of another spec.
    let o = batchlab(&["merge", &dirs[0], &dirs[2], "--out", merged.to_str().unwrap()]);
    assert_usage_error(&o, &["gap"]);
    let other = dir.write("other.toml", &SPEC.replace("600", "700"));
    sweep(&dir, &other, "other1", &["--shard", "1/3"]);
    let o = batchlab(&["merge", dir.path("other1").to_str().unwrap(), &dirs[1], &dirs[2], "--out", merged.to_str().unwrap()]);
    assert_usage_error(&o, &["different specs"]);
}

#[test]
fn bad_specs_and_shards_are_one_line_errors() {
    let dir = TempDir::new("sweep-bad");
    let out = dir.path("out");
    let out = out.to_str().unwrap();
    let spec = dir.write("spec.toml", SPEC);
    assert_usage_error(&batchlab(&["sweep", &spec, "--shard", "4/3", "--out", out]), &["--shard", "4/3"]);
    assert_usage_error(&batchlab(&["sweep", &spec, "--shard", "x", "--out", out]), &["--shard"]);
    let unknown = dir.write("unknown.toml", "[axes]\nschedular = [\"continuous\"]\n");
    assert_usage_error(&batchlab(&["sweep", &unknown, "--out", out]), &["unknown.toml", "unknown field 'schedular'"]);
    let empty = dir.write("empty.toml", "[axes]\nseed = []\n");
    assert_usage_error(&batchlab(&["sweep", &empty, "--out", out]), &["empty.toml", "no value"]);
    let broken = dir.write("broken.toml", "preset = \"paper\"\n[axes\n");
    assert_usage_error(&batchlab(&["sweep", &broken, "--out", out]), &["broken.toml", "line 2"]);
    let invalid = dir.write("invalid.toml", "[axes]\ngpus = [1, 0]\n");
    assert_usage_error(&batchlab(&["sweep", &invalid, "--out", out]), &["invalid.toml", "run 1", "gpus"]);
}

#[test]
fn the_example_spec_is_valid() {
    let spec = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/sweep_continuous_load.toml");
    let text = std::fs::read(spec).unwrap();
    let parsed = batchlab::sweep::SweepSpec::parse_toml(&text, spec).unwrap();
    assert_eq!(parsed.points(0..parsed.run_count().unwrap()).unwrap().len(), 24);
}

#[test]
fn capacity_searches_each_scheduler_and_writes_its_points() {
    let dir = TempDir::new("capacity");
    let out = dir.path("out");
    let o = batchlab(&["capacity", "--requests", "3000", "--schedulers", "dynamic_no_bins,continuous", "--out", out.to_str().unwrap()]);
    assert_ok(&o);
    let (header, rows) = csv_rows(&read(&out.join("capacity.csv")));
    assert_eq!(rows.len(), 2);
    assert_eq!(column(&header, &rows[1], "label"), "continuous");
    assert_eq!(column(&header, &rows[1], "converged"), "true");
    let capacity: f64 = column(&header, &rows[1], "capacity_factor").parse().unwrap();
    // The points: attainment at the capacity meets the target, and some load above it does not.
    let (ph, points) = csv_rows(&read(&out.join("capacity_points.csv")));
    let cont: Vec<(f64, f64)> = points
        .iter()
        .filter(|p| column(&ph, p, "label") == "continuous")
        .map(|p| (column(&ph, p, "factor").parse().unwrap(), column(&ph, p, "attainment").parse().unwrap()))
        .collect();
    assert!(cont.iter().any(|&(f, a)| (f - capacity).abs() < 1e-6 && a >= 0.9));
    assert!(cont.iter().any(|&(f, a)| f > capacity && a < 0.9));
    assert_usage_error(&batchlab(&["capacity", "--target", "1.5", "--out", out.to_str().unwrap()]), &["--target", "(0, 1]"]);
}

#[test]
fn compare_runs_every_scheduler_the_same_on_any_thread_count() {
    let dir = TempDir::new("compare");
    let (one, two) = (dir.path("one"), dir.path("two"));
    for (out, threads) in [(&one, "1"), (&two, "2")] {
        let o = batchlab(&["compare", "--requests", "2000", "--threads", threads, "--out", out.to_str().unwrap()]);
        assert_ok(&o);
        assert!(stdout(&o).contains("multi_bin_continuous"), "{}", stdout(&o));
    }
    let a = read(&one.join("compare.csv"));
    assert_eq!(blanked(&a), blanked(&read(&two.join("compare.csv"))));
    let (header, rows) = csv_rows(&a);
    let names: Vec<&str> = rows.iter().map(|r| column(&header, r, "scheduler")).collect();
    assert_eq!(names, batchlab::config::SchedulerKind::ALL.iter().map(|s| s.name()).collect::<Vec<_>>());
}
