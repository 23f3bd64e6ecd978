//! The Store client: one client for the embedded sandbox and for Microsoft.
//! It knows nothing about the UI.

pub mod auth;
pub mod budget;
pub mod clawback;
pub mod client;
pub mod collections;
pub mod entra;
pub mod error;
pub mod keyinfo;
pub mod model;
pub mod offers;
pub mod orders_cache;
pub mod paging;
pub mod proxy;
pub mod purchase;
pub mod retry;
pub mod titles;

pub use auth::ServiceToken;
pub use budget::CallBudget;
pub use clawback::QueueEvent;
pub use client::{ClientConfig, ClientStats, StoreClient};
pub use collections::QueryOptions;
pub use error::{CallMeta, CorrelationIds, ErrorInfo, ErrorKind, Response, StoreError};
pub use paging::{PageEvent, PageProgress, PagingSummary};
pub use retry::{RetryPolicy, WaitObserver, WaitReason};

/// Where product titles come from for a retail profile (public, no auth).
pub const DISPLAY_CATALOG: &str = "https://displaycatalog.mp.microsoft.com";

/// Where each Store service lives. Every URL comes from the profile, so the
/// same client runs against the sandbox, Microsoft, or a proxy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoints {
    /// Entra ID authority, e.g. `https://login.microsoftonline.com`; the
    /// tenant and `/oauth2/token` (v1) or `/oauth2/v2.0/token` (v2) are appended.
    pub login: String,
    /// e.g. `https://collections.mp.microsoft.com`
    pub collections: String,
    /// e.g. `https://purchase.mp.microsoft.com`
    pub purchase: String,
    /// e.g. `https://manage.devcenter.microsoft.com`
    pub devcenter: String,
    /// The public display catalog (product titles by id), e.g.
    /// `https://displaycatalog.mp.microsoft.com`; no credentials needed.
    pub catalog: String,
    pub tenant: String,
    pub token_style: TokenStyle,
}

/// Which form of the Entra client-credential endpoint to call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenStyle {
    /// `/oauth2/token` with `resource=<audience>`
    #[default]
    V1,
    /// `/oauth2/v2.0/token` with `scope=<audience>/.default`
    V2,
}

/// The three Entra audiences of STORE-API.md §1.
pub mod audience {
    pub const STORE: &str = "https://onestore.microsoft.com";
    pub const COLLECTIONS_KEY: &str = "https://onestore.microsoft.com/b2b/keys/create/collections";
    pub const PURCHASE_KEY: &str = "https://onestore.microsoft.com/b2b/keys/create/purchase";
}
