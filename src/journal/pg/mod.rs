//! The team journal: the journal, audit log and pending list in a shared
//! PostgreSQL database, behind the same [`JournalStore`] trait as the
//! SQLite file.
//!
//! Exactly once across agents:
//! - a write's `(kind, idempotency_key)` is UNIQUE in the shared table, so
//!   two agents can never both record (and then send) the same write;
//! - sending needs the row's claim: taken under `SELECT … FOR UPDATE SKIP
//!   LOCKED`, held as a lease (`claimed_until`, server time, so agents'
//!   clocks do not matter) that the owner's heartbeat renews while it
//!   lives. A replaying agent takes a write over only once that lease has
//!   lapsed — the owner died (or lost the database) mid-write.
//!
//! Customer keys: a pending write keeps its customer key sealed (as in
//! SQLite), here with the **team seal key** every agent gets from its
//! environment (`STOREDESK_TEAM_SEAL_KEY`, base64 of 32 bytes, or the
//! profile's `journal_seal_key_env` / `journal_seal_key_command`), so any
//! agent of the team can replay another's write; the database alone never
//! holds a usable key. Without it, reads work and writes are refused.
//!
//! - [`pool`]: the connections (dedicated runtime, pool, TLS)
//! - [`schema`]: versioned migrations under an advisory lock
//! - [`ops`]: the SQL of each journal operation

pub mod ops;
pub mod pool;
pub mod schema;

use super::JournalError;
use super::seal::Sealer;
use crate::clock::Clock;
use crate::config::SecretSource;
use pool::Pool;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub use schema::{MIGRATIONS, PG_SCHEMA_VERSION};

/// The default environment variable holding the team seal key.
pub const TEAM_SEAL_KEY_ENV: &str = "STOREDESK_TEAM_SEAL_KEY";

/// How long a claim holds without its owner's heartbeat; the heartbeat
/// renews it every third of that.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);

/// Where the team journal is and how to reach it.
#[derive(Clone)]
pub struct PgSettings {
    /// `postgres://user@host:port/db?sslmode=require` (a password in it
    /// works but is better given by `password`).
    pub url: String,
    pub password: SecretSource,
    pub seal_key: SecretSource,
    /// A local path next to which answers that could not be recorded are
    /// kept (`journal::kept`): the data dir's journal path.
    pub side_path: PathBuf,
    pub lease: Duration,
    /// This machine's name in the journal (default: the host name).
    pub machine: Option<String>,
}

impl std::fmt::Debug for PgSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl PgSettings {
    pub fn new(url: impl Into<String>, side_path: PathBuf) -> Self {
        Self {
            url: url.into(),
            password: SecretSource::None,
            seal_key: SecretSource::Env(TEAM_SEAL_KEY_ENV.into()),
            side_path,
            lease: DEFAULT_LEASE,
            machine: None,
        }
    }

    /// The settings a profile's `journal_url` (and its secrets by
    /// reference) names. `STOREDESK_MACHINE` names this machine (default:
    /// the host name); `STOREDESK_JOURNAL_LEASE_SECS` shortens the claim
    /// lease (tests of a dead agent's takeover).
    pub fn from_team(team: &crate::config::TeamJournal, side_path: PathBuf) -> Self {
        let mut s = Self::new(team.url.clone(), side_path);
        s.password = team.password.clone();
        s.seal_key = team.seal_key.clone();
        s.machine = std::env::var("STOREDESK_MACHINE")
            .ok()
            .filter(|m| !m.is_empty());
        if let Some(secs) = std::env::var("STOREDESK_JOURNAL_LEASE_SECS")
            .ok()
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|v| *v > 0.0 && *v < 86_400.0)
        {
            s.lease = Duration::from_secs_f64(secs);
        }
        s
    }

    /// `postgres://user@host:port/db`, never the password.
    pub fn describe(&self) -> String {
        match self.url.parse::<tokio_postgres::Config>() {
            Ok(c) => {
                let host = c
                    .get_hosts()
                    .first()
                    .map(|h| match h {
                        tokio_postgres::config::Host::Tcp(h) => h.clone(),
                        #[cfg(unix)]
                        tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
                    })
                    .unwrap_or_else(|| "localhost".into());
                let port = c.get_ports().first().copied().unwrap_or(5432);
                format!(
                    "postgres://{}@{host}:{port}/{}",
                    c.get_user().unwrap_or(""),
                    c.get_dbname().unwrap_or("")
                )
            }
            Err(_) => "postgres://(an unreadable journal_url)".into(),
        }
    }
}

/// This machine's name.
pub fn machine_name() -> String {
    let from_file = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    from_file
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .unwrap_or_else(|| "unknown-machine".into())
}

