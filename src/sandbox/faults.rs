//! Fault injection per route, for the write-safety tests and for QA.
//!
//! Grammar of a spec (CLI `--fault SPEC`, or the control endpoint):
//!
//! ```text
//! SPEC    = ROUTE ":" ITEM ("," ITEM)*
//! ROUTE   = "*" | token | renew | publisherQuery | licensePreview | consume | orders
//!         | recurrences | recurrenceChange | grant | sastoken | queue | offers
//! ITEM    = ACTION | "times=" N | "retry-after=" (SECS | "none")
//! ACTION  = "latency=" DUR          (DUR: 250ms, 2s, or plain milliseconds)
//!         | "status=" CODE | CODE   (400..=599; 429 and 503 carry Retry-After)
//!         | "reset"                 (connection reset before the request is applied)
//!         | "fail-after-commit"     (apply the write, then answer 500)
//!         | "hang-after-commit"     (apply the write, then never answer)
//!         | "reset-after-commit"    (apply the write, then reset the connection;
//!                                    alias "drop-after-commit")
//!         | "empty-200"             (answer 200 `{}` without applying)
//!         | "error-200"             (answer 200 with an error body, without applying)
//!         | "other-200"             (apply the write, then answer 200 with another
//!                                    write's ids: trackingId / orderId / id)
//! ```
//!
//! `times` defaults to unlimited for `latency` and to 1 for everything else,
//! so `consume:drop-after-commit` breaks exactly one consume and the replay
//! goes through. `retry-after` defaults to 1 second; `retry-after=none`
//! sends a 429 with no Retry-After at all (what the docs' "information
//! about when the next request can be made" may well be).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

/// Route names faults can target (matched case-insensitively).
pub const ROUTES: &[&str] = &[
    "token",
    "renew",
    "publisherQuery",
    "licensePreview",
    "consume",
    "orders",
    "recurrences",
    "recurrenceChange",
    "grant",
    "sastoken",
    "queue",
    "offers",
    "displayCatalog",
];

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum FaultAction {
    Latency {
        ms: u64,
    },
    Status {
        status: u16,
        retry_after: Option<u64>,
    },
    Reset,
    FailAfterCommit,
    HangAfterCommit,
    ResetAfterCommit,
    /// 200 with `{}`: a proxy or a broken front answering for the Store.
    Empty200,
    /// 200 with the Store's error body shape.
    Error200,
    /// Applied, but the 200 names another write (another trackingId,
    /// orderId or recurrence id).
    Other200,
}

/// The most faults the table holds at once (POST _sandbox/faults).
pub const MAX_FAULTS: usize = 256;
/// The longest latency one fault adds (10 minutes).
pub const MAX_LATENCY_MS: u64 = 600_000;

/// One injected fault.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultSpec {
    /// A name from [`ROUTES`] or `*`.
    pub route: String,
    pub action: FaultAction,
    /// How many requests it hits; `None` = unlimited.
    pub times: Option<u32>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("bad fault spec {spec:?}: {reason}")]
pub struct FaultParseError {
    pub spec: String,
    pub reason: String,
}

impl std::str::FromStr for FaultSpec {
    type Err = FaultParseError;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let err = |reason: String| FaultParseError {
            spec: spec.to_owned(),
            reason,
        };
        let (route, rest) = spec
            .split_once(':')
            .ok_or_else(|| err("expected ROUTE:ACTION, e.g. consume:500".into()))?;
        let route = route.trim();
        let route = if route == "*" {
            "*".to_owned()
        } else {
            canonical_route(route).ok_or_else(|| {
                err(format!(
                    "unknown route {route:?} (known: *, {})",
                    ROUTES.join(", ")
                ))
            })?
        };
        let mut action = None;
        let mut times = None;
        let mut retry_after = None;
        let mut no_retry_after = false;
        for item in rest.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (k, v) = match item.split_once('=') {
                Some((k, v)) => (k.trim().to_ascii_lowercase(), Some(v.trim())),
                None => (item.to_ascii_lowercase(), None),
            };
            let parsed = match (k.as_str(), v) {
                ("times", Some(v)) => {
                    times = Some(
                        v.parse::<u32>()
                            .map_err(|_| err(format!("times={v} is not a count")))?,
                    );
                    continue;
                }
                ("retry-after", Some(v)) if v.eq_ignore_ascii_case("none") => {
                    no_retry_after = true;
                    continue;
                }
                ("retry-after", Some(v)) => {
                    retry_after = Some(
                        v.parse::<u64>()
                            .map_err(|_| err(format!("retry-after={v} is not seconds")))?,
                    );
                    continue;
                }
                ("latency", Some(v)) => FaultAction::Latency {
                    ms: parse_ms(v)
                        .ok_or_else(|| err(format!("latency={v}: use 250ms or 2s")))
                        .and_then(|ms| {
                            (ms <= MAX_LATENCY_MS).then_some(ms).ok_or_else(|| {
                                err(format!("latency={v}: at most {MAX_LATENCY_MS} ms"))
                            })
                        })?,
                },
                ("status", Some(v)) => FaultAction::Status {
                    status: parse_status(v)
                        .ok_or_else(|| err(format!("status={v}: use 400..=599")))?,
                    retry_after: None,
                },
                ("reset", None) => FaultAction::Reset,
                ("fail-after-commit", None) => FaultAction::FailAfterCommit,
                ("hang-after-commit", None) => FaultAction::HangAfterCommit,
                ("reset-after-commit" | "drop-after-commit", None) => FaultAction::ResetAfterCommit,
                ("empty-200", None) => FaultAction::Empty200,
                ("error-200", None) => FaultAction::Error200,
                ("other-200", None) => FaultAction::Other200,
                (code, None) if parse_status(code).is_some() => FaultAction::Status {
                    status: parse_status(code).unwrap_or(500),
                    retry_after: None,
                },
                _ => return Err(err(format!("unknown item {item:?}"))),
            };
            if action.replace(parsed).is_some() {
                return Err(err("more than one action".into()));
            }
        }
        let mut action =
            action.ok_or_else(|| err("no action (latency=, status=, reset, …)".into()))?;
        if let FaultAction::Status {
            status,
            retry_after: ra,
        } = &mut action
        {
            if no_retry_after {
                *ra = None;
            } else if matches!(status, 429 | 503) {
                *ra = Some(retry_after.unwrap_or(1));
            } else if retry_after.is_some() {
                *ra = retry_after;
            }
        }
        if times.is_none() && !matches!(action, FaultAction::Latency { .. }) {
            times = Some(1);
        }
        Ok(Self {
            route,
            action,
            times,
        })
    }
}

