//! `StoreError`: everything an agent needs to understand a failed Store call
//! or quote it to Microsoft, and nothing secret.

use std::fmt;
use std::time::Duration;

/// The ids Microsoft asks for when a call is escalated.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct CorrelationIds {
    /// `MS-CorrelationId`
    pub correlation_id: Option<String>,
    /// `MS-RequestId`
    pub request_id: Option<String>,
    /// `MS-CV`
    pub cv: Option<String>,
    /// `x-ms-request-id`: what Azure (Entra, Storage queues) answers with,
    /// and what Microsoft support traces an Azure call by.
    pub azure_request_id: Option<String>,
}

impl CorrelationIds {
    pub fn from_headers(h: &reqwest::header::HeaderMap) -> Self {
        let get = |name: &str| {
            h.get(name)
                .and_then(|v| v.to_str().ok())
                .map(|s| s.chars().take(200).collect::<String>())
                .filter(|s| !s.is_empty())
        };
        Self {
            correlation_id: get("ms-correlationid"),
            request_id: get("ms-requestid"),
            cv: get("ms-cv"),
            azure_request_id: get("x-ms-request-id"),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.pairs().next().is_none()
    }

    /// Each id present, named as on the wire: the one list the error
    /// text, the case's failed calls and the journal show.
    pub fn pairs(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            ("MS-CorrelationId", &self.correlation_id),
            ("MS-RequestId", &self.request_id),
            ("MS-CV", &self.cv),
            ("x-ms-request-id", &self.azure_request_id),
        ]
        .into_iter()
        .filter_map(|(name, v)| v.as_deref().map(|v| (name, v)))
    }
}

impl fmt::Display for CorrelationIds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        for (name, v) in self.pairs() {
            write!(f, "{sep}{name}={v}")?;
            sep = " ";
        }
        Ok(())
    }
}

/// What every call reports besides its value.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct CallMeta {
    /// HTTP status of the final attempt.
    pub status: u16,
    pub correlation: CorrelationIds,
    /// HTTP attempts made (1 unless a read was retried).
    pub attempts: u32,
}

/// A successful call: its value and how it went.
#[derive(Clone, Debug)]
pub struct Response<T> {
    pub value: T,
    pub meta: CallMeta,
}

impl<T> Response<T> {
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Response<U> {
        Response {
            value: f(self.value),
            meta: self.meta,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum ErrorKind {
    /// Connection refused / reset, DNS, TLS: no HTTP answer.
    Transport,
    /// No complete answer within the configured timeout.
    Timeout,
    /// The service answered with a non-success status.
    Http,
    /// A success status whose body is not what the contract says.
    Decode,
    /// The answer was larger than the configured body cap.
    BodyTooLarge,
    /// Refused locally: the customer's call budget is spent.
    Budget,
    /// The caller cancelled.
    Cancelled,
    /// Bad configuration or input detected before anything was sent.
    Config,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorKind::Transport => "network error",
            ErrorKind::Timeout => "timed out",
            ErrorKind::Http => "HTTP error",
            ErrorKind::Decode => "unexpected response",
            ErrorKind::BodyTooLarge => "response too large",
            ErrorKind::Budget => "call budget spent",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Config => "configuration error",
        })
    }
}

/// A failed Store call. Never carries a secret, a service token or a full
/// key: server messages are scrubbed of anything JWT-shaped before they land
/// here. Boxed so `Result<_, StoreError>` stays small; fields are read
/// through `Deref` (`e.status`, `e.kind`, …).
#[derive(Clone, Debug, thiserror::Error)]
#[error("{}", .0.describe())]
pub struct StoreError(Box<ErrorInfo>);

impl std::ops::Deref for StoreError {
    type Target = ErrorInfo;
    fn deref(&self) -> &ErrorInfo {
        &self.0
    }
}

impl std::ops::DerefMut for StoreError {
    fn deref_mut(&mut self) -> &mut ErrorInfo {
        &mut self.0
    }
}

impl From<ErrorInfo> for StoreError {
    fn from(i: ErrorInfo) -> Self {
        Self(Box::new(i))
    }
}

