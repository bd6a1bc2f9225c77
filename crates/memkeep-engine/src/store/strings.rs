//! String commands.

use super::Store;
use super::commit::{LockSet, WriteCtx};
use super::keys::Expiry;
use super::read::string_of;
use crate::error::{Error, Result};
use crate::numbers::{format_float, parse_float, parse_int};
use crate::op::Op;

/// Largest string value, as Redis's default `proto-max-bulk-len`.
pub const MAX_STRING_BYTES: u64 = 512 << 20;

/// `SET`'s existence condition.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SetCondition {
    #[default]
    Always,
    /// `NX`: only when the key does not exist.
    IfAbsent,
    /// `XX`: only when the key exists.
    IfPresent,
}

/// Options of `SET`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SetOptions {
    pub condition: SetCondition,
    /// `EX`/`PX`/`EXAT`/`PXAT`; `None` clears any expiry unless `keep_ttl`.
    pub expiry: Option<Expiry>,
    /// `KEEPTTL`: keep the key's current expiry.
    pub keep_ttl: bool,
    /// `GET`: return the old value (which must be a string).
    pub get: bool,
}

/// What `SET` did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SetOutcome {
    /// Whether the value was stored (false when NX/XX said no).
    pub written: bool,
    /// The previous value, when `get` was asked for.
    pub old: Option<Vec<u8>>,
}

fn check_len(len: u64) -> Result<()> {
    if len > MAX_STRING_BYTES {
        return Err(Error::StringTooLong);
    }
    Ok(())
}

/// The live string at `key`, copied (`None` when absent).
fn current_string(ctx: &mut WriteCtx<'_>, key: &[u8]) -> Result<Option<(Vec<u8>, Option<u64>)>> {
    let (shard, e) = ctx.get(key)?;
    match e {
        None => Ok(None),
        Some(e) => Ok(Some((string_of(shard, &e)?.to_vec(), e.expire_at))),
    }
}

impl Store {
    /// The string at `key`.
    pub fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>> {
        self.inner.read(key.as_ref(), |s, e| {
            e.map(|e| string_of(s, &e).map(<[u8]>::to_vec)).transpose()
        })
    }

    /// Reads the string at `key` in place, without copying it.
    pub fn get_with<R>(
        &self,
        key: impl AsRef<[u8]>,
        f: impl FnOnce(Option<&[u8]>) -> R,
    ) -> Result<R> {
        self.inner.read(key.as_ref(), |s, e| match e {
            None => Ok(f(None)),
            Some(e) => Ok(f(Some(string_of(s, &e)?))),
        })
    }

    /// Stores a string, clearing any expiry (`SET key value`).
    pub fn set(&self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Result<()> {
        self.set_with(key, value, SetOptions::default()).map(|_| ())
    }

    /// `SET` with all of its options.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let store = memkeep_engine::Store::open(memkeep_engine::Options::new(dir.path()))?;
    /// use std::time::Duration;
    /// use memkeep_engine::{Expiry, SetCondition, SetOptions, Ttl};
    /// // SET session:1 token NX EX 60
    /// let opts = SetOptions {
    ///     condition: SetCondition::IfAbsent,
    ///     expiry: Some(Expiry::In(Duration::from_secs(60))),
    ///     ..SetOptions::default()
    /// };
    /// assert!(store.set_with("session:1", "token", opts)?.written);
    /// assert!(!store.set_with("session:1", "other", opts)?.written);
    /// assert!(matches!(store.ttl("session:1"), Ttl::Ms(ms) if ms <= 60_000));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_with(
        &self,
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
        opts: SetOptions,
    ) -> Result<SetOutcome> {
        let (key, value) = (key.as_ref(), value.as_ref());
        check_len(value.len() as u64)?;
        self.inner.write(LockSet::Keys(&[key]), |ctx| {
            let expire_at = opts.expiry.map(|x| x.resolve(ctx.now, "set")).transpose()?;
            let (shard, e) = ctx.get(key)?;
            let old = match (&e, opts.get) {
                (Some(e), true) => Some(string_of(shard, e)?.to_vec()),
                _ => None,
            };
            let exists = e.is_some();
            let current_ttl = e.and_then(|e| e.expire_at);
            let written = match opts.condition {
                SetCondition::Always => true,
                SetCondition::IfAbsent => !exists,
                SetCondition::IfPresent => exists,
            };
            if written {
                let expire_at = if opts.keep_ttl {
                    current_ttl
                } else {
                    expire_at
                };
                match expire_at {
                    Some(t) if t <= ctx.now => ctx.emit(Op::Del { key })?,
                    _ => ctx.emit(Op::Set {
                        key,
                        value,
                        expire_at,
                    })?,
                }
            }
            Ok(SetOutcome { written, old })
        })
    }

