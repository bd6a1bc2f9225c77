//! Numbers stored as strings, parsed and printed the way Redis does.

/// Parses a decimal integer as strictly as Redis (`string2ll`): an optional
/// `-`, no `+`, no spaces, no leading zeros, no `-0`, within `i64`.
pub fn parse_int(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        let d = i64::from(d - b'0');
        v = v.checked_mul(10)?;
        v = if neg {
            v.checked_sub(d)?
        } else {
            v.checked_add(d)?
        };
    }
    Some(v)
}

/// Parses a float as Redis's `INCRBYFLOAT` does: the whole string, no
/// leading space, never NaN (infinities parse; callers reject them).
pub fn parse_float(s: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(s).ok()?;
    if text.is_empty() || text.starts_with(|c: char| c.is_ascii_whitespace()) {
        return None;
    }
    let v: f64 = text.parse().ok()?;
    (!v.is_nan()).then_some(v)
}

/// Prints a float for storage the way Redis's `INCRBYFLOAT` reads to a
/// person: plain decimal, no exponent, no trailing zeros. Values within two
/// units in the last place of a 15-significant-digit decimal print as that
/// decimal (so 0.1 + 0.2 prints `0.3`, as in Redis); others print exactly.
pub fn format_float(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    let magnitude = x.abs().log10().floor() as i32;
    let decimals = (14 - magnitude).clamp(0, 17) as usize;
    let short = trim_zeros(format!("{x:.decimals$}"));
    let ulp = f64::from_bits(x.abs().to_bits() + 1) - x.abs();
    match short.parse::<f64>() {
        Ok(back) if (back - x).abs() <= 2.0 * ulp => short,
        _ => trim_zeros(format!("{x}")),
    }
}

fn trim_zeros(mut s: String) -> String {
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    if s == "-0" { "0".into() } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_parse_like_redis() {
        assert_eq!(parse_int(b"0"), Some(0));
        assert_eq!(parse_int(b"-1"), Some(-1));
        assert_eq!(parse_int(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_int(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b""[..],
            b"-0",
            b"+1",
            b"01",
            b" 1",
            b"1 ",
            b"9223372036854775808",
            b"1.0",
            b"-",
            b"abc",
        ] {
            assert_eq!(parse_int(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn floats_print_like_redis() {
        assert_eq!(format_float(10.5 + 0.1), "10.6");
        assert_eq!(format_float(0.1 + 0.2), "0.3");
        assert_eq!(format_float(3.0), "3");
        assert_eq!(format_float(-0.0), "0");
        assert_eq!(format_float(5.0e3), "5000");
        assert_eq!(format_float(1e21), "1000000000000000000000");
        assert_eq!(format_float(-1.5), "-1.5");
        assert_eq!(format_float(1.0 / 3.0), "0.3333333333333333");
        for x in [1.0 / 3.0, 2.0f64.sqrt(), 123456.789, 1e-5, 7e15] {
            let back: f64 = format_float(x).parse().unwrap();
            assert!(
                (back - x).abs() <= 4.0 * (f64::from_bits(x.to_bits() + 1) - x)
                    || (back - x).abs() / x < 1e-14
            );
        }
        assert_eq!(parse_float(b"1e3"), Some(1000.0));
        assert_eq!(parse_float(b"nan"), None);
        assert_eq!(parse_float(b" 1"), None);
    }
}
