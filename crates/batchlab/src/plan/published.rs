//! The published results of the seed's stress plan, shipped as reference data: the
//! `_all_results.csv` files of TravisLeeTS/llm-scheduler-sim at commit dd5f07f, as
//! published. `comprehensive_stress_results_optimized_all_results.csv` holds 46 runs at
//! x200 load with a 1.0 s request deadline: the 30 distinct configurations of the 34-run
//! plan at K = 8 (step 1's 1M-request runs on 1, 2, 4 GPUs are step 2's; step 3's K = 8
//! on 100 GPUs is step 2's 100-GPU run), run on 2025-11-24 from 20:12, and 16 runs of an
//! earlier K = 4 plan (18:38-18:45, two decimals). `comprehensive_research_real_timestamps_all_results.csv`
//! holds 14 runs on the trace's own timestamps. They came from the original's own input
//! (`data/BurstGPT_sample.csv`, not in its repository), so a plan on the synthetic
//! default compares with them in shape only.

use super::PlanRun;
use crate::config::{Config, Load, SchedulerKind};
use crate::csv_input::reference::{parse, PublishedRow};
use crate::run::RunResult;

/// Where the numbers come from, for a caption.
pub const SOURCE: &str = "TravisLeeTS/llm-scheduler-sim at dd5f07f (comprehensive_stress_results_optimized_all_results.csv, comprehensive_research_real_timestamps_all_results.csv)";

/// (file name, contents).
const FILES: [(&str, &str); 2] = [
    (
        "comprehensive_stress_results_optimized_all_results.csv",
        include_str!("published/comprehensive_stress_results_optimized_all_results.csv"),
    ),
    (
        "comprehensive_research_real_timestamps_all_results.csv",
        include_str!("published/comprehensive_research_real_timestamps_all_results.csv"),
    ),
];

/// One published run: its configuration as the plan's runs are matched on, and its row.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishedRun {
    pub file: &'static str,
    pub scheduler: SchedulerKind,
    /// Arrivals at the trace's own timestamps (`use_real_timestamps`), else scaled.
    pub real_timestamps: bool,
    /// The arrival scaling factor; `None` with real timestamps.
    pub rps_scaling: Option<f64>,
    /// The request deadline (`d_sla`, seconds).
    pub d_sla_s: f64,
    pub row: PublishedRow,
}

impl PublishedRun {
    /// The run's wall-clock date as published (it tells the two plan versions apart).
    pub fn timestamp(&self) -> &str {
        self.row.text("timestamp").unwrap_or("")
    }

    /// Whether `config` is this run's place in the plan: scheduler, N, GPUs, K (for a
    /// scheduler with bins: the published binless runs say K = 1) and whether arrivals
    /// keep their timestamps. Load factor and deadline are compared by `same_setting`.
    pub fn matches(&self, config: &Config) -> bool {
        self.scheduler == config.scheduler
            && self.row.num_requests == config.requests
            && self.row.num_gpus == config.gpus
            && (!config.scheduler.uses_bins() || self.row.k_bins == config.k_bins)
            && self.real_timestamps == matches!(config.load, Load::RealTimestamps)
    }

    /// Whether `config` also has the published load factor and request deadline.
    pub fn same_setting(&self, config: &Config) -> bool {
        let load = match config.load {
            Load::RpsScaling { factor } => Some(factor),
            Load::RealTimestamps => None,
        };
        load == self.rps_scaling && config.d_sla_request_s == self.d_sla_s
    }

