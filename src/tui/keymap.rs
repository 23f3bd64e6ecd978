//! The one table of key bindings and commands. Key matching, the `?` help
//! overlay and the `:` palette are all drawn from it, so they cannot disagree.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Everything a user can ask for, by key or by palette.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Command {
    Quit,
    Help,
    Palette,
    NextPane,
    PrevPane,
    Pane(usize),
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Open,
    Back,
    Copy,
    Export,
    Refresh,
    Filter,
    EditKey,
    PasteKey,
    ClearKey,
    DemoCustomer,
    Offers,
    ReplayPending,
    ResolvePending,
    RawView,
    Renew,
    Consume,
    Grant,
    CancelSubscription,
    ExtendSubscription,
    RefundSubscription,
    AutoRenewOff,
    AckClawback,
    ToggleValidity,
    ToggleDuplicates,
    SortNext,
    SortReverse,
    HideColumn,
    ShowColumns,
}

/// Where a binding applies; the help overlay groups by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Global,
    Lists,
    Key,
    Entitlements,
}

impl Scope {
    pub fn title(self) -> &'static str {
        match self {
            Scope::Global => "Anywhere",
            Scope::Lists => "Lists and tables",
            Scope::Key => "Key pane",
            Scope::Entitlements => "Entitlements",
        }
    }
}

pub struct Binding {
    pub keys: &'static [(KeyCode, KeyModifiers)],
    pub label: &'static str,
    pub command: Command,
    pub scope: Scope,
}

pub struct CommandInfo {
    pub command: Command,
    /// Palette name, typed after `:`.
    pub name: &'static str,
    pub description: &'static str,
    /// Changes a customer's account: only ever reached through confirmation.
    pub write: bool,
}

const NONE: KeyModifiers = KeyModifiers::NONE;
const CTRL: KeyModifiers = KeyModifiers::CONTROL;
const SHIFT: KeyModifiers = KeyModifiers::SHIFT;

use KeyCode::*;

