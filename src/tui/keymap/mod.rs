//! The one table of key bindings and commands. Key matching, the `?` help
//! overlay and the `:` palette are all drawn from it, so they cannot disagree.
//!
//! The built-in table is [`DEFAULTS`]; a user's `keys.toml` is merged over
//! it into a [`Keymap`] (see [`file`]), installed once at console start.

pub mod file;
pub mod keys;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::sync::{LazyLock, OnceLock};

pub use keys::Key;

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
    NextKey,
    DemoCustomer,
    Doctor,
    Offers,
    ClaimOffer,
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
    AllEnvironments,
    ToggleValidity,
    ToggleDuplicates,
    SortNext,
    SortReverse,
    HideColumn,
    ShowColumns,
    ExportCsv,
    ExportJson,
    Submit,
    Cancel,
    NextField,
    PrevField,
    FilterReset,
    ChoicePrev,
    ChoiceNext,
    ChoiceToggle,
    ChoiceClear,
}

impl Command {
    /// Checked before a text field sees the key: a printable key bound to
    /// it could never be typed into the field.
    pub fn precedes_text(self) -> bool {
        matches!(
            self,
            Command::Submit
                | Command::Cancel
                | Command::NextField
                | Command::PrevField
                | Command::FilterReset
        )
    }

    /// Without a key for it, a form or a flow could not be left.
    pub fn must_keep_a_key(self) -> bool {
        matches!(self, Command::Submit | Command::Cancel | Command::Back)
    }
}

/// Where a binding applies; the help overlay groups by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Global,
    Lists,
    Key,
    Entitlements,
    /// The targeted offers list (`o` in the Key pane).
    Offers,
    /// After `e` in the Entitlements pane: which format.
    ExportPrompt,
    /// The Entitlements pane's `/` filter editor, beyond the form keys.
    FilterEditor,
    /// Forms, prompts, text fields, the palette and the confirm dialog.
    Forms,
}

impl Scope {
    /// In the order the help overlay shows them.
    pub const ALL: [Scope; 8] = [
        Scope::Global,
        Scope::Lists,
        Scope::Key,
        Scope::Entitlements,
        Scope::Offers,
        Scope::ExportPrompt,
        Scope::FilterEditor,
        Scope::Forms,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Scope::Global => "Anywhere",
            Scope::Lists => "Lists and tables",
            Scope::Key => "Key pane",
            Scope::Entitlements => "Entitlements",
            Scope::Offers => "Targeted offers (o)",
            Scope::ExportPrompt => "Export format (after e in Entitlements)",
            Scope::FilterEditor => "Entitlements filter (/)",
            Scope::Forms => "Forms, prompts and dialogs",
        }
    }

    /// Whether one key press can be looked up in both scopes, so one key
    /// must not mean two commands. The panes look up Global, then Lists,
    /// then their own scope; the Entitlements filter editor looks up Forms
    /// then its own; the other modal scopes stand alone.
    pub fn overlaps(self, other: Scope) -> bool {
        use Scope::*;
        let pane = |s: Scope| matches!(s, Global | Lists | Key | Entitlements);
        self == other
            || (pane(self)
                && pane(other)
                && !matches!((self, other), (Key, Entitlements) | (Entitlements, Key)))
            || matches!((self, other), (Forms, FilterEditor) | (FilterEditor, Forms))
    }
}

/// One row of the built-in table.
pub struct DefaultBinding {
    pub keys: &'static [(KeyCode, KeyModifiers)],
    pub label: &'static str,
    pub command: Command,
    pub scope: Scope,
}

pub struct CommandInfo {
    pub command: Command,
    /// Palette name, typed after `:`; also the name in `keys.toml`.
    pub name: &'static str,
    pub description: &'static str,
    /// Changes a customer's account: only ever reached through confirmation.
    pub write: bool,
    /// Offered by the palette (keys that only mean something inside a
    /// form or a flow are not).
    pub palette: bool,
}

const NONE: KeyModifiers = KeyModifiers::NONE;
const CTRL: KeyModifiers = KeyModifiers::CONTROL;
const SHIFT: KeyModifiers = KeyModifiers::SHIFT;

use KeyCode::*;

