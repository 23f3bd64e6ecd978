//! Terminal setup/restore and the event loop.
pub fn run(_ctx: crate::cli::Context) -> std::process::ExitCode {
    std::process::ExitCode::SUCCESS
}
