//! The guided tour: five steps, each a link (a URL fragment naming its settings and the
//! job to run), so a step is shareable and opening it reproduces what it shows. The
//! texts ask the reader to look at a figure rather than quote numbers, so they stay true
//! when the model's numbers move.

/// Settings every step shares: the paper's preset, 22,000 BurstGPT-like requests on 4
/// GPUs, arrivals at 0.6 x the trace's rate: bursty enough that the batch schedulers
/// differ and SLAs are partly met.
const BASE: &str = "preset=paper&n=22000&gpus=4&k=8&load=rps&rps=0.6";

pub struct Step {
    pub title: &'static str,
    pub text: &'static str,
    /// What the step changes, on top of `BASE`, and the job it runs (`show=`).
    settings: &'static str,
}

impl Step {
    /// The step's link (a URL fragment, without '#').
    pub fn fragment(&self) -> String {
        format!("{BASE}&{}", self.settings)
    }
}

pub const STEPS: [Step; 5] = [
    Step {
        title: "Static batching's waste",
        text: "Static FIFO waits for a fixed number of requests and runs them together until the longest one ends. Look at the latency bars and the queue: in a burst, requests wait for whole batches, and short answers sit in a batch until its longest one finishes.",
        settings: "scheduler=static_fifo&show=run",
    },
    Step {
        title: "Dynamic batching",
        text: "Dynamic batching sizes each batch from what is waiting, capped by GPU memory (b_mem) and by the SLA controller's target (b_SLA). Same requests, same GPUs: compare the mean and p99 latency and the goodput with the previous step.",
        settings: "scheduler=dynamic_no_bins&show=run",
    },
    Step {
        title: "Multi-bin: an oracle, then a noisy predictor",
        text: "Multi-bin batching sorts requests into K bins by predicted output length so that a batch holds similar lengths. This step predicts perfectly (oracle). Then set the predictor to 'noisy' and raise sigma, and run again: how much does a worse prediction cost? Try the prompt-based predictor too.",
        settings: "scheduler=multi_bin_dynamic&predictor=oracle&show=run",
    },
    Step {
        title: "Tightening the SLA",
        text: "The per-token SLA is now 7 ms instead of 10 ms. The SLA controller shrinks batches to keep each token step under it; look at the token SLA violations and the batch sizes per bin, then move the SLA back up.",
        settings: "scheduler=multi_bin_dynamic&dtoken=0.007&show=run",
    },
    Step {
        title: "Continuous batching",
        text: "Continuous (iteration-level) batching admits a request at the next iteration instead of waiting for a batch to end. All six schedulers on the same requests: compare the time to first token and the SLO attainment.",
        settings: "scheduler=continuous&show=compare",
    },
];

/// The tour as an HTML list of links (each step's link runs it).
pub fn html() -> String {
    let mut out = String::from(r#"<ol class="tour">"#);
    for (i, step) in STEPS.iter().enumerate() {
        out += &format!(
            r##"<li><a href="#{}" data-tour-step="{}">{}</a> <span class="hint">{}</span></li>"##,
            batchlab_charts::escape(&step.fragment()),
            i + 1,
            batchlab_charts::escape(step.title),
            batchlab_charts::escape(step.text)
        );
    }
    out + "</ol>"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::UiState;

    #[test]
    fn the_tour_lists_each_step_as_a_link() {
        let html = html();
        assert_eq!(html.matches("<li>").count(), STEPS.len());
        for (i, step) in STEPS.iter().enumerate() {
            assert!(html.contains(&format!("data-tour-step=\"{}\">{}</a>", i + 1, batchlab_charts::escape(step.title))), "{}", step.title);
            assert!(html.contains(&batchlab_charts::escape(&step.fragment())));
        }
    }

    #[test]
    fn every_step_is_a_valid_link_that_names_a_job_and_changes_something() {
        let mut seen = Vec::new();
        for step in &STEPS {
            let fragment = step.fragment();
            let (state, problems) = UiState::from_fragment(&fragment);
            assert!(problems.is_empty(), "{}: {problems:?}", step.title);
            assert_eq!(state.requests, 22_000, "{}: the slider holds the step's N", step.title);
            let show = fragment.split('&').find_map(|kv| kv.strip_prefix("show="));
            assert!(matches!(show, Some("run" | "compare")), "{}", step.title);
            assert!(!seen.contains(&fragment), "{}: the same link as another step", step.title);
            seen.push(fragment);
        }
        // The steps show what their titles say.
        let state = |i: usize| UiState::from_fragment(&STEPS[i].fragment()).0;
        assert_eq!(state(0).scheduler.name(), "static_fifo");
        assert_eq!(state(1).scheduler.name(), "dynamic_no_bins");
        assert_eq!(state(2).predictor.name(), "oracle");
        assert!(state(3).d_sla_token_s < state(2).d_sla_token_s);
        assert!(state(4).scheduler.is_continuous());
    }
}
