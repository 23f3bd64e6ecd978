//! The console's case: the one owner of what was read for the customer on
//! screen. The panes are views over it — they keep a cursor, a filter, an
//! open form — and start or settle its reads through [`Read`]; the Timeline
//! and the case file are built from its [`LiveCase::snapshot`].

use super::clawbacks::Peeked;
use super::read::{Load, Read};
use super::{Case, FailedCall, Part};
use crate::journal::AuditEntry;
use crate::store::model::{Order, Recurrence};
use std::collections::BTreeMap;

/// Product titles by upper-cased product id: one cache for every list.
pub type Titles = BTreeMap<String, String>;

/// Everything the console has read for one customer.
#[derive(Debug, Default)]
pub struct LiveCase {
    collections_key: Option<String>,
    purchase_key: Option<String>,
    pub orders: Read<Vec<Order>>,
    /// The orders shown are an earlier read kept in the data dir (the
    /// docs ask for one orders query a day per customer).
    pub orders_from_cache: bool,
    pub subscriptions: Read<Vec<Recurrence>>,
    /// The queue belongs to the app, not to a customer: peeked once and
    /// kept across customers (the matches are the customer's).
    pub clawbacks: Read<Peeked>,
    /// This data dir's audit entries for the case's keys.
    pub audit: Read<Vec<AuditEntry>>,
    audit_fps: Vec<String>,
    pub titles: Titles,
    /// The entitlements listing (collections key).
    pub listing: super::listing::Listing,
}

impl LiveCase {
    pub fn collections_key(&self) -> Option<&str> {
        self.collections_key.as_deref()
    }

    pub fn purchase_key(&self) -> Option<&str> {
        self.purchase_key.as_deref()
    }

    /// The fingerprints of the case's keys (how the journal names the
    /// customer).
    pub fn fingerprints(&self) -> &[String] {
        &self.audit_fps
    }

    /// Follow the keys the Key pane holds. A key of another customer drops
    /// what was read with the old one; storedesk's own renewal keeps it.
    pub fn follow_keys(
        &mut self,
        collections: Option<&str>,
        purchase: Option<&str>,
        connected: bool,
    ) {
        self.collections_key = collections.map(String::from);
        self.purchase_key = purchase.map(String::from);
        self.orders.follow(purchase, connected);
        self.subscriptions.follow(purchase, connected);
        self.clawbacks.set_connected(connected);
        let fps: Vec<String> = [collections, purchase]
            .into_iter()
            .flatten()
            .map(crate::keys::fingerprint)
            .collect();
        self.audit.set_connected(true);
        if fps != self.audit_fps {
            self.audit_fps = fps;
            self.audit.drop_data();
        }
    }

    /// The case as a plain [`Case`] (what the Timeline and the case file
    /// are pure functions of).
    pub fn snapshot(&self) -> Case {
        let mut case = Case::new(self.collections_key.clone(), self.purchase_key.clone());
        case.entitlements = self.listing.part(self.collections_key.as_deref());
        case.orders = self.orders.load.to_part("not read yet (open 3)", "see 3");
        case.subscriptions = self
            .subscriptions
            .load
            .to_part("not read yet (open 4)", "see 4");
        case.clawbacks = self
            .clawbacks
            .load
            .to_part("queue not peeked yet (open 5)", "see 5");
        case.audit = match &self.audit.load {
            Load::Idle => Part::NotRead("not read yet".into()),
            Load::Loading { .. } => Part::Reading(None),
            Load::Failed(f) => Part::Failed {
                why: f.message.clone(),
                partial: None,
            },
            Load::Loaded { data, .. } => Part::Read(data.clone()),
        };
        // The failed reads, with the ids Microsoft support traces them by.
        case.failed_calls = [
            self.orders.load.failed_call("orders"),
            self.subscriptions.load.failed_call("subscriptions"),
            self.clawbacks.load.failed_call("clawback queue"),
        ]
        .into_iter()
        .flatten()
        .collect();
        if let Part::Failed { why, .. } = &case.entitlements {
            // The listing keeps only its message (its ids are in it, if any).
            case.failed_calls.insert(
                0,
                FailedCall {
                    what: "entitlements".into(),
                    message: why.clone(),
                    correlation_ids: Vec::new(),
                },
            );
        }
        case
    }
}
