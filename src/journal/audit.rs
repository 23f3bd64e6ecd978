//! The audit log: one row per write attempt and per outcome. The app only
//! ever INSERTs here; triggers in the schema reject UPDATE and DELETE.

use super::JournalError;
use super::db::Journal;
use rusqlite::{Transaction, params};
use serde::Serialize;
use std::fmt::Write as _;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditEvent {
    /// First send of a write (recorded together with the journal row).
    Attempt,
    /// A later send of a pending write, same idempotency key.
    Replay,
    /// Definite success.
    Done,
    /// Definite failure: nothing was applied.
    Failed,
    /// No definite answer: the write stays pending.
    NoAnswer,
    /// An answer that came back after the write had been settled by
    /// another sender (its claim lapsed while this agent was paused, and
    /// another agent took it over and settled it first). Both sends carried
    /// the same idempotency key: the Store applied the write once, and the
    /// journal keeps the first settlement.
    LateAnswer,
}

impl AuditEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditEvent::Attempt => "attempt",
            AuditEvent::Replay => "replay",
            AuditEvent::Done => "done",
            AuditEvent::Failed => "failed",
            AuditEvent::NoAnswer => "no_answer",
            AuditEvent::LateAnswer => "late_answer",
        }
    }
}

/// An audit row as read back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: String,
    pub operator: String,
    pub profile: String,
    pub environment: String,
    /// The case's customer: one id across its two keys and their renewals
    /// (`store::keyinfo::case_customer`).
    pub customer: String,
    /// The fingerprint of the key the write was made with.
    pub customer_fp: String,
    pub action: String,
    pub event: String,
    pub write_id: Option<i64>,
    pub idempotency_key: Option<String>,
    pub attempt: Option<i64>,
    pub request_summary: String,
    pub result: Option<String>,
    pub http_status: Option<u16>,
    /// JSON object of correlation ids, as stored.
    pub correlation: Option<String>,
    /// The machine the entry was written from (team journal only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub machine: Option<String>,
}

/// Filters for the Audit pane and export; empty fields match everything.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub customer_fp: Option<String>,
    pub action: Option<String>,
    pub event: Option<String>,
    pub profile: Option<String>,
    pub write_id: Option<i64>,
}

pub(super) struct NewAudit<'a> {
    pub at: &'a str,
    pub operator: &'a str,
    pub profile: &'a str,
    pub environment: &'a str,
    pub customer: &'a str,
    pub customer_fp: &'a str,
    pub action: &'a str,
    pub event: AuditEvent,
    pub write_id: Option<i64>,
    pub idempotency_key: Option<&'a str>,
    pub attempt: Option<i64>,
    pub request_summary: &'a str,
    pub result: Option<&'a str>,
    pub http_status: Option<u16>,
    pub correlation: Option<&'a str>,
}

impl NewAudit<'_> {
    /// Appended inside the caller's transaction, so the journal row and its
    /// audit entry commit together or not at all.
    pub fn append(&self, tx: &Transaction<'_>) -> Result<(), JournalError> {
        tx.execute(
            "INSERT INTO audit (at, operator, profile, environment, customer_fp, action, event, \
             write_id, idempotency_key, attempt, request_summary, result, http_status, correlation, \
             customer) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            params![
                self.at,
                self.operator,
                self.profile,
                self.environment,
                self.customer_fp,
                self.action,
                self.event.as_str(),
                self.write_id,
                self.idempotency_key,
                self.attempt,
                self.request_summary,
                self.result,
                self.http_status,
                self.correlation,
                self.customer,
            ],
        )?;
        Ok(())
    }
}

impl Journal {
    /// Audit entries matching `filter`, oldest first.
    pub fn audit(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, JournalError> {
        let conn = self.conn();
        let mut st = conn.prepare(
            "SELECT id, at, operator, profile, environment, customer_fp, action, event, write_id, \
             idempotency_key, attempt, request_summary, result, http_status, correlation, \
             COALESCE(customer, 'key:' || customer_fp) \
             FROM audit WHERE (?1 IS NULL OR customer_fp = ?1) AND (?2 IS NULL OR action = ?2) \
             AND (?3 IS NULL OR event = ?3) AND (?4 IS NULL OR profile = ?4) \
             AND (?5 IS NULL OR write_id = ?5) ORDER BY id",
        )?;
        let rows = st.query_map(
            params![
                filter.customer_fp,
                filter.action,
                filter.event,
                filter.profile,
                filter.write_id
            ],
            |r| {
                Ok(AuditEntry {
                    id: r.get(0)?,
                    at: r.get(1)?,
                    operator: r.get(2)?,
                    profile: r.get(3)?,
                    environment: r.get(4)?,
                    customer: r.get(15)?,
                    customer_fp: r.get(5)?,
                    action: r.get(6)?,
                    event: r.get(7)?,
                    write_id: r.get(8)?,
                    idempotency_key: r.get(9)?,
                    attempt: r.get(10)?,
                    request_summary: r.get(11)?,
                    result: r.get(12)?,
                    http_status: r
                        .get::<_, Option<u32>>(13)?
                        .and_then(|s| u16::try_from(s).ok()),
                    correlation: r.get(14)?,
                    machine: None,
                })
            },
        )?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }
}

/// JSON lines, one entry per line.
/// One JSON document: an array of entries.
pub fn to_json(entries: &[AuditEntry]) -> String {
    let mut s = serde_json::to_string_pretty(entries).unwrap_or_else(|_| "[]".into());
    s.push('\n');
    s
}

pub fn to_json_lines(entries: &[AuditEntry]) -> String {
    let mut out = String::new();
    for e in entries {
        if let Ok(line) = serde_json::to_string(e) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

impl AuditEntry {
    /// The customer as shown: the id without its `key:` prefix (the
    /// fingerprint of the first key of the customer's case).
    pub fn customer_label(&self) -> &str {
        self.customer.strip_prefix("key:").unwrap_or(&self.customer)
    }
}

/// A plain table for terminals. A team journal's entries also name the
/// machine each was written from (a MACHINE column after OPERATOR).
pub fn to_table(entries: &[AuditEntry]) -> String {
    let team = entries.iter().any(|e| e.machine.is_some());
    let mut header = vec![
        "ID",
        "TIME",
        "OPERATOR",
        "PROFILE",
        "ENV",
        "CUSTOMER",
        "KEY FP",
        "ACTION",
        "EVENT",
        "WRITE",
        "IDEMPOTENCY KEY",
        "SUMMARY",
        "RESULT",
    ];
    if team {
        header.insert(3, "MACHINE");
    }
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            let mut r = vec![
                e.id.to_string(),
                e.at.clone(),
                e.operator.clone(),
                e.profile.clone(),
                e.environment.clone(),
                e.customer_label().to_string(),
                e.customer_fp.clone(),
                e.action.clone(),
                e.event.clone(),
                e.write_id.map(|w| format!("#{w}")).unwrap_or_default(),
                e.idempotency_key.clone().unwrap_or_default(),
                e.request_summary.clone(),
                one_line(e.result.as_deref().unwrap_or("")),
            ];
            if team {
                r.insert(3, e.machine.clone().unwrap_or_default());
            }
            r
        })
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[String]| {
        let mut l = String::new();
        for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                l.push_str(c);
            } else {
                let _ = write!(l, "{c:<w$}  ", w = *w);
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(&header.iter().map(|h| h.to_string()).collect::<Vec<_>>());
    for r in &rows {
        line(r);
    }
    out
}

fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}
