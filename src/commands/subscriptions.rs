//! `storedesk subscriptions --key K`: every recurrence of the customer,
//! with the warning the Subscriptions pane shows where the state lags the
//! expiry.

use super::output::{Listing, time};
use super::{Context, ListArgs};
use crate::store::model::StoreTime;
use serde_json::{Map, Value, json};
use std::process::ExitCode;

const LAG: &str = "says Active, but the expiration time has passed: the state can lag";

pub fn run(ctx: &Context, a: &ListArgs) -> ExitCode {
    let key = match super::keyinput::KeyReader::default().required(
        "--key",
        a.key.key.as_deref(),
        a.key.key_file.as_deref(),
    ) {
        Ok(k) => k,
        Err(e) => return super::writes::fail(super::writes::EXIT_USAGE, e),
    };
    let subs = match super::read_with_client(ctx, |client, cancel| {
        let key = key.clone();
        async move { crate::case::load::recurrences(&client, &key, &cancel).await }
    }) {
        Ok(o) => o,
        Err(code) => return code,
    };
    let now = ctx.clock.now();
    let t = |t: &Option<StoreTime>| match t {
        Some(t) if t.is_forever() => "never".to_string(),
        other => time(other.as_ref().map(|t| t.0)),
    };
    let mut lapsed = 0;
    let rows: Vec<Vec<String>> = subs
        .iter()
        .map(|r| {
            let warn = crate::case::lapsed(r, now);
            lapsed += usize::from(warn);
            vec![
                r.id.clone(),
                r.product_id.clone(),
                r.sku_id.clone(),
                r.recurrence_state
                    .as_ref()
                    .map(|s| s.to_string())
                    .unwrap_or_default(),
                if r.auto_renew { "on" } else { "off" }.into(),
                if r.is_trial { "yes" } else { "" }.into(),
                t(&r.start_time),
                t(&r.expiration_time),
                t(&r.expiration_time_with_grace),
                if warn { LAG.into() } else { String::new() },
            ]
        })
        .collect();
    let items = subs
        .iter()
        .map(|r| {
            let mut v = serde_json::to_value(r).unwrap_or(Value::Null);
            if let Value::Object(m) = &mut v {
                m.insert(
                    "warning".into(),
                    json!(crate::case::lapsed(r, now).then_some(LAG)),
                );
            }
            v
        })
        .collect();
    let mut meta = Map::new();
    meta.insert("customer".into(), json!(crate::keys::fingerprint(&key)));
    let mut footer = vec![format!("{} subscription(s)", subs.len())];
    if lapsed > 0 {
        footer.push(format!("⚠ {lapsed} {LAG} — trust the time"));
    }
    let listing = Listing {
        name: "subscriptions",
        header: vec![
            "id",
            "product",
            "sku",
            "state",
            "auto-renew",
            "trial",
            "start",
            "expires",
            "grace until",
            "warning",
        ],
        rows,
        items,
        meta,
        footer,
    };
    super::finish(&listing.render(&a.output))
}
