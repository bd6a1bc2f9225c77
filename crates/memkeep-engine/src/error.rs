//! The engine's error type.
//!
//! Errors a client causes (wrong type, bad number) carry Redis's exact
//! wording: [`Error::redis_message`] gives the full reply text that client
//! libraries match on. Errors of the store itself (I/O, damage, poisoning)
//! name the file and say what to do next.

use std::io;
use std::path::PathBuf;

/// Result with the engine's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The key holds another type of value.
    #[error("Operation against a key holding the wrong kind of value")]
    WrongType,
    #[error("value is not an integer or out of range")]
    NotInteger,
    #[error("value is not a valid float")]
    NotFloat,
    #[error("hash value is not an integer")]
    HashNotInteger,
    #[error("hash value is not a float")]
    HashNotFloat,
    #[error("increment or decrement would overflow")]
    Overflow,
    #[error("increment would produce NaN or Infinity")]
    NanOrInfinity,
    #[error("index out of range")]
    IndexOutOfRange,
    #[error("no such key")]
    NoSuchKey,
    #[error("string exceeds maximum allowed size (proto-max-bulk-len)")]
    StringTooLong,
    /// A client argument was rejected; the text says which and why.
    #[error("{0}")]
    InvalidArgument(String),
    /// A single command (or transaction) would need a journal record larger
    /// than the engine writes.
    #[error("command too large: it would need a {size}-byte journal record (limit {limit})")]
    TooLarge { size: u64, limit: u64 },
    /// A collection reached the 4 GiB its arena can address.
    #[error("collection too large: a single hash, set or sorted set holds at most about 4 GiB")]
    CollectionFull,
    /// A journal write or fsync failed earlier; nothing more is accepted
    /// because the journal can no longer promise durability.
    #[error(
        "the store refuses writes because its journal failed: {0}; \
         acknowledged writes are safe on disk; fix the disk and restart"
    )]
    Poisoned(String),
    #[error("data directory {} is in use by another memkeep process", path.display())]
    Locked { path: PathBuf },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A file is damaged in a way recovery must not guess about.
    #[error(
        "{} is damaged at byte {offset}: {reason}",
        file.display()
    )]
    Corrupt {
        file: PathBuf,
        offset: u64,
        reason: String,
    },
    #[error("the store is closed")]
    Closed,
    /// A transaction touched a key whose shard it did not lock.
    #[error("key not declared in the transaction's key set")]
    KeyNotDeclared,
}

impl Error {
    /// The error line a Redis server would send (without the leading `-`).
    pub fn redis_message(&self) -> String {
        match self {
            Error::WrongType => format!("WRONGTYPE {self}"),
            _ => format!("ERR {self}"),
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn corrupt(
        file: impl Into<PathBuf>,
        offset: u64,
        reason: impl Into<String>,
    ) -> Error {
        Error::Corrupt {
            file: file.into(),
            offset,
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_errors_use_redis_wording() {
        assert_eq!(
            Error::WrongType.redis_message(),
            "WRONGTYPE Operation against a key holding the wrong kind of value"
        );
        assert_eq!(
            Error::NotInteger.redis_message(),
            "ERR value is not an integer or out of range"
        );
    }
}
