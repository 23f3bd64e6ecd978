//! `StoreClient`: configuration, the one HTTP transport every endpoint goes
//! through (auth header, budget, retry policy, body cap, error mapping), and
//! request counters. Endpoint methods live in the per-service modules.

use super::auth::TokenCache;
use super::budget::CallBudget;
use super::error::{
    CallMeta, CorrelationIds, ErrorBody, ErrorInfo, ErrorKind, Response, StoreError, redact,
};
use super::retry::{RetryPolicy, WaitObserver, WaitReason, parse_retry_after};
use super::{Endpoints, audience};
use crate::clock::Clock;
use crate::config::Secret;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

pub const DEFAULT_BODY_CAP: usize = 16 * 1024 * 1024;

/// Everything a client needs; every URL comes from the profile.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    pub endpoints: Endpoints,
    pub client_id: String,
    pub client_secret: Secret,
    /// Sent as `User-Agent` (the doc asks for a service identity).
    pub user_agent: String,
    /// Whole-request timeout (connect, send, and reading the body).
    pub timeout: Duration,
    /// `sbx` sent with every body that has one (e.g. "XDKS.1"); None = RETAIL.
    pub sbx: Option<String>,
    pub allow_insecure_http: bool,
    pub retry: RetryPolicy,
    /// Largest response body accepted.
    pub body_cap: usize,
    /// "Now" for HTTP-date `Retry-After`.
    pub clock: Clock,
    /// Where what must outlive the process is kept (the data dir): the
    /// call budget (`budget/`), shared by every storedesk using it, and
    /// what `case` caches there (the orders read today). None: in memory.
    pub state_dir: Option<std::path::PathBuf>,
}

impl ClientConfig {
    pub fn new(endpoints: Endpoints, client_id: impl Into<String>, client_secret: Secret) -> Self {
        Self {
            endpoints,
            client_id: client_id.into(),
            client_secret,
            user_agent: format!("storedesk/{}", env!("CARGO_PKG_VERSION")),
            timeout: Duration::from_secs(20),
            sbx: None,
            allow_insecure_http: false,
            retry: RetryPolicy::default(),
            body_cap: DEFAULT_BODY_CAP,
            clock: Clock::system(),
            state_dir: None,
        }
    }
}

/// HTTP requests made, per operation — what the UI and tests read to see
/// how many calls something really cost.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientStats {
    pub total: u64,
    pub by_op: BTreeMap<&'static str, u64>,
}

impl ClientStats {
    pub fn of(&self, op: &str) -> u64 {
        self.by_op.get(op).copied().unwrap_or(0)
    }
}

/// The Store client. Cheap to clone: all state is shared.
#[derive(Clone)]
pub struct StoreClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) cfg: ClientConfig,
    http: reqwest::Client,
    pub(crate) tokens: TokenCache,
    pub(crate) budget: CallBudget,
    observer: RwLock<Option<WaitObserver>>,
    stats: Mutex<ClientStats>,
}

impl std::fmt::Debug for StoreClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreClient")
            .field("endpoints", &self.inner.cfg.endpoints)
            .field("client_id", &self.inner.cfg.client_id)
            .finish_non_exhaustive()
    }
}

/// How a call authenticates.
pub(crate) enum Auth {
    /// `Authorization: Bearer` with the cached STORE-audience service token.
    Store,
    /// No Authorization header (key renewal, SAS-signed queue calls, Entra).
    None,
    /// A token the caller supplied (the user's MSA token for targeted offers).
    Bearer(String),
}

pub(crate) enum Body {
    Empty,
    Json(Vec<u8>),
    Form(Vec<(&'static str, String)>),
}

/// One logical call; the transport may make several attempts of it.
pub(crate) struct Call {
    pub op: &'static str,
    pub method: reqwest::Method,
    pub url: String,
    pub body: Body,
    pub auth: Auth,
    /// Writes are never retried here (the journal replays them).
    pub write: bool,
    /// Customer whose collection-call budget each attempt spends.
    pub budget: Option<String>,
}

impl Call {
    pub fn post_json(
        op: &'static str,
        url: String,
        body: &impl serde::Serialize,
    ) -> Result<Self, StoreError> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| StoreError::config(op, format!("cannot encode request: {e}")))?;
        Ok(Self {
            op,
            method: reqwest::Method::POST,
            url,
            body: Body::Json(bytes),
            auth: Auth::Store,
            write: false,
            budget: None,
        })
    }

