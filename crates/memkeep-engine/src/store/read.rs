//! Reads: the [`Reads`] trait gives every read command to both the
//! [`Store`] (served from memory under shard read locks, many readers at
//! once) and a [`Tx`] (reading its own locked shards, its own writes
//! included). Expired keys read as absent.

use parking_lot::RwLockReadGuard;

use super::keys::Ttl;
use super::scan::{ScanOptions, ScanPage};
use super::tx::Tx;
use super::value::Value;
use super::{Inner, Store};
use crate::error::{Error, Result};
use crate::keyspace::{Entry, KeyHasher, KeyType, Object, Shard, Stored};
use crate::mem::packed_list::PackedList;
use crate::mem::packed_map::PackedMap;
use crate::mem::zset::{ScoreBound, ZSet};

/// Field/value pairs of a hash.
pub type Pairs = Vec<(Vec<u8>, Vec<u8>)>;
/// Members of a sorted set with their scores.
pub type Scored = Vec<(Vec<u8>, f64)>;

/// One key as a read sees it (opaque; used by the read commands).
pub struct KeyView<'a> {
    shard: &'a Shard,
    entry: Option<Entry<'a>>,
}

/// One shard as a read sees it (opaque; used by keyspace-wide reads).
pub struct ShardView<'a> {
    pub(crate) shard: &'a Shard,
    pub(crate) now: u64,
}

impl<'a> KeyView<'a> {
    pub(crate) fn entry(&self) -> Option<Entry<'a>> {
        self.entry
    }

    /// The string value, `None` when absent, `WrongType` for other types.
    pub(crate) fn string(&self) -> Result<Option<&'a [u8]>> {
        let Some(e) = self.entry else { return Ok(None) };
        match e.stored {
            Stored::Inline => Ok(Some(e.inline)),
            Stored::BigString => match self.shard.object(e.object) {
                Object::Str(v) => Ok(Some(v)),
                _ => unreachable!("big strings are string objects"),
            },
            _ => Err(Error::WrongType),
        }
    }

    fn object(&self, kind: Stored) -> Result<Option<&'a Object>> {
        match self.entry {
            None => Ok(None),
            Some(e) if e.stored == kind => Ok(Some(self.shard.object(e.object))),
            Some(_) => Err(Error::WrongType),
        }
    }

    pub(crate) fn hash(&self) -> Result<Option<&'a PackedMap>> {
        Ok(self.object(Stored::Hash)?.map(|o| match o {
            Object::Hash(m) => m,
            _ => unreachable!("kind checked"),
        }))
    }

    pub(crate) fn list(&self) -> Result<Option<&'a PackedList>> {
        Ok(self.object(Stored::List)?.map(|o| match o {
            Object::List(l) => &**l,
            _ => unreachable!("kind checked"),
        }))
    }

    pub(crate) fn set(&self) -> Result<Option<&'a PackedMap>> {
        Ok(self.object(Stored::Set)?.map(|o| match o {
            Object::Set(m) => m,
            _ => unreachable!("kind checked"),
        }))
    }

    pub(crate) fn zset(&self) -> Result<Option<&'a ZSet>> {
        Ok(self.object(Stored::ZSet)?.map(|o| match o {
            Object::ZSet(z) => &**z,
            _ => unreachable!("kind checked"),
        }))
    }

    pub(crate) fn value(&self) -> Option<(Value, Option<u64>)> {
        self.entry
            .map(|e| (super::value::value_of(self.shard, &e), e.expire_at))
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Store {}
    impl Sealed for super::Tx<'_> {}
}

