//! The headless panes (`orders`, `subscriptions`, `clawbacks`, `timeline`)
//! and the case file (`case`), through the real binary on the embedded
//! sandbox of a temporary data dir, with the clock pinned (`--now`). Keys
//! come in by `--key-file` and `--key -` as well as `--key`; no output
//! may hold a key, the sandbox's client secret or a SAS signature.

use serde_json::Value;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use storedesk::clock::Clock;
use storedesk::sandbox::{SandboxOptions, start};

const BIN: &str = env!("CARGO_BIN_EXE_storedesk");
const NOW: &str = "2026-11-23T10:00:00Z";

struct Env {
    dir: tempfile::TempDir,
    customers: Vec<storedesk::sandbox::DemoCustomer>,
    secret: String,
}

impl Env {
    /// A data dir whose sandbox was started once at [`NOW`] (seeded, keys
    /// minted with its signing key); every command then starts it again.
    async fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let now = chrono::DateTime::parse_from_rfc3339(NOW).unwrap().to_utc();
        let sb = start(SandboxOptions {
            data_dir: dir.path().join("data").join("sandbox"),
            port: 0,
            clock: Clock::fixed(now),
            faults: vec![],
        })
        .await
        .unwrap();
        let customers = sb.info.customers.clone();
        let secret = sb.info.client_secret.clone();
        sb.shutdown().await;
        Env {
            dir,
            customers,
            secret,
        }
    }

    fn key(&self, name: &str, purchase: bool) -> String {
        let c = self.customers.iter().find(|c| c.name == name).unwrap();
        if purchase {
            c.purchase_key.clone()
        } else {
            c.collections_key.clone()
        }
    }

    /// The key in a file of the test's dir.
    fn key_file(&self, name: &str, purchase: bool) -> PathBuf {
        let p = self
            .dir
            .path()
            .join(format!("{name}-{}.key", if purchase { "p" } else { "c" }));
        std::fs::write(&p, format!("{}\n", self.key(name, purchase))).unwrap();
        p
    }

    /// With an empty config file: the defaults (the embedded sandbox).
    fn cmd(&self) -> Command {
        let empty = self.dir.path().join("empty.toml");
        if !empty.exists() {
            std::fs::write(&empty, "").unwrap();
        }
        self.cmd_with(&empty)
    }

    /// With this config file.
    fn cmd_with(&self, config: &Path) -> Command {
        let mut c = Command::new(BIN);
        c.arg("--data-dir")
            .arg(self.dir.path().join("data"))
            .arg("--config")
            .arg(config)
            .args(["--now", NOW])
            .env_remove("STOREDESK_CONFIG")
            .env_remove("STOREDESK_PROFILE")
            .env_remove("STOREDESK_NOW")
            .env("USER", "tester")
            .stdin(Stdio::null());
        c
    }

    /// Run with `args`; stdin fed `input` when given.
    fn run(&self, args: &[&str], input: Option<&str>) -> Output {
        let mut c = self.cmd();
        c.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
        if input.is_some() {
            c.stdin(Stdio::piped());
        }
        let mut child = c.spawn().unwrap();
        if let Some(text) = input {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        }
        let out = child.wait_with_output().unwrap();
        self.clean(&out);
        out
    }

    /// Nothing secret in either stream: no key of any demo customer, not
    /// the client secret, no SAS signature.
    fn clean(&self, out: &Output) {
        for stream in [&out.stdout, &out.stderr] {
            let text = String::from_utf8_lossy(stream);
            assert!(!text.contains(&self.secret), "client secret in output");
            assert!(!text.contains("sig="), "SAS signature in output: {text}");
            for c in &self.customers {
                assert!(
                    !text.contains(&c.collections_key) && !text.contains(&c.purchase_key),
                    "a key of {} in output",
                    c.name
                );
                // Nor its signature alone.
                let sig = c.collections_key.rsplit('.').next().unwrap();
                assert!(!text.contains(sig), "a key signature in output");
            }
        }
    }
}

