//! The edge: the command line. No subcommand opens the console; the others
//! are headless tools for scripts (QA) and for quick looks (developers).
//!
//! This is the only module that knows clap and the resolved [`Context`];
//! it starts the embedded sandbox when the profile asks for it
//! ([`connect`]) and hands plain values to the library below it.

pub mod audit;
pub mod case;
pub mod clawbacks;
pub mod connect;
pub mod console;
pub mod doctor;
pub mod entitlements;
pub mod inspect;
pub mod journal;
pub mod keyinput;
pub mod orders;
pub mod output;
pub mod pending;
pub mod sandbox;
pub mod subscriptions;
pub mod timeline;
pub mod writes;

use crate::clock::Clock;
use crate::config::{self, LoadedConfig};
use crate::paths::Paths;
use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};
use keyinput::{KeyArg, PurchaseKeyArg};
use output::OutputArgs;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "storedesk",
    version,
    about = "Terminal console for Microsoft Store entitlements",
    long_about = "Terminal console for Microsoft Store entitlements.\n\nWith no configuration it starts an embedded Store sandbox on loopback, seeded with demo customers."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Globals,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Options every command understands.
#[derive(Args, Debug, Clone, Default)]
pub struct Globals {
    /// Config file (default: config.toml in the platform config dir)
    #[arg(long, global = true, value_name = "PATH", env = "STOREDESK_CONFIG")]
    pub config: Option<PathBuf>,
    /// Profile to use: sandbox (default), retail, or one from the config file
    #[arg(long, global = true, value_name = "NAME", env = "STOREDESK_PROFILE")]
    pub profile: Option<String>,
    /// Log level for the log file (error, warn, info, debug, trace)
    #[arg(long, global = true, value_name = "LEVEL", default_value = "info")]
    pub log_level: String,
    /// Data dir for the journal, audit log, sandbox state and exports
    #[arg(long, global = true, value_name = "DIR", env = "STOREDESK_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Pin the clock (RFC 3339), for reproducible screens and sandbox state
    #[arg(long, global = true, value_name = "TIME", value_parser = parse_time, hide = true, env = "STOREDESK_NOW")]
    pub now: Option<DateTime<Utc>>,
    /// Allow write actions even on a read-only profile
    #[arg(long, global = true)]
    pub allow_writes: bool,
}

fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("not an RFC 3339 time ({e}), e.g. 2026-11-23T10:00:00Z"))
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the Store sandbox alone on loopback (for QA scripts)
    Sandbox(SandboxArgs),
    /// Decode and assess a User Store ID or other JWT
    Inspect(InspectArgs),
    /// List a customer's entitlements
    Entitlements(EntitlementsArgs),
    /// A customer's orders of the last 90 days (--key: their UserPurchaseId); read at most once a day
    Orders(OrdersArgs),
    /// A customer's subscriptions (--key: their UserPurchaseId)
    Subscriptions(ListArgs),
    /// The clawback queue, peeked: what each event means and what it matched
    Clawbacks(ClawbacksArgs),
    /// Everything read for a customer, merged by time
    Timeline(TimelineArgs),
    /// Write a customer's case file (Markdown or JSON) for the ticket
    Case(CaseArgs),
    /// Consume a consumable (journaled, exactly once)
    Consume(ConsumeArgs),
    /// Grant a free product (journaled, exactly once)
    Grant(GrantArgs),
    /// Change a subscription: cancel, refund, extend, or turn auto-renew off (journaled)
    Change(ChangeArgs),
    /// Export the audit log
    Audit(AuditArgs),
    /// Show, replay or settle by hand the pending writes left by an interrupted run
    Pending(PendingArgs),
    /// Check the profile end to end (config, endpoints, tokens, clock, key,
    /// products, clawbacks, local files) and say the fix for each problem
    Doctor(DoctorArgs),
    /// The journal itself: `journal migrate --to postgres://…` copies this
    /// data dir's history into a team journal
    Journal(JournalArgs),
}

#[derive(Args, Debug, Clone)]
pub struct JournalArgs {
    #[command(subcommand)]
    pub action: JournalAction,
}

