//! One key press as `keys.toml` spells it (`ctrl-c`, `shift-tab`, `f5`,
//! `pgdn`, `G`) and as the help overlay shows it (`Ctrl-C`, `Shift-Tab`).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl Key {
    pub const fn new(code: KeyCode, mods: KeyModifiers) -> Self {
        Self { code, mods }
    }

    pub fn matches(&self, key: &KeyEvent) -> bool {
        key.code == self.code && significant(key.modifiers) == significant(self.mods)
    }

    /// The same press, as far as matching can tell them apart.
    pub fn same_press(&self, other: &Key) -> bool {
        self.code == other.code && significant(self.mods) == significant(other.mods)
    }

    /// Typed into a text field when nothing takes it first.
    pub fn is_printable(&self) -> bool {
        matches!(self.code, KeyCode::Char(_)) && significant(self.mods).is_empty()
    }
}

// Terminals disagree on whether an upper-case letter (or Shift-Tab, sent as
// BackTab) carries SHIFT: the key code already says it.
fn significant(mods: KeyModifiers) -> KeyModifiers {
    mods & !KeyModifiers::SHIFT
}

/// Parse one key: optional `ctrl-` / `alt-` / `shift-` prefixes (`+` works
/// too), then a single character or a key name, case-insensitive.
pub fn parse(text: &str) -> Result<Key, String> {
    let mut rest = text.trim();
    let mut mods = KeyModifiers::NONE;
    loop {
        let lower = rest.to_ascii_lowercase();
        let prefix = [
            ("ctrl", KeyModifiers::CONTROL),
            ("control", KeyModifiers::CONTROL),
            ("alt", KeyModifiers::ALT),
            ("shift", KeyModifiers::SHIFT),
        ]
        .into_iter()
        .find_map(|(name, m)| {
            let after = lower.strip_prefix(name)?;
            let sep = after.chars().next().filter(|c| *c == '-' || *c == '+')?;
            // `ctrl--` is Ctrl and the `-` key; `ctrl-` alone is nothing.
            (after.len() > sep.len_utf8()).then_some((name.len() + 1, m))
        });
        match prefix {
            Some((len, m)) => {
                mods |= m;
                rest = &rest[len..];
            }
            None => break,
        }
    }
    if rest.is_empty() {
        return Err(format!("{text:?} names no key"));
    }
    let mut chars = rest.chars();
    let code = match (chars.next(), chars.next()) {
        (Some(c), None) => KeyCode::Char(c),
        _ => named(&rest.to_ascii_lowercase()).ok_or_else(|| {
            format!(
                "{text:?} is not a key (a single character, or enter, esc, tab, space, backspace, delete, insert, up, down, left, right, home, end, pgup, pgdn, f1…f12, with ctrl- / alt- / shift- in front)"
            )
        })?,
    };
    Ok(normalize(code, mods))
}

fn named(name: &str) -> Option<KeyCode> {
    Some(match name {
        "enter" | "return" => KeyCode::Enter,
        "esc" | "escape" => KeyCode::Esc,
        "tab" => KeyCode::Tab,
        "backtab" => KeyCode::BackTab,
        "space" => KeyCode::Char(' '),
        "backspace" | "bksp" => KeyCode::Backspace,
        "delete" | "del" => KeyCode::Delete,
        "insert" | "ins" => KeyCode::Insert,
        "up" => KeyCode::Up,
        "down" => KeyCode::Down,
        "left" => KeyCode::Left,
        "right" => KeyCode::Right,
        "home" => KeyCode::Home,
        "end" => KeyCode::End,
        "pgup" | "pageup" => KeyCode::PageUp,
        "pgdn" | "pgdown" | "pagedown" => KeyCode::PageDown,
        _ => {
            let n: u8 = name.strip_prefix('f')?.parse().ok()?;
            if !(1..=24).contains(&n) {
                return None;
            }
            KeyCode::F(n)
        }
    })
}

/// Spell a press the way crossterm reports it: `shift-g` arrives as `G`,
/// `shift-tab` as BackTab, `ctrl-C` as Ctrl and `c`.
fn normalize(code: KeyCode, mods: KeyModifiers) -> Key {
    let shift = mods.contains(KeyModifiers::SHIFT);
    let ctrl_or_alt = mods.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
    let code = match code {
        KeyCode::Tab if shift => KeyCode::BackTab,
        KeyCode::Char(c) if shift && c.is_alphabetic() => {
            KeyCode::Char(c.to_uppercase().next().unwrap_or(c))
        }
        KeyCode::Char(c) if ctrl_or_alt && !shift && c.is_alphabetic() => {
            KeyCode::Char(c.to_lowercase().next().unwrap_or(c))
        }
        other => other,
    };
    Key::new(code, mods & !KeyModifiers::SHIFT)
}

