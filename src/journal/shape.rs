//! The Rust-side shaping both journal backends share (SQLite in
//! `writes.rs`, PostgreSQL in `pg/ops.rs`): what a new row holds, the
//! audit entry about a write, the request a replay sends. Only the SQL
//! differs between the backends; what goes into it is decided here once.

use super::audit::{AuditEvent, NewAudit};
use super::request::{Actor, WriteKind, WriteRequest};
use super::seal::Sealer;
use super::writes::{DamagedRow, Settlement, WriteRecord, WriteState, env_text, seal_aad};
use super::{JournalError, mask};
use serde_json::Value;

/// What a new journal row holds besides the request's own text: computed
/// before the transaction (sealing is not free), the same on either side.
pub(super) struct NewWrite {
    pub customer_fp: String,
    pub customer: String,
    /// The body with the key replaced by its placeholder.
    pub body: String,
    pub sealed: Vec<u8>,
    /// The identity part of `target` (a clawback ack: its message id).
    pub target: Option<String>,
    /// A clawback ack's pop receipt, kept outside the identity.
    pub receipt: Option<String>,
}

impl NewWrite {
    pub fn prepare(req: &WriteRequest, sealer: &Sealer) -> Result<Self, JournalError> {
        let (target, receipt) = split_ack_target(req);
        Ok(Self {
            customer_fp: mask::fingerprint(&req.customer_key),
            customer: crate::store::keyinfo::case_customer(&req.customer_key),
            body: mask::for_storage(&req.body, &req.customer_key).to_string(),
            sealed: sealer.seal(&req.customer_key, &seal_aad(req.kind, &req.idempotency_key))?,
            target,
            receipt,
        })
    }

    /// The audit entry of its first attempt, once the row has `id`.
    pub fn first_attempt<'a>(
        &'a self,
        req: &'a WriteRequest,
        id: i64,
        at: &'a str,
        actor: &'a Actor,
    ) -> NewAudit<'a> {
        NewAudit {
            at,
            operator: &actor.operator,
            profile: &actor.profile,
            environment: env_text(actor.environment),
            customer: &self.customer,
            customer_fp: &self.customer_fp,
            action: req.kind.as_str(),
            event: AuditEvent::Attempt,
            write_id: Some(id),
            idempotency_key: Some(&req.idempotency_key),
            attempt: Some(1),
            request_summary: &req.summary,
            result: None,
            http_status: None,
            correlation: None,
        }
    }
}

/// A clawback acknowledgement's `messageId/popReceipt` split into the
/// identity (the message id) and the receipt; other kinds keep `target`.
pub(super) fn split_ack_target(req: &WriteRequest) -> (Option<String>, Option<String>) {
    match (
        req.kind,
        req.target.as_deref().and_then(|t| t.split_once('/')),
    ) {
        (WriteKind::ClawbackAck, Some((mid, receipt))) => {
            (Some(mid.to_string()), Some(receipt.to_string()))
        }
        _ => (req.target.clone(), None),
    }
}

/// Whether an existing row of the same identity takes a new attempt
/// instead of being a duplicate: only a clawback acknowledgement that is
/// not done and not being sent right now (deleting an event twice removes
/// nothing else, and a stale pop receipt must be replaceable).
pub(super) fn takes_next_attempt(kind: WriteKind, state: &str, in_flight: bool) -> bool {
    kind == WriteKind::ClawbackAck && state != WriteState::Done.as_str() && !in_flight
}

impl<'a> NewAudit<'a> {
    /// An entry about the existing write `w` by `operator`: its identity
    /// from the row; no result yet (see [`NewAudit::with_outcome`]).
    pub(super) fn of_write(
        w: &'a WriteRecord,
        event: AuditEvent,
        at: &'a str,
        operator: &'a str,
        attempt: i64,
    ) -> Self {
        NewAudit {
            at,
            operator,
            profile: &w.profile,
            environment: &w.environment,
            customer: &w.customer,
            customer_fp: &w.customer_fp,
            action: w.kind.as_str(),
            event,
            write_id: Some(w.id),
            idempotency_key: Some(&w.idempotency_key),
            attempt: Some(attempt),
            request_summary: &w.summary,
            result: None,
            http_status: None,
            correlation: None,
        }
    }

    /// The same with what the Store answered (or why there is no answer).
    pub(super) fn with_outcome(
        self,
        result: &'a str,
        http_status: Option<u16>,
        correlation: Option<&'a str>,
    ) -> Self {
        NewAudit {
            result: Some(result),
            http_status,
            correlation,
            ..self
        }
    }
}

impl Settlement {
    /// The audit event that records it. `changed`: whether the settling
    /// update changed the row — when it did not, another agent had settled
    /// the write first (this one was paused past its lease), and the
    /// answer is audited as a late one, not as a second outcome.
    pub(super) fn audit_event(&self, changed: bool) -> AuditEvent {
        match self.state {
            _ if !changed => AuditEvent::LateAnswer,
            WriteState::Done => AuditEvent::Done,
            _ => AuditEvent::Failed,
        }
    }
}

/// The product an order transaction of `w` is recorded against.
pub(super) fn product_of(w: &WriteRecord) -> &str {
    w.body
        .get("productId")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The request a replay of `record` sends: the key restored into the body,
/// and a clawback ack's wire target `messageId/popReceipt` rebuilt from
/// the identity and the latest receipt.
pub(super) fn replay_request(
    record: &WriteRecord,
    key: String,
    receipt: Option<&str>,
) -> WriteRequest {
    WriteRequest {
        kind: record.kind,
        body: mask::restore(&record.body, &key),
        customer_key: key,
        target: match (&record.target, receipt) {
            (Some(t), Some(r)) => Some(format!("{t}/{r}")),
            (t, _) => t.clone(),
        },
        idempotency_key: record.idempotency_key.clone(),
        summary: record.summary.clone(),
        expected_effect: record.expected_effect.clone(),
    }
}

impl DamagedRow {
    /// The row (`id`, `kind`, `state`, `summary` as stored) if this version
    /// cannot read it, with why; `None` for a readable row.
    pub(super) fn judge(id: i64, kind: &str, state: String, summary: String) -> Option<Self> {
        let why = match (WriteKind::parse(kind), WriteState::parse(&state)) {
            (Some(_), Some(_)) => return None,
            (None, _) => format!("unknown write kind {kind:?}"),
            (_, None) => format!("unknown state {state:?}"),
        };
        Some(DamagedRow {
            id,
            state,
            summary,
            why,
        })
    }
}
