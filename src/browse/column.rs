//! The columns of the entitlement table and the text of each cell, shared
//! by the console table, the sort and the exports.

use super::data::{Dataset, NONE, Row};
use std::borrow::Cow;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Column {
    /// Duplicate / unknown-value marks.
    Mark,
    Product,
    Sku,
    Kind,
    Status,
    Acquisition,
    Quantity,
    Start,
    End,
    Trial,
    SatisfiedBy,
    Tags,
    TransactionId,
}

impl Column {
    pub const ALL: [Column; 13] = [
        Column::Mark,
        Column::Product,
        Column::Sku,
        Column::Kind,
        Column::Status,
        Column::Acquisition,
        Column::Quantity,
        Column::Start,
        Column::End,
        Column::Trial,
        Column::SatisfiedBy,
        Column::Tags,
        Column::TransactionId,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Column::Mark => "!",
            Column::Product => "Product",
            Column::Sku => "SKU",
            Column::Kind => "Kind",
            Column::Status => "Status",
            Column::Acquisition => "Acquired as",
            Column::Quantity => "Qty",
            Column::Start => "Start",
            Column::End => "End",
            Column::Trial => "Trial left",
            Column::SatisfiedBy => "Satisfied by",
            Column::Tags => "Tags",
            Column::TransactionId => "Transaction id",
        }
    }

    /// Name in exports and on the command line.
    pub fn key(self) -> &'static str {
        match self {
            Column::Mark => "duplicate",
            Column::Product => "productId",
            Column::Sku => "skuId",
            Column::Kind => "productKind",
            Column::Status => "status",
            Column::Acquisition => "acquisitionType",
            Column::Quantity => "quantity",
            Column::Start => "startDate",
            Column::End => "endDate",
            Column::Trial => "trialTimeRemaining",
            Column::SatisfiedBy => "satisfiedByProductIds",
            Column::Tags => "tags",
            Column::TransactionId => "transactionId",
        }
    }

    /// (min, max) display width.
    pub fn widths(self) -> (u16, u16) {
        match self {
            Column::Mark => (1, 2),
            Column::Product => (12, 16),
            Column::Sku => (4, 6),
            Column::Kind => (10, 19),
            Column::Status => (7, 16),
            Column::Acquisition => (6, 16),
            Column::Quantity => (3, 6),
            Column::Start => (8, 9),
            Column::End => (7, 9),
            Column::Trial => (5, 10),
            Column::SatisfiedBy => (6, 26),
            Column::Tags => (4, 38),
            Column::TransactionId => (8, 36),
        }
    }

    pub fn right_aligned(self) -> bool {
        matches!(self, Column::Quantity)
    }
}

/// "12d ago", "in 27d", "never" — one unit, for narrow columns.
pub fn short_relative(t: i64, now: i64) -> String {
    if t == NONE {
        return "—".into();
    }
    if t >= FOREVER {
        return "never".into();
    }
    let d = t - now;
    let a = d.unsigned_abs();
    let amount = if a < 60 {
        format!("{a}s")
    } else if a < 3600 {
        format!("{}m", a / 60)
    } else if a < 86_400 {
        format!("{}h", a / 3600)
    } else {
        format!("{}d", a / 86_400)
    };
    if d >= 0 {
        format!("in {amount}")
    } else {
        format!("{amount} ago")
    }
}

/// 9999-12-31T00:00:00Z: anything from here on is the Store's "forever".
pub const FOREVER: i64 = 253_402_214_400;

/// `3d 4h` for a duration in seconds.
pub fn short_duration(secs: i64) -> String {
    if secs == NONE {
        return "—".into();
    }
    let s = secs.max(0);
    let (d, h, m) = (s / 86_400, (s % 86_400) / 3600, (s % 3600) / 60);
    match (d, h) {
        (0, 0) => format!("{m}m"),
        (0, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h"),
    }
}

fn iso(t: i64) -> String {
    if t == NONE {
        return String::new();
    }
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

fn enum_text<'a>(d: &'a Dataset, s: super::data::Sym, known: &[&str]) -> Cow<'a, str> {
    let t = d.sym(s);
    if t.is_empty() {
        Cow::Borrowed("—")
    } else if known.iter().any(|k| k.eq_ignore_ascii_case(t)) {
        Cow::Borrowed(t)
    } else {
        Cow::Owned(format!("other: {t}"))
    }
}