/// What a `StoreError` carries.
#[derive(Clone, Debug)]
pub struct ErrorInfo {
    pub kind: ErrorKind,
    /// Which call failed, e.g. "publisherQuery".
    pub op: &'static str,
    pub status: Option<u16>,
    /// `code` of the error body (or Entra's `error`, or the queue's `<Code>`).
    pub code: Option<String>,
    pub message: String,
    /// `innererror.code`, where the real reason usually is.
    pub inner_code: Option<String>,
    pub correlation: CorrelationIds,
    pub retry_after: Option<Duration>,
    pub attempts: u32,
    /// Whether an error body could be parsed (part of `is_definite`).
    pub parsed_body: bool,
    /// Whether this call's own request left this process (a token fetch
    /// made on its behalf does not count).
    pub sent: bool,
    /// The failed call was a write (set by the client's `execute`): only
    /// then does a timeout's hint speak of a write that may have applied.
    pub write: bool,
}

impl ErrorInfo {
    fn describe(&self) -> String {
        let mut s = format!("{}: {}", self.op, self.kind);
        if let Some(st) = self.status {
            s.push_str(&format!(" {st}"));
        }
        match (&self.code, &self.inner_code) {
            (Some(c), Some(i)) if c != i => s.push_str(&format!(" {c}/{i}")),
            (Some(c), _) | (None, Some(c)) => s.push_str(&format!(" {c}")),
            _ => {}
        }
        if !self.message.is_empty() {
            s.push_str(": ");
            s.push_str(&self.message);
        }
        if let Some(ra) = self.retry_after {
            s.push_str(&format!(" (retry after {} s)", ra.as_secs().max(1)));
        }
        if !self.correlation.is_empty() {
            s.push_str(&format!(" [{}]", self.correlation));
        }
        s
    }

    pub fn new(kind: ErrorKind, op: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind,
            op,
            status: None,
            code: None,
            message: message.into(),
            inner_code: None,
            correlation: CorrelationIds::default(),
            retry_after: None,
            attempts: 0,
            parsed_body: false,
            sent: false,
            write: false,
        }
    }
}

impl StoreError {
    pub fn new(kind: ErrorKind, op: &'static str, message: impl Into<String>) -> Self {
        ErrorInfo::new(kind, op, message).into()
    }

    pub fn config(op: &'static str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config, op, message)
    }

    pub fn cancelled(op: &'static str) -> Self {
        Self::new(ErrorKind::Cancelled, op, "cancelled by the operator")
    }

    /// The most specific code known: the inner code if there is one.
    pub fn best_code(&self) -> Option<&str> {
        self.inner_code.as_deref().or(self.code.as_deref())
    }

    fn has_code(&self, c: &str) -> bool {
        self.inner_code
            .as_deref()
            .is_some_and(|x| x.eq_ignore_ascii_case(c))
            || self
                .code
                .as_deref()
                .is_some_and(|x| x.eq_ignore_ascii_case(c))
    }

