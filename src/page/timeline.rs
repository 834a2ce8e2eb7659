//! "Inside the cluster": after a single run, a window of it as a timeline (drawn by
//! `timeline_view` from the worker's `Response::Timeline`: the worker runs the same
//! configuration again, which is deterministic), with Play / Pause and a scrubber that
//! move a time cursor over it.
//!
//! Playing changes one attribute of the cursor, the scrubber's value and two texts per
//! animation frame; the SVG itself is drawn once per window, so no frame redraws it.

use std::cell::RefCell;

use batchlab::config::{Config, Preset};
use batchlab::report::timeline::timeline_files;
use batchlab::timeline::{busiest_window, Window};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Event, File, HtmlButtonElement};

use super::results::download;
use super::worker_client::{envelope, send_to};
use super::{begin, el, finish, input, on, Job};
use crate::protocol::{Response, RunOutput, Timeline};
use crate::protocol::Request;
use crate::timeline_view::{cursor_svg, cursor_transform, now_text, summary, timeline_svg, Lanes};

/// Milliseconds Play takes to cross the whole window.
const PLAY_MS: f64 = 10_000.0;
/// Steps of the scrubber over the window.
const SCRUB_STEPS: f64 = 1_000.0;
/// The default window's width, seconds.
const DEFAULT_WIDTH_S: f64 = 60.0;

type Files = [Option<File>; 3];

#[derive(Default)]
struct View {
    /// A single run sent and not yet answered: its preset and files.
    sent: Option<(Preset, Files)>,
    /// The run shown: what the worker runs again for a window.
    run: Option<(Preset, Config, Files)>,
    /// A window asked for and not yet drawn.
    drawing: bool,
    shown: Option<(Box<Timeline>, Lanes)>,
    /// The cursor's simulated time.
    time: f64,
    playing: bool,
    last_frame_ms: Option<f64>,
    on_frame: Option<Closure<dyn FnMut(f64)>>,
}

thread_local! {
    static VIEW: RefCell<View> = RefCell::new(View::default());
}

fn with<R>(f: impl FnOnce(&mut View) -> R) -> R {
    VIEW.with(|v| f(&mut v.borrow_mut()))
}

fn button(id: &str) -> HtmlButtonElement {
    el(id).unchecked_into()
}

fn set_status(text: &str) {
    el("timeline-status").set_text_content(Some(text));
}

pub(super) fn wire() {
    on("timeline-draw", "click", |_| draw());
    // Enter in either time field draws, as in a form.
    for id in ["timeline-from", "timeline-to"] {
        on(id, "keydown", |e: Event| {
            if js_sys::Reflect::get(&e, &"key".into()).ok().and_then(|k| k.as_string()).as_deref() == Some("Enter") {
                e.prevent_default();
                draw();
            }
        });
    }
    on("timeline-play", "click", |_| toggle_play());
    on("timeline-scrub", "input", |_| scrubbed());
    // The window drawn as the CLI's `batchlab timeline` writes it (the core's one writer).
    for (id, file) in [("timeline-download-boxes", 0), ("timeline-download-series", 1)] {
        on(id, "click", move |_| {
            let files = with(|v| v.shown.as_ref().map(|(t, _)| timeline_files(t)));
            if let Some((name, text)) = files.and_then(|f| f.into_iter().nth(file)) {
                download(&name, "text/csv", &text);
            }
        });
    }
}

/// A single run was sent with this preset and these files.
pub(super) fn run_sent(preset: Preset, files: &Files) {
    with(|v| v.sent = Some((preset, files.clone())));
}

/// Any answer of a job: a single run offers its timeline; other results replace it.
pub(super) fn results(r: &Response) {
    match r {
        Response::Run(out) => after_run(out),
        Response::Compare(_) | Response::Plan(_) | Response::Study(_) | Response::Sweep(_) | Response::Capacity(_) => hide(),
        _ => {}
    }
}

