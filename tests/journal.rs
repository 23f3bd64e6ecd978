//! The journal on a real SQLite file: schema, settle rules, claims from two
//! connections and two processes, the append-only audit log, and a canary
//! scan of the database bytes.

use rusqlite::Connection;
use serde_json::json;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use storedesk::config::Environment;
use storedesk::journal::{
    Actor, AuditFilter, Claim, Correlation, GrantParams, Journal, JournalError, OrderTransaction,
    SCHEMA_VERSION, Settlement, WriteKind, WriteRequest, WriteState, mask,
};

// Looks like a User Store ID; only its bytes matter here.
const KEY: &str = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJodHRwOi8vc2NoZW1hcy5taWNyb3NvZnQuY29tL21hcmtldHBsYWNlLzIwMTUvMDgvY2xhaW1zL2tleS91c2VySWQiOiJjYW5hcnktdXNlciJ9.Q0FOQVJZLXNpZ25hdHVyZS1ieXRlcy0xMjM0NTY3ODkw";

fn actor() -> Actor {
    Actor {
        operator: "ana".into(),
        profile: "sandbox".into(),
        environment: Environment::Sandbox,
    }
}

fn db(dir: &Path) -> PathBuf {
    dir.join("journal.sqlite")
}

fn done(order_txns: Vec<OrderTransaction>) -> Settlement {
    Settlement {
        state: WriteState::Done,
        http_status: Some(200),
        result: "newQuantity 9".into(),
        correlation: Correlation {
            correlation_id: Some("corr-1".into()),
            request_id: Some("req-1".into()),
            cv: None,
            azure_request_id: None,
        },
        order_transactions: order_txns,
    }
}

#[test]
fn schema_is_created_once_in_wal_with_full_sync() {
    let dir = tempfile::tempdir().unwrap();
    let j = Journal::open(&db(dir.path())).unwrap();
    assert_eq!(j.schema_version().unwrap(), SCHEMA_VERSION);
    let (mode, sync) = j.durability().unwrap();
    assert_eq!(mode.to_lowercase(), "wal");
    assert_eq!(sync, 2, "synchronous must be FULL");
    drop(j);
    // Reopening does not re-run migrations (they would fail: tables exist).
    let j = Journal::open(&db(dir.path())).unwrap();
    assert_eq!(j.schema_version().unwrap(), SCHEMA_VERSION);
    drop(j);

    let raw = Connection::open(db(dir.path())).unwrap();
    let mut tables: Vec<String> = raw
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    tables.sort();
    assert_eq!(tables, ["audit", "order_transactions", "writes"]);
    raw.pragma_update(None, "user_version", 99).unwrap();
    drop(raw);
    match Journal::open(&db(dir.path())) {
        Err(JournalError::TooNew { found: 99, .. }) => {}
        other => panic!("expected TooNew, got {other:?}"),
    }
}

