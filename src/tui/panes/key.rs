//! The Key pane: paste a User Store ID, see what it says and when it dies,
//! renew it. A case holds one collections key and one purchase key at once.

use crate::journal::WriteRequest;
use crate::keys::{self, AssessContext, Assessment, KeyKind, Verdict};
use crate::tui::action::{Connection, Effect};
use crate::tui::keymap::{self, Command, Scope};
use crate::tui::panes::{PaneCtx, PaneId, PaneJob, PaneOutput, Routed};
use crate::tui::widgets::confirm::ConfirmDialog;
use chrono::{DateTime, FixedOffset, Utc};
use crossterm::event::{Event, KeyEvent as TermKey};
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;

/// Which slot of the case a key sits in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    Collections,
    Purchase,
    Other,
}

impl Slot {
    pub fn label(self) -> &'static str {
        match self {
            Slot::Collections => "Collections",
            Slot::Purchase => "Purchase",
            Slot::Other => "Other JWT",
        }
    }

    fn for_kind(kind: &KeyKind) -> Self {
        match kind {
            KeyKind::UserCollectionsId => Slot::Collections,
            KeyKind::UserPurchaseId => Slot::Purchase,
            _ => Slot::Other,
        }
    }
}

/// A key of the case with its current assessment.
#[derive(Clone)]
pub struct LoadedKey {
    pub token: String,
    pub notes: Vec<String>,
    pub assessment: Assessment,
}

/// Jobs the key pane asks for.
#[derive(Clone, PartialEq)]
pub enum KeyJob {
    /// Renew the key in `slot`, through the journal (a renewal is a write).
    Renew { slot: Slot, request: WriteRequest },
    /// List the targeted offers open to the user of an MSA token.
    FetchOffers { token: String },
    /// Claim an offer, through the journal.
    ClaimOffer { request: WriteRequest },
}

// Tokens are credentials: a Debug print (a log line) never carries one.
impl std::fmt::Debug for KeyJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyJob::Renew { slot, request } => write!(f, "Renew {{ {slot:?}, {request:?} }}"),
            KeyJob::FetchOffers { token } => {
                write!(f, "FetchOffers {{ token: {} }}", keys::fingerprint(token))
            }
            KeyJob::ClaimOffer { request } => write!(f, "ClaimOffer {{ {request:?} }}"),
        }
    }
}

/// Results for the key pane.
pub enum KeyPaneEvent {
    Renewed {
        slot: Slot,
        result: Result<String, String>,
    },
    Offers(Result<Vec<crate::store::model::TargetedOffer>, String>),
    OfferClaimed(Result<String, String>),
}

impl std::fmt::Debug for KeyPaneEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyPaneEvent::Renewed { slot, result } => {
                write!(f, "Renewed {{ slot: {slot:?}, ok: {} }}", result.is_ok())
            }
            KeyPaneEvent::Offers(r) => write!(f, "Offers {{ ok: {} }}", r.is_ok()),
            KeyPaneEvent::OfferClaimed(r) => write!(f, "OfferClaimed {{ {r:?} }}"),
        }
    }
}

/// What has the Key pane's keyboard before its commands: the key being
/// typed, or the targeted-offers flow (`o`) — one at a time, so which one
/// takes a key never depends on the order of checks.
// No Debug: the offers flow holds an MSA token.
#[derive(Default)]
pub enum KeyModal {
    #[default]
    None,
    /// The input line takes the keys.
    Typing,
    /// The targeted-offers flow, while it is not idle.
    Offers(super::offers::OfferFlow),
}

