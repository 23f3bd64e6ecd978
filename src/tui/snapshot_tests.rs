//! Snapshots of every pane and overlay at 80×24 and 200×50, drawn through
//! the real `update` and `view` on ratatui's TestBackend.

use crate::config::Environment;
use crate::tui::app::{Action, App, Connection, JobEvent, Session};
use crate::tui::keymap::Command;
use crate::tui::render::render_text;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{FixedOffset, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

const SIZES: [(u16, u16); 2] = [(80, 24), (200, 50)];

pub fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap()
}

pub fn test_app(env: Environment) -> App {
    let session = Session {
        environment: env,
        profile: match env {
            Environment::Sandbox => "sandbox".into(),
            Environment::Retail => "retail".into(),
        },
        operator: "tester".into(),
        writes_allowed: env == Environment::Sandbox,
        read_only_reason: None,
    };
    let mut app = App::new(session, now(), (80, 24));
    app.panes.key.local_offset = FixedOffset::east_opt(3600);
    app
}

pub fn connected(app: &mut App) {
    app.update(Action::Job(JobEvent::Connected(Connection {
        base_description: "http://127.0.0.1:1/collections".into(),
        client_id: "1a2b3c4d-0000-4000-8000-000000000001".into(),
        sandbox_id: None,
        sandbox_public_key_pem: None,
        demo_customers: vec![crate::sandbox::DemoCustomer {
            name: "ada".into(),
            user_id: "ada@contoso.example".into(),
            about: "One of everything".into(),
            collections_key: ms_key(
                "collections",
                now().timestamp() - 86_400,
                now().timestamp() + 29 * 86_400,
                now().timestamp() - 86_400,
            ),
            purchase_key: ms_key(
                "purchase",
                now().timestamp() - 86_400,
                now().timestamp() + 29 * 86_400,
                now().timestamp() - 86_400,
            ),
        }],
        grantable: vec![],
    })));
}

/// A Microsoft-shaped key (unverifiable offline), deterministic.
pub fn ms_key(kind: &str, iat: i64, exp: i64, nbf: i64) -> String {
    ms_key_for("demo-alice", kind, iat, exp, nbf)
}

/// A 30-day key of demo-alice issued at `iat`, as the Store mints them.
pub fn key_issued(kind: &str, iat: i64) -> String {
    ms_key(kind, iat, iat + 30 * 86_400, iat)
}

/// The same, for another customer.
pub fn ms_key_for(user: &str, kind: &str, iat: i64, exp: i64, nbf: i64) -> String {
    let (iss, renew) = match kind {
        "purchase" => (
            "https://purchase.mp.microsoft.com/v6.0/keys",
            "https://purchase.mp.microsoft.com/v6.0/b2b/keys/renew",
        ),
        _ => (
            "https://collections.mp.microsoft.com/v6.0/keys",
            "https://collections.mp.microsoft.com/v6.0/b2b/keys/renew",
        ),
    };
    let header = r#"{"typ":"JWT","alg":"RS256","x5t":"l3sQ-50cCH4xBVZLHTGwnSR7680"}"#;
    let payload = serde_json::json!({
        "http://schemas.microsoft.com/marketplace/2015/08/claims/key/clientId": "1a2b3c4d-0000-4000-8000-000000000001",
        "http://schemas.microsoft.com/marketplace/2015/08/claims/key/payload": "ZdcOq0/N2rjytCRzCHSqnfczv3f0343wfSydx7hghfu0snWzMqyoAGy5",
        "http://schemas.microsoft.com/marketplace/2015/08/claims/key/userId": user,
        "http://schemas.microsoft.com/marketplace/2015/08/claims/key/refreshUri": renew,
        "iat": iat, "iss": iss, "aud": iss, "exp": exp, "nbf": nbf,
    });
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload.to_string()),
        URL_SAFE_NO_PAD.encode(b"not-a-real-signature")
    )
}

pub fn press(app: &mut App, c: KeyCode) {
    app.update(Action::Key(KeyEvent::new(c, KeyModifiers::NONE)));
}

pub fn snap(name: &str, app: &App) {
    for (w, h) in SIZES {
        insta::assert_snapshot!(
            format!("{name}_{w}x{h}"),
            scrub_uuids(&render_text(app, w, h))
        );
    }
}

/// Idempotency keys are fresh v4 UUIDs: replace them so snapshots are stable.
fn scrub_uuids(text: &str) -> String {
    let shape = [8usize, 4, 4, 4, 12];
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    'outer: while i < chars.len() {
        let mut j = i;
        for (n, len) in shape.iter().enumerate() {
            for _ in 0..*len {
                if !chars.get(j).is_some_and(|c| c.is_ascii_hexdigit()) {
                    out.push(chars[i]);
                    i += 1;
                    continue 'outer;
                }
                j += 1;
            }
            if n < 4 {
                if chars.get(j) != Some(&'-') {
                    out.push(chars[i]);
                    i += 1;
                    continue 'outer;
                }
                j += 1;
            }
        }
        out.push_str("xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx");
        i = j;
    }
    out
}

