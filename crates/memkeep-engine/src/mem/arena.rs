//! A segmented byte arena: variable-length records packed back to back and
//! addressed by 32-bit handles.
//!
//! This is where memkeep's per-key memory goes. A record costs its own bytes
//! and nothing else: no allocator header, no size-class rounding, no pointer.
//! Tables index records with 4-byte [`Handle`]s instead of 8-byte pointers.
//!
//! Invariants:
//! - A record never moves while it is live, except through [`Arena::compact_step`],
//!   which reports every move so the owner can update its index.
//! - Byte 0 of every record belongs to the arena's [`DEAD`] bit; the owner's
//!   [`Layout`] uses the other seven bits and computes the record's length.
//! - Segments are ordered by a monotonically increasing id; records appended
//!   later (including moved ones) always land in a segment with a higher or
//!   equal id at a higher offset, which is what keeps scan cursors honest.

use std::marker::PhantomData;

use memmap2::MmapMut;

/// Offset bits in a handle: segments are at most 256 KiB.
const OFFSET_BITS: u32 = 18;
/// Largest segment, and the size of every mapped segment.
pub(crate) const SEGMENT_MAX: usize = 1 << OFFSET_BITS;
/// Segments start small on the heap and double up to this size.
const HEAP_SEGMENT_MAX: usize = 64 * 1024;
/// Slot bits in a handle.
const SLOT_BITS: u32 = 32 - OFFSET_BITS;
const MAX_SEGMENTS: usize = 1 << SLOT_BITS;
/// Largest record the arena accepts; bigger values live outside it.
pub(crate) const RECORD_MAX: usize = 16 * 1024;
/// The dead bit in byte 0 of a record.
pub(crate) const DEAD: u8 = 0x80;
/// Smallest first segment; tiny collections start here.
const MIN_SEGMENT: usize = 64;

/// How the owner of an arena lays out its records.
pub(crate) trait Layout {
    /// Length of the record that starts at `rec[0]` (`rec` runs to the end of
    /// the segment's used bytes).
    fn record_len(rec: &[u8]) -> usize;
}

/// A 32-bit address of a record: segment slot and byte offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Handle(pub(crate) u32);

impl Handle {
    fn new(slot: usize, offset: usize) -> Handle {
        debug_assert!(slot < MAX_SEGMENTS && offset < SEGMENT_MAX);
        Handle(((slot as u32) << OFFSET_BITS) | offset as u32)
    }
    fn slot(self) -> usize {
        (self.0 >> OFFSET_BITS) as usize
    }
    fn offset(self) -> usize {
        (self.0 & ((1 << OFFSET_BITS) - 1)) as usize
    }
}

/// A position for resumable iteration: records at or after it, in arena order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct ArenaPos {
    pub(crate) segment_id: u64,
    pub(crate) offset: u32,
}

enum Buf {
    /// A heap segment; `Vec::len` is the used length, capacity the segment size.
    Heap(Vec<u8>),
    /// An anonymous mapping of `SEGMENT_MAX` bytes: untouched pages cost no
    /// memory, and dropping it returns every page to the OS at once.
    Mapped(MmapMut, usize),
}

struct Segment {
    buf: Buf,
    dead: usize,
    id: u64,
}

impl Segment {
    fn len(&self) -> usize {
        match &self.buf {
            Buf::Heap(v) => v.len(),
            Buf::Mapped(_, len) => *len,
        }
    }
    fn capacity(&self) -> usize {
        match &self.buf {
            Buf::Heap(v) => v.capacity(),
            Buf::Mapped(..) => SEGMENT_MAX,
        }
    }
    fn bytes(&self) -> &[u8] {
        match &self.buf {
            Buf::Heap(v) => v,
            Buf::Mapped(m, len) => &m[..*len],
        }
    }
    fn bytes_mut(&mut self) -> &mut [u8] {
        match &mut self.buf {
            Buf::Heap(v) => v,
            Buf::Mapped(m, len) => &mut m[..*len],
        }
    }
    /// Memory this segment really holds: heap capacity, or the touched pages
    /// of a mapping.
    fn resident(&self) -> usize {
        match &self.buf {
            Buf::Heap(v) => v.capacity(),
            Buf::Mapped(_, len) => len.next_multiple_of(4096),
        }
    }
    /// Extends the used length by `n` bytes (the caller checked capacity).
    fn extend(&mut self, n: usize) -> usize {
        match &mut self.buf {
            Buf::Heap(v) => {
                let at = v.len();
                v.resize(at + n, 0);
                at
            }
            Buf::Mapped(_, len) => {
                let at = *len;
                *len += n;
                at
            }
        }
    }
}

