//! Orchestration: record → send → settle, and replay of pending writes.
//! This is the API the TUI and the headless commands call.
//!
//! ```text
//! let req = WriteRequest::consume(key, product, Some(3), sbx).with_expected_effect("balance 12 → 9");
//! let preview = req.preview(&actor);          // show, wait for confirmation
//! let outcome = execute(&journal, &client, &req, &actor).await?;
//! let reports = replay_pending(&journal, &client, &actor).await?;
//! ```

use super::JournalError;
use super::request::{Actor, WriteKind, WriteRequest};
use super::store::JournalStore;
use super::writes::{Claim, Correlation, OrderTransaction, Settlement, WriteRecord, WriteState};
use serde::Serialize;
use serde_json::Value;
use std::future::Future;

/// What one send of a write produced, as the journal needs to know it.
#[derive(Clone, Debug, PartialEq)]
pub enum SendResult {
    /// 2xx: applied (or, for a replay, already applied earlier).
    Applied {
        status: u16,
        response: Value,
        correlation: Correlation,
    },
    /// A definite refusal (e.g. 400, 401, 404). On a first attempt it
    /// proves nothing was applied; on a replay it proves nothing about the
    /// attempt whose answer was lost, so the write stays pending.
    Rejected {
        status: Option<u16>,
        message: String,
        correlation: Correlation,
    },
    /// Refused before anything left this process (bad input, local call
    /// budget). Proves nothing about an *earlier* attempt, so only a first
    /// attempt is failed by it; a replay stays pending.
    NotSent { message: String },
    /// No definite answer: timeout, reset, 5xx, 429. It may have applied.
    NoAnswer {
        status: Option<u16>,
        message: String,
        correlation: Correlation,
    },
}

/// Sends one write on the wire. Implemented by the Store client; the body
/// and idempotency key must be sent exactly as given.
pub trait WriteSender: Sync {
    fn send<'a>(&'a self, req: &'a WriteRequest) -> impl Future<Output = SendResult> + Send + 'a;
}

/// How a write ended, for the screen.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum WriteOutcome {
    Done {
        write_id: i64,
        /// e.g. "newQuantity 9; 1 order transaction(s)"
        result: String,
        http_status: u16,
        correlation: Correlation,
    },
    Failed {
        write_id: i64,
        reason: String,
        http_status: Option<u16>,
        correlation: Correlation,
    },
    /// Not settled: replay it (same key) with `storedesk pending --replay`
    /// or the Pending pane.
    Pending { write_id: i64, reason: String },
}

impl WriteOutcome {
    pub fn write_id(&self) -> i64 {
        match self {
            WriteOutcome::Done { write_id, .. }
            | WriteOutcome::Failed { write_id, .. }
            | WriteOutcome::Pending { write_id, .. } => *write_id,
        }
    }
}

/// Record `req` as pending (durably), send it once, settle on a definite
/// answer. Errs only if the journal cannot record it — then nothing was sent.
pub async fn execute<S: WriteSender>(
    journal: &dyn JournalStore,
    sender: &S,
    req: &WriteRequest,
    actor: &Actor,
) -> Result<WriteOutcome, JournalError> {
    // An acknowledgement retried after an unanswered one is not a first
    // attempt: a refusal now (the event already gone) proves nothing.
    let (id, unknown_before) = off_worker(|| journal.record_attempt(req, actor))?;
    tracing::info!(write_id = id, kind = %req.kind, key = %req.idempotency_key, "write: sending");
    let sent = sender.send(req).await;
    Ok(off_worker(|| {
        conclude(journal, id, req, sent, !unknown_before, actor)
    }))
}

/// Journal calls block — an fsync'd SQLite commit, a PostgreSQL round
/// trip — and `execute` runs on an async worker. On a multi-thread runtime
/// the call runs under `block_in_place`, so the worker's other tasks (the
/// console's frames, reads in flight) move to another worker meanwhile;
/// a current-thread runtime (tests, one-shot tools) has no other worker
/// to protect and just calls it.
fn off_worker<T>(f: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        _ => f(),
    }
}