pub const DEFAULTS: &[DefaultBinding] = &[
    DefaultBinding {
        keys: &[(Char('?'), NONE), (F(1), NONE)],
        label: "?",
        command: Command::Help,
        scope: Scope::Global,
    },
    DefaultBinding {
        keys: &[(Char(':'), NONE)],
        label: ":",
        command: Command::Palette,
        scope: Scope::Global,
    },
    DefaultBinding {
        keys: &[(Tab, NONE)],
        label: "Tab",
        command: Command::NextPane,
        scope: Scope::Global,
    },
    DefaultBinding {
        keys: &[(BackTab, SHIFT), (BackTab, NONE)],
        label: "Shift-Tab",
        command: Command::PrevPane,
        scope: Scope::Global,
    },
    DefaultBinding {
        keys: &[(Char('1'), NONE)],
        label: "1",
        command: Command::Pane(0),
        scope: Scope::Global,
    },
    DefaultBinding {
        keys: &[(Char('2'), NONE)],
        label: "2",
        command: Command::Pane(1),
        scope: Scope::Global,
    },
    DefaultBinding {
        keys: &[(Char('3'), NONE)],
        label: "3",
        command: Command::Pane(2),
        scope: Scope::Global,
    },
    DefaultBinding {
        keys: &[(Char('4'), NONE)],
        label: "4",
        command: Command::Pane(3),
        scope: Scope::Global,
    },
    DefaultBinding {
        keys: &[(Char('5'), NONE)],
        label: "5",
        command: Command::Pane(4),
        scope: Scope::Global,
    },
    DefaultBinding {
        keys: &[(Char('6'), NONE)],
        label: "6",
        command: Command::Pane(5),
        scope: Scope::Global,
    },
    DefaultBinding {
        keys: &[(Char('7'), NONE)],
        label: "7",
        command: Command::Pane(6),
        scope: Scope::Global,
    },
    DefaultBinding {
        keys: &[(Char('v'), CTRL)],
        label: "Ctrl-V",
        command: Command::PasteKey,
        scope: Scope::Global,
    },
    DefaultBinding {
        keys: &[(Char('q'), NONE), (Char('c'), CTRL)],
        label: "q / Ctrl-C",
        command: Command::Quit,
        scope: Scope::Global,
    },
    DefaultBinding {
        keys: &[(Char('k'), NONE), (Up, NONE)],
        label: "k ↑",
        command: Command::Up,
        scope: Scope::Lists,
    },
    DefaultBinding {
        keys: &[(Char('j'), NONE), (Down, NONE)],
        label: "j ↓",
        command: Command::Down,
        scope: Scope::Lists,
    },
    DefaultBinding {
        keys: &[(PageUp, NONE), (Char('b'), CTRL)],
        label: "PgUp",
        command: Command::PageUp,
        scope: Scope::Lists,
    },
    DefaultBinding {
        keys: &[(PageDown, NONE), (Char('f'), CTRL)],
        label: "PgDn",
        command: Command::PageDown,
        scope: Scope::Lists,
    },
    DefaultBinding {
        keys: &[(Char('g'), NONE), (Home, NONE)],
        label: "g Home",
        command: Command::Top,
        scope: Scope::Lists,
    },
    DefaultBinding {
        keys: &[(Char('G'), SHIFT), (Char('G'), NONE), (End, NONE)],
        label: "G End",
        command: Command::Bottom,
        scope: Scope::Lists,
    },
    DefaultBinding {
        keys: &[(Enter, NONE)],
        label: "Enter",
        command: Command::Open,
        scope: Scope::Lists,
    },
    DefaultBinding {
        keys: &[(Esc, NONE)],
        label: "Esc",
        command: Command::Back,
        scope: Scope::Lists,
    },
    DefaultBinding {
        keys: &[(Char('y'), NONE)],
        label: "y",
        command: Command::Copy,
        scope: Scope::Lists,
    },
    DefaultBinding {
        keys: &[(Char('e'), NONE)],
        label: "e",
        command: Command::Export,
        scope: Scope::Lists,
    },
    DefaultBinding {
        keys: &[(Char('r'), NONE)],
        label: "r",
        command: Command::Refresh,
        scope: Scope::Lists,
    },
    DefaultBinding {
        keys: &[(Char('/'), NONE)],
        label: "/",
        command: Command::Filter,
        scope: Scope::Lists,
    },
    DefaultBinding {
        keys: &[(Char('i'), NONE), (Char('a'), NONE)],
        label: "i",
        command: Command::EditKey,
        scope: Scope::Key,
    },
    DefaultBinding {
        keys: &[(Char('x'), NONE)],
        label: "x",
        command: Command::ClearKey,
        scope: Scope::Key,
    },
    DefaultBinding {
        keys: &[(Char('o'), NONE)],
        label: "o",
        command: Command::Offers,
        scope: Scope::Key,
    },
    DefaultBinding {
        keys: &[(Char('d'), NONE)],
        label: "d",
        command: Command::DemoCustomer,
        scope: Scope::Key,
    },
    DefaultBinding {
        keys: &[(Char('J'), SHIFT), (Char('J'), NONE)],
        label: "J",
        command: Command::RawView,
        scope: Scope::Key,
    },
    DefaultBinding {
        keys: &[(Char('s'), NONE)],
        label: "s",
        command: Command::SortNext,
        scope: Scope::Entitlements,
    },
    DefaultBinding {
        keys: &[(Char('S'), SHIFT), (Char('S'), NONE)],
        label: "S",
        command: Command::SortReverse,
        scope: Scope::Entitlements,
    },
    DefaultBinding {
        keys: &[(Char('h'), NONE)],
        label: "h",
        command: Command::HideColumn,
        scope: Scope::Entitlements,
    },
    DefaultBinding {
        keys: &[(Char('H'), SHIFT), (Char('H'), NONE)],
        label: "H",
        command: Command::ShowColumns,
        scope: Scope::Entitlements,
    },
    DefaultBinding {
        keys: &[(Char('V'), SHIFT), (Char('V'), NONE)],
        label: "V",
        command: Command::ToggleValidity,
        scope: Scope::Entitlements,
    },
    DefaultBinding {
        keys: &[(Char('D'), SHIFT), (Char('D'), NONE)],
        label: "D",
        command: Command::ToggleDuplicates,
        scope: Scope::Entitlements,
    },
    DefaultBinding {
        keys: &[(Char('c'), NONE)],
        label: "c",
        command: Command::NextKey,
        scope: Scope::Key,
    },
    DefaultBinding {
        keys: &[(Char('k'), NONE), (Up, NONE)],
        label: "k ↑",
        command: Command::Up,
        scope: Scope::Offers,
    },
    DefaultBinding {
        keys: &[(Char('j'), NONE), (Down, NONE)],
        label: "j ↓",
        command: Command::Down,
        scope: Scope::Offers,
    },
    DefaultBinding {
        keys: &[(Enter, NONE)],
        label: "Enter",
        command: Command::ClaimOffer,
        scope: Scope::Offers,
    },
    DefaultBinding {
        keys: &[(Esc, NONE)],
        label: "Esc",
        command: Command::Back,
        scope: Scope::Offers,
    },
    DefaultBinding {
        keys: &[(Char('c'), NONE)],
        label: "c",
        command: Command::ExportCsv,
        scope: Scope::ExportPrompt,
    },
    DefaultBinding {
        keys: &[(Char('j'), NONE)],
        label: "j",
        command: Command::ExportJson,
        scope: Scope::ExportPrompt,
    },
    DefaultBinding {
        keys: &[(Enter, NONE)],
        label: "Enter",
        command: Command::Submit,
        scope: Scope::Forms,
    },
    DefaultBinding {
        keys: &[(Esc, NONE)],
        label: "Esc",
        command: Command::Cancel,
        scope: Scope::Forms,
    },
    DefaultBinding {
        keys: &[(Tab, NONE), (Down, NONE)],
        label: "Tab ↓",
        command: Command::NextField,
        scope: Scope::Forms,
    },
    DefaultBinding {
        keys: &[(BackTab, SHIFT), (BackTab, NONE), (Up, NONE)],
        label: "Shift-Tab ↑",
        command: Command::PrevField,
        scope: Scope::Forms,
    },
    DefaultBinding {
        keys: &[(Char('r'), CTRL)],
        label: "Ctrl-R",
        command: Command::FilterReset,
        scope: Scope::FilterEditor,
    },
    DefaultBinding {
        keys: &[(Left, NONE)],
        label: "←",
        command: Command::ChoicePrev,
        scope: Scope::FilterEditor,
    },
    DefaultBinding {
        keys: &[(Right, NONE)],
        label: "→",
        command: Command::ChoiceNext,
        scope: Scope::FilterEditor,
    },
    DefaultBinding {
        keys: &[(Char(' '), NONE), (Char('x'), NONE)],
        label: "Space x",
        command: Command::ChoiceToggle,
        scope: Scope::FilterEditor,
    },
    DefaultBinding {
        keys: &[(Backspace, NONE), (Delete, NONE)],
        label: "Bksp Del",
        command: Command::ChoiceClear,
        scope: Scope::FilterEditor,
    },
];

