//! The [`Store`]: a handle to an open data directory.
//!
//! - `commit.rs`: durability: group commit, fsync policy, poisoning.
//! - `recovery.rs`: open = newest snapshot + journal replay.
//! - `snapshot.rs`: consistent snapshots without fork.
//! - `housekeeping.rs`: background fsync, expiry sweeps, snapshot triggers.
//! - `strings.rs` … `zsets.rs`, `keys.rs`, `scan.rs`: the typed API.

mod commit;
mod hashes;
mod housekeeping;
mod keys;
mod lists;
mod read;
mod recovery;
mod scan;
mod sets;
mod snapshot;
mod strings;
mod tx;
mod value;
mod watch;
mod zsets;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Instant;

use parking_lot::{Condvar, Mutex, RwLock};

pub use keys::{ExpireCondition, Expiry, Ttl};
pub use read::{KeyView, Pairs, Reads, Scored, ShardView};
pub use recovery::{OpenReport, Truncation};
pub use scan::{ScanOptions, ScanPage};
pub use strings::{MAX_STRING_BYTES, SetCondition, SetOptions, SetOutcome};
pub use tx::{Keys, Tx};
pub use value::Value;
pub use watch::Watch;
pub use zsets::{ZAddOptions, ZAddResult, ZRange};

use crate::error::{Error, Result};
use crate::journal::writer::SegmentWriter;
use crate::keyspace::{KeyHasher, Shard};
use crate::mem::arena::ArenaPos;
use crate::options::Options;
use crate::snapshot::SnapshotInfo;
use crate::snapshot::sink::Sink;

pub(crate) const JOURNAL_DIR: &str = "journal";
pub(crate) const SNAPSHOT_DIR: &str = "snapshots";
const LOCK_FILE: &str = "LOCK";

/// One keyspace shard and its snapshot bookkeeping.
pub(crate) struct ShardSlot {
    pub(crate) lock: RwLock<Shard>,
    /// Set when a snapshot starts; cleared by whoever captures the shard
    /// first (the snapshot thread, or a writer about to change it).
    pub(crate) capture_pending: AtomicBool,
    /// Where the expiry sweep resumes in this shard.
    pub(crate) sweep_pos: Mutex<ArenaPos>,
}

/// State guarded by the commit lock: record order and the pending buffer.
pub(crate) struct CommitState {
    pub(crate) next_seq: u64,
    /// Framed records not yet handed to the OS.
    pub(crate) pending: Vec<u8>,
}

/// The active segment and a spare buffer to swap with `pending`.
pub(crate) struct Files {
    pub(crate) writer: SegmentWriter,
    pub(crate) spare: Vec<u8>,
}

pub(crate) struct Inner {
    pub(crate) opts: Options,
    pub(crate) dir: PathBuf,
    pub(crate) store_id: u64,
    pub(crate) hasher: KeyHasher,
    pub(crate) shards: Box<[ShardSlot]>,
    pub(crate) commit: Mutex<CommitState>,
    pub(crate) files: Mutex<Files>,
    /// The fsync policy in force (`FsyncPolicy as u8`; `CONFIG SET` changes it).
    pub(crate) fsync: AtomicU8,
    /// Highest sequence number handed to the OS.
    pub(crate) written: AtomicU64,
    /// Highest sequence number known to be on disk.
    pub(crate) synced: AtomicU64,
    /// Group commit: whether a leader is fsyncing, and its "done" signal.
    pub(crate) sync_leader: Mutex<bool>,
    pub(crate) sync_done: Condvar,
    pub(crate) poisoned: AtomicBool,
    pub(crate) poison_reason: Mutex<Option<String>>,
    /// One snapshot at a time.
    pub(crate) snapshot_lock: Mutex<()>,
    /// A background snapshot thread has been started and not yet finished.
    pub(crate) snapshot_queued: AtomicBool,
    /// Watched keys (`WATCH`).
    pub(crate) watches: watch::Watches,
    /// The snapshot in progress: set before shards are marked for capture,
    /// cleared after every shard was captured.
    pub(crate) snapshot_sink: Mutex<Option<Arc<Sink>>>,
    pub(crate) last_snapshot: Mutex<Option<SnapshotInfo>>,
    pub(crate) last_snapshot_at: Mutex<Instant>,
    pub(crate) journal_bytes_since_snapshot: AtomicU64,
    /// Journal segments holding records at or after this sequence number are
    /// kept even when a snapshot covers them (for a replicator).
    pub(crate) retain_from: AtomicU64,
    pub(crate) last_fsync: Mutex<Instant>,
    pub(crate) closed: AtomicBool,
    pub(crate) stop: Arc<housekeeping::Stop>,
    pub(crate) housekeeper: Mutex<Option<JoinHandle<()>>>,
    pub(crate) open_report: OpenReport,
    /// Held for the life of the store: one process per data directory.
    _lock: File,
}

