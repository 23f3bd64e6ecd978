//! Issue 15 points 5–7 against the embedded sandbox over real loopback
//! HTTP: the call budget and the orders cache kept in the data dir, the
//! writes the docs restrict, and errors Microsoft support can trace.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;
use storedesk::case::FailedCall;
use storedesk::clock::Clock;
use storedesk::journal::JournalLocation;
use storedesk::sandbox::{self, Quirks, Sandbox, SandboxOptions};
use storedesk::store::{ClientConfig, RetryPolicy, StoreClient, TokenStyle};
use tokio_util::sync::CancellationToken;

struct Env {
    sb: Sandbox,
    dir: tempfile::TempDir,
}

impl Env {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let sb = sandbox::start(SandboxOptions {
            data_dir: dir.path().join("sandbox"),
            port: 0,
            clock: Clock::system(),
            faults: vec![],
        })
        .await
        .unwrap();
        Self { sb, dir }
    }

    fn config(&self) -> ClientConfig {
        let mut cfg = self.sb.info.client_config();
        cfg.timeout = Duration::from_secs(10);
        cfg.retry = RetryPolicy {
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(100),
            ..RetryPolicy::default()
        };
        cfg
    }

    fn client(&self) -> StoreClient {
        StoreClient::new(self.config()).unwrap()
    }

    fn key(&self, name: &str, purchase: bool) -> String {
        let c = self
            .sb
            .info
            .customers
            .iter()
            .find(|c| c.name == name)
            .unwrap();
        if purchase {
            c.purchase_key.clone()
        } else {
            c.collections_key.clone()
        }
    }

    fn fault(&self, spec: &str) {
        self.sb.add_fault(spec.parse().unwrap());
    }

    fn journal(&self) -> JournalLocation {
        JournalLocation::Sqlite(self.dir.path().join("journal.sqlite"))
    }
}

const BIN: &str = env!("CARGO_BIN_EXE_storedesk");

/// A data dir whose embedded sandbox was started once (seeded, keys
/// minted with its signing key); every `storedesk` run starts it again.
struct Cli {
    dir: tempfile::TempDir,
    customers: Vec<storedesk::sandbox::DemoCustomer>,
}

impl Cli {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let sb = sandbox::start(SandboxOptions {
            data_dir: dir.path().join("data").join("sandbox"),
            port: 0,
            clock: Clock::system(),
            faults: vec![],
        })
        .await
        .unwrap();
        let customers = sb.info.customers.clone();
        sb.shutdown().await;
        std::fs::write(dir.path().join("empty.toml"), "").unwrap();
        Self { dir, customers }
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn key(&self, name: &str, purchase: bool) -> String {
        let c = self.customers.iter().find(|c| c.name == name).unwrap();
        if purchase {
            c.purchase_key.clone()
        } else {
            c.collections_key.clone()
        }
    }

    /// `storedesk ARGS` on the embedded sandbox, writes allowed.
    fn run(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .arg("--data-dir")
            .arg(self.data())
            .arg("--config")
            .arg(self.dir.path().join("empty.toml"))
            .arg("--allow-writes")
            .args(args)
            .env_remove("STOREDESK_CONFIG")
            .env_remove("STOREDESK_PROFILE")
            .env_remove("STOREDESK_NOW")
            .env_remove("STOREDESK_DATA_DIR")
            .env("USER", "tester")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    /// The journal's rows: what was journaled.
    fn journaled(&self) -> usize {
        journal_rows(&self.data().join("journal.sqlite"))
    }
}

fn journal_rows(path: &Path) -> usize {
    if !path.exists() {
        return 0;
    }
    let db = rusqlite::Connection::open(path).unwrap();
    let has: i64 = db
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'writes'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    if has == 0 {
        return 0;
    }
    db.query_row("SELECT count(*) FROM writes", [], |r| r.get::<_, i64>(0))
        .unwrap() as usize
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).to_string(),
        String::from_utf8_lossy(&o.stderr).to_string(),
    )
}

fn ids_of<'a>(f: &'a [FailedCall], what: &str) -> &'a [(String, String)] {
    &f.iter()
        .find(|c| c.what == what)
        .unwrap_or_else(|| panic!("no failed {what} call: {f:?}"))
        .correlation_ids
}

// ------------------------------------------------ point 7: traceable errors

/// A refused queue call (Azure Storage) carries Azure's x-ms-request-id:
/// in the error's text and among the case's failed calls, which the case
/// file (the Timeline's `e`) lists for Microsoft support.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn azure_request_ids_join_errors_and_the_cases_failed_calls() {
    let env = Env::start().await;
    let client = env.client();
    env.fault("queue:403");
    let case = storedesk::case::load::load(
        &client,
        None,
        Some(env.key("ada", true)),
        &env.journal(),
        None,
        &CancellationToken::new(),
    )
    .await;
    let ids = ids_of(&case.failed_calls, "clawback queue");
    let azure = ids
        .iter()
        .find(|(k, _)| k == "x-ms-request-id")
        .unwrap_or_else(|| panic!("no x-ms-request-id: {ids:?}"));
    assert_eq!(azure.1.len(), 36, "{ids:?}");
    let msg = &case
        .failed_calls
        .iter()
        .find(|c| c.what == "clawback queue")
        .unwrap()
        .message;
    assert!(
        msg.contains(&format!("x-ms-request-id={}", azure.1)),
        "{msg}"
    );
    // The Store's own calls keep their MS-* ids.
    env.fault("orders:403");
    let r =
        storedesk::case::load::orders(&client, &env.key("ada", true), &CancellationToken::new())
            .await
            .unwrap_err();
    assert!(r.correlation.correlation_id.is_some(), "{r}");
    assert!(r.correlation.azure_request_id.is_none(), "{r}");
    // ... and the case file lists the Azure id.
    let file = storedesk::case::file::render(
        &case,
        chrono::Utc::now(),
        &Default::default(),
        storedesk::case::file::FileFormat::Markdown,
    );
    let row = file
        .split("## Failed calls")
        .nth(1)
        .and_then(|s| s.lines().find(|l| l.starts_with("| clawback queue")))
        .unwrap_or_else(|| panic!("no failed queue row: {file}"));
    assert!(
        row.contains(&format!("x-ms-request-id `{}`", azure.1)),
        "{row}"
    );
}

