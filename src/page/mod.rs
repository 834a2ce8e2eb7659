//! The page's glue: read and write the controls of `index.html`, keep the URL fragment in
//! step with them, send jobs to the worker, show progress, results and downloads.
//!
//! All simulation runs in workers: single runs, file checks and the study in the first;
//! the runs of a plan, comparison, sweep or capacity search on a pool of them, driven from
//! here (`drive::Driver`). Cancel terminates every worker and starts a fresh first one (a
//! worker inside a synchronous wasm call cannot receive a message), which stops any run
//! at once; a new worker's "ready" message is awaited before it gets work.

use std::cell::RefCell;

use batchlab::capacity::CapacityJob;
use batchlab::config::Preset;
use batchlab::plan::PlanSpec;
use batchlab::session::CompareJob;
use batchlab::sweep::SweepJob;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DragEvent, Element, Event, File, HtmlInputElement, HtmlSelectElement, Worker};

use crate::drive::{Driver, PooledJob};
use crate::protocol::{Request, Response};
use crate::state::{Problem, UiState};

mod controls;
mod pool;
mod reading;
mod results;
mod timeline;
mod worker_client;
use controls::{read_state, show_values, write_state};
use results::{download, show_capacity, show_plan, show_runs, show_study, show_sweep};
use pool::{received_from, start_driving};
use worker_client::{envelope, ensure_workers, pool_size, restart_workers, send_to, start_first_worker, worker_ready};

/// The jobs; a link with `show=<name>` starts one once the page is ready, so a shared
/// link reproduces a figure. The name is also the id of the job's button.
#[derive(Clone, Copy, PartialEq)]
enum Job {
    Run,
    Compare,
    Plan,
    Study,
    Sweep,
    Capacity,
}

impl Job {
    const ALL: [Job; 6] = [Job::Run, Job::Compare, Job::Plan, Job::Study, Job::Sweep, Job::Capacity];

    /// What the results heading calls its results.
    fn heading(self) -> &'static str {
        match self {
            Job::Run => "Results: one run",
            Job::Compare => "Results: the schedulers compared",
            Job::Plan => "Results: the paper's stress plan",
            Job::Study => "Results: the final paper's study",
            Job::Sweep => "Results: the sweep",
            Job::Capacity => "Results: each scheduler's capacity",
        }
    }

    /// Its button's words.
    fn button(self) -> &'static str {
        match self {
            Job::Run => "Run",
            Job::Compare => "Compare schedulers",
            Job::Plan => "Reproduce the paper",
            Job::Study => "Reproduce the final paper",
            Job::Sweep => "Sweep",
            Job::Capacity => "Capacity of each scheduler",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Job::Run => "run",
            Job::Compare => "compare",
            Job::Plan => "plan",
            Job::Study => "study",
            Job::Sweep => "sweep",
            Job::Capacity => "capacity",
        }
    }

    /// The job in a sentence's words.
    fn words(self) -> &'static str {
        match self {
            Job::Run => "run",
            Job::Compare => "comparison of schedulers",
            Job::Plan => "stress plan",
            Job::Study => "study",
            Job::Sweep => "sweep",
            Job::Capacity => "capacity search",
        }
    }
}

/// One of the page's workers.
pub(super) struct PoolWorker {
    worker: Worker,
    ready: bool,
    /// Envelopes waiting for its "ready".
    pending: Vec<JsValue>,
    /// It has a run of the job under way.
    busy: bool,
}

/// The user's files, each with its own file input, drop zone and Remove button.
#[derive(Clone, Copy, PartialEq)]
enum Slot {
    Trace,
    Calibration,
    IterationProfile,
}

impl Slot {
    const ALL: [Slot; 3] = [Slot::Trace, Slot::Calibration, Slot::IterationProfile];

    /// The id prefix of its elements in index.html: `<id>-file`, `-zone`, `-name`, `-clear`.
    fn id(self) -> &'static str {
        match self {
            Slot::Trace => "trace",
            Slot::Calibration => "calib",
            Slot::IterationProfile => "profile",
        }
    }

    /// What is used without a file.
    fn fallback(self) -> &'static str {
        match self {
            Slot::Trace => "none: synthetic BurstGPT-like workload",
            Slot::Calibration => "none: the preset's built-in grid",
            Slot::IterationProfile => "none: the roofline prices each iteration",
        }
    }
}

/// A job as it was started: which, on what controls (and trace file), and how.
struct Started {
    job: Job,
    state: UiState,
    trace: Option<String>,
    /// From a button (not a link's `show=` or the first view): its results take focus.
    by_user: bool,
    /// The first view, run by a bare link.
    first_view: bool,
}

