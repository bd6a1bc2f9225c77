//! Key-level commands: existence, deletion, type, renaming, expiry, `KEYS`.

use std::time::Duration;

use super::Store;
use super::commit::LockSet;
use crate::error::{Error, Result};
use crate::glob::glob_match;
use crate::keyspace::KeyType;
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

impl Store {
    /// How many of `keys` exist (a key named twice counts twice).
    pub fn exists<K: AsRef<[u8]>>(&self, keys: &[K]) -> u64 {
        let keys: Vec<&[u8]> = keys.iter().map(AsRef::as_ref).collect();
        self.inner.read_many(&keys, |v| {
            keys.iter().filter(|k| v.get(k).1.is_some()).count() as u64
        })
    }

    /// Deletes `keys`; returns how many existed.
    pub fn del<K: AsRef<[u8]>>(&self, keys: &[K]) -> Result<u64> {
        let keys: Vec<&[u8]> = keys.iter().map(AsRef::as_ref).collect();
        self.inner.write(LockSet::Keys(&keys), |ctx| {
            let mut n = 0;
            for key in &keys {
                if ctx.get(key)?.1.is_some() {
                    ctx.emit(Op::Del { key })?;
                    n += 1;
                }
            }
            Ok(n)
        })
    }

    /// The type of `key`'s value.
    pub fn key_type(&self, key: impl AsRef<[u8]>) -> Option<KeyType> {
        self.inner
            .read(key.as_ref(), |_, e| e.map(|e| e.stored.key_type()))
    }

    /// Renames `from` to `to`, replacing `to` (`RENAME`).
    pub fn rename(&self, from: impl AsRef<[u8]>, to: impl AsRef<[u8]>) -> Result<()> {
        self.rename_inner(from.as_ref(), to.as_ref(), false)
            .map(|_| ())
    }

    /// Renames `from` to `to` only if `to` does not exist (`RENAMENX`).
    pub fn rename_nx(&self, from: impl AsRef<[u8]>, to: impl AsRef<[u8]>) -> Result<bool> {
        self.rename_inner(from.as_ref(), to.as_ref(), true)
    }

    fn rename_inner(&self, from: &[u8], to: &[u8], nx: bool) -> Result<bool> {
        self.inner.write(LockSet::Keys(&[from, to]), |ctx| {
            if ctx.get(from)?.1.is_none() {
                return Err(Error::NoSuchKey);
            }
            if from == to {
                return Ok(!nx);
            }
            if ctx.get(to)?.1.is_some() && nx {
                return Ok(false);
            }
            ctx.emit(Op::Rename { from, to })?;
            Ok(true)
        })
    }

    /// Sets `key` to expire; false when the key is missing or the condition
    /// fails. An expiry in the past deletes the key (and returns true).
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
        self.inner.write(LockSet::Keys(&[key]), |ctx| {
            let at = when.resolve(ctx.now, "expire")?;
            let Some(e) = ctx.get(key)?.1 else {
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
            if at <= ctx.now {
                ctx.emit(Op::Del { key })?;
            } else {
                ctx.emit(Op::Expire { key, at })?;
            }
            Ok(true)
        })
    }

    /// Removes `key`'s expiry; true when it had one.
    pub fn persist(&self, key: impl AsRef<[u8]>) -> Result<bool> {
        let key = key.as_ref();
        self.inner.write(LockSet::Keys(&[key]), |ctx| {
            match ctx.get(key)?.1 {
                Some(e) if e.expire_at.is_some() => ctx.emit(Op::Persist { key })?,
                _ => return Ok(false),
            }
            Ok(true)
        })
    }

    /// `key`'s time to live.
    pub fn ttl(&self, key: impl AsRef<[u8]>) -> Ttl {
        let now = self.inner.now_ms();
        self.inner.read(key.as_ref(), |_, e| match e {
            None => Ttl::Missing,
            Some(e) => match e.expire_at {
                None => Ttl::Persistent,
                Some(t) => Ttl::Ms(t.saturating_sub(now)),
            },
        })
    }

    /// `key`'s expiry as Unix ms (`PEXPIRETIME`), or its [`Ttl`] state.
    pub fn expire_time(&self, key: impl AsRef<[u8]>) -> Result<u64, Ttl> {
        self.inner.read(key.as_ref(), |_, e| match e {
            None => Err(Ttl::Missing),
            Some(e) => e.expire_at.ok_or(Ttl::Persistent),
        })
    }

    /// Every live key matching the glob `pattern` (`KEYS`). Walks the whole
    /// keyspace: prefer [`scan`](Self::scan) on large stores.
    pub fn keys(&self, pattern: impl AsRef<[u8]>) -> Vec<Vec<u8>> {
        let pattern = pattern.as_ref();
        let mut out = Vec::new();
        for slot in self.inner.shards.iter() {
            let shard = slot.lock.read();
            let now = self.inner.now_ms();
            out.extend(
                shard
                    .iter()
                    .filter(|e| !e.is_expired(now) && glob_match(pattern, e.key))
                    .map(|e| e.key.to_vec()),
            );
        }
        out
    }

    /// Deletes every key (`FLUSHALL`).
    pub fn flush_all(&self) -> Result<()> {
        self.inner.write(LockSet::All, |ctx| ctx.emit(Op::FlushAll))
    }

    /// A random live key (`RANDOMKEY`).
    pub fn random_key(&self) -> Option<Vec<u8>> {
        let n = self.inner.shards.len();
        let start = fastrand_u64() as usize;
        for i in 0..n {
            let shard = self.inner.shards[(start + i) % n].lock.read();
            if shard.len() == 0 {
                continue;
            }
            let now = self.inner.now_ms();
            for _ in 0..16 {
                if let Some(e) = shard.random(fastrand_u64)
                    && !e.is_expired(now)
                {
                    return Some(e.key.to_vec());
                }
            }
        }
        None
    }
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
