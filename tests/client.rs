//! The Store client against the embedded sandbox, over real loopback HTTP:
//! every endpoint and its errors, tokens, paging, retries, budget, caps.

use std::sync::{Arc, Mutex};
use std::time::Duration;
use storedesk::clock::Clock;
use storedesk::config::{Profile, Secret};
use storedesk::sandbox::{self, DemoCustomer, Sandbox, SandboxOptions};
use storedesk::store::model::{
    Beneficiary, ChangeType, ClaimOfferRequest, ConsumeRequest, EntitlementStatus, GrantRequest,
    LineItemState, ProductSkuId, PublisherQueryRequest, RecurrenceChangeRequest, RecurrenceState,
};
use storedesk::store::{
    ClientConfig, ErrorKind, QueryOptions, RetryPolicy, StoreClient, StoreError, TokenStyle,
    WaitReason, audience,
};
use tokio_util::sync::CancellationToken;

struct Env {
    sb: Sandbox,
    _dir: tempfile::TempDir,
}

impl Env {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let sb = sandbox::start(SandboxOptions {
            data_dir: dir.path().join("sandbox"),
            port: 0,
            clock: Clock::system(),
            faults: vec![],
        })
        .await
        .unwrap();
        Self { sb, _dir: dir }
    }

    fn config(&self) -> ClientConfig {
        let info = &self.sb.info;
        let mut endpoints = Profile::builtin_sandbox().endpoints(Some(&info.base_url));
        endpoints.tenant = info.tenant.clone();
        let mut cfg = ClientConfig::new(
            endpoints,
            &info.client_id,
            Secret::new(info.client_secret.clone()),
        );
        cfg.timeout = Duration::from_secs(10);
        cfg.retry = RetryPolicy {
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(100),
            ..RetryPolicy::default()
        };
        cfg
    }

    fn client(&self) -> StoreClient {
        StoreClient::new(self.config()).unwrap()
    }

    fn customer(&self, name: &str) -> &DemoCustomer {
        self.sb
            .info
            .customers
            .iter()
            .find(|c| c.name == name)
            .unwrap()
    }

    fn fault(&self, spec: &str) {
        self.sb.add_fault(spec.parse().unwrap());
    }

    /// Mint a key through the sandbox's control endpoint.
    async fn mint(&self, customer: &str, kind: &str, extra: serde_json::Value) -> String {
        let mut body = serde_json::json!({"customer": customer, "kind": kind});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        let resp = reqwest::Client::new()
            .post(format!("{}/_sandbox/keys", self.sb.info.base_url))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "mint: {}", resp.status());
        let v: serde_json::Value = resp.json().await.unwrap();
        v["key"].as_str().unwrap().to_string()
    }
}

