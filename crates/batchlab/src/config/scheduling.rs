//! How requests are batched: the scheduler, the bin policy, when a request completes,
//! and how the engine takes events that happen at the same instant.

use super::named::named_enum;

named_enum! {
    /// How requests are batched.
    pub enum SchedulerKind for "scheduler" {
        /// One FIFO queue, fixed batch size b_static.
        StaticFifo = "static_fifo",
        /// One FIFO queue, batch size from the memory cap and the SLA controller.
        DynamicNoBins = "dynamic_no_bins",
        /// K bins by predicted output length, each with its own memory cap and SLA controller.
        MultiBinDynamic = "multi_bin_dynamic",
        /// K bins by predicted output length, fixed batch size b_fixed.
        MultiBinFixed = "multi_bin_fixed",
        /// Iteration-level batching: one FCFS queue per GPU; finished sequences leave and waiting ones join at every iteration; paged KV cache.
        Continuous = "continuous",
        /// Continuous batching with K bins by predicted output length, each bin served by its share of the GPUs (by token load).
        MultiBinContinuous = "multi_bin_continuous",
    }
}

impl SchedulerKind {
    /// The four schedulers of the batch engine (a batch runs to its end).
    pub const BATCH: &'static [SchedulerKind] =
        &[SchedulerKind::StaticFifo, SchedulerKind::DynamicNoBins, SchedulerKind::MultiBinDynamic, SchedulerKind::MultiBinFixed];

    /// Whether requests are split into K bins (otherwise one FIFO queue).
    pub fn uses_bins(self) -> bool {
        matches!(self, SchedulerKind::MultiBinDynamic | SchedulerKind::MultiBinFixed | SchedulerKind::MultiBinContinuous)
    }

    /// Whether the iteration-level engine runs it (otherwise the batch engine).
    pub fn is_continuous(self) -> bool {
        matches!(self, SchedulerKind::Continuous | SchedulerKind::MultiBinContinuous)
    }

    /// Whether the batch size comes from the memory cap and the SLA controller.
    pub fn is_dynamic(self) -> bool {
        matches!(self, SchedulerKind::DynamicNoBins | SchedulerKind::MultiBinDynamic)
    }
}

named_enum! {
    /// Which non-empty bin an idle GPU serves next.
    pub enum BinPolicy for "bin_policy" {
        /// The bins in turn, starting after the last one served.
        RoundRobin = "round_robin",
        /// The bin with the most waiting requests (ties to the lower bin).
        LongestQueue = "longest_queue",
    }
}

named_enum! {
    /// When a member of a batch counts as completed.
    pub enum Completion for "completion" {
        /// Every member of a batch completes when the batch does (paper preset).
        BatchEnd = "batch_end",
        /// A member completes after its own last token; the GPU stays busy to the batch end.
        OwnFinish = "own_finish",
    }
}

named_enum! {
    /// How the engine takes events that happen at the same instant (BurstGPT's stamps are whole seconds, so many do).
    pub enum EventOrder for "event_order" {
        /// All events of an instant form one step: completions (by GPU), then arrivals (by request), then every idle GPU takes a batch, so requests arriving together can share one.
        ByInstant = "by_instant",
        /// As the original: one event at a time from a heap keyed by time alone (ties in its heap order); an arrival offers work to the idle GPUs, a completion to its own GPU.
        OneAtATime = "one_at_a_time",
    }
}

named_enum! {
    /// How the equal-mass bin edges are cut and used.
    pub enum BinEdgeRule for "bin_edge_rule" {
        /// The quantiles themselves (numpy-linear); a prediction below the first edge goes to the first bin.
        Exact = "exact",
        /// As the original: quantiles truncated to integers with int(), and a prediction below the smallest sampled one (truncated) goes to the last bin.
        Truncated = "truncated",
    }
}
