//! The detail of one entitlement: every field, the pass ↔ content links
//! both ways, related orders by transactionId, the write actions, and the
//! raw JSON as the Store sent it.

use crate::browse::column::{FOREVER, short_duration};
use crate::browse::data::{NONE, Row};
use crate::browse::thousands;
use crate::case::live::LiveCase;
use crate::store::model::{Entitlement, StoreTime};
use crate::tui::panes::DrawCtx;
use crate::tui::panes::entitlements::{EntitlementsPane, OrdersState};
use crate::tui::theme::Theme;
use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

fn when(t: &Option<StoreTime>, now: DateTime<Utc>) -> String {
    match t {
        None => "—".into(),
        Some(t) if t.0.timestamp() >= FOREVER => format!("{} (forever)", t.to_wire()),
        Some(t) => format!("{} · {}", t.to_wire(), crate::keys::relative(t.0, now)),
    }
}

fn field(theme: &Theme, name: &str, value: String) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("{name:<22}"), theme.dim()),
        Span::raw(value),
    ])
}

fn opt<T: std::fmt::Display>(v: &Option<T>) -> String {
    v.as_ref().map_or_else(|| "—".into(), |x| x.to_string())
}

fn list(v: &[String]) -> String {
    if v.is_empty() {
        "—".into()
    } else {
        v.join(", ")
    }
}

/// Every field of the item, in wire order, then the v8 extras.
fn fields(theme: &Theme, e: &Entitlement, row: &Row, now: DateTime<Utc>) -> Vec<Line<'static>> {
    let trial = match &e.trial_data {
        None => "—".into(),
        Some(t) => format!(
            "isTrial {} · isInTrialPeriod {} · remaining {}",
            t.is_trial,
            t.is_in_trial_period,
            t.trial_time_remaining
                .as_ref()
                .map_or_else(|| "—".into(), |r| short_duration(r.0.num_seconds()))
        ),
    };
    let mut v = vec![
        field(theme, "id", e.id.clone()),
        field(theme, "productId", e.product_id.clone()),
        field(theme, "skuId", e.sku_id.clone()),
        field(theme, "productKind", opt(&e.product_kind)),
        field(theme, "status", opt(&e.status)),
        field(theme, "acquisitionType", opt(&e.acquisition_type)),
        field(theme, "quantity", opt(&e.quantity)),
        field(theme, "acquiredDate", when(&e.acquired_date, now)),
        field(theme, "startDate", when(&e.start_date, now)),
        field(theme, "endDate", when(&e.end_date, now)),
        field(theme, "modifiedDate", when(&e.modified_date, now)),
        field(theme, "trialData", trial),
        field(
            theme,
            "recurrenceId",
            e.recurrence().map_or_else(|| "—".into(), String::from),
        ),
        field(
            theme,
            "satisfiedByProductIds",
            list(&e.satisfied_by_product_ids),
        ),
        field(theme, "tags", list(&e.tags)),
        field(theme, "transactionId", opt(&e.transaction_id)),
    ];
    let extras = [
        ("legacyProductId", &e.legacy_product_id),
        ("legacyOfferInstanceId", &e.legacy_offer_instance_id),
        ("localTicketReference", &e.local_ticket_reference),
        ("purchasedCountry", &e.purchased_country),
        ("productFamily", &e.product_family),
        ("sharingSource", &e.sharing_source),
        ("devOfferId", &e.dev_offer_id),
    ];
    for (name, value) in extras {
        if let Some(x) = value {
            v.push(field(theme, name, x.clone()));
        }
    }
    let mark = match (row.dup.repeat_id, row.dup.same_product) {
        (true, _) => Some("this id came earlier in the listing (shown, not dropped)"),
        (false, true) => Some("another item has the same product and SKU"),
        _ => None,
    };
    if let Some(m) = mark {
        v.push(Line::from(vec![
            Span::styled(format!("{:<22}", "duplicate"), theme.dim()),
            Span::styled(format!("⧉ {m}"), theme.warn()),
        ]));
    }
    v.push(field(theme, "arrived on", format!("page {}", row.page)));
    v
}

fn section(theme: &Theme, title: &str) -> Line<'static> {
    Line::from(Span::styled(format!("── {title} "), theme.title()))
}

