//! Keeping secrets out of what is stored and shown: key fingerprints and
//! request-body masking.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// Stands for the customer key in a stored request body; replaced by the
/// real (unsealed) key when a pending write is replayed.
pub const KEY_PLACEHOLDER: &str = "<customer-key>";
/// What any other secret-looking value becomes.
pub const MASK: &str = "***";

/// What stands for the customer of a write that names none (a clawback
/// acknowledgement): not the fingerprint of an empty key, which would look
/// like one more customer in the audit log.
pub const NO_CUSTOMER: &str = "none";

/// First 8 hex digits of SHA-256 of the key: enough to tell customers apart
/// in the audit log, useless for calling the Store.
pub fn fingerprint(key: &str) -> String {
    let key = key.trim();
    if key.is_empty() {
        return NO_CUSTOMER.to_string();
    }
    let digest = Sha256::digest(key.as_bytes());
    digest[..4].iter().map(|b| format!("{b:02x}")).collect()
}

/// The body as it may be stored: the customer key becomes
/// [`KEY_PLACEHOLDER`], any other secret becomes [`MASK`].
pub fn for_storage(body: &Value, customer_key: &str) -> Value {
    mask(body, customer_key, KEY_PLACEHOLDER)
}

/// The body as the confirmation dialog shows it: the key by fingerprint.
pub fn for_display(body: &Value, customer_key: &str) -> Value {
    let shown = format!("<key {}>", fingerprint(customer_key));
    mask(body, customer_key, &shown)
}

