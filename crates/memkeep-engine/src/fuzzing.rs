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

/// The fuzz input as file bytes: behind a valid `header` when the first
/// byte is even (so the fuzzer reaches past the header quickly), raw otherwise.
fn file_bytes(data: &[u8], header: &[u8]) -> Vec<u8> {
    match data.split_first() {
        Some((first, rest)) if first % 2 == 0 => [header, rest].concat(),
        _ => data.to_vec(),
    }
}

/// Writes `bytes` at `rel` in a fresh data directory, runs `read` on the
/// file, then `check` and a whole store open on the directory.
fn with_file(rel: &str, bytes: &[u8], read: impl FnOnce(&std::path::Path)) {
    let dir = scratch();
    let path = dir.join(rel);
    std::fs::write(&path, bytes).expect("write input");
    read(&path);
    let _ = check::check_dir(&dir);
    let _ = Store::open(opts(&dir));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A journal segment made of `data`: read record by record, checked, opened.
pub fn open_with_journal(data: &[u8]) {
    let header = SegmentHeader {
        store_id: 1,
        first_seq: 1,
        created_ms: 0,
    }
    .encode();
    let rel = format!("journal/{}", segment::file_name(1));
    with_file(&rel, &file_bytes(data, &header), |path| {
        if let Ok(mut r) = SegmentReader::open(path) {
            while let Ok(Next::Record) = r.next_record() {
                if let Ok(rec) = r.record() {
                    let _ = rec.ops();
                }
            }
        }
    });
}

/// A snapshot made of `data`: verified, checked, opened.
pub fn open_with_snapshot(data: &[u8]) {
    let header = SnapshotHeader {
        shard_count: 16,
        store_id: 1,
        seq: 1,
        created_ms: 0,
        hash_seed: 7,
    }
    .encode();
    let rel = format!("snapshots/{}", crate::snapshot::file_name(1));
    with_file(&rel, &file_bytes(data, &header), |path| {
        let _ = crate::snapshot::verify(path);
    });
}
