//! `storedesk timeline --key K [--purchase-key K2] [--since 30d] [--type
//! order,refund,…]`: the Timeline pane headless — the whole case read
//! through `case::load`, merged by `case::timeline::build`.

use super::output::{Listing, time};
use super::{Context, TimelineArgs};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Map, json};
use std::process::ExitCode;

/// The words `--type` takes besides the audit actions.
const TYPES: &[&str] = &[
    "owned",
    "order",
    "refund",
    "subscription",
    "clawback",
    "audit",
];

fn known_types() -> Vec<&'static str> {
    use crate::journal::WriteKind;
    let mut v = TYPES.to_vec();
    v.extend(
        [
            WriteKind::Consume,
            WriteKind::Grant,
            WriteKind::RecurrenceChange,
            WriteKind::RenewKey,
            WriteKind::ClawbackAck,
            WriteKind::OfferClaim,
        ]
        .map(|k| k.as_str()),
    );
    v
}

/// `30d`, `12h`, `90m`, `2w`.
pub fn parse_since(s: &str) -> Result<TimeDelta, String> {
    let s = s.trim();
    let bad = || format!("--since {s:?}: expected a number and a unit, e.g. 30d, 12h, 90m, 2w");
    let unit = s.chars().last().ok_or_else(bad)?;
    let n: i64 = s[..s.len() - unit.len_utf8()].parse().map_err(|_| bad())?;
    if n < 0 {
        return Err(bad());
    }
    match unit {
        'm' => TimeDelta::try_minutes(n),
        'h' => TimeDelta::try_hours(n),
        'd' => TimeDelta::try_days(n),
        'w' => TimeDelta::try_weeks(n),
        _ => None,
    }
    .ok_or_else(bad)
}

fn parse_types(given: &[String]) -> Result<Vec<String>, String> {
    let known = known_types();
    let mut out = Vec::new();
    for t in given.iter().map(|t| t.trim().to_ascii_lowercase()) {
        if t.is_empty() {
            continue;
        }
        if !known.contains(&t.as_str()) {
            return Err(format!(
                "unknown --type {t:?} (known: {})",
                known.join(", ")
            ));
        }
        out.push(t);
    }
    Ok(out)
}

fn wanted(
    e: &crate::case::timeline::Entry,
    types: &[String],
    since: Option<DateTime<Utc>>,
) -> bool {
    let type_ok = types.is_empty()
        || types.iter().any(|t| {
            t == e.kind() || (t == "audit" && e.source == crate::case::timeline::Source::Audit)
        });
    type_ok && since.is_none_or(|s| e.at >= s)
}

pub fn run(ctx: &Context, a: &TimelineArgs) -> ExitCode {
    let usage = |e: String| super::writes::fail(super::writes::EXIT_USAGE, e);
    let since = match a.since.as_deref().map(parse_since).transpose() {
        Ok(s) => s,
        Err(e) => return usage(e),
    };
    let types = match parse_types(&a.types) {
        Ok(t) => t,
        Err(e) => return usage(e),
    };
    let (ck, pk) = match super::case::read_keys(&a.key, &a.purchase) {
        Ok(k) => k,
        Err(e) => return usage(e),
    };
    let rt = match super::runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let list = ck.is_some();
    let loaded = match rt.block_on(super::case::load_case(ctx, ck, pk, list)) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let now = ctx.clock.now();
    let t = crate::case::timeline::build(&loaded.case, now);
    let from = since.map(|d| now - d);
    let entries: Vec<_> = t
        .entries
        .iter()
        .filter(|e| wanted(e, &types, from))
        .collect();
    let rows = entries
        .iter()
        .map(|e| {
            vec![
                time(Some(e.at)),
                e.source.label().to_string(),
                e.kind().to_string(),
                e.what.clone(),
                e.detail.clone(),
            ]
        })
        .collect();
    let items = entries
        .iter()
        .map(|e| {
            json!({
                "at": e.at,
                "source": e.source.label(),
                "type": e.kind(),
                "what": e.what,
                "detail": e.detail,
            })
        })
        .collect();
    let mut meta = Map::new();
    meta.insert(
        "customer".into(),
        json!(crate::case::file::customer_fp(&loaded.case)),
    );
    meta.insert(
        "sources".into(),
        json!(t
            .sources
            .iter()
            .map(|(s, loaded, text)| json!({"source": s.label(), "loaded": loaded, "status": text}))
            .collect::<Vec<_>>()),
    );
    let mut footer = vec![format!(
        "{} of {} moment(s), newest first",
        entries.len(),
        t.entries.len()
    )];
    footer.push(format!(
        "sources: {}",
        t.sources
            .iter()
            .map(|(_, ok, text)| format!("{}{text}", if *ok { "✓ " } else { "✗ " }))
            .collect::<Vec<_>>()
            .join(" · ")
    ));
    let listing = Listing {
        name: "entries",
        header: vec!["time (UTC)", "source", "type", "what", "detail"],
        rows,
        items,
        meta,
        footer,
    };
    super::finish(&listing.render(&a.output))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_and_types_are_checked() {
        assert_eq!(parse_since("30d").unwrap(), TimeDelta::days(30));
        assert_eq!(parse_since("2w").unwrap(), TimeDelta::weeks(2));
        assert!(parse_since("30").is_err());
        assert!(parse_since("d").is_err());
        assert!(parse_since("-3d").is_err());
        assert_eq!(
            parse_types(&["Refund".into(), "consume".into()]).unwrap(),
            ["refund", "consume"]
        );
        let e = parse_types(&["refunds".into()]).unwrap_err();
        assert!(e.contains("refunds") && e.contains("clawback"), "{e}");
    }
}
