//! Snapshots of the Orders, Subscriptions, Clawbacks and Timeline panes at
//! 80×24 and 200×50, driven through the real `update` and `view`: the job
//! answers are fed back as the runtime would feed them.

use crate::case::read::Failure;
use crate::config::Environment;
use crate::journal::RecordedOrderTransaction;
use crate::store::model::{ClawbackEvent, Order, Recurrence, RecurrenceState};
use crate::tui::app::{Action, App, Connection, Effect, JobEvent};
use crate::tui::keymap::Command;
use crate::tui::panes::clawbacks::{ClawEvent, ClawJob, ClawRow, Peeked, Receipt};
use crate::tui::panes::orders::{OrdersEvent, OrdersJob};
use crate::tui::panes::subscriptions::{SubsEvent, SubsJob};
use crate::tui::panes::timeline::{TimelineEvent, TimelineJob};
use crate::tui::panes::{PaneEvent, PaneId, PaneJob};
use crate::tui::render::render_text;
use crate::tui::snapshot_tests::{key_issued, test_app};
use chrono::{Duration, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde_json::json;

const SIZES: [(u16, u16); 2] = [(80, 24), (200, 50)];

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap()
}

/// A wire time `days` from the test's now.
fn t(days: i64) -> String {
    (now() + Duration::days(days))
        .format("%Y-%m-%dT%H:%M:%S.0000000+00:00")
        .to_string()
}

fn snap(name: &str, app: &App) {
    for (w, h) in SIZES {
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), scrub(&render_text(app, w, h)));
    }
}

