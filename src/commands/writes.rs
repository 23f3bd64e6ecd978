//! Headless write commands: `consume`, `grant`, and what `pending` shares
//! with them (replaying earlier writes first, exit codes, output).
//!
//! Exit codes: 0 done · 1 the Store refused the write (nothing applied) or
//! an error · 2 refused before sending (usage, read-only profile, no
//! confirmation) · 3 not sent because earlier writes of this profile are
//! still pending · 4 sent but no definite answer: the write is pending.
//!
//! Before a new write, pending writes of the same profile are replayed
//! with their original keys, and the new write is refused while any stays
//! pending. Why: an operator who sees "pending" tends to re-issue the
//! write; re-issuing creates a *new* trackingId/orderId, so if the old one
//! had in fact gone through, the customer is charged twice. Settling the
//! old one first also makes the new preview start from a known state.

use super::{ChangeArgs, ConsumeArgs, Context, GrantArgs};
use crate::config::Environment;
use crate::journal::JournalStore;
use crate::journal::db::describe_owner;
use crate::journal::exec::{self, ReplayStatus, WriteOutcome};
use crate::journal::request::{Actor, GrantParams, WriteRequest};
use crate::journal::writes::WriteRecord;
use crate::keys::KeyKind;
use crate::store::StoreClient;
use std::collections::HashSet;
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

pub(super) const EXIT_REFUSED: u8 = 1;
pub(super) const EXIT_USAGE: u8 = 2;
pub(super) const EXIT_BLOCKED: u8 = 3;
pub(super) const EXIT_PENDING: u8 = 4;

pub(super) fn fail(code: u8, msg: impl std::fmt::Display) -> ExitCode {
    say(format_args!("storedesk: {msg}"));
    ExitCode::from(code)
}

/// One line on stderr. Never panics (unlike `eprintln!`): a closed or full
/// stderr must not turn a write's exit code into a crash.
pub(super) fn say(line: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Print the result of a write that happened. The exit code is the
/// write's, whatever becomes of stdout: a script that retries on failure
/// must never send an applied write twice because its output could not
/// be printed (stdout full or closed). The failure goes to stderr.
pub(super) fn print_result(text: &str, code: ExitCode) -> ExitCode {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        say(format_args!(
            "storedesk: the write's result could not be printed ({e}); the exit code is the write's: {}",
            text.trim_end()
        ));
    }
    code
}

pub fn consume(ctx: &Context, a: &ConsumeArgs) -> ExitCode {
    if a.quantity == Some(0) {
        return fail(EXIT_USAGE, "--quantity must be at least 1");
    }
    let product = a.product.trim().to_string();
    if product.is_empty() {
        return fail(EXIT_USAGE, "--product is empty");
    }
    run_write(
        ctx,
        &a.key,
        a.yes,
        ("product id", &product),
        (KeyKind::UserCollectionsId, "consume"),
        Preflight::None,
        |key, sbx| WriteRequest::consume(key, &product, a.quantity, sbx),
    )
}

pub fn grant(ctx: &Context, a: &GrantArgs) -> ExitCode {
    if a.quantity == 0 {
        return fail(EXIT_USAGE, "--quantity must be at least 1");
    }
    let params = GrantParams {
        product_id: a.product.trim().to_string(),
        sku_id: a.sku.trim().to_string(),
        availability_id: a.availability.trim().to_string(),
        market: a.market.trim().to_string(),
        language: a.language.trim().to_string(),
        quantity: a.quantity,
        dev_offer_id: None,
    };
    if params.product_id.is_empty() || params.sku_id.is_empty() || params.availability_id.is_empty()
    {
        return fail(
            EXIT_USAGE,
            "--product, --sku and --availability must not be empty",
        );
    }
    let product = params.product_id.clone();
    // Grant bodies carry no `sbx` (STORE-API.md §8).
    run_write(
        ctx,
        &a.key,
        a.yes,
        ("product id", &product),
        (KeyKind::UserPurchaseId, "grant"),
        Preflight::GrantQuantity {
            product: &product,
            quantity: a.quantity,
        },
        |key, _sbx| WriteRequest::grant(key, &params, None),
    )
}

pub fn change(ctx: &Context, a: &ChangeArgs) -> ExitCode {
    let id = a.id.trim().to_string();
    if id.is_empty() {
        return fail(EXIT_USAGE, "--id is empty");
    }
    let (change, days) = match (a.cancel, a.refund, a.extend, a.auto_renew_off) {
        (true, false, None, false) => ("Cancel", None),
        (false, true, None, false) => ("Refund", None),
        (false, false, Some(d), false) if d >= 1 => ("Extend", Some(d)),
        (false, false, Some(_), false) => {
            return fail(EXIT_USAGE, "--extend must be at least 1 day");
        }
        (false, false, None, true) => ("ToggleAutoRenew", None),
        _ => {
            return fail(
                EXIT_USAGE,
                "give exactly one of --cancel, --refund, --extend DAYS, --auto-renew-off",
            );
        }
    };
    let preflight = if change == "ToggleAutoRenew" {
        Preflight::AutoRenewOff { recurrence_id: &id }
    } else {
        Preflight::None
    };
    run_write(
        ctx,
        &a.key,
        a.yes,
        ("subscription id", &id),
        (KeyKind::UserPurchaseId, "subscription change"),
        preflight,
        |key, sbx| WriteRequest::recurrence_change(key, &id, change, days, sbx),
    )
}

