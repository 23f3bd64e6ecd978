//! The Timeline pane: one time-ordered view of what the console already
//! loaded for this case — entitlements, orders, subscriptions, the clawback
//! events tied to the customer, and this data dir's audit entries for the
//! case's keys. It makes no Store call of its own (the audit log is a local
//! read) and says which sources are loaded and which are not yet.

use crate::case::live::LiveCase;
use crate::case::read::{Failure, Load};
use crate::journal::AuditEntry;
use crate::tui::action::Effect;
use crate::tui::keymap::Command;
use crate::tui::panes::empty::draw_empty;
use crate::tui::panes::list::{self, Cursor};
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

pub use crate::case::timeline::{Entry, Source};

/// Enough to tell whether the sources changed since the last build.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stamp {
    pub fps: Vec<String>,
    pub entitlements: u64,
    pub orders: u64,
    pub subscriptions: u64,
    pub clawbacks: u64,
    pub audit: u64,
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

/// A view of the case's timeline: the entries built from the case, the
/// sources line and the cursor.
pub struct TimelinePane {
    pub entries: Vec<Entry>,
    /// One line per source: loaded, or why not.
    pub sources: Vec<(Source, bool, String)>,
    pub cursor: Cursor,
    /// The customer on screen has keys.
    has_customer: bool,
    stamp: Option<Stamp>,
    was_focused: bool,
    now: DateTime<Utc>,
}

impl Default for TimelinePane {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
            sources: Vec::new(),
            cursor: Cursor::default(),
            has_customer: false,
            stamp: None,
            was_focused: false,
            now: DateTime::<Utc>::UNIX_EPOCH,
        }
    }
}

impl TimelinePane {
    /// Reads the case's audit entries when the pane comes on screen
    /// (writes may have happened) or the case's keys changed.
    pub fn sync(&mut self, focused: bool, case: &mut LiveCase, ctx: &PaneCtx) -> PaneOutput {
        self.now = ctx.now;
        let gained = focused && !self.was_focused;
        self.was_focused = focused;
        let has_customer = !case.fingerprints().is_empty();
        if has_customer != self.has_customer {
            self.has_customer = has_customer;
            self.cursor.reset();
        }
        if focused && has_customer && (gained || case.audit.load == Load::Idle) {
            return self.load_audit(case);
        }
        PaneOutput::none()
    }

    /// `stamp` back when the list on screen was built from other sources;
    /// `None` when it is up to date.
    pub fn stale(&self, stamp: Stamp) -> Option<Stamp> {
        (self.stamp.as_ref() != Some(&stamp)).then_some(stamp)
    }

    /// Show the timeline of `case` (a pure function of it).
    pub fn rebuild(&mut self, case: &crate::case::Case, stamp: Stamp) {
        let t = crate::case::timeline::build(case, self.now);
        self.entries = t.entries;
        self.sources = t.sources;
        self.cursor.clamp(self.entries.len());
        self.stamp = Some(stamp);
    }

    /// `e`: the case file (Markdown) of the case on screen, written to the
    /// exports dir by the Entitlements pane's export job.
    fn export_case(&self, case: &LiveCase, ctx: &PaneCtx) -> PaneOutput {
        if case.fingerprints().is_empty() {
            return PaneOutput::error("no customer in this case: nothing to write");
        }
        let case = case.snapshot();
        use crate::case::file::{self, FileEnv, FileFormat};
        let env = FileEnv {
            environment: ctx.environment.to_string(),
            profile: ctx.actor.profile.clone(),
            operator: ctx.actor.operator.clone(),
            store: ctx
                .conn
                .as_ref()
                .map(|c| c.base_description.clone())
                .unwrap_or_else(|| "not connected".into()),
            sandbox_id: ctx.conn.as_ref().and_then(|c| c.sandbox_id.clone()),
            client_id: ctx.conn.as_ref().map(|c| c.client_id.clone()),
            sandbox_public_key_pem: ctx
                .conn
                .as_ref()
                .and_then(|c| c.sandbox_public_key_pem.clone()),
            generator: format!("storedesk {}", env!("CARGO_PKG_VERSION")),
        };
        let content = file::render(&case, ctx.now, &env, FileFormat::Markdown);
        PaneOutput::effect(Effect::Pane(
            PaneId::Timeline,
            PaneJob::Entitlements(crate::tui::panes::entitlements::EntJob::Export {
                file_name: file::file_name(&case, ctx.now, FileFormat::Markdown),
                content: content.into(),
                rows: self.entries.len(),
            }),
        ))
    }

    fn load_audit(&mut self, case: &mut LiveCase) -> PaneOutput {
        if case.fingerprints().is_empty() || case.audit.load.is_loading() {
            return PaneOutput::none();
        }
        let fps = case.fingerprints().to_vec();
        match case.audit.begin_unkeyed() {
            Ok(load_id) => PaneOutput::effect(Effect::Pane(
                PaneId::Timeline,
                PaneJob::Timeline(TimelineJob::LoadAudit { load_id, fps }),
            )),
            Err(why) => PaneOutput::error(why),
        }
    }