/// Fresh idempotency keys are random UUIDs: hide them, keep the fixtures'
/// ids readable (they all contain `-4000-8000-` or are listed here).
fn scrub(text: &str) -> String {
    let fixture = |u: &str| u.contains("-4000-8000-") || FIXED_IDS.contains(&u);
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let cand: String = chars[i..(i + 36).min(chars.len())].iter().collect();
        if cand.chars().count() == 36 && uuid::Uuid::parse_str(&cand).is_ok() && !fixture(&cand) {
            out.push_str("xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx");
            i += 36;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

const FIXED_IDS: &[&str] = &[
    "3d7c2b1a-0f9e-4d8c-8b7a-6f5e4d3c2b1a",
    "4e8d3c2b-1a0f-4e9d-9c8b-7a6f5e4d3c2b",
    "5f9e4d3c-2b1a-4f0e-8d9c-8b7a6f5e4d3c",
    "6a0f5e4d-3c2b-4a1f-9e0d-9c8b7a6f5e4d",
    "11111111-2222-4333-8444-555555555555",
];

fn press(app: &mut App, c: KeyCode) -> Vec<Effect> {
    app.update(Action::Key(KeyEvent::new(c, KeyModifiers::NONE)))
}

fn connect(app: &mut App) {
    app.update(Action::Job(JobEvent::Connected(Connection {
        base_description: "http://127.0.0.1:1/collections".into(),
        client_id: "1a2b3c4d-0000-4000-8000-000000000001".into(),
        sandbox_id: None,
        sandbox_public_key_pem: None,
        demo_customers: vec![],
        grantable: vec![],
    })));
}

fn purchase_key() -> String {
    let iat = now().timestamp() - 86_400;
    key_issued("purchase", iat)
}

fn collections_key() -> String {
    let iat = now().timestamp() - 86_400;
    key_issued("collections", iat)
}

/// An app with a purchase key in the case, connected.
fn case_app() -> App {
    let mut app = test_app(Environment::Sandbox);
    connect(&mut app);
    app.update(Action::Paste(purchase_key()));
    app
}

fn job(app: &mut App, id: PaneId, ev: PaneEvent) -> Vec<Effect> {
    app.update(Action::Job(JobEvent::Pane(id, ev)))
}

fn orders_fixture() -> Vec<Order> {
    serde_json::from_value(json!([
        {"orderId": "4e8d3c2b-1a0f-4e9d-9c8b-7a6f5e4d3c2b", "orderPurchasedDate": t(-10),
         "totalAmount": 80.82, "currencyCode": "USD",
         "orderLineItems": [{"lineItemId": "a1b2c3d4-0002-4000-8000-000000000002",
            "lineItemState": "Purchased", "productId": "9NSDCOIN0500", "quantity": 15, "skuId": "0010",
            "listPrice": 4.99, "taxAmount": 5.97, "currencyCode": "USD"}]},
        {"orderId": "5f9e4d3c-2b1a-4f0e-8d9c-8b7a6f5e4d3c", "orderPurchasedDate": t(-8),
         "orderRefundedDate": t(-3),
         "orderLineItems": [{"lineItemId": "a1b2c3d4-0003-4000-8000-000000000003",
            "lineItemState": "Refunded", "productId": "9NSDGEMS0001", "quantity": 1, "skuId": "0010"}]},
        {"orderId": "6a0f5e4d-3c2b-4a1f-9e0d-9c8b7a6f5e4d", "shortOrderId": "6A0F5E4D",
         "orderPurchasedDate": t(-20), "orderRefundedDate": t(-15),
         "orderLineItems": [{"lineItemId": "a1b2c3d4-0004-4000-8000-000000000004",
            "lineItemState": "Revoked", "productId": "9NSDCOIN0500", "quantity": 5, "skuId": "0010",
            "wasConsumableQuantityRevoked": true}]},
        {"orderId": "3d7c2b1a-0f9e-4d8c-8b7a-6f5e4d3c2b1a", "orderPurchasedDate": t(-40),
         "orderLineItems": [
            {"lineItemId": "a1b2c3d4-0001-4000-8000-000000000001", "lineItemState": "Purchased",
             "productId": "9NSDCOIN0500", "quantity": 10, "skuId": "0010", "wasConsumableQuantityRevoked": false},
            {"lineItemId": "a1b2c3d4-0005-4000-8000-000000000005", "lineItemState": "Purchased",
             "productId": "9NSDGEMS0001", "quantity": 2, "skuId": "0010"}]}
    ]))
    .unwrap()
}

fn recurrence(
    id: u8,
    product: &str,
    state: &str,
    start: i64,
    exp: i64,
    grace: i64,
) -> serde_json::Value {
    json!({
        "autoRenew": state == "Active" || state == "InDunning",
        "beneficiary": "pub:demo-alice",
        "expirationTime": t(exp),
        "expirationTimeWithGrace": t(exp + grace),
        "id": format!("mdr:0:{id:02x}000000000000000000000000000000:{id:02x}000000-0000-4000-8000-0000000000{id:02x}"),
        "isTrial": false,
        "lastModified": t(start),
        "market": "US",
        "productId": product,
        "recurrenceState": state,
        "skuId": "0010",
        "startTime": t(start),
    })
}

fn recurrences_fixture() -> Vec<Recurrence> {
    let mut canceled = recurrence(4, "9NSDSUB00001", "Canceled", -90, 5, 0);
    canceled["cancellationDate"] = json!(t(-10));
    let mut trial = recurrence(6, "9NSDPASS0001", "Active", -5, 25, 0);
    trial["isTrial"] = json!(true);
    serde_json::from_value(json!([
        recurrence(1, "9NSDSUB00001", "Active", -35, 25, 3),
        recurrence(2, "9NSDPASS0001", "Active", -32, -2, 3),
        recurrence(3, "9NSDPASS0001", "Inactive", -200, -100, 0),
        canceled,
        recurrence(5, "9NSDPASS0001", "InDunning", -61, -1, 14),
        trial,
    ]))
    .unwrap()
}

fn event(
    id: u8,
    order: &str,
    line: &str,
    product: &str,
    state: &str,
    source: &str,
    days: i64,
) -> ClawbackEvent {
    serde_json::from_value(json!({
        "id": format!("0000000{id}-e000-4000-8000-000000000000"),
        "source": source,
        "type": "ClawbackEventContractV2",
        "time": t(days),
        "specversion": "1.0",
        "datacontenttype": "application/json",
        "subject": "",
        "traceparent": "",
        "data": {"lineItemId": line, "orderId": order, "productId": product,
                 "productType": "Consumable", "purchasedDate": t(days - 5), "eventDate": t(days),
                 "sandboxId": "XDKS.1", "eventState": state, "skuId": "0010"}
    }))
    .unwrap()
}

fn peeked(matched_fp: &str) -> Peeked {
    let row =
        |position: usize, ev: ClawbackEvent, matches: Vec<RecordedOrderTransaction>| ClawRow {
            position,
            message_id: format!("msg-{position}"),
            insertion_time: "Sun, 22 Nov 2026 10:00:00 GMT".into(),
            dequeue_count: 0,
            event: Ok(ev),
            matches: Ok(matches),
        };
    let consume = RecordedOrderTransaction {
        write_id: 3,
        tracking_id: "11111111-2222-4333-8444-555555555555".into(),
        product_id: "9NSDCOIN0500".into(),
        customer_fp: matched_fp.into(),
        order_id: "4e8d3c2b-1a0f-4e9d-9c8b-7a6f5e4d3c2b".into(),
        order_line_item_id: "a1b2c3d4-0002-4000-8000-000000000002".into(),
        quantity_consumed: 1,
        recorded_at: "2026-11-22T09:00:00.0000000+00:00".into(),
    };
    Peeked {
        rows: vec![
            row(
                0,
                event(
                    1,
                    "3d7c2b1a-0f9e-4d8c-8b7a-6f5e4d3c2b1a",
                    "a1b2c3d4-0001-4000-8000-000000000001",
                    "9NSDCOIN0500",
                    "Revoked",
                    "/Purchase/Refund",
                    -4,
                ),
                vec![],
            ),
            row(
                1,
                event(
                    2,
                    "5f9e4d3c-2b1a-4f0e-8d9c-8b7a6f5e4d3c",
                    "a1b2c3d4-0003-4000-8000-000000000003",
                    "9NSDGEMS0001",
                    "Returned",
                    "/Purchase/Refund",
                    -3,
                ),
                vec![],
            ),
            row(
                2,
                event(
                    3,
                    "4e8d3c2b-1a0f-4e9d-9c8b-7a6f5e4d3c2b",
                    "a1b2c3d4-0002-4000-8000-000000000002",
                    "9NSDCOIN0500",
                    "Refunded",
                    "/Purchase/Refund",
                    -2,
                ),
                vec![consume],
            ),
            row(
                3,
                event(
                    4,
                    "9f9f9f9f-0000-4000-8000-00000000009f",
                    "a1b2c3d4-0009-4000-8000-000000000009",
                    "9NOTHERS0001",
                    "ChargebackReversal",
                    "/Purchase/Chargeback",
                    -1,
                ),
                vec![],
            ),
            ClawRow {
                position: 4,
                message_id: "msg-4".into(),
                insertion_time: "Mon, 23 Nov 2026 09:00:00 GMT".into(),
                dequeue_count: 2,
                event: Err("message text is not base64".into()),
                matches: Ok(vec![]),
            },
        ],
        sas_expires: Some(now() + Duration::hours(1)),
        environment: "XDKS.1".into(),
        approx_count: Some(41),
    }
}

#[test]
fn orders_load_once_per_key_list_detail_and_empty_states() {
    let mut app = case_app();
    let fx = press(&mut app, KeyCode::Char('3'));
    let load_id = match fx.as_slice() {
        [
            Effect::Pane(
                PaneId::Orders,
                PaneJob::Orders(OrdersJob::Load {
                    load_id,
                    key,
                    refresh,
                }),
            ),
        ] => {
            assert_eq!(key, &purchase_key());
            assert!(!refresh, "the first read may be today's earlier one");
            *load_id
        }
        other => panic!("coming on screen with a purchase key reads the orders: {other:?}"),
    };
    snap("orders_loading", &app);
    job(
        &mut app,
        PaneId::Orders,
        PaneEvent::Orders(OrdersEvent::Loaded {
            load_id,
            result: Ok(orders_fixture()),
        }),
    );
    snap("orders_list", &app);
    // Leaving and coming back does not read again: once per key.
    press(&mut app, KeyCode::Char('4'));
    let fx = press(&mut app, KeyCode::Char('3'));
    assert!(
        !fx.iter()
            .any(|e| matches!(e, Effect::Pane(PaneId::Orders, _))),
        "{fx:?}"
    );
    // r within a day asks first; the second r reads.
    let fx = press(&mut app, KeyCode::Char('r'));
    assert!(fx.is_empty());
    assert!(
        app.toast
            .as_deref()
            .unwrap()
            .contains("at most one orders query a day"),
        "{:?}",
        app.toast
    );
    let fx = press(&mut app, KeyCode::Char('r'));
    let again = match fx.as_slice() {
        [
            Effect::Pane(
                PaneId::Orders,
                PaneJob::Orders(OrdersJob::Load {
                    load_id,
                    refresh: true,
                    ..
                }),
            ),
        ] => *load_id,
        other => panic!("{other:?}"),
    };
    // A stale answer (the first load) is ignored.
    job(
        &mut app,
        PaneId::Orders,
        PaneEvent::Orders(OrdersEvent::Loaded {
            load_id,
            result: Ok(vec![]),
        }),
    );
    assert!(app.panes.case.orders.load.is_loading());
    job(
        &mut app,
        PaneId::Orders,
        PaneEvent::Orders(OrdersEvent::Loaded {
            load_id: again,
            result: Ok(orders_fixture()),
        }),
    );
    for _ in 0..2 {
        press(&mut app, KeyCode::Down);
    }
    press(&mut app, KeyCode::Enter);
    snap("orders_detail", &app);
    let fx = press(&mut app, KeyCode::Char('y'));
    match fx.as_slice() {
        [Effect::Copy { text, label }] => {
            assert!(label.contains("6a0f5e4d"), "{label}");
            assert!(text.contains("wasConsumableQuantityRevoked"), "{text}");
        }
        other => panic!("{other:?}"),
    }
    press(&mut app, KeyCode::Esc);
    // Every empty state says what is true.
    press(&mut app, KeyCode::Char('r'));
    let fx = press(&mut app, KeyCode::Char('r'));
    let third = match fx.as_slice() {
        [Effect::Pane(_, PaneJob::Orders(OrdersJob::Load { load_id, .. }))] => *load_id,
        other => panic!("{other:?}"),
    };
    job(
        &mut app,
        PaneId::Orders,
        PaneEvent::Orders(OrdersEvent::Loaded {
            load_id: third,
            result: Err(Failure {
                message: "ordersQuery: http 401 AuthenticationTokenInvalid: key expired".into(),
                hint: Some("the service token or the key was rejected: an expired or revoked key needs a new one from the client app".into()),
                correlation_ids: Vec::new(),
            }),
        }),
    );
    snap("orders_error", &app);
    let fx = press(&mut app, KeyCode::Char('r'));
    let fourth = match fx.as_slice() {
        [Effect::Pane(_, PaneJob::Orders(OrdersJob::Load { load_id, .. }))] => *load_id,
        other => panic!("a failed read is retried on the first r: {other:?}"),
    };
    job(
        &mut app,
        PaneId::Orders,
        PaneEvent::Orders(OrdersEvent::Loaded {
            load_id: fourth,
            result: Ok(vec![]),
        }),
    );
    snap("orders_none", &app);
    let text = render_text(&app, 80, 24);
    assert!(text.contains("No orders in the last 90 days"), "{text}");
}

/// `/` narrows the orders as you type (every word must appear; a line item
/// id, which a clawback names, counts too); Enter keeps it, Esc clears it.
#[test]
fn orders_filter_narrows_the_lines_as_you_type() {
    let mut app = case_app();
    let fx = press(&mut app, KeyCode::Char('3'));
    let [Effect::Pane(PaneId::Orders, PaneJob::Orders(OrdersJob::Load { load_id, .. }))] =
        fx.as_slice()
    else {
        panic!("{fx:?}")
    };
    job(
        &mut app,
        PaneId::Orders,
        PaneEvent::Orders(OrdersEvent::Loaded {
            load_id: *load_id,
            result: Ok(orders_fixture()),
        }),
    );
    assert_eq!(app.panes.orders.shown.len(), 5);
    // The selection stays on its line while the filter narrows around it.
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Down);
    let picked = app
        .panes
        .orders
        .current(&app.panes.case)
        .unwrap()
        .0
        .order_id
        .clone();
    press(&mut app, KeyCode::Char('/'));
    for c in "coin".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    assert_eq!(app.panes.orders.shown.len(), 3);
    assert_eq!(
        app.panes
            .orders
            .current(&app.panes.case)
            .unwrap()
            .0
            .order_id,
        picked
    );
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Char('/'));
    // While typing, letters are the query, not commands (r would re-read).
    for c in "gems REF".chars() {
        assert!(press(&mut app, KeyCode::Char(c)).is_empty());
    }
    assert_eq!(app.panes.orders.shown.len(), 1, "the refunded gems line");
    snap("orders_filter", &app);
    press(&mut app, KeyCode::Enter);
    assert!(!app.panes.orders.shown.filter.typing);
    assert_eq!(app.panes.orders.shown.len(), 1, "Enter keeps the query");
    // The selection follows the filtered rows.
    let (o, _) = app.panes.orders.current(&app.panes.case).unwrap();
    assert_eq!(o.order_id, "5f9e4d3c-2b1a-4f0e-8d9c-8b7a6f5e4d3c");
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.panes.orders.shown.len(), 5, "Esc clears it");
    press(&mut app, KeyCode::Char('/'));
    for c in "0005-4000".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    assert_eq!(app.panes.orders.shown.len(), 1, "a line item id matches");
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.panes.orders.shown.len(), 5, "Esc while typing drops it");
}

