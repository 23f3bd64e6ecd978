//! The little the client itself must read out of a User Store ID: who the
//! customer is (for the call budget) and where to renew. No verification —
//! the key pane (`crate::keys`) does the full assessment.

use base64::Engine as _;
use sha2::{Digest, Sha256};

const CLAIM_USER_ID: &str = "http://schemas.microsoft.com/marketplace/2015/08/claims/key/userId";
const CLAIM_REFRESH_URI: &str =
    "http://schemas.microsoft.com/marketplace/2015/08/claims/key/refreshUri";

/// First 8 hex digits of SHA-256: how a key is named outside the key pane.
pub fn fingerprint(key: &str) -> String {
    let d = Sha256::digest(key.trim().as_bytes());
    d.iter().take(4).map(|b| format!("{b:02x}")).collect()
}

fn payload(key: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    let mut parts = key.trim().split('.');
    let (_, body) = (parts.next()?, parts.next()?);
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(body.trim_end_matches('='))
        .ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        serde_json::Value::Object(m) => Some(m),
        _ => None,
    }
}

/// The `userId` claim (publisherUserId), if the key carries one.
pub fn user_id(key: &str) -> Option<String> {
    payload(key)?
        .get(CLAIM_USER_ID)?
        .as_str()
        .filter(|s| !s.is_empty())
        .map(String::from)
}

/// The `refreshUri` claim.
pub fn refresh_uri(key: &str) -> Option<String> {
    payload(key)?
        .get(CLAIM_REFRESH_URI)?
        .as_str()
        .map(String::from)
}

/// What the call budget is keyed by: the userId, or the key's fingerprint
/// when the key carries none.
pub fn customer_id(key: &str) -> String {
    user_id(key).unwrap_or_else(|| format!("key:{}", fingerprint(key)))
}

/// Whether two keys name the same customer of the same service: a renewed
/// key, not a different customer. Keys without a userId never match.
pub fn same_customer(a: &str, b: &str) -> bool {
    let iss = |k: &str| payload(k).and_then(|p| p.get("iss")?.as_str().map(String::from));
    user_id(a).is_some_and(|u| user_id(b).as_deref() == Some(u.as_str())) && iss(a) == iss(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(claims: serde_json::Value) -> String {
        let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.sig",
            e.encode(br#"{"alg":"RS256"}"#),
            e.encode(claims.to_string())
        )
    }

    #[test]
    fn reads_user_id_and_refresh_uri() {
        let k = key(serde_json::json!({
            CLAIM_USER_ID: "user-7",
            CLAIM_REFRESH_URI: "https://collections.mp.microsoft.com/v6.0/b2b/keys/renew"
        }));
        assert_eq!(user_id(&k).as_deref(), Some("user-7"));
        assert_eq!(customer_id(&k), "user-7");
        assert!(refresh_uri(&k).unwrap().ends_with("/keys/renew"));
    }

    #[test]
    fn garbage_is_none_and_fingerprint_is_stable() {
        assert_eq!(user_id("not a key"), None);
        assert_eq!(refresh_uri("a.%%%.c"), None);
        assert!(customer_id("a.b.c").starts_with("key:"));
        assert_eq!(fingerprint("abc"), "ba7816bf");
        assert_eq!(fingerprint(" abc\n"), "ba7816bf");
    }

    #[test]
    fn a_renewed_key_is_the_same_customer_another_user_is_not() {
        let k = |user: &str, iss: &str, iat: i64| {
            key(serde_json::json!({ CLAIM_USER_ID: user, "iss": iss, "iat": iat }))
        };
        let coll = "https://collections.mp.microsoft.com/v6.0/keys";
        let purch = "https://purchase.mp.microsoft.com/v6.0/keys";
        assert!(same_customer(&k("u1", coll, 1), &k("u1", coll, 2)));
        assert!(!same_customer(&k("u1", coll, 1), &k("u2", coll, 1)));
        assert!(!same_customer(&k("u1", coll, 1), &k("u1", purch, 1)));
        assert!(!same_customer("not-a-key", "not-a-key"));
    }
}
