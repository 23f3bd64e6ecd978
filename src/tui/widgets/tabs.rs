//! The pane bar along the top.

use crate::tui::panes::PaneId;
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub fn view(f: &mut Frame, area: Rect, theme: &Theme, focus: PaneId) {
    // Narrow terminals get short titles so all seven panes stay visible.
    let full: usize = 11
        + PaneId::ALL
            .iter()
            .map(|p| p.title().len() + 4)
            .sum::<usize>()
        + 20;
    let short = (area.width as usize) < full;
    let mut spans = vec![];
    if !short {
        spans.push(Span::styled(" storedesk ", theme.title()));
    }
    for (i, p) in PaneId::ALL.iter().enumerate() {
        let title = if short { p.short_title() } else { p.title() };
        let text = format!(" {} {} ", i + 1, title);
        if *p == focus {
            spans.push(Span::styled(text, theme.tab_active()));
        } else {
            spans.push(Span::raw(text));
        }
    }
    if !short {
        spans.push(Span::styled("  ? help  : commands", theme.dim()));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}
