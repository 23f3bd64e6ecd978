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

/// Run `secret_command` with a time limit (the one runner,
/// `config::secret_command`); the result says how it went (exit status,
/// time, whether it printed something), never what it printed.
async fn secret_command(cmd: &str, t: &Timeouts) -> (CheckResult, Option<Secret>) {
    let started = Instant::now();
    let limit = t.secret_command;
    let owned = cmd.to_string();
    let ran =
        tokio::task::spawn_blocking(move || crate::config::secret_command::run(&owned, limit))
            .await;
    match ran {
        Ok(Ok(secret)) => (
            CheckResult::new(
                G,
                "secret",
                Status::Pass,
                format!(
                    "secret_command exited 0 in {} ms and printed a value",
                    ms(started)
                ),
            ),
            Some(secret),
        ),
        Ok(Err(e)) => (
            CheckResult::new(
                G,
                "secret",
                Status::Fail,
                format!("secret_command: {e} (after {} ms)", ms(started)),
            )
            .fix(e.fix()),
            None,
        ),
        Err(e) => (
            CheckResult::new(G, "secret", Status::Fail, format!("secret_command: {e}"))
                .fix("Run the secret_command by hand to see why it fails."),
            None,
        ),
    }
}
