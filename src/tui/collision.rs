//! "Another agent is on this customer" in the console (issue 19 point 4).
//!
//! When the case's customer changes, when the team's audit feed says
//! someone wrote, and when a write's confirmation is about to show, the
//! app asks the journal (off the async workers) for other agents' writes
//! of the same customer in the last [`COLLISION_MINUTES`] or still pending
//! (`JournalStore::others_on_customer`; the SQLite journal has no other
//! agents and answers nothing). The answer is kept in app state: the open
//! confirmation and the status bar say who, what and when before the agent
//! confirms. A failed check (the team journal unreachable) says so too:
//! the write would then be refused before anything is sent.

use crate::journal::{Activity, COLLISION_MINUTES};
use crate::tui::action::{Effect, JobEvent};
use crate::tui::app::App;
use crate::tui::widgets::confirm::ConfirmDialog;
use crate::tui::writes::SharedJournal;
use chrono::{DateTime, Utc};

/// The last answer: whose customer, and what other agents did.
#[derive(Clone, Debug, PartialEq)]
pub struct Others {
    pub customer: String,
    pub result: Result<Vec<Activity>, String>,
}

/// The case customer a confirmation's write is for, if it is a write.
pub fn customer_of(effect: &Effect) -> Option<String> {
    crate::tui::pending_gate::write_of(effect)
        .map(|req| crate::store::keyinfo::case_customer(&req.customer_key))
}

/// The check to run when a confirmation for `effect` opens.
pub fn check_for(effect: &Effect) -> Option<Effect> {
    customer_of(effect).map(|customer| Effect::CheckOthers { customer })
}

/// Whether `effects` send or change nothing (at most the check of other
/// agents, which a confirmation asks for as it opens).
pub fn sends_nothing(effects: &[Effect]) -> bool {
    effects
        .iter()
        .all(|e| matches!(e, Effect::CheckOthers { .. }))
}

/// Ask the journal, on a blocking thread (a PostgreSQL round trip, or
/// nothing at all for SQLite).
pub async fn check(journal: SharedJournal, customer: String) -> JobEvent {
    let who = customer.clone();
    let result = tokio::task::spawn_blocking(move || {
        journal.and_then(|j| {
            j.others_on_customer(&who, COLLISION_MINUTES)
                .map_err(|e| e.to_string())
        })
    })
    .await
    .unwrap_or_else(|e| Err(format!("the check stopped: {e}")));
    JobEvent::Others(Others { customer, result })
}

/// "14:02 UTC, 3 min ago" from the write's recorded time (the other
/// agent's clock); the text as recorded when it is not a time.
fn when(at: &str, now: DateTime<Utc>) -> String {
    let Ok(t) = DateTime::parse_from_rfc3339(at) else {
        return at.to_string();
    };
    let t = t.to_utc();
    let mins = (now - t).num_minutes();
    let ago = match mins {
        m if m < 1 => "just now".to_string(),
        m if m < 120 => format!("{m} min ago"),
        m => format!("{} h ago", m / 60),
    };
    format!("{} UTC, {ago}", t.format("%H:%M"))
}

/// One activity: "alice on desk-a: consume 1 × X (done, 09:58 UTC, 2 min ago)".
pub fn describe(a: &Activity, now: DateTime<Utc>) -> String {
    format!(
        "{} on {}: {} ({}, {})",
        a.operator,
        a.machine,
        a.summary,
        a.state,
        when(&a.at, now)
    )
}

/// The dialog's lines for an answer: nothing when no one else is on the
/// customer. At most three activities, then how many more.
pub fn dialog_lines(others: &Others, now: DateTime<Utc>) -> Vec<String> {
    match &others.result {
        Ok(list) if list.is_empty() => Vec::new(),
        Ok(list) => {
            let mut lines = vec![format!(
                "⚠ Another agent is on this customer (last {COLLISION_MINUTES} min or pending):"
            )];
            lines.extend(
                list.iter()
                    .take(3)
                    .map(|a| format!("  {}", describe(a, now))),
            );
            if list.len() > 3 {
                lines.push(format!("  … and {} more", list.len() - 3));
            }
            lines
        }
        Err(e) => vec![format!(
            "⚠ Cannot check for other agents ({e}); the write is refused if the journal cannot record it"
        )],
    }
}

