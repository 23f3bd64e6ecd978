//! Friendly names for the claims an agent meets, and one display form for
//! any claim value.

use serde_json::Value;

const KEY_CLAIMS: &str = "http://schemas.microsoft.com/marketplace/2015/08/claims/key/";
pub const CLAIM_CLIENT_ID: &str =
    "http://schemas.microsoft.com/marketplace/2015/08/claims/key/clientId";
pub const CLAIM_PAYLOAD: &str =
    "http://schemas.microsoft.com/marketplace/2015/08/claims/key/payload";
pub const CLAIM_USER_ID: &str =
    "http://schemas.microsoft.com/marketplace/2015/08/claims/key/userId";
pub const CLAIM_REFRESH_URI: &str =
    "http://schemas.microsoft.com/marketplace/2015/08/claims/key/refreshUri";

/// The name to show for a claim; unknown claims keep their raw name.
pub fn friendly_name(claim: &str) -> String {
    let known = match claim {
        CLAIM_CLIENT_ID => "Client ID",
        CLAIM_PAYLOAD => "Payload (opaque)",
        CLAIM_USER_ID => "User ID (publisherUserId)",
        CLAIM_REFRESH_URI => "Refresh URI",
        "iat" => "Issued at",
        "nbf" => "Not before",
        "exp" => "Expires",
        "iss" => "Issuer",
        "aud" => "Audience",
        "sub" => "Subject",
        "jti" => "Token ID",
        "appid" => "App ID (client)",
        "azp" => "Authorized party (client)",
        "appidacr" | "azpacr" => "Client auth method",
        "tid" => "Tenant ID",
        "oid" => "Object ID",
        "roles" => "Roles",
        "scp" => "Scopes",
        "idp" => "Identity provider",
        "ver" => "Token version",
        "upn" => "User principal name",
        "name" => "Name",
        "uti" => "Token identifier (uti)",
        "rh" => "Refresh handle (internal)",
        "xms_tcdt" => "Tenant created",
        _ => {
            // Other marketplace claims: the last path segment reads better
            // than the whole URI, and the URI is shown beside it anyway.
            return match claim.strip_prefix(KEY_CLAIMS) {
                Some(rest) if !rest.is_empty() => rest.to_string(),
                _ => claim.to_string(),
            };
        }
    };
    known.to_string()
}

/// A claim value as one line of text: strings bare, string arrays joined,
/// anything else as compact JSON.
pub fn display_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) if items.iter().all(Value::is_string) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn marketplace_claims_get_friendly_names() {
        assert_eq!(friendly_name(CLAIM_CLIENT_ID), "Client ID");
        assert_eq!(friendly_name(CLAIM_USER_ID), "User ID (publisherUserId)");
        assert_eq!(friendly_name(CLAIM_REFRESH_URI), "Refresh URI");
        assert!(friendly_name(CLAIM_PAYLOAD).starts_with("Payload"));
        assert_eq!(friendly_name(&format!("{KEY_CLAIMS}newThing")), "newThing");
        assert_eq!(friendly_name("custom"), "custom");
        assert_eq!(friendly_name(KEY_CLAIMS), KEY_CLAIMS);
    }

    #[test]
    fn values_display_on_one_line() {
        assert_eq!(display_value(&json!("abc")), "abc");
        assert_eq!(display_value(&json!(["a", "b"])), "a, b");
        assert_eq!(display_value(&json!([1, "b"])), "[1,\"b\"]");
        assert_eq!(display_value(&json!({"x": 1})), "{\"x\":1}");
        assert_eq!(display_value(&json!(12)), "12");
    }
}