fn after_run(out: &RunOutput) {
    stop();
    let Some((preset, files)) = with(|v| v.sent.take()) else { return hide() };
    let config = out.result.config.clone();
    with(|v| {
        v.run = Some((preset, config, files));
        v.shown = None;
    });
    let w = busiest_window(&out.result.timeseries, DEFAULT_WIDTH_S);
    input("timeline-from").set_value(&w.from_s.to_string());
    input("timeline-to").set_value(&w.to_s.to_string());
    el("timeline-figure").set_inner_html("");
    el("timeline-now").set_text_content(Some(""));
    el("timeline-under").set_text_content(Some(""));
    set_player(false);
    set_downloads(false);
    set_status("Choose a window of this run (by default its busiest minute) and draw it.");
    let _ = el("timeline").remove_attribute("hidden");
}

fn hide() {
    stop();
    with(|v| {
        v.run = None;
        v.shown = None;
    });
    el("timeline-figure").set_inner_html("");
    set_downloads(false);
    let _ = el("timeline").set_attribute("hidden", "");
}

/// The page's job state: no window is asked for while a job runs.
pub(super) fn set_busy(busy: bool) {
    button("timeline-draw").set_disabled(busy);
    if !busy && with(|v| std::mem::take(&mut v.drawing)) {
        set_status("The window was not drawn (cancelled, or see the message above).");
    }
}

/// The window in the two fields, checked; marks the field at fault.
fn read_window() -> Result<Window, (String, &'static str)> {
    let from_s = input("timeline-from").value_as_number();
    let to_s = input("timeline-to").value_as_number();
    if !(from_s.is_finite() && from_s >= 0.0) {
        return Err(("Timeline window: 'from' must be a number of seconds, 0 or more.".into(), "timeline-from"));
    }
    if !(to_s.is_finite() && to_s > from_s) {
        return Err(("Timeline window: 'to' must be a number of seconds after 'from'.".into(), "timeline-to"));
    }
    Ok(Window { from_s, to_s })
}

fn draw() {
    if with(|a| a.drawing) || super::with(|a| a.busy_since.is_some()) {
        return;
    }
    let Some((preset, config, files)) = with(|v| v.run.clone()) else { return };
    let window = match read_window() {
        Ok(w) => w,
        Err((message, field)) => return mark_window(Some(field), &message),
    };
    mark_window(None, "");
    stop();
    with(|v| v.drawing = true);
    set_status("Drawing: the worker runs the configuration again…");
    // The run again, as a job of the page's: Cancel stops it, and no other job starts meanwhile.
    begin(Job::Run);
    let request = Request::Timeline { preset, config, from_s: window.from_s, to_s: window.to_s };
    send_to(0, envelope(&request, &files));
}

