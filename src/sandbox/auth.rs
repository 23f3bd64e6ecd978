//! Entra-style service tokens, User Store ID keys and key renewal, checked the
//! way the service checks them (STORE-API §1, §2 and the 401 inner codes).

use super::App;
use super::http::{ApiError, ApiResult, json_body, ok};
use super::wire::{answers, requests::RenewRequest};
use crate::store::model::{KeyClaims, codes, key_uri};
use crate::store::{TokenStyle, audience};
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, header};
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

/// Service tokens live 60 minutes.
pub const TOKEN_LIFETIME_SECS: i64 = 3600;
/// User Store ID keys live 30 days.
pub const KEY_LIFETIME_DAYS: i64 = 30;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyKind {
    Collections,
    Purchase,
}

impl KeyKind {
    pub fn audience(self) -> &'static str {
        match self {
            KeyKind::Collections => key_uri::COLLECTIONS_AUD,
            KeyKind::Purchase => key_uri::PURCHASE_AUD,
        }
    }
    pub fn refresh_uri(self) -> &'static str {
        match self {
            KeyKind::Collections => key_uri::COLLECTIONS_RENEW,
            KeyKind::Purchase => key_uri::PURCHASE_RENEW,
        }
    }
    fn label(self) -> &'static str {
        match self {
            KeyKind::Collections => "UserCollectionsId",
            KeyKind::Purchase => "UserPurchaseId",
        }
    }
}

/// Claims of a sandbox service token (a subset of Entra's).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ServiceClaims {
    pub aud: String,
    pub iss: String,
    pub appid: String,
    pub tid: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
}

/// What the opaque key payload carries in the sandbox.
#[derive(Serialize, Deserialize)]
struct Payload {
    c: String,
    k: KeyKind,
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    resource: Option<String>,
    scope: Option<String>,
}

fn token_error(status: StatusCode, error: &str, description: String) -> ApiResult {
    // Entra's error answer, written here by its documented names.
    let body = serde_json::json!({ "error": error, "error_description": description });
    Ok(super::http::json(status, &body))
}

/// `POST /login/{tenant}/oauth2[/v2.0]/token`, client-credential grant.
pub fn token_endpoint(app: &App, tenant: &str, v2: bool, h: &HeaderMap, body: &Bytes) -> ApiResult {
    let ct = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct
        .to_ascii_lowercase()
        .starts_with("application/x-www-form-urlencoded")
    {
        return token_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "AADSTS900144: the request body must be application/x-www-form-urlencoded".into(),
        );
    }
    let Ok(form) = serde_urlencoded::from_bytes::<TokenForm>(body) else {
        return token_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "AADSTS900144: malformed form body".into(),
        );
    };
    if tenant != app.tenant {
        return token_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!("AADSTS90002: Tenant '{tenant}' not found."),
        );
    }
    if form.grant_type.as_deref() != Some("client_credentials") {
        return token_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "AADSTS70003: only client_credentials is supported".into(),
        );
    }
    if form.client_id.as_deref() != Some(app.client_id.as_str()) {
        return token_error(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            "AADSTS700016: Application not found in the directory.".into(),
        );
    }
    if form.client_secret.as_deref() != Some(app.client_secret.as_str()) {
        return token_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "AADSTS7000215: Invalid client secret provided.".into(),
        );
    }
    // A quirk makes this login endpoint answer as the other style does (a
    // proxy or authority that speaks only one): the request then lacks the
    // parameter that style requires, as Entra words it.
    let quirks = app.quirks();
    let (resource, scope) = match quirks.token_style {
        // The other style's parameter means nothing to this endpoint.
        Some(only) if only != if v2 { TokenStyle::V2 } else { TokenStyle::V1 } => (None, None),
        _ => (form.resource.clone(), form.scope.clone()),
    };
    let v2 = match quirks.token_style {
        Some(only) => only == TokenStyle::V2,
        None => v2,
    };
    // Entra's own answers: each style requires its parameter
    // (AADSTS900144), and a client-credential scope must end in /.default
    // (invalid_scope, AADSTS1002012).
    let (needed, given) = if v2 {
        ("scope", scope.as_deref())
    } else {
        ("resource", resource.as_deref())
    };
    let Some(given) = given else {
        return token_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!(
                "AADSTS900144: The request body must contain the following parameter: '{needed}'."
            ),
        );
    };
    let aud = if v2 {
        let Some(a) = given.strip_suffix("/.default") else {
            return token_error(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                format!(
                    "AADSTS1002012: The provided value for scope {given} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier."
                ),
            );
        };
        Some(a)
    } else {
        Some(given)
    };
    let known = [
        audience::STORE,
        audience::COLLECTIONS_KEY,
        audience::PURCHASE_KEY,
    ];
    let Some(aud) = aud.filter(|a| known.contains(a)) else {
        let what = if v2 {
            "scope=<audience>/.default"
        } else {
            "resource=<audience>"
        };
        return token_error(
            StatusCode::BAD_REQUEST,
            if v2 {
                "invalid_scope"
            } else {
                "invalid_resource"
            },
            format!(
                "AADSTS500011: {what} must name one of: {}",
                known.join(", ")
            ),
        );
    };
    let now = app.clock.now().timestamp();
    let claims = ServiceClaims {
        // The wrong-audience quirk: what a misrouted authority would hand out.
        aud: quirks.token_audience.clone().unwrap_or_else(|| aud.into()),
        iss: format!("https://sts.windows.net/{}/", app.tenant),
        appid: app.client_id.clone(),
        tid: app.tenant.clone(),
        iat: now,
        nbf: now,
        exp: now + TOKEN_LIFETIME_SECS,
    };
    let token = app.signer.sign(&claims)?;
    let expires_in = TOKEN_LIFETIME_SECS - 1;
    let body = if v2 {
        serde_json::json!({
            "token_type": "Bearer", "expires_in": expires_in, "ext_expires_in": expires_in,
            "access_token": token,
        })
    } else {
        // v1 writes its numbers as strings.
        serde_json::json!({
            "token_type": "Bearer", "expires_in": expires_in.to_string(),
            "ext_expires_in": expires_in.to_string(), "expires_on": claims.exp.to_string(),
            "not_before": claims.nbf.to_string(), "resource": aud, "access_token": token,
        })
    };
    ok(&body)
}