pub const COMMANDS: &[CommandInfo] = &[
    CommandInfo {
        command: Command::Help,
        name: "help",
        description: "Show key bindings",
        write: false,
        palette: true,
    },
    CommandInfo {
        command: Command::Palette,
        name: "palette",
        description: "Open the command palette",
        write: false,
        palette: true,
    },
    CommandInfo {
        command: Command::Quit,
        name: "quit",
        description: "Quit storedesk",
        write: false,
        palette: true,
    },
    CommandInfo {
        command: Command::NextPane,
        name: "next-pane",
        description: "Go to the next pane",
        write: false,
        palette: true,
    },
    CommandInfo {
        command: Command::PrevPane,
        name: "prev-pane",
        description: "Go to the previous pane",
        write: false,
        palette: true,
    },
    CommandInfo {
        command: Command::Pane(0),
        name: "key",
        description: "Go to the Key pane",
        write: false,
        palette: true,
    },
    CommandInfo {
        command: Command::Pane(1),
        name: "entitlements",
        description: "Go to the Entitlements pane",
        write: false,
        palette: true,
    },
    CommandInfo {
        command: Command::Pane(2),
        name: "orders",
        description: "Go to the Orders pane",
        write: false,
        palette: true,
    },
    CommandInfo {
        command: Command::Pane(3),
        name: "subscriptions",
        description: "Go to the Subscriptions pane",
        write: false,
        palette: true,
    },
    CommandInfo {
        command: Command::Pane(4),
        name: "clawbacks",
        description: "Go to the Clawbacks pane",
        write: false,
        palette: true,
    },
    CommandInfo {
        command: Command::Pane(5),
        name: "timeline",
        description: "Go to the Timeline pane",
        write: false,
        palette: true,
    },
    CommandInfo {
        command: Command::Pane(6),
        name: "audit",
        description: "Go to the Audit pane",
        write: false,
        palette: true,
    },
    CommandInfo {
        command: Command::Up,
        name: "up",
        description: "Move up",
        write: false,
        palette: true,
    },
    CommandInfo {
        command: Command::Down,
        name: "down",
        description: "Move down",
        write: false,
        palette: true,
    },
    CommandInfo {
        command: Command::PageUp,
        name: "page-up",
        description: "Move a page up",
        write: false,
        palette: true,
    },
    CommandInfo {
        command: Command::PageDown,
        name: "page-down",
        description: "Move a page down",
        write: false,
        palette: true,
    },
    CommandInfo {
        command: Command::Top,
        name: "top",
        description: "Go to the first row",
        write: false,
        palette: true,
    },
    CommandInfo {
        command: Command::Bottom,
        name: "bottom",
        description: "Go to the last row",
        write: false,
        palette: true,
    },
    CommandInfo {
        command: Command::Open,
        name: "open",
        description: "Open the detail view",
        write: false,
        palette: true,
    },
    CommandInfo {
        command: Command::Back,
        name: "back",
        description: "Close / cancel / go back",
        write: false,
        palette: true,
    },
    CommandInfo {
        command: Command::Copy,
        name: "copy",
        description: "Copy the selection to the clipboard",
        write: false,
        palette: true,
    },
    CommandInfo {
        command: Command::Export,
        name: "export",
        description: "Export the visible rows (CSV or JSON)",
        write: false,
        palette: true,
    },
    CommandInfo {
        command: Command::Refresh,
        name: "refresh",
        description: "Fetch again from the Store",
        write: false,
        palette: true,
    },
    CommandInfo {
        command: Command::Filter,
        name: "filter",
        description: "Filter the list",
        write: false,
        palette: true,
    },
    CommandInfo {
        command: Command::EditKey,
        name: "edit-key",
        description: "Type or edit a key in the Key pane",
        write: false,
        palette: true,
    },
    CommandInfo {
        command: Command::PasteKey,
        name: "paste",
        description: "Paste a key from the clipboard",
        write: false,
        palette: true,
    },
    CommandInfo {
        command: Command::ClearKey,
        name: "clear-key",
        description: "Forget the keys of this case",
        write: false,
        palette: true,
    },
    CommandInfo {
        command: Command::ReplayPending,
        name: "replay",
        description: "Send pending writes again with their original keys (asks for confirmation)",
        write: true,
        palette: true,
    },
    CommandInfo {
        command: Command::ResolvePending,
        name: "resolve",
        description: "Settle a pending write by hand after checking the Store (asks for the outcome and a note)",
        write: true,
        palette: true,
    },
    CommandInfo {
        command: Command::Offers,
        name: "offers",
        description: "Targeted offers of a user (MSA token); claim one (asks for confirmation)",
        write: false,
        palette: true,
    },
    CommandInfo {
        command: Command::DemoCustomer,
        name: "demo",
        description: "Load a demo customer's keys (embedded sandbox)",
        write: false,
        palette: true,
    },
    CommandInfo {
        command: Command::Doctor,
        name: "doctor",
        description: "Check the profile end to end (read-only) and say the fix for each problem",
        write: false,
        palette: true,
    },
    CommandInfo {
        command: Command::RawView,
        name: "raw",
        description: "Toggle the raw JSON of the key",
        write: false,
        palette: true,
    },
    CommandInfo {
        command: Command::Renew,
        name: "renew",
        description: "Renew the key (asks for confirmation)",
        write: true,
        palette: true,
    },
    CommandInfo {
        command: Command::Consume,
        name: "consume",
        description: "Consume a consumable (asks for confirmation)",
        write: true,
        palette: true,
    },
    CommandInfo {
        command: Command::Grant,
        name: "grant",
        description: "Grant a free product (asks for confirmation)",
        write: true,
        palette: true,
    },
    CommandInfo {
        command: Command::CancelSubscription,
        name: "cancel-subscription",
        description: "Cancel the selected subscription (asks for confirmation)",
        write: true,
        palette: true,
    },
    CommandInfo {
        command: Command::ExtendSubscription,
        name: "extend-subscription",
        description: "Extend the selected subscription by N days (asks the days, then confirmation)",
        write: true,
        palette: true,
    },
    CommandInfo {
        command: Command::RefundSubscription,
        name: "refund-subscription",
        description: "Refund the selected subscription (asks for confirmation)",
        write: true,
        palette: true,
    },
    CommandInfo {
        command: Command::AutoRenewOff,
        name: "auto-renew-off",
        description: "Turn auto-renew off for the selected subscription (asks for confirmation)",
        write: true,
        palette: true,
    },
    CommandInfo {
        command: Command::AckClawback,
        name: "ack-clawback",
        description: "Acknowledge (delete) the selected clawback event from the queue (asks for confirmation)",
        write: true,
        palette: true,
    },
    CommandInfo {
        command: Command::AllEnvironments,
        name: "all-environments",
        description: "Clawbacks: show (or hide again) the events of other environments than the profile's",
        write: false,
        palette: true,
    },
    CommandInfo {
        command: Command::ToggleValidity,
        name: "validity",
        description: "Cycle validityType: All / Valid / Invalid",
        write: false,
        palette: true,
    },
    CommandInfo {
        command: Command::ToggleDuplicates,
        name: "exclude-duplicates",
        description: "Toggle excludeDuplicates",
        write: false,
        palette: true,
    },
    CommandInfo {
        command: Command::SortNext,
        name: "sort",
        description: "Sort by the next column",
        write: false,
        palette: true,
    },
    CommandInfo {
        command: Command::SortReverse,
        name: "sort-reverse",
        description: "Reverse the sort order",
        write: false,
        palette: true,
    },
    CommandInfo {
        command: Command::HideColumn,
        name: "hide-column",
        description: "Hide the sort column",
        write: false,
        palette: true,
    },
    CommandInfo {
        command: Command::ShowColumns,
        name: "show-columns",
        description: "Show every column again",
        write: false,
        palette: true,
    },
    CommandInfo {
        command: Command::NextKey,
        name: "next-key",
        description: "Show the case's other key",
        write: false,
        palette: false,
    },
    CommandInfo {
        command: Command::ClaimOffer,
        name: "claim-offer",
        description: "Claim the selected offer (asks for the receipt, then confirmation)",
        write: false,
        palette: false,
    },
    CommandInfo {
        command: Command::ExportCsv,
        name: "export-csv",
        description: "Export as CSV (any other key cancels)",
        write: false,
        palette: false,
    },
    CommandInfo {
        command: Command::ExportJson,
        name: "export-json",
        description: "Export as JSON",
        write: false,
        palette: false,
    },
    CommandInfo {
        command: Command::Submit,
        name: "submit",
        description: "Submit the form or prompt; in a confirmation dialog, confirm",
        write: false,
        palette: false,
    },
    CommandInfo {
        command: Command::Cancel,
        name: "cancel",
        description: "Cancel (nothing is sent) / stop typing",
        write: false,
        palette: false,
    },
    CommandInfo {
        command: Command::NextField,
        name: "next-field",
        description: "Next field / next choice",
        write: false,
        palette: false,
    },
    CommandInfo {
        command: Command::PrevField,
        name: "prev-field",
        description: "Previous field / previous choice",
        write: false,
        palette: false,
    },
    CommandInfo {
        command: Command::FilterReset,
        name: "filter-reset",
        description: "Clear the whole filter",
        write: false,
        palette: false,
    },
    CommandInfo {
        command: Command::ChoicePrev,
        name: "choice-prev",
        description: "Previous value on a choice row",
        write: false,
        palette: false,
    },
    CommandInfo {
        command: Command::ChoiceNext,
        name: "choice-next",
        description: "Next value on a choice row",
        write: false,
        palette: false,
    },
    CommandInfo {
        command: Command::ChoiceToggle,
        name: "choice-toggle",
        description: "Select / unselect the value",
        write: false,
        palette: false,
    },
    CommandInfo {
        command: Command::ChoiceClear,
        name: "choice-clear",
        description: "Clear the row's choices",
        write: false,
        palette: false,
    },
];

