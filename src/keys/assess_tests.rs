//! Rules of `assess`, on keys minted here with a real RSA key.

use super::*;
use crate::keys::testkit::{
    microsoft_header, other_key, raw_token, sandbox_header, sandbox_key, sign, store_claims,
};
use crate::keys::{
    CLAIM_USER_ID, InputError, InspectError, PURCHASE_KEYS, decode, fingerprint, inspect,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

const IAT: i64 = 1_790_000_000;

fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap()
}

fn ctx(now: i64) -> AssessContext<'static> {
    AssessContext {
        now: at(now),
        profile_client_id: None,
        sandbox_public_key_pem: Some(&sandbox_key().public_pem),
    }
}

fn sandbox_token(claims: &Value) -> String {
    sign(&sandbox_header(), claims, sandbox_key())
}

fn assess_at(token: &str, now: i64) -> Assessment {
    assess(&decode(token).unwrap(), &ctx(now))
}

const DAY: i64 = 86_400;

#[test]
fn docs_example_key_is_flagged_inconsistent_never_valid() {
    let header = include_str!("../../tests/fixtures/keys/docs-example.header.json");
    let claims = include_str!("../../tests/fixtures/keys/docs-example.claims.json");
    let token = raw_token(header, claims);
    // Any "now": before, inside and after its claimed times.
    for now in [
        0,
        1_733_523_289,
        1_733_526_889,
        1_736_118_889,
        2_000_000_000,
    ] {
        let a = assess_at(&token, now);
        let Verdict::Inconsistent(why) = &a.verdict else {
            panic!("docs example judged {:?}", a.verdict)
        };
        assert!(
            why.contains(
                "expires (2024-12-06 22:14:49 UTC) before it was issued (2024-12-06 23:14:49 UTC)"
            ),
            "{why}"
        );
        assert!(
            why.contains("becomes valid (2025-01-05 23:14:49 UTC) after it expires"),
            "{why}"
        );
        assert!(!a.is_usable());
        assert_eq!(a.lifetime_used, None);
    }
    let a = assess_at(&token, 2_000_000_000);
    assert_eq!(a.kind, KeyKind::UserCollectionsId);
    assert_eq!(a.signature, SignatureStatus::NotVerifiableMicrosoft);
    assert_eq!(a.alg.as_deref(), Some("RS256"));
    assert_eq!(a.typ.as_deref(), Some("JWT"));
    assert_eq!(a.key_id.as_deref(), Some("agA_pgJ7Twx_Ex2_rEeQ2o5fZ5g"));
    assert_eq!(
        a.client_id.as_deref(),
        Some("1d5773695a3b44928227393bfef1e13d")
    );
    assert_eq!(
        a.user_id.as_deref(),
        Some("infusQMLaYCrgtC0d/SZWoPB4FqLEwHXgZFuMJ6TuTY=")
    );
    assert_eq!(
        a.refresh_uri.as_deref(),
        Some("https://collections.mp.microsoft.com/v6.0/b2b/keys/renew")
    );
    assert_eq!(a.renew_due, Some(at(1_733_526_889 + 14 * DAY)));
    let names: Vec<_> = a.claims.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Client ID",
            "Payload (opaque)",
            "User ID (publisherUserId)",
            "Refresh URI",
            "Issued at",
            "Issuer",
            "Audience",
            "Expires",
            "Not before"
        ]
    );
    assert_eq!(a.claims[4].uri, "iat");
    assert_eq!(a.claims[4].value, "1733526889 (2024-12-06 23:14:49 UTC)");
    assert!(a.verdict_detail.starts_with("inconsistent: "));
}

