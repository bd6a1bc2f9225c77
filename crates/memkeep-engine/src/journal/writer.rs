//! The active segment: appends, fsyncs and rotation.
//!
//! A new segment is created durably before any record goes into it: its
//! header is written to a temporary file, fsynced, renamed into place, and
//! the directory is fsynced. A segment is sealed by an fsync before the next
//! one starts, so only the newest segment can ever have a torn tail.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::segment::{self, SegmentHeader};
use crate::error::{Error, Result};
use crate::fsutil;

pub(crate) struct SegmentWriter {
    dir: PathBuf,
    path: PathBuf,
    file: Arc<File>,
    header: SegmentHeader,
    len: u64,
}

impl SegmentWriter {
    /// Creates the segment whose first record will be `first_seq`, replacing
    /// an existing file of that name (which the caller knows holds no records).
    pub(crate) fn create(
        dir: &Path,
        store_id: u64,
        first_seq: u64,
        now_ms: u64,
    ) -> Result<SegmentWriter> {
        let header = SegmentHeader {
            store_id,
            first_seq,
            created_ms: now_ms,
        };
        let path = dir.join(segment::file_name(first_seq));
        fsutil::write_durably(&path, &header.encode())?;
        let file = OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        Ok(SegmentWriter {
            dir: dir.to_owned(),
            path,
            file: Arc::new(file),
            header,
            len: segment::HEADER_LEN as u64,
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn first_seq(&self) -> u64 {
        self.header.first_seq
    }

    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// The open file, for an fsync that must not hold the writer's lock.
    pub(crate) fn file(&self) -> Arc<File> {
        Arc::clone(&self.file)
    }

    /// Hands `bytes` (whole records) to the operating system.
    pub(crate) fn append(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        (&*self.file).write_all(bytes)?;
        self.len += bytes.len() as u64;
        Ok(())
    }

    pub(crate) fn sync(&self) -> std::io::Result<()> {
        self.file.sync_data()
    }

    /// Seals this segment (fsync) and starts the next at `next_seq`.
    pub(crate) fn rotate(&mut self, next_seq: u64, now_ms: u64) -> Result<()> {
        self.sync().map_err(|e| Error::io(&self.path, e))?;
        *self = SegmentWriter::create(&self.dir, self.header.store_id, next_seq, now_ms)?;
        Ok(())
    }
}
