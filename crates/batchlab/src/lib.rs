//! BatchLab core: a pure, deterministic simulator of how LLM-serving clusters batch
//! requests. No files, clocks, threads or platform APIs: it takes bytes and configs and
//! returns values, so the same code runs natively (CLI) and in wasm32 (the web app).
//!
//! Data flows one way (see ARCHITECTURE.md):
//! workload + config -> engine (schedulers, SLA controller, memory cap, bins)
//! -> schedule -> metrics -> reports (CSV / JSON); the stress plan drives many runs.

pub mod analysis;
pub mod bins;
pub mod config;
pub mod engine;
pub mod error;
pub mod latency;
pub mod memory;
pub mod metrics;
pub mod plan;
pub mod report;
pub mod rng;
pub mod run;
pub mod session;
pub mod sla;
pub mod stats;
pub mod timeseries;
pub mod token;
pub mod workload;

pub use config::{Config, Preset, SchedulerKind};
pub use error::{Error, Result};
pub use run::{simulate_run, RunResult};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
