//! Wire model of the Microsoft Store services (STORE-API.md §1–9), shared by
//! the client and the embedded sandbox so both sides agree on every field.
//!
//! Tolerant reader, strict writer:
//! - reading accepts both documented spellings (`recurrenceId` /
//!   `recurrenceData`, `key` / `Key`, `identityType` / `identitytype`, a
//!   recurrence change answered bare or wrapped in `{items:[..]}`), explicit
//!   `null`s, dates with 7 fractional digits or minute precision, both
//!   TimeSpan layouts, and unknown enum values (kept as `Other(String)`);
//! - writing emits the documented spelling and 7-digit UTC dates.
//!
//! Response types ignore unknown fields (the service adds fields over time);
//! request types reject them, because the sandbox must answer such a body
//! with the documented 400.

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;
use std::fmt;

// ---------------------------------------------------------------------------
// String enums that keep unknown values
// ---------------------------------------------------------------------------

/// Declares a wire enum whose unknown values survive as `Other(text)`, so one
/// new value from the service never fails a whole page. Matching is
/// case-insensitive; writing uses the documented spelling (or the original
/// text for `Other`).
macro_rules! wire_enum {
    ($(#[$m:meta])* $name:ident { $($var:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($var,)+
            /// A value this build does not know, kept verbatim.
            Other(String),
        }

        impl $name {
            /// Every documented value, in documentation order.
            pub const KNOWN: &'static [&'static str] = &[$($s),+];

            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$var => $s,)+
                    Self::Other(s) => s,
                }
            }

            pub fn parse(s: &str) -> Self {
                $(if s.eq_ignore_ascii_case($s) { return Self::$var; })+
                Self::Other(s.to_owned())
            }

            pub fn is_known(&self) -> bool {
                !matches!(self, Self::Other(_))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    Self::Other(s) => write!(f, "other: {s}"),
                    known => f.write_str(known.as_str()),
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok(Self::parse(s))
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_str(StrVisitor(Self::parse))
            }
        }
    };
}

/// Visitor for any type built from a string.
struct StrVisitor<F>(F);

impl<T, F: FnOnce(&str) -> T> Visitor<'_> for StrVisitor<F> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        Ok((self.0)(v))
    }
}

wire_enum!(
    /// `productKind` (§3).
    ProductKind {
        Game = "Game",
        Application = "Application",
        Durable = "Durable",
        Consumable = "Consumable",
        UnmanagedConsumable = "UnmanagedConsumable",
        Pass = "Pass",
    }
);

wire_enum!(
    /// Entitlement `status` (§3).
    EntitlementStatus {
        Active = "Active",
        Revoked = "Revoked",
        Expired = "Expired",
        Banned = "Banned",
        Suspended = "Suspended",
    }
);

wire_enum!(
    /// `acquisitionType` (§3).
    AcquisitionType {
        Single = "Single",
        Recurring = "Recurring",
        Conditional = "Conditional",
    }
);

wire_enum!(
    /// `validityType` of a query (§3).
    ValidityType {
        All = "All",
        Valid = "Valid",
        Invalid = "Invalid",
    }
);

wire_enum!(
    /// Order line item state (§5).
    LineItemState {
        Purchased = "Purchased",
        Revoked = "Revoked",
        Refunded = "Refunded",
    }
);

wire_enum!(
    /// Clawback `eventState` (§6).
    EventState {
        Revoked = "Revoked",
        Returned = "Returned",
        Refunded = "Refunded",
        ChargebackReversal = "ChargebackReversal",
    }
);

wire_enum!(
    /// Clawback `refundType` (§6).
    RefundType {
        Full = "Full",
        Partial = "Partial",
    }
);

wire_enum!(
    /// Subscription `recurrenceState` (§7).
    RecurrenceState {
        None = "None",
        Active = "Active",
        Inactive = "Inactive",
        Canceled = "Canceled",
        InDunning = "InDunning",
        Failed = "Failed",
    }
);

wire_enum!(
    /// Recurrence `changeType` (§7).
    ChangeType {
        Cancel = "Cancel",
        Extend = "Extend",
        Refund = "Refund",
        ToggleAutoRenew = "ToggleAutoRenew",
    }
);

wire_enum!(
    /// Purchase `orderState` (§8).
    OrderState {
        Editing = "Editing",
        CheckingOut = "CheckingOut",
        Pending = "Pending",
        Purchased = "Purchased",
        Refunded = "Refunded",
        ChargedBack = "ChargedBack",
        Cancelled = "Cancelled",
    }
);

// ---------------------------------------------------------------------------
// Dates
// ---------------------------------------------------------------------------

/// A Store timestamp. Reads RFC 3339 with any number of fractional digits,
/// minute precision (`2022-12-09T02:13Z`, the clawback SAS `expiresOn`) and
/// offset-less times (taken as UTC); writes `2021-08-30T21:53:08.2565331+00:00`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StoreTime(pub DateTime<Utc>);

impl StoreTime {
    /// `9999-12-31T23:59:59.9999999+00:00`, the service's "forever".
    pub fn forever() -> Self {
        // Constant input: cannot fail, but stay panic-free anyway.
        Self(
            DateTime::from_timestamp(253_402_300_799, 999_999_900)
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
        )
    }

