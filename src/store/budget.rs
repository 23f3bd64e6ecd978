//! Call budget: the Store allows 100 collection calls per customer in any
//! 5-minute window. Counting them here lets the UI show what is left and
//! refuse locally — with a clear message — rather than earn a 429.

use crate::clock::Clock;
use chrono::{DateTime, TimeDelta, Utc};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

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
    clock: Clock,
    limit: u32,
    window: TimeDelta,
    calls: Mutex<HashMap<String, VecDeque<DateTime<Utc>>>>,
}

impl std::fmt::Debug for CallBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallBudget")
            .field("limit", &self.limit)
            .field("window", &self.window)
            .finish_non_exhaustive()
    }
}

impl CallBudget {
    pub fn new(clock: Clock) -> Self {
        Self::with_limit(clock, DEFAULT_LIMIT, DEFAULT_WINDOW)
    }

    pub fn with_limit(clock: Clock, limit: u32, window: Duration) -> Self {
        Self {
            clock,
            limit,
            window: TimeDelta::from_std(window).unwrap_or(TimeDelta::minutes(5)),
            calls: Mutex::new(HashMap::new()),
        }
    }

    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// Calls this customer may still make in the current window.
    pub fn remaining(&self, customer: &str) -> u32 {
        self.remaining_at(customer, self.clock.now())
    }

    /// Count one call, or refuse it if it would exceed the limit.
    pub fn try_acquire(&self, customer: &str) -> Result<u32, BudgetExceeded> {
        self.try_acquire_at(customer, self.clock.now())
    }

    /// `remaining` at an explicit instant (tests move time by hand).
    pub fn remaining_at(&self, customer: &str, now: DateTime<Utc>) -> u32 {
        let mut map = self.lock();
        match map.get_mut(customer) {
            Some(q) => {
                self.prune(q, now);
                self.limit.saturating_sub(q.len() as u32)
            }
            None => self.limit,
        }
    }

    /// `try_acquire` at an explicit instant; returns what remains after it.
    pub fn try_acquire_at(
        &self,
        customer: &str,
        now: DateTime<Utc>,
    ) -> Result<u32, BudgetExceeded> {
        let mut map = self.lock();
        let q = map.entry(customer.to_string()).or_default();
        self.prune(q, now);
        if q.len() as u32 >= self.limit {
            let oldest = q.front().copied().unwrap_or(now);
            let wait = (oldest + self.window - now)
                .to_std()
                .unwrap_or(Duration::ZERO);
            return Err(BudgetExceeded {
                limit: self.limit,
                window: self.window.to_std().unwrap_or(DEFAULT_WINDOW),
                wait,
            });
        }
        q.push_back(now);
        Ok(self.limit - q.len() as u32)
    }

    fn prune(&self, q: &mut VecDeque<DateTime<Utc>>, now: DateTime<Utc>) {
        while q.front().is_some_and(|t| *t + self.window <= now) {
            q.pop_front();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, VecDeque<DateTime<Utc>>>> {
        // A poisoned lock only means another thread panicked mid-count; the
        // counts are still usable.
        self.calls.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
    }

    #[test]
    fn refuses_the_101st_call_and_names_the_wait() {
        let b = CallBudget::new(Clock::fixed(t0()));
        for i in 0..100 {
            let left = b
                .try_acquire_at("u1", t0() + TimeDelta::seconds(i))
                .unwrap();
            assert_eq!(left, 99 - i as u32);
        }
        let now = t0() + TimeDelta::seconds(100);
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
        let b = CallBudget::with_limit(Clock::fixed(t0()), 3, Duration::from_secs(300));
        b.try_acquire_at("u", t0()).unwrap();
        b.try_acquire_at("u", t0() + TimeDelta::seconds(60))
            .unwrap();
        b.try_acquire_at("u", t0() + TimeDelta::seconds(120))
            .unwrap();
        assert!(
            b.try_acquire_at("u", t0() + TimeDelta::seconds(299))
                .is_err()
        );
        // The first call leaves the window at exactly +300 s.
        assert_eq!(b.remaining_at("u", t0() + TimeDelta::seconds(300)), 1);
        assert!(
            b.try_acquire_at("u", t0() + TimeDelta::seconds(300))
                .is_ok()
        );
        assert_eq!(b.remaining_at("u", t0() + TimeDelta::seconds(1000)), 3);
    }

    #[test]
    fn remaining_uses_the_injected_clock() {
        let b = CallBudget::new(Clock::fixed(t0()));
        b.try_acquire("u").unwrap();
        assert_eq!(b.remaining("u"), 99);
    }
}
