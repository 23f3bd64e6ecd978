fn main() -> std::process::ExitCode {
    storedesk::launch::main()
}