    pub fn is_forever(&self) -> bool {
        self.0 >= Self::forever().0
    }

    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        if let Ok(t) = DateTime::parse_from_rfc3339(s) {
            return Some(Self(t.with_timezone(&Utc)));
        }
        let naive_formats = [
            "%Y-%m-%dT%H:%M:%S%.f",
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%d %H:%M:%S%.f",
        ];
        if let Some(body) = s.strip_suffix(['Z', 'z']).or(Some(s)) {
            for f in naive_formats {
                if let Ok(n) = NaiveDateTime::parse_from_str(body, f) {
                    return Some(Self(n.and_utc()));
                }
            }
        }
        DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M%:z")
            .ok()
            .map(|t| Self(t.with_timezone(&Utc)))
    }

    /// The documented 7-digit form.
    pub fn to_wire(&self) -> String {
        use std::fmt::Write;
        let mut out = String::with_capacity(33);
        let _ = write!(out, "{}", self.0.format("%Y-%m-%dT%H:%M:%S"));
        // Leap-second nanos (>= 1e9) are folded into the last tick.
        let ticks = (self.0.timestamp_subsec_nanos() / 100).min(9_999_999);
        let _ = write!(out, ".{ticks:07}+00:00");
        out
    }

    /// Minute precision with `Z`, as the clawback SAS `expiresOn` is written.
    pub fn to_minute_wire(&self) -> String {
        self.0.format("%Y-%m-%dT%H:%MZ").to_string()
    }
}

impl From<DateTime<Utc>> for StoreTime {
    fn from(t: DateTime<Utc>) -> Self {
        Self(t)
    }
}

impl fmt::Display for StoreTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_wire())
    }
}

impl Serialize for StoreTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_wire())
    }
}

impl<'de> Deserialize<'de> for StoreTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = d.deserialize_str(StrVisitor(|s: &str| (Self::parse(s), s.to_owned())))?;
        s.0.ok_or_else(|| de::Error::custom(format!("not a Store date: {:?}", s.1)))
    }
}

/// The clawback SAS `expiresOn`: same reading rules, written at minute precision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct MinuteTime(pub StoreTime);

impl Serialize for MinuteTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_minute_wire())
    }
}

impl<'de> Deserialize<'de> for MinuteTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        StoreTime::deserialize(d).map(Self)
    }
}

// ---------------------------------------------------------------------------
// Durations
// ---------------------------------------------------------------------------

/// A .NET TimeSpan (`trialTimeRemaining`). Reads `[-][d.]hh:mm:ss[.fffffff]`
/// and the doc table's `DD:HH:MM:SS[.MS]`; writes the former (.NET "c").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeSpan(pub TimeDelta);

impl TimeSpan {
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        let (neg, s) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let parts: Vec<&str> = s.split(':').collect();
        let (days, h, m, sec) = match parts.as_slice() {
            [h, m, sec] => match h.split_once('.') {
                Some((d, h)) => (num(d)?, num(h)?, num(m)?, *sec),
                None => (0, num(h)?, num(m)?, *sec),
            },
            [d, h, m, sec] => (num(d)?, num(h)?, num(m)?, *sec),
            _ => return None,
        };
        let (whole, frac) = match sec.split_once('.') {
            Some((w, f)) => (num(w)?, Some(f)),
            None => (num(sec)?, None),
        };
        if h >= 24 || m >= 60 || whole >= 60 || days > 10_675_199 {
            return None;
        }
        let mut nanos: i64 = 0;
        if let Some(f) = frac {
            if f.is_empty() || f.len() > 9 || !f.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let digits: i64 = f.parse().ok()?;
            nanos = digits * 10_i64.pow(9 - f.len() as u32);
        }
        let secs = ((days * 24 + h) * 60 + m) * 60 + whole;
        let total = TimeDelta::try_seconds(secs)?.checked_add(&TimeDelta::nanoseconds(nanos))?;
        Some(Self(if neg { -total } else { total }))
    }

    pub fn to_wire(&self) -> String {
        let neg = self.0 < TimeDelta::zero();
        let abs = self.0.abs();
        let total = abs.num_seconds();
        let ticks = abs.subsec_nanos() / 100;
        let (days, rem) = (total / 86_400, total % 86_400);
        let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
        let mut out = String::new();
        if neg {
            out.push('-');
        }
        if days > 0 {
            out.push_str(&format!("{days}."));
        }
        out.push_str(&format!("{h:02}:{m:02}:{s:02}"));
        if ticks > 0 {
            out.push_str(&format!(".{ticks:07}"));
        }
        out
    }
}

fn num(s: &str) -> Option<i64> {
    if s.is_empty() || s.len() > 9 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

impl Serialize for TimeSpan {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_wire())
    }
}

impl<'de> Deserialize<'de> for TimeSpan {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = d.deserialize_str(StrVisitor(|s: &str| (Self::parse(s), s.to_owned())))?;
        s.0.ok_or_else(|| de::Error::custom(format!("not a TimeSpan: {:?}", s.1)))
    }
}

