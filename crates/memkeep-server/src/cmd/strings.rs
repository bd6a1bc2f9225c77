//! String commands.

use std::time::Duration;

use memkeep_engine::{Expiry, Keys, Reads, SetCondition, SetOptions};

use super::{Call, CmdResult, eq, err, float_arg, int_arg, read, syntax, write};

pub(crate) fn get(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let out = &mut *c.out;
    read!(c, |r| r.get_with(a[1], |v| out.bulk_opt(v)))?;
    Ok(())
}

/// A relative or absolute expiry argument of `unit` milliseconds, checked
/// the way Redis checks it (`command` names it in the error).
pub(crate) fn expiry_arg(
    raw: &[u8],
    unit: u64,
    absolute: bool,
    command: &str,
    now: u64,
) -> Result<Expiry, super::Fail> {
    let invalid = || err(format!("ERR invalid expire time in '{command}' command"));
    let n = int_arg(raw)?;
    if n <= 0 {
        return Err(invalid());
    }
    let ms = (n as u64)
        .checked_mul(unit)
        .filter(|&ms| ms <= i64::MAX as u64)
        .ok_or_else(invalid)?;
    if absolute {
        Ok(Expiry::At(ms))
    } else {
        now.checked_add(ms)
            .filter(|&t| t <= i64::MAX as u64)
            .ok_or_else(invalid)?;
        Ok(Expiry::In(Duration::from_millis(ms)))
    }
}

pub(crate) fn set(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let now = read!(c, |r| r.clock_ms());
    let mut opts = SetOptions::default();
    // Which expiry option was given, as Redis tracks it: one kind only (the
    // same kind twice is allowed, the last wins), never with KEEPTTL.
    let mut kind: Option<&'static str> = None;
    let mut i = 3;
    while i < a.len() {
        let opt = a[i];
        let next = a.get(i + 1);
        let expiry_kind = ["ex", "px", "exat", "pxat"]
            .into_iter()
            .find(|w| eq(opt, w));
        if eq(opt, "nx") && opts.condition != SetCondition::IfPresent {
            opts.condition = SetCondition::IfAbsent;
        } else if eq(opt, "xx") && opts.condition != SetCondition::IfAbsent {
            opts.condition = SetCondition::IfPresent;
        } else if eq(opt, "get") {
            opts.get = true;
        } else if eq(opt, "keepttl") && kind.is_none() {
            opts.keep_ttl = true;
        } else if let (Some(k), Some(next)) = (expiry_kind, next) {
            if opts.keep_ttl || kind.is_some_and(|prev| prev != k) {
                return Err(syntax());
            }
            let (unit, absolute) = match k {
                "ex" => (1000, false),
                "px" => (1, false),
                "exat" => (1000, true),
                _ => (1, true),
            };
            opts.expiry = Some(expiry_arg(next, unit, absolute, "set", now)?);
            kind = Some(k);
            i += 1;
        } else {
            return Err(syntax());
        }
        i += 1;
    }
    let outcome = write!(c, Keys::Some(&[a[1]]), |tx| tx.set_with(a[1], a[2], opts))?;
    if opts.get {
        c.out.bulk_opt(outcome.old.as_deref());
    } else if outcome.written {
        c.out.ok();
    } else {
        c.out.null();
    }
    Ok(())
}

pub(crate) fn setnx(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let done = write!(c, Keys::Some(&[a[1]]), |tx| tx.setnx(a[1], a[2]))?;
    c.out.int(i64::from(done));
    Ok(())
}

fn set_expiring(c: &mut Call<'_, '_>, a: &[&[u8]], unit: u64, command: &str) -> CmdResult {
    let now = read!(c, |r| r.clock_ms());
    let opts = SetOptions {
        expiry: Some(expiry_arg(a[2], unit, false, command, now)?),
        ..SetOptions::default()
    };
    write!(c, Keys::Some(&[a[1]]), |tx| tx.set_with(a[1], a[3], opts))?;
    c.out.ok();
    Ok(())
}

pub(crate) fn setex(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    set_expiring(c, a, 1000, "setex")
}

pub(crate) fn psetex(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    set_expiring(c, a, 1, "psetex")
}

pub(crate) fn mget(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let values = read!(c, |r| r.mget(&a[1..]))?;
    c.out.array(values.len());
    for v in &values {
        c.out.bulk_opt(v.as_deref());
    }
    Ok(())
}