#[test]
fn orders_without_a_purchase_key_say_so_even_with_a_collections_key() {
    let mut app = test_app(Environment::Sandbox);
    connect(&mut app);
    app.update(Action::Paste(collections_key()));
    let fx = press(&mut app, KeyCode::Char('3'));
    assert!(
        !fx.iter()
            .any(|e| matches!(e, Effect::Pane(PaneId::Orders, _)))
    );
    let text = render_text(&app, 80, 24);
    assert!(text.contains("No purchase key in this case."), "{text}");
    assert!(text.contains("UserPurchaseId"), "{text}");
}

fn subs_loaded() -> App {
    let mut app = case_app();
    let fx = press(&mut app, KeyCode::Char('4'));
    let load_id = match fx.as_slice() {
        [
            Effect::Pane(
                PaneId::Subscriptions,
                PaneJob::Subscriptions(SubsJob::Load { load_id, .. }),
            ),
        ] => *load_id,
        other => panic!("{other:?}"),
    };
    job(
        &mut app,
        PaneId::Subscriptions,
        PaneEvent::Subscriptions(SubsEvent::Loaded {
            load_id,
            result: Ok(recurrences_fixture()),
        }),
    );
    app
}

/// `/` narrows the subscriptions; a write then applies to the row shown
/// selected, not to whatever sat at that position unfiltered.
#[test]
fn subscriptions_filter_and_act_on_the_row_shown() {
    let mut app = subs_loaded();
    press(&mut app, KeyCode::Char('/'));
    for c in "pass dunning".chars() {
        assert!(press(&mut app, KeyCode::Char(c)).is_empty());
    }
    press(&mut app, KeyCode::Enter);
    let subs = &app.panes.subscriptions;
    assert_eq!(
        subs.current(&app.panes.case).map(|r| r.id.as_str()),
        Some("mdr:0:05000000000000000000000000000000:05000000-0000-4000-8000-000000000005")
    );
    snap("subscriptions_filter", &app);
    // Nothing else selectable while only one row shows.
    press(&mut app, KeyCode::Down);
    assert_eq!(
        app.panes
            .subscriptions
            .current(&app.panes.case)
            .map(|r| r.recurrence_state.clone()),
        Some(Some(RecurrenceState::InDunning))
    );
    press(&mut app, KeyCode::Esc);
    assert!(!app.panes.subscriptions.shown.filter.is_active());
    assert_eq!(
        app.panes
            .subscriptions
            .current(&app.panes.case)
            .map(|r| r.recurrence_state.clone()),
        Some(Some(RecurrenceState::InDunning)),
        "clearing keeps the selection on the same subscription"
    );
    // A re-read (as after a write) keeps it too, though a new subscription
    // now sorts before it.
    let mut reread = recurrences_fixture();
    reread
        .push(serde_json::from_value(recurrence(7, "9NSDSUB00002", "Active", -1, 60, 0)).unwrap());
    let fx = press(&mut app, KeyCode::Char('r'));
    let [
        Effect::Pane(PaneId::Subscriptions, PaneJob::Subscriptions(SubsJob::Load { load_id, .. })),
    ] = fx.as_slice()
    else {
        panic!("{fx:?}")
    };
    job(
        &mut app,
        PaneId::Subscriptions,
        PaneEvent::Subscriptions(SubsEvent::Loaded {
            load_id: *load_id,
            result: Ok(reread),
        }),
    );
    assert_eq!(
        app.panes
            .subscriptions
            .current(&app.panes.case)
            .map(|r| r.recurrence_state.clone()),
        Some(Some(RecurrenceState::InDunning)),
        "a re-read keeps the selected subscription"
    );
}

