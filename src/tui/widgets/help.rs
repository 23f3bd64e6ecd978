//! `?` help overlay, drawn from the keymap table.

use crate::tui::keymap::{self, Keymap, Scope};
use crate::tui::theme::Theme;
use crate::tui::widgets::centered;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

/// The help text as lines, grouped by scope, from the keymap in force (a
/// user's `keys.toml` included).
pub fn help_lines(theme: &Theme) -> Vec<Line<'static>> {
    lines_for(theme, keymap::current())
}

fn lines_for(theme: &Theme, keymap: &Keymap) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    let bindings = keymap.bindings();
    for scope in Scope::ALL {
        lines.push(Line::from(Span::styled(scope.title(), theme.title())));
        // A command the user left without keys is palette-only: not listed.
        for b in bindings
            .iter()
            .filter(|b| b.scope == scope && !b.keys.is_empty())
        {
            let desc = keymap::info(b.command).map(|i| i.description).unwrap_or("");
            lines.push(Line::from(vec![
                Span::styled(format!("  {:<12}", b.label), theme.key_hint()),
                Span::raw(desc),
            ]));
        }
        lines.push(Line::default());
    }
    lines.push(Line::from(Span::styled(
        "Writes (consume, grant, renew…) have no single key: use the palette (:) — each asks for confirmation.",
        theme.dim(),
    )));
    lines
}

/// Where the overlay sits over the pane area.
fn popup(area: Rect) -> Rect {
    centered(
        area,
        area.width.saturating_sub(4).min(100),
        area.height.saturating_sub(2),
    )
}

/// The furthest the help can scroll in `area`: its last line at the
/// bottom, lines wrapped as drawn (long ones wrap rather than being cut).
pub fn max_scroll(area: Rect) -> u16 {
    let inner = Block::bordered().inner(popup(area));
    let rows = Paragraph::new(help_lines(&Theme { color: false }))
        .wrap(Wrap { trim: false })
        .line_count(inner.width);
    u16::try_from(rows)
        .unwrap_or(u16::MAX)
        .saturating_sub(inner.height)
}

pub fn view(f: &mut Frame, area: Rect, theme: &Theme, scroll: u16) {
    let lines = help_lines(theme);
    let r = popup(area);
    f.render_widget(Clear, r);
    let max = max_scroll(area);
    let title = if max == 0 {
        " Help · any key closes ".to_string()
    } else {
        format!(
            " Help · ↑↓ PgUp/PgDn g/G scroll · line {} of {} · any other key closes ",
            scroll.min(max) + 1,
            max + 1
        )
    };
    let block = Block::bordered()
        .border_style(theme.border_focus())
        .title(title);
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((scroll.min(max), 0)),
        r,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn text(lines: &[Line]) -> String {
        lines
            .iter()
            .map(|l| {
                l.spans
                    .iter()
                    .map(|s| s.content.as_ref())
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn the_help_shows_the_users_keys() {
        let (km, problems) = keymap::file::merge(
            "[bindings]\nrefresh = [\"F5\", \"r\"]\nraw = []\n",
            Path::new("keys.toml"),
        );
        assert_eq!(problems, vec![]);
        let t = text(&lines_for(&Theme { color: false }, &km));
        assert!(
            t.contains("  F5 r        Fetch again from the Store"),
            "{t}"
        );
        // Left without keys, a command is the palette's only.
        assert!(!t.contains("Toggle the raw JSON"), "{t}");
    }
}
