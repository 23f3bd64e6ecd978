//! Clawbacks: the SAS token and its expiry, a peek at the queue (never a
//! receive: nothing is hidden or removed), its approximate length, and
//! events from other environments.

use super::{CheckResult, State, Status, Timeouts, ms, skip};
use crate::clock::Clock;
use std::time::Instant;

const G: &str = "clawbacks";
pub(super) const GROUP: &str = G;
/// The most a peek shows (Azure Storage's limit).
const PEEK: u8 = 32;

pub(super) async fn check(clock: &Clock, t: &Timeouts, st: &mut State) -> Vec<CheckResult> {
    let Some(client) = st.client.clone() else {
        return vec![skip(G, "sas token", "no client: the config check failed")];
    };
    if !st.store_token {
        return vec![skip(G, "sas token", "no store token")];
    }
    let started = Instant::now();
    let sas = match client.clawback_sas().await {
        Ok(r) => r.value,
        Err(e) => {
            return vec![CheckResult::new(G, "sas token", Status::Fail, e.to_string())
                .fix(e.hint().map(str::to_string).unwrap_or_else(|| "The purchase service refused the SAS request: check purchase_url and that clawback events are enabled for the app in Partner Center.".into()))
                .took(started)];
        }
    };
    let now = clock.now();
    let exp = sas.expires_on.0.0;
    let mut out = Vec::new();
    let left = exp - now;
    let measured = format!(
        "obtained in {} ms · expires {} ({})",
        ms(started),
        exp.format("%Y-%m-%d %H:%M UTC"),
        crate::keys::relative(exp, now)
    );
    if left.num_seconds() <= 0 {
        out.push(CheckResult::new(G, "sas token", Status::Fail, measured)
            .fix("The SAS token is already expired by this machine's clock: check the clock check, then fetch again."));
        return out;
    }
    out.push(CheckResult::new(G, "sas token", Status::Pass, measured).took(started));

    let reach = super::endpoints::queue_probe(&sas.uri, clock, t.probe).await;
    let reached = reach.status == Status::Pass;
    out.push(reach);
    if !reached {
        out.push(skip(G, "queue peek", "the queue's host did not answer"));
        return out;
    }

    // The queue's own count (metadata), where a peek sees at most 32.
    let started = Instant::now();
    out.push(match client.queue_metadata(&sas.uri).await {
        Ok(r) => match r.value {
            Some(n) => CheckResult::new(
                G,
                "queue length",
                Status::Pass,
                format!("about {n} message(s) (x-ms-approximate-messages-count, {} ms)", ms(started)),
            ),
            None => CheckResult::new(G, "queue length", Status::Warn, "the metadata answer carried no x-ms-approximate-messages-count")
                .fix("The queue did not say its length: the peek below still shows what is there; check the SAS token allows reading metadata."),
        }
        .took(started),
        Err(e) => CheckResult::new(G, "queue length", Status::Warn, e.to_string())
            .fix(e.hint().map(str::to_string).unwrap_or_else(|| "The queue refused its metadata: the peek below still shows what is there.".into()))
            .took(started),
    });

    let started = Instant::now();
    let events = match client.queue_peek(&sas.uri, PEEK).await {
        Ok(r) => r.value,
        Err(e) => {
            out.push(CheckResult::new(G, "queue peek", Status::Fail, e.to_string())
                .fix(e.hint().map(str::to_string).unwrap_or_else(|| "The queue did not answer the peek: the SAS URI's host must be reachable from here (proxy, firewall).".into()))
                .took(started));
            return out;
        }
    };
    let n = events.len();
    if n == 0 {
        out.push(
            CheckResult::new(G, "queue peek", Status::Warn, format!("peek answered in {} ms: the queue is empty", ms(started)))
                .fix("No clawback events: normal if nothing was refunded lately; if refunds happened, check the events are enabled for this app in Partner Center and that no other service removes them first (only `:ack-clawback` removes them here)."),
        );
    } else {
        out.push(
            CheckResult::new(
                G,
                "queue peek",
                Status::Pass,
                format!(
                    "peek answered in {} ms: {}{n} event(s) visible",
                    ms(started),
                    if n >= usize::from(PEEK) {
                        "at least "
                    } else {
                        "about "
                    }
                ),
            )
            .took(started),
        );
    }
    // Events whose sandboxId is not this profile's environment.
    let want = st.profile.as_ref().and_then(|p| p.sbx.clone());
    let mut other = std::collections::BTreeMap::<String, usize>::new();
    for e in events.iter().filter_map(|e| e.event.as_ref().ok()) {
        let sbx = e
            .data
            .sandbox_id
            .clone()
            .filter(|s| !s.is_empty() && !s.eq_ignore_ascii_case("RETAIL"));
        if sbx != want {
            *other
                .entry(sbx.unwrap_or_else(|| "RETAIL".into()))
                .or_default() += 1;
        }
    }
    if n > 0 {
        if other.is_empty() {
            out.push(CheckResult::new(
                G,
                "environments",
                Status::Pass,
                format!(
                    "every event is from {}",
                    want.as_deref().unwrap_or("RETAIL")
                ),
            ));
        } else {
            let list: Vec<String> = other.iter().map(|(k, v)| format!("{v} from {k}")).collect();
            out.push(
                CheckResult::new(G, "environments", Status::Warn, format!("{} (this profile: {})", list.join(", "), want.as_deref().unwrap_or("RETAIL")))
                    .fix("The queue mixes environments: events from a sandbox (sbx) never match retail orders. Filter by sandboxId, or set sbx in the profile to the environment you support."),
            );
        }
    }
    out
}
