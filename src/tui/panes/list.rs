//! What the Orders, Subscriptions, Clawbacks and Timeline panes share: the
//! load state of one read, the failure an agent can act on, the row cursor,
//! the `/` text filter, and the header and detail boxes they draw.

use crate::tui::keymap::{self, Command, Scope};
use crate::tui::theme::Theme;
use crate::tui::widgets::table::{self, TableColumn};
use chrono::{DateTime, Utc};
use crossterm::event::{Event, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};
use std::borrow::Cow;
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;

/// `/` in a list pane: a live filter over its rows. Every word of the query
/// must appear in a row's text, case-insensitive. Enter keeps the query,
/// Esc while typing drops it, and Esc (Back) later clears it.
#[derive(Debug, Default)]
pub struct TextFilter {
    pub input: Input,
    /// The query is being typed: keys go to it, not to the keymap.
    pub typing: bool,
}

impl TextFilter {
    pub fn start(&mut self) {
        self.typing = true;
    }

    pub fn query(&self) -> &str {
        self.input.value().trim()
    }

    pub fn is_active(&self) -> bool {
        !self.query().is_empty()
    }

    /// Whether a row whose cells are `cells` passes.
    pub fn matches<'a>(&self, cells: impl IntoIterator<Item = &'a str>) -> bool {
        let q = self.query().to_lowercase();
        if q.is_empty() {
            return true;
        }
        let text = cells
            .into_iter()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase();
        q.split_whitespace().all(|w| text.contains(w))
    }

    /// A key while typing: `Some(changed)`, where `changed` says whether the
    /// query changed (the rows must be filtered again); `None` when not typing.
    pub fn on_key(&mut self, k: KeyEvent) -> Option<bool> {
        if !self.typing {
            return None;
        }
        Some(match keymap::lookup(&k, Scope::Forms) {
            Some(Command::Submit) => {
                self.typing = false;
                false
            }
            Some(Command::Cancel) => {
                self.typing = false;
                self.clear()
            }
            _ => {
                let before = self.input.value().to_string();
                self.input.handle_event(&Event::Key(k));
                before != self.input.value()
            }
        })
    }

    /// `/` starts typing; Esc (Back) clears a query that is set.
    /// `Some(changed)` when `cmd` was one of those (`changed`: filter the
    /// rows again), `None` otherwise.
    pub fn on_command(&mut self, cmd: Command) -> Option<bool> {
        match cmd {
            Command::Filter => {
                self.start();
                Some(false)
            }
            Command::Back if self.is_active() => Some(self.clear()),
            _ => None,
        }
    }

    /// Text pasted while typing the query.
    pub fn paste(&mut self, s: &str) -> bool {
        if !self.typing {
            return false;
        }
        let v = format!("{}{}", self.input.value(), s.trim());
        self.input = Input::new(v);
        true
    }

    /// Drop the query; true if there was one.
    pub fn clear(&mut self) -> bool {
        let had = self.is_active();
        self.input = Input::default();
        had
    }

    /// "/query" (with a cursor while typing) for a pane's header, if any.
    pub fn label(&self) -> Option<String> {
        (self.typing || self.is_active()).then(|| {
            format!(
                "/{}{}",
                self.input.value(),
                if self.typing { "▏" } else { "" }
            )
        })
    }
}

/// What a list pane shows of its items: the `/` filter and, in order, the
/// indexes of the items that pass it. The pane's [`Cursor`] moves over these.
#[derive(Debug, Default)]
pub struct Shown {
    pub filter: TextFilter,
    rows: Vec<usize>,
}

impl Shown {
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The index of the item shown at `row`.
    pub fn item(&self, row: usize) -> Option<usize> {
        self.rows.get(row).copied()
    }

    /// Filter `total` items again by their cells. The cursor lands on the
    /// first item `keep` picks out (the one selected before, found by what
    /// identifies it), else stays in range.
    pub fn refilter<'a>(
        &mut self,
        total: usize,
        cells: impl Fn(usize) -> Vec<Cow<'a, str>>,
        keep: impl Fn(usize) -> bool,
        cursor: &mut Cursor,
    ) {
        self.refilter_where(total, |_| true, cells, keep, cursor)
    }

    /// [`Shown::refilter`] over the items `include` lets through (e.g.
    /// the clawback events of the profile's environment).
    pub fn refilter_where<'a>(
        &mut self,
        total: usize,
        include: impl Fn(usize) -> bool,
        cells: impl Fn(usize) -> Vec<Cow<'a, str>>,
        keep: impl Fn(usize) -> bool,
        cursor: &mut Cursor,
    ) {
        let filter = &self.filter;
        self.rows = (0..total)
            .filter(|&i| include(i) && filter.matches(cells(i).iter().map(|c| c.as_ref())))
            .collect();
        let index = self.rows.iter().position(|&i| keep(i));
        cursor.reselect(index, self.rows.len());
    }

    /// "/query 1 of 6 noun" while a query is set or typed, else "6 noun".
    pub fn count(&self, total: usize, noun: &str) -> String {
        match self.filter.label() {
            Some(q) => format!("{q} {} of {total} {noun}", self.len()),
            None => format!("{total} {noun}"),
        }
    }
}

