//! The Redis protocol: request parsing, reply encoding, connections.

pub(crate) mod conn;
pub mod parse;
pub(crate) mod pool;
pub mod reply;
