//! The keyspace: keys spread over shards, each a hash table of 4-byte
//! handles into an arena of key records, plus a slab of the objects
//! (collections and large strings) that records point to.
//!
//! A shard knows nothing of journals, locks or time: it is mutated only by
//! [`crate::apply`], which is shared by the live write path and by replay.

pub(crate) mod entry;

use hashbrown::HashTable;
use slab::Slab;

use crate::mem::arena::{Arena, ArenaPos, Handle, RECORD_MAX};
use crate::mem::packed_list::PackedList;
use crate::mem::packed_map::PackedMap;
use crate::mem::zset::ZSet;
pub(crate) use entry::{Entry, Stored};
use entry::{EntryLayout, key_of};

/// Dead bytes in a shard's arena before compaction is considered.
const MIN_DEAD: usize = 128 * 1024;

/// The type of a key's value, as Redis's `TYPE` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyType {
    String,
    Hash,
    List,
    Set,
    ZSet,
}

impl KeyType {
    /// The name `TYPE` answers with.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::String => "string",
            KeyType::Hash => "hash",
            KeyType::List => "list",
            KeyType::Set => "set",
            KeyType::ZSet => "zset",
        }
    }
}

impl Stored {
    pub(crate) fn key_type(self) -> KeyType {
        match self {
            Stored::Inline | Stored::BigString => KeyType::String,
            Stored::Hash => KeyType::Hash,
            Stored::List => KeyType::List,
            Stored::Set => KeyType::Set,
            Stored::ZSet => KeyType::ZSet,
        }
    }
}

/// A value held outside the arena.
pub(crate) enum Object {
    Str(Vec<u8>),
    Hash(PackedMap),
    List(Box<PackedList>),
    Set(PackedMap),
    ZSet(Box<ZSet>),
}

impl Object {
    fn stored(&self) -> Stored {
        match self {
            Object::Str(_) => Stored::BigString,
            Object::Hash(_) => Stored::Hash,
            Object::List(_) => Stored::List,
            Object::Set(_) => Stored::Set,
            Object::ZSet(_) => Stored::ZSet,
        }
    }

    pub(crate) fn memory(&self) -> usize {
        match self {
            Object::Str(v) => v.capacity(),
            Object::Hash(m) | Object::Set(m) => m.memory(),
            Object::List(l) => l.memory(),
            Object::ZSet(z) => z.memory(),
        }
    }

    /// Whether the collection has no elements left (Redis deletes such keys).
    pub(crate) fn is_empty_collection(&self) -> bool {
        match self {
            Object::Str(_) => false,
            Object::Hash(m) | Object::Set(m) => m.is_empty(),
            Object::List(l) => l.is_empty(),
            Object::ZSet(z) => z.is_empty(),
        }
    }
}

/// A value to store under a key.
pub(crate) enum NewValue<'a> {
    Str(&'a [u8]),
    Object(Object),
}

/// A value taken out of the keyspace (for `RENAME`).
pub(crate) enum Taken {
    Str(Vec<u8>),
    Object(Object),
}

/// The keyspace hash: seeded, so a store's layout is stable across restarts
/// (the seed is kept in snapshots) yet unknown to clients.
#[derive(Clone, Copy, Debug)]
pub(crate) struct KeyHasher {
    seed: u64,
}

impl KeyHasher {
    pub(crate) fn new(seed: u64) -> KeyHasher {
        KeyHasher { seed }
    }

    pub(crate) fn seed(self) -> u64 {
        self.seed
    }

    #[inline]
    pub(crate) fn hash(self, key: &[u8]) -> u64 {
        use std::hash::BuildHasher;
        foldhash::fast::FixedState::with_seed(self.seed).hash_one(key)
    }

    /// The shard of a hash: bits 32.. (the table itself uses the low bits and
    /// the top seven, so the two choices stay independent).
    #[inline]
    pub(crate) fn shard_of(hash: u64, shards: usize) -> usize {
        ((hash >> 32) as usize) & (shards - 1)
    }
}

/// One shard of the keyspace.
pub(crate) struct Shard {
    table: HashTable<Handle>,
    arena: Arena<EntryLayout>,
    objects: Slab<Object>,
    /// Sum of `Object::memory` over `objects`.
    objects_bytes: usize,
    /// Keys with a TTL.
    volatile: usize,
    hasher: KeyHasher,
}

