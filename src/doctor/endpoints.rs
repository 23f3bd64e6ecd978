//! Endpoints: each service's host resolves, accepts a TCP connection and
//! answers HTTP(S), with times. Their `Date` headers feed the clock check.

use super::{CheckResult, State, Status, Timeouts, skip};
use crate::clock::Clock;
use crate::config::Profile;
use chrono::{DateTime, TimeDelta, Utc};
use std::time::{Duration, Instant};

const G: &str = "endpoints";

/// Skew above which the clock check warns, and fails.
pub const SKEW_WARN: Duration = Duration::from_secs(120);
pub const SKEW_FAIL: Duration = Duration::from_secs(300);

struct Probe {
    name: &'static str,
    field: String,
    url: String,
}

/// What one probe got to.
struct Outcome {
    result: CheckResult,
    date: Option<(DateTime<Utc>, DateTime<Utc>)>,
    ok: bool,
}

pub(super) async fn check(clock: &Clock, t: &Timeouts, st: &mut State) -> Vec<CheckResult> {
    let endpoints = match (&st.client, &st.profile) {
        (Some(c), _) => c.endpoints().clone(),
        (None, Some(p)) if !p.embedded => p.endpoints(None),
        _ => return vec![skip(G, "all", "no profile to take the URLs from")],
    };
    let field = |f: &str| -> String {
        match st
            .profile
            .as_ref()
            .and_then(|p: &Profile| p.sandbox_url.as_ref())
        {
            Some(_) => "sandbox_url".into(),
            None if st.profile.as_ref().is_some_and(|p| p.embedded) => {
                "the embedded sandbox".into()
            }
            None => f.into(),
        }
    };
    let probes = [
        Probe {
            name: "login",
            field: field("login_url"),
            url: endpoints.login.clone(),
        },
        Probe {
            name: "collections",
            field: field("collections_url"),
            url: endpoints.collections.clone(),
        },
        Probe {
            name: "purchase",
            field: field("purchase_url"),
            url: endpoints.purchase.clone(),
        },
        Probe {
            name: "devcenter",
            field: field("devcenter_url"),
            url: endpoints.devcenter.clone(),
        },
    ];
    let http = match probe_client(t.probe) {
        Ok(h) => h,
        Err(e) => {
            return vec![
                CheckResult::new(
                    G,
                    "all",
                    Status::Fail,
                    format!("cannot build an HTTP client: {e}"),
                )
                .fix("The TLS set-up failed: reinstall storedesk or report the message."),
            ];
        }
    };
    // All at once: a dead endpoint costs its own time limit, not everyone's.
    let outcomes =
        futures_util::future::join_all(probes.iter().map(|p| probe(p, &http, clock, t.probe)))
            .await;
    let mut out = Vec::new();
    for (p, o) in probes.iter().zip(outcomes) {
        if let Some((server, local)) = o.date {
            st.dates.push((p.name.to_string(), server, local));
        }
        if o.ok {
            st.reachable.push(p.name);
        }
        out.push(o.result);
    }
    out
}

