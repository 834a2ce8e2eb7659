//! `batchlab stress` writes the plan beside dd5f07f's published runs and says how many
//! matched: one row per run, published cells where a published run has the configuration.

mod common;

use common::*;

#[test]
fn stress_writes_the_published_comparison_with_a_row_per_run() {
    let dir = TempDir::new("stress-published");
    let out = dir.path("out");
    let args = ["stress", "--preset", "compat", "--max-requests", "2000", "--max-gpus", "4", "--output", "plan", "--out", out.to_str().unwrap()];
    let o = batchlab(&args);
    assert_ok(&o);
    let (_, runs) = csv_rows(&read(&out.join("plan_all_results.csv")));
    let (header, rows) = csv_rows(&read(&out.join("plan_published_vs_reproduced.csv")));
    assert_eq!(rows.len(), runs.len());
    // Published: step 1's 1,000-request runs (5); not: step 2 at 2,000 requests, and step 3.
    let matched: Vec<&str> = rows.iter().filter(|r| !column(&header, r, "published_file").is_empty()).map(|r| column(&header, r, "step")).collect();
    assert_eq!(matched, ["1"; 5]);
    assert!(rows.iter().all(|r| column(&header, r, "same_setting") == if column(&header, r, "step") == "1" { "true" } else { "" }));
    let text = stdout(&o);
    assert!(text.contains(&format!("Published (dd5f07f): 5 of {} runs", runs.len())), "{text}");
    assert!(text.contains("plan_published_vs_reproduced.csv"), "{text}");
}
