//! `ecomm`, the on-call CLI of the ecomm order system.

use std::process::ExitCode;

fn main() -> ExitCode {
    ecomm::main()
}