#[test]
fn fresh_sandbox_key_is_valid_and_verified() {
    let t = sandbox_token(&store_claims(IAT));
    let a = assess_at(&t, IAT + DAY);
    assert_eq!(a.verdict, Verdict::Valid);
    assert_eq!(a.signature, SignatureStatus::VerifiedSandbox);
    assert_eq!(a.key_id.as_deref(), Some("storedesk-sandbox"));
    assert_eq!(a.expires_at, Some(at(IAT + 30 * DAY)));
    assert_eq!(a.renew_due, Some(at(IAT + 14 * DAY)));
    let used = a.lifetime_used.unwrap();
    assert!((used - 1.0 / 30.0).abs() < 1e-9, "{used}");
    assert_eq!(
        a.verdict_detail,
        "valid: expires in 29 d, renewal due in 13 d"
    );
    assert!(a.warnings.is_empty(), "{:?}", a.warnings);
    assert!(a.is_usable());
    assert!(a.service_token.is_none());
}

#[test]
fn renewal_window_boundaries() {
    let t = sandbox_token(&store_claims(IAT));
    let due = IAT + 14 * DAY;
    assert_eq!(assess_at(&t, due - 2 * DAY - 1).verdict, Verdict::Valid);
    assert_eq!(assess_at(&t, due - 2 * DAY).verdict, Verdict::RenewSoon);
    assert_eq!(assess_at(&t, due - 1).verdict, Verdict::RenewSoon);
    assert_eq!(assess_at(&t, due).verdict, Verdict::RenewNow);
    let a = assess_at(&t, IAT + 30 * DAY - 1);
    assert_eq!(a.verdict, Verdict::RenewNow);
    assert!(a.verdict.is_usable());
    assert!(a.verdict_detail.contains("cannot be renewed after that"));
}

#[test]
fn expired_at_exp_and_says_a_new_key_is_needed() {
    let t = sandbox_token(&store_claims(IAT));
    let a = assess_at(&t, IAT + 30 * DAY);
    assert_eq!(a.verdict, Verdict::Expired);
    assert_eq!(a.verdict.label(), "expired");
    assert!(!a.is_usable());
    assert_eq!(a.lifetime_used, Some(1.0));
    let a = assess_at(&t, IAT + 32 * DAY + 3600);
    assert_eq!(
        a.verdict_detail,
        "expired 2 d 1 h ago: it cannot be renewed; the client app must mint a new key"
    );
}

#[test]
fn not_yet_valid_before_nbf() {
    let mut c = store_claims(IAT);
    c["nbf"] = json!(IAT + 3600);
    let a = assess_at(&sandbox_token(&c), IAT + 60);
    assert_eq!(a.verdict, Verdict::NotYetValid);
    assert_eq!(a.verdict_detail, "not yet valid: usable in 59 min");
    assert_eq!(
        assess_at(&sandbox_token(&c), IAT + 3600).verdict,
        Verdict::Valid
    );
}

#[test]
fn a_few_seconds_of_clock_skew_is_tolerated() {
    let c = store_claims(IAT);
    // Our clock 30 s behind the issuer's: usable, not "not yet valid".
    assert_eq!(
        assess_at(&sandbox_token(&c), IAT - 30).verdict,
        Verdict::Valid
    );
    assert_eq!(
        assess_at(&sandbox_token(&c), IAT - 600).verdict,
        Verdict::NotYetValid
    );
}

#[test]
fn tampered_sandbox_key_is_invalid() {
    let t = sandbox_token(&store_claims(IAT));
    let mut parts: Vec<String> = t.split('.').map(str::to_string).collect();
    let mut c = store_claims(IAT);
    c[CLAIM_USER_ID] = json!("someone-else");
    parts[1] = URL_SAFE_NO_PAD.encode(c.to_string());
    let forged = parts.join(".");
    let a = assess_at(&forged, IAT + DAY);
    assert!(
        matches!(a.signature, SignatureStatus::Invalid(_)),
        "{:?}",
        a.signature
    );
    assert!(a.signature.describe().starts_with("signature INVALID"));
    // The verdict never contradicts the evidence: a forged key is not VALID,
    // whatever its times say (they are kept apart, for the detail).
    assert!(
        matches!(&a.verdict, Verdict::SignatureInvalid(why) if why.contains("sandbox's public key")),
        "{:?}",
        a.verdict
    );
    assert_eq!(a.verdict.label(), "signature invalid");
    assert!(!a.verdict.is_usable());
    assert_eq!(
        a.time_verdict,
        Verdict::Valid,
        "times are judged separately"
    );
    assert!(
        a.verdict_detail.starts_with("signature invalid: ")
            && a.verdict_detail.contains("do not use it"),
        "{}",
        a.verdict_detail
    );
    assert!(!a.is_usable());
    // Signed by a different RSA key: same verdict.
    let other = sign(&sandbox_header(), &store_claims(IAT), other_key());
    assert!(matches!(
        assess_at(&other, IAT).signature,
        SignatureStatus::Invalid(_)
    ));
}

