//! Filling a [`Case`] through the Store client, for headless commands and
//! tests: the same reads the console's panes run, one after the other.

use super::clawbacks::{ClawRow, Peeked};
use super::{Case, FailedCall, Part};
use crate::browse::Dataset;
use crate::journal::{AuditFilter, JournalLocation, JournalStore};
use crate::store::error::ErrorKind;
use crate::store::model::Entitlement;
use crate::store::orders_cache::{self, OrdersRead};
use crate::store::paging::{PageEvent, PageProgress};
use crate::store::{QueryOptions, StoreClient, StoreError};

use tokio_util::sync::CancellationToken;

/// How many events one peek shows (the queue's maximum per call); the
/// queue is peeked, never emptied.
pub const PEEK_MAX: u8 = 32;

/// Every page of the orders query (last 90 days).
pub async fn orders(
    client: &StoreClient,
    key: &str,
    cancel: &CancellationToken,
) -> Result<Vec<crate::store::model::Order>, StoreError> {
    let mut all = Vec::new();
    client
        .orders(key, None, cancel, |p| all.extend(p.items))
        .await?;
    Ok(all)
}

/// The orders as the docs want them read: at most once a day per
/// customer. Within a day of the last read (kept in the client's data dir,
/// see [`crate::store::orders_cache`]) that answer is returned, marked `cached`
/// with its time; `refresh` reads again anyway. Without a data dir every
/// call reads.
pub async fn orders_once_a_day(
    client: &StoreClient,
    key: &str,
    refresh: bool,
    cancel: &CancellationToken,
) -> Result<OrdersRead, StoreError> {
    let now = client.config().clock.now();
    let file = client.orders_file(key);
    if !refresh && let Some(read) = file.as_deref().and_then(|f| orders_cache::fresh(f, now)) {
        return Ok(read);
    }
    let read = OrdersRead {
        orders: orders(client, key, cancel).await?,
        read_at: now,
        cached: false,
    };
    if let Some(f) = &file {
        orders_cache::save(f, &read);
    }
    Ok(read)
}

/// "orders read 3 h ago": how old an earlier read is, as the pane and the
/// headless command say it.
pub fn orders_age(
    read_at: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
) -> String {
    let age = now.signed_duration_since(read_at);
    if age < chrono::TimeDelta::minutes(1) {
        "orders read just now".to_string()
    } else {
        format!("orders read {} ago", crate::keys::human_duration(age))
    }
}

/// Every page of the recurrences query.
pub async fn recurrences(
    client: &StoreClient,
    key: &str,
    cancel: &CancellationToken,
) -> Result<Vec<crate::store::model::Recurrence>, StoreError> {
    let mut all = Vec::new();
    client
        .recurrences(key, cancel, |p| all.extend(p.items))
        .await?;
    Ok(all)
}

/// A SAS token, a peek of up to [`PEEK_MAX`] events, and each event
/// matched to the consumes the journal recorded for its order line.
/// `journal` is the process's journal, or why it could not be opened (the
/// events are still listed, each saying their matches are unknown).
pub async fn peek(
    client: &StoreClient,
    journal: Result<&dyn JournalStore, &str>,
) -> Result<Peeked, StoreError> {
    let sas = client.clawback_sas().await?.value;
    let events = client.queue_peek(&sas.uri, PEEK_MAX).await?.value;
    let rows = events
        .into_iter()
        .enumerate()
        .map(|(position, q)| {
            let matches = match (&journal, &q.event) {
                (Err(e), _) => Err(e.to_string()),
                (Ok(j), Ok(ev)) => j
                    .order_transactions_for(&ev.data.order_id, &ev.data.line_item_id)
                    .map_err(|e| e.to_string()),
                (Ok(_), Err(_)) => Ok(Vec::new()),
            };
            ClawRow {
                position,
                message_id: q.message.message_id,
                insertion_time: q.message.insertion_time,
                dequeue_count: q.message.dequeue_count,
                event: q.event,
                matches,
            }
        })
        .collect();
    // The length is a second, cheap read; a queue that refuses it still
    // lists its events.
    let approx_count = match client.queue_metadata(&sas.uri).await {
        Ok(r) => r.value,
        Err(e) => {
            tracing::info!(error = %e, "queue metadata unavailable");
            None
        }
    };
    Ok(Peeked {
        rows,
        sas_expires: Some(sas.expires_on.0.0),
        environment: super::clawbacks::expected_sandbox_id(client.sbx().as_deref()).to_string(),
        approx_count,
    })
}

/// This data dir's audit entries for the case's key fingerprints, and every
/// clawback acknowledgement (those name no customer; the timeline ties them
/// to the case by order id).
pub fn audit_for(
    j: &dyn JournalStore,
    fps: &[String],
) -> Result<Vec<crate::journal::AuditEntry>, String> {
    let mut filters: Vec<AuditFilter> = fps
        .iter()
        .map(|fp| AuditFilter {
            customer_fp: Some(fp.clone()),
            ..AuditFilter::default()
        })
        .collect();
    filters.push(AuditFilter {
        action: Some(crate::journal::WriteKind::ClawbackAck.as_str().into()),
        ..AuditFilter::default()
    });
    let mut all = Vec::new();
    for filter in &filters {
        all.extend(j.audit(filter).map_err(|e| e.to_string())?);
    }
    all.sort_by_key(|e| e.id);
    all.dedup_by_key(|e| e.id);
    Ok(all)
}

