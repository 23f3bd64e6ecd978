//! The console on a team journal, against a real PostgreSQL server
//! (tests/support/pg.rs) and the embedded sandbox over loopback HTTP:
//! the console's own job runner (`tui::jobs::Services`) with the journal
//! opened as the console opens it, and the real `App` drawing the result.
//!
//! - another agent's write makes the confirmation and the status bar warn
//!   (who, what, when), and the Audit pane hears of it at once (LISTEN /
//!   NOTIFY, no polling)
//! - the database down, then up: Store reads keep working, a write is
//!   refused before anything is sent with a clear message, and the same
//!   console writes again once the database is back, with no restart

#[path = "support/pg.rs"]
mod pg;

use chrono::Utc;
use std::time::Duration;
use storedesk::clock::Clock;
use storedesk::config::{Environment, SecretSource};
use storedesk::journal::pg::{PgJournal, PgSettings};
use storedesk::journal::{self, Actor, JournalLocation, WriteOutcome, WriteRequest};
use storedesk::sandbox::{Sandbox, SandboxOptions};
use storedesk::store::StoreClient;
use storedesk::tui::app::{Action, App, Connection, Effect, JobEvent, Overlay, Session};
use storedesk::tui::jobs::{Connected, Env, Services};
use storedesk::tui::keymap::Command;
use storedesk::tui::panes::audit::{AuditEvent, AuditJob};
use storedesk::tui::panes::entitlements::{EntEvent, EntJob};
use storedesk::tui::panes::orders::{OrdersEvent, OrdersJob};
use storedesk::tui::panes::{PaneEvent, PaneId, PaneJob};
use storedesk::tui::render::render_text;
use tokio::sync::mpsc::UnboundedReceiver;

/// base64 of 32 bytes: the team seal key every agent of these tests shares.
const TEAM_KEY: &str = "c3RvcmVkZXNrLXRlYW0tc2VhbC1rZXktMzItYnl0ZXM=";
const COINS: &str = "9NSDCOIN0500";

fn settings(url: &str, machine: &str, dir: &std::path::Path) -> PgSettings {
    let mut s = PgSettings::new(url, dir.join("journal.sqlite"));
    s.password = SecretSource::Command(format!("printf %s {}", pg::APP_PASSWORD));
    s.seal_key = SecretSource::Command(format!("printf %s {TEAM_KEY}"));
    s.machine = Some(machine.into());
    s
}

fn actor(op: &str) -> Actor {
    Actor {
        operator: op.into(),
        profile: "sandbox".into(),
        environment: Environment::Sandbox,
    }
}

struct Rig {
    dir: tempfile::TempDir,
    sandbox: Sandbox,
    url: String,
}

impl Rig {
    async fn start() -> Rig {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().unwrap();
        let sandbox = storedesk::sandbox::start(SandboxOptions {
            data_dir: dir.path().join("sandbox"),
            port: 0,
            clock: Clock::system(),
            faults: vec![],
        })
        .await
        .unwrap();
        let url = pg::server().fresh_db();
        Rig { dir, sandbox, url }
    }

    fn client(&self) -> StoreClient {
        let mut cfg = self.sandbox.info.client_config();
        cfg.timeout = Duration::from_secs(10);
        StoreClient::new(cfg).unwrap()
    }

    fn cora(&self) -> (String, String) {
        let c = self
            .sandbox
            .info
            .customers
            .iter()
            .find(|c| c.name == "cora")
            .unwrap();
        (c.collections_key.clone(), c.purchase_key.clone())
    }

    fn connection(&self) -> Connection {
        let info = &self.sandbox.info;
        Connection {
            base_description: info.base_url.clone(),
            client_id: info.client_id.clone(),
            sandbox_id: None,
            sandbox_public_key_pem: Some(info.public_key_pem.clone()),
            demo_customers: info.customers.clone(),
            grantable: Vec::new(),
        }
    }

    /// An agent's console runner on the team journal, connected to the
    /// sandbox, and the channel its jobs answer on.
    fn console(&self, machine: &str, operator: &str) -> (Services, UnboundedReceiver<Action>) {
        let data = self.dir.path().join(machine);
        std::fs::create_dir_all(&data).unwrap();
        let config = storedesk::config::load(&data.join("absent.toml"), None, false).unwrap();
        let env = Env {
            clock: Clock::system(),
            journal_path: data.join("journal.sqlite"),
            journal_at: JournalLocation::Postgres(Box::new(settings(&self.url, machine, &data))),
            exports_dir: data.join("exports"),
            titles_path: data.join("titles.json"),
            actor: actor(operator),
            config,
            config_file: data.join("absent.toml"),
            data_dir: data.clone(),
        };
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let services = Services::new(env, tx);
        let connected = Connected {
            client: self.client(),
            product_ids: Vec::new(),
            product_source: "test".into(),
            _sandbox: None,
        };
        let conn = self.connection();
        services.connect(Box::pin(async move { Ok((connected, conn)) }));
        (services, rx)
    }

