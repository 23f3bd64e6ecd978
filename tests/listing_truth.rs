//! What a listing may claim (issue 15, points 2–4), over real loopback
//! HTTP: v8 asks what the official library asks and so lists what a pass
//! satisfies; an answer that is not a listing is an error, never "owns
//! nothing"; one bad item is a flagged row, not a failed page; an empty
//! answer names its documented causes.

#[path = "support/sandbox.rs"]
mod support_sandbox;

use std::time::Duration;
use storedesk::clock::Clock;
use storedesk::sandbox::{self, Sandbox, SandboxOptions};
use storedesk::store::model::QueryResponse;
use storedesk::store::{ErrorKind, QueryOptions, StoreClient};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

async fn sandbox() -> (Sandbox, tempfile::TempDir) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let sb = support_sandbox::start_in(dir.path(), vec![]).await;
    (sb, dir)
}

fn client(sb: &Sandbox, collections: Option<&str>) -> StoreClient {
    let mut cfg = sb.info.client_config();
    cfg.timeout = Duration::from_secs(10);
    cfg.retry.max_attempts = 1;
    if let Some(url) = collections {
        cfg.endpoints.collections = url.to_string();
    }
    StoreClient::new(cfg).unwrap()
}

fn key(sb: &Sandbox, name: &str) -> String {
    sb.info
        .customers
        .iter()
        .find(|c| c.name == name)
        .unwrap()
        .collections_key
        .clone()
}

/// A collections service that answers every request 200 with `body`: what
/// a proxy, a misrouted URL or a service incident can send.
async fn answering(body: &'static str) -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        // Bounded: a test makes a handful of calls.
        for _ in 0..16 {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            let mut buf = vec![0u8; 64 * 1024];
            let mut got = 0;
            // Read the head and the body the Content-Length announces.
            while let Ok(n) = s.read(&mut buf[got..]).await {
                if n == 0 {
                    break;
                }
                got += n;
                let text = String::from_utf8_lossy(&buf[..got]).to_string();
                if let Some(head_end) = text.find("\r\n\r\n") {
                    let len = text[..head_end]
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse::<usize>().ok())?
                        })
                        .unwrap_or(0);
                    if got >= head_end + 4 + len {
                        break;
                    }
                }
            }
            let resp = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = s.write_all(resp.as_bytes()).await;
        }
    });
    format!("http://{addr}")
}

async fn v8_items(
    c: &StoreClient,
    key: &str,
) -> Result<Vec<storedesk::store::model::Entitlement>, storedesk::store::StoreError> {
    let mut items = Vec::new();
    c.entitlements_v8(
        key,
        &QueryOptions::default(),
        &CancellationToken::new(),
        |p| items.extend(p.items),
    )
    .await
    .map(|_| items)
}

/// Gus owns the pass and a game the pass satisfies: v8 lists the game as
/// v9 does, because it sends `expandSatisfyingItems: true` (and `market`)
/// like Microsoft.StoreServices' CollectionsV8QueryRequest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v8_lists_what_a_pass_satisfies_like_v9() {
    let (sb, _dir) = sandbox().await;
    let c = client(&sb, None);
    let k = key(&sb, "gus");
    let v8 = v8_items(&c, &k).await.unwrap();
    let through_pass = |items: &[storedesk::store::model::Entitlement]| {
        let mut v: Vec<String> = items
            .iter()
            .filter(|e| !e.satisfied_by_product_ids.is_empty())
            .map(|e| e.product_id.clone())
            .collect();
        v.sort();
        v
    };
    let ids: Vec<String> = v8.iter().map(|e| e.product_id.clone()).collect();
    let mut v9 = Vec::new();
    c.entitlements_v9(
        &k,
        &ids,
        &QueryOptions::default(),
        &CancellationToken::new(),
        |p| v9.extend(p.items),
    )
    .await
    .unwrap();
    assert_eq!(through_pass(&v8), ["9NSDPASSGM01"], "{ids:?}");
    assert_eq!(through_pass(&v8), through_pass(&v9));
}

/// The sandbox, like the service, leaves satisfied content out of v8 when
/// the request does not ask for it: the client's flag is what brings it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_expand_satisfying_items_v8_leaves_pass_content_out() {
    use storedesk::store::model::{Beneficiary, LicensePreviewRequest};
    let (sb, _dir) = sandbox().await;
    let c = client(&sb, None);
    let k = key(&sb, "gus");
    let page = |expand| LicensePreviewRequest {
        beneficiaries: vec![Beneficiary::b2b(&k)],
        expand_satisfying_items: Some(expand),
        ..Default::default()
    };
    let off = c.license_preview_page(&page(false)).await.unwrap().value;
    let on = c.license_preview_page(&page(true)).await.unwrap().value;
    assert!(
        off.items
            .iter()
            .all(|e| e.satisfied_by_product_ids.is_empty())
    );
    assert_eq!(on.items.len(), off.items.len() + 1);
}

/// A 200 that is not a listing is an error naming why, never an empty
/// list: the sandbox's `{}` and error-object faults, and `"items": null`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_200_that_is_not_a_listing_is_an_error() {
    let (sb, _dir) = sandbox().await;
    let c = client(&sb, None);
    let k = key(&sb, "ada");
    sb.add_fault("licensePreview:empty-200".parse().unwrap());
    let e = v8_items(&c, &k).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Decode, "{e}");
    assert!(e.to_string().contains("no `items`"), "{e}");
    assert!(e.to_string().contains("not a listing"), "{e}");
    // An error object with a 200 is caught by the client before any
    // decoding (every read refuses a success carrying the Store's error).
    sb.add_fault("licensePreview:error-200".parse().unwrap());
    let e = v8_items(&c, &k).await.unwrap_err();
    assert!(e.to_string().contains("error body"), "{e}");
    assert!(e.to_string().contains("InternalError"), "{e}");
    let url = answering(r#"{"items": null}"#).await;
    let c = client(&sb, Some(&url));
    let e = v8_items(&c, &k).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Decode, "{e}");
    assert!(e.to_string().contains("`items` is null"), "{e}");
}