impl fmt::Display for FaultSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.route)?;
        match &self.action {
            FaultAction::Latency { ms } => write!(f, "latency={ms}ms")?,
            FaultAction::Status {
                status,
                retry_after,
            } => {
                write!(f, "status={status}")?;
                match retry_after {
                    Some(s) => write!(f, ",retry-after={s}")?,
                    None if matches!(status, 429 | 503) => f.write_str(",retry-after=none")?,
                    None => {}
                }
            }
            FaultAction::Reset => f.write_str("reset")?,
            FaultAction::FailAfterCommit => f.write_str("fail-after-commit")?,
            FaultAction::HangAfterCommit => f.write_str("hang-after-commit")?,
            FaultAction::ResetAfterCommit => f.write_str("reset-after-commit")?,
            FaultAction::Empty200 => f.write_str("empty-200")?,
            FaultAction::Error200 => f.write_str("error-200")?,
            FaultAction::Other200 => f.write_str("other-200")?,
        }
        if let Some(t) = self.times {
            write!(f, ",times={t}")?;
        }
        Ok(())
    }
}

fn canonical_route(r: &str) -> Option<String> {
    let lower = r.to_ascii_lowercase();
    let alias = match lower.as_str() {
        "b2blicensepreview" | "v8query" => "licensePreview",
        "publisherquery" | "v9query" | "query" => "publisherQuery",
        "change" | "recurrencechange" => "recurrenceChange",
        "clawback" | "sas" => "sastoken",
        "targetedoffers" => "offers",
        _ => "",
    };
    if !alias.is_empty() {
        return Some(alias.into());
    }
    ROUTES
        .iter()
        .find(|k| k.eq_ignore_ascii_case(r))
        .map(|k| (*k).to_owned())
}

fn parse_ms(v: &str) -> Option<u64> {
    let v = v.trim();
    if let Some(n) = v.strip_suffix("ms") {
        return n.trim().parse().ok();
    }
    if let Some(n) = v.strip_suffix('s') {
        return n.trim().parse::<u64>().ok()?.checked_mul(1000);
    }
    v.parse().ok()
}

fn parse_status(v: &str) -> Option<u16> {
    v.parse::<u16>().ok().filter(|s| (400..=599).contains(s))
}

/// What to do to one request.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub latency: Duration,
    pub action: Option<FaultAction>,
}

/// The live fault table.
#[derive(Default)]
pub struct Faults {
    list: Mutex<Vec<FaultSpec>>,
}

