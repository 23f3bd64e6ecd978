//! Which key a Store call needs, checked before the call: a purchase key
//! given to a collections call (or the reverse) otherwise comes back as a
//! 401 whose hint says "expired or revoked", which sends the agent the
//! wrong way. STORE-API.md: the collections query and consume take the
//! UserCollectionsId; orders, recurrences and grant the UserPurchaseId.

use super::assess::{KeyKind, kind_of};
use super::decode::decode;
use super::{COLLECTIONS_KEYS, PURCHASE_KEYS};

/// A key of the wrong kind for a call. The message names the fix; the key
/// itself never appears in it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{call} needs the customer's {needed}, but this is a {found}: {fix}; nothing was sent",
    needed = needed.as_str(),
    found = found.as_str(),
    fix = fix(*needed, *found)
)]
pub struct WrongKeyKind {
    pub call: String,
    pub needed: KeyKind,
    pub found: KeyKind,
}

fn fix(needed: KeyKind, found: KeyKind) -> String {
    let (plain, iss) = match needed {
        KeyKind::UserPurchaseId => ("purchase key", PURCHASE_KEYS),
        _ => ("collections key", COLLECTIONS_KEYS),
    };
    let what = match found {
        KeyKind::EntraServiceToken => "it is a service token (yours, not the customer's); ",
        _ => "",
    };
    format!(
        "{what}pass the customer's {plain} instead (its iss is {iss}; `storedesk inspect KEY` tells the two apart)"
    )
}

/// `Ok` when `token` is of the `needed` kind, or when its kind cannot be
/// told (not a JWT, or an unknown issuer: the Store has the last word).
/// A User Store ID of the other kind, or a service token, is refused.
pub fn check_kind(token: &str, needed: KeyKind, call: &str) -> Result<(), WrongKeyKind> {
    let Ok(d) = decode(token) else {
        return Ok(());
    };
    let found = kind_of(&d.payload);
    let wrong = found != needed
        && matches!(
            found,
            KeyKind::UserCollectionsId | KeyKind::UserPurchaseId | KeyKind::EntraServiceToken
        );
    if wrong {
        return Err(WrongKeyKind {
            call: call.to_string(),
            needed,
            found,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::testkit::{raw_token, store_claims};

    fn key(iss: &str) -> String {
        let mut c = store_claims(1_790_000_000);
        c["iss"] = iss.into();
        c["aud"] = iss.into();
        raw_token(r#"{"alg":"RS256"}"#, &c.to_string())
    }

    #[test]
    fn the_other_kind_is_refused_with_the_fix() {
        let purchase = key(PURCHASE_KEYS);
        let e = check_kind(&purchase, KeyKind::UserCollectionsId, "consume").unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.starts_with(
                "consume needs the customer's UserCollectionsId, but this is a UserPurchaseId"
            ) && msg.contains("collections key instead")
                && !msg.contains(&purchase),
            "{msg}"
        );
        let coll = key(COLLECTIONS_KEYS);
        assert!(check_kind(&coll, KeyKind::UserCollectionsId, "consume").is_ok());
        let e = check_kind(&coll, KeyKind::UserPurchaseId, "grant").unwrap_err();
        assert!(e.to_string().contains("purchase key instead"), "{e}");
    }

    #[test]
    fn unknown_kinds_are_left_to_the_store() {
        assert!(check_kind("k", KeyKind::UserPurchaseId, "grant").is_ok());
        let other = key("https://example.com");
        assert!(check_kind(&other, KeyKind::UserPurchaseId, "grant").is_ok());
        let service = raw_token(r#"{"alg":"RS256"}"#, r#"{"appid":"x","tid":"y","exp":1}"#);
        let e = check_kind(&service, KeyKind::UserCollectionsId, "entitlements").unwrap_err();
        assert!(e.to_string().contains("service token"), "{e}");
    }
}
