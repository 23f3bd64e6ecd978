//! Issue 14, "exactly once, for real": the ways a write could still be
//! lost, doubled or stuck — concurrent writers, answers that cannot know,
//! 2xx answers that are not this write's, a journal that vanished, output
//! that cannot be printed. Real binary, real sandbox process, real files.

#[path = "support/rig.rs"]
mod rig;
#[path = "support/sandbox_process.rs"]
mod sandbox_process;

use rig::Rig;
use sandbox_process::{
    COINS, SandboxProcess, coins, consume_args, customer_key, start_sandbox_process,
    storedesk_with, watcher, write_config,
};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// `storedesk` against the sandbox process, with the test's data dir.
fn storedesk(dir: &Path, sb: &SandboxProcess) -> Command {
    storedesk_at(dir, sb, &dir.join("data"))
}

/// The same with another data dir.
fn storedesk_at(dir: &Path, sb: &SandboxProcess, data: &Path) -> Command {
    let config = dir.join("config.toml");
    if !config.exists() {
        write_config(dir, &sb.info, 5);
    }
    storedesk_with(&config, data, sb.secret())
}

// ---------------------------------------------------------------------------
// Point 3: concurrent headless writers on one data dir
// ---------------------------------------------------------------------------

/// Sixteen `storedesk consume` processes at once on one data dir: a write
/// in flight in another live process is waited for (or named as such),
/// never reported as "pending from an earlier run", and every consume that
/// says done was applied exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_headless_consumes_are_told_the_truth() {
    const N: usize = 16;
    let dir = tempfile::tempdir().unwrap();
    // A little latency on each consume, so the writes overlap.
    let sb = start_sandbox_process(dir.path(), &["consume:latency=150ms"]);
    let key = customer_key(&sb, "cora");
    let watcher = watcher(&sb);
    assert_eq!(coins(&watcher, &key).await, 25);
    let children: Vec<Child> = (0..N)
        .map(|_| {
            storedesk(dir.path(), &sb)
                .args(consume_args(&key, "1"))
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let mut done = 0;
    for out in &outputs {
        let err = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            !err.contains("earlier run") && !err.contains("still pending"),
            "a write in flight elsewhere was called pending: {err}"
        );
        match out.status.code() {
            Some(0) => {
                assert!(stdout.starts_with("done: #"), "{stdout}");
                done += 1;
            }
            Some(3) => assert!(
                err.contains("being sent by another storedesk (pid ")
                    && err.contains("wait or retry"),
                "{err}"
            ),
            other => panic!("exit {other:?}: {stdout} {err}"),
        }
    }
    assert!(done >= N / 2, "most writers got through: {done} of {N}");
    assert_eq!(
        coins(&watcher, &key).await,
        25 - done as i64,
        "each done consume applied exactly once"
    );
    let listed = storedesk(dir.path(), &sb).arg("pending").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&listed.stdout),
        "no pending writes\n"
    );
    assert_eq!(listed.status.code(), Some(0));
}

