//! Differential test: every command of `corpus.redis` goes to a real
//! `redis-server` and to memkeep, and the raw reply bytes must be equal.
//!
//! Corpus lines are commands written as for redis-cli (double quotes,
//! `\xNN`, `\n` escapes). Two prefixes:
//! - `@unordered` — the reply's order is unspecified by Redis (set members,
//!   KEYS): arrays are compared with their elements sorted.
//! - `@differs ID` — a known difference; `docs/compatibility.md` must
//!   explain it under `ID`. Both servers still have to answer.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{Server, encode, reply_len, tempdir};

/// A real redis-server on a Unix socket (no port to collide on).
struct Redis {
    child: Child,
    socket: PathBuf,
}

impl Redis {
    fn start(dir: &Path) -> Redis {
        let socket = dir.join("redis.sock");
        let child = Command::new("redis-server")
            .args([
                "--port",
                "0",
                "--save",
                "",
                "--appendonly",
                "no",
                "--unixsocket",
            ])
            .arg(&socket)
            .arg("--dir")
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is missing: apt-get install redis-server, or run .ci/run");
        let deadline = Instant::now() + Duration::from_secs(20);
        while UnixStream::connect(&socket).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Redis { child, socket }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A connection to either server: send a command, read one raw reply.
struct Conn<S: Read + Write> {
    stream: S,
    buf: Vec<u8>,
}

impl<S: Read + Write> Conn<S> {
    fn call(&mut self, args: &[Vec<u8>]) -> Vec<u8> {
        let refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
        self.stream.write_all(&encode(&refs)).unwrap();
        loop {
            if let Some(n) = reply_len(&self.buf) {
                return self.buf.drain(..n).collect();
            }
            let mut chunk = [0u8; 65536];
            let n = self.stream.read(&mut chunk).expect("read a reply");
            assert!(n > 0, "the server closed the connection");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

/// Splits a line as redis-cli does: spaces separate, double quotes group,
/// backslash escapes inside quotes.
fn split(line: &str) -> Vec<Vec<u8>> {
    let mut args = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let Some(&first) = chars.peek() else {
            return args;
        };
        let mut arg = Vec::new();
        if first == '"' {
            chars.next();
            loop {
                match chars.next().expect("unclosed quote in the corpus") {
                    '"' => break,
                    '\\' => match chars.next().expect("escape") {
                        'n' => arg.push(b'\n'),
                        'r' => arg.push(b'\r'),
                        't' => arg.push(b'\t'),
                        'x' => {
                            let hex: String = [chars.next().unwrap(), chars.next().unwrap()]
                                .iter()
                                .collect();
                            arg.push(u8::from_str_radix(&hex, 16).expect("\\xNN"));
                        }
                        c => arg.extend(c.to_string().bytes()),
                    },
                    c => arg.extend(c.to_string().bytes()),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                arg.extend(c.to_string().bytes());
                chars.next();
            }
        }
        args.push(arg);
    }
}

/// A reply with every array, set and map put in sorted order, at every
/// depth (a map's pairs stay together), for replies whose order Redis
/// leaves unspecified.
fn canonical(reply: &[u8]) -> Vec<u8> {
    let eol = reply.windows(2).position(|w| w == b"\r\n").unwrap();
    if !matches!(reply[0], b'*' | b'~' | b'%') {
        return reply.to_vec();
    }
    let n: usize = std::str::from_utf8(&reply[1..eol])
        .unwrap()
        .parse()
        .unwrap_or(0);
    let per = if reply[0] == b'%' { 2 } else { 1 };
    let mut at = eol + 2;
    let mut items = Vec::new();
    for _ in 0..n {
        let mut item = Vec::new();
        for _ in 0..per {
            let len = reply_len(&reply[at..]).unwrap();
            item.extend(canonical(&reply[at..at + len]));
            at += len;
        }
        items.push(item);
    }
    items.sort();
    let mut out = reply[..eol + 2].to_vec();
    out.extend(items.concat());
    out
}

fn show(b: &[u8]) -> String {
    format!("{:?}", String::from_utf8_lossy(b))
}

#[test]
fn replies_match_a_real_redis_byte_for_byte() {
    let corpus = include_str!("corpus.redis");
    let compat_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/compatibility.md");
    let compat = std::fs::read_to_string(&compat_path).expect("docs/compatibility.md");
    let dir = tempdir();
    let redis = Redis::start(dir.path());
    let memkeep_dir = tempdir();
    let server = Server::start(memkeep_dir.path(), &[], &[]);
    let mut theirs = Conn {
        stream: UnixStream::connect(&redis.socket).unwrap(),
        buf: Vec::new(),
    };
    theirs
        .stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut ours = Conn {
        stream: server.connect().stream,
        buf: Vec::new(),
    };

    let mut commands = 0;
    let mut compared = 0;
    let mut mismatches = Vec::new();
    for (n, raw) in corpus.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (mode, rest) = match line.split_once(' ') {
            Some((m, rest)) if m.starts_with('@') => (m, rest),
            _ => ("", line),
        };
        let (differs, rest) = if mode == "@differs" {
            let (id, rest) = rest.split_once(' ').expect("@differs ID COMMAND");
            assert!(
                compat.contains(&format!("`{id}`")),
                "line {}: @differs {id} is not explained in docs/compatibility.md",
                n + 1
            );
            (true, rest)
        } else {
            (false, rest)
        };
        let args = split(rest);
        commands += 1;
        let (a, b) = (theirs.call(&args), ours.call(&args));
        if differs {
            continue;
        }
        compared += 1;
        let same = match mode {
            "@unordered" => canonical(&a) == canonical(&b),
            "" => a == b,
            other => panic!("line {}: unknown prefix {other}", n + 1),
        };
        if !same {
            mismatches.push(format!(
                "line {}: {rest}\n  redis:   {}\n  memkeep: {}",
                n + 1,
                show(&a),
                show(&b)
            ));
        }
    }
    assert!(commands >= 300, "the corpus has only {commands} commands");
    assert!(
        mismatches.is_empty(),
        "{} of {compared} replies differ:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
