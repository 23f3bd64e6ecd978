//! Issue 14 ("exactly once, for real") in the console: a paste goes where
//! the eye is (point 7) and a new write never goes out blind behind a
//! pending one of the same customer and product (point 3).

use crate::config::Environment;
use crate::tui::app::{Action, App, Effect, Overlay};
use crate::tui::keymap::Command;
use crate::tui::panes::entitlements::Modal;
use crate::tui::render::render_text;
use crate::tui::snapshot_tests::{connected, key_issued, ms_key_for, now, press, snap, test_app};
use crossterm::event::KeyCode;

/// A console with demo-alice's collections key loaded.
fn with_key(env: Environment) -> App {
    let mut app = test_app(env);
    app.session.writes_allowed = true;
    connected(&mut app);
    let iat = now().timestamp() - 86_400 * 15;
    app.update(Action::Paste(key_issued("collections", iat)));
    assert!(app.panes.key.collections_token().is_some());
    app
}

/// Another customer's key: what an operator may paste by mistake.
fn bobs_key() -> String {
    let iat = now().timestamp() - 86_400;
    ms_key_for("demo-bob", "collections", iat, iat + 30 * 86_400, iat)
}

fn must_type(app: &App) -> Option<String> {
    match &app.overlay {
        Some(Overlay::Confirm(d)) => d.must_type.clone(),
        _ => None,
    }
}

/// RETAIL's typed confirmation accepts a paste: the pasted text goes into
/// the field, and Enter then confirms.
#[test]
fn a_paste_into_a_retail_confirmation_types_it() {
    let mut app = with_key(Environment::Retail);
    let before = app.panes.key.collections_token().map(str::to_string);
    app.run_command(Command::Renew);
    let want = must_type(&app).expect("a retail confirmation asks to type");
    let fx = app.update(Action::Paste(format!(" {want}\n")));
    assert!(fx.is_empty(), "a paste never sends: {fx:?}");
    assert!(matches!(app.overlay, Some(Overlay::Confirm(_))));
    assert_eq!(
        app.panes.key.collections_token().map(str::to_string),
        before
    );
    let text = render_text(&app, 80, 24);
    assert!(text.contains(&format!("> {want}")), "{text}");
    let fx = app.update(Action::Key(crossterm::event::KeyEvent::new(
        KeyCode::Enter,
        crossterm::event::KeyModifiers::NONE,
    )));
    assert_eq!(fx.len(), 1, "the pasted confirmation confirms: {fx:?}");
}

/// A SANDBOX confirmation has no text field: a paste is refused with a
/// notice, and the case behind the open dialog keeps its key.
#[test]
fn a_paste_behind_a_confirmation_never_loads_a_key() {
    let mut app = with_key(Environment::Sandbox);
    let before = app.panes.key.collections_token().map(str::to_string);
    app.run_command(Command::Renew);
    assert!(matches!(app.overlay, Some(Overlay::Confirm(_))));
    let fx = app.update(Action::Paste(bobs_key()));
    assert!(fx.is_empty(), "{fx:?}");
    assert!(
        matches!(app.overlay, Some(Overlay::Confirm(_))),
        "the dialog stays open"
    );
    assert_eq!(
        app.panes.key.collections_token().map(str::to_string),
        before,
        "the case behind the dialog is unchanged"
    );
    let e = app.last_error.clone().unwrap_or_default();
    assert!(e.contains("paste ignored"), "{e}");
    snap("paste_refused_behind_confirm", &app);
}

/// Help, the demo picker and the doctor have no text field either.
#[test]
fn a_paste_over_help_demo_or_doctor_is_refused() {
    for open in [Command::Help, Command::DemoCustomer, Command::Doctor] {
        let mut app = with_key(Environment::Sandbox);
        let before = app.panes.key.collections_token().map(str::to_string);
        app.run_command(open);
        assert!(app.overlay.is_some(), "{open:?}");
        app.update(Action::Paste(bobs_key()));
        assert!(app.overlay.is_some(), "{open:?}: the window stays open");
        assert_eq!(
            app.panes.key.collections_token().map(str::to_string),
            before,
            "{open:?}"
        );
        let e = app.last_error.clone().unwrap_or_default();
        assert!(e.contains("paste ignored"), "{open:?}: {e}");
    }
}

