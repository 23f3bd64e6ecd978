//! Contract: the docs' JSON examples (tests/fixtures/docs, see its README for
//! the repairs) parse with `store::model`, and the sandbox answers with the
//! same field names and JSON types.

use serde_json::{Value, json};
use std::collections::BTreeSet;
use storedesk::clock::Clock;
use storedesk::sandbox::{self, SandboxOptions};
use storedesk::store::audience;
use storedesk::store::model::{
    KeyClaims, KeyHeader, PublisherQueryRequest, QueryResponse, RecurrenceChangeResponse,
    SasTokenResponse, StoreTime,
};

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/docs/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Every field the doc shows is there, with the doc's JSON type.
fn same_shape(doc: &Value, ours: &Value, path: &str) {
    for (k, dv) in doc.as_object().unwrap() {
        let ov = ours
            .get(k)
            .unwrap_or_else(|| panic!("{path}.{k} missing from the sandbox answer"));
        assert_eq!(kind(dv), kind(ov), "{path}.{k}");
        if dv.is_object() {
            same_shape(dv, ov, &format!("{path}.{k}"));
        }
        if let (Some(ds), Some(os)) = (dv.as_str(), ov.as_str())
            && StoreTime::parse(ds).is_some()
            && ds.len() == 33
        {
            assert_eq!(os.len(), 33, "{path}.{k}: date written as {os}");
            assert!(StoreTime::parse(os).is_some());
        }
    }
}

#[test]
fn every_doc_example_parses_with_the_model() {
    for broken in [
        "publisher_query_request.broken.txt",
        "publisher_query_continuation_request.broken.txt",
    ] {
        assert!(
            serde_json::from_str::<Value>(&fixture(broken)).is_err(),
            "{broken} is the doc's broken form"
        );
    }
    let req: PublisherQueryRequest =
        serde_json::from_str(&fixture("publisher_query_request.json")).unwrap();
    assert_eq!(req.beneficiaries[0].identity_type, "b2b");
    assert_eq!(req.product_sku_ids.as_ref().unwrap().len(), 4);
    assert_eq!(req.sbx.as_deref(), Some("XDKS.1"));
    let cont: PublisherQueryRequest =
        serde_json::from_str(&fixture("publisher_query_continuation_request.json")).unwrap();
    assert_eq!(
        cont.continuation_token.as_deref(),
        Some("{\"checkSatisfactionIndex\":2}")
    );

    let page: QueryResponse =
        serde_json::from_str(&fixture("publisher_query_response.json")).unwrap();
    assert_eq!(page.items.len(), 2);
    let trial = page.items[1].trial_data.as_ref().unwrap();
    assert_eq!(
        trial.trial_time_remaining.unwrap().0.num_seconds(),
        9 * 3600 + 43 * 60 + 52
    );
    assert!(page.items[1].end_date.unwrap().is_forever());
    assert!(
        page.items[0]
            .raw
            .as_ref()
            .unwrap()
            .get()
            .contains("995ec667")
    );

    let h: KeyHeader = serde_json::from_str(&fixture("key_header.json")).unwrap();
    assert_eq!((h.typ.as_str(), h.alg.as_str()), ("JWT", "RS256"));
    let c: KeyClaims = serde_json::from_str(&fixture("key_claims.json")).unwrap();
    assert!(
        c.exp < c.iat && c.nbf > c.exp,
        "the doc's inconsistent claim set survives parsing"
    );
    assert_eq!(
        c.refresh_uri,
        "https://collections.mp.microsoft.com/v6.0/b2b/keys/renew"
    );

    let sas: SasTokenResponse = serde_json::from_str(&fixture("sastoken_response.json")).unwrap();
    assert_eq!(sas.expires_on.0.to_minute_wire(), "2022-12-09T02:13Z");
    let rc: RecurrenceChangeResponse =
        serde_json::from_str(&fixture("recurrence_change_wrapped_response.json")).unwrap();
    assert!(rc.0.cancellation_date.is_some());
}

