//! The Subscriptions pane: the customer's recurrences (UserPurchaseId), with
//! the state the Store reports checked against the expiration time — the
//! state can lag — and the four subscription changes, each only from the
//! palette and through the confirmation dialog and the journal.

use crate::case::live::LiveCase;
use crate::case::read::{Failure, Load};
use crate::journal::WriteRequest;
use crate::store::model::{Recurrence, RecurrenceState};
use crate::tui::action::Effect;
use crate::tui::keymap::{self, Command, Scope};
use crate::tui::panes::empty::draw_empty;
use crate::tui::panes::list::{self, Cursor, Shown};
use crate::tui::panes::{PaneCtx, PaneId, PaneJob, PaneOutput, Routed};
use crate::tui::theme::Theme;
use crate::tui::widgets::confirm::ConfirmDialog;
use crate::tui::widgets::table::{self, TableColumn, TableSpec};
use chrono::{DateTime, Utc};
use crossterm::event::{Event, KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use std::borrow::Cow;
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;

#[derive(Clone, PartialEq)]
pub enum SubsJob {
    Load {
        load_id: u64,
        key: String,
    },
    /// A confirmed subscription change, through the journal.
    Write(WriteRequest),
}

impl std::fmt::Debug for SubsJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SubsJob::Load { load_id, key } => write!(
                f,
                "Load {{ load_id: {load_id}, key: {} }}",
                crate::keys::fingerprint(key)
            ),
            SubsJob::Write(r) => write!(f, "Write({r:?})"),
        }
    }
}

#[derive(Debug)]
pub enum SubsEvent {
    Loaded {
        load_id: u64,
        result: Result<Vec<Recurrence>, Failure>,
    },
    /// One line: done, refused, or pending with how to replay.
    Written(Result<String, String>),
}

/// The longest extension the prompt accepts (ten years).
pub const MAX_EXTENSION_DAYS: u32 = 3650;

/// The tiny input of `:extend-subscription`.
#[derive(Debug)]
pub struct ExtendPrompt {
    pub recurrence_id: String,
    pub product_id: String,
    pub input: Input,
    pub error: Option<String>,
}

/// Most telling first: narrow screens drop trailing columns (Enter shows all).
const COLUMNS: &[TableColumn] = &[
    TableColumn {
        title: "product",
        min: 12,
        max: 14,
        right: false,
    },
    TableColumn {
        title: "state",
        min: 16,
        max: 16,
        right: false,
    },
    TableColumn {
        title: "expires",
        min: 8,
        max: 9,
        right: true,
    },
    TableColumn {
        title: "+grace",
        min: 8,
        max: 9,
        right: true,
    },
    TableColumn {
        title: "auto",
        min: 4,
        max: 4,
        right: false,
    },
    TableColumn {
        title: "trial",
        min: 5,
        max: 5,
        right: false,
    },
    TableColumn {
        title: "start",
        min: 10,
        max: 10,
        right: false,
    },
    TableColumn {
        title: "canceled",
        min: 10,
        max: 10,
        right: false,
    },
    TableColumn {
        title: "sku",
        min: 4,
        max: 6,
        right: false,
    },
    TableColumn {
        title: "recurrenceId",
        min: 12,
        max: 72,
        right: false,
    },
];

pub use crate::case::lapsed;

pub struct SubscriptionsPane {
    /// The case's (customer, generation) the view was made from.
    seen: (u64, u64),
    pub shown: Shown,
    pub cursor: Cursor,
    pub prompt: Option<ExtendPrompt>,
    /// The subscription selected when a read began, to select again after.
    reselect: Option<String>,
    /// A confirmed change is under way.
    pub writing: bool,
    now: DateTime<Utc>,
}

impl Default for SubscriptionsPane {
    fn default() -> Self {
        Self {
            seen: (0, 0),
            shown: Shown::default(),
            cursor: Cursor::default(),
            prompt: None,
            reselect: None,
            writing: false,
            now: DateTime::<Utc>::UNIX_EPOCH,
        }
    }
}

