//! `storedesk`: the console with no subcommand, the headless commands
//! otherwise (see `storedesk::commands`).

fn main() -> std::process::ExitCode {
    storedesk::commands::run()
}