/// A binding in force: the built-in one or the user's replacement.
#[derive(Clone, Debug, PartialEq)]
pub struct Binding {
    pub keys: Vec<Key>,
    pub label: String,
    pub command: Command,
    pub scope: Scope,
}

/// The bindings in force: the built-in table with a user's `keys.toml`
/// merged over it.
#[derive(Clone, Debug, PartialEq)]
pub struct Keymap {
    bindings: Vec<Binding>,
}

impl Default for Keymap {
    fn default() -> Self {
        Self::defaults()
    }
}

impl Keymap {
    pub fn defaults() -> Self {
        Self {
            bindings: DEFAULTS
                .iter()
                .map(|b| Binding {
                    keys: b
                        .keys
                        .iter()
                        .map(|&(code, mods)| Key::new(code, mods))
                        .collect(),
                    label: b.label.to_string(),
                    command: b.command,
                    scope: b.scope,
                })
                .collect(),
        }
    }

    pub fn bindings(&self) -> &[Binding] {
        &self.bindings
    }

    /// The command bound to `key` in `scope`, if any.
    pub fn lookup(&self, key: &KeyEvent, scope: Scope) -> Option<Command> {
        self.bindings
            .iter()
            .filter(|b| b.scope == scope)
            .find(|b| b.keys.iter().any(|k| k.matches(key)))
            .map(|b| b.command)
    }

