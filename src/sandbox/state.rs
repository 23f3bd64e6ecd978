//! The sandbox's world and how it is kept on disk.
//!
//! Layout of the data dir: `signing-key.pem`, `state/meta.json` (when the
//! seed was laid down; seed dates are relative to it), one
//! `state/customer-<name>.json` per customer changed since seeding, and
//! `state/queue.json` once the clawback queue changed. Untouched customers are
//! rebuilt from the seed at start, so the 10,000-item whale costs nothing on
//! disk until someone writes to it.

use super::SandboxError;
use crate::store::model::{
    ConsumeResponse, Entitlement, Order, PurchaseOrder, Recurrence, StoreTime, TargetedOffer,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A product the sandbox knows (for grant and kind lookups).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CatalogProduct {
    pub product_id: String,
    pub sku_id: String,
    pub kind: String,
    pub title: String,
    /// 0 = free (grantable).
    #[serde(default)]
    pub price: f64,
    #[serde(default)]
    pub availability_id: String,
}

/// An entitlement and its stable position for paging: `seq` only grows, so a
/// continuation token "after seq N" stays right while items are added or
/// changed between pages.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Ent {
    pub seq: u64,
    pub item: Entitlement,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RecurrenceRec {
    pub item: Recurrence,
    /// Non-retail subscriptions cannot be changed (the service answers 400).
    pub retail: bool,
}

/// What a consume with a given trackingId did, for idempotent replays.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ConsumeRecord {
    pub product_id: String,
    pub remove_quantity: Option<i64>,
    pub response: ConsumeResponse,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Customer {
    pub name: String,
    pub user_id: String,
    pub about: String,
    /// Demo keys are minted at start with `iat = now - this`.
    pub key_issued_days_ago: i64,
    /// Answers carry the documented quirks (`wire::Style::quirks`).
    #[serde(default)]
    pub quirks: bool,
    pub ents: Vec<Ent>,
    pub next_seq: u64,
    pub orders: Vec<Order>,
    pub recurrences: Vec<RecurrenceRec>,
    /// trackingId → first outcome.
    pub consumes: BTreeMap<String, ConsumeRecord>,
    /// orderId → granted order.
    pub grants: BTreeMap<String, PurchaseOrder>,
    /// "orderId/lineItemId" → quantity already consumed from that line.
    pub line_consumed: BTreeMap<String, i64>,
    pub offers: Vec<TargetedOffer>,
    /// offer trackingId → receipt it was claimed with.
    pub claims: BTreeMap<String, String>,
}

impl Customer {
    pub fn push_ent(&mut self, item: Entitlement) {
        self.next_seq += 1;
        self.ents.push(Ent {
            seq: self.next_seq,
            item,
        });
    }
}

/// One message in the sandbox's clawback queue.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct QMsg {
    pub id: String,
    pub inserted: DateTime<Utc>,
    pub expires: DateTime<Utc>,
    pub visible_at: DateTime<Utc>,
    pub pop_receipt: Option<String>,
    pub dequeue_count: u32,
    pub text: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Queue {
    pub messages: Vec<QMsg>,
}

pub struct World {
    pub catalog: Vec<CatalogProduct>,
    pub customers: Vec<Customer>,
    pub queue: Queue,
}

impl World {
    pub fn customer_index(&self, name: &str) -> Option<usize> {
        self.customers.iter().position(|c| c.name == name)
    }

    pub fn product(&self, product_id: &str) -> Option<&CatalogProduct> {
        self.catalog
            .iter()
            .find(|p| p.product_id.eq_ignore_ascii_case(product_id))
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Meta {
    version: u32,
    seeded_at: StoreTime,
}

/// Where state files live, and writing them.
#[derive(Clone, Debug)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    pub fn new(data_dir: &Path) -> Self {
        Self {
            dir: data_dir.join("state"),
        }
    }

    fn customer_file(&self, name: &str) -> PathBuf {
        let safe: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.dir.join(format!("customer-{safe}.json"))
    }

    /// The seeding time, written on first use so seed dates stay put.
    pub fn seeded_at(&self, now: DateTime<Utc>) -> Result<DateTime<Utc>, SandboxError> {
        let path = self.dir.join("meta.json");
        match std::fs::read(&path) {
            Ok(bytes) => {
                let m: Meta = serde_json::from_slice(&bytes)
                    .map_err(|e| SandboxError::State(format!("{}: {e}", path.display())))?;
                Ok(m.seeded_at.0)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                self.write_meta(now)?;
                Ok(now)
            }
            Err(e) => Err(SandboxError::io(&path, e)),
        }
    }

    pub fn write_meta(&self, seeded_at: DateTime<Utc>) -> Result<(), SandboxError> {
        let m = Meta {
            version: 1,
            seeded_at: StoreTime(seeded_at),
        };
        let bytes =
            serde_json::to_vec_pretty(&m).map_err(|e| SandboxError::State(e.to_string()))?;
        write_atomic(&self.dir.join("meta.json"), &bytes, false)
    }

    /// Replace seeded customers and the queue by what was saved.
    pub fn overlay(&self, world: &mut World) -> Result<(), SandboxError> {
        for i in 0..world.customers.len() {
            let path = self.customer_file(&world.customers[i].name);
            match std::fs::read(&path) {
                Ok(bytes) => {
                    world.customers[i] = serde_json::from_slice(&bytes)
                        .map_err(|e| SandboxError::State(format!("{}: {e} (torn or edited; `storedesk sandbox reset` starts the sandbox over from its seed)", path.display())))?;
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(SandboxError::io(&path, e)),
            }
        }
        let qpath = self.dir.join("queue.json");
        match std::fs::read(&qpath) {
            Ok(bytes) => {
                world.queue = serde_json::from_slice(&bytes)
                    .map_err(|e| SandboxError::State(format!("{}: {e} (torn or edited; `storedesk sandbox reset` starts the sandbox over from its seed)", qpath.display())))?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(SandboxError::io(&qpath, e)),
        }
        Ok(())
    }

    pub fn save_customer(&self, c: &Customer) -> Result<(), SandboxError> {
        let bytes = serde_json::to_vec(c).map_err(|e| SandboxError::State(e.to_string()))?;
        write_atomic(&self.customer_file(&c.name), &bytes, false)
    }

    pub fn save_queue(&self, q: &Queue) -> Result<(), SandboxError> {
        let bytes = serde_json::to_vec(q).map_err(|e| SandboxError::State(e.to_string()))?;
        write_atomic(&self.dir.join("queue.json"), &bytes, false)
    }

    /// Forget every change (the signing key lives outside `state/`).
    pub fn wipe(&self) -> Result<(), SandboxError> {
        match std::fs::remove_dir_all(&self.dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(SandboxError::io(&self.dir, e)),
        }
    }
}

/// Write to a temp file in the same dir, fsync, rename: a crash leaves the
/// old or the new file, never half of one. `private` makes it 0600.
pub fn write_atomic(path: &Path, bytes: &[u8], private: bool) -> Result<(), SandboxError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| SandboxError::io(dir, e))?;
    // Unique per save: two threads saving the same file must not share
    // (and tear) one temp file.
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let tmp = dir.join(format!(
        ".{}.tmp-{}-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("state"),
        std::process::id(),
        SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut f = opts.open(&tmp).map_err(|e| SandboxError::io(&tmp, e))?;
    f.write_all(bytes).map_err(|e| SandboxError::io(&tmp, e))?;
    f.sync_all().map_err(|e| SandboxError::io(&tmp, e))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(|e| SandboxError::io(path, e))
}
