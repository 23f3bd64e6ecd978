//! What a decoded key means for an agent: which kind it is, whose, when it
//! dies, whether to renew it, and what can be said about its signature.

use super::claims::{self, CLAIM_CLIENT_ID, CLAIM_REFRESH_URI, CLAIM_USER_ID};
use super::decode::Decoded;
use super::human::relative;
use super::{COLLECTIONS_KEYS, PURCHASE_KEYS, SANDBOX_KID, fingerprint};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::{Map, Value};

/// The official library renews a User Store ID this long after issue.
pub const RENEW_AFTER: Duration = Duration::days(14);
/// Tolerated difference between our clock and the issuer's.
pub const CLOCK_SKEW: Duration = Duration::minutes(5);
/// "Renew soon" starts this long before renewal is due.
pub const RENEW_SOON_WINDOW: Duration = Duration::days(2);
/// 9999-12-31T23:59:59Z: the Store's own "forever"; anything later is junk.
const MAX_EPOCH: i64 = 253_402_300_799;

/// What `assess` needs from outside; it never reads a clock or a file.
#[derive(Debug, Clone, Copy)]
pub struct AssessContext<'a> {
    pub now: DateTime<Utc>,
    /// The profile's Entra app id, to compare with the key's clientId.
    pub profile_client_id: Option<&'a str>,
    /// PEM of the sandbox's RSA public key, for keys with kid `storedesk-sandbox`.
    pub sandbox_public_key_pem: Option<&'a str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    UserCollectionsId,
    UserPurchaseId,
    EntraServiceToken,
    OtherJwt,
}

impl KeyKind {
    /// The identifier used in JSON output and by the other panes.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::UserCollectionsId => "UserCollectionsId",
            KeyKind::UserPurchaseId => "UserPurchaseId",
            KeyKind::EntraServiceToken => "EntraServiceToken",
            KeyKind::OtherJwt => "OtherJwt",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            KeyKind::UserCollectionsId => "User Store ID for collections (UserCollectionsId)",
            KeyKind::UserPurchaseId => "User Store ID for purchase (UserPurchaseId)",
            KeyKind::EntraServiceToken => "Entra ID service token",
            KeyKind::OtherJwt => "other JWT",
        }
    }

    pub fn is_user_store_id(self) -> bool {
        matches!(self, KeyKind::UserCollectionsId | KeyKind::UserPurchaseId)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Valid,
    /// Renewal is due within [`RENEW_SOON_WINDOW`].
    RenewSoon,
    /// Renewal was due (iat + 14 d) and the key has not expired yet.
    RenewNow,
    /// now ≥ exp. A User Store ID cannot be renewed any more.
    Expired,
    /// now < nbf.
    NotYetValid,
    /// The claims contradict each other (exp < iat, nbf > exp, duplicates).
    Inconsistent(String),
    /// A time claim is missing or unreadable, so validity cannot be told.
    Undetermined(String),
    /// The signature is known bad: whatever the times say, it is not a key
    /// to trust (the time-wise verdict is kept in `Assessment::time_verdict`).
    SignatureInvalid(String),
    /// `alg: none`: no signature at all, so anyone could have written it.
    Unsigned,
}

