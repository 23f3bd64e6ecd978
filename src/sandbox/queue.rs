//! Clawback v2: the SAS-token call and an Azure-Storage-Queue-compatible
//! subset (peek, receive with visibility timeout, delete by pop receipt; XML
//! bodies). Also targeted offers, the other small GET endpoint.

use super::App;
use super::auth;
use super::http::{ApiError, ApiResult, json, json_body, ok, parse_json};
use super::wire::{answers, requests::ClaimOfferRequest};
use crate::store::model::{QueueMessage, StoreTime, queue_messages_to_xml, rfc1123};
use axum::body::{Body, Bytes};
use axum::extract::Query;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use chrono::TimeDelta;
use std::collections::HashMap;

pub const QUEUE_NAME: &str = "clawback";

pub fn sas_token(app: &App, h: &HeaderMap) -> ApiResult {
    auth::service_token(app, h)?;
    let now = app.queue_now();
    // Minute precision, as the service writes it; at least 59 minutes left.
    let expires = StoreTime(now + TimeDelta::hours(1));
    let se = expires.to_minute_wire();
    let sig = app.signer.derive(&format!("sas:{se}"));
    let uri = format!(
        "{}/queue/{QUEUE_NAME}?sv=2021-08-06&se={}&sp=rp&sig={}",
        app.base_url,
        urlencode(&se),
        urlencode(&sig)
    );
    ok(&answers::sas_token(&expires.0, &uri))
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn xml(status: StatusCode, body: String) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    r.headers_mut()
        .insert("x-ms-version", HeaderValue::from_static("2021-08-06"));
    r
}

/// Azure Storage's XML error shape, kept small until it becomes a response.
struct XmlErr {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl XmlErr {
    fn into_response(self) -> Response {
        xml(
            self.status,
            format!(
                "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>{}</Code><Message>{}</Message></Error>",
                self.code, self.message
            ),
        )
    }
}

fn xml_error(status: StatusCode, code: &'static str, message: &str) -> XmlErr {
    XmlErr {
        status,
        code,
        message: message.to_owned(),
    }
}

type Params = HashMap<String, String>;

fn check_sas(app: &App, queue: &str, uri: &Uri) -> Result<Params, XmlErr> {
    let params: Params = Query::<Params>::try_from_uri(uri)
        .map(|q| q.0)
        .map_err(|_| {
            xml_error(
                StatusCode::BAD_REQUEST,
                "InvalidQueryParameterValue",
                "Bad query string.",
            )
        })?;
    if queue != QUEUE_NAME {
        return Err(xml_error(
            StatusCode::NOT_FOUND,
            "QueueNotFound",
            "The specified queue does not exist.",
        ));
    }
    let denied = || {
        xml_error(
            StatusCode::FORBIDDEN,
            "AuthenticationFailed",
            "Server failed to authenticate the request. Make sure the SAS token is valid.",
        )
    };
    let (Some(se), Some(sig)) = (params.get("se"), params.get("sig")) else {
        return Err(denied());
    };
    if app.signer.derive(&format!("sas:{se}")) != *sig {
        return Err(denied());
    }
    match StoreTime::parse(se) {
        Some(t) if t.0 > app.queue_now() => Ok(params),
        _ => Err(denied()),
    }
}

fn num(params: &Params, name: &str, default: i64, lo: i64, hi: i64) -> Result<i64, XmlErr> {
    match params.get(name) {
        None => Ok(default),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| (lo..=hi).contains(n))
            .ok_or_else(|| {
                xml_error(
                    StatusCode::BAD_REQUEST,
                    "OutOfRangeQueryParameterValue",
                    &format!("{name} must be between {lo} and {hi}."),
                )
            }),
    }
}

/// `GET /queue/{q}/messages?…&numofmessages=N[&peekonly=true][&visibilitytimeout=S]`
pub fn messages(app: &App, queue: &str, uri: &Uri) -> ApiResult {
    Ok(messages_inner(app, queue, uri).unwrap_or_else(XmlErr::into_response))
}

fn messages_inner(app: &App, queue: &str, uri: &Uri) -> Result<Response, XmlErr> {
    let params = check_sas(app, queue, uri)?;
    let n = num(&params, "numofmessages", 1, 1, 32)? as usize;
    let peek = params
        .get("peekonly")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let vt = num(&params, "visibilitytimeout", 30, 1, 604_800)?;
    let now = app.queue_now();
    let mut world = app.world();
    let mut out = Vec::new();
    for m in world.queue.messages.iter_mut() {
        if out.len() == n {
            break;
        }
        if m.visible_at > now || m.expires <= now {
            continue;
        }
        if peek {
            out.push(wire(m, false));
            continue;
        }
        m.dequeue_count += 1;
        // vt is bounded above (7 days); a pinned clock near the calendar's
        // end still must not panic the handler.
        m.visible_at = now
            .checked_add_signed(TimeDelta::seconds(vt))
            .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC);
        m.pop_receipt = Some(uuid::Uuid::new_v4().simple().to_string());
        out.push(wire(m, true));
    }
    if !peek && !out.is_empty() {
        let q = world.queue.clone();
        drop(world);
        if let Err(e) = app.store.save_queue(&q) {
            tracing::error!(error = %e, "cannot save the queue");
            return Err(xml_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                "State not saved.",
            ));
        }
    }
    Ok(xml(StatusCode::OK, queue_messages_to_xml(&out)))
}

