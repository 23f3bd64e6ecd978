//! Tokens: one per audience storedesk uses, through the client's cache (the
//! same tokens the console uses), each decoded and held against the profile.
//! Entra's refusals are named with their fix.

use super::{CheckResult, State, Status, skip};
use crate::clock::Clock;
use crate::config::{Profile, SecretSource};
use crate::keys::{self, AssessContext};
use crate::store::entra::{EntraProblem, aadsts};
use crate::store::error::{ErrorKind, StoreError};
use crate::store::{TokenStyle, audience};
use std::time::Instant;

const G: &str = "tokens";

pub(super) async fn check(clock: &Clock, st: &mut State) -> Vec<CheckResult> {
    let names = [
        ("store", audience::STORE),
        ("collections-key", audience::COLLECTIONS_KEY),
        ("purchase-key", audience::PURCHASE_KEY),
    ];
    let (Some(client), Some(profile)) = (st.client.clone(), st.profile.clone()) else {
        return names
            .iter()
            .map(|(n, _)| skip(G, *n, "no client: the config check failed"))
            .collect();
    };
    if !st.reachable.contains(&"login") {
        return names
            .iter()
            .map(|(n, _)| skip(G, *n, "the login endpoint is unreachable"))
            .collect();
    }
    let cfg = client.config();
    let client_id = cfg.client_id.clone();
    let tenant = cfg.endpoints.tenant.clone();
    let mut out = Vec::new();
    for (name, aud) in names {
        let started = Instant::now();
        let (r, refused_request) = match client.service_token(aud).await {
            Ok(tok) => {
                if aud == audience::STORE {
                    st.store_token = true;
                }
                let r = judge(
                    name,
                    aud,
                    tok.expose(),
                    &client_id,
                    &tenant,
                    &profile,
                    clock,
                    &tok,
                );
                (r, false)
            }
            Err(e) => (refused(name, &e, &profile, &client_id, &tenant), true),
        };
        let failed_auth = refused_request;
        out.push(r.took(started));
        // The same credentials fail the same way for every audience: say it once.
        if failed_auth && aud == audience::STORE {
            for (n, _) in names.iter().skip(1) {
                out.push(skip(G, *n, "the store token failed"));
            }
            break;
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn judge(
    name: &str,
    aud: &str,
    token: &str,
    client_id: &str,
    tenant: &str,
    profile: &Profile,
    clock: &Clock,
    tok: &crate::store::ServiceToken,
) -> CheckResult {
    let left = crate::keys::human_duration(chrono::TimeDelta::seconds(
        tok.remaining().as_secs().min(i64::MAX as u64) as i64,
    ));
    let Ok(decoded) = keys::decode(token) else {
        return CheckResult::new(
            G,
            name,
            Status::Warn,
            format!("obtained (valid {left}) but not a JWT: claims not checked"),
        )
        .fix("A token that is not a JWT comes from something that is not Entra: check login_url.");
    };
    let a = keys::assess(
        &decoded,
        &AssessContext {
            now: clock.now(),
            profile_client_id: Some(client_id),
            sandbox_public_key_pem: None,
        },
    );
    let info = a.service_token.unwrap_or_default();
    let got_aud = info.audience.clone().unwrap_or_default();
    let got_app = info.app_id.clone().unwrap_or_default();
    let got_tid = info.tenant_id.clone().unwrap_or_default();
    let mut problems = Vec::new();
    let mut fixes = Vec::new();
    if got_aud != aud {
        problems.push(format!("aud is {got_aud:?}, asked for {aud:?}"));
        fixes.push(format!(
            "The login endpoint hands out tokens for the wrong audience: login_url ({}) must be Entra's authority (https://login.microsoftonline.com) or a proxy that passes `{}` through unchanged.",
            profile.endpoints(None).login,
            match profile.token_style { TokenStyle::V1 => "resource", TokenStyle::V2 => "scope" }
        ));
    }
    if !got_app.is_empty() && !got_app.eq_ignore_ascii_case(client_id) {
        problems.push(format!(
            "appid/azp is {got_app}, profile client_id is {client_id}"
        ));
        fixes.push("The token is for another app: client_id must be the Application (client) ID whose secret the profile holds.".to_string());
    }
    // A tenant given as a domain name cannot be compared with the GUID `tid`.
    let guid = tenant.len() == 36 && tenant.chars().filter(|c| *c == '-').count() == 4;
    if guid && !got_tid.is_empty() && !got_tid.eq_ignore_ascii_case(tenant) {
        problems.push(format!("tid is {got_tid}, profile tenant_id is {tenant}"));
        fixes.push(
            "tenant_id must be the Directory (tenant) ID the app is registered in.".to_string(),
        );
    }
    if problems.is_empty() {
        CheckResult::new(
            G,
            name,
            Status::Pass,
            format!(
                "aud ✓ · appid {} · tid {} · valid {left}",
                if got_app.is_empty() { "?" } else { "✓" },
                if guid {
                    "✓"
                } else {
                    "not compared (tenant is a name)"
                }
            ),
        )
    } else {
        CheckResult::new(G, name, Status::Fail, problems.join("; ")).fix(fixes.join(" "))
    }
}

/// The refusal, named, with the field or setting to change.
fn refused(name: &str, e: &StoreError, p: &Profile, client_id: &str, tenant: &str) -> CheckResult {
    let text = format!("{} {}", e.best_code().unwrap_or(""), e.message);
    let aadsts = aadsts(&text);
    let measured = match (&aadsts, e.status) {
        (Some(c), Some(s)) => {
            format!("HTTP {s} {} {c}", e.code.as_deref().unwrap_or("")).replace("  ", " ")
        }
        (None, Some(s)) => format!("HTTP {s}: {}", e.message),
        _ => e.to_string(),
    };
    let secret_where = match &p.secret {
        SecretSource::Env(v) => format!("environment variable {v}"),
        SecretSource::Command(_) => "the output of secret_command".to_string(),
        _ => "the profile's secret source".to_string(),
    };
    let (other, field_now) = match p.token_style {
        TokenStyle::V1 => ("v2", "v1"),
        TokenStyle::V2 => ("v1", "v2"),
    };
    // The meaning comes from the one table (store::entra); doctor adds
    // what it knows of this profile to the fix.
    let problem = EntraProblem::diagnose(e.code.as_deref(), &e.message);
    let fix = if problem == Some(EntraProblem::Secret) && aadsts.is_some() {
        format!(
            "The client secret is wrong or expired: put the current secret of app {client_id} (Entra → App registrations → Certificates & secrets) in {secret_where}."
        )
    } else if problem == Some(EntraProblem::Tenant) {
        format!(
            "tenant_id {tenant:?} is not a directory Entra knows: set tenant_id to the Directory (tenant) ID on the app registration's Overview page."
        )
    } else if problem == Some(EntraProblem::ClientId) {
        format!(
            "client_id {client_id} is not an app in tenant {tenant}: check client_id (Application ID) and tenant_id belong to the same app registration."
        )
    } else if problem == Some(EntraProblem::TokenStyle) {
        format!(
            "Token style mismatch: the login endpoint answers as the {other} endpoint does, and the profile asks in the {field_now} style. Set token_style = \"{other}\" in profile {:?} (v1 sends resource=<audience>, v2 sends scope=<audience>/.default).",
            p.name
        )
    } else if problem == Some(EntraProblem::Audience) {
        "Entra does not know this audience in the tenant: the Microsoft Store service principal is missing there — associate the Entra app with your products in Partner Center (Product management → Microsoft Store services).".to_string()
    } else if matches!(e.kind, ErrorKind::Timeout | ErrorKind::Transport) {
        "The login endpoint did not answer: check login_url and the network.".to_string()
    } else {
        format!(
            "Entra refused the token request: check tenant_id, client_id and the secret in {secret_where}."
        )
    };
    CheckResult::new(G, name, Status::Fail, measured).fix(fix)
}