    /// The sandbox's balance of COINS for cora (a Store read).
    async fn coins(&self) -> i64 {
        use storedesk::store::model::{Beneficiary, ProductSkuId, PublisherQueryRequest};
        let (key, _) = self.cora();
        let req = PublisherQueryRequest {
            beneficiaries: vec![Beneficiary::b2b(&key)],
            product_sku_ids: Some(vec![ProductSkuId {
                product_id: COINS.into(),
                sku_id: None,
            }]),
            ..Default::default()
        };
        let items = self
            .client()
            .publisher_query_page(&req)
            .await
            .unwrap()
            .value
            .items;
        items.first().and_then(|i| i.quantity).unwrap_or(0)
    }
}

/// The next job event matching `pick` within `secs` (other events are
/// skipped); panics naming what it waited for.
async fn next<T>(
    rx: &mut UnboundedReceiver<Action>,
    secs: u64,
    what: &str,
    mut pick: impl FnMut(JobEvent) -> Option<T>,
) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Some(Action::Job(ev))) => {
                if let Some(v) = pick(ev) {
                    return v;
                }
            }
            Ok(Some(_)) => {}
            Ok(None) => panic!("the console's channel closed while waiting for {what}"),
            Err(_) => panic!("no {what} within {secs} s"),
        }
    }
}

fn others(ev: JobEvent) -> Option<storedesk::tui::collision::Others> {
    match ev {
        JobEvent::Others(o) => Some(o),
        _ => None,
    }
}

fn written(ev: JobEvent) -> Option<Result<String, String>> {
    match ev {
        JobEvent::Pane(_, PaneEvent::Entitlements(EntEvent::Written(r))) => Some(r),
        _ => None,
    }
}