/// The plain HTTP client of the probes: no redirects, no credentials.
fn probe_client(limit: Duration) -> reqwest::Result<reqwest::Client> {
    crate::store::proxy::configure(reqwest::Client::builder())
        .redirect(reqwest::redirect::Policy::none())
        .timeout(limit)
        .user_agent(concat!("storedesk-doctor/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// The clawback queue's host, probed like the other endpoints (DNS, TCP,
/// TLS/HTTP with times). Its URL only comes with the SAS token, so the
/// clawbacks group calls this; the probe gets the origin alone — the SAS
/// signature in the query never reaches a request or a message.
pub(super) async fn queue_probe(sas_uri: &str, clock: &Clock, limit: Duration) -> CheckResult {
    let origin = match reqwest::Url::parse(sas_uri) {
        Ok(u) => u.origin().ascii_serialization(),
        Err(_) => String::from("(the SAS URI is not a URL)"),
    };
    let p = Probe {
        name: "queue",
        field: "the queue URI the purchase service returned".into(),
        url: origin,
    };
    let mut r = match probe_client(limit) {
        Ok(http) => probe(&p, &http, clock, limit).await.result,
        Err(e) => CheckResult::new(
            G,
            "queue",
            Status::Fail,
            format!("cannot build an HTTP client: {e}"),
        ),
    };
    r.group = super::clawbacks::GROUP;
    r.name = "queue reachable".into();
    r
}

async fn probe(p: &Probe, http: &reqwest::Client, clock: &Clock, limit: Duration) -> Outcome {
    let started = Instant::now();
    let fail = |measured: String, fix: String| Outcome {
        result: CheckResult::new(G, p.name, Status::Fail, measured)
            .fix(fix)
            .took(started),
        date: None,
        ok: false,
    };
    let Ok(url) = reqwest::Url::parse(&p.url) else {
        return fail(
            format!("{:?} is not a URL", p.url),
            format!("Set {} to an https:// URL.", p.field),
        );
    };
    let (Some(host), Some(port)) = (
        url.host_str().map(str::to_string),
        url.port_or_known_default(),
    ) else {
        return fail(
            format!("{} has no host", p.url),
            format!("Set {} to an https:// URL with a host.", p.field),
        );
    };
    let mut steps = Vec::new();
    let t0 = Instant::now();
    let host_only = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let addrs = match tokio::time::timeout(
        limit,
        tokio::net::lookup_host((host_only.as_str(), port)),
    )
    .await
    {
        Ok(Ok(a)) => a.collect::<Vec<_>>(),
        Ok(Err(e)) => {
            return fail(
                format!(
                    "{host}: DNS failed after {} ms: {e}",
                    t0.elapsed().as_millis()
                ),
                format!(
                    "The host name does not resolve: check the spelling of {} and this machine's DNS.",
                    p.field
                ),
            );
        }
        Err(_) => {
            return fail(
                format!("{host}: DNS gave no answer within {} s", limit.as_secs()),
                "DNS hangs: check this machine's resolver (and VPN).".into(),
            );
        }
    };
    let Some(addr) = addrs.first().copied() else {
        return fail(
            format!("{host}: DNS returned no address"),
            format!("Check the host name in {}.", p.field),
        );
    };
    steps.push(format!("dns {} ms", t0.elapsed().as_millis()));
    let left = limit.saturating_sub(started.elapsed());
    let t1 = Instant::now();
    match tokio::time::timeout(left, tokio::net::TcpStream::connect(addr)).await {
        Ok(Ok(_)) => steps.push(format!("tcp {} ms", t1.elapsed().as_millis())),
        Ok(Err(e)) => {
            return fail(
                format!(
                    "{addr}: TCP failed after {} ms: {e}",
                    t1.elapsed().as_millis()
                ),
                format!(
                    "Nothing accepts connections at {host}:{port}: check {} (scheme, host, port) and that the service is up{}.",
                    p.field,
                    if host_only.starts_with("127.") || host_only == "localhost" {
                        " (a `storedesk sandbox` must be running there)"
                    } else {
                        "; a firewall or proxy may block it"
                    }
                ),
            );
        }
        Err(_) => {
            return fail(
                format!("{addr}: no TCP answer within {} s", left.as_secs()),
                format!(
                    "The connection hangs: a firewall drops it, or {} names the wrong host.",
                    p.field
                ),
            );
        }
    }
    let https = url.scheme() == "https";
    let t2 = Instant::now();
    match http.get(url.clone()).send().await {
        Ok(resp) => {
            let local = clock.now();
            steps.push(format!(
                "{} {} in {} ms",
                if https { "tls+https" } else { "http" },
                resp.status().as_u16(),
                t2.elapsed().as_millis()
            ));
            let date = resp
                .headers()
                .get(reqwest::header::DATE)
                .and_then(|v| v.to_str().ok())
                .and_then(|s| DateTime::parse_from_rfc2822(s).ok())
                .map(|d| (d.with_timezone(&Utc), local));
            Outcome {
                result: CheckResult::new(
                    G,
                    p.name,
                    Status::Pass,
                    format!("{host}:{port} {}", steps.join(" · ")),
                )
                .took(started),
                date,
                ok: true,
            }
        }
        Err(e) => {
            let why = if e.is_timeout() {
                format!("no HTTP answer within {} s", limit.as_secs())
            } else {
                // reqwest errors name the URL, never credentials (none sent).
                let mut s = e.to_string();
                let mut src = std::error::Error::source(&e);
                while let Some(inner) = src {
                    s.push_str(": ");
                    s.push_str(&inner.to_string());
                    src = inner.source();
                }
                s
            };
            fail(
                format!("{host}:{port} {} · {why}", steps.join(" · ")),
                if https {
                    format!(
                        "Connected, but TLS or HTTP failed: a proxy that intercepts TLS needs its CA trusted, or {} points at something that is not the service.",
                        p.field
                    )
                } else {
                    format!(
                        "Connected, but no HTTP answer: check {} points at the service.",
                        p.field
                    )
                },
            )
        }
    }
}

/// Clock: the local clock against the servers' `Date` headers.
pub(super) fn clock_check(st: &State) -> CheckResult {
    const G: &str = "clock";
    if st.dates.is_empty() {
        return skip(G, "skew", "no server answered with a Date header");
    }
    // The largest difference seen; a Date has whole seconds, so under a
    // second and a half of difference is noise.
    let (name, skew) = st
        .dates
        .iter()
        .map(|(n, server, local)| (n.as_str(), *server - *local))
        .max_by_key(|(_, d)| d.num_milliseconds().abs())
        .unwrap_or(("", TimeDelta::zero()));
    let secs = skew.num_seconds();
    let abs = secs.unsigned_abs();
    let said = if abs <= 1 {
        "local clock agrees with the servers (within 1 s)".to_string()
    } else {
        format!(
            "local clock is {} {} the {name} server's Date",
            crate::keys::human_duration(TimeDelta::seconds(secs.abs())),
            if secs > 0 { "behind" } else { "ahead of" }
        )
    };
    let fix = "Set this machine's clock (enable NTP, e.g. `timedatectl set-ntp true`): storedesk judges key expiry and renewal by it, and Entra rejects tokens from a clock that is far off.";
    if abs > SKEW_FAIL.as_secs() {
        CheckResult::new(G, "skew", Status::Fail, said).fix(fix)
    } else if abs > SKEW_WARN.as_secs() {
        CheckResult::new(G, "skew", Status::Warn, said).fix(fix)
    } else {
        CheckResult::new(G, "skew", Status::Pass, said)
    }
}
