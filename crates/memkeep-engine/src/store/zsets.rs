//! Sorted-set commands.

use super::Store;
use super::commit::{LockSet, WriteCtx};
use super::lists::range;
use super::read::object_of;
use super::scan::{decode_map_cursor, encode_map_cursor};
use crate::error::{Error, Result};
use crate::glob::glob_match;
use crate::keyspace::{Object, Stored};
use crate::mem::zset::{ScoreBound, ZSet};
use crate::op::Op;

fn zset(o: &Object) -> &ZSet {
    match o {
        Object::ZSet(z) => z,
        _ => unreachable!("kind checked"),
    }
}

fn with_zset<R>(
    ctx: &mut WriteCtx<'_>,
    key: &[u8],
    f: impl FnOnce(Option<&ZSet>) -> R,
) -> Result<R> {
    let (shard, e) = ctx.get(key)?;
    match e {
        None => Ok(f(None)),
        Some(e) => Ok(f(Some(zset(object_of(shard, &e, Stored::ZSet)?)))),
    }
}

/// Members with their scores.
type Scored = Vec<(Vec<u8>, f64)>;

fn nan() -> Error {
    Error::InvalidArgument("resulting score is not a number (NaN)".into())
}

/// Options of `ZADD`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ZAddOptions {
    /// `NX`: only add new members.
    pub nx: bool,
    /// `XX`: only update existing members.
    pub xx: bool,
    /// `GT`: only update when the new score is greater.
    pub gt: bool,
    /// `LT`: only update when the new score is less.
    pub lt: bool,
    /// `CH`: count changed members too, not just added ones.
    pub ch: bool,
    /// `INCR`: add the score to the member's (one pair only).
    pub incr: bool,
}

/// What `ZADD` answers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ZAddResult {
    /// Members added (and changed, with `CH`).
    Count(u64),
    /// With `INCR`: the new score, or `None` when a condition stopped it.
    Score(Option<f64>),
}

/// Which members `ZRANGE` returns.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ZRange {
    /// By position, Redis index rules (negative from the end).
    Rank { start: i64, stop: i64 },
    /// By score, between `min` and `max`.
    Score { min: ScoreBound, max: ScoreBound },
}

impl Store {
    fn read_zset<R>(&self, key: &[u8], f: impl FnOnce(Option<&ZSet>) -> R) -> Result<R> {
        self.inner.read(key, |shard, e| match e {
            None => Ok(f(None)),
            Some(e) => Ok(f(Some(zset(object_of(shard, &e, Stored::ZSet)?)))),
        })
    }

    /// Adds or updates members with scores (`ZADD`).
    pub fn zadd<M: AsRef<[u8]>>(
        &self,
        key: impl AsRef<[u8]>,
        pairs: &[(f64, M)],
        opts: ZAddOptions,
    ) -> Result<ZAddResult> {
        let key = key.as_ref();
        if opts.nx && opts.xx {
            return Err(Error::InvalidArgument(
                "XX and NX options at the same time are not compatible".into(),
            ));
        }
        if (opts.gt && opts.lt) || (opts.nx && (opts.gt || opts.lt)) {
            return Err(Error::InvalidArgument(
                "GT, LT, and/or NX options at the same time are not compatible".into(),
            ));
        }
        if opts.incr && pairs.len() != 1 {
            return Err(Error::InvalidArgument(
                "INCR option supports a single increment-element pair".into(),
            ));
        }
        if pairs.iter().any(|(s, _)| s.is_nan()) {
            return Err(Error::NotFloat);
        }
        self.inner.write(LockSet::Keys(&[key]), |ctx| {
            let bytes: usize = pairs.iter().map(|(_, m)| m.as_ref().len() + 16).sum();
            with_zset(ctx, key, |z| match z {
                Some(z) if !z.has_room_for(bytes) => Err(Error::CollectionFull),
                _ => Ok(()),
            })??;
            let (mut added, mut changed) = (0, 0);
            let mut last_score = None;
            for (score, m) in pairs {
                let member = m.as_ref();
                let cur = with_zset(ctx, key, |z| z.and_then(|z| z.score(member)))?;
                let new = match cur {
                    Some(_) if opts.nx => continue,
                    None if opts.xx => continue,
                    Some(c) if opts.incr => c + score,
                    _ => *score,
                };
                if new.is_nan() {
                    return Err(nan());
                }
                if let Some(c) = cur {
                    if (opts.gt && new <= c) || (opts.lt && new >= c) {
                        continue;
                    }
                    if new != c {
                        changed += 1;
                        ctx.emit(Op::ZAdd {
                            key,
                            score: new,
                            member,
                        })?;
                    }
                } else {
                    added += 1;
                    ctx.emit(Op::ZAdd {
                        key,
                        score: new,
                        member,
                    })?;
                }
                last_score = Some(new);
            }
            Ok(if opts.incr {
                ZAddResult::Score(last_score)
            } else {
                ZAddResult::Count(added + if opts.ch { changed } else { 0 })
            })
        })
    }