impl Shard {
    pub(crate) fn new(hasher: KeyHasher) -> Shard {
        Shard {
            table: HashTable::new(),
            arena: Arena::default(),
            objects: Slab::new(),
            objects_bytes: 0,
            volatile: 0,
            hasher,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }

    pub(crate) fn volatile(&self) -> usize {
        self.volatile
    }

    /// Memory held by this shard, in bytes.
    pub(crate) fn memory(&self) -> usize {
        self.arena.resident_bytes()
            + self.table.allocation_size()
            + self.objects.capacity() * (std::mem::size_of::<Object>() + 8)
            + self.objects_bytes
    }

    /// Reserves table room for `n` more keys (snapshot loading knows counts).
    pub(crate) fn reserve(&mut self, n: usize) {
        let (arena, hasher) = (&self.arena, self.hasher);
        self.table
            .reserve(n, |&h| hasher.hash(key_of(arena.get(h))));
    }

    #[inline]
    fn find(&self, hash: u64, key: &[u8]) -> Option<Handle> {
        self.table
            .find(hash, |&h| key_of(self.arena.get_open(h)) == key)
            .copied()
    }

    /// The record of `key`, expired or not.
    #[inline]
    pub(crate) fn get(&self, hash: u64, key: &[u8]) -> Option<Entry<'_>> {
        self.find(hash, key)
            .map(|h| entry::parse(self.arena.get_open(h)))
    }

    pub(crate) fn object(&self, idx: u32) -> &Object {
        &self.objects[idx as usize]
    }

    /// Mutates an object, keeping the memory count current.
    pub(crate) fn with_object<R>(&mut self, idx: u32, f: impl FnOnce(&mut Object) -> R) -> R {
        let obj = &mut self.objects[idx as usize];
        let before = obj.memory();
        let r = f(obj);
        self.objects_bytes = self.objects_bytes + obj.memory() - before;
        r
    }

    /// Stores `value` under `key`, replacing whatever was there.
    pub(crate) fn insert(
        &mut self,
        hash: u64,
        key: &[u8],
        value: NewValue<'_>,
        expire_at: Option<u64>,
    ) {
        self.remove(hash, key);
        let (stored, n, inline): (Stored, u64, &[u8]) = match value {
            NewValue::Str(v)
                if entry::size(key, Stored::Inline, v.len() as u64, expire_at) <= RECORD_MAX =>
            {
                (Stored::Inline, v.len() as u64, v)
            }
            NewValue::Str(v) => {
                return self.insert(
                    hash,
                    key,
                    NewValue::Object(Object::Str(v.to_vec())),
                    expire_at,
                );
            }
            NewValue::Object(obj) => {
                let stored = obj.stored();
                self.objects_bytes += obj.memory();
                (stored, self.objects.insert(obj) as u64, &[])
            }
        };
        let (h, dst) = self.arena.alloc(entry::size(key, stored, n, expire_at));
        entry::encode(dst, key, stored, n, expire_at, inline);
        let (arena, hasher) = (&self.arena, self.hasher);
        self.table
            .insert_unique(hash, h, |&x| hasher.hash(key_of(arena.get(x))));
        if expire_at.is_some() {
            self.volatile += 1;
        }
    }

    /// Deletes `key`; true when it existed.
    pub(crate) fn remove(&mut self, hash: u64, key: &[u8]) -> bool {
        self.take(hash, key).is_some()
    }

    /// Removes `key` and hands back its value and expiry.
    pub(crate) fn take(&mut self, hash: u64, key: &[u8]) -> Option<(Taken, Option<u64>)> {
        let arena = &self.arena;
        let Ok(slot) = self
            .table
            .find_entry(hash, |&h| key_of(arena.get(h)) == key)
        else {
            return None;
        };
        let (h, _) = slot.remove();
        let e = entry::parse(self.arena.get(h));
        let expire_at = e.expire_at;
        let taken = if e.stored == Stored::Inline {
            Taken::Str(e.inline.to_vec())
        } else {
            let obj = self.objects.remove(e.object as usize);
            self.objects_bytes -= obj.memory();
            Taken::Object(obj)
        };
        if expire_at.is_some() {
            self.volatile -= 1;
        }
        self.arena.free(h);
        self.after_free();
        Some((taken, expire_at))
    }

    /// Sets or clears `key`'s expiry; false when the key is absent.
    pub(crate) fn set_expiry(&mut self, hash: u64, key: &[u8], expire_at: Option<u64>) -> bool {
        let Some(h) = self.find(hash, key) else {
            return false;
        };
        let e = entry::parse(self.arena.get(h));
        match (e.expire_at, expire_at) {
            (Some(_), Some(t)) => {
                entry::overwrite_expiry(self.arena.get_mut(h), t);
                return true;
            }
            (None, None) => return true,
            (None, Some(_)) => self.volatile += 1,
            (Some(_), None) => self.volatile -= 1,
        }
        // The record changes size: write a new one and repoint the table.
        let (stored, n) = if e.stored == Stored::Inline {
            (Stored::Inline, e.inline.len() as u64)
        } else {
            (e.stored, u64::from(e.object))
        };
        let size = entry::size(key, stored, n, expire_at);
        let mut rec = vec![0u8; size];
        entry::encode(&mut rec, key, stored, n, expire_at, e.inline);
        let new = self.arena.push(&rec);
        *self
            .table
            .find_mut(hash, |&x| x == h)
            .expect("record is indexed") = new;
        self.arena.free(h);
        self.after_free();
        true
    }

