//! Snapshots that are consistent at one sequence number S, without fork
//! and without stopping writers.
//!
//! 1. Under the commit lock: S = the last assigned sequence number, and
//!    every shard is marked *capture pending*.
//! 2. The snapshot thread visits the shards one by one. A shard still
//!    pending is serialised under its read lock and unmarked.
//! 3. A writer holds the write locks of the shards it changes from before
//!    it takes its sequence number (under the commit lock) until it has
//!    applied its change. If one of its shards is still pending, the writer
//!    serialises it *before* applying its change (`commit.rs`,
//!    `capture_before_change`, checked again once the commit lock is held).
//!    Every record after S therefore changes only shards already captured,
//!    and every record up to S was applied before its shards could be
//!    captured (the capture needs the shard's lock).
//!
//! So each shard is captured exactly as of S; replay starts at S + 1. A
//! writer that triggers a capture waits for one shard to be serialised
//! (shards are small: data / 256), never for the disk.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use super::{Inner, JOURNAL_DIR, SNAPSHOT_DIR, Store};
use crate::error::{Error, Result};
use crate::fsutil;
use crate::journal::segment;
use crate::journal::walk::split_covered;
use crate::snapshot::capture::capture;
use crate::snapshot::format::SnapshotHeader;
use crate::snapshot::sink::Sink;
use crate::snapshot::{self, SnapshotInfo};

impl Store {
    /// Takes a snapshot now and waits for it to be durable (`SAVE`). Writers
    /// keep going meanwhile. The journal before the snapshot is deleted
    /// (unless [`retain_journal_from`](Self::retain_journal_from) keeps it).
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let store = memkeep_engine::Store::open(memkeep_engine::Options::new(dir.path()))?;
    /// store.rpush("jobs", &["a", "b"])?;
    /// let snap = store.snapshot()?;
    /// assert_eq!(snap.seq, store.last_seq());
    /// assert_eq!(snap.keys, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn snapshot(&self) -> Result<SnapshotInfo> {
        self.inner.snapshot()
    }
}

impl Inner {
    pub(crate) fn snapshot(&self) -> Result<SnapshotInfo> {
        let _one = self.snapshot_lock.lock();
        self.check_writable()?;
        // Seal the journal first (most of its fsync outside any lock), so the
        // segments this snapshot covers can be deleted once it is durable.
        self.rotate(false)?;
        let sink = self.start_snapshot()?;
        let result = self.capture_all(&sink);
        *self.snapshot_sink.lock() = None;
        if let Err(e) = result {
            for slot in self.shards.iter() {
                slot.capture_pending.store(false, Ordering::Release);
            }
            sink.abort();
            return Err(e);
        }
        // Writers clone the sink only while a shard is marked, and every
        // shard was captured (each capture completed under its shard's lock,
        // which `capture_all` took after): ours is the last handle.
        let sink = Arc::try_unwrap(sink)
            .map_err(|_| Error::Poisoned("snapshot sink still shared".into()))?;
        let info = sink.finish()?;
        *self.last_snapshot.lock() = Some(info.clone());
        *self.last_snapshot_at.lock() = Instant::now();
        self.delete_superseded(info.seq)?;
        Ok(info)
    }

    /// Step 1: fix S and mark every shard. (The journal was sealed just
    /// before; records that arrived since are in the new segment, which a
    /// later snapshot will cover; replay skips those up to S.)
    fn start_snapshot(&self) -> Result<Arc<Sink>> {
        let commit = self.commit.lock();
        let seq = commit.next_seq - 1;
        let header = SnapshotHeader {
            shard_count: self.shards.len() as u32,
            store_id: self.store_id,
            seq,
            created_ms: self.now_ms(),
            hash_seed: self.hasher.seed(),
        };
        let sink = Arc::new(Sink::create(&self.dir.join(SNAPSHOT_DIR), header)?);
        *self.snapshot_sink.lock() = Some(Arc::clone(&sink));
        for slot in self.shards.iter() {
            slot.capture_pending.store(true, Ordering::Release);
        }
        self.journal_bytes_since_snapshot
            .store(0, Ordering::Relaxed);
        drop(commit);
        Ok(sink)
    }

    /// Step 2: capture every shard no writer captured first.
    fn capture_all(&self, sink: &Sink) -> Result<()> {
        for (i, slot) in self.shards.iter().enumerate() {
            if self.closed.load(Ordering::Acquire) {
                return Err(Error::Closed);
            }
            let captured = {
                let shard = slot.lock.read();
                slot.capture_pending
                    .swap(false, Ordering::AcqRel)
                    .then(|| capture(&shard, i as u32))
            };
            if let Some(c) = captured {
                sink.deliver(c, false);
            }
            sink.drain();
        }
        Ok(())
    }

    /// Deletes older snapshots and the journal segments the snapshot at
    /// `seq` covers, except those a replicator asked to keep.
    fn delete_superseded(&self, seq: u64) -> Result<()> {
        let sdir = self.dir.join(SNAPSHOT_DIR);
        for (s, path) in snapshot::list(&sdir)? {
            if s < seq {
                std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
            }
        }
        let jdir = self.dir.join(JOURNAL_DIR);
        let keep_from = self.retain_from.load(Ordering::Acquire);
        let segments = segment::list(&jdir)?;
        let covered = split_covered(&segments, seq.min(keep_from.saturating_sub(1))).1;
        for path in &covered {
            std::fs::remove_file(path).map_err(|e| Error::io(path, e))?;
        }
        fsutil::sync_dir(&sdir)?;
        fsutil::sync_dir(&jdir)
    }
}