/// A consume hangs in process A (applied, answer never comes); process B,
/// started meanwhile, names A by pid and waits instead of calling A's write
/// "pending from an earlier run"; when A gives up (timeout → pending), B
/// replays A's write with its own trackingId (no second charge) and then
/// sends its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_waits_for_a_live_one_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let sb = start_sandbox_process(dir.path(), &["consume:hang-after-commit"]);
    let key = customer_key(&sb, "cora");
    let watcher = watcher(&sb);
    let a = storedesk(dir.path(), &sb)
        .args(consume_args(&key, "2"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let a_pid = a.id();
    // Wait until A's consume was applied and hangs.
    for _ in 0..100 {
        if coins(&watcher, &key).await == 23 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(coins(&watcher, &key).await, 23);
    let b = storedesk(dir.path(), &sb)
        .args(consume_args(&key, "1"))
        .output()
        .unwrap();
    let a = a.wait_with_output().unwrap();
    let b_err = String::from_utf8_lossy(&b.stderr);
    assert_eq!(a.status.code(), Some(4), "A's answer never came: pending");
    assert!(
        b_err.contains(&format!("being sent by another storedesk (pid {a_pid})")),
        "{b_err}"
    );
    assert!(!b_err.contains("earlier run"), "{b_err}");
    assert_eq!(b.status.code(), Some(0), "{b_err}");
    assert!(b_err.contains("done"), "B settled A's write: {b_err}");
    assert_eq!(coins(&watcher, &key).await, 22, "A's 2 once, B's 1 once");
}

// ---------------------------------------------------------------------------
// In-process rig: the embedded sandbox, a journal file, the Store client
// ---------------------------------------------------------------------------

use storedesk::journal::{self, Journal, WriteOutcome, WriteRequest, WriteState};

fn pending_reason(o: &WriteOutcome) -> &str {
    match o {
        WriteOutcome::Pending { reason, .. } => reason,
        other => panic!("expected pending, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------
// Point 1: a replay never concludes "nothing applied" from a refusal
// ---------------------------------------------------------------------------

/// The first consume was applied but its answer lost; the replay gets 401
/// (the key expired meanwhile). That refusal says nothing about the first
/// attempt: the write stays pending, key kept, with the 401 as evidence —
/// and a later replay still settles it done, applied once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_replay_leaves_the_write_unknown() {
    let rig = Rig::start_with(&["consume:reset-after-commit"]).await;
    let key = rig.key("cora");
    let req = WriteRequest::consume(&key, COINS, Some(1), None);
    let id = rig.execute(&req).await.write_id();
    assert_eq!(rig.balance(&key).await, 24, "the first attempt applied");
    for status in ["401", "404", "400"] {
        rig.fault(&format!("consume:{status}"));
        let outcome = rig.replay().await;
        let reason = pending_reason(&outcome);
        assert!(
            reason.contains(status) && reason.contains("outcome unknown"),
            "{reason}"
        );
        assert!(reason.contains(&format!("resolve #{id}")), "{reason}");
        // The key-expired hint is given for 401 only.
        assert_eq!(reason.contains("renewed"), status == "401", "{reason}");
        let w = rig.journal.write(id).unwrap().unwrap();
        assert_eq!(w.state, WriteState::Pending, "after a {status} on replay");
        assert!(w.has_key, "still replayable");
        assert!(w.last_error.unwrap().contains(status));
    }
    assert!(rig.events(id).contains(&"no_answer".to_string()));
    let outcome = rig.replay().await;
    assert!(matches!(outcome, WriteOutcome::Done { .. }), "{outcome:?}");
    assert_eq!(rig.balance(&key).await, 24, "applied exactly once");
}

/// A clawback acknowledgement whose answer was lost: the replay gets 404
/// MessageNotFound (the first delete worked). Not "refused, nothing
/// applied": the write is held for the operator with the 404 as evidence.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_clawback_ack_is_not_called_refused_on_404() {
    let rig = Rig::start_with(&[]).await;
    let sas = rig.client.clawback_sas().await.unwrap().value;
    let got = rig
        .client
        .queue_receive(&sas.uri, 1, Some(300))
        .await
        .unwrap()
        .value;
    let m = &got[0].message;
    let req = WriteRequest::clawback_ack(&m.message_id, m.pop_receipt.as_deref().unwrap(), "o-1");
    rig.fault("queue:reset-after-commit");
    let id = rig.execute(&req).await.write_id();
    let outcome = rig.replay().await;
    let reason = pending_reason(&outcome);
    assert!(
        reason.contains("404") && reason.contains("MessageNotFound"),
        "{reason}"
    );
    let w = rig.journal.write(id).unwrap().unwrap();
    assert_eq!(w.state, WriteState::Pending);
    assert_ne!(
        rig.events(id).last().map(String::as_str),
        Some("failed"),
        "never settled as refused"
    );
    let _ = &rig.dir;
}

// ---------------------------------------------------------------------------
// Point 2: a 2xx settles "done" only when it is this write's answer
// ---------------------------------------------------------------------------

/// 200 with `{}`, 200 with an error body, and 200 naming another
/// trackingId each leave the consume pending with the reason; a replay
/// with the same trackingId then settles it, applied exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consume_2xx_that_is_not_its_answer_stays_pending() {
    for (fault, applied, why) in [
        ("empty-200", false, "no trackingId"),
        ("error-200", false, "no trackingId"),
        ("other-200", true, "names trackingId"),
    ] {
        let rig = Rig::start_with(&[&format!("consume:{fault}")]).await;
        let key = rig.key("cora");
        let req = WriteRequest::consume(&key, COINS, Some(1), None);
        let outcome = rig.execute(&req).await;
        let reason = pending_reason(&outcome);
        assert!(
            reason.contains("not as the answer to this write") && reason.contains(why),
            "{fault}: {reason}"
        );
        let w = rig.journal.write(outcome.write_id()).unwrap().unwrap();
        assert_eq!(w.state, WriteState::Pending, "{fault}");
        assert!(w.last_error.unwrap().contains(why), "{fault}: reason kept");
        let between = if applied { 24 } else { 25 };
        assert_eq!(rig.balance(&key).await, between, "{fault}");
        let outcome = rig.replay().await;
        assert!(matches!(outcome, WriteOutcome::Done { .. }), "{outcome:?}");
        assert_eq!(rig.balance(&key).await, 24, "{fault}: applied once");
    }
}

/// A grant and a subscription cancel answered with another write's ids.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_or_cancel_answered_for_another_write_stays_pending() {
    let rig = Rig::start_with(&["grant:other-200", "recurrenceChange:other-200"]).await;
    let c = rig.sandbox.info.customers.iter().find(|c| c.name == "cora");
    let pkey = c.unwrap().purchase_key.clone();
    let grant = WriteRequest::grant(
        &pkey,
        &journal::GrantParams {
            product_id: "9NSDDLC00002".into(),
            sku_id: "0010".into(),
            availability_id: "9NSDAV000004".into(),
            market: "US".into(),
            language: "en-US".into(),
            quantity: 1,
            dev_offer_id: None,
        },
        None,
    );
    let reason = pending_reason(&rig.execute(&grant).await).to_string();
    assert!(reason.contains("names orderId"), "{reason}");
    assert!(matches!(rig.replay().await, WriteOutcome::Done { .. }));

    let g = rig.sandbox.info.customers.iter().find(|c| c.name == "gus");
    let gkey = g.unwrap().purchase_key.clone();
    let recs = rig
        .client
        .recurrences_page(&storedesk::store::model::RecurrencesQueryRequest {
            b2b_key: gkey.clone(),
            sbx: None,
            continuation_token: None,
        })
        .await
        .unwrap()
        .value;
    let rid = recs.items[0].id.clone();
    let cancel = WriteRequest::recurrence_change(&gkey, &rid, "Cancel", None, None);
    let reason = pending_reason(&rig.execute(&cancel).await).to_string();
    assert!(
        reason.contains("names id") && reason.contains(&rid),
        "{reason}"
    );
    assert!(matches!(rig.replay().await, WriteOutcome::Done { .. }));
}

// ---------------------------------------------------------------------------
// Point 6: the exit code of a write is the write's
// ---------------------------------------------------------------------------

/// stdout is /dev/full: the consume is applied, so it exits 0 (a script
/// that retries on failure must not consume twice), with the output
/// failure and the result on stderr. The same for `pending --replay`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_applied_write_exits_as_applied_when_stdout_is_full() {
    let dir = tempfile::tempdir().unwrap();
    let sb = start_sandbox_process(dir.path(), &["consume:reset-after-commit"]);
    let key = customer_key(&sb, "cora");
    let watcher = watcher(&sb);
    let full = || {
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap()
    };
    // The first consume loses its answer (pending, exit 4).
    let first = storedesk(dir.path(), &sb)
        .args(consume_args(&key, "1"))
        .stdout(full())
        .output()
        .unwrap();
    assert_eq!(first.status.code(), Some(4));
    // The replay settles it done: exit 0 though stdout cannot be written.
    let replay = storedesk(dir.path(), &sb)
        .args(["pending", "--replay"])
        .stdout(full())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&replay.stderr);
    assert_eq!(replay.status.code(), Some(0), "{err}");
    assert!(
        err.contains("could not be printed") && err.contains("done"),
        "{err}"
    );
    // A fresh consume, done: exit 0, result on stderr.
    let out = storedesk(dir.path(), &sb)
        .args(consume_args(&key, "2"))
        .stdout(full())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("could not be printed") && err.contains("done: #2"),
        "{err}"
    );
    assert_eq!(coins(&watcher, &key).await, 22, "1 + 2, each once");
}

