//! The console executable: the whole command line, TUI included. Users run
//! `storedesk`, which hands everything but `inspect` to this (see
//! `storedesk::launch`); `cargo run --release` runs it directly.

fn main() -> std::process::ExitCode {
    storedesk::cli::run()
}
