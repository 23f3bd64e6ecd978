//! Issue 20 point 2: loopback means loopback. `check_url` compares the
//! parsed host, and the client never sends a loopback request (the
//! embedded sandbox's secrets) through `HTTP_PROXY` / `ALL_PROXY`, while a
//! remote host still goes through the proxy the environment names.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use storedesk::clock::Clock;
use storedesk::config::check_url;
use storedesk::sandbox::{SandboxOptions, start};

const BIN: &str = env!("CARGO_BIN_EXE_storedesk");
const NOW: &str = "2026-11-23T10:00:00Z";

#[test]
fn only_a_loopback_host_gets_plain_http() {
    for ok in [
        "http://127.0.0.1:8080/",
        "http://127.0.0.1",
        "http://127.3.4.5:1/x",
        "http://localhost:9/",
        "http://LOCALHOST/",
        "http://[::1]:8080/",
        "https://example.com/",
    ] {
        assert!(check_url("f", ok, false).is_ok(), "{ok}");
    }
    for bad in [
        // userinfo before the real host
        "http://127.0.0.1@evil.example/",
        "http://127.0.0.1:80@evil.example/",
        // a name that merely starts like a loopback address
        "http://127.evil.example/",
        "http://localhost.evil.example/",
        "http://[::1].evil.example/",
        "http://10.0.0.1/",
        "http:///nohost",
        "ftp://127.0.0.1/",
        "not a url",
    ] {
        let e = check_url("collections_url", bad, false).unwrap_err();
        assert!(e.contains("collections_url"), "{bad}: {e}");
    }
    // Credentials in a URL are refused even over HTTPS: they would be sent
    // to whatever host follows them.
    assert!(check_url("f", "https://user:pw@example.com/", false).is_err());
    assert!(check_url("f", "http://10.0.0.1/", true).is_ok());
}

/// A listener that answers every connection with 502 and records the
/// request lines it saw: what a proxy would have been told.
fn recording_proxy() -> (String, Arc<Mutex<Vec<String>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = format!("http://{}", l.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    std::thread::spawn(move || {
        for c in l.incoming() {
            let Ok(mut c) = c else { continue };
            let _ = c.set_read_timeout(Some(Duration::from_secs(2)));
            let mut buf = [0u8; 4096];
            let n = c.read(&mut buf).unwrap_or(0);
            let text = String::from_utf8_lossy(&buf[..n]).to_string();
            s.lock()
                .unwrap()
                .push(text.lines().next().unwrap_or("").to_string());
            let _ = c.write_all(
                b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    (addr, seen)
}

fn with_proxy(cmd: &mut Command, proxy: &str) {
    for v in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        cmd.env(v, proxy);
    }
    cmd.env_remove("NO_PROXY").env_remove("no_proxy");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_embedded_sandbox_is_never_reached_through_a_proxy() {
    let dir = tempfile::tempdir().unwrap();
    let now = chrono::DateTime::parse_from_rfc3339(NOW).unwrap().to_utc();
    let sb = start(SandboxOptions {
        data_dir: dir.path().join("data").join("sandbox"),
        port: 0,
        clock: Clock::fixed(now),
        faults: vec![],
    })
    .await
    .unwrap();
    let key = sb.info.customers[0].collections_key.clone();
    let secret = sb.info.client_secret.clone();
    sb.shutdown().await;
    let (proxy, seen) = recording_proxy();
    let empty = dir.path().join("empty.toml");
    std::fs::write(&empty, "").unwrap();
    let mut cmd = Command::new(BIN);
    cmd.arg("--data-dir")
        .arg(dir.path().join("data"))
        .arg("--config")
        .arg(&empty)
        .args(["--now", NOW, "entitlements", "--key", &key, "--json"])
        .stdin(Stdio::null());
    with_proxy(&mut cmd, &proxy);
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        seen.lock().unwrap().is_empty(),
        "loopback requests crossed the proxy: {:?}",
        seen.lock().unwrap()
    );
    assert!(!stderr.contains(&secret));

    // The same environment still sends a remote host through the proxy.
    let cfg = dir.path().join("remote.toml");
    std::fs::write(
        &cfg,
        r#"default_profile = "remote"
[profiles.remote]
environment = "sandbox"
login_url = "http://login.storedesk-proxy-check.invalid"
collections_url = "http://collections.storedesk-proxy-check.invalid"
purchase_url = "http://purchase.storedesk-proxy-check.invalid"
devcenter_url = "http://devcenter.storedesk-proxy-check.invalid"
tenant_id = "00000000-0000-4000-8000-000000000000"
client_id = "00000000-0000-4000-8000-000000000001"
client_secret_env = "STOREDESK_TEST_SECRET"
allow_insecure_http = true
timeout_secs = 5
"#,
    )
    .unwrap();
    let mut cmd = Command::new(BIN);
    cmd.arg("--data-dir")
        .arg(dir.path().join("data2"))
        .arg("--config")
        .arg(&cfg)
        .args(["--now", NOW, "entitlements", "--key", &key, "--json"])
        .env("STOREDESK_TEST_SECRET", "canary-secret-0123456789")
        .stdin(Stdio::null());
    with_proxy(&mut cmd, &proxy);
    let out = cmd.output().unwrap();
    assert!(!out.status.success());
    let lines = seen.lock().unwrap().clone();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("login.storedesk-proxy-check.invalid")),
        "a remote host did not go through the proxy: {lines:?}"
    );
}
