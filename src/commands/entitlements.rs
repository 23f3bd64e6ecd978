//! `storedesk entitlements`: list a customer's entitlements headless.
//! Results go to stdout (table, JSON or CSV); progress and errors to stderr.

use crate::browse::export::Incomplete;
use crate::case::titles::Titles;
use crate::commands::{Context, EntitlementsArgs};
use crate::store::collections::QueryOptions;
use crate::store::error::{ErrorKind, StoreError};
use crate::store::model::{Entitlement, EntitlementStatus, ProductKind};
use std::io::Write as _;
use std::process::ExitCode;
use tokio_util::sync::CancellationToken;

/// Which query is used, and why (printed to stderr). `source` names where
/// the ids come from (`connect::product_ids`).
fn query_choice(product_ids: &[String], source: &str) -> (bool, String) {
    if product_ids.is_empty() {
        (
            false,
            format!("using v8 b2bLicensePreview: {source} lists no product_ids (v9 needs them)"),
        )
    } else {
        let chunks = product_ids
            .len()
            .div_ceil(crate::store::collections::V9_MAX_PRODUCTS);
        (
            true,
            format!(
                "using v9 PublisherQuery with {source}'s {} product id(s) in {chunks} chunk(s) of at most 100",
                product_ids.len()
            ),
        )
    }
}

/// Parse `--status` / `--kind` names against the documented values.
fn parse_filter<T>(
    what: &str,
    names: &[String],
    known: &[&str],
    parse: impl Fn(&str) -> T,
) -> Result<Vec<T>, String> {
    let mut out = Vec::new();
    for n in names.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        if !known.iter().any(|k| k.eq_ignore_ascii_case(n)) {
            return Err(format!(
                "unknown {what} {n:?} (known: {})",
                known.join(", ")
            ));
        }
        out.push(parse(n));
    }
    Ok(out)
}

pub fn entitlements(ctx: &Context, a: &EntitlementsArgs) -> ExitCode {
    let statuses = match parse_filter(
        "status",
        &a.status,
        EntitlementStatus::KNOWN,
        EntitlementStatus::parse,
    ) {
        Ok(v) => v,
        Err(e) => return usage(&e),
    };
    let kinds = match parse_filter("kind", &a.kind, ProductKind::KNOWN, ProductKind::parse) {
        Ok(v) => v,
        Err(e) => return usage(&e),
    };
    let key = match super::keyinput::KeyReader::default().required(
        "--key",
        a.key.key.as_deref(),
        a.key.key_file.as_deref(),
    ) {
        Ok(k) => k,
        Err(e) => return usage(&e),
    };
    if let Err(e) = crate::keys::check_kind(
        &key,
        crate::keys::KeyKind::UserCollectionsId,
        "entitlements",
    ) {
        return usage(&e.to_string());
    }
    let rt = match crate::commands::runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let Listing {
        items,
        incomplete,
        titles,
        v9_products,
    } = match rt.block_on(fetch_all(ctx, &key)) {
        Ok(l) => l,
        Err(code) => return code,
    };
    // An empty answer is not proof of owning nothing: say what causes it.
    if items.is_empty() && incomplete.is_none() {
        eprintln!(
            "storedesk: the Store listed no entitlements for this key; the documented causes:"
        );
        let q = crate::case::empty::EmptyQuery {
            environment: Some(crate::case::clawbacks::expected_sandbox_id(
                ctx.config.profile.sbx.as_deref(),
            )),
            v9_products,
        };
        for c in crate::case::empty::empty_causes(&q) {
            eprintln!("  - {c}");
        }
    }
    let unreadable = items.iter().filter(|e| e.unreadable.is_some()).count();
    if unreadable > 0 {
        eprintln!(
            "storedesk: {unreadable} item(s) unreadable, listed flagged with their raw JSON (status \"unreadable: …\"); the rest are listed"
        );
    }
    // One filter and one export for console and command line: src/browse.
    let mut data = crate::browse::Dataset::new();
    data.extend(1, items);
    let filter = crate::browse::Filter {
        statuses,
        kinds,
        ..Default::default()
    };
    let all: Vec<u32> = (0..data.len() as u32).collect();
    let rows = filter.apply(&data, &all, ctx.clock.now().timestamp());
    let mut out = std::io::stdout().lock();
    let inc = incomplete.as_ref();
    let written = if a.json {
        crate::browse::export::write_json(&mut out, &data, &rows, inc)
    } else if a.ndjson {
        crate::browse::export::write_ndjson(&mut out, &data, &rows, inc)
    } else if a.csv {
        crate::browse::export::write_csv(&mut out, &data, &rows, inc)
    } else {
        write_table(&mut out, &data, &rows, inc, &titles)
    };
    if let Err(e) = written.and_then(|_| out.flush())
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("storedesk: cannot write the output: {e}");
        return ExitCode::from(1);
    }
    match incomplete {
        // Last on stderr too, where a person running it looks.
        Some(inc) => {
            eprintln!("storedesk: {inc}");
            ExitCode::from(1)
        }
        None => ExitCode::SUCCESS,
    }
}

