//! The journal (write-ahead log): numbered, checksummed records in segment
//! files under `DIR/journal/`.
//!
//! - `record`: framing of one record.
//! - `segment`: segment header, file naming, the verifying reader.
//! - `walk`: reading the chain of segments in order (recovery, `check`).
//! - `writer`: the active segment (append, fsync, rotate).
//!
//! Group commit, fsync policy and poisoning live in the store's commit path
//! (`store/commit.rs`), which owns the order of records.

pub(crate) mod record;
pub(crate) mod segment;
pub(crate) mod walk;
pub(crate) mod writer;

pub use record::{MAX_RECORD_BYTES, RecordView};
pub use segment::{Next, SegmentHeader, SegmentReader};