/// Reads an integer sent as a number or as a numeric string (the doc shows
/// `extensionTimeInDays` and Entra v1 `expires_in` as strings).
fn int_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum N {
        I(i64),
        F(f64),
        S(String),
    }
    match Option::<N>::deserialize(d)? {
        None => Ok(None),
        Some(N::I(i)) => Ok(Some(i)),
        Some(N::F(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(Some(f as i64)),
        Some(N::F(f)) => Err(de::Error::custom(format!("not an integer: {f}"))),
        Some(N::S(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| de::Error::custom(format!("not an integer: {s:?}"))),
    }
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// The Store's error body [lib]. Every field optional on read.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ErrorBody {
    pub code: Option<String>,
    pub message: Option<String>,
    pub source: Option<String>,
    pub data: Vec<serde_json::Value>,
    pub details: Vec<serde_json::Value>,
    #[serde(rename = "innererror", alias = "innerError")]
    pub innererror: Option<InnerError>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct InnerError {
    pub code: Option<String>,
    pub message: Option<String>,
    pub source: Option<String>,
    pub data: Vec<serde_json::Value>,
    pub details: Vec<serde_json::Value>,
}

impl ErrorBody {
    /// An error in the documented shape, with an inner error of the same code.
    pub fn new(code: &str, inner_code: &str, message: &str) -> Self {
        Self {
            code: Some(code.into()),
            message: Some(message.into()),
            source: Some("storedesk-sandbox".into()),
            data: Vec::new(),
            details: Vec::new(),
            innererror: Some(InnerError {
                code: Some(inner_code.into()),
                message: Some(message.into()),
                source: Some("storedesk-sandbox".into()),
                data: Vec::new(),
                details: Vec::new(),
            }),
        }
    }

    /// The most specific code: the inner one when present.
    pub fn best_code(&self) -> Option<&str> {
        self.innererror
            .as_ref()
            .and_then(|i| i.code.as_deref())
            .or(self.code.as_deref())
    }
}

/// Documented error codes.
pub mod codes {
    pub const UNAUTHORIZED: &str = "Unauthorized";
    pub const AUTHENTICATION_TOKEN_INVALID: &str = "AuthenticationTokenInvalid";
    pub const PARTNER_AAD_TICKET_REQUIRED: &str = "PartnerAadTicketRequired";
    pub const INCONSISTENT_CLIENT_ID: &str = "InconsistentClientId";
    pub const INVALID_PARAMETER: &str = "InvalidParameter";
    pub const BAD_REQUEST: &str = "BadRequest";
    pub const TOO_MANY_REQUESTS: &str = "TooManyRequests";
    pub const INSUFFICIENT_BALANCE: &str = "InsufficientBalance";
    pub const NOT_FOUND: &str = "NotFound";
    pub const INTERNAL_ERROR: &str = "InternalError";
    pub const SERVICE_UNAVAILABLE: &str = "ServiceUnavailable";
}

// ---------------------------------------------------------------------------
// §1 Entra ID tokens
// ---------------------------------------------------------------------------

/// Client-credential form (v1 uses `resource`, v2 `scope`).
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TokenRequest {
    pub grant_type: String,
    pub client_id: String,
    pub client_secret: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// Token answer. v1 writes the numbers as strings; both are read.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TokenResponse {
    pub token_type: String,
    #[serde(
        deserialize_with = "int_or_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub expires_in: Option<i64>,
    #[serde(
        deserialize_with = "int_or_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub ext_expires_in: Option<i64>,
    #[serde(
        deserialize_with = "int_or_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub expires_on: Option<i64>,
    #[serde(
        deserialize_with = "int_or_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub not_before: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    pub access_token: String,
}

/// Entra's OAuth error answer.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TokenError {
    pub error: String,
    pub error_description: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub error_codes: Vec<i64>,
}

// ---------------------------------------------------------------------------
// §2 User Store ID keys
// ---------------------------------------------------------------------------

pub mod claim {
    pub const CLIENT_ID: &str =
        "http://schemas.microsoft.com/marketplace/2015/08/claims/key/clientId";
    pub const PAYLOAD: &str = "http://schemas.microsoft.com/marketplace/2015/08/claims/key/payload";
    pub const USER_ID: &str = "http://schemas.microsoft.com/marketplace/2015/08/claims/key/userId";
    pub const REFRESH_URI: &str =
        "http://schemas.microsoft.com/marketplace/2015/08/claims/key/refreshUri";
}

/// Documented issuers/audiences and refresh URIs of the two key kinds.
pub mod key_uri {
    pub const COLLECTIONS_AUD: &str = "https://collections.mp.microsoft.com/v6.0/keys";
    pub const PURCHASE_AUD: &str = "https://purchase.mp.microsoft.com/v6.0/keys";
    pub const COLLECTIONS_RENEW: &str = "https://collections.mp.microsoft.com/v6.0/b2b/keys/renew";
    pub const PURCHASE_RENEW: &str = "https://purchase.mp.microsoft.com/v6.0/b2b/keys/renew";
}

/// Claim set of a User Store ID key.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct KeyClaims {
    #[serde(rename = "http://schemas.microsoft.com/marketplace/2015/08/claims/key/clientId")]
    pub client_id: String,
    #[serde(rename = "http://schemas.microsoft.com/marketplace/2015/08/claims/key/payload")]
    pub payload: String,
    #[serde(rename = "http://schemas.microsoft.com/marketplace/2015/08/claims/key/userId")]
    pub user_id: String,
    #[serde(rename = "http://schemas.microsoft.com/marketplace/2015/08/claims/key/refreshUri")]
    pub refresh_uri: String,
    pub iat: i64,
    pub iss: String,
    pub aud: String,
    pub exp: i64,
    pub nbf: i64,
}

/// JWT header of a key.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct KeyHeader {
    pub typ: String,
    pub alg: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x5t: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
}

/// `POST {refreshUri}`; the doc spells the key field `Key`.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RenewRequest {
    pub service_ticket: String,
    #[serde(alias = "Key")]
    pub key: String,
}

#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RenewResponse {
    #[serde(alias = "Key")]
    pub key: String,
}

// ---------------------------------------------------------------------------
// §3 Collections query
// ---------------------------------------------------------------------------

/// A user identity in a collections call. The doc example writes
/// `identitytype`; both spellings are read.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Beneficiary {
    #[serde(alias = "identitytype")]
    pub identity_type: String,
    #[serde(alias = "identityvalue")]
    pub identity_value: String,
    #[serde(default)]
    pub local_ticket_reference: Option<String>,
}

