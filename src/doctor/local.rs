//! Local: the data dir, free space, the journal and its pending writes, the
//! seal key, the clipboard and the terminal.

use super::{CheckResult, Status, Terminal, skip};
use crate::config::Profile;
use crate::journal::Journal;
use std::path::Path;

const G: &str = "local";

pub(super) async fn check(
    profile: Option<&Profile>,
    data_dir: &Path,
    journal_db: &Path,
    term: &Terminal,
) -> Vec<CheckResult> {
    let mut out = Vec::new();
    // Writable: create and remove a probe file.
    let probe = data_dir.join(format!(".doctor-probe-{}", std::process::id()));
    match std::fs::write(&probe, b"x").and_then(|()| std::fs::remove_file(&probe)) {
        Ok(()) => out.push(CheckResult::new(G, "data dir", Status::Pass, format!("{} is writable", data_dir.display()))),
        Err(e) => out.push(
            CheckResult::new(G, "data dir", Status::Fail, format!("{}: {e}", data_dir.display()))
                .fix("The journal and audit log live here: make it writable, or choose another with --data-dir / STOREDESK_DATA_DIR."),
        ),
    }
    out.push(free_space(data_dir));

    // A team journal holds this profile's writes: the local file is not
    // where they are, and opening it here would create one.
    if profile.is_some_and(|p| p.journal.is_some()) {
        out.push(skip(
            G,
            "journal",
            "this profile's writes and audit are in the team journal (see the team group)",
        ));
        out.push(skip(
            G,
            "pending writes",
            "in the team journal: storedesk pending lists them",
        ));
    } else {
        local_journal(&mut out, profile, journal_db);
    }

    let display = ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()));
    out.push(CheckResult::new(
        G,
        "clipboard",
        Status::Pass,
        if display || cfg!(any(target_os = "macos", target_os = "windows")) {
            "system clipboard (OSC 52 as fallback)"
        } else {
            "no display: copies go through OSC 52 (the terminal must allow it)"
        },
    ));

    let colours = if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        "NO_COLOR set: no colours".to_string()
    } else {
        match std::env::var("COLORTERM") {
            Ok(c) if c.contains("truecolor") || c.contains("24bit") => "true colour".into(),
            _ => format!(
                "TERM {}",
                std::env::var("TERM").unwrap_or_else(|_| "unset".into())
            ),
        }
    };
    match term.size {
        None => out.push(CheckResult::new(
            G,
            "terminal",
            Status::Skip,
            format!("not a terminal · {colours}"),
        )),
        Some((w, h)) if w < 80 || h < 24 => out.push(
            CheckResult::new(G, "terminal", Status::Warn, format!("{w}×{h} · {colours}"))
                .fix("The console needs at least 80×24: enlarge the window."),
        ),
        Some((w, h)) => out.push(CheckResult::new(
            G,
            "terminal",
            Status::Pass,
            format!("{w}×{h} · {colours}"),
        )),
    }
    out
}

/// Free space under the data dir, from `df` (no extra crate for one number).
/// The local SQLite journal: it opens (with its seal key), and what is
/// pending in it.
fn local_journal(out: &mut Vec<CheckResult>, profile: Option<&Profile>, journal_db: &Path) {
    match Journal::open(journal_db) {
        Ok(j) => {
            out.push(CheckResult::new(
                G,
                "journal",
                Status::Pass,
                format!("{} opens", journal_db.display()),
            ));
            // The journal opened, so its sealing key loaded (journal/db.rs).
            let seal = journal_db.with_file_name(format!(
                "{}-seal.key",
                journal_db
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or("journal.sqlite")
            ));
            out.push(CheckResult::new(
                G,
                "seal key",
                Status::Pass,
                if seal.exists() {
                    format!("{} read", seal.display())
                } else {
                    "read (next to the journal)".to_string()
                },
            ));
            match j.pending() {
                Ok(list) if list.is_empty() => out.push(CheckResult::new(G, "pending writes", Status::Pass, "none")),
                Ok(list) => {
                    let items: Vec<String> = list.iter().take(5).map(|w| format!("#{} {} ({})", w.id, w.summary, w.profile)).collect();
                    let more = if list.len() > 5 { format!(" and {} more", list.len() - 5) } else { String::new() };
                    let prof = profile.map(|p| p.name.as_str()).unwrap_or("<profile>");
                    out.push(
                        CheckResult::new(G, "pending writes", Status::Warn, format!("{} pending: {}{more}", list.len(), items.join("; ")))
                            .fix(format!(
                                "Settle them: `storedesk --profile {prof} pending --replay` resends the safe ones with their original keys; `storedesk pending --resolve ID --applied|--not-applied --note TEXT` settles the rest after checking the Store."
                            )),
                    );
                }
                Err(e) => out.push(CheckResult::new(G, "pending writes", Status::Fail, e.to_string()).fix("The journal cannot be read: see the message; do not delete it while writes are pending.")),
            }
        }
        Err(e) => {
            out.push(
                CheckResult::new(G, "journal", Status::Fail, e.to_string())
                    .fix("The journal (and its seal key next to it) must open for writes to be safe: check the file's permissions, or that another storedesk has not locked it."),
            );
            out.push(skip(G, "pending writes", "the journal did not open"));
        }
    }
}

fn free_space(dir: &Path) -> CheckResult {
    let out = std::process::Command::new("df")
        .arg("-Pk")
        .arg(dir)
        .stdin(std::process::Stdio::null())
        .output();
    let kb = out.ok().filter(|o| o.status.success()).and_then(|o| {
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        text.lines()
            .nth(1)?
            .split_whitespace()
            .nth(3)?
            .parse::<u64>()
            .ok()
    });
    match kb {
        None => CheckResult::new(G, "free space", Status::Skip, "could not measure (no df)"),
        Some(k) if k < 100 * 1024 => CheckResult::new(G, "free space", Status::Warn, format!("{} MiB free", k / 1024))
            .fix("Under 100 MiB free: the journal needs room to record writes before sending them; free some space."),
        Some(k) => CheckResult::new(G, "free space", Status::Pass, format!("{} MiB free", k / 1024)),
    }
}
