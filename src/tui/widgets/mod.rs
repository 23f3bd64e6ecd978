//! Widgets shared by every pane: the one confirmation dialog, the palette,
//! the help overlay, the status bar and the tab bar.

pub mod confirm;
pub mod demo;
pub mod form;
pub mod help;
pub mod palette;
pub mod status;
pub mod table;
pub mod tabs;

use ratatui::layout::{Constraint, Flex, Layout, Rect};

/// A rectangle of at most `w`×`h` centred in `area`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let [v] = Layout::vertical([Constraint::Length(h.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [r] = Layout::horizontal([Constraint::Length(w.min(area.width))])
        .flex(Flex::Center)
        .areas(v);
    r
}
