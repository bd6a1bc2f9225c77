//! Expiry with an injected clock: lazy on access, active sweeps, and the
//! way expiry survives snapshots and reopening.

use std::time::{Duration, Instant};

use memkeep_engine::{ExpireCondition, Expiry, Options, Reads, SetOptions, Store, Ttl};

use crate::util;

fn ex(ms: u64) -> SetOptions {
    SetOptions {
        expiry: Some(Expiry::In(Duration::from_millis(ms))),
        ..SetOptions::default()
    }
}

#[test]
fn keys_expire_lazily_and_the_sweep_deletes_them() {
    let dir = tempfile::tempdir().unwrap();
    let clock = util::clock();
    let store = Store::open(util::options(dir.path(), &clock)).unwrap();
    for i in 0..100 {
        store
            .set_with(format!("session:{i}"), "token", ex(1000))
            .unwrap();
    }
    store.set("forever", "x").unwrap();
    assert_eq!(store.ttl("session:7").unwrap(), Ttl::Ms(1000));
    clock.advance(999);
    assert_eq!(store.get("session:7").unwrap(), Some(b"token".to_vec()));
    assert_eq!(store.ttl("session:7").unwrap(), Ttl::Ms(1));
    clock.advance(1);
    assert_eq!(
        store.get("session:7").unwrap(),
        None,
        "expired at exactly its time"
    );
    assert_eq!(store.ttl("session:7").unwrap(), Ttl::Missing);
    assert_eq!(store.exists(&["session:7", "forever"]).unwrap(), 1);
    assert_eq!(store.keys("session:*").unwrap().len(), 0);
    assert_eq!(
        store.dbsize().unwrap(),
        101,
        "lazily expired keys still take room until swept"
    );
    let stats = store.stats().unwrap();
    assert_eq!(stats.volatile_keys, 100);

    let deleted = store.sweep_expired(1000).unwrap();
    assert_eq!(deleted, 100);
    assert_eq!(store.dbsize().unwrap(), 1);
    assert_eq!(store.stats().unwrap().volatile_keys, 0);
}

#[test]
fn sweep_deletions_are_journaled() {
    let dir = tempfile::tempdir().unwrap();
    let clock = util::clock();
    let opts = util::options(dir.path(), &clock);
    let store = Store::open(opts.clone()).unwrap();
    store.set_with("a", "1", ex(10)).unwrap();
    clock.advance(10);
    assert_eq!(store.sweep_expired(100).unwrap(), 1);
    // A new value under the same name must not be confused with the old one.
    store.hset("a", [("f", "v")]).unwrap();
    drop(store);
    let store = Store::open(opts).unwrap();
    assert_eq!(
        store.hgetall("a").unwrap(),
        vec![(b"f".to_vec(), b"v".to_vec())]
    );
    assert_eq!(store.ttl("a").unwrap(), Ttl::Persistent);
}

#[test]
fn a_write_to_an_expired_key_starts_from_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let clock = util::clock();
    let opts = util::options(dir.path(), &clock);
    let store = Store::open(opts.clone()).unwrap();
    store.hset("h", [("old", "1")]).unwrap();
    store
        .expire(
            "h",
            Expiry::In(Duration::from_millis(5)),
            ExpireCondition::Always,
        )
        .unwrap();
    store.rpush("l", &["a"]).unwrap();
    store
        .expire(
            "l",
            Expiry::In(Duration::from_millis(5)),
            ExpireCondition::Always,
        )
        .unwrap();
    store.set_with("n", "41", ex(5)).unwrap();
    clock.advance(5);
    store.hset("h", [("new", "2")]).unwrap();
    store.rpush("l", &["b"]).unwrap();
    assert_eq!(
        store.incr_by("n", 1).unwrap(),
        1,
        "an expired counter restarts at 0"
    );
    let check = |s: &Store| {
        assert_eq!(
            s.hgetall("h").unwrap(),
            vec![(b"new".to_vec(), b"2".to_vec())]
        );
        assert_eq!(s.lrange("l", 0, -1).unwrap(), vec![b"b".to_vec()]);
        assert_eq!(s.ttl("h").unwrap(), Ttl::Persistent);
        assert_eq!(s.get("n").unwrap(), Some(b"1".to_vec()));
    };
    check(&store);
    drop(store);
    check(&Store::open(opts).unwrap());
}

