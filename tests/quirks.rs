//! Issue 15 point 8: the sandbox checks the client independently. Requests
//! are decoded by the sandbox's own reader (a misspelt field is refused over
//! HTTP, in the documented error shape), and the quirks customer `quinn` is
//! answered with every documented quirk of the real services — which the
//! real client then reads over loopback HTTP without a flagged row.

#[path = "support/sandbox.rs"]
mod support_sandbox;

use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;
use storedesk::sandbox::Sandbox;
use storedesk::store::model::{
    Beneficiary, ChangeType, ConsumeRequest, GrantRequest, RecurrenceChangeRequest, RecurrenceState,
};
use storedesk::store::{QueryOptions, RetryPolicy, StoreClient, audience};
use tokio_util::sync::CancellationToken;

struct Env {
    sb: Sandbox,
    http: reqwest::Client,
    token: String,
    _dir: tempfile::TempDir,
}

fn fixture(name: &str) -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(format!(
            "{}/tests/fixtures/docs/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap(),
    )
    .unwrap()
}

impl Env {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let sb = support_sandbox::start_in(dir.path(), vec![]).await;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap();
        let info = &sb.info;
        let tok: Value = http
            .post(format!(
                "{}/login/{}/oauth2/token",
                info.base_url, info.tenant
            ))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", info.client_id.as_str()),
                ("client_secret", info.client_secret.as_str()),
                ("resource", audience::STORE),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        // Entra v1 writes its numbers as strings.
        assert!(tok["expires_in"].is_string(), "{tok}");
        assert!(tok["expires_on"].is_string(), "{tok}");
        let token = tok["access_token"].as_str().unwrap().to_string();
        Self {
            sb,
            http,
            token,
            _dir: dir,
        }
    }

    fn key(&self, name: &str, purchase: bool) -> String {
        let c = self
            .sb
            .info
            .customers
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no demo customer {name}"));
        if purchase {
            c.purchase_key.clone()
        } else {
            c.collections_key.clone()
        }
    }

    async fn post(
        &self,
        path: &str,
        body: &Value,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.sb.base_url()))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .unwrap();
        let (status, headers) = (r.status(), r.headers().clone());
        (status, headers, r.json().await.unwrap_or(Value::Null))
    }

    /// The doc's PublisherQuery request, for `name`'s key and products.
    fn query(&self, name: &str) -> Value {
        let mut req = fixture("publisher_query_request.json");
        req["beneficiaries"][0]["identityValue"] = json!(self.key(name, false));
        req["productSkuIds"] = json!(
            self.sb
                .product_ids()
                .iter()
                .take(100)
                .map(|p| json!({ "productId": p }))
                .collect::<Vec<_>>()
        );
        req["maxPageSize"] = json!(100);
        req["excludeDuplicates"] = json!(false);
        req.as_object_mut().unwrap().remove("sbx");
        req
    }

    /// Spend quinn's one 429 (checking its shape) so reads after it go through.
    async fn spend_the_429(&self) {
        let (status, headers, body) = self
            .post(
                "/collections/v9.0/collections/publisherQuery",
                &self.query("quinn"),
            )
            .await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
        assert!(headers.get("retry-after").is_none(), "{headers:?}");
        assert_eq!(body["code"], "TooManyRequests", "{body}");
        assert!(body["innererror"]["code"].is_string(), "{body}");
    }

    fn client(&self) -> StoreClient {
        let mut cfg = self.sb.info.client_config();
        cfg.retry = RetryPolicy {
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(100),
            ..RetryPolicy::default()
        };
        StoreClient::new(cfg).unwrap()
    }
}

fn item<'a>(items: &'a [Value], product: &str) -> &'a Value {
    items
        .iter()
        .find(|i| i["productId"] == product)
        .unwrap_or_else(|| panic!("{product} not listed: {items:?}"))
}

