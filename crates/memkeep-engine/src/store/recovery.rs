//! Opening a data directory: the newest snapshot, then every journal record
//! after it, applied with the same code as live writes.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::{JOURNAL_DIR, SNAPSHOT_DIR};
use crate::apply::{self, Shards};
use crate::error::{Error, Result};
use crate::fsutil;
use crate::journal::segment::{self, SegmentReader};
use crate::journal::walk::{self, WalkEnd};
use crate::journal::writer::SegmentWriter;
use crate::keyspace::{KeyHasher, Shard};
use crate::options::{Options, Recovery};
use crate::snapshot::{self, SnapshotInfo, load};

/// What opening a store found and did.
#[derive(Clone, Debug, Default)]
pub struct OpenReport {
    /// The snapshot the state started from.
    pub snapshot: Option<SnapshotInfo>,
    /// Journal records applied after the snapshot.
    pub records_replayed: u64,
    /// Journal segment files read.
    pub segments_read: usize,
    /// Files that were cut short.
    pub truncations: Vec<Truncation>,
    /// Later segments dropped with [`Recovery::TruncateDamagedJournal`].
    pub dropped_segments: Vec<PathBuf>,
    /// Keys after recovery.
    pub keys: u64,
    pub elapsed: Duration,
}

/// A journal file cut at `offset`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Truncation {
    pub file: PathBuf,
    pub offset: u64,
    pub bytes_dropped: u64,
    pub reason: String,
    /// False for a torn tail (never acknowledged, nothing lost); true for
    /// damage dropped because [`Recovery::TruncateDamagedJournal`] allowed it.
    pub data_lost: bool,
}

pub(crate) struct Recovered {
    pub(crate) shards: Vec<Shard>,
    pub(crate) hasher: KeyHasher,
    pub(crate) store_id: u64,
    pub(crate) next_seq: u64,
    pub(crate) writer: SegmentWriter,
    pub(crate) report: OpenReport,
    pub(crate) journal_bytes: u64,
}

/// Applies replayed ops to shards that no one else can see yet.
struct Replay<'a> {
    shards: &'a mut [Shard],
    hasher: KeyHasher,
}

impl Shards for Replay<'_> {
    fn hasher(&self) -> KeyHasher {
        self.hasher
    }
    fn shard(&mut self, hash: u64) -> &mut Shard {
        let n = self.shards.len();
        &mut self.shards[KeyHasher::shard_of(hash, n)]
    }
    fn for_each(&mut self, f: &mut dyn FnMut(&mut Shard)) {
        self.shards.iter_mut().for_each(f);
    }
}

/// A random 64-bit number from the OS-seeded hasher keys.
pub(crate) fn random_u64() -> u64 {
    use std::hash::BuildHasher;
    std::collections::hash_map::RandomState::new().hash_one(std::time::SystemTime::now())
}

