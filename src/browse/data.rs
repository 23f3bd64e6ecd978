//! The in-memory set of entitlements a browser shows: one compact [`Row`]
//! per item, repeated text interned, unique text in one arena, and each
//! item's raw JSON kept packed (see [`super::compact`]) for the detail view
//! and exports. Sized for 100k items in well under 60 MB.

use super::compact;
use crate::store::model::{Entitlement, StoreTime};
use std::collections::HashMap;
use std::hash::BuildHasher;

/// An interned string.
pub type Sym = u32;

/// "No value" for the i64 fields of a [`Row`].
pub const NONE: i64 = i64::MIN;

/// A slice of one of the dataset's arenas.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    pub start: u32,
    pub len: u32,
}

impl Span {
    fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.start as usize + self.len as usize
    }
}

/// Why a row is marked as a duplicate. Duplicates are shown, never dropped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DupMark {
    /// The same entitlement id came earlier in this listing (e.g. on
    /// another page, possibly with another status).
    pub repeat_id: bool,
    /// Another item carries the same product and SKU.
    pub same_product: bool,
}

impl DupMark {
    pub fn any(self) -> bool {
        self.repeat_id || self.same_product
    }

    pub fn label(self) -> &'static str {
        match (self.repeat_id, self.same_product) {
            (true, _) => "repeated id",
            (false, true) => "same product+sku",
            _ => "",
        }
    }
}

/// One entitlement, compact. Times are Unix seconds, [`NONE`] when absent.
#[derive(Clone, Debug)]
pub struct Row {
    pub id: Span,
    pub transaction: Span,
    pub raw: Span,
    pub tags: Span,
    pub satisfied_by: Span,
    pub product: Sym,
    pub sku: Sym,
    /// Interned wire text; the empty symbol when absent.
    pub kind: Sym,
    pub status: Sym,
    pub acquisition: Sym,
    pub acquired: i64,
    pub start: i64,
    pub end: i64,
    pub modified: i64,
    pub quantity: i64,
    /// Trial time left in seconds, [`NONE`] when not given.
    pub trial_left: i64,
    pub in_trial: bool,
    pub is_trial: bool,
    pub dup: DupMark,
    /// Page (1-based) the item arrived on.
    pub page: u32,
    /// Why the item could not be read ("" when it could): a flagged row
    /// whose raw JSON is all there is.
    pub unreadable: Sym,
}

/// Interned strings, each with its lower-case form for text search.
#[derive(Clone, Default, Debug)]
pub struct Interner {
    strings: Vec<Box<str>>,
    lower: Vec<Box<str>>,
    index: HashMap<Box<str>, Sym>,
}

impl Interner {
    pub fn intern(&mut self, s: &str) -> Sym {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.strings.len() as Sym;
        self.strings.push(s.into());
        self.lower.push(s.to_lowercase().into());
        self.index.insert(s.into(), i);
        i
    }

    pub fn get(&self, s: Sym) -> &str {
        self.strings.get(s as usize).map_or("", |b| b)
    }

    pub fn lower(&self, s: Sym) -> &str {
        self.lower.get(s as usize).map_or("", |b| b)
    }

    pub fn len(&self) -> usize {
        self.strings.len()
    }

    pub fn is_empty(&self) -> bool {
        self.strings.is_empty()
    }
}

/// Every entitlement of a listing, in arrival order.
#[derive(Clone, Default, Debug)]
pub struct Dataset {
    rows: Vec<Row>,
    pub syms: Interner,
    text: String,
    lists: Vec<Sym>,
    raw: Vec<u8>,
    /// Hash of an id → first row with it. A hash collision between two
    /// different ids is checked against the text and not taken for a repeat.
    seen_ids: HashMap<u64, u32>,
    /// (product, sku) → first row with it.
    seen_products: HashMap<(Sym, Sym), u32>,
    hasher: std::collections::hash_map::RandomState,
    empty: Sym,
    /// Rows with any duplicate mark (kept so a frame need not count them).
    dup_rows: usize,
    unreadable_rows: usize,
}

fn secs(t: &Option<StoreTime>) -> i64 {
    t.map_or(NONE, |t| t.0.timestamp())
}

