//! `storedesk journal migrate --to postgres://…`: copy this data dir's
//! SQLite history into a team journal (`journal::migrate`), then print
//! what was copied. Running it again copies nothing twice.

use super::writes::{EXIT_REFUSED, fail, print_out};
use super::{Context, JournalAction, JournalArgs};
use crate::journal::pg::{PgJournal, PgSettings};
use std::process::ExitCode;

pub fn run(ctx: &Context, a: &JournalArgs) -> ExitCode {
    match &a.action {
        JournalAction::Migrate { to, json } => migrate(ctx, to.as_deref(), *json),
    }
}

fn migrate(ctx: &Context, to: Option<&str>, json: bool) -> ExitCode {
    let sqlite = ctx.paths.journal_db();
    if !sqlite.exists() {
        return fail(
            EXIT_REFUSED,
            format!(
                "no local journal at {}: nothing to migrate",
                sqlite.display()
            ),
        );
    }
    // The profile's team journal gives the password and seal key by
    // reference; --to names the database (else the profile's journal_url).
    let team = ctx.config.profile.journal.as_ref();
    let mut s = match (to, team) {
        (Some(url), Some(t)) => {
            let mut s = PgSettings::from_team(t, sqlite.clone());
            s.url = url.to_string();
            s
        }
        (Some(url), None) => PgSettings::from_team(
            &crate::config::TeamJournal {
                url: url.to_string(),
                password: crate::config::SecretSource::None,
                seal_key: crate::config::SecretSource::Env(
                    crate::journal::pg::TEAM_SEAL_KEY_ENV.into(),
                ),
            },
            sqlite.clone(),
        ),
        (None, Some(t)) => PgSettings::from_team(t, sqlite.clone()),
        (None, None) => {
            return fail(
                super::USAGE_ERROR,
                "journal migrate: name the team journal with --to postgres://user@host:port/db (or journal_url in the profile)",
            );
        }
    };
    if !s.url.starts_with("postgres://") && !s.url.starts_with("postgresql://") {
        return fail(
            super::USAGE_ERROR,
            "journal migrate: --to must be a postgres:// URL",
        );
    }
    // Copying history needs no seal key (pending writes stay local).
    s.machine
        .get_or_insert_with(crate::journal::pg::machine_name);
    let dst = match PgJournal::open(&s, ctx.clock.clone()) {
        Ok(j) => j,
        Err(e) => return fail(EXIT_REFUSED, e),
    };
    let r = match crate::journal::migrate::to_postgres(&sqlite, &dst) {
        Ok(r) => r,
        Err(e) => return fail(EXIT_REFUSED, format!("nothing was copied: {e}")),
    };
    let text = if json {
        serde_json::to_string_pretty(&r).unwrap_or_default() + "\n"
    } else {
        let mut t = format!(
            "copied to {}: {} write(s), {} audit row(s), {} order transaction(s); \
             already there: {} write(s), {} audit row(s)\n",
            s.describe(),
            r.writes_copied,
            r.audit_copied,
            r.order_transactions_copied,
            r.writes_already_there,
            r.audit_already_there,
        );
        if r.pending_left > 0 {
            t.push_str(&format!(
                "left here: {} pending write(s) and their {} audit row(s) — settle them on this machine \
                 (storedesk pending --replay / --resolve), then run journal migrate again\n",
                r.pending_left, r.audit_left
            ));
        }
        t
    };
    print_out(&text)
}
