//! Sorted-set commands (the reads are in [`Reads`](crate::Reads)).

use super::Store;
use super::lists;
use super::read::Reads;
use super::tx::{Keys, Tx};
use crate::error::{Error, Result};
use crate::mem::zset::{ScoreBound, ZSet};
use crate::op::Op;

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

fn nan() -> Error {
    Error::InvalidArgument("resulting score is not a number (NaN)".into())
}

/// `ZRANGE` on one sorted set.
pub(crate) fn range(
    z: &ZSet,
    which: ZRange,
    rev: bool,
    limit: Option<(usize, Option<usize>)>,
) -> Vec<(Vec<u8>, f64)> {
    let pairs: Box<dyn Iterator<Item = (&[u8], f64)>> = match which {
        ZRange::Rank { start, stop } => {
            let Some((a, b)) = lists::range(start, stop, z.len()) else {
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
}

impl Tx<'_> {
    /// Runs `f` on the live sorted set at `key` (after deleting it if expired).
    fn with_zset<R>(&mut self, key: &[u8], f: impl FnOnce(Option<&ZSet>) -> R) -> Result<R> {
        self.live_entry(key)?;
        self.view(key, |v| Ok(f(v.zset()?)))?
    }

    /// Adds or updates members with scores (`ZADD`).
    pub fn zadd<M: AsRef<[u8]>>(
        &mut self,
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
        let bytes: usize = pairs.iter().map(|(_, m)| m.as_ref().len() + 16).sum();
        self.with_zset(key, |z| match z {
            Some(z) if !z.has_room_for(bytes) => Err(Error::CollectionFull),
            _ => Ok(()),
        })??;
        let (mut added, mut changed) = (0, 0);
        let mut last_score = None;
        for (score, m) in pairs {
            let member = m.as_ref();
            let cur = self.with_zset(key, |z| z.and_then(|z| z.score(member)))?;
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
                    self.emit(Op::ZAdd {
                        key,
                        score: new,
                        member,
                    })?;
                }
            } else {
                added += 1;
                self.emit(Op::ZAdd {
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
    }

    /// Removes members (`ZREM`); returns how many existed.
    pub fn zrem<M: AsRef<[u8]>>(&mut self, key: impl AsRef<[u8]>, members: &[M]) -> Result<u64> {
        let key = key.as_ref();
        let mut n = 0;
        for m in members {
            let member = m.as_ref();
            if self.with_zset(key, |z| z.is_some_and(|z| z.score(member).is_some()))? {
                self.emit(Op::ZRem { key, member })?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Adds `by` to a member's score (`ZINCRBY`); returns the new score.
    pub fn zincr_by(
        &mut self,
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
}

impl Store {
    /// Adds or updates members with scores (`ZADD`).
    pub fn zadd<M: AsRef<[u8]>>(
        &self,
        key: impl AsRef<[u8]>,
        pairs: &[(f64, M)],
        opts: ZAddOptions,
    ) -> Result<ZAddResult> {
        let key = key.as_ref();
        self.transaction(Keys::Some(&[key]), |tx| tx.zadd(key, pairs, opts))
    }

    /// Removes members (`ZREM`); returns how many existed.
    pub fn zrem<M: AsRef<[u8]>>(&self, key: impl AsRef<[u8]>, members: &[M]) -> Result<u64> {
        let key = key.as_ref();
        self.transaction(Keys::Some(&[key]), |tx| tx.zrem(key, members))
    }

    /// Adds `by` to a member's score (`ZINCRBY`); returns the new score.
    pub fn zincr_by(
        &self,
        key: impl AsRef<[u8]>,
        by: f64,
        member: impl AsRef<[u8]>,
    ) -> Result<f64> {
        let key = key.as_ref();
        self.transaction(Keys::Some(&[key]), |tx| tx.zincr_by(key, by, member))
    }
}