#[test]
fn record_settle_and_replay_rules() {
    let dir = tempfile::tempdir().unwrap();
    let j = Journal::open(&db(dir.path())).unwrap();
    let req = WriteRequest::consume(KEY, "9NBLGGH4R315", Some(3), None);
    let id = j.record(&req, &actor()).unwrap();

    let rec = j.write(id).unwrap().unwrap();
    assert_eq!(rec.state, WriteState::Pending);
    assert!(rec.has_key);
    assert_eq!(rec.attempts, 1);
    assert_eq!(rec.claimed_by.as_deref(), Some(j.owner_id()));
    assert_eq!(rec.customer_fp, mask::fingerprint(KEY));
    assert_eq!(
        rec.body["beneficiary"]["identityValue"],
        mask::KEY_PLACEHOLDER
    );
    assert_eq!(rec.body["includeOrderIds"], true);

    // The same idempotency key cannot be recorded twice.
    assert!(matches!(
        j.record(&req, &actor()),
        Err(JournalError::Duplicate { .. })
    ));

    // No answer: stays pending, key kept, claim dropped.
    j.leave_pending(id, "HTTP 503", Some(503), &Correlation::default(), &actor())
        .unwrap();
    let rec = j.write(id).unwrap().unwrap();
    assert_eq!(rec.state, WriteState::Pending);
    assert!(rec.has_key);
    assert_eq!(rec.claimed_by, None);
    assert_eq!(rec.last_error.as_deref(), Some("HTTP 503"));
    assert_eq!(j.pending().unwrap().len(), 1);

    // Replay: same key, same body, attempt counted.
    let claimed = j.begin_replay(id, &actor()).unwrap().unwrap();
    assert_eq!(claimed.attempt, 2);
    assert_eq!(claimed.request.idempotency_key, req.idempotency_key);
    assert_eq!(claimed.request.body, req.body);
    assert_eq!(claimed.request.customer_key, KEY);
    // While we hold it, a second replay (another task) gets nothing.
    assert!(j.begin_replay(id, &actor()).unwrap().is_none());

    let txns = vec![OrderTransaction {
        order_id: "o-1".into(),
        order_line_item_id: "li-1".into(),
        quantity_consumed: 3,
    }];
    assert!(j.settle(id, &done(txns), &actor()).unwrap());
    let rec = j.write(id).unwrap().unwrap();
    assert_eq!(rec.state, WriteState::Done);
    assert!(!rec.has_key, "the sealed key is erased on settle");
    assert_eq!(rec.claimed_by, None);
    assert_eq!(rec.http_status, Some(200));
    assert_eq!(rec.correlation.correlation_id.as_deref(), Some("corr-1"));
    assert!(j.pending().unwrap().is_empty());
    assert!(j.begin_replay(id, &actor()).unwrap().is_none());

    let matched = j.order_transactions_for("o-1", "li-1").unwrap();
    assert_eq!(matched.len(), 1);
    assert_eq!(matched[0].tracking_id, req.idempotency_key);
    assert_eq!(matched[0].product_id, "9NBLGGH4R315");
    assert_eq!(matched[0].quantity_consumed, 3);

    // A late contradicting answer does not reopen or flip a settled write;
    // it is audited as what it is.
    let late = Settlement {
        state: WriteState::Failed,
        ..done(vec![])
    };
    assert!(!j.settle(id, &late, &actor()).unwrap());
    assert_eq!(j.write(id).unwrap().unwrap().state, WriteState::Done);

    let events: Vec<String> = j
        .audit(&AuditFilter {
            write_id: Some(id),
            ..Default::default()
        })
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .collect();
    assert_eq!(
        events,
        ["attempt", "no_answer", "replay", "done", "late_answer"]
    );
}

#[test]
fn failed_settle_and_grant_kind() {
    let dir = tempfile::tempdir().unwrap();
    let j = Journal::open(&db(dir.path())).unwrap();
    let grant = WriteRequest::grant(
        KEY,
        &GrantParams {
            product_id: "9P".into(),
            sku_id: "0010".into(),
            availability_id: "AV".into(),
            market: "US".into(),
            language: "en-US".into(),
            quantity: 1,
            dev_offer_id: None,
        },
        None,
    );
    let id = j.record(&grant, &actor()).unwrap();
    let failed = Settlement {
        state: WriteState::Failed,
        http_status: Some(400),
        result: "InvalidParameter: not free".into(),
        correlation: Correlation::default(),
        order_transactions: vec![],
    };
    assert!(j.settle(id, &failed, &actor()).unwrap());
    let rec = j
        .write_by_key(WriteKind::Grant, &grant.idempotency_key)
        .unwrap()
        .unwrap();
    assert_eq!(rec.state, WriteState::Failed);
    assert_eq!(rec.body["b2bKey"], mask::KEY_PLACEHOLDER);
    assert!(!rec.has_key);
    let bad = Settlement {
        state: WriteState::Pending,
        ..failed
    };
    assert!(j.settle(id, &bad, &actor()).is_err());
}

