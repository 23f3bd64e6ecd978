//! Clawbacks of one environment (issue 15, point 1): RETAIL and development
//! sandbox events share one queue; the console lists the profile's, shows
//! the others only on request and labelled, never acknowledges them, hides
//! the events it receives for about a second only, and says how long the
//! queue is. Real `App`, jobs run by `lists_job` against the embedded
//! sandbox over loopback HTTP; events put on the queue as the documents
//! write them (their JSON, base64 in the message).

#[path = "support/console.rs"]
mod console;

use console::{ConsoleRig, key};
use serde_json::{Value, json};
use std::time::Duration;
use storedesk::store::model::EventState;
use storedesk::tui::app::{Action, App, Overlay};
use storedesk::tui::keymap::Command;
use storedesk::tui::render::render_text;

/// The docs' clawback event (Clawback v2 "ClawbackEventContractV2"), for
/// one environment.
fn docs_event(id: &str, order: &str, sandbox_id: &str, state: &str) -> Value {
    json!({
        "id": id,
        "source": "/Purchase/Refund",
        "type": "ClawbackEventContractV2",
        "time": "2026-11-20T10:00:00.0000000Z",
        "specversion": "1.0",
        "datacontenttype": "application/json",
        "subject": format!("/orders/{order}"),
        "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "data": {
            "lineItemId": "11111111-0000-4000-8000-000000000001",
            "orderId": order,
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

impl ConsoleRig {
    async fn enqueue(&self, event: Value) -> String {
        let r = reqwest::Client::new()
            .post(format!("{}/_sandbox/clawbacks", self.sandbox.info.base_url))
            .header(
                storedesk::sandbox::CONTROL_SECRET_HEADER,
                &self.sandbox.info.control_secret,
            )
            .json(&json!({ "event": event }))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
        let v: Value = r.json().await.unwrap();
        v["messageId"].as_str().unwrap().to_string()
    }

    async fn peek_ids(&self) -> Vec<(String, u32)> {
        let sas = self.client.clawback_sas().await.unwrap().value;
        self.client
            .queue_peek(&sas.uri, 32)
            .await
            .unwrap()
            .value
            .into_iter()
            .map(|q| (q.message.message_id, q.message.dequeue_count))
            .collect()
    }
}

fn select(app: &mut App, message_id: &str) {
    let rows = storedesk::tui::panes::clawbacks::rows(&app.panes.case);
    let item = rows
        .iter()
        .position(|r| r.message_id == message_id)
        .unwrap();
    let row = (0..rows.len())
        .find(|&i| app.panes.clawbacks.shown.item(i) == Some(item))
        .expect("the event is listed");
    app.panes.clawbacks.cursor.selected = row;
    assert_eq!(
        app.panes
            .clawbacks
            .current(&app.panes.case)
            .unwrap()
            .message_id,
        message_id
    );
}

/// A profile of the development sandbox XDKS.1 sees its own event by
/// default; the four seeded RETAIL events only on request, labelled, and
/// it refuses to acknowledge one of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_environments_in_one_queue_only_the_profiles_are_listed_and_acknowledged() {
    let rig = ConsoleRig::start(Some("XDKS.1")).await;
    let mine = rig
        .enqueue(docs_event(
            "e-dev",
            "0d0e0f00-0000-4000-8000-00000000000a",
            "XDKS.1",
            "Revoked",
        ))
        .await;
    let mut app = rig.app();
    let fx = key(&mut app, '5');
    assert_eq!(rig.drive(&mut app, fx).await, 1);
    let pane = &app.panes.clawbacks;
    let rows = storedesk::tui::panes::clawbacks::rows(&app.panes.case);
    assert_eq!(rows.len(), 5, "the peek saw the whole queue");
    assert_eq!(pane.shown.len(), 1, "only XDKS.1's event is listed");
    assert_eq!(pane.current(&app.panes.case).unwrap().message_id, mine);
    let text = render_text(&app, 200, 50);
    assert!(
        text.contains("XDKS.1 (4 of other environments hidden)"),
        "{text}"
    );
    assert!(text.contains("~5 in the queue"), "{text}");
    assert!(!text.contains("other: RETAIL"), "{text}");

    // On request the others show, labelled.
    let fx = app.run_command(Command::AllEnvironments);
    assert!(fx.is_empty());
    assert_eq!(app.panes.clawbacks.shown.len(), 5);
    let text = render_text(&app, 200, 50);
    assert_eq!(text.matches("other: RETAIL").count(), 4, "{text}");

    // A RETAIL event is never acknowledged from this profile: nothing is
    // received (no dequeue count rises), no dialog.
    let retail = storedesk::tui::panes::clawbacks::rows(&app.panes.case)
        .iter()
        .find(|r| r.state() == Some(&EventState::Returned))
        .unwrap()
        .message_id
        .clone();
    select(&mut app, &retail);
    let before = rig.peek_ids().await;
    let fx = app.run_command(Command::AckClawback);
    assert!(fx.is_empty(), "{fx:?}");
    assert!(app.overlay.is_none());
    let err = app.last_error.clone().unwrap();
    assert!(
        err.contains("belongs to environment RETAIL") && err.contains("XDKS.1"),
        "{err}"
    );
    assert_eq!(rig.peek_ids().await, before, "nothing was received");

    // Its own event goes through the dialog.
    select(&mut app, &mine);
    let fx = app.run_command(Command::AckClawback);
    rig.drive(&mut app, fx).await;
    assert!(
        matches!(app.overlay, Some(Overlay::Confirm(_))),
        "{:?}",
        app.last_error
    );
}

/// Receiving to get a pop receipt hides the events in front of the chosen
/// one from the publisher's reconciler for about a second, not minutes;
/// the dialog says their dequeue count rose; the acknowledgement still
/// deletes only the chosen event after they show again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledging_hides_the_others_for_about_a_second_and_says_their_dequeue_count_rises() {
    let rig = ConsoleRig::start(None).await;
    let mut app = rig.app();
    let fx = key(&mut app, '5');
    rig.drive(&mut app, fx).await;
    let before = rig.peek_ids().await;
    assert_eq!(before.len(), 4);
    // The last in the queue: the three in front of it are received too.
    let (last, _) = before.last().unwrap().clone();
    select(&mut app, &last);
    let fx = app.run_command(Command::AckClawback);
    assert_eq!(rig.drive(&mut app, fx).await, 1, "only the receive ran");
    let Some(Overlay::Confirm(dialog)) = &app.overlay else {
        panic!("{:?}", app.last_error)
    };
    let effect = dialog.expected_effect.clone();
    assert!(
        effect.contains("3 event(s) in front of it")
            && effect.contains("dequeue count rose by 1")
            && effect.contains("about 1 s"),
        "{effect}"
    );
    assert!(
        rig.peek_ids().await.is_empty(),
        "received events are hidden"
    );
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let again = rig.peek_ids().await;
    assert_eq!(again.len(), 4, "visible again after about a second");
    assert!(
        again.iter().all(|(_, n)| *n == 1),
        "each received once: {again:?}"
    );
    // The pop receipt still holds: confirm deletes the chosen one only.
    let fx = app.update(Action::Key(crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Enter,
        crossterm::event::KeyModifiers::NONE,
    )));
    rig.drive(&mut app, fx).await;
    assert!(
        app.toast.as_deref().unwrap_or("").contains("done"),
        "{:?} {:?}",
        app.toast,
        app.last_error
    );
    let left: Vec<String> = rig.peek_ids().await.into_iter().map(|(id, _)| id).collect();
    assert_eq!(left.len(), 3);
    assert!(!left.contains(&last));
}