/// A memory-first key-value store with a crash-safe journal.
///
/// Cheap to clone; every clone is the same store. Reads are served from
/// memory under per-shard read locks; every write goes through one commit
/// path: sequence number, journal append, apply in memory, acknowledge once
/// durable per the [`FsyncPolicy`](crate::FsyncPolicy).
///
/// ```
/// use memkeep_engine::{Options, Reads, Store};
///
/// let dir = tempfile::tempdir()?;
/// let store = Store::open(Options::new(dir.path()))?;
/// store.set("greeting", "hello")?;
/// store.hset("user_configs", [("12345", r#"{"lang":"zh"}"#)])?;
/// drop(store);
///
/// // Everything acknowledged is there after a reopen.
/// let store = Store::open(Options::new(dir.path()))?;
/// assert_eq!(store.get("greeting")?.as_deref(), Some(&b"hello"[..]));
/// assert_eq!(store.hget("user_configs", "12345")?.as_deref(), Some(&br#"{"lang":"zh"}"#[..]));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Store {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("dir", &self.inner.dir)
            .finish_non_exhaustive()
    }
}

/// Figures about the store, for status pages and `INFO`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub keys: u64,
    /// Keys with a TTL.
    pub volatile_keys: u64,
    /// Bytes the data holds in memory (records, tables, collections).
    pub used_memory: u64,
    /// The last sequence number assigned.
    pub last_seq: u64,
    /// The highest sequence number handed to the OS.
    pub written_seq: u64,
    /// The highest sequence number on disk.
    pub synced_seq: u64,
    pub journal_segments: u64,
    pub journal_bytes: u64,
    pub journal_bytes_since_snapshot: u64,
    pub last_snapshot: Option<SnapshotInfo>,
    /// Set when the store refuses writes, with the reason.
    pub poisoned: Option<String>,
}

/// A journal segment file, for replicators.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentInfo {
    pub path: PathBuf,
    pub first_seq: u64,
    /// Sealed segments are complete and never change again.
    pub sealed: bool,
    pub bytes: u64,
}

impl Store {
    /// Opens (or creates) the store in `opts.dir`: loads the newest snapshot,
    /// replays the journal after it, and starts a new journal segment.
    ///
    /// A torn last record is cut off; any other damage stops the open with an
    /// error naming the file and offset (see [`Recovery`](crate::Recovery)).
    pub fn open(opts: Options) -> Result<Store> {
        opts.validate().map_err(Error::InvalidArgument)?;
        let dir = opts.dir.clone();
        crate::fsutil::ensure_dir(&dir)?;
        let lock = lock_dir(&dir)?;
        let rec = recovery::recover(&opts)?;
        let now = Instant::now();
        let shards: Box<[ShardSlot]> = rec
            .shards
            .into_iter()
            .map(|s| ShardSlot {
                lock: RwLock::new(s),
                capture_pending: AtomicBool::new(false),
                sweep_pos: Mutex::new(ArenaPos::default()),
            })
            .collect();
        let last = rec.next_seq - 1;
        let inner = Arc::new(Inner {
            dir,
            store_id: rec.store_id,
            hasher: rec.hasher,
            shards,
            commit: Mutex::new(CommitState {
                next_seq: rec.next_seq,
                pending: Vec::new(),
            }),
            files: Mutex::new(Files {
                writer: rec.writer,
                spare: Vec::new(),
            }),
            fsync: AtomicU8::new(opts.fsync as u8),
            written: AtomicU64::new(last),
            synced: AtomicU64::new(last),
            sync_leader: Mutex::new(false),
            sync_done: Condvar::new(),
            poisoned: AtomicBool::new(false),
            poison_reason: Mutex::new(None),
            snapshot_lock: Mutex::new(()),
            snapshot_queued: AtomicBool::new(false),
            snapshot_sink: Mutex::new(None),
            watches: watch::Watches::default(),
            last_snapshot: Mutex::new(rec.report.snapshot.clone()),
            last_snapshot_at: Mutex::new(now),
            journal_bytes_since_snapshot: AtomicU64::new(rec.journal_bytes),
            retain_from: AtomicU64::new(u64::MAX),
            last_fsync: Mutex::new(now),
            closed: AtomicBool::new(false),
            stop: Arc::new(housekeeping::Stop::default()),
            housekeeper: Mutex::new(None),
            open_report: rec.report,
            opts,
            _lock: lock,
        });
        if inner.opts.background {
            let weak = Arc::downgrade(&inner);
            let stop = Arc::clone(&inner.stop);
            let every = inner.opts.housekeeping_interval;
            let handle = std::thread::Builder::new()
                .name("memkeep-housekeeping".into())
                .spawn(move || housekeeping::run(weak, stop, every))
                .map_err(|e| Error::io(&inner.dir, e))?;
            *inner.housekeeper.lock() = Some(handle);
        }
        Ok(Store { inner })
    }

