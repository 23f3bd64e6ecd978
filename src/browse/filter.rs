//! The one entitlement filter: statuses (any of), kinds (any of), an
//! acquisition type, valid-now, in-trial, and text over product, SKU, tags
//! and transaction id. Used by the console pane and the headless command.

use super::data::{Dataset, NONE, Row, Sym};
use crate::store::model::{AcquisitionType, EntitlementStatus, ProductKind};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// Any of these; empty = every status.
    pub statuses: Vec<EntitlementStatus>,
    /// Any of these; empty = every kind.
    pub kinds: Vec<ProductKind>,
    pub acquisition: Option<AcquisitionType>,
    /// Active, started and not yet ended (the Store's `validityType: Valid`).
    pub valid_now: bool,
    /// `trialData.isInTrialPeriod`.
    pub in_trial: bool,
    /// Case-insensitive substring of product id, SKU id, a tag or the
    /// transaction id; blank = no text filter.
    pub text: String,
}

impl Filter {
    pub fn is_empty(&self) -> bool {
        *self
            == Self {
                text: self.text.clone(),
                ..Self::default()
            }
            && self.text.trim().is_empty()
    }

    /// `Active · Durable, Consumable · 'sword'`, or `All` when nothing narrows.
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        let names = |v: &mut dyn Iterator<Item = String>| v.collect::<Vec<_>>().join(", ");
        if !self.statuses.is_empty() {
            parts.push(names(&mut self.statuses.iter().map(|s| s.to_string())));
        }
        if !self.kinds.is_empty() {
            parts.push(names(&mut self.kinds.iter().map(|s| s.to_string())));
        }
        if let Some(a) = &self.acquisition {
            parts.push(a.to_string());
        }
        if self.valid_now {
            parts.push("valid now".into());
        }
        if self.in_trial {
            parts.push("in trial".into());
        }
        let t = self.text.trim();
        if !t.is_empty() {
            parts.push(format!("'{t}'"));
        }
        if parts.is_empty() {
            "All".into()
        } else {
            parts.join(" · ")
        }
    }

    pub fn toggle_status(&mut self, s: EntitlementStatus) {
        toggle(&mut self.statuses, s);
    }

    pub fn toggle_kind(&mut self, k: ProductKind) {
        toggle(&mut self.kinds, k);
    }

    /// Ready to run over `d` at `now` (Unix seconds).
    pub fn compile(&self, d: &Dataset, now: i64) -> Compiled {
        let n = d.syms.len();
        let by_sym = |ok: &dyn Fn(&str) -> bool| -> Option<Vec<bool>> {
            Some((0..n as Sym).map(|s| ok(d.sym(s))).collect())
        };
        let needle = self.text.trim().to_lowercase();
        Compiled {
            status: (!self.statuses.is_empty())
                .then(|| by_sym(&|t| self.statuses.contains(&EntitlementStatus::parse(t))))
                .flatten(),
            kind: (!self.kinds.is_empty())
                .then(|| by_sym(&|t| self.kinds.contains(&ProductKind::parse(t))))
                .flatten(),
            acquisition: self
                .acquisition
                .as_ref()
                .and_then(|a| by_sym(&|t| AcquisitionType::parse(t) == *a)),
            text: (!needle.is_empty()).then(|| {
                (0..n as Sym)
                    .map(|s| d.syms.lower(s).contains(&needle))
                    .collect()
            }),
            active: d.syms_lookup("Active"),
            valid_now: self.valid_now,
            in_trial: self.in_trial,
            needle,
            now,
        }
    }

    /// Indices (from `order`, kept in its order) of the rows that match.
    pub fn apply(&self, d: &Dataset, order: &[u32], now: i64) -> Vec<u32> {
        let c = self.compile(d, now);
        let rows = d.rows();
        order
            .iter()
            .copied()
            .filter(|&i| rows.get(i as usize).is_some_and(|r| c.matches(d, r)))
            .collect()
    }
}

fn toggle<T: PartialEq>(v: &mut Vec<T>, x: T) {
    match v.iter().position(|y| *y == x) {
        Some(i) => {
            v.remove(i);
        }
        None => v.push(x),
    }
}

/// A filter turned into per-symbol tables, so a row costs a few lookups.
pub struct Compiled {
    status: Option<Vec<bool>>,
    kind: Option<Vec<bool>>,
    acquisition: Option<Vec<bool>>,
    /// Per symbol: does its text contain the needle.
    text: Option<Vec<bool>>,
    /// Every spelling of "Active" the dataset holds.
    active: Vec<Sym>,
    valid_now: bool,
    in_trial: bool,
    needle: String,
    now: i64,
}

fn hit(table: &Option<Vec<bool>>, s: Sym) -> bool {
    match table {
        None => true,
        Some(t) => t.get(s as usize).copied().unwrap_or(false),
    }
}

impl Compiled {
    pub fn matches(&self, d: &Dataset, r: &Row) -> bool {
        if !hit(&self.status, r.status)
            || !hit(&self.kind, r.kind)
            || !hit(&self.acquisition, r.acquisition)
        {
            return false;
        }
        if self.in_trial && !r.in_trial {
            return false;
        }
        if self.valid_now
            && !(self.active.contains(&r.status)
                && (r.start == NONE || r.start <= self.now)
                && (r.end == NONE || self.now < r.end))
        {
            return false;
        }
        match &self.text {
            None => true,
            Some(t) => {
                let h = |s: Sym| t.get(s as usize).copied().unwrap_or(false);
                h(r.product)
                    || h(r.sku)
                    || d.list(r.tags).iter().any(|&s| h(s))
                    || contains_ci(d.text(r.transaction), &self.needle)
            }
        }
    }
}

/// `hay` contains `needle_lower` ignoring case (`needle_lower` already lower-cased).
pub fn contains_ci(hay: &str, needle_lower: &str) -> bool {
    if needle_lower.is_empty() {
        return true;
    }
    if hay.is_ascii() {
        let (h, n) = (hay.as_bytes(), needle_lower.as_bytes());
        if n.len() > h.len() {
            return false;
        }
        return h
            .windows(n.len())
            .any(|w| w.iter().zip(n).all(|(a, b)| a.to_ascii_lowercase() == *b));
    }
    hay.to_lowercase().contains(needle_lower)
}

impl Dataset {
    /// Symbols whose text is `s` ignoring ASCII case.
    pub fn syms_lookup(&self, s: &str) -> Vec<Sym> {
        (0..self.syms.len() as Sym)
            .filter(|&x| self.sym(x).eq_ignore_ascii_case(s))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_like_the_title_wants() {
        let f = Filter {
            statuses: vec![EntitlementStatus::Active],
            kinds: vec![ProductKind::Durable, ProductKind::Consumable],
            text: " sword ".into(),
            ..Filter::default()
        };
        assert_eq!(f.describe(), "Active · Durable, Consumable · 'sword'");
        assert_eq!(Filter::default().describe(), "All");
        assert!(Filter::default().is_empty());
        assert!(!f.is_empty());
    }

    #[test]
    fn case_insensitive_contains() {
        assert!(contains_ci("ABC-def", "c-d"));
        assert!(!contains_ci("abc", "abcd"));
        assert!(contains_ci("ÉCOLE", "éc"));
    }
}
