//! Opening the journal database: pragmas, schema migrations, and the owner
//! identity each process uses to claim pending writes.

use super::JournalError;
use super::lease::{Heartbeat, LeaseConfig, Observed};
use super::seal::Sealer;
use crate::clock::Clock;
use rusqlite::{Connection, TransactionBehavior};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Schema steps; `PRAGMA user_version` is the index of the last one applied.
const MIGRATIONS: &[&str] = &[
    // v1
    r#"
    CREATE TABLE writes (
        id               INTEGER PRIMARY KEY,
        kind             TEXT NOT NULL,
        idempotency_key  TEXT NOT NULL,
        target           TEXT,
        state            TEXT NOT NULL CHECK (state IN ('pending','done','failed')),
        profile          TEXT NOT NULL,
        environment      TEXT NOT NULL,
        operator         TEXT NOT NULL,
        customer_fp      TEXT NOT NULL,
        -- the customer key, sealed (see seal.rs); NULL once settled
        sealed_key       BLOB,
        -- the exact request body with the key replaced by a placeholder
        body             TEXT NOT NULL,
        summary          TEXT NOT NULL,
        expected_effect  TEXT NOT NULL,
        created_at       TEXT NOT NULL,
        attempts         INTEGER NOT NULL DEFAULT 0,
        last_attempt_at  TEXT,
        last_error       TEXT,
        settled_at       TEXT,
        http_status      INTEGER,
        result           TEXT,
        correlation      TEXT,
        claimed_by       TEXT,
        claimed_until    INTEGER,
        UNIQUE (kind, idempotency_key),
        CHECK (state = 'pending' OR sealed_key IS NULL)
    );
    CREATE INDEX writes_pending ON writes(state) WHERE state = 'pending';

    -- A settled write stays settled, and no write ever changes what it is
    -- or which key it is replayed with.
    CREATE TRIGGER writes_identity_fixed
    BEFORE UPDATE OF kind, idempotency_key, target, body, profile, environment, customer_fp ON writes
    BEGIN SELECT RAISE(ABORT, 'journal: a write''s identity cannot change'); END;
    CREATE TRIGGER writes_settled_final
    BEFORE UPDATE OF state ON writes WHEN OLD.state <> 'pending'
    BEGIN SELECT RAISE(ABORT, 'journal: a settled write cannot change state'); END;
    CREATE TRIGGER writes_no_delete
    BEFORE DELETE ON writes
    BEGIN SELECT RAISE(ABORT, 'journal: writes are never deleted'); END;

    CREATE TABLE order_transactions (
        write_id            INTEGER NOT NULL REFERENCES writes(id),
        order_id            TEXT NOT NULL,
        order_line_item_id  TEXT NOT NULL,
        quantity_consumed   INTEGER NOT NULL,
        product_id          TEXT NOT NULL,
        customer_fp         TEXT NOT NULL,
        tracking_id         TEXT NOT NULL,
        recorded_at         TEXT NOT NULL,
        PRIMARY KEY (order_id, order_line_item_id, write_id)
    );

    CREATE TABLE audit (
        id               INTEGER PRIMARY KEY,
        at               TEXT NOT NULL,
        operator         TEXT NOT NULL,
        profile          TEXT NOT NULL,
        environment      TEXT NOT NULL,
        customer_fp      TEXT NOT NULL,
        action           TEXT NOT NULL,
        event            TEXT NOT NULL,
        write_id         INTEGER,
        idempotency_key  TEXT,
        attempt          INTEGER,
        request_summary  TEXT NOT NULL,
        result           TEXT,
        http_status      INTEGER,
        correlation      TEXT
    );
    CREATE INDEX audit_write ON audit(write_id);
    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
    "#,
    // v2: the case's customer (store::keyinfo::case_customer), beside the
    // key's fingerprint. NULL in rows written before: read as "key:<fp>".
    r#"
    ALTER TABLE writes ADD COLUMN customer TEXT;
    ALTER TABLE audit ADD COLUMN customer TEXT;
    "#,
    // v3: a clawback acknowledgement is identified by its event's message
    // id alone; the pop receipt (which changes each time the event is
    // received) lives in `receipt`, outside the identity, so a stale or
    // refused acknowledgement can be retried with a fresh receipt as the
    // same write's next attempt — and only that kind may go from failed
    // back to pending, since deleting an event twice removes nothing else.
    r#"
    ALTER TABLE writes ADD COLUMN receipt TEXT;
    DROP TRIGGER writes_identity_fixed;
    DROP TRIGGER writes_settled_final;
    UPDATE writes
       SET receipt = substr(target, instr(target, '/') + 1),
           target = substr(target, 1, instr(target, '/') - 1)
     WHERE kind = 'clawback_ack' AND instr(target, '/') > 0;
    CREATE TRIGGER writes_identity_fixed
    BEFORE UPDATE OF kind, idempotency_key, target, body, profile, environment, customer_fp ON writes
    BEGIN SELECT RAISE(ABORT, 'journal: a write''s identity cannot change'); END;
    CREATE TRIGGER writes_settled_final
    BEFORE UPDATE OF state ON writes
    WHEN OLD.state <> 'pending'
     AND NOT (OLD.kind = 'clawback_ack' AND OLD.state = 'failed' AND NEW.state = 'pending')
    BEGIN SELECT RAISE(ABORT, 'journal: a settled write cannot change state'); END;
    "#,
];

pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// How long a claim holds when the owner's liveness cannot be told (a file
/// system without locks) — renewed by the owner's heartbeat while it lives
/// (see `lease.rs`). Normally a dead owner is detected at once through its
/// lock file and a live one keeps its claim (see [`Owner`]).
pub const DEFAULT_LEASE: Duration = Duration::from_secs(300);

/// The write-ahead journal and audit log. One per process (or per test
/// "process"): each instance is a distinct claim owner.
pub struct Journal {
    conn: Mutex<Connection>,
    pub(super) owner: Owner,
    /// The seal key, or why it cannot be used. A damaged key file does not
    /// stop the journal from opening: the audit log and the list of
    /// pending writes stay readable; only sealing (new writes) and opening
    /// sealed keys (replays) are refused.
    sealer: Result<Sealer, String>,
    pub(super) clock: Clock,
    /// Lease length, beat and the wall clock leases are written in; shared
    /// with the heartbeat.
    pub(super) leases: Arc<LeaseConfig>,
    /// Leases of owners that cannot be checked by lock, as seen here.
    pub(super) observed: Observed,
    path: PathBuf,
    /// (device, inode) of the file opened: a journal deleted or replaced
    /// under a running process is noticed before anything is recorded in
    /// a file nobody will read again.
    identity: Option<(u64, u64)>,
    /// Declared last: dropped (stopped) after nothing else needs it.
    _heartbeat: Heartbeat,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("path", &self.path)
            .field("owner", &self.owner.id)
            .finish()
    }
}

impl Journal {
    /// Open (creating and migrating if needed) the journal at `path`.
    pub fn open(path: &Path) -> Result<Self, JournalError> {
        Self::open_with_clock(path, Clock::system())
    }