#[test]
fn subscriptions_flag_a_lagging_state_and_extend_through_a_prompt_and_the_dialog() {
    let mut app = subs_loaded();
    snap("subscriptions_list", &app);
    let text = render_text(&app, 200, 50);
    assert!(text.contains("Active ⚠ expired"), "{text}");
    assert!(
        text.contains("1 say Active but their expirationTime has passed"),
        "{text}"
    );
    press(&mut app, KeyCode::Enter);
    snap("subscriptions_detail", &app);
    press(&mut app, KeyCode::Esc);
    // From the palette, as an operator would.
    press(&mut app, KeyCode::Char(':'));
    for c in "extend-sub".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    let fx = press(&mut app, KeyCode::Enter);
    assert!(
        fx.is_empty(),
        "nothing is sent before the days and the confirmation"
    );
    press(&mut app, KeyCode::Char('x'));
    press(&mut app, KeyCode::Char('3'));
    press(&mut app, KeyCode::Char('0'));
    snap("subscriptions_extend_prompt", &app);
    let fx = press(&mut app, KeyCode::Enter);
    assert!(crate::tui::collision::sends_nothing(&fx));
    snap("subscriptions_extend_confirm", &app);
    let fx = press(&mut app, KeyCode::Enter);
    let req = match fx.as_slice() {
        [Effect::Pane(PaneId::Subscriptions, PaneJob::Subscriptions(SubsJob::Write(req)))] => {
            req.clone()
        }
        other => panic!("{other:?}"),
    };
    assert_eq!(req.body["changeType"], "Extend");
    assert_eq!(req.body["extensionTimeInDays"], 30);
    assert_eq!(
        req.target.as_deref(),
        Some("mdr:0:01000000000000000000000000000000:01000000-0000-4000-8000-000000000001")
    );
    assert!(app.panes.subscriptions.writing);
    // The answer refreshes the list.
    let fx = job(
        &mut app,
        PaneId::Subscriptions,
        PaneEvent::Subscriptions(SubsEvent::Written(Ok("Extend subscription …: done".into()))),
    );
    assert!(
        fx.iter().any(|e| matches!(
            e,
            Effect::Pane(
                PaneId::Subscriptions,
                PaneJob::Subscriptions(SubsJob::Load { .. })
            )
        )),
        "{fx:?}"
    );
    assert!(!app.panes.subscriptions.writing);
}

