//! Reopening: snapshot + journal reproduce the state; snapshots delete the
//! journal they cover; the replicator-facing API sees sealed segments.

use std::fs;

use memkeep_engine::{Error, Options, Reads, Store};

use crate::util;

fn wal_count(dir: &std::path::Path) -> usize {
    fs::read_dir(dir.join("journal"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "wal")
        })
        .count()
}

#[test]
fn state_survives_reopen_from_journal_then_from_snapshot_plus_journal() {
    let dir = tempfile::tempdir().unwrap();
    let clock = util::clock();
    let opts = util::options(dir.path(), &clock);
    let store = Store::open(opts.clone()).unwrap();
    for i in 0..2000u32 {
        store.set(format!("user:{i}"), i.to_string()).unwrap();
        store
            .hset("configs", [(i.to_string(), format!("{{\"n\":{i}}}"))])
            .unwrap();
    }
    let before = util::dump(&store);
    drop(store);

    let store = Store::open(opts.clone()).unwrap();
    assert_eq!(util::dump(&store), before);
    assert_eq!(store.open_report().records_replayed, 4000);
    assert!(store.open_report().snapshot.is_none());

    let snap = store.snapshot().unwrap();
    assert_eq!(snap.seq, 4000);
    assert_eq!(snap.keys, 2001);
    for i in 0..100u32 {
        store.del(&[format!("user:{i}")]).unwrap();
    }
    let after = util::dump(&store);
    drop(store);

    let store = Store::open(opts).unwrap();
    let report = store.open_report();
    assert_eq!(report.snapshot.as_ref().map(|s| s.seq), Some(4000));
    assert_eq!(report.records_replayed, 100);
    assert_eq!(util::dump(&store), after);
}

#[test]
fn a_snapshot_deletes_the_journal_it_covers_unless_retained() {
    let dir = tempfile::tempdir().unwrap();
    let clock = util::clock();
    let store = Store::open(util::options(dir.path(), &clock).segment_bytes(4096)).unwrap();
    for i in 0..1000 {
        store.set(format!("k{i}"), "value-value-value").unwrap();
    }
    assert!(wal_count(dir.path()) > 5);
    store.retain_journal_from(Some(500));
    store.snapshot().unwrap();
    let kept = store.journal_segments().unwrap();
    assert!(
        kept.len() > 1,
        "segments holding records from 500 on are kept"
    );
    assert!(
        kept[0].first_seq <= 500,
        "the segment holding record 500 is kept"
    );
    store.retain_journal_from(None);
    store.set("one more", "x").unwrap();
    store.snapshot().unwrap();
    assert_eq!(wal_count(dir.path()), 1, "only the active segment remains");
    assert_eq!(
        fs::read_dir(dir.path().join("snapshots")).unwrap().count(),
        1,
        "older snapshots are deleted"
    );
}

#[test]
fn seal_segment_hands_a_replicator_complete_files() {
    let dir = tempfile::tempdir().unwrap();
    let clock = util::clock();
    let store = Store::open(util::options(dir.path(), &clock)).unwrap();
    assert_eq!(store.seal_segment().unwrap(), None, "nothing to seal yet");
    store.set("a", "1").unwrap();
    store.set("b", "2").unwrap();
    let sealed = store
        .seal_segment()
        .unwrap()
        .expect("a segment with records");
    assert!(sealed.sealed);
    let mut r = memkeep_engine::journal::SegmentReader::open(&sealed.path).unwrap();
    let mut seqs = Vec::new();
    while r.next_record().unwrap() == memkeep_engine::journal::Next::Record {
        seqs.push(r.record().unwrap().seq);
    }
    assert_eq!(seqs, vec![1, 2]);
    let segs = store.journal_segments().unwrap();
    assert_eq!(
        segs.iter().filter(|s| !s.sealed).count(),
        1,
        "one active segment"
    );
    assert_eq!(segs.last().unwrap().first_seq, 3);
}

#[test]
fn a_second_process_cannot_open_the_same_directory() {
    let dir = tempfile::tempdir().unwrap();
    let _store = Store::open(Options::new(dir.path()).background(false)).unwrap();
    match Store::open(Options::new(dir.path()).background(false)) {
        Err(Error::Locked { path }) => assert_eq!(path, dir.path()),
        other => panic!("expected Locked, got {other:?}"),
    }
}

#[test]
fn a_store_reopens_with_a_different_shard_count() {
    let dir = tempfile::tempdir().unwrap();
    let clock = util::clock();
    let store = Store::open(util::options(dir.path(), &clock).shards(16)).unwrap();
    for i in 0..500 {
        store.set(format!("k{i}"), format!("{i}")).unwrap();
        store.sadd("s", &[format!("m{i}")]).unwrap();
    }
    store.snapshot().unwrap();
    let before = util::dump(&store);
    drop(store);
    let store = Store::open(util::options(dir.path(), &clock).shards(64)).unwrap();
    assert_eq!(util::dump(&store), before);
}

#[test]
fn large_values_and_collections_round_trip_through_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    let clock = util::clock();
    let opts = util::options(dir.path(), &clock);
    let store = Store::open(opts.clone()).unwrap();
    let big = vec![b'z'; 3 << 20];
    store.set("big", &big).unwrap();
    // A hash big enough to span several snapshot frames.
    let fields: Vec<(String, String)> = (0..60_000)
        .map(|i| (format!("f{i}"), format!("value-{i:08}")))
        .collect();
    store
        .hset("wide", fields.iter().map(|(a, b)| (a, b)))
        .unwrap();
    let members: Vec<String> = (0..30_000).map(|i| format!("m{i}")).collect();
    store.rpush("long", &members).unwrap();
    store.snapshot().unwrap();
    let before = util::dump(&store);
    drop(store);
    let store = Store::open(opts).unwrap();
    assert_eq!(util::dump(&store), before);
    assert_eq!(store.get("big").unwrap().unwrap().len(), 3 << 20);
}

#[test]
fn options_are_validated() {
    let dir = tempfile::tempdir().unwrap();
    let err = Store::open(Options::new(dir.path()).shards(3)).unwrap_err();
    assert!(err.to_string().contains("power of two"), "{err}");
}
