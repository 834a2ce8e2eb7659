//! The latency (service-time) model (MODEL.md §2): calibration grids, the least-squares
//! fit of `T(b, L) = alpha + beta * L * h(b)`, `h(b) = 1 + gamma * (b - 1) / b`, and
//! bilinear interpolation of the grid itself.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::{Config, IterationCost, LatencyMode, Preset};
use crate::csv_input::{Field, Rows, Table};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CalibrationPoint {
    pub batch_size: u32,
    pub max_seq_len: u32,
    pub latency_s: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationGrid {
    /// Where it came from: "built-in rtx4080-qwen3-1.7b", a file name, ...
    pub name: String,
    pub points: Vec<CalibrationPoint>,
}

/// Fitted parameters, seconds and seconds per token; `r2` over the grid.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LatencyFit {
    pub alpha_s: f64,
    pub beta_s: f64,
    pub gamma: f64,
    pub r2: f64,
}

impl LatencyFit {
    /// `h(b) = 1 + gamma * (b - 1) / b`.
    pub fn h(&self, b: u32) -> f64 {
        let b = b.max(1) as f64;
        1.0 + self.gamma * (b - 1.0) / b
    }
}

/// The batch sizes and lengths of both built-in grids.
const GRID_BATCHES: [u32; 6] = [1, 2, 4, 8, 16, 32];
const GRID_LENGTHS: [u32; 5] = [128, 256, 512, 1024, 2048];

/// MODEL.md §2: Qwen3-1.7B FP16 on an RTX 4080 12 GB, seconds, mean of 5 trials;
/// rows follow `GRID_BATCHES`, columns `GRID_LENGTHS`.
const RTX4080_SECONDS: [[f64; 5]; 6] = [
    [0.80, 1.55, 3.05, 6.05, 12.05],
    [0.88, 1.71, 3.36, 6.66, 13.26],
    [0.96, 1.86, 3.66, 7.26, 14.46],
    [1.00, 1.94, 3.82, 7.58, 15.10],
    [1.02, 1.98, 3.90, 7.74, 15.42],
    [1.04, 2.01, 3.95, 7.83, 15.59],
];

/// The grid CSV's columns and their accepted spellings, canonical first (compared by
/// `csv_input`'s one header rule: case, spaces and punctuation ignored).
const GRID_FIELDS: [Field; 3] = [
    Field { spellings: &["batch_size", "batch"], required: true },
    Field { spellings: &["max_seq_len", "seq_len"], required: true },
    Field { spellings: &["mean_latency_sec", "latency", "latency_s", "mean_latency_s"], required: true },
];

/// Below this `1 - r^2` between the two centred regressors (L and L(b-1)/b), the
/// normal equations are treated as singular: the grid cannot separate beta from gamma.
const SINGULAR_TOLERANCE: f64 = 1e-10;

/// Relative size (to the mean latency) below which a negative fitted alpha is round-off.
const ROUND_OFF: f64 = 1e-12;

/// Grid-mode floor for a batch's service time when the fit's alpha is zero: extrapolating
/// far below the grid must never give a zero or negative time.
const MIN_BATCH_TIME_S: f64 = 1e-6;

impl CalibrationGrid {
    /// The grid `preset` uses unless the user loads one.
    pub fn for_preset(preset: Preset) -> Self {
        match preset {
            Preset::Paper => Self::measured_rtx4080(),
            Preset::FirstResults | Preset::Compat => Self::first_results_synthetic(),
            Preset::H100Llama => Self::roofline(&Config::preset(preset)),
        }
    }

    /// A grid for the batch schedulers from the iteration roofline of `cfg`: a batch of
    /// b sequences of L tokens steps L times (prompts at the decode rate, as the batch
    /// model has it), each step reading the weights and computing b tokens. The context
    /// reads are left out: they grow with L squared, which the batch model's linear form
    /// cannot hold (its fit would need a negative alpha).
    pub fn roofline(cfg: &Config) -> Self {
        let c = IterationCost::roofline(cfg);
        let mut points = Vec::with_capacity(GRID_BATCHES.len() * GRID_LENGTHS.len());
        for &batch_size in &GRID_BATCHES {
            for &max_seq_len in &GRID_LENGTHS {
                let (b, l) = (f64::from(batch_size), f64::from(max_seq_len));
                let latency_s = l * (c.c0_s + c.decode_seq_s * b);
                points.push(CalibrationPoint { batch_size, max_seq_len, latency_s });
            }
        }
        let it = &cfg.iteration;
        CalibrationGrid { name: format!("built-in roofline {} / {} (batch steps)", it.hardware.name, it.model.name), points }
    }

