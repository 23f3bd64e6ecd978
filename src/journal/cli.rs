//! Headless write commands.
use crate::cli::*;
use std::process::ExitCode;
fn nyi() -> ExitCode {
    eprintln!("storedesk: writes are not built yet");
    ExitCode::from(2)
}
pub fn consume(_c: &Context, _a: &ConsumeArgs) -> ExitCode {
    nyi()
}
pub fn grant(_c: &Context, _a: &GrantArgs) -> ExitCode {
    nyi()
}
pub fn audit(_c: &Context, _a: &AuditArgs) -> ExitCode {
    nyi()
}
pub fn pending(_c: &Context, _a: &PendingArgs) -> ExitCode {
    nyi()
}