#[test]
fn subscription_writes_refused_when_read_only_and_auto_renew_off_only_when_on() {
    let mut app = subs_loaded();
    app.session.writes_allowed = false;
    app.session.read_only_reason = Some("profile \"retail\" is read-only: writes are off".into());
    for cmd in [
        Command::CancelSubscription,
        Command::ExtendSubscription,
        Command::RefundSubscription,
        Command::AutoRenewOff,
        Command::AckClawback,
    ] {
        let fx = app.run_command(cmd);
        assert!(fx.is_empty() && app.overlay.is_none(), "{cmd:?}");
        assert!(app.panes.subscriptions.prompt.is_none());
        assert!(app.last_error.as_deref().unwrap().contains("read-only"));
    }
    app.session.writes_allowed = true;
    // The Inactive one (auto-renew off) is third by expiration.
    app.focus = PaneId::Subscriptions;
    let off = app
        .panes
        .case
        .subscriptions
        .data()
        .unwrap()
        .iter()
        .position(|r| !r.auto_renew)
        .unwrap();
    app.panes.subscriptions.cursor.selected = off;
    app.last_error = None;
    let fx = app.run_command(Command::AutoRenewOff);
    assert!(app.overlay.is_none() && fx.is_empty(), "{fx:?}");
    assert!(app.panes.subscriptions.prompt.is_none());
    let said = app.toast.as_deref().unwrap_or_default();
    assert!(
        said.contains("already off") && said.contains("nothing was sent or journaled"),
        "{said}"
    );
    assert!(app.last_error.is_none(), "{:?}", app.last_error);
    app.panes.subscriptions.cursor.selected = 0;
    app.run_command(Command::CancelSubscription);
    snap("subscriptions_cancel_confirm", &app);
    press(&mut app, KeyCode::Esc);
    assert!(app.toast.as_deref().unwrap().contains("nothing was sent"));
}

fn claw_loaded(fp: &str) -> App {
    let mut app = case_app();
    let fx = press(&mut app, KeyCode::Char('5'));
    let load_id = match fx.as_slice() {
        [Effect::Pane(PaneId::Clawbacks, PaneJob::Clawbacks(ClawJob::Peek { load_id }))] => {
            *load_id
        }
        other => panic!("{other:?}"),
    };
    snap("clawbacks_loading", &app);
    job(
        &mut app,
        PaneId::Clawbacks,
        PaneEvent::Clawbacks(ClawEvent::Peeked {
            load_id,
            result: Ok(peeked(fp)),
        }),
    );
    app
}

/// `/` narrows the queue (an order id from a ticket, a product, a state);
/// the acknowledgement then names the event shown selected.
#[test]
fn clawbacks_filter_then_acknowledge_the_row_shown() {
    let mut app = claw_loaded("1a2b3c4d");
    press(&mut app, KeyCode::Char('/'));
    for c in "5f9e4d3c".chars() {
        assert!(press(&mut app, KeyCode::Char(c)).is_empty());
    }
    press(&mut app, KeyCode::Enter);
    assert_eq!(
        app.panes
            .clawbacks
            .current(&app.panes.case)
            .unwrap()
            .message_id,
        "msg-1"
    );
    snap("clawbacks_filter", &app);
    let fx = app.run_command(Command::AckClawback);
    assert!(
        matches!(
            fx.as_slice(),
            [Effect::Pane(PaneId::Clawbacks, PaneJob::Clawbacks(ClawJob::Receive { message_id, count: 2 }))]
                if message_id == "msg-1"
        ),
        "{fx:?}"
    );
    // A query nothing matches leaves nothing to act on.
    let mut app = claw_loaded("1a2b3c4d");
    press(&mut app, KeyCode::Char('/'));
    for c in "chargeback coin".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    assert!(app.panes.clawbacks.current(&app.panes.case).is_none());
    press(&mut app, KeyCode::Esc);
    assert!(app.panes.clawbacks.current(&app.panes.case).is_some());
}

