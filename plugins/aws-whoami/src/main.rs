fn main() -> std::process::ExitCode {
    aws_whoami::main_impl(std::env::args_os())
}