impl Dataset {
    pub fn new() -> Self {
        let mut d = Self::default();
        d.empty = d.syms.intern("");
        d
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Rows carrying a duplicate mark.
    pub fn duplicate_rows(&self) -> usize {
        self.dup_rows
    }

    /// Rows of items that could not be read (listed flagged).
    pub fn unreadable_rows(&self) -> usize {
        self.unreadable_rows
    }

    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    pub fn row(&self, i: u32) -> Option<&Row> {
        self.rows.get(i as usize)
    }

    pub fn text(&self, s: Span) -> &str {
        self.text.get(s.range()).unwrap_or("")
    }

    pub fn sym(&self, s: Sym) -> &str {
        self.syms.get(s)
    }

    pub fn list(&self, s: Span) -> &[Sym] {
        self.lists.get(s.range()).unwrap_or(&[])
    }

    /// The item's JSON exactly as the Store sent it (or, for an item that
    /// came without its raw text, as this build re-serialises it).
    pub fn raw_json(&self, r: &Row) -> String {
        self.raw
            .get(r.raw.range())
            .map(compact::unpack)
            .unwrap_or_default()
    }

    /// The full item, parsed again from its raw JSON (for the detail view).
    pub fn entitlement(&self, r: &Row) -> Option<Entitlement> {
        let raw = self.raw_json(r);
        let mut e: Entitlement = serde_json::from_str(&raw).ok()?;
        e.raw = serde_json::value::RawValue::from_string(raw).ok();
        Some(e)
    }

    fn push_text(&mut self, s: &str) -> Span {
        let start = self.text.len() as u32;
        self.text.push_str(s);
        Span {
            start,
            len: s.len() as u32,
        }
    }

    fn push_list(&mut self, items: &[String]) -> Span {
        let start = self.lists.len() as u32;
        for s in items {
            let sym = self.syms.intern(s);
            self.lists.push(sym);
        }
        Span {
            start,
            len: items.len() as u32,
        }
    }

    fn opt_sym(&mut self, s: Option<&str>) -> Sym {
        match s {
            Some(s) => self.syms.intern(s),
            None => self.empty,
        }
    }

    /// Append one page of items; marks duplicates against everything so far.
    pub fn extend(&mut self, page: u32, items: impl IntoIterator<Item = Entitlement>) {
        for e in items {
            self.push(page, e);
        }
    }

    pub fn push(&mut self, page: u32, e: Entitlement) {
        let idx = self.rows.len() as u32;
        let id = self.push_text(&e.id);
        let transaction = self.push_text(e.transaction_id.as_deref().unwrap_or(""));
        let raw_start = self.raw.len() as u32;
        match &e.raw {
            Some(r) => compact::pack_into(r.get(), &mut self.raw),
            None => {
                let j = serde_json::to_string(&e).unwrap_or_default();
                compact::pack_into(&j, &mut self.raw);
            }
        }
        let raw = Span {
            start: raw_start,
            len: self.raw.len() as u32 - raw_start,
        };
        let tags = self.push_list(&e.tags);
        let satisfied_by = self.push_list(&e.satisfied_by_product_ids);
        let product = self.syms.intern(&e.product_id);
        let sku = self.syms.intern(&e.sku_id);
        let kind = self.opt_sym(e.product_kind.as_ref().map(|k| k.as_str()));
        let status = self.opt_sym(e.status.as_ref().map(|k| k.as_str()));
        let acquisition = self.opt_sym(e.acquisition_type.as_ref().map(|k| k.as_str()));
        let trial = e.trial_data.as_ref();
        let mut dup = DupMark::default();
        let unreadable = self.opt_sym(e.unreadable.as_deref());
        if e.unreadable.is_some() {
            self.unreadable_rows += 1;
        }
        let h = self.hasher.hash_one(&e.id);
        // An unreadable item's ids are what could be salvaged: never a
        // reason to mark another row a duplicate.
        let seen = if e.unreadable.is_some() {
            None
        } else {
            self.seen_ids.get(&h)
        };
        match seen {
            Some(&first) => {
                let same = self
                    .rows
                    .get(first as usize)
                    .is_some_and(|r| self.text(r.id) == e.id);
                dup.repeat_id = same;
            }
            None if e.unreadable.is_some() => {}
            None => {
                self.seen_ids.insert(h, idx);
            }
        }
        let seen = if e.unreadable.is_some() {
            None
        } else {
            self.seen_products.get(&(product, sku))
        };
        match seen {
            Some(&first) => {
                dup.same_product = true;
                if let Some(r) = self.rows.get_mut(first as usize) {
                    if !r.dup.any() {
                        self.dup_rows += 1;
                    }
                    r.dup.same_product = true;
                }
            }
            None if e.unreadable.is_some() => {}
            None => {
                self.seen_products.insert((product, sku), idx);
            }
        }
        if dup.any() {
            self.dup_rows += 1;
        }
        self.rows.push(Row {
            id,
            transaction,
            raw,
            tags,
            satisfied_by,
            product,
            sku,
            kind,
            status,
            acquisition,
            acquired: secs(&e.acquired_date),
            start: secs(&e.start_date),
            end: secs(&e.end_date),
            modified: secs(&e.modified_date),
            quantity: e.quantity.unwrap_or(NONE),
            trial_left: trial
                .and_then(|t| t.trial_time_remaining.as_ref())
                .map_or(NONE, |t| t.0.num_seconds()),
            in_trial: trial.is_some_and(|t| t.is_in_trial_period),
            is_trial: trial.is_some_and(|t| t.is_trial),
            dup,
            page,
            unreadable,
        });
    }

    /// Rows whose `satisfiedByProductIds` lists `product` (what a pass
    /// entitles), in arrival order.
    pub fn satisfied_through(&self, product: Sym) -> Vec<u32> {
        (0..self.rows.len() as u32)
            .filter(|&i| {
                self.rows
                    .get(i as usize)
                    .is_some_and(|r| self.list(r.satisfied_by).contains(&product))
            })
            .collect()
    }

    /// Rows for `product` (any SKU), in arrival order.
    pub fn rows_of_product(&self, product: &str) -> Vec<u32> {
        (0..self.rows.len() as u32)
            .filter(|&i| {
                self.rows
                    .get(i as usize)
                    .is_some_and(|r| self.sym(r.product) == product)
            })
            .collect()
    }

    /// Memory held by the dataset's own buffers (not counting allocator slack).
    pub fn heap_bytes(&self) -> usize {
        self.rows.capacity() * std::mem::size_of::<Row>()
            + self.text.capacity()
            + self.lists.capacity() * 4
            + self.raw.capacity()
            + self.seen_ids.capacity() * 16
            + self.seen_products.capacity() * 12
    }
}
