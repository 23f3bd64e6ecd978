//! The one empty-state look: a pane with nothing to show says what to do next.

use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

/// The one empty-state look, shared by every pane.
pub fn draw_empty(f: &mut Frame, area: Rect, theme: &Theme, headline: &str, next_step: &str) {
    let top = area.height.saturating_sub(4) / 2;
    let mut lines: Vec<Line> = (0..top).map(|_| Line::default()).collect();
    lines.push(Line::from(Span::styled(headline.to_string(), theme.title())).centered());
    lines.push(Line::default());
    lines.push(Line::from(Span::styled(next_step.to_string(), theme.dim())).centered());
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), area);
}
