//! The Timeline pane: one time-ordered view of what the console already
//! loaded for this case — entitlements, orders, subscriptions, the clawback
//! events tied to the customer, and this data dir's audit entries for the
//! case's keys. It makes no Store call of its own (the audit log is a local
//! read) and says which sources are loaded and which are not yet.

use crate::browse::data::NONE;
use crate::journal::AuditEntry;
use crate::tui::action::Effect;
use crate::tui::keymap::Command;
use crate::tui::panes::clawbacks::{ClawbacksPane, source_label};
use crate::tui::panes::empty::draw_empty;
use crate::tui::panes::entitlements::{EntitlementsPane, FetchState};
use crate::tui::panes::list::{self, Cursor, Load};
use crate::tui::panes::orders::OrdersPane;
use crate::tui::panes::subscriptions::SubscriptionsPane;
use crate::tui::panes::{PaneCtx, PaneId, PaneJob, PaneOutput, Routed};
use crate::tui::theme::Theme;
use crate::tui::widgets::table::{self, TableColumn, TableSpec};
use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use std::borrow::Cow;

#[derive(Clone, Debug, PartialEq)]
pub enum TimelineJob {
    /// This data dir's audit entries for these key fingerprints.
    LoadAudit { load_id: u64, fps: Vec<String> },
}

#[derive(Debug)]
pub enum TimelineEvent {
    AuditLoaded {
        load_id: u64,
        result: Result<Vec<AuditEntry>, String>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    Entitlements,
    Orders,
    Subscriptions,
    Clawbacks,
    Audit,
}

impl Source {
    pub fn label(self) -> &'static str {
        match self {
            Source::Entitlements => "owned",
            Source::Orders => "order",
            Source::Subscriptions => "subscription",
            Source::Clawbacks => "clawback",
            Source::Audit => "audit",
        }
    }
}

/// One moment of the case.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub at: DateTime<Utc>,
    pub source: Source,
    pub what: String,
    pub detail: String,
}

/// What the other panes hold, borrowed for one sync.
pub struct Sources<'a> {
    pub collections_key: Option<&'a str>,
    pub purchase_key: Option<&'a str>,
    pub entitlements: &'a EntitlementsPane,
    pub orders: &'a OrdersPane,
    pub subscriptions: &'a SubscriptionsPane,
    pub clawbacks: &'a ClawbacksPane,
}

/// Enough to tell whether the sources changed since the last build.
#[derive(Clone, Debug, Default, PartialEq)]
struct Stamp {
    fps: Vec<String>,
    entitlements: (Option<String>, usize, bool),
    orders: u64,
    subscriptions: u64,
    clawbacks: u64,
    audit: u64,
}

const COLUMNS: &[TableColumn] = &[
    TableColumn {
        title: "time (UTC)",
        min: 16,
        max: 16,
        right: false,
    },
    TableColumn {
        title: "",
        min: 2,
        max: 2,
        right: false,
    },
    TableColumn {
        title: "source",
        min: 5,
        max: 12,
        right: false,
    },
    TableColumn {
        title: "what",
        min: 20,
        max: 60,
        right: false,
    },
    TableColumn {
        title: "detail",
        min: 10,
        max: 90,
        right: false,
    },
];

pub struct TimelinePane {
    pub entries: Vec<Entry>,
    /// One line per source: loaded, or why not.
    pub sources: Vec<(Source, bool, String)>,
    pub audit: Load<Vec<AuditEntry>>,
    pub cursor: Cursor,
    audit_fps: Vec<String>,
    audit_generation: u64,
    stamp: Option<Stamp>,
    next_load: u64,
    was_focused: bool,
    now: DateTime<Utc>,
}

impl Default for TimelinePane {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
            sources: Vec::new(),
            audit: Load::Idle,
            cursor: Cursor::default(),
            audit_fps: Vec::new(),
            audit_generation: 0,
            stamp: None,
            next_load: 1,
            was_focused: false,
            now: DateTime::<Utc>::UNIX_EPOCH,
        }
    }
}

fn case_fps(s: &Sources) -> Vec<String> {
    [s.collections_key, s.purchase_key]
        .into_iter()
        .flatten()
        .map(crate::keys::fingerprint)
        .collect()
}