    pub fn get(op: &'static str, url: String) -> Self {
        Self {
            op,
            method: reqwest::Method::GET,
            url,
            body: Body::Empty,
            auth: Auth::Store,
            write: false,
            budget: None,
        }
    }

    pub fn write(mut self) -> Self {
        self.write = true;
        self
    }

    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    pub fn budget(mut self, customer: String) -> Self {
        self.budget = Some(customer);
        self
    }
}

/// A successful (2xx) answer, body fully read.
pub(crate) struct RawResponse {
    pub body: Vec<u8>,
    pub meta: CallMeta,
    /// The answer's headers (Azure Storage puts results there, e.g. the
    /// queue's approximate length).
    pub headers: reqwest::header::HeaderMap,
}

/// Why one attempt produced no HTTP answer or no usable body.
struct AttemptError {
    kind: ErrorKind,
    message: String,
    /// The connection never opened, so nothing reached the service.
    unsent: bool,
}

impl StoreClient {
    pub fn new(cfg: ClientConfig) -> Result<Self, StoreError> {
        let e = &cfg.endpoints;
        for (field, url) in [
            ("login", &e.login),
            ("collections", &e.collections),
            ("purchase", &e.purchase),
            ("devcenter", &e.devcenter),
        ] {
            crate::config::check_url(field, url, cfg.allow_insecure_http)
                .map_err(|m| StoreError::config("client", m))?;
        }
        if cfg.body_cap == 0 {
            return Err(StoreError::config(
                "client",
                "body_cap must be at least 1 byte",
            ));
        }
        // reqwest is built without a default TLS provider; ring is the light one.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = super::proxy::configure(reqwest::Client::builder())
            .user_agent(cfg.user_agent.clone())
            .timeout(cfg.timeout)
            .connect_timeout(cfg.timeout.min(Duration::from_secs(10)))
            // Never follow a redirect: it could carry the bearer token to
            // another host, and the Store does not redirect.
            .redirect(reqwest::redirect::Policy::none())
            // The one retry policy is ours; reqwest must not resend anything.
            .retry(reqwest::retry::never())
            .build()
            .map_err(|e| StoreError::config("client", format!("cannot build HTTP client: {e}")))?;
        let budget = match &cfg.state_dir {
            Some(dir) => CallBudget::persistent(dir.join("budget")),
            None => CallBudget::new(),
        };
        Ok(Self {
            inner: Arc::new(Inner {
                cfg,
                http,
                tokens: TokenCache::default(),
                budget,
                observer: RwLock::new(None),
                stats: Mutex::new(ClientStats::default()),
            }),
        })
    }

    pub fn config(&self) -> &ClientConfig {
        &self.inner.cfg
    }

    pub fn endpoints(&self) -> &Endpoints {
        &self.inner.cfg.endpoints
    }

    /// Be told about every wait (429 countdown, backoff) before it starts.
    pub fn set_wait_observer(&self, observer: Option<WaitObserver>) {
        *self
            .inner
            .observer
            .write()
            .unwrap_or_else(|p| p.into_inner()) = observer;
    }

    /// Collection calls this customer (userId, or `key:<fingerprint>`) may
    /// still make in the current 5-minute window.
    pub fn calls_left(&self, customer: &str) -> u32 {
        self.inner.budget.remaining(customer)
    }

    /// `calls_left` for the customer a key belongs to.
    pub fn calls_left_for_key(&self, key: &str) -> u32 {
        self.calls_left(&super::keyinfo::customer_id(key))
    }

    pub fn budget(&self) -> &CallBudget {
        &self.inner.budget
    }

