//! `storedesk case`: the case file of one customer, Markdown (default) or
//! one JSON document, to `--out PATH` or standard output. Also the shared
//! headless loading of a whole case (`timeline` uses it): connect, read
//! every part through `case::load`, progress and errors on stderr.

use super::keyinput::{KeyReader, sort_keys};
use super::{CaseArgs, CaseFormat, Context};
use crate::case::Case;
use crate::case::file::{FileEnv, FileFormat};
use std::process::ExitCode;
use tokio_util::sync::CancellationToken;

/// A case read headless, with what the case file says about where.
pub struct Loaded {
    pub case: Case,
    pub env: FileEnv,
}

/// The collections and purchase keys of `--key` / `--purchase-key` (and
/// their `-file` forms), each put in its place by what it says it is.
pub fn read_keys(
    key: &super::keyinput::KeyArg,
    purchase: &super::keyinput::PurchaseKeyArg,
) -> Result<(Option<String>, Option<String>), String> {
    let mut r = KeyReader::default();
    let k = r.main(key)?;
    let p = r.purchase(purchase)?;
    if k.is_none() && p.is_none() {
        return Err(
            "give the customer's key with --key KEY, --key - (standard input) or --key-file PATH"
                .into(),
        );
    }
    Ok(sort_keys(k, p))
}

/// Connect and read every part of the case; entitlements too when `list`.
pub async fn load_case(
    ctx: &Context,
    collections: Option<String>,
    purchase: Option<String>,
    list: bool,
) -> Result<Loaded, ExitCode> {
    let (client, sandbox) = match super::connect::connect_headless(ctx).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("storedesk: {e}");
            return Err(e.exit_code());
        }
    };
    let p = &ctx.config.profile;
    // A publisher's profile lists its catalog; the embedded sandbox has its own.
    let mut product_ids = p.product_ids.clone();
    if product_ids.is_empty()
        && let Some(s) = &sandbox
    {
        product_ids = s.product_ids();
    }
    let pem = super::connect::sandbox_public_key(&ctx.paths, sandbox.as_ref()).ok();
    let env = FileEnv {
        environment: p.environment.to_string(),
        profile: p.name.clone(),
        operator: p.operator.clone(),
        store: if sandbox.is_some() {
            "the embedded sandbox (loopback)".into()
        } else {
            client.endpoints().collections.clone()
        },
        sandbox_id: p.sbx.clone(),
        client_id: Some(client.config().client_id.clone()),
        sandbox_public_key_pem: pem,
        generator: format!("storedesk {}", env!("CARGO_PKG_VERSION")),
    };
    let cancel = CancellationToken::new();
    let stop = cancel.clone();
    let ctrl_c = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            stop.cancel();
        }
    });
    let mut progress = |p: &crate::store::PageProgress| match p.calls_left {
        Some(left) => eprintln!(
            "  entitlements page {} · {} items · {left} calls left",
            p.pages, p.items
        ),
        None => eprintln!("  entitlements page {} · {} items", p.pages, p.items),
    };
    let listing = list.then(|| crate::case::load::Listing {
        product_ids: &product_ids,
        on_page: &mut progress,
    });
    let case = crate::case::load::load(
        &client,
        collections,
        purchase,
        &ctx.journal_location(),
        listing,
        &cancel,
    )
    .await;
    ctrl_c.abort();
    for f in &case.failed_calls {
        eprintln!("storedesk: {} failed: {}", f.what, f.message);
    }
    drop(sandbox);
    Ok(Loaded { case, env })
}

pub fn run(ctx: &Context, a: &CaseArgs) -> ExitCode {
    let (ck, pk) = match read_keys(&a.key, &a.purchase) {
        Ok(k) => k,
        Err(e) => return super::writes::fail(super::writes::EXIT_USAGE, e),
    };
    let rt = match super::runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let loaded = match rt.block_on(load_case(ctx, ck, pk, true)) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let format = match a.format {
        CaseFormat::Markdown => FileFormat::Markdown,
        CaseFormat::Json => FileFormat::Json,
    };
    let text = crate::case::file::render(&loaded.case, ctx.clock.now(), &loaded.env, format);
    match &a.out {
        None => match super::output::print(&text) {
            Ok(()) => ExitCode::SUCCESS,
            Err(code) => code,
        },
        Some(path) => match crate::paths::write_private(path, &text) {
            Ok(()) => {
                eprintln!("storedesk: wrote the case file {}", path.display());
                ExitCode::SUCCESS
            }
            Err(e) => super::writes::fail(
                super::writes::EXIT_REFUSED,
                format!("cannot write {}: {e}", path.display()),
            ),
        },
    }
}
