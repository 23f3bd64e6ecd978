//! Claim leases for owners whose liveness cannot be checked by lock (a
//! file system without locks): the owner's heartbeat renews its claims
//! while it lives, and another process concludes it is gone only from
//! what it *saw* on its own monotonic clock — the lease stopped moving for
//! a few beats — never from comparing wall clocks alone. A wall clock
//! jumping forward (the observer's) or backward (the owner's) therefore
//! cannot free a live write; at worst a jump delays a takeover.

use crate::clock::Clock;
use rusqlite::{Connection, OpenFlags, params};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often an owner renews its claims.
pub const DEFAULT_BEAT: Duration = Duration::from_secs(1);

/// A lease that has not moved for this many beats is no longer renewed.
const BEATS_MISSED: u32 = 3;

/// What the journal and its heartbeat share: the lease length, the beat,
/// and the wall clock lease values are written in (the system clock; a
/// test moves it to play a clock jump).
#[derive(Debug)]
pub(super) struct LeaseConfig {
    lease_ms: AtomicU64,
    beat_ms: AtomicU64,
    clock: Mutex<Clock>,
}

impl LeaseConfig {
    pub fn new(lease: Duration) -> Self {
        Self {
            lease_ms: AtomicU64::new(lease.as_millis() as u64),
            beat_ms: AtomicU64::new(DEFAULT_BEAT.as_millis() as u64),
            clock: Mutex::new(Clock::system()),
        }
    }

    pub fn lease(&self) -> Duration {
        Duration::from_millis(self.lease_ms.load(Ordering::Relaxed))
    }

    pub fn set_lease(&self, lease: Duration) {
        self.lease_ms
            .store(lease.as_millis() as u64, Ordering::Relaxed);
    }

    pub fn beat(&self) -> Duration {
        Duration::from_millis(self.beat_ms.load(Ordering::Relaxed).max(1))
    }

    pub fn set_beat(&self, beat: Duration) {
        self.beat_ms
            .store(beat.as_millis() as u64, Ordering::Relaxed);
    }

    pub fn set_clock(&self, clock: Clock) {
        *self.clock.lock().unwrap_or_else(|p| p.into_inner()) = clock;
    }

    /// Wall time in ms, as lease values are stored.
    pub fn now_ms(&self) -> i64 {
        self.clock
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .now()
            .timestamp_millis()
    }

    /// The lease value a claim taken or renewed now carries.
    pub fn until(&self) -> i64 {
        self.now_ms()
            .saturating_add(self.lease().as_millis() as i64)
    }

    /// How long a lease must stand still before its owner counts as gone.
    pub fn quiet_limit(&self) -> Duration {
        self.beat() * BEATS_MISSED
    }
}

/// Renews this owner's claims every beat, on its own connection, until
/// dropped.
pub(super) struct Heartbeat {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Heartbeat {
    pub fn start(path: PathBuf, owner: String, cfg: Arc<LeaseConfig>) -> Self {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("journal-heartbeat".into())
            .spawn(move || beat(&path, &owner, &cfg, &stopped))
            .map_err(|e| tracing::warn!(error = %e, "journal: no heartbeat thread"))
            .ok();
        Self {
            stop: Some(stop),
            thread,
        }
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        // Disconnecting wakes the thread at once.
        self.stop.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn beat(path: &PathBuf, owner: &str, cfg: &LeaseConfig, stopped: &mpsc::Receiver<()>) {
    let mut conn: Option<Connection> = None;
    loop {
        match stopped.recv_timeout(cfg.beat()) {
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            _ => return,
        }
        if conn.is_none() {
            // Never create the file: a journal that vanished is reported by
            // the journal itself, not recreated empty by its heartbeat.
            conn = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .ok();
            if let Some(c) = &conn {
                let _ = c.busy_timeout(cfg.beat());
            }
        }
        if let Some(c) = &conn
            && let Err(e) = c.execute(
                "UPDATE writes SET claimed_until = ?1 WHERE claimed_by = ?2 AND state = 'pending'",
                params![cfg.until(), owner],
            )
        {
            // A busy or locked database: the next beat tries again.
            tracing::debug!(error = %e, "journal: heartbeat missed");
        }
    }
}

/// What an observer concludes about a claim whose owner it cannot check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Watch {
    /// The lease moved since last seen: the owner is renewing it.
    Moving,
    /// Not seen to move yet, for less than the quiet limit.
    Watching,
    /// Seen standing still for the quiet limit: nobody renews it.
    Still,
}

/// Lease values seen per write, with when (monotonic) they were first seen.
#[derive(Debug, Default)]
pub(super) struct Observed {
    seen: Mutex<HashMap<i64, (String, i64, Instant)>>,
}

impl Observed {
    pub fn watch(&self, id: i64, owner: &str, until: i64, quiet_limit: Duration) -> Watch {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        match seen.get(&id) {
            Some((o, u, since)) if o == owner && *u == until => {
                if since.elapsed() >= quiet_limit {
                    Watch::Still
                } else {
                    Watch::Watching
                }
            }
            Some(_) => {
                seen.insert(id, (owner.to_string(), until, Instant::now()));
                Watch::Moving
            }
            None => {
                seen.insert(id, (owner.to_string(), until, Instant::now()));
                Watch::Watching
            }
        }
    }
}
