//! Sorted-set commands.

use memkeep_engine::{Keys, Reads, ScoreBound, ZAddOptions, ZAddResult, ZRange};

use super::keys::{cursor_arg, scan_options};
use super::{
    Call, CmdResult, Fail, eq, err, float_arg, int_arg, parse_float_like_redis, read, syntax, write,
};
use crate::resp::reply::format_double;

pub(crate) fn zadd(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let mut opts = ZAddOptions::default();
    let mut i = 2;
    while i < a.len() {
        match a[i].to_ascii_lowercase().as_slice() {
            b"nx" => opts.nx = true,
            b"xx" => opts.xx = true,
            b"ch" => opts.ch = true,
            b"incr" => opts.incr = true,
            b"gt" => opts.gt = true,
            b"lt" => opts.lt = true,
            _ => break,
        }
        i += 1;
    }
    let rest = &a[i..];
    if rest.is_empty() || rest.len() % 2 == 1 {
        return Err(syntax());
    }
    // Redis checks option conflicts before it parses any score.
    if opts.nx && opts.xx {
        return Err(err(
            "ERR XX and NX options at the same time are not compatible",
        ));
    }
    if (opts.gt && opts.lt) || (opts.nx && (opts.gt || opts.lt)) {
        return Err(err(
            "ERR GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if opts.incr && rest.len() > 2 {
        return Err(err(
            "ERR INCR option supports a single increment-element pair",
        ));
    }
    let pairs = rest
        .chunks(2)
        .map(|p| Ok((float_arg(p[0])?, p[1])))
        .collect::<Result<Vec<(f64, &[u8])>, Fail>>()?;
    let r = write!(c, Keys::Some(&[a[1]]), |tx| tx.zadd(a[1], &pairs, opts))?;
    match r {
        ZAddResult::Count(n) => c.out.int(n as i64),
        ZAddResult::Score(Some(s)) => c.out.double(s),
        ZAddResult::Score(None) => c.out.null(),
    }
    Ok(())
}

pub(crate) fn zincrby(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let by = float_arg(a[2])?;
    let s = write!(c, Keys::Some(&[a[1]]), |tx| tx.zincr_by(a[1], by, a[3]))?;
    c.out.double(s);
    Ok(())
}

pub(crate) fn zrem(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let n = write!(c, Keys::Some(&[a[1]]), |tx| tx.zrem(a[1], &a[2..]))?;
    c.out.int(n as i64);
    Ok(())
}

pub(crate) fn zscore(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    match read!(c, |r| r.zscore(a[1], a[2]))? {
        Some(s) => c.out.double(s),
        None => c.out.null(),
    }
    Ok(())
}

pub(crate) fn zcard(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let n = read!(c, |r| r.zcard(a[1]))?;
    c.out.int(n as i64);
    Ok(())
}

fn rank(c: &mut Call<'_, '_>, a: &[&[u8]], rev: bool) -> CmdResult {
    match read!(c, |r| r.zrank(a[1], a[2], rev))? {
        Some(n) => c.out.int(n as i64),
        None => c.out.null(),
    }
    Ok(())
}

pub(crate) fn zrank(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    rank(c, a, false)
}

pub(crate) fn zrevrank(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    rank(c, a, true)
}

/// One end of a score range: `(1.5` exclusive, `1.5` inclusive, `±inf`.
fn score_bound(raw: &[u8]) -> Option<ScoreBound> {
    match raw.split_first() {
        Some((b'(', rest)) => parse_float_like_redis(rest).map(ScoreBound::Exclusive),
        _ => parse_float_like_redis(raw).map(ScoreBound::Inclusive),
    }
}

fn score_range(min: &[u8], max: &[u8]) -> Result<(ScoreBound, ScoreBound), Fail> {
    match (score_bound(min), score_bound(max)) {
        (Some(lo), Some(hi)) => Ok((lo, hi)),
        _ => Err(err("ERR min or max is not a float")),
    }
}

pub(crate) fn zcount(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let (min, max) = score_range(a[2], a[3])?;
    let n = read!(c, |r| r.zcount(a[1], min, max))?;
    c.out.int(n as i64);
    Ok(())
}

#[derive(Clone, Copy, PartialEq)]
enum By {
    Rank,
    Score,
}

/// The common core of `ZRANGE` and its older forms (Redis's
/// `zrangeGenericCommand`): options from `a[4..]`, then the range.
fn zrange_generic(
    c: &mut Call<'_, '_>,
    a: &[&[u8]],
    mut by: Option<By>,
    mut rev: bool,
    flexible: bool,
) -> CmdResult {
    let mut withscores = false;
    let mut limit: Option<(i64, i64)> = None;
    let mut j = 4;
    while j < a.len() {
        let left = a.len() - j - 1;
        if eq(a[j], "withscores") {
            withscores = true;
        } else if eq(a[j], "limit") && left >= 2 {
            limit = Some((int_arg(a[j + 1])?, int_arg(a[j + 2])?));
            j += 2;
        } else if flexible && eq(a[j], "rev") {
            rev = true;
        } else if flexible && eq(a[j], "byscore") {
            by = Some(By::Score);
        } else if flexible && eq(a[j], "bylex") {
            return Err(err("ERR BYLEX ranges are not supported by memkeep"));
        } else {
            return Err(syntax());
        }
        j += 1;
    }
    let by = by.unwrap_or(By::Rank);
    if limit.is_some() && by == By::Rank {
        return Err(err(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    // Reversed score ranges are given as max then min.
    let (lo, hi) = if rev && by == By::Score {
        (a[3], a[2])
    } else {
        (a[2], a[3])
    };
    let which = match by {
        By::Rank => ZRange::Rank {
            start: int_arg(lo)?,
            stop: int_arg(hi)?,
        },
        By::Score => {
            let (min, max) = score_range(lo, hi)?;
            ZRange::Score { min, max }
        }
    };
    let limit = match limit {
        None => None,
        Some((offset, _)) if offset < 0 => Some((usize::MAX, Some(0))),
        Some((offset, count)) => Some((offset as usize, (count >= 0).then_some(count as usize))),
    };
    let items = read!(c, |r| r.zrange(a[1], which, rev, limit))?;
    let resp3 = c.out.resp3();
    c.out.array(if withscores && !resp3 {
        items.len() * 2
    } else {
        items.len()
    });
    for (m, s) in &items {
        if withscores && resp3 {
            c.out.array(2);
        }
        c.out.bulk(m);
        if withscores {
            c.out.double(*s);
        }
    }
    Ok(())
}

pub(crate) fn zrange(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    zrange_generic(c, a, None, false, true)
}

pub(crate) fn zrevrange(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    zrange_generic(c, a, Some(By::Rank), true, false)
}

pub(crate) fn zrangebyscore(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    zrange_generic(c, a, Some(By::Score), false, false)
}

pub(crate) fn zrevrangebyscore(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    zrange_generic(c, a, Some(By::Score), true, false)
}

pub(crate) fn zscan(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let cursor = cursor_arg(a[2])?;
    let opts = scan_options(a, 3, false)?;
    let (next, v) = read!(c, |r| r.zscan(
        a[1],
        cursor,
        opts.pattern.as_deref(),
        opts.count
    ))?;
    c.out.array(2);
    c.out.bulk(itoa::Buffer::new().format(next).as_bytes());
    c.out.array(v.len() * 2);
    for (m, s) in &v {
        c.out.bulk(m);
        c.out.bulk(format_double(*s).as_bytes());
    }
    Ok(())
}
