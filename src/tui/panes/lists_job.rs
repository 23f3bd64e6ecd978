//! Background work of the Orders, Subscriptions, Clawbacks and Timeline
//! panes. Each job is a plain async function from the client (and the
//! process's journal) to the pane's event, so tests run them against the
//! sandbox directly; `tui::jobs` runs them on tokio tasks for the console.

use crate::case::read::Failure;
use crate::journal::{Actor, WriteRequest};
use crate::store::StoreClient;
use crate::tui::panes::clawbacks::{ClawEvent, ClawJob, RECEIVE_VISIBILITY_SECS, Receipt};
use crate::tui::panes::orders::{OrdersEvent, OrdersJob};
use crate::tui::panes::subscriptions::{SubsEvent, SubsJob};
use crate::tui::panes::timeline::{TimelineEvent, TimelineJob};
use crate::tui::panes::{PaneEvent, PaneJob};
use crate::tui::writes::SharedJournal;
use tokio_util::sync::CancellationToken;

/// The orders of the last 90 days, read at most once a day (today's
/// earlier read unless `refresh`).
pub async fn orders(client: &StoreClient, key: &str, refresh: bool, load_id: u64) -> OrdersEvent {
    let r =
        crate::case::load::orders_once_a_day(client, key, refresh, &CancellationToken::new()).await;
    OrdersEvent::Read {
        load_id,
        result: r.map_err(|e| Failure::from_store(&e)),
    }
}

/// Every page of the recurrences query.
pub async fn recurrences(client: &StoreClient, key: &str, load_id: u64) -> SubsEvent {
    let r = crate::case::load::recurrences(client, key, &CancellationToken::new()).await;
    SubsEvent::Loaded {
        load_id,
        result: r.map_err(|e| Failure::from_store(&e)),
    }
}

/// The case loader's peek: SAS token, up to 32 events, journal matches.
pub async fn peek(client: &StoreClient, journal: &SharedJournal, load_id: u64) -> ClawEvent {
    let journal = match journal {
        Ok(j) => Ok(&**j),
        Err(e) => Err(e.as_str()),
    };
    ClawEvent::Peeked {
        load_id,
        result: crate::case::load::peek(client, journal)
            .await
            .map_err(|e| Failure::from_store(&e)),
    }
}

/// Receive the first `count` events (hiding them for a while) to get the
/// pop receipt of `message_id`.
pub async fn receive(client: &StoreClient, message_id: &str, count: u8) -> ClawEvent {
    ClawEvent::Received {
        message_id: message_id.to_string(),
        result: receive_inner(client, message_id, count).await,
    }
}

async fn receive_inner(
    client: &StoreClient,
    message_id: &str,
    count: u8,
) -> Result<Receipt, Failure> {
    let sas = client
        .clawback_sas()
        .await
        .map_err(|e| Failure::from_store(&e))?
        .value;
    let got = client
        .queue_receive(&sas.uri, count, Some(RECEIVE_VISIBILITY_SECS))
        .await
        .map_err(|e| Failure::from_store(&e))?
        .value;
    let n = got.len();
    let again = got
        .first()
        .and_then(|q| q.message.time_next_visible.clone());
    let Some(m) = got.into_iter().find(|q| q.message.message_id == message_id) else {
        return Err(Failure {
            message: format!("the event was not among the {n} received"),
            hint: Some(format!(
                "another reader holds it or it has left the queue{}",
                again
                    .map(|t| format!("; the {n} received show again at {t}"))
                    .unwrap_or_default()
            )),
            correlation_ids: Vec::new(),
        });
    };
    // The peek's row said this event is the profile's; check the received
    // copy too before handing out a receipt that can delete it.
    let expected = crate::case::clawbacks::expected_sandbox_id(client.sbx().as_deref()).to_string();
    let row = crate::case::clawbacks::ClawRow {
        position: 0,
        message_id: m.message.message_id.clone(),
        insertion_time: String::new(),
        dequeue_count: m.message.dequeue_count,
        event: m.event.clone(),
        matches: Ok(Vec::new()),
    };
    if let Some(why) = crate::case::clawbacks::ack_refusal(&row, &expected) {
        return Err(Failure::plain(why));
    }
    match m.message.pop_receipt {
        Some(pop_receipt) if !pop_receipt.is_empty() => Ok(Receipt {
            pop_receipt,
            visible_again: m.message.time_next_visible,
            others_hidden: n.saturating_sub(1),
        }),
        _ => Err(Failure::plain("the queue answered without a pop receipt")),
    }
}

