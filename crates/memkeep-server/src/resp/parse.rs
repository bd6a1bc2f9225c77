//! Parsing client requests, as Redis 7 does (`processMultibulkBuffer`,
//! `processInlineBuffer`): arrays of bulk strings, or inline commands.
//!
//! The parser never copies: a parsed command is a list of byte ranges into
//! the connection's read buffer. It never panics and never waits for more
//! bytes than a complete request can need; bad framing is a
//! [`ProtocolError`] with Redis's exact text (after which Redis, and we,
//! close the connection).

use std::ops::Range;

/// Longest inline command and longest `*N`/`$N` header line (Redis's
/// `PROTO_INLINE_MAX_SIZE`).
const INLINE_MAX: usize = 64 * 1024;
/// Most arguments in one command (Redis accepts up to `INT_MAX`; a request
/// is bounded by `max_request` anyway, this bounds the argument vector).
const MAX_ARGS: u64 = 1024 * 1024;

/// A framing error: Redis replies `-ERR Protocol error: <text>` and closes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError(pub String);

/// The outcome of trying to parse one request.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// A whole command: argument ranges into the buffer, and bytes used.
    Command { used: usize },
    /// An inline command, its arguments unescaped (so owned).
    Inline { used: usize, args: Vec<Vec<u8>> },
    /// An empty request (`*0\r\n`, `*-1\r\n` or a blank inline line): skip
    /// `used` bytes, nothing to run.
    Empty { used: usize },
    /// More bytes are needed.
    Incomplete,
}

/// Parses the request at the start of `buf`, filling `args` with the
/// argument ranges. `max_bulk` bounds each argument; `max_request` bounds
/// the whole request.
pub fn parse(
    buf: &[u8],
    args: &mut Vec<Range<usize>>,
    max_bulk: u64,
    max_request: u64,
) -> Result<Parsed, ProtocolError> {
    args.clear();
    match buf.first() {
        None => Ok(Parsed::Incomplete),
        Some(b'*') => parse_multibulk(buf, args, max_bulk, max_request),
        Some(_) => parse_inline(buf, args),
    }
}

/// Finds `\r\n` in `buf[from..]`, returning the index of `\r`.
#[inline]
fn find_crlf(buf: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while let Some(i) = memchr_cr(&buf[at..]) {
        let i = at + i;
        if buf.get(i + 1) == Some(&b'\n') {
            return Some(i);
        }
        if i + 1 >= buf.len() {
            return None;
        }
        at = i + 1;
    }
    None
}

#[inline]
fn memchr_cr(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'\r')
}

/// Parses a decimal header number the way Redis's `string2ll` does.
fn header_number(digits: &[u8]) -> Option<i64> {
    memkeep_engine::numbers::parse_int(digits)
}

fn parse_multibulk(
    buf: &[u8],
    args: &mut Vec<Range<usize>>,
    max_bulk: u64,
    max_request: u64,
) -> Result<Parsed, ProtocolError> {
    let Some(eol) = find_crlf(buf, 1) else {
        if buf.len() > INLINE_MAX {
            return Err(ProtocolError("too big mbulk count string".into()));
        }
        return Ok(Parsed::Incomplete);
    };
    let count = match header_number(&buf[1..eol]) {
        Some(n) if n <= i64::from(i32::MAX) => n,
        _ => return Err(ProtocolError("invalid multibulk length".into())),
    };
    let mut at = eol + 2;
    if count <= 0 {
        return Ok(Parsed::Empty { used: at });
    }
    if count as u64 > MAX_ARGS {
        return Err(ProtocolError("invalid multibulk length".into()));
    }
    args.reserve(count as usize);
    for _ in 0..count {
        let Some(&first) = buf.get(at) else {
            return Ok(Parsed::Incomplete);
        };
        if first != b'$' {
            return Err(ProtocolError(format!(
                "expected '$', got '{}'",
                char::from(first)
            )));
        }
        let Some(eol) = find_crlf(buf, at + 1) else {
            if buf.len() - at > INLINE_MAX {
                return Err(ProtocolError("too big bulk count string".into()));
            }
            return Ok(Parsed::Incomplete);
        };
        let len = match header_number(&buf[at + 1..eol]) {
            Some(n) if n >= 0 && (n as u64) <= max_bulk => n as usize,
            _ => return Err(ProtocolError("invalid bulk length".into())),
        };
        let start = eol + 2;
        if (start + len) as u64 > max_request {
            return Err(ProtocolError(format!(
                "request larger than {max_request} bytes (max-request-size)"
            )));
        }
        if buf.len() < start + len + 2 {
            return Ok(Parsed::Incomplete);
        }
        args.push(start..start + len);
        // Like Redis, the two bytes after the payload are skipped unread.
        at = start + len + 2;
    }
    Ok(Parsed::Command { used: at })
}

