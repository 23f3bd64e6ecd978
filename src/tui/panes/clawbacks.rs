//! The Clawbacks pane: refunds and chargebacks waiting on the clawback
//! queue, peeked (never removed) and matched to the consumes this data dir's
//! journal recorded, by orderId + lineItemId — the events carry no user.
//!
//! Removing an event is an explicit write, `:ack-clawback`: the event is
//! received (hidden from other readers for a while) to get its pop receipt,
//! then the delete goes through the confirmation dialog and the journal.

pub use crate::case::clawbacks::{ClawRow, Peeked, match_text, source_label, what_to_do};
use crate::case::clawbacks::{EnvMatch, ack_refusal, environment_label};
use crate::case::live::LiveCase;
use crate::case::read::{Failure, Load};
use crate::journal::WriteRequest;
use crate::store::model::EventState;
use crate::tui::action::Effect;
use crate::tui::keymap::Command;
use crate::tui::panes::empty::draw_empty;
use crate::tui::panes::list::{self, Cursor, Shown};
use crate::tui::panes::{PaneCtx, PaneId, PaneJob, PaneOutput, Routed};
use crate::tui::theme::Theme;
use crate::tui::widgets::confirm::ConfirmDialog;
use crate::tui::widgets::table::{self, TableColumn, TableSpec};
use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use std::borrow::Cow;

pub use crate::case::load::PEEK_MAX;
/// How long the events received to get a pop receipt stay hidden. The
/// queue is shared with the publisher's own reconciler, which must not lose
/// sight of them for long; the pop receipt stays good after they show again
/// unless another reader receives the event meanwhile (the delete then fails
/// and says so). Azure's minimum is 1 s.
pub const RECEIVE_VISIBILITY_SECS: u32 = 1;

#[derive(Clone, Debug, PartialEq)]
pub enum ClawJob {
    Peek {
        load_id: u64,
    },
    /// Receive the first `count` events (the one to acknowledge is the last
    /// of them) to get `message_id`'s pop receipt.
    Receive {
        message_id: String,
        count: u8,
    },
    /// A confirmed acknowledgement, through the journal.
    Ack(WriteRequest),
}

/// A received event's pop receipt.
#[derive(Clone, Debug, PartialEq)]
pub struct Receipt {
    pub pop_receipt: String,
    /// When the event shows again to other readers (queue's wording).
    pub visible_again: Option<String>,
    /// Events received (and so hidden) besides the one to acknowledge.
    pub others_hidden: usize,
}

#[derive(Debug)]
pub enum ClawEvent {
    Peeked {
        load_id: u64,
        result: Result<Peeked, Failure>,
    },
    Received {
        message_id: String,
        result: Result<Receipt, Failure>,
    },
    Acked(Result<String, String>),
}

/// Most telling first: narrow screens drop the ids (Enter shows them).
const COLUMNS: &[TableColumn] = &[
    TableColumn {
        title: "event day",
        min: 10,
        max: 10,
        right: false,
    },
    TableColumn {
        title: "eventState",
        min: 10,
        max: 18,
        right: false,
    },
    TableColumn {
        title: "to do",
        min: 13,
        max: 15,
        right: false,
    },
    TableColumn {
        title: "product",
        min: 8,
        max: 14,
        right: false,
    },
    TableColumn {
        title: "local record",
        min: 31,
        max: 44,
        right: false,
    },
    TableColumn {
        title: "orderId",
        min: 36,
        max: 36,
        right: false,
    },
    TableColumn {
        title: "lineItemId",
        min: 36,
        max: 36,
        right: false,
    },
    TableColumn {
        title: "source",
        min: 10,
        max: 10,
        right: false,
    },
];

pub struct ClawbacksPane {
    /// The case's (customer, generation) the view was made from.
    seen: (u64, u64),
    pub shown: Shown,
    pub cursor: Cursor,
    /// The event selected when a peek began, to select again after.
    reselect: Option<String>,
    /// An acknowledgement is being prepared (receive) or sent.
    pub busy: Option<&'static str>,
    now: DateTime<Utc>,
    /// `:all-environments`: events of other environments are listed too
    /// (labelled, never acknowledged).
    pub all_environments: bool,
}

