//! The SQL of each journal operation on PostgreSQL: the same contracts as
//! the SQLite backend (`journal/writes.rs`, `journal/audit.rs`), with the
//! claim as a row lock plus a lease (see the module doc of `pg`).

use super::PgJournal;
use super::pool::pg_err;
use crate::journal::audit::{AuditEntry, AuditEvent, AuditFilter, NewAudit};
use crate::journal::request::{Actor, WriteKind, WriteRequest};
use crate::journal::shape::{NewWrite, product_of, replay_request, takes_next_attempt};
use crate::journal::store::{Activity, JournalStore};
use crate::journal::writes::{
    Claim, ClaimedWrite, Correlation, DamagedRow, RecordedOrderTransaction, Settlement,
    WriteRecord, WriteState, env_text, seal_aad,
};
use crate::journal::{JournalError, journal_err};
use serde_json::Value;
use std::path::Path;
use tokio_postgres::{GenericClient, Row};

const COLUMNS: &str = "id, kind, idempotency_key, target, state, profile, environment, operator, \
    customer_fp, body, summary, expected_effect, created_at, attempts, last_attempt_at, last_error, \
    settled_at, http_status, result, correlation, claimed_by, sealed_key IS NOT NULL, customer, machine";

/// A row as a record; `Err` names what this version cannot read.
fn record_from_row(r: &Row) -> Result<WriteRecord, String> {
    let kind: String = r.try_get(1).map_err(|e| e.to_string())?;
    let state: String = r.try_get(4).map_err(|e| e.to_string())?;
    let get = |e: tokio_postgres::Error| e.to_string();
    let body: String = r.try_get(9).map_err(get)?;
    Ok(WriteRecord {
        id: r.try_get(0).map_err(get)?,
        kind: WriteKind::parse(&kind).ok_or_else(|| format!("unknown write kind {kind:?}"))?,
        idempotency_key: r.try_get(2).map_err(get)?,
        target: r.try_get(3).map_err(get)?,
        state: WriteState::parse(&state).ok_or_else(|| format!("unknown state {state:?}"))?,
        profile: r.try_get(5).map_err(get)?,
        environment: r.try_get(6).map_err(get)?,
        operator: r.try_get(7).map_err(get)?,
        customer: r.try_get(22).map_err(get)?,
        customer_fp: r.try_get(8).map_err(get)?,
        body: serde_json::from_str(&body).unwrap_or(Value::String(body)),
        summary: r.try_get(10).map_err(get)?,
        expected_effect: r.try_get(11).map_err(get)?,
        created_at: r.try_get(12).map_err(get)?,
        attempts: r.try_get(13).map_err(get)?,
        last_attempt_at: r.try_get(14).map_err(get)?,
        last_error: r.try_get(15).map_err(get)?,
        settled_at: r.try_get(16).map_err(get)?,
        http_status: r
            .try_get::<_, Option<i32>>(17)
            .map_err(get)?
            .and_then(|s| u16::try_from(s).ok()),
        result: r.try_get(18).map_err(get)?,
        correlation: Correlation::from_column(r.try_get(19).map_err(get)?),
        claimed_by: r.try_get(20).map_err(get)?,
        has_key: r.try_get(21).map_err(get)?,
        machine: r.try_get(23).map_err(get)?,
    })
}

fn one(r: &Row) -> Result<WriteRecord, JournalError> {
    record_from_row(r).map_err(JournalError::Invalid)
}

/// Write `id`, its row locked until `tx` ends (a settlement or a
/// pending-again must not race another agent's).
async fn lock_write(
    tx: &tokio_postgres::Transaction<'_>,
    id: i64,
) -> Result<WriteRecord, JournalError> {
    let row = tx
        .query_one(
            &format!("SELECT {COLUMNS} FROM writes WHERE id = $1 FOR UPDATE"),
            &[&id],
        )
        .await
        .map_err(pg_err)?;
    one(&row)
}

