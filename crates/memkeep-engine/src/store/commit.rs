//! Durability: getting records from the pending buffer to the operating
//! system and the disk, as the fsync policy asks, and refusing writes once
//! that has failed.
//!
//! Flushers take `files`, then `commit` just long enough to swap the pending
//! buffer out (see `tx.rs` for the lock order). Group commit: whoever holds
//! `files` writes (and fsyncs) everything pending, so concurrent writers
//! share one `write` and one `fdatasync`.

use std::cell::Cell;
use std::io;
use std::sync::atomic::Ordering;
use std::time::Instant;

use super::{CommitState, Files, Inner, Store};
use crate::error::{Error, Result};
use crate::options::FsyncPolicy;

thread_local! {
    /// Inside [`Store::batch`]: the store (by address) whose acknowledgements
    /// are deferred, and the highest sequence number written meanwhile.
    static DEFERRED: Cell<(usize, u64)> = const { Cell::new((0, 0)) };
}

impl Inner {
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
    pub(crate) fn acknowledge(&self, seq: u64) -> Result<()> {
        let me = self as *const Inner as usize;
        let (store, max) = DEFERRED.get();
        if store == me {
            DEFERRED.set((store, max.max(seq)));
            return Ok(());
        }
        self.wait_durable(seq)
    }

    pub(crate) fn fsync_policy(&self) -> FsyncPolicy {
        match self.fsync.load(Ordering::Acquire) {
            0 => FsyncPolicy::Always,
            1 => FsyncPolicy::EverySec,
            _ => FsyncPolicy::No,
        }
    }

    pub(crate) fn wait_durable(&self, seq: u64) -> Result<()> {
        match self.fsync_policy() {
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
    /// use memkeep_engine::{FsyncPolicy, Options, Reads, Store};
    /// let store = Store::open(Options::new(dir.path()).fsync(FsyncPolicy::Always))?;
    /// // 1,000 writes, one fsync.
    /// store.batch(|| -> memkeep_engine::Result<()> {
    ///     for i in 0..1000 {
    ///         store.set(format!("user:{i}"), "{}")?;
    ///     }
    ///     Ok(())
    /// })??;
    /// assert_eq!(store.dbsize()?, 1000);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn batch<R>(&self, f: impl FnOnce() -> R) -> Result<R> {
        let (r, max) = self.deferred(f);
        if max > 0 {
            self.inner.wait_durable(max)?;
        }
        Ok(r)
    }

    /// Runs `f` with the acknowledgement of this store's writes deferred, and
    /// returns its result with the highest sequence number it wrote (0 when
    /// it wrote nothing) *without* waiting: the caller must
    /// [`wait_durable`](Self::wait_durable) for it before treating the writes
    /// as acknowledged. (A server does this to answer a whole pipeline of
    /// commands after one journal write.)
    pub fn deferred<R>(&self, f: impl FnOnce() -> R) -> (R, u64) {
        let me = std::sync::Arc::as_ptr(&self.inner) as usize;
        let outer = DEFERRED.get();
        DEFERRED.set((me, 0));
        struct Restore((usize, u64));
        impl Drop for Restore {
            fn drop(&mut self) {
                DEFERRED.set(self.0);
            }
        }
        let mut restore = Restore(outer);
        let r = f();
        let (_, max) = DEFERRED.get();
        if outer.0 == me {
            restore.0 = (me, outer.1.max(max)); // a nested deferral reports to the outer one
        }
        drop(restore);
        (r, max)
    }

    /// Waits until record `seq` is durable under the fsync policy: written to
    /// the OS, and with `always` also fsynced.
    pub fn wait_durable(&self, seq: u64) -> Result<()> {
        self.inner.wait_durable(seq)
    }

    /// The fsync policy in force.
    pub fn fsync_policy(&self) -> FsyncPolicy {
        self.inner.fsync_policy()
    }

    /// Changes the fsync policy of the running store (`CONFIG SET appendfsync`).
    pub fn set_fsync_policy(&self, policy: FsyncPolicy) {
        self.inner.fsync.store(policy as u8, Ordering::Release);
    }
}