#[test]
fn audit_and_identity_are_append_only_at_the_database_level() {
    let dir = tempfile::tempdir().unwrap();
    let j = Journal::open(&db(dir.path())).unwrap();
    let id = j
        .record(&WriteRequest::consume(KEY, "P", Some(1), None), &actor())
        .unwrap();
    j.settle(id, &done(vec![]), &actor()).unwrap();

    let raw = Connection::open(db(dir.path())).unwrap();
    for sql in [
        "UPDATE audit SET result = 'edited'",
        "DELETE FROM audit",
        "UPDATE writes SET idempotency_key = 'new-key'",
        "UPDATE writes SET state = 'pending'",
        "DELETE FROM writes",
    ] {
        let e = raw.execute(sql, []).unwrap_err().to_string();
        assert!(
            e.contains("append-only") || e.contains("cannot change") || e.contains("never deleted"),
            "{sql}: {e}"
        );
    }
    let n: i64 = raw
        .query_row("SELECT count(*) FROM audit", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 2);
}

#[test]
fn claims_between_two_connections() {
    let dir = tempfile::tempdir().unwrap();
    let a = Journal::open(&db(dir.path())).unwrap();
    let b = Journal::open(&db(dir.path())).unwrap();
    assert_ne!(a.owner_id(), b.owner_id());
    let id = a
        .record(&WriteRequest::consume(KEY, "P", Some(1), None), &actor())
        .unwrap();

    // a is sending it: b must not.
    assert!(matches!(b.claim(id).unwrap(), Claim::Busy { owner } if owner == a.owner_id()));
    assert!(b.begin_replay(id, &actor()).unwrap().is_none());

    a.leave_pending(id, "timeout", None, &Correlation::default(), &actor())
        .unwrap();
    assert_eq!(b.claim(id).unwrap(), Claim::Claimed);
    assert!(matches!(a.claim(id).unwrap(), Claim::Busy { .. }));

    // b dies holding the claim: its lock file is released, a takes over
    // at once without waiting for the lease.
    drop(b);
    assert_eq!(a.claim(id).unwrap(), Claim::Claimed);
    a.settle(id, &done(vec![]), &actor()).unwrap();

    // A live owner keeps its claim even past its lease: it may still be
    // waiting for the answer, and a second send now could race it.
    let mut c = Journal::open(&db(dir.path())).unwrap();
    c.set_lease(Duration::ZERO);
    let id2 = c
        .record(&WriteRequest::consume(KEY, "P", Some(1), None), &actor())
        .unwrap();
    std::thread::sleep(Duration::from_millis(5));
    assert!(matches!(a.claim(id2).unwrap(), Claim::Busy { .. }));
    assert_eq!(c.claim(id).unwrap(), Claim::NotPending);
    // Once it is gone, the claim is free.
    drop(c);
    assert_eq!(a.claim(id2).unwrap(), Claim::Claimed);
}