fn wire(m: &super::state::QMsg, received: bool) -> QueueMessage {
    QueueMessage {
        message_id: m.id.clone(),
        insertion_time: rfc1123(m.inserted),
        expiration_time: rfc1123(m.expires),
        pop_receipt: received.then(|| m.pop_receipt.clone()).flatten(),
        time_next_visible: received.then(|| rfc1123(m.visible_at)),
        dequeue_count: m.dequeue_count,
        message_text: m.text.clone(),
    }
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Enqueue {
    /// The event as JSON, any shape: tests put the documents' own JSON
    /// (and malformed events) on the queue.
    #[serde(default)]
    event: Option<serde_json::Value>,
    #[serde(default)]
    message_text: Option<String>,
}

/// `POST _sandbox/clawbacks`: one more message on the queue, visible now.
pub fn enqueue(app: &App, h: &HeaderMap, body: &Bytes) -> ApiResult {
    use base64::Engine;
    let req: Enqueue = parse_json(h, body)?;
    let text = match (req.event, req.message_text) {
        (Some(ev), None) => base64::engine::general_purpose::STANDARD
            .encode(serde_json::to_vec(&ev).unwrap_or_default()),
        (None, Some(t)) => t,
        _ => {
            return Err(ApiError::bad(
                "give exactly one of event (JSON) and messageText.",
            ));
        }
    };
    let now = app.queue_now();
    let id = uuid::Uuid::new_v4().to_string();
    let mut world = app.world();
    world.queue.messages.push(super::state::QMsg {
        id: id.clone(),
        inserted: now,
        expires: now + TimeDelta::days(7),
        visible_at: now,
        pop_receipt: None,
        dequeue_count: 0,
        text,
    });
    let q = world.queue.clone();
    drop(world);
    app.store
        .save_queue(&q)
        .map_err(|e| ApiError::bad(format!("queue not saved: {e}")))?;
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({ "messageId": id }),
    ))
}

/// `GET /queue/{q}?comp=metadata`: Azure answers 200 with an empty body
/// and the approximate length (hidden messages included) in a header.
pub fn metadata(app: &App, queue: &str, uri: &Uri) -> ApiResult {
    Ok(metadata_inner(app, queue, uri).unwrap_or_else(XmlErr::into_response))
}

fn metadata_inner(app: &App, queue: &str, uri: &Uri) -> Result<Response, XmlErr> {
    let params = check_sas(app, queue, uri)?;
    if params.get("comp").map(String::as_str) != Some("metadata") {
        return Err(xml_error(
            StatusCode::BAD_REQUEST,
            "InvalidQueryParameterValue",
            "Value for one of the query parameters specified in the request URI is invalid (comp).",
        ));
    }
    let now = app.queue_now();
    let count = app
        .world()
        .queue
        .messages
        .iter()
        .filter(|m| m.expires > now)
        .count();
    let mut r = xml(StatusCode::OK, String::new());
    r.headers_mut().remove(header::CONTENT_TYPE);
    r.headers_mut().insert(
        "x-ms-approximate-messages-count",
        HeaderValue::from(count as u64),
    );
    Ok(r)
}

/// `DELETE /queue/{q}/messages/{id}?…&popreceipt=R`
pub fn delete(app: &App, queue: &str, id: &str, uri: &Uri) -> ApiResult {
    Ok(delete_inner(app, queue, id, uri).unwrap_or_else(XmlErr::into_response))
}

fn delete_inner(app: &App, queue: &str, id: &str, uri: &Uri) -> Result<Response, XmlErr> {
    let params = check_sas(app, queue, uri)?;
    let Some(receipt) = params.get("popreceipt") else {
        return Err(xml_error(
            StatusCode::BAD_REQUEST,
            "MissingRequiredQueryParameter",
            "popreceipt is required.",
        ));
    };
    let mut world = app.world();
    let Some(pos) = world.queue.messages.iter().position(|m| m.id == id) else {
        return Err(xml_error(
            StatusCode::NOT_FOUND,
            "MessageNotFound",
            "The specified message does not exist.",
        ));
    };
    if world.queue.messages[pos].pop_receipt.as_deref() != Some(receipt.as_str()) {
        return Err(xml_error(
            StatusCode::BAD_REQUEST,
            "PopReceiptMismatch",
            "The specified pop receipt did not match the pop receipt for a dequeued message.",
        ));
    }
    world.queue.messages.remove(pos);
    let q = world.queue.clone();
    drop(world);
    if let Err(e) = app.store.save_queue(&q) {
        tracing::error!(error = %e, "cannot save the queue");
        return Err(xml_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "State not saved.",
        ));
    }
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::NO_CONTENT;
    Ok(r)
}

/// Targeted offers: GET lists them, POST claims one. The sandbox takes a
/// sandbox key of the customer (either kind) as the user's MSA token.
pub fn offers(app: &App, method: &Method, h: &HeaderMap, body: &Bytes) -> ApiResult {
    let customer = auth::msa_user(app, h)?;
    if *method == Method::GET {
        let world = app.world();
        let c = world.customer(&customer)?;
        return Ok(json(StatusCode::OK, &c.offers));
    }
    let req = ClaimOfferRequest::read(json_body(h, body)?)?;
    if req.receipt.trim().is_empty() {
        return Err(ApiError::bad(
            "receipt is required (an orderId or a purchase receipt).",
        ));
    }
    app.write_customer(&customer, |c| {
        let known = c.offers.iter().any(|o| {
            o.tracking_id.eq_ignore_ascii_case(&req.tracking_id) && o.offers == req.offers
        });
        if !known {
            return Err(ApiError::bad(
                "storeOffer does not match an offer of this user.",
            ));
        }
        c.claims
            .entry(req.tracking_id.clone())
            .or_insert_with(|| req.receipt.clone());
        Ok(serde_json::json!({}))
    })
}
