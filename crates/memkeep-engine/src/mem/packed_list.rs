//! The list type: a deque of packed chunks (Redis's quicklist idea).
//!
//! Elements are stored as `varint len | bytes` back to back in chunks of up to
//! [`CHUNK_BYTES`]; an element costs one or two bytes more than its content,
//! instead of a pointer and an allocation each. Pushes and pops at either end
//! touch one chunk; indexing walks chunk counts, then one chunk.

use std::collections::VecDeque;

use crate::codec::{put_bytes, read_varint, varint_len};

/// Target size of a chunk's packed bytes. Bigger elements get a chunk alone.
const CHUNK_BYTES: usize = 4096;

#[derive(Default, Clone)]
struct Chunk {
    data: Vec<u8>,
    count: usize,
}

/// Decodes the element at the start of `buf`: (element, bytes used).
fn item(buf: &[u8]) -> (&[u8], usize) {
    let (n, a) = read_varint(buf).expect("list chunk element header");
    (&buf[a..a + n as usize], a + n as usize)
}

impl Chunk {
    fn with(items: &[&[u8]]) -> Chunk {
        let size = items
            .iter()
            .map(|v| varint_len(v.len() as u64) + v.len())
            .sum();
        let mut data = Vec::with_capacity(size);
        for v in items {
            put_bytes(&mut data, v);
        }
        Chunk {
            data,
            count: items.len(),
        }
    }

    fn iter(&self) -> impl Iterator<Item = &[u8]> {
        let mut at = 0;
        std::iter::from_fn(move || {
            (at < self.data.len()).then(|| {
                let (v, n) = item(&self.data[at..]);
                at += n;
                v
            })
        })
    }

    /// Byte offset of element `i`.
    fn offset_of(&self, i: usize) -> usize {
        let mut at = 0;
        for _ in 0..i {
            at += item(&self.data[at..]).1;
        }
        at
    }

    fn has_room(&self, extra: usize) -> bool {
        self.data.len() + extra <= CHUNK_BYTES
    }

    /// Grows the buffer for `extra` bytes by doubling, but never past the
    /// chunk size (plain `Vec` doubling would leave up to half of it unused).
    fn reserve(&mut self, extra: usize) {
        let need = self.data.len() + extra;
        if need > self.data.capacity() {
            let target = (self.data.capacity() * 2).clamp(need, CHUNK_BYTES.max(need));
            self.data.reserve_exact(target - self.data.len());
        }
    }
}

/// A list of byte strings.
#[derive(Default, Clone)]
pub(crate) struct PackedList {
    chunks: VecDeque<Chunk>,
    len: usize,
    /// Sum of the chunks' buffer capacities, kept current for O(1) `memory`.
    cap: usize,
}

impl PackedList {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Memory held, in bytes.
    pub(crate) fn memory(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.chunks.capacity() * std::mem::size_of::<Chunk>()
            + self.cap
    }

    /// Runs `f` on chunk `ci`, keeping `cap` current and giving back the
    /// buffer's slack once it is mostly unused.
    fn edit_chunk<R>(&mut self, ci: usize, f: impl FnOnce(&mut Chunk) -> R) -> R {
        let c = &mut self.chunks[ci];
        let before = c.data.capacity();
        let r = f(c);
        if c.data.capacity() > 64 && c.data.len() < c.data.capacity() / 4 {
            c.data.shrink_to_fit();
        }
        self.cap = self.cap + c.data.capacity() - before;
        r
    }

    fn insert_chunk(&mut self, at: usize, c: Chunk) {
        self.cap += c.data.capacity();
        self.chunks.insert(at, c);
    }

    fn remove_chunk(&mut self, at: usize) {
        let c = self.chunks.remove(at).expect("chunk exists");
        self.cap -= c.data.capacity();
    }

    pub(crate) fn push_back(&mut self, v: &[u8]) {
        let need = varint_len(v.len() as u64) + v.len();
        match self.chunks.back() {
            Some(c) if c.has_room(need) => {
                let last = self.chunks.len() - 1;
                self.edit_chunk(last, |c| {
                    c.reserve(need);
                    put_bytes(&mut c.data, v);
                    c.count += 1;
                });
            }
            _ => self.insert_chunk(self.chunks.len(), Chunk::with(&[v])),
        }
        self.len += 1;
    }