impl Faults {
    pub fn new(specs: Vec<FaultSpec>) -> Self {
        Self {
            list: Mutex::new(specs),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<FaultSpec>> {
        self.list.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn add(&self, spec: FaultSpec) {
        self.lock().push(spec);
    }

    /// Add faults unless the table would hold more than [`MAX_FAULTS`]:
    /// a control client cannot grow it without bound.
    pub fn add_bounded(&self, specs: Vec<FaultSpec>) -> Result<(), String> {
        let mut list = self.lock();
        if list.len().saturating_add(specs.len()) > MAX_FAULTS {
            return Err(format!(
                "the fault table holds at most {MAX_FAULTS} faults ({} now); DELETE _sandbox/faults clears it",
                list.len()
            ));
        }
        list.extend(specs);
        Ok(())
    }

    pub fn clear(&self) {
        self.lock().clear();
    }

    pub fn list(&self) -> Vec<FaultSpec> {
        self.lock().clone()
    }

    /// Use up the faults that hit one request to `route`: all latencies add
    /// up; the first other action wins.
    pub fn take(&self, route: &str) -> Plan {
        let mut list = self.lock();
        let mut plan = Plan::default();
        for f in list.iter_mut() {
            if f.route != "*" && f.route != route {
                continue;
            }
            let hit = match &f.action {
                FaultAction::Latency { ms } => {
                    // Many posted faults must not overflow the sum.
                    plan.latency = plan.latency.saturating_add(Duration::from_millis(*ms));
                    true
                }
                other if plan.action.is_none() => {
                    plan.action = Some(other.clone());
                    true
                }
                _ => false,
            };
            if hit && let Some(t) = &mut f.times {
                *t = t.saturating_sub(1);
            }
        }
        list.retain(|f| f.times != Some(0));
        plan
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> FaultSpec {
        s.parse().unwrap()
    }

    #[test]
    fn grammar_examples_from_the_help() {
        assert_eq!(
            p("consume:drop-after-commit").action,
            FaultAction::ResetAfterCommit
        );
        assert_eq!(p("consume:drop-after-commit").times, Some(1));
        let s = p("publisherQuery:status=503,times=2");
        assert_eq!(
            s.action,
            FaultAction::Status {
                status: 503,
                retry_after: Some(1)
            }
        );
        assert_eq!(s.times, Some(2));
        let l = p("*:latency=200ms");
        assert_eq!((l.route.as_str(), l.times), ("*", None));
        assert_eq!(l.action, FaultAction::Latency { ms: 200 });
        // A 429 with no Retry-After at all, and back through Display.
        let bare = p("publisherQuery:429,retry-after=none");
        assert_eq!(
            bare.action,
            FaultAction::Status {
                status: 429,
                retry_after: None
            }
        );
        assert_eq!(p(&bare.to_string()), bare);
        assert_eq!(
            p("orders:429,retry-after=3").action,
            FaultAction::Status {
                status: 429,
                retry_after: Some(3)
            }
        );
        assert_eq!(p("grant:reset").action, FaultAction::Reset);
        for (spec, action) in [
            ("consume:empty-200", FaultAction::Empty200),
            ("consume:error-200", FaultAction::Error200),
            ("grant:other-200", FaultAction::Other200),
        ] {
            assert_eq!(p(spec).action, action);
            assert_eq!(p(spec).times, Some(1));
            assert_eq!(p(&p(spec).to_string()), p(spec), "round trip");
        }
        assert_eq!(p("B2BLICENSEPREVIEW:500").route, "licensePreview");
        for s in [
            "consume:reset,times=3",
            "*:latency=2000ms",
            "orders:status=429,retry-after=3,times=1",
        ] {
            assert_eq!(p(&p(s).to_string()), p(s), "{s}");
        }
    }

    #[test]
    fn bad_specs_say_why() {
        for (s, why) in [
            ("consume", "ROUTE:ACTION"),
            ("nope:500", "unknown route"),
            ("consume:700", "unknown item"),
            ("consume:latency=fast", "latency"),
            ("consume:500,reset", "more than one"),
            ("consume:times=2", "no action"),
        ] {
            let e = s.parse::<FaultSpec>().unwrap_err().to_string();
            assert!(e.contains(why), "{s}: {e}");
        }
    }

    /// Latencies that sum past `Duration::MAX` saturate instead of
    /// panicking the handler (the parser bounds one fault; `Faults::new`
    /// takes specs as they are).
    #[test]
    fn latency_sum_never_overflows_and_the_table_is_bounded() {
        let huge = FaultSpec {
            route: "*".into(),
            action: FaultAction::Latency { ms: u64::MAX },
            times: None,
        };
        let f = Faults::new(vec![huge.clone(); 3]);
        // Summed without overflow (today's `+=` panicked here).
        assert!(f.take("consume").latency >= Duration::from_millis(u64::MAX));
        assert!(
            "*:latency=18446744073709551615ms"
                .parse::<FaultSpec>()
                .is_err()
        );
        assert!("*:latency=600s".parse::<FaultSpec>().is_ok());
        let f = Faults::new(vec![]);
        assert!(f.add_bounded(vec![huge.clone(); MAX_FAULTS]).is_ok());
        let e = f.add_bounded(vec![huge]).unwrap_err();
        assert!(e.contains("at most 256"), "{e}");
        assert_eq!(f.list().len(), MAX_FAULTS);
    }

    #[test]
    fn counts_run_out_and_latency_stacks() {
        let f = Faults::new(vec![
            p("consume:500,times=2"),
            p("*:latency=5ms"),
            p("grant:reset"),
        ]);
        let a = f.take("consume");
        assert_eq!(a.latency, Duration::from_millis(5));
        assert!(matches!(
            a.action,
            Some(FaultAction::Status { status: 500, .. })
        ));
        assert!(f.take("consume").action.is_some());
        assert_eq!(f.take("consume").action, None);
        assert_eq!(f.take("grant").action, Some(FaultAction::Reset));
        assert_eq!(f.take("grant").action, None);
        assert_eq!(f.list().len(), 1);
    }
}
