//! End to end: the real binary in a real pseudo-terminal. Waits for the
//! first frame, opens help, quits, and checks the terminal was restored —
//! after a normal quit, SIGTERM, and a panic.

#[path = "support/pty.rs"]
mod pty;

use pty::{load_demo, palette, renew_collections_key, start, start_in, start_sized};
use std::time::{Duration, Instant};

#[test]
fn first_frame_help_and_quit_restore_the_terminal() {
    let mut s = start(&[]);
    s.wait_for("SANDBOX");
    s.wait_for("Paste a User Store ID");
    s.send(b"?");
    s.wait_for("Key pane");
    s.wait_for("Help");
    s.send(b"\x1b");
    std::thread::sleep(Duration::from_millis(300));
    s.send(b"q");
    let status = s.wait_exit();
    assert!(status.success(), "exit status {status:?}");
    s.assert_restored();
}

#[test]
fn keys_toml_rebinds_and_a_bad_entry_is_reported_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("keys.toml"),
        "[bindings]\nquit = [\"ctrl-q\"]\nconsume = \"C\"\nraw = \"R\"\n",
    )
    .unwrap();
    let mut s = start_in(dir, &[]);
    s.wait_for("SANDBOX");
    s.wait_for_joined("keys.toml:3:");
    s.wait_for_joined("a write has no key");
    // The pane's title hints show the keys in force, not the defaults.
    s.send(b"\x1b");
    s.wait_for_joined("R raw");
    // `q` is no longer quit; Ctrl-Q is.
    s.send(b"q");
    std::thread::sleep(Duration::from_millis(500));
    assert!(s.child.try_wait().unwrap().is_none(), "q still quits");
    s.send(b"\x11");
    let status = s.wait_exit();
    assert!(status.success(), "exit status {status:?}");
    s.assert_restored();
}

#[test]
fn sigterm_and_sighup_restore_the_terminal() {
    for sig in [
        nix::sys::signal::Signal::SIGTERM,
        nix::sys::signal::Signal::SIGHUP,
    ] {
        let mut s = start(&[]);
        s.wait_for("SANDBOX");
        let pid = s.child.process_id().expect("pid") as i32;
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig).unwrap();
        let status = s.wait_exit();
        assert!(status.success(), "{sig}: {status:?}");
        s.assert_restored();
    }
}

#[test]
fn panic_restores_the_terminal_and_says_so() {
    let mut s = start(&[("STOREDESK_TEST_PANIC", "1")]);
    let status = s.wait_exit();
    assert!(!status.success());
    s.assert_restored();
    let raw = s.raw.lock().unwrap();
    let text = String::from_utf8_lossy(&raw);
    assert!(
        text.contains("storedesk crashed"),
        "no message after restore: {text}"
    );
}

/// A panic in a background job is an error notice: the console keeps
/// drawing in raw mode, nothing is printed over it, the log has the
/// backtrace, and quitting restores the terminal as usual.
#[test]
fn a_panicking_background_job_is_a_notice_not_a_broken_terminal() {
    let mut s = start(&[("STOREDESK_TEST_JOB_PANIC", "1"), ("RUST_BACKTRACE", "0")]);
    s.wait_for_joined("internal error: the connect job stopped");
    assert!(s.child.try_wait().unwrap().is_none(), "the console died");
    assert!(
        s.parser.lock().unwrap().screen().alternate_screen(),
        "the panic left the alternate screen while the console runs"
    );
    let t = s.master.get_termios().expect("termios");
    assert!(
        !t.local_flags
            .contains(nix::sys::termios::LocalFlags::ICANON),
        "the panic put the terminal back in cooked mode while the console draws"
    );
    assert!(
        !String::from_utf8_lossy(&s.raw.lock().unwrap()).contains("storedesk crashed"),
        "a message was printed over the UI"
    );
    // Still answering keys.
    s.send(b"?");
    s.wait_for("Help");
    s.send(b"\x1b");
    // Apart, or the terminal reads Alt-q.
    std::thread::sleep(Duration::from_millis(300));
    s.send(b"q");
    assert!(s.wait_exit().success());
    s.assert_restored();
    let log = std::fs::read_to_string(s._dir.path().join("data/logs/storedesk.log")).unwrap();
    assert!(log.contains("background job"), "{log}");
    assert!(log.contains("STOREDESK_TEST_JOB_PANIC"), "{log}");
    assert!(
        log.contains("crash.rs") || log.contains("jobs.rs"),
        "no backtrace in the log: {log}"
    );
}

