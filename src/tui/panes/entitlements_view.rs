//! Drawing the Entitlements pane: the query/progress line, the filter
//! editor, and the table (through the shared table widget).

use crate::browse::column::{display, has_unknown};
use crate::browse::{Column, thousands};
use crate::case::live::LiveCase;
use crate::store::PageProgress;
use crate::tui::panes::DrawCtx;
use crate::tui::panes::empty::draw_empty;
use crate::tui::panes::entitlements::{EditorRow, EntitlementsPane, FetchState};
use crate::tui::theme::Theme;
use crate::tui::widgets::table::{self, TableColumn, TableSpec};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

pub fn view(f: &mut Frame, area: Rect, theme: &Theme, pane: &EntitlementsPane, app: &DrawCtx) {
    if !app.has_collections_key && app.case.listing.fetched_key.is_none() {
        draw_empty(
            f,
            area,
            theme,
            "No collections key loaded.",
            "Paste a UserCollectionsId in the Key pane (1 or Ctrl-V) to list what this customer owns.",
        );
        return;
    }
    if pane.detail.is_some() {
        crate::tui::panes::entitlements_detail::view(f, area, theme, pane, app);
    } else {
        draw_list(f, area, theme, pane, app);
    }
    if let Some((form, _)) = pane.form() {
        form.view(f, area, theme);
    }
}

/// The status lines, the filter editor and the table's box, as the list
/// is laid out.
fn list_layout(pane: &EntitlementsPane, case: &LiveCase, area: Rect) -> [Rect; 3] {
    let editor_h = pane
        .editor()
        .map_or(0, |_| editor_height(pane, case, area.width));
    Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(editor_h),
        Constraint::Min(3),
    ])
    .areas(area)
}

/// The table and its footer inside the table's box.
fn table_layout(boxed: Rect) -> [Rect; 2] {
    Layout::vertical([Constraint::Min(1), Constraint::Length(1)])
        .areas(Block::bordered().inner(boxed))
}

/// How many table rows the list shows in a pane of `area`.
pub fn table_rows(pane: &EntitlementsPane, case: &LiveCase, area: Rect) -> usize {
    let [_, _, boxed] = list_layout(pane, case, area);
    let [table, _] = table_layout(boxed);
    usize::from(table.height.saturating_sub(1))
}

fn draw_list(f: &mut Frame, area: Rect, theme: &Theme, pane: &EntitlementsPane, app: &DrawCtx) {
    let [status, editor, body] = list_layout(pane, app.case, area);
    draw_status(f, status, theme, pane, app);
    if editor.height > 0 {
        draw_editor(f, editor, theme, pane, app.case);
    }
    draw_table(f, body, theme, pane, app);
}

/// "page 7 · 1,400 items · 38 calls left"
pub fn progress_text(p: &PageProgress) -> String {
    let mut s = format!("page {} · {} items", p.pages, thousands(p.items));
    if let Some(c) = p.calls_left {
        s.push_str(&format!(" · {c} calls left"));
    }
    s
}

fn draw_status(f: &mut Frame, area: Rect, theme: &Theme, pane: &EntitlementsPane, app: &DrawCtx) {
    let case = app.case;
    let query = match &case.listing.mode {
        Some(m) => m.describe(),
        None if !app.connected => "waiting for the Store connection".into(),
        None => "choosing the query…".into(),
    };
    let line1 = Line::from(vec![
        Span::styled(query, theme.dim()),
        Span::styled(
            format!(
                " · validityType {} · excludeDuplicates {}",
                pane.validity, pane.exclude_duplicates
            ),
            theme.dim(),
        ),
    ]);
    let mut spans = match &case.listing.fetch {
        FetchState::Idle => vec![Span::styled("not listed yet · r lists", theme.dim())],
        FetchState::Running {
            progress, waiting, ..
        } => {
            let mut v = vec![
                Span::styled("⟳ ", theme.warn()),
                Span::raw(if progress.pages == 0 {
                    "fetching the first page…".to_string()
                } else {
                    progress_text(progress)
                }),
            ];
            if let Some((secs, why)) = waiting {
                v.push(Span::styled(
                    format!(" · ⏳ {secs} s ({why})"),
                    theme.warn(),
                ));
            }
            v.push(Span::styled(" · Esc cancels", theme.dim()));
            v
        }
        FetchState::Done(p) => vec![
            Span::styled("✓ ", theme.good()),
            Span::raw(format!(
                "all listed · {} page(s) · {} items{}",
                p.pages,
                thousands(p.items),
                p.calls_left
                    .map(|c| format!(" · {c} calls left"))
                    .unwrap_or_default()
            )),
        ],
        FetchState::Cancelled(p) => vec![
            Span::styled("cancelled ", theme.warn()),
            Span::raw(format!("after {} · r lists again", progress_text(p))),
        ],
        FetchState::Failed(p, m) => vec![
            Span::styled("failed ", theme.bad()),
            Span::raw(format!("after {}: {m} · r retries", progress_text(p))),
        ],
    };
    if matches!(
        pane.modal,
        crate::tui::panes::entitlements::Modal::ExportPrompt
    ) {
        spans = vec![
            Span::styled("Export ", theme.title()),
            Span::raw(format!(
                "{} visible row(s) as: ",
                thousands(pane.view.visible.len())
            )),
            Span::styled("c", theme.key_hint()),
            Span::raw(" CSV · "),
            Span::styled("j", theme.key_hint()),
            Span::raw(" JSON · any other key cancels"),
        ];
    }
    // Progress first: on a narrow screen the query line is the one cut.
    f.render_widget(Paragraph::new(vec![Line::from(spans), line1]), area);
}

