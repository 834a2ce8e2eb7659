//! A trace being read by a worker: "reading trace.csv: 37% (12.3 MB of 33.1 MB)" in the
//! status line and the progress bar, and what they said before put back once it is read
//! (or refused). Also the link's `?max-trace-rows=N`, a test hook that only lowers the
//! worker's cap on rows kept (`trace_file::max_rows`).

use std::cell::RefCell;

use super::{el, set_status};

thread_local! {
    /// The status line's text and the bar's value before the reading began.
    static BEFORE: RefCell<Option<(String, String)>> = const { RefCell::new(None) };
}

/// A worker read `read` bytes of `file`'s `size`.
pub(super) fn reading(file: &str, read: f64, size: f64) {
    let (status, bar) = (el("status"), el("progress"));
    BEFORE.with(|b| {
        b.borrow_mut().get_or_insert_with(|| (status.text_content().unwrap_or_default(), bar.get_attribute("value").unwrap_or_default()));
    });
    if read >= size {
        return over();
    }
    let fraction = if size > 0.0 { read / size } else { 1.0 };
    let _ = bar.set_attribute("value", &format!("{fraction}"));
    set_status(&format!("reading {file}: {:.0}% ({} of {})", fraction * 100.0, megabytes(read), megabytes(size)));
}

/// The reading is over (read whole, or refused): the status and bar as they were.
pub(super) fn over() {
    if let Some((status, bar)) = BEFORE.with(|b| b.borrow_mut().take()) {
        set_status(&status);
        let _ = el("progress").set_attribute("value", &bar);
    }
}

fn megabytes(bytes: f64) -> String {
    format!("{:.1} MB", bytes / 1e6)
}

/// The link's `?max-trace-rows=N`, if any (the worker ignores it unless it is lower
/// than its own cap).
pub(super) fn lowered_cap() -> Option<f64> {
    let search = web_sys::window()?.location().search().ok()?;
    search.trim_start_matches('?').split('&').find_map(|kv| kv.strip_prefix("max-trace-rows=")?.parse::<f64>().ok())
}
