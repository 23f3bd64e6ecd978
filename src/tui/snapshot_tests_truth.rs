//! Issue 16 ("the screen tells the truth"): screens whose text must never
//! contradict the evidence, at 80×24 and 200×50.

use crate::config::Environment;
use crate::keys::testkit::{other_key, sandbox_header, sandbox_key, sign, store_claims};
use crate::tui::app::{Action, App, Connection, JobEvent};
use crate::tui::render::render_text;
use crate::tui::snapshot_tests::test_app;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{TimeZone, Utc};

const SIZES: [(u16, u16); 2] = [(80, 24), (200, 50)];

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap()
}

fn snap(name: &str, app: &App) {
    for (w, h) in SIZES {
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), render_text(app, w, h));
    }
}

/// Connected to a sandbox whose public key is the test kit's.
fn sandbox_app() -> App {
    let mut app = test_app(Environment::Sandbox);
    app.update(Action::Job(JobEvent::Connected(Connection {
        base_description: "http://127.0.0.1:1/collections".into(),
        client_id: "1d5773695a3b44928227393bfef1e13d".into(),
        sandbox_id: None,
        sandbox_public_key_pem: Some(sandbox_key().public_pem.clone()),
        demo_customers: Vec::new(),
        grantable: Vec::new(),
    })));
    app
}

#[test]
fn a_key_of_another_sandbox_is_not_valid() {
    let mut app = sandbox_app();
    let iat = now().timestamp() - 86_400;
    app.update(Action::Paste(sign(
        &sandbox_header(),
        &store_claims(iat),
        other_key(),
    )));
    let text = render_text(&app, 80, 24);
    assert!(text.contains("SIGNATURE INVALID"), "{text}");
    assert!(!text.contains("Verdict    VALID"), "{text}");
    assert!(
        text.contains("signature invalid   Purchase"),
        "case strip: {text}"
    );
    snap("key_signature_invalid", &app);
}

#[test]
fn an_unsigned_key_is_not_valid() {
    let mut app = sandbox_app();
    let iat = now().timestamp() - 86_400;
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(store_claims(iat).to_string())
    );
    app.update(Action::Paste(unsigned));
    let text = render_text(&app, 80, 24);
    assert!(text.contains("Verdict    UNSIGNED"), "{text}");
    assert!(!text.contains("Verdict    VALID"), "{text}");
    snap("key_unsigned", &app);
}

/// Issue 16 point 6: a customer who owns nothing can still be granted a
/// free product: `:grant` offers the catalog's grantable products and
/// fills in their sku and availabilityId.
#[test]
fn grant_offers_the_catalogs_free_products_when_nothing_is_owned() {
    use crate::sandbox::GrantableProduct;
    use crate::tui::keymap::Command;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let mut app = test_app(Environment::Sandbox);
    app.update(Action::Job(JobEvent::Connected(Connection {
        base_description: "http://127.0.0.1:1/collections".into(),
        client_id: "1a2b3c4d-0000-4000-8000-000000000001".into(),
        sandbox_id: None,
        sandbox_public_key_pem: None,
        demo_customers: Vec::new(),
        grantable: vec![
            GrantableProduct {
                product_id: "9NSDDLC00002".into(),
                sku_id: "0010".into(),
                availability_id: "9NSDAV000004".into(),
                title: "Quest: Free Skin".into(),
                kind: "Durable".into(),
            },
            GrantableProduct {
                product_id: "9NSDFREEGEMS".into(),
                sku_id: "0010".into(),
                availability_id: "9NSDAV000009".into(),
                title: "Daily Gems".into(),
                kind: "UnmanagedConsumable".into(),
            },
        ],
    })));
    let iat = now().timestamp() - 86_400;
    app.update(Action::Paste(crate::tui::snapshot_tests::key_issued(
        "collections",
        iat,
    )));
    app.update(Action::Paste(crate::tui::snapshot_tests::key_issued(
        "purchase", iat,
    )));
    app.run_command(Command::Grant);
    assert_eq!(app.last_error, None, "no dead end");
    let text = render_text(&app, 80, 24);
    assert!(
        text.contains("Quest: Free Skin") && text.contains("Daily Gems"),
        "{text}"
    );
    snap("grant_nothing_owned", &app);
    // The first one is filled in; typing another id takes its sku and
    // availabilityId from the catalog.
    let press = |app: &mut App, c: KeyCode| {
        app.update(Action::Key(KeyEvent::new(c, KeyModifiers::NONE)));
    };
    for _ in 0.."9NSDDLC00002".len() {
        press(&mut app, KeyCode::Backspace);
    }
    for c in "9NSDFREEGEMS".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    press(&mut app, KeyCode::Enter);
    let text = render_text(&app, 200, 50);
    assert!(
        text.contains("\"availabilityId\": \"9NSDAV000009\"")
            && text.contains("\"productId\": \"9NSDFREEGEMS\""),
        "{text}"
    );
}

