//! The Store client as a [`WriteSender`]: decodes the journaled body into
//! the wire request of its kind and classifies the answer.

use super::exec::{SendResult, WriteSender};
use super::mask;
use super::request::{WriteKind, WriteRequest};
use super::writes::Correlation;
use crate::store::model::{
    ClaimOfferRequest, ConsumeRequest, GrantRequest, RecurrenceChangeRequest,
};
use crate::store::{CorrelationIds, Response, StoreClient, StoreError};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

impl From<&CorrelationIds> for Correlation {
    fn from(c: &CorrelationIds) -> Self {
        Self {
            correlation_id: c.correlation_id.clone(),
            request_id: c.request_id.clone(),
            cv: c.cv.clone(),
            azure_request_id: c.azure_request_id.clone(),
        }
    }
}

/// A send result from a client call. The value is serialised so the
/// journal can summarise it; callers of a renewal get the new key from the
/// client directly, never through the journal.
fn classify<T: Serialize>(r: Result<Response<T>, StoreError>) -> SendResult {
    match r {
        Ok(resp) => SendResult::Applied {
            status: resp.meta.status,
            response: serde_json::to_value(&resp.value).unwrap_or(Value::Null),
            correlation: (&resp.meta.correlation).into(),
        },
        Err(e) => from_error(&e),
    }
}

pub fn from_error(e: &StoreError) -> SendResult {
    let correlation: Correlation = (&e.correlation).into();
    if !e.sent {
        SendResult::NotSent {
            message: e.to_string(),
        }
    } else if e.is_definite() {
        SendResult::Rejected {
            status: e.status,
            message: e.to_string(),
            correlation,
        }
    } else {
        SendResult::NoAnswer {
            status: e.status,
            message: e.to_string(),
            correlation,
        }
    }
}

// SendResult is the journal's whole answer (body, four correlation ids):
// passed once per write, never hot enough for its size to matter.
#[allow(clippy::result_large_err)]
fn decode<T: DeserializeOwned>(req: &WriteRequest) -> Result<T, SendResult> {
    serde_json::from_value(req.body.clone()).map_err(|e| SendResult::NotSent {
        message: format!(
            "journaled {} body does not decode: {}",
            req.kind,
            without_values(&e, &req.customer_key)
        ),
    })
}

/// A decode error without the values it quotes: the body was restored
/// with the customer key, and serde quotes what it could not read (`string
/// "eyJ…"`). Field names (in backticks) stay; the rest is redacted too.
fn without_values(e: &serde_json::Error, key: &str) -> String {
    let text = e.to_string();
    let mut out = String::with_capacity(text.len());
    let (mut quoted, mut escaped) = (false, false);
    for c in text.chars() {
        if quoted {
            match (escaped, c) {
                (false, '\\') => escaped = true,
                (false, '"') => quoted = false,
                _ => escaped = false,
            }
        } else if c == '"' {
            quoted = true;
            out.push_str("(value not shown)");
        } else {
            out.push(c);
        }
    }
    crate::store::error::redact(&out, (!key.is_empty()).then_some(key))
}

impl WriteSender for StoreClient {
    async fn send(&self, req: &WriteRequest) -> SendResult {
        match send_inner(self, req).await {
            Ok(r) | Err(r) => r,
        }
    }
}

#[allow(clippy::result_large_err)]
async fn send_inner(c: &StoreClient, req: &WriteRequest) -> Result<SendResult, SendResult> {
    let target = || {
        req.target.as_deref().ok_or_else(|| SendResult::NotSent {
            message: format!("a {} needs a target", req.kind),
        })
    };
    Ok(match req.kind {
        WriteKind::Consume => {
            let r: ConsumeRequest = decode(req)?;
            classify(c.consume(&r).await)
        }
        WriteKind::Grant => {
            let r: GrantRequest = decode(req)?;
            classify(c.grant(&r).await)
        }
        WriteKind::RecurrenceChange => {
            let r: RecurrenceChangeRequest = decode(req)?;
            classify(c.change_recurrence(target()?, &r).await)
        }
        WriteKind::RenewKey => {
            // The new key is a credential: only its fingerprint is journaled.
            let r = c.renew_key(&req.customer_key).await;
            classify(r.map(|resp| resp.map(|k| json!({ "newKey": mask::fingerprint(&k) }))))
        }
        WriteKind::ClawbackAck => {
            let (message_id, pop_receipt) =
                target()?
                    .split_once('/')
                    .ok_or_else(|| SendResult::NotSent {
                        message: "clawback ack target must be messageId/popReceipt".into(),
                    })?;
            // The SAS is fetched fresh: it expires, and it is a credential
            // the journal must not keep.
            let sas = match c.clawback_sas().await {
                Ok(s) => s.value,
                Err(e) => {
                    return Err(SendResult::NotSent {
                        message: format!("cannot get the clawback queue SAS: {e}"),
                    });
                }
            };
            classify(c.queue_delete(&sas.uri, message_id, pop_receipt).await)
        }
        WriteKind::OfferClaim => {
            let r: ClaimOfferRequest = decode(req)?;
            classify(c.claim_offer(&req.customer_key, &r).await)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::without_values;

    #[test]
    fn a_decode_error_loses_every_quoted_value_even_with_escaped_quotes() {
        let e = serde_json::from_value::<u32>(serde_json::json!("se\"cr\\et\" tail")).unwrap_err();
        let text = without_values(&e, "k");
        assert_eq!(text, "invalid type: string (value not shown), expected u32");
    }
}
