//! Write latency with `fsync=always` for 1, 8 and 32 concurrent writers,
//! next to the raw `fdatasync` latency of the same disk. Group commit should
//! make 32 writers cost nearly as little per write as one.
//!
//! Usage: `fsync_latency [WRITES_PER_RUN] [DIR]` (DIR: where to write;
//! default a temp dir on the disk under test).

use std::io::Write;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use memkeep_bench::{key, percentile, value};
use memkeep_engine::{FsyncPolicy, Options, Store};

fn main() {
    let mut args = std::env::args().skip(1);
    let writes: usize = args
        .next()
        .map_or(4000, |s| s.parse().expect("WRITES_PER_RUN"));
    let base = args.next().map(std::path::PathBuf::from);
    let tmp = match &base {
        Some(b) => tempfile::tempdir_in(b),
        None => tempfile::tempdir(),
    }
    .expect("temp dir");

    let raw = raw_fdatasync(&tmp.path().join("raw"), writes);
    let mut out = serde_json::Map::new();
    out.insert("raw_fdatasync".into(), summary(&raw, writes));
    for threads in [1usize, 8, 32] {
        let dir = tmp.path().join(format!("store-{threads}"));
        let store = Store::open(Options::new(&dir).fsync(FsyncPolicy::Always)).expect("open");
        let barrier = Arc::new(Barrier::new(threads));
        let per_thread = writes / threads;
        let started = Instant::now();
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (store, barrier) = (store.clone(), Arc::clone(&barrier));
                std::thread::spawn(move || {
                    barrier.wait();
                    (0..per_thread)
                        .map(|i| {
                            let n = (t * per_thread + i) as u64;
                            let begun = Instant::now();
                            store.set(key(n), value(n)).expect("set");
                            begun.elapsed()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut lat: Vec<Duration> = handles
            .into_iter()
            .flat_map(|h| h.join().expect("writer"))
            .collect();
        let wall = started.elapsed();
        lat.sort();
        let mut s = summary(&lat, lat.len());
        s["writes_per_second"] = serde_json::json!(lat.len() as f64 / wall.as_secs_f64());
        out.insert(format!("always_{threads}_writers"), s);
    }
    println!("{}", serde_json::Value::Object(out));
}

fn summary(sorted: &[Duration], n: usize) -> serde_json::Value {
    serde_json::json!({
        "ops": n,
        "p50_us": percentile(sorted, 50.0).as_secs_f64() * 1e6,
        "p99_us": percentile(sorted, 99.0).as_secs_f64() * 1e6,
    })
}

/// A 100-byte append and `fdatasync`, `n` times: the disk's own cost.
fn raw_fdatasync(path: &std::path::Path, n: usize) -> Vec<Duration> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("raw file");
    let mut lat: Vec<Duration> = (0..n)
        .map(|_| {
            let begun = Instant::now();
            f.write_all(&[b'x'; 100]).expect("write");
            f.sync_data().expect("fdatasync");
            begun.elapsed()
        })
        .collect();
    lat.sort();
    lat
}