#[test]
fn expiry_survives_snapshots_and_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let clock = util::clock();
    let opts = util::options(dir.path(), &clock);
    let store = Store::open(opts.clone()).unwrap();
    store.set_with("soon", "x", ex(100)).unwrap();
    store.set_with("later", "x", ex(10_000)).unwrap();
    store.zadd("z", &[(1.0, "a")], Default::default()).unwrap();
    store
        .expire(
            "z",
            Expiry::At(clock_now(&clock) + 500),
            ExpireCondition::Always,
        )
        .unwrap();
    store.snapshot().unwrap();
    drop(store);
    let store = Store::open(opts.clone()).unwrap();
    assert_eq!(store.ttl("soon").unwrap(), Ttl::Ms(100));
    assert_eq!(store.ttl("z").unwrap(), Ttl::Ms(500));
    clock.advance(200);
    drop(store);
    let store = Store::open(opts).unwrap();
    assert_eq!(
        store.get("soon").unwrap(),
        None,
        "expired while the store was closed"
    );
    assert_eq!(store.ttl("later").unwrap(), Ttl::Ms(9_800));
}

fn clock_now(c: &memkeep_engine::ManualClock) -> u64 {
    use memkeep_engine::Clock;
    c.now_ms()
}

#[test]
fn expire_conditions_follow_redis_7() {
    let dir = tempfile::tempdir().unwrap();
    let clock = util::clock();
    let store = Store::open(util::options(dir.path(), &clock)).unwrap();
    let secs = |s| Expiry::In(Duration::from_secs(s));
    store.set("k", "v").unwrap();
    assert!(
        !store
            .expire("missing", secs(10), ExpireCondition::Always)
            .unwrap()
    );
    assert!(
        !store.expire("k", secs(10), ExpireCondition::IfSet).unwrap(),
        "XX without a TTL"
    );
    assert!(
        !store
            .expire("k", secs(10), ExpireCondition::IfLater)
            .unwrap(),
        "GT: no TTL is infinite"
    );
    assert!(
        store
            .expire("k", secs(10), ExpireCondition::IfSooner)
            .unwrap(),
        "LT: no TTL is infinite"
    );
    assert!(
        !store.expire("k", secs(5), ExpireCondition::IfNone).unwrap(),
        "NX with a TTL"
    );
    assert!(
        !store
            .expire("k", secs(5), ExpireCondition::IfLater)
            .unwrap()
    );
    assert!(
        store
            .expire("k", secs(20), ExpireCondition::IfLater)
            .unwrap()
    );
    assert_eq!(store.ttl("k").unwrap(), Ttl::Ms(20_000));
    assert!(store.persist("k").unwrap());
    assert!(!store.persist("k").unwrap());
    assert_eq!(store.ttl("k").unwrap(), Ttl::Persistent);
    // An expiry in the past deletes at once, and says it did something.
    assert!(
        store
            .expire("k", Expiry::At(1), ExpireCondition::Always)
            .unwrap()
    );
    assert_eq!(store.exists(&["k"]).unwrap(), 0);
    // Overflowing expiries are client errors, not panics.
    store.set("k", "v").unwrap();
    let err = store
        .expire(
            "k",
            Expiry::In(Duration::from_secs(u64::MAX / 2)),
            ExpireCondition::Always,
        )
        .unwrap_err();
    assert_eq!(
        err.redis_message(),
        "ERR invalid expire time in 'expire' command"
    );
}

#[test]
fn set_clears_ttl_and_keepttl_and_incr_keep_it() {
    let dir = tempfile::tempdir().unwrap();
    let clock = util::clock();
    let store = Store::open(util::options(dir.path(), &clock)).unwrap();
    store.set_with("k", "1", ex(1000)).unwrap();
    store.incr_by("k", 5).unwrap();
    assert_eq!(store.ttl("k").unwrap(), Ttl::Ms(1000), "INCR keeps the TTL");
    store.append("k", "0").unwrap();
    assert_eq!(
        store.ttl("k").unwrap(),
        Ttl::Ms(1000),
        "APPEND keeps the TTL"
    );
    let keep = SetOptions {
        keep_ttl: true,
        ..SetOptions::default()
    };
    store.set_with("k", "2", keep).unwrap();
    assert_eq!(store.ttl("k").unwrap(), Ttl::Ms(1000), "KEEPTTL keeps it");
    store.set("k", "3").unwrap();
    assert_eq!(
        store.ttl("k").unwrap(),
        Ttl::Persistent,
        "a plain SET clears it"
    );
    // GETEX changes it; PERSIST through GETEX removes it.
    store
        .getex("k", Some(Some(Expiry::In(Duration::from_secs(3)))))
        .unwrap();
    assert_eq!(store.ttl("k").unwrap(), Ttl::Ms(3000));
    store.getex("k", Some(None)).unwrap();
    assert_eq!(store.ttl("k").unwrap(), Ttl::Persistent);
}

#[test]
fn the_background_thread_sweeps_with_the_real_clock() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(Options::new(dir.path()).shards(16)).unwrap();
    for i in 0..2000 {
        store.set_with(format!("k{i}"), "v", ex(20)).unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while store.dbsize().unwrap() > 0 {
        assert!(
            Instant::now() < deadline,
            "the sweep left {} keys after 30 s",
            store.dbsize().unwrap()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