/// The team journal (see the module doc). One per process; each is a
/// distinct agent.
pub struct PgJournal {
    pool: Arc<Pool>,
    /// `<pid>-<random>@<machine>`: the claim owner.
    agent: String,
    machine: String,
    /// The team seal key and its id, or why there is none.
    sealer: Result<(Sealer, String), String>,
    clock: Clock,
    lease: Duration,
    side_path: PathBuf,
    location: String,
    heartbeat: tokio::task::JoinHandle<()>,
    /// The audit feeds (`watch_audit`), stopped with the journal.
    feeds: std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl std::fmt::Debug for PgJournal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgJournal")
            .field("location", &self.location)
            .field("agent", &self.agent)
            .finish()
    }
}

impl Drop for PgJournal {
    fn drop(&mut self) {
        // Our claims are released by settle / leave_pending; any left (a
        // send cut short) lapse with the lease once the heartbeat stops.
        self.heartbeat.abort();
        for f in self
            .feeds
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            f.abort();
        }
    }
}

impl PgJournal {
    /// Connect, migrate on first use, start the heartbeat.
    pub fn open(s: &PgSettings, clock: Clock) -> Result<Self, JournalError> {
        let mut config: tokio_postgres::Config = s.url.parse().map_err(|_| {
            JournalError::Invalid(
                "journal_url is not a PostgreSQL URL (postgres://user@host:port/database)".into(),
            )
        })?;
        if let Some(pw) = fetch(&s.password, "the journal password")? {
            config.password(pw);
        }
        let pool = Arc::new(Pool::new(config)?);
        pool.run(async |c| schema::migrate(c).await)?;
        let machine = s.machine.clone().unwrap_or_else(machine_name);
        let agent = format!(
            "{}-{}@{machine}",
            std::process::id(),
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        let sealer = team_sealer(&s.seal_key);
        let heartbeat = pool
            .handle()
            .spawn(heartbeat(pool.connector(), agent.clone(), s.lease));
        Ok(Self {
            pool,
            agent,
            machine,
            sealer,
            clock,
            lease: s.lease,
            side_path: s.side_path.clone(),
            location: s.describe(),
            heartbeat,
            feeds: std::sync::Mutex::new(Vec::new()),
        })
    }

    pub(super) fn sealer(&self) -> Result<&(Sealer, String), JournalError> {
        self.sealer
            .as_ref()
            .map_err(|e| JournalError::SealDamaged(e.clone()))
    }

    pub fn agent(&self) -> &str {
        &self.agent
    }

    pub fn machine(&self) -> &str {
        &self.machine
    }

    pub(super) fn lease_secs(&self) -> f64 {
        self.lease.as_secs_f64()
    }

    pub(super) fn now_text(&self) -> String {
        self.clock
            .now()
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
    }

    pub(super) fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Start the audit feed (`JournalStore::watch_audit`): a connection of
    /// its own LISTENs on the audit trigger's channel; a lost connection
    /// is made again (every 2 s while the server is away), and once back
    /// `on_change` is called in case rows were added meanwhile.
    pub fn start_audit_feed(&self, on_change: Box<dyn Fn() + Send + Sync>) {
        let connector = self.pool.connector();
        let task = self.pool.handle().spawn(async move {
            let mut was_lost = false;
            // One warning per outage, not one every retry.
            let mut warned = false;
            loop {
                match connector.listen(schema::AUDIT_CHANNEL).await {
                    Ok((client, mut rx)) => {
                        warned = false;
                        if std::mem::take(&mut was_lost) {
                            on_change();
                        }
                        while rx.recv().await.is_some() {
                            // A burst of rows is one reread.
                            while rx.try_recv().is_ok() {}
                            on_change();
                        }
                        drop(client);
                    }
                    Err(e) if !warned => {
                        warned = true;
                        tracing::warn!(error = %e, "team journal: audit feed lost; retrying every 2 s");
                    }
                    Err(e) => tracing::debug!(error = %e, "team journal: audit feed"),
                }
                was_lost = true;
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        });
        self.feeds
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(task);
    }

    /// Whether the role this journal connects as may change or delete
    /// audit rows (it must not): `(update, delete, truncate)`.
    pub fn audit_rights(&self) -> Result<(bool, bool, bool), JournalError> {
        self.pool.run(async |c| audit_rights(c).await)
    }
}

async fn audit_rights(c: &tokio_postgres::Client) -> Result<(bool, bool, bool), JournalError> {
    let r = c
        .query_one(
            "SELECT has_table_privilege('audit', 'UPDATE'), \
             has_table_privilege('audit', 'DELETE'), has_table_privilege('audit', 'TRUNCATE')",
            &[],
        )
        .await
        .map_err(pool::pg_err)?;
    Ok((r.get(0), r.get(1), r.get(2)))
}

/// What `storedesk doctor` learns of a team journal, read-only (it never
/// creates or migrates the schema).
#[derive(Clone, Debug)]
pub struct Probe {
    /// The server's `server_version`.
    pub server_version: String,
    /// The role connected as.
    pub role: String,
    /// The schema version applied (`None`: not created yet).
    pub schema: Option<u32>,
    /// `(update, delete, truncate)` on audit for that role, once the schema
    /// exists.
    pub audit_rights: Option<(bool, bool, bool)>,
    /// The team seal key's id, or why there is none.
    pub seal: Result<String, String>,
    /// How long connecting and asking took.
    pub ms: u128,
}

/// The team seal key's id, or why it cannot be used (never the key).
pub fn probe_seal(src: &SecretSource) -> Result<String, String> {
    team_sealer(src).map(|(_, id)| id)
}

/// Connect with `s` and read what doctor reports (blocking: call it off
/// the async workers).
pub fn probe(s: &PgSettings) -> Result<Probe, JournalError> {
    let started = std::time::Instant::now();
    let mut config: tokio_postgres::Config = s.url.parse().map_err(|_| {
        JournalError::Invalid(
            "journal_url is not a PostgreSQL URL (postgres://user@host:port/database)".into(),
        )
    })?;
    if let Some(pw) = fetch(&s.password, "the journal password")? {
        config.password(pw);
    }
    let pool = Pool::new(config)?;
    let (server_version, role, schema, audit_rights) = pool.run(async |c| {
        let r = c
            .query_one(
                "SELECT current_setting('server_version'), current_user::text",
                &[],
            )
            .await
            .map_err(pool::pg_err)?;
        let schema = schema::version(c).await?;
        let rights = match schema {
            Some(_) => Some(audit_rights(c).await?),
            None => None,
        };
        Ok((r.get::<_, String>(0), r.get::<_, String>(1), schema, rights))
    })?;
    Ok(Probe {
        server_version,
        role,
        schema,
        audit_rights,
        seal: team_sealer(&s.seal_key).map(|(_, id)| id),
        ms: started.elapsed().as_millis(),
    })
}

/// Renew the leases of every write this agent is sending, every third of
/// the lease, for as long as the process lives. A dead agent stops
/// renewing, and its writes become replayable once the lease lapses.
async fn heartbeat(connector: pool::Connector, agent: String, lease: Duration) {
    let every = (lease / 3).max(Duration::from_millis(100));
    let mut client = None;
    loop {
        tokio::time::sleep(every).await;
        if client
            .as_ref()
            .is_none_or(|c: &tokio_postgres::Client| c.is_closed())
        {
            client = connector.connect().await.ok();
        }
        let Some(c) = &client else { continue };
        let renewed = c
            .execute(
                "UPDATE writes SET claimed_until = clock_timestamp() + $2::float8 * interval '1 second' \
                 WHERE claimed_by = $1 AND state = 'pending'",
                &[&agent, &lease.as_secs_f64()],
            )
            .await;
        if let Err(e) = renewed {
            tracing::warn!(error = %pool::pg_msg(&e), "team journal: lease renewal failed");
            client = None;
        }
    }
}

/// Fetch a secret from where the settings say it lives; `None` when none
/// is configured.
fn fetch(src: &SecretSource, what: &str) -> Result<Option<String>, JournalError> {
    match src {
        SecretSource::None | SecretSource::Embedded => Ok(None),
        SecretSource::Env(var) => match std::env::var(var) {
            Ok(v) if !v.is_empty() => Ok(Some(v)),
            _ => Err(JournalError::Invalid(format!(
                "environment variable {var} ({what}) is not set"
            ))),
        },
        SecretSource::Command(cmd) => crate::config::run_command_secret(cmd)
            .map(|s| Some(s.expose().to_string()))
            .map_err(|m| JournalError::Invalid(format!("the command for {what}: {m}"))),
    }
}

/// The team seal key (base64 of 32 bytes) and its id (first 8 hex of its
/// SHA-256, stored with each sealed key so a mismatch is named).
fn team_sealer(src: &SecretSource) -> Result<(Sealer, String), String> {
    use base64::Engine as _;
    let raw = match fetch(src, "the team seal key") {
        Ok(Some(v)) => v,
        Ok(None) => return Err("no team seal key is configured".into()),
        Err(e) => {
            return Err(format!(
                "{e} — every agent of the team needs the same team seal key (base64 of 32 random bytes, \
                 e.g. `openssl rand -base64 32`)"
            ));
        }
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(raw.trim())
        .map_err(|_| "the team seal key is not base64".to_string())?;
    let sealer = Sealer::from_key(Path::new("the team seal key"), &bytes).map_err(|_| {
        "the team seal key must be 32 bytes (base64 of 32 random bytes)".to_string()
    })?;
    let digest = Sha256::digest(&bytes);
    let id = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
    Ok((sealer, id))
}