fn links(theme: &Theme, case: &LiveCase, row: &Row) -> Vec<Line<'static>> {
    let d = &case.listing.data;
    let mut v = vec![section(theme, "Pass ↔ content")];
    let by = d.list(row.satisfied_by);
    if by.is_empty() {
        v.push(Line::from(Span::styled(
            "Satisfied by: nothing (owned in its own right)",
            theme.dim(),
        )));
    }
    for &p in by {
        let name = d.sym(p);
        let held: Vec<String> = d
            .rows_of_product(name)
            .into_iter()
            .filter_map(|i| d.row(i))
            .map(|r| format!("{} {}", d.sym(r.kind), d.sym(r.status)))
            .collect();
        v.push(Line::from(vec![
            Span::raw("Satisfied by "),
            Span::styled(name.to_string(), theme.key_hint()),
            Span::raw(match held.as_slice() {
                [] => " — not in this listing".to_string(),
                h => format!(" — in this listing: {}", h.join(", ")),
            }),
        ]));
    }
    let through = d.satisfied_through(row.product);
    if !through.is_empty() {
        let names: Vec<String> = through
            .iter()
            .take(8)
            .filter_map(|&i| d.row(i))
            .map(|r| format!("{} ({})", d.sym(r.product), d.sym(r.status)))
            .collect();
        v.push(Line::from(vec![
            Span::raw(format!("Satisfies {} item(s): ", thousands(through.len()))),
            Span::styled(names.join(", "), theme.key_hint()),
            Span::raw(if through.len() > 8 { ", …" } else { "" }),
        ]));
    }
    v
}

fn orders(theme: &Theme, case: &LiveCase, txn: &str) -> Vec<Line<'static>> {
    let mut v = vec![section(theme, "Related orders (orderId = transactionId)")];
    if txn.is_empty() {
        v.push(Line::from(Span::styled(
            "This item carries no transactionId.",
            theme.dim(),
        )));
        return v;
    }
    match OrdersState::of(case) {
        OrdersState::NoPurchaseKey => v.push(Line::from(Span::styled(
            "Orders need the customer's UserPurchaseId: paste it in the Key pane (1), then r here.",
            theme.warn(),
        ))),
        OrdersState::Loading => v.push(Line::from(Span::styled("Reading orders…", theme.dim()))),
        OrdersState::Failed(m) => v.push(Line::from(Span::styled(
            format!("Orders could not be read: {m} · r retries"),
            theme.bad(),
        ))),
        OrdersState::Loaded(all) => {
            let hits: Vec<_> = all
                .iter()
                .filter(|o| o.order_id.eq_ignore_ascii_case(txn))
                .collect();
            if hits.is_empty() {
                v.push(Line::from(Span::styled(
                    format!(
                        "No order {txn} among {} order(s) of the last 90 days (the orders query lists consumable purchases only).",
                        all.len()
                    ),
                    theme.dim(),
                )));
            }
            for o in hits {
                v.push(Line::from(format!(
                    "order {} · purchased {} · refunded {}",
                    o.order_id,
                    opt(&o.order_purchased_date),
                    opt(&o.order_refunded_date)
                )));
                for li in &o.order_line_items {
                    v.push(Line::from(format!(
                        "  line {} · {} × {}/{} · {}",
                        li.line_item_id,
                        li.quantity,
                        li.product_id,
                        li.sku_id,
                        opt(&li.line_item_state)
                    )));
                }
            }
        }
    }
    v
}

fn actions(theme: &Theme, pane: &EntitlementsPane, row: &Row, app: &DrawCtx) -> Vec<Line<'static>> {
    let case = app.case;
    let d = &case.listing.data;
    let mut v = vec![section(theme, "Actions")];
    let kind = d.sym(row.kind);
    if !app.writes_allowed {
        v.push(Line::from(Span::styled(
            app.read_only_reason
                .map_or_else(|| "writes are off for this profile".into(), str::to_string),
            theme.dim(),
        )));
    }
    let consumable = kind.eq_ignore_ascii_case("Consumable");
    if consumable || kind.eq_ignore_ascii_case("UnmanagedConsumable") {
        let what = if consumable && row.quantity != NONE {
            format!(
                ":consume — remove 1 (balance {} → {})",
                row.quantity,
                row.quantity - 1
            )
        } else if consumable {
            ":consume — remove 1".into()
        } else {
            ":consume — report this unmanaged consumable fulfilled".into()
        };
        v.push(Line::from(vec![
            Span::styled(what, theme.key_hint()),
            Span::styled(" · asks for confirmation, journaled", theme.dim()),
        ]));
    } else {
        v.push(Line::from(Span::styled(
            format!(
                ":consume — not for a {} item",
                if kind.is_empty() { "kindless" } else { kind }
            ),
            theme.dim(),
        )));
    }
    v.push(Line::from(vec![
        Span::styled(":grant", theme.key_hint()),
        Span::styled(
            if case.purchase_key().is_some() {
                " — grant a free product (needs its availabilityId)"
            } else {
                " — needs the customer's UserPurchaseId in the case"
            },
            theme.dim(),
        ),
    ]));
    if pane.writing {
        v.push(Line::from(Span::styled(
            "a write is under way…",
            theme.warn(),
        )));
    }
    v
}