#[test]
fn padded_signature_still_verifies() {
    let t = sandbox_token(&store_claims(IAT));
    let (head, sig) = t.rsplit_once('.').unwrap();
    // 256 signature bytes encode to 342 chars + "==" padded.
    let padded = format!("{head}.{sig}==");
    assert_eq!(
        assess_at(&padded, IAT).signature,
        SignatureStatus::VerifiedSandbox
    );
}

#[test]
fn sandbox_key_without_public_key_is_not_checked() {
    let t = sandbox_token(&store_claims(IAT));
    let d = decode(&t).unwrap();
    let mut c = ctx(IAT);
    c.sandbox_public_key_pem = None;
    assert!(matches!(
        assess(&d, &c).signature,
        SignatureStatus::NotChecked(_)
    ));
    c.sandbox_public_key_pem = Some("-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n");
    let s = assess(&d, &c).signature;
    assert!(
        matches!(&s, SignatureStatus::NotChecked(w) if w.contains("unreadable")),
        "{s:?}"
    );
}

#[test]
fn sandbox_kid_with_another_alg_is_refused() {
    // HS256 "signed" with the public key text: the classic confusion attack.
    let mut h = jsonwebtoken::Header::new(Algorithm::HS256);
    h.kid = Some(SANDBOX_KID.to_string());
    let ek = jsonwebtoken::EncodingKey::from_secret(sandbox_key().public_pem.as_bytes());
    let t = jsonwebtoken::encode(&h, &store_claims(IAT), &ek).unwrap();
    let a = assess_at(&t, IAT);
    assert_eq!(
        a.signature,
        SignatureStatus::Invalid("sandbox keys are signed RS256, this one claims HS256".into())
    );
}

#[test]
fn microsoft_key_is_never_reported_verified() {
    // Even signed with the very key the sandbox PEM holds: without the
    // sandbox kid it is treated as Microsoft's and not claimed verified.
    let t = sign(&microsoft_header(), &store_claims(IAT), sandbox_key());
    let a = assess_at(&t, IAT + DAY);
    assert_eq!(a.signature, SignatureStatus::NotVerifiableMicrosoft);
    assert!(
        a.signature
            .describe()
            .contains("Microsoft publishes no key")
    );
    assert_eq!(a.verdict, Verdict::Valid);
}

#[test]
fn alg_none_is_flagged_loudly() {
    let t = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(store_claims(IAT).to_string())
    );
    let a = assess_at(&t, IAT);
    assert_eq!(a.signature, SignatureStatus::AlgNone);
    assert!(a.warnings.iter().any(|w| w.starts_with("UNSIGNED TOKEN")));
    assert!(!a.is_usable());
    assert_eq!(a.verdict, Verdict::Unsigned);
    assert_eq!(a.verdict.label(), "unsigned");
    assert!(!a.verdict.is_usable());
    assert_eq!(a.time_verdict, Verdict::Valid);
    // An RS256 header with no signature bytes is not "unsigned but fine".
    let t = format!(
        "{}.",
        t.trim_end_matches('.').replacen(
            &URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
            &URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256"}"#),
            1,
        )
    );
    assert!(matches!(
        assess_at(&t, IAT).signature,
        SignatureStatus::Invalid(_)
    ));
}

#[test]
fn purchase_key_kind() {
    let mut c = store_claims(IAT);
    c["iss"] = json!(PURCHASE_KEYS);
    c["aud"] = json!(PURCHASE_KEYS);
    let a = assess_at(&sandbox_token(&c), IAT);
    assert_eq!(a.kind, KeyKind::UserPurchaseId);
    assert!(a.warnings.is_empty(), "{:?}", a.warnings);
    c["aud"] = json!(COLLECTIONS_KEYS);
    let a = assess_at(&sandbox_token(&c), IAT);
    assert!(a.warnings.iter().any(|w| w.contains("iss and aud differ")));
}