/// Show a drawn window, and end its job.
pub(super) fn show(t: &Timeline) {
    let requests = with(|v| {
        v.drawing = false;
        v.time = t.window.from_s;
        v.shown = Some((Box::new(t.clone()), Lanes::new(t)));
        v.run.as_ref().map_or(0, |(_, c, _)| c.requests)
    });
    el("timeline-figure").set_inner_html(&format!(r#"<div class="timeline-stack">{}{}</div>"#, timeline_svg(t), cursor_svg(t)));
    set_status(&summary(t));
    set_player(!t.t_s.is_empty() || !t.boxes.is_empty());
    set_downloads(true);
    update(true);
    finish(&format!("done: the timeline drawn, 1 run of {requests} requests simulated again"));
    let section = el("timeline");
    let drawn = section.get_attribute("data-drawn").and_then(|n| n.parse::<u32>().ok()).unwrap_or(0) + 1;
    let _ = section.set_attribute("data-drawn", &drawn.to_string());
}

/// Say what is wrong with the window beside its fields (and mark the field), or clear it.
fn mark_window(field: Option<&str>, message: &str) {
    for id in ["timeline-from", "timeline-to"] {
        let e = el(id);
        if Some(id) == field {
            let _ = e.set_attribute("aria-invalid", "true");
            let _ = e.set_attribute("aria-errormessage", "timeline-error");
            if let Ok(h) = e.dyn_into::<web_sys::HtmlElement>() {
                let _ = h.focus();
            }
        } else {
            let _ = e.remove_attribute("aria-invalid");
            let _ = e.remove_attribute("aria-errormessage");
        }
    }
    el("timeline-error").set_text_content(Some(message));
}

fn set_downloads(enabled: bool) {
    button("timeline-download-boxes").set_disabled(!enabled);
    button("timeline-download-series").set_disabled(!enabled);
}

fn set_player(enabled: bool) {
    button("timeline-play").set_disabled(!enabled);
    input("timeline-scrub").set_disabled(!enabled);
    input("timeline-scrub").set_value("0");
    show_playing(false);
}

fn show_playing(playing: bool) {
    el("timeline-play").set_text_content(Some(if playing { "Pause" } else { "Play" }));
    let _ = el("timeline").set_attribute("data-playing", if playing { "true" } else { "false" });
}

/// Move the cursor, the scrubber and the readout to the current time; `full` also says
/// what each GPU runs then (not on every frame of play).
fn update(full: bool) {
    let texts = with(|v| {
        let (t, lanes) = v.shown.as_ref()?;
        let span = t.window.to_s - t.window.from_s;
        let step = ((v.time - t.window.from_s) / span * SCRUB_STEPS).round().clamp(0.0, SCRUB_STEPS);
        Some((cursor_transform(t, v.time), step, now_text(t, v.time), full.then(|| lanes.describe(t, v.time))))
    });
    let Some((transform, step, now, under)) = texts else { return };
    if let Some(cursor) = super::document().get_element_by_id("timeline-cursor") {
        let _ = cursor.set_attribute("transform", &transform);
    }
    let scrub = input("timeline-scrub");
    scrub.set_value(&format!("{step}"));
    let _ = scrub.set_attribute("aria-valuetext", &now);
    el("timeline-now").set_text_content(Some(&now));
    if let Some(under) = under {
        el("timeline-under").set_text_content(Some(&under));
    }
}

fn scrubbed() {
    let step = input("timeline-scrub").value_as_number();
    with(|v| {
        if let (Some((t, _)), true) = (&v.shown, step.is_finite()) {
            v.time = t.window.from_s + (t.window.to_s - t.window.from_s) * step / SCRUB_STEPS;
        }
    });
    update(true);
}

fn toggle_play() {
    if with(|v| v.playing) {
        stop();
        return update(true);
    }
    let started = with(|v| {
        let (t, _) = v.shown.as_ref()?;
        if v.time >= t.window.to_s {
            v.time = t.window.from_s; // from the start again
        }
        v.playing = true;
        v.last_frame_ms = None;
        Some(())
    });
    if started.is_some() {
        show_playing(true);
        request_frame();
    }
}

fn stop() {
    with(|v| v.playing = false);
    show_playing(false);
}

fn request_frame() {
    let Some(window) = web_sys::window() else { return };
    with(|v| {
        let f = v.on_frame.get_or_insert_with(|| Closure::<dyn FnMut(f64)>::new(frame));
        let _ = window.request_animation_frame(f.as_ref().unchecked_ref());
    });
}

/// One animation frame of play: advance the time by the frame's share of `PLAY_MS`.
fn frame(now_ms: f64) {
    let go_on = with(|v| {
        if !v.playing {
            return None;
        }
        let (t, _) = v.shown.as_ref()?;
        let (from, to) = (t.window.from_s, t.window.to_s);
        let elapsed = v.last_frame_ms.map_or(0.0, |last| (now_ms - last).max(0.0));
        v.last_frame_ms = Some(now_ms);
        v.time = (v.time + elapsed / PLAY_MS * (to - from)).min(to);
        v.playing = v.time < to;
        Some(v.playing)
    });
    match go_on {
        Some(true) => {
            update(false);
            request_frame();
        }
        Some(false) => {
            show_playing(false);
            update(true);
        }
        None => {}
    }
}