/// What a listing got: every item, and why it stopped early if it did.
struct Listing {
    items: Vec<Entitlement>,
    incomplete: Option<Incomplete>,
    /// Titles of the listed products, for the table.
    titles: Titles,
    /// v9: how many product ids were asked about; `None` for v8.
    v9_products: Option<usize>,
}

/// Why a listing stopped, short, for the "incomplete: …" line.
fn stopped_by(e: &StoreError) -> String {
    match e.kind {
        ErrorKind::Budget => "the call budget".into(),
        ErrorKind::Cancelled => "a cancel (Ctrl-C)".into(),
        other => format!("an error ({other})"),
    }
}

/// What a v8 listing may cost, said before the first call: it pages at
/// most 100 items a call, and the customer's budget is what is left of
/// 100 calls in 5 minutes.
fn v8_cost(calls_left: u32, limit: u32) -> String {
    format!(
        "v8 pages at most {} items a call, and this customer has {calls_left} of {limit} calls left in 5 minutes: \
         this listing may cost all of them, and stops incomplete past {} items (configure product_ids to use v9)",
        crate::store::collections::V8_MAX_PAGE,
        crate::browse::thousands(
            calls_left as usize * crate::store::collections::V8_MAX_PAGE as usize
        ),
    )
}

fn usage(msg: &str) -> ExitCode {
    eprintln!("storedesk: {msg}");
    ExitCode::from(2)
}

fn report(e: &StoreError) {
    eprintln!("storedesk: {e}");
    if let Some(h) = e.hint() {
        eprintln!("  hint: {h}");
    }
}

async fn fetch_all(ctx: &Context, key: &str) -> Result<Listing, ExitCode> {
    let (client, sandbox) = match super::connect::connect_headless(ctx).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("storedesk: {e}");
            return Err(e.exit_code());
        }
    };
    let (product_ids, source) = super::connect::product_ids(ctx, sandbox.as_ref());
    let (v9, why) = query_choice(&product_ids, &source);
    let v9_products = v9.then_some(product_ids.len());
    eprintln!("storedesk: {why}");
    if !v9 {
        let left = client.calls_left_for_key(key);
        eprintln!("storedesk: {}", v8_cost(left, client.budget().limit()));
    }
    let cancel = CancellationToken::new();
    let stop = cancel.clone();
    let ctrl_c = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            stop.cancel();
        }
    });
    let mut items = Vec::new();
    let on_page = |ev: crate::store::paging::PageEvent<Entitlement>| {
        let p = ev.progress;
        match p.calls_left {
            Some(left) => eprintln!("  page {} · {} items · {left} calls left", p.pages, p.items),
            None => eprintln!("  page {} · {} items", p.pages, p.items),
        }
        items.extend(ev.items);
    };
    let opts = QueryOptions::default();
    let res = if v9 {
        client
            .entitlements_v9(key, &product_ids, &opts, &cancel, on_page)
            .await
    } else {
        client.entitlements_v8(key, &opts, &cancel, on_page).await
    };
    ctrl_c.abort();
    // Names, not only ids: titles of what is listed (cached; the id alone
    // when the catalog cannot be reached).
    let mut titles = Titles::load(&ctx.paths.titles_file());
    let ids: Vec<String> = items.iter().map(|e| e.product_id.clone()).collect();
    if let Err(e) = titles.fetch_missing(&client, &ids).await {
        eprintln!("storedesk: product titles unavailable ({e}); showing ids");
    }
    match res {
        Ok(_) => Ok(Listing {
            items,
            incomplete: None,
            titles,
            v9_products,
        }),
        // Nothing got: nothing to print but the error.
        Err(e) if items.is_empty() => {
            report(&e);
            Err(ExitCode::from(1))
        }
        // Keep every page it got, marked incomplete.
        Err(e) => {
            report(&e);
            let incomplete = Incomplete {
                got: items.len(),
                stopped_by: stopped_by(&e),
            };
            Ok(Listing {
                items,
                incomplete: Some(incomplete),
                titles,
                v9_products,
            })
        }
    }
}

