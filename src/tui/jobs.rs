//! Runs the app's Effects: Store calls, clipboard, journal writes. Every
//! job runs on a tokio task and reports back as an Action, so the UI never
//! waits on the network or the disk.

use crate::clock::Clock;
use crate::journal::{Actor, JournalStore};
use crate::store::StoreClient;
use crate::tui::action::{Action, Connection, Effect, JobEvent};
use crate::tui::crash::{self, JobTag};
use crate::tui::panes::audit::{AuditEvent, AuditJob};
use crate::tui::panes::entitlements::{EntEvent, EntJob, FetchError};
use crate::tui::panes::entitlements_job as ent_job;
use crate::tui::panes::key::KeyJob;
use crate::tui::panes::{PaneEvent, PaneId, PaneJob};
use crate::tui::writes::SharedJournal;
use base64::Engine;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use tokio::sync::{OnceCell, mpsc};
use tokio_util::sync::CancellationToken;

/// What a connected console talks through.
pub struct Connected {
    pub client: StoreClient,
    /// Product ids for v9 queries: the profile's, or for the embedded
    /// sandbox its catalog (a publisher's profile lists its own catalog).
    pub product_ids: Vec<String>,
    /// Where `product_ids` came from, for the pane to say.
    pub product_source: String,
    /// The embedded sandbox, kept alive for as long as the console runs.
    pub _sandbox: Option<crate::sandbox::Sandbox>,
}

/// Where the console's local files are and who is acting: what the jobs
/// need of the environment, resolved by the caller (`commands::console`).
pub struct Env {
    pub clock: Clock,
    pub journal_path: std::path::PathBuf,
    /// Where the journal lives: the SQLite file at `journal_path`, or the
    /// profile's team journal.
    pub journal_at: crate::journal::JournalLocation,
    pub exports_dir: std::path::PathBuf,
    /// The product-title cache (`case::titles`).
    pub titles_path: std::path::PathBuf,
    pub actor: Actor,
    /// For `:doctor`: the config as loaded, the file, the data dir.
    pub config: crate::config::LoadedConfig,
    pub config_file: std::path::PathBuf,
    pub data_dir: std::path::PathBuf,
}

impl Env {
    /// The process's one journal: opened (off the async workers) on first
    /// use with the app's clock, so `--now` stamps the console's audit rows
    /// too. A failure is not kept: the next use tries again.
    /// A team journal also starts its audit feed then: the Audit pane
    /// follows other agents' writes (`JobEvent::AuditChanged`).
    async fn journal(&self, cell: &JournalCell) -> SharedJournal {
        cell.journal
            .get_or_try_init(|| async {
                let at = self.journal_at.clone();
                let clock = self.clock.clone();
                let tx = cell.tx.clone();
                tokio::task::spawn_blocking(move || {
                    let j = crate::journal::open(&at, clock).map_err(|e| e.to_string())?;
                    j.watch_audit(Box::new(move || {
                        let _ = tx.send(Action::Job(JobEvent::AuditChanged));
                    }));
                    Ok(j)
                })
                .await
                .unwrap_or_else(|e| Err(format!("the journal could not be opened: {e}")))
            })
            .await
            .cloned()
    }
}

/// The process's one journal once opened, and where its audit feed reports.
struct JournalCell {
    journal: OnceCell<Arc<dyn JournalStore>>,
    tx: mpsc::UnboundedSender<Action>,
}

/// How the console reaches its Store: a future the caller built (it may
/// start the embedded sandbox), run in the background once the UI is up.
pub type Connector = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<(Connected, Connection), String>> + Send>,
>;

pub struct Services {
    ctx: Arc<Env>,
    tx: mpsc::UnboundedSender<Action>,
    conn: Arc<OnceCell<Connected>>,
    journal: Arc<JournalCell>,
    clipboard: Arc<Mutex<Option<arboard::Clipboard>>>,
    /// Running entitlement listings, by fetch id (a new one cancels the rest).
    listings: Arc<Mutex<HashMap<u64, CancellationToken>>>,
}

