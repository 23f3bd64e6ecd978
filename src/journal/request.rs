//! What a write is: its kind, the exact request body, its idempotency key,
//! and the preview the confirmation dialog shows before anything is sent.

use super::mask;
use crate::config::{Environment, Profile};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteKind {
    Consume,
    Grant,
    RecurrenceChange,
    RenewKey,
    ClawbackAck,
    OfferClaim,
}

impl WriteKind {
    pub const ALL: [WriteKind; 6] = [
        WriteKind::Consume,
        WriteKind::Grant,
        WriteKind::RecurrenceChange,
        WriteKind::RenewKey,
        WriteKind::ClawbackAck,
        WriteKind::OfferClaim,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WriteKind::Consume => "consume",
            WriteKind::Grant => "grant",
            WriteKind::RecurrenceChange => "recurrence_change",
            WriteKind::RenewKey => "renew_key",
            WriteKind::ClawbackAck => "clawback_ack",
            WriteKind::OfferClaim => "offer_claim",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for WriteKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who writes, and against which Store: stamped on every journal row and
/// audit entry. A pending write is only replayed under the same profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub operator: String,
    pub profile: String,
    pub environment: Environment,
}

impl Actor {
    pub fn from_profile(p: &Profile) -> Self {
        Self {
            operator: p.operator.clone(),
            profile: p.name.clone(),
            environment: p.environment,
        }
    }
}

/// One write, fully formed before confirmation. `body` is the exact JSON
/// that goes on the wire, customer key included; it is masked before it is
/// stored or shown.
#[derive(Clone, PartialEq)]
pub struct WriteRequest {
    pub kind: WriteKind,
    /// The credential that names the customer: the User Store ID for Store
    /// calls, the MSA token for an offer claim. Sealed while pending.
    pub customer_key: String,
    /// Path parameter of the call: recurrenceId for a recurrence change,
    /// `messageId/popReceipt` for a clawback acknowledgement.
    pub target: Option<String>,
    pub body: Value,
    /// trackingId (consume), orderId (grant), or a local id for kinds whose
    /// wire call has none.
    pub idempotency_key: String,
    /// One line for the audit log and lists, e.g. "consume 3 × 9NBLGGH4R315".
    pub summary: String,
    /// What the operator should expect, e.g. "balance 12 → 9".
    pub expected_effect: String,
}

impl fmt::Debug for WriteRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteRequest")
            .field("kind", &self.kind)
            .field("customer", &mask::fingerprint(&self.customer_key))
            .field("target", &self.target)
            .field("body", &mask::for_display(&self.body, &self.customer_key))
            .field("idempotency_key", &self.idempotency_key)
            .field("summary", &self.summary)
            .finish()
    }
}

/// Fields of a grant (STORE-API.md §8).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantParams {
    pub product_id: String,
    pub sku_id: String,
    pub availability_id: String,
    pub market: String,
    pub language: String,
    pub quantity: u32,
    pub dev_offer_id: Option<String>,
}

impl WriteRequest {
    /// A consume with a fresh trackingId. `quantity` is for store-managed
    /// consumables; `None` consumes an unmanaged one. Always asks for the
    /// order ids, so a later clawback can be matched to this consume.
    pub fn consume(key: &str, product_id: &str, quantity: Option<u32>, sbx: Option<&str>) -> Self {
        let tracking_id = uuid::Uuid::new_v4().to_string();
        let mut body = json!({
            "beneficiary": {
                "identityType": "b2b",
                "identityValue": key,
                "localTicketReference": "storedesk",
            },
            "productId": product_id,
            "trackingId": tracking_id,
            "includeOrderIds": true,
        });
        if let Some(q) = quantity {
            body["removeQuantity"] = json!(q);
        }
        if let Some(s) = sbx {
            body["sbx"] = json!(s);
        }
        let summary = match quantity {
            Some(q) => format!("consume {q} × {product_id}"),
            None => format!("consume {product_id} (unmanaged)"),
        };
        let expected_effect = match quantity {
            Some(q) => format!("balance of {product_id} goes down by {q}"),
            None => format!("{product_id} is reported fulfilled"),
        };
        Self {
            kind: WriteKind::Consume,
            customer_key: key.to_string(),
            target: None,
            body,
            idempotency_key: tracking_id,
            summary,
            expected_effect,
        }
    }

