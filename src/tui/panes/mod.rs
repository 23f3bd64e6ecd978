//! The seven panes, each behind the one [`Pane`] trait: its key handling,
//! commands, pastes, job results and drawing. A pane reaches the network
//! only by returning an Effect; `Panes` dispatches to the focused one.

pub mod audit;
pub mod clawbacks;
pub mod empty;
pub mod entitlements;
pub mod entitlements_detail;
pub mod entitlements_job;
pub mod entitlements_view;
pub mod key;
pub mod key_job;
pub mod key_view;
pub mod list;
pub mod lists_job;
pub mod offers;
pub mod orders;
pub mod subscriptions;
pub mod timeline;

use crate::case::live::LiveCase;
use crate::config::Environment;
use crate::tui::action::{Connection, Effect};
use crate::tui::keymap::{Command, Scope};
use crate::tui::theme::Theme;
use chrono::{DateTime, Utc};
use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;

/// One pane of the console. The app talks to every pane through this, so
/// routing is one lookup ([`Panes::get_mut`]), not a match per concern.
pub trait Pane {
    fn id(&self) -> PaneId;
    /// A key for this pane; `None` lets the global keymap have it.
    fn on_key(&mut self, _k: KeyEvent, _case: &mut LiveCase, _ctx: &PaneCtx) -> Option<PaneOutput> {
        None
    }
    fn on_command(&mut self, cmd: Command, case: &mut LiveCase, ctx: &PaneCtx) -> Routed;
    /// Whether an open text field wants pasted text.
    fn accepts_text(&self) -> bool {
        false
    }
    fn on_paste(&mut self, _text: String, _case: &mut LiveCase, _ctx: &PaneCtx) -> PaneOutput {
        PaneOutput::none()
    }
    /// A job result addressed to this pane; others' are ignored.
    fn on_event(&mut self, ev: PaneEvent, case: &mut LiveCase, ctx: &PaneCtx) -> PaneOutput;
    /// A confirmed job is about to run: the pane shows it as under way.
    fn on_job_started(&mut self, _job: &PaneJob, _case: &mut LiveCase) {}
    /// One of this pane's jobs panicked and will never answer: clear what
    /// waits for it (a write flag, a read in progress).
    fn on_job_crashed(&mut self, _message: &str, _case: &mut LiveCase) {}
    /// After every update: keep the scroll position right for a pane
    /// drawn in `body` (view state is kept here, never by drawing).
    fn fit(&mut self, _body: Rect, _case: &LiveCase) {}
    fn draw(&self, f: &mut Frame, area: Rect, ctx: &DrawCtx);
    /// The keymap scope whose bindings `?` lists for this pane.
    fn scope(&self) -> Scope {
        self.id().scope()
    }
}

/// What a pane may read of the world when it draws.
pub struct DrawCtx<'a> {
    pub theme: &'a Theme,
    /// What the view shows: the case.
    pub case: &'a LiveCase,
    pub now: DateTime<Utc>,
    pub connected: bool,
    pub writes_allowed: bool,
    pub read_only_reason: Option<&'a str>,
    /// The case has a collections key (the Entitlements pane's input).
    pub has_collections_key: bool,
    /// The embedded sandbox's demo customers can be loaded (`d`).
    pub has_demo_customers: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PaneId {
    Key,
    Entitlements,
    Orders,
    Subscriptions,
    Clawbacks,
    Timeline,
    Audit,
}

impl PaneId {
    pub const ALL: [PaneId; 7] = [
        PaneId::Key,
        PaneId::Entitlements,
        PaneId::Orders,
        PaneId::Subscriptions,
        PaneId::Clawbacks,
        PaneId::Timeline,
        PaneId::Audit,
    ];