impl Services {
    pub fn new(env: Env, tx: mpsc::UnboundedSender<Action>) -> Self {
        Self {
            ctx: Arc::new(env),
            tx: tx.clone(),
            conn: Arc::new(OnceCell::new()),
            journal: Arc::new(JournalCell {
                journal: OnceCell::new(),
                tx: tx.clone(),
            }),
            clipboard: Arc::new(Mutex::new(None)),
            listings: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.ctx.clock.now()
    }

    fn send(tx: &mpsc::UnboundedSender<Action>, ev: JobEvent) {
        // The loop is gone only when we are quitting: nothing to tell.
        let _ = tx.send(Action::Job(ev));
    }

    /// Start the embedded sandbox (or reach the profile's Store) in the background.
    pub fn connect(&self, connector: Connector) {
        let ctx = self.ctx.clone();
        let tx = self.tx.clone();
        let cell = self.conn.clone();
        let journal = self.journal.clone();
        crash::spawn(&self.tx, JobTag::global("connect"), async move {
            // Lets the end-to-end test prove a job's panic is reported and
            // the console keeps its terminal.
            if std::env::var_os("STOREDESK_TEST_JOB_PANIC").is_some() {
                panic!("test panic in a background job (STOREDESK_TEST_JOB_PANIC)");
            }
            match connector.await {
                Ok((connected, info)) => {
                    let _ = cell.set(connected);
                    Self::send(&tx, JobEvent::Connected(info));
                    let j = ctx.journal(&journal).await;
                    Self::send(&tx, JobEvent::Pending(read_pending(j).await));
                }
                Err(e) => Self::send(&tx, JobEvent::ConnectFailed(e)),
            }
        });
    }

    /// Run one effect. Returns true when the console must stop now.
    pub fn run(&self, effect: Effect) -> bool {
        match effect {
            Effect::Quit => return true,
            Effect::ReadClipboard => self.read_clipboard(),
            Effect::Copy { text, label } => self.copy(text, label),
            Effect::Pane(id, job) => self.pane_job(id, job),
            Effect::ReplayPending => self.replay_pending(),
            Effect::ReadPending => {
                let (tx, ctx, journal) = (self.tx.clone(), self.ctx.clone(), self.journal.clone());
                crash::spawn(&self.tx, JobTag::global("pending"), async move {
                    let j = ctx.journal(&journal).await;
                    Self::send(&tx, JobEvent::Pending(read_pending(j).await));
                });
            }
            Effect::ResolvePending { id, applied, note } => self.resolve_pending(id, applied, note),
            Effect::Doctor { key } => self.doctor(key),
            Effect::CheckOthers { customer } => {
                let (tx, ctx, cell) = (self.tx.clone(), self.ctx.clone(), self.journal.clone());
                crash::spawn(&self.tx, JobTag::global("others"), async move {
                    let j = ctx.journal(&cell).await;
                    Self::send(&tx, crate::tui::collision::check(j, customer).await);
                });
            }
        }
        false
    }

    fn doctor(&self, key: Option<String>) {
        let mut config = self.ctx.config.clone();
        let conn = self.conn.get();
        // The products the console queries (the embedded sandbox's catalog).
        if let Some(c) = conn {
            config.profile.product_ids.clone_from(&c.product_ids);
        }
        let pem = conn.and_then(|c| c._sandbox.as_ref().map(|s| s.info.public_key_pem.clone()));
        let input = crate::tui::doctor::input(
            config,
            self.ctx.config_file.clone(),
            self.ctx.data_dir.clone(),
            self.ctx.journal_path.clone(),
            self.ctx.clock.clone(),
            pem,
            key,
        );
        crate::tui::doctor::spawn(input, conn.map(|c| c.client.clone()), self.tx.clone());
    }

    fn read_clipboard(&self) {
        let tx = self.tx.clone();
        let cb = self.clipboard.clone();
        crash::spawn_blocking(&self.tx, JobTag::global("clipboard"), move || {
            let result = with_clipboard(&cb, |c| c.get_text());
            Self::send(&tx, JobEvent::Clipboard(result));
        });
    }

    fn copy(&self, text: String, label: String) {
        let tx = self.tx.clone();
        let cb = self.clipboard.clone();
        crash::spawn_blocking(&self.tx, JobTag::global("copy"), move || {
            let result = match with_clipboard(&cb, |c| c.set_text(text.clone())) {
                Ok(()) => Ok(label),
                // No display (e.g. over SSH): ask the terminal to do it.
                Err(_) => osc52(&text).map(|()| format!("{label} (via the terminal, OSC 52)")),
            };
            Self::send(&tx, JobEvent::Copied(result));
        });
    }

    fn pane_job(&self, id: PaneId, job: PaneJob) {
        let job = match job {
            PaneJob::Entitlements(job) => return self.entitlements_job(id, job),
            PaneJob::Audit(AuditJob::Load) => return self.load_audit(),
            PaneJob::Key(job) => job,
            other => return self.lists_job(id, other),
        };
        let tx = self.tx.clone();
        let conn = self.conn.clone();
        let ctx = self.ctx.clone();
        let cell = self.journal.clone();
        crash::spawn(&self.tx, JobTag::pane(id, "key"), async move {
            let journal = ctx.journal(&cell).await;
            let actor = ctx.actor.clone();
            let writes = !matches!(job, KeyJob::FetchOffers { .. });
            let client = conn.get().map(|c| &c.client);
            let ev = crate::tui::panes::key_job::run(client, &journal, &actor, job).await;
            if writes {
                Self::send(&tx, JobEvent::Pending(read_pending(journal).await));
            }
            Self::send(&tx, JobEvent::Pane(id, PaneEvent::Key(ev)));
        });
    }

    /// Send every pending write again, each with its original key.
    fn replay_pending(&self) {
        let tx = self.tx.clone();
        let conn = self.conn.clone();
        let ctx = self.ctx.clone();
        let cell = self.journal.clone();
        crash::spawn(&self.tx, JobTag::global("replay"), async move {
            let Some(c) = conn.get() else {
                Self::send(
                    &tx,
                    JobEvent::Replayed(vec!["not connected to a Store yet: nothing sent".into()]),
                );
                return;
            };
            let journal = ctx.journal(&cell).await;
            let actor = ctx.actor.clone();
            let lines = match &journal {
                Ok(j) => match crate::journal::replay_pending(&**j, &c.client, &actor).await {
                    Ok(reports) => reports.iter().map(replay_line).collect(),
                    Err(e) => vec![format!("journal error: {e}")],
                },
                Err(e) => vec![format!("journal error: {e}")],
            };
            Self::send(&tx, JobEvent::Replayed(lines));
            Self::send(&tx, JobEvent::Pending(read_pending(journal).await));
        });
    }

    /// Settle a pending write by hand (a local journal change).
    fn resolve_pending(&self, id: i64, applied: bool, note: String) {
        let (tx, ctx, cell) = (self.tx.clone(), self.ctx.clone(), self.journal.clone());
        crash::spawn(&self.tx, JobTag::global("resolve"), async move {
            let journal = ctx.journal(&cell).await;
            let actor = ctx.actor.clone();
            let settled = journal.clone();
            let result = tokio::task::spawn_blocking(move || {
                settled
                    .map_err(|e| format!("journal error: {e}"))
                    .and_then(|j| {
                        crate::journal::resolve(&*j, id, applied, &note, &actor)
                            .map_err(|e| format!("journal error: {e}"))
                    })
                    .and_then(|o| match o {
                        crate::journal::ResolveOutcome::Resolved(_) => Ok(o.message(id)),
                        other => Err(other.message(id)),
                    })
            })
            .await
            .unwrap_or_else(|e| Err(format!("journal error: {e}")));
            Self::send(&tx, JobEvent::Resolved(result));
            Self::send(&tx, JobEvent::Pending(read_pending(journal).await));
        });
    }

    /// Orders, Subscriptions, Clawbacks and Timeline: their reads and writes
    /// (`panes::lists_job`); a write re-reads the pending list after.
    fn lists_job(&self, id: PaneId, job: PaneJob) {
        let tx = self.tx.clone();
        let conn = self.conn.clone();
        let ctx = self.ctx.clone();
        let cell = self.journal.clone();
        crash::spawn(&self.tx, JobTag::pane(id, "list"), async move {
            let journal = ctx.journal(&cell).await;
            let actor = ctx.actor.clone();
            let write = crate::tui::panes::lists_job::is_write(&job);
            let client = conn.get().map(|c| &c.client);
            if let Some(ev) = crate::tui::panes::lists_job::run(client, &journal, &actor, job).await
            {
                Self::send(&tx, JobEvent::Pane(id, ev));
            }
            if write {
                Self::send(&tx, JobEvent::Pending(read_pending(journal).await));
            }
        });
    }

    /// Read the audit log (a local SQLite read, off the UI thread).
    fn load_audit(&self) {
        let (tx, ctx, cell) = (self.tx.clone(), self.ctx.clone(), self.journal.clone());
        crash::spawn(&self.tx, JobTag::pane(PaneId::Audit, "audit"), async move {
            let journal = ctx.journal(&cell).await;
            let result = tokio::task::spawn_blocking(move || {
                journal.and_then(|j| {
                    j.audit(&crate::journal::AuditFilter::default())
                        .map_err(|e| e.to_string())
                })
            })
            .await
            .unwrap_or_else(|e| Err(format!("audit read stopped: {e}")));
            Self::send(
                &tx,
                JobEvent::Pane(PaneId::Audit, PaneEvent::Audit(AuditEvent::Loaded(result))),
            );
        });
    }
}

impl Services {
    /// The Entitlements pane's jobs: listing (cancellable, replaced by a
    /// newer one), export (the file write happens here), orders, writes.
    fn entitlements_job(&self, id: PaneId, job: EntJob) {
        let tx = self.tx.clone();
        let send: ent_job::Send = Arc::new(move |ev| {
            Self::send(&tx, JobEvent::Pane(id, PaneEvent::Entitlements(ev)));
        });
        let lock = |m: &Mutex<HashMap<u64, CancellationToken>>| {
            m.lock()
                .unwrap_or_else(|p| p.into_inner())
                .drain()
                .for_each(|(_, t)| t.cancel())
        };
        match job {
            EntJob::Cancel { fetch_id } => {
                let mut g = self.listings.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(t) = g.remove(&fetch_id) {
                    t.cancel();
                }
                return;
            }
            EntJob::Export {
                file_name,
                content,
                rows,
            } => {
                let dir = self.ctx.exports_dir.clone();
                crash::spawn_blocking(&self.tx, JobTag::pane(id, "export"), move || {
                    let path = dir.join(&file_name);
                    let r = std::fs::create_dir_all(&dir)
                        .and_then(|()| crate::paths::write_private(&path, &content))
                        .map(|()| (path.clone(), rows))
                        .map_err(|e| format!("{}: {e}", path.display()));
                    send(EntEvent::Exported(r));
                });
                return;
            }
            _ => {}
        }
        let conn = self.conn.clone();
        let ctx = self.ctx.clone();
        let cell = self.journal.clone();
        let listings = self.listings.clone();
        let tx = self.tx.clone();
        let cancel = CancellationToken::new();
        if let EntJob::Fetch(req) = &job {
            lock(&listings);
            listings
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(req.fetch_id, cancel.clone());
        }
        crash::spawn(&self.tx, JobTag::pane(id, "entitlements"), async move {
            let Some(c) = conn.get() else {
                let msg = "not connected to a Store yet".to_string();
                send(match job {
                    EntJob::Fetch(r) => EntEvent::Finished {
                        fetch_id: r.fetch_id,
                        result: Err(FetchError::Failed(msg)),
                    },
                    _ => EntEvent::Written(Err(format!("not sent: {msg}"))),
                });
                return;
            };
            match job {
                EntJob::Fetch(req) => {
                    let fetch_id = req.fetch_id;
                    ent_job::fetch(
                        &c.client,
                        &c.product_ids,
                        &c.product_source,
                        req,
                        cancel,
                        send,
                    )
                    .await;
                    listings
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .remove(&fetch_id);
                }
                EntJob::Write(req) => {
                    let actor = ctx.actor.clone();
                    let journal = ctx.journal(&cell).await;
                    ent_job::write(&c.client, &journal, &actor, req, send).await;
                    Self::send(&tx, JobEvent::Pending(read_pending(journal).await));
                }
                EntJob::Titles(ids) => {
                    let mut t = crate::case::titles::Titles::load(&ctx.titles_path);
                    // Offline the cache still answers; the id alone otherwise.
                    if let Err(e) = t.fetch_missing(&c.client, &ids).await {
                        tracing::info!(error = %e, "product titles unavailable");
                    }
                    let known = ids
                        .iter()
                        .filter_map(|id| t.get(id).map(|s| (id.clone(), s.to_string())))
                        .collect();
                    send(EntEvent::Titles(known));
                }
                EntJob::Cancel { .. } | EntJob::Export { .. } => {}
            }
        });
    }
}

/// The journal's pending writes, for the status bar (read off the async
/// workers).
pub async fn read_pending(
    journal: SharedJournal,
) -> Result<Vec<crate::tui::action::PendingLine>, String> {
    tokio::task::spawn_blocking(move || pending_lines(&*journal?))
        .await
        .unwrap_or_else(|e| Err(format!("pending read stopped: {e}")))
}

fn pending_lines(j: &dyn JournalStore) -> Result<Vec<crate::tui::action::PendingLine>, String> {
    let rows = crate::journal::pending(j).map_err(|e| e.to_string())?;
    Ok(rows
        .into_iter()
        .map(|w| crate::tui::action::PendingLine {
            id: w.id,
            replay_safe: crate::journal::WriteRequest::replay_is_safe(w.kind, &w.body),
            subject: crate::tui::pending_gate::subject(w.kind, &w.body, w.target.as_deref()),
            customer: w.customer,
            profile: w.profile,
            summary: w.summary,
            customer_fp: w.customer_fp,
            created_at: w.created_at,
            attempts: w.attempts,
            last_error: w.last_error,
        })
        .collect())
}

fn replay_line(r: &crate::journal::ReplayReport) -> String {
    use crate::journal::{ReplayStatus, WriteOutcome};
    let what = format!("#{} {}", r.write.id, r.write.summary);
    match &r.status {
        ReplayStatus::Replayed {
            outcome: WriteOutcome::Done { result, .. },
        } => format!("{what}: done ({result})"),
        ReplayStatus::Replayed {
            outcome: WriteOutcome::Failed { reason, .. },
        } => format!("{what}: refused ({reason})"),
        ReplayStatus::Replayed {
            outcome: WriteOutcome::Pending { reason, .. },
        } => format!("{what}: still pending ({reason})"),
        ReplayStatus::Busy { owner } => format!(
            "{what}: being sent by {} — wait or retry",
            crate::journal::db::describe_owner(owner)
        ),
        ReplayStatus::AlreadySettled => format!("{what}: already settled elsewhere"),
        ReplayStatus::OtherProfile => format!(
            "{what}: recorded under profile {}; still pending here",
            r.write.profile
        ),
        ReplayStatus::NeedsReview => format!(
            "{what}: not safe to resend, still pending — check the subscription, then :resolve it"
        ),
        ReplayStatus::Error { message } => format!("{what}: error ({message})"),
    }
}

fn with_clipboard<T>(
    cb: &Mutex<Option<arboard::Clipboard>>,
    f: impl FnOnce(&mut arboard::Clipboard) -> Result<T, arboard::Error>,
) -> Result<T, String> {
    let mut guard = cb
        .lock()
        .map_err(|_| "clipboard lock poisoned".to_string())?;
    if guard.is_none() {
        // Kept for the whole session: on X11 the copied text lives only as
        // long as its owner.
        *guard = Some(arboard::Clipboard::new().map_err(|e| e.to_string())?);
    }
    match guard.as_mut() {
        Some(c) => f(c).map_err(|e| e.to_string()),
        None => Err("no clipboard".into()),
    }
}

/// OSC 52: the terminal puts the text on the system clipboard.
fn osc52(text: &str) -> Result<(), String> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    let mut out = std::io::stdout();
    write!(out, "\x1b]52;c;{b64}\x07")
        .and_then(|()| out.flush())
        .map_err(|e| e.to_string())
}
