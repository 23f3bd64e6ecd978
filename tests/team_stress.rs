//! Twenty agents on one team journal (issue 19, "Tests"): 20 processes of
//! the real binary consume the same product of one sandbox customer
//! through one PostgreSQL database, at once; some are SIGKILLed mid-write
//! (their sends held by the sandbox's latency), and other agents' `pending
//! --replay` take the dead agents' writes over once their leases lapsed.
//! Every write is applied exactly once: the journal, the audit log and the
//! sandbox's balance agree. Prints the writes per second of the 20 agents
//! (BENCHMARKS.md).

#[path = "support/pg.rs"]
mod pg;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use storedesk::clock::Clock;
use storedesk::config::SecretSource;
use storedesk::journal::pg::{PgJournal, PgSettings};
use storedesk::journal::{AuditFilter, JournalStore, WriteState};
use storedesk::sandbox::{Sandbox, SandboxOptions};
use storedesk::store::StoreClient;

const BIN: &str = env!("CARGO_BIN_EXE_storedesk");
const TEAM_KEY: &str = "c3RvcmVkZXNrLXRlYW0tc2VhbC1rZXktMzItYnl0ZXM=";
const COINS: &str = "9NSDCOIN0500";
const AGENTS: usize = 20;
const KILLED: usize = 6;
/// The lease of these agents' claims: short, so the dead agents' writes
/// are taken over within seconds.
const LEASE_SECS: &str = "2";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

async fn coins(client: &StoreClient, key: &str) -> i64 {
    use storedesk::store::model::{Beneficiary, ProductSkuId, PublisherQueryRequest};
    let req = PublisherQueryRequest {
        beneficiaries: vec![Beneficiary::b2b(key)],
        product_sku_ids: Some(vec![ProductSkuId {
            product_id: COINS.into(),
            sku_id: None,
        }]),
        ..Default::default()
    };
    let items = client.publisher_query_page(&req).await.unwrap().value.items;
    items.first().and_then(|i| i.quantity).unwrap_or(0)
}

/// The team's config: the sandbox as a profile's Store, the team journal.
fn config(dir: &Path, sb: &Sandbox, url: &str) -> PathBuf {
    let info = &sb.info;
    let text = format!(
        "operator = \"agent\"\njournal_url = \"{url}\"\n\
         journal_password_command = \"printf %s {pw}\"\n\
         journal_seal_key_env = \"TEAM_KEY_FOR_THIS_TEST\"\n\
         [profiles.qa]\nenvironment = \"sandbox\"\nsandbox_url = \"{}\"\ntenant_id = \"{}\"\n\
         client_id = \"{}\"\nclient_secret_env = \"QA_SANDBOX_SECRET\"\ntimeout_secs = 60\n",
        info.base_url,
        info.tenant,
        info.client_id,
        pw = pg::APP_PASSWORD,
    );
    let p = dir.join("config.toml");
    std::fs::write(&p, text).unwrap();
    p
}