/// How the help overlay and the palette show a list of keys.
pub fn label(keys: &[Key]) -> String {
    keys.iter().map(show).collect::<Vec<_>>().join(" ")
}

pub fn show(key: &Key) -> String {
    let name = match key.code {
        KeyCode::Char(' ') => "Space".to_string(),
        KeyCode::Char(c)
            if key
                .mods
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
        {
            c.to_uppercase().to_string()
        }
        KeyCode::Char(c) => c.to_string(),
        KeyCode::F(n) => format!("F{n}"),
        KeyCode::Enter => "Enter".into(),
        KeyCode::Esc => "Esc".into(),
        KeyCode::Tab => "Tab".into(),
        KeyCode::BackTab => "Shift-Tab".into(),
        KeyCode::Backspace => "Bksp".into(),
        KeyCode::Delete => "Del".into(),
        KeyCode::Insert => "Ins".into(),
        KeyCode::Up => "↑".into(),
        KeyCode::Down => "↓".into(),
        KeyCode::Left => "←".into(),
        KeyCode::Right => "→".into(),
        KeyCode::Home => "Home".into(),
        KeyCode::End => "End".into(),
        KeyCode::PageUp => "PgUp".into(),
        KeyCode::PageDown => "PgDn".into(),
        other => format!("{other:?}"),
    };
    let mut out = String::new();
    if key.mods.contains(KeyModifiers::CONTROL) {
        out.push_str("Ctrl-");
    }
    if key.mods.contains(KeyModifiers::ALT) {
        out.push_str("Alt-");
    }
    out.push_str(&name);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(code: KeyCode, mods: KeyModifiers) -> Key {
        Key::new(code, mods)
    }

    #[test]
    fn parses_the_spellings_people_write() {
        let none = KeyModifiers::NONE;
        let ctrl = KeyModifiers::CONTROL;
        let cases = [
            ("q", k(KeyCode::Char('q'), none)),
            ("G", k(KeyCode::Char('G'), none)),
            ("shift-g", k(KeyCode::Char('G'), none)),
            ("ctrl-c", k(KeyCode::Char('c'), ctrl)),
            ("Ctrl+C", k(KeyCode::Char('c'), ctrl)),
            ("ctrl--", k(KeyCode::Char('-'), ctrl)),
            ("-", k(KeyCode::Char('-'), none)),
            ("alt-x", k(KeyCode::Char('x'), KeyModifiers::ALT)),
            ("shift-tab", k(KeyCode::BackTab, none)),
            ("F5", k(KeyCode::F(5), none)),
            ("f12", k(KeyCode::F(12), none)),
            ("enter", k(KeyCode::Enter, none)),
            ("Esc", k(KeyCode::Esc, none)),
            ("pgdn", k(KeyCode::PageDown, none)),
            ("PageUp", k(KeyCode::PageUp, none)),
            ("space", k(KeyCode::Char(' '), none)),
            ("ctrl-shift-up", k(KeyCode::Up, ctrl)),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_key() {
        for bad in ["", "ctrl-", "f0", "f25", "pgdwn", "ctrl-enterr", "qq"] {
            assert!(parse(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn a_parsed_key_matches_what_the_terminal_sends() {
        let shift_g = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert!(parse("G").is_ok_and(|k| k.matches(&shift_g)));
        let backtab = KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT);
        assert!(parse("shift-tab").is_ok_and(|k| k.matches(&backtab)));
        let ctrl_q = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::CONTROL);
        assert!(parse("ctrl-q").is_ok_and(|k| k.matches(&ctrl_q)));
        assert!(parse("q").is_ok_and(|k| !k.matches(&ctrl_q)));
    }

    #[test]
    fn labels_read_like_the_built_in_ones() {
        let keys: Vec<Key> = ["F5", "r", "ctrl-q", "shift-tab", "pgdn", "space"]
            .iter()
            .filter_map(|s| parse(s).ok())
            .collect();
        assert_eq!(label(&keys), "F5 r Ctrl-Q Shift-Tab PgDn Space");
    }
}
