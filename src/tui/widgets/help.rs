//! `?` help overlay, drawn from the keymap table.

use crate::tui::keymap::{self, Keymap, Scope};
use crate::tui::theme::Theme;
use crate::tui::widgets::centered;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

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

pub fn view(f: &mut Frame, area: Rect, theme: &Theme, scroll: u16) {
    let lines = help_lines(theme);
    let r = centered(
        area,
        area.width.saturating_sub(4).min(100),
        area.height.saturating_sub(2),
    );
    f.render_widget(Clear, r);
    let block = Block::bordered()
        .border_style(theme.border_focus())
        .title(" Help · ↑↓ scroll · any other key closes ");
    f.render_widget(Paragraph::new(lines).block(block).scroll((scroll, 0)), r);
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
