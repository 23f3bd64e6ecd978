//! The clawback queue client against a real Azure Storage queue emulator
//! (Azurite), not against our own sandbox (issue 15, point 9): what the
//! sandbox's queue agrees with by construction, Azurite checks
//! independently — URL layout, SAS signing, the XML, pop receipts,
//! visibility, `?comp=metadata`.
//!
//! Built only with `--features azurite`; `.ci/run` installs Azurite (npm),
//! starts `azurite-queue` on a free loopback port, and runs this with
//! `STOREDESK_AZURITE_URL=http://127.0.0.1:PORT/devstoreaccount1`. Without
//! that variable the test fails and says what is missing: it never passes
//! without having talked to Azurite.
//!
//! The queue is created and filled through Azurite's own API (account SAS,
//! Put Message); the client then reads it with a service SAS of the
//! permissions Microsoft's clawback SAS carries (`sp=rp`: read + process).

use base64::Engine;
use serde_json::{Value, json};
use std::time::Duration;
use storedesk::config::{Profile, Secret};
use storedesk::store::{ClientConfig, ErrorKind, StoreClient};

/// Azurite's documented development account (public, not a secret).
const ACCOUNT: &str = "devstoreaccount1";
const ACCOUNT_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const SV: &str = "2019-12-12";

fn azurite_url() -> String {
    match std::env::var("STOREDESK_AZURITE_URL") {
        Ok(u) if !u.trim().is_empty() => u.trim().trim_end_matches('/').to_string(),
        _ => panic!(
            "Azurite is not running for this test: set STOREDESK_AZURITE_URL to the queue \
             endpoint (http://127.0.0.1:PORT/devstoreaccount1). `.ci/run` installs Azurite \
             with npm, starts azurite-queue and sets it."
        ),
    }
}

fn sign(string_to_sign: &str) -> String {
    let key = base64::engine::general_purpose::STANDARD
        .decode(ACCOUNT_KEY)
        .expect("the development key is base64");
    let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key);
    let tag = ring::hmac::sign(&k, string_to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(tag.as_ref())
}

