//! Who may drive the control API (`/_sandbox/*`): it mints keys, injects
//! faults and resets state, so it is not open to everything on the machine
//! (another user's process, a web page in a browser).
//!
//! - the sandbox's own control secret, in [`SECRET_HEADER`] (printed by
//!   `storedesk sandbox --json`; a browser cannot add that header to a
//!   cross-origin request without a CORS preflight, which is never granted);
//! - a `Host` naming loopback and this port: a DNS-rebound name is refused;
//! - no cross-site `Origin` / `Sec-Fetch-Site`: simple requests from a page
//!   are refused even before the secret is looked at.

use super::App;
use super::http::ApiError;
use crate::store::model::codes;
use axum::http::{HeaderMap, StatusCode, header};

/// The header that carries the control secret.
pub const SECRET_HEADER: &str = "x-sandbox-secret";

/// Ok when the request may use the control API.
pub fn check(app: &App, headers: &HeaderMap) -> Result<(), ApiError> {
    let forbidden =
        |msg: String| ApiError::new(StatusCode::FORBIDDEN, "Forbidden", "Forbidden", msg);
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if !is_own_host(host, app.port) {
        return Err(forbidden(format!(
            "the control API answers only to a loopback Host with port {} (got {:?})",
            app.port,
            host.chars().take(80).collect::<String>()
        )));
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let own = origin
            .to_str()
            .ok()
            .and_then(|o| o.strip_prefix("http://"))
            .is_some_and(|h| is_own_host(h, app.port));
        if !own {
            return Err(forbidden(
                "cross-origin requests to the control API are refused".into(),
            ));
        }
    }
    if headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("cross-site"))
    {
        return Err(forbidden(
            "cross-site requests to the control API are refused".into(),
        ));
    }
    let given = headers
        .get(SECRET_HEADER)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if !same(given, app.control_secret.as_bytes()) {
        return Err(ApiError::unauthorized(
            codes::UNAUTHORIZED,
            format!(
                "the control API needs the sandbox's control secret in the {SECRET_HEADER} header (`storedesk sandbox --json` prints it as control_secret)"
            ),
        ));
    }
    Ok(())
}

/// `127.0.0.1:P`, `localhost:P` or `[::1]:P` for our port P.
fn is_own_host(host: &str, port: u16) -> bool {
    let Some((name, p)) = host.rsplit_once(':') else {
        return false;
    };
    p.parse::<u16>().ok() == Some(port)
        && matches!(
            name.to_ascii_lowercase().as_str(),
            "127.0.0.1" | "localhost" | "[::1]"
        )
}

/// Constant-time comparison: the secret is not guessed byte by byte.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        assert!(is_own_host("127.0.0.1:8080", 8080));
        assert!(is_own_host("LOCALHOST:8080", 8080));
        assert!(is_own_host("[::1]:8080", 8080));
        assert!(!is_own_host("127.0.0.1:8081", 8080));
        assert!(!is_own_host("127.0.0.1", 8080));
        assert!(!is_own_host("evil.example:8080", 8080));
        assert!(!is_own_host("127.0.0.1.evil.example:8080", 8080));
        assert!(!is_own_host("", 8080));
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abd", b"abc"));
        assert!(!same(b"ab", b"abc"));
        assert!(!same(b"", b"abc"));
    }
}