pub const BINDINGS: &[Binding] = &[
    Binding {
        keys: &[(Char('?'), NONE), (F(1), NONE)],
        label: "?",
        command: Command::Help,
        scope: Scope::Global,
    },
    Binding {
        keys: &[(Char(':'), NONE)],
        label: ":",
        command: Command::Palette,
        scope: Scope::Global,
    },
    Binding {
        keys: &[(Tab, NONE)],
        label: "Tab",
        command: Command::NextPane,
        scope: Scope::Global,
    },
    Binding {
        keys: &[(BackTab, SHIFT), (BackTab, NONE)],
        label: "Shift-Tab",
        command: Command::PrevPane,
        scope: Scope::Global,
    },
    Binding {
        keys: &[(Char('1'), NONE)],
        label: "1",
        command: Command::Pane(0),
        scope: Scope::Global,
    },
    Binding {
        keys: &[(Char('2'), NONE)],
        label: "2",
        command: Command::Pane(1),
        scope: Scope::Global,
    },
    Binding {
        keys: &[(Char('3'), NONE)],
        label: "3",
        command: Command::Pane(2),
        scope: Scope::Global,
    },
    Binding {
        keys: &[(Char('4'), NONE)],
        label: "4",
        command: Command::Pane(3),
        scope: Scope::Global,
    },
    Binding {
        keys: &[(Char('5'), NONE)],
        label: "5",
        command: Command::Pane(4),
        scope: Scope::Global,
    },
    Binding {
        keys: &[(Char('6'), NONE)],
        label: "6",
        command: Command::Pane(5),
        scope: Scope::Global,
    },
    Binding {
        keys: &[(Char('7'), NONE)],
        label: "7",
        command: Command::Pane(6),
        scope: Scope::Global,
    },
    Binding {
        keys: &[(Char('v'), CTRL)],
        label: "Ctrl-V",
        command: Command::PasteKey,
        scope: Scope::Global,
    },
    Binding {
        keys: &[(Char('q'), NONE), (Char('c'), CTRL)],
        label: "q / Ctrl-C",
        command: Command::Quit,
        scope: Scope::Global,
    },
    Binding {
        keys: &[(Char('k'), NONE), (Up, NONE)],
        label: "k ↑",
        command: Command::Up,
        scope: Scope::Lists,
    },
    Binding {
        keys: &[(Char('j'), NONE), (Down, NONE)],
        label: "j ↓",
        command: Command::Down,
        scope: Scope::Lists,
    },
    Binding {
        keys: &[(PageUp, NONE), (Char('b'), CTRL)],
        label: "PgUp",
        command: Command::PageUp,
        scope: Scope::Lists,
    },
    Binding {
        keys: &[(PageDown, NONE), (Char('f'), CTRL)],
        label: "PgDn",
        command: Command::PageDown,
        scope: Scope::Lists,
    },
    Binding {
        keys: &[(Char('g'), NONE), (Home, NONE)],
        label: "g Home",
        command: Command::Top,
        scope: Scope::Lists,
    },
    Binding {
        keys: &[(Char('G'), SHIFT), (Char('G'), NONE), (End, NONE)],
        label: "G End",
        command: Command::Bottom,
        scope: Scope::Lists,
    },
    Binding {
        keys: &[(Enter, NONE)],
        label: "Enter",
        command: Command::Open,
        scope: Scope::Lists,
    },
    Binding {
        keys: &[(Esc, NONE)],
        label: "Esc",
        command: Command::Back,
        scope: Scope::Lists,
    },
    Binding {
        keys: &[(Char('y'), NONE)],
        label: "y",
        command: Command::Copy,
        scope: Scope::Lists,
    },
    Binding {
        keys: &[(Char('e'), NONE)],
        label: "e",
        command: Command::Export,
        scope: Scope::Lists,
    },
    Binding {
        keys: &[(Char('r'), NONE)],
        label: "r",
        command: Command::Refresh,
        scope: Scope::Lists,
    },
    Binding {
        keys: &[(Char('/'), NONE)],
        label: "/",
        command: Command::Filter,
        scope: Scope::Lists,
    },
    Binding {
        keys: &[(Char('i'), NONE), (Char('a'), NONE)],
        label: "i",
        command: Command::EditKey,
        scope: Scope::Key,
    },
    Binding {
        keys: &[(Char('x'), NONE)],
        label: "x",
        command: Command::ClearKey,
        scope: Scope::Key,
    },
    Binding {
        keys: &[(Char('o'), NONE)],
        label: "o",
        command: Command::Offers,
        scope: Scope::Key,
    },
    Binding {
        keys: &[(Char('d'), NONE)],
        label: "d",
        command: Command::DemoCustomer,
        scope: Scope::Key,
    },
    Binding {
        keys: &[(Char('J'), SHIFT), (Char('J'), NONE)],
        label: "J",
        command: Command::RawView,
        scope: Scope::Key,
    },
    Binding {
        keys: &[(Char('s'), NONE)],
        label: "s",
        command: Command::SortNext,
        scope: Scope::Entitlements,
    },
    Binding {
        keys: &[(Char('S'), SHIFT), (Char('S'), NONE)],
        label: "S",
        command: Command::SortReverse,
        scope: Scope::Entitlements,
    },
    Binding {
        keys: &[(Char('h'), NONE)],
        label: "h",
        command: Command::HideColumn,
        scope: Scope::Entitlements,
    },
    Binding {
        keys: &[(Char('H'), SHIFT), (Char('H'), NONE)],
        label: "H",
        command: Command::ShowColumns,
        scope: Scope::Entitlements,
    },
    Binding {
        keys: &[(Char('V'), SHIFT), (Char('V'), NONE)],
        label: "V",
        command: Command::ToggleValidity,
        scope: Scope::Entitlements,
    },
    Binding {
        keys: &[(Char('D'), SHIFT), (Char('D'), NONE)],
        label: "D",
        command: Command::ToggleDuplicates,
        scope: Scope::Entitlements,
    },
];

