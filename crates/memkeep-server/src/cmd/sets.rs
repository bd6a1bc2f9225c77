//! Set commands.

use memkeep_engine::{Keys, Reads};

use super::keys::{cursor_arg, scan_options};
use super::{Call, CmdResult, err, int_arg, read, write};

fn members(c: &mut Call<'_, '_>, v: &[Vec<u8>]) {
    c.out.set(v.len());
    for m in v {
        c.out.bulk(m);
    }
}

pub(crate) fn sadd(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let n = write!(c, Keys::Some(&[a[1]]), |tx| tx.sadd(a[1], &a[2..]))?;
    c.out.int(n as i64);
    Ok(())
}

pub(crate) fn srem(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let n = write!(c, Keys::Some(&[a[1]]), |tx| tx.srem(a[1], &a[2..]))?;
    c.out.int(n as i64);
    Ok(())
}

pub(crate) fn smembers(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let v = read!(c, |r| r.smembers(a[1]))?;
    members(c, &v);
    Ok(())
}

pub(crate) fn sismember(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let b = read!(c, |r| r.sismember(a[1], a[2]))?;
    c.out.int(i64::from(b));
    Ok(())
}

pub(crate) fn smismember(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let v = read!(c, |r| r.smismember(a[1], &a[2..]))?;
    c.out.array(v.len());
    for b in v {
        c.out.int(i64::from(b));
    }
    Ok(())
}

pub(crate) fn scard(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let n = read!(c, |r| r.scard(a[1]))?;
    c.out.int(n as i64);
    Ok(())
}

/// The optional count of `SPOP`/`SRANDMEMBER`.
fn count_arg(a: &[&[u8]], positive: bool) -> Result<Option<i64>, super::Fail> {
    match a.len() {
        2 => Ok(None),
        3 => {
            let n =
                int_arg(a[2]).map_err(|_| err("ERR value is out of range, must be positive"))?;
            if positive && n < 0 {
                return Err(err("ERR value is out of range, must be positive"));
            }
            Ok(Some(n))
        }
        _ => Err(err("ERR syntax error")),
    }
}

pub(crate) fn spop(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let count = count_arg(a, true)?;
    let v = write!(c, Keys::Some(&[a[1]]), |tx| tx
        .spop(a[1], count.unwrap_or(1) as usize))?;
    match count {
        None => c.out.bulk_opt(v.first().map(Vec::as_slice)),
        Some(_) => members(c, &v),
    }
    Ok(())
}

pub(crate) fn srandmember(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let count = count_arg(a, false)?;
    let v = read!(c, |r| r.srandmember(a[1], count.unwrap_or(1)))?;
    match count {
        None => c.out.bulk_opt(v.first().map(Vec::as_slice)),
        Some(_) => c.out.bulks(v.iter().map(Vec::as_slice)),
    }
    Ok(())
}

pub(crate) fn sscan(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let cursor = cursor_arg(a[2])?;
    let opts = scan_options(a, 3, false)?;
    let (next, v) = read!(c, |r| r.sscan(
        a[1],
        cursor,
        opts.pattern.as_deref(),
        opts.count
    ))?;
    c.out.array(2);
    c.out.bulk(itoa::Buffer::new().format(next).as_bytes());
    c.out.bulks(v.iter().map(Vec::as_slice));
    Ok(())
}

pub(crate) fn sinter(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let v = read!(c, |r| r.sinter(&a[1..]))?;
    members(c, &v);
    Ok(())
}

pub(crate) fn sunion(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let v = read!(c, |r| r.sunion(&a[1..]))?;
    members(c, &v);
    Ok(())
}

pub(crate) fn sdiff(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let v = read!(c, |r| r.sdiff(&a[1..]))?;
    members(c, &v);
    Ok(())
}