fn editor_lines(pane: &EntitlementsPane, case: &LiveCase, theme: &Theme) -> Vec<Line<'static>> {
    let Some(ed) = pane.editor() else {
        return vec![];
    };
    let mut lines = Vec::new();
    for row in [
        EditorRow::Text,
        EditorRow::Status,
        EditorRow::Kind,
        EditorRow::Acquisition,
        EditorRow::Flags,
    ] {
        let here = ed.row == row;
        let mut spans = vec![Span::styled(
            format!("{}{:<9}", if here { "›" } else { " " }, row.label()),
            if here { theme.key_hint() } else { theme.dim() },
        )];
        if row == EditorRow::Text {
            spans.push(Span::raw(ed.input.value().to_string()));
            if here {
                spans.push(Span::styled("▏", theme.key_hint()));
            }
            spans.push(Span::styled(
                "  (product, SKU, tag or transaction id)",
                theme.dim(),
            ));
        } else {
            let radio = row == EditorRow::Acquisition;
            for (i, (label, on)) in pane.editor_options(case, row).into_iter().enumerate() {
                let mark = match (radio, on) {
                    (true, true) => "(•)",
                    (true, false) => "( )",
                    (false, true) => "[x]",
                    (false, false) => "[ ]",
                };
                let style = if here && i == ed.cursor {
                    theme.selected()
                } else if on {
                    theme.good()
                } else {
                    Style::default()
                };
                spans.push(Span::styled(format!("{mark} {label}"), style));
                spans.push(Span::raw(" "));
            }
        }
        lines.push(Line::from(spans));
    }
    lines
}

fn editor_height(pane: &EntitlementsPane, case: &LiveCase, width: u16) -> u16 {
    let inner = width.saturating_sub(2).max(1) as usize;
    let theme = Theme { color: false };
    editor_lines(pane, case, &theme)
        .iter()
        .map(|l| l.width().div_ceil(inner).max(1) as u16)
        .sum::<u16>()
        + 2
}

