//! `batchlab timeline`: its two files with their headers, boxes within the window, the
//! page's bounds (the first 32 GPUs, the 3,000 boxes that start first), the page's
//! default window, and a bad window as a one-line error.

mod common;

use batchlab::config::{Config, Preset, SchedulerKind};
use batchlab::report::timeline::BOX_COLUMNS;
use batchlab::session::{Inputs, Session};
use batchlab::timeline::{busiest_window, MAX_BOXES, MAX_LANES};
use batchlab::token::{now, CpuTokenPass};
use common::*;

fn number(header: &[String], row: &[String], name: &str) -> f64 {
    column(header, row, name).parse().unwrap_or_else(|_| panic!("{name}: {row:?}"))
}

#[test]
fn a_window_past_the_bounds_keeps_the_first_gpus_and_the_boxes_that_start_first() {
    let dir = TempDir::new("timeline-bounds");
    let out = dir.path("out");
    // 40 GPUs and batches of 8: more boxes than a timeline holds on its 32 lanes.
    let args = ["timeline", "--requests", "40000", "--gpus", "40", "--scheduler", "static_fifo", "--from", "100", "--to", "1000000"];
    let o = batchlab(&[&args[..], &["--out", out.to_str().unwrap()]].concat());
    assert_ok(&o);
    assert!(stdout(&o).contains("left out"), "{}", stdout(&o));
    let (header, rows) = csv_rows(&read(&out.join("timeline_boxes.csv")));
    assert_eq!(header, BOX_COLUMNS);
    assert_eq!(rows.len(), MAX_BOXES);
    let mut last_start = 0.0;
    for row in &rows {
        let gpu: u32 = column(&header, row, "gpu").parse().unwrap();
        assert!(gpu < MAX_LANES, "{row:?}");
        let (start, end) = (number(&header, row, "start_s"), number(&header, row, "end_s"));
        assert!(start < 1e6 && end > 100.0 && start <= end, "{row:?}");
        assert!(start >= last_start, "by start: {row:?}");
        last_start = start;
        assert_eq!(column(&header, row, "kind"), "batch");
        let size: usize = column(&header, row, "size").parse().unwrap();
        let members = column(&header, row, "members").split(';').count();
        assert!((1..=8).contains(&size) && members == size.min(5), "{row:?}");
    }
    let (series_header, samples) = csv_rows(&read(&out.join("timeline_series.csv")));
    assert_eq!(series_header, ["t_s", "queue_bin_0", "memory_reserved_share"]);
    assert!(!samples.is_empty());
}

#[test]
fn the_default_window_is_the_runs_busiest_minute_as_on_the_page() {
    let dir = TempDir::new("timeline-default");
    let out = dir.path("out");
    let o = batchlab(&["timeline", "--requests", "5000", "--gpus", "2", "--k", "4", "--out", out.to_str().unwrap()]);
    assert_ok(&o);
    let config = Config { requests: 5_000, gpus: 2, k_bins: 4, scheduler: SchedulerKind::MultiBinDynamic, ..Config::preset(Preset::Paper) };
    let session = Session::open(&Inputs::default()).unwrap();
    let run = now(session.run(Preset::Paper, &config, &|| 0.0, CpuTokenPass)).unwrap();
    let w = busiest_window(&run.result.timeseries, 60.0);
    let (header, rows) = csv_rows(&read(&out.join("timeline_boxes.csv")));
    assert!(!rows.is_empty());
    for row in &rows {
        let (start, end) = (number(&header, row, "start_s"), number(&header, row, "end_s"));
        assert!(start < w.to_s && (end > w.from_s || start >= w.from_s), "{row:?} outside {w:?}");
        assert!(column(&header, row, "bin").parse::<u32>().unwrap() < 4);
    }
    let (series_header, samples) = csv_rows(&read(&out.join("timeline_series.csv")));
    assert_eq!(series_header.len(), 1 + 4 + 1);
    // The first sample is the last at or before the window's start; the rest are inside.
    let times: Vec<f64> = samples.iter().map(|s| number(&series_header, s, "t_s")).collect();
    assert!(times[0] <= w.from_s && times[1..].iter().all(|&t| t > w.from_s && t <= w.to_s), "{times:?} in {w:?}");
}

#[test]
fn a_bad_window_is_a_one_line_error() {
    assert_usage_error(&batchlab(&["timeline", "--from", "5", "--to", "2"]), &["--to", "after --from"]);
    assert_usage_error(&batchlab(&["timeline", "--from=-1"]), &["--from", "0 or more"]);
    assert_usage_error(&batchlab(&["timeline", "--to", "nan"]), &["--to"]);
}
