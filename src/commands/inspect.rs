//! `storedesk inspect [KEY|-] [--json|--ndjson]`: the key pane without the
//! TUI. Exit 0 usable (valid, renew soon/now), 1 not usable, 2 not a key.
//!
//! With `-` (or no KEY) it reads standard input as one key per line — any
//! number of them, blank lines skipped — and prints one result per key in
//! input order (`--json`: one array, streamed; `--ndjson`: one object a
//! line); the exit code is the worst of them.
//! A line longer than a key can be is reported and skipped without being
//! held in memory; binary input (a NUL byte) ends the run at once.

use crate::commands::{Context, InspectArgs};
use crate::keys::{
    AssessContext, Assessment, Cleaned, InputError, MAX_INPUT_BYTES, SignatureStatus, Verdict,
    assess, clean_bytes, clean_input, decode, relative,
};
use chrono::{DateTime, Local, Utc};
use serde::Serialize;
use std::fmt::Write as _;
use std::io::{BufRead, IsTerminal, Read, Write};

const LABEL_WIDTH: usize = 13;
/// Longer claim values (the opaque payload) are shortened in text output;
/// `--json` and the raw JSON keep them whole.
const MAX_VALUE_CHARS: usize = 96;
/// Exit status for input that holds no key.
const NOT_A_KEY: u8 = 2;

/// How results are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    Text,
    /// One JSON document: an object for one KEY, an array for standard input.
    Json,
    /// One JSON object per line.
    Ndjson,
}

impl Output {
    fn of(a: &InspectArgs) -> Self {
        match (a.json, a.ndjson) {
            (true, _) => Output::Json,
            (_, true) => Output::Ndjson,
            _ => Output::Text,
        }
    }
}

/// What every key of one run is assessed against: read once, not per key.
pub struct InspectEnv {
    pub now: DateTime<Utc>,
    pub profile_client_id: Option<String>,
    pub sandbox_public_key_pem: Option<String>,
    /// Why the sandbox key could not be read, for a sandbox-signed key.
    pub pem_error: Option<String>,
}

impl InspectEnv {
    pub fn from_context(ctx: &Context) -> Self {
        let (pem, pem_error) = match super::connect::sandbox_public_key(&ctx.paths, None) {
            Ok(pem) => (Some(pem), None),
            Err(e) => (None, Some(e)),
        };
        let client_id = ctx.config.profile.client_id.trim();
        Self {
            now: ctx.clock.now(),
            profile_client_id: (!client_id.is_empty()).then(|| client_id.to_string()),
            sandbox_public_key_pem: pem,
            pem_error,
        }
    }

    /// Decode and assess one cleaned key; `Err` is "not a key".
    fn assess(&self, cleaned: &Cleaned) -> Result<Assessment, String> {
        let decoded = decode(&cleaned.token).map_err(|e| e.to_string())?;
        let actx = AssessContext {
            now: self.now,
            profile_client_id: self.profile_client_id.as_deref(),
            sandbox_public_key_pem: self.sandbox_public_key_pem.as_deref(),
        };
        let mut assessment = assess(&decoded, &actx);
        if let (SignatureStatus::NotChecked(_), Some(err)) =
            (&assessment.signature, &self.pem_error)
            && decoded.header_str("kid") == Some(crate::keys::SANDBOX_KID)
        {
            assessment.signature = SignatureStatus::NotChecked(err.clone());
        }
        Ok(assessment)
    }
}

/// The exit status: 0 usable, 1 not usable, 2 not a key. A number, so
/// that a run over many keys can keep the worst.
pub fn run(ctx: &Context, a: &InspectArgs) -> u8 {
    let env = InspectEnv::from_context(ctx);
    let output = Output::of(a);
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    match a.key.as_deref() {
        Some(k) if k != "-" => one(k, &env, output, &mut stdout.lock(), &mut stderr.lock()),
        _ => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                eprintln!("storedesk inspect: paste keys, one per line, then press Ctrl-D");
            }
            let mut out = std::io::BufWriter::with_capacity(64 * 1024, stdout.lock());
            let code = stream(stdin.lock(), &env, output, &mut out, &mut stderr.lock());
            match out.flush() {
                Ok(()) => code,
                Err(e) => output_failed(&e, code),
            }
        }
    }
}