#[derive(Default)]
struct App {
    /// The job in progress, or the last one started.
    started: Option<Started>,
    /// The job whose results are shown, and the controls it ran on (they differ from the
    /// controls now: the results are stale).
    shown: Option<(Job, UiState)>,
    /// A live re-run waiting for the controls to settle (`live_rerun`), and whether the
    /// job under way is one (a job the visitor started is never cancelled by a change).
    live_timer: Option<i32>,
    live_running: bool,
    /// The pool; worker 0 is always there.
    workers: Vec<PoolWorker>,
    /// The link's `workers=N`, if any.
    workers_wanted: Option<usize>,
    /// Counts restarts of the pool; messages from a replaced worker are ignored.
    generation: u32,
    /// The job of many runs under way, and the files its runs read.
    driver: Option<Driver>,
    job_files: [Option<File>; 3],
    /// The chart the sweep under way is to draw.
    sweep_metric: String,
    /// The stamp of the job shown (its settings and files) and the files' fingerprints
    /// the worker reported (by file name).
    stamp: Option<crate::stamp::Stamp>,
    fingerprints: Vec<(String, String)>,
    /// The chosen trace's own arrival rate (req/s), once the worker has read it.
    trace_rate_rps: Option<f64>,
    /// A plan waiting for its source's size (`Request::Source`) before its runs start.
    plan_waiting: Option<(Preset, PlanSpec)>,
    /// Start of the job in progress (ms), if any.
    busy_since: Option<f64>,
    timer: Option<i32>,
    /// The chosen files, by `Slot` (in `Slot::ALL` order).
    files: [Option<File>; 3],
    /// What the error region lists: the link's ignored values (each dropped once its
    /// control is changed), the controls' bad values (read on every change), and the
    /// last job's or file's error (with the control the core named, if any).
    link_problems: Vec<Problem>,
    control_problems: Vec<Problem>,
    job_error: Option<Problem>,
    /// The job a link named (`show=`) waiting for the files the link names.
    pending: Option<Job>,
    /// The file names the last link named, by `Slot`.
    linked_files: [Option<String>; 3],
    /// The controls disabled while the job under way leaves them unused.
    unused: Vec<&'static str>,
    /// The file whose check is in flight (a failed check drops it).
    checking: Option<Slot>,
    /// What the download buttons offer: (file name, MIME type, contents).
    downloads: Vec<(String, String, String)>,
    jobs_done: u32,
}

thread_local! {
    static APP: RefCell<App> = RefCell::new(App::default());
}

fn with<R>(f: impl FnOnce(&mut App) -> R) -> R {
    APP.with(|a| f(&mut a.borrow_mut()))
}

fn document() -> web_sys::Document {
    web_sys::window().and_then(|w| w.document()).expect("a page has a document")
}

fn el(id: &str) -> Element {
    document().get_element_by_id(id).unwrap_or_else(|| panic!("index.html lacks #{id}"))
}

fn input(id: &str) -> HtmlInputElement {
    el(id).unchecked_into()
}

fn select(id: &str) -> HtmlSelectElement {
    el(id).unchecked_into()
}

fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map_or(0.0, |p| p.now())
}

fn on(id: &str, event: &str, f: impl FnMut(Event) + 'static) {
    let closure = Closure::<dyn FnMut(Event)>::new(f);
    let _ = el(id).add_event_listener_with_callback(event, closure.as_ref().unchecked_ref());
    closure.forget();
}

/// Show a job's or a file's error (empty: none), beside the controls' problems.
fn show_error(message: &str) {
    let problem = (!message.is_empty()).then(|| Problem { control: None, message: message.into() });
    with(|a| a.job_error = problem);
    render_problems();
}

/// List every problem in the error region, one line each, and mark each control at
/// fault (`aria-invalid`, its `aria-errormessage` the id of its line); other marks go.
fn render_problems() {
    let problems: Vec<Problem> =
        with(|a| a.control_problems.iter().chain(&a.link_problems).chain(&a.job_error).cloned().collect());
    if let Ok(marked) = document().query_selector_all("[aria-invalid]") {
        for i in 0..marked.length() {
            if let Some(e) = marked.item(i).and_then(|n| n.dyn_into::<Element>().ok()) {
                let _ = e.remove_attribute("aria-invalid");
                let _ = e.remove_attribute("aria-errormessage");
                let described = e.get_attribute("aria-describedby").unwrap_or_default();
                let kept: Vec<&str> = described.split_whitespace().filter(|d| !d.starts_with("error-")).collect();
                let _ = if kept.is_empty() { e.remove_attribute("aria-describedby") } else { e.set_attribute("aria-describedby", &kept.join(" ")) };
            }
        }
    }
    let region = el("error");
    region.set_text_content(None);
    let doc = document();
    // One problem is a line of text; several, a list.
    let list = if problems.len() > 1 { doc.create_element("ul").ok() } else { None };
    if let Some(l) = &list {
        let _ = region.append_child(l);
    }
    for (i, p) in problems.iter().enumerate() {
        let Ok(line) = doc.create_element(if list.is_some() { "li" } else { "span" }) else { continue };
        let id = format!("error-{i}");
        line.set_id(&id);
        line.set_text_content(Some(&p.message));
        let _ = list.as_ref().unwrap_or(&region).append_child(&line);
        if let Some(control) = p.control {
            mark(control, &id);
        }
    }
}