#[test]
fn clawbacks_peek_match_and_acknowledge_through_the_dialog() {
    let mut app = claw_loaded("1a2b3c4d");
    snap("clawbacks_list", &app);
    let text = render_text(&app, 200, 50);
    assert!(text.contains("consume #3 of customer 1a2b3c4d"), "{text}");
    assert!(text.contains("no local record"), "{text}");
    // Newest first: the undecodable one (inserted latest) has no time, so last.
    press(&mut app, KeyCode::Down);
    assert_eq!(
        app.panes
            .clawbacks
            .current(&app.panes.case)
            .unwrap()
            .message_id,
        "msg-2"
    );
    press(&mut app, KeyCode::Enter);
    snap("clawbacks_detail", &app);
    press(&mut app, KeyCode::Esc);
    let fx = app.run_command(Command::AckClawback);
    match fx.as_slice() {
        [
            Effect::Pane(
                PaneId::Clawbacks,
                PaneJob::Clawbacks(ClawJob::Receive { message_id, count }),
            ),
        ] => {
            assert_eq!(message_id, "msg-2");
            assert_eq!(
                *count, 3,
                "receives up to and including the event, no further"
            );
        }
        other => panic!("{other:?}"),
    }
    job(
        &mut app,
        PaneId::Clawbacks,
        PaneEvent::Clawbacks(ClawEvent::Received {
            message_id: "msg-2".into(),
            result: Ok(Receipt {
                pop_receipt: "pr-1".into(),
                visible_again: Some("Mon, 23 Nov 2026 10:02:00 GMT".into()),
                others_hidden: 2,
            }),
        }),
    );
    snap("clawbacks_ack_confirm", &app);
    let fx = press(&mut app, KeyCode::Enter);
    match fx.as_slice() {
        [Effect::Pane(PaneId::Clawbacks, PaneJob::Clawbacks(ClawJob::Ack(req)))] => {
            assert_eq!(req.target.as_deref(), Some("msg-2/pr-1"));
            assert_eq!(req.body["orderId"], "4e8d3c2b-1a0f-4e9d-9c8b-7a6f5e4d3c2b");
        }
        other => panic!("{other:?}"),
    }
    let fx = job(
        &mut app,
        PaneId::Clawbacks,
        PaneEvent::Clawbacks(ClawEvent::Acked(Ok("acknowledged: done".into()))),
    );
    assert!(
        fx.iter().any(|e| matches!(
            e,
            Effect::Pane(PaneId::Clawbacks, PaneJob::Clawbacks(ClawJob::Peek { .. }))
        )),
        "the queue is peeked again: {fx:?}"
    );
}

#[test]
fn timeline_merges_what_is_loaded_and_names_what_is_not() {
    let fp = crate::keys::fingerprint(&purchase_key());
    let mut app = claw_loaded(&fp);
    // Orders loaded; subscriptions not yet; no collections key.
    let fx = press(&mut app, KeyCode::Char('3'));
    let load_id = match fx.as_slice() {
        [Effect::Pane(_, PaneJob::Orders(OrdersJob::Load { load_id, .. }))] => *load_id,
        other => panic!("{other:?}"),
    };
    job(
        &mut app,
        PaneId::Orders,
        PaneEvent::Orders(OrdersEvent::Loaded {
            load_id,
            result: Ok(orders_fixture()),
        }),
    );
    let fx = press(&mut app, KeyCode::Char('6'));
    let (audit_id, fps) = match fx.as_slice() {
        [
            Effect::Pane(
                PaneId::Timeline,
                PaneJob::Timeline(TimelineJob::LoadAudit { load_id, fps }),
            ),
        ] => (*load_id, fps.clone()),
        other => panic!("the timeline reads only the local audit log: {other:?}"),
    };
    assert_eq!(fps, vec![fp.clone()]);
    let audit = crate::journal::AuditEntry {
        id: 1,
        at: t(-1).replace("10:00:00", "12:00:00"),
        operator: "tester".into(),
        profile: "sandbox".into(),
        environment: "SANDBOX".into(),
        customer: format!("key:{fp}"),
        customer_fp: fp.clone(),
        action: "recurrence_change".into(),
        event: "done".into(),
        write_id: Some(4),
        idempotency_key: None,
        attempt: Some(1),
        request_summary: "Cancel subscription mdr:0:04…".into(),
        result: Some("Canceled".into()),
        http_status: Some(200),
        correlation: None,
        machine: None,
    };
    job(
        &mut app,
        PaneId::Timeline,
        PaneEvent::Timeline(TimelineEvent::AuditLoaded {
            load_id: audit_id,
            result: Ok(vec![audit]),
        }),
    );
    snap("timeline", &app);
    let tl = &app.panes.timeline;
    assert!(
        tl.entries.windows(2).all(|w| w[0].at >= w[1].at),
        "newest first"
    );
    let sources: Vec<&str> = tl.sources.iter().map(|(_, _, s)| s.as_str()).collect();
    assert!(
        sources.contains(&"entitlements: no collections key"),
        "{sources:?}"
    );
    assert!(
        sources.contains(&"subscriptions: not read yet (open 4)"),
        "{sources:?}"
    );
    // The chargeback reversal is for an order not in this case: left out.
    assert!(
        sources
            .iter()
            .any(|s| s.starts_with("clawbacks 3 of 5 queue events tie to this case")),
        "{sources:?}"
    );
    assert!(!tl.entries.iter().any(|e| e.what.contains("9NOTHERS0001")));
}

