//! `GET B/displaycatalog/v7.0/products?bigIds=A,B&market=US&languages=…`:
//! the public display catalog's answer for the sandbox's products, so the
//! client's title lookup runs over HTTP. Written from the public shape
//! (`Products[].ProductId`, `LocalizedProperties[].ProductTitle`), not from
//! the client's types. Unknown ids are left out, as the real one does.

use super::App;
use super::http::{ApiError, ApiResult, ok};
use axum::http::Uri;
use serde_json::{Value, json};

/// The most ids one request may name.
const MAX_IDS: usize = 100;

pub fn products(app: &App, uri: &Uri) -> ApiResult {
    let query = uri.query().unwrap_or_default();
    let ids: Vec<String> = query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .filter(|(k, _)| k.eq_ignore_ascii_case("bigIds"))
        .flat_map(|(_, v)| v.split(',').map(str::to_string).collect::<Vec<_>>())
        .filter(|s| !s.is_empty())
        .collect();
    if ids.is_empty() {
        return Err(ApiError::bad("bigIds is required"));
    }
    if ids.len() > MAX_IDS {
        return Err(ApiError::bad(format!("at most {MAX_IDS} bigIds")));
    }
    let world = app.world();
    let products: Vec<Value> = ids
        .iter()
        .filter_map(|id| world.product(id))
        .map(|p| {
            json!({
                "ProductId": p.product_id,
                "LocalizedProperties": [{ "ProductTitle": p.title, "Language": "en-us" }],
                "ProductKind": p.kind,
            })
        })
        .collect();
    ok(&json!({ "Products": products }))
}