/// Column `c` of a subscription's row: what the table draws and the filter
/// searches.
fn cell_text<'a>(
    r: &'a Recurrence,
    c: usize,
    now: DateTime<Utc>,
    titles: &list::Titles,
) -> Cow<'a, str> {
    match c {
        0 => list::product_label(titles, &r.product_id),
        1 => Cow::Owned(state_cell(r, now)),
        2 => Cow::Owned(list::rel(r.expiration_time.as_ref().map(|t| t.0), now)),
        3 => Cow::Owned(list::rel(
            r.expiration_time_with_grace.as_ref().map(|t| t.0),
            now,
        )),
        4 => Cow::Borrowed(if r.auto_renew { "on" } else { "off" }),
        5 => Cow::Borrowed(if r.is_trial { "yes" } else { "no" }),
        6 => Cow::Owned(list::day(r.start_time.as_ref().map(|t| t.0))),
        7 => Cow::Owned(match &r.cancellation_date {
            Some(t) => list::day(Some(t.0)),
            None => String::new(),
        }),
        8 => Cow::Borrowed(r.sku_id.as_str()),
        9 => Cow::Borrowed(r.id.as_str()),
        _ => Cow::Borrowed(""),
    }
}

fn items(case: &LiveCase) -> &[Recurrence] {
    case.subscriptions.data().map(Vec::as_slice).unwrap_or(&[])
}

fn subs_job(j: SubsJob) -> Effect {
    Effect::Pane(PaneId::Subscriptions, PaneJob::Subscriptions(j))
}