    /// Qwen3-1.7B FP16 on an RTX 4080 12 GB, measured by the original authors (MODEL.md §2).
    pub fn measured_rtx4080() -> Self {
        let mut points = Vec::with_capacity(GRID_BATCHES.len() * GRID_LENGTHS.len());
        for (row, &batch_size) in RTX4080_SECONDS.iter().zip(GRID_BATCHES.iter()) {
            for (&latency_s, &max_seq_len) in row.iter().zip(GRID_LENGTHS.iter()) {
                points.push(CalibrationPoint { batch_size, max_seq_len, latency_s });
            }
        }
        CalibrationGrid { name: "built-in rtx4080-qwen3-1.7b (measured)".into(), points }
    }

    /// The first results' grid: exactly the formula with alpha 15 ms, beta 0.3 ms, gamma 0.4.
    pub fn first_results_synthetic() -> Self {
        let formula = LatencyFit { alpha_s: 0.015, beta_s: 0.0003, gamma: 0.4, r2: 1.0 };
        let mut points = Vec::with_capacity(GRID_BATCHES.len() * GRID_LENGTHS.len());
        for &batch_size in &GRID_BATCHES {
            for &max_seq_len in &GRID_LENGTHS {
                let latency_s = formula.alpha_s + formula.beta_s * max_seq_len as f64 * formula.h(batch_size);
                points.push(CalibrationPoint { batch_size, max_seq_len, latency_s });
            }
        }
        CalibrationGrid { name: "built-in first-results (synthetic)".into(), points }
    }

    /// Parse a grid CSV with columns batch_size, max_seq_len, mean_latency_sec (aliases
    /// and extra columns allowed), then check that it can be fitted. The grid's name is
    /// `file`.
    pub fn parse_csv(bytes: &[u8], file: &str) -> Result<Self> {
        let (mut table, columns) = Table::open(bytes, file, &GRID_FIELDS, Rows::Ragged)?;
        let [batch_col, length_col, latency_col] = [0, 1, 2].map(|i| columns[i].unwrap_or_default());

        let mut points = Vec::new();
        let mut first_row_of: BTreeMap<(u32, u32), usize> = BTreeMap::new();
        let mut record = csv::ByteRecord::new();
        while let Some(row) = table.next_row(&mut record)? {
            let cell = |col: usize| table.cell(&record, row, col);
            let batch_size = cell(batch_col).positive_integer()?;
            let max_seq_len = cell(length_col).positive_integer()?;
            let latency_s = cell(latency_col).number()?;
            if !(latency_s.is_finite() && latency_s > 0.0) {
                return Err(cell(latency_col)
                    .error(format!("latency must be a positive finite number of seconds, got {latency_s}")));
            }
            if let Some(first) = first_row_of.insert((batch_size, max_seq_len), row) {
                return Err(Error::input(
                    file,
                    Some(row),
                    None,
                    format!("duplicate point batch_size {batch_size}, max_seq_len {max_seq_len} (first at row {first})"),
                ));
            }
            points.push(CalibrationPoint { batch_size, max_seq_len, latency_s });
        }
        if points.len() < 3 {
            return Err(Error::input(
                file,
                None,
                None,
                format!("only {} data row(s); a calibration grid needs at least 3 (batch_size, max_seq_len) points", points.len()),
            ));
        }
        let grid = CalibrationGrid { name: file.to_string(), points };
        grid.fit()?;
        Ok(grid)
    }

