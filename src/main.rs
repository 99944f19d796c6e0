//! The `updraft` binary: builds the one async runtime and hands the command line to [`updraft::cli`].

use std::process::ExitCode;

// `offline` allocates a little for every request it serves (events, headers, log lines);
// mimalloc does that with less CPU than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start updraft's async runtime: {error}");
            return ExitCode::from(1);
        }
    };
    let code = updraft::cli::main(std::env::args_os().collect(), runtime.handle());
    // Work still pending (e.g. a cloud call abandoned after Ctrl-C) must not delay the exit.
    runtime.shutdown_background();
    code
}
