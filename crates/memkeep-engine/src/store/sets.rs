//! Set commands (the reads are in [`Reads`](crate::Reads)).

use std::collections::HashSet;

use super::Store;
use super::keys::fastrand_u64;
use super::read::Reads;
use super::tx::{Keys, Tx};
use crate::error::{Error, Result};
use crate::mem::packed_map::PackedMap;
use crate::op::Op;

/// Up to `count` distinct members picked at random.
fn sample(m: &PackedMap, count: usize) -> Vec<Vec<u8>> {
    if count >= m.len() {
        return m.iter().map(|(k, _)| k.to_vec()).collect();
    }
    if count * 2 >= m.len() {
        // Most of the set: a partial shuffle of all members.
        let mut all: Vec<Vec<u8>> = m.iter().map(|(k, _)| k.to_vec()).collect();
        for i in 0..count {
            let j = i + (fastrand_u64() % (all.len() - i) as u64) as usize;
            all.swap(i, j);
        }
        all.truncate(count);
        return all;
    }
    let mut seen: HashSet<Vec<u8>> = HashSet::with_capacity(count);
    while seen.len() < count {
        if let Some((k, _)) = m.random(fastrand_u64) {
            seen.insert(k.to_vec());
        }
    }
    seen.into_iter().collect()
}

/// `SRANDMEMBER key count` over any reader.
pub(crate) fn srandmember<R: Reads + ?Sized>(
    r: &R,
    key: &[u8],
    count: i64,
) -> Result<Vec<Vec<u8>>> {
    if count < -i64::from(i32::MAX) {
        return Err(Error::InvalidArgument("value is out of range".into()));
    }
    r.view(key, |v| {
        let Some(m) = v.set()? else {
            return Ok(Vec::new());
        };
        if count >= 0 {
            return Ok(sample(m, count as usize));
        }
        Ok((0..count.unsigned_abs())
            .filter_map(|_| m.random(fastrand_u64).map(|(k, _)| k.to_vec()))
            .collect())
    })?
}

#[derive(Clone, Copy)]
pub(crate) enum SetOp {
    Inter,
    Union,
    Diff,
}

/// `SINTER`, `SUNION`, `SDIFF` over any reader: every key must be a set or
/// absent (an absent key is the empty set).
pub(crate) fn combine<R: Reads + ?Sized, K: AsRef<[u8]>>(
    r: &R,
    keys: &[K],
    op: SetOp,
) -> Result<Vec<Vec<u8>>> {
    let keys: Vec<&[u8]> = keys.iter().map(AsRef::as_ref).collect();
    r.view_many(&keys, |view| {
        let views: Vec<_> = keys.iter().map(|k| view(k)).collect();
        let mut sets: Vec<Option<&PackedMap>> = Vec::with_capacity(keys.len());
        for v in &views {
            sets.push(v.set()?);
        }
        let Some((first, rest)) = sets.split_first() else {
            return Ok(Vec::new());
        };
        Ok(match op {
            SetOp::Union => {
                let mut seen = HashSet::new();
                for s in sets.iter().flatten() {
                    for (k, _) in s.iter() {
                        seen.insert(k.to_vec());
                    }
                }
                seen.into_iter().collect()
            }
            SetOp::Inter => {
                if sets.iter().any(Option::is_none) {
                    return Ok(Vec::new());
                }
                let smallest = sets
                    .iter()
                    .flatten()
                    .min_by_key(|s| s.len())
                    .expect("non-empty");
                smallest
                    .iter()
                    .filter(|(k, _)| sets.iter().flatten().all(|s| s.contains(k)))
                    .map(|(k, _)| k.to_vec())
                    .collect()
            }
            SetOp::Diff => first.map_or_else(Vec::new, |f| {
                f.iter()
                    .filter(|(k, _)| !rest.iter().flatten().any(|s| s.contains(k)))
                    .map(|(k, _)| k.to_vec())
                    .collect()
            }),
        })
    })?
}

impl Tx<'_> {
    /// Runs `f` on the live set at `key` (after deleting it if expired).
    fn with_set<R>(&mut self, key: &[u8], f: impl FnOnce(Option<&PackedMap>) -> R) -> Result<R> {
        self.live_entry(key)?;
        self.view(key, |v| Ok(f(v.set()?)))?
    }

    /// Adds members (`SADD`); returns how many were new.
    pub fn sadd<M: AsRef<[u8]>>(&mut self, key: impl AsRef<[u8]>, members: &[M]) -> Result<u64> {
        let key = key.as_ref();
        let bytes: usize = members.iter().map(|m| m.as_ref().len() + 8).sum();
        self.with_set(key, |m| match m {
            Some(m) if !m.has_room_for(bytes) => Err(Error::CollectionFull),
            _ => Ok(()),
        })??;
        let mut added = 0;
        for m in members {
            let member = m.as_ref();
            if self.with_set(key, |s| s.is_none_or(|s| !s.contains(member)))? {
                self.emit(Op::SAdd { key, member })?;
                added += 1;
            }
        }
        Ok(added)
    }

    /// Removes members (`SREM`); returns how many existed.
    pub fn srem<M: AsRef<[u8]>>(&mut self, key: impl AsRef<[u8]>, members: &[M]) -> Result<u64> {
        let key = key.as_ref();
        let mut n = 0;
        for m in members {
            let member = m.as_ref();
            if self.with_set(key, |s| s.is_some_and(|s| s.contains(member)))? {
                self.emit(Op::SRem { key, member })?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Removes and returns up to `count` random members (`SPOP`).
    pub fn spop(&mut self, key: impl AsRef<[u8]>, count: usize) -> Result<Vec<Vec<u8>>> {
        let key = key.as_ref();
        let picked = self.with_set(key, |m| m.map_or_else(Vec::new, |m| sample(m, count)))?;
        for member in &picked {
            self.emit(Op::SRem { key, member })?;
        }
        Ok(picked)
    }
}

impl Store {
    /// Adds members (`SADD`); returns how many were new.
    pub fn sadd<M: AsRef<[u8]>>(&self, key: impl AsRef<[u8]>, members: &[M]) -> Result<u64> {
        let key = key.as_ref();
        self.transaction(Keys::Some(&[key]), |tx| tx.sadd(key, members))
    }

    /// Removes members (`SREM`); returns how many existed.
    pub fn srem<M: AsRef<[u8]>>(&self, key: impl AsRef<[u8]>, members: &[M]) -> Result<u64> {
        let key = key.as_ref();
        self.transaction(Keys::Some(&[key]), |tx| tx.srem(key, members))
    }

    /// Removes and returns up to `count` random members (`SPOP`).
    pub fn spop(&self, key: impl AsRef<[u8]>, count: usize) -> Result<Vec<Vec<u8>>> {
        let key = key.as_ref();
        self.transaction(Keys::Some(&[key]), |tx| tx.spop(key, count))
    }
}