/// An inline command: a line of arguments separated by spaces, with
/// Redis's quoting rules (`sdssplitargs`: `"…"` with `\n`, `\xHH`… escapes,
/// `'…'` with `\'`). Inline commands are rare (telnet), so their arguments
/// are returned owned.
fn parse_inline(buf: &[u8], args: &mut [Range<usize>]) -> Result<Parsed, ProtocolError> {
    debug_assert!(args.is_empty());
    let Some(nl) = buf.iter().position(|&c| c == b'\n') else {
        if buf.len() > INLINE_MAX {
            return Err(ProtocolError("too big inline request".into()));
        }
        return Ok(Parsed::Incomplete);
    };
    let used = nl + 1;
    let line_end = if nl > 0 && buf[nl - 1] == b'\r' {
        nl - 1
    } else {
        nl
    };
    let words = split_args(&buf[..line_end])
        .ok_or_else(|| ProtocolError("unbalanced quotes in request".into()))?;
    if words.is_empty() {
        return Ok(Parsed::Empty { used });
    }
    Ok(Parsed::Inline { used, args: words })
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Redis's `sdssplitargs`; `None` for unbalanced quotes.
fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        while i < line.len() && line[i].is_ascii_whitespace() {
            i += 1;
        }
        if i == line.len() {
            return Some(out);
        }
        let mut cur = Vec::new();
        let (mut in_dq, mut in_sq) = (false, false);
        loop {
            if in_dq {
                let c = *line.get(i)?;
                if c == b'\\'
                    && i + 3 < line.len()
                    && line[i + 1] == b'x'
                    && let (Some(h), Some(l)) = (hex(line[i + 2]), hex(line[i + 3]))
                {
                    cur.push(h * 16 + l);
                    i += 4;
                    continue;
                }
                if c == b'\\' && i + 1 < line.len() {
                    cur.push(match line[i + 1] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        other => other,
                    });
                    i += 2;
                } else if c == b'"' {
                    // The closing quote must be followed by a space or nothing.
                    if line.get(i + 1).is_some_and(|c| !c.is_ascii_whitespace()) {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                    i += 1;
                }
            } else if in_sq {
                let c = *line.get(i)?;
                if c == b'\\' && line.get(i + 1) == Some(&b'\'') {
                    cur.push(b'\'');
                    i += 2;
                } else if c == b'\'' {
                    if line.get(i + 1).is_some_and(|c| !c.is_ascii_whitespace()) {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                    i += 1;
                }
            } else {
                match line.get(i) {
                    None => break,
                    Some(c) if c.is_ascii_whitespace() => break,
                    Some(b'"') => in_dq = true,
                    Some(b'\'') => in_sq = true,
                    Some(&c) => cur.push(c),
                }
                i += 1;
            }
        }
        out.push(cur);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(input: &[u8]) -> Result<(Parsed, Vec<Vec<u8>>), ProtocolError> {
        let mut args = Vec::new();
        let p = parse(input, &mut args, 512 << 20, 1 << 30)?;
        let owned = args.iter().map(|r| input[r.clone()].to_vec()).collect();
        Ok((p, owned))
    }

    #[test]
    fn multibulk_commands_parse_and_report_their_length() {
        let (p, a) = run(b"*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n*1").unwrap();
        assert_eq!(p, Parsed::Command { used: 22 });
        assert_eq!(a, vec![b"GET".to_vec(), b"key".to_vec()]);
        assert_eq!(run(b"*0\r\n").unwrap().0, Parsed::Empty { used: 4 });
        assert_eq!(run(b"*-1\r\n").unwrap().0, Parsed::Empty { used: 5 });
    }

    #[test]
    fn every_prefix_of_a_request_is_incomplete() {
        let req = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n";
        for cut in 0..req.len() {
            assert_eq!(
                run(&req[..cut]).unwrap().0,
                Parsed::Incomplete,
                "cut at {cut}"
            );
        }
        assert_eq!(run(req).unwrap().0, Parsed::Command { used: req.len() });
    }

    #[test]
    fn framing_errors_use_redis_wording() {
        let err = |b: &[u8]| run(b).unwrap_err().0;
        assert_eq!(err(b"*x\r\n"), "invalid multibulk length");
        assert_eq!(err(b"*1\r\n+OK\r\n"), "expected '$', got '+'");
        assert_eq!(err(b"*1\r\n$-1\r\n"), "invalid bulk length");
        assert_eq!(err(b"*1\r\n$abc\r\n"), "invalid bulk length");
        assert_eq!(err(&[b'*'; 70_000]), "too big mbulk count string");
        let mut args = Vec::new();
        assert_eq!(
            parse(b"*1\r\n$100\r\n", &mut args, 10, 1 << 20)
                .unwrap_err()
                .0,
            "invalid bulk length"
        );
    }

    #[test]
    fn inline_commands_split_like_redis() {
        let owned = |b: &[u8]| match run(b).unwrap().0 {
            Parsed::Inline { args, .. } => args,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            owned(b"SET  k v\r\n"),
            vec![b"SET".to_vec(), b"k".to_vec(), b"v".to_vec()]
        );
        assert_eq!(owned(b"SET k \"a b\\n\\x41\"\n")[2], b"a b\nA".to_vec());
        assert_eq!(owned(b"SET k 'it\\'s'\n")[2], b"it's".to_vec());
        assert_eq!(run(b"\r\n").unwrap().0, Parsed::Empty { used: 2 });
        assert_eq!(
            run(b"SET k \"v\n").unwrap_err().0,
            "unbalanced quotes in request"
        );
        assert_eq!(
            run(b"SET k \"v\"x\n").unwrap_err().0,
            "unbalanced quotes in request"
        );
    }
}
