//! Setting a team up, through the real binary against a real PostgreSQL
//! server (tests/support/pg.rs):
//!
//! - `storedesk journal migrate --to postgres://…` copies the local SQLite
//!   history (settled writes, their order transactions, the audit log),
//!   prints the counts, copies nothing twice when run again, leaves pending
//!   writes here until they are settled and then copies them too
//! - `storedesk doctor` checks the team journal: the connection, the schema
//!   version and the role's rights on the audit log (UPDATE / DELETE
//!   refused), in doctor's report style (tests/doctor.rs)

#[path = "support/pg.rs"]
mod pg;

use serde_json::{Value, json};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use storedesk::clock::Clock;
use storedesk::config::{Environment, SecretSource};
use storedesk::journal::pg::{PG_SCHEMA_VERSION, PgJournal, PgSettings};
use storedesk::journal::{
    self, Actor, AuditFilter, Correlation, Journal, JournalStore, SendResult, WriteOutcome,
    WriteRequest, WriteSender, WriteState,
};

const BIN: &str = env!("CARGO_BIN_EXE_storedesk");
const KEY: &str = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJodHRwOi8vc2NoZW1hcy5taWNyb3NvZnQuY29tL21hcmtldHBsYWNlLzIwMTUvMDgvY2xhaW1zL2tleS91c2VySWQiOiJ0ZWFtLXVzZXIifQ.VEVBTS1zaWduYXR1cmUtYnl0ZXMtMTIzNDU2Nzg5MA";
const TEAM_KEY: &str = "c3RvcmVkZXNrLXRlYW0tc2VhbC1rZXktMzItYnl0ZXM=";

fn actor() -> Actor {
    Actor {
        operator: "ana".into(),
        profile: "sandbox".into(),
        environment: Environment::Sandbox,
    }
}

/// Answers a consume as the Store does, or (silent) never answers.
struct Store {
    answer: bool,
    sends: AtomicUsize,
}

impl WriteSender for Store {
    async fn send(&self, req: &WriteRequest) -> SendResult {
        self.sends.fetch_add(1, Ordering::SeqCst);
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
                "newQuantity": 4,
                "orderTransactions": [{"orderId": format!("o-{}", req.idempotency_key), "orderLineItemId": "l1", "quantityConsumed": 1}]
            }),
            correlation: Correlation::default(),
        }
    }
}