/// One wait the client reported: how long, why, which call.
type Wait = (Duration, WaitReason, &'static str);

fn whale_products() -> Vec<String> {
    (0..100).map(|i| format!("9WHALE{i:04}")).collect()
}

fn v9(key: &str, products: &[&str]) -> PublisherQueryRequest {
    PublisherQueryRequest {
        beneficiaries: vec![Beneficiary::b2b(key)],
        product_sku_ids: Some(
            products
                .iter()
                .map(|p| ProductSkuId {
                    product_id: p.to_string(),
                    sku_id: None,
                })
                .collect(),
        ),
        ..Default::default()
    }
}

fn guid() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn no_secrets(e: &StoreError, env: &Env) {
    let s = format!("{e} {e:?}");
    assert!(
        !s.contains(&env.sb.info.client_secret),
        "secret leaked: {s}"
    );
    for c in &env.sb.info.customers {
        assert!(
            !s.contains(&c.collections_key) && !s.contains(&c.purchase_key),
            "key leaked: {s}"
        );
    }
}

// ---------------------------------------------------------------- tokens

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_token_request_for_many_calls_and_concurrent_callers_share_it() {
    let env = Env::start().await;
    let c = env.client();
    let ada = env.customer("ada");
    // Eight callers at once: one fetch in flight, all share it.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            c.service_token(audience::STORE).await.unwrap()
        }));
    }
    for t in tasks {
        let tok = t.await.unwrap();
        assert!(!format!("{tok:?}").contains(tok.expose()));
    }
    assert_eq!(c.stats().of("token"), 1);
    let cancel = CancellationToken::new();
    for _ in 0..3 {
        c.entitlements_v8(
            &ada.collections_key,
            &QueryOptions::default(),
            &cancel,
            |_| {},
        )
        .await
        .unwrap();
    }
    c.orders(&ada.purchase_key, None, &cancel, |_| {})
        .await
        .unwrap();
    c.recurrences(&ada.purchase_key, &cancel, |_| {})
        .await
        .unwrap();
    c.clawback_sas().await.unwrap();
    let s = c.stats();
    assert!(s.total >= 7, "{s:?}");
    assert_eq!(s.of("token"), 1, "{s:?}");
    // The key-creation audiences are separate cache entries, fetched on demand.
    let k1 = c.service_token(audience::COLLECTIONS_KEY).await.unwrap();
    let k2 = c.service_token(audience::PURCHASE_KEY).await.unwrap();
    c.service_token(audience::COLLECTIONS_KEY).await.unwrap();
    assert_ne!(k1.expose(), k2.expose());
    assert_eq!(k1.audience, audience::COLLECTIONS_KEY);
    assert_eq!(c.stats().of("token"), 3);
    assert!(k1.remaining() > Duration::from_secs(55 * 60));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v2_token_form_and_bad_secret() {
    let env = Env::start().await;
    let mut cfg = env.config();
    cfg.endpoints.token_style = TokenStyle::V2;
    let c = StoreClient::new(cfg).unwrap();
    let t = c.service_token(audience::STORE).await.unwrap();
    assert!(!t.expose().is_empty());
    let ada = env.customer("ada");
    c.entitlements_v8(
        &ada.collections_key,
        &QueryOptions::default(),
        &CancellationToken::new(),
        |_| {},
    )
    .await
    .unwrap();

    let mut cfg = env.config();
    cfg.client_secret = Secret::new("not-the-secret-at-all");
    let c = StoreClient::new(cfg).unwrap();
    let e = c.service_token(audience::STORE).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Http);
    assert_eq!(e.status, Some(401), "{e}");
    assert!(e.hint().is_some(), "{e}");
    assert!(!e.to_string().contains("not-the-secret-at-all"), "{e}");
    // A Store call surfaces the token failure, and for a write it proves nothing.
    let consume = ConsumeRequest {
        beneficiary: Beneficiary::b2b(&ada.collections_key),
        product_id: "9NSDCOIN0500".into(),
        tracking_id: guid(),
        remove_quantity: Some(1),
        ..Default::default()
    };
    let e = c.consume(&consume).await.unwrap_err();
    assert_eq!(e.status, Some(401));
    assert!(
        !e.is_definite(),
        "a failed token fetch says nothing about the write: {e:?}"
    );
}

