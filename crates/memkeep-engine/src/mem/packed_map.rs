//! A compact byte-string map: the storage of hashes (field → value), sets
//! (member → empty) and sorted sets' score table (member → 8-byte score).
//!
//! Two shapes, switched by size:
//! - **small** (up to [`SMALL_PAIRS`] pairs and [`SMALL_BYTES`] bytes): one
//!   buffer of `varint key_len | varint value_len | key | value` records,
//!   searched linearly (Redis's listpack idea). A 3-field hash costs its
//!   bytes plus a 24-byte buffer header.
//! - **large**: the same records in an [`Arena`] (with a flags byte), found
//!   through a hash table of 4-byte handles; pairs too big for the arena are
//!   kept aside.

use std::sync::OnceLock;

use hashbrown::HashTable;

use super::arena::{Arena, ArenaPos, Handle, Layout, RECORD_MAX};
use crate::codec::{put_varint, read_varint, varint_len, write_varint};

/// Most pairs a small map holds.
const SMALL_PAIRS: usize = 32;
/// Most bytes a small map's buffer holds.
const SMALL_BYTES: usize = 2048;
/// A large map this small turns small again.
const SHRINK_PAIRS: usize = 8;
/// Dead bytes before a large map's arena compacts.
const MIN_DEAD: usize = 512;

pub(crate) struct MapLayout;

impl Layout for MapLayout {
    #[inline]
    fn record_len(rec: &[u8]) -> usize {
        1 + pair_len(&rec[1..])
    }
}

/// Length of the pair record at the start of `b`.
#[inline]
fn pair_len(b: &[u8]) -> usize {
    let (k, x) = read_varint(b).expect("pair header");
    let (v, y) = read_varint(&b[x..]).expect("pair header");
    x + y + k as usize + v as usize
}

/// Splits the pair record at the start of `b` into key and value.
#[inline]
fn split_pair(b: &[u8]) -> (&[u8], &[u8]) {
    let (k, x) = read_varint(b).expect("pair header");
    let (v, y) = read_varint(&b[x..]).expect("pair header");
    let start = x + y;
    let key_end = start + k as usize;
    (&b[start..key_end], &b[key_end..key_end + v as usize])
}

fn pair_size(key: &[u8], value: &[u8]) -> usize {
    varint_len(key.len() as u64) + varint_len(value.len() as u64) + key.len() + value.len()
}

fn put_pair(out: &mut Vec<u8>, key: &[u8], value: &[u8]) {
    put_varint(out, key.len() as u64);
    put_varint(out, value.len() as u64);
    out.extend_from_slice(key);
    out.extend_from_slice(value);
}

/// Collection tables hash with one process-wide random seed: their layout
/// is never persisted, and a random seed defeats hash flooding.
fn hash(key: &[u8]) -> u64 {
    use std::hash::BuildHasher;
    static STATE: OnceLock<foldhash::fast::RandomState> = OnceLock::new();
    STATE.get_or_init(Default::default).hash_one(key)
}

/// The byte map.
pub(crate) struct PackedMap {
    repr: Repr,
}

enum Repr {
    Small { data: Vec<u8>, len: usize },
    Large(Box<Large>),
}

impl Default for PackedMap {
    fn default() -> Self {
        PackedMap {
            repr: Repr::Small {
                data: Vec::new(),
                len: 0,
            },
        }
    }
}

/// A resumable position in a map's iteration order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum MapCursor {
    #[default]
    Start,
    Arena(ArenaPos),
    Large(usize),
    Done,
}

