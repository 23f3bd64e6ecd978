//! The answers the sandbox writes, field by documented field, as JSON built
//! here — not by serializing the client's types — so a name the client
//! reads wrong cannot be written wrong to match it.
//!
//! The sandbox *stores* its world in `store::model` types (that is its
//! database); only the wire is its own. A quirks customer ([`Style::quirks`])
//! gets the documented odd forms Microsoft's services really send.

use crate::store::model::{
    ConsumeResponse, Entitlement, ErrorBody, Order, OrderLineItem, PurchaseOrder, Recurrence,
    StoreTime, TimeSpan,
};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

/// How to write: the documented form, or with the documented quirks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Style {
    pub quirks: bool,
}

/// `2021-08-30T21:53:08.2565331+00:00`: seven fractional digits, `+00:00`.
pub fn date(t: &DateTime<Utc>) -> String {
    let ticks = (t.timestamp_subsec_nanos() / 100).min(9_999_999);
    format!("{}.{ticks:07}+00:00", t.format("%Y-%m-%dT%H:%M:%S"))
}

/// The clawback SAS `expiresOn`: minute precision with `Z` (`2022-12-09T02:13Z`).
pub fn minute_date(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%MZ").to_string()
}

/// .NET TimeSpan text `[d.]hh:mm:ss[.fffffff]` — or, for a quirks customer,
/// the doc table's `DD:HH:MM:SS.MS`.
pub fn timespan(t: &TimeSpan, style: Style) -> String {
    let d = t.0.abs();
    let total = d.num_seconds();
    let (days, rem) = (total / 86_400, total % 86_400);
    let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    let sign = if t.0 < chrono::TimeDelta::zero() {
        "-"
    } else {
        ""
    };
    if style.quirks {
        let ms = d.subsec_nanos() / 1_000_000;
        return format!("{sign}{days:02}:{h:02}:{m:02}:{s:02}.{ms:03}");
    }
    let ticks = d.subsec_nanos() / 100;
    let mut out = sign.to_string();
    if days > 0 {
        out.push_str(&format!("{days}."));
    }
    out.push_str(&format!("{h:02}:{m:02}:{s:02}"));
    if ticks > 0 {
        out.push_str(&format!(".{ticks:07}"));
    }
    out
}

fn opt_date(t: &Option<StoreTime>) -> Value {
    t.as_ref()
        .map_or(Value::Null, |t| Value::String(date(&t.0)))
}

/// Put `value` under `name` when present; a quirks customer gets an
/// explicit `null` for an absent optional field (the official library
/// and the service both write them).
fn put(m: &mut Map<String, Value>, name: &str, value: Value, style: Style) {
    if !value.is_null() || style.quirks {
        m.insert(name.to_string(), value);
    }
}

fn opt_str(s: &Option<String>) -> Value {
    s.as_ref().map_or(Value::Null, |s| Value::String(s.clone()))
}

/// A list the docs mark optional: `[]` written as `null` for a quirks customer.
fn list(v: &[String], style: Style) -> Value {
    if v.is_empty() && style.quirks {
        Value::Null
    } else {
        json!(v)
    }
}

