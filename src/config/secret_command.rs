//! The one runner of a profile's `secret_command` (`sh -c`), shared by the
//! client's connection and `storedesk doctor`: bounded in time and output,
//! and it never repeats what the command wrote — its stderr is discarded,
//! as a failing password manager may echo the entry it was reading.

use super::Secret;
use std::io::Read;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long a secret command may take before it is stopped.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// A secret longer than this is not a client secret (and is not kept).
const MAX_OUTPUT: u64 = 64 * 1024;

/// Why a secret command gave no secret. The messages never hold its output.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("could not start it (it runs under sh -c): {0}")]
    Start(std::io::Error),
    #[error("it did not finish within {} s (stopped)", .0.as_secs())]
    Timeout(Duration),
    #[error(
        "it exited with {0} (its messages are not shown, as they may hold the secret: run it by hand to see them)"
    )]
    Failed(ExitStatus),
    #[error("it exited 0 but printed nothing on standard output")]
    Empty,
    #[error("it printed more than {} KiB (not a client secret)", MAX_OUTPUT / 1024)]
    TooLong,
    #[error("waiting for it failed: {0}")]
    Wait(std::io::Error),
}

impl CommandError {
    /// What to do about it, for `doctor`'s fix column.
    pub fn fix(&self) -> &'static str {
        match self {
            CommandError::Start(_) => {
                "Check that secret_command names a program on PATH (it runs under sh -c)."
            }
            CommandError::Timeout(_) => {
                "The command waits for something — a passphrase prompt, a locked keyring, the network: make it non-interactive (unlock the store first) so it prints the secret at once."
            }
            CommandError::Failed(_) | CommandError::Wait(_) => {
                "Run the secret_command by hand: it must exit 0 and print only the secret."
            }
            CommandError::Empty => {
                "The command must print the secret on standard output (check the entry it reads exists)."
            }
            CommandError::TooLong => {
                "The command must print only the secret (one line), nothing else."
            }
        }
    }
}

/// Run `cmd` under `sh -c` for at most `limit`: its trimmed standard output.
/// The command gets its own process group, so a timeout stops everything
/// it started (not only the shell).
pub fn run(cmd: &str, limit: Duration) -> Result<Secret, CommandError> {
    let deadline = Instant::now() + limit;
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(cmd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command.spawn().map_err(CommandError::Start)?;
    let Some(mut stdout) = child.stdout.take() else {
        stop(&mut child);
        return Err(CommandError::Wait(std::io::Error::other("no stdout pipe")));
    };
    // Read on a thread so a command that never closes its output is still
    // bounded by the deadline.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let r = (&mut stdout)
            .take(MAX_OUTPUT + 1)
            .read_to_end(&mut buf)
            .map(|_| buf);
        let _ = tx.send(r);
    });
    let left = deadline.saturating_duration_since(Instant::now());
    let out = match rx.recv_timeout(left) {
        Ok(Ok(out)) => out,
        Ok(Err(e)) => {
            stop(&mut child);
            return Err(CommandError::Wait(e));
        }
        Err(_) => {
            stop(&mut child);
            return Err(CommandError::Timeout(limit));
        }
    };
    if out.len() as u64 > MAX_OUTPUT {
        stop(&mut child);
        return Err(CommandError::TooLong);
    }
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Ok(None) => {
                stop(&mut child);
                return Err(CommandError::Timeout(limit));
            }
            Err(e) => {
                stop(&mut child);
                return Err(CommandError::Wait(e));
            }
        }
    };
    if !status.success() {
        return Err(CommandError::Failed(status));
    }
    let s = String::from_utf8_lossy(&out).trim().to_string();
    if s.is_empty() {
        return Err(CommandError::Empty);
    }
    Ok(Secret::new(s))
}

/// Kill the command's whole process group and reap the shell.
fn stop(child: &mut std::process::Child) {
    #[cfg(unix)]
    if let Ok(pid) = i32::try_from(child.id()) {
        // SAFETY: kill(2) with a negative pid signals that process group;
        // the group was created for this child alone (process_group(0)).
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: Duration = Duration::from_secs(1);

    #[test]
    fn prints_the_trimmed_secret() {
        assert_eq!(
            run("printf ' s3cret\\n'", LIMIT).unwrap().expose(),
            "s3cret"
        );
    }

    #[test]
    fn a_hanging_command_and_what_it_started_are_stopped_in_time() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("still-running");
        let started = Instant::now();
        // The shell's child keeps the output open: the group must go.
        let cmd = format!("sleep 3; touch '{}'", marker.display());
        let e = run(&cmd, LIMIT).unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        assert!(matches!(e, CommandError::Timeout(_)), "{e}");
        assert!(e.to_string().contains("within 1 s"), "{e}");
        std::thread::sleep(Duration::from_millis(3500));
        assert!(
            !marker.exists(),
            "the command's children outlived the timeout"
        );
    }

    #[test]
    fn a_failing_command_says_its_status_and_never_its_stderr() {
        let e = run(
            "echo canary-SECRET-1 >&2; echo canary-SECRET-2; exit 3",
            LIMIT,
        )
        .unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, CommandError::Failed(_)), "{msg}");
        assert!(msg.contains("exit status: 3"), "{msg}");
        assert!(!msg.contains("canary-SECRET"), "{msg}");
    }

    #[test]
    fn empty_output_and_a_missing_program_are_errors() {
        assert!(matches!(run("true", LIMIT), Err(CommandError::Empty)));
        assert!(matches!(
            run("printf '  \\n'", LIMIT),
            Err(CommandError::Empty)
        ));
        // sh starts, the program does not: exit 127.
        assert!(matches!(
            run("/nonexistent/storedesk-secret", LIMIT),
            Err(CommandError::Failed(_))
        ));
    }

    #[test]
    fn endless_output_is_refused_not_buffered() {
        let e = run("yes", LIMIT).unwrap_err();
        assert!(matches!(e, CommandError::TooLong), "{e}");
    }
}
