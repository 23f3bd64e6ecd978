//! Write-ahead journal and audit log (SQLite, one file in the data dir).
//!
//! Every write (consume, grant, subscription change, …) is recorded as
//! *pending* with its idempotency key before it is sent, settled only by a
//! definite answer, and replayed with the same key otherwise. Every attempt
//! and outcome is appended to the audit log in the same commit.
//!
//! - [`db`]: opening, pragmas, migrations, claim owners
//! - [`writes`]: journal rows — record, claim, settle, leave pending
//! - [`audit`]: the append-only audit log and its export
//! - [`exec`]: execute / replay — the API the TUI calls
//! - [`request`]: what a write is, and the confirmation preview
//! - [`mask`], [`seal`]: keeping keys and secrets out of the file
//! - `shape`: what both backends write (new rows, audit entries, replays)
//! - [`kept`]: Store answers that arrived but could not be recorded
//! - [`store`]: the [`JournalStore`] trait both backends implement, and
//!   [`open`] for a [`JournalLocation`]
//! - [`pg`]: the team journal on PostgreSQL
//! - [`cli`]: the headless `consume`, `grant`, `audit`, `pending` commands

pub mod audit;
pub mod db;
pub mod exec;
pub mod kept;
mod lease;
pub mod mask;
pub mod migrate;
pub mod pg;
pub mod request;
pub mod seal;
pub mod sender;
mod shape;
pub mod store;
pub mod writes;

pub use audit::{AuditEntry, AuditEvent, AuditFilter};
pub use db::{Journal, SCHEMA_VERSION};
pub use exec::{
    ReplayReport, ReplayStatus, ResolveOutcome, SendResult, WriteOutcome, WriteSender, execute,
    pending, replay_one, replay_pending, resolve,
};
pub use request::{Actor, GrantParams, WriteKind, WritePreview, WriteRequest};
pub use store::{Activity, COLLISION_MINUTES, JournalLocation, JournalStore, SharedJournal, open};
pub use writes::{
    Claim, ClaimedWrite, Correlation, DamagedRow, OrderTransaction, RecordedOrderTransaction,
    Settlement, WriteRecord, WriteState,
};

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("journal database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("journal: {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Seal(#[from] seal::SealError),
    #[error(
        "the journal was written by a newer storedesk (schema {found}, this one knows {known}); upgrade storedesk"
    )]
    TooNew { found: u32, known: u32 },
    #[error("a write with idempotency key {idempotency_key} is already in the journal ({state})")]
    Duplicate {
        idempotency_key: String,
        state: String,
    },
    #[error("pending write #{id} has lost its customer key and cannot be replayed")]
    KeyMissing { id: i64 },
    /// The journal file is gone or empty while its seal key (made with it)
    /// is still there: the record of earlier writes was lost. Never
    /// silently replaced by a new, empty journal.
    #[error(
        "the journal {path} {what}, but its seal key {seal} is still there: the record of earlier runs is gone. \
         Writes left pending there (outcome unknown) and the audit log may be lost; check the Store for writes \
         made from this data dir{kept}. storedesk will not start a new journal over it: to start afresh on purpose, \
         move the seal key aside"
    )]
    Vanished {
        path: PathBuf,
        what: &'static str,
        seal: PathBuf,
        /// ", and the answers kept in …" when settling failed earlier.
        kept: String,
    },
    #[error(
        "{0}: new writes are refused and pending writes cannot be replayed (their customer keys are sealed \
         with it); the audit log and the pending list can still be read — check the Store, then resolve them by hand"
    )]
    SealDamaged(String),
    #[error("journal: {0}")]
    Invalid(String),
    /// The journal file is not a database (overwritten, truncated in the
    /// middle, not a journal at all): never written over, since it may hold
    /// the only record of pending writes.
    #[error(
        "the journal {path} is damaged ({detail}): nothing was recorded or sent. storedesk will not write over it — \
         it may hold the only record of pending writes and the audit log. Move it aside (keep it for whoever \
         checks the Store), then run again to start a new journal"
    )]
    Corrupt { path: PathBuf, detail: String },
    /// The team journal (PostgreSQL): unreachable, refused, or an error
    /// from the server. Nothing is sent while it cannot record.
    #[error("team journal: {0}")]
    Postgres(String),
}

pub(crate) fn journal_err(msg: &str) -> JournalError {
    JournalError::Invalid(msg.to_string())
}
