//! The one table widget for every list pane: draws only the rows on screen,
//! sizes columns from what is visible (within each column's min/max), shows
//! the sort column, the selection, and says when columns did not fit.
//! It holds no data: the pane hands it a cell function.

use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row, Table};
use std::borrow::Cow;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableColumn {
    pub title: &'static str,
    pub min: u16,
    pub max: u16,
    pub right: bool,
}

/// What to draw. `columns` are the shown ones (hidden columns left out).
pub struct TableSpec<'a> {
    pub columns: &'a [TableColumn],
    pub len: usize,
    pub selected: Option<usize>,
    /// (index into `columns`, descending)
    pub sort: Option<(usize, bool)>,
    /// First row drawn last time; kept when the selection is still on screen.
    pub offset: usize,
}

/// What a draw did, for the pane's scroll bookkeeping.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Drawn {
    pub offset: usize,
    /// Rows that fit below the header.
    pub height: usize,
    /// Columns that did not fit at this width.
    pub clipped: usize,
}

/// First row to draw so `selected` is on screen, moving as little as possible.
pub fn scroll_offset(offset: usize, selected: Option<usize>, height: usize, len: usize) -> usize {
    let height = height.max(1);
    let max_off = len.saturating_sub(height);
    let mut off = offset.min(max_off);
    if let Some(s) = selected {
        if s < off {
            off = s;
        } else if s >= off + height {
            off = s + 1 - height;
        }
    }
    off.min(max_off)
}

fn width_of(s: &str) -> u16 {
    Span::raw(s).width().min(u16::MAX as usize) as u16
}

/// `s` cut to `w` columns with an ellipsis when it had to be cut.
pub fn fit(s: &str, w: u16) -> Cow<'_, str> {
    if width_of(s) <= w {
        return Cow::Borrowed(s);
    }
    let mut out = String::new();
    let mut used = 0u16;
    for ch in s.chars() {
        let cw = width_of(ch.encode_utf8(&mut [0; 4]));
        if used + cw + 1 > w {
            break;
        }
        out.push(ch);
        used += cw;
    }
    if w > 0 {
        out.push('…');
    }
    Cow::Owned(out)
}

/// Column widths for `avail` columns of screen, and how many trailing
/// columns were dropped because even their minimum did not fit. Columns
/// that cannot fit are dropped first, so the width they would have needed
/// goes to the columns that stay (shrinking first would cut words in the
/// kept columns and leave the dropped ones' room empty).
pub fn layout_widths(columns: &[TableColumn], wanted: &[u16], avail: u16) -> (Vec<u16>, usize) {
    let mut used = 0u32;
    let keep = columns
        .iter()
        .take_while(|c| {
            used += u32::from(c.min) + u32::from(used > 0);
            used <= u32::from(avail)
        })
        .count()
        .max(1)
        .min(columns.len());
    let mut w: Vec<u16> = columns[..keep]
        .iter()
        .zip(wanted)
        .map(|(c, &want)| want.clamp(c.min, c.max.max(c.min)))
        .collect();
    let total = |w: &[u16]| -> u32 {
        w.iter().map(|&x| u32::from(x)).sum::<u32>() + w.len().saturating_sub(1) as u32
    };
    // Shrink the column with the most room above its minimum, one at a time.
    while total(&w) > u32::from(avail) {
        let best = w
            .iter()
            .zip(columns)
            .enumerate()
            .filter(|(_, (x, c))| **x > c.min)
            .max_by_key(|(i, (x, c))| (**x - c.min, usize::MAX - i))
            .map(|(i, _)| i);
        match best {
            Some(i) => w[i] -= 1,
            None => break,
        }
    }
    let mut dropped = columns.len() - keep;
    while total(&w) > u32::from(avail) && w.len() > 1 {
        w.pop();
        dropped += 1;
    }
    // A column's maximum only keeps room for the others: with room left
    // over, a column whose text was cut gets it back, so nothing is cut
    // while the right edge stays empty.
    while total(&w) < u32::from(avail) {
        let most_cut = w
            .iter()
            .zip(wanted)
            .enumerate()
            .filter(|(_, (x, want))| **x < **want)
            .max_by_key(|(i, (x, want))| (**want - **x, usize::MAX - i))
            .map(|(i, _)| i);
        match most_cut {
            Some(i) => w[i] += 1,
            None => break,
        }
    }
    (w, dropped)
}