impl PackedMap {
    pub(crate) fn len(&self) -> usize {
        match &self.repr {
            Repr::Small { len, .. } => *len,
            Repr::Large(l) => l.len,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `extra` more bytes of pairs fit (an arena addresses 4 GiB).
    pub(crate) fn has_room_for(&self, extra: usize) -> bool {
        match &self.repr {
            Repr::Small { .. } => true,
            Repr::Large(l) => l.arena.has_room_for(extra),
        }
    }

    /// Memory held, in bytes.
    pub(crate) fn memory(&self) -> usize {
        std::mem::size_of::<Self>()
            + match &self.repr {
                Repr::Small { data, .. } => data.capacity(),
                Repr::Large(l) => l.memory(),
            }
    }

    pub(crate) fn get(&self, key: &[u8]) -> Option<&[u8]> {
        match &self.repr {
            Repr::Small { data, .. } => {
                small_find(data, key).map(|(at, _)| split_pair(&data[at..]).1)
            }
            Repr::Large(l) => l.get(key),
        }
    }

    pub(crate) fn contains(&self, key: &[u8]) -> bool {
        self.get(key).is_some()
    }

    /// Sets `key` to `value`; true when the key is new.
    pub(crate) fn insert(&mut self, key: &[u8], value: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Small { data, len } => {
                let fresh = match small_find(data, key) {
                    Some((at, n)) => {
                        let mut rec = Vec::with_capacity(pair_size(key, value));
                        put_pair(&mut rec, key, value);
                        if rec.len() == n {
                            data[at..at + n].copy_from_slice(&rec);
                        } else {
                            data.splice(at..at + n, rec);
                        }
                        false
                    }
                    None => {
                        data.reserve_exact(pair_size(key, value));
                        put_pair(data, key, value);
                        *len += 1;
                        true
                    }
                };
                if *len > SMALL_PAIRS || data.len() > SMALL_BYTES {
                    self.grow();
                }
                fresh
            }
            Repr::Large(l) => l.insert(key, value),
        }
    }

    /// Removes `key`; true when it was present.
    pub(crate) fn remove(&mut self, key: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Small { data, len } => match small_find(data, key) {
                Some((at, n)) => {
                    data.drain(at..at + n);
                    *len -= 1;
                    if data.capacity() > 2 * data.len() + 64 {
                        data.shrink_to_fit();
                    }
                    true
                }
                None => false,
            },
            Repr::Large(l) => {
                let removed = l.remove(key);
                if removed && l.len <= SHRINK_PAIRS && l.bytes() <= SMALL_BYTES / 2 {
                    self.shrink();
                }
                removed
            }
        }
    }

    /// Every pair, in storage order.
    pub(crate) fn iter(&self) -> Box<dyn Iterator<Item = (&[u8], &[u8])> + '_> {
        match &self.repr {
            Repr::Small { data, .. } => Box::new(small_iter(data)),
            Repr::Large(l) => Box::new(l.iter()),
        }
    }

    /// Up to about `count` pairs from `cursor` on, and the cursor to continue
    /// with. A small map answers whole in one step (as Redis does for its
    /// compact encodings). Pairs present for a whole iteration are returned
    /// at least once.
    pub(crate) fn scan(
        &self,
        cursor: MapCursor,
        count: usize,
        mut f: impl FnMut(&[u8], &[u8]),
    ) -> MapCursor {
        match &self.repr {
            Repr::Small { data, .. } => {
                if cursor == MapCursor::Start {
                    small_iter(data).for_each(|(k, v)| f(k, v));
                }
                MapCursor::Done
            }
            Repr::Large(l) => l.scan(cursor, count, f),
        }
    }

    /// A pair chosen with `rand` (uniform over buckets when large).
    pub(crate) fn random(&self, mut rand: impl FnMut() -> u64) -> Option<(&[u8], &[u8])> {
        let n = self.len();
        if n == 0 {
            return None;
        }
        match &self.repr {
            Repr::Small { data, .. } => small_iter(data).nth((rand() % n as u64) as usize),
            Repr::Large(l) => l.random(rand),
        }
    }

    /// Small → large.
    fn grow(&mut self) {
        let mut large = Box::new(Large::default());
        for (k, v) in self.iter() {
            large.insert(k, v);
        }
        self.repr = Repr::Large(large);
    }

    /// Large → small.
    fn shrink(&mut self) {
        let mut data = Vec::new();
        for (k, v) in self.iter() {
            put_pair(&mut data, k, v);
        }
        data.shrink_to_fit();
        let len = self.len();
        self.repr = Repr::Small { data, len };
    }
}

/// Offset and length of `key`'s record in a small map.
fn small_find(data: &[u8], key: &[u8]) -> Option<(usize, usize)> {
    let mut at = 0;
    while at < data.len() {
        let n = pair_len(&data[at..]);
        if split_pair(&data[at..]).0 == key {
            return Some((at, n));
        }
        at += n;
    }
    None
}

fn small_iter(data: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    let mut at = 0;
    std::iter::from_fn(move || {
        (at < data.len()).then(|| {
            let rec = &data[at..];
            at += pair_len(rec);
            split_pair(rec)
        })
    })
}

/// A pair kept outside the arena.
type Aside = (Box<[u8]>, Box<[u8]>);

/// The large shape: arena records (`flags | pair`) behind an index.
#[derive(Default)]
struct Large {
    index: HashTable<Handle>,
    arena: Arena<MapLayout>,
    /// Pairs whose record would exceed the arena's record size.
    aside: Vec<Aside>,
    aside_bytes: usize,
    len: usize,
}

impl Large {
    fn memory(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.arena.resident_bytes()
            + self.index.allocation_size()
            + self.aside_bytes
    }

    /// Bytes of pairs (for the shrink decision).
    fn bytes(&self) -> usize {
        self.arena.live_bytes() + self.aside_bytes
    }

    fn find(&self, key: &[u8]) -> Option<Handle> {
        self.index
            .find(hash(key), |&h| split_pair(&self.arena.get(h)[1..]).0 == key)
            .copied()
    }

