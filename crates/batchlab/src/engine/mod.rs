//! The two engines and what they hand downstream.
//!
//! - `batch`: request-level batching (static, dynamic, multi-bin): a batch runs to its
//!   end before its GPU takes new work; the token pass (`token`) times its tokens after.
//! - `iteration`: continuous (iteration-level) batching with prefill and decode costs and
//!   a paged KV cache; it times every token itself.
//!
//! Metrics read either engine's schedule through `ScheduleView`, so nothing downstream
//! is written twice.

use crate::bins::Bins;
use crate::timeseries::TimeSeries;


/// How many batches (or iterations) ran and how many requests (or sequences) each held.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BatchSummary {
    pub count: u64,
    /// The sum of their sizes (a request counted once per batch, a sequence once per
    /// iteration it ran in).
    pub members: u64,
    pub size_min: u32,
    pub size_max: u32,
    /// Batches per bin (empty where batches are not formed per bin).
    pub per_bin: Vec<u64>,
}

/// What metrics read of a schedule, whichever engine made it.
pub trait ScheduleView {
    /// Per request: when its service began (its batch started, or it was first admitted
    /// to a GPU) and when it completed.
    fn start_s(&self) -> &[f64];
    fn finish_s(&self) -> &[f64];
    fn bins(&self) -> &Bins;
    fn bin_of(&self) -> &[u32];
    /// Per GPU: seconds it computed.
    fn gpu_busy_s(&self) -> &[f64];
    fn timeseries(&self) -> &TimeSeries;
    fn batch_summary(&self) -> BatchSummary;
}

crate::config::named_enum! {
    /// Why a batch (or a run of iterations) had the size it had: what stopped it from
    /// taking more of its queue. Recorded once per batch and run, for the page's timeline.
    pub enum SizeReason for "why" {
        /// The scheduler's fixed batch size (b_static or b_fixed).
        FixedSize = "fixed_size",
        /// The memory cap b_mem (the KV cache's room for requests of the scope's mean length); also when it equals b_SLA.
        MemoryCap = "memory_cap",
        /// The SLA controller's target b_SLA, below the memory cap.
        SlaTarget = "sla_target",
        /// The queue: every request waiting in it was taken.
        Queue = "queue",
        /// The memory check: the next waiting request did not fit beside the others.
        MemoryCheck = "memory_check",
        /// The GPU runs its most sequences (max_seqs); the next waiting request stays in the queue.
        MaxSeqs = "max_seqs",
        /// The next waiting request's prompt did not fit in the free KV blocks (watermark kept).
        KvCache = "kv_cache",
        /// The iteration's token budget was spent; the next waiting request stays in the queue.
        TokenBudget = "token_budget",
        /// The KV cache ran out: running sequences were preempted, and none joins in that iteration.
        Preemption = "preemption",
    }
}

mod batch;
pub mod iteration;
mod py_heap;

pub use batch::{simulate, Batch, Schedule};

/// The accessors both schedules answer from fields of the same names.
macro_rules! schedule_view_fields {
    () => {
        fn start_s(&self) -> &[f64] {
            &self.start_s
        }
        fn finish_s(&self) -> &[f64] {
            &self.finish_s
        }
        fn bins(&self) -> &crate::bins::Bins {
            &self.bins
        }
        fn bin_of(&self) -> &[u32] {
            &self.bin_of
        }
        fn gpu_busy_s(&self) -> &[f64] {
            &self.gpu_busy_s
        }
        fn timeseries(&self) -> &crate::timeseries::TimeSeries {
            &self.timeseries
        }
    };
}
pub(crate) use schedule_view_fields;

impl ScheduleView for Schedule {
    schedule_view_fields!();
    fn batch_summary(&self) -> BatchSummary {
        let mut per_bin = vec![0; self.bins.k()];
        for b in &self.batches {
            per_bin[b.bin as usize] += 1;
        }
        BatchSummary {
            count: self.batches.len() as u64,
            members: self.members.len() as u64,
            size_min: self.batches.iter().map(|b| b.size).min().unwrap_or(0),
            size_max: self.batches.iter().map(|b| b.size).max().unwrap_or(0),
            per_bin,
        }
    }
}
