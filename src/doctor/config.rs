//! Config: the file parses, the profile resolves, its required fields are
//! there, and the secret source yields a secret (never shown).

use super::{CheckResult, Connection, State, Status, Timeouts, ms};
use crate::config::{LoadedConfig, Secret, SecretSource};
use std::path::Path;
use std::time::Instant;

const G: &str = "config";

pub(super) async fn check(
    config: &Result<LoadedConfig, String>,
    file: &Path,
    connection: Connection,
    t: &Timeouts,
    st: &mut State,
) -> Vec<CheckResult> {
    let started = Instant::now();
    let mut out = Vec::new();
    let loaded = match config {
        Ok(c) => c,
        Err(e) => {
            out.push(
                CheckResult::new(G, "file", Status::Fail, e.clone())
                    .fix(format!(
                        "Correct the line and field named above in {} (or point --config at another file); every other check needs a profile.",
                        file.display()
                    ))
                    .took(started),
            );
            return out;
        }
    };
    let p = &loaded.profile;
    out.push(CheckResult::new(
        G,
        "file",
        Status::Pass,
        match &loaded.file {
            Some(f) => format!("{} parsed", f.display()),
            None => format!("no file at {}: built-in profiles only", file.display()),
        },
    ));
    let how = if p.embedded {
        "the embedded sandbox".to_string()
    } else if let Some(u) = &p.sandbox_url {
        format!("a sandbox at {u}")
    } else {
        format!("login {}", p.login_url)
    };
    out.push(CheckResult::new(
        G,
        "profile",
        Status::Pass,
        format!(
            "{:?} ({}), {how}, token style {:?}",
            p.name, p.environment, p.token_style
        )
        .replace("V1", "v1")
        .replace("V2", "v2"),
    ));
    st.profile = Some(p.clone());

    // Required fields (the embedded sandbox brings its own).
    let mut missing = Vec::new();
    if !p.embedded {
        for (field, value, env) in [
            ("tenant_id", &p.tenant_id, "STOREDESK_TENANT_ID"),
            ("client_id", &p.client_id, "STOREDESK_CLIENT_ID"),
        ] {
            if value.trim().is_empty() {
                missing.push((field, env));
            }
        }
    }
    if missing.is_empty() {
        out.push(CheckResult::new(
            G,
            "fields",
            Status::Pass,
            if p.embedded {
                "embedded sandbox: tenant and client id built in".to_string()
            } else {
                format!("tenant_id {} · client_id {}", p.tenant_id, p.client_id)
            },
        ));
    } else {
        let names: Vec<&str> = missing.iter().map(|(f, _)| *f).collect();
        let env_hint = if p.name == "retail" {
            let envs: Vec<&str> = missing.iter().map(|(_, e)| *e).collect();
            format!(" or export {}", envs.join(" / "))
        } else {
            String::new()
        };
        out.push(
            CheckResult::new(G, "fields", Status::Fail, format!("missing: {}", names.join(", ")))
                .fix(format!(
                    "Set {} in profile {:?} of the config file{env_hint}: the Directory (tenant) ID and Application (client) ID of your Entra app registration.",
                    names.join(" and "),
                    p.name
                )),
        );
    }

    // The secret: resolved here (with a time limit), never printed.
    let started = Instant::now();
    let secret = match &p.secret {
        SecretSource::Embedded => {
            out.push(CheckResult::new(
                G,
                "secret",
                Status::Pass,
                "embedded sandbox app: held in memory",
            ));
            None
        }
        SecretSource::None => {
            out.push(
                CheckResult::new(G, "secret", Status::Fail, "no secret source configured")
                    .fix(format!(
                        "Set client_secret_env (the name of an environment variable holding the secret) or secret_command in profile {:?}; never the secret itself.",
                        p.name
                    )),
            );
            None
        }
        SecretSource::Env(var) => match std::env::var(var) {
            Ok(v) if !v.trim().is_empty() => {
                out.push(CheckResult::new(
                    G,
                    "secret",
                    Status::Pass,
                    format!("environment variable {var} is set"),
                ));
                Some(Secret::new(v))
            }
            _ => {
                out.push(
                    CheckResult::new(
                        G,
                        "secret",
                        Status::Fail,
                        format!("environment variable {var} is not set"),
                    )
                    .fix(format!(
                        "Export {var} with the client secret of app {} (Entra → App registrations → Certificates & secrets) before starting storedesk, or set secret_command in profile {:?}.",
                        if p.client_id.is_empty() { "<client_id>" } else { &p.client_id },
                        p.name
                    ))
                    .took(started),
                );
                None
            }
        },
        SecretSource::Command(cmd) => {
            let (r, secret) = secret_command(cmd, t).await;
            out.push(r.took(started));
            secret
        }
    };

    match connection {
        Connection::Ready(c) => st.client = Some(c),
        Connection::Deferred(make) => {
            if let Some(s) = secret
                && missing.is_empty()
            {
                match make(s) {
                    Ok(c) => st.client = Some(c),
                    Err(e) => out.push(
                        CheckResult::new(G, "client", Status::Fail, e.to_string())
                            .fix("The profile's URLs or settings cannot make a client: correct the field named above."),
                    ),
                }
            }
        }
        Connection::None => {}
    }
    out
}

/// Run `secret_command` with a time limit; the result says how it went
/// (exit status, time, whether it printed something), never what it printed.
async fn secret_command(cmd: &str, t: &Timeouts) -> (CheckResult, Option<Secret>) {
    let started = Instant::now();
    let limit = t.secret_command.as_secs();
    let child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn();
    let child = match child {
        Ok(c) => c,
        Err(e) => {
            return (
                CheckResult::new(
                    G,
                    "secret",
                    Status::Fail,
                    format!("secret_command could not start: {e}"),
                )
                .fix("Check that secret_command names a program on PATH (it runs under sh -c)."),
                None,
            );
        }
    };
    match tokio::time::timeout(t.secret_command, child.wait_with_output()).await {
        Err(_) => (
            CheckResult::new(
                G,
                "secret",
                Status::Fail,
                format!("secret_command did not finish within {limit} s (stopped)"),
            )
            .fix("The command waits for something — a passphrase prompt, a locked keyring, the network: make it non-interactive (unlock the store first) so it prints the secret at once."),
            None,
        ),
        Ok(Err(e)) => (
            CheckResult::new(G, "secret", Status::Fail, format!("secret_command failed: {e}"))
                .fix("Run the secret_command by hand to see why it fails."),
            None,
        ),
        Ok(Ok(out)) if !out.status.success() => (
            CheckResult::new(
                G,
                "secret",
                Status::Fail,
                format!("secret_command exited with {} after {} ms", out.status, ms(started)),
            )
            .fix("Run the secret_command by hand: it must exit 0 and print only the secret."),
            None,
        ),
        Ok(Ok(out)) => {
            let s = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if s.is_empty() {
                (
                    CheckResult::new(
                        G,
                        "secret",
                        Status::Fail,
                        "secret_command exited 0 but printed nothing",
                    )
                    .fix("The command must print the secret on standard output (check the entry it reads exists)."),
                    None,
                )
            } else {
                (
                    CheckResult::new(
                        G,
                        "secret",
                        Status::Pass,
                        format!("secret_command exited 0 in {} ms and printed a value", ms(started)),
                    ),
                    Some(Secret::new(s)),
                )
            }
        }
    }
}
