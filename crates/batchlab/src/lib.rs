//! BatchLab core: a pure, deterministic simulator of how LLM-serving clusters batch
//! requests. No files, clocks, threads or platform APIs: it takes bytes and configs and
//! returns values, so the same code runs natively (CLI) and in wasm32 (the web app).
//!
//! Data flows one way (see ARCHITECTURE.md):
//! workload + config -> engine (schedulers, SLA controller, memory cap, bins)
//! -> schedule -> metrics -> reports (CSV / JSON); the stress plan drives many runs.
//!
//! # API boundary
//!
//! Shells use the items re-exported here: the [`Session`] (check / run / compare / plan
//! on the user's files), the [`Config`] and [`PlanSpec`] they fill in, the [`TokenPass`]
//! interface a GPU backend implements, and the one [`Error`]. The modules stay public
//! for what shells draw or print (`report`'s metric table and formatter, `plan`'s
//! results, `latency`'s fit) and for the tests that replay the engine's parts (`sla`,
//! `memory`, `bins`, `engine`); `stats` and `timeseries` are internal.

pub mod analysis;
pub mod bins;
pub mod capacity;
pub mod config;
mod csv_input;
pub mod engine;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod iteration_cost;
pub mod latency;
pub mod memory;
pub mod metrics;
pub mod plan;
pub mod report;
pub mod rng;
pub mod run;
pub mod session;
pub mod sla;
pub mod study;
pub mod sweep;
pub mod tasks;
pub mod timeline;
pub mod histogram;
mod stats;
mod timeseries;
pub mod token;
pub mod workload;

pub use config::{Config, Named, Preset, SchedulerKind};
pub use error::{Error, Result};
pub use plan::{Hooks, PlanSpec, Progress};
pub use run::{simulate_run, RunResult};
pub use session::{InputFile, Inputs, Job, Outcome, PlanOutput, RunOutput, Session, TokenPassInfo, TraceReader};
pub use timeseries::TimeSeries;
pub use token::{now, CpuTokenPass, TokenPass};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
