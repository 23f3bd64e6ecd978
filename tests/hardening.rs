//! Issue 20: the embedded sandbox under hostile local clients, over real
//! loopback HTTP — its control API is locked, its connections bounded, and
//! nothing a client sends panics a handler.

use serde_json::{Value, json};
use std::io::{Read, Write};
use std::time::{Duration, Instant};
use storedesk::clock::Clock;
use storedesk::sandbox::{self, CONTROL_SECRET_HEADER, Sandbox, SandboxOptions};

async fn start() -> (Sandbox, tempfile::TempDir) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let sb = sandbox::start(SandboxOptions {
        data_dir: dir.path().to_path_buf(),
        port: 0,
        clock: Clock::fixed(
            chrono::DateTime::parse_from_rfc3339("2026-11-23T10:00:00Z")
                .unwrap()
                .to_utc(),
        ),
        faults: vec![],
    })
    .await
    .unwrap();
    (sb, dir)
}

fn host(sb: &Sandbox) -> String {
    sb.base_url().trim_start_matches("http://").to_string()
}

/// One raw HTTP/1.1 exchange: the status code of the answer (0 when the
/// server closed without one).
fn raw(sb: &Sandbox, request: &str) -> (u16, String) {
    let mut conn = std::net::TcpStream::connect(host(sb)).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    conn.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    let _ = conn.read_to_string(&mut answer);
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, answer)
}