/// The scroll position is view state kept by `update`: moving past the
/// last row on screen scrolls, drawing changes nothing, and PgDn moves by
/// the rows the table really shows at this size.
#[test]
fn scrolling_is_kept_by_update_and_drawing_writes_nothing() {
    let mut app = case_app();
    let fx = press(&mut app, KeyCode::Char('3'));
    let load_id = match fx.as_slice() {
        [Effect::Pane(PaneId::Orders, PaneJob::Orders(OrdersJob::Load { load_id, .. }))] => {
            *load_id
        }
        other => panic!("{other:?}"),
    };
    let many: Vec<Order> = (0..60)
        .map(|i| {
            serde_json::from_value(json!({
                "orderId": format!("00000000-0000-4000-8000-{i:012}"),
                "orderPurchasedDate": t(-i),
                "orderLineItems": [{"lineItemId": format!("10000000-0000-4000-8000-{i:012}"),
                    "lineItemState": "Purchased", "productId": "9NSDCOIN0500", "quantity": 1, "skuId": "0010"}]
            }))
            .unwrap()
        })
        .collect();
    job(
        &mut app,
        PaneId::Orders,
        PaneEvent::Orders(OrdersEvent::Loaded {
            load_id,
            result: Ok(many),
        }),
    );
    assert_eq!(app.panes.orders.cursor.offset, 0);
    let page = app.panes.orders.cursor.page;
    let rows_at = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.starts_with("00000000-"))
            .map(str::to_string)
            .collect()
    };
    let top = rows_at(&render_text(&app, 80, 24));
    assert_eq!(top.len(), page, "the page is the rows drawn");
    // 24 rows: tabs, status bar, the pane's header line and the table's.
    assert!((15..=20).contains(&page), "page {page}");
    for _ in 0..page {
        press(&mut app, KeyCode::Down);
    }
    assert_eq!(app.panes.orders.cursor.selected, page);
    assert_eq!(
        app.panes.orders.cursor.offset, 1,
        "one row past the page scrolls by one"
    );
    let before = render_text(&app, 80, 24);
    assert_eq!(render_text(&app, 80, 24), before, "drawing is pure");
    assert_eq!(app.panes.orders.cursor.offset, 1);
    assert_eq!(rows_at(&before)[0], top[1], "{before}");
    press(&mut app, KeyCode::PageDown);
    assert_eq!(app.panes.orders.cursor.selected, 2 * page);
    // A taller terminal arrives as an Action: the page follows it.
    app.update(Action::Resize(80, 40));
    assert_eq!(app.panes.orders.cursor.page, page + 16);
}

