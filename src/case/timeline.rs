//! The case's Timeline: one time-ordered list of everything read for the
//! case — entitlements, orders, subscriptions, the clawback events tied to
//! the customer and this data dir's audit entries for the case's keys — and
//! one line per source saying whether it is in. A pure function of a
//! [`Case`]: the console's Timeline pane and headless commands share it.

use super::clawbacks::{match_text, source_label, what_to_do};
use super::{Case, Part};
use crate::browse::data::NONE;
use crate::journal::AuditEntry;
use chrono::{DateTime, Utc};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    Entitlements,
    Orders,
    Subscriptions,
    Clawbacks,
    Audit,
}

impl Source {
    pub fn label(self) -> &'static str {
        match self {
            Source::Entitlements => "owned",
            Source::Orders => "order",
            Source::Subscriptions => "subscription",
            Source::Clawbacks => "clawback",
            Source::Audit => "audit",
        }
    }
}

/// One moment of the case.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub at: DateTime<Utc>,
    pub source: Source,
    pub what: String,
    pub detail: String,
}

impl Entry {
    /// What kind of moment it is, the word `timeline --type` takes:
    /// `owned`, `order`, `refund`, `subscription`, `clawback`, or for an
    /// audit entry its action (`consume`, `grant`, `renew_key`, …).
    pub fn kind(&self) -> &str {
        match self.source {
            Source::Orders if self.what.starts_with("refunded") => "refund",
            Source::Audit => self.what.split(' ').next().unwrap_or("audit"),
            s => s.label(),
        }
    }
}

/// The merged list, newest first, and per source: whether it is in, and
/// a line saying so (or why not).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Timeline {
    pub entries: Vec<Entry>,
    pub sources: Vec<(Source, bool, String)>,
}

/// Merge every source of `case` that was read, newest first.
pub fn build(case: &Case, now: DateTime<Utc>) -> Timeline {
    let mut entries = Vec::new();
    let fps = case.fingerprints();
    let sources = vec![
        entitlements(case, &mut entries),
        orders(case, &mut entries),
        subscriptions(case, now, &mut entries),
        clawbacks(case, &fps, &mut entries),
        audit(case, &fps, &mut entries),
    ];
    entries.sort_by(|a, b| b.at.cmp(&a.at).then(a.source.cmp(&b.source)));
    Timeline { entries, sources }
}

fn at(secs: i64) -> Option<DateTime<Utc>> {
    if secs == NONE || secs >= crate::browse::column::FOREVER {
        return None;
    }
    DateTime::from_timestamp(secs, 0)
}

fn or_none<'a>(s: &'a str, none: &'a str) -> &'a str {
    if s.is_empty() { none } else { s }
}

fn entitlements(c: &Case, out: &mut Vec<Entry>) -> (Source, bool, String) {
    let src = Source::Entitlements;
    if c.collections_key.is_none() {
        return (src, false, "entitlements: no collections key".into());
    }
    if let Some(d) = c.entitlements.data() {
        for r in d.rows() {
            let product = d.sym(r.product);
            let status = or_none(d.sym(r.status), "no status");
            if let Some(t) = at(r.acquired) {
                out.push(Entry {
                    at: t,
                    source: src,
                    what: format!("acquired {product}"),
                    detail: format!(
                        "{} · {} · {status}",
                        or_none(d.sym(r.kind), "no kind"),
                        d.sym(r.acquisition),
                    ),
                });
            }
            if let Some(t) = at(r.modified)
                && r.modified != r.acquired
            {
                out.push(Entry {
                    at: t,
                    source: src,
                    what: format!("modified {product}"),
                    detail: format!("now {status}"),
                });
            }
        }
    }
    let n = c.entitlements.data().map_or(0, |d| d.len());
    match &c.entitlements {
        Part::NotRead(why) => (src, false, format!("entitlements: {why}")),
        Part::Reading(_) => (src, false, format!("entitlements: listing… {n} so far")),
        Part::Failed { why, .. } => (
            src,
            n > 0,
            format!("entitlements: {n}, listing failed ({why})"),
        ),
        Part::Cancelled(_) => (src, n > 0, format!("entitlements: {n}, listing cancelled")),
        Part::Read(_) => (src, true, format!("entitlements {n}")),
    }
}

/// The status line of a part that is not (yet) in: `None` once read.
fn not_in<T>(name: &str, part: &Part<T>, reading: &str) -> Option<String> {
    match part {
        Part::NotRead(why) => Some(format!("{name}: {why}")),
        Part::Reading(_) => Some(format!("{name}: {reading}")),
        Part::Failed { why, .. } => Some(format!("{name}: failed ({why})")),
        Part::Cancelled(_) => Some(format!("{name}: cancelled")),
        Part::Read(_) => None,
    }
}

