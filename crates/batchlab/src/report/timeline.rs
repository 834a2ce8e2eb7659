//! A timeline window (`timeline::Timeline`) as two CSVs: `timeline_boxes.csv`, one row
//! per box (a batch, or a run of iterations), and `timeline_series.csv`, the window's
//! queues and memory sample by sample.

use super::fmt_f64;
use crate::timeline::{BoxDetail, MemoryShown, Timeline};

pub const BOXES_FILE: &str = "timeline_boxes.csv";
pub const SERIES_FILE: &str = "timeline_series.csv";

/// The boxes' columns. A batch has `max_len_tokens` (L, its longest member's prompt +
/// output) and `step_s`; a run of iterations has `iterations`, `decoding`, `prefilling`
/// and `prefill_tokens`; the other kind's cells are empty.
pub const BOX_COLUMNS: [&str; 14] = [
    "gpu",
    "bin",
    "start_s",
    "end_s",
    "size",
    "members",
    "kind",
    "max_len_tokens",
    "step_s",
    "iterations",
    "decoding",
    "prefilling",
    "prefill_tokens",
    "why",
];

/// One row per box, by start then GPU; `members` are the first ids (at most
/// `timeline::MEMBERS_SHOWN`) joined with `;`, `size` is b.
pub fn boxes_csv(t: &Timeline) -> String {
    let mut out = BOX_COLUMNS.join(",") + "\n";
    for b in &t.boxes {
        let members = b.members.iter().map(u32::to_string).collect::<Vec<_>>().join(";");
        let (kind, batch, run) = match &b.detail {
            BoxDetail::Batch { max_len, step_s } => ("batch", [max_len.to_string(), fmt_f64(*step_s)], [""; 4].map(String::from)),
            BoxDetail::Run { iterations, decoding, prefilling, prefill_tokens } => (
                "run",
                [String::new(), String::new()],
                [iterations.to_string(), decoding.to_string(), prefilling.to_string(), prefill_tokens.to_string()],
            ),
        };
        let mut cells = vec![b.gpu.to_string(), b.bin.to_string(), fmt_f64(b.start_s), fmt_f64(b.end_s), b.size.to_string(), members, kind.to_string()];
        cells.extend(batch);
        cells.extend(run);
        cells.push(b.why.map_or(String::new(), |w| w.to_string()));
        out += &cells.join(",");
        out.push('\n');
    }
    out
}

/// The memory column's name: what the share counts.
pub fn memory_column(shown: MemoryShown) -> &'static str {
    match shown {
        MemoryShown::Reserved => "memory_reserved_share",
        MemoryShown::KvBlocks => "kv_blocks_used_share",
    }
}

/// One row per sample (a sample holds from its time on; the first is the last at or
/// before the window's start): `t_s`, requests waiting in each bin (`queue_bin_0`, ...)
/// and the share of memory in use.
pub fn series_csv(t: &Timeline) -> String {
    let mut header = vec!["t_s".to_string()];
    header.extend((0..t.queue_len.len()).map(|b| format!("queue_bin_{b}")));
    header.push(memory_column(t.memory_shown).to_string());
    let mut out = header.join(",") + "\n";
    for (i, &time) in t.t_s.iter().enumerate() {
        let mut cells = vec![fmt_f64(time)];
        cells.extend(t.queue_len.iter().map(|q| q.get(i).map_or(String::new(), u32::to_string)));
        cells.push(t.memory_used.get(i).map_or(String::new(), |&m| fmt_f64(f64::from(m))));
        out += &cells.join(",");
        out.push('\n');
    }
    out
}

/// Both files, as (file name, contents).
pub fn timeline_files(t: &Timeline) -> Vec<(String, String)> {
    vec![(BOXES_FILE.to_string(), boxes_csv(t)), (SERIES_FILE.to_string(), series_csv(t))]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SchedulerKind;
    use crate::engine::SizeReason;
    use crate::timeline::{TimelineBox, Window};

    #[test]
    fn a_batch_and_a_run_fill_their_own_columns() {
        let bx = |detail| TimelineBox { gpu: 1, bin: 2, start_s: 0.5, end_s: 1.25, size: 7, members: vec![3, 4], why: Some(SizeReason::Queue), detail };
        let t = Timeline {
            scheduler: SchedulerKind::MultiBinDynamic,
            gpus: 2,
            lanes: 2,
            bins: 2,
            window: Window { from_s: 0.0, to_s: 2.0 },
            boxes: vec![
                bx(BoxDetail::Batch { max_len: 812, step_s: 0.0075 }),
                bx(BoxDetail::Run { iterations: 37, decoding: 5, prefilling: 2, prefill_tokens: 300 }),
            ],
            left_out: 0,
            complete_until_s: 2.0,
            run_end_s: 3.0,
            t_s: vec![0.0, 1.0],
            queue_len: vec![vec![1, 2], vec![0, 3]],
            memory_used: vec![0.25, 0.5],
            memory_shown: MemoryShown::Reserved,
        };
        let boxes = boxes_csv(&t);
        let lines: Vec<&str> = boxes.lines().collect();
        assert_eq!(lines[0], BOX_COLUMNS.join(","));
        assert_eq!(lines[1], "1,2,0.500000,1.250000,7,3;4,batch,812,0.007500,,,,,queue");
        assert_eq!(lines[2], "1,2,0.500000,1.250000,7,3;4,run,,,37,5,2,300,queue");
        assert_eq!(series_csv(&t), "t_s,queue_bin_0,queue_bin_1,memory_reserved_share\n0.000000,1,0,0.250000\n1.000000,2,3,0.500000\n");
    }
}
