//! The changes the journal records.
//!
//! An [`Op`] is a *resolved* change: every choice a command made (a random
//! `SPOP` member, a relative TTL, an `INCR` result, an index counted from the
//! tail) is already fixed in it, so applying it is deterministic. Ops name
//! single elements: `HSET` of one field logs one field, never the hash.
//!
//! Replay applies ops to a snapshot that is consistent at a known sequence
//! number (see `docs/FORMAT.md`), so ops need not be idempotent.

use crate::codec::{DecodeError, Reader, put_bytes, put_varint, varint_len};

/// One change to the keyspace.
#[derive(Clone, Debug, PartialEq)]
pub enum Op<'a> {
    /// Store a string, replacing any value; `expire_at` in Unix ms.
    Set {
        key: &'a [u8],
        value: &'a [u8],
        expire_at: Option<u64>,
    },
    Del {
        key: &'a [u8],
    },
    Expire {
        key: &'a [u8],
        at: u64,
    },
    Persist {
        key: &'a [u8],
    },
    /// Move a key's value and expiry to another name, replacing it.
    Rename {
        from: &'a [u8],
        to: &'a [u8],
    },
    FlushAll,
    Append {
        key: &'a [u8],
        data: &'a [u8],
    },
    SetRange {
        key: &'a [u8],
        offset: u64,
        data: &'a [u8],
    },
    HSet {
        key: &'a [u8],
        field: &'a [u8],
        value: &'a [u8],
    },
    HDel {
        key: &'a [u8],
        field: &'a [u8],
    },
    LPush {
        key: &'a [u8],
        value: &'a [u8],
    },
    RPush {
        key: &'a [u8],
        value: &'a [u8],
    },
    LPop {
        key: &'a [u8],
        count: u64,
    },
    RPop {
        key: &'a [u8],
        count: u64,
    },
    LSet {
        key: &'a [u8],
        index: u64,
        value: &'a [u8],
    },
    /// Insert so that `value` becomes element `index`.
    LInsert {
        key: &'a [u8],
        index: u64,
        value: &'a [u8],
    },
    LRem {
        key: &'a [u8],
        count: i64,
        value: &'a [u8],
    },
    /// Keep elements `start..=stop` (resolved, in range).
    LTrim {
        key: &'a [u8],
        start: u64,
        stop: u64,
    },
    SAdd {
        key: &'a [u8],
        member: &'a [u8],
    },
    SRem {
        key: &'a [u8],
        member: &'a [u8],
    },
    ZAdd {
        key: &'a [u8],
        score: f64,
        member: &'a [u8],
    },
    ZRem {
        key: &'a [u8],
        member: &'a [u8],
    },
}

mod code {
    pub const SET: u8 = 1;
    pub const DEL: u8 = 2;
    pub const EXPIRE: u8 = 3;
    pub const PERSIST: u8 = 4;
    pub const RENAME: u8 = 5;
    pub const FLUSHALL: u8 = 6;
    pub const APPEND: u8 = 7;
    pub const SETRANGE: u8 = 8;
    pub const HSET: u8 = 16;
    pub const HDEL: u8 = 17;
    pub const LPUSH: u8 = 32;
    pub const RPUSH: u8 = 33;
    pub const LPOP: u8 = 34;
    pub const RPOP: u8 = 35;
    pub const LSET: u8 = 36;
    pub const LINSERT: u8 = 37;
    pub const LREM: u8 = 38;
    pub const LTRIM: u8 = 39;
    pub const SADD: u8 = 48;
    pub const SREM: u8 = 49;
    pub const ZADD: u8 = 64;
    pub const ZREM: u8 = 65;
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

fn blen(b: &[u8]) -> usize {
    varint_len(b.len() as u64) + b.len()
}

impl<'a> Op<'a> {
    /// The keys this op touches (`FlushAll` touches every key).
    pub fn keys(&self) -> [Option<&'a [u8]>; 2] {
        use Op::*;
        match *self {
            FlushAll => [None, None],
            Rename { from, to } => [Some(from), Some(to)],
            Set { key, .. }
            | Del { key }
            | Expire { key, .. }
            | Persist { key }
            | Append { key, .. }
            | SetRange { key, .. }
            | HSet { key, .. }
            | HDel { key, .. }
            | LPush { key, .. }
            | RPush { key, .. }
            | LPop { key, .. }
            | RPop { key, .. }
            | LSet { key, .. }
            | LInsert { key, .. }
            | LRem { key, .. }
            | LTrim { key, .. }
            | SAdd { key, .. }
            | SRem { key, .. }
            | ZAdd { key, .. }
            | ZRem { key, .. } => [Some(key), None],
        }
    }

