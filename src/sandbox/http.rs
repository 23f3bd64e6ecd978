//! Request plumbing: route table (case-insensitive paths), body limits and
//! JSON parsing with the documented 400 shape, error answers, the Store's
//! correlation headers, and fault application around every handler.

use super::App;
use super::faults::FaultAction;
use super::{auth, collections, control, purchase, queue};
use crate::store::model::{ErrorBody, codes};
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// Largest request body accepted.
pub const MAX_BODY: usize = 1024 * 1024;

/// Handed to handlers through request extensions: resets the connection.
#[derive(Clone)]
pub struct ConnKill(pub Arc<tokio::sync::Notify>);

/// A Store-shaped error answer.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    /// Boxed: errors travel through every `?`, the body is big.
    pub body: Box<ErrorBody>,
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, inner: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            body: Box::new(ErrorBody::new(code, inner, &message.into())),
            retry_after: None,
        }
    }

    pub fn bad(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            codes::BAD_REQUEST,
            codes::INVALID_PARAMETER,
            message,
        )
    }

    pub fn unauthorized(inner: &str, message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            codes::UNAUTHORIZED,
            inner,
            message,
        )
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            codes::NOT_FOUND,
            codes::NOT_FOUND,
            message,
        )
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            codes::INTERNAL_ERROR,
            codes::INTERNAL_ERROR,
            message,
        )
    }

    pub fn status(status: u16, retry_after: Option<u64>) -> Self {
        let st = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let code = match status {
            429 => codes::TOO_MANY_REQUESTS,
            503 => codes::SERVICE_UNAVAILABLE,
            400 => codes::BAD_REQUEST,
            401 => codes::UNAUTHORIZED,
            404 => codes::NOT_FOUND,
            _ => codes::INTERNAL_ERROR,
        };
        let mut e = Self::new(st, code, code, format!("injected fault: HTTP {status}"));
        e.retry_after = retry_after;
        e
    }
}

impl From<super::SandboxError> for ApiError {
    fn from(e: super::SandboxError) -> Self {
        tracing::error!(error = %e, "sandbox state write failed");
        Self::internal("the sandbox could not save its state")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = json(self.status, &super::wire::answers::error(&self.body));
        if let Some(s) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&s.to_string())
        {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        r
    }
}

pub type ApiResult = Result<Response, ApiError>;

/// JSON answer with the Store's content type.
pub fn json<T: Serialize>(status: StatusCode, v: &T) -> Response {
    match serde_json::to_vec(v) {
        Ok(bytes) => {
            let mut r = Response::new(Body::from(bytes));
            *r.status_mut() = status;
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=utf-8"),
            );
            r
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot serialize an answer");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

pub fn ok<T: Serialize>(v: &T) -> ApiResult {
    Ok(json(StatusCode::OK, v))
}

/// Parse a JSON body of the control API (the sandbox's own types): JSON
/// content type, valid JSON — else the documented 400. Store requests go
/// through `wire::requests` instead, by the documented field names.
pub fn parse_json<T: DeserializeOwned>(headers: &HeaderMap, body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(json_body(headers, body)?)
        .map_err(|e| ApiError::bad(format!("invalid request body: {e}")))
}

/// The body of a Store request, once its content type says JSON.
pub fn json_body<'a>(headers: &HeaderMap, body: &'a Bytes) -> Result<&'a [u8], ApiError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = ct.split(';').next().unwrap_or("").trim();
    if !mime.eq_ignore_ascii_case("application/json") {
        return Err(ApiError::bad(format!(
            "Content-Type must be application/json (got {:?})",
            if ct.is_empty() { "nothing" } else { ct }
        )));
    }
    Ok(body)
}

/// Which endpoint a request is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    Token {
        tenant: String,
        v2: bool,
    },
    Renew(auth::KeyKind),
    PublisherQuery,
    LicensePreview,
    Consume,
    Orders,
    Recurrences,
    RecurrenceChange(String),
    Grant,
    SasToken,
    QueueMessages(String),
    QueueMessage(String, String),
    /// `GET /queue/{q}?comp=metadata`: the approximate length.
    QueueMetadata(String),
    Offers,
    DisplayCatalog,
    Control(String),
}

