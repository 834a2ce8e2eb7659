//! The SLA controller's settings: which signal it regulates, against which target, by
//! which version of the original's interval rules, and which batches it learns from.

use serde::{Deserialize, Serialize};

use super::named::named_enum;

named_enum! {
    /// What the SLA controller regulates against its target.
    pub enum SlaSignal for "sla.signal" {
        /// The batch's decode time per token, beta h(b) (paper preset); target: the per-token SLA.
        TokenTime = "token_time",
        /// The batch's whole service time T(b, L) (first results); target: the request SLA.
        BatchLatency = "batch_latency",
    }
}

named_enum! {
    /// Which version of the original simulator's interval rules the controller follows
    /// (ARCHITECTURE.md lists both).
    pub enum ControllerRules for "sla.rules" {
        /// The first version (dd5f07f): band two eps wide; shrink to 0.9 / 0.7 of b_avg, grow by 0.3 b_avg, otherwise centre on b_avg with a margin of max(2, 15%).
        First = "first",
        /// The final version (f1be833, "Algorithm 2"): band one eps wide; steps of 4 and 2, otherwise centre on b_avg +- 1; b_SLA at least the requests running elsewhere.
        Final = "final",
    }
}

named_enum! {
    /// Which finished batches the controller learns from.
    pub enum ControllerFeed for "sla.feed" {
        /// Every batch, as the original does (a batch cut short by the queue pulls b_avg down; under the first rules the interval then ratchets down as GPUs are added).
        All = "all",
        /// Only batches whose size the controller or memory limited: one cut short by the queue says nothing about the SLA.
        Limited = "limited",
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlaControllerConfig {
    pub rules: ControllerRules,
    pub signal: SlaSignal,
    /// Target `D`, seconds. `None`: the SLA the user set, as the original's scripts pass
    /// it (the per-token SLA for `token_time`, the request SLA for `batch_latency`).
    /// A separate target is an advanced setting.
    pub d_s: Option<f64>,
    /// Tolerance `eps`, seconds.
    pub eps_s: f64,
    /// Weight of the newest observation in the moving averages.
    pub ema_weight: f64,
    /// The original code's controller state, kept by the presets that copy it: the
    /// averages start from 0.0 and from float((B_min + B_max) // 2), the warm-up lasts
    /// while tau_avg is 0 or fewer than 3 batches were seen, and the interval rules run on
    /// every b_SLA computation rather than once per batch.
    pub original_state: bool,
    pub feed: ControllerFeed,
}
