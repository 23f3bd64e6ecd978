//! The Entitlements pane's background work: the paged listing (with a
//! countdown while the client waits out a 429), the orders lookup and the
//! journaled write. Run by `tui::jobs` on tokio tasks; every result goes
//! back through `send`.

use crate::journal::{self, Actor, WriteRequest};
use crate::store::StoreClient;
use crate::store::collections::V9_MAX_PRODUCTS;
use crate::store::error::ErrorKind;
use crate::store::paging::chunk_ids;
use crate::store::{QueryOptions, WaitReason};
use crate::tui::panes::entitlements::{EntEvent, FetchError, FetchRequest, QueryMode};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub type Send = Arc<dyn Fn(EntEvent) + std::marker::Send + Sync>;

/// v9 with the product ids, else v8 — and why. `source` names where the
/// ids come from, e.g. `profile "retail"`.
pub fn choose_query(product_ids: &[String], source: &str) -> QueryMode {
    let chunks = chunk_ids(product_ids, V9_MAX_PRODUCTS);
    if chunks.is_empty() {
        QueryMode::V8 {
            reason: format!("{source} lists no product_ids, and v9 needs them"),
        }
    } else {
        QueryMode::V9 {
            products: chunks.iter().map(Vec::len).sum(),
            chunks: chunks.len(),
            source: source.to_string(),
        }
    }
}

/// Tell the pane about every wait of the listing calls, one tick a second.
fn watch_waits(client: &StoreClient, fetch_id: u64, send: Send) {
    client.set_wait_observer(Some(Arc::new(
        move |wait: Duration, why: &WaitReason, op: &'static str| {
            if op != "publisherQuery" && op != "b2bLicensePreview" {
                return;
            }
            let why = match why {
                WaitReason::RateLimited => "429 Retry-After".to_string(),
                WaitReason::Backoff { cause, .. } => format!("{cause}, retrying"),
            };
            let secs = wait.as_millis().div_ceil(1000) as u64;
            let send = send.clone();
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(async move {
                    for left in (1..=secs).rev() {
                        send(EntEvent::Waiting {
                            fetch_id,
                            secs_left: left,
                            why: why.clone(),
                        });
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                    send(EntEvent::Waiting {
                        fetch_id,
                        secs_left: 0,
                        why,
                    });
                });
            }
        },
    )));
}

/// List every page for `req.key`, sending each page as it arrives.
pub async fn fetch(
    client: &StoreClient,
    product_ids: &[String],
    source: &str,
    req: FetchRequest,
    cancel: CancellationToken,
    send: Send,
) {
    let fetch_id = req.fetch_id;
    let mode = choose_query(product_ids, source);
    send(EntEvent::Plan {
        fetch_id,
        mode: mode.clone(),
    });
    watch_waits(client, fetch_id, send.clone());
    let opts = QueryOptions {
        validity: Some(req.validity.clone()),
        exclude_duplicates: Some(req.exclude_duplicates),
        ..QueryOptions::default()
    };
    let on_page = |ev: crate::store::PageEvent<crate::store::model::Entitlement>| {
        send(EntEvent::Page {
            fetch_id,
            items: ev.items,
            progress: ev.progress,
        });
    };
    let result = match mode {
        QueryMode::V9 { .. } => {
            client
                .entitlements_v9(&req.key, product_ids, &opts, &cancel, on_page)
                .await
        }
        QueryMode::V8 { .. } => {
            client
                .entitlements_v8(&req.key, &opts, &cancel, on_page)
                .await
        }
    };
    let result = match result {
        Ok(sum) => Ok(sum.progress),
        Err(e) if e.kind == ErrorKind::Cancelled => Err(FetchError::Cancelled),
        Err(e) => {
            send(EntEvent::Budget {
                calls_left: client.calls_left_for_key(&req.key),
            });
            Err(FetchError::Failed(e.to_string()))
        }
    };
    send(EntEvent::Finished { fetch_id, result });
}

/// Run a confirmed write through the journal: recorded as pending before it
/// is sent, sent once with its idempotency key, settled by the answer.
pub async fn write(
    client: &StoreClient,
    journal: &crate::tui::writes::SharedJournal,
    actor: &Actor,
    req: WriteRequest,
    send: Send,
) {
    let j = match journal {
        Ok(j) => j,
        Err(e) => {
            send(EntEvent::Written(Err(format!(
                "not sent: the journal cannot be opened ({e})"
            ))));
            return;
        }
    };
    let r = journal::execute(&**j, client, &req, actor).await;
    send(EntEvent::Written(crate::tui::writes::outcome_line(&req, r)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_choice_says_why() {
        match choose_query(&[], "profile \"sandbox\"") {
            QueryMode::V8 { reason } => assert!(reason.contains("no product_ids"), "{reason}"),
            other => panic!("{other:?}"),
        }
        let ids: Vec<String> = (0..250).map(|i| format!("P{i}")).collect();
        assert_eq!(
            choose_query(&ids, "x"),
            QueryMode::V9 {
                products: 250,
                chunks: 3,
                source: "x".into(),
            }
        );
    }
}