impl Beneficiary {
    pub fn b2b(key: impl Into<String>) -> Self {
        Self {
            identity_type: "b2b".into(),
            identity_value: key.into(),
            local_ticket_reference: Some(String::new()),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProductSkuId {
    pub product_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku_id: Option<String>,
}

/// v9 PublisherQuery request.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PublisherQueryRequest {
    pub beneficiaries: Vec<Beneficiary>,
    /// Required by the service; `None` only so the sandbox can say so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_sku_ids: Option<Vec<ProductSkuId>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continuation_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_page_size: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_duplicates: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validity_type: Option<ValidityType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sbx: Option<String>,
}

/// v8 B2bLicensePreview request.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LicensePreviewRequest {
    pub beneficiaries: Vec<Beneficiary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_sku_ids: Option<Vec<ProductSkuId>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continuation_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_page_size: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_duplicates: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validity_type: Option<ValidityType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub market: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expand_satisfying_items: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entitlement_filters: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sbx: Option<String>,
}

/// `trialData` of an entitlement.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TrialData {
    pub is_in_trial_period: bool,
    pub is_trial: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trial_time_remaining: Option<TimeSpan>,
}

/// v8 `recurrenceData`: an object `{recurrenceId}`, or (tolerated) a bare string.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecurrenceData {
    pub recurrence_id: Option<String>,
}

impl<'de> Deserialize<'de> for RecurrenceData {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum R {
            S(String),
            O {
                #[serde(default, rename = "recurrenceId")]
                recurrence_id: Option<String>,
            },
        }
        Ok(match R::deserialize(d)? {
            R::S(s) => Self {
                recurrence_id: Some(s),
            },
            R::O { recurrence_id } => Self { recurrence_id },
        })
    }
}

/// One collection item (v9, plus the v8 extras). `raw` holds the item's JSON
/// exactly as received when it came through [`QueryResponse`], for the
/// console's "raw" view and for exports.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Entitlement {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acquired_date: Option<StoreTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acquisition_type: Option<AcquisitionType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_date: Option<StoreTime>,
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modified_date: Option<StoreTime>,
    pub product_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_kind: Option<ProductKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantity: Option<i64>,
    /// v9 spelling.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recurrence_id: Option<String>,
    /// v8 spelling (and the v9 doc table's); see [`Entitlement::recurrence`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recurrence_data: Option<RecurrenceData>,
    #[serde(deserialize_with = "null_vec")]
    pub satisfied_by_product_ids: Vec<String>,
    pub sku_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_date: Option<StoreTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<EntitlementStatus>,
    #[serde(deserialize_with = "null_vec")]
    pub tags: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trial_data: Option<TrialData>,
    // v8 extras
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legacy_product_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legacy_offer_instance_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_ticket_reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchased_country: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_family: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sharing_source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dev_offer_id: Option<String>,
    #[serde(skip)]
    pub raw: Option<Box<RawValue>>,
    /// Why the item could not be read (an explicit null in a required
    /// field, an unknown date or TimeSpan form, a wrong type): the row is
    /// listed flagged with its raw JSON, never failing the page.
    #[serde(skip)]
    pub unreadable: Option<String>,
}

impl Entitlement {
    /// A flagged row for an item that did not decode: whatever ids can be
    /// read from its JSON, the raw JSON, and why.
    pub fn unreadable(raw: Box<RawValue>, why: String) -> Self {
        let v: serde_json::Value = serde_json::from_str(raw.get()).unwrap_or_default();
        let text = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
        Entitlement {
            id: text("id"),
            product_id: text("productId"),
            sku_id: text("skuId"),
            raw: Some(raw),
            unreadable: Some(why),
            ..Default::default()
        }
    }

    /// The recurrence id under whichever spelling it came.
    pub fn recurrence(&self) -> Option<&str> {
        self.recurrence_id
            .as_deref()
            .or_else(|| self.recurrence_data.as_ref()?.recurrence_id.as_deref())
    }
}

/// `null` or absent → empty list.
fn null_vec<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// A page of a collections query (v9 or v8).
///
/// Only an object with an `items` array is a listing: a 200 carrying an
/// error object, `{}` or `"items": null` is refused here, so "owns
/// nothing" is never said of an answer that listed nothing. Each item is
/// parsed from its own raw slice (kept for the raw view and exports); one
/// that does not decode becomes a flagged row ([`Entitlement::unreadable`])
/// and the rest of the page is listed. Needs a serde_json text
/// deserializer (`from_str`/`from_slice`), which is how pages arrive.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub continuation_token: Option<String>,
    pub items: Vec<Entitlement>,
}

impl QueryResponse {
    /// Items that came unreadable.
    pub fn unreadable(&self) -> usize {
        self.items.iter().filter(|e| e.unreadable.is_some()).count()
    }
}

/// Present-but-null apart from absent: `Some(None)` for `null`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Ok(Some(Option::<T>::deserialize(d)?))
}