#[derive(Default)]
pub struct KeyPane {
    /// What has the keyboard before the pane's commands.
    pub modal: KeyModal,
    pub input: Input,
    pub collections: Option<LoadedKey>,
    pub purchase: Option<LoadedKey>,
    pub other: Option<LoadedKey>,
    pub shown: Option<Slot>,
    pub raw: bool,
    /// 0 = the key itself, 1.. = claims, for `y`.
    pub cursor: usize,
    pub input_error: Option<String>,
    pub notes: Vec<String>,
    pub renewing: Option<Slot>,
    pub local_offset: Option<FixedOffset>,
    now: Option<DateTime<Utc>>,
    conn: Option<Connection>,
}

impl KeyPane {
    pub fn start_editing(&mut self) {
        self.set_typing(true);
    }

    /// The input line has the keyboard.
    pub fn editing(&self) -> bool {
        matches!(self.modal, KeyModal::Typing)
    }

    /// Start or stop typing; an open offers flow keeps the keyboard.
    fn set_typing(&mut self, on: bool) {
        match (&self.modal, on) {
            (KeyModal::Offers(_), _) => {}
            (_, true) => self.modal = KeyModal::Typing,
            (_, false) => self.modal = KeyModal::None,
        }
    }

    /// After the offers flow handled something: closed means no modal.
    fn offers_done(&mut self) {
        if matches!(&self.modal, KeyModal::Offers(f) if !f.is_active()) {
            self.modal = KeyModal::None;
        }
    }

    pub fn slot(&self, s: Slot) -> Option<&LoadedKey> {
        match s {
            Slot::Collections => self.collections.as_ref(),
            Slot::Purchase => self.purchase.as_ref(),
            Slot::Other => self.other.as_ref(),
        }
    }

    fn slot_mut(&mut self, s: Slot) -> &mut Option<LoadedKey> {
        match s {
            Slot::Collections => &mut self.collections,
            Slot::Purchase => &mut self.purchase,
            Slot::Other => &mut self.other,
        }
    }

    /// The key on screen: the chosen one, else the first the case holds.
    pub fn current(&self) -> Option<(Slot, &LoadedKey)> {
        let order = [Slot::Collections, Slot::Purchase, Slot::Other];
        if let Some(s) = self.shown
            && let Some(k) = self.slot(s)
        {
            return Some((s, k));
        }
        order.into_iter().find_map(|s| self.slot(s).map(|k| (s, k)))
    }

    pub fn is_empty(&self) -> bool {
        self.collections.is_none() && self.purchase.is_none() && self.other.is_none()
    }

    /// The collections key, for the panes that query with it.
    pub fn collections_token(&self) -> Option<&str> {
        self.collections.as_ref().map(|k| k.token.as_str())
    }

    /// The purchase key, for orders, subscriptions and grants.
    pub fn purchase_token(&self) -> Option<&str> {
        self.purchase.as_ref().map(|k| k.token.as_str())
    }