/// Mark a control as holding a bad value. Its line also describes it (first): screen
/// readers that ignore aria-errormessage read it on focus, and axe-core asks for it.
fn mark(id: &str, message_id: &str) {
    let e = el(id);
    let _ = e.set_attribute("aria-invalid", "true");
    let _ = e.set_attribute("aria-errormessage", message_id);
    let described = e.get_attribute("aria-describedby").unwrap_or_default();
    let _ = e.set_attribute("aria-describedby", format!("{message_id} {described}").trim());
}

/// Make a control at fault reachable to be fixed: greyed out (continuous batching's under
/// a batch scheduler, the factor under real timestamps), it is enabled again; in a
/// closed section, the section is opened. (Until the next change of the controls, which
/// greys what does not apply again.)
fn reveal(id: &str) {
    let e = el(id);
    if let Ok(Some(f)) = e.closest("fieldset:disabled") {
        let _ = f.remove_attribute("disabled");
    }
    let _ = e.remove_attribute("disabled");
    if let Ok(Some(d)) = e.closest("details") {
        let _ = d.set_attribute("open", "");
    }
}

/// The controls the listed problems name, in the error region's order.
fn problem_controls() -> Vec<&'static str> {
    with(|a| a.control_problems.iter().chain(&a.link_problems).chain(&a.job_error).filter_map(|p| p.control).collect())
}

/// Bring the error region into view and put the focus on the first control at fault,
/// every one of them made reachable.
fn focus_first_problem() {
    el("error").scroll_into_view();
    let controls = problem_controls();
    controls.iter().for_each(|id| reveal(id));
    if let Some(h) = controls.first().and_then(|id| el(id).dyn_into::<web_sys::HtmlElement>().ok()) {
        let _ = h.focus();
    }
}

fn set_status(text: &str) {
    el("status").set_text_content(Some(text));
}

pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        web_sys::console::error_1(&info.to_string().into());
    }));
    fill_sweep_choices();
    wire_controls();
    el("tour").set_inner_html(&crate::tour::html());
    show_files();
    set_busy_ui(false);
    set_status("starting the simulation worker…");
    // The link's worker count first: it sizes the pool.
    let hash = web_sys::window().map(|w| w.location().hash().unwrap_or_default()).unwrap_or_default();
    with(|a| a.workers_wanted = UiState::from_fragment(&hash).0.many.workers);
    start_first_worker();
    el("workers").set_text_content(Some(&format!("runs of a job share {} worker(s)", pool_size())));
    if hash.trim_start_matches('#').is_empty() {
        first_view();
    } else {
        apply_fragment();
    }
    // A link pasted into this tab changes only the fragment: no reload, so apply it.
    let onhash = Closure::<dyn FnMut(Event)>::new(|_| apply_fragment());
    if let Some(w) = web_sys::window() {
        let _ = w.add_event_listener_with_callback("hashchange", onhash.as_ref().unchecked_ref());
    }
    onhash.forget();
    document().body().map(|b| b.set_attribute("data-ready", "true"));
}