/// Verify a service token (signature, times, audience).
pub fn check_service_token(
    app: &App,
    token: &str,
    want_aud: &str,
) -> Result<ServiceClaims, ApiError> {
    let cached = app
        .token_cache
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(token)
        .cloned();
    let claims = match cached {
        Some(c) => c,
        None => {
            let c: ServiceClaims = app.signer.verify(token).ok_or_else(|| {
                ApiError::unauthorized(
                    codes::AUTHENTICATION_TOKEN_INVALID,
                    "The service token is not valid.",
                )
            })?;
            let mut cache = app.token_cache.lock().unwrap_or_else(|p| p.into_inner());
            if cache.len() > 4096 {
                cache.clear();
            }
            cache.insert(token.to_owned(), c.clone());
            c
        }
    };
    let now = app.clock.now().timestamp();
    if now >= claims.exp || now < claims.nbf - 300 {
        return Err(ApiError::unauthorized(
            codes::AUTHENTICATION_TOKEN_INVALID,
            "The service token has expired.",
        ));
    }
    if claims.aud != want_aud {
        return Err(ApiError::unauthorized(
            codes::AUTHENTICATION_TOKEN_INVALID,
            format!(
                "The service token's audience is {:?}; this call needs {want_aud:?}.",
                claims.aud
            ),
        ));
    }
    Ok(claims)
}

/// The `Authorization: Bearer` service token of a Store call.
pub fn service_token(app: &App, h: &HeaderMap) -> Result<ServiceClaims, ApiError> {
    let Some(token) = bearer(h) else {
        return Err(ApiError::unauthorized(
            codes::PARTNER_AAD_TICKET_REQUIRED,
            "An Entra ID service token is required in the Authorization header.",
        ));
    };
    check_service_token(app, token, audience::STORE)
}