#[test]
fn many_racing_claimers_exactly_one_wins() {
    let dir = tempfile::tempdir().unwrap();
    let path = db(dir.path());
    let first = Journal::open(&path).unwrap();
    let id = first
        .record(&WriteRequest::consume(KEY, "P", Some(1), None), &actor())
        .unwrap();
    first
        .leave_pending(id, "reset", None, &Correlation::default(), &actor())
        .unwrap();
    let journals: Vec<Journal> = (0..6).map(|_| Journal::open(&path).unwrap()).collect();
    let barrier = std::sync::Barrier::new(journals.len());
    let wins: usize = std::thread::scope(|s| {
        let handles: Vec<_> = journals
            .iter()
            .map(|j| {
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    j.begin_replay(id, &actor()).unwrap().is_some() as usize
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(wins, 1);
    assert_eq!(first.write(id).unwrap().unwrap().attempts, 2);
}

/// Re-runs this test binary as a second process (see `child_process_helper`).
fn spawn_child(db: &Path, mode: &str) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_process_helper",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("JOURNAL_CHILD_DB", db)
        .env("JOURNAL_CHILD_MODE", mode)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn wait_for_line(child: &mut std::process::Child, want: &str) {
    let out = child.stdout.as_mut().unwrap();
    let mut reader = BufReader::new(out);
    let mut line = String::new();
    loop {
        line.clear();
        let n = reader.read_line(&mut line).unwrap();
        assert!(n > 0, "child exited before printing {want}");
        // libtest prints "test name ... " without a newline before our output.
        if line.trim().ends_with(want) {
            return;
        }
    }
}

/// Body of the second process. Without the env vars (a normal test run) it
/// checks the journal opens in a fresh dir, so it still tests something.
#[test]
fn child_process_helper() {
    let Some(path) = std::env::var_os("JOURNAL_CHILD_DB") else {
        let dir = tempfile::tempdir().unwrap();
        assert!(Journal::open(&db(dir.path())).is_ok());
        return;
    };
    let j = Journal::open(Path::new(&path)).unwrap();
    match std::env::var("JOURNAL_CHILD_MODE").unwrap().as_str() {
        "claim" => {
            let id = j.pending().unwrap()[0].id;
            assert_eq!(j.claim(id).unwrap(), Claim::Claimed);
            println!("\nCLAIMED");
            std::io::stdout().flush().unwrap();
            // Hold the claim until killed.
            let mut s = String::new();
            let _ = std::io::stdin().read_line(&mut s);
        }
        "write50" => {
            for i in 0..50 {
                let r = WriteRequest::consume(KEY, &format!("child-{i}"), Some(1), None);
                let id = j.record(&r, &actor()).unwrap();
                j.settle(id, &done(vec![]), &actor()).unwrap();
            }
            println!("\nDONE");
        }
        other => panic!("unknown mode {other}"),
    }
}

#[test]
fn claims_between_two_processes_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let path = db(dir.path());
    let j = Journal::open(&path).unwrap();
    let id = j
        .record(&WriteRequest::consume(KEY, "P", Some(1), None), &actor())
        .unwrap();
    j.leave_pending(id, "timeout", None, &Correlation::default(), &actor())
        .unwrap();

    let mut child = spawn_child(&path, "claim");
    wait_for_line(&mut child, "CLAIMED");
    let owner = j.write(id).unwrap().unwrap().claimed_by.unwrap();
    assert_ne!(owner, j.owner_id());
    assert_eq!(j.claim(id).unwrap(), Claim::Busy { owner });
    assert!(j.begin_replay(id, &actor()).unwrap().is_none());

    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // The lease (5 min) has not run out, but the owner is provably dead.
    let claimed = j.begin_replay(id, &actor()).unwrap().unwrap();
    assert_eq!(claimed.request.customer_key, KEY);
}

#[test]
fn two_processes_writing_at_once_do_not_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = db(dir.path());
    let j = Journal::open(&path).unwrap();
    let mut child = spawn_child(&path, "write50");
    for i in 0..50 {
        let r = WriteRequest::consume(KEY, &format!("parent-{i}"), Some(1), None);
        let id = j.record(&r, &actor()).unwrap();
        j.settle(id, &done(vec![]), &actor()).unwrap();
    }
    wait_for_line(&mut child, "DONE");
    assert!(child.wait().unwrap().success());
    let all = j.writes().unwrap();
    assert_eq!(all.len(), 100);
    assert!(all.iter().all(|w| w.state == WriteState::Done));
    assert_eq!(j.audit(&AuditFilter::default()).unwrap().len(), 200);
    let raw = Connection::open(&path).unwrap();
    let ok: String = raw
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Every file of the journal (db, WAL, shm) — a settled key must be in none.
fn journal_bytes(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            let name = p.file_name()?.to_str()?.to_string();
            (p.is_file() && name.starts_with("journal.sqlite")).then(|| {
                let bytes = std::fs::read(&p).unwrap();
                (p, bytes)
            })
        })
        .collect()
}

#[test]
fn canary_no_key_in_database_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let j = Journal::open(&db(dir.path())).unwrap();
    let mut req = WriteRequest::consume(KEY, "P", Some(1), None);
    // Also a secret smuggled into the body must not be stored.
    req.body["client_secret"] = json!("CANARY-client-secret-42");
    let id = j.record(&req, &actor()).unwrap();
    // Even while pending the key is sealed, never in clear.
    let files = journal_bytes(dir.path());
    assert!(files.iter().any(|(p, _)| p.ends_with("journal.sqlite-wal")));
    for (p, bytes) in &files {
        assert!(
            !contains(bytes, KEY.as_bytes()),
            "{p:?} holds the key while pending"
        );
    }
    j.leave_pending(id, "reset", None, &Correlation::default(), &actor())
        .unwrap();
    let claimed = j.begin_replay(id, &actor()).unwrap().unwrap();
    assert_eq!(claimed.request.customer_key, KEY);
    j.settle(id, &done(vec![]), &actor()).unwrap();
    drop(j); // checkpoints the WAL into the main file
    for (p, bytes) in journal_bytes(dir.path()) {
        assert!(!contains(&bytes, KEY.as_bytes()), "{p:?} holds the key");
        assert!(
            !contains(&bytes, b"CANARY-client-secret"),
            "{p:?} holds the secret"
        );
        // Not even a long piece of the key (e.g. its signature).
        assert!(
            !contains(&bytes, &KEY.as_bytes()[KEY.len() - 30..]),
            "{p:?}"
        );
    }
}

