//! The final paper's five figures from a small study: one SVG file each, a panel per
//! load (figures 1-3) or per measure (4, 5), and the data of the study in them.

use batchlab::config::{Config, Preset, Synthetic};
use batchlab::latency::CalibrationGrid;
use batchlab::plan::Hooks;
use batchlab::study::{run_study, StudySpec};
use batchlab::workload::Source;
use batchlab_charts::study::{published_figures, study_figures, FIG1, FIG2, FIG3, FIG4, FIG5};
use batchlab_charts::tick_label;

#[test]
fn five_figures_with_a_panel_per_load() {
    let mut spec = StudySpec::new(Config::preset(Preset::Paper));
    spec.max_requests = 1_000;
    spec.max_gpus = 4;
    spec.loads = [true, false, true];
    let grid = CalibrationGrid::for_preset(Preset::Paper);
    let study = run_study(Source::Synthetic(Synthetic::BurstGpt), &grid, &spec, Hooks { clock: &|| 0.0, progress: &mut |_| true }).unwrap();
    let figures = study_figures(&study);
    let names: Vec<&str> = figures.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(names, [FIG1, FIG2, FIG3, FIG4, FIG5]);
    for (name, svg) in &figures {
        assert!(svg.starts_with("<svg xmlns") && svg.ends_with("</svg>"), "{name}");
        assert_eq!(svg.matches("<svg").count(), svg.matches("</svg>").count(), "{name}");
        assert!(!svg.contains("NaN") && !svg.contains("style="), "{name}");
        // One outer figure around its panels: 2 loads for 1-3, 3 measures for 4 and 5.
        let panels = if [FIG1, FIG2, FIG3].contains(&name.as_str()) { 2 } else { 3 };
        assert_eq!(svg.matches("<svg").count(), 1 + panels, "{name}");
    }
    let fig = |n: &str| &figures.iter().find(|f| f.0 == n).unwrap().1;
    // Figure 1: a line per K in {1, 4, 8, 16} per load, over 3 GPU counts each.
    assert_eq!(fig(FIG1).matches("<polyline").count(), 2 * 4);
    assert!(fig(FIG1).contains("High load (x100) (1K requests)") && fig(FIG1).contains("Low load (x1) (1K requests)"));
    // Figure 2: the 5% and 10% targets in each panel.
    assert_eq!(fig(FIG2).matches("5% target").count(), 2);
    // Figure 3: points only, 6 K x 3 GPU counts per load.
    assert_eq!(fig(FIG3).matches("<polyline").count(), 0);
    assert_eq!(fig(FIG3).matches("<circle").count(), 2 * 6 * 3);
    // Figure 4: 4 methods x 2 loads bars per measure, each titled with its value.
    assert_eq!(fig(FIG4).matches("<title>").count(), 3 * 4 * 2);
    let static_fifo = &study.loads[0].comparison[0].result.metrics;
    assert!(fig(FIG4).contains(&format!("<title>{}</title>", tick_label(static_fifo.throughput_tokens_per_s))));
    // Figure 5: 5 K bars, 2 x 5 GPU bars, 5 seed bars.
    assert_eq!(fig(FIG5).matches("<title>").count(), 5 + 10 + 5);
    assert!(fig(FIG5).contains("Seeds: SLA CV"));
}

#[test]
fn the_published_figures_draw_the_published_numbers() {
    let figures = published_figures();
    let names: Vec<&str> = figures.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(names, [FIG1, FIG2, FIG3, FIG4, FIG5].map(|f| f.replace("figures/", "figures/published/")));
    for (name, svg) in &figures {
        assert!(svg.contains("Published (f1be833): "), "{name}");
        assert_eq!(svg.matches("<svg").count(), 4, "{name}: three panels");
        assert!(!svg.contains("NaN"), "{name}");
    }
    // Figure 1 at the published 100K: a line per K in {1, 4, 8, 16} over 8 GPU counts, per load.
    assert!(figures[0].1.contains("High load (x100) (100K requests)"));
    assert_eq!(figures[0].1.matches("<polyline").count(), 3 * 4);
    // Figure 4: the published x100 static FIFO throughput at 100K requests, 498.8 tokens/s.
    assert!(figures[3].1.contains(&format!("<title>{}</title>", tick_label(498.8))));
}
