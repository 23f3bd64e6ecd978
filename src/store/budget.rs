//! Call budget: the Store allows 100 collection calls per customer in any
//! 5-minute window. Counting them here lets the UI show what is left and
//! refuse locally — with a clear message — rather than earn a 429.
//!
//! Windows are measured on the monotonic clock ([`Instant`]), never on the
//! program's [`crate::clock::Clock`]: that one may be pinned by `--now`
//! (time would never pass, and the budget would never come back) and the
//! wall clock may jump (backward: calls would stay in the window for the
//! length of the jump; forward: the window would empty early and earn the
//! 429 the budget is there to avoid).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const DEFAULT_LIMIT: u32 = 100;
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(300);

/// Refused: the customer already made `limit` calls in the window.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "{limit} collection calls for this customer in the last {} minutes — refused locally; the next call is possible in {} s",
    window.as_secs() / 60,
    wait.as_secs().max(1)
)]
pub struct BudgetExceeded {
    pub limit: u32,
    pub window: Duration,
    /// Until the oldest call in the window drops out.
    pub wait: Duration,
}

pub struct CallBudget {
    limit: u32,
    window: Duration,
    calls: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl std::fmt::Debug for CallBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallBudget")
            .field("limit", &self.limit)
            .field("window", &self.window)
            .finish_non_exhaustive()
    }
}

impl Default for CallBudget {
    fn default() -> Self {
        Self::new()
    }
}

impl CallBudget {
    pub fn new() -> Self {
        Self::with_limit(DEFAULT_LIMIT, DEFAULT_WINDOW)
    }

    pub fn with_limit(limit: u32, window: Duration) -> Self {
        Self {
            limit,
            window,
            calls: Mutex::new(HashMap::new()),
        }
    }

    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// Calls this customer may still make in the current window.
    pub fn remaining(&self, customer: &str) -> u32 {
        self.remaining_at(customer, Instant::now())
    }

    /// Count one call, or refuse it if it would exceed the limit.
    pub fn try_acquire(&self, customer: &str) -> Result<u32, BudgetExceeded> {
        self.try_acquire_at(customer, Instant::now())
    }

    /// `remaining` at an explicit monotonic instant (tests move time by hand).
    pub fn remaining_at(&self, customer: &str, now: Instant) -> u32 {
        let mut map = self.lock();
        match map.get_mut(customer) {
            Some(q) => {
                self.prune(q, now);
                self.limit.saturating_sub(q.len() as u32)
            }
            None => self.limit,
        }
    }

    /// `try_acquire` at an explicit monotonic instant; returns what remains
    /// after it.
    pub fn try_acquire_at(&self, customer: &str, now: Instant) -> Result<u32, BudgetExceeded> {
        let mut map = self.lock();
        let q = map.entry(customer.to_string()).or_default();
        self.prune(q, now);
        if q.len() as u32 >= self.limit {
            let oldest = q.front().copied().unwrap_or(now);
            let wait = (oldest + self.window).saturating_duration_since(now);
            return Err(BudgetExceeded {
                limit: self.limit,
                window: self.window,
                wait,
            });
        }
        q.push_back(now);
        Ok(self.limit - q.len() as u32)
    }

    fn prune(&self, q: &mut VecDeque<Instant>, now: Instant) {
        while q.front().is_some_and(|t| *t + self.window <= now) {
            q.pop_front();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, VecDeque<Instant>>> {
        // A poisoned lock only means another thread panicked mid-count; the
        // counts are still usable.
        self.calls.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;
    use chrono::{TimeDelta, TimeZone, Utc};

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn refuses_the_101st_call_and_names_the_wait() {
        let b = CallBudget::new();
        let t0 = Instant::now();
        for i in 0..100 {
            let left = b.try_acquire_at("u1", t0 + secs(i)).unwrap();
            assert_eq!(left, 99 - i as u32);
        }
        let now = t0 + secs(100);
        let e = b.try_acquire_at("u1", now).unwrap_err();
        assert_eq!(e.wait, Duration::from_secs(200));
        assert!(e.to_string().contains("refused locally"), "{e}");
        assert_eq!(b.remaining_at("u1", now), 0);
        // Another customer has their own budget.
        assert_eq!(b.remaining_at("u2", now), 100);
        assert!(b.try_acquire_at("u2", now).is_ok());
    }

    #[test]
    fn window_slides() {
        let b = CallBudget::with_limit(3, Duration::from_secs(300));
        let t0 = Instant::now();
        b.try_acquire_at("u", t0).unwrap();
        b.try_acquire_at("u", t0 + secs(60)).unwrap();
        b.try_acquire_at("u", t0 + secs(120)).unwrap();
        assert!(b.try_acquire_at("u", t0 + secs(299)).is_err());
        // The first call leaves the window at exactly +300 s.
        assert_eq!(b.remaining_at("u", t0 + secs(300)), 1);
        assert!(b.try_acquire_at("u", t0 + secs(300)).is_ok());
        assert_eq!(b.remaining_at("u", t0 + secs(1000)), 3);
    }

    /// Issue 14 point 8: the program's clock pinned (`--now`) or jumping
    /// (the wall clock set back or forward) neither keeps the budget spent
    /// for the length of the jump nor frees it early.
    #[test]
    fn a_pinned_or_jumping_clock_does_not_move_the_window() {
        let t0 = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        let clock = Clock::settable(t0);
        let b = CallBudget::with_limit(2, Duration::from_millis(300));
        b.try_acquire("u").unwrap();
        b.try_acquire("u").unwrap();
        // The clock jumps forward an hour: the calls just made still count.
        clock.set(t0 + TimeDelta::hours(1));
        assert!(
            b.try_acquire("u").is_err(),
            "a forward jump freed the budget"
        );
        // ... and back an hour before them: once the real window passed,
        // the budget is back, not held for the hour of the jump.
        clock.set(t0 - TimeDelta::hours(1));
        std::thread::sleep(Duration::from_millis(350));
        assert_eq!(b.remaining("u"), 2);
        assert!(b.try_acquire("u").is_ok());
    }
}