#[test]
fn shell_connecting() {
    let app = test_app(Environment::Sandbox);
    snap("shell_connecting", &app);
}

#[test]
fn every_empty_pane() {
    let mut app = test_app(Environment::Sandbox);
    connected(&mut app);
    for (i, name) in [
        "key",
        "entitlements",
        "orders",
        "subscriptions",
        "clawbacks",
        "timeline",
        "audit",
    ]
    .iter()
    .enumerate()
    {
        app.run_command(Command::Pane(i));
        snap(&format!("empty_{name}"), &app);
    }
}

#[test]
fn retail_badge_and_read_only() {
    let mut app = test_app(Environment::Retail);
    connected(&mut app);
    snap("retail_shell", &app);
}

#[test]
fn help_overlay() {
    let mut app = test_app(Environment::Sandbox);
    press(&mut app, KeyCode::Char('?'));
    snap("help", &app);
}

/// Every scope of the help, on a screen tall enough to show it whole: the
/// keys panes, forms and flows handle are listed, not only the global ones.
#[test]
fn help_overlay_lists_every_scope() {
    let mut app = test_app(Environment::Sandbox);
    press(&mut app, KeyCode::Char('?'));
    let (w, h) = (120, 80);
    insta::assert_snapshot!(format!("help_all_{w}x{h}"), render_text(&app, w, h));
}

#[test]
fn palette_overlay() {
    let mut app = test_app(Environment::Sandbox);
    press(&mut app, KeyCode::Char(':'));
    for c in "ren".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    snap("palette", &app);
}

#[test]
fn key_pane_valid_collections_key() {
    let mut app = test_app(Environment::Sandbox);
    connected(&mut app);
    let iat = now().timestamp() - 86_400 * 3;
    app.update(Action::Paste(format!(
        "Bearer {}",
        key_issued("collections", iat)
    )));
    snap("key_valid", &app);
}

#[test]
fn key_pane_doc_example_is_inconsistent() {
    let mut app = test_app(Environment::Sandbox);
    connected(&mut app);
    // The docs' own claim set: exp before iat, nbf after exp.
    app.update(Action::Paste(ms_key(
        "collections",
        1733526889,
        1733523289,
        1736118889,
    )));
    let text = render_text(&app, 80, 24);
    assert!(text.contains("INCONSISTENT"), "{text}");
    assert!(!text.contains("VALID "), "{text}");
    snap("key_inconsistent", &app);
}

#[test]
fn key_pane_case_with_both_keys_and_raw_view() {
    let mut app = test_app(Environment::Sandbox);
    connected(&mut app);
    let iat = now().timestamp() - 86_400 * 13;
    app.update(Action::Paste(key_issued("collections", iat)));
    let iat2 = now().timestamp() - 86_400 * 31;
    app.update(Action::Paste(key_issued("purchase", iat2)));
    snap("key_case_purchase_expired", &app);
    press(&mut app, KeyCode::Char('J'));
    snap("key_raw", &app);
}

#[test]
fn key_pane_rejects_garbage_with_reason() {
    let mut app = test_app(Environment::Sandbox);
    connected(&mut app);
    app.update(Action::Paste("aaaa.bbbb".into()));
    snap("key_rejected", &app);
}

#[test]
fn renew_confirmation_dialog_sandbox_and_retail() {
    for env in [Environment::Sandbox, Environment::Retail] {
        let mut app = test_app(env);
        app.session.writes_allowed = true;
        connected(&mut app);
        let iat = now().timestamp() - 86_400 * 15;
        app.update(Action::Paste(key_issued("collections", iat)));
        let fx = app.run_command(Command::Renew);
        assert!(
            crate::tui::collision::sends_nothing(&fx),
            "nothing may be sent before confirmation"
        );
        snap(&format!("confirm_renew_{env}"), &app);
        // Esc cancels and sends nothing.
        app.update(Action::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)));
        assert!(app.overlay.is_none());
        assert!(app.panes.key.renewing.is_none());
    }
}

#[test]
fn demo_customer_picker_loads_both_keys() {
    let mut app = test_app(Environment::Sandbox);
    connected(&mut app);
    press(&mut app, KeyCode::Char('d'));
    snap("demo_picker", &app);
    // G / End reach the last customer, g / Home the first (issue 16.10).
    if let crate::tui::app::ConnState::Ready(c) = &mut app.conn {
        let ada = c.demo_customers[0].clone();
        for name in ["gus", "cora", "wally"] {
            c.demo_customers.push(crate::sandbox::DemoCustomer {
                name: name.into(),
                ..ada.clone()
            });
        }
    }
    let n = app.connection().map_or(0, |c| c.demo_customers.len());
    assert!(n > 2, "several demo customers to move through");
    for (key, want) in [
        (KeyCode::Char('G'), n - 1),
        (KeyCode::Home, 0),
        (KeyCode::End, n - 1),
        (KeyCode::Char('g'), 0),
    ] {
        press(&mut app, key);
        assert!(
            matches!(app.overlay, Some(crate::tui::app::Overlay::Demo { selected }) if selected == want),
            "{key:?} selects {want}"
        );
    }
    press(&mut app, KeyCode::Enter);
    assert!(app.panes.key.collections_token().is_some());
    assert!(app.panes.key.purchase_token().is_some());
    assert!(app.toast.as_deref().unwrap().contains("ada"));
}

