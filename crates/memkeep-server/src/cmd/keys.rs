//! Key commands: `DEL`, `EXISTS`, `TYPE`, `KEYS`, `SCAN`, `RENAME`, the
//! `EXPIRE` family, `TTL`, `PERSIST`, `RANDOMKEY`.

use memkeep_engine::{ExpireCondition, Expiry, KeyType, Keys, Reads, ScanOptions, Ttl};

use super::{Call, CmdResult, eq, err, int_arg, read, syntax, write};

pub(crate) fn del(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let n = write!(c, Keys::Some(&a[1..]), |tx| tx.del(&a[1..]))?;
    c.out.int(n as i64);
    Ok(())
}

pub(crate) fn exists(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let n = read!(c, |r| r.exists(&a[1..]))?;
    c.out.int(n as i64);
    Ok(())
}

pub(crate) fn type_(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let t = read!(c, |r| r.key_type(a[1]))?;
    c.out.simple(t.map_or("none", KeyType::as_str));
    Ok(())
}

pub(crate) fn keys(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let keys = write_all_or_read(c, |r| r.keys(a[1]))?;
    c.out.bulks(keys.iter().map(Vec::as_slice));
    Ok(())
}

/// Keyspace-wide reads need every shard: the store reads them one by one,
/// an `EXEC` transaction holds them all.
fn write_all_or_read<T>(
    c: &mut Call<'_, '_>,
    f: impl Fn(&dyn KeyspaceReads) -> memkeep_engine::Result<T>,
) -> memkeep_engine::Result<T> {
    read!(c, |r| f(&r))
}

/// The keyspace-wide reads, object safe (for [`write_all_or_read`]).
pub(crate) trait KeyspaceReads {
    fn keys(&self, pattern: &[u8]) -> memkeep_engine::Result<Vec<Vec<u8>>>;
    fn scan(
        &self,
        cursor: u64,
        opts: &ScanOptions,
    ) -> memkeep_engine::Result<memkeep_engine::ScanPage>;
    fn random_key(&self) -> memkeep_engine::Result<Option<Vec<u8>>>;
    fn dbsize(&self) -> memkeep_engine::Result<u64>;
}

impl<R: Reads> KeyspaceReads for &R {
    fn keys(&self, pattern: &[u8]) -> memkeep_engine::Result<Vec<Vec<u8>>> {
        Reads::keys(*self, pattern)
    }
    fn scan(
        &self,
        cursor: u64,
        opts: &ScanOptions,
    ) -> memkeep_engine::Result<memkeep_engine::ScanPage> {
        Reads::scan(*self, cursor, opts)
    }
    fn random_key(&self) -> memkeep_engine::Result<Option<Vec<u8>>> {
        Reads::random_key(*self)
    }
    fn dbsize(&self) -> memkeep_engine::Result<u64> {
        Reads::dbsize(*self)
    }
}

/// Parses `[MATCH pattern] [COUNT n] [TYPE t]` (and no `TYPE` for the
/// collection scans) from `a[from..]`.
pub(crate) fn scan_options(
    a: &[&[u8]],
    from: usize,
    allow_type: bool,
) -> Result<ScanOptions, super::Fail> {
    let mut opts = ScanOptions {
        count: 10,
        ..ScanOptions::default()
    };
    let mut i = from;
    while i < a.len() {
        let Some(value) = a.get(i + 1) else {
            return Err(syntax());
        };
        if eq(a[i], "match") {
            // `*` matches everything: skip the matching work, as Redis does.
            opts.pattern = (*value != b"*").then(|| value.to_vec());
        } else if eq(a[i], "count") {
            let n = int_arg(value)?;
            if n < 1 {
                return Err(syntax());
            }
            opts.count = n as usize;
        } else if eq(a[i], "type") && allow_type {
            opts.key_type = Some(match value.to_ascii_lowercase().as_slice() {
                b"string" => KeyType::String,
                b"hash" => KeyType::Hash,
                b"list" => KeyType::List,
                b"set" => KeyType::Set,
                b"zset" => KeyType::ZSet,
                // Redis 7.0 returns nothing for an unknown type name.
                _ => return Ok(ScanOptions { count: 0, ..opts }),
            });
        } else {
            return Err(syntax());
        }
        i += 2;
    }
    Ok(opts)
}

pub(crate) fn cursor_arg(raw: &[u8]) -> Result<u64, super::Fail> {
    std::str::from_utf8(raw)
        .ok()
        .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|s| s.parse::<u64>().ok())
        .ok_or_else(|| err("ERR invalid cursor"))
}

pub(crate) fn scan(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let cursor = cursor_arg(a[1])?;
    let opts = scan_options(a, 2, true)?;
    let page = if opts.count == 0 {
        memkeep_engine::ScanPage::default()
    } else {
        write_all_or_read(c, |r| r.scan(cursor, &opts))?
    };
    c.out.array(2);
    c.out
        .bulk(itoa::Buffer::new().format(page.cursor).as_bytes());
    c.out.bulks(page.keys.iter().map(Vec::as_slice));
    Ok(())
}