/// A whole support session (demo customer, listing, renewal) leaves no
/// secret and no full key in the log file.
#[test]
fn a_session_leaks_no_secret_or_key_into_the_log() {
    let mut s = start(&[]);
    load_demo(&mut s, 0);
    s.send(b"2");
    s.wait_for("all listed");
    s.send(b"1");
    renew_collections_key(&mut s);
    s.send(b"q");
    assert!(s.wait_exit().success());
    let data = s._dir.path().join("data");
    let log = std::fs::read_to_string(data.join("logs/storedesk.log")).unwrap();
    assert!(log.contains("first frame"), "the log was written: {log}");
    assert!(!log.contains("eyJ"), "a JWT reached the log:\n{log}");
    // The sandbox app's secret, as `storedesk sandbox --json` prints it.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_storedesk"))
        .arg("--data-dir")
        .arg(&data)
        .args(["sandbox", "--json"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let info: serde_json::Value = serde_json::from_str(&line).unwrap();
    let secret = info["client_secret"].as_str().unwrap();
    assert!(secret.len() >= 16);
    assert!(!log.contains(secret), "the client secret reached the log");
    let db = std::fs::read(data.join("journal.sqlite")).unwrap();
    assert!(
        !String::from_utf8_lossy(&db).contains(secret),
        "the client secret reached the journal"
    );
    // Every other file the session wrote (the sandbox's own state holds
    // the secret by design); the screen as last drawn too.
    let mut stack = vec![data.clone()];
    let mut swept = 0;
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                if p != data.join("sandbox") {
                    stack.push(p);
                }
                continue;
            }
            swept += 1;
            let bytes = String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned();
            assert!(
                !bytes.contains(secret),
                "the client secret in {}",
                p.display()
            );
        }
    }
    assert!(swept >= 2, "swept {swept} files");
    assert!(!s.screen().contains(secret), "the client secret on screen");
}

/// The real console on the embedded sandbox lists the whale completely:
/// v9 over every product the sandbox knows, all 10,000 items.
#[test]
fn the_console_lists_the_whale_completely() {
    let mut s = start(&[]);
    load_demo(&mut s, 5);
    s.wait_for("loaded demo customer wally");
    s.send(b"2");
    s.wait_for("10,000 of 10,000");
    let screen = s.screen();
    assert!(screen.contains("v9 PublisherQuery"), "{screen}");
    s.send(b"q");
    assert!(s.wait_exit().success());
}