    /// Removes members (`ZREM`); returns how many existed.
    pub fn zrem<M: AsRef<[u8]>>(&self, key: impl AsRef<[u8]>, members: &[M]) -> Result<u64> {
        let key = key.as_ref();
        self.inner.write(LockSet::Keys(&[key]), |ctx| {
            let mut n = 0;
            for m in members {
                let member = m.as_ref();
                if with_zset(ctx, key, |z| z.is_some_and(|z| z.score(member).is_some()))? {
                    ctx.emit(Op::ZRem { key, member })?;
                    n += 1;
                }
            }
            Ok(n)
        })
    }

    pub fn zscore(&self, key: impl AsRef<[u8]>, member: impl AsRef<[u8]>) -> Result<Option<f64>> {
        self.read_zset(key.as_ref(), |z| z.and_then(|z| z.score(member.as_ref())))
    }

    /// Adds `by` to a member's score (`ZINCRBY`); returns the new score.
    pub fn zincr_by(
        &self,
        key: impl AsRef<[u8]>,
        by: f64,
        member: impl AsRef<[u8]>,
    ) -> Result<f64> {
        let opts = ZAddOptions {
            incr: true,
            ..ZAddOptions::default()
        };
        match self.zadd(key, &[(by, member)], opts)? {
            ZAddResult::Score(Some(s)) => Ok(s),
            _ => unreachable!("an unconditional increment always scores"),
        }
    }

    pub fn zcard(&self, key: impl AsRef<[u8]>) -> Result<u64> {
        self.read_zset(key.as_ref(), |z| z.map_or(0, |z| z.len() as u64))
    }

    /// A member's rank, ascending (or descending with `rev`).
    pub fn zrank(
        &self,
        key: impl AsRef<[u8]>,
        member: impl AsRef<[u8]>,
        rev: bool,
    ) -> Result<Option<u64>> {
        self.read_zset(key.as_ref(), |z| {
            let z = z?;
            let r = z.rank(member.as_ref())?;
            Some(if rev { z.len() - 1 - r } else { r } as u64)
        })
    }

    /// Members with `min <= score <= max`.
    pub fn zcount(&self, key: impl AsRef<[u8]>, min: ScoreBound, max: ScoreBound) -> Result<u64> {
        self.read_zset(key.as_ref(), |z| {
            z.map_or(0, |z| z.range_by_score(min, max).count() as u64)
        })
    }

    /// Members and scores (`ZRANGE`, `ZRANGEBYSCORE`, `ZREVRANGE…`): by rank
    /// or by score, reversed with `rev`, then `LIMIT offset count` (a count
    /// of `None` means all).
    pub fn zrange(
        &self,
        key: impl AsRef<[u8]>,
        which: ZRange,
        rev: bool,
        limit: Option<(usize, Option<usize>)>,
    ) -> Result<Scored> {
        self.read_zset(key.as_ref(), |z| {
            let Some(z) = z else { return Vec::new() };
            let pairs: Box<dyn Iterator<Item = (&[u8], f64)>> = match which {
                ZRange::Rank { start, stop } => {
                    let Some((a, b)) = range(start, stop, z.len()) else {
                        return Vec::new();
                    };
                    if rev {
                        Box::new(z.iter().rev().skip(a).take(b - a + 1))
                    } else {
                        Box::new(z.iter().skip(a).take(b - a + 1))
                    }
                }
                ZRange::Score { min, max } => {
                    if rev {
                        Box::new(z.range_by_score(min, max).rev())
                    } else {
                        Box::new(z.range_by_score(min, max))
                    }
                }
            };
            let (offset, count) = limit.unwrap_or((0, None));
            pairs
                .skip(offset)
                .take(count.unwrap_or(usize::MAX))
                .map(|(m, s)| (m.to_vec(), s))
                .collect()
        })
    }

    /// Iterates a sorted set (`ZSCAN`); see [`hscan`](Self::hscan).
    pub fn zscan(
        &self,
        key: impl AsRef<[u8]>,
        cursor: u64,
        pattern: Option<&[u8]>,
        count: usize,
    ) -> Result<(u64, Scored)> {
        self.read_zset(key.as_ref(), |z| {
            let Some(z) = z else { return (0, Vec::new()) };
            let mut out = Vec::new();
            let next = z.scan(decode_map_cursor(cursor), count, |m, s| {
                if pattern.is_none_or(|p| glob_match(p, m)) {
                    out.push((m.to_vec(), s));
                }
            });
            (encode_map_cursor(next), out)
        })
    }
}
