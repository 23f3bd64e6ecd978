//! The team journal (a profile's `journal_url`): the connection, the
//! schema version and the application role's rights on the audit log
//! (UPDATE / DELETE / TRUNCATE must be refused), and the team seal key.
//! Read-only: the schema is never created or migrated from here.

use super::{CheckResult, Status, skip};
use crate::config::Profile;
use crate::journal::pg::{self, PG_SCHEMA_VERSION, PgSettings};
use std::path::Path;

const G: &str = "team";

/// Nothing when the profile has no team journal. Blocking (a PostgreSQL
/// round trip): the caller runs it on a blocking thread.
pub(super) fn check(profile: Option<&Profile>, journal_db: &Path) -> Vec<CheckResult> {
    let Some(team) = profile.and_then(|p| p.journal.as_ref()) else {
        return Vec::new();
    };
    let s = PgSettings::from_team(team, journal_db.to_path_buf());
    let at = s.describe();
    let p = match pg::probe(&s) {
        Ok(p) => p,
        Err(e) => {
            return vec![
                CheckResult::new(G, "connection", Status::Fail, format!("{at}: {e}")).fix(
                    "Writes are refused while the team journal cannot be reached (reads work): check journal_url's \
                     host and port, the network, the role's password (journal_password_env / journal_password_command) \
                     and, for a managed server, sslmode=require in the URL.",
                ),
                skip(G, "schema", "no connection"),
                skip(G, "audit rights", "no connection"),
                seal(&s),
            ];
        }
    };
    let mut out = vec![CheckResult::new(
        G,
        "connection",
        Status::Pass,
        format!(
            "{at} answers as {} (PostgreSQL {}, {} ms)",
            p.role, p.server_version, p.ms
        ),
    )];
    out.push(match p.schema {
        Some(v) if v == PG_SCHEMA_VERSION => {
            CheckResult::new(G, "schema", Status::Pass, format!("version {v} (current)"))
        }
        Some(v) if v > PG_SCHEMA_VERSION => CheckResult::new(
            G,
            "schema",
            Status::Fail,
            format!("version {v}, newer than this storedesk knows ({PG_SCHEMA_VERSION})"),
        )
        .fix("Another agent runs a newer storedesk: upgrade this one before writing."),
        Some(v) => CheckResult::new(
            G,
            "schema",
            Status::Warn,
            format!("version {v}; this storedesk brings it to {PG_SCHEMA_VERSION} on first use"),
        )
        .fix("Nothing to do: the first write (or `storedesk pending`) migrates it, under a lock."),
        None => CheckResult::new(G, "schema", Status::Warn, "not created yet")
            .fix("Nothing to do: the first agent to use the journal creates it (the role must own the database, see README)."),
    });
    out.push(match p.audit_rights {
        None => skip(G, "audit rights", "the schema is not created yet"),
        Some((false, false, false)) => CheckResult::new(
            G,
            "audit rights",
            Status::Pass,
            format!("{} cannot UPDATE, DELETE or TRUNCATE audit rows", p.role),
        ),
        Some((u, d, t)) => {
            let may: Vec<&str> = [(u, "UPDATE"), (d, "DELETE"), (t, "TRUNCATE")]
                .into_iter()
                .filter_map(|(yes, what)| yes.then_some(what))
                .collect();
            CheckResult::new(
                G,
                "audit rights",
                Status::Fail,
                format!("{} may {} the audit log", p.role, may.join(", ")),
            )
            .fix(format!(
                "The agents' role must not be able to change the audit log: connect as the application role \
                 (not a superuser or the table owner's admin), or `REVOKE UPDATE, DELETE, TRUNCATE ON audit FROM {};` \
                 (README, Team journal).",
                p.role
            ))
        }
    });
    out.push(match p.seal {
        Ok(id) => CheckResult::new(G, "team seal key", Status::Pass, format!("set (id {id})")),
        Err(e) => CheckResult::new(G, "team seal key", Status::Fail, e).fix(
            "Writes and replays are refused without it: give every agent the same key (base64 of 32 random bytes) \
             in STOREDESK_TEAM_SEAL_KEY, or journal_seal_key_env / journal_seal_key_command.",
        ),
    });
    out
}

fn seal(s: &PgSettings) -> CheckResult {
    match pg::probe_seal(&s.seal_key) {
        Ok(id) => CheckResult::new(G, "team seal key", Status::Pass, format!("set (id {id})")),
        Err(e) => CheckResult::new(G, "team seal key", Status::Fail, e)
            .fix("Writes and replays are refused without it: give every agent the same key (base64 of 32 random bytes)."),
    }
}
