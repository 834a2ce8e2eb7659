//! The notes a run attaches (`RunResult::notes`): each appears exactly when its
//! condition holds, with the figures worked out by hand below.
//!
//! The calibration is exact: alpha 0.5 s, beta 10 ms/token, gamma 1, so a batch of b
//! steps in beta h(b) = 10 (2 - 1/b) ms: 10 ms for b = 1, 19.921875 ms for B_max = 128.

mod common;

use batchlab::config::{Config, ControllerRules, Preset, SchedulerKind, SlaSignal};
use batchlab::run::{simulate_run, RunResult};
use common::{exact_model, workload};

const CANNOT_BIND_20MS: &str = "The per-token SLA (20.00 ms) cannot be violated: the slowest token step of this \
                                calibration (batch of 128) is 19.92 ms.";
const SIGNAL_STUCK_PAPER: &str = "The SLA controller's signal (token step 10.00-19.92 ms) never leaves its band \
                                  [0.00, 20.00] ms, so it never shrinks or grows its interval for the SLA: it only \
                                  re-centres on the average batch size.";

fn run(cfg: Config) -> RunResult {
    // Longest sequence: 50 + 400 = 450 tokens.
    let w = workload(&[(0.0, 5, 3), (0.1, 5, 7), (0.2, 50, 200), (0.3, 50, 400), (0.4, 20, 30), (0.5, 10, 10)]);
    let cfg = Config { requests: w.len(), ..cfg };
    simulate_run(&w, &cfg, &exact_model(0.5, 0.01, 1.0), "hand-made").unwrap()
}

/// The paper preset on the multi-bin dynamic scheduler with the first version's rules,
/// regulating the token step around its own target D = 10 ms with eps = 5 ms: the band
/// D +- 2 eps is [0, 20] ms.
fn paper() -> Config {
    let mut c = Config::preset(Preset::Paper);
    assert_eq!((c.scheduler, c.sla.signal), (SchedulerKind::MultiBinDynamic, SlaSignal::TokenTime));
    assert_eq!((c.b_max, c.token_kappa), (128, 0.0));
    (c.sla.rules, c.sla.d_s, c.sla.eps_s) = (ControllerRules::First, Some(0.010), 0.005);
    c
}

fn mentions(r: &RunResult, needle: &str) -> usize {
    r.notes.iter().filter(|n| n.contains(needle)).count()
}

#[test]
fn cannot_bind_note_iff_the_slowest_step_is_within_the_token_sla() {
    // 20 ms >= 19.92 ms: no gap can exceed the SLA.
    let r = run(Config { d_sla_token_s: 0.020, ..paper() });
    assert!(!r.metrics.token_sla_can_bind);
    assert_eq!(mentions(&r, "cannot be violated"), 1, "{:?}", r.notes);
    assert!(r.notes.iter().any(|n| n == CANNOT_BIND_20MS), "{:?}", r.notes);
    assert_eq!(r.metrics.token_sla_violation_rate, 0.0);
    // 19.9 ms < 19.92 ms: it can (whether this small run hits it or not).
    let r = run(Config { d_sla_token_s: 0.0199, ..paper() });
    assert!(r.metrics.token_sla_can_bind);
    assert_eq!(mentions(&r, "cannot be violated"), 0, "{:?}", r.notes);
}

#[test]
fn context_cost_counts_towards_whether_the_token_sla_can_bind() {
    // kappa = 10 per 1000 tokens of context: even in a batch of one (10 ms steps) the
    // 450-token request's last gap (step 450) is 10 (1 + 10 * 450 / 1000) = 55 ms, far
    // above 20 ms. A note saying the SLA cannot be violated would contradict the count.
    let r = run(Config { d_sla_token_s: 0.020, token_kappa: 10.0, token_context_ref_tokens: 1000.0, ..paper() });
    assert!(r.metrics.token_sla_violation_rate > 0.0, "the token pass finds violations");
    assert!(r.metrics.token_sla_can_bind);
    assert_eq!(mentions(&r, "cannot be violated"), 0, "{:?}", r.notes);
    // A tiny context cost: 19.921875 (1 + 1 * 450 / 1e6) = 19.93083984375 ms < 20 ms,
    // so the note stays, and says the context cost was counted.
    let r = run(Config { d_sla_token_s: 0.020, token_kappa: 1.0, token_context_ref_tokens: 1e6, ..paper() });
    assert!(!r.metrics.token_sla_can_bind);
    let expected = "The per-token SLA (20.00 ms) cannot be violated: the slowest decode gap of this calibration and \
                    workload (batch of 128, context cost of its longest sequence) is 19.93 ms.";
    assert!(r.notes.iter().any(|n| n == expected), "{:?}", r.notes);
}