impl Verdict {
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Valid => "valid",
            Verdict::RenewSoon => "renew soon",
            Verdict::RenewNow => "renew now",
            Verdict::Expired => "expired",
            Verdict::NotYetValid => "not yet valid",
            Verdict::Inconsistent(_) => "inconsistent",
            Verdict::Undetermined(_) => "undetermined",
            Verdict::SignatureInvalid(_) => "signature invalid",
            Verdict::Unsigned => "unsigned",
        }
    }

    /// Whether Store calls made with the key can succeed (time-wise).
    pub fn is_usable(&self) -> bool {
        matches!(
            self,
            Verdict::Valid | Verdict::RenewSoon | Verdict::RenewNow
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureStatus {
    /// Signed by the embedded sandbox, checked with its public key.
    VerifiedSandbox,
    /// RS256 from Microsoft: there is no published key to check it with.
    NotVerifiableMicrosoft,
    Invalid(String),
    /// `alg: none`: no signature at all.
    AlgNone,
    NotChecked(String),
}

impl SignatureStatus {
    pub fn describe(&self) -> String {
        match self {
            SignatureStatus::VerifiedSandbox => "verified (sandbox)".to_string(),
            SignatureStatus::NotVerifiableMicrosoft => {
                "not verifiable offline: Microsoft publishes no key for it (decoded only)"
                    .to_string()
            }
            SignatureStatus::Invalid(why) => format!("signature INVALID: {why}"),
            SignatureStatus::AlgNone => {
                "UNSIGNED (alg: none): anyone can write such a token; do not trust it".to_string()
            }
            SignatureStatus::NotChecked(why) => format!("not checked: {why}"),
        }
    }

    /// False when the signature is known bad or absent.
    pub fn is_acceptable(&self) -> bool {
        !matches!(self, SignatureStatus::Invalid(_) | SignatureStatus::AlgNone)
    }
}

/// One claim as shown: friendly name, raw claim name, value on one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimRow {
    pub name: String,
    pub uri: String,
    pub value: String,
}

/// What a developer eyeballing a service token (or any other JWT) needs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServiceTokenInfo {
    pub audience: Option<String>,
    /// `appid` (v1 tokens) or `azp` (v2).
    pub app_id: Option<String>,
    pub tenant_id: Option<String>,
    pub roles: Vec<String>,
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    pub kind: KeyKind,
    pub alg: Option<String>,
    pub typ: Option<String>,
    /// `kid`, or else `x5t`.
    pub key_id: Option<String>,
    /// Every claim in payload order (duplicates included).
    pub claims: Vec<ClaimRow>,
    pub user_id: Option<String>,
    pub client_id: Option<String>,
    /// None when either side is unknown.
    pub client_id_matches: Option<bool>,
    pub refresh_uri: Option<String>,
    pub issuer: Option<String>,
    pub audience: Option<String>,
    pub issued_at: Option<DateTime<Utc>>,
    pub not_before: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    /// iat + 14 days, for User Store IDs.
    pub renew_due: Option<DateTime<Utc>>,
    /// 0.0..=1.0 of (iat or nbf)..exp elapsed; None when times are missing
    /// or inconsistent.
    pub lifetime_used: Option<f64>,
    /// The one verdict shown: the signature's when it is known bad
    /// (invalid or absent), else the times'.
    pub verdict: Verdict,
    /// What the times alone say (never a signature variant).
    pub time_verdict: Verdict,
    /// The verdict as one sentence with its times and consequence, e.g.
    /// "expired 2 d 1 h ago: it cannot be renewed; the client app must mint a new key".
    pub verdict_detail: String,
    pub signature: SignatureStatus,
    /// For Entra service tokens and other JWTs.
    pub service_token: Option<ServiceTokenInfo>,
    pub warnings: Vec<String>,
    pub fingerprint: String,
    /// The decoded header, as parsed.
    pub header: Value,
    /// Every claim in payload order, duplicates included.
    pub payload_fields: Vec<(String, Value)>,
}

impl Assessment {
    /// Pretty JSON of the header, for the raw view.
    pub fn header_json(&self) -> String {
        serde_json::to_string_pretty(&self.header).unwrap_or_default()
    }

    /// Pretty JSON of the payload in its own order, duplicates included,
    /// so the raw view shows what was really sent. Made when asked (the
    /// console's raw view), not for every key `inspect -` streams.
    pub fn payload_json(&self) -> String {
        pretty_fields(&self.payload_fields)
    }

    /// Usable now: time-wise valid and not known to be forged.
    pub fn is_usable(&self) -> bool {
        self.verdict.is_usable() && self.signature.is_acceptable()
    }
}