impl Route {
    /// Parse path segments (original case kept for ids) and the method.
    pub fn classify(method: &Method, path: &str) -> Option<(Route, Method)> {
        let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let lower: Vec<String> = segs.iter().map(|s| s.to_ascii_lowercase()).collect();
        let l: Vec<&str> = lower.iter().map(String::as_str).collect();
        let post = Method::POST;
        let get = Method::GET;
        let r = match l.as_slice() {
            ["login", _, "oauth2", "token"] => (
                Route::Token {
                    tenant: segs[1].to_owned(),
                    v2: false,
                },
                post,
            ),
            ["login", _, "oauth2", "v2.0", "token"] => (
                Route::Token {
                    tenant: segs[1].to_owned(),
                    v2: true,
                },
                post,
            ),
            ["collections", "v9.0", "collections", "publisherquery"] => {
                (Route::PublisherQuery, post)
            }
            ["collections", "v8.0", "collections", "b2blicensepreview"] => {
                (Route::LicensePreview, post)
            }
            ["collections", "v8.0", "collections", "consume"] => (Route::Consume, post),
            ["collections", "v6.0", "b2b", "keys", "renew"] => {
                (Route::Renew(auth::KeyKind::Collections), post)
            }
            ["purchase", "v6.0", "b2b", "keys", "renew"] => {
                (Route::Renew(auth::KeyKind::Purchase), post)
            }
            ["purchase", "v8.0", "b2b", "orders", "query"] => (Route::Orders, post),
            ["purchase", "v8.0", "b2b", "recurrences", "query"] => (Route::Recurrences, post),
            ["purchase", "v8.0", "b2b", "recurrences", _, "change"] => {
                (Route::RecurrenceChange(segs[4].to_owned()), post)
            }
            ["purchase", "v6.0", "purchases", "grant"] => (Route::Grant, post),
            ["purchase", "v8.0", "b2b", "clawback", "sastoken"] => (Route::SasToken, get),
            ["queue", _] => (Route::QueueMetadata(segs[1].to_owned()), get),
            ["queue", _, "messages"] => (Route::QueueMessages(segs[1].to_owned()), method.clone()),
            ["queue", _, "messages", _] => (
                Route::QueueMessage(segs[1].to_owned(), segs[3].to_owned()),
                Method::DELETE,
            ),
            ["devcenter", "v2.0", "my", "storeoffers", "user"] => (Route::Offers, method.clone()),
            ["displaycatalog", "v7.0", "products"] => (Route::DisplayCatalog, get),
            ["_sandbox", what] => (Route::Control((*what).to_owned()), method.clone()),
            _ => return None,
        };
        Some(r)
    }

    /// The name faults use for this route; control routes take no faults.
    /// Served by Azure (Entra, Storage queues), not the Store: answered
    /// with Azure's `x-ms-request-id` instead of the Store's MS-* ids.
    pub fn is_azure(&self) -> bool {
        matches!(
            self,
            Route::Token { .. }
                | Route::QueueMessages(_)
                | Route::QueueMessage(..)
                | Route::QueueMetadata(_)
        )
    }

    pub fn fault_name(&self) -> Option<&'static str> {
        Some(match self {
            Route::Token { .. } => "token",
            Route::Renew(_) => "renew",
            Route::PublisherQuery => "publisherQuery",
            Route::LicensePreview => "licensePreview",
            Route::Consume => "consume",
            Route::Orders => "orders",
            Route::Recurrences => "recurrences",
            Route::RecurrenceChange(_) => "recurrenceChange",
            Route::Grant => "grant",
            Route::SasToken => "sastoken",
            Route::QueueMessages(_) | Route::QueueMessage(..) | Route::QueueMetadata(_) => "queue",
            Route::Offers => "offers",
            Route::DisplayCatalog => "displayCatalog",
            Route::Control(_) => return None,
        })
    }
}

/// The one axum handler: everything goes through here.
pub async fn dispatch(State(app): State<Arc<App>>, req: Request) -> Response {
    let azure = Route::classify(req.method(), req.uri().path()).is_some_and(|(r, _)| r.is_azure());
    let (parts, body) = req.into_parts();
    let mut resp = route_and_run(&app, parts, body).await;
    add_ids(resp.headers_mut(), azure);
    add_date(&app, resp.headers_mut());
    resp
}

/// `Date` by the sandbox's clock (hyper would write the machine's), plus
/// the skew quirk: what a client compares its own clock with.
fn add_date(app: &App, h: &mut HeaderMap) {
    // The skew comes from the control API: checked, never a panic.
    let skew = chrono::TimeDelta::try_seconds(app.quirks().date_skew_secs);
    let now = app.queue_now();
    let t = skew.and_then(|s| now.checked_add_signed(s)).unwrap_or(now);
    let text = t.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    if let Ok(v) = HeaderValue::from_str(&text) {
        h.insert(header::DATE, v);
    }
}

