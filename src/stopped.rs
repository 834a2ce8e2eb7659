//! When a simulation worker dies: what it says before it goes, and what the page tells
//! the visitor after.
//!
//! A worker's wasm cannot survive a panic (wasm32 aborts) or a failed allocation (Rust's
//! collections abort): either ends in a trap (`RuntimeError: unreachable`) that escapes
//! the worker's message handler and reaches the page as an `error` event on the Worker.
//! Before the trap, the worker's panic hook and its allocator ([`oom::Reporting`]) post
//! a `Response::Error` whose message starts with [`PREFIX`], so the page can name the
//! cause; an `error` event alone says only "out of memory or an internal error". Either
//! way the page fails the job in words, replaces its workers and keeps everything else.

/// How a worker's last message starts: the page reads what follows as the cause.
pub const PREFIX: &str = "internal error: the simulation worker stopped: ";

/// How the allocator's report names its cause (after [`PREFIX`]).
pub const OUT_OF_MEMORY: &str = "out of memory";

/// The worker's last message after a panic (`info`: the panic's own text).
pub fn panic_report(info: &str) -> String {
    format!("{PREFIX}{}", info.replace('\n', " "))
}

/// Why a worker stopped, as the page learnt it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cause<'a> {
    /// The worker's own last words (after [`PREFIX`]): a panic's text, or out of memory.
    Reported(&'a str),
    /// An `error` event on the Worker: the uncaught exception's text (may be empty).
    Event(&'a str),
    /// An answer the page could not read (a `messageerror` event, or a message that is no
    /// `Response`).
    Unreadable,
}

/// The cause in a message the worker posted, if it is a worker's last message.
pub fn reported(message: &str) -> Option<Cause<'_>> {
    message.strip_prefix(PREFIX).map(Cause::Reported)
}

/// The page's one line about a stopped worker. `job`: the job under way, in words
/// ("run", "sweep"), None if none was; `many`: it was a job of many runs on the pool,
/// which fails whole (its runs decide one another's, so it cannot finish without one).
pub fn message(job: Option<&str>, many: bool, cause: Cause) -> String {
    let what = match cause {
        Cause::Reported(why) if why.starts_with(OUT_OF_MEMORY) => format!("ran out of memory{}", in_brackets(why[OUT_OF_MEMORY.len()..].trim_start_matches([':', ' ']))),
        Cause::Reported(why) => format!("stopped on an internal error{}", in_brackets(why)),
        Cause::Event(why) => {
            let why = why.trim().trim_start_matches("Uncaught ").trim();
            format!("stopped (out of memory or an internal error{})", if why.is_empty() { String::new() } else { format!(": {why}") })
        }
        Cause::Unreadable => "sent an answer the page could not read".to_string(),
    };
    let (who, after) = match job {
        Some(job) if many => (
            format!("One of the simulation workers running the {job}"),
            format!("The whole {job} was stopped (it needs every one of its runs) and its workers replaced"),
        ),
        Some(job) => ("The simulation worker".to_string(), format!("The {job} was stopped and the worker replaced")),
        None => ("The simulation worker".to_string(), "It has been replaced".to_string()),
    };
    let advice = match cause {
        Cause::Reported(why) if !why.starts_with(OUT_OF_MEMORY) => " This is a bug: please report it, with this page's link.",
        Cause::Unreadable => "",
        _ => " Try fewer requests.",
    };
    format!("{who} {what}. {after}; your settings and earlier results are kept.{advice}")
}

fn in_brackets(text: &str) -> String {
    if text.trim().is_empty() {
        String::new()
    } else {
        format!(" ({})", text.trim())
    }
}

/// The worker's allocator: the system's, which on a failed allocation first posts the
/// worker's last message (out of memory, with the memory it held), since Rust then
/// aborts without calling the panic hook. A failed allocation is taken as the end: every
/// collection aborts on one (the few fallible ones that do not are not used on the way).
#[cfg(target_arch = "wasm32")]
pub mod oom {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::sync::atomic::{AtomicBool, Ordering};

    use js_sys::{JsString, Object, Reflect};
    use wasm_bindgen::{JsCast, JsValue};

    pub struct Reporting;

