//! The embedded Store sandbox over real loopback HTTP: every rule of
//! STORE-API.md §1–9 and issue 5 has a test here.

use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;
use storedesk::clock::Clock;
use storedesk::sandbox::{self, Sandbox, SandboxOptions};
use storedesk::store::audience;
use storedesk::store::model::{self, ClawbackEvent, QueryResponse};

const NOW: &str = "2026-11-23T10:00:00Z";

struct Env {
    sb: Sandbox,
    http: reqwest::Client,
    dir: tempfile::TempDir,
}

fn clock() -> Clock {
    Clock::fixed(chrono::DateTime::parse_from_rfc3339(NOW).unwrap().to_utc())
}

async fn env_in(dir: tempfile::TempDir) -> Env {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let sb = sandbox::start(SandboxOptions {
        data_dir: dir.path().to_path_buf(),
        port: 0,
        clock: clock(),
        faults: vec![],
    })
    .await
    .unwrap();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    Env { sb, http, dir }
}

async fn env() -> Env {
    env_in(tempfile::tempdir().unwrap()).await
}

struct Answer {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Answer {
    fn inner_code(&self) -> &str {
        self.body["innererror"]["code"].as_str().unwrap_or("")
    }
}

impl Env {
    fn url(&self, path: &str) -> String {
        format!("{}{}", self.sb.base_url(), path)
    }

    fn key(&self, name: &str, purchase: bool) -> String {
        let c = self
            .sb
            .info
            .customers
            .iter()
            .find(|c| c.name == name)
            .unwrap();
        if purchase {
            c.purchase_key.clone()
        } else {
            c.collections_key.clone()
        }
    }

    async fn token_for(&self, aud: &str) -> String {
        let r = self
            .http
            .post(self.url(&format!("/login/{}/oauth2/token", self.sb.info.tenant)))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", self.sb.info.client_id.as_str()),
                ("client_secret", self.sb.info.client_secret.as_str()),
                ("resource", aud),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        v["access_token"].as_str().unwrap().to_owned()
    }

    async fn token(&self) -> String {
        self.token_for(audience::STORE).await
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Answer {
        let r = req.send().await.unwrap();
        let status = r.status();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Answer {
            status,
            headers,
            body,
        }
    }

    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Answer {
        let mut req = self.http.post(self.url(path)).json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        self.send(req).await
    }

    async fn query(&self, token: &str, key: &str, extra: Value) -> Answer {
        let mut body = json!({
            "beneficiaries": [{"identityType": "b2b", "identityValue": key, "localTicketReference": ""}],
        });
        merge(&mut body, extra);
        self.post(
            "/collections/v9.0/collections/publisherQuery",
            Some(token),
            body,
        )
        .await
    }

    async fn v8(&self, token: &str, key: &str, extra: Value) -> Answer {
        let mut body = json!({
            "beneficiaries": [{"identityType": "b2b", "identityValue": key, "localTicketReference": ""}],
        });
        merge(&mut body, extra);
        self.post(
            "/collections/v8.0/collections/b2bLicensePreview",
            Some(token),
            body,
        )
        .await
    }

    async fn consume(
        &self,
        token: &str,
        key: &str,
        product: &str,
        tracking: &str,
        qty: Option<i64>,
    ) -> Answer {
        let mut body = json!({
            "beneficiary": {"identityType": "b2b", "identityValue": key, "localTicketReference": ""},
            "productId": product, "trackingId": tracking, "includeOrderIds": true,
        });
        if let Some(q) = qty {
            body["removeQuantity"] = json!(q);
        }
        self.post("/collections/v8.0/collections/consume", Some(token), body)
            .await
    }

    async fn balance(&self, token: &str, key: &str, product: &str) -> i64 {
        let a = self
            .query(
                token,
                key,
                json!({"productSkuIds": [{"productId": product}]}),
            )
            .await;
        assert_eq!(a.status, 200, "{:?}", a.body);
        a.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["status"] == "Active")
            .and_then(|i| i["quantity"].as_i64())
            .unwrap()
    }

    async fn control(&self, method: reqwest::Method, what: &str, body: Option<Value>) -> Answer {
        let mut req = self
            .http
            .request(method, self.url(&format!("/_sandbox/{what}")))
            .header(sandbox::CONTROL_SECRET_HEADER, &self.sb.info.control_secret);
        if let Some(b) = body {
            req = req.json(&b);
        }
        self.send(req).await
    }
}

fn merge(into: &mut Value, extra: Value) {
    if let (Some(a), Value::Object(b)) = (into.as_object_mut(), extra) {
        a.extend(b);
    }
}

fn whale_ids() -> Value {
    Value::Array(
        (0..100)
            .map(|i| json!({"productId": format!("9WHALE{i:04}")}))
            .collect(),
    )
}

// ---------------------------------------------------------------- §1 tokens

#[tokio::test]
async fn token_endpoint_v1_v2_and_client_checks() {
    let e = env().await;
    let info = &e.sb.info;
    let v2 = e
        .send(
            e.http
                .post(e.url(&format!("/login/{}/oauth2/v2.0/token", info.tenant)))
                .form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", info.client_id.as_str()),
                    ("client_secret", info.client_secret.as_str()),
                    ("scope", &format!("{}/.default", audience::COLLECTIONS_KEY)),
                ]),
        )
        .await;
    assert_eq!(v2.status, 200);
    assert_eq!(v2.body["expires_in"], 3599);
    let v1: model::TokenResponse = serde_json::from_value(
        e.send(
            e.http
                .post(e.url(&format!("/login/{}/oauth2/token", info.tenant)))
                .form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", info.client_id.as_str()),
                    ("client_secret", info.client_secret.as_str()),
                    ("resource", audience::PURCHASE_KEY),
                ]),
        )
        .await
        .body,
    )
    .unwrap();
    assert_eq!(v1.expires_in, Some(3599));
    assert_eq!(v1.resource.as_deref(), Some(audience::PURCHASE_KEY));

    let bad = e
        .send(
            e.http
                .post(e.url(&format!("/login/{}/oauth2/token", info.tenant)))
                .form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", info.client_id.as_str()),
                    ("client_secret", "wrong"),
                    ("resource", audience::STORE),
                ]),
        )
        .await;
    assert_eq!(bad.status, 401);
    assert_eq!(bad.body["error"], "invalid_client");
    let unknown = e
        .send(
            e.http
                .post(e.url(&format!("/login/{}/oauth2/token", info.tenant)))
                .form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", info.client_id.as_str()),
                    ("client_secret", info.client_secret.as_str()),
                    ("resource", "https://example.com"),
                ]),
        )
        .await;
    assert_eq!(unknown.status, 400);
    let tenant = e
        .send(
            e.http
                .post(e.url("/login/other-tenant/oauth2/token"))
                .form(&[("grant_type", "client_credentials")]),
        )
        .await;
    assert_eq!(tenant.status, 400);
    assert!(!format!("{:?}", e.sb.info).contains(&e.sb.info.client_secret));
}

