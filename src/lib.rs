//! storedesk: a terminal console for Microsoft Store entitlements.
//!
//! The library holds everything. Two thin executables: `storedesk`
//! ([`launch::main`]: `inspect` itself, the rest handed over) and
//! `storedesk-console` ([`cli::run`]: the whole command line).
//! See `ARCHITECTURE.md` for the map.

pub mod browse;
pub mod cli;
pub mod clock;
pub mod config;
pub mod journal;
pub mod keys;
pub mod launch;
pub mod logging;
pub mod paths;
pub mod sandbox;
pub mod store;
pub mod tui;