/// What a write asks the Store before anything is journaled: a write the
/// docs restrict is refused, a change that would change nothing is said
/// and not sent.
enum Preflight<'a> {
    None,
    /// An UnmanagedConsumable is granted with quantity 1 only: the
    /// product's kind from the display catalog, when the quantity is not 1.
    GrantQuantity {
        product: &'a str,
        quantity: u32,
    },
    /// Auto-renew already off: nothing to change (exit 0).
    AutoRenewOff {
        recurrence_id: &'a str,
    },
}

/// What the preflight decided.
enum Verdict {
    Send,
    /// Nothing to do: said on stdout, exit 0, nothing journaled.
    NoOp(String),
    Refuse(u8, String),
}

async fn preflight(p: &Preflight<'_>, client: &StoreClient, key: &str) -> Verdict {
    match p {
        Preflight::None => Verdict::Send,
        Preflight::GrantQuantity { quantity: 1, .. } => Verdict::Send,
        Preflight::GrantQuantity { product, quantity } => {
            match client.catalog_products(&[product.to_string()]).await {
                Ok(found) => {
                    let kind = found
                        .iter()
                        .find(|p| p.product_id.eq_ignore_ascii_case(product))
                        .and_then(|p| p.kind.as_deref());
                    match crate::store::purchase::grant_quantity_refusal(kind, *quantity) {
                        Some(why) => Verdict::Refuse(EXIT_USAGE, format!("not sent: {why}")),
                        None => Verdict::Send,
                    }
                }
                // The catalog is a check, not the Store: the grant decides.
                Err(e) => {
                    say(format_args!(
                        "storedesk: could not read the product's kind from the catalog ({e}); an UnmanagedConsumable takes quantity 1 only"
                    ));
                    Verdict::Send
                }
            }
        }
        Preflight::AutoRenewOff { recurrence_id } => {
            let cancel = tokio_util::sync::CancellationToken::new();
            match crate::case::load::recurrences(client, key, &cancel).await {
                Ok(subs) => match subs.iter().find(|r| r.id == *recurrence_id) {
                    Some(r) => match crate::store::purchase::auto_renew_off_noop(r.auto_renew) {
                        Some(why) => Verdict::NoOp(format!("subscription {recurrence_id}: {why}")),
                        None => Verdict::Send,
                    },
                    None => Verdict::Refuse(
                        EXIT_USAGE,
                        format!(
                            "not sent: this customer has no subscription {recurrence_id} (`storedesk subscriptions` lists them)"
                        ),
                    ),
                },
                Err(e) => Verdict::Refuse(
                    EXIT_REFUSED,
                    format!(
                        "not sent: the subscriptions could not be read to check auto-renew: {e}"
                    ),
                ),
            }
        }
    }
}

/// Why writes are off for this profile, if they are.
pub(super) fn write_refusal(ctx: &Context) -> Option<String> {
    let p = &ctx.config.profile;
    (!p.writes_allowed(ctx.globals.allow_writes)).then(|| {
        format!(
            "profile {:?} ({}) is read-only, so writes are refused; pass --allow-writes (or set read_only = false in the profile) to enable them",
            p.name, p.environment
        )
    })
}

pub(super) fn print_out(text: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => fail(EXIT_REFUSED, format!("cannot write output: {e}")),
    }
}

