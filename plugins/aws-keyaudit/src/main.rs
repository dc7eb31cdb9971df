fn main() -> std::process::ExitCode {
    aws_keyaudit::main_impl(std::env::args_os())
}
