//! Snapshots taken while writers run: nothing is lost, and no writer waits
//! for more than a brief moment (a stop-the-world snapshot of this much
//! data would take far longer than the bound asserted here).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use memkeep_engine::{FsyncPolicy, Options, Store};

use crate::util;

/// Generous for a shared 2-core machine; a writer that waited for a whole
/// snapshot would wait 10-100 times longer.
const MAX_STALL: Duration = Duration::from_millis(50);

#[test]
fn snapshots_under_write_load_lose_nothing_and_never_stall_writers() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options::new(dir.path())
        .fsync(FsyncPolicy::No)
        .background(false)
        .snapshot_interval(None);
    let store = Store::open(opts.clone()).unwrap();
    let preload = 1_000_000u32;
    store
        .batch(|| {
            for i in 0..preload {
                store.set(format!("user:{i:010}"), [b'v'; 64]).unwrap();
            }
        })
        .unwrap();

    let started = Instant::now();
    let quiet = store.snapshot().unwrap();
    let full_snapshot = started.elapsed();
    assert!(
        full_snapshot > MAX_STALL * 2,
        "the data set is too small to tell a stall from a snapshot ({full_snapshot:?})"
    );

    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..2u32)
        .map(|t| {
            let (store, stop) = (store.clone(), Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut latencies = Vec::new();
                let mut i = 0u32;
                while !stop.load(Ordering::Relaxed) {
                    let key = format!("user:{:010}", (i * 7919 + t) % preload);
                    let value = format!("{t}-{i}");
                    let begun = Instant::now();
                    if i.is_multiple_of(4) {
                        store
                            .hset(format!("doc:{t}"), [(i.to_string(), &value)])
                            .unwrap();
                    } else {
                        store.set(&key, &value).unwrap();
                    }
                    latencies.push(begun.elapsed());
                    i += 1;
                }
                latencies
            })
        })
        .collect();

    let mut snapshots = Vec::new();
    for _ in 0..3 {
        std::thread::sleep(Duration::from_millis(50));
        snapshots.push(store.snapshot().unwrap());
    }
    stop.store(true, Ordering::Relaxed);
    let mut latencies: Vec<Duration> = writers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    latencies.sort();
    let max = *latencies.last().unwrap();
    let p99 = latencies[latencies.len() * 99 / 100];
    eprintln!(
        "full snapshot of {preload} keys: {full_snapshot:?}; {} writes during 3 snapshots: p99 {p99:?}, max {max:?}",
        latencies.len()
    );
    assert!(snapshots.windows(2).all(|w| w[0].seq < w[1].seq));
    assert!(
        snapshots[0].seq > quiet.seq,
        "writes happened between snapshots"
    );
    assert!(
        max < MAX_STALL,
        "a writer waited {max:?} during a snapshot (bound {MAX_STALL:?})"
    );

    // Nothing lost: the last snapshot plus the journal after it give back
    // exactly the state in memory.
    let before = util::dump(&store);
    drop(store);
    let store = Store::open(opts).unwrap();
    assert_eq!(
        store.open_report().snapshot.as_ref().map(|s| s.seq),
        Some(snapshots[2].seq)
    );
    assert_eq!(util::dump(&store), before);
}