    pub fn stats(&self) -> ClientStats {
        self.inner
            .stats
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub(crate) fn sbx(&self) -> Option<String> {
        self.inner.cfg.sbx.clone()
    }

    pub(crate) fn url(base: &str, path: &str) -> String {
        format!("{}{}", base.trim_end_matches('/'), path)
    }

    /// The HTTPS rule for URLs that do not come from the profile (the SAS
    /// queue URI the service hands out).
    pub(crate) fn check_foreign_url(&self, op: &'static str, url: &str) -> Result<(), StoreError> {
        crate::config::check_url("url", url, self.inner.cfg.allow_insecure_http)
            .map_err(|m| StoreError::config(op, m))
    }

    fn count(&self, op: &'static str) {
        let mut s = self.inner.stats.lock().unwrap_or_else(|p| p.into_inner());
        s.total += 1;
        *s.by_op.entry(op).or_default() += 1;
    }

    fn notify(&self, wait: Duration, reason: &WaitReason, op: &'static str) {
        tracing::info!(
            op,
            wait_ms = wait.as_millis() as u64,
            ?reason,
            "waiting before retry"
        );
        let obs = self
            .inner
            .observer
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(obs) = obs {
            obs(wait, reason, op);
        }
    }

    /// Runs a call under the retry policy and decodes a JSON answer.
    pub(crate) async fn call_json<T: DeserializeOwned>(
        &self,
        call: Call,
    ) -> Result<Response<T>, StoreError> {
        let op = call.op;
        let write = call.write;
        let raw = self.execute(call).await?;
        // A write's 2xx is checked against the write itself (journal):
        // there an error-shaped body is "not this write's answer".
        if !write && let Some(what) = error_shaped(&raw.body) {
            return Err(decode_error(
                op,
                &raw.meta,
                &what,
                Some(self.inner.cfg.client_secret.expose()),
            ));
        }
        decode_json(op, raw, Some(self.inner.cfg.client_secret.expose()))
    }

    /// Runs a call under the retry policy: the one place HTTP happens.
    pub(crate) async fn execute(&self, call: Call) -> Result<RawResponse, StoreError> {
        let write = call.write;
        // The error knows whether it was a write's: a read's hint never
        // says "a write may still have been applied".
        self.execute_inner(call).await.map_err(|mut e| {
            e.write = write;
            e
        })
    }

    async fn execute_inner(&self, call: Call) -> Result<RawResponse, StoreError> {
        let policy = &self.inner.cfg.retry;
        let max_attempts = if call.write {
            1
        } else {
            policy.max_attempts.max(1)
        };
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let sent_before = attempt > 1;
            let token = match &call.auth {
                // Boxed: fetching a token goes through `execute` itself.
                Auth::Store => Some(
                    Box::pin(self.service_token(audience::STORE))
                        .await
                        .map_err(|mut e| {
                            // The token request went out, this call's did
                            // not: for a write this proves nothing.
                            e.sent = sent_before;
                            e
                        })?,
                ),
                _ => None,
            };
            // Counted only once a request is really about to leave.
            if let Some(customer) = &call.budget
                && let Err(b) = self.inner.budget.try_acquire(customer)
            {
                return Err(ErrorInfo {
                    retry_after: Some(b.wait),
                    attempts: attempt - 1,
                    sent: sent_before,
                    ..ErrorInfo::new(ErrorKind::Budget, call.op, b.to_string())
                }
                .into());
            }
            let mut req = self.inner.http.request(call.method.clone(), &call.url);
            match (&call.auth, &token) {
                (Auth::Store, Some(t)) => req = req.bearer_auth(t.expose()),
                (Auth::Bearer(t), _) => req = req.bearer_auth(t),
                _ => {}
            }
            req = match &call.body {
                Body::Empty => req,
                Body::Json(b) => req
                    .header(
                        reqwest::header::CONTENT_TYPE,
                        "application/json; charset=utf-8",
                    )
                    .header(reqwest::header::ACCEPT, "application/json")
                    .body(b.clone()),
                Body::Form(f) => req.form(f),
            };
            self.count(call.op);
            tracing::debug!(op = call.op, attempt, "sending");
            let outcome = self.exchange(req).await;
            let retries_left = attempt < max_attempts;
            match outcome {
                Ok((status, headers, body)) if (200..300).contains(&status) => {
                    return Ok(RawResponse {
                        body,
                        meta: CallMeta {
                            status,
                            correlation: CorrelationIds::from_headers(&headers),
                            attempts: attempt,
                        },
                        headers,
                    });
                }
                Ok((status, headers, body)) => {
                    let err = self.http_error(call.op, status, &headers, &body, attempt);
                    tracing::info!(op = call.op, status, code = ?err.best_code(), attempt, "store error");
                    if status == 401
                        && let Some(t) = &token
                    {
                        // A revoked or rotated service token would otherwise
                        // fail every call until it expires.
                        self.inner.tokens.invalidate(audience::STORE, t).await;
                    }
                    if !retries_left {
                        // A short Retry-After on a write: the journal's
                        // replay waits it out; nothing to hold.
                        if status == 429
                            && err.retry_after.is_none_or(|w| w > policy.max_retry_after)
                        {
                            let wait = err.retry_after;
                            return Err(self.rate_limited(call.budget.as_deref(), err, wait));
                        }
                        return Err(err);
                    }
                    if status == 429 {
                        // Without Retry-After the Store gives no time, and
                        // its window (5 minutes) is shared with the
                        // publisher's production service: no timer is
                        // safe to retry on. Said, and kept for the window.
                        let Some(wait) = err.retry_after else {
                            return Err(self.rate_limited(call.budget.as_deref(), err, None));
                        };
                        if wait > policy.max_retry_after {
                            return Err(self.rate_limited(call.budget.as_deref(), err, Some(wait)));
                        }
                        self.notify(wait, &WaitReason::RateLimited, call.op);
                        tokio::time::sleep(wait).await;
                    } else if status >= 500 || status == 408 {
                        let wait = policy.backoff(attempt);
                        let cause = format!("HTTP {status}");
                        self.notify(wait, &WaitReason::Backoff { attempt, cause }, call.op);
                        tokio::time::sleep(wait).await;
                    } else {
                        return Err(err);
                    }
                }
                Err(e) => {
                    let retryable = matches!(e.kind, ErrorKind::Transport | ErrorKind::Timeout);
                    if !retries_left || !retryable {
                        return Err(ErrorInfo {
                            attempts: attempt,
                            sent: sent_before || !e.unsent,
                            ..ErrorInfo::new(e.kind, call.op, e.message)
                        }
                        .into());
                    }
                    let wait = policy.backoff(attempt);
                    let reason = WaitReason::Backoff {
                        attempt,
                        cause: e.message,
                    };
                    self.notify(wait, &reason, call.op);
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// One HTTP exchange, the body read in chunks up to the cap.
    async fn exchange(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<(u16, reqwest::header::HeaderMap, Vec<u8>), AttemptError> {
        let cap = self.inner.cfg.body_cap;
        let mut resp = req.send().await.map_err(transport_error)?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let too_large = || AttemptError {
            kind: ErrorKind::BodyTooLarge,
            message: format!("HTTP {status} answer is larger than the {cap} byte cap"),
            unsent: false,
        };
        if resp.content_length().is_some_and(|n| n > cap as u64) {
            return Err(too_large());
        }
        let mut body = Vec::with_capacity(resp.content_length().unwrap_or(0).min(1 << 20) as usize);
        while let Some(chunk) = resp.chunk().await.map_err(transport_error)? {
            if body.len() + chunk.len() > cap {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok((status, headers, body))
    }

    /// A 429 not waited out: the customer's budget holds off for the
    /// Store's wait (a whole window when it named none) — in every process
    /// sharing the data dir — and the error says until when.
    fn rate_limited(
        &self,
        customer: Option<&str>,
        mut err: StoreError,
        retry_after: Option<Duration>,
    ) -> StoreError {
        let window = self.inner.budget.window();
        let wait = retry_after.unwrap_or(window);
        // What the local count says, before the hold: the Store counts the
        // publisher's other services too, so it may differ.
        let left = customer.map(|c| self.inner.budget.remaining(c));
        if let Some(c) = customer {
            self.inner.budget.hold_off(c, wait);
        }
        let at = chrono::Utc::now()
            + chrono::TimeDelta::from_std(wait).unwrap_or(chrono::TimeDelta::zero());
        let when = format!("{} UTC (in {})", at.format("%H:%M:%S"), human_wait(wait));
        let said = if retry_after.is_some() {
            format!("the Store asked to wait {}", human_wait(wait))
        } else {
            format!(
                "the Store gave no Retry-After; its {}-minute window is shared with the publisher's production service, so storedesk does not retry on a timer",
                window.as_secs() / 60
            )
        };
        let budget = match left {
            Some(n) => format!(
                "; storedesk's own count had {n} of {} calls left in the window — held at 0 until then",
                self.inner.budget.limit()
            ),
            None => String::new(),
        };
        if !err.message.is_empty() {
            err.message.push_str(" — ");
        }
        err.message
            .push_str(&format!("{said}{budget}; read again after {when}"));
        err.retry_after = Some(wait);
        err
    }

    fn http_error(
        &self,
        op: &'static str,
        status: u16,
        headers: &reqwest::header::HeaderMap,
        body: &[u8],
        attempts: u32,
    ) -> StoreError {
        let secret = Some(self.inner.cfg.client_secret.expose());
        let parsed = ErrorBody::parse(body);
        let retry_after = headers
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, self.inner.cfg.clock.now()));
        let message = match &parsed {
            Some(b) => b.message.clone().unwrap_or_default(),
            None => reason_phrase(status).to_string(),
        };
        let (code, inner_code) = parsed
            .as_ref()
            .map(|b| (b.code.clone(), b.inner_code.clone()))
            .unwrap_or_default();
        ErrorInfo {
            status: Some(status),
            code: code.map(|c| redact(&c, secret)),
            inner_code: inner_code.map(|c| redact(&c, secret)),
            correlation: CorrelationIds::from_headers(headers),
            retry_after,
            attempts,
            parsed_body: parsed.is_some(),
            sent: true,
            ..ErrorInfo::new(ErrorKind::Http, op, redact(&message, secret))
        }
        .into()
    }
}

/// Decode a 2xx JSON body; a mismatch is a Decode error that keeps the meta.
pub(crate) fn decode_json<T: DeserializeOwned>(
    op: &'static str,
    raw: RawResponse,
    secret: Option<&str>,
) -> Result<Response<T>, StoreError> {
    match serde_json::from_slice::<T>(&raw.body) {
        Ok(value) => Ok(Response {
            value,
            meta: raw.meta,
        }),
        Err(e) => Err(decode_error(op, &raw.meta, &e.to_string(), secret)),
    }
}

/// "code: message" when `body` is an object with string `code` and
/// `message` at the top — the error shape, never a success answer's: a 2xx
/// carrying it (a broken front answering for the Store) is not an empty
/// page, as a tolerant reader would take it.
fn error_shaped(body: &[u8]) -> Option<String> {
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return None;
    }
    let v: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(body).ok()?;
    let code = v.get("code")?.as_str()?;
    let message = v.get("message")?.as_str()?;
    let message: String = message.chars().take(200).collect();
    Some(format!(
        "a success status carrying an error body (code {code}: {message})"
    ))
}

pub(crate) fn decode_error(
    op: &'static str,
    meta: &CallMeta,
    what: &str,
    secret: Option<&str>,
) -> StoreError {
    ErrorInfo {
        status: Some(meta.status),
        correlation: meta.correlation.clone(),
        attempts: meta.attempts,
        sent: true,
        ..ErrorInfo::new(
            ErrorKind::Decode,
            op,
            format!(
                "answer does not match the contract: {}",
                redact(what, secret)
            ),
        )
    }
    .into()
}

fn transport_error(e: reqwest::Error) -> AttemptError {
    let unsent = e.is_connect();
    let kind = if e.is_timeout() {
        ErrorKind::Timeout
    } else {
        ErrorKind::Transport
    };
    // without_url: a SAS queue URL carries its signature in the query.
    let e = e.without_url();
    let mut message = e.to_string();
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        let m = s.to_string();
        if !message.contains(&m) {
            message.push_str(": ");
            message.push_str(&m);
        }
        src = s.source();
    }
    AttemptError {
        kind,
        message,
        unsent,
    }
}

/// "5 min", "90 s": a wait in words.
fn human_wait(d: Duration) -> String {
    let s = d.as_secs().max(1);
    if s >= 120 && s.is_multiple_of(60) {
        format!("{} min", s / 60)
    } else {
        format!("{s} s")
    }
}

fn reason_phrase(status: u16) -> &'static str {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("unexpected status")
}
