//! The Orders, Subscriptions, Clawbacks and Timeline panes end to end: the
//! real `App` (keys, palette, confirmation dialog) with every pane job run
//! by `panes::lists_job` against the embedded sandbox over loopback HTTP and
//! a real journal file — the runtime's path, minus the terminal.

#[path = "support/console.rs"]
mod console;

use console::{ConsoleRig, enter, key};
use std::path::PathBuf;
use storedesk::journal::{AuditFilter, Journal, WriteRequest};
use storedesk::store::model::{EventState, RecurrenceState};
use storedesk::tui::app::{Action, Effect, JobEvent, Overlay};
use storedesk::tui::keymap::Command;
use storedesk::tui::panes::{PaneId, PaneJob};
use storedesk::tui::render::render_text;

const COINS: &str = "9NSDCOIN0500";

#[tokio::test]
async fn cora_orders_are_read_once_per_key_with_refunds_and_revocations() {
    let rig = ConsoleRig::start(None).await;
    let mut app = rig.app_with("cora");
    let fx = key(&mut app, '3');
    assert_eq!(rig.drive(&mut app, fx).await, 1);
    let orders = app
        .panes
        .case
        .orders
        .data()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let ids: Vec<&str> = orders.iter().map(|o| o.order_id.as_str()).collect();
    // Five within 90 days; the one bought 120 days ago is not listed.
    assert_eq!(orders.len(), 5, "{ids:?}");
    assert!(!ids.contains(&"8c2b7a6f-5e4d-4c3b-9a2f-1e0d9c8b7a6f"));
    assert!(
        orders
            .windows(2)
            .all(|w| w[0].order_purchased_date >= w[1].order_purchased_date),
        "newest first"
    );
    let revoked = orders
        .iter()
        .find(|o| o.order_id == "6a0f5e4d-3c2b-4a1f-9e0d-9c8b7a6f5e4d")
        .unwrap();
    assert!(revoked.order_refunded_date.is_some());
    assert_eq!(
        revoked.order_line_items[0].was_consumable_quantity_revoked,
        Some(true)
    );
    let text = render_text(&app, 200, 50);
    assert!(text.contains("cora@contoso.example · 5 orders"), "{text}");
    assert!(text.contains("Revoked   yes"), "{text}");
    // Switching panes does not read again; one orders query so far.
    for c in ['4', '3', '1', '3'] {
        let fx = key(&mut app, c);
        assert!(
            !fx.iter()
                .any(|e| matches!(e, Effect::Pane(PaneId::Orders, _))),
            "{fx:?}"
        );
    }
    assert_eq!(rig.client.stats().of("ordersQuery"), 1);
    // r within the day asks; the second r reads.
    assert!(key(&mut app, 'r').is_empty());
    let fx = key(&mut app, 'r');
    assert_eq!(rig.drive(&mut app, fx).await, 1);
    assert_eq!(rig.client.stats().of("ordersQuery"), 2);
}

