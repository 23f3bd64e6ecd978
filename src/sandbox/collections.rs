//! Collections: PublisherQuery (v9), B2bLicensePreview (v8) and consume.

use super::App;
use super::auth::{self, KeyKind};
use super::http::{ApiError, ApiResult, json_body, ok};
use super::state::{ConsumeRecord, Customer, Ent};
use super::wire::answers;
use super::wire::requests::{Beneficiary, ConsumeRequest, ProductSku, QueryRequest, Validity};
use crate::store::model::{
    ConsumeResponse, Entitlement, EntitlementStatus, LineItemState, OrderTransaction, ProductKind,
    StoreTime, codes,
};
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

const DEFAULT_PAGE: i64 = 100;
const MAX_PRODUCT_IDS: usize = 100;

/// Paging position: "items after this seq". Entitlements only ever get
/// larger seqs, so a token stays right while items change between pages.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PageToken {
    after_seq: u64,
}

struct Query<'a> {
    beneficiaries: &'a [Beneficiary],
    product_sku_ids: Option<&'a [ProductSku]>,
    continuation_token: Option<&'a str>,
    max_page_size: Option<i64>,
    exclude_duplicates: bool,
    validity: Validity,
    kinds: Option<Vec<ProductKind>>,
    v8: bool,
    /// v8 `expandSatisfyingItems`: list what a pass or bundle satisfies.
    /// Absent means false, as the service does (the official library
    /// always sends true); v9 always lists them.
    expand_satisfying: bool,
}

pub fn publisher_query(app: &App, h: &HeaderMap, body: &Bytes) -> ApiResult {
    let token = auth::service_token(app, h)?;
    let req = QueryRequest::v9(json_body(h, body)?)?;
    let Some(ids) = req.product_sku_ids.as_deref() else {
        return Err(ApiError::bad(
            "productSkuIds is required for PublisherQuery.",
        ));
    };
    if ids.is_empty() {
        return Err(ApiError::bad(
            "productSkuIds must list at least one product.",
        ));
    }
    run(
        app,
        &token,
        Query {
            beneficiaries: &req.beneficiaries,
            product_sku_ids: Some(ids),
            continuation_token: req.continuation_token.as_deref(),
            max_page_size: req.max_page_size,
            exclude_duplicates: req.exclude_duplicates,
            validity: req.validity,
            kinds: None,
            v8: false,
            expand_satisfying: true,
        },
    )
}

pub fn license_preview(app: &App, h: &HeaderMap, body: &Bytes) -> ApiResult {
    let token = auth::service_token(app, h)?;
    let req = QueryRequest::v8(json_body(h, body)?)?;
    let kinds = match &req.entitlement_filters {
        None => None,
        Some(fs) if fs.is_empty() => None,
        Some(fs) => {
            let mut kinds = Vec::new();
            for f in fs {
                let k = f.rsplit(':').next().unwrap_or("");
                let kind = ProductKind::parse(k);
                if !kind.is_known() {
                    return Err(ApiError::bad(format!(
                        "entitlementFilters: unknown filter {f:?} (use *:Game, *:Application, *:Durable, *:Consumable, *:UnmanagedConsumable, *:Pass)"
                    )));
                }
                kinds.push(kind);
            }
            Some(kinds)
        }
    };
    run(
        app,
        &token,
        Query {
            beneficiaries: &req.beneficiaries,
            product_sku_ids: req.product_sku_ids.as_deref(),
            continuation_token: req.continuation_token.as_deref(),
            max_page_size: req.max_page_size,
            exclude_duplicates: req.exclude_duplicates,
            validity: req.validity,
            kinds,
            v8: true,
            expand_satisfying: req.expand_satisfying_items.unwrap_or(false),
        },
    )
}

fn one_beneficiary(b: &[Beneficiary]) -> Result<&Beneficiary, ApiError> {
    match b {
        [one] if one.identity_type.eq_ignore_ascii_case("b2b") => Ok(one),
        [_] => Err(ApiError::bad("beneficiary identityType must be \"b2b\".")),
        _ => Err(ApiError::bad("beneficiaries must hold exactly one entry.")),
    }
}

