//! List commands.

use memkeep_engine::{Keys, Reads};

use super::{Call, CmdResult, eq, err, int_arg, read, syntax, write};

fn push(c: &mut Call<'_, '_>, a: &[&[u8]], front: bool, only_existing: bool) -> CmdResult {
    let n = write!(c, Keys::Some(&[a[1]]), |tx| tx.push(
        a[1],
        &a[2..],
        front,
        only_existing
    ))?;
    c.out.int(n as i64);
    Ok(())
}

pub(crate) fn lpush(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    push(c, a, true, false)
}

pub(crate) fn rpush(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    push(c, a, false, false)
}

pub(crate) fn lpushx(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    push(c, a, true, true)
}

pub(crate) fn rpushx(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    push(c, a, false, true)
}

fn pop(c: &mut Call<'_, '_>, a: &[&[u8]], front: bool) -> CmdResult {
    let count = match a.len() {
        2 => None,
        3 => {
            let n =
                int_arg(a[2]).map_err(|_| err("ERR value is out of range, must be positive"))?;
            if n < 0 {
                return Err(err("ERR value is out of range, must be positive"));
            }
            Some(n as usize)
        }
        _ => {
            return Err(super::err(super::wrong_arity(
                super::lookup(a[0]).expect("known"),
            )));
        }
    };
    let got = write!(c, Keys::Some(&[a[1]]), |tx| tx.pop(
        a[1],
        count.unwrap_or(1),
        front
    ))?;
    match (count, got) {
        (None, None) => c.out.null(),
        (None, Some(v)) => c.out.bulk_opt(v.first().map(Vec::as_slice)),
        (Some(_), None) => c.out.null_array(),
        (Some(_), Some(v)) => c.out.bulks(v.iter().map(Vec::as_slice)),
    }
    Ok(())
}

pub(crate) fn lpop(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    pop(c, a, true)
}

pub(crate) fn rpop(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    pop(c, a, false)
}

pub(crate) fn llen(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let n = read!(c, |r| r.llen(a[1]))?;
    c.out.int(n as i64);
    Ok(())
}

pub(crate) fn lrange(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let (start, stop) = (int_arg(a[2])?, int_arg(a[3])?);
    let v = read!(c, |r| r.lrange(a[1], start, stop))?;
    c.out.bulks(v.iter().map(Vec::as_slice));
    Ok(())
}

pub(crate) fn lindex(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let i = int_arg(a[2])?;
    let v = read!(c, |r| r.lindex(a[1], i))?;
    c.out.bulk_opt(v.as_deref());
    Ok(())
}

pub(crate) fn lset(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let i = int_arg(a[2])?;
    write!(c, Keys::Some(&[a[1]]), |tx| tx.lset(a[1], i, a[3]))?;
    c.out.ok();
    Ok(())
}

pub(crate) fn lrem(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let count = int_arg(a[2])?;
    let n = write!(c, Keys::Some(&[a[1]]), |tx| tx.lrem(a[1], count, a[3]))?;
    c.out.int(n as i64);
    Ok(())
}

pub(crate) fn ltrim(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let (start, stop) = (int_arg(a[2])?, int_arg(a[3])?);
    write!(c, Keys::Some(&[a[1]]), |tx| tx.ltrim(a[1], start, stop))?;
    c.out.ok();
    Ok(())
}

pub(crate) fn linsert(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let before = if eq(a[2], "before") {
        true
    } else if eq(a[2], "after") {
        false
    } else {
        return Err(syntax());
    };
    let n = write!(c, Keys::Some(&[a[1]]), |tx| tx
        .linsert(a[1], before, a[3], a[4]))?;
    c.out.int(n);
    Ok(())
}
