//! The case file: what a support ticket keeps of a case — environment,
//! keys (by fingerprint only), an entitlement summary, orders,
//! subscriptions, clawback events, the writes of the audit log and the
//! failed calls with their correlation ids. A pure function of a [`Case`],
//! the time and the environment: the headless `storedesk case` and the
//! console's Timeline pane (`e`) write the same file.
//!
//! [`build`] makes one [`CaseFile`]; [`to_markdown`] renders it for people
//! (GitHub-flavoured tables, UTC times with their age) and [`to_json`] for
//! ticket systems, so both hold the same content. Free text that came off
//! the wire or from an operator is redacted as the audit log is: JWT-shaped
//! runs become fingerprints, SAS signatures are masked.

use super::clawbacks::{EnvMatch, match_text, source_label, what_to_do};
use super::{Case, Part, lapsed};
use crate::browse::column::FOREVER;
use crate::browse::data::NONE;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::fmt::Write as _;

/// How many rows of one list the file shows; the rest are counted. Keeps
/// a 10,000-item customer's file readable.
pub const LIST_MAX: usize = 50;

/// What the file says about where it was made. Plain values: the console
/// and the headless command each fill it from what they know.
#[derive(Clone, Debug, Default)]
pub struct FileEnv {
    /// `SANDBOX` or `RETAIL`.
    pub environment: String,
    pub profile: String,
    pub operator: String,
    /// The Store the profile talks to, in words ("embedded sandbox", a URL).
    pub store: String,
    /// The profile's `sbx`, if any.
    pub sandbox_id: Option<String>,
    /// For the keys' client-id check.
    pub client_id: Option<String>,
    /// For the sandbox keys' signature check.
    pub sandbox_public_key_pem: Option<String>,
    /// `storedesk 0.1.0`.
    pub generator: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileFormat {
    Markdown,
    Json,
}

impl FileFormat {
    pub fn extension(self) -> &'static str {
        match self {
            FileFormat::Markdown => "md",
            FileFormat::Json => "json",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct CaseFile {
    pub generated_at: DateTime<Utc>,
    pub generator: String,
    pub customer: String,
    pub environment: EnvSection,
    pub keys: Vec<KeyLine>,
    pub entitlements: EntSection,
    pub orders: ListSection<OrderLine>,
    pub subscriptions: ListSection<SubLine>,
    pub clawbacks: ClawSection,
    pub writes: ListSection<WriteLine>,
    pub failed_calls: Vec<FailedLine>,
}

#[derive(Clone, Debug, Serialize)]
pub struct EnvSection {
    pub environment: String,
    pub profile: String,
    pub operator: String,
    pub store: String,
    pub sandbox_id: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct KeyLine {
    /// `collections` or `purchase`: the place it holds in the case.
    pub role: String,
    pub fingerprint: String,
    pub kind: String,
    pub verdict: String,
    pub verdict_detail: String,
    pub signature: String,
    pub issued: Option<DateTime<Utc>>,
    pub expires: Option<DateTime<Utc>>,
    pub renew_by: Option<DateTime<Utc>>,
}

/// Whether a part was read whole: `complete`, or what stands instead.
#[derive(Clone, Debug, Serialize)]
pub struct Status {
    pub complete: bool,
    /// "complete", "PARTIAL: …", "not read: …".
    pub text: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct ListSection<T> {
    pub status: Status,
    /// How many there are; `items` holds at most [`LIST_MAX`] of them.
    pub total: usize,
    pub items: Vec<T>,
}

#[derive(Clone, Debug, Serialize)]
pub struct EntSection {
    pub status: Status,
    pub total: usize,
    /// (status, kind, count), most first.
    pub counts: Vec<Count>,
    /// How many items are worth a look, per reason.
    pub notable_counts: Vec<(String, usize)>,
    pub notable_total: usize,
    /// The first [`LIST_MAX`] of them.
    pub notable: Vec<Notable>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Count {
    pub status: String,
    pub kind: String,
    pub count: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct Notable {
    pub product: String,
    pub sku: String,
    pub kind: String,
    pub status: String,
    pub ends: Option<DateTime<Utc>>,
    pub why: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct OrderLine {
    pub order_id: String,
    pub purchased: Option<DateTime<Utc>>,
    pub refunded: Option<DateTime<Utc>>,
    pub line_item_id: String,
    pub product: String,
    pub sku: String,
    pub quantity: i64,
    pub state: String,
    /// The clawback event on this line, if the queue holds one.
    pub clawback: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct SubLine {
    pub id: String,
    pub product: String,
    pub state: String,
    pub auto_renew: bool,
    pub trial: bool,
    pub started: Option<DateTime<Utc>>,
    pub expires: Option<DateTime<Utc>>,
    pub grace_until: Option<DateTime<Utc>>,
    pub warning: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ClawSection {
    pub status: Status,
    /// Events in the peeked queue (any customer).
    pub in_queue: usize,
    /// Of them, from another environment (`sandboxId`).
    pub other_environment: usize,
    pub total: usize,
    pub items: Vec<ClawLine>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ClawLine {
    pub time: Option<DateTime<Utc>>,
    pub source: String,
    pub state: String,
    pub order_id: String,
    pub line_item_id: String,
    pub product: String,
    pub meaning: String,
    pub matched: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct WriteLine {
    pub at: String,
    pub write_id: Option<i64>,
    pub action: String,
    pub event: String,
    pub request: String,
    pub outcome: Option<String>,
    pub http_status: Option<u16>,
    pub operator: String,
    pub correlation: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct FailedLine {
    pub what: String,
    pub message: String,
    pub correlation_ids: Vec<(String, String)>,
}

/// Free text for the file: redacted as the audit log is, plus any SAS
/// signature (`sig=…`) masked.
fn scrub(s: &str) -> String {
    let s = crate::store::error::redact(s, None);
    let mut out = String::with_capacity(s.len());
    let mut rest = s.as_str();
    while let Some(i) = rest.find("sig=") {
        out.push_str(&rest[..i + 4]);
        out.push_str("***");
        let tail = &rest[i + 4..];
        let end = tail.find(['&', ' ', '"', '\'', ')']).unwrap_or(tail.len());
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

fn status_of<T>(part: &Part<T>, missing_key: Option<&str>) -> Status {
    let (complete, text) = match (missing_key, part) {
        (Some(why), _) => (false, format!("not read: {why}")),
        (None, Part::Read(_)) => (true, "complete".to_string()),
        (None, Part::NotRead(why)) => (false, format!("not read: {}", scrub(why))),
        (None, Part::Reading(_)) => (false, "PARTIAL: still being read".into()),
        (None, Part::Failed { why, partial }) => (
            false,
            if partial.is_some() {
                format!("PARTIAL: the read stopped early ({})", scrub(why))
            } else {
                format!("not read: failed ({})", scrub(why))
            },
        ),
        (None, Part::Cancelled(_)) => (false, "PARTIAL: cancelled".into()),
    };
    Status { complete, text }
}

fn at(secs: i64) -> Option<DateTime<Utc>> {
    if secs == NONE || secs >= FOREVER {
        return None;
    }
    DateTime::from_timestamp(secs, 0)
}

/// The customer: the collections key's fingerprint, else the purchase
/// key's (`nokey` for an empty case).
pub fn customer_fp(case: &Case) -> String {
    case.fingerprints()
        .into_iter()
        .next()
        .unwrap_or_else(|| "nokey".into())
}

/// `case-20261123-1000-aeac9eae.md`: by date and customer fingerprint.
pub fn file_name(case: &Case, now: DateTime<Utc>, format: FileFormat) -> String {
    format!(
        "case-{}-{}.{}",
        now.format("%Y%m%d-%H%M%S"),
        customer_fp(case),
        format.extension()
    )
}

/// The file's content, in `format`.
pub fn render(case: &Case, now: DateTime<Utc>, env: &FileEnv, format: FileFormat) -> String {
    let f = build(case, now, env);
    match format {
        FileFormat::Markdown => to_markdown(&f),
        FileFormat::Json => to_json(&f),
    }
}

pub fn build(case: &Case, now: DateTime<Utc>, env: &FileEnv) -> CaseFile {
    CaseFile {
        generated_at: now,
        generator: env.generator.clone(),
        customer: customer_fp(case),
        environment: EnvSection {
            environment: env.environment.clone(),
            profile: env.profile.clone(),
            operator: env.operator.clone(),
            store: env.store.clone(),
            sandbox_id: env.sandbox_id.clone(),
        },
        keys: keys(case, now, env),
        entitlements: entitlements(case, now),
        orders: orders(case),
        subscriptions: subscriptions(case, now),
        clawbacks: clawbacks(case, env),
        writes: writes(case),
        failed_calls: case
            .failed_calls
            .iter()
            .map(|f| FailedLine {
                what: f.what.clone(),
                message: scrub(&f.message),
                correlation_ids: f.correlation_ids.clone(),
            })
            .collect(),
    }
}

fn keys(case: &Case, now: DateTime<Utc>, env: &FileEnv) -> Vec<KeyLine> {
    let ctx = crate::keys::AssessContext {
        now,
        profile_client_id: env.client_id.as_deref(),
        sandbox_public_key_pem: env.sandbox_public_key_pem.as_deref(),
    };
    [
        ("collections", &case.collections_key),
        ("purchase", &case.purchase_key),
    ]
    .into_iter()
    .filter_map(|(role, k)| k.as_deref().map(|k| (role, k)))
    .map(|(role, k)| {
        let fingerprint = crate::keys::fingerprint(k);
        match crate::keys::decode(k) {
            Ok(d) => {
                let a = crate::keys::assess(&d, &ctx);
                KeyLine {
                    role: role.into(),
                    fingerprint,
                    kind: a.kind.as_str().into(),
                    verdict: a.verdict.label().into(),
                    verdict_detail: scrub(&a.verdict_detail),
                    signature: a.signature.describe(),
                    issued: a.issued_at,
                    expires: a.expires_at,
                    renew_by: a.renew_due,
                }
            }
            Err(e) => KeyLine {
                role: role.into(),
                fingerprint,
                kind: "not a key".into(),
                verdict: "undecodable".into(),
                verdict_detail: scrub(&e.to_string()),
                signature: "not checked".into(),
                issued: None,
                expires: None,
                renew_by: None,
            },
        }
    })
    .collect()
}

fn entitlements(case: &Case, now: DateTime<Utc>) -> EntSection {
    let missing = case
        .collections_key
        .is_none()
        .then_some("no collections key in the case");
    let status = status_of(&case.entitlements, missing);
    let mut counts: Vec<Count> = Vec::new();
    let mut reasons: Vec<(String, usize)> = Vec::new();
    let mut notable = Vec::new();
    let mut notable_total = 0;
    let mut total = 0;
    if let (None, Some(d)) = (missing, case.entitlements.data()) {
        total = d.len();
        let now_s = now.timestamp();
        for r in d.rows() {
            let status = match d.sym(r.status) {
                "" => "no status",
                s => s,
            };
            let kind = match d.sym(r.kind) {
                "" => "no kind",
                s => s,
            };
            match counts
                .iter_mut()
                .find(|c| c.status == status && c.kind == kind)
            {
                Some(c) => c.count += 1,
                None => counts.push(Count {
                    status: status.into(),
                    kind: kind.into(),
                    count: 1,
                }),
            }
            let mut why = Vec::new();
            if status == "Revoked" {
                why.push("revoked");
            }
            if status == "Active" && r.end != NONE && r.end < now_s {
                why.push("expired but Active");
            }
            if r.in_trial {
                why.push("in trial");
            }
            if !d.list(r.satisfied_by).is_empty() {
                why.push("satisfied through a pass");
            }
            if r.dup.any() {
                why.push("duplicate");
            }
            if why.is_empty() {
                continue;
            }
            notable_total += 1;
            for w in &why {
                match reasons.iter_mut().find(|(n, _)| n == w) {
                    Some((_, c)) => *c += 1,
                    None => reasons.push(((*w).into(), 1)),
                }
            }
            if notable.len() < LIST_MAX {
                notable.push(Notable {
                    product: d.sym(r.product).into(),
                    sku: d.sym(r.sku).into(),
                    kind: kind.into(),
                    status: status.into(),
                    ends: at(r.end),
                    why: why.into_iter().map(String::from).collect(),
                });
            }
        }
    }
    counts.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then(a.status.cmp(&b.status))
            .then(a.kind.cmp(&b.kind))
    });
    EntSection {
        status,
        total,
        counts,
        notable_counts: reasons,
        notable_total,
        notable,
    }
}

fn clawback_on(case: &Case, order: &str, line: &str) -> Option<String> {
    let rows = case.clawbacks.data()?;
    let r = rows.rows.iter().find(|r| r.ids() == Some((order, line)))?;
    let state = r.state().map(|s| s.to_string()).unwrap_or("—".into());
    Some(format!("{state} ({})", what_to_do(r.state()).0))
}

fn orders(case: &Case) -> ListSection<OrderLine> {
    let missing = case
        .purchase_key
        .is_none()
        .then_some("no purchase key in the case");
    let mut items = Vec::new();
    let mut total = 0;
    if missing.is_none() {
        for o in case.orders() {
            for l in &o.order_line_items {
                total += 1;
                if items.len() >= LIST_MAX {
                    continue;
                }
                items.push(OrderLine {
                    order_id: o.order_id.clone(),
                    purchased: o.order_purchased_date.as_ref().map(|t| t.0),
                    refunded: o.order_refunded_date.as_ref().map(|t| t.0),
                    line_item_id: l.line_item_id.clone(),
                    product: l.product_id.clone(),
                    sku: l.sku_id.clone(),
                    quantity: l.quantity,
                    state: l
                        .line_item_state
                        .as_ref()
                        .map(|s| s.to_string())
                        .unwrap_or("—".into()),
                    clawback: clawback_on(case, &o.order_id, &l.line_item_id),
                });
            }
        }
    }
    ListSection {
        status: status_of(&case.orders, missing),
        total,
        items,
    }
}

fn subscriptions(case: &Case, now: DateTime<Utc>) -> ListSection<SubLine> {
    let missing = case
        .purchase_key
        .is_none()
        .then_some("no purchase key in the case");
    let data = match missing {
        None => case.subscriptions.data().map_or(&[][..], Vec::as_slice),
        Some(_) => &[][..],
    };
    let items = data
        .iter()
        .take(LIST_MAX)
        .map(|r| {
            let forever = |t: &crate::store::model::StoreTime| (!t.is_forever()).then_some(t.0);
            SubLine {
                id: r.id.clone(),
                product: r.product_id.clone(),
                state: r
                    .recurrence_state
                    .as_ref()
                    .map(|s| s.to_string())
                    .unwrap_or("no state".into()),
                auto_renew: r.auto_renew,
                trial: r.is_trial,
                started: r.start_time.as_ref().map(|t| t.0),
                expires: r.expiration_time.as_ref().and_then(forever),
                grace_until: r.expiration_time_with_grace.as_ref().and_then(forever),
                warning: lapsed(r, now).then(|| {
                    "says Active, but the expiration time has passed: the Store's state can lag — trust the time".to_string()
                }),
            }
        })
        .collect();
    ListSection {
        status: status_of(&case.subscriptions, missing),
        total: data.len(),
        items,
    }
}

fn clawbacks(case: &Case, env: &FileEnv) -> ClawSection {
    let fps = case.fingerprints();
    let order_ids: Vec<&str> = case.orders().iter().map(|o| o.order_id.as_str()).collect();
    let expected = super::clawbacks::expected_sandbox_id(env.sandbox_id.as_deref());
    let rows = case.clawbacks.data().map_or(&[][..], |p| p.rows.as_slice());
    let mut items = Vec::new();
    let mut total = 0;
    let mut other = 0;
    for r in rows {
        if let EnvMatch::Other(_) = r.environment(expected) {
            other += 1;
            continue;
        }
        if !r.ties_to(&order_ids, &fps) {
            continue;
        }
        total += 1;
        let Ok(e) = &r.event else { continue };
        if items.len() < LIST_MAX {
            items.push(ClawLine {
                time: r.time(),
                source: source_label(&e.source).to_string(),
                state: r.state().map(|s| s.to_string()).unwrap_or("—".into()),
                order_id: e.data.order_id.clone(),
                line_item_id: e.data.line_item_id.clone(),
                product: e.data.product_id.clone(),
                meaning: what_to_do(r.state()).1.to_string(),
                matched: scrub(&match_text(&r.matches)),
            });
        }
    }
    let mut status = status_of(&case.clawbacks, None);
    if status.complete && case.orders.data().is_none() {
        status.text = "complete queue; tied by the journal only (orders not read)".into();
    }
    ClawSection {
        status,
        in_queue: rows.len(),
        other_environment: other,
        total,
        items,
    }
}

fn writes(case: &Case) -> ListSection<WriteLine> {
    let fps = case.fingerprints();
    let orders = case.orders();
    let data = case.audit.data().map_or(&[][..], Vec::as_slice);
    // The case's own entries, and clawback acknowledgements of its orders
    // (those name no customer).
    let mine: Vec<_> = data
        .iter()
        .filter(|a| {
            fps.contains(&a.customer_fp)
                || (a.action == crate::journal::WriteKind::ClawbackAck.as_str()
                    && orders
                        .iter()
                        .any(|o| a.request_summary.contains(&o.order_id)))
        })
        .collect();
    // Newest last is how a ticket reads; the list keeps the newest.
    let skip = mine.len().saturating_sub(LIST_MAX);
    let items = mine
        .iter()
        .skip(skip)
        .map(|a| WriteLine {
            at: a.at.clone(),
            write_id: a.write_id,
            action: a.action.clone(),
            event: a.event.clone(),
            request: scrub(&a.request_summary),
            outcome: a.result.as_deref().map(scrub),
            http_status: a.http_status,
            operator: a.operator.clone(),
            correlation: a.correlation.as_deref().map(scrub),
        })
        .collect();
    let missing = fps.is_empty().then_some("no keys in the case");
    ListSection {
        status: status_of(&case.audit, missing),
        total: mine.len(),
        items,
    }
}

pub fn to_json(f: &CaseFile) -> String {
    let mut s = serde_json::to_string_pretty(f).unwrap_or_else(|e| {
        serde_json::json!({ "error": format!("cannot render the case file: {e}") }).to_string()
    });
    s.push('\n');
    s
}

/// A table cell: one line, no pipe breaking the table.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

fn when(t: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    match t {
        Some(t) => format!(
            "{} UTC ({})",
            t.format("%Y-%m-%d %H:%M"),
            crate::keys::relative(t, now)
        ),
        None => "—".into(),
    }
}

/// An audit time (RFC 3339 text) the same way.
fn when_text(s: &str, now: DateTime<Utc>) -> String {
    match crate::store::model::StoreTime::parse(s) {
        Some(t) => when(Some(t.0), now),
        None => cell(s),
    }
}

fn table(out: &mut String, header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) {
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let _ = writeln!(
        out,
        "|{}|",
        header.iter().map(|_| "---").collect::<Vec<_>>().join("|")
    );
    for r in rows {
        let r: Vec<String> = r.iter().map(|c| cell(c)).collect();
        let _ = writeln!(out, "| {} |", r.join(" | "));
    }
}

fn status_line(out: &mut String, s: &Status) {
    if !s.complete {
        let _ = writeln!(out, "**{}**\n", s.text);
    }
}

fn more(out: &mut String, shown: usize, total: usize, what: &str) {
    if total > shown {
        let _ = writeln!(
            out,
            "\n… and {} more {what} (the first {shown} are listed).",
            total - shown
        );
    }
}

pub fn to_markdown(f: &CaseFile) -> String {
    let now = f.generated_at;
    let mut o = String::new();
    let _ = writeln!(o, "# Case {} · {}\n", f.customer, f.environment.environment);
    let _ = writeln!(
        o,
        "Generated {} by {}. Times are UTC, ages relative to then.\n",
        now.format("%Y-%m-%d %H:%M:%S UTC"),
        f.generator
    );

    let _ = writeln!(o, "## Environment\n");
    let e = &f.environment;
    table(
        &mut o,
        &["", ""],
        [
            vec!["environment".into(), e.environment.clone()],
            vec!["profile".into(), e.profile.clone()],
            vec!["operator".into(), e.operator.clone()],
            vec!["Store".into(), e.store.clone()],
            vec![
                "sandbox id (sbx)".into(),
                e.sandbox_id.clone().unwrap_or("none (retail ids)".into()),
            ],
        ],
    );

    let _ = writeln!(o, "\n## Keys\n");
    if f.keys.is_empty() {
        let _ = writeln!(o, "No keys in the case.");
    } else {
        table(
            &mut o,
            &[
                "key",
                "fingerprint",
                "kind",
                "verdict",
                "expires",
                "renew by",
            ],
            f.keys.iter().map(|k| {
                vec![
                    k.role.clone(),
                    format!("`{}`", k.fingerprint),
                    k.kind.clone(),
                    k.verdict.clone(),
                    when(k.expires, now),
                    when(k.renew_by, now),
                ]
            }),
        );
        let _ = writeln!(
            o,
            "\nKeys are named by fingerprint (first 8 hex digits of SHA-256); the keys themselves are not in this file."
        );
    }

    let en = &f.entitlements;
    let _ = writeln!(o, "\n## Entitlements\n");
    status_line(&mut o, &en.status);
    if en.status.complete || en.total > 0 {
        let _ = writeln!(
            o,
            "{} item(s){}.\n",
            en.total,
            if en.status.complete {
                ""
            } else {
                " listed before the read stopped: the counts cover only those"
            }
        );
    }
    if !en.counts.is_empty() {
        table(
            &mut o,
            &["status", "kind", "count"],
            en.counts
                .iter()
                .map(|c| vec![c.status.clone(), c.kind.clone(), c.count.to_string()]),
        );
    }
    if en.notable_total > 0 {
        let why = en
            .notable_counts
            .iter()
            .map(|(w, n)| format!("{w} {n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            o,
            "\n### Worth a look: {} item(s) ({why})\n",
            en.notable_total
        );
        table(
            &mut o,
            &["product", "sku", "kind", "status", "ends", "why"],
            en.notable.iter().map(|n| {
                vec![
                    n.product.clone(),
                    n.sku.clone(),
                    n.kind.clone(),
                    n.status.clone(),
                    when(n.ends, now),
                    n.why.join(", "),
                ]
            }),
        );
        more(
            &mut o,
            en.notable.len(),
            en.notable_total,
            "items worth a look",
        );
    } else if en.status.complete {
        let _ = writeln!(
            o,
            "\nNothing stands out (no revoked, expired-but-Active, in-trial, pass-satisfied or duplicate items)."
        );
    }

    let _ = writeln!(o, "\n## Orders (last 90 days)\n");
    list(
        &mut o,
        &f.orders,
        "order lines",
        &[
            "purchased",
            "order",
            "line item",
            "product",
            "qty",
            "state",
            "refunded",
            "clawback",
        ],
        |l| {
            vec![
                when(l.purchased, now),
                format!("`{}`", l.order_id),
                format!("`{}`", l.line_item_id),
                format!("{} / {}", l.product, l.sku),
                l.quantity.to_string(),
                l.state.clone(),
                when(l.refunded, now),
                l.clawback.clone().unwrap_or("—".into()),
            ]
        },
    );

    let _ = writeln!(o, "\n## Subscriptions\n");
    list(
        &mut o,
        &f.subscriptions,
        "subscriptions",
        &[
            "product",
            "state",
            "auto-renew",
            "started",
            "expires",
            "grace until",
            "recurrence id",
        ],
        |s| {
            vec![
                format!("{}{}", s.product, if s.trial { " (trial)" } else { "" }),
                match &s.warning {
                    Some(_) => format!("⚠ {}", s.state),
                    None => s.state.clone(),
                },
                if s.auto_renew { "on" } else { "off" }.into(),
                when(s.started, now),
                when(s.expires, now),
                when(s.grace_until, now),
                format!("`{}`", s.id),
            ]
        },
    );
    for s in f.subscriptions.items.iter().filter(|s| s.warning.is_some()) {
        let _ = writeln!(
            o,
            "\n⚠ `{}` {}",
            s.id,
            s.warning.as_deref().unwrap_or_default()
        );
    }

    let c = &f.clawbacks;
    let _ = writeln!(o, "\n## Clawback events\n");
    status_line(&mut o, &c.status);
    if c.status.complete || c.in_queue > 0 {
        let _ = writeln!(
            o,
            "{} of the {} event(s) in the queue (peeked, not removed) tie to this customer by order id or a journaled consume{}.\n",
            c.total,
            c.in_queue,
            if c.other_environment > 0 {
                format!(
                    "; {} from another environment (sandboxId) are left out",
                    c.other_environment
                )
            } else {
                String::new()
            }
        );
    }
    if !c.items.is_empty() {
        table(
            &mut o,
            &[
                "time",
                "event",
                "order / line",
                "product",
                "what it means",
                "matched",
            ],
            c.items.iter().map(|e| {
                vec![
                    when(e.time, now),
                    format!("{} {}", e.source, e.state),
                    format!("`{}` / `{}`", e.order_id, e.line_item_id),
                    e.product.clone(),
                    e.meaning.clone(),
                    e.matched.clone(),
                ]
            }),
        );
        more(&mut o, c.items.len(), c.total, "events");
    }

    let _ = writeln!(o, "\n## Writes (audit log of this data dir)\n");
    list(
        &mut o,
        &f.writes,
        "audit entries",
        &[
            "time",
            "write",
            "action",
            "event",
            "request",
            "outcome / note",
            "by",
        ],
        |w| {
            vec![
                when_text(&w.at, now),
                w.write_id.map(|i| format!("#{i}")).unwrap_or("—".into()),
                w.action.clone(),
                w.event.clone(),
                w.request.clone(),
                match (&w.outcome, w.http_status) {
                    (Some(r), Some(h)) => format!("{r} (HTTP {h})"),
                    (Some(r), None) => r.clone(),
                    (None, Some(h)) => format!("HTTP {h}"),
                    (None, None) => "—".into(),
                },
                w.operator.clone(),
            ]
        },
    );

    let _ = writeln!(o, "\n## Failed calls\n");
    if f.failed_calls.is_empty() {
        let _ = writeln!(o, "None.");
    } else {
        table(
            &mut o,
            &["call", "error", "ids for Microsoft support"],
            f.failed_calls.iter().map(|c| {
                vec![
                    c.what.clone(),
                    c.message.clone(),
                    if c.correlation_ids.is_empty() {
                        "none returned".into()
                    } else {
                        c.correlation_ids
                            .iter()
                            .map(|(k, v)| format!("{k} `{v}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    },
                ]
            }),
        );
    }
    let _ = writeln!(
        o,
        "\n---\nRedacted as the audit log is: no keys, tokens, client secrets or SAS signatures."
    );
    o
}

/// A section's status line, its table (or "None."), and the count of rows
/// left out.
fn list<T>(
    o: &mut String,
    s: &ListSection<T>,
    what: &str,
    header: &[&str],
    row: impl Fn(&T) -> Vec<String>,
) {
    status_line(o, &s.status);
    if s.items.is_empty() {
        if s.status.complete {
            let _ = writeln!(o, "None.");
        }
        return;
    }
    table(o, header, s.items.iter().map(row));
    more(o, s.items.len(), s.total, what);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_masks_tokens_and_sas_signatures() {
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4eHh4eHh4eCJ9.c2lnbmF0dXJlc2lnbmF0dXJl";
        let s = scrub(&format!(
            "GET https://q.example/x?sv=1&sig=abc%2Bdef&se=2 with {jwt}"
        ));
        assert!(!s.contains("abc%2Bdef") && !s.contains(jwt), "{s}");
        assert!(s.contains("sig=***&se=2"), "{s}");
    }

    #[test]
    fn an_empty_case_says_what_is_missing() {
        let case = Case::new(None, None);
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let md = render(&case, now, &FileEnv::default(), FileFormat::Markdown);
        assert!(md.contains("No keys in the case."), "{md}");
        assert!(md.contains("not read: no collections key"), "{md}");
        let json: serde_json::Value =
            serde_json::from_str(&render(&case, now, &FileEnv::default(), FileFormat::Json))
                .unwrap();
        assert_eq!(json["entitlements"]["status"]["complete"], false);
        assert!(file_name(&case, now, FileFormat::Json).ends_with("-nokey.json"));
    }
}