/// A pane's own dialogs: the filter editor takes the paste into its text;
/// the export prompt (no text field) refuses it; the consume form takes it.
#[test]
fn a_paste_into_a_panes_dialog_goes_to_its_field_or_is_refused() {
    let mut app = crate::tui::snapshot_tests::entitlements_app(|_| {});
    let before = app.panes.key.collections_token().map(str::to_string);
    press(&mut app, KeyCode::Char('/'));
    assert!(app.panes.entitlements.editor().is_some());
    app.update(Action::Paste("COIN0500".into()));
    assert_eq!(app.panes.entitlements.view.filter.text, "COIN0500");
    assert_eq!(
        app.panes.key.collections_token().map(str::to_string),
        before
    );
    press(&mut app, KeyCode::Enter);

    press(&mut app, KeyCode::Char('e'));
    assert!(matches!(app.panes.entitlements.modal, Modal::ExportPrompt));
    app.update(Action::Paste(bobs_key()));
    assert_eq!(
        app.panes.key.collections_token().map(str::to_string),
        before
    );
    assert!(
        matches!(app.panes.entitlements.modal, Modal::ExportPrompt),
        "the prompt stays open"
    );
    let e = app.last_error.clone().unwrap_or_default();
    assert!(e.contains("paste ignored"), "{e}");
    press(&mut app, KeyCode::Esc);

    let fx = app.run_command(Command::Consume);
    assert!(fx.is_empty());
    press(&mut app, KeyCode::Backspace);
    app.update(Action::Paste("2".into()));
    let form = app.panes.entitlements.form().expect("the consume form");
    assert_eq!(form.0.value(0), "2");
    assert_eq!(
        app.panes.key.collections_token().map(str::to_string),
        before
    );
}

/// A paste with nothing open still loads a key (the point of pasting).
#[test]
fn a_paste_with_nothing_open_loads_the_key() {
    let mut app = with_key(Environment::Sandbox);
    let fx = app.update(Action::Paste(bobs_key()));
    assert!(!fx.iter().any(|e| matches!(e, Effect::Quit)));
    assert_eq!(
        app.panes.key.collections_token().map(str::to_string),
        Some(bobs_key())
    );
}

/// A pending consume of 9NSDCOIN0500 for the case's customer, as the
/// journal reports it.
fn pending_consume(app: &App, id: i64, product: &str) -> crate::tui::app::PendingLine {
    let key = app.panes.key.collections_token().unwrap_or_default();
    crate::tui::app::PendingLine {
        id,
        profile: "sandbox".into(),
        customer: crate::store::keyinfo::case_customer(key),
        subject: Some(product.into()),
        replay_safe: true,
        summary: format!("consume 1 × {product}"),
        customer_fp: crate::keys::fingerprint(key),
        created_at: "2026-11-23T09:58:00.0000000+00:00".into(),
        attempts: 1,
        last_error: Some("connection reset after the request was sent".into()),
    }
}

/// Open the consume form on 9NSDCOIN0500 and submit a quantity of 1.
fn confirm_consume(app: &mut App) {
    app.panes.entitlements.set_filter(
        &mut app.panes.case,
        crate::browse::Filter {
            text: "COIN0500".into(),
            ..Default::default()
        },
    );
    let fx = app.run_command(Command::Consume);
    assert!(fx.is_empty());
    press(app, KeyCode::Backspace);
    press(app, KeyCode::Char('1'));
    let fx = app.update(Action::Key(crossterm::event::KeyEvent::new(
        KeyCode::Enter,
        crossterm::event::KeyModifiers::NONE,
    )));
    assert!(
        crate::tui::collision::sends_nothing(&fx),
        "nothing is sent before a confirmation: {fx:?}"
    );
}