    /// One line telling a support agent what this most likely means.
    pub fn hint(&self) -> Option<&'static str> {
        // Entra's refusals name the profile field to fix (one table, shared
        // with doctor).
        if let Some(p) = super::entra::EntraProblem::diagnose(self.code.as_deref(), &self.message) {
            return Some(p.hint());
        }
        const HINTS: &[(&str, &str)] = &[
            (
                "InconsistentClientId",
                "this key was minted for a different Entra app than the profile's client id",
            ),
            (
                "AuthenticationTokenInvalid",
                "the service token or the key was rejected: an expired or revoked key needs a new one from the client app",
            ),
            (
                "PartnerAadTicketRequired",
                "no service token was sent: check the profile's tenant, client id and secret",
            ),
            (
                "InvalidParameter",
                "the request was malformed: check product ids (at most 100), the key kind and the fields sent",
            ),
            (
                "AuthenticationFailed",
                "the clawback queue SAS token is expired or invalid: fetch a new one",
            ),
            (
                "MessageNotFound",
                "the message was already deleted or its pop receipt is stale",
            ),
            (
                "PopReceiptMismatch",
                "the message was received again since: use the newer pop receipt",
            ),
        ];
        for (code, hint) in HINTS {
            if self.has_code(code) {
                return Some(hint);
            }
        }
        match (self.kind, self.status) {
            (ErrorKind::Budget, _) => Some(
                "100 collection calls per 5 minutes per customer, counted for every storedesk on this data dir: wait for the window to move, then read again (r in the console)",
            ),
            (_, Some(429)) => Some(
                "rate limited by the Store (100 collection calls per 5 minutes per customer, a window shared with the publisher's production service): read again after the time given (r in the console)",
            ),
            (_, Some(401)) => Some("not authorised: check the key and the profile's credentials"),
            (_, Some(403)) => {
                Some("forbidden: the Entra app has no access to this product or service")
            }
            (_, Some(404)) => Some("not found: check the product id and the profile's base URLs"),
            (_, Some(s)) if s >= 500 => Some(
                "the Store had a problem; reads are retried, writes stay pending in the journal",
            ),
            (ErrorKind::Timeout, _) if self.write => Some(
                "no answer in time; a write may still have been applied — the journal replays it",
            ),
            (ErrorKind::Timeout, _) => Some(
                "no answer in time (reads are retried): the service is slow or unreachable; check the network or try again",
            ),
            (ErrorKind::Transport, _) => {
                Some("could not reach the service: check the network and the profile's base URLs")
            }
            (ErrorKind::BodyTooLarge, _) => {
                Some("the answer exceeded the body cap; raise it only if the endpoint is trusted")
            }
            _ => None,
        }
    }

    /// For writes: true only when this answer PROVES nothing was applied — the
    /// write's own request got a 4xx (not 408/429) with a parsed error body.
    /// Timeouts, resets, 5xx, 429 and anything that stopped before the
    /// request left (budget, config, a failed token fetch) prove nothing — a
    /// replay refused locally says nothing about the earlier attempt — so
    /// the journal keeps them pending.
    pub fn is_definite(&self) -> bool {
        matches!(self.kind, ErrorKind::Http)
            && self.sent
            && self.parsed_body
            && matches!(self.status, Some(s) if (400..500).contains(&s) && s != 408 && s != 429)
    }
}

/// Fields pulled out of an error body: the Store's JSON shape, Entra's
/// `{error, error_description}` shape, or Azure Storage's XML `<Error>`.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct ErrorBody {
    pub code: Option<String>,
    pub message: Option<String>,
    pub inner_code: Option<String>,
}

impl ErrorBody {
    pub fn parse(body: &[u8]) -> Option<Self> {
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
            return Self::from_json(&v);
        }
        let text = std::str::from_utf8(body).ok()?;
        let code = crate::store::clawback::xml_text(text, "Code");
        let message = crate::store::clawback::xml_text(text, "Message");
        (code.is_some() || message.is_some()).then_some(Self {
            code,
            message,
            inner_code: None,
        })
    }

    fn from_json(v: &serde_json::Value) -> Option<Self> {
        let s = |v: &serde_json::Value, k: &str| {
            // Field names vary in case between services ("code" / "Code").
            v.as_object().and_then(|o| {
                o.iter()
                    .find(|(key, _)| key.eq_ignore_ascii_case(k))
                    .and_then(|(_, x)| x.as_str())
                    .map(String::from)
            })
        };
        // Some services wrap the error: {"error": {...}}.
        let top = match v.get("error") {
            Some(e @ serde_json::Value::Object(_)) => e,
            _ => v,
        };
        let code = s(top, "code").or_else(|| s(v, "error"));
        let message = s(top, "message").or_else(|| s(v, "error_description"));
        let inner = top
            .as_object()
            .and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case("innererror")))
            .map(|(_, x)| x);
        let inner_code = inner.and_then(|i| s(i, "code"));
        let message = message.or_else(|| inner.and_then(|i| s(i, "message")));
        (code.is_some() || message.is_some() || inner_code.is_some()).then_some(Self {
            code,
            message,
            inner_code,
        })
    }
}

