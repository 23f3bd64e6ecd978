//! Issue 15 points 5–7 against the embedded sandbox over real loopback
//! HTTP: the call budget and the orders cache kept in the data dir, the
//! writes the docs restrict, and errors Microsoft support can trace.

#[path = "support/sandbox.rs"]
mod support_sandbox;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;
use storedesk::case::FailedCall;
use storedesk::journal::JournalLocation;
use storedesk::sandbox::{Quirks, Sandbox};
use storedesk::store::{ClientConfig, RetryPolicy, StoreClient, TokenStyle};
use tokio_util::sync::CancellationToken;

struct Env {
    sb: Sandbox,
    dir: tempfile::TempDir,
}

impl Env {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let sb = support_sandbox::start_in(dir.path(), vec![]).await;
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
        let sb = support_sandbox::start_in(&dir.path().join("data"), vec![]).await;
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

// ------------------------------------------------- point 5: the rate budget

impl Env {
    /// A client keeping its budget and orders read in `state`, as every
    /// storedesk on that data dir does (a second client = another process).
    fn client_in(&self, state: &Path) -> StoreClient {
        let mut cfg = self.config();
        cfg.state_dir = Some(state.to_path_buf());
        StoreClient::new(cfg).unwrap()
    }
}

fn v9(key: &str) -> storedesk::store::model::PublisherQueryRequest {
    use storedesk::store::model::{Beneficiary, ProductSkuId, PublisherQueryRequest};
    PublisherQueryRequest {
        beneficiaries: vec![Beneficiary::b2b(key)],
        product_sku_ids: Some(vec![ProductSkuId {
            product_id: "9NSDGAME0001".into(),
            sku_id: None,
        }]),
        ..Default::default()
    }
}

/// The budget lives in the data dir: clients that share it (processes, in
/// the field) share the customer's 100 calls; concurrent spenders never
/// get more than 100 between them (the file lock), and the file names
/// neither the customer nor the key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_call_budget_is_shared_through_the_data_dir() {
    use storedesk::store::CallBudget;
    let env = Env::start().await;
    let state = tempfile::tempdir().unwrap();
    let key = env.key("gus", false);
    let customer = storedesk::store::keyinfo::customer_id(&key);
    let (a, b) = (env.client_in(state.path()), env.client_in(state.path()));
    for _ in 0..3 {
        a.publisher_query_page(&v9(&key)).await.unwrap();
    }
    assert_eq!(b.calls_left(&customer), 97, "b sees a's calls");
    b.publisher_query_page(&v9(&key)).await.unwrap();
    assert_eq!(a.calls_left(&customer), 96);
    // A client without the data dir counts alone (tests, benches).
    assert_eq!(env.client().calls_left(&customer), 100);