// ---------------------------------------------------------------------------
// Points 5 and 6: the answer is never lost; the journal never vanishes
// silently
// ---------------------------------------------------------------------------

/// The journal file is deleted while a consume is in flight. The Store's
/// answer is not reported "done" in a file nobody will read: it is kept
/// in a side file (no key in it) and shown as "answered, not recorded"
/// with its content; opening the journal again is refused with what may
/// have been lost, instead of starting an empty one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journal_deleted_in_flight_keeps_the_answer_and_is_reported() {
    let rig = Rig::start_with(&["consume:latency=700ms"]).await;
    let key = rig.key("cora");
    let db = rig.dir.path().join("journal.sqlite");
    let req = WriteRequest::consume(&key, COINS, Some(1), None);
    let send = journal::execute(&rig.journal, &rig.client, &req, &rig.actor);
    let delete = async {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
        }
    };
    let (outcome, ()) = tokio::join!(send, delete);
    let reason = pending_reason(outcome.as_ref().unwrap());
    assert!(reason.starts_with("answered, not recorded"), "{reason}");
    assert!(reason.contains("HTTP 200 (newQuantity 24"), "{reason}");
    assert!(reason.contains("deleted or replaced"), "{reason}");
    assert_eq!(rig.balance(&key).await, 24);
    // The side file holds the answer and no key.
    let kept = journal::kept::for_write(&db, 1, "consume", &req.idempotency_key);
    assert_eq!(kept.len(), 1);
    assert!(kept[0].answer.contains("newQuantity 24"), "{:?}", kept[0]);
    let answers = journal::kept::dir(&db);
    for e in std::fs::read_dir(&answers).unwrap() {
        let bytes = std::fs::read(e.unwrap().path()).unwrap();
        assert!(!String::from_utf8_lossy(&bytes).contains(&key));
    }
    // Reopening: reported, not recreated.
    let err = Journal::open(&db).unwrap_err().to_string();
    assert!(
        err.contains("is missing")
            && err.contains("seal key")
            && err.contains("1 Store answer(s) kept"),
        "{err}"
    );
    assert!(!db.exists(), "no new journal was created");
}

