//! Colours in one place. NO_COLOR turns colour off (badges keep reverse
//! video so SANDBOX/RETAIL stay unmissable).

use crate::config::Environment;
use ratatui::style::{Color, Modifier, Style};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
}

impl Default for Theme {
    fn default() -> Self {
        Self::from_env()
    }
}

impl Theme {
    pub fn from_env() -> Self {
        Self {
            color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }

    fn pick(&self, s: Style) -> Style {
        if self.color { s } else { Style::default() }
    }

    pub fn badge(&self, env: Environment) -> Style {
        let base = Style::default().add_modifier(Modifier::BOLD);
        if !self.color {
            return base.add_modifier(Modifier::REVERSED);
        }
        match env {
            Environment::Sandbox => base.fg(Color::Black).bg(Color::Yellow),
            Environment::Retail => base.fg(Color::White).bg(Color::Red),
        }
    }

    pub fn status_bar(&self) -> Style {
        self.pick(Style::default().bg(Color::DarkGray).fg(Color::White))
    }

    pub fn title(&self) -> Style {
        Style::default().add_modifier(Modifier::BOLD)
    }

    pub fn dim(&self) -> Style {
        self.pick(Style::default().fg(Color::Gray))
            .add_modifier(Modifier::DIM)
    }

    pub fn key_hint(&self) -> Style {
        self.pick(Style::default().fg(Color::Cyan))
            .add_modifier(Modifier::BOLD)
    }

    pub fn tab_active(&self) -> Style {
        self.pick(Style::default().fg(Color::Black).bg(Color::Cyan))
            .add_modifier(Modifier::BOLD)
    }

    pub fn selected(&self) -> Style {
        self.pick(Style::default().bg(Color::Blue).fg(Color::White))
            .add_modifier(Modifier::REVERSED.union(Modifier::BOLD))
    }

    pub fn good(&self) -> Style {
        self.pick(Style::default().fg(Color::Green))
            .add_modifier(Modifier::BOLD)
    }

    pub fn warn(&self) -> Style {
        self.pick(Style::default().fg(Color::Yellow))
            .add_modifier(Modifier::BOLD)
    }

    pub fn bad(&self) -> Style {
        self.pick(Style::default().fg(Color::Red))
            .add_modifier(Modifier::BOLD)
    }

    pub fn error_text(&self) -> Style {
        self.pick(Style::default().fg(Color::LightRed))
    }

    pub fn json_key(&self) -> Style {
        self.pick(Style::default().fg(Color::Cyan))
    }

    pub fn json_string(&self) -> Style {
        self.pick(Style::default().fg(Color::Green))
    }

    pub fn json_number(&self) -> Style {
        self.pick(Style::default().fg(Color::Magenta))
    }

    pub fn border_focus(&self) -> Style {
        self.pick(Style::default().fg(Color::Cyan))
    }
}
