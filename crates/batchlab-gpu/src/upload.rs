//! Host-side packing of the decode work into chunks for the shader: flat arrays of
//! work items (up to `STEPS_PER_ITEM` steps of one request), step segments and
//! per-request flags, cut into chunks that respect the buffer and dispatch limits.
//!
//! A chunk holds whole requests (a request's per-token SLA verdict is summed over its
//! items inside one chunk); a batch may span chunks — its segments are then repeated in
//! the next chunk. A chunk holds at least one request, even one with more items than
//! the limit (a request has at most 2^24 / 256 = 65,536 items, far below the hardware
//! bound the limit is clamped to).

use std::ops::Range;

use batchlab::token::{DecodeSink, RequestGaps, Segment};

/// Decode steps per work item: short enough to balance the invocations of a workgroup
/// (output lengths vary from 1 to thousands), long enough to keep the items few.
pub const STEPS_PER_ITEM: u32 = 256;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chunk {
    pub items: Range<usize>,
    pub segs: Range<usize>,
    pub requests: Range<usize>,
    /// Decode gaps in the chunk (the shader counts them too, as a check).
    pub gaps: u64,
}

#[derive(Debug, Default)]
pub struct Upload {
    max_items: usize,
    /// (request index in its chunk, first step, last step, segment index in its chunk).
    pub items: Vec<[u32; 4]>,
    /// (last step, f32 bits of the zero-context step cost).
    pub segs: Vec<[u32; 2]>,
    /// Per request with gaps, in chunk order: 1 if it meets the per-request SLA.
    pub request_ok: Vec<u32>,
    pub chunks: Vec<Chunk>,
    /// The current batch's segments, and where they start in `segs`.
    batch: Vec<Segment>,
    batch_segs_at: usize,
    chunk: Chunk,
}

impl Upload {
    pub fn new(max_items_per_chunk: usize) -> Self {
        Upload { max_items: max_items_per_chunk.max(1), ..Default::default() }
    }

    /// Close the last chunk (call once, after the walk).
    pub fn finish(&mut self) {
        if self.items.len() > self.chunk.items.start {
            self.close_chunk();
        }
    }

    fn close_chunk(&mut self) {
        let end = Chunk {
            items: self.items.len()..self.items.len(),
            segs: self.segs.len()..self.segs.len(),
            requests: self.request_ok.len()..self.request_ok.len(),
            gaps: 0,
        };
        let mut done = std::mem::replace(&mut self.chunk, end);
        done.items.end = self.items.len();
        done.segs.end = self.segs.len();
        done.requests.end = self.request_ok.len();
        self.chunks.push(done);
    }

    fn push_batch_segments(&mut self) {
        self.batch_segs_at = self.segs.len();
        self.segs.extend(self.batch.iter().map(|s| [s.end_step, s.a32.to_bits()]));
    }

    pub fn largest_chunk(&self) -> (usize, usize, usize) {
        self.chunks.iter().fold((0, 0, 0), |(i, s, r), c| (i.max(c.items.len()), s.max(c.segs.len()), r.max(c.requests.len())))
    }
}

impl DecodeSink for Upload {
    fn batch(&mut self, segments: &[Segment]) {
        self.batch.clear();
        self.batch.extend_from_slice(segments);
        self.push_batch_segments();
    }

    fn request(&mut self, gaps: RequestGaps, request_sla_ok: bool) {
        let steps = gaps.last_step - gaps.first_step + 1;
        let n_items = steps.div_ceil(STEPS_PER_ITEM) as usize;
        let in_chunk = self.items.len() - self.chunk.items.start;
        if in_chunk > 0 && in_chunk + n_items > self.max_items {
            self.close_chunk();
            self.push_batch_segments();
        }
        let local_request = (self.request_ok.len() - self.chunk.requests.start) as u32;
        self.request_ok.push(request_sla_ok as u32);
        let seg_base = self.batch_segs_at - self.chunk.segs.start;
        let mut k = gaps.segment as usize;
        let mut first = gaps.first_step;
        while first <= gaps.last_step {
            let last = gaps.last_step.min(first + (STEPS_PER_ITEM - 1));
            while self.batch[k].end_step < first {
                k += 1;
            }
            self.items.push([local_request, first, last, (seg_base + k) as u32]);
            first = last + 1;
        }
        self.chunk.gaps += steps as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(start: u32, end: u32, a: f32) -> Segment {
        Segment { start_step: start, end_step: end, a: a as f64, a32: a, before_s: 0.0 }
    }

    #[test]
    fn items_split_requests_and_chunks_repeat_the_batch_segments() {
        let mut up = Upload::new(3);
        up.batch(&[seg(1, 300, 0.5), seg(301, 700, 0.25)]);
        // 600 steps from 100: items [100..355] seg 0, [356..611] seg 1, [612..699] seg 1.
        up.request(RequestGaps { request: 0, first_step: 100, last_step: 699, segment: 0 }, true);
        // Does not fit with 3 items in the chunk: a new chunk, segments repeated.
        up.request(RequestGaps { request: 1, first_step: 5, last_step: 5, segment: 0 }, false);
        up.batch(&[seg(1, 10, 1.0)]);
        up.request(RequestGaps { request: 2, first_step: 2, last_step: 10, segment: 0 }, true);
        up.finish();
        assert_eq!(up.items, vec![[0, 100, 355, 0], [0, 356, 611, 1], [0, 612, 699, 1], [0, 5, 5, 0], [1, 2, 10, 2]]);
        assert_eq!(up.segs.len(), 5);
        assert_eq!(up.request_ok, vec![1, 0, 1]);
        let c = &up.chunks;
        assert_eq!(c.len(), 2);
        assert_eq!((c[0].items.clone(), c[0].segs.clone(), c[0].requests.clone(), c[0].gaps), (0..3, 0..2, 0..1, 600));
        assert_eq!((c[1].items.clone(), c[1].segs.clone(), c[1].requests.clone(), c[1].gaps), (3..5, 2..5, 1..3, 10));
        assert_eq!(up.largest_chunk(), (3, 3, 2));
    }
}
