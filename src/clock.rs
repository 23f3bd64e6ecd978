//! One notion of "now" for the whole program, so that a fixed `--now` makes
//! every screen and every sandbox answer reproducible.

use chrono::{DateTime, Utc};
use std::sync::{Arc, Mutex};

/// Wall clock, or a fixed instant when a test or `--now` pins it.
///
/// This is what the program *shows* and stamps; durations (leases, the
/// call budget's window, waits) are measured on [`std::time::Instant`],
/// which neither `--now` nor a wall-clock jump moves.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    fixed: Option<Arc<Mutex<DateTime<Utc>>>>,
}

impl Clock {
    pub fn system() -> Self {
        Self { fixed: None }
    }

    pub fn fixed(at: DateTime<Utc>) -> Self {
        Self {
            fixed: Some(Arc::new(Mutex::new(at))),
        }
    }

    /// A pinned clock that tests move with [`Clock::set`] (every clone
    /// moves with it): a wall-clock jump, by hand.
    pub fn settable(at: DateTime<Utc>) -> Self {
        Self::fixed(at)
    }

    /// Move a pinned clock (a no-op on the system clock).
    pub fn set(&self, at: DateTime<Utc>) {
        if let Some(t) = &self.fixed {
            *t.lock().unwrap_or_else(|p| p.into_inner()) = at;
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &self.fixed {
            Some(t) => *t.lock().unwrap_or_else(|p| p.into_inner()),
            None => Utc::now(),
        }
    }

    pub fn is_fixed(&self) -> bool {
        self.fixed.is_some()
    }
}
