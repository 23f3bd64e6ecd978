//! Seed data: `assets/sandbox/*.json` (embedded at build time) turned into a
//! [`World`]. Dates in the seed are relative to the seeding time, ids are
//! derived by hashing, and the generated bulk (the whale) comes from a seeded
//! ChaCha RNG — the same seed time always gives the same world.

use super::SandboxError;
use super::state::{CatalogProduct, Customer, QMsg, Queue, RecurrenceRec, World};
use crate::store::model::{
    AcquisitionType, ClawbackData, ClawbackEvent, ClawbackRecurrenceData, Entitlement,
    EntitlementStatus, EventState, LineItemState, Order, OrderLineItem, ProductKind, Recurrence,
    RecurrenceData, RecurrenceState, RefundType, StoreTime, TargetedOffer, TimeSpan, TrialData,
};
use chrono::{DateTime, TimeDelta, Utc};
use rand::{Rng, SeedableRng};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

const CATALOG: &str = include_str!("../../assets/sandbox/catalog.json");
const CUSTOMERS: &str = include_str!("../../assets/sandbox/customers.json");
const CLAWBACKS: &str = include_str!("../../assets/sandbox/clawbacks.json");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    products: Vec<CatalogProduct>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomersFile {
    customers: Vec<SeedCustomer>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SeedCustomer {
    name: String,
    user_id: String,
    about: String,
    #[serde(default = "one")]
    key_issued_days_ago: i64,
    /// Answers carry the documented quirks (explicit nulls, the other
    /// TimeSpan form, wrapped change answers, `Key`, one 429).
    #[serde(default)]
    quirks: bool,
    #[serde(default)]
    entitlements: Vec<SeedEnt>,
    #[serde(default)]
    generate: Option<Generate>,
    #[serde(default)]
    orders: Vec<SeedOrder>,
    #[serde(default)]
    recurrences: Vec<SeedRecurrence>,
    #[serde(default)]
    offers: Vec<TargetedOffer>,
}

fn one() -> i64 {
    1
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SeedEnt {
    product: String,
    #[serde(default)]
    sku: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default = "active")]
    status: String,
    #[serde(default = "single")]
    acquisition_type: String,
    #[serde(default)]
    acquired: Option<String>,
    #[serde(default)]
    start: Option<String>,
    #[serde(default)]
    end: Option<String>,
    #[serde(default)]
    quantity: Option<i64>,
    #[serde(default)]
    satisfied_by: Vec<String>,
    #[serde(default)]
    trial: Option<SeedTrial>,
    #[serde(default)]
    recurrence_id: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    /// Order id (transactionId); derived when absent.
    #[serde(default)]
    order: Option<String>,
    /// Put this many generated filler items before it (to push it to a later page).
    #[serde(default)]
    filler_before: Option<u32>,
}

