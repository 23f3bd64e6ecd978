//! Sorting the rows of a dataset by any column. The result is an order of
//! row indices that filtering then walks, so a filter change never sorts.

use super::column::{Column, has_unknown};
use super::data::{Dataset, NONE, Row, Sym};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SortSpec {
    pub column: Column,
    pub descending: bool,
}

impl Default for SortSpec {
    fn default() -> Self {
        Self {
            column: Column::Product,
            descending: false,
        }
    }
}

/// Every row index of `d`, ordered by `spec`; ties keep arrival order.
pub fn order(d: &Dataset, spec: SortSpec) -> Vec<u32> {
    let rows = d.rows();
    let mut idx: Vec<u32> = (0..rows.len() as u32).collect();
    if spec.column == Column::TransactionId {
        idx.sort_by(|&a, &b| {
            let t = |i: u32| rows.get(i as usize).map_or("", |r| d.text(r.transaction));
            t(a).cmp(t(b))
        });
    } else {
        let rank = sym_ranks(d);
        let key = |r: &Row| -> u64 { flip(int_key(d, r, spec.column, &rank)) };
        let mut keyed: Vec<(u64, u32)> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| (key(r), i as u32))
            .collect();
        keyed.sort_unstable();
        idx = keyed.into_iter().map(|(_, i)| i).collect();
    }
    if spec.descending {
        // Reverse, but keep arrival order within equal keys.
        reverse_keeping_ties(d, &mut idx, spec.column);
    }
    idx
}

fn flip(k: i64) -> u64 {
    (k as u64) ^ (1 << 63)
}

/// Rank of every symbol in case-insensitive text order.
fn sym_ranks(d: &Dataset) -> Vec<u32> {
    let mut syms: Vec<Sym> = (0..d.syms.len() as Sym).collect();
    syms.sort_by(|&a, &b| {
        d.syms
            .lower(a)
            .cmp(d.syms.lower(b))
            .then_with(|| d.sym(a).cmp(d.sym(b)))
    });
    let mut rank = vec![0u32; syms.len()];
    for (r, s) in syms.into_iter().enumerate() {
        if let Some(slot) = rank.get_mut(s as usize) {
            *slot = r as u32;
        }
    }
    rank
}

fn int_key(d: &Dataset, r: &Row, c: Column, rank: &[u32]) -> i64 {
    let rk = |s: Sym| i64::from(rank.get(s as usize).copied().unwrap_or(0));
    let first = |s| d.list(s).first().map_or(-1, |&x| rk(x));
    match c {
        Column::Mark => {
            i64::from(r.dup.repeat_id) * 4
                + i64::from(r.dup.same_product) * 2
                + i64::from(has_unknown(d, r))
        }
        Column::Product => rk(r.product),
        Column::Sku => rk(r.sku),
        Column::Kind => rk(r.kind),
        Column::Status => rk(r.status),
        Column::Acquisition => rk(r.acquisition),
        Column::Quantity => r.quantity,
        Column::Start => r.start,
        Column::End => r.end,
        Column::Trial => {
            if r.in_trial {
                r.trial_left
            } else {
                NONE
            }
        }
        Column::SatisfiedBy => first(r.satisfied_by),
        Column::Tags => first(r.tags),
        Column::TransactionId => 0,
    }
}

fn reverse_keeping_ties(d: &Dataset, idx: &mut [u32], c: Column) {
    idx.reverse();
    // Runs of equal keys are now in reverse arrival order: flip each back.
    let rank = sym_ranks(d);
    let rows = d.rows();
    let key = |i: u32| -> (i64, &str) {
        match rows.get(i as usize) {
            Some(r) if c == Column::TransactionId => (0, d.text(r.transaction)),
            Some(r) => (int_key(d, r, c, &rank), ""),
            None => (0, ""),
        }
    };
    let mut start = 0;
    while start < idx.len() {
        let k = key(idx[start]);
        let mut end = start + 1;
        while end < idx.len() && key(idx[end]) == k {
            end += 1;
        }
        idx[start..end].reverse();
        start = end;
    }
}