/// Show the answer in a confirmation for the same customer (the open one
/// when it arrives, or a new one from the answer kept in app state, until
/// the fresh answer replaces it).
pub fn fill(d: &mut ConfirmDialog, others: Option<&Others>, now: DateTime<Utc>) {
    if let Some(o) = others
        && customer_of(d.effect()).as_deref() == Some(o.customer.as_str())
    {
        d.others = dialog_lines(o, now);
    }
}

/// The status bar's warning, while the answer is about the case on screen
/// (any of its keys).
pub fn status(app: &App) -> Option<String> {
    let o = app.others.as_ref()?;
    let k = &app.panes.key;
    let on_screen = [k.collections_token(), k.purchase_token()]
        .into_iter()
        .flatten()
        .chain(k.current().map(|(_, l)| l.token.as_str()))
        .any(|t| crate::store::keyinfo::case_customer(t) == o.customer);
    on_screen.then(|| status_line(o, app.now)).flatten()
}

/// The status bar's line for an answer.
/// The kept answer ages while it stays on screen: a settled write drops
/// out once it is older than the window (a pending one stays).
pub fn status_line(others: &Others, now: DateTime<Utc>) -> Option<String> {
    let recent = |a: &&Activity| {
        a.state == "pending"
            || DateTime::parse_from_rfc3339(&a.at).map_or(true, |t| {
                now - t.to_utc() <= chrono::TimeDelta::minutes(i64::from(COLLISION_MINUTES))
            })
    };
    match &others.result {
        Ok(list) => {
            let list: Vec<&Activity> = list.iter().filter(recent).collect();
            let first = list.first()?;
            let more = match list.len() {
                1 => String::new(),
                n => format!(" (+{} more)", n - 1),
            };
            Some(format!(
                "another agent is on this customer: {}{more}",
                describe(first, now)
            ))
        }
        Err(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn act(state: &str, at: &str) -> Activity {
        Activity {
            operator: "alice".into(),
            machine: "desk-a".into(),
            summary: "consume 1 × 9NSDCOIN0500".into(),
            state: state.into(),
            at: at.into(),
        }
    }

    #[test]
    fn who_what_when() {
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap();
        let o = Others {
            customer: "key:abc".into(),
            result: Ok(vec![act("done", "2026-11-23T09:57:30.000000Z")]),
        };
        let line = status_line(&o, now).unwrap();
        assert_eq!(
            line,
            "another agent is on this customer: alice on desk-a: consume 1 × 9NSDCOIN0500 (done, 09:57 UTC, 2 min ago)"
        );
        let lines = dialog_lines(&o, now);
        assert_eq!(lines.len(), 2);
        assert!(lines[0].contains("Another agent"), "{lines:?}");
        let none = Others {
            customer: "key:abc".into(),
            result: Ok(vec![]),
        };
        assert!(dialog_lines(&none, now).is_empty());
        assert!(status_line(&none, now).is_none());
        let many = Others {
            customer: "key:abc".into(),
            result: Ok(vec![act("pending", "not a time"); 5]),
        };
        let lines = dialog_lines(&many, now);
        assert_eq!(lines.len(), 5, "{lines:?}");
        assert!(lines[1].contains("(pending, not a time)"), "{lines:?}");
        assert!(lines[4].contains("2 more"), "{lines:?}");
        assert!(status_line(&many, now).unwrap().ends_with("(+4 more)"));
        // Twenty minutes on, a settled write no longer shows in the status
        // bar; a pending one does.
        let later = now + chrono::TimeDelta::minutes(20);
        assert!(status_line(&o, later).is_none());
        let pending = Others {
            customer: "key:abc".into(),
            result: Ok(vec![act("pending", "2026-11-23T09:57:30.000000Z")]),
        };
        assert!(status_line(&pending, later).is_some());
        let down = Others {
            customer: "key:abc".into(),
            result: Err("team journal: cannot connect".into()),
        };
        assert!(dialog_lines(&down, now)[0].contains("cannot connect"));
    }
}
