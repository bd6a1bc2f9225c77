//! The layout of a key's record in a shard's arena.
//!
//! ```text
//! byte 0     flags: 0x80 dead (the arena's) | 0x08 has TTL | 0x07 storage kind
//! varint     key length
//! varint     inline string: value length; other kinds: object index in the shard
//! [u64 LE]   expiry, Unix milliseconds (only with the TTL flag)
//! key bytes
//! [value]    inline string only
//! ```
//!
//! A 15-byte key with a 64-byte value costs 82 bytes, all of it here.

use crate::codec::{read_varint, varint_len, write_varint};
use crate::mem::arena::Layout;

pub(crate) const TTL: u8 = 0x08;
const KIND_MASK: u8 = 0x07;

/// How a key's value is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Stored {
    /// A string inside the record.
    Inline = 0,
    /// A string too large for the arena, held as an object.
    BigString = 1,
    Hash = 2,
    List = 3,
    Set = 4,
    ZSet = 5,
}

impl Stored {
    fn from_bits(b: u8) -> Stored {
        match b & KIND_MASK {
            0 => Stored::Inline,
            1 => Stored::BigString,
            2 => Stored::Hash,
            3 => Stored::List,
            4 => Stored::Set,
            5 => Stored::ZSet,
            other => unreachable!("entry kind {other} is never written"),
        }
    }
}

/// A parsed record.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry<'a> {
    pub(crate) key: &'a [u8],
    pub(crate) expire_at: Option<u64>,
    pub(crate) stored: Stored,
    /// Inline value bytes, or empty for objects.
    pub(crate) inline: &'a [u8],
    /// Object index, for every kind but `Inline`.
    pub(crate) object: u32,
}

impl Entry<'_> {
    /// Whether the key has expired at `now_ms` (it then reads as absent).
    #[inline]
    pub(crate) fn is_expired(&self, now_ms: u64) -> bool {
        matches!(self.expire_at, Some(t) if t <= now_ms)
    }

    /// Like [`is_expired`](Self::is_expired), reading the clock only for
    /// keys that have an expiry (most reads need no clock at all).
    #[inline]
    pub(crate) fn is_expired_by(&self, now_ms: impl FnOnce() -> u64) -> bool {
        matches!(self.expire_at, Some(t) if t <= now_ms())
    }
}

pub(crate) struct EntryLayout;

impl Layout for EntryLayout {
    #[inline]
    fn record_len(rec: &[u8]) -> usize {
        let (klen, a) = read_varint(&rec[1..]).expect("entry header");
        let (n, b) = read_varint(&rec[1 + a..]).expect("entry header");
        let ttl = if rec[0] & TTL != 0 { 8 } else { 0 };
        let value = if Stored::from_bits(rec[0]) == Stored::Inline {
            n as usize
        } else {
            0
        };
        1 + a + b + ttl + klen as usize + value
    }
}

/// Parses a live record.
#[inline]
pub(crate) fn parse(rec: &[u8]) -> Entry<'_> {
    let flags = rec[0];
    let (klen, a) = read_varint(&rec[1..]).expect("entry header");
    let (n, b) = read_varint(&rec[1 + a..]).expect("entry header");
    let mut at = 1 + a + b;
    let expire_at = if flags & TTL != 0 {
        let t = u64::from_le_bytes(rec[at..at + 8].try_into().expect("8 bytes"));
        at += 8;
        Some(t)
    } else {
        None
    };
    let key = &rec[at..at + klen as usize];
    at += klen as usize;
    let stored = Stored::from_bits(flags);
    let (inline, object) = if stored == Stored::Inline {
        (&rec[at..at + n as usize], 0)
    } else {
        (&rec[at..at], n as u32)
    };
    Entry {
        key,
        expire_at,
        stored,
        inline,
        object,
    }
}

/// Just the key of a record (cheaper than a full parse).
#[inline]
pub(crate) fn key_of(rec: &[u8]) -> &[u8] {
    let (klen, a) = read_varint(&rec[1..]).expect("entry header");
    let (_, b) = read_varint(&rec[1 + a..]).expect("entry header");
    let at = 1 + a + b + if rec[0] & TTL != 0 { 8 } else { 0 };
    &rec[at..at + klen as usize]
}

/// Size of a record for these parts.
pub(crate) fn size(key: &[u8], stored: Stored, n: u64, expire_at: Option<u64>) -> usize {
    let value = if stored == Stored::Inline {
        n as usize
    } else {
        0
    };
    1 + varint_len(key.len() as u64)
        + varint_len(n)
        + if expire_at.is_some() { 8 } else { 0 }
        + key.len()
        + value
}

/// Writes a record into `dst` (exactly [`size`] bytes). `n` is the inline
/// value's length or the object index; `inline` is the value for `Inline`.
pub(crate) fn encode(
    dst: &mut [u8],
    key: &[u8],
    stored: Stored,
    n: u64,
    expire_at: Option<u64>,
    inline: &[u8],
) {
    dst[0] = stored as u8 | if expire_at.is_some() { TTL } else { 0 };
    let mut at = 1;
    at += write_varint(&mut dst[at..], key.len() as u64);
    at += write_varint(&mut dst[at..], n);
    if let Some(t) = expire_at {
        dst[at..at + 8].copy_from_slice(&t.to_le_bytes());
        at += 8;
    }
    dst[at..at + key.len()].copy_from_slice(key);
    at += key.len();
    dst[at..].copy_from_slice(inline);
}

/// Overwrites the expiry of a record that has the TTL flag.
pub(crate) fn overwrite_expiry(rec: &mut [u8], t: u64) {
    debug_assert!(rec[0] & TTL != 0);
    let (_, a) = read_varint(&rec[1..]).expect("entry header");
    let (_, b) = read_varint(&rec[1 + a..]).expect("entry header");
    let at = 1 + a + b;
    rec[at..at + 8].copy_from_slice(&t.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip() {
        for (stored, n, inline) in [
            (Stored::Inline, 5u64, &b"hello"[..]),
            (Stored::Hash, 300, &b""[..]),
            (Stored::Inline, 0, &b""[..]),
        ] {
            for ttl in [None, Some(1_700_000_000_000u64)] {
                let key = b"user:0000000001";
                let len = size(key, stored, n, ttl);
                let mut buf = vec![0u8; len];
                encode(&mut buf, key, stored, n, ttl, inline);
                assert_eq!(EntryLayout::record_len(&buf), len);
                let e = parse(&buf);
                assert_eq!(e.key, key);
                assert_eq!(key_of(&buf), key);
                assert_eq!(e.expire_at, ttl);
                assert_eq!(e.stored, stored);
                assert_eq!(e.inline, inline);
                if stored != Stored::Inline {
                    assert_eq!(e.object as u64, n);
                }
            }
        }
    }

    #[test]
    fn the_benchmark_shape_costs_82_bytes() {
        assert_eq!(size(b"user:0000000001", Stored::Inline, 64, None), 82);
    }
}
