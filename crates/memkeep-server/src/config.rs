//! `memkeep serve`'s settings: every one a flag, a `MEMKEEP_*` variable and
//! a key of the optional TOML file (`--config`), in that order of
//! precedence. Every default is named once, here.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::parser::ValueSource;
use clap::{ArgMatches, Args, ValueEnum};
use memkeep_engine::FsyncPolicy;

use crate::units::{parse_duration, parse_size};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Fsync {
    Always,
    Everysec,
    No,
}

impl From<Fsync> for FsyncPolicy {
    fn from(f: Fsync) -> FsyncPolicy {
        match f {
            Fsync::Always => FsyncPolicy::Always,
            Fsync::Everysec => FsyncPolicy::EverySec,
            Fsync::No => FsyncPolicy::No,
        }
    }
}

fn size(s: &str) -> Result<u64, String> {
    parse_size(s)
}

fn duration(s: &str) -> Result<Duration, String> {
    parse_duration(s)
}

/// Run the store: a Redis-protocol (RESP) listener and an HTTP/JSON
/// listener over one data directory.
///
/// Settings come from flags, then `MEMKEEP_*` environment variables, then
/// the TOML file given by `--config` (keys are the flag names: `data-dir =
/// "/var/lib/memkeep"`), then the defaults shown here. The auth token is
/// read from MEMKEEP_AUTH_TOKEN only, so it never shows in `ps`.
#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// A TOML file of settings (keys are the flag names).
    #[arg(long, env = "MEMKEEP_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Where the journal and snapshots live.
    #[arg(
        long,
        env = "MEMKEEP_DATA_DIR",
        value_name = "DIR",
        default_value = "./memkeep-data"
    )]
    pub data_dir: PathBuf,

    /// The Redis-protocol listener.
    #[arg(
        long,
        env = "MEMKEEP_RESP",
        value_name = "ADDR:PORT",
        default_value = "127.0.0.1:6380"
    )]
    pub resp: SocketAddr,

    /// The HTTP/JSON listener.
    #[arg(
        long,
        env = "MEMKEEP_HTTP",
        value_name = "ADDR:PORT",
        default_value = "127.0.0.1:7070"
    )]
    pub http: SocketAddr,

    /// When the journal is fsynced: always (before every reply), everysec
    /// (at most ~1 s lost on power loss), or no (the OS decides). Writes
    /// survive a crash of the process under every policy.
    #[arg(long, env = "MEMKEEP_FSYNC", value_enum, default_value = "everysec")]
    pub fsync: Fsync,

    /// How long a graceful shutdown (SIGTERM, SIGINT, SHUTDOWN) may take:
    /// in-flight commands finish, the journal is flushed, then exit.
    #[arg(long, env = "MEMKEEP_SHUTDOWN_TIMEOUT", value_name = "DURATION", default_value = "25s", value_parser = duration)]
    pub shutdown_timeout: Duration,

    /// Listen on non-loopback addresses without MEMKEEP_AUTH_TOKEN.
    #[arg(long, env = "MEMKEEP_INSECURE_NO_AUTH")]
    pub insecure_no_auth: bool,

    /// Log format: text for people, json for log collectors.
    #[arg(long, env = "MEMKEEP_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,

    /// Most simultaneous RESP connections; more are refused with an error.
    #[arg(
        long,
        env = "MEMKEEP_MAX_CLIENTS",
        value_name = "N",
        default_value = "1000"
    )]
    pub max_clients: u64,

    /// Largest RESP request or bulk string (Redis's proto-max-bulk-len).
    #[arg(long, env = "MEMKEEP_MAX_REQUEST_SIZE", value_name = "SIZE", default_value = "64M", value_parser = size)]
    pub max_request_size: u64,

    /// Largest HTTP request body.
    #[arg(long, env = "MEMKEEP_MAX_BODY_SIZE", value_name = "SIZE", default_value = "64M", value_parser = size)]
    pub max_body_size: u64,

    /// Close RESP clients idle this long (Redis's `timeout`); 0 never does.
    #[arg(long, env = "MEMKEEP_CLIENT_TIMEOUT", value_name = "DURATION", default_value = "0", value_parser = duration)]
    pub client_timeout: Duration,

    /// A request (RESP command or HTTP request) must arrive whole within
    /// this time, so a slow client cannot pin a connection.
    #[arg(long, env = "MEMKEEP_REQUEST_TIMEOUT", value_name = "DURATION", default_value = "30s", value_parser = duration)]
    pub request_timeout: Duration,

    /// Threads serving RESP connections (each connection stays on one);
    /// 0 means half the CPUs this process may use, at least one: on a small
    /// host the application using memkeep needs the other half.
    #[arg(long, env = "MEMKEEP_THREADS", value_name = "N", default_value = "0")]
    pub threads: usize,
}