#[tokio::test]
async fn sam_subscriptions_show_every_state_and_an_extension_applies_once() {
    let rig = ConsoleRig::start(None).await;
    let mut app = rig.app_with("sam");
    let fx = key(&mut app, '4');
    assert_eq!(rig.drive(&mut app, fx).await, 1);
    let states: Vec<RecurrenceState> = app
        .panes
        .case
        .subscriptions
        .data()
        .unwrap()
        .iter()
        .filter_map(|r| r.recurrence_state.clone())
        .collect();
    for want in [
        RecurrenceState::None,
        RecurrenceState::Active,
        RecurrenceState::Inactive,
        RecurrenceState::Canceled,
        RecurrenceState::InDunning,
        RecurrenceState::Failed,
    ] {
        assert!(states.contains(&want), "{want:?} missing from {states:?}");
    }
    // Extend the retail Active one by 7 days, from the palette.
    let id = "mdr:0:aa00000000000000000000000000000a:0a000000-0000-4000-8000-00000000000a";
    let items = app
        .panes
        .case
        .subscriptions
        .data()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let pos = items.iter().position(|r| r.id == id).unwrap();
    let before = items[pos].expiration_time.unwrap().0;
    app.panes.subscriptions.cursor.selected = pos;
    assert!(app.run_command(Command::ExtendSubscription).is_empty());
    assert!(app.panes.subscriptions.prompt.is_some());
    key(&mut app, '7');
    assert!(
        storedesk::tui::collision::sends_nothing(&enter(&mut app)),
        "the dialog comes first"
    );
    assert!(matches!(app.overlay, Some(Overlay::Confirm(_))));
    let fx = enter(&mut app);
    assert!(matches!(
        fx.as_slice(),
        [Effect::Pane(
            PaneId::Subscriptions,
            PaneJob::Subscriptions(_)
        )]
    ));
    // The write, then the re-read it asks for.
    assert_eq!(rig.drive(&mut app, fx).await, 2);
    assert!(
        app.toast.as_deref().unwrap_or("").contains("done"),
        "{:?} {:?}",
        app.toast,
        app.last_error
    );
    let after = app
        .panes
        .case
        .subscriptions
        .data()
        .unwrap()
        .iter()
        .find(|r| r.id == id)
        .unwrap()
        .expiration_time
        .unwrap()
        .0;
    assert_eq!(after - before, chrono::Duration::days(7));
    // The non-retail one is refused by the Store: settled failed, not pending.
    let non_retail = "mdr:0:1100000000000000000000000000001a:1a000000-0000-4000-8000-00000000001a";
    let pos = app
        .panes
        .case
        .subscriptions
        .data()
        .unwrap()
        .iter()
        .position(|r| r.id == non_retail)
        .unwrap();
    app.panes.subscriptions.cursor.selected = pos;
    assert!(storedesk::tui::collision::sends_nothing(
        &app.run_command(Command::CancelSubscription)
    ));
    let fx = enter(&mut app);
    rig.drive(&mut app, fx).await;
    let err = app.last_error.clone().unwrap_or_default();
    assert!(err.contains("refused"), "{err}");
    let j = Journal::open(&rig.journal).unwrap();
    let audit = j
        .audit(&AuditFilter {
            action: Some("recurrence_change".into()),
            ..AuditFilter::default()
        })
        .unwrap();
    let events: Vec<&str> = audit.iter().map(|a| a.event.as_str()).collect();
    assert_eq!(events, vec!["attempt", "done", "attempt", "failed"]);
    assert!(storedesk::journal::pending(&j).unwrap().is_empty());
}

