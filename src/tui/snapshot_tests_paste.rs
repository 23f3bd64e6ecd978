//! Issue 15 point 11 in the console: what people paste. A request dump
//! holding the publisher's service token and the customer's key loads the
//! key and says the service token was found too.

use crate::config::Environment;
use crate::tui::app::Action;
use crate::tui::render::render_text;
use crate::tui::snapshot_tests::{connected, key_issued, now, snap, test_app};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

fn service_token() -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(r#"{"typ":"JWT","alg":"RS256","x5t":"abc"}"#),
        URL_SAFE_NO_PAD.encode(
            r#"{"aud":"https://onestore.microsoft.com","iss":"https://sts.windows.net/5f8c1e2a/","appid":"8e6a9b2c","iat":1790000000,"exp":1790003600}"#
        ),
        URL_SAFE_NO_PAD.encode([3u8; 64])
    )
}

#[test]
fn a_request_dump_loads_the_customer_key_and_names_the_service_token() {
    let mut app = test_app(Environment::Sandbox);
    connected(&mut app);
    let key = key_issued("collections", now().timestamp() - 86_400);
    let dump = format!(
        "POST /v9.0/collections/publisherQuery HTTP/1.1\nAuthorization: Bearer {}\n\n{{\"beneficiaries\":[{{\"identityType\":\"b2b\",\"identityValue\":\"{key}\"}}]}}",
        service_token()
    );
    app.update(Action::Paste(dump));
    assert_eq!(app.panes.key.collections_token(), Some(key.as_str()));
    let text = render_text(&app, 200, 50).replace('\n', " ");
    assert!(
        text.contains("a service token (Entra"),
        "the Key pane says so: {text}"
    );
    snap("paste_request_dump_service_token", &app);
}
