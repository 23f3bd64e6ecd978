//! `storedesk journal migrate --to postgres://…`: copy a local SQLite
//! history (settled writes, their order transactions, the audit log) into
//! the team journal.
//!
//! Idempotent by the rows' own identities, so a second run copies nothing
//! twice: a write is unique by `(kind, idempotency_key)` in the shared
//! table; an audit row carries `origin` (a digest of the local row, unique
//! in the shared table, schema v3); an order transaction by its key.
//!
//! Pending writes are NOT copied: the local journal keeps them (and their
//! sealed keys) until they are settled here (`pending --replay` /
//! `--resolve`), so no write is ever pending in two journals at once, where
//! two agents could replay it. Their audit rows wait with them; a later run
//! copies both.

use super::JournalError;
use super::pg::PgJournal;
use super::pg::pool::pg_err;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::Path;

/// What a run copied, and what it left.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct MigrateReport {
    pub writes_copied: u64,
    pub writes_already_there: u64,
    pub audit_copied: u64,
    pub audit_already_there: u64,
    pub order_transactions_copied: u64,
    /// Pending locally: left for a later run once settled.
    pub pending_left: u64,
    /// Audit rows of those pending writes, left with them.
    pub audit_left: u64,
}

struct LocalWrite {
    id: i64,
    kind: String,
    key: String,
    target: Option<String>,
    state: String,
    profile: String,
    environment: String,
    operator: String,
    customer: Option<String>,
    customer_fp: String,
    body: String,
    summary: String,
    expected_effect: String,
    created_at: String,
    attempts: i64,
    last_attempt_at: Option<String>,
    last_error: Option<String>,
    settled_at: Option<String>,
    http_status: Option<i64>,
    result: Option<String>,
    correlation: Option<String>,
}

struct LocalAudit {
    id: i64,
    at: String,
    operator: String,
    profile: String,
    environment: String,
    customer: Option<String>,
    customer_fp: String,
    action: String,
    event: String,
    write_id: Option<i64>,
    idempotency_key: Option<String>,
    attempt: Option<i64>,
    request_summary: String,
    result: Option<String>,
    http_status: Option<i64>,
    correlation: Option<String>,
}

struct LocalTx {
    write_id: i64,
    order_id: String,
    line: String,
    qty: i64,
    product: String,
    customer_fp: String,
    tracking: String,
    recorded_at: String,
}

/// A local journal's rows: writes, audit, order transactions.
type LocalRows = (Vec<LocalWrite>, Vec<LocalAudit>, Vec<LocalTx>);

