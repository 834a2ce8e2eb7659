//! Guard of the determinism invariant: the core never calls the platform's
//! transcendental functions (`f64::ln`, `exp`, `powf`, ...), whose last bit may differ
//! between native libm and wasm32; it calls the pure-Rust `libm` crate instead.

use std::path::Path;

const FORBIDDEN: [&str; 16] = [
    ".ln(", ".exp(", ".powf(", ".powi(", ".sin(", ".cos(", ".tan(", ".log10(", ".log2(", ".exp2(", ".ln_1p(",
    ".exp_m1(", ".cbrt(", ".hypot(", ".atan(", ".atan2(",
];

fn scan(dir: &Path, hits: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            scan(&path, hits);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            for (i, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap();
                for f in FORBIDDEN {
                    if code.contains(f) {
                        hits.push(format!("{}:{}: {}", path.display(), i + 1, line.trim()));
                    }
                }
            }
        }
    }
}

#[test]
fn core_uses_libm_for_transcendental_functions() {
    let mut hits = Vec::new();
    scan(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut hits);
    assert!(hits.is_empty(), "use libm instead:\n{}", hits.join("\n"));
}