fn audit_entry(
    id: i64,
    action: &str,
    event: &str,
    result: Option<&str>,
    status: Option<u16>,
) -> crate::journal::AuditEntry {
    crate::journal::AuditEntry {
        id,
        at: format!("2026-11-23T09:{:02}:00.0000000+00:00", id),
        operator: "tester".into(),
        profile: "sandbox".into(),
        environment: "SANDBOX".into(),
        customer: "key:aeac9eae".into(),
        customer_fp: "75bcf0e2".into(),
        action: action.into(),
        event: event.into(),
        write_id: Some(id / 2 + 1),
        idempotency_key: Some(format!("0000000{id}-1111-4222-8333-444444444444")),
        attempt: Some(1),
        request_summary: format!("{action} 3 × 9NBLGGH4R315"),
        result: result.map(String::from),
        http_status: status,
        correlation: Some(r#"{"correlation_id":"c-1"}"#.into()),
        machine: None,
    }
}

#[test]
fn audit_pane_lists_filters_and_details() {
    use crate::tui::panes::audit::AuditEvent;
    use crate::tui::panes::{PaneEvent, PaneId};
    let mut app = test_app(Environment::Sandbox);
    connected(&mut app);
    let fx = app.update(Action::Key(KeyEvent::new(
        KeyCode::Char('7'),
        KeyModifiers::NONE,
    )));
    assert!(
        fx.iter()
            .any(|e| matches!(e, crate::tui::app::Effect::Pane(PaneId::Audit, _))),
        "coming on screen reloads the audit log: {fx:?}"
    );
    let entries = vec![
        audit_entry(1, "consume", "attempt", None, None),
        audit_entry(2, "consume", "done", Some("newQuantity 9"), Some(200)),
        audit_entry(3, "grant", "attempt", None, None),
        audit_entry(
            4,
            "grant",
            "failed",
            Some("400 InvalidParameter: not free"),
            Some(400),
        ),
        audit_entry(5, "renew_key", "no_answer", Some("timeout"), None),
    ];
    app.update(Action::Job(JobEvent::Pane(
        PaneId::Audit,
        PaneEvent::Audit(AuditEvent::Loaded(Ok(entries))),
    )));
    snap("audit_list", &app);
    press(&mut app, KeyCode::Char('/'));
    for c in "grant".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.panes.audit.visible.len(), 2);
    snap("audit_filtered", &app);
    press(&mut app, KeyCode::Enter);
    snap("audit_detail", &app);
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.panes.audit.visible.len(), 5);
    // A paste while typing the filter goes into it, not into the Key pane.
    press(&mut app, KeyCode::Char('/'));
    app.update(Action::Paste("renew_key".into()));
    assert_eq!(app.focus, crate::tui::panes::PaneId::Audit);
    assert_eq!(app.panes.audit.visible.len(), 1);
}

/// An app whose Entitlements pane was fed two deterministic pages
/// (tests/fixtures), as if the listing job had answered; `on_first` runs
/// after the first page (to snapshot the paging state).
pub(crate) fn entitlements_app(on_first: impl FnOnce(&mut App)) -> App {
    use crate::store::PageProgress;
    use crate::store::model::QueryResponse;
    use crate::tui::panes::entitlements::{EntEvent, QueryMode};
    use crate::tui::panes::{PaneEvent, PaneId};
    let fixture: serde_json::Value =
        serde_json::from_str(include_str!("../../tests/fixtures/entitlements/pages.json")).unwrap();
    let pages: Vec<QueryResponse> = fixture["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| serde_json::from_str(&p.to_string()).unwrap())
        .collect();
    let ent = |app: &mut App, ev: EntEvent| {
        app.update(Action::Job(JobEvent::Pane(
            PaneId::Entitlements,
            PaneEvent::Entitlements(ev),
        )))
    };
    let mut on_first = Some(on_first);
    let mut app = test_app(Environment::Sandbox);
    connected(&mut app);
    let iat = now().timestamp() - 86_400 * 3;
    app.update(Action::Paste(key_issued("collections", iat)));
    let fx = app.update(Action::Key(KeyEvent::new(
        KeyCode::Char('2'),
        KeyModifiers::NONE,
    )));
    assert!(
        fx.iter()
            .any(|e| matches!(e, crate::tui::app::Effect::Pane(PaneId::Entitlements, _))),
        "coming on screen with a new key starts the listing: {fx:?}"
    );
    ent(
        &mut app,
        EntEvent::Plan {
            fetch_id: 1,
            mode: QueryMode::V8 {
                reason: "profile \"sandbox\" lists no product_ids, and v9 needs them".into(),
            },
        },
    );
    let mut progress = PageProgress::default();
    for (i, p) in pages.iter().enumerate() {
        progress.pages += 1;
        progress.items += p.items.len();
        progress.calls_left = Some(99 - i as u32);
        ent(
            &mut app,
            EntEvent::Page {
                fetch_id: 1,
                items: p.items.clone(),
                progress,
            },
        );
        if i == 0 {
            ent(
                &mut app,
                EntEvent::Waiting {
                    fetch_id: 1,
                    secs_left: 3,
                    why: "429 Retry-After".into(),
                },
            );
            if let Some(f) = on_first.take() {
                f(&mut app);
            }
        }
    }
    ent(
        &mut app,
        EntEvent::Finished {
            fetch_id: 1,
            result: Ok(progress),
        },
    );
    app
}

/// List, progress with a 429 countdown, the filter editor, the detail view.
#[test]
fn entitlements_list_filter_and_detail() {
    let mut app = entitlements_app(|app| snap("entitlements_paging", app));
    snap("entitlements_list", &app);
    // Status Active; kinds Durable and Consumable; text 'sword'.
    press(&mut app, KeyCode::Char('/'));
    for c in "sword".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Char(' '));
    press(&mut app, KeyCode::Down);
    for k in [
        KeyCode::Right,
        KeyCode::Right,
        KeyCode::Char(' '),
        KeyCode::Right,
        KeyCode::Char(' '),
    ] {
        press(&mut app, k);
    }
    let e = &app.panes.entitlements;
    assert_eq!(
        e.view.title(&app.panes.case.listing.data),
        "Active · Durable, Consumable · 'sword' — 2 of 12"
    );
    snap("entitlements_filter", &app);
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Esc);
    // The game entitled through the pass.
    app.panes.entitlements.set_filter(
        &mut app.panes.case,
        crate::browse::Filter {
            text: "PASSGM".into(),
            ..Default::default()
        },
    );
    press(&mut app, KeyCode::Enter);
    snap("entitlements_detail", &app);
}

