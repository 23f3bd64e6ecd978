//! The seven panes. Each owns its state, its key handling and its drawing;
//! it reaches the network only by returning an Effect.

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

use crate::config::Environment;
use crate::tui::app::{Connection, Effect};
use crate::tui::keymap::{Command, Scope};
use chrono::{DateTime, Utc};
use crossterm::event::KeyEvent;

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
            Command::AckClawback => Some(PaneId::Clawbacks),
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

#[derive(Default)]
pub struct Panes {
    pub key: key::KeyPane,
    pub entitlements: entitlements::EntitlementsPane,
    pub orders: orders::OrdersPane,
    pub subscriptions: subscriptions::SubscriptionsPane,
    pub clawbacks: clawbacks::ClawbacksPane,
    pub timeline: timeline::TimelinePane,
    pub audit: audit::AuditPane,
}

impl Panes {
    pub fn on_tick(&mut self, now: DateTime<Utc>, conn: Option<&Connection>) {
        self.key.reassess(now, conn);
    }

    /// After every update: panes that follow the case (the keys) or start
    /// work when they come on screen catch up here.
    pub fn sync(&mut self, focus: PaneId, ctx: &PaneCtx) -> PaneOutput {
        let audit = self.audit.sync(focus == PaneId::Audit);
        if !audit.effects.is_empty() {
            return audit;
        }
        let mut out = self.entitlements.sync(
            focus == PaneId::Entitlements,
            self.key.collections_token(),
            self.key.purchase_token(),
            ctx,
        );
        let purchase = self.key.purchase_token();
        let lists = [
            self.orders.sync(focus == PaneId::Orders, purchase, ctx),
            self.subscriptions
                .sync(focus == PaneId::Subscriptions, purchase, ctx),
            self.clawbacks.sync(focus == PaneId::Clawbacks, ctx),
            self.timeline.sync(
                focus == PaneId::Timeline,
                &timeline::Sources {
                    collections_key: self.key.collections_token(),
                    purchase_key: purchase,
                    entitlements: &self.entitlements,
                    orders: &self.orders,
                    subscriptions: &self.subscriptions,
                    clawbacks: &self.clawbacks,
                },
                ctx,
            ),
        ];
        for o in lists {
            out.effects.extend(o.effects);
            out.error = out.error.or(o.error);
            out.toast = out.toast.or(o.toast);
        }
        // The Entitlements detail relates orders by transactionId: it gets
        // them from the Orders pane, so a customer's orders are read once.
        if self.entitlements.awaits_orders()
            && let Some(key) = purchase
        {
            match self.orders.result_for(key) {
                Some(result) => self.entitlements.receive_orders(result),
                None => out.effects.extend(self.orders.ensure_loaded().effects),
            }
        }
        out
    }

    /// Whether the pane has a text field that wants pasted text.
    pub fn accepts_text(&self, id: PaneId) -> bool {
        id == PaneId::Key
            || (id == PaneId::Subscriptions && self.subscriptions.accepts_text())
            || (id == PaneId::Orders && self.orders.accepts_text())
            || (id == PaneId::Clawbacks && self.clawbacks.accepts_text())
            || (id == PaneId::Audit && self.audit.filter.typing)
            || (id == PaneId::Entitlements && self.entitlements.form.is_some())
    }

    pub fn on_paste(&mut self, id: PaneId, text: String, ctx: &PaneCtx) -> PaneOutput {
        match id {
            PaneId::Key => self.key.paste(text, ctx),
            PaneId::Subscriptions => self.subscriptions.on_paste(&text),
            PaneId::Orders => {
                self.orders.on_paste(&text);
                PaneOutput::none()
            }
            PaneId::Clawbacks => {
                self.clawbacks.on_paste(&text);
                PaneOutput::none()
            }
            PaneId::Audit => {
                self.audit.on_paste(&text);
                PaneOutput::none()
            }
            PaneId::Entitlements => {
                self.entitlements.paste_into_form(&text);
                PaneOutput::none()
            }
            _ => PaneOutput::none(),
        }
    }

    /// A key for the focused pane. `None` lets the global keymap have it.
    pub fn on_key(&mut self, id: PaneId, k: KeyEvent, ctx: &PaneCtx) -> Option<PaneOutput> {
        match id {
            PaneId::Key => self.key.on_key(k, ctx),
            PaneId::Entitlements => self.entitlements.on_key(k, ctx),
            PaneId::Audit => self.audit.on_key(k),
            PaneId::Subscriptions => self.subscriptions.on_key(k, ctx),
            PaneId::Orders => self.orders.on_key(k),
            PaneId::Clawbacks => self.clawbacks.on_key(k),
            _ => None,
        }
    }

    pub fn on_command(&mut self, id: PaneId, cmd: Command, ctx: &PaneCtx) -> Routed {
        match id {
            PaneId::Key => self.key.on_command(cmd, ctx),
            PaneId::Entitlements => self.entitlements.on_command(cmd, ctx),
            PaneId::Audit => self.audit.on_command(cmd, ctx),
            PaneId::Orders => self.orders.on_command(cmd, ctx),
            PaneId::Subscriptions => self.subscriptions.on_command(cmd, ctx),
            PaneId::Clawbacks => self.clawbacks.on_command(cmd, ctx),
            PaneId::Timeline => self.timeline.on_command(cmd, ctx),
        }
    }

    /// A confirmed job is about to run: the pane shows it as under way.
    pub fn on_job_started(&mut self, id: PaneId, job: &PaneJob) {
        match (id, job) {
            (PaneId::Key, PaneJob::Key(j)) => self.key.on_job_started(j),
            (PaneId::Entitlements, PaneJob::Entitlements(j)) => self.entitlements.on_job_started(j),
            (PaneId::Subscriptions, PaneJob::Subscriptions(j)) => {
                self.subscriptions.on_job_started(j)
            }
            (PaneId::Clawbacks, PaneJob::Clawbacks(j)) => self.clawbacks.on_job_started(j),
            _ => {}
        }
    }

    pub fn on_event(&mut self, id: PaneId, ev: PaneEvent, ctx: &PaneCtx) -> PaneOutput {
        match (id, ev) {
            (PaneId::Key, PaneEvent::Key(e)) => self.key.on_event(e, ctx),
            (PaneId::Entitlements, PaneEvent::Entitlements(e)) => {
                self.entitlements.on_event(e, ctx)
            }
            (PaneId::Audit, PaneEvent::Audit(e)) => self.audit.on_event(e),
            (PaneId::Orders, PaneEvent::Orders(e)) => self.orders.on_event(e, ctx),
            (PaneId::Subscriptions, PaneEvent::Subscriptions(e)) => {
                self.subscriptions.on_event(e, ctx)
            }
            (PaneId::Clawbacks, PaneEvent::Clawbacks(e)) => self.clawbacks.on_event(e, ctx),
            (PaneId::Timeline, PaneEvent::Timeline(e)) => self.timeline.on_event(e, ctx),
            _ => PaneOutput::none(),
        }
    }
}
