//! Issue 16 point 4: a write in flight is on screen with its seconds, its
//! outcome replaces it, and a pending notice goes the moment its write is
//! settled (by :replay, :resolve or another process).

use crate::tui::app::{Action, App, Effect, JobEvent, Overlay, PendingLine};
use crate::tui::keymap::Command;
use crate::tui::panes::entitlements::EntEvent;
use crate::tui::panes::{PaneEvent, PaneId};
use crate::tui::render::render_text;
use crate::tui::snapshot_tests::{entitlements_app, now, press, snap};
use crossterm::event::KeyCode;

fn at(secs: i64) -> chrono::DateTime<chrono::Utc> {
    now() + chrono::Duration::seconds(secs)
}

fn pending_line(app: &App, id: i64) -> PendingLine {
    let key = app.panes.key.collections_token().unwrap_or_default();
    PendingLine {
        id,
        profile: "sandbox".into(),
        customer: crate::store::keyinfo::case_customer(key),
        subject: Some("9NSDCOIN0500".into()),
        replay_safe: true,
        summary: "consume 1 × 9NSDCOIN0500".into(),
        customer_fp: crate::keys::fingerprint(key),
        created_at: "2026-11-23T09:58:00.0000000+00:00".into(),
        attempts: 1,
        last_error: Some("connection reset after the request was sent".into()),
    }
}

/// Confirm a consume of 1 × 9NSDCOIN0500: the write leaves.
fn send_consume(app: &mut App) -> Vec<Effect> {
    app.session.writes_allowed = true;
    app.panes.entitlements.set_filter(
        &mut app.panes.case,
        crate::browse::Filter {
            text: "COIN0500".into(),
            ..Default::default()
        },
    );
    app.run_command(Command::Consume);
    press(app, KeyCode::Backspace);
    press(app, KeyCode::Char('1'));
    press(app, KeyCode::Enter);
    assert!(matches!(app.overlay, Some(Overlay::Confirm(_))));
    app.update(Action::Key(crossterm::event::KeyEvent::new(
        KeyCode::Enter,
        crossterm::event::KeyModifiers::NONE,
    )))
}

fn written(app: &mut App, r: Result<String, String>) {
    app.update(Action::Job(JobEvent::Pane(
        PaneId::Entitlements,
        PaneEvent::Entitlements(EntEvent::Written(r)),
    )));
}

#[test]
fn a_write_in_flight_shows_its_seconds_then_its_outcome() {
    let mut app = entitlements_app(|_| {});
    let fx = send_consume(&mut app);
    assert_eq!(fx.len(), 1, "{fx:?}");
    assert!(
        app.wants_fast_tick(),
        "a write in flight ticks every second"
    );
    app.update(Action::Tick(at(3)));
    let text = render_text(&app, 80, 24);
    assert!(
        text.contains("sending consume… 3 s · Esc does not cancel a sent write"),
        "{text}"
    );
    snap("write_in_flight", &app);
    written(
        &mut app,
        Ok("consume 1 × 9NSDCOIN0500: done · balance 2".into()),
    );
    assert!(app.in_flight.is_empty());
    assert!(!app.wants_fast_tick());
    let text = render_text(&app, 80, 24);
    assert!(!text.contains("sending consume"), "{text}");
    assert!(text.contains("9NSDCOIN0500: done · balance 2"), "{text}");
    snap("write_settled", &app);
}

