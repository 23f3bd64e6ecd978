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

pub fn write_csv(out: &mut impl Write, d: &Dataset, rows: &[u32]) -> io::Result<()> {
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

/// One item per line (NDJSON), as the Store sent it.
pub fn write_ndjson(out: &mut impl Write, d: &Dataset, rows: &[u32]) -> io::Result<()> {
    for r in rows.iter().filter_map(|&i| d.row(i)) {
        out.write_all(d.raw_json(r).as_bytes())?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

pub fn write_json(out: &mut impl Write, d: &Dataset, rows: &[u32]) -> io::Result<()> {
    out.write_all(b"[")?;
    for (n, r) in rows.iter().filter_map(|&i| d.row(i)).enumerate() {
        if n > 0 {
            out.write_all(b",")?;
        }
        out.write_all(b"\n  ")?;
        out.write_all(d.raw_json(r).as_bytes())?;
    }
    out.write_all(b"\n]\n")
}

pub fn write(out: &mut impl Write, f: Format, d: &Dataset, rows: &[u32]) -> io::Result<()> {
    match f {
        Format::Csv => write_csv(out, d, rows),
        Format::Json => write_json(out, d, rows),
    }
}

/// The export as one string (for handing to a background writer).
pub fn to_string(f: Format, d: &Dataset, rows: &[u32]) -> String {
    let mut buf = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = write(&mut buf, f, d, rows);
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
}