/// The selected row, the scroll position, and whether the detail box is
/// open. The offset and page are kept by `fit` after every update, from
/// the same layout the view draws, so drawing never writes state.
#[derive(Debug, Default)]
pub struct Cursor {
    pub selected: usize,
    pub offset: usize,
    /// Table rows on screen (for PgUp/PgDn).
    pub page: usize,
    pub detail: bool,
}

impl Cursor {
    /// Movement and detail commands over `len` rows; false when `cmd` is
    /// not one of them.
    pub fn on_command(&mut self, cmd: Command, len: usize) -> bool {
        let last = len.saturating_sub(1);
        let page = self.page.max(1);
        match cmd {
            Command::Up => self.selected = self.selected.saturating_sub(1),
            Command::Down => self.selected = (self.selected + 1).min(last),
            Command::PageUp => self.selected = self.selected.saturating_sub(page),
            Command::PageDown => self.selected = (self.selected + page).min(last),
            Command::Top => self.selected = 0,
            Command::Bottom => self.selected = last,
            Command::Open => self.detail = len > 0,
            Command::Back if self.detail => self.detail = false,
            _ => return false,
        }
        true
    }

    pub fn reset(&mut self) {
        self.selected = 0;
        self.offset = 0;
        self.detail = false;
    }

    /// Follow the selection in a table of `rows` rows over `len` items.
    pub fn fit(&mut self, rows: usize, len: usize) {
        self.page = rows;
        self.offset = table::scroll_offset(self.offset, Some(self.selected), rows, len);
    }

    /// After a reload: stay on the row that was selected (found at
    /// `index` in the new rows, if it is still there), within `len` rows.
    pub fn reselect(&mut self, index: Option<usize>, len: usize) {
        if let Some(i) = index {
            self.selected = i;
        }
        self.clamp(len);
    }

    /// Keep the selection inside `len` rows.
    pub fn clamp(&mut self, len: usize) {
        self.selected = self.selected.min(len.saturating_sub(1));
        if len == 0 {
            self.detail = false;
        }
    }
}

/// The leading columns whose minimum widths fit in `width`. The table
/// widget shrinks every column before it drops trailing ones; dropping
/// first leaves the columns that stay their room.
/// Product titles by upper-cased id (`case::titles`): the Entitlements
/// pane looks them up, `Panes::sync` hands them to the other lists.
pub type Titles = std::collections::BTreeMap<String, String>;

/// `9NSDGAME0001 Contoso Quest`, or the id alone when no title is known:
/// names, not only ids, wherever a product id is shown.
pub fn product_label<'a>(titles: &Titles, id: &'a str) -> Cow<'a, str> {
    match titles.get(&id.trim().to_ascii_uppercase()) {
        Some(t) if !id.is_empty() => Cow::Owned(format!("{id} {t}")),
        _ => Cow::Borrowed(id),
    }
}

/// The columns that fit `width`, and the titles to show in them: the
/// product column may grow for its titles (the table still sizes it to its
/// content and the free width) and is kept wide enough for a whole id and
/// "…". Where that would push another column off screen, the ids are shown
/// alone (a cut id is worse than no title; Enter's detail has it).
pub fn with_titles<'t>(
    columns: &[TableColumn],
    titles: &'t Titles,
    width: u16,
) -> (Vec<TableColumn>, &'t Titles) {
    static NONE: Titles = Titles::new();
    let base = fitting(columns, width);
    let mut v = base.to_vec();
    if titles.is_empty() {
        return (v, titles);
    }
    for c in v.iter_mut().filter(|c| c.title == "product") {
        c.max = c.max.max(PRODUCT_WITH_TITLE);
        c.min = c.min.max(PRODUCT_ID_AND_MORE);
    }
    if fitting(&v, width).len() < base.len() {
        return (base.to_vec(), &NONE);
    }
    (v, titles)
}

