//! `storedesk doctor`: check a profile end to end and say the fix in words.
//!
//! UI-free. [`run`] runs the checks in dependency order — config, endpoints,
//! clock, tokens, key, products, clawbacks, local — each group under its own
//! timeout (and every network probe under a shorter one), so a dead endpoint
//! costs seconds, never the run. Each [`CheckResult`] is sent down a channel
//! as it finishes (the console fills its overlay from it) and collected into
//! the [`Report`] (the headless command prints it). Doctor only reads: its
//! token requests go through the client's cache, it never writes to the
//! Store, and nothing it reports carries a secret.

mod clawbacks;
mod config;
mod endpoints;
mod key;
mod local;
mod team;
mod tokens;

use crate::clock::Clock;
use crate::config::{LoadedConfig, Profile, Secret};
use crate::store::StoreClient;
use crate::store::error::StoreError;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedSender;

/// The outcome of one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Warn,
    Fail,
    /// Not run: what it needs failed first (the result says which).
    Skip,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
            Status::Skip => "SKIP",
        }
    }
}

/// One line of the report: what was measured (never a secret) and, for a
/// warning or failure, the fix in a sentence or two.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    /// The group: config, endpoints, clock, tokens, key, products, clawbacks, local.
    pub group: &'static str,
    pub name: String,
    pub status: Status,
    pub measured: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// How long the check took.
    pub ms: u64,
}

impl CheckResult {
    fn new(
        group: &'static str,
        name: impl Into<String>,
        status: Status,
        measured: impl Into<String>,
    ) -> Self {
        Self {
            group,
            name: name.into(),
            status,
            measured: measured.into(),
            fix: None,
            ms: 0,
        }
    }

    fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }

    fn took(mut self, since: Instant) -> Self {
        self.ms = since.elapsed().as_millis().min(u128::from(u64::MAX)) as u64;
        self
    }
}

/// Counts per status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub pass: usize,
    pub warn: usize,
    pub fail: usize,
    pub skip: usize,
}

/// Everything doctor found, in the order the checks ran.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub profile: String,
    pub environment: String,
    pub checks: Vec<CheckResult>,
    pub summary: Summary,
    /// True when nothing failed (warnings allowed): exit 0.
    pub ok: bool,
}

impl Report {
    fn new(profile: String, environment: String, checks: Vec<CheckResult>) -> Self {
        let mut s = Summary::default();
        for c in &checks {
            match c.status {
                Status::Pass => s.pass += 1,
                Status::Warn => s.warn += 1,
                Status::Fail => s.fail += 1,
                Status::Skip => s.skip += 1,
            }
        }
        Self {
            profile,
            environment,
            checks,
            ok: s.fail == 0,
            summary: s,
        }
    }
}

/// How doctor gets its Store client.
pub enum Connection {
    /// Already built: the embedded sandbox's, or the console's own (so the
    /// tokens doctor asks for are the ones the console has cached).
    Ready(StoreClient),
    /// Built by the front once the config check has resolved the secret.
    Deferred(Box<dyn FnOnce(Secret) -> Result<StoreClient, StoreError> + Send>),
    /// No client can be built (the config did not load).
    None,
}

/// Per-check time limits. A group that overruns reports a failure with the
/// time it was given, and the run goes on.
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    /// One group of checks.
    pub check: Duration,
    /// One network probe (DNS + TCP + TLS/HTTP of one endpoint).
    pub probe: Duration,
    /// The profile's `secret_command`.
    pub secret_command: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            check: Duration::from_secs(20),
            probe: Duration::from_secs(5),
            secret_command: Duration::from_secs(5),
        }
    }
}

/// What the terminal looks like, measured by the front (None: not a terminal).
#[derive(Clone, Debug, Default)]
pub struct Terminal {
    pub size: Option<(u16, u16)>,
}

/// What doctor needs, resolved by the front (`commands::doctor` or the console).
pub struct Input {
    /// The config as loaded, or why it did not load.
    pub config: Result<LoadedConfig, String>,
    /// The config file looked at (it may not exist: then built-in profiles).
    pub config_file: PathBuf,
    pub connection: Connection,
    /// PEM of the embedded sandbox's signing key (keys it minted verify).
    pub sandbox_pem: Option<String>,
    /// A customer key to check, if the operator gave one.
    pub key: Option<String>,
    pub data_dir: PathBuf,
    pub journal_db: PathBuf,
    pub clock: Clock,
    pub timeouts: Timeouts,
    pub terminal: Terminal,
}

