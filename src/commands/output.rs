//! How the headless list commands print: an aligned text table (default),
//! `--json` (one document), `--ndjson` (one object per line) or `--csv`.
//! One place, so `orders`, `subscriptions`, `clawbacks` and `timeline`
//! agree on every format.

use clap::Args;
use serde_json::{Map, Value};
use std::io::Write as _;
use std::process::ExitCode;

#[derive(Args, Debug, Clone, Default)]
pub struct OutputArgs {
    /// Print one JSON document
    #[arg(long, conflicts_with_all = ["ndjson", "csv"])]
    pub json: bool,
    /// Print one JSON object per line (one per item)
    #[arg(long, conflicts_with = "csv")]
    pub ndjson: bool,
    /// Print CSV (the text table's columns)
    #[arg(long)]
    pub csv: bool,
}

/// One list as every format needs it.
pub struct Listing {
    /// The JSON document's field holding the items, e.g. `orders`.
    pub name: &'static str,
    pub header: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
    /// The items as JSON (`--json`, `--ndjson`); may be fewer or more
    /// than the rows (an order is one item but a row per line item).
    pub items: Vec<Value>,
    /// Other fields of the JSON document (e.g. `complete`, `customer`).
    pub meta: Map<String, Value>,
    /// Lines after the text table (counts, what is partial).
    pub footer: Vec<String>,
}

impl Listing {
    pub fn render(&self, o: &OutputArgs) -> String {
        if o.json {
            let mut doc = self.meta.clone();
            doc.insert(self.name.into(), Value::Array(self.items.clone()));
            let mut s = serde_json::to_string_pretty(&Value::Object(doc)).unwrap_or_default();
            s.push('\n');
            s
        } else if o.ndjson {
            self.items.iter().map(|v| format!("{v}\n")).collect()
        } else if o.csv {
            let mut s = self.header.join(",");
            s.push('\n');
            for r in &self.rows {
                let cells: Vec<String> = r
                    .iter()
                    .map(|c| crate::browse::export::csv_field(c))
                    .collect();
                s.push_str(&cells.join(","));
                s.push('\n');
            }
            s
        } else {
            let mut s = text_table(&self.header, &self.rows);
            for f in &self.footer {
                s.push_str(f);
                s.push('\n');
            }
            s
        }
    }
}

/// Columns padded to their widest cell, two spaces apart.
pub fn text_table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut s = String::new();
        for (i, (c, w)) in cells.zip(&widths).enumerate() {
            if i > 0 {
                s.push_str("  ");
            }
            s.push_str(c);
            s.extend(std::iter::repeat_n(
                ' ',
                w.saturating_sub(c.chars().count()),
            ));
        }
        let mut s = s.trim_end().to_string();
        s.push('\n');
        s
    };
    let mut out = line(&mut header.iter().copied());
    for r in rows {
        out.push_str(&line(&mut r.iter().map(String::as_str)));
    }
    out
}

/// Print to stdout; a closed pipe (`| head`) is not an error.
pub fn print(text: &str) -> Result<(), ExitCode> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => {
            eprintln!("storedesk: cannot write the output: {e}");
            Err(ExitCode::from(1))
        }
    }
}

/// `2026-11-23 10:00:00` (UTC) or empty.
pub fn time(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing() -> Listing {
        Listing {
            name: "things",
            header: vec!["a", "long header"],
            rows: vec![vec!["x,y".into(), "1".into()]],
            items: vec![serde_json::json!({"a": "x,y"}), serde_json::json!({"a": 2})],
            meta: Map::new(),
            footer: vec!["1 thing".into()],
        }
    }

    #[test]
    fn every_format() {
        let l = listing();
        let text = l.render(&OutputArgs::default());
        assert_eq!(text, "a    long header\nx,y  1\n1 thing\n");
        let csv = l.render(&OutputArgs {
            csv: true,
            ..Default::default()
        });
        assert_eq!(csv, "a,long header\n\"x,y\",1\n");
        let nd = l.render(&OutputArgs {
            ndjson: true,
            ..Default::default()
        });
        assert_eq!(nd.lines().count(), 2);
        let json: Value = serde_json::from_str(&l.render(&OutputArgs {
            json: true,
            ..Default::default()
        }))
        .unwrap();
        assert_eq!(json["things"][1]["a"], 2);
    }
}