/// One key given as an argument.
fn one(
    raw: &str,
    env: &InspectEnv,
    output: Output,
    out: &mut impl Write,
    err: &mut impl Write,
) -> u8 {
    let result = clean_input(raw)
        .map_err(|e| e.to_string())
        .and_then(|c| env.assess(&c).map(|a| (c, a)));
    let (cleaned, assessment) = match result {
        Ok(r) => r,
        Err(msg) => {
            let _ = writeln!(err, "storedesk inspect: {msg}");
            return NOT_A_KEY;
        }
    };
    let text = match output {
        Output::Json => {
            let mut s = serde_json::to_string_pretty(&key_json(&cleaned, &assessment, None))
                .unwrap_or_default();
            s.push('\n');
            s
        }
        Output::Ndjson => format!(
            "{}\n",
            serde_json::to_string(&key_json(&cleaned, &assessment, None)).unwrap_or_default()
        ),
        Output::Text => to_text(&cleaned, &assessment, env.now),
    };
    let code = exit_code(&assessment);
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => code,
        Err(e) => output_failed(&e, code),
    }
}

/// A closed pipe (`| head`) is not worth a message; anything else is. The
/// exit code stays the assessment's.
fn output_failed(e: &std::io::Error, code: u8) -> u8 {
    if e.kind() != std::io::ErrorKind::BrokenPipe {
        eprintln!("storedesk inspect: cannot write the result: {e}");
    }
    code
}

/// What one line of input turned out to be.
enum Line {
    /// The line's bytes (without the line break).
    Text(Vec<u8>),
    /// Longer than any key: its length, read through but not kept.
    TooLong(usize),
    /// A NUL byte: this is not a list of keys.
    Binary { at: usize },
}

/// Reads lines of at most [`MAX_INPUT_BYTES`], never holding more.
struct Lines<R> {
    input: std::io::BufReader<R>,
    offset: usize,
}

