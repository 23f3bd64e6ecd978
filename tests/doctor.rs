//! `storedesk doctor` through the real binary, against a sandbox started
//! in-process (its faults and quirks set per test): a healthy profile
//! passes every check, and each provoked misconfiguration produces its
//! named failure or warning with the fix. No run ever prints a secret.

#[path = "support/sandbox.rs"]
mod support_sandbox;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use storedesk::sandbox::{Quirks, Sandbox};

const BIN: &str = env!("CARGO_BIN_EXE_storedesk");
const SECRET_VAR: &str = "DOCTOR_QA_SECRET";

struct Rig {
    dir: tempfile::TempDir,
    sb: Sandbox,
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    took: Duration,
}

impl Run {
    /// The `--json` report, parsed as one document.
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not one JSON document ({e}): {}", self.stdout))
    }
}

/// The check `group`/`name` of a report.
fn check<'a>(report: &'a Value, group: &str, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["group"] == group && c["name"] == name)
        .unwrap_or_else(|| panic!("no check {group}/{name} in {report:#}"))
}

fn status<'a>(report: &'a Value, group: &str, name: &str) -> &'a str {
    check(report, group, name)["status"].as_str().unwrap()
}

fn fix<'a>(report: &'a Value, group: &str, name: &str) -> &'a str {
    check(report, group, name)["fix"].as_str().unwrap_or("")
}

fn measured<'a>(report: &'a Value, group: &str, name: &str) -> &'a str {
    check(report, group, name)["measured"].as_str().unwrap()
}

impl Rig {
    async fn start() -> Rig {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().unwrap();
        let sb = support_sandbox::start_in(dir.path(), vec![]).await;
        Rig { dir, sb }
    }

    fn secret(&self) -> &str {
        &self.sb.info.client_secret
    }

    /// Profile `qa` pointing at the sandbox, secret by env reference, the
    /// sandbox's product ids; `extra` lines override.
    fn config(&self, extra: &str) -> PathBuf {
        let ids: Vec<String> = self
            .sb
            .product_ids()
            .iter()
            .take(5)
            .map(|i| format!("{i:?}"))
            .collect();
        let mut text = format!(
            "[profiles.qa]\nenvironment = \"sandbox\"\nsandbox_url = \"{}\"\ntenant_id = \"{}\"\nclient_id = \"{}\"\nclient_secret_env = \"{SECRET_VAR}\"\nproduct_ids = [{}]\n",
            self.sb.base_url(),
            self.sb.info.tenant,
            self.sb.info.client_id,
            ids.join(", "),
        );
        for line in extra.lines() {
            let k = line.split('=').next().unwrap().trim();
            text = text
                .lines()
                .filter(|l| l.split('=').next().unwrap().trim() != k)
                .map(|l| format!("{l}\n"))
                .collect();
            text.push_str(line);
            text.push('\n');
        }
        let p = self.dir.path().join("config.toml");
        std::fs::write(&p, text).unwrap();
        p
    }