fn ok(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_in_every_format() {
    let env = Env::new().await;
    let kf = env.key_file("cora", true);
    let text = ok(&env.run(&["orders", "--key-file", path(&kf)], None));
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert!(
        header.starts_with("purchased") && header.contains("refunded"),
        "{text}"
    );
    assert!(text.contains("5 order(s), 5 line item(s)"), "{text}");
    assert!(
        text.contains("Refunded") && text.contains("Revoked"),
        "{text}"
    );

    let json: Value = serde_json::from_str(&ok(
        &env.run(&["orders", "--key-file", path(&kf), "--json"], None)
    ))
    .unwrap();
    assert_eq!(json["orders"].as_array().unwrap().len(), 5);
    assert_eq!(
        json["customer"],
        storedesk::keys::fingerprint(&env.key("cora", true))
    );

    let nd = ok(&env.run(&["orders", "--key-file", path(&kf), "--ndjson"], None));
    let objs: Vec<Value> = nd
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(objs.len(), 5);
    assert!(objs.iter().all(|o| o["orderId"].is_string()), "{nd}");

    let csv = ok(&env.run(&["orders", "--key-file", path(&kf), "--csv"], None));
    assert_eq!(
        csv.lines().next().unwrap(),
        "purchased,order,line item,product,sku,qty,state,refunded"
    );
    assert_eq!(csv.lines().count(), 6);

    // No key at all, or two ways at once: refused before any call.
    let out = env.run(&["orders"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--key-file"));
    let out = env.run(&["orders", "--key", "x", "--key-file", path(&kf)], None);
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_by_stdin_with_the_lag_warning() {
    let env = Env::new().await;
    let key = env.key("sam", true);
    let text = ok(&env.run(&["subscriptions", "--key", "-"], Some(&key)));
    assert!(text.contains("7 subscription(s)"), "{text}");
    assert!(
        text.contains("InDunning") && text.contains("Canceled"),
        "{text}"
    );
    // A pasted key with quotes and a Bearer prefix is cleaned as the Key pane does.
    let json: Value = serde_json::from_str(&ok(&env.run(
        &["subscriptions", "--key", "-", "--json"],
        Some(&format!("\"Bearer {key}\"\n")),
    )))
    .unwrap();
    let subs = json["subscriptions"].as_array().unwrap();
    assert_eq!(subs.len(), 7);
    assert!(subs.iter().all(|s| s.get("warning").is_some()));
    let csv = ok(&env.run(&["subscriptions", "--key", "-", "--csv"], Some(&key)));
    assert!(
        csv.starts_with(
            "id,product,sku,state,auto-renew,trial,start,expires,grace until,warning\n"
        )
    );
    // Text that holds no key: exit 2, and the text is not echoed.
    let out = env.run(&["subscriptions", "--key", "-"], Some("hunter2-not-a-key"));
    assert_eq!(out.status.code(), Some(2));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("hunter2"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clawbacks_of_the_queue_and_of_one_customer() {
    let env = Env::new().await;
    let all = ok(&env.run(&["clawbacks"], None));
    assert!(all.contains("4 of 4 event(s)"), "{all}");
    assert!(
        all.contains("reconcile") && all.contains("undo revocation"),
        "{all}"
    );
    let cora = env.key_file("cora", true);
    let json: Value = serde_json::from_str(&ok(
        &env.run(&["clawbacks", "--key-file", path(&cora), "--json"], None)
    ))
    .unwrap();
    let events = json["events"].as_array().unwrap();
    assert_eq!(events.len(), 4);
    assert!(events.iter().all(|e| e["environment"] == "RETAIL"));
    // Ada has no clawbacks: every event is another customer's.
    let ada = env.key_file("ada", true);
    let text = ok(&env.run(&["clawbacks", "--key-file", path(&ada)], None));
    assert!(text.contains("0 of 4 event(s)"), "{text}");
    assert!(text.contains("4 of other customers left out"), "{text}");
    // A profile of another environment (sbx) hides them unless asked.
    let cfg = env.dir.path().join("sbx.toml");
    std::fs::write(&cfg, "[profiles.sandbox]\nsbx = \"XDKS.1\"\n").unwrap();
    let out = env
        .cmd_with(&cfg)
        .args(["clawbacks", "--ndjson"])
        .output()
        .unwrap();
    env.clean(&out);
    assert_eq!(ok(&out).lines().count(), 0);
    let out = env
        .cmd_with(&cfg)
        .args(["clawbacks", "--all-environments", "--csv"])
        .output()
        .unwrap();
    env.clean(&out);
    let csv = ok(&out);
    assert_eq!(csv.lines().count(), 5, "{csv}");
    assert!(
        csv.lines().skip(1).all(|l| l.ends_with("other: RETAIL")),
        "{csv}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeline_filtered_by_type_and_age() {
    let env = Env::new().await;
    let ck = env.key_file("cora", false);
    let pk = env.key("cora", true);
    let base = ["timeline", "--key-file", path(&ck), "--purchase-key", "-"];
    let all: Value =
        serde_json::from_str(&ok(&env.run(&[&base[..], &["--json"]].concat(), Some(&pk)))).unwrap();
    let entries = all["entries"].as_array().unwrap();
    assert!(entries.len() > 8, "{all}");
    assert!(
        all["sources"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["loaded"] == true)
    );
    let refunds = ok(&env.run(
        &[&base[..], &["--type", "refund", "--csv"]].concat(),
        Some(&pk),
    ));
    let rows: Vec<&str> = refunds.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{refunds}");
    assert!(
        rows.iter().all(|r| r.contains(",order,refund,refunded ")),
        "{refunds}"
    );
    let recent = ok(&env.run(
        &[&base[..], &["--since", "5d", "--ndjson"]].concat(),
        Some(&pk),
    ));
    for l in recent.lines() {
        let v: Value = serde_json::from_str(l).unwrap();
        assert!(v["at"].as_str().unwrap() >= "2026-11-18", "{l}");
    }
    assert!(recent.lines().count() < entries.len());
    // Both keys from standard input cannot be.
    let out = env.run(
        &["timeline", "--key", "-", "--purchase-key", "-"],
        Some(&pk),
    );
    assert_eq!(out.status.code(), Some(2));
    let out = env.run(&[&base[..], &["--type", "refunds"]].concat(), Some(&pk));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("clawback"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entitlements_and_consume_take_the_key_from_a_file_or_stdin() {
    let env = Env::new().await;
    let kf = env.key_file("cora", false);
    let by_file = ok(&env.run(&["entitlements", "--key-file", path(&kf), "--json"], None));
    let by_stdin = ok(&env.run(
        &["entitlements", "--key", "-", "--json"],
        Some(&env.key("cora", false)),
    ));
    assert_eq!(by_file, by_stdin);
    assert!(by_file.contains("9NSDCOIN0500"));
    let out = env.run(
        &[
            "consume",
            "--key-file",
            path(&kf),
            "--product",
            "9NSDCOIN0500",
            "--quantity",
            "1",
            "--yes",
        ],
        None,
    );
    assert!(ok(&out).starts_with("done: #1"));
}

/// The case file's fingerprints as names, so the snapshot holds across
/// runs (each test's sandbox signs with a new key).
fn pinned(env: &Env, text: &str) -> String {
    let mut s = text.to_string();
    for (k, name) in [
        (env.key("cora", false), "<cora-collections>"),
        (env.key("cora", true), "<cora-purchase>"),
    ] {
        s = s.replace(&storedesk::keys::fingerprint(&k), name);
    }
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_case_file_of_a_demo_customer() {
    let env = Env::new().await;
    let ck = env.key_file("cora", false);
    let pk = env.key_file("cora", true);
    // A write of this case, so the audit section has one.
    ok(&env.run(
        &[
            "consume",
            "--key-file",
            path(&ck),
            "--product",
            "9NSDCOIN0500",
            "--quantity",
            "2",
            "--yes",
        ],
        None,
    ));
    let out_path = env.dir.path().join("case.md");
    let out = env.run(
        &[
            "case",
            "--key-file",
            path(&ck),
            "--purchase-key-file",
            path(&pk),
            "--out",
            path(&out_path),
        ],
        None,
    );
    ok(&out);
    assert!(String::from_utf8_lossy(&out.stderr).contains(path(&out_path)));
    let md = std::fs::read_to_string(&out_path).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&out_path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    for section in [
        "## Environment",
        "## Keys",
        "## Entitlements",
        "## Orders (last 90 days)",
        "## Subscriptions",
        "## Clawback events",
        "## Writes (audit log of this data dir)",
        "## Failed calls",
    ] {
        assert!(md.contains(section), "no {section}: {md}");
    }
    assert!(md.contains("matches consume #1 of customer"), "{md}");
    assert!(md.contains("| consume | done |"), "{md}");
    assert!(md.lines().count() < 200, "{} lines", md.lines().count());
    for k in [env.key("cora", false), env.key("cora", true)] {
        assert!(!md.contains(&k));
        assert!(md.contains(&storedesk::keys::fingerprint(&k)));
    }
    insta::assert_snapshot!("case_file_cora", pinned(&env, &md));

    // The same content as one JSON document, on stdout.
    let json: Value = serde_json::from_str(&ok(&env.run(
        &[
            "case",
            "--key-file",
            path(&ck),
            "--purchase-key-file",
            path(&pk),
            "--format",
            "json",
        ],
        None,
    )))
    .unwrap();
    assert_eq!(json["keys"].as_array().unwrap().len(), 2);
    assert_eq!(json["orders"]["total"], 5);
    assert_eq!(json["clawbacks"]["total"], 4);
    assert_eq!(json["entitlements"]["status"]["complete"], true);
    assert_eq!(json["generated_at"], NOW);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whales_case_file_summarises() {
    let env = Env::new().await;
    let key = env.key("wally", false);
    let out = env.run(&["case", "--key", "-"], Some(&key));
    let md = ok(&out);
    let lines = md.lines().count();
    assert!(lines < 400, "{lines} lines");
    assert!(md.contains("10000 item(s)"), "{md}");
    assert!(md.contains("### Worth a look"), "{md}");
    assert!(
        md.contains("more items worth a look (the first 50 are listed)"),
        "{md}"
    );
    // A collections key alone: orders and subscriptions say why they are not in.
    assert!(md.contains("not read: no purchase key in the case"), "{md}");
}

/// The operator's note on a write settled by hand reaches the case file's
/// Writes section (the audit log's outcome).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_case_file_carries_the_operators_note() {
    use storedesk::journal::Journal;
    use storedesk::journal::request::{Actor, WriteRequest};
    let env = Env::new().await;
    let ck = env.key_file("cora", false);
    // A consume that never got its answer: pending until settled by hand.
    let id = {
        let j = Journal::open(&env.dir.path().join("data").join("journal.sqlite")).unwrap();
        let req = WriteRequest::consume(&env.key("cora", false), "9NSDCOIN0500", Some(1), None);
        j.record(
            &req,
            &Actor::from_profile(&storedesk::config::Profile::builtin_sandbox()),
        )
        .unwrap()
    };
    let id = id.to_string();
    ok(&env.run(
        &[
            "pending",
            "--resolve",
            &id,
            "--not-applied",
            "--note",
            "customer saw no coins; ticket 4711",
        ],
        None,
    ));
    let md = ok(&env.run(&["case", "--key-file", path(&ck)], None));
    let writes = md
        .split("## Writes")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("a writes section");
    assert!(
        writes.contains("customer saw no coins; ticket 4711"),
        "{writes}"
    );
}

/// A read that fails in `storedesk case` is listed under "Failed calls"
/// with the MS-CorrelationId and MS-RequestId the Store answered with.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_case_file_lists_a_failed_call_with_its_ids() {
    let env = Env::new().await;
    let now = chrono::DateTime::parse_from_rfc3339(NOW).unwrap().to_utc();
    // The same sandbox (data, signing key), served with the orders read refused.
    let sb = start(SandboxOptions {
        data_dir: env.dir.path().join("data").join("sandbox"),
        port: 0,
        clock: Clock::fixed(now),
        faults: vec!["orders:403".parse().unwrap()],
    })
    .await
    .unwrap();
    let cfg = env.dir.path().join("live.toml");
    std::fs::write(
        &cfg,
        format!(
            "[profiles.live]\nenvironment = \"sandbox\"\nsandbox_url = \"{}\"\ntenant_id = \"{}\"\nclient_id = \"{}\"\nclient_secret_env = \"CASEFILE_SECRET\"\n",
            sb.info.base_url, sb.info.tenant, sb.info.client_id
        ),
    )
    .unwrap();
    let ck = env.key_file("cora", false);
    let pk = env.key_file("cora", true);
    let mut c = env.cmd_with(&cfg);
    c.env("CASEFILE_SECRET", &env.secret).args([
        "--profile",
        "live",
        "case",
        "--key-file",
        path(&ck),
        "--purchase-key-file",
        path(&pk),
    ]);
    let out = c.output().unwrap();
    env.clean(&out);
    let md = String::from_utf8_lossy(&out.stdout).to_string();
    let failed = md
        .split("## Failed calls")
        .nth(1)
        .unwrap_or_else(|| panic!("no failed-calls section: {md}"));
    let row = failed
        .lines()
        .find(|l| l.starts_with("| orders"))
        .unwrap_or_else(|| {
            panic!(
                "no orders row: {failed}\nstderr: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    assert!(
        row.contains("MS-CorrelationId `") && row.contains("MS-RequestId `"),
        "{row}"
    );
    sb.shutdown().await;
}
