//! The embedded Microsoft Store sandbox: a stateful Store on 127.0.0.1 that
//! behaves as STORE-API.md documents (shapes, status codes, error bodies,
//! limits), so what works against it works against Microsoft.
//!
//! # Public API
//!
//! ```text
//! let sb = storedesk::sandbox::start(SandboxOptions {
//!     data_dir, port: 0, clock: Clock::system(), faults: vec![],
//! }).await?;
//! sb.base_url();            // "http://127.0.0.1:PORT"
//! sb.info.customers[0].collections_key;
//! sb.shutdown().await;
//! storedesk::sandbox::reset(&data_dir)?;   // re-seed, keep the signing key
//! ```
//!
//! # URL layout (base URL `B`, as `Profile::endpoints` derives it)
//!
//! | what | path |
//! |---|---|
//! | Entra token v1 / v2 | `B/login/{tenant}/oauth2/token`, `B/login/{tenant}/oauth2/v2.0/token` |
//! | collections | `B/collections/v9.0/collections/publisherQuery`, `…/v8.0/collections/b2bLicensePreview`, `…/v8.0/collections/consume`, `…/v6.0/b2b/keys/renew` |
//! | purchase | `B/purchase/v8.0/b2b/orders/query`, `…/v8.0/b2b/recurrences/query`, `…/v8.0/b2b/recurrences/{id}/change`, `…/v6.0/purchases/grant`, `…/v6.0/b2b/keys/renew`, `…/v8.0/b2b/clawback/sastoken` |
//! | clawback queue | `B/queue/clawback/messages[/{id}]` (the SAS uri points there) |
//! | targeted offers | `B/devcenter/v2.0/my/storeoffers/user` (bearer: a sandbox key of the user) |
//! | control | `B/_sandbox/{info,faults,reset,keys}` — see `control.rs` |
//!
//! Paths are case-insensitive. Keys carry the documented `iss`/`aud` and
//! `refreshUri` (`https://collections.mp.microsoft.com/v6.0/b2b/keys/renew`…);
//! the client maps a refreshUri's path onto its profile's base URL.

pub mod faults;

mod auth;
mod catalog;
mod collections;
mod control;
mod guard;
mod lock;
pub use guard::SECRET_HEADER as CONTROL_SECRET_HEADER;
mod http;
mod purchase;
mod queue;
mod seed;
mod server;
mod signing;
mod state;
pub mod wire;

pub use auth::KeyKind;
pub use faults::{FaultAction, FaultParseError, FaultSpec};
pub use signing::{PUBLIC_KEY_FILE, public_key_pem};

use crate::clock::Clock;
use chrono::{DateTime, TimeDelta, Utc};
use http::ApiError;
use serde::Serialize;
use state::{Customer, World};
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Tenant id of the sandbox's Entra directory.
pub const TENANT: &str = "5f8c1e2a-7b3d-4e9f-a1c2-d3e4f5a6b7c8";
/// Client (application) id of the sandbox's publisher app.
pub const CLIENT_ID: &str = "8e6a9b2c-3d4f-4a5b-9c6d-7e8f9a0b1c2d";

/// Collections calls allowed per customer per window (STORE-API §0).
pub const RATE_LIMIT: usize = 100;
pub const RATE_WINDOW: Duration = Duration::from_secs(300);

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("sandbox data {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Bind {
        port: u16,
        #[source]
        source: std::io::Error,
    },
    #[error("sandbox signing key: {0}")]
    Key(String),
    #[error("sandbox seed data: {0}")]
    Seed(String),
    #[error("sandbox state: {0}")]
    State(String),
    #[error(
        "the sandbox state in {dir} is in use by another storedesk ({holder}): two writers would lose each other's changes; close that one, or start this one with another --data-dir"
    )]
    Busy { dir: PathBuf, holder: String },
}

impl SandboxError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

pub struct SandboxOptions {
    /// State and the signing key live here (created if missing).
    pub data_dir: PathBuf,
    /// 0 picks a free port.
    pub port: u16,
    pub clock: Clock,
    pub faults: Vec<FaultSpec>,
}

/// What a client needs to talk to the sandbox.
#[derive(Clone, Serialize)]
pub struct SandboxInfo {
    pub base_url: String,
    pub tenant: String,
    pub client_id: String,
    pub client_secret: String,
    /// What the control API (`/_sandbox/*`) asks for in
    /// [`CONTROL_SECRET_HEADER`]: not the client secret, so a client of the
    /// Store API cannot reset or mint.
    pub control_secret: String,
    pub public_key_pem: String,
    pub customers: Vec<DemoCustomer>,
}