pub fn bearer(h: &HeaderMap) -> Option<&str> {
    let v = h.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Verified key claims (signature only; cached).
fn key_claims(app: &App, key: &str) -> Result<KeyClaims, ApiError> {
    let cached = app
        .key_cache
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(key)
        .cloned();
    if let Some(c) = cached {
        return Ok(c);
    }
    let c: KeyClaims = app.signer.verify(key).ok_or_else(|| {
        ApiError::unauthorized(
            codes::AUTHENTICATION_TOKEN_INVALID,
            "The User Store ID key is not valid.",
        )
    })?;
    let mut cache = app.key_cache.lock().unwrap_or_else(|p| p.into_inner());
    if cache.len() > 4096 {
        cache.clear();
    }
    cache.insert(key.to_owned(), c.clone());
    Ok(c)
}

fn customer_of(claims: &KeyClaims) -> Result<(String, KeyKind), ApiError> {
    use base64::Engine;
    let bad = || {
        ApiError::unauthorized(
            codes::AUTHENTICATION_TOKEN_INVALID,
            "The User Store ID key is not valid.",
        )
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&claims.payload)
        .map_err(|_| bad())?;
    let p: Payload = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    Ok((p.c, p.k))
}

/// Check a User Store ID key for an endpoint needing `kind`, against the
/// caller's service token; returns the customer's name.
pub fn user_key(
    app: &App,
    key: &str,
    kind: KeyKind,
    token: &ServiceClaims,
) -> Result<String, ApiError> {
    let claims = key_claims(app, key)?;
    let (customer, payload_kind) = customer_of(&claims)?;
    if claims.aud != kind.audience() || payload_kind != kind {
        let other = if kind == KeyKind::Collections {
            KeyKind::Purchase
        } else {
            KeyKind::Collections
        };
        return Err(ApiError::unauthorized(
            codes::AUTHENTICATION_TOKEN_INVALID,
            format!(
                "This call needs a {}; the key given is a {}.",
                kind.label(),
                other.label()
            ),
        ));
    }
    let now = app.clock.now().timestamp();
    if now >= claims.exp {
        return Err(ApiError::unauthorized(
            codes::AUTHENTICATION_TOKEN_INVALID,
            "The User Store ID key has expired; renew it before it expires, or get a new one from the client.",
        ));
    }
    if now < claims.nbf {
        return Err(ApiError::unauthorized(
            codes::AUTHENTICATION_TOKEN_INVALID,
            "The User Store ID key is not valid yet.",
        ));
    }
    if claims.client_id != token.appid {
        return Err(ApiError::unauthorized(
            codes::INCONSISTENT_CLIENT_ID,
            "The key's client id is not the application of the service token.",
        ));
    }
    Ok(customer)
}

/// Mint a key for a customer.
pub fn mint_key(
    app: &App,
    customer: &str,
    user_id: &str,
    kind: KeyKind,
    issued: DateTime<Utc>,
    client_id: &str,
) -> Result<String, super::SandboxError> {
    use base64::Engine;
    let payload = serde_json::to_vec(&Payload {
        c: customer.to_owned(),
        k: kind,
    })
    .map_err(|e| super::SandboxError::Key(e.to_string()))?;
    let iat = issued.timestamp();
    let claims = KeyClaims {
        client_id: client_id.to_owned(),
        payload: base64::engine::general_purpose::STANDARD.encode(payload),
        user_id: user_id.to_owned(),
        refresh_uri: kind.refresh_uri().to_owned(),
        iat,
        iss: kind.audience().to_owned(),
        aud: kind.audience().to_owned(),
        exp: iat + TimeDelta::days(KEY_LIFETIME_DAYS).num_seconds(),
        nbf: iat,
    };
    app.signer.sign(&claims)
}

/// `POST {refreshUri}`: `{serviceTicket, key}` → `{key}`; no Authorization.
pub fn renew(app: &App, kind: KeyKind, h: &HeaderMap, body: &Bytes) -> ApiResult {
    let req = RenewRequest::read(json_body(h, body)?)?;
    let ticket = check_service_token(app, &req.service_ticket, audience::STORE)?;
    let claims = key_claims(app, &req.key)?;
    let (customer, payload_kind) = customer_of(&claims)?;
    if payload_kind != kind {
        return Err(ApiError::unauthorized(
            codes::AUTHENTICATION_TOKEN_INVALID,
            format!("This endpoint renews {} keys only.", kind.label()),
        ));
    }
    if app.clock.now().timestamp() >= claims.exp {
        return Err(ApiError::unauthorized(
            codes::AUTHENTICATION_TOKEN_INVALID,
            "The key has expired and can no longer be renewed.",
        ));
    }
    if claims.client_id != ticket.appid {
        return Err(ApiError::unauthorized(
            codes::INCONSISTENT_CLIENT_ID,
            "The key's client id is not the application of the service ticket.",
        ));
    }
    let key = mint_key(
        app,
        &customer,
        &claims.user_id,
        kind,
        app.clock.now(),
        &claims.client_id,
    )?;
    ok(&answers::renewed(&key, app.style_of(&customer)))
}

/// A sandbox key of either kind as the "MSA token" of targeted offers.
pub fn msa_user(app: &App, h: &HeaderMap) -> Result<String, ApiError> {
    let Some(token) = bearer(h) else {
        return Err(ApiError::unauthorized(
            codes::AUTHENTICATION_TOKEN_INVALID,
            "A user token is required in the Authorization header.",
        ));
    };
    let claims = key_claims(app, token)?;
    if app.clock.now().timestamp() >= claims.exp {
        return Err(ApiError::unauthorized(
            codes::AUTHENTICATION_TOKEN_INVALID,
            "The user token has expired.",
        ));
    }
    customer_of(&claims).map(|(c, _)| c)
}