impl TimelinePane {
    /// Reads the audit log when the pane comes on screen (writes may have
    /// happened) or the case's keys change; rebuilds the merged list when
    /// on screen and a source changed.
    pub fn sync(&mut self, focused: bool, s: &Sources, ctx: &PaneCtx) -> PaneOutput {
        self.now = ctx.now;
        let gained = focused && !self.was_focused;
        self.was_focused = focused;
        let fps = case_fps(s);
        let mut out = PaneOutput::none();
        if fps != self.audit_fps {
            self.audit_fps = fps.clone();
            self.audit = Load::Idle;
            self.audit_generation += 1;
            self.cursor.reset();
        }
        if focused && !fps.is_empty() && (gained || self.audit == Load::Idle) {
            out = self.load_audit();
        }
        if focused {
            let stamp = Stamp {
                fps,
                entitlements: (
                    s.entitlements.key_fingerprint(),
                    s.entitlements.data.len(),
                    s.entitlements.is_fetching(),
                ),
                orders: s.orders.generation,
                subscriptions: s.subscriptions.generation,
                clawbacks: s.clawbacks.generation,
                audit: self.audit_generation,
            };
            if self.stamp.as_ref() != Some(&stamp) {
                self.rebuild(s);
                self.stamp = Some(stamp);
            }
        }
        out
    }

    fn load_audit(&mut self) -> PaneOutput {
        if self.audit_fps.is_empty() {
            return PaneOutput::none();
        }
        if self.audit.is_loading() {
            return PaneOutput::none();
        }
        let load_id = self.next_load;
        self.next_load += 1;
        self.audit = Load::Loading { load_id };
        self.audit_generation += 1;
        PaneOutput::effect(Effect::Pane(
            PaneId::Timeline,
            PaneJob::Timeline(TimelineJob::LoadAudit {
                load_id,
                fps: self.audit_fps.clone(),
            }),
        ))
    }

    pub fn on_event(&mut self, ev: TimelineEvent, ctx: &PaneCtx) -> PaneOutput {
        match ev {
            TimelineEvent::AuditLoaded { load_id, result } if self.audit.awaits(load_id) => {
                self.audit_generation += 1;
                match result {
                    Ok(entries) => {
                        self.audit = Load::Loaded {
                            at: ctx.now,
                            data: entries,
                        };
                        PaneOutput::none()
                    }
                    Err(e) => {
                        self.audit = Load::Failed(list::Failure::plain(e.clone()));
                        PaneOutput::error(format!("timeline: audit log: {e}"))
                    }
                }
            }
            TimelineEvent::AuditLoaded { .. } => PaneOutput::none(),
        }
    }

    pub fn on_command(&mut self, cmd: Command, _ctx: &PaneCtx) -> Routed {
        if self.cursor.on_command(cmd, self.entries.len()) {
            return Routed::handled(PaneOutput::none());
        }
        let out = match cmd {
            // Only the local audit log is read again: the other sources
            // belong to their panes, and each has its own `r`.
            Command::Refresh => {
                let mut out = self.load_audit();
                out.toast = Some(
                    "timeline: audit log read again; Store data refreshes in its own pane (r there)"
                        .into(),
                );
                out
            }
            Command::Copy => match self.entries.get(self.cursor.selected) {
                Some(e) => PaneOutput::effect(Effect::Copy {
                    text: format!(
                        "{} UTC\t{}\t{}\t{}",
                        list::when(Some(e.at)),
                        e.source.label(),
                        e.what,
                        e.detail
                    ),
                    label: "timeline line".into(),
                }),
                None => PaneOutput::error("nothing to copy"),
            },
            _ => return Routed::ignored(),
        };
        Routed::handled(out)
    }

    /// Merge every loaded source, newest first.
    fn rebuild(&mut self, s: &Sources) {
        let mut entries = Vec::new();
        let mut sources = Vec::new();
        let now = self.now;
        sources.push(entitlements(s, &mut entries));
        sources.push(orders(s, &mut entries));
        sources.push(subscriptions(s, now, &mut entries));
        sources.push(clawbacks(s, &mut entries));
        sources.push(self.audit_source(s, &mut entries));
        entries.sort_by(|a, b| b.at.cmp(&a.at).then(a.source.cmp(&b.source)));
        self.entries = entries;
        self.sources = sources;
        self.cursor.clamp(self.entries.len());
    }

