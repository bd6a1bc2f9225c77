//! The snapshot file format (see `docs/FORMAT.md` for the diagrams).
//!
//! ```text
//! header (64 bytes) | data frame … | footer frame | trailer (16 bytes)
//! frame   = u32 LE payload length | u32 LE CRC32C(payload) | payload
//! data    = 0x01 | u32 LE shard | u32 LE item count | items
//! footer  = 0x02 | u64 seq | u64 keys | u64 data frames | u32 shards | varint keys per shard…
//! trailer = u64 LE footer offset | u32 LE CRC32C(offset bytes) | "MKSE"
//! ```

use crate::codec::{DecodeError, Reader, put_bytes, put_varint};

pub(crate) const MAGIC: &[u8; 8] = b"MEMKEEPS";
pub(crate) const VERSION: u16 = 1;
pub(crate) const HEADER_LEN: usize = 64;
pub(crate) const TRAILER_LEN: usize = 16;
pub(crate) const TRAILER_MAGIC: &[u8; 4] = b"MKSE";
pub(crate) const FRAME_HEADER: usize = 8;
/// Data frames are cut once their payload passes this size.
pub(crate) const FRAME_TARGET: usize = 1 << 20;
/// Largest frame payload a reader accepts.
pub(crate) const FRAME_MAX: u64 = (1 << 30) + (1 << 20);
pub(crate) const KIND_DATA: u8 = 1;
pub(crate) const KIND_FOOTER: u8 = 2;
pub(crate) const EXTENSION: &str = "snap";

/// What a snapshot's header says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SnapshotHeader {
    pub shard_count: u32,
    pub store_id: u64,
    /// The snapshot holds exactly the effects of records `1..=seq`.
    pub seq: u64,
    pub created_ms: u64,
    pub hash_seed: u64,
}

impl SnapshotHeader {
    pub(crate) fn encode(&self) -> [u8; HEADER_LEN] {
        let mut h = [0u8; HEADER_LEN];
        h[0..8].copy_from_slice(MAGIC);
        h[8..10].copy_from_slice(&VERSION.to_le_bytes());
        h[12..16].copy_from_slice(&self.shard_count.to_le_bytes());
        h[16..24].copy_from_slice(&self.store_id.to_le_bytes());
        h[24..32].copy_from_slice(&self.seq.to_le_bytes());
        h[32..40].copy_from_slice(&self.created_ms.to_le_bytes());
        h[40..48].copy_from_slice(&self.hash_seed.to_le_bytes());
        let crc = crc32c::crc32c(&h[..60]);
        h[60..64].copy_from_slice(&crc.to_le_bytes());
        h
    }

    pub(crate) fn decode(h: &[u8; HEADER_LEN]) -> Result<SnapshotHeader, String> {
        if &h[0..8] != MAGIC {
            return Err("not a memkeep snapshot (bad magic)".into());
        }
        let crc = u32::from_le_bytes(h[60..64].try_into().expect("4 bytes"));
        if crc32c::crc32c(&h[..60]) != crc {
            return Err("snapshot header checksum mismatch".into());
        }
        let version = u16::from_le_bytes([h[8], h[9]]);
        if version != VERSION {
            return Err(format!(
                "snapshot format version {version} is not supported (this build reads version {VERSION})"
            ));
        }
        let u = |r: std::ops::Range<usize>| u64::from_le_bytes(h[r].try_into().expect("8 bytes"));
        let shard_count = u32::from_le_bytes(h[12..16].try_into().expect("4 bytes"));
        if shard_count == 0 || !shard_count.is_power_of_two() || shard_count > 1 << 16 {
            return Err(format!("implausible shard count {shard_count}"));
        }
        Ok(SnapshotHeader {
            shard_count,
            store_id: u(16..24),
            seq: u(24..32),
            created_ms: u(32..40),
            hash_seed: u(40..48),
        })
    }
}