    pub fn title(self) -> &'static str {
        match self {
            PaneId::Key => "Key",
            PaneId::Entitlements => "Entitlements",
            PaneId::Orders => "Orders",
            PaneId::Subscriptions => "Subscriptions",
            PaneId::Clawbacks => "Clawbacks",
            PaneId::Timeline => "Timeline",
            PaneId::Audit => "Audit",
        }
    }

    pub fn short_title(self) -> &'static str {
        match self {
            PaneId::Key => "Key",
            PaneId::Entitlements => "Owned",
            PaneId::Orders => "Orders",
            PaneId::Subscriptions => "Subs",
            PaneId::Clawbacks => "Claw",
            PaneId::Timeline => "Time",
            PaneId::Audit => "Audit",
        }
    }

    pub fn index(self) -> usize {
        Self::ALL.iter().position(|p| *p == self).unwrap_or(0)
    }

    pub fn next(self) -> Self {
        Self::ALL[(self.index() + 1) % Self::ALL.len()]
    }

    pub fn prev(self) -> Self {
        Self::ALL[(self.index() + Self::ALL.len() - 1) % Self::ALL.len()]
    }

    pub fn scope(self) -> Scope {
        match self {
            PaneId::Key => Scope::Key,
            PaneId::Entitlements => Scope::Entitlements,
            _ => Scope::Lists,
        }
    }

    /// The pane a pane-specific command belongs to.
    pub fn home_of(cmd: Command) -> Option<Self> {
        match cmd {
            Command::EditKey
            | Command::ClearKey
            | Command::RawView
            | Command::Renew
            | Command::DemoCustomer
            | Command::Offers => Some(PaneId::Key),
            Command::ToggleValidity
            | Command::ToggleDuplicates
            | Command::SortNext
            | Command::SortReverse
            | Command::HideColumn
            | Command::ShowColumns
            | Command::Consume
            | Command::Grant => Some(PaneId::Entitlements),
            Command::CancelSubscription
            | Command::ExtendSubscription
            | Command::RefundSubscription
            | Command::AutoRenewOff => Some(PaneId::Subscriptions),
            Command::AckClawback | Command::AllEnvironments => Some(PaneId::Clawbacks),
            _ => None,
        }
    }
}

/// What a pane may know of the world when it handles something.
#[derive(Clone, Debug)]
pub struct PaneCtx {
    /// Who is acting, for write previews and the audit log.
    pub actor: crate::journal::Actor,
    pub now: DateTime<Utc>,
    pub conn: Option<Connection>,
    pub writes_allowed: bool,
    pub environment: Environment,
}

/// A pane's answer: effects to run and things for the status bar.
#[derive(Debug, Default)]
pub struct PaneOutput {
    pub effects: Vec<Effect>,
    /// A write to confirm before anything is sent.
    pub confirm: Option<Box<crate::tui::widgets::confirm::ConfirmDialog>>,
    pub error: Option<String>,
    pub toast: Option<String>,
    pub focus: Option<PaneId>,
}

impl PaneOutput {
    pub fn none() -> Self {
        Self::default()
    }
    pub fn effect(e: Effect) -> Self {
        Self {
            effects: vec![e],
            ..Self::default()
        }
    }
    pub fn error(msg: impl Into<String>) -> Self {
        Self {
            error: Some(msg.into()),
            ..Self::default()
        }
    }
    pub fn toast(msg: impl Into<String>) -> Self {
        Self {
            toast: Some(msg.into()),
            ..Self::default()
        }
    }
}

/// Whether a pane took a command, and what it wants.
#[derive(Debug, Default)]
pub struct Routed {
    pub handled: bool,
    pub output: PaneOutput,
}

impl Routed {
    pub fn handled(output: PaneOutput) -> Self {
        Self {
            handled: true,
            output,
        }
    }
    pub fn ignored() -> Self {
        Self::default()
    }
}

/// Jobs panes ask for.
#[derive(Debug, Clone, PartialEq)]
pub enum PaneJob {
    Key(key::KeyJob),
    Entitlements(entitlements::EntJob),
    Audit(audit::AuditJob),
    Orders(orders::OrdersJob),
    Subscriptions(subscriptions::SubsJob),
    Clawbacks(clawbacks::ClawJob),
    Timeline(timeline::TimelineJob),
}