#[derive(Subcommand, Debug, Clone)]
pub enum JournalAction {
    /// Copy the local SQLite history (settled writes, audit log) into a team
    /// journal; running it twice copies nothing twice; pending writes stay
    /// here until settled
    Migrate {
        /// The team journal (default: the profile's journal_url); its
        /// password comes from the profile's journal_password_env/_command
        #[arg(long, value_name = "URL")]
        to: Option<String>,
        /// Print the counts as one JSON object
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args, Debug, Clone)]
pub struct DoctorArgs {
    /// A customer key to check too (kind, verdict, client id, a 1-item query), or `-` for standard input
    #[arg(long, value_name = "KEY", conflicts_with = "key_file")]
    pub key: Option<String>,
    /// Read the customer key from a file
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<PathBuf>,
    /// Print the report as one JSON document
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug, Clone)]
pub struct SandboxArgs {
    #[command(subcommand)]
    pub action: Option<SandboxAction>,
    /// Port to listen on (loopback only); 0 picks a free one
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Where state and the signing key are kept (default: <data dir>/sandbox)
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Print base URL, credentials and demo keys as one JSON object on the first line
    #[arg(long)]
    pub json: bool,
    /// Inject a fault, e.g. `consume:drop-after-commit`, `publisherQuery:status=503,times=2`,
    /// `*:latency=200ms`, `orders:429,retry-after=3`, `grant:reset`
    #[arg(long, value_name = "SPEC")]
    pub fault: Vec<String>,
}

#[derive(Subcommand, Debug, Clone)]
pub enum SandboxAction {
    /// Throw away the sandbox state and re-seed it (the signing key is kept)
    Reset,
}

#[derive(Args, Debug, Clone)]
pub struct InspectArgs {
    /// The key, or `-` (or nothing) to read keys from standard input, one per line
    pub key: Option<String>,
    /// Print JSON instead of text: one document (an object for a KEY, an
    /// array for standard input)
    #[arg(long, conflicts_with = "ndjson")]
    pub json: bool,
    /// Print one JSON object per line (NDJSON), streamed
    #[arg(long)]
    pub ndjson: bool,
}

#[derive(Args, Debug, Clone)]
pub struct EntitlementsArgs {
    /// The customer's UserCollectionsId
    #[command(flatten)]
    pub key: KeyArg,
    /// Comma-separated statuses, e.g. Active,Revoked
    #[arg(long, value_delimiter = ',')]
    pub status: Vec<String>,
    /// Comma-separated kinds, e.g. Durable,Consumable
    #[arg(long, value_delimiter = ',')]
    pub kind: Vec<String>,
    /// Print JSON (one array)
    #[arg(long, conflicts_with_all = ["csv", "ndjson"])]
    pub json: bool,
    /// Print one JSON object per line (NDJSON)
    #[arg(long, conflicts_with = "csv")]
    pub ndjson: bool,
    /// Print CSV
    #[arg(long)]
    pub csv: bool,
}

#[derive(Args, Debug, Clone)]
pub struct ConsumeArgs {
    /// The customer's UserCollectionsId
    #[command(flatten)]
    pub key: KeyArg,
    /// Product id (Store ID) of the consumable
    #[arg(long)]
    pub product: String,
    /// Quantity to remove (store-managed consumables); omit for unmanaged ones
    #[arg(long)]
    pub quantity: Option<u32>,
    /// Do not ask for confirmation
    #[arg(long)]
    pub yes: bool,
}

#[derive(Args, Debug, Clone)]
pub struct GrantArgs {
    /// The customer's UserPurchaseId
    #[command(flatten)]
    pub key: KeyArg,
    #[arg(long)]
    pub product: String,
    #[arg(long)]
    pub sku: String,
    #[arg(long)]
    pub availability: String,
    #[arg(long, default_value = "US")]
    pub market: String,
    #[arg(long, default_value = "en-US")]
    pub language: String,
    #[arg(long, default_value_t = 1)]
    pub quantity: u32,
    /// Do not ask for confirmation
    #[arg(long)]
    pub yes: bool,
}

#[derive(Args, Debug, Clone)]
#[command(group(clap::ArgGroup::new("change").required(true).args(["cancel", "refund", "extend", "auto_renew_off"])))]
pub struct ChangeArgs {
    /// The customer's UserPurchaseId
    #[command(flatten)]
    pub key: KeyArg,
    /// The subscription's id (recurrenceId, `mdr:0:…`), as `subscriptions` lists it
    #[arg(long, value_name = "ID")]
    pub id: String,
    /// Cancel the subscription
    #[arg(long)]
    pub cancel: bool,
    /// Refund the subscription (it ends)
    #[arg(long)]
    pub refund: bool,
    /// Move the subscription's end this many days later
    #[arg(long, value_name = "DAYS")]
    pub extend: Option<u32>,
    /// Turn auto-renew off (a no-op, exit 0, when it is off already)
    #[arg(long)]
    pub auto_renew_off: bool,
    /// Do not ask for confirmation
    #[arg(long)]
    pub yes: bool,
}

