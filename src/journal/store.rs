//! The journal interface: one trait, two backends.
//!
//! [`JournalStore`] is everything `execute`, replay, resolve, the audit
//! log and the pending list need from a journal. The embedded default is
//! the SQLite file ([`super::Journal`], `db.rs`); a profile naming
//! `journal_url = "postgres://…"` gets the team journal
//! ([`super::pg::PgJournal`]). Nothing above `journal/` knows which: it holds
//! a [`SharedJournal`] from [`open`].
//!
//! The trait is synchronous like the SQLite backend (callers keep the
//! calls off the async workers, as they did for SQLite); the PostgreSQL
//! backend drives its connections on its own runtime (see `pg/pool.rs`).

use super::audit::{AuditEntry, AuditFilter};
use super::db::Journal;
use super::request::{Actor, WriteKind, WriteRequest};
use super::writes::{
    Claim, ClaimedWrite, Correlation, DamagedRow, RecordedOrderTransaction, Settlement,
    WriteRecord, WriteState,
};
use super::{JournalError, pg};
use crate::clock::Clock;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A journal shared by the tasks of one process.
pub type SharedJournal = Arc<dyn JournalStore>;

/// Where the journal lives.
#[derive(Clone, Debug)]
pub enum JournalLocation {
    /// The embedded default: one SQLite file in the data dir.
    Sqlite(PathBuf),
    /// A team journal on a PostgreSQL server.
    Postgres(Box<pg::PgSettings>),
}

impl JournalLocation {
    /// For messages: the file, or `postgres://user@host:port/db` (never a
    /// password).
    pub fn describe(&self) -> String {
        match self {
            Self::Sqlite(p) => p.display().to_string(),
            Self::Postgres(s) => s.describe(),
        }
    }
}

/// Open the journal at `loc` (creating / migrating it on first use).
pub fn open(loc: &JournalLocation, clock: Clock) -> Result<SharedJournal, JournalError> {
    Ok(match loc {
        JournalLocation::Sqlite(path) => Arc::new(Journal::open_with_clock(path, clock)?),
        JournalLocation::Postgres(s) => Arc::new(pg::PgJournal::open(s, clock)?),
    })
}

/// How far back another agent's write for the same customer is shown as
/// "another agent is on this customer".
pub const COLLISION_MINUTES: u32 = 15;

/// Another agent's recent or pending write for a customer (the collision
/// warning: "another agent is on this customer").
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Activity {
    pub operator: String,
    pub machine: String,
    pub summary: String,
    pub state: String,
    /// The write's time as recorded (the agent's clock).
    pub at: String,
}

impl Activity {
    /// "ana on desk-7: consume 1 of 9NBLGGH4R315 (pending, 2026-…)"
    pub fn describe(&self) -> String {
        format!(
            "{} on {}: {} ({}, {})",
            self.operator, self.machine, self.summary, self.state, self.at
        )
    }
}

