//! Replays the kept fuzz inputs (fuzz/regressions/<target>/: seeds and every input a
//! fuzz run found a bug with) through the entries the fuzz targets call, on stable, so
//! a fixed bug stays fixed without nightly. Each must return without panicking: Ok, or
//! one non-empty line of error.

use std::path::Path;

type Entry = fn(&[u8]) -> batchlab::fuzzing::Outcome;

/// Each file of `fuzz/regressions/<target>/` through `entry`; the failures, by file.
fn replay(target: &str, entry: Entry) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions").join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())).map(|e| e.unwrap().path()).collect();
    files.sort();
    assert!(!files.is_empty(), "{}: no input kept", dir.display());
    let mut failures = Vec::new();
    for path in files {
        let bytes = std::fs::read(&path).unwrap();
        match std::panic::catch_unwind(|| entry(&bytes)) {
            Ok(Ok(())) => {}
            Ok(Err(e)) if !e.trim().is_empty() && !e.contains(['\n', '\r']) => {}
            Ok(Err(e)) => failures.push(format!("{}: not a one-line error: {e:?}", path.display())),
            Err(_) => failures.push(format!("{}: panicked", path.display())),
        }
    }
    failures
}

#[test]
fn every_kept_fuzz_input_of_the_core_returns_without_panic() {
    let targets: [(&str, Entry); 6] = [
        ("trace", batchlab::fuzzing::trace),
        ("calibration", batchlab::fuzzing::calibration),
        ("iteration_profile", batchlab::fuzzing::iteration_profile),
        ("sweep_spec", batchlab::fuzzing::sweep_spec),
        ("shard_merge", batchlab::fuzzing::shard_merge),
        ("session", batchlab::fuzzing::session),
    ];
    let failures: Vec<String> = targets.into_iter().flat_map(|(t, entry)| replay(t, entry)).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_fuzz_target_of_the_core_has_its_entry_replayed_here() {
    // A target added under fuzz/ without its replay here would keep no fixed bug.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/fuzz_targets");
    let this = include_str!("fuzz_regressions.rs");
    let web = include_str!("../../../tests/fuzz_regressions.rs");
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().path().file_stem().unwrap().to_string_lossy().to_string();
        let quoted = format!("(\"{name}\",");
        assert!(this.contains(&quoted) || web.contains(&quoted), "fuzz target '{name}' is replayed by no test");
    }
}
