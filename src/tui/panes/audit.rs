//! The Audit pane: every write attempt and outcome from the journal's
//! append-only audit log, newest first, with a live text filter.

use crate::browse::thousands;
use crate::journal::AuditEntry;
use crate::tui::action::Effect;
use crate::tui::keymap::Command;
use crate::tui::panes::empty::draw_empty;
use crate::tui::panes::list::TextFilter;
use crate::tui::panes::{PaneCtx, PaneId, PaneJob, PaneOutput, Routed};
use crate::tui::theme::Theme;
use crate::tui::widgets::table::{self, TableColumn, TableSpec};
use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};
use std::borrow::Cow;

#[derive(Clone, Debug, PartialEq)]
pub enum AuditJob {
    Load,
}

#[derive(Debug)]
pub enum AuditEvent {
    Loaded(Result<Vec<AuditEntry>, String>),
}

const COLUMNS: &[TableColumn] = &[
    TableColumn {
        title: "time (UTC)",
        min: 19,
        max: 19,
        right: false,
    },
    TableColumn {
        title: "env",
        min: 7,
        max: 7,
        right: false,
    },
    TableColumn {
        title: "operator",
        min: 6,
        max: 14,
        right: false,
    },
    TableColumn {
        title: "customer/key",
        min: 9,
        max: 17,
        right: false,
    },
    TableColumn {
        title: "action",
        min: 6,
        max: 16,
        right: false,
    },
    TableColumn {
        title: "event",
        min: 6,
        max: 9,
        right: false,
    },
    TableColumn {
        title: "#",
        min: 3,
        max: 6,
        right: true,
    },
    TableColumn {
        title: "request",
        min: 10,
        max: 40,
        right: false,
    },
    TableColumn {
        title: "result",
        min: 10,
        max: 60,
        right: false,
    },
    TableColumn {
        title: "http",
        min: 4,
        max: 4,
        right: true,
    },
];

#[derive(Default)]
pub struct AuditPane {
    pub entries: Vec<AuditEntry>,
    /// Indexes into `entries` that pass the filter, newest first.
    pub visible: Vec<usize>,
    pub selected: usize,
    pub offset: usize,
    pub filter: TextFilter,
    pub loading: bool,
    pub loaded: bool,
    pub error: Option<String>,
    pub detail: bool,
    was_focused: bool,
}

impl AuditPane {
    /// Reload whenever the pane comes on screen: writes may have happened.
    pub fn sync(&mut self, focused: bool) -> PaneOutput {
        let gained = focused && !self.was_focused;
        self.was_focused = focused;
        if gained && !self.loading {
            return self.load();
        }
        PaneOutput::none()
    }

    fn load(&mut self) -> PaneOutput {
        self.loading = true;
        PaneOutput::effect(Effect::Pane(PaneId::Audit, PaneJob::Audit(AuditJob::Load)))
    }

    pub fn on_event(&mut self, ev: AuditEvent) -> PaneOutput {
        match ev {
            AuditEvent::Loaded(Ok(mut entries)) => {
                entries.sort_by_key(|e| std::cmp::Reverse(e.id));
                self.entries = entries;
                self.loading = false;
                self.loaded = true;
                self.error = None;
                self.refilter();
                PaneOutput::none()
            }
            AuditEvent::Loaded(Err(e)) => {
                self.loading = false;
                self.error = Some(e.clone());
                PaneOutput::error(format!("audit log: {e}"))
            }
        }
    }