// ---------------------------------------------------------------- auth

#[tokio::test]
async fn authorization_as_the_service_does_it() {
    let e = env().await;
    let t = e.token().await;
    let ada = e.key("ada", false);
    let ids = json!({"productSkuIds": [{"productId": "9NSDGAME0001"}]});

    let none = e
        .post(
            "/collections/v9.0/collections/publisherQuery",
            None,
            json!({"beneficiaries": [], "productSkuIds": []}),
        )
        .await;
    assert_eq!(none.status, 401);
    assert_eq!(none.inner_code(), "PartnerAadTicketRequired");

    let wrong_aud = e.token_for(audience::COLLECTIONS_KEY).await;
    let a = e.query(&wrong_aud, &ada, ids.clone()).await;
    assert_eq!(
        (a.status.as_u16(), a.inner_code()),
        (401, "AuthenticationTokenInvalid")
    );

    let a = e.query("not-a-token", &ada, ids.clone()).await;
    assert_eq!(
        (a.status.as_u16(), a.inner_code()),
        (401, "AuthenticationTokenInvalid")
    );

    let expired = e.query(&t, &e.key("ezra", false), ids.clone()).await;
    assert_eq!(
        (expired.status.as_u16(), expired.inner_code()),
        (401, "AuthenticationTokenInvalid")
    );

    let kind = e.query(&t, &e.key("ada", true), ids.clone()).await;
    assert_eq!(kind.status, 401);
    assert!(
        kind.body["message"]
            .as_str()
            .unwrap()
            .contains("UserCollectionsId")
    );

    let other = e
        .control(
            reqwest::Method::POST,
            "keys",
            Some(json!({"customer": "ada", "kind": "collections", "clientId": "another-app"})),
        )
        .await;
    let other_key = other.body["key"].as_str().unwrap();
    let a = e.query(&t, other_key, ids.clone()).await;
    assert_eq!(
        (a.status.as_u16(), a.inner_code()),
        (401, "InconsistentClientId")
    );

    let ok = e.query(&t, &ada, ids).await;
    assert_eq!(ok.status, 200);
    for h in ["ms-correlationid", "ms-requestid", "ms-cv"] {
        assert!(ok.headers.contains_key(h), "{h}");
    }
}

// ---------------------------------------------------------------- §2 keys

#[tokio::test]
async fn demo_keys_carry_documented_claims_and_verify() {
    let e = env().await;
    let key = e.key("rene", false);
    let dk = jsonwebtoken::DecodingKey::from_rsa_pem(e.sb.info.public_key_pem.as_bytes()).unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.validate_exp = false;
    v.validate_aud = false;
    let d = jsonwebtoken::decode::<model::KeyClaims>(&key, &dk, &v).unwrap();
    assert_eq!(d.header.kid.as_deref(), Some("storedesk-sandbox"));
    let c = d.claims;
    assert_eq!(c.iss, model::key_uri::COLLECTIONS_AUD);
    assert_eq!(c.aud, c.iss);
    assert_eq!(c.refresh_uri, model::key_uri::COLLECTIONS_RENEW);
    assert_eq!(c.client_id, e.sb.info.client_id);
    assert_eq!(c.user_id, "rene@contoso.example");
    assert_eq!(c.exp - c.iat, 30 * 86_400);
    let now = clock().now().timestamp();
    assert_eq!(c.iat, now - 20 * 86_400);
    let p = jsonwebtoken::decode::<model::KeyClaims>(&e.key("rene", true), &dk, &v).unwrap();
    assert_eq!(p.claims.aud, model::key_uri::PURCHASE_AUD);
    assert_eq!(p.claims.refresh_uri, model::key_uri::PURCHASE_RENEW);
}

