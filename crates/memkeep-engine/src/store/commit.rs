//! The one write path: validate → sequence number → journal → apply →
//! acknowledge once durable.
//!
//! Lock order, always: shard locks (ascending) → `files` → `commit` →
//! snapshot sink. Writers take shard locks, then `commit` (never `files`
//! while holding `commit`); flushers take `files` then `commit` just long
//! enough to swap the pending buffer out. A writer that must capture a
//! shard for a snapshot does so before it takes `commit`, so the capture
//! stalls only writers of that shard.
//!
//! Group commit: a writer that finds its record not yet written (or synced)
//! takes the `files` lock; whoever holds it writes (and fsyncs) everything
//! pending, so concurrent writers share one `write` and one `fdatasync`.

use std::cell::Cell;
use std::io;
use std::sync::atomic::Ordering;
use std::time::Instant;

use parking_lot::RwLockWriteGuard;

use super::{CommitState, Files, Inner, Store};
use crate::apply::{self, Shards};
use crate::error::{Error, Result};
use crate::journal::record::{self, MAX_RECORD_BYTES, PAYLOAD_FIXED};
use crate::keyspace::{Entry, KeyHasher, Shard};
use crate::op::Op;
use crate::options::FsyncPolicy;
use crate::snapshot::capture::capture;

thread_local! {
    /// Inside [`Store::batch`]: the store (by address) whose acknowledgements
    /// are deferred, and the highest sequence number written meanwhile.
    static DEFERRED: Cell<(usize, u64)> = const { Cell::new((0, 0)) };
}

/// How many shards a write locks.
pub(crate) enum LockSet<'k> {
    Keys(&'k [&'k [u8]]),
    All,
}

/// The write locks of one write, sorted by shard index.
pub(crate) struct Guards<'a> {
    hasher: KeyHasher,
    count: usize,
    all: bool,
    list: Vec<(usize, RwLockWriteGuard<'a, Shard>)>,
}

impl Guards<'_> {
    fn get(&self, idx: usize) -> &Shard {
        if self.all {
            return &self.list[idx].1;
        }
        &self
            .list
            .iter()
            .find(|(i, _)| *i == idx)
            .expect("a write only touches the shards it locked")
            .1
    }

    fn get_mut(&mut self, idx: usize) -> &mut Shard {
        if self.all {
            return &mut self.list[idx].1;
        }
        &mut self
            .list
            .iter_mut()
            .find(|(i, _)| *i == idx)
            .expect("a write only touches the shards it locked")
            .1
    }
}

impl Shards for Guards<'_> {
    fn hasher(&self) -> KeyHasher {
        self.hasher
    }
    fn shard(&mut self, hash: u64) -> &mut Shard {
        let idx = KeyHasher::shard_of(hash, self.count);
        self.get_mut(idx)
    }
    fn for_each(&mut self, f: &mut dyn FnMut(&mut Shard)) {
        assert!(self.all, "an op on every shard needs every shard locked");
        for (_, g) in &mut self.list {
            f(g);
        }
    }
}

/// What a command sees while it runs: the locked shards, the time, and the
/// record it is building.
pub(crate) struct WriteCtx<'a> {
    pub(crate) inner: &'a Inner,
    guards: Guards<'a>,
    pending: &'a mut Vec<u8>,
    pub(crate) now: u64,
    ops: u32,
    size: u64,
}

impl<'a> WriteCtx<'a> {
    pub(crate) fn hash(&self, key: &[u8]) -> u64 {
        self.inner.hasher.hash(key)
    }

    /// The shard holding `key` and its record, expired or not.
    pub(crate) fn get_raw(&self, key: &[u8]) -> (&Shard, Option<Entry<'_>>) {
        let h = self.hash(key);
        let shard = self.guards.get(self.inner.shard_index(h));
        (shard, shard.get(h, key))
    }

    /// `key`'s live record. An expired key is deleted first (and the delete
    /// journaled), exactly as if the sweep had got to it.
    pub(crate) fn get(&mut self, key: &[u8]) -> Result<(&Shard, Option<Entry<'_>>)> {
        let expired = matches!(self.get_raw(key).1, Some(e) if e.is_expired(self.now));
        if expired {
            self.emit(Op::Del { key })?;
        }
        Ok(self.get_raw(key))
    }

