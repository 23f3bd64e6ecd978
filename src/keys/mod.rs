//! User Store ID / JWT decoding and assessment (pure: no I/O, no clock).
//!
//! The flow is `clean_input` (what people really paste) → `decode` (three
//! base64url parts, no verification) → `assess` (kind, times, verdict,
//! signature). `inspect` runs all three. The key pane and the headless
//! `storedesk inspect` both render an [`Assessment`].

mod assess;
mod claims;
mod clean;
mod decode;
mod human;
mod kind;

pub use assess::{
    AssessContext, Assessment, ClaimRow, KeyKind, RENEW_AFTER, RENEW_SOON_WINDOW, ServiceTokenInfo,
    SignatureStatus, Verdict, assess,
};
pub use claims::{CLAIM_CLIENT_ID, CLAIM_PAYLOAD, CLAIM_REFRESH_URI, CLAIM_USER_ID, friendly_name};
pub use clean::{Cleaned, InputError, MAX_INPUT_BYTES, clean_bytes, clean_input};
pub use decode::{DecodeError, Decoded, Part, decode};
pub use human::{human_duration, relative};
pub use kind::{WrongKeyKind, check_kind};

use sha2::{Digest, Sha256};

/// Issuer / audience of a UserCollectionsId.
pub const COLLECTIONS_KEYS: &str = "https://collections.mp.microsoft.com/v6.0/keys";
/// Issuer / audience of a UserPurchaseId.
pub const PURCHASE_KEYS: &str = "https://purchase.mp.microsoft.com/v6.0/keys";
/// The `kid` the embedded sandbox puts on the keys it signs.
pub const SANDBOX_KID: &str = "storedesk-sandbox";

/// Why a pasted text could not be inspected (both mean "not a key", exit 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InspectError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Decode(#[from] DecodeError),
}

/// Clean up, decode and assess in one go.
pub fn inspect(raw: &str, ctx: &AssessContext) -> Result<(Cleaned, Assessment), InspectError> {
    let cleaned = clean_input(raw)?;
    let decoded = decode(&cleaned.token)?;
    Ok((cleaned, assess(&decoded, ctx)))
}

/// Short, non-secret handle for a key: the first 8 hex chars of its SHA-256.
/// Safe to show in logs, the audit log and tickets.
pub fn fingerprint(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    let mut out = String::with_capacity(8);
    for b in &digest[..4] {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

#[cfg(test)]
mod proptests;
#[cfg(test)]
pub(crate) mod testkit;