    fn assess_ctx<'a>(now: DateTime<Utc>, conn: Option<&'a Connection>) -> AssessContext<'a> {
        AssessContext {
            now,
            profile_client_id: conn.map(|c| c.client_id.as_str()).filter(|s| !s.is_empty()),
            sandbox_public_key_pem: conn.and_then(|c| c.sandbox_public_key_pem.as_deref()),
        }
    }

    /// Time moved or the connection changed: assessments depend on both.
    pub fn reassess(&mut self, now: DateTime<Utc>, conn: Option<&Connection>) {
        self.now = Some(now);
        self.conn = conn.cloned();
        let ctx = Self::assess_ctx(now, conn);
        for slot in [Slot::Collections, Slot::Purchase, Slot::Other] {
            if let Some(k) = self.slot_mut(slot)
                && let Ok(d) = keys::decode(&k.token)
            {
                k.assessment = keys::assess(&d, &ctx);
            }
        }
    }

    /// Load text as a key of the case; says why when it is not one.
    pub fn load(&mut self, text: &str, ctx: &PaneCtx) -> PaneOutput {
        let actx = Self::assess_ctx(ctx.now, ctx.conn.as_ref());
        match keys::inspect(text, &actx) {
            Ok((cleaned, assessment)) => {
                let slot = Slot::for_kind(&assessment.kind);
                let fp = assessment.fingerprint.clone();
                let kind = slot.label();
                self.notes = cleaned.notes.clone();
                *self.slot_mut(slot) = Some(LoadedKey {
                    token: cleaned.token,
                    notes: cleaned.notes,
                    assessment,
                });
                self.shown = Some(slot);
                // One case, one customer in the audit log (issue 16).
                if let (Some(c), Some(p)) = (self.collections_token(), self.purchase_token()) {
                    crate::store::keyinfo::record_case(c, p);
                }
                self.input = Input::default();
                self.input_error = None;
                self.set_typing(false);
                self.cursor = 0;
                let mut out = PaneOutput::toast(format!("loaded {kind} key {fp}"));
                if !self.notes.is_empty() {
                    out.toast = Some(format!(
                        "loaded {kind} key {fp} ({})",
                        self.notes.join("; ")
                    ));
                }
                out
            }
            Err(e) => {
                let msg = e.to_string();
                self.input_error = Some(msg.clone());
                self.set_typing(true);
                PaneOutput::error(format!("not loaded: {msg}"))
            }
        }
    }

    pub fn paste(&mut self, text: String, ctx: &PaneCtx) -> PaneOutput {
        if let KeyModal::Offers(flow) = &mut self.modal {
            flow.paste(&text);
            return PaneOutput::none();
        }
        // Keep what was pasted visible (trimmed to one line) if it is rejected.
        let shown: String = text
            .chars()
            .filter(|c| !c.is_control())
            .take(4096)
            .collect();
        self.input = Input::new(shown);
        self.load(&text, ctx)
    }

    pub fn on_key(&mut self, k: TermKey, ctx: &PaneCtx) -> Option<PaneOutput> {
        if let KeyModal::Offers(flow) = &mut self.modal {
            let out = flow.on_key(k, ctx);
            self.offers_done();
            return Some(out);
        }
        if self.editing() {
            return match keymap::lookup(&k, Scope::Forms) {
                Some(Command::Submit) => {
                    let text = self.input.value().to_string();
                    Some(self.load(&text, ctx))
                }
                Some(Command::Cancel) => {
                    self.modal = KeyModal::None;
                    self.input_error = None;
                    Some(PaneOutput::none())
                }
                // Paste and pane switching stay global while typing, unless
                // rebound to a key that types something.
                _ if !keymap::Key::new(k.code, k.modifiers).is_printable()
                    && matches!(
                        keymap::lookup(&k, Scope::Global),
                        Some(Command::PasteKey | Command::NextPane | Command::PrevPane)
                    ) =>
                {
                    None
                }
                _ => {
                    self.input.handle_event(&Event::Key(k));
                    self.input_error = None;
                    Some(PaneOutput::none())
                }
            };
        }
        if self.is_empty() && keymap::lookup(&k, Scope::Lists) == Some(Command::Open) {
            self.set_typing(true);
            return Some(PaneOutput::none());
        }
        match keymap::lookup(&k, Scope::Key) {
            Some(Command::NextKey) => {
                self.cycle();
                Some(PaneOutput::none())
            }
            _ => None,
        }
    }

    fn cycle(&mut self) {
        let order = [Slot::Collections, Slot::Purchase, Slot::Other];
        let cur = self.current().map(|(s, _)| s);
        let start = cur
            .and_then(|c| order.iter().position(|s| *s == c))
            .unwrap_or(0);
        for i in 1..=order.len() {
            let s = order[(start + i) % order.len()];
            if self.slot(s).is_some() {
                self.shown = Some(s);
                self.cursor = 0;
                return;
            }
        }
    }

    pub fn on_command(&mut self, cmd: Command, ctx: &PaneCtx) -> Routed {
        let claims = self
            .current()
            .map(|(_, k)| k.assessment.claims.len())
            .unwrap_or(0);
        match cmd {
            Command::EditKey => {
                self.set_typing(true);
                Routed::handled(PaneOutput::none())
            }
            Command::ClearKey => {
                *self = KeyPane {
                    local_offset: self.local_offset,
                    now: self.now,
                    conn: self.conn.take(),
                    ..KeyPane::default()
                };
                Routed::handled(PaneOutput::toast("case cleared"))
            }
            Command::Offers => {
                let mut flow = super::offers::OfferFlow::default();
                flow.start();
                self.modal = KeyModal::Offers(flow);
                Routed::handled(PaneOutput::none())
            }
            Command::RawView => {
                self.raw = !self.raw;
                Routed::handled(PaneOutput::none())
            }
            Command::Up => {
                self.cursor = self.cursor.saturating_sub(1);
                Routed::handled(PaneOutput::none())
            }
            Command::Down => {
                self.cursor = (self.cursor + 1).min(claims);
                Routed::handled(PaneOutput::none())
            }
            Command::Top => {
                self.cursor = 0;
                Routed::handled(PaneOutput::none())
            }
            Command::Bottom => {
                self.cursor = claims;
                Routed::handled(PaneOutput::none())
            }
            Command::Open if self.is_empty() => {
                self.set_typing(true);
                Routed::handled(PaneOutput::none())
            }
            Command::Copy => Routed::handled(self.copy()),
            Command::Renew => Routed::handled(self.ask_renew(ctx)),
            Command::Back => {
                self.raw = false;
                Routed::handled(PaneOutput::none())
            }
            _ => Routed::ignored(),
        }
    }

    fn copy(&self) -> PaneOutput {
        let Some((slot, k)) = self.current() else {
            return PaneOutput::error("nothing to copy: no key loaded");
        };
        let a = &k.assessment;
        let (text, label) = if self.raw {
            (
                format!("{}\n{}", a.header_json(), a.payload_json()),
                "the raw JSON".to_string(),
            )
        } else if self.cursor == 0 {
            (
                k.token.clone(),
                format!("the {} key {}", slot.label(), a.fingerprint),
            )
        } else {
            match a.claims.get(self.cursor - 1) {
                Some(c) => (c.value.clone(), format!("claim {}", c.name)),
                None => (k.token.clone(), format!("the {} key", slot.label())),
            }
        };
        PaneOutput::effect(Effect::Copy { text, label })
    }

    fn ask_renew(&mut self, ctx: &PaneCtx) -> PaneOutput {
        let Some((slot, k)) = self.current() else {
            return PaneOutput::error("no key to renew: paste a User Store ID first");
        };
        if slot == Slot::Other {
            return PaneOutput::error(
                "only User Store IDs (collections or purchase keys) can be renewed",
            );
        }
        if self.renewing.is_some() {
            return PaneOutput::error("a renewal is already under way");
        }
        let a = &k.assessment;
        if matches!(a.time_verdict, Verdict::Expired) {
            return PaneOutput::error(
                "this key has expired and cannot be renewed: the client app must mint a new one",
            );
        }
        if ctx.conn.is_none() {
            return PaneOutput::error("not connected to a Store yet");
        }
        let expiry = a
            .expires_at
            .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_else(|| "unknown".into());
        let request = WriteRequest::renew_key(&k.token).with_expected_effect(format!(
            "a new key valid for 30 days replaces this one in the case (this one expires {expiry})"
        ));
        let uri = a
            .refresh_uri
            .clone()
            .unwrap_or_else(|| "(no refreshUri claim)".into());
        let dialog = ConfirmDialog::for_write(
            format!("Renew {} key", slot.label()),
            &request.preview(&ctx.actor),
            a.user_id.as_deref(),
            format!("POST {uri}  (serviceTicket: a fresh service token, sent but never shown)"),
            None,
            Effect::Pane(PaneId::Key, PaneJob::Key(KeyJob::Renew { slot, request })),
        );
        PaneOutput {
            confirm: Some(Box::new(dialog)),
            ..PaneOutput::none()
        }
    }

    pub fn on_job_started(&mut self, job: &KeyJob) {
        if let KeyJob::Renew { slot, .. } = job {
            self.renewing = Some(*slot);
        }
    }

    pub fn on_event(&mut self, ev: KeyPaneEvent, ctx: &PaneCtx) -> PaneOutput {
        match ev {
            KeyPaneEvent::Offers(result) => match &mut self.modal {
                KeyModal::Offers(flow) => {
                    let out = flow.on_loaded(result);
                    self.offers_done();
                    out
                }
                // The flow was closed while the offers were read.
                _ => PaneOutput::none(),
            },
            KeyPaneEvent::OfferClaimed(Ok(line)) => PaneOutput::toast(line),
            KeyPaneEvent::OfferClaimed(Err(e)) => PaneOutput::error(e),
            KeyPaneEvent::Renewed { slot, result } => {
                self.renewing = None;
                match result {
                    Ok(new_key) => {
                        let out = self.load(&new_key, ctx);
                        if out.error.is_some() {
                            return PaneOutput::error(
                                "the Store answered the renewal with something that is not a key",
                            );
                        }
                        let exp = self
                            .slot(slot)
                            .and_then(|k| k.assessment.expires_at)
                            .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                            .unwrap_or_else(|| "?".into());
                        PaneOutput::toast(format!("renewed {} key: new expiry {exp}", slot.label()))
                    }
                    Err(msg) => PaneOutput::error(format!("renew failed: {msg}")),
                }
            }
        }
    }

    /// The two User Store ID slots of the case, for the case strip.
    pub fn case_summary(&self) -> [(Slot, Option<&LoadedKey>); 2] {
        [
            (Slot::Collections, self.collections.as_ref()),
            (Slot::Purchase, self.purchase.as_ref()),
        ]
    }
}