#[tokio::test]
async fn a_request_with_a_misspelt_field_is_refused_in_the_documented_shape() {
    let env = Env::start().await;
    // The doc's own request (its lowercase `identitytype` included) is fine…
    let req = env.query("ada");
    let (status, _, body) = env
        .post("/collections/v9.0/collections/PublisherQuery", &req)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // …and with `productSkuIds` misspelt it is a 400, as the service answers.
    let mut bad = req.clone();
    let ids = bad
        .as_object_mut()
        .unwrap()
        .remove("productSkuIds")
        .unwrap();
    bad["productSkuId"] = ids;
    let (status, _, body) = env
        .post("/collections/v9.0/collections/publisherQuery", &bad)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], "BadRequest");
    assert_eq!(body["innererror"]["code"], "InvalidParameter");
    let msg = body["message"].as_str().unwrap();
    assert!(msg.contains("\"productSkuId\""), "{msg}");
    assert!(msg.contains("did you mean \"productSkuIds\""), "{msg}");
    // A misspelt nested field too, and a consume with `trackingID` spelt
    // as a person might (names match ignoring case: accepted) vs `trackId`.
    let mut bad = req.clone();
    bad["beneficiaries"][0]["identityValeu"] = bad["beneficiaries"][0]["identityValue"].take();
    bad["beneficiaries"][0]
        .as_object_mut()
        .unwrap()
        .remove("identityValue");
    let (status, _, body) = env
        .post("/collections/v9.0/collections/publisherQuery", &bad)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("beneficiaries[0].identityValeu"),
        "{body}"
    );
    let mut consume = fixture("consume_request.json");
    consume["beneficiary"]["identityValue"] = json!(env.key("cora", false));
    consume["trackingId"] = json!(uuid::Uuid::new_v4().to_string());
    let mut typo = consume.clone();
    typo["trackId"] = typo["trackingId"].take();
    typo.as_object_mut().unwrap().remove("trackingId");
    let (status, _, body) = env
        .post("/collections/v8.0/collections/consume", &typo)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let mut cased = consume.clone();
    cased["TrackingID"] = cased["trackingId"].take();
    cased.as_object_mut().unwrap().remove("trackingId");
    let (status, _, body) = env
        .post("/collections/v8.0/collections/consume", &cased)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["newQuantity"], 24, "{body}");
}

#[tokio::test]
async fn the_docs_request_examples_are_accepted_over_http() {
    let env = Env::start().await;
    let ck = env.key("sam", false);
    let pk = env.key("sam", true);
    let mut v8 = fixture("license_preview_request.json");
    v8["beneficiaries"][0]["identityValue"] = json!(ck);
    let (status, _, body) = env
        .post("/collections/v8.0/collections/b2bLicensePreview", &v8)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for (path, name) in [
        ("/purchase/v8.0/b2b/orders/query", "orders_request.json"),
        (
            "/purchase/v8.0/b2b/recurrences/query",
            "recurrences_request.json",
        ),
    ] {
        let mut req = fixture(name);
        req["b2bKey"] = json!(pk);
        let (status, _, body) = env.post(path, &req).await;
        assert_eq!(status, StatusCode::OK, "{name}: {body}");
        assert!(body["items"].is_array(), "{name}: {body}");
    }
    // sam's first subscription is retail and active: the doc's change
    // example (extensionTimeInDays "7", a string) extends it.
    let mut change = fixture("recurrence_change_request.json");
    change["b2bKey"] = json!(pk);
    let (status, _, body) = env
        .post(
            "/purchase/v8.0/b2b/recurrences/mdr:0:aa00000000000000000000000000000a:0a000000-0000-4000-8000-00000000000a/change",
            &change,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body["items"].is_null(),
        "the documented answer is the bare item"
    );
    let mut grant = fixture("grant_request.json");
    grant["b2bKey"] = json!(env.key("nora", true));
    let (status, _, body) = env.post("/purchase/v6.0/purchases/grant", &grant).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["orderLineItems"][0]["productId"], "9NSDFREEGEMS");
    // The doc spells the renew field `Key`; the renew call has no bearer.
    let mut renew = fixture("renew_request.json");
    renew["serviceTicket"] = json!(env.token);
    renew["Key"] = json!(env.key("rene", false));
    let r = env
        .http
        .post(format!(
            "{}/collections/v6.0/b2b/keys/renew",
            env.sb.base_url()
        ))
        .json(&renew)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert!(body["key"].is_string(), "documented answer: {body}");
}