pub(crate) fn encode_trailer(footer_offset: u64) -> [u8; TRAILER_LEN] {
    let mut t = [0u8; TRAILER_LEN];
    let off = footer_offset.to_le_bytes();
    t[0..8].copy_from_slice(&off);
    t[8..12].copy_from_slice(&crc32c::crc32c(&off).to_le_bytes());
    t[12..16].copy_from_slice(TRAILER_MAGIC);
    t
}

pub(crate) fn decode_trailer(t: &[u8; TRAILER_LEN]) -> Result<u64, String> {
    if &t[12..16] != TRAILER_MAGIC {
        return Err("snapshot trailer missing: the file is incomplete".into());
    }
    let off: [u8; 8] = t[0..8].try_into().expect("8 bytes");
    if crc32c::crc32c(&off) != u32::from_le_bytes(t[8..12].try_into().expect("4 bytes")) {
        return Err("snapshot trailer checksum mismatch".into());
    }
    Ok(u64::from_le_bytes(off))
}

/// Prepends the frame header to `payload` (which starts with 8 spare bytes).
pub(crate) fn seal_frame(frame: &mut [u8]) {
    let payload = &frame[FRAME_HEADER..];
    let len = (payload.len() as u32).to_le_bytes();
    let crc = crc32c::crc32c(payload).to_le_bytes();
    frame[0..4].copy_from_slice(&len);
    frame[4..8].copy_from_slice(&crc);
}

/// The footer frame's content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Footer {
    pub(crate) seq: u64,
    pub(crate) keys: u64,
    pub(crate) data_frames: u64,
    pub(crate) keys_per_shard: Vec<u64>,
}

impl Footer {
    pub(crate) fn encode_frame(&self) -> Vec<u8> {
        let mut f = vec![0u8; FRAME_HEADER];
        f.push(KIND_FOOTER);
        f.extend_from_slice(&self.seq.to_le_bytes());
        f.extend_from_slice(&self.keys.to_le_bytes());
        f.extend_from_slice(&self.data_frames.to_le_bytes());
        f.extend_from_slice(&(self.keys_per_shard.len() as u32).to_le_bytes());
        for &n in &self.keys_per_shard {
            put_varint(&mut f, n);
        }
        seal_frame(&mut f);
        f
    }

    pub(crate) fn decode(payload: &[u8]) -> Result<Footer, DecodeError> {
        let mut r = Reader::new(payload);
        if r.u8()? != KIND_FOOTER {
            return Err(r.err("expected the footer frame"));
        }
        let seq = r.u64()?;
        let keys = r.u64()?;
        let data_frames = r.u64()?;
        let shards = r.u32()? as usize;
        if shards > r.remaining() {
            return Err(r.err("shard count larger than the footer"));
        }
        let keys_per_shard = (0..shards)
            .map(|_| r.varint())
            .collect::<Result<Vec<_>, _>>()?;
        if !r.is_empty() {
            return Err(r.err("bytes after the footer"));
        }
        Ok(Footer {
            seq,
            keys,
            data_frames,
            keys_per_shard,
        })
    }
}

/// Item kinds (low bits of the tag).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ItemKind {
    String = 0,
    Hash = 1,
    List = 2,
    Set = 3,
    ZSet = 4,
}

pub(crate) const TAG_TTL: u8 = 0x80;
/// More elements for a collection begun by an earlier item of the same shard.
pub(crate) const TAG_CONTINUE: u8 = 0x40;

/// An item's head; `count` elements follow.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ItemHead<'a> {
    pub(crate) kind: ItemKind,
    pub(crate) cont: bool,
    pub(crate) key: &'a [u8],
    pub(crate) expire_at: Option<u64>,
    pub(crate) count: usize,
}

