//! Hash commands.

use memkeep_engine::{Keys, Reads};

use super::keys::{cursor_arg, scan_options};
use super::strings::pairs;
use super::{Call, CmdResult, float_arg, int_arg, read, write};

pub(crate) fn hset(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let p = pairs(a[0], &a[2..])?;
    let n = write!(c, Keys::Some(&[a[1]]), |tx| tx
        .hset(a[1], p.iter().copied()))?;
    c.out.int(n as i64);
    Ok(())
}

pub(crate) fn hmset(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let p = pairs(a[0], &a[2..])?;
    write!(c, Keys::Some(&[a[1]]), |tx| tx
        .hset(a[1], p.iter().copied()))?;
    c.out.ok();
    Ok(())
}

pub(crate) fn hsetnx(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let done = write!(c, Keys::Some(&[a[1]]), |tx| tx.hsetnx(a[1], a[2], a[3]))?;
    c.out.int(i64::from(done));
    Ok(())
}

pub(crate) fn hget(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let v = read!(c, |r| r.hget(a[1], a[2]))?;
    c.out.bulk_opt(v.as_deref());
    Ok(())
}

pub(crate) fn hmget(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let v = read!(c, |r| r.hmget(a[1], &a[2..]))?;
    c.out.array(v.len());
    for x in &v {
        c.out.bulk_opt(x.as_deref());
    }
    Ok(())
}

pub(crate) fn hgetall(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let p = read!(c, |r| r.hgetall(a[1]))?;
    c.out.map(p.len());
    for (f, v) in &p {
        c.out.bulk(f);
        c.out.bulk(v);
    }
    Ok(())
}

pub(crate) fn hdel(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let n = write!(c, Keys::Some(&[a[1]]), |tx| tx.hdel(a[1], &a[2..]))?;
    c.out.int(n as i64);
    Ok(())
}

pub(crate) fn hexists(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let b = read!(c, |r| r.hexists(a[1], a[2]))?;
    c.out.int(i64::from(b));
    Ok(())
}

pub(crate) fn hkeys(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let k = read!(c, |r| r.hkeys(a[1]))?;
    c.out.bulks(k.iter().map(Vec::as_slice));
    Ok(())
}

pub(crate) fn hvals(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let v = read!(c, |r| r.hvals(a[1]))?;
    c.out.bulks(v.iter().map(Vec::as_slice));
    Ok(())
}

pub(crate) fn hlen(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let n = read!(c, |r| r.hlen(a[1]))?;
    c.out.int(n as i64);
    Ok(())
}

pub(crate) fn hstrlen(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let n = read!(c, |r| r.hstrlen(a[1], a[2]))?;
    c.out.int(n as i64);
    Ok(())
}

pub(crate) fn hincrby(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let by = int_arg(a[3])?;
    let n = write!(c, Keys::Some(&[a[1]]), |tx| tx.hincr_by(a[1], a[2], by))?;
    c.out.int(n);
    Ok(())
}

pub(crate) fn hincrbyfloat(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let by = float_arg(a[3])?;
    let v = write!(c, Keys::Some(&[a[1]]), |tx| tx
        .hincr_by_float(a[1], a[2], by))?;
    c.out.bulk(&v);
    Ok(())
}

pub(crate) fn hscan(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let cursor = cursor_arg(a[2])?;
    let opts = scan_options(a, 3, false)?;
    let (next, pairs) = read!(c, |r| r.hscan(
        a[1],
        cursor,
        opts.pattern.as_deref(),
        opts.count
    ))?;
    c.out.array(2);
    c.out.bulk(itoa::Buffer::new().format(next).as_bytes());
    c.out.array(pairs.len() * 2);
    for (f, v) in &pairs {
        c.out.bulk(f);
        c.out.bulk(v);
    }
    Ok(())
}
