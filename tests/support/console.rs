//! The console without the terminal: a real `App` connected to the
//! embedded sandbox, its pane jobs run by `panes::lists_job` over loopback
//! HTTP against a real journal file — the runtime's path, minus the
//! terminal. Shared by panes.rs, clawback_env.rs and monkey.rs.

#![allow(dead_code)]

use chrono::Utc;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use storedesk::clock::Clock;
use storedesk::config::Environment;
use storedesk::journal::{Actor, Journal, JournalStore};
use storedesk::sandbox::{Sandbox, SandboxOptions};
use storedesk::store::StoreClient;
use storedesk::tui::app::{Action, App, Connection, Effect, JobEvent, Session};
use storedesk::tui::panes::entitlements::EntJob;
use storedesk::tui::panes::{PaneJob, lists_job};
use storedesk::tui::writes::SharedJournal;

pub struct ConsoleRig {
    pub dir: tempfile::TempDir,
    pub sandbox: Sandbox,
    pub client: StoreClient,
    pub journal: PathBuf,
    /// The same journal, opened once as the console opens it.
    pub shared: SharedJournal,
    pub actor: Actor,
}

impl ConsoleRig {
    /// A sandbox and a client whose profile sends `sbx` (none: the
    /// builtin sandbox profile).
    pub async fn start(sbx: Option<&str>) -> ConsoleRig {
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
        let mut cfg = sandbox.info.client_config();
        cfg.timeout = Duration::from_secs(10);
        cfg.sbx = sbx.map(str::to_string);
        let client = StoreClient::new(cfg).unwrap();
        let journal = dir.path().join("journal.sqlite");
        ConsoleRig {
            shared: Journal::open(&journal)
                .map(|j| Arc::new(j) as Arc<dyn JournalStore>)
                .map_err(|e| e.to_string()),
            journal,
            dir,
            sandbox,
            client,
            actor: Actor {
                operator: "qa-bot".into(),
                profile: "sandbox".into(),
                environment: Environment::Sandbox,
            },
        }
    }

    /// A console connected to the sandbox, with no key in the case.
    pub fn app(&self) -> App {
        let session = Session {
            environment: Environment::Sandbox,
            profile: "sandbox".into(),
            operator: "qa-bot".into(),
            writes_allowed: true,
            read_only_reason: None,
        };
        let mut app = App::new(session, Utc::now(), (200, 50));
        let info = &self.sandbox.info;
        app.update(Action::Job(JobEvent::Connected(Connection {
            base_description: info.base_url.clone(),
            client_id: info.client_id.clone(),
            sandbox_id: None,
            sandbox_public_key_pem: Some(info.public_key_pem.clone()),
            demo_customers: info.customers.clone(),
            grantable: Vec::new(),
        })));
        app
    }

    /// A connected console with `name`'s two demo keys in the case.
    pub fn app_with(&self, name: &str) -> App {
        let mut app = self.app();
        let info = &self.sandbox.info;
        let index = info.customers.iter().position(|c| c.name == name).unwrap();
        key(&mut app, 'd');
        for _ in 0..index {
            app.update(Action::Key(ev(KeyCode::Down)));
        }
        app.update(Action::Key(ev(KeyCode::Enter)));
        assert!(
            app.toast.as_deref().unwrap_or("").contains(name),
            "{:?} {:?}",
            app.toast,
            app.last_error
        );
        app
    }

    /// A demo customer's (collections key, purchase key).
    pub fn keys(&self, name: &str) -> (String, String) {
        let c = self.sandbox.info.customers.iter().find(|c| c.name == name);
        let c = c.unwrap();
        (c.collections_key.clone(), c.purchase_key.clone())
    }

    /// Run every pane job among `effects` the way the runtime does, feed
    /// the answers back, and keep going until nothing is left to run.
    /// Returns how many jobs ran.
    pub async fn drive(&self, app: &mut App, mut effects: Vec<Effect>) -> usize {
        let mut ran = 0;
        while let Some(e) = effects.pop() {
            let Effect::Pane(id, job) = e else { continue };
            // Product-title lookups (for the lists' product column) are the
            // Entitlements pane's job, not these panes'.
            if matches!(job, PaneJob::Entitlements(EntJob::Titles(_))) {
                continue;
            }
            let ev = lists_job::run(Some(&self.client), &self.shared, &self.actor, job)
                .await
                .expect("a job of these panes");
            ran += 1;
            effects.extend(app.update(Action::Job(JobEvent::Pane(id, ev))));
        }
        ran
    }
}

/// A key press without modifiers.
pub fn ev(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

/// Type the character `c`.
pub fn key(app: &mut App, c: char) -> Vec<Effect> {
    app.update(Action::Key(ev(KeyCode::Char(c))))
}

pub fn enter(app: &mut App) -> Vec<Effect> {
    app.update(Action::Key(ev(KeyCode::Enter)))
}