impl Default for ClawbacksPane {
    fn default() -> Self {
        Self {
            seen: (0, 0),
            shown: Shown::default(),
            cursor: Cursor::default(),
            reselect: None,
            busy: None,
            now: DateTime::<Utc>::UNIX_EPOCH,
            all_environments: false,
        }
    }
}

/// Column `c` of an event's row: what the table draws and the filter
/// searches. An event of another environment says so where the next step
/// would be: it is not the profile's to act on.
fn cell_text<'a>(r: &'a ClawRow, c: usize, expected: &str, titles: &list::Titles) -> Cow<'a, str> {
    if c == 2 && matches!(r.environment(expected), EnvMatch::Other(_)) {
        return Cow::Owned(environment_label(r, expected));
    }
    let e = match &r.event {
        Ok(e) => e,
        Err(why) => {
            return match c {
                0 => Cow::Owned(list::day(r.inserted())),
                1 => Cow::Borrowed("undecodable"),
                4 => Cow::Owned(why.clone()),
                _ => Cow::Borrowed(""),
            };
        }
    };
    match c {
        0 => Cow::Owned(list::day(r.time())),
        1 => Cow::Owned(
            e.data
                .event_state
                .as_ref()
                .map(|s| s.to_string())
                .unwrap_or_else(|| "—".into()),
        ),
        2 => Cow::Borrowed(what_to_do(r.state()).0),
        3 => list::product_label(titles, &e.data.product_id),
        4 => {
            let m = match_text(&r.matches);
            Cow::Owned(m.strip_prefix("matches ").map(String::from).unwrap_or(m))
        }
        5 => Cow::Borrowed(e.data.order_id.as_str()),
        6 => Cow::Borrowed(e.data.line_item_id.as_str()),
        7 => Cow::Borrowed(source_label(&e.source)),
        _ => Cow::Borrowed(""),
    }
}

pub fn rows(case: &LiveCase) -> &[ClawRow] {
    case.clawbacks
        .data()
        .map(|p| p.rows.as_slice())
        .unwrap_or(&[])
}

/// The `sandboxId` of the profile's environment, as the peek saw it.
fn expected(case: &LiveCase) -> &str {
    case.clawbacks
        .data()
        .map(|p| p.environment.as_str())
        .unwrap_or("RETAIL")
}

/// The event's place in the queue (the screen sorts rows by time).
fn queue_position(case: &LiveCase, message_id: &str) -> Option<usize> {
    rows(case)
        .iter()
        .find(|r| r.message_id == message_id)
        .map(|r| r.position)
}

fn claw_job(j: ClawJob) -> Effect {
    Effect::Pane(PaneId::Clawbacks, PaneJob::Clawbacks(j))
}

