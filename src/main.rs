//! The greenlight binary: parse arguments, set up tracing, run one command, map the outcome to
//! an exit code. Everything else lives in the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    greenlight::cli::main()
}