fn joined<'a>(d: &'a Dataset, s: super::data::Span) -> Cow<'a, str> {
    match d.list(s) {
        [] => Cow::Borrowed(""),
        [one] => Cow::Borrowed(d.sym(*one)),
        many => Cow::Owned(many.iter().map(|&x| d.sym(x)).collect::<Vec<_>>().join(",")),
    }
}

use crate::store::model::{AcquisitionType, EntitlementStatus, ProductKind};

/// Whether any enum field of the row holds a value this build does not know.
pub fn has_unknown(d: &Dataset, r: &Row) -> bool {
    let unknown = |s, known: &[&str]| {
        let t = d.sym(s);
        !t.is_empty() && !known.iter().any(|k| k.eq_ignore_ascii_case(t))
    };
    unknown(r.kind, ProductKind::KNOWN)
        || unknown(r.status, EntitlementStatus::KNOWN)
        || unknown(r.acquisition, AcquisitionType::KNOWN)
}

/// A cell as the console shows it (times relative to `now`).
pub fn display<'a>(d: &'a Dataset, r: &Row, c: Column, now: i64) -> Cow<'a, str> {
    if let Some(cell) = unreadable_cell(d, r, c) {
        return cell;
    }
    match c {
        Column::Mark => Cow::Borrowed(match (r.dup.any(), has_unknown(d, r)) {
            (true, true) => "⧉?",
            (true, false) => "⧉",
            (false, true) => "?",
            _ => "",
        }),
        Column::Start => Cow::Owned(short_relative(r.start, now)),
        Column::End => Cow::Owned(short_relative(r.end, now)),
        Column::Trial => {
            if r.in_trial {
                Cow::Owned(short_duration(r.trial_left))
            } else if r.is_trial {
                Cow::Borrowed("trial over")
            } else {
                Cow::Borrowed("")
            }
        }
        other => export(d, r, other),
    }
}

/// An unreadable item's row: flagged in the mark column, the reason
/// where its status would be; the rest is what could be salvaged.
fn unreadable_cell<'a>(d: &'a Dataset, r: &Row, c: Column) -> Option<Cow<'a, str>> {
    let why = d.sym(r.unreadable);
    if why.is_empty() {
        return None;
    }
    match c {
        Column::Mark => Some(Cow::Borrowed("✗")),
        Column::Status => Some(Cow::Owned(format!("unreadable: {why}"))),
        _ => None,
    }
}

/// A cell as exports write it (absolute UTC times, full text).
pub fn export<'a>(d: &'a Dataset, r: &Row, c: Column) -> Cow<'a, str> {
    if let Some(cell) = unreadable_cell(d, r, c) {
        return cell;
    }
    match c {
        Column::Mark => Cow::Borrowed(r.dup.label()),
        Column::Product => Cow::Borrowed(d.sym(r.product)),
        Column::Sku => Cow::Borrowed(d.sym(r.sku)),
        Column::Kind => enum_text(d, r.kind, ProductKind::KNOWN),
        Column::Status => enum_text(d, r.status, EntitlementStatus::KNOWN),
        Column::Acquisition => enum_text(d, r.acquisition, AcquisitionType::KNOWN),
        Column::Quantity => {
            if r.quantity == NONE {
                Cow::Borrowed("")
            } else {
                Cow::Owned(r.quantity.to_string())
            }
        }
        Column::Start => Cow::Owned(iso(r.start)),
        Column::End => Cow::Owned(iso(r.end)),
        Column::Trial => {
            if r.trial_left == NONE {
                Cow::Borrowed("")
            } else {
                Cow::Owned(short_duration(r.trial_left))
            }
        }
        Column::SatisfiedBy => joined(d, r.satisfied_by),
        Column::Tags => joined(d, r.tags),
        Column::TransactionId => Cow::Borrowed(d.text(r.transaction)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_times_are_short_and_directional() {
        assert_eq!(short_relative(100, 100 + 86_400 * 3), "3d ago");
        assert_eq!(short_relative(100 + 7200, 100), "in 2h");
        assert_eq!(short_relative(FOREVER + 5, 0), "never");
        assert_eq!(short_relative(NONE, 0), "—");
        assert_eq!(short_duration(3 * 86_400 + 4 * 3600), "3d 4h");
        assert_eq!(short_duration(90), "1m");
    }
}
