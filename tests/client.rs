//! The Store client against the embedded sandbox, over real loopback HTTP:
//! every endpoint and its errors, tokens, paging, retries, budget, caps.

#[path = "support/sandbox.rs"]
mod support_sandbox;

use std::sync::{Arc, Mutex};
use std::time::Duration;
use storedesk::config::{Profile, Secret};
use storedesk::sandbox::{DemoCustomer, Sandbox};
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
        let sb = support_sandbox::start_in(dir.path(), vec![]).await;
        Self { sb, _dir: dir }
    }

    fn config(&self) -> ClientConfig {
        let info = &self.sb.info;
        let mut cfg = info.client_config();
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
            .header(
                storedesk::sandbox::CONTROL_SECRET_HEADER,
                &self.sb.info.control_secret,
            )
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
    assert!(r.meta.correlation.correlation_id.is_some() && r.meta.correlation.cv.is_some());
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
    assert!(
        e.correlation.request_id.is_some() && e.to_string().contains("MS-RequestId="),
        "{e}"
    );
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
    assert!(e.hint().unwrap().contains("rate limited by the Store"));
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
    assert_eq!(
        c.calls_left(&storedesk::store::keyinfo::customer_id(
            &gus.collections_key
        )),
        0,
        "keyed by the customer the key belongs to"
    );
    assert_eq!(
        c.calls_left(&gus.user_id),
        100,
        "not by the userId claim, which customers may share"
    );
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

// ---------------------------------------------------------------- documented variants
//
// The sandbox writes only the documented spelling (strict writer), so the
// spellings Microsoft's docs and library disagree on are served here by a
// small loopback server that answers with the doc's own examples and their
// variants — the only way to prove the client's tolerant reading end to end.

mod variants {
    use axum::Router;
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::IntoResponse;
    use axum::routing::{get, post};
    use std::sync::{Arc, Mutex};

    /// The v9 response example of seed 001, verbatim (with its headers).
    pub const DOC_PAGE_1: &str = r#"{
    "continuationToken": "{\"checkSatisfactionIndex\":2}",
    "items": [
        {
            "acquiredDate": "2021-08-30T21:53:08.2565331+00:00",
            "acquisitionType": "Single",
            "endDate": "2021-08-31T21:53:07.4374279+00:00",
            "id": "1046015f83a8478397064c915224e5d3",
            "modifiedDate": "2021-08-30T21:53:08.2589804+00:00",
            "productId": "9N30KZZF4BR9",
            "productKind": "Durable",
            "quantity": 1,
            "satisfiedByProductIds": [],
            "skuId": "0010",
            "startDate": "2021-08-30T21:53:07.4374279+00:00",
            "status": "Active",
            "tags": [],
            "transactionId": "995ec667-8114-4ab9-9f11-597a8419a775",
            "trialData": {
                "isInTrialPeriod": false,
                "isTrial": false
            }
        },
        {
            "acquiredDate": "2021-08-30T19:55:44.7994325+00:00",
            "acquisitionType": "Single",
            "endDate": "9999-12-31T23:59:59.9999999+00:00",
            "id": "27662ad4749342608ec09130b76601f9",
            "modifiedDate": "2021-08-30T19:55:44.8043849+00:00",
            "productId": "9MXL21XPWWWK",
            "productKind": "Game",
            "quantity": 1,
            "satisfiedByProductIds": [],
            "skuId": "0010",
            "startDate": "2021-08-30T19:40:44.7994325+00:00",
            "status": "Active",
            "tags": [
                "4c584d39-3132-3058-c050-5757574b8500"
            ],
            "transactionId": "8d5ed958-6c72-4812-87fc-57b105d3d197",
            "trialData": {
                "isInTrialPeriod": true,
                "isTrial": true,
                "trialTimeRemaining": "09:43:52.8580690"
            }
        }
    ]
}"#;

    /// Page 2: the doc table's `recurrenceData` spelling, explicit nulls,
    /// values this build does not know, the table's DD:HH:MM:SS.MS layout.
    pub const PAGE_2: &str = r#"{"continuationToken": null, "items": [{
        "id": "3", "productId": "9NBUNDLE", "skuId": "0010", "productKind": "Bundle", "status": "Frozen",
        "acquisitionType": "Recurring", "recurrenceData": {"recurrenceId": "mdr:0:ab:cd"},
        "satisfiedByProductIds": null, "tags": null, "quantity": null, "transactionId": null,
        "startDate": "2022-12-09T02:13Z", "endDate": null,
        "trialData": {"isInTrialPeriod": true, "isTrial": true, "trialTimeRemaining": "01:09:43:52.858"}}]}"#;

    #[derive(Default)]
    pub struct Seen {
        pub query_bodies: Vec<serde_json::Value>,
        pub renew_auth: Vec<Option<String>>,
        pub renew_bodies: Vec<serde_json::Value>,
    }

    fn doc_headers() -> [(&'static str, &'static str); 3] {
        [
            ("MS-CorrelationId", "d46cbd11-c2cf-4d8b-99b3-ea63ea976f39"),
            ("MS-RequestId", "76b82179-2c83-41b2-b9f7-6e775f2c0fed"),
            ("MS-CV", "zpiOM+izH0iubCuw.0"),
        ]
    }

    pub async fn serve(seen: Arc<Mutex<Seen>>) -> String {
        let s1 = seen.clone();
        let s2 = seen.clone();
        let app = Router::new()
            // Entra v1 writes its numbers as strings.
            .route(
                "/login/{tenant}/oauth2/token",
                post(|| async {
                    (
                        [("content-type", "application/json")],
                        r#"{"token_type":"Bearer","expires_in":"3599","ext_expires_in":"3599","expires_on":"1700003599","not_before":"1700000000","resource":"https://onestore.microsoft.com","access_token":"variant-token"}"#,
                    )
                }),
            )
            .route(
                "/collections/v9.0/collections/publisherQuery",
                post(move |body: String| {
                    let s = s1.clone();
                    async move {
                        let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
                        let page = if v.get("continuationToken").is_some() { PAGE_2 } else { DOC_PAGE_1 };
                        s.lock().unwrap().query_bodies.push(v);
                        (doc_headers(), [("content-type", "application/json")], page)
                    }
                }),
            )
            // The doc spells the renewed key `Key`.
            .route(
                "/collections/v6.0/b2b/keys/renew",
                post(move |h: HeaderMap, body: String| {
                    let s = s2.clone();
                    async move {
                        let mut g = s.lock().unwrap();
                        g.renew_auth
                            .push(h.get("authorization").map(|v| v.to_str().unwrap_or("?").to_string()));
                        g.renew_bodies.push(serde_json::from_str(&body).unwrap_or_default());
                        ([("content-type", "application/json")], r#"{"Key":"new.renewed.key"}"#)
                    }
                }),
            )
            // The older doc wraps the changed recurrence in {items:[..]}.
            .route(
                "/purchase/v8.0/b2b/recurrences/{id}/change",
                post(|| async {
                    (
                        [("content-type", "application/json")],
                        r#"{"items":[{"autoRenew":false,"beneficiary":"pub:x","id":"mdr:0:ab:cd","isTrial":false,"market":"US","productId":"9NSUB","recurrenceState":"Canceled","skuId":"0010","expirationTime":"2030-01-01T00:00:00.0000000+00:00"}]}"#,
                    )
                }),
            )
            // No targeted offers: an empty 200.
            .route("/devcenter/v2.0/my/storeoffers/user", get(|| async { StatusCode::OK }))
            // An error wrapped in {"error": {...}} with an inner code.
            .route(
                "/purchase/v8.0/b2b/orders/query",
                post(|| async {
                    (
                        StatusCode::BAD_REQUEST,
                        doc_headers(),
                        r#"{"error":{"code":"BadRequest","message":"Bad b2bKey","innererror":{"code":"InvalidParameter","message":"b2bKey"}}}"#,
                    )
                        .into_response()
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        format!("http://{addr}")
    }
}

fn unsigned_key(refresh_uri: &str) -> String {
    use base64::Engine as _;
    let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let claims = serde_json::json!({
        "http://schemas.microsoft.com/marketplace/2015/08/claims/key/userId": "doc-user",
        "http://schemas.microsoft.com/marketplace/2015/08/claims/key/refreshUri": refresh_uri,
    });
    format!(
        "{}.{}.c2ln",
        e.encode(br#"{"alg":"RS256","typ":"JWT"}"#),
        e.encode(claims.to_string())
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documented_examples_and_variants_parse_end_to_end() {
    let seen = Arc::new(Mutex::new(variants::Seen::default()));
    let base = variants::serve(seen.clone()).await;
    let mut endpoints = Profile::builtin_sandbox().endpoints(Some(&base));
    endpoints.tenant = "contoso.onmicrosoft.com".into();
    let c = StoreClient::new(ClientConfig::new(
        endpoints,
        "app",
        Secret::new("s3cret-value"),
    ))
    .unwrap();
    let key = unsigned_key("https://collections.mp.microsoft.com/v6.0/b2b/keys/renew");

    // v1 token with string numbers.
    let t = c.service_token(audience::STORE).await.unwrap();
    assert_eq!(t.lifetime, Duration::from_secs(3599));

    // The doc's page, then the variants page; the whole body goes again with the token.
    let mut items = Vec::new();
    let mut metas = Vec::new();
    let opts = QueryOptions {
        exclude_duplicates: Some(true),
        page_size: Some(2),
        ..QueryOptions::default()
    };
    let ids: Vec<String> = ["9N30KZZF4BR9", "9MXL21XPWWWK"].map(String::from).to_vec();
    c.entitlements_v9(&key, &ids, &opts, &CancellationToken::new(), |ev| {
        metas.push(ev.meta);
        items.extend(ev.items);
    })
    .await
    .unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(
        metas[0].correlation.request_id.as_deref(),
        Some("76b82179-2c83-41b2-b9f7-6e775f2c0fed")
    );
    assert_eq!(
        metas[0].correlation.cv.as_deref(),
        Some("zpiOM+izH0iubCuw.0")
    );
    assert!(items[1].end_date.as_ref().unwrap().is_forever());
    assert!(
        items[1]
            .trial_data
            .as_ref()
            .unwrap()
            .trial_time_remaining
            .is_some()
    );
    let odd = &items[2];
    assert_eq!(odd.recurrence(), Some("mdr:0:ab:cd"));
    assert_eq!(odd.status.as_ref().unwrap().to_string(), "other: Frozen");
    assert_eq!(
        odd.product_kind.as_ref().unwrap().to_string(),
        "other: Bundle"
    );
    assert!(odd.tags.is_empty() && odd.satisfied_by_product_ids.is_empty());
    assert!(odd.start_date.is_some(), "minute-precision date");
    assert!(
        odd.raw.as_ref().unwrap().get().contains("\"Frozen\""),
        "raw JSON kept as received"
    );
    {
        let g = seen.lock().unwrap();
        assert_eq!(g.query_bodies.len(), 2);
        let mut second = g.query_bodies[1].clone();
        assert_eq!(
            second["continuationToken"],
            "{\"checkSatisfactionIndex\":2}"
        );
        second.as_object_mut().unwrap().remove("continuationToken");
        assert_eq!(
            second, g.query_bodies[0],
            "the whole body is resent with the token"
        );
        assert_eq!(g.query_bodies[0]["maxPageSize"], 2);
        assert_eq!(g.query_bodies[0]["excludeDuplicates"], true);
    }

    // Renewal: the documented host is mapped here, no Authorization header,
    // serviceTicket + key in the body, `Key` accepted in the answer.
    let renewed = c.renew_key(&key).await.unwrap();
    assert_eq!(renewed.value, "new.renewed.key");
    {
        let g = seen.lock().unwrap();
        assert_eq!(g.renew_auth, vec![None]);
        assert_eq!(g.renew_bodies[0]["serviceTicket"], "variant-token");
        assert_eq!(g.renew_bodies[0]["key"], key.as_str());
    }

    // A wrapped recurrence change answer.
    let change = RecurrenceChangeRequest {
        b2b_key: key.clone(),
        change_type: ChangeType::Cancel,
        extension_time_in_days: None,
        sbx: None,
    };
    let r = c.change_recurrence("mdr:0:ab:cd", &change).await.unwrap();
    assert_eq!(r.value.recurrence_state, Some(RecurrenceState::Canceled));

    // No offers: an empty body.
    assert!(
        c.targeted_offers("msa-token")
            .await
            .unwrap()
            .value
            .is_empty()
    );

    // An error wrapped in {"error":{..}}: code, inner code, ids, hint; definite.
    let e = c
        .orders_page(&storedesk::store::model::OrdersQueryRequest {
            b2b_key: key.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code.as_deref(), Some("BadRequest"));
    assert_eq!(e.inner_code.as_deref(), Some("InvalidParameter"));
    assert!(e.hint().is_some());
    assert!(e.is_definite());
    assert!(e.to_string().contains("MS-CorrelationId=d46cbd11"), "{e}");
    assert!(!e.to_string().contains(&key), "{e}");
}

// ---------------------------------------------------------------- headless command

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entitlements_command_pages_filters_and_exits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    // Mint keys with the data dir's signing key, then let the binary start
    // its own embedded sandbox on the same dir.
    let sb = support_sandbox::start_in(dir.path(), vec![]).await;
    let key_of = |name: &str| {
        sb.info
            .customers
            .iter()
            .find(|c| c.name == name)
            .unwrap()
            .collections_key
            .clone()
    };
    let (ada, ezra, wally) = (key_of("ada"), key_of("ezra"), key_of("wally"));
    sb.shutdown().await;
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "").unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_storedesk"))
            .arg("--data-dir")
            .arg(dir.path())
            .arg("--config")
            .arg(&config)
            .args(args)
            .env_remove("STOREDESK_PROFILE")
            .env_remove("STOREDESK_NOW")
            .output()
            .unwrap()
    };
    let out = run(&[
        "entitlements",
        "--key",
        &ada,
        "--status",
        "active",
        "--kind",
        "durable,Game",
        "--json",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // As the console does: v9 with the embedded sandbox's catalog.
    assert!(
        stderr.contains("v9 PublisherQuery") && stderr.contains("the embedded sandbox's catalog"),
        "{stderr}"
    );
    assert!(stderr.contains("page 1"), "{stderr}");
    let items: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(items.len(), 2, "{items:?}");
    assert!(items.iter().all(|i| i["status"] == "Active"));
    assert!(
        items
            .iter()
            .all(|i| i["productKind"] == "Durable" || i["productKind"] == "Game")
    );

    // `--ndjson`: the same items, one object a line.
    let out = run(&[
        "entitlements",
        "--key",
        &ada,
        "--status",
        "active",
        "--kind",
        "durable,Game",
        "--ndjson",
    ]);
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines, items);

    let out = run(&["entitlements", "--key", &ada, "--csv"]);
    assert!(out.status.success());
    let csv = String::from_utf8(out.stdout).unwrap();
    assert!(
        csv.starts_with("id,productId,skuId,productKind,status"),
        "{csv}"
    );
    assert_eq!(
        csv.lines().count(),
        11,
        "header + ada's 10 entitlements:\n{csv}"
    );

    // The whale, through v9: every item, well within the call budget
    // (v8 would spend all 100 calls on it).
    let out = run(&["entitlements", "--key", &wally, "--csv"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 10_001);
    let last = stderr
        .lines()
        .rev()
        .find(|l| l.contains("calls left"))
        .unwrap_or_default();
    let left: u32 = last
        .rsplit(" · ")
        .next()
        .and_then(|t| t.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(left >= 40, "v9 leaves most of the budget: {last}");
    assert!(!stderr.contains("incomplete"), "{stderr}");

    // The table names products: a title column beside the id (issue 16).
    let out = run(&["entitlements", "--key", &ada]);
    assert!(out.status.success());
    let table = String::from_utf8_lossy(&out.stdout);
    let header = table.lines().next().unwrap_or_default();
    let cols: Vec<&str> = header.split_whitespace().collect();
    assert_eq!(cols[..2], ["productId", "title"], "{header}");
    assert!(
        table
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>()[..3]
                == ["9NSDGAME0001", "Contoso", "Quest"]),
        "{table}"
    );

    let out = run(&["entitlements", "--key", &ada, "--kind", "Sword"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown kind \"Sword\""));
    assert!(out.stdout.is_empty());

    let out = run(&["entitlements", "--key", &ezra]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("AuthenticationTokenInvalid") && stderr.contains("hint:"),
        "{stderr}"
    );
    assert!(!stderr.contains(&ezra), "the key is never echoed");
    assert!(out.stdout.is_empty());
}

/// Issue 16 point 5: product titles by id from the display catalog — the
/// sandbox serves the public route too, so this is the client over HTTP —
/// cached in the data dir, and the id alone (no error) when offline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn product_titles_over_http_cached_and_offline() {
    use storedesk::case::titles::Titles;
    let env = Env::start().await;
    let c = env.client();
    let ids = vec![
        "9NSDGAME0001".to_string(),
        "9nsdcoin0500".into(),
        "9NOSUCH00000".into(),
    ];
    let got = c.product_titles(&ids).await.unwrap();
    assert_eq!(
        got.get("9NSDGAME0001").map(String::as_str),
        Some("Contoso Quest")
    );
    assert_eq!(
        got.get("9NSDCOIN0500").map(String::as_str),
        Some("500 Coins")
    );
    assert!(
        !got.contains_key("9NOSUCH00000"),
        "unknown ids are left out: {got:?}"
    );

    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("titles.json");
    let mut t = Titles::load(&cache);
    assert_eq!(t.label("9NSDGAME0001"), "9NSDGAME0001", "nothing known yet");
    t.fetch_missing(&c, &ids).await.unwrap();
    assert_eq!(t.label("9NSDGAME0001"), "9NSDGAME0001 Contoso Quest");
    assert!(cache.exists(), "cached in the data dir");

    // Offline: a client that reaches nothing still has the cache.
    let mut cfg = env.config();
    cfg.endpoints = Profile::builtin_sandbox().endpoints(Some("http://127.0.0.1:9"));
    let offline = StoreClient::new(cfg).unwrap();
    let mut t = Titles::load(&cache);
    let more = vec!["9NSDGAME0001".to_string(), "9NSDPASS0001".into()];
    assert!(t.fetch_missing(&offline, &more).await.is_err());
    assert_eq!(t.label("9NSDGAME0001"), "9NSDGAME0001 Contoso Quest");
    assert_eq!(t.label("9NSDPASS0001"), "9NSDPASS0001", "the id alone");

    // What `:grant` offers (issue 16 point 6): free, of a grantable kind.
    let g = env.sb.grantable_products();
    assert!(
        g.iter()
            .any(|p| p.product_id == "9NSDDLC00002" && p.availability_id == "9NSDAV000004"),
        "{g:?}"
    );
    assert!(
        g.iter()
            .all(|p| p.product_id != "9NSDCONSFREE" && p.product_id != "9NSDGAME0001"),
        "a store-managed consumable or a paid game is not grantable: {g:?}"
    );
}

/// Issue 16 point 5: orders carry amounts and currency, so "charged
/// twice" can be checked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_carry_amounts_and_currency() {
    let env = Env::start().await;
    let c = env.client();
    let key = env.customer("cora").purchase_key.clone();
    let mut orders = Vec::new();
    c.orders(&key, None, &CancellationToken::new(), |p| {
        orders.extend(p.items)
    })
    .await
    .unwrap();
    assert!(!orders.is_empty());
    for o in &orders {
        assert_eq!(o.currency_code.as_deref(), Some("USD"), "{o:?}");
        let total = o.total_amount.unwrap();
        let lines: f64 = o
            .order_line_items
            .iter()
            .map(|l| l.list_price.unwrap() * l.quantity as f64 + l.tax_amount.unwrap())
            .sum();
        assert!((total - lines).abs() < 0.005, "{o:?}");
    }
    assert!(orders.iter().any(|o| o.total_amount.unwrap() > 0.0));
}