/// One agent: its own data dir and machine name.
fn agent(dir: &Path, cfg: &Path, secret: &str, n: usize, args: &[&str]) -> Command {
    let data = dir.join(format!("agent-{n}"));
    std::fs::create_dir_all(&data).unwrap();
    let mut c = Command::new(BIN);
    c.arg("--config")
        .arg(cfg)
        .args(["--profile", "qa", "--data-dir"])
        .arg(&data)
        .args(args)
        .env("QA_SANDBOX_SECRET", secret)
        .env("TEAM_KEY_FOR_THIS_TEST", TEAM_KEY)
        .env("STOREDESK_MACHINE", format!("desk-{n}"))
        .env("STOREDESK_JOURNAL_LEASE_SECS", LEASE_SECS)
        .env_remove("STOREDESK_NOW")
        .env_remove("STOREDESK_PROFILE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

#[test]
fn twenty_agents_consume_exactly_once_through_one_database_with_kills_and_replays() {
    run_agents(Some("consume:latency=600ms"), KILLED);
}

/// The same 20 agents with no Store delay and no kills: how many writes a
/// second the team journal lets through (BENCHMARKS.md), still exactly once.
#[test]
fn twenty_agents_throughput() {
    run_agents(None, 0);
}

/// `AGENTS` consumes at once; the first `kill` still running are SIGKILLed
/// once two thirds have recorded; then replays until nothing is pending;
/// then journal, audit and sandbox must agree.
fn run_agents(fault: Option<&str>, kill: usize) {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    // Each consume is held 600 ms by the Store: the window in which agents
    // are killed mid-write (request sent, answer not yet back).
    let sb = rt.block_on(async {
        storedesk::sandbox::start(SandboxOptions {
            data_dir: dir.path().join("sandbox"),
            port: 0,
            clock: Clock::system(),
            faults: fault.map(|f| f.parse().unwrap()).into_iter().collect(),
        })
        .await
        .unwrap()
    });
    let key = sb
        .info
        .customers
        .iter()
        .find(|c| c.name == "cora")
        .unwrap()
        .collections_key
        .clone();
    let client = StoreClient::new(sb.info.client_config()).unwrap();
    let before = rt.block_on(coins(&client, &key));
    assert!(before >= AGENTS as i64, "cora has {before} coins");
    let url = pg::server().fresh_db();
    let cfg = config(dir.path(), &sb, &url);
    let secret = sb.info.client_secret.clone();

    // The test's own view of the journal (it writes nothing).
    let mut s = PgSettings::new(&url, dir.path().join("watcher.sqlite"));
    s.password = SecretSource::Command(format!("printf %s {}", pg::APP_PASSWORD));
    s.seal_key = SecretSource::Command(format!("printf %s {TEAM_KEY}"));
    s.machine = Some("watcher".into());
    let watcher = PgJournal::open(&s, Clock::system()).unwrap();

    let started = Instant::now();
    let consume = [
        "consume",
        "--key",
        key.as_str(),
        "--product",
        COINS,
        "--quantity",
        "1",
        "--yes",
    ];
    let mut children: Vec<Child> = (0..AGENTS)
        .map(|n| {
            agent(dir.path(), &cfg, &secret, n, &consume)
                .spawn()
                .unwrap()
        })
        .collect();

    // Once most have recorded (and so are sending, held by the latency),
    // SIGKILL the first `kill` that are still running.
    let deadline = Instant::now() + Duration::from_secs(60);
    if kill > 0 {
        loop {
            let recorded = watcher.writes().unwrap().len();
            if recorded >= AGENTS * 2 / 3 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "only {recorded} writes recorded in 60 s"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    let mut killed = 0;
    for c in children.iter_mut().take(kill) {
        if c.try_wait().unwrap().is_none() {
            c.kill().unwrap(); // SIGKILL
            killed += 1;
        }
    }
    let mut outputs = Vec::new();
    for c in children {
        let out = c.wait_with_output().unwrap();
        outputs.push(out);
    }
    let first_round = started.elapsed();
    let survivors_done = outputs
        .iter()
        .filter(|o| String::from_utf8_lossy(&o.stdout).starts_with("done: #"))
        .count();
    assert_eq!(
        killed > 0,
        kill > 0,
        "no agent was still writing to be killed"
    );
    assert!(survivors_done >= AGENTS - kill, "{survivors_done} done");
    for o in &outputs {
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(
            !text.contains(pg::APP_PASSWORD) && !text.contains(TEAM_KEY) && !text.contains(&key)
        );
        // A survivor either did its write or says why not: never a panic.
        assert!(!text.contains("panicked"), "{text}");
    }

    // Other agents replay what the dead left, once their leases lapsed;
    // three at once, racing for the same rows.
    std::thread::sleep(Duration::from_secs(3));
    let mut rounds = 0;
    while !watcher.pending().unwrap().is_empty() {
        rounds += 1;
        assert!(
            rounds <= 5,
            "still pending after {rounds} replay rounds: {:?}",
            watcher.pending()
        );
        let replayers: Vec<Child> = (0..3)
            .map(|n| {
                agent(dir.path(), &cfg, &secret, 100 + n, &["pending", "--replay"])
                    .spawn()
                    .unwrap()
            })
            .collect();
        for r in replayers {
            r.wait_with_output().unwrap();
        }
    }

    // The journal: every recorded write settled done, each key once.
    let writes = watcher.writes().unwrap();
    let done: Vec<_> = writes
        .iter()
        .filter(|w| w.state == WriteState::Done)
        .collect();
    assert_eq!(done.len(), writes.len(), "{writes:?}");
    let mut keys: Vec<&str> = writes.iter().map(|w| w.idempotency_key.as_str()).collect();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), writes.len());
    assert!(writes.len() >= AGENTS - kill, "{} writes", writes.len());

    // The Store: the balance went down by exactly the writes done.
    let after = rt.block_on(coins(&client, &key));
    assert_eq!(
        before - after,
        done.len() as i64,
        "the sandbox applied each write exactly once"
    );

    // The audit log: one "done" per write, none for anything else (an
    // answer that came back after another agent settled the write is a
    // `late_answer`); the replays are there, by other machines than the
    // dead agents'.
    let audit = watcher.audit(&AuditFilter::default()).unwrap();
    let mut done_rows: HashMap<i64, usize> = HashMap::new();
    for a in audit.iter().filter(|a| a.event == "done") {
        *done_rows.entry(a.write_id.unwrap_or(-1)).or_default() += 1;
    }
    for w in &writes {
        assert_eq!(
            done_rows.get(&w.id),
            Some(&1),
            "write #{} in {audit:?}",
            w.id
        );
    }
    assert_eq!(done_rows.len(), writes.len());
    let replayed = audit.iter().filter(|a| a.event == "replay").count();
    let by_replayers = audit
        .iter()
        .filter(|a| {
            a.machine
                .as_deref()
                .is_some_and(|m| m.starts_with("desk-10"))
        })
        .count();
    if writes.len() > survivors_done {
        assert!(replayed > 0 && by_replayers > 0, "{audit:?}");
    }
    // Where the time goes: each write's first attempt → its done row (the
    // agents' clocks: one machine), and the span from the first attempt
    // to the last done (process start-up excluded).
    let t = |a: &storedesk::journal::AuditEntry| {
        chrono::DateTime::parse_from_rfc3339(&a.at)
            .map(|t| t.to_utc())
            .ok()
    };
    let mut per_write: Vec<f64> = Vec::new();
    let (mut first, mut last) = (None, None);
    for w in &writes {
        let rows: Vec<_> = audit.iter().filter(|a| a.write_id == Some(w.id)).collect();
        let start = rows
            .iter()
            .filter(|a| a.event == "attempt")
            .find_map(|a| t(a));
        let end = rows.iter().filter(|a| a.event == "done").find_map(|a| t(a));
        if let (Some(s0), Some(e0)) = (start, end) {
            per_write.push((e0 - s0).num_milliseconds() as f64 / 1000.0);
            first = Some(first.map_or(s0, |f: chrono::DateTime<chrono::Utc>| f.min(s0)));
            last = Some(last.map_or(e0, |l: chrono::DateTime<chrono::Utc>| l.max(e0)));
        }
    }
    per_write.sort_by(f64::total_cmp);
    let span = match (first, last) {
        (Some(f), Some(l)) => (l - f).num_milliseconds() as f64 / 1000.0,
        _ => f64::NAN,
    };
    println!(
        "20 agents: attempt→done per write median {:.2} s, max {:.2} s; first attempt → last done {:.2} s = {:.1} writes/s",
        per_write
            .get(per_write.len() / 2)
            .copied()
            .unwrap_or(f64::NAN),
        per_write.last().copied().unwrap_or(f64::NAN),
        span,
        writes.len() as f64 / span
    );
    let total = started.elapsed();
    println!(
        "20 agents (Store fault: {}): {} writes done ({} by the agents themselves, {} killed mid-write and \
         replayed by others in {} round(s)); first round {:.2} s = {:.1} writes/s (process start included); \
         all settled in {:.2} s",
        fault.unwrap_or("none"),
        writes.len(),
        survivors_done,
        writes.len() - survivors_done,
        rounds,
        first_round.as_secs_f64(),
        survivors_done as f64 / first_round.as_secs_f64(),
        total.as_secs_f64()
    );
    rt.block_on(sb.shutdown());
}