/// The sweep form's choices, from the one list of each (`state::SWEEP_FIELDS`,
/// `view::sweep_metric_choices`).
fn fill_sweep_choices() {
    let options = |choices: &mut dyn Iterator<Item = (String, String)>| -> String {
        choices.map(|(v, l)| format!(r#"<option value="{}">{}</option>"#, batchlab_charts::escape(&v), batchlab_charts::escape(&l))).collect()
    };
    let fields = || crate::state::SWEEP_FIELDS.iter().map(|(f, l)| (f.to_string(), l.to_string()));
    el("sweep-x").set_inner_html(&options(&mut fields()));
    el("sweep-s").set_inner_html(&options(&mut std::iter::once((String::new(), "(nothing: one line)".to_string())).chain(fields())));
    el("sweep-metric").set_inner_html(&options(&mut crate::view::sweep_metric_choices().into_iter().map(|(k, l)| (k.to_string(), l))));
}

/// A bare link's first view: the schedulers compared where they differ
/// (`UiState::first_view`), at once. A link with settings but no `show=` runs nothing:
/// it is someone's settings, waiting for a button.
fn first_view() {
    write_state(&UiState::first_view());
    // Its results' room is kept until they come (the settings below do not jump).
    let _ = el("results").set_attribute("data-pending", "true");
    submit_as(Job::Compare, false, true);
}

/// Set the controls from the URL fragment, list what it got wrong, and start the job it
/// names (`show=`) — unless it names files the page does not hold: then a notice says
/// so and the job waits for them, or for the visitor to run it without them.
fn apply_fragment() {
    let hash = web_sys::window().map(|w| w.location().hash().unwrap_or_default()).unwrap_or_default();
    let (state, problems) = UiState::from_fragment(&hash);
    write_state(&state);
    let show = hash.trim_start_matches('#').split('&').find_map(|kv| kv.strip_prefix("show="));
    with(|a| {
        a.link_problems = problems;
        a.control_problems.clear();
        a.job_error = None;
        a.linked_files = state.files.clone();
        a.pending = Job::ALL.into_iter().find(|j| Some(j.name()) == show);
    });
    render_problems();
    problem_controls().iter().for_each(|id| reveal(id));
    el("preset-note").set_text_content(None);
    let names_a_job = with(|a| a.pending.is_some());
    update_notice();
    if !names_a_job && with(|a| a.shown.is_some()) {
        controls_changed(None); // results shown: are they still for these settings?
    }
}

/// Show the notice of the files a link names that the page does not hold; once none is
/// missing, hide it and start the job the link named (queued until the worker is ready).
fn update_notice() {
    let (linked, attached, pending) = with(|a| (a.linked_files.clone(), a.files.each_ref().map(Option::is_some), a.pending));
    let notice = el("link-notice");
    match crate::state::files_notice(&linked, attached, pending.map(Job::words)) {
        Some(text) => {
            el("link-notice-text").set_text_content(Some(&text));
            let _ = notice.remove_attribute("hidden");
            let button = el("link-notice-run");
            let missing = (0..3).filter(|&i| linked[i].is_some() && !attached[i]).count();
            match pending {
                Some(job) => {
                    let them = if missing == 1 { "it" } else { "them" };
                    button.set_text_content(Some(&format!("Run the {} without {them}", job.words())));
                    let _ = button.remove_attribute("hidden");
                }
                None => {
                    let _ = button.set_attribute("hidden", "");
                }
            }
        }
        None => {
            let _ = notice.set_attribute("hidden", "");
            if let Some(job) = with(|a| a.pending.take()) {
                submit_as(job, false, false);
            }
        }
    }
}

fn set_url(fragment: &str) {
    if let Some(h) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = h.replace_state_with_url(&JsValue::NULL, "", Some(&format!("#{fragment}")));
    }
}

// ----- controls <-> UiState -----

/// With a trace chosen: what the load setting makes of its own arrival rate (a public
/// trace with sub-second stamps scaled x200 arrives hundreds of times faster).
fn show_trace_load() {
    let text = match (with(|a| a.trace_rate_rps), read_state()) {
        (Some(rate), Ok(s)) if s.real_timestamps => format!("At real timestamps this trace arrives at {}.", batchlab::report::human::with_unit(rate, "req/s")),
        (Some(rate), Ok(s)) => format!(
            "At RPS scaling ×{} this trace arrives at {} (its own rate: {}).",
            batchlab::report::human::number(s.rps_factor),
            batchlab::report::human::with_unit(rate * s.rps_factor, "req/s"),
            batchlab::report::human::with_unit(rate, "req/s")
        ),
        _ => String::new(),
    };
    el("trace-load").set_text_content(Some(&text));
}

/// After any change (of control `changed`, if one): show the values, put the state in
/// the URL, list the controls' problems. A problem of the link's or of the last job's
/// about the control changed is dropped: its new value is what counts now.
fn controls_changed(changed: Option<&str>) {
    if changed == Some("rps") {
        controls::factor_typed();
    }
    if let Some(id) = changed {
        with(|a| {
            a.link_problems.retain(|p| p.control != Some(id));
            if a.job_error.as_ref().is_some_and(|p| p.control == Some(id)) {
                a.job_error = None;
            }
        });
    }
    show_trace_load();
    match read_state() {
        Ok(s) => {
            with(|a| a.control_problems.clear());
            show_values(&s);
            // The link names the job shown only while the controls are its settings.
            let current = with(|a| a.shown.as_ref().filter(|(_, shown)| *shown == s).map(|(job, _)| *job));
            match current {
                Some(job) => set_url(&format!("{}&show={}", s.to_fragment(), job.name())),
                None => set_url(&s.to_fragment()),
            }
            mark_stale(current.is_none());
            if changed.is_some() && current.is_none() {
                live_rerun(&s);
            }
        }
        Err(problems) => {
            with(|a| a.control_problems = problems);
            mark_stale(true);
        }
    }
    render_problems();
}

/// Grey out the controls the job under way does not read (none when idle), with a line
/// saying so; the others' own greying (`show_values`) is restored after.
fn show_unused(job: Option<Job>) {
    let state = read_state().ok();
    let ids = match (job, &state) {
        (Some(j), Some(s)) => crate::state::unused_by(j.name(), s),
        _ => Vec::new(),
    };
    for id in with(|a| std::mem::replace(&mut a.unused, ids.clone())) {
        let _ = el(id).remove_attribute("disabled");
    }
    for id in &ids {
        let _ = el(id).set_attribute("disabled", "");
    }
    controls::mirror_rate_disabled();
    el("unused-note").set_text_content(Some(&job.map_or(String::new(), |j| crate::state::unused_note(j.name(), &ids))));
    if job.is_none() {
        if let Some(s) = state {
            show_values(&s);
        }
    }
}

/// Live controls: a run or comparison small enough to be quick runs again, by itself,
/// once the controls have been still for a moment; a live re-run still going is
/// cancelled first. Larger ones keep the Run button (the stale note says so).
fn live_rerun(s: &UiState) {
    const MAX_REQUESTS: usize = 200_000;
    const SETTLE_MS: i32 = 300;
    let Some(job) = with(|a| a.shown.as_ref().map(|(job, _)| *job)) else { return };
    // A job the visitor started (any job but a live re-run) is left to finish; its
    // results then come marked stale.
    let visitors_job_running = with(|a| a.busy_since.is_some() && !a.live_running);
    if !matches!(job, Job::Run | Job::Compare) || s.requests > MAX_REQUESTS || visitors_job_running {
        return;
    }
    let Some(window) = web_sys::window() else { return };
    if let Some(t) = with(|a| a.live_timer.take()) {
        window.clear_timeout_with_handle(t);
    }
    let fire = Closure::once(move || {
        with(|a| a.live_timer = None);
        let busy = with(|a| a.busy_since.is_some());
        if busy && !with(|a| a.live_running) {
            return; // the visitor started a job meanwhile
        }
        if busy {
            restart_workers();
            finish("cancelled: the settings changed");
        }
        submit_as(job, false, false);
        with(|a| a.live_running = a.busy_since.is_some());
    });
    let timer = window.set_timeout_with_callback_and_timeout_and_arguments_0(fire.as_ref().unchecked_ref(), SETTLE_MS).ok();
    fire.forget();
    with(|a| a.live_timer = timer);
}

/// Say whether the results shown are for other settings than the controls' (greyed,
/// with a note to press Run); nothing while no results are shown.
fn mark_stale(stale: bool) {
    let Some(job) = with(|a| a.shown.as_ref().map(|(job, _)| *job)) else { return };
    let results = el("results");
    if stale {
        let _ = results.set_attribute("data-stale", "true");
        set_note(&format!("These results are for the previous settings: press {} to see yours.", job.button()));
    } else if results.get_attribute("data-stale").is_some() {
        let _ = results.remove_attribute("data-stale");
        set_note("");
    }
}

fn set_note(text: &str) {
    el("results-note").set_text_content(Some(text));
}

fn wire_controls() {
    for &(id, _, _) in crate::state::CONTROLS.iter().filter(|(id, _, _)| *id != "preset") {
        on(id, "input", move |_| controls_changed(Some(id)));
        on(id, "change", move |_| controls_changed(Some(id)));
    }
    // A preset sets every control it defines (the rest stay) and says which it changed.
    on("preset", "change", |_| {
        if let Ok(p) = Preset::parse(&select("preset").value()) {
            let before = read_state().ok();
            let after = before.as_ref().map_or_else(|| UiState::from_preset(p), |b| b.with_preset(p));
            write_state(&after);
            let note = match &before {
                Some(b) => crate::state::preset_note(b, &after),
                None => format!("Preset '{}' set every control it defines", p.name()),
            };
            el("preset-note").set_text_content(Some(&note));
            controls_changed(Some("preset"));
        }
    });
    // The rate sets the factor (the link's); a rate it cannot take is listed as "rate".
    for event in ["input", "change"] {
        on("rate", event, |_| controls_changed(Some(if controls::rate_typed() { "rps" } else { "rate" })));
    }
    on("link-notice-run", "click", |_| {
        if let Some(job) = with(|a| a.pending.take()) {
            update_notice();
            submit_as(job, true, false);
        }
    });
    for job in Job::ALL {
        on(job.name(), "click", move |_| submit_as(job, true, false));
    }
    on("cancel", "click", |_| cancel());
    timeline::wire();
    for slot in Slot::ALL {
        let id = slot.id();
        on(&format!("{id}-file"), "change", move |_| file_chosen(slot, input(&format!("{id}-file")).files().and_then(|f| f.get(0))));
        on(&format!("{id}-clear"), "click", move |_| clear_file(slot));
        let zone = format!("{id}-zone");
        on(&zone, "dragover", |e| e.prevent_default());
        let target = zone.clone();
        on(&target, "drop", move |e| {
            e.prevent_default();
            // A zone greyed out with its section (continuous batching's, under a batch
            // scheduler) takes no file, as its file input takes none.
            if matches!(el(&zone).closest("fieldset:disabled"), Ok(Some(_))) {
                return;
            }
            let file = e.dyn_ref::<DragEvent>().and_then(|d| d.data_transfer()).and_then(|t| t.files()).and_then(|f| f.get(0));
            file_chosen(slot, file);
        });
    }
    on("results", "click", |e| {
        let target = e.target().and_then(|t| t.dyn_into::<Element>().ok());
        if target.as_ref().is_some_and(|t| t.id() == "download-all") {
            return download_everything();
        }
        if let Some(i) = target.and_then(|t| t.get_attribute("data-download")).and_then(|i| i.parse::<usize>().ok()) {
            if let Some((name, mime, text)) = with(|a| a.downloads.get(i).cloned()) {
                download(&name, &mime, &text);
            }
        }
    });
}

// ----- files -----

fn file_chosen(slot: Slot, file: Option<File>) {
    let Some(file) = file else { return };
    show_error("");
    with(|a| {
        a.files[slot as usize] = Some(file.clone());
        a.checking = Some(slot);
        // Its own rate comes with its check (the rate field waits for it).
        if slot == Slot::Trace {
            a.trace_rate_rps = None;
        }
    });
    show_files();
    // The check parses this file alone: its line, or its error.
    let mut files: [Option<File>; 3] = Default::default();
    files[slot as usize] = Some(file);
    send_to(0, envelope(&Request::Check, &files));
}

fn clear_file(slot: Slot) {
    with(|a| {
        a.files[slot as usize] = None;
        if slot == Slot::Trace {
            a.trace_rate_rps = None;
        }
    });
    show_trace_load();
    input(&format!("{}-file", slot.id())).set_value("");
    show_files();
    // The link names the files attached; a link's notice may need this one again.
    controls_changed(None);
    update_notice();
}

fn show_files() {
    let names = with(|a| a.files.each_ref().map(|f| f.as_ref().map(File::name)));
    for (slot, name) in Slot::ALL.into_iter().zip(names) {
        el(&format!("{}-name", slot.id())).set_text_content(Some(&name.unwrap_or_else(|| slot.fallback().into())));
    }
}

// ----- the workers -----

/// Start `job` on the controls; `by_user`: from its button; `first_view`: a bare link's.
fn submit_as(job: Job, by_user: bool, first_view: bool) {
    if with(|a| a.busy_since.is_some()) {
        return;
    }
    // This job supersedes a live re-run still waiting for the controls to settle.
    if let (Some(t), Some(w)) = (with(|a| a.live_timer.take()), web_sys::window()) {
        w.clear_timeout_with_handle(t);
    }
    with(|a| a.live_running = false);
    // A job the visitor starts replaces the one a link left waiting.
    if with(|a| a.pending.take()).is_some() {
        update_notice();
    }
    let state = match read_state() {
        Ok(s) => s,
        Err(problems) => {
            with(|a| a.control_problems = problems);
            render_problems();
            return focus_first_problem();
        }
    };
    with(|a| {
        a.link_problems.clear();
        a.control_problems.clear();
        a.job_error = None;
    });
    render_problems();
    // The link now reproduces this job's figures.
    set_url(&format!("{}&show={}", state.to_fragment(), job.name()));
    let files = with(|a| a.files.clone());
    let trace = files[Slot::Trace as usize].as_ref().map(File::name);
    with(|a| a.started = Some(Started { job, state: state.clone(), trace, by_user, first_view }));
    let (preset, config) = (state.preset, state.to_config());
    with(|a| a.stamp = Some(stamp_of(a, preset, &config)));
    let pooled = match job {
        Job::Run => {
            begin(job);
            timeline::run_sent(preset, &files);
            return send_to(0, envelope(&Request::Run { preset, config, token_on_cpu: state.token_on_cpu, software_gpu: state.software_gpu }, &files));
        }
        Job::Study => {
            begin(job);
            return send_to(0, envelope(&Request::Study { preset, spec: state.to_study_spec() }, &files));
        }
        Job::Plan => {
            // Its runs depend on how many requests the source holds: ask worker 0 first.
            begin(job);
            with(|a| {
                a.plan_waiting = Some((preset, state.to_plan_spec()));
                a.job_files = files.clone();
            });
            return send_to(0, envelope(&Request::Source { spec: state.to_plan_spec() }, &files));
        }
        Job::Compare => CompareJob::new(&config).map(PooledJob::Compare),
        Job::Sweep => match state.to_sweep_spec() {
            Ok(spec) => spec
                .run_count()
                .and_then(|n| spec.points(0..n))
                .map(|points| PooledJob::Sweep(SweepJob::new(&spec, points), spec)),
            Err(e) => return show_error(&e),
        },
        Job::Capacity => {
            let (spec, rows) = state.to_capacity();
            CapacityJob::new(&spec, rows).map(|j| PooledJob::Capacity(j, spec))
        }
    };
    begin(job);
    with(|a| {
        a.job_files = files;
        a.sweep_metric = state.many.sweep_metric.clone();
    });
    match pooled {
        Ok(job) => start_driving(Driver::new(job, preset, state.token_on_cpu, state.software_gpu)),
        Err(e) => received(crate::jobs::error_response(&e)),
    }
}

// ----- job lifecycle -----

fn set_busy_ui(busy: bool) {
    for id in Job::ALL.map(Job::name) {
        el(id).unchecked_into::<web_sys::HtmlButtonElement>().set_disabled(busy);
    }
    el("cancel").unchecked_into::<web_sys::HtmlButtonElement>().set_disabled(!busy);
    timeline::set_busy(busy);
    document().body().map(|b| b.set_attribute("data-busy", if busy { "true" } else { "false" }));
}

fn begin(job: Job) {
    show_unused(Some(job));
    el("load-after").set_text_content(None);
    let t0 = now_ms();
    let tick = Closure::<dyn FnMut()>::new(move || show_elapsed(t0));
    let timer = web_sys::window()
        .and_then(|w| w.set_interval_with_callback_and_timeout_and_arguments_0(tick.as_ref().unchecked_ref(), 200).ok());
    tick.forget();
    with(|a| {
        a.busy_since = Some(t0);
        a.timer = timer;
    });
    // Indeterminate until the first progress report (a single run sends none).
    el("progress").remove_attribute("value").ok();
    set_status("running");
    show_elapsed(t0);
    set_busy_ui(true);
}

fn show_elapsed(t0: f64) {
    el("elapsed").set_text_content(Some(&format!("elapsed {:.2} s", (now_ms() - t0) / 1e3)));
}

/// End the job in progress (if any) with a status line.
fn finish(status: &str) {
    let (since, timer) = with(|a| (a.busy_since.take(), a.timer.take()));
    if let (Some(t), Some(w)) = (timer, web_sys::window()) {
        w.clear_interval_with_handle(t);
    }
    if let Some(t0) = since {
        show_elapsed(t0);
    }
    set_status(status);
    let _ = el("results").remove_attribute("data-pending");
    show_unused(None);
    let bar = el("progress");
    if !bar.has_attribute("value") {
        bar.set_attribute("value", "0").ok(); // not left spinning when idle
    }
    set_busy_ui(false);
}

fn cancel() {
    if with(|a| a.busy_since.is_none()) {
        return;
    }
    restart_workers();
    finish("cancelled");
}

fn received(r: Response) {
    timeline::results(&r);
    match r {
        Response::Ready => {
            // The first worker's start (a replacement keeps the "cancelled" status).
            if el("status").text_content().unwrap_or_default().starts_with("starting") {
                set_status("ready");
            }
            document().body().map(|b| b.set_attribute("data-worker", "ready"));
        }
        Response::Gpu(probe) => {
            // In plain words: a software adapter (SwiftShader) is no GPU to speak of.
            let software = probe.as_ref().is_ok_and(|a| batchlab::token::is_software_adapter(a));
            let text = match &probe {
                Ok(adapter) if software => format!("GPU: no hardware GPU — token pass on the CPU (a software adapter, {adapter}, is used only if you tick it below)"),
                Ok(adapter) => format!("GPU: {adapter}"),
                Err(_) => "GPU: no hardware GPU found — token pass on the CPU".to_string(),
            };
            let gpu = el("gpu");
            gpu.set_text_content(Some(&text));
            // Why there is none, for the curious (hover), without alarming anyone.
            let _ = gpu.set_attribute("title", probe.as_ref().err().map_or("", |e| e.as_str()));
            document().body().map(|b| b.set_attribute("data-gpu", if software { "software" } else if probe.is_ok() { "yes" } else { "no" }));
        }
        Response::Checked { lines, fingerprints, trace_rate_rps } => {
            with(|a| {
                if a.checking == Some(Slot::Trace) {
                    a.trace_rate_rps = trace_rate_rps;
                }
                a.checking = None;
                a.fingerprints.retain(|(name, _)| fingerprints.iter().all(|(n, _)| n != name));
                a.fingerprints.extend(fingerprints);
            });
            el("file-info").set_text_content(Some(&lines.join(" ")));
            // Its name goes into the link; a job a link named may have waited for it.
            controls_changed(None);
            update_notice();
            show_trace_load();
        }
        Response::Reading { file, read, size } => reading::reading(&file, read, size),
        Response::Progress(p) => {
            el("progress").set_attribute("value", &format!("{}", p.runs_done as f64 / p.runs_total.max(1) as f64)).ok();
            set_status(&format!(
                "running: {} of {} runs done, {} requests simulated (last: {})",
                p.runs_done, p.runs_total, p.requests_simulated, crate::view::run_label(&p.last_label)
            ));
        }
        Response::Run(out) => {
            after_runs(&[&out.result]);
            done(|| show_runs(std::slice::from_ref(&*out)))
        }
        Response::Compare(outs) => {
            after_runs(&outs.iter().map(|o| &o.result).collect::<Vec<_>>());
            done(|| show_runs(&outs))
        }
        Response::Plan(plan) => done(|| show_plan(&plan)),
        Response::Study(study) => done(|| show_study(&study)),
        Response::Sweep(sweep) => {
            let metric = with(|a| a.sweep_metric.clone());
            done(|| show_sweep(&sweep, &metric))
        }
        Response::Capacity(c) => done(|| show_capacity(&c)),
        Response::Timeline(t) => timeline::show(&t),
        // Answered in `received_from`.
        Response::Source { .. } | Response::Task(_) => {}
        Response::Error { message, field } => {
            let message = match &field {
                Some(f) => format!("{}: {message}", crate::state::field_words(f)),
                None => message,
            };
            let control = field.as_deref().and_then(crate::state::control_for).map(|(id, _)| id);
            with(|a| a.job_error = Some(Problem { control, message: message.clone() }));
            render_problems();
            let internal = message.starts_with("internal error");
            reading::over();
            match with(|a| a.checking.take()) {
                // A file that does not parse is dropped; the page stays as it was.
                Some(slot) if !internal => clear_file(slot),
                _ => finish("failed: see the error above"),
            }
            // After `finish`, which greys again what does not apply.
            if control.is_some() {
                focus_first_problem();
            }
            if internal {
                restart_workers();
            }
        }
    }
}

/// After runs: say so beside the factor when a run could not keep up with its arrivals.
fn after_runs(runs: &[&batchlab::RunResult]) {
    let note = crate::load::after_runs(runs);
    let line = el("load-after");
    let _ = line.set_attribute("class", if note.is_some() { "hint warn" } else { "hint" });
    line.set_text_content(note.as_deref());
}

/// The stamp of a job on these settings and the chosen files.
fn stamp_of(a: &App, preset: Preset, config: &batchlab::Config) -> crate::stamp::Stamp {
    let files = Slot::ALL
        .iter()
        .zip(&a.files)
        .filter_map(|(slot, f)| f.as_ref().map(|f| (*slot, f.name())))
        .map(|(slot, name)| {
            let fp = a.fingerprints.iter().find(|(n, _)| *n == name).map_or(String::new(), |(_, fp)| fp.clone());
            (slot.id().to_string(), name, fp)
        })
        .collect();
    crate::stamp::Stamp::new(preset, config, files)
}

/// Under a finished job's downloads: "Download everything (zip)" (every file offered,
/// the configuration and the stamp) and the stamp in words.
fn offer_everything() {
    let Some(stamp) = with(|a| a.stamp.clone()) else { return };
    el("stamp").set_text_content(Some(&format!("Reproducibility stamp: {}", stamp.line())));
    let _ = el("downloads").insert_adjacent_html("beforeend", r#"<button type="button" id="download-all">Download everything (zip)</button>"#);
}

fn download_everything() {
    let (mut files, stamp) = with(|a| (a.downloads.iter().map(|(n, _, t)| (n.clone(), t.clone())).collect::<Vec<_>>(), a.stamp.clone()));
    if let Some(stamp) = stamp {
        files.push(("config.json".into(), serde_json::to_string_pretty(&stamp.config).unwrap_or_default() + "\n"));
        files.push(("stamp.json".into(), stamp.json()));
    }
    results::download_bytes("batchlab-results.zip", "application/zip", &crate::zip::zip(&files));
}

/// Show a finished job; `render` returns (runs, requests simulated). A job the visitor
/// started takes them to its results: the heading is scrolled to and focused (a screen
/// reader reads it; the status line says "done" politely).
fn done(render: impl FnOnce() -> (usize, u64)) {
    let (runs, requests) = render();
    offer_everything();
    el("progress").set_attribute("value", "1").ok();
    finish(&format!("done: {runs} run(s), {requests} requests simulated"));
    let n = with(|a| {
        a.jobs_done += 1;
        a.jobs_done
    });
    let started = with(|a| a.started.as_ref().map(|s| (s.job, s.state.clone(), s.by_user, s.first_view)));
    if let Some((job, state, by_user, first_view)) = started {
        with(|a| a.shown = Some((job, state.clone())));
        let heading = el("results-heading");
        heading.set_text_content(Some(job.heading()));
        set_note(if first_view {
            "The first view: every scheduler on the paper's setting, at a load where they differ. Change any setting and press a button to run your own."
        } else {
            ""
        });
        let _ = el("results").remove_attribute("data-stale");
        // Controls changed while the job ran: its results are already for other settings.
        if read_state().ok().as_ref() != Some(&state) {
            mark_stale(true);
            if let Ok(s) = read_state() {
                set_url(&s.to_fragment());
            }
        }
        if by_user {
            heading.scroll_into_view();
            if let Ok(h) = heading.dyn_into::<web_sys::HtmlElement>() {
                let _ = h.focus();
            }
        }
    }
    document().body().map(|b| b.set_attribute("data-jobs-done", &n.to_string()));
}