    fn audit_source(&self, s: &Sources, out: &mut Vec<Entry>) -> (Source, bool, String) {
        let src = Source::Audit;
        match &self.audit {
            _ if self.audit_fps.is_empty() => (src, false, "audit: no keys in the case".into()),
            Load::Idle => (src, false, "audit: not read yet".into()),
            Load::Loading { .. } => (src, false, "audit: reading…".into()),
            Load::Failed(f) => (src, false, format!("audit: {}", f.message)),
            Load::Loaded { data, .. } => {
                let orders = s.orders.orders();
                let mine = |a: &AuditEntry| {
                    self.audit_fps.contains(&a.customer_fp)
                        || (a.action == crate::journal::WriteKind::ClawbackAck.as_str()
                            && orders
                                .iter()
                                .any(|o| a.request_summary.contains(&o.order_id)))
                };
                let mut n = 0;
                for a in data.iter().filter(|a| mine(a)) {
                    n += 1;
                    let Some(at) = crate::store::model::StoreTime::parse(&a.at) else {
                        continue;
                    };
                    out.push(Entry {
                        at: at.0,
                        source: src,
                        what: format!("{} {}", a.action, a.event),
                        detail: format!(
                            "{}{} · by {} ({})",
                            a.request_summary,
                            a.result
                                .as_deref()
                                .map(|r| format!(" → {r}"))
                                .unwrap_or_default(),
                            a.operator,
                            a.profile
                        ),
                    });
                }
                (src, true, format!("audit {n}"))
            }
        }
    }

    pub fn view(&self, f: &mut Frame, area: Rect, theme: &Theme) {
        if self.audit_fps.is_empty() {
            draw_empty(
                f,
                area,
                theme,
                "No customer in this case.",
                "Load keys in the Key pane (1, or d for a demo customer); what the other panes read for them lines up here, newest first.",
            );
            return;
        }
        let mut spans = vec![Span::styled(" sources: ", theme.dim())];
        for (i, (_, loaded, text)) in self.sources.iter().enumerate() {
            if i > 0 {
                spans.push(Span::styled(" · ", theme.dim()));
            }
            spans.push(Span::styled(
                format!("{}{text}", if *loaded { "✓ " } else { "✗ " }),
                if *loaded { theme.good() } else { theme.warn() },
            ));
        }
        let sources = Line::from(spans);
        // Word wrapping needs a little slack over the plain width.
        let src_rows = (sources.width() + sources.width() / 8)
            .div_ceil(usize::from(area.width.max(1)))
            .clamp(1, 3) as u16;
        let [head, src, body] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(src_rows),
            Constraint::Min(1),
        ])
        .areas(area);
        list::header(
            f,
            head,
            theme,
            "Timeline",
            &format!(
                "{} moments, newest first · from what is already loaded, no Store calls",
                self.entries.len()
            ),
            "Enter detail · y copy · r re-read audit",
        );
        f.render_widget(Paragraph::new(sources).wrap(Wrap { trim: true }), src);
        if self.entries.is_empty() {
            draw_empty(
                f,
                body,
                theme,
                "Nothing loaded for this case yet.",
                "Open Entitlements (2), Orders (3), Subscriptions (4) or Clawbacks (5): each reads its own data, and it lines up here.",
            );
            return;
        }
        let spec = TableSpec {
            columns: list::fitting(COLUMNS, body.width),
            len: self.entries.len(),
            selected: Some(self.cursor.selected),
            sort: None,
            offset: self.cursor.offset.get(),
        };
        let entries = &self.entries;
        let now = self.now;
        let cell = |r: usize, c: usize| -> Cow<'_, str> {
            let Some(e) = entries.get(r) else {
                return Cow::Borrowed("");
            };
            match c {
                0 => Cow::Owned(list::when(Some(e.at))),
                // Upcoming moments (a subscription's expiry) stand out.
                1 => Cow::Borrowed(if e.at > now { "⏵" } else { "" }),
                2 => Cow::Borrowed(e.source.label()),
                3 => Cow::Borrowed(e.what.as_str()),
                4 => Cow::Borrowed(e.detail.as_str()),
                _ => Cow::Borrowed(""),
            }
        };
        let style = |r: usize| -> Style {
            match entries.get(r).map(|e| e.source) {
                Some(Source::Clawbacks) => theme.warn(),
                Some(Source::Audit) => theme.key_hint(),
                Some(_) if entries.get(r).is_some_and(|e| e.at > now) => theme.dim(),
                _ => Style::default(),
            }
        };
        let drawn = table::render(f, body, theme, &spec, &cell, &style);
        self.cursor.offset.set(drawn.offset);
        self.cursor.page.set(drawn.height);
        if self.cursor.detail
            && let Some(e) = entries.get(self.cursor.selected)
        {
            list::detail_box(
                f,
                body,
                theme,
                "Timeline",
                &[
                    (
                        "time".to_string(),
                        format!(
                            "{} UTC ({})",
                            list::when(Some(e.at)),
                            list::rel(Some(e.at), now)
                        ),
                    ),
                    ("source".to_string(), e.source.label().to_string()),
                    ("what".to_string(), e.what.clone()),
                    ("detail".to_string(), e.detail.clone()),
                ],
                &[],
            );
        }
    }
}

