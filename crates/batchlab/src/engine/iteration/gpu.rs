//! One GPU of continuous batching: its waiting queue, its running sequences, its paged
//! KV cache, and the runs of iterations it plans and completes.
//!
//! Decoding sequences are not visited per iteration. A sequence that starts decoding at
//! iteration `i0` with `s0` tokens stored emits one token per iteration, so at iteration
//! I it has `s0 + I - i0` tokens stored; it needs a new KV block at the iterations where
//! that is a multiple of the block size (one residue class mod B: its `phase`), and it
//! finishes at a known iteration (`finish_iter`, kept in a heap). Its gaps are the
//! durations of the iterations it ran in, so per-GPU running counts of iterations above
//! each limit give its own counts by difference.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use super::run_math::{seconds_of, Arith, Fs};
use super::{Book, LoggedRun};
use crate::engine::SizeReason;

/// A running sequence.
#[derive(Debug, Clone, Copy)]
struct Member {
    request: u32,
    /// Admission number (unique over the run): the most recent is preempted first.
    admitted: u64,
    /// Tokens its prefill processes: the prompt plus the tokens emitted before a preemption.
    prefill_len: u32,
    prefilled: u32,
    decoding: bool,
    /// First decode iteration, the iteration it is no longer in, and the GPU's counts of
    /// iterations above the two gap limits when it started decoding.
    i0: u64,
    finish_iter: u64,
    above_tbt_at_i0: u64,
    above_token_at_i0: u64,
    phase: u32,
}

/// The iterations planned at a boundary: one with prefill work, or a run of pure decodes.
#[derive(Debug, Clone)]
pub struct Run {
    pub start: Fs,
    pub m: u64,
    pub arith: Arith,
    /// (slot, tokens) of the prefill chunks of a single iteration; empty for a decode run.
    chunks: Vec<(u32, u32)>,
    /// Whether arrivals may cut the run short (a decode run with an empty waiting queue).
    pub cut_by_arrival: bool,
    /// Blocks in use once the run's first iteration has taken its own.
    used_blocks_at_start: u64,
    /// What kept more sequences from joining at its start.
    why: SizeReason,
}

pub struct Gpu {
    pub waiting: VecDeque<u32>,
    slots: Vec<Member>,
    free_slots: Vec<u32>,
    /// Running slots (prefilling or decoding), for preemption and admission limits.
    running: Vec<u32>,
    decoders: u64,
    /// Decoders per phase (I mod B).
    phase_count: Vec<u64>,
    /// Sum over decoders of (stored tokens - i0): their context at iteration I is this + decoders * I.
    ctx_const: i128,
    finish_heap: BinaryHeap<Reverse<(u64, u64, u32)>>,
    /// Iterations run so far; counts of them with a gap above the TBT SLO / the token SLA.
    iter: u64,
    above_tbt: u64,
    above_token: u64,
    pub free_blocks: u64,
    pub total_blocks: u64,
    pub clock: Fs,
    pub run: Option<Run>,
    /// Idle until a boundary at `clock` already in the event heap (an arrival woke it).
    pub starting: bool,
    /// Bumped whenever the run's end moves, so stale heap entries are skipped.
    pub epoch: u64,
    /// Prompt + predicted output of the requests routed here and not finished.
    pub outstanding: u64,
    pub busy: Fs,
    /// Time integral of used blocks (block-seconds), and the peak of used blocks.
    pub used_integral: f64,
    pub used_peak: u64,
}

impl Gpu {
    pub fn new(total_blocks: u64, block_tokens: u32) -> Self {
        Gpu {
            waiting: VecDeque::new(),
            slots: Vec::new(),
            free_slots: Vec::new(),
            running: Vec::new(),
            decoders: 0,
            phase_count: vec![0; block_tokens as usize],
            ctx_const: 0,
            finish_heap: BinaryHeap::new(),
            iter: 0,
            above_tbt: 0,
            above_token: 0,
            free_blocks: total_blocks,
            total_blocks,
            clock: 0,
            run: None,
            starting: false,
            epoch: 0,
            outstanding: 0,
            busy: 0,
            used_integral: 0.0,
            used_peak: 0,
        }
    }

    pub fn running_len(&self) -> usize {
        self.running.len()
    }

    fn block_tokens(&self) -> u64 {
        self.phase_count.len() as u64
    }

    fn blocks_for(&self, tokens: u64) -> u64 {
        tokens.div_ceil(self.block_tokens())
    }