/// Turn a send result into journal state. A journal failure *after* the
/// answer is reported as pending: the row is still pending, and a replay
/// with the same key will confirm it without applying it twice.
fn conclude(
    journal: &dyn JournalStore,
    id: i64,
    req: &WriteRequest,
    sent: SendResult,
    first_attempt: bool,
    actor: &Actor,
) -> WriteOutcome {
    let kind = req.kind;
    let sent = match sent {
        // A refusal of a *replay* answers the replay, not the attempt whose
        // answer was lost: a 401 after the key expired, a 404 on a queue
        // message the first attempt already deleted, a 400 for a stale pop
        // receipt. Settling it "failed" would invite a second write with a
        // new id; the write stays unknown, with the refusal as evidence.
        SendResult::Rejected {
            status,
            message,
            correlation,
        } if !first_attempt => SendResult::NoAnswer {
            status,
            message: refused_replay(id, status, &message),
            correlation,
        },
        SendResult::NotSent { message } if first_attempt => SendResult::Rejected {
            status: None,
            message: format!("not sent: {message}"),
            correlation: Correlation::default(),
        },
        SendResult::NotSent { message } => SendResult::NoAnswer {
            status: None,
            message: format!("not sent this time: {message}"),
            correlation: Correlation::default(),
        },
        other => other,
    };
    // The answer arrived but cannot be recorded: keep it (side file, or at
    // least the log), and say so. The row, if the journal still has it,
    // stays pending; a replay or `:resolve` settles it with this evidence.
    let journal_failed = |answer: String, e: JournalError| {
        tracing::error!(write_id = id, error = %e, "write: answer could not be journaled");
        let kept = match super::kept::keep(
            journal.path(),
            id,
            req,
            &answer,
            &e.to_string(),
            &journal.now_text(),
        ) {
            Ok(p) => format!("the answer is kept in {}", p.display()),
            Err(io) => {
                let redacted = crate::store::error::redact(&answer, Some(&req.customer_key));
                tracing::error!(write_id = id, answer = %redacted, error = %io, "write: the answer could not be kept in a side file");
                format!("the answer is only in the log ({io})")
            }
        };
        WriteOutcome::Pending {
            write_id: id,
            reason: format!(
                "answered, not recorded: the Store answered {answer}, but the journal could not record it ({e}); \
                 {kept}. Check the Store, then resolve #{id} by hand"
            ),
        }
    };
    match sent {
        SendResult::Applied {
            status,
            response,
            correlation,
        } if not_this_write(req, &response).is_some() => {
            let why = not_this_write(req, &response).unwrap_or_default();
            let message = format!(
                "outcome unknown: the Store answered HTTP {status}, but not as the answer to this \
                 write ({why}). Replay it with the same key, or check the Store and resolve #{id} by hand"
            );
            leave(journal, id, message, Some(status), correlation, actor)
        }
        SendResult::Applied {
            status,
            response,
            correlation,
        } => {
            let (result, order_transactions) = summarize(kind, &response);
            let s = Settlement {
                state: WriteState::Done,
                http_status: Some(status),
                result: result.clone(),
                correlation: correlation.clone(),
                order_transactions,
            };
            match journal.settle(id, &s, actor) {
                Ok(_) => WriteOutcome::Done {
                    write_id: id,
                    result,
                    http_status: status,
                    correlation,
                },
                Err(e) => journal_failed(format!("HTTP {status} ({result})"), e),
            }
        }
        SendResult::Rejected {
            status,
            message,
            correlation,
        } => {
            let s = Settlement {
                state: WriteState::Failed,
                http_status: status,
                result: message.clone(),
                correlation: correlation.clone(),
                order_transactions: Vec::new(),
            };
            match journal.settle(id, &s, actor) {
                Ok(_) => WriteOutcome::Failed {
                    write_id: id,
                    reason: message,
                    http_status: status,
                    correlation,
                },
                Err(e) => journal_failed(format!("with a refusal ({message})"), e),
            }
        }
        // Mapped above; kept as "no answer" should that ever change.
        SendResult::NotSent { message } => {
            leave(journal, id, message, None, Correlation::default(), actor)
        }
        SendResult::NoAnswer {
            status,
            message,
            correlation,
        } => leave(journal, id, message, status, correlation, actor),
    }
}

