//! The pending gate: before a new write of a customer and product that
//! already has a write pending (outcome unknown) in this profile, the
//! console asks first. A new write carries a new idempotency key, so if the
//! pending one went through the Store would apply both; `:replay` (the
//! original key) or `:resolve` (after checking the Store) settle the first.
//! Sending the new one anyway is a deliberate third choice, and still goes
//! through the write's own confirmation.

use crate::journal::{WriteKind, WriteRequest};
use crate::tui::action::{Effect, PendingLine};
use crate::tui::keymap::{self, Command, Scope};
use crate::tui::panes::PaneJob;
use crate::tui::theme::Theme;
use crate::tui::widgets::centered;
use crate::tui::widgets::confirm::ConfirmDialog;
use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Wrap};
use serde_json::Value;

/// What a write is about beyond its customer: the product of a consume or
/// grant, the subscription of a change. None for writes that are harmless
/// to repeat (a key renewal), that have no product to compare (an offer
/// claim carries its own trackingId), or whose repeat is the same journal
/// entry's next attempt (a clawback acknowledgement with a fresh receipt).
pub fn subject(kind: WriteKind, body: &Value, target: Option<&str>) -> Option<String> {
    let field = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
    match kind {
        WriteKind::Consume | WriteKind::Grant => field("productId"),
        WriteKind::RecurrenceChange => target.map(str::to_string),
        WriteKind::ClawbackAck | WriteKind::RenewKey | WriteKind::OfferClaim => None,
    }
}

/// The write a confirmation would send, if it is one.
pub fn write_of(effect: &Effect) -> Option<&WriteRequest> {
    use crate::tui::panes::subscriptions::SubsJob;
    use crate::tui::panes::{clawbacks::ClawJob, entitlements::EntJob, key::KeyJob};
    match effect {
        Effect::Pane(_, PaneJob::Entitlements(EntJob::Write(r)))
        | Effect::Pane(_, PaneJob::Subscriptions(SubsJob::Write(r)))
        | Effect::Pane(_, PaneJob::Clawbacks(ClawJob::Ack(r)))
        | Effect::Pane(
            _,
            PaneJob::Key(KeyJob::Renew { request: r, .. } | KeyJob::ClaimOffer { request: r }),
        ) => Some(r),
        _ => None,
    }
}

/// This profile's pending writes of the same customer and the same subject
/// as `req`. The customer is the journal's (the case's customer, stable
/// across a case's keys) or, failing that, the same key.
pub fn blocking<'a>(
    pending: &'a [PendingLine],
    profile: &str,
    req: &WriteRequest,
) -> Vec<&'a PendingLine> {
    let Some(want) = subject(req.kind, &req.body, req.target.as_deref()) else {
        return Vec::new();
    };
    let customer = crate::store::keyinfo::case_customer(&req.customer_key);
    let fp = crate::journal::mask::fingerprint(&req.customer_key);
    pending
        .iter()
        .filter(|p| {
            p.profile == profile
                && p.subject.as_deref() == Some(want.as_str())
                && (p.customer == customer || p.customer_fp == fp)
        })
        .collect()
}

/// The choices, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Choice {
    Replay,
    Resolve,
    SendAnyway,
}

const CHOICES: [Choice; 3] = [Choice::Replay, Choice::Resolve, Choice::SendAnyway];

#[derive(Debug)]
pub enum GateOutcome {
    Stay,
    Cancelled,
    Chosen(Choice),
}

#[derive(Debug)]
pub struct PendingGate {
    pub pending: Vec<PendingLine>,
    /// The new write's own confirmation, opened on "send anyway".
    pub next: Box<ConfirmDialog>,
    pub choice: usize,
}

impl PendingGate {
    pub fn new(pending: Vec<PendingLine>, next: Box<ConfirmDialog>) -> Self {
        // Replay settles it with the Store's own answer; where replay will
        // not resend (a non-idempotent change), settling by hand comes first.
        let choice = if pending.iter().any(|p| p.replay_safe) {
            0
        } else {
            1
        };
        Self {
            pending,
            next,
            choice,
        }
    }