    /// The published run as a result: its configuration and the metrics the file holds
    /// (the rest left at their defaults), so one table shows both sides alike.
    /// `capacity_under_sla_rps` holds the published `capacity_qps_under_sla`: requests
    /// meeting the request deadline per second (dd5f07f's definition).
    pub fn as_result(&self) -> RunResult {
        let r = &self.row;
        let config = Config {
            scheduler: self.scheduler,
            requests: r.num_requests,
            gpus: r.num_gpus,
            k_bins: r.k_bins,
            load: self.rps_scaling.map_or(Load::RealTimestamps, |factor| Load::RpsScaling { factor }),
            d_sla_request_s: self.d_sla_s,
            ..Config::default()
        };
        let mut result = RunResult { config, workload: "data/BurstGPT_sample.csv".to_string(), ..RunResult::default() };
        let m = &mut result.metrics;
        let v = |c: &str| r.value(c).unwrap_or(f64::NAN);
        m.requests_completed = r.value("num_completed").map_or(r.num_requests as u64, |x| x as u64);
        m.makespan_s = v("total_time");
        m.throughput_rps = v("throughput_requests_per_sec");
        m.throughput_tokens_per_s = v("throughput_tokens_per_sec");
        m.latency_mean_s = v("avg_latency");
        m.latency_p50_s = v("p50_latency");
        m.latency_p95_s = v("p95_latency");
        m.latency_p99_s = v("p99_latency");
        m.latency_max_s = v("max_latency");
        m.queue_delay_mean_s = v("avg_queueing_delay");
        m.service_time_mean_s = v("avg_service_time");
        m.request_sla_violation_rate = v("sla_violation_rate");
        m.capacity_under_sla_rps = v("capacity_qps_under_sla");
        m.gpu_util_mean = v("avg_gpu_utilization");
        m.gpu_util_min = v("min_gpu_utilization");
        m.gpu_util_max = v("max_gpu_utilization");
        m.batch_count = r.value("num_batches").map_or(0, |x| x as u64);
        m.batch_size_mean = v("avg_batch_size");
        result
    }
}

/// Every published run, in file order. The files are fixed and the tests below read all
/// of them, so a row whose scheduler did not read could only be an edit of the data: it
/// is left out, and the tests fail.
pub fn runs() -> Vec<PublishedRun> {
    FILES
        .iter()
        .flat_map(|&(file, text)| {
            parse(text, file).into_iter().filter_map(move |row| {
                Some(PublishedRun {
                    file,
                    scheduler: SchedulerKind::parse(row.text("scheduler_type")?).ok()?,
                    real_timestamps: row.text("use_real_timestamps")? == "True",
                    rps_scaling: row.value("rps_scaling"),
                    d_sla_s: row.value("d_sla")?,
                    row,
                })
            })
        })
        .collect()
}

/// Each run of a plan with the published run of its configuration, if any (a failed run
/// has none: its configuration is not kept).
pub fn pair<'a>(runs: &'a [PlanRun], published: &'a [PublishedRun]) -> Vec<(&'a PlanRun, Option<&'a PublishedRun>)> {
    runs.iter()
        .map(|run| {
            let found = run.result.as_ref().ok().and_then(|r| published.iter().find(|p| p.matches(&r.config)));
            (run, found)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Preset;

    #[test]
    fn both_files_read_whole_and_every_configuration_is_one_run() {
        let runs = runs();
        let count = |file: &str| runs.iter().filter(|r| r.file.starts_with(file)).count();
        assert_eq!((count("comprehensive_stress"), count("comprehensive_research")), (46, 14));
        // The 34-run plan at K = 8 is the runs of 2025-11-24 from 20:12.
        let plan = runs.iter().filter(|r| r.timestamp().starts_with("2025-11-24 20:")).count();
        assert_eq!(plan, 30);
        for (i, a) in runs.iter().enumerate() {
            let config = a.as_result().config;
            assert!(a.matches(&config), "row {i} matches its own configuration");
            let twins: Vec<usize> = (0..runs.len()).filter(|&j| runs[j].matches(&config)).collect();
            assert_eq!(twins, [i], "one published run per configuration");
        }
    }

    #[test]
    fn a_known_run_is_found_by_its_configuration() {
        let runs = runs();
        let config = Config { scheduler: SchedulerKind::MultiBinDynamic, requests: 1_000_000, gpus: 100, k_bins: 32, ..Config::preset(Preset::Compat) };
        let p = runs.iter().find(|p| p.matches(&config)).expect("step 3's K = 32 on 100 GPUs");
        assert!(p.same_setting(&config));
        assert_eq!(p.timestamp(), "2025-11-24 20:31:01");
        // The request deadline of `paper` is not the published one; the match stands.
        let paper = Config { d_sla_request_s: 20.0, ..config.clone() };
        assert!(p.matches(&paper) && !p.same_setting(&paper));
        // Binless schedulers match whatever the plan's K; binned ones need theirs.
        let fifo = Config { scheduler: SchedulerKind::StaticFifo, requests: 1_000, gpus: 1, k_bins: 8, ..config.clone() };
        assert!(runs.iter().any(|p| p.matches(&fifo)));
        let k3 = Config { k_bins: 3, ..config.clone() };
        assert!(!runs.iter().any(|p| p.matches(&k3)));
        let real = Config { load: Load::RealTimestamps, ..fifo };
        assert!(runs.iter().find(|p| p.matches(&real)).is_some_and(|p| p.real_timestamps && p.same_setting(&real)));
    }
}