#[test]
fn entra_service_token_shows_app_tenant_roles_and_warns() {
    let claims = json!({
        "aud": "https://onestore.microsoft.com",
        "iss": "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/",
        "iat": IAT, "nbf": IAT, "exp": IAT + 3600,
        "appid": "1D577369-5A3B-4492-8227-393BFEF1E13D",
        "tid": "72f988bf-86f1-41af-91ab-2d7cd011db47",
        "roles": ["Collections.Read", "Purchase.Write"],
        "ver": "1.0"
    });
    let t = sign(&microsoft_header(), &claims, other_key());
    let d = decode(&t).unwrap();
    let mut c = ctx(IAT + 600);
    c.profile_client_id = Some("1d5773695a3b44928227393bfef1e13d");
    let a = assess(&d, &c);
    assert_eq!(a.kind, KeyKind::EntraServiceToken);
    let st = a.service_token.clone().unwrap();
    assert_eq!(
        st.audience.as_deref(),
        Some("https://onestore.microsoft.com")
    );
    assert_eq!(
        st.tenant_id.as_deref(),
        Some("72f988bf-86f1-41af-91ab-2d7cd011db47")
    );
    assert_eq!(st.roles, ["Collections.Read", "Purchase.Write"]);
    assert_eq!(
        a.client_id_matches,
        Some(true),
        "dashes and case do not matter"
    );
    assert!(
        a.warnings
            .iter()
            .any(|w| w.contains("never paste it into tickets"))
    );
    assert_eq!(a.verdict, Verdict::Valid);
    assert_eq!(a.renew_due, None, "service tokens have no 14-day renewal");
    assert_eq!(a.verdict_detail, "valid: expires in 50 min");
    let a = assess(&d, &ctx(IAT + 3600));
    assert_eq!(a.verdict_detail, "expired now: request a new token");
}

