//! `?` help overlay, drawn from the keymap table.

use crate::tui::keymap::{self, BINDINGS, Scope};
use crate::tui::theme::Theme;
use crate::tui::widgets::centered;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

/// The help text as lines, grouped by scope (also used by the README check).
pub fn help_lines(theme: &Theme) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    for scope in [Scope::Global, Scope::Lists, Scope::Key, Scope::Entitlements] {
        lines.push(Line::from(Span::styled(scope.title(), theme.title())));
        for b in BINDINGS.iter().filter(|b| b.scope == scope) {
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
