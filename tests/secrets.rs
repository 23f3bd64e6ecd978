//! Issue 20 points 6 and 12: secrets from commands are bounded, and a
//! canary secret and canary keys appear nowhere they should not.

#[path = "support/pty.rs"]
mod pty;
#[path = "support/rig.rs"]
mod rig;
#[path = "support/sandbox_process.rs"]
mod sandbox_process;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use storedesk::clock::Clock;
use storedesk::sandbox::{SandboxOptions, start};

const BIN: &str = env!("CARGO_BIN_EXE_storedesk");
const NOW: &str = "2026-11-23T10:00:00Z";

/// A real collections key from a throwaway sandbox.
async fn key() -> String {
    let dir = tempfile::tempdir().unwrap();
    let now = chrono::DateTime::parse_from_rfc3339(NOW).unwrap().to_utc();
    let sb = start(SandboxOptions {
        data_dir: dir.path().to_path_buf(),
        port: 0,
        clock: Clock::fixed(now),
        faults: vec![],
    })
    .await
    .unwrap();
    let k = sb.info.customers[0].collections_key.clone();
    sb.shutdown().await;
    k
}

/// `storedesk entitlements` on a profile whose secret comes from `cmd`
/// (the Store URL is never reached: nothing listens on port 9).
fn entitlements_with_secret_command(cmd: &str, key: &str) -> (Option<i32>, String, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(
        &cfg,
        format!(
            "default_profile = \"qa\"\n[profiles.qa]\nenvironment = \"sandbox\"\nsandbox_url = \"http://127.0.0.1:9\"\ntenant_id = \"{}\"\nclient_id = \"{}\"\nsecret_command = {cmd:?}\nproduct_ids = [\"9NSDCOIN0500\"]\n",
            storedesk::sandbox::TENANT,
            storedesk::sandbox::CLIENT_ID,
        ),
    )
    .unwrap();
    let started = Instant::now();
    let out = Command::new(BIN)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .arg("--config")
        .arg(&cfg)
        .args(["--now", NOW, "entitlements", "--key", key])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        started.elapsed(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_secret_command_is_a_configuration_error_that_shows_nothing_of_it() {
    let key = key().await;
    let k = key.clone();
    let rows = tokio::task::spawn_blocking(move || {
        [
            // Fails, and its stderr and stdout carry what could be the secret.
            (
                "echo canary-cmd-secret >&2; echo canary-cmd-secret; exit 4",
                "exit status: 4",
            ),
            ("true", "printed nothing"),
            ("sleep 30", "did not finish within 5 s"),
        ]
        .map(|(cmd, said)| (cmd, said, entitlements_with_secret_command(cmd, &k)))
    })
    .await
    .unwrap();
    for (cmd, said, (code, err, took)) in rows {
        assert_eq!(code, Some(2), "{cmd}: {err}");
        assert!(err.contains("secret_command"), "{cmd}: {err}");
        assert!(err.contains("\"qa\""), "{cmd}: names the profile: {err}");
        assert!(err.contains(said), "{cmd}: {err}");
        assert!(!err.contains("canary-cmd-secret"), "{cmd}: {err}");
        assert!(!err.contains("panicked"), "{cmd}: {err}");
        assert!(took < Duration::from_secs(15), "{cmd}: took {took:?}");
    }
}

/// Every file under `dir`, recursively.
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// Point 12: the headless flows (a listing, a consume, a case file, the
/// audit export, a refused token) with the sandbox app's client secret, a
/// canary secret that needs URL-encoding, and the customer's two keys given
/// by file. Afterwards no file under the data dir and no byte of stdout or
/// stderr holds a secret or a full key (the keys are in the journal only
/// sealed; the case file and the audit name the customer by fingerprint).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canary_secrets_and_keys_appear_in_no_output_and_no_file() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let now = chrono::DateTime::parse_from_rfc3339(NOW).unwrap().to_utc();
    let sb = start(SandboxOptions {
        data_dir: dir.path().join("sandbox-state"),
        port: 0,
        clock: Clock::fixed(now),
        faults: vec![],
    })
    .await
    .unwrap();
    let cora = sb.info.customers.iter().find(|c| c.name == "cora").unwrap();
    let (ckey, pkey) = (cora.collections_key.clone(), cora.purchase_key.clone());
    let secret = sb.info.client_secret.clone();
    let canary = "cAn4ry+S3cr/t=~xyzzy-0042";
    let canary_enc: String = url::form_urlencoded::byte_serialize(canary.as_bytes()).collect();
    let kf = dir.path().join("ckey");
    let pf = dir.path().join("pkey");
    std::fs::write(&kf, &ckey).unwrap();
    std::fs::write(&pf, &pkey).unwrap();
    let cfg = dir.path().join("c.toml");
    let profile = |name: &str, var: &str| {
        format!(
            "[profiles.{name}]\nenvironment = \"sandbox\"\nsandbox_url = \"{}\"\ntenant_id = \"{}\"\nclient_id = \"{}\"\nclient_secret_env = \"{var}\"\nproduct_ids = [\"9NSDCOIN0500\"]\ntimeout_secs = 30\n",
            sb.info.base_url, sb.info.tenant, sb.info.client_id
        )
    };
    std::fs::write(
        &cfg,
        profile("qa", "CANARY_QA_SECRET") + &profile("bad", "CANARY_BAD_SECRET"),
    )
    .unwrap();
    let data = dir.path().join("data");
    let case_out = data.join("exports").join("cora-case.md");
    std::fs::create_dir_all(case_out.parent().unwrap()).unwrap();
    let kf_s = kf.to_str().unwrap().to_string();
    let pf_s = pf.to_str().unwrap().to_string();
    let case_s = case_out.to_str().unwrap().to_string();
    let runs: Vec<(&str, Vec<String>)> = [
        ("qa", vec!["entitlements", "--key-file", &kf_s, "--json"]),
        (
            "qa",
            vec![
                "consume",
                "--key-file",
                &kf_s,
                "--product",
                "9NSDCOIN0500",
                "--quantity",
                "1",
                "--yes",
            ],
        ),
        (
            "qa",
            vec![
                "case",
                "--key-file",
                &kf_s,
                "--purchase-key-file",
                &pf_s,
                "--out",
                &case_s,
            ],
        ),
        ("qa", vec!["audit", "--json"]),
        ("bad", vec!["entitlements", "--key-file", &kf_s]),
    ]
    .into_iter()
    .map(|(p, a)| (p, a.into_iter().map(String::from).collect()))
    .collect();
    let (data2, cfg2, secret2) = (data.clone(), cfg.clone(), secret.clone());
    let outputs = tokio::task::spawn_blocking(move || {
        runs.into_iter()
            .map(|(p, args)| {
                let out = Command::new(BIN)
                    .arg("--data-dir")
                    .arg(&data2)
                    .arg("--config")
                    .arg(&cfg2)
                    .args(["--profile", p, "--log-level", "debug"])
                    .args(&args)
                    .env("CANARY_QA_SECRET", &secret2)
                    .env("CANARY_BAD_SECRET", canary)
                    .stdin(Stdio::null())
                    .output()
                    .unwrap();
                (format!("{p} {}", args[0]), out)
            })
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    // The flows really ran (a sweep of nothing proves nothing).
    let code = |i: usize| outputs[i].1.status.code();
    assert_eq!(
        code(0),
        Some(0),
        "{}",
        String::from_utf8_lossy(&outputs[0].1.stderr)
    );
    assert_eq!(
        code(1),
        Some(0),
        "{}",
        String::from_utf8_lossy(&outputs[1].1.stderr)
    );
    assert_eq!(
        code(2),
        Some(0),
        "{}",
        String::from_utf8_lossy(&outputs[2].1.stderr)
    );
    assert_ne!(code(4), Some(0), "a wrong secret must fail");
    assert!(case_out.exists());
    let forbidden = [
        ("the client secret", secret.as_str()),
        ("the canary secret", canary),
        ("the canary secret URL-encoded", canary_enc.as_str()),
        ("the collections key", ckey.as_str()),
        ("the purchase key", pkey.as_str()),
    ];
    let mut swept = 0;
    for (what, o) in &outputs {
        for (stream, bytes) in [("stdout", &o.stdout), ("stderr", &o.stderr)] {
            swept += 1;
            for (name, s) in forbidden {
                assert!(!contains(bytes, s), "{name} on {stream} of `{what}`");
            }
        }
    }
    let files = files_under(&data);
    assert!(
        files.iter().any(|f| f.ends_with("storedesk.log"))
            && files.iter().any(|f| f.ends_with("journal.sqlite")),
        "{files:?}"
    );
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        swept += 1;
        for (name, s) in forbidden {
            assert!(!contains(&bytes, s), "{name} in {}", f.display());
        }
    }
    #[cfg(unix)]
    for f in [
        data.join("logs/storedesk.log"),
        data.join("journal.sqlite"),
        case_out.clone(),
    ] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&f).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", f.display());
    }
    assert!(swept >= 12, "swept {swept}");
    sb.shutdown().await;
}