    /// The first key label bound to a command (for hints and the palette).
    pub fn label(&self, command: Command) -> Option<&str> {
        self.bindings
            .iter()
            .find(|b| b.command == command && !b.keys.is_empty())
            .map(|b| b.label.as_str())
    }

    /// Give `command` these keys wherever it is bound.
    fn rebind(&mut self, command: Command, keys: &[Key]) {
        let label = keys::label(keys);
        for b in self.bindings.iter_mut().filter(|b| b.command == command) {
            b.keys = keys.to_vec();
            b.label = label.clone();
        }
    }

    /// Pairs of bindings of different commands that share a key in
    /// overlapping scopes: `(key, command, other command)`.
    pub fn conflicts(&self) -> Vec<(Key, Command, Command)> {
        let mut out = Vec::new();
        for (i, a) in self.bindings.iter().enumerate() {
            for b in &self.bindings[i + 1..] {
                if a.command == b.command || !a.scope.overlaps(b.scope) {
                    continue;
                }
                for k in &a.keys {
                    if b.keys.iter().any(|o| o.same_press(k)) {
                        out.push((*k, a.command, b.command));
                    }
                }
            }
        }
        out
    }
}

static DEFAULT_KEYMAP: LazyLock<Keymap> = LazyLock::new(Keymap::defaults);
static INSTALLED: OnceLock<Keymap> = OnceLock::new();

