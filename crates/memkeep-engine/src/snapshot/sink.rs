//! Where a snapshot in progress writes: frames from the snapshot thread and
//! from writers that had to capture a shard before changing it.
//!
//! Writers must not wait on the disk, so their frames go to a queue that the
//! snapshot thread writes out; past [`QUEUE_LIMIT`] bytes a writer writes its
//! frames itself, which bounds the memory a snapshot can take.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use parking_lot::Mutex;

use super::capture::Captured;
use super::format::{self, Footer, SnapshotHeader};
use super::{SnapshotInfo, file_name};
use crate::error::{Error, Result};
use crate::fsutil;

/// Bytes of captured frames that may wait in memory for the snapshot thread.
const QUEUE_LIMIT: usize = 8 << 20;

struct SinkFile {
    out: BufWriter<File>,
    pos: u64,
    frames: u64,
}

pub(crate) struct Sink {
    dir: PathBuf,
    tmp: PathBuf,
    header: SnapshotHeader,
    file: Mutex<SinkFile>,
    queue: Mutex<Vec<Captured>>,
    queued: AtomicUsize,
    keys_per_shard: Vec<AtomicU64>,
    error: Mutex<Option<String>>,
}

impl Sink {
    /// Creates the temporary file and writes the header into its buffer.
    pub(crate) fn create(dir: &Path, header: SnapshotHeader) -> Result<Sink> {
        let tmp = fsutil::tmp_path(&dir.join(file_name(header.seq)));
        let f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)
            .map_err(|e| Error::io(&tmp, e))?;
        let mut out = BufWriter::with_capacity(1 << 20, f);
        out.write_all(&header.encode())
            .map_err(|e| Error::io(&tmp, e))?;
        Ok(Sink {
            dir: dir.to_owned(),
            tmp,
            header,
            file: Mutex::new(SinkFile {
                out,
                pos: format::HEADER_LEN as u64,
                frames: 0,
            }),
            queue: Mutex::new(Vec::new()),
            queued: AtomicUsize::new(0),
            keys_per_shard: (0..header.shard_count).map(|_| AtomicU64::new(0)).collect(),
            error: Mutex::new(None),
        })
    }

    /// Takes a shard's frames. Never fails: a write error is kept and makes
    /// the snapshot fail at [`finish`](Self::finish), not the caller's command.
    pub(crate) fn deliver(&self, c: Captured, from_writer: bool) {
        self.keys_per_shard[c.shard as usize].fetch_add(c.keys, Ordering::Relaxed);
        let bytes = c.bytes();
        if from_writer && self.queued.load(Ordering::Relaxed) + bytes <= QUEUE_LIMIT {
            self.queued.fetch_add(bytes, Ordering::Relaxed);
            self.queue.lock().push(c);
        } else {
            self.write(c);
        }
    }

    /// Writes out the frames writers queued.
    pub(crate) fn drain(&self) {
        let queued = std::mem::take(&mut *self.queue.lock());
        for c in queued {
            self.queued.fetch_sub(c.bytes(), Ordering::Relaxed);
            self.write(c);
        }
    }

    fn write(&self, c: Captured) {
        let mut f = self.file.lock();
        for frame in &c.frames {
            if let Err(e) = f.out.write_all(frame) {
                self.error.lock().get_or_insert_with(|| e.to_string());
                return;
            }
            f.pos += frame.len() as u64;
            f.frames += 1;
        }
    }

    /// Completes the file durably under its final name.
    pub(crate) fn finish(self) -> Result<SnapshotInfo> {
        self.drain();
        if let Some(e) = self.error.lock().take() {
            self.abort();
            return Err(Error::io(&self.tmp, std::io::Error::other(e)));
        }
        let Sink {
            dir,
            tmp,
            header,
            file,
            keys_per_shard,
            ..
        } = self;
        let SinkFile {
            mut out,
            pos,
            frames,
        } = file.into_inner();
        let keys_per_shard: Vec<u64> = keys_per_shard
            .iter()
            .map(|k| k.load(Ordering::Relaxed))
            .collect();
        let keys = keys_per_shard.iter().sum();
        let footer = Footer {
            seq: header.seq,
            keys,
            data_frames: frames,
            keys_per_shard,
        }
        .encode_frame();
        let io = |e| Error::io(&tmp, e);
        let result = (|| {
            out.write_all(&footer).map_err(io)?;
            out.write_all(&format::encode_trailer(pos)).map_err(io)?;
            let f = out.into_inner().map_err(|e| io(e.into_error()))?;
            f.sync_all().map_err(io)?;
            Ok::<_, Error>(())
        })();
        if let Err(e) = result {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        let path = dir.join(file_name(header.seq));
        fsutil::rename_durably(&tmp, &path)?;
        let bytes = pos + footer.len() as u64 + format::TRAILER_LEN as u64;
        Ok(SnapshotInfo {
            path,
            seq: header.seq,
            created_ms: header.created_ms,
            keys,
            bytes,
        })
    }

    /// Gives up: the temporary file is removed.
    pub(crate) fn abort(&self) {
        let _ = std::fs::remove_file(&self.tmp);
    }
}