/// The journal interface (see the module doc). Method contracts are the
/// SQLite backend's, documented on [`Journal`]'s methods of the same name.
pub trait JournalStore: Send + Sync + std::fmt::Debug {
    /// Record a write as pending, claimed by us, its first attempt audited,
    /// durably, before anything is sent. Duplicate idempotency key → error.
    fn record(&self, req: &WriteRequest, actor: &Actor) -> Result<i64, JournalError>;
    /// [`JournalStore::record`], except that a clawback acknowledgement
    /// whose earlier attempt failed or went unanswered becomes that entry's
    /// next attempt (with the fresh receipt); the flag says the earlier
    /// outcome was unknown. Both backends do so (SQLite schema v3,
    /// PostgreSQL schema v2); the default, for a backend without it,
    /// records as `record` does (a second acknowledgement is a duplicate).
    fn record_attempt(
        &self,
        req: &WriteRequest,
        actor: &Actor,
    ) -> Result<(i64, bool), JournalError> {
        self.record(req, actor).map(|id| (id, false))
    }
    fn claim(&self, id: i64) -> Result<Claim, JournalError>;
    fn begin_replay(&self, id: i64, actor: &Actor) -> Result<Option<ClaimedWrite>, JournalError>;
    fn settle(&self, id: i64, s: &Settlement, actor: &Actor) -> Result<bool, JournalError>;
    fn leave_pending(
        &self,
        id: i64,
        reason: &str,
        http_status: Option<u16>,
        correlation: &Correlation,
        actor: &Actor,
    ) -> Result<(), JournalError>;
    fn release(&self, id: i64) -> Result<(), JournalError>;
    fn in_flight_by(&self, id: i64) -> Result<Option<String>, JournalError>;
    fn write(&self, id: i64) -> Result<Option<WriteRecord>, JournalError>;
    fn write_by_key(
        &self,
        kind: WriteKind,
        idempotency_key: &str,
    ) -> Result<Option<WriteRecord>, JournalError>;
    fn writes(&self) -> Result<Vec<WriteRecord>, JournalError>;
    fn pending(&self) -> Result<Vec<WriteRecord>, JournalError>;
    fn damaged_rows(&self) -> Result<Vec<DamagedRow>, JournalError>;
    fn order_transactions_for(
        &self,
        order_id: &str,
        line_item_id: &str,
    ) -> Result<Vec<RecordedOrderTransaction>, JournalError>;
    fn audit(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, JournalError>;
    fn schema_version(&self) -> Result<u32, JournalError>;
    /// Why new writes and replays are refused (no usable seal key), if so.
    fn seal_problem(&self) -> Option<&str>;
    fn owner_id(&self) -> &str;
    /// A local path for side files (kept answers); the SQLite file itself.
    fn path(&self) -> &Path;
    /// Where the journal lives, for messages (never a secret).
    fn location(&self) -> String;
    /// "now" as the journal stamps rows (the app's clock).
    fn now_text(&self) -> String;
    /// Other agents' writes for `customer` in the last `minutes`, or still
    /// pending. A single-user journal has no other agents.
    fn others_on_customer(
        &self,
        customer: &str,
        minutes: u32,
    ) -> Result<Vec<Activity>, JournalError> {
        let _ = (customer, minutes);
        Ok(Vec::new())
    }

    /// Call `on_change` whenever a row is added to the audit log (by any
    /// agent), for as long as the journal lives, without polling; after a
    /// lost connection it reconnects and calls it once (rows may have been
    /// missed). False when the backend has no such feed: a SQLite file has
    /// one agent, whose console reads the log after its own writes.
    fn watch_audit(&self, on_change: Box<dyn Fn() + Send + Sync>) -> bool {
        let _ = on_change;
        false
    }

    /// Settle by hand (see [`super::resolve`], which claims it first).
    fn resolve_manually(
        &self,
        id: i64,
        state: WriteState,
        note: &str,
        actor: &Actor,
    ) -> Result<bool, JournalError> {
        self.settle(
            id,
            &Settlement {
                state,
                http_status: None,
                result: format!("resolved by hand: {note}"),
                correlation: Correlation::default(),
                order_transactions: Vec::new(),
            },
            actor,
        )
    }
}

/// The SQLite backend: its inherent methods are the implementation.
impl JournalStore for Journal {
    fn record(&self, req: &WriteRequest, actor: &Actor) -> Result<i64, JournalError> {
        Journal::record(self, req, actor)
    }
    fn record_attempt(
        &self,
        req: &WriteRequest,
        actor: &Actor,
    ) -> Result<(i64, bool), JournalError> {
        Journal::record_attempt(self, req, actor)
    }
    fn claim(&self, id: i64) -> Result<Claim, JournalError> {
        Journal::claim(self, id)
    }
    fn begin_replay(&self, id: i64, actor: &Actor) -> Result<Option<ClaimedWrite>, JournalError> {
        Journal::begin_replay(self, id, actor)
    }
    fn settle(&self, id: i64, s: &Settlement, actor: &Actor) -> Result<bool, JournalError> {
        Journal::settle(self, id, s, actor)
    }
    fn leave_pending(
        &self,
        id: i64,
        reason: &str,
        http_status: Option<u16>,
        correlation: &Correlation,
        actor: &Actor,
    ) -> Result<(), JournalError> {
        Journal::leave_pending(self, id, reason, http_status, correlation, actor)
    }
    fn release(&self, id: i64) -> Result<(), JournalError> {
        Journal::release(self, id)
    }
    fn in_flight_by(&self, id: i64) -> Result<Option<String>, JournalError> {
        Journal::in_flight_by(self, id)
    }
    fn write(&self, id: i64) -> Result<Option<WriteRecord>, JournalError> {
        Journal::write(self, id)
    }
    fn write_by_key(
        &self,
        kind: WriteKind,
        idempotency_key: &str,
    ) -> Result<Option<WriteRecord>, JournalError> {
        Journal::write_by_key(self, kind, idempotency_key)
    }
    fn writes(&self) -> Result<Vec<WriteRecord>, JournalError> {
        Journal::writes(self)
    }
    fn pending(&self) -> Result<Vec<WriteRecord>, JournalError> {
        Journal::pending(self)
    }
    fn damaged_rows(&self) -> Result<Vec<DamagedRow>, JournalError> {
        Journal::damaged_rows(self)
    }
    fn order_transactions_for(
        &self,
        order_id: &str,
        line_item_id: &str,
    ) -> Result<Vec<RecordedOrderTransaction>, JournalError> {
        Journal::order_transactions_for(self, order_id, line_item_id)
    }
    fn audit(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, JournalError> {
        Journal::audit(self, filter)
    }
    fn schema_version(&self) -> Result<u32, JournalError> {
        Journal::schema_version(self)
    }
    fn seal_problem(&self) -> Option<&str> {
        Journal::seal_problem(self)
    }
    fn owner_id(&self) -> &str {
        Journal::owner_id(self)
    }
    fn path(&self) -> &Path {
        Journal::path(self)
    }
    fn location(&self) -> String {
        Journal::path(self).display().to_string()
    }
    fn now_text(&self) -> String {
        Journal::now_text(self)
    }
}