/// The ids Microsoft support traces a call by, named as on the wire.
pub fn correlation_pairs(c: &crate::store::error::CorrelationIds) -> Vec<(String, String)> {
    c.pairs()
        .map(|(name, v)| (name.to_string(), v.to_string()))
        .collect()
}

fn part<T>(what: &str, r: Result<T, StoreError>, failed: &mut Vec<FailedCall>) -> Part<T> {
    match r {
        Ok(d) => Part::Read(d),
        Err(e) => {
            failed.push(FailedCall {
                what: what.into(),
                message: e.to_string(),
                correlation_ids: correlation_pairs(&e.correlation),
            });
            Part::Failed {
                why: e.to_string(),
                partial: None,
            }
        }
    }
}

/// How a headless load lists entitlements: the product ids for v9 (none:
/// v8) and a callback told of every page (progress on stderr).
pub struct Listing<'a> {
    pub product_ids: &'a [String],
    pub on_page: &'a mut (dyn FnMut(&PageProgress) + Send),
}

/// Every page of the customer's entitlements through the one paging loop
/// (v9 with `product_ids`, else v8), into the browse dataset the
/// Entitlements pane uses. A listing that stops early — the call budget
/// refused a page, a call failed, Ctrl-C — keeps what it got, as
/// `Failed { partial }` / `Cancelled`, so it is never taken for a whole one.
pub async fn entitlements(
    client: &StoreClient,
    key: &str,
    listing: Listing<'_>,
    cancel: &CancellationToken,
) -> (Part<Dataset>, Option<FailedCall>) {
    let mut data = Dataset::new();
    let opts = QueryOptions::default();
    let on_page = |ev: PageEvent<Entitlement>| {
        (listing.on_page)(&ev.progress);
        data.extend(ev.progress.pages, ev.items);
    };
    let r = if listing.product_ids.is_empty() {
        client.entitlements_v8(key, &opts, cancel, on_page).await
    } else {
        client
            .entitlements_v9(key, listing.product_ids, &opts, cancel, on_page)
            .await
    };
    match r {
        Ok(_) => (Part::Read(data), None),
        Err(e) if e.kind == ErrorKind::Cancelled => (Part::Cancelled(Some(data)), None),
        Err(e) => {
            let failed = FailedCall {
                what: "entitlements".into(),
                message: e.to_string(),
                correlation_ids: correlation_pairs(&e.correlation),
            };
            let partial = (!data.is_empty()).then_some(data);
            (
                Part::Failed {
                    why: e.to_string(),
                    partial,
                },
                Some(failed),
            )
        }
    }
}

/// Read the case of `collections_key` / `purchase_key`: orders,
/// subscriptions, the clawback queue, the audit log and — given a
/// [`Listing`] — every entitlement.
pub async fn load(
    client: &StoreClient,
    collections_key: Option<String>,
    purchase_key: Option<String>,
    journal_at: &JournalLocation,
    listing: Option<Listing<'_>>,
    cancel: &CancellationToken,
) -> Case {
    let mut case = Case::new(collections_key, purchase_key);
    let mut failed = Vec::new();
    match case.purchase_key.clone() {
        Some(k) => {
            let read = orders_once_a_day(client, &k, false, cancel).await;
            case.orders = part("orders", read.map(|r| r.orders), &mut failed);
            case.subscriptions = part(
                "subscriptions",
                recurrences(client, &k, cancel).await,
                &mut failed,
            );
        }
        None => {
            case.orders = Part::NotRead("no purchase key".into());
            case.subscriptions = Part::NotRead("no purchase key".into());
        }
    }
    // Opened once for the whole case (a headless run reads, never writes).
    let journal =
        crate::journal::open(journal_at, crate::clock::Clock::system()).map_err(|e| e.to_string());
    let journal = journal.as_deref().map_err(String::as_str);
    case.clawbacks = part("clawback queue", peek(client, journal).await, &mut failed);
    case.audit = match journal.map(|j| audit_for(j, &case.fingerprints())) {
        Ok(Ok(a)) => Part::Read(a),
        Ok(Err(why)) => Part::Failed { why, partial: None },
        Err(why) => Part::Failed {
            why: why.to_string(),
            partial: None,
        },
    };
    case.entitlements = match (case.collections_key.clone(), listing) {
        (None, _) => Part::NotRead("no collections key".into()),
        (Some(_), None) => Part::NotRead("not listed".into()),
        (Some(k), Some(listing)) => {
            let (part, fail) = entitlements(client, &k, listing, cancel).await;
            failed.extend(fail);
            part
        }
    };
    case.failed_calls = failed;
    case
}