/// Remove anything that could be a credential from text that came off the
/// wire (see [`mask_credentials`]), then cap its length. Masking comes
/// first: a cut must never leave the front half of a secret behind.
pub fn redact(text: &str, secret: Option<&str>) -> String {
    let mut out = mask_credentials(text, secret);
    // Cap what a hostile server can put on an agent's screen.
    if out.len() > 500 {
        let mut cut = 500;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push('…');
    }
    out
}

/// `text` with every credential it may hold masked: the client secret
/// verbatim and URL-encoded (`***`), a SAS signature's `sig=` value
/// (`sig=***`), and every JWT-shaped run (three dotted base64url segments)
/// or MSA token (a long opaque base64 run, `EwA…`), which becomes its
/// fingerprint.
pub fn mask_credentials(text: &str, secret: Option<&str>) -> String {
    let mut text = text.to_string();
    if let Some(s) = secret.filter(|s| s.len() >= 4) {
        text = text.replace(s, "***");
        let form: String = url::form_urlencoded::byte_serialize(s.as_bytes()).collect();
        let pct = form.replace('+', "%20");
        for enc in [form, pct] {
            if enc != s {
                text = text.replace(&enc, "***");
                // Percent escapes may come back in lower case.
                text = text.replace(&enc.to_ascii_lowercase(), "***");
            }
        }
    }
    let text = mask_sas_sig(&text);
    let mut out = String::with_capacity(text.len());
    let is_tok =
        |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '=' | '+' | '/');
    let mut rest = text.as_str();
    while let Some(start) = rest.find(is_tok) {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let end = tail.find(|c: char| !is_tok(c)).unwrap_or(tail.len());
        let word = &tail[..end];
        let looks_jwt = word.len() >= 40
            && word.split('.').count() >= 3
            && word.split('.').take(2).all(|seg| seg.len() >= 8);
        if looks_jwt || looks_like_msa_token(word) {
            out.push_str(&format!(
                "<token {}>",
                crate::store::keyinfo::fingerprint(word)
            ));
        } else {
            out.push_str(word);
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// An MSA (compact RPS) ticket: base64 starting `Ew` (also after `t=`), or
/// any undotted base64 run of 100+ characters — no word in an error
/// message is that long, a credential is.
fn looks_like_msa_token(word: &str) -> bool {
    let core = word.strip_prefix("t=").unwrap_or(word);
    if core.contains('.') {
        return false;
    }
    (core.starts_with("Ew") && core.len() >= 40) || core.len() >= 100
}

/// Every `sig=` query value (an Azure SAS signature) becomes `***`.
fn mask_sas_sig(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let lower = rest.to_ascii_lowercase();
        let Some(i) = lower.match_indices("sig=").map(|(i, _)| i).find(|&i| {
            i == 0
                || matches!(
                    rest.as_bytes()[i - 1],
                    b'?' | b'&' | b' ' | b'"' | b'\'' | b';'
                )
        }) else {
            out.push_str(rest);
            return out;
        };
        let v = i + 4;
        out.push_str(&rest[..v]);
        out.push_str("***");
        let after = &rest[v..];
        let end = after
            .find(|c: char| matches!(c, '&' | '"' | '\'' | '<' | '>') || c.is_whitespace())
            .unwrap_or(after.len());
        rest = &after[end..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(status: u16, parsed: bool) -> StoreError {
        ErrorInfo {
            status: Some(status),
            parsed_body: parsed,
            sent: true,
            ..ErrorInfo::new(ErrorKind::Http, "consume", "x")
        }
        .into()
    }

    #[test]
    fn definite_only_for_parsed_4xx_other_than_408_429() {
        assert!(http(400, true).is_definite());
        assert!(http(401, true).is_definite());
        assert!(!http(400, false).is_definite());
        let mut unsent = http(401, true);
        unsent.sent = false;
        assert!(
            !unsent.is_definite(),
            "a token failure before the write left"
        );
        assert!(!http(408, true).is_definite());
        assert!(!http(429, true).is_definite());
        assert!(!http(500, true).is_definite());
        assert!(!http(503, true).is_definite());
        assert!(!StoreError::new(ErrorKind::Timeout, "consume", "").is_definite());
        assert!(!StoreError::new(ErrorKind::Budget, "consume", "").is_definite());
    }

    #[test]
    fn parses_store_entra_and_queue_error_bodies() {
        let store = br#"{"code":"Unauthorized","message":"Access denied","innererror":{"code":"InconsistentClientId","message":"m"}}"#;
        let b = ErrorBody::parse(store).unwrap();
        assert_eq!(b.code.as_deref(), Some("Unauthorized"));
        assert_eq!(b.inner_code.as_deref(), Some("InconsistentClientId"));
        let entra = br#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret"}"#;
        let b = ErrorBody::parse(entra).unwrap();
        assert_eq!(b.code.as_deref(), Some("invalid_client"));
        assert!(b.message.unwrap().contains("AADSTS7000215"));
        let xml = br#"<?xml version="1.0" encoding="utf-8"?><Error><Code>MessageNotFound</Code><Message>The specified message does not exist.</Message></Error>"#;
        let b = ErrorBody::parse(xml).unwrap();
        assert_eq!(b.code.as_deref(), Some("MessageNotFound"));
        assert!(ErrorBody::parse(b"<html>oops</html>").is_none());
        assert!(ErrorBody::parse(b"{}").is_none());
    }

    #[test]
    fn hint_prefers_inner_code() {
        let mut e = http(401, true);
        e.code = Some("Unauthorized".into());
        e.inner_code = Some("InconsistentClientId".into());
        assert!(e.hint().unwrap().contains("different Entra app"));
        assert!(http(429, true).hint().unwrap().contains("read again after"));
    }

    #[test]
    fn redact_hides_jwts_and_secret() {
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ";
        let msg = format!("bad key {jwt} with secret hunter22 inside");
        let r = redact(&msg, Some("hunter22"));
        assert!(!r.contains(jwt), "{r}");
        assert!(!r.contains("hunter22"), "{r}");
        assert!(r.contains("<token "), "{r}");
        assert_eq!(
            redact("plain words, v9.0 fine", None),
            "plain words, v9.0 fine"
        );
    }

    #[test]
    fn redact_masks_sas_msa_and_the_encoded_secret_before_it_cuts() {
        let sas = "GET https://x.queue.core.windows.net/q/messages?sv=2020-08-04&se=2026-11-23T11%3A00Z&sp=rp&sig=AbC%2Bdef%2F123%3D&x=1 failed";
        let r = redact(sas, None);
        assert!(!r.contains("AbC%2Bdef"), "{r}");
        assert!(r.contains("sig=***&x=1"), "{r}");
        assert!(redact("SIG=zzzz", None).contains("SIG=***"));
        let msa = format!("EwA{}", "Q0lEQzEyMzQ1Njc4OTAr/".repeat(8));
        let r = redact(&format!("claim refused for t={msa}&p= ok"), None);
        assert!(!r.contains(&msa[..30]), "{r}");
        assert!(r.contains("<token "), "{r}");
        // The secret as a token form body carries it.
        let secret = "s3cr+t/with=chars~";
        let body = "client_id=c&client_secret=s3cr%2Bt%2Fwith%3Dchars%7E&grant_type=x";
        assert!(
            !redact(body, Some(secret)).contains("s3cr%2B"),
            "{}",
            redact(body, Some(secret))
        );
        let lower = "client_secret=s3cr%2bt%2fwith%3dchars%7e";
        assert!(!redact(lower, Some(secret)).contains("s3cr%2b"));
        // A secret across the 500-character cut leaves no front half.
        let long = format!("{}{secret} tail", "a ".repeat(245));
        let r = redact(&long, Some(secret));
        assert!(!r.contains("s3cr"), "{r}");
        // Ordinary words survive.
        assert_eq!(redact("sig nature, design=1", None), "sig nature, design=1");
    }

    #[test]
    fn display_names_op_status_code_and_ids() {
        let mut e = http(401, true);
        e.inner_code = Some("AuthenticationTokenInvalid".into());
        e.correlation.request_id = Some("r-1".into());
        let s = e.to_string();
        assert!(
            s.contains("consume")
                && s.contains("401")
                && s.contains("AuthenticationTokenInvalid")
                && s.contains("MS-RequestId=r-1"),
            "{s}"
        );
    }
}
