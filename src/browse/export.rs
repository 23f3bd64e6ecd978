//! CSV and JSON of a set of rows (the visible ones: filtered, in table
//! order). JSON is the items exactly as the Store sent them; CSV has one
//! column per field with absolute UTC times and the duplicate mark.

use super::column::{Column, export};
use super::data::Dataset;
use std::io::{self, Write};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "json",
        }
    }
}

/// A listing that stopped before its end (call budget, cancel, error):
/// what an export of it says, so a partial file never looks complete.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incomplete {
    /// Items received before it stopped (the whole is at least this).
    pub got: usize,
    /// Short: "the call budget", "a cancel", "an error (timed out)".
    pub stopped_by: String,
}

impl std::fmt::Display for Incomplete {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = super::thousands(self.got);
        write!(
            f,
            "incomplete: {n} of ≥ {n}, stopped by {}",
            self.stopped_by
        )
    }
}

/// The CSV columns after `id`, in order.
pub const CSV_COLUMNS: [Column; 13] = [
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
    Column::Mark,
];

/// A CSV field, quoted when it must be (RFC 4180). A leading `=`, `+`,
/// `-` or `@` is prefixed with `'` so a spreadsheet never runs it as a formula.
pub fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// CSV; an incomplete listing starts with a `# incomplete: …` comment line.
pub fn write_csv(
    out: &mut impl Write,
    d: &Dataset,
    rows: &[u32],
    incomplete: Option<&Incomplete>,
) -> io::Result<()> {
    if let Some(inc) = incomplete {
        writeln!(out, "# {inc}")?;
    }
    let mut header = vec!["id"];
    header.extend(CSV_COLUMNS.iter().map(|c| c.key()));
    writeln!(out, "{}", header.join(","))?;
    for r in rows.iter().filter_map(|&i| d.row(i)) {
        let mut line = csv_field(d.text(r.id));
        for c in CSV_COLUMNS {
            line.push(',');
            line.push_str(&csv_field(&export(d, r, c)));
        }
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// One item per line (NDJSON), as the Store sent it; an incomplete
/// listing starts with a `{"complete": false, "incomplete": "…"}` line.
pub fn write_ndjson(
    out: &mut impl Write,
    d: &Dataset,
    rows: &[u32],
    incomplete: Option<&Incomplete>,
) -> io::Result<()> {
    if let Some(inc) = incomplete {
        let note = serde_json::json!({"complete": false, "incomplete": inc.to_string()});
        writeln!(out, "{note}")?;
    }
    for r in rows.iter().filter_map(|&i| d.row(i)) {
        out.write_all(d.raw_json(r).as_bytes())?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// One array of the items as the Store sent them; an incomplete listing
/// is one object instead, `{"complete": false, "incomplete": "…", "items": […]}`,
/// so a script that expects the whole list cannot take part of it for all.
pub fn write_json(
    out: &mut impl Write,
    d: &Dataset,
    rows: &[u32],
    incomplete: Option<&Incomplete>,
) -> io::Result<()> {
    if let Some(inc) = incomplete {
        let note = serde_json::to_string(&inc.to_string()).unwrap_or_default();
        write!(
            out,
            "{{\"complete\": false, \"incomplete\": {note}, \"items\": "
        )?;
        write_items(out, d, rows)?;
        return out.write_all(b"}\n");
    }
    write_items(out, d, rows)?;
    out.write_all(b"\n")
}

fn write_items(out: &mut impl Write, d: &Dataset, rows: &[u32]) -> io::Result<()> {
    out.write_all(b"[")?;
    for (n, r) in rows.iter().filter_map(|&i| d.row(i)).enumerate() {
        if n > 0 {
            out.write_all(b",")?;
        }
        out.write_all(b"\n  ")?;
        out.write_all(d.raw_json(r).as_bytes())?;
    }
    out.write_all(b"\n]")
}

pub fn write(
    out: &mut impl Write,
    f: Format,
    d: &Dataset,
    rows: &[u32],
    incomplete: Option<&Incomplete>,
) -> io::Result<()> {
    match f {
        Format::Csv => write_csv(out, d, rows, incomplete),
        Format::Json => write_json(out, d, rows, incomplete),
    }
}

/// The export as one string (for handing to a background writer).
pub fn to_string(f: Format, d: &Dataset, rows: &[u32], incomplete: Option<&Incomplete>) -> String {
    let mut buf = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = write(&mut buf, f, d, rows, incomplete);
    String::from_utf8(buf).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=cmd()"), "'=cmd()");
    }

    /// The console's export of a stopped listing says so in the file.
    #[test]
    fn an_incomplete_export_says_so_in_the_file() {
        let e = crate::store::model::Entitlement {
            id: "X".into(),
            product_id: "P".into(),
            ..Default::default()
        };
        let mut d = Dataset::new();
        d.extend(1, [e]);
        let inc = Incomplete {
            got: 9_300,
            stopped_by: "a cancel".into(),
        };
        let csv = to_string(Format::Csv, &d, &[0], Some(&inc));
        assert!(
            csv.starts_with("# incomplete: 9,300 of ≥ 9,300, stopped by a cancel\nid,"),
            "{csv}"
        );
        let json: serde_json::Value =
            serde_json::from_str(&to_string(Format::Json, &d, &[0], Some(&inc))).unwrap();
        assert_eq!(json["complete"], false);
        assert_eq!(json["items"][0]["id"], "X");
        let whole: serde_json::Value =
            serde_json::from_str(&to_string(Format::Json, &d, &[0], None)).unwrap();
        assert_eq!(whole[0]["id"], "X", "a complete export stays an array");
    }
}
