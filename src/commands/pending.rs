//! `storedesk pending [--replay | --resolve ID --applied|--not-applied
//! --note TEXT]`: show, replay or settle by hand the writes left without a
//! definite answer. Exit codes as for the writes (`super::writes`).

use super::writes::{
    EXIT_BLOCKED, EXIT_PENDING, EXIT_REFUSED, EXIT_USAGE, fail, is_still_pending, print_out,
    print_result, replay_line, say, write_refusal,
};
use super::{Context, PendingArgs};
use crate::journal::JournalStore;
use crate::journal::db::describe_owner;
use crate::journal::exec::{self, ResolveOutcome};
use crate::journal::request::{Actor, WriteRequest};
use crate::journal::writes::WriteRecord;
use std::process::ExitCode;

pub fn run(ctx: &Context, a: &PendingArgs) -> ExitCode {
    let journal = match crate::journal::open(&ctx.journal_location(), ctx.clock.clone()) {
        Ok(j) => j,
        Err(e) => return fail(EXIT_REFUSED, e),
    };
    let actor = Actor::from_profile(&ctx.config.profile);
    if let Some(id) = a.resolve {
        return resolve(ctx, &*journal, id, a, &actor);
    }
    // Rows this version cannot read are named and skipped: they never
    // hide or block the others.
    let damaged = journal.damaged_rows().unwrap_or_default();
    for d in &damaged {
        say(format_args!("storedesk: journal row {}", d.describe()));
    }
    if let Some(problem) = journal.seal_problem() {
        say(format_args!(
            "storedesk: {problem}: pending writes holding a sealed key cannot be replayed; check the Store, then resolve them by hand"
        ));
    }
    if !a.replay {
        let list = match journal.pending() {
            Ok(l) => l,
            Err(e) => return fail(EXIT_REFUSED, e),
        };
        if list.is_empty() && damaged.is_empty() {
            return print_out("no pending writes\n");
        }
        let mut text = format!(
            "{} pending write(s); replay with `storedesk --profile <profile> pending --replay`, \
             or settle one by hand with `pending --resolve ID --applied|--not-applied --note TEXT`:\n",
            list.len()
        );
        for w in &list {
            text.push_str(&describe_pending(&*journal, w));
        }
        let code = print_out(&text);
        return if code == ExitCode::SUCCESS {
            ExitCode::from(EXIT_PENDING)
        } else {
            code
        };
    }
    if let Some(refusal) = write_refusal(ctx) {
        return fail(EXIT_USAGE, refusal);
    }
    let rt = match crate::commands::runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    rt.block_on(async {
        let (client, _sandbox) = match super::connect::connect_headless(ctx).await {
            Ok(c) => c,
            Err(e) => return fail(EXIT_REFUSED, e),
        };
        let reports = match exec::replay_pending(&*journal, &client, &actor).await {
            Ok(r) => r,
            Err(e) => return fail(EXIT_REFUSED, e),
        };
        if reports.is_empty() {
            return print_out("no pending writes\n");
        }
        let mut still_pending = 0;
        let mut settled = String::new();
        for r in &reports {
            let line = replay_line(&r.write, &r.status);
            if is_still_pending(&r.status) {
                still_pending += 1;
                say(format_args!("{line}"));
            } else {
                settled.push_str(&line);
                settled.push('\n');
            }
        }
        // The exit code says what the replays did, even if stdout is gone.
        print_result(&settled, ExitCode::SUCCESS);
        if still_pending > 0 {
            return fail(
                EXIT_PENDING,
                format!("{still_pending} write(s) still pending; run `storedesk pending --replay` again (with the profile they were recorded under)"),
            );
        }
        ExitCode::SUCCESS
    })
}

/// `pending --resolve ID --applied|--not-applied --note TEXT`. Nothing is
/// sent, but it rewrites the record of a customer-affecting write, so like
/// a replay it needs a profile that allows writes.
fn resolve(
    ctx: &Context,
    journal: &dyn JournalStore,
    id: i64,
    a: &PendingArgs,
    actor: &Actor,
) -> ExitCode {
    if let Some(refusal) = write_refusal(ctx) {
        return fail(EXIT_USAGE, refusal);
    }
    let note = a.note.as_deref().unwrap_or_default().trim();
    if note.is_empty() {
        return fail(
            EXIT_USAGE,
            "--note must say what was checked (it goes into the audit log)",
        );
    }
    if let Ok(Some(w)) = journal.write(id)
        && w.state == crate::journal::WriteState::Pending
        && WriteRequest::replay_is_safe(w.kind, &w.body)
    {
        say(format_args!(
            "storedesk: note: #{id} can be replayed (`pending --replay`), which gets a definite answer from the Store and the order ids clawbacks are matched by; settling it by hand records neither"
        ));
    }
    match exec::resolve(journal, id, a.applied, note, actor) {
        Ok(outcome @ ResolveOutcome::Resolved(_)) => {
            print_result(&format!("{}\n", outcome.message(id)), ExitCode::SUCCESS)
        }
        Ok(outcome @ ResolveOutcome::Busy { .. }) => fail(EXIT_BLOCKED, outcome.message(id)),
        Ok(outcome) => fail(EXIT_USAGE, outcome.message(id)),
        Err(e) => fail(EXIT_REFUSED, e),
    }
}

fn describe_pending(journal: &dyn JournalStore, w: &WriteRecord) -> String {
    let unsafe_to_replay = if w.has_key && journal.seal_problem().is_some() {
        " · CANNOT be replayed: the seal key is damaged; check the Store, then --resolve"
            .to_string()
    } else if let Ok(Some(owner)) = journal.in_flight_by(w.id) {
        format!(
            " · being sent right now by {} — wait or retry",
            describe_owner(&owner)
        )
    } else if WriteRequest::replay_is_safe(w.kind, &w.body) {
        String::new()
    } else {
        " · NOT safe to replay: check the Store, then --resolve".to_string()
    };
    let kept: String =
        crate::journal::kept::for_write(journal.path(), w.id, w.kind.as_str(), &w.idempotency_key)
            .iter()
            .map(|k| {
                format!(
                    "\n      answered, not recorded ({}): {} — not recorded because: {}",
                    k.at, k.answer, k.error
                )
            })
            .collect();
    // A team journal's write names who recorded it, and where.
    let by = match &w.machine {
        Some(m) => format!(" · by {} on {m}", w.operator),
        None => String::new(),
    };
    format!(
        "  #{} {} · {}{by} · profile {} ({}) · customer {} · key {} · {} attempt(s) · last: {}{unsafe_to_replay}{kept}\n",
        w.id,
        w.created_at,
        w.summary,
        w.profile,
        w.environment,
        w.customer_fp,
        w.idempotency_key,
        w.attempts,
        w.last_error.as_deref().unwrap_or("no answer (interrupted)")
    )
}
