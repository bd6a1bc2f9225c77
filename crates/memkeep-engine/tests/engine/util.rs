//! Helpers shared by the engine's integration tests.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use memkeep_engine::{FsyncPolicy, ManualClock, Options, Store, Value};

/// Options for a test store: no background thread (tests drive
/// housekeeping), a manual clock, and a small journal segment size so
/// rotation happens.
pub fn options(dir: &Path, clock: &Arc<ManualClock>) -> Options {
    Options::new(dir)
        .fsync(FsyncPolicy::No)
        .background(false)
        .clock(clock.clone())
        .segment_bytes(64 * 1024)
        .shards(16)
}

pub fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(1_700_000_000_000))
}

/// The whole live state, sorted, for comparing stores. Sets are sorted so
/// storage order does not matter.
pub fn dump(store: &Store) -> BTreeMap<Vec<u8>, (Value, Option<u64>)> {
    let mut out = BTreeMap::new();
    store.for_each_value(|k, v, t| {
        out.insert(k.to_vec(), (normalize(v), t));
    });
    out
}

pub fn normalize(v: Value) -> Value {
    match v {
        Value::Hash(mut p) => {
            p.sort();
            Value::Hash(p)
        }
        Value::Set(mut m) => {
            m.sort();
            Value::Set(m)
        }
        other => other,
    }
}
