//! Our own accept loop: each connection is served by hyper inside a
//! `select!` with a per-connection kill switch, so a fault can reset the
//! connection for real (SO_LINGER 0 → the peer sees RST, not a clean close).

use super::http::ConnKill;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tower::Service;

pub struct ServerHandle {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl ServerHandle {
    /// Stop accepting, drop every connection, wait for the loop to end.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// How long a client may take to send a request's headers (slowloris).
pub const HEADER_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// Connections served at once; more are closed at accept.
pub const MAX_CONNECTIONS: usize = 256;

pub fn serve(listener: TcpListener, router: Router) -> ServerHandle {
    let (stop, mut stopped) = watch::channel(false);
    let task = tokio::spawn(async move {
        let mut conns = tokio::task::JoinSet::new();
        loop {
            tokio::select! {
                _ = stopped.changed() => break,
                // Reap finished connections so the set does not grow.
                Some(_) = conns.join_next(), if !conns.is_empty() => {}
                r = listener.accept() => match r {
                    Ok((stream, _)) if conns.len() >= MAX_CONNECTIONS => {
                        // A local client opening sockets without end gets
                        // them closed, not a task and a buffer each.
                        tracing::warn!(max = MAX_CONNECTIONS, "sandbox connection cap reached; closing a new connection");
                        drop(stream);
                    }
                    Ok((stream, _)) => {
                        conns.spawn(connection(stream, router.clone(), stopped.clone()));
                    }
                    Err(e) => {
                        // E.g. out of file descriptors: back off, keep serving.
                        tracing::warn!(error = %e, "sandbox accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    }
                },
            }
        }
        conns.shutdown().await;
    });
    ServerHandle { stop, task }
}

async fn connection(stream: TcpStream, router: Router, mut stopped: watch::Receiver<bool>) {
    let _ = stream.set_nodelay(true);
    // A second handle on the socket: after hyper's is dropped, closing this
    // one with linger 0 is what turns the close into a reset.
    let (stream, twin) = match stream.into_std().and_then(|s| {
        let twin = s.try_clone()?;
        Ok((TcpStream::from_std(s)?, twin))
    }) {
        Ok(x) => x,
        Err(e) => {
            tracing::warn!(error = %e, "cannot prepare a sandbox connection");
            return;
        }
    };
    let kill = Arc::new(Notify::new());
    let ext = ConnKill(kill.clone());
    let svc = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ext.clone());
        let mut r = router.clone();
        async move { r.call(req.map(axum::body::Body::new)).await }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), svc);
    let reset = tokio::select! {
        r = conn => {
            if let Err(e) = r {
                tracing::debug!(error = %e, "sandbox connection ended with an error");
            }
            false
        }
        _ = kill.notified() => true,
        _ = stopped.changed() => false,
    };
    if reset && let Ok(t) = TcpStream::from_std(twin) {
        let _ = t.set_zero_linger();
        drop(t);
    }
}