    /// Blocks the decoders need over iterations `from..from + k`: one per decoder per B
    /// iterations, at the iterations of its phase.
    fn blocks_needed(&self, from: u64, k: u64) -> u64 {
        let b = self.block_tokens();
        let mut need = (k / b) * self.decoders;
        for j in 0..k % b {
            need += self.phase_count[((from + j) % b) as usize];
        }
        need
    }

    /// How many iterations from `from` on the free blocks cover: the largest k with
    /// `blocks_needed(from, k) <= free`.
    fn iterations_covered(&self, from: u64, free: u64) -> u64 {
        if self.decoders == 0 {
            return u64::MAX;
        }
        let b = self.block_tokens();
        let cycles = free / self.decoders;
        let mut left = free - cycles * self.decoders;
        let mut k = cycles.saturating_mul(b);
        loop {
            let need = self.phase_count[((from.wrapping_add(k)) % b) as usize];
            if need > left {
                return k;
            }
            left -= need;
            k = k.saturating_add(1);
        }
    }

    /// Plan the next iterations at `self.clock`; None when there is nothing to run.
    pub fn plan(&mut self, book: &mut Book) -> Option<Run> {
        if self.running.is_empty() && self.waiting.is_empty() {
            return None;
        }
        let b = self.block_tokens();
        // 1. This iteration's new blocks for the decoders, preempting if they do not fit.
        let mut preempted = false;
        let mut need = if self.decoders > 0 { self.phase_count[(self.iter % b) as usize] } else { 0 };
        if need > self.free_blocks {
            need = self.preempt_for(need, book);
            preempted = true;
        }
        self.free_blocks -= need;
        // 2. Prefill chunks: continuing ones first, then admissions (FCFS).
        let mut budget = u64::from(book.p.max_batched_tokens).saturating_sub(self.decoders);
        let mut chunks = Vec::new();
        let mut continuing: Vec<u32> = self.running.iter().copied().filter(|&s| !self.slots[s as usize].decoding).collect();
        continuing.sort_unstable_by_key(|&s| self.slots[s as usize].admitted);
        for slot in continuing {
            let m = &self.slots[slot as usize];
            if budget > 0 {
                let chunk = u64::from(m.prefill_len - m.prefilled).min(budget);
                chunks.push((slot, chunk as u32));
                budget -= chunk;
            }
        }
        let mut head_blocked = false;
        let mut why = SizeReason::Queue;
        // After a preemption no sequence joins in the same iteration (as vLLM), unless
        // nothing would run at all.
        if preempted && !self.running.is_empty() {
            why = SizeReason::Preemption;
        } else {
            while let Some(&r) = self.waiting.front() {
                // An empty prompt still prefills one token (the start of the sequence).
                let len = (u64::from(book.w_prompt[r as usize]) + u64::from(book.emitted[r as usize])).max(1);
                let blocks = self.blocks_for(len);
                let fits = if self.running.is_empty() { blocks <= self.free_blocks } else { blocks + book.p.watermark_blocks <= self.free_blocks };
                let chunk = if book.p.chunked_prefill {
                    len.min(budget)
                } else if chunks.is_empty() || len <= budget {
                    // A prompt longer than the budget is prefilled as its iteration's only one.
                    len
                } else {
                    0
                };
                let full = self.running.len() >= book.p.max_seqs as usize;
                if full || !fits || chunk == 0 {
                    why = if full {
                        SizeReason::MaxSeqs
                    } else if !fits {
                        SizeReason::KvCache
                    } else {
                        SizeReason::TokenBudget
                    };
                    head_blocked = true;
                    break;
                }
                self.waiting.pop_front();
                book.waiting_in_bin[book.bin_of[r as usize] as usize] -= 1;
                let slot = self.admit(r, len as u32, book);
                self.free_blocks -= blocks;
                budget = budget.saturating_sub(chunk);
                chunks.push((slot, chunk as u32));
            }
        }
        // In use from the run's start: its first iteration's blocks are taken.
        let used_blocks_at_start = self.total_blocks - self.free_blocks;
        let c = &book.p.cost;
        let ctx = (self.ctx_const + self.decoders as i128 * self.iter as i128) as u128;
        let decoders = self.decoders as u128;
        // The iteration's compute, added to its memory time or overlapped with it.
        let priced = |compute: Fs, ctx0: u128, n: u128| {
            let (base, compute) = if book.p.overlap { (c[0], compute) } else { (c[0] + compute, 0) };
            Arith { base, compute, c_ctx: c[3], ctx0, n }
        };
        if !chunks.is_empty() {
            let tokens: u128 = chunks.iter().map(|&(_, t)| t as u128).sum();
            let reads: u128 = chunks.iter().map(|&(s, _)| self.slots[s as usize].prefilled as u128).sum();
            let arith = priced(c[1] * tokens + c[2] * decoders, ctx + reads, 0);
            // One iteration: the decoders' gap is its duration (n = 0 keeps it constant).
            return Some(Run { start: self.clock, m: 1, arith, chunks, cut_by_arrival: false, used_blocks_at_start, why });
        }
        debug_assert!(self.decoders > 0, "a running GPU has decoders or prefill work");
        let arith = priced(c[2] * decoders, ctx, decoders);
        let finish = self.finish_heap.peek().map_or(u64::MAX, |Reverse((f, _, _))| f - self.iter);
        // A waiting head that was not even tried (after a preemption) may fit next time.
        let m = if preempted && !self.waiting.is_empty() && !head_blocked {
            1
        } else {
            finish.min(self.iterations_covered(self.iter + 1, self.free_blocks).saturating_add(1))
        };
        let cut_by_arrival = self.waiting.is_empty();
        Some(Run { start: self.clock, m, arith, chunks, cut_by_arrival, used_blocks_at_start, why })
    }

