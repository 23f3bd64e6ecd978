//! Proxies from the environment, never for loopback: the embedded sandbox
//! (and a local `storedesk sandbox`) is reached directly, so its client
//! secret and keys never cross a proxy the environment names.
//!
//! reqwest's own environment proxy has no loopback exception, so the
//! environment is read here: `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`
//! (upper or lower case) and `NO_PROXY`, with 127.0.0.0/8, ::1 and
//! localhost always added to the no-proxy list.

use reqwest::{ClientBuilder, NoProxy, Proxy};

/// Always bypassed, whatever `NO_PROXY` says.
pub const LOOPBACK: &str = "127.0.0.0/8,::1,localhost";

fn env(names: [&str; 2]) -> Option<String> {
    names
        .iter()
        .filter_map(|n| std::env::var(n).ok())
        .find(|v| !v.trim().is_empty())
}

/// `builder` with the environment's proxies, loopback excepted.
pub fn configure(builder: ClientBuilder) -> ClientBuilder {
    let extra = env(["NO_PROXY", "no_proxy"]).unwrap_or_default();
    let no_proxy = || NoProxy::from_string(&format!("{LOOPBACK},{extra}"));
    // No system proxy: only what is added below.
    let mut builder = builder.no_proxy();
    type Make = fn(String) -> reqwest::Result<Proxy>;
    let wanted: [(&str, Option<String>, Make); 3] = [
        ("HTTP_PROXY", env(["HTTP_PROXY", "http_proxy"]), |u| {
            Proxy::http(u)
        }),
        ("HTTPS_PROXY", env(["HTTPS_PROXY", "https_proxy"]), |u| {
            Proxy::https(u)
        }),
        ("ALL_PROXY", env(["ALL_PROXY", "all_proxy"]), |u| {
            Proxy::all(u)
        }),
    ];
    for (var, value, make) in wanted {
        let Some(url) = value else { continue };
        match make(url) {
            Ok(p) => builder = builder.proxy(p.no_proxy(no_proxy())),
            // The value may hold proxy credentials: the variable's name only.
            Err(_) => tracing::warn!(var, "proxy setting is not a URL; ignored"),
        }
    }
    builder
}