/// The pane's "kept as pending write #12" error goes when #12 is settled
/// by another process: the tick re-reads the journal every few seconds.
#[test]
fn a_pending_notice_goes_when_another_process_settles_it() {
    let mut app = entitlements_app(|_| {});
    send_consume(&mut app);
    let line = crate::tui::writes::outcome_line(
        &crate::journal::WriteRequest::consume("k", "9NSDCOIN0500", Some(1), None),
        Ok(crate::journal::WriteOutcome::Pending {
            write_id: 12,
            reason: "timeout after 20 s".into(),
        }),
    );
    written(&mut app, line);
    app.update(Action::Job(JobEvent::Pending(Ok(vec![pending_line(
        &app, 12,
    )]))));
    let text = render_text(&app, 80, 24);
    assert!(text.contains("PENDING") && text.contains("#12"), "{text}");
    // The tick asks for the list again while something is pending…
    let fx = app.update(Action::Tick(at(1)));
    assert_eq!(fx, vec![Effect::ReadPending]);
    assert!(
        app.update(Action::Tick(at(3))).is_empty(),
        "not every second"
    );
    assert_eq!(app.update(Action::Tick(at(7))), vec![Effect::ReadPending]);
    // …and another process has settled it meanwhile.
    app.update(Action::Job(JobEvent::Pending(Ok(vec![]))));
    assert_eq!(app.last_error, None);
    let text = render_text(&app, 80, 24);
    assert!(!text.contains("PENDING"), "{text}");
    assert!(!text.contains("no definite answer"), "{text}");
    assert!(text.contains("pending write #12 settled"), "{text}");
    assert!(app.update(Action::Tick(at(20))).is_empty());
    snap("pending_settled_elsewhere", &app);
}

/// The start-up notice stays while one of its writes is still pending.
#[test]
fn the_start_up_notice_stays_until_every_write_is_settled() {
    let mut app = entitlements_app(|_| {});
    let (a, b) = (pending_line(&app, 3), pending_line(&app, 4));
    app.update(Action::Job(JobEvent::Pending(Ok(vec![a, b.clone()]))));
    assert!(
        app.last_error
            .as_deref()
            .unwrap_or("")
            .contains("left pending")
    );
    app.update(Action::Job(JobEvent::Pending(Ok(vec![b]))));
    assert!(
        app.last_error
            .as_deref()
            .unwrap_or("")
            .contains("left pending")
    );
    app.update(Action::Job(JobEvent::Pending(Ok(vec![]))));
    assert_eq!(app.last_error, None);
}

#[test]
fn replay_shows_it_is_under_way_and_reports_what_it_did() {
    let mut app = entitlements_app(|_| {});
    app.session.writes_allowed = true;
    let (a, b) = (pending_line(&app, 3), pending_line(&app, 4));
    app.update(Action::Job(JobEvent::Pending(Ok(vec![a, b]))));
    app.run_command(Command::ReplayPending);
    let Some(Overlay::Confirm(d)) = &app.overlay else {
        panic!("replay confirmation: {:?}", app.overlay)
    };
    let word = d.must_type.clone().unwrap_or_default();
    for c in word.chars() {
        press(&mut app, KeyCode::Char(c));
    }
    let fx = app.update(Action::Key(crossterm::event::KeyEvent::new(
        KeyCode::Enter,
        crossterm::event::KeyModifiers::NONE,
    )));
    assert_eq!(fx, vec![Effect::ReplayPending]);
    app.update(Action::Tick(at(2)));
    let text = render_text(&app, 80, 24);
    assert!(
        text.contains("sending replay of 2 pending write(s)… 2 s"),
        "{text}"
    );
    app.update(Action::Job(JobEvent::Replayed(vec![
        "#3 consume 1 × 9NSDCOIN0500: done (balance 2)".into(),
        "#4 consume 1 × 9NSDCOIN0500: already settled elsewhere".into(),
    ])));
    app.update(Action::Job(JobEvent::Pending(Ok(vec![]))));
    let text = render_text(&app, 80, 24);
    assert!(!text.contains("sending replay"), "{text}");
    assert!(!text.contains("PENDING"), "{text}");
    let toast = app.toast.clone().unwrap_or_default();
    assert!(
        toast.contains(
            "replay of 2 write(s): 1 done, 0 refused, 1 already settled elsewhere, 0 still pending"
        ),
        "{toast}"
    );
    assert_eq!(app.last_error, None);
    snap("replay_reported", &app);

    // A replay that leaves one pending says so as an error.
    app.update(Action::Job(JobEvent::Replayed(vec![
        "#5 consume 1 × 9NSDCOIN0500: still pending (timeout)".into(),
    ])));
    let e = app.last_error.clone().unwrap_or_default();
    assert!(e.contains("0 done, 0 refused, 1 still pending"), "{e}");
}