pub fn assess(d: &Decoded, ctx: &AssessContext) -> Assessment {
    let p = &d.payload;
    let kind = kind_of(p);
    let mut warnings = Vec::new();

    let issued = time_claim(p, "iat");
    let not_before = time_claim(p, "nbf");
    let expires = time_claim(p, "exp");
    let (iat, nbf, exp) = (issued.time(), not_before.time(), expires.time());

    let client_id = match kind {
        KeyKind::UserCollectionsId | KeyKind::UserPurchaseId => str_claim(p, CLAIM_CLIENT_ID),
        _ => str_claim(p, "appid").or_else(|| str_claim(p, "azp")),
    };
    let profile_client_id = ctx.profile_client_id.filter(|c| !c.trim().is_empty());
    let client_id_matches = match (&client_id, profile_client_id) {
        (Some(k), Some(p)) => Some(same_app_id(k, p)),
        _ => None,
    };
    if client_id_matches == Some(false) {
        warnings.push(format!(
            "client ID {} is not the profile's ({}): Store calls with this key fail with 401 InconsistentClientId",
            client_id.as_deref().unwrap_or_default(),
            profile_client_id.unwrap_or_default()
        ));
    }

    let renew_due = if kind.is_user_store_id() {
        iat.and_then(|t| t.checked_add_signed(RENEW_AFTER))
    } else {
        None
    };

    let time_verdict = verdict(d, ctx.now, [&issued, &not_before, &expires], renew_due);
    let start = iat.or(nbf);
    let lifetime_used = match (start, exp, &time_verdict) {
        (_, _, Verdict::Inconsistent(_) | Verdict::Undetermined(_)) => None,
        (Some(s), Some(e), _) if e > s => {
            let total = (e - s).num_seconds() as f64;
            Some(((ctx.now - s).num_seconds() as f64 / total).clamp(0.0, 1.0))
        }
        _ => None,
    };

    let signature = check_signature(d, ctx);
    if signature == SignatureStatus::AlgNone {
        warnings.push(
            "UNSIGNED TOKEN (alg: none): anyone can forge it; no Store accepts it".to_string(),
        );
    }
    if kind == KeyKind::EntraServiceToken {
        warnings.push(
            "this is a service token: whoever holds it acts as your service; never paste it into tickets or chats"
                .to_string(),
        );
    }
    for dup in &d.duplicate_claims {
        warnings.push(format!(
            "claim {dup:?} appears more than once; services may read either value"
        ));
    }
    for dup in &d.duplicate_header_fields {
        warnings.push(format!("header field {dup:?} appears more than once"));
    }
    if kind.is_user_store_id() {
        for (claim, what) in [
            (CLAIM_CLIENT_ID, "clientId"),
            (CLAIM_REFRESH_URI, "refreshUri"),
        ] {
            if str_claim(p, claim).is_none() {
                warnings.push(format!(
                    "the {what} claim is missing; Microsoft's keys always carry it"
                ));
            }
        }
        let (iss, aud) = (str_claim(p, "iss"), audience(p));
        if iss.is_some() && aud.is_some() && iss != aud {
            warnings.push("iss and aud differ; in a User Store ID they are the same".to_string());
        }
    }
    if let Some(t) = iat
        && t > ctx.now + Duration::minutes(5)
    {
        warnings.push(format!(
            "issued in the future ({}): clock skew?",
            relative(t, ctx.now)
        ));
    }

    let service_token = (!kind.is_user_store_id()).then(|| ServiceTokenInfo {
        audience: audience(p),
        app_id: str_claim(p, "appid").or_else(|| str_claim(p, "azp")),
        tenant_id: str_claim(p, "tid"),
        roles: string_list(p.get("roles")),
        scopes: p
            .get("scp")
            .and_then(Value::as_str)
            .map(|s| s.split_whitespace().map(str::to_string).collect())
            .unwrap_or_else(|| string_list(p.get("scp"))),
    });

    let claims = d
        .claims_in_order
        .iter()
        .map(|(k, v)| ClaimRow {
            name: claims::friendly_name(k),
            uri: k.clone(),
            value: claim_value(k, v),
        })
        .collect();

    let times_detail = detail(&time_verdict, kind, ctx.now, exp, nbf, renew_due);
    // The verdict never contradicts the evidence: a key with a bad or no
    // signature is not "valid", whatever its times say.
    let (verdict, verdict_detail) = match &signature {
        SignatureStatus::Invalid(why) => (
            Verdict::SignatureInvalid(why.clone()),
            format!("signature invalid: {why}; do not use it (times alone: {times_detail})"),
        ),
        SignatureStatus::AlgNone => (
            Verdict::Unsigned,
            format!(
                "unsigned: alg is none, so anyone could have written it; do not use it (times alone: {times_detail})"
            ),
        ),
        _ => (time_verdict.clone(), times_detail),
    };
    Assessment {
        kind,
        alg: d.header_str("alg").map(str::to_string),
        typ: d.header_str("typ").map(str::to_string),
        key_id: d
            .header_str("kid")
            .or_else(|| d.header_str("x5t"))
            .map(str::to_string),
        claims,
        user_id: str_claim(p, CLAIM_USER_ID),
        client_id,
        client_id_matches,
        refresh_uri: str_claim(p, CLAIM_REFRESH_URI),
        issuer: str_claim(p, "iss"),
        audience: audience(p),
        issued_at: iat,
        not_before: nbf,
        expires_at: exp,
        renew_due,
        lifetime_used,
        verdict,
        time_verdict,
        verdict_detail,
        signature,
        service_token,
        warnings,
        fingerprint: fingerprint(&d.token),
        header: d.header.clone(),
        payload_fields: d.claims_in_order.clone(),
    }
}

