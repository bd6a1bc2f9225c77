//! Journal record framing.
//!
//! ```text
//! u32 LE  payload length
//! u32 LE  CRC32C of the four length bytes   (tells a torn tail from a bad length)
//! u32 LE  CRC32C of the payload
//! payload:
//!   u64 LE  sequence number
//!   u64 LE  time, Unix ms
//!   u32 LE  op count
//!   ops     (see `op.rs`)
//! ```

use crate::codec::{DecodeError, Reader};
use crate::op::Op;

pub(crate) const HEADER: usize = 12;
/// Fixed part of a payload: seq, time, op count.
pub(crate) const PAYLOAD_FIXED: usize = 20;
/// Largest payload the engine writes or accepts (1 GiB): larger lengths are damage.
pub const MAX_RECORD_BYTES: u64 = 1 << 30;

/// Starts a record at the end of `buf`; returns where it starts.
pub(crate) fn begin(buf: &mut Vec<u8>, seq: u64, time_ms: u64) -> usize {
    let start = buf.len();
    buf.extend_from_slice(&[0u8; HEADER]);
    buf.extend_from_slice(&seq.to_le_bytes());
    buf.extend_from_slice(&time_ms.to_le_bytes());
    buf.extend_from_slice(&0u32.to_le_bytes());
    start
}

/// Completes the record begun at `start` holding `ops` ops.
pub(crate) fn finish(buf: &mut [u8], start: usize, ops: u32) {
    let payload_start = start + HEADER;
    buf[payload_start + 16..payload_start + 20].copy_from_slice(&ops.to_le_bytes());
    let len = (buf.len() - payload_start) as u32;
    let len_bytes = len.to_le_bytes();
    let payload_crc = crc32c::crc32c(&buf[payload_start..]);
    buf[start..start + 4].copy_from_slice(&len_bytes);
    buf[start + 4..start + 8].copy_from_slice(&crc32c::crc32c(&len_bytes).to_le_bytes());
    buf[start + 8..start + 12].copy_from_slice(&payload_crc.to_le_bytes());
}

/// What the header at the start of `h` (12 bytes) says.
pub(crate) enum HeaderCheck {
    /// A plausible header: the payload length and its CRC.
    Ok { len: u64, payload_crc: u32 },
    /// The length's own checksum fails.
    BadLength,
    /// The length is larger than any record the engine writes.
    TooLong,
}

pub(crate) fn check_header(h: &[u8; HEADER]) -> HeaderCheck {
    let len_bytes: [u8; 4] = h[0..4].try_into().expect("4 bytes");
    let len_crc = u32::from_le_bytes(h[4..8].try_into().expect("4 bytes"));
    if crc32c::crc32c(&len_bytes) != len_crc {
        return HeaderCheck::BadLength;
    }
    let len = u64::from(u32::from_le_bytes(len_bytes));
    if len > MAX_RECORD_BYTES || len < PAYLOAD_FIXED as u64 {
        return HeaderCheck::TooLong;
    }
    HeaderCheck::Ok {
        len,
        payload_crc: u32::from_le_bytes(h[8..12].try_into().expect("4 bytes")),
    }
}

/// A verified record payload.
#[derive(Clone, Copy, Debug)]
pub struct RecordView<'a> {
    pub seq: u64,
    pub time_ms: u64,
    op_count: u32,
    ops: &'a [u8],
}

impl<'a> RecordView<'a> {
    /// Splits a payload whose checksum has been verified.
    pub(crate) fn parse(payload: &'a [u8]) -> Result<RecordView<'a>, DecodeError> {
        let mut r = Reader::new(payload);
        let seq = r.u64()?;
        let time_ms = r.u64()?;
        let op_count = r.u32()?;
        if op_count as usize > r.remaining() {
            return Err(r.err("op count larger than the record"));
        }
        let ops = &payload[r.pos()..];
        Ok(RecordView {
            seq,
            time_ms,
            op_count,
            ops,
        })
    }

    pub fn op_count(&self) -> u32 {
        self.op_count
    }

    /// Decodes every op; the record must hold exactly `op_count` of them.
    pub fn ops(&self) -> Result<Vec<Op<'a>>, DecodeError> {
        let mut r = Reader::new(self.ops);
        let mut out = Vec::with_capacity(self.op_count as usize);
        for _ in 0..self.op_count {
            out.push(Op::decode(&mut r)?);
        }
        if !r.is_empty() {
            return Err(r.err("bytes after the last op"));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_framed_record_checks_out() {
        let mut buf = vec![1, 2, 3];
        let start = begin(&mut buf, 42, 7);
        Op::Del { key: b"k" }.encode(&mut buf);
        finish(&mut buf, start, 1);
        let h: [u8; HEADER] = buf[start..start + HEADER].try_into().unwrap();
        let HeaderCheck::Ok { len, payload_crc } = check_header(&h) else {
            panic!("header must check out");
        };
        let payload = &buf[start + HEADER..];
        assert_eq!(len as usize, payload.len());
        assert_eq!(crc32c::crc32c(payload), payload_crc);
        let r = RecordView::parse(payload).unwrap();
        assert_eq!((r.seq, r.time_ms), (42, 7));
        assert_eq!(r.ops().unwrap(), vec![Op::Del { key: b"k" }]);
    }

    #[test]
    fn a_flipped_length_bit_is_caught_by_the_length_crc() {
        let mut buf = Vec::new();
        let start = begin(&mut buf, 1, 1);
        finish(&mut buf, start, 0);
        for bit in 0..32 {
            let mut h: [u8; HEADER] = buf[..HEADER].try_into().unwrap();
            h[bit / 8] ^= 1 << (bit % 8);
            assert!(
                matches!(check_header(&h), HeaderCheck::BadLength),
                "bit {bit}"
            );
        }
    }
}
