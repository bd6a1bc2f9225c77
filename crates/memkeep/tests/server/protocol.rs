//! The RESP listener spoken to with raw bytes: pipelining, requests split at
//! every byte, oversize bulks, garbage, limits, slow clients.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use crate::util::{Resp, Server, encode, tempdir};

#[test]
fn a_pipeline_of_a_thousand_commands_answers_in_order() {
    let dir = tempdir();
    let server = Server::start(dir.path(), &[], &[]);
    let mut c = server.connect();
    let mut batch = Vec::new();
    for i in 0..1000 {
        batch.extend(encode(&[
            b"SET",
            format!("k{i}").as_bytes(),
            format!("v{i}").as_bytes(),
        ]));
        batch.extend(encode(&[b"GET", format!("k{i}").as_bytes()]));
    }
    c.send_raw(&batch);
    for i in 0..1000 {
        assert_eq!(c.reply().unwrap(), b"+OK\r\n");
        assert_eq!(
            c.reply().unwrap(),
            format!("${}\r\nv{i}\r\n", format!("v{i}").len()).as_bytes()
        );
    }
}

#[test]
fn a_request_split_at_every_byte_gives_the_same_replies() {
    let dir = tempdir();
    let server = Server::start(dir.path(), &[], &[]);
    let mut req = encode(&[b"SET", b"key", b"a value with spaces"]);
    req.extend(encode(&[b"APPEND", b"key", b"!"]));
    req.extend(b"GET key\r\n"); // inline
    let want = {
        let mut c = server.connect();
        c.send_raw(&req);
        let r: Vec<Vec<u8>> = (0..3).map(|_| c.reply().unwrap()).collect();
        assert_eq!(r[2], b"$20\r\na value with spaces!\r\n");
        r
    };
    for cut in 1..req.len() {
        let mut c = server.connect();
        c.send_raw(b"DEL key\r\n");
        assert_eq!(c.reply().unwrap(), b":1\r\n");
        c.send_raw(&req[..cut]);
        c.stream.flush().unwrap();
        std::thread::sleep(Duration::from_millis(2));
        c.send_raw(&req[cut..]);
        let got: Vec<Vec<u8>> = (0..3).map(|_| c.reply().unwrap()).collect();
        assert_eq!(got, want, "split at byte {cut}");
    }
}

#[test]
fn framing_errors_answer_a_protocol_error_and_close() {
    let dir = tempdir();
    let server = Server::start(dir.path(), &["--max-request-size", "1M"], &[]);
    for (bad, msg) in [
        (
            &b"*1\r\n$2000000\r\n"[..],
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*2\r\n$3\r\nGET\r\n+nope\r\n",
            "-ERR Protocol error: expected '$', got '+'\r\n",
        ),
        (
            b"*abc\r\n",
            "-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"SET k \"unclosed\r\n",
            "-ERR Protocol error: unbalanced quotes in request\r\n",
        ),
    ] {
        let mut c = server.connect();
        c.send_raw(b"PING\r\n");
        assert_eq!(c.reply().unwrap(), b"+PONG\r\n");
        c.send_raw(bad);
        assert_eq!(String::from_utf8_lossy(&c.reply().unwrap()), msg);
        assert!(c.closed(), "the connection closes after {msg:?}");
    }
    // A whole command over the request limit is refused the same way.
    let mut c = server.connect();
    let big = vec![b'x'; 600_000];
    c.send(&[b"MSET", b"a", &big, b"b", &big]);
    let r = String::from_utf8_lossy(&c.reply().unwrap()).into_owned();
    assert!(
        r.starts_with("-ERR Protocol error: request larger than"),
        "{r}"
    );
    assert!(c.closed());
}

