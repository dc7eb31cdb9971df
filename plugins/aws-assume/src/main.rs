fn main() -> std::process::ExitCode {
    aws_assume::main_impl(std::env::args_os())
}