fn run_write(
    ctx: &Context,
    key_arg: &super::keyinput::KeyArg,
    yes: bool,
    typed: (&str, &str),
    (needed, call): (KeyKind, &str),
    check: Preflight<'_>,
    build: impl FnOnce(&str, Option<&str>) -> WriteRequest,
) -> ExitCode {
    if let Some(refusal) = write_refusal(ctx) {
        return fail(EXIT_USAGE, refusal);
    }
    let raw = match super::keyinput::KeyReader::default().raw(
        "--key",
        key_arg.key.as_deref(),
        key_arg.key_file.as_deref(),
    ) {
        Ok(Some(k)) => k,
        Ok(None) => {
            return fail(
                EXIT_USAGE,
                "give the key with --key KEY, --key - (standard input) or --key-file PATH",
            );
        }
        Err(e) => return fail(EXIT_USAGE, e),
    };
    // Decide about confirmation before any network or journal work.
    if !yes && (raw.from_stdin || !std::io::stdin().is_terminal()) {
        return fail(
            EXIT_USAGE,
            "refusing to write without confirmation: standard input is not a terminal to ask on; pass --yes to confirm non-interactively",
        );
    }
    let key = match super::keyinput::clean(&raw) {
        Ok(k) => k,
        Err(e) => return fail(EXIT_USAGE, e),
    };
    // A key of the wrong kind is refused before any call, nothing journaled.
    if let Err(e) = crate::keys::check_kind(&key, needed, call) {
        return fail(EXIT_USAGE, e);
    }
    let profile = &ctx.config.profile;
    let actor = Actor::from_profile(profile);
    let req = build(&key, profile.sbx.as_deref());
    let journal = match crate::journal::open(&ctx.journal_location(), ctx.clock.clone()) {
        Ok(j) => j,
        Err(e) => return fail(EXIT_REFUSED, format!("not sent: {e}")),
    };
    let rt = match crate::commands::runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    rt.block_on(async {
        let (client, _sandbox) = match super::connect::connect_headless(ctx).await {
            Ok(c) => c,
            Err(e) => return fail(EXIT_REFUSED, format!("not sent: {e}")),
        };
        match preflight(&check, &client, &key).await {
            Verdict::Send => {}
            Verdict::NoOp(why) => return print_result(&format!("{why}\n"), ExitCode::SUCCESS),
            Verdict::Refuse(code, why) => return fail(code, why),
        }
        if let Err(code) = settle_earlier(&*journal, &client, &actor).await {
            return code;
        }
        // Another agent on the same customer (a team journal): said before
        // the confirmation, and before a --yes write is sent.
        let customer = crate::store::keyinfo::case_customer(&key);
        for a in journal
            .others_on_customer(&customer, crate::journal::COLLISION_MINUTES)
            .unwrap_or_default()
        {
            say(format_args!(
                "storedesk: another agent is on this customer: {}",
                a.describe()
            ));
        }
        if !yes && !confirm(&req, &actor, typed) {
            return fail(EXIT_USAGE, "cancelled; nothing was sent");
        }
        match exec::execute(&*journal, &client, &req, &actor).await {
            Ok(WriteOutcome::Done { write_id, result, correlation, .. }) => {
                let mut line = format!(
                    "done: #{write_id} {} · {result} · {} {}",
                    req.summary,
                    idempotency_label(&req),
                    req.idempotency_key
                );
                if !correlation.is_empty() {
                    line.push_str(&format!(
                        " · MS-CorrelationId {}",
                        correlation.correlation_id.as_deref().unwrap_or("-")
                    ));
                }
                line.push('\n');
                print_result(&line, ExitCode::SUCCESS)
            }
            Ok(WriteOutcome::Failed { write_id, reason, .. }) => fail(
                EXIT_REFUSED,
                format!("#{write_id} {} refused, nothing applied: {reason}", req.summary),
            ),
            Ok(WriteOutcome::Pending { write_id, reason }) => fail(
                EXIT_PENDING,
                format!(
                    "#{write_id} {} is PENDING: no definite answer ({reason}). It may or may not have been applied. \
                     Replay it with the same {} by running `storedesk --profile {} pending --replay`; do not re-issue it.",
                    req.summary,
                    idempotency_label(&req),
                    actor.profile
                ),
            ),
            Err(e) => fail(EXIT_REFUSED, format!("not sent: {e}")),
        }
    })
}

fn idempotency_label(req: &WriteRequest) -> &'static str {
    match req.kind {
        crate::journal::WriteKind::Consume => "trackingId",
        crate::journal::WriteKind::Grant => "orderId",
        _ => "idempotency key",
    }
}

/// How long a new write waits for earlier writes that another live
/// storedesk is sending right now, before it gives up and says so.
const IN_FLIGHT_WAIT: Duration = Duration::from_secs(15);
const IN_FLIGHT_POLL: Duration = Duration::from_millis(100);

