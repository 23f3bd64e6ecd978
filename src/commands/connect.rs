//! Build a `StoreClient` from the active profile — starting the embedded
//! sandbox first when the profile asks for it. Shared by the headless
//! commands and the console; the library below never starts a sandbox.

use super::Context;
use crate::config::{Profile, Secret, SecretError};
use crate::store::client::{ClientConfig, StoreClient};
use crate::store::error::StoreError;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("cannot start the embedded sandbox: {0}")]
    Sandbox(String),
    #[error("{0}")]
    Profile(String),
    #[error(transparent)]
    Client(#[from] StoreError),
}

impl ConnectError {
    /// A missing, empty or failing secret source or an incomplete profile
    /// is a configuration error (exit 2, like a bad config file); the rest
    /// failed at run time (exit 1).
    pub fn exit_code(&self) -> std::process::ExitCode {
        match self {
            ConnectError::Secret(_) | ConnectError::Profile(_) => std::process::ExitCode::from(2),
            ConnectError::Sandbox(_) | ConnectError::Client(_) => std::process::ExitCode::from(1),
        }
    }
}

/// The product ids a v9 listing asks for, and where they come from: the
/// profile's `product_ids`, or — on the embedded sandbox, when the profile
/// lists none — the sandbox's catalog (as a publisher's profile lists its
/// own). The console and `storedesk entitlements` list alike.
pub fn product_ids(
    ctx: &Context,
    sandbox: Option<&crate::sandbox::Sandbox>,
) -> (Vec<String>, String) {
    let profile = &ctx.config.profile;
    match sandbox {
        Some(s) if profile.product_ids.is_empty() => {
            (s.product_ids(), "the embedded sandbox's catalog".into())
        }
        _ => (
            profile.product_ids.clone(),
            format!("profile \"{}\"", profile.name),
        ),
    }
}

/// The client config a profile describes, given where its services are
/// and the credentials to use.
pub fn client_config(
    ctx: &Context,
    profile: &Profile,
    sandbox_base: Option<&str>,
    tenant: Option<&str>,
    client_id: &str,
    secret: Secret,
) -> ClientConfig {
    let mut endpoints = profile.endpoints(sandbox_base);
    if let Some(t) = tenant {
        endpoints.tenant = t.to_string();
    }
    let mut cfg = ClientConfig::new(endpoints, client_id, secret);
    cfg.timeout = Duration::from_secs(profile.timeout_secs.max(1));
    cfg.sbx.clone_from(&profile.sbx);
    cfg.allow_insecure_http = profile.allow_insecure_http;
    cfg.clock = ctx.clock.clone();
    // The call budget and the orders read today outlive the process.
    cfg.state_dir = Some(ctx.paths.data_dir.clone());
    cfg
}

/// [`connect`] for a headless command: every wait before a retry is said
/// on stderr as it starts (a trickling server is not minutes of silence).
pub async fn connect_headless(
    ctx: &Context,
) -> Result<(StoreClient, Option<crate::sandbox::Sandbox>), ConnectError> {
    let (client, sandbox) = connect(ctx).await?;
    client.set_wait_observer(Some(std::sync::Arc::new(
        |wait: std::time::Duration, reason: &crate::store::retry::WaitReason, op: &'static str| {
            use crate::store::retry::WaitReason;
            let why = match reason {
                WaitReason::RateLimited => "rate limited (429)".to_string(),
                WaitReason::Backoff { attempt, cause } => {
                    format!("attempt {attempt} failed: {cause}")
                }
            };
            eprintln!(
                "storedesk: {op}: {why}; retrying in {:.1} s",
                wait.as_secs_f64()
            );
        },
    )));
    Ok((client, sandbox))
}

/// The sandbox's public key that sandbox keys are checked with: the running
/// embedded sandbox's, else the one a `storedesk sandbox` keeps in the data
/// dir (`sandbox::public_key_pem`). `Err` says what is missing.
pub fn sandbox_public_key(
    paths: &crate::paths::Paths,
    sandbox: Option<&crate::sandbox::Sandbox>,
) -> Result<String, String> {
    match sandbox {
        Some(s) => Ok(s.info.public_key_pem.clone()),
        None => crate::sandbox::public_key_pem(&paths.sandbox_dir()),
    }
}

/// A client for the active profile. For the embedded `sandbox` profile the
/// sandbox is started in-process (data in `ctx.paths.sandbox_dir()`) and
/// returned too: keep it alive as long as the client is used.
pub async fn connect(
    ctx: &Context,
) -> Result<(StoreClient, Option<crate::sandbox::Sandbox>), ConnectError> {
    let profile = &ctx.config.profile;
    if profile.embedded {
        let sandbox = crate::sandbox::start(crate::sandbox::SandboxOptions {
            data_dir: ctx.paths.sandbox_dir(),
            port: 0,
            clock: ctx.clock.clone(),
            faults: Default::default(),
        })
        .await
        .map_err(|e| ConnectError::Sandbox(e.to_string()))?;
        let info = &sandbox.info;
        let cfg = client_config(
            ctx,
            profile,
            Some(&info.base_url),
            Some(&info.tenant),
            &info.client_id,
            Secret::new(info.client_secret.clone()),
        );
        let client = StoreClient::new(cfg)?;
        return Ok((client, Some(sandbox)));
    }
    // Without these the token URL and the keys' client id check make no
    // sense; say which is missing rather than fail on a strange URL.
    for (field, value, env) in [
        ("tenant_id", &profile.tenant_id, "STOREDESK_TENANT_ID"),
        ("client_id", &profile.client_id, "STOREDESK_CLIENT_ID"),
    ] {
        if value.trim().is_empty() {
            return Err(ConnectError::Profile(format!(
                "profile {:?} has no {field}: set it in the config file{}",
                profile.name,
                if profile.name == "retail" {
                    format!(" or the {env} environment variable")
                } else {
                    String::new()
                }
            )));
        }
    }
    let secret = profile.resolve_secret()?;
    let cfg = client_config(ctx, profile, None, None, &profile.client_id, secret);
    Ok((StoreClient::new(cfg)?, None))
}