#[tokio::test]
async fn renew_before_expiry_only() {
    let e = env().await;
    let t = e.token().await;
    let r = e
        .post(
            "/collections/v6.0/b2b/keys/renew",
            None,
            json!({"serviceTicket": t, "Key": e.key("rene", false)}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let fresh = r.body["key"].as_str().unwrap().to_owned();
    assert_ne!(fresh, e.key("rene", false));
    let q = e
        .query(
            &t,
            &fresh,
            json!({"productSkuIds": [{"productId": "9NSDGAME0001"}]}),
        )
        .await;
    assert_eq!(q.status, 200);

    let p = e
        .post(
            "/purchase/v6.0/b2b/keys/renew",
            None,
            json!({"serviceTicket": t, "key": e.key("rene", true)}),
        )
        .await;
    assert_eq!(p.status, 200);

    let expired = e
        .post(
            "/collections/v6.0/b2b/keys/renew",
            None,
            json!({"serviceTicket": t, "key": e.key("ezra", false)}),
        )
        .await;
    assert_eq!(
        (expired.status.as_u16(), expired.inner_code()),
        (401, "AuthenticationTokenInvalid")
    );

    let other = e
        .control(
            reqwest::Method::POST,
            "keys",
            Some(json!({"customer": "rene", "kind": "collections", "clientId": "x"})),
        )
        .await;
    let r = e
        .post(
            "/collections/v6.0/b2b/keys/renew",
            None,
            json!({"serviceTicket": t, "key": other.body["key"]}),
        )
        .await;
    assert_eq!(r.inner_code(), "InconsistentClientId");
    let bad_ticket = e
        .post(
            "/collections/v6.0/b2b/keys/renew",
            None,
            json!({"serviceTicket": "x", "key": e.key("rene", false)}),
        )
        .await;
    assert_eq!(bad_ticket.status, 401);
}

// ---------------------------------------------------------------- §3 queries

#[tokio::test]
async fn publisher_query_request_rules() {
    let e = env().await;
    let t = e.token().await;
    let k = e.key("ada", false);
    let missing = e.query(&t, &k, json!({})).await;
    assert_eq!(
        (missing.status.as_u16(), missing.inner_code()),
        (400, "InvalidParameter")
    );
    let many: Vec<Value> = (0..101)
        .map(|i| json!({"productId": format!("9X{i:010}")}))
        .collect();
    let a = e.query(&t, &k, json!({"productSkuIds": many})).await;
    assert_eq!(a.status, 400);
    assert!(a.body["message"].as_str().unwrap().contains("101"));
    let a = e
        .query(
            &t,
            &k,
            json!({"productSkuIds": [{"productId": "9NSDGAME0001"}], "maxPageSize": 201}),
        )
        .await;
    assert_eq!(a.status, 400);
    let a = e.query(&t, &k, json!({"productSkuIds": [{"productId": "9NSDGAME0001"}], "continuationToken": "garbage"})).await;
    assert_eq!(a.status, 400);
    // Explicit nulls, as the official library sends them.
    let a = e
        .query(&t, &k, json!({"productSkuIds": [{"productId": "9NSDGAME0001"}], "sbx": null, "continuationToken": null}))
        .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn whale_pages_of_200_cover_10000_items() {
    let e = env().await;
    let t = e.token().await;
    let k = e.key("wally", false);
    let mut token: Option<String> = None;
    let mut ids = std::collections::HashSet::new();
    let mut pages = 0;
    loop {
        let mut extra = json!({"productSkuIds": whale_ids(), "maxPageSize": 200});
        if let Some(t) = &token {
            extra["continuationToken"] = json!(t);
        }
        let a = e.query(&t, &k, extra).await;
        assert_eq!(a.status, 200);
        let page: QueryResponse = serde_json::from_value(a.body.clone())
            .unwrap_or_else(|_| serde_json::from_str(&a.body.to_string()).unwrap());
        assert!(page.items.len() <= 200);
        pages += 1;
        for i in page.items {
            assert!(ids.insert(i.id), "duplicate id");
        }
        token = page.continuation_token;
        if token.is_none() {
            break;
        }
    }
    assert_eq!(ids.len(), 10_000);
    assert_eq!(pages, 50);
    // Default page size is 100.
    let a = e.query(&t, &k, json!({"productSkuIds": whale_ids()})).await;
    assert_eq!(a.body["items"].as_array().unwrap().len(), 100);
}

#[tokio::test]
async fn continuation_tokens_stay_right_while_state_changes() {
    let e = env().await;
    let t = e.token().await;
    let k = e.key("dana", false);
    let page1 = e.v8(&t, &k, json!({"maxPageSize": 50})).await;
    let ids1: Vec<String> = page1.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    let tok = page1.body["continuationToken"].as_str().unwrap().to_owned();
    // A grant between pages adds an item.
    let g = grant(
        &e,
        &t,
        "dana",
        "9NSDDLC00002",
        "0d5e1111-2222-4333-8444-555566667777",
        None,
    )
    .await;
    assert_eq!(g.status, 200, "{:?}", g.body);
    let mut all = ids1.clone();
    let mut tok = Some(tok);
    while let Some(c) = tok {
        let p = e
            .v8(&t, &k, json!({"maxPageSize": 50, "continuationToken": c}))
            .await;
        assert_eq!(p.status, 200);
        all.extend(
            p.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_str().unwrap().to_owned()),
        );
        tok = p.body["continuationToken"].as_str().map(String::from);
    }
    let unique: std::collections::HashSet<_> = all.iter().collect();
    assert_eq!(unique.len(), all.len(), "no item twice");
    assert_eq!(
        all.len(),
        123 + 1,
        "no item skipped, the new one at the end"
    );
}

#[tokio::test]
async fn duplicates_leak_across_pages_even_with_exclude_duplicates() {
    let e = env().await;
    let t = e.token().await;
    let k = e.key("dana", false);
    let p1 = e.v8(&t, &k, json!({"excludeDuplicates": true})).await;
    let find = |b: &Value| -> Vec<String> {
        b["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["productId"] == "9NSDDLC00001")
            .map(|i| i["status"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(find(&p1.body), ["Revoked"]);
    let p2 = e
        .v8(
            &t,
            &k,
            json!({"excludeDuplicates": true, "continuationToken": p1.body["continuationToken"]}),
        )
        .await;
    assert_eq!(find(&p2.body), ["Active"]);
    // On one page, excludeDuplicates keeps only the active copy.
    let one = e
        .query(
            &t,
            &k,
            json!({"productSkuIds": [{"productId": "9NSDDLC00001"}], "excludeDuplicates": true}),
        )
        .await;
    assert_eq!(find(&one.body), ["Active"]);
    let both = e
        .query(
            &t,
            &k,
            json!({"productSkuIds": [{"productId": "9NSDDLC00001"}]}),
        )
        .await;
    assert_eq!(find(&both.body).len(), 2);
}

#[tokio::test]
async fn validity_type_and_v8_filters() {
    let e = env().await;
    let t = e.token().await;
    let k = e.key("ada", false);
    let all_ids = json!([
        {"productId": "9NSDGAME0001"}, {"productId": "9NSDAPP00001"}, {"productId": "9NSDDLC00001"},
        {"productId": "9NSDDLC00002"}, {"productId": "9NSDDLC00003"}, {"productId": "9NSDBUNDLE01"},
        {"productId": "9NSDPASSGM01"}, {"productId": "9NSDGEMS0001"}, {"productId": "9NSDCOIN0500"},
        {"productId": "9NSDPASS0001"}
    ]);
    let count = |a: &Answer| a.body["items"].as_array().unwrap().len();
    let all = e
        .query(
            &t,
            &k,
            json!({"productSkuIds": all_ids, "validityType": "All"}),
        )
        .await;
    let valid = e
        .query(
            &t,
            &k,
            json!({"productSkuIds": all_ids, "validityType": "Valid"}),
        )
        .await;
    let invalid = e
        .query(
            &t,
            &k,
            json!({"productSkuIds": all_ids, "validityType": "Invalid"}),
        )
        .await;
    assert_eq!(count(&all), 10);
    assert_eq!(count(&valid) + count(&invalid), 10);
    assert!(
        valid.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["status"] == "Active")
    );
    // The expired durable is Active-looking in none: it is "Expired", and invalid.
    assert!(
        invalid.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["productId"] == "9NSDDLC00003")
    );
    let trial = all.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["productId"] == "9NSDPASS0001")
        .unwrap()
        .clone();
    assert_eq!(trial["trialData"]["isTrial"], true);
    assert_eq!(trial["trialData"]["trialTimeRemaining"], "3.04:00:00");
    assert!(trial["recurrenceId"].is_string() && trial.get("recurrenceData").is_none());

    let g = e.key("gus", false);
    let pass = e
        .v8(&t, &g, json!({"entitlementFilters": ["*:Pass"]}))
        .await;
    let items = pass.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["productKind"], "Pass");
    assert!(items[0]["recurrenceData"]["recurrenceId"].is_string());
    assert!(items[0]["productFamily"].is_string());
    // Content a pass satisfies is listed when asked for, as the official
    // library always asks (expandSatisfyingItems: true); not otherwise.
    let unexpanded = e
        .v8(&t, &g, json!({"entitlementFilters": ["*:Game"]}))
        .await;
    assert!(
        unexpanded.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["productId"] != "9NSDPASSGM01")
    );
    let games = e
        .v8(
            &t,
            &g,
            json!({"entitlementFilters": ["*:Game"], "expandSatisfyingItems": true}),
        )
        .await;
    let via_pass = games.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["productId"] == "9NSDPASSGM01")
        .unwrap()
        .clone();
    assert_eq!(via_pass["satisfiedByProductIds"], json!(["9NSDPASS0001"]));
    assert_eq!(via_pass["acquisitionType"], "Recurring");
    assert_eq!(e.v8(&t, &g, json!({"maxPageSize": 101})).await.status, 400);
    assert_eq!(
        e.v8(&t, &g, json!({"entitlementFilters": ["*:Toaster"]}))
            .await
            .status,
        400
    );
}

