//! The one confirmation dialog every write goes through. It holds the
//! Effect it confirms and hands it back only on an explicit confirmation:
//! Enter in SANDBOX, the typed product id in RETAIL. Esc always cancels.

use crate::config::Environment;
use crate::tui::action::Effect;
use crate::tui::keymap::{self, Command, Scope};
use crate::tui::theme::Theme;
use crate::tui::widgets::centered;
use crossterm::event::{Event, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Wrap};
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;

pub struct ConfirmDialog {
    pub title: String,
    pub environment: Environment,
    pub customer: String,
    pub endpoint: String,
    /// The exact request body, secrets masked.
    pub body: String,
    pub expected_effect: String,
    /// What the operator must type to confirm (RETAIL), if anything.
    pub must_type: Option<String>,
    pub typed: Input,
    pub mismatch: bool,
    /// Confirming changes only the local journal: the footer says
    /// "records" rather than "sends".
    pub local_only: bool,
    /// Other agents on this customer (`tui::collision::dialog_lines`),
    /// shown under the customer; filled in when the check answers.
    pub others: Vec<String>,
    on_confirm: Effect,
}

impl std::fmt::Debug for ConfirmDialog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfirmDialog")
            .field("title", &self.title)
            .field("environment", &self.environment)
            .finish_non_exhaustive()
    }
}

pub enum ConfirmOutcome {
    Pending,
    Cancelled,
    Confirmed(Effect),
}

impl ConfirmDialog {
    /// `retail_token` is what a RETAIL operator must type (the product id);
    /// in SANDBOX, Enter suffices.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        title: String,
        environment: Environment,
        customer: String,
        endpoint: String,
        body: String,
        expected_effect: String,
        retail_token: Option<String>,
        on_confirm: Effect,
    ) -> Self {
        let must_type = match environment {
            Environment::Retail => Some(retail_token.unwrap_or_else(|| "CONFIRM".into())),
            Environment::Sandbox => None,
        };
        Self {
            title,
            environment,
            customer,
            endpoint,
            body,
            expected_effect,
            must_type,
            typed: Input::default(),
            mismatch: false,
            local_only: false,
            others: Vec::new(),
            on_confirm,
        }
    }

    /// For a confirmation that sends nothing (settling a write by hand).
    pub fn local_only(mut self) -> Self {
        self.local_only = true;
        self
    }

    /// The dialog for a journaled write, from the journal's own preview
    /// (secrets masked, the customer by fingerprint).
    pub fn for_write(
        title: String,
        preview: &crate::journal::WritePreview,
        user_id: Option<&str>,
        endpoint: String,
        retail_token: Option<String>,
        on_confirm: Effect,
    ) -> Self {
        let customer = match user_id {
            Some(u) => format!("user {u} · key {}", preview.customer_fingerprint),
            None => format!("key {}", preview.customer_fingerprint),
        };
        Self::new(
            title,
            preview.environment,
            customer,
            endpoint,
            preview.body_pretty.clone(),
            format!(
                "{} · journaled (key {}) before it is sent",
                preview.expected_effect, preview.idempotency_key
            ),
            retail_token,
            on_confirm,
        )
    }

    /// What confirming releases.
    pub fn effect(&self) -> &Effect {
        &self.on_confirm
    }

    pub fn insert_str(&mut self, s: &str) {
        if self.must_type.is_some() {
            let v = format!("{}{}", self.typed.value(), s.trim());
            self.typed = Input::new(v);
        }
    }

    pub fn on_key(&mut self, key: KeyEvent) -> ConfirmOutcome {
        match keymap::lookup(&key, Scope::Forms) {
            Some(Command::Cancel) => ConfirmOutcome::Cancelled,
            Some(Command::Submit) => match &self.must_type {
                Some(want) if self.typed.value().trim() != want => {
                    self.mismatch = true;
                    ConfirmOutcome::Pending
                }
                _ => ConfirmOutcome::Confirmed(self.on_confirm.clone()),
            },
            _ => {
                if self.must_type.is_some() {
                    self.typed.handle_event(&Event::Key(key));
                    self.mismatch = false;
                }
                ConfirmOutcome::Pending
            }
        }
    }

    pub fn view(&self, f: &mut Frame, area: Rect, theme: &Theme) {
        let w = area.width.saturating_sub(4).clamp(40, 90);
        let inner = w.saturating_sub(2).max(1) as usize;
        let wrapped = |s: &str| word_wrapped_rows(s, inner);
        let head_rows = wrapped(&format!("Customer  {}", self.customer))
            + self.others.iter().map(|l| wrapped(l)).sum::<u16>()
            + wrapped(&format!("Request   {}", self.endpoint));
        let effect_rows = wrapped(&format!("Effect    {}", self.expected_effect));
        let prompt_rows = if self.must_type.is_some() { 2 } else { 1 };
        // The prompt and the warnings must stay on screen: when the box
        // would not fit, the request body gives up its last lines (and says
        // how many), never the prompt.
        let fixed = 2 + head_rows + effect_rows + 1 + prompt_rows;
        let body: Vec<String> = self.body.lines().map(|l| format!("  {l}")).collect();
        let all_rows: u16 = body.iter().map(|l| wrapped(l)).sum();
        let room = area.height.saturating_sub(fixed);
        let (shown, body_rows) = if all_rows <= room {
            (body.len(), all_rows)
        } else {
            let mut used = 1; // the "… more lines" row
            let mut n = 0;
            for l in &body {
                let r = wrapped(l);
                if used + r > room {
                    break;
                }
                used += r;
                n += 1;
            }
            (n, used)
        };
        let h = (fixed + body_rows).min(area.height);
        let r = centered(area, w, h);
        f.render_widget(Clear, r);
        let badge = Span::styled(
            format!(" {} ", self.environment),
            theme.badge(self.environment),
        );
        let block = Block::bordered()
            .border_type(BorderType::Double)
            .border_style(theme.warn())
            .title(Line::from(vec![
                Span::raw(" "),
                badge,
                Span::styled(format!(" {} ", self.title), theme.title()),
            ]));
        let mut lines = vec![Line::from(vec![
            Span::styled("Customer  ", theme.dim()),
            Span::raw(self.customer.clone()),
        ])];
        lines.extend(
            self.others
                .iter()
                .map(|l| Line::from(Span::styled(l.clone(), theme.bad()))),
        );
        lines.extend([Line::from(vec![
            Span::styled("Request   ", theme.dim()),
            Span::raw(self.endpoint.clone()),
        ])]);
        for l in &body[..shown] {
            lines.push(Line::from(Span::styled(l.clone(), theme.json_string())));
        }
        if shown < body.len() {
            lines.push(Line::from(Span::styled(
                format!("  … {} more line(s) of the request", body.len() - shown),
                theme.dim(),
            )));
        }
        lines.push(Line::from(vec![
            Span::styled("Effect    ", theme.dim()),
            Span::styled(self.expected_effect.clone(), theme.warn()),
        ]));
        lines.push(Line::default());
        match &self.must_type {
            Some(want) => {
                lines.push(Line::from(vec![
                    Span::raw("Type "),
                    Span::styled(want.clone(), theme.title()),
                    Span::raw(if self.local_only {
                        " and press Enter to record it · Esc cancels"
                    } else {
                        " and press Enter to send · Esc cancels"
                    }),
                ]));
                let mut l = vec![
                    Span::styled("> ", theme.key_hint()),
                    Span::raw(self.typed.value().to_string()),
                ];
                if self.mismatch {
                    l.push(Span::styled("   does not match", theme.bad()));
                }
                lines.push(Line::from(l));
            }
            None => lines.push(Line::from(vec![
                Span::styled("Enter", theme.key_hint()),
                Span::raw(if self.local_only {
                    " records it · "
                } else {
                    " sends it once · "
                }),
                Span::styled("Esc", theme.key_hint()),
                Span::raw(if self.local_only {
                    " cancels (nothing changes)"
                } else {
                    " cancels (nothing is sent)"
                }),
            ])),
        }
        f.render_widget(
            Paragraph::new(lines)
                .block(block)
                .wrap(Wrap { trim: false }),
            r,
        );
    }
}