impl SubscriptionsPane {
    pub fn current<'c>(&self, case: &'c LiveCase) -> Option<&'c Recurrence> {
        items(case).get(self.shown.item(self.cursor.selected)?)
    }

    /// The items that pass the filter; the selection stays on `keep` (a
    /// recurrence id) if it still shows.
    fn refilter(&mut self, keep: Option<String>, case: &LiveCase) {
        let now = self.now;
        let items = items(case);
        let titles = &case.titles;
        self.shown.refilter(
            items.len(),
            |i| {
                (0..COLUMNS.len())
                    .map(|c| cell_text(&items[i], c, now, titles))
                    .collect()
            },
            |i| keep.as_deref() == Some(items[i].id.as_str()),
            &mut self.cursor,
        );
    }

    /// After every update: follow the case — drop the view of another
    /// customer, refilter when the subscriptions changed — and read them
    /// the first time the pane is on screen with a key.
    pub fn sync(&mut self, focused: bool, case: &mut LiveCase, ctx: &PaneCtx) -> PaneOutput {
        self.now = ctx.now;
        self.catch_up(case);
        if case.subscriptions.wants_first_load(focused) {
            return self.start_load(case);
        }
        PaneOutput::none()
    }

    fn catch_up(&mut self, case: &LiveCase) {
        let read = &case.subscriptions;
        if read.customer != self.seen.0 {
            self.shown = Shown::default();
            self.cursor.reset();
            self.prompt = None;
        }
        if (read.customer, read.generation) != self.seen {
            self.seen = (read.customer, read.generation);
            if read.data().is_some() {
                let keep = self.reselect.take();
                self.refilter(keep, case);
            } else if !read.load.is_loading() {
                self.shown = Shown::default();
            }
        }
    }

    fn start_load(&mut self, case: &mut LiveCase) -> PaneOutput {
        self.reselect = self.current(case).map(|r| r.id.clone());
        let (load_id, key) = match case.subscriptions.begin() {
            Ok(x) => x,
            Err(why) => return PaneOutput::error(why),
        };
        PaneOutput::effect(subs_job(SubsJob::Load { load_id, key }))
    }

    pub fn on_job_started(&mut self, job: &SubsJob) {
        if let SubsJob::Write(_) = job {
            self.writing = true;
        }
    }

    pub fn on_event(&mut self, ev: SubsEvent, case: &mut LiveCase, ctx: &PaneCtx) -> PaneOutput {
        match ev {
            SubsEvent::Loaded { load_id, result } => {
                let result = result.map(|mut items| {
                    // What the customer still has first: latest expiration first.
                    items.sort_by(|a, b| {
                        let t = |r: &Recurrence| r.expiration_time.as_ref().map(|t| t.0);
                        t(b).cmp(&t(a))
                    });
                    items
                });
                // `None`: an answer for a key no longer in the case.
                let settled = case
                    .subscriptions
                    .settle(load_id, result, ctx.now, "subscriptions");
                self.catch_up(case);
                match settled {
                    Some(Err(msg)) => PaneOutput::error(msg),
                    _ => PaneOutput::none(),
                }
            }
            SubsEvent::Written(result) => {
                self.writing = false;
                // Show what the Store now says, whatever the answer was.
                let mut out = self.start_load(case);
                match result {
                    Ok(line) => out.toast = Some(line),
                    Err(e) => out.error = Some(e),
                }
                out
            }
        }
    }

    /// Keys for the extension prompt while it is open, or for the filter
    /// while it is typed.
    pub fn on_key(&mut self, k: KeyEvent, case: &LiveCase, ctx: &PaneCtx) -> Option<PaneOutput> {
        let Some(p) = self.prompt.as_mut() else {
            if self.shown.filter.on_key(k)? {
                let keep = self.current(case).map(|r| r.id.clone());
                self.refilter(keep, case);
            }
            return Some(PaneOutput::none());
        };
        Some(match (keymap::lookup(&k, Scope::Forms), k.code) {
            (Some(Command::Cancel), _) => {
                self.prompt = None;
                PaneOutput::toast("cancelled: nothing was sent")
            }
            (Some(Command::Submit), _) => match parse_days(p.input.value()) {
                Ok(days) => {
                    let id = p.recurrence_id.clone();
                    self.prompt = None;
                    self.ask(case, &id, "Extend", Some(days), ctx)
                }
                Err(e) => {
                    p.error = Some(e);
                    PaneOutput::none()
                }
            },
            (_, KeyCode::Char(c)) if !c.is_ascii_digit() => {
                p.error = Some("days: digits only".into());
                PaneOutput::none()
            }
            _ => {
                p.input.handle_event(&Event::Key(k));
                p.error = None;
                PaneOutput::none()
            }
        })
    }

    pub fn accepts_text(&self) -> bool {
        self.prompt.is_some() || self.shown.filter.typing
    }

    pub fn on_paste(&mut self, text: &str, case: &LiveCase) -> PaneOutput {
        if let Some(p) = self.prompt.as_mut() {
            let digits: String = text.chars().filter(|c| c.is_ascii_digit()).collect();
            p.input = Input::new(format!("{}{digits}", p.input.value()));
            p.error = None;
        } else if self.shown.filter.paste(text) {
            self.refilter(None, case);
        }
        PaneOutput::none()
    }

    pub fn on_command(&mut self, cmd: Command, case: &mut LiveCase, ctx: &PaneCtx) -> Routed {
        if self.cursor.on_command(cmd, self.shown.len()) {
            return Routed::handled(PaneOutput::none());
        }
        if let Some(changed) = self.shown.filter.on_command(cmd) {
            if changed {
                let keep = self.current(case).map(|r| r.id.clone());
                self.refilter(keep, case);
            }
            return Routed::handled(PaneOutput::none());
        }
        let out = match cmd {
            Command::Refresh if case.subscriptions.load.is_loading() => {
                PaneOutput::toast("the subscriptions are being read already")
            }
            Command::Refresh => self.start_load(case),
            Command::Copy => match self.current(case) {
                Some(r) => PaneOutput::effect(Effect::Copy {
                    text: serde_json::to_string_pretty(r).unwrap_or_default(),
                    label: format!("subscription {}", r.id),
                }),
                None => PaneOutput::error("nothing to copy"),
            },
            Command::CancelSubscription => self.ask_selected(case, "Cancel", ctx),
            Command::RefundSubscription => self.ask_selected(case, "Refund", ctx),
            Command::AutoRenewOff => self.ask_selected(case, "ToggleAutoRenew", ctx),
            Command::ExtendSubscription => match self.write_target(case) {
                Ok(r) => {
                    self.prompt = Some(ExtendPrompt {
                        recurrence_id: r.id.clone(),
                        product_id: r.product_id.clone(),
                        input: Input::default(),
                        error: None,
                    });
                    PaneOutput::none()
                }
                Err(e) => PaneOutput::error(e),
            },
            _ => return Routed::ignored(),
        };
        Routed::handled(out)
    }

    /// The row a change would apply to, or why there is none.
    fn write_target<'c>(&self, case: &'c LiveCase) -> Result<&'c Recurrence, String> {
        if case.subscriptions.key().is_none() {
            return Err("a subscription change needs the customer's UserPurchaseId: paste it in the Key pane (1)".into());
        }
        if self.writing {
            return Err("a subscription change is already under way".into());
        }
        if !case.subscriptions.connected() {
            return Err("not connected to a Store yet".into());
        }
        self.current(case).ok_or_else(|| {
            "no subscription selected: the list is empty or not read yet (r reads it)".into()
        })
    }

    fn ask_selected(&mut self, case: &LiveCase, change: &str, ctx: &PaneCtx) -> PaneOutput {
        match self.write_target(case) {
            Ok(r) => {
                let id = r.id.clone();
                self.ask(case, &id, change, None, ctx)
            }
            Err(e) => PaneOutput::error(e),
        }
    }

    /// Build the change and hand it to the confirmation dialog.
    fn ask(
        &mut self,
        case: &LiveCase,
        id: &str,
        change: &str,
        days: Option<u32>,
        ctx: &PaneCtx,
    ) -> PaneOutput {
        let (Some(key), Some(r)) = (
            case.subscriptions.key().map(String::from),
            items(case).iter().find(|r| r.id == id).cloned(),
        ) else {
            return PaneOutput::error("that subscription is no longer in the list");
        };
        if change == "ToggleAutoRenew"
            && let Some(why) = crate::store::purchase::auto_renew_off_noop(r.auto_renew)
        {
            // Not a failure and not a write: said, and nothing journaled.
            return PaneOutput::toast(why);
        }
        let state = r
            .recurrence_state
            .as_ref()
            .map(|s| s.to_string())
            .unwrap_or_else(|| "no state".into());
        let exp = r.expiration_time.as_ref().map(|t| t.0);
        let effect = match (change, days) {
            // The server's date may sit near the calendar's end: checked.
            ("Extend", Some(d)) => {
                match exp.map(|t| t.checked_add_signed(chrono::TimeDelta::days(i64::from(d)))) {
                    Some(None) => format!(
                        "expiration {} → past the last representable date (the Store will likely refuse)",
                        list::when(exp)
                    ),
                    new => format!(
                        "expiration {} → {} UTC",
                        list::when(exp),
                        list::when(new.flatten())
                    ),
                }
            }
            ("Cancel", _) => format!(
                "state {state} → Canceled; access until {} UTC, no further renewal",
                list::when(exp)
            ),
            ("Refund", _) => {
                format!("the customer is refunded and the subscription ends (now {state})")
            }
            _ => "auto-renew on → off; access until the current expiration".to_string(),
        };
        let req = WriteRequest::recurrence_change(&key, &r.id, change, days, None)
            .with_expected_effect(effect);
        let title = match change {
            "Extend" => format!("Extend {} by {} day(s)", r.product_id, days.unwrap_or(0)),
            "Cancel" => format!("Cancel subscription {}", r.product_id),
            "Refund" => format!("Refund subscription {}", r.product_id),
            _ => format!("Turn auto-renew off for {}", r.product_id),
        };
        let dialog = ConfirmDialog::for_write(
            title,
            &req.preview(&ctx.actor),
            crate::store::keyinfo::user_id(&key).as_deref(),
            format!("POST /v8.0/b2b/recurrences/{}/change", r.id),
            Some(r.product_id.clone()),
            subs_job(SubsJob::Write(req)),
        );
        PaneOutput {
            confirm: Some(Box::new(dialog)),
            ..PaneOutput::none()
        }
    }

    pub fn view(&self, f: &mut Frame, area: Rect, theme: &Theme, case: &LiveCase) {
        let (headline, next) = match (case.subscriptions.key(), &case.subscriptions.load) {
            (None, _) => (
                "No purchase key in this case.".to_string(),
                "Subscriptions need the customer's UserPurchaseId: paste it in the Key pane (1), or press d there for a demo customer.".to_string(),
            ),
            (Some(_), Load::Idle) if !case.subscriptions.connected() => (
                "Waiting for the Store connection…".to_string(),
                "The subscriptions are read as soon as the console is connected.".to_string(),
            ),
            (Some(_), Load::Idle) => (
                "Subscriptions not read yet.".to_string(),
                "They are read when this pane is on screen; r reads again.".to_string(),
            ),
            (Some(_), Load::Loading { .. }) => (
                "Reading the customer's subscriptions…".to_string(),
                "recurrences query, all pages".to_string(),
            ),
            (Some(_), Load::Failed(fail)) => (
                "The subscriptions could not be read.".to_string(),
                format!("{} · r tries again", fail.line()),
            ),
            (Some(_), Load::Loaded { at, data }) if data.is_empty() => (
                "This customer has no subscriptions.".to_string(),
                format!(
                    "The recurrences query returned none (read {} UTC; r reads again).",
                    at.format("%Y-%m-%d %H:%M")
                ),
            ),
            (Some(_), Load::Loaded { .. }) => {
                self.draw_table(f, area, theme, case);
                return;
            }
        };
        draw_empty(f, area, theme, &headline, &next);
    }

    /// The header, the warning line and the table, as `draw_table` lays
    /// them out.
    fn layout(&self, area: Rect, case: &LiveCase) -> [Rect; 3] {
        let lapsed_n = items(case).iter().filter(|r| lapsed(r, self.now)).count();
        Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(u16::from(lapsed_n > 0 || self.writing)),
            Constraint::Min(1),
        ])
        .areas(area)
    }

    /// Keep the selected row on screen in a pane of `area`.
    pub fn fit(&mut self, area: Rect, case: &LiveCase) {
        let [_, _, body] = self.layout(area, case);
        self.cursor
            .fit(usize::from(body.height.saturating_sub(1)), self.shown.len());
    }

    fn draw_table(&self, f: &mut Frame, area: Rect, theme: &Theme, case: &LiveCase) {
        let items = items(case);
        let now = self.now;
        let lapsed_n = items.iter().filter(|r| lapsed(r, now)).count();
        let [head, warn, body] = self.layout(area, case);
        let who = case
            .subscriptions
            .key()
            .and_then(crate::store::keyinfo::user_id)
            .unwrap_or_else(|| "customer".into());
        let active = items
            .iter()
            .filter(|r| r.recurrence_state == Some(RecurrenceState::Active) && !lapsed(r, now))
            .count();
        list::header(
            f,
            head,
            theme,
            "Subscriptions",
            &format!(
                "{who} · {}, {active} active · read {} UTC",
                self.shown.count(items.len(), "subscriptions"),
                list::when(case.subscriptions.load.loaded_at())
            ),
            &crate::tui::keymap::hints(&[
                (&[Command::Open], "detail"),
                (&[Command::Filter], "filter"),
                (&[Command::Copy], "copy"),
                (&[Command::Refresh], "re-read"),
                (&[], ": cancel/extend/refund/auto-renew-off"),
            ]),
        );
        if self.writing {
            f.render_widget(
                Paragraph::new(Span::styled(
                    " sending the subscription change (journaled first)…",
                    theme.warn(),
                )),
                warn,
            );
        } else if lapsed_n > 0 {
            f.render_widget(
                Paragraph::new(Span::styled(
                    format!(
                        " ⚠ {lapsed_n} say Active but their expirationTime has passed: the Store's state can lag — trust the time"
                    ),
                    theme.warn(),
                )),
                warn,
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
        let row_item = |row: usize| shown.item(row).and_then(|i| items.get(i));
        let cell = |row: usize, c: usize| -> Cow<'_, str> {
            match row_item(row) {
                Some(r) => cell_text(r, c, now, titles),
                None => Cow::Borrowed(""),
            }
        };
        let style = |row: usize| -> Style {
            let Some(r) = row_item(row) else {
                return Style::default();
            };
            if lapsed(r, now) {
                return theme.warn();
            }
            match r.recurrence_state.as_ref() {
                Some(RecurrenceState::Active) => theme.good(),
                Some(RecurrenceState::InDunning) | Some(RecurrenceState::Failed) => theme.bad(),
                Some(RecurrenceState::Canceled) | Some(RecurrenceState::Inactive) => theme.dim(),
                _ => Style::default(),
            }
        };
        table::render(f, body, theme, &spec, &cell, &style);
        if self.cursor.detail
            && let Some(r) = self.current(case)
        {
            self.draw_detail(f, body, theme, r);
        }
        if let Some(p) = &self.prompt {
            draw_prompt(f, body, theme, p);
        }
    }

    fn draw_detail(&self, f: &mut Frame, area: Rect, theme: &Theme, r: &Recurrence) {
        let now = self.now;
        let t = |x: &Option<crate::store::model::StoreTime>| match x {
            Some(t) => format!(
                "{} UTC ({})",
                list::when(Some(t.0)),
                list::rel(Some(t.0), now)
            ),
            None => "—".into(),
        };
        let state = r
            .recurrence_state
            .as_ref()
            .map(|s| s.to_string())
            .unwrap_or_else(|| "—".into());
        let rows = vec![
            ("recurrenceId".to_string(), r.id.clone()),
            (
                "product / sku".to_string(),
                format!("{} / {}", r.product_id, r.sku_id),
            ),
            ("state".to_string(), state),
            (
                "autoRenew".to_string(),
                if r.auto_renew { "on" } else { "off" }.to_string(),
            ),
            (
                "trial".to_string(),
                if r.is_trial { "yes" } else { "no" }.to_string(),
            ),
            ("start".to_string(), t(&r.start_time)),
            ("expiration".to_string(), t(&r.expiration_time)),
            (
                "expiration + grace".to_string(),
                t(&r.expiration_time_with_grace),
            ),
            ("cancellation".to_string(), t(&r.cancellation_date)),
            ("last modified".to_string(), t(&r.last_modified)),
            ("market".to_string(), r.market.clone()),
            ("beneficiary".to_string(), r.beneficiary.clone()),
        ];
        let mut extra = Vec::new();
        if lapsed(r, now) {
            extra.push(Line::from(Span::styled(
                "⚠ says Active, but the expiration time has passed: the Store's state can lag",
                theme.warn(),
            )));
        }
        list::detail_box(
            f,
            area,
            theme,
            &format!("Subscription {}", r.product_id),
            &rows,
            &extra,
        );
    }
}