#[test]
fn pending_writes_are_prominent_and_replay_asks_first() {
    use crate::tui::app::{Effect, PendingLine};
    let mut app = test_app(Environment::Sandbox);
    connected(&mut app);
    app.update(Action::Job(JobEvent::Pending(Ok(vec![PendingLine {
        id: 7,
        profile: "sandbox".into(),
        replay_safe: true,
        summary: "consume 3 × 9NBLGGH4R315".into(),
        customer_fp: "75bcf0e2".into(),
        created_at: "2026-11-23T09:58:00.0000000+00:00".into(),
        attempts: 1,
        last_error: Some("timeout after 20 s".into()),
        ..Default::default()
    }]))));
    let text = render_text(&app, 80, 24);
    assert!(text.contains("1 PENDING"), "{text}");
    let fx = app.run_command(Command::ReplayPending);
    assert!(fx.is_empty(), "nothing is sent before confirmation");
    snap("replay_confirm", &app);
    let fx = app.update(Action::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )));
    assert_eq!(fx, vec![Effect::ReplayPending]);
}

/// `:resolve` offers the write replay will not resend, checks the form,
/// then asks like any write; only Enter there lets the effect out.
#[test]
fn resolve_asks_for_outcome_and_note_then_confirms() {
    use crate::tui::app::{Effect, Overlay, PendingLine};
    let mut app = test_app(Environment::Sandbox);
    connected(&mut app);
    let line = |id: i64, profile: &str, replay_safe: bool, summary: &str| PendingLine {
        id,
        profile: profile.into(),
        replay_safe,
        summary: summary.into(),
        customer_fp: "0ac48c0c".into(),
        created_at: "2026-11-23T09:58:00.0000000+00:00".into(),
        attempts: 1,
        last_error: Some("connection reset after the request was sent".into()),
        ..Default::default()
    };
    let lines = vec![
        line(3, "qa", false, "Extend subscription 7d1f3b2c"),
        line(4, "sandbox", true, "consume 1 × 9NSDCOIN0500"),
        line(5, "sandbox", false, "Extend subscription 5e6f7a8b"),
    ];
    let type_text = |app: &mut App, t: &str| {
        for c in t.chars() {
            press(app, KeyCode::Char(c));
        }
    };
    // The list is read afresh first: with none pending, no form.
    assert_eq!(
        app.run_command(Command::ResolvePending),
        vec![Effect::ReadPending]
    );
    app.update(Action::Job(JobEvent::Pending(Ok(vec![]))));
    assert!(app.overlay.is_none());
    assert!(
        app.toast
            .as_deref()
            .unwrap_or("")
            .starts_with("no pending writes")
    );
    assert_eq!(
        app.run_command(Command::ResolvePending),
        vec![Effect::ReadPending]
    );
    app.update(Action::Job(JobEvent::Pending(Ok(lines.clone()))));
    let Some(Overlay::Resolve(form)) = &app.overlay else {
        panic!("no form")
    };
    assert_eq!(form.value(0), "5", "this profile's write that replay skips");
    snap("resolve_form", &app);

    // Each field is checked, with the reason in the form.
    let form_error = |app: &App| match &app.overlay {
        Some(Overlay::Resolve(f)) => f.error.clone().unwrap_or_default(),
        _ => panic!("the form closed"),
    };
    press(&mut app, KeyCode::Enter);
    assert!(
        form_error(&app).contains("answer y"),
        "{}",
        form_error(&app)
    );
    type_text(&mut app, "y");
    press(&mut app, KeyCode::Enter);
    assert!(form_error(&app).contains("say what you checked"));
    press(&mut app, KeyCode::Up); // to "write #"
    press(&mut app, KeyCode::Backspace);
    type_text(&mut app, "3");
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Tab); // to "note"
    type_text(&mut app, "expiry moved 5 days in Partner Center");
    press(&mut app, KeyCode::Enter);
    assert!(
        form_error(&app).contains("--profile qa"),
        "{}",
        form_error(&app)
    );
    press(&mut app, KeyCode::Tab); // to "write #"
    press(&mut app, KeyCode::Backspace);
    type_text(&mut app, "9");
    press(&mut app, KeyCode::Enter);
    assert_eq!(form_error(&app), "write #9 is not pending");
    press(&mut app, KeyCode::Backspace);
    type_text(&mut app, "5");
    let fx = app.update(Action::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )));
    assert!(fx.is_empty(), "nothing before confirmation");
    snap("resolve_confirm", &app);
    let fx = app.update(Action::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )));
    assert_eq!(
        fx,
        vec![Effect::ResolvePending {
            id: 5,
            applied: true,
            note: "expiry moved 5 days in Partner Center".into()
        }]
    );
    app.update(Action::Job(JobEvent::Resolved(Ok(
        "resolved: #5 Extend subscription 5e6f7a8b · applied (done)".into(),
    ))));
    assert!(
        app.toast
            .as_deref()
            .unwrap_or("")
            .starts_with("resolved: #5")
    );

    // Esc in the form changes nothing.
    app.run_command(Command::ResolvePending);
    app.update(Action::Job(JobEvent::Pending(Ok(lines.clone()))));
    assert!(matches!(app.overlay, Some(Overlay::Resolve(_))));
    assert!(
        app.update(Action::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)))
            .is_empty()
    );
    assert!(app.overlay.is_none());

    // A write replay could settle is not offered; typed in, the dialog
    // says to prefer :replay.
    app.run_command(Command::ResolvePending);
    app.update(Action::Job(JobEvent::Pending(Ok(vec![lines[1].clone()]))));
    let Some(Overlay::Resolve(form)) = &app.overlay else {
        panic!("no form")
    };
    assert_eq!(form.value(0), "");
    type_text(&mut app, "4");
    press(&mut app, KeyCode::Tab);
    type_text(&mut app, "n");
    press(&mut app, KeyCode::Tab);
    type_text(&mut app, "never reached the Store");
    press(&mut app, KeyCode::Enter);
    let text = render_text(&app, 200, 50);
    assert!(text.contains("this write CAN be replayed"), "{text}");
    // Esc there: nothing changed (not "nothing was sent": nothing is sent).
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.toast.as_deref(), Some("cancelled: nothing changed"));

    // A key pasted into the note is shown by fingerprint only.
    app.run_command(Command::ResolvePending);
    app.update(Action::Job(JobEvent::Pending(Ok(lines.clone()))));
    type_text(&mut app, "y");
    press(&mut app, KeyCode::Tab);
    let key = key_issued("collections", 0);
    app.update(Action::Paste(format!("checked {key}")));
    press(&mut app, KeyCode::Enter);
    let text = render_text(&app, 200, 50);
    assert!(text.contains("note: checked <token "), "{text}");
    assert!(!text.contains(&key));
    press(&mut app, KeyCode::Esc);

    // The form never takes over a window opened while the list was read.
    app.run_command(Command::ResolvePending);
    app.run_command(Command::Palette);
    app.update(Action::Job(JobEvent::Pending(Ok(lines.clone()))));
    assert!(matches!(app.overlay, Some(Overlay::Palette(_))));
    assert!(
        app.toast
            .as_deref()
            .unwrap_or("")
            .contains("run :resolve again")
    );
}