/// A plain-text table of the rows: the console's columns, absolute times.
fn write_table(
    out: &mut impl std::io::Write,
    d: &crate::browse::Dataset,
    rows: &[u32],
    incomplete: Option<&Incomplete>,
    titles: &Titles,
) -> std::io::Result<()> {
    use crate::browse::column::Column;
    use crate::browse::export::CSV_COLUMNS;
    // The title goes right after the product id it names.
    let table: Vec<Vec<String>> = rows
        .iter()
        .filter_map(|&i| d.row(i))
        .map(|r| {
            let mut cells = Vec::with_capacity(CSV_COLUMNS.len() + 1);
            for &c in &CSV_COLUMNS {
                let v = crate::browse::column::export(d, r, c).into_owned();
                let title =
                    (c == Column::Product).then(|| titles.get(&v).unwrap_or("").to_string());
                cells.push(v);
                cells.extend(title);
            }
            cells
        })
        .collect();
    let mut header: Vec<String> = Vec::new();
    for c in CSV_COLUMNS {
        header.push(c.key().to_string());
        if c == Column::Product {
            header.push("title".into());
        }
    }
    let mut widths: Vec<usize> = header.iter().map(|c| c.chars().count()).collect();
    for r in &table {
        for (w, c) in widths.iter_mut().zip(r.iter()) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |out: &mut dyn std::io::Write, cols: &[String]| -> std::io::Result<()> {
        let mut s = String::new();
        for (i, (c, w)) in cols.iter().zip(widths.iter()).enumerate() {
            if i > 0 {
                s.push_str("  ");
            }
            s.push_str(c);
            s.extend(std::iter::repeat_n(
                ' ',
                w.saturating_sub(c.chars().count()),
            ));
        }
        writeln!(out, "{}", s.trim_end())
    };
    line(out, &header)?;
    for r in &table {
        line(out, r)?;
    }
    let unreadable = match d.unreadable_rows() {
        0 => String::new(),
        n => format!(" · ✗ {n} unreadable"),
    };
    match incomplete {
        Some(inc) => writeln!(out, "{} entitlement(s){unreadable} · {inc}", rows.len()),
        None => writeln!(out, "{} entitlement(s){unreadable}", rows.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_checked_against_documented_names() {
        let ok = parse_filter(
            "status",
            &["active".into(), " Revoked ".into()],
            EntitlementStatus::KNOWN,
            EntitlementStatus::parse,
        )
        .unwrap();
        assert_eq!(
            ok,
            vec![EntitlementStatus::Active, EntitlementStatus::Revoked]
        );
        let e = parse_filter(
            "kind",
            &["Durables".into()],
            ProductKind::KNOWN,
            ProductKind::parse,
        )
        .unwrap_err();
        assert!(
            e.contains("Durables") && e.contains("UnmanagedConsumable"),
            "{e}"
        );
    }

    #[test]
    fn v8_when_no_products() {
        assert!(!query_choice(&[], "profile \"retail\"").0);
        let ids: Vec<String> = (0..150).map(|i| i.to_string()).collect();
        let (v9, why) = query_choice(&ids, "profile \"retail\"");
        assert!(v9 && why.contains("2 chunk"), "{why}");
    }

    #[test]
    fn table_marks_repeated_ids() {
        let e = Entitlement {
            id: "X".into(),
            product_id: "P,1".into(),
            ..Default::default()
        };
        let mut d = crate::browse::Dataset::new();
        d.extend(1, [e.clone(), e]);
        let mut buf = Vec::new();
        write_table(&mut buf, &d, &[0, 1], None, &Titles::default()).unwrap();
        let s = String::from_utf8(buf).unwrap();
        assert!(s.lines().nth(2).unwrap().contains("repeated id"), "{s}");
        assert!(s.ends_with("2 entitlement(s)\n"), "{s}");
    }
}