    /// Bytes [`encode`](Self::encode) appends.
    pub fn encoded_len(&self) -> usize {
        use Op::*;
        1 + match *self {
            Set {
                key,
                value,
                expire_at,
            } => blen(key) + blen(value) + varint_len(expire_at.unwrap_or(0)),
            Del { key } | Persist { key } => blen(key),
            Expire { key, at } => blen(key) + varint_len(at),
            Rename { from, to } => blen(from) + blen(to),
            FlushAll => 0,
            Append { key, data } => blen(key) + blen(data),
            SetRange { key, offset, data } => blen(key) + varint_len(offset) + blen(data),
            HSet { key, field, value } => blen(key) + blen(field) + blen(value),
            HDel { key, field: m }
            | SAdd { key, member: m }
            | SRem { key, member: m }
            | ZRem { key, member: m }
            | LPush { key, value: m }
            | RPush { key, value: m } => blen(key) + blen(m),
            LPop { key, count } | RPop { key, count } => blen(key) + varint_len(count),
            LSet { key, index, value } | LInsert { key, index, value } => {
                blen(key) + varint_len(index) + blen(value)
            }
            LRem { key, count, value } => blen(key) + varint_len(zigzag(count)) + blen(value),
            LTrim { key, start, stop } => blen(key) + varint_len(start) + varint_len(stop),
            ZAdd { key, member, .. } => blen(key) + 8 + blen(member),
        }
    }

    /// Appends the op's bytes.
    pub fn encode(&self, out: &mut Vec<u8>) {
        use Op::*;
        match *self {
            Set {
                key,
                value,
                expire_at,
            } => {
                out.push(code::SET);
                put_bytes(out, key);
                put_bytes(out, value);
                put_varint(out, expire_at.unwrap_or(0));
            }
            Del { key } => key_only(out, code::DEL, key),
            Expire { key, at } => {
                key_only(out, code::EXPIRE, key);
                put_varint(out, at);
            }
            Persist { key } => key_only(out, code::PERSIST, key),
            Rename { from, to } => {
                key_only(out, code::RENAME, from);
                put_bytes(out, to);
            }
            FlushAll => out.push(code::FLUSHALL),
            Append { key, data } => two(out, code::APPEND, key, data),
            SetRange { key, offset, data } => {
                key_only(out, code::SETRANGE, key);
                put_varint(out, offset);
                put_bytes(out, data);
            }
            HSet { key, field, value } => {
                two(out, code::HSET, key, field);
                put_bytes(out, value);
            }
            HDel { key, field } => two(out, code::HDEL, key, field),
            LPush { key, value } => two(out, code::LPUSH, key, value),
            RPush { key, value } => two(out, code::RPUSH, key, value),
            LPop { key, count } => {
                key_only(out, code::LPOP, key);
                put_varint(out, count);
            }
            RPop { key, count } => {
                key_only(out, code::RPOP, key);
                put_varint(out, count);
            }
            LSet { key, index, value } => {
                key_only(out, code::LSET, key);
                put_varint(out, index);
                put_bytes(out, value);
            }
            LInsert { key, index, value } => {
                key_only(out, code::LINSERT, key);
                put_varint(out, index);
                put_bytes(out, value);
            }
            LRem { key, count, value } => {
                key_only(out, code::LREM, key);
                put_varint(out, zigzag(count));
                put_bytes(out, value);
            }
            LTrim { key, start, stop } => {
                key_only(out, code::LTRIM, key);
                put_varint(out, start);
                put_varint(out, stop);
            }
            SAdd { key, member } => two(out, code::SADD, key, member),
            SRem { key, member } => two(out, code::SREM, key, member),
            ZAdd { key, score, member } => {
                key_only(out, code::ZADD, key);
                out.extend_from_slice(&score.to_le_bytes());
                put_bytes(out, member);
            }
            ZRem { key, member } => two(out, code::ZREM, key, member),
        }
    }

