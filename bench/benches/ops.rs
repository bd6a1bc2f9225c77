//! In-process speed of the embedded store (criterion): GET, SET under the
//! `no` and `everysec` fsync policies, HSET, and a 90/10 read/write mix on
//! two threads. Throughput is reported in operations per second.
//!
//! `cargo bench -p memkeep-bench --bench ops`

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use memkeep_bench::{key, value};
use memkeep_engine::{FsyncPolicy, Options, Reads, Store};

/// Keys preloaded before each benchmark: reads hit, writes overwrite.
const KEYS: u64 = 100_000;

fn open(policy: FsyncPolicy) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(Options::new(dir.path()).fsync(policy)).unwrap();
    store
        .batch(|| {
            for i in 0..KEYS {
                store.set(key(i), value(i)).unwrap();
            }
        })
        .unwrap();
    (dir, store)
}

fn single_thread(c: &mut Criterion) {
    let mut g = c.benchmark_group("single-thread");
    g.throughput(Throughput::Elements(1));
    g.measurement_time(Duration::from_secs(5));

    let (_d, store) = open(FsyncPolicy::EverySec);
    let keys: Vec<String> = (0..KEYS).map(key).collect();
    let mut i = 0usize;
    g.bench_function("get", |b| {
        b.iter(|| {
            i = (i + 7919) % keys.len();
            black_box(store.get(&keys[i]).unwrap())
        })
    });
    g.bench_function("hset (one field, 1,000-field hash)", |b| {
        b.iter(|| {
            i = (i + 7919) % keys.len();
            store
                .hset("configs", [(&keys[i % 1000], &keys[i])])
                .unwrap()
        })
    });
    drop(store);

    for policy in [FsyncPolicy::No, FsyncPolicy::EverySec] {
        let (_d, store) = open(policy);
        g.bench_function(format!("set (fsync={policy})"), |b| {
            b.iter(|| {
                i = (i + 7919) % keys.len();
                store.set(&keys[i], value(i as u64)).unwrap()
            })
        });
        g.bench_function(format!("set, 100 per batch (fsync={policy})"), |b| {
            b.iter_custom(|iters| {
                let started = Instant::now();
                let mut left = iters;
                while left > 0 {
                    let n = left.min(100);
                    store
                        .batch(|| {
                            for _ in 0..n {
                                i = (i + 7919) % keys.len();
                                store.set(&keys[i], value(i as u64)).unwrap();
                            }
                        })
                        .unwrap();
                    left -= n;
                }
                started.elapsed()
            })
        });
    }
    g.finish();
}

/// Two threads, each doing 90% GET and 10% SET over the same keys.
fn mixed_two_threads(c: &mut Criterion) {
    let mut g = c.benchmark_group("two-threads");
    g.throughput(Throughput::Elements(1));
    g.measurement_time(Duration::from_secs(5));
    let (_d, store) = open(FsyncPolicy::EverySec);
    let keys: Arc<Vec<String>> = Arc::new((0..KEYS).map(key).collect());
    let seed = Arc::new(AtomicU64::new(1));
    g.bench_function("mixed 90% get / 10% set", |b| {
        b.iter_custom(|iters| {
            let per_thread = iters.div_ceil(2);
            let started = Instant::now();
            let handles: Vec<_> = (0..2)
                .map(|t| {
                    let (store, keys) = (store.clone(), Arc::clone(&keys));
                    let mut x = seed.fetch_add(1, Ordering::Relaxed) * 0x9e37_79b9 + t;
                    std::thread::spawn(move || {
                        for _ in 0..per_thread {
                            x ^= x << 13;
                            x ^= x >> 7;
                            x ^= x << 17;
                            let k = &keys[(x % KEYS) as usize];
                            if x.is_multiple_of(10) {
                                store.set(k, value(x)).unwrap();
                            } else {
                                black_box(store.get(k).unwrap());
                            }
                        }
                    })
                })
                .collect();
            for h in handles {
                h.join().unwrap();
            }
            started.elapsed()
        })
    });
    g.finish();
}

criterion_group!(benches, single_thread, mixed_two_threads);
criterion_main!(benches);