#[test]
fn read_only_profile_hides_writes_in_the_palette_and_says_why() {
    let mut app = test_app(Environment::Retail);
    app.session.read_only_reason =
        Some("profile \"retail\" is read-only: start with --allow-writes".into());
    connected(&mut app);
    press(&mut app, KeyCode::Char(':'));
    for c in "cons".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    let text = render_text(&app, 80, 24);
    assert!(!text.contains(" consume "), "{text}");
    assert!(text.contains("write actions hidden"), "{text}");
    snap("palette_read_only", &app);
}

#[test]
fn consume_asks_the_quantity_then_confirms_the_exact_request() {
    let mut app = entitlements_app(|_| {});
    app.panes.entitlements.set_filter(
        &mut app.panes.case,
        crate::browse::Filter {
            text: "COIN0500".into(),
            ..Default::default()
        },
    );
    let fx = app.run_command(Command::Consume);
    assert!(fx.is_empty(), "nothing is sent before confirmation");
    assert!(app.panes.entitlements.form().is_some());
    // 5 is more than the balance of 3: refused in the form.
    press(&mut app, KeyCode::Backspace);
    press(&mut app, KeyCode::Char('5'));
    press(&mut app, KeyCode::Enter);
    let text = render_text(&app, 80, 24);
    assert!(text.contains("the balance is 3"), "{text}");
    snap("consume_form_refused", &app);
    press(&mut app, KeyCode::Backspace);
    press(&mut app, KeyCode::Char('2'));
    let fx = app.update(Action::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )));
    assert!(crate::tui::collision::sends_nothing(&fx));
    let text = render_text(&app, 200, 50);
    assert!(text.contains("\"removeQuantity\": 2"), "{text}");
    assert!(text.contains("3 → 1"), "{text}");
    snap("consume_confirm", &app);
    let fx = app.update(Action::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )));
    assert_eq!(fx.len(), 1, "confirmed: exactly one write leaves: {fx:?}");
}