/// `--now` (here `STOREDESK_NOW`) is the console's clock for everything it
/// records: the audit row of a write made in the console carries it.
#[test]
fn the_console_stamps_its_audit_rows_with_the_pinned_clock() {
    let mut s = start(&[("STOREDESK_NOW", "2026-03-04T05:06:07Z")]);
    load_demo(&mut s, 0);
    renew_collections_key(&mut s);
    s.send(b"q");
    assert!(s.wait_exit().success());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_storedesk"))
        .arg("--data-dir")
        .arg(s._dir.path().join("data"))
        .args(["audit", "--json"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("renew"), "the renewal was audited: {text}");
    let rows: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap_or_default();
    let stamps: Vec<&str> = rows
        .iter()
        .filter_map(|r| r["at"].as_str())
        .map(|t| t.get(..10).unwrap_or(t))
        .collect();
    assert!(!stamps.is_empty(), "{text}");
    assert!(
        stamps.iter().all(|d| *d == "2026-03-04"),
        "every audit row carries the pinned date: {stamps:?}\n{text}"
    );
}

/// `:doctor` in the console runs the real checks (Effect::Doctor → the
/// doctor job) with the console's client and the case's key, and the
/// overlay fills in until the summary line replaces "checking…".
#[test]
fn doctor_in_the_console_runs_every_check_live() {
    let mut s = start_sized(tempfile::tempdir().unwrap(), &[], 80, 180);
    load_demo(&mut s, 0);
    s.wait_for("loaded demo customer ada");
    palette(&mut s, "doctor");
    s.wait_for("Doctor");
    // Done: the summary line, no longer prefixed by "checking…".
    let deadline = Instant::now() + Duration::from_secs(90);
    let screen = loop {
        let screen = s.screen();
        if screen.contains(" skipped") && !screen.contains("checking…") {
            break screen;
        }
        assert!(
            Instant::now() < deadline,
            "doctor never finished; screen:\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    // Every group reported, each with at least one pass.
    for group in [
        "config",
        "endpoints",
        "clock",
        "tokens",
        "key",
        "products",
        "clawbacks",
        "local",
    ] {
        let pass = screen.lines().any(|l| l.contains(&format!("PASS {group}")));
        assert!(pass, "no pass line for {group}:\n{screen}");
    }
    // The key came from the case, and its 1-item query spent one call.
    assert!(screen.contains("spent 1 of the customer's"), "{screen}");
    assert!(screen.contains(" 0 failed"), "{screen}");
    s.send(b"\x1b");
    std::thread::sleep(Duration::from_millis(300));
    s.send(b"q");
    assert!(s.wait_exit().success());
}

#[test]
fn a_tampered_sandbox_key_pasted_into_the_console_is_invalid() {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    // A demo key minted by the sandbox of this data dir (the console's
    // embedded sandbox loads the same signing key), with one claim changed.
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let key = rt.block_on(async {
        let sb = storedesk::sandbox::start(storedesk::sandbox::SandboxOptions {
            data_dir: dir.path().join("data").join("sandbox"),
            port: 0,
            clock: storedesk::clock::Clock::system(),
            faults: vec![],
        })
        .await
        .unwrap();
        let key = sb.info.customers[0].collections_key.clone();
        sb.shutdown().await;
        key
    });
    let parts: Vec<&str> = key.split('.').collect();
    let mut claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    claims["http://schemas.microsoft.com/marketplace/2015/08/claims/key/userId"] =
        serde_json::json!("someone-else");
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap()),
        parts[2]
    );
    let mut s = start_sized(dir, &[], 40, 200);
    s.wait_for("calls");
    s.send(format!("\x1b[200~{forged}\x1b[201~").as_bytes());
    s.wait_for("signature INVALID");
    s.send(b"q");
    assert!(s.wait_exit().success());
}

/// The resident set of `pid` in KiB (Linux /proc).
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Issue 20 point 11 through the real binary: random keys, escape
/// sequences and bracketed pastes typed into the console (on the embedded
/// sandbox, a demo customer loaded) — seeded (`MONKEY_SEED`, printed), no
/// `q`/Ctrl keys that would leave on purpose. It never dies, its memory
/// stays flat, it still quits on `q`, and the terminal is restored.
#[test]
fn a_monkey_at_the_real_console_breaks_nothing() {
    let seed: u64 = std::env::var("MONKEY_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5EED_0E2E);
    let steps: usize = std::env::var("MONKEY_PTY_STEPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_500);
    println!("PTY monkey seed {seed} ({steps} steps); repeat with MONKEY_SEED={seed}");
    let mut x = seed.max(1);
    let mut rng = move |n: usize| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % n as u64) as usize
    };
    let mut s = start_sized(tempfile::tempdir().unwrap(), &[], 40, 140);
    load_demo(&mut s, 0);
    let pid = s.child.process_id().expect("pid");
    const BYTES: &[&[u8]] = &[
        b"1",
        b"2",
        b"3",
        b"4",
        b"5",
        b"6",
        b"7",
        b"8",
        b"9",
        b"0",
        b":",
        b"?",
        b"/",
        b"d",
        b"j",
        b"k",
        b"g",
        b"G",
        b"n",
        b"e",
        b"c",
        b"r",
        b"y",
        b"x",
        b"s",
        b"f",
        b" ",
        b"-",
        b"\r",
        b"\t",
        b"\x7f",
        b"\x1b[A",
        b"\x1b[B",
        b"\x1b[C",
        b"\x1b[D",
        b"\x1b[5~",
        b"\x1b[6~",
        b"\x1b[H",
        b"\x1b[F",
        b"\x1b[Z",
        b"\x1b[3~",
        "é".as_bytes(),
        "🦀".as_bytes(),
    ];
    let fake_key = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwczovL2NvbGxlY3Rpb25zLm1wLm1pY3Jvc29mdC5jb20vdjYuMC9rZXlzIn0.c2ln";
    let mut warm = 0;
    for step in 0..steps {
        match rng(20) {
            0 => s.paste(&fake_key[..rng(fake_key.len())]),
            1 => s.paste(&"x\u{7}\u{202e}\r\n".repeat(rng(50))),
            2 => {
                // Esc alone, apart from what follows (else it reads as Alt).
                s.send(b"\x1b");
                std::thread::sleep(Duration::from_millis(60));
            }
            _ => s.send(BYTES[rng(BYTES.len())]),
        }
        std::thread::sleep(Duration::from_millis(2));
        if step % 100 == 0 {
            assert!(
                s.child.try_wait().unwrap().is_none(),
                "seed {seed}, step {step}: the console died; screen:\n{}",
                s.screen()
            );
        }
        if step == steps / 4 {
            warm = rss_kib(pid);
        }
    }
    std::thread::sleep(Duration::from_millis(500));
    let end = rss_kib(pid);
    println!("PTY monkey: RSS {warm} KiB after warm-up, {end} KiB at the end");
    assert!(warm > 0, "no RSS read");
    assert!(
        end <= warm + 64 * 1024,
        "seed {seed}: RSS grew from {warm} to {end} KiB"
    );
    assert!(s.child.try_wait().unwrap().is_none(), "seed {seed}: died");
    // Close whatever is open, then quit with `q`. Esc and `q` apart, more
    // so each round: read together they are Alt-q (a loaded machine reads
    // late).
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut gap = 300;
    while s.child.try_wait().unwrap().is_none() {
        assert!(
            Instant::now() < deadline,
            "seed {seed}: q no longer quits; screen:\n{}",
            s.screen()
        );
        s.send(b"\x1b");
        std::thread::sleep(Duration::from_millis(gap));
        s.send(b"q");
        std::thread::sleep(Duration::from_millis(gap));
        gap = (gap * 2).min(3_000);
    }
    let status = s.wait_exit();
    assert!(status.success(), "seed {seed}: {status:?}");
    s.assert_restored();
    let log = std::fs::read_to_string(s._dir.path().join("data/logs/storedesk.log")).unwrap();
    assert!(!log.contains("panicked"), "seed {seed}: a panic in the log");
}
