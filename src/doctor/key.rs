//! Key (when one is given): kind, verdict, its clientId against the
//! profile's, expiry and renew-by, and a 1-item query. Products: which
//! query the profile's product ids select, and what an empty answer means.

use super::{CheckResult, State, Status, skip};
use crate::clock::Clock;
use crate::keys::{self, AssessContext, KeyKind, Verdict};
use crate::store::model::{
    Beneficiary, LicensePreviewRequest, ProductSkuId, PublisherQueryRequest,
};
use std::time::Instant;

const G: &str = "key";

pub(super) async fn check(
    key: Option<&str>,
    clock: &Clock,
    sandbox_pem: Option<&str>,
    st: &mut State,
) -> Vec<CheckResult> {
    let Some(raw) = key else {
        return vec![skip(
            G,
            "key",
            "no key given (--key K, --key-file F or --key -)",
        )];
    };
    let client_id = match (&st.client, &st.profile) {
        (Some(c), _) => Some(c.config().client_id.clone()),
        (None, Some(p)) if !p.client_id.is_empty() => Some(p.client_id.clone()),
        _ => None,
    };
    let now = clock.now();
    let (cleaned, a) = match keys::inspect(
        raw,
        &AssessContext {
            now,
            profile_client_id: client_id.as_deref(),
            sandbox_public_key_pem: sandbox_pem,
        },
    ) {
        Ok(x) => x,
        Err(e) => {
            return vec![CheckResult::new(G, "kind", Status::Fail, format!("not a key: {e}"))
                .fix("Paste the whole UserCollectionsId or UserPurchaseId the client app produced (three dot-separated parts).")];
        }
    };
    let mut out = Vec::new();
    let fp = a.fingerprint.clone();
    if a.kind.is_user_store_id() {
        out.push(CheckResult::new(
            G,
            "kind",
            Status::Pass,
            format!(
                "{} · fingerprint {fp} · signature {}",
                a.kind.as_str(),
                a.signature.describe()
            ),
        ));
    } else {
        let fix = if a.kind == KeyKind::EntraServiceToken {
            "This is an Entra service token, not a User Store ID: the client app must turn a key-creation token into a key (GetCustomerCollectionsIdAsync / GetCustomerPurchaseIdAsync) and send you that."
        } else {
            "This JWT is not a User Store ID: ask the client app for the UserCollectionsId or UserPurchaseId it got from the Store."
        };
        out.push(
            CheckResult::new(
                G,
                "kind",
                Status::Fail,
                format!("{} · fingerprint {fp}", a.kind.as_str()),
            )
            .fix(fix),
        );
        return out;
    }
    match (a.client_id_matches, &a.client_id, &client_id) {
        (Some(true), Some(k), _) => out.push(CheckResult::new(G, "client id", Status::Pass, format!("clientId {k} = profile client_id"))),
        (Some(false), Some(k), Some(p)) => out.push(
            CheckResult::new(G, "client id", Status::Fail, format!("clientId {k} ≠ profile client_id {p}"))
                .fix(format!(
                    "The key was minted from a service ticket of another app, so the Store answers it with nothing (an \"empty\" key): the publisher service must hand the client the key-creation token of app {p} (the profile's), or the profile must use app {k}'s credentials."
                )),
        ),
        _ => out.push(
            CheckResult::new(G, "client id", Status::Warn, "no clientId claim to compare")
                .fix("Keys from the Store carry a clientId: check this is a key the Store issued."),
        ),
    }
    let when = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map(|t| {
            format!(
                "{} ({})",
                t.format("%Y-%m-%d %H:%M UTC"),
                keys::relative(t, now)
            )
        })
        .unwrap_or_else(|| "?".into())
    };
    let times = format!(
        "expires {} · renew by {}",
        when(a.expires_at),
        when(a.renew_due)
    );
    let verdict = match &a.verdict {
        Verdict::Valid => CheckResult::new(G, "validity", Status::Pass, format!("valid · {times}")),
        Verdict::RenewSoon | Verdict::RenewNow => CheckResult::new(G, "validity", Status::Warn, format!("{} · {times}", a.verdict.label()))
            .fix("Renew the key before it expires (`:renew` in the console); an expired key cannot be renewed."),
        Verdict::Expired => CheckResult::new(G, "validity", Status::Fail, format!("expired · {times}"))
            .fix("An expired User Store ID cannot be renewed: the client app must get a new one (keys live 30 days; renew them after 14)."),
        Verdict::NotYetValid => CheckResult::new(G, "validity", Status::Fail, format!("not yet valid · {times}"))
            .fix("The key's start is in the future: check this machine's clock (see the clock check)."),
        v => CheckResult::new(G, "validity", Status::Fail, format!("{} · {}", v.label(), a.verdict_detail))
            .fix("The key's time claims contradict each other: ask the client app for a fresh key."),
    };
    let usable = a.verdict.is_usable();
    out.push(verdict);

    // One real call, with a page of one item.
    let started = Instant::now();
    let Some(client) = st.client.clone() else {
        out.push(skip(G, "query", "no client: the config check failed"));
        return out;
    };
    if !st.store_token {
        out.push(skip(G, "query", "no store token"));
        return out;
    }
    if !usable {
        out.push(skip(G, "query", "the key is not usable"));
        return out;
    }
    if a.kind != KeyKind::UserCollectionsId {
        out.push(skip(
            G,
            "query",
            "a UserPurchaseId: the 1-item query needs a UserCollectionsId",
        ));
        return out;
    }
    let token = cleaned.token;
    let ids = st
        .profile
        .as_ref()
        .map(|p| p.product_ids.clone())
        .unwrap_or_default();
    let r = if ids.is_empty() {
        let req = LicensePreviewRequest {
            beneficiaries: vec![Beneficiary::b2b(&token)],
            max_page_size: Some(1),
            ..Default::default()
        };
        client
            .license_preview_page(&req)
            .await
            .map(|r| ("v8 b2bLicensePreview", r.value.items.len()))
    } else {
        let req = PublisherQueryRequest {
            beneficiaries: vec![Beneficiary::b2b(&token)],
            product_sku_ids: Some(
                ids.iter()
                    .take(100)
                    .map(|id| ProductSkuId {
                        product_id: id.clone(),
                        sku_id: None,
                    })
                    .collect(),
            ),
            max_page_size: Some(1),
            ..Default::default()
        };
        client
            .publisher_query_page(&req)
            .await
            .map(|r| ("v9 PublisherQuery", r.value.items.len()))
    };
    match r {
        Ok((which, n)) => {
            st.key_query_items = Some(n);
            out.push(CheckResult::new(G, "query", Status::Pass, format!("{which} with a page of 1: {n} item(s) · spent 1 of the customer's 100 calls per 5 minutes")).took(started));
        }
        Err(e) => {
            let fix = match e.best_code() {
                Some(c) if c.eq_ignore_ascii_case("InconsistentClientId") => "The Store says the key's clientId is not the token's app: see the client id check.".to_string(),
                _ => e.hint().map(str::to_string).unwrap_or_else(|| "The Store refused the query: read the message and correlation id above.".into()),
            };
            out.push(
                CheckResult::new(
                    G,
                    "query",
                    Status::Fail,
                    format!("{e} · spent 1 of the customer's 100 calls per 5 minutes"),
                )
                .fix(fix)
                .took(started),
            );
        }
    }
    out
}

