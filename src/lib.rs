//! storedesk: a terminal console for Microsoft Store entitlements.
//!
//! The library holds everything; the `storedesk` executable hands its
//! command line to [`commands::run`]. See `ARCHITECTURE.md` for the map.

pub mod browse;
pub mod case;
pub mod clock;
pub mod commands;
pub mod config;
pub mod doctor;
pub mod journal;
pub mod keys;
pub mod logging;
pub mod paths;
pub mod sandbox;
pub mod store;
pub mod tui;
