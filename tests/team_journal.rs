//! The journal interface on both backends, and the team journal's own
//! guarantees, against a real PostgreSQL server (tests/support/pg.rs: one
//! server per test binary, a fresh database per test).
//!
//! - the journal's key behaviours, table-driven over SQLite and PostgreSQL
//! - agents racing to replay one pending write send it once
//! - a dead agent's write is taken over only after its lease lapsed, while
//!   a live agent's heartbeat keeps its claim
//! - the application role cannot change or delete audit rows
//! - two agents migrating a fresh database at once
//! - the database down, then up: writes refused before sending, then
//!   accepted again with no restart

#[path = "support/pg.rs"]
mod pg;

use serde_json::json;
use std::io::{BufRead, BufReader};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use storedesk::clock::Clock;
use storedesk::config::{Environment, SecretSource};
use storedesk::journal::pg::{PG_SCHEMA_VERSION, PgJournal, PgSettings};
use storedesk::journal::{
    self, Actor, AuditFilter, Claim, Correlation, JournalError, JournalLocation, JournalStore,
    ReplayStatus, SendResult, Settlement, WriteOutcome, WriteRequest, WriteSender, WriteState,
};

const KEY: &str = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJodHRwOi8vc2NoZW1hcy5taWNyb3NvZnQuY29tL21hcmtldHBsYWNlLzIwMTUvMDgvY2xhaW1zL2tleS91c2VySWQiOiJ0ZWFtLXVzZXIifQ.VEVBTS1zaWduYXR1cmUtYnl0ZXMtMTIzNDU2Nzg5MA";
/// base64 of 32 bytes: the team seal key every test agent shares.
const TEAM_KEY: &str = "c3RvcmVkZXNrLXRlYW0tc2VhbC1rZXktMzItYnl0ZXM=";

fn actor(op: &str) -> Actor {
    Actor {
        operator: op.into(),
        profile: "sandbox".into(),
        environment: Environment::Sandbox,
    }
}

fn settings(url: &str, machine: &str, side: &std::path::Path) -> PgSettings {
    let mut s = PgSettings::new(url, side.join("journal.sqlite"));
    // The password and the team key by command, as a profile gives them.
    s.password = SecretSource::Command(format!("printf %s {}", pg::APP_PASSWORD));
    s.seal_key = SecretSource::Command(format!("printf %s {TEAM_KEY}"));
    s.machine = Some(machine.into());
    s
}

/// Answers a consume as the Store does, counting the sends; `delay`
/// widens the window in which a second sender could slip in.
struct Counting {
    sends: AtomicUsize,
    delay: Duration,
    answer: bool,
}

impl Counting {
    fn new(delay: Duration) -> Self {
        Self {
            sends: AtomicUsize::new(0),
            delay,
            answer: true,
        }
    }
    fn silent() -> Self {
        Self {
            answer: false,
            ..Self::new(Duration::ZERO)
        }
    }
}

