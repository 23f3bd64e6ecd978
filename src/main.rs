fn main() -> std::process::ExitCode {
    storedesk::cli::run()
}
