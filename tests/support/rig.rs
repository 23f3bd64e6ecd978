//! The in-process write rig: the embedded sandbox on loopback, a Store
//! client with a short timeout (so "hang after applying" becomes a
//! timeout quickly), a real journal file, an actor. Shared by once.rs and
//! writes.rs; each adds its own assertions in its own `impl Rig` block.

#![allow(dead_code)]

use std::time::Duration;
use storedesk::clock::Clock;
use storedesk::config::Environment;
use storedesk::journal::{
    self, Actor, AuditFilter, Journal, ReplayStatus, WriteOutcome, WriteRequest,
};
use storedesk::sandbox::{FaultSpec, Sandbox, SandboxOptions};
use storedesk::store::StoreClient;
use storedesk::store::model::{
    Beneficiary, Entitlement, ProductSkuId, PublisherQueryRequest, Recurrence,
    RecurrencesQueryRequest,
};

pub const COINS: &str = "9NSDCOIN0500"; // cora has 25

pub struct Rig {
    pub dir: tempfile::TempDir,
    pub sandbox: Sandbox,
    pub client: StoreClient,
    pub journal: Journal,
    pub actor: Actor,
}

/// `route:action` as a fault list (none for `None`).
pub fn fault(route: &str, action: Option<&str>) -> Vec<FaultSpec> {
    action
        .map(|a| vec![format!("{route}:{a}").parse().unwrap()])
        .unwrap_or_default()
}

impl Rig {
    pub async fn start(faults: Vec<FaultSpec>) -> Rig {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().unwrap();
        let sandbox = storedesk::sandbox::start(SandboxOptions {
            data_dir: dir.path().join("sandbox"),
            port: 0,
            clock: Clock::system(),
            faults,
        })
        .await
        .unwrap();
        let mut cfg = sandbox.info.client_config();
        cfg.timeout = Duration::from_secs(2);
        let client = StoreClient::new(cfg).unwrap();
        let journal = Journal::open(&dir.path().join("journal.sqlite")).unwrap();
        Rig {
            dir,
            sandbox,
            client,
            journal,
            actor: Actor {
                operator: "qa-bot".into(),
                profile: "sandbox".into(),
                environment: Environment::Sandbox,
            },
        }
    }

    /// [`Rig::start`] with faults written as on the command line.
    pub async fn start_with(faults: &[&str]) -> Rig {
        Rig::start(faults.iter().map(|f| f.parse().unwrap()).collect()).await
    }

    /// Post one more fault to the running sandbox.
    pub fn fault(&self, spec: &str) {
        self.sandbox.add_fault(spec.parse::<FaultSpec>().unwrap());
    }

    /// A demo customer's (collections key, purchase key).
    pub fn customer(&self, name: &str) -> (String, String) {
        let c = self.sandbox.info.customers.iter().find(|c| c.name == name);
        let c = c.unwrap();
        (c.collections_key.clone(), c.purchase_key.clone())
    }

    /// A demo customer's collections key.
    pub fn key(&self, name: &str) -> String {
        self.customer(name).0
    }

    pub async fn items(&self, key: &str, product: &str) -> Vec<Entitlement> {
        let req = PublisherQueryRequest {
            beneficiaries: vec![Beneficiary::b2b(key)],
            product_sku_ids: Some(vec![ProductSkuId {
                product_id: product.into(),
                sku_id: None,
            }]),
            ..Default::default()
        };
        self.client
            .publisher_query_page(&req)
            .await
            .unwrap()
            .value
            .items
    }

    /// The customer's balance of [`COINS`].
    pub async fn balance(&self, key: &str) -> i64 {
        let items = self.items(key, COINS).await;
        assert_eq!(items.len(), 1);
        items[0].quantity.unwrap()
    }

    /// The customer's first subscription.
    pub async fn recurrence(&self, purchase_key: &str) -> Recurrence {
        let req = RecurrencesQueryRequest {
            b2b_key: purchase_key.into(),
            sbx: None,
            continuation_token: None,
        };
        let page = self.client.recurrences_page(&req).await.unwrap().value;
        page.items.into_iter().next().unwrap()
    }

    pub async fn execute(&self, req: &WriteRequest) -> WriteOutcome {
        journal::execute(&self.journal, &self.client, req, &self.actor)
            .await
            .unwrap()
    }

    /// Replay everything pending; the one report's outcome.
    pub async fn replay(&self) -> WriteOutcome {
        let mut reports = journal::replay_pending(&self.journal, &self.client, &self.actor)
            .await
            .unwrap();
        assert_eq!(reports.len(), 1, "{reports:?}");
        match reports.remove(0).status {
            ReplayStatus::Replayed { outcome } => outcome,
            other => panic!("{other:?}"),
        }
    }

    /// The audit events of write `id`, in order.
    pub fn events(&self, id: i64) -> Vec<String> {
        events_of(&self.journal, id)
    }
}

/// The audit events of write `id` in `journal`, in order.
pub fn events_of(journal: &Journal, id: i64) -> Vec<String> {
    journal
        .audit(&AuditFilter {
            write_id: Some(id),
            ..Default::default()
        })
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .collect()
}
