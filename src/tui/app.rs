//! App state and `update`: it routes Actions to the overlays and panes.
//!
//! `App::update` is pure: no I/O, no clock reads. Everything from outside
//! (keys, pastes, job results, the time) arrives as an [`Action`]; everything
//! the app wants done (a Store call, a clipboard read) leaves as an [`Effect`]
//! (both in `tui::action`, so panes never import this module).

pub use crate::tui::action::{Action, ConnState, Connection, Effect, JobEvent, PendingLine};

use crate::config::Environment;
use crate::tui::keymap::{self, Command, Scope};
use crate::tui::panes::{PaneId, Panes};
use crate::tui::pending_gate::{Choice, GateOutcome, PendingGate};
use crate::tui::widgets::confirm::{ConfirmDialog, ConfirmOutcome};
use crate::tui::widgets::form::{Form, FormOutcome};
use crate::tui::widgets::palette::PaletteState;
use chrono::{DateTime, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEvent, MouseEventKind};

/// Which overlay, if any, has the keyboard.
#[derive(Debug)]
pub enum Overlay {
    Help {
        scroll: u16,
    },
    Palette(PaletteState),
    Confirm(Box<ConfirmDialog>),
    /// `:resolve`: which pending write, its outcome and the operator's note.
    Resolve(Box<Form>),
    /// Pick a demo customer of the embedded sandbox.
    Demo {
        selected: usize,
    },
    /// `:doctor`: the checks, filling in as they finish.
    Doctor(Box<crate::tui::doctor::DoctorOverlay>),
    /// A write like the one being confirmed is pending: replay, resolve or
    /// send anyway (`tui::pending_gate`).
    PendingGate(Box<PendingGate>),
}

/// Facts about the session that the status bar shows.
#[derive(Clone, Debug)]
pub struct Session {
    pub environment: Environment,
    pub profile: String,
    pub operator: String,
    pub writes_allowed: bool,
    pub read_only_reason: Option<String>,
}

pub struct App {
    pub session: Session,
    pub conn: ConnState,
    pub focus: PaneId,
    pub panes: Panes,
    pub overlay: Option<Overlay>,
    pub last_error: Option<String>,
    pub toast: Option<String>,
    /// Writes left pending (no definite answer yet).
    pub pending: Vec<PendingLine>,
    /// Collection calls left in the 5-minute window for this customer.
    pub budget_left: Option<u32>,
    /// Whose budget `budget_left` is (`keyinfo::customer_id` of the
    /// collections key: never its userId claim).
    budget_customer: Option<String>,
    pub now: DateTime<Utc>,
    pub size: (u16, u16),
    pub should_quit: bool,
    /// `:resolve` asked for a fresh pending list; the form opens on it.
    resolve_wanted: bool,
    /// The write `:resolve` offers first (chosen in the pending gate).
    resolve_first: Option<i64>,
    /// Set whenever state changed, so the loop draws only then.
    pub dirty: bool,
    /// Writes (and replays) sent whose answer has not come back yet.
    pub in_flight: Vec<crate::tui::in_flight::InFlight>,
    /// When the tick last asked for the pending list again.
    pending_read_at: Option<DateTime<Utc>>,
    /// Other agents on the customer of the last write confirmation
    /// (`tui::collision`).
    pub others: Option<crate::tui::collision::Others>,
    /// The customer `others` was last asked for by the case itself.
    others_asked: Option<String>,
}

impl App {
    pub fn new(session: Session, now: DateTime<Utc>, size: (u16, u16)) -> Self {
        Self {
            session,
            conn: ConnState::Connecting,
            focus: PaneId::Key,
            panes: Panes::default(),
            overlay: None,
            last_error: None,
            toast: None,
            budget_left: None,
            budget_customer: None,
            pending: Vec::new(),
            now,
            size,
            should_quit: false,
            resolve_wanted: false,
            resolve_first: None,
            dirty: true,
            in_flight: Vec::new(),
            pending_read_at: None,
            others: None,
            others_asked: None,
        }
    }

    /// The status line of the writes in flight, if any.
    pub fn in_flight_line(&self) -> Option<String> {
        crate::tui::in_flight::line(&self.in_flight, self.now)
    }

    /// Tick every second (not every 30 s): a write's elapsed time is on
    /// screen, or a pending list is re-read for settlements elsewhere.
    pub fn wants_fast_tick(&self) -> bool {
        !self.in_flight.is_empty() || !self.pending.is_empty()
    }

    pub fn connection(&self) -> Option<&Connection> {
        match &self.conn {
            ConnState::Ready(c) => Some(c),
            _ => None,
        }
    }