#[tokio::test]
async fn cora_clawbacks_match_a_journaled_consume_ack_removes_one_and_the_timeline_ties_them() {
    let rig = ConsoleRig::start(None).await;
    let (collections, _) = rig.keys("cora");
    // A consume through the one write path: it draws from the oldest line
    // with coins left, and the journal keeps that order transaction.
    let report = storedesk::tui::writes::run(
        &rig.client,
        &rig.shared,
        &rig.actor,
        WriteRequest::consume(&collections, COINS, Some(1), None),
    )
    .await;
    assert!(report.line.is_ok(), "{:?}", report.line);
    let j = Journal::open(&rig.journal).unwrap();
    let consume_id = j.writes().unwrap()[0].id;
    let mut app = rig.app_with("cora");
    let fx = key(&mut app, '5');
    assert_eq!(rig.drive(&mut app, fx).await, 1);
    let rows = storedesk::tui::panes::clawbacks::rows(&app.panes.case).to_vec();
    assert_eq!(rows.len(), 4);
    let mut states: Vec<EventState> = rows.iter().filter_map(|r| r.state().cloned()).collect();
    states.sort();
    assert_eq!(
        states,
        vec![
            EventState::Revoked,
            EventState::Returned,
            EventState::Refunded,
            EventState::ChargebackReversal
        ]
    );
    let fp = storedesk::keys::fingerprint(&collections);
    let matched: Vec<String> = rows
        .iter()
        .map(|r| storedesk::tui::panes::clawbacks::match_text(&r.matches))
        .collect();
    let refunded = rows
        .iter()
        .position(|r| r.state() == Some(&EventState::Refunded))
        .unwrap();
    assert_eq!(
        matched[refunded],
        format!("matches consume #{consume_id} of customer {fp}")
    );
    assert_eq!(
        matched
            .iter()
            .filter(|m| m.as_str() == "no local record")
            .count(),
        3,
        "{matched:?}"
    );
    // Peeking removed nothing: a second peek sees the same four.
    let fx = key(&mut app, 'r');
    rig.drive(&mut app, fx).await;
    assert_eq!(
        storedesk::tui::panes::clawbacks::rows(&app.panes.case).len(),
        4
    );

    // Acknowledge the Revoked one: receive, dialog, journal, delete.
    let revoked = storedesk::tui::panes::clawbacks::rows(&app.panes.case)
        .iter()
        .position(|r| r.state() == Some(&EventState::Revoked))
        .unwrap();
    let revoked_id = storedesk::tui::panes::clawbacks::rows(&app.panes.case)[revoked]
        .message_id
        .clone();
    app.panes.clawbacks.cursor.selected = revoked;
    let fx = app.run_command(Command::AckClawback);
    assert_eq!(rig.drive(&mut app, fx).await, 1, "only the receive ran");
    assert!(
        matches!(app.overlay, Some(Overlay::Confirm(_))),
        "{:?}",
        app.last_error
    );
    let fx = enter(&mut app);
    assert_eq!(rig.drive(&mut app, fx).await, 2, "the delete, then a peek");
    assert!(
        app.toast.as_deref().unwrap_or("").contains("done"),
        "{:?} {:?}",
        app.toast,
        app.last_error
    );
    let left: Vec<&str> = storedesk::tui::panes::clawbacks::rows(&app.panes.case)
        .iter()
        .map(|r| r.message_id.as_str())
        .collect();
    assert!(!left.contains(&revoked_id.as_str()), "{left:?}");
    let acks = j
        .audit(&AuditFilter {
            action: Some("clawback_ack".into()),
            ..AuditFilter::default()
        })
        .unwrap();
    assert_eq!(acks.last().map(|a| a.event.as_str()), Some("done"));
    // An acknowledgement names no customer, and the audit log says so
    // rather than showing the fingerprint of an empty key.
    assert!(acks.iter().all(|a| a.customer_fp == "none"), "{acks:?}");

    // The timeline: orders read, the consume's audit entries, the events
    // tied to cora by order; entitlements named as not listed.
    let fx = key(&mut app, '3');
    rig.drive(&mut app, fx).await;
    let fx = key(&mut app, '6');
    assert_eq!(
        rig.drive(&mut app, fx).await,
        1,
        "only the local audit read"
    );
    let tl = &app.panes.timeline;
    let sources: Vec<&str> = tl.sources.iter().map(|(_, _, s)| s.as_str()).collect();
    assert!(
        sources.contains(&"entitlements: not listed yet (open 2)"),
        "{sources:?}"
    );
    assert!(sources.contains(&"orders 5 (90 days)"), "{sources:?}");
    assert!(
        sources
            .iter()
            .any(|s| s.starts_with("clawbacks 3 of 3 queue events tie to this case")),
        "{sources:?}"
    );
    // The consume's two entries, and the acknowledgement's two: it names no
    // customer but its order is one of cora's.
    assert!(sources.contains(&"audit 4"), "{sources:?}");
    assert!(
        tl.entries
            .iter()
            .any(|e| e.what == "clawback_ack done" && e.detail.contains("3d7c2b1a")),
        "{:?}",
        tl.entries
    );
    assert!(
        tl.entries
            .iter()
            .any(|e| e.what == "consume done" && e.detail.contains(COINS)),
        "{:?}",
        tl.entries
    );
    assert!(tl.entries.windows(2).all(|w| w[0].at >= w[1].at));
    let text = render_text(&app, 200, 50);
    assert!(text.contains("Timeline"), "{text}");
}

