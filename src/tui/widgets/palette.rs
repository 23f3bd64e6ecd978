//! `:` command palette: fuzzy match over every command of the keymap table.

use crate::tui::keymap::{self, Command, CommandInfo, Scope};
use crate::tui::theme::Theme;
use crate::tui::widgets::centered;
use crossterm::event::{Event, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;

#[derive(Debug, Default)]
pub struct PaletteState {
    pub input: Input,
    pub selected: usize,
    /// Why write commands are hidden (a read-only profile), if they are.
    pub writes_hidden: Option<String>,
}

impl PaletteState {
    /// A palette for this session: a read-only profile hides the writes.
    pub fn new(writes_hidden: Option<String>) -> Self {
        Self {
            writes_hidden,
            ..Self::default()
        }
    }

    pub fn matches(&self) -> Vec<&'static CommandInfo> {
        let mut m = keymap::palette_matches(self.input.value());
        if self.writes_hidden.is_some() {
            m.retain(|c| !c.write);
        }
        m
    }

    pub fn selected_command(&self) -> Option<Command> {
        self.matches().get(self.selected).map(|c| c.command)
    }

    pub fn insert_str(&mut self, s: &str) {
        let v = format!("{}{}", self.input.value(), s.trim());
        self.input = Input::new(v);
        self.selected = 0;
    }

    pub fn on_key(&mut self, key: KeyEvent) {
        let n = self.matches().len();
        match keymap::lookup(&key, Scope::Forms) {
            Some(Command::NextField) => {
                if n > 0 {
                    self.selected = (self.selected + 1) % n;
                }
            }
            Some(Command::PrevField) => {
                if n > 0 {
                    self.selected = (self.selected + n - 1) % n;
                }
            }
            _ => {
                self.input.handle_event(&Event::Key(key));
                self.selected = 0;
            }
        }
    }

    pub fn view(&self, f: &mut Frame, area: Rect, theme: &Theme) {
        let matches = self.matches();
        let rows = (matches.len() as u16).clamp(1, 12);
        let extra = u16::from(self.writes_hidden.is_some());
        let r = centered(area, area.width.saturating_sub(6).min(70), rows + 3 + extra);
        let r = Rect {
            y: area.y + area.height / 6,
            ..r
        };
        f.render_widget(Clear, r);
        let mut lines = vec![Line::from(vec![
            Span::styled(":", theme.key_hint()),
            Span::raw(self.input.value().to_string()),
            Span::styled("▏", theme.key_hint()),
        ])];
        if matches.is_empty() {
            lines.push(Line::from(Span::styled("no command matches", theme.dim())));
        }
        if let Some(why) = &self.writes_hidden {
            lines.push(Line::from(Span::styled(
                format!("write actions hidden: {why}"),
                theme.warn(),
            )));
        }
        let start = self.selected.saturating_sub(rows as usize - 1);
        for (i, c) in matches.iter().enumerate().skip(start).take(rows as usize) {
            let key = keymap::label(c.command).unwrap_or("");
            let mut spans = vec![
                Span::raw(format!(" {:<20}", c.name)),
                Span::styled(format!("{:<10}", key), theme.key_hint()),
                Span::raw(c.description),
            ];
            if c.write {
                spans.push(Span::styled("  (write)", theme.warn()));
            }
            let mut line = Line::from(spans);
            if i == self.selected {
                line = line.style(theme.selected());
            }
            lines.push(line);
        }
        let block = Block::bordered()
            .border_style(theme.border_focus())
            .title(" Commands · Enter runs · Esc closes ");
        f.render_widget(Paragraph::new(lines).block(block), r);
    }
}