/// Make `keymap` the one in force for the rest of the process. Only the
/// console does this, once at start; a second call is ignored (false).
pub fn install(keymap: Keymap) -> bool {
    INSTALLED.set(keymap).is_ok()
}

/// The keymap in force: the installed one, else the built-in table (tests
/// and snapshots never install one, so they always see the defaults).
pub fn current() -> &'static Keymap {
    INSTALLED.get().unwrap_or(&DEFAULT_KEYMAP)
}

/// The command bound to `key` in `scope`, if any.
pub fn lookup(key: &KeyEvent, scope: Scope) -> Option<Command> {
    current().lookup(key, scope)
}

pub fn info(command: Command) -> Option<&'static CommandInfo> {
    COMMANDS.iter().find(|c| c.command == command)
}

/// The command a `keys.toml` (or palette) name means; `_` may stand for `-`.
pub fn by_name(name: &str) -> Option<&'static CommandInfo> {
    let name = name.trim().replace('_', "-");
    COMMANDS.iter().find(|c| c.name.eq_ignore_ascii_case(&name))
}

/// The first key label bound to a command (for hints and the palette).
pub fn label(command: Command) -> Option<&'static str> {
    current().label(command)
}

/// One entry of a pane's key hints: the commands whose keys are shown
/// (joined by `/`) and what they do. No commands: the word alone (a `:`
/// command).
pub type Hint<'a> = (&'a [Command], &'a str);

