//! The embedded Microsoft Store sandbox.
pub mod cli {
    pub fn run(_ctx: &crate::cli::Context, _a: &crate::cli::SandboxArgs) -> std::process::ExitCode {
        eprintln!("storedesk: the sandbox is not built yet");
        std::process::ExitCode::from(2)
    }
}