fn active() -> String {
    "Active".into()
}
fn single() -> String {
    "Single".into()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SeedTrial {
    is_trial: bool,
    in_trial_period: bool,
    #[serde(default)]
    remaining: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Generate {
    count: u32,
    seed: u64,
    #[serde(default = "hundred")]
    products: u32,
    prefix: String,
}

fn hundred() -> u32 {
    100
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SeedOrder {
    id: String,
    purchased: String,
    #[serde(default)]
    refunded: Option<String>,
    lines: Vec<SeedLine>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SeedLine {
    line_item_id: String,
    product: String,
    #[serde(default)]
    sku: Option<String>,
    quantity: i64,
    #[serde(default = "purchased")]
    state: String,
    #[serde(default)]
    quantity_revoked: Option<bool>,
    /// Already consumed from this line (for consumables).
    #[serde(default)]
    consumed: i64,
}

fn purchased() -> String {
    "Purchased".into()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SeedRecurrence {
    id: String,
    product: String,
    #[serde(default)]
    sku: Option<String>,
    state: String,
    auto_renew: bool,
    start: String,
    expires: String,
    #[serde(default)]
    grace_days: i64,
    #[serde(default)]
    is_trial: bool,
    #[serde(default = "us")]
    market: String,
    #[serde(default = "yes")]
    retail: bool,
    #[serde(default)]
    canceled: Option<String>,
}

fn us() -> String {
    "US".into()
}
fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClawbacksFile {
    events: Vec<SeedEvent>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SeedEvent {
    customer: String,
    order: String,
    line_item_id: String,
    state: String,
    #[serde(default = "refund_source")]
    source: String,
    event_date: String,
    #[serde(default)]
    recurrence: Option<String>,
}

fn refund_source() -> String {
    "/Purchase/Refund".into()
}

/// Build the seeded world at `at`. Errors name the asset and the problem.
pub fn build(at: DateTime<Utc>) -> Result<World, SandboxError> {
    let catalog: CatalogFile = parse("catalog.json", CATALOG)?;
    let customers: CustomersFile = parse("customers.json", CUSTOMERS)?;
    let clawbacks: ClawbacksFile = parse("clawbacks.json", CLAWBACKS)?;
    let mut world = World {
        catalog: catalog.products,
        customers: Vec::new(),
        queue: Queue::default(),
    };
    for sc in customers.customers {
        let c = build_customer(&world, sc, at)?;
        world.customers.push(c);
    }
    for (i, ev) in clawbacks.events.into_iter().enumerate() {
        let msg = build_event(&world, ev, i, at)?;
        world.queue.messages.push(msg);
    }
    Ok(world)
}

fn parse<T: for<'de> Deserialize<'de>>(name: &str, text: &str) -> Result<T, SandboxError> {
    serde_json::from_str(text)
        .map_err(|e| SandboxError::Seed(format!("assets/sandbox/{name}: {e}")))
}

/// `forever`, `now`, `+30d`, `-2h`, `-15m`, or an RFC 3339 time.
pub fn when(spec: &str, at: DateTime<Utc>) -> Result<DateTime<Utc>, SandboxError> {
    let s = spec.trim();
    if s == "forever" {
        return Ok(StoreTime::forever().0);
    }
    if s == "now" {
        return Ok(at);
    }
    if let Some(first) = s.chars().next()
        && (first == '+' || first == '-')
        && s.len() >= 3
    {
        let (num, unit) = s[1..].split_at(s.len() - 2);
        if let Ok(n) = num.parse::<i64>() {
            let d = match unit {
                "d" => TimeDelta::try_days(n),
                "h" => TimeDelta::try_hours(n),
                "m" => TimeDelta::try_minutes(n),
                _ => None,
            };
            if let Some(d) = d {
                return Ok(if first == '-' { at - d } else { at + d });
            }
        }
    }
    StoreTime::parse(s).map(|t| t.0).ok_or_else(|| {
        SandboxError::Seed(format!(
            "bad time {spec:?} (use forever, now, +30d, -2h or RFC 3339)"
        ))
    })
}

/// Deterministic 32-hex id from some parts.
pub fn det_hex(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    let d = h.finalize();
    // Seeding the whale makes tens of thousands of these at every start:
    // a format! per byte showed in the start-up profile.
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(32);
    for b in &d[..16] {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    out
}

/// Deterministic GUID from some parts.
pub fn det_guid(parts: &[&str]) -> String {
    let hex = det_hex(parts);
    format!(
        "{}-{}-4{}-8{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

fn ts(t: DateTime<Utc>) -> Option<StoreTime> {
    Some(StoreTime(t))
}

fn build_customer(
    world: &World,
    sc: SeedCustomer,
    at: DateTime<Utc>,
) -> Result<Customer, SandboxError> {
    let mut c = Customer {
        name: sc.name.clone(),
        user_id: sc.user_id,
        about: sc.about,
        key_issued_days_ago: sc.key_issued_days_ago,
        quirks: sc.quirks,
        ents: Vec::new(),
        next_seq: 0,
        orders: Vec::new(),
        recurrences: Vec::new(),
        consumes: BTreeMap::new(),
        grants: BTreeMap::new(),
        line_consumed: BTreeMap::new(),
        offers: sc.offers,
        claims: BTreeMap::new(),
    };
    let ctx = |m: String| SandboxError::Seed(format!("customer {}: {m}", sc.name));
    let mut filler = 0u32;
    for (i, se) in sc.entitlements.into_iter().enumerate() {
        if let Some(n) = se.filler_before {
            for _ in 0..n {
                filler += 1;
                let e = filler_ent(&sc.name, filler, at);
                c.push_ent(e);
            }
        }
        let product = world.product(&se.product);
        let kind = se
            .kind
            .clone()
            .or_else(|| product.map(|p| p.kind.clone()))
            .ok_or_else(|| {
                ctx(format!(
                    "product {} is not in catalog.json and has no kind",
                    se.product
                ))
            })?;
        let sku = se
            .sku
            .clone()
            .or_else(|| product.map(|p| p.sku_id.clone()))
            .unwrap_or_else(|| "0010".into());
        let idx = i.to_string();
        let acquired =
            when(se.acquired.as_deref().unwrap_or("-30d"), at).map_err(|e| ctx(e.to_string()))?;
        let start =
            when(se.start.as_deref().unwrap_or("-30d"), at).map_err(|e| ctx(e.to_string()))?;
        let end =
            when(se.end.as_deref().unwrap_or("forever"), at).map_err(|e| ctx(e.to_string()))?;
        let trial = match &se.trial {
            None => TrialData::default(),
            Some(t) => TrialData {
                is_trial: t.is_trial,
                is_in_trial_period: t.in_trial_period,
                trial_time_remaining: match &t.remaining {
                    None => None,
                    Some(r) => Some(
                        TimeSpan::parse(r)
                            .ok_or_else(|| ctx(format!("bad trial remaining {r:?}")))?,
                    ),
                },
            },
        };
        let e = Entitlement {
            acquired_date: ts(acquired),
            acquisition_type: Some(AcquisitionType::parse(&se.acquisition_type)),
            end_date: ts(end),
            id: det_hex(&[&sc.name, "ent", &idx]),
            modified_date: ts(acquired.max(start)),
            product_id: se.product.clone(),
            product_kind: Some(ProductKind::parse(&kind)),
            quantity: Some(se.quantity.unwrap_or(1)),
            recurrence_id: se.recurrence_id.clone(),
            recurrence_data: se.recurrence_id.clone().map(|r| RecurrenceData {
                recurrence_id: Some(r),
            }),
            satisfied_by_product_ids: se.satisfied_by,
            sku_id: sku,
            start_date: ts(start),
            status: Some(EntitlementStatus::parse(&se.status)),
            tags: se.tags,
            transaction_id: Some(
                se.order
                    .unwrap_or_else(|| det_guid(&[&sc.name, "order", &idx])),
            ),
            trial_data: Some(trial),
            legacy_product_id: None,
            legacy_offer_instance_id: None,
            local_ticket_reference: Some(String::new()),
            purchased_country: Some("US".into()),
            product_family: Some(family(&kind).into()),
            sharing_source: Some("None".into()),
            dev_offer_id: None,
            raw: None,
            unreadable: None,
        };
        c.push_ent(e);
    }
    if let Some(g) = sc.generate {
        generate(&mut c, &g, at);
    }
    for so in sc.orders {
        let purchased = when(&so.purchased, at).map_err(|e| ctx(e.to_string()))?;
        let refunded = match &so.refunded {
            Some(r) => Some(StoreTime(when(r, at).map_err(|e| ctx(e.to_string()))?)),
            None => None,
        };
        let mut lines = Vec::new();
        for l in so.lines {
            if l.consumed > 0 {
                c.line_consumed
                    .insert(format!("{}/{}", so.id, l.line_item_id), l.consumed);
            }
            let sku = l
                .sku
                .or_else(|| world.product(&l.product).map(|p| p.sku_id.clone()))
                .unwrap_or_else(|| "0010".into());
            let price = world.product(&l.product).map_or(0.0, |p| p.price);
            lines.push(OrderLineItem {
                line_item_id: l.line_item_id,
                line_item_state: Some(LineItemState::parse(&l.state)),
                sku_id: sku,
                was_consumable_quantity_revoked: l.quantity_revoked,
                list_price: Some(price),
                tax_amount: Some(super::purchase::tax(price * l.quantity as f64)),
                currency_code: Some(super::purchase::CURRENCY.into()),
                product_id: l.product,
                quantity: l.quantity,
            });
        }
        c.orders.push(Order {
            order_id: so.id,
            short_order_id: None,
            order_purchased_date: ts(purchased),
            order_refunded_date: refunded,
            total_amount: Some(super::purchase::total(&lines)),
            currency_code: Some(super::purchase::CURRENCY.into()),
            order_line_items: lines,
        });
    }
    for sr in sc.recurrences {
        let start = when(&sr.start, at).map_err(|e| ctx(e.to_string()))?;
        let expires = when(&sr.expires, at).map_err(|e| ctx(e.to_string()))?;
        let canceled = match &sr.canceled {
            Some(s) => Some(StoreTime(when(s, at).map_err(|e| ctx(e.to_string()))?)),
            None => None,
        };
        let sku = sr
            .sku
            .or_else(|| world.product(&sr.product).map(|p| p.sku_id.clone()))
            .unwrap_or_else(|| "0010".into());
        c.recurrences.push(RecurrenceRec {
            retail: sr.retail,
            item: Recurrence {
                auto_renew: sr.auto_renew,
                beneficiary: format!("pub:{}", det_hex(&[&sc.name, "pub"])),
                expiration_time: ts(expires),
                expiration_time_with_grace: ts(expires + TimeDelta::days(sr.grace_days)),
                id: sr.id,
                is_trial: sr.is_trial,
                last_modified: ts(start.max(canceled.map(|c| c.0).unwrap_or(start))),
                market: sr.market,
                product_id: sr.product,
                recurrence_state: Some(RecurrenceState::parse(&sr.state)),
                sku_id: sku,
                start_time: ts(start),
                cancellation_date: canceled,
            },
        });
    }
    Ok(c)
}

fn family(kind: &str) -> &'static str {
    match kind {
        "Game" => "Games",
        "Application" => "Apps",
        "Pass" => "Passes",
        _ => "Durables",
    }
}

fn filler_ent(customer: &str, n: u32, at: DateTime<Utc>) -> Entitlement {
    let idx = n.to_string();
    let start = at - TimeDelta::days(200 + n as i64);
    Entitlement {
        acquired_date: ts(start),
        acquisition_type: Some(AcquisitionType::Single),
        end_date: ts(StoreTime::forever().0),
        id: det_hex(&[customer, "filler", &idx]),
        modified_date: ts(start),
        product_id: format!("9FILLER{n:05}"),
        product_kind: Some(ProductKind::Durable),
        quantity: Some(1),
        sku_id: "0010".into(),
        start_date: ts(start),
        status: Some(EntitlementStatus::Active),
        transaction_id: Some(det_guid(&[customer, "filler-order", &idx])),
        trial_data: Some(TrialData::default()),
        local_ticket_reference: Some(String::new()),
        purchased_country: Some("US".into()),
        product_family: Some("Durables".into()),
        sharing_source: Some("None".into()),
        ..Default::default()
    }
}

/// Bulk entitlements: `products` product ids `<prefix>NNNN`, each owned many
/// times under different SKUs, with a mix of kinds and statuses.
fn generate(c: &mut Customer, g: &Generate, at: DateTime<Utc>) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(g.seed);
    let kinds = [
        ProductKind::Durable,
        ProductKind::Durable,
        ProductKind::Game,
        ProductKind::Application,
        ProductKind::Consumable,
        ProductKind::UnmanagedConsumable,
    ];
    let statuses = [
        EntitlementStatus::Active,
        EntitlementStatus::Active,
        EntitlementStatus::Active,
        EntitlementStatus::Active,
        EntitlementStatus::Revoked,
        EntitlementStatus::Expired,
    ];
    let products = g.products.max(1);
    for n in 0..g.count {
        let p = n % products;
        let copy = n / products;
        let idx = n.to_string();
        let kind = kinds[(p as usize) % kinds.len()].clone();
        let status = statuses[rng.gen_range(0..statuses.len())].clone();
        let start = at - TimeDelta::minutes(rng.gen_range(60..60 * 24 * 700));
        let end = if status == EntitlementStatus::Expired {
            at - TimeDelta::days(1)
        } else {
            StoreTime::forever().0
        };
        let quantity = match kind {
            ProductKind::Consumable => rng.gen_range(0..50),
            _ => 1,
        };
        c.push_ent(Entitlement {
            acquired_date: ts(start),
            acquisition_type: Some(AcquisitionType::Single),
            end_date: ts(end),
            id: det_hex(&[&c.name, "gen", &idx]),
            modified_date: ts(start),
            product_id: format!("{}{:04}", g.prefix, p),
            product_family: Some(family(kind.as_str()).into()),
            product_kind: Some(kind),
            quantity: Some(quantity),
            sku_id: format!("{:04}", copy + 1),
            start_date: ts(start),
            status: Some(status),
            transaction_id: Some(det_guid(&[&c.name, "gen-order", &idx])),
            trial_data: Some(TrialData::default()),
            local_ticket_reference: Some(String::new()),
            purchased_country: Some("US".into()),
            sharing_source: Some("None".into()),
            ..Default::default()
        });
    }
}

fn build_event(
    world: &World,
    ev: SeedEvent,
    i: usize,
    at: DateTime<Utc>,
) -> Result<QMsg, SandboxError> {
    let err = |m: String| SandboxError::Seed(format!("clawbacks.json event {i}: {m}"));
    let c = world
        .customers
        .iter()
        .find(|c| c.name == ev.customer)
        .ok_or_else(|| err(format!("no customer {:?}", ev.customer)))?;
    let order = c
        .orders
        .iter()
        .find(|o| o.order_id == ev.order)
        .ok_or_else(|| err(format!("customer {} has no order {}", c.name, ev.order)))?;
    let line = order
        .order_line_items
        .iter()
        .find(|l| l.line_item_id == ev.line_item_id)
        .ok_or_else(|| {
            err(format!(
                "order {} has no line {}",
                ev.order, ev.line_item_id
            ))
        })?;
    let event_date = when(&ev.event_date, at).map_err(|e| err(e.to_string()))?;
    let kind = world
        .product(&line.product_id)
        .map(|p| ProductKind::parse(&p.kind));
    let idx = i.to_string();
    let recurrence_data = ev.recurrence.as_ref().map(|r| ClawbackRecurrenceData {
        recurrence_id: r.clone(),
        duration_interval_start: order.order_purchased_date,
        duration_in_days: Some(30),
        consumed_duration_in_days: Some(12),
        refund_type: Some(RefundType::Partial),
    });
    let event = ClawbackEvent {
        id: det_guid(&["event", &idx]),
        source: ev.source,
        event_type: "ClawbackEventContractV2".into(),
        time: ts(event_date),
        specversion: "1.0".into(),
        datacontenttype: "application/json".into(),
        subject: format!("/orders/{}/lineItems/{}", order.order_id, line.line_item_id),
        traceparent: format!(
            "00-{}-{}-01",
            det_hex(&["trace", &idx]),
            &det_hex(&["span", &idx])[..16]
        ),
        data: ClawbackData {
            line_item_id: line.line_item_id.clone(),
            order_id: order.order_id.clone(),
            product_id: line.product_id.clone(),
            product_type: kind,
            purchased_date: order.order_purchased_date,
            event_date: ts(event_date),
            sandbox_id: Some("RETAIL".into()),
            event_state: Some(EventState::parse(&ev.state)),
            sku_id: line.sku_id.clone(),
            recurrence_data,
        },
    };
    Ok(QMsg {
        id: det_guid(&["message", &idx]),
        inserted: event_date,
        expires: event_date + TimeDelta::days(90),
        visible_at: event_date,
        pop_receipt: None,
        dequeue_count: 0,
        text: event.to_message_text(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table-driven hex is the `{:02x}` text the seeded ids always had
    /// (saved sandbox states and snapshots depend on it).
    #[test]
    fn det_hex_is_lower_hex_of_the_digest() {
        use sha2::Digest as _;
        for parts in [&["a"][..], &["whale", "42", "9NSDDLC00001"], &[]] {
            let mut h = Sha256::new();
            for p in parts {
                h.update(p.as_bytes());
                h.update([0]);
            }
            let d = h.finalize();
            let want: String = d[..16].iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(det_hex(parts), want);
        }
    }

    #[test]
    fn seed_is_deterministic_and_covers_the_cases() {
        let at = DateTime::parse_from_rfc3339("2026-11-23T10:00:00Z")
            .unwrap()
            .to_utc();
        let a = build(at).unwrap();
        let b = build(at).unwrap();
        assert!(a.customers.len() >= 8);
        let whale = a.customers.iter().find(|c| c.name == "wally").unwrap();
        assert_eq!(whale.ents.len(), 10_000);
        let json = |w: &World| serde_json::to_string(&w.customers).unwrap();
        assert_eq!(json(&a), json(&b));
        let all: Vec<&Entitlement> = a
            .customers
            .iter()
            .flat_map(|c| c.ents.iter().map(|e| &e.item))
            .collect();
        for k in ProductKind::KNOWN {
            assert!(
                all.iter()
                    .any(|e| e.product_kind.as_ref().map(|x| x.as_str()) == Some(k)),
                "kind {k}"
            );
        }
        for s in EntitlementStatus::KNOWN {
            assert!(
                all.iter()
                    .any(|e| e.status.as_ref().map(|x| x.as_str()) == Some(s)),
                "status {s}"
            );
        }
        for t in AcquisitionType::KNOWN {
            assert!(
                all.iter()
                    .any(|e| e.acquisition_type.as_ref().map(|x| x.as_str()) == Some(t)),
                "acq {t}"
            );
        }
        let states: Vec<_> = a
            .customers
            .iter()
            .flat_map(|c| &c.recurrences)
            .filter_map(|r| r.item.recurrence_state.clone())
            .collect();
        for s in RecurrenceState::KNOWN {
            assert!(states.iter().any(|x| x.as_str() == *s), "recurrence {s}");
        }
        let events: Vec<_> = a
            .queue
            .messages
            .iter()
            .map(|m| {
                ClawbackEvent::from_message_text(&m.text)
                    .unwrap()
                    .data
                    .event_state
                    .unwrap()
            })
            .collect();
        for s in EventState::KNOWN {
            assert!(events.iter().any(|x| x.as_str() == *s), "event {s}");
        }
    }

    #[test]
    fn relative_times() {
        let at = DateTime::parse_from_rfc3339("2026-11-23T10:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(when("-2d", at).unwrap(), at - TimeDelta::days(2));
        assert_eq!(when("+90m", at).unwrap(), at + TimeDelta::minutes(90));
        assert!(when("forever", at).unwrap() > at);
        assert!(when("soon", at).is_err());
    }
}