#[test]
fn stuck_controller_note_iff_token_signal_dynamic_scheduler_and_steps_inside_the_band() {
    // d_sla_token 5 ms keeps the other note away; only the controller's note is at stake.
    let base = Config { d_sla_token_s: 0.005, ..paper() };
    // Steps 10-19.92 ms inside [10 - 10, 10 + 10] = [0, 20] ms.
    let r = run(base.clone());
    assert_eq!(r.notes, [SIGNAL_STUCK_PAPER]);
    let r = run(Config { scheduler: SchedulerKind::DynamicNoBins, ..base.clone() });
    assert_eq!(r.notes, [SIGNAL_STUCK_PAPER], "dynamic without bins too");

    let mut without = Vec::new();
    // Fixed-size schedulers have no controller.
    without.push(Config { scheduler: SchedulerKind::StaticFifo, ..base.clone() });
    without.push(Config { scheduler: SchedulerKind::MultiBinFixed, ..base.clone() });
    // A batch-latency signal is not the token step.
    let mut latency_signal = base.clone();
    latency_signal.sla.signal = SlaSignal::BatchLatency;
    without.push(latency_signal);
    // eps 4.9 ms: upper edge 10 + 9.8 = 19.8 ms < 19.92 ms, a batch of 128 leaves the band.
    let mut narrow = base.clone();
    narrow.sla.eps_s = 0.0049;
    without.push(narrow);
    // D 16 ms, eps 2 ms: band [12, 20] ms; a batch of one (10 ms) is below it.
    let mut high = base.clone();
    (high.sla.d_s, high.sla.eps_s) = (Some(0.016), 0.002);
    without.push(high);
    for cfg in without {
        let r = run(cfg.clone());
        assert!(r.notes.is_empty(), "{:?} {:?} {:?}: {:?}", cfg.scheduler, cfg.sla.signal, (cfg.sla.d_s, cfg.sla.eps_s), r.notes);
    }
}

#[test]
fn the_final_rules_band_is_one_eps_wide_and_a_signal_outside_it_is_named() {
    // The paper preset as it is: final rules, eps 1 ms, the target following the
    // per-token SLA. Steps 10-19.92 ms.
    let paper = Config::preset(Preset::Paper);
    assert_eq!((paper.sla.rules, paper.sla.d_s, paper.sla.eps_s), (ControllerRules::Final, None, 0.001));
    // Token SLA 25 ms: band [24, 26] ms, every step is below it: the controller only grows.
    let r = run(Config { d_sla_token_s: 0.025, ..paper.clone() });
    let grows = "The SLA cannot bind: the controller's signal (token step 10.00-19.92 ms) stays below its band \
                 [24.00, 26.00] ms, so it only grows its interval and the batch size is limited by memory and the \
                 queue alone.";
    assert!(r.notes.iter().any(|n| n == grows), "{:?}", r.notes);
    // Token SLA 8 ms: band [7, 9] ms, even a batch of one (10 ms) is above it.
    let r = run(Config { d_sla_token_s: 0.008, ..paper.clone() });
    let shrinks = "The SLA cannot be met: the controller's signal (token step 10.00-19.92 ms) stays above its band \
                   [7.00, 9.00] ms even at batch size 1, so it only shrinks its interval.";
    assert!(r.notes.iter().any(|n| n == shrinks), "{:?}", r.notes);
    // Token SLA 15 ms: band [14, 16] ms, inside the steps' range: the controller matters.
    let r = run(Config { d_sla_token_s: 0.015, ..paper.clone() });
    assert_eq!(mentions(&r, "controller"), 0, "{:?}", r.notes);
    // The same band two eps wide under the first rules ([13, 17] ms) is still inside.
    let first = Config { d_sla_token_s: 0.015, ..paper };
    let first = Config { sla: batchlab::config::SlaControllerConfig { rules: ControllerRules::First, ..first.sla.clone() }, ..first };
    assert_eq!(mentions(&run(first), "controller"), 0);
}

#[test]
fn both_notes_when_both_conditions_hold() {
    let r = run(Config { d_sla_token_s: 0.020, ..paper() });
    assert_eq!(r.notes, [CANNOT_BIND_20MS, SIGNAL_STUCK_PAPER]);
}