    /// Apply one action; return what must be done outside.
    pub fn update(&mut self, action: Action) -> Vec<Effect> {
        self.dirty = true;
        let mut effects = match action {
            Action::Quit => self.quit(),
            Action::Resize(w, h) => {
                self.size = (w, h);
                vec![]
            }
            Action::Tick(now) => {
                self.now = now;
                let conn = self.connection().cloned();
                self.panes.on_tick(now, conn.as_ref());
                // Another storedesk (or a headless run) may settle a pending
                // write: the badge and notice follow the journal.
                if crate::tui::in_flight::reread_due(&self.pending, self.pending_read_at, now) {
                    self.pending_read_at = Some(now);
                    vec![Effect::ReadPending]
                } else {
                    vec![]
                }
            }
            Action::Paste(text) => self.on_paste(text),
            Action::Mouse(m) => self.on_mouse(m),
            Action::Key(k) => self.on_key(k),
            Action::Job(ev) => {
                let which = crate::tui::in_flight::settles(&ev);
                if let Some(which) = which {
                    crate::tui::in_flight::settle(&mut self.in_flight, which, self.now);
                }
                let mut fx = self.on_job(ev);
                // A pane's write that settled may have been left pending (or
                // settled an older one): the badge follows the journal. A
                // replay's job reads the list itself.
                if matches!(which, Some(Some(_))) {
                    fx.push(Effect::ReadPending);
                }
                fx
            }
        };
        if !self.should_quit {
            effects.extend(self.sync_panes());
        }
        let pending = self.pending.len();
        self.in_flight.extend(
            effects
                .iter()
                .filter_map(|e| crate::tui::in_flight::started(e, pending, self.now)),
        );
        // The budget is per customer: a new collections key starts unknown.
        let customer = self
            .panes
            .key
            .collections_token()
            .map(crate::store::keyinfo::customer_id);
        if customer != self.budget_customer {
            self.budget_customer = customer;
            self.budget_left = None;
        }
        // Another agent on this customer: asked as the case's customer
        // changes (and again when the team's audit feed says someone
        // wrote), so the status bar warns before any write is prepared.
        if !self.should_quit {
            effects.extend(self.ask_about_others());
        }
        // Scroll positions follow the selection here, from the layout the
        // view will draw, so drawing stays a pure function of the App.
        let size = ratatui::layout::Rect::new(0, 0, self.size.0, self.size.1);
        if let Some(body) = crate::tui::view::body_area(self, size) {
            self.panes.fit(self.focus, body);
        }
        effects
    }

    /// The customer the case last asked "who else is on them" for.
    pub fn others_asked_for(&self) -> Option<&str> {
        self.others_asked.as_deref()
    }

    /// `Effect::CheckOthers` for the case's customer, once per customer
    /// (the answer lands in `others`).
    fn ask_about_others(&mut self) -> Option<Effect> {
        let k = &self.panes.key;
        let customer = [k.collections_token(), k.purchase_token()]
            .into_iter()
            .flatten()
            .next()
            .map(crate::store::keyinfo::case_customer);
        if customer == self.others_asked {
            return None;
        }
        self.others_asked.clone_from(&customer);
        customer.map(|customer| Effect::CheckOthers { customer })
    }

    /// Let panes catch up with focus and the case (e.g. the Entitlements
    /// pane starts listing when it comes on screen with a new key).
    fn sync_panes(&mut self) -> Vec<Effect> {
        let ctx = self.pane_ctx();
        let out = self.panes.sync(self.focus, &ctx);
        if out.effects.is_empty() && out.toast.is_none() && out.error.is_none() {
            return vec![];
        }
        self.dirty = true;
        self.absorb(out)
    }

    fn quit(&mut self) -> Vec<Effect> {
        self.should_quit = true;
        vec![Effect::Quit]
    }

