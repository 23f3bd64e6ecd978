//! The case's entitlements listing: the compact browse data as it pages
//! in, the query that lists it, and the state of the fetch. The
//! Entitlements pane is a view of it (filters, sort, cursor, forms).

use crate::browse::Dataset;
use crate::store::PageProgress;

/// Which query lists the entitlements, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QueryMode {
    /// v9 PublisherQuery over the profile's product ids, chunked by 100.
    /// `source` says where the product ids came from.
    V9 {
        products: usize,
        chunks: usize,
        source: String,
    },
    /// v8 b2bLicensePreview; the reason says why not v9.
    V8 { reason: String },
}

impl QueryMode {
    pub fn describe(&self) -> String {
        match self {
            QueryMode::V9 {
                products,
                chunks,
                source,
            } => format!(
                "v9 PublisherQuery · {products} product id(s) of {source} in {chunks} chunk(s) of ≤100"
            ),
            QueryMode::V8 { reason } => format!("v8 b2bLicensePreview · {reason}"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FetchState {
    Idle,
    Running {
        fetch_id: u64,
        progress: PageProgress,
        /// Seconds left and why, while the client waits.
        waiting: Option<(u64, String)>,
    },
    Done(PageProgress),
    Cancelled(PageProgress),
    Failed(PageProgress, String),
}

/// One customer's listing, whole or as far as it got.
#[derive(Debug)]
pub struct Listing {
    pub data: Dataset,
    pub fetch: FetchState,
    pub mode: Option<QueryMode>,
    /// While `r` lists again: the listing it replaces, given back if the
    /// new one fails or is cancelled (a failed refresh never leaves less).
    pub previous: Option<(Dataset, FetchState, Option<QueryMode>)>,
    /// The collections key the data belongs to (or is being fetched for).
    pub fetched_key: Option<String>,
    pub next_fetch_id: u64,
    /// Moves whenever the data or the fetch state changes (the Timeline
    /// rebuilds on it).
    pub generation: u64,
}

impl Default for Listing {
    fn default() -> Self {
        Self {
            data: Dataset::new(),
            fetch: FetchState::Idle,
            mode: None,
            previous: None,
            fetched_key: None,
            next_fetch_id: 1,
            generation: 0,
        }
    }
}

impl Listing {
    pub fn is_fetching(&self) -> bool {
        matches!(self.fetch, FetchState::Running { .. })
    }

    pub fn key_fingerprint(&self) -> Option<String> {
        self.fetched_key.as_deref().map(crate::keys::fingerprint)
    }

    /// Forget the listing (the case was cleared); fetch ids keep counting
    /// so a late answer of the old fetch is never taken for a new one.
    pub fn clear(&mut self) {
        *self = Self {
            next_fetch_id: self.next_fetch_id,
            generation: self.generation + 1,
            ..Self::default()
        };
    }

    /// The listing as a part of the case of collections key `key`.
    pub fn part(&self, key: Option<&str>) -> super::Part<Dataset> {
        use super::Part;
        let Some(key) = key else {
            return Part::NotRead("no collections key".into());
        };
        if self.key_fingerprint().as_deref() != Some(crate::keys::fingerprint(key).as_str()) {
            return Part::NotRead("not listed yet (open 2)".into());
        }
        let d = Some(self.data.clone());
        match &self.fetch {
            FetchState::Running { .. } => Part::Reading(d),
            FetchState::Failed(_, why) => Part::Failed {
                why: why.clone(),
                partial: d,
            },
            FetchState::Cancelled(_) => Part::Cancelled(d),
            FetchState::Idle | FetchState::Done(_) => Part::Read(self.data.clone()),
        }
    }
}
