//! The embedded sandbox in a temp dir, on a loopback port: what the tests
//! that talk to it over HTTP start from.

#![allow(dead_code)]

use std::path::Path;
use storedesk::clock::Clock;
use storedesk::sandbox::{FaultSpec, Sandbox, SandboxOptions};

/// The sandbox with its state in `dir/sandbox`, on the system clock, with
/// rustls' crypto provider installed (the client needs one).
pub async fn start_in(dir: &Path, faults: Vec<FaultSpec>) -> Sandbox {
    let _ = rustls::crypto::ring::default_provider().install_default();
    storedesk::sandbox::start(SandboxOptions {
        data_dir: dir.join("sandbox"),
        port: 0,
        clock: Clock::system(),
        faults,
    })
    .await
    .unwrap()
}
