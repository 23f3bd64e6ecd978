//! Issue 20: what a hostile server's dates or a panicking job must never do
//! to the console — panic the UI thread, or leave a write flag stuck.

use crate::config::Environment;
use crate::store::model::Recurrence;
use crate::tui::app::{Action, App, Connection, Effect, JobEvent};
use crate::tui::crash::{self, JobTag};
use crate::tui::panes::subscriptions::{SubsEvent, SubsJob};
use crate::tui::panes::{PaneEvent, PaneId, PaneJob};
use crate::tui::render::render_text;
use crate::tui::snapshot_tests::{key_issued, test_app};
use chrono::{TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde_json::json;

fn press(app: &mut App, c: KeyCode) -> Vec<Effect> {
    app.update(Action::Key(KeyEvent::new(c, KeyModifiers::NONE)))
}

fn typed(app: &mut App, s: &str) {
    for c in s.chars() {
        press(app, KeyCode::Char(c));
    }
}

/// Connected, a purchase key pasted, the Subscriptions pane loaded with
/// one subscription whose expiration is the server's `expiration` text.
fn subs_with_expiration(expiration: &str) -> App {
    let now = Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap();
    let mut app = test_app(Environment::Sandbox);
    app.update(Action::Job(JobEvent::Connected(Connection {
        base_description: "http://127.0.0.1:1/collections".into(),
        client_id: "1a2b3c4d-0000-4000-8000-000000000001".into(),
        sandbox_id: None,
        sandbox_public_key_pem: None,
        demo_customers: vec![],
        grantable: vec![],
    })));
    app.update(Action::Paste(key_issued(
        "purchase",
        now.timestamp() - 86_400,
    )));
    let fx = press(&mut app, KeyCode::Char('4'));
    let [
        Effect::Pane(PaneId::Subscriptions, PaneJob::Subscriptions(SubsJob::Load { load_id, .. })),
    ] = fx.as_slice()
    else {
        panic!("{fx:?}")
    };
    let load_id = *load_id;
    // Read as the wire reader reads it: the date is what a server may send.
    let r: Recurrence = serde_json::from_value(json!({
        "autoRenew": true, "beneficiary": "pub:x", "expirationTime": expiration,
        "id": "mdr:0:01:01", "productId": "9NSDSUB00001", "recurrenceState": "Active",
        "skuId": "0010", "startTime": "2026-01-01T00:00:00Z",
    }))
    .expect("a far-future date is still a Store date");
    app.update(Action::Job(JobEvent::Pane(
        PaneId::Subscriptions,
        PaneEvent::Subscriptions(SubsEvent::Loaded {
            load_id,
            result: Ok(vec![r]),
        }),
    )));
    app
}

/// Extend on a subscription near the end of the date range: the dialog
/// says the new date cannot be shown; nothing panics (today's code added
/// the days unchecked and panicked the UI thread).
#[test]
fn extend_near_the_end_of_the_date_range_does_not_panic() {
    let last = chrono::DateTime::<Utc>::MAX_UTC - chrono::TimeDelta::days(1);
    let wire = last.format("%Y-%m-%dT%H:%M:%S").to_string();
    let mut app = subs_with_expiration(&wire);
    press(&mut app, KeyCode::Char(':'));
    typed(&mut app, "extend-sub");
    assert!(press(&mut app, KeyCode::Enter).is_empty());
    typed(&mut app, "30");
    assert!(crate::tui::collision::sends_nothing(&press(
        &mut app,
        KeyCode::Enter
    )));
    let text = render_text(&app, 200, 50);
    assert!(text.contains("past the last representable date"), "{text}");
}

/// A panicked pane job clears the pane's write flag and says so.
#[test]
fn a_crashed_write_job_clears_the_flag_and_is_an_error_notice() {
    let mut app = subs_with_expiration("2027-01-01T00:00:00Z");
    press(&mut app, KeyCode::Char(':'));
    typed(&mut app, "extend-sub");
    press(&mut app, KeyCode::Enter);
    typed(&mut app, "30");
    press(&mut app, KeyCode::Enter);
    let fx = press(&mut app, KeyCode::Enter);
    assert!(
        matches!(
            fx.as_slice(),
            [Effect::Pane(
                PaneId::Subscriptions,
                PaneJob::Subscriptions(SubsJob::Write(_))
            )]
        ),
        "{fx:?}"
    );
    assert!(app.panes.subscriptions.writing);
    app.update(Action::Job(JobEvent::Crashed {
        tag: JobTag::pane(PaneId::Subscriptions, "list"),
        message: "boom".into(),
    }));
    assert!(!app.panes.subscriptions.writing, "the write flag is stuck");
    let e = app.last_error.clone().unwrap_or_default();
    assert!(e.contains("internal error") && e.contains("boom"), "{e}");
    assert!(e.contains("log"), "{e}");
}

/// `crash::spawn` turns a panic into an Action; so does `spawn_blocking`.
#[tokio::test]
async fn a_panicking_task_becomes_a_crashed_action() {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    crash::spawn(&tx, JobTag::global("test"), async {
        panic!("async boom");
    });
    crash::spawn_blocking(&tx, JobTag::pane(PaneId::Audit, "audit"), || {
        panic!("{}", String::from("blocking boom"));
    });
    let mut seen = Vec::new();
    for _ in 0..2 {
        let a = tokio::time::timeout(std::time::Duration::from_secs(10), rx.recv())
            .await
            .expect("no report of the panic")
            .expect("channel open");
        match a {
            Action::Job(JobEvent::Crashed { tag, message }) => seen.push((tag.what, message)),
            other => panic!("{other:?}"),
        }
    }
    seen.sort();
    assert_eq!(
        seen,
        vec![
            ("audit", "blocking boom".to_string()),
            ("test", "async boom".to_string())
        ]
    );
}