/// Results coming back to panes.
#[derive(Debug)]
pub enum PaneEvent {
    Key(key::KeyPaneEvent),
    Entitlements(entitlements::EntEvent),
    Audit(audit::AuditEvent),
    Orders(orders::OrdersEvent),
    Subscriptions(subscriptions::SubsEvent),
    Clawbacks(clawbacks::ClawEvent),
    Timeline(timeline::TimelineEvent),
}

/// The case and its views. The case is the one owner of the customer's
/// data; a pane keeps only its view state and is handed the case with
/// every key, command, job result and frame.
#[derive(Default)]
pub struct Panes {
    pub case: LiveCase,
    pub key: key::KeyPane,
    pub entitlements: entitlements::EntitlementsPane,
    pub orders: orders::OrdersPane,
    pub subscriptions: subscriptions::SubscriptionsPane,
    pub clawbacks: clawbacks::ClawbacksPane,
    pub timeline: timeline::TimelinePane,
    pub audit: audit::AuditPane,
    /// Product ids whose titles the other lists asked for (once each).
    titles_asked: std::collections::BTreeSet<String>,
    /// The lists' generations when their ids were last looked at.
    titles_gen: (u64, u64, u64),
}

impl Panes {
    pub fn on_tick(&mut self, now: DateTime<Utc>, conn: Option<&Connection>) {
        self.key.reassess(now, conn);
    }

    /// After every update: the case follows the Key pane's keys, and the
    /// views catch up with it (and start the reads a pane on screen needs).
    pub fn sync(&mut self, focus: PaneId, ctx: &PaneCtx) -> PaneOutput {
        let case = &mut self.case;
        case.follow_keys(
            self.key.collections_token(),
            self.key.purchase_token(),
            ctx.conn.is_some(),
        );
        let audit = self.audit.sync(focus == PaneId::Audit);
        if !audit.effects.is_empty() {
            return audit;
        }
        let mut out = self
            .entitlements
            .sync(focus == PaneId::Entitlements, case, ctx);
        let lists = [
            self.orders.sync(focus == PaneId::Orders, case, ctx),
            self.subscriptions
                .sync(focus == PaneId::Subscriptions, case, ctx),
            self.clawbacks.sync(focus == PaneId::Clawbacks, case, ctx),
            self.timeline.sync(focus == PaneId::Timeline, case, ctx),
        ];
        // The Timeline is a pure function of the case: rebuilt, while on
        // screen, when a part of the case changed.
        if focus == PaneId::Timeline {
            let stamp = timeline::Stamp {
                fps: case.fingerprints().to_vec(),
                entitlements: case.listing.generation,
                orders: case.orders.generation,
                subscriptions: case.subscriptions.generation,
                clawbacks: case.clawbacks.generation,
                audit: case.audit.generation,
            };
            if let Some(stamp) = self.timeline.stale(stamp) {
                self.timeline.rebuild(&case.snapshot(), stamp);
            }
        }
        for o in lists {
            out.effects.extend(o.effects);
            out.error = out.error.or(o.error);
            out.toast = out.toast.or(o.toast);
        }
        // The Entitlements detail relates orders by transactionId: it reads
        // the case's orders, so a customer's orders are read once.
        if self.entitlements.wants_orders(case) {
            out.effects.extend(self.orders.ensure_loaded(case).effects);
        }
        out.effects.extend(self.share_titles());
        out
    }