/// The evidence kept on a write whose replay was refused.
fn refused_replay(id: i64, status: Option<u16>, message: &str) -> String {
    let renew = if status == Some(401) {
        "; if the customer key expired, the same write can be replayed once the key is renewed"
    } else {
        ""
    };
    format!(
        "outcome unknown: the Store refused this replay ({message}), which does not prove the \
         earlier attempt failed. Check the Store, then resolve #{id} by hand (applied or not){renew}"
    )
}

fn leave(
    journal: &dyn JournalStore,
    id: i64,
    message: String,
    status: Option<u16>,
    correlation: Correlation,
    actor: &Actor,
) -> WriteOutcome {
    tracing::warn!(write_id = id, reason = %message, "write: no definite answer, left pending");
    if let Err(e) = journal.leave_pending(id, &message, status, &correlation, actor) {
        tracing::error!(write_id = id, error = %e, "write: could not note the missing answer");
    }
    WriteOutcome::Pending {
        write_id: id,
        reason: message,
    }
}

/// Why a 2xx is not the answer to `req`, if it is not. Only an answer that
/// echoes this write's own id (trackingId, orderId, recurrence id —
/// STORE-API.md §4, §7, §8) and has the documented shape settles it done: a
/// `{}`, an error body sent with 200, or another write's answer proves
/// nothing about this one. A queue delete and an offer claim answer with
/// no body to check.
fn not_this_write(req: &WriteRequest, response: &Value) -> Option<String> {
    let text = |v: &Value, k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let echo = |v: &Value, field: &str, want: &str| match text(v, field) {
        Some(got) if got == want => None,
        Some(got) => Some(format!("it names {field} {got}, not {want}")),
        None => Some(format!("it has no {field}; expected {want}")),
    };
    match req.kind {
        WriteKind::Consume => echo(response, "trackingId", &req.idempotency_key).or_else(|| {
            let product = text(&req.body, "productId")?;
            echo(response, "productId", &product)
        }),
        WriteKind::Grant => echo(response, "orderId", &req.idempotency_key).or_else(|| {
            text(response, "orderState")
                .is_none()
                .then(|| "it has no orderState".to_string())
        }),
        WriteKind::RecurrenceChange => {
            let item = response
                .get("items")
                .and_then(|i| i.get(0))
                .unwrap_or(response);
            echo(item, "id", req.target.as_deref().unwrap_or_default())
        }
        WriteKind::RenewKey => text(response, "newKey")
            .is_none()
            .then(|| "it holds no new key".to_string()),
        WriteKind::ClawbackAck | WriteKind::OfferClaim => None,
    }
}

/// A secret-free one-line result, plus the order transactions of a consume.
fn summarize(kind: WriteKind, response: &Value) -> (String, Vec<OrderTransaction>) {
    let s = |k: &str| response.get(k).and_then(Value::as_str).unwrap_or("?");
    match kind {
        WriteKind::Consume => {
            let txns: Vec<OrderTransaction> = response
                .get("orderTransactions")
                .cloned()
                .and_then(|v| serde_json::from_value(v).ok())
                .unwrap_or_default();
            let qty = response
                .get("newQuantity")
                .and_then(Value::as_i64)
                .map(|q| format!("newQuantity {q}"))
                .unwrap_or_else(|| "consumed".into());
            (format!("{qty}; {} order transaction(s)", txns.len()), txns)
        }
        WriteKind::Grant => (
            format!("order {} {}", s("orderId"), s("orderState")),
            Vec::new(),
        ),
        WriteKind::RecurrenceChange => {
            let item = response
                .get("items")
                .and_then(|i| i.get(0))
                .unwrap_or(response);
            let g = |k: &str| match item.get(k) {
                Some(Value::String(v)) => v.clone(),
                Some(v) => v.to_string(),
                None => "?".into(),
            };
            (
                format!(
                    "state {}, autoRenew {}, expires {}",
                    g("recurrenceState"),
                    g("autoRenew"),
                    g("expirationTime")
                ),
                Vec::new(),
            )
        }
        WriteKind::RenewKey => ("key renewed".into(), Vec::new()),
        WriteKind::ClawbackAck => ("event deleted from the queue".into(), Vec::new()),
        WriteKind::OfferClaim => ("offer claimed".into(), Vec::new()),
    }
}