impl super::Pane for KeyPane {
    fn id(&self) -> super::PaneId {
        super::PaneId::Key
    }
    fn on_key(
        &mut self,
        k: crossterm::event::KeyEvent,
        _case: &mut crate::case::live::LiveCase,
        ctx: &super::PaneCtx,
    ) -> Option<super::PaneOutput> {
        KeyPane::on_key(self, k, ctx)
    }
    fn on_command(
        &mut self,
        cmd: crate::tui::keymap::Command,
        _case: &mut crate::case::live::LiveCase,
        ctx: &super::PaneCtx,
    ) -> super::Routed {
        KeyPane::on_command(self, cmd, ctx)
    }
    fn accepts_text(&self) -> bool {
        true
    }
    fn on_paste(
        &mut self,
        text: String,
        _case: &mut crate::case::live::LiveCase,
        ctx: &super::PaneCtx,
    ) -> super::PaneOutput {
        self.paste(text, ctx)
    }
    fn on_event(
        &mut self,
        ev: super::PaneEvent,
        _case: &mut crate::case::live::LiveCase,
        ctx: &super::PaneCtx,
    ) -> super::PaneOutput {
        match ev {
            super::PaneEvent::Key(e) => KeyPane::on_event(self, e, ctx),
            _ => super::PaneOutput::none(),
        }
    }
    fn on_job_started(&mut self, job: &super::PaneJob, _case: &mut crate::case::live::LiveCase) {
        if let super::PaneJob::Key(j) = job {
            KeyPane::on_job_started(self, j)
        }
    }
    fn on_job_crashed(&mut self, _message: &str, _case: &mut crate::case::live::LiveCase) {
        self.renewing = None;
    }
    fn draw(&self, f: &mut ratatui::Frame, area: ratatui::layout::Rect, ctx: &super::DrawCtx) {
        super::key_view::view(f, area, ctx.theme, self, ctx)
    }
}