#[tokio::test]
async fn sandbox_answers_have_the_docs_field_names_and_types() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-23T10:00:00Z")
        .unwrap()
        .to_utc();
    let sb = sandbox::start(SandboxOptions {
        data_dir: dir.path().to_path_buf(),
        port: 0,
        clock: Clock::fixed(now),
        faults: vec![],
    })
    .await
    .unwrap();
    let http = reqwest::Client::new();
    let info = &sb.info;
    let tok: Value = http
        .post(format!(
            "{}/login/{}/oauth2/token",
            sb.base_url(),
            info.tenant
        ))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &info.client_id),
            ("client_secret", &info.client_secret),
            ("resource", audience::STORE),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = tok["access_token"].as_str().unwrap();
    let ada = info.customers.iter().find(|c| c.name == "ada").unwrap();

    // The doc's own request (repaired), pointed at ada, is accepted as is.
    let mut req: Value = serde_json::from_str(&fixture("publisher_query_request.json")).unwrap();
    req["beneficiaries"][0]["identityValue"] = json!(ada.collections_key);
    req["productSkuIds"] = json!([{"productId": "9NSDGAME0001"}, {"productId": "9NSDPASS0001"}, {"productId": "9NSDAPP00001"}]);
    let r = http
        .post(format!(
            "{}/collections/v9.0/collections/PublisherQuery",
            sb.base_url()
        ))
        .bearer_auth(token)
        .json(&req)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let ours: Value = r.json().await.unwrap();
    assert!(
        ours["continuationToken"].is_string(),
        "the doc's maxPageSize 2 over 3 owned products pages"
    );
    let doc: Value = serde_json::from_str(&fixture("publisher_query_response.json")).unwrap();
    // The doc's first item has no trialTimeRemaining, its second has one.
    let v9_fields: BTreeSet<String> = [
        "acquiredDate",
        "acquisitionType",
        "endDate",
        "id",
        "modifiedDate",
        "productId",
        "productKind",
        "quantity",
        "recurrenceId",
        "satisfiedByProductIds",
        "skuId",
        "startDate",
        "status",
        "tags",
        "transactionId",
        "trialData",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let items = ours["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    for it in items {
        same_shape(&doc["items"][0], it, "item");
        assert!(
            keys(it).is_subset(&v9_fields),
            "extra v9 fields: {:?}",
            keys(it).difference(&v9_fields)
        );
    }

    // The page goes on with the rest, as the doc's continuation request does;
    // ada's Pass is in trial, like the doc's second item.
    req["continuationToken"] = ours["continuationToken"].clone();
    let rest: Value = http
        .post(format!(
            "{}/collections/v9.0/collections/publisherQuery",
            sb.base_url()
        ))
        .bearer_auth(token)
        .json(&req)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert!(rest.get("continuationToken").is_none());
    same_shape(&doc["items"][1], &rest["items"][0], "trial item");

    // Keys: the doc's claim names and header fields.
    let doc_claims: Value = serde_json::from_str(&fixture("key_claims.json")).unwrap();
    let parts: Vec<&str> = ada.collections_key.split('.').collect();
    use base64::Engine;
    let dec = |s: &str| -> Value {
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(s)
                .unwrap(),
        )
        .unwrap()
    };
    let claims = dec(parts[1]);
    assert_eq!(keys(&claims), keys(&doc_claims));
    same_shape(&doc_claims, &claims, "claims");
    let header = dec(parts[0]);
    assert_eq!(
        (header["typ"].as_str(), header["alg"].as_str()),
        (Some("JWT"), Some("RS256"))
    );

    let sas: Value = http
        .get(format!(
            "{}/purchase/v8.0/b2b/clawback/sastoken",
            sb.base_url()
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let doc_sas: Value = serde_json::from_str(&fixture("sastoken_response.json")).unwrap();
    assert_eq!(keys(&sas), keys(&doc_sas));
    assert_eq!(
        sas["expiresOn"].as_str().unwrap().len(),
        doc_sas["expiresOn"].as_str().unwrap().len()
    );
    sb.shutdown().await;
}
