//! `herald`: the command-line client. Parses arguments, runs one command on a
//! single-threaded runtime, and turns an error into one line on stderr plus an exit
//! code scripts can branch on (see `herald --help`).

mod cli;

use std::process::ExitCode;

use clap::Parser;
use herald_client::Error;

fn main() -> ExitCode {
    // Must run while the process has one thread (see `init_local_offset`).
    cli::output::init_local_offset();
    // Usage errors exit with code 2 from inside clap.
    let args = cli::Cli::parse();

    // One command at a time needs no thread pool.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("herald: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let logging_in = matches!(args.command, cli::Command::Login(_));
    let result = runtime.block_on(cli::run(args));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of our output went away (`herald list | head`): not an error.
        Err(Error::Terminal(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(err) => {
            // The server's sentence is in it: printed clean, like all output.
            cli::output::note(cli::error_message(&err, logging_in));
            ExitCode::from(cli::exit_code(&err))
        }
    }
}
