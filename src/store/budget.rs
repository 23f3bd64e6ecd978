//! Call budget: the Store allows 100 collection calls per customer in any
//! 5-minute window. Counting them here lets the UI show what is left and
//! refuse locally — with a clear message — rather than earn a 429.
//!
//! In one process (no data dir: tests, benches) the windows are measured
//! on the monotonic clock ([`Instant`]), never on the program's
//! [`crate::clock::Clock`]: that one may be pinned by `--now` (time would
//! never pass, and the budget would never come back) and the wall clock
//! may jump.
//!
//! With a data dir ([`CallBudget::persistent`]) the budget is the Store's,
//! not the process's: three headless runs in a row must not each believe
//! they have 100 calls. Each customer has a small file there (named by a
//! hash of the customer, never holding a key) with the times of their
//! calls in the window and, after a 429, when the Store may be asked
//! again; it is changed under an exclusive lock on a side `.lock` file and
//! replaced atomically (temporary file + rename), 0600. Processes share no
//! monotonic clock, so those times are the real wall clock (never the
//! pinned one); a time in the future (the clock was set back) counts as
//! "now", so it still leaves the window after one window.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub const DEFAULT_LIMIT: u32 = 100;
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(300);

/// Refused: the customer already made `limit` calls in the window, or the
/// Store said 429 and the time it gave (or its window) has not passed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct BudgetExceeded {
    pub limit: u32,
    pub window: Duration,
    /// Until the oldest call in the window drops out (or the 429's wait ends).
    pub wait: Duration,
    /// The Store itself answered 429 (rather than the local count).
    pub store_said_429: bool,
}

impl BudgetExceeded {
    fn describe(&self) -> String {
        let wait = self.wait.as_secs().max(1);
        if self.store_said_429 {
            format!(
                "the Store answered 429 (rate limited) for this customer and its {}-minute window is shared with the publisher's own services — refused locally; the next call is possible in {wait} s",
                self.window.as_secs() / 60
            )
        } else {
            format!(
                "{} collection calls for this customer in the last {} minutes — refused locally; the next call is possible in {wait} s",
                self.limit,
                self.window.as_secs() / 60
            )
        }
    }
}

pub struct CallBudget {
    limit: u32,
    window: Duration,
    calls: Mutex<HashMap<String, VecDeque<Instant>>>,
    /// In-process: until when the Store's 429 holds, per customer.
    blocked: Mutex<HashMap<String, Instant>>,
    /// Kept across processes here (`<data dir>/budget`), if set.
    dir: Option<PathBuf>,
}

impl std::fmt::Debug for CallBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallBudget")
            .field("limit", &self.limit)
            .field("window", &self.window)
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl Default for CallBudget {
    fn default() -> Self {
        Self::new()
    }
}