pub const COMMANDS: &[CommandInfo] = &[
    CommandInfo {
        command: Command::Help,
        name: "help",
        description: "Show key bindings",
        write: false,
    },
    CommandInfo {
        command: Command::Palette,
        name: "palette",
        description: "Open the command palette",
        write: false,
    },
    CommandInfo {
        command: Command::Quit,
        name: "quit",
        description: "Quit storedesk",
        write: false,
    },
    CommandInfo {
        command: Command::NextPane,
        name: "next-pane",
        description: "Go to the next pane",
        write: false,
    },
    CommandInfo {
        command: Command::PrevPane,
        name: "prev-pane",
        description: "Go to the previous pane",
        write: false,
    },
    CommandInfo {
        command: Command::Pane(0),
        name: "key",
        description: "Go to the Key pane",
        write: false,
    },
    CommandInfo {
        command: Command::Pane(1),
        name: "entitlements",
        description: "Go to the Entitlements pane",
        write: false,
    },
    CommandInfo {
        command: Command::Pane(2),
        name: "orders",
        description: "Go to the Orders pane",
        write: false,
    },
    CommandInfo {
        command: Command::Pane(3),
        name: "subscriptions",
        description: "Go to the Subscriptions pane",
        write: false,
    },
    CommandInfo {
        command: Command::Pane(4),
        name: "clawbacks",
        description: "Go to the Clawbacks pane",
        write: false,
    },
    CommandInfo {
        command: Command::Pane(5),
        name: "timeline",
        description: "Go to the Timeline pane",
        write: false,
    },
    CommandInfo {
        command: Command::Pane(6),
        name: "audit",
        description: "Go to the Audit pane",
        write: false,
    },
    CommandInfo {
        command: Command::Up,
        name: "up",
        description: "Move up",
        write: false,
    },
    CommandInfo {
        command: Command::Down,
        name: "down",
        description: "Move down",
        write: false,
    },
    CommandInfo {
        command: Command::PageUp,
        name: "page-up",
        description: "Move a page up",
        write: false,
    },
    CommandInfo {
        command: Command::PageDown,
        name: "page-down",
        description: "Move a page down",
        write: false,
    },
    CommandInfo {
        command: Command::Top,
        name: "top",
        description: "Go to the first row",
        write: false,
    },
    CommandInfo {
        command: Command::Bottom,
        name: "bottom",
        description: "Go to the last row",
        write: false,
    },
    CommandInfo {
        command: Command::Open,
        name: "open",
        description: "Open the detail view",
        write: false,
    },
    CommandInfo {
        command: Command::Back,
        name: "back",
        description: "Close / cancel / go back",
        write: false,
    },
    CommandInfo {
        command: Command::Copy,
        name: "copy",
        description: "Copy the selection to the clipboard",
        write: false,
    },
    CommandInfo {
        command: Command::Export,
        name: "export",
        description: "Export the visible rows (CSV or JSON)",
        write: false,
    },
    CommandInfo {
        command: Command::Refresh,
        name: "refresh",
        description: "Fetch again from the Store",
        write: false,
    },
    CommandInfo {
        command: Command::Filter,
        name: "filter",
        description: "Filter the list",
        write: false,
    },
    CommandInfo {
        command: Command::EditKey,
        name: "edit-key",
        description: "Type or edit a key in the Key pane",
        write: false,
    },
    CommandInfo {
        command: Command::PasteKey,
        name: "paste",
        description: "Paste a key from the clipboard",
        write: false,
    },
    CommandInfo {
        command: Command::ClearKey,
        name: "clear-key",
        description: "Forget the keys of this case",
        write: false,
    },
    CommandInfo {
        command: Command::ReplayPending,
        name: "replay",
        description: "Send pending writes again with their original keys (asks for confirmation)",
        write: true,
    },
    CommandInfo {
        command: Command::ResolvePending,
        name: "resolve",
        description: "Settle a pending write by hand after checking the Store (asks for the outcome and a note)",
        write: true,
    },
    CommandInfo {
        command: Command::Offers,
        name: "offers",
        description: "Targeted offers of a user (MSA token); claim one (asks for confirmation)",
        write: false,
    },
    CommandInfo {
        command: Command::DemoCustomer,
        name: "demo",
        description: "Load a demo customer's keys (embedded sandbox)",
        write: false,
    },
    CommandInfo {
        command: Command::RawView,
        name: "raw",
        description: "Toggle the raw JSON of the key",
        write: false,
    },
    CommandInfo {
        command: Command::Renew,
        name: "renew",
        description: "Renew the key (asks for confirmation)",
        write: true,
    },
    CommandInfo {
        command: Command::Consume,
        name: "consume",
        description: "Consume a consumable (asks for confirmation)",
        write: true,
    },
    CommandInfo {
        command: Command::Grant,
        name: "grant",
        description: "Grant a free product (asks for confirmation)",
        write: true,
    },
    CommandInfo {
        command: Command::CancelSubscription,
        name: "cancel-subscription",
        description: "Cancel the selected subscription (asks for confirmation)",
        write: true,
    },
    CommandInfo {
        command: Command::ExtendSubscription,
        name: "extend-subscription",
        description: "Extend the selected subscription by N days (asks the days, then confirmation)",
        write: true,
    },
    CommandInfo {
        command: Command::RefundSubscription,
        name: "refund-subscription",
        description: "Refund the selected subscription (asks for confirmation)",
        write: true,
    },
    CommandInfo {
        command: Command::AutoRenewOff,
        name: "auto-renew-off",
        description: "Turn auto-renew off for the selected subscription (asks for confirmation)",
        write: true,
    },
    CommandInfo {
        command: Command::AckClawback,
        name: "ack-clawback",
        description: "Acknowledge (delete) the selected clawback event from the queue (asks for confirmation)",
        write: true,
    },
    CommandInfo {
        command: Command::ToggleValidity,
        name: "validity",
        description: "Cycle validityType: All / Valid / Invalid",
        write: false,
    },
    CommandInfo {
        command: Command::ToggleDuplicates,
        name: "exclude-duplicates",
        description: "Toggle excludeDuplicates",
        write: false,
    },
    CommandInfo {
        command: Command::SortNext,
        name: "sort",
        description: "Sort by the next column",
        write: false,
    },
    CommandInfo {
        command: Command::SortReverse,
        name: "sort-reverse",
        description: "Reverse the sort order",
        write: false,
    },
    CommandInfo {
        command: Command::HideColumn,
        name: "hide-column",
        description: "Hide the sort column",
        write: false,
    },
    CommandInfo {
        command: Command::ShowColumns,
        name: "show-columns",
        description: "Show every column again",
        write: false,
    },
];