fn at(secs: i64) -> Option<DateTime<Utc>> {
    if secs == NONE || secs >= crate::browse::column::FOREVER {
        return None;
    }
    DateTime::from_timestamp(secs, 0)
}

fn entitlements(s: &Sources, out: &mut Vec<Entry>) -> (Source, bool, String) {
    let src = Source::Entitlements;
    let Some(key) = s.collections_key else {
        return (src, false, "entitlements: no collections key".into());
    };
    let e = s.entitlements;
    if e.key_fingerprint().as_deref() != Some(crate::keys::fingerprint(key).as_str()) {
        return (src, false, "entitlements: not listed yet (open 2)".into());
    }
    let d = &e.data;
    for r in d.rows() {
        let product = d.sym(r.product);
        let kind = d.sym(r.kind);
        let status = d.sym(r.status);
        if let Some(t) = at(r.acquired) {
            out.push(Entry {
                at: t,
                source: src,
                what: format!("acquired {product}"),
                detail: format!(
                    "{} · {} · {}",
                    if kind.is_empty() { "no kind" } else { kind },
                    d.sym(r.acquisition),
                    if status.is_empty() {
                        "no status"
                    } else {
                        status
                    }
                ),
            });
        }
        if let Some(t) = at(r.modified)
            && r.modified != r.acquired
        {
            out.push(Entry {
                at: t,
                source: src,
                what: format!("modified {product}"),
                detail: format!(
                    "now {}",
                    if status.is_empty() {
                        "no status"
                    } else {
                        status
                    }
                ),
            });
        }
    }
    let n = d.len();
    match &e.fetch {
        FetchState::Running { .. } => (src, false, format!("entitlements: listing… {n} so far")),
        FetchState::Failed(_, why) => (
            src,
            n > 0,
            format!("entitlements: {n}, listing failed ({why})"),
        ),
        FetchState::Cancelled(_) => (src, n > 0, format!("entitlements: {n}, listing cancelled")),
        _ => (src, true, format!("entitlements {n}")),
    }
}

fn orders(s: &Sources, out: &mut Vec<Entry>) -> (Source, bool, String) {
    let src = Source::Orders;
    if s.purchase_key.is_none() {
        return (src, false, "orders: no purchase key".into());
    }
    match &s.orders.load {
        Load::Idle => (src, false, "orders: not read yet (open 3)".into()),
        Load::Loading { .. } => (src, false, "orders: reading…".into()),
        Load::Failed(_) => (src, false, "orders: failed (see 3)".into()),
        Load::Loaded { data, .. } => {
            for o in data {
                let lines = o
                    .order_line_items
                    .iter()
                    .map(|l| format!("{} × {}", l.quantity, l.product_id))
                    .collect::<Vec<_>>()
                    .join(", ");
                if let Some(t) = &o.order_purchased_date {
                    out.push(Entry {
                        at: t.0,
                        source: src,
                        what: format!("purchased {lines}"),
                        detail: format!("order {}", o.order_id),
                    });
                }
                if let Some(t) = &o.order_refunded_date {
                    let states = o
                        .order_line_items
                        .iter()
                        .filter_map(|l| l.line_item_state.as_ref().map(|s| s.to_string()))
                        .collect::<Vec<_>>()
                        .join(", ");
                    out.push(Entry {
                        at: t.0,
                        source: src,
                        what: format!("refunded {lines}"),
                        detail: format!("order {} · {states}", o.order_id),
                    });
                }
            }
            (src, true, format!("orders {} (90 days)", data.len()))
        }
    }
}

