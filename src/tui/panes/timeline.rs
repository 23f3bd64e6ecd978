//! The Timeline pane: one time-ordered view of what the console already
//! loaded for this case — entitlements, orders, subscriptions, the clawback
//! events tied to the customer, and this data dir's audit entries for the
//! case's keys. It makes no Store call of its own (the audit log is a local
//! read) and says which sources are loaded and which are not yet.

use crate::journal::AuditEntry;
use crate::tui::action::Effect;
use crate::tui::keymap::Command;
use crate::tui::panes::empty::draw_empty;
use crate::tui::panes::list::{self, Cursor, Load};
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
    pub entitlements: (Option<String>, usize, bool),
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
    /// The case the list on screen was built from: what `e` writes.
    case: Option<crate::case::Case>,
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
            case: None,
        }
    }
}

impl TimelinePane {
    /// Reads the audit log when the pane comes on screen (writes may have
    /// happened) or the case's keys (`fps`) change.
    pub fn sync(&mut self, focused: bool, fps: Vec<String>, ctx: &PaneCtx) -> PaneOutput {
        self.now = ctx.now;
        let gained = focused && !self.was_focused;
        self.was_focused = focused;
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
        out
    }

    /// Changes whenever the audit read starts, ends or is dropped.
    pub fn audit_generation(&self) -> u64 {
        self.audit_generation
    }

    /// `stamp` back when the list on screen was built from other sources;
    /// `None` when it is up to date.
    pub fn stale(&self, stamp: Stamp) -> Option<Stamp> {
        (self.stamp.as_ref() != Some(&stamp)).then_some(stamp)
    }

    /// The audit read as a part of the case.
    pub fn audit_part(&self) -> crate::case::Part<Vec<AuditEntry>> {
        use crate::case::Part;
        match &self.audit {
            Load::Idle => Part::NotRead("not read yet".into()),
            Load::Loading { .. } => Part::Reading(None),
            Load::Failed(f) => Part::Failed {
                why: f.message.clone(),
                partial: None,
            },
            Load::Loaded { data, .. } => Part::Read(data.clone()),
        }
    }

    /// Show the timeline of `case` (a pure function of it).
    pub fn rebuild(&mut self, case: crate::case::Case, stamp: Stamp) {
        let t = crate::case::timeline::build(&case, self.now);
        self.entries = t.entries;
        self.sources = t.sources;
        self.cursor.clamp(self.entries.len());
        self.stamp = Some(stamp);
        self.case = Some(case);
    }

    /// `e`: the case file (Markdown) of the case on screen, written to the
    /// exports dir by the Entitlements pane's export job.
    fn export_case(&self, ctx: &PaneCtx) -> PaneOutput {
        let Some(case) = self.case.as_ref().filter(|c| !c.fingerprints().is_empty()) else {
            return PaneOutput::error("no customer in this case: nothing to write");
        };
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
        let content = file::render(case, ctx.now, &env, FileFormat::Markdown);
        PaneOutput::effect(Effect::Pane(
            PaneId::Timeline,
            PaneJob::Entitlements(crate::tui::panes::entitlements::EntJob::Export {
                file_name: file::file_name(case, ctx.now, FileFormat::Markdown),
                content: content.into(),
                rows: self.entries.len(),
            }),
        ))
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

    pub fn on_command(&mut self, cmd: Command, ctx: &PaneCtx) -> Routed {
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
            Command::Export => self.export_case(ctx),
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
            "Enter detail · y copy · e case file · r re-read audit",
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
    fn on_job_crashed(&mut self, message: &str) {
        self.audit.crashed(message);
    }
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
    fn fit(&mut self, body: ratatui::layout::Rect) {
        TimelinePane::fit(self, body)
    }
    fn draw(&self, f: &mut ratatui::Frame, area: ratatui::layout::Rect, ctx: &super::DrawCtx) {
        self.view(f, area, ctx.theme)
    }
}
