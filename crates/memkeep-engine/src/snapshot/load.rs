//! Reading snapshots: verification of every byte, and loading into shards
//! on several threads (one frame stream, shards split among workers).

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use super::format::{
    self, Elem, FRAME_HEADER, FRAME_MAX, Footer, HEADER_LEN, ItemHead, ItemKind, KIND_DATA,
    SnapshotHeader, TRAILER_LEN,
};
use crate::codec::{DecodeError, Reader};
use crate::error::{Error, Result};
use crate::keyspace::{KeyHasher, NewValue, Object, Shard, Stored};
use crate::mem::packed_list::PackedList;
use crate::mem::packed_map::PackedMap;
use crate::mem::zset::ZSet;

/// A snapshot's verified header and footer.
pub(crate) struct Verified {
    pub(crate) header: SnapshotHeader,
    pub(crate) footer: Footer,
    pub(crate) bytes: u64,
}

/// The frame stream of a snapshot whose header, footer and trailer check out.
struct FrameStream {
    path: PathBuf,
    file: BufReader<File>,
    pos: u64,
    end: u64,
    frames: u64,
}

fn corrupt(path: &Path, offset: u64, reason: impl Into<String>) -> Error {
    Error::corrupt(path, offset, reason)
}

fn open(path: &Path) -> Result<(Verified, FrameStream)> {
    let io = |e| Error::io(path, e);
    let mut file = File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    if len < (HEADER_LEN + FRAME_HEADER + TRAILER_LEN) as u64 {
        return Err(corrupt(
            path,
            0,
            format!("file is {len} bytes, too short to be a snapshot"),
        ));
    }
    let mut h = [0u8; HEADER_LEN];
    file.read_exact(&mut h).map_err(io)?;
    let header = SnapshotHeader::decode(&h).map_err(|r| corrupt(path, 0, r))?;
    let trailer_at = len - TRAILER_LEN as u64;
    file.seek(SeekFrom::Start(trailer_at)).map_err(io)?;
    let mut t = [0u8; TRAILER_LEN];
    file.read_exact(&mut t).map_err(io)?;
    let footer_at = format::decode_trailer(&t).map_err(|r| corrupt(path, trailer_at, r))?;
    if footer_at < HEADER_LEN as u64 || footer_at + FRAME_HEADER as u64 > trailer_at {
        return Err(corrupt(path, trailer_at, "footer offset out of range"));
    }
    file.seek(SeekFrom::Start(footer_at)).map_err(io)?;
    let mut fh = [0u8; FRAME_HEADER];
    file.read_exact(&mut fh).map_err(io)?;
    let flen = u64::from(u32::from_le_bytes(fh[0..4].try_into().expect("4 bytes")));
    if footer_at + FRAME_HEADER as u64 + flen != trailer_at {
        return Err(corrupt(
            path,
            footer_at,
            "footer frame does not end at the trailer",
        ));
    }
    let mut payload = vec![0u8; flen as usize];
    file.read_exact(&mut payload).map_err(io)?;
    if crc32c::crc32c(&payload) != u32::from_le_bytes(fh[4..8].try_into().expect("4 bytes")) {
        return Err(corrupt(path, footer_at, "footer checksum mismatch"));
    }
    let footer = Footer::decode(&payload)
        .map_err(|e| corrupt(path, footer_at + 8 + e.offset as u64, e.what))?;
    if footer.seq != header.seq {
        return Err(corrupt(
            path,
            footer_at,
            "footer and header disagree on the sequence number",
        ));
    }
    if footer.keys_per_shard.len() != header.shard_count as usize
        || footer.keys_per_shard.iter().sum::<u64>() != footer.keys
    {
        return Err(corrupt(path, footer_at, "footer key counts do not add up"));
    }
    file.seek(SeekFrom::Start(HEADER_LEN as u64)).map_err(io)?;
    let stream = FrameStream {
        path: path.to_owned(),
        file: BufReader::with_capacity(1 << 20, file),
        pos: HEADER_LEN as u64,
        end: footer_at,
        frames: 0,
    };
    Ok((
        Verified {
            header,
            footer,
            bytes: len,
        },
        stream,
    ))
}