fn store(answer: bool) -> Store {
    Store {
        answer,
        sends: AtomicUsize::new(0),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The binary on `data` with `config`; (exit code, stdout, stderr).
fn run(data: &Path, config: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(BIN)
        .arg("--data-dir")
        .arg(data)
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("STOREDESK_PROFILE")
        .env("TEAM_KEY_FOR_THIS_TEST", TEAM_KEY)
        .env("STOREDESK_MACHINE", "desk-m")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn team(url: &str, dir: &Path) -> PgJournal {
    let mut s = PgSettings::new(url, dir.join("other.sqlite"));
    s.password = SecretSource::Command(format!("printf %s {}", pg::APP_PASSWORD));
    s.seal_key = SecretSource::Command(format!("printf %s {TEAM_KEY}"));
    s.machine = Some("desk-check".into());
    PgJournal::open(&s, Clock::system()).unwrap()
}

#[test]
fn journal_migrate_copies_the_local_history_once_and_pending_writes_once_settled() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let rt = runtime();
    // A local history: two writes done, one left pending.
    let local = Journal::open(&data.join("journal.sqlite")).unwrap();
    for product in ["9NBLGGH4R315", "9NSDCOIN0500"] {
        let req = WriteRequest::consume(KEY, product, Some(1), None);
        let out = rt
            .block_on(journal::execute(&local, &store(true), &req, &actor()))
            .unwrap();
        assert!(matches!(out, WriteOutcome::Done { .. }), "{out:?}");
    }
    let pending_req = WriteRequest::consume(KEY, "9NSDDLC00001", Some(1), None);
    let out = rt
        .block_on(journal::execute(
            &local,
            &store(false),
            &pending_req,
            &actor(),
        ))
        .unwrap();
    assert!(matches!(out, WriteOutcome::Pending { .. }), "{out:?}");
    let local_audit = local.audit(&AuditFilter::default()).unwrap();
    let pending_id = local.pending().unwrap()[0].id;
    let of_pending = local_audit
        .iter()
        .filter(|a| a.write_id == Some(pending_id))
        .count();
    assert!(of_pending > 0);

    let url = pg::server().fresh_db();
    let to = pg::Server::with_password(&url);
    let cfg = dir.path().join("empty.toml");
    std::fs::write(&cfg, "").unwrap();

    let (code, out, err) = run(&data, &cfg, &["journal", "migrate", "--to", &to]);
    assert_eq!(code, Some(0), "{out}{err}");
    let expect_audit = local_audit.len() - of_pending;
    assert!(
        out.contains(&format!(
            ": 2 write(s), {expect_audit} audit row(s), 2 order transaction(s); already there: 0 write(s), 0 audit row(s)"
        )),
        "{out}"
    );
    assert!(out.contains("left here: 1 pending write(s)"), "{out}");
    assert!(!out.contains(pg::APP_PASSWORD) && !err.contains(pg::APP_PASSWORD));

    let shared = team(&url, dir.path());
    let writes = shared.writes().unwrap();
    assert_eq!(writes.len(), 2);
    assert!(writes.iter().all(|w| w.state == WriteState::Done));
    let keys: Vec<String> = local
        .writes()
        .unwrap()
        .iter()
        .filter(|w| w.state == WriteState::Done)
        .map(|w| w.idempotency_key.clone())
        .collect();
    for w in &writes {
        assert!(
            keys.contains(&w.idempotency_key),
            "the same idempotency keys"
        );
    }
    let audit = shared.audit(&AuditFilter::default()).unwrap();
    assert_eq!(audit.len(), expect_audit);
    // Copied rows name this machine and point at the shared writes.
    assert!(
        audit.iter().all(|a| a.machine.as_deref() == Some("desk-m")),
        "{audit:?}"
    );
    let ids: Vec<i64> = writes.iter().map(|w| w.id).collect();
    assert!(
        audit
            .iter()
            .filter_map(|a| a.write_id)
            .all(|id| ids.contains(&id))
    );
    assert!(
        shared.pending().unwrap().is_empty(),
        "pending writes stay local"
    );

    // Twice: nothing copied twice (JSON this time).
    let (code, out, err) = run(&data, &cfg, &["journal", "migrate", "--to", &to, "--json"]);
    assert_eq!(code, Some(0), "{out}{err}");
    let r: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["writes_copied"], 0, "{r}");
    assert_eq!(r["audit_copied"], 0, "{r}");
    assert_eq!(r["order_transactions_copied"], 0, "{r}");
    assert_eq!(r["writes_already_there"], 2, "{r}");
    assert_eq!(r["audit_already_there"], expect_audit, "{r}");
    assert_eq!(r["pending_left"], 1, "{r}");
    assert_eq!(
        shared.audit(&AuditFilter::default()).unwrap().len(),
        expect_audit
    );

    // Settled here, the pending write and its whole history follow.
    let reports = rt
        .block_on(journal::replay_pending(&local, &store(true), &actor()))
        .unwrap();
    assert_eq!(reports.len(), 1);
    assert!(local.pending().unwrap().is_empty());
    let all_local = local.audit(&AuditFilter::default()).unwrap().len();
    let (code, out, err) = run(&data, &cfg, &["journal", "migrate", "--to", &to, "--json"]);
    assert_eq!(code, Some(0), "{out}{err}");
    let r: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["writes_copied"], 1, "{r}");
    assert_eq!(r["pending_left"], 0, "{r}");
    assert_eq!(shared.writes().unwrap().len(), 3);
    assert_eq!(
        shared.audit(&AuditFilter::default()).unwrap().len(),
        all_local
    );

    // No journal here: a clear refusal.
    let empty = dir.path().join("nothing");
    std::fs::create_dir_all(&empty).unwrap();
    let (code, _, err) = run(&empty, &cfg, &["journal", "migrate", "--to", &to]);
    assert_eq!(code, Some(1));
    assert!(err.contains("nothing to migrate"), "{err}");
    assert!(!err.contains(pg::APP_PASSWORD), "{err}");
}

/// The check `group`/`name` of a doctor report.
fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["group"] == "team" && c["name"] == name)
        .unwrap_or_else(|| panic!("no check team/{name} in {report:#}"))
}

fn status<'a>(report: &'a Value, name: &str) -> &'a str {
    check(report, name)["status"].as_str().unwrap()
}

fn doctor(data: &Path, cfg: &Path) -> (Option<i32>, Value, String) {
    let (code, out, err) = run(data, cfg, &["doctor", "--json"]);
    let v = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("not one JSON document ({e}): {out}{err}"));
    (code, v, out + &err)
}