#[test]
fn grant_needs_a_purchase_key_and_an_availability_id() {
    let mut app = entitlements_app(|_| {});
    app.panes.entitlements.set_filter(
        &mut app.panes.case,
        crate::browse::Filter {
            text: "DLC00001".into(),
            ..Default::default()
        },
    );
    app.run_command(Command::Grant);
    assert!(
        app.last_error
            .as_deref()
            .unwrap_or("")
            .contains("UserPurchaseId"),
        "{:?}",
        app.last_error
    );
    let iat = now().timestamp() - 86_400;
    app.update(Action::Paste(key_issued("purchase", iat)));
    press(&mut app, KeyCode::Char('2'));
    app.run_command(Command::Grant);
    assert!(
        app.panes.entitlements.form().is_some(),
        "{:?}",
        app.last_error
    );
    snap("grant_form", &app);
    press(&mut app, KeyCode::Enter);
    let text = render_text(&app, 80, 24);
    assert!(text.contains("availabilityId is required"), "{text}");
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Tab);
    for c in "9NSDAV000004".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    press(&mut app, KeyCode::Enter);
    let text = render_text(&app, 200, 50);
    assert!(
        text.contains("\"availabilityId\": \"9NSDAV000004\""),
        "{text}"
    );
    snap("grant_confirm", &app);
}

#[test]
fn targeted_offers_flow_screens() {
    use crate::store::model::TargetedOffer;
    use crate::tui::panes::key::KeyPaneEvent;
    use crate::tui::panes::{PaneEvent, PaneId};
    let mut app = test_app(Environment::Sandbox);
    connected(&mut app);
    press(&mut app, KeyCode::Char('o'));
    snap("offers_token_form", &app);
    app.update(Action::Paste("msa-token-for-the-test".into()));
    let text = render_text(&app, 80, 24);
    assert!(!text.contains("msa-token-for-the-test"), "{text}");
    assert!(text.contains("22 characters, hidden"), "{text}");
    let fx = app.update(Action::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )));
    assert_eq!(fx.len(), 1, "{fx:?}");
    assert!(
        !format!("{fx:?}").contains("msa-token-for-the-test"),
        "Debug masks the token"
    );
    app.update(Action::Job(JobEvent::Pane(
        PaneId::Key,
        PaneEvent::Key(KeyPaneEvent::Offers(Ok(vec![TargetedOffer {
            offers: vec!["9NSDDLC00003".into(), "9NSDCOIN0500".into()],
            tracking_id: "0c6e5b1a-2d3f-4a4b-9c5d-6e7f8a9b0c1d".into(),
        }]))),
    )));
    snap("offers_list", &app);
    press(&mut app, KeyCode::Enter);
    snap("offers_receipt_form", &app);
}

#[test]
fn entitlement_detail_gets_its_orders_from_the_orders_pane_one_query() {
    use crate::store::model::Order;
    use crate::tui::app::Effect;
    use crate::tui::panes::orders::{OrdersEvent, OrdersJob};
    use crate::tui::panes::{PaneEvent, PaneId, PaneJob};
    let mut app = entitlements_app(|_| {});
    let iat = now().timestamp() - 86_400;
    app.update(Action::Paste(key_issued("purchase", iat)));
    press(&mut app, KeyCode::Char('2'));
    app.panes.entitlements.set_filter(
        &mut app.panes.case,
        crate::browse::Filter {
            text: "COIN0500".into(),
            ..Default::default()
        },
    );
    let fx = app.update(Action::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )));
    let loads: Vec<u64> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::Pane(PaneId::Orders, PaneJob::Orders(OrdersJob::Load { load_id, .. })) => {
                Some(*load_id)
            }
            _ => None,
        })
        .collect();
    assert_eq!(loads.len(), 1, "the detail asks the Orders pane: {fx:?}");
    assert!(render_text(&app, 200, 50).contains("Reading orders…"));
    let order: Order = serde_json::from_value(serde_json::json!({
        "orderId": "0b6e1c2a-7777-4a4b-9c5d-6e7f8a9b0c07",
        "orderPurchasedDate": "2026-11-18T10:00:00.0000000+00:00",
        "orderLineItems": [{"lineItemId": "l1", "lineItemState": "Purchased",
            "productId": "9NSDCOIN0500", "quantity": 3, "skuId": "0010"}]
    }))
    .unwrap();
    let fx = app.update(Action::Job(JobEvent::Pane(
        PaneId::Orders,
        PaneEvent::Orders(OrdersEvent::Loaded {
            load_id: loads[0],
            result: Ok(vec![order]),
        }),
    )));
    assert!(fx.is_empty(), "no second orders query: {fx:?}");
    let text = render_text(&app, 200, 50);
    assert!(
        text.contains("0b6e1c2a-7777-4a4b-9c5d-6e7f8a9b0c07"),
        "{text}"
    );
    // Going to the Orders pane costs no new query either.
    let fx = app.update(Action::Key(KeyEvent::new(
        KeyCode::Char('3'),
        KeyModifiers::NONE,
    )));
    assert!(fx.is_empty(), "{fx:?}");
}

