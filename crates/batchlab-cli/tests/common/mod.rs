//! Helpers shared by the end-to-end tests: temp folders, running the binary, asserting
//! its exit and its one-line errors, reading CSV files.
// Each test file uses a different subset of these.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh folder under the system temp dir, removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("batchlab-cli-test-{}-{n}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    pub fn write(&self, name: &str, contents: &str) -> String {
        let p = self.path(name);
        std::fs::write(&p, contents).expect("write test file");
        p.display().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn batchlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_batchlab")).args(args).output().expect("run batchlab")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[track_caller]
pub fn assert_ok(o: &Output) {
    assert!(o.status.success(), "exit {:?}\nstdout:\n{}\nstderr:\n{}", o.status.code(), stdout(o), stderr(o));
}

/// Exit code 2 and exactly one stderr line `error: ...` containing every needle.
#[track_caller]
pub fn assert_usage_error(o: &Output, needles: &[&str]) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "stderr:\n{err}\nstdout:\n{}", stdout(o));
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "expected one stderr line, got:\n{err}");
    assert!(lines[0].starts_with("error: "), "{err}");
    for needle in needles {
        assert!(lines[0].contains(needle), "'{needle}' not in: {err}");
    }
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Split one CSV line into cells (RFC 4180 quotes; no line breaks inside cells).
pub fn cells(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                out.last_mut().unwrap().push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(String::new()),
            (c, _) => out.last_mut().unwrap().push(c),
        }
    }
    out
}

/// Header and data rows of a CSV file.
pub fn csv_rows(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut lines = text.lines();
    let header = cells(lines.next().expect("a header"));
    let rows: Vec<Vec<String>> = lines.map(cells).collect();
    for r in &rows {
        assert_eq!(r.len(), header.len(), "ragged row {r:?}");
    }
    (header, rows)
}

pub fn column<'a>(header: &[String], row: &'a [String], name: &str) -> &'a str {
    let i = header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name} in {header:?}"));
    &row[i]
}

/// The CSV with every wall-clock cell (a column whose name contains "wall") blanked.
pub fn without_wall_clock(text: &str) -> Vec<Vec<String>> {
    let (header, rows) = csv_rows(text);
    let wall: Vec<usize> = (0..header.len()).filter(|&i| header[i].contains("wall")).collect();
    assert!(!wall.is_empty(), "no wall-clock column in {header:?}");
    let mut all = vec![header];
    for mut r in rows {
        for &i in &wall {
            r[i].clear();
        }
        all.push(r);
    }
    all
}

/// A test that needs a GPU adapter found none (`reason`). The no-GPU policy, as in
/// crates/batchlab-gpu/tests/common: panic, unless BATCHLAB_ALLOW_NO_GPU=1 outside CI
/// (CI=true: scripts/setup.sh installs lavapipe, so the GPU tests must run). Allowed, it
/// writes `SKIPPED: no GPU adapter: <test>: <reason>` straight to stderr (past cargo's
/// output capture) and appends it to $BATCHLAB_SKIP_LOG if set, which scripts/test.sh
/// counts as a skipped suite; the caller then returns early.
#[track_caller]
pub fn skip_without_gpu(test: &str, reason: &str) {
    let allowed = std::env::var("BATCHLAB_ALLOW_NO_GPU").as_deref() == Ok("1");
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    if !allowed || ci {
        let why = if ci && allowed { " (CI is set: BATCHLAB_ALLOW_NO_GPU is ignored, scripts/setup.sh installs lavapipe)" } else { "" };
        panic!(
            "{test}: no GPU adapter{why}. Install a Vulkan driver (Debian: mesa-vulkan-drivers libvulkan1) \
             or, outside CI, set BATCHLAB_ALLOW_NO_GPU=1 to skip\n{reason}"
        );
    }
    let line = format!("SKIPPED: no GPU adapter: {test}: {}\n", reason.trim().replace('\n', " "));
    let _ = std::io::stderr().write_all(line.as_bytes());
    if let Some(path) = std::env::var_os("BATCHLAB_SKIP_LOG") {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&path);
        let _ = log.and_then(|mut f| f.write_all(line.as_bytes()));
    }
}