impl PgJournal {
    /// Appended inside the caller's transaction, like SQLite's.
    async fn append_audit(
        &self,
        tx: &impl GenericClient,
        a: &NewAudit<'_>,
    ) -> Result<(), JournalError> {
        tx.execute(
            "INSERT INTO audit (at, operator, machine, agent, profile, environment, customer, \
             customer_fp, action, event, write_id, idempotency_key, attempt, request_summary, result, \
             http_status, correlation) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
            &[
                &a.at,
                &a.operator,
                &self.machine(),
                &self.agent(),
                &a.profile,
                &a.environment,
                &a.customer,
                &a.customer_fp,
                &a.action,
                &a.event.as_str(),
                &a.write_id,
                &a.idempotency_key,
                &a.attempt,
                &a.request_summary,
                &a.result,
                &a.http_status.map(i32::from),
                &a.correlation,
            ],
        )
        .await
        .map_err(pg_err)?;
        Ok(())
    }

    async fn query_writes(
        &self,
        c: &impl GenericClient,
        cond: &str,
    ) -> Result<Vec<WriteRecord>, JournalError> {
        let rows = c
            .query(
                &format!("SELECT {COLUMNS} FROM writes WHERE {cond} ORDER BY id"),
                &[],
            )
            .await
            .map_err(pg_err)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            match record_from_row(r) {
                Ok(w) => out.push(w),
                // One unreadable row never hides the others; damaged_rows names it.
                Err(why) => tracing::warn!(%why, "team journal: skipping a row it cannot read"),
            }
        }
        Ok(out)
    }

    fn begin_replay_claimed(
        &self,
        id: i64,
        actor: &Actor,
    ) -> Result<Option<ClaimedWrite>, JournalError> {
        let now = self.now_text();
        let (sealer, seal_id) = self.sealer()?;
        self.pool().run(async |c| {
            let tx = c.transaction().await.map_err(pg_err)?;
            let row = tx
                .query_one(
                    &format!(
                        "SELECT {COLUMNS}, sealed_key, seal_id, receipt FROM writes WHERE id = $1 FOR UPDATE"
                    ),
                    &[&id],
                )
                .await
                .map_err(pg_err)?;
            let record = one(&row)?;
            if record.state != WriteState::Pending
                || record.claimed_by.as_deref() != Some(self.agent())
            {
                return Ok(None);
            }
            let sealed: Option<Vec<u8>> = row.get(24);
            let sealed_with: Option<String> = row.get(25);
            let sealed = sealed.ok_or(JournalError::KeyMissing { id })?;
            if let Some(other) = sealed_with.filter(|s| s != seal_id) {
                return Err(JournalError::Invalid(format!(
                    "pending write #{id} was sealed with team seal key {other}, this agent has {seal_id}: \
                     set the team's key ({}) to replay it",
                    super::TEAM_SEAL_KEY_ENV
                )));
            }
            let key = sealer.open(&sealed, &seal_aad(record.kind, &record.idempotency_key))?;
            let attempt = record.attempts + 1;
            tx.execute(
                "UPDATE writes SET attempts = $1, last_attempt_at = $2 WHERE id = $3",
                &[&attempt, &now, &id],
            )
            .await
            .map_err(pg_err)?;
            self.append_audit(
                &tx,
                &NewAudit::of_write(&record, AuditEvent::Replay, &now, &actor.operator, attempt),
            )
            .await?;
            tx.commit().await.map_err(pg_err)?;
            let receipt: Option<String> = row.get(26);
            let request = replay_request(&record, key, receipt.as_deref());
            Ok(Some(ClaimedWrite {
                record,
                request,
                attempt,
            }))
        })
    }
}

impl JournalStore for PgJournal {
    fn record(&self, req: &WriteRequest, actor: &Actor) -> Result<i64, JournalError> {
        Ok(self.record_attempt(req, actor)?.0)
    }