    fn on_job(&mut self, ev: JobEvent) -> Vec<Effect> {
        match ev {
            JobEvent::Connected(c) => {
                self.conn = ConnState::Ready(c);
                let conn = self.connection().cloned();
                self.panes.on_tick(self.now, conn.as_ref());
                vec![]
            }
            JobEvent::ConnectFailed(msg) => {
                self.last_error = Some(format!("cannot connect: {msg}"));
                self.conn = ConnState::Failed(msg);
                vec![]
            }
            JobEvent::Pending(Ok(lines)) => {
                // A write's own notice ("kept as pending write #12") already
                // says it, better than the general one.
                let named = self.last_error.as_deref().is_some_and(|e| {
                    lines
                        .iter()
                        .any(|l| e.contains(&format!("pending write #{}", l.id)))
                });
                if !lines.is_empty() && self.pending.is_empty() && !named {
                    let by_hand = if lines.iter().any(|l| !l.replay_safe) {
                        "; :resolve settles by hand the ones replay must not resend"
                    } else {
                        ""
                    };
                    self.last_error = Some(format!(
                        "{} write(s) left pending without a definite answer: run :replay to send them again with their original keys{by_hand}",
                        lines.len()
                    ));
                } else if let Some(ids) = self
                    .last_error
                    .as_deref()
                    .and_then(|e| crate::tui::in_flight::stale_notice(e, &self.pending, &lines))
                {
                    // Settled by :replay, :resolve or another process: the
                    // notice that it is pending is no longer true.
                    let ids: Vec<String> = ids.iter().map(|i| format!("#{i}")).collect();
                    self.last_error = None;
                    self.toast = Some(format!(
                        "pending write {} settled; {} still pending",
                        ids.join(", "),
                        lines.len()
                    ));
                }
                self.pending = lines;
                if std::mem::take(&mut self.resolve_wanted) {
                    // Something else opened meanwhile: do not take it over.
                    if self.overlay.is_some() {
                        self.toast = Some("the :resolve form was not opened over another window; run :resolve again".into());
                        return vec![];
                    }
                    return self.open_resolve_form();
                }
                vec![]
            }
            JobEvent::Pending(Err(e)) => {
                self.resolve_wanted = false;
                self.last_error = Some(format!("cannot read the journal: {e}"));
                vec![]
            }
            JobEvent::Resolved(Ok(line)) => {
                // A notice about pending writes is out of date now; any other
                // error stays.
                if self
                    .last_error
                    .as_deref()
                    .is_some_and(|e| e.contains("pending"))
                {
                    self.last_error = None;
                }
                self.toast = Some(line);
                vec![]
            }
            JobEvent::Doctor(r) => {
                // Results of a closed overlay are dropped.
                if let Some(Overlay::Doctor(d)) = &mut self.overlay {
                    match r {
                        Some(r) => d.results.push(r),
                        None => d.done = true,
                    }
                }
                vec![]
            }
            JobEvent::Resolved(Err(e)) => {
                self.last_error = Some(format!("not resolved: {e}"));
                vec![]
            }
            JobEvent::Replayed(lines) => {
                let (report, settled) = replay_report(&lines);
                if settled {
                    self.last_error = None;
                    self.toast = Some(report);
                } else {
                    self.toast = None;
                    self.last_error = Some(report);
                }
                vec![]
            }
            JobEvent::Clipboard(Ok(text)) => self.on_paste(text),
            JobEvent::Clipboard(Err(msg)) => {
                self.last_error = Some(format!(
                    "clipboard not reachable ({msg}); type or paste the key with your terminal instead"
                ));
                self.focus = PaneId::Key;
                self.panes.key.start_editing();
                vec![]
            }
            JobEvent::Copied(Ok(label)) => {
                self.toast = Some(format!("copied {label}"));
                vec![]
            }
            JobEvent::Copied(Err(msg)) => {
                self.last_error = Some(format!("copy failed: {msg}"));
                vec![]
            }
            JobEvent::Crashed { tag, message } => {
                // The job will never answer: whatever waited for it stops
                // waiting, so no write flag or spinner is left stuck.
                if let Some(id) = tag.pane {
                    self.panes.on_job_crashed(id, &message);
                }
                if tag.what == "connect" {
                    self.conn = ConnState::Failed(format!("internal error: {message}"));
                }
                self.last_error = Some(format!(
                    "internal error: the {} job stopped ({message}); details and a backtrace are in the log",
                    tag.what
                ));
                vec![]
            }
            JobEvent::Others(o) => {
                let now = self.now;
                match &mut self.overlay {
                    Some(Overlay::Confirm(d)) => {
                        crate::tui::collision::fill(d, Some(&o), now);
                    }
                    Some(Overlay::PendingGate(g)) => {
                        crate::tui::collision::fill(&mut g.next, Some(&o), now);
                    }
                    _ => {}
                }
                self.others = Some(o);
                vec![]
            }
            JobEvent::AuditChanged => {
                // Someone wrote: the case's customer is asked about again.
                self.others_asked = None;
                // Another agent's write (LISTEN/NOTIFY): read the log again
                // if the Audit pane has shown it; otherwise it reads it when
                // it comes on screen.
                if self.panes.audit.loaded || self.focus == PaneId::Audit {
                    vec![Effect::Pane(
                        PaneId::Audit,
                        crate::tui::panes::PaneJob::Audit(crate::tui::panes::audit::AuditJob::Load),
                    )]
                } else {
                    vec![]
                }
            }
            JobEvent::Pane(id, ev) => {
                if let crate::tui::panes::PaneEvent::Entitlements(e) = &ev
                    && let Some(n) = e.calls_left()
                {
                    self.budget_left = Some(n);
                }
                let ctx = self.pane_ctx();
                let out = self.panes.on_event(id, ev, &ctx);
                self.absorb(out)
            }
        }
    }

    fn pane_ctx(&self) -> crate::tui::panes::PaneCtx {
        crate::tui::panes::PaneCtx {
            actor: crate::journal::Actor {
                operator: self.session.operator.clone(),
                profile: self.session.profile.clone(),
                environment: self.session.environment,
            },
            now: self.now,
            conn: self.connection().cloned(),
            writes_allowed: self.session.writes_allowed,
            environment: self.session.environment,
        }
    }

    /// Fold a pane's answer into app state.
    fn absorb(&mut self, out: crate::tui::panes::PaneOutput) -> Vec<Effect> {
        if let Some(t) = out.toast {
            self.last_error = None;
            self.toast = Some(t);
        }
        if let Some(e) = out.error {
            self.toast = None;
            self.last_error = Some(e);
        }
        if let Some(f) = out.focus {
            self.focus = f;
        }
        let mut effects = out.effects;
        if let Some(mut d) = out.confirm {
            // Who else is on this customer: shown from the last answer at
            // once, then from a fresh one (`tui::collision`).
            effects.extend(crate::tui::collision::check_for(d.effect()));
            crate::tui::collision::fill(&mut d, self.others.as_ref(), self.now);
            self.overlay = Some(self.gate(d));
        }
        effects
    }