    fn refilter(&mut self) {
        self.visible = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| self.filter.matches([haystack(e).as_str()]))
            .map(|(i, _)| i)
            .collect();
        self.selected = self.selected.min(self.visible.len().saturating_sub(1));
    }

    pub fn on_paste(&mut self, text: &str) {
        if self.filter.paste(text) {
            self.refilter();
        }
    }

    pub fn on_key(&mut self, k: KeyEvent) -> Option<PaneOutput> {
        if self.filter.on_key(k)? {
            self.refilter();
        }
        Some(PaneOutput::none())
    }

    pub fn on_command(&mut self, cmd: Command, _ctx: &PaneCtx) -> Routed {
        let n = self.visible.len();
        let out = match cmd {
            Command::Up => {
                self.selected = self.selected.saturating_sub(1);
                PaneOutput::none()
            }
            Command::Down => {
                self.selected = (self.selected + 1).min(n.saturating_sub(1));
                PaneOutput::none()
            }
            Command::PageUp => {
                self.selected = self.selected.saturating_sub(10);
                PaneOutput::none()
            }
            Command::PageDown => {
                self.selected = (self.selected + 10).min(n.saturating_sub(1));
                PaneOutput::none()
            }
            Command::Top => {
                self.selected = 0;
                PaneOutput::none()
            }
            Command::Bottom => {
                self.selected = n.saturating_sub(1);
                PaneOutput::none()
            }
            Command::Open if n > 0 => {
                self.detail = true;
                PaneOutput::none()
            }
            Command::Back => {
                if self.detail {
                    self.detail = false;
                } else if self.filter.clear() {
                    self.refilter();
                }
                PaneOutput::none()
            }
            Command::Filter => {
                self.filter.start();
                PaneOutput::none()
            }
            Command::Refresh => self.load(),
            Command::Copy => match self.current() {
                Some(e) => PaneOutput::effect(Effect::Copy {
                    text: serde_json::to_string_pretty(e).unwrap_or_default(),
                    label: format!("audit entry {}", e.id),
                }),
                None => PaneOutput::error("nothing to copy"),
            },
            _ => return Routed::ignored(),
        };
        Routed::handled(out)
    }

    pub fn current(&self) -> Option<&AuditEntry> {
        self.visible
            .get(self.selected)
            .and_then(|&i| self.entries.get(i))
    }

    /// The header line and the table, as `view` lays them out.
    fn layout(area: Rect) -> [Rect; 2] {
        Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area)
    }

    /// Keep the selected row on screen in a pane of `area`.
    pub fn fit(&mut self, area: Rect) {
        let [_, body] = Self::layout(area);
        let rows = usize::from(body.height.saturating_sub(1));
        self.offset = crate::tui::widgets::table::scroll_offset(
            self.offset,
            Some(self.selected),
            rows,
            self.visible.len(),
        );
    }

    pub fn view(&self, f: &mut Frame, area: Rect, theme: &Theme) {
        if !self.loaded && self.entries.is_empty() {
            let msg = match (&self.error, self.loading) {
                (Some(e), _) => format!("The audit log could not be read: {e}"),
                (None, true) => "Reading the audit log…".to_string(),
                (None, false) => "Every consume, grant, renewal and subscription change is recorded here, with its outcome.".to_string(),
            };
            draw_empty(f, area, theme, "No writes recorded in this data dir.", &msg);
            return;
        }
        let [head, body] = Self::layout(area);
        let mut spans = vec![Span::styled(" Audit log ", theme.title())];
        if let Some(q) = self.filter.label() {
            spans.push(Span::styled(q, theme.key_hint()));
        }
        spans.push(Span::raw(format!(
            " — {} of {} entries",
            thousands(self.visible.len()),
            thousands(self.entries.len())
        )));
        use crate::tui::keymap::{Command as C, hints};
        spans.push(Span::styled(
            format!(
                "   {}",
                hints(&[
                    (&[C::Filter], "filter"),
                    (&[C::Open], "detail"),
                    (&[C::Copy], "copy"),
                    (&[C::Refresh], "reload"),
                ])
            ),
            theme.dim(),
        ));
        f.render_widget(Paragraph::new(Line::from(spans)), head);
        if self.entries.is_empty() {
            draw_empty(
                f,
                body,
                theme,
                "No writes recorded in this data dir.",
                "Every consume, grant, renewal and subscription change is recorded here, with its outcome.",
            );
            return;
        }
        let spec = TableSpec {
            columns: COLUMNS,
            len: self.visible.len(),
            selected: Some(self.selected),
            sort: None,
            offset: self.offset,
        };
        let entries = &self.entries;
        let visible = &self.visible;
        let cell = |r: usize, c: usize| -> Cow<'_, str> {
            let Some(e) = visible.get(r).and_then(|&i| entries.get(i)) else {
                return Cow::Borrowed("");
            };
            match c {
                0 => Cow::Owned(e.at.chars().take(19).collect::<String>().replace('T', " ")),
                1 => Cow::Borrowed(e.environment.as_str()),
                2 => Cow::Borrowed(e.operator.as_str()),
                // The case's customer first (it survives narrow widths),
                // the fingerprint of the key used beside it.
                3 => Cow::Owned(format!("{}/{}", e.customer_label(), e.customer_fp)),
                4 => Cow::Borrowed(e.action.as_str()),
                5 => Cow::Borrowed(e.event.as_str()),
                6 => Cow::Owned(e.write_id.map(|w| w.to_string()).unwrap_or_default()),
                7 => Cow::Borrowed(e.request_summary.as_str()),
                8 => Cow::Borrowed(e.result.as_deref().unwrap_or("")),
                9 => Cow::Owned(e.http_status.map(|s| s.to_string()).unwrap_or_default()),
                _ => Cow::Borrowed(""),
            }
        };
        let style = |r: usize| -> Style {
            match visible
                .get(r)
                .and_then(|&i| entries.get(i))
                .map(|e| e.event.as_str())
            {
                Some("failed") => theme.bad(),
                Some("no_answer") => theme.warn(),
                Some("done") => theme.good(),
                _ => Style::default(),
            }
        };
        table::render(f, body, theme, &spec, &cell, &style);
        if self.detail
            && let Some(e) = self.current()
        {
            draw_detail(f, body, theme, e);
        }
    }
}