fn state_cell(r: &Recurrence, now: DateTime<Utc>) -> String {
    let s = r
        .recurrence_state
        .as_ref()
        .map(|s| s.to_string())
        .unwrap_or_else(|| "—".into());
    if lapsed(r, now) {
        format!("{s} ⚠ expired")
    } else {
        s
    }
}

/// The number of days typed in the prompt.
pub fn parse_days(text: &str) -> Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(d) if (1..=MAX_EXTENSION_DAYS).contains(&d) => Ok(d),
        Ok(_) => Err(format!("between 1 and {MAX_EXTENSION_DAYS} days")),
        Err(_) if text.trim().is_empty() => Err("type the number of days".into()),
        Err(_) => Err(format!("a whole number of days, 1 to {MAX_EXTENSION_DAYS}")),
    }
}

fn draw_prompt(f: &mut Frame, area: Rect, theme: &Theme, p: &ExtendPrompt) {
    let r = crate::tui::widgets::centered(area, area.width.saturating_sub(4).min(64), 6);
    f.render_widget(Clear, r);
    let mut lines = vec![
        Line::from(format!("Extend {} by how many days?", p.product_id)),
        Line::from(vec![
            Span::styled("> ", theme.key_hint()),
            Span::raw(p.input.value().to_string()),
            Span::styled("▏", theme.key_hint()),
        ]),
    ];
    lines.push(match &p.error {
        Some(e) => Line::from(Span::styled(e.clone(), theme.bad())),
        None => Line::from(Span::styled(
            "Enter shows the request to confirm · Esc cancels",
            theme.dim(),
        )),
    });
    let block = Block::bordered()
        .border_style(theme.warn())
        .title(" :extend-subscription ");
    f.render_widget(Paragraph::new(lines).block(block), r);
}

