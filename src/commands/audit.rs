//! `storedesk audit [--json | --ndjson]`: the audit log, as a table, one
//! JSON array, or JSON lines.

use super::writes::{EXIT_REFUSED, fail, print_out};
use super::{AuditArgs, Context};
use crate::journal::audit::{self, AuditFilter};
use std::process::ExitCode;

pub fn run(ctx: &Context, a: &AuditArgs) -> ExitCode {
    let journal = match crate::journal::open(&ctx.journal_location(), ctx.clock.clone()) {
        Ok(j) => j,
        Err(e) => return fail(EXIT_REFUSED, e),
    };
    let entries = match journal.audit(&AuditFilter::default()) {
        Ok(e) => e,
        Err(e) => return fail(EXIT_REFUSED, e),
    };
    let text = if a.json {
        audit::to_json(&entries)
    } else if a.ndjson {
        audit::to_json_lines(&entries)
    } else {
        audit::to_table(&entries)
    };
    print_out(&text)
}
