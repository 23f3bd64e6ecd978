//! The one retry policy. Reads are retried with jittered exponential backoff
//! on connect errors, timeouts and 5xx; a 429 waits out a short
//! `Retry-After`. A 429 without one is never retried on a timer (the
//! Store's window is 5 minutes and shared with the publisher's production
//! service): the client holds the customer's budget off for the window and
//! says when to read again. Writes are never retried here: the journal
//! replays them with the same key.

use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per read call, the first included (1 = never retry).
    pub max_attempts: u32,
    /// Backoff before the second attempt; doubles per attempt.
    pub base_delay: Duration,
    /// Ceiling of one backoff step.
    pub max_delay: Duration,
    /// A 429 asking to wait longer than this is returned to the caller
    /// instead of waited out (the UI can show it and let the agent decide).
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn never() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Jittered backoff after `attempt` (1-based) failed: uniformly in
    /// [d/2, d] where d = base·2^(attempt-1) capped at max_delay, so parallel
    /// clients spread out but no wait collapses to zero.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(20);
        let d = self
            .base_delay
            .saturating_mul(1u32 << exp)
            .min(self.max_delay);
        let half = d / 2;
        let jitter_ms = half.as_millis().min(u64::MAX as u128) as u64;
        let extra = if jitter_ms == 0 {
            0
        } else {
            use rand::Rng as _;
            rand::thread_rng().gen_range(0..=jitter_ms)
        };
        half + Duration::from_millis(extra)
    }
}

/// Why the client is waiting before its next attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WaitReason {
    /// The service said 429; the UI shows a countdown.
    RateLimited,
    /// A read failed transiently (5xx, timeout, connection error).
    Backoff { attempt: u32, cause: String },
}

/// Told about every wait before it starts: `(how long, why, which call)`.
pub type WaitObserver = Arc<dyn Fn(Duration, &WaitReason, &'static str) + Send + Sync>;

/// `Retry-After` as seconds or an HTTP date.
pub fn parse_retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs.min(86_400)));
    }
    if let Ok(secs) = v.parse::<f64>()
        && secs.is_finite()
        && secs >= 0.0
    {
        return Some(Duration::from_secs_f64(secs.min(86_400.0)));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let d = at.with_timezone(&chrono::Utc) - now;
    Some(
        d.to_std()
            .unwrap_or(Duration::ZERO)
            .min(Duration::from_secs(86_400)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn backoff_grows_is_capped_and_never_zero() {
        let p = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
            ..RetryPolicy::default()
        };
        for _ in 0..50 {
            let b1 = p.backoff(1);
            assert!(b1 >= Duration::from_millis(50) && b1 <= Duration::from_millis(100));
            let b3 = p.backoff(3);
            assert!(b3 >= Duration::from_millis(200) && b3 <= Duration::from_millis(400));
            let b30 = p.backoff(30);
            assert!(b30 >= Duration::from_millis(500) && b30 <= Duration::from_millis(1000));
        }
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = chrono::Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after(" 0.5 ", now),
            Some(Duration::from_millis(500))
        );
        assert_eq!(
            parse_retry_after("Thu, 01 Jan 2026 00:00:10 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Wed, 31 Dec 2025 00:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
        assert_eq!(
            parse_retry_after("99999999999", now),
            Some(Duration::from_secs(86_400))
        );
    }
}
