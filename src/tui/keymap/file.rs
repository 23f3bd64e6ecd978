//! `keys.toml`, next to `config.toml`: a user's bindings merged over the
//! built-in table, as gitui and k9s users expect.
//!
//! ```toml
//! [bindings]
//! refresh = ["F5", "r"]   # command (palette) name -> keys
//! quit = "ctrl-q"         # one key may be written without the list
//! ```
//!
//! A listed command's keys replace its built-in keys wherever it is bound.
//! Nothing in the file can stop the console: every entry that is wrong
//! (unknown command, bad key, a write command, a key that would mean two
//! things) is reported with its file and line, and that command keeps its
//! built-in keys.

use super::keys::{self, Key};
use super::{COMMANDS, Command, CommandInfo, Keymap, by_name};
use crossterm::event::{KeyCode, KeyModifiers};
use std::fmt;
use std::path::{Path, PathBuf};
use toml::de::{DeTable, DeValue};

/// Something wrong in the file, where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub path: PathBuf,
    /// 1-based; 0 when the problem is the file as a whole.
    pub line: usize,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.path.display(), self.message)
        } else {
            write!(f, "{}:{}: {}", self.path.display(), self.line, self.message)
        }
    }
}

/// The keymap for a console whose `keys.toml` is at `path`: the built-in
/// table when there is no such file, the user's entries merged over it
/// otherwise, with what was wrong in them.
pub fn load(path: &Path) -> (Keymap, Vec<Problem>) {
    match std::fs::read_to_string(path) {
        Ok(text) => merge(&text, path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (Keymap::defaults(), vec![]),
        Err(e) => (
            Keymap::defaults(),
            vec![Problem {
                path: path.to_path_buf(),
                line: 0,
                message: format!("cannot read it ({e}); the built-in keys are in force"),
            }],
        ),
    }
}

/// What is wrong with the `keys.toml` at `path` (empty: nothing, or no file).
pub fn check(path: &Path) -> Vec<Problem> {
    load(path).1
}

/// One line for the status bar about `problems`, if there are any.
pub fn notice(problems: &[Problem]) -> Option<String> {
    const SHOWN: usize = 3;
    let (first, rest) = (
        problems.iter().take(SHOWN),
        problems.len().saturating_sub(SHOWN),
    );
    let mut text = first
        .map(Problem::to_string)
        .collect::<Vec<_>>()
        .join(" · ");
    if text.is_empty() {
        return None;
    }
    if rest > 0 {
        text.push_str(&format!(" · and {rest} more (in the log)"));
    }
    text.push_str(" — the built-in keys stand for these");
    Some(text)
}

/// An entry the file got right so far.
struct Entry {
    command: Command,
    name: String,
    keys: Vec<Key>,
    line: usize,
}

/// Merge the text of a `keys.toml` (read from `path`, for the messages)
/// over the built-in table.
pub fn merge(text: &str, path: &Path) -> (Keymap, Vec<Problem>) {
    let mut problems = Vec::new();
    let mut problem = |offset: usize, message: String| {
        problems.push(Problem {
            path: path.to_path_buf(),
            line: line_of(text, offset),
            message,
        })
    };
    let root = match DeTable::parse(text) {
        Ok(t) => t.into_inner(),
        Err(e) => {
            let offset = e.span().map(|s| s.start).unwrap_or(0);
            let message = e.message().lines().next().unwrap_or("not TOML").to_string();
            problem(
                offset,
                format!("not valid TOML ({message}); the built-in keys are in force"),
            );
            return (Keymap::defaults(), sorted(problems));
        }
    };
    let mut entries = Vec::new();
    for (name, value) in &root {
        if name.get_ref() != "bindings" {
            problem(
                name.span().start,
                format!(
                    "unknown table or key {:?}: keys.toml holds only [bindings]",
                    name.get_ref()
                ),
            );
            continue;
        }
        let Some(table) = value.get_ref().as_table() else {
            problem(
                value.span().start,
                "[bindings] must be a table: command = [\"key\", …]".into(),
            );
            continue;
        };
        for (cmd_name, keys_value) in table {
            match entry(
                cmd_name.get_ref(),
                keys_value.get_ref(),
                keys_value.span().start,
            ) {
                Ok(keys) => {
                    if let Some(info) = by_name(cmd_name.get_ref()) {
                        entries.push(Entry {
                            command: info.command,
                            name: info.name.to_string(),
                            keys,
                            line: line_of(text, cmd_name.span().start),
                        });
                    }
                }
                Err((offset, message)) => {
                    let offset = offset.unwrap_or(cmd_name.span().start);
                    problem(offset, message);
                }
            }
        }
    }
    let keymap = loop {
        let keymap = build(&entries);
        let Some((key, a, b)) = keymap.conflicts().into_iter().next() else {
            break keymap;
        };
        // Built-in keys never conflict among themselves, so at least one
        // side is the user's: drop it (the later line if both are).
        let ia = entries.iter().position(|e| e.command == a);
        let ib = entries.iter().position(|e| e.command == b);
        let (drop, other) = match (ia, ib) {
            (Some(x), Some(y)) if entries[x].line >= entries[y].line => (x, Some(y)),
            (Some(x), Some(y)) => (y, Some(x)),
            (Some(x), None) => (x, None),
            (None, Some(y)) => (y, None),
            (None, None) => break keymap,
        };
        let other_cmd = if entries[drop].command == a { b } else { a };
        let other_text = match other {
            Some(o) => format!("{} (line {})", entries[o].name, entries[o].line),
            None => format!("{} (built in)", name_of(other_cmd)),
        };
        let gone = entries.remove(drop);
        problems.push(Problem {
            path: path.to_path_buf(),
            line: gone.line,
            message: format!(
                "{} would mean both {} and {other_text} in the same place; {} keeps its built-in keys",
                keys::show(&key),
                gone.name,
                gone.name
            ),
        });
    };
    (keymap, sorted(problems))
}

/// The keys of one `command = …` entry, or where and why it is refused.
fn entry(
    name: &str,
    value: &DeValue<'_>,
    value_offset: usize,
) -> Result<Vec<Key>, (Option<usize>, String)> {
    let info: &CommandInfo = by_name(name).ok_or_else(|| {
        (
            None,
            format!(
                "unknown command {name:?} (the names are the palette's: {}, …)",
                COMMANDS
                    .iter()
                    .take(6)
                    .map(|c| c.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    })?;
    if info.write {
        return Err((
            None,
            format!(
                "{} changes a customer's account: a write has no key, only the palette (:{}) and its confirmation",
                info.name, info.name
            ),
        ));
    }
    if !super::DEFAULTS.iter().any(|b| b.command == info.command) {
        return Err((
            None,
            format!(
                "{} has no key to replace: it is reached from the palette (:{})",
                info.name, info.name
            ),
        ));
    }
    let spelled: Vec<(usize, &str)> = match value {
        DeValue::String(s) => vec![(value_offset, s.as_ref())],
        DeValue::Array(items) => items
            .iter()
            .map(|item| match item.get_ref() {
                DeValue::String(s) => Ok((item.span().start, s.as_ref())),
                other => Err((
                    Some(item.span().start),
                    format!(
                        "{}: a key is a string like \"ctrl-r\", not a {}",
                        info.name,
                        other.type_str()
                    ),
                )),
            })
            .collect::<Result<_, _>>()?,
        other => {
            return Err((
                Some(value_offset),
                format!(
                    "{}: expected a key or a list of keys, like [\"F5\", \"r\"], not a {}",
                    info.name,
                    other.type_str()
                ),
            ));
        }
    };
    let mut keys: Vec<Key> = Vec::new();
    for (offset, s) in spelled {
        let key = keys::parse(s).map_err(|e| (Some(offset), format!("{}: {e}", info.name)))?;
        let ctrl_c = Key::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        if key.same_press(&ctrl_c) && info.command != Command::Quit {
            return Err((
                Some(offset),
                format!(
                    "{}: Ctrl-C always quits; it cannot mean anything else",
                    info.name
                ),
            ));
        }
        if info.command.precedes_text() && key.is_printable() {
            return Err((
                Some(offset),
                format!(
                    "{}: {:?} would never reach the text field it is typed into; use a key that types nothing (Enter, Esc, ctrl-…, F-keys)",
                    info.name, s
                ),
            ));
        }
        if !keys.iter().any(|k| k.same_press(&key)) {
            keys.push(key);
        }
    }
    if keys.is_empty() && info.command.must_keep_a_key() {
        return Err((
            Some(value_offset),
            format!(
                "{}: needs at least one key, or forms and flows could not be left",
                info.name
            ),
        ));
    }
    Ok(keys)
}

fn build(entries: &[Entry]) -> Keymap {
    let mut keymap = Keymap::defaults();
    for e in entries {
        let mut keys = e.keys.clone();
        // Ctrl-C quits whatever the file says (the terminal must always be
        // recoverable), so the help must say so too.
        let ctrl_c = Key::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        if e.command == Command::Quit && !keys.iter().any(|k| k.same_press(&ctrl_c)) {
            keys.push(ctrl_c);
        }
        keymap.rebind(e.command, &keys);
    }
    keymap
}

fn name_of(command: Command) -> &'static str {
    super::info(command).map(|i| i.name).unwrap_or("?")
}

fn sorted(mut problems: Vec<Problem>) -> Vec<Problem> {
    problems.sort_by_key(|p| p.line);
    problems
}

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::keymap::Scope;
    use crossterm::event::KeyEvent;

    fn merged(text: &str) -> (Keymap, Vec<Problem>) {
        merge(text, Path::new("/home/u/.config/storedesk/keys.toml"))
    }

    fn press(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn a_listed_command_replaces_its_keys() {
        let (km, problems) = merged("[bindings]\nrefresh = [\"F5\", \"R\"]\nquit = \"ctrl-q\"\n");
        assert_eq!(problems, vec![]);
        let none = KeyModifiers::NONE;
        assert_eq!(
            km.lookup(&press(KeyCode::F(5), none), Scope::Lists),
            Some(Command::Refresh)
        );
        assert_eq!(
            km.lookup(&press(KeyCode::Char('R'), none), Scope::Lists),
            Some(Command::Refresh)
        );
        assert_eq!(
            km.lookup(&press(KeyCode::Char('r'), none), Scope::Lists),
            None
        );
        let ctrl = KeyModifiers::CONTROL;
        assert_eq!(
            km.lookup(&press(KeyCode::Char('q'), ctrl), Scope::Global),
            Some(Command::Quit)
        );
        assert_eq!(
            km.lookup(&press(KeyCode::Char('q'), none), Scope::Global),
            None
        );
        // Ctrl-C always quits, and the help says so.
        assert_eq!(
            km.lookup(&press(KeyCode::Char('c'), ctrl), Scope::Global),
            Some(Command::Quit)
        );
        assert_eq!(km.label(Command::Quit), Some("Ctrl-Q Ctrl-C"));
        assert_eq!(km.label(Command::Refresh), Some("F5 R"));
        // Untouched commands keep their built-in keys and labels.
        assert_eq!(km.label(Command::Copy), Some("y"));
    }

    #[test]
    fn pane_hints_show_the_rebound_keys() {
        use crate::tui::keymap::{Command, hints_in};
        let entries: &[crate::tui::keymap::Hint] = &[
            (&[Command::Filter], "filter"),
            (&[Command::SortNext, Command::SortReverse], "sort"),
            (&[Command::Copy], "copy"),
            (&[], ":consume"),
        ];
        let defaults = hints_in(&Keymap::defaults(), entries);
        assert_eq!(defaults, "/ filter · s/S sort · y copy · :consume");
        let (km, problems) = merged("[bindings]\ncopy = [\"Y\", \"ctrl-y\"]\nfilter = \"f\"\n");
        assert_eq!(problems, vec![]);
        let line = hints_in(&km, entries);
        assert_eq!(line, "f filter · s/S sort · Y copy · :consume");
    }

    #[test]
    fn a_command_is_rebound_in_every_scope_it_has() {
        let (km, problems) = merged("[bindings]\ndown = [\"n\", \"down\"]\n");
        assert_eq!(problems, vec![]);
        let n = press(KeyCode::Char('n'), KeyModifiers::NONE);
        assert_eq!(km.lookup(&n, Scope::Lists), Some(Command::Down));
        assert_eq!(km.lookup(&n, Scope::Offers), Some(Command::Down));
    }

    #[test]
    fn snake_case_names_work_too() {
        let (km, problems) = merged("[bindings]\nnext_pane = [\"ctrl-n\"]\n");
        assert_eq!(problems, vec![]);
        let k = press(KeyCode::Char('n'), KeyModifiers::CONTROL);
        assert_eq!(km.lookup(&k, Scope::Global), Some(Command::NextPane));
    }

    #[test]
    fn no_file_means_the_defaults() {
        let (km, problems) = load(Path::new("/nonexistent/storedesk/keys.toml"));
        assert_eq!(problems, vec![]);
        assert_eq!(km, Keymap::defaults());
    }

    #[test]
    fn conflicts_are_reported_with_the_line_and_the_defaults_stay() {
        let text = "# my keys\n[bindings]\ncopy = [\"Y\"]\nrefresh = [\"q\"]\n";
        let (km, problems) = merged(text);
        assert_eq!(problems.len(), 1, "{problems:?}");
        let p = &problems[0];
        assert_eq!(p.line, 4);
        assert!(
            p.message.contains("refresh") && p.message.contains("quit (built in)"),
            "{p}"
        );
        assert_eq!(
            p.to_string().split(": ").next(),
            Some("/home/u/.config/storedesk/keys.toml:4")
        );
        let none = KeyModifiers::NONE;
        assert_eq!(
            km.lookup(&press(KeyCode::Char('q'), none), Scope::Global),
            Some(Command::Quit)
        );
        assert_eq!(
            km.lookup(&press(KeyCode::Char('r'), none), Scope::Lists),
            Some(Command::Refresh)
        );
        // The good entry still applies.
        assert_eq!(
            km.lookup(&press(KeyCode::Char('Y'), none), Scope::Lists),
            Some(Command::Copy)
        );
        assert_eq!(km.conflicts(), vec![]);
    }

    #[test]
    fn two_entries_in_conflict_lose_the_later_one() {
        let text = "[bindings]\nhelp = [\"z\"]\n\ncopy = [\"z\"]\n";
        let (km, problems) = merged(text);
        assert_eq!(problems.len(), 1, "{problems:?}");
        // Entries are read in name order; the later *line* is dropped.
        assert_eq!(problems[0].line, 4);
        assert!(
            problems[0].message.contains("help (line 2)"),
            "{}",
            problems[0]
        );
        let z = press(KeyCode::Char('z'), KeyModifiers::NONE);
        assert_eq!(km.lookup(&z, Scope::Global), Some(Command::Help));
        assert_eq!(km.label(Command::Copy), Some("y"));
    }

    #[test]
    fn a_key_in_scopes_that_never_meet_is_no_conflict() {
        // `o` is Offers in the Key pane, which never meets Entitlements.
        let (km, problems) = merged("[bindings]\nsort = [\"o\"]\n");
        assert_eq!(problems, vec![]);
        let o = press(KeyCode::Char('o'), KeyModifiers::NONE);
        assert_eq!(km.lookup(&o, Scope::Entitlements), Some(Command::SortNext));
        assert_eq!(km.lookup(&o, Scope::Key), Some(Command::Offers));
    }

    #[test]
    fn a_dropped_entry_can_uncover_another_conflict() {
        // refresh loses (q is quit); its `r` comes back and then clashes
        // with copy's new `r`, so copy loses too.
        let text = "[bindings]\nrefresh = [\"q\"]\ncopy = [\"r\"]\n";
        let (km, problems) = merged(text);
        assert_eq!(
            problems.iter().map(|p| p.line).collect::<Vec<_>>(),
            vec![2, 3]
        );
        assert_eq!(km, Keymap::defaults());
    }

    #[test]
    fn write_commands_cannot_get_a_key() {
        let text = "[bindings]\nhelp = \"F2\"\nconsume = [\"C\"]\nack_clawback = \"ctrl-a\"\n";
        let (km, problems) = merged(text);
        assert_eq!(
            problems.iter().map(|p| p.line).collect::<Vec<_>>(),
            vec![3, 4]
        );
        for p in &problems {
            assert!(p.message.contains("a write has no key"), "{p}");
        }
        for c in COMMANDS.iter().filter(|c| c.write) {
            assert_eq!(km.label(c.command), None, "{}", c.name);
        }
        assert_eq!(km.label(Command::Help), Some("F2"));
    }

    #[test]
    fn unknown_names_and_bad_keys_are_reported_where_they_are() {
        let text = "[bindings]\nrefrsh = \"F5\"\ncopy = [\n  \"y\",\n  \"ctrl-enterr\",\n]\nhelp = 5\n\n[colors]\nx = 1\n";
        let (km, problems) = merged(text);
        let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![2, 5, 7, 9], "{problems:?}");
        assert!(problems[0].message.contains("unknown command \"refrsh\""));
        assert!(problems[1].message.contains("\"ctrl-enterr\" is not a key"));
        assert!(
            problems[2].message.contains("not a integer")
                || problems[2].message.contains("integer")
        );
        assert!(problems[3].message.contains("only [bindings]"));
        assert_eq!(km, Keymap::defaults());
    }

    #[test]
    fn broken_toml_is_one_problem_with_its_line() {
        let (km, problems) = merged("[bindings]\nquit = [\"q\"\nhelp = \"?\"\n");
        assert_eq!(problems.len(), 1);
        assert!(problems[0].line >= 2, "{}", problems[0]);
        assert!(problems[0].message.contains("not valid TOML"));
        assert_eq!(km, Keymap::defaults());
    }

    #[test]
    fn form_keys_must_not_be_typable_and_ctrl_c_stays_quit() {
        let text = "[bindings]\nsubmit = [\"y\"]\ncancel = []\nhelp = \"ctrl-c\"\n";
        let (_, problems) = merged(text);
        assert_eq!(
            problems.iter().map(|p| p.line).collect::<Vec<_>>(),
            vec![2, 3, 4]
        );
        assert!(problems[0].message.contains("never reach the text field"));
        assert!(problems[1].message.contains("at least one key"));
        assert!(problems[2].message.contains("Ctrl-C always quits"));
    }

    #[test]
    fn check_reads_the_file() {
        let dir = std::env::temp_dir().join(format!("storedesk-keys-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("keys.toml");
        let _ = std::fs::write(&path, "[bindings]\nrenew = \"R\"\n");
        let problems = check(&path);
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].line, 2);
        assert!(
            problems[0]
                .to_string()
                .starts_with(&format!("{}:2: renew", path.display()))
        );
    }

    #[test]
    fn the_readme_example_is_accepted() {
        let readme = include_str!("../../../README.md");
        let example = readme
            .split("### Your own keys")
            .nth(1)
            .and_then(|s| s.split("```toml\n").nth(1))
            .and_then(|s| s.split("```").next())
            .unwrap_or_default();
        assert!(example.contains("[bindings]"), "README example not found");
        let (km, problems) = merged(example);
        assert_eq!(problems, vec![]);
        assert_ne!(km, Keymap::defaults());
        assert_eq!(km.label(Command::RawView), None);
    }

    #[test]
    fn the_notice_names_the_first_problems() {
        let p = |line| Problem {
            path: PathBuf::from("keys.toml"),
            line,
            message: "m".into(),
        };
        assert_eq!(notice(&[]), None);
        let n = notice(&[p(1), p(2), p(3), p(4), p(5)]).unwrap_or_default();
        assert!(
            n.starts_with("keys.toml:1: m · keys.toml:2: m · keys.toml:3: m · and 2 more"),
            "{n}"
        );
    }
}
