//! Reads: served from memory under shard read locks. Expired keys read as
//! absent (the sweep or the next write deletes them and journals it).

use parking_lot::RwLockReadGuard;

use super::Inner;
use crate::error::{Error, Result};
use crate::keyspace::{Entry, KeyHasher, Object, Shard, Stored};

/// Several shards read-locked at once, so a multi-key read sees one moment.
pub(crate) struct ReadView<'a> {
    inner: &'a Inner,
    guards: Vec<(usize, RwLockReadGuard<'a, Shard>)>,
    pub(crate) now: u64,
}

impl ReadView<'_> {
    /// `key`'s shard and live record.
    pub(crate) fn get(&self, key: &[u8]) -> (&Shard, Option<Entry<'_>>) {
        let h = self.inner.hasher.hash(key);
        let idx = KeyHasher::shard_of(h, self.inner.shards.len());
        let shard = &self
            .guards
            .iter()
            .find(|(i, _)| *i == idx)
            .expect("a read only touches the shards it locked")
            .1;
        (shard, shard.get(h, key).filter(|e| !e.is_expired(self.now)))
    }
}

impl Inner {
    /// Runs `f` on `key`'s live record under its shard's read lock.
    pub(crate) fn read<R>(&self, key: &[u8], f: impl FnOnce(&Shard, Option<Entry<'_>>) -> R) -> R {
        let h = self.hasher.hash(key);
        let shard = self.shards[self.shard_index(h)].lock.read();
        let e = shard
            .get(h, key)
            .filter(|e| !e.is_expired_by(|| self.now_ms()));
        f(&shard, e)
    }

    /// Runs `f` with every shard of `keys` read-locked.
    pub(crate) fn read_many<R>(&self, keys: &[&[u8]], f: impl FnOnce(&ReadView<'_>) -> R) -> R {
        let mut idx: Vec<usize> = keys
            .iter()
            .map(|k| self.shard_index(self.hasher.hash(k)))
            .collect();
        idx.sort_unstable();
        idx.dedup();
        let view = ReadView {
            inner: self,
            guards: idx
                .into_iter()
                .map(|i| (i, self.shards[i].lock.read()))
                .collect(),
            now: self.now_ms(),
        };
        f(&view)
    }
}

/// The bytes of a string value, or `WrongType`.
pub(crate) fn string_of<'s>(shard: &'s Shard, e: &Entry<'s>) -> Result<&'s [u8]> {
    match e.stored {
        Stored::Inline => Ok(e.inline),
        Stored::BigString => match shard.object(e.object) {
            Object::Str(v) => Ok(v),
            _ => unreachable!("big strings are string objects"),
        },
        _ => Err(Error::WrongType),
    }
}

/// The collection object of `e` if it is of kind `kind`, or `WrongType`.
pub(crate) fn object_of<'s>(shard: &'s Shard, e: &Entry<'s>, kind: Stored) -> Result<&'s Object> {
    if e.stored != kind {
        return Err(Error::WrongType);
    }
    Ok(shard.object(e.object))
}