    /// `run` (not yet completed) as the timeline draws it: its members are this GPU's
    /// decoders and its prefill chunks; the `members` lowest request ids among them.
    pub fn logged(&self, gpu: u32, run: &Run, start_s: f64, end_s: f64, members: usize) -> LoggedRun {
        let in_chunks = |s: u32| run.chunks.iter().any(|&(c, _)| c == s);
        let mut ids: Vec<u32> =
            self.running.iter().filter(|&&s| self.slots[s as usize].decoding || in_chunks(s)).map(|&s| self.slots[s as usize].request).collect();
        ids.sort_unstable();
        ids.truncate(members);
        LoggedRun {
            gpu,
            start_s,
            end_s,
            iterations: run.m,
            decoding: self.decoders as u32,
            prefilling: run.chunks.len() as u32,
            prefill_tokens: run.chunks.iter().map(|&(_, t)| u64::from(t)).sum(),
            members: ids,
            why: run.why,
        }
    }

    fn admit(&mut self, request: u32, prefill_len: u32, book: &mut Book) -> u32 {
        let member = Member {
            request,
            admitted: book.next_admission,
            prefill_len,
            prefilled: 0,
            decoding: false,
            i0: 0,
            finish_iter: 0,
            above_tbt_at_i0: 0,
            above_token_at_i0: 0,
            phase: 0,
        };
        book.next_admission += 1;
        let r = request as usize;
        if book.first_admit[r] == Fs::MAX {
            book.first_admit[r] = self.clock;
        }
        let slot = match self.free_slots.pop() {
            Some(s) => {
                self.slots[s as usize] = member;
                s
            }
            None => {
                self.slots.push(member);
                (self.slots.len() - 1) as u32
            }
        };
        self.running.push(slot);
        slot
    }

    /// Free blocks for `need` decoders by preempting the most recently admitted running
    /// sequences (recompute: their blocks are freed, they go back to the front of the
    /// queue). Returns the blocks this iteration still needs.
    fn preempt_for(&mut self, mut need: u64, book: &mut Book) -> u64 {
        let b = self.block_tokens();
        let phase = (self.iter % b) as u32;
        while need > self.free_blocks {
            let (pos, &victim) = self
                .running
                .iter()
                .enumerate()
                .max_by_key(|&(_, &s)| self.slots[s as usize].admitted)
                .expect("blocks are held by running sequences");
            let m = self.slots[victim as usize];
            if m.decoding && m.phase == phase {
                need -= 1;
            }
            self.running.swap_remove(pos);
            self.leave(victim, book);
            self.waiting.push_front(m.request);
            book.waiting_in_bin[book.bin_of[m.request as usize] as usize] += 1;
            book.preemptions += 1;
        }
        need
    }

    /// Take a running sequence out (preempted): settle its tokens, gaps and blocks.
    fn leave(&mut self, slot: u32, book: &mut Book) {
        let m = self.slots[slot as usize];
        let r = m.request as usize;
        if m.decoding {
            let done = self.iter - m.i0;
            self.stop_decoding(&m, book);
            book.emitted[r] += done as u32;
            book.last_token[r] = self.clock;
            self.free_blocks += self.blocks_for(u64::from(m.prefill_len) + done);
        } else {
            self.free_blocks += self.blocks_for(u64::from(m.prefill_len));
        }
        self.release(slot);
    }

    /// The slot is free; its heap entry, if any, is stale from now on.
    fn release(&mut self, slot: u32) {
        self.slots[slot as usize].admitted = u64::MAX;
        self.free_slots.push(slot);
    }

