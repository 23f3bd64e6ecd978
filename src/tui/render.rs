//! Render the console to text without a terminal: used by snapshot tests
//! and benchmarks (ratatui's TestBackend).

use crate::tui::app::App;
use crate::tui::theme::Theme;
use crate::tui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;

/// Draw `app` on a `w`×`h` test terminal and return the buffer.
pub fn render_buffer(app: &App, w: u16, h: u16) -> Buffer {
    let theme = Theme { color: true };
    let mut term = match Terminal::new(TestBackend::new(w, h)) {
        Ok(t) => t,
        Err(e) => match e {},
    };
    let _ = term.draw(|f| view::draw(f, app, &theme));
    term.backend().buffer().clone()
}

/// The screen as plain text, one line per row, trailing spaces trimmed.
pub fn render_text(app: &App, w: u16, h: u16) -> String {
    buffer_text(&render_buffer(app, w, h))
}

pub fn buffer_text(buf: &Buffer) -> String {
    let area = buf.area;
    let mut out = String::with_capacity((area.width as usize + 1) * area.height as usize);
    for y in 0..area.height {
        let mut line = String::new();
        for x in 0..area.width {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
