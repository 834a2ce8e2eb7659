//! "Inside the cluster" as SVG and text, from a core `Timeline`: one lane per GPU with a
//! box per batch (or run of iterations) coloured by bin, labelled with its size where it
//! is wide enough, its members, L, b and why in a `<title>`; beneath, on the same time
//! axis, the queue of each bin and the memory in use; a cursor line the page moves (one
//! attribute, `transform`, on `#timeline-cursor`), in an SVG of its own laid over the
//! picture, so moving it never repaints the picture. Pure functions, tested natively.

use batchlab::engine::SizeReason;
use batchlab::report::human;
use batchlab::timeline::{BoxDetail, MemoryShown, Timeline, TimelineBox};
use batchlab_charts::{colour, escape, tick_label};

const W: f64 = 960.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 20.0;
const PLOT_W: f64 = W - LEFT - RIGHT;
const LANE_H: f64 = 18.0;
const BOX_H: f64 = 15.0;
const LEGEND_ROW: f64 = 16.0;
const LEGEND_PER_ROW: usize = 12;
const QUEUE_H: f64 = 90.0;
const MEMORY_H: f64 = 60.0;
/// A box shows its size when it is at least this many pixels wide per digit (and 4 more).
const PX_PER_DIGIT: f64 = 7.0;

/// Vertical layout: where each part starts.
struct Layout {
    lanes_top: f64,
    queue_top: f64,
    memory_top: f64,
    bottom: f64,
    height: f64,
}

fn layout(t: &Timeline) -> Layout {
    let legend = (t.bins as usize).div_ceil(LEGEND_PER_ROW).max(1) as f64 * LEGEND_ROW;
    let lanes_top = 30.0 + legend;
    let lanes_bottom = lanes_top + f64::from(t.lanes) * LANE_H;
    let queue_top = lanes_bottom + 26.0;
    let memory_top = queue_top + QUEUE_H + 26.0;
    let bottom = memory_top + MEMORY_H;
    Layout { lanes_top, queue_top, memory_top, bottom, height: bottom + 40.0 }
}

/// The x of simulated time `time` (clamped to the window).
pub fn cursor_x(t: &Timeline, time: f64) -> f64 {
    let w = t.window;
    LEFT + ((time - w.from_s) / (w.to_s - w.from_s)).clamp(0.0, 1.0) * PLOT_W
}

/// The cursor's `transform` at `time`.
pub fn cursor_transform(t: &Timeline, time: f64) -> String {
    format!("translate({:.2} 0)", cursor_x(t, time) - LEFT)
}

/// Why a box had its size, in words.
pub fn reason_words(why: SizeReason) -> &'static str {
    match why {
        SizeReason::FixedSize => "the fixed batch size (b_static, b_fixed)",
        SizeReason::MemoryCap => "the memory cap (b_mem)",
        SizeReason::SlaTarget => "the SLA target (b_SLA)",
        SizeReason::Queue => "the queue (every waiting request was taken)",
        SizeReason::MemoryCheck => "the memory check (the next request did not fit)",
        SizeReason::MaxSeqs => "the most running sequences (max_seqs)",
        SizeReason::KvCache => "the KV cache (the next prompt did not fit)",
        SizeReason::TokenBudget => "the token budget of an iteration",
        SizeReason::Preemption => "a preemption (the KV cache ran out)",
    }
}

fn time_words(s: f64) -> String {
    human::with_unit(s, "s")
}

/// "#3, #4, #5 and 9 more".
fn members_words(b: &TimelineBox) -> String {
    let ids: Vec<String> = b.members.iter().map(|m| format!("#{m}")).collect();
    let more = (b.size as usize).saturating_sub(b.members.len());
    match (ids.is_empty(), more) {
        (true, _) => "no request".into(),
        (false, 0) => ids.join(", "),
        (false, n) => format!("{} and {n} more", ids.join(", ")),
    }
}

