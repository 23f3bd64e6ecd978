//! `storedesk doctor [--key K | --key-file F | --key -] [--json]`: the
//! headless front of `crate::doctor`. Text is one aligned line per check
//! (with a `fix:` line under each warning or failure); `--json` is the same
//! report as one document. Exit 0 when nothing failed, 1 otherwise, 2 for a
//! refused command line.

use super::{Context, DoctorArgs, Globals, USAGE_ERROR};
use crate::clock::Clock;
use crate::config::{self, Secret};
use crate::doctor::{self, CheckResult, Connection, Input, Report, Status, Terminal, Timeouts};
use crate::paths::Paths;
use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;

pub fn run(globals: Globals, a: &DoctorArgs) -> ExitCode {
    let key = match read_key(a) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("storedesk: {e}");
            return ExitCode::from(USAGE_ERROR);
        }
    };
    let paths = match Paths::resolve(globals.data_dir.clone(), globals.config.clone(), true) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("storedesk: {e}");
            return ExitCode::from(USAGE_ERROR);
        }
    };
    let _log = crate::logging::init(&paths, &globals.log_level).ok();
    let clock = match globals.now {
        Some(t) => Clock::fixed(t),
        None => Clock::system(),
    };
    // A config that does not load is doctor's first finding, not a refusal.
    // A config file named on the command line must exist: that too is a
    // finding here.
    let mut loaded = config::load(
        &paths.config_file,
        globals.profile.as_deref(),
        paths.config_explicit,
    )
    .map_err(|e| e.to_string());
    let rt = match super::runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let terminal = Terminal {
        size: std::io::stdout()
            .is_terminal()
            .then(|| crossterm::terminal::size().ok())
            .flatten(),
    };
    let report = rt.block_on(async {
        let mut sandbox = None;
        let (connection, pem) = match loaded.clone() {
            Err(_) => (Connection::None, None),
            Ok(cfg) => {
                let ctx = Context {
                    globals: globals.clone(),
                    paths: paths.clone(),
                    config: cfg,
                    clock: clock.clone(),
                };
                if ctx.config.profile.embedded {
                    match super::connect::connect(&ctx).await {
                        Ok((client, sb)) => {
                            let pem = sb.as_ref().map(|s| s.info.public_key_pem.clone());
                            // As the console does: the embedded profile
                            // queries the sandbox's own catalog.
                            if let (Ok(c), Some(s)) = (&mut loaded, &sb)
                                && c.profile.product_ids.is_empty()
                            {
                                c.profile.product_ids = s.product_ids();
                            }
                            sandbox = sb;
                            (Connection::Ready(client), pem)
                        }
                        Err(e) => {
                            eprintln!("storedesk: {e}");
                            (Connection::None, None)
                        }
                    }
                } else {
                    let profile = ctx.config.profile.clone();
                    let make = move |secret: Secret| {
                        let cc = super::connect::client_config(
                            &ctx,
                            &profile,
                            None,
                            None,
                            &profile.client_id,
                            secret,
                        );
                        crate::store::StoreClient::new(cc)
                    };
                    // A `storedesk sandbox` elsewhere keeps its public key on disk.
                    let pem = super::connect::sandbox_public_key(&paths, None).ok();
                    (Connection::Deferred(Box::new(make)), pem)
                }
            }
        };
        let input = Input {
            config: loaded.clone(),
            config_file: paths.config_file.clone(),
            connection,
            sandbox_pem: pem,
            key,
            data_dir: paths.data_dir.clone(),
            journal_db: paths.journal_db(),
            clock: clock.clone(),
            timeouts: Timeouts::default(),
            terminal,
        };
        let report = doctor::run(input, None).await;
        if let Some(sb) = sandbox {
            sb.shutdown().await;
        }
        report
    });
    let text = if a.json {
        match serde_json::to_string_pretty(&report) {
            Ok(s) => s + "\n",
            Err(e) => {
                eprintln!("storedesk: cannot write the report as JSON: {e}");
                return ExitCode::from(1);
            }
        }
    } else {
        to_text(&report)
    };
    let mut out = std::io::stdout().lock();
    if out
        .write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .is_err()
    {
        return ExitCode::from(1);
    }
    if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// One aligned line per check, its fix indented under it, then the counts.
pub fn to_text(r: &Report) -> String {
    let gw = r.checks.iter().map(|c| c.group.len()).max().unwrap_or(0);
    let nw = r
        .checks
        .iter()
        .map(|c| c.name.chars().count())
        .max()
        .unwrap_or(0);
    let mut s = format!(
        "storedesk doctor · profile {} ({})\n",
        r.profile, r.environment
    );
    for c in &r.checks {
        s.push_str(&line(c, gw, nw));
    }
    let m = &r.summary;
    s.push_str(&format!(
        "{} passed, {} warning(s), {} failed, {} skipped\n",
        m.pass, m.warn, m.fail, m.skip
    ));
    s
}

fn line(c: &CheckResult, gw: usize, nw: usize) -> String {
    let mut s = format!(
        "{}  {:gw$}  {:nw$}  {}\n",
        c.status.label(),
        c.group,
        c.name,
        c.measured
    );
    if let Some(f) = &c.fix
        && matches!(c.status, Status::Warn | Status::Fail)
    {
        s.push_str(&format!("{:w$}fix: {f}\n", "", w = 4 + 2 + gw + 2 + nw + 2));
    }
    s
}

// LOCAL KEY INPUT — a minimal stand-in for the shared key-input helper
// being added on another branch (`--key K`, `--key -`, `--key-file F`);
// the lead should replace this with that helper when both are merged.
fn read_key(a: &DoctorArgs) -> Result<Option<String>, String> {
    const MAX: u64 = 64 * 1024;
    let text = match (&a.key, &a.key_file) {
        (None, None) => return Ok(None),
        (Some(k), None) if k != "-" => k.clone(),
        (Some(_), None) => {
            let mut s = String::new();
            std::io::stdin()
                .take(MAX)
                .read_to_string(&mut s)
                .map_err(|e| format!("cannot read the key from standard input: {e}"))?;
            s
        }
        (None, Some(f)) => {
            let file = std::fs::File::open(f)
                .map_err(|e| format!("cannot read key file {}: {e}", f.display()))?;
            let mut s = String::new();
            file.take(MAX)
                .read_to_string(&mut s)
                .map_err(|e| format!("cannot read key file {}: {e}", f.display()))?;
            s
        }
        (Some(_), Some(_)) => return Err("give --key or --key-file, not both".into()),
    };
    let t = text.trim();
    if t.is_empty() {
        return Err("the key is empty".into());
    }
    Ok(Some(t.to_string()))
}