/// `orders`: a list, answered from today's read unless `--refresh`.
#[derive(Args, Debug, Clone)]
pub struct OrdersArgs {
    #[command(flatten)]
    pub list: ListArgs,
    /// Read the orders from the Store again even if they were read less than a day ago
    #[arg(long)]
    pub refresh: bool,
}

/// A list of one customer's: `orders`, `subscriptions`.
#[derive(Args, Debug, Clone)]
pub struct ListArgs {
    #[command(flatten)]
    pub key: KeyArg,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args, Debug, Clone)]
pub struct ClawbacksArgs {
    /// Only the events of this customer (a UserPurchaseId also ties by their orders)
    #[command(flatten)]
    pub key: KeyArg,
    /// Also show events of other environments (another data.sandboxId than the profile's)
    #[arg(long)]
    pub all_environments: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args, Debug, Clone)]
pub struct TimelineArgs {
    /// The customer's key (UserCollectionsId or UserPurchaseId)
    #[command(flatten)]
    pub key: KeyArg,
    #[command(flatten)]
    pub purchase: PurchaseKeyArg,
    /// Only moments since then, e.g. 30d, 12h, 2w (upcoming ones stay)
    #[arg(long, value_name = "AGE")]
    pub since: Option<String>,
    /// Only these types: owned, order, refund, subscription, clawback, audit, or an audit action (consume, grant, …)
    #[arg(long = "type", value_name = "TYPE,…", value_delimiter = ',')]
    pub types: Vec<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, Default)]
pub enum CaseFormat {
    #[default]
    #[value(alias = "md")]
    Markdown,
    Json,
}

#[derive(Args, Debug, Clone)]
pub struct CaseArgs {
    /// The customer's key (UserCollectionsId or UserPurchaseId)
    #[command(flatten)]
    pub key: KeyArg,
    #[command(flatten)]
    pub purchase: PurchaseKeyArg,
    /// Write the file here (mode 0600) instead of standard output
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
    /// markdown (default) or json: the same content as one JSON document
    #[arg(long, value_enum, default_value_t = CaseFormat::Markdown)]
    pub format: CaseFormat,
}

#[derive(Args, Debug, Clone)]
pub struct AuditArgs {
    /// Print JSON (one array) instead of a table
    #[arg(long, conflicts_with = "ndjson")]
    pub json: bool,
    /// Print one JSON object per line (NDJSON)
    #[arg(long)]
    pub ndjson: bool,
}

#[derive(Args, Debug, Clone)]
#[command(group(clap::ArgGroup::new("outcome").args(["applied", "not_applied"])))]
pub struct PendingArgs {
    /// Replay every pending write with its original idempotency key
    #[arg(long, conflicts_with = "resolve")]
    pub replay: bool,
    /// Settle pending write ID by hand, after checking the Store — for writes
    /// that are not safe to replay (a subscription extension, refund or
    /// auto-renew change whose answer was lost)
    #[arg(long, value_name = "ID", requires_all = ["outcome", "note"])]
    pub resolve: Option<i64>,
    /// With --resolve: the Store shows the change
    #[arg(long, requires = "resolve")]
    pub applied: bool,
    /// With --resolve: the Store does not show the change
    #[arg(long, requires = "resolve")]
    pub not_applied: bool,
    /// With --resolve: what was checked, for the audit log
    #[arg(long, value_name = "TEXT", requires = "resolve")]
    pub note: Option<String>,
}

/// The exit status of a refused command line: bad flags, config or data dir.
pub const USAGE_ERROR: u8 = 2;

/// Everything a command needs from the environment, resolved once.
pub struct Context {
    pub globals: Globals,
    pub paths: Paths,
    pub config: LoadedConfig,
    pub clock: Clock,
}

impl Context {
    /// `writes`: whether the command writes in the data dir (logs, journal,
    /// sandbox state); read-only commands start faster without the probe.
    /// On failure the reason is printed; exit with [`USAGE_ERROR`].
    pub fn resolve(globals: Globals, writes: bool) -> Result<Self, ExitCode> {
        let paths = match Paths::resolve(globals.data_dir.clone(), globals.config.clone(), writes) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("storedesk: {e}");
                return Err(ExitCode::from(USAGE_ERROR));
            }
        };
        let config = match config::load(
            &paths.config_file,
            globals.profile.as_deref(),
            paths.config_explicit,
        ) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("storedesk: {e}");
                return Err(ExitCode::from(USAGE_ERROR));
            }
        };
        let clock = match globals.now {
            Some(t) => Clock::fixed(t),
            None => Clock::system(),
        };
        Ok(Self {
            globals,
            paths,
            config,
            clock,
        })
    }

    /// Where the profile's journal lives: its team journal
    /// (`journal_url`, see `PgSettings::from_team`), else the data dir's
    /// SQLite file.
    pub fn journal_location(&self) -> crate::journal::JournalLocation {
        use crate::journal::{JournalLocation, pg::PgSettings};
        match &self.config.profile.journal {
            Some(team) => JournalLocation::Postgres(Box::new(PgSettings::from_team(
                team,
                self.paths.journal_db(),
            ))),
            None => JournalLocation::Sqlite(self.paths.journal_db()),
        }
    }
}