fn enc(s: &str) -> String {
    url_encode(s)
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn expiry() -> String {
    (chrono::Utc::now() + chrono::TimeDelta::hours(1))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// An account SAS for the queue service: what the test uses to create the
/// queue and put messages (the publisher's side never does either).
fn account_sas() -> String {
    let (sp, ss, srt, se) = ("rwdlacup", "q", "sco", expiry());
    let to_sign = format!("{ACCOUNT}\n{sp}\n{ss}\n{srt}\n\n{se}\n\n\n{SV}\n");
    format!(
        "sv={SV}&ss={ss}&srt={srt}&sp={sp}&se={}&sig={}",
        enc(&se),
        enc(&sign(&to_sign))
    )
}

/// A service SAS URI for one queue, as the clawback SAS token call hands
/// it out: the queue's URL with `sv, se, sp, sig` in the query.
fn service_sas_uri(base: &str, queue: &str, sp: &str) -> String {
    let se = expiry();
    let resource = format!("/queue/{ACCOUNT}/{queue}");
    let to_sign = format!("{sp}\n\n{se}\n{resource}\n\n\n\n{SV}");
    format!(
        "{base}/{queue}?sv={SV}&se={}&sp={sp}&sig={}",
        enc(&se),
        enc(&sign(&to_sign))
    )
}

/// The docs' clawback event, for one environment.
fn event(id: &str, sandbox_id: &str, state: &str) -> Value {
    json!({
        "id": id,
        "source": "/Purchase/Refund",
        "type": "ClawbackEventContractV2",
        "time": "2026-11-20T10:00:00.0000000Z",
        "specversion": "1.0",
        "datacontenttype": "application/json",
        "subject": "/orders/o",
        "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "data": {
            "lineItemId": format!("line-{id}"),
            "orderId": format!("order-{id}"),
            "productId": "9NSDCOIN0500",
            "productType": "UnmanagedConsumable",
            "purchasedDate": "2026-11-10T10:00:00.0000000Z",
            "eventDate": "2026-11-20T10:00:00.0000000Z",
            "sandboxId": sandbox_id,
            "eventState": state,
            "skuId": "0010"
        }
    })
}

fn client() -> StoreClient {
    let _ = rustls::crypto::ring::default_provider().install_default();
    // The Store endpoints are never called here: only the queue URL is.
    let endpoints = Profile::builtin_sandbox().endpoints(Some("http://127.0.0.1:9"));
    let mut cfg = ClientConfig::new(endpoints, "client", Secret::new("unused"));
    cfg.allow_insecure_http = true;
    cfg.timeout = Duration::from_secs(10);
    StoreClient::new(cfg).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clawback_queue_peek_receive_delete_and_length_against_azurite() {
    let base = azurite_url();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let queue = format!("clawback-{}", uuid::Uuid::new_v4().simple());
    let sas = account_sas();
    let r = http
        .put(format!("{base}/{queue}?{sas}"))
        .header("x-ms-version", SV)
        .header("content-length", "0")
        .send()
        .await
        .unwrap_or_else(|e| panic!("Azurite at {base} does not answer: {e}"));
    assert!(r.status().is_success(), "create queue: {}", r.status());
    let events = [
        event("1", "RETAIL", "Revoked"),
        event("2", "XDKS.1", "Refunded"),
        event("3", "RETAIL", "Returned"),
    ];
    for e in &events {
        let text = base64::engine::general_purpose::STANDARD.encode(serde_json::to_vec(e).unwrap());
        let r = http
            .post(format!("{base}/{queue}/messages?{sas}"))
            .header("x-ms-version", SV)
            .header("content-type", "application/xml")
            .body(format!(
                "<QueueMessage><MessageText>{text}</MessageText></QueueMessage>"
            ))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "put message: {}", r.status());
    }

    let c = client();
    let uri = service_sas_uri(&base, &queue, "rp");

    // Length, then a peek: nothing hidden, no pop receipts, every event read.
    let n = c.queue_metadata(&uri).await.unwrap().value;
    assert_eq!(n, Some(3));
    let peek = c.queue_peek(&uri, 32).await.unwrap().value;
    assert_eq!(peek.len(), 3);
    assert!(peek.iter().all(|q| q.message.pop_receipt.is_none()));
    let envs: Vec<String> = peek
        .iter()
        .map(|q| q.event.as_ref().unwrap().data.sandbox_id.clone().unwrap())
        .collect();
    assert_eq!(envs, ["RETAIL", "XDKS.1", "RETAIL"]);
    assert!(peek.iter().all(|q| q.message.dequeue_count == 0));

    // Receive two for one second: hidden, counted, each with a receipt.
    let got = c.queue_receive(&uri, 2, Some(1)).await.unwrap().value;
    assert_eq!(got.len(), 2);
    assert!(got.iter().all(|q| q.message.dequeue_count == 1));
    assert!(got.iter().all(|q| q.message.time_next_visible.is_some()));
    let visible = c.queue_peek(&uri, 32).await.unwrap().value;
    assert_eq!(visible.len(), 1, "the received are hidden");
    assert_eq!(c.queue_metadata(&uri).await.unwrap().value, Some(3));

    // A wrong receipt is refused with Azure's code; the signature never
    // shows in the error.
    let first = &got[0].message;
    let e = c
        .queue_delete(&uri, &first.message_id, "AAAAAAAAAAAAAAAAAAAAAA==")
        .await
        .unwrap_err();
    assert_eq!(e.status, Some(400), "{e}");
    assert_eq!(e.code.as_deref(), Some("PopReceiptMismatch"), "{e}");
    assert!(!e.to_string().contains("sig="), "{e}");

    // After the second, the other received event shows again (dequeue
    // count 1) and the first one's receipt still deletes it.
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let again = c.queue_peek(&uri, 32).await.unwrap().value;
    assert_eq!(again.len(), 3, "visible again after about a second");
    let receipt = first.pop_receipt.clone().unwrap();
    let del = c
        .queue_delete(&uri, &first.message_id, &receipt)
        .await
        .unwrap();
    assert_eq!(del.meta.status, 204);
    let e = c
        .queue_delete(&uri, &first.message_id, &receipt)
        .await
        .unwrap_err();
    assert_eq!(e.status, Some(404), "{e}");
    assert_eq!(e.code.as_deref(), Some("MessageNotFound"), "{e}");
    let left = c.queue_peek(&uri, 32).await.unwrap().value;
    assert_eq!(left.len(), 2);
    assert!(
        left.iter()
            .all(|q| q.message.message_id != first.message_id)
    );
    assert_eq!(c.queue_metadata(&uri).await.unwrap().value, Some(2));

    // A tampered signature: Azurite refuses it, the client reports a
    // definite 403 without the signature.
    let bad = uri.replace("&sig=", "&sig=x");
    let e = c.queue_peek(&bad, 1).await.unwrap_err();
    assert_eq!(e.status, Some(403), "{e}");
    assert_ne!(e.kind, ErrorKind::Transport);
    assert!(!e.to_string().contains("sig="), "{e}");

    let r = http
        .delete(format!("{base}/{queue}?{sas}"))
        .header("x-ms-version", SV)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "delete queue: {}", r.status());
}