pub(crate) fn randomkey(c: &mut Call<'_, '_>, _a: &[&[u8]]) -> CmdResult {
    let k = write_all_or_read(c, |r| r.random_key())?;
    c.out.bulk_opt(k.as_deref());
    Ok(())
}

pub(crate) fn dbsize_of(c: &mut Call<'_, '_>) -> memkeep_engine::Result<u64> {
    write_all_or_read(c, |r| r.dbsize())
}

pub(crate) fn rename(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    write!(c, Keys::Some(&[a[1], a[2]]), |tx| tx
        .rename(a[1], a[2], false))?;
    c.out.ok();
    Ok(())
}

pub(crate) fn renamenx(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let done = write!(c, Keys::Some(&[a[1], a[2]]), |tx| tx
        .rename(a[1], a[2], true))?;
    c.out.int(i64::from(done));
    Ok(())
}

/// The `EXPIRE` family: `unit` ms per argument unit, `absolute` for the
/// `…AT` forms.
fn expire_generic(
    c: &mut Call<'_, '_>,
    a: &[&[u8]],
    unit: i64,
    absolute: bool,
    name: &str,
) -> CmdResult {
    let mut cond = ExpireCondition::Always;
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for opt in &a[3..] {
        match opt.to_ascii_lowercase().as_slice() {
            b"nx" => nx = true,
            b"xx" => xx = true,
            b"gt" => gt = true,
            b"lt" => lt = true,
            _ => {
                return Err(err(format!(
                    "ERR Unsupported option {}",
                    String::from_utf8_lossy(opt)
                )));
            }
        }
    }
    if nx && (xx || gt || lt) {
        return Err(err(
            "ERR NX and XX, GT or LT options at the same time are not compatible",
        ));
    }
    if gt && lt {
        return Err(err(
            "ERR GT and LT options at the same time are not compatible",
        ));
    }
    for (on, c) in [
        (nx, ExpireCondition::IfNone),
        (xx, ExpireCondition::IfSet),
        (gt, ExpireCondition::IfLater),
        (lt, ExpireCondition::IfSooner),
    ] {
        if on {
            cond = c;
        }
    }
    let invalid = || err(format!("ERR invalid expire time in '{name}' command"));
    let when = int_arg(a[2])?;
    let base = if absolute {
        0
    } else {
        read!(c, |r| r.clock_ms()) as i64
    };
    let at = when
        .checked_mul(unit)
        .and_then(|ms| ms.checked_add(base))
        .ok_or_else(invalid)?;
    // XX/GT on a key without expiry, or the reverse, is decided by the
    // engine; a time in the past deletes the key there too.
    let done = write!(c, Keys::Some(&[a[1]]), |tx| tx.expire(
        a[1],
        Expiry::At(at.max(0) as u64),
        cond
    ))?;
    c.out.int(i64::from(done));
    Ok(())
}

pub(crate) fn expire(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    expire_generic(c, a, 1000, false, "expire")
}

pub(crate) fn pexpire(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    expire_generic(c, a, 1, false, "pexpire")
}

pub(crate) fn expireat(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    expire_generic(c, a, 1000, true, "expireat")
}

pub(crate) fn pexpireat(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    expire_generic(c, a, 1, true, "pexpireat")
}

fn ttl_generic(c: &mut Call<'_, '_>, a: &[&[u8]], ms: bool) -> CmdResult {
    let t = read!(c, |r| r.ttl(a[1]))?;
    c.out.int(match t {
        Ttl::Missing => -2,
        Ttl::Persistent => -1,
        Ttl::Ms(left) if ms => left as i64,
        Ttl::Ms(left) => (left as i64 + 500) / 1000,
    });
    Ok(())
}

pub(crate) fn ttl(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    ttl_generic(c, a, false)
}

pub(crate) fn pttl(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    ttl_generic(c, a, true)
}

fn expiretime_generic(c: &mut Call<'_, '_>, a: &[&[u8]], ms: bool) -> CmdResult {
    let t = read!(c, |r| r.expire_time(a[1]))?;
    c.out.int(match t {
        Err(Ttl::Missing) => -2,
        Err(_) => -1,
        Ok(at) if ms => at as i64,
        Ok(at) => at as i64 / 1000,
    });
    Ok(())
}

pub(crate) fn expiretime(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    expiretime_generic(c, a, false)
}

pub(crate) fn pexpiretime(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    expiretime_generic(c, a, true)
}

pub(crate) fn persist(c: &mut Call<'_, '_>, a: &[&[u8]]) -> CmdResult {
    let done = write!(c, Keys::Some(&[a[1]]), |tx| tx.persist(a[1]))?;
    c.out.int(i64::from(done));
    Ok(())
}
