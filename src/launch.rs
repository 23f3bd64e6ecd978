//! The `storedesk` executable: a small front. `storedesk inspect` is
//! answered here; every other command line is handed, unchanged, to the
//! `storedesk-console` executable installed next to it (exec on Unix, so it
//! keeps the process, its terminal and its signals).
//!
//! Why two executables: scripts run `storedesk inspect` once per key, and
//! the console's executable (TUI, sandbox, SQLite, TLS: 16 MB) costs about
//! half a millisecond more to start than the whole key assessment takes —
//! the loader relocates and faults in all of it before `main`. The front
//! links only the key code, so it starts like a small tool. Measurements are
//! in BENCHMARKS.md; the design note is in ARCHITECTURE.md.

use crate::cli::{FrontCli, FrontCommand, USAGE_ERROR};
use clap::Parser;
use std::ffi::OsString;
use std::path::PathBuf;

/// The console executable's file name, as Cargo builds and installs it.
pub const CONSOLE_EXE: &str = if cfg!(windows) {
    "storedesk-console.exe"
} else {
    "storedesk-console"
};

/// The front's whole work on the command line `args` (program name first);
/// returns the exit status (or does not return, once the console has taken
/// over). A panic — a bug — exits 101 as Rust's own `main` would, after the
/// panic message.
pub fn main(args: Vec<OsString>) -> u8 {
    std::panic::catch_unwind(|| front(args)).unwrap_or(101)
}

fn front(args: Vec<OsString>) -> u8 {
    match FrontCli::try_parse_from(&args) {
        Ok(FrontCli {
            global,
            command: FrontCommand::Inspect(a),
        }) => crate::cli::inspect(global, &a),
        Err(_) => hand_over(args),
    }
}

/// Where the console executable should be: beside this one.
fn console_path() -> std::io::Result<PathBuf> {
    Ok(std::env::current_exe()?.with_file_name(CONSOLE_EXE))
}

fn hand_over(args: Vec<OsString>) -> u8 {
    let path = match console_path() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("storedesk: cannot find its own executable to locate {CONSOLE_EXE}: {e}");
            return USAGE_ERROR;
        }
    };
    let mut cmd = std::process::Command::new(&path);
    cmd.args(args.iter().skip(1));
    let err = run(cmd);
    if err.kind() == std::io::ErrorKind::NotFound {
        eprintln!(
            "storedesk: {CONSOLE_EXE} is missing: it must sit next to this executable, at {} \
             (`cargo install --path .` installs both; `cargo build --release` builds both). \
             `storedesk inspect` works without it.",
            path.display()
        );
    } else {
        eprintln!("storedesk: cannot start {}: {err}", path.display());
    }
    USAGE_ERROR
}

/// Replaces this process with the console; returns only on failure.
/// Messages still say `storedesk` (clap's `bin_name`); `ps` shows the
/// executable that really runs.
#[cfg(unix)]
fn run(mut cmd: std::process::Command) -> std::io::Error {
    use std::os::unix::process::CommandExt;
    cmd.exec()
}

/// Without exec, run the console as a child and pass its exit code on.
#[cfg(not(unix))]
fn run(mut cmd: std::process::Command) -> std::io::Error {
    match cmd.status() {
        Ok(status) => std::process::exit(status.code().unwrap_or(1)),
        Err(e) => e,
    }
}