    /// A grant of a free product with a fresh orderId.
    pub fn grant(key: &str, p: &GrantParams, sbx: Option<&str>) -> Self {
        let order_id = uuid::Uuid::new_v4().to_string();
        let mut body = json!({
            "availabilityId": p.availability_id,
            "b2bKey": key,
            "language": p.language,
            "market": p.market,
            "orderId": order_id,
            "productId": p.product_id,
            "quantity": p.quantity,
            "skuId": p.sku_id,
        });
        if let Some(d) = &p.dev_offer_id {
            body["devOfferId"] = json!(d);
        }
        if let Some(s) = sbx {
            body["sbx"] = json!(s);
        }
        Self {
            kind: WriteKind::Grant,
            customer_key: key.to_string(),
            target: None,
            body,
            idempotency_key: order_id,
            summary: format!("grant {} × {}/{}", p.quantity, p.product_id, p.sku_id),
            expected_effect: format!("customer owns {} (sku {})", p.product_id, p.sku_id),
        }
    }

    /// A subscription change. The wire call has no idempotency key, so the
    /// journal uses a local one; see [`WriteRequest::replay_is_safe`].
    pub fn recurrence_change(
        key: &str,
        recurrence_id: &str,
        change_type: &str,
        extension_days: Option<u32>,
        sbx: Option<&str>,
    ) -> Self {
        let mut body = json!({ "b2bKey": key, "changeType": change_type });
        if let Some(d) = extension_days {
            body["extensionTimeInDays"] = json!(d);
        }
        if let Some(s) = sbx {
            body["sbx"] = json!(s);
        }
        let expected_effect = match (change_type, extension_days) {
            ("Extend", Some(d)) => format!("subscription end moves {d} days later"),
            ("Cancel", _) => "subscription is canceled".to_string(),
            ("Refund", _) => "subscription is refunded and ends".to_string(),
            ("ToggleAutoRenew", _) => "auto-renew is turned off".to_string(),
            _ => format!("subscription change {change_type}"),
        };
        Self {
            kind: WriteKind::RecurrenceChange,
            customer_key: key.to_string(),
            target: Some(recurrence_id.to_string()),
            body,
            idempotency_key: uuid::Uuid::new_v4().to_string(),
            summary: format!("{change_type} subscription {recurrence_id}"),
            expected_effect,
        }
    }

    /// Renew a User Store ID (no Store-side idempotency key needed: a
    /// second renewal just mints another key).
    pub fn renew_key(key: &str) -> Self {
        Self {
            kind: WriteKind::RenewKey,
            customer_key: key.to_string(),
            target: None,
            body: json!({ "key": key }),
            idempotency_key: uuid::Uuid::new_v4().to_string(),
            summary: "renew key".into(),
            expected_effect: "a new key valid for 30 days is returned".into(),
        }
    }

    /// Acknowledge (delete) a received clawback event. Clawback events carry
    /// no user, so there is no customer key; the message id is the
    /// idempotency key (deleting twice cannot remove anything else).
    pub fn clawback_ack(message_id: &str, pop_receipt: &str, order_id: &str) -> Self {
        Self {
            kind: WriteKind::ClawbackAck,
            customer_key: String::new(),
            target: Some(format!("{message_id}/{pop_receipt}")),
            body: json!({ "messageId": message_id, "orderId": order_id }),
            idempotency_key: message_id.to_string(),
            summary: format!("acknowledge clawback event {message_id} (order {order_id})"),
            expected_effect: "the event is removed from the clawback queue".into(),
        }
    }

    /// Claim a targeted offer with the user's MSA token; the offer's
    /// trackingId is the idempotency key.
    pub fn offer_claim(
        msa_token: &str,
        offers: &[String],
        tracking_id: &str,
        receipt: &str,
    ) -> Self {
        Self {
            kind: WriteKind::OfferClaim,
            customer_key: msa_token.to_string(),
            target: None,
            body: json!({
                "storeOffer": { "offers": offers, "trackingId": tracking_id },
                "receipt": receipt,
            }),
            idempotency_key: tracking_id.to_string(),
            summary: format!("claim offer {}", offers.join(",")),
            expected_effect: "the targeted offer is marked claimed".into(),
        }
    }

    /// Replace the generic expected effect with one computed from what the
    /// caller knows (e.g. the current balance: "balance 12 → 9").
    pub fn with_expected_effect(mut self, effect: impl Into<String>) -> Self {
        self.expected_effect = effect.into();
        self
    }

    /// Whether resending this write with the same body can neither apply it
    /// twice nor misreport it. Consume and grant carry a Store-side
    /// idempotency key; a cancel of a canceled subscription answers success;
    /// renewing a key and deleting a queue message are harmless to repeat.
    /// Extend and Refund are not idempotent (a replay could extend twice),
    /// and a replayed ToggleAutoRenew is refused with "already off" even
    /// though the first one worked — so those wait for an operator to check
    /// the subscription and resolve them by hand.
    pub fn replay_is_safe(kind: WriteKind, body: &Value) -> bool {
        match kind {
            WriteKind::RecurrenceChange => {
                body.get("changeType").and_then(Value::as_str) == Some("Cancel")
            }
            _ => true,
        }
    }

