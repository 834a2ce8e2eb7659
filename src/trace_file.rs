//! The worker's reading of a dropped trace: the `File` in slices (`SLICE_BYTES` through
//! `Blob.slice` and `FileReaderSync`) straight into the core's streaming parser, so the
//! worker holds the rows kept, never the file; progress posted as the bytes pass; a cap
//! on rows kept (`MAX_ROWS`) from the worker's memory, refused past it in words.

use batchlab::workload::MaxRows;

/// The most trace rows a worker keeps. Measured in Chromium (`tests/browser/
/// trace-memory.mjs`: the worker's `WebAssembly.Memory`, which only grows): 28 MiB after
/// reading 1M rows, 84 MiB after 3M, 180 MiB after 6M (~30 bytes a row: 16 kept, the
/// rest the vectors' growth); a run of the page's largest request count (1M) adds
/// 36-76 MiB. At 20M rows the worst case (just past a doubling, with a predicted column:
/// ~60 bytes a row) is ~1.2 GB with a run, within ~2 GB of a wasm32 worker's 4 GiB.
pub const MAX_ROWS: usize = 20_000_000;

/// Bytes read from the `File` at a time: large enough that the per-slice cost (a
/// `Blob`, a copy out of an `ArrayBuffer`) is noise, small enough to be nothing in memory.
pub const SLICE_BYTES: f64 = (4 << 20) as f64;

/// The cap for this envelope: `MAX_ROWS`, or the page's lower `max_trace_rows` (a link's
/// `?max-trace-rows=N`, for tests); a higher one is ignored: the cap is the worker's memory.
pub fn max_rows(lowered: Option<f64>) -> MaxRows {
    let rows = match lowered {
        Some(n) if n.is_finite() && n >= 1.0 && n < MAX_ROWS as f64 => n as usize,
        _ => MAX_ROWS,
    };
    MaxRows { rows, advice: "the page holds at most that many (its memory); cut the file, or use the CLI (batchlab run --trace FILE --requests N)".into() }
}

#[cfg(target_arch = "wasm32")]
pub use wasm::open;

#[cfg(target_arch = "wasm32")]
mod wasm {
    use std::io::{self, Read};

    use batchlab::session::{Inputs, Session, TraceReader};
    use js_sys::{Reflect, Uint8Array};
    use wasm_bindgen::JsValue;
    use web_sys::{File, FileReaderSync};

    use super::{max_rows, SLICE_BYTES};
    use crate::protocol::Response;

    /// A `File` as an `io::Read`, one slice at a time.
    struct FileSlices {
        file: File,
        reader: FileReaderSync,
        /// Where the next slice starts, and the file's size.
        at: f64,
        size: f64,
        slice: Vec<u8>,
        /// Bytes of `slice` already handed over.
        used: usize,
    }

    fn js_error(e: JsValue) -> io::Error {
        io::Error::other(e.as_string().unwrap_or_else(|| format!("{e:?}")))
    }

    impl Read for FileSlices {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.used == self.slice.len() {
                if self.at >= self.size {
                    return Ok(0);
                }
                let end = (self.at + SLICE_BYTES).min(self.size);
                let blob = self.file.slice_with_f64_and_f64(self.at, end).map_err(js_error)?;
                let buffer = self.reader.read_as_array_buffer(&blob).map_err(js_error)?;
                let bytes = Uint8Array::new(&buffer);
                self.slice.resize(bytes.length() as usize, 0);
                bytes.copy_to(&mut self.slice);
                (self.at, self.used) = (end, 0);
                if self.slice.is_empty() {
                    return Ok(0);
                }
            }
            let n = buf.len().min(self.slice.len() - self.used);
            buf[..n].copy_from_slice(&self.slice[self.used..self.used + n]);
            self.used += n;
            Ok(n)
        }
    }

    /// `Session::open_reading` on `inputs` with `trace` read in slices, every byte (a
    /// worker's session serves every job on its files); `post` gets `Response::Reading`
    /// as the bytes pass.
    pub fn open(trace: File, inputs: &Inputs, envelope: &JsValue, post: &mut dyn FnMut(Response)) -> batchlab::Result<Session> {
        let (name, size) = (trace.name(), trace.size());
        let cannot = |e: JsValue| batchlab::Error::input(&name, None, None, format!("cannot read the file ({e:?})"));
        let reader = FileReaderSync::new().map_err(cannot)?;
        let lowered = Reflect::get(envelope, &"max_trace_rows".into()).ok().and_then(|v| v.as_f64());
        let input = FileSlices { file: trace, reader, at: 0.0, size, slice: Vec::new(), used: 0 };
        let mut progress = |read: u64| post(Response::Reading { file: name.clone(), read: read as f64, size });
        let trace = TraceReader { name: name.clone(), input, max_rows: Some(max_rows(lowered)), progress: Some(&mut progress) };
        Session::open_reading(inputs, trace, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_may_lower_the_cap_but_never_raise_it() {
        assert_eq!(max_rows(None).rows, MAX_ROWS);
        assert_eq!(max_rows(Some(1000.0)).rows, 1000);
        for ignored in [MAX_ROWS as f64, 1e12, f64::INFINITY, f64::NAN, 0.0, -5.0] {
            assert_eq!(max_rows(Some(ignored)).rows, MAX_ROWS, "{ignored}");
        }
        assert!(max_rows(None).advice.contains("--requests"));
    }
}
