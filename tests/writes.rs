//! The fault matrix: every write kind × every fault, against the real
//! sandbox over loopback HTTP and a real journal file. After recovery the
//! customer's state shows the write applied exactly once, and the journal
//! and the audit log tell the same story. Plus the SIGKILL case, driving
//! the real binary, and a canary scan of the database bytes.

#[path = "support/rig.rs"]
mod rig;
#[path = "support/sandbox_process.rs"]
mod sandbox_process;

use rig::{COINS, Rig, fault};
use sandbox_process::{
    BIN, SandboxProcess, coins, contains, customer_key, demo_key, items_of, journal_files,
    start_sandbox_process, storedesk_with, watcher,
};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use storedesk::config::Profile;
use storedesk::journal::{
    self, Actor, AuditFilter, Claim, GrantParams, Journal, ReplayStatus, ResolveOutcome, WriteKind,
    WriteOutcome, WriteRecord, WriteRequest, WriteState,
};
use storedesk::store::model::Recurrence;

const FREE_SKIN: &str = "9NSDDLC00002"; // free durable cora does not own
/// (name, sandbox fault action, whether the first send gets applied)
const FAULTS: &[(&str, Option<&str>, bool)] = &[
    ("none", None, true),
    ("500 before applying", Some("500"), false),
    ("500 after applying", Some("fail-after-commit"), true),
    ("timeout after applying", Some("hang-after-commit"), true),
    ("reset after applying", Some("reset-after-commit"), true),
    ("429", Some("429"), false),
];

impl Rig {
    /// Journal row and audit log agree, and the settled row holds no key.
    fn assert_journal_agrees(&self, id: i64, faulted: bool) -> WriteRecord {
        let w = self.journal.write(id).unwrap().unwrap();
        assert_eq!(w.state, WriteState::Done);
        assert!(!w.has_key);
        let events = self.events(id);
        let want: &[&str] = if faulted {
            &["attempt", "no_answer", "replay", "done"]
        } else {
            &["attempt", "done"]
        };
        assert_eq!(events, want);
        assert_eq!(w.attempts, if faulted { 2 } else { 1 });
        assert!(self.journal.pending().unwrap().is_empty());
        w
    }

    fn assert_canary(&self, secrets: &[&str]) {
        for (p, bytes) in journal_files(self.dir.path()) {
            for s in secrets {
                assert!(!contains(&bytes, s.as_bytes()), "{p:?} holds a secret");
            }
        }
    }
}

/// Send once: done without a fault, pending (key kept) with one.
async fn send_once(rig: &Rig, req: &WriteRequest, faulted: bool) -> i64 {
    let outcome = journal::execute(&rig.journal, &rig.client, req, &rig.actor)
        .await
        .unwrap();
    let id = outcome.write_id();
    if !faulted {
        assert!(matches!(outcome, WriteOutcome::Done { .. }), "{outcome:?}");
        return id;
    }
    assert!(
        matches!(outcome, WriteOutcome::Pending { .. }),
        "{outcome:?}"
    );
    let w = rig.journal.write(id).unwrap().unwrap();
    assert_eq!(w.state, WriteState::Pending);
    assert!(
        w.has_key,
        "a pending write keeps its (sealed) key for the replay"
    );
    id
}