/// Point 7: a serde error about a request body restored with the customer
/// key (a damaged or hand-edited journal row whose key sits where a number
/// belongs) says what is wrong and never carries the key — not in the
/// outcome, not in the journal row, not in the audit log; on a first
/// attempt and on a replay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_serde_error_about_a_restored_body_never_reaches_the_audit_log() {
    use storedesk::journal::{self, AuditFilter, WriteOutcome, WriteRequest};
    let rig = rig::Rig::start(Vec::new()).await;
    let key = rig.key("cora");
    // The key where the quantity belongs: the body cannot decode.
    let mut bad = WriteRequest::consume(&key, rig::COINS, Some(1), None);
    bad.body["removeQuantity"] = serde_json::Value::String(key.clone());
    let first = rig.execute(&bad).await;
    let WriteOutcome::Failed { reason, .. } = &first else {
        panic!("{first:?}")
    };
    assert!(reason.contains("does not decode"), "{reason}");
    assert!(!reason.contains(&key), "the key in the outcome: {reason}");

    // Recorded with the key masked, restored on replay: the same error,
    // the write held pending, nothing of the key written anywhere.
    let mut held = WriteRequest::consume(&key, rig::COINS, Some(1), None);
    held.body["removeQuantity"] = serde_json::Value::String(key.clone());
    let id = rig.journal.record(&held, &rig.actor).unwrap();
    rig.journal.release(id).unwrap();
    let reports = journal::replay_pending(&rig.journal, &rig.client, &rig.actor)
        .await
        .unwrap();
    let line = format!("{:?}", reports[0].status);
    assert!(
        line.contains("does not decode") && line.contains("(value not shown)"),
        "{line}"
    );
    assert!(!line.contains(&key), "the key in the replay report: {line}");
    for w in rig.journal.writes().unwrap() {
        for text in [w.last_error, w.result].into_iter().flatten() {
            assert!(!text.contains(&key), "the key in write #{}: {text}", w.id);
        }
    }
    let audit = rig.journal.audit(&AuditFilter::default()).unwrap();
    assert!(audit.len() >= 4, "{audit:?}");
    for e in &audit {
        let text = e.result.clone().unwrap_or_default();
        assert!(!text.contains(&key), "the key in the audit log: {text}");
        assert!(!contains(text.as_bytes(), &key[..40]), "{text}");
    }
    let sqlite: Vec<u8> = std::fs::read_dir(rig.dir.path())
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("journal.sqlite")
                && e.path().is_file()
        })
        .flat_map(|e| std::fs::read(e.path()).unwrap())
        .collect();
    assert!(!contains(&sqlite, &key), "the key in the journal's files");
    assert_eq!(rig.balance(&key).await, 25, "nothing was sent");
}