    /// What the confirmation dialog shows: nothing here may hold a secret.
    pub fn preview(&self, actor: &Actor) -> WritePreview {
        let masked = mask::for_display(&self.body, &self.customer_key);
        WritePreview {
            environment: actor.environment,
            profile: actor.profile.clone(),
            operator: actor.operator.clone(),
            action: self.kind,
            customer_fingerprint: mask::fingerprint(&self.customer_key),
            target: self.target.clone(),
            idempotency_key: self.idempotency_key.clone(),
            body_pretty: serde_json::to_string_pretty(&masked).unwrap_or_default(),
            body_masked: masked,
            summary: self.summary.clone(),
            expected_effect: self.expected_effect.clone(),
        }
    }
}

/// Everything the confirmation dialog (TUI) or the terminal prompt (CLI)
/// shows. Secret-free by construction.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WritePreview {
    pub environment: Environment,
    pub profile: String,
    pub operator: String,
    pub action: WriteKind,
    pub customer_fingerprint: String,
    pub target: Option<String>,
    pub idempotency_key: String,
    pub body_masked: Value,
    pub body_pretty: String,
    pub summary: String,
    pub expected_effect: String,
}

impl WritePreview {
    /// Plain-text rendering for the terminal prompt.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "[{}] profile {} · operator {}\n{}: {}\ncustomer: key {}\n",
            self.environment,
            self.profile,
            self.operator,
            self.action,
            self.summary,
            self.customer_fingerprint
        );
        if let Some(t) = &self.target {
            s.push_str(&format!("target: {t}\n"));
        }
        s.push_str(&format!(
            "idempotency key: {}\nrequest body:\n{}\nexpected effect: {}\n",
            self.idempotency_key, self.body_pretty, self.expected_effect
        ));
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyMSJ9.c2lnbmF0dXJlLWJ5dGVz";

    fn actor() -> Actor {
        Actor {
            operator: "ana".into(),
            profile: "sandbox".into(),
            environment: Environment::Sandbox,
        }
    }

    #[test]
    fn consume_body_follows_the_contract() {
        let r = WriteRequest::consume(KEY, "9NBLGGH4R315", Some(3), Some("XDKS.1"));
        assert_eq!(r.body["includeOrderIds"], true);
        assert_eq!(r.body["trackingId"], r.idempotency_key.as_str());
        assert_eq!(r.body["removeQuantity"], 3);
        assert_eq!(r.body["beneficiary"]["identityValue"], KEY);
        assert_eq!(r.body["sbx"], "XDKS.1");
        let unmanaged = WriteRequest::consume(KEY, "p", None, None);
        assert!(unmanaged.body.get("removeQuantity").is_none());
        assert!(unmanaged.body.get("sbx").is_none());
        assert_ne!(unmanaged.idempotency_key, r.idempotency_key);
    }

    #[test]
    fn preview_and_debug_hide_the_key() {
        let r = WriteRequest::grant(
            KEY,
            &GrantParams {
                product_id: "P".into(),
                sku_id: "0010".into(),
                availability_id: "A".into(),
                market: "US".into(),
                language: "en-US".into(),
                quantity: 1,
                dev_offer_id: None,
            },
            None,
        );
        let p = r.preview(&actor());
        assert!(!p.to_text().contains(KEY));
        assert!(!serde_json::to_string(&p).unwrap().contains(KEY));
        assert!(p.to_text().contains(&mask::fingerprint(KEY)));
        assert!(p.to_text().contains(&r.idempotency_key));
        assert!(!format!("{r:?}").contains(KEY));
    }

    #[test]
    fn replay_safety_by_change_type() {
        let ext = WriteRequest::recurrence_change(KEY, "mdr:0:x:y", "Extend", Some(5), None);
        assert!(!WriteRequest::replay_is_safe(ext.kind, &ext.body));
        let cancel = WriteRequest::recurrence_change(KEY, "mdr:0:x:y", "Cancel", None, None);
        assert!(WriteRequest::replay_is_safe(cancel.kind, &cancel.body));
        let toggle =
            WriteRequest::recurrence_change(KEY, "mdr:0:x:y", "ToggleAutoRenew", None, None);
        assert!(!WriteRequest::replay_is_safe(toggle.kind, &toggle.body));
        assert!(WriteRequest::replay_is_safe(WriteKind::Consume, &json!({})));
    }
}