/// One element of an item.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Elem<'a> {
    Str(&'a [u8]),
    Pair(&'a [u8], &'a [u8]),
    Scored(f64, &'a [u8]),
}

pub(crate) fn put_item_head(
    out: &mut Vec<u8>,
    kind: ItemKind,
    cont: bool,
    key: &[u8],
    expire_at: Option<u64>,
    count: usize,
) {
    let mut tag = kind as u8;
    if cont {
        tag |= TAG_CONTINUE;
    }
    if expire_at.is_some() {
        tag |= TAG_TTL;
    }
    out.push(tag);
    put_bytes(out, key);
    if let Some(t) = expire_at {
        out.extend_from_slice(&t.to_le_bytes());
    }
    if kind != ItemKind::String {
        put_varint(out, count as u64);
    }
}

pub(crate) fn put_elem(out: &mut Vec<u8>, e: Elem<'_>) {
    match e {
        Elem::Str(v) => put_bytes(out, v),
        Elem::Pair(f, v) => {
            put_bytes(out, f);
            put_bytes(out, v);
        }
        Elem::Scored(s, m) => {
            out.extend_from_slice(&s.to_le_bytes());
            put_bytes(out, m);
        }
    }
}

impl<'a> ItemHead<'a> {
    pub(crate) fn decode(r: &mut Reader<'a>) -> Result<ItemHead<'a>, DecodeError> {
        let tag = r.u8()?;
        let kind = match tag & 0x3f {
            0 => ItemKind::String,
            1 => ItemKind::Hash,
            2 => ItemKind::List,
            3 => ItemKind::Set,
            4 => ItemKind::ZSet,
            _ => return Err(r.err("unknown item kind")),
        };
        let cont = tag & TAG_CONTINUE != 0;
        let key = r.bytes()?;
        let expire_at = if tag & TAG_TTL != 0 {
            let t = r.u64()?;
            if t == 0 || cont {
                return Err(r.err("bad expiry on item"));
            }
            Some(t)
        } else {
            None
        };
        let count = if kind == ItemKind::String {
            if cont {
                return Err(r.err("a string cannot continue"));
            }
            1
        } else {
            let n = r.count()?;
            if n == 0 && !cont {
                return Err(r.err("empty collection"));
            }
            n
        };
        Ok(ItemHead {
            kind,
            cont,
            key,
            expire_at,
            count,
        })
    }

    pub(crate) fn elem(&self, r: &mut Reader<'a>) -> Result<Elem<'a>, DecodeError> {
        Ok(match self.kind {
            ItemKind::String | ItemKind::List | ItemKind::Set => Elem::Str(r.bytes()?),
            ItemKind::Hash => Elem::Pair(r.bytes()?, r.bytes()?),
            ItemKind::ZSet => {
                let s = r.f64()?;
                if s.is_nan() {
                    return Err(r.err("NaN score"));
                }
                Elem::Scored(s, r.bytes()?)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_footer_and_trailer_round_trip() {
        let h = SnapshotHeader {
            shard_count: 256,
            store_id: 1,
            seq: 99,
            created_ms: 5,
            hash_seed: 77,
        };
        assert_eq!(SnapshotHeader::decode(&h.encode()).unwrap(), h);
        let f = Footer {
            seq: 99,
            keys: 3,
            data_frames: 2,
            keys_per_shard: vec![1, 2],
        };
        let frame = f.encode_frame();
        assert_eq!(Footer::decode(&frame[FRAME_HEADER..]).unwrap(), f);
        assert_eq!(decode_trailer(&encode_trailer(12345)).unwrap(), 12345);
    }

    #[test]
    fn items_round_trip() {
        let mut out = Vec::new();
        put_item_head(&mut out, ItemKind::ZSet, false, b"z", Some(7), 2);
        put_elem(&mut out, Elem::Scored(1.5, b"a"));
        put_elem(&mut out, Elem::Scored(-2.0, b"b"));
        let mut r = Reader::new(&out);
        let h = ItemHead::decode(&mut r).unwrap();
        assert_eq!(
            (h.key, h.expire_at, h.count, h.cont),
            (&b"z"[..], Some(7), 2, false)
        );
        assert!(matches!(h.elem(&mut r).unwrap(), Elem::Scored(s, b"a") if s == 1.5));
        assert!(matches!(h.elem(&mut r).unwrap(), Elem::Scored(s, b"b") if s == -2.0));
        assert!(r.is_empty());
    }
}