/// The read commands, for a [`Store`] and inside a [`Tx`].
///
/// ```
/// use memkeep_engine::{Options, Reads, Store};
/// # let dir = tempfile::tempdir()?;
/// let store = Store::open(Options::new(dir.path()))?;
/// store.set("k", "v")?;
/// assert_eq!(store.get("k")?, Some(b"v".to_vec()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Reads: sealed::Sealed {
    #[doc(hidden)]
    fn view<R>(&self, key: &[u8], f: impl FnOnce(KeyView<'_>) -> R) -> Result<R>;
    #[doc(hidden)]
    fn view_many<R>(
        &self,
        keys: &[&[u8]],
        f: impl for<'v> FnOnce(&'v dyn Fn(&[u8]) -> KeyView<'v>) -> R,
    ) -> Result<R>;
    #[doc(hidden)]
    fn view_shard<R>(&self, idx: usize, f: impl FnOnce(ShardView<'_>) -> R) -> Result<R>;
    #[doc(hidden)]
    fn shard_count(&self) -> usize;
    /// The time expiry is judged against, Unix ms.
    fn clock_ms(&self) -> u64;

    // Keys.

    /// How many of `keys` exist (a key named twice counts twice).
    fn exists<K: AsRef<[u8]>>(&self, keys: &[K]) -> Result<u64> {
        let keys: Vec<&[u8]> = keys.iter().map(AsRef::as_ref).collect();
        self.view_many(&keys, |v| {
            keys.iter().filter(|k| v(k).entry().is_some()).count() as u64
        })
    }
    /// The type of `key`'s value.
    fn key_type(&self, key: impl AsRef<[u8]>) -> Result<Option<KeyType>> {
        self.view(key.as_ref(), |v| v.entry().map(|e| e.stored.key_type()))
    }
    /// `key`'s time to live.
    fn ttl(&self, key: impl AsRef<[u8]>) -> Result<Ttl> {
        let now = self.clock_ms();
        self.view(key.as_ref(), |v| match v.entry() {
            None => Ttl::Missing,
            Some(e) => e
                .expire_at
                .map_or(Ttl::Persistent, |t| Ttl::Ms(t.saturating_sub(now))),
        })
    }
    /// `key`'s expiry as Unix ms (`PEXPIRETIME`), or its [`Ttl`] state.
    fn expire_time(&self, key: impl AsRef<[u8]>) -> Result<std::result::Result<u64, Ttl>> {
        self.view(key.as_ref(), |v| match v.entry() {
            None => Err(Ttl::Missing),
            Some(e) => e.expire_at.ok_or(Ttl::Persistent),
        })
    }
    /// A key's whole value and its expiry (Unix ms), if the key exists.
    fn get_value(&self, key: impl AsRef<[u8]>) -> Result<Option<(Value, Option<u64>)>> {
        self.view(key.as_ref(), |v| v.value())
    }
    /// Every live key matching the glob `pattern` (`KEYS`). Walks the whole
    /// keyspace: prefer [`scan`](Self::scan) on large stores.
    fn keys(&self, pattern: impl AsRef<[u8]>) -> Result<Vec<Vec<u8>>> {
        super::keys::keys(self, pattern.as_ref())
    }
    /// Number of keys, including expired ones not yet swept (`DBSIZE`).
    fn dbsize(&self) -> Result<u64> {
        let mut n = 0;
        for i in 0..self.shard_count() {
            n += self.view_shard(i, |s| s.shard.len() as u64)?;
        }
        Ok(n)
    }
    /// A random live key (`RANDOMKEY`).
    fn random_key(&self) -> Result<Option<Vec<u8>>> {
        super::keys::random_key(self)
    }
    /// One step of a cursor iteration over the keyspace (`SCAN`): cursor 0
    /// starts, a returned cursor of 0 means done. A key present for the
    /// whole iteration is returned at least once.
    fn scan(&self, cursor: u64, opts: &ScanOptions) -> Result<ScanPage> {
        super::scan::scan(self, cursor, opts)
    }

    // Strings.

    /// The string at `key`.
    fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>> {
        self.view(key.as_ref(), |v| Ok(v.string()?.map(<[u8]>::to_vec)))?
    }
    /// Reads the string at `key` in place, without copying it.
    fn get_with<R>(&self, key: impl AsRef<[u8]>, f: impl FnOnce(Option<&[u8]>) -> R) -> Result<R> {
        self.view(key.as_ref(), |v| Ok(f(v.string()?)))?
    }
    /// Several strings at once (`MGET`); other types read as `None`.
    fn mget<K: AsRef<[u8]>>(&self, keys: &[K]) -> Result<Vec<Option<Vec<u8>>>> {
        let keys: Vec<&[u8]> = keys.iter().map(AsRef::as_ref).collect();
        self.view_many(&keys, |v| {
            keys.iter()
                .map(|k| v(k).string().ok().flatten().map(<[u8]>::to_vec))
                .collect()
        })
    }
    /// Length of the string at `key` (0 when absent).
    fn strlen(&self, key: impl AsRef<[u8]>) -> Result<u64> {
        self.get_with(key, |v| v.map_or(0, |v| v.len() as u64))
    }
    /// A substring with Redis's index rules (`GETRANGE`): negative indexes
    /// count from the end, the end is inclusive, out-of-range is clamped.
    fn getrange(&self, key: impl AsRef<[u8]>, start: i64, end: i64) -> Result<Vec<u8>> {
        self.get_with(key, |v| {
            super::strings::substring(v.unwrap_or_default(), start, end).to_vec()
        })
    }

    // Hashes.

    fn hget(&self, key: impl AsRef<[u8]>, field: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>> {
        self.view(key.as_ref(), |v| {
            Ok(v.hash()?
                .and_then(|m| m.get(field.as_ref()))
                .map(<[u8]>::to_vec))
        })?
    }
    fn hmget<F: AsRef<[u8]>>(
        &self,
        key: impl AsRef<[u8]>,
        fields: &[F],
    ) -> Result<Vec<Option<Vec<u8>>>> {
        self.view(key.as_ref(), |v| {
            let m = v.hash()?;
            Ok(fields
                .iter()
                .map(|f| m.and_then(|m| m.get(f.as_ref())).map(<[u8]>::to_vec))
                .collect())
        })?
    }
    fn hgetall(&self, key: impl AsRef<[u8]>) -> Result<Pairs> {
        self.view(key.as_ref(), |v| {
            Ok(v.hash()?
                .map(|m| m.iter().map(|(f, x)| (f.to_vec(), x.to_vec())).collect())
                .unwrap_or_default())
        })?
    }
    fn hkeys(&self, key: impl AsRef<[u8]>) -> Result<Vec<Vec<u8>>> {
        self.view(key.as_ref(), |v| {
            Ok(v.hash()?
                .map(|m| m.iter().map(|(f, _)| f.to_vec()).collect())
                .unwrap_or_default())
        })?
    }
    fn hvals(&self, key: impl AsRef<[u8]>) -> Result<Vec<Vec<u8>>> {
        self.view(key.as_ref(), |v| {
            Ok(v.hash()?
                .map(|m| m.iter().map(|(_, x)| x.to_vec()).collect())
                .unwrap_or_default())
        })?
    }
    fn hlen(&self, key: impl AsRef<[u8]>) -> Result<u64> {
        self.view(key.as_ref(), |v| {
            Ok(v.hash()?.map_or(0, |m| m.len() as u64))
        })?
    }
    fn hexists(&self, key: impl AsRef<[u8]>, field: impl AsRef<[u8]>) -> Result<bool> {
        self.view(key.as_ref(), |v| {
            Ok(v.hash()?.is_some_and(|m| m.contains(field.as_ref())))
        })?
    }
    fn hstrlen(&self, key: impl AsRef<[u8]>, field: impl AsRef<[u8]>) -> Result<u64> {
        self.view(key.as_ref(), |v| {
            Ok(v.hash()?
                .and_then(|m| m.get(field.as_ref()))
                .map_or(0, |x| x.len() as u64))
        })?
    }
    /// Iterates a hash (`HSCAN`): pairs from `cursor` on (start with 0), and
    /// the cursor to continue with (0 when done). `count` is a hint of work.
    fn hscan(
        &self,
        key: impl AsRef<[u8]>,
        cursor: u64,
        pattern: Option<&[u8]>,
        count: usize,
    ) -> Result<(u64, Pairs)> {
        self.view(key.as_ref(), |v| {
            Ok(match v.hash()? {
                None => (0, Vec::new()),
                Some(m) => super::scan::scan_map(m, cursor, pattern, count, |f, x| {
                    (f.to_vec(), x.to_vec())
                }),
            })
        })?
    }

    // Lists.

    fn llen(&self, key: impl AsRef<[u8]>) -> Result<u64> {
        self.view(key.as_ref(), |v| {
            Ok(v.list()?.map_or(0, |l| l.len() as u64))
        })?
    }
    /// Elements `start..=stop` with Redis's index rules (`LRANGE`).
    fn lrange(&self, key: impl AsRef<[u8]>, start: i64, stop: i64) -> Result<Vec<Vec<u8>>> {
        self.view(key.as_ref(), |v| {
            Ok(v.list()?
                .and_then(|l| super::lists::range(start, stop, l.len()).map(|(a, b)| (l, a, b)))
                .map(|(l, a, b)| l.range(a, b).map(<[u8]>::to_vec).collect())
                .unwrap_or_default())
        })?
    }
    fn lindex(&self, key: impl AsRef<[u8]>, i: i64) -> Result<Option<Vec<u8>>> {
        self.view(key.as_ref(), |v| {
            Ok(v.list()?.and_then(|l| {
                super::lists::index(i, l.len())
                    .and_then(|i| l.get(i))
                    .map(<[u8]>::to_vec)
            }))
        })?
    }

    // Sets.

    fn smembers(&self, key: impl AsRef<[u8]>) -> Result<Vec<Vec<u8>>> {
        self.view(key.as_ref(), |v| {
            Ok(v.set()?
                .map(|m| m.iter().map(|(k, _)| k.to_vec()).collect())
                .unwrap_or_default())
        })?
    }
    fn sismember(&self, key: impl AsRef<[u8]>, member: impl AsRef<[u8]>) -> Result<bool> {
        self.view(key.as_ref(), |v| {
            Ok(v.set()?.is_some_and(|m| m.contains(member.as_ref())))
        })?
    }
    fn smismember<M: AsRef<[u8]>>(
        &self,
        key: impl AsRef<[u8]>,
        members: &[M],
    ) -> Result<Vec<bool>> {
        self.view(key.as_ref(), |v| {
            let m = v.set()?;
            Ok(members
                .iter()
                .map(|x| m.is_some_and(|m| m.contains(x.as_ref())))
                .collect())
        })?
    }
    fn scard(&self, key: impl AsRef<[u8]>) -> Result<u64> {
        self.view(key.as_ref(), |v| Ok(v.set()?.map_or(0, |m| m.len() as u64)))?
    }
    /// Random members without removing them (`SRANDMEMBER key count`):
    /// distinct when `count > 0`, possibly repeated when negative. A
    /// repeated count beyond 2^31 is refused rather than attempted.
    fn srandmember(&self, key: impl AsRef<[u8]>, count: i64) -> Result<Vec<Vec<u8>>> {
        super::sets::srandmember(self, key.as_ref(), count)
    }
    /// Iterates a set (`SSCAN`); see [`hscan`](Self::hscan) for cursors.
    fn sscan(
        &self,
        key: impl AsRef<[u8]>,
        cursor: u64,
        pattern: Option<&[u8]>,
        count: usize,
    ) -> Result<(u64, Vec<Vec<u8>>)> {
        self.view(key.as_ref(), |v| {
            Ok(match v.set()? {
                None => (0, Vec::new()),
                Some(m) => super::scan::scan_map(m, cursor, pattern, count, |k, _| k.to_vec()),
            })
        })?
    }
    fn sinter<K: AsRef<[u8]>>(&self, keys: &[K]) -> Result<Vec<Vec<u8>>> {
        super::sets::combine(self, keys, super::sets::SetOp::Inter)
    }
    fn sunion<K: AsRef<[u8]>>(&self, keys: &[K]) -> Result<Vec<Vec<u8>>> {
        super::sets::combine(self, keys, super::sets::SetOp::Union)
    }
    fn sdiff<K: AsRef<[u8]>>(&self, keys: &[K]) -> Result<Vec<Vec<u8>>> {
        super::sets::combine(self, keys, super::sets::SetOp::Diff)
    }

    // Sorted sets.

    fn zscore(&self, key: impl AsRef<[u8]>, member: impl AsRef<[u8]>) -> Result<Option<f64>> {
        self.view(key.as_ref(), |v| {
            Ok(v.zset()?.and_then(|z| z.score(member.as_ref())))
        })?
    }
    fn zcard(&self, key: impl AsRef<[u8]>) -> Result<u64> {
        self.view(key.as_ref(), |v| {
            Ok(v.zset()?.map_or(0, |z| z.len() as u64))
        })?
    }
    /// A member's rank, ascending (or descending with `rev`).
    fn zrank(
        &self,
        key: impl AsRef<[u8]>,
        member: impl AsRef<[u8]>,
        rev: bool,
    ) -> Result<Option<u64>> {
        self.view(key.as_ref(), |v| {
            Ok(v.zset()?.and_then(|z| {
                let r = z.rank(member.as_ref())?;
                Some(if rev { z.len() - 1 - r } else { r } as u64)
            }))
        })?
    }
    /// Members with `min <= score <= max`.
    fn zcount(&self, key: impl AsRef<[u8]>, min: ScoreBound, max: ScoreBound) -> Result<u64> {
        self.view(key.as_ref(), |v| {
            Ok(v.zset()?
                .map_or(0, |z| z.range_by_score(min, max).count() as u64))
        })?
    }
    /// Members and scores (`ZRANGE`, `ZRANGEBYSCORE`, `ZREVRANGE…`): by rank
    /// or by score, reversed with `rev`, then `LIMIT offset count` (a count
    /// of `None` means all).
    fn zrange(
        &self,
        key: impl AsRef<[u8]>,
        which: super::zsets::ZRange,
        rev: bool,
        limit: Option<(usize, Option<usize>)>,
    ) -> Result<Scored> {
        self.view(key.as_ref(), |v| {
            Ok(v.zset()?
                .map(|z| super::zsets::range(z, which, rev, limit))
                .unwrap_or_default())
        })?
    }
    /// Iterates a sorted set (`ZSCAN`); see [`hscan`](Self::hscan).
    fn zscan(
        &self,
        key: impl AsRef<[u8]>,
        cursor: u64,
        pattern: Option<&[u8]>,
        count: usize,
    ) -> Result<(u64, Scored)> {
        self.view(key.as_ref(), |v| {
            Ok(match v.zset()? {
                None => (0, Vec::new()),
                Some(z) => super::scan::scan_zset(z, cursor, pattern, count),
            })
        })?
    }
}

impl Reads for Store {
    fn view<R>(&self, key: &[u8], f: impl FnOnce(KeyView<'_>) -> R) -> Result<R> {
        Ok(self
            .inner
            .read(key, |shard, entry| f(KeyView { shard, entry })))
    }

    fn view_many<R>(
        &self,
        keys: &[&[u8]],
        f: impl for<'v> FnOnce(&'v dyn Fn(&[u8]) -> KeyView<'v>) -> R,
    ) -> Result<R> {
        Ok(self.inner.read_many(keys, |rv| f(&|k| rv.view(k))))
    }

    fn view_shard<R>(&self, idx: usize, f: impl FnOnce(ShardView<'_>) -> R) -> Result<R> {
        let shard = self.inner.shards[idx].lock.read();
        Ok(f(ShardView {
            shard: &shard,
            now: self.inner.now_ms(),
        }))
    }

    fn shard_count(&self) -> usize {
        self.inner.shards.len()
    }

    fn clock_ms(&self) -> u64 {
        self.inner.now_ms()
    }
}

impl Reads for Tx<'_> {
    fn view<R>(&self, key: &[u8], f: impl FnOnce(KeyView<'_>) -> R) -> Result<R> {
        let (shard, entry) = self.entry_raw(key)?;
        let entry = entry.filter(|e| !e.is_expired(self.now));
        Ok(f(KeyView { shard, entry }))
    }

    fn view_many<R>(
        &self,
        keys: &[&[u8]],
        f: impl for<'v> FnOnce(&'v dyn Fn(&[u8]) -> KeyView<'v>) -> R,
    ) -> Result<R> {
        for k in keys {
            self.shard(k)?; // every key must be among the locked shards
        }
        let now = self.now;
        Ok(f(&|k| {
            let (shard, entry) = self.entry_raw(k).expect("checked above");
            KeyView {
                shard,
                entry: entry.filter(|e| !e.is_expired(now)),
            }
        }))
    }

    fn view_shard<R>(&self, idx: usize, f: impl FnOnce(ShardView<'_>) -> R) -> Result<R> {
        Ok(f(ShardView {
            shard: self.shard_at(idx)?,
            now: self.now,
        }))
    }

    fn shard_count(&self) -> usize {
        self.inner.shards.len()
    }

    fn clock_ms(&self) -> u64 {
        self.now
    }
}

/// Several shards read-locked at once, so a multi-key read sees one moment.
pub(crate) struct ReadView<'a> {
    inner: &'a Inner,
    guards: Vec<(usize, RwLockReadGuard<'a, Shard>)>,
    now: u64,
}

impl ReadView<'_> {
    fn view(&self, key: &[u8]) -> KeyView<'_> {
        let h = self.inner.hasher.hash(key);
        let idx = KeyHasher::shard_of(h, self.inner.shards.len());
        let shard = &self
            .guards
            .iter()
            .find(|(i, _)| *i == idx)
            .expect("a read only touches the shards it locked")
            .1;
        let now = self.now;
        KeyView {
            shard,
            entry: shard.get(h, key).filter(|e| !e.is_expired(now)),
        }
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
