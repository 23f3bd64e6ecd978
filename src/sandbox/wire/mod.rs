//! The sandbox's own side of the wire: requests decoded by the documented
//! field names ([`requests`], through [`fields::Fields`]) and answers written
//! field by field ([`answers`]). Nothing here reads or writes JSON through
//! the client's `store::model` serde types, so the sandbox checks the
//! client instead of agreeing with it by construction.

pub mod answers;
pub mod fields;
pub mod requests;

pub use answers::Style;