/// A box's tooltip: what it is, its members, L and b, when, and why it had that size.
pub fn box_title(b: &TimelineBox) -> String {
    let mut lines = Vec::new();
    match b.detail {
        BoxDetail::Batch { max_len, step_s } => {
            lines.push(format!("GPU {}, bin {}: a batch of {} request{}", b.gpu, b.bin, b.size, if b.size == 1 { "" } else { "s" }));
            lines.push(format!("members: {}", members_words(b)));
            lines.push(format!("L = {max_len} tokens (longest prompt + output), b = {}, a token every {}", b.size, human::duration(step_s)));
        }
        BoxDetail::Run { iterations, decoding, prefilling, prefill_tokens } => {
            lines.push(format!(
                "GPU {}, bin {}: {iterations} iteration{} of {} sequence{}",
                b.gpu,
                b.bin,
                if iterations == 1 { "" } else { "s" },
                b.size,
                if b.size == 1 { "" } else { "s" }
            ));
            lines.push(format!("members: {}", members_words(b)));
            let prefill = if prefilling > 0 { format!(", {prefilling} prefilling {prefill_tokens} prompt tokens") } else { String::new() };
            lines.push(format!("b = {} ({decoding} decoding{prefill})", b.size));
        }
    }
    lines.push(format!("{} to {} ({})", time_words(b.start_s), time_words(b.end_s), human::duration(b.end_s - b.start_s)));
    if let Some(why) = b.why {
        lines.push(format!("size set by {}", reason_words(why)));
    }
    lines.join("\n")
}

fn what_boxes(t: &Timeline) -> &'static str {
    if t.scheduler.is_continuous() { "runs of iterations" } else { "batches" }
}

/// One paragraph for people: what the picture holds, and what it leaves out.
pub fn summary(t: &Timeline) -> String {
    let w = t.window;
    let gpus = if t.lanes == t.gpus {
        format!("GPU{} 0{}", if t.gpus == 1 { "" } else { "s" }, if t.gpus > 1 { format!("–{}", t.gpus - 1) } else { String::new() })
    } else {
        format!("GPUs 0–{} (only the first {} of {} are shown)", t.lanes - 1, t.lanes, t.gpus)
    };
    let mut text = format!("{} from {} to {} on {gpus}: ", t.scheduler.name(), time_words(w.from_s), time_words(w.to_s));
    if t.boxes.is_empty() {
        text += &format!("nothing ran in this window (the run's last request completed at {}).", time_words(t.run_end_s));
        return text;
    }
    text += &format!("{} {}", t.boxes.len(), what_boxes(t));
    if t.left_out > 0 {
        text += &format!(
            " drawn of {} (at most {} are: every one that starts before {} is; {} later ones are left out).",
            t.boxes.len() as u64 + t.left_out,
            batchlab::timeline::MAX_BOXES,
            time_words(t.complete_until_s),
            t.left_out
        );
    } else {
        text += " (every one in the window).";
    }
    text
}

/// The index of the sample that holds at `time`.
fn sample_at(t: &Timeline, time: f64) -> Option<usize> {
    if t.t_s.is_empty() {
        return None;
    }
    Some(t.t_s.partition_point(|&s| s <= time).saturating_sub(1))
}

fn memory_words(t: &Timeline) -> &'static str {
    match t.memory_shown {
        MemoryShown::KvBlocks => "KV cache in use",
        MemoryShown::Reserved => "memory held by running batches",
    }
}

/// The state at `time`: requests waiting per bin and memory in use (the readout beside
/// the scrubber, updated on every frame of play).
pub fn now_text(t: &Timeline, time: f64) -> String {
    let mut text = time_words(time);
    let Some(i) = sample_at(t, time) else { return text };
    let queues: Vec<u32> = t.queue_len.iter().map(|q| q.get(i).copied().unwrap_or(0)).collect();
    if let [q] = queues.as_slice() {
        text += &format!(": {q} waiting");
    } else {
        let per_bin: Vec<String> = queues.iter().enumerate().map(|(b, q)| format!("bin {b}: {q}")).collect();
        text += &format!(": waiting {}", per_bin.join(", "));
    }
    if let Some(&m) = t.memory_used.get(i) {
        text += &format!("; {} {}", memory_words(t), human::percent(f64::from(m)));
    }
    text
}

/// Per shown GPU, its boxes' indices by start: what runs under the cursor is found by a
/// binary search (built once per drawing).
pub struct Lanes(Vec<Vec<usize>>);

impl Lanes {
    pub fn new(t: &Timeline) -> Self {
        let mut lanes = vec![Vec::new(); t.lanes as usize];
        for (i, b) in t.boxes.iter().enumerate() {
            if let Some(l) = lanes.get_mut(b.gpu as usize) {
                l.push(i);
            }
        }
        Lanes(lanes)
    }