pub(super) fn kind_of(p: &Map<String, Value>) -> KeyKind {
    let iss = p.get("iss").and_then(Value::as_str).unwrap_or_default();
    let auds = string_list(p.get("aud"));
    let is = |url: &str| iss == url || auds.iter().any(|a| a == url);
    if is(COLLECTIONS_KEYS) {
        KeyKind::UserCollectionsId
    } else if is(PURCHASE_KEYS) {
        KeyKind::UserPurchaseId
    } else if iss.contains("sts.windows.net")
        || iss.contains("login.microsoftonline.com")
        // The audiences of a publisher's service tokens (STORE-API §1).
        || auds.iter().any(|a| a.starts_with("https://onestore.microsoft.com"))
        || p.contains_key("appid")
        || p.contains_key("tid")
    {
        KeyKind::EntraServiceToken
    } else {
        KeyKind::OtherJwt
    }
}

/// A time claim as found: absent, readable, or present but unusable.
enum TimeClaim {
    Missing,
    At(DateTime<Utc>),
    Bad(String),
}

impl TimeClaim {
    fn time(&self) -> Option<DateTime<Utc>> {
        match self {
            TimeClaim::At(t) => Some(*t),
            _ => None,
        }
    }
}

fn time_claim(p: &Map<String, Value>, name: &str) -> TimeClaim {
    let Some(v) = p.get(name) else {
        return TimeClaim::Missing;
    };
    let Value::Number(n) = v else {
        return TimeClaim::Bad(format!("{name} is not a number of epoch seconds"));
    };
    match n.as_i64() {
        Some(s) if s < 0 => TimeClaim::Bad(format!("{name} is negative ({s}), before 1970")),
        Some(s) if s > MAX_EPOCH => TimeClaim::Bad(format!("{name} ({s}) is after the year 9999")),
        Some(s) => match DateTime::from_timestamp(s, 0) {
            Some(t) => TimeClaim::At(t),
            None => TimeClaim::Bad(format!("{name} ({s}) is out of range")),
        },
        None if n.is_u64() => TimeClaim::Bad(format!("{name} ({n}) is after the year 9999")),
        None => TimeClaim::Bad(format!(
            "{name} is a fraction ({n}); keys carry whole epoch seconds"
        )),
    }
}

