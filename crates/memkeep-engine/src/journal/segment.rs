//! Journal segment files: naming, the header, and a streaming reader that
//! verifies every record and classifies what it finds at the end.
//!
//! Header (48 bytes):
//! ```text
//!  0  [u8; 8]  magic "MEMKEEPJ"
//!  8  u16 LE   format version (1)
//! 10  u16 LE   flags (0)
//! 12  u32 LE   reserved (0)
//! 16  u64 LE   store id
//! 24  u64 LE   first sequence number in this segment
//! 32  u64 LE   created, Unix ms
//! 40  u32 LE   reserved (0)
//! 44  u32 LE   CRC32C of bytes 0..44
//! ```

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::record::{self, HEADER, HeaderCheck, RecordView};
use crate::error::{Error, Result};

pub(crate) const MAGIC: &[u8; 8] = b"MEMKEEPJ";
pub(crate) const VERSION: u16 = 1;
pub(crate) const HEADER_LEN: usize = 48;
pub(crate) const EXTENSION: &str = "wal";

/// What a segment's header says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SegmentHeader {
    pub store_id: u64,
    pub first_seq: u64,
    pub created_ms: u64,
}

impl SegmentHeader {
    pub(crate) fn encode(&self) -> [u8; HEADER_LEN] {
        let mut h = [0u8; HEADER_LEN];
        h[0..8].copy_from_slice(MAGIC);
        h[8..10].copy_from_slice(&VERSION.to_le_bytes());
        h[16..24].copy_from_slice(&self.store_id.to_le_bytes());
        h[24..32].copy_from_slice(&self.first_seq.to_le_bytes());
        h[32..40].copy_from_slice(&self.created_ms.to_le_bytes());
        let crc = crc32c::crc32c(&h[..44]);
        h[44..48].copy_from_slice(&crc.to_le_bytes());
        h
    }

    /// Parses a header, or says what is wrong with it.
    pub(crate) fn decode(h: &[u8; HEADER_LEN]) -> Result<SegmentHeader, String> {
        if &h[0..8] != MAGIC {
            return Err("not a memkeep journal segment (bad magic)".into());
        }
        let crc = u32::from_le_bytes(h[44..48].try_into().expect("4 bytes"));
        if crc32c::crc32c(&h[..44]) != crc {
            return Err("segment header checksum mismatch".into());
        }
        let version = u16::from_le_bytes([h[8], h[9]]);
        if version != VERSION {
            return Err(format!(
                "journal format version {version} is not supported (this build reads version {VERSION})"
            ));
        }
        let u = |r: std::ops::Range<usize>| u64::from_le_bytes(h[r].try_into().expect("8 bytes"));
        Ok(SegmentHeader {
            store_id: u(16..24),
            first_seq: u(24..32),
            created_ms: u(32..40),
        })
    }
}

/// The file name of the segment starting at `first_seq`.
pub(crate) fn file_name(first_seq: u64) -> String {
    format!("{first_seq:020}.{EXTENSION}")
}