/// A hand-made key: only its bytes (fingerprint) matter here.
fn key_of(who: &str, n: u32) -> String {
    format!("eyJhbGciOiJSUzI1NiJ9.{who}-{n}.c2ln")
}

/// Issue 16 point 8: the audit log names the case's customer — one id
/// across the case's two keys and their renewals — with the key's
/// fingerprint beside it; and a database written before the column
/// existed still reads (its rows name the key's customer).
#[test]
fn the_audit_names_the_case_customer_beside_the_key() {
    use storedesk::store::keyinfo::{customer_id, fingerprint, record_case, record_renewal};
    let dir = tempfile::tempdir().unwrap();
    let j = Journal::open(&db(dir.path())).unwrap();
    let (coll, purchase) = (key_of("truth-coll", 1), key_of("truth-purchase", 1));
    record_case(&coll, &purchase);
    let renewed = key_of("truth-coll", 2);
    record_renewal(&coll, &renewed);
    let grant = WriteRequest::grant(
        &purchase,
        &GrantParams {
            product_id: "9P".into(),
            sku_id: "0010".into(),
            availability_id: "AV".into(),
            market: "US".into(),
            language: "en-US".into(),
            quantity: 1,
            dev_offer_id: None,
        },
        None,
    );
    j.record(&grant, &actor()).unwrap();
    j.record(
        &WriteRequest::consume(&renewed, "P", Some(1), None),
        &actor(),
    )
    .unwrap();
    let entries = j.audit(&AuditFilter::default()).unwrap();
    let who: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| (e.customer.as_str(), e.customer_fp.as_str()))
        .collect();
    let case = customer_id(&coll);
    assert_eq!(
        who,
        [
            (case.as_str(), fingerprint(&purchase).as_str()),
            (case.as_str(), fingerprint(&renewed).as_str())
        ]
    );
    let table = storedesk::journal::audit::to_table(&entries);
    let header = table.lines().next().unwrap_or_default();
    assert!(
        header.contains("CUSTOMER") && header.contains("KEY FP"),
        "{header}"
    );
    let shown = format!(
        "{}  {}",
        case.trim_start_matches("key:"),
        fingerprint(&purchase)
    );
    assert!(
        table.contains(&shown),
        "customer, then the key beside it:\n{table}"
    );

    // A row written before the column existed names its key's customer.
    drop(j);
    let conn = Connection::open(db(dir.path())).unwrap();
    conn.execute_batch(
        "INSERT INTO audit (at, operator, profile, environment, customer_fp, action, event, request_summary) \
         VALUES ('2026-01-01', 'ana', 'sandbox', 'sandbox', 'abcd1234', 'consume', 'attempt', 'old')",
    )
    .unwrap();
    drop(conn);
    let j = Journal::open(&db(dir.path())).unwrap();
    let last = j.audit(&AuditFilter::default()).unwrap().pop().unwrap();
    assert_eq!(last.customer, "key:abcd1234");
}

