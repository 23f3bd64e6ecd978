//! Browsing entitlements without a terminal: the compact in-memory
//! dataset, the one filter, sorting and exports. Pure code, shared by the
//! console's Entitlements pane and the headless `storedesk entitlements`.

pub mod column;
pub mod compact;
pub mod data;
pub mod export;
pub mod filter;
pub mod sort;

pub use column::Column;
pub use data::{Dataset, DupMark, Row};
pub use export::Format;
pub use filter::Filter;
pub use sort::SortSpec;

/// `10,000`
pub fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The rows on screen: a filter over a sorted order, kept up to date as
/// pages arrive and as the filter or sort changes.
#[derive(Debug, Default)]
pub struct View {
    pub filter: Filter,
    pub sort: SortSpec,
    /// Every row, sorted.
    order: Vec<u32>,
    /// The rows that pass the filter, in sort order.
    pub visible: Vec<u32>,
}

impl View {
    /// Everything changed (new rows, new sort): sort and filter again.
    pub fn rebuild(&mut self, d: &Dataset, now: i64) {
        self.order = sort::order(d, self.sort);
        self.refilter(d, now);
    }

    /// Only the filter changed.
    pub fn refilter(&mut self, d: &Dataset, now: i64) {
        self.visible = self.filter.apply(d, &self.order, now);
    }

    /// "Active · Durable · 'sword' — 12 of 10,000"
    pub fn title(&self, d: &Dataset) -> String {
        let unreadable = match d.unreadable_rows() {
            0 => String::new(),
            n => format!(" · ✗ {} unreadable", thousands(n)),
        };
        format!(
            "{} — {} of {}{unreadable}",
            self.filter.describe(),
            thousands(self.visible.len()),
            thousands(d.len())
        )
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_separators() {
        assert_eq!(super::thousands(0), "0");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(10_000), "10,000");
        assert_eq!(super::thousands(1_234_567), "1,234,567");
    }
}