pub(crate) fn recover(opts: &Options) -> Result<Recovered> {
    let started = Instant::now();
    let jdir = opts.dir.join(JOURNAL_DIR);
    let sdir = opts.dir.join(SNAPSHOT_DIR);
    fsutil::ensure_dir(&jdir)?;
    fsutil::ensure_dir(&sdir)?;
    fsutil::remove_tmp_files(&jdir)?;
    fsutil::remove_tmp_files(&sdir)?;
    let mut report = OpenReport::default();

    let snapshots = snapshot::list(&sdir)?;
    let segments = segment::list(&jdir)?;
    let (mut shards, hasher, after, store_id) = match snapshots.last() {
        Some((_, path)) => {
            let workers = std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .min(8);
            let loaded = load::load(path, opts.shards, workers)?;
            let h = loaded.verified.header;
            report.snapshot = Some(SnapshotInfo {
                path: path.clone(),
                seq: h.seq,
                created_ms: h.created_ms,
                keys: loaded.verified.footer.keys,
                bytes: loaded.verified.bytes,
            });
            (
                loaded.shards,
                KeyHasher::new(h.hash_seed),
                h.seq,
                h.store_id,
            )
        }
        None => {
            let hasher = KeyHasher::new(random_u64());
            let store_id = match segments.first() {
                Some((_, p)) => SegmentReader::open(p)?.header().store_id,
                None => random_u64(),
            };
            (
                (0..opts.shards).map(|_| Shard::new(hasher)).collect(),
                hasher,
                0,
                store_id,
            )
        }
    };

    let (needed, covered) = walk::split_covered(&segments, after);
    let mut replay = Replay {
        shards: &mut shards,
        hasher,
    };
    let walked = walk::walk(&needed, after, Some(store_id), |path, at, rec| {
        let ops = rec
            .ops()
            .map_err(|e| Error::corrupt(path, at, format!("record {}: {e}", rec.seq)))?;
        for op in &ops {
            apply::apply(&mut replay, op).map_err(|m| {
                Error::corrupt(
                    path,
                    at,
                    format!(
                        "record {} does not apply to the state before it: {}",
                        rec.seq, m.0
                    ),
                )
            })?;
        }
        Ok(())
    })?;
    report.records_replayed = walked.visited;
    report.segments_read = needed.len();

    match &walked.end {
        WalkEnd::Clean => {}
        WalkEnd::Torn {
            file,
            offset,
            reason,
            last: true,
        } => report
            .truncations
            .push(truncate(file, *offset, reason, false)?),
        end @ (WalkEnd::Torn {
            file,
            offset,
            reason,
            ..
        }
        | WalkEnd::Damaged {
            file,
            offset,
            reason,
        }) => {
            if opts.recovery == Recovery::Strict {
                return Err(end.as_error().expect("not clean"));
            }
            if *offset < segment::HEADER_LEN as u64 {
                // Not even the header is good: the whole file goes.
                std::fs::remove_file(file).map_err(|e| Error::io(file, e))?;
                report.dropped_segments.push(file.clone());
            } else {
                report
                    .truncations
                    .push(truncate(file, *offset, reason, true)?);
            }
            let later = needed.iter().skip_while(|(_, p)| p != file).skip(1);
            for (_, p) in later {
                std::fs::remove_file(p).map_err(|e| Error::io(p, e))?;
                report.dropped_segments.push(p.clone());
            }
        }
    }

    // Only now that the state is whole: drop files the snapshot supersedes.
    for p in &covered {
        std::fs::remove_file(p).map_err(|e| Error::io(p, e))?;
    }
    for (_, p) in snapshots.iter().rev().skip(1) {
        std::fs::remove_file(p).map_err(|e| Error::io(p, e))?;
    }
    fsutil::sync_dir(&jdir)?;
    fsutil::sync_dir(&sdir)?;

    let next_seq = walked.next_seq;
    let writer = SegmentWriter::create(&jdir, store_id, next_seq, opts.clock.now_ms())?;
    report.keys = shards.iter().map(|s| s.len() as u64).sum();
    report.elapsed = started.elapsed();
    Ok(Recovered {
        shards,
        hasher,
        store_id,
        next_seq,
        writer,
        report,
        journal_bytes: walked.bytes,
    })
}

/// Cuts `file` at `offset` and syncs it.
fn truncate(
    file: &std::path::Path,
    offset: u64,
    reason: &str,
    data_lost: bool,
) -> Result<Truncation> {
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(file)
        .map_err(|e| Error::io(file, e))?;
    let len = f.metadata().map_err(|e| Error::io(file, e))?.len();
    f.set_len(offset).map_err(|e| Error::io(file, e))?;
    f.sync_all().map_err(|e| Error::io(file, e))?;
    Ok(Truncation {
        file: file.to_owned(),
        offset,
        bytes_dropped: len - offset,
        reason: reason.to_owned(),
        data_lost,
    })
}