/// A confirmed write through the one write path; one line for the screen.
pub async fn write(
    client: &StoreClient,
    journal: &SharedJournal,
    actor: &Actor,
    req: WriteRequest,
) -> Result<String, String> {
    crate::tui::writes::run(client, journal, actor, req)
        .await
        .line
}

pub use crate::case::load::audit_for;

/// Run one job of these panes; `None` for a job that is not theirs.
/// `client` is `None` while the console is not connected yet.
pub async fn run(
    client: Option<&StoreClient>,
    journal: &SharedJournal,
    actor: &Actor,
    job: PaneJob,
) -> Option<PaneEvent> {
    const OFFLINE: &str = "not connected to a Store yet";
    let offline = || Failure::plain(OFFLINE);
    Some(match job {
        PaneJob::Orders(OrdersJob::Load {
            load_id,
            key,
            refresh,
        }) => PaneEvent::Orders(match client {
            Some(c) => orders(c, &key, refresh, load_id).await,
            None => OrdersEvent::Loaded {
                load_id,
                result: Err(offline()),
            },
        }),
        PaneJob::Subscriptions(SubsJob::Load { load_id, key }) => {
            PaneEvent::Subscriptions(match client {
                Some(c) => recurrences(c, &key, load_id).await,
                None => SubsEvent::Loaded {
                    load_id,
                    result: Err(offline()),
                },
            })
        }
        PaneJob::Subscriptions(SubsJob::Write(req)) => {
            PaneEvent::Subscriptions(SubsEvent::Written(match client {
                Some(c) => write(c, journal, actor, req).await,
                None => Err(format!("not sent: {OFFLINE}")),
            }))
        }
        PaneJob::Clawbacks(ClawJob::Peek { load_id }) => PaneEvent::Clawbacks(match client {
            Some(c) => peek(c, journal, load_id).await,
            None => ClawEvent::Peeked {
                load_id,
                result: Err(offline()),
            },
        }),
        PaneJob::Clawbacks(ClawJob::Receive { message_id, count }) => {
            PaneEvent::Clawbacks(match client {
                Some(c) => receive(c, &message_id, count).await,
                None => ClawEvent::Received {
                    message_id,
                    result: Err(offline()),
                },
            })
        }
        PaneJob::Clawbacks(ClawJob::Ack(req)) => {
            PaneEvent::Clawbacks(ClawEvent::Acked(match client {
                Some(c) => write(c, journal, actor, req).await,
                None => Err(format!("not sent: {OFFLINE}")),
            }))
        }
        PaneJob::Timeline(TimelineJob::LoadAudit { load_id, fps }) => {
            let result = match journal {
                Ok(j) => {
                    let j = j.clone();
                    tokio::task::spawn_blocking(move || audit_for(&*j, &fps))
                        .await
                        .unwrap_or_else(|e| Err(format!("audit read stopped: {e}")))
                }
                Err(e) => Err(e.clone()),
            };
            PaneEvent::Timeline(TimelineEvent::AuditLoaded { load_id, result })
        }
        PaneJob::Key(_) | PaneJob::Entitlements(_) | PaneJob::Audit(_) => return None,
    })
}

/// Whether a job writes (the status bar's pending list must be re-read after).
pub fn is_write(job: &PaneJob) -> bool {
    matches!(
        job,
        PaneJob::Subscriptions(SubsJob::Write(_)) | PaneJob::Clawbacks(ClawJob::Ack(_))
    )
}
