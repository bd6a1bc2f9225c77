//! Key-level commands: deletion, renaming, expiry, `FLUSHALL` (the reads —
//! `EXISTS`, `TYPE`, `TTL`, `KEYS`, `RANDOMKEY` — are in
//! [`Reads`](crate::Reads)).

use std::time::Duration;

use super::Store;
use super::read::Reads;
use super::tx::{Keys, Tx};
use crate::error::{Error, Result};
use crate::glob::glob_match;
use crate::op::Op;

/// When a key expires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expiry {
    /// After this long (`EX`, `PX`, `EXPIRE`).
    In(Duration),
    /// At this Unix time in milliseconds (`EXAT`, `PXAT`, `EXPIREAT`).
    At(u64),
}

impl Expiry {
    /// The absolute time, or an error when it does not fit (Redis's
    /// "invalid expire time").
    pub(crate) fn resolve(self, now: u64, command: &str) -> Result<u64> {
        let invalid =
            || Error::InvalidArgument(format!("invalid expire time in '{command}' command"));
        match self {
            Expiry::In(d) => {
                let ms = u64::try_from(d.as_millis()).map_err(|_| invalid())?;
                let at = now.checked_add(ms).ok_or_else(invalid)?;
                if at > i64::MAX as u64 {
                    return Err(invalid());
                }
                Ok(at)
            }
            Expiry::At(t) if t > i64::MAX as u64 => Err(invalid()),
            Expiry::At(t) => Ok(t),
        }
    }
}

/// `EXPIRE`'s conditions (Redis 7).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ExpireCondition {
    #[default]
    Always,
    /// `NX`: only when the key has no expiry.
    IfNone,
    /// `XX`: only when the key has an expiry.
    IfSet,
    /// `GT`: only when the new expiry is later (no expiry counts as never).
    IfLater,
    /// `LT`: only when the new expiry is sooner.
    IfSooner,
}

/// A key's time to live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ttl {
    /// The key does not exist (`TTL` answers -2).
    Missing,
    /// The key never expires (`TTL` answers -1).
    Persistent,
    /// Milliseconds left.
    Ms(u64),
}

