//! `storedesk orders --key K`: the customer's orders of the last 90 days,
//! one row per line item, read by the loader the Orders pane uses.

use super::output::{Listing, time};
use super::{Context, OrdersArgs};
use serde_json::{Map, Value, json};
use std::process::ExitCode;

pub fn run(ctx: &Context, a: &OrdersArgs) -> ExitCode {
    let refresh = a.refresh;
    let a = &a.list;
    let key = match super::keyinput::KeyReader::default().required(
        "--key",
        a.key.key.as_deref(),
        a.key.key_file.as_deref(),
    ) {
        Ok(k) => k,
        Err(e) => return super::writes::fail(super::writes::EXIT_USAGE, e),
    };
    let read = match super::read_with_client(ctx, |client, cancel| {
        let key = key.clone();
        async move { crate::case::load::orders_once_a_day(&client, &key, refresh, &cancel).await }
    }) {
        Ok(o) => o,
        Err(code) => return code,
    };
    // The docs ask for one orders query a day per customer: say when
    // this answer was read, and how to read again.
    if read.cached {
        eprintln!(
            "storedesk: {} (the docs ask for one orders query a day per customer; --refresh reads again)",
            crate::case::load::orders_age(read.read_at, ctx.clock.now())
        );
    }
    let orders = read.orders;
    let mut rows = Vec::new();
    for o in &orders {
        for l in &o.order_line_items {
            rows.push(vec![
                time(o.order_purchased_date.as_ref().map(|t| t.0)),
                o.order_id.clone(),
                l.line_item_id.clone(),
                l.product_id.clone(),
                l.sku_id.clone(),
                l.quantity.to_string(),
                l.line_item_state
                    .as_ref()
                    .map(|s| s.to_string())
                    .unwrap_or_default(),
                time(o.order_refunded_date.as_ref().map(|t| t.0)),
            ]);
        }
    }
    let mut meta = Map::new();
    meta.insert("customer".into(), json!(crate::keys::fingerprint(&key)));
    meta.insert("days".into(), json!(90));
    meta.insert("read_at".into(), json!(read.read_at.to_rfc3339()));
    meta.insert("cached".into(), json!(read.cached));
    let listing = Listing {
        name: "orders",
        header: vec![
            "purchased",
            "order",
            "line item",
            "product",
            "sku",
            "qty",
            "state",
            "refunded",
        ],
        footer: vec![format!(
            "{} order(s), {} line item(s), last 90 days",
            orders.len(),
            rows.len()
        )],
        rows,
        items: orders
            .iter()
            .map(|o| serde_json::to_value(o).unwrap_or(Value::Null))
            .collect(),
        meta,
    };
    super::finish(&listing.render(&a.output))
}
