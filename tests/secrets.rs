//! Issue 20 points 6 and 12: secrets from commands are bounded, and a
//! canary secret and canary keys appear nowhere they should not.

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