    /// Reads one op. Never panics on bad bytes.
    pub(crate) fn decode(r: &mut Reader<'a>) -> Result<Op<'a>, DecodeError> {
        let at = r.pos();
        let op = match r.u8()? {
            code::SET => {
                let key = r.bytes()?;
                let value = r.bytes()?;
                let t = r.varint()?;
                Op::Set {
                    key,
                    value,
                    expire_at: (t != 0).then_some(t),
                }
            }
            code::DEL => Op::Del { key: r.bytes()? },
            code::EXPIRE => Op::Expire {
                key: r.bytes()?,
                at: r.varint()?,
            },
            code::PERSIST => Op::Persist { key: r.bytes()? },
            code::RENAME => Op::Rename {
                from: r.bytes()?,
                to: r.bytes()?,
            },
            code::FLUSHALL => Op::FlushAll,
            code::APPEND => Op::Append {
                key: r.bytes()?,
                data: r.bytes()?,
            },
            code::SETRANGE => Op::SetRange {
                key: r.bytes()?,
                offset: r.varint()?,
                data: r.bytes()?,
            },
            code::HSET => Op::HSet {
                key: r.bytes()?,
                field: r.bytes()?,
                value: r.bytes()?,
            },
            code::HDEL => Op::HDel {
                key: r.bytes()?,
                field: r.bytes()?,
            },
            code::LPUSH => Op::LPush {
                key: r.bytes()?,
                value: r.bytes()?,
            },
            code::RPUSH => Op::RPush {
                key: r.bytes()?,
                value: r.bytes()?,
            },
            code::LPOP => Op::LPop {
                key: r.bytes()?,
                count: r.varint()?,
            },
            code::RPOP => Op::RPop {
                key: r.bytes()?,
                count: r.varint()?,
            },
            code::LSET => Op::LSet {
                key: r.bytes()?,
                index: r.varint()?,
                value: r.bytes()?,
            },
            code::LINSERT => Op::LInsert {
                key: r.bytes()?,
                index: r.varint()?,
                value: r.bytes()?,
            },
            code::LREM => Op::LRem {
                key: r.bytes()?,
                count: unzigzag(r.varint()?),
                value: r.bytes()?,
            },
            code::LTRIM => Op::LTrim {
                key: r.bytes()?,
                start: r.varint()?,
                stop: r.varint()?,
            },
            code::SADD => Op::SAdd {
                key: r.bytes()?,
                member: r.bytes()?,
            },
            code::SREM => Op::SRem {
                key: r.bytes()?,
                member: r.bytes()?,
            },
            code::ZADD => {
                let key = r.bytes()?;
                let score = r.f64()?;
                if score.is_nan() {
                    return Err(DecodeError {
                        offset: at,
                        what: "NaN score",
                    });
                }
                Op::ZAdd {
                    key,
                    score,
                    member: r.bytes()?,
                }
            }
            code::ZREM => Op::ZRem {
                key: r.bytes()?,
                member: r.bytes()?,
            },
            _ => {
                return Err(DecodeError {
                    offset: at,
                    what: "unknown op code",
                });
            }
        };
        Ok(op)
    }
}

fn key_only(out: &mut Vec<u8>, code: u8, key: &[u8]) {
    out.push(code);
    put_bytes(out, key);
}

fn two(out: &mut Vec<u8>, code: u8, a: &[u8], b: &[u8]) {
    key_only(out, code, a);
    put_bytes(out, b);
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn samples() -> Vec<Op<'static>> {
        vec![
            Op::Set {
                key: b"k",
                value: b"v",
                expire_at: None,
            },
            Op::Set {
                key: b"k",
                value: b"",
                expire_at: Some(1_700_000_000_123),
            },
            Op::Del { key: b"k" },
            Op::Expire { key: b"k", at: 99 },
            Op::Persist { key: b"k" },
            Op::Rename {
                from: b"a",
                to: b"b",
            },
            Op::FlushAll,
            Op::Append {
                key: b"k",
                data: b"xyz",
            },
            Op::SetRange {
                key: b"k",
                offset: 1 << 40,
                data: b"x",
            },
            Op::HSet {
                key: b"h",
                field: b"f",
                value: b"{\"a\":1}",
            },
            Op::HDel {
                key: b"h",
                field: b"f",
            },
            Op::LPush {
                key: b"l",
                value: b"1",
            },
            Op::RPush {
                key: b"l",
                value: b"2",
            },
            Op::LPop {
                key: b"l",
                count: 3,
            },
            Op::RPop {
                key: b"l",
                count: 1,
            },
            Op::LSet {
                key: b"l",
                index: 7,
                value: b"x",
            },
            Op::LInsert {
                key: b"l",
                index: 0,
                value: b"y",
            },
            Op::LRem {
                key: b"l",
                count: -2,
                value: b"z",
            },
            Op::LRem {
                key: b"l",
                count: i64::MIN,
                value: b"z",
            },
            Op::LTrim {
                key: b"l",
                start: 1,
                stop: 5,
            },
            Op::SAdd {
                key: b"s",
                member: b"m",
            },
            Op::SRem {
                key: b"s",
                member: b"m",
            },
            Op::ZAdd {
                key: b"z",
                score: -1.5,
                member: b"m",
            },
            Op::ZAdd {
                key: b"z",
                score: f64::INFINITY,
                member: b"m",
            },
            Op::ZRem {
                key: b"z",
                member: b"m",
            },
        ]
    }

    #[test]
    fn every_op_round_trips_with_its_declared_length() {
        for op in samples() {
            let mut buf = Vec::new();
            op.encode(&mut buf);
            assert_eq!(buf.len(), op.encoded_len(), "{op:?}");
            let mut r = Reader::new(&buf);
            assert_eq!(Op::decode(&mut r).unwrap(), op);
            assert!(r.is_empty());
        }
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        for op in samples() {
            let mut buf = Vec::new();
            op.encode(&mut buf);
            for cut in 0..buf.len() {
                let mut r = Reader::new(&buf[..cut]);
                assert!(Op::decode(&mut r).is_err(), "{op:?} cut at {cut}");
            }
        }
    }
}
