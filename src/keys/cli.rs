//! `storedesk inspect [KEY|-] [--json]`: the key pane without the TUI.
//! Exit 0 usable (valid, renew soon/now), 1 not usable, 2 not a key.

use super::{
    AssessContext, Assessment, Cleaned, InputError, MAX_INPUT_BYTES, SignatureStatus, Verdict,
    assess, clean_bytes, clean_input, decode, relative,
};
use crate::cli::{Context, InspectArgs};
use chrono::{DateTime, Local, Utc};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::io::{IsTerminal, Read, Write};
use std::path::Path;

const LABEL_WIDTH: usize = 13;
/// Longer claim values (the opaque payload) are shortened in text output;
/// `--json` and the raw JSON keep them whole.
const MAX_VALUE_CHARS: usize = 96;

/// The exit status: 0 usable, 1 not usable, 2 not a key. A number rather
/// than an `ExitCode`, because the `storedesk` front returns it from a C `main`.
pub fn run(ctx: &Context, a: &InspectArgs) -> u8 {
    let cleaned = match read_key(a.key.as_deref()) {
        Ok(c) => c,
        Err(msg) => return fail(&msg),
    };
    let decoded = match decode(&cleaned.token) {
        Ok(d) => d,
        Err(e) => return fail(&e.to_string()),
    };
    let pem_path = ctx.paths.sandbox_dir().join("signing_key.pub.pem");
    let (pem, pem_error) = read_pem(&pem_path);
    let client_id = ctx.config.profile.client_id.trim();
    let actx = AssessContext {
        now: ctx.clock.now(),
        profile_client_id: (!client_id.is_empty()).then_some(client_id),
        sandbox_public_key_pem: pem.as_deref(),
    };
    let mut assessment = assess(&decoded, &actx);
    if let (SignatureStatus::NotChecked(_), Some(err)) = (&assessment.signature, pem_error)
        && decoded.header_str("kid") == Some(super::SANDBOX_KID)
    {
        assessment.signature = SignatureStatus::NotChecked(err);
    }

    let out = if a.json {
        let mut s =
            serde_json::to_string_pretty(&to_json(&cleaned, &assessment)).unwrap_or_default();
        s.push('\n');
        s
    } else {
        to_text(&cleaned, &assessment, actx.now)
    };
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush())
    {
        // A closed pipe (`| head`) is not worth a message; anything else is.
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("storedesk inspect: cannot write the result: {e}");
        }
    }
    exit_code(&assessment)
}

/// 0 when the key can be used now, else 1.
pub fn exit_code(a: &Assessment) -> u8 {
    if a.is_usable() { 0 } else { 1 }
}

fn fail(msg: &str) -> u8 {
    eprintln!("storedesk inspect: {msg}");
    2
}

fn read_key(arg: Option<&str>) -> Result<Cleaned, String> {
    match arg {
        Some(k) if k != "-" => clean_input(k).map_err(|e| e.to_string()),
        _ => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                eprintln!("storedesk inspect: paste the key, then press Ctrl-D");
            }
            let mut buf = Vec::new();
            let mut lock = stdin.lock();
            let limit = MAX_INPUT_BYTES as u64 + 1;
            (&mut lock)
                .take(limit)
                .read_to_end(&mut buf)
                .map_err(|e| format!("cannot read standard input: {e}"))?;
            if buf.len() > MAX_INPUT_BYTES {
                // Drain the rest so the reported size is true and the writer
                // does not die of SIGPIPE.
                let rest = std::io::copy(&mut lock, &mut std::io::sink()).unwrap_or(0);
                return Err(InputError::TooLarge {
                    len: buf.len() + rest as usize,
                    max: MAX_INPUT_BYTES,
                }
                .to_string());
            }
            clean_bytes(&buf).map_err(|e| e.to_string())
        }
    }
}