/// What happened to one pending write on replay.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ReplayStatus {
    /// Sent again with its original key; see the outcome.
    Replayed { outcome: WriteOutcome },
    /// Another live process (or task) is sending it right now; `owner` is
    /// its claim-owner id (see [`super::db::owner_pid`]).
    Busy { owner: String },
    /// Settled by another process since the list was read.
    AlreadySettled,
    /// Recorded under another profile: replay it with that profile.
    OtherProfile,
    /// Not safe to resend (e.g. a subscription extension): check the
    /// subscription, then resolve it by hand.
    NeedsReview,
    /// Could not be replayed (e.g. the sealed key cannot be opened).
    Error { message: String },
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReplayReport {
    pub write: WriteRecord,
    pub status: ReplayStatus,
}

/// Pending writes, oldest first (all profiles; check `profile`).
pub fn pending(journal: &dyn JournalStore) -> Result<Vec<WriteRecord>, JournalError> {
    journal.pending()
}

/// Replay every pending write of `actor`'s profile with its original
/// idempotency key, one at a time, each under a claim so no other process
/// sends it at the same time.
pub async fn replay_pending<S: WriteSender>(
    journal: &dyn JournalStore,
    sender: &S,
    actor: &Actor,
) -> Result<Vec<ReplayReport>, JournalError> {
    let mut reports = Vec::new();
    for write in off_worker(|| journal.pending())? {
        let status = replay_one(journal, sender, &write, actor).await;
        reports.push(ReplayReport { write, status });
    }
    Ok(reports)
}

/// What became of a request to settle a pending write by hand.
#[derive(Clone, Debug, PartialEq)]
pub enum ResolveOutcome {
    /// Settled as the operator said; audited with their note.
    Resolved(WriteRecord),
    /// No write has that id.
    Unknown,
    /// Already done or failed: nothing to resolve.
    NotPending(WriteRecord),
    /// Recorded under another profile: resolve it with that profile.
    OtherProfile(WriteRecord),
    /// A live process is sending it right now; its answer will settle it.
    Busy { owner: String },
}

impl ResolveOutcome {
    /// One line for the operator, the same in the console and the CLI.
    pub fn message(&self, id: i64) -> String {
        match self {
            Self::Resolved(w) => format!(
                "resolved: #{} {} · {} · {}",
                w.id,
                w.summary,
                if w.state == WriteState::Done {
                    "applied (done)"
                } else {
                    "not applied (failed)"
                },
                w.result.as_deref().unwrap_or_default()
            ),
            Self::Unknown => format!("no write #{id} in the journal"),
            Self::NotPending(w) => format!(
                "write #{id} ({}) is not pending: it is {}",
                w.summary,
                w.state.as_str()
            ),
            Self::OtherProfile(w) => format!(
                "write #{id} was recorded under profile {:?}; resolve it with --profile {}",
                w.profile, w.profile
            ),
            Self::Busy { owner } => format!(
                "write #{id} is being sent right now by {}; its answer will settle it",
                super::db::describe_owner(owner)
            ),
        }
    }
}

/// Settle a pending write by hand, after the operator checked the Store:
/// for writes that are not safe to replay (a subscription extension,
/// refund or auto-renew change whose answer was lost) or cannot be replayed
/// (the sealed key is gone). `applied` says whether the Store shows the
/// change. Claims the write first, so it cannot race a replay in flight.
pub fn resolve(
    journal: &dyn JournalStore,
    id: i64,
    applied: bool,
    note: &str,
    actor: &Actor,
) -> Result<ResolveOutcome, JournalError> {
    let Some(write) = journal.write(id)? else {
        return Ok(ResolveOutcome::Unknown);
    };
    if write.state != WriteState::Pending {
        return Ok(ResolveOutcome::NotPending(write));
    }
    if write.profile != actor.profile {
        return Ok(ResolveOutcome::OtherProfile(write));
    }
    match journal.claim(id)? {
        Claim::Claimed => {}
        Claim::Busy { owner } => return Ok(ResolveOutcome::Busy { owner }),
        Claim::NotPending => {
            return Ok(match journal.write(id)? {
                Some(w) => ResolveOutcome::NotPending(w),
                None => ResolveOutcome::Unknown,
            });
        }
    }
    let state = if applied {
        WriteState::Done
    } else {
        WriteState::Failed
    };
    // A key pasted into the note must not reach the audit log.
    let note = crate::store::error::redact(note, None);
    let settled = journal.resolve_manually(id, state, &note, actor)?;
    Ok(match journal.write(id)? {
        Some(w) if settled => ResolveOutcome::Resolved(w),
        // Settled by someone else between our claim and our update.
        Some(w) => ResolveOutcome::NotPending(w),
        None => ResolveOutcome::Unknown,
    })
}