    /// Least-squares fit of alpha, beta, gamma. `T = alpha + beta * L + c * L (b-1)/b`
    /// is linear in (alpha, beta, c) with `c = beta * gamma`; centring the columns
    /// eliminates alpha and leaves a well-conditioned 2x2 system for (beta, c).
    pub fn fit(&self) -> Result<LatencyFit> {
        let fail = |msg: String| Error::input(&self.name, None, None, msg);
        let points = &self.points;
        if points.len() < 3 {
            return Err(fail(format!("{} point(s); fitting alpha, beta and gamma needs at least 3", points.len())));
        }
        for p in points {
            if p.batch_size == 0 || p.max_seq_len == 0 || !(p.latency_s.is_finite() && p.latency_s > 0.0) {
                return Err(fail(format!(
                    "invalid point batch_size {}, max_seq_len {}, latency {} s: all must be positive",
                    p.batch_size, p.max_seq_len, p.latency_s
                )));
            }
        }
        let first = points[0];
        if points.iter().all(|p| p.batch_size == first.batch_size) {
            return Err(fail(format!(
                "every point has batch_size {}; fitting gamma needs at least two batch sizes",
                first.batch_size
            )));
        }
        if points.iter().all(|p| p.max_seq_len == first.max_seq_len) {
            return Err(fail(format!(
                "every point has max_seq_len {}; separating alpha from beta needs at least two lengths",
                first.max_seq_len
            )));
        }

        // Regressors x = L, z = L (b-1)/b and response y = T, centred on their means.
        let row = |p: &CalibrationPoint| {
            let l = p.max_seq_len as f64;
            let b = p.batch_size as f64;
            (l, l * (b - 1.0) / b, p.latency_s)
        };
        let n = points.len() as f64;
        let (mut mx, mut mz, mut my) = (0.0, 0.0, 0.0);
        for p in points {
            let (x, z, y) = row(p);
            mx += x;
            mz += z;
            my += y;
        }
        mx /= n;
        mz /= n;
        my /= n;
        let (mut sxx, mut szz, mut sxz, mut sxy, mut szy, mut syy) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
        for p in points {
            let (x, z, y) = row(p);
            let (dx, dz, dy) = (x - mx, z - mz, y - my);
            sxx += dx * dx;
            szz += dz * dz;
            sxz += dx * dz;
            sxy += dx * dy;
            szy += dz * dy;
            syy += dy * dy;
        }
        let det = sxx * szz - sxz * sxz;
        if !(sxx > 0.0 && szz > 0.0 && det > SINGULAR_TOLERANCE * sxx * szz) {
            return Err(fail(
                "the points cannot separate beta from gamma (singular least-squares system); \
                 measure at least two batch sizes at each of two or more lengths"
                    .into(),
            ));
        }
        // (alpha, beta, c) from the centred cross-products with the response and its mean.
        let solve = |sx_resp: f64, sz_resp: f64, mean_resp: f64| {
            let beta = (sx_resp * szz - sz_resp * sxz) / det;
            let c = (sz_resp * sxx - sx_resp * sxz) / det;
            (mean_resp - beta * mx - c * mz, beta, c)
        };
        let (mut alpha, mut beta, mut c) = solve(sxy, szy, my);
        // One step of iterative refinement: fit the residuals and add the correction. The
        // intercept is an extrapolation to L = 0 from the means, so it loses a few digits
        // to cancellation; refitting the (small) residuals wins most of them back.
        let (mut sxr, mut szr, mut mr) = (0.0, 0.0, 0.0);
        for p in points {
            let (x, z, y) = row(p);
            let r = y - (alpha + beta * x + c * z);
            sxr += (x - mx) * r;
            szr += (z - mz) * r;
            mr += r;
        }
        let (d_alpha, d_beta, d_c) = solve(sxr, szr, mr / n);
        alpha += d_alpha;
        beta += d_beta;
        c += d_c;
        if !(beta.is_finite() && c.is_finite() && alpha.is_finite()) {
            return Err(fail("the least-squares fit is not finite".into()));
        }
        if beta <= 0.0 {
            return Err(fail(format!(
                "fitted beta is {beta} s/token, not positive: latency must grow with max_seq_len"
            )));
        }
        let gamma = c / beta;
        // h(b) -> 1 + gamma as b grows; at gamma <= -1 large batches would take no time.
        if gamma <= -1.0 {
            return Err(fail(format!(
                "fitted gamma is {gamma}; below -1 large batches would get a non-positive decode time"
            )));
        }
        // A zero intercept comes back as +-1e-16 or so: that is round-off, not a negative cost.
        if alpha < 0.0 && alpha >= -ROUND_OFF * my {
            alpha = 0.0;
        }
        if alpha < 0.0 {
            return Err(fail(format!(
                "fitted alpha is {alpha} s, negative: the grid implies a batch of short requests takes no time; \
                 check the latency units (seconds)"
            )));
        }
        let mut ss_res = 0.0;
        for p in points {
            let (x, z, y) = row(p);
            let r = y - (alpha + beta * x + c * z);
            ss_res += r * r;
        }
        let r2 = if syy > 0.0 { 1.0 - ss_res / syy } else { 1.0 };
        if !(gamma.is_finite() && r2.is_finite()) {
            return Err(fail("the least-squares fit is not finite".into()));
        }
        Ok(LatencyFit { alpha_s: alpha, beta_s: beta, gamma, r2 })
    }
}