    pub(crate) fn push_front(&mut self, v: &[u8]) {
        let need = varint_len(v.len() as u64) + v.len();
        match self.chunks.front() {
            Some(c) if c.has_room(need) => self.edit_chunk(0, |c| {
                c.reserve(need);
                let mut enc = Vec::with_capacity(need);
                put_bytes(&mut enc, v);
                c.data.splice(0..0, enc);
                c.count += 1;
            }),
            _ => self.insert_chunk(0, Chunk::with(&[v])),
        }
        self.len += 1;
    }

    pub(crate) fn pop_front(&mut self) -> Option<Vec<u8>> {
        self.chunks.front()?;
        let (out, empty) = self.edit_chunk(0, |c| {
            let (v, n) = item(&c.data);
            let out = v.to_vec();
            c.data.drain(..n);
            c.count -= 1;
            (out, c.count == 0)
        });
        if empty {
            self.remove_chunk(0);
        }
        self.len -= 1;
        Some(out)
    }

    pub(crate) fn pop_back(&mut self) -> Option<Vec<u8>> {
        self.chunks.back()?;
        let last = self.chunks.len() - 1;
        let (out, empty) = self.edit_chunk(last, |c| {
            let at = c.offset_of(c.count - 1);
            let out = item(&c.data[at..]).0.to_vec();
            c.data.truncate(at);
            c.count -= 1;
            (out, c.count == 0)
        });
        if empty {
            self.remove_chunk(last);
        }
        self.len -= 1;
        Some(out)
    }

    /// The chunk holding element `index` and the element's index within it.
    fn locate(&self, index: usize) -> Option<(usize, usize)> {
        if index >= self.len {
            return None;
        }
        if index < self.len / 2 {
            let mut i = index;
            for (ci, c) in self.chunks.iter().enumerate() {
                if i < c.count {
                    return Some((ci, i));
                }
                i -= c.count;
            }
        } else {
            let mut from_end = self.len - 1 - index;
            for (ci, c) in self.chunks.iter().enumerate().rev() {
                if from_end < c.count {
                    return Some((ci, c.count - 1 - from_end));
                }
                from_end -= c.count;
            }
        }
        unreachable!("chunk counts add up to len")
    }

    pub(crate) fn get(&self, index: usize) -> Option<&[u8]> {
        let (ci, i) = self.locate(index)?;
        let c = &self.chunks[ci];
        Some(item(&c.data[c.offset_of(i)..]).0)
    }

    /// Replaces element `index`; false when out of range.
    pub(crate) fn set(&mut self, index: usize, v: &[u8]) -> bool {
        let Some((ci, i)) = self.locate(index) else {
            return false;
        };
        let old = std::mem::take(&mut self.chunks[ci]);
        let mut items: Vec<&[u8]> = old.iter().collect();
        items[i] = v;
        self.replace_chunk(ci, &old, &items);
        true
    }

    /// Inserts `v` so that it becomes element `index` (`index == len` appends).
    pub(crate) fn insert(&mut self, index: usize, v: &[u8]) {
        if index >= self.len {
            return self.push_back(v);
        }
        if index == 0 {
            return self.push_front(v);
        }
        let (ci, i) = self.locate(index).expect("index in range");
        let old = std::mem::take(&mut self.chunks[ci]);
        let mut items: Vec<&[u8]> = old.iter().collect();
        items.insert(i, v);
        self.replace_chunk(ci, &old, &items);
        self.len += 1;
    }

    /// Index of the first element equal to `v`.
    pub(crate) fn position(&self, v: &[u8]) -> Option<usize> {
        self.iter().position(|x| x == v)
    }

    /// Removes elements equal to `v`: the first `count` from the head when
    /// `count > 0`, the last `-count` from the tail when negative, all when 0
    /// (Redis `LREM`). Returns how many went.
    pub(crate) fn remove_matching(&mut self, count: i64, v: &[u8]) -> usize {
        let limit = if count == 0 {
            usize::MAX
        } else {
            count.unsigned_abs() as usize
        };
        let mut removed = 0;
        let order: Vec<usize> = if count < 0 {
            (0..self.chunks.len()).rev().collect()
        } else {
            (0..self.chunks.len()).collect()
        };
        for ci in order {
            if removed == limit {
                break;
            }
            let c = &self.chunks[ci];
            let hits = c.iter().filter(|x| *x == v).count();
            if hits == 0 {
                continue;
            }
            let take = hits.min(limit - removed);
            let mut items: Vec<&[u8]> = c.iter().collect();
            let mut left = take;
            if count < 0 {
                for k in (0..items.len()).rev() {
                    if left > 0 && items[k] == v {
                        items.remove(k);
                        left -= 1;
                    }
                }
            } else {
                items.retain(|x| {
                    if left > 0 && *x == v {
                        left -= 1;
                        false
                    } else {
                        true
                    }
                });
            }
            let fresh = Chunk::with(&items);
            self.edit_chunk(ci, |c| *c = fresh);
            removed += take;
        }
        self.len -= removed;
        self.drop_empty_chunks();
        self.merge_small();
        removed
    }