impl WriteSender for Counting {
    async fn send(&self, req: &WriteRequest) -> SendResult {
        self.sends.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.delay).await;
        if !self.answer {
            return SendResult::NoAnswer {
                status: Some(503),
                message: "HTTP 503".into(),
                correlation: Correlation::default(),
            };
        }
        SendResult::Applied {
            status: 200,
            response: json!({
                "trackingId": req.idempotency_key,
                "productId": req.body["productId"],
                "newQuantity": 9,
                "orderTransactions": [{"orderId": "o1", "orderLineItemId": "l1", "quantityConsumed": 1}]
            }),
            correlation: Correlation::default(),
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Two agents (two opens) on one journal of each backend.
/// A backend's name, a way to open one more agent on it, and its files.
type Backend = (
    &'static str,
    Box<dyn Fn() -> Arc<dyn JournalStore>>,
    tempfile::TempDir,
);

fn backends() -> Vec<Backend> {
    let sqlite_dir = tempfile::tempdir().unwrap();
    let path = sqlite_dir.path().join("journal.sqlite");
    let pg_dir = tempfile::tempdir().unwrap();
    let url = pg::server().fresh_db();
    let side = pg_dir.path().to_path_buf();
    vec![
        (
            "sqlite",
            Box::new(move || {
                journal::open(&JournalLocation::Sqlite(path.clone()), Clock::system()).unwrap()
            }),
            sqlite_dir,
        ),
        (
            "postgres",
            Box::new(move || {
                let s = settings(&url, "desk-1", &side);
                journal::open(&JournalLocation::Postgres(Box::new(s)), Clock::system()).unwrap()
            }),
            pg_dir,
        ),
    ]
}

#[test]
fn journal_behaviours_on_both_backends() {
    for (name, open, _dir) in backends() {
        let a = open();
        let b = open();
        assert_ne!(
            a.owner_id(),
            b.owner_id(),
            "{name}: two opens are two agents"
        );
        assert!(a.schema_version().unwrap() >= 1, "{name}");
        assert_eq!(a.seal_problem(), None, "{name}");

        // Record: pending, claimed by its recorder, key sealed, audited.
        let req = WriteRequest::consume(KEY, "9NBLGGH4R315", Some(1), None);
        let id = a.record(&req, &actor("ana")).unwrap();
        let w = a.write(id).unwrap().unwrap();
        assert_eq!(w.state, WriteState::Pending, "{name}");
        assert!(w.has_key, "{name}");
        assert_eq!(w.claimed_by.as_deref(), Some(a.owner_id()), "{name}");
        assert_eq!(
            w.body["beneficiary"]["identityValue"],
            journal::mask::KEY_PLACEHOLDER,
            "{name}"
        );
        // Held while its recorder sends: the other agent cannot claim it.
        assert!(matches!(b.claim(id).unwrap(), Claim::Busy { .. }), "{name}");
        assert_eq!(
            b.in_flight_by(id).unwrap().as_deref(),
            Some(a.owner_id()),
            "{name}"
        );
        assert_eq!(
            b.begin_replay(id, &actor("bo")).unwrap().map(|c| c.attempt),
            None,
            "{name}"
        );
        // One idempotency key, one row — from either agent.
        assert!(
            matches!(
                b.record(&req, &actor("bo")),
                Err(JournalError::Duplicate { .. })
            ),
            "{name}"
        );

        // No answer: pending, claim dropped; the other agent replays it
        // with the key restored.
        a.leave_pending(
            id,
            "HTTP 503",
            Some(503),
            &Correlation::default(),
            &actor("ana"),
        )
        .unwrap();
        assert_eq!(b.in_flight_by(id).unwrap(), None, "{name}");
        let claimed = b.begin_replay(id, &actor("bo")).unwrap().expect("claimed");
        assert_eq!(claimed.attempt, 2, "{name}");
        assert_eq!(claimed.request.customer_key, KEY, "{name}");
        assert_eq!(
            claimed.request.body["beneficiary"]["identityValue"], KEY,
            "{name}"
        );
        assert!(matches!(a.claim(id).unwrap(), Claim::Busy { .. }), "{name}");

        // Settle: done, key erased, transactions kept; a second settle
        // changes nothing but is audited.
        let s = Settlement {
            state: WriteState::Done,
            http_status: Some(200),
            result: "newQuantity 9".into(),
            correlation: Correlation::default(),
            order_transactions: vec![journal::OrderTransaction {
                order_id: "o1".into(),
                order_line_item_id: "l1".into(),
                quantity_consumed: 1,
            }],
        };
        assert!(b.settle(id, &s, &actor("bo")).unwrap(), "{name}");
        assert!(!a.settle(id, &s, &actor("ana")).unwrap(), "{name}");
        let w = a.write(id).unwrap().unwrap();
        assert_eq!(w.state, WriteState::Done, "{name}");
        assert!(!w.has_key, "{name}");
        assert_eq!(a.claim(id).unwrap(), Claim::NotPending, "{name}");
        assert!(a.pending().unwrap().is_empty(), "{name}");
        let txns = a.order_transactions_for("o1", "l1").unwrap();
        assert_eq!(txns.len(), 1, "{name}");
        assert_eq!(txns[0].tracking_id, req.idempotency_key, "{name}");
        assert_eq!(
            a.write_by_key(req.kind, &req.idempotency_key)
                .unwrap()
                .map(|w| w.id),
            Some(id),
            "{name}"
        );

        let events: Vec<(String, String)> = a
            .audit(&AuditFilter {
                write_id: Some(id),
                ..AuditFilter::default()
            })
            .unwrap()
            .into_iter()
            .map(|e| (e.event, e.operator))
            .collect();
        let want = [
            ("attempt", "ana"),
            ("no_answer", "ana"),
            ("replay", "bo"),
            ("done", "bo"),
            // ana's answer, after bo had settled it: audited, not a second done.
            ("late_answer", "ana"),
        ];
        assert_eq!(
            events,
            want.map(|(e, o)| (e.to_string(), o.to_string())),
            "{name}"
        );

        // execute + replay + resolve through the one orchestration code.
        let rt = runtime();
        let sender = Counting::new(Duration::ZERO);
        let req2 = WriteRequest::consume(KEY, "9NBLGGH4R316", Some(1), None);
        let out = rt
            .block_on(journal::execute(&*a, &sender, &req2, &actor("ana")))
            .unwrap();
        assert!(matches!(out, WriteOutcome::Done { .. }), "{name}: {out:?}");
        let silent = Counting::silent();
        let req3 = WriteRequest::consume(KEY, "9NBLGGH4R317", Some(1), None);
        let out = rt
            .block_on(journal::execute(&*a, &silent, &req3, &actor("ana")))
            .unwrap();
        assert!(matches!(out, WriteOutcome::Pending { .. }), "{name}");
        let reports = rt
            .block_on(journal::replay_pending(&*b, &sender, &actor("bo")))
            .unwrap();
        assert_eq!(reports.len(), 1, "{name}");
        assert!(
            matches!(
                &reports[0].status,
                ReplayStatus::Replayed {
                    outcome: WriteOutcome::Done { .. }
                }
            ),
            "{name}: {:?}",
            reports[0].status
        );
        assert_eq!(sender.sends.load(Ordering::SeqCst), 2, "{name}");
        let req4 = WriteRequest::consume(KEY, "9NBLGGH4R318", Some(1), None);
        let out = rt
            .block_on(journal::execute(&*a, &silent, &req4, &actor("ana")))
            .unwrap();
        let id4 = out.write_id();
        let r = journal::resolve(
            &*b,
            id4,
            false,
            "checked the Store: not there",
            &actor("bo"),
        )
        .unwrap();
        assert!(
            matches!(r, journal::ResolveOutcome::Resolved(_)),
            "{name}: {r:?}"
        );
        assert_eq!(
            a.write(id4).unwrap().unwrap().state,
            WriteState::Failed,
            "{name}"
        );
        assert_eq!(a.writes().unwrap().len(), 4, "{name}");
        assert!(a.damaged_rows().unwrap().is_empty(), "{name}");
    }
}

fn pg_journal(url: &str, machine: &str, dir: &std::path::Path) -> PgJournal {
    PgJournal::open(&settings(url, machine, dir), Clock::system()).unwrap()
}

#[test]
fn agents_racing_to_replay_one_write_send_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = pg::server().fresh_db();
    let first = pg_journal(&url, "desk-0", dir.path());
    let rt = runtime();
    // Left pending by an agent whose send got no answer.
    let req = WriteRequest::consume(KEY, "9NBLGGH4R315", Some(1), None);
    let out = rt
        .block_on(journal::execute(
            &first,
            &Counting::silent(),
            &req,
            &actor("ana"),
        ))
        .unwrap();
    let id = out.write_id();

    let sender = Arc::new(Counting::new(Duration::from_millis(300)));
    let agents: Vec<_> = (0..6)
        .map(|i| {
            let url = url.clone();
            let dir = dir.path().to_path_buf();
            let sender = sender.clone();
            std::thread::spawn(move || {
                let j = pg_journal(&url, &format!("desk-{}", i + 1), &dir);
                let local = runtime();
                local
                    .block_on(journal::replay_pending(
                        &j,
                        &*sender,
                        &actor(&format!("agent{i}")),
                    ))
                    .unwrap()
            })
        })
        .collect();
    let reports: Vec<_> = agents.into_iter().flat_map(|h| h.join().unwrap()).collect();
    assert_eq!(
        sender.sends.load(Ordering::SeqCst),
        1,
        "sent exactly once: {reports:?}"
    );
    let replayed = reports
        .iter()
        .filter(|r| matches!(r.status, ReplayStatus::Replayed { .. }))
        .count();
    assert_eq!(replayed, 1);
    for r in &reports {
        assert!(
            matches!(
                r.status,
                ReplayStatus::Replayed { .. }
                    | ReplayStatus::Busy { .. }
                    | ReplayStatus::AlreadySettled
            ),
            "{:?}",
            r.status
        );
    }
    let w = first.write(id).unwrap().unwrap();
    assert_eq!(w.state, WriteState::Done);
    let audit = first
        .audit(&AuditFilter {
            write_id: Some(id),
            ..AuditFilter::default()
        })
        .unwrap();
    let count = |ev: &str| audit.iter().filter(|e| e.event == ev).count();
    assert_eq!(
        (count("attempt"), count("replay"), count("done")),
        (1, 1, 1)
    );
    // Every row says who, from where, under which profile.
    for e in &audit {
        assert!(!e.operator.is_empty() && !e.profile.is_empty());
        assert!(
            e.machine.as_deref().is_some_and(|m| m.starts_with("desk-")),
            "{e:?}"
        );
    }

    // Two agents recording the same write at once: one row, one refusal.
    let req = WriteRequest::consume(KEY, "9NBLGGH4R399", Some(1), None);
    let results: Vec<_> = (0..2)
        .map(|i| {
            let (url, dir, req) = (url.clone(), dir.path().to_path_buf(), req.clone());
            std::thread::spawn(move || {
                let j = pg_journal(&url, &format!("desk-r{i}"), &dir);
                j.record(&req, &actor("ana")).map_err(|e| e.to_string())
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert!(results.iter().any(|r| {
        r.as_ref()
            .is_err_and(|e| e.contains("already in the journal"))
    }));
}

/// Run in a child process by `a_dead_agents_write_is_taken_over_after_its_lease`:
/// records a write (claimed), says so, and hangs mid-send until killed.
#[test]
fn child_agent_helper() {
    let Ok(url) = std::env::var("TEAM_CHILD_URL") else {
        return; // only meaningful as the child
    };
    let dir = std::env::var("TEAM_CHILD_DIR").unwrap();
    let mut s = settings(&url, "desk-dying", std::path::Path::new(&dir));
    s.lease = Duration::from_millis(1500);
    let j = PgJournal::open(&s, Clock::system()).unwrap();
    let req = WriteRequest::consume(KEY, "9NBLGGH4R315", Some(1), None);
    let id = j.record(&req, &actor("ana")).unwrap();
    println!("recorded {id}");
    std::thread::sleep(Duration::from_secs(120));
}

#[test]
fn a_dead_agents_write_is_taken_over_after_its_lease() {
    let dir = tempfile::tempdir().unwrap();
    let url = pg::server().fresh_db();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_agent_helper",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("TEAM_CHILD_URL", &url)
        .env("TEAM_CHILD_DIR", dir.path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut id = None;
    let mut line = String::new();
    while out.read_line(&mut line).unwrap_or(0) > 0 {
        // libtest may print "test child_agent_helper ... " on the same line.
        if let Some((_, rest)) = line.trim().split_once("recorded ") {
            id = rest.trim().parse::<i64>().ok();
            break;
        }
        line.clear();
    }
    let id = id.expect("the child recorded a write");
    let j = pg_journal(&url, "desk-2", dir.path());
    let sender = Counting::new(Duration::ZERO);
    let rt = runtime();
    let w = j.write(id).unwrap().unwrap();
    // Alive: its heartbeat keeps the claim well past one lease.
    std::thread::sleep(Duration::from_millis(3500));
    let owner = j
        .in_flight_by(id)
        .unwrap()
        .expect("still held by the live agent");
    assert!(owner.ends_with("@desk-dying"), "{owner}");
    assert!(
        storedesk::journal::db::describe_owner(&owner).contains("desk-dying"),
        "the message names the machine"
    );
    let st = rt.block_on(journal::replay_one(&j, &sender, &w, &actor("bo")));
    assert!(matches!(st, ReplayStatus::Busy { .. }), "{st:?}");
    assert_eq!(sender.sends.load(Ordering::SeqCst), 0);

    // SIGKILL mid-write: no heartbeat any more. The claim holds until the
    // lease lapses, then the replay takes it over.
    child.kill().unwrap();
    child.wait().unwrap();
    let killed = Instant::now();
    let st = rt.block_on(journal::replay_one(&j, &sender, &w, &actor("bo")));
    assert!(
        matches!(st, ReplayStatus::Busy { .. }),
        "not before the lease lapsed: {st:?}"
    );
    let status = loop {
        std::thread::sleep(Duration::from_millis(250));
        let st = rt.block_on(journal::replay_one(&j, &sender, &w, &actor("bo")));
        if !matches!(st, ReplayStatus::Busy { .. }) || killed.elapsed() > Duration::from_secs(10) {
            break st;
        }
    };
    assert!(
        matches!(
            status,
            ReplayStatus::Replayed {
                outcome: WriteOutcome::Done { .. }
            }
        ),
        "{status:?}"
    );
    assert_eq!(sender.sends.load(Ordering::SeqCst), 1);
    let w = j.write(id).unwrap().unwrap();
    assert_eq!(w.state, WriteState::Done);
    assert_eq!(w.attempts, 2);
}

#[test]
fn the_app_role_cannot_change_or_delete_audit_rows() {
    let dir = tempfile::tempdir().unwrap();
    let url = pg::server().fresh_db();
    let j = pg_journal(&url, "desk-1", dir.path());
    let req = WriteRequest::consume(KEY, "9NBLGGH4R315", Some(1), None);
    j.record(&req, &actor("ana")).unwrap();
    assert_eq!(j.audit_rights().unwrap(), (false, false, false));
    let app = pg::Server::with_password(&url);
    for sql in [
        "UPDATE audit SET result = 'forged'",
        "DELETE FROM audit",
        "TRUNCATE audit",
        "DELETE FROM writes",
    ] {
        let err = pg::run_sql(&app, sql).expect_err(sql);
        assert!(err.contains("permission denied"), "{sql}: {err}");
    }
    // Even a role with every right (the admin) meets the trigger.
    let admin = pg::server().admin_on(&url);
    for sql in [
        "UPDATE audit SET result = 'forged'",
        "DELETE FROM audit",
        "TRUNCATE audit",
    ] {
        let err = pg::run_sql(&admin, sql).expect_err(sql);
        assert!(err.contains("append-only"), "{sql}: {err}");
    }
    // The app role still appends.
    let audit = j.audit(&AuditFilter::default()).unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].result, None);
    assert_eq!(audit[0].machine.as_deref(), Some("desk-1"));
    // The headless table names the machine.
    let table = journal::audit::to_table(&audit);
    assert!(table.lines().next().unwrap().contains("MACHINE"), "{table}");
    assert!(table.contains("desk-1"));
}

#[test]
fn migrations_are_idempotent_under_concurrent_first_use() {
    let dir = tempfile::tempdir().unwrap();
    let url = pg::server().fresh_db();
    let opened: Vec<_> = (0..4)
        .map(|i| {
            let (url, dir) = (url.clone(), dir.path().to_path_buf());
            std::thread::spawn(move || {
                PgJournal::open(&settings(&url, &format!("desk-{i}"), &dir), Clock::system())
                    .map(|j| j.schema_version().unwrap())
                    .map_err(|e| e.to_string())
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    for r in &opened {
        assert_eq!(r.as_ref().ok(), Some(&PG_SCHEMA_VERSION), "{opened:?}");
    }
    // Each step applied once.
    let admin = pg::server().admin_on(&url);
    pg::run_sql(
        &admin,
        "DO $$ BEGIN IF (SELECT count(*) FROM storedesk_schema) <> (SELECT count(DISTINCT version) FROM storedesk_schema) \
         THEN RAISE EXCEPTION 'a step was applied twice'; END IF; END $$;",
    )
    .unwrap();
    // And again on an up-to-date schema.
    let j = pg_journal(&url, "desk-9", dir.path());
    assert_eq!(j.schema_version().unwrap(), PG_SCHEMA_VERSION);
}

#[test]
fn database_down_then_up_refuses_writes_before_sending_then_reconnects() {
    let dir = tempfile::tempdir().unwrap();
    let url = pg::server().fresh_db();
    let db = url.rsplit('/').next().unwrap().to_string();
    let j = pg_journal(&url, "desk-1", dir.path());
    let rt = runtime();
    let sender = Counting::new(Duration::ZERO);
    let admin = pg::server().admin.clone();
    // Down: no new connections, and the open ones cut.
    pg::run_sql(
        &admin,
        &format!(
            "ALTER DATABASE {db} ALLOW_CONNECTIONS false; \
             SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db}';"
        ),
    )
    .unwrap();
    let req = WriteRequest::consume(KEY, "9NBLGGH4R315", Some(1), None);
    let err = rt
        .block_on(journal::execute(&j, &sender, &req, &actor("ana")))
        .expect_err("refused while the journal cannot record");
    assert!(err.to_string().starts_with("team journal:"), "{err}");
    assert_eq!(
        sender.sends.load(Ordering::SeqCst),
        0,
        "never sent unjournaled"
    );
    // Reads fail with the same clear error, and nothing hangs.
    assert!(j.pending().is_err());

    // Up again: the same journal reconnects by itself.
    pg::run_sql(
        &admin,
        &format!("ALTER DATABASE {db} ALLOW_CONNECTIONS true"),
    )
    .unwrap();
    let out = rt
        .block_on(journal::execute(&j, &sender, &req, &actor("ana")))
        .unwrap();
    assert!(matches!(out, WriteOutcome::Done { .. }), "{out:?}");
    assert_eq!(sender.sends.load(Ordering::SeqCst), 1);

    // An unreachable server is reported quickly and never names a password.
    let closed = format!(
        "postgres://{}:{}@127.0.0.1:1/nowhere",
        pg::APP_ROLE,
        pg::APP_PASSWORD
    );
    let started = Instant::now();
    let mut s = settings(&closed, "desk-1", dir.path());
    s.password = SecretSource::None;
    let e = PgJournal::open(&s, Clock::system()).expect_err("nothing listens on port 1");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(!e.to_string().contains(pg::APP_PASSWORD), "{e}");
    assert!(!format!("{s:?}").contains(pg::APP_PASSWORD));
}

#[test]
fn without_the_team_seal_key_reads_work_and_writes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let url = pg::server().fresh_db();
    let mut s = settings(&url, "desk-1", dir.path());
    s.seal_key = SecretSource::Env("STOREDESK_TEST_NO_SUCH_TEAM_KEY".into());
    let j = PgJournal::open(&s, Clock::system()).unwrap();
    assert!(
        j.seal_problem()
            .unwrap()
            .contains("STOREDESK_TEST_NO_SUCH_TEAM_KEY")
    );
    assert!(j.pending().unwrap().is_empty());
    let req = WriteRequest::consume(KEY, "9NBLGGH4R315", Some(1), None);
    let sender = Counting::new(Duration::ZERO);
    let err = runtime()
        .block_on(journal::execute(&j, &sender, &req, &actor("ana")))
        .expect_err("no key, no write");
    assert!(matches!(err, JournalError::SealDamaged(_)), "{err}");
    assert_eq!(sender.sends.load(Ordering::SeqCst), 0);
}

/// Two agents (two machines) through the real binary, with the team
/// journal named in the config: the second is told the first is on the
/// customer, and the headless audit and pending name both machines.
#[test]
fn headless_agents_share_the_team_journal() {
    const NOW: &str = "2026-11-23T10:00:00Z";
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let now = chrono::DateTime::parse_from_rfc3339(NOW).unwrap().to_utc();
    let customers = runtime().block_on(async {
        let sb = storedesk::sandbox::start(storedesk::sandbox::SandboxOptions {
            data_dir: data.join("sandbox"),
            port: 0,
            clock: Clock::fixed(now),
            faults: vec![],
        })
        .await
        .unwrap();
        let c = sb.info.customers.clone();
        sb.shutdown().await;
        c
    });
    let key = customers
        .iter()
        .find(|c| c.name == "cora")
        .unwrap()
        .collections_key
        .clone();
    let url = pg::server().fresh_db();
    let cfg = dir.path().join("config.toml");
    std::fs::write(
        &cfg,
        format!(
            "operator = \"alice\"\njournal_url = \"{url}\"\n\
             journal_password_command = \"printf %s {}\"\n\
             journal_seal_key_env = \"TEAM_KEY_FOR_THIS_TEST\"\n",
            pg::APP_PASSWORD
        ),
    )
    .unwrap();
    let run = |machine: &str, args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_storedesk"))
            .arg("--data-dir")
            .arg(&data)
            .arg("--config")
            .arg(&cfg)
            .args(["--now", NOW])
            .args(args)
            .env("STOREDESK_MACHINE", machine)
            .env("TEAM_KEY_FOR_THIS_TEST", TEAM_KEY)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let consume = [
        "consume",
        "--key",
        key.as_str(),
        "--product",
        "9NSDCOIN0500",
        "--quantity",
        "1",
        "--yes",
    ];
    let (code, out, err) = run("desk-a", &consume);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.starts_with("done: #1"), "{out}");
    assert!(!err.contains("another agent"), "{err}");
    let (code, out, err) = run("desk-b", &consume);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.starts_with("done: #2"), "{out}");
    assert!(
        err.contains("another agent is on this customer: alice on desk-a"),
        "{err}"
    );
    let (code, out, _) = run("desk-b", &["audit"]);
    assert_eq!(code, Some(0));
    let header = out.lines().next().unwrap_or_default();
    assert!(header.contains("MACHINE"), "{out}");
    assert!(out.contains("desk-a") && out.contains("desk-b"), "{out}");
    // The team journal replaced the local file; no secret in any output.
    assert!(!data.join("journal.sqlite").exists());
    for text in [&out, &err] {
        assert!(!text.contains(pg::APP_PASSWORD) && !text.contains(TEAM_KEY));
        assert!(!text.contains(&key));
    }
}

/// Deletes a clawback event only with the receipt it was last received
/// with (the queue's PopReceiptMismatch otherwise); counts every target.
struct AckQueue {
    fresh: std::sync::Mutex<String>,
    seen: std::sync::Mutex<Vec<String>>,
    answer: bool,
}

impl AckQueue {
    fn new(fresh: &str, answer: bool) -> Self {
        Self {
            fresh: std::sync::Mutex::new(fresh.into()),
            seen: std::sync::Mutex::new(Vec::new()),
            answer,
        }
    }
}

impl WriteSender for AckQueue {
    async fn send(&self, req: &WriteRequest) -> SendResult {
        let target = req.target.clone().unwrap_or_default();
        self.seen.lock().unwrap().push(target.clone());
        if !self.answer {
            return SendResult::NoAnswer {
                status: Some(500),
                message: "HTTP 500".into(),
                correlation: Correlation::default(),
            };
        }
        let fresh = self.fresh.lock().unwrap().clone();
        if target.ends_with(&format!("/{fresh}")) {
            SendResult::Applied {
                status: 204,
                response: serde_json::Value::Null,
                correlation: Correlation::default(),
            }
        } else {
            SendResult::Rejected {
                status: Some(400),
                message: "400 PopReceiptMismatch".into(),
                correlation: Correlation::default(),
            }
        }
    }
}

/// Issue 14 point 4 on both backends (PostgreSQL schema v2 = SQLite v3):
/// an acknowledgement refused for a stale pop receipt, or left unanswered,
/// is retried with a fresh receipt as the same journal entry's next
/// attempt — from this agent or another — with each attempt audited; a
/// done one, or one being sent by a live agent, stays a duplicate.
#[test]
fn a_clawback_ack_retry_is_the_same_entry_on_both_backends() {
    let rt = runtime();
    for (name, open, _dir) in backends() {
        let a = open();
        let b = open();
        // Refused (stale receipt), then the fresh one from the other agent.
        let queue = AckQueue::new("fresh-1", true);
        let stale = WriteRequest::clawback_ack("msg-1", "stale-1", "order-1");
        let out = rt
            .block_on(journal::execute(&*a, &queue, &stale, &actor("ana")))
            .unwrap();
        let WriteOutcome::Failed { write_id: id, .. } = out else {
            panic!("{name}: a stale receipt is refused: {out:?}")
        };
        let fresh = WriteRequest::clawback_ack("msg-1", "fresh-1", "order-1");
        let out = rt
            .block_on(journal::execute(&*b, &queue, &fresh, &actor("bo")))
            .expect("the next attempt, not a duplicate");
        assert!(matches!(out, WriteOutcome::Done { .. }), "{name}: {out:?}");
        assert_eq!(out.write_id(), id, "{name}: the same journal entry");
        let w = a.write(id).unwrap().unwrap();
        assert_eq!(w.state, WriteState::Done, "{name}");
        assert_eq!(w.attempts, 2, "{name}");
        assert!(!w.has_key, "{name}");
        assert_eq!(w.target.as_deref(), Some("msg-1"), "{name}: identity");
        assert_eq!(
            *queue.seen.lock().unwrap(),
            ["msg-1/stale-1", "msg-1/fresh-1"],
            "{name}"
        );
        let events: Vec<(String, String, Option<i64>)> = a
            .audit(&AuditFilter {
                write_id: Some(id),
                ..AuditFilter::default()
            })
            .unwrap()
            .into_iter()
            .map(|e| (e.event, e.operator, e.attempt))
            .collect();
        let want = [
            ("attempt", "ana", 1),
            ("failed", "ana", 1),
            ("attempt", "bo", 2),
            ("done", "bo", 2),
        ]
        .map(|(e, o, n)| (e.to_string(), o.to_string(), Some(n)));
        assert_eq!(events, want, "{name}");
        // Done is final.
        let again = rt.block_on(journal::execute(&*a, &queue, &fresh, &actor("ana")));
        assert!(
            matches!(again, Err(JournalError::Duplicate { .. })),
            "{name}: {again:?}"
        );

        // Unanswered (pending), then retried with a fresh receipt: the
        // pending entry's next attempt, and the replay sends that receipt.
        let silent = AckQueue::new("fresh-2", false);
        let first = WriteRequest::clawback_ack("msg-2", "old-2", "order-2");
        let out = rt
            .block_on(journal::execute(&*a, &silent, &first, &actor("ana")))
            .unwrap();
        let id2 = out.write_id();
        assert!(matches!(out, WriteOutcome::Pending { .. }), "{name}");
        // While a live agent holds it, it is a duplicate, not a new attempt.
        assert_eq!(a.claim(id2).unwrap(), Claim::Claimed, "{name}");
        let held = b.record_attempt(
            &WriteRequest::clawback_ack("msg-2", "fresh-2", "order-2"),
            &actor("bo"),
        );
        assert!(
            matches!(held, Err(JournalError::Duplicate { .. })),
            "{name}: {held:?}"
        );
        a.release(id2).unwrap();
        let (again_id, was_pending) = b
            .record_attempt(
                &WriteRequest::clawback_ack("msg-2", "fresh-2", "order-2"),
                &actor("bo"),
            )
            .unwrap();
        assert_eq!((again_id, was_pending), (id2, true), "{name}");
        b.leave_pending(
            id2,
            "HTTP 500",
            Some(500),
            &Correlation::default(),
            &actor("bo"),
        )
        .unwrap();
        let queue2 = AckQueue::new("fresh-2", true);
        let reports = rt
            .block_on(journal::replay_pending(&*a, &queue2, &actor("ana")))
            .unwrap();
        assert_eq!(reports.len(), 1, "{name}");
        assert!(
            matches!(
                &reports[0].status,
                ReplayStatus::Replayed {
                    outcome: WriteOutcome::Done { .. }
                }
            ),
            "{name}: {:?}",
            reports[0].status
        );
        assert_eq!(*queue2.seen.lock().unwrap(), ["msg-2/fresh-2"], "{name}");
        assert_eq!(a.write(id2).unwrap().unwrap().attempts, 3, "{name}");
        assert!(a.pending().unwrap().is_empty(), "{name}");
    }
}

/// A team journal of schema v1 (acknowledgements stored as
/// `messageId/popReceipt` in `target`) migrates to v2: the identity split
/// from the receipt, and a failed acknowledgement of before can take its
/// next attempt with a fresh receipt (the guard lets only that kind go
/// from failed back to pending).
#[test]
fn a_v1_team_journal_migrates_its_clawback_acks() {
    let url = pg::server().fresh_db();
    let app_url = pg::Server::with_password(&url);
    let row = |id: i64, state: &str, sealed: &str| {
        format!(
            "INSERT INTO writes (id, kind, idempotency_key, target, state, profile, environment, operator, \
             machine, agent, customer, customer_fp, sealed_key, body, summary, expected_effect, created_at, \
             attempts) VALUES ({id}, 'clawback_ack', 'msg-{id}', 'msg-{id}/rcpt-{id}', '{state}', 'sandbox', \
             'sandbox', 'ana', 'desk-0', 'agent-0', 'none', 'fp', {sealed}, '{{}}', 'ack {id}', 'gone', \
             '2026-01-01T00:00:00Z', 1);"
        )
    };
    pg::run_sql(
        &app_url,
        &format!(
            "{}\nCREATE TABLE storedesk_schema (version INTEGER NOT NULL);\n\
             INSERT INTO storedesk_schema VALUES (1);\n{}\n{}",
            storedesk::journal::pg::MIGRATIONS[0],
            row(1, "failed", "NULL"),
            row(2, "done", "NULL"),
        ),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let j = pg_journal(&url, "desk-1", dir.path());
    assert_eq!(j.schema_version().unwrap(), PG_SCHEMA_VERSION);
    for id in [1, 2] {
        let w = j.write(id).unwrap().unwrap();
        assert_eq!(w.target, Some(format!("msg-{id}")), "identity split");
    }
    let (id, was_pending) = j
        .record_attempt(
            &WriteRequest::clawback_ack("msg-1", "fresh", "o"),
            &actor("bo"),
        )
        .unwrap();
    assert_eq!((id, was_pending), (1, false));
    let w = j.write(1).unwrap().unwrap();
    assert_eq!((w.state, w.attempts), (WriteState::Pending, 2));
    // The done one stays done: a duplicate.
    assert!(matches!(
        j.record_attempt(
            &WriteRequest::clawback_ack("msg-2", "fresh", "o"),
            &actor("bo")
        ),
        Err(JournalError::Duplicate { .. })
    ));
    // Any other settled write still cannot change state.
    let err =
        pg::run_sql(&app_url, "UPDATE writes SET state = 'pending' WHERE id = 2").unwrap_err();
    assert!(err.contains("a settled write cannot change state"), "{err}");
}