impl super::Pane for SubscriptionsPane {
    fn id(&self) -> super::PaneId {
        super::PaneId::Subscriptions
    }
    fn on_key(
        &mut self,
        k: crossterm::event::KeyEvent,
        case: &mut LiveCase,
        ctx: &super::PaneCtx,
    ) -> Option<super::PaneOutput> {
        SubscriptionsPane::on_key(self, k, case, ctx)
    }
    fn on_command(
        &mut self,
        cmd: crate::tui::keymap::Command,
        case: &mut LiveCase,
        ctx: &super::PaneCtx,
    ) -> super::Routed {
        SubscriptionsPane::on_command(self, cmd, case, ctx)
    }
    fn accepts_text(&self) -> bool {
        SubscriptionsPane::accepts_text(self)
    }
    fn on_paste(
        &mut self,
        text: String,
        case: &mut LiveCase,
        _ctx: &super::PaneCtx,
    ) -> super::PaneOutput {
        SubscriptionsPane::on_paste(self, &text, case)
    }
    fn on_event(
        &mut self,
        ev: super::PaneEvent,
        case: &mut LiveCase,
        ctx: &super::PaneCtx,
    ) -> super::PaneOutput {
        match ev {
            super::PaneEvent::Subscriptions(e) => SubscriptionsPane::on_event(self, e, case, ctx),
            _ => super::PaneOutput::none(),
        }
    }
    fn on_job_started(&mut self, job: &super::PaneJob, _case: &mut LiveCase) {
        if let super::PaneJob::Subscriptions(j) = job {
            SubscriptionsPane::on_job_started(self, j)
        }
    }
    fn on_job_crashed(&mut self, message: &str, case: &mut LiveCase) {
        self.writing = false;
        case.subscriptions.crashed(message);
    }
    fn fit(&mut self, body: ratatui::layout::Rect, case: &LiveCase) {
        SubscriptionsPane::fit(self, body, case)
    }
    fn draw(&self, f: &mut ratatui::Frame, area: ratatui::layout::Rect, ctx: &super::DrawCtx) {
        self.view(f, area, ctx.theme, ctx.case)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::model::StoreTime;
    use chrono::TimeZone;

    #[test]
    fn days_are_whole_and_bounded() {
        assert_eq!(parse_days(" 30 "), Ok(30));
        assert!(parse_days("0").is_err());
        assert!(parse_days("3651").is_err());
        assert!(parse_days("").unwrap_err().contains("type"));
        assert!(parse_days("-3").is_err());
    }

    #[test]
    fn active_with_a_past_expiration_is_flagged() {
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap();
        let mut r = Recurrence {
            recurrence_state: Some(RecurrenceState::Active),
            expiration_time: Some(StoreTime(now - chrono::Duration::hours(1))),
            ..Recurrence::default()
        };
        assert!(lapsed(&r, now));
        r.expiration_time = Some(StoreTime(now + chrono::Duration::hours(1)));
        assert!(!lapsed(&r, now));
        r.expiration_time = Some(StoreTime(now - chrono::Duration::hours(1)));
        r.recurrence_state = Some(RecurrenceState::Canceled);
        assert!(!lapsed(&r, now));
    }
}