#[test]
fn a_key_storedesk_renewed_keeps_the_listing_a_pasted_one_lists_again() {
    use crate::tui::app::Effect;
    use crate::tui::panes::PaneId;
    let mut app = entitlements_app(|_| {});
    let fetches = |fx: &[Effect]| {
        fx.iter()
            .filter(|e| matches!(e, Effect::Pane(PaneId::Entitlements, _)))
            .count()
    };
    // Same user (demo-alice), later iat, but pasted: storedesk did not
    // renew it, and a userId claim proves no customer, so it lists again.
    let iat = now().timestamp() - 3600;
    let old = app
        .panes
        .key
        .collections_token()
        .unwrap_or_default()
        .to_string();
    app.update(Action::Paste(key_issued("collections", iat)));
    let fx = app.update(Action::Key(KeyEvent::new(
        KeyCode::Char('2'),
        KeyModifiers::NONE,
    )));
    assert_eq!(fetches(&fx), 1, "a pasted key is a new case: {fx:?}");
    // What storedesk renewed itself keeps the listing.
    let mut app = entitlements_app(|_| {});
    let renewed = key_issued("collections", iat - 60);
    crate::store::keyinfo::record_renewal(&old, &renewed);
    app.update(Action::Paste(renewed));
    let fx = app.update(Action::Key(KeyEvent::new(
        KeyCode::Char('2'),
        KeyModifiers::NONE,
    )));
    assert_eq!(fetches(&fx), 0, "no new listing for a renewed key: {fx:?}");
    assert_eq!(app.panes.case.listing.data.len(), 12);
    // Another customer's key lists again.
    let bob = ms_key_for("demo-bob", "collections", iat, iat + 30 * 86_400, iat);
    app.update(Action::Paste(bob));
    let fx = app.update(Action::Key(KeyEvent::new(
        KeyCode::Char('2'),
        KeyModifiers::NONE,
    )));
    assert_eq!(fetches(&fx), 1, "a different customer is listed: {fx:?}");
}

/// Filters belong to the case (issue 16.2): the title names every filter
/// and Store-side toggle, and another customer starts with none of them.
#[test]
fn filters_are_shown_and_a_new_customer_starts_without_them() {
    use crate::store::model::ProductKind;
    let mut app = entitlements_app(|_| {});
    let mut f = crate::browse::Filter::default();
    f.toggle_kind(ProductKind::Durable);
    app.panes.entitlements.set_filter(&mut app.panes.case, f);
    press(&mut app, KeyCode::Char('V'));
    press(&mut app, KeyCode::Char('D'));
    let title = app.panes.entitlements.title(&app.panes.case);
    assert!(
        title.starts_with("Durable · Store: valid only · no duplicates — "),
        "{title}"
    );
    snap("entitlements_filters_in_title", &app);
    // Another customer's key, while that listing runs.
    let iat = now().timestamp() - 86_400;
    app.update(Action::Paste(ms_key_for(
        "demo-bob",
        "collections",
        iat,
        iat + 30 * 86_400,
        iat,
    )));
    press(&mut app, KeyCode::Char('2'));
    let p = &app.panes.entitlements;
    assert_eq!(p.validity, crate::store::model::ValidityType::All);
    assert!(!p.exclude_duplicates);
    let title = p.title(&app.panes.case);
    assert!(title.starts_with("All — "), "{title}");
}

/// V and D list again: when that costs more than a fifth of the calls
/// left, the first press says what it costs and only a second one lists.
#[test]
fn a_costly_relist_asks_first() {
    use crate::store::PageProgress;
    use crate::tui::panes::PaneId;
    use crate::tui::panes::entitlements::FetchState;
    let mut app = entitlements_app(|_| {});
    let FetchState::Done(done) = app.panes.case.listing.fetch.clone() else {
        panic!("listed");
    };
    // The same listing, had it left only 10 calls: 3 pages cost > 10 / 5.
    app.panes.case.listing.fetch = FetchState::Done(PageProgress {
        calls_left: Some(done.pages * 5 - 1),
        ..done
    });
    let fx = app.update(Action::Key(KeyEvent::new(
        KeyCode::Char('V'),
        KeyModifiers::NONE,
    )));
    assert!(fx.is_empty(), "nothing listed yet: {fx:?}");
    let toast = app.toast.clone().unwrap_or_default();
    assert!(toast.contains("press V again"), "{toast}");
    assert!(
        toast.contains(&format!("about {} call", done.pages)),
        "{toast}"
    );
    assert_eq!(
        app.panes.entitlements.validity,
        crate::store::model::ValidityType::All
    );
    let fx = app.update(Action::Key(KeyEvent::new(
        KeyCode::Char('V'),
        KeyModifiers::NONE,
    )));
    assert!(
        fx.iter()
            .any(|e| matches!(e, crate::tui::app::Effect::Pane(PaneId::Entitlements, _))),
        "the second press lists: {fx:?}"
    );
    assert_eq!(
        app.panes.entitlements.validity,
        crate::store::model::ValidityType::Valid
    );
}

