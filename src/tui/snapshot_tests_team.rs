//! Issue 19 point 4 in the console: before an agent confirms a write, the
//! confirmation and the status bar say when another agent wrote for the
//! same customer lately or has a write pending for them; the Audit pane
//! rereads the log when the team journal says it changed.

use crate::journal::Activity;
use crate::tui::app::{Action, App, Effect, JobEvent, Overlay};
use crate::tui::collision::Others;
use crate::tui::keymap::Command;
use crate::tui::panes::PaneId;
use crate::tui::render::render_text;
use crate::tui::snapshot_tests::{entitlements_app, press, snap};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Open the consume confirmation of 1 × 9NSDCOIN0500; the effects of
/// opening it.
fn open_consume(app: &mut App) -> Vec<Effect> {
    app.panes.entitlements.set_filter(
        &mut app.panes.case,
        crate::browse::Filter {
            text: "COIN0500".into(),
            ..Default::default()
        },
    );
    assert!(app.run_command(Command::Consume).is_empty());
    press(app, KeyCode::Backspace);
    press(app, KeyCode::Char('1'));
    let fx = app.update(Action::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )));
    assert!(matches!(app.overlay, Some(Overlay::Confirm(_))), "{fx:?}");
    fx
}

fn case_customer(app: &App) -> String {
    crate::store::keyinfo::case_customer(app.panes.key.collections_token().unwrap_or_default())
}

fn alice() -> Vec<Activity> {
    vec![
        Activity {
            operator: "alice".into(),
            machine: "desk-a".into(),
            summary: "consume 1 × 9NSDCOIN0500".into(),
            state: "pending".into(),
            at: "2026-11-23T09:59:10.000000Z".into(),
        },
        Activity {
            operator: "alice".into(),
            machine: "desk-a".into(),
            summary: "grant 9NSDDLC00001".into(),
            state: "done".into(),
            at: "2026-11-23T09:48:00.000000Z".into(),
        },
    ]
}

/// Opening a write's confirmation asks who else is on this customer (and
/// sends nothing); the answer shows in the dialog and the status bar.
#[test]
fn another_agent_on_the_customer_is_named_before_confirming() {
    let mut app = entitlements_app(|_| {});
    let fx = open_consume(&mut app);
    let customer = case_customer(&app);
    assert_eq!(
        fx,
        vec![Effect::CheckOthers {
            customer: customer.clone()
        }],
        "the check, and no write, before a confirmation"
    );
    let before = render_text(&app, 80, 24);
    assert!(!before.contains("Another agent"), "{before}");

    // An answer about another customer changes nothing on screen.
    app.update(Action::Job(JobEvent::Others(Others {
        customer: "key:someone-else".into(),
        result: Ok(alice()),
    })));
    assert!(!render_text(&app, 80, 24).contains("Another agent"));

    app.update(Action::Job(JobEvent::Others(Others {
        customer: customer.clone(),
        result: Ok(alice()),
    })));
    let text = render_text(&app, 80, 24);
    assert!(
        text.contains("⚠ Another agent is on this customer"),
        "{text}"
    );
    assert!(
        text.contains("alice on desk-a: consume 1 × 9NSDCOIN0500 (pending, 09:59 UTC, just now)"),
        "{text}"
    );
    assert!(
        text.contains("another agent is on this customer: alice on desk-a"),
        "the status bar too: {text}"
    );
    snap("collision_warning", &app);

    // Cancelled: the status bar still names the other agent while this
    // customer's case is on screen; the next confirmation shows the kept
    // answer at once (and asks again).
    press(&mut app, KeyCode::Esc);
    assert!(app.overlay.is_none());
    let fx = open_consume(&mut app);
    assert_eq!(fx.len(), 1, "{fx:?}");
    let Some(Overlay::Confirm(d)) = &app.overlay else {
        panic!("{:?}", app.overlay)
    };
    assert_eq!(d.others.len(), 3, "{:?}", d.others);
    // Confirming still sends exactly the write.
    let fx = app.update(Action::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )));
    assert_eq!(fx.len(), 1, "{fx:?}");
    assert!(matches!(fx[0], Effect::Pane(PaneId::Entitlements, _)));
}

/// No other agent (the SQLite journal's answer): nothing is added; a check
/// that failed (the team journal down) says so in the dialog.
#[test]
fn no_other_agent_shows_nothing_and_a_failed_check_says_so() {
    let mut app = entitlements_app(|_| {});
    open_consume(&mut app);
    let customer = case_customer(&app);
    let plain = render_text(&app, 80, 24);
    app.update(Action::Job(JobEvent::Others(Others {
        customer: customer.clone(),
        result: Ok(vec![]),
    })));
    assert_eq!(render_text(&app, 80, 24), plain);
    app.update(Action::Job(JobEvent::Others(Others {
        customer,
        result: Err("team journal: cannot connect to the team journal: connection refused".into()),
    })));
    let text = render_text(&app, 200, 50);
    assert!(text.contains("Cannot check for other agents"), "{text}");
    assert!(
        text.contains("refused if the journal cannot record it"),
        "{text}"
    );
}

/// The team journal's feed: the Audit pane, once shown, reads the log
/// again; before it has been shown nothing is read.
#[test]
fn an_audit_change_rereads_a_shown_audit_pane() {
    let mut app = entitlements_app(|_| {});
    // Someone wrote: the case's customer is asked about again, and nothing
    // else happens while the Audit pane was never shown.
    let customer = case_customer(&app);
    let fx = app.update(Action::Job(JobEvent::AuditChanged));
    assert!(
        matches!(fx.as_slice(), [Effect::CheckOthers { customer: c }] if *c == customer),
        "{fx:?}"
    );
    app.panes.audit.loaded = true;
    let fx = app.update(Action::Job(JobEvent::AuditChanged));
    assert!(
        matches!(
            fx.as_slice(),
            [
                Effect::Pane(PaneId::Audit, crate::tui::panes::PaneJob::Audit(_)),
                Effect::CheckOthers { .. }
            ]
        ),
        "{fx:?}"
    );
}

/// A customer another agent is on is said in the status bar as soon as the
/// case holds them — before any write is prepared — and asked once.
#[test]
fn opening_a_customer_asks_who_else_is_on_them() {
    let mut app = entitlements_app(|_| {});
    let customer = case_customer(&app);
    // The case's customer was asked about when the keys came in…
    assert_eq!(
        app.others_asked_for(),
        Some(customer.as_str()),
        "no check when the keys were loaded"
    );
    // …and not again on the next update.
    let fx = app.update(Action::Resize(100, 30));
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::CheckOthers { .. })),
        "{fx:?}"
    );
    app.update(Action::Job(JobEvent::Others(Others {
        customer,
        result: Ok(alice()),
    })));
    let text = render_text(&app, 100, 30);
    assert!(
        text.contains("another agent is on this customer: alice on desk-a"),
        "{text}"
    );
}