/// Products: the ids configured (or why v8 is used), and an empty answer
/// explained with the documented causes.
pub(super) fn products(st: &State) -> Vec<CheckResult> {
    const G: &str = "products";
    let Some(p) = &st.profile else {
        return vec![skip(G, "product ids", "no profile")];
    };
    let mut out = Vec::new();
    let n = p.product_ids.len();
    if n == 0 {
        out.push(
            CheckResult::new(G, "product ids", Status::Warn, "none configured: queries use v8 b2bLicensePreview (every product of the app)")
                .fix(format!(
                    "List your products' Store IDs in product_ids of profile {:?}{}: v9 PublisherQuery with product ids is Microsoft's recommended query and does not time out on large collections.",
                    p.name,
                    if p.name == "retail" { " (or STOREDESK_PRODUCT_IDS)" } else { "" }
                )),
        );
    } else {
        out.push(CheckResult::new(
            G,
            "product ids",
            Status::Pass,
            format!(
                "{n} product id(s): v9 PublisherQuery in {} request(s) of ≤100",
                n.div_ceil(100)
            ),
        ));
    }
    match st.key_query_items {
        None => out.push(skip(G, "query result", "no 1-item query ran (needs a UserCollectionsId)")),
        Some(0) => out.push(
            CheckResult::new(G, "query result", Status::Warn, "the query returned nothing")
                .fix(format!(
                    "The documented causes: the user owns none of {}; the products are not associated with this Entra app in Partner Center (Product management → Microsoft Store services); the key was minted in another environment (sbx {} here); or the user is not the one signed in to the Store on the device.",
                    if n == 0 { "the app's products".to_string() } else { "the configured product ids".to_string() },
                    p.sbx.as_deref().unwrap_or("none = RETAIL")
                )),
        ),
        Some(k) => out.push(CheckResult::new(G, "query result", Status::Pass, format!("{k} item(s) on the first page"))),
    }
    out
}