fn team_config(path: &Path, url: &str, password: &str) {
    std::fs::write(
        path,
        format!(
            "journal_url = \"{url}\"\n\
             journal_password_command = \"printf %s {password}\"\n\
             journal_seal_key_env = \"TEAM_KEY_FOR_THIS_TEST\"\n"
        ),
    )
    .unwrap();
}

#[test]
fn doctor_checks_the_team_journals_connection_schema_and_rights() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let url = pg::server().fresh_db();
    let cfg = dir.path().join("team.toml");
    team_config(&cfg, &url, pg::APP_PASSWORD);

    // A fresh database: reachable, schema not created yet (doctor never
    // creates it), so the rights cannot be checked yet.
    let (_, r, text) = doctor(&data, &cfg);
    assert_eq!(status(&r, "connection"), "pass", "{r:#}");
    assert!(
        check(&r, "connection")["measured"]
            .as_str()
            .unwrap()
            .contains(&format!("answers as {}", pg::APP_ROLE)),
        "{r:#}"
    );
    assert_eq!(status(&r, "schema"), "warn", "{r:#}");
    assert_eq!(status(&r, "audit rights"), "skip", "{r:#}");
    assert_eq!(status(&r, "team seal key"), "pass", "{r:#}");
    assert!(!text.contains(pg::APP_PASSWORD) && !text.contains(TEAM_KEY));
    // The local group does not open (and so create) a SQLite journal the
    // profile does not write to.
    let local = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["group"] == "local" && c["name"] == "journal")
        .unwrap_or_else(|| panic!("no local/journal check in {r:#}"));
    assert_eq!(local["status"], "skip", "{r:#}");
    assert!(
        !data.join("journal.sqlite").exists(),
        "doctor made a local journal for a team-journal profile"
    );

    // Once an agent has used it: the current schema, and the application
    // role cannot UPDATE, DELETE or TRUNCATE the audit log.
    drop(team(&url, dir.path()));
    let (code, r, _) = doctor(&data, &cfg);
    assert_eq!(status(&r, "schema"), "pass", "{r:#}");
    assert!(
        check(&r, "schema")["measured"]
            .as_str()
            .unwrap()
            .contains(&format!("version {PG_SCHEMA_VERSION}")),
        "{r:#}"
    );
    assert_eq!(status(&r, "audit rights"), "pass", "{r:#}");
    assert_eq!(r["summary"]["fail"], 0, "{r:#}");
    assert_eq!(code, Some(0), "{r:#}");

    // Connected as a role that may change the audit log (a superuser):
    // a failure with the fix.
    let admin = pg::server().admin_on(&url);
    let admin_cfg = dir.path().join("admin.toml");
    let admin_url = admin.replacen("postgres:admin-pw@", "postgres@", 1);
    team_config(&admin_cfg, &admin_url, "admin-pw");
    let (code, r, text) = doctor(&data, &admin_cfg);
    assert_eq!(status(&r, "audit rights"), "fail", "{r:#}");
    let measured = check(&r, "audit rights")["measured"].as_str().unwrap();
    assert!(
        measured.contains("UPDATE") && measured.contains("DELETE"),
        "{measured}"
    );
    assert!(
        check(&r, "audit rights")["fix"]
            .as_str()
            .unwrap()
            .contains("REVOKE UPDATE, DELETE, TRUNCATE ON audit"),
        "{r:#}"
    );
    assert_eq!(code, Some(1));
    assert!(!text.contains("admin-pw"), "{text}");

    // Nothing listening: a quick failure naming the journal, no password.
    let closed = dir.path().join("closed.toml");
    team_config(
        &closed,
        &format!("postgres://{}@127.0.0.1:1/nowhere", pg::APP_ROLE),
        pg::APP_PASSWORD,
    );
    let started = Instant::now();
    let (code, r, text) = doctor(&data, &closed);
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(status(&r, "connection"), "fail", "{r:#}");
    assert!(
        check(&r, "connection")["measured"]
            .as_str()
            .unwrap()
            .contains("127.0.0.1:1/nowhere"),
        "{r:#}"
    );
    assert_eq!(status(&r, "schema"), "skip");
    assert_eq!(code, Some(1));
    assert!(!text.contains(pg::APP_PASSWORD), "{text}");

    // No team journal in the profile: no team checks at all.
    let plain = dir.path().join("plain.toml");
    std::fs::write(&plain, "").unwrap();
    let (_, r, _) = doctor(&data, &plain);
    assert!(
        !r["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["group"] == "team"),
        "{r:#}"
    );
}