/// One collections item: the v9 fields of seed 001's table, or the v8 set
/// (STORE-API §3) with `recurrenceData{recurrenceId}` instead of `recurrenceId`.
pub fn entitlement(e: &Entitlement, v8: bool, style: Style) -> Value {
    let mut m = Map::new();
    put(&mut m, "acquiredDate", opt_date(&e.acquired_date), style);
    put(
        &mut m,
        "acquisitionType",
        e.acquisition_type
            .as_ref()
            .map_or(Value::Null, |a| json!(a.as_str())),
        style,
    );
    put(&mut m, "endDate", opt_date(&e.end_date), style);
    m.insert("id".into(), json!(e.id));
    put(&mut m, "modifiedDate", opt_date(&e.modified_date), style);
    m.insert("productId".into(), json!(e.product_id));
    put(
        &mut m,
        "productKind",
        e.product_kind
            .as_ref()
            .map_or(Value::Null, |k| json!(k.as_str())),
        style,
    );
    put(
        &mut m,
        "quantity",
        e.quantity.map_or(Value::Null, |q| json!(q)),
        style,
    );
    let recurrence = e.recurrence().map(str::to_string);
    if v8 {
        put(
            &mut m,
            "recurrenceData",
            recurrence.map_or(Value::Null, |r| json!({ "recurrenceId": r })),
            style,
        );
    } else {
        put(&mut m, "recurrenceId", opt_str(&recurrence), style);
    }
    m.insert(
        "satisfiedByProductIds".into(),
        list(&e.satisfied_by_product_ids, style),
    );
    m.insert("skuId".into(), json!(e.sku_id));
    put(&mut m, "startDate", opt_date(&e.start_date), style);
    put(
        &mut m,
        "status",
        e.status.as_ref().map_or(Value::Null, |s| json!(s.as_str())),
        style,
    );
    m.insert("tags".into(), list(&e.tags, style));
    put(&mut m, "transactionId", opt_str(&e.transaction_id), style);
    if let Some(t) = &e.trial_data {
        let mut td = Map::new();
        td.insert("isInTrialPeriod".into(), json!(t.is_in_trial_period));
        td.insert("isTrial".into(), json!(t.is_trial));
        put(
            &mut td,
            "trialTimeRemaining",
            t.trial_time_remaining
                .as_ref()
                .map_or(Value::Null, |r| json!(timespan(r, style))),
            style,
        );
        m.insert("trialData".into(), Value::Object(td));
    }
    if v8 {
        for (name, value) in [
            ("legacyProductId", &e.legacy_product_id),
            ("legacyOfferInstanceId", &e.legacy_offer_instance_id),
            ("localTicketReference", &e.local_ticket_reference),
            ("purchasedCountry", &e.purchased_country),
            ("productFamily", &e.product_family),
            ("sharingSource", &e.sharing_source),
            ("devOfferId", &e.dev_offer_id),
        ] {
            put(&mut m, name, opt_str(value), style);
        }
    }
    Value::Object(m)
}

/// A page of a listing: `{continuationToken?, items}` (a quirks customer's
/// last page says `"continuationToken": null`).
pub fn page(continuation_token: Option<String>, items: Vec<Value>, style: Style) -> Value {
    let mut m = Map::new();
    put(
        &mut m,
        "continuationToken",
        opt_str(&continuation_token),
        style,
    );
    m.insert("items".into(), Value::Array(items));
    Value::Object(m)
}

/// The consume answer (STORE-API §4).
pub fn consume(r: &ConsumeResponse, style: Style) -> Value {
    let mut m = Map::new();
    m.insert("itemId".into(), json!(r.item_id));
    m.insert("productId".into(), json!(r.product_id));
    m.insert("trackingId".into(), json!(r.tracking_id));
    m.insert("newQuantity".into(), json!(r.new_quantity));
    put(
        &mut m,
        "orderTransactions",
        r.order_transactions.as_ref().map_or(Value::Null, |txs| {
            Value::Array(
                txs.iter()
                    .map(|t| {
                        json!({
                            "orderId": t.order_id,
                            "orderLineItemId": t.order_line_item_id,
                            "quantityConsumed": t.quantity_consumed,
                        })
                    })
                    .collect(),
            )
        }),
        style,
    );
    Value::Object(m)
}

fn order_line(l: &OrderLineItem, style: Style) -> Value {
    let mut m = Map::new();
    m.insert("lineItemId".into(), json!(l.line_item_id));
    put(
        &mut m,
        "lineItemState",
        l.line_item_state
            .as_ref()
            .map_or(Value::Null, |s| json!(s.as_str())),
        style,
    );
    m.insert("productId".into(), json!(l.product_id));
    m.insert("quantity".into(), json!(l.quantity));
    m.insert("skuId".into(), json!(l.sku_id));
    put(
        &mut m,
        "wasConsumableQuantityRevoked",
        l.was_consumable_quantity_revoked
            .map_or(Value::Null, Value::Bool),
        style,
    );
    put(
        &mut m,
        "listPrice",
        l.list_price.map_or(Value::Null, |p| json!(p)),
        style,
    );
    put(
        &mut m,
        "taxAmount",
        l.tax_amount.map_or(Value::Null, |p| json!(p)),
        style,
    );
    put(&mut m, "currencyCode", opt_str(&l.currency_code), style);
    Value::Object(m)
}

