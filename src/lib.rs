//! storedesk: a terminal console for Microsoft Store entitlements.
//!
//! The library holds everything; `main.rs` only hands over to [`cli::run`].
//! See `ARCHITECTURE.md` for the map.

pub mod browse;
pub mod cli;
pub mod clock;
pub mod config;
pub mod journal;
pub mod keys;
pub mod logging;
pub mod paths;
pub mod sandbox;
pub mod store;
pub mod tui;