/// Issue 14 point 3: while a write of this customer and product is
/// pending, a new one asks first, showing the pending one and offering
/// :replay / :resolve; sending anyway still goes through its confirmation.
#[test]
fn a_new_write_behind_a_pending_one_asks_first() {
    use crate::tui::app::JobEvent;
    let mut app = crate::tui::snapshot_tests::entitlements_app(|_| {});
    let line = pending_consume(&app, 12, "9NSDCOIN0500");
    app.update(Action::Job(JobEvent::Pending(Ok(vec![line]))));
    confirm_consume(&mut app);
    assert!(
        matches!(app.overlay, Some(Overlay::PendingGate(_))),
        "the gate, not the confirmation: {:?}",
        app.overlay
    );
    let text = render_text(&app, 200, 50);
    assert!(text.contains("#12 consume 1 × 9NSDCOIN0500"), "{text}");
    assert!(
        text.contains(":replay") && text.contains(":resolve"),
        "{text}"
    );
    snap("pending_gate", &app);

    // Enter on the first choice: the replay confirmation (REPLAY typed in
    // any environment), never the new write.
    press(&mut app, KeyCode::Enter);
    let Some(Overlay::Confirm(d)) = &app.overlay else {
        panic!("replay confirmation: {:?}", app.overlay)
    };
    assert_eq!(d.effect(), &Effect::ReplayPending);
    press(&mut app, KeyCode::Esc);

    // :resolve reads the list afresh and offers this write first.
    confirm_consume(&mut app);
    press(&mut app, KeyCode::Down);
    let fx = app.update(Action::Key(crossterm::event::KeyEvent::new(
        KeyCode::Enter,
        crossterm::event::KeyModifiers::NONE,
    )));
    assert_eq!(fx, vec![Effect::ReadPending]);
    let mut other = pending_consume(&app, 11, "9NSDOTHER001");
    other.replay_safe = false;
    let line = pending_consume(&app, 12, "9NSDCOIN0500");
    app.update(Action::Job(JobEvent::Pending(Ok(vec![other, line]))));
    let Some(Overlay::Resolve(form)) = &app.overlay else {
        panic!("resolve form: {:?}", app.overlay)
    };
    assert_eq!(form.value(0), "12");
    press(&mut app, KeyCode::Esc);

    // Sending anyway: the write's own confirmation, then exactly one write.
    confirm_consume(&mut app);
    press(&mut app, KeyCode::Up);
    let fx = app.update(Action::Key(crossterm::event::KeyEvent::new(
        KeyCode::Enter,
        crossterm::event::KeyModifiers::NONE,
    )));
    assert!(fx.is_empty(), "{fx:?}");
    assert!(matches!(app.overlay, Some(Overlay::Confirm(_))));
    let fx = app.update(Action::Key(crossterm::event::KeyEvent::new(
        KeyCode::Enter,
        crossterm::event::KeyModifiers::NONE,
    )));
    assert_eq!(fx.len(), 1, "{fx:?}");
}

/// Esc in the gate sends nothing; a pending write of another product or
/// another profile does not stop a write.
#[test]
fn the_gate_cancels_and_ignores_other_products_and_profiles() {
    use crate::tui::app::JobEvent;
    let mut app = crate::tui::snapshot_tests::entitlements_app(|_| {});
    app.update(Action::Job(JobEvent::Pending(Ok(vec![pending_consume(
        &app,
        3,
        "9NSDCOIN0500",
    )]))));
    confirm_consume(&mut app);
    let fx = app.update(Action::Key(crossterm::event::KeyEvent::new(
        KeyCode::Esc,
        crossterm::event::KeyModifiers::NONE,
    )));
    assert!(fx.is_empty() && app.overlay.is_none());
    assert!(
        app.toast
            .as_deref()
            .unwrap_or("")
            .contains("nothing was sent")
    );

    let mut elsewhere = pending_consume(&app, 4, "9NSDCOIN0500");
    elsewhere.profile = "qa".into();
    let other_product = pending_consume(&app, 5, "9NSDDLC00001");
    app.update(Action::Job(JobEvent::Pending(Ok(vec![
        elsewhere,
        other_product,
    ]))));
    confirm_consume(&mut app);
    assert!(
        matches!(app.overlay, Some(Overlay::Confirm(_))),
        "{:?}",
        app.overlay
    );
}