    /// As the SQLite journal: a clawback acknowledgement whose earlier
    /// attempt failed or went unanswered (and is not being sent by a live
    /// agent) becomes that row's next attempt with the fresh receipt.
    fn record_attempt(
        &self,
        req: &WriteRequest,
        actor: &Actor,
    ) -> Result<(i64, bool), JournalError> {
        let (sealer, seal_id) = self.sealer()?;
        let new = NewWrite::prepare(req, sealer)?;
        let now = self.now_text();
        let lease = self.lease_secs();
        self.pool().run(async |c| {
            let tx = c.transaction().await.map_err(pg_err)?;
            // The unique key decides between two agents recording the same
            // write: the second waits for the first's commit, then inserts
            // nothing.
            let inserted = tx
                .query_opt(
                    "INSERT INTO writes (kind, idempotency_key, target, state, profile, environment, \
                     operator, machine, agent, customer, customer_fp, sealed_key, seal_id, body, summary, \
                     expected_effect, created_at, attempts, last_attempt_at, claimed_by, claimed_until, \
                     receipt) \
                     VALUES ($1, $2, $3, 'pending', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
                     $16, 1, $16, $8, clock_timestamp() + $17::float8 * interval '1 second', $18) \
                     ON CONFLICT (kind, idempotency_key) DO NOTHING RETURNING id",
                    &[
                        &req.kind.as_str(),
                        &req.idempotency_key,
                        &new.target,
                        &actor.profile,
                        &env_text(actor.environment),
                        &actor.operator,
                        &self.machine(),
                        &self.agent(),
                        &new.customer,
                        &new.customer_fp,
                        &new.sealed,
                        seal_id,
                        &new.body,
                        &req.summary,
                        &req.expected_effect,
                        &now,
                        &lease,
                        &new.receipt,
                    ],
                )
                .await
                .map_err(pg_err)?;
            let Some(row) = inserted else {
                // The existing row, locked: two agents retrying one
                // acknowledgement take turns, the second sees the first's
                // claim.
                let row = tx
                    .query_one(
                        &format!(
                            "SELECT {COLUMNS}, \
                             (state = 'pending' AND claimed_by IS NOT NULL \
                              AND claimed_until > clock_timestamp()) \
                             FROM writes WHERE kind = $1 AND idempotency_key = $2 FOR UPDATE"
                        ),
                        &[&req.kind.as_str(), &req.idempotency_key],
                    )
                    .await
                    .map_err(pg_err)?;
                let record = one(&row)?;
                let in_flight: bool = row.get(24);
                let state = record.state.as_str();
                if !takes_next_attempt(req.kind, state, in_flight) {
                    return Err(JournalError::Duplicate {
                        idempotency_key: req.idempotency_key.clone(),
                        state: state.to_string(),
                    });
                }
                let attempt = record.attempts + 1;
                tx.execute(
                    "UPDATE writes SET state = 'pending', receipt = $1, sealed_key = $2, seal_id = $3, \
                     attempts = $4, last_attempt_at = $5, settled_at = NULL, http_status = NULL, \
                     result = NULL, claimed_by = $6, \
                     claimed_until = clock_timestamp() + $7::float8 * interval '1 second' WHERE id = $8",
                    &[
                        &new.receipt,
                        &new.sealed,
                        seal_id,
                        &attempt,
                        &now,
                        &self.agent(),
                        &lease,
                        &record.id,
                    ],
                )
                .await
                .map_err(pg_err)?;
                self.append_audit(
                    &tx,
                    &NewAudit::of_write(&record, AuditEvent::Attempt, &now, &actor.operator, attempt),
                )
                .await?;
                tx.commit().await.map_err(pg_err)?;
                return Ok((record.id, record.state == WriteState::Pending));
            };
            let id: i64 = row.get(0);
            self.append_audit(&tx, &new.first_attempt(req, id, &now, actor))
                .await?;
            tx.commit().await.map_err(pg_err)?;
            Ok((id, false))
        })
    }

    fn claim(&self, id: i64) -> Result<Claim, JournalError> {
        let lease = self.lease_secs();
        self.pool().run(async |c| {
            let tx = c.transaction().await.map_err(pg_err)?;
            // SKIP LOCKED: a row another agent is claiming right now is
            // theirs; never wait for it.
            let row = tx
                .query_opt(
                    "SELECT state, claimed_by, \
                     (claimed_by IS NOT NULL AND claimed_until > clock_timestamp()) \
                     FROM writes WHERE id = $1 FOR UPDATE SKIP LOCKED",
                    &[&id],
                )
                .await
                .map_err(pg_err)?;
            let Some(row) = row else {
                let other = tx
                    .query_opt(
                        "SELECT state, claimed_by FROM writes WHERE id = $1",
                        &[&id],
                    )
                    .await
                    .map_err(pg_err)?;
                return Ok(match other {
                    Some(r) if r.get::<_, String>(0) == "pending" => Claim::Busy {
                        owner: r.get::<_, Option<String>>(1).unwrap_or_default(),
                    },
                    _ => Claim::NotPending,
                });
            };
            let state: String = row.get(0);
            let owner: Option<String> = row.get(1);
            let held: bool = row.get(2);
            if state != "pending" {
                return Ok(Claim::NotPending);
            }
            if held {
                return Ok(Claim::Busy {
                    owner: owner.unwrap_or_default(),
                });
            }
            tx.execute(
                "UPDATE writes SET claimed_by = $1, \
                 claimed_until = clock_timestamp() + $2::float8 * interval '1 second' WHERE id = $3",
                &[&self.agent(), &lease, &id],
            )
            .await
            .map_err(pg_err)?;
            tx.commit().await.map_err(pg_err)?;
            Ok(Claim::Claimed)
        })
    }

    fn begin_replay(&self, id: i64, actor: &Actor) -> Result<Option<ClaimedWrite>, JournalError> {
        // No key, no claim: never hold a write we cannot send.
        self.sealer()?;
        if self.claim(id)? != Claim::Claimed {
            return Ok(None);
        }
        let result = self.begin_replay_claimed(id, actor);
        if result.is_err() {
            let _ = self.release(id);
        }
        result
    }

    fn settle(&self, id: i64, s: &Settlement, actor: &Actor) -> Result<bool, JournalError> {
        if s.state == WriteState::Pending {
            return Err(journal_err("a settlement must be done or failed"));
        }
        let now = self.now_text();
        self.pool().run(async |c| {
            let tx = c.transaction().await.map_err(pg_err)?;
            let record = lock_write(&tx, id).await?;
            let correlation = s.correlation.to_column();
            let changed = tx
                .execute(
                    "UPDATE writes SET state = $1, settled_at = $2, http_status = $3, result = $4, \
                     correlation = $5, sealed_key = NULL, claimed_by = NULL, claimed_until = NULL, \
                     last_error = NULL WHERE id = $6 AND state = 'pending'",
                    &[
                        &s.state.as_str(),
                        &now,
                        &s.http_status.map(i32::from),
                        &s.result,
                        &correlation,
                        &id,
                    ],
                )
                .await
                .map_err(pg_err)?;
            if changed == 1 && s.state == WriteState::Done {
                let product = product_of(&record);
                for t in &s.order_transactions {
                    tx.execute(
                        "INSERT INTO order_transactions (write_id, order_id, order_line_item_id, \
                         quantity_consumed, product_id, customer_fp, tracking_id, recorded_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
                        &[
                            &id,
                            &t.order_id,
                            &t.order_line_item_id,
                            &t.quantity_consumed,
                            &product,
                            &record.customer_fp,
                            &record.idempotency_key,
                            &now,
                        ],
                    )
                    .await
                    .map_err(pg_err)?;
                }
            }
            let event = s.audit_event(changed != 0);
            self.append_audit(
                &tx,
                &NewAudit::of_write(&record, event, &now, &actor.operator, record.attempts)
                    .with_outcome(&s.result, s.http_status, correlation.as_deref()),
            )
            .await?;
            tx.commit().await.map_err(pg_err)?;
            Ok(changed == 1)
        })
    }

    fn leave_pending(
        &self,
        id: i64,
        reason: &str,
        http_status: Option<u16>,
        correlation: &Correlation,
        actor: &Actor,
    ) -> Result<(), JournalError> {
        let now = self.now_text();
        self.pool().run(async |c| {
            let tx = c.transaction().await.map_err(pg_err)?;
            let record = lock_write(&tx, id).await?;
            tx.execute(
                "UPDATE writes SET last_error = $1, claimed_by = NULL, claimed_until = NULL \
                 WHERE id = $2 AND state = 'pending' AND claimed_by = $3",
                &[&reason, &id, &self.agent()],
            )
            .await
            .map_err(pg_err)?;
            let correlation = correlation.to_column();
            self.append_audit(
                &tx,
                &NewAudit::of_write(
                    &record,
                    AuditEvent::NoAnswer,
                    &now,
                    &actor.operator,
                    record.attempts,
                )
                .with_outcome(reason, http_status, correlation.as_deref()),
            )
            .await?;
            tx.commit().await.map_err(pg_err)?;
            Ok(())
        })
    }

    fn release(&self, id: i64) -> Result<(), JournalError> {
        self.pool().run(async |c| {
            c.execute(
                "UPDATE writes SET claimed_by = NULL, claimed_until = NULL \
                 WHERE id = $1 AND claimed_by = $2",
                &[&id, &self.agent()],
            )
            .await
            .map_err(pg_err)?;
            Ok(())
        })
    }

    fn in_flight_by(&self, id: i64) -> Result<Option<String>, JournalError> {
        self.pool().run(async |c| {
            let row = c
                .query_opt(
                    "SELECT claimed_by FROM writes WHERE id = $1 AND state = 'pending' \
                     AND claimed_by IS NOT NULL AND claimed_until > clock_timestamp()",
                    &[&id],
                )
                .await
                .map_err(pg_err)?;
            Ok(row.and_then(|r| r.get(0)))
        })
    }

    fn write(&self, id: i64) -> Result<Option<WriteRecord>, JournalError> {
        self.pool().run(async |c| {
            let row = c
                .query_opt(
                    &format!("SELECT {COLUMNS} FROM writes WHERE id = $1"),
                    &[&id],
                )
                .await
                .map_err(pg_err)?;
            row.as_ref().map(one).transpose()
        })
    }

    fn write_by_key(
        &self,
        kind: WriteKind,
        idempotency_key: &str,
    ) -> Result<Option<WriteRecord>, JournalError> {
        self.pool().run(async |c| {
            let row = c
                .query_opt(
                    &format!(
                        "SELECT {COLUMNS} FROM writes WHERE kind = $1 AND idempotency_key = $2"
                    ),
                    &[&kind.as_str(), &idempotency_key],
                )
                .await
                .map_err(pg_err)?;
            row.as_ref().map(one).transpose()
        })
    }

    fn writes(&self) -> Result<Vec<WriteRecord>, JournalError> {
        self.pool()
            .run(async |c| self.query_writes(c, "true").await)
    }

    fn pending(&self) -> Result<Vec<WriteRecord>, JournalError> {
        self.pool()
            .run(async |c| self.query_writes(c, "state = 'pending'").await)
    }

    fn damaged_rows(&self) -> Result<Vec<DamagedRow>, JournalError> {
        self.pool().run(async |c| {
            let rows = c
                .query(
                    "SELECT id, kind, state, summary FROM writes ORDER BY id",
                    &[],
                )
                .await
                .map_err(pg_err)?;
            let mut out = Vec::new();
            for r in &rows {
                let kind: String = r.get(1);
                out.extend(DamagedRow::judge(r.get(0), &kind, r.get(2), r.get(3)));
            }
            Ok(out)
        })
    }

    fn order_transactions_for(
        &self,
        order_id: &str,
        line_item_id: &str,
    ) -> Result<Vec<RecordedOrderTransaction>, JournalError> {
        self.pool().run(async |c| {
            let rows = c
                .query(
                    "SELECT write_id, tracking_id, product_id, customer_fp, order_id, \
                     order_line_item_id, quantity_consumed, recorded_at FROM order_transactions \
                     WHERE order_id = $1 AND order_line_item_id = $2 ORDER BY write_id",
                    &[&order_id, &line_item_id],
                )
                .await
                .map_err(pg_err)?;
            Ok(rows
                .iter()
                .map(|r| RecordedOrderTransaction {
                    write_id: r.get(0),
                    tracking_id: r.get(1),
                    product_id: r.get(2),
                    customer_fp: r.get(3),
                    order_id: r.get(4),
                    order_line_item_id: r.get(5),
                    quantity_consumed: r.get(6),
                    recorded_at: r.get(7),
                })
                .collect())
        })
    }

    fn audit(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, JournalError> {
        self.pool().run(async |c| {
            let rows = c
                .query(
                    "SELECT id, at, operator, profile, environment, customer_fp, action, event, \
                     write_id, idempotency_key, attempt, request_summary, result, http_status, \
                     correlation, customer, machine FROM audit \
                     WHERE ($1::text IS NULL OR customer_fp = $1) AND ($2::text IS NULL OR action = $2) \
                     AND ($3::text IS NULL OR event = $3) AND ($4::text IS NULL OR profile = $4) \
                     AND ($5::bigint IS NULL OR write_id = $5) ORDER BY id",
                    &[
                        &filter.customer_fp,
                        &filter.action,
                        &filter.event,
                        &filter.profile,
                        &filter.write_id,
                    ],
                )
                .await
                .map_err(pg_err)?;
            Ok(rows
                .iter()
                .map(|r| AuditEntry {
                    id: r.get(0),
                    at: r.get(1),
                    operator: r.get(2),
                    profile: r.get(3),
                    environment: r.get(4),
                    customer_fp: r.get(5),
                    action: r.get(6),
                    event: r.get(7),
                    write_id: r.get(8),
                    idempotency_key: r.get(9),
                    attempt: r.get(10),
                    request_summary: r.get(11),
                    result: r.get(12),
                    http_status: r
                        .get::<_, Option<i32>>(13)
                        .and_then(|s| u16::try_from(s).ok()),
                    correlation: r.get(14),
                    customer: r.get(15),
                    machine: r.get(16),
                })
                .collect())
        })
    }

    fn schema_version(&self) -> Result<u32, JournalError> {
        self.pool()
            .run(async |c| Ok(super::schema::version(c).await?.unwrap_or(0)))
    }

    fn seal_problem(&self) -> Option<&str> {
        self.sealer.as_ref().err().map(String::as_str)
    }

    fn owner_id(&self) -> &str {
        self.agent()
    }

    fn path(&self) -> &Path {
        &self.side_path
    }

    fn location(&self) -> String {
        self.location.clone()
    }

    fn now_text(&self) -> String {
        PgJournal::now_text(self)
    }

    fn watch_audit(&self, on_change: Box<dyn Fn() + Send + Sync>) -> bool {
        self.start_audit_feed(on_change);
        true
    }

    fn others_on_customer(
        &self,
        customer: &str,
        minutes: u32,
    ) -> Result<Vec<Activity>, JournalError> {
        let minutes = f64::from(minutes);
        self.pool().run(async |c| {
            let rows = c
                .query(
                    "SELECT operator, machine, summary, state, created_at FROM writes \
                     WHERE customer = $1 AND agent <> $2 AND (state = 'pending' \
                     OR created_server > clock_timestamp() - $3::float8 * interval '1 minute') \
                     ORDER BY id DESC LIMIT 10",
                    &[&customer, &self.agent(), &minutes],
                )
                .await
                .map_err(pg_err)?;
            Ok(rows
                .iter()
                .map(|r| Activity {
                    operator: r.get(0),
                    machine: r.get(1),
                    summary: r.get(2),
                    state: r.get(3),
                    at: r.get(4),
                })
                .collect())
        })
    }
}
