//! The core's architecture invariants (ARCHITECTURE.md), checked on its source:
//! - data flows one way: every module imports only modules below it in `LAYERS`, so the
//!   import graph has no cycle and `config` imports nothing of the core but `error`;
//! - the core never spells a shell's flag (`--k`): errors name fields, shells translate.
//!
//! Test code (`#[cfg(test)] mod tests`, `tests.rs`) is not held to these rules.

mod common;

use std::path::{Path, PathBuf};

/// The core's top-level modules, lowest first.
const LAYERS: &[&str] = &[
    "error", "rng", "stats", "histogram", "timeseries", "config", "csv_input", "iteration_cost", "latency", "workload", "memory", "sla", "bins", "engine", "token",
    "metrics", "run", "timeline", "tasks", "plan", "study", "sweep", "capacity", "analysis", "report", "session", "fuzzing",
];

/// Every non-test source file of the core, with the top-level module it belongs to.
fn sources() -> Vec<(String, PathBuf, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    common::core_sources()
        .into_iter()
        .filter(|(p, _)| p.file_name().is_some_and(|n| n != "tests.rs" && n != "lib.rs"))
        .map(|(p, text)| {
            let rel = p.strip_prefix(&src).unwrap();
            let top = rel.iter().next().unwrap().to_string_lossy().trim_end_matches(".rs").to_string();
            // Unit tests sit at the end of a file, after this marker.
            let code = text.split("#[cfg(test)]\nmod tests").next().unwrap().to_string();
            (top, p, code)
        })
        .collect()
}

/// The top-level modules `code` names through `crate::x` paths.
fn imports(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        let name: String = rest.chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect();
        if !name.is_empty() && !found.contains(&name) {
            found.push(name);
        }
    }
    found
}

#[test]
fn every_module_imports_only_lower_layers() {
    let mut wrong = Vec::new();
    for (top, path, code) in sources() {
        let Some(level) = LAYERS.iter().position(|l| *l == top) else {
            wrong.push(format!("{}: module '{top}' is not in LAYERS", path.display()));
            continue;
        };
        for import in imports(&code) {
            match LAYERS.iter().position(|l| *l == import) {
                Some(l) if l < level || import == top => {}
                Some(_) => wrong.push(format!("{}: '{top}' imports '{import}', which is not below it", path.display())),
                None => wrong.push(format!("{}: imports unknown module '{import}'", path.display())),
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn config_imports_nothing_of_the_core_but_error() {
    for (top, path, code) in sources() {
        if top == "config" {
            let imports = imports(&code);
            assert!(imports.iter().all(|i| i == "error" || i == "config"), "{}: {imports:?}", path.display());
        }
    }
}

#[test]
fn the_core_spells_no_flag() {
    let mut found = Vec::new();
    for (_, path, code) in sources() {
        for (n, line) in code.lines().enumerate() {
            if spells_a_flag(line) {
                found.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "flag spellings in the core:\n{}", found.join("\n"));
}

/// A `--word` in code (comments may name the CLI's flags when they explain a choice).
fn spells_a_flag(line: &str) -> bool {
    !line.trim_start().starts_with("//")
        && line.match_indices("--").any(|(i, _)| {
            let before = line[..i].chars().last();
            let after = line[i + 2..].chars().next();
            matches!(before, Some('"' | '\'' | ' ' | '`' | '(')) && after.is_some_and(|c| c.is_ascii_lowercase())
        })
}

#[test]
fn the_rules_can_fail() {
    assert!(spells_a_flag(r#"Err(Error::option("--k", "must be at least 1"))"#));
    assert!(spells_a_flag(r#"format!("use --latency-mode fit")"#));
    assert!(!spells_a_flag("    // the CLI's --k maps to k_bins"));
    assert!(!spells_a_flag("let n = a - -b; x -= 1; i--;"));
    assert_eq!(imports("use crate::config::{Config};\nuse crate::error::Error;"), ["config", "error"]);
    assert_eq!(imports("let x = crate::session::Job::Check;"), ["session"]);
}