/// Replay one pending write (see [`replay_pending`]).
pub async fn replay_one<S: WriteSender>(
    journal: &dyn JournalStore,
    sender: &S,
    write: &WriteRecord,
    actor: &Actor,
) -> ReplayStatus {
    if write.profile != actor.profile {
        return ReplayStatus::OtherProfile;
    }
    if !WriteRequest::replay_is_safe(write.kind, &write.body) {
        return ReplayStatus::NeedsReview;
    }
    let claimed = match off_worker(|| journal.begin_replay(write.id, actor)) {
        Ok(Some(c)) => c,
        Ok(None) => {
            return match off_worker(|| journal.write(write.id)) {
                Ok(Some(w)) if w.state != WriteState::Pending => ReplayStatus::AlreadySettled,
                Ok(Some(w)) => ReplayStatus::Busy {
                    owner: w.claimed_by.unwrap_or_default(),
                },
                _ => ReplayStatus::Busy {
                    owner: String::new(),
                },
            };
        }
        Err(e) => {
            return ReplayStatus::Error {
                message: e.to_string(),
            };
        }
    };
    tracing::info!(write_id = write.id, attempt = claimed.attempt, key = %write.idempotency_key, "write: replaying");
    let sent = sender.send(&claimed.request).await;
    ReplayStatus::Replayed {
        outcome: off_worker(|| conclude(journal, write.id, &claimed.request, sent, false, actor)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A journal call inside `execute` leaves the worker to the runtime's
    /// other tasks: with one worker, the call below waits for another task
    /// of the same runtime to run — which it can only if the worker was
    /// handed on (a plain blocking call would wait out the deadlock guard).
    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn a_journal_call_leaves_the_worker_to_other_tasks() {
        let on_the_worker = tokio::spawn(async {
            let (tx, rx) = std::sync::mpsc::channel();
            let other = tokio::spawn(async move {
                let _ = tx.send(());
            });
            let ran = off_worker(|| rx.recv_timeout(std::time::Duration::from_secs(20)).is_ok());
            let _ = other.await;
            ran
        });
        assert!(
            on_the_worker.await.unwrap(),
            "the other task never ran while the journal call blocked"
        );
    }

    #[test]
    fn consume_summary_keeps_wire_order_transactions() {
        let resp = json!({
            "itemId": "i", "productId": "p", "trackingId": "t", "newQuantity": 9,
            "orderTransactions": [
                {"orderId": "o1", "orderLineItemId": "l1", "quantityConsumed": 2},
                {"orderId": "o2", "orderLineItemId": "l2", "quantityConsumed": 1}
            ]
        });
        let (line, txns) = summarize(WriteKind::Consume, &resp);
        assert_eq!(line, "newQuantity 9; 2 order transaction(s)");
        assert_eq!(txns[1].order_id, "o2");
        assert_eq!(txns[0].quantity_consumed, 2);
    }

    #[test]
    fn grant_and_change_summaries() {
        let (g, _) = summarize(
            WriteKind::Grant,
            &json!({"orderId": "o9", "orderState": "Purchased"}),
        );
        assert_eq!(g, "order o9 Purchased");
        let wrapped = json!({"items": [{"recurrenceState": "Canceled", "autoRenew": false}]});
        let (c, _) = summarize(WriteKind::RecurrenceChange, &wrapped);
        assert_eq!(c, "state Canceled, autoRenew false, expires ?");
    }
}