impl FrameStream {
    /// The next data frame: its offset, shard and payload (after the shard).
    fn next(&mut self, shard_count: u32) -> Result<Option<(u64, u32, Vec<u8>)>> {
        if self.pos == self.end {
            return Ok(None);
        }
        let at = self.pos;
        let io = |e| Error::io(&self.path, e);
        if self.end - at < FRAME_HEADER as u64 {
            return Err(corrupt(&self.path, at, "partial frame before the footer"));
        }
        let mut fh = [0u8; FRAME_HEADER];
        self.file.read_exact(&mut fh).map_err(io)?;
        let len = u64::from(u32::from_le_bytes(fh[0..4].try_into().expect("4 bytes")));
        if len > FRAME_MAX || len > self.end - at - FRAME_HEADER as u64 || len < 9 {
            return Err(corrupt(&self.path, at, "frame length out of range"));
        }
        let mut payload = vec![0u8; len as usize];
        self.file
            .read_exact(&mut payload)
            .map_err(|e| Error::io(&self.path, e))?;
        if crc32c::crc32c(&payload) != u32::from_le_bytes(fh[4..8].try_into().expect("4 bytes")) {
            return Err(corrupt(&self.path, at, "frame checksum mismatch"));
        }
        if payload[0] != KIND_DATA {
            return Err(corrupt(&self.path, at, "expected a data frame"));
        }
        let shard = u32::from_le_bytes(payload[1..5].try_into().expect("4 bytes"));
        if shard >= shard_count {
            return Err(corrupt(
                &self.path,
                at,
                "frame names a shard beyond the shard count",
            ));
        }
        self.pos = at + FRAME_HEADER as u64 + len;
        self.frames += 1;
        Ok(Some((at, shard, payload)))
    }
}

/// Where a frame's decode error points in the file.
fn frame_err(path: &Path, frame_at: u64, e: DecodeError) -> Error {
    corrupt(
        path,
        frame_at + FRAME_HEADER as u64 + e.offset as u64,
        e.what,
    )
}

/// Checks every frame and item of a snapshot without building any state.
pub(crate) fn verify(path: &Path) -> Result<Verified> {
    let (v, mut frames) = open(path)?;
    let mut keys = 0u64;
    while let Some((at, _, payload)) = frames.next(v.header.shard_count)? {
        keys += for_each_item(&payload, |_, _| Ok(())).map_err(|e| frame_err(path, at, e))?;
    }
    check_counts(path, &v, frames.frames, keys)?;
    Ok(v)
}

fn check_counts(path: &Path, v: &Verified, frames: u64, keys: u64) -> Result<()> {
    if frames != v.footer.data_frames || keys != v.footer.keys {
        return Err(corrupt(
            path,
            v.bytes - TRAILER_LEN as u64,
            format!(
                "footer promises {} frames and {} keys, file holds {frames} and {keys}",
                v.footer.data_frames, v.footer.keys
            ),
        ));
    }
    Ok(())
}

/// Decodes the items of a data frame payload, calling `f` for each head and
/// its elements; returns the number of keys begun (non-continuation items).
pub(crate) fn for_each_item<'a>(
    payload: &'a [u8],
    mut f: impl FnMut(
        ItemHead<'a>,
        &mut dyn FnMut() -> Result<Elem<'a>, DecodeError>,
    ) -> Result<(), DecodeError>,
) -> Result<u64, DecodeError> {
    let mut r = Reader::new(payload);
    r.take(5)?; // kind and shard, checked by the stream
    let items = r.u32()?;
    if items as usize > r.remaining() {
        return Err(r.err("item count larger than the frame"));
    }
    let mut keys = 0;
    for _ in 0..items {
        let head = ItemHead::decode(&mut r)?;
        if !head.cont {
            keys += 1;
        }
        let mut taken = 0;
        {
            let r = &mut r;
            let mut next = || {
                if taken == head.count {
                    return Err(r.err("element beyond the item's count"));
                }
                taken += 1;
                head.elem(r)
            };
            f(head, &mut next)?;
        }
        // Elements the visitor did not take are still read and checked.
        for _ in taken..head.count {
            head.elem(&mut r)?;
        }
    }
    if !r.is_empty() {
        return Err(r.err("bytes after the last item"));
    }
    Ok(keys)
}

/// Shards split among loader threads: worker w's list holds shard i at
/// index i when `i % workers == w`.
type Owned = Vec<Vec<Option<Shard>>>;

/// What loading produced.
pub(crate) struct Loaded {
    pub(crate) verified: Verified,
    pub(crate) shards: Vec<Shard>,
}