impl SandboxInfo {
    /// Client settings for this sandbox, as its own app: every service URL
    /// under the base URL, its tenant, client id and secret.
    pub fn client_config(&self) -> crate::store::ClientConfig {
        let mut endpoints =
            crate::config::Profile::builtin_sandbox().endpoints(Some(&self.base_url));
        endpoints.tenant = self.tenant.clone();
        crate::store::ClientConfig::new(
            endpoints,
            self.client_id.clone(),
            crate::config::Secret::new(self.client_secret.clone()),
        )
    }
}

impl fmt::Debug for SandboxInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxInfo")
            .field("base_url", &self.base_url)
            .field("tenant", &self.tenant)
            .field("client_id", &self.client_id)
            .field("client_secret", &"***")
            .field("control_secret", &"***")
            .field("customers", &self.customers.len())
            .finish()
    }
}

/// A free catalog product a grant can give, with what the grant call needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GrantableProduct {
    pub product_id: String,
    pub sku_id: String,
    pub availability_id: String,
    pub title: String,
    pub kind: String,
}

#[derive(Clone, PartialEq, Serialize)]
pub struct DemoCustomer {
    pub name: String,
    pub user_id: String,
    pub about: String,
    pub collections_key: String,
    pub purchase_key: String,
}

// The keys are credentials even in a sandbox: Debug names, never shows them.
impl fmt::Debug for DemoCustomer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DemoCustomer")
            .field("name", &self.name)
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

/// A running sandbox. Dropping it stops the server too (without waiting).
pub struct Sandbox {
    pub info: SandboxInfo,
    app: Arc<App>,
    server: server::ServerHandle,
    /// Held while this sandbox runs: one writer per sandbox state.
    _lock: std::fs::File,
}

impl Sandbox {
    pub fn base_url(&self) -> &str {
        &self.info.base_url
    }

    /// Add a fault at run time (same as `POST B/_sandbox/faults`).
    pub fn add_fault(&self, spec: FaultSpec) {
        self.app.faults.add(spec);
    }

    pub fn clear_faults(&self) {
        self.app.faults.clear();
    }

    /// Show a misconfiguration (same as `POST B/_sandbox/quirks`).
    pub fn set_quirks(&self, q: Quirks) {
        self.app.set_quirks(q);
    }

    /// The catalog's products a grant can give: free, and of a kind the
    /// grant call takes (Durable, Application, UnmanagedConsumable).
    pub fn grantable_products(&self) -> Vec<GrantableProduct> {
        let world = self.app.world();
        world
            .catalog
            .iter()
            .filter(|p| p.price == 0.0 && !p.availability_id.is_empty())
            .filter(|p| {
                ["Durable", "Application", "UnmanagedConsumable"]
                    .iter()
                    .any(|k| p.kind.eq_ignore_ascii_case(k))
            })
            .map(|p| GrantableProduct {
                product_id: p.product_id.clone(),
                sku_id: p.sku_id.clone(),
                availability_id: p.availability_id.clone(),
                title: p.title.clone(),
                kind: p.kind.clone(),
            })
            .collect()
    }

    /// Every product id the sandbox knows — its catalog and every product a
    /// demo customer owns (the whale's hundred products are not in the
    /// catalog file) — in first-seen order: the embedded profile's product
    /// list, as a publisher's profile lists its own catalog.
    pub fn product_ids(&self) -> Vec<String> {
        let world = self.app.world();
        let mut seen = std::collections::HashSet::new();
        world
            .catalog
            .iter()
            .map(|p| p.product_id.as_str())
            .chain(
                world
                    .customers
                    .iter()
                    .flat_map(|c| c.ents.iter().map(|e| e.item.product_id.as_str())),
            )
            .filter(|id| seen.insert(id.to_ascii_uppercase()))
            .map(String::from)
            .collect()
    }

    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}

/// Shared state of the running server.
pub(crate) struct App {
    pub clock: Clock,
    started: Instant,
    pub base_url: String,
    pub tenant: String,
    pub client_id: String,
    pub client_secret: String,
    /// The control API's secret and the port its `Host` must name.
    pub control_secret: String,
    pub port: u16,
    pub signer: signing::Signer,
    world: Mutex<World>,
    pub store: state::Store,
    pub faults: faults::Faults,
    limiter: Mutex<HashMap<String, VecDeque<Instant>>>,
    /// Off only through `POST _sandbox/ratelimit` (benchmarks).
    pub rate_limit_on: std::sync::atomic::AtomicBool,
    pub token_cache: Mutex<HashMap<String, auth::ServiceClaims>>,
    pub key_cache: Mutex<HashMap<String, crate::store::model::KeyClaims>>,
    demo: Mutex<Vec<DemoCustomer>>,
    quirks: Mutex<Quirks>,
    /// Quirks customers that already got their one 429 without Retry-After.
    quirk_429_sent: Mutex<std::collections::HashSet<String>>,
}