/// The async runtime every command uses: two workers, as many as cores here.
/// On failure the message is printed and the exit code returned.
pub fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("storedesk: cannot start the async runtime: {e}");
            ExitCode::from(1)
        })
}

/// Connect (starting the embedded sandbox when the profile asks), run one
/// read with a cancellation Ctrl-C triggers, and report a failure on
/// stderr (with its hint and correlation ids) as exit code 1.
pub fn read_with_client<T, F, Fut>(ctx: &Context, read: F) -> Result<T, ExitCode>
where
    F: FnOnce(crate::store::StoreClient, tokio_util::sync::CancellationToken) -> Fut,
    Fut: std::future::Future<Output = Result<T, crate::store::StoreError>>,
{
    let rt = runtime()?;
    rt.block_on(async {
        let (client, _sandbox) = connect::connect_headless(ctx).await.map_err(|e| {
            eprintln!("storedesk: {e}");
            e.exit_code()
        })?;
        let cancel = tokio_util::sync::CancellationToken::new();
        let stop = cancel.clone();
        let ctrl_c = tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                stop.cancel();
            }
        });
        let r = read(client, cancel).await;
        ctrl_c.abort();
        r.map_err(|e| {
            eprintln!("storedesk: {e}");
            if let Some(h) = e.hint() {
                eprintln!("  hint: {h}");
            }
            for (name, v) in crate::case::load::correlation_pairs(&e.correlation) {
                eprintln!("  {name}: {v}");
            }
            ExitCode::from(1)
        })
    })
}

/// Print a command's output; exit 0, or 1 when stdout cannot be written.
pub fn finish(text: &str) -> ExitCode {
    match output::print(text) {
        Ok(()) => ExitCode::SUCCESS,
        Err(code) => code,
    }
}

/// The executable's entry: the whole command line.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Inspect(a)) = &cli.command {
        // A pure look at keys: it neither writes nor logs nor sets up TLS,
        // so a script piping keys through it pays no start-up for any of them.
        return match Context::resolve(cli.global, false) {
            Ok(ctx) => ExitCode::from(inspect::run(&ctx, a)),
            Err(code) => code,
        };
    }
    // reqwest is built without a default TLS provider; ring is the light one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    if let Some(Command::Doctor(a)) = &cli.command {
        // A config that does not load is a finding of doctor's, not a refusal.
        return doctor::run(cli.global.clone(), a);
    }
    let ctx = match Context::resolve(cli.global.clone(), true) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let _log = match crate::logging::init(&ctx.paths, &ctx.globals.log_level) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("storedesk: {e}");
            return ExitCode::from(USAGE_ERROR);
        }
    };
    match cli.command {
        None => console::run(ctx),
        Some(Command::Sandbox(a)) => sandbox::run(&ctx, &a),
        // Answered above, before any of this set-up.
        Some(Command::Inspect(a)) => ExitCode::from(inspect::run(&ctx, &a)),
        Some(Command::Entitlements(a)) => entitlements::entitlements(&ctx, &a),
        Some(Command::Orders(a)) => orders::run(&ctx, &a),
        Some(Command::Subscriptions(a)) => subscriptions::run(&ctx, &a),
        Some(Command::Clawbacks(a)) => clawbacks::run(&ctx, &a),
        Some(Command::Timeline(a)) => timeline::run(&ctx, &a),
        Some(Command::Case(a)) => case::run(&ctx, &a),
        Some(Command::Consume(a)) => writes::consume(&ctx, &a),
        Some(Command::Grant(a)) => writes::grant(&ctx, &a),
        Some(Command::Change(a)) => writes::change(&ctx, &a),
        Some(Command::Audit(a)) => audit::run(&ctx, &a),
        Some(Command::Pending(a)) => pending::run(&ctx, &a),
        Some(Command::Journal(a)) => journal::run(&ctx, &a),
        // Answered above, before the config is loaded.
        Some(Command::Doctor(a)) => doctor::run(ctx.globals, &a),
    }
}