fn control(sb: &Sandbox, method: &str, what: &str, headers: &[(&str, &str)], body: &str) -> u16 {
    let mut req = format!(
        "{method} /_sandbox/{what} HTTP/1.1\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    raw(sb, &req).0
}

#[tokio::test(flavor = "multi_thread")]
async fn the_control_api_needs_the_secret_a_loopback_host_and_no_foreign_origin() {
    let (sb, _dir) = start().await;
    let secret = sb.info.control_secret.clone();
    let h = host(&sb);
    let port = h.rsplit(':').next().unwrap().to_string();
    assert_ne!(
        secret, sb.info.client_secret,
        "a Store client must not hold the control secret"
    );
    let sb = std::sync::Arc::new(sb);
    let s = sb.clone();
    tokio::task::spawn_blocking(move || {
        let sb = &*s;
        let ok = [
            ("Host", h.as_str()),
            (CONTROL_SECRET_HEADER, secret.as_str()),
        ];
        assert_eq!(control(sb, "GET", "info", &ok, ""), 200);
        assert_eq!(control(sb, "GET", "faults", &ok, ""), 200);
        let localhost = format!("localhost:{port}");
        assert_eq!(
            control(
                sb,
                "GET",
                "faults",
                &[("Host", &localhost), (CONTROL_SECRET_HEADER, &secret)],
                ""
            ),
            200
        );
        // No secret, a wrong one, the Store client's secret: 401, and
        // nothing changes (a reset, a fault, a minted key).
        for bad in [None, Some("nope"), Some(sb.info.client_secret.as_str())] {
            let mut hs = vec![("Host", h.as_str())];
            if let Some(b) = bad {
                hs.push((CONTROL_SECRET_HEADER, b));
            }
            assert_eq!(control(sb, "GET", "info", &hs, ""), 401, "{bad:?}");
            assert_eq!(control(sb, "POST", "faults", &hs, r#""consume:500""#), 401);
            assert_eq!(control(sb, "POST", "reset", &hs, ""), 401);
            assert_eq!(
                control(
                    sb,
                    "POST",
                    "keys",
                    &hs,
                    r#"{"customer":"alice","kind":"collections"}"#
                ),
                401
            );
        }
        // DNS rebinding: a page on evil.example resolved to 127.0.0.1.
        for bad_host in [
            format!("evil.example:{port}"),
            "127.0.0.1:1".to_string(),
            String::new(),
        ] {
            assert_eq!(
                control(
                    sb,
                    "GET",
                    "info",
                    &[("Host", &bad_host), (CONTROL_SECRET_HEADER, &secret)],
                    ""
                ),
                403,
                "{bad_host:?}"
            );
        }
        // A cross-origin simple request (a form post from a web page).
        for (k, v) in [
            ("Origin", "http://evil.example"),
            ("Origin", "null"),
            ("Sec-Fetch-Site", "cross-site"),
        ] {
            assert_eq!(
                control(
                    sb,
                    "POST",
                    "reset",
                    &[("Host", &h), (k, v), (CONTROL_SECRET_HEADER, &secret)],
                    ""
                ),
                403,
                "{k}: {v}"
            );
        }
        let own = format!("http://{h}");
        assert_eq!(
            control(
                sb,
                "GET",
                "faults",
                &[
                    ("Host", &h),
                    ("Origin", &own),
                    (CONTROL_SECRET_HEADER, &secret)
                ],
                ""
            ),
            200
        );
    })
    .await
    .unwrap();
    assert!(sb.info.customers.len() >= 8);
}

/// The fault list is bounded, a fault's latency too, and many latencies
/// summed never panic a handler.
#[tokio::test(flavor = "multi_thread")]
async fn the_fault_table_and_latencies_are_bounded() {
    let (sb, _dir) = start().await;
    let sb = std::sync::Arc::new(sb);
    let s = sb.clone();
    tokio::task::spawn_blocking(move || {
        let sb = &*s;
        let h = host(sb);
        let ok = [
            ("Host", h.as_str()),
            (CONTROL_SECRET_HEADER, sb.info.control_secret.as_str()),
        ];
        assert_eq!(
            control(
                sb,
                "POST",
                "faults",
                &ok,
                r#""*:latency=18446744073709551615ms""#
            ),
            400
        );
        let many = serde_json::to_string(&vec!["offers:latency=1ms"; 256]).unwrap();
        assert_eq!(control(sb, "POST", "faults", &ok, &many), 200);
        assert_eq!(control(sb, "POST", "faults", &ok, r#""offers:500""#), 400);
        assert_eq!(control(sb, "DELETE", "faults", &ok, ""), 200);
        assert_eq!(control(sb, "POST", "faults", &ok, r#""offers:500""#), 200);
    })
    .await
    .unwrap();
}

/// A connection that trickles its headers is closed after the header-read
/// timeout (10 s), not held for ever.
#[tokio::test(flavor = "multi_thread")]
async fn a_slowloris_connection_is_closed() {
    let (sb, _dir) = start().await;
    let h = host(&sb);
    let started = Instant::now();
    let closed = tokio::task::spawn_blocking(move || {
        let mut conn = std::net::TcpStream::connect(&h).unwrap();
        conn.set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        conn.write_all(b"GET /_sandbox/info HTTP/1.1\r\n").unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut buf = [0u8; 256];
        while Instant::now() < deadline {
            // One header byte a little under every second.
            if conn.write_all(b"X").is_err() {
                return true;
            }
            match conn.read(&mut buf) {
                Ok(_) => return true,
                Err(e)
                    if e.kind() == std::io::ErrorKind::WouldBlock
                        || e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(_) => return true,
            }
        }
        false
    })
    .await
    .unwrap();
    assert!(closed, "a trickling connection was held for 30 s");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(9) && took < Duration::from_secs(20),
        "{took:?}"
    );
    drop(sb);
}

/// Connections beyond the cap are closed at once; the sandbox still serves
/// after they go.
#[tokio::test(flavor = "multi_thread")]
async fn connections_are_capped() {
    let (sb, _dir) = start().await;
    let h = host(&sb);
    let secret = sb.info.control_secret.clone();
    let served = tokio::task::spawn_blocking(move || {
        let idle: Vec<_> = (0..300)
            .map(|_| std::net::TcpStream::connect(&h).unwrap())
            .collect();
        std::thread::sleep(Duration::from_millis(300));
        // Some of the 300 were closed by the server: reading gives EOF.
        let closed = idle
            .iter()
            .filter(|c| {
                c.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
                let mut r: &std::net::TcpStream = c;
                // EOF (or a reset): closed by the server. A timeout: held.
                match r.read(&mut [0u8; 1]) {
                    Ok(0) => true,
                    Ok(_) => false,
                    Err(e) => !matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ),
                }
            })
            .count();
        drop(idle);
        std::thread::sleep(Duration::from_millis(300));
        let mut conn = std::net::TcpStream::connect(&h).unwrap();
        write!(
            conn,
            "GET /_sandbox/faults HTTP/1.1\r\nHost: {h}\r\n{CONTROL_SECRET_HEADER}: {secret}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        conn.read_to_string(&mut answer).unwrap();
        (closed, answer)
    })
    .await
    .unwrap();
    assert!(served.0 >= 300 - 256, "only {} of 300 closed", served.0);
    assert!(served.1.starts_with("HTTP/1.1 200"), "{}", served.1);
}

async fn purchase_token(sb: &Sandbox) -> String {
    let v: Value = reqwest::Client::new()
        .post(format!(
            "{}/login/{}/oauth2/token",
            sb.base_url(),
            sb.info.tenant
        ))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", sb.info.client_id.as_str()),
            ("client_secret", sb.info.client_secret.as_str()),
            ("resource", storedesk::store::audience::STORE),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["access_token"].as_str().unwrap().to_string()
}

/// A grant's quantity is bounded above: i64::MAX is refused, and a balance
/// can never overflow (today's code added unchecked and panicked).
#[tokio::test(flavor = "multi_thread")]
async fn grant_quantity_is_bounded_and_never_overflows() {
    let (sb, _dir) = start().await;
    let t = purchase_token(&sb).await;
    let key = sb
        .info
        .customers
        .iter()
        .find(|c| c.name == "nora")
        .unwrap()
        .purchase_key
        .clone();
    let grant = |qty: i64, order: &'static str| {
        let body = json!({
            "availabilityId": "9NSDAV000009", "b2bKey": key, "language": "en-US", "market": "US",
            "orderId": order, "productId": "9NSDFREEGEMS", "skuId": "0010", "quantity": qty,
        });
        let url = format!("{}/purchase/v6.0/purchases/grant", sb.base_url());
        let t = t.clone();
        async move {
            let r = reqwest::Client::new()
                .post(url)
                .bearer_auth(t)
                .json(&body)
                .send()
                .await
                .expect("the sandbox answered (no panicked handler)");
            (r.status().as_u16(), r.text().await.unwrap_or_default())
        }
    };
    let (s, body) = grant(i64::MAX, "11111111-1111-4111-8111-111111111111").await;
    assert_eq!(s, 400, "{body}");
    assert!(body.contains("at most"), "{body}");
    let (s, body) = grant(1_000_000, "22222222-2222-4222-8222-222222222222").await;
    assert_eq!(s, 200, "{body}");
    let (s, _) = grant(1_000_001, "33333333-3333-4333-8333-333333333333").await;
    assert_eq!(s, 400);
}

fn options(dir: &std::path::Path) -> SandboxOptions {
    SandboxOptions {
        data_dir: dir.to_path_buf(),
        port: 0,
        clock: Clock::fixed(
            chrono::DateTime::parse_from_rfc3339("2026-11-23T10:00:00Z")
                .unwrap()
                .to_utc(),
        ),
        faults: vec![],
    }
}

/// Point 4: one sandbox state, one writer. A second sandbox on the same
/// data dir (in this process or another) is refused, naming the first; it
/// starts once the first is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_sandbox_on_one_data_dir_is_refused() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    // Where `storedesk --data-dir D` keeps its sandbox state.
    let state = dir.path().join("sandbox");
    let first = sandbox::start(options(&state)).await.unwrap();
    let e = match sandbox::start(options(&state)).await {
        Ok(_) => panic!("two sandboxes on one data dir"),
        Err(e) => e.to_string(),
    };
    assert!(e.contains("in use by another storedesk"), "{e}");
    assert!(e.contains(first.base_url()), "names the first: {e}");
    assert!(e.contains("--data-dir"), "{e}");
    // Another process: the real binary, headless (embedded sandbox) and
    // `storedesk sandbox`.
    let bin = env!("CARGO_BIN_EXE_storedesk");
    let key = first.info.customers[0].collections_key.clone();
    for args in [&["sandbox"][..], &["entitlements", "--key", &key][..]] {
        let mut child = std::process::Command::new(bin)
            .arg("--data-dir")
            .arg(dir.path())
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Bounded: a sandbox that was not refused would serve for ever.
        let deadline = Instant::now() + Duration::from_secs(20);
        while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        if child.try_wait().unwrap().is_none() {
            let _ = child.kill();
        }
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}: {err}");
        assert_ne!(out.status.code(), Some(101), "{args:?}: panicked: {err}");
        assert!(
            err.contains("in use by another storedesk"),
            "{args:?}: {err}"
        );
        assert!(
            err.contains(&format!("pid {}", std::process::id())),
            "{args:?}: {err}"
        );
    }
    first.shutdown().await;
    let again = sandbox::start(options(&state)).await;
    assert!(again.is_ok(), "{:?}", again.err().map(|e| e.to_string()));
}

/// Point 4: a torn state file at start names the file and the way out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_torn_state_file_is_named_with_the_reset_hint() {
    let dir = tempfile::tempdir().unwrap();
    let sb = sandbox::start(options(dir.path())).await.unwrap();
    sb.shutdown().await;
    std::fs::create_dir_all(dir.path().join("state")).unwrap();
    std::fs::write(
        dir.path().join("state/queue.json"),
        b"{\"messages\": [{\"id",
    )
    .unwrap();
    let e = match sandbox::start(options(dir.path())).await {
        Ok(_) => panic!("a torn queue.json was accepted"),
        Err(e) => e.to_string(),
    };
    assert!(e.contains("queue.json"), "{e}");
    assert!(e.contains("storedesk sandbox reset"), "{e}");
}
