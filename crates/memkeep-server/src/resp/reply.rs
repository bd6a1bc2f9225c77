//! Writing replies in RESP2 or RESP3 (after `HELLO 3`), byte for byte as
//! Redis 7.0 writes them.

/// Which protocol a connection speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    Resp2,
    Resp3,
}

/// A connection's output buffer.
pub struct Out {
    pub buf: Vec<u8>,
    pub proto: Proto,
}

impl Out {
    pub fn new(proto: Proto) -> Out {
        Out {
            buf: Vec::with_capacity(16 * 1024),
            proto,
        }
    }

    pub fn resp3(&self) -> bool {
        self.proto == Proto::Resp3
    }

    pub fn ok(&mut self) {
        self.buf.extend_from_slice(b"+OK\r\n");
    }

    pub fn simple(&mut self, s: &str) {
        self.buf.push(b'+');
        self.buf.extend_from_slice(s.as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }

    /// An error reply; `msg` starts with its code (`ERR`, `WRONGTYPE`, …).
    pub fn error(&mut self, msg: &str) {
        self.buf.push(b'-');
        // A reply line must not contain a newline.
        for &b in msg.as_bytes() {
            self.buf
                .push(if b == b'\r' || b == b'\n' { b' ' } else { b });
        }
        self.buf.extend_from_slice(b"\r\n");
    }

    fn header(&mut self, kind: u8, n: i64) {
        self.buf.push(kind);
        self.buf
            .extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }

    pub fn int(&mut self, n: i64) {
        self.header(b':', n);
    }

    pub fn bulk(&mut self, b: &[u8]) {
        self.header(b'$', b.len() as i64);
        self.buf.extend_from_slice(b);
        self.buf.extend_from_slice(b"\r\n");
    }

    pub fn bulk_opt(&mut self, b: Option<&[u8]>) {
        match b {
            Some(b) => self.bulk(b),
            None => self.null(),
        }
    }

    /// The null reply: `$-1` in RESP2, `_` in RESP3.
    pub fn null(&mut self) {
        if self.resp3() {
            self.buf.extend_from_slice(b"_\r\n");
        } else {
            self.buf.extend_from_slice(b"$-1\r\n");
        }
    }

    /// The null array: `*-1` in RESP2, `_` in RESP3.
    pub fn null_array(&mut self) {
        if self.resp3() {
            self.buf.extend_from_slice(b"_\r\n");
        } else {
            self.buf.extend_from_slice(b"*-1\r\n");
        }
    }

    pub fn array(&mut self, n: usize) {
        self.header(b'*', n as i64);
    }

    /// A map of `n` pairs: `%n` in RESP3, an array of `2n` in RESP2.
    pub fn map(&mut self, n: usize) {
        if self.resp3() {
            self.header(b'%', n as i64);
        } else {
            self.header(b'*', 2 * n as i64);
        }
    }

    /// A set: `~n` in RESP3, an array in RESP2.
    pub fn set(&mut self, n: usize) {
        if self.resp3() {
            self.header(b'~', n as i64);
        } else {
            self.header(b'*', n as i64);
        }
    }

    /// A double: `,x` in RESP3, a bulk string in RESP2 (Redis 7.0 prints
    /// doubles with `%.17g`).
    pub fn double(&mut self, d: f64) {
        let text = format_double(d);
        if self.resp3() {
            self.buf.push(b',');
            self.buf.extend_from_slice(text.as_bytes());
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(text.as_bytes());
        }
    }

    /// Verbatim text (`INFO`): `=n\r\ntxt:…` in RESP3, a bulk string in RESP2.
    pub fn verbatim(&mut self, text: &str) {
        if self.resp3() {
            self.header(b'=', text.len() as i64 + 4);
            self.buf.extend_from_slice(b"txt:");
            self.buf.extend_from_slice(text.as_bytes());
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(text.as_bytes());
        }
    }

    pub fn bulks<'a>(&mut self, items: impl ExactSizeIterator<Item = &'a [u8]>) {
        self.array(items.len());
        for i in items {
            self.bulk(i);
        }
    }
}

/// A double as C's `printf("%.17g")` prints it, with `inf`/`-inf` as Redis
/// writes them.
pub fn format_double(d: f64) -> String {
    if d.is_infinite() {
        return if d > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if d.is_nan() {
        return "nan".into();
    }
    if d == 0.0 {
        return if d.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    const P: i32 = 17;
    // %g: exponent X of the value in %e form with P-1 fraction digits.
    let e_form = format!("{:.*e}", (P - 1) as usize, d);
    let (mantissa, exp) = e_form.split_once('e').expect("exponent form");
    let x: i32 = exp.parse().expect("exponent");
    if (-4..P).contains(&x) {
        // Fixed notation with P - 1 - X decimals, trailing zeros removed.
        let decimals = (P - 1 - x) as usize;
        trim_fraction(format!("{d:.decimals$}"))
    } else {
        let m = trim_fraction(mantissa.to_owned());
        let sign = if x < 0 { '-' } else { '+' };
        format!("{m}e{sign}{:02}", x.abs())
    }
}

fn trim_fraction(mut s: String) -> String {
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_print_like_printf_17g() {
        assert_eq!(format_double(1.5), "1.5");
        assert_eq!(format_double(1.1), "1.1000000000000001");
        assert_eq!(format_double(3.0), "3");
        assert_eq!(format_double(-2.25), "-2.25");
        assert_eq!(format_double(1e20), "1e+20");
        assert_eq!(format_double(1.5e-7), "1.4999999999999999e-07");
        assert_eq!(format_double(0.0001), "0.0001");
        assert_eq!(
            format_double(123456789012345678.0),
            "1.2345678901234568e+17"
        );
        assert_eq!(format_double(f64::INFINITY), "inf");
        assert_eq!(format_double(f64::NEG_INFINITY), "-inf");
    }

    #[test]
    fn replies_in_both_protocols() {
        let mut o = Out::new(Proto::Resp2);
        o.null();
        o.map(1);
        o.double(2.5);
        assert_eq!(o.buf, b"$-1\r\n*2\r\n$3\r\n2.5\r\n");
        let mut o = Out::new(Proto::Resp3);
        o.null();
        o.map(1);
        o.double(2.5);
        o.verbatim("a");
        assert_eq!(o.buf, b"_\r\n%1\r\n,2.5\r\n=5\r\ntxt:a\r\n");
    }
}