#[tokio::test]
async fn the_quirks_customer_answers_carry_the_documented_quirks() {
    let env = Env::start().await;
    assert!(
        env.sb
            .info
            .customers
            .iter()
            .any(|c| c.name == "quinn" && c.about.contains("quirks")),
        "quinn is a demo customer (the picker lists it)"
    );
    env.spend_the_429().await;
    // Once: the next query answers.
    let (status, _, page) = env
        .post(
            "/collections/v9.0/collections/publisherQuery",
            &env.query("quinn"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.as_object().unwrap().contains_key("continuationToken")
            && page["continuationToken"].is_null(),
        "an explicit null on the last page: {page}"
    );
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 4, "{page}");
    let game = item(items, "9NSDGAME0001");
    for f in ["recurrenceId", "satisfiedByProductIds", "tags"] {
        assert!(
            game.as_object().unwrap().contains_key(f) && game[f].is_null(),
            "{f} an explicit null: {game}"
        );
    }
    let trial = game["trialData"].as_object().unwrap();
    assert!(trial.contains_key("trialTimeRemaining") && trial["trialTimeRemaining"].is_null());
    let pass = item(items, "9NSDPASS0001");
    assert_eq!(
        pass["trialData"]["trialTimeRemaining"], "02:05:30:00.000",
        "the doc table's DD:HH:MM:SS.MS"
    );
    // Everyone else: the documented clean form, no nulls.
    let (_, _, ada) = env
        .post(
            "/collections/v9.0/collections/publisherQuery",
            &env.query("ada"),
        )
        .await;
    assert!(ada.get("continuationToken").is_none(), "{ada}");
    let ada_items = ada["items"].as_array().unwrap();
    assert_eq!(
        item(ada_items, "9NSDPASS0001")["trialData"]["trialTimeRemaining"],
        "3.04:00:00"
    );
    assert!(
        ada_items
            .iter()
            .all(|i| i.as_object().unwrap().values().all(|v| !v.is_null())),
        "{ada}"
    );

    let pk = env.key("quinn", true);
    let (_, _, orders) = env
        .post("/purchase/v8.0/b2b/orders/query", &json!({"b2bKey": pk}))
        .await;
    let order = &orders["items"][0];
    assert!(
        order["orderRefundedDate"].is_null() && order.get("orderRefundedDate").is_some(),
        "{orders}"
    );
    let (_, _, subs) = env
        .post(
            "/purchase/v8.0/b2b/recurrences/query",
            &json!({"b2bKey": pk}),
        )
        .await;
    let sub = &subs["items"][0];
    assert!(
        sub.get("cancellationDate").is_some() && sub["cancellationDate"].is_null(),
        "{subs}"
    );
    let id = sub["id"].as_str().unwrap();
    let (status, _, changed) = env
        .post(
            &format!("/purchase/v8.0/b2b/recurrences/{id}/change"),
            &json!({"b2bKey": pk, "changeType": "Extend", "extensionTimeInDays": 7}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(
        changed["items"][0]["id"], id,
        "wrapped as the older doc: {changed}"
    );

    let r = env
        .http
        .post(format!(
            "{}/collections/v6.0/b2b/keys/renew",
            env.sb.base_url()
        ))
        .json(&json!({"serviceTicket": env.token, "key": env.key("quinn", false)}))
        .send()
        .await
        .unwrap();
    let renewed: Value = r.json().await.unwrap();
    assert!(
        renewed["Key"].is_string() && renewed.get("key").is_none(),
        "{renewed}"
    );

    let sas: Value = env
        .http
        .get(format!(
            "{}/purchase/v8.0/b2b/clawback/sastoken",
            env.sb.base_url()
        ))
        .bearer_auth(&env.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let exp = sas["expiresOn"].as_str().unwrap();
    assert_eq!(exp.len(), "2022-12-09T02:13Z".len(), "{exp}");
    assert!(exp.ends_with('Z') && exp.as_bytes()[13] == b':', "{exp}");
}

#[tokio::test]
async fn the_real_client_reads_the_quirks_customer_over_http() {
    let env = Env::start().await;
    env.spend_the_429().await;
    let c = env.client();
    let ck = env.key("quinn", false);
    let pk = env.key("quinn", true);
    let products = env.sb.product_ids();
    let cancel = CancellationToken::new();

    let mut v9 = Vec::new();
    c.entitlements_v9(&ck, &products, &QueryOptions::default(), &cancel, |ev| {
        v9.extend(ev.items)
    })
    .await
    .unwrap();
    assert_eq!(v9.len(), 4);
    assert!(v9.iter().all(|e| e.unreadable.is_none()), "{v9:?}");
    let pass = v9.iter().find(|e| e.product_id == "9NSDPASS0001").unwrap();
    let left = pass
        .trial_data
        .as_ref()
        .unwrap()
        .trial_time_remaining
        .unwrap();
    assert_eq!(
        left.0,
        chrono::TimeDelta::days(2) + chrono::TimeDelta::minutes(5 * 60 + 30)
    );
    let game = v9.iter().find(|e| e.product_id == "9NSDGAME0001").unwrap();
    assert!(game.satisfied_by_product_ids.is_empty() && game.tags.is_empty());
    let in_pass = v9.iter().find(|e| e.product_id == "9NSDPASSGM01").unwrap();
    assert_eq!(in_pass.satisfied_by_product_ids, ["9NSDPASS0001"]);

    let mut v8 = Vec::new();
    c.entitlements_v8(&ck, &QueryOptions::default(), &cancel, |ev| {
        v8.extend(ev.items)
    })
    .await
    .unwrap();
    assert_eq!(v8.len(), 4);
    assert!(v8.iter().all(|e| e.unreadable.is_none()), "{v8:?}");
    let pass8 = v8.iter().find(|e| e.product_id == "9NSDPASS0001").unwrap();
    assert_eq!(pass8.recurrence(), pass.recurrence());

    let mut orders = Vec::new();
    c.orders(&pk, None, &cancel, |ev| orders.extend(ev.items))
        .await
        .unwrap();
    assert_eq!(orders.len(), 1);
    assert!(orders[0].order_refunded_date.is_none());
    assert_eq!(orders[0].order_line_items[0].quantity, 12);

    let mut subs = Vec::new();
    c.recurrences(&pk, &cancel, |ev| subs.extend(ev.items))
        .await
        .unwrap();
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0].recurrence_state, Some(RecurrenceState::Active));
    let before = subs[0].expiration_time.unwrap().0;
    let changed = c
        .change_recurrence(
            &subs[0].id,
            &RecurrenceChangeRequest {
                b2b_key: pk.clone(),
                change_type: ChangeType::Extend,
                extension_time_in_days: Some(7),
                sbx: None,
            },
        )
        .await
        .unwrap()
        .value;
    assert_eq!(changed.id, subs[0].id, "read out of the wrapped answer");
    assert_eq!(
        changed.expiration_time.unwrap().0 - before,
        chrono::TimeDelta::days(7)
    );

    let consumed = c
        .consume(&ConsumeRequest {
            beneficiary: Beneficiary::b2b(ck.clone()),
            product_id: "9NSDCOIN0500".into(),
            tracking_id: uuid::Uuid::new_v4().to_string(),
            remove_quantity: Some(2),
            include_order_ids: Some(true),
            sbx: None,
        })
        .await
        .unwrap()
        .value;
    assert_eq!(consumed.new_quantity, 10);
    assert_eq!(consumed.order_transactions.map(|t| t.len()), Some(1));

    let order_id = uuid::Uuid::new_v4().to_string();
    let granted = c
        .grant(&GrantRequest {
            availability_id: "9NSDAV000009".into(),
            b2b_key: pk.clone(),
            dev_offer_id: None,
            language: "en-us".into(),
            market: "US".into(),
            order_id: order_id.clone(),
            product_id: "9NSDFREEGEMS".into(),
            quantity: Some(1),
            sku_id: "0010".into(),
        })
        .await
        .unwrap()
        .value;
    assert_eq!(granted.order_id, order_id);

    // The renewed key comes back under `Key`.
    let renewed = c.renew_key(&ck).await.unwrap().value;
    assert!(renewed.starts_with("eyJ") && renewed != ck);
    let sas = c.clawback_sas().await.unwrap().value;
    assert!(sas.uri.contains("/queue/"));
}