// ---------------------------------------------------------------- §4 consume

#[tokio::test]
async fn consume_idempotency_balance_and_order_ids() {
    let e = env().await;
    let t = e.token().await;
    let k = e.key("cora", false);
    let tid = "11111111-2222-4333-8444-555555555555";
    let a = e.consume(&t, &k, "9NSDCOIN0500", tid, Some(5)).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let r: model::ConsumeResponse = serde_json::from_value(a.body.clone()).unwrap();
    assert_eq!(r.new_quantity, 20);
    assert_eq!(r.tracking_id, tid);
    let txs = r.order_transactions.unwrap();
    assert_eq!(txs.len(), 1);
    assert_eq!(txs[0].order_id, "4e8d3c2b-1a0f-4e9d-9c8b-7a6f5e4d3c2b");
    assert_eq!(txs[0].quantity_consumed, 5);

    // Replay: same shape, current balance, nothing deducted twice.
    let again = e.consume(&t, &k, "9NSDCOIN0500", tid, Some(5)).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body["newQuantity"], 20);
    assert_eq!(again.body["orderTransactions"], a.body["orderTransactions"]);
    assert_eq!(e.balance(&t, &k, "9NSDCOIN0500").await, 20);

    let other = e.consume(&t, &k, "9NSDCOIN0500", tid, Some(6)).await;
    assert_eq!(other.status, 400);

    let too_much = e
        .consume(
            &t,
            &k,
            "9NSDCOIN0500",
            "21111111-2222-4333-8444-555555555555",
            Some(21),
        )
        .await;
    assert_eq!(
        (too_much.status.as_u16(), too_much.inner_code()),
        (400, "InsufficientBalance")
    );
    assert_eq!(e.balance(&t, &k, "9NSDCOIN0500").await, 20);

    // Store-managed needs removeQuantity; unmanaged must not have it.
    let a = e
        .consume(
            &t,
            &k,
            "9NSDCOIN0500",
            "31111111-2222-4333-8444-555555555555",
            None,
        )
        .await;
    assert_eq!(a.status, 400);
    let a = e
        .consume(
            &t,
            &k,
            "9NSDGEMS0001",
            "41111111-2222-4333-8444-555555555555",
            Some(1),
        )
        .await;
    assert_eq!(a.status, 400);
    let a = e
        .consume(
            &t,
            &k,
            "9NSDGEMS0001",
            "51111111-2222-4333-8444-555555555555",
            None,
        )
        .await;
    assert_eq!(
        (a.status.as_u16(), a.body["newQuantity"].as_i64()),
        (200, Some(0))
    );
    let a = e
        .consume(
            &t,
            &k,
            "9NSDGEMS0001",
            "61111111-2222-4333-8444-555555555555",
            None,
        )
        .await;
    assert_eq!(a.inner_code(), "InsufficientBalance");

    let bad = e
        .consume(&t, &k, "9NSDCOIN0500", "not-a-guid", Some(1))
        .await;
    assert_eq!(bad.status, 400);
    // Without includeOrderIds there are no orderTransactions.
    let mut body = json!({
        "beneficiary": {"identityType": "b2b", "identityValue": k, "localTicketReference": ""},
        "productId": "9NSDCOIN0500", "trackingId": "71111111-2222-4333-8444-555555555555", "removeQuantity": 1,
    });
    let a = e
        .post(
            "/collections/v8.0/collections/consume",
            Some(&t),
            body.clone(),
        )
        .await;
    assert!(a.body.get("orderTransactions").is_none());
    body["beneficiary"]["identityValue"] = json!(e.key("cora", true));
    let a = e
        .post("/collections/v8.0/collections/consume", Some(&t), body)
        .await;
    assert_eq!(a.status, 401);
}