impl<'de> Deserialize<'de> for QueryResponse {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Wire {
            #[serde(default)]
            continuation_token: Option<String>,
            #[serde(default, deserialize_with = "present")]
            items: Option<Option<Vec<Box<RawValue>>>>,
            #[serde(default)]
            code: Option<serde_json::Value>,
            #[serde(default)]
            message: Option<serde_json::Value>,
            #[serde(default)]
            error: Option<serde_json::Value>,
        }
        let w = Wire::deserialize(d)?;
        let raws = match w.items {
            Some(Some(v)) => v,
            missing => {
                let what = if w.code.is_some() || w.error.is_some() || w.message.is_some() {
                    let field = |v: &Option<serde_json::Value>| {
                        v.as_ref().map(|x| {
                            x.as_str()
                                .map(str::to_string)
                                .unwrap_or_else(|| x.to_string())
                        })
                    };
                    let code = field(&w.code)
                        .or_else(|| {
                            w.error
                                .as_ref()
                                .and_then(|e| field(&e.get("code").cloned()))
                        })
                        .unwrap_or_else(|| "?".into());
                    let msg = field(&w.message)
                        .or_else(|| {
                            w.error
                                .as_ref()
                                .and_then(|e| field(&e.get("message").cloned()))
                        })
                        .unwrap_or_default();
                    format!("the answer is an error object (code {code}: {msg}), not a listing")
                } else if missing.is_none() {
                    "the answer has no `items`: not a listing (this says nothing about what the customer owns)".to_string()
                } else {
                    "`items` is null: not a listing (this says nothing about what the customer owns)".to_string()
                };
                return Err(de::Error::custom(what));
            }
        };
        let items = raws
            .into_iter()
            .enumerate()
            .map(
                |(i, raw)| match serde_json::from_str::<Entitlement>(raw.get()) {
                    Ok(mut e) => {
                        e.raw = Some(raw);
                        e
                    }
                    Err(err) => Entitlement::unreadable(raw, format!("items[{i}]: {err}")),
                },
            )
            .collect();
        Ok(QueryResponse {
            continuation_token: w.continuation_token,
            items,
        })
    }
}

// ---------------------------------------------------------------------------
// §4 Consume
// ---------------------------------------------------------------------------

#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConsumeRequest {
    pub beneficiary: Beneficiary,
    pub product_id: String,
    pub tracking_id: String,
    /// Store-managed consumables only; omitted for unmanaged ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remove_quantity: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_order_ids: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sbx: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct OrderTransaction {
    pub order_id: String,
    pub order_line_item_id: String,
    pub quantity_consumed: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ConsumeResponse {
    pub item_id: String,
    pub product_id: String,
    pub tracking_id: String,
    pub new_quantity: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_transactions: Option<Vec<OrderTransaction>>,
}

// ---------------------------------------------------------------------------
// §5 Orders
// ---------------------------------------------------------------------------

#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OrdersQueryRequest {
    pub b2b_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_item_state_filter: Option<Vec<LineItemState>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sbx: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continuation_token: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct OrderLineItem {
    pub line_item_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line_item_state: Option<LineItemState>,
    pub product_id: String,
    pub quantity: i64,
    pub sku_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub was_consumable_quantity_revoked: Option<bool>,
    /// Price of one unit, before tax (the order shape of STORE-API.md §8).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list_price: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_amount: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency_code: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Order {
    pub order_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub short_order_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_purchased_date: Option<StoreTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_refunded_date: Option<StoreTime>,
    #[serde(deserialize_with = "null_vec")]
    pub order_line_items: Vec<OrderLineItem>,
    /// What the customer paid for the order, tax included.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_amount: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency_code: Option<String>,
}

/// The public display catalog's answer (`GET /v7.0/products?bigIds=…`):
/// only what a title needs is read; everything else is ignored.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DisplayCatalogResponse {
    #[serde(rename = "Products", deserialize_with = "null_vec")]
    pub products: Vec<DisplayProduct>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DisplayProduct {
    #[serde(rename = "ProductId")]
    pub product_id: String,
    #[serde(rename = "LocalizedProperties", deserialize_with = "null_vec")]
    pub localized_properties: Vec<DisplayLocalized>,
    /// `Durable`, `Consumable`, `UnmanagedConsumable`, `Application`, …
    #[serde(rename = "ProductKind", skip_serializing_if = "Option::is_none")]
    pub product_kind: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DisplayLocalized {
    #[serde(rename = "ProductTitle")]
    pub product_title: String,
    #[serde(rename = "Language", skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct OrdersQueryResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub continuation_token: Option<String>,
    #[serde(deserialize_with = "null_vec")]
    pub items: Vec<Order>,
}

// ---------------------------------------------------------------------------
// §6 Clawback v2
// ---------------------------------------------------------------------------

#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SasTokenResponse {
    pub expires_on: MinuteTime,
    pub uri: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ClawbackRecurrenceData {
    pub recurrence_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_interval_start: Option<StoreTime>,
    #[serde(
        deserialize_with = "int_or_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub duration_in_days: Option<i64>,
    #[serde(
        deserialize_with = "int_or_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub consumed_duration_in_days: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund_type: Option<RefundType>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ClawbackData {
    pub line_item_id: String,
    pub order_id: String,
    pub product_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_type: Option<ProductKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchased_date: Option<StoreTime>,
    /// Older events spell it `refundInitiatedDate`.
    #[serde(skip_serializing_if = "Option::is_none", alias = "refundInitiatedDate")]
    pub event_date: Option<StoreTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sandbox_id: Option<String>,
    /// Older events spell it `refundState`.
    #[serde(skip_serializing_if = "Option::is_none", alias = "refundState")]
    pub event_state: Option<EventState>,
    pub sku_id: String,
    /// Older events spell it `subscriptionData`.
    #[serde(skip_serializing_if = "Option::is_none", alias = "subscriptionData")]
    pub recurrence_data: Option<ClawbackRecurrenceData>,
}

/// The JSON inside a queue message's `MessageText` (base64).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClawbackEvent {
    pub id: String,
    pub source: String,
    #[serde(rename = "type")]
    pub event_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<StoreTime>,
    pub specversion: String,
    pub datacontenttype: String,
    pub subject: String,
    pub traceparent: String,
    pub data: ClawbackData,
}