/// Targeted offers from the Key pane: token → list → receipt → the one
/// confirmation dialog → the journal → the Store; audited, claimed once.
#[tokio::test]
async fn targeted_offer_is_listed_and_claimed_through_the_journal() {
    use storedesk::tui::panes::PaneEvent;
    use storedesk::tui::panes::key::KeyJob;
    use storedesk::tui::panes::key_job;
    let rig = ConsoleRig::start(None).await;
    let mut app = rig.app_with("ada");
    let (_, purchase) = rig.keys("ada");
    key(&mut app, '1');
    key(&mut app, 'o');
    app.update(Action::Paste(purchase.clone()));
    let fx = enter(&mut app);
    let [Effect::Pane(PaneId::Key, PaneJob::Key(job @ KeyJob::FetchOffers { .. }))] = &fx[..]
    else {
        panic!("expected one offers fetch: {fx:?}");
    };
    let ev = key_job::run(Some(&rig.client), &rig.shared, &rig.actor, job.clone()).await;
    app.update(Action::Job(JobEvent::Pane(PaneId::Key, PaneEvent::Key(ev))));
    let screen = render_text(&app, 200, 50);
    assert!(screen.contains("9NSDDLC00003, 9NSDCOIN0500"), "{screen}");
    assert!(
        !screen.contains(&purchase),
        "the token is never shown once typed"
    );
    enter(&mut app);
    for c in "order-4711".chars() {
        key(&mut app, c);
    }
    let fx = enter(&mut app);
    assert!(
        storedesk::tui::collision::sends_nothing(&fx),
        "nothing is sent before confirmation: {fx:?}"
    );
    assert!(matches!(app.overlay, Some(Overlay::Confirm(_))));
    let screen = render_text(&app, 200, 50);
    assert!(screen.contains("Claim targeted offer"), "{screen}");
    assert!(screen.contains("order-4711"), "{screen}");
    let fx = enter(&mut app);
    let [Effect::Pane(PaneId::Key, PaneJob::Key(job @ KeyJob::ClaimOffer { .. }))] = &fx[..] else {
        panic!("expected one claim: {fx:?}");
    };
    let ev = key_job::run(Some(&rig.client), &rig.shared, &rig.actor, job.clone()).await;
    app.update(Action::Job(JobEvent::Pane(PaneId::Key, PaneEvent::Key(ev))));
    assert!(
        app.toast.as_deref().unwrap_or("").contains("done"),
        "{:?} {:?}",
        app.toast,
        app.last_error
    );
    let audit = Journal::open(&rig.journal)
        .unwrap()
        .audit(&AuditFilter::default())
        .unwrap();
    let claims: Vec<_> = audit.iter().filter(|e| e.action == "offer_claim").collect();
    assert_eq!(claims.len(), 2, "attempt + done: {claims:?}");
    assert!(claims.iter().any(|e| e.event == "done"));
    assert!(
        claims
            .iter()
            .all(|e| !e.request_summary.contains(&purchase)),
        "the token never reaches the audit log"
    );
}

/// One customer, two faces: the Case loaded headless through the case
/// loaders and the Case the console's panes hold after reading the same
/// customer give the same timeline, entry for entry.
#[tokio::test]
async fn headless_case_equals_what_the_panes_show() {
    let rig = ConsoleRig::start(None).await;
    let (collections, purchase) = rig.keys("cora");
    let report = storedesk::tui::writes::run(
        &rig.client,
        &rig.shared,
        &rig.actor,
        WriteRequest::consume(&collections, COINS, Some(1), None),
    )
    .await;
    assert!(report.line.is_ok(), "{:?}", report.line);

    let mut app = rig.app_with("cora");
    for pane in ['3', '4', '5', '6'] {
        let fx = key(&mut app, pane);
        rig.drive(&mut app, fx).await;
    }
    let shown = app.panes.timeline.entries.clone();
    assert!(!shown.is_empty());

    let cancel = tokio_util::sync::CancellationToken::new();
    let mut case = storedesk::case::load::load(
        &rig.client,
        Some(collections),
        Some(purchase),
        &storedesk::journal::JournalLocation::Sqlite(rig.journal.clone()),
        None,
        &cancel,
    )
    .await;
    assert!(case.failed_calls.is_empty(), "{:?}", case.failed_calls);
    // The panes did not list entitlements (pane 2 was never opened), so
    // neither does the headless case here.
    case.entitlements = storedesk::case::Part::NotRead("not listed yet (open 2)".into());
    let headless = storedesk::case::timeline::build(&case, app.now);
    assert_eq!(headless.entries, shown);
    assert_eq!(headless.sources, app.panes.timeline.sources);
    // And the panes' own Case is the same customer's.
    assert_eq!(app.panes.case().fingerprints(), case.fingerprints());
}