fn orders(c: &Case, out: &mut Vec<Entry>) -> (Source, bool, String) {
    let src = Source::Orders;
    if c.purchase_key.is_none() {
        return (src, false, "orders: no purchase key".into());
    }
    if let Some(line) = not_in("orders", &c.orders, "reading…") {
        return (src, false, line);
    }
    let data = c.orders();
    for o in data {
        let lines = o
            .order_line_items
            .iter()
            .map(|l| format!("{} × {}", l.quantity, l.product_id))
            .collect::<Vec<_>>()
            .join(", ");
        if let Some(t) = &o.order_purchased_date {
            out.push(Entry {
                at: t.0,
                source: src,
                what: format!("purchased {lines}"),
                detail: format!("order {}", o.order_id),
            });
        }
        if let Some(t) = &o.order_refunded_date {
            let states = o
                .order_line_items
                .iter()
                .filter_map(|l| l.line_item_state.as_ref().map(|s| s.to_string()))
                .collect::<Vec<_>>()
                .join(", ");
            out.push(Entry {
                at: t.0,
                source: src,
                what: format!("refunded {lines}"),
                detail: format!("order {} · {states}", o.order_id),
            });
        }
    }
    (src, true, format!("orders {} (90 days)", data.len()))
}

fn subscriptions(c: &Case, now: DateTime<Utc>, out: &mut Vec<Entry>) -> (Source, bool, String) {
    let src = Source::Subscriptions;
    if c.purchase_key.is_none() {
        return (src, false, "subscriptions: no purchase key".into());
    }
    if let Some(line) = not_in("subscriptions", &c.subscriptions, "reading…") {
        return (src, false, line);
    }
    let data = c.subscriptions.data().map_or(&[][..], Vec::as_slice);
    for r in data {
        let state = r
            .recurrence_state
            .as_ref()
            .map(|s| s.to_string())
            .unwrap_or_else(|| "no state".into());
        let detail = format!("now {state} · {}", r.id);
        if let Some(t) = &r.start_time {
            out.push(Entry {
                at: t.0,
                source: src,
                what: format!("started {}", r.product_id),
                detail: detail.clone(),
            });
        }
        if let Some(t) = &r.expiration_time
            && !t.is_forever()
        {
            out.push(Entry {
                at: t.0,
                source: src,
                what: format!(
                    "{} {}",
                    if t.0 > now { "expires" } else { "expired" },
                    r.product_id
                ),
                detail: detail.clone(),
            });
        }
        if let Some(t) = &r.cancellation_date {
            out.push(Entry {
                at: t.0,
                source: src,
                what: format!("canceled {}", r.product_id),
                detail: detail.clone(),
            });
        }
    }
    (src, true, format!("subscriptions {}", data.len()))
}

/// Queue events tied to this case: their order is one of the customer's
/// read orders, or the journal matched them to a consume of a case key.
fn clawbacks(c: &Case, fps: &[String], out: &mut Vec<Entry>) -> (Source, bool, String) {
    let src = Source::Clawbacks;
    let order_ids: Vec<&str> = c.orders().iter().map(|o| o.order_id.as_str()).collect();
    if let Some(line) = not_in("clawbacks", &c.clawbacks, "peeking…") {
        return (src, false, line);
    }
    let rows = c.clawbacks.data().map_or(&[][..], |p| p.rows.as_slice());
    let mut tied = 0;
    for r in rows {
        let Ok(e) = &r.event else { continue };
        if !r.ties_to(&order_ids, fps) {
            continue;
        }
        tied += 1;
        let Some(t) = r.time() else { continue };
        out.push(Entry {
            at: t,
            source: src,
            what: format!(
                "{} {} {}",
                source_label(&e.source).to_lowercase(),
                e.data
                    .event_state
                    .as_ref()
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "—".into()),
                e.data.product_id
            ),
            detail: format!(
                "order {} · {} · {}",
                e.data.order_id,
                what_to_do(r.state()).0,
                match_text(&r.matches)
            ),
        });
    }
    let how = if c.orders.data().is_none() {
        " (by journal only: read Orders (3) to tie by order)"
    } else {
        ""
    };
    (
        src,
        true,
        format!(
            "clawbacks {tied} of {} queue events tie to this case{how}",
            rows.len()
        ),
    )
}

fn audit(c: &Case, fps: &[String], out: &mut Vec<Entry>) -> (Source, bool, String) {
    let src = Source::Audit;
    if fps.is_empty() {
        return (src, false, "audit: no keys in the case".into());
    }
    let data = match &c.audit {
        Part::NotRead(why) => return (src, false, format!("audit: {why}")),
        Part::Reading(_) => return (src, false, "audit: reading…".into()),
        Part::Failed { why, .. } => return (src, false, format!("audit: {why}")),
        Part::Cancelled(_) => return (src, false, "audit: cancelled".into()),
        Part::Read(d) => d,
    };
    let orders = c.orders();
    let mine = |a: &AuditEntry| {
        fps.contains(&a.customer_fp)
            || (a.action == crate::journal::WriteKind::ClawbackAck.as_str()
                && orders
                    .iter()
                    .any(|o| a.request_summary.contains(&o.order_id)))
    };
    let mut n = 0;
    for a in data.iter().filter(|a| mine(a)) {
        n += 1;
        let Some(at) = crate::store::model::StoreTime::parse(&a.at) else {
            continue;
        };
        out.push(Entry {
            at: at.0,
            source: src,
            what: format!("{} {}", a.action, a.event),
            detail: format!(
                "{}{} · by {} ({})",
                a.request_summary,
                a.result
                    .as_deref()
                    .map(|r| format!(" → {r}"))
                    .unwrap_or_default(),
                a.operator,
                a.profile
            ),
        });
    }
    (src, true, format!("audit {n}"))
}