/// `r` keeps the selected row selected when it comes back, and a refresh
/// that fails gives the whole previous listing back (issue 16.3, 16.10).
#[test]
fn a_refresh_keeps_the_selection_and_a_failed_one_keeps_the_listing() {
    use crate::store::PageProgress;
    use crate::store::model::QueryResponse;
    use crate::tui::panes::entitlements::{EntEvent, FetchError};
    use crate::tui::panes::{PaneEvent, PaneId};
    let fixture: serde_json::Value =
        serde_json::from_str(include_str!("../../tests/fixtures/entitlements/pages.json")).unwrap();
    let pages: Vec<QueryResponse> = fixture["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| serde_json::from_str(&p.to_string()).unwrap())
        .collect();
    let ent = |app: &mut App, ev: EntEvent| {
        app.update(Action::Job(JobEvent::Pane(
            PaneId::Entitlements,
            PaneEvent::Entitlements(ev),
        )))
    };
    let selected_product = |app: &App| {
        let p = &app.panes.entitlements;
        let i = p.selected_row().unwrap();
        let data = &app.panes.case.listing.data;
        data.sym(data.row(i).unwrap().product).to_string()
    };
    let mut app = entitlements_app(|_| {});
    let total = app.panes.case.listing.data.len();
    for _ in 0..4 {
        press(&mut app, KeyCode::Down);
    }
    let chosen = selected_product(&app);
    assert_eq!(app.panes.entitlements.selected, 4);
    press(&mut app, KeyCode::Char('r'));
    ent(
        &mut app,
        EntEvent::Plan {
            fetch_id: 2,
            mode: crate::tui::panes::entitlements::QueryMode::V8 {
                reason: "profile \"sandbox\" lists no product_ids, and v9 needs them".into(),
            },
        },
    );
    let mut progress = PageProgress::default();
    for p in &pages {
        progress.pages += 1;
        progress.items += p.items.len();
        progress.calls_left = Some(95);
        ent(
            &mut app,
            EntEvent::Page {
                fetch_id: 2,
                items: p.items.clone(),
                progress,
            },
        );
    }
    ent(
        &mut app,
        EntEvent::Finished {
            fetch_id: 2,
            result: Ok(progress),
        },
    );
    assert_eq!(selected_product(&app), chosen, "the row stays selected");
    // A refresh that fails after one page: the whole listing comes back.
    press(&mut app, KeyCode::Char('r'));
    ent(
        &mut app,
        EntEvent::Page {
            fetch_id: 3,
            items: pages[0].items.clone(),
            progress: PageProgress {
                pages: 1,
                items: pages[0].items.len(),
                calls_left: Some(90),
            },
        },
    );
    ent(
        &mut app,
        EntEvent::Finished {
            fetch_id: 3,
            result: Err(FetchError::Failed("HTTP 503".into())),
        },
    );
    assert_eq!(app.panes.case.listing.data.len(), total);
    assert_eq!(selected_product(&app), chosen);
    let err = app.last_error.clone().unwrap_or_default();
    assert!(err.contains("previous listing is kept"), "{err}");
    snap("entitlements_refresh_failed", &app);
}

/// `?` at 80×24 scrolls to its real end and no further; G / g jump there
/// and back (issue 16.7).
#[test]
fn help_scrolls_to_its_real_end() {
    let mut app = test_app(Environment::Sandbox);
    connected(&mut app);
    press(&mut app, KeyCode::Char('?'));
    press(&mut app, KeyCode::Char('G'));
    let Some(crate::tui::app::Overlay::Help { scroll: end }) = app.overlay else {
        panic!("help open");
    };
    assert!(end > 0, "the help is longer than 24 rows");
    let last = render_text(&app, 80, 24);
    assert!(
        last.contains("each asks for confirmation"),
        "the last line is on screen:\n{last}"
    );
    snap("help_end", &app);
    for _ in 0..5 {
        press(&mut app, KeyCode::Down);
    }
    assert!(
        matches!(app.overlay, Some(crate::tui::app::Overlay::Help { scroll }) if scroll == end),
        "no scrolling past the end"
    );
    press(&mut app, KeyCode::Char('g'));
    assert!(matches!(
        app.overlay,
        Some(crate::tui::app::Overlay::Help { scroll: 0 })
    ));
}
