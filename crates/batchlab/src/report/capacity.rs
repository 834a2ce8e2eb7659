//! A capacity search's files: `capacity.csv` (one row per configuration: its capacity as a
//! load factor and an arrival rate) and `capacity_points.csv` (every load it ran, with
//! its attainment: the "SLO attainment vs load" curve).

use super::{fmt_f64, text};
use crate::capacity::{Capacity, CapacitySpec};

pub const CAPACITY_FILE: &str = "capacity.csv";
pub const POINTS_FILE: &str = "capacity_points.csv";

/// The two files, for `(label, capacity)` rows (e.g. one per scheduler).
pub fn capacity_files(spec: &CapacitySpec, rows: &[(String, Capacity)]) -> Vec<(String, String)> {
    let opt = |x: Option<f64>| x.map_or(String::new(), fmt_f64);
    let mut summary = String::from("label,target,tolerance,capacity_factor,capacity_rps,converged,runs\n");
    let mut points = String::from("label,factor,arrival_rate_rps,attainment\n");
    for (label, c) in rows {
        summary.push_str(&format!(
            "{},{},{},{},{},{},{}\n",
            text(label),
            fmt_f64(spec.target),
            fmt_f64(spec.tolerance),
            opt(c.factor),
            opt(c.arrival_rate_rps),
            c.converged,
            c.points.len()
        ));
        for p in &c.points {
            points.push_str(&format!("{},{},{},{}\n", text(label), fmt_f64(p.factor), fmt_f64(p.arrival_rate_rps), fmt_f64(p.attainment)));
        }
    }
    vec![(CAPACITY_FILE.to_string(), summary), (POINTS_FILE.to_string(), points)]
}
