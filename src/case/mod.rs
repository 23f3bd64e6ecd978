//! One customer's case, outside any UI: the case's keys, what was read of
//! them (entitlements, orders, subscriptions, clawback events with their
//! matches, the audit entries of its keys) and the calls that failed.
//! The console assembles one from what its panes read; headless commands
//! fill one with [`load::load`]. Derived views (the
//! [`timeline`], the [`file`]) are pure functions of a `Case`.
//!
//! A case is one customer: it is identified by its keys' fingerprints,
//! never by a `userId` claim (publisherUserId may be empty or shared).

pub mod clawbacks;
pub mod empty;
pub mod file;
pub mod listing;
pub mod live;
pub mod load;
pub mod read;
pub mod timeline;
pub mod titles;

use crate::browse::Dataset;
use crate::journal::AuditEntry;
use crate::store::model::{Order, Recurrence, RecurrenceState};
use chrono::{DateTime, Utc};

/// Whether the Store says Active while the expiration time has passed
/// (the state can lag behind, says the spec).
pub fn lapsed(r: &Recurrence, now: DateTime<Utc>) -> bool {
    r.recurrence_state == Some(RecurrenceState::Active)
        && r.expiration_time.as_ref().is_some_and(|t| t.0 <= now)
}

/// Where one part of a case stands. A part that stopped early keeps what
/// it got, so a partial listing is never mistaken for a whole one.
#[derive(Clone, Debug, PartialEq)]
pub enum Part<T> {
    /// Not read (yet): the reason, in words a person can act on.
    NotRead(String),
    Reading(Option<T>),
    Read(T),
    Failed {
        why: String,
        partial: Option<T>,
    },
    Cancelled(Option<T>),
}

impl<T> Default for Part<T> {
    fn default() -> Self {
        Part::NotRead("not read yet".into())
    }
}

impl<T> Part<T> {
    /// What was read, whole or partial.
    pub fn data(&self) -> Option<&T> {
        match self {
            Part::Read(d) => Some(d),
            Part::Reading(d) | Part::Cancelled(d) | Part::Failed { partial: d, .. } => d.as_ref(),
            Part::NotRead(_) => None,
        }
    }

    /// Read to the end.
    pub fn is_complete(&self) -> bool {
        matches!(self, Part::Read(_))
    }
}

/// A Store call that failed, with what Microsoft support needs to trace it.
#[derive(Clone, Debug, PartialEq)]
pub struct FailedCall {
    pub what: String,
    pub message: String,
    pub correlation_ids: Vec<(String, String)>,
}

/// Everything known about one customer.
#[derive(Clone, Debug, Default)]
pub struct Case {
    pub collections_key: Option<String>,
    pub purchase_key: Option<String>,
    /// The compact browse data of the listing.
    pub entitlements: Part<Dataset>,
    pub orders: Part<Vec<Order>>,
    pub subscriptions: Part<Vec<Recurrence>>,
    pub clawbacks: Part<clawbacks::Peeked>,
    /// This data dir's audit entries for the case's keys.
    pub audit: Part<Vec<AuditEntry>>,
    pub failed_calls: Vec<FailedCall>,
}

impl Case {
    pub fn new(collections_key: Option<String>, purchase_key: Option<String>) -> Self {
        Self {
            collections_key,
            purchase_key,
            ..Self::default()
        }
    }

    /// The fingerprints of the case's keys: how the journal and the audit
    /// log name this customer.
    pub fn fingerprints(&self) -> Vec<String> {
        [&self.collections_key, &self.purchase_key]
            .into_iter()
            .flatten()
            .map(|k| crate::keys::fingerprint(k))
            .collect()
    }

    /// The customer's orders, when read.
    pub fn orders(&self) -> &[Order] {
        self.orders.data().map_or(&[], Vec::as_slice)
    }
}