/// Issue 14 point 8: on a file system without locks (liveness cannot be
/// told), a live owner's heartbeat renews its lease — a send longer than
/// the lease keeps its claim — and a wall-clock jump (the observer's
/// forward, the owner's backward) does not free it; a dead owner's lease,
/// seen standing still, is taken over.
#[test]
fn leases_without_locks_are_renewed_and_survive_clock_jumps() {
    use chrono::{TimeDelta, Utc};
    use storedesk::clock::Clock;
    let dir = tempfile::tempdir().unwrap();
    let beat = Duration::from_millis(100);
    let mut owner = Journal::open(&db(dir.path())).unwrap();
    owner.set_lease(Duration::from_millis(400));
    owner.set_lease_beat(beat);
    let owner_clock = Clock::settable(Utc::now());
    owner.set_lease_clock(owner_clock.clone());
    let mut watcher = Journal::open(&db(dir.path())).unwrap();
    watcher.assume_no_locks();
    watcher.set_lease_beat(beat);
    let watcher_clock = Clock::settable(Utc::now());
    watcher.set_lease_clock(watcher_clock.clone());

    let id = owner
        .record(&WriteRequest::consume(KEY, "P", Some(1), None), &actor())
        .unwrap();
    assert!(matches!(watcher.claim(id).unwrap(), Claim::Busy { .. }));

    // The send takes longer than the lease (the owner's wall clock moves
    // with real time): the heartbeat renews it.
    let tick = |c: &Clock, by: Duration| c.set(c.now() + TimeDelta::from_std(by).unwrap());
    for _ in 0..8 {
        std::thread::sleep(beat);
        tick(&owner_clock, beat);
        tick(&watcher_clock, beat);
    }
    assert!(
        matches!(watcher.claim(id).unwrap(), Claim::Busy { owner: ref by } if by == owner.owner_id()),
        "a live owner lost its claim past one lease"
    );

    // The watcher's clock jumps an hour forward: the lease looks long
    // gone, but it is seen moving — still busy.
    watcher_clock.set(watcher_clock.now() + TimeDelta::hours(1));
    assert!(matches!(watcher.claim(id).unwrap(), Claim::Busy { .. }));
    assert_eq!(
        watcher.in_flight_by(id).unwrap().as_deref(),
        Some(owner.owner_id())
    );
    // The owner's clock jumps an hour back (its lease is written an hour
    // in the past), the watcher's is right again: still busy.
    watcher_clock.set(Utc::now());
    owner_clock.set(owner_clock.now() - TimeDelta::hours(1));
    std::thread::sleep(beat * 2);
    assert!(matches!(watcher.claim(id).unwrap(), Claim::Busy { .. }));

    // The owner dies (its heartbeat stops; its lock cannot be checked):
    // once the lease has stood still for a few beats, it is taken over.
    let gone = owner.owner_id().to_string();
    drop(owner);
    assert_eq!(watcher.claim(id).unwrap(), Claim::Claimed);
    assert_ne!(watcher.owner_id(), gone);
}

/// Issue 20 point 7: the journal (and its WAL) and a kept answer are
/// readable by their owner only, whatever the umask.
#[cfg(unix)]
#[test]
fn the_journal_and_kept_answers_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = db(dir.path());
    let j = Journal::open(&path).unwrap();
    let req = WriteRequest::consume(KEY, "P", Some(1), None);
    j.record(&req, &actor()).unwrap();
    let kept = storedesk::journal::kept::keep(&path, 1, &req, "answer", "", "2026-11-23T10:00:00Z")
        .unwrap();
    let mut seen = 0;
    for f in [
        path.clone(),
        PathBuf::from(format!("{}-wal", path.display())),
        kept,
    ] {
        if let Ok(m) = std::fs::metadata(&f) {
            seen += 1;
            assert_eq!(m.permissions().mode() & 0o777, 0o600, "{}", f.display());
        }
    }
    assert!(seen >= 2, "journal files not found");
}