/// Issue 16 point 5 (console): the entitlement detail names the product
/// once its title is known (looked up after the listing, from the cache or
/// the display catalog).
#[test]
fn the_entitlement_detail_names_the_product() {
    use crate::tui::panes::entitlements::EntEvent;
    use crate::tui::panes::{PaneEvent, PaneId};
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let mut app = crate::tui::snapshot_tests::entitlements_app(|_| {});
    let titles = [(
        "9NSDPASSGM01".to_string(),
        "Nebula (in Contoso Pass)".to_string(),
    )];
    app.update(Action::Job(JobEvent::Pane(
        PaneId::Entitlements,
        PaneEvent::Entitlements(EntEvent::Titles(titles.into_iter().collect())),
    )));
    app.panes.entitlements.set_filter(
        &mut app.panes.case,
        crate::browse::Filter {
            text: "PASSGM".into(),
            ..Default::default()
        },
    );
    app.update(Action::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )));
    let text = render_text(&app, 200, 50);
    assert!(
        text.contains("9NSDPASSGM01 Nebula (in Contoso Pass)"),
        "{text}"
    );
    assert!(
        text.contains("title                 Nebula (in Contoso Pass)"),
        "{text}"
    );
}

/// Issue 15 point 6: the grant form says an UnmanagedConsumable is granted
/// with quantity 1 only, and refuses another quantity before any dialog.
#[test]
fn grant_of_an_unmanaged_consumable_is_quantity_1() {
    use crate::sandbox::GrantableProduct;
    use crate::tui::keymap::Command;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let mut app = test_app(Environment::Sandbox);
    app.update(Action::Job(JobEvent::Connected(Connection {
        base_description: "http://127.0.0.1:1/collections".into(),
        client_id: "1a2b3c4d-0000-4000-8000-000000000001".into(),
        sandbox_id: None,
        sandbox_public_key_pem: None,
        demo_customers: Vec::new(),
        grantable: vec![GrantableProduct {
            product_id: "9NSDFREEGEMS".into(),
            sku_id: "0010".into(),
            availability_id: "9NSDAV000009".into(),
            title: "Daily Gems".into(),
            kind: "UnmanagedConsumable".into(),
        }],
    })));
    let iat = now().timestamp() - 86_400;
    for kind in ["collections", "purchase"] {
        app.update(Action::Paste(crate::tui::snapshot_tests::key_issued(
            kind, iat,
        )));
    }
    app.run_command(Command::Grant);
    let text = render_text(&app, 200, 50);
    assert!(
        text.contains("An UnmanagedConsumable is granted with quantity 1 only."),
        "{text}"
    );
    let press = |app: &mut App, c: KeyCode| {
        app.update(Action::Key(KeyEvent::new(c, KeyModifiers::NONE)));
    };
    for _ in 0..5 {
        press(&mut app, KeyCode::Tab);
    }
    press(&mut app, KeyCode::Backspace);
    press(&mut app, KeyCode::Char('3'));
    press(&mut app, KeyCode::Enter);
    let text = render_text(&app, 200, 50);
    assert!(
        text.contains("quantity 3: an UnmanagedConsumable is granted with quantity 1 only"),
        "{text}"
    );
    assert!(!text.contains("POST /v6.0/purchases/grant"), "{text}");
    // Quantity 1 goes on to the confirmation.
    press(&mut app, KeyCode::Backspace);
    press(&mut app, KeyCode::Char('1'));
    press(&mut app, KeyCode::Enter);
    let text = render_text(&app, 200, 50);
    assert!(
        text.contains("\"productId\": \"9NSDFREEGEMS\"") && text.contains("\"quantity\": 1"),
        "{text}"
    );
}