fn draw_editor(f: &mut Frame, area: Rect, theme: &Theme, pane: &EntitlementsPane, case: &LiveCase) {
    let block = Block::bordered()
        .border_style(theme.border_focus())
        .title(" Filter · ↑↓ row · ←→ choose · Space toggle · Backspace clears row · Ctrl-R resets · Enter/Esc close ");
    f.render_widget(
        Paragraph::new(editor_lines(pane, case, theme))
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
}

/// With a pass filter on (a Pass kind, or a filter that leaves rows a pass
/// satisfies), "satisfied by" is what the agent is looking at: it moves next
/// to the product, so 80 columns do not push it off screen.
pub fn promote_satisfied_by(
    pane: &EntitlementsPane,
    case: &LiveCase,
    mut cols: Vec<Column>,
) -> Vec<Column> {
    let f = &pane.view.filter;
    let passes = f.kinds.contains(&crate::store::model::ProductKind::Pass)
        || !f.is_empty()
            && pane
                .view
                .visible
                .iter()
                .filter_map(|&i| case.listing.data.row(i))
                .any(|r| !case.listing.data.list(r.satisfied_by).is_empty());
    if let (true, Some(at), Some(product)) = (
        passes,
        cols.iter().position(|c| *c == Column::SatisfiedBy),
        cols.iter().position(|c| *c == Column::Product),
    ) && at > product + 1
    {
        let c = cols.remove(at);
        cols.insert(product + 1, c);
    }
    cols
}

fn draw_table(f: &mut Frame, area: Rect, theme: &Theme, pane: &EntitlementsPane, app: &DrawCtx) {
    let case = app.case;
    let title = format!(" {} ", pane.title(case));
    use crate::tui::keymap::Command as C;
    let hints = format!(
        " {} ",
        crate::tui::keymap::hints(&[
            (&[C::Filter], "filter"),
            (&[C::SortNext, C::SortReverse], "sort"),
            (&[C::HideColumn, C::ShowColumns], "hide/show"),
            (&[C::Open], "detail"),
            (&[C::Export], "export"),
            (&[C::Copy], "copy"),
            (&[C::Refresh], "refresh"),
            (&[C::ToggleValidity], "validity"),
            (&[C::ToggleDuplicates], "dups"),
        ])
    );
    let block = Block::bordered()
        .title(Span::styled(title, theme.title()))
        .title_bottom(Span::styled(hints, theme.dim()))
        .border_style(theme.border_focus());
    let inner = block.inner(area);
    f.render_widget(block, area);
    if case.listing.data.is_empty() {
        let msg = match &case.listing.fetch {
            FetchState::Running { .. } => "Fetching the first page…",
            FetchState::Done(_) => "The Store listed nothing for this key. The documented causes:",
            _ => "Nothing listed.",
        };
        let mut lines = vec![Line::from(Span::styled(msg, theme.dim())).centered()];
        if let FetchState::Done(_) = &case.listing.fetch {
            // Not "owns nothing": an empty answer usually means a
            // configuration mistake; name them (case::empty).
            let q = crate::case::empty::EmptyQuery {
                environment: None,
                v9_products: match &case.listing.mode {
                    Some(crate::tui::panes::entitlements::QueryMode::V9 { products, .. }) => {
                        Some(*products)
                    }
                    _ => None,
                },
            };
            lines.push(Line::default());
            for c in crate::case::empty::empty_causes(&q) {
                lines.push(Line::from(Span::raw(format!("• {c}"))));
            }
        }
        f.render_widget(
            Paragraph::new(lines).wrap(ratatui::widgets::Wrap { trim: true }),
            inner,
        );
        return;
    }
    let shown = pane.shown_columns();
    let cols = promote_satisfied_by(pane, case, shown.clone());
    let promoted = cols != shown;
    let specs: Vec<TableColumn> = cols
        .iter()
        .map(|c| {
            let (mut min, mut max) = c.widths();
            if *c == Column::Product && !case.titles.is_empty() {
                max = max.max(crate::tui::panes::list::PRODUCT_WITH_TITLE);
                min = min.max(crate::tui::panes::list::PRODUCT_ID_AND_MORE);
            }
            if *c == Column::SatisfiedBy && promoted {
                // A whole pass id.
                min = min.max(12);
            }
            TableColumn {
                title: c.title(),
                min,
                max,
                right: c.right_aligned(),
            }
        })
        .collect();
    let sort = cols
        .iter()
        .position(|c| *c == pane.view.sort.column)
        .map(|i| (i, pane.view.sort.descending));
    let now = app.now.timestamp();
    let data = &case.listing.data;
    let visible = &pane.view.visible;
    let cell = |r: usize, c: usize| match (visible.get(r).and_then(|&i| data.row(i)), cols.get(c)) {
        (Some(row), Some(Column::Product)) if !has_unknown(data, row) => {
            crate::tui::panes::list::product_label(&case.titles, data.sym(row.product))
        }
        (Some(row), Some(col)) => display(data, row, *col, now),
        _ => std::borrow::Cow::Borrowed(""),
    };
    let row_style = |r: usize| match visible.get(r).and_then(|&i| data.row(i)) {
        Some(row) if row.dup.repeat_id => theme.warn(),
        Some(row) if has_unknown(data, row) => theme.error_text(),
        Some(row) if data.sym(row.status) != "Active" && !data.sym(row.status).is_empty() => {
            theme.dim()
        }
        _ => Style::default(),
    };
    let spec = TableSpec {
        columns: &specs,
        len: visible.len(),
        selected: (!visible.is_empty()).then_some(pane.selected),
        sort,
        offset: pane.offset,
    };
    let [table_area, foot] = table_layout(area);
    let drawn = table::render(f, table_area, theme, &spec, &cell, &row_style);
    let mut foot_spans = vec![Span::styled(
        format!(
            "row {} of {}",
            thousands(if visible.is_empty() {
                0
            } else {
                pane.selected + 1
            }),
            thousands(visible.len())
        ),
        theme.dim(),
    )];
    if !pane.hidden.is_empty() {
        foot_spans.push(Span::styled(
            format!(
                " · hidden: {}",
                pane.hidden
                    .iter()
                    .map(|c| c.title())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            theme.dim(),
        ));
    }
    if drawn.clipped > 0 {
        let cut: Vec<&str> = cols
            .iter()
            .skip(cols.len() - drawn.clipped)
            .map(|c: &Column| c.title())
            .collect();
        foot_spans.push(Span::styled(
            format!(" · off screen: {} (h hides columns)", cut.join(", ")),
            theme.dim(),
        ));
    }
    let dups = data.duplicate_rows();
    if dups > 0 {
        foot_spans.push(Span::styled(
            format!(" · ⧉ {} duplicate(s) marked", thousands(dups)),
            theme.warn(),
        ));
    }
    f.render_widget(Paragraph::new(Line::from(foot_spans)), foot);
}
