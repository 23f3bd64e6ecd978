//! Clawback events of the queue as a case holds them: decoded, matched to
//! the journal's consumes, and what each means for the publisher.

use crate::journal::RecordedOrderTransaction;
use crate::store::model::{ClawbackEvent, EventState};
use chrono::{DateTime, Utc};

/// One queue message, decoded and matched.
#[derive(Clone, Debug, PartialEq)]
pub struct ClawRow {
    /// Place in the queue as peeked (the screen sorts by time).
    pub position: usize,
    pub message_id: String,
    pub insertion_time: String,
    pub dequeue_count: u32,
    pub event: Result<ClawbackEvent, String>,
    /// Consumes in this data dir's journal that drew from the event's line.
    pub matches: Result<Vec<RecordedOrderTransaction>, String>,
}

impl ClawRow {
    pub fn ids(&self) -> Option<(&str, &str)> {
        self.event
            .as_ref()
            .ok()
            .map(|e| (e.data.order_id.as_str(), e.data.line_item_id.as_str()))
    }

    /// When it happened: the event's time, else its eventDate.
    pub fn time(&self) -> Option<DateTime<Utc>> {
        let e = self.event.as_ref().ok()?;
        e.time.as_ref().or(e.data.event_date.as_ref()).map(|t| t.0)
    }

    /// When the queue took the message (RFC 1123 in the queue's XML).
    pub fn inserted(&self) -> Option<DateTime<Utc>> {
        DateTime::parse_from_rfc2822(&self.insertion_time)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }

    pub fn state(&self) -> Option<&EventState> {
        self.event.as_ref().ok()?.data.event_state.as_ref()
    }
}

/// The `sandboxId` Microsoft puts on events of the profile's environment:
/// the profile's `sbx` (e.g. `XDKS.1`), else `RETAIL`.
pub fn expected_sandbox_id(sbx: Option<&str>) -> &str {
    sbx.map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or("RETAIL")
}

/// Whether an event belongs to the environment the profile talks to. One
/// publisher's queue carries the events of every sandbox and of retail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EnvMatch {
    Same,
    /// The event's `sandboxId`.
    Other(String),
    /// No `sandboxId` (or no readable event): shown, never hidden.
    Unknown,
}

impl ClawRow {
    pub fn environment(&self, expected: &str) -> EnvMatch {
        match self
            .event
            .as_ref()
            .ok()
            .and_then(|e| e.data.sandbox_id.as_deref())
        {
            None => EnvMatch::Unknown,
            Some(s) if s.trim().eq_ignore_ascii_case(expected) => EnvMatch::Same,
            Some(s) => EnvMatch::Other(s.trim().to_string()),
        }
    }

    /// Tied to a customer: its order is one of theirs (`order_ids`), or
    /// the journal matched it to a consume of one of their keys (`fps`).
    pub fn ties_to(&self, order_ids: &[&str], fps: &[String]) -> bool {
        let Ok(e) = &self.event else { return false };
        order_ids.contains(&e.data.order_id.as_str())
            || self
                .matches
                .as_ref()
                .is_ok_and(|m| m.iter().any(|t| fps.contains(&t.customer_fp)))
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Peeked {
    pub rows: Vec<ClawRow>,
    /// Until when the SAS token the peek used is valid.
    pub sas_expires: Option<DateTime<Utc>>,
    /// The `sandboxId` of the profile's environment (its `sbx`, or
    /// `RETAIL`): the events that are the profile's to acknowledge.
    pub environment: String,
    /// The queue's approximate length (`x-ms-approximate-messages-count`);
    /// a peek sees at most 32. `None` when the metadata call failed.
    pub approx_count: Option<u64>,
}

impl Peeked {
    /// Rows of another environment than the profile's.
    pub fn other_environments(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| matches!(r.environment(&self.environment), EnvMatch::Other(_)))
            .count()
    }

    /// "40 in the queue" / "at least 32 in the queue" / "3 in the queue",
    /// from the metadata when it came, else from what the peek saw.
    pub fn queue_length_text(&self, peek_max: usize) -> String {
        match self.approx_count {
            Some(n) => format!("~{n} in the queue"),
            None if self.rows.len() >= peek_max => "32+ in the queue (length unknown)".into(),
            None => format!("{} in the queue", self.rows.len()),
        }
    }
}

/// Why an event may not be acknowledged from this profile, if it may not:
/// the queue is shared by every environment of the publisher (and by its
/// own reconciler), so only an event proven to be the profile's is deleted.
pub fn ack_refusal(row: &ClawRow, expected: &str) -> Option<String> {
    match row.environment(expected) {
        EnvMatch::Same => None,
        EnvMatch::Other(s) => Some(format!(
            "this event belongs to environment {s}, not this profile's {expected}: acknowledge it from a profile of {s} (or leave it to the reconciler of that environment)"
        )),
        EnvMatch::Unknown if row.event.is_err() => Some(format!(
            "this event cannot be decoded, so its environment is unknown: it is not acknowledged from {expected}"
        )),
        EnvMatch::Unknown => Some(format!(
            "this event names no sandboxId, so it may belong to another environment than {expected}: it is not acknowledged"
        )),
    }
}

/// The environment column's text: the id, marked when it is not the
/// profile's.
pub fn environment_label(row: &ClawRow, expected: &str) -> String {
    match row.environment(expected) {
        EnvMatch::Same => expected.to_string(),
        EnvMatch::Other(s) => format!("other: {s}"),
        EnvMatch::Unknown => "unknown".into(),
    }
}

/// "Refund" / "Chargeback" from `/Purchase/Refund` / `/Purchase/Chargeback`.
pub fn source_label(source: &str) -> &str {
    source
        .rsplit('/')
        .next()
        .filter(|s| !s.is_empty())
        .unwrap_or(source)
}

/// What the publisher should do, short (table) and long (detail).
pub fn what_to_do(state: Option<&EventState>) -> (&'static str, &'static str) {
    match state {
        Some(EventState::Revoked) => (
            "reconcile",
            "money back, but removal failed because it was already consumed: reconcile in your own records",
        ),
        Some(EventState::Returned) => (
            "nothing to do",
            "money back and the entitlement was removed: nothing to do",
        ),
        Some(EventState::Refunded) => ("log it", "money back and the user keeps it: log it"),
        Some(EventState::ChargebackReversal) => (
            "undo revocation",
            "the chargeback was reversed: undo an earlier revocation",
        ),
        Some(EventState::Other(_)) => ("check docs", "an eventState this build does not know"),
        None => ("check event", "the event names no eventState"),
    }
}

/// "consume #3 of customer 1a2b3c4d", "no local record", or why unknown.
pub fn match_text(m: &Result<Vec<RecordedOrderTransaction>, String>) -> String {
    match m {
        Err(e) => format!("journal unreadable: {e}"),
        Ok(v) if v.is_empty() => "no local record".into(),
        Ok(v) => {
            let mut by_customer: Vec<(&str, Vec<i64>)> = Vec::new();
            for t in v {
                match by_customer.iter_mut().find(|(fp, _)| *fp == t.customer_fp) {
                    Some((_, ids)) => ids.push(t.write_id),
                    None => by_customer.push((t.customer_fp.as_str(), vec![t.write_id])),
                }
            }
            by_customer
                .iter()
                .map(|(fp, ids)| {
                    let ids = ids
                        .iter()
                        .map(|i| format!("#{i}"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let word = if ids.contains(',') {
                        "consumes"
                    } else {
                        "consume"
                    };
                    format!("matches {word} {ids} of customer {fp}")
                })
                .collect::<Vec<_>>()
                .join("; ")
        }
    }
}
