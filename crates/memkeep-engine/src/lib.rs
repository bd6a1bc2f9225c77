//! memkeep's engine: a memory-first keyspace (Redis's data model) with a
//! crash-safe journal and snapshots, as a library.
//!
//! Every read is served from memory. Every write takes one path: it gets the
//! next sequence number, is appended to the journal, is applied in memory,
//! and is acknowledged once durable under the [`FsyncPolicy`]. Snapshots are
//! taken in the background without fork, consistent at one sequence number;
//! opening a store loads the newest snapshot and replays the journal after it.
//!
//! ```
//! use memkeep_engine::{FsyncPolicy, Options, Reads, Store};
//!
//! let dir = tempfile::tempdir()?;
//! let store = Store::open(Options::new(dir.path()).fsync(FsyncPolicy::Always))?;
//! store.set("user:42:name", "Ada")?;
//! store.rpush("jobs", &["crawl", "index"])?;
//! assert_eq!(store.lrange("jobs", 0, -1)?, vec![b"crawl".to_vec(), b"index".to_vec()]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The map of the crate:
//! - [`store`](Store): the handle, the commit path, recovery, snapshots, the typed API.
//! - `keyspace`: shards, key records, objects. `mem`: the compact structures under them.
//! - `op` and `apply`: the changes the journal records and the one function that applies them.
//! - [`journal`]: segment files, records, the verifying reader.
//! - [`snapshot`]: the snapshot format, capture and loading.
//! - [`check`]: offline verification of a data directory.
//! - [`numbers`], [`glob`]: Redis's rules for numbers and patterns.

mod apply;
pub mod check;
mod clock;
mod codec;
mod error;
mod fsutil;
#[doc(hidden)]
pub mod fuzzing;
pub mod glob;
pub mod journal;
mod keyspace;
mod mem;
pub mod numbers;
mod op;
mod options;
pub mod snapshot;
mod store;

pub use clock::{Clock, ManualClock, SystemClock};
pub use codec::DecodeError;
pub use error::{Error, Result};
pub use keyspace::KeyType;
pub use mem::zset::ScoreBound;
pub use op::Op;
pub use options::{Faults, FsyncPolicy, Options, Recovery};
pub use snapshot::SnapshotInfo;
pub use store::{
    ExpireCondition, Expiry, KeyView, Keys, MAX_STRING_BYTES, OpenReport, Pairs, Reads,
    ScanOptions, ScanPage, Scored, SegmentInfo, SetCondition, SetOptions, SetOutcome, ShardView,
    Stats, Store, Truncation, Ttl, Tx, Value, Watch, ZAddOptions, ZAddResult, ZRange,
};
