//! Transactions: the locked shards and the journal record one write is
//! building. Every write — a single `SET` or a whole `MULTI`/`EXEC` — runs
//! as one [`Tx`] and becomes one journal record, so it is applied entirely
//! or (if it was never acknowledged) not at all.
//!
//! Lock order, always: shard locks (ascending) → `files` → `commit` →
//! snapshot sink. A transaction takes its shard locks, captures any of them
//! a snapshot still needs (`store/snapshot.rs`), then takes `commit` for its
//! sequence number and holds it until its record is complete.

use std::sync::atomic::Ordering;

use parking_lot::RwLockWriteGuard;

use super::{CommitState, Inner, Store};
use crate::apply::{self, Shards};
use crate::error::{Error, Result};
use crate::journal::record::{self, MAX_RECORD_BYTES, PAYLOAD_FIXED};
use crate::keyspace::{Entry, KeyHasher, Shard};
use crate::op::Op;
use crate::snapshot::capture::capture;

/// Which shards a transaction locks.
#[derive(Clone, Copy, Debug)]
pub enum Keys<'k> {
    /// The shards of these keys: the transaction may touch only them.
    Some(&'k [&'k [u8]]),
    /// Every shard (`FLUSHALL`, `KEYS` inside `EXEC`, transactions whose
    /// keys are not known in advance).
    All,
}

/// The write locks of one transaction, sorted by shard index.
pub(crate) struct Guards<'a> {
    hasher: KeyHasher,
    count: usize,
    all: bool,
    list: Vec<(usize, RwLockWriteGuard<'a, Shard>)>,
}

impl Guards<'_> {
    fn get(&self, idx: usize) -> Option<&Shard> {
        if self.all {
            return Some(&self.list[idx].1);
        }
        self.list.iter().find(|(i, _)| *i == idx).map(|(_, g)| &**g)
    }

    fn has(&self, idx: usize) -> bool {
        self.all || self.list.iter().any(|(i, _)| *i == idx)
    }
}

impl Shards for Guards<'_> {
    fn hasher(&self) -> KeyHasher {
        self.hasher
    }
    fn shard(&mut self, hash: u64) -> &mut Shard {
        let idx = KeyHasher::shard_of(hash, self.count);
        if self.all {
            return &mut self.list[idx].1;
        }
        &mut self
            .list
            .iter_mut()
            .find(|(i, _)| *i == idx)
            .expect("ops are checked against the lock set before they apply")
            .1
    }
    fn for_each(&mut self, f: &mut dyn FnMut(&mut Shard)) {
        assert!(
            self.all,
            "ops on every shard are checked against the lock set"
        );
        for (_, g) in &mut self.list {
            f(g);
        }
    }
}

/// A transaction in progress: reads see its locked shards (and its own
/// writes), writes are applied at once and recorded in its journal record.
/// Obtained from [`Store::transaction`]; the typed write commands are its
/// methods, the read commands come from [`Reads`](crate::Reads).
pub struct Tx<'a> {
    pub(crate) inner: &'a Inner,
    guards: Guards<'a>,
    pending: &'a mut Vec<u8>,
    pub(crate) now: u64,
    ops: u32,
    size: u64,
}

impl<'a> Tx<'a> {
    pub(crate) fn hash(&self, key: &[u8]) -> u64 {
        self.inner.hasher.hash(key)
    }

    /// The shard holding `key` (which must be among the locked ones).
    pub(crate) fn shard(&self, key: &[u8]) -> Result<(&Shard, u64)> {
        let h = self.hash(key);
        let shard = self
            .guards
            .get(self.inner.shard_index(h))
            .ok_or(Error::KeyNotDeclared)?;
        Ok((shard, h))
    }

    /// `key`'s record, expired or not.
    pub(crate) fn entry_raw(&self, key: &[u8]) -> Result<(&Shard, Option<Entry<'_>>)> {
        let (shard, h) = self.shard(key)?;
        Ok((shard, shard.get(h, key)))
    }

    /// `key`'s live record. An expired key is deleted first (and the delete
    /// journaled), exactly as if the sweep had got to it.
    pub(crate) fn live_entry(&mut self, key: &[u8]) -> Result<(&Shard, Option<Entry<'_>>)> {
        let expired = matches!(self.entry_raw(key)?.1, Some(e) if e.is_expired(self.now));
        if expired {
            self.emit(Op::Del { key })?;
        }
        self.entry_raw(key)
    }

    /// Shard `idx`, when the transaction holds every shard.
    pub(crate) fn shard_at(&self, idx: usize) -> Result<&Shard> {
        if !self.guards.all {
            return Err(Error::KeyNotDeclared);
        }
        Ok(&self.guards.list[idx].1)
    }

    /// Records `op` in the journal record and applies it.
    pub(crate) fn emit(&mut self, op: Op<'_>) -> Result<()> {
        let locked = match op.keys() {
            [None, None] => self.guards.all,
            keys => keys
                .iter()
                .flatten()
                .all(|k| self.guards.has(self.inner.shard_index(self.hash(k)))),
        };
        if !locked {
            return Err(Error::KeyNotDeclared);
        }
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
        self.inner.watches.touch(&op);
        op.encode(self.pending);
        self.ops += 1;
        self.size += n;
        Ok(())
    }

    /// Unix milliseconds as this transaction sees them (fixed for its life).
    pub fn now_ms(&self) -> u64 {
        self.now
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

impl Store {
    /// Runs `f` as one transaction over the shards of `keys`: nothing else
    /// writes those shards meanwhile, readers of them wait, and everything
    /// `f` changes becomes one journal record — applied in full after a
    /// crash, or not at all if it was never acknowledged. Returns once the
    /// record is durable (see [`batch`](Self::batch) to defer that).
    ///
    /// If `f` returns an error after changing something, the changes stay
    /// (as in Redis, commands of a transaction are not rolled back).
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let store = memkeep_engine::Store::open(memkeep_engine::Options::new(dir.path()))?;
    /// use memkeep_engine::{Keys, Reads};
    /// store.set("balance:a", "10")?;
    /// store.transaction(Keys::Some(&[b"balance:a", b"balance:b"]), |tx| {
    ///     tx.incr_by("balance:a", -3)?;
    ///     tx.incr_by("balance:b", 3)?;
    ///     Ok(())
    /// })?;
    /// assert_eq!(store.get("balance:b")?, Some(b"3".to_vec()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn transaction<R>(
        &self,
        keys: Keys<'_>,
        f: impl FnOnce(&mut Tx<'_>) -> Result<R>,
    ) -> Result<R> {
        self.inner.write(keys, f)
    }
}

impl Inner {
    /// Runs a transaction (see [`Store::transaction`]).
    pub(crate) fn write<R>(
        &self,
        keys: Keys<'_>,
        f: impl FnOnce(&mut Tx<'_>) -> Result<R>,
    ) -> Result<R> {
        let (result, seq) = {
            self.check_writable()?;
            let guards = self.lock_shards(keys);
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
            let mut tx = Tx {
                inner: self,
                guards,
                pending,
                now,
                ops: 0,
                size: 0,
            };
            let result = f(&mut tx);
            let ops = tx.ops;
            drop(tx);
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

    fn lock_shards(&self, keys: Keys<'_>) -> Guards<'_> {
        let count = self.shards.len();
        let (all, idx): (bool, Vec<usize>) = match keys {
            Keys::All => (true, (0..count).collect()),
            Keys::Some(keys) => {
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
}
