//! Byte-level helpers shared by every on-disk and in-memory format:
//! LEB128 varints and a bounds-checked reader that never panics on bad input.

/// Bytes needed to encode `v` as a LEB128 varint.
#[inline]
pub(crate) fn varint_len(v: u64) -> usize {
    // One byte per started group of 7 bits; zero still takes one byte.
    let bits = 64 - (v | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// Appends `v` as a LEB128 varint.
#[inline]
pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Writes `v` as a LEB128 varint at the start of `out`; returns the bytes used.
/// `out` must have room for `varint_len(v)` bytes.
#[inline]
pub(crate) fn write_varint(out: &mut [u8], mut v: u64) -> usize {
    let mut i = 0;
    while v >= 0x80 {
        out[i] = (v as u8) | 0x80;
        v >>= 7;
        i += 1;
    }
    out[i] = v as u8;
    i + 1
}

/// Decodes a varint from the start of `buf`: `(value, bytes used)`, or `None`
/// when the input is cut short or longer than ten bytes.
#[inline(always)]
pub(crate) fn read_varint(buf: &[u8]) -> Option<(u64, usize)> {
    // Lengths under 128 (most keys and small values) take one byte.
    match buf.first() {
        Some(&b) if b < 0x80 => Some((u64::from(b), 1)),
        _ => read_varint_long(buf),
    }
}

#[cold]
#[inline(never)]
fn read_varint_long(buf: &[u8]) -> Option<(u64, usize)> {
    let mut v: u64 = 0;
    for (i, &b) in buf.iter().enumerate().take(10) {
        let part = u64::from(b & 0x7f);
        if i == 9 && part > 1 {
            return None; // would overflow 64 bits
        }
        v |= part << (7 * i);
        if b < 0x80 {
            return Some((v, i + 1));
        }
    }
    None
}

/// Appends a varint length followed by the bytes.
#[inline]
pub(crate) fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// Why a decoder rejected its input; `offset` is relative to the reader's start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    pub offset: usize,
    pub what: &'static str,
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at byte {}", self.what, self.offset)
    }
}

impl std::error::Error for DecodeError {}

/// A cursor over untrusted bytes. Every read is bounds-checked and returns a
/// `DecodeError` instead of panicking.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pos == self.buf.len()
    }

    pub(crate) fn err(&self, what: &'static str) -> DecodeError {
        DecodeError {
            offset: self.pos,
            what,
        }
    }

    pub(crate) fn u8(&mut self) -> Result<u8, DecodeError> {
        let b = *self
            .buf
            .get(self.pos)
            .ok_or_else(|| self.err("unexpected end of data"))?;
        self.pos += 1;
        Ok(b)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    pub(crate) fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    pub(crate) fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    pub(crate) fn f64(&mut self) -> Result<f64, DecodeError> {
        Ok(f64::from_le_bytes(self.array()?))
    }

    pub(crate) fn varint(&mut self) -> Result<u64, DecodeError> {
        let (v, n) = read_varint(&self.buf[self.pos..]).ok_or_else(|| self.err("bad varint"))?;
        self.pos += n;
        Ok(v)
    }

    /// A varint that must fit in `usize` and not exceed what is left to read
    /// (a count of items that each take at least one byte).
    pub(crate) fn count(&mut self) -> Result<usize, DecodeError> {
        let v = self.varint()?;
        if v > self.remaining() as u64 {
            return Err(self.err("count larger than the data"));
        }
        Ok(v as usize)
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.remaining() {
            return Err(self.err("unexpected end of data"));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// A varint length followed by that many bytes.
    pub(crate) fn bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let n = self.varint()?;
        if n > self.remaining() as u64 {
            return Err(self.err("length larger than the data"));
        }
        self.take(n as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_at_every_width() {
        let mut values = vec![0u64, 1, 127, 128, 255, 16383, 16384, u64::MAX];
        values.extend((0..64).map(|s| 1u64 << s));
        values.extend((1..64).map(|s| (1u64 << s) - 1));
        for v in values {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            assert_eq!(out.len(), varint_len(v), "len of {v}");
            assert_eq!(read_varint(&out), Some((v, out.len())), "value {v}");
            let mut fixed = [0u8; 10];
            assert_eq!(write_varint(&mut fixed, v), out.len());
            assert_eq!(&fixed[..out.len()], &out[..]);
        }
    }

    #[test]
    fn varint_rejects_truncation_and_overflow() {
        assert_eq!(read_varint(&[]), None);
        assert_eq!(read_varint(&[0x80]), None);
        assert_eq!(read_varint(&[0xff; 10]), None);
        assert_eq!(
            read_varint(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]),
            None
        );
    }

    #[test]
    fn reader_reports_offsets_instead_of_panicking() {
        let mut r = Reader::new(&[3, b'a', b'b']);
        let e = r.bytes().unwrap_err();
        assert_eq!(e.offset, 1);
        let mut r = Reader::new(&[1, 2]);
        assert_eq!(r.u8().unwrap(), 1);
        assert!(r.u32().is_err());
        let mut r = Reader::new(&[200, 1]);
        assert!(r.count().is_err());
    }
}