impl ClawbacksPane {
    pub fn current<'c>(&self, case: &'c LiveCase) -> Option<&'c ClawRow> {
        rows(case).get(self.shown.item(self.cursor.selected)?)
    }

    /// The rows that pass the filter (and, unless `:all-environments`, are
    /// not of another environment); the selection stays on `keep` (a
    /// message id) if it still shows.
    fn refilter(&mut self, keep: Option<String>, case: &LiveCase) {
        let rows = rows(case);
        let expected = expected(case);
        let all = self.all_environments;
        let titles = &case.titles;
        self.shown.refilter_where(
            rows.len(),
            |i| all || !matches!(rows[i].environment(expected), EnvMatch::Other(_)),
            |i| {
                (0..COLUMNS.len())
                    .map(|c| cell_text(&rows[i], c, expected, titles))
                    .collect()
            },
            |i| keep.as_deref() == Some(rows[i].message_id.as_str()),
            &mut self.cursor,
        );
    }

    /// Remake the view when the peeked queue changed.
    fn catch_up(&mut self, case: &LiveCase) {
        let read = &case.clawbacks;
        if (read.customer, read.generation) != self.seen {
            self.seen = (read.customer, read.generation);
            if read.data().is_some() {
                let keep = self.reselect.take();
                self.refilter(keep, case);
            }
        }
    }

    /// Keys while the filter is typed; `None` lets the keymap have them.
    pub fn on_key(&mut self, k: crossterm::event::KeyEvent, case: &LiveCase) -> Option<PaneOutput> {
        if self.shown.filter.on_key(k)? {
            let keep = self.current(case).map(|r| r.message_id.clone());
            self.refilter(keep, case);
        }
        Some(PaneOutput::none())
    }

    pub fn accepts_text(&self) -> bool {
        self.shown.filter.typing
    }

    pub fn on_paste(&mut self, text: &str, case: &LiveCase) {
        if self.shown.filter.paste(text) {
            self.refilter(None, case);
        }
    }

    /// The queue belongs to the app, not to a customer: it is peeked the
    /// first time the pane is on screen, whatever the case holds.
    pub fn sync(&mut self, focused: bool, case: &mut LiveCase, ctx: &PaneCtx) -> PaneOutput {
        self.now = ctx.now;
        self.catch_up(case);
        if focused && case.clawbacks.load == Load::Idle && case.clawbacks.connected() {
            return self.start_peek(case);
        }
        PaneOutput::none()
    }

    fn start_peek(&mut self, case: &mut LiveCase) -> PaneOutput {
        self.reselect = self.current(case).map(|r| r.message_id.clone());
        match case.clawbacks.begin_unkeyed() {
            Ok(load_id) => PaneOutput::effect(claw_job(ClawJob::Peek { load_id })),
            Err(why) => PaneOutput::error(why),
        }
    }

    pub fn on_job_started(&mut self, job: &ClawJob) {
        if let ClawJob::Ack(_) = job {
            self.busy = Some("sending the acknowledgement (journaled first)…");
        }
    }

    pub fn on_event(&mut self, ev: ClawEvent, case: &mut LiveCase, ctx: &PaneCtx) -> PaneOutput {
        match ev {
            ClawEvent::Peeked { load_id, result } => {
                let result = result.map(|mut p| {
                    p.rows.sort_by_key(|r| std::cmp::Reverse(r.time()));
                    p
                });
                let settled = case
                    .clawbacks
                    .settle(load_id, result, ctx.now, "clawback queue");
                self.catch_up(case);
                match settled {
                    Some(Err(msg)) => PaneOutput::error(msg),
                    _ => PaneOutput::none(),
                }
            }
            ClawEvent::Received { message_id, result } => {
                self.busy = None;
                match result {
                    Ok(r) => self.ask_ack(&message_id, r, case, ctx),
                    Err(f) => {
                        // What was received shows again later; the list
                        // should say what is visible now.
                        let mut out = self.start_peek(case);
                        out.error = Some(format!("not acknowledged: {}", f.line()));
                        out
                    }
                }
            }
            ClawEvent::Acked(result) => {
                self.busy = None;
                let mut out = self.start_peek(case);
                match result {
                    Ok(line) => out.toast = Some(line),
                    Err(e) => out.error = Some(e),
                }
                out
            }
        }
    }

    pub fn on_command(&mut self, cmd: Command, case: &mut LiveCase) -> Routed {
        if self.cursor.on_command(cmd, self.shown.len()) {
            return Routed::handled(PaneOutput::none());
        }
        if let Some(changed) = self.shown.filter.on_command(cmd) {
            if changed {
                let keep = self.current(case).map(|r| r.message_id.clone());
                self.refilter(keep, case);
            }
            return Routed::handled(PaneOutput::none());
        }
        let out = match cmd {
            Command::Refresh if case.clawbacks.load.is_loading() => {
                PaneOutput::toast("the clawback queue is being peeked already")
            }
            Command::Refresh => self.start_peek(case),
            Command::Copy => match self.current(case) {
                Some(r) => PaneOutput::effect(Effect::Copy {
                    text: match &r.event {
                        Ok(e) => serde_json::to_string_pretty(e).unwrap_or_default(),
                        Err(why) => format!("message {}: {why}", r.message_id),
                    },
                    label: format!("clawback event {}", r.message_id),
                }),
                None => PaneOutput::error("nothing to copy"),
            },
            Command::AckClawback => self.prepare_ack(case),
            Command::AllEnvironments => {
                self.all_environments = !self.all_environments;
                let keep = self.current(case).map(|r| r.message_id.clone());
                self.refilter(keep, case);
                let env = expected(case).to_string();
                PaneOutput::toast(if self.all_environments {
                    format!(
                        "listing the events of every environment; only {env}'s can be acknowledged here"
                    )
                } else {
                    format!("listing only {env}'s events")
                })
            }
            _ => return Routed::ignored(),
        };
        Routed::handled(out)
    }

    /// First half of `:ack-clawback`: receive up to the selected event.
    fn prepare_ack(&mut self, case: &LiveCase) -> PaneOutput {
        if self.busy.is_some() {
            return PaneOutput::error("an acknowledgement is already under way");
        }
        if !case.clawbacks.connected() {
            return PaneOutput::error("not connected to a Store yet");
        }
        let Some(r) = self.current(case) else {
            return PaneOutput::error("no clawback event selected (r peeks the queue)");
        };
        if let Some(why) = ack_refusal(r, expected(case)) {
            return PaneOutput::error(format!("not acknowledged: {why}"));
        }
        let message_id = r.message_id.clone();
        // The queue hands out events from the front: receive up to and
        // including the selected one, so no event behind it is hidden.
        let position = queue_position(case, &message_id).unwrap_or(0);
        let count = (position + 1).min(usize::from(PEEK_MAX)) as u8;
        self.busy = Some("receiving the event to get its pop receipt…");
        PaneOutput::effect(claw_job(ClawJob::Receive { message_id, count }))
    }

    fn ask_ack(
        &mut self,
        message_id: &str,
        receipt: Receipt,
        case: &LiveCase,
        ctx: &PaneCtx,
    ) -> PaneOutput {
        let row = rows(case).iter().find(|r| r.message_id == message_id);
        let (order_id, product, state) = match row.and_then(|r| r.event.as_ref().ok()) {
            Some(e) => (
                e.data.order_id.clone(),
                e.data.product_id.clone(),
                e.data
                    .event_state
                    .as_ref()
                    .map(|s| s.to_string())
                    .unwrap_or_default(),
            ),
            None => (String::new(), String::new(), String::new()),
        };
        let matched = row
            .map(|r| match_text(&r.matches))
            .unwrap_or_else(|| "no local record".into());
        let again = receipt.visible_again.as_deref().map(|t| {
            DateTime::parse_from_rfc2822(t)
                .map(|t| t.with_timezone(&Utc).format("%H:%M:%S UTC").to_string())
                .unwrap_or_else(|_| t.to_string())
        });
        // Receiving is not free for the publisher's own reconciler: it
        // bumps each received event's dequeue count and hides them briefly.
        let until = again.map(|t| format!(" (until {t})")).unwrap_or_default();
        let hidden = match receipt.others_hidden {
            0 => format!(
                "; receiving it raised its dequeue count by 1 and hid it from other readers for about {RECEIVE_VISIBILITY_SECS} s{until}"
            ),
            n => format!(
                "; receiving it also received the {n} event(s) in front of it: their dequeue count rose by 1 (your reconciler sees that) and they were hidden from other readers for about {RECEIVE_VISIBILITY_SECS} s{until}"
            ),
        };
        let req = WriteRequest::clawback_ack(message_id, &receipt.pop_receipt, &order_id)
            .with_expected_effect(format!(
                "the {state} event for order {order_id} leaves the clawback queue for good{hidden}"
            ));
        let mut dialog = ConfirmDialog::for_write(
            "Acknowledge (delete) clawback event".into(),
            &req.preview(&ctx.actor),
            None,
            format!("DELETE <queue>/messages/{message_id} (fresh SAS, never shown)"),
            Some(if product.is_empty() {
                message_id.to_string()
            } else {
                product
            }),
            claw_job(ClawJob::Ack(req)),
        );
        // Clawback events name no user: say what the journal knows instead
        // of a fingerprint of no key.
        dialog.customer = format!("none on the event · {matched}");
        PaneOutput {
            confirm: Some(Box::new(dialog)),
            ..PaneOutput::none()
        }
    }

    pub fn view(&self, f: &mut Frame, area: Rect, theme: &Theme, case: &LiveCase) {
        let (headline, next) = match &case.clawbacks.load {
            Load::Idle if !case.clawbacks.connected() => (
                "Waiting for the Store connection…".to_string(),
                "The clawback queue is peeked as soon as the console is connected.".to_string(),
            ),
            Load::Idle => (
                "Clawback queue not peeked yet.".to_string(),
                "It is peeked when this pane is on screen; r peeks again.".to_string(),
            ),
            Load::Loading { .. } => (
                "Peeking the clawback queue…".to_string(),
                format!("A SAS token, then up to {PEEK_MAX} events; peeking removes nothing."),
            ),
            Load::Failed(fail) => (
                "The clawback queue could not be read.".to_string(),
                format!("{} · r tries again", fail.line()),
            ),
            Load::Loaded { at, data } if data.rows.is_empty() => (
                "The clawback queue is empty.".to_string(),
                format!(
                    "Refunds and chargebacks of this app's customers arrive here; events carry no user id and are matched to local consumes by orderId + lineItemId. Peeked {} UTC; r peeks again.",
                    at.format("%H:%M")
                ),
            ),
            Load::Loaded { .. } => {
                self.draw_table(f, area, theme, case);
                return;
            }
        };
        draw_empty(f, area, theme, &headline, &next);
    }

    /// The header, the note line and the table, as `draw_table` lays them
    /// out.
    fn layout(&self, area: Rect) -> [Rect; 3] {
        Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(u16::from(self.busy.is_some())),
            Constraint::Min(1),
        ])
        .areas(area)
    }

    /// Keep the selected row on screen in a pane of `area`.
    pub fn fit(&mut self, area: Rect) {
        let [_, _, body] = self.layout(area);
        let len = self.shown.len();
        self.cursor
            .fit(usize::from(body.height.saturating_sub(1)), len);
    }

    fn draw_table(&self, f: &mut Frame, area: Rect, theme: &Theme, case: &LiveCase) {
        let rows = rows(case);
        let [head, note, body] = self.layout(area);
        let matched = rows
            .iter()
            .filter(|r| r.matches.as_ref().is_ok_and(|m| !m.is_empty()))
            .count();
        let sas = case
            .clawbacks
            .data()
            .and_then(|p| p.sas_expires)
            .map(|t| format!(" · SAS until {} UTC", t.format("%H:%M")))
            .unwrap_or_default();
        let peeked = case.clawbacks.load.data();
        let expected = expected(case);
        let length = peeked
            .map(|p| p.queue_length_text(usize::from(PEEK_MAX)))
            .unwrap_or_default();
        let more = if rows.len() >= usize::from(PEEK_MAX) {
            format!(" (the first {PEEK_MAX} of {length})")
        } else {
            format!(" of {length}")
        };
        let others = peeked.map(Peeked::other_environments).unwrap_or(0);
        let env = match (others, self.all_environments) {
            (0, _) => format!(" · {expected}"),
            (n, false) => format!(" · {expected} ({n} of other environments hidden)"),
            (n, true) => format!(" · {expected} + {n} of other environments"),
        };
        list::header(
            f,
            head,
            theme,
            "Clawback queue",
            &format!(
                "peek only · {} peeked{more}{env} · {matched} matched to consumes{sas}",
                self.shown.count(rows.len(), "events")
            ),
            &crate::tui::keymap::hints(&[
                (&[Command::Open], "detail"),
                (&[Command::Filter], "filter"),
                (&[Command::Copy], "copy"),
                (&[Command::Refresh], "peek"),
                (&[], ":ack-clawback"),
            ]),
        );
        if let Some(b) = self.busy {
            f.render_widget(
                ratatui::widgets::Paragraph::new(Span::styled(format!(" {b}"), theme.warn())),
                note,
            );
        }
        let (columns, titles) = list::with_titles(COLUMNS, &case.titles, body.width);
        let spec = TableSpec {
            columns: &columns,
            len: self.shown.len(),
            selected: Some(self.cursor.selected),
            sort: None,
            offset: self.cursor.offset,
        };
        let shown = &self.shown;
        let row_at = |i: usize| shown.item(i).and_then(|v| rows.get(v));
        let cell = |i: usize, c: usize| -> Cow<'_, str> {
            match row_at(i) {
                Some(r) => cell_text(r, c, expected, titles),
                None => Cow::Borrowed(""),
            }
        };
        let style = |i: usize| -> Style {
            match row_at(i) {
                Some(r) if r.event.is_err() => theme.bad(),
                Some(r) if matches!(r.environment(expected), EnvMatch::Other(_)) => theme.dim(),
                Some(r) => match r.state() {
                    Some(EventState::Revoked) => theme.bad(),
                    Some(EventState::ChargebackReversal) => theme.warn(),
                    Some(EventState::Returned) => theme.dim(),
                    _ => Style::default(),
                },
                None => Style::default(),
            }
        };
        table::render(f, body, theme, &spec, &cell, &style);
        if self.cursor.detail
            && let Some(r) = self.current(case)
        {
            self.draw_detail(f, body, theme, r, expected);
        }
    }

    fn draw_detail(&self, f: &mut Frame, area: Rect, theme: &Theme, r: &ClawRow, expected: &str) {
        let now = self.now;
        let t = |x: Option<DateTime<Utc>>| match x {
            Some(t) => format!("{} UTC ({})", list::when(Some(t)), list::rel(Some(t), now)),
            None => "—".into(),
        };
        let mut rows = vec![
            ("messageId".to_string(), r.message_id.clone()),
            ("inserted".to_string(), t(r.inserted())),
            ("dequeue count".to_string(), r.dequeue_count.to_string()),
            (
                "environment".to_string(),
                match r.environment(expected) {
                    EnvMatch::Same => format!("{} (this profile's)", expected),
                    EnvMatch::Other(s) => format!(
                        "{s} — another environment than {}: not acknowledged here",
                        expected
                    ),
                    EnvMatch::Unknown => "unknown (no sandboxId): not acknowledged here".into(),
                },
            ),
        ];
        let mut extra = Vec::new();
        match &r.event {
            Ok(e) => {
                let d = &e.data;
                rows.extend([
                    ("event id".to_string(), e.id.clone()),
                    (
                        "source".to_string(),
                        format!("{} ({})", source_label(&e.source), e.source),
                    ),
                    ("event time".to_string(), t(r.time())),
                    (
                        "eventState".to_string(),
                        d.event_state
                            .as_ref()
                            .map(|s| s.to_string())
                            .unwrap_or_else(|| "—".into()),
                    ),
                    (
                        "what to do".to_string(),
                        what_to_do(r.state()).1.to_string(),
                    ),
                    ("orderId".to_string(), d.order_id.clone()),
                    ("lineItemId".to_string(), d.line_item_id.clone()),
                    (
                        "product / sku".to_string(),
                        format!(
                            "{} / {} ({})",
                            d.product_id,
                            d.sku_id,
                            d.product_type
                                .as_ref()
                                .map(|k| k.to_string())
                                .unwrap_or_else(|| "no kind".into())
                        ),
                    ),
                    (
                        "purchased".to_string(),
                        t(d.purchased_date.as_ref().map(|x| x.0)),
                    ),
                ]);
                if let Some(rd) = &d.recurrence_data {
                    rows.push((
                        "subscription".to_string(),
                        format!(
                            "{} · {} of {} day(s) used · refund {}",
                            rd.recurrence_id,
                            rd.consumed_duration_in_days
                                .map(|x| x.to_string())
                                .unwrap_or_else(|| "?".into()),
                            rd.duration_in_days
                                .map(|x| x.to_string())
                                .unwrap_or_else(|| "?".into()),
                            rd.refund_type
                                .as_ref()
                                .map(|x| x.to_string())
                                .unwrap_or_else(|| "?".into())
                        ),
                    ));
                }
            }
            Err(why) => rows.push(("event".to_string(), format!("undecodable: {why}"))),
        }
        extra.push(Line::default());
        extra.push(Line::from(vec![
            Span::styled(format!("{:<20}", "local record"), theme.dim()),
            Span::raw(match_text(&r.matches)),
        ]));
        if let Ok(m) = &r.matches {
            for t in m {
                extra.push(Line::from(Span::styled(
                    format!(
                        "{:<20}consume #{} · {} × {} · trackingId {} · customer {} · {}",
                        "",
                        t.write_id,
                        t.quantity_consumed,
                        t.product_id,
                        t.tracking_id,
                        t.customer_fp,
                        t.recorded_at.chars().take(19).collect::<String>()
                    ),
                    theme.dim(),
                )));
            }
        }
        list::detail_box(
            f,
            area,
            theme,
            &format!("Clawback event {}", r.message_id),
            &rows,
            &extra,
        );
    }
}

