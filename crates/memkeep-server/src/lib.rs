//! memkeep's servers over the engine: the Redis protocol (RESP2/RESP3) and
//! HTTP/JSON, with auth, limits and graceful shutdown.
//!
//! - `server`: [`run`]: listeners, store, shutdown sequence.
//! - `config`: [`config::ServeArgs`], every setting and its default.
//! - `resp`: request parsing, replies, connections.
//! - `cmd`: the Redis commands, one module per family.
//! - `http`: the JSON API, one module per feature.
//! - `auth`: the token (constant-time compare, never printed).
//! - `info`: `INFO` sections.
//! - `units`: sizes and durations as flags take them.

pub mod auth;
mod client;
mod cmd;
pub mod config;
mod counter;
mod http;
mod info;
pub mod resp;
mod server;
mod shared;
pub mod units;

pub use server::{ServeError, ShutdownHook, run};
pub use shared::Shutdown;
