//! The command line: every flag, its environment variable and its default.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// memkeep keeps state, keeps memory small and watches memory, for bots,
/// API services and batch jobs on small, ephemeral hosts.
#[derive(Parser, Debug)]
#[command(name = "memkeep", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    Serve(memkeep_server::config::ServeArgs),
    /// Show a running server's status: keys, memory, journal, snapshot,
    /// connections (what `GET /v1/status` says, as a table).
    ///
    /// Uses MEMKEEP_AUTH_TOKEN as the bearer token when it is set.
    Status(StatusArgs),
    /// Verify a data directory's files without changing them.
    ///
    /// Reads every snapshot and journal segment, checks every checksum and
    /// record, and checks that the journal continues the newest snapshot
    /// without gaps. Safe to run beside a live server.
    ///
    /// Exit status: 0 when the store opens cleanly (healthy, or only a torn
    /// last record that opening cuts off), 2 when files are damaged and the
    /// store would refuse to open, 1 when the check itself failed.
    Check(CheckArgs),
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The data directory to check.
    #[arg(long, env = "MEMKEEP_DATA_DIR", default_value = "./memkeep-data")]
    pub data_dir: PathBuf,

    /// Print the report as JSON instead of a table.
    #[arg(long, env = "MEMKEEP_JSON")]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct StatusArgs {
    /// The server's HTTP address.
    #[arg(long, env = "MEMKEEP_SERVER", default_value = "http://127.0.0.1:7070")]
    pub server: String,

    /// Print the status as JSON (exactly what the server answered).
    #[arg(long, env = "MEMKEEP_JSON")]
    pub json: bool,
}