/// A journal emptied (truncated) between runs, through the binary: every
/// command that opens it says so and exits non-zero; nothing is created.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_emptied_journal_is_reported_not_recreated() {
    let dir = tempfile::tempdir().unwrap();
    let sb = start_sandbox_process(dir.path(), &[]);
    let key = customer_key(&sb, "cora");
    let ok = storedesk(dir.path(), &sb)
        .args(consume_args(&key, "1"))
        .output()
        .unwrap();
    assert_eq!(ok.status.code(), Some(0));
    let db = dir.path().join("data").join("journal.sqlite");
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    std::fs::write(&db, b"").unwrap();
    for args in [vec!["pending"], vec!["audit"], consume_args(&key, "1")] {
        let out = storedesk(dir.path(), &sb).args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains("is empty") && err.contains("record of earlier runs is gone"),
            "{args:?}: {err}"
        );
    }
    assert_eq!(std::fs::metadata(&db).unwrap().len(), 0, "left as found");
    assert_eq!(
        coins(&watcher(&sb), &key).await,
        24,
        "the second consume was not sent"
    );
}

/// A row with an unknown kind (a newer storedesk, or damage) is named and
/// skipped: `pending` lists the others, replay settles them, and a new
/// write is not blocked by it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_bad_row_never_blocks_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let sb = start_sandbox_process(dir.path(), &["consume:reset-after-commit"]);
    let key = customer_key(&sb, "cora");
    let first = storedesk(dir.path(), &sb)
        .args(consume_args(&key, "1"))
        .output()
        .unwrap();
    assert_eq!(first.status.code(), Some(4));
    let db = dir.path().join("data").join("journal.sqlite");
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute(
            "INSERT INTO writes (kind, idempotency_key, state, profile, environment, operator, \
             customer_fp, body, summary, expected_effect, created_at) VALUES ('teleport', 't-1', \
             'pending', 'qa', 'sandbox', 'x', 'fp', '{}', 'teleport a sword', '', '2025-01-01')",
            [],
        )
        .unwrap();
    let listed = storedesk(dir.path(), &sb).arg("pending").output().unwrap();
    let (out, err) = (
        String::from_utf8_lossy(&listed.stdout),
        String::from_utf8_lossy(&listed.stderr),
    );
    assert_eq!(listed.status.code(), Some(4), "{out} {err}");
    assert!(
        out.contains("#1 ") && out.contains("consume 1 × 9NSDCOIN0500"),
        "{out}"
    );
    assert!(
        err.contains("#2 cannot be read") && err.contains("unknown write kind \"teleport\""),
        "{err}"
    );
    let replay = storedesk(dir.path(), &sb)
        .args(["pending", "--replay"])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&replay.stdout);
    assert_eq!(replay.status.code(), Some(0), "{out}");
    assert!(out.contains("#1 ") && out.contains("done"), "{out}");
    let next = storedesk(dir.path(), &sb)
        .args(consume_args(&key, "1"))
        .output()
        .unwrap();
    assert_eq!(
        next.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&next.stderr)
    );
    assert_eq!(coins(&watcher(&sb), &key).await, 23);
}

