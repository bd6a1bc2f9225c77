//! Background work: the `everysec` fsync, sweeping expired keys, and
//! snapshots when the journal has grown or time has passed.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

use super::tx::Keys;
use super::{Inner, Store};
use crate::error::Result;
use crate::mem::arena::ArenaPos;
use crate::op::Op;
use crate::options::FsyncPolicy;

/// Tells the housekeeping thread to stop; shared so the thread can wait on
/// it without keeping the store alive.
#[derive(Default)]
pub(crate) struct Stop {
    stopped: Mutex<bool>,
    cv: Condvar,
}

impl Stop {
    pub(crate) fn signal(&self) {
        *self.stopped.lock() = true;
        self.cv.notify_all();
    }

    /// Waits up to `d`; true once stopped.
    fn wait(&self, d: Duration) -> bool {
        let mut s = self.stopped.lock();
        if !*s {
            self.cv.wait_for(&mut s, d);
        }
        *s
    }
}

/// The housekeeping thread: one pass per interval until stopped or the
/// store is dropped.
pub(crate) fn run(inner: Weak<Inner>, stop: Arc<Stop>, every: Duration) {
    while !stop.wait(every) {
        let Some(inner) = inner.upgrade() else { return };
        // Errors poison the store (and are reported by writes and status);
        // the pass itself has no one to return them to.
        let _ = inner.housekeep(true);
    }
}

impl Store {
    /// One housekeeping pass, done now: the `everysec` fsync when due, an
    /// expiry sweep, and a snapshot when one is due (taken synchronously).
    /// The background thread does this every 100 ms; call it yourself when
    /// [`Options::background`](crate::Options::background) is off.
    pub fn housekeep(&self) -> Result<()> {
        self.inner.housekeep(false)
    }

    /// Deletes expired keys, examining up to `per_shard` keys of every shard
    /// that has keys with a TTL. Returns how many were deleted.
    pub fn sweep_expired(&self, per_shard: usize) -> Result<u64> {
        self.inner.sweep_expired(per_shard)
    }
}

impl Inner {
    fn housekeep(self: &Arc<Inner>, background: bool) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            return Ok(());
        }
        if self.fsync_policy() == FsyncPolicy::EverySec
            && self.last_fsync.lock().elapsed() >= Duration::from_secs(1)
            && self.synced.load(Ordering::Acquire) < self.written.load(Ordering::Acquire)
        {
            self.background_sync()?;
        }
        self.sweep_expired(self.opts.expire_sweep_keys)?;
        if self.snapshot_due() {
            if background {
                self.snapshot_in_background();
            } else {
                self.snapshot()?;
            }
        }
        Ok(())
    }

    fn snapshot_due(&self) -> bool {
        let bytes = self.journal_bytes_since_snapshot.load(Ordering::Relaxed);
        if bytes == 0 {
            return false;
        }
        bytes >= self.opts.snapshot_after_bytes
            || self
                .opts
                .snapshot_interval
                .is_some_and(|every| self.last_snapshot_at.lock().elapsed() >= every)
    }

    /// Starts a snapshot on its own thread (so the `everysec` fsync never
    /// waits for one), unless one is running.
    fn snapshot_in_background(self: &Arc<Inner>) {
        if self.snapshot_queued.swap(true, Ordering::AcqRel) {
            return; // one is already on its way
        }
        let arc = Arc::clone(self);
        let spawned = std::thread::Builder::new()
            .name("memkeep-snapshot".into())
            .spawn(move || {
                let _ = arc.snapshot();
                arc.snapshot_queued.store(false, Ordering::Release);
            });
        if spawned.is_err() {
            self.snapshot_queued.store(false, Ordering::Release);
        }
    }

    fn sweep_expired(&self, per_shard: usize) -> Result<u64> {
        let mut deleted = 0;
        for slot in self.shards.iter() {
            let expired: Vec<Vec<u8>> = {
                let shard = slot.lock.read();
                if shard.volatile() == 0 {
                    continue;
                }
                let now = self.now_ms();
                let mut pos = slot.sweep_pos.lock();
                let mut out = Vec::new();
                for _ in 0..per_shard {
                    match shard.next_from(*pos) {
                        Some((e, next)) => {
                            *pos = next;
                            if e.is_expired(now) {
                                out.push(e.key.to_vec());
                            }
                        }
                        None => {
                            *pos = ArenaPos::default();
                            break;
                        }
                    }
                }
                out
            };
            if expired.is_empty() {
                continue;
            }
            let keys: Vec<&[u8]> = expired.iter().map(Vec::as_slice).collect();
            deleted += self.write(Keys::Some(&keys), |ctx| {
                let mut n = 0;
                for key in &keys {
                    if ctx.entry_raw(key)?.1.is_some_and(|e| e.is_expired(ctx.now)) {
                        ctx.emit(Op::Del { key })?;
                        n += 1;
                    }
                }
                Ok(n)
            })?;
        }
        Ok(deleted)
    }
}
