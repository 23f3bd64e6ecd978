//! Purchase: orders query, recurrences query and change, grant of free products.

use super::App;
use super::auth::{self, KeyKind};
use super::http::{ApiError, ApiResult, json_body, ok};
use super::seed::det_hex;
use super::state::Customer;
use super::wire::answers;
use super::wire::requests::{
    Change, ChangeRequest, GrantRequest, OrdersRequest, RecurrencesRequest,
};
use crate::store::model::{
    AcquisitionType, ClientContext, Entitlement, EntitlementStatus, Identity, LineItemState, Order,
    OrderLineItem, OrderState, ProductKind, PurchaseLineItem, PurchaseOrder, RecurrenceState,
    StoreTime, TrialData,
};
use axum::body::Bytes;
use axum::http::HeaderMap;
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

const PAGE: usize = 100;

/// The most one grant may add to an unmanaged consumable's balance.
pub const MAX_GRANT_QUANTITY: i64 = 1_000_000;

/// Orders and recurrences are append-only lists, so an index is a stable
/// paging position.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct IndexToken {
    after_index: usize,
}

fn parse_index(t: Option<&str>) -> Result<usize, ApiError> {
    match t {
        None => Ok(0),
        Some("") => Ok(0),
        Some(t) => serde_json::from_str::<IndexToken>(t)
            .map(|t| t.after_index)
            .map_err(|_| ApiError::bad("continuationToken is not valid.")),
    }
}

fn next_token(start: usize, taken: usize, total: usize) -> Option<String> {
    (start + taken < total)
        .then(|| {
            serde_json::to_string(&IndexToken {
                after_index: start + taken,
            })
            .ok()
        })
        .flatten()
}

fn purchase_customer(app: &App, h: &HeaderMap, key: &str) -> Result<String, ApiError> {
    let token = auth::service_token(app, h)?;
    auth::user_key(app, key, KeyKind::Purchase, &token)
}

/// Consumable purchases of the last 90 days.
/// The sandbox sells in one market.
pub const CURRENCY: &str = "USD";

/// Sales tax on a line: a flat 8 %, rounded to cents.
pub fn tax(amount: f64) -> f64 {
    (amount * 0.08 * 100.0).round() / 100.0
}

/// What an order cost: every line's price × quantity plus its tax, in cents.
pub fn total(lines: &[OrderLineItem]) -> f64 {
    let sum: f64 = lines
        .iter()
        .map(|l| l.list_price.unwrap_or(0.0) * l.quantity as f64 + l.tax_amount.unwrap_or(0.0))
        .sum();
    (sum * 100.0).round() / 100.0
}

pub fn orders(app: &App, h: &HeaderMap, body: &Bytes) -> ApiResult {
    let req = OrdersRequest::read(json_body(h, body)?)?;
    let customer = purchase_customer(app, h, &req.b2b_key)?;
    let style = app.style_of(&customer);
    let start = parse_index(req.continuation_token.as_deref())?;
    let since = app.clock.now() - TimeDelta::days(90);
    let world = app.world();
    let c = world.customer(&customer)?;
    let wanted = |l: &OrderLineItem| {
        req.line_item_state_filter.as_ref().is_none_or(|f| {
            f.is_empty()
                || l.line_item_state
                    .as_ref()
                    .is_some_and(|s| f.iter().any(|w| w.eq_ignore_ascii_case(s.as_str())))
        })
    };
    let mut items = Vec::new();
    let mut idx = start;
    for o in c.orders.iter().skip(start) {
        if items.len() == PAGE {
            break;
        }
        idx += 1;
        if o.order_purchased_date.is_some_and(|d| d.0 < since) {
            continue;
        }
        let lines: Vec<OrderLineItem> = o
            .order_line_items
            .iter()
            .filter(|l| wanted(l))
            .cloned()
            .collect();
        if lines.is_empty() {
            continue;
        }
        items.push(answers::order(o, &lines, style));
    }
    let continuation_token = next_token(0, idx, c.orders.len());
    ok(&answers::page(continuation_token, items, style))
}

pub fn recurrences(app: &App, h: &HeaderMap, body: &Bytes) -> ApiResult {
    let req = RecurrencesRequest::read(json_body(h, body)?)?;
    let customer = purchase_customer(app, h, &req.b2b_key)?;
    let style = app.style_of(&customer);
    let start = parse_index(req.continuation_token.as_deref())?;
    let world = app.world();
    let c = world.customer(&customer)?;
    let items: Vec<_> = c
        .recurrences
        .iter()
        .skip(start)
        .take(PAGE)
        .map(|r| answers::recurrence(&r.item, style))
        .collect();
    let token = next_token(start, items.len(), c.recurrences.len());
    ok(&answers::page(token, items, style))
}

pub fn recurrence_change(app: &App, id: &str, h: &HeaderMap, body: &Bytes) -> ApiResult {
    let req = ChangeRequest::read(json_body(h, body)?)?;
    let customer = purchase_customer(app, h, &req.b2b_key)?;
    let style = app.style_of(&customer);
    let now = app.clock.now();
    app.write_customer(&customer, |c| {
        change_in(c, id, &req, now).map(|r| answers::recurrence_change(&r, style))
    })
}

