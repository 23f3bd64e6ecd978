//! `storedesk` with no subcommand: the console. Resolves what the TUI
//! needs from the command line and the profile, then hands over.

use super::Context;
use super::connect::connect;
use crate::config::Environment;
use crate::journal::Actor;
use crate::tui::app::{Connection, Session};
use crate::tui::jobs::{Connected, Env};
use std::process::ExitCode;

pub fn run(ctx: Context) -> ExitCode {
    // Cron, CI, `storedesk </dev/null`: no escape sequence is written to
    // something that is not a terminal.
    use std::io::IsTerminal;
    if !(std::io::stdin().is_terminal() && std::io::stdout().is_terminal()) {
        eprintln!(
            "storedesk: the console needs a terminal; use a headless command (storedesk --help lists them)"
        );
        return ExitCode::from(2);
    }
    let rt = match super::runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let env = Env {
        clock: ctx.clock.clone(),
        journal_path: ctx.paths.journal_db(),
        journal_at: ctx.journal_location(),
        exports_dir: ctx.paths.exports_dir(),
        titles_path: ctx.paths.titles_file(),
        actor: Actor::from_profile(&ctx.config.profile),
        config: ctx.config.clone(),
        config_file: ctx.paths.config_file.clone(),
        data_dir: ctx.paths.data_dir.clone(),
    };
    let session = session_for(&ctx);
    let notice = install_keymap(&ctx.paths.keys_file());
    let console = crate::tui::Console {
        session,
        notice,
        env,
        connect: Box::pin(async move { open_store(&ctx).await }),
    };
    crate::tui::run(rt, console)
}

/// Merge the user's `keys.toml` over the built-in keys for this process.
/// A bad file never stops the console: what is wrong comes back as a
/// status-bar notice (and every problem goes to the log).
fn install_keymap(path: &std::path::Path) -> Option<String> {
    let (keymap, problems) = crate::tui::keymap::file::load(path);
    for p in &problems {
        tracing::warn!("keys.toml: {p}");
    }
    crate::tui::keymap::install(keymap);
    crate::tui::keymap::file::notice(&problems)
}

/// Facts about the session that the status bar shows.
pub fn session_for(ctx: &Context) -> Session {
    let p = &ctx.config.profile;
    let writes_allowed = p.writes_allowed(ctx.globals.allow_writes);
    Session {
        environment: p.environment,
        profile: p.name.clone(),
        operator: p.operator.clone(),
        writes_allowed,
        read_only_reason: (!writes_allowed).then(|| {
            format!(
                "profile {:?} is read-only{}: start with --allow-writes or set read_only = false to enable writes",
                p.name,
                if p.environment == Environment::Retail { " (retail default)" } else { "" }
            )
        }),
    }
}

/// Reach the profile's Store: the embedded sandbox or a remote one.
async fn open_store(ctx: &Context) -> Result<(Connected, Connection), String> {
    let (client, sandbox) = connect(ctx).await.map_err(|e| e.to_string())?;
    // A `storedesk sandbox` elsewhere keeps its key on disk.
    let pem = super::connect::sandbox_public_key(&ctx.paths, sandbox.as_ref()).ok();
    let (product_ids, product_source) = super::connect::product_ids(ctx, sandbox.as_ref());
    let info = Connection {
        base_description: client.endpoints().collections.clone(),
        client_id: client.config().client_id.clone(),
        sandbox_id: client.sbx(),
        sandbox_public_key_pem: pem,
        demo_customers: sandbox
            .as_ref()
            .map(|s| s.info.customers.clone())
            .unwrap_or_default(),
        // What `:grant` offers a customer who owns nothing.
        grantable: sandbox
            .as_ref()
            .map(|s| s.grantable_products())
            .unwrap_or_default(),
    };
    let connected = Connected {
        client,
        product_ids,
        product_source,
        _sandbox: sandbox,
    };
    Ok((connected, info))
}
