//! Charts as standalone SVG text, shared by the page and the CLI: line and scatter
//! charts (linear or log axes, optional vertical marker and horizontal reference lines),
//! grouped bar charts, and `panels` to set several side by side in one file; `study`
//! draws the final paper's five figures from a study's results. Only presentation
//! attributes are used (no `style`), so the page's strict Content-Security-Policy allows
//! them, and each string is a complete file to download or write as is.

pub mod study;

const W: f64 = 640.0;
const H: f64 = 320.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 170.0;
const TOP: f64 = 34.0;
const BOTTOM: f64 = 50.0;
/// Least distance between two x tick labels, in pixels (a label of 4-5 characters).
const MIN_TICK_GAP: f64 = 28.0;
/// Longest legend line, in characters (what the space right of the plot holds).
const LEGEND_CHARS: usize = 26;
const PALETTE: [&str; 10] =
    ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

/// The colour of series `i` of `n`: a fixed palette, or a hue ramp for many series.
pub fn colour(i: usize, n: usize) -> String {
    if n <= PALETTE.len() {
        PALETTE[i].to_string()
    } else {
        format!("hsl({:.0},65%,42%)", 260.0 * i as f64 / (n - 1) as f64)
    }
}

pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A short tick label: 3 significant digits, k / M suffixes.
pub fn tick_label(v: f64) -> String {
    let trim = |s: String| if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s };
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if a >= 1e6 {
        trim(format!("{:.2}", v / 1e6)) + "M"
    } else if a >= 1e4 {
        trim(format!("{:.1}", v / 1e3)) + "k"
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else {
        let decimals = (2.0 - a.log10().floor()).clamp(0.0, 6.0) as usize;
        trim(format!("{v:.decimals$}"))
    }
}

#[derive(Debug, Clone, Copy)]
struct Axis {
    log: bool,
    lo: f64,
    hi: f64,
}

impl Axis {
    /// An axis over `values` (non-finite ignored; non-positive ignored on a log axis).
    fn fit(values: impl Iterator<Item = f64>, log: bool, from_zero: bool) -> Axis {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for v in values.filter(|v| v.is_finite() && (!log || *v > 0.0)) {
            lo = lo.min(v);
            hi = hi.max(v);
        }
        if lo > hi {
            (lo, hi) = if log { (1.0, 10.0) } else { (0.0, 1.0) };
        }
        if from_zero && !log {
            lo = lo.min(0.0);
            hi += (hi - lo) * 0.05; // headroom: the tallest bar or peak stays inside
        }
        if hi <= lo {
            (lo, hi) = if log { (lo / 2.0, hi * 2.0) } else { (lo - 0.5, hi + 0.5) };
        }
        Axis { log, lo, hi }
    }

    /// Position in [0, 1].
    fn frac(&self, v: f64) -> f64 {
        if self.log {
            (v.max(self.lo).log10() - self.lo.log10()) / (self.hi.log10() - self.lo.log10())
        } else {
            (v - self.lo) / (self.hi - self.lo)
        }
    }