/// The catalog's titles, as the titles job answers (`case::titles`).
fn titles_event() -> PaneEvent {
    use crate::tui::panes::entitlements::EntEvent;
    PaneEvent::Entitlements(EntEvent::Titles(
        [
            ("9NSDCOIN0500", "500 Contoso Coins"),
            ("9NSDGEMS0001", "Gem Pouch"),
            ("9NSDSUB00001", "Contoso Plus Monthly"),
            ("9NSDPASS0001", "Contoso Game Pass"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
    ))
}

fn asks_titles_of(fx: &[Effect], id: &str) -> bool {
    use crate::tui::panes::entitlements::EntJob;
    fx.iter().any(|e| {
        matches!(e, Effect::Pane(PaneId::Entitlements, PaneJob::Entitlements(EntJob::Titles(ids)))
            if ids.iter().any(|i| i == id))
    })
}

/// Issue 16 point 5: names, not only ids — the Orders, Subscriptions and
/// Clawbacks rows show each product's title beside its id; the ids only
/// those lists show are looked up (once).
#[test]
fn product_titles_show_beside_ids_in_every_list() {
    let mut app = case_app();
    let fx = press(&mut app, KeyCode::Char('3'));
    let load_id = match fx.as_slice() {
        [Effect::Pane(PaneId::Orders, PaneJob::Orders(OrdersJob::Load { load_id, .. }))] => {
            *load_id
        }
        other => panic!("{other:?}"),
    };
    let fx = job(
        &mut app,
        PaneId::Orders,
        PaneEvent::Orders(OrdersEvent::Loaded {
            load_id,
            result: Ok(orders_fixture()),
        }),
    );
    assert!(asks_titles_of(&fx, "9NSDGEMS0001"), "{fx:?}");
    let fx = press(&mut app, KeyCode::Char('j'));
    assert!(!asks_titles_of(&fx, "9NSDGEMS0001"), "asked once: {fx:?}");
    job(&mut app, PaneId::Entitlements, titles_event());
    let text = render_text(&app, 200, 50);
    assert!(text.contains("9NSDGEMS0001 Gem Pouch"), "{text}");
    assert!(text.contains("9NSDCOIN0500 500 Contoso Coins"), "{text}");
    snap("orders_with_titles", &app);

    let mut app = subs_loaded();
    job(&mut app, PaneId::Entitlements, titles_event());
    let text = render_text(&app, 200, 50);
    assert!(text.contains("9NSDPASS0001 Contoso Game Pass"), "{text}");
    // Where a title would push a column off screen, the id stays whole.
    let text = render_text(&app, 80, 24);
    assert!(text.contains("9NSDSUB00001 "), "{text}");
    assert!(text.contains("canceled"), "{text}");
    snap("subscriptions_with_titles", &app);

    let mut app = claw_loaded("1a2b3c4d");
    job(&mut app, PaneId::Entitlements, titles_event());
    let text = render_text(&app, 200, 50);
    assert!(text.contains("9NSDCOIN0500 500 Contoso Coins"), "{text}");
    snap("clawbacks_with_titles", &app);
}

/// The Entitlements rows show the title beside the id too.
#[test]
fn entitlement_rows_show_product_titles() {
    let mut app = crate::tui::snapshot_tests::entitlements_app(|_| {});
    let before = render_text(&app, 200, 50);
    assert!(!before.contains("Gem Pouch"), "{before}");
    job(&mut app, PaneId::Entitlements, titles_event());
    let text = render_text(&app, 200, 50);
    assert!(text.contains("9NSDCOIN0500 500 Contoso Coins"), "{text}");
    snap("entitlements_with_titles", &app);
}

/// Issue 16 point 7: with a filter that leaves pass content, the
/// Entitlements table at 80 columns shows "satisfied by" (moved beside the
/// product), and the detail names it in its first lines.
#[test]
fn satisfied_by_is_on_screen_at_80_columns_with_a_pass_filter() {
    let mut app = crate::tui::snapshot_tests::entitlements_app(|_| {});
    let before = render_text(&app, 80, 24);
    assert!(before.contains("off screen: Satisfied by"), "{before}");
    app.panes.entitlements.set_filter(
        &mut app.panes.case,
        crate::browse::Filter {
            text: "PASSGM".into(),
            ..Default::default()
        },
    );
    app.update(Action::Resize(80, 24));
    let text = render_text(&app, 80, 24);
    let row = text
        .lines()
        .find(|l| l.contains("9NSDPASSGM01"))
        .unwrap_or_default();
    assert!(row.contains("9NSDPASS0001"), "{text}");
    assert!(!text.contains("off screen: Satisfied by"), "{text}");
    snap("entitlements_pass_filter", &app);
    press(&mut app, KeyCode::Enter);
    let text = render_text(&app, 80, 24);
    let first: Vec<&str> = text.lines().take(10).collect();
    assert!(
        first
            .iter()
            .any(|l| l.contains("satisfied by") && l.contains("9NSDPASS0001")),
        "{text}"
    );
    snap("entitlements_detail_satisfied_by", &app);
}

/// Issue 16 point 7: the path an export wrote is shown whole, wrapped,
/// however long, for the Entitlements export and the case file.
#[test]
fn export_paths_are_shown_whole_at_80_columns() {
    use crate::tui::panes::entitlements::EntEvent;
    let path = "/home/agent-with-a-long-name/.local/share/storedesk/exports/entitlements-demo-alice-5d878c84-2026-11-23T10-00-00Z-incomplete-stopped-by-the-call-budget.csv";
    let mut app = crate::tui::snapshot_tests::entitlements_app(|_| {});
    job(
        &mut app,
        PaneId::Entitlements,
        PaneEvent::Entitlements(EntEvent::Exported(Ok((path.into(), 9_300)))),
    );
    for (w, h) in SIZES {
        let text = render_text(&app, w, h);
        let joined: String = text.lines().map(str::trim_end).collect();
        assert!(joined.contains(path), "{w}×{h}: {text}");
    }
    snap("export_path_whole", &app);
}

/// Issue 15 point 5: an earlier read kept in the data dir is shown with
/// its age, and `r` counts the day from that read (twice to read again).
#[test]
fn orders_read_earlier_today_say_their_age() {
    let mut app = case_app();
    let fx = press(&mut app, KeyCode::Char('3'));
    let load_id = match fx.as_slice() {
        [Effect::Pane(_, PaneJob::Orders(OrdersJob::Load { load_id, .. }))] => *load_id,
        other => panic!("{other:?}"),
    };
    job(
        &mut app,
        PaneId::Orders,
        PaneEvent::Orders(OrdersEvent::Read {
            load_id,
            result: Ok(crate::store::orders_cache::OrdersRead {
                orders: orders_fixture(),
                read_at: now() - Duration::hours(3),
                cached: true,
            }),
        }),
    );
    let text = render_text(&app, 200, 50);
    assert!(text.contains("orders read 3 h ago"), "{text}");
    let fx = press(&mut app, KeyCode::Char('r'));
    assert!(fx.is_empty(), "{fx:?}");
    assert!(
        app.toast
            .as_deref()
            .unwrap_or_default()
            .contains("read 3 h ago"),
        "{:?}",
        app.toast
    );
    let fx = press(&mut app, KeyCode::Char('r'));
    assert!(
        matches!(
            fx.as_slice(),
            [Effect::Pane(
                _,
                PaneJob::Orders(OrdersJob::Load { refresh: true, .. })
            )]
        ),
        "{fx:?}"
    );
}