    /// Keeps elements `start..=stop` (already clamped by the caller to
    /// `start <= stop < len`); anything else empties the list.
    pub(crate) fn trim(&mut self, start: usize, stop: usize) {
        if start > stop || start >= self.len {
            *self = PackedList::default();
            return;
        }
        self.trim_chunks(start, stop);
        self.cap = self.chunks.iter().map(|c| c.data.capacity()).sum();
    }

    fn trim_chunks(&mut self, start: usize, stop: usize) {
        let stop = stop.min(self.len - 1);
        // Drop whole chunks before `start` and after `stop`, then cut the ends.
        let mut skip = start;
        while let Some(c) = self.chunks.front() {
            if skip >= c.count {
                skip -= c.count;
                self.chunks.pop_front();
            } else {
                break;
            }
        }
        let keep = stop - start + 1;
        let mut total = 0;
        let mut cut_at = self.chunks.len();
        for (ci, c) in self.chunks.iter().enumerate() {
            let avail = if ci == 0 { c.count - skip } else { c.count };
            if total + avail >= keep {
                cut_at = ci + 1;
                break;
            }
            total += avail;
        }
        self.chunks.truncate(cut_at);
        if let Some(first) = self.chunks.front()
            && skip > 0
        {
            let items: Vec<&[u8]> = first.iter().skip(skip).collect();
            self.chunks[0] = Chunk::with(&items);
        }
        let over = self.chunks.iter().map(|c| c.count).sum::<usize>() - keep;
        if over > 0 {
            let last = self.chunks.back().expect("kept at least one chunk");
            let items: Vec<&[u8]> = last.iter().take(last.count - over).collect();
            *self.chunks.back_mut().expect("last chunk") = Chunk::with(&items);
        }
        self.len = keep;
        self.chunks.retain(|c| c.count > 0);
    }

    fn drop_empty_chunks(&mut self) {
        let mut i = 0;
        while i < self.chunks.len() {
            if self.chunks[i].count == 0 {
                self.remove_chunk(i);
            } else {
                i += 1;
            }
        }
    }

