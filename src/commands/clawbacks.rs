//! `storedesk clawbacks [--key K] [--all-environments]`: the clawback
//! queue, peeked (never emptied), each event with what it means and the
//! journaled consumes it matched. With a key, only the events tied to that
//! customer (by a purchase key's orders, or a consume journaled for the
//! key). Events of another environment (`data.sandboxId` other than the
//! profile's `sbx`, or `RETAIL` without one) are left out unless
//! `--all-environments`, and then labelled.

use super::output::{Listing, time};
use super::{ClawbacksArgs, Context};
use crate::case::clawbacks::{EnvMatch, expected_sandbox_id, match_text, source_label, what_to_do};
use serde_json::{Map, Value, json};
use std::process::ExitCode;

pub fn run(ctx: &Context, a: &ClawbacksArgs) -> ExitCode {
    let key = match super::keyinput::KeyReader::default().main(&a.key) {
        Ok(k) => k,
        Err(e) => return super::writes::fail(super::writes::EXIT_USAGE, e),
    };
    // A purchase key ties events by the customer's orders too.
    let purchase = key.as_ref().filter(|k| {
        let (_, p) = super::keyinput::sort_keys(Some((*k).clone()), None);
        p.is_some()
    });
    // A journal that cannot be opened still lets the queue be listed; each
    // event then says its matches are unknown.
    let journal =
        crate::journal::open(&ctx.journal_location(), ctx.clock.clone()).map_err(|e| e.to_string());
    let read = super::read_with_client(ctx, |client, cancel| {
        let purchase = purchase.cloned();
        async move {
            let journal = journal.as_deref().map_err(String::as_str);
            let peeked = crate::case::load::peek(&client, journal).await?;
            let orders = match purchase {
                // Today's read will do to tie events to orders.
                Some(k) => {
                    crate::case::load::orders_once_a_day(&client, &k, false, &cancel)
                        .await?
                        .orders
                }
                None => Vec::new(),
            };
            Ok((peeked, orders))
        }
    });
    let (peeked, orders) = match read {
        Ok(r) => r,
        Err(code) => return code,
    };
    let fps: Vec<String> = key.iter().map(|k| crate::keys::fingerprint(k)).collect();
    let order_ids: Vec<&str> = orders.iter().map(|o| o.order_id.as_str()).collect();
    let expected = expected_sandbox_id(ctx.config.profile.sbx.as_deref());
    let (mut rows, mut items) = (Vec::new(), Vec::new());
    let (mut hidden, mut untied) = (0, 0);
    let mut shown: Vec<&crate::case::clawbacks::ClawRow> = peeked.rows.iter().collect();
    shown.sort_by_key(|r| std::cmp::Reverse(r.time()));
    for r in shown {
        let env = r.environment(expected);
        if matches!(env, EnvMatch::Other(_)) && !a.all_environments {
            hidden += 1;
            continue;
        }
        if key.is_some() && !r.ties_to(&order_ids, &fps) {
            untied += 1;
            continue;
        }
        let env_label = match &env {
            EnvMatch::Same => expected.to_string(),
            EnvMatch::Other(s) => format!("other: {s}"),
            EnvMatch::Unknown => "unknown".into(),
        };
        let (todo, meaning) = what_to_do(r.state());
        let matched = match_text(&r.matches);
        let (src, state, order, line, product) = match &r.event {
            Ok(e) => (
                source_label(&e.source).to_string(),
                r.state().map(|s| s.to_string()).unwrap_or_default(),
                e.data.order_id.clone(),
                e.data.line_item_id.clone(),
                e.data.product_id.clone(),
            ),
            Err(why) => (
                "undecodable".into(),
                why.clone(),
                String::new(),
                String::new(),
                String::new(),
            ),
        };
        rows.push(vec![
            time(r.time()),
            src,
            state,
            order,
            line,
            product,
            todo.to_string(),
            matched.clone(),
            env_label.clone(),
        ]);
        items.push(json!({
            "message_id": r.message_id,
            "inserted": r.insertion_time,
            "dequeue_count": r.dequeue_count,
            "environment": env_label,
            "what_to_do": meaning,
            "matched": matched,
            "event": match &r.event {
                Ok(e) => serde_json::to_value(e).unwrap_or(Value::Null),
                Err(why) => json!({"error": why}),
            },
        }));
    }
    let mut meta = Map::new();
    meta.insert("in_queue".into(), json!(peeked.rows.len()));
    meta.insert(
        "approximate_queue_length".into(),
        json!(peeked.approx_count),
    );
    meta.insert("environment".into(), json!(expected));
    meta.insert("other_environments_hidden".into(), json!(hidden));
    if let Some(k) = &key {
        meta.insert("customer".into(), json!(crate::keys::fingerprint(k)));
        meta.insert("not_this_customer".into(), json!(untied));
    }
    let mut footer = vec![format!(
        "{} of {} event(s) peeked, not removed ({})",
        rows.len(),
        peeked.rows.len(),
        peeked.queue_length_text(usize::from(crate::case::load::PEEK_MAX))
    )];
    if hidden > 0 {
        footer.push(format!(
            "{hidden} from another environment than {expected} left out (--all-environments shows them)"
        ));
    }
    if key.is_some() && untied > 0 {
        footer.push(format!("{untied} of other customers left out"));
    }
    let listing = Listing {
        name: "events",
        header: vec![
            "time",
            "source",
            "state",
            "order",
            "line item",
            "product",
            "to do",
            "matched",
            "environment",
        ],
        rows,
        items,
        meta,
        footer,
    };
    super::finish(&listing.render(&a.output))
}
