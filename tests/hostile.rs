//! Issue 20 point 10: hostile servers. The real binary's headless
//! `entitlements` against a loopback server that answers the token call
//! properly and every Store call with one kind of hostility. Each must end
//! with a clear error (never a hang, a panic or an unbounded read), in
//! bounded time.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use storedesk::clock::Clock;
use storedesk::sandbox::{SandboxOptions, start};

const BIN: &str = env!("CARGO_BIN_EXE_storedesk");
const NOW: &str = "2026-11-23T10:00:00Z";

#[derive(Clone, Copy, Debug)]
enum Hostility {
    TruncatedJson,
    WrongTypes,
    Huge50MiB,
    Trickle,
    RedirectLoop,
    HtmlFromProxy,
    ErrorBodyIn200,
    EndlessTokens,
    WrongContentType,
}

/// Read one request (head and Content-Length body); its request line.
fn read_request(c: &mut TcpStream) -> Option<String> {
    let mut r = BufReader::new(c.try_clone().ok()?);
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    let mut len = 0usize;
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            len = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).ok()?;
    Some(line)
}

fn respond(c: &mut TcpStream, status: &str, ctype: &str, body: &[u8], extra: &str) {
    let _ = write!(
        c,
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n{extra}\r\n",
        body.len()
    );
    let _ = c.write_all(body);
}