    pub fn on_event(
        &mut self,
        ev: TimelineEvent,
        case: &mut LiveCase,
        ctx: &PaneCtx,
    ) -> PaneOutput {
        let TimelineEvent::AuditLoaded { load_id, result } = ev;
        let result = result.map_err(Failure::plain);
        match case
            .audit
            .settle(load_id, result, ctx.now, "timeline: audit log")
        {
            Some(Err(msg)) => PaneOutput::error(msg),
            _ => PaneOutput::none(),
        }
    }

    pub fn on_command(&mut self, cmd: Command, case: &mut LiveCase, ctx: &PaneCtx) -> Routed {
        if self.cursor.on_command(cmd, self.entries.len()) {
            return Routed::handled(PaneOutput::none());
        }
        let out = match cmd {
            // Only the local audit log is read again: the other sources
            // belong to their panes, and each has its own `r`.
            Command::Refresh => {
                let mut out = self.load_audit(case);
                out.toast = Some(
                    "timeline: audit log read again; Store data refreshes in its own pane (r there)"
                        .into(),
                );
                out
            }
            Command::Export => self.export_case(case, ctx),
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

    /// The sources line as drawn (its width decides the layout).
    fn sources_line(&self, theme: &Theme) -> Line<'static> {
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
        Line::from(spans)
    }

    /// The header, the sources and the table, as `view` lays them out.
    fn layout(sources: &Line, area: Rect) -> [Rect; 3] {
        // Word wrapping needs a little slack over the plain width.
        let src_rows = (sources.width() + sources.width() / 8)
            .div_ceil(usize::from(area.width.max(1)))
            .clamp(1, 3) as u16;
        Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(src_rows),
            Constraint::Min(1),
        ])
        .areas(area)
    }

    /// Keep the selected row on screen in a pane of `area`.
    pub fn fit(&mut self, area: Rect) {
        let [_, _, body] = Self::layout(&self.sources_line(&Theme { color: false }), area);
        self.cursor.fit(
            usize::from(body.height.saturating_sub(1)),
            self.entries.len(),
        );
    }

    pub fn view(&self, f: &mut Frame, area: Rect, theme: &Theme) {
        if !self.has_customer {
            draw_empty(
                f,
                area,
                theme,
                "No customer in this case.",
                "Load keys in the Key pane (1, or d for a demo customer); what the other panes read for them lines up here, newest first.",
            );
            return;
        }
        let sources = self.sources_line(theme);
        let [head, src, body] = Self::layout(&sources, area);
        list::header(
            f,
            head,
            theme,
            "Timeline",
            &format!(
                "{} moments, newest first · from what is already loaded, no Store calls",
                self.entries.len()
            ),
            &crate::tui::keymap::hints(&[
                (&[Command::Open], "detail"),
                (&[Command::Copy], "copy"),
                (&[Command::Export], "case file"),
                (&[Command::Refresh], "re-read audit"),
            ]),
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
            offset: self.cursor.offset,
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
        table::render(f, body, theme, &spec, &cell, &style);
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

impl super::Pane for TimelinePane {
    fn on_job_crashed(&mut self, message: &str, case: &mut LiveCase) {
        case.audit.crashed(message);
    }
    fn id(&self) -> super::PaneId {
        super::PaneId::Timeline
    }
    fn on_command(
        &mut self,
        cmd: crate::tui::keymap::Command,
        case: &mut LiveCase,
        ctx: &super::PaneCtx,
    ) -> super::Routed {
        TimelinePane::on_command(self, cmd, case, ctx)
    }
    fn on_event(
        &mut self,
        ev: super::PaneEvent,
        case: &mut LiveCase,
        ctx: &super::PaneCtx,
    ) -> super::PaneOutput {
        match ev {
            super::PaneEvent::Timeline(e) => TimelinePane::on_event(self, e, case, ctx),
            // `e` borrowed the Entitlements pane's export job.
            super::PaneEvent::Entitlements(super::entitlements::EntEvent::Exported(r)) => match r {
                Ok((path, _)) => {
                    super::PaneOutput::toast(format!("case file written to {}", path.display()))
                }
                Err(m) => super::PaneOutput::error(format!("case file not written: {m}")),
            },
            _ => super::PaneOutput::none(),
        }
    }
    fn fit(&mut self, body: ratatui::layout::Rect, _case: &LiveCase) {
        TimelinePane::fit(self, body)
    }
    fn draw(&self, f: &mut ratatui::Frame, area: ratatui::layout::Rect, ctx: &super::DrawCtx) {
        self.view(f, area, ctx.theme)
    }
}