/// Replay what is pending: it settles as done; a second replay is a no-op.
async fn recover(rig: &Rig, faulted: bool) {
    let reports = journal::replay_pending(&rig.journal, &rig.client, &rig.actor)
        .await
        .unwrap();
    assert_eq!(reports.len(), usize::from(faulted));
    for r in &reports {
        match &r.status {
            ReplayStatus::Replayed {
                outcome: WriteOutcome::Done { .. },
            } => {}
            other => panic!("replay: {other:?}"),
        }
    }
    assert!(
        journal::replay_pending(&rig.journal, &rig.client, &rig.actor)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consume_applies_exactly_once_under_every_fault() {
    for (name, action, applied_first) in FAULTS {
        let rig = Rig::start(fault("consume", *action)).await;
        let (key, _) = rig.customer("cora");
        assert_eq!(rig.balance(&key).await, 25, "{name}");
        let req = WriteRequest::consume(&key, COINS, Some(1), None);
        assert_eq!(req.body["includeOrderIds"], true);
        let id = send_once(&rig, &req, action.is_some()).await;
        let between = if *applied_first { 24 } else { 25 };
        assert_eq!(
            rig.balance(&key).await,
            between,
            "{name}: the fault hit where meant"
        );
        recover(&rig, action.is_some()).await;
        assert_eq!(rig.balance(&key).await, 24, "{name}: applied exactly once");
        let w = rig.assert_journal_agrees(id, action.is_some());
        assert_eq!(
            w.idempotency_key, req.idempotency_key,
            "{name}: same trackingId"
        );
        assert!(
            w.result.as_deref().unwrap().contains("newQuantity 24"),
            "{name}"
        );
        // The order transaction the consume drew from is kept for clawbacks.
        let all = rig.journal.writes().unwrap();
        assert_eq!(all.len(), 1);
        let (order, line) = first_order_line(&rig, id);
        let txns = rig.journal.order_transactions_for(&order, &line).unwrap();
        assert_eq!(
            txns.iter().map(|t| t.quantity_consumed).sum::<i64>(),
            1,
            "{name}"
        );
        assert_eq!(txns[0].tracking_id, req.idempotency_key);
        let secret = rig.sandbox.info.client_secret.clone();
        drop(rig.journal);
        for (p, bytes) in journal_files(rig.dir.path()) {
            assert!(
                !contains(&bytes, key.as_bytes()),
                "{name}: {p:?} holds the key"
            );
            assert!(
                !contains(&bytes, secret.as_bytes()),
                "{name}: {p:?} holds the secret"
            );
        }
    }
}

/// The (order, line item) of the write's first recorded order transaction.
fn first_order_line(rig: &Rig, id: i64) -> (String, String) {
    let raw = rusqlite::Connection::open(rig.dir.path().join("journal.sqlite")).unwrap();
    raw.query_row(
        "SELECT order_id, order_line_item_id FROM order_transactions WHERE write_id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grant_applies_exactly_once_under_every_fault() {
    for (name, action, applied_first) in FAULTS {
        let rig = Rig::start(fault("grant", *action)).await;
        let (ckey, pkey) = rig.customer("cora");
        assert!(rig.items(&ckey, FREE_SKIN).await.is_empty(), "{name}");
        let req = WriteRequest::grant(
            &pkey,
            &GrantParams {
                product_id: FREE_SKIN.into(),
                sku_id: "0010".into(),
                availability_id: "9NSDAV000004".into(),
                market: "US".into(),
                language: "en-US".into(),
                quantity: 1,
                dev_offer_id: None,
            },
            None,
        );
        let id = send_once(&rig, &req, action.is_some()).await;
        let between = rig.items(&ckey, FREE_SKIN).await.len();
        assert_eq!(
            between,
            usize::from(*applied_first),
            "{name}: the fault hit where meant"
        );
        recover(&rig, action.is_some()).await;
        let owned = rig.items(&ckey, FREE_SKIN).await;
        assert_eq!(owned.len(), 1, "{name}: granted exactly once: {owned:?}");
        let w = rig.assert_journal_agrees(id, action.is_some());
        assert_eq!(
            w.idempotency_key, req.idempotency_key,
            "{name}: same orderId"
        );
        assert!(
            w.result.as_deref().unwrap().contains(&req.idempotency_key),
            "{name}: the order answered is the one we asked for"
        );
        rig.assert_canary(&[&pkey, &ckey, &rig.sandbox.info.client_secret]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscription_cancel_recovers_under_every_fault() {
    for (name, action, applied_first) in FAULTS {
        let rig = Rig::start(fault("recurrenceChange", *action)).await;
        let (_, pkey) = rig.customer("gus");
        let before = rig.recurrence(&pkey).await;
        assert!(before.auto_renew, "{name}");
        let req = WriteRequest::recurrence_change(&pkey, &before.id, "Cancel", None, None);
        let id = send_once(&rig, &req, action.is_some()).await;
        let between = rig.recurrence(&pkey).await;
        assert_eq!(
            between.auto_renew, !*applied_first,
            "{name}: the fault hit where meant"
        );
        recover(&rig, action.is_some()).await;
        let after = rig.recurrence(&pkey).await;
        assert_eq!(
            after
                .recurrence_state
                .as_ref()
                .map(|s| s.as_str().to_string()),
            Some("Canceled".to_string()),
            "{name}"
        );
        assert!(!after.auto_renew);
        assert_eq!(after.expiration_time, before.expiration_time, "{name}");
        rig.assert_journal_agrees(id, action.is_some());
        rig.assert_canary(&[&pkey, &rig.sandbox.info.client_secret]);
    }
}

/// An extension is not idempotent: after a lost answer it must not be
/// resent automatically (it would extend twice); it waits for review.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscription_extend_is_never_resent_blindly() {
    let rig = Rig::start(fault("recurrenceChange", Some("fail-after-commit"))).await;
    let (_, pkey) = rig.customer("gus");
    let before = rig.recurrence(&pkey).await;
    let req = WriteRequest::recurrence_change(&pkey, &before.id, "Extend", Some(5), None);
    let outcome = journal::execute(&rig.journal, &rig.client, &req, &rig.actor)
        .await
        .unwrap();
    let WriteOutcome::Pending { write_id, .. } = outcome else {
        panic!("{outcome:?}")
    };
    let reports = journal::replay_pending(&rig.journal, &rig.client, &rig.actor)
        .await
        .unwrap();
    assert_eq!(reports[0].status, ReplayStatus::NeedsReview);
    let after = rig.recurrence(&pkey).await;
    let gained = after.expiration_time.unwrap().0 - before.expiration_time.unwrap().0;
    assert_eq!(gained.num_days(), 5, "extended once, not twice");
    // While another live storedesk holds it, it cannot be resolved under it.
    let other = Journal::open(&rig.dir.path().join("journal.sqlite")).unwrap();
    assert_eq!(other.claim(write_id).unwrap(), Claim::Claimed);
    assert!(matches!(
        journal::resolve(&rig.journal, write_id, true, "checked", &rig.actor).unwrap(),
        ResolveOutcome::Busy { .. }
    ));
    drop(other);
    // Nor under another profile.
    let mut stranger = rig.actor.clone();
    stranger.profile = "qa".into();
    assert!(matches!(
        journal::resolve(&rig.journal, write_id, true, "checked", &stranger).unwrap(),
        ResolveOutcome::OtherProfile(_)
    ));
    // The operator checked and resolves it; the key is erased then. A key
    // pasted into the note by mistake does not reach the audit log.
    let note = format!("expiry moved by 5 days for {pkey}");
    let ResolveOutcome::Resolved(w) =
        journal::resolve(&rig.journal, write_id, true, &note, &rig.actor).unwrap()
    else {
        panic!("not resolved")
    };
    assert_eq!(w.state, WriteState::Done);
    assert!(!w.has_key);
    let result = w.result.unwrap_or_default();
    assert!(
        result.starts_with("resolved by hand: expiry moved by 5 days for <token "),
        "{result}"
    );
    let audit = rig.journal.audit(&AuditFilter::default()).unwrap();
    assert!(
        audit
            .iter()
            .all(|e| !e.result.as_deref().unwrap_or("").contains(&pkey))
    );
    assert!(matches!(
        journal::resolve(&rig.journal, write_id, false, "again", &rig.actor).unwrap(),
        ResolveOutcome::NotPending(_)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn definite_refusal_settles_failed_and_is_not_replayed() {
    let rig = Rig::start(vec![]).await;
    let (key, _) = rig.customer("cora");
    let req = WriteRequest::consume(&key, COINS, Some(1000), None);
    let outcome = journal::execute(&rig.journal, &rig.client, &req, &rig.actor)
        .await
        .unwrap();
    let WriteOutcome::Failed {
        write_id,
        http_status,
        ..
    } = outcome
    else {
        panic!("{outcome:?}")
    };
    assert_eq!(http_status, Some(400));
    assert_eq!(rig.balance(&key).await, 25);
    let w = rig.journal.write(write_id).unwrap().unwrap();
    assert_eq!(w.state, WriteState::Failed);
    assert!(!w.has_key);
    assert!(rig.journal.pending().unwrap().is_empty());
    let events: Vec<String> = rig
        .journal
        .audit(&AuditFilter::default())
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .collect();
    assert_eq!(events, ["attempt", "failed"]);
}

// ---------------------------------------------------------------------------
// SIGKILL between send and answer, through the real binary
// ---------------------------------------------------------------------------

/// A profile pointing at the sandbox process (a long timeout: the
/// killed process must still be waiting when it is killed).
fn write_config(dir: &Path, info: &Value) -> PathBuf {
    sandbox_process::write_config(dir, info, 120)
}

fn storedesk(dir: &Path, config: &Path, secret: &str) -> Command {
    storedesk_with(config, &dir.join("data"), secret)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_between_send_and_answer_then_replay() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let sb = start_sandbox_process(dir.path(), &["consume:hang-after-commit"]);
    let secret = sb.info["client_secret"].as_str().unwrap().to_string();
    let key = customer_key(&sb, "cora");
    let config = write_config(dir.path(), &sb.info);
    let watcher = watcher(&sb);
    let balance = || coins(&watcher, &key);
    assert_eq!(balance().await, 25);

    let mut consume = storedesk(dir.path(), &config, &secret)
        .args([
            "consume",
            "--key",
            &key,
            "--product",
            COINS,
            "--quantity",
            "2",
            "--yes",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the sandbox has applied it (and hangs on the answer).
    let mut applied = false;
    for _ in 0..60 {
        if balance().await == 23 {
            applied = true;
            break;
        }
        assert!(
            consume.try_wait().unwrap().is_none(),
            "consume exited early"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(applied, "the sandbox never applied the consume");
    consume.kill().unwrap(); // SIGKILL: no chance to settle anything
    consume.wait().unwrap();

    let db = dir.path().join("data").join("journal.sqlite");
    {
        let j = Journal::open(&db).unwrap();
        let pending = j.pending().unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].kind, WriteKind::Consume);
        assert_eq!(pending[0].attempts, 1);
        assert!(pending[0].has_key);
    }

    // `pending` lists it and exits non-zero.
    let listed = storedesk(dir.path(), &config, &secret)
        .arg("pending")
        .output()
        .unwrap();
    assert_eq!(listed.status.code(), Some(4));
    let text = String::from_utf8_lossy(&listed.stdout);
    assert!(text.contains("consume 2 × 9NSDCOIN0500"), "{text}");
    assert!(!text.contains(&key));

    // Replay at once: the killed owner's claim is recognised as dead
    // through its released lock file, without waiting for the lease.
    let replay = storedesk(dir.path(), &config, &secret)
        .args(["pending", "--replay"])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&replay.stdout);
    assert_eq!(
        replay.status.code(),
        Some(0),
        "{out} {}",
        String::from_utf8_lossy(&replay.stderr)
    );
    assert!(
        out.contains("done") && out.contains("newQuantity 23"),
        "{out}"
    );
    assert_eq!(balance().await, 23, "applied exactly once");

    let j = Journal::open(&db).unwrap();
    let all = j.writes().unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].state, WriteState::Done);
    assert_eq!(all[0].attempts, 2);
    let events: Vec<String> = j
        .audit(&AuditFilter::default())
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .collect();
    // The killed process never got to write an outcome.
    assert_eq!(events, ["attempt", "replay", "done"]);

    // The audit export agrees.
    // `--json` is one document (an array); `--ndjson` one object a line.
    let audit = storedesk(dir.path(), &config, &secret)
        .args(["audit", "--json"])
        .output()
        .unwrap();
    assert!(audit.status.success());
    let doc: Vec<Value> = serde_json::from_slice(&audit.stdout).unwrap();
    let audit = storedesk(dir.path(), &config, &secret)
        .args(["audit", "--ndjson"])
        .output()
        .unwrap();
    assert!(audit.status.success());
    let lines: Vec<Value> = String::from_utf8_lossy(&audit.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(doc, lines);
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[2]["event"], "done");
    assert_eq!(lines[2]["profile"], "qa");
    assert_eq!(lines[2]["idempotency_key"], all[0].idempotency_key.as_str());
    drop(j);

    // Canary: no key, no client secret anywhere in the journal's files.
    for (p, bytes) in journal_files(&dir.path().join("data")) {
        assert!(!contains(&bytes, key.as_bytes()), "{p:?} holds the key");
        assert!(
            !contains(&bytes, secret.as_bytes()),
            "{p:?} holds the secret"
        );
    }
}

#[test]
fn headless_refusals() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        "[profiles.ro]\nenvironment = \"sandbox\"\nsandbox_url = \"http://127.0.0.1:9\"\nread_only = true\n",
    )
    .unwrap();
    let run = |args: &[&str]| {
        Command::new(BIN)
            .arg("--config")
            .arg(&config)
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    // Read-only profile: refused with the reason, before anything is sent.
    let out = run(&[
        "--profile",
        "ro",
        "consume",
        "--key",
        "k",
        "--product",
        "p",
        "--yes",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("read-only") && err.contains("--allow-writes"),
        "{err}"
    );
    // No terminal and no --yes: refused.
    let out = run(&[
        "--profile",
        "ro",
        "--allow-writes",
        "consume",
        "--key",
        "k",
        "--product",
        "p",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--yes") && err.contains("not a terminal"),
        "{err}"
    );
    // Nothing was journaled by either.
    let j = Journal::open(&dir.path().join("data").join("journal.sqlite")).unwrap();
    assert!(j.writes().unwrap().is_empty());
}

/// A hand-made User Store ID of `kind` (`collections` / `purchase`): the
/// kind is read from its issuer before any call, the signature never.
fn unsigned_store_key(kind: &str) -> String {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let iss = format!("https://{kind}.mp.microsoft.com/v6.0/keys");
    let now = chrono::Utc::now().timestamp();
    let claims =
        serde_json::json!({"iss": iss, "aud": iss, "iat": now, "nbf": now, "exp": now + 86_400});
    format!(
        "{}.{}.{}",
        b64(r#"{"alg":"RS256","typ":"JWT"}"#),
        b64(&claims.to_string()),
        b64("sig")
    )
}

/// Issue 16 point 1: a purchase key given to `entitlements`/`consume`, or a
/// collections key to `grant`, is refused before any call (the profile
/// points at a closed port: a call would fail differently), with the fix
/// named, and nothing is journaled.
#[test]
fn a_wrong_key_kind_is_refused_before_any_call() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        "[profiles.qa]\nenvironment = \"sandbox\"\nsandbox_url = \"http://127.0.0.1:9\"\ntenant_id = \"t\"\nclient_id = \"c\"\nclient_secret_env = \"QA_SANDBOX_SECRET\"\n",
    )
    .unwrap();
    let (collections, purchase) = (
        unsigned_store_key("collections"),
        unsigned_store_key("purchase"),
    );
    let cases: [(&[&str], &str, &str); 3] = [
        (
            &["entitlements", "--key", &purchase],
            "UserCollectionsId",
            "UserPurchaseId",
        ),
        (
            &[
                "consume",
                "--key",
                &purchase,
                "--product",
                COINS,
                "--quantity",
                "1",
                "--yes",
            ],
            "UserCollectionsId",
            "UserPurchaseId",
        ),
        (
            &[
                "grant",
                "--key",
                &collections,
                "--product",
                FREE_SKIN,
                "--sku",
                "0010",
                "--availability",
                "9NSDAV000002",
                "--yes",
            ],
            "UserPurchaseId",
            "UserCollectionsId",
        ),
    ];
    for (args, needed, given) in cases {
        let out = storedesk(dir.path(), &config, "s3cret")
            .args(args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(&format!("needs the customer's {needed}"))
                && err.contains(&format!("this is a {given}"))
                && err.contains("nothing was sent"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("expired or revoked"), "{err}");
        assert!(
            !err.contains(&purchase) && !err.contains(&collections),
            "no key echoed: {err}"
        );
        assert!(out.stdout.is_empty());
    }
    let db = dir.path().join("data").join("journal.sqlite");
    if db.exists() {
        assert!(Journal::open(&db).unwrap().writes().unwrap().is_empty());
    }
}

// ---------------------------------------------------------------------------
// Headless consume asking on a real terminal
// ---------------------------------------------------------------------------

/// A headless write (`args`, without `--yes`) in a pseudo-terminal: the
/// answer typed at the prompt; the exit code and what the process printed.
fn write_answering(dir: &Path, sb: &SandboxProcess, args: &[&str], answer: &str) -> (u32, String) {
    use portable_pty::{CommandBuilder, PtySize, native_pty_system};
    use std::io::{Read, Write};
    use std::sync::{Arc, Mutex};
    use std::time::Instant;

    let config = write_config(dir, &sb.info);
    let pair = native_pty_system()
        .openpty(PtySize {
            rows: 40,
            cols: 120,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut cmd = CommandBuilder::new(BIN);
    cmd.arg("--config");
    cmd.arg(&config);
    cmd.args(["--profile", "qa", "--data-dir"]);
    cmd.arg(dir.join("data"));
    cmd.args(args);
    cmd.env(
        "QA_SANDBOX_SECRET",
        sb.info["client_secret"].as_str().unwrap(),
    );
    cmd.env_remove("STOREDESK_NOW");
    let mut child = pair.slave.spawn_command(cmd).unwrap();
    drop(pair.slave);
    let mut reader = pair.master.try_clone_reader().unwrap();
    let mut writer = pair.master.take_writer().unwrap();
    let out = Arc::new(Mutex::new(Vec::new()));
    let out2 = out.clone();
    let (drained, drained_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            out2.lock().unwrap().extend_from_slice(&buf[..n]);
        }
        let _ = drained.send(());
    });
    let text = || String::from_utf8_lossy(&out.lock().unwrap()).into_owned();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !text().contains("Send it? [y/N]") {
        assert!(Instant::now() < deadline, "no prompt; got:\n{}", text());
        assert!(
            child.try_wait().unwrap().is_none(),
            "exited early:\n{}",
            text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    writer.write_all(answer.as_bytes()).unwrap();
    writer.write_all(b"\n").unwrap();
    writer.flush().unwrap();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "did not exit:\n{}", text());
        std::thread::sleep(Duration::from_millis(50));
    };
    // The reader ends once the terminal has no writer left: all read.
    let _ = drained_rx.recv_timeout(Duration::from_secs(10));
    drop(pair.master);
    (status.exit_code(), text())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headless_consume_asks_on_the_terminal_and_sends_only_on_yes() {
    let dir = tempfile::tempdir().unwrap();
    let sb = start_sandbox_process(dir.path(), &[]);
    let key = customer_key(&sb, "cora");
    let watcher = watcher(&sb);
    assert_eq!(coins(&watcher, &key).await, 25);
    let db = dir.path().join("data").join("journal.sqlite");
    let consume = [
        "consume",
        "--key",
        &key,
        "--product",
        COINS,
        "--quantity",
        "3",
    ];

    // The prompt shows the exact request with the key masked; "n" (or
    // anything but y/yes) sends nothing and journals nothing.
    for answer in ["n", "", "sure"] {
        let (code, out) =
            tokio::task::block_in_place(|| write_answering(dir.path(), &sb, &consume, answer));
        assert_eq!(code, 2, "{answer:?}: {out}");
        assert!(out.contains("cancelled; nothing was sent"), "{out}");
        assert!(out.contains(COINS) && out.contains("SANDBOX"), "{out}");
        assert!(!out.contains(&key), "the prompt shows the key");
        assert_eq!(coins(&watcher, &key).await, 25);
        assert!(Journal::open(&db).unwrap().writes().unwrap().is_empty());
    }

    // "y" sends it once.
    let (code, out) =
        tokio::task::block_in_place(|| write_answering(dir.path(), &sb, &consume, "y"));
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("done: #1") && out.contains("trackingId"),
        "{out}"
    );
    assert_eq!(coins(&watcher, &key).await, 22);
    let writes = Journal::open(&db).unwrap().writes().unwrap();
    assert_eq!(writes.len(), 1);
    assert_eq!(writes[0].state, WriteState::Done);
}

// ---------------------------------------------------------------------------
// Settling by hand what is not safe to replay
// ---------------------------------------------------------------------------

/// A lost answer to a subscription extension stays pending (resending could
/// extend twice) and blocks the profile's headless writes; the operator
/// checks the Store and settles it with `pending --resolve`, audited with
/// their note. Everything through the real binary.
#[test]
fn pending_resolve_settles_what_replay_will_not_resend() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let db = data.join("journal.sqlite");
    let actor = Actor::from_profile(&Profile::builtin_sandbox());
    let id = {
        let j = Journal::open(&db).unwrap();
        let req = WriteRequest::recurrence_change("eyJ.k.y", "rec-1", "Extend", Some(5), None);
        j.record(&req, &actor).unwrap()
        // Dropped here: the recording "process" is gone, its claim dead.
    };
    let run = |args: &[&str]| {
        let out = Command::new(BIN)
            .arg("--data-dir")
            .arg(&data)
            .arg("--config")
            .arg({
                let c = dir.path().join("empty.toml");
                std::fs::write(&c, "").unwrap();
                c
            })
            .arg("pending")
            .args(args)
            .env_remove("STOREDESK_PROFILE")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let id_s = id.to_string();

    let (code, out, _) = run(&[]);
    assert_eq!(code, Some(4), "{out}");
    assert!(
        out.contains(&format!("#{id} ")) && out.contains("NOT safe to replay"),
        "{out}"
    );
    assert!(out.contains("--resolve ID"), "{out}");

    // The outcome and a note are required, and only one outcome.
    for bad in [
        &["--resolve", &id_s, "--applied"][..],
        &["--resolve", &id_s, "--note", "checked"],
        &[
            "--resolve",
            &id_s,
            "--applied",
            "--not-applied",
            "--note",
            "x",
        ],
        &["--resolve", &id_s, "--replay", "--applied", "--note", "x"],
        &["--applied"],
    ] {
        let (code, _, err) = run(bad);
        assert_eq!(code, Some(2), "{bad:?}: {err}");
    }
    let (code, _, err) = run(&["--resolve", &id_s, "--applied", "--note", "  "]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--note must say what was checked"), "{err}");
    assert_eq!(
        Journal::open(&db)
            .unwrap()
            .write(id)
            .unwrap()
            .unwrap()
            .state,
        WriteState::Pending
    );

    let note = "Partner Center shows the end date moved 5 days";
    let (code, out, err) = run(&["--resolve", &id_s, "--applied", "--note", note]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.starts_with(&format!(
            "resolved: #{id} Extend subscription rec-1 · applied (done)"
        )),
        "{out}"
    );
    let j = Journal::open(&db).unwrap();
    let w = j.write(id).unwrap().unwrap();
    assert_eq!(w.state, WriteState::Done);
    assert!(!w.has_key, "the sealed key is erased once settled");
    let last = j.audit(&AuditFilter::default()).unwrap().pop().unwrap();
    assert_eq!(last.event, "done");
    assert_eq!(last.write_id, Some(id));
    assert_eq!(
        last.result.as_deref(),
        Some(&*format!("resolved by hand: {note}"))
    );
    assert_eq!(last.operator, actor.operator);
    drop(j);

    let (code, _, err) = run(&["--resolve", &id_s, "--not-applied", "--note", "again"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("is not pending: it is done"), "{err}");
    let (code, _, err) = run(&["--resolve", "999", "--not-applied", "--note", "x"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("no write #999"), "{err}");
    let (code, out, _) = run(&[]);
    assert_eq!((code, out.as_str()), (Some(0), "no pending writes\n"));
}

/// `grant` asks the same way: "no" sends nothing, "yes" grants once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headless_grant_asks_on_the_terminal_too() {
    let dir = tempfile::tempdir().unwrap();
    let sb = start_sandbox_process(dir.path(), &[]);
    let key = customer_key(&sb, "cora");
    let purchase_key = demo_key(&sb, "cora", "purchase_key");
    let watcher = watcher(&sb);
    assert!(items_of(&watcher, &key, FREE_SKIN).await.is_empty());
    let grant = [
        "grant",
        "--key",
        &purchase_key,
        "--product",
        FREE_SKIN,
        "--sku",
        "0010",
        "--availability",
        "9NSDAV000004",
    ];
    let (code, out) =
        tokio::task::block_in_place(|| write_answering(dir.path(), &sb, &grant, "no"));
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("cancelled; nothing was sent") && out.contains(FREE_SKIN),
        "{out}"
    );
    assert!(!out.contains(&purchase_key), "the prompt shows the key");
    assert!(items_of(&watcher, &key, FREE_SKIN).await.is_empty());

    let (code, out) =
        tokio::task::block_in_place(|| write_answering(dir.path(), &sb, &grant, "yes"));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("done: #1") && out.contains("orderId"), "{out}");
    assert_eq!(items_of(&watcher, &key, FREE_SKIN).await.len(), 1);
}

// ---------------------------------------------------------------------------
// Headless listing against a `storedesk sandbox` process: v8 only
// ---------------------------------------------------------------------------

/// Issue 16 point 3 (headless): where v8 is the only choice (a profile with
/// no product_ids, the sandbox elsewhere), the listing says what it may
/// cost before spending the budget; stopped by the budget it keeps every
/// page, says "incomplete: N of ≥ N, stopped by …" and marks the CSV (a
/// header comment) and the JSON (a field).
#[test]
fn a_listing_stopped_by_the_budget_keeps_its_pages_and_says_incomplete() {
    let dir = tempfile::tempdir().unwrap();
    let sb = start_sandbox_process(dir.path(), &[]);
    let secret = sb.info["client_secret"].as_str().unwrap().to_string();
    let config = write_config(dir.path(), &sb.info);
    // The whale owns 10,000 items: 100 v8 pages, the whole budget. One
    // more (a free grant) and the listing cannot finish within it.
    let out = storedesk(dir.path(), &config, &secret)
        .args(["grant", "--key", &demo_key(&sb, "wally", "purchase_key")])
        .args([
            "--product",
            FREE_SKIN,
            "--sku",
            "0010",
            "--availability",
            "9NSDAV000004",
            "--yes",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let wally = customer_key(&sb, "wally");

    let out = storedesk(dir.path(), &config, &secret)
        .args(["entitlements", "--key", &wally, "--csv"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let cost = err
        .lines()
        .position(|l| l.contains("may cost"))
        .expect(&err);
    let first_page = err.lines().position(|l| l.contains("page 1 ")).expect(&err);
    assert!(
        cost < first_page,
        "the cost is said before the first call: {err}"
    );
    assert!(
        err.contains("100 items a call") && err.contains("100 of 100 calls left"),
        "{err}"
    );
    assert!(
        err.contains("incomplete: 10,000 of ≥ 10,000, stopped by the call budget"),
        "{err}"
    );
    let csv = String::from_utf8(out.stdout).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap_or_default(),
        "# incomplete: 10,000 of ≥ 10,000, stopped by the call budget",
        "the file says so first"
    );
    assert!(lines.next().unwrap_or_default().starts_with("id,productId"));
    assert_eq!(lines.count(), 10_000, "every page it got is kept");

    // A second run at once shares the first's budget, kept in the data
    // dir (issue 15 point 5): refused locally, nothing listed.
    let out = storedesk(dir.path(), &config, &secret)
        .args(["entitlements", "--key", &wally, "--json"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("refused locally"), "{err}");

    // JSON: one document with a field that says so, and the items. (The
    // sandbox's own 100-in-5-minutes limit is off, and the data dir's budget
    // is cleared: this run has a fresh budget, as one five minutes later.)
    sandbox_post(&sb, "/_sandbox/ratelimit", r#"{"enabled": false}"#);
    std::fs::remove_dir_all(dir.path().join("data").join("budget")).unwrap();
    let out = storedesk(dir.path(), &config, &secret)
        .args(["entitlements", "--key", &wally, "--json"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["complete"], false, "{}", &err);
    assert!(
        doc["incomplete"]
            .as_str()
            .unwrap_or_default()
            .starts_with("incomplete: 10,000 of ≥ 10,000, stopped by"),
        "{doc:.200}"
    );
    assert_eq!(doc["items"].as_array().map(Vec::len), Some(10_000));
}

/// POST `body` to the sandbox process's control `path` (plain HTTP/1.1).
fn sandbox_post(sb: &SandboxProcess, path: &str, body: &str) {
    use std::io::{Read, Write};
    let base = sb.info["base_url"].as_str().unwrap();
    let host = base.trim_start_matches("http://");
    let mut conn = std::net::TcpStream::connect(host).unwrap();
    write!(
        conn,
        "POST {path} HTTP/1.1\r\nHost: {host}\r\n{}: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        storedesk::sandbox::CONTROL_SECRET_HEADER,
        sb.info["control_secret"].as_str().unwrap(),
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 2"), "{answer}");
}

// ---------------------------------------------------------------------------
// Issue 14 point 9: the rest of the write kinds through the same matrix
// ---------------------------------------------------------------------------

/// A key renewal: replayed after a lost answer (a second renewal only mints
/// another key), settled done, journal and audit agree, no key kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_renewal_recovers_under_every_fault() {
    for (name, action, _) in FAULTS {
        let rig = Rig::start(fault("renew", *action)).await;
        let (ckey, _) = rig.customer("cora");
        let req = WriteRequest::renew_key(&ckey);
        let id = send_once(&rig, &req, action.is_some()).await;
        recover(&rig, action.is_some()).await;
        let w = rig.assert_journal_agrees(id, action.is_some());
        assert!(w.result.is_some(), "{name}");
        rig.assert_canary(&[&ckey, &rig.sandbox.info.client_secret]);
    }
}

/// Extend, refund and auto-renew off are not idempotent: under every fault
/// the change happens at most once (never resent by replay), and once the
/// operator resolves it by what the Store shows, it is settled truthfully.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscription_extend_refund_autorenew_happen_at_most_once_under_every_fault() {
    for change in ["Extend", "Refund", "ToggleAutoRenew"] {
        for (name, action, applied_first) in FAULTS {
            let rig = Rig::start(fault("recurrenceChange", *action)).await;
            let (_, pkey) = rig.customer("gus");
            let before = rig.recurrence(&pkey).await;
            let days = (change == "Extend").then_some(5);
            let req = WriteRequest::recurrence_change(&pkey, &before.id, change, days, None);
            let applied = |after: &Recurrence| match change {
                "Extend" => {
                    let gained =
                        after.expiration_time.unwrap().0 - before.expiration_time.unwrap().0;
                    assert!(
                        [0, 5].contains(&gained.num_days()),
                        "{change}/{name}: extended {} days",
                        gained.num_days()
                    );
                    gained.num_days() == 5
                }
                "Refund" => after.expiration_time != before.expiration_time,
                _ => !after.auto_renew,
            };
            let id = send_once(&rig, &req, action.is_some()).await;
            assert_eq!(
                applied(&rig.recurrence(&pkey).await),
                *applied_first,
                "{change}/{name}: the fault hit where meant"
            );
            if action.is_none() {
                rig.assert_journal_agrees(id, false);
                continue;
            }
            let reports = journal::replay_pending(&rig.journal, &rig.client, &rig.actor)
                .await
                .unwrap();
            assert_eq!(
                reports[0].status,
                ReplayStatus::NeedsReview,
                "{change}/{name}"
            );
            let after = rig.recurrence(&pkey).await;
            assert_eq!(
                applied(&after),
                *applied_first,
                "{change}/{name}: never resent"
            );
            let ResolveOutcome::Resolved(w) = journal::resolve(
                &rig.journal,
                id,
                *applied_first,
                "checked the subscription",
                &rig.actor,
            )
            .unwrap() else {
                panic!("{change}/{name}: not resolved")
            };
            let want = if *applied_first {
                WriteState::Done
            } else {
                WriteState::Failed
            };
            assert_eq!(w.state, want, "{change}/{name}");
            assert!(!w.has_key);
            assert!(rig.journal.pending().unwrap().is_empty());
            rig.assert_canary(&[&pkey, &rig.sandbox.info.client_secret]);
        }
    }
}

/// A clawback acknowledgement (delete by pop receipt): under every fault
/// the event is deleted exactly once; an unapplied fault is settled by the
/// replay, an applied one (whose replay finds the event gone) stays held
/// with the 404 as evidence until resolved — never "refused".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clawback_ack_deletes_once_under_every_fault() {
    for (name, action, applied_first) in FAULTS {
        let rig = Rig::start(Vec::new()).await;
        let sas = rig.client.clawback_sas().await.unwrap().value;
        let got = rig
            .client
            .queue_receive(&sas.uri, 1, Some(300))
            .await
            .unwrap()
            .value;
        let m = &got[0].message;
        let req =
            WriteRequest::clawback_ack(&m.message_id, m.pop_receipt.as_deref().unwrap(), "o-1");
        for f in fault("queue", *action) {
            rig.sandbox.add_fault(f);
        }
        let id = send_once(&rig, &req, action.is_some()).await;
        if action.is_none() {
            rig.assert_journal_agrees(id, false);
            continue;
        }
        let reports = journal::replay_pending(&rig.journal, &rig.client, &rig.actor)
            .await
            .unwrap();
        let ReplayStatus::Replayed { outcome } = &reports[0].status else {
            panic!("{name}: {:?}", reports[0].status)
        };
        if *applied_first {
            let WriteOutcome::Pending { reason, .. } = outcome else {
                panic!("{name}: a 404 after a lost answer proves nothing: {outcome:?}")
            };
            assert!(reason.contains("404"), "{name}: {reason}");
            let ResolveOutcome::Resolved(w) =
                journal::resolve(&rig.journal, id, true, "event gone", &rig.actor).unwrap()
            else {
                panic!("{name}: not resolved")
            };
            assert_eq!(w.state, WriteState::Done);
        } else {
            assert!(
                matches!(outcome, WriteOutcome::Done { .. }),
                "{name}: {outcome:?}"
            );
            rig.assert_journal_agrees(id, true);
        }
        // The replay's own answer shows the event deleted: 204 (it was
        // still there) or 404 (the first attempt had deleted it).
        assert!(rig.journal.pending().unwrap().is_empty(), "{name}");
    }
}

/// The claims the sandbox recorded for a customer (trackingId → receipt),
/// read from its saved state.
fn offer_claims(rig: &Rig, name: &str) -> serde_json::Map<String, Value> {
    fn walk(dir: &Path, name: &str) -> Option<serde_json::Map<String, Value>> {
        for e in std::fs::read_dir(dir).ok()? {
            let p = e.ok()?.path();
            if p.is_dir() {
                if let Some(m) = walk(&p, name) {
                    return Some(m);
                }
            } else if let Ok(v) = serde_json::from_slice::<Value>(&std::fs::read(&p).ok()?)
                && v["name"] == name
            {
                return v["claims"].as_object().cloned();
            }
        }
        None
    }
    walk(&rig.dir.path().join("sandbox"), name).unwrap_or_default()
}

/// An offer claim (keyed by the offer's trackingId): under every fault the
/// offer is claimed exactly once, with the receipt of the first send; the
/// replay after a lost answer settles it done; journal and audit agree.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offer_claim_is_claimed_once_under_every_fault() {
    for (name, action, applied_first) in FAULTS {
        let rig = Rig::start(fault("offers", *action)).await;
        let (_, pkey) = rig.customer("ada");
        rig.sandbox.clear_faults();
        let offers = rig.client.targeted_offers(&pkey).await.unwrap().value;
        for spec in fault("offers", *action) {
            rig.sandbox.add_fault(spec);
        }
        let offer = &offers[0];
        assert!(offer_claims(&rig, "ada").is_empty(), "{name}");
        let receipt = format!("receipt-{name}");
        let req = WriteRequest::offer_claim(&pkey, &offer.offers, &offer.tracking_id, &receipt);
        let id = send_once(&rig, &req, action.is_some()).await;
        assert_eq!(
            offer_claims(&rig, "ada").len(),
            usize::from(*applied_first),
            "{name}: the fault hit where meant"
        );
        recover(&rig, action.is_some()).await;
        let claims = offer_claims(&rig, "ada");
        assert_eq!(claims.len(), 1, "{name}: claimed once: {claims:?}");
        assert_eq!(claims[&offer.tracking_id], receipt.as_str(), "{name}");
        let w = rig.assert_journal_agrees(id, action.is_some());
        assert_eq!(w.kind, WriteKind::OfferClaim);
        assert_eq!(w.idempotency_key, offer.tracking_id, "{name}");
        rig.assert_canary(&[&pkey, &rig.sandbox.info.client_secret]);
    }
}

// ---------------------------------------------------------------------------
// Issue 14 point 9: SIGKILL mid-write for every write kind
// ---------------------------------------------------------------------------

/// Run in a child process by `sigkill_mid_write_of_every_kind_then_replay`:
/// sends the write described by `SIGKILL_CHILD_SPEC` through the journal
/// (the console's path: `journal::execute` with the Store client) against
/// a sandbox that applies it and never answers, until it is killed. The
/// console is the only way to issue these kinds; driving each through a
/// PTY would test the keys, not the journal, so the child is this test
/// binary itself, a real process killed for real.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_child_writer() {
    let Ok(spec) = std::env::var("SIGKILL_CHILD_SPEC") else {
        return; // only meaningful as the child
    };
    let spec: Value = serde_json::from_str(&spec).unwrap();
    let s = |k: &str| spec[k].as_str().unwrap_or_default().to_string();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut endpoints = Profile::builtin_sandbox().endpoints(Some(&s("base_url")));
    endpoints.tenant = s("tenant");
    let mut cfg = storedesk::store::ClientConfig::new(
        endpoints,
        s("client_id"),
        storedesk::config::Secret::new(std::env::var("QA_SANDBOX_SECRET").unwrap()),
    );
    cfg.timeout = Duration::from_secs(300);
    let client = storedesk::store::StoreClient::new(cfg).unwrap();
    let journal = Journal::open(Path::new(&s("journal"))).unwrap();
    let actor = Actor {
        operator: "qa-child".into(),
        profile: "qa".into(),
        environment: storedesk::config::Environment::Sandbox,
    };
    let req = match s("kind").as_str() {
        "renew" => WriteRequest::renew_key(&s("key")),
        "change" => WriteRequest::recurrence_change(
            &s("key"),
            &s("rid"),
            &s("change"),
            spec["days"].as_u64().map(|d| d as u32),
            None,
        ),
        "ack" => WriteRequest::clawback_ack(&s("mid"), &s("receipt"), "o-1"),
        "offer" => {
            let offers: Vec<String> = serde_json::from_value(spec["offers"].clone()).unwrap();
            WriteRequest::offer_claim(&s("key"), &offers, &s("tracking"), &s("receipt"))
        }
        other => panic!("no such kind {other}"),
    };
    let outcome = journal::execute(&journal, &client, &req, &actor).await;
    panic!("the write was answered, the hang fault did not hold: {outcome:?}");
}

/// GET the running sandbox's fault table.
async fn faults_left(rig: &Rig) -> usize {
    let r = reqwest::Client::new()
        .get(format!("{}/_sandbox/faults", rig.sandbox.info.base_url))
        .header(
            storedesk::sandbox::CONTROL_SECRET_HEADER,
            &rig.sandbox.info.control_secret,
        )
        .send()
        .await
        .unwrap();
    let v: Vec<Value> = r.json().await.unwrap();
    v.len()
}

/// A (probably) applied write's process is SIGKILLed while it waits for
/// the answer, for every kind the journal knows besides consume (its own
/// test above): grant through the headless `grant`, the console-only
/// kinds through a child process running the journal as the console does.
/// The write is left pending with its key sealed; `storedesk pending
/// --replay` (the real binary) resends the idempotent ones with the same
/// id (applied once), holds the rest for review (never resent), which
/// `pending --resolve` settles; the sandbox's state shows one
/// application, and the journal, `audit --json` and the events agree.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_write_of_every_kind_then_replay() {
    const KINDS: &[&str] = &[
        "grant",
        "renew",
        "Cancel",
        "Extend",
        "Refund",
        "ToggleAutoRenew",
        "ack",
        "offer",
    ];
    for &kind in KINDS {
        let rig = Rig::start(Vec::new()).await;
        let info = &rig.sandbox.info;
        let secret = info.client_secret.clone();
        let data = rig.dir.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        let db = data.join("journal.sqlite");
        let config = sandbox_process::write_config(
            rig.dir.path(),
            &serde_json::json!({
                "base_url": info.base_url, "tenant": info.tenant, "client_id": info.client_id
            }),
            120,
        );
        let bin = |args: &[&str]| {
            tokio::task::block_in_place(|| {
                storedesk_with(&config, &data, &secret)
                    .args(args)
                    .output()
                    .unwrap()
            })
        };
        let (ckey, cora_p) = rig.customer("cora");
        let (_, gus_p) = rig.customer("gus");
        let (_, ada_p) = rig.customer("ada");
        let before = rig.recurrence(&gus_p).await;
        let mut spec = serde_json::json!({
            "base_url": info.base_url, "tenant": info.tenant, "client_id": info.client_id,
            "journal": db.to_str().unwrap(),
        });
        // What the write is, and the route its hang fault goes on.
        let route = match kind {
            "grant" => "grant",
            "renew" => {
                spec["kind"] = "renew".into();
                spec["key"] = ckey.clone().into();
                "renew"
            }
            "ack" => {
                let sas = rig.client.clawback_sas().await.unwrap().value;
                let got = rig.client.queue_receive(&sas.uri, 1, Some(300)).await;
                let m = got.unwrap().value.remove(0).message;
                spec["kind"] = "ack".into();
                spec["mid"] = m.message_id.into();
                spec["receipt"] = m.pop_receipt.unwrap().into();
                "queue"
            }
            "offer" => {
                let offers = rig.client.targeted_offers(&ada_p).await.unwrap().value;
                spec["kind"] = "offer".into();
                spec["key"] = ada_p.clone().into();
                spec["offers"] = serde_json::to_value(&offers[0].offers).unwrap();
                spec["tracking"] = offers[0].tracking_id.clone().into();
                spec["receipt"] = "receipt-sigkill".into();
                "offers"
            }
            change => {
                spec["kind"] = "change".into();
                spec["key"] = gus_p.clone().into();
                spec["rid"] = before.id.clone().into();
                spec["change"] = change.into();
                if change == "Extend" {
                    spec["days"] = 5.into();
                }
                "recurrenceChange"
            }
        };
        rig.fault(&format!("{route}:hang-after-commit"));
        let mut child = if kind == "grant" {
            storedesk_with(&config, &data, &secret)
                .args(["grant", "--key", &cora_p, "--product", FREE_SKIN])
                .args(["--sku", "0010", "--availability", "9NSDAV000004", "--yes"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        } else {
            Command::new(std::env::current_exe().unwrap())
                .args(["--exact", "sigkill_child_writer", "--nocapture"])
                .env("SIGKILL_CHILD_SPEC", spec.to_string())
                .env("QA_SANDBOX_SECRET", &secret)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        };
        // The request reached the sandbox (its one-shot fault is spent),
        // was applied and hangs: then kill.
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while faults_left(&rig).await > 0 {
            assert!(std::time::Instant::now() < deadline, "{kind}: never sent");
            assert!(child.try_wait().unwrap().is_none(), "{kind}: exited early");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(child.try_wait().unwrap().is_none(), "{kind}: answered?");
        child.kill().unwrap(); // SIGKILL: nothing settled
        child.wait().unwrap();

        // Recorded pending, first attempt, key sealed for the replay.
        let id = {
            let j = Journal::open(&db).unwrap();
            let pending = j.pending().unwrap();
            assert_eq!(pending.len(), 1, "{kind}");
            assert_eq!(pending[0].attempts, 1, "{kind}");
            assert!(pending[0].has_key, "{kind}");
            pending[0].id
        };
        let replay = bin(&["pending", "--replay"]);
        let out = String::from_utf8_lossy(&replay.stdout).into_owned()
            + &String::from_utf8_lossy(&replay.stderr);
        // Resent with the same id and settled, or held for review.
        let resent = matches!(kind, "grant" | "renew" | "Cancel" | "offer");
        if resent {
            assert_eq!(replay.status.code(), Some(0), "{kind}: {out}");
            assert!(out.contains("done"), "{kind}: {out}");
        } else {
            assert_eq!(replay.status.code(), Some(4), "{kind}: {out}");
            let resolve = bin(&[
                "pending",
                "--resolve",
                &id.to_string(),
                "--applied",
                "--note",
                "checked the sandbox",
            ]);
            assert_eq!(
                resolve.status.code(),
                Some(0),
                "{kind}: {}",
                String::from_utf8_lossy(&resolve.stderr)
            );
        }

        // The sandbox's state: applied exactly once.
        match kind {
            "grant" => assert_eq!(rig.items(&ckey, FREE_SKIN).await.len(), 1, "granted once"),
            "renew" => {}
            "ack" => {
                let sas = rig.client.clawback_sas().await.unwrap().value;
                let left = rig.client.queue_peek(&sas.uri, 32).await.unwrap().value;
                assert!(
                    left.iter().all(|e| spec["mid"] != e.message.message_id),
                    "the event is gone"
                );
            }
            "offer" => {
                let claims = offer_claims(&rig, "ada");
                assert_eq!(claims.len(), 1, "claimed once: {claims:?}");
                assert_eq!(
                    claims[spec["tracking"].as_str().unwrap()],
                    "receipt-sigkill"
                );
            }
            change => {
                let after = rig.recurrence(&gus_p).await;
                let (was, is) = (before.expiration_time, after.expiration_time);
                match change {
                    "Cancel" => {
                        assert!(!after.auto_renew);
                        assert_eq!(is, was, "a cancel keeps the expiry");
                    }
                    "Extend" => {
                        let gained = is.unwrap().0 - was.unwrap().0;
                        assert_eq!(gained.num_days(), 5, "extended once, not twice");
                    }
                    "Refund" => assert_ne!(is, was, "refunded"),
                    _ => assert!(!after.auto_renew, "toggled once, not back"),
                }
            }
        }

        // Journal, audit log and `audit --json` tell one story.
        let j = Journal::open(&db).unwrap();
        let w = j.write(id).unwrap().unwrap();
        assert_eq!(w.state, WriteState::Done, "{kind}");
        assert!(!w.has_key, "{kind}");
        assert!(j.pending().unwrap().is_empty(), "{kind}");
        let events = rig::events_of(&j, id);
        let want: &[&str] = match kind {
            _ if resent => &["attempt", "replay", "done"],
            // The replay of an ack whose first delete worked finds it gone
            // (404): evidence, not a refusal; then resolved by hand.
            "ack" => &["attempt", "replay", "no_answer", "done"],
            _ => &["attempt", "done"],
        };
        assert_eq!(events, want, "{kind}: the killed process wrote no outcome");
        let audit = bin(&["audit", "--json"]);
        assert!(audit.status.success(), "{kind}");
        let rows: Vec<Value> = serde_json::from_slice(&audit.stdout).unwrap();
        let exported: Vec<&str> = rows
            .iter()
            .filter(|r| r["write_id"] == id)
            .filter_map(|r| r["event"].as_str())
            .collect();
        assert_eq!(exported, want, "{kind}: the export agrees");
        for (p, bytes) in journal_files(&data) {
            for s in [&ckey, &cora_p, &ada_p, &gus_p, &secret] {
                assert!(
                    !contains(&bytes, s.as_bytes()),
                    "{kind}: {p:?} holds a secret"
                );
            }
        }
    }
}
