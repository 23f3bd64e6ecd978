//! Entra ID client-credential tokens, cached per audience. A token is
//! refreshed when under 5 minutes remain, and only one fetch per audience is
//! ever in flight: concurrent callers wait on the same slot and share it.

use super::TokenStyle;
use super::client::{Auth, Body, Call, StoreClient};
use super::error::{ErrorInfo, ErrorKind, StoreError};
use super::model::TokenResponse;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Refresh a cached token once fewer than this remain (STORE-API.md §1).
pub const REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// An Entra service token. Debug never shows the token itself.
#[derive(Clone)]
pub struct ServiceToken {
    token: Arc<str>,
    pub audience: String,
    pub token_type: String,
    /// Lifetime the service granted.
    pub lifetime: Duration,
    /// When it expires, in UTC (for display).
    pub expires_at: chrono::DateTime<chrono::Utc>,
    fetched: Instant,
}

impl ServiceToken {
    /// The bearer token. Hand it only to what must send it.
    pub fn expose(&self) -> &str {
        &self.token
    }

    /// Time left, by the monotonic clock (a pinned `--now` does not age it).
    pub fn remaining(&self) -> Duration {
        self.lifetime.saturating_sub(self.fetched.elapsed())
    }

    /// Fresh enough to use: more than 5 minutes left, or — for a token that
    /// never lived longer than twice that — more than half its life.
    pub fn is_fresh(&self) -> bool {
        let margin = REFRESH_MARGIN.min(self.lifetime / 2);
        self.remaining() > margin
    }

    fn same(&self, other: &ServiceToken) -> bool {
        Arc::ptr_eq(&self.token, &other.token)
    }
}

impl std::fmt::Debug for ServiceToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceToken")
            .field("audience", &self.audience)
            .field("token", &"***")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

type Slot = Arc<tokio::sync::Mutex<Option<ServiceToken>>>;

#[derive(Default)]
pub(crate) struct TokenCache {
    slots: Mutex<HashMap<String, Slot>>,
}

impl TokenCache {
    fn slot(&self, audience: &str) -> Slot {
        let mut m = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        m.entry(audience.to_string()).or_default().clone()
    }

    /// Drop `used` from the cache, unless someone already replaced it.
    pub async fn invalidate(&self, audience: &str, used: &ServiceToken) {
        let slot = self.slot(audience);
        let mut g = slot.lock().await;
        if g.as_ref().is_some_and(|t| t.same(used)) {
            *g = None;
        }
    }
}

impl StoreClient {
    /// A client-credential token for `audience` — cached, refreshed when
    /// under 5 minutes remain, one fetch in flight per audience. QA uses
    /// this for the collections/purchase key-creation audiences.
    pub async fn service_token(&self, audience: &str) -> Result<ServiceToken, StoreError> {
        let slot = self.inner.tokens.slot(audience);
        // Holding the slot's lock across the fetch is what makes concurrent
        // callers share one request instead of racing their own.
        let mut cached = slot.lock().await;
        if let Some(t) = cached.as_ref()
            && t.is_fresh()
        {
            return Ok(t.clone());
        }
        let fresh = self.fetch_token(audience).await?;
        *cached = Some(fresh.clone());
        Ok(fresh)
    }

    async fn fetch_token(&self, audience: &str) -> Result<ServiceToken, StoreError> {
        const OP: &str = "token";
        let cfg = &self.inner.cfg;
        let tenant = cfg.endpoints.tenant.trim();
        if tenant.is_empty()
            || !tenant
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        {
            return Err(StoreError::config(
                OP,
                "the profile's tenant id is empty or not a tenant id (GUID or domain)",
            ));
        }
        if cfg.client_id.trim().is_empty() {
            return Err(StoreError::config(OP, "the profile has no client id"));
        }
        let (path, target) = match cfg.endpoints.token_style {
            TokenStyle::V1 => ("oauth2/token", ("resource", audience.to_string())),
            TokenStyle::V2 => (
                "oauth2/v2.0/token",
                ("scope", format!("{audience}/.default")),
            ),
        };
        let url = format!(
            "{}/{tenant}/{path}",
            cfg.endpoints.login.trim_end_matches('/')
        );
        let form = vec![
            ("grant_type", "client_credentials".to_string()),
            ("client_id", cfg.client_id.clone()),
            ("client_secret", cfg.client_secret.expose().to_string()),
            target,
        ];
        let call = Call {
            op: OP,
            method: reqwest::Method::POST,
            url,
            body: Body::Form(form),
            auth: Auth::None,
            // Asking for a token twice changes nothing: safe to retry.
            write: false,
            budget: None,
        };
        let fetched = Instant::now();
        let resp = self.call_json::<TokenResponse>(call).await?;
        let t = resp.value;
        if t.access_token.is_empty() {
            return Err(ErrorInfo {
                status: Some(resp.meta.status),
                correlation: resp.meta.correlation,
                sent: true,
                ..ErrorInfo::new(ErrorKind::Decode, OP, "token answer has no access_token")
            }
            .into());
        }
        // Entra says 3599 s; a missing value is taken as the documented hour.
        let secs = t
            .expires_in
            .filter(|s| *s > 0)
            .unwrap_or(3600)
            .min(86_400 * 2);
        let lifetime = Duration::from_secs(secs as u64);
        tracing::debug!(audience, lifetime_s = secs, "service token fetched");
        Ok(ServiceToken {
            token: Arc::from(t.access_token),
            audience: audience.to_string(),
            token_type: if t.token_type.is_empty() {
                "Bearer".into()
            } else {
                t.token_type
            },
            lifetime,
            expires_at: self.inner.cfg.clock.now() + chrono::TimeDelta::seconds(secs),
            fetched,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok(lifetime: u64, age: u64) -> ServiceToken {
        ServiceToken {
            token: Arc::from("secret-token-value"),
            audience: "a".into(),
            token_type: "Bearer".into(),
            lifetime: Duration::from_secs(lifetime),
            expires_at: chrono::Utc::now(),
            fetched: Instant::now() - Duration::from_secs(age),
        }
    }

    #[test]
    fn refreshed_under_five_minutes() {
        assert!(tok(3600, 0).is_fresh());
        assert!(tok(3600, 3600 - 301).is_fresh());
        assert!(!tok(3600, 3600 - 299).is_fresh());
        // A 4-minute token is used for its first half, not refetched per call.
        assert!(tok(240, 60).is_fresh());
        assert!(!tok(240, 121).is_fresh());
    }

    #[test]
    fn debug_hides_the_token() {
        let s = format!("{:?}", tok(3600, 0));
        assert!(!s.contains("secret-token-value"), "{s}");
    }
}