    /// Its gaps' counts above the limits (by difference of the GPU's counts), and it
    /// leaves the decoders' sums.
    fn stop_decoding(&mut self, m: &Member, book: &mut Book) {
        let r = m.request as usize;
        book.above_tbt[r] += (self.above_tbt - m.above_tbt_at_i0) as u32;
        book.above_token[r] += (self.above_token - m.above_token_at_i0) as u32;
        self.decoders -= 1;
        self.phase_count[m.phase as usize] -= 1;
        self.ctx_const -= i128::from(m.prefill_len) - m.i0 as i128;
    }

    /// Complete `run` after its first `m` iterations (an arrival may have cut it short):
    /// advance the clock and the counts, finish prefills and sequences.
    pub fn complete(&mut self, run: &Run, m: u64, book: &mut Book) {
        let a = &run.arith;
        let end = run.start + a.total(m);
        // The decoders' gaps: every iteration, once per decoder.
        let decoders = self.decoders;
        a.add_to_histogram(m, decoders, &book.edges, &mut book.last_bucket, &mut book.tbt);
        self.above_tbt += a.count_above(m, book.p.tbt_slo_s);
        self.above_token += a.count_above(m, book.p.d_sla_token_s);
        if m > 1 {
            self.free_blocks -= self.blocks_needed(self.iter + 1, m - 1);
        }
        book.iterations += m;
        book.runs += 1;
        let members = decoders + run.chunks.len() as u64;
        book.members += members * m;
        book.size_min = book.size_min.min(members);
        book.size_max = book.size_max.max(members);
        self.busy += end - run.start;
        self.iter += m;
        self.clock = end;
        let used_end = self.total_blocks - self.free_blocks;
        self.used_integral += (run.used_blocks_at_start + used_end) as f64 / 2.0 * seconds_of(end - run.start);
        self.used_peak = self.used_peak.max(used_end);
        for &(slot, chunk) in &run.chunks {
            self.slots[slot as usize].prefilled += chunk;
            let m = self.slots[slot as usize];
            if m.prefilled == m.prefill_len {
                self.end_prefill(slot, book);
            }
        }
        while let Some(&Reverse((f, admitted, slot))) = self.finish_heap.peek() {
            if f > self.iter {
                break;
            }
            self.finish_heap.pop();
            let m = self.slots[slot as usize];
            if m.admitted != admitted || !m.decoding {
                continue; // preempted since
            }
            let done = f - m.i0;
            self.stop_decoding(&m, book);
            self.free_blocks += self.blocks_for(u64::from(m.prefill_len) + done);
            book.emitted[m.request as usize] += done as u32;
            self.finish(slot, book);
        }
    }

    /// A prefill ended with this iteration: the sequence emits its next token (its
    /// first, or the one after those emitted before a preemption) and decodes from now on.
    fn end_prefill(&mut self, slot: u32, book: &mut Book) {
        let m = self.slots[slot as usize];
        let r = m.request as usize;
        let output = book.w_output[r];
        if output == 0 {
            // Nothing to emit: the (empty) response is complete.
            self.free_blocks += self.blocks_for(u64::from(m.prefill_len));
            return self.finish(slot, book);
        }
        if book.emitted[r] == 0 {
            book.first_token[r] = self.clock;
        } else {
            book.add_gap(r, self.clock - book.last_token[r]);
        }
        book.emitted[r] += 1;
        book.last_token[r] = self.clock;
        if book.emitted[r] == output {
            self.free_blocks += self.blocks_for(u64::from(m.prefill_len));
            return self.finish(slot, book);
        }
        let b = self.block_tokens();
        let member = &mut self.slots[slot as usize];
        member.decoding = true;
        member.i0 = self.iter;
        member.finish_iter = self.iter + u64::from(output - book.emitted[r]);
        member.above_tbt_at_i0 = self.above_tbt;
        member.above_token_at_i0 = self.above_token;
        // It needs a block at iteration I when prefill_len + (I - i0) is a multiple of B.
        member.phase = ((self.iter as i128 - i128::from(member.prefill_len)).rem_euclid(b as i128)) as u32;
        self.decoders += 1;
        self.phase_count[member.phase as usize] += 1;
        self.ctx_const += i128::from(member.prefill_len) - self.iter as i128;
        self.finish_heap.push(Reverse((member.finish_iter, member.admitted, slot)));
    }

    fn finish(&mut self, slot: u32, book: &mut Book) {
        let r = self.slots[slot as usize].request;
        let pos = self.running.iter().position(|&s| s == slot).expect("a finishing sequence is running");
        self.running.swap_remove(pos);
        self.release(slot);
        book.finish[r as usize] = self.clock;
        self.outstanding -= book.routed_tokens(r as usize);
    }
}