/// Segment files in `dir`, sorted by the first sequence number their name
/// gives. Files that are not segments are ignored; a missing dir is empty.
pub(crate) fn list(dir: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(Error::io(dir, e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(stem) = name.strip_suffix(&format!(".{EXTENSION}")) else {
            continue;
        };
        if stem.len() == 20
            && let Ok(seq) = stem.parse::<u64>()
        {
            out.push((seq, entry.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// What the reader found next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// A verified record; see [`SegmentReader::record`].
    Record,
    /// Clean end of file.
    End,
    /// An incomplete last record: what a crash mid-write leaves. Recovery cuts
    /// the file at `offset`.
    Torn { offset: u64, reason: String },
    /// Damage that is not a torn tail.
    Damaged { offset: u64, reason: String },
}

/// Reads a segment record by record, verifying each.
pub struct SegmentReader {
    path: PathBuf,
    file: BufReader<File>,
    file_len: u64,
    /// Offset of the next unread record.
    pos: u64,
    header: SegmentHeader,
    payload: Vec<u8>,
    have_record: bool,
}

impl SegmentReader {
    /// Opens a segment and verifies its header.
    pub fn open(path: &Path) -> Result<SegmentReader> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let file_len = file.metadata().map_err(|e| Error::io(path, e))?.len();
        let mut file = BufReader::with_capacity(256 * 1024, file);
        let mut h = [0u8; HEADER_LEN];
        if file_len < HEADER_LEN as u64 {
            return Err(Error::corrupt(
                path,
                0,
                format!("file is {file_len} bytes, shorter than a segment header"),
            ));
        }
        file.read_exact(&mut h).map_err(|e| Error::io(path, e))?;
        let header = SegmentHeader::decode(&h).map_err(|reason| Error::corrupt(path, 0, reason))?;
        Ok(SegmentReader {
            path: path.to_owned(),
            file,
            file_len,
            pos: HEADER_LEN as u64,
            header,
            payload: Vec::new(),
            have_record: false,
        })
    }

    pub fn header(&self) -> SegmentHeader {
        self.header
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Offset just past the last record returned (where a cut would go).
    pub fn offset(&self) -> u64 {
        self.pos
    }

    pub fn file_len(&self) -> u64 {
        self.file_len
    }

    /// The record found by the last [`next_record`](Self::next_record) that returned `Record`.
    pub fn record(&self) -> Result<RecordView<'_>> {
        assert!(
            self.have_record,
            "record() only after next_record() returned Record"
        );
        RecordView::parse(&self.payload)
            .map_err(|e| Error::corrupt(&self.path, self.pos, format!("record payload: {e}")))
    }

    /// Advances to the next record.
    pub fn next_record(&mut self) -> Result<Next> {
        self.have_record = false;
        let at = self.pos;
        let left = self.file_len - at;
        if left == 0 {
            return Ok(Next::End);
        }
        if left < HEADER as u64 {
            return self.tail(at, "partial record header at the end of the file");
        }
        let mut h = [0u8; HEADER];
        self.read_exact(&mut h)?;
        let (len, payload_crc) = match record::check_header(&h) {
            HeaderCheck::Ok { len, payload_crc } => (len, payload_crc),
            HeaderCheck::BadLength => return self.tail(at, "record length fails its checksum"),
            HeaderCheck::TooLong => return self.damaged(at, "record length out of range"),
        };
        if len > left - HEADER as u64 {
            return Ok(Next::Torn {
                offset: at,
                reason: format!(
                    "last record is cut short: {} of {len} payload bytes present",
                    left - HEADER as u64
                ),
            });
        }
        self.payload.resize(len as usize, 0);
        let mut payload = std::mem::take(&mut self.payload);
        let read = self.read_exact(&mut payload);
        self.payload = payload;
        read?;
        let end = at + HEADER as u64 + len;
        if crc32c::crc32c(&self.payload) != payload_crc {
            // A checksum failure is a torn write only if nothing follows it.
            return if end == self.file_len || self.rest_is_zero(end)? {
                Ok(Next::Torn {
                    offset: at,
                    reason: "last record fails its checksum".into(),
                })
            } else {
                self.damaged(at, "record checksum mismatch")
            };
        }
        self.pos = end;
        self.have_record = true;
        Ok(Next::Record)
    }

    /// A bad record at `at`: torn if only zeros follow, damage otherwise.
    fn tail(&mut self, at: u64, reason: &str) -> Result<Next> {
        if self.rest_is_zero(at)? {
            Ok(Next::Torn {
                offset: at,
                reason: format!("{reason} (zero-filled tail)"),
            })
        } else if self.file_len - at < HEADER as u64 {
            Ok(Next::Torn {
                offset: at,
                reason: reason.into(),
            })
        } else {
            self.damaged(at, reason)
        }
    }

    fn damaged(&self, at: u64, reason: &str) -> Result<Next> {
        Ok(Next::Damaged {
            offset: at,
            reason: reason.into(),
        })
    }

    fn read_exact(&mut self, buf: &mut [u8]) -> Result<()> {
        self.file
            .read_exact(buf)
            .map_err(|e| Error::io(&self.path, e))
    }

    /// Whether every byte from `from` to the end of the file is zero.
    fn rest_is_zero(&mut self, from: u64) -> Result<bool> {
        let path = self.path.clone();
        let io_err = |e| Error::io(&path, e);
        let mut f = File::open(&self.path).map_err(io_err)?;
        f.seek(SeekFrom::Start(from)).map_err(io_err)?;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = f.read(&mut buf).map_err(io_err)?;
            if n == 0 {
                return Ok(true);
            }
            if buf[..n].iter().any(|&b| b != 0) {
                return Ok(false);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips_and_rejects_damage() {
        let h = SegmentHeader {
            store_id: 9,
            first_seq: 1234,
            created_ms: 5678,
        };
        let bytes = h.encode();
        assert_eq!(SegmentHeader::decode(&bytes).unwrap(), h);
        for i in 0..HEADER_LEN {
            let mut b = bytes;
            b[i] ^= 0x40;
            assert!(SegmentHeader::decode(&b).is_err(), "flip at {i}");
        }
    }

    #[test]
    fn names_sort_by_sequence() {
        assert_eq!(file_name(7), "00000000000000000007.wal");
    }
}