/// The local rows, read from the SQLite file (opened first with
/// [`super::Journal::open`] so its schema is current).
fn read_local(path: &Path) -> Result<LocalRows, JournalError> {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut st = conn.prepare(
        "SELECT id, kind, idempotency_key, target, state, profile, environment, operator, customer, \
         customer_fp, body, summary, expected_effect, created_at, attempts, last_attempt_at, last_error, \
         settled_at, http_status, result, correlation FROM writes ORDER BY id",
    )?;
    let writes = st
        .query_map([], |r| {
            Ok(LocalWrite {
                id: r.get(0)?,
                kind: r.get(1)?,
                key: r.get(2)?,
                target: r.get(3)?,
                state: r.get(4)?,
                profile: r.get(5)?,
                environment: r.get(6)?,
                operator: r.get(7)?,
                customer: r.get(8)?,
                customer_fp: r.get(9)?,
                body: r.get(10)?,
                summary: r.get(11)?,
                expected_effect: r.get(12)?,
                created_at: r.get(13)?,
                attempts: r.get(14)?,
                last_attempt_at: r.get(15)?,
                last_error: r.get(16)?,
                settled_at: r.get(17)?,
                http_status: r.get(18)?,
                result: r.get(19)?,
                correlation: r.get(20)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut st = conn.prepare(
        "SELECT id, at, operator, profile, environment, customer, customer_fp, action, event, write_id, \
         idempotency_key, attempt, request_summary, result, http_status, correlation FROM audit ORDER BY id",
    )?;
    let audit = st
        .query_map([], |r| {
            Ok(LocalAudit {
                id: r.get(0)?,
                at: r.get(1)?,
                operator: r.get(2)?,
                profile: r.get(3)?,
                environment: r.get(4)?,
                customer: r.get(5)?,
                customer_fp: r.get(6)?,
                action: r.get(7)?,
                event: r.get(8)?,
                write_id: r.get(9)?,
                idempotency_key: r.get(10)?,
                attempt: r.get(11)?,
                request_summary: r.get(12)?,
                result: r.get(13)?,
                http_status: r.get(14)?,
                correlation: r.get(15)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut st = conn.prepare(
        "SELECT write_id, order_id, order_line_item_id, quantity_consumed, product_id, customer_fp, \
         tracking_id, recorded_at FROM order_transactions ORDER BY write_id",
    )?;
    let txs = st
        .query_map([], |r| {
            Ok(LocalTx {
                write_id: r.get(0)?,
                order_id: r.get(1)?,
                line: r.get(2)?,
                qty: r.get(3)?,
                product: r.get(4)?,
                customer_fp: r.get(5)?,
                tracking: r.get(6)?,
                recorded_at: r.get(7)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok((writes, audit, txs))
}

/// An audit row's identity in the shared table: a digest of what makes
/// it that row (its local id and content), so a second run recognises it
/// wherever the file has moved since.
fn origin(a: &LocalAudit) -> String {
    let mut h = Sha256::new();
    for part in [
        a.id.to_string().as_str(),
        &a.at,
        &a.operator,
        &a.profile,
        &a.customer_fp,
        &a.action,
        &a.event,
        a.idempotency_key.as_deref().unwrap_or(""),
        &a.attempt.map(|n| n.to_string()).unwrap_or_default(),
        &a.request_summary,
        a.result.as_deref().unwrap_or(""),
    ] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    let d = h.finalize();
    let hex: String = d[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("sqlite:{hex}")
}

/// Copy the SQLite journal at `sqlite` into the team journal `dst` (see the
/// module doc). One transaction: a run cut short copies nothing.
pub fn to_postgres(sqlite: &Path, dst: &PgJournal) -> Result<MigrateReport, JournalError> {
    // Bring the file's schema up to date (and prove it is a journal).
    drop(super::Journal::open(sqlite)?);
    let (writes, audit, txs) = read_local(sqlite)?;
    let machine = dst.machine().to_string();
    let agent = format!("migrated@{machine}");
    let pending: std::collections::HashSet<i64> = writes
        .iter()
        .filter(|w| w.state == "pending")
        .map(|w| w.id)
        .collect();
    dst.pool().run(async |c| {
        let tx = c.transaction().await.map_err(pg_err)?;
        let mut report = MigrateReport::default();
        // Local write id → shared write id.
        let mut ids: HashMap<i64, i64> = HashMap::new();
        for w in &writes {
            if pending.contains(&w.id) {
                report.pending_left += 1;
                continue;
            }
            let customer = w
                .customer
                .clone()
                .unwrap_or_else(|| format!("key:{}", w.customer_fp));
            let inserted = tx
                .query_opt(
                    "INSERT INTO writes (kind, idempotency_key, target, state, profile, environment, operator, \
                     machine, agent, customer, customer_fp, body, summary, expected_effect, created_at, attempts, \
                     last_attempt_at, last_error, settled_at, http_status, result, correlation) \
                     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22) \
                     ON CONFLICT (kind, idempotency_key) DO NOTHING RETURNING id",
                    &[
                        &w.kind,
                        &w.key,
                        &w.target,
                        &w.state,
                        &w.profile,
                        &w.environment,
                        &w.operator,
                        &machine,
                        &agent,
                        &customer,
                        &w.customer_fp,
                        &w.body,
                        &w.summary,
                        &w.expected_effect,
                        &w.created_at,
                        &w.attempts,
                        &w.last_attempt_at,
                        &w.last_error,
                        &w.settled_at,
                        &w.http_status.map(|s| s as i32),
                        &w.result,
                        &w.correlation,
                    ],
                )
                .await
                .map_err(pg_err)?;
            let id: i64 = match inserted {
                Some(r) => {
                    report.writes_copied += 1;
                    r.get(0)
                }
                None => {
                    report.writes_already_there += 1;
                    tx.query_one(
                        "SELECT id FROM writes WHERE kind = $1 AND idempotency_key = $2",
                        &[&w.kind, &w.key],
                    )
                    .await
                    .map_err(pg_err)?
                    .get(0)
                }
            };
            ids.insert(w.id, id);
        }
        for t in &txs {
            let Some(id) = ids.get(&t.write_id) else {
                continue;
            };
            report.order_transactions_copied += tx
                .execute(
                    "INSERT INTO order_transactions (write_id, order_id, order_line_item_id, quantity_consumed, \
                     product_id, customer_fp, tracking_id, recorded_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) \
                     ON CONFLICT DO NOTHING",
                    &[
                        id,
                        &t.order_id,
                        &t.line,
                        &t.qty,
                        &t.product,
                        &t.customer_fp,
                        &t.tracking,
                        &t.recorded_at,
                    ],
                )
                .await
                .map_err(pg_err)?;
        }
        for a in &audit {
            if a.write_id.is_some_and(|w| pending.contains(&w)) {
                report.audit_left += 1;
                continue;
            }
            let write_id = a.write_id.and_then(|w| ids.get(&w).copied());
            let customer = a
                .customer
                .clone()
                .unwrap_or_else(|| format!("key:{}", a.customer_fp));
            let n = tx
                .execute(
                    "INSERT INTO audit (at, operator, machine, agent, profile, environment, customer, customer_fp, \
                     action, event, write_id, idempotency_key, attempt, request_summary, result, http_status, \
                     correlation, origin) \
                     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18) \
                     ON CONFLICT (origin) WHERE origin IS NOT NULL DO NOTHING",
                    &[
                        &a.at,
                        &a.operator,
                        &machine,
                        &agent,
                        &a.profile,
                        &a.environment,
                        &customer,
                        &a.customer_fp,
                        &a.action,
                        &a.event,
                        &write_id,
                        &a.idempotency_key,
                        &a.attempt,
                        &a.request_summary,
                        &a.result,
                        &a.http_status.map(|s| s as i32),
                        &a.correlation,
                        &origin(a),
                    ],
                )
                .await
                .map_err(pg_err)?;
            if n == 1 {
                report.audit_copied += 1;
            } else {
                report.audit_already_there += 1;
            }
        }
        tx.commit().await.map_err(pg_err)?;
        Ok(report)
    })
}
