//! The RESP request parser on any bytes: never a panic, ranges inside the
//! buffer, progress on every complete request, and the same answer however
//! the bytes are split (a prefix parses as "incomplete" or exactly as the
//! whole does), which is what a connection reading in pieces relies on.
#![no_main]

use memkeep_server::resp::parse::{Parsed, parse};

/// Parses requests one after another: each result, until incomplete or an error.
fn parse_all(buf: &[u8], max: u64) -> Vec<Result<(usize, Vec<Vec<u8>>), String>> {
    let mut out = Vec::new();
    let mut ranges = Vec::new();
    let mut at = 0;
    while at < buf.len() {
        let rest = &buf[at..];
        match parse(rest, &mut ranges, max, max) {
            Ok(Parsed::Incomplete) => break,
            Ok(Parsed::Empty { used }) => {
                assert!(used > 0 && used <= rest.len());
                out.push(Ok((used, Vec::new())));
                at += used;
            }
            Ok(Parsed::Command { used }) => {
                assert!(used > 0 && used <= rest.len());
                let args = ranges
                    .iter()
                    .map(|r| {
                        assert!(r.start <= r.end && r.end <= used, "{r:?} outside {used}");
                        rest[r.clone()].to_vec()
                    })
                    .collect();
                out.push(Ok((used, args)));
                at += used;
            }
            Ok(Parsed::Inline { used, args }) => {
                assert!(used > 0 && used <= rest.len());
                assert!(!args.is_empty());
                out.push(Ok((used, args)));
                at += used;
            }
            Err(e) => {
                assert!(!e.0.is_empty());
                out.push(Err(e.0));
                break;
            }
        }
    }
    out
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&knob, buf)) = data.split_first() else { return };
    // Small limits too, so the size checks are reached.
    let max = [64, 1024, 1 << 20, 512 << 20][usize::from(knob & 3)];
    let whole = parse_all(buf, max);
    let cut = usize::from(knob >> 2) * buf.len() / 64;
    let prefix = parse_all(&buf[..cut], max);
    // Everything the prefix settled, the whole settles the same way.
    assert!(prefix.len() <= whole.len(), "a prefix parsed more than the whole");
    assert_eq!(prefix[..], whole[..prefix.len()], "cut at {cut}");
});