fn verdict(
    d: &Decoded,
    now: DateTime<Utc>,
    [iat, nbf, exp]: [&TimeClaim; 3],
    renew_due: Option<DateTime<Utc>>,
) -> Verdict {
    for c in [exp, nbf, iat] {
        if let TimeClaim::Bad(why) = c {
            return Verdict::Undetermined(why.clone());
        }
    }
    if let Some(dup) = d.duplicate_claims.first() {
        return Verdict::Inconsistent(format!(
            "claim {dup:?} appears more than once, so its meaning depends on who reads it"
        ));
    }
    let Some(exp) = exp.time() else {
        return Verdict::Undetermined("it has no exp claim, so its expiry is unknown".to_string());
    };
    let mut contradictions = Vec::new();
    if let Some(iat) = iat.time()
        && exp < iat
    {
        contradictions.push(format!(
            "it expires ({}) before it was issued ({})",
            utc(exp),
            utc(iat)
        ));
    }
    if let Some(nbf) = nbf.time()
        && nbf > exp
    {
        contradictions.push(format!(
            "it becomes valid ({}) after it expires ({})",
            utc(nbf),
            utc(exp)
        ));
    }
    if !contradictions.is_empty() {
        return Verdict::Inconsistent(contradictions.join("; "));
    }
    if now >= exp {
        return Verdict::Expired;
    }
    // Clocks differ between the Store, the device and this machine; a key
    // minted a moment "in the future" is not a problem worth a red verdict.
    if let Some(nbf) = nbf.time()
        && now + CLOCK_SKEW < nbf
    {
        return Verdict::NotYetValid;
    }
    match renew_due {
        Some(due) if now >= due => Verdict::RenewNow,
        Some(due) if now >= due - RENEW_SOON_WINDOW => Verdict::RenewSoon,
        _ => Verdict::Valid,
    }
}

fn detail(
    v: &Verdict,
    kind: KeyKind,
    now: DateTime<Utc>,
    exp: Option<DateTime<Utc>>,
    nbf: Option<DateTime<Utc>>,
    renew_due: Option<DateTime<Utc>>,
) -> String {
    let rel = |t: Option<DateTime<Utc>>| t.map(|t| relative(t, now)).unwrap_or_default();
    match v {
        Verdict::Valid if renew_due.is_some() => {
            format!(
                "valid: expires {}, renewal due {}",
                rel(exp),
                rel(renew_due)
            )
        }
        Verdict::Valid => format!("valid: expires {}", rel(exp)),
        Verdict::RenewSoon => format!(
            "renew soon: renewal is due {} (14 days after issue); expires {}",
            rel(renew_due),
            rel(exp)
        ),
        Verdict::RenewNow => format!(
            "renew now: renewal was due {}; it expires {} and cannot be renewed after that",
            rel(renew_due),
            rel(exp)
        ),
        Verdict::Expired => match kind {
            KeyKind::UserCollectionsId | KeyKind::UserPurchaseId => format!(
                "expired {}: it cannot be renewed; the client app must mint a new key",
                rel(exp)
            ),
            KeyKind::EntraServiceToken => format!("expired {}: request a new token", rel(exp)),
            KeyKind::OtherJwt => format!("expired {}", rel(exp)),
        },
        Verdict::NotYetValid => format!("not yet valid: usable {}", rel(nbf)),
        Verdict::Inconsistent(why) => format!("inconsistent: {why}; treat it as unusable"),
        Verdict::Undetermined(why) => format!("cannot tell whether it is valid: {why}"),
        // Never produced by the time rules; `assess` sets them from the signature.
        Verdict::SignatureInvalid(why) => format!("signature invalid: {why}"),
        Verdict::Unsigned => "unsigned".to_string(),
    }
}

fn check_signature(d: &Decoded, ctx: &AssessContext) -> SignatureStatus {
    let Some(alg) = d.header_str("alg") else {
        return SignatureStatus::Invalid("the header names no algorithm (alg)".to_string());
    };
    if alg.eq_ignore_ascii_case("none") {
        return SignatureStatus::AlgNone;
    }
    if d.signature.is_empty() {
        return SignatureStatus::Invalid(format!(
            "the signature part is empty although alg is {alg}"
        ));
    }
    if d.header_str("kid") == Some(SANDBOX_KID) {
        // Refuse anything but RS256 here: accepting the header's word for
        // the algorithm is the classic JWT forgery (HS256 with the public key).
        if alg != "RS256" {
            return SignatureStatus::Invalid(format!(
                "sandbox keys are signed RS256, this one claims {alg}"
            ));
        }
        let Some(pem) = ctx.sandbox_public_key_pem else {
            return SignatureStatus::NotChecked(
                "no sandbox public key to check it with (the sandbox writes sandbox/signing_key.pub.pem in the data dir when it first starts)"
                    .to_string(),
            );
        };
        let key = match DecodingKey::from_rsa_pem(pem.as_bytes()) {
            Ok(k) => k,
            Err(e) => {
                return SignatureStatus::NotChecked(format!(
                    "the sandbox public key is unreadable ({e})"
                ));
            }
        };
        // Re-encode: jsonwebtoken wants unpadded base64url, decode() is lenient.
        let sig = URL_SAFE_NO_PAD.encode(&d.signature);
        return match jsonwebtoken::crypto::verify(
            &sig,
            d.signing_input().as_bytes(),
            &key,
            Algorithm::RS256,
        ) {
            Ok(true) => SignatureStatus::VerifiedSandbox,
            Ok(false) => SignatureStatus::Invalid(
                "it does not match the sandbox's public key (altered, or signed by another sandbox)"
                    .to_string(),
            ),
            Err(e) => SignatureStatus::Invalid(format!("it cannot be checked ({e})")),
        };
    }
    if alg == "RS256" {
        SignatureStatus::NotVerifiableMicrosoft
    } else {
        SignatureStatus::NotChecked(format!(
            "{alg}: storedesk only checks sandbox keys (RS256, kid {SANDBOX_KID})"
        ))
    }
}

