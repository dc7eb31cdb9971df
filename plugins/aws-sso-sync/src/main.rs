fn main() -> std::process::ExitCode {
    aws_sso_sync::main_impl(std::env::args_os())
}