    /// Product titles are looked up by the Entitlements pane (one cache in
    /// the case, `case::titles`); the other lists show them too, and the
    /// ids only they show are asked for once.
    fn share_titles(&mut self) -> Option<Effect> {
        let case = &self.case;
        // Only when a list changed (a listing can be 10,000 rows).
        let gen_now = (
            case.orders.generation,
            case.subscriptions.generation,
            case.clawbacks.generation,
        );
        if std::mem::replace(&mut self.titles_gen, gen_now) == gen_now {
            return None;
        }
        let titles = &case.titles;
        // The Entitlements pane asks for its own rows' ids.
        let ent = &case.listing.data;
        let listed: std::collections::BTreeSet<String> = (0..ent.len() as u32)
            .filter_map(|i| ent.row(i))
            .map(|r| ent.sym(r.product).to_ascii_uppercase())
            .collect();
        let orders = case.orders.data().map(Vec::as_slice).unwrap_or(&[]);
        let subs = case.subscriptions.data().map(Vec::as_slice).unwrap_or(&[]);
        let mut ids: Vec<String> = orders
            .iter()
            .flat_map(|o| o.order_line_items.iter().map(|l| l.product_id.clone()))
            .chain(subs.iter().map(|r| r.product_id.clone()))
            .chain(
                clawbacks::rows(case)
                    .iter()
                    .filter_map(|r| r.event.as_ref().ok())
                    .map(|e| e.data.product_id.clone()),
            )
            .map(|id| id.trim().to_ascii_uppercase())
            .filter(|id| !id.is_empty() && !titles.contains_key(id))
            .filter(|id| !self.titles_asked.contains(id) && !listed.contains(id))
            .collect();
        ids.sort();
        ids.dedup();
        if ids.is_empty() {
            return None;
        }
        self.titles_asked.extend(ids.iter().cloned());
        Some(Effect::Pane(
            PaneId::Entitlements,
            PaneJob::Entitlements(entitlements::EntJob::Titles(ids)),
        ))
    }

    /// The customer's case as a plain [`crate::case::Case`].
    pub fn case(&self) -> crate::case::Case {
        self.case.snapshot()
    }

    pub fn get(&self, id: PaneId) -> &dyn Pane {
        match id {
            PaneId::Key => &self.key,
            PaneId::Entitlements => &self.entitlements,
            PaneId::Orders => &self.orders,
            PaneId::Subscriptions => &self.subscriptions,
            PaneId::Clawbacks => &self.clawbacks,
            PaneId::Timeline => &self.timeline,
            PaneId::Audit => &self.audit,
        }
    }

    pub fn get_mut(&mut self, id: PaneId) -> &mut dyn Pane {
        self.split(id).0
    }

    pub fn accepts_text(&self, id: PaneId) -> bool {
        self.get(id).accepts_text()
    }

    /// A pane and the case, borrowed together.
    fn split(&mut self, id: PaneId) -> (&mut dyn Pane, &mut LiveCase) {
        let case = &mut self.case;
        let pane: &mut dyn Pane = match id {
            PaneId::Key => &mut self.key,
            PaneId::Entitlements => &mut self.entitlements,
            PaneId::Orders => &mut self.orders,
            PaneId::Subscriptions => &mut self.subscriptions,
            PaneId::Clawbacks => &mut self.clawbacks,
            PaneId::Timeline => &mut self.timeline,
            PaneId::Audit => &mut self.audit,
        };
        (pane, case)
    }

    pub fn on_paste(&mut self, id: PaneId, text: String, ctx: &PaneCtx) -> PaneOutput {
        let (pane, case) = self.split(id);
        pane.on_paste(text, case, ctx)
    }

    pub fn on_key(&mut self, id: PaneId, k: KeyEvent, ctx: &PaneCtx) -> Option<PaneOutput> {
        let (pane, case) = self.split(id);
        pane.on_key(k, case, ctx)
    }

    pub fn on_command(&mut self, id: PaneId, cmd: Command, ctx: &PaneCtx) -> Routed {
        let (pane, case) = self.split(id);
        pane.on_command(cmd, case, ctx)
    }

    pub fn on_job_started(&mut self, id: PaneId, job: &PaneJob) {
        let (pane, case) = self.split(id);
        pane.on_job_started(job, case)
    }

    pub fn on_job_crashed(&mut self, id: PaneId, message: &str) {
        let (pane, case) = self.split(id);
        pane.on_job_crashed(message, case)
    }

    pub fn on_event(&mut self, id: PaneId, ev: PaneEvent, ctx: &PaneCtx) -> PaneOutput {
        let (pane, case) = self.split(id);
        pane.on_event(ev, case, ctx)
    }

    /// Keep the focused pane's scroll position right for `body`.
    pub fn fit(&mut self, id: PaneId, body: Rect) {
        let (pane, case) = self.split(id);
        pane.fit(body, case)
    }
}