fn ids(orders: &[storedesk::store::model::Order]) -> Vec<String> {
    let mut v: Vec<String> = orders.iter().map(|o| o.order_id.clone()).collect();
    v.sort();
    v
}

/// A key minted by the sandbox for `customer` with the `userId` claim
/// `user_id` (a publisherUserId the publisher passed: here, shared).
async fn mint_with_user(rig: &ConsoleRig, customer: &str, kind: &str, user_id: &str) -> String {
    let resp = reqwest::Client::new()
        .post(format!("{}/_sandbox/keys", rig.sandbox.info.base_url))
        .header(
            storedesk::sandbox::CONTROL_SECRET_HEADER,
            &rig.sandbox.info.control_secret,
        )
        .json(&serde_json::json!({"customer": customer, "kind": kind, "userId": user_id}))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "mint: {}", resp.status());
    let v: serde_json::Value = resp.json().await.unwrap();
    v["key"].as_str().unwrap().to_string()
}

/// Two customers whose keys carry the same userId claim stay two cases:
/// pasting the second never shows the first one's orders, and their call
/// budgets are counted apart.
#[tokio::test]
async fn two_customers_with_one_user_id_stay_apart() {
    let rig = ConsoleRig::start(None).await;
    let shared = "same-for-everyone@publisher.example";
    let ada = mint_with_user(&rig, "ada", "purchase", shared).await;
    let cora = mint_with_user(&rig, "cora", "purchase", shared).await;
    assert_eq!(
        storedesk::store::keyinfo::user_id(&ada),
        storedesk::store::keyinfo::user_id(&cora)
    );
    let cancel = tokio_util::sync::CancellationToken::new();
    let ada_orders = storedesk::case::load::orders(&rig.client, &ada, &cancel)
        .await
        .unwrap();
    let cora_orders = storedesk::case::load::orders(&rig.client, &cora, &cancel)
        .await
        .unwrap();
    assert_ne!(
        ids(&ada_orders),
        ids(&cora_orders),
        "the two customers' orders differ"
    );

    let mut app = rig.app_with("ada");
    app.update(Action::Paste(ada.clone()));
    let fx = key(&mut app, '3');
    assert_eq!(rig.drive(&mut app, fx).await, 1);
    assert_eq!(
        ids(app
            .panes
            .case
            .orders
            .data()
            .map(Vec::as_slice)
            .unwrap_or(&[])),
        ids(&ada_orders)
    );
    // The other customer's key: a new case, read anew.
    let fx = key(&mut app, '1');
    rig.drive(&mut app, fx).await;
    let mut fx = app.update(Action::Paste(cora.clone()));
    fx.extend(key(&mut app, '3'));
    assert_eq!(rig.drive(&mut app, fx).await, 1, "cora's orders are read");
    assert_eq!(
        ids(app
            .panes
            .case
            .orders
            .data()
            .map(Vec::as_slice)
            .unwrap_or(&[])),
        ids(&cora_orders)
    );

    // Budgets: calls with one customer's collections key leave the other's whole.
    let ada_c = mint_with_user(&rig, "ada", "collections", shared).await;
    let cora_c = mint_with_user(&rig, "cora", "collections", shared).await;
    let before = rig.client.calls_left_for_key(&cora_c);
    rig.client
        .entitlements_v8(&ada_c, &Default::default(), &cancel, |_| {})
        .await
        .unwrap();
    assert!(rig.client.calls_left_for_key(&ada_c) < before);
    assert_eq!(rig.client.calls_left_for_key(&cora_c), before);
}