/// Events written with the older field names still say what happened.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn older_field_spellings_are_read() {
    let rig = ConsoleRig::start(None).await;
    let mut ev = docs_event(
        "e-old",
        "0d0e0f00-0000-4000-8000-00000000000b",
        "RETAIL",
        "x",
    );
    let data = ev["data"].as_object_mut().unwrap();
    data.remove("eventState");
    data.remove("eventDate");
    data.insert("refundState".into(), json!("Refunded"));
    data.insert(
        "refundInitiatedDate".into(),
        json!("2026-11-21T08:30:00.0000000Z"),
    );
    data.insert(
        "subscriptionData".into(),
        json!({"recurrenceId": "mdr:0-0-0-0-0:sub", "durationInDays": 30,
               "consumedDurationInDays": 3, "refundType": "Full"}),
    );
    let id = rig.enqueue(ev).await;
    let peeked = storedesk::case::load::peek(&rig.client, Err("no journal"))
        .await
        .unwrap();
    assert_eq!(peeked.approx_count, Some(5));
    let row = peeked.rows.iter().find(|r| r.message_id == id).unwrap();
    let e = row.event.as_ref().unwrap();
    assert_eq!(e.data.event_state, Some(EventState::Refunded));
    assert_eq!(
        e.data.event_date.as_ref().unwrap().0.to_rfc3339(),
        "2026-11-21T08:30:00+00:00"
    );
    assert_eq!(
        e.data.recurrence_data.as_ref().unwrap().recurrence_id,
        "mdr:0-0-0-0-0:sub"
    );
}