/// The key hints a pane shows in its title, with the keys of the keymap in
/// force — so a `keys.toml` rebinding shows where the eye is, not only in
/// `?`. A command left without a key drops out of the line.
pub fn hints(entries: &[Hint]) -> String {
    hints_in(current(), entries)
}

pub fn hints_in(keymap: &Keymap, entries: &[Hint]) -> String {
    entries
        .iter()
        .filter_map(|(commands, word)| {
            if commands.is_empty() {
                return Some((*word).to_string());
            }
            let keys: Vec<&str> = commands
                .iter()
                .filter_map(|c| keymap.label(*c))
                .filter_map(|l| l.split_whitespace().next())
                .collect();
            (!keys.is_empty()).then(|| format!("{} {word}", keys.join("/")))
        })
        .collect::<Vec<_>>()
        .join(" · ")
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
        .filter(|c| c.palette && c.command != Command::Palette)
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
        for b in DEFAULTS {
            assert!(
                info(b.command).is_some(),
                "{:?} has no CommandInfo",
                b.command
            );
        }
    }

    #[test]
    fn command_names_are_unique() {
        for (i, a) in COMMANDS.iter().enumerate() {
            for b in &COMMANDS[i + 1..] {
                assert_ne!(a.name, b.name);
                assert_ne!(a.command, b.command, "{}", a.name);
            }
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
    fn the_defaults_have_no_conflicts() {
        assert_eq!(Keymap::defaults().conflicts(), vec![]);
    }

    #[test]
    fn form_keys_are_not_printable_by_default() {
        for b in Keymap::defaults().bindings() {
            if b.command.precedes_text() {
                assert!(b.keys.iter().all(|k| !k.is_printable()), "{:?}", b.command);
            }
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
    fn flow_keys_stay_out_of_the_palette() {
        assert!(palette_matches("submit").iter().all(|c| c.name != "submit"));
        assert!(
            palette_matches("claim")
                .iter()
                .all(|c| c.name != "claim-offer")
        );
    }

    #[test]
    fn shift_is_tolerated_on_capitals() {
        let k = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(lookup(&k, Scope::Lists), Some(Command::Bottom));
        let k = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(lookup(&k, Scope::Global), Some(Command::Quit));
    }

    #[test]
    fn scopes_overlap_as_lookup_happens() {
        assert!(Scope::Global.overlaps(Scope::Key));
        assert!(Scope::Lists.overlaps(Scope::Entitlements));
        assert!(!Scope::Key.overlaps(Scope::Entitlements));
        assert!(Scope::Forms.overlaps(Scope::FilterEditor));
        assert!(!Scope::Offers.overlaps(Scope::Lists));
        assert!(!Scope::Forms.overlaps(Scope::Global));
    }
}