    /// A write's confirmation, unless a write of the same customer and
    /// product is pending in this profile: then the gate asks first.
    fn gate(&self, d: Box<ConfirmDialog>) -> Overlay {
        let same: Vec<PendingLine> = crate::tui::pending_gate::write_of(d.effect())
            .map(|req| {
                crate::tui::pending_gate::blocking(&self.pending, &self.session.profile, req)
                    .into_iter()
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        if same.is_empty() {
            Overlay::Confirm(d)
        } else {
            Overlay::PendingGate(Box::new(PendingGate::new(same, d)))
        }
    }

    fn on_paste(&mut self, text: String) -> Vec<Effect> {
        match &mut self.overlay {
            Some(Overlay::Palette(p)) => {
                p.insert_str(&text);
                return vec![];
            }
            Some(Overlay::Resolve(form)) => {
                form.insert_str(&text);
                return vec![];
            }
            // RETAIL's typed confirmation takes the paste into its field.
            Some(Overlay::Confirm(d)) if d.must_type.is_some() => {
                d.insert_str(&text);
                d.mismatch = false;
                return vec![];
            }
            // Any other open window has no text field: loading a key into
            // the case behind it (behind a confirmation, above all) would
            // change what the operator is looking at without showing it.
            Some(open) => {
                self.last_error = Some(format!(
                    "paste ignored: {} is open and has no text field; close it (Esc) first, then paste",
                    overlay_name(open)
                ));
                return vec![];
            }
            None => {}
        }
        // A paste anywhere but a text field is a key for the case.
        let ctx = self.pane_ctx();
        if self.focus != PaneId::Key && self.panes.accepts_text(self.focus) {
            let out = self.panes.on_paste(self.focus, text, &ctx);
            return self.absorb(out);
        }
        self.focus = PaneId::Key;
        let out = self.panes.key.paste(text, &ctx);
        self.absorb(out)
    }

    fn on_mouse(&mut self, m: MouseEvent) -> Vec<Effect> {
        let cmd = match m.kind {
            MouseEventKind::ScrollDown => Command::Down,
            MouseEventKind::ScrollUp => Command::Up,
            _ => {
                self.dirty = false;
                return vec![];
            }
        };
        let ctx = self.pane_ctx();
        let out = self.panes.on_command(self.focus, cmd, &ctx);
        self.absorb(out.output)
    }

    fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        if key.kind == KeyEventKind::Release {
            self.dirty = false;
            return vec![];
        }
        // Ctrl-C always quits, whatever has focus.
        if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
            return self.quit();
        }
        self.toast = None;
        // Popups first, then the pane, then the global keymap.
        if self.overlay.is_some() {
            return self.on_overlay_key(key);
        }
        let ctx = self.pane_ctx();
        if let Some(out) = self.panes.on_key(self.focus, key, &ctx) {
            return self.absorb(out);
        }
        let scope_cmd = keymap::lookup(&key, Scope::Global)
            .or_else(|| keymap::lookup(&key, Scope::Lists))
            .or_else(|| keymap::lookup(&key, self.panes.get(self.focus).scope()));
        match scope_cmd {
            Some(cmd) => self.run_command(cmd),
            None => {
                self.dirty = false;
                vec![]
            }
        }
    }