fn consume(key: &str) -> WriteRequest {
    WriteRequest::consume(key, COINS, Some(1), None)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Agent B has cora's case open; agent A (another machine) consumes for
/// cora. B's console hears of it through the audit feed, and B's next
/// write confirmation for cora — and the status bar — name alice on
/// desk-a, what she did and when.
#[test]
fn a_second_agents_write_makes_the_console_warn_and_the_audit_pane_follow() {
    runtime().block_on(async {
        let rig = Rig::start().await;
        let (key, _) = rig.cora();
        let customer = storedesk::store::keyinfo::case_customer(&key);
        let (b, mut rx) = rig.console("desk-b", "bob");

        // B's Audit pane reads the (empty) shared log; that opens B's journal
        // and its audit feed.
        b.run(Effect::Pane(PaneId::Audit, PaneJob::Audit(AuditJob::Load)));
        let first = next(&mut rx, 20, "the audit log", |ev| match ev {
            JobEvent::Pane(PaneId::Audit, PaneEvent::Audit(AuditEvent::Loaded(r))) => Some(r),
            _ => None,
        })
        .await
        .unwrap();
        assert!(first.is_empty(), "{first:?}");
        b.run(Effect::CheckOthers {
            customer: customer.clone(),
        });
        let before = next(&mut rx, 20, "the check of other agents", others).await;
        assert_eq!(before.result, Ok(vec![]), "nobody else yet");

        // Agent A, its own journal (another process's), writes for cora.
        let a = PgJournal::open(
            &settings(&rig.url, "desk-a", rig.dir.path()),
            Clock::system(),
        )
        .unwrap();
        let client = rig.client();
        let out = journal::execute(&a, &client, &consume(&key), &actor("alice"))
            .await
            .unwrap();
        assert!(matches!(out, WriteOutcome::Done { .. }), "{out:?}");

        // B hears it without asking (LISTEN/NOTIFY): well within a second
        // on loopback; 10 s leaves room for a loaded machine.
        next(&mut rx, 10, "the audit feed's notice", |ev| {
            matches!(ev, JobEvent::AuditChanged).then_some(())
        })
        .await;
        // The runner rereads the log on that notice when the pane shows it
        // (App::update returns the load); here the reread, as the runtime
        // runs it, has A's rows.
        b.run(Effect::Pane(PaneId::Audit, PaneJob::Audit(AuditJob::Load)));
        let rows = next(&mut rx, 20, "the audit log again", |ev| match ev {
            JobEvent::Pane(PaneId::Audit, PaneEvent::Audit(AuditEvent::Loaded(r))) => Some(r),
            _ => None,
        })
        .await
        .unwrap();
        assert!(
            rows.iter()
                .any(|r| r.operator == "alice" && r.machine.as_deref() == Some("desk-a")),
            "{rows:?}"
        );

        // B opens a write confirmation for cora: the app asks, the runner
        // answers from the shared journal, the dialog and the status bar say
        // who, what and when.
        let session = Session {
            environment: Environment::Sandbox,
            profile: "sandbox".into(),
            operator: "bob".into(),
            writes_allowed: true,
            read_only_reason: None,
        };
        let mut app = App::new(session, Utc::now(), (80, 24));
        app.update(Action::Job(JobEvent::Connected(rig.connection())));
        app.update(Action::Paste(key.clone()));
        let fx = app.run_command(Command::Renew);
        assert!(matches!(app.overlay, Some(Overlay::Confirm(_))), "{fx:?}");
        let check = fx
            .into_iter()
            .find(|e| matches!(e, Effect::CheckOthers { .. }))
            .expect("opening the confirmation asks who else is on the customer");
        assert_eq!(
            check,
            Effect::CheckOthers {
                customer: customer.clone()
            }
        );
        b.run(check);
        let answer = next(&mut rx, 20, "the check of other agents", others).await;
        let list = answer.result.clone().unwrap();
        assert_eq!(list.len(), 1, "{list:?}");
        assert_eq!(
            (
                list[0].operator.as_str(),
                list[0].machine.as_str(),
                list[0].state.as_str()
            ),
            ("alice", "desk-a", "done")
        );
        app.update(Action::Job(JobEvent::Others(answer)));
        let text = render_text(&app, 80, 24);
        assert!(text.contains("Another agent is on this customer"), "{text}");
        assert!(
            text.contains(&format!("alice on desk-a: consume 1 × {COINS} (done,")),
            "{text}"
        );
        assert!(
            text.contains("another agent is on this customer: alice on desk-a"),
            "the status bar: {text}"
        );
        // B's own writes are not "another agent".
        let b_alone = PgJournal::open(
            &settings(&rig.url, "desk-b", rig.dir.path()),
            Clock::system(),
        )
        .unwrap();
        use storedesk::journal::JournalStore;
        let mine = b_alone
            .others_on_customer(&customer, journal::COLLISION_MINUTES)
            .unwrap();
        assert_eq!(mine.len(), 1, "A's write, seen by another agent: {mine:?}");
        assert!(
            a.others_on_customer(&customer, journal::COLLISION_MINUTES)
                .unwrap()
                .is_empty()
        );
        // No secret reached the screen.
        assert!(
            !text.contains(&key) && !text.contains(pg::APP_PASSWORD) && !text.contains(TEAM_KEY)
        );
    });
}

/// The database goes away under a running console and comes back: the
/// Store panes keep reading, a write is refused before anything is sent
/// (the sandbox's balance does not move) with a message naming the team
/// journal, and the same console's next write goes through.
#[test]
fn database_down_then_up_under_a_running_console() {
    runtime().block_on(async {
        let rig = Rig::start().await;
        let (key, purchase) = rig.cora();
        let (c, mut rx) = rig.console("desk-c", "carol");
        let db = rig.url.rsplit('/').next().unwrap().to_string();
        let admin = pg::server().admin.clone();
        let coins = rig.coins().await;
        assert!(coins >= 2, "cora has coins to consume: {coins}");

        // Up: one write through the console's path.
        c.run(Effect::Pane(
            PaneId::Entitlements,
            PaneJob::Entitlements(EntJob::Write(consume(&key))),
        ));
        let r = next(&mut rx, 30, "the first write", written).await;
        assert!(r.as_ref().is_ok_and(|l| l.contains("done")), "{r:?}");
        assert_eq!(rig.coins().await, coins - 1);

        // Down: no new connections, the open ones cut.
        pg::run_sql(
            &admin,
            &format!(
                "ALTER DATABASE {db} ALLOW_CONNECTIONS false; \
                 SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db}';"
            ),
        )
        .unwrap();

        // Reads of the Store keep working.
        c.run(Effect::Pane(
            PaneId::Orders,
            PaneJob::Orders(OrdersJob::Load {
                load_id: 1,
                key: purchase.clone(),
                refresh: true,
            }),
        ));
        let orders = next(&mut rx, 30, "the orders read", |ev| match ev {
            JobEvent::Pane(
                PaneId::Orders,
                PaneEvent::Orders(OrdersEvent::Loaded { result, .. }),
            ) => Some(result.map(|o| o.len()).map_err(|f| format!("{f:?}"))),
            JobEvent::Pane(PaneId::Orders, PaneEvent::Orders(OrdersEvent::Read { result, .. })) => {
                Some(result.map(|r| r.orders.len()).map_err(|f| format!("{f:?}")))
            }
            _ => None,
        })
        .await;
        assert!(orders.as_ref().is_ok_and(|n| *n > 0), "{orders:?}");

        // A write is refused before it is sent, saying why.
        c.run(Effect::Pane(
            PaneId::Entitlements,
            PaneJob::Entitlements(EntJob::Write(consume(&key))),
        ));
        let r = next(&mut rx, 30, "the refused write", written).await;
        let msg = r.expect_err("refused while the journal cannot record it");
        assert!(msg.starts_with("not sent: team journal:"), "{msg}");
        assert!(msg.contains("cannot connect"), "{msg}");
        assert!(!msg.contains(pg::APP_PASSWORD), "{msg}");
        assert_eq!(rig.coins().await, coins - 1, "nothing reached the Store");
        // The collision check says it could not ask.
        c.run(Effect::CheckOthers {
            customer: storedesk::store::keyinfo::case_customer(&key),
        });
        let o = next(&mut rx, 30, "the check while down", others).await;
        assert!(o.result.is_err(), "{o:?}");

        // Up again: the same console writes, with no restart. (Whatever the
        // feed said before is drained first.)
        while rx.try_recv().is_ok() {}
        pg::run_sql(
            &admin,
            &format!("ALTER DATABASE {db} ALLOW_CONNECTIONS true"),
        )
        .unwrap();
        // The audit feed comes back by itself and says the log may have
        // changed meanwhile (before this console writes anything).
        next(
            &mut rx,
            15,
            "the audit feed's notice after reconnecting",
            |ev| matches!(ev, JobEvent::AuditChanged).then_some(()),
        )
        .await;
        c.run(Effect::Pane(
            PaneId::Entitlements,
            PaneJob::Entitlements(EntJob::Write(consume(&key))),
        ));
        let r = next(
            &mut rx,
            30,
            "the write after the database came back",
            written,
        )
        .await;
        assert!(r.as_ref().is_ok_and(|l| l.contains("done")), "{r:?}");
        assert_eq!(rig.coins().await, coins - 2);
    });
}

/// A console that starts while the database is down: its first write is
/// refused (the journal cannot be opened; nothing sent), and once the
/// database is up the console opens it by itself on the next write.
#[test]
fn a_console_started_while_the_database_is_down_opens_it_later() {
    runtime().block_on(async {
        let rig = Rig::start().await;
        let (key, _) = rig.cora();
        let db = rig.url.rsplit('/').next().unwrap().to_string();
        let admin = pg::server().admin.clone();
        pg::run_sql(
            &admin,
            &format!("ALTER DATABASE {db} ALLOW_CONNECTIONS false"),
        )
        .unwrap();
        let coins = rig.coins().await;
        let (c, mut rx) = rig.console("desk-d", "dora");
        c.run(Effect::Pane(
            PaneId::Entitlements,
            PaneJob::Entitlements(EntJob::Write(consume(&key))),
        ));
        let r = next(&mut rx, 30, "the refused write", written).await;
        let msg = r.expect_err("no journal, no write");
        assert!(
            msg.starts_with("not sent: the journal cannot be opened"),
            "{msg}"
        );
        assert_eq!(rig.coins().await, coins);
        pg::run_sql(
            &admin,
            &format!("ALTER DATABASE {db} ALLOW_CONNECTIONS true"),
        )
        .unwrap();
        c.run(Effect::Pane(
            PaneId::Entitlements,
            PaneJob::Entitlements(EntJob::Write(consume(&key))),
        ));
        let r = next(&mut rx, 30, "the write once up", written).await;
        assert!(r.as_ref().is_ok_and(|l| l.contains("done")), "{r:?}");
        assert_eq!(rig.coins().await, coins - 1);
    });
}