#[test]
fn other_jwt_with_scopes() {
    let claims =
        json!({"iss": "https://example.test", "aud": ["a", "b"], "exp": IAT, "scp": "read write"});
    let t = raw_token(r#"{"alg":"ES256"}"#, &claims.to_string());
    let a = assess_at(&t, IAT - 10);
    assert_eq!(a.kind, KeyKind::OtherJwt);
    assert_eq!(a.audience.as_deref(), Some("a, b"));
    assert_eq!(a.service_token.unwrap().scopes, ["read", "write"]);
    assert!(matches!(a.signature, SignatureStatus::NotChecked(_)));
    assert_eq!(a.verdict, Verdict::Valid);
}

#[test]
fn client_id_mismatch_is_warned() {
    let t = sandbox_token(&store_claims(IAT));
    let d = decode(&t).unwrap();
    let mut c = ctx(IAT);
    c.profile_client_id = Some("00000000-0000-0000-0000-000000000001");
    let a = assess(&d, &c);
    assert_eq!(a.client_id_matches, Some(false));
    assert!(
        a.warnings
            .iter()
            .any(|w| w.contains("InconsistentClientId"))
    );
    c.profile_client_id = Some("  ");
    assert_eq!(
        assess(&d, &c).client_id_matches,
        None,
        "blank profile id is no id"
    );
}

fn verdict_for_payload(payload: &str) -> Verdict {
    assess_at(&raw_token(r#"{"alg":"RS256"}"#, payload), IAT).verdict
}

#[test]
fn missing_exp_is_undetermined() {
    let v = verdict_for_payload(&format!(r#"{{"iat":{IAT}}}"#));
    assert_eq!(
        v,
        Verdict::Undetermined("it has no exp claim, so its expiry is unknown".into())
    );
    assert!(!v.is_usable());
}

#[test]
fn unreadable_exp_is_undetermined_with_a_reason() {
    let cases = [
        (
            "1790000000.5",
            "exp is a fraction (1790000000.5); keys carry whole epoch seconds",
        ),
        (
            "1.79e9",
            "exp is a fraction (1790000000.0); keys carry whole epoch seconds",
        ),
        ("-5", "exp is negative (-5), before 1970"),
        ("253402300800", "exp (253402300800) is after the year 9999"),
        (
            "18446744073709551615",
            "exp (18446744073709551615) is after the year 9999",
        ),
        ("\"1790000000\"", "exp is not a number of epoch seconds"),
        ("null", "exp is not a number of epoch seconds"),
    ];
    for (exp, why) in cases {
        let v = verdict_for_payload(&format!(r#"{{"iat":{IAT},"exp":{exp}}}"#));
        assert_eq!(v, Verdict::Undetermined(why.into()), "exp = {exp}");
    }
    // The largest allowed instant is fine.
    let v = verdict_for_payload(r#"{"exp":253402300799}"#);
    assert_eq!(v, Verdict::Valid);
}

#[test]
fn duplicate_claims_make_the_key_inconsistent() {
    let payload = format!(
        r#"{{"iat":{IAT},"exp":{},"exp":{}}}"#,
        IAT + 1,
        IAT + 30 * DAY
    );
    let a = assess_at(&raw_token(r#"{"alg":"RS256"}"#, &payload), IAT + 10);
    assert!(
        matches!(&a.verdict, Verdict::Inconsistent(w) if w.contains("\"exp\" appears more than once"))
    );
    assert!(
        a.warnings
            .iter()
            .any(|w| w.contains("\"exp\" appears more than once"))
    );
    let exps: Vec<_> = a.claims.iter().filter(|c| c.uri == "exp").collect();
    assert_eq!(exps.len(), 2, "both occurrences are shown");
    assert_eq!(a.payload_json().matches("\"exp\"").count(), 2);
}

#[test]
fn raw_json_keeps_payload_order() {
    let a = assess_at(
        &raw_token(r#"{"alg":"RS256"}"#, r#"{"z":1,"a":{"b":[1,2]},"exp":5}"#),
        0,
    );
    assert_eq!(
        a.payload_json(),
        "{\n  \"z\": 1,\n  \"a\": {\n    \"b\": [\n      1,\n      2\n    ]\n  },\n  \"exp\": 5\n}"
    );
    let v: Value = serde_json::from_str(&a.payload_json()).unwrap();
    assert_eq!(v["a"]["b"][1], 2);
    assert!(a.header_json().contains("\"alg\": \"RS256\""));
}

#[test]
fn fingerprint_is_short_stable_hex() {
    let f = fingerprint("abc");
    // SHA-256("abc") = ba7816bf...
    assert_eq!(f, "ba7816bf");
    let t = sandbox_token(&store_claims(IAT));
    assert_eq!(assess_at(&t, IAT).fingerprint, fingerprint(&t));
    assert_ne!(fingerprint(&t), fingerprint(&format!("{t}x")));
}

#[test]
fn inspect_cleans_decodes_and_assesses() {
    let t = sandbox_token(&store_claims(IAT));
    let (c, a) = inspect(&format!("  Bearer {t}\n"), &ctx(IAT)).unwrap();
    assert_eq!(c.token, t);
    assert_eq!(c.notes, ["removed the Bearer prefix"]);
    assert_eq!(a.signature, SignatureStatus::VerifiedSandbox);
    assert_eq!(
        inspect("", &ctx(IAT)).unwrap_err(),
        InspectError::Input(InputError::Empty)
    );
    assert!(matches!(
        inspect("eyJ.eyJ", &ctx(IAT)),
        Err(InspectError::Decode(_))
    ));
}

#[test]
fn utc_reads_like_the_strftime_form() {
    for secs in [
        -62_167_219_200, // year 0
        -1,
        0,
        1_790_000_000,
        4_102_444_799,
        253_402_300_799, // 9999-12-31 23:59:59
        253_402_300_800, // year 10000: the strftime form
    ] {
        let t = chrono::DateTime::from_timestamp(secs, 0).unwrap();
        assert_eq!(super::utc(t), t.format("%Y-%m-%d %H:%M:%S UTC").to_string());
    }
}