fn run(app: &App, token: &auth::ServiceClaims, q: Query<'_>) -> ApiResult {
    let b = one_beneficiary(q.beneficiaries)?;
    let customer = auth::user_key(app, &b.identity_value, KeyKind::Collections, token)?;
    app.rate_check(&customer)?;
    let style = app.style_of(&customer);
    if style.quirks && app.first_quirk_429(&customer) {
        // The documented 429 "with information about when the next request
        // can be made" — sent without it, once per run, as the service can.
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            codes::TOO_MANY_REQUESTS,
            codes::TOO_MANY_REQUESTS,
            "Rate limit: too many requests for this user.",
        ));
    }
    if let Some(ids) = q.product_sku_ids
        && ids.len() > MAX_PRODUCT_IDS
    {
        return Err(ApiError::bad(format!(
            "productSkuIds holds {} entries; at most {MAX_PRODUCT_IDS} are allowed.",
            ids.len()
        )));
    }
    let max = if q.v8 { 100 } else { 200 };
    let page = q.max_page_size.unwrap_or(DEFAULT_PAGE);
    if !(1..=max).contains(&page) {
        return Err(ApiError::bad(format!(
            "maxPageSize must be between 1 and {max}."
        )));
    }
    let after = match q.continuation_token {
        None => 0,
        Some("") => 0,
        Some(t) => {
            serde_json::from_str::<PageToken>(t)
                .map_err(|_| ApiError::bad("continuationToken is not valid."))?
                .after_seq
        }
    };
    let now = app.clock.now();
    let world = app.world();
    let Some(c) = world.customers.iter().find(|c| c.name == customer) else {
        return Err(ApiError::unauthorized(
            codes::AUTHENTICATION_TOKEN_INVALID,
            "Unknown user.",
        ));
    };
    let page = page as usize;
    let mut picked: Vec<&Ent> = Vec::with_capacity(page + 1);
    for e in c.ents.iter().filter(|e| e.seq > after) {
        if matches(&e.item, &q, now) {
            picked.push(e);
            if picked.len() > page {
                break;
            }
        }
    }
    let more = picked.len() > page;
    picked.truncate(page);
    let continuation_token = if more {
        picked
            .last()
            .and_then(|e| serde_json::to_string(&PageToken { after_seq: e.seq }).ok())
    } else {
        None
    };
    let mut items: Vec<&Entitlement> = Vec::with_capacity(picked.len());
    for e in &picked {
        if q.exclude_duplicates
            && let Some(pos) = items
                .iter()
                .position(|i| i.product_id == e.item.product_id && i.sku_id == e.item.sku_id)
        {
            // Within a page keep the active copy; across pages the service
            // leaks duplicates, and so does the sandbox.
            if items[pos].status != Some(EntitlementStatus::Active)
                && e.item.status == Some(EntitlementStatus::Active)
            {
                items[pos] = &e.item;
            }
            continue;
        }
        items.push(&e.item);
    }
    let items = items
        .into_iter()
        .map(|e| answers::entitlement(e, q.v8, style))
        .collect();
    drop(world);
    ok(&answers::page(continuation_token, items, style))
}

fn matches(e: &Entitlement, q: &Query<'_>, now: DateTime<Utc>) -> bool {
    if let Some(ids) = q.product_sku_ids
        && !ids.iter().any(|p| {
            p.product_id.eq_ignore_ascii_case(&e.product_id)
                && p.sku_id
                    .as_deref()
                    .is_none_or(|s| s.is_empty() || s == e.sku_id)
        })
    {
        return false;
    }
    if !q.expand_satisfying && !e.satisfied_by_product_ids.is_empty() {
        return false;
    }
    if let Some(kinds) = &q.kinds
        && !e.product_kind.as_ref().is_some_and(|k| kinds.contains(k))
    {
        return false;
    }
    match q.validity {
        Validity::Valid => is_valid(e, now),
        Validity::Invalid => !is_valid(e, now),
        Validity::All => true,
    }
}

/// Valid = Active and start < now < end.
fn is_valid(e: &Entitlement, now: DateTime<Utc>) -> bool {
    e.status == Some(EntitlementStatus::Active)
        && e.start_date.is_none_or(|s| s.0 < now)
        && e.end_date.is_none_or(|t| now < t.0)
}

pub fn consume(app: &App, h: &HeaderMap, body: &Bytes) -> ApiResult {
    let token = auth::service_token(app, h)?;
    let req = ConsumeRequest::read(json_body(h, body)?)?;
    let b = &req.beneficiary;
    if !b.identity_type.eq_ignore_ascii_case("b2b") {
        return Err(ApiError::bad("beneficiary identityType must be \"b2b\"."));
    }
    let customer = auth::user_key(app, &b.identity_value, KeyKind::Collections, &token)?;
    app.rate_check(&customer)?;
    if uuid::Uuid::parse_str(&req.tracking_id).is_err() {
        return Err(ApiError::bad("trackingId must be a GUID."));
    }
    if let Some(q) = req.remove_quantity
        && q < 1
    {
        return Err(ApiError::bad("removeQuantity must be at least 1."));
    }
    let include = req.include_order_ids;
    let now = app.clock.now();
    let style = app.style_of(&customer);
    app.write_customer(&customer, |c| {
        consume_in(c, &req, include, now).map(|r| answers::consume(&r, style))
    })
}