/// What checks learn and later ones use.
struct State {
    profile: Option<Profile>,
    client: Option<StoreClient>,
    /// `(endpoint, server Date, local time at the answer)`.
    dates: Vec<(String, DateTime<Utc>, DateTime<Utc>)>,
    /// Services whose endpoint answered, by name (login, collections, …).
    reachable: Vec<&'static str>,
    /// The STORE-audience token was obtained.
    store_token: bool,
    /// Items the key's 1-item query returned (None: not run).
    key_query_items: Option<usize>,
}

/// Run every check; each result goes to `tx` as it finishes (a closed
/// channel is fine) and into the returned report.
pub async fn run(input: Input, tx: Option<UnboundedSender<CheckResult>>) -> Report {
    let (profile_name, env) = match &input.config {
        Ok(c) => (c.profile.name.clone(), c.profile.environment.to_string()),
        Err(_) => ("?".to_string(), "?".to_string()),
    };
    let mut out = Sink {
        tx,
        all: Vec::new(),
    };
    let mut st = State {
        profile: None,
        client: None,
        dates: Vec::new(),
        reachable: Vec::new(),
        store_token: false,
        key_query_items: None,
    };
    let t = input.timeouts;
    let Input {
        config,
        config_file,
        connection,
        sandbox_pem,
        key,
        data_dir,
        journal_db,
        clock,
        timeouts: _,
        terminal,
    } = input;

    let started = Instant::now();
    let r = tokio::time::timeout(
        t.check,
        config::check(&config, &config_file, connection, &t, &mut st),
    )
    .await;
    group(&mut out, "config", r, t.check, started);

    let started = Instant::now();
    let r = tokio::time::timeout(t.check, endpoints::check(&clock, &t, &mut st)).await;
    group(&mut out, "endpoints", r, t.check, started);

    out.push_all(vec![endpoints::clock_check(&st)]);

    let started = Instant::now();
    let r = tokio::time::timeout(t.check, tokens::check(&clock, &mut st)).await;
    group(&mut out, "tokens", r, t.check, started);

    let started = Instant::now();
    let r = tokio::time::timeout(
        t.check,
        key::check(key.as_deref(), &clock, sandbox_pem.as_deref(), &mut st),
    )
    .await;
    group(&mut out, "key", r, t.check, started);

    out.push_all(key::products(&st));

    let started = Instant::now();
    let r = tokio::time::timeout(t.check, clawbacks::check(&clock, &t, &mut st)).await;
    group(&mut out, "clawbacks", r, t.check, started);

    let started = Instant::now();
    let prof = st.profile.clone();
    let r = tokio::time::timeout(
        t.check,
        local::check(prof.as_ref(), &data_dir, &journal_db, &terminal),
    )
    .await;
    group(&mut out, "local", r, t.check, started);

    // The team journal, when the profile names one (a blocking probe).
    let started = Instant::now();
    let prof = st.profile.clone();
    let db = journal_db.clone();
    let probe = tokio::task::spawn_blocking(move || team::check(prof.as_ref(), &db));
    let r = match tokio::time::timeout(t.check, probe).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Ok(vec![CheckResult::new(
            "team",
            "connection",
            Status::Fail,
            format!("the check stopped: {e}"),
        )]),
        Err(e) => Err(e),
    };
    group(&mut out, "team", r, t.check, started);

    Report::new(profile_name, env, out.all)
}

struct Sink {
    tx: Option<UnboundedSender<CheckResult>>,
    all: Vec<CheckResult>,
}

impl Sink {
    fn push_all(&mut self, results: Vec<CheckResult>) {
        for r in results {
            if let Some(tx) = &self.tx {
                // The console may have closed the overlay: keep going.
                let _ = tx.send(r.clone());
            }
            self.all.push(r);
        }
    }
}

/// A group's results, or one failure saying it ran out of time.
fn group(
    out: &mut Sink,
    name: &'static str,
    r: Result<Vec<CheckResult>, tokio::time::error::Elapsed>,
    limit: Duration,
    started: Instant,
) {
    match r {
        Ok(v) => out.push_all(v),
        Err(_) => out.push_all(vec![
            CheckResult::new(
                name,
                name,
                Status::Fail,
                format!("no answer within {} s", limit.as_secs()),
            )
            .fix("Something on the way hangs: run `storedesk doctor` again; if it repeats, check the profile's URLs and the network (proxy, firewall).")
            .took(started),
        ]),
    }
}

/// A skip result naming what it waited for.
fn skip(group: &'static str, name: impl Into<String>, why: impl Into<String>) -> CheckResult {
    CheckResult::new(group, name, Status::Skip, why)
}

/// Milliseconds since `t`, for measured text.
fn ms(t: Instant) -> u128 {
    t.elapsed().as_millis()
}
