//! The `memkeep` binary: parses the command line and hands each command to
//! its module. Errors are printed with their whole chain; a closed pipe
//! (`memkeep check | head`) ends quietly.

mod check;
mod cli;
mod serve;
mod status;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

fn main() -> ExitCode {
    let matches = cli::Cli::command().get_matches();
    let cli = match cli::Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => e.exit(),
    };
    let result = match cli.command {
        cli::Command::Check(args) => check::run(&args),
        cli::Command::Serve(args) => {
            let sub = matches
                .subcommand_matches("serve")
                .expect("serve was chosen");
            serve::run(args, sub)
        }
        cli::Command::Status(args) => status::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            eprintln!("memkeep: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(1)
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
