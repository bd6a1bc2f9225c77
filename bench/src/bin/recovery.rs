//! Recovery time: opening a store that holds 1,000,000 keys
//! (`user:%010d` → 64-byte values) from a snapshot plus journal.
//!
//! Three shapes of the same data: all in a snapshot; half in a snapshot and
//! half in the journal after it; all in the journal. Each is opened several
//! times (files warm in the page cache, as for the Redis RDB load it is
//! compared with) and the median is printed as JSON.
//!
//! Usage: `recovery [KEYS] [RUNS]`

use std::time::{Duration, Instant};

use memkeep_bench::{key, median, value};
use memkeep_engine::{Options, Reads, Store};

fn options(dir: &std::path::Path) -> Options {
    // No background thread: nothing may snapshot behind the benchmark's back.
    Options::new(dir).background(false)
}

fn build(dir: &std::path::Path, n: u64, in_snapshot: u64) {
    let store = Store::open(options(dir)).expect("open");
    store
        .batch(|| {
            for i in 0..in_snapshot {
                store.set(key(i), value(i)).expect("set");
            }
        })
        .expect("durable");
    if in_snapshot > 0 {
        store.snapshot().expect("snapshot");
    }
    store
        .batch(|| {
            for i in in_snapshot..n {
                store.set(key(i), value(i)).expect("set");
            }
        })
        .expect("durable");
    store.close().expect("close");
}

fn time_open(dir: &std::path::Path, n: u64, runs: usize) -> (Duration, u64) {
    let mut samples = Vec::new();
    let mut replayed = 0;
    for _ in 0..runs {
        let started = Instant::now();
        let store = Store::open(options(dir)).expect("reopen");
        samples.push(started.elapsed());
        assert_eq!(store.dbsize().expect("dbsize"), n, "every key is back");
        replayed = store.open_report().records_replayed;
        // Close without leaving a snapshot behind, so every run replays the same.
        drop(store);
    }
    (median(&mut samples), replayed)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u64 = args.next().map_or(1_000_000, |s| s.parse().expect("KEYS"));
    let runs: usize = args.next().map_or(5, |s| s.parse().expect("RUNS"));
    let mut results = serde_json::Map::new();
    for (name, in_snapshot) in [
        ("snapshot_only", n),
        ("half_snapshot_half_journal", n / 2),
        ("journal_only", 0),
    ] {
        let dir = tempfile::tempdir().expect("temp dir");
        build(dir.path(), n, in_snapshot);
        let bytes: u64 = walk_bytes(dir.path());
        let (t, replayed) = time_open(dir.path(), n, runs);
        results.insert(
            name.into(),
            serde_json::json!({
                "keys": n,
                "records_replayed": replayed,
                "data_dir_mb": bytes as f64 / 1e6,
                "median_open_seconds": t.as_secs_f64(),
                "runs": runs,
            }),
        );
    }
    println!("{}", serde_json::Value::Object(results));
}

fn walk_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| {
                    let p = e.path();
                    if p.is_dir() {
                        walk_bytes(&p)
                    } else {
                        e.metadata().map_or(0, |m| m.len())
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}
