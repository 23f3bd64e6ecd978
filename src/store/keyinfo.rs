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

/// Keys this process renewed: the new key's fingerprint → the customer id
/// of the key it replaced. Process-wide because a renewal is known only to
/// the process that made it, and every part of it (budget, panes) must see it.
static RENEWALS: std::sync::LazyLock<std::sync::Mutex<std::collections::HashMap<String, String>>> =
    std::sync::LazyLock::new(Default::default);

/// `new` was minted by renewing `old`: from now on it is the same customer.
pub fn record_renewal(old: &str, new: &str) {
    let id = customer_id(old);
    RENEWALS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(fingerprint(new), id);
}

/// Who a key belongs to, for the call budget and for what a case keeps:
/// the fingerprint of the first key of its line of renewals. Never the
/// `userId` claim: a publisherUserId may be empty or the same for every
/// customer of a publisher, and two customers must never share a budget
/// or a listing.
pub fn customer_id(key: &str) -> String {
    let fp = fingerprint(key);
    RENEWALS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&fp)
        .cloned()
        .unwrap_or_else(|| format!("key:{fp}"))
}

/// Cases this process put together: the purchase key's customer id → the
/// collections key's. Kept apart from `customer_id` on purpose: the budget
/// and the panes' "same customer" checks stay per key line, and only what
/// the audit log calls the customer follows the case.
static CASES: std::sync::LazyLock<std::sync::Mutex<std::collections::HashMap<String, String>>> =
    std::sync::LazyLock::new(Default::default);

/// The operator put `collections` and `purchase` in one case: from now on
/// the audit log names one customer for both (and their renewals).
pub fn record_case(collections: &str, purchase: &str) {
    let (c, p) = (customer_id(collections), customer_id(purchase));
    if c != p {
        CASES.lock().unwrap_or_else(|e| e.into_inner()).insert(p, c);
    }
}

/// The customer the audit log names for a write made with `key`: the case's
/// (the collections key's line when the key was put in a case with one),
/// else the key's own line. Stable across both keys and renewals.
pub fn case_customer(key: &str) -> String {
    let id = customer_id(key);
    CASES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&id)
        .cloned()
        .unwrap_or(id)
}

/// Whether `b` is `a` or a renewal of it (by this process).
pub fn same_customer(a: &str, b: &str) -> bool {
    customer_id(a) == customer_id(b)
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
        assert_eq!(customer_id(&k), format!("key:{}", fingerprint(&k)));
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
    fn only_a_renewal_makes_two_keys_one_customer() {
        let k = |user: &str, iat: i64| {
            key(
                serde_json::json!({ CLAIM_USER_ID: user, "iss": "https://collections.mp.microsoft.com/v6.0/keys", "iat": iat }),
            )
        };
        // Same userId claim, two keys: two customers until one renews the other.
        let (a, b) = (k("shared", 1), k("shared", 2));
        assert!(!same_customer(&a, &b));
        assert_ne!(customer_id(&a), customer_id(&b));
        record_renewal(&a, &b);
        assert!(same_customer(&a, &b));
        assert_eq!(customer_id(&b), customer_id(&a));
        // A renewal of the renewal stays in the line.
        let c = k("shared", 3);
        record_renewal(&b, &c);
        assert_eq!(customer_id(&c), customer_id(&a));
        assert!(same_customer("not-a-key", "not-a-key"));
    }

    #[test]
    fn a_case_names_one_customer_for_both_keys_without_merging_them() {
        let k = |kind: &str, iat: i64| key(serde_json::json!({ "iss": kind, "iat": iat }));
        let (c, p) = (k("case-c", 1), k("case-p", 1));
        assert_ne!(case_customer(&p), case_customer(&c));
        record_case(&c, &p);
        assert_eq!(case_customer(&p), customer_id(&c));
        assert_eq!(case_customer(&c), customer_id(&c));
        // The budget and the panes still tell the two keys apart.
        assert!(!same_customer(&c, &p));
        // A renewed purchase key stays in the case.
        let p2 = k("case-p", 2);
        record_renewal(&p, &p2);
        assert_eq!(case_customer(&p2), customer_id(&c));
    }
}
