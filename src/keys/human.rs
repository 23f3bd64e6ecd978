//! Durations for people: two units at most, because "12 d 3 h" is what an
//! agent needs, not seconds.

use chrono::{DateTime, Duration, Utc};

/// "12 d 3 h", "3 h 12 min", "12 min 5 s", "45 s". The sign is ignored;
/// use [`relative`] for "in …" / "… ago".
pub fn human_duration(d: Duration) -> String {
    // Seconds of any DateTime difference fit in i64; abs of i64::MIN cannot
    // occur for chrono durations (their range is ±i64::MAX ms).
    let secs = d.num_seconds().unsigned_abs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (hours, rem) = (rem / 3_600, rem % 3_600);
    let (mins, s) = (rem / 60, rem % 60);
    if days > 0 {
        if hours > 0 {
            format!("{days} d {hours} h")
        } else {
            format!("{days} d")
        }
    } else if hours > 0 {
        if mins > 0 {
            format!("{hours} h {mins} min")
        } else {
            format!("{hours} h")
        }
    } else if mins > 0 {
        if s > 0 {
            format!("{mins} min {s} s")
        } else {
            format!("{mins} min")
        }
    } else {
        format!("{s} s")
    }
}

/// "in 12 d 3 h", "2 d 1 h ago", or "now" (within a second).
pub fn relative(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let d = t.signed_duration_since(now);
    if d.num_seconds() == 0 {
        "now".to_string()
    } else if d > Duration::zero() {
        format!("in {}", human_duration(d))
    } else {
        format!("{} ago", human_duration(d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_units_at_most() {
        assert_eq!(human_duration(Duration::seconds(45)), "45 s");
        assert_eq!(human_duration(Duration::seconds(0)), "0 s");
        assert_eq!(human_duration(Duration::seconds(12 * 60 + 5)), "12 min 5 s");
        assert_eq!(human_duration(Duration::minutes(12)), "12 min");
        assert_eq!(human_duration(Duration::minutes(3 * 60 + 12)), "3 h 12 min");
        assert_eq!(human_duration(Duration::hours(12 * 24 + 3)), "12 d 3 h");
        assert_eq!(human_duration(Duration::days(30)), "30 d");
        assert_eq!(human_duration(Duration::hours(-(2 * 24 + 1))), "2 d 1 h");
    }

    #[test]
    fn relative_says_direction() {
        let now = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        assert_eq!(
            relative(now + Duration::hours(12 * 24 + 3), now),
            "in 12 d 3 h"
        );
        assert_eq!(
            relative(now - Duration::hours(2 * 24 + 1), now),
            "2 d 1 h ago"
        );
        assert_eq!(relative(now, now), "now");
    }

    #[test]
    fn extreme_durations_do_not_panic() {
        let _ = human_duration(Duration::MAX);
        let _ = human_duration(Duration::MIN);
    }
}