// ---------------------------------------------------------------- collections

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whale_pages_in_exactly_50_requests_of_200() {
    let env = Env::start().await;
    let c = env.client();
    let wally = env.customer("wally");
    let mut pages = Vec::new();
    let mut ids = std::collections::HashSet::new();
    let sum = c
        .entitlements_v9(
            &wally.collections_key,
            &whale_products(),
            &QueryOptions::default(),
            &CancellationToken::new(),
            |ev| {
                pages.push((ev.items.len(), ev.progress));
                for e in &ev.items {
                    assert!(e.raw.is_some(), "raw JSON kept for the detail view");
                    ids.insert(e.id.clone());
                }
            },
        )
        .await
        .unwrap();
    assert_eq!(c.stats().of("publisherQuery"), 50);
    assert_eq!(pages.len(), 50);
    assert!(pages.iter().all(|(n, _)| *n == 200));
    assert_eq!(pages[0].1.pages, 1);
    assert_eq!(pages[0].1.items, 200);
    assert_eq!(pages[0].1.calls_left, Some(99));
    assert_eq!(sum.progress.items, 10_000);
    assert_eq!(sum.progress.pages, 50);
    assert_eq!(sum.progress.calls_left, Some(50));
    assert_eq!(ids.len(), 10_000, "no page lost or repeated");
    assert_eq!(c.calls_left_for_key(&wally.collections_key), 50);
    let last = sum.last.unwrap();
    assert_eq!((last.status, last.attempts), (200, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v8_pages_at_100_and_keeps_duplicates_across_pages() {
    let env = Env::start().await;
    let c = env.client();
    let dana = env.customer("dana");
    let mut items = Vec::new();
    let mut sizes = Vec::new();
    let sum = c
        .entitlements_v8(
            &dana.collections_key,
            &QueryOptions::default(),
            &CancellationToken::new(),
            |ev| {
                sizes.push(ev.items.len());
                items.extend(ev.items);
            },
        )
        .await
        .unwrap();
    assert!(sizes.len() >= 2, "{sizes:?}");
    assert!(sizes.iter().all(|n| *n <= 100), "{sizes:?}");
    assert_eq!(sum.progress.items, items.len());
    let dragon: Vec<_> = items
        .iter()
        .filter(|e| e.product_id == "9NSDDLC00001")
        .collect();
    let statuses: Vec<_> = dragon.iter().filter_map(|e| e.status.clone()).collect();
    assert!(
        statuses.contains(&EntitlementStatus::Revoked)
            && statuses.contains(&EntitlementStatus::Active),
        "{statuses:?}"
    );
    assert_eq!(c.stats().of("b2bLicensePreview") as usize, sizes.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunked_v9_merges_chunks_and_single_pages_carry_meta() {
    let env = Env::start().await;
    let c = env.client();
    let ada = env.customer("ada");
    // 150 ids (one real) → two chunks, merged.
    let mut ids: Vec<String> = (0..149).map(|i| format!("9NOPE{i:07}")).collect();
    ids.push("9NSDGAME0001".into());
    let mut got = Vec::new();
    let sum = c
        .entitlements_v9(
            &ada.collections_key,
            &ids,
            &QueryOptions::default(),
            &CancellationToken::new(),
            |ev| got.extend(ev.items),
        )
        .await
        .unwrap();
    assert_eq!(c.stats().of("publisherQuery"), 2);
    assert_eq!(sum.progress.pages, 2);
    assert!(got.iter().any(|e| e.product_id == "9NSDGAME0001"));
    assert!(got.iter().all(|e| e.product_id == "9NSDGAME0001"));

    let r = c
        .publisher_query_page(&v9(&ada.collections_key, &["9NSDPASS0001"]))
        .await
        .unwrap();
    assert_eq!(r.meta.status, 200);
    assert_eq!(r.meta.attempts, 1);
    let pass = &r.value.items[0];
    assert!(pass.trial_data.as_ref().unwrap().is_in_trial_period);
    assert!(pass.recurrence().unwrap().starts_with("mdr:0:"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_errors_are_typed_and_hinted() {
    let env = Env::start().await;
    let c = env.client();
    let ada = env.customer("ada");
    // More than 100 product ids in one page → 400 InvalidParameter (sent as given).
    let many: Vec<String> = (0..101).map(|i| format!("9N{i:010}")).collect();
    let refs: Vec<&str> = many.iter().map(String::as_str).collect();
    let e = c
        .publisher_query_page(&v9(&ada.collections_key, &refs))
        .await
        .unwrap_err();
    assert_eq!(e.status, Some(400), "{e}");
    assert_eq!(e.best_code(), Some("InvalidParameter"), "{e:?}");
    assert!(e.hint().unwrap().contains("100"), "{e:?}");
    assert!(e.is_definite());
    assert_eq!(e.attempts, 1, "4xx is not retried");
    // A purchase key where a collections key belongs.
    let e = c
        .publisher_query_page(&v9(&ada.purchase_key, &["9NSDGAME0001"]))
        .await
        .unwrap_err();
    assert_eq!(e.status, Some(401), "{e}");
    no_secrets(&e, &env);
    // Expired key.
    let ezra = env.customer("ezra");
    let e = c
        .publisher_query_page(&v9(&ezra.collections_key, &["9NSDGAME0001"]))
        .await
        .unwrap_err();
    assert_eq!(e.status, Some(401), "{e}");
    assert_eq!(e.best_code(), Some("AuthenticationTokenInvalid"), "{e:?}");
    assert!(e.hint().is_some());
    no_secrets(&e, &env);
    // A key minted for another Entra app.
    let foreign = env
        .mint(
            "ada",
            "collections",
            serde_json::json!({"clientId": "00000000-1111-2222-3333-444444444444"}),
        )
        .await;
    let e = c
        .publisher_query_page(&v9(&foreign, &["9NSDGAME0001"]))
        .await
        .unwrap_err();
    assert_eq!(e.best_code(), Some("InconsistentClientId"), "{e:?}");
    assert_eq!(
        e.hint(),
        Some("this key was minted for a different Entra app than the profile's client id")
    );
    assert!(!e.to_string().contains(&foreign));
    // v9 with no product ids is refused before anything is sent.
    let before = c.stats().total;
    let e = c
        .entitlements_v9(
            &ada.collections_key,
            &[],
            &QueryOptions::default(),
            &CancellationToken::new(),
            |_| {},
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Config);
    assert_eq!(c.stats().total, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consume_is_idempotent_by_tracking_id_and_returns_order_ids() {
    let env = Env::start().await;
    let c = env.client();
    let cora = env.customer("cora");
    let req = ConsumeRequest {
        beneficiary: Beneficiary::b2b(&cora.collections_key),
        product_id: "9NSDCOIN0500".into(),
        tracking_id: guid(),
        remove_quantity: Some(3),
        ..Default::default()
    };
    let first = c.consume(&req).await.unwrap();
    assert_eq!(first.value.new_quantity, 22);
    let tx = first.value.order_transactions.clone().unwrap();
    assert!(!tx.is_empty(), "includeOrderIds is sent by default");
    assert_eq!(tx.iter().map(|t| t.quantity_consumed).sum::<i64>(), 3);
    // The journal's replay: same trackingId, never deducted twice.
    let again = c.consume(&req).await.unwrap();
    assert_eq!(again.value.new_quantity, 22);
    // Insufficient balance is a definite error answer.
    let too_much = ConsumeRequest {
        tracking_id: guid(),
        remove_quantity: Some(1000),
        ..req.clone()
    };
    let e = c.consume(&too_much).await.unwrap_err();
    assert!(e.status.is_some_and(|s| (400..500).contains(&s)), "{e}");
    assert!(e.is_definite(), "{e:?}");
    // Unmanaged consumable: no removeQuantity.
    let gems = ConsumeRequest {
        product_id: "9NSDGEMS0001".into(),
        tracking_id: guid(),
        remove_quantity: None,
        ..req.clone()
    };
    c.consume(&gems).await.unwrap();
    // Without a trackingId nothing is sent.
    let e = c
        .consume(&ConsumeRequest {
            tracking_id: String::new(),
            ..req
        })
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Config);
    assert!(!e.is_definite());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renew_maps_refresh_uri_onto_the_profile_and_rejects_expired_keys() {
    let env = Env::start().await;
    let c = env.client();
    let rene = env.customer("rene");
    let renewed = c.renew_key(&rene.collections_key).await.unwrap();
    assert_ne!(renewed.value, rene.collections_key);
    // The new key works.
    c.publisher_query_page(&v9(&renewed.value, &["9NSDGAME0001"]))
        .await
        .unwrap();
    // Purchase keys renew through the purchase service.
    let p = c.renew_key(&rene.purchase_key).await.unwrap();
    c.recurrences_page(&storedesk::store::model::RecurrencesQueryRequest {
        b2b_key: p.value,
        ..Default::default()
    })
    .await
    .unwrap();
    let e = c
        .renew_key(&env.customer("ezra").collections_key)
        .await
        .unwrap_err();
    assert_eq!(e.status, Some(401), "{e}");
    assert_eq!(e.best_code(), Some("AuthenticationTokenInvalid"));
    assert!(e.is_definite());
    no_secrets(&e, &env);
    // The documented host maps onto the profile; anything else is refused.
    let base = &env.config().endpoints;
    assert_eq!(
        c.renew_url("https://collections.mp.microsoft.com/v6.0/b2b/keys/renew")
            .unwrap(),
        format!("{}/v6.0/b2b/keys/renew", base.collections)
    );
    assert_eq!(
        c.renew_url("https://purchase.mp.microsoft.com/v6.0/b2b/keys/renew")
            .unwrap(),
        format!("{}/v6.0/b2b/keys/renew", base.purchase)
    );
    let e = c
        .renew_url("https://evil.example.com/v6.0/b2b/keys/renew")
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Config);
    let e = c.renew_key("not.a.key").await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Config);
}

// ---------------------------------------------------------------- purchase

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_recurrences_and_changes() {
    let env = Env::start().await;
    let c = env.client();
    let cancel = CancellationToken::new();
    let cora = env.customer("cora");
    let mut orders = Vec::new();
    c.orders(&cora.purchase_key, None, &cancel, |ev| {
        orders.extend(ev.items)
    })
    .await
    .unwrap();
    assert!(orders.len() >= 5, "{}", orders.len());
    assert!(orders.iter().any(|o| o.order_refunded_date.is_some()));
    let mut refunded = Vec::new();
    c.orders(
        &cora.purchase_key,
        Some(vec![LineItemState::Refunded]),
        &cancel,
        |ev| refunded.extend(ev.items),
    )
    .await
    .unwrap();
    assert!(!refunded.is_empty() && refunded.len() < orders.len());

    let sam = env.customer("sam");
    let mut subs = Vec::new();
    c.recurrences(&sam.purchase_key, &cancel, |ev| subs.extend(ev.items))
        .await
        .unwrap();
    for st in RecurrenceState::KNOWN {
        assert!(
            subs.iter()
                .any(|s| s.recurrence_state.as_ref().map(|x| x.as_str()) == Some(st)),
            "no subscription in state {st}"
        );
    }
    let active = subs
        .iter()
        .find(|s| s.recurrence_state == Some(RecurrenceState::Active) && s.market != "XX")
        .unwrap();
    let change = RecurrenceChangeRequest {
        b2b_key: sam.purchase_key.clone(),
        change_type: ChangeType::ToggleAutoRenew,
        extension_time_in_days: None,
        sbx: None,
    };
    let r = c.change_recurrence(&active.id, &change).await.unwrap();
    assert_eq!(r.value.id, active.id);
    assert!(!r.value.auto_renew);
    let extend = RecurrenceChangeRequest {
        change_type: ChangeType::Extend,
        extension_time_in_days: Some(5),
        ..change.clone()
    };
    let r = c.change_recurrence(&active.id, &extend).await.unwrap();
    assert!(r.value.expiration_time > active.expiration_time);
    // A non-retail subscription cannot be changed: 400, definite.
    let non_retail = subs.iter().find(|s| s.market == "XX").unwrap();
    let e = c
        .change_recurrence(
            &non_retail.id,
            &RecurrenceChangeRequest {
                change_type: ChangeType::Cancel,
                ..change
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.status, Some(400), "{e}");
    assert!(e.is_definite());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grant_is_idempotent_by_order_id_and_refuses_paid_products() {
    let env = Env::start().await;
    let c = env.client();
    let nora = env.customer("nora");
    let req = GrantRequest {
        availability_id: "9NSDAV000004".into(),
        b2b_key: nora.purchase_key.clone(),
        language: "en-US".into(),
        market: "US".into(),
        order_id: guid(),
        product_id: "9NSDDLC00002".into(),
        quantity: Some(1),
        sku_id: "0010".into(),
        ..Default::default()
    };
    let first = c.grant(&req).await.unwrap();
    assert_eq!(first.value.order_id, req.order_id);
    assert_eq!(first.value.order_line_items.len(), 1);
    let again = c.grant(&req).await.unwrap();
    assert_eq!(again.value.order_id, req.order_id);
    let mut owned = Vec::new();
    c.entitlements_v9(
        &nora.collections_key,
        &["9NSDDLC00002".to_string()],
        &QueryOptions::default(),
        &CancellationToken::new(),
        |ev| owned.extend(ev.items),
    )
    .await
    .unwrap();
    assert_eq!(owned.len(), 1, "granted exactly once");
    let paid = GrantRequest {
        availability_id: "9NSDAV000001".into(),
        product_id: "9NSDGAME0001".into(),
        order_id: guid(),
        ..req
    };
    let e = c.grant(&paid).await.unwrap_err();
    assert_eq!(e.status, Some(400), "{e}");
    assert!(e.is_definite());
}

// ---------------------------------------------------------------- clawback + offers

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clawback_sas_peek_receive_delete() {
    let env = Env::start().await;
    let c = env.client();
    let sas = c.clawback_sas().await.unwrap().value;
    assert!(sas.uri.contains("sig="));
    let peek = c.queue_peek(&sas.uri, 32).await.unwrap().value;
    assert!(peek.len() >= 4, "{}", peek.len());
    assert!(peek.iter().all(|m| m.message.pop_receipt.is_none()));
    let states: std::collections::HashSet<String> = peek
        .iter()
        .filter_map(|m| {
            m.event
                .as_ref()
                .ok()?
                .data
                .event_state
                .as_ref()
                .map(|s| s.as_str().to_string())
        })
        .collect();
    for s in ["Revoked", "Returned", "Refunded", "ChargebackReversal"] {
        assert!(states.contains(s), "missing {s}: {states:?}");
    }
    let got = c.queue_receive(&sas.uri, 1, Some(30)).await.unwrap().value;
    assert_eq!(got.len(), 1);
    let m = &got[0].message;
    let receipt = m.pop_receipt.clone().unwrap();
    // A received message is hidden from the next peek.
    let after = c.queue_peek(&sas.uri, 32).await.unwrap().value;
    assert_eq!(after.len(), peek.len() - 1);
    // Wrong receipt: a definite 4xx with the queue's XML code.
    let e = c
        .queue_delete(&sas.uri, &m.message_id, "bogus")
        .await
        .unwrap_err();
    assert_eq!(e.status, Some(400));
    assert_eq!(e.code.as_deref(), Some("PopReceiptMismatch"));
    assert!(e.is_definite());
    let del = c
        .queue_delete(&sas.uri, &m.message_id, &receipt)
        .await
        .unwrap();
    assert!(del.meta.status == 204 || del.meta.status == 200);
    let e = c
        .queue_delete(&sas.uri, &m.message_id, &receipt)
        .await
        .unwrap_err();
    assert_eq!(e.status, Some(404));
    assert_eq!(e.code.as_deref(), Some("MessageNotFound"));
    // The SAS signature never appears in an error.
    assert!(!e.to_string().contains("sig="), "{e}");
    // Peek-only messages cannot be deleted.
    let e = c
        .queue_delete(&sas.uri, &m.message_id, "")
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Config);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn targeted_offers_get_and_claim_with_the_users_token() {
    let env = Env::start().await;
    let c = env.client();
    let ada = env.customer("ada");
    // The sandbox takes a key of the user as the MSA token.
    let offers = c.targeted_offers(&ada.purchase_key).await.unwrap().value;
    assert_eq!(offers.len(), 1);
    assert!(offers[0].offers.contains(&"9NSDCOIN0500".to_string()));
    let claim = ClaimOfferRequest {
        store_offer: offers[0].clone(),
        receipt: guid(),
    };
    let r = c.claim_offer(&ada.purchase_key, &claim).await.unwrap();
    assert_eq!(r.meta.status, 200);
    let mut bogus = claim.clone();
    bogus.store_offer.tracking_id = guid();
    let e = c.claim_offer(&ada.purchase_key, &bogus).await.unwrap_err();
    assert_eq!(e.status, Some(400));
    assert!(e.is_definite());
    let e = c
        .targeted_offers(&env.customer("ezra").purchase_key)
        .await
        .unwrap_err();
    assert_eq!(e.status, Some(401));
    let e = c.targeted_offers("").await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Config);
}

// ---------------------------------------------------------------- retries, faults

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_429_waits_out_retry_after_and_reports_it() {
    let env = Env::start().await;
    let c = env.client();
    let waits: Arc<Mutex<Vec<Wait>>> = Arc::default();
    let w = waits.clone();
    c.set_wait_observer(Some(Arc::new(move |d, r: &WaitReason, op| {
        w.lock().unwrap().push((d, r.clone(), op))
    })));
    let wally = env.customer("wally");
    // The 429 lands in the middle of paging: page 2 of 50.
    let mut pages = 0;
    let mut ids = std::collections::HashSet::new();
    let mut rate_limited_once = false;
    let r = c
        .entitlements_v9(
            &wally.collections_key,
            &whale_products(),
            &QueryOptions::default(),
            &CancellationToken::new(),
            |ev| {
                pages += 1;
                if pages == 1 && !rate_limited_once {
                    rate_limited_once = true;
                    env.fault("publisherQuery:429,retry-after=1");
                }
                for e in ev.items {
                    ids.insert(e.id);
                }
            },
        )
        .await
        .unwrap();
    assert_eq!(r.progress.pages, 50);
    assert_eq!(ids.len(), 10_000, "no page lost or repeated");
    assert_eq!(
        c.stats().of("publisherQuery"),
        51,
        "one extra request for the 429"
    );
    let w = waits.lock().unwrap();
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].0, Duration::from_secs(1));
    assert_eq!(w[0].1, WaitReason::RateLimited);
    assert_eq!(w[0].2, "publisherQuery");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_retry_5xx_and_resets_but_writes_never_retry() {
    let env = Env::start().await;
    let c = env.client();
    let cora = env.customer("cora");
    env.fault("orders:status=503,times=2");
    let r = c
        .orders_page(&storedesk::store::model::OrdersQueryRequest {
            b2b_key: cora.purchase_key.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(r.meta.attempts, 3);
    env.fault("orders:reset");
    let r = c
        .orders_page(&storedesk::store::model::OrdersQueryRequest {
            b2b_key: cora.purchase_key.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(r.meta.attempts, 2);
    // Retries run out.
    env.fault("recurrences:status=500,times=10");
    let e = c
        .recurrences_page(&storedesk::store::model::RecurrencesQueryRequest {
            b2b_key: cora.purchase_key.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!((e.status, e.attempts), (Some(500), 4));
    env.sb.clear_faults();

    // A write that fails after it was applied: one attempt, not definite.
    env.fault("consume:fail-after-commit");
    let req = ConsumeRequest {
        beneficiary: Beneficiary::b2b(&cora.collections_key),
        product_id: "9NSDCOIN0500".into(),
        tracking_id: guid(),
        remove_quantity: Some(1),
        ..Default::default()
    };
    let before = c.stats().of("consume");
    let e = c.consume(&req).await.unwrap_err();
    assert_eq!(
        c.stats().of("consume") - before,
        1,
        "writes are never retried"
    );
    assert_eq!((e.status, e.attempts), (Some(500), 1));
    assert!(!e.is_definite());
    env.fault("consume:reset-after-commit");
    let e = c.consume(&req).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Transport, "{e:?}");
    assert!(!e.is_definite());
    env.fault("consume:429,retry-after=1");
    let e = c.consume(&req).await.unwrap_err();
    assert_eq!(
        (e.status, e.retry_after),
        (Some(429), Some(Duration::from_secs(1)))
    );
    assert!(!e.is_definite());
    assert!(e.hint().unwrap().contains("Retry-After"));
    // The journal's replay with the same trackingId: applied exactly once.
    let ok = c.consume(&req).await.unwrap();
    assert_eq!(ok.value.new_quantity, 24);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_are_configurable_and_typed() {
    let env = Env::start().await;
    let mut cfg = env.config();
    cfg.timeout = Duration::from_millis(300);
    cfg.retry.max_attempts = 2;
    let c = StoreClient::new(cfg).unwrap();
    c.service_token(audience::STORE).await.unwrap();
    env.fault("grant:hang-after-commit");
    let nora = env.customer("nora");
    let req = GrantRequest {
        availability_id: "9NSDAV000004".into(),
        b2b_key: nora.purchase_key.clone(),
        language: "en-US".into(),
        market: "US".into(),
        order_id: guid(),
        product_id: "9NSDDLC00002".into(),
        sku_id: "0010".into(),
        ..Default::default()
    };
    let e = c.grant(&req).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Timeout, "{e:?}");
    assert_eq!(e.attempts, 1);
    assert!(!e.is_definite());
    env.fault("sastoken:latency=2s");
    let e = c.clawback_sas().await.unwrap_err();
    assert_eq!(
        (e.kind, e.attempts),
        (ErrorKind::Timeout, 2),
        "reads are retried: {e:?}"
    );
}

// ---------------------------------------------------------------- cancel, budget, caps

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancellation_mid_paging_stops_at_once() {
    let env = Env::start().await;
    let c = env.client();
    let wally = env.customer("wally");
    let cancel = CancellationToken::new();
    let mut pages = 0;
    let stop = cancel.clone();
    let e = c
        .entitlements_v9(
            &wally.collections_key,
            &whale_products(),
            &QueryOptions::default(),
            &cancel,
            |_| {
                pages += 1;
                if pages == 3 {
                    stop.cancel();
                }
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Cancelled);
    assert_eq!(pages, 3);
    assert_eq!(c.stats().of("publisherQuery"), 3);

    // Cancelling while a slow page is in flight returns without waiting for it.
    env.fault("publisherQuery:latency=5s");
    let cancel = CancellationToken::new();
    let stop = cancel.clone();
    let task = {
        let c = c.clone();
        let key = wally.collections_key.clone();
        tokio::spawn(async move {
            c.entitlements_v9(
                &key,
                &whale_products(),
                &QueryOptions::default(),
                &cancel,
                |_| {},
            )
            .await
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.cancel();
    let r = tokio::time::timeout(Duration::from_secs(3), task)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.unwrap_err().kind, ErrorKind::Cancelled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn budget_refuses_the_101st_collection_call_locally() {
    let env = Env::start().await;
    let c = env.client();
    let gus = env.customer("gus");
    let req = v9(&gus.collections_key, &["9NSDGAME0001"]);
    for i in 0..100 {
        c.publisher_query_page(&req)
            .await
            .unwrap_or_else(|e| panic!("call {i}: {e}"));
    }
    assert_eq!(c.calls_left_for_key(&gus.collections_key), 0);
    assert_eq!(c.calls_left(&gus.user_id), 0, "keyed by the userId");
    let sent = c.stats().of("publisherQuery");
    let e = c.publisher_query_page(&req).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Budget);
    assert!(e.to_string().contains("refused locally"), "{e}");
    assert!(e.retry_after.is_some_and(|w| w <= Duration::from_secs(300)));
    assert_eq!(c.stats().of("publisherQuery"), sent, "nothing was sent");
    assert!(!e.is_definite());
    // Consumes spend the same budget.
    let consume = ConsumeRequest {
        beneficiary: Beneficiary::b2b(&gus.collections_key),
        product_id: "9NSDCOIN0500".into(),
        tracking_id: guid(),
        remove_quantity: Some(1),
        ..Default::default()
    };
    assert_eq!(
        c.consume(&consume).await.unwrap_err().kind,
        ErrorKind::Budget
    );
    // Another customer is unaffected.
    let ada = env.customer("ada");
    assert_eq!(c.calls_left_for_key(&ada.collections_key), 100);
    c.publisher_query_page(&v9(&ada.collections_key, &["9NSDGAME0001"]))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn body_cap_stops_large_answers() {
    let env = Env::start().await;
    let mut cfg = env.config();
    cfg.body_cap = 4096;
    let c = StoreClient::new(cfg).unwrap();
    let wally = env.customer("wally");
    let e = c
        .entitlements_v9(
            &wally.collections_key,
            &whale_products(),
            &QueryOptions::default(),
            &CancellationToken::new(),
            |_| {},
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::BodyTooLarge, "{e:?}");
    assert!(e.to_string().contains("4096"), "{e}");
    assert_eq!(
        c.stats().of("publisherQuery"),
        1,
        "a too-large answer is not retried"
    );
    // A small answer still fits.
    let ada = env.customer("ada");
    c.publisher_query_page(&v9(&ada.collections_key, &["9NSDGAME0001"]))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_is_required_off_loopback() {
    let env = Env::start().await;
    let mut cfg = env.config();
    cfg.endpoints.purchase = "http://purchase.example.com".into();
    let e = StoreClient::new(cfg.clone()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Config);
    assert!(e.to_string().contains("https"), "{e}");
    cfg.allow_insecure_http = true;
    StoreClient::new(cfg).unwrap();
    let mut cfg = env.config();
    cfg.endpoints.login = "ftp://login.example.com".into();
    assert_eq!(StoreClient::new(cfg).unwrap_err().kind, ErrorKind::Config);
    let mut cfg = env.config();
    cfg.endpoints.collections = "https://collections.example.com".into();
    StoreClient::new(cfg).unwrap();
    // A SAS queue URI from the wire is held to the same rule.
    let c = env.client();
    let e = c
        .queue_peek("http://acct.queue.example.com/q?sig=abc", 1)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Config);
    assert_eq!(c.stats().total, 0);
}