/// Entra's refusals name the profile field to fix, in the error a
/// console or a headless command shows — the same table doctor uses —
/// and carry Entra's x-ms-request-id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_refusals_name_the_profile_field_to_fix() {
    let env = Env::start().await;
    // The login endpoint speaks only v2; the profile asks in v1.
    env.sb.set_quirks(Quirks {
        token_style: Some(TokenStyle::V2),
        ..Default::default()
    });
    let e = env
        .client()
        .service_token(storedesk::store::audience::STORE)
        .await
        .unwrap_err();
    assert!(e.message.contains("AADSTS900144"), "{e}");
    let hint = e.hint().unwrap_or_default();
    assert!(hint.contains("token_style"), "{hint}");
    assert!(e.correlation.azure_request_id.is_some(), "{e:?}");
    assert!(e.to_string().contains("x-ms-request-id="), "{e}");

    // An audience Entra does not know: `invalid_scope` with AADSTS500011
    // — the AADSTS code wins: no profile field fixes it, Partner Center does.
    env.sb.set_quirks(Quirks::default());
    let mut cfg = env.config();
    cfg.endpoints.token_style = TokenStyle::V2;
    let e = StoreClient::new(cfg)
        .unwrap()
        .service_token("https://onestore.microsoft.com/b2b/keys/create/none")
        .await
        .unwrap_err();
    let hint = e.hint().unwrap_or_default();
    assert_eq!(e.code.as_deref(), Some("invalid_scope"), "{e}");
    assert!(
        e.message.contains("AADSTS500011") && hint.contains("Partner Center"),
        "{e} / {hint}"
    );

    // A wrong secret names where the secret comes from.
    let mut cfg = env.config();
    cfg.client_secret = storedesk::config::Secret::new("not-the-secret");
    let e = StoreClient::new(cfg)
        .unwrap()
        .service_token(storedesk::store::audience::STORE)
        .await
        .unwrap_err();
    assert!(e.message.contains("AADSTS7000215"), "{e}");
    let hint = e.hint().unwrap_or_default();
    assert!(
        hint.contains("client_secret_env") && hint.contains("secret_command"),
        "{hint}"
    );
    assert!(!format!("{e} {hint}").contains("not-the-secret"));
}

// ------------------------------------------ point 6: writes the docs restrict

/// Headless `grant` of an UnmanagedConsumable with a quantity other than 1
/// is refused before anything is journaled or sent (the display catalog
/// names the kind); quantity 1 grants.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_of_an_unmanaged_consumable_is_quantity_1_headless() {
    let cli = Cli::new().await;
    let pk = cli.key("cora", true);
    let grant = |q: &str| {
        cli.run(&[
            "grant",
            "--key",
            &pk,
            "--product",
            "9NSDFREEGEMS",
            "--sku",
            "0010",
            "--availability",
            "9NSDAV000009",
            "--quantity",
            q,
            "--yes",
        ])
    };
    let out = tokio::task::block_in_place(|| grant("3"));
    let (_, err) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("quantity 3: an UnmanagedConsumable is granted with quantity 1 only"),
        "{err}"
    );
    assert_eq!(cli.journaled(), 0, "nothing journaled");
    let out = tokio::task::block_in_place(|| grant("1"));
    let (so, err) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{so}{err}");
    assert!(so.contains("done: #1"), "{so}");
    assert_eq!(cli.journaled(), 1);
}

/// Headless `change --auto-renew-off` of a subscription whose auto-renew
/// is off already: exit 0 with the explanation, nothing journaled or sent;
/// one that is on is turned off (journaled, once).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn turning_auto_renew_off_when_it_is_off_is_a_no_op_headless() {
    let cli = Cli::new().await;
    let pk = cli.key("sam", true);
    let off = "mdr:0:cc00000000000000000000000000000c:0c000000-0000-4000-8000-00000000000c";
    let on = "mdr:0:aa00000000000000000000000000000a:0a000000-0000-4000-8000-00000000000a";
    let change = |id: &str| {
        cli.run(&[
            "change",
            "--key",
            &pk,
            "--id",
            id,
            "--auto-renew-off",
            "--yes",
        ])
    };
    let out = tokio::task::block_in_place(|| change(off));
    let (so, err) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{so}{err}");
    assert!(
        so.contains("already off") && so.contains("nothing was sent or journaled"),
        "{so}"
    );
    assert_eq!(cli.journaled(), 0);
    let out = tokio::task::block_in_place(|| change(on));
    let (so, err) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{so}{err}");
    assert!(so.contains("done: #1"), "{so}");
    assert_eq!(cli.journaled(), 1);
    // Now it is off: asking again is the no-op, not a second write.
    let out = tokio::task::block_in_place(|| change(on));
    let (so, _) = text(&out);
    assert_eq!(out.status.code(), Some(0));
    assert!(so.contains("already off"), "{so}");
    assert_eq!(cli.journaled(), 1);
    // An id the customer does not have is refused, nothing sent.
    let out = tokio::task::block_in_place(|| change("mdr:0:nope"));
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("no subscription mdr:0:nope"));
    assert_eq!(cli.journaled(), 1);
}