fn change_in(
    c: &mut Customer,
    id: &str,
    req: &ChangeRequest,
    now: DateTime<Utc>,
) -> Result<crate::store::model::Recurrence, ApiError> {
    let Some(rec) = c.recurrences.iter_mut().find(|r| r.item.id == id) else {
        return Err(ApiError::not_found(format!(
            "No recurrence {id} for this user."
        )));
    };
    if !rec.retail {
        return Err(ApiError::bad(
            "Requested catalog product data wasn't found.",
        ));
    }
    let r = &mut rec.item;
    let state = r.recurrence_state.clone().unwrap_or(RecurrenceState::None);
    let live = matches!(state, RecurrenceState::Active | RecurrenceState::InDunning);
    match &req.change {
        Change::Cancel => {
            if state != RecurrenceState::Canceled {
                if !live {
                    return Err(ApiError::bad(format!(
                        "A {state} subscription cannot be canceled."
                    )));
                }
                r.recurrence_state = Some(RecurrenceState::Canceled);
                r.auto_renew = false;
                r.cancellation_date = Some(StoreTime(now));
            }
        }
        Change::Extend => {
            let days = req
                .extension_time_in_days
                .ok_or_else(|| ApiError::bad("extensionTimeInDays is required for Extend."))?;
            if !(1..=366).contains(&days) {
                return Err(ApiError::bad(
                    "extensionTimeInDays must be between 1 and 366.",
                ));
            }
            if !live && state != RecurrenceState::Canceled {
                return Err(ApiError::bad(format!(
                    "A {state} subscription cannot be extended."
                )));
            }
            // A stored date near the end of the calendar must not panic the
            // handler: the extension is refused instead.
            let d = TimeDelta::days(days);
            let add = |t: Option<StoreTime>| -> Result<Option<StoreTime>, ApiError> {
                t.map(|t| {
                    t.0.checked_add_signed(d).map(StoreTime).ok_or_else(|| {
                        ApiError::bad("The extension would pass the last representable date.")
                    })
                })
                .transpose()
            };
            let exp = add(r.expiration_time)?;
            let grace = add(r.expiration_time_with_grace)?;
            r.expiration_time = exp;
            r.expiration_time_with_grace = grace;
        }
        Change::Refund => {
            if !live && state != RecurrenceState::Canceled {
                return Err(ApiError::bad(format!(
                    "A {state} subscription cannot be refunded."
                )));
            }
            r.recurrence_state = Some(RecurrenceState::Canceled);
            r.auto_renew = false;
            r.cancellation_date = Some(StoreTime(now));
            r.expiration_time = Some(StoreTime(now));
            r.expiration_time_with_grace = Some(StoreTime(now));
        }
        Change::ToggleAutoRenew => {
            if !r.auto_renew {
                return Err(ApiError::bad(
                    "ToggleAutoRenew can only turn auto-renew off; it is already off.",
                ));
            }
            r.auto_renew = false;
        }
    }
    r.last_modified = Some(StoreTime(now));
    let out = r.clone();
    if req.change == Change::Refund {
        // The refunded subscription's entitlement goes away.
        for e in c.ents.iter_mut() {
            if e.item.recurrence() == Some(id) {
                e.item.status = Some(EntitlementStatus::Revoked);
                e.item.end_date = Some(StoreTime(now));
                e.item.modified_date = Some(StoreTime(now));
            }
        }
    }
    Ok(out)
}

pub fn grant(app: &App, h: &HeaderMap, body: &Bytes) -> ApiResult {
    let req = GrantRequest::read(json_body(h, body)?)?;
    let customer = purchase_customer(app, h, &req.b2b_key)?;
    let style = app.style_of(&customer);
    if uuid::Uuid::parse_str(&req.order_id).is_err() {
        return Err(ApiError::bad("orderId must be a GUID."));
    }
    let (kind, price, availability) = {
        let world = app.world();
        let p = world
            .product(&req.product_id)
            .filter(|p| p.sku_id == req.sku_id)
            .ok_or_else(|| ApiError::bad("Requested catalog product data wasn't found."))?;
        (
            ProductKind::parse(&p.kind),
            p.price,
            p.availability_id.clone(),
        )
    };
    if !availability.is_empty() && !req.availability_id.eq_ignore_ascii_case(&availability) {
        return Err(ApiError::bad(
            "availabilityId does not match the product's availability.",
        ));
    }
    if price != 0.0 {
        return Err(ApiError::bad(
            "Only free products can be granted; this product has a price.",
        ));
    }
    if !matches!(
        kind,
        ProductKind::Durable | ProductKind::Application | ProductKind::UnmanagedConsumable
    ) {
        return Err(ApiError::bad(format!(
            "Only Durable, Application and UnmanagedConsumable products can be granted, not {kind}."
        )));
    }
    let quantity = req.quantity.unwrap_or(1);
    if quantity < 1 || (kind != ProductKind::UnmanagedConsumable && quantity != 1) {
        return Err(ApiError::bad(
            "quantity must be 1 (or more for an unmanaged consumable).",
        ));
    }
    // Bounded from above too: a balance is an i64 and must never overflow.
    if quantity > MAX_GRANT_QUANTITY {
        return Err(ApiError::bad(format!(
            "quantity must be at most {MAX_GRANT_QUANTITY}."
        )));
    }
    let now = app.clock.now();
    app.write_customer(&customer, |c| {
        grant_in(c, &req, kind, quantity, now).map(|o| answers::grant(&o, style))
    })
}

