//! A panic in a background job must not take the console with it: the
//! job's body is run under `catch_unwind`, and a panic becomes
//! [`JobEvent::Crashed`] — an error notice, the pane's in-flight state
//! cleared — while the panic hook (tui/mod.rs) logs the message and a
//! backtrace and leaves the terminal alone (only a panic on the UI thread
//! restores it).

use crate::tui::action::{Action, JobEvent};
use crate::tui::panes::PaneId;
use futures_util::FutureExt;
use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use tokio::sync::mpsc::UnboundedSender;

/// Which job panicked, for the notice and for the pane to clear.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JobTag {
    pub pane: Option<PaneId>,
    pub what: &'static str,
}

impl JobTag {
    pub const fn global(what: &'static str) -> Self {
        Self { pane: None, what }
    }
    pub const fn pane(pane: PaneId, what: &'static str) -> Self {
        Self {
            pane: Some(pane),
            what,
        }
    }
}

/// The panic's message (a `&str` or `String` payload), else a placeholder.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic with no message".into())
}

fn report(tx: &UnboundedSender<Action>, tag: JobTag, payload: &(dyn Any + Send)) {
    let message = panic_message(payload);
    tracing::error!(job = tag.what, %message, "background job panicked");
    let _ = tx.send(Action::Job(JobEvent::Crashed { tag, message }));
}

/// `tokio::spawn` a job's body; a panic is reported as an Action.
pub fn spawn<F>(tx: &UnboundedSender<Action>, tag: JobTag, fut: F)
where
    F: Future<Output = ()> + Send + 'static,
{
    let tx = tx.clone();
    tokio::spawn(async move {
        if let Err(p) = AssertUnwindSafe(fut).catch_unwind().await {
            report(&tx, tag, p.as_ref());
        }
    });
}

/// `spawn_blocking` a job's body; a panic is reported as an Action.
pub fn spawn_blocking<F>(tx: &UnboundedSender<Action>, tag: JobTag, f: F)
where
    F: FnOnce() + Send + 'static,
{
    let tx = tx.clone();
    tokio::task::spawn_blocking(move || {
        if let Err(p) = std::panic::catch_unwind(AssertUnwindSafe(f)) {
            report(&tx, tag, p.as_ref());
        }
    });
}