/// Put the customer key back where the stored body has the placeholder.
pub fn restore(body: &Value, customer_key: &str) -> Value {
    match body {
        Value::String(s) if s == KEY_PLACEHOLDER => Value::String(customer_key.to_string()),
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| restore(v, customer_key)).collect())
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), restore(v, customer_key)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Replace every occurrence of the customer key (also inside longer strings,
/// e.g. an Authorization value) and every secret-looking field.
fn mask(body: &Value, customer_key: &str, key_shown: &str) -> Value {
    match body {
        Value::String(s) => Value::String(mask_str(s, customer_key, key_shown)),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| mask(v, customer_key, key_shown))
                .collect(),
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let masked = match v {
                        Value::String(s) if is_secret_field(k) && s != customer_key => {
                            Value::String(MASK.into())
                        }
                        _ => mask(v, customer_key, key_shown),
                    };
                    (k.clone(), masked)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

fn mask_str(s: &str, customer_key: &str, key_shown: &str) -> String {
    let key = customer_key.trim();
    if !key.is_empty() && s.contains(key) {
        if s == key {
            return key_shown.to_string();
        }
        return s.replace(key, key_shown);
    }
    if looks_like_jwt(s) {
        return MASK.into();
    }
    // Nothing else is changed: a stored body is sent again on replay.
    s.to_string()
}

/// A request or answer model for `Debug`: every secret-named field and
/// every field that names a customer (their keys) masked, credentials in
/// other strings too. Request types print through this, never derive it.
pub fn for_debug(v: &Value) -> Value {
    match v {
        Value::String(s) if looks_like_jwt(s) => Value::String(MASK.into()),
        // A SAS URL's signature, an MSA token inside a longer string.
        Value::String(s) => Value::String(crate::store::error::mask_credentials(s, None)),
        Value::Array(items) => Value::Array(items.iter().map(for_debug).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let masked = match v {
                        Value::String(_) if is_secret_field(k) || is_key_field(k) => {
                            Value::String(MASK.into())
                        }
                        _ => for_debug(v),
                    };
                    (k.clone(), masked)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Fields that carry a customer's key or a ticket in the Store's models.
fn is_key_field(name: &str) -> bool {
    let n = name.to_ascii_lowercase().replace('_', "");
    matches!(
        n.as_str(),
        "key" | "b2bkey" | "identityvalue" | "serviceticket" | "receipt"
    )
}

/// `impl Debug` for serializable models through [`for_debug`].
#[macro_export]
macro_rules! masked_debug {
    ($($t:ty),* $(,)?) => {$(
        impl ::std::fmt::Debug for $t {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                let v = ::serde_json::to_value(self).unwrap_or(::serde_json::Value::Null);
                write!(f, "{} {}", stringify!($t), $crate::journal::mask::for_debug(&v))
            }
        }
    )*};
}

fn is_secret_field(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.contains("secret")
        || n.contains("password")
        || n == "authorization"
        || n == "sig"
        || (n.ends_with("token") && n != "continuationtoken")
}

/// Any bearer credential (User Store ID, service token, MSA token) is a JWT.
fn looks_like_jwt(s: &str) -> bool {
    let s = s.strip_prefix("Bearer ").unwrap_or(s);
    s.starts_with("eyJ") && s.split('.').count() == 3 && s.len() > 40
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const KEY: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyMSJ9.c2lnbmF0dXJlLWJ5dGVz";

    #[test]
    fn request_models_never_debug_a_key_a_ticket_or_the_secret() {
        use crate::store::model::*;
        let b = Beneficiary {
            identity_type: "b2b".into(),
            identity_value: "canary-key-1".into(),
            local_ticket_reference: None,
        };
        let shown = [
            format!(
                "{:?}",
                TokenRequest {
                    client_secret: "canary-secret".into(),
                    ..Default::default()
                }
            ),
            format!(
                "{:?}",
                RenewRequest {
                    service_ticket: "canary-ticket".into(),
                    key: "canary-key-2".into()
                }
            ),
            format!(
                "{:?}",
                ConsumeRequest {
                    beneficiary: b.clone(),
                    ..Default::default()
                }
            ),
            format!(
                "{:?}",
                PublisherQueryRequest {
                    beneficiaries: vec![b],
                    ..Default::default()
                }
            ),
            format!(
                "{:?}",
                OrdersQueryRequest {
                    b2b_key: "canary-key-3".into(),
                    ..Default::default()
                }
            ),
            format!(
                "{:?}",
                RecurrencesQueryRequest {
                    b2b_key: "canary-key-4".into(),
                    ..Default::default()
                }
            ),
            format!(
                "{:?}",
                GrantRequest {
                    b2b_key: "canary-key-5".into(),
                    ..Default::default()
                }
            ),
            format!(
                "{:?}",
                RenewResponse {
                    key: "canary-key-6".into()
                }
            ),
        ];
        for s in &shown {
            assert!(!s.contains("canary"), "{s}");
            assert!(s.contains("***"), "{s}");
        }
        assert!(shown[0].starts_with("TokenRequest {"), "{}", shown[0]);
    }

    #[test]
    fn debug_loses_sas_signatures_and_msa_tokens() {
        let msa = format!("EwB{}", "AAbbCCddEEff1234567890+/".repeat(6));
        let body = json!({"uri": "https://q/clawback?sv=1&sig=Zm9vYmFy%3D&se=2", "note": format!("t={msa}")});
        let text = for_debug(&body).to_string();
        assert!(!text.contains("Zm9vYmFy"), "{text}");
        assert!(!text.contains(&msa[..20]), "{text}");
    }

    #[test]
    fn fingerprint_is_8_hex() {
        let f = fingerprint(KEY);
        assert_eq!(f.len(), 8);
        assert!(f.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(f, fingerprint(&format!(" {KEY}\n")));
        assert_ne!(f, fingerprint("other"));
        assert_eq!(fingerprint(""), NO_CUSTOMER);
        assert_eq!(fingerprint(" \n"), NO_CUSTOMER);
    }

    #[test]
    fn storage_masks_and_restore_round_trips() {
        let body = json!({
            "beneficiary": {"identityType": "b2b", "identityValue": KEY, "localTicketReference": "r"},
            "productId": "9NBLGGH4R315", "trackingId": "t-1", "removeQuantity": 3,
            "client_secret": "hunter2", "other": "eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiJ4In0.c2lnbmF0dXJl"
        });
        let stored = for_storage(&body, KEY);
        let text = stored.to_string();
        assert!(!text.contains(KEY));
        assert!(!text.contains("hunter2"));
        assert!(!text.contains("eyJ0eXAi"));
        assert_eq!(stored["beneficiary"]["identityValue"], KEY_PLACEHOLDER);
        assert_eq!(stored["trackingId"], "t-1");
        let back = restore(&stored, KEY);
        assert_eq!(back["beneficiary"], body["beneficiary"]);
        assert_eq!(back["removeQuantity"], 3);
    }

    #[test]
    fn display_shows_fingerprint() {
        let shown = for_display(&json!({"b2bKey": KEY, "continuationToken": "abc"}), KEY);
        assert_eq!(shown["b2bKey"], format!("<key {}>", fingerprint(KEY)));
        assert_eq!(shown["continuationToken"], "abc");
    }
}