const BAD_PAGE: &str = r#"{"items": [
  {"id": "good-1", "productId": "9NSDGOOD0001", "skuId": "0010", "productKind": "Durable",
   "status": "Active", "startDate": "2026-01-01T00:00:00.0000000Z",
   "satisfiedByProductIds": [], "tags": []},
  {"id": "null-1", "productId": null, "skuId": "0010"},
  {"id": "date-1", "productId": "9NSDDATE0001", "skuId": "0010", "startDate": "next tuesday"},
  {"id": "span-1", "productId": "9NSDSPAN0001", "skuId": "0010",
   "trialData": {"isInTrialPeriod": true, "isTrial": true, "trialTimeRemaining": "a while"}},
  {"id": "type-1", "productId": "9NSDTYPE0001", "skuId": "0010", "quantity": "lots"},
  {"id": "good-2", "productId": "9NSDGOOD0002", "skuId": "0010", "productKind": "Consumable",
   "status": "Active", "quantity": 3}
]}"#;

/// One bad item never fails the page: an explicit null in a required
/// field, an unknown date form, an unknown TimeSpan form and a wrong type
/// each become a flagged row with the raw JSON; the good ones are listed;
/// the title counts the unreadable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_items_are_flagged_rows_and_the_rest_of_the_page_is_listed() {
    let (sb, _dir) = sandbox().await;
    let url = answering(BAD_PAGE).await;
    let c = client(&sb, Some(&url));
    let items = v8_items(&c, &key(&sb, "ada")).await.unwrap();
    assert_eq!(items.len(), 6);
    let flagged: Vec<&str> = items
        .iter()
        .filter(|e| e.unreadable.is_some())
        .map(|e| e.id.as_str())
        .collect();
    assert_eq!(flagged, ["null-1", "date-1", "span-1", "type-1"]);
    let good = items.iter().find(|e| e.id == "good-2").unwrap();
    assert_eq!(good.quantity, Some(3));
    let date = items.iter().find(|e| e.id == "date-1").unwrap();
    assert!(date.raw.as_ref().unwrap().get().contains("next tuesday"));
    assert_eq!(date.product_id, "9NSDDATE0001", "salvaged for the row");

    let mut d = storedesk::browse::Dataset::new();
    d.extend(1, items);
    assert_eq!(d.unreadable_rows(), 4);
    assert_eq!(d.duplicate_rows(), 0);
    let mut view = storedesk::browse::View::default();
    view.rebuild(&d, 0);
    assert!(
        view.title(&d).contains("✗ 4 unreadable"),
        "{}",
        view.title(&d)
    );
    let row = d.row(1).unwrap();
    let status =
        storedesk::browse::column::display(&d, row, storedesk::browse::column::Column::Status, 0);
    assert!(status.starts_with("unreadable: items[1]"), "{status}");
}

/// The same page read from the document's own text, as the parser sees
/// it: `{}` and `items: null` refused, a bad item kept flagged.
#[test]
fn the_page_decoder_refuses_non_listings_and_keeps_bad_items() {
    for body in [
        r#"{}"#,
        r#"{"items": null}"#,
        r#"{"code":"BadRequest","message":"m"}"#,
    ] {
        assert!(
            serde_json::from_str::<QueryResponse>(body).is_err(),
            "{body}"
        );
    }
    let ok: QueryResponse = serde_json::from_str(r#"{"items": []}"#).unwrap();
    assert!(ok.items.is_empty());
    let page: QueryResponse = serde_json::from_str(BAD_PAGE).unwrap();
    assert_eq!(page.unreadable(), 4);
}

/// Headless: a customer who owns nothing gets the documented causes on
/// stderr (not a bare empty list), and the listing itself stays empty.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_listing_names_the_documented_causes_headless() {
    let dir = tempfile::tempdir().unwrap();
    let now = "2026-11-23T10:00:00Z";
    let sb = sandbox::start(SandboxOptions {
        data_dir: dir.path().join("data").join("sandbox"),
        port: 0,
        clock: Clock::fixed(chrono::DateTime::parse_from_rfc3339(now).unwrap().to_utc()),
        faults: vec![],
    })
    .await
    .unwrap();
    let nora = key(&sb, "nora");
    sb.shutdown().await;
    let kf = dir.path().join("nora.key");
    std::fs::write(&kf, format!("{nora}\n")).unwrap();
    let cfg = dir.path().join("empty.toml");
    std::fs::write(&cfg, "").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_storedesk"))
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .arg("--config")
        .arg(&cfg)
        .args(["--now", now, "entitlements", "--json", "--key-file"])
        .arg(&kf)
        .env_remove("STOREDESK_CONFIG")
        .env_remove("STOREDESK_PROFILE")
        .env_remove("STOREDESK_NOW")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v.as_array().map(Vec::len), Some(0), "{stdout}");
    for want in [
        "listed no entitlements",
        "Partner Center",
        "no sbx (RETAIL)",
        "UserPurchaseId",
        "product_ids",
    ] {
        assert!(stderr.contains(want), "{want}: {stderr}");
    }
    assert!(!stderr.contains(&nora), "the key never shows");
}
