//! The page's entry points for the fuzz targets (`fuzz/fuzz_targets/*.rs`) and for the
//! stable test that replays their kept inputs (`tests/fuzz_regressions.rs`); see
//! `batchlab::fuzzing`. A panic, an empty or multi-line message, or a broken invariant
//! asserted here is a bug.

use crate::protocol::Request;
use crate::state::UiState;

pub use batchlab::fuzzing::Outcome;

/// The message, checked to be one non-empty line.
fn line(text: String) -> String {
    assert!(!text.trim().is_empty() && !text.contains(['\n', '\r']), "not a one-line message: {text:?}");
    text
}

/// A URL fragment (any bytes, read as the browser hands them over: lossy UTF-8). Every
/// problem is one line, and the state it gives writes a link that reads back with no
/// problem to the same configuration and the same link (a shared link reproduces the
/// page; the link drops the spaces of the sweep's value lists, which mean nothing).
pub fn fragment(bytes: &[u8]) -> Outcome {
    let text = String::from_utf8_lossy(bytes);
    let (state, problems) = UiState::from_fragment(&text);
    for p in &problems {
        line(p.message.clone());
    }
    let link = state.to_fragment();
    let (again, more) = UiState::from_fragment(&link);
    assert!(more.is_empty(), "the page's own link {link:?} has problems: {more:?}");
    assert_eq!(again.to_fragment(), link, "the page's own link reads back to another link");
    assert_eq!(again.to_config(), state.to_config(), "the page's own link {link:?} reads back to another configuration");
    let _ = state.to_config().validate();
    let _ = state.to_capacity();
    state.to_sweep_spec().map_err(line)?;
    Ok(())
}

/// A message to the worker (here as JSON: the page sends it through serde-wasm-bindgen,
/// with the same derived `Deserialize`), checked as the worker checks before a run.
pub fn request(bytes: &[u8]) -> Outcome {
    let request: Request = serde_json::from_slice(bytes).map_err(|e| line(crate::protocol::bad_request(e)))?;
    let checked = match &request {
        Request::Check => Ok(()),
        Request::Run { config, .. } | Request::Timeline { config, .. } => config.validate(),
        Request::Source { spec } => spec.validate(),
        Request::Task { task, .. } => task.config.validate().and_then(|()| task.workload.validate()),
        Request::Study { spec, .. } => spec.validate(),
    };
    checked.map_err(|e| line(e.to_string()))
}
