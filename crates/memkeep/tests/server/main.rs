//! `memkeep serve` as a real process, spoken to over real sockets: raw RESP
//! bytes, HTTP, real Redis clients (`redis-cli`, `redis-py`), and side by
//! side with a real `redis-server`.
//!
//! The client and differential tests need `redis-server`, `redis-cli` and
//! Python's `redis` package; `.ci/run` installs them. Without them those
//! tests fail (they never skip) and say what to install.

mod auth;
mod clients;
mod config;
mod differential;
mod http;
mod protocol;
mod shutdown;
mod util;