async fn route_and_run(app: &Arc<App>, parts: Parts, body: Body) -> Response {
    let Some((route, want)) = Route::classify(&parts.method, parts.uri.path()) else {
        return ApiError::not_found(format!("no such endpoint: {}", parts.uri.path()))
            .into_response();
    };
    let method_ok = match &route {
        Route::QueueMessages(_) => parts.method == Method::GET,
        Route::Offers => parts.method == Method::GET || parts.method == Method::POST,
        Route::Control(_) => true,
        _ => parts.method == want,
    };
    if !method_ok {
        return ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            codes::BAD_REQUEST,
            codes::INVALID_PARAMETER,
            format!("{} is not allowed here", parts.method),
        )
        .into_response();
    }
    // Bounded read: a huge body costs at most MAX_BODY bytes of memory.
    let bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return ApiError::bad(format!(
                "request body larger than {MAX_BODY} bytes or unreadable"
            ))
            .into_response();
        }
    };
    let kill = parts.extensions.get::<ConnKill>().cloned();
    let Some(name) = route.fault_name() else {
        return control::handle(app, &route, &parts, &bytes);
    };
    let plan = app.faults.take(name);
    if !plan.latency.is_zero() {
        tokio::time::sleep(plan.latency).await;
    }
    let run = || handle(app, &route, &parts, &bytes);
    match plan.action {
        None => run(),
        Some(FaultAction::Latency { .. }) => run(),
        Some(FaultAction::Status {
            status,
            retry_after,
        }) => ApiError::status(status, retry_after).into_response(),
        Some(FaultAction::Reset) => reset(kill).await,
        Some(FaultAction::FailAfterCommit) => {
            let _ = run();
            ApiError::status(500, None).into_response()
        }
        Some(FaultAction::HangAfterCommit) => {
            let _ = run();
            // The client is meant to time out; the server's shutdown ends this.
            std::future::pending::<()>().await;
            ApiError::status(500, None).into_response()
        }
        Some(FaultAction::ResetAfterCommit) => {
            let _ = run();
            reset(kill).await
        }
        Some(FaultAction::Empty200) => json(StatusCode::OK, &serde_json::json!({})),
        Some(FaultAction::Error200) => json(
            StatusCode::OK,
            &serde_json::json!({
                "code": codes::INTERNAL_ERROR,
                "message": "injected fault: an error body with HTTP 200",
            }),
        ),
        Some(FaultAction::Other200) => other_write(run()).await,
    }
}

/// The answer with the write's ids replaced by another write's.
async fn other_write(resp: Response) -> Response {
    let status = resp.status();
    let Ok(bytes) = axum::body::to_bytes(resp.into_body(), MAX_BODY).await else {
        return ApiError::status(500, None).into_response();
    };
    let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    let other = serde_json::Value::String(uuid::Uuid::new_v4().to_string());
    let item = match v.get_mut("items").and_then(|i| i.get_mut(0)) {
        Some(item) => item,
        None => &mut v,
    };
    if let Some(obj) = item.as_object_mut() {
        for k in ["trackingId", "orderId", "id"] {
            if obj.contains_key(k) {
                obj.insert(k.to_string(), other.clone());
            }
        }
    }
    json(status, &v)
}

async fn reset(kill: Option<ConnKill>) -> Response {
    match kill {
        Some(k) => {
            k.0.notify_one();
            // The connection task drops this future when it resets.
            std::future::pending::<()>().await;
            ApiError::status(500, None).into_response()
        }
        None => ApiError::status(500, None).into_response(),
    }
}

fn handle(app: &App, route: &Route, parts: &Parts, body: &Bytes) -> Response {
    let h = &parts.headers;
    let r = match route {
        Route::Token { tenant, v2 } => auth::token_endpoint(app, tenant, *v2, h, body),
        Route::Renew(kind) => auth::renew(app, *kind, h, body),
        Route::PublisherQuery => collections::publisher_query(app, h, body),
        Route::LicensePreview => collections::license_preview(app, h, body),
        Route::Consume => collections::consume(app, h, body),
        Route::Orders => purchase::orders(app, h, body),
        Route::Recurrences => purchase::recurrences(app, h, body),
        Route::RecurrenceChange(id) => purchase::recurrence_change(app, id, h, body),
        Route::Grant => purchase::grant(app, h, body),
        Route::SasToken => queue::sas_token(app, h),
        Route::QueueMessages(q) => queue::messages(app, q, &parts.uri),
        Route::QueueMessage(q, id) => queue::delete(app, q, id, &parts.uri),
        Route::QueueMetadata(q) => queue::metadata(app, q, &parts.uri),
        Route::Offers => queue::offers(app, &parts.method, h, body),
        Route::DisplayCatalog => super::catalog::products(app, &parts.uri),
        Route::Control(_) => Err(ApiError::not_found("control")),
    };
    r.unwrap_or_else(IntoResponse::into_response)
}

/// The correlation headers quoted in support tickets: the Store's MS-*
/// ids, or Azure's `x-ms-request-id` on Entra and queue answers.
fn add_ids(h: &mut HeaderMap, azure: bool) {
    let id = uuid::Uuid::new_v4().to_string();
    if azure {
        if let Ok(v) = HeaderValue::from_str(&id) {
            h.insert("x-ms-request-id", v);
        }
        return;
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        h.insert("ms-correlationid", v.clone());
        h.insert("ms-requestid", v);
    }
    h.insert("ms-cv", HeaderValue::from_static("sandbox.0"));
}