/// Loads a snapshot into `shard_count` new shards, on `workers` threads.
pub(crate) fn load(path: &Path, shard_count: usize, workers: usize) -> Result<Loaded> {
    let (v, mut frames) = open(path)?;
    let hasher = KeyHasher::new(v.header.hash_seed);
    let same_layout = v.header.shard_count as usize == shard_count;
    let workers = if same_layout {
        workers.clamp(1, shard_count)
    } else {
        1
    };
    let mut shards: Vec<Option<Shard>> =
        (0..shard_count).map(|_| Some(Shard::new(hasher))).collect();
    if same_layout {
        for (s, &n) in shards.iter_mut().zip(&v.footer.keys_per_shard) {
            s.as_mut().expect("fresh").reserve(n as usize);
        }
    }
    // Split the shards among workers: worker w owns shards with index % workers == w.
    let mut owned: Owned = (0..workers)
        .map(|_| (0..shard_count).map(|_| None).collect())
        .collect();
    for (i, s) in shards.iter_mut().enumerate() {
        owned[i % workers][i] = s.take();
    }
    let shard_count_file = v.header.shard_count;
    let (keys, frame_count, owned) = std::thread::scope(|scope| -> Result<(u64, u64, Owned)> {
        let mut senders = Vec::new();
        let mut handles = Vec::new();
        for mut mine in owned {
            let (tx, rx) = mpsc::sync_channel::<(u64, Vec<u8>)>(4);
            senders.push(tx);
            handles.push(scope.spawn(move || -> Result<(u64, Vec<Option<Shard>>)> {
                let mut keys = 0;
                for (at, payload) in rx {
                    keys += apply_frame(&payload, hasher, &mut mine, same_layout)
                        .map_err(|e| frame_err(path, at, e))?;
                }
                Ok((keys, mine))
            }));
        }
        let mut read_result = Ok(());
        loop {
            match frames.next(shard_count_file) {
                Ok(Some((at, shard, payload))) => {
                    let w = if same_layout {
                        shard as usize % workers
                    } else {
                        0
                    };
                    if senders[w].send((at, payload)).is_err() {
                        break; // the worker failed; its error is collected below
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    read_result = Err(e);
                    break;
                }
            }
        }
        drop(senders);
        let mut keys = 0;
        let mut out = Vec::new();
        for h in handles {
            let (k, mine) = h.join().expect("snapshot loader thread panicked")?;
            keys += k;
            out.push(mine);
        }
        read_result?;
        Ok((keys, frames.frames, out))
    })?;
    check_counts(path, &v, frame_count, keys)?;
    let mut shards: Vec<Shard> = Vec::with_capacity(shard_count);
    let mut owned = owned;
    for i in 0..shard_count {
        shards.push(
            owned[i % workers][i]
                .take()
                .expect("every shard has an owner"),
        );
    }
    Ok(Loaded {
        verified: v,
        shards,
    })
}

/// Inserts one frame's items; returns the keys begun.
fn apply_frame(
    payload: &[u8],
    hasher: KeyHasher,
    shards: &mut [Option<Shard>],
    same_layout: bool,
) -> Result<u64, DecodeError> {
    let frame_shard = u32::from_le_bytes(payload[1..5].try_into().expect("4 bytes")) as usize;
    let count = shards.len();
    for_each_item(payload, |head, next| {
        let h = hasher.hash(head.key);
        let idx = KeyHasher::shard_of(h, count);
        if same_layout && idx != frame_shard {
            return Err(DecodeError {
                offset: 0,
                what: "key stored in the wrong shard",
            });
        }
        let shard = shards[idx]
            .as_mut()
            .expect("frames go to the shard's owner");
        let kind = match head.kind {
            ItemKind::String => Stored::Inline,
            ItemKind::Hash => Stored::Hash,
            ItemKind::List => Stored::List,
            ItemKind::Set => Stored::Set,
            ItemKind::ZSet => Stored::ZSet,
        };
        if head.cont {
            let e = shard
                .get(h, head.key)
                .filter(|e| e.stored == kind)
                .ok_or(DecodeError {
                    offset: 0,
                    what: "continuation of an unknown collection",
                })?;
            let idx = e.object;
            let mut err = None;
            shard.with_object(idx, |o| {
                for _ in 0..head.count {
                    match next() {
                        Ok(el) => add_elem(o, el),
                        Err(e) => {
                            err = Some(e);
                            break;
                        }
                    }
                }
            });
            return err.map_or(Ok(()), Err);
        }
        if shard.get(h, head.key).is_some() {
            return Err(DecodeError {
                offset: 0,
                what: "key appears twice",
            });
        }
        let value = if kind == Stored::Inline {
            let Elem::Str(v) = next()? else {
                unreachable!("strings hold one element")
            };
            NewValue::Str(v)
        } else {
            let mut o = match kind {
                Stored::Hash => Object::Hash(PackedMap::default()),
                Stored::Set => Object::Set(PackedMap::default()),
                Stored::List => Object::List(Box::<PackedList>::default()),
                _ => Object::ZSet(Box::<ZSet>::default()),
            };
            for _ in 0..head.count {
                add_elem(&mut o, next()?);
            }
            NewValue::Object(o)
        };
        shard.insert(h, head.key, value, head.expire_at);
        Ok(())
    })
}

fn add_elem(o: &mut Object, e: Elem<'_>) {
    match (o, e) {
        (Object::Hash(m), Elem::Pair(f, v)) => {
            m.insert(f, v);
        }
        (Object::Set(m), Elem::Str(v)) => {
            m.insert(v, b"");
        }
        (Object::List(l), Elem::Str(v)) => l.push_back(v),
        (Object::ZSet(z), Elem::Scored(s, m)) => {
            z.insert(m, s);
        }
        _ => unreachable!("element shape follows the item kind"),
    }
}
