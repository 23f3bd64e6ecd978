//! Issue 14 ("exactly once, for real") in the console: a paste goes where
//! the eye is (point 7) and a new write never goes out blind behind a
//! pending one of the same customer and product (point 3).

use crate::config::Environment;
use crate::tui::app::{Action, App, Effect, Overlay};
use crate::tui::keymap::Command;
use crate::tui::panes::entitlements::Modal;
use crate::tui::render::render_text;
use crate::tui::snapshot_tests::{
    connected, key_issued, ms_key_for, now, press, snap, test_app,
};
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
    assert_eq!(app.panes.key.collections_token().map(str::to_string), before);
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
    assert_eq!(app.panes.key.collections_token().map(str::to_string), before);
    press(&mut app, KeyCode::Enter);

    press(&mut app, KeyCode::Char('e'));
    assert!(matches!(app.panes.entitlements.modal, Modal::ExportPrompt));
    app.update(Action::Paste(bobs_key()));
    assert_eq!(app.panes.key.collections_token().map(str::to_string), before);
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
    assert_eq!(app.panes.key.collections_token().map(str::to_string), before);
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