    /// Records `op` in the journal record and applies it.
    pub(crate) fn emit(&mut self, op: Op<'_>) -> Result<()> {
        let n = op.encoded_len() as u64;
        let size = self.size + n + PAYLOAD_FIXED as u64;
        if size > MAX_RECORD_BYTES {
            return Err(Error::TooLarge {
                size,
                limit: MAX_RECORD_BYTES,
            });
        }
        if let Err(m) = apply::apply(&mut self.guards, &op) {
            // Commands validate before they emit: this is a bug, and the
            // memory state may now differ from the journal. Stop writing.
            return Err(self
                .inner
                .poison(format!("internal error: an op did not apply ({})", m.0)));
        }
        op.encode(self.pending);
        self.ops += 1;
        self.size += n;
        Ok(())
    }
}

/// Poisons the store if a command panics mid-write: memory may hold part of
/// the change and the pending buffer a half-built record, so nothing more
/// may be written (a poisoned store never flushes again).
struct RecordGuard<'a> {
    inner: &'a Inner,
    armed: bool,
}

impl Drop for RecordGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.inner
                .poison("internal error: a command panicked while writing".into());
        }
    }
}

impl Inner {
    /// Runs a write that touches `keys` (all shards for [`LockSet::All`]).
    pub(crate) fn write<R>(
        &self,
        set: LockSet<'_>,
        f: impl FnOnce(&mut WriteCtx<'_>) -> Result<R>,
    ) -> Result<R> {
        let (result, seq) = {
            self.check_writable()?;
            let guards = self.lock_shards(set);
            self.capture_before_change(&guards);
            let mut commit = self.commit.lock();
            // A snapshot may have started between the capture and here.
            self.capture_before_change(&guards);
            let now = self.now_ms();
            let seq = commit.next_seq;
            let CommitState { pending, .. } = &mut *commit;
            let start = record::begin(pending, seq, now);
            let mut panic_guard = RecordGuard {
                inner: self,
                armed: true,
            };
            let mut ctx = WriteCtx {
                inner: self,
                guards,
                pending,
                now,
                ops: 0,
                size: 0,
            };
            let result = f(&mut ctx);
            let ops = ctx.ops;
            drop(ctx);
            panic_guard.armed = false;
            if ops == 0 {
                commit.pending.truncate(start);
                (result, 0)
            } else {
                record::finish(&mut commit.pending, start, ops);
                let bytes = (commit.pending.len() - start) as u64;
                commit.next_seq += 1;
                self.journal_bytes_since_snapshot
                    .fetch_add(bytes, Ordering::Relaxed);
                (result, seq)
            }
        };
        if seq != 0 {
            self.acknowledge(seq)?;
        }
        result
    }

    fn lock_shards(&self, set: LockSet<'_>) -> Guards<'_> {
        let count = self.shards.len();
        let (all, idx): (bool, Vec<usize>) = match set {
            LockSet::All => (true, (0..count).collect()),
            LockSet::Keys(keys) => {
                let mut idx: Vec<usize> = keys
                    .iter()
                    .map(|k| self.shard_index(self.hasher.hash(k)))
                    .collect();
                idx.sort_unstable();
                idx.dedup();
                (false, idx)
            }
        };
        Guards {
            hasher: self.hasher,
            count,
            all,
            list: idx
                .into_iter()
                .map(|i| (i, self.shards[i].lock.write()))
                .collect(),
        }
    }

    /// A shard a snapshot has not captured yet is captured before this write
    /// changes it (see `store/snapshot.rs`).
    fn capture_before_change(&self, guards: &Guards<'_>) {
        let pending = |i: &usize| self.shards[*i].capture_pending.load(Ordering::Acquire);
        if !guards.list.iter().any(|(i, _)| pending(i)) {
            return;
        }
        // The sink is set before any shard is marked, and cleared only after
        // every shard was captured, so a marked shard always finds it.
        let Some(sink) = self.snapshot_sink.lock().clone() else {
            return;
        };
        for (i, g) in &guards.list {
            if self.shards[*i]
                .capture_pending
                .swap(false, Ordering::AcqRel)
            {
                sink.deliver(capture(g, *i as u32), true);
            }
        }
    }

    pub(crate) fn check_writable(&self) -> Result<()> {
        if self.poisoned.load(Ordering::Acquire) {
            let reason = self.poison_reason.lock().clone().unwrap_or_default();
            return Err(Error::Poisoned(reason));
        }
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        Ok(())
    }

    /// Refuses all further writes; returns the error to give the caller.
    pub(crate) fn poison(&self, reason: String) -> Error {
        let mut r = self.poison_reason.lock();
        let reason = r.get_or_insert(reason).clone();
        self.poisoned.store(true, Ordering::Release);
        Error::Poisoned(reason)
    }

    /// Waits until record `seq` is durable per the fsync policy, unless the
    /// caller is inside a [`Store::batch`] of this store.
    fn acknowledge(&self, seq: u64) -> Result<()> {
        let me = self as *const Inner as usize;
        let (store, max) = DEFERRED.get();
        if store == me {
            DEFERRED.set((store, max.max(seq)));
            return Ok(());
        }
        self.wait_durable(seq)
    }

    pub(crate) fn wait_durable(&self, seq: u64) -> Result<()> {
        match self.opts.fsync {
            FsyncPolicy::Always => self.sync_through(seq),
            FsyncPolicy::EverySec | FsyncPolicy::No => self.flush_through(seq),
        }
    }

    /// Makes sure record `seq` has been handed to the OS.
    pub(crate) fn flush_through(&self, seq: u64) -> Result<()> {
        if self.written.load(Ordering::Acquire) >= seq {
            return Ok(());
        }
        {
            let mut files = self.files.lock();
            if self.written.load(Ordering::Acquire) >= seq {
                return Ok(());
            }
            self.flush_locked(&mut files)?;
        }
        self.rotate_if_full()
    }

    /// Makes sure record `seq` is on disk.
    ///
    /// Group commit, leader and followers: one thread at a time (the leader)
    /// writes everything pending and fsyncs; threads arriving meanwhile wait
    /// on a condition variable, not on the `files` lock, and find their
    /// record covered by the next fsync. (Waiting on the lock itself lets a
    /// running thread barge in for every fsync, one record each.)
    pub(crate) fn sync_through(&self, seq: u64) -> Result<()> {
        loop {
            if self.synced.load(Ordering::Acquire) >= seq {
                return Ok(());
            }
            {
                let mut leader = self.sync_leader.lock();
                if self.synced.load(Ordering::Acquire) >= seq {
                    return Ok(());
                }
                if *leader {
                    self.sync_done.wait(&mut leader);
                    continue;
                }
                *leader = true;
            }
            let result = self.lead_sync();
            *self.sync_leader.lock() = false;
            self.sync_done.notify_all();
            result?;
        }
    }

    /// The leader's part of [`sync_through`](Self::sync_through).
    fn lead_sync(&self) -> Result<()> {
        {
            let mut files = self.files.lock();
            self.flush_locked(&mut files)?;
            let upto = self.written.load(Ordering::Acquire);
            self.fsync(&files.writer.file(), files.writer.path())?;
            self.synced.fetch_max(upto, Ordering::AcqRel);
        }
        self.rotate_if_full()
    }

    /// Seals a full segment and starts the next.
    pub(crate) fn rotate_if_full(&self) -> Result<()> {
        self.rotate(true).map(drop)
    }

    /// Seals the active segment (if it holds records; with `only_when_full`,
    /// only past the size limit) and starts the next. Most of the sealing
    /// fsync happens before the `files` lock is taken, so writers that need
    /// the lock wait only for the last few records' fsync, never for a
    /// whole segment's worth of dirty pages.
    pub(crate) fn rotate(&self, only_when_full: bool) -> Result<Option<super::SegmentInfo>> {
        let limit = if only_when_full {
            self.opts.segment_bytes
        } else {
            0
        };
        let empty = crate::journal::segment::HEADER_LEN as u64;
        let (file, path) = {
            let files = self.files.lock();
            if files.writer.len() < limit
                || (files.writer.len() == empty && self.commit.lock().pending.is_empty())
            {
                return Ok(None);
            }
            (files.writer.file(), files.writer.path().to_owned())
        };
        self.fsync(&file, &path)?;
        let mut files = self.files.lock();
        if files.writer.path() != path {
            return Ok(None); // another thread rotated meanwhile
        }
        self.flush_locked(&mut files)?;
        if files.writer.len() < limit || files.writer.len() == empty {
            return Ok(None);
        }
        let sealed = super::SegmentInfo {
            path: files.writer.path().to_owned(),
            first_seq: files.writer.first_seq(),
            sealed: true,
            bytes: files.writer.len(),
        };
        let next = self.written.load(Ordering::Acquire) + 1;
        self.rotate_locked(&mut files, next)?;
        Ok(Some(sealed))
    }

    /// fsyncs the active segment without holding the `files` lock during the
    /// fsync (the `everysec` background sync).
    pub(crate) fn background_sync(&self) -> Result<()> {
        let (file, path, upto) = {
            let mut files = self.files.lock();
            self.flush_locked(&mut files)?;
            (
                files.writer.file(),
                files.writer.path().to_owned(),
                self.written.load(Ordering::Acquire),
            )
        };
        if self.synced.load(Ordering::Acquire) >= upto {
            *self.last_fsync.lock() = Instant::now();
            return Ok(());
        }
        self.fsync(&file, &path)?;
        self.synced.fetch_max(upto, Ordering::AcqRel);
        self.rotate_if_full()
    }

    fn fsync(&self, file: &std::fs::File, path: &std::path::Path) -> Result<()> {
        let result = if self.opts.faults.fail_fsync.swap(false, Ordering::AcqRel) {
            Err(io::Error::other("injected fsync failure"))
        } else {
            file.sync_data()
        };
        *self.last_fsync.lock() = Instant::now();
        result.map_err(|e| self.poison(format!("fsync of {} failed: {e}", path.display())))
    }

    /// Writes every pending record to the active segment. The caller holds
    /// the `files` lock (and calls [`rotate_if_full`](Self::rotate_if_full)
    /// after releasing it).
    pub(crate) fn flush_locked(&self, files: &mut Files) -> Result<()> {
        self.check_poison()?;
        let taken = {
            let mut c = self.commit.lock();
            take_pending(&mut c, files)
        };
        match taken {
            Some((buf, last)) => self.write_taken(files, buf, last),
            None => Ok(()),
        }
    }

    /// Appends records taken by [`take_pending`]; `last` is the highest
    /// sequence number among them.
    pub(crate) fn write_taken(&self, files: &mut Files, mut buf: Vec<u8>, last: u64) -> Result<()> {
        if let Err(e) = files.writer.append(&buf) {
            return Err(self.poison(format!(
                "write to {} failed: {e}",
                files.writer.path().display()
            )));
        }
        buf.clear();
        if buf.capacity() > 4 << 20 {
            buf.shrink_to(1 << 20);
        }
        files.spare = buf;
        self.written.store(last, Ordering::Release);
        Ok(())
    }

    /// Seals the active segment (everything before `next_seq` is in it) and
    /// starts the next one.
    pub(crate) fn rotate_locked(&self, files: &mut Files, next_seq: u64) -> Result<()> {
        if self.opts.faults.fail_fsync.swap(false, Ordering::AcqRel) {
            return Err(self.poison(format!(
                "fsync of {} failed: injected fsync failure",
                files.writer.path().display()
            )));
        }
        let now = self.now_ms();
        files
            .writer
            .rotate(next_seq, now)
            .map_err(|e| self.poison(format!("starting journal segment {next_seq} failed: {e}")))?;
        self.synced.fetch_max(next_seq - 1, Ordering::AcqRel);
        Ok(())
    }

    fn check_poison(&self) -> Result<()> {
        if self.poisoned.load(Ordering::Acquire) {
            let reason = self.poison_reason.lock().clone().unwrap_or_default();
            return Err(Error::Poisoned(reason));
        }
        Ok(())
    }

    pub(crate) fn seal_segment(&self) -> Result<Option<super::SegmentInfo>> {
        self.rotate(false)
    }
}

/// Swaps the pending records out (for the spare buffer): the records and
/// the highest sequence number among them, or `None` when nothing is pending.
fn take_pending(commit: &mut CommitState, files: &mut Files) -> Option<(Vec<u8>, u64)> {
    if commit.pending.is_empty() {
        return None;
    }
    let spare = std::mem::take(&mut files.spare);
    Some((
        std::mem::replace(&mut commit.pending, spare),
        commit.next_seq - 1,
    ))
}

impl Store {
    /// Runs `f` with the acknowledgement of this store's writes deferred to
    /// the end, so many writes share one journal write (and one fsync with
    /// [`FsyncPolicy::Always`]). Writes inside return as soon as they are
    /// applied; `batch` returns once all of them are durable. If it returns
    /// an error, none of the batch's writes may be taken as acknowledged.
    ///
    /// Deferral is per thread: writes from other threads are not affected.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// use memkeep_engine::{FsyncPolicy, Options, Store};
    /// let store = Store::open(Options::new(dir.path()).fsync(FsyncPolicy::Always))?;
    /// // 1,000 writes, one fsync.
    /// store.batch(|| -> memkeep_engine::Result<()> {
    ///     for i in 0..1000 {
    ///         store.set(format!("user:{i}"), "{}")?;
    ///     }
    ///     Ok(())
    /// })??;
    /// assert_eq!(store.dbsize(), 1000);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn batch<R>(&self, f: impl FnOnce() -> R) -> Result<R> {
        let me = std::sync::Arc::as_ptr(&self.inner) as usize;
        let outer = DEFERRED.get();
        if outer.0 == me {
            return Ok(f()); // nested: the outer batch waits
        }
        DEFERRED.set((me, 0));
        struct Restore((usize, u64));
        impl Drop for Restore {
            fn drop(&mut self) {
                DEFERRED.set(self.0);
            }
        }
        let restore = Restore(outer);
        let r = f();
        let (_, max) = DEFERRED.get();
        drop(restore);
        if max > 0 {
            self.inner.wait_durable(max)?;
        }
        Ok(r)
    }
}