impl Tx<'_> {
    /// Deletes `keys`; returns how many existed.
    pub fn del<K: AsRef<[u8]>>(&mut self, keys: &[K]) -> Result<u64> {
        let mut n = 0;
        for key in keys {
            let key = key.as_ref();
            if self.live_entry(key)?.1.is_some() {
                self.emit(Op::Del { key })?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Renames `from` to `to`, replacing `to` (`RENAME`); with `nx`, only if
    /// `to` does not exist (`RENAMENX`). True when renamed.
    pub fn rename(
        &mut self,
        from: impl AsRef<[u8]>,
        to: impl AsRef<[u8]>,
        nx: bool,
    ) -> Result<bool> {
        let (from, to) = (from.as_ref(), to.as_ref());
        if self.live_entry(from)?.1.is_none() {
            return Err(Error::NoSuchKey);
        }
        if from == to {
            return Ok(!nx);
        }
        if self.live_entry(to)?.1.is_some() && nx {
            return Ok(false);
        }
        self.emit(Op::Rename { from, to })?;
        Ok(true)
    }

    /// Sets `key` to expire; false when the key is missing or the condition
    /// fails. An expiry in the past deletes the key (and returns true).
    pub fn expire(
        &mut self,
        key: impl AsRef<[u8]>,
        when: Expiry,
        cond: ExpireCondition,
    ) -> Result<bool> {
        let key = key.as_ref();
        let at = when.resolve(self.now, "expire")?;
        let Some(e) = self.live_entry(key)?.1 else {
            return Ok(false);
        };
        let allowed = match (cond, e.expire_at) {
            (ExpireCondition::Always, _) => true,
            (ExpireCondition::IfNone, cur) => cur.is_none(),
            (ExpireCondition::IfSet, cur) => cur.is_some(),
            (ExpireCondition::IfLater, cur) => cur.is_some_and(|c| at > c),
            (ExpireCondition::IfSooner, cur) => cur.is_none_or(|c| at < c),
        };
        if !allowed {
            return Ok(false);
        }
        if at <= self.now {
            self.emit(Op::Del { key })?;
        } else {
            self.emit(Op::Expire { key, at })?;
        }
        Ok(true)
    }

    /// Removes `key`'s expiry; true when it had one.
    pub fn persist(&mut self, key: impl AsRef<[u8]>) -> Result<bool> {
        let key = key.as_ref();
        match self.live_entry(key)?.1 {
            Some(e) if e.expire_at.is_some() => self.emit(Op::Persist { key })?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Deletes every key (`FLUSHALL`); the transaction must hold every shard.
    pub fn flush_all(&mut self) -> Result<()> {
        self.emit(Op::FlushAll)
    }
}

impl Store {
    /// Deletes `keys`; returns how many existed.
    pub fn del<K: AsRef<[u8]>>(&self, keys: &[K]) -> Result<u64> {
        let k: Vec<&[u8]> = keys.iter().map(AsRef::as_ref).collect();
        self.transaction(Keys::Some(&k), |tx| tx.del(keys))
    }

    /// Renames `from` to `to`, replacing `to` (`RENAME`).
    pub fn rename(&self, from: impl AsRef<[u8]>, to: impl AsRef<[u8]>) -> Result<()> {
        let (from, to) = (from.as_ref(), to.as_ref());
        self.transaction(Keys::Some(&[from, to]), |tx| tx.rename(from, to, false))
            .map(drop)
    }

    /// Renames `from` to `to` only if `to` does not exist (`RENAMENX`).
    pub fn rename_nx(&self, from: impl AsRef<[u8]>, to: impl AsRef<[u8]>) -> Result<bool> {
        let (from, to) = (from.as_ref(), to.as_ref());
        self.transaction(Keys::Some(&[from, to]), |tx| tx.rename(from, to, true))
    }

    /// Sets `key` to expire (see [`Tx::expire`]).
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let store = memkeep_engine::Store::open(memkeep_engine::Options::new(dir.path()))?;
    /// use std::time::Duration;
    /// use memkeep_engine::{ExpireCondition, Expiry};
    /// store.set("cache:page", "<html>")?;
    /// assert!(store.expire("cache:page", Expiry::In(Duration::from_secs(300)), ExpireCondition::Always)?);
    /// // GT: only ever extend.
    /// assert!(!store.expire("cache:page", Expiry::In(Duration::from_secs(10)), ExpireCondition::IfLater)?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn expire(
        &self,
        key: impl AsRef<[u8]>,
        when: Expiry,
        cond: ExpireCondition,
    ) -> Result<bool> {
        let key = key.as_ref();
        self.transaction(Keys::Some(&[key]), |tx| tx.expire(key, when, cond))
    }

    /// Removes `key`'s expiry; true when it had one.
    pub fn persist(&self, key: impl AsRef<[u8]>) -> Result<bool> {
        let key = key.as_ref();
        self.transaction(Keys::Some(&[key]), |tx| tx.persist(key))
    }

    /// Deletes every key (`FLUSHALL`).
    pub fn flush_all(&self) -> Result<()> {
        self.transaction(Keys::All, |tx| tx.flush_all())
    }
}

/// `KEYS pattern` over any reader.
pub(crate) fn keys<R: Reads + ?Sized>(r: &R, pattern: &[u8]) -> Result<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    for i in 0..r.shard_count() {
        r.view_shard(i, |s| {
            out.extend(
                s.shard
                    .iter()
                    .filter(|e| !e.is_expired(s.now) && glob_match(pattern, e.key))
                    .map(|e| e.key.to_vec()),
            );
        })?;
    }
    Ok(out)
}

/// `RANDOMKEY` over any reader.
pub(crate) fn random_key<R: Reads + ?Sized>(r: &R) -> Result<Option<Vec<u8>>> {
    let n = r.shard_count();
    let start = fastrand_u64() as usize;
    for i in 0..n {
        let found = r.view_shard((start + i) % n, |s| {
            if s.shard.len() == 0 {
                return None;
            }
            (0..16).find_map(|_| {
                s.shard
                    .random(fastrand_u64)
                    .filter(|e| !e.is_expired(s.now))
                    .map(|e| e.key.to_vec())
            })
        })?;
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

/// A cheap per-thread random number (xorshift seeded from the clock and
/// thread); good enough for sampling, never for secrets.
pub(crate) fn fastrand_u64() -> u64 {
    use std::cell::Cell;
    thread_local! {
        static STATE: Cell<u64> = Cell::new({
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            let addr = &t as *const u64 as u64;
            (t ^ addr.rotate_left(32)) | 1
        });
    }
    STATE.with(|s| {
        let mut x = s.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.set(x);
        x
    })
}