fn subscriptions(s: &Sources, now: DateTime<Utc>, out: &mut Vec<Entry>) -> (Source, bool, String) {
    let src = Source::Subscriptions;
    if s.purchase_key.is_none() {
        return (src, false, "subscriptions: no purchase key".into());
    }
    match &s.subscriptions.load {
        Load::Idle => (src, false, "subscriptions: not read yet (open 4)".into()),
        Load::Loading { .. } => (src, false, "subscriptions: reading…".into()),
        Load::Failed(_) => (src, false, "subscriptions: failed (see 4)".into()),
        Load::Loaded { data, .. } => {
            for r in data {
                let state = r
                    .recurrence_state
                    .as_ref()
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "no state".into());
                let detail = format!("now {state} · {}", r.id);
                if let Some(t) = &r.start_time {
                    out.push(Entry {
                        at: t.0,
                        source: src,
                        what: format!("started {}", r.product_id),
                        detail: detail.clone(),
                    });
                }
                if let Some(t) = &r.expiration_time
                    && !t.is_forever()
                {
                    out.push(Entry {
                        at: t.0,
                        source: src,
                        what: format!(
                            "{} {}",
                            if t.0 > now { "expires" } else { "expired" },
                            r.product_id
                        ),
                        detail: detail.clone(),
                    });
                }
                if let Some(t) = &r.cancellation_date {
                    out.push(Entry {
                        at: t.0,
                        source: src,
                        what: format!("canceled {}", r.product_id),
                        detail: detail.clone(),
                    });
                }
            }
            (src, true, format!("subscriptions {}", data.len()))
        }
    }
}

/// Queue events tied to this case: their order is one of the customer's
/// loaded orders, or the journal matched them to a consume of a case key.
fn clawbacks(s: &Sources, out: &mut Vec<Entry>) -> (Source, bool, String) {
    let src = Source::Clawbacks;
    let fps: Vec<String> = case_fps(s);
    let order_ids: Vec<&str> = s
        .orders
        .orders()
        .iter()
        .map(|o| o.order_id.as_str())
        .collect();
    match &s.clawbacks.load {
        Load::Idle => (
            src,
            false,
            "clawbacks: queue not peeked yet (open 5)".into(),
        ),
        Load::Loading { .. } => (src, false, "clawbacks: peeking…".into()),
        Load::Failed(_) => (src, false, "clawbacks: failed (see 5)".into()),
        Load::Loaded { data, .. } => {
            let mut tied = 0;
            for r in &data.rows {
                let Ok(e) = &r.event else { continue };
                let by_order = order_ids.contains(&e.data.order_id.as_str());
                let by_journal = r
                    .matches
                    .as_ref()
                    .is_ok_and(|m| m.iter().any(|t| fps.contains(&t.customer_fp)));
                if !(by_order || by_journal) {
                    continue;
                }
                tied += 1;
                let Some(t) = r.time() else { continue };
                out.push(Entry {
                    at: t,
                    source: src,
                    what: format!(
                        "{} {} {}",
                        source_label(&e.source).to_lowercase(),
                        e.data
                            .event_state
                            .as_ref()
                            .map(|s| s.to_string())
                            .unwrap_or_else(|| "—".into()),
                        e.data.product_id
                    ),
                    detail: format!(
                        "order {} · {} · {}",
                        e.data.order_id,
                        crate::tui::panes::clawbacks::what_to_do(r.state()).0,
                        crate::tui::panes::clawbacks::match_text(&r.matches)
                    ),
                });
            }
            let how = if s.orders.load.data().is_none() {
                " (by journal only: read Orders (3) to tie by order)"
            } else {
                ""
            };
            (
                src,
                true,
                format!(
                    "clawbacks {tied} of {} queue events tie to this case{how}",
                    data.rows.len()
                ),
            )
        }
    }
}

impl super::Pane for TimelinePane {
    fn id(&self) -> super::PaneId {
        super::PaneId::Timeline
    }
    fn on_command(
        &mut self,
        cmd: crate::tui::keymap::Command,
        ctx: &super::PaneCtx,
    ) -> super::Routed {
        TimelinePane::on_command(self, cmd, ctx)
    }
    fn on_event(&mut self, ev: super::PaneEvent, ctx: &super::PaneCtx) -> super::PaneOutput {
        match ev {
            super::PaneEvent::Timeline(e) => TimelinePane::on_event(self, e, ctx),
            _ => super::PaneOutput::none(),
        }
    }
    fn draw(&self, f: &mut ratatui::Frame, area: ratatui::layout::Rect, ctx: &super::DrawCtx) {
        self.view(f, area, ctx.theme)
    }
}