#[tokio::test]
async fn rate_limit_100_per_5_minutes_per_customer() {
    let e = env().await;
    let t = e.token().await;
    let k = e.key("cora", false);
    let ids = json!({"productSkuIds": [{"productId": "9NSDGAME0001"}]});
    for i in 0..100 {
        let a = e.query(&t, &k, ids.clone()).await;
        assert_eq!(a.status, 200, "request {i}");
    }
    let a = e.query(&t, &k, ids.clone()).await;
    assert_eq!(a.status, 429);
    let ra: u64 = a.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=300).contains(&ra));
    // Another customer has their own budget.
    assert_eq!(
        e.query(&t, &e.key("ada", false), ids.clone()).await.status,
        200
    );
    // The control switch (for load benchmarks) lifts and restores it.
    let off = e
        .control(
            reqwest::Method::POST,
            "ratelimit",
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(off.status, 200);
    assert_eq!(e.query(&t, &k, ids.clone()).await.status, 200);
    e.control(
        reqwest::Method::POST,
        "ratelimit",
        Some(json!({"enabled": true})),
    )
    .await;
    assert_eq!(e.query(&t, &k, ids).await.status, 429);
}

// ---------------------------------------------------------------- §5 §7 §8

async fn grant(
    e: &Env,
    t: &str,
    who: &str,
    product: &str,
    order: &str,
    qty: Option<i64>,
) -> Answer {
    let (sku, avail) = match product {
        "9NSDDLC00002" => ("0010", "9NSDAV000004"),
        "9NSDAPP00001" => ("0010", "9NSDAV000002"),
        "9NSDFREEGEMS" => ("0010", "9NSDAV000009"),
        "9NSDCONSFREE" => ("0010", "9NSDAV000007"),
        "9NSDDLC00001" => ("0010", "9NSDAV000003"),
        _ => ("0010", ""),
    };
    let mut body = json!({
        "availabilityId": avail, "b2bKey": e.key(who, true), "language": "en-US", "market": "US",
        "orderId": order, "productId": product, "skuId": sku,
    });
    if let Some(q) = qty {
        body["quantity"] = json!(q);
    }
    e.post("/purchase/v6.0/purchases/grant", Some(t), body)
        .await
}

#[tokio::test]
async fn orders_last_90_days_with_filters() {
    let e = env().await;
    let t = e.token().await;
    let a = e
        .post(
            "/purchase/v8.0/b2b/orders/query",
            Some(&t),
            json!({"b2bKey": e.key("cora", true)}),
        )
        .await;
    assert_eq!(a.status, 200);
    let r: model::OrdersQueryResponse = serde_json::from_value(a.body).unwrap();
    assert_eq!(
        r.items.len(),
        5,
        "the 120-day-old order is out of the window"
    );
    assert!(r.items.iter().any(|o| o.order_refunded_date.is_some()));
    let f = e
        .post(
            "/purchase/v8.0/b2b/orders/query",
            Some(&t),
            json!({"b2bKey": e.key("cora", true), "lineItemStateFilter": ["Refunded"]}),
        )
        .await;
    let r: model::OrdersQueryResponse = serde_json::from_value(f.body).unwrap();
    assert_eq!(r.items.len(), 1);
    assert_eq!(r.items[0].order_id, "5f9e4d3c-2b1a-4f0e-8d9c-8b7a6f5e4d3c");
    let wrong = e
        .post(
            "/purchase/v8.0/b2b/orders/query",
            Some(&t),
            json!({"b2bKey": e.key("cora", false)}),
        )
        .await;
    assert_eq!(wrong.status, 401);
}

