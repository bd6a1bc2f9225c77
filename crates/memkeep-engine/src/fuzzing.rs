//! Entry points for the fuzz targets in `fuzz/` (not a public API).
//!
//! Each takes arbitrary bytes, feeds them to a decoder, and discards the
//! result: the property fuzzed is "an error or a value, never a panic, a
//! hang or an unbounded allocation".

use std::path::PathBuf;

use crate::journal::record::RecordView;
use crate::journal::segment::{self, Next, SegmentHeader, SegmentReader};
use crate::snapshot::format::SnapshotHeader;
use crate::{Options, Store, check};

/// Decodes `data` as a journal record payload and all of its ops.
pub fn decode_record_payload(data: &[u8]) {
    if let Ok(r) = RecordView::parse(data) {
        let _ = r.ops();
    }
}

/// Decodes `data` as a snapshot data frame payload and all of its items.
pub fn decode_snapshot_frame(data: &[u8]) {
    let _ = crate::snapshot::load::for_each_item(data, |_, _| Ok(()));
}

/// A fresh, empty data directory for one fuzz input (on tmpfs when there is one).
fn scratch() -> PathBuf {
    let base = if std::path::Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let dir = base.join(format!("memkeep-fuzz-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("journal")).expect("scratch dir");
    std::fs::create_dir_all(dir.join("snapshots")).expect("scratch dir");
    dir
}

fn opts(dir: &std::path::Path) -> Options {
    Options::new(dir).background(false).shards(16)
}

/// Writes `data` as the only journal segment, then reads it, checks the
/// directory and opens a store on it.
pub fn open_with_journal(data: &[u8]) {
    let dir = scratch();
    let mut bytes = Vec::new();
    if data.first().is_some_and(|b| b % 2 == 0) {
        let h = SegmentHeader {
            store_id: 1,
            first_seq: 1,
            created_ms: 0,
        };
        bytes.extend_from_slice(&h.encode());
        bytes.extend_from_slice(&data[1..]);
    } else {
        bytes.extend_from_slice(data);
    }
    let path = dir.join("journal").join(segment::file_name(1));
    std::fs::write(&path, &bytes).expect("write input");
    if let Ok(mut r) = SegmentReader::open(&path) {
        while let Ok(Next::Record) = r.next_record() {
            if let Ok(rec) = r.record() {
                let _ = rec.ops();
            }
        }
    }
    let _ = check::check_dir(&dir);
    let _ = Store::open(opts(&dir));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Writes `data` as the only snapshot, then verifies it, checks the
/// directory and opens a store on it.
pub fn open_with_snapshot(data: &[u8]) {
    let dir = scratch();
    let mut bytes = Vec::new();
    if data.first().is_some_and(|b| b % 2 == 0) {
        let h = SnapshotHeader {
            shard_count: 16,
            store_id: 1,
            seq: 1,
            created_ms: 0,
            hash_seed: 7,
        };
        bytes.extend_from_slice(&h.encode());
        bytes.extend_from_slice(&data[1..]);
    } else {
        bytes.extend_from_slice(data);
    }
    let path = dir.join("snapshots").join(crate::snapshot::file_name(1));
    std::fs::write(&path, &bytes).expect("write input");
    let _ = crate::snapshot::verify(&path);
    let _ = check::check_dir(&dir);
    let _ = Store::open(opts(&dir));
    let _ = std::fs::remove_dir_all(&dir);
}