    fn on_overlay_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let demos = self
            .connection()
            .map(|c| c.demo_customers.len())
            .unwrap_or(0);
        match &mut self.overlay {
            Some(Overlay::Doctor(d)) => {
                let cmd = keymap::lookup(&key, Scope::Lists)
                    .or_else(|| keymap::lookup(&key, Scope::Forms))
                    .or_else(|| keymap::lookup(&key, Scope::Global));
                if d.on_command(cmd) {
                    self.overlay = None;
                }
                vec![]
            }
            Some(Overlay::Help { .. }) => {
                // Scrolls with the list keys, so a rebound list scrolls it too.
                let size = ratatui::layout::Rect::new(0, 0, self.size.0, self.size.1);
                let max = crate::tui::view::body_area(self, size)
                    .map_or(0, crate::tui::widgets::help::max_scroll);
                let Some(Overlay::Help { scroll }) = &mut self.overlay else {
                    return vec![];
                };
                match keymap::lookup(&key, Scope::Lists) {
                    Some(Command::Down) => *scroll = scroll.saturating_add(1).min(max),
                    Some(Command::Up) => *scroll = scroll.saturating_sub(1),
                    Some(Command::PageDown) => *scroll = scroll.saturating_add(10).min(max),
                    Some(Command::PageUp) => *scroll = scroll.saturating_sub(10),
                    Some(Command::Top) => *scroll = 0,
                    Some(Command::Bottom) => *scroll = max,
                    _ if keymap::lookup(&key, Scope::Global) == Some(Command::Quit) => {
                        return self.quit();
                    }
                    _ => self.overlay = None,
                }
                vec![]
            }
            Some(Overlay::Palette(p)) => match keymap::lookup(&key, Scope::Forms) {
                Some(Command::Cancel) => {
                    self.overlay = None;
                    vec![]
                }
                Some(Command::Submit) => {
                    let chosen = p.selected_command();
                    self.overlay = None;
                    match chosen {
                        Some(cmd) => self.run_command(cmd),
                        None => {
                            self.last_error = Some("no command matches".into());
                            vec![]
                        }
                    }
                }
                _ => {
                    p.on_key(key);
                    vec![]
                }
            },
            Some(Overlay::Demo { selected }) => {
                let n = demos;
                // A picker: the list keys, and quit's keys close it.
                let cmd = keymap::lookup(&key, Scope::Lists).or_else(|| {
                    (keymap::lookup(&key, Scope::Global) == Some(Command::Quit))
                        .then_some(Command::Back)
                });
                match cmd {
                    Some(Command::Down) if n > 0 => *selected = (*selected + 1) % n,
                    Some(Command::Up) if n > 0 => *selected = (*selected + n - 1) % n,
                    Some(Command::Top | Command::PageUp) => *selected = 0,
                    Some(Command::Bottom | Command::PageDown) => *selected = n.saturating_sub(1),
                    Some(Command::Open) => {
                        let pick = *selected;
                        self.overlay = None;
                        return self.load_demo(pick);
                    }
                    Some(Command::Back) => self.overlay = None,
                    _ => {}
                }
                vec![]
            }
            Some(Overlay::Resolve(form)) => match form.on_key(key) {
                FormOutcome::Editing => vec![],
                FormOutcome::Cancelled => {
                    self.overlay = None;
                    self.toast = Some("cancelled: nothing was changed".into());
                    vec![]
                }
                FormOutcome::Submitted => {
                    match resolve_request(form, &self.pending, &self.session.profile) {
                        Ok((line, applied, note)) => {
                            let dialog =
                                resolve_dialog(&line, applied, note, self.session.environment);
                            self.overlay = Some(Overlay::Confirm(Box::new(dialog)));
                        }
                        Err(e) => form.error = Some(e),
                    }
                    vec![]
                }
            },
            Some(Overlay::PendingGate(g)) => match g.on_key(key) {
                GateOutcome::Stay => vec![],
                GateOutcome::Cancelled => {
                    self.overlay = None;
                    self.toast = Some("cancelled: nothing was sent".into());
                    vec![]
                }
                GateOutcome::Chosen(choice) => {
                    let Some(Overlay::PendingGate(g)) = self.overlay.take() else {
                        return vec![];
                    };
                    match choice {
                        Choice::Replay => self.ask_replay(),
                        Choice::Resolve => {
                            self.resolve_first = g.first_id();
                            self.ask_resolve()
                        }
                        Choice::SendAnyway => {
                            self.overlay = Some(Overlay::Confirm(g.next));
                            vec![]
                        }
                    }
                }
            },
            Some(Overlay::Confirm(d)) => match d.on_key(key) {
                ConfirmOutcome::Pending => vec![],
                ConfirmOutcome::Cancelled => {
                    self.toast = Some(if d.local_only {
                        "cancelled: nothing changed".into()
                    } else {
                        "cancelled: nothing was sent".into()
                    });
                    self.overlay = None;
                    vec![]
                }
                ConfirmOutcome::Confirmed(effect) => {
                    self.overlay = None;
                    if let Effect::Pane(id, job) = &effect {
                        self.panes.on_job_started(*id, job);
                    }
                    vec![effect]
                }
            },
            None => vec![],
        }
    }

    /// Confirm before sending pending writes again.
    fn ask_replay(&mut self) -> Vec<Effect> {
        if self.pending.is_empty() {
            self.toast = Some("no pending writes: every write has a definite answer".into());
            return vec![];
        }
        let body = self
            .pending
            .iter()
            .map(|p| {
                format!(
                    "#{} {} · customer {} · since {} · {} attempt(s){}",
                    p.id,
                    p.summary,
                    p.customer_fp,
                    p.created_at.chars().take(19).collect::<String>(),
                    p.attempts,
                    p.last_error
                        .as_deref()
                        .map(|e| format!(" · last: {e}"))
                        .unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
            .join("\n");
        let dialog = ConfirmDialog::new(
            format!("Replay {} pending write(s)", self.pending.len()),
            self.session.environment,
            "the customers named below (by key fingerprint)".into(),
            "each to its own endpoint, with its ORIGINAL idempotency key".into(),
            body,
            "the Store applies each at most once: a write that went through is confirmed, not repeated".into(),
            Some("REPLAY".into()),
            Effect::ReplayPending,
        );
        self.overlay = Some(Overlay::Confirm(Box::new(dialog)));
        vec![]
    }

    /// `:resolve`: read the pending writes afresh (a headless run may have
    /// left some since this console started), then open the form.
    fn ask_resolve(&mut self) -> Vec<Effect> {
        self.resolve_wanted = true;
        vec![Effect::ReadPending]
    }

    /// The `:resolve` form: the write, its outcome and a note; then the
    /// confirmation dialog. Offered first: the oldest write of this profile
    /// that replay will not resend.
    fn open_resolve_form(&mut self) -> Vec<Effect> {
        let profile = &self.session.profile;
        let mine: Vec<&PendingLine> = self
            .pending
            .iter()
            .filter(|p| &p.profile == profile)
            .collect();
        if mine.is_empty() {
            self.toast = Some(if self.pending.is_empty() {
                "no pending writes: every write has a definite answer".into()
            } else {
                format!(
                    "no pending writes of profile {profile}: start storedesk with the profile they were recorded under"
                )
            });
            return vec![];
        }
        let first = self.resolve_first.take();
        let id = mine
            .iter()
            .find(|p| Some(p.id) == first)
            .or_else(|| mine.iter().find(|p| !p.replay_safe))
            .map(|p| p.id.to_string())
            .unwrap_or_default();
        let mut form = Form::new(
            "Settle a pending write by hand — check the Store first",
            &[
                (
                    "write #",
                    "the pending write (status bar, :replay, `storedesk pending`)",
                    &id,
                ),
                (
                    "applied?",
                    "y: the Store shows the change · n: it does not",
                    "",
                ),
                ("note", "what you checked, for the audit log", ""),
            ],
        );
        form.focus = if id.is_empty() { 0 } else { 1 };
        self.overlay = Some(Overlay::Resolve(Box::new(form)));
        vec![]
    }

    /// Put a demo customer's two keys in the case.
    fn load_demo(&mut self, index: usize) -> Vec<Effect> {
        let Some(c) = self
            .connection()
            .and_then(|c| c.demo_customers.get(index))
            .cloned()
        else {
            return vec![];
        };
        let ctx = self.pane_ctx();
        self.focus = PaneId::Key;
        let first = self.panes.key.load(&c.collections_key, &ctx);
        let second = self.panes.key.load(&c.purchase_key, &ctx);
        self.panes.key.shown = Some(crate::tui::panes::key::Slot::Collections);
        if first.error.is_some() || second.error.is_some() {
            self.last_error = first.error.or(second.error);
        } else {
            self.last_error = None;
            self.toast = Some(format!("loaded demo customer {} ({})", c.name, c.user_id));
        }
        vec![]
    }

    /// Run a command from a key or the palette.
    pub fn run_command(&mut self, cmd: Command) -> Vec<Effect> {
        match cmd {
            Command::Quit => self.quit(),
            Command::Help => {
                self.overlay = Some(Overlay::Help { scroll: 0 });
                vec![]
            }
            Command::Palette => {
                let hidden = (!self.session.writes_allowed).then(|| {
                    self.session
                        .read_only_reason
                        .clone()
                        .unwrap_or_else(|| "writes are off for this profile".into())
                });
                self.overlay = Some(Overlay::Palette(PaletteState::new(hidden)));
                vec![]
            }
            Command::NextPane => {
                self.focus = self.focus.next();
                vec![]
            }
            Command::PrevPane => {
                self.focus = self.focus.prev();
                vec![]
            }
            Command::Pane(i) => {
                if let Some(p) = PaneId::ALL.get(i) {
                    self.focus = *p;
                }
                vec![]
            }
            Command::PasteKey => vec![Effect::ReadClipboard],
            Command::Doctor => {
                self.overlay = Some(Overlay::Doctor(Box::default()));
                let key = self
                    .panes
                    .key
                    .collections_token()
                    .or_else(|| self.panes.key.purchase_token())
                    .map(str::to_string);
                vec![Effect::Doctor { key }]
            }
            Command::ReplayPending => self.ask_replay(),
            Command::ResolvePending => self.ask_resolve(),
            Command::DemoCustomer => {
                match self.connection() {
                    Some(c) if !c.demo_customers.is_empty() => {
                        self.overlay = Some(Overlay::Demo { selected: 0 })
                    }
                    Some(_) => {
                        self.last_error =
                            Some("demo customers exist only on the embedded sandbox".into())
                    }
                    None => self.last_error = Some("not connected to a Store yet".into()),
                }
                vec![]
            }
            other => {
                if keymap::info(other).is_some_and(|i| i.write) && !self.session.writes_allowed {
                    self.last_error = Some(
                        self.session
                            .read_only_reason
                            .clone()
                            .unwrap_or_else(|| "writes are off for this profile".into()),
                    );
                    return vec![];
                }
                let ctx = self.pane_ctx();
                let routed = self.panes.on_command(self.focus, other, &ctx);
                if !routed.handled {
                    // Commands that belong to one pane take you there.
                    if let Some(home) = PaneId::home_of(other) {
                        self.focus = home;
                        let again = self.panes.on_command(home, other, &ctx);
                        return self.absorb(again.output);
                    }
                }
                self.absorb(routed.output)
            }
        }
    }
}

/// `:replay`'s report: what it did, counted, then each write's line; true
/// when every write got a definite answer.
fn replay_report(lines: &[String]) -> (String, bool) {
    if lines.is_empty() {
        return (
            "replay sent nothing: no write was pending any more (settled elsewhere)".into(),
            true,
        );
    }
    let count = |pat: &str| lines.iter().filter(|l| l.contains(pat)).count();
    let (done, refused) = (count(": done"), count(": refused"));
    let settled_elsewhere = count("already settled elsewhere");
    let open = lines.len() - done - refused - settled_elsewhere;
    let mut parts = vec![format!("{done} done"), format!("{refused} refused")];
    if settled_elsewhere > 0 {
        parts.push(format!("{settled_elsewhere} already settled elsewhere"));
    }
    parts.push(format!("{open} still pending"));
    (
        format!(
            "replay of {} write(s): {} — {}",
            lines.len(),
            parts.join(", "),
            lines.join(" · ")
        ),
        open == 0,
    )
}

/// What an open window is called in a notice.
fn overlay_name(o: &Overlay) -> &'static str {
    match o {
        Overlay::Help { .. } => "the help",
        Overlay::Palette(_) => "the command palette",
        Overlay::Confirm(_) => "a confirmation",
        Overlay::Resolve(_) => "the :resolve form",
        Overlay::Demo { .. } => "the demo customer picker",
        Overlay::Doctor(_) => "the doctor",
        Overlay::PendingGate(_) => "the pending-write question",
    }
}

/// The `:resolve` form, checked: the pending write it names (of this
/// profile), the outcome and the note; or why not, for the form to show.
fn resolve_request(
    form: &Form,
    pending: &[PendingLine],
    profile: &str,
) -> Result<(PendingLine, bool, String), String> {
    let raw_id = form.value(0).trim_start_matches('#');
    let id: i64 = raw_id
        .parse()
        .map_err(|_| format!("write #: {raw_id:?} is not a number"))?;
    let line = pending
        .iter()
        .find(|p| p.id == id)
        .ok_or_else(|| format!("write #{id} is not pending"))?;
    if line.profile != profile {
        return Err(format!(
            "write #{id} was recorded under profile {}: start storedesk with --profile {}",
            line.profile, line.profile
        ));
    }
    let applied = match form.value(1).to_ascii_lowercase().as_str() {
        "y" | "yes" => true,
        "n" | "no" => false,
        _ => return Err("applied?: answer y (the Store shows the change) or n".into()),
    };
    let note = form.value(2);
    if note.is_empty() {
        return Err("note: say what you checked; it goes into the audit log".into());
    }
    // A key pasted into the note is shown and recorded by fingerprint only.
    Ok((
        line.clone(),
        applied,
        crate::store::error::redact(note, None),
    ))
}

/// The confirmation for `:resolve`: nothing is sent, but the outcome is
/// final, so it gets the same dialog as a write.
fn resolve_dialog(
    line: &PendingLine,
    applied: bool,
    note: String,
    environment: Environment,
) -> ConfirmDialog {
    let outcome = if applied {
        "APPLIED: the write is marked done"
    } else {
        "NOT applied: the write is marked failed"
    };
    let prefer_replay = if line.replay_safe {
        "\nthis write CAN be replayed: :replay gets a definite answer from the Store (and the order ids a clawback is matched by); settle it by hand only if replay cannot"
    } else {
        ""
    };
    ConfirmDialog::new(
        format!("Settle write #{} by hand", line.id),
        environment,
        line.customer_fp.clone(),
        "the local journal only: nothing is sent to the Store".into(),
        format!(
            "#{} {} · since {} · {} attempt(s)\nrecord it as: {outcome}\nnote: {note}{prefer_replay}",
            line.id,
            line.summary,
            line.created_at.chars().take(19).collect::<String>(),
            line.attempts
        ),
        "it stops being pending; the audit log keeps the outcome, your note and your name".into(),
        Some("RESOLVE".into()),
        Effect::ResolvePending {
            id: line.id,
            applied,
            note,
        },
    )
    .local_only()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::render::render_text;
    use chrono::TimeZone;

    fn app() -> App {
        let session = Session {
            environment: Environment::Sandbox,
            profile: "sandbox".into(),
            operator: "tester".into(),
            writes_allowed: true,
            read_only_reason: None,
        };
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap();
        App::new(session, now, (80, 24))
    }

    fn key(c: KeyCode) -> Action {
        Action::Key(KeyEvent::new(c, KeyModifiers::NONE))
    }

    #[test]
    fn tab_and_digits_move_between_panes() {
        let mut a = app();
        a.update(key(KeyCode::Tab));
        assert_eq!(a.focus, PaneId::Entitlements);
        a.update(Action::Key(KeyEvent::new(
            KeyCode::BackTab,
            KeyModifiers::SHIFT,
        )));
        a.update(Action::Key(KeyEvent::new(
            KeyCode::BackTab,
            KeyModifiers::SHIFT,
        )));
        assert_eq!(a.focus, PaneId::Audit);
        a.update(key(KeyCode::Char('3')));
        assert_eq!(a.focus, PaneId::Orders);
    }

    #[test]
    fn help_opens_and_any_key_closes_it() {
        let mut a = app();
        a.update(key(KeyCode::Char('?')));
        assert!(matches!(a.overlay, Some(Overlay::Help { .. })));
        // Keys go to the overlay first: Tab must not switch panes.
        a.update(key(KeyCode::Tab));
        assert!(a.overlay.is_none());
        assert_eq!(a.focus, PaneId::Key);
    }

    #[test]
    fn q_quits_but_not_while_typing_a_key() {
        let mut a = app();
        a.update(key(KeyCode::Char('i')));
        assert!(a.panes.key.editing());
        let fx = a.update(key(KeyCode::Char('q')));
        assert!(fx.is_empty() && !a.should_quit);
        assert_eq!(a.panes.key.input.value(), "q");
        a.update(key(KeyCode::Esc));
        let fx = a.update(key(KeyCode::Char('q')));
        assert_eq!(fx, vec![Effect::Quit]);
        assert!(a.should_quit);
    }

    #[test]
    fn ctrl_c_quits_from_anywhere() {
        let mut a = app();
        a.update(key(KeyCode::Char('i')));
        a.update(key(KeyCode::Char(':')));
        let fx = a.update(Action::Key(KeyEvent::new(
            KeyCode::Char('c'),
            KeyModifiers::CONTROL,
        )));
        assert_eq!(fx, vec![Effect::Quit]);
    }

    #[test]
    fn palette_runs_the_best_match() {
        let mut a = app();
        a.update(key(KeyCode::Char(':')));
        for c in "audit".chars() {
            a.update(key(KeyCode::Char(c)));
        }
        a.update(key(KeyCode::Enter));
        assert!(a.overlay.is_none());
        assert_eq!(a.focus, PaneId::Audit);
    }

    #[test]
    fn ctrl_v_asks_for_the_clipboard_and_failure_says_so() {
        let mut a = app();
        let fx = a.update(Action::Key(KeyEvent::new(
            KeyCode::Char('v'),
            KeyModifiers::CONTROL,
        )));
        assert_eq!(fx, vec![Effect::ReadClipboard]);
        a.update(Action::Job(JobEvent::Clipboard(Err("no display".into()))));
        let e = a.last_error.clone().unwrap();
        assert!(e.contains("clipboard not reachable"), "{e}");
        assert!(a.panes.key.editing(), "typing must stay possible");
    }

    #[test]
    fn writes_refused_on_read_only_profile() {
        let mut a = app();
        a.session.writes_allowed = false;
        a.session.read_only_reason = Some("profile \"retail\" is read-only".into());
        let fx = a.run_command(Command::Renew);
        assert!(fx.is_empty());
        assert!(a.last_error.as_deref().unwrap().contains("read-only"));
        assert!(a.overlay.is_none());
    }

    #[test]
    fn garbage_paste_is_rejected_with_a_reason() {
        let mut a = app();
        a.update(Action::Paste("hello world".into()));
        assert!(a.panes.key.is_empty());
        assert!(a.last_error.is_some());
        assert!(a.panes.key.input_error.is_some());
    }

    #[test]
    fn too_small_terminal_says_so_and_recovers() {
        let mut a = app();
        a.update(Action::Resize(50, 10));
        let small = render_text(&a, 50, 10);
        assert!(small.contains("terminal too small (need 60×15"), "{small}");
        a.update(Action::Resize(80, 24));
        let ok = render_text(&a, 80, 24);
        assert!(ok.contains("SANDBOX"), "{ok}");
    }

    #[test]
    fn idle_actions_do_not_redraw() {
        let mut a = app();
        a.dirty = false;
        a.update(Action::Key(KeyEvent::new(
            KeyCode::Char('z'),
            KeyModifiers::NONE,
        )));
        assert!(!a.dirty, "an unbound key must not cost a frame");
    }
}

#[cfg(test)]
mod budget_tests {
    use super::*;
    use crate::store::PageProgress;
    use crate::tui::panes::PaneEvent;
    use crate::tui::panes::entitlements::EntEvent;
    use crate::tui::render::render_text;
    use chrono::TimeZone;

    #[test]
    fn status_bar_shows_the_calls_left_from_paging() {
        let session = Session {
            environment: Environment::Sandbox,
            profile: "sandbox".into(),
            operator: "t".into(),
            writes_allowed: true,
            read_only_reason: None,
        };
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap();
        let mut app = App::new(session, now, (100, 30));
        app.conn = ConnState::Ready(Connection {
            base_description: String::new(),
            client_id: String::new(),
            sandbox_id: None,
            sandbox_public_key_pem: None,
            demo_customers: vec![],
            grantable: vec![],
        });
        assert!(render_text(&app, 100, 30).contains("calls —/100"));
        let progress = PageProgress {
            pages: 7,
            items: 1400,
            calls_left: Some(38),
        };
        app.update(Action::Job(JobEvent::Pane(
            PaneId::Entitlements,
            PaneEvent::Entitlements(EntEvent::Page {
                fetch_id: 0,
                items: vec![],
                progress,
            }),
        )));
        assert_eq!(app.budget_left, Some(38));
        assert!(render_text(&app, 100, 30).contains("calls 38/100"));
    }
}

#[cfg(test)]
mod debug_tests {
    use super::*;

    #[test]
    fn debug_output_never_carries_a_key() {
        let key = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
        let demo = crate::sandbox::DemoCustomer {
            name: "ada".into(),
            user_id: "ada@x".into(),
            about: String::new(),
            collections_key: key.into(),
            purchase_key: key.into(),
        };
        let texts = [
            format!("{:?}", Action::Paste(key.into())),
            format!(
                "{:?}",
                Effect::Copy {
                    text: key.into(),
                    label: "the key".into()
                }
            ),
            format!("{:?}", JobEvent::Clipboard(Ok(key.into()))),
            format!(
                "{:?}",
                Action::Job(JobEvent::Connected(Connection {
                    base_description: "http://127.0.0.1:1".into(),
                    client_id: "c".into(),
                    sandbox_id: None,
                    sandbox_public_key_pem: None,
                    demo_customers: vec![demo],
                    grantable: vec![],
                }))
            ),
        ];
        for t in texts {
            assert!(!t.contains("eyJ"), "{t}");
        }
    }
}

#[cfg(test)]
mod status_tests {
    use super::*;
    use crate::tui::render::render_text;
    use chrono::TimeZone;

    #[test]
    fn a_long_error_is_shown_whole_at_80_columns() {
        let session = Session {
            environment: Environment::Retail,
            profile: "retail".into(),
            operator: "t".into(),
            writes_allowed: false,
            read_only_reason: None,
        };
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap();
        let mut app = App::new(session, now, (80, 24));
        let msg = "cannot connect: environment variable STOREDESK_CLIENT_SECRET (the client secret of profile \"retail\") is not set";
        app.update(Action::Job(JobEvent::ConnectFailed(msg.into())));
        let text = render_text(&app, 80, 24);
        let flat: String = text.lines().collect::<Vec<_>>().join("");
        assert!(flat.contains("is not set"), "{text}");
        assert!(flat.contains("STOREDESK_CLIENT_SECRET"), "{text}");
    }
}
