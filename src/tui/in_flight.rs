//! Writes in flight and the pending list kept fresh.
//!
//! From the moment a write's job leaves until its answer comes back, the
//! status bar says what is being sent and for how long (an agent who sees
//! nothing presses again, and a second consume is a second consume). While
//! anything is in flight or pending the console ticks every second (tui/
//! mod.rs), and a pending list is re-read every [`PENDING_REREAD_SECS`], so
//! a write settled by another storedesk stops being shown as pending.

use crate::journal::WriteKind;
use crate::tui::action::{Effect, JobEvent, PendingLine};
use crate::tui::panes::{PaneEvent, PaneId};
use chrono::{DateTime, Utc};

/// How often the journal's pending list is read again while it is not empty.
pub const PENDING_REREAD_SECS: i64 = 5;

/// One write (or a replay) whose answer has not come back yet.
#[derive(Clone, Debug, PartialEq)]
pub struct InFlight {
    /// "consume", "grant", "replay of 2 pending write(s)"…
    pub what: String,
    pub started: DateTime<Utc>,
    /// The pane whose job it is; None for a replay.
    pub pane: Option<PaneId>,
}

/// The write (or replay) an effect starts, if it starts one.
pub fn started(effect: &Effect, pending: usize, now: DateTime<Utc>) -> Option<InFlight> {
    if let Effect::ReplayPending = effect {
        return Some(InFlight {
            what: format!("replay of {pending} pending write(s)"),
            started: now,
            pane: None,
        });
    }
    let req = crate::tui::pending_gate::write_of(effect)?;
    let Effect::Pane(pane, _) = effect else {
        return None;
    };
    Some(InFlight {
        what: verb(req.kind).into(),
        started: now,
        pane: Some(*pane),
    })
}

fn verb(kind: WriteKind) -> &'static str {
    match kind {
        WriteKind::Consume => "consume",
        WriteKind::Grant => "grant",
        WriteKind::RecurrenceChange => "subscription change",
        WriteKind::ClawbackAck => "clawback acknowledgement",
        WriteKind::RenewKey => "key renewal",
        WriteKind::OfferClaim => "offer claim",
    }
}

/// Which in-flight entry a job event settles: `Some(None)` for a replay,
/// `Some(Some(pane))` for a pane's write, None when it settles nothing.
pub fn settles(ev: &JobEvent) -> Option<Option<PaneId>> {
    use crate::tui::panes::{
        clawbacks::ClawEvent, entitlements::EntEvent, key::KeyPaneEvent, subscriptions::SubsEvent,
    };
    match ev {
        JobEvent::Replayed(_) => Some(None),
        JobEvent::Pane(
            id,
            PaneEvent::Entitlements(EntEvent::Written(_))
            | PaneEvent::Subscriptions(SubsEvent::Written(_))
            | PaneEvent::Clawbacks(ClawEvent::Acked(_))
            | PaneEvent::Key(KeyPaneEvent::Renewed { .. } | KeyPaneEvent::OfferClaimed(_)),
        ) => Some(Some(*id)),
        // A job that panicked will never answer.
        JobEvent::Crashed { tag, .. } if tag.pane.is_some() || tag.what == "replay" => {
            Some(tag.pane)
        }
        _ => None,
    }
}

/// Drop the oldest entry `settles` names; how long it took, if one was.
pub fn settle(list: &mut Vec<InFlight>, which: Option<PaneId>, now: DateTime<Utc>) -> Option<i64> {
    let i = list.iter().position(|f| f.pane == which)?;
    let f = list.remove(i);
    Some((now - f.started).num_seconds().max(0))
}

/// The status line while writes are in flight, e.g.
/// "⠹ sending consume… 3 s · Esc does not cancel a sent write".
pub fn line(list: &[InFlight], now: DateTime<Utc>) -> Option<String> {
    const SPIN: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
    let first = list.first()?;
    let secs = (now - first.started).num_seconds().max(0);
    let spin = SPIN[usize::try_from(secs).unwrap_or(0) % SPIN.len()];
    let more = match list.len() {
        1 => String::new(),
        n => format!(" (+{} more)", n - 1),
    };
    Some(format!(
        "{spin} sending {}{more}… {secs} s · Esc does not cancel a sent write",
        first.what
    ))
}

/// Whether the pending list should be read again now.
pub fn reread_due(
    pending: &[PendingLine],
    last_read: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> bool {
    !pending.is_empty() && last_read.is_none_or(|t| (now - t).num_seconds() >= PENDING_REREAD_SECS)
}

/// The pending write ids a notice is about: every `#N` in it, or, for the
/// start-up notice that names none, every write pending before.
fn notice_ids(notice: &str, before: &[PendingLine]) -> Vec<i64> {
    let mut ids = Vec::new();
    for part in notice.split('#').skip(1) {
        let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
        if let Ok(id) = digits.parse() {
            ids.push(id);
        }
    }
    if ids.is_empty() {
        ids = before.iter().map(|p| p.id).collect();
    }
    ids
}

/// A notice about pending writes is out of date once none of the writes it
/// names is pending any more: the ids it named, when so.
pub fn stale_notice(notice: &str, before: &[PendingLine], now: &[PendingLine]) -> Option<Vec<i64>> {
    if !notice.contains("pending") {
        return None;
    }
    let ids = notice_ids(notice, before);
    (!ids.is_empty() && !ids.iter().any(|id| now.iter().any(|p| p.id == *id))).then_some(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(id: i64) -> PendingLine {
        PendingLine {
            id,
            ..Default::default()
        }
    }

    #[test]
    fn a_notice_is_stale_once_its_writes_are_settled() {
        let n = "consume 1 × X: no definite answer (reset); kept as pending write #7, which …";
        assert_eq!(stale_notice(n, &[line(7)], &[]), Some(vec![7]));
        assert_eq!(stale_notice(n, &[line(7)], &[line(7)]), None);
        let start = "2 write(s) left pending without a definite answer: run :replay";
        assert_eq!(stale_notice(start, &[line(1), line(2)], &[line(2)]), None);
        assert_eq!(
            stale_notice(start, &[line(1), line(2)], &[]),
            Some(vec![1, 2])
        );
        assert_eq!(stale_notice("cannot connect", &[line(1)], &[]), None);
    }
}