/// Argument pairs (`key value`, `field value`).
pub(crate) type ArgPairs<'a> = Vec<(&'a [u8], &'a [u8])>;

/// `rest` as pairs; an odd count is Redis's arity error for command `name`.
pub(crate) fn pairs<'a>(name: &[u8], rest: &[&'a [u8]]) -> Result<ArgPairs<'a>, super::Fail> {
    if rest.len() % 2 == 1 {
        return Err(err(format!(
            "ERR wrong number of arguments for '{}' command",
            String::from_utf8_lossy(name).to_lowercase()
        )));
    }
    Ok(rest.chunks(2).map(|p| (p[0], p[1])).collect())
}

pub(crate) fn mset(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let p = pairs(a[0], &a[1..])?;
    let keys: Vec<&[u8]> = p.iter().map(|(k, _)| *k).collect();
    write!(c, Keys::Some(&keys), |tx| tx.mset(&p, false))?;
    c.out.ok();
    Ok(())
}

pub(crate) fn msetnx(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let p = pairs(a[0], &a[1..])?;
    let keys: Vec<&[u8]> = p.iter().map(|(k, _)| *k).collect();
    let done = write!(c, Keys::Some(&keys), |tx| tx.mset(&p, true))?;
    c.out.int(i64::from(done));
    Ok(())
}

pub(crate) fn getdel(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let v = write!(c, Keys::Some(&[a[1]]), |tx| tx.getdel(a[1]))?;
    c.out.bulk_opt(v.as_deref());
    Ok(())
}

pub(crate) fn getex(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let now = read!(c, |r| r.clock_ms());
    let change = match a.len() {
        2 => None,
        3 if eq(a[2], "persist") => Some(None),
        4 => {
            let (unit, absolute) = match a[2].to_ascii_lowercase().as_slice() {
                b"ex" => (1000, false),
                b"px" => (1, false),
                b"exat" => (1000, true),
                b"pxat" => (1, true),
                _ => return Err(syntax()),
            };
            Some(Some(expiry_arg(a[3], unit, absolute, "getex", now)?))
        }
        _ => return Err(syntax()),
    };
    let v = write!(c, Keys::Some(&[a[1]]), |tx| tx.getex(a[1], change))?;
    c.out.bulk_opt(v.as_deref());
    Ok(())
}

pub(crate) fn append(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let n = write!(c, Keys::Some(&[a[1]]), |tx| tx.append(a[1], a[2]))?;
    c.out.int(n as i64);
    Ok(())
}

pub(crate) fn strlen(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let n = read!(c, |r| r.strlen(a[1]))?;
    c.out.int(n as i64);
    Ok(())
}

fn incr_by(c: &mut Call<'_, '_>, key: &[u8], by: i64) -> CmdResult {
    let n = write!(c, Keys::Some(&[key]), |tx| tx.incr_by(key, by))?;
    c.out.int(n);
    Ok(())
}

pub(crate) fn incr(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    incr_by(c, a[1], 1)
}

pub(crate) fn decr(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    incr_by(c, a[1], -1)
}

pub(crate) fn incrby(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let by = int_arg(a[2])?;
    incr_by(c, a[1], by)
}

pub(crate) fn decrby(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let by = int_arg(a[2])?;
    let by = by
        .checked_neg()
        .ok_or_else(|| err("ERR decrement would overflow"))?;
    incr_by(c, a[1], by)
}

pub(crate) fn incrbyfloat(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let by = float_arg(a[2])?;
    let v = write!(c, Keys::Some(&[a[1]]), |tx| tx.incr_by_float(a[1], by))?;
    c.out.bulk(&v);
    Ok(())
}

pub(crate) fn getrange(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let (start, end) = (int_arg(a[2])?, int_arg(a[3])?);
    let v = read!(c, |r| r.getrange(a[1], start, end))?;
    c.out.bulk(&v);
    Ok(())
}

pub(crate) fn setrange(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let offset = int_arg(a[2])?;
    if offset < 0 {
        return Err(err("ERR offset is out of range"));
    }
    let n = write!(c, Keys::Some(&[a[1]]), |tx| tx.setrange(
        a[1],
        offset as u64,
        a[3]
    ))?;
    c.out.int(n as i64);
    Ok(())
}
