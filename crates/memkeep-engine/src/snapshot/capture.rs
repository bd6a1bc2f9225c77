//! Serialising one shard into snapshot data frames.
//!
//! A capture runs under the shard's lock, so it sees the shard exactly as
//! of the snapshot's sequence number (see `store/snapshot.rs` for why).
//! Large collections are split over several frames with continuation items,
//! so no frame grows far past [`FRAME_TARGET`].

use super::format::{
    Elem, FRAME_HEADER, FRAME_TARGET, ItemKind, KIND_DATA, put_elem, put_item_head, seal_frame,
};
use crate::keyspace::{Object, Shard, Stored};

/// The frames of one shard, ready to write.
pub(crate) struct Captured {
    pub(crate) shard: u32,
    pub(crate) frames: Vec<Vec<u8>>,
    pub(crate) keys: u64,
}

impl Captured {
    pub(crate) fn bytes(&self) -> usize {
        self.frames.iter().map(Vec::len).sum()
    }
}

struct Frames {
    shard: u32,
    done: Vec<Vec<u8>>,
    cur: Vec<u8>,
    items: u32,
    elems: Vec<u8>,
}

/// Offset of the item count in a data frame.
const ITEMS_AT: usize = FRAME_HEADER + 1 + 4;

impl Frames {
    fn new(shard: u32) -> Frames {
        let mut f = Frames {
            shard,
            done: Vec::new(),
            cur: Vec::new(),
            items: 0,
            elems: Vec::new(),
        };
        f.start();
        f
    }

    fn start(&mut self) {
        self.cur = Vec::with_capacity(64 * 1024);
        self.cur.resize(FRAME_HEADER, 0);
        self.cur.push(KIND_DATA);
        self.cur.extend_from_slice(&self.shard.to_le_bytes());
        self.cur.extend_from_slice(&0u32.to_le_bytes());
        self.items = 0;
    }

    fn finish(&mut self) {
        if self.items == 0 {
            return;
        }
        let mut frame = std::mem::take(&mut self.cur);
        frame[ITEMS_AT..ITEMS_AT + 4].copy_from_slice(&self.items.to_le_bytes());
        seal_frame(&mut frame);
        frame.shrink_to_fit();
        self.done.push(frame);
        self.start();
    }

    fn item_done(&mut self) {
        self.items += 1;
        if self.cur.len() >= FRAME_TARGET {
            self.finish();
        }
    }

    fn string(&mut self, key: &[u8], expire_at: Option<u64>, value: &[u8]) {
        put_item_head(&mut self.cur, ItemKind::String, false, key, expire_at, 1);
        put_elem(&mut self.cur, Elem::Str(value));
        self.item_done();
    }

    fn collection<'a>(
        &mut self,
        kind: ItemKind,
        key: &[u8],
        expire_at: Option<u64>,
        elems: impl Iterator<Item = Elem<'a>>,
    ) {
        let mut cont = false;
        let mut n = 0;
        self.elems.clear();
        for e in elems {
            put_elem(&mut self.elems, e);
            n += 1;
            if self.cur.len() + self.elems.len() >= FRAME_TARGET {
                self.flush_item(kind, key, cont, expire_at, n);
                self.finish();
                cont = true;
                n = 0;
            }
        }
        if n > 0 {
            self.flush_item(kind, key, cont, expire_at, n);
        }
    }

    fn flush_item(
        &mut self,
        kind: ItemKind,
        key: &[u8],
        cont: bool,
        expire_at: Option<u64>,
        n: usize,
    ) {
        put_item_head(
            &mut self.cur,
            kind,
            cont,
            key,
            if cont { None } else { expire_at },
            n,
        );
        self.cur.extend_from_slice(&self.elems);
        self.elems.clear();
        self.item_done();
    }
}

/// Serialises every key of `shard` (expired ones too: the snapshot must equal
/// the state the journal continues from).
pub(crate) fn capture(shard: &Shard, idx: u32) -> Captured {
    let mut f = Frames::new(idx);
    let mut keys = 0;
    for e in shard.iter() {
        keys += 1;
        match e.stored {
            Stored::Inline => f.string(e.key, e.expire_at, e.inline),
            _ => match shard.object(e.object) {
                Object::Str(v) => f.string(e.key, e.expire_at, v),
                Object::Hash(m) => f.collection(
                    ItemKind::Hash,
                    e.key,
                    e.expire_at,
                    m.iter().map(|(k, v)| Elem::Pair(k, v)),
                ),
                Object::Set(m) => f.collection(
                    ItemKind::Set,
                    e.key,
                    e.expire_at,
                    m.iter().map(|(k, _)| Elem::Str(k)),
                ),
                Object::List(l) => {
                    f.collection(ItemKind::List, e.key, e.expire_at, l.iter().map(Elem::Str))
                }
                Object::ZSet(z) => f.collection(
                    ItemKind::ZSet,
                    e.key,
                    e.expire_at,
                    z.iter().map(|(m, s)| Elem::Scored(s, m)),
                ),
            },
        }
    }
    f.finish();
    Captured {
        shard: idx,
        frames: f.done,
        keys,
    }
}
