//! Transactions (one record, all or nothing on replay), `WATCH`, and
//! deferred acknowledgement.

use memkeep_engine::journal::{Next, SegmentReader};
use memkeep_engine::{Error, FsyncPolicy, Keys, Reads, Store};

use crate::util;

#[test]
fn a_transaction_is_one_journal_record_and_sees_its_own_writes() {
    let dir = tempfile::tempdir().unwrap();
    let clock = util::clock();
    let opts = util::options(dir.path(), &clock);
    let store = Store::open(opts.clone()).unwrap();
    let before = store.last_seq();
    let seen = store
        .transaction(Keys::Some(&[b"a", b"b", b"list"]), |tx| {
            tx.set("a", "1")?;
            tx.incr_by("a", 41)?;
            tx.rename("a", "b", false)?;
            tx.push("list", &["x", "y"], false, false)?;
            let b = tx.get("b")?;
            let len = tx.llen("list")?;
            Ok((b, len))
        })
        .unwrap();
    assert_eq!(seen, (Some(b"42".to_vec()), 2));
    assert_eq!(
        store.last_seq(),
        before + 1,
        "one record for the whole transaction"
    );
    let sealed = store.seal_segment().unwrap().unwrap();
    let mut r = SegmentReader::open(&sealed.path).unwrap();
    assert_eq!(r.next_record().unwrap(), Next::Record);
    assert_eq!(r.record().unwrap().op_count(), 5);
    drop(store);
    let store = Store::open(opts).unwrap();
    assert_eq!(store.get("b").unwrap(), Some(b"42".to_vec()));
    assert_eq!(store.exists(&["a"]).unwrap(), 0);
}

#[test]
fn a_transaction_cannot_touch_keys_it_did_not_declare() {
    let dir = tempfile::tempdir().unwrap();
    let clock = util::clock();
    let store = Store::open(util::options(dir.path(), &clock).shards(64)).unwrap();
    // Find a key in another shard than "a" (the transaction locks a's shard).
    let other = (0..1000)
        .map(|i| format!("k{i}"))
        .find(|k| {
            store
                .transaction(Keys::Some(&[b"a"]), |tx| tx.get(k))
                .is_err()
        })
        .expect("some key lives in another shard");
    let err = store
        .transaction(Keys::Some(&[b"a"]), |tx| tx.set(&other, "x"))
        .unwrap_err();
    assert!(matches!(err, Error::KeyNotDeclared));
    assert_eq!(store.exists(&[&other]).unwrap(), 0);
    // With every shard locked, anything goes, KEYS included.
    store
        .transaction(Keys::All, |tx| {
            tx.set(&other, "x")?;
            assert_eq!(tx.keys("*")?, vec![other.clone().into_bytes()]);
            assert_eq!(tx.dbsize()?, 1);
            Ok(())
        })
        .unwrap();
}

#[test]
fn watch_sees_changes_by_anyone_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let clock = util::clock();
    let store = Store::open(util::options(dir.path(), &clock)).unwrap();
    store.set("stock", "10").unwrap();
    let w = store.watch(["stock"]);
    store.set("unrelated", "x").unwrap();
    store.setnx("stock", "99").unwrap(); // no change: NX fails
    assert!(!w.changed());
    store.incr_by("stock", -1).unwrap();
    assert!(w.changed());

    let w2 = store.watch(["a", "b"]);
    store.flush_all().unwrap();
    assert!(w2.changed(), "FLUSHALL touches every watched key");
    drop(w);
    drop(w2);
    let w3 = store.watch(["k"]);
    store.set("k", "v").unwrap();
    let ran = store
        .transaction(Keys::Some(&[b"k"]), |tx| {
            if w3.changed() {
                return Ok(false);
            }
            tx.set("k", "mine")?;
            Ok(true)
        })
        .unwrap();
    assert!(!ran);
    assert_eq!(store.get("k").unwrap(), Some(b"v".to_vec()));
}

#[test]
fn deferred_writes_report_their_sequence_number_and_wait_on_demand() {
    let dir = tempfile::tempdir().unwrap();
    let clock = util::clock();
    let store = Store::open(util::options(dir.path(), &clock).fsync(FsyncPolicy::Always)).unwrap();
    let ((), seq) = store.deferred(|| {
        store.set("a", "1").unwrap();
        store.set("b", "2").unwrap();
    });
    assert_eq!(seq, store.last_seq());
    assert!(store.synced_seq() < seq, "nothing waited yet");
    store.wait_durable(seq).unwrap();
    assert!(store.synced_seq() >= seq);
    let ((), none) = store.deferred(|| {
        store.get("a").unwrap();
    });
    assert_eq!(none, 0, "reads write nothing");
    store.set_fsync_policy(FsyncPolicy::No);
    assert_eq!(store.fsync_policy(), FsyncPolicy::No);
}