    /// Stores `value` only if `key` is absent (`SETNX`); true when stored.
    pub fn setnx(&self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Result<bool> {
        let opts = SetOptions {
            condition: SetCondition::IfAbsent,
            ..SetOptions::default()
        };
        Ok(self.set_with(key, value, opts)?.written)
    }

    /// Several strings at once (`MGET`); non-strings read as `None`.
    pub fn mget<K: AsRef<[u8]>>(&self, keys: &[K]) -> Vec<Option<Vec<u8>>> {
        let keys: Vec<&[u8]> = keys.iter().map(AsRef::as_ref).collect();
        self.inner.read_many(&keys, |v| {
            keys.iter()
                .map(|k| {
                    let (s, e) = v.get(k);
                    e.and_then(|e| string_of(s, &e).ok().map(<[u8]>::to_vec))
                })
                .collect()
        })
    }

    /// Stores several strings atomically (`MSET`), clearing their expiries.
    pub fn mset<K: AsRef<[u8]>, V: AsRef<[u8]>>(&self, pairs: &[(K, V)]) -> Result<()> {
        self.mset_inner(pairs, false).map(|_| ())
    }

    /// `MSETNX`: stores all pairs only if none of the keys exists.
    pub fn msetnx<K: AsRef<[u8]>, V: AsRef<[u8]>>(&self, pairs: &[(K, V)]) -> Result<bool> {
        self.mset_inner(pairs, true)
    }

    fn mset_inner<K: AsRef<[u8]>, V: AsRef<[u8]>>(
        &self,
        pairs: &[(K, V)],
        nx: bool,
    ) -> Result<bool> {
        let keys: Vec<&[u8]> = pairs.iter().map(|(k, _)| k.as_ref()).collect();
        for (_, v) in pairs {
            check_len(v.as_ref().len() as u64)?;
        }
        self.inner.write(LockSet::Keys(&keys), |ctx| {
            if nx {
                for k in &keys {
                    if ctx.get(k)?.1.is_some() {
                        return Ok(false);
                    }
                }
            }
            for (k, v) in pairs {
                ctx.emit(Op::Set {
                    key: k.as_ref(),
                    value: v.as_ref(),
                    expire_at: None,
                })?;
            }
            Ok(true)
        })
    }

    /// Returns and deletes the string at `key` (`GETDEL`).
    pub fn getdel(&self, key: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>> {
        let key = key.as_ref();
        self.inner.write(LockSet::Keys(&[key]), |ctx| {
            let old = current_string(ctx, key)?;
            if old.is_some() {
                ctx.emit(Op::Del { key })?;
            }
            Ok(old.map(|(v, _)| v))
        })
    }

    /// Returns the string at `key` and changes its expiry (`GETEX`):
    /// `Some(Some(x))` sets it, `Some(None)` removes it (`PERSIST`).
    pub fn getex(
        &self,
        key: impl AsRef<[u8]>,
        change: Option<Option<Expiry>>,
    ) -> Result<Option<Vec<u8>>> {
        let key = key.as_ref();
        self.inner.write(LockSet::Keys(&[key]), |ctx| {
            let at = match change {
                Some(Some(x)) => Some(Some(x.resolve(ctx.now, "getex")?)),
                Some(None) => Some(None),
                None => None,
            };
            let Some((value, ttl)) = current_string(ctx, key)? else {
                return Ok(None);
            };
            match at {
                Some(Some(t)) if t <= ctx.now => ctx.emit(Op::Del { key })?,
                Some(Some(t)) => ctx.emit(Op::Expire { key, at: t })?,
                Some(None) if ttl.is_some() => ctx.emit(Op::Persist { key })?,
                _ => {}
            }
            Ok(Some(value))
        })
    }

    /// Appends to the string at `key`; returns the new length.
    pub fn append(&self, key: impl AsRef<[u8]>, data: impl AsRef<[u8]>) -> Result<u64> {
        let (key, data) = (key.as_ref(), data.as_ref());
        self.inner.write(LockSet::Keys(&[key]), |ctx| {
            let (shard, e) = ctx.get(key)?;
            let len = match e {
                Some(e) => string_of(shard, &e)?.len() as u64,
                None => 0,
            };
            let new_len = len + data.len() as u64;
            check_len(new_len)?;
            ctx.emit(Op::Append { key, data })?;
            Ok(new_len)
        })
    }

    /// Length of the string at `key` (0 when absent).
    pub fn strlen(&self, key: impl AsRef<[u8]>) -> Result<u64> {
        self.get_with(key, |v| v.map_or(0, |v| v.len() as u64))
    }

    /// Adds `by` to the integer at `key` (`INCRBY`); keeps the expiry.
    pub fn incr_by(&self, key: impl AsRef<[u8]>, by: i64) -> Result<i64> {
        let key = key.as_ref();
        self.inner.write(LockSet::Keys(&[key]), |ctx| {
            let (cur, ttl) = match current_string(ctx, key)? {
                Some((v, ttl)) => (parse_int(&v).ok_or(Error::NotInteger)?, ttl),
                None => (0, None),
            };
            let new = cur.checked_add(by).ok_or(Error::Overflow)?;
            let text = new.to_string();
            ctx.emit(Op::Set {
                key,
                value: text.as_bytes(),
                expire_at: ttl,
            })?;
            Ok(new)
        })
    }

    /// Adds `by` to the number at `key` (`INCRBYFLOAT`); returns the new
    /// value as stored. Uses 64-bit floats (Redis uses 80-bit long doubles,
    /// so the last digits of long fractions can differ).
    pub fn incr_by_float(&self, key: impl AsRef<[u8]>, by: f64) -> Result<Vec<u8>> {
        let key = key.as_ref();
        if !by.is_finite() {
            return Err(Error::NanOrInfinity);
        }
        self.inner.write(LockSet::Keys(&[key]), |ctx| {
            let (cur, ttl) = match current_string(ctx, key)? {
                Some((v, ttl)) => (parse_float(&v).ok_or(Error::NotFloat)?, ttl),
                None => (0.0, None),
            };
            let new = cur + by;
            if !new.is_finite() {
                return Err(Error::NanOrInfinity);
            }
            let text = format_float(new);
            ctx.emit(Op::Set {
                key,
                value: text.as_bytes(),
                expire_at: ttl,
            })?;
            Ok(text.into_bytes())
        })
    }

    /// A substring with Redis's index rules (`GETRANGE`): negative indexes
    /// count from the end, the end is inclusive, out-of-range is clamped.
    pub fn getrange(&self, key: impl AsRef<[u8]>, start: i64, end: i64) -> Result<Vec<u8>> {
        self.get_with(key, |v| {
            let Some(v) = v else { return Vec::new() };
            let len = v.len() as i64;
            if len == 0 || (start < 0 && end < 0 && start > end) {
                return Vec::new();
            }
            let norm = |i: i64| if i < 0 { (len + i).max(0) } else { i };
            let (s, e) = (norm(start), norm(end).min(len - 1));
            if s > e || s >= len {
                return Vec::new();
            }
            v[s as usize..=e as usize].to_vec()
        })
    }

    /// Overwrites part of the string at `key` from `offset`, padding with
    /// zero bytes (`SETRANGE`); returns the new length.
    pub fn setrange(
        &self,
        key: impl AsRef<[u8]>,
        offset: u64,
        data: impl AsRef<[u8]>,
    ) -> Result<u64> {
        let (key, data) = (key.as_ref(), data.as_ref());
        self.inner.write(LockSet::Keys(&[key]), |ctx| {
            let (shard, e) = ctx.get(key)?;
            let len = match e {
                Some(e) => string_of(shard, &e)?.len() as u64,
                None => 0,
            };
            if data.is_empty() {
                return Ok(len);
            }
            let end = offset
                .checked_add(data.len() as u64)
                .ok_or(Error::StringTooLong)?;
            check_len(end)?;
            ctx.emit(Op::SetRange { key, offset, data })?;
            Ok(len.max(end))
        })
    }
}