    /// The box running on `gpu` at `time`, if any.
    pub fn at<'a>(&self, t: &'a Timeline, gpu: usize, time: f64) -> Option<&'a TimelineBox> {
        let lane = self.0.get(gpu)?;
        let k = lane.partition_point(|&i| t.boxes[i].start_s <= time);
        let b = &t.boxes[*lane.get(k.checked_sub(1)?)?];
        (b.end_s > time).then_some(b)
    }

    /// What each GPU runs at `time`, one clause per GPU.
    pub fn describe(&self, t: &Timeline, time: f64) -> String {
        let mut parts = Vec::new();
        for gpu in 0..self.0.len() {
            parts.push(match self.at(t, gpu, time) {
                Some(b) => format!(
                    "GPU {gpu}: {} {} (bin {}), size set by {}",
                    b.size,
                    if t.scheduler.is_continuous() { "sequences" } else { "requests" },
                    b.bin,
                    b.why.map_or("–", reason_words)
                ),
                None => format!("GPU {gpu}: idle or not drawn"),
            });
        }
        format!("At {}: {}.", time_words(time), parts.join("; "))
    }
}

/// Tick values over `lo..hi`: about `n` of them, at 1, 2 or 5 times a power of ten.
fn ticks(lo: f64, hi: f64, n: f64) -> Vec<f64> {
    if hi <= lo || !(hi - lo).is_finite() {
        return vec![lo];
    }
    let raw = (hi - lo) / n;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * mag).find(|&s| s >= raw).unwrap_or(raw);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

