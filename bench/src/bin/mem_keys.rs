//! Memory of 1,000,000 string keys (`user:%010d`, 64-byte values) held by
//! an embedded memkeep store with the default fsync policy (everysec).
//!
//! Prints one JSON object: RSS before and after loading, `used_memory`,
//! bytes per key. Usage: `mem_keys [KEYS] [DATA_DIR]`.

use memkeep_bench::{key, mb, rss_bytes, value};
use memkeep_engine::{Options, Reads, Store};

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u64 = args
        .next()
        .map_or(1_000_000, |s| s.parse().expect("KEYS must be a number"));
    let tmp;
    let dir = match args.next() {
        Some(d) => std::path::PathBuf::from(d),
        None => {
            tmp = tempfile::tempdir().expect("temp dir");
            tmp.path().to_owned()
        }
    };
    let baseline = rss_bytes();
    let store = Store::open(Options::new(&dir)).expect("open store");
    let opened = rss_bytes();
    let started = std::time::Instant::now();
    store
        .batch(|| {
            for i in 0..n {
                store.set(key(i), value(i)).expect("set");
            }
        })
        .expect("durable");
    let load_secs = started.elapsed().as_secs_f64();
    // Let a background snapshot triggered by the load finish, so what is
    // measured is the resting state.
    std::thread::sleep(std::time::Duration::from_millis(500));
    while store.stats().expect("stats").journal_bytes_since_snapshot > 64 << 20 {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let loaded = rss_bytes();
    let used = store.used_memory();
    println!(
        "{}",
        serde_json::json!({
            "keys": n,
            "rss_baseline_mb": mb(baseline),
            "rss_open_mb": mb(opened),
            "rss_loaded_mb": mb(loaded),
            "used_memory_mb": mb(used),
            "rss_bytes_per_key": (loaded - opened) as f64 / n as f64,
            "used_bytes_per_key": used as f64 / n as f64,
            "load_seconds": load_secs,
            "dbsize": store.dbsize().expect("dbsize"),
        })
    );
}