fn serve(c: &mut TcpStream, h: Hostility, calls: &AtomicUsize) {
    while let Some(line) = read_request(c) {
        if line.contains("/oauth2/token") {
            let tok =
                br#"{"token_type":"Bearer","expires_in":3599,"access_token":"hostile-token"}"#;
            respond(c, "200 OK", "application/json", tok, "");
            continue;
        }
        let n = calls.fetch_add(1, Ordering::SeqCst);
        let json = "application/json; charset=utf-8";
        match h {
            Hostility::TruncatedJson => {
                respond(c, "200 OK", json, br#"{"items":[{"id":"e1","productId":"#, "")
            }
            Hostility::WrongTypes => respond(c, "200 OK", json, br#"{"items":5,"continuationToken":[1]}"#, ""),
            Hostility::Huge50MiB => {
                let size = 50 * 1024 * 1024;
                let _ = write!(
                    c,
                    "HTTP/1.1 200 OK\r\nContent-Type: {json}\r\nContent-Length: {size}\r\n\r\n{{\"items\":["
                );
                let chunk = vec![b' '; 64 * 1024];
                let mut sent = 10;
                while sent < size {
                    if c.write_all(&chunk).is_err() {
                        return;
                    }
                    sent += chunk.len();
                }
                return;
            }
            Hostility::Trickle => {
                let _ = write!(c, "HTTP/1.1 200 OK\r\nContent-Type: {json}\r\nContent-Length: 1000\r\n\r\n");
                for _ in 0..1000 {
                    if c.write_all(b" ").is_err() {
                        return;
                    }
                    std::thread::sleep(Duration::from_secs(1));
                }
                return;
            }
            Hostility::RedirectLoop => {
                let path = line.split(' ').nth(1).unwrap_or("/").to_string();
                respond(c, "302 Found", "text/plain", b"", &format!("Location: {path}\r\n"))
            }
            Hostility::HtmlFromProxy => respond(
                c,
                "502 Bad Gateway",
                "text/html",
                b"<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1><p>nginx</p></body></html>",
                "",
            ),
            Hostility::ErrorBodyIn200 => respond(
                c,
                "200 OK",
                json,
                br#"{"code":"InternalError","message":"Something went wrong","innererror":{"code":"InternalError"}}"#,
                "",
            ),
            Hostility::EndlessTokens => {
                let body = format!(r#"{{"items":[],"continuationToken":"t{n}"}}"#);
                respond(c, "200 OK", json, body.as_bytes(), "")
            }
            Hostility::WrongContentType => respond(
                c,
                "200 OK",
                "text/html",
                b"<!doctype html><html><body>Sign in to continue</body></html>",
                "",
            ),
        }
    }
}

fn hostile_server(h: Hostility) -> (String, Arc<AtomicUsize>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    let calls = Arc::new(AtomicUsize::new(0));
    let c2 = calls.clone();
    std::thread::spawn(move || {
        for c in l.incoming() {
            let Ok(mut c) = c else { continue };
            let calls = c2.clone();
            std::thread::spawn(move || serve(&mut c, h, &calls));
        }
    });
    (base, calls)
}

/// A real collections key (the sandbox's signing key; the profile names
/// the sandbox's client id so the key is taken for this app's).
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

struct Outcome {
    code: Option<i32>,
    stderr: String,
    took: Duration,
    calls: usize,
}

fn run(h: Hostility, key: &str) -> Outcome {
    let (base, calls) = hostile_server(h);
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("hostile.toml");
    std::fs::write(
        &cfg,
        format!(
            r#"default_profile = "hostile"
[profiles.hostile]
environment = "sandbox"
sandbox_url = "{base}"
tenant_id = "{tenant}"
client_id = "{client}"
client_secret_env = "STOREDESK_HOSTILE_SECRET"
product_ids = ["9NSDCOIN0500"]
timeout_secs = 2
"#,
            tenant = storedesk::sandbox::TENANT,
            client = storedesk::sandbox::CLIENT_ID,
        ),
    )
    .unwrap();
    let started = Instant::now();
    let out = Command::new(BIN)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .arg("--config")
        .arg(&cfg)
        .args(["--now", NOW, "entitlements", "--key", key, "--json"])
        .env(
            "STOREDESK_HOSTILE_SECRET",
            "canary-secret-hostile-0123456789",
        )
        .stdin(Stdio::null())
        .output()
        .unwrap();
    Outcome {
        code: out.status.code(),
        stderr: String::from_utf8_lossy(&out.stderr).to_string(),
        took: started.elapsed(),
        calls: calls.load(Ordering::SeqCst),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_hostile_answer_ends_in_a_clear_error() {
    let key = key().await;
    let cases: &[(Hostility, &[&str], u64)] = &[
        (Hostility::TruncatedJson, &["publisherQuery"], 30),
        (Hostility::WrongTypes, &["publisherQuery"], 30),
        (Hostility::Huge50MiB, &["body cap"], 60),
        (
            Hostility::Trickle,
            &["retrying in", "no answer in time"],
            60,
        ),
        (Hostility::RedirectLoop, &["302"], 30),
        (Hostility::HtmlFromProxy, &["502"], 60),
        (Hostility::ErrorBodyIn200, &["InternalError"], 30),
        (Hostility::EndlessTokens, &["call budget spent"], 120),
        (Hostility::WrongContentType, &["publisherQuery"], 30),
    ];
    let mut report = Vec::new();
    for (h, needles, limit) in cases {
        let k = key.clone();
        let h = *h;
        let o = tokio::task::spawn_blocking(move || run(h, &k))
            .await
            .unwrap();
        report.push(format!(
            "{h:?}: exit {:?} in {:.1} s after {} Store calls",
            o.code,
            o.took.as_secs_f64(),
            o.calls
        ));
        assert!(
            matches!(o.code, Some(c) if c != 0 && c != 101),
            "{h:?}: exit {:?} (101 = panic)\n{}",
            o.code,
            o.stderr
        );
        assert!(!o.stderr.contains("panicked"), "{h:?}: {}", o.stderr);
        assert!(
            o.took < Duration::from_secs(*limit),
            "{h:?} took {:?}\n{}",
            o.took,
            o.stderr
        );
        assert!(
            !o.stderr.contains("canary-secret"),
            "{h:?}: the secret in stderr"
        );
        assert!(
            !o.stderr.contains("<html"),
            "{h:?}: raw HTML dumped:\n{}",
            o.stderr
        );
        for n in *needles {
            assert!(o.stderr.contains(n), "{h:?}: no {n:?} in:\n{}", o.stderr);
        }
    }
    eprintln!("{}", report.join("\n"));
}