impl<R: Read> Lines<R> {
    /// The next line, or `None` at the end of input.
    fn next_line(&mut self, before_wait: &mut dyn FnMut()) -> std::io::Result<Option<Line>> {
        let mut buf = Vec::new();
        let mut len = 0usize;
        let mut started = false;
        loop {
            if self.input.buffer().is_empty() {
                // The next read may block (a person typing, a script that
                // waits for this answer): show what is done first.
                before_wait();
            }
            let chunk = match self.input.fill_buf() {
                Ok([]) => {
                    return Ok(started.then(|| finish(buf, len)));
                }
                Ok(c) => c,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            started = true;
            let end = chunk.iter().position(|&b| b == b'\n');
            let part = &chunk[..end.unwrap_or(chunk.len())];
            if let Some(i) = part.iter().position(|&b| b == 0) {
                return Ok(Some(Line::Binary {
                    at: self.offset + len + i,
                }));
            }
            len += part.len();
            if len <= MAX_INPUT_BYTES {
                buf.extend_from_slice(part);
            } else {
                // Past the limit the line is only counted, never kept.
                buf = Vec::new();
            }
            let consumed = part.len() + usize::from(end.is_some());
            self.input.consume(consumed);
            self.offset += consumed;
            if end.is_some() {
                return Ok(Some(finish(buf, len)));
            }
        }
    }
}

fn finish(mut buf: Vec<u8>, len: usize) -> Line {
    if len > MAX_INPUT_BYTES {
        return Line::TooLong(len);
    }
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    Line::Text(buf)
}

/// Keys from `input`, one per line; results to `out` in input order,
/// problems to `err`. Returns the worst exit status.
pub fn stream(
    input: impl Read,
    env: &InspectEnv,
    output: Output,
    out: &mut impl Write,
    err: &mut impl Write,
) -> u8 {
    let json = output != Output::Text;
    // `--json` streams one array: "[" before the first result, "," between.
    let mut array_open = false;
    let mut lines = Lines {
        input: std::io::BufReader::with_capacity(64 * 1024, input),
        offset: 0,
    };
    let mut worst = 0u8;
    let mut seen_any_byte = false;
    let mut results = 0usize;
    // Text output of a lone key is exactly `inspect KEY`'s; with more, each
    // result gets a header naming its line. So the first result waits
    // until a second one shows there is more than one.
    let mut held: Option<(usize, Result<String, String>)> = None;
    let mut line_no = 0usize;
    let mut out_failed = false;
    loop {
        let mut flush = || {
            let _ = out.flush();
        };
        let line = match lines.next_line(&mut flush) {
            Ok(Some(l)) => l,
            Ok(None) => break,
            Err(e) => {
                let _ = writeln!(err, "storedesk inspect: cannot read standard input: {e}");
                worst = worst.max(NOT_A_KEY);
                break;
            }
        };
        line_no += 1;
        seen_any_byte = true;
        let result: Result<(Cleaned, Assessment), String> = match line {
            Line::Binary { at } => {
                let msg = format!(
                    "{}not text: binary data (NUL byte at byte {at}); expected keys, one per line",
                    line_prefix(line_no, results)
                );
                let _ = writeln!(err, "storedesk inspect: {msg}");
                worst = worst.max(NOT_A_KEY);
                break;
            }
            Line::TooLong(len) => Err(InputError::TooLarge {
                len,
                max: MAX_INPUT_BYTES,
            }
            .to_string()),
            Line::Text(bytes) => {
                if bytes.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                clean_bytes(&bytes)
                    .map_err(|e| e.to_string())
                    .and_then(|c| env.assess(&c).map(|a| (c, a)))
            }
        };
        results += 1;
        let code = result.as_ref().map_or(NOT_A_KEY, |(_, a)| exit_code(a));
        worst = worst.max(code);
        let rendered = render(&result, line_no, env, json);
        if json {
            // Every line has its object, in order; errors on stderr too.
            if let Err(msg) = &result {
                let _ = writeln!(err, "storedesk inspect: line {line_no}: {msg}");
            }
            if !out_failed && output == Output::Json {
                let sep: &[u8] = if array_open { b",\n" } else { b"[\n" };
                array_open = true;
                out_failed = out.write_all(sep).is_err();
            }
            if !out_failed {
                out_failed = write_line(out, &rendered, output == Output::Ndjson).is_err();
            }
            continue;
        }
        match held.take() {
            None if results == 1 => held = Some((line_no, rendered)),
            first => {
                if let Some((n, r)) = first {
                    emit_text(out, err, n, r, true, &mut out_failed);
                }
                emit_text(out, err, line_no, rendered, true, &mut out_failed);
            }
        }
    }
    if let Some((n, r)) = held {
        emit_text(out, err, n, r, false, &mut out_failed);
    }
    if array_open && !out_failed {
        let _ = out.write_all(b"\n]\n");
    }
    if results == 0 && worst == 0 {
        let e = if seen_any_byte {
            InputError::Blank
        } else {
            InputError::Empty
        };
        let _ = writeln!(err, "storedesk inspect: {e}");
        return NOT_A_KEY;
    }
    worst
}

fn line_prefix(line_no: usize, results: usize) -> String {
    if line_no > 1 || results > 0 {
        format!("line {line_no}: ")
    } else {
        String::new()
    }
}

/// One result as text (an assessment) or JSON (an object, with its line).
fn render(
    result: &Result<(Cleaned, Assessment), String>,
    line_no: usize,
    env: &InspectEnv,
    json: bool,
) -> Result<String, String> {
    match (result, json) {
        (Ok((c, a)), true) => Ok(to_json_line(c, a, line_no)),
        (Err(msg), true) => Ok(error_json_line(line_no, msg)),
        (Ok((c, a)), false) => Ok(to_text(c, a, env.now)),
        (Err(msg), false) => Err(msg.clone()),
    }
}

fn to_json_line(c: &Cleaned, a: &Assessment, line_no: usize) -> String {
    serde_json::to_string(&key_json(c, a, Some(line_no))).unwrap_or_default()
}

fn error_json_line(line: usize, error: &str) -> String {
    #[derive(Serialize)]
    struct ErrorJson<'a> {
        line: usize,
        error: &'a str,
    }
    serde_json::to_string(&ErrorJson { line, error }).unwrap_or_default()
}