    pub fn on_key(&mut self, key: KeyEvent) -> GateOutcome {
        let n = CHOICES.len();
        let cmd = keymap::lookup(&key, Scope::Forms).or_else(|| keymap::lookup(&key, Scope::Lists));
        match cmd {
            Some(Command::Cancel | Command::Back) => GateOutcome::Cancelled,
            Some(Command::Submit | Command::Open) => GateOutcome::Chosen(CHOICES[self.choice]),
            Some(Command::Down | Command::NextField) => {
                self.choice = (self.choice + 1) % n;
                GateOutcome::Stay
            }
            Some(Command::Up | Command::PrevField) => {
                self.choice = (self.choice + n - 1) % n;
                GateOutcome::Stay
            }
            _ => GateOutcome::Stay,
        }
    }

    /// The pending write `:resolve` should offer first.
    pub fn first_id(&self) -> Option<i64> {
        self.pending.first().map(|p| p.id)
    }

    pub fn view(&self, f: &mut Frame, area: Rect, theme: &Theme) {
        let w = area.width.saturating_sub(4).clamp(40, 90);
        let mut lines = vec![
            Line::from(vec![
                Span::styled("New write ", theme.dim()),
                Span::raw(self.next.title.clone()),
            ]),
            Line::from(Span::styled(
                "Already pending for this customer and product (outcome unknown):",
                theme.warn(),
            )),
        ];
        for p in &self.pending {
            lines.push(Line::from(format!(
                "  #{} {} · since {} · {} attempt(s){}",
                p.id,
                p.summary,
                p.created_at.chars().take(19).collect::<String>(),
                p.attempts,
                p.last_error
                    .as_deref()
                    .map(|e| format!(" · last: {e}"))
                    .unwrap_or_default()
            )));
        }
        lines.push(Line::from(
            "The Store may already have applied it. A new write has a new key: if the pending one went through, both apply.",
        ));
        lines.push(Line::default());
        let replay_note = if self.pending.iter().any(|p| p.replay_safe) {
            "send it again with its ORIGINAL key: the Store applies it at most once"
        } else {
            "replay will NOT resend this kind of change: settle it by hand"
        };
        for (i, c) in CHOICES.iter().enumerate() {
            let (label, what) = match c {
                Choice::Replay => (":replay", replay_note),
                Choice::Resolve => (
                    ":resolve",
                    "check the Store, then record whether it was applied",
                ),
                Choice::SendAnyway => (
                    "send the new write anyway",
                    "a second, separate write (its own confirmation follows)",
                ),
            };
            let mark = if i == self.choice { "▶ " } else { "  " };
            let style = if i == self.choice {
                theme.selected()
            } else {
                ratatui::style::Style::default()
            };
            lines.push(Line::from(vec![
                Span::styled(format!("{mark}{label}"), style),
                Span::styled(format!(" — {what}"), theme.dim()),
            ]));
        }
        lines.push(Line::default());
        lines.push(Line::from(vec![
            Span::styled("↑↓", theme.key_hint()),
            Span::raw(" choose · "),
            Span::styled("Enter", theme.key_hint()),
            Span::raw(" · "),
            Span::styled("Esc", theme.key_hint()),
            Span::raw(" cancels (nothing is sent)"),
        ]));
        let inner = usize::from(w.saturating_sub(2)).max(1);
        let rows: usize = lines.iter().map(|l| l.width().div_ceil(inner).max(1)).sum();
        let h = u16::try_from(rows + 2).unwrap_or(u16::MAX).min(area.height);
        let r = centered(area, w, h);
        f.render_widget(Clear, r);
        let block = Block::bordered()
            .border_type(BorderType::Double)
            .border_style(theme.warn())
            .title(Line::from(vec![
                Span::raw(" "),
                Span::styled(
                    format!(" {} ", self.next.environment),
                    theme.badge(self.next.environment),
                ),
                Span::styled(" A write like this one is pending ", theme.title()),
            ]));
        f.render_widget(
            Paragraph::new(lines)
                .block(block)
                .wrap(Wrap { trim: false }),
            r,
        );
    }
}