/// App ids appear as GUIDs with dashes (Entra) and as 32 bare hex digits
/// (the clientId claim of a key); both name the same app.
fn same_app_id(a: &str, b: &str) -> bool {
    let norm = |s: &str| -> String {
        s.chars()
            .filter(|c| !matches!(c, '-' | '{' | '}') && !c.is_whitespace())
            .flat_map(char::to_lowercase)
            .collect()
    };
    norm(a) == norm(b)
}

fn str_claim(p: &Map<String, Value>, name: &str) -> Option<String> {
    p.get(name).and_then(Value::as_str).map(str::to_string)
}

/// `aud` may be a string or an array of strings.
fn audience(p: &Map<String, Value>) -> Option<String> {
    let auds = string_list(p.get("aud"));
    (!auds.is_empty()).then(|| auds.join(", "))
}

fn string_list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// `2026-11-29 18:30:00 UTC`. Written digit by digit: `inspect -`
/// formats several per key, and a strftime pattern (or the `format!`
/// machinery) costs more than the rest of a claim's handling.
fn utc(t: DateTime<Utc>) -> String {
    use chrono::{Datelike, Timelike};
    let Ok(year) = u32::try_from(t.year()) else {
        return t.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    };
    if year > 9999 {
        return t.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    }
    fn digits(s: &mut String, n: u32, width: u32) {
        for p in (0..width).rev() {
            s.push(char::from(b'0' + (n / 10u32.pow(p) % 10) as u8));
        }
    }
    let mut s = String::with_capacity(23);
    digits(&mut s, year, 4);
    for (sep, n) in [
        ('-', t.month()),
        ('-', t.day()),
        (' ', t.hour()),
        (':', t.minute()),
        (':', t.second()),
    ] {
        s.push(sep);
        digits(&mut s, n, 2);
    }
    s.push_str(" UTC");
    s
}

fn claim_value(name: &str, v: &Value) -> String {
    let shown = claims::display_value(v);
    if matches!(name, "iat" | "nbf" | "exp" | "auth_time")
        && let Some(s) = v.as_i64()
        && (0..=MAX_EPOCH).contains(&s)
        && let Some(t) = DateTime::from_timestamp(s, 0)
    {
        return format!("{shown} ({})", utc(t));
    }
    shown
}

/// Pretty JSON of the payload in its own order, duplicates included, so
/// the raw view shows what was really sent.
fn pretty_fields(fields: &[(String, Value)]) -> String {
    if fields.is_empty() {
        return "{}".to_string();
    }
    let mut out = String::from("{\n");
    for (i, (k, v)) in fields.iter().enumerate() {
        let key = serde_json::to_string(k).unwrap_or_default();
        let val = serde_json::to_string_pretty(v)
            .unwrap_or_default()
            .replace('\n', "\n  ");
        out.push_str("  ");
        out.push_str(&key);
        out.push_str(": ");
        out.push_str(&val);
        if i + 1 < fields.len() {
            out.push(',');
        }
        out.push('\n');
    }
    out.push('}');
    out
}

#[cfg(test)]
#[path = "assess_tests.rs"]
mod tests;