    /// What the last open found and did.
    pub fn open_report(&self) -> &OpenReport {
        &self.inner.open_report
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// The last sequence number assigned to a write.
    pub fn last_seq(&self) -> u64 {
        self.inner.commit.lock().next_seq - 1
    }

    /// The highest sequence number known to be on disk (fsynced).
    pub fn synced_seq(&self) -> u64 {
        self.inner.synced.load(Ordering::Acquire)
    }

    /// Bytes the data holds in memory.
    pub fn used_memory(&self) -> u64 {
        self.inner
            .shards
            .iter()
            .map(|s| s.lock.read().memory() as u64)
            .sum::<u64>()
            + self.inner.commit.lock().pending.capacity() as u64
            + self.inner.files.lock().spare.capacity() as u64
    }

    /// Figures for status pages.
    pub fn stats(&self) -> Result<Stats> {
        let (mut keys, mut volatile) = (0, 0);
        for s in self.inner.shards.iter() {
            let s = s.lock.read();
            keys += s.len() as u64;
            volatile += s.volatile() as u64;
        }
        let segments = self.journal_segments()?;
        Ok(Stats {
            keys,
            volatile_keys: volatile,
            used_memory: self.used_memory(),
            last_seq: self.last_seq(),
            written_seq: self.inner.written.load(Ordering::Acquire),
            synced_seq: self.synced_seq(),
            journal_segments: segments.len() as u64,
            journal_bytes: segments.iter().map(|s| s.bytes).sum(),
            journal_bytes_since_snapshot: self
                .inner
                .journal_bytes_since_snapshot
                .load(Ordering::Relaxed),
            last_snapshot: self.inner.last_snapshot.lock().clone(),
            poisoned: self.inner.poison_reason.lock().clone(),
        })
    }

    /// The journal's segment files, oldest first. All but the last are sealed.
    pub fn journal_segments(&self) -> Result<Vec<SegmentInfo>> {
        let active = self.inner.files.lock().writer.first_seq();
        let list = crate::journal::segment::list(&self.inner.dir.join(JOURNAL_DIR))?;
        Ok(list
            .into_iter()
            .map(|(first_seq, path)| SegmentInfo {
                bytes: std::fs::metadata(&path).map_or(0, |m| m.len()),
                sealed: first_seq != active,
                path,
                first_seq,
            })
            .collect())
    }

    /// Seals the active journal segment (flushing and fsyncing it) and starts
    /// a new one, so a replicator can ship everything written so far.
    /// Returns the sealed segment, or `None` when it held no records.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let store = memkeep_engine::Store::open(memkeep_engine::Options::new(dir.path()))?;
    /// use memkeep_engine::journal::{Next, SegmentReader};
    /// store.set("a", "1")?;
    /// let sealed = store.seal_segment()?.expect("one record to ship");
    /// let mut reader = SegmentReader::open(&sealed.path)?;
    /// while reader.next_record()? == Next::Record {
    ///     let record = reader.record()?;
    ///     println!("record {} at {} ms: {:?}", record.seq, record.time_ms, record.ops()?);
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn seal_segment(&self) -> Result<Option<SegmentInfo>> {
        self.inner.seal_segment()
    }

    /// Keeps journal segments that hold records at or after `seq` even when
    /// a snapshot covers them; `None` lets snapshots delete them again.
    pub fn retain_journal_from(&self, seq: Option<u64>) {
        self.inner
            .retain_from
            .store(seq.unwrap_or(u64::MAX), Ordering::Release);
    }

    /// The newest snapshot file, if any.
    pub fn last_snapshot(&self) -> Option<SnapshotInfo> {
        self.inner.last_snapshot.lock().clone()
    }

    /// Flushes and fsyncs the journal, stops background work and releases the
    /// data directory. Dropping the last handle does the same, ignoring errors.
    pub fn close(self) -> Result<()> {
        self.inner.shutdown()
    }
}

impl Inner {
    pub(crate) fn now_ms(&self) -> u64 {
        self.opts.clock.now_ms()
    }

    pub(crate) fn shard_index(&self, hash: u64) -> usize {
        KeyHasher::shard_of(hash, self.shards.len())
    }

    fn shutdown(&self) -> Result<()> {
        if self.closed.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        self.stop.signal();
        if let Some(h) = self.housekeeper.lock().take()
            && h.thread().id() != std::thread::current().id()
        {
            let _ = h.join();
        }
        let last = self.commit.lock().next_seq - 1;
        if self.poisoned.load(Ordering::Acquire) {
            return Ok(()); // nothing more can be made durable; the reason was reported
        }
        self.sync_through(last)
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

/// Takes the data directory's lock file, or says who has it.
fn lock_dir(dir: &Path) -> Result<File> {
    let path = dir.join(LOCK_FILE);
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::io(&path, e))?;
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(std::fs::TryLockError::WouldBlock) => Err(Error::Locked {
            path: dir.to_owned(),
        }),
        Err(std::fs::TryLockError::Error(e)) => Err(Error::io(&path, e)),
    }
}