#[tokio::test]
async fn recurrences_every_state_and_change_rules() {
    let e = env().await;
    let t = e.token().await;
    let key = e.key("sam", true);
    let a = e
        .post(
            "/purchase/v8.0/b2b/recurrences/query",
            Some(&t),
            json!({"b2bKey": key}),
        )
        .await;
    let r: model::RecurrencesQueryResponse = serde_json::from_value(a.body).unwrap();
    let states: std::collections::HashSet<String> = r
        .items
        .iter()
        .map(|i| i.recurrence_state.clone().unwrap().as_str().to_owned())
        .collect();
    for s in model::RecurrenceState::KNOWN {
        assert!(states.contains(*s), "{s}");
    }
    let active = "mdr:0:aa00000000000000000000000000000a:0a000000-0000-4000-8000-00000000000a";
    let e = &e;
    let change = |id: &'static str, body: Value| {
        let mut b = json!({"b2bKey": key});
        merge(&mut b, body);
        let path = format!("/purchase/v8.0/b2b/recurrences/{id}/change");
        let t = t.clone();
        async move { e.post(&path, Some(&t), b).await }
    };
    let off = change(active, json!({"changeType": "ToggleAutoRenew"})).await;
    assert_eq!(off.status, 200, "{:?}", off.body);
    assert_eq!(off.body["autoRenew"], false);
    let again = change(active, json!({"changeType": "ToggleAutoRenew"})).await;
    assert_eq!(again.status, 400, "auto-renew can only be turned off");
    let before = r
        .items
        .iter()
        .find(|i| i.id == active)
        .unwrap()
        .expiration_time
        .unwrap();
    let ext = change(
        active,
        json!({"changeType": "Extend", "extensionTimeInDays": "7"}),
    )
    .await;
    let after: model::RecurrenceChangeResponse = serde_json::from_value(ext.body).unwrap();
    assert_eq!(
        after.0.expiration_time.unwrap().0 - before.0,
        chrono::TimeDelta::days(7)
    );
    assert_eq!(
        change(active, json!({"changeType": "Extend"})).await.status,
        400
    );
    let cancel = change(active, json!({"changeType": "Cancel"})).await;
    assert_eq!(cancel.body["recurrenceState"], "Canceled");
    assert!(cancel.body["cancellationDate"].is_string());
    let refund = change(active, json!({"changeType": "Refund"})).await;
    assert_eq!(refund.status, 200);
    let q = e
        .query(
            &t,
            &e.key("sam", false),
            json!({"productSkuIds": [{"productId": "9NSDSUB00001"}]}),
        )
        .await;
    assert_eq!(q.body["items"][0]["status"], "Revoked");

    let failed = "mdr:0:ff00000000000000000000000000000f:0f000000-0000-4000-8000-00000000000f";
    assert_eq!(
        change(failed, json!({"changeType": "Cancel"})).await.status,
        400
    );
    let nonretail = "mdr:0:1100000000000000000000000000001a:1a000000-0000-4000-8000-00000000001a";
    let nr = change(nonretail, json!({"changeType": "Cancel"})).await;
    assert_eq!(nr.status, 400);
    assert_eq!(
        nr.body["message"],
        "Requested catalog product data wasn't found."
    );
    assert_eq!(
        change("mdr:0:nope", json!({"changeType": "Cancel"}))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn grant_free_allowed_kinds_idempotent_by_order_id() {
    let e = env().await;
    let t = e.token().await;
    let order = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
    let a = grant(&e, &t, "nora", "9NSDDLC00002", order, None).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let o: model::PurchaseOrder = serde_json::from_value(a.body.clone()).unwrap();
    assert_eq!(o.order_state, Some(model::OrderState::Purchased));
    assert_eq!(o.order_line_items[0].billing_state, "Charged");
    let again = grant(&e, &t, "nora", "9NSDDLC00002", order, None).await;
    assert_eq!(again.body, a.body);
    let q = e
        .query(
            &t,
            &e.key("nora", false),
            json!({"productSkuIds": [{"productId": "9NSDDLC00002"}]}),
        )
        .await;
    assert_eq!(q.body["items"].as_array().unwrap().len(), 1, "granted once");

    let priced = grant(
        &e,
        &t,
        "nora",
        "9NSDDLC00001",
        "1a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
        None,
    )
    .await;
    assert_eq!(priced.status, 400);
    let kind = grant(
        &e,
        &t,
        "nora",
        "9NSDCONSFREE",
        "2a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
        None,
    )
    .await;
    assert_eq!(kind.status, 400);
    let reuse = grant(&e, &t, "nora", "9NSDAPP00001", order, None).await;
    assert_eq!(reuse.status, 400);
    let gems = grant(
        &e,
        &t,
        "nora",
        "9NSDFREEGEMS",
        "3a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
        Some(3),
    )
    .await;
    assert_eq!(gems.status, 200);
    assert_eq!(
        e.balance(&t, &e.key("nora", false), "9NSDFREEGEMS").await,
        3
    );
    let unknown = grant(
        &e,
        &t,
        "nora",
        "9NOPE0000000",
        "4a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
        None,
    )
    .await;
    assert_eq!(
        unknown.body["message"],
        "Requested catalog product data wasn't found."
    );
}

// ---------------------------------------------------------------- §6 clawback

#[tokio::test]
async fn clawback_queue_peek_receive_visibility_delete() {
    let e = env().await;
    let t = e.token().await;
    let no = e
        .send(e.http.get(e.url("/purchase/v8.0/b2b/clawback/sastoken")))
        .await;
    assert_eq!(no.status, 401);
    let sas = e
        .send(
            e.http
                .get(e.url("/purchase/v8.0/b2b/clawback/sastoken"))
                .bearer_auth(&t),
        )
        .await;
    assert_eq!(sas.status, 200);
    let s: model::SasTokenResponse = serde_json::from_value(sas.body.clone()).unwrap();
    assert_eq!(
        sas.body["expiresOn"].as_str().unwrap().len(),
        "2022-12-09T02:13Z".len()
    );
    let (base, query) = s.uri.split_once('?').unwrap();
    assert!(base.starts_with(e.sb.base_url()));
    let get = |extra: &str| {
        let url = format!("{base}/messages?{query}&{extra}");
        let http = e.http.clone();
        async move {
            let r = http.get(url).send().await.unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let (st, xml) = get("numofmessages=32&peekonly=true").await;
    assert_eq!(st, 200);
    let peeked = model::queue_messages_from_xml(&xml).unwrap();
    assert_eq!(peeked.len(), 4);
    assert!(peeked.iter().all(|m| m.pop_receipt.is_none()));
    let states: Vec<String> = peeked
        .iter()
        .map(|m| {
            ClawbackEvent::from_message_text(&m.message_text)
                .unwrap()
                .data
                .event_state
                .unwrap()
                .as_str()
                .to_owned()
        })
        .collect();
    assert_eq!(
        states,
        ["Revoked", "Returned", "Refunded", "ChargebackReversal"]
    );

    let (_, xml) = get("numofmessages=1&visibilitytimeout=1").await;
    let got = model::queue_messages_from_xml(&xml).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].dequeue_count, 1);
    let receipt = got[0].pop_receipt.clone().unwrap();
    let (_, xml) = get("numofmessages=32&peekonly=true").await;
    assert_eq!(
        model::queue_messages_from_xml(&xml).unwrap().len(),
        3,
        "received message is hidden"
    );

    tokio::time::sleep(Duration::from_millis(1200)).await;
    let (_, xml) = get("numofmessages=1&visibilitytimeout=30").await;
    let again = model::queue_messages_from_xml(&xml).unwrap();
    assert_eq!(
        again[0].message_id, got[0].message_id,
        "visible again after the timeout"
    );
    assert_eq!(again[0].dequeue_count, 2);
    let new_receipt = again[0].pop_receipt.clone().unwrap();

    let del = |id: &str, r: &str| {
        let url = format!("{base}/messages/{id}?{query}&popreceipt={r}");
        let http = e.http.clone();
        async move { http.delete(url).send().await.unwrap().status() }
    };
    assert_eq!(
        del(&got[0].message_id, &receipt).await,
        400,
        "stale pop receipt"
    );
    assert_eq!(del(&got[0].message_id, &new_receipt).await, 204);
    assert_eq!(del(&got[0].message_id, &new_receipt).await, 404);
    let (_, xml) = get("numofmessages=32&peekonly=true").await;
    assert_eq!(model::queue_messages_from_xml(&xml).unwrap().len(), 3);

    let forged = e
        .http
        .get(format!(
            "{base}/messages?sv=x&se=2099-01-01T00:00Z&sp=rp&sig=forged"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert!(
        forged
            .text()
            .await
            .unwrap()
            .contains("AuthenticationFailed")
    );
    let (st, _) = get("numofmessages=33").await;
    assert_eq!(st, 400);
}

// ---------------------------------------------------------------- §9 offers

#[tokio::test]
async fn targeted_offers_get_and_claim() {
    let e = env().await;
    let user = e.key("ada", true);
    let r = e
        .send(
            e.http
                .get(e.url("/devcenter/v2.0/my/storeoffers/user"))
                .bearer_auth(&user),
        )
        .await;
    assert_eq!(r.status, 200);
    let offers: Vec<model::TargetedOffer> = serde_json::from_value(r.body).unwrap();
    assert_eq!(offers.len(), 1);
    let claim = e
        .post(
            "/devcenter/v2.0/my/storeoffers/user",
            Some(&user),
            json!({"storeOffer": offers[0], "receipt": "3d7c2b1a-0f9e-4d8c-8b7a-6f5e4d3c2b1a"}),
        )
        .await;
    assert_eq!(claim.status, 200);
    let bogus = e
        .post(
            "/devcenter/v2.0/my/storeoffers/user",
            Some(&user),
            json!({"storeOffer": {"offers": ["x"], "trackingId": "y"}, "receipt": "r"}),
        )
        .await;
    assert_eq!(bogus.status, 400);
    let anon = e
        .send(e.http.get(e.url("/devcenter/v2.0/my/storeoffers/user")))
        .await;
    assert_eq!(anon.status, 401);
}

// ---------------------------------------------------------------- bad input

#[tokio::test]
async fn bad_bodies_get_the_documented_400() {
    let e = env().await;
    let t = e.token().await;
    let path = e.url("/collections/v9.0/collections/PUBLISHERQUERY");
    let check = |a: &Answer| {
        assert_eq!(a.status, 400, "{:?}", a.body);
        let b: model::ErrorBody = serde_json::from_value(a.body.clone()).unwrap();
        assert_eq!(b.best_code(), Some("InvalidParameter"));
        for f in ["code", "message", "source", "data", "details", "innererror"] {
            assert!(a.body.get(f).is_some(), "{f}");
        }
    };
    let ct = |req: reqwest::RequestBuilder| {
        req.bearer_auth(&t)
            .header("content-type", "application/json")
    };
    check(
        &e.send(ct(e.http.post(&path)).body("{\"beneficiaries\": ["))
            .await,
    );
    check(
        &e.send(
            e.http
                .post(&path)
                .bearer_auth(&t)
                .header("content-type", "text/plain")
                .body("{}"),
        )
        .await,
    );
    check(
        &e.send(
            ct(e.http.post(&path))
                .body(r#"{"beneficiaries":[],"productSkuIds":[{"productId":"x"}],"surprise":1}"#),
        )
        .await,
    );
    let huge = format!("{{\"pad\":\"{}\"}}", "x".repeat(1024 * 1024 + 10));
    check(&e.send(ct(e.http.post(&path)).body(huge)).await);
    check(&e.send(ct(e.http.post(&path)).body("")).await);
    let nf = e
        .post("/collections/v9.0/nothing", Some(&t), json!({}))
        .await;
    assert_eq!(nf.status, 404);
    // The server is still fine.
    let ok = e
        .query(
            &t,
            &e.key("ada", false),
            json!({"productSkuIds": [{"productId": "9NSDGAME0001"}]}),
        )
        .await;
    assert_eq!(ok.status, 200);
}

// ---------------------------------------------------------------- faults

#[tokio::test]
async fn faults_status_latency_and_counts() {
    let e = env().await;
    let t = e.token().await;
    let k = e.key("ada", false);
    let ids = json!({"productSkuIds": [{"productId": "9NSDGAME0001"}]});
    let set = e
        .control(
            reqwest::Method::POST,
            "faults",
            Some(json!([
                "publisherQuery:status=503,times=2",
                "orders:429,retry-after=3",
                "*:latency=20ms"
            ])),
        )
        .await;
    assert_eq!(set.status, 200);
    for _ in 0..2 {
        let a = e.query(&t, &k, ids.clone()).await;
        assert_eq!(a.status, 503);
        assert_eq!(a.headers["retry-after"], "1");
    }
    assert_eq!(
        e.query(&t, &k, ids.clone()).await.status,
        200,
        "times=2 used up"
    );
    let o = e
        .post(
            "/purchase/v8.0/b2b/orders/query",
            Some(&t),
            json!({"b2bKey": e.key("cora", true)}),
        )
        .await;
    assert_eq!(
        (
            o.status.as_u16(),
            o.headers["retry-after"].to_str().unwrap()
        ),
        (429, "3")
    );
    let bad = e
        .control(reqwest::Method::POST, "faults", Some(json!("nope:500")))
        .await;
    assert_eq!(bad.status, 400);
    let cleared = e.control(reqwest::Method::DELETE, "faults", None).await;
    assert_eq!(cleared.body, json!([]));
}

#[tokio::test]
async fn reset_faults_before_and_after_commit() {
    let e = env().await;
    let t = e.token().await;
    let k = e.key("cora", false);
    let coin = "9NSDCOIN0500";

    e.sb.add_fault("consume:reset".parse().unwrap());
    let err = e
        .http
        .post(e.url("/collections/v8.0/collections/consume"))
        .bearer_auth(&t)
        .json(
            &json!({"beneficiary": {"identityType": "b2b", "identityValue": k}, "productId": coin,
            "trackingId": "a1111111-2222-4333-8444-555555555555", "removeQuantity": 1}),
        )
        .send()
        .await;
    assert!(err.is_err(), "connection reset, no answer");
    assert_eq!(e.balance(&t, &k, coin).await, 25, "nothing applied");

    e.sb.add_fault("consume:drop-after-commit".parse().unwrap());
    let tid = "b1111111-2222-4333-8444-555555555555";
    let err = e
        .http
        .post(e.url("/collections/v8.0/collections/consume"))
        .bearer_auth(&t)
        .json(
            &json!({"beneficiary": {"identityType": "b2b", "identityValue": k}, "productId": coin,
            "trackingId": tid, "removeQuantity": 2, "includeOrderIds": true}),
        )
        .send()
        .await;
    assert!(err.is_err());
    assert_eq!(
        e.balance(&t, &k, coin).await,
        23,
        "applied before the reset"
    );
    let replay = e.consume(&t, &k, coin, tid, Some(2)).await;
    assert_eq!(
        (replay.status.as_u16(), replay.body["newQuantity"].as_i64()),
        (200, Some(23))
    );

    e.sb.add_fault("consume:fail-after-commit".parse().unwrap());
    let a = e
        .consume(
            &t,
            &k,
            coin,
            "c1111111-2222-4333-8444-555555555555",
            Some(3),
        )
        .await;
    assert_eq!(a.status, 500);
    assert_eq!(e.balance(&t, &k, coin).await, 20);

    e.sb.add_fault("consume:hang-after-commit".parse().unwrap());
    let short = reqwest::Client::builder()
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let r = short
        .post(e.url("/collections/v8.0/collections/consume"))
        .bearer_auth(&t)
        .json(
            &json!({"beneficiary": {"identityType": "b2b", "identityValue": k}, "productId": coin,
            "trackingId": "d1111111-2222-4333-8444-555555555555", "removeQuantity": 4}),
        )
        .send()
        .await;
    assert!(r.unwrap_err().is_timeout());
    assert_eq!(e.balance(&t, &k, coin).await, 16);

    e.sb.add_fault("grant:reset".parse().unwrap());
    let g = e
        .http
        .post(e.url("/purchase/v6.0/purchases/grant"))
        .bearer_auth(&t)
        .json(&json!({"availabilityId": "9NSDAV000004", "b2bKey": e.key("nora", true), "language": "en-US",
            "market": "US", "orderId": "e1111111-2222-4333-8444-555555555555", "productId": "9NSDDLC00002", "skuId": "0010"}))
        .send()
        .await;
    assert!(g.is_err());
}

// ---------------------------------------------------------------- persistence

#[tokio::test]
async fn state_survives_restart_and_reset_reseeds_keeping_the_key() {
    let e = env().await;
    let t = e.token().await;
    let k = e.key("cora", false);
    let a = e
        .consume(
            &t,
            &k,
            "9NSDCOIN0500",
            "f1111111-2222-4333-8444-555555555555",
            Some(7),
        )
        .await;
    assert_eq!(a.status, 200);
    let key_file = e.dir.path().join("signing-key.pem");
    let pem = std::fs::read(&key_file).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let Env { sb, dir, .. } = e;
    sb.shutdown().await;

    let e = env_in(dir).await;
    let t = e.token().await;
    // The key printed by the first run still works on the second.
    assert_eq!(e.balance(&t, &k, "9NSDCOIN0500").await, 18);
    let Env { sb, dir, .. } = e;
    sb.shutdown().await;

    sandbox::reset(dir.path()).unwrap();
    assert_eq!(std::fs::read(&key_file).unwrap(), pem, "signing key kept");
    let e = env_in(dir).await;
    let t = e.token().await;
    assert_eq!(e.balance(&t, &k, "9NSDCOIN0500").await, 25, "re-seeded");
    // Control reset does the same at run time.
    let a = e
        .consume(
            &t,
            &k,
            "9NSDCOIN0500",
            "f2111111-2222-4333-8444-555555555555",
            Some(1),
        )
        .await;
    assert_eq!(a.status, 200);
    assert_eq!(
        e.control(reqwest::Method::POST, "reset", None).await.status,
        200
    );
    assert_eq!(e.balance(&t, &k, "9NSDCOIN0500").await, 25);
}

// ---------------------------------------------------------------- CLI

#[test]
fn headless_cli_prints_one_json_line_then_serves() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_storedesk"))
        .args(["--data-dir"])
        .arg(dir.path())
        .arg("--config")
        .arg({
            let c = dir.path().join("empty.toml");
            std::fs::write(&c, "").unwrap();
            c
        })
        .args(["sandbox", "--json", "--fault", "consume:500"])
        .env("STOREDESK_NOW", NOW)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let v: Value = serde_json::from_str(&line).unwrap();
    for f in [
        "base_url",
        "tenant",
        "client_id",
        "client_secret",
        "control_secret",
    ] {
        assert!(v[f].is_string(), "{f}");
    }
    let customers = v["customers"].as_array().unwrap();
    assert!(customers.len() >= 8);
    for c in customers {
        for f in ["name", "user_id", "collections_key", "purchase_key"] {
            assert!(c[f].is_string(), "{f}");
        }
    }
    // It serves: the control endpoint answers with the CLI fault.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let faults: Value = rt.block_on(async {
        reqwest::Client::new()
            .get(format!(
                "{}/_sandbox/faults",
                v["base_url"].as_str().unwrap()
            ))
            .header(
                sandbox::CONTROL_SECRET_HEADER,
                v["control_secret"].as_str().unwrap(),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    assert_eq!(faults[0]["route"], "consume");
    let _ = child.kill();
    let _ = child.wait();

    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_storedesk"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["sandbox", "--fault", "consume:sometimes"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("bad fault spec"));
}