/// The command bound to `key` in `scope`, if any.
pub fn lookup(key: &KeyEvent, scope: Scope) -> Option<Command> {
    BINDINGS
        .iter()
        .filter(|b| b.scope == scope)
        .find(|b| b.keys.iter().any(|(c, m)| matches(key, *c, *m)))
        .map(|b| b.command)
}

fn matches(key: &KeyEvent, code: KeyCode, mods: KeyModifiers) -> bool {
    // Terminals disagree on whether an upper-case letter carries SHIFT.
    let relevant = key.modifiers & !KeyModifiers::SHIFT;
    let want = mods & !KeyModifiers::SHIFT;
    key.code == code && relevant == want
}

pub fn info(command: Command) -> Option<&'static CommandInfo> {
    COMMANDS.iter().find(|c| c.command == command)
}

/// The first key label bound to a command (for hints and the palette).
pub fn label(command: Command) -> Option<&'static str> {
    BINDINGS
        .iter()
        .find(|b| b.command == command)
        .map(|b| b.label)
}

/// Fuzzy subsequence score of `query` in `text`, higher is better; `None`
/// when not every query character appears in order.
pub fn fuzzy_score(query: &str, text: &str) -> Option<i64> {
    if query.is_empty() {
        return Some(0);
    }
    let text_l: Vec<char> = text.to_lowercase().chars().collect();
    let mut score = 0i64;
    let mut pos = 0usize;
    let mut last: Option<usize> = None;
    for qc in query.to_lowercase().chars() {
        let found = text_l[pos..].iter().position(|&c| c == qc)? + pos;
        score += 10;
        if last.is_some_and(|l| l + 1 == found) {
            score += 15; // consecutive run
        }
        if found == 0 || matches!(text_l.get(found.wrapping_sub(1)), Some(' ' | '-' | '_')) {
            score += 20; // word start
        }
        score -= (found - pos) as i64; // gaps cost
        last = Some(found);
        pos = found + 1;
    }
    score -= text_l.len() as i64 / 4;
    Some(score)
}

/// Palette commands matching `query`, best first.
pub fn palette_matches(query: &str) -> Vec<&'static CommandInfo> {
    let q = query.trim();
    let mut hits: Vec<(i64, &CommandInfo)> = COMMANDS
        .iter()
        .filter(|c| c.command != Command::Palette)
        .filter_map(|c| {
            let by_name = fuzzy_score(q, c.name).map(|s| s + 50);
            let by_desc = fuzzy_score(q, c.description);
            by_name.max(by_desc).map(|s| (s, c))
        })
        .collect();
    hits.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.name.cmp(b.1.name)));
    hits.into_iter().map(|(_, c)| c).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bound_command_is_in_the_palette_table() {
        for b in BINDINGS {
            assert!(
                info(b.command).is_some(),
                "{:?} has no CommandInfo",
                b.command
            );
        }
    }

    #[test]
    fn write_commands_have_no_single_key() {
        for c in COMMANDS.iter().filter(|c| c.write) {
            assert!(
                label(c.command).is_none(),
                "{} is one stray key away",
                c.name
            );
        }
    }

    #[test]
    fn fuzzy_prefers_name_start() {
        let m = palette_matches("ent");
        assert_eq!(m[0].name, "entitlements");
        let m = palette_matches("cnsm");
        assert_eq!(m[0].name, "consume");
        assert!(palette_matches("zzzz").is_empty());
    }

    #[test]
    fn shift_is_tolerated_on_capitals() {
        let k = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(lookup(&k, Scope::Lists), Some(Command::Bottom));
        let k = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(lookup(&k, Scope::Global), Some(Command::Quit));
    }
}
