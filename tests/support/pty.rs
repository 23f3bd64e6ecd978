//! The real binary in a real pseudo-terminal (the console), the screen
//! kept by a vt100 parser and the raw bytes kept too; and the key
//! sequences the end-to-end tests repeat (load a demo customer, run a
//! palette command, renew the Collections key). Shared by e2e.rs,
//! monkey.rs and secrets.rs.

#![allow(dead_code)]

use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Session {
    pub parser: Arc<Mutex<vt100::Parser>>,
    pub raw: Arc<Mutex<Vec<u8>>>,
    pub writer: Box<dyn Write + Send>,
    pub child: Box<dyn portable_pty::Child + Send + Sync>,
    pub master: Box<dyn portable_pty::MasterPty + Send>,
    pub _dir: tempfile::TempDir,
}

pub fn start(extra_env: &[(&str, &str)]) -> Session {
    start_in(tempfile::tempdir().unwrap(), extra_env)
}

/// Start in `dir`, where the (absent) config file and its `keys.toml` live.
pub fn start_in(dir: tempfile::TempDir, extra_env: &[(&str, &str)]) -> Session {
    start_sized(dir, extra_env, 30, 100)
}

/// Start in a terminal of `rows` × `cols`.
pub fn start_sized(
    dir: tempfile::TempDir,
    extra_env: &[(&str, &str)],
    rows: u16,
    cols: u16,
) -> Session {
    start_configured(dir, "", extra_env, rows, cols)
}

/// Start with `config` as the config file's text (empty: the embedded
/// sandbox), in a terminal of `rows` × `cols`.
pub fn start_configured(
    dir: tempfile::TempDir,
    config_text: &str,
    extra_env: &[(&str, &str)],
    rows: u16,
    cols: u16,
) -> Session {
    let pty = native_pty_system();
    let pair = pty
        .openpty(PtySize {
            rows,
            cols,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_storedesk"));
    cmd.arg("--data-dir");
    cmd.arg(dir.path().join("data"));
    cmd.arg("--config");
    let config = dir.path().join("config.toml");
    std::fs::write(&config, config_text).unwrap();
    cmd.arg(config);
    cmd.env("TERM", "xterm-256color");
    cmd.env("HOME", dir.path());
    cmd.env_remove("DISPLAY");
    cmd.env_remove("WAYLAND_DISPLAY");
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let child = pair.slave.spawn_command(cmd).unwrap();
    drop(pair.slave);
    let mut reader = pair.master.try_clone_reader().unwrap();
    let writer = pair.master.take_writer().unwrap();
    let parser = Arc::new(Mutex::new(vt100::Parser::new(
        std::num::NonZeroU16::new(rows).unwrap(),
        std::num::NonZeroU16::new(cols).unwrap(),
        0,
    )));
    let raw = Arc::new(Mutex::new(Vec::new()));
    let (p2, r2) = (parser.clone(), raw.clone());
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            p2.lock().unwrap().process(&buf[..n]);
            r2.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    Session {
        parser,
        raw,
        writer,
        child,
        master: pair.master,
        _dir: dir,
    }
}

impl Session {
    pub fn screen(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    pub fn wait_for(&self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if self.screen().contains(needle) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("{needle:?} never appeared; screen:\n{}", self.screen());
    }

    /// Like `wait_for`, with the screen's rows joined: a long status-bar
    /// notice wraps.
    pub fn wait_for_joined(&self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if self.screen().replace('\n', "").contains(needle) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("{needle:?} never appeared; screen:\n{}", self.screen());
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).unwrap();
        self.writer.flush().unwrap();
    }

    /// Paste `text` as a terminal does with bracketed paste on.
    pub fn paste(&mut self, text: &str) {
        self.send(format!("\x1b[200~{text}\x1b[201~").as_bytes());
    }

    pub fn wait_exit(&mut self) -> portable_pty::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Let the reader thread drain the last bytes.
                std::thread::sleep(Duration::from_millis(200));
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        panic!("storedesk did not exit; screen:\n{}", self.screen());
    }

    /// Alternate screen left and cooked mode (ICANON, ECHO) back.
    pub fn assert_restored(&self) {
        assert!(
            !self.parser.lock().unwrap().screen().alternate_screen(),
            "still on the alternate screen"
        );
        let raw = self.raw.lock().unwrap();
        let text = String::from_utf8_lossy(&raw);
        assert!(
            text.contains("\x1b[?1049l"),
            "never left the alternate screen"
        );
        assert!(text.contains("\x1b[?2004l"), "bracketed paste left on");
        let t = self.master.get_termios().expect("termios");
        use nix::sys::termios::LocalFlags;
        assert!(
            t.local_flags.contains(LocalFlags::ICANON),
            "raw mode not undone (ICANON off)"
        );
        assert!(
            t.local_flags.contains(LocalFlags::ECHO),
            "raw mode not undone (ECHO off)"
        );
    }
}

/// Once connected, load the demo customer at `index` (0 = the first) from
/// the `d` list.
pub fn load_demo(s: &mut Session, index: usize) {
    s.wait_for("calls");
    s.send(b"d");
    s.wait_for("Demo customers");
    s.send(&b"j".repeat(index));
    s.send(b"\r");
    s.wait_for("loaded demo customer");
}

/// Type `:name` in the palette and run it.
pub fn palette(s: &mut Session, name: &str) {
    s.send(format!(":{name}").as_bytes());
    std::thread::sleep(Duration::from_millis(200));
    s.send(b"\r");
}

/// `:renew`, confirmed: the case's Collections key renewed.
pub fn renew_collections_key(s: &mut Session) {
    palette(s, "renew");
    s.wait_for("Renew Collections key");
    s.send(b"\r");
    s.wait_for("renewed Collections key");
}