/// A step line through samples (`value` per sample) over the window, in a panel from
/// `top` of height `h` where `max` is at the top.
fn step_line(t: &Timeline, value: impl Fn(usize) -> f64, max: f64, top: f64, h: f64, stroke: &str) -> String {
    let y = |v: f64| top + h - (v / max).clamp(0.0, 1.0) * h;
    let mut points = String::new();
    let n = t.t_s.len();
    for i in 0..n {
        let x0 = cursor_x(t, t.t_s[i]);
        let x1 = if i + 1 < n { cursor_x(t, t.t_s[i + 1]) } else { cursor_x(t, t.window.to_s) };
        let v = y(value(i));
        points += &format!("{x0:.1},{v:.1} {x1:.1},{v:.1} ");
    }
    if points.is_empty() {
        return String::new();
    }
    format!(r#"<polyline points="{}" fill="none" stroke="{stroke}" stroke-width="1.5"/>"#, points.trim_end())
}

/// The whole picture (one SVG file: lanes, queues, memory, cursor).
pub fn timeline_svg(t: &Timeline) -> String {
    let l = layout(t);
    let w = t.window;
    let bins = t.bins.max(1) as usize;
    let title = format!("Inside the cluster: {} to {}", time_words(w.from_s), time_words(w.to_s));
    let mut s = format!(
        r##"<svg id="timeline-svg" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {h}" width="{W}" height="{h}" font-family="sans-serif" font-size="11" role="img" aria-label="{title}"><rect width="{W}" height="{h}" fill="#ffffff"/><text x="{cx}" y="16" text-anchor="middle" font-size="13" font-weight="bold">{title}</text>"##,
        h = l.height,
        cx = LEFT + PLOT_W / 2.0,
        title = escape(&title)
    );
    // Legend: a swatch per bin.
    for b in 0..bins {
        let (row, col) = (b / LEGEND_PER_ROW, b % LEGEND_PER_ROW);
        let (x, y) = (LEFT + col as f64 * 72.0, 24.0 + row as f64 * LEGEND_ROW);
        s += &format!(r#"<rect x="{x}" y="{y}" width="10" height="10" fill="{}"/><text x="{}" y="{}">bin {b}</text>"#, colour(b, bins), x + 14.0, y + 9.0);
    }
    // Time grid and axis, through every panel; labels as precise as the ticks' step (a
    // minute at 34,783 s must not read "34.8k" eight times).
    let grid = ticks(w.from_s, w.to_s, 8.0);
    let step = grid.windows(2).map(|p| p[1] - p[0]).fold(f64::INFINITY, f64::min);
    let decimals = if step.is_finite() && step > 0.0 { (-step.log10().floor()).clamp(0.0, 6.0) as usize } else { 0 };
    for v in grid {
        let x = cursor_x(t, v);
        s += &format!(
            r##"<line x1="{x:.1}" x2="{x:.1}" y1="{}" y2="{}" stroke="#dddddd"/><text x="{x:.1}" y="{}" text-anchor="middle">{v:.decimals$}</text>"##,
            l.lanes_top,
            l.bottom,
            l.bottom + 14.0,
        );
    }
    s += &format!(r#"<text x="{}" y="{}" text-anchor="middle">simulated time (s)</text>"#, LEFT + PLOT_W / 2.0, l.bottom + 32.0);
    // Lanes.
    for g in 0..t.lanes {
        let y = l.lanes_top + f64::from(g) * LANE_H;
        let fill = if g % 2 == 0 { "#f4f4f4" } else { "#ffffff" };
        s += &format!(r#"<rect x="{LEFT}" y="{y}" width="{PLOT_W}" height="{LANE_H}" fill="{fill}"/><text x="{}" y="{}" text-anchor="end">GPU {g}</text>"#, LEFT - 6.0, y + 13.0);
    }
    s += r#"<g id="timeline-boxes">"#;
    for b in &t.boxes {
        let x0 = cursor_x(t, b.start_s);
        let width = (cursor_x(t, b.end_s) - x0).max(0.5);
        let y = l.lanes_top + f64::from(b.gpu) * LANE_H + (LANE_H - BOX_H) / 2.0;
        // A thin edge parts neighbours; a box too narrow for one keeps its colour.
        let edge = if width >= 3.0 { r##" stroke="#ffffff" stroke-width="0.5""## } else { "" };
        s += &format!(
            r##"<rect x="{x0:.2}" y="{y}" width="{width:.2}" height="{BOX_H}" fill="{}"{edge} data-gpu="{}" data-bin="{}" data-size="{}"><title>{}</title></rect>"##,
            colour(b.bin as usize, bins),
            b.gpu,
            b.bin,
            b.size,
            escape(&box_title(b))
        );
        let label = b.size.to_string();
        if width >= PX_PER_DIGIT * label.len() as f64 + 4.0 {
            s += &format!(
                r##"<text x="{:.2}" y="{}" text-anchor="middle" font-size="10" fill="#ffffff" pointer-events="none">{label}</text>"##,
                x0 + width / 2.0,
                y + 11.0
            );
        }
    }
    s += "</g>";
    // Past the cap: where boxes are missing, say so on the picture.
    if t.left_out > 0 && t.complete_until_s < w.to_s {
        let x = cursor_x(t, t.complete_until_s);
        s += &format!(
            r##"<rect x="{x:.2}" y="{}" width="{:.2}" height="{}" fill="#000000" fill-opacity="0.08"/><text x="{:.2}" y="{}" text-anchor="end" fill="#555555">{} later boxes not drawn</text>"##,
            l.lanes_top,
            LEFT + PLOT_W - x,
            f64::from(t.lanes) * LANE_H,
            LEFT + PLOT_W,
            l.lanes_top - 4.0,
            t.left_out
        );
    }
    // Queues per bin.
    let q_max = t.queue_len.iter().flatten().copied().max().unwrap_or(0).max(1) as f64;
    s += &panel_frame(l.queue_top, QUEUE_H, "requests waiting, per bin", &tick_label(q_max));
    for (b, q) in t.queue_len.iter().enumerate() {
        s += &step_line(t, |i| f64::from(q[i]), q_max, l.queue_top, QUEUE_H, &colour(b, bins));
    }
    // Memory.
    let what = match t.memory_shown {
        MemoryShown::KvBlocks => "KV cache in use (% of all GPUs' blocks)",
        MemoryShown::Reserved => "memory held by running batches (% of all GPUs' room for batches)",
    };
    s += &panel_frame(l.memory_top, MEMORY_H, what, "100");
    s += &step_line(t, |i| 100.0 * f64::from(t.memory_used.get(i).copied().unwrap_or(0.0)), 100.0, l.memory_top, MEMORY_H, "#444444");
    s + "</svg>"
}

/// The cursor, at the window's start, alone in an SVG of the picture's size (the page
/// lays it over the picture; it takes no pointer, so the boxes keep their tooltips).
pub fn cursor_svg(t: &Timeline) -> String {
    let l = layout(t);
    format!(
        r##"<svg class="timeline-cursor-layer" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {h}" width="{W}" height="{h}" aria-hidden="true" pointer-events="none"><g id="timeline-cursor" transform="{}"><line x1="{LEFT}" x2="{LEFT}" y1="{}" y2="{}" stroke="#000000" stroke-width="1.5"/></g></svg>"##,
        cursor_transform(t, t.window.from_s),
        l.lanes_top - 4.0,
        l.bottom,
        h = l.height
    )
}

/// A chart panel's frame: its title above, its box, 0 and its top value on the left.
fn panel_frame(top: f64, h: f64, title: &str, top_label: &str) -> String {
    format!(
        r##"<text x="{LEFT}" y="{}">{}</text><rect x="{LEFT}" y="{top}" width="{PLOT_W}" height="{h}" fill="none" stroke="#999999"/><text x="{}" y="{}" text-anchor="end">{top_label}</text><text x="{}" y="{}" text-anchor="end">0</text>"##,
        top - 6.0,
        escape(title),
        LEFT - 6.0,
        top + 9.0,
        LEFT - 6.0,
        top + h
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use batchlab::config::SchedulerKind;
    use batchlab::timeline::Window;

    fn tiny() -> Timeline {
        let bx = |gpu, bin, start_s, end_s, size, members: &[u32], why| TimelineBox {
            gpu,
            bin,
            start_s,
            end_s,
            size,
            members: members.to_vec(),
            why: Some(why),
            detail: BoxDetail::Batch { max_len: 812, step_s: 0.0075 },
        };
        Timeline {
            scheduler: SchedulerKind::MultiBinDynamic,
            gpus: 2,
            lanes: 2,
            bins: 2,
            window: Window { from_s: 10.0, to_s: 20.0 },
            boxes: vec![
                bx(0, 1, 9.0, 12.0, 12, &[3, 4, 5, 6, 7], SizeReason::SlaTarget),
                bx(1, 0, 11.0, 11.05, 3, &[8, 9, 10], SizeReason::Queue),
                bx(0, 0, 12.0, 18.0, 40, &[11, 12, 13, 14, 15], SizeReason::MemoryCap),
            ],
            left_out: 0,
            complete_until_s: 20.0,
            run_end_s: 30.0,
            t_s: vec![9.5, 12.0, 15.0],
            queue_len: vec![vec![1, 4, 0], vec![7, 2, 2]],
            memory_used: vec![0.25, 0.5, 0.125],
            memory_shown: MemoryShown::Reserved,
        }
    }

    #[test]
    fn the_svg_has_a_lane_per_gpu_a_box_per_batch_and_a_title_each() {
        let t = tiny();
        let svg = timeline_svg(&t);
        assert!(svg.starts_with("<svg id=\"timeline-svg\"") && svg.ends_with("</svg>"));
        assert!(!svg.contains("style="), "presentation attributes only (strict CSP)");
        assert_eq!(svg.matches("data-gpu=").count(), 3);
        assert_eq!(svg.matches("<title>").count(), 3);
        assert!(svg.contains(">GPU 0</text>") && svg.contains(">GPU 1</text>") && !svg.contains(">GPU 2</text>"));
        // Clipped to the window: the first box starts at its left edge, the last ends at 18 s.
        assert!(svg.contains(&format!(r#"<rect x="{:.2}" y="{}" width="{:.2}""#, LEFT, 30.0 + LEGEND_ROW + 1.5, 0.2 * PLOT_W)), "{svg}");
        // Sizes label boxes wide enough: 12 and 40, not the 3 of a 0.05-s batch (4.2 px).
        assert!(svg.contains(">12</text>") && svg.contains(">40</text>") && !svg.contains(">3</text>"));
        // Two queue lines and the memory line; the cursor, over the picture, at the start.
        assert_eq!(svg.matches("<polyline").count(), 3);
        let cursor = cursor_svg(&t);
        assert!(cursor.contains(r#"<g id="timeline-cursor" transform="translate(0.00 0)">"#));
        let size = |svg: &str| svg.split(" width=").nth(1).map(|r| r.split('"').nth(1).unwrap().to_string()).zip(svg.split(" height=").nth(1).map(|r| r.split('"').nth(1).unwrap().to_string()));
        assert_eq!(size(&cursor), size(&svg));
        assert!(!svg.contains("timeline-cursor"));
        assert!(svg.contains("memory held by running batches"));
        assert!(!svg.contains("not drawn"));
        // Boxes left out past the cap: the part of the lanes they would be in is marked.
        let mut cut = t.clone();
        cut.left_out = 9;
        cut.complete_until_s = 15.0;
        let svg = timeline_svg(&cut);
        assert!(svg.contains(&format!(r#"<rect x="{:.2}" y="{}" width="{:.2}" height="36""#, LEFT + PLOT_W / 2.0, 30.0 + LEGEND_ROW, PLOT_W / 2.0)), "{svg}");
        assert!(svg.contains(">9 later boxes not drawn</text>"));
    }

    /// A minute late in a long run: every time tick reads differently (not "34.8k" each).
    #[test]
    fn time_ticks_are_as_precise_as_their_step() {
        let mut t = tiny();
        t.window = Window { from_s: 34_783.0, to_s: 34_843.0 };
        let svg = timeline_svg(&t);
        let labels: Vec<&str> = svg
            .split(r#"text-anchor="middle">"#)
            .skip(1)
            .map(|rest| &rest[..rest.find('<').unwrap()])
            .filter(|l| l.starts_with("34"))
            .collect();
        assert!(labels.len() >= 4, "{labels:?}");
        let mut distinct = labels.clone();
        distinct.dedup();
        assert_eq!(distinct, labels, "repeated tick labels");
        assert!(labels.iter().all(|l| !l.contains('k')), "{labels:?}");
    }

    #[test]
    fn a_boxs_title_says_members_l_b_and_why() {
        let t = tiny();
        assert_eq!(
            box_title(&t.boxes[2]),
            "GPU 0, bin 0: a batch of 40 requests\nmembers: #11, #12, #13, #14, #15 and 35 more\nL = 812 tokens (longest prompt + output), b = 40, a token every 7.50 ms\n12.0 s to 18.0 s (6.00 s)\nsize set by the memory cap (b_mem)"
        );
        assert!(box_title(&t.boxes[1]).contains("members: #8, #9, #10\n"));
        let run = TimelineBox {
            detail: BoxDetail::Run { iterations: 37, decoding: 10, prefilling: 2, prefill_tokens: 1024 },
            why: Some(SizeReason::MaxSeqs),
            size: 12,
            ..t.boxes[0].clone()
        };
        let title = box_title(&run);
        assert!(title.starts_with("GPU 0, bin 1: 37 iterations of 12 sequences\n"), "{title}");
        assert!(title.contains("b = 12 (10 decoding, 2 prefilling 1024 prompt tokens)"));
        assert!(title.ends_with("size set by the most running sequences (max_seqs)"));
    }

    #[test]
    fn the_readout_follows_the_samples_and_the_lanes() {
        let t = tiny();
        assert_eq!(now_text(&t, 10.0), "10.0 s: waiting bin 0: 1, bin 1: 7; memory held by running batches 25.0 %");
        assert_eq!(now_text(&t, 13.0), "13.0 s: waiting bin 0: 4, bin 1: 2; memory held by running batches 50.0 %");
        assert_eq!(now_text(&t, 19.0), "19.0 s: waiting bin 0: 0, bin 1: 2; memory held by running batches 12.5 %");
        let lanes = Lanes::new(&t);
        assert_eq!(lanes.at(&t, 0, 12.5).map(|b| b.size), Some(40));
        assert_eq!(lanes.at(&t, 0, 11.0).map(|b| b.size), Some(12));
        assert_eq!(lanes.at(&t, 1, 11.02).map(|b| b.size), Some(3));
        assert!(lanes.at(&t, 1, 11.05).is_none() && lanes.at(&t, 0, 19.0).is_none() && lanes.at(&t, 5, 12.0).is_none());
        assert_eq!(
            lanes.describe(&t, 11.0),
            "At 11.0 s: GPU 0: 12 requests (bin 1), size set by the SLA target (b_SLA); GPU 1: 3 requests (bin 0), size set by the queue (every waiting request was taken)."
        );
        // The cursor moves with time, clamped to the window.
        assert_eq!(cursor_transform(&t, 15.0), format!("translate({:.2} 0)", PLOT_W / 2.0));
        assert_eq!(cursor_x(&t, 99.0), LEFT + PLOT_W);
    }

    #[test]
    fn the_summary_says_what_is_left_out() {
        let mut t = tiny();
        assert_eq!(summary(&t), "multi_bin_dynamic from 10.0 s to 20.0 s on GPUs 0–1: 3 batches (every one in the window).");
        t.left_out = 7;
        t.complete_until_s = 18.0;
        t.gpus = 40;
        t.lanes = 32;
        assert_eq!(
            summary(&t),
            "multi_bin_dynamic from 10.0 s to 20.0 s on GPUs 0–31 (only the first 32 of 40 are shown): 3 batches drawn of 10 (at most 3000 are: every one that starts before 18.0 s is; 7 later ones are left out)."
        );
        t.boxes.clear();
        assert!(summary(&t).ends_with("nothing ran in this window (the run's last request completed at 30.0 s)."));
    }
}