impl ServeArgs {
    /// The RESP thread count `threads` stands for.
    pub fn resp_threads(&self) -> usize {
        match self.threads {
            0 => std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1)),
            n => n,
        }
    }
}

impl ServeArgs {
    /// Fills settings not given as a flag or variable from the `--config`
    /// file. `matches` are the `serve` subcommand's.
    pub fn apply_config_file(&mut self, matches: &ArgMatches) -> Result<(), String> {
        let Some(path) = self.config.clone() else {
            return Ok(());
        };
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
        let table: toml::Table = text
            .parse()
            .map_err(|e| format!("{} is not valid TOML: {e}", path.display()))?;
        for (key, value) in &table {
            let id = key.replace('-', "_");
            // An unknown key is not an argument id at all (`value_source`
            // would panic on it); the match below reports it.
            let explicit = matches.try_contains_id(&id).is_ok()
                && matches!(
                    matches.value_source(&id),
                    Some(ValueSource::CommandLine | ValueSource::EnvVariable)
                );
            if explicit {
                continue;
            }
            let as_str = || -> Result<String, String> {
                match value {
                    toml::Value::String(s) => Ok(s.clone()),
                    toml::Value::Integer(i) => Ok(i.to_string()),
                    toml::Value::Float(f) => Ok(f.to_string()),
                    toml::Value::Boolean(b) => Ok(b.to_string()),
                    _ => Err(format!(
                        "{}: `{key}` must be a string or a number",
                        path.display()
                    )),
                }
            };
            let bad = |e: String| format!("{}: `{key}`: {e}", path.display());
            match id.as_str() {
                "data_dir" => self.data_dir = PathBuf::from(as_str()?),
                "resp" => self.resp = as_str()?.parse().map_err(|e| bad(format!("{e}")))?,
                "http" => self.http = as_str()?.parse().map_err(|e| bad(format!("{e}")))?,
                "fsync" => self.fsync = Fsync::from_str(&as_str()?, true).map_err(bad)?,
                "shutdown_timeout" => self.shutdown_timeout = duration(&as_str()?).map_err(bad)?,
                "insecure_no_auth" => {
                    self.insecure_no_auth = value
                        .as_bool()
                        .ok_or_else(|| bad("must be true or false".into()))?;
                }
                "log_format" => {
                    self.log_format = LogFormat::from_str(&as_str()?, true).map_err(bad)?
                }
                "max_clients" => {
                    self.max_clients = as_str()?.parse().map_err(|e| bad(format!("{e}")))?
                }
                "max_request_size" => self.max_request_size = size(&as_str()?).map_err(bad)?,
                "max_body_size" => self.max_body_size = size(&as_str()?).map_err(bad)?,
                "client_timeout" => self.client_timeout = duration(&as_str()?).map_err(bad)?,
                "request_timeout" => self.request_timeout = duration(&as_str()?).map_err(bad)?,
                "threads" => self.threads = as_str()?.parse().map_err(|e| bad(format!("{e}")))?,
                "config" => {
                    return Err(format!(
                        "{}: a config file cannot name another",
                        path.display()
                    ));
                }
                "auth_token" => {
                    return Err(format!(
                        "{}: the auth token is read from MEMKEEP_AUTH_TOKEN only, never from a file of settings",
                        path.display()
                    ));
                }
                _ => return Err(format!("{}: unknown setting `{key}`", path.display())),
            }
        }
        Ok(())
    }
}