/// A damaged seal key: the audit log still reads, `pending` says exactly
/// which pending writes cannot be replayed, a replay says why, and a new
/// write is refused before anything is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_seal_key_leaves_the_audit_readable() {
    let dir = tempfile::tempdir().unwrap();
    let sb = start_sandbox_process(dir.path(), &["consume:reset-after-commit"]);
    let key = customer_key(&sb, "cora");
    let first = storedesk(dir.path(), &sb)
        .args(consume_args(&key, "1"))
        .output()
        .unwrap();
    assert_eq!(first.status.code(), Some(4));
    let seal = dir.path().join("data").join("journal.sqlite-seal.key");
    std::fs::write(&seal, b"short").unwrap();
    let audit = storedesk(dir.path(), &sb).arg("audit").output().unwrap();
    let out = String::from_utf8_lossy(&audit.stdout);
    assert_eq!(
        audit.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&audit.stderr)
    );
    assert!(out.contains("consume 1 × 9NSDCOIN0500"), "{out}");
    let listed = storedesk(dir.path(), &sb).arg("pending").output().unwrap();
    let out = String::from_utf8_lossy(&listed.stdout);
    assert_eq!(listed.status.code(), Some(4));
    assert!(
        out.contains("#1 ") && out.contains("CANNOT be replayed: the seal key is damaged"),
        "{out}"
    );
    let replay = storedesk(dir.path(), &sb)
        .args(["pending", "--replay"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&replay.stderr);
    assert_eq!(replay.status.code(), Some(4), "{err}");
    assert!(err.contains("#1 ") && err.contains("is damaged"), "{err}");
    let next = storedesk(dir.path(), &sb)
        .args(consume_args(&key, "1"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&next.stderr);
    assert_ne!(next.status.code(), Some(0), "{err}");
    assert!(err.contains("is damaged"), "{err}");
    assert_eq!(
        coins(&watcher(&sb), &key).await,
        24,
        "only the first applied"
    );
}

// ---------------------------------------------------------------------------
// Point 4: a clawback acknowledgement can always be settled
// ---------------------------------------------------------------------------

impl Rig {
    /// Receive clawback events, visible again after `visibility` seconds:
    /// (message id, pop receipt) of the first.
    async fn receive(&self, visibility: u32) -> (String, String) {
        let sas = self.client.clawback_sas().await.unwrap().value;
        let got = self
            .client
            .queue_receive(&sas.uri, 1, Some(visibility))
            .await
            .unwrap()
            .value;
        let m = &got[0].message;
        (m.message_id.clone(), m.pop_receipt.clone().unwrap())
    }

    async fn queued_ids(&self) -> Vec<String> {
        let sas = self.client.clawback_sas().await.unwrap().value;
        let got = self.client.queue_peek(&sas.uri, 32).await.unwrap().value;
        got.into_iter().map(|e| e.message.message_id).collect()
    }
}

/// An acknowledgement refused for a stale pop receipt (the event was
/// received again since) is retried with the fresh receipt: the same
/// journal entry's next attempt, not "already in the journal".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_clawback_ack_is_retried_with_a_fresh_receipt() {
    let rig = Rig::start_with(&[]).await;
    let (mid, stale) = rig.receive(1).await;
    tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
    let (again, fresh) = rig.receive(300).await;
    assert_eq!(again, mid, "the same event, received again");
    assert_ne!(stale, fresh);

    let first = rig
        .execute(&WriteRequest::clawback_ack(&mid, &stale, "o-1"))
        .await;
    let WriteOutcome::Failed {
        write_id, reason, ..
    } = &first
    else {
        panic!("a stale receipt is refused on the first attempt: {first:?}")
    };
    assert!(reason.contains("PopReceipt"), "{reason}");

    let retry = journal::execute(
        &rig.journal,
        &rig.client,
        &WriteRequest::clawback_ack(&mid, &fresh, "o-1"),
        &rig.actor,
    )
    .await;
    let retry = retry.expect("a fresh receipt is the next attempt, not a duplicate");
    assert!(matches!(retry, WriteOutcome::Done { .. }), "{retry:?}");
    assert_eq!(retry.write_id(), *write_id, "the same journal entry");
    let w = rig.journal.write(*write_id).unwrap().unwrap();
    assert_eq!(w.state, WriteState::Done);
    assert_eq!(w.attempts, 2);
    assert_eq!(
        w.target.as_deref(),
        Some(mid.as_str()),
        "identity: the event"
    );
    assert_eq!(
        rig.events(*write_id),
        ["attempt", "failed", "attempt", "done"],
        "each attempt audited"
    );
    assert!(!rig.queued_ids().await.contains(&mid), "the event is gone");
    // Done is final: acknowledging it again is refused as a duplicate.
    let again = journal::execute(
        &rig.journal,
        &rig.client,
        &WriteRequest::clawback_ack(&mid, &fresh, "o-1"),
        &rig.actor,
    )
    .await;
    assert!(again.is_err(), "{again:?}");
}