    /// `clock` stamps rows and audit entries; claim leases always use the
    /// real time, since they coordinate real processes.
    pub fn open_with_clock(path: &Path, clock: Clock) -> Result<Self, JournalError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| JournalError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        check_not_vanished(path)?;
        // Customers, summaries and sealed keys: owner only (WAL and SHM
        // files take the database file's mode).
        // Best effort: where it cannot be done, SQLite's own open says why.
        if !path.as_os_str().is_empty() && path != Path::new(":memory:") {
            let _ = crate::paths::ensure_private(path);
        }
        let conn = Connection::open(path)?;
        // Another process may be migrating or writing: wait, don't fail.
        conn.busy_timeout(Duration::from_secs(10))?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(|e| corrupt(path, e.into()))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(mode, "journal: WAL mode not available");
        }
        // FULL: a commit is on disk before we send the request it records.
        // secure_delete: the erased sealed key is zeroed, not left in a free page.
        conn.execute_batch(
            "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON;",
        )?;
        migrate(&conn).map_err(|e| corrupt(path, e))?;
        let sealer = match Sealer::load_or_create(&sidecar(path, "seal.key")) {
            Ok(s) => Ok(s),
            Err(e @ super::seal::SealError::BadKeyFile { .. }) => {
                tracing::error!(error = %e, "journal: seal key unusable");
                Err(e.to_string())
            }
            Err(e) => return Err(e.into()),
        };
        let owner = Owner::register(&sidecar(path, "owners"))?;
        let identity = file_identity(path);
        let leases = Arc::new(LeaseConfig::new(DEFAULT_LEASE));
        let heartbeat = Heartbeat::start(path.to_path_buf(), owner.id.clone(), leases.clone());
        Ok(Self {
            identity,
            conn: Mutex::new(conn),
            owner,
            sealer,
            clock,
            leases,
            observed: Observed::default(),
            path: path.to_path_buf(),
            _heartbeat: heartbeat,
        })
    }

    /// The seal key, or [`JournalError::SealDamaged`].
    pub(super) fn sealer(&self) -> Result<&Sealer, JournalError> {
        self.sealer
            .as_ref()
            .map_err(|e| JournalError::SealDamaged(e.clone()))
    }

    /// Why sealed keys cannot be used, if they cannot (a damaged seal key
    /// file): new writes are refused and pending ones cannot be replayed.
    pub fn seal_problem(&self) -> Option<&str> {
        self.sealer.as_ref().err().map(String::as_str)
    }

    /// How long a claim holds without this process settling or renewing it.
    pub fn set_lease(&mut self, lease: Duration) {
        self.leases.set_lease(lease);
    }

    /// How often this process renews its claims' leases (default 1 s);
    /// also how long (three beats) it watches another owner's lease stand
    /// still before taking over. Tests shorten it.
    pub fn set_lease_beat(&mut self, beat: Duration) {
        self.leases.set_beat(beat);
    }

    /// The wall clock lease values are written and compared in (the
    /// system clock). Tests move it to play a clock jump; takeovers still
    /// wait for a lease seen standing still on the monotonic clock.
    #[doc(hidden)]
    pub fn set_lease_clock(&mut self, clock: Clock) {
        self.leases.set_clock(clock);
    }

    /// Behave as on a file system without locks: other owners' liveness
    /// cannot be told, only their leases. For tests.
    #[doc(hidden)]
    pub fn assume_no_locks(&mut self) {
        self.owner.no_locks = true;
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// This instance's claim-owner id.
    pub fn owner_id(&self) -> &str {
        &self.owner.id
    }

    pub fn schema_version(&self) -> Result<u32, JournalError> {
        let v: u32 = self
            .conn()
            .query_row("PRAGMA user_version", [], |r| r.get(0))?;
        Ok(v)
    }

    /// `(journal_mode, synchronous)` of this connection, for diagnostics:
    /// expected `("wal", 2)` — 2 is FULL.
    pub fn durability(&self) -> Result<(String, i64), JournalError> {
        let conn = self.conn();
        let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
        let sync: i64 = conn.query_row("PRAGMA synchronous", [], |r| r.get(0))?;
        Ok((mode, sync))
    }

    pub(super) fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves the connection usable:
        // SQLite rolls back the open transaction when it is dropped.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Run `f` in a `BEGIN IMMEDIATE` transaction: the write lock is taken
    /// up front, so two processes serialise instead of failing on upgrade.
    pub(super) fn immediate<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, JournalError>,
    ) -> Result<T, JournalError> {
        if self.identity.is_some() && file_identity(&self.path) != self.identity {
            return Err(vanished(
                &self.path,
                "was deleted or replaced while storedesk ran",
            ));
        }
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    pub(super) fn now_text(&self) -> String {
        self.clock
            .now()
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
    }
}

/// Refuse to create a journal where one existed: the seal key is made
/// with the journal, so a seal key next to a missing or empty journal file
/// means the journal was deleted or emptied.
fn check_not_vanished(path: &Path) -> Result<(), JournalError> {
    if !sidecar(path, "seal.key").exists() {
        return Ok(());
    }
    let len = |p: &Path| std::fs::metadata(p).map(|m| m.len()).ok();
    let what = match len(path) {
        None => "is missing",
        // A WAL may still hold every commit of a file never checkpointed.
        Some(0) if len(&sidecar_raw(path, "-wal")).unwrap_or(0) == 0 => "is empty",
        _ => return Ok(()),
    };
    Err(vanished(path, what))
}

pub(super) fn vanished(path: &Path, what: &'static str) -> JournalError {
    let answers = super::kept::dir(path);
    let n = std::fs::read_dir(&answers).map(|d| d.count()).unwrap_or(0);
    JournalError::Vanished {
        path: path.to_path_buf(),
        what,
        seal: sidecar(path, "seal.key"),
        kept: if n > 0 {
            format!(
                ", and the {n} Store answer(s) kept in {} that could not be recorded",
                answers.display()
            )
        } else {
            String::new()
        },
    }
}

fn file_identity(path: &Path) -> Option<(u64, u64)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
    }
    #[cfg(not(unix))]
    {
        // No inode to compare: the in-flight check is skipped.
        let _ = path;
        None
    }
}

fn sidecar_raw(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    db.with_file_name(name)
}

pub(super) fn sidecar(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(format!("-{suffix}"));
    db.with_file_name(name)
}