fn consume_in(
    c: &mut Customer,
    req: &ConsumeRequest,
    include: bool,
    now: DateTime<Utc>,
) -> Result<ConsumeResponse, ApiError> {
    let pos = c.ents.iter().position(|e| {
        e.item.product_id.eq_ignore_ascii_case(&req.product_id)
            && matches!(
                e.item.product_kind,
                Some(ProductKind::Consumable | ProductKind::UnmanagedConsumable)
            )
            && e.item.status == Some(EntitlementStatus::Active)
    });
    if let Some(prev) = c.consumes.get(&req.tracking_id) {
        if !prev.product_id.eq_ignore_ascii_case(&req.product_id)
            || prev.remove_quantity != req.remove_quantity
        {
            return Err(ApiError::bad(
                "trackingId was already used with a different productId or quantity.",
            ));
        }
        // A replay: never deduct twice; answer the same shape with the
        // current balance.
        let mut resp = prev.response.clone();
        resp.new_quantity = pos.and_then(|p| c.ents[p].item.quantity).unwrap_or(0);
        if !include {
            resp.order_transactions = None;
        }
        return Ok(resp);
    }
    let Some(pos) = pos else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            codes::NOT_FOUND,
            codes::NOT_FOUND,
            format!("The user has no consumable {}.", req.product_id),
        ));
    };
    let balance = c.ents[pos].item.quantity.unwrap_or(0);
    let take = match (&c.ents[pos].item.product_kind, req.remove_quantity) {
        (Some(ProductKind::Consumable), Some(q)) => q,
        (Some(ProductKind::Consumable), None) => {
            return Err(ApiError::bad(
                "removeQuantity is required for a store-managed consumable.",
            ));
        }
        (_, Some(_)) => {
            return Err(ApiError::bad(
                "removeQuantity must be omitted for an unmanaged consumable.",
            ));
        }
        // Fulfilling an unmanaged consumable takes the whole quantity.
        (_, None) => balance,
    };
    if take > balance || balance == 0 {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            codes::BAD_REQUEST,
            codes::INSUFFICIENT_BALANCE,
            format!("Insufficient balance: the user has {balance}, the request removes {take}."),
        ));
    }
    let txs = allocate(c, &req.product_id, take);
    let item = &mut c.ents[pos].item;
    item.quantity = Some(balance - take);
    item.modified_date = Some(StoreTime(now));
    let resp = ConsumeResponse {
        item_id: item.id.clone(),
        product_id: item.product_id.clone(),
        tracking_id: req.tracking_id.clone(),
        new_quantity: balance - take,
        order_transactions: Some(txs),
    };
    c.consumes.insert(
        req.tracking_id.clone(),
        ConsumeRecord {
            product_id: req.product_id.clone(),
            remove_quantity: req.remove_quantity,
            response: resp.clone(),
        },
    );
    let mut out = resp;
    if !include {
        out.order_transactions = None;
    }
    Ok(out)
}

/// Take `qty` from the oldest purchased order lines of the product first.
fn allocate(c: &mut Customer, product_id: &str, mut qty: i64) -> Vec<OrderTransaction> {
    let mut orders: Vec<(Option<StoreTime>, String, String, i64)> = Vec::new();
    for o in &c.orders {
        for l in &o.order_line_items {
            if l.product_id.eq_ignore_ascii_case(product_id)
                && l.line_item_state
                    .as_ref()
                    .is_none_or(|s| *s == LineItemState::Purchased)
            {
                orders.push((
                    o.order_purchased_date,
                    o.order_id.clone(),
                    l.line_item_id.clone(),
                    l.quantity,
                ));
            }
        }
    }
    orders.sort_by_key(|o| o.0);
    let mut out = Vec::new();
    for (_, order_id, line_id, quantity) in orders {
        if qty == 0 {
            break;
        }
        let key = format!("{order_id}/{line_id}");
        let used = c.line_consumed.get(&key).copied().unwrap_or(0);
        let left = (quantity - used).max(0);
        let n = left.min(qty);
        if n > 0 {
            c.line_consumed.insert(key, used + n);
            qty -= n;
            out.push(OrderTransaction {
                order_id,
                order_line_item_id: line_id,
                quantity_consumed: n,
            });
        }
    }
    out
}