    // Eight threads over two budgets on one dir: exactly the limit.
    let dir = state.path().join("race");
    let budgets = [
        std::sync::Arc::new(CallBudget::persistent(dir.clone())),
        std::sync::Arc::new(CallBudget::persistent(dir.clone())),
    ];
    let granted: usize = std::thread::scope(|s| {
        let hs: Vec<_> = (0..8)
            .map(|i| {
                let b = budgets[i % 2].clone();
                s.spawn(move || (0..20).filter(|_| b.try_acquire("c").is_ok()).count())
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(granted, 100);
    let e = budgets[0].try_acquire("c").unwrap_err();
    assert!(e.to_string().contains("refused locally"), "{e}");
    for f in std::fs::read_dir(state.path().join("budget")).unwrap() {
        let f = f.unwrap();
        let name = f.file_name().to_string_lossy().to_string();
        let text = std::fs::read_to_string(f.path()).unwrap_or_default();
        assert!(
            !name.contains(&customer) && !text.contains(&customer),
            "{name}"
        );
        assert!(!text.contains(&key));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = f.metadata().unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{name}");
        }
    }
}

/// Three headless runs in a row spend one budget: what the third leaves
/// is what three runs cost, read back from the data dir.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_headless_runs_spend_one_budget() {
    let cli = Cli::new().await;
    let ck = cli.key("gus", false);
    let customer = storedesk::store::keyinfo::customer_id(&ck);
    let budget = storedesk::store::CallBudget::persistent(cli.data().join("budget"));
    let mut left = vec![budget.remaining(&customer)];
    for _ in 0..3 {
        let out = tokio::task::block_in_place(|| cli.run(&["entitlements", "--key", &ck]));
        assert!(out.status.success(), "{}", text(&out).1);
        left.push(budget.remaining(&customer));
    }
    let per_run = left[0] - left[1];
    assert!(per_run >= 1, "{left:?}");
    assert_eq!(
        left,
        vec![100, 100 - per_run, 100 - 2 * per_run, 100 - 3 * per_run]
    );
}

/// A 429 without Retry-After: one request, no wait on a timer, an error
/// that says why and when to read again — and the hold is kept in the
/// data dir, so the next process refuses locally instead of asking.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_without_retry_after_is_not_retried_on_a_timer() {
    let env = Env::start().await;
    let state = tempfile::tempdir().unwrap();
    let key = env.key("ada", false);
    let customer = storedesk::store::keyinfo::customer_id(&key);
    let c = env.client_in(state.path());
    let waits = std::sync::Arc::new(std::sync::Mutex::new(0));
    let w = waits.clone();
    c.set_wait_observer(Some(std::sync::Arc::new(move |_, _, _| {
        *w.lock().unwrap() += 1;
    })));
    env.fault("publisherQuery:429,retry-after=none");
    let started = std::time::Instant::now();
    let e = c.publisher_query_page(&v9(&key)).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(3), "waited");
    assert_eq!((e.status, e.attempts), (Some(429), 1), "{e}");
    assert_eq!(c.stats().of("publisherQuery"), 1, "not retried");
    assert_eq!(*waits.lock().unwrap(), 0, "no timer started");
    assert_eq!(e.retry_after, Some(Duration::from_secs(300)));
    let msg = e.to_string();
    assert!(
        msg.contains("no Retry-After")
            && msg.contains("shared with the publisher's production service")
            && msg.contains("read again after")
            && msg.contains("UTC (in 5 min)")
            && msg.contains("99 of 100 calls left"),
        "{msg}"
    );
    assert!(e.hint().unwrap().contains("r in the console"));
    assert!(!e.is_definite());
    assert_eq!(c.calls_left(&customer), 0);
    // Another process on the data dir: refused before anything is sent.
    let next = env.client_in(state.path());
    let e = next.publisher_query_page(&v9(&key)).await.unwrap_err();
    assert_eq!(e.kind, storedesk::store::ErrorKind::Budget, "{e}");
    assert!(e.to_string().contains("the Store answered 429"), "{e}");
    assert!(e.retry_after.is_some_and(|w| w > Duration::from_secs(290)));
    assert_eq!(next.stats().of("publisherQuery"), 0);
    // Another customer is not held.
    next.publisher_query_page(&v9(&env.key("gus", false)))
        .await
        .unwrap();
}

// ------------------------------------------ point 5: orders once a day

