//! `B/_sandbox/...`: endpoints only the sandbox has, for tests and QA.
//! Every one needs the control secret and a loopback `Host` (`guard.rs`).
//!
//! - `GET  _sandbox/info`    base URL, tenant, client id, demo customers and keys (no secret)
//! - `GET  _sandbox/faults`  the live fault table
//! - `POST _sandbox/faults`  add faults: `"consume:500"`, `["a:500","b:reset"]` or `{"faults":[..]}`
//! - `DELETE _sandbox/faults` clear them
//! - `POST _sandbox/reset`   re-seed state (the signing key is kept)
//! - `POST _sandbox/ratelimit` `{"enabled": false}` switches the 100-per-5-minutes
//!   limit off (for load benchmarks) or back on
//! - `GET|POST|DELETE _sandbox/quirks` misconfigurations for `storedesk doctor`:
//!   `{"dateSkewSecs": 600, "tokenAudience": "https://…", "tokenStyle": "v2"}`
//!   (POST replaces the set; DELETE clears it)
//! - `POST _sandbox/clawbacks` put an event on the clawback queue as Microsoft
//!   would: `{"event": {…the event's JSON…}}` (base64-encoded here) or
//!   `{"messageText": "…"}` (sent as is) → `{"messageId"}`
//! - `POST _sandbox/keys`    mint a key: `{"customer","kind":"collections"|"purchase",
//!   "clientId"?, "issuedDaysAgo"?, "userId"?}` → `{"key"}`

use super::App;
use super::auth::{self, KeyKind};
use super::faults::FaultSpec;
use super::http::{ApiError, Route, json, parse_json};
use axum::body::Bytes;
use axum::http::{Method, StatusCode, request::Parts};
use axum::response::{IntoResponse, Response};
use chrono::TimeDelta;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(untagged)]
enum FaultsBody {
    One(String),
    Many(Vec<String>),
    Wrapped { faults: Vec<String> },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RateLimit {
    enabled: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct MintRequest {
    customer: String,
    kind: KeyKind,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    issued_days_ago: Option<i64>,
    /// The `userId` claim, as a publisher's service passed it to the
    /// device (publisherUserId): it may be empty or shared by customers.
    #[serde(default)]
    user_id: Option<String>,
}

pub fn handle(app: &App, route: &Route, parts: &Parts, body: &Bytes) -> Response {
    let Route::Control(what) = route else {
        return ApiError::not_found("no such control endpoint").into_response();
    };
    if let Err(e) = super::guard::check(app, &parts.headers) {
        return e.into_response();
    }
    let m = &parts.method;
    let r: Result<Response, ApiError> = match (what.to_ascii_lowercase().as_str(), m) {
        ("info", &Method::GET) => Ok(json(StatusCode::OK, &app.public_info())),
        ("faults", &Method::GET) => Ok(json(StatusCode::OK, &app.faults.list())),
        ("faults", &Method::DELETE) => {
            app.faults.clear();
            Ok(json(StatusCode::OK, &app.faults.list()))
        }
        ("faults", &Method::POST) => add_faults(app, parts, body),
        ("reset", &Method::POST) => app
            .reseed()
            .map(|()| json(StatusCode::OK, &serde_json::json!({"reset": true})))
            .map_err(ApiError::from),
        ("keys", &Method::POST) => mint(app, parts, body),
        ("clawbacks", &Method::POST) => super::queue::enqueue(app, &parts.headers, body),
        ("quirks", &Method::GET) => Ok(json(StatusCode::OK, &app.quirks())),
        ("quirks", &Method::POST) => parse_json::<super::Quirks>(&parts.headers, body).map(|q| {
            app.set_quirks(q);
            json(StatusCode::OK, &app.quirks())
        }),
        ("quirks", &Method::DELETE) => {
            app.set_quirks(super::Quirks::default());
            Ok(json(StatusCode::OK, &app.quirks()))
        }
        ("ratelimit", &Method::POST) => parse_json::<RateLimit>(&parts.headers, body).map(|r| {
            app.rate_limit_on
                .store(r.enabled, std::sync::atomic::Ordering::Relaxed);
            json(StatusCode::OK, &serde_json::json!({ "enabled": r.enabled }))
        }),
        _ => Err(ApiError::not_found(format!(
            "no control endpoint {m} _sandbox/{what}"
        ))),
    };
    r.unwrap_or_else(IntoResponse::into_response)
}

fn add_faults(app: &App, parts: &Parts, body: &Bytes) -> Result<Response, ApiError> {
    let specs = match parse_json::<FaultsBody>(&parts.headers, body)? {
        FaultsBody::One(s) => vec![s],
        FaultsBody::Many(v) | FaultsBody::Wrapped { faults: v } => v,
    };
    let mut parsed = Vec::new();
    for s in specs {
        parsed.push(
            s.parse::<FaultSpec>()
                .map_err(|e| ApiError::bad(e.to_string()))?,
        );
    }
    app.faults.add_bounded(parsed).map_err(ApiError::bad)?;
    Ok(json(StatusCode::OK, &app.faults.list()))
}

fn mint(app: &App, parts: &Parts, body: &Bytes) -> Result<Response, ApiError> {
    let req: MintRequest = parse_json(&parts.headers, body)?;
    let user_id = {
        let world = app.world();
        world
            .customers
            .iter()
            .find(|c| c.name == req.customer || c.user_id == req.customer)
            .map(|c| (c.name.clone(), c.user_id.clone()))
    };
    let Some((name, user_id)) = user_id else {
        return Err(ApiError::not_found(format!(
            "no demo customer {:?}",
            req.customer
        )));
    };
    let days = req.issued_days_ago.unwrap_or(0).clamp(-3650, 3650);
    let issued = app.clock.now() - TimeDelta::days(days);
    let client_id = req.client_id.unwrap_or_else(|| app.client_id.clone());
    let user_id = req.user_id.unwrap_or(user_id);
    let key = auth::mint_key(app, &name, &user_id, req.kind, issued, &client_id)?;
    Ok(json(StatusCode::OK, &serde_json::json!({ "key": key })))
}