/// `e` on the Timeline writes the case file of the case on screen: the
/// same renderer as `storedesk case`, named by date and customer, through
/// the export job; the path is shown once it is written.
#[tokio::test]
async fn e_on_the_timeline_writes_the_case_file() {
    use storedesk::tui::panes::PaneEvent;
    use storedesk::tui::panes::entitlements::{EntEvent, EntJob};
    let rig = ConsoleRig::start(None).await;
    let (collections, purchase) = rig.keys("cora");
    let mut app = rig.app_with("cora");
    for pane in ['3', '4', '5', '6'] {
        let fx = key(&mut app, pane);
        rig.drive(&mut app, fx).await;
    }
    let fx = key(&mut app, 'e');
    let Some((file_name, content)) = fx.iter().find_map(|e| match e {
        Effect::Pane(
            PaneId::Timeline,
            PaneJob::Entitlements(EntJob::Export {
                file_name, content, ..
            }),
        ) => Some((file_name.clone(), content.to_string())),
        _ => None,
    }) else {
        panic!("no case file export: {fx:?} {:?}", app.last_error);
    };
    let fp = storedesk::keys::fingerprint(&collections);
    assert!(
        file_name.starts_with("case-") && file_name.ends_with(&format!("-{fp}.md")),
        "{file_name}"
    );
    for section in [
        "## Keys",
        "## Orders (last 90 days)",
        "## Clawback events",
        "## Writes",
    ] {
        assert!(content.contains(section), "no {section}: {content}");
    }
    assert!(content.contains("Refund Returned"), "{content}");
    assert!(!content.contains(&collections) && !content.contains(&purchase));
    let path = PathBuf::from("/tmp/exports").join(&file_name);
    app.update(Action::Job(JobEvent::Pane(
        PaneId::Timeline,
        PaneEvent::Entitlements(EntEvent::Exported(Ok((path.clone(), 0)))),
    )));
    let toast = app.toast.clone().unwrap_or_default();
    assert!(toast.contains(&path.display().to_string()), "{toast}");
}

/// The console's case file lists the reads that failed with the ids
/// Microsoft support traces them by (from the Store's answer headers), and
/// names the profile's `sbx`.
#[tokio::test]
async fn the_console_case_file_lists_failed_calls_with_their_ids() {
    use storedesk::tui::panes::entitlements::EntJob;
    let rig = ConsoleRig::start(None).await;
    let mut app = rig.app_with("cora");
    if let storedesk::tui::action::ConnState::Ready(c) = &mut app.conn {
        c.sandbox_id = Some("XDKS.1".into());
    }
    // The subscriptions read is refused (403: never retried).
    rig.sandbox.add_fault("recurrences:403".parse().unwrap());
    for pane in ['3', '4', '6'] {
        let fx = key(&mut app, pane);
        rig.drive(&mut app, fx).await;
    }
    rig.sandbox.clear_faults();
    let fx = key(&mut app, 'e');
    let content = fx
        .iter()
        .find_map(|e| match e {
            Effect::Pane(
                PaneId::Timeline,
                PaneJob::Entitlements(EntJob::Export { content, .. }),
            ) => Some(content.to_string()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no case file export: {:?}", app.last_error));
    assert!(
        content.contains("| sandbox id (sbx) | XDKS.1 |"),
        "{content}"
    );
    let failed = content
        .split("## Failed calls")
        .nth(1)
        .expect("a failed-calls section");
    let row = failed
        .lines()
        .find(|l| l.starts_with("| subscriptions "))
        .unwrap_or_else(|| panic!("no subscriptions row: {failed}"));
    assert!(row.contains("403"), "{row}");
    // The sandbox answers with a fresh uuid as MS-CorrelationId.
    let id = row
        .split("MS-CorrelationId `")
        .nth(1)
        .and_then(|r| r.split('`').next())
        .unwrap_or_else(|| panic!("no MS-CorrelationId: {row}"));
    assert_eq!(id.len(), 36, "{row}");
    assert!(row.contains("MS-RequestId `"), "{row}");
    // Only the failed read is listed: orders were read.
    assert!(!failed.contains("| orders "), "{failed}");
}