/// One order of the orders query (STORE-API §5).
pub fn order(o: &Order, lines: &[OrderLineItem], style: Style) -> Value {
    let mut m = Map::new();
    m.insert("orderId".into(), json!(o.order_id));
    put(&mut m, "shortOrderId", opt_str(&o.short_order_id), style);
    put(
        &mut m,
        "orderPurchasedDate",
        opt_date(&o.order_purchased_date),
        style,
    );
    put(
        &mut m,
        "orderRefundedDate",
        opt_date(&o.order_refunded_date),
        style,
    );
    m.insert(
        "orderLineItems".into(),
        Value::Array(lines.iter().map(|l| order_line(l, style)).collect()),
    );
    put(
        &mut m,
        "totalAmount",
        o.total_amount.map_or(Value::Null, |p| json!(p)),
        style,
    );
    put(&mut m, "currencyCode", opt_str(&o.currency_code), style);
    Value::Object(m)
}

/// One subscription (STORE-API §7).
pub fn recurrence(r: &Recurrence, style: Style) -> Value {
    let mut m = Map::new();
    m.insert("autoRenew".into(), json!(r.auto_renew));
    m.insert("beneficiary".into(), json!(r.beneficiary));
    put(
        &mut m,
        "expirationTime",
        opt_date(&r.expiration_time),
        style,
    );
    put(
        &mut m,
        "expirationTimeWithGrace",
        opt_date(&r.expiration_time_with_grace),
        style,
    );
    m.insert("id".into(), json!(r.id));
    m.insert("isTrial".into(), json!(r.is_trial));
    put(&mut m, "lastModified", opt_date(&r.last_modified), style);
    m.insert("market".into(), json!(r.market));
    m.insert("productId".into(), json!(r.product_id));
    put(
        &mut m,
        "recurrenceState",
        r.recurrence_state
            .as_ref()
            .map_or(Value::Null, |s| json!(s.as_str())),
        style,
    );
    m.insert("skuId".into(), json!(r.sku_id));
    put(&mut m, "startTime", opt_date(&r.start_time), style);
    put(
        &mut m,
        "cancellationDate",
        opt_date(&r.cancellation_date),
        style,
    );
    Value::Object(m)
}

/// The recurrence change answer: the updated item, or — the older doc's
/// form, which a quirks customer gets — wrapped as `{items: [item]}`.
pub fn recurrence_change(r: &Recurrence, style: Style) -> Value {
    let item = recurrence(r, style);
    if style.quirks {
        json!({ "items": [item] })
    } else {
        item
    }
}

fn identity(identity_type: &str, identity_value: &str) -> Value {
    json!({ "identityType": identity_type, "identityValue": identity_value })
}