impl ClawbackEvent {
    /// Decodes base64 (standard or URL-safe, padded or not) JSON.
    pub fn from_message_text(text: &str) -> Result<Self, ModelError> {
        let bytes = decode_base64_tolerant(text.trim()).ok_or(ModelError::Base64)?;
        serde_json::from_slice(&bytes).map_err(ModelError::Json)
    }

    pub fn to_message_text(&self) -> String {
        use base64::Engine;
        let json = serde_json::to_vec(self).unwrap_or_default();
        base64::engine::general_purpose::STANDARD.encode(json)
    }
}

fn decode_base64_tolerant(s: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    let trimmed = s.trim_end_matches('=');
    STANDARD_NO_PAD
        .decode(trimmed)
        .or_else(|_| URL_SAFE_NO_PAD.decode(trimmed))
        .ok()
}

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("message text is not base64")]
    Base64,
    #[error("bad JSON: {0}")]
    Json(#[source] serde_json::Error),
    #[error("bad queue XML: {0}")]
    Xml(String),
}

/// One message of an Azure Storage Queue answer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueueMessage {
    pub message_id: String,
    pub insertion_time: String,
    pub expiration_time: String,
    /// Absent on peek.
    pub pop_receipt: Option<String>,
    /// Absent on peek.
    pub time_next_visible: Option<String>,
    pub dequeue_count: u32,
    pub message_text: String,
}

/// RFC 1123 as Azure Storage writes times in XML (`Fri, 09 Dec 2022 02:13:00 GMT`).
pub fn rfc1123(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// Writes a `<QueueMessagesList>`.
pub fn queue_messages_to_xml(msgs: &[QueueMessage]) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?><QueueMessagesList>");
    for m in msgs {
        out.push_str("<QueueMessage>");
        push_el(&mut out, "MessageId", &m.message_id);
        push_el(&mut out, "InsertionTime", &m.insertion_time);
        push_el(&mut out, "ExpirationTime", &m.expiration_time);
        if let Some(p) = &m.pop_receipt {
            push_el(&mut out, "PopReceipt", p);
        }
        if let Some(t) = &m.time_next_visible {
            push_el(&mut out, "TimeNextVisible", t);
        }
        push_el(&mut out, "DequeueCount", &m.dequeue_count.to_string());
        push_el(&mut out, "MessageText", &m.message_text);
        out.push_str("</QueueMessage>");
    }
    out.push_str("</QueueMessagesList>");
    out
}

fn push_el(out: &mut String, tag: &str, text: &str) {
    out.push('<');
    out.push_str(tag);
    out.push('>');
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out.push_str("</");
    out.push_str(tag);
    out.push('>');
}

/// Reads a `<QueueMessagesList>`: only the flat element layout Azure uses,
/// no attributes or namespaces beyond being skipped.
pub fn queue_messages_from_xml(xml: &str) -> Result<Vec<QueueMessage>, ModelError> {
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find("<QueueMessage>") {
        let after = &rest[start + "<QueueMessage>".len()..];
        let end = after
            .find("</QueueMessage>")
            .ok_or_else(|| ModelError::Xml("unterminated <QueueMessage>".into()))?;
        let body = &after[..end];
        let field = |tag: &str| element_text(body, tag);
        let dequeue_count = match field("DequeueCount") {
            Some(s) => s
                .trim()
                .parse()
                .map_err(|_| ModelError::Xml(format!("DequeueCount {s:?}")))?,
            None => 0,
        };
        out.push(QueueMessage {
            message_id: field("MessageId")
                .ok_or_else(|| ModelError::Xml("message without MessageId".into()))?,
            insertion_time: field("InsertionTime").unwrap_or_default(),
            expiration_time: field("ExpirationTime").unwrap_or_default(),
            pop_receipt: field("PopReceipt"),
            time_next_visible: field("TimeNextVisible"),
            dequeue_count,
            message_text: field("MessageText").unwrap_or_default(),
        });
        rest = &after[end + "</QueueMessage>".len()..];
    }
    Ok(out)
}

fn element_text(body: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let s = body.find(&open)? + open.len();
    let e = body[s..].find(&close)? + s;
    Some(unescape_xml(&body[s..e]))
}