/// An acknowledgement left pending (a 500) while its receipt went stale:
/// acknowledging with a fresh receipt is that write's next attempt, and a
/// later replay would use the fresh receipt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_clawback_ack_takes_a_fresh_receipt() {
    let rig = Rig::start_with(&[]).await;
    let (mid, stale) = rig.receive(1).await;
    rig.fault("queue:500");
    let first = rig
        .execute(&WriteRequest::clawback_ack(&mid, &stale, "o-1"))
        .await;
    let id = first.write_id();
    assert_eq!(
        rig.journal.write(id).unwrap().unwrap().state,
        WriteState::Pending,
        "{first:?}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
    let (_, fresh) = rig.receive(300).await;
    rig.fault("queue:500");
    let second = journal::execute(
        &rig.journal,
        &rig.client,
        &WriteRequest::clawback_ack(&mid, &fresh, "o-1"),
        &rig.actor,
    )
    .await
    .expect("the next attempt of the same entry");
    assert_eq!(second.write_id(), id);
    assert_eq!(rig.journal.write(id).unwrap().unwrap().attempts, 2);
    // The replay sends the fresh receipt: it settles.
    let outcome = rig.replay().await;
    assert!(matches!(outcome, WriteOutcome::Done { .. }), "{outcome:?}");
    assert!(!rig.queued_ids().await.contains(&mid));
}

// ---------------------------------------------------------------------------
// Point 6 (the rest): a journal that cannot be used says so; nothing is sent
// ---------------------------------------------------------------------------

/// A journal file full of garbage: a clear message naming the file, no
/// panic, and the consume is not sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_journal_file_is_reported_and_nothing_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let sb = start_sandbox_process(dir.path(), &[]);
    let key = customer_key(&sb, "cora");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let garbage: Vec<u8> = (0..8192u32).map(|i| (i * 7 + 13) as u8).collect();
    std::fs::write(data.join("journal.sqlite"), &garbage).unwrap();
    let out = storedesk(dir.path(), &sb)
        .args(consume_args(&key, "1"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_ne!(out.status.code(), Some(0), "{err}");
    assert_ne!(out.status.code(), Some(101), "no panic: {err}");
    assert!(err.contains("journal.sqlite"), "names the file: {err}");
    assert!(
        err.contains("not a database") || err.contains("corrupt"),
        "says what is wrong: {err}"
    );
    assert!(err.contains("nothing was recorded or sent"), "{err}");
    assert!(err.contains("Move it aside"), "says what to do: {err}");
    assert_eq!(coins(&watcher(&sb), &key).await, 25, "nothing was sent");
    assert_eq!(
        std::fs::read(data.join("journal.sqlite")).unwrap(),
        garbage,
        "the damaged file is left as it was, for the operator"
    );
}

/// A data dir that cannot be created (a path under a regular file: tests
/// run as root, so permissions would not stop them): a clear message, and
/// nothing is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unwritable_journal_dir_is_reported_and_nothing_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let sb = start_sandbox_process(dir.path(), &[]);
    let key = customer_key(&sb, "cora");
    let file = dir.path().join("a-file");
    std::fs::write(&file, "not a directory").unwrap();
    let data = file.join("sub");
    let out = storedesk_at(dir.path(), &sb, &data)
        .args(consume_args(&key, "1"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_ne!(out.status.code(), Some(0), "{err}");
    assert_ne!(out.status.code(), Some(101), "no panic: {err}");
    assert!(err.contains("a-file"), "names the path: {err}");
    assert!(err.contains("nothing was recorded or sent"), "{err}");
    assert_eq!(coins(&watcher(&sb), &key).await, 25, "nothing was sent");
}