/// Replay this profile's pending writes, and refuse to go on while any of
/// them is still pending (see the module doc for why). A write that another
/// live storedesk is sending right now is not "pending from an earlier
/// run": it is waited for (briefly), and named as such if it does not
/// settle. Only writes recorded before this one started are waited for, so
/// many writers started together do not starve each other.
async fn settle_earlier(
    journal: &dyn JournalStore,
    client: &StoreClient,
    actor: &Actor,
) -> Result<(), ExitCode> {
    for d in journal.damaged_rows().unwrap_or_default() {
        say(format_args!("storedesk: journal row {}", d.describe()));
    }
    let earlier: HashSet<i64> = journal
        .pending()
        .map_err(|e| fail(EXIT_REFUSED, e))?
        .iter()
        .map(|w| w.id)
        .collect();
    let deadline = Instant::now() + IN_FLIGHT_WAIT;
    let mut told: HashSet<i64> = HashSet::new();
    loop {
        let pending: Vec<WriteRecord> = journal
            .pending()
            .map_err(|e| fail(EXIT_REFUSED, e))?
            .into_iter()
            .filter(|w| earlier.contains(&w.id))
            .collect();
        let mut blocking = 0;
        let mut in_flight = Vec::new();
        for w in &pending {
            let status = match journal.in_flight_by(w.id) {
                Ok(Some(owner)) => ReplayStatus::Busy { owner },
                _ => exec::replay_one(journal, client, w, actor).await,
            };
            if let ReplayStatus::Busy { owner } = &status {
                if told.insert(w.id) {
                    say(format_args!(
                        "storedesk: waiting for #{} {}: being sent by {}",
                        w.id,
                        w.summary,
                        describe_owner(owner)
                    ));
                }
                in_flight.push((w, owner.clone()));
                continue;
            }
            say(format_args!(
                "storedesk: earlier pending write {}",
                replay_line(w, &status)
            ));
            if w.profile == actor.profile && is_still_pending(&status) {
                blocking += 1;
            }
        }
        if blocking > 0 {
            return Err(fail(
                EXIT_BLOCKED,
                format!(
                    "not sent: {blocking} earlier write(s) of profile {:?} are still pending. Their outcome is unknown; \
                     sending more now could apply a change twice. Run `storedesk --profile {} pending --replay` until they settle \
                     (one not safe to replay: check the Store, then `pending --resolve ID`).",
                    actor.profile, actor.profile
                ),
            ));
        }
        let Some((w, owner)) = in_flight.first() else {
            return Ok(());
        };
        if Instant::now() >= deadline {
            return Err(fail(
                EXIT_BLOCKED,
                format!(
                    "not sent: #{} {} is being sent by {} right now — wait or retry",
                    w.id,
                    w.summary,
                    describe_owner(owner)
                ),
            ));
        }
        tokio::time::sleep(IN_FLIGHT_POLL).await;
    }
}

/// Show the preview on stderr and ask. In RETAIL the operator must type
/// what the write is about (`typed`: its name and value — the product id,
/// or a subscription's id); in SANDBOX `y` suffices. Anything else cancels.
fn confirm(req: &WriteRequest, actor: &Actor, (noun, value): (&str, &str)) -> bool {
    let preview = req.preview(actor);
    let mut err = std::io::stderr().lock();
    let prompt = match actor.environment {
        Environment::Retail => {
            format!("This is RETAIL. Type the {noun} ({value}) to send it: ")
        }
        Environment::Sandbox => "Send it? [y/N] ".to_string(),
    };
    if write!(err, "{}\n{prompt}", preview.to_text())
        .and_then(|()| err.flush())
        .is_err()
    {
        return false;
    }
    let mut answer = String::new();
    if std::io::stdin().lock().read_line(&mut answer).is_err() {
        return false;
    }
    let answer = answer.trim();
    match actor.environment {
        Environment::Retail => answer == value,
        Environment::Sandbox => {
            answer.eq_ignore_ascii_case("y") || answer.eq_ignore_ascii_case("yes")
        }
    }
}

pub(super) fn is_still_pending(s: &ReplayStatus) -> bool {
    !matches!(
        s,
        ReplayStatus::Replayed {
            outcome: WriteOutcome::Done { .. } | WriteOutcome::Failed { .. }
        } | ReplayStatus::AlreadySettled
    )
}

pub(super) fn replay_line(w: &WriteRecord, s: &ReplayStatus) -> String {
    let head = format!(
        "#{} {} [{}] key {}",
        w.id, w.summary, w.kind, w.idempotency_key
    );
    match s {
        ReplayStatus::Replayed { outcome } => match outcome {
            WriteOutcome::Done { result, .. } => format!("{head}: done · {result}"),
            WriteOutcome::Failed { reason, .. } => {
                format!("{head}: refused by the Store, nothing applied · {reason}")
            }
            WriteOutcome::Pending { reason, .. } => format!("{head}: still pending · {reason}"),
        },
        ReplayStatus::AlreadySettled => format!("{head}: settled meanwhile by another storedesk"),
        ReplayStatus::Busy { owner } => format!(
            "{head}: being sent by {} right now — wait or retry",
            describe_owner(owner)
        ),
        ReplayStatus::OtherProfile => format!(
            "{head}: recorded under profile {:?}; replay it with --profile {}",
            w.profile, w.profile
        ),
        ReplayStatus::NeedsReview => format!(
            "{head}: not safe to resend; check the subscription, then `storedesk --profile {} pending --resolve {} --applied|--not-applied --note TEXT`",
            w.profile, w.id
        ),
        ReplayStatus::Error { message } => format!("{head}: cannot replay · {message}"),
    }
}
