//! Connections to the team journal: a dedicated runtime for the sockets,
//! a small pool of clients, and a `block_on` for the synchronous
//! [`JournalStore`](crate::journal::JournalStore) methods.
//!
//! Why a dedicated runtime: the journal interface is synchronous (the
//! SQLite backend is, and `journal::execute`/replay/resolve stay one code
//! path for both). A `tokio-postgres` connection is a future that must be
//! driven by a tokio runtime; its `Client` only talks to that future
//! through channels. So the connections run on a one-thread runtime owned
//! by the journal, and a caller — a blocking thread, or a console task like
//! the SQLite calls — waits on the client's future with a thread-parking
//! `block_on`, which needs no runtime and never nests one.

use super::super::JournalError;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;
use tokio_postgres::config::SslMode;
use tokio_postgres::{Client, Config, NoTls};

/// At most this many idle connections are kept per journal.
const MAX_IDLE: usize = 4;
/// An unreachable server is reported after this long, not after the OS's
/// TCP timeout (minutes).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

struct ThreadWaker(std::thread::Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Poll `f` on this thread, parking between wake-ups.
pub fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

/// Map a driver error, with its cause (the server's message), never the
/// connection string.
pub fn pg_err(e: tokio_postgres::Error) -> JournalError {
    JournalError::Postgres(pg_msg(&e))
}

pub struct Pool {
    config: Config,
    /// TLS when the URL asks for it (`sslmode=require`).
    tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
    idle: Mutex<Vec<Client>>,
    /// Drives the connections; `None` once shut down.
    runtime: Mutex<Option<tokio::runtime::Runtime>>,
    handle: tokio::runtime::Handle,
}

impl Pool {
    pub fn new(mut config: Config) -> Result<Self, JournalError> {
        config.connect_timeout(CONNECT_TIMEOUT);
        config.application_name("storedesk");
        let tls = if config.get_ssl_mode() == SslMode::Require {
            let _ = rustls::crypto::ring::default_provider().install_default();
            use rustls_platform_verifier::ConfigVerifierExt;
            let cfg = rustls::ClientConfig::with_platform_verifier()
                .map_err(|e| JournalError::Postgres(format!("TLS set-up: {e}")))?;
            Some(tokio_postgres_rustls::MakeRustlsConnect::new(cfg))
        } else {
            None
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("storedesk-pg")
            .enable_all()
            .build()
            .map_err(|e| JournalError::Postgres(format!("cannot start its runtime: {e}")))?;
        let handle = runtime.handle().clone();
        Ok(Self {
            config,
            tls,
            idle: Mutex::new(Vec::new()),
            runtime: Mutex::new(Some(runtime)),
            handle,
        })
    }

    pub fn handle(&self) -> &tokio::runtime::Handle {
        &self.handle
    }

    /// A connected client: an idle one, or a new connection (made on the
    /// journal's runtime, which then drives it).
    pub async fn get(&self) -> Result<Client, JournalError> {
        loop {
            let c = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
            match c {
                Some(c) if !c.is_closed() => return Ok(c),
                Some(_) => continue,
                None => break,
            }
        }
        let connector = self.connector();
        match self
            .handle
            .spawn(async move { connector.connect().await })
            .await
        {
            Ok(r) => r,
            Err(e) => Err(JournalError::Postgres(format!("connection task: {e}"))),
        }
    }

    /// What a task on the journal's runtime needs to connect by itself.
    pub fn connector(&self) -> Connector {
        Connector {
            config: self.config.clone(),
            tls: self.tls.clone(),
        }
    }

    /// Hand a client back for reuse (dropped if its connection closed).
    pub fn put(&self, c: Client) {
        if c.is_closed() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(c);
        }
    }

    /// Run `f` with a pooled client; the client goes back to the pool
    /// unless the call failed (a broken connection is not reused).
    pub fn run<T>(
        &self,
        f: impl AsyncFnOnce(&mut Client) -> Result<T, JournalError>,
    ) -> Result<T, JournalError> {
        block_on(async {
            let mut c = self.get().await?;
            let out = f(&mut c).await;
            if out.is_ok() {
                self.put(c);
            }
            out
        })
    }
}

/// Connects (on the journal's runtime: the connection task is spawned
/// there and drives the socket until the client is dropped).
#[derive(Clone)]
pub struct Connector {
    config: Config,
    tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
}

impl Connector {
    pub async fn connect(&self) -> Result<Client, JournalError> {
        let unreachable = |e: tokio_postgres::Error| {
            JournalError::Postgres(format!(
                "cannot connect to the team journal: {}",
                pg_msg(&e)
            ))
        };
        let client = match &self.tls {
            Some(tls) => {
                let (client, conn) = self
                    .config
                    .connect(tls.clone())
                    .await
                    .map_err(unreachable)?;
                tokio::spawn(drive(conn));
                client
            }
            None => {
                let (client, conn) = self.config.connect(NoTls).await.map_err(unreachable)?;
                tokio::spawn(drive(conn));
                client
            }
        };
        Ok(client)
    }
}

impl Connector {
    /// A connection that LISTENs on `channel`: the receiver gets one `()`
    /// per notification and closes when the connection is lost. The
    /// client must be kept for as long as the listening should last.
    pub async fn listen(
        &self,
        channel: &str,
    ) -> Result<(Client, tokio::sync::mpsc::UnboundedReceiver<()>), JournalError> {
        let unreachable = |e: tokio_postgres::Error| {
            JournalError::Postgres(format!(
                "cannot connect to the team journal: {}",
                pg_msg(&e)
            ))
        };
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let client = match &self.tls {
            Some(tls) => {
                let (client, conn) = self
                    .config
                    .connect(tls.clone())
                    .await
                    .map_err(unreachable)?;
                tokio::spawn(forward(conn, tx));
                client
            }
            None => {
                let (client, conn) = self.config.connect(NoTls).await.map_err(unreachable)?;
                tokio::spawn(forward(conn, tx));
                client
            }
        };
        // The channel name is ours (a constant), not input: quoting it
        // keeps it one identifier all the same.
        client
            .batch_execute(&format!("LISTEN \"{}\"", channel.replace('"', "")))
            .await
            .map_err(pg_err)?;
        Ok((client, rx))
    }
}

/// Drive a listening connection, passing its notifications on.
async fn forward<S, T>(
    mut conn: tokio_postgres::Connection<S, T>,
    tx: tokio::sync::mpsc::UnboundedSender<()>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    T: tokio_postgres::tls::TlsStream + Unpin,
{
    loop {
        match std::future::poll_fn(|cx| conn.poll_message(cx)).await {
            Some(Ok(tokio_postgres::AsyncMessage::Notification(_))) => {
                if tx.send(()).is_err() {
                    return;
                }
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => {
                tracing::warn!(error = %pg_msg(&e), "team journal: audit feed closed");
                return;
            }
            None => return,
        }
    }
}

async fn drive<F: Future<Output = Result<(), tokio_postgres::Error>>>(conn: F) {
    if let Err(e) = conn.await {
        tracing::warn!(error = %pg_msg(&e), "team journal: connection closed");
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).clear();
        // May be dropped on an async worker: never block there.
        if let Some(rt) = self
            .runtime
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            rt.shutdown_background();
        }
    }
}

/// The server's message for a driver error.
pub fn pg_msg(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => {
            let mut s = e.to_string();
            let mut src = std::error::Error::source(e);
            while let Some(inner) = src {
                let t = inner.to_string();
                if !s.contains(&t) {
                    s.push_str(": ");
                    s.push_str(&t);
                }
                src = inner.source();
            }
            s
        }
    }
}
