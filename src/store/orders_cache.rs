//! The orders read today, per customer, in `<data dir>/orders/`. The docs
//! ask for at most one orders query a day per customer: the console, the
//! headless `orders`/`case` and a second storedesk all answer from here
//! within a day of the last read (`case::load::orders_once_a_day`), saying
//! how old the answer is; reading again is asked for explicitly (`r`
//! twice, `--refresh`). A grant the Store accepted makes an order, so it
//! forgets the customer's read ([`StoreClient::forget_orders`]).
//!
//! A file is named by a hash of the profile's app and environment (client
//! id, `sbx`) and the purchase key's customer ([`super::keyinfo::customer_id`]: a fingerprint, never
//! the key), holds what the Store answered and when, and is written 0600
//! through a temporary file and a rename.

use super::StoreClient;
use super::model::Order;
use chrono::{DateTime, TimeDelta, Utc};
use std::path::{Path, PathBuf};

/// How long a read stands in for the next one.
pub const ONCE_A_DAY: TimeDelta = TimeDelta::hours(24);

/// Orders as they were read, and when.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OrdersRead {
    pub orders: Vec<Order>,
    /// When the Store answered (the program's clock).
    pub read_at: DateTime<Utc>,
    /// Answered from the data dir rather than the Store just now.
    #[serde(skip)]
    pub cached: bool,
}

impl StoreClient {
    /// Where this client keeps `key`'s orders read, if it has a data dir.
    pub fn orders_file(&self, key: &str) -> Option<PathBuf> {
        let cfg = self.config();
        let dir = cfg.state_dir.as_ref()?.join("orders");
        // Not the URL: the embedded sandbox has a new port every run.
        let scope = format!(
            "{}\n{}",
            cfg.client_id,
            cfg.sbx.as_deref().unwrap_or("RETAIL")
        );
        Some(path(&dir, &scope, key))
    }

    /// The customer's orders changed (a grant): the next read asks the Store.
    pub fn forget_orders(&self, key: &str) {
        if let Some(f) = self.orders_file(key)
            && let Err(e) = std::fs::remove_file(&f)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %f.display(), error = %e, "cannot forget the orders read");
        }
    }
}

/// The file for `key`'s customer as seen through `scope` (the profile's
/// app and environment: the same key read for another `sbx` is another
/// answer).
pub fn path(dir: &Path, scope: &str, key: &str) -> PathBuf {
    use sha2::Digest as _;
    let customer = super::keyinfo::customer_id(key);
    let d = sha2::Sha256::digest(format!("{scope}\n{customer}").as_bytes());
    let name: String = d.iter().take(8).map(|b| format!("{b:02x}")).collect();
    dir.join(format!("{name}.json"))
}

/// The saved read, if it is less than a day old at `now`. A read from the
/// future (the clock was set back) is not trusted; an unreadable file is
/// no read.
pub fn fresh(path: &Path, now: DateTime<Utc>) -> Option<OrdersRead> {
    let text = std::fs::read(path).ok()?;
    let mut read: OrdersRead = serde_json::from_slice(&text).ok()?;
    let age = now.signed_duration_since(read.read_at);
    if age < TimeDelta::zero() || age >= ONCE_A_DAY {
        return None;
    }
    read.cached = true;
    Some(read)
}

/// Keep `read` (best effort: a cache that cannot be written only means
/// the next run reads again; the reason is logged).
pub fn save(path: &Path, read: &OrdersRead) {
    let r = (|| -> std::io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let text = serde_json::to_vec(read).map_err(std::io::Error::other)?;
        let tmp = path.with_extension(format!("json.{}.tmp", std::process::id()));
        super::budget::write_private(&tmp, &text)?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = r {
        tracing::warn!(path = %path.display(), error = %e, "cannot keep the orders read");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_read_stands_for_a_day_and_not_from_the_future() {
        let dir = tempfile::tempdir().unwrap();
        let t0 = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        let p = path(dir.path(), "http://x", "not-a-jwt");
        assert!(fresh(&p, t0).is_none());
        save(
            &p,
            &OrdersRead {
                orders: vec![Order {
                    order_id: "o-1".into(),
                    ..Default::default()
                }],
                read_at: t0,
                cached: false,
            },
        );
        let got = fresh(&p, t0 + TimeDelta::hours(3)).unwrap();
        assert!(got.cached);
        assert_eq!(got.orders[0].order_id, "o-1");
        assert_eq!(got.read_at, t0);
        assert!(fresh(&p, t0 + TimeDelta::hours(24)).is_none());
        assert!(fresh(&p, t0 - TimeDelta::minutes(5)).is_none());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // Another Store or customer has its own file; the key is not in the name.
        assert_ne!(p, path(dir.path(), "http://y", "not-a-jwt"));
        assert!(!p.to_string_lossy().contains("not-a-jwt"));
        std::fs::write(&p, "{oops").unwrap();
        assert!(fresh(&p, t0).is_none());
    }
}
