//! The demo-customer picker: on the embedded sandbox, a first-time user has
//! keys to look at without a device to mint them.

use crate::sandbox::DemoCustomer;
use crate::tui::theme::Theme;
use crate::tui::widgets::centered;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

pub fn view(f: &mut Frame, area: Rect, theme: &Theme, customers: &[DemoCustomer], selected: usize) {
    let h = (customers.len() as u16 + 2).min(area.height);
    let r = centered(area, area.width.saturating_sub(6).min(110), h);
    f.render_widget(Clear, r);
    let lines: Vec<Line> = customers
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let line = Line::from(vec![
                Span::styled(format!(" {:<8}", c.name), theme.title()),
                Span::raw(format!("{:<26}", c.user_id)),
                Span::styled(c.about.clone(), theme.dim()),
            ]);
            if i == selected {
                line.style(theme.selected())
            } else {
                line
            }
        })
        .collect();
    let block = Block::bordered()
        .border_style(theme.border_focus())
        .title(" Demo customers · Enter loads both keys · Esc closes ");
    f.render_widget(Paragraph::new(lines).block(block), r);
}