/// The widest a product column grows for its title.
pub const PRODUCT_WITH_TITLE: u16 = 40;
/// A 12-character Store id, a space and "…".
pub const PRODUCT_ID_AND_MORE: u16 = 14;

pub fn fitting(columns: &[TableColumn], width: u16) -> &[TableColumn] {
    let mut used = 0u32;
    let n = columns
        .iter()
        .take_while(|c| {
            used += u32::from(c.min) + u32::from(used > 0);
            used <= u32::from(width)
        })
        .count();
    &columns[..n.max(1).min(columns.len())]
}

/// `2026-11-23 10:00` (UTC), or "—".
pub fn when(t: Option<DateTime<Utc>>) -> String {
    match t {
        Some(t) if t.timestamp() >= crate::browse::column::FOREVER => "never".into(),
        Some(t) => t.format("%Y-%m-%d %H:%M").to_string(),
        None => "—".into(),
    }
}

/// `2026-11-23` (UTC), or "—".
pub fn day(t: Option<DateTime<Utc>>) -> String {
    match t {
        Some(t) if t.timestamp() >= crate::browse::column::FOREVER => "never".into(),
        Some(t) => t.format("%Y-%m-%d").to_string(),
        None => "—".into(),
    }
}

/// "in 3d", "12d ago", or "—".
pub fn rel(t: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    match t {
        Some(t) => crate::browse::column::short_relative(t.timestamp(), now.timestamp()),
        None => "—".into(),
    }
}

/// One header line: a title, facts, and the keys that work here.
pub fn header(f: &mut Frame, area: Rect, theme: &Theme, title: &str, facts: &str, keys: &str) {
    let line = Line::from(vec![
        Span::styled(format!(" {title} "), theme.title()),
        Span::raw(format!("— {facts}")),
        Span::styled(format!("   {keys}"), theme.dim()),
    ]);
    f.render_widget(Paragraph::new(line), area);
}

/// A bordered detail box over the table: `rows` of (label, value).
pub fn detail_box(
    f: &mut Frame,
    area: Rect,
    theme: &Theme,
    title: &str,
    rows: &[(String, String)],
    extra: &[Line<'static>],
) {
    let w = area.width.saturating_sub(4).min(110);
    let mut lines: Vec<Line> = rows
        .iter()
        .map(|(k, v)| {
            Line::from(vec![
                Span::styled(format!("{k:<20}"), theme.dim()),
                Span::raw(v.clone()),
            ])
        })
        .collect();
    lines.extend(extra.iter().cloned());
    // Height of the wrapped text, so nothing is cut off at the bottom.
    let inner = usize::from(w.saturating_sub(2).max(1));
    let text_rows: usize = lines.iter().map(|l| l.width().max(1).div_ceil(inner)).sum();
    let h = (text_rows + 2).min(usize::from(area.height)) as u16;
    let r = crate::tui::widgets::centered(area, w, h);
    f.render_widget(Clear, r);
    let block = Block::bordered()
        .border_style(theme.border_focus())
        .title(format!(" {title} · Esc closes · y copies "));
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        r,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_stays_inside_the_rows() {
        let mut c = Cursor {
            page: 10,
            ..Cursor::default()
        };
        assert!(c.on_command(Command::Down, 3));
        assert!(c.on_command(Command::PageDown, 3));
        assert_eq!(c.selected, 2);
        assert!(c.on_command(Command::Top, 3));
        assert_eq!(c.selected, 0);
        assert!(c.on_command(Command::Open, 0));
        assert!(!c.detail, "no detail over an empty list");
        assert!(
            !c.on_command(Command::Back, 3),
            "Back with no detail is not ours"
        );
        assert!(!c.on_command(Command::Refresh, 3));
    }

    #[test]
    fn columns_that_do_not_fit_are_dropped_before_others_shrink() {
        let c = |min| TableColumn {
            title: "c",
            min,
            max: 40,
            right: false,
        };
        let cols = [c(10), c(10), c(36), c(10)];
        assert_eq!(fitting(&cols, 69).len(), 4);
        assert_eq!(fitting(&cols, 68).len(), 3);
        assert_eq!(fitting(&cols, 58).len(), 3);
        assert_eq!(fitting(&cols, 57).len(), 2);
        assert_eq!(fitting(&cols, 3).len(), 1, "never nothing");
    }

    #[test]
    fn load_answers_only_its_own_id() {
        use crate::case::read::Load;
        let l: Load<()> = Load::Loading { load_id: 4 };
        assert!(l.awaits(4));
        assert!(!l.awaits(3));
        assert!(!Load::<()>::Idle.awaits(4));
    }
}