/// Rows `s` takes when word-wrapped at `width` columns (greedy, like the
/// paragraph's wrapping), so a long line never pushes the prompt off the box.
fn word_wrapped_rows(s: &str, width: usize) -> u16 {
    let width = width.max(1);
    let mut rows = 1usize;
    // The paragraph keeps a line's indent (trim: false); the split below
    // would lose it, as empty words at the start of a row take no room.
    let rest = s.trim_start_matches(' ');
    let mut used = s.len() - rest.len();
    if used > width {
        rows += (used - 1) / width;
        used = (used - 1) % width + 1;
    }
    for (i, word) in rest.split(' ').enumerate() {
        let len = word.chars().count();
        let need = match (i, used) {
            (0, _) => used + len, // right after the indent
            (_, 0) => len,
            _ => used + 1 + len,
        };
        if need <= width {
            used = need;
        } else if len <= width {
            rows += 1;
            used = len;
        } else {
            // A word wider than the box starts a row and is broken across rows.
            rows += usize::from(used > 0) + (len - 1) / width;
            used = (len - 1) % width + 1;
        }
    }
    rows.min(usize::from(u16::MAX)) as u16
}

#[cfg(test)]
mod tests {
    use super::word_wrapped_rows;

    #[test]
    fn rows_follow_word_wrapping() {
        assert_eq!(word_wrapped_rows("", 10), 1);
        assert_eq!(word_wrapped_rows("abc def", 7), 1);
        // "abc def" fits in 7 but not 6: the second word moves down.
        assert_eq!(word_wrapped_rows("abc def", 6), 2);
        assert_eq!(
            word_wrapped_rows("Request   POST /a/very/long/path/segment", 12),
            5
        );
        assert_eq!(word_wrapped_rows("x 123456789012345", 5), 4);
        // An indented body line: the indent takes room too.
        assert_eq!(word_wrapped_rows("  abc def", 9), 1);
        assert_eq!(word_wrapped_rows("  abc def", 8), 2);
    }
}
