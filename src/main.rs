//! Placeholder for the browser app (built by trunk for wasm32-unknown-unknown).
//! It links the core so that the core is known to compile for wasm32.
fn main() {
    let _ = batchlab::VERSION;
}