/// The order a grant answers with (STORE-API §8).
pub fn grant(o: &PurchaseOrder, style: Style) -> Value {
    let mut m = Map::new();
    m.insert("orderId".into(), json!(o.order_id));
    put(
        &mut m,
        "orderState",
        o.order_state
            .as_ref()
            .map_or(Value::Null, |s| json!(s.as_str())),
        style,
    );
    put(&mut m, "createdTime", opt_date(&o.created_time), style);
    put(
        &mut m,
        "purchaser",
        o.purchaser.as_ref().map_or(Value::Null, |p| {
            identity(&p.identity_type, &p.identity_value)
        }),
        style,
    );
    put(
        &mut m,
        "clientContext",
        o.client_context
            .as_ref()
            .map_or(Value::Null, |c| json!({ "client": c.client })),
        style,
    );
    put(&mut m, "currencyCode", opt_str(&o.currency_code), style);
    put(&mut m, "market", opt_str(&o.market), style);
    put(&mut m, "language", opt_str(&o.language), style);
    put(
        &mut m,
        "totalAmount",
        o.total_amount.map_or(Value::Null, |p| json!(p)),
        style,
    );
    put(
        &mut m,
        "totalTaxAmount",
        o.total_tax_amount.map_or(Value::Null, |p| json!(p)),
        style,
    );
    let lines = o
        .order_line_items
        .iter()
        .map(|l| {
            let mut lm = Map::new();
            lm.insert("lineItemId".into(), json!(l.line_item_id));
            lm.insert("productId".into(), json!(l.product_id));
            lm.insert("skuId".into(), json!(l.sku_id));
            put(
                &mut lm,
                "productType",
                l.product_type
                    .as_ref()
                    .map_or(Value::Null, |k| json!(k.as_str())),
                style,
            );
            lm.insert("quantity".into(), json!(l.quantity));
            lm.insert("billingState".into(), json!(l.billing_state));
            lm.insert("fulfillmentState".into(), json!(l.fulfillment_state));
            put(
                &mut lm,
                "beneficiary",
                l.beneficiary.as_ref().map_or(Value::Null, |b| {
                    identity(&b.identity_type, &b.identity_value)
                }),
                style,
            );
            put(
                &mut lm,
                "listPrice",
                l.list_price.map_or(Value::Null, |p| json!(p)),
                style,
            );
            put(
                &mut lm,
                "taxAmount",
                l.tax_amount.map_or(Value::Null, |p| json!(p)),
                style,
            );
            put(&mut lm, "currencyCode", opt_str(&l.currency_code), style);
            put(
                &mut lm,
                "availabilityId",
                opt_str(&l.availability_id),
                style,
            );
            Value::Object(lm)
        })
        .collect();
    m.insert("orderLineItems".into(), Value::Array(lines));
    Value::Object(m)
}

/// The renew answer: `{"key": …}`, or the doc's `{"Key": …}` for a quirks
/// customer.
pub fn renewed(key: &str, style: Style) -> Value {
    if style.quirks {
        json!({ "Key": key })
    } else {
        json!({ "key": key })
    }
}

/// The documented error body (STORE-API §0): `{code, message, source, data,
/// details, innererror{code, message, source, data, details}}`.
pub fn error(e: &ErrorBody) -> Value {
    let part = |code: &Option<String>,
                message: &Option<String>,
                source: &Option<String>,
                data: &[Value],
                details: &[Value]| {
        let mut m = Map::new();
        m.insert("code".into(), opt_str(code));
        m.insert("message".into(), opt_str(message));
        m.insert("source".into(), opt_str(source));
        m.insert("data".into(), Value::Array(data.to_vec()));
        m.insert("details".into(), Value::Array(details.to_vec()));
        m
    };
    let mut m = part(&e.code, &e.message, &e.source, &e.data, &e.details);
    if let Some(i) = &e.innererror {
        m.insert(
            "innererror".into(),
            Value::Object(part(&i.code, &i.message, &i.source, &i.data, &i.details)),
        );
    }
    Value::Object(m)
}

/// The clawback SAS answer (STORE-API §6).
pub fn sas_token(expires: &DateTime<Utc>, uri: &str) -> Value {
    json!({ "expiresOn": minute_date(expires), "uri": uri })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    #[test]
    fn dates_and_timespans_are_written_in_the_documented_forms() {
        let t = DateTime::parse_from_rfc3339("2021-08-30T21:53:08.2565331Z")
            .unwrap()
            .to_utc();
        assert_eq!(date(&t), "2021-08-30T21:53:08.2565331+00:00");
        assert_eq!(
            date(&StoreTime::forever().0),
            "9999-12-31T23:59:59.9999999+00:00"
        );
        assert_eq!(minute_date(&t), "2021-08-30T21:53Z");
        let span =
            TimeSpan(TimeDelta::days(3) + TimeDelta::hours(4) + TimeDelta::milliseconds(250));
        assert_eq!(timespan(&span, Style::default()), "3.04:00:00.2500000");
        assert_eq!(timespan(&span, Style { quirks: true }), "03:04:00:00.250");
        // Both forms are what the client's reader takes.
        for s in [
            timespan(&span, Style::default()),
            timespan(&span, Style { quirks: true }),
        ] {
            assert_eq!(TimeSpan::parse(&s), Some(span), "{s}");
        }
    }
}