fn grant_in(
    c: &mut Customer,
    req: &GrantRequest,
    kind: ProductKind,
    quantity: i64,
    now: DateTime<Utc>,
) -> Result<PurchaseOrder, ApiError> {
    if let Some(prev) = c.grants.get(&req.order_id) {
        let same = prev.order_line_items.first().is_some_and(|l| {
            l.product_id.eq_ignore_ascii_case(&req.product_id) && l.quantity == quantity
        });
        if same {
            return Ok(prev.clone());
        }
        return Err(ApiError::bad(
            "orderId was already used for a different grant.",
        ));
    }
    let line_id = det_hex(&[&req.order_id, "line"]);
    let ident = Identity {
        identity_type: "pub".into(),
        identity_value: c.user_id.clone(),
    };
    let order = PurchaseOrder {
        order_id: req.order_id.clone(),
        order_state: Some(OrderState::Purchased),
        created_time: Some(StoreTime(now)),
        purchaser: Some(ident.clone()),
        client_context: Some(ClientContext {
            client: "storedesk-sandbox".into(),
        }),
        currency_code: Some("USD".into()),
        market: Some(req.market.clone()),
        language: Some(req.language.clone()),
        total_amount: Some(0.0),
        total_tax_amount: Some(0.0),
        order_line_items: vec![PurchaseLineItem {
            line_item_id: line_id.clone(),
            product_id: req.product_id.clone(),
            sku_id: req.sku_id.clone(),
            product_type: Some(kind.clone()),
            quantity,
            billing_state: "Charged".into(),
            fulfillment_state: "Fulfilled".into(),
            beneficiary: Some(ident),
            list_price: Some(0.0),
            tax_amount: Some(0.0),
            currency_code: Some("USD".into()),
            availability_id: Some(req.availability_id.clone()),
        }],
    };
    let existing = c.ents.iter_mut().find(|e| {
        e.item.product_id.eq_ignore_ascii_case(&req.product_id)
            && e.item.status == Some(EntitlementStatus::Active)
    });
    match existing {
        Some(e) if kind == ProductKind::UnmanagedConsumable => {
            let Some(sum) = e.item.quantity.unwrap_or(0).checked_add(quantity) else {
                return Err(ApiError::bad("That grant would overflow the balance."));
            };
            e.item.quantity = Some(sum);
            e.item.modified_date = Some(StoreTime(now));
        }
        Some(_) => {}
        None => {
            let id = det_hex(&[&c.name, "grant", &req.order_id]);
            c.push_ent(Entitlement {
                acquired_date: Some(StoreTime(now)),
                acquisition_type: Some(AcquisitionType::Single),
                end_date: Some(StoreTime::forever()),
                id,
                modified_date: Some(StoreTime(now)),
                product_id: req.product_id.clone(),
                product_family: Some(
                    if kind == ProductKind::Application {
                        "Apps"
                    } else {
                        "Durables"
                    }
                    .into(),
                ),
                product_kind: Some(kind.clone()),
                quantity: Some(quantity),
                sku_id: req.sku_id.clone(),
                start_date: Some(StoreTime(now)),
                status: Some(EntitlementStatus::Active),
                transaction_id: Some(req.order_id.clone()),
                trial_data: Some(TrialData::default()),
                local_ticket_reference: Some(String::new()),
                purchased_country: Some(req.market.clone()),
                sharing_source: Some("None".into()),
                ..Default::default()
            });
        }
    }
    if kind == ProductKind::UnmanagedConsumable {
        // Only free products are granted: every amount is zero.
        let lines = vec![OrderLineItem {
            line_item_id: line_id,
            line_item_state: Some(LineItemState::Purchased),
            product_id: req.product_id.clone(),
            quantity,
            sku_id: req.sku_id.clone(),
            was_consumable_quantity_revoked: None,
            list_price: Some(0.0),
            tax_amount: Some(0.0),
            currency_code: Some(CURRENCY.into()),
        }];
        c.orders.push(Order {
            order_id: req.order_id.clone(),
            short_order_id: None,
            order_purchased_date: Some(StoreTime(now)),
            order_refunded_date: None,
            total_amount: Some(total(&lines)),
            currency_code: Some(CURRENCY.into()),
            order_line_items: lines,
        });
    }
    c.grants.insert(req.order_id.clone(), order.clone());
    Ok(order)
}