/// Draw the table. `cell(row, col)` gives a cell's text; `row_style(row)`
/// its style (the selection is laid over it).
pub fn render<'c>(
    f: &mut Frame,
    area: Rect,
    theme: &Theme,
    spec: &TableSpec,
    cell: &dyn Fn(usize, usize) -> Cow<'c, str>,
    row_style: &dyn Fn(usize) -> Style,
) -> Drawn {
    let height = area.height.saturating_sub(1) as usize;
    let offset = scroll_offset(spec.offset, spec.selected, height, spec.len);
    let shown: Vec<usize> = (offset..spec.len.min(offset + height)).collect();
    let texts: Vec<Vec<Cow<'c, str>>> = shown
        .iter()
        .map(|&r| (0..spec.columns.len()).map(|c| cell(r, c)).collect())
        .collect();
    let titles: Vec<String> = spec
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| match spec.sort {
            Some((s, desc)) if s == i => format!("{}{}", c.title, if desc { "▼" } else { "▲" }),
            _ => c.title.to_string(),
        })
        .collect();
    let wanted: Vec<u16> = (0..spec.columns.len())
        .map(|c| {
            texts
                .iter()
                .map(|row| width_of(&row[c]))
                .chain(std::iter::once(width_of(&titles[c])))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let (widths, clipped) = layout_widths(spec.columns, &wanted, area.width);
    let n = widths.len();
    let align = |c: usize, s: Cow<'_, str>, w: u16| -> Line<'static> {
        let t = fit(&s, w).into_owned();
        if spec.columns[c].right {
            Line::from(t).right_aligned()
        } else {
            Line::from(t)
        }
    };
    let header = Row::new(
        (0..n)
            .map(|c| {
                let style = if spec.sort.is_some_and(|(s, _)| s == c) {
                    theme.key_hint()
                } else {
                    theme.title()
                };
                Cell::from(align(c, Cow::Borrowed(titles[c].as_str()), widths[c])).style(style)
            })
            .collect::<Vec<_>>(),
    );
    let rows: Vec<Row> = shown
        .iter()
        .zip(texts)
        .map(|(&r, cells)| {
            let style = if spec.selected == Some(r) {
                theme.selected()
            } else {
                row_style(r)
            };
            Row::new(
                cells
                    .into_iter()
                    .take(n)
                    .enumerate()
                    .map(|(c, s)| Cell::from(align(c, s, widths[c])))
                    .collect::<Vec<_>>(),
            )
            .style(style)
        })
        .collect();
    let constraints: Vec<Constraint> = widths.iter().map(|&w| Constraint::Length(w)).collect();
    f.render_widget(
        Table::new(rows, constraints)
            .header(header)
            .column_spacing(1),
        area,
    );
    Drawn {
        offset,
        height,
        clipped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const C: TableColumn = TableColumn {
        title: "x",
        min: 4,
        max: 10,
        right: false,
    };

    #[test]
    fn offset_follows_the_selection() {
        assert_eq!(scroll_offset(0, Some(5), 10, 100), 0);
        assert_eq!(scroll_offset(0, Some(10), 10, 100), 1);
        assert_eq!(scroll_offset(50, Some(20), 10, 100), 20);
        assert_eq!(scroll_offset(95, Some(99), 10, 100), 90);
        assert_eq!(scroll_offset(7, None, 10, 3), 0);
    }

    #[test]
    fn widths_shrink_then_drop_columns() {
        let cols = [C, C, C];
        let (w, d) = layout_widths(&cols, &[10, 10, 10], 40);
        assert_eq!((w, d), (vec![10, 10, 10], 0));
        let (w, d) = layout_widths(&cols, &[10, 10, 10], 20);
        assert_eq!(w.iter().sum::<u16>() + 2, 20);
        assert_eq!(d, 0);
        let (w, d) = layout_widths(&cols, &[10, 10, 10], 9);
        assert_eq!((w, d), (vec![4, 4], 1));
    }

    /// A column that cannot fit is dropped before the others shrink: its
    /// room goes to them, nothing is cut while the right edge stays empty.
    #[test]
    fn dropped_columns_leave_their_room_to_the_kept_ones() {
        let cols = [C, C, C];
        // Three minimums (4 + 4 + 4 and the gaps) need 14: the third
        // cannot fit in 12, and the two kept share all 12.
        let (w, d) = layout_widths(&cols, &[8, 8, 8], 12);
        assert_eq!(d, 1);
        assert_eq!(w.iter().sum::<u16>() + 1, 12, "{w:?}");
    }

    /// Room left over goes to a column cut at its maximum.
    #[test]
    fn spare_room_uncuts_a_column_past_its_maximum() {
        let cols = [C, C];
        let (w, d) = layout_widths(&cols, &[14, 6], 40);
        assert_eq!((w, d), (vec![14, 6], 0));
        let (w, _) = layout_widths(&cols, &[30, 6], 25);
        assert_eq!(w, vec![18, 6], "max 10 widened into the spare room");
    }

    #[test]
    fn fit_adds_an_ellipsis() {
        assert_eq!(fit("abcdef", 10), "abcdef");
        assert_eq!(fit("abcdef", 4), "abc…");
    }
}