/// Raw JSON, pretty-printed and coloured.
pub fn json_lines(theme: &Theme, raw: &str) -> Vec<Line<'static>> {
    let pretty = serde_json::from_str::<serde_json::Value>(raw)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| raw.to_string());
    pretty
        .lines()
        .map(|l| {
            let trimmed = l.trim_start();
            let indent = l.len() - trimmed.len();
            match trimmed.split_once("\": ") {
                Some((k, rest)) if trimmed.starts_with('"') => Line::from(vec![
                    Span::raw(" ".repeat(indent)),
                    Span::styled(format!("{k}\""), theme.json_key()),
                    Span::raw(": "),
                    Span::styled(
                        rest.to_string(),
                        if rest.starts_with('"') {
                            theme.json_string()
                        } else {
                            theme.json_number()
                        },
                    ),
                ]),
                _ => Line::from(l.to_string()),
            }
        })
        .collect()
}

pub fn view(f: &mut Frame, area: Rect, theme: &Theme, pane: &EntitlementsPane, app: &DrawCtx) {
    let case = app.case;
    let Some(detail) = &pane.detail else {
        return;
    };
    let d = &case.listing.data;
    let Some(row) = d.row(detail.row) else {
        return;
    };
    let raw = d.raw_json(row);
    let Some(e) = d.entitlement(row) else {
        f.render_widget(Paragraph::new(raw), area);
        return;
    };
    let mut left = fields(theme, &e, row, app.now);
    let title_text = case.titles.get(&e.product_id.to_ascii_uppercase());
    let mut at = 2;
    if let Some(t) = title_text {
        left.insert(at, field(theme, "title", t.clone()));
        at += 1;
    }
    // What a pass gives is the first question about content: in the first
    // lines, where 80×24 shows it (the wire-order field stays below).
    if !e.satisfied_by_product_ids.is_empty() {
        let by: Vec<String> = e
            .satisfied_by_product_ids
            .iter()
            .map(|id| crate::tui::panes::list::product_label(&case.titles, id).into_owned())
            .collect();
        left.insert(at, field(theme, "satisfied by", by.join(", ")));
    }
    left.push(Line::default());
    left.extend(links(theme, case, row));
    left.push(Line::default());
    left.extend(orders(theme, case, d.text(row.transaction)));
    left.push(Line::default());
    left.extend(actions(theme, pane, row, app));
    let title = match title_text {
        Some(t) => format!(" {} {t} · {} · {} ", e.product_id, e.sku_id, opt(&e.status)),
        None => format!(" {} · {} · {} ", e.product_id, e.sku_id, opt(&e.status)),
    };
    use crate::tui::keymap::Command as C;
    let hints = format!(
        " {} ",
        crate::tui::keymap::hints(&[
            (&[C::Back], "back"),
            (&[C::Down, C::Up], "scroll"),
            (&[C::Copy], "copy JSON"),
            (&[], ":consume · :grant"),
            (&[C::Refresh], "orders"),
        ])
    );
    let json = json_lines(theme, &raw);
    if area.width >= 140 {
        let [l, r] = Layout::horizontal([Constraint::Percentage(58), Constraint::Percentage(42)])
            .areas(area);
        f.render_widget(
            Paragraph::new(left)
                .block(
                    Block::bordered()
                        .title(Span::styled(title, theme.title()))
                        .title_bottom(Span::styled(hints, theme.dim()))
                        .border_style(theme.border_focus()),
                )
                .wrap(Wrap { trim: false })
                .scroll((detail.scroll, 0)),
            l,
        );
        f.render_widget(
            Paragraph::new(json)
                .block(Block::bordered().title(" Raw JSON (as received) "))
                .scroll((detail.scroll, 0)),
            r,
        );
    } else {
        left.push(Line::default());
        left.push(section(theme, "Raw JSON (as received)"));
        left.extend(json);
        f.render_widget(
            Paragraph::new(left)
                .block(
                    Block::bordered()
                        .title(Span::styled(title, theme.title()))
                        .title_bottom(Span::styled(hints, theme.dim()))
                        .border_style(theme.border_focus()),
                )
                .wrap(Wrap { trim: false })
                .scroll((detail.scroll, 0)),
            area,
        );
    }
}