/// The orders are read once a day per customer: a second client on the
/// data dir answers from the first's read (no request), with its time;
/// `refresh` reads again; a grant forgets the read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_are_read_at_most_once_a_day_per_customer() {
    use storedesk::case::load::orders_once_a_day;
    let env = Env::start().await;
    let state = tempfile::tempdir().unwrap();
    let pk = env.key("cora", true);
    let cancel = CancellationToken::new();
    let a = env.client_in(state.path());
    let first = orders_once_a_day(&a, &pk, false, &cancel).await.unwrap();
    assert!(!first.cached && !first.orders.is_empty());
    assert!(a.stats().of("ordersQuery") >= 1, "{:?}", a.stats());
    let b = env.client_in(state.path());
    let again = orders_once_a_day(&b, &pk, false, &cancel).await.unwrap();
    assert!(again.cached);
    assert_eq!(
        (again.orders.len(), again.read_at),
        (first.orders.len(), first.read_at)
    );
    assert_eq!(b.stats().total, 0, "nothing was asked: {:?}", b.stats());
    // The file holds no key, only the customer's orders, 0600.
    let file = b.orders_file(&pk).unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains(&pk));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    // Another customer is read.
    let other = orders_once_a_day(&b, &env.key("ada", true), false, &cancel)
        .await
        .unwrap();
    assert!(!other.cached);
    // Asked for: read again.
    let before = b.stats().total;
    let fresh = orders_once_a_day(&b, &pk, true, &cancel).await.unwrap();
    assert!(!fresh.cached && b.stats().total > before);
    // A grant makes an order: the next read asks the Store.
    let grant = storedesk::store::model::GrantRequest {
        availability_id: "9NSDAV000009".into(),
        b2b_key: pk.clone(),
        language: "en-US".into(),
        market: "US".into(),
        order_id: uuid::Uuid::new_v4().to_string(),
        product_id: "9NSDFREEGEMS".into(),
        quantity: Some(1),
        sku_id: "0010".into(),
        ..Default::default()
    };
    b.grant(&grant).await.unwrap();
    let after = orders_once_a_day(&a, &pk, false, &cancel).await.unwrap();
    assert!(!after.cached);
    assert_eq!(after.orders.len(), first.orders.len() + 1);
}

/// Headless: the second `orders` run answers from the first's read and
/// says so on stderr; `--refresh` reads the Store again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headless_orders_say_their_age_and_refresh_on_request() {
    let cli = Cli::new().await;
    let pk = cli.key("cora", true);
    let run = |extra: &[&str]| {
        let mut args = vec!["orders", "--key", pk.as_str(), "--json"];
        args.extend_from_slice(extra);
        tokio::task::block_in_place(|| cli.run(&args))
    };
    let first = run(&[]);
    let (so1, err1) = text(&first);
    assert!(first.status.success(), "{err1}");
    assert!(!err1.contains("orders read"), "{err1}");
    let j1: serde_json::Value = serde_json::from_str(&so1).unwrap();
    assert_eq!(j1["cached"], false);
    let second = run(&[]);
    let (so2, err2) = text(&second);
    assert!(second.status.success(), "{err2}");
    assert!(
        err2.contains("orders read just now") && err2.contains("--refresh reads again"),
        "{err2}"
    );
    let j2: serde_json::Value = serde_json::from_str(&so2).unwrap();
    assert_eq!(j2["cached"], true);
    assert_eq!(j2["read_at"], j1["read_at"]);
    assert_eq!(j2["orders"], j1["orders"]);
    let third = run(&["--refresh"]);
    let (so3, err3) = text(&third);
    assert!(third.status.success(), "{err3}");
    assert!(!err3.contains("orders read"), "{err3}");
    let j3: serde_json::Value = serde_json::from_str(&so3).unwrap();
    assert_eq!(j3["cached"], false);
}

/// The console's Orders job under a 429 without Retry-After: one request,
/// and the pane's failure line says when to read again with `r`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_says_when_to_read_again_after_a_bare_429() {
    use storedesk::tui::panes::orders::OrdersEvent;
    let env = Env::start().await;
    let state = tempfile::tempdir().unwrap();
    let c = env.client_in(state.path());
    env.fault("orders:429,retry-after=none");
    let ev = storedesk::tui::panes::lists_job::orders(&c, &env.key("cora", true), false, 7).await;
    let OrdersEvent::Read {
        load_id: 7,
        result: Err(f),
    } = ev
    else {
        panic!("{ev:?}");
    };
    let line = f.line();
    assert!(
        line.contains("429")
            && line.contains("read again after")
            && line.contains("r in the console"),
        "{line}"
    );
    assert_eq!(c.stats().of("ordersQuery"), 1, "not retried");
}