/// A "not a database" / "malformed" error opening the file says which
/// file and what to do, rather than a bare SQLite message.
fn corrupt(path: &Path, e: JournalError) -> JournalError {
    use rusqlite::ErrorCode::{DatabaseCorrupt, NotADatabase};
    match &e {
        JournalError::Sqlite(rusqlite::Error::SqliteFailure(f, msg))
            if matches!(f.code, NotADatabase | DatabaseCorrupt) =>
        {
            JournalError::Corrupt {
                path: path.to_path_buf(),
                detail: msg.clone().unwrap_or_else(|| f.to_string()),
            }
        }
        _ => e,
    }
}

fn migrate(conn: &Connection) -> Result<(), JournalError> {
    let current: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > SCHEMA_VERSION {
        return Err(JournalError::TooNew {
            found: current,
            known: SCHEMA_VERSION,
        });
    }
    if current == SCHEMA_VERSION {
        return Ok(());
    }
    // Re-read inside the write lock: a second process may have migrated
    // while we waited.
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let result = (|| {
        let current: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        for (i, step) in MIGRATIONS.iter().enumerate().skip(current as usize) {
            conn.execute_batch(step)?;
            conn.pragma_update(None, "user_version", (i + 1) as u32)?;
            tracing::info!(version = i + 1, "journal: schema migrated");
        }
        Ok::<(), rusqlite::Error>(())
    })();
    match result {
        Ok(()) => conn.execute_batch("COMMIT")?,
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(e.into());
        }
    }
    Ok(())
}

/// A claim owner: a random id plus an exclusively locked file named after
/// it. The OS drops the lock when the process dies (even on SIGKILL), so
/// another process can tell a crashed owner from a live one at once instead
/// of waiting for the lease to run out.
pub(super) struct Owner {
    pub id: String,
    dir: PathBuf,
    lock: Option<File>,
    /// Liveness of others cannot be told (see `Journal::assume_no_locks`).
    pub no_locks: bool,
}

impl Owner {
    fn register(dir: &Path) -> Result<Self, JournalError> {
        let io = |source| JournalError::Io {
            path: dir.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let id = format!(
            "{}-{}",
            std::process::id(),
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        let path = dir.join(format!("{id}.lock"));
        let file = File::create(&path).map_err(io)?;
        file.try_lock().map_err(|e| match e {
            std::fs::TryLockError::Error(e) => io(e),
            std::fs::TryLockError::WouldBlock => io(std::io::Error::other("owner file is locked")),
        })?;
        Ok(Self {
            id,
            dir: dir.to_path_buf(),
            lock: Some(file),
            no_locks: false,
        })
    }

    /// Whether the owner `other` is a live process. A live owner may be in
    /// the middle of sending, whatever its lease says, so only a provably
    /// dead one is taken over at once.
    pub fn liveness(&self, other: &str) -> Liveness {
        if other == self.id {
            return Liveness::Alive;
        }
        if self.no_locks {
            return Liveness::Unknown;
        }
        // The id comes from the database: never let it name a path outside.
        if other.is_empty() || !other.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Liveness::Unknown;
        }
        let path = self.dir.join(format!("{other}.lock"));
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Liveness::Dead,
            Err(_) => return Liveness::Unknown,
        };
        match file.try_lock() {
            Ok(()) => {
                // Ours now: the owner is gone. Tidy its file.
                let _ = std::fs::remove_file(&path);
                Liveness::Dead
            }
            Err(std::fs::TryLockError::WouldBlock) => Liveness::Alive,
            // e.g. a file system without locks: fall back on the lease.
            Err(std::fs::TryLockError::Error(_)) => Liveness::Unknown,
        }
    }
}

/// The process id in a claim-owner id (`<pid>-<random>`).
pub fn owner_pid(owner: &str) -> Option<u32> {
    owner.split_once('-')?.0.parse().ok()
}

/// "another storedesk (pid 1234)" for a claim-owner id, for messages.
pub fn describe_owner(owner: &str) -> String {
    // A team journal's agent id is `<pid>-<random>@<machine>`.
    if let Some((_, machine)) = owner.split_once('@') {
        return match owner_pid(owner) {
            Some(pid) => format!("another agent on {machine} (pid {pid})"),
            None => format!("another agent on {machine}"),
        };
    }
    match owner_pid(owner) {
        Some(pid) => format!("another storedesk (pid {pid})"),
        None => "another storedesk".to_string(),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Liveness {
    Alive,
    Dead,
    Unknown,
}

impl Drop for Owner {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.dir.join(format!("{}.lock", self.id)));
        self.lock.take();
    }
}