fn new_mapping() -> MmapMut {
    // An anonymous private mapping cannot fail short of address-space
    // exhaustion, which is an out-of-memory condition like any allocation.
    MmapMut::map_anon(SEGMENT_MAX).expect("out of memory: cannot map a 256 KiB arena segment")
}

/// The arena. `L` tells it how long each record is.
pub(crate) struct Arena<L: Layout> {
    segments: Vec<Option<Segment>>,
    free_slots: Vec<usize>,
    /// `(segment id, slot)` sorted by id: arena order.
    order: Vec<(u64, usize)>,
    head: Option<usize>,
    next_id: u64,
    live: usize,
    dead: usize,
    /// Sum of the segments' `resident()`, kept current so memory reports are O(1).
    resident: usize,
    _layout: PhantomData<L>,
}

impl<L: Layout> Default for Arena<L> {
    fn default() -> Self {
        Arena {
            segments: Vec::new(),
            free_slots: Vec::new(),
            order: Vec::new(),
            head: None,
            next_id: 0,
            live: 0,
            dead: 0,
            resident: 0,
            _layout: PhantomData,
        }
    }
}

impl<L: Layout> Arena<L> {
    /// Bytes in live records.
    pub(crate) fn live_bytes(&self) -> usize {
        self.live
    }

    /// Bytes of memory the arena holds (including dead records and the
    /// touched slack of segments).
    pub(crate) fn resident_bytes(&self) -> usize {
        self.resident
            + self.segments.capacity() * std::mem::size_of::<Option<Segment>>()
            + self.order.capacity() * std::mem::size_of::<(u64, usize)>()
    }

    /// Whether `extra` more bytes of records can be stored: enough segment
    /// slots must be left for them, plus two for compaction. O(1).
    pub(crate) fn has_room_for(&self, extra: usize) -> bool {
        let needed = extra.div_ceil(SEGMENT_MAX) + 2;
        let available = MAX_SEGMENTS - self.segments.len() + self.free_slots.len();
        available >= needed
    }

    /// The bytes from the record at `h` to the end of its segment: for
    /// callers that parse the record's own length (cheaper than [`get`](Self::get)).
    #[inline]
    pub(crate) fn get_open(&self, h: Handle) -> &[u8] {
        let seg = self.segments[h.slot()]
            .as_ref()
            .expect("handle to a released segment");
        &seg.bytes()[h.offset()..]
    }

    /// The record at `h`.
    #[inline]
    pub(crate) fn get(&self, h: Handle) -> &[u8] {
        let seg = self.segments[h.slot()]
            .as_ref()
            .expect("handle to a released segment");
        let rec = &seg.bytes()[h.offset()..];
        &rec[..L::record_len(rec)]
    }

    /// The record at `h`, writable. The owner must keep its length and must not
    /// set the [`DEAD`] bit.
    #[inline]
    pub(crate) fn get_mut(&mut self, h: Handle) -> &mut [u8] {
        let seg = self.segments[h.slot()]
            .as_mut()
            .expect("handle to a released segment");
        let rec = &mut seg.bytes_mut()[h.offset()..];
        let n = L::record_len(rec);
        &mut rec[..n]
    }

