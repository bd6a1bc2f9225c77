//! String commands (the reads are in [`Reads`](crate::Reads)).

use super::Store;
use super::keys::Expiry;
use super::tx::{Keys, Tx};
use crate::error::{Error, Result};
use crate::numbers::{format_float, parse_float, parse_int};
use crate::op::Op;
use crate::store::read::Reads;

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

/// Redis's `GETRANGE` on bytes: negative indexes count from the end, the
/// end is inclusive, out-of-range is clamped.
pub(crate) fn substring(v: &[u8], start: i64, end: i64) -> &[u8] {
    let len = v.len() as i64;
    if len == 0 || (start < 0 && end < 0 && start > end) {
        return &[];
    }
    let norm = |i: i64| if i < 0 { (len + i).max(0) } else { i };
    let (s, e) = (norm(start), norm(end).min(len - 1));
    if s > e || s >= len {
        return &[];
    }
    &v[s as usize..=e as usize]
}

impl Tx<'_> {
    /// The live string at `key` and its expiry, copied.
    fn current_string(&mut self, key: &[u8]) -> Result<Option<(Vec<u8>, Option<u64>)>> {
        self.live_entry(key)?;
        self.view(key, |v| {
            Ok(v.string()?
                .map(|s| (s.to_vec(), v.entry().and_then(|e| e.expire_at))))
        })?
    }

    /// Stores a string, clearing any expiry (`SET key value`).
    pub fn set(&mut self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Result<()> {
        self.set_with(key, value, SetOptions::default()).map(drop)
    }

    /// `SET` with all of its options.
    pub fn set_with(
        &mut self,
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
        opts: SetOptions,
    ) -> Result<SetOutcome> {
        let (key, value) = (key.as_ref(), value.as_ref());
        check_len(value.len() as u64)?;
        let expire_at = opts
            .expiry
            .map(|x| x.resolve(self.now, "set"))
            .transpose()?;
        self.live_entry(key)?;
        let (exists, current_ttl, old) = self.view(key, |v| {
            let old = if opts.get {
                v.string()?.map(<[u8]>::to_vec)
            } else {
                None
            };
            let e = v.entry();
            Ok::<_, Error>((e.is_some(), e.and_then(|e| e.expire_at), old))
        })??;
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
                Some(t) if t <= self.now => self.emit(Op::Del { key })?,
                _ => self.emit(Op::Set {
                    key,
                    value,
                    expire_at,
                })?,
            }
        }
        Ok(SetOutcome { written, old })
    }

    /// Stores `value` only if `key` is absent (`SETNX`); true when stored.
    pub fn setnx(&mut self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Result<bool> {
        let opts = SetOptions {
            condition: SetCondition::IfAbsent,
            ..SetOptions::default()
        };
        Ok(self.set_with(key, value, opts)?.written)
    }

    /// Stores several strings (`MSET`), clearing their expiries; with `nx`,
    /// only if none of the keys exists (`MSETNX`). True when stored.
    pub fn mset<K: AsRef<[u8]>, V: AsRef<[u8]>>(
        &mut self,
        pairs: &[(K, V)],
        nx: bool,
    ) -> Result<bool> {
        for (_, v) in pairs {
            check_len(v.as_ref().len() as u64)?;
        }
        if nx {
            for (k, _) in pairs {
                if self.live_entry(k.as_ref())?.1.is_some() {
                    return Ok(false);
                }
            }
        }
        for (k, v) in pairs {
            self.emit(Op::Set {
                key: k.as_ref(),
                value: v.as_ref(),
                expire_at: None,
            })?;
        }
        Ok(true)
    }

    /// Returns and deletes the string at `key` (`GETDEL`).
    pub fn getdel(&mut self, key: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>> {
        let key = key.as_ref();
        let old = self.current_string(key)?;
        if old.is_some() {
            self.emit(Op::Del { key })?;
        }
        Ok(old.map(|(v, _)| v))
    }

    /// Returns the string at `key` and changes its expiry (`GETEX`):
    /// `Some(Some(x))` sets it, `Some(None)` removes it (`PERSIST`).
    pub fn getex(
        &mut self,
        key: impl AsRef<[u8]>,
        change: Option<Option<Expiry>>,
    ) -> Result<Option<Vec<u8>>> {
        let key = key.as_ref();
        let at = match change {
            Some(Some(x)) => Some(Some(x.resolve(self.now, "getex")?)),
            Some(None) => Some(None),
            None => None,
        };
        let Some((value, ttl)) = self.current_string(key)? else {
            return Ok(None);
        };
        match at {
            Some(Some(t)) if t <= self.now => self.emit(Op::Del { key })?,
            Some(Some(t)) => self.emit(Op::Expire { key, at: t })?,
            Some(None) if ttl.is_some() => self.emit(Op::Persist { key })?,
            _ => {}
        }
        Ok(Some(value))
    }

    /// Appends to the string at `key`; returns the new length.
    pub fn append(&mut self, key: impl AsRef<[u8]>, data: impl AsRef<[u8]>) -> Result<u64> {
        let (key, data) = (key.as_ref(), data.as_ref());
        self.live_entry(key)?;
        let len = self.view(key, |v| {
            Ok::<_, Error>(v.string()?.map_or(0, |s| s.len() as u64))
        })??;
        let new_len = len + data.len() as u64;
        check_len(new_len)?;
        self.emit(Op::Append { key, data })?;
        Ok(new_len)
    }

    /// Adds `by` to the integer at `key` (`INCRBY`); keeps the expiry.
    pub fn incr_by(&mut self, key: impl AsRef<[u8]>, by: i64) -> Result<i64> {
        let key = key.as_ref();
        let (cur, ttl) = match self.current_string(key)? {
            Some((v, ttl)) => (parse_int(&v).ok_or(Error::NotInteger)?, ttl),
            None => (0, None),
        };
        let new = cur.checked_add(by).ok_or(Error::Overflow)?;
        let text = new.to_string();
        self.emit(Op::Set {
            key,
            value: text.as_bytes(),
            expire_at: ttl,
        })?;
        Ok(new)
    }

    /// Adds `by` to the number at `key` (`INCRBYFLOAT`); returns the new
    /// value as stored. Uses 64-bit floats (Redis uses 80-bit long doubles,
    /// so the last digits of long fractions can differ).
    pub fn incr_by_float(&mut self, key: impl AsRef<[u8]>, by: f64) -> Result<Vec<u8>> {
        let key = key.as_ref();
        if !by.is_finite() {
            return Err(Error::NanOrInfinity);
        }
        let (cur, ttl) = match self.current_string(key)? {
            Some((v, ttl)) => (parse_float(&v).ok_or(Error::NotFloat)?, ttl),
            None => (0.0, None),
        };
        let new = cur + by;
        if !new.is_finite() {
            return Err(Error::NanOrInfinity);
        }
        let text = format_float(new);
        self.emit(Op::Set {
            key,
            value: text.as_bytes(),
            expire_at: ttl,
        })?;
        Ok(text.into_bytes())
    }

    /// Overwrites part of the string at `key` from `offset`, padding with
    /// zero bytes (`SETRANGE`); returns the new length.
    pub fn setrange(
        &mut self,
        key: impl AsRef<[u8]>,
        offset: u64,
        data: impl AsRef<[u8]>,
    ) -> Result<u64> {
        let (key, data) = (key.as_ref(), data.as_ref());
        self.live_entry(key)?;
        let len = self.view(key, |v| {
            Ok::<_, Error>(v.string()?.map_or(0, |s| s.len() as u64))
        })??;
        if data.is_empty() {
            return Ok(len);
        }
        let end = offset
            .checked_add(data.len() as u64)
            .ok_or(Error::StringTooLong)?;
        check_len(end)?;
        self.emit(Op::SetRange { key, offset, data })?;
        Ok(len.max(end))
    }
}

impl Store {
    /// Stores a string, clearing any expiry (`SET key value`).
    pub fn set(&self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Result<()> {
        let key = key.as_ref();
        self.transaction(Keys::Some(&[key]), |tx| tx.set(key, value))
    }

    /// `SET` with all of its options.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let store = memkeep_engine::Store::open(memkeep_engine::Options::new(dir.path()))?;
    /// use std::time::Duration;
    /// use memkeep_engine::{Expiry, Reads, SetCondition, SetOptions, Ttl};
    /// // SET session:1 token NX EX 60
    /// let opts = SetOptions {
    ///     condition: SetCondition::IfAbsent,
    ///     expiry: Some(Expiry::In(Duration::from_secs(60))),
    ///     ..SetOptions::default()
    /// };
    /// assert!(store.set_with("session:1", "token", opts)?.written);
    /// assert!(!store.set_with("session:1", "other", opts)?.written);
    /// assert!(matches!(store.ttl("session:1")?, Ttl::Ms(ms) if ms <= 60_000));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_with(
        &self,
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
        opts: SetOptions,
    ) -> Result<SetOutcome> {
        let key = key.as_ref();
        self.transaction(Keys::Some(&[key]), |tx| tx.set_with(key, value, opts))
    }

    /// Stores `value` only if `key` is absent (`SETNX`); true when stored.
    pub fn setnx(&self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Result<bool> {
        let key = key.as_ref();
        self.transaction(Keys::Some(&[key]), |tx| tx.setnx(key, value))
    }

    /// Stores several strings atomically (`MSET`), clearing their expiries.
    pub fn mset<K: AsRef<[u8]>, V: AsRef<[u8]>>(&self, pairs: &[(K, V)]) -> Result<()> {
        let keys: Vec<&[u8]> = pairs.iter().map(|(k, _)| k.as_ref()).collect();
        self.transaction(Keys::Some(&keys), |tx| tx.mset(pairs, false))
            .map(drop)
    }

    /// `MSETNX`: stores all pairs only if none of the keys exists.
    pub fn msetnx<K: AsRef<[u8]>, V: AsRef<[u8]>>(&self, pairs: &[(K, V)]) -> Result<bool> {
        let keys: Vec<&[u8]> = pairs.iter().map(|(k, _)| k.as_ref()).collect();
        self.transaction(Keys::Some(&keys), |tx| tx.mset(pairs, true))
    }

    /// Returns and deletes the string at `key` (`GETDEL`).
    pub fn getdel(&self, key: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>> {
        let key = key.as_ref();
        self.transaction(Keys::Some(&[key]), |tx| tx.getdel(key))
    }

    /// Returns the string at `key` and changes its expiry (`GETEX`).
    pub fn getex(
        &self,
        key: impl AsRef<[u8]>,
        change: Option<Option<Expiry>>,
    ) -> Result<Option<Vec<u8>>> {
        let key = key.as_ref();
        self.transaction(Keys::Some(&[key]), |tx| tx.getex(key, change))
    }

    /// Appends to the string at `key`; returns the new length.
    pub fn append(&self, key: impl AsRef<[u8]>, data: impl AsRef<[u8]>) -> Result<u64> {
        let key = key.as_ref();
        self.transaction(Keys::Some(&[key]), |tx| tx.append(key, data))
    }

    /// Adds `by` to the integer at `key` (`INCRBY`); keeps the expiry.
    pub fn incr_by(&self, key: impl AsRef<[u8]>, by: i64) -> Result<i64> {
        let key = key.as_ref();
        self.transaction(Keys::Some(&[key]), |tx| tx.incr_by(key, by))
    }

    /// Adds `by` to the number at `key` (`INCRBYFLOAT`).
    pub fn incr_by_float(&self, key: impl AsRef<[u8]>, by: f64) -> Result<Vec<u8>> {
        let key = key.as_ref();
        self.transaction(Keys::Some(&[key]), |tx| tx.incr_by_float(key, by))
    }

    /// Overwrites part of the string at `key` (`SETRANGE`).
    pub fn setrange(
        &self,
        key: impl AsRef<[u8]>,
        offset: u64,
        data: impl AsRef<[u8]>,
    ) -> Result<u64> {
        let key = key.as_ref();
        self.transaction(Keys::Some(&[key]), |tx| tx.setrange(key, offset, data))
    }
}
