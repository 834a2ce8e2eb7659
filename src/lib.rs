//! BatchLab in the browser: a thin shell over the core (`batchlab`).
//!
//! Two wasm binaries share this library: the page (`src/main.rs` -> [`page`]: controls,
//! URL state, tables, charts, downloads) and the worker (`src/bin/worker.rs` ->
//! [`worker`]: every simulation, off the main thread). They talk through the typed
//! messages of [`protocol`]. Everything but the two glue modules is plain Rust, tested
//! natively with `cargo test -p batchlab-web`.

pub mod drive;
#[doc(hidden)]
pub mod fuzzing;
pub mod jobs;
pub mod overview;
pub mod load;
pub mod protocol;
pub mod stamp;
pub mod state;
pub mod stopped;
pub mod timeline_view;
pub mod trace_file;
pub mod tour;
pub mod view;
pub mod zip;

#[cfg(target_arch = "wasm32")]
pub mod page;
#[cfg(target_arch = "wasm32")]
pub mod worker;