    /// Replaces the value of an existing inline or big string, keeping its expiry.
    pub(crate) fn replace_string(&mut self, hash: u64, key: &[u8], value: &[u8]) {
        let expire_at = self.get(hash, key).and_then(|e| e.expire_at);
        self.insert(hash, key, NewValue::Str(value), expire_at);
    }

    /// Drops every key.
    pub(crate) fn clear(&mut self) {
        *self = Shard::new(self.hasher);
    }

    /// Every key's record, in arena order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = Entry<'_>> {
        self.arena.iter().map(|(_, rec)| entry::parse(rec))
    }

    /// `pos` moved to a record boundary (see [`Arena::resync`]); for
    /// positions that came from a client.
    pub(crate) fn resync(&self, pos: ArenaPos) -> ArenaPos {
        self.arena.resync(pos)
    }

    /// The first record at or after `pos`, and the position after it.
    pub(crate) fn next_from(&self, pos: ArenaPos) -> Option<(Entry<'_>, ArenaPos)> {
        self.arena
            .next_live(pos)
            .map(|(_, rec, next)| (entry::parse(rec), next))
    }

    /// A key picked using `rand` (uniform over table buckets).
    pub(crate) fn random(&self, mut rand: impl FnMut() -> u64) -> Option<Entry<'_>> {
        if self.table.is_empty() {
            return None;
        }
        let buckets = self.table.num_buckets() as u64;
        loop {
            if let Some(&h) = self.table.get_bucket((rand() % buckets) as usize) {
                return Some(entry::parse(self.arena.get(h)));
            }
        }
    }

    fn after_free(&mut self) {
        if self.table.capacity() > 4 * self.table.len() + 64 {
            let (arena, hasher) = (&self.arena, self.hasher);
            self.table
                .shrink_to(self.table.len() * 2, |&h| hasher.hash(key_of(arena.get(h))));
        }
        if !self.arena.wants_compaction(MIN_DEAD) {
            return;
        }
        let (table, hasher) = (&mut self.table, self.hasher);
        self.arena.compact_step(|old, new, rec| {
            *table
                .find_mut(hasher.hash(key_of(rec)), |&x| x == old)
                .expect("moved record is indexed") = new;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shard() -> (Shard, KeyHasher) {
        let h = KeyHasher::new(42);
        (Shard::new(h), h)
    }

    #[test]
    fn insert_get_replace_remove() {
        let (mut s, h) = shard();
        for i in 0..50_000u32 {
            let k = format!("user:{i:010}");
            s.insert(
                h.hash(k.as_bytes()),
                k.as_bytes(),
                NewValue::Str(&i.to_le_bytes()),
                None,
            );
        }
        assert_eq!(s.len(), 50_000);
        for i in (0..50_000u32).step_by(2) {
            let k = format!("user:{i:010}");
            assert!(s.remove(h.hash(k.as_bytes()), k.as_bytes()));
        }
        for i in (1..50_000u32).step_by(2) {
            let k = format!("user:{i:010}");
            let e = s
                .get(h.hash(k.as_bytes()), k.as_bytes())
                .expect("odd keys remain");
            assert_eq!(e.inline, i.to_le_bytes());
            assert_eq!(e.stored, Stored::Inline);
        }
        assert_eq!(s.iter().count(), 25_000);
    }

    #[test]
    fn expiry_changes_keep_the_key_findable() {
        let (mut s, h) = shard();
        let k = b"session";
        let hk = h.hash(k);
        s.insert(hk, k, NewValue::Str(b"v"), None);
        assert!(s.set_expiry(hk, k, Some(10)));
        assert_eq!(s.get(hk, k).unwrap().expire_at, Some(10));
        assert_eq!(s.volatile(), 1);
        assert!(s.set_expiry(hk, k, Some(20)));
        assert_eq!(s.get(hk, k).unwrap().expire_at, Some(20));
        assert!(s.set_expiry(hk, k, None));
        assert_eq!(s.get(hk, k).unwrap().expire_at, None);
        assert_eq!(s.volatile(), 0);
        assert_eq!(s.get(hk, k).unwrap().inline, b"v");
    }

    #[test]
    fn big_strings_and_objects_are_held_outside_the_arena() {
        let (mut s, h) = shard();
        let big = vec![7u8; RECORD_MAX * 2];
        s.insert(h.hash(b"big"), b"big", NewValue::Str(&big), Some(5));
        let e = s.get(h.hash(b"big"), b"big").unwrap();
        assert_eq!(e.stored, Stored::BigString);
        assert!(matches!(s.object(e.object), Object::Str(v) if v == &big));
        let before = s.memory();
        assert!(before >= big.len());
        let Some((Taken::Object(Object::Str(v)), Some(5))) = s.take(h.hash(b"big"), b"big") else {
            panic!("big string comes back whole");
        };
        assert_eq!(v, big);
        assert!(s.memory() < before - big.len() + 1024);
    }
}
