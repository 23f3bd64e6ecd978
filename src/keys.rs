//! User Store ID / JWT decoding and assessment.
pub mod cli {
    pub fn run(_c: &crate::cli::Context, _a: &crate::cli::InspectArgs) -> std::process::ExitCode {
        std::process::ExitCode::from(2)
    }
}
