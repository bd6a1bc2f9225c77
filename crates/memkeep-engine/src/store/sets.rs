//! Set commands.

use std::collections::HashSet;

use super::Store;
use super::commit::{LockSet, WriteCtx};
use super::keys::fastrand_u64;
use super::read::object_of;
use super::scan::{decode_map_cursor, encode_map_cursor};
use crate::error::{Error, Result};
use crate::glob::glob_match;
use crate::keyspace::{Object, Stored};
use crate::mem::packed_map::PackedMap;
use crate::op::Op;

fn set(o: &Object) -> &PackedMap {
    match o {
        Object::Set(m) => m,
        _ => unreachable!("kind checked"),
    }
}

fn with_set<R>(
    ctx: &mut WriteCtx<'_>,
    key: &[u8],
    f: impl FnOnce(Option<&PackedMap>) -> R,
) -> Result<R> {
    let (shard, e) = ctx.get(key)?;
    match e {
        None => Ok(f(None)),
        Some(e) => Ok(f(Some(set(object_of(shard, &e, Stored::Set)?)))),
    }
}

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

impl Store {
    fn read_set<R>(&self, key: &[u8], f: impl FnOnce(Option<&PackedMap>) -> R) -> Result<R> {
        self.inner.read(key, |shard, e| match e {
            None => Ok(f(None)),
            Some(e) => Ok(f(Some(set(object_of(shard, &e, Stored::Set)?)))),
        })
    }

    /// Adds members (`SADD`); returns how many were new.
    pub fn sadd<M: AsRef<[u8]>>(&self, key: impl AsRef<[u8]>, members: &[M]) -> Result<u64> {
        let key = key.as_ref();
        self.inner.write(LockSet::Keys(&[key]), |ctx| {
            let bytes: usize = members.iter().map(|m| m.as_ref().len() + 8).sum();
            with_set(ctx, key, |m| match m {
                Some(m) if !m.has_room_for(bytes) => Err(Error::CollectionFull),
                _ => Ok(()),
            })??;
            let mut added = 0;
            for m in members {
                let member = m.as_ref();
                if with_set(ctx, key, |s| s.is_none_or(|s| !s.contains(member)))? {
                    ctx.emit(Op::SAdd { key, member })?;
                    added += 1;
                }
            }
            Ok(added)
        })
    }

    /// Removes members (`SREM`); returns how many existed.
    pub fn srem<M: AsRef<[u8]>>(&self, key: impl AsRef<[u8]>, members: &[M]) -> Result<u64> {
        let key = key.as_ref();
        self.inner.write(LockSet::Keys(&[key]), |ctx| {
            let mut n = 0;
            for m in members {
                let member = m.as_ref();
                if with_set(ctx, key, |s| s.is_some_and(|s| s.contains(member)))? {
                    ctx.emit(Op::SRem { key, member })?;
                    n += 1;
                }
            }
            Ok(n)
        })
    }

    pub fn smembers(&self, key: impl AsRef<[u8]>) -> Result<Vec<Vec<u8>>> {
        self.read_set(key.as_ref(), |m| {
            m.map_or_else(Vec::new, |m| m.iter().map(|(k, _)| k.to_vec()).collect())
        })
    }

    pub fn sismember(&self, key: impl AsRef<[u8]>, member: impl AsRef<[u8]>) -> Result<bool> {
        self.read_set(key.as_ref(), |m| {
            m.is_some_and(|m| m.contains(member.as_ref()))
        })
    }

    pub fn smismember<M: AsRef<[u8]>>(
        &self,
        key: impl AsRef<[u8]>,
        members: &[M],
    ) -> Result<Vec<bool>> {
        self.read_set(key.as_ref(), |m| {
            members
                .iter()
                .map(|x| m.is_some_and(|m| m.contains(x.as_ref())))
                .collect()
        })
    }

    pub fn scard(&self, key: impl AsRef<[u8]>) -> Result<u64> {
        self.read_set(key.as_ref(), |m| m.map_or(0, |m| m.len() as u64))
    }

    /// Removes and returns up to `count` random members (`SPOP`).
    pub fn spop(&self, key: impl AsRef<[u8]>, count: usize) -> Result<Vec<Vec<u8>>> {
        let key = key.as_ref();
        self.inner.write(LockSet::Keys(&[key]), |ctx| {
            let picked = with_set(ctx, key, |m| m.map_or_else(Vec::new, |m| sample(m, count)))?;
            for member in &picked {
                ctx.emit(Op::SRem { key, member })?;
            }
            Ok(picked)
        })
    }

    /// Random members without removing them (`SRANDMEMBER key count`):
    /// distinct when `count > 0`, possibly repeated when negative. A
    /// repeated count beyond 2^31 is refused rather than attempted.
    pub fn srandmember(&self, key: impl AsRef<[u8]>, count: i64) -> Result<Vec<Vec<u8>>> {
        if count < -i64::from(i32::MAX) {
            return Err(Error::InvalidArgument("value is out of range".into()));
        }
        self.read_set(key.as_ref(), |m| {
            let Some(m) = m else { return Vec::new() };
            if count >= 0 {
                return sample(m, count as usize);
            }
            (0..count.unsigned_abs())
                .filter_map(|_| m.random(fastrand_u64).map(|(k, _)| k.to_vec()))
                .collect()
        })
    }

    /// Iterates a set (`SSCAN`); see [`hscan`](Self::hscan) for cursors.
    pub fn sscan(
        &self,
        key: impl AsRef<[u8]>,
        cursor: u64,
        pattern: Option<&[u8]>,
        count: usize,
    ) -> Result<(u64, Vec<Vec<u8>>)> {
        self.read_set(key.as_ref(), |m| {
            let Some(m) = m else { return (0, Vec::new()) };
            let mut out = Vec::new();
            let next = m.scan(decode_map_cursor(cursor), count, |k, _| {
                if pattern.is_none_or(|p| glob_match(p, k)) {
                    out.push(k.to_vec());
                }
            });
            (encode_map_cursor(next), out)
        })
    }

    fn combine<K: AsRef<[u8]>>(&self, keys: &[K], op: SetOp) -> Result<Vec<Vec<u8>>> {
        let keys: Vec<&[u8]> = keys.iter().map(AsRef::as_ref).collect();
        self.inner.read_many(&keys, |v| {
            let mut sets: Vec<Option<&PackedMap>> = Vec::with_capacity(keys.len());
            for k in &keys {
                let (shard, e) = v.get(k);
                sets.push(match e {
                    None => None,
                    Some(e) => Some(set(object_of(shard, &e, Stored::Set)?)),
                });
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
        })
    }

    pub fn sinter<K: AsRef<[u8]>>(&self, keys: &[K]) -> Result<Vec<Vec<u8>>> {
        self.combine(keys, SetOp::Inter)
    }

    pub fn sunion<K: AsRef<[u8]>>(&self, keys: &[K]) -> Result<Vec<Vec<u8>>> {
        self.combine(keys, SetOp::Union)
    }

    pub fn sdiff<K: AsRef<[u8]>>(&self, keys: &[K]) -> Result<Vec<Vec<u8>>> {
        self.combine(keys, SetOp::Diff)
    }
}

#[derive(Clone, Copy)]
enum SetOp {
    Inter,
    Union,
    Diff,
}