    fn key(&self, name: &str) -> String {
        self.sb
            .info
            .customers
            .iter()
            .find(|c| c.name == name)
            .unwrap()
            .collections_key
            .clone()
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// `storedesk --profile qa doctor ARGS` with the secret in the env
    /// (`secret`: None leaves the variable unset).
    async fn doctor(
        &self,
        config: &Path,
        secret: Option<&str>,
        args: &[&str],
        stdin: Option<&str>,
    ) -> Run {
        let mut c = Command::new(BIN);
        c.arg("--config")
            .arg(config)
            .args(["--profile", "qa", "--data-dir"])
            .arg(self.data())
            .arg("doctor")
            .args(args)
            .env_remove(SECRET_VAR)
            .env_remove("STOREDESK_NOW")
            .env_remove("STOREDESK_PROFILE")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            });
        if let Some(s) = secret {
            c.env(SECRET_VAR, s);
        }
        let input = stdin.map(str::to_string);
        let run = tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            let mut child = c.spawn().unwrap();
            if let Some(text) = input {
                use std::io::Write;
                child
                    .stdin
                    .take()
                    .unwrap()
                    .write_all(text.as_bytes())
                    .unwrap();
            }
            let out = child.wait_with_output().unwrap();
            Run {
                code: out.status.code(),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
                took: started.elapsed(),
            }
        })
        .await
        .unwrap();
        // Never a secret, in any outcome: the sandbox app's secret, the one
        // given, and no customer key (fingerprints only).
        let all = format!("{}{}", run.stdout, run.stderr);
        assert!(
            !all.contains(self.secret()),
            "the client secret leaked: {all}"
        );
        if let Some(s) = secret {
            assert!(!all.contains(s), "the given secret leaked: {all}");
        }
        for c in &self.sb.info.customers {
            assert!(!all.contains(&c.collections_key), "a key leaked: {all}");
        }
        run
    }

    /// A key minted by the sandbox's control API.
    async fn mint(&self, body: Value) -> String {
        let r: Value = reqwest::Client::new()
            .post(format!("{}/_sandbox/keys", self.sb.base_url()))
            .header(
                storedesk::sandbox::CONTROL_SECRET_HEADER,
                &self.sb.info.control_secret,
            )
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        r["key"].as_str().unwrap().to_string()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthy_sandbox_profile_passes_every_check() {
    let rig = Rig::start().await;
    let cfg = rig.config("");
    let key = rig.key("ada");
    // What doctor must leave as it found it: the queue (never a receive or
    // a delete) and the customer's entitlements (never a write).
    let client = storedesk::store::StoreClient::new(rig.sb.info.client_config()).unwrap();
    let cancel = tokio_util::sync::CancellationToken::new();
    let state = || async {
        let sas = client.clawback_sas().await.unwrap().value;
        let queue: Vec<(String, u32)> = client
            .queue_peek(&sas.uri, 32)
            .await
            .unwrap()
            .value
            .into_iter()
            .map(|e| (e.message.message_id, e.message.dequeue_count))
            .collect();
        let mut items = Vec::new();
        client
            .entitlements_v8(&key, &Default::default(), &cancel, |ev| {
                items.extend(ev.items.iter().map(|e| format!("{e:?}")))
            })
            .await
            .unwrap();
        (queue, items)
    };
    let before = state().await;
    let run = rig
        .doctor(&cfg, Some(rig.secret()), &["--json", "--key", &key], None)
        .await;
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert_eq!(state().await, before, "doctor changed the Store");
    let r = run.json();
    assert_eq!(r["profile"], "qa");
    assert_eq!(r["ok"], true);
    for c in r["checks"].as_array().unwrap() {
        let ok = c["status"] == "pass"
            // Not a terminal under the test harness.
            || (c["group"] == "local" && c["name"] == "terminal" && c["status"] == "skip");
        assert!(ok, "not passed: {c:#}");
    }
    // Every group ran, in dependency order.
    let groups: Vec<&str> = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["group"].as_str().unwrap())
        .collect();
    let mut order = groups.clone();
    order.dedup();
    assert_eq!(
        order,
        [
            "config",
            "endpoints",
            "clock",
            "tokens",
            "key",
            "products",
            "clawbacks",
            "local"
        ]
    );
    assert!(measured(&r, "key", "query").contains("spent 1 of the customer's 100 calls"));
    assert!(measured(&r, "tokens", "store").contains("aud ✓"));
    assert!(measured(&r, "clawbacks", "queue peek").contains("event(s) visible"));
    // The queue's host probed like the other endpoints, by its origin only.
    let reach = measured(&r, "clawbacks", "queue reachable");
    assert!(reach.contains("dns ") && reach.contains("tcp "), "{reach}");
    assert!(!run.stdout.contains("sig="), "the SAS signature leaked");
    // The queue's own count agrees with the seeded events the peek sees.
    let visible: usize = measured(&r, "clawbacks", "queue peek")
        .rsplit(": ")
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .find_map(|w| w.parse().ok())
        .expect("a count in the peek line");
    assert!(visible > 0);
    assert!(
        measured(&r, "clawbacks", "queue length")
            .starts_with(&format!("about {visible} message(s)")),
        "{}",
        measured(&r, "clawbacks", "queue length")
    );
    assert_eq!(r["summary"]["fail"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_report_is_aligned_and_the_key_can_come_from_stdin_or_a_file() {
    let rig = Rig::start().await;
    let cfg = rig.config("");
    let key = rig.key("ada");
    let run = rig
        .doctor(&cfg, Some(rig.secret()), &["--key", "-"], Some(&key))
        .await;
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .starts_with("storedesk doctor · profile qa (SANDBOX)\n")
    );
    let lines: Vec<&str> = run.stdout.lines().skip(1).collect();
    let status_lines: Vec<&&str> = lines
        .iter()
        .filter(|l| {
            ["PASS", "WARN", "FAIL", "SKIP"]
                .iter()
                .any(|s| l.starts_with(s))
        })
        .collect();
    assert!(status_lines.len() > 20, "{}", run.stdout);
    // The measured column starts at the same place on every line.
    let col = |l: &str| {
        let after_name = l.find("  ").unwrap() + 2;
        let rest = &l[after_name..];
        let g = rest.find("  ").unwrap();
        let rest2 = &rest[g..].trim_start();
        l.len() - rest2.len()
    };
    let first = col(status_lines[0]);
    assert!(
        status_lines.iter().all(|l| col(l) == first),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("PASS  key"), "{}", run.stdout);
    assert!(
        run.stdout.ends_with("0 failed, 1 skipped\n"),
        "{}",
        run.stdout
    );

    let file = rig.dir.path().join("key.txt");
    std::fs::write(&file, format!("  {key}\n")).unwrap();
    let run = rig
        .doctor(
            &cfg,
            Some(rig.secret()),
            &["--json", "--key-file", file.to_str().unwrap()],
            None,
        )
        .await;
    assert_eq!(status(&run.json(), "key", "validity"), "pass");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_sandbox_passes_too() {
    let dir = tempfile::tempdir().unwrap();
    let out = tokio::task::spawn_blocking({
        let d = dir.path().to_path_buf();
        move || {
            // An empty config file: the defaults, the embedded sandbox.
            std::fs::write(d.join("empty.toml"), "").unwrap();
            Command::new(BIN)
                .arg("--data-dir")
                .arg(&d)
                .arg("--config")
                .arg(d.join("empty.toml"))
                .args(["doctor", "--json"])
                .env_remove("STOREDESK_PROFILE")
                .stdin(Stdio::null())
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["profile"], "sandbox");
    assert_eq!(r["summary"]["fail"], 0, "{r:#}");
    assert_eq!(r["summary"]["warn"], 0, "{r:#}");
    assert_eq!(status(&r, "products", "product ids"), "pass");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_secret_env_var_is_named_with_its_fix() {
    let rig = Rig::start().await;
    let run = rig.doctor(&rig.config(""), None, &["--json"], None).await;
    assert_eq!(run.code, Some(1));
    let r = run.json();
    assert_eq!(status(&r, "config", "secret"), "fail");
    assert!(measured(&r, "config", "secret").contains(&format!("{SECRET_VAR} is not set")));
    assert!(fix(&r, "config", "secret").contains(&format!("Export {SECRET_VAR}")));
    // Endpoints are still probed; the tokens wait for a client.
    assert_eq!(status(&r, "endpoints", "login"), "pass");
    assert_eq!(status(&r, "tokens", "store"), "skip");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_secret_and_wrong_tenant_are_named() {
    let rig = Rig::start().await;
    let wrong = "not-the-secret-0000";
    let run = rig
        .doctor(&rig.config(""), Some(wrong), &["--json"], None)
        .await;
    assert_eq!(run.code, Some(1));
    let r = run.json();
    assert_eq!(status(&r, "tokens", "store"), "fail");
    assert!(measured(&r, "tokens", "store").contains("AADSTS7000215"));
    let f = fix(&r, "tokens", "store");
    assert!(
        f.contains("client secret is wrong") && f.contains(SECRET_VAR),
        "{f}"
    );
    assert_eq!(status(&r, "tokens", "collections-key"), "skip");

    let cfg = rig.config("tenant_id = \"00000000-1111-2222-3333-444444444444\"");
    let r = rig
        .doctor(&cfg, Some(rig.secret()), &["--json"], None)
        .await
        .json();
    assert!(measured(&r, "tokens", "store").contains("AADSTS90002"));
    assert!(fix(&r, "tokens", "store").contains("Directory (tenant) ID"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hanging_secret_command_is_stopped_in_time() {
    let rig = Rig::start().await;
    let cfg = rig.config("secret_command = \"sleep 60\"");
    // secret_command replaces client_secret_env only when it comes later.
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace(&format!("client_secret_env = \"{SECRET_VAR}\"\n"), "");
    std::fs::write(&cfg, text).unwrap();
    let run = rig.doctor(&cfg, None, &["--json"], None).await;
    assert_eq!(run.code, Some(1));
    assert!(run.took < Duration::from_secs(15), "took {:?}", run.took);
    let r = run.json();
    assert_eq!(status(&r, "config", "secret"), "fail");
    assert!(measured(&r, "config", "secret").contains("did not finish within 5 s"));
    assert!(fix(&r, "config", "secret").contains("non-interactive"));
    // The rest still ran.
    assert_eq!(status(&r, "local", "journal"), "pass");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_endpoint_fails_with_its_time_and_stalls_nothing() {
    let rig = Rig::start().await;
    // A port that was free a moment ago: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let b = rig.sb.base_url();
    let cfg = rig.config("");
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace(&format!("sandbox_url = \"{b}\"\n"), "")
        + &format!(
            "login_url = \"{b}/login\"\ncollections_url = \"{b}/collections\"\npurchase_url = \"{b}/purchase\"\ndevcenter_url = \"http://127.0.0.1:{closed}/devcenter\"\n"
        );
    std::fs::write(&cfg, text).unwrap();
    let run = rig
        .doctor(&cfg, Some(rig.secret()), &["--json"], None)
        .await;
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert!(run.took < Duration::from_secs(10), "took {:?}", run.took);
    let r = run.json();
    assert_eq!(status(&r, "endpoints", "devcenter"), "fail");
    let m = measured(&r, "endpoints", "devcenter");
    assert!(m.contains("TCP failed after") && m.contains(" ms"), "{m}");
    assert!(fix(&r, "endpoints", "devcenter").contains("devcenter_url"));
    for other in ["login", "collections", "purchase"] {
        assert_eq!(status(&r, "endpoints", other), "pass");
    }
    assert_eq!(status(&r, "tokens", "store"), "pass");
    assert_eq!(r["summary"]["fail"], 1, "{r:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_for_the_wrong_audience_and_the_wrong_style_are_named() {
    let rig = Rig::start().await;
    rig.sb.set_quirks(Quirks {
        token_audience: Some("https://graph.microsoft.com".into()),
        ..Default::default()
    });
    let cfg = rig.config("");
    let r = rig
        .doctor(&cfg, Some(rig.secret()), &["--json"], None)
        .await
        .json();
    assert_eq!(status(&r, "tokens", "collections-key"), "fail");
    assert!(
        measured(&r, "tokens", "collections-key")
            .contains("aud is \"https://graph.microsoft.com\"")
    );
    assert!(fix(&r, "tokens", "collections-key").contains("wrong audience"));

    // The login endpoint speaks only v2; the profile asks in v1.
    rig.sb.set_quirks(Quirks {
        token_style: Some(storedesk::store::TokenStyle::V2),
        ..Default::default()
    });
    let r = rig
        .doctor(&cfg, Some(rig.secret()), &["--json"], None)
        .await
        .json();
    assert_eq!(status(&r, "tokens", "store"), "fail");
    assert!(
        measured(&r, "tokens", "store").contains("AADSTS900144"),
        "{}",
        measured(&r, "tokens", "store")
    );
    assert!(fix(&r, "tokens", "store").contains("token_style = \"v2\""));
    // Following the fix makes it pass.
    let cfg = rig.config("token_style = \"v2\"");
    let run = rig
        .doctor(&cfg, Some(rig.secret()), &["--json"], None)
        .await;
    assert_eq!(status(&run.json(), "tokens", "store"), "pass");
    assert_eq!(run.code, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_of_another_app_and_expired_key_are_named() {
    let rig = Rig::start().await;
    let cfg = rig.config("");
    let foreign = rig
        .mint(serde_json::json!({"customer": "ada", "kind": "collections", "clientId": "99999999-9999-9999-9999-999999999999"}))
        .await;
    let run = rig
        .doctor(
            &cfg,
            Some(rig.secret()),
            &["--json", "--key", &foreign],
            None,
        )
        .await;
    assert!(!run.stdout.contains(&foreign));
    assert_eq!(run.code, Some(1));
    let r = run.json();
    assert_eq!(status(&r, "key", "client id"), "fail");
    assert!(measured(&r, "key", "client id").contains("99999999-9999-9999-9999-999999999999"));
    assert!(fix(&r, "key", "client id").contains("service ticket of another app"));
    // The Store agrees: the query is refused with InconsistentClientId.
    assert_eq!(status(&r, "key", "query"), "fail");
    assert!(measured(&r, "key", "query").contains("InconsistentClientId"));

    let expired = rig
        .mint(serde_json::json!({"customer": "ada", "kind": "collections", "issuedDaysAgo": 40}))
        .await;
    let run = rig
        .doctor(
            &cfg,
            Some(rig.secret()),
            &["--json", "--key", &expired],
            None,
        )
        .await;
    assert!(!run.stdout.contains(&expired));
    let r = run.json();
    assert_eq!(status(&r, "key", "validity"), "fail");
    assert!(measured(&r, "key", "validity").starts_with("expired"));
    assert!(fix(&r, "key", "validity").contains("cannot be renewed"));
    assert_eq!(status(&r, "key", "query"), "skip");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skewed_date_header_warns_then_fails() {
    let rig = Rig::start().await;
    let cfg = rig.config("");
    rig.sb.set_quirks(Quirks {
        date_skew_secs: 180,
        ..Default::default()
    });
    let run = rig
        .doctor(&cfg, Some(rig.secret()), &["--json"], None)
        .await;
    let r = run.json();
    assert_eq!(status(&r, "clock", "skew"), "warn", "{r:#}");
    assert!(measured(&r, "clock", "skew").contains("behind"));
    assert!(fix(&r, "clock", "skew").contains("NTP"));
    assert_eq!(run.code, Some(0), "a warning is not a failure");

    rig.sb.set_quirks(Quirks {
        date_skew_secs: -600,
        ..Default::default()
    });
    let run = rig
        .doctor(&cfg, Some(rig.secret()), &["--json"], None)
        .await;
    let r = run.json();
    assert_eq!(status(&r, "clock", "skew"), "fail");
    assert!(
        measured(&r, "clock", "skew").contains("10 min"),
        "{}",
        measured(&r, "clock", "skew")
    );
    assert!(measured(&r, "clock", "skew").contains("ahead of"));
    assert_eq!(run.code, Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_product_ids_and_an_empty_queue_warn_with_the_causes() {
    let rig = Rig::start().await;
    // Empty the clawback queue the way an acknowledging service would.
    let client = storedesk::store::StoreClient::new(rig.sb.info.client_config()).unwrap();
    let sas = client.clawback_sas().await.unwrap().value;
    loop {
        let got = client
            .queue_receive(&sas.uri, 32, None)
            .await
            .unwrap()
            .value;
        if got.is_empty() {
            break;
        }
        for e in got {
            client
                .queue_delete(
                    &sas.uri,
                    &e.message.message_id,
                    e.message.pop_receipt.as_deref().unwrap(),
                )
                .await
                .unwrap();
        }
    }
    let cfg = rig.config("product_ids = []");
    let key = rig.key("ada");
    let run = rig
        .doctor(&cfg, Some(rig.secret()), &["--json", "--key", &key], None)
        .await;
    assert_eq!(run.code, Some(0), "warnings only: {}", run.stdout);
    let r = run.json();
    assert_eq!(status(&r, "products", "product ids"), "warn");
    assert!(measured(&r, "products", "product ids").contains("v8 b2bLicensePreview"));
    assert!(fix(&r, "products", "product ids").contains("product_ids"));
    assert!(measured(&r, "key", "query").starts_with("v8 b2bLicensePreview"));
    assert_eq!(status(&r, "clawbacks", "queue peek"), "warn");
    assert!(measured(&r, "clawbacks", "queue peek").contains("empty"));
    assert!(fix(&r, "clawbacks", "queue peek").contains("Partner Center"));
    assert!(measured(&r, "clawbacks", "queue length").starts_with("about 0 message(s)"));

    // A customer owning none of the configured products: the causes listed.
    let cfg = rig.config("product_ids = [\"9NOTOWNED0001\"]");
    let r = rig
        .doctor(&cfg, Some(rig.secret()), &["--json", "--key", &key], None)
        .await
        .json();
    assert_eq!(status(&r, "products", "query result"), "warn");
    assert!(fix(&r, "products", "query result").contains("not associated with this Entra app"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_writes_are_listed_with_the_command_to_settle_them() {
    use storedesk::journal::Journal;
    use storedesk::journal::request::{Actor, WriteRequest};
    let rig = Rig::start().await;
    std::fs::create_dir_all(rig.data()).unwrap();
    let id = {
        let j = Journal::open(&rig.data().join("journal.sqlite")).unwrap();
        let req = WriteRequest::consume("eyJ.k.y", "9NBLGGH4R315", Some(1), None);
        j.record(
            &req,
            &Actor::from_profile(&storedesk::config::Profile::builtin_sandbox()),
        )
        .unwrap()
    };
    let run = rig
        .doctor(&rig.config(""), Some(rig.secret()), &["--json"], None)
        .await;
    let r = run.json();
    assert_eq!(status(&r, "local", "pending writes"), "warn");
    assert!(measured(&r, "local", "pending writes").contains(&format!("#{id} ")));
    assert!(fix(&r, "local", "pending writes").contains("storedesk --profile qa pending --replay"));
    assert_eq!(run.code, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_config_file_is_a_finding_not_a_refusal() {
    let rig = Rig::start().await;
    let cfg = rig.dir.path().join("bad.toml");
    std::fs::write(&cfg, "[profiles.qa]\nclient_secert = \"x\"\n").unwrap();
    let run = rig.doctor(&cfg, None, &["--json"], None).await;
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let r = run.json();
    assert_eq!(status(&r, "config", "file"), "fail");
    assert!(measured(&r, "config", "file").contains("client_secert"));
    assert!(fix(&r, "config", "file").contains("bad.toml"));
    assert_eq!(status(&r, "tokens", "store"), "skip");
    assert_eq!(status(&r, "local", "data dir"), "pass");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_of_another_environment_in_the_queue_warn() {
    let rig = Rig::start().await;
    // An event of sandbox XDKS.2, as the docs write it; the profile has no sbx.
    let r = reqwest::Client::new()
        .post(format!("{}/_sandbox/clawbacks", rig.sb.base_url()))
        .header(
            storedesk::sandbox::CONTROL_SECRET_HEADER,
            &rig.sb.info.control_secret,
        )
        .json(&serde_json::json!({ "event": {
            "id": "0f0e0d0c-0000-4000-8000-000000000099",
            "source": "/Purchase/Refund",
            "type": "ClawbackEventContractV2",
            "time": "2026-11-20T10:00:00.0000000Z",
            "specversion": "1.0",
            "datacontenttype": "application/json",
            "subject": "/orders/o-other",
            "data": {
                "lineItemId": "11111111-0000-4000-8000-000000000001",
                "orderId": "o-other",
                "productId": "9NSDCOIN0500",
                "productType": "UnmanagedConsumable",
                "purchasedDate": "2026-11-10T10:00:00.0000000Z",
                "eventDate": "2026-11-20T10:00:00.0000000Z",
                "sandboxId": "XDKS.2",
                "eventState": "Refunded",
                "skuId": "0010"
            }
        }}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let run = rig
        .doctor(&rig.config(""), Some(rig.secret()), &["--json"], None)
        .await;
    assert_eq!(run.code, Some(0), "a warning only: {}", run.stdout);
    let r = run.json();
    assert_eq!(status(&r, "clawbacks", "environments"), "warn");
    assert!(
        measured(&r, "clawbacks", "environments").contains("1 from XDKS.2"),
        "{}",
        measured(&r, "clawbacks", "environments")
    );
    assert!(fix(&r, "clawbacks", "environments").contains("sbx"));
}
