//! Replays the page's kept fuzz inputs (fuzz/regressions/<target>/) through the entries
//! its fuzz targets call, on stable: Ok, or one non-empty line of error, never a panic.
//! (The core's targets: crates/batchlab/tests/fuzz_regressions.rs.)

use std::path::Path;

type Entry = fn(&[u8]) -> batchlab_web::fuzzing::Outcome;

#[test]
fn every_kept_fuzz_input_of_the_page_returns_without_panic() {
    let targets: [(&str, Entry); 2] = [("fragment", batchlab_web::fuzzing::fragment), ("request", batchlab_web::fuzzing::request)];
    let mut failures = Vec::new();
    for (target, entry) in targets {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions").join(target);
        let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())).map(|e| e.unwrap().path()).collect();
        files.sort();
        assert!(!files.is_empty(), "{}: no input kept", dir.display());
        for path in files {
            let bytes = std::fs::read(&path).unwrap();
            match std::panic::catch_unwind(|| entry(&bytes)) {
                Ok(Ok(())) => {}
                Ok(Err(e)) if !e.trim().is_empty() && !e.contains(['\n', '\r']) => {}
                Ok(Err(e)) => failures.push(format!("{}: not a one-line error: {e:?}", path.display())),
                Err(_) => failures.push(format!("{}: panicked", path.display())),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