#[test]
fn a_bad_command_gets_an_error_and_the_connection_stays() {
    let dir = tempdir();
    let server = Server::start(dir.path(), &[], &[]);
    let mut c = server.connect();
    assert_eq!(
        c.text(&["NOSUCH", "a", "b"]),
        "-ERR unknown command 'NOSUCH', with args beginning with: 'a' 'b' \r\n"
    );
    assert_eq!(
        c.text(&["GET"]),
        "-ERR wrong number of arguments for 'get' command\r\n"
    );
    assert_eq!(
        c.text(&["SET", "k", "v", "EX", "0"]),
        "-ERR invalid expire time in 'set' command\r\n"
    );
    c.text(&["RPUSH", "l", "x"]);
    assert_eq!(
        c.text(&["GET", "l"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(c.text(&["PING"]), "+PONG\r\n");
}

#[test]
fn garbage_never_hangs_or_crashes_the_server() {
    let dir = tempdir();
    let server = Server::start(dir.path(), &["--request-timeout", "2s"], &[]);
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for round in 0..60 {
        let mut bytes = Vec::new();
        for _ in 0..(round * 7 % 200 + 1) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            bytes.push(match seed % 5 {
                0 => b'*',
                1 => b'$',
                2 => b'\r',
                3 => b'\n',
                _ => (seed >> 8) as u8,
            });
        }
        let mut c = server.connect();
        c.stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let _ = c.stream.write_all(&bytes);
        let _ = c.stream.shutdown(std::net::Shutdown::Write);
        let started = Instant::now();
        let mut sink = Vec::new();
        let _ = c.stream.read_to_end(&mut sink);
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "round {round}: the server hung on garbage"
        );
    }
    let mut c = server.connect();
    assert_eq!(c.text(&["PING"]), "+PONG\r\n", "the server is still up");
}

#[test]
fn a_slow_client_cannot_pin_a_connection() {
    let dir = tempdir();
    let server = Server::start(dir.path(), &["--request-timeout", "1s"], &[]);
    let mut c = server.connect();
    c.send_raw(b"*3\r\n$3\r\nSET\r\n$1\r\nk");
    let started = Instant::now();
    assert!(c.closed(), "a request left unfinished is dropped");
    assert!(started.elapsed() < Duration::from_secs(4));
    // An idle (not mid-request) client is left alone by default.
    let mut idle = server.connect();
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(idle.text(&["PING"]), "+PONG\r\n");
}

#[test]
fn idle_clients_are_closed_after_the_client_timeout() {
    let dir = tempdir();
    let server = Server::start(dir.path(), &["--client-timeout", "1s"], &[]);
    let mut c = server.connect();
    assert_eq!(c.text(&["PING"]), "+PONG\r\n");
    assert!(c.closed());
}

#[test]
fn connections_beyond_max_clients_are_refused_with_an_error() {
    let dir = tempdir();
    let server = Server::start(dir.path(), &["--max-clients", "2"], &[]);
    let mut a = server.connect();
    let mut b = server.connect();
    assert_eq!(a.text(&["PING"]), "+PONG\r\n");
    assert_eq!(b.text(&["PING"]), "+PONG\r\n");
    let mut c = Resp::connect(server.resp);
    assert_eq!(
        c.reply().unwrap(),
        b"-ERR max number of clients reached\r\n"
    );
    drop(a);
    std::thread::sleep(Duration::from_millis(200));
    let mut d = server.connect();
    assert_eq!(d.text(&["PING"]), "+PONG\r\n", "a freed slot is reused");
}

#[test]
fn quit_says_ok_and_closes() {
    let dir = tempdir();
    let server = Server::start(dir.path(), &[], &[]);
    let mut c = server.connect();
    assert_eq!(c.text(&["QUIT"]), "+OK\r\n");
    assert!(c.closed());
}

#[test]
fn resp3_after_hello_3() {
    let dir = tempdir();
    let server = Server::start(dir.path(), &[], &[]);
    let mut c = server.connect();
    let hello = c.text(&["HELLO", "3"]);
    assert!(
        hello.starts_with("%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n"),
        "{hello}"
    );
    c.text(&["HSET", "h", "f", "v"]);
    assert_eq!(c.text(&["HGETALL", "h"]), "%1\r\n$1\r\nf\r\n$1\r\nv\r\n");
    assert_eq!(c.text(&["GET", "missing"]), "_\r\n");
    c.text(&["ZADD", "z", "1.5", "m"]);
    assert_eq!(c.text(&["ZSCORE", "z", "m"]), ",1.5\r\n");
    assert_eq!(c.text(&["SMEMBERS", "nothing"]), "~0\r\n");
    assert_eq!(
        c.text(&["HELLO", "4"]),
        "-NOPROTO unsupported protocol version\r\n"
    );
}