    fn ticks(&self) -> Vec<f64> {
        if self.log {
            let (a, b) = (self.lo.log10().floor() as i32, self.hi.log10().ceil() as i32);
            let mults: &[f64] = if b - a <= 2 { &[1.0, 2.0, 5.0] } else { &[1.0] };
            (a..=b)
                .flat_map(|e| mults.iter().map(move |m| m * 10f64.powi(e)))
                .filter(|&t| t >= self.lo * 0.999 && t <= self.hi * 1.001)
                .collect()
        } else {
            let raw = (self.hi - self.lo) / 5.0;
            let mag = 10f64.powf(raw.log10().floor());
            let step = [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * mag).find(|&s| s >= raw).unwrap_or(raw);
            let first = (self.lo / step).ceil() as i64;
            let last = (self.hi / step).floor() as i64;
            (first..=last).map(|i| i as f64 * step).collect()
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

#[derive(Debug, Clone, Default)]
pub struct LineChart<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
    pub log_x: bool,
    pub log_y: bool,
    pub series: Vec<Series>,
    /// A dashed vertical line at x with a label (e.g. the saturation point).
    pub marker: Option<(f64, String)>,
    /// Dashed horizontal reference lines at y with labels (e.g. SLA targets).
    pub hlines: Vec<(f64, String)>,
    /// Points only, no connecting lines.
    pub scatter: bool,
}

fn frame(title: &str, x_label: &str, y_label: &str, body: &str) -> String {
    format!(
        concat!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" font-family="sans-serif" font-size="11" role="img" aria-label="{title}">"##,
            r##"<rect width="{w}" height="{h}" fill="#ffffff"/>"##,
            r##"<text x="{cx}" y="18" text-anchor="middle" font-size="13" font-weight="bold">{title}</text>"##,
            r##"<text x="{cx}" y="{xl}" text-anchor="middle">{x_label}</text>"##,
            r##"<text transform="translate(14 {cy}) rotate(-90)" text-anchor="middle">{y_label}</text>{body}</svg>"##
        ),
        w = W,
        h = H,
        cx = LEFT + (W - LEFT - RIGHT) / 2.0,
        cy = TOP + (H - TOP - BOTTOM) / 2.0,
        xl = H - 10.0,
        title = escape(title),
        x_label = escape(x_label),
        y_label = escape(y_label),
        body = body
    )
}

/// `name` in lines of at most `LEGEND_CHARS` characters where it can break: after a space,
/// a comma or an equals sign (each line keeps its break, so the lines join into `name`).
fn wrap(name: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let (mut start, mut last_break) = (0, None);
    for (i, c) in name.char_indices() {
        let end = i + c.len_utf8();
        if name[start..end].trim_end().chars().count() > LEGEND_CHARS {
            if let Some(b) = last_break.filter(|&b| b > start) {
                lines.push(&name[start..b]);
                start = b;
            }
        }
        if matches!(c, ' ' | ',' | '=') {
            last_break = Some(end);
        }
    }
    lines.push(&name[start..]);
    lines
}

fn legend(names: &[&str]) -> String {
    let x = W - RIGHT + 12.0;
    let last_y = TOP + 6.0 + 15.0 * 15.0; // 16 one-line entries, then "+N more"
    let mut y = TOP + 6.0;
    let mut out = String::new();
    for (i, name) in names.iter().enumerate() {
        let lines = wrap(name);
        if y + 13.0 * (lines.len() - 1) as f64 > last_y {
            out += &format!(r##"<text x="{x}" y="{y}">+{} more</text>"##, names.len() - i);
            break;
        }
        // A long name goes on in lines below (tspans: the text stays the whole name).
        let rest: String =
            lines[1..].iter().map(|l| format!(r##"<tspan x="{}" dy="13">{}</tspan>"##, x + 14.0, escape(l))).collect();
        out += &format!(
            r##"<rect x="{x}" y="{}" width="10" height="10" fill="{}"/><text x="{}" y="{}">{}{rest}</text>"##,
            y - 8.0,
            colour(i, names.len()),
            x + 14.0,
            y + 1.0,
            escape(lines[0])
        );
        y += 15.0 + 13.0 * (lines.len() - 1) as f64;
    }
    out
}

fn axes(x: &Axis, y: &Axis, x_ticks: &[f64]) -> String {
    let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    let mut out = format!(r##"<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="none" stroke="#999999"/>"##);
    for t in x_ticks {
        let px = LEFT + x.frac(*t) * pw;
        out += &format!(
            r##"<line x1="{px:.1}" y1="{TOP}" x2="{px:.1}" y2="{}" stroke="#eeeeee"/><text x="{px:.1}" y="{}" text-anchor="middle">{}</text>"##,
            TOP + ph,
            TOP + ph + 14.0,
            tick_label(*t)
        );
    }
    for t in y.ticks() {
        let py = TOP + (1.0 - y.frac(t)) * ph;
        out += &format!(
            r##"<line x1="{LEFT}" y1="{py:.1}" x2="{}" y2="{py:.1}" stroke="#eeeeee"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            LEFT + pw,
            LEFT - 4.0,
            py + 4.0,
            tick_label(t)
        );
    }
    out
}

pub fn line_chart(c: &LineChart<'_>) -> String {
    let all = || c.series.iter().flat_map(|s| s.points.iter());
    let x = Axis::fit(all().map(|p| p.0), c.log_x, false);
    let y = Axis::fit(all().map(|p| p.1).chain(c.hlines.iter().map(|h| h.0)), c.log_y, true);
    let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    // On a log x axis the data's own x values are the clearest ticks (N, GPUs, K), those
    // too close to the last one kept left out (a bisection's loads crowd together).
    let x_ticks: Vec<f64> = if c.log_x {
        let mut v: Vec<f64> = all().map(|p| p.0).filter(|v| v.is_finite() && *v > 0.0).collect();
        v.sort_by(f64::total_cmp);
        v.dedup();
        let mut kept: Vec<f64> = Vec::new();
        for t in v {
            if kept.last().is_none_or(|&k| (x.frac(t) - x.frac(k)) * pw >= MIN_TICK_GAP) {
                kept.push(t);
            }
        }
        kept
    } else {
        x.ticks()
    };
    let mut body = axes(&x, &y, &x_ticks);
    let n = c.series.len();
    for (i, s) in c.series.iter().enumerate() {
        let pts: Vec<String> = s
            .points
            .iter()
            .filter(|(px, py)| px.is_finite() && py.is_finite() && (!c.log_x || *px > 0.0) && (!c.log_y || *py > 0.0))
            .map(|(px, py)| format!("{:.1},{:.1}", LEFT + x.frac(*px) * pw, TOP + (1.0 - y.frac(*py)) * ph))
            .collect();
        let col = colour(i, n);
        if !c.scatter {
            body += &format!(r##"<polyline fill="none" stroke="{col}" stroke-width="1.6" points="{}"/>"##, pts.join(" "));
        }
        if c.scatter || pts.len() <= 12 {
            for p in &pts {
                let (px, py) = p.split_once(',').unwrap_or(("0", "0"));
                body += &format!(r##"<circle cx="{px}" cy="{py}" r="3" fill="{col}"/>"##);
            }
        }
    }
    if let Some((mx, label)) = &c.marker {
        let px = LEFT + x.frac(*mx) * pw;
        // Label on the side with room: left of the line in the right half of the plot.
        let (tx, anchor) = if px > LEFT + pw / 2.0 { (px - 4.0, "end") } else { (px + 4.0, "start") };
        body += &format!(
            r##"<line x1="{px:.1}" y1="{TOP}" x2="{px:.1}" y2="{}" stroke="#333333" stroke-dasharray="4 3"/><text x="{tx:.1}" y="{}" text-anchor="{anchor}">{}</text>"##,
            TOP + ph,
            TOP + 12.0,
            escape(label)
        );
    }
    for (hy, label) in &c.hlines {
        let py = TOP + (1.0 - y.frac(*hy)) * ph;
        body += &format!(
            r##"<line x1="{LEFT}" y1="{py:.1}" x2="{}" y2="{py:.1}" stroke="#555555" stroke-dasharray="5 3"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            LEFT + pw,
            LEFT + pw - 4.0,
            py - 3.0,
            escape(label)
        );
    }
    let names: Vec<&str> = c.series.iter().map(|s| s.name.as_str()).collect();
    body += &legend(&names);
    frame(c.title, c.x_label, c.y_label, &body)
}

/// Charts side by side in one SVG file, under a title (a figure of several panels).
pub fn panels(title: &str, charts: &[String]) -> String {
    let head = 28.0;
    let width = W * charts.len().max(1) as f64;
    let mut out = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {h}" width="{width}" height="{h}" font-family="sans-serif" font-size="11" role="img" aria-label="{t}"><rect width="{width}" height="{h}" fill="#ffffff"/><text x="{cx}" y="19" text-anchor="middle" font-size="15" font-weight="bold">{t}</text>"##,
        h = H + head,
        cx = width / 2.0,
        t = escape(title)
    );
    for (i, chart) in charts.iter().enumerate() {
        // A nested <svg> keeps each chart's own coordinates.
        out += &chart.replacen("<svg ", &format!(r#"<svg x="{}" y="{head}" "#, W * i as f64), 1);
    }
    out + "</svg>"
}

/// Grouped bars: one group per category, one bar per series.
pub fn bar_chart(title: &str, y_label: &str, categories: &[&str], series: &[(String, Vec<f64>)]) -> String {
    bar_chart_on(title, y_label, categories, series, false)
}

/// `bar_chart` on a linear or a log y axis (bars then rise from the axis's bottom).
pub fn bar_chart_on(title: &str, y_label: &str, categories: &[&str], series: &[(String, Vec<f64>)], log_y: bool) -> String {
    let y = Axis::fit(series.iter().flat_map(|s| s.1.iter().copied()), log_y, true);
    let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    let mut body = axes(&y, &y, &[]);
    let group_w = pw / categories.len().max(1) as f64;
    let bar_w = group_w * 0.8 / series.len().max(1) as f64;
    for (ci, cat) in categories.iter().enumerate() {
        let gx = LEFT + group_w * ci as f64 + group_w * 0.1;
        body += &format!(
            r##"<text x="{:.1}" y="{}" text-anchor="middle">{}</text>"##,
            gx + group_w * 0.4,
            TOP + ph + 14.0,
            escape(cat)
        );
        for (si, (_, values)) in series.iter().enumerate() {
            let v = values.get(ci).copied().unwrap_or(f64::NAN);
            if !v.is_finite() || (log_y && v <= 0.0) {
                continue;
            }
            let top = TOP + (1.0 - y.frac(v)) * ph;
            let base = TOP + (1.0 - y.frac(0.0f64.max(y.lo))) * ph;
            body += &format!(
                r##"<rect x="{:.1}" y="{top:.1}" width="{:.1}" height="{:.1}" fill="{}"><title>{}</title></rect>"##,
                gx + bar_w * si as f64,
                bar_w * 0.92,
                (base - top).max(0.0),
                colour(si, series.len()),
                tick_label(v)
            );
        }
    }
    let names: Vec<&str> = series.iter().map(|s| s.0.as_str()).collect();
    body += &legend(&names);
    frame(title, "", y_label, &body)
}

/// At most `max` points: each kept point is the largest y of its chunk (peaks survive).
pub fn decimate_max(points: &[(f64, f64)], max: usize) -> Vec<(f64, f64)> {
    if points.len() <= max || max == 0 {
        return points.to_vec();
    }
    let chunk = points.len().div_ceil(max);
    points
        .chunks(chunk)
        .map(|c| (c[0].0, c.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_labels_are_short() {
        assert_eq!(tick_label(1_000_000.0), "1M");
        assert_eq!(tick_label(25_000.0), "25k");
        assert_eq!(tick_label(0.0125), "0.0125");
        assert_eq!(tick_label(2.5), "2.5");
        assert_eq!(tick_label(0.0), "0");
    }

    #[test]
    fn line_chart_is_one_svg_with_a_polyline_per_series() {
        let svg = line_chart(&LineChart {
            title: "a < b",
            x_label: "N",
            y_label: "req/s",
            log_x: true,
            log_y: false,
            series: vec![
                Series { name: "s1".into(), points: vec![(1e3, 1.0), (1e4, 2.0), (1e5, f64::NAN)] },
                Series { name: "s2".into(), points: vec![(1e3, 3.0), (1e6, 4.0)] },
            ],
            marker: Some((1e4, "saturation".into())),
            ..Default::default()
        });
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains("a &lt; b") && svg.contains("saturation"));
        assert!(!svg.contains("NaN") && !svg.contains("style="));
    }

    #[test]
    fn log_x_ticks_are_the_data_values_not_closer_than_a_label() {
        let points = [1.0, 2.0, 40.0, 41.0, 42.0, 64.0].map(|x| (x, 1.0)).to_vec();
        let svg = line_chart(&LineChart { log_x: true, series: vec![Series { name: "s".into(), points }], ..Default::default() });
        for kept in [">1</text>", ">2</text>", ">40</text>", ">64</text>"] {
            assert!(svg.contains(kept), "{kept}");
        }
        assert!(!svg.contains(">41</text>") && !svg.contains(">42</text>"), "{svg}");
    }

    /// Long legend names wrap at a space, comma or "=" into lines of the same text; a
    /// short one stays one plain line; entries past the legend's room are counted.
    #[test]
    fn legends_wrap_long_names_and_count_those_left_out() {
        assert_eq!(wrap("multi_bin_dynamic (4 GPU)"), ["multi_bin_dynamic (4 GPU)"]);
        assert_eq!(wrap("scheduler=multi_bin_dynamic"), ["scheduler=", "multi_bin_dynamic"]);
        assert_eq!(wrap("multi-bin continuous: below the lowest load tried"), ["multi-bin continuous: ", "below the lowest load ", "tried"]);
        assert_eq!(wrap("a_single_word_longer_than_the_line"), ["a_single_word_longer_than_the_line"]);
        let svg = legend(&["s1", "scheduler=multi_bin_dynamic"]);
        assert!(svg.contains(">s1</text>") && svg.contains(r#">scheduler=<tspan x="496" dy="13">multi_bin_dynamic</tspan></text>"#), "{svg}");
        let names: Vec<String> = (0..20).map(|i| format!("series {i}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        assert!(legend(&names).contains(">+4 more</text>") && legend(&names[..16]).matches("<rect").count() == 16);
        let long: Vec<&str> = (0..10).map(|_| "a name that takes up two lines").collect();
        assert!(legend(&long).contains(">+2 more</text>"), "{}", legend(&long));
    }

    #[test]
    fn bars_and_decimation() {
        let svg = bar_chart("lat", "s", &["p50", "p99"], &[("x".into(), vec![1.0, 2.0]), ("y".into(), vec![0.5, 3.0])]);
        assert_eq!(svg.matches("<rect x=").count(), 2 + 4 + 1); // legend 2, bars 4, plot frame
        let pts: Vec<(f64, f64)> = (0..1000).map(|i| (i as f64, (i % 7) as f64)).collect();
        let d = decimate_max(&pts, 100); // chunks of 10 each hold a 6
        assert!(d.len() <= 100 && d.iter().all(|p| p.1 == 6.0));
    }
}