/// One customer's file: wall-clock milliseconds since the epoch.
#[derive(Default, serde::Serialize, serde::Deserialize)]
struct Saved {
    #[serde(default)]
    calls: Vec<u64>,
    /// A 429 said not before this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    blocked_until: Option<u64>,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
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
            blocked: Mutex::new(HashMap::new()),
            dir: None,
        }
    }

    /// The budget kept in `dir` (created 0700 if missing), shared by every
    /// process using that dir.
    pub fn persistent(dir: PathBuf) -> Self {
        Self::persistent_with_limit(dir, DEFAULT_LIMIT, DEFAULT_WINDOW)
    }

    pub fn persistent_with_limit(dir: PathBuf, limit: u32, window: Duration) -> Self {
        Self {
            dir: Some(dir),
            ..Self::with_limit(limit, window)
        }
    }

    pub fn limit(&self) -> u32 {
        self.limit
    }

    pub fn window(&self) -> Duration {
        self.window
    }

    /// Calls this customer may still make in the current window (0 while
    /// a 429 holds).
    pub fn remaining(&self, customer: &str) -> u32 {
        if let Some(dir) = &self.dir {
            match self.with_file(dir, customer, false, |s, now| {
                self.prune_saved(s, now);
                if s.blocked_until.is_some_and(|b| b > now) {
                    0
                } else {
                    self.limit.saturating_sub(s.calls.len() as u32)
                }
            }) {
                Ok(n) => return n,
                Err(e) => {
                    tracing::warn!(error = %e, "call budget file unreadable; counting in memory")
                }
            }
        }
        if self.blocked_for(customer, Instant::now()).is_some() {
            return 0;
        }
        self.remaining_at(customer, Instant::now())
    }

    /// Count one call, or refuse it if it would exceed the limit.
    pub fn try_acquire(&self, customer: &str) -> Result<u32, BudgetExceeded> {
        if let Some(dir) = &self.dir {
            match self.with_file(dir, customer, true, |s, now| self.acquire_saved(s, now)) {
                Ok(r) => return r,
                Err(e) => {
                    tracing::warn!(error = %e, "call budget file unusable; counting in memory")
                }
            }
        }
        if let Some(wait) = self.blocked_for(customer, Instant::now()) {
            return Err(self.exceeded(wait, true));
        }
        self.try_acquire_at(customer, Instant::now())
    }

    /// The Store answered 429: no call for this customer for `wait` (the
    /// Retry-After it gave, or a whole window when it gave none), in this
    /// process and — with a data dir — in every other.
    pub fn hold_off(&self, customer: &str, wait: Duration) {
        let until = Instant::now() + wait;
        self.lock_blocked().insert(customer.to_string(), until);
        if let Some(dir) = &self.dir {
            let r = self.with_file(dir, customer, true, |s, now| {
                let until = now.saturating_add(wait.as_millis() as u64);
                s.blocked_until = Some(s.blocked_until.unwrap_or(0).max(until));
            });
            if let Err(e) = r {
                tracing::warn!(error = %e, "call budget file unusable; the 429 is kept in memory");
            }
        }
    }

    fn blocked_for(&self, customer: &str, now: Instant) -> Option<Duration> {
        let mut b = self.lock_blocked();
        match b.get(customer) {
            Some(until) if *until > now => Some(*until - now),
            Some(_) => {
                b.remove(customer);
                None
            }
            None => None,
        }
    }

    fn exceeded(&self, wait: Duration, store_said_429: bool) -> BudgetExceeded {
        BudgetExceeded {
            limit: self.limit,
            window: self.window,
            wait,
            store_said_429,
        }
    }

    fn window_ms(&self) -> u64 {
        self.window.as_millis() as u64
    }

    fn prune_saved(&self, s: &mut Saved, now: u64) {
        for t in &mut s.calls {
            // The clock was set back: the call counts as made now.
            *t = (*t).min(now);
        }
        let w = self.window_ms();
        s.calls.retain(|t| t + w > now);
        s.calls.sort_unstable();
        // A hostile or corrupt file cannot make the list grow without bound.
        let keep = self.limit as usize;
        if s.calls.len() > keep {
            s.calls.drain(..s.calls.len() - keep);
        }
        if let Some(b) = s.blocked_until {
            // Never longer than a day, whatever the file says.
            let b = b.min(now.saturating_add(86_400_000));
            s.blocked_until = (b > now).then_some(b);
        }
    }

    fn acquire_saved(&self, s: &mut Saved, now: u64) -> Result<u32, BudgetExceeded> {
        self.prune_saved(s, now);
        if let Some(b) = s.blocked_until {
            return Err(self.exceeded(Duration::from_millis(b - now), true));
        }
        if s.calls.len() as u32 >= self.limit {
            let oldest = s.calls.first().copied().unwrap_or(now);
            let wait = (oldest + self.window_ms()).saturating_sub(now);
            return Err(self.exceeded(Duration::from_millis(wait), false));
        }
        s.calls.push(now);
        Ok(self.limit - s.calls.len() as u32)
    }

    /// Run `f` on the customer's saved state under the lock; `write` saves
    /// what it leaves (atomically).
    fn with_file<T>(
        &self,
        dir: &Path,
        customer: &str,
        write: bool,
        f: impl FnOnce(&mut Saved, u64) -> T,
    ) -> std::io::Result<T> {
        create_private_dir(dir)?;
        let name = file_name(customer);
        let lock = open_private(&dir.join(format!("{name}.lock")))?;
        lock.lock()?;
        let path = dir.join(format!("{name}.json"));
        // An unreadable or foreign file is an empty budget, rewritten.
        let mut saved: Saved = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        let out = f(&mut saved, now_ms());
        if write {
            let text = serde_json::to_vec(&saved).map_err(std::io::Error::other)?;
            let tmp = dir.join(format!("{name}.json.{}.tmp", std::process::id()));
            write_private(&tmp, &text)?;
            std::fs::rename(&tmp, &path)?;
        }
        drop(lock);
        Ok(out)
    }

    /// `remaining` at an explicit monotonic instant (tests move time by
    /// hand); in-process counts only.
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
    /// after it. In-process counts only.
    pub fn try_acquire_at(&self, customer: &str, now: Instant) -> Result<u32, BudgetExceeded> {
        let mut map = self.lock();
        let q = map.entry(customer.to_string()).or_default();
        self.prune(q, now);
        if q.len() as u32 >= self.limit {
            let oldest = q.front().copied().unwrap_or(now);
            let wait = (oldest + self.window).saturating_duration_since(now);
            return Err(self.exceeded(wait, false));
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

    fn lock_blocked(&self) -> std::sync::MutexGuard<'_, HashMap<String, Instant>> {
        self.blocked.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The customer's file name: 16 hex of SHA-256 — the customer (a userId or
/// a key's fingerprint) never appears in the data dir.
fn file_name(customer: &str) -> String {
    use sha2::Digest as _;
    let d = sha2::Sha256::digest(customer.as_bytes());
    d.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        b.mode(0o700);
    }
    b.create(dir)
}

fn private_options() -> std::fs::OpenOptions {
    let mut o = std::fs::OpenOptions::new();
    o.read(true).write(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        o.mode(0o600);
    }
    o
}

fn open_private(path: &Path) -> std::io::Result<std::fs::File> {
    private_options().truncate(false).open(path)
}

/// A whole file only its owner can read (0600), flushed to disk: the
/// temporary half of an atomic replace (the caller renames it).
pub(super) fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut t = private_options().truncate(true).open(path)?;
    t.write_all(bytes)?;
    t.sync_all()
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

    /// A corrupt file is an empty budget; one from a hostile or confused
    /// writer (calls far in the future, a 429 hold of years) is bounded:
    /// at most `limit` calls, each no later than now, a hold of at most a day.
    #[test]
    fn a_saved_budget_is_bounded_whatever_the_file_says() {
        let dir = tempfile::tempdir().unwrap();
        let b = CallBudget::persistent_with_limit(dir.path().to_path_buf(), 3, secs(300));
        b.try_acquire("u").unwrap();
        let file = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|x| x == "json"))
            .unwrap();
        std::fs::write(&file, "{not json").unwrap();
        assert_eq!(b.remaining("u"), 3);
        let far = now_ms() + 10 * 365 * 86_400_000;
        let calls: Vec<u64> = (0..1000).map(|i| far + i).collect();
        let text = serde_json::json!({ "calls": calls, "blocked_until": far }).to_string();
        std::fs::write(&file, text).unwrap();
        let e = b.try_acquire("u").unwrap_err();
        assert!(e.store_said_429 && e.wait <= secs(86_400), "{e:?}");
        let saved: Saved = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        assert!(saved.calls.len() <= 3);
        assert!(saved.calls.iter().all(|t| *t <= now_ms()));
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