    /// Reserves a record of `len` bytes (1..=[`RECORD_MAX`]) and returns its
    /// handle and zeroed bytes for the caller to fill in.
    pub(crate) fn alloc(&mut self, len: usize) -> (Handle, &mut [u8]) {
        assert!(len > 0 && len <= RECORD_MAX, "arena record of {len} bytes");
        let slot = self.head_with_room(len);
        let seg = self.segments[slot].as_mut().expect("head segment exists");
        let before = seg.resident();
        let at = seg.extend(len);
        self.resident = self.resident + seg.resident() - before;
        self.live += len;
        let h = Handle::new(slot, at);
        (h, &mut seg.bytes_mut()[at..at + len])
    }

    /// Stores `bytes` as a new record.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Handle {
        let (h, dst) = self.alloc(bytes.len());
        dst.copy_from_slice(bytes);
        h
    }

    /// Marks the record at `h` dead. Its bytes are reclaimed by compaction, or
    /// at once when its whole segment is dead.
    pub(crate) fn free(&mut self, h: Handle) {
        let slot = h.slot();
        let seg = self.segments[slot]
            .as_mut()
            .expect("handle to a released segment");
        let rec = &mut seg.bytes_mut()[h.offset()..];
        debug_assert_eq!(rec[0] & DEAD, 0, "double free in arena");
        let n = L::record_len(rec);
        rec[0] |= DEAD;
        seg.dead += n;
        self.live -= n;
        self.dead += n;
        if seg.dead == seg.len() {
            self.release(slot);
        }
    }

    /// Whether enough space is dead that a [`compact_step`](Self::compact_step)
    /// is worth its copying: a quarter of the used bytes, and at least `min_dead`.
    pub(crate) fn wants_compaction(&self, min_dead: usize) -> bool {
        self.dead >= min_dead && self.dead * 4 >= self.live + self.dead
    }

    /// Moves the live records of the segment with the most dead bytes to the
    /// head and releases it. `relocate(old, new, record)` is called for every
    /// moved record so the owner can repoint its index.
    pub(crate) fn compact_step(&mut self, mut relocate: impl FnMut(Handle, Handle, &[u8])) {
        let Some(victim) = self
            .segments
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|s| (i, s)))
            .filter(|(_, s)| s.dead > 0)
            .max_by_key(|(_, s)| (s.dead, std::cmp::Reverse(s.id)))
            .map(|(i, _)| i)
        else {
            return;
        };
        if self.head == Some(victim) {
            self.head = None; // moved records must land in a fresh segment
        }
        let seg = self.segments[victim].take().expect("victim exists");
        self.resident -= seg.resident();
        self.dead -= seg.dead;
        self.live -= seg.len() - seg.dead;
        self.unorder(seg.id);
        let bytes = seg.bytes();
        let mut off = 0;
        while off < bytes.len() {
            let rec = &bytes[off..];
            let n = L::record_len(rec);
            if rec[0] & DEAD == 0 {
                let old = Handle::new(victim, off);
                let new = self.push(&rec[..n]);
                relocate(old, new, &rec[..n]);
            }
            off += n;
        }
        // Only now may the slot be reused: had a moved record landed in it, its
        // new handle could equal the old handle of a record not yet moved.
        self.free_slots.push(victim);
        // `seg` drops here: its memory goes back at once.
    }

    /// A position that may have come from outside (a client's SCAN cursor),
    /// moved forward to the first record boundary at or after it, so that
    /// [`next_live`](Self::next_live) never parses from the middle of a
    /// record. Costs one walk over the records of one segment.
    pub(crate) fn resync(&self, pos: ArenaPos) -> ArenaPos {
        let Ok(i) = self
            .order
            .binary_search_by_key(&pos.segment_id, |(id, _)| *id)
        else {
            return pos; // no such segment: next_live starts at the next one
        };
        let seg = self.segments[self.order[i].1]
            .as_ref()
            .expect("indexed segment exists");
        let bytes = seg.bytes();
        let mut off = 0;
        while off < bytes.len() && off < pos.offset as usize {
            off += L::record_len(&bytes[off..]);
        }
        ArenaPos {
            segment_id: pos.segment_id,
            offset: off as u32,
        }
    }

    /// The first live record at or after `pos` (a position this arena handed
    /// out, or one passed through [`resync`](Self::resync)): its handle, the
    /// record, and the position just past it.
    pub(crate) fn next_live(&self, pos: ArenaPos) -> Option<(Handle, &[u8], ArenaPos)> {
        let from = self.order.partition_point(|(id, _)| *id < pos.segment_id);
        for &(id, slot) in &self.order[from..] {
            let seg = self.segments[slot]
                .as_ref()
                .expect("indexed segment exists");
            let bytes = seg.bytes();
            let mut off = if id == pos.segment_id {
                pos.offset as usize
            } else {
                0
            };
            while off < bytes.len() {
                let rec = &bytes[off..];
                let n = L::record_len(rec);
                if rec[0] & DEAD == 0 {
                    let next = ArenaPos {
                        segment_id: id,
                        offset: (off + n) as u32,
                    };
                    return Some((Handle::new(slot, off), &rec[..n], next));
                }
                off += n;
            }
        }
        None
    }

    /// Every live record, in arena order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (Handle, &[u8])> {
        self.order.iter().flat_map(move |&(_, slot)| {
            let bytes = self.segments[slot]
                .as_ref()
                .expect("indexed segment exists")
                .bytes();
            let mut off = 0;
            std::iter::from_fn(move || {
                while off < bytes.len() {
                    let rec = &bytes[off..];
                    let n = L::record_len(rec);
                    let at = off;
                    off += n;
                    if rec[0] & DEAD == 0 {
                        return Some((Handle::new(slot, at), &rec[..n]));
                    }
                }
                None
            })
        })
    }

    /// A slot whose segment has room for `len` more bytes, made the head.
    fn head_with_room(&mut self, len: usize) -> usize {
        if let Some(slot) = self.head {
            let seg = self.segments[slot].as_mut().expect("head exists");
            let need = seg.len() + len;
            if need <= seg.capacity() {
                return slot;
            }
            let before = seg.resident();
            if let Buf::Heap(v) = &mut seg.buf {
                if need <= HEAP_SEGMENT_MAX {
                    // Grow a small segment in place: offsets, and so handles, survive.
                    let target = need.next_power_of_two().max(MIN_SEGMENT);
                    v.reserve_exact(target - v.len());
                    self.resident = self.resident + seg.resident() - before;
                    return slot;
                }
                if need <= SEGMENT_MAX {
                    let mut m = new_mapping();
                    m[..v.len()].copy_from_slice(v);
                    seg.buf = Buf::Mapped(m, v.len());
                    self.resident = self.resident + seg.resident() - before;
                    return slot;
                }
            }
        }
        let buf = if self.head.is_some() || len > HEAP_SEGMENT_MAX / 2 {
            // The arena has outgrown one small segment: map full-size ones.
            Buf::Mapped(new_mapping(), 0)
        } else {
            Buf::Heap(Vec::with_capacity(len.next_power_of_two().max(MIN_SEGMENT)))
        };
        let id = self.next_id;
        self.next_id += 1;
        let seg = Segment { buf, dead: 0, id };
        self.resident += seg.resident();
        let slot = match self.free_slots.pop() {
            Some(s) => {
                self.segments[s] = Some(seg);
                s
            }
            None => {
                assert!(
                    self.segments.len() < MAX_SEGMENTS,
                    "arena full (checked by callers)"
                );
                self.segments.reserve_exact(self.segments.len().max(1));
                self.segments.push(Some(seg));
                self.segments.len() - 1
            }
        };
        self.order.push((id, slot));
        self.head = Some(slot);
        slot
    }

    fn release(&mut self, slot: usize) {
        let seg = self.segments[slot].take().expect("released segment exists");
        self.resident -= seg.resident();
        self.dead -= seg.dead;
        self.unorder(seg.id);
        self.free_slots.push(slot);
        if self.head == Some(slot) {
            self.head = None;
        }
        // Trailing empty slots go too, so a drained arena holds nothing.
        while matches!(self.segments.last(), Some(None)) {
            self.segments.pop();
            let last = self.segments.len();
            self.free_slots.retain(|&s| s != last);
        }
        if self.segments.is_empty() {
            *self = Arena::default();
        }
    }

    fn unorder(&mut self, id: u64) {
        let i = self
            .order
            .binary_search_by_key(&id, |(id, _)| *id)
            .expect("segment is ordered");
        self.order.remove(i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Test layout: byte 0 flags, byte 1 payload length, then the payload.
    struct Tiny;
    impl Layout for Tiny {
        fn record_len(rec: &[u8]) -> usize {
            2 + rec[1] as usize
        }
    }

    fn rec(payload: &[u8]) -> Vec<u8> {
        let mut v = vec![0, payload.len() as u8];
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn records_survive_growth_and_can_be_freed() {
        let mut a: Arena<Tiny> = Arena::default();
        let handles: Vec<_> = (0..20_000u32)
            .map(|i| a.push(&rec(format!("value-{i}").as_bytes())))
            .collect();
        for (i, h) in handles.iter().enumerate() {
            assert_eq!(&a.get(*h)[2..], format!("value-{i}").as_bytes());
        }
        assert_eq!(a.iter().count(), 20_000);
        for h in &handles {
            a.free(*h);
        }
        assert_eq!(a.live_bytes(), 0);
        assert_eq!(a.iter().count(), 0);
        assert_eq!(a.resident_bytes(), 0, "a drained arena holds no memory");
    }

    #[test]
    fn compaction_moves_live_records_and_reports_each_move() {
        let mut a: Arena<Tiny> = Arena::default();
        let mut live = std::collections::HashMap::new();
        for i in 0..50_000u32 {
            let h = a.push(&rec(&i.to_le_bytes()));
            if i % 3 == 0 {
                live.insert(i, h);
            } else {
                a.free(h);
            }
        }
        assert!(a.wants_compaction(0));
        let before = a.resident_bytes();
        while a.wants_compaction(1024) {
            let mut moves = Vec::new();
            a.compact_step(|old, new, r| moves.push((old, new, r.to_vec())));
            for (old, new, r) in moves {
                let i = u32::from_le_bytes(r[2..6].try_into().unwrap());
                assert_eq!(
                    live.insert(i, new),
                    Some(old),
                    "moved handle was the live one"
                );
            }
        }
        assert!(a.resident_bytes() < before);
        for (i, h) in &live {
            assert_eq!(&a.get(*h)[2..], &i.to_le_bytes());
        }
        assert_eq!(a.iter().count(), live.len());
    }

    #[test]
    fn next_live_visits_every_record_once_in_order() {
        let mut a: Arena<Tiny> = Arena::default();
        for i in 0..10_000u32 {
            let h = a.push(&rec(&i.to_le_bytes()));
            if i % 2 == 1 {
                a.free(h);
            }
        }
        let mut pos = ArenaPos::default();
        let mut seen = Vec::new();
        while let Some((_, r, next)) = a.next_live(pos) {
            seen.push(u32::from_le_bytes(r[2..6].try_into().unwrap()));
            assert!(next > pos);
            pos = next;
        }
        assert_eq!(seen, (0..10_000).step_by(2).collect::<Vec<_>>());
    }

    #[test]
    fn any_position_resyncs_to_a_record_boundary() {
        let mut a: Arena<Tiny> = Arena::default();
        for i in 0..5_000u32 {
            a.push(&rec(&i.to_le_bytes()));
        }
        for offset in (0..40_000u32).step_by(7) {
            for segment_id in 0..4 {
                let pos = a.resync(ArenaPos { segment_id, offset });
                if let Some((_, r, _)) = a.next_live(pos) {
                    assert_eq!(r.len(), 6, "a whole record, not a slice of one");
                }
            }
        }
    }

    #[test]
    fn small_arenas_stay_on_the_heap_and_small() {
        let mut a: Arena<Tiny> = Arena::default();
        a.push(&rec(b"abc"));
        assert!(a.resident_bytes() < 256, "{}", a.resident_bytes());
    }
}
