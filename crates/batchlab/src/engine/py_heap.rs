//! A binary min-heap that orders equal keys exactly as Python's `heapq` does.
//!
//! The original simulator keeps its events in a `heapq` list compared by time alone, so
//! events at the same time come out in an order fixed by the heap's layout (ten equal
//! events pushed in order pop as 0, 2, 6, 9, 8, 5, 7, 4, 1, 3), not in push order.
//! To replay it, this heap performs the same element moves as CPython's `heappush`
//! (`_siftdown`) and `heappop` (`_siftup`, which sifts to a leaf and then back up),
//! comparing with `<` on the key only.

pub struct PyHeap<T> {
    items: Vec<(f64, T)>,
}

impl<T: Copy> PyHeap<T> {
    pub fn with_capacity(n: usize) -> Self {
        PyHeap { items: Vec::with_capacity(n) }
    }

    pub fn push(&mut self, key: f64, value: T) {
        self.items.push((key, value));
        let last = self.items.len() - 1;
        self.sift_down(0, last);
    }

    pub fn pop(&mut self) -> Option<(f64, T)> {
        let last = self.items.pop()?;
        if self.items.is_empty() {
            return Some(last);
        }
        let top = std::mem::replace(&mut self.items[0], last);
        self.sift_up(0);
        Some(top)
    }

    /// CPython's `_siftdown(heap, startpos, pos)`: move the item at `pos` up towards
    /// `start` while it is strictly smaller than its parent.
    fn sift_down(&mut self, start: usize, mut pos: usize) {
        let item = self.items[pos];
        while pos > start {
            let parent = (pos - 1) >> 1;
            if item.0 < self.items[parent].0 {
                self.items[pos] = self.items[parent];
                pos = parent;
            } else {
                break;
            }
        }
        self.items[pos] = item;
    }

    /// CPython's `_siftup(heap, pos)`: move the smaller child up until a leaf is reached
    /// (the right child when the left is not strictly smaller), put the item there, then
    /// `_siftdown` it back into place.
    // `!(a < b)` on purpose: heapq's own test, which differs from `a >= b` only for NaN.
    #[allow(clippy::neg_cmp_op_on_partial_ord)]
    fn sift_up(&mut self, mut pos: usize) {
        let end = self.items.len();
        let start = pos;
        let item = self.items[pos];
        let mut child = 2 * pos + 1;
        while child < end {
            let right = child + 1;
            if right < end && !(self.items[child].0 < self.items[right].0) {
                child = right;
            }
            self.items[pos] = self.items[child];
            pos = child;
            child = 2 * pos + 1;
        }
        self.items[pos] = item;
        self.sift_down(start, pos);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_equal_keys_pop_in_heapq_order() {
        // Python's heapq on a dataclass(order=True) compared by its time only (the
        // original's `Event`): ten pushes at one time, then ten pops.
        let mut h = PyHeap::with_capacity(10);
        for i in 0..10u32 {
            h.push(1.0, i);
        }
        let order: Vec<u32> = std::iter::from_fn(|| h.pop().map(|(_, v)| v)).collect();
        assert_eq!(order, [0, 2, 6, 9, 8, 5, 7, 4, 1, 3]);
    }

    #[test]
    fn keys_pop_in_order_and_later_pushes_interleave_like_heapq() {
        let mut h = PyHeap::with_capacity(8);
        for (i, k) in [3.0, 1.0, 2.0, 1.0, 3.0].into_iter().enumerate() {
            h.push(k, i as u32);
        }
        let (k, v) = h.pop().unwrap();
        assert_eq!((k, v), (1.0, 1));
        h.push(1.0, 9);
        let rest: Vec<(f64, u32)> = std::iter::from_fn(|| h.pop()).collect();
        let keys: Vec<f64> = rest.iter().map(|r| r.0).collect();
        assert_eq!(keys, [1.0, 1.0, 2.0, 3.0, 3.0]);
        // The same pushes and pops in Python's heapq give these values.
        assert_eq!(rest.iter().map(|r| r.1).collect::<Vec<_>>(), [3, 9, 2, 4, 0]);
    }
}
