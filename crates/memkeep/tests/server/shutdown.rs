//! Graceful shutdown: SIGTERM under write load exits 0 within the timeout,
//! and every write a client saw acknowledged is there after a restart.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::util::{Resp, Server, encode, tempdir, try_http_request};

/// Writes until the server goes away; returns what was acknowledged.
fn resp_writer(addr: std::net::SocketAddr, id: usize, pipelined: bool) -> BTreeMap<String, String> {
    let mut acked = BTreeMap::new();
    let mut c = Resp::connect(addr);
    let mut i = 0usize;
    loop {
        let depth = if pipelined { 16 } else { 1 };
        let mut batch = Vec::new();
        let mut keys = Vec::new();
        for _ in 0..depth {
            let (k, v) = (format!("w{id}:{i}"), format!("value-{id}-{i}"));
            batch.extend(encode(&[b"SET", k.as_bytes(), v.as_bytes()]));
            keys.push((k, v));
            i += 1;
        }
        if std::io::Write::write_all(&mut c.stream, &batch).is_err() {
            return acked;
        }
        for (k, v) in keys {
            match c.try_reply() {
                Some(r) if r == b"+OK\r\n" => {
                    acked.insert(k, v);
                }
                _ => return acked,
            }
        }
    }
}

fn http_writer(addr: std::net::SocketAddr, stop: &AtomicBool) -> BTreeMap<String, String> {
    let mut acked = BTreeMap::new();
    let mut i = 0;
    while !stop.load(Ordering::Relaxed) {
        let (k, v) = (format!("h:{i}"), format!("http-{i}"));
        match try_http_request(addr, "PUT", &format!("/v1/kv/{k}"), &[], v.as_bytes()) {
            Some((204, _, _)) => {
                acked.insert(k, v);
            }
            _ => return acked,
        }
        i += 1;
    }
    acked
}

fn sigterm_under_load(signal: i32, fsync: &str) {
    let dir = tempdir();
    let server = Server::start(
        dir.path(),
        &["--fsync", fsync, "--shutdown-timeout", "3s"],
        &[],
    );
    let (resp, http) = (server.resp, server.http);
    let acked = Arc::new(Mutex::new(BTreeMap::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for id in 0..6 {
        let acked = acked.clone();
        writers.push(std::thread::spawn(move || {
            let got = resp_writer(resp, id, id % 2 == 0);
            acked.lock().unwrap().extend(got);
        }));
    }
    {
        let (acked, stop) = (acked.clone(), stop.clone());
        writers.push(std::thread::spawn(move || {
            let got = http_writer(http, &stop);
            acked.lock().unwrap().extend(got);
        }));
    }
    // An idle client and a client in the middle of a request must not hold
    // the shutdown up past the timeout.
    let _idle = server.connect();
    let mut partial = server.connect();
    partial.send_raw(b"*3\r\n$3\r\nSET\r\n$7\r\npartial");
    std::thread::sleep(Duration::from_millis(700));
    let started = Instant::now();
    let status = server.signal_and_wait(signal);
    let took = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.join().unwrap();
    }
    assert!(status.success(), "exit status {status:?}");
    // The half-sent request gets a 1 s grace, well inside the 3 s timeout.
    assert!(
        took < Duration::from_millis(2500),
        "shutdown took {took:?} (timeout 3s, grace 1s)"
    );
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() > 100,
        "the load wrote only {} keys before the signal",
        acked.len()
    );

    let server = Server::start(dir.path(), &[], &[]);
    let mut c = server.connect();
    let mut missing = Vec::new();
    for (k, v) in &acked {
        let want = format!("${}\r\n{v}\r\n", v.len());
        if c.text(&["GET", k]) != want {
            missing.push(k.clone());
        }
    }
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged writes lost: {:?}",
        missing.len(),
        acked.len(),
        &missing[..missing.len().min(10)]
    );
    assert_eq!(
        c.text(&["EXISTS", "partial"]),
        ":0\r\n",
        "a half-sent command never ran"
    );
}

#[test]
fn sigterm_under_load_loses_no_acknowledged_write() {
    sigterm_under_load(libc::SIGTERM, "everysec");
}

#[test]
fn sigint_with_fsync_always_loses_no_acknowledged_write() {
    sigterm_under_load(libc::SIGINT, "always");
}

#[test]
fn shutdown_command_stops_the_server_cleanly() {
    let dir = tempdir();
    let mut server = Server::start(dir.path(), &[], &[]);
    let mut c = server.connect();
    assert_eq!(c.text(&["SET", "k", "v"]), "+OK\r\n");
    c.send(&[b"SHUTDOWN"]);
    assert!(
        c.try_reply().is_none(),
        "SHUTDOWN closes without a reply, as in Redis"
    );
    let status = server.wait();
    assert!(status.success());
    let log = server.log_text();
    assert!(log.contains("journal flushed"), "{log}");
    let server = Server::start(dir.path(), &[], &[]);
    assert_eq!(server.connect().text(&["GET", "k"]), "$1\r\nv\r\n");
}

#[test]
fn a_request_in_flight_at_sigterm_is_answered() {
    let dir = tempdir();
    let server = Server::start(dir.path(), &[], &[]);
    let mut c = server.connect();
    // A large pipeline is sent; the signal arrives while it runs.
    let mut batch = Vec::new();
    for i in 0..20_000 {
        batch.extend(encode(&[b"SET", format!("p{i}").as_bytes(), b"v"]));
    }
    let writer = {
        let mut s = c.stream.try_clone().unwrap();
        std::thread::spawn(move || std::io::Write::write_all(&mut s, &batch))
    };
    let first = c.try_reply();
    assert_eq!(first.as_deref(), Some(&b"+OK\r\n"[..]));
    let pid = server.pid();
    // SAFETY: signalling our own child.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let mut answered = 1;
    while let Some(r) = c.try_reply() {
        assert_eq!(r, b"+OK\r\n");
        answered += 1;
    }
    let _ = writer.join();
    let mut server = server;
    let status = server.wait();
    assert!(status.success());
    let server = Server::start(dir.path(), &[], &[]);
    let mut c = server.connect();
    let dbsize: usize = c
        .text(&["DBSIZE"])
        .trim_start_matches(':')
        .trim()
        .parse()
        .unwrap();
    assert!(
        dbsize >= answered,
        "{answered} writes were acknowledged but only {dbsize} keys exist"
    );
}