/// What the engine asks: the service time of a batch and its per-token decode time.
#[derive(Debug, Clone, PartialEq)]
pub struct LatencyModel {
    pub fit: LatencyFit,
    pub mode: LatencyMode,
    pub grid: CalibrationGrid,
    /// Grid mode only (empty in fit mode): the sorted distinct batch sizes and lengths,
    /// and `table[i * lengths.len() + j]` = T(batches[i], lengths[j]).
    batches: Vec<f64>,
    lengths: Vec<f64>,
    table: Vec<f64>,
}

impl LatencyModel {
    pub fn new(grid: CalibrationGrid, mode: LatencyMode) -> Result<Self> {
        let fit = grid.fit()?;
        let (batches, lengths, table) = match mode {
            LatencyMode::Fit => (Vec::new(), Vec::new(), Vec::new()),
            LatencyMode::Grid => dense_table(&grid)?,
        };
        Ok(LatencyModel { fit, mode, grid, batches, lengths, table })
    }

    /// Service time of a batch of `b` requests whose longest has `max_len` tokens.
    pub fn batch_time_s(&self, b: u32, max_len: u32) -> f64 {
        match self.mode {
            LatencyMode::Fit => self.fit.alpha_s + self.fit.beta_s * max_len as f64 * self.fit.h(b),
            LatencyMode::Grid => self.interpolate(b, max_len),
        }
    }

    /// Fixed per-batch cost (prefill / first token): the fit's alpha in both modes.
    pub fn alpha_s(&self) -> f64 {
        self.fit.alpha_s
    }

    /// Per-token decode time of that batch: `beta * h(b)` in fit mode; in grid mode
    /// `(T(b, L) - alpha) / L`, so that `alpha + step * L == T(b, L)` in both modes.
    pub fn token_step_s(&self, b: u32, max_len: u32) -> f64 {
        match self.mode {
            LatencyMode::Grid if max_len > 0 => (self.interpolate(b, max_len) - self.fit.alpha_s) / max_len as f64,
            _ => self.fit.beta_s * self.fit.h(b),
        }
    }

    /// Bilinear in (b, L) over the grid cell around the point; past an edge the edge
    /// cell is extended linearly. Floored at alpha: no batch finishes before its first
    /// token, so the grid-mode token step is never negative.
    fn interpolate(&self, b: u32, max_len: u32) -> f64 {
        let (i, tb) = segment(&self.batches, b.max(1) as f64);
        let (j, tl) = segment(&self.lengths, max_len as f64);
        let n = self.lengths.len();
        let t00 = self.table[i * n + j];
        let t01 = self.table[i * n + j + 1];
        let t10 = self.table[(i + 1) * n + j];
        let t11 = self.table[(i + 1) * n + j + 1];
        let t = t00 + (t10 - t00) * tb + (t01 - t00) * tl + (t11 - t10 - t01 + t00) * tb * tl;
        t.max(self.fit.alpha_s).max(MIN_BATCH_TIME_S)
    }
}

/// The segment `[axis[k], axis[k+1]]` to use for `v` (the first or last one outside the
/// axis) and the position of `v` in it, 0 at `axis[k]` and 1 at `axis[k+1]`.
fn segment(axis: &[f64], v: f64) -> (usize, f64) {
    let k = axis.partition_point(|&a| a <= v).clamp(1, axis.len() - 1) - 1;
    (k, (v - axis[k]) / (axis[k + 1] - axis[k]))
}