fn haystack(e: &AuditEntry) -> String {
    format!(
        "{} {} {} {} {} {} {} {} {} {} {}",
        e.at,
        e.environment,
        e.operator,
        e.profile,
        e.customer,
        e.customer_fp,
        e.action,
        e.event,
        e.request_summary,
        e.result.as_deref().unwrap_or(""),
        e.idempotency_key.as_deref().unwrap_or("")
    )
    .to_lowercase()
}

fn draw_detail(f: &mut Frame, area: Rect, theme: &Theme, e: &AuditEntry) {
    let r = crate::tui::widgets::centered(area, area.width.saturating_sub(6).min(100), 16);
    f.render_widget(Clear, r);
    let row = |k: &str, v: String| {
        Line::from(vec![
            Span::styled(format!("{k:<16}"), theme.dim()),
            Span::raw(v),
        ])
    };
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".into());
    let lines = vec![
        row("time", e.at.clone()),
        row("operator", e.operator.clone()),
        row(
            "profile / env",
            format!("{} / {}", e.profile, e.environment),
        ),
        row("customer", e.customer_label().to_string()),
        row("key", e.customer_fp.clone()),
        row("action / event", format!("{} / {}", e.action, e.event)),
        row(
            "write",
            format!(
                "#{} attempt {}",
                e.write_id
                    .map(|w| w.to_string())
                    .unwrap_or_else(|| "—".into()),
                e.attempt
                    .map(|a| a.to_string())
                    .unwrap_or_else(|| "—".into())
            ),
        ),
        row("idempotency key", opt(&e.idempotency_key)),
        row("request", e.request_summary.clone()),
        row("result", opt(&e.result)),
        row(
            "http status",
            e.http_status
                .map(|s| s.to_string())
                .unwrap_or_else(|| "—".into()),
        ),
        row("correlation", opt(&e.correlation)),
    ];
    let block = Block::bordered()
        .border_style(theme.border_focus())
        .title(format!(" Audit entry {} · Esc closes · y copies ", e.id));
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        r,
    );
}

impl super::Pane for AuditPane {
    fn on_job_crashed(&mut self, message: &str, _case: &mut crate::case::live::LiveCase) {
        self.loading = false;
        self.error = Some(format!("internal error: {message}"));
    }
    fn id(&self) -> super::PaneId {
        super::PaneId::Audit
    }
    fn on_key(
        &mut self,
        k: crossterm::event::KeyEvent,
        _case: &mut crate::case::live::LiveCase,
        _ctx: &super::PaneCtx,
    ) -> Option<super::PaneOutput> {
        AuditPane::on_key(self, k)
    }
    fn on_command(
        &mut self,
        cmd: crate::tui::keymap::Command,
        _case: &mut crate::case::live::LiveCase,
        ctx: &super::PaneCtx,
    ) -> super::Routed {
        AuditPane::on_command(self, cmd, ctx)
    }
    fn accepts_text(&self) -> bool {
        self.filter.typing
    }
    fn on_paste(
        &mut self,
        text: String,
        _case: &mut crate::case::live::LiveCase,
        _ctx: &super::PaneCtx,
    ) -> super::PaneOutput {
        AuditPane::on_paste(self, &text);
        super::PaneOutput::none()
    }
    fn on_event(
        &mut self,
        ev: super::PaneEvent,
        _case: &mut crate::case::live::LiveCase,
        _ctx: &super::PaneCtx,
    ) -> super::PaneOutput {
        match ev {
            super::PaneEvent::Audit(e) => AuditPane::on_event(self, e),
            _ => super::PaneOutput::none(),
        }
    }
    fn fit(&mut self, body: ratatui::layout::Rect, _case: &crate::case::live::LiveCase) {
        AuditPane::fit(self, body)
    }
    fn draw(&self, f: &mut ratatui::Frame, area: ratatui::layout::Rect, ctx: &super::DrawCtx) {
        self.view(f, area, ctx.theme)
    }
}