/// The sandbox's public key if present; an unreadable file is reported
/// rather than treated as absent.
fn read_pem(path: &Path) -> (Option<String>, Option<String>) {
    match std::fs::read_to_string(path) {
        Ok(s) => (Some(s), None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (
            None,
            Some(format!(
                "no sandbox public key at {} (the sandbox writes it when it first starts)",
                path.display()
            )),
        ),
        Err(e) => (None, Some(format!("cannot read {}: {e}", path.display()))),
    }
}

fn to_text(c: &Cleaned, a: &Assessment, now: DateTime<Utc>) -> String {
    let mut out = String::with_capacity(4096);
    // Writing to a String cannot fail; `write!` skips a temporary per line.
    let mut line = |label: &str, value: &str| {
        let _ = writeln!(out, "{label:<LABEL_WIDTH$}{value}");
    };
    for n in &c.notes {
        line("Input", n);
    }
    line("Kind", a.kind.label());
    line("Verdict", &a.verdict_detail);
    line("Signature", &a.signature.describe());
    line("Fingerprint", &a.fingerprint);
    let mut header = Vec::new();
    if let Some(alg) = &a.alg {
        header.push(format!("alg {alg}"));
    }
    if let Some(typ) = &a.typ {
        header.push(format!("typ {typ}"));
    }
    if let Some(kid) = &a.key_id {
        header.push(format!("key id {kid}"));
    }
    line("Header", &header.join(" · "));
    if let Some(u) = &a.user_id {
        line("User ID", u);
    }
    if let Some(cid) = &a.client_id {
        let m = match a.client_id_matches {
            Some(true) => " (matches the profile)",
            Some(false) => " (does NOT match the profile)",
            None => "",
        };
        line("Client ID", &format!("{cid}{m}"));
    }
    if let Some(r) = &a.refresh_uri {
        line("Refresh URI", r);
    }
    if let Some(i) = &a.issuer {
        line("Issuer", i);
    }
    if let Some(aud) = &a.audience {
        line("Audience", aud);
    }
    if let Some(st) = &a.service_token {
        if let Some(app) = &st.app_id {
            line("App ID", app);
        }
        if let Some(t) = &st.tenant_id {
            line("Tenant ID", t);
        }
        if !st.roles.is_empty() {
            line("Roles", &st.roles.join(", "));
        }
        if !st.scopes.is_empty() {
            line("Scopes", &st.scopes.join(" "));
        }
    }
    for (label, t) in [
        ("Issued at", a.issued_at),
        ("Not before", a.not_before),
        ("Expires", a.expires_at),
        ("Renew due", a.renew_due),
    ] {
        if let Some(t) = t {
            line(label, &when(t, now));
        }
    }
    if let Some(used) = a.lifetime_used {
        line("Lifetime", &gauge(used));
    }
    for w in &a.warnings {
        line("Warning", w);
    }
    out.push_str("Claims\n");
    let width = a
        .claims
        .iter()
        .map(|r| r.name.chars().count())
        .max()
        .unwrap_or(0);
    for r in &a.claims {
        let value = shorten(&r.value);
        let _ = if r.name == r.uri {
            writeln!(out, "  {:<width$}  {value}", r.name)
        } else {
            writeln!(
                out,
                "  {:<width$}  {value}\n  {:<width$}    ({})",
                r.name, "", r.uri
            )
        };
    }
    out
}

fn when(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    format!(
        "{} · {} local · {}",
        t.format("%Y-%m-%d %H:%M:%S UTC"),
        t.with_timezone(&Local).format("%Y-%m-%d %H:%M:%S %:z"),
        relative(t, now)
    )
}

fn gauge(used: f64) -> String {
    const CELLS: usize = 20;
    let filled = ((used * CELLS as f64).round() as usize).min(CELLS);
    format!(
        "[{}{}] {:.0} % used",
        "#".repeat(filled),
        "-".repeat(CELLS - filled),
        used * 100.0
    )
}

fn shorten(v: &str) -> String {
    let n = v.chars().count();
    if n <= MAX_VALUE_CHARS {
        return v.to_string();
    }
    let head: String = v.chars().take(MAX_VALUE_CHARS - 24).collect();
    let tail: String = v.chars().skip(n - 8).collect();
    format!("{head}…{tail} ({n} chars)")
}

fn to_json(c: &Cleaned, a: &Assessment) -> Value {
    let time = |t: Option<DateTime<Utc>>| t.map(|t| t.to_rfc3339());
    let reason = match &a.verdict {
        Verdict::Inconsistent(r) | Verdict::Undetermined(r) => Some(r.clone()),
        _ => None,
    };
    let (sig_status, sig_reason) = match &a.signature {
        SignatureStatus::VerifiedSandbox => ("verified_sandbox", None),
        SignatureStatus::NotVerifiableMicrosoft => ("not_verifiable_microsoft", None),
        SignatureStatus::Invalid(r) => ("invalid", Some(r.clone())),
        SignatureStatus::AlgNone => ("alg_none", None),
        SignatureStatus::NotChecked(r) => ("not_checked", Some(r.clone())),
    };
    json!({
        "kind": a.kind.as_str(),
        "usable": a.is_usable(),
        "verdict": {
            "label": a.verdict.label(),
            "usable": a.verdict.is_usable(),
            "reason": reason,
            "detail": a.verdict_detail,
        },
        "signature": {
            "status": sig_status,
            "reason": sig_reason,
            "detail": a.signature.describe(),
        },
        "fingerprint": a.fingerprint,
        "alg": a.alg,
        "typ": a.typ,
        "key_id": a.key_id,
        "user_id": a.user_id,
        "client_id": a.client_id,
        "client_id_matches": a.client_id_matches,
        "refresh_uri": a.refresh_uri,
        "issuer": a.issuer,
        "audience": a.audience,
        "issued_at": time(a.issued_at),
        "not_before": time(a.not_before),
        "expires_at": time(a.expires_at),
        "renew_due": time(a.renew_due),
        "lifetime_used": a.lifetime_used,
        "service_token": a.service_token.as_ref().map(|s| json!({
            "audience": s.audience,
            "app_id": s.app_id,
            "tenant_id": s.tenant_id,
            "roles": s.roles,
            "scopes": s.scopes,
        })),
        "warnings": a.warnings,
        "input_notes": c.notes,
        "claims": a.claims.iter().map(|r| json!({"name": r.name, "uri": r.uri, "value": r.value})).collect::<Vec<_>>(),
        "header": serde_json::from_str::<Value>(&a.header_json).unwrap_or(Value::Null),
        "payload": serde_json::from_str::<Value>(&a.payload_json).unwrap_or(Value::Null),
    })
}
