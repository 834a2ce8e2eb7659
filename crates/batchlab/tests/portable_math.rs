//! Guard of the determinism invariant: the core never calls the platform's
//! transcendental functions (`f64::ln`, `exp`, `powf`, ...), whose last bit may differ
//! between native libm and wasm32; it calls the pure-Rust `libm` crate instead.

mod common;

const FORBIDDEN: [&str; 16] = [
    ".ln(", ".exp(", ".powf(", ".powi(", ".sin(", ".cos(", ".tan(", ".log10(", ".log2(", ".exp2(", ".ln_1p(",
    ".exp_m1(", ".cbrt(", ".hypot(", ".atan(", ".atan2(",
];

#[test]
fn core_uses_libm_for_transcendental_functions() {
    let mut hits = Vec::new();
    for (path, text) in common::core_sources() {
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap();
            for f in FORBIDDEN {
                if code.contains(f) {
                    hits.push(format!("{}:{}: {}", path.display(), i + 1, line.trim()));
                }
            }
        }
    }
    assert!(hits.is_empty(), "use libm instead:\n{}", hits.join("\n"));
}
