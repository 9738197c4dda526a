fn main() -> std::process::ExitCode {
    mijnkwh::cli::main()
}