    /// Elements from the head.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.chunks.iter().flat_map(Chunk::iter)
    }

    /// Elements `start..=stop` (clamped by the caller).
    pub(crate) fn range(&self, start: usize, stop: usize) -> impl Iterator<Item = &[u8]> {
        let (first_chunk, skip) = self.locate(start).unwrap_or((self.chunks.len(), 0));
        let n = if start <= stop && start < self.len {
            stop.min(self.len - 1) - start + 1
        } else {
            0
        };
        self.chunks
            .range(first_chunk..)
            .flat_map(Chunk::iter)
            .skip(skip)
            .take(n)
    }

    /// Replaces chunk `ci` (already taken out as `old`) with chunks holding
    /// `items`, split so none grows far past the chunk size.
    fn replace_chunk(&mut self, ci: usize, old: &Chunk, items: &[&[u8]]) {
        let mut parts = Vec::new();
        let mut start = 0;
        let mut size = 0;
        for (k, v) in items.iter().enumerate() {
            let need = varint_len(v.len() as u64) + v.len();
            if size + need > CHUNK_BYTES && k > start {
                parts.push(Chunk::with(&items[start..k]));
                start = k;
                size = 0;
            }
            size += need;
        }
        parts.push(Chunk::with(&items[start..]));
        self.cap -= old.data.capacity();
        self.chunks.remove(ci);
        for (k, c) in parts.into_iter().enumerate() {
            self.insert_chunk(ci + k, c);
        }
    }

    /// Joins neighbouring chunks that together fit one chunk, so removals do
    /// not leave a trail of near-empty chunks.
    fn merge_small(&mut self) {
        let mut i = 0;
        while i + 1 < self.chunks.len() {
            let (a, b) = (&self.chunks[i], &self.chunks[i + 1]);
            if a.data.len() + b.data.len() <= CHUNK_BYTES / 2 {
                let b = self.chunks[i + 1].clone();
                self.remove_chunk(i + 1);
                self.edit_chunk(i, |a| {
                    a.data.extend_from_slice(&b.data);
                    a.count += b.count;
                });
            } else {
                i += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Step {
        PushBack(Vec<u8>),
        PushFront(Vec<u8>),
        PopBack,
        PopFront,
        Set(usize, Vec<u8>),
        Insert(usize, Vec<u8>),
        Rem(i64, Vec<u8>),
        Trim(usize, usize),
    }

    fn val() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            20 => prop::collection::vec(0u8..3, 0..4),
            2 => prop::collection::vec(any::<u8>(), 100..300),
            1 => prop::collection::vec(any::<u8>(), 4000..5000),
        ]
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            6 => val().prop_map(Step::PushBack),
            6 => val().prop_map(Step::PushFront),
            2 => Just(Step::PopBack),
            2 => Just(Step::PopFront),
            2 => (0usize..300, val()).prop_map(|(i, v)| Step::Set(i, v)),
            2 => (0usize..300, val()).prop_map(|(i, v)| Step::Insert(i, v)),
            1 => (-3i64..3, val()).prop_map(|(c, v)| Step::Rem(c, v)),
            1 => (0usize..300, 0usize..300).prop_map(|(a, b)| Step::Trim(a, b)),
        ]
    }

    proptest! {
        #[test]
        fn behaves_like_a_vecdeque(steps in prop::collection::vec(step(), 0..400)) {
            let mut l = PackedList::default();
            let mut m: VecDeque<Vec<u8>> = VecDeque::new();
            for s in steps {
                match s {
                    Step::PushBack(v) => { l.push_back(&v); m.push_back(v); }
                    Step::PushFront(v) => { l.push_front(&v); m.push_front(v); }
                    Step::PopBack => prop_assert_eq!(l.pop_back(), m.pop_back()),
                    Step::PopFront => prop_assert_eq!(l.pop_front(), m.pop_front()),
                    Step::Set(i, v) => {
                        prop_assert_eq!(l.set(i, &v), i < m.len());
                        if i < m.len() { m[i] = v; }
                    }
                    Step::Insert(i, v) => {
                        l.insert(i, &v);
                        let i = i.min(m.len());
                        m.insert(i, v);
                    }
                    Step::Rem(c, v) => {
                        let limit = if c == 0 { usize::MAX } else { c.unsigned_abs() as usize };
                        let mut removed = 0;
                        if c >= 0 {
                            let mut k = 0;
                            while k < m.len() {
                                if removed < limit && m[k] == v { m.remove(k); removed += 1; } else { k += 1; }
                            }
                        } else {
                            let mut k = m.len();
                            while k > 0 {
                                k -= 1;
                                if removed < limit && m[k] == v { m.remove(k); removed += 1; }
                            }
                        }
                        prop_assert_eq!(l.remove_matching(c, &v), removed);
                    }
                    Step::Trim(a, b) => {
                        l.trim(a, b);
                        if a > b || a >= m.len() {
                            m.clear();
                        } else {
                            let b = b.min(m.len() - 1);
                            m = m.into_iter().skip(a).take(b - a + 1).collect();
                        }
                    }
                }
                prop_assert_eq!(l.len(), m.len());
                prop_assert_eq!(l.cap, l.chunks.iter().map(|c| c.data.capacity()).sum::<usize>());
            }
            let got: Vec<Vec<u8>> = l.iter().map(<[u8]>::to_vec).collect();
            let want: Vec<Vec<u8>> = m.iter().cloned().collect();
            prop_assert_eq!(&got, &want);
            for (i, want) in m.iter().enumerate() {
                prop_assert_eq!(l.get(i), Some(&want[..]));
            }
            if !m.is_empty() {
                let (a, b) = (m.len() / 3, m.len() - 1);
                let got: Vec<&[u8]> = l.range(a, b).collect();
                let want: Vec<&[u8]> = m.iter().skip(a).take(b - a + 1).map(|v| &v[..]).collect();
                prop_assert_eq!(got, want);
            }
        }
    }

    #[test]
    fn elements_cost_a_byte_or_two_each() {
        let mut l = PackedList::default();
        for i in 0..100_000u32 {
            l.push_back(format!("job-{i:06}").as_bytes());
        }
        // 10 bytes of content per element; the list must not cost more than ~12.
        assert!(l.memory() < 100_000 * 12, "{} bytes", l.memory());
        assert_eq!(l.get(54_321), Some(&b"job-054321"[..]));
    }
}
