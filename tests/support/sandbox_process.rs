//! `storedesk sandbox --json` as a separate process, and the real binary
//! pointed at it: the set-up the binary-level write tests share (once.rs,
//! writes.rs). The sandbox is watched over HTTP by a client of the test's
//! own, so what the binary did is read back from the Store's side.

#![allow(dead_code)]

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use storedesk::config::{Profile, Secret};
use storedesk::store::model::{Beneficiary, Entitlement, ProductSkuId, PublisherQueryRequest};
use storedesk::store::{ClientConfig, StoreClient};

pub const BIN: &str = env!("CARGO_BIN_EXE_storedesk");
/// The consumable cora holds 25 of.
pub const COINS: &str = "9NSDCOIN0500";

/// The sandbox process; killed when dropped.
pub struct SandboxProcess {
    child: Child,
    /// Its `--json` line: base_url, tenant, client_id, client_secret,
    /// control_secret, customers.
    pub info: Value,
}

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SandboxProcess {
    /// The sandbox app's client secret.
    pub fn secret(&self) -> &str {
        self.info["client_secret"].as_str().unwrap()
    }
}

/// Start `storedesk sandbox` with its state under `data`, with `faults`.
pub fn start_sandbox_process(data: &Path, faults: &[&str]) -> SandboxProcess {
    let mut cmd = Command::new(BIN);
    cmd.args(["--data-dir"])
        .arg(data.join("sandbox-home"))
        .args(["sandbox", "--json", "--port", "0", "--data"])
        .arg(data.join("sandbox"));
    for f in faults {
        cmd.args(["--fault", f]);
    }
    let mut child = cmd
        .env_remove("STOREDESK_CONFIG")
        .env_remove("STOREDESK_PROFILE")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let info: Value = serde_json::from_str(&line).unwrap();
    SandboxProcess { child, info }
}

/// A demo customer's UserCollectionsId.
pub fn customer_key(sb: &SandboxProcess, name: &str) -> String {
    demo_key(sb, name, "collections_key")
}

/// `field` (`collections_key` / `purchase_key`) of a demo customer.
pub fn demo_key(sb: &SandboxProcess, name: &str, field: &str) -> String {
    let c = sb.info["customers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap();
    c[field].as_str().unwrap().to_string()
}

/// A client of the test's own, to watch the sandbox process over HTTP.
pub fn watcher(sb: &SandboxProcess) -> StoreClient {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut endpoints = Profile::builtin_sandbox().endpoints(sb.info["base_url"].as_str());
    endpoints.tenant = sb.info["tenant"].as_str().unwrap().into();
    StoreClient::new(ClientConfig::new(
        endpoints,
        sb.info["client_id"].as_str().unwrap(),
        Secret::new(sb.secret().to_string()),
    ))
    .unwrap()
}

/// The customer's entitlements to `product`, read over HTTP.
pub async fn items_of(watcher: &StoreClient, key: &str, product: &str) -> Vec<Entitlement> {
    let req = PublisherQueryRequest {
        beneficiaries: vec![Beneficiary::b2b(key)],
        product_sku_ids: Some(vec![ProductSkuId {
            product_id: product.into(),
            sku_id: None,
        }]),
        ..Default::default()
    };
    watcher
        .publisher_query_page(&req)
        .await
        .unwrap()
        .value
        .items
}

/// The customer's balance of [`COINS`], read over HTTP.
pub async fn coins(watcher: &StoreClient, key: &str) -> i64 {
    items_of(watcher, key, COINS).await[0].quantity.unwrap()
}

/// `dir/config.toml`: a profile `qa` pointing at the sandbox process, its
/// secret by env reference (`QA_SANDBOX_SECRET`), `timeout_secs`.
pub fn write_config(dir: &Path, info: &Value, timeout_secs: u32) -> PathBuf {
    let text = format!(
        "[profiles.qa]\nenvironment = \"sandbox\"\nsandbox_url = \"{}\"\ntenant_id = \"{}\"\n\
         client_id = \"{}\"\nclient_secret_env = \"QA_SANDBOX_SECRET\"\ntimeout_secs = {timeout_secs}\n",
        info["base_url"].as_str().unwrap(),
        info["tenant"].as_str().unwrap(),
        info["client_id"].as_str().unwrap(),
    );
    let p = dir.join("config.toml");
    std::fs::write(&p, text).unwrap();
    p
}

/// The real binary with `config`'s profile `qa`, the data dir `data` and
/// the secret in the environment; stdin closed, the clock not pinned.
pub fn storedesk_with(config: &Path, data: &Path, secret: &str) -> Command {
    let mut c = Command::new(BIN);
    c.arg("--config")
        .arg(config)
        .args(["--profile", "qa", "--data-dir"])
        .arg(data)
        .env("QA_SANDBOX_SECRET", secret)
        .env_remove("STOREDESK_NOW")
        .stdin(Stdio::null());
    c
}

/// `consume --key K --product COINS --quantity Q --yes`.
pub fn consume_args<'a>(key: &'a str, qty: &'a str) -> Vec<&'a str> {
    vec![
        "consume",
        "--key",
        key,
        "--product",
        COINS,
        "--quantity",
        qty,
        "--yes",
    ]
}

/// Whether `needle` occurs in `hay` (bytes).
pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// The journal's files (`journal.sqlite*`) directly in `dir`, with bytes.
pub fn journal_files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            let name = p.file_name()?.to_str()?.to_string();
            (p.is_file() && name.starts_with("journal.sqlite"))
                .then(|| (p.clone(), std::fs::read(&p).unwrap()))
        })
        .collect()
}