/// Point 12 in the console: a real console in a PTY on a sandbox process,
/// the customer's keys pasted (bracketed paste, as a terminal sends them),
/// then a listing, CSV and JSON exports, every pane, the case file from
/// the timeline and a key renewal (a journaled write). Afterwards the
/// client secret is nowhere — no file under the console's data dir (log,
/// journal and WAL, kept answers, exports, case file), not in `audit
/// --json`, not on the screen nor in any byte the console wrote to the
/// terminal — and neither pasted key nor any JWT is in a file or on the
/// screen: the design keeps a key only sealed in the journal of a pending
/// write, and shows it by fingerprint.
#[test]
fn console_pastes_leave_no_secret_and_no_key_anywhere() {
    let dir = tempfile::tempdir().unwrap();
    let sb = sandbox_process::start_sandbox_process(dir.path(), &[]);
    let secret = sb.secret().to_string();
    let ckey = sandbox_process::customer_key(&sb, "cora");
    let pkey = sandbox_process::demo_key(&sb, "cora", "purchase_key");
    let config = sandbox_process::write_config(dir.path(), &sb.info, 30);
    let config_text = std::fs::read_to_string(&config).unwrap();
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    let mut s = pty::start_configured(
        home,
        &config_text,
        &[("QA_SANDBOX_SECRET", &secret), ("STOREDESK_PROFILE", "qa")],
        45,
        180,
    );
    s.wait_for("calls");
    s.paste(&format!("  {ckey}\n"));
    s.wait_for_joined("Collections");
    s.paste(&pkey);
    s.wait_for_joined("Purchase");
    std::thread::sleep(Duration::from_millis(500));
    s.send(b"2");
    s.wait_for("all listed");
    for format in [b"c", b"j"] {
        s.send(b"e");
        std::thread::sleep(Duration::from_millis(300));
        s.send(format);
        s.wait_for_joined("exported");
    }
    for pane in [b"3", b"4", b"5", b"6"] {
        s.send(pane);
        std::thread::sleep(Duration::from_millis(1500));
    }
    s.send(b"e");
    s.wait_for_joined("case file");
    // Renew the case's current key (the purchase key, pasted last).
    s.send(b"1");
    pty::palette(&mut s, "renew");
    s.wait_for("Renew Purchase key");
    s.send(b"\r");
    s.wait_for_joined("renewed Purchase key");
    let screen = s.screen();
    s.send(b"q");
    assert!(s.wait_exit().success());
    s.assert_restored();
    let raw = s.raw.lock().unwrap().clone();
    let audit = Command::new(BIN)
        .arg("--data-dir")
        .arg(&data)
        .args(["audit", "--json"])
        .output()
        .unwrap();
    assert!(audit.status.success());
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&audit.stdout).unwrap();
    assert!(
        rows.iter()
            .any(|r| r["action"] == "renew_key" && r["event"] == "done"),
        "the renewal was journaled: {rows:?}"
    );

    let files = files_under(&data);
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    for want in ["storedesk.log", "journal.sqlite", ".csv", ".json", ".md"] {
        assert!(
            names.iter().any(|n| n.ends_with(want)),
            "no {want}: {names:?}"
        );
    }
    let flat = screen.replace('\n', "");
    for (name, needle) in [
        ("the client secret", secret.as_str()),
        ("the collections key", &ckey),
        ("the purchase key", &pkey),
    ] {
        for f in &files {
            assert!(
                !contains(&std::fs::read(f).unwrap(), needle),
                "{name} in {}",
                f.display()
            );
        }
        assert!(!contains(&audit.stdout, needle), "{name} in audit --json");
        assert!(!flat.contains(needle), "{name} on the screen");
        assert!(!contains(&raw, needle), "{name} written to the terminal");
    }
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        assert!(!contains(&bytes, "eyJ0eXAi"), "a JWT in {}", f.display());
    }
    assert!(files.len() >= 5, "{names:?}");
}

