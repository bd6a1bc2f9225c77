//! Cursor iteration: `SCAN` over the keyspace and cursors for `HSCAN`,
//! `SSCAN` and `ZSCAN`.
//!
//! A keyspace cursor is a position in arena order: shard, segment id and
//! offset. Records never move backwards in that order (new and moved records
//! go to the newest segment), so a key present for a whole iteration is
//! returned at least once, as Redis promises. Cursor 0 starts; 0 returned
//! means done.

use super::read::Reads;
use crate::error::Result;
use crate::glob::glob_match;
use crate::keyspace::KeyType;
use crate::mem::arena::ArenaPos;
use crate::mem::packed_map::{MapCursor, PackedMap};
use crate::mem::zset::ZSet;

const OFFSET_BITS: u32 = 18;
const SEGMENT_BITS: u32 = 30;
const SHARD_SHIFT: u32 = OFFSET_BITS + SEGMENT_BITS;

fn encode(shard: usize, pos: ArenaPos) -> u64 {
    ((shard as u64) << SHARD_SHIFT)
        | ((pos.segment_id & ((1 << SEGMENT_BITS) - 1)) << OFFSET_BITS)
        | u64::from(pos.offset)
}

fn decode(cursor: u64) -> (usize, ArenaPos) {
    (
        (cursor >> SHARD_SHIFT) as usize,
        ArenaPos {
            segment_id: (cursor >> OFFSET_BITS) & ((1 << SEGMENT_BITS) - 1),
            offset: (cursor & ((1 << OFFSET_BITS) - 1)) as u32,
        },
    )
}

/// Filters for [`Store::scan`].
#[derive(Clone, Debug, Default)]
pub struct ScanOptions {
    /// `MATCH`: a glob the key must match.
    pub pattern: Option<Vec<u8>>,
    /// Keys must start with this (cheaper than a glob).
    pub prefix: Option<Vec<u8>>,
    /// `TYPE`: only keys of this type.
    pub key_type: Option<KeyType>,
    /// `COUNT`: about how many keys to examine (default 10).
    pub count: usize,
}

/// One page of a scan.
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// # let store = memkeep_engine::Store::open(memkeep_engine::Options::new(dir.path()))?;
/// use memkeep_engine::{Reads, ScanOptions};
/// store.set("user:1", "a")?;
/// store.set("user:2", "b")?;
/// let opts = ScanOptions { prefix: Some(b"user:".to_vec()), ..Default::default() };
/// let (mut cursor, mut found) = (0, Vec::new());
/// loop {
///     let page = store.scan(cursor, &opts)?;
///     found.extend(page.keys);
///     cursor = page.cursor;
///     if cursor == 0 { break; }
/// }
/// assert_eq!(found.len(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScanPage {
    /// The cursor for the next call; 0 when the iteration is complete.
    pub cursor: u64,
    pub keys: Vec<Vec<u8>>,
}

/// `SCAN` over any reader.
pub(crate) fn scan<R: Reads + ?Sized>(r: &R, cursor: u64, opts: &ScanOptions) -> Result<ScanPage> {
    let budget = if opts.count == 0 { 10 } else { opts.count };
    let (mut idx, mut pos) = decode(cursor);
    let mut page = ScanPage::default();
    let mut examined = 0;
    let mut first = true;
    while idx < r.shard_count() {
        let done = r.view_shard(idx, |s| {
            if std::mem::take(&mut first) {
                pos = s.shard.resync(pos); // the cursor came from a client
            }
            while let Some((e, next)) = s.shard.next_from(pos) {
                pos = next;
                examined += 1;
                let wanted = !e.is_expired(s.now)
                    && opts.prefix.as_ref().is_none_or(|p| e.key.starts_with(p))
                    && opts.pattern.as_ref().is_none_or(|p| glob_match(p, e.key))
                    && opts.key_type.is_none_or(|t| e.stored.key_type() == t);
                if wanted {
                    page.keys.push(e.key.to_vec());
                }
                if examined >= budget {
                    return true;
                }
            }
            false
        })?;
        if done {
            page.cursor = encode(idx, pos);
            return Ok(page);
        }
        idx += 1;
        pos = ArenaPos::default();
    }
    Ok(page)
}

/// `HSCAN`/`SSCAN` on one map: up to about `count` items (mapped by `f`,
/// filtered by `pattern` on the key) and the next cursor.
pub(crate) fn scan_map<T>(
    m: &PackedMap,
    cursor: u64,
    pattern: Option<&[u8]>,
    count: usize,
    mut f: impl FnMut(&[u8], &[u8]) -> T,
) -> (u64, Vec<T>) {
    let mut out = Vec::new();
    let count = whole_if_small(m.len(), cursor, count);
    let next = m.scan(decode_map_cursor(cursor), count, |k, v| {
        if pattern.is_none_or(|p| glob_match(p, k)) {
            out.push(f(k, v));
        }
    });
    (encode_map_cursor(next), out)
}

/// `ZSCAN` on one sorted set.
pub(crate) fn scan_zset(
    z: &ZSet,
    cursor: u64,
    pattern: Option<&[u8]>,
    count: usize,
) -> (u64, Vec<(Vec<u8>, f64)>) {
    let mut out = Vec::new();
    if cursor == 0 && z.len() <= SMALL_COLLECTION {
        // Whole, in score order, as Redis answers for a small sorted set.
        for (m, s) in z.iter() {
            if pattern.is_none_or(|p| glob_match(p, m)) {
                out.push((m.to_vec(), s));
            }
        }
        return (0, out);
    }
    let next = z.scan(decode_map_cursor(cursor), count, |m, s| {
        if pattern.is_none_or(|p| glob_match(p, m)) {
            out.push((m.to_vec(), s));
        }
    });
    (encode_map_cursor(next), out)
}

/// Collections up to this many items are scanned whole in one call, as
/// Redis does for its compact encodings (its `*-max-listpack-entries`
/// default): clients see every item and cursor 0 on the first call.
const SMALL_COLLECTION: usize = 128;

fn whole_if_small(len: usize, cursor: u64, count: usize) -> usize {
    if cursor == 0 && len <= SMALL_COLLECTION {
        len.max(count)
    } else {
        count
    }
}

/// Collection cursors: 0 is the start, `1 << 63 | …` a position in the
/// arena, `1 << 62 | i` the i-th out-of-line pair.
pub(crate) fn encode_map_cursor(c: MapCursor) -> u64 {
    match c {
        MapCursor::Start | MapCursor::Done => 0,
        MapCursor::Arena(pos) => (1 << 63) | encode(0, pos),
        MapCursor::Large(i) => (1 << 62) | i as u64,
    }
}

pub(crate) fn decode_map_cursor(c: u64) -> MapCursor {
    if c == 0 {
        MapCursor::Start
    } else if c >> 63 == 1 {
        MapCursor::Arena(decode(c & !(1 << 63)).1)
    } else if c >> 62 == 1 {
        MapCursor::Large((c & !(1 << 62)) as usize)
    } else {
        MapCursor::Done // a cursor we never handed out: nothing more to give
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let pos = ArenaPos {
            segment_id: 12345,
            offset: 200_000,
        };
        assert_eq!(decode(encode(255, pos)), (255, pos));
        for c in [MapCursor::Arena(pos), MapCursor::Large(7)] {
            assert_eq!(decode_map_cursor(encode_map_cursor(c)), c);
        }
    }
}
