//! The CPU backend of the decode gaps: a tight loop per request, no allocation per
//! token. It evaluates every gap with `gap_f32` (the shader's formula) and buckets it by
//! exact comparison, so its integer counts equal the GPU's.
//!
//! Two shortcuts that do not change a single count: with `kappa = 0` every gap of a
//! segment is the same f32 (`a * (1 + 0 * j) == a`), so a segment is counted in O(1);
//! otherwise the bucket is tracked with a cursor (gaps move slowly along a sequence) and
//! runs of equal buckets are added at once.

use super::histogram::{bucket_f32, LogHistogram, BUCKETS};
use super::plan::{gap_f32, Constants, DecodeSink, RequestGaps, Segment};
use super::DecodeTotals;

pub struct CpuDecode<'a> {
    ext: &'a [f32],
    kr32: f32,
    thr32: f32,
    segments: Vec<Segment>,
    counts: Vec<u64>,
    gaps: u64,
    min32: f32,
    max32: f32,
    violating_gaps: u64,
    token_violating_requests: u64,
    good_requests: u64,
}

impl<'a> CpuDecode<'a> {
    pub fn new(consts: &'a Constants) -> Self {
        CpuDecode {
            ext: &consts.ext32,
            kr32: consts.kr32,
            thr32: consts.thr32,
            segments: Vec::new(),
            counts: vec![0; BUCKETS],
            gaps: 0,
            min32: f32::MAX,
            max32: 0.0,
            violating_gaps: 0,
            token_violating_requests: 0,
            good_requests: 0,
        }
    }

    pub fn into_totals(self) -> DecodeTotals {
        let mut tbt = LogHistogram { counts: self.counts, total: self.gaps, ..Default::default() };
        if self.gaps > 0 {
            tbt.cover(self.min32 as f64, self.max32 as f64);
        }
        DecodeTotals {
            tbt,
            violating_gaps: self.violating_gaps,
            token_violating_requests: self.token_violating_requests,
            good_requests: self.good_requests,
        }
    }

    /// Steps `lo..=hi` of one segment with kappa > 0: returns the violating gaps.
    #[inline]
    fn steps(&mut self, a32: f32, lo: u32, hi: u32) -> u64 {
        let (ext, kr32, thr32) = (self.ext, self.kr32, self.thr32);
        let first = gap_f32(a32, kr32, lo);
        let mut bucket = bucket_f32(ext, first);
        let (mut below, mut above) = (ext[bucket], ext[bucket + 1]);
        let mut run = 0u64;
        let mut violating = 0u64;
        let (mut mn, mut mx) = (self.min32, self.max32);
        for j in lo..=hi {
            let g = gap_f32(a32, kr32, j);
            if g < below || g >= above {
                self.counts[bucket] += run;
                run = 0;
                bucket = if g >= above && bucket + 2 < ext.len() && g < ext[bucket + 2] { bucket + 1 } else { bucket_f32(ext, g) };
                below = ext[bucket];
                above = ext[bucket + 1];
            }
            run += 1;
            violating += (g > thr32) as u64;
            mn = mn.min(g);
            mx = mx.max(g);
        }
        self.counts[bucket] += run;
        self.min32 = mn;
        self.max32 = mx;
        violating
    }
}

impl DecodeSink for CpuDecode<'_> {
    fn batch(&mut self, segments: &[Segment]) {
        self.segments.clear();
        self.segments.extend_from_slice(segments);
    }

    fn request(&mut self, gaps: RequestGaps, request_sla_ok: bool) {
        let mut violating = 0u64;
        let mut j = gaps.first_step;
        let mut k = gaps.segment as usize;
        while j <= gaps.last_step && k < self.segments.len() {
            let seg = self.segments[k];
            let end = seg.end_step.min(gaps.last_step);
            let count = (end - j + 1) as u64;
            if self.kr32 == 0.0 {
                let g = gap_f32(seg.a32, 0.0, j);
                self.counts[bucket_f32(self.ext, g)] += count;
                if g > self.thr32 {
                    violating += count;
                }
                self.min32 = self.min32.min(g);
                self.max32 = self.max32.max(g);
            } else {
                violating += self.steps(seg.a32, j, end);
            }
            self.gaps += count;
            j = end + 1;
            k += 1;
        }
        self.violating_gaps += violating;
        if violating > 0 {
            self.token_violating_requests += 1;
        } else if request_sla_ok {
            self.good_requests += 1;
        }
    }
}