/// One rendered result; `newline` ends it (NDJSON), else the array's
/// separator follows.
fn write_line(
    out: &mut impl Write,
    r: &Result<String, String>,
    newline: bool,
) -> std::io::Result<()> {
    let line = match r {
        Ok(s) | Err(s) => s,
    };
    out.write_all(line.as_bytes())?;
    if newline {
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// A text result: with `header`, a `# line N` line first; a line that held
/// no key goes to stderr (and, among several, its header to stdout, so the
/// results stay one per line of input).
fn emit_text(
    out: &mut impl Write,
    err: &mut impl Write,
    line_no: usize,
    r: Result<String, String>,
    header: bool,
    failed: &mut bool,
) {
    if *failed {
        if let Err(msg) = &r {
            let _ = writeln!(err, "storedesk inspect: line {line_no}: {msg}");
        }
        return;
    }
    let res = match (&r, header) {
        (Ok(text), true) => write!(out, "# line {line_no}\n{text}\n"),
        (Ok(text), false) => out.write_all(text.as_bytes()),
        (Err(msg), true) => {
            let _ = writeln!(err, "storedesk inspect: line {line_no}: {msg}");
            write!(out, "# line {line_no}\nError        {msg}\n\n")
        }
        (Err(msg), false) => {
            let _ = writeln!(err, "storedesk inspect: {msg}");
            Ok(())
        }
    };
    *failed = res.is_err();
}

/// 0 when the key can be used now, else 1.
pub fn exit_code(a: &Assessment) -> u8 {
    if a.is_usable() { 0 } else { 1 }
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

/// The `--json` shape of one key. Borrowed and serialized directly (the
/// header and payload as the raw JSON they were decoded from), so a stream
/// of keys does not build and re-parse a value tree per key.
#[derive(Serialize)]
struct KeyJson<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
    kind: &'a str,
    usable: bool,
    verdict: VerdictJson<'a>,
    signature: SignatureJson<'a>,
    fingerprint: &'a str,
    alg: Option<&'a str>,
    typ: Option<&'a str>,
    key_id: Option<&'a str>,
    user_id: Option<&'a str>,
    client_id: Option<&'a str>,
    client_id_matches: Option<bool>,
    refresh_uri: Option<&'a str>,
    issuer: Option<&'a str>,
    audience: Option<&'a str>,
    issued_at: Option<String>,
    not_before: Option<String>,
    expires_at: Option<String>,
    renew_due: Option<String>,
    lifetime_used: Option<f64>,
    service_token: Option<ServiceTokenJson<'a>>,
    warnings: &'a [String],
    input_notes: &'a [String],
    claims: Vec<ClaimJson<'a>>,
    header: &'a serde_json::Value,
    /// The claims by name, as a JSON reader sees them (a repeated name:
    /// the last one).
    payload: std::collections::BTreeMap<&'a str, &'a serde_json::Value>,
}

#[derive(Serialize)]
struct VerdictJson<'a> {
    label: &'a str,
    usable: bool,
    /// What the times alone say, so a forged key's expiry still shows.
    times: &'a str,
    reason: Option<&'a str>,
    detail: &'a str,
}

#[derive(Serialize)]
struct SignatureJson<'a> {
    status: &'a str,
    reason: Option<&'a str>,
    detail: String,
}

#[derive(Serialize)]
struct ServiceTokenJson<'a> {
    audience: Option<&'a str>,
    app_id: Option<&'a str>,
    tenant_id: Option<&'a str>,
    roles: &'a [String],
    scopes: &'a [String],
}

#[derive(Serialize)]
struct ClaimJson<'a> {
    name: &'a str,
    uri: &'a str,
    value: &'a str,
}