/// Issue 20 point 12, the committed snapshots: every screen and case file
/// a reviewer accepted is searched for what must never be shown — a whole
/// JWT (a User Store ID or a service token: header, payload and signature),
/// a SAS signature, a client-secret assignment. A snapshot that ever shows
/// one fails here, before it is committed and published.
#[test]
fn no_committed_snapshot_shows_a_key_or_a_secret() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut snaps = Vec::new();
    for dir in ["src/tui/snapshots", "tests/snapshots"] {
        snaps.extend(
            files_under(&root.join(dir))
                .into_iter()
                .filter(|p| p.extension().is_some_and(|e| e == "snap")),
        );
    }
    assert!(snaps.len() > 100, "only {} snapshots found", snaps.len());
    let is_b64url = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    for path in &snaps {
        let text = std::fs::read_to_string(path).unwrap();
        // A JWT: `eyJ` + base64url, a dot, `eyJ` + base64url, a dot, more.
        for (at, _) in text.match_indices("eyJ") {
            let rest = &text[at..];
            let parts: Vec<&str> = rest
                .split(|c: char| !is_b64url(c) && c != '.')
                .next()
                .unwrap_or("")
                .split('.')
                .collect();
            assert!(
                !(parts.len() >= 3
                    && parts[1].starts_with("eyJ")
                    && parts.iter().all(|p| p.len() >= 4)),
                "{}: a whole JWT at byte {at}",
                path.display()
            );
        }
        for needle in ["sig=", "client_secret =", "client_secret="] {
            assert!(
                !text.contains(needle),
                "{}: contains {needle:?}",
                path.display()
            );
        }
    }
}