fn unescape_xml(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

// ---------------------------------------------------------------------------
// §7 Recurrences
// ---------------------------------------------------------------------------

#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RecurrencesQueryRequest {
    pub b2b_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sbx: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continuation_token: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Recurrence {
    pub auto_renew: bool,
    pub beneficiary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration_time: Option<StoreTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration_time_with_grace: Option<StoreTime>,
    pub id: String,
    pub is_trial: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<StoreTime>,
    pub market: String,
    pub product_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recurrence_state: Option<RecurrenceState>,
    pub sku_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<StoreTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancellation_date: Option<StoreTime>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RecurrencesQueryResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub continuation_token: Option<String>,
    #[serde(deserialize_with = "null_vec")]
    pub items: Vec<Recurrence>,
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RecurrenceChangeRequest {
    pub b2b_key: String,
    pub change_type: ChangeType,
    /// Int on the wire; the doc shows a string, which is read too.
    #[serde(
        default,
        deserialize_with = "int_or_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub extension_time_in_days: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sbx: Option<String>,
}

/// The change answer: the updated item, bare (written) or wrapped in
/// `{items:[item]}` (older doc; read).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RecurrenceChangeResponse(pub Recurrence);

impl Serialize for RecurrenceChangeResponse {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for RecurrenceChangeResponse {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        let item = match v.get("items") {
            Some(serde_json::Value::Array(items)) => items
                .first()
                .cloned()
                .ok_or_else(|| de::Error::custom("recurrence change answer with empty items"))?,
            _ => v,
        };
        Recurrence::deserialize(item)
            .map(Self)
            .map_err(de::Error::custom)
    }
}

// ---------------------------------------------------------------------------
// §8 Grant
// ---------------------------------------------------------------------------

#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GrantRequest {
    pub availability_id: String,
    pub b2b_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dev_offer_id: Option<String>,
    pub language: String,
    pub market: String,
    pub order_id: String,
    pub product_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<i64>,
    pub sku_id: String,
}

#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Identity {
    pub identity_type: String,
    pub identity_value: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ClientContext {
    pub client: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PurchaseLineItem {
    pub line_item_id: String,
    pub product_id: String,
    pub sku_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_type: Option<ProductKind>,
    pub quantity: i64,
    pub billing_state: String,
    pub fulfillment_state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub beneficiary: Option<Identity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list_price: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_amount: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub availability_id: Option<String>,
}

/// The order a grant answers with.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PurchaseOrder {
    pub order_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_state: Option<OrderState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_time: Option<StoreTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchaser: Option<Identity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_context: Option<ClientContext>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub market: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_amount: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_tax_amount: Option<f64>,
    #[serde(deserialize_with = "null_vec")]
    pub order_line_items: Vec<PurchaseLineItem>,
}

// ---------------------------------------------------------------------------
// §9 Targeted offers
// ---------------------------------------------------------------------------

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TargetedOffer {
    pub offers: Vec<String>,
    pub tracking_id: String,
}

#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClaimOfferRequest {
    pub store_offer: TargetedOffer,
    pub receipt: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn unknown_enum_values_survive_and_round_trip() {
        let k: ProductKind = serde_json::from_str("\"Bundle\"").unwrap();
        assert_eq!(k, ProductKind::Other("Bundle".into()));
        assert_eq!(k.to_string(), "other: Bundle");
        assert_eq!(serde_json::to_string(&k).unwrap(), "\"Bundle\"");
        let s: EntitlementStatus = serde_json::from_str("\"active\"").unwrap();
        assert_eq!(s, EntitlementStatus::Active);
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"Active\"");
        assert_eq!(ProductKind::KNOWN.len(), 6);
    }

    #[test]
    fn dates_in_every_documented_form() {
        let d = StoreTime::parse("2021-08-30T21:53:08.2565331+00:00").unwrap();
        assert_eq!(d.to_wire(), "2021-08-30T21:53:08.2565331+00:00");
        let m = StoreTime::parse("2022-12-09T02:13Z").unwrap();
        assert_eq!(m.to_wire(), "2022-12-09T02:13:00.0000000+00:00");
        assert_eq!(m.to_minute_wire(), "2022-12-09T02:13Z");
        let off = StoreTime::parse("2022-12-09T04:13+02:00").unwrap();
        assert_eq!(off, m);
        let f = StoreTime::parse("9999-12-31T23:59:59.9999999+00:00").unwrap();
        assert!(f.is_forever());
        assert_eq!(f, StoreTime::forever());
        assert!(StoreTime::parse("yesterday").is_none());
        let v: Option<StoreTime> = serde_json::from_str("null").unwrap();
        assert!(v.is_none());
        assert!(serde_json::from_str::<StoreTime>("\"31/12/2020\"").is_err());
    }

    #[test]
    fn timespans_in_both_layouts() {
        let t = TimeSpan::parse("09:43:52.8580690").unwrap();
        assert_eq!(t.0.num_seconds(), 9 * 3600 + 43 * 60 + 52);
        assert_eq!(t.to_wire(), "09:43:52.8580690");
        let d = TimeSpan::parse("2.01:00:00").unwrap();
        assert_eq!(d.0.num_hours(), 49);
        let dd = TimeSpan::parse("02:01:00:00.500").unwrap();
        assert_eq!(dd.0.num_milliseconds(), 49 * 3_600_000 + 500);
        assert_eq!(dd.to_wire(), "2.01:00:00.5000000");
        assert_eq!(TimeSpan::parse("-00:00:01").unwrap().0.num_seconds(), -1);
        for bad in [
            "",
            "1:2",
            "25:00:00",
            "00:61:00",
            "a:b:c",
            "00:00:00.",
            "1.2.3:00:00",
        ] {
            assert!(TimeSpan::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn item_tolerates_nulls_both_recurrence_spellings_and_keeps_raw() {
        let page = r#"{"continuationToken":null,"items":[
          {"id":"a","productId":"P","skuId":"0010","recurrenceId":"mdr:1","status":"Active",
           "tags":null,"satisfiedByProductIds":null,"trialData":{"isInTrialPeriod":false,"isTrial":false,"trialTimeRemaining":null},
           "endDate":null,"productKind":"Hologram"},
          {"id":"b","productId":"P","skuId":"0010","recurrenceData":{"recurrenceId":"mdr:2"}},
          {"id":"c","productId":"P","skuId":"0010","recurrenceData":"mdr:3"}]}"#;
        let p: QueryResponse = serde_json::from_str(page).unwrap();
        assert!(p.continuation_token.is_none());
        let r: Vec<_> = p.items.iter().map(|e| e.recurrence()).collect();
        assert_eq!(r, [Some("mdr:1"), Some("mdr:2"), Some("mdr:3")]);
        assert_eq!(
            p.items[0].product_kind,
            Some(ProductKind::Other("Hologram".into()))
        );
        assert!(p.items[0].raw.as_ref().unwrap().get().contains("Hologram"));
    }

    #[test]
    fn renew_request_accepts_both_key_spellings() {
        let a: RenewRequest = serde_json::from_str(r#"{"serviceTicket":"t","Key":"k"}"#).unwrap();
        let b: RenewRequest = serde_json::from_str(r#"{"serviceTicket":"t","key":"k"}"#).unwrap();
        assert_eq!(a, b);
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            r#"{"serviceTicket":"t","key":"k"}"#
        );
    }

    #[test]
    fn request_types_reject_unknown_fields_and_accept_nulls() {
        let ok = r#"{"beneficiaries":[{"identitytype":"b2b","identityValue":"k","localTicketReference":""}],
                     "productSkuIds":[{"productId":"P"}],"continuationToken":null,"sbx":null}"#;
        let r: PublisherQueryRequest = serde_json::from_str(ok).unwrap();
        assert_eq!(r.beneficiaries[0].identity_type, "b2b");
        let bad = r#"{"beneficiaries":[],"productSkuIds":[],"bogus":1}"#;
        assert!(serde_json::from_str::<PublisherQueryRequest>(bad).is_err());
    }

    #[test]
    fn recurrence_change_bare_or_wrapped() {
        let bare = r#"{"id":"mdr:0:1","autoRenew":false,"recurrenceState":"Canceled"}"#;
        let wrapped = format!("{{\"items\":[{bare}]}}");
        let a: RecurrenceChangeResponse = serde_json::from_str(bare).unwrap();
        let b: RecurrenceChangeResponse = serde_json::from_str(&wrapped).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.0.recurrence_state, Some(RecurrenceState::Canceled));
        let req: RecurrenceChangeRequest = serde_json::from_str(
            r#"{"b2bKey":"k","changeType":"Extend","extensionTimeInDays":"7"}"#,
        )
        .unwrap();
        assert_eq!(req.extension_time_in_days, Some(7));
    }

    #[test]
    fn token_response_numbers_as_strings() {
        let t: TokenResponse = serde_json::from_str(
            r#"{"token_type":"Bearer","expires_in":"3599","expires_on":"1700000000","resource":"r","access_token":"x"}"#,
        )
        .unwrap();
        assert_eq!(t.expires_in, Some(3599));
        assert_eq!(t.expires_on, Some(1_700_000_000));
    }

    #[test]
    fn queue_xml_round_trip_and_clawback_text() {
        let ev = ClawbackEvent {
            id: "e1".into(),
            source: "/Purchase/Refund".into(),
            event_type: "ClawbackEventContractV2".into(),
            data: ClawbackData {
                order_id: "o".into(),
                line_item_id: "l".into(),
                event_state: Some(EventState::Returned),
                ..Default::default()
            },
            ..Default::default()
        };
        let msg = QueueMessage {
            message_id: "m<1>&".into(),
            insertion_time: "Fri, 09 Dec 2022 02:13:00 GMT".into(),
            expiration_time: "Fri, 16 Dec 2022 02:13:00 GMT".into(),
            pop_receipt: Some("pr".into()),
            time_next_visible: None,
            dequeue_count: 2,
            message_text: ev.to_message_text(),
        };
        let xml = queue_messages_to_xml(std::slice::from_ref(&msg));
        let back = queue_messages_from_xml(&xml).unwrap();
        assert_eq!(back, vec![msg]);
        let decoded = ClawbackEvent::from_message_text(&back[0].message_text).unwrap();
        assert_eq!(decoded, ev);
        // URL-safe, unpadded text is accepted too.
        use base64::Engine;
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(&ev).unwrap());
        assert_eq!(ClawbackEvent::from_message_text(&url).unwrap(), ev);
        assert!(queue_messages_from_xml("<QueueMessagesList><QueueMessage><MessageId>x").is_err());
    }

    #[test]
    fn error_body_reads_partial_and_writes_full_shape() {
        let e: ErrorBody = serde_json::from_str(
            r#"{"code":"Unauthorized","innererror":{"code":"InconsistentClientId"}}"#,
        )
        .unwrap();
        assert_eq!(e.best_code(), Some("InconsistentClientId"));
        let v =
            serde_json::to_value(ErrorBody::new("BadRequest", "InvalidParameter", "m")).unwrap();
        for f in ["code", "message", "source", "data", "details", "innererror"] {
            assert!(v.get(f).is_some(), "{f}");
        }
    }

    proptest! {
        #[test]
        fn store_time_round_trips(secs in 0i64..253_402_300_799, ticks in 0u32..10_000_000) {
            let t = StoreTime(DateTime::from_timestamp(secs, ticks * 100).unwrap());
            let wire = t.to_wire();
            prop_assert_eq!(wire.len(), 33);
            prop_assert_eq!(StoreTime::parse(&wire), Some(t));
        }

        #[test]
        fn timespan_round_trips(secs in -800_000_000i64..800_000_000, ticks in 0i64..10_000_000) {
            let d = TimeDelta::seconds(secs) + TimeDelta::nanoseconds(ticks * 100 * secs.signum().max(0));
            let t = TimeSpan(d);
            prop_assert_eq!(TimeSpan::parse(&t.to_wire()), Some(t));
        }

        #[test]
        fn parsers_never_panic(s in "\\PC{0,40}") {
            let _ = StoreTime::parse(&s);
            let _ = TimeSpan::parse(&s);
        }
    }
}

// Keys, tickets, the client secret and SAS signatures never show in Debug.
crate::masked_debug!(
    TokenRequest,
    RenewRequest,
    Beneficiary,
    PublisherQueryRequest,
    LicensePreviewRequest,
    ConsumeRequest,
    OrdersQueryRequest,
    RecurrencesQueryRequest,
    RecurrenceChangeRequest,
    GrantRequest,
    Identity,
    ClaimOfferRequest,
    SasTokenResponse,
    RenewResponse,
);
