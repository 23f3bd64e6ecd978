//! What flows through the console: the [`Action`]s that happen (keys,
//! pastes, job results, the time), the [`Effect`]s `update` asks for, and
//! the plain facts both carry. Panes and widgets import this module, never
//! `app.rs`, so the app routes to panes and not the other way round.

use crate::tui::panes::PaneId;
use chrono::{DateTime, Utc};
use crossterm::event::{KeyEvent, MouseEvent};

/// Something that happened.
pub enum Action {
    Key(KeyEvent),
    Paste(String),
    Mouse(MouseEvent),
    Resize(u16, u16),
    /// The minute hand moved: relative times need redrawing.
    Tick(DateTime<Utc>),
    Job(JobEvent),
    Quit,
}

/// A background job reporting back.
pub enum JobEvent {
    Connected(Connection),
    ConnectFailed(String),
    Clipboard(Result<String, String>),
    Copied(Result<String, String>),
    /// Writes an earlier run (or this one) left without a definite answer.
    Pending(Result<Vec<PendingLine>, String>),
    /// A replay of pending writes finished: one line per write.
    Replayed(Vec<String>),
    /// A pending write was settled by hand (Ok), or could not be (Err).
    Resolved(Result<String, String>),
    /// A pane's own job result, routed to that pane.
    Pane(PaneId, crate::tui::panes::PaneEvent),
    /// `:doctor`: one finished check, or None when all have run.
    Doctor(Option<crate::doctor::CheckResult>),
    /// Other agents' writes for a customer (`tui::collision`), asked for
    /// when a write's confirmation opened.
    Others(crate::tui::collision::Others),
    /// The team journal's audit log changed (LISTEN/NOTIFY): another
    /// agent (or this one) wrote.
    AuditChanged,
    /// A background job panicked (`tui::crash`): the message (a panic
    /// message is code's text, not data), the backtrace is in the log.
    Crashed {
        tag: crate::tui::crash::JobTag,
        message: String,
    },
}

/// Something the app wants done outside `update`.
#[derive(Clone, PartialEq)]
pub enum Effect {
    Quit,
    ReadClipboard,
    /// Copy text; the label says what was copied (for the toast).
    Copy {
        text: String,
        label: String,
    },
    /// Send every pending write again with its original idempotency key.
    ReplayPending,
    /// Read the journal's pending writes again (another storedesk may have
    /// left some since this one started).
    ReadPending,
    /// Settle pending write `id` by hand (nothing is sent to the Store).
    ResolvePending {
        id: i64,
        applied: bool,
        note: String,
    },
    /// A pane's own job (a Store call, a journal write…).
    Pane(PaneId, crate::tui::panes::PaneJob),
    /// Run `crate::doctor` (read-only), with the case's key if there is one.
    Doctor {
        key: Option<String>,
    },
    /// Ask the journal whether other agents are on this case customer
    /// (`tui::collision`).
    CheckOthers {
        customer: String,
    },
}

// Pasted and copied text is often a key: Debug (a log line, a panic
// message) shows its length, never its text.
impl std::fmt::Debug for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Action::Key(k) => write!(f, "Key({k:?})"),
            Action::Paste(t) => write!(f, "Paste({} chars)", t.chars().count()),
            Action::Mouse(m) => write!(f, "Mouse({m:?})"),
            Action::Resize(w, h) => write!(f, "Resize({w}, {h})"),
            Action::Tick(t) => write!(f, "Tick({t})"),
            Action::Job(j) => write!(f, "Job({j:?})"),
            Action::Quit => f.write_str("Quit"),
        }
    }
}

impl std::fmt::Debug for JobEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // The connection carries the demo customers' keys.
            JobEvent::Connected(c) => write!(f, "Connected({})", c.base_description),
            JobEvent::ConnectFailed(e) => write!(f, "ConnectFailed({e:?})"),
            JobEvent::Clipboard(r) => match r {
                Ok(t) => write!(f, "Clipboard({} chars)", t.chars().count()),
                Err(e) => write!(f, "Clipboard(Err({e:?}))"),
            },
            JobEvent::Copied(r) => write!(f, "Copied({r:?})"),
            JobEvent::Pending(r) => write!(f, "Pending({:?})", r.as_ref().map(Vec::len)),
            JobEvent::Replayed(lines) => write!(f, "Replayed({lines:?})"),
            JobEvent::Resolved(r) => write!(f, "Resolved({r:?})"),
            JobEvent::Pane(id, ev) => write!(f, "Pane({id:?}, {ev:?})"),
            JobEvent::Doctor(r) => write!(f, "Doctor({:?})", r.as_ref().map(|r| &r.name)),
            JobEvent::Others(o) => write!(
                f,
                "Others({}, {:?})",
                o.customer,
                o.result.as_ref().map(Vec::len)
            ),
            JobEvent::AuditChanged => f.write_str("AuditChanged"),
            JobEvent::Crashed { tag, message } => write!(f, "Crashed({tag:?}, {message:?})"),
        }
    }
}

// Shows where, never the demo customers' keys.
impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("base", &self.base_description)
            .field("client_id", &self.client_id)
            .field("demo_customers", &self.demo_customers.len())
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Effect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Effect::Quit => f.write_str("Quit"),
            Effect::ReadClipboard => f.write_str("ReadClipboard"),
            Effect::Copy { text, label } => {
                write!(
                    f,
                    "Copy {{ {} chars, label: {label:?} }}",
                    text.chars().count()
                )
            }
            Effect::ReplayPending => f.write_str("ReplayPending"),
            Effect::ReadPending => f.write_str("ReadPending"),
            // The note is free text (a pasted key would show): its length only.
            Effect::ResolvePending { id, applied, note } => write!(
                f,
                "ResolvePending {{ id: {id}, applied: {applied}, note: {} chars }}",
                note.chars().count()
            ),
            Effect::Pane(id, job) => write!(f, "Pane({id:?}, {job:?})"),
            Effect::Doctor { key } => write!(f, "Doctor {{ key: {} }}", key.is_some()),
            Effect::CheckOthers { customer } => write!(f, "CheckOthers({customer})"),
        }
    }
}

/// One pending write, as the status bar and the replay dialog show it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PendingLine {
    pub id: i64,
    pub profile: String,
    /// The case's customer it was made for (the journal's `customer`).
    pub customer: String,
    /// Its product / subscription / event (`pending_gate::subject`): a new
    /// write of the same customer and subject asks first.
    pub subject: Option<String>,
    /// False for a write that must not be resent blindly (a subscription
    /// extension, refund or auto-renew change): it is settled by hand.
    pub replay_safe: bool,
    pub summary: String,
    pub customer_fp: String,
    pub created_at: String,
    pub attempts: i64,
    pub last_error: Option<String>,
}

/// What the console is talking to, once connected.
#[derive(Clone, PartialEq)]
pub struct Connection {
    pub base_description: String,
    pub client_id: String,
    /// The profile's `sbx` (the case file names it).
    pub sandbox_id: Option<String>,
    pub sandbox_public_key_pem: Option<String>,
    /// The embedded sandbox's demo customers, for the `d` picker.
    pub demo_customers: Vec<crate::sandbox::DemoCustomer>,
    /// Free products of the catalog that can be granted (`:grant` offers
    /// them); empty where no catalog is known (retail: type the id).
    pub grantable: Vec<crate::sandbox::GrantableProduct>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ConnState {
    Connecting,
    Ready(Connection),
    Failed(String),
}
