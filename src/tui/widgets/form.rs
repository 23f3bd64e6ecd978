//! A small form of labelled text fields, for the few writes that need more
//! than a selected row: a consume's quantity, a grant's availabilityId.
//! Enter submits (the caller validates), Esc cancels, Tab / ↑ ↓ move.

use crate::tui::keymap::{self, Command, Scope};
use crate::tui::theme::Theme;
use crate::tui::widgets::centered;
use crossterm::event::{Event, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;

#[derive(Debug)]
pub struct FormField {
    pub label: &'static str,
    pub hint: &'static str,
    pub input: Input,
    /// A credential: drawn as dots, never as text.
    pub secret: bool,
}

#[derive(Debug)]
pub struct Form {
    pub title: String,
    /// Lines above the fields: what to pick from (e.g. the catalog's free
    /// products for a grant).
    pub intro: Vec<String>,
    pub fields: Vec<FormField>,
    pub focus: usize,
    /// Why the last submit was refused, shown under the fields.
    pub error: Option<String>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum FormOutcome {
    Editing,
    Cancelled,
    Submitted,
}

impl Form {
    pub fn new(title: impl Into<String>, fields: &[(&'static str, &'static str, &str)]) -> Self {
        Self {
            title: title.into(),
            intro: Vec::new(),
            fields: fields
                .iter()
                .map(|(label, hint, value)| FormField {
                    label,
                    hint,
                    input: Input::new((*value).to_string()),
                    secret: false,
                })
                .collect(),
            focus: 0,
            error: None,
        }
    }

    /// Lines to show above the fields.
    pub fn with_intro(mut self, lines: Vec<String>) -> Self {
        self.intro = lines;
        self
    }

    /// Mark field `i` as a credential.
    pub fn secret(mut self, i: usize) -> Self {
        if let Some(f) = self.fields.get_mut(i) {
            f.secret = true;
        }
        self
    }

    /// The trimmed text of field `i`.
    pub fn value(&self, i: usize) -> &str {
        self.fields
            .get(i)
            .map(|f| f.input.value().trim())
            .unwrap_or("")
    }

    pub fn on_key(&mut self, k: KeyEvent) -> FormOutcome {
        let n = self.fields.len().max(1);
        match keymap::lookup(&k, Scope::Forms) {
            Some(Command::Cancel) => return FormOutcome::Cancelled,
            Some(Command::Submit) => return FormOutcome::Submitted,
            Some(Command::NextField) => self.focus = (self.focus + 1) % n,
            Some(Command::PrevField) => self.focus = (self.focus + n - 1) % n,
            _ => {
                if let Some(f) = self.fields.get_mut(self.focus) {
                    f.input.handle_event(&Event::Key(k));
                    self.error = None;
                }
            }
        }
        FormOutcome::Editing
    }

    /// Text pasted into the focused field.
    pub fn insert_str(&mut self, s: &str) {
        if let Some(f) = self.fields.get_mut(self.focus) {
            let v = format!("{}{}", f.input.value(), s.trim());
            f.input = Input::new(v);
        }
    }

    pub fn view(&self, f: &mut Frame, area: Rect, theme: &Theme) {
        let w = area.width.saturating_sub(6).min(80);
        let inner = usize::from(w.saturating_sub(2)).max(1);
        // Long hints and errors wrap: count the rows they really take.
        let rows = |chars: usize| chars.div_ceil(inner).max(1) as u16;
        let field_rows: u16 = self
            .fields
            .iter()
            .map(|fld| {
                rows(16 + fld.input.value().chars().count().max(1) + 1 + fld.hint.chars().count())
            })
            .sum();
        let error_rows = self
            .error
            .as_ref()
            .map_or(0, |e| rows(e.chars().count() + 2));
        let footer = rows(78);
        let intro_rows: u16 = self
            .intro
            .iter()
            .map(|l| rows(l.chars().count()))
            .sum::<u16>()
            + u16::from(!self.intro.is_empty());
        let h = (intro_rows + field_rows + error_rows + 1 + footer + 2).min(area.height);
        let r = centered(area, w, h);
        f.render_widget(Clear, r);
        let mut lines: Vec<Line> = self
            .intro
            .iter()
            .map(|l| Line::from(Span::styled(l.clone(), theme.dim())))
            .collect();
        if !self.intro.is_empty() {
            lines.push(Line::default());
        }
        lines.extend(
            self.fields
                .iter()
                .enumerate()
                .map(|(i, fld)| {
                    let focused = i == self.focus;
                    let mut spans = vec![
                        Span::styled(
                            format!("{:<16}", fld.label),
                            if focused {
                                theme.key_hint()
                            } else {
                                theme.dim()
                            },
                        ),
                        Span::raw(if fld.secret && !fld.input.value().is_empty() {
                            let n = fld.input.value().chars().count();
                            format!("{} ({n} characters, hidden)", "•".repeat(n.min(12)))
                        } else {
                            fld.input.value().to_string()
                        }),
                    ];
                    if focused {
                        spans.push(Span::styled("▏", theme.key_hint()));
                    }
                    if fld.input.value().is_empty() {
                        spans.push(Span::styled(format!(" {}", fld.hint), theme.dim()));
                    }
                    Line::from(spans)
                })
                .collect::<Vec<_>>(),
        );
        if let Some(e) = &self.error {
            lines.push(Line::from(Span::styled(format!("✗ {e}"), theme.bad())));
        }
        lines.push(Line::default());
        lines.push(Line::from(Span::styled(
            "Enter: review the request (nothing is sent yet) · Tab next field · Esc cancel",
            theme.dim(),
        )));
        let block = Block::bordered()
            .border_style(theme.border_focus())
            .title(format!(" {} ", self.title));
        f.render_widget(
            Paragraph::new(lines)
                .block(block)
                .wrap(Wrap { trim: false }),
            r,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyCode, KeyModifiers};

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    #[test]
    fn typing_moves_and_submits() {
        let mut f = Form::new("t", &[("a", "", "1"), ("b", "hint", "")]);
        f.on_key(key(KeyCode::Char('2')));
        assert_eq!(f.value(0), "12");
        f.on_key(key(KeyCode::Tab));
        f.insert_str("  x ");
        assert_eq!(f.value(1), "x");
        assert_eq!(f.on_key(key(KeyCode::Enter)), FormOutcome::Submitted);
        assert_eq!(f.on_key(key(KeyCode::Esc)), FormOutcome::Cancelled);
    }
}