/// The sorted axes and dense table of a full rectangular grid.
fn dense_table(grid: &CalibrationGrid) -> Result<(Vec<f64>, Vec<f64>, Vec<f64>)> {
    let fail = |msg: String| Error::field("latency_mode", format!("grid interpolation of '{}': {msg}", grid.name));
    let mut batches: Vec<u32> = grid.points.iter().map(|p| p.batch_size).collect();
    let mut lengths: Vec<u32> = grid.points.iter().map(|p| p.max_seq_len).collect();
    batches.sort_unstable();
    batches.dedup();
    lengths.sort_unstable();
    lengths.dedup();
    // fit() has already required two distinct values on each axis.
    let n = lengths.len();
    let mut table = vec![f64::NAN; batches.len() * n];
    for p in &grid.points {
        let i = batches.binary_search(&p.batch_size).unwrap_or_default();
        let j = lengths.binary_search(&p.max_seq_len).unwrap_or_default();
        if !table[i * n + j].is_nan() {
            return Err(fail(format!("duplicate point batch_size {}, max_seq_len {}", p.batch_size, p.max_seq_len)));
        }
        table[i * n + j] = p.latency_s;
    }
    if let Some(k) = table.iter().position(|t| t.is_nan()) {
        return Err(fail(format!(
            "needs a full rectangular grid ({} batch sizes x {} lengths) but batch_size {}, max_seq_len {} is missing; use the latency mode 'fit'",
            batches.len(),
            n,
            batches[k / n],
            lengths[k % n]
        )));
    }
    let as_f64 = |v: Vec<u32>| v.into_iter().map(f64::from).collect();
    Ok((as_f64(batches), as_f64(lengths), table))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(batch_size: u32, max_seq_len: u32, latency_s: f64) -> CalibrationPoint {
        CalibrationPoint { batch_size, max_seq_len, latency_s }
    }

    fn grid(points: Vec<CalibrationPoint>) -> CalibrationGrid {
        CalibrationGrid { name: "g.csv".into(), points }
    }

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(1e-300)
    }

    /// A 2 x 2 grid whose bilinear values are easy by hand: T = 1, 2 at b = 1 and 3, 5
    /// at b = 3, for L = 100, 200 (points deliberately out of order).
    fn small_grid_model() -> LatencyModel {
        let g = grid(vec![point(3, 200, 5.0), point(1, 100, 1.0), point(3, 100, 3.0), point(1, 200, 2.0)]);
        LatencyModel::new(g, LatencyMode::Grid).unwrap()
    }

    #[test]
    fn h_follows_the_formula() {
        let f = LatencyFit { alpha_s: 0.0, beta_s: 1.0, gamma: 0.4, r2: 1.0 };
        assert_eq!(f.h(1), 1.0);
        assert_eq!(f.h(0), 1.0);
        assert!(close(f.h(2), 1.2, 1e-15));
        assert!(close(f.h(32), 1.3875, 1e-15));
    }

    #[test]
    fn synthetic_grid_matches_the_quoted_values() {
        let g = CalibrationGrid::first_results_synthetic();
        assert_eq!(g.name, "built-in first-results (synthetic)");
        assert_eq!(g.points.len(), 30);
        let at = |b: u32, l: u32| g.points.iter().find(|p| p.batch_size == b && p.max_seq_len == l).unwrap().latency_s;
        let quoted = [(1, 128, 0.0534), (1, 256, 0.0918), (1, 512, 0.1686), (1, 1024, 0.3222), (1, 2048, 0.6294), (32, 128, 0.0683), (32, 2048, 0.8675)];
        for (b, l, want) in quoted {
            assert!((at(b, l) - want).abs() < 0.5e-4, "b {b} L {l}: {} vs {want}", at(b, l));
        }
    }

    #[test]
    fn synthetic_grid_fits_back_exactly() {
        let f = CalibrationGrid::first_results_synthetic().fit().unwrap();
        assert!(close(f.alpha_s, 0.015, 1e-9), "{f:?}");
        assert!(close(f.beta_s, 0.0003, 1e-9), "{f:?}");
        assert!(close(f.gamma, 0.4, 1e-9), "{f:?}");
        assert!(close(f.r2, 1.0, 1e-9), "{f:?}");
    }

    #[test]
    fn measured_grid_fits_close_to_the_published_fit() {
        let g = CalibrationGrid::measured_rtx4080();
        assert_eq!(g.name, "built-in rtx4080-qwen3-1.7b (measured)");
        assert_eq!(g.points.len(), 30);
        assert_eq!(g.points[0], point(1, 128, 0.80));
        assert_eq!(g.points[29], point(32, 2048, 15.59));
        let f = g.fit().unwrap();
        assert!(close(f.alpha_s, 0.060, 0.05), "{f:?}");
        assert!(close(f.beta_s, 0.00574, 0.05), "{f:?}");
        assert!(close(f.gamma, 0.316, 0.05), "{f:?}");
        assert!(f.r2 > 0.999 && f.r2 <= 1.0, "{f:?}");
    }

    #[test]
    fn fit_with_noise_is_ordinary_least_squares() {
        // b = 1 and 2 at L = 1, 2 (z = L/2 at b = 2): exact data T = 1 + L + 0.5 z, then
        // the b = 2, L = 2 point raised by e = 0.4. The residual space of the columns
        // (1, L, z) is spanned by r = (-2, 1, 2, -1), so the residuals are
        // (e . r / r . r) r = -0.04 r = (0.08, -0.04, -0.08, 0.04), SS_res = 0.016, and the
        // fitted values move by (-0.08, 0.04, 0.08, 0.36) = -0.2 + 0.12 L + 0.32 z:
        // alpha = 0.8, beta = 1.12, c = 0.82.
        let exact = |b: u32, l: u32| 1.0 + l as f64 + 0.5 * l as f64 * (b as f64 - 1.0) / b as f64;
        let g = grid(vec![point(1, 1, exact(1, 1)), point(1, 2, exact(1, 2)), point(2, 1, exact(2, 1)), point(2, 2, exact(2, 2) + 0.4)]);
        let f = g.fit().unwrap();
        assert!(close(f.alpha_s, 0.8, 1e-12), "{f:?}");
        assert!(close(f.beta_s, 1.12, 1e-12), "{f:?}");
        assert!(close(f.gamma, 0.82 / 1.12, 1e-12), "{f:?}");
        // y = 2, 3, 2.25, 3.9: mean 2.7875, SS_tot = 2.191875.
        assert!(close(f.r2, 1.0 - 0.016 / 2.191875, 1e-12), "{f:?}");
    }

    #[test]
    fn zero_alpha_is_not_rejected_for_round_off() {
        // Exactly T = 0.001 * L * h(b), gamma 0.2: the fitted intercept is 0 up to round-off.
        let f = |b: u32, l: u32| 0.001 * l as f64 * (1.0 + 0.2 * (b as f64 - 1.0) / b as f64);
        let pts = [(1, 128), (1, 2048), (4, 128), (4, 2048), (32, 512)].map(|(b, l)| point(b, l, f(b, l)));
        let fit = grid(pts.to_vec()).fit().unwrap();
        assert!((0.0..1e-15).contains(&fit.alpha_s), "{fit:?}");
        assert!(close(fit.beta_s, 0.001, 1e-12) && close(fit.gamma, 0.2, 1e-12), "{fit:?}");
    }

    #[test]
    fn fit_rejects_grids_that_do_not_determine_the_parameters() {
        let err = |pts: Vec<CalibrationPoint>| grid(pts).fit().unwrap_err().to_string();
        assert_eq!(
            err(vec![point(1, 128, 1.0), point(2, 256, 2.0)]),
            "g.csv: 2 point(s); fitting alpha, beta and gamma needs at least 3"
        );
        assert_eq!(
            err(vec![point(4, 128, 1.0), point(4, 256, 2.0), point(4, 512, 4.0)]),
            "g.csv: every point has batch_size 4; fitting gamma needs at least two batch sizes"
        );
        assert!(err(vec![point(1, 512, 1.0), point(2, 512, 2.0), point(4, 512, 4.0)]).contains("every point has max_seq_len 512"));
        // Lengths that grow with the batch size in lock-step: L(b-1)/b = L - 128 exactly.
        assert!(err(vec![point(1, 128, 1.0), point(2, 256, 2.0), point(4, 512, 4.0)]).contains("singular"));
        // Latency falling with length.
        assert!(err(vec![point(1, 128, 4.0), point(1, 256, 2.0), point(2, 128, 4.0), point(2, 256, 2.0)]).contains("beta"));
        assert!(err(vec![point(1, 128, f64::NAN), point(1, 256, 2.0), point(2, 128, 4.0)]).contains("invalid point"));
        assert!(err(vec![point(0, 128, 1.0), point(1, 256, 2.0), point(2, 128, 4.0)]).contains("invalid point"));
        // Pure proportional data minus a constant: alpha < 0.
        assert!(err(vec![point(1, 100, 0.5), point(1, 200, 1.5), point(2, 100, 0.5), point(2, 200, 1.5)]).contains("alpha"));
    }

    #[test]
    fn fit_mode_follows_the_formula() {
        let m = LatencyModel::new(CalibrationGrid::first_results_synthetic(), LatencyMode::Fit).unwrap();
        // 0.015 + 0.0003 * 1000 * (1 + 0.4 * 9/10) = 0.015 + 0.3 * 1.36 = 0.423
        assert!(close(m.batch_time_s(10, 1000), 0.423, 1e-9));
        assert!(close(m.token_step_s(10, 1000), 0.0003 * 1.36, 1e-9));
        assert!(close(m.batch_time_s(1, 0), 0.015, 1e-9));
        assert!(close(m.alpha_s(), 0.015, 1e-9));
        for (b, l) in [(1, 1), (7, 300), (200, 9000)] {
            let t = m.alpha_s() + m.token_step_s(b, l) * l as f64;
            assert!(close(t, m.batch_time_s(b, l), 1e-12));
        }
    }

    #[test]
    fn grid_mode_interpolates_at_and_between_points() {
        let m = small_grid_model();
        assert_eq!(m.batch_time_s(1, 100), 1.0);
        assert_eq!(m.batch_time_s(1, 200), 2.0);
        assert_eq!(m.batch_time_s(3, 100), 3.0);
        assert_eq!(m.batch_time_s(3, 200), 5.0);
        assert_eq!(m.batch_time_s(1, 150), 1.5);
        assert_eq!(m.batch_time_s(2, 100), 2.0);
        assert_eq!(m.batch_time_s(2, 150), 2.75); // (1 + 2 + 3 + 5) / 4
        assert_eq!(m.batch_time_s(2, 175), 3.125); // b = 2 row: 2 + 1.5 * 0.75
    }

    #[test]
    fn grid_mode_extrapolates_linearly_past_the_edges() {
        let m = small_grid_model();
        assert_eq!(m.batch_time_s(5, 100), 5.0); // 3 + (3 - 1)
        assert_eq!(m.batch_time_s(1, 300), 3.0); // 2 + (2 - 1)
        assert_eq!(m.batch_time_s(5, 300), 11.0); // 1 + 2*2 + 1*2 + (5-3-2+1)*2*2
        assert_eq!(m.batch_time_s(0, 100), 1.0); // b = 0 is read as 1
    }

    #[test]
    fn grid_mode_token_step_reproduces_the_batch_time() {
        let m = small_grid_model();
        let alpha = m.alpha_s();
        assert!((0.0..1.0).contains(&alpha), "{:?}", m.fit);
        assert!(close(m.token_step_s(2, 150), (2.75 - alpha) / 150.0, 1e-15));
        assert_eq!(m.token_step_s(2, 0), m.fit.beta_s * m.fit.h(2));
        for (b, l) in [(1, 100), (2, 150), (5, 300), (9, 40)] {
            let t = alpha + m.token_step_s(b, l) * l as f64;
            assert!(close(t, m.batch_time_s(b, l), 1e-12), "b {b} L {l}");
        }
    }

    #[test]
    fn grid_mode_on_the_measured_grid() {
        let m = LatencyModel::new(CalibrationGrid::measured_rtx4080(), LatencyMode::Grid).unwrap();
        assert_eq!(m.batch_time_s(8, 512), 3.82);
        // Halfway between 4 and 8 and halfway between 512 and 1024: (3.66 + 7.26 + 3.82 + 7.58) / 4.
        assert!(close(m.batch_time_s(6, 768), 5.58, 1e-12));
        // Batch 100: the 16 -> 32 segment extended, 15.59 + (15.59 - 15.42) * 68 / 16.
        assert!(close(m.batch_time_s(100, 2048), 15.59 + 0.17 * 4.25, 1e-12));
        // L = 5000 at batch 1: 12.05 + 6.0 * 2952 / 1024.
        assert!(close(m.batch_time_s(1, 5000), 12.05 + 6.0 * 2952.0 / 1024.0, 1e-12));
        // L = 1 extrapolates to 0.80 - 0.75 * 127/128 = 0.0559 s, below the fitted alpha
        // (about 60 ms): floored there, so the token step is zero rather than negative.
        assert!(m.alpha_s() > 0.056);
        assert_eq!(m.batch_time_s(1, 1), m.alpha_s());
        assert_eq!(m.token_step_s(1, 1), 0.0);
    }

    #[test]
    fn grid_mode_needs_a_full_rectangle() {
        let mut g = CalibrationGrid::measured_rtx4080();
        g.points.retain(|p| !(p.batch_size == 4 && p.max_seq_len == 1024));
        assert!(LatencyModel::new(g.clone(), LatencyMode::Fit).is_ok());
        assert_eq!(
            LatencyModel::new(g, LatencyMode::Grid).unwrap_err().to_string(),
            "latency_mode: grid interpolation of 'built-in rtx4080-qwen3-1.7b (measured)': needs a full rectangular \
             grid (6 batch sizes x 5 lengths) but batch_size 4, max_seq_len 1024 is missing; use the latency mode 'fit'"
        );
        let mut g = CalibrationGrid::measured_rtx4080();
        g.points.push(point(2, 256, 1.8));
        assert!(LatencyModel::new(g, LatencyMode::Grid).unwrap_err().to_string().contains("duplicate point batch_size 2, max_seq_len 256"));
    }

    #[test]
    fn csv_round_trips_the_built_in_grid() {
        let mut text = String::from("\u{feff}Batch_Size, max_seq_len ,device,mean_latency_sec\n");
        for p in CalibrationGrid::measured_rtx4080().points {
            text += &format!("{},{},rtx4080,{}\n", p.batch_size, p.max_seq_len, p.latency_s);
        }
        let g = CalibrationGrid::parse_csv(text.as_bytes(), "grid.csv").unwrap();
        assert_eq!(g.name, "grid.csv");
        assert_eq!(g.points, CalibrationGrid::measured_rtx4080().points);
    }

    #[test]
    fn csv_accepts_aliases_and_integral_decimals() {
        let text = "batch,seq_len,latency_s\n1.0,128,0.8\n1,256,1.55\n\"2\",128,0.88\n2,256,1.71\n";
        let g = CalibrationGrid::parse_csv(text.as_bytes(), "a.csv").unwrap();
        assert_eq!(g.points[0], point(1, 128, 0.8));
        assert_eq!(g.points[2], point(2, 128, 0.88));
        for header in ["batch_size,max_seq_len,latency", "BATCH_SIZE,MAX_SEQ_LEN,Mean_Latency_S"] {
            let text = format!("{header}\n1,128,0.8\n1,256,1.55\n2,128,0.88\n");
            assert_eq!(CalibrationGrid::parse_csv(text.as_bytes(), "a.csv").unwrap().points.len(), 3);
        }
    }

    #[test]
    fn csv_errors_name_file_row_and_column() {
        let err = |text: &str| CalibrationGrid::parse_csv(text.as_bytes(), "cal.csv").unwrap_err().to_string();
        let head = "batch_size,max_seq_len,mean_latency_sec\n";
        assert!(err("").starts_with("cal.csv: empty file"));
        assert!(err("\n \n").starts_with("cal.csv: empty file"));
        assert_eq!(
            err("batch_size,seq,mean_latency_sec\n1,128,0.8\n"),
            "cal.csv, row 1, column 'max_seq_len': missing column; found 'batch_size', 'seq', 'mean_latency_sec'; \
             accepted spellings (case, spaces and punctuation ignored): max_seq_len, seq_len"
        );
        assert!(err("batch_size,max_seq_len,latency,latency_s\n").contains("columns 'latency' and 'latency_s' both give it"));
        assert_eq!(
            err(&format!("{head}1,128,0.8\n2,abc,0.9\n")),
            "cal.csv, row 3, column 'max_seq_len': not a number: 'abc'"
        );
        assert_eq!(
            err(&format!("{head}1,128,0.8\n2.5,128,0.9\n")),
            "cal.csv, row 3, column 'batch_size': must be a positive integer, got 2.5"
        );
        assert!(err(&format!("{head}0,128,0.8\n")).starts_with("cal.csv, row 2, column 'batch_size': must be a positive integer"));
        assert!(err(&format!("{head}1,-128,0.8\n")).starts_with("cal.csv, row 2, column 'max_seq_len': must be a positive integer"));
        assert!(err(&format!("{head}1,128,0\n")).starts_with("cal.csv, row 2, column 'mean_latency_sec': latency must be a positive finite"));
        assert!(err(&format!("{head}1,128,inf\n")).starts_with("cal.csv, row 2, column 'mean_latency_sec': latency must be a positive finite"));
        assert!(err(&format!("{head}1,128,NaN\n")).starts_with("cal.csv, row 2, column 'mean_latency_sec': latency must be a positive finite"));
        assert_eq!(err(&format!("{head}1,128\n")), "cal.csv, row 2, column 'mean_latency_sec': missing value: expected a number");
        assert_eq!(
            err(&format!("{head}1,128,0.8\n2,128,0.9\n1,128,0.81\n")),
            "cal.csv, row 4: duplicate point batch_size 1, max_seq_len 128 (first at row 2)"
        );
        assert_eq!(
            err(&format!("{head}1,128,0.8\n2,128,0.9\n")),
            "cal.csv: only 2 data row(s); a calibration grid needs at least 3 (batch_size, max_seq_len) points"
        );
        assert!(err(&format!("{head}4,128,0.8\n4,256,1.6\n4,512,3.2\n")).starts_with("cal.csv: every point has batch_size 4"));
        assert!(err(&format!("{head}1,128,0.8\n2,128,0.9\n4,12\u{e9}8,0.9\n")).starts_with("cal.csv, row 4, column 'max_seq_len': not a number"));
        let bad_utf8 = [head.as_bytes(), b"1,128,0.8\n2,1\xff,0.9\n"].concat();
        assert_eq!(
            CalibrationGrid::parse_csv(&bad_utf8, "cal.csv").unwrap_err().to_string(),
            "cal.csv, row 3, column 'max_seq_len': not valid UTF-8"
        );
    }
}
