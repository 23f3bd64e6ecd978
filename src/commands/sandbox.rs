//! `storedesk sandbox [--port N] [--data DIR] [--json] [--fault SPEC]… [reset]`

use crate::commands::{Context, SandboxAction, SandboxArgs};
use crate::sandbox::{FaultSpec, SandboxOptions};
use std::io::Write;
use std::process::ExitCode;

pub fn run(ctx: &Context, a: &SandboxArgs) -> ExitCode {
    let data_dir = a.data.clone().unwrap_or_else(|| ctx.paths.sandbox_dir());
    if let Some(SandboxAction::Reset) = a.action {
        return match crate::sandbox::reset(&data_dir) {
            Ok(()) => {
                println!(
                    "sandbox state in {} reset; the next start re-seeds it",
                    data_dir.display()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("storedesk: {e}");
                ExitCode::from(1)
            }
        };
    }
    let mut faults = Vec::new();
    for s in &a.fault {
        match s.parse::<FaultSpec>() {
            Ok(f) => faults.push(f),
            Err(e) => {
                eprintln!("storedesk: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let rt = match crate::commands::runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    rt.block_on(async {
        let opts = SandboxOptions {
            data_dir,
            port: a.port,
            clock: ctx.clock.clone(),
            faults,
        };
        let sb = match crate::sandbox::start(opts).await {
            Ok(sb) => sb,
            Err(e) => {
                eprintln!("storedesk: {e}");
                return ExitCode::from(1);
            }
        };
        if print(&sb.info, a.json).is_err() {
            // Stdout closed (e.g. a script read the first line and left).
            tracing::warn!("stdout closed while printing sandbox info");
        }
        wait_for_stop().await;
        sb.shutdown().await;
        ExitCode::SUCCESS
    })
}

fn print(info: &crate::sandbox::SandboxInfo, json: bool) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        let v = serde_json::json!({
            "base_url": info.base_url,
            "tenant": info.tenant,
            "client_id": info.client_id,
            "client_secret": info.client_secret,
            "control_secret": info.control_secret,
            "customers": info.customers.iter().map(|c| serde_json::json!({
                "name": c.name, "user_id": c.user_id, "about": c.about,
                "collections_key": c.collections_key, "purchase_key": c.purchase_key,
            })).collect::<Vec<_>>(),
        });
        writeln!(out, "{v}")?;
    } else {
        writeln!(out, "storedesk Store sandbox — SANDBOX, not Microsoft")?;
        writeln!(out, "base URL       {}", info.base_url)?;
        writeln!(out, "tenant         {}", info.tenant)?;
        writeln!(out, "client id      {}", info.client_id)?;
        writeln!(out, "client secret  {}", info.client_secret)?;
        writeln!(
            out,
            "control secret {} (header {} for /_sandbox/*)",
            info.control_secret,
            crate::sandbox::CONTROL_SECRET_HEADER
        )?;
        writeln!(out, "profile        sandbox_url = \"{}\"", info.base_url)?;
        for c in &info.customers {
            writeln!(out)?;
            writeln!(out, "{} <{}> — {}", c.name, c.user_id, c.about)?;
            writeln!(out, "  collections key: {}", c.collections_key)?;
            writeln!(out, "  purchase key:    {}", c.purchase_key)?;
        }
        writeln!(out)?;
        writeln!(out, "serving; Ctrl-C to stop")?;
    }
    out.flush()
}

async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