    fn find_aside(&self, key: &[u8]) -> Option<usize> {
        self.aside.iter().position(|(k, _)| &**k == key)
    }

    fn get(&self, key: &[u8]) -> Option<&[u8]> {
        if let Some(h) = self.find(key) {
            return Some(split_pair(&self.arena.get(h)[1..]).1);
        }
        self.find_aside(key).map(|i| &*self.aside[i].1)
    }

    fn insert(&mut self, key: &[u8], value: &[u8]) -> bool {
        let size = 1 + pair_size(key, value);
        if size > RECORD_MAX {
            let existed = self.remove(key);
            self.aside_bytes += key.len() + value.len() + 32;
            self.aside.push((key.into(), value.into()));
            self.len += 1;
            return !existed;
        }
        if let Some(h) = self.find(key) {
            let rec = self.arena.get_mut(h);
            if rec.len() == size {
                let vstart = rec.len() - value.len();
                rec[vstart..].copy_from_slice(value);
                return false;
            }
            let new = self.push(key, value);
            *self
                .index
                .find_mut(hash(key), |&x| x == h)
                .expect("indexed handle") = new;
            self.arena.free(h);
            self.maybe_compact();
            return false;
        }
        let existed = match self.find_aside(key) {
            Some(i) => {
                self.remove_aside(i);
                true
            }
            None => false,
        };
        let h = self.push(key, value);
        let arena = &self.arena;
        self.index
            .insert_unique(hash(key), h, |&x| hash(split_pair(&arena.get(x)[1..]).0));
        self.len += 1;
        !existed
    }

    fn push(&mut self, key: &[u8], value: &[u8]) -> Handle {
        let size = 1 + pair_size(key, value);
        let (h, dst) = self.arena.alloc(size);
        dst[0] = 0;
        let mut at = 1;
        at += write_varint(&mut dst[at..], key.len() as u64);
        at += write_varint(&mut dst[at..], value.len() as u64);
        dst[at..at + key.len()].copy_from_slice(key);
        dst[at + key.len()..].copy_from_slice(value);
        h
    }

    fn remove_aside(&mut self, i: usize) {
        let (k, v) = self.aside.swap_remove(i);
        self.aside_bytes -= k.len() + v.len() + 32;
        self.len -= 1;
    }

    fn remove(&mut self, key: &[u8]) -> bool {
        if let Some(h) = self.find(key) {
            match self.index.find_entry(hash(key), |&x| x == h) {
                Ok(e) => {
                    e.remove();
                }
                Err(_) => unreachable!("indexed handle"),
            }
            self.arena.free(h);
            self.len -= 1;
            if self.index.capacity() > 4 * self.index.len() + 16 {
                let arena = &self.arena;
                self.index
                    .shrink_to_fit(|&x| hash(split_pair(&arena.get(x)[1..]).0));
            }
            self.maybe_compact();
            return true;
        }
        if let Some(i) = self.find_aside(key) {
            self.remove_aside(i);
            return true;
        }
        false
    }

    fn maybe_compact(&mut self) {
        if !self.arena.wants_compaction(MIN_DEAD) {
            return;
        }
        let index = &mut self.index;
        self.arena.compact_step(|old, new, rec| {
            *index
                .find_mut(hash(split_pair(&rec[1..]).0), |&x| x == old)
                .expect("moved record is indexed") = new;
        });
    }

    fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.arena
            .iter()
            .map(|(_, rec)| split_pair(&rec[1..]))
            .chain(self.aside.iter().map(|(k, v)| (&**k, &**v)))
    }

    fn scan(&self, cursor: MapCursor, count: usize, mut f: impl FnMut(&[u8], &[u8])) -> MapCursor {
        // The cursor came from a client: start at a record boundary.
        let mut cur = match cursor {
            MapCursor::Arena(pos) => MapCursor::Arena(self.arena.resync(pos)),
            other => other,
        };
        let mut n = 0;
        while n < count.max(1) {
            cur = match cur {
                MapCursor::Start => MapCursor::Arena(ArenaPos::default()),
                MapCursor::Arena(pos) => match self.arena.next_live(pos) {
                    Some((_, rec, next)) => {
                        let (k, v) = split_pair(&rec[1..]);
                        f(k, v);
                        n += 1;
                        MapCursor::Arena(next)
                    }
                    None => MapCursor::Large(0),
                },
                MapCursor::Large(i) => match self.aside.get(i) {
                    Some((k, v)) => {
                        f(k, v);
                        n += 1;
                        MapCursor::Large(i + 1)
                    }
                    None => MapCursor::Done,
                },
                MapCursor::Done => return MapCursor::Done,
            };
        }
        cur
    }

    fn random(&self, mut rand: impl FnMut() -> u64) -> Option<(&[u8], &[u8])> {
        if !self.aside.is_empty() && rand() % (self.len as u64) < self.aside.len() as u64 {
            let (k, v) = &self.aside[(rand() % self.aside.len() as u64) as usize];
            return Some((k, v));
        }
        if self.index.is_empty() {
            return None;
        }
        let buckets = self.index.num_buckets() as u64;
        loop {
            if let Some(&h) = self.index.get_bucket((rand() % buckets) as usize) {
                return Some(split_pair(&self.arena.get(h)[1..]));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    #[derive(Debug, Clone)]
    enum Step {
        Insert(Vec<u8>, Vec<u8>),
        Remove(Vec<u8>),
    }

    fn key() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            4 => prop::collection::vec(0u8..4, 0..3),
            1 => prop::collection::vec(any::<u8>(), 0..6),
        ]
    }

    fn value() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            8 => prop::collection::vec(any::<u8>(), 0..40),
            1 => prop::collection::vec(any::<u8>(), 200..600),
            1 => prop::collection::vec(any::<u8>(), RECORD_MAX - 8..RECORD_MAX + 8),
        ]
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            3 => (key(), value()).prop_map(|(k, v)| Step::Insert(k, v)),
            1 => key().prop_map(Step::Remove),
        ]
    }

    proptest! {
        #[test]
        fn behaves_like_a_hashmap(steps in prop::collection::vec(step(), 0..300)) {
            let mut m = PackedMap::default();
            let mut model: HashMap<Vec<u8>, Vec<u8>> = HashMap::new();
            for s in steps {
                match s {
                    Step::Insert(k, v) => {
                        prop_assert_eq!(m.insert(&k, &v), model.insert(k, v).is_none());
                    }
                    Step::Remove(k) => {
                        prop_assert_eq!(m.remove(&k), model.remove(&k).is_some());
                    }
                }
                prop_assert_eq!(m.len(), model.len());
            }
            for (k, v) in &model {
                prop_assert_eq!(m.get(k), Some(&v[..]));
            }
            let mut all: Vec<_> = m.iter().map(|(k, v)| (k.to_vec(), v.to_vec())).collect();
            all.sort();
            let mut want: Vec<_> = model.into_iter().collect();
            want.sort();
            prop_assert_eq!(&all, &want);
            let mut scanned = Vec::new();
            let mut cursor = MapCursor::Start;
            while cursor != MapCursor::Done {
                cursor = m.scan(cursor, 3, |k, v| scanned.push((k.to_vec(), v.to_vec())));
            }
            scanned.sort();
            prop_assert_eq!(scanned, want);
        }
    }

    #[test]
    fn large_maps_index_compact_and_scan() {
        let mut m = PackedMap::default();
        for i in 0..100_000u32 {
            m.insert(format!("field:{i}").as_bytes(), &i.to_le_bytes());
        }
        for i in (0..100_000u32).filter(|i| i % 4 != 0) {
            assert!(m.remove(format!("field:{i}").as_bytes()));
        }
        for i in (0..100_000u32).step_by(4) {
            // Longer values force moves; compaction must keep every pair findable.
            m.insert(
                format!("field:{i}").as_bytes(),
                format!("value {i}").as_bytes(),
            );
        }
        assert_eq!(m.len(), 25_000);
        for i in (0..100_000u32).step_by(4) {
            assert_eq!(
                m.get(format!("field:{i}").as_bytes()),
                Some(format!("value {i}").as_bytes())
            );
        }
        let mut cursor = MapCursor::Start;
        let mut seen = 0;
        while cursor != MapCursor::Done {
            cursor = m.scan(cursor, 100, |_, _| seen += 1);
        }
        assert_eq!(seen, 25_000);
        let mut x = 7u64;
        let r = m.random(|| {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
            x >> 11
        });
        assert!(r.is_some());
    }

    #[test]
    fn small_maps_cost_their_bytes_plus_a_header() {
        let mut m = PackedMap::default();
        for i in 0..5u8 {
            m.insert(&[b'f', i], b"value");
        }
        // 5 pairs of 2 + 5 bytes with 2 bytes of lengths each: 45 bytes of data.
        assert!(m.memory() <= 45 + 64, "small map uses {} bytes", m.memory());
    }

    #[test]
    fn maps_grow_and_shrink_between_shapes() {
        let mut m = PackedMap::default();
        for i in 0..100u32 {
            m.insert(&i.to_le_bytes(), b"v");
        }
        assert!(matches!(m.repr, Repr::Large(_)));
        for i in 0..95u32 {
            m.remove(&i.to_le_bytes());
        }
        assert!(matches!(m.repr, Repr::Small { .. }));
        assert_eq!(m.len(), 5);
        assert_eq!(m.get(&99u32.to_le_bytes()), Some(&b"v"[..]));
    }
}