    static REPORTED: AtomicBool = AtomicBool::new(false);

    // SAFETY: every call is the system allocator's, with the same arguments.
    unsafe impl GlobalAlloc for Reporting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            checked(System.alloc(layout))
        }
        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            checked(System.alloc_zeroed(layout))
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            System.dealloc(ptr, layout)
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            checked(System.realloc(ptr, layout, new_size))
        }
    }

    fn checked(ptr: *mut u8) -> *mut u8 {
        if ptr.is_null() && !REPORTED.swap(true, Ordering::Relaxed) {
            report();
        }
        ptr
    }

    /// Post `{ Error: { message, field: null } }` (a `Response::Error`), built in JS:
    /// there is no memory left to build it here.
    fn report() {
        let mb = core::arch::wasm32::memory_size(0) as f64 / 16.0;
        let text = JsString::from(super::PREFIX)
            .concat(&JsValue::from_str(super::OUT_OF_MEMORY))
            .concat(&JsValue::from_str(": it held "))
            .concat(&JsValue::from_f64(mb.round()))
            .concat(&JsValue::from_str(" MB and the browser gave it no more"));
        let error = Object::new();
        let _ = Reflect::set(&error, &JsValue::from_str("message"), &text);
        let _ = Reflect::set(&error, &JsValue::from_str("field"), &JsValue::NULL);
        let response = Object::new();
        let _ = Reflect::set(&response, &JsValue::from_str("Error"), &error);
        let scope: web_sys::DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
        let _ = scope.post_message(&response);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trap_seen_only_as_an_error_event() {
        assert_eq!(
            message(Some("run"), false, Cause::Event("Uncaught RuntimeError: unreachable")),
            "The simulation worker stopped (out of memory or an internal error: RuntimeError: unreachable). \
             The run was stopped and the worker replaced; your settings and earlier results are kept. Try fewer requests."
        );
        assert_eq!(
            message(None, false, Cause::Event(" ")),
            "The simulation worker stopped (out of memory or an internal error). It has been replaced; your settings and earlier results are kept. Try fewer requests."
        );
    }

    #[test]
    fn a_job_of_many_runs_fails_whole() {
        assert_eq!(
            message(Some("sweep"), true, Cause::Event("Uncaught RuntimeError: unreachable")),
            "One of the simulation workers running the sweep stopped (out of memory or an internal error: RuntimeError: unreachable). \
             The whole sweep was stopped (it needs every one of its runs) and its workers replaced; your settings and earlier results are kept. Try fewer requests."
        );
    }

    #[test]
    fn the_workers_last_words_name_the_cause() {
        let panic = panic_report("panicked at src/jobs.rs:12:5:\nindex out of bounds");
        assert_eq!(panic, "internal error: the simulation worker stopped: panicked at src/jobs.rs:12:5: index out of bounds");
        let cause = reported(&panic).unwrap();
        assert_eq!(
            message(Some("run"), false, cause),
            "The simulation worker stopped on an internal error (panicked at src/jobs.rs:12:5: index out of bounds). \
             The run was stopped and the worker replaced; your settings and earlier results are kept. This is a bug: please report it, with this page's link."
        );
        // What `oom::report` builds (in JS), read back.
        let oom = format!("{PREFIX}{OUT_OF_MEMORY}: it held 4096 MB and the browser gave it no more");
        assert_eq!(
            message(Some("comparison of schedulers"), true, reported(&oom).unwrap()),
            "One of the simulation workers running the comparison of schedulers ran out of memory (it held 4096 MB and the browser gave it no more). \
             The whole comparison of schedulers was stopped (it needs every one of its runs) and its workers replaced; your settings and earlier results are kept. Try fewer requests."
        );
        // Other errors are not a worker's last words.
        assert_eq!(reported("internal error: bad request: missing field"), None);
        assert_eq!(reported("GPUs: must be a whole number"), None);
    }

    #[test]
    fn an_unreadable_answer() {
        assert_eq!(
            message(Some("study"), false, Cause::Unreadable),
            "The simulation worker sent an answer the page could not read. The study was stopped and the worker replaced; your settings and earlier results are kept."
        );
    }
}