impl super::Pane for ClawbacksPane {
    fn id(&self) -> super::PaneId {
        super::PaneId::Clawbacks
    }
    fn on_key(
        &mut self,
        k: crossterm::event::KeyEvent,
        case: &mut LiveCase,
        _ctx: &super::PaneCtx,
    ) -> Option<super::PaneOutput> {
        ClawbacksPane::on_key(self, k, case)
    }
    fn on_command(
        &mut self,
        cmd: crate::tui::keymap::Command,
        case: &mut LiveCase,
        _ctx: &super::PaneCtx,
    ) -> super::Routed {
        ClawbacksPane::on_command(self, cmd, case)
    }
    fn accepts_text(&self) -> bool {
        ClawbacksPane::accepts_text(self)
    }
    fn on_paste(
        &mut self,
        text: String,
        case: &mut LiveCase,
        _ctx: &super::PaneCtx,
    ) -> super::PaneOutput {
        ClawbacksPane::on_paste(self, &text, case);
        super::PaneOutput::none()
    }
    fn on_event(
        &mut self,
        ev: super::PaneEvent,
        case: &mut LiveCase,
        ctx: &super::PaneCtx,
    ) -> super::PaneOutput {
        match ev {
            super::PaneEvent::Clawbacks(e) => ClawbacksPane::on_event(self, e, case, ctx),
            _ => super::PaneOutput::none(),
        }
    }
    fn on_job_started(&mut self, job: &super::PaneJob, _case: &mut LiveCase) {
        if let super::PaneJob::Clawbacks(j) = job {
            ClawbacksPane::on_job_started(self, j)
        }
    }
    fn on_job_crashed(&mut self, message: &str, case: &mut LiveCase) {
        self.busy = None;
        case.clawbacks.crashed(message);
    }
    fn fit(&mut self, body: ratatui::layout::Rect, _case: &LiveCase) {
        ClawbacksPane::fit(self, body)
    }
    fn draw(&self, f: &mut ratatui::Frame, area: ratatui::layout::Rect, ctx: &super::DrawCtx) {
        self.view(f, area, ctx.theme, ctx.case)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::RecordedOrderTransaction;

    fn rec(write_id: i64, fp: &str) -> RecordedOrderTransaction {
        RecordedOrderTransaction {
            write_id,
            tracking_id: "t".into(),
            product_id: "P".into(),
            customer_fp: fp.into(),
            order_id: "o".into(),
            order_line_item_id: "l".into(),
            quantity_consumed: 1,
            recorded_at: "2026-11-23T10:00:00".into(),
        }
    }

    #[test]
    fn matches_say_which_consume_of_which_customer() {
        assert_eq!(match_text(&Ok(vec![])), "no local record");
        assert_eq!(
            match_text(&Ok(vec![rec(3, "1a2b3c4d")])),
            "matches consume #3 of customer 1a2b3c4d"
        );
        assert_eq!(
            match_text(&Ok(vec![rec(3, "aa"), rec(5, "aa"), rec(9, "bb")])),
            "matches consumes #3, #5 of customer aa; matches consume #9 of customer bb"
        );
        assert!(match_text(&Err("locked".into())).contains("journal unreadable"));
    }

    #[test]
    fn every_event_state_has_a_next_step() {
        assert_eq!(what_to_do(Some(&EventState::Revoked)).0, "reconcile");
        assert_eq!(what_to_do(Some(&EventState::Returned)).0, "nothing to do");
        assert_eq!(what_to_do(Some(&EventState::Refunded)).0, "log it");
        assert_eq!(
            what_to_do(Some(&EventState::ChargebackReversal)).0,
            "undo revocation"
        );
        assert_eq!(source_label("/Purchase/Chargeback"), "Chargeback");
        assert_eq!(source_label("odd"), "odd");
    }
}