fn key_json<'a>(c: &'a Cleaned, a: &'a Assessment, line: Option<usize>) -> KeyJson<'a> {
    let time = |t: Option<DateTime<Utc>>| t.map(|t| t.to_rfc3339());
    let reason = match &a.verdict {
        Verdict::Inconsistent(r) | Verdict::Undetermined(r) | Verdict::SignatureInvalid(r) => {
            Some(r.as_str())
        }
        _ => None,
    };
    let (status, sig_reason) = match &a.signature {
        SignatureStatus::VerifiedSandbox => ("verified_sandbox", None),
        SignatureStatus::NotVerifiableMicrosoft => ("not_verifiable_microsoft", None),
        SignatureStatus::Invalid(r) => ("invalid", Some(r.as_str())),
        SignatureStatus::AlgNone => ("alg_none", None),
        SignatureStatus::NotChecked(r) => ("not_checked", Some(r.as_str())),
    };
    KeyJson {
        line,
        kind: a.kind.as_str(),
        usable: a.is_usable(),
        verdict: VerdictJson {
            label: a.verdict.label(),
            usable: a.verdict.is_usable(),
            times: a.time_verdict.label(),
            reason,
            detail: &a.verdict_detail,
        },
        signature: SignatureJson {
            status,
            reason: sig_reason,
            detail: a.signature.describe(),
        },
        fingerprint: &a.fingerprint,
        alg: a.alg.as_deref(),
        typ: a.typ.as_deref(),
        key_id: a.key_id.as_deref(),
        user_id: a.user_id.as_deref(),
        client_id: a.client_id.as_deref(),
        client_id_matches: a.client_id_matches,
        refresh_uri: a.refresh_uri.as_deref(),
        issuer: a.issuer.as_deref(),
        audience: a.audience.as_deref(),
        issued_at: time(a.issued_at),
        not_before: time(a.not_before),
        expires_at: time(a.expires_at),
        renew_due: time(a.renew_due),
        lifetime_used: a.lifetime_used,
        service_token: a.service_token.as_ref().map(|s| ServiceTokenJson {
            audience: s.audience.as_deref(),
            app_id: s.app_id.as_deref(),
            tenant_id: s.tenant_id.as_deref(),
            roles: &s.roles,
            scopes: &s.scopes,
        }),
        warnings: &a.warnings,
        input_notes: &c.notes,
        claims: a
            .claims
            .iter()
            .map(|r| ClaimJson {
                name: &r.name,
                uri: &r.uri,
                value: &r.value,
            })
            .collect(),
        // Serialized from what was decoded: no JSON text made and read
        // again per key.
        header: &a.header,
        payload: a
            .payload_fields
            .iter()
            .map(|(k, v)| (k.as_str(), v))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::Value;

    /// An unsigned key of the right shape (HS256, so not verified).
    const KEY: &str = concat!(
        "eyJhbGciOiJIUzI1NiJ9.",
        "eyJzdWIiOiJ4IiwiaWF0IjoxNzkwMDAwMDAwLCJleHAiOjE3OTAwMDM2MDB9.",
        "c2ln"
    );

    fn env() -> InspectEnv {
        InspectEnv {
            now: DateTime::from_timestamp(1_790_000_100, 0).unwrap_or_default(),
            profile_client_id: None,
            sandbox_public_key_pem: None,
            pem_error: None,
        }
    }

    fn line_for(kind: u8) -> String {
        match kind % 5 {
            0 => KEY.to_string(),
            1 => format!("Bearer {KEY}"),
            2 => "not a key at all".into(),
            3 => String::new(),
            _ => "   ".into(),
        }
    }

    proptest! {
        /// N mixed lines give one JSON result per non-blank line, in order.
        #[test]
        fn json_results_follow_the_input_lines(kinds in proptest::collection::vec(0u8..5, 0..40)) {
            let lines: Vec<String> = kinds.iter().map(|k| line_for(*k)).collect();
            let input = lines.join("\n");
            let (mut out, mut err) = (Vec::new(), Vec::new());
            let code = stream(input.as_bytes(), &env(), Output::Ndjson, &mut out, &mut err);
            let expected: Vec<usize> = lines
                .iter()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
                .map(|(i, _)| i + 1)
                .collect();
            let got: Vec<usize> = String::from_utf8_lossy(&out)
                .lines()
                .map(|l| serde_json::from_str::<Value>(l).ok().and_then(|v| v["line"].as_u64()).unwrap_or(0) as usize)
                .collect();
            prop_assert_eq!(&got, &expected);
            // `--json`: the same results as one array (nothing when no key).
            let mut doc = Vec::new();
            stream(input.as_bytes(), &env(), Output::Json, &mut doc, &mut Vec::new());
            if expected.is_empty() {
                prop_assert!(doc.is_empty());
            } else {
                let arr: Vec<Value> = serde_json::from_slice(&doc).unwrap_or_default();
                let lines: Vec<usize> = arr.iter().map(|v| v["line"].as_u64().unwrap_or(0) as usize).collect();
                prop_assert_eq!(&lines, &expected);
            }
            let worst = if expected.is_empty() || lines.iter().any(|l| l.starts_with("not")) { 2 } else { 1 };
            // A line with no key (or no line at all) is the worst outcome.
            if worst == 2 {
                prop_assert_eq!(code, 2);
            } else {
                prop_assert!(code <= 1);
            }
        }
    }
    /// A key whose header JSON spans lines still gives one NDJSON line,
    /// and the header object itself is kept.
    #[test]
    fn a_pretty_printed_header_stays_on_one_line() {
        use base64::Engine as _;
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let key = format!(
            "{}.{}.c2ln",
            b64("{\n  \"alg\": \"HS256\"\n}"),
            b64(r#"{"sub":"x","iat":1790000000,"exp":1790003600}"#)
        );
        let input = format!("{key}\n{KEY}\n");
        let (mut out, mut err) = (Vec::new(), Vec::new());
        stream(input.as_bytes(), &env(), Output::Ndjson, &mut out, &mut err);
        let text = String::from_utf8_lossy(&out);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        let first: Value = serde_json::from_str(lines[0]).unwrap_or_default();
        assert_eq!(first["header"]["alg"], "HS256", "{text}");
        assert_eq!(first["line"], 1);
        assert_eq!(first["payload"]["sub"], "x");
    }
}