/// Misconfigurations the sandbox can be told to show, so `storedesk doctor`
/// has something real to find (set with `POST _sandbox/quirks`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Quirks {
    /// Seconds added to the `Date` header of every answer (a server clock
    /// that is off, seen from the client: the client's clock is off).
    #[serde(default)]
    pub date_skew_secs: i64,
    /// Service tokens carry this `aud` whatever was asked for.
    #[serde(default)]
    pub token_audience: Option<String>,
    /// The login endpoint speaks only this style: asked the other way, it
    /// answers as Entra does to a request missing `resource` / `scope`.
    #[serde(default)]
    pub token_style: Option<crate::store::TokenStyle>,
}

impl App {
    pub fn quirks(&self) -> Quirks {
        self.quirks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn set_quirks(&self, q: Quirks) {
        *self.quirks.lock().unwrap_or_else(|p| p.into_inner()) = q;
    }

    /// How answers to this customer are written: a customer seeded with
    /// `"quirks": true` gets the documented odd forms.
    pub fn style_of(&self, customer: &str) -> wire::Style {
        wire::Style {
            quirks: self
                .world()
                .customers
                .iter()
                .any(|c| c.name == customer && c.quirks),
        }
    }

    /// True the first time in this run (or since a reset) for `customer`.
    pub fn first_quirk_429(&self, customer: &str) -> bool {
        self.quirk_429_sent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(customer.to_string())
    }

    pub fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Time for queue visibility: with a pinned clock it still moves, from
    /// the pinned instant, so visibility timeouts run out.
    pub fn queue_now(&self) -> DateTime<Utc> {
        let now = self.clock.now();
        if self.clock.is_fixed() {
            now + TimeDelta::from_std(self.started.elapsed()).unwrap_or_default()
        } else {
            now
        }
    }

    /// 100 collections calls per 5 minutes per customer; real time, so a
    /// pinned clock does not freeze the window.
    pub fn rate_check(&self, customer: &str) -> Result<(), ApiError> {
        if !self
            .rate_limit_on
            .load(std::sync::atomic::Ordering::Relaxed)
        {
            return Ok(());
        }
        let now = Instant::now();
        let mut map = self.limiter.lock().unwrap_or_else(|p| p.into_inner());
        let q = map.entry(customer.to_owned()).or_default();
        while q
            .front()
            .is_some_and(|t| now.duration_since(*t) >= RATE_WINDOW)
        {
            q.pop_front();
        }
        if q.len() >= RATE_LIMIT {
            let oldest = q.front().copied().unwrap_or(now);
            let wait = RATE_WINDOW.saturating_sub(now.duration_since(oldest));
            let mut e = ApiError::new(
                axum::http::StatusCode::TOO_MANY_REQUESTS,
                crate::store::model::codes::TOO_MANY_REQUESTS,
                crate::store::model::codes::TOO_MANY_REQUESTS,
                format!("Rate limit: {RATE_LIMIT} collections requests per 5 minutes per user."),
            );
            e.retry_after = Some(wait.as_secs().max(1));
            return Err(e);
        }
        q.push_back(now);
        Ok(())
    }

    /// Change one customer: the change is made on a copy, saved atomically,
    /// and only then becomes visible — a failed save changes nothing.
    pub fn write_customer<T: Serialize>(
        &self,
        name: &str,
        f: impl FnOnce(&mut Customer) -> Result<T, ApiError>,
    ) -> http::ApiResult {
        let mut world = self.world();
        let i = world
            .customer_index(name)
            .ok_or_else(|| ApiError::not_found("unknown user"))?;
        let mut copy = world.customers[i].clone();
        let out = f(&mut copy)?;
        self.store.save_customer(&copy)?;
        world.customers[i] = copy;
        drop(world);
        http::ok(&out)
    }

    /// Throw state away and lay the seed down again, now.
    pub fn reseed(&self) -> Result<(), SandboxError> {
        let now = self.clock.now();
        let fresh = seed::build(now)?;
        let mut world = self.world();
        self.store.wipe()?;
        self.store.write_meta(now)?;
        *world = fresh;
        drop(world);
        self.limiter
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        self.quirk_429_sent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        Ok(())
    }

    fn public_info(&self) -> serde_json::Value {
        serde_json::json!({
            "base_url": self.base_url,
            "tenant": self.tenant,
            "client_id": self.client_id,
            "customers": *self.demo.lock().unwrap_or_else(|p| p.into_inner()),
        })
    }
}

impl World {
    pub(crate) fn customer(&self, name: &str) -> Result<&Customer, ApiError> {
        self.customers
            .iter()
            .find(|c| c.name == name)
            .ok_or_else(|| ApiError::not_found("unknown user"))
    }
}

/// Start a sandbox on 127.0.0.1. Fast after the first run: the signing key
/// is loaded, not generated, and the whale is built in memory.
pub async fn start(opts: SandboxOptions) -> Result<Sandbox, SandboxError> {
    std::fs::create_dir_all(&opts.data_dir).map_err(|e| SandboxError::io(&opts.data_dir, e))?;
    let mut lock = lock::acquire(&opts.data_dir)?;
    let signer = signing::Signer::load_or_create(&opts.data_dir)?;
    let store = state::Store::new(&opts.data_dir);
    let seeded_at = store.seeded_at(opts.clock.now())?;
    let mut world = seed::build(seeded_at)?;
    store.overlay(&mut world)?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", opts.port))
        .await
        .map_err(|source| SandboxError::Bind {
            port: opts.port,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| SandboxError::Bind {
        port: opts.port,
        source,
    })?;
    let base_url = format!("http://127.0.0.1:{}", addr.port());
    let client_secret = signer.derive("client-secret");
    let control_secret = signer.derive("control-secret");
    let public_key_pem = signer.public_pem.clone();
    let app = Arc::new(App {
        clock: opts.clock.clone(),
        started: Instant::now(),
        base_url: base_url.clone(),
        tenant: TENANT.into(),
        client_id: CLIENT_ID.into(),
        client_secret: client_secret.clone(),
        control_secret: control_secret.clone(),
        port: addr.port(),
        signer,
        world: Mutex::new(world),
        store,
        faults: faults::Faults::new(opts.faults),
        limiter: Mutex::new(HashMap::new()),
        rate_limit_on: std::sync::atomic::AtomicBool::new(true),
        token_cache: Mutex::new(HashMap::new()),
        key_cache: Mutex::new(HashMap::new()),
        demo: Mutex::new(Vec::new()),
        quirks: Mutex::new(Quirks::default()),
        quirk_429_sent: Mutex::new(Default::default()),
    });
    let customers = demo_customers(&app)?;
    *app.demo.lock().unwrap_or_else(|p| p.into_inner()) = customers.clone();
    let router = axum::Router::new()
        .fallback(http::dispatch)
        .with_state(app.clone());
    let server = server::serve(listener, router);
    lock::say_holder(&mut lock, &base_url);
    tracing::info!(%base_url, "sandbox listening");
    Ok(Sandbox {
        info: SandboxInfo {
            base_url,
            tenant: TENANT.into(),
            client_id: CLIENT_ID.into(),
            client_secret,
            control_secret,
            public_key_pem,
            customers,
        },
        app,
        server,
        _lock: lock,
    })
}

/// Keys for every demo customer, issued relative to the clock.
fn demo_customers(app: &App) -> Result<Vec<DemoCustomer>, SandboxError> {
    let now = app.clock.now();
    let list: Vec<(String, String, String, i64)> = app
        .world()
        .customers
        .iter()
        .map(|c| {
            (
                c.name.clone(),
                c.user_id.clone(),
                c.about.clone(),
                c.key_issued_days_ago,
            )
        })
        .collect();
    let mut out = Vec::with_capacity(list.len());
    for (name, user_id, about, days) in list {
        let issued = now - TimeDelta::days(days);
        out.push(DemoCustomer {
            collections_key: auth::mint_key(
                app,
                &name,
                &user_id,
                KeyKind::Collections,
                issued,
                &app.client_id,
            )?,
            purchase_key: auth::mint_key(
                app,
                &name,
                &user_id,
                KeyKind::Purchase,
                issued,
                &app.client_id,
            )?,
            name,
            user_id,
            about,
        });
    }
    Ok(out)
}

/// Throw away saved state so the next start re-seeds; the signing key stays.
pub fn reset(data_dir: &Path) -> Result<(), SandboxError> {
    state::Store::new(data_dir).wipe()
}
