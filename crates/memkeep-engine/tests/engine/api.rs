//! The typed API follows Redis's semantics, edge cases included.

use std::collections::HashSet;

use memkeep_engine::{
    Error, KeyType, Reads, ScanOptions, ScoreBound, SetCondition, SetOptions, Store, Value,
    ZAddOptions, ZAddResult, ZRange,
};

use crate::util;

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let clock = util::clock();
    let s = Store::open(util::options(dir.path(), &clock)).unwrap();
    (dir, s)
}

fn b(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

#[test]
fn set_conditions_and_get() {
    let (_d, s) = store();
    let nx = SetOptions {
        condition: SetCondition::IfAbsent,
        ..SetOptions::default()
    };
    let xx_get = SetOptions {
        condition: SetCondition::IfPresent,
        get: true,
        ..SetOptions::default()
    };
    assert!(!s.set_with("k", "1", xx_get).unwrap().written);
    assert!(s.set_with("k", "1", nx).unwrap().written);
    assert!(!s.set_with("k", "2", nx).unwrap().written);
    let out = s.set_with("k", "3", xx_get).unwrap();
    assert_eq!((out.written, out.old), (true, Some(b("1"))));
    s.rpush("list", &["x"]).unwrap();
    assert!(matches!(
        s.set_with("list", "v", xx_get),
        Err(Error::WrongType)
    ));
    assert_eq!(
        s.key_type("list").unwrap(),
        Some(KeyType::List),
        "a failed SET GET changes nothing"
    );
}

#[test]
fn string_commands() {
    let (_d, s) = store();
    s.set("s", "Hello World").unwrap();
    assert_eq!(s.getrange("s", 0, 4).unwrap(), b("Hello"));
    assert_eq!(s.getrange("s", -5, -1).unwrap(), b("World"));
    assert_eq!(s.getrange("s", -1, -5).unwrap(), b(""));
    assert_eq!(s.getrange("s", 0, 100).unwrap(), b("Hello World"));
    assert_eq!(s.setrange("s", 6, "Redis").unwrap(), 11);
    assert_eq!(s.get("s").unwrap(), Some(b("Hello Redis")));
    assert_eq!(s.setrange("pad", 3, "x").unwrap(), 4);
    assert_eq!(s.get("pad").unwrap(), Some(b"\0\0\0x".to_vec()));
    assert_eq!(s.setrange("nothing", 5, "").unwrap(), 0);
    assert_eq!(
        s.exists(&["nothing"]).unwrap(),
        0,
        "an empty SETRANGE creates nothing"
    );
    assert_eq!(s.append("s", "!").unwrap(), 12);
    assert_eq!(s.strlen("s").unwrap(), 12);
    assert_eq!(s.getdel("s").unwrap(), Some(b("Hello Redis!")));
    assert_eq!(s.get("s").unwrap(), None);

    assert_eq!(s.incr_by("n", 10).unwrap(), 10);
    assert_eq!(s.incr_by("n", -11).unwrap(), -1);
    s.set("n", i64::MAX.to_string()).unwrap();
    assert!(matches!(s.incr_by("n", 1), Err(Error::Overflow)));
    for bad in [" 1", "1 ", "+1", "01", "1.5", ""] {
        s.set("bad", bad).unwrap();
        assert!(
            matches!(s.incr_by("bad", 1), Err(Error::NotInteger)),
            "{bad:?}"
        );
    }
    s.set("f", "10.5").unwrap();
    assert_eq!(s.incr_by_float("f", 0.1).unwrap(), b("10.6"));
    s.set("f", "5.0e3").unwrap();
    assert_eq!(s.incr_by_float("f", 2.0e2).unwrap(), b("5200"));
    assert!(matches!(
        s.incr_by_float("f", f64::INFINITY),
        Err(Error::NanOrInfinity)
    ));

    assert!(s.msetnx(&[("m1", "a"), ("m2", "b")]).unwrap());
    assert!(!s.msetnx(&[("m2", "x"), ("m3", "c")]).unwrap());
    assert_eq!(
        s.mget(&["m1", "m2", "m3", "list"]).unwrap(),
        vec![Some(b("a")), Some(b("b")), None, None]
    );
}

#[test]
fn strings_move_between_inline_and_large_storage() {
    let (_d, s) = store();
    s.set("grow", "x").unwrap();
    for _ in 0..40 {
        s.append("grow", vec![b'y'; 1000]).unwrap();
    }
    assert_eq!(s.strlen("grow").unwrap(), 40_001);
    s.set("grow", "small again").unwrap();
    assert_eq!(s.get("grow").unwrap(), Some(b("small again")));
    s.setrange("grow", 100_000, "z").unwrap();
    assert_eq!(s.strlen("grow").unwrap(), 100_001);
}

#[test]
fn list_commands() {
    let (_d, s) = store();
    assert_eq!(s.lpush("l", &["a", "b", "c"]).unwrap(), 3);
    assert_eq!(s.lrange("l", 0, -1).unwrap(), vec![b("c"), b("b"), b("a")]);
    assert_eq!(s.rpushx("nolist", &["x"]).unwrap(), 0);
    assert_eq!(s.exists(&["nolist"]).unwrap(), 0);
    assert_eq!(s.linsert("l", true, "b", "B").unwrap(), 4);
    assert_eq!(s.linsert("l", false, "zz", "B").unwrap(), -1);
    assert_eq!(s.linsert("none", false, "a", "B").unwrap(), 0);
    assert_eq!(s.lindex("l", -1).unwrap(), Some(b("a")));
    assert_eq!(s.lindex("l", 10).unwrap(), None);
    assert!(matches!(s.lset("l", 10, "x"), Err(Error::IndexOutOfRange)));
    assert!(matches!(s.lset("none", 0, "x"), Err(Error::NoSuchKey)));
    assert_eq!(s.rpop("l", 2).unwrap(), Some(vec![b("a"), b("b")]));
    assert_eq!(s.lpop("l", 0).unwrap(), Some(vec![]));
    assert_eq!(s.lpop("none", 1).unwrap(), None);
    s.rpush("r", &["1", "2", "1", "3", "1"]).unwrap();
    assert_eq!(s.lrem("r", -2, "1").unwrap(), 2);
    assert_eq!(s.lrange("r", 0, -1).unwrap(), vec![b("1"), b("2"), b("3")]);
    s.ltrim("r", 5, 10).unwrap();
    assert_eq!(
        s.exists(&["r"]).unwrap(),
        0,
        "an empty LTRIM deletes the list"
    );
    assert!(matches!(
        s.lpush("s_str", &["x"]).and_then(|_| s.get("s_str")),
        Err(Error::WrongType)
    ));
}

#[test]
fn set_commands() {
    let (_d, s) = store();
    s.sadd("a", &["1", "2", "3"]).unwrap();
    s.sadd("b", &["2", "3", "4"]).unwrap();
    let sorted = |mut v: Vec<Vec<u8>>| {
        v.sort();
        v
    };
    assert_eq!(sorted(s.sinter(&["a", "b"]).unwrap()), vec![b("2"), b("3")]);
    assert_eq!(sorted(s.sunion(&["a", "b"]).unwrap()).len(), 4);
    assert_eq!(s.sdiff(&["a", "b"]).unwrap(), vec![b("1")]);
    assert_eq!(s.sinter(&["a", "missing"]).unwrap(), Vec::<Vec<u8>>::new());
    s.set("str", "x").unwrap();
    assert!(matches!(s.sunion(&["a", "str"]), Err(Error::WrongType)));
    assert_eq!(s.smismember("a", &["1", "9"]).unwrap(), vec![true, false]);
    let r = s.srandmember("a", -10).unwrap();
    assert_eq!(r.len(), 10, "a negative count may repeat members");
    let r: HashSet<_> = s.srandmember("a", 10).unwrap().into_iter().collect();
    assert_eq!(r.len(), 3, "a positive count gives distinct members");
    let popped = s.spop("a", 2).unwrap();
    assert_eq!(popped.len(), 2);
    assert_eq!(s.scard("a").unwrap(), 1);
    s.spop("a", 5).unwrap();
    assert_eq!(s.exists(&["a"]).unwrap(), 0, "an emptied set is deleted");
}

#[test]
fn sorted_set_commands() {
    let (_d, s) = store();
    let add = |pairs: &[(f64, &str)], opts| s.zadd("z", pairs, opts).unwrap();
    assert_eq!(
        add(
            &[(1.0, "a"), (2.0, "b"), (3.0, "c")],
            ZAddOptions::default()
        ),
        ZAddResult::Count(3)
    );
    let ch_gt = ZAddOptions {
        ch: true,
        gt: true,
        ..ZAddOptions::default()
    };
    assert_eq!(
        add(&[(0.5, "a"), (5.0, "b"), (9.0, "new")], ch_gt),
        ZAddResult::Count(2)
    );
    let nx_xx = ZAddOptions {
        nx: true,
        xx: true,
        ..ZAddOptions::default()
    };
    let err = s.zadd("z", &[(1.0, "a")], nx_xx).unwrap_err();
    assert_eq!(
        err.redis_message(),
        "ERR XX and NX options at the same time are not compatible"
    );
    let incr = ZAddOptions {
        incr: true,
        ..ZAddOptions::default()
    };
    assert_eq!(
        s.zadd("z", &[(1.0, "a")], incr).unwrap(),
        ZAddResult::Score(Some(2.0))
    );
    s.zadd("z", &[(f64::INFINITY, "inf")], ZAddOptions::default())
        .unwrap();
    let err = s.zincr_by("z", f64::NEG_INFINITY, "inf").unwrap_err();
    assert_eq!(
        err.redis_message(),
        "ERR resulting score is not a number (NaN)"
    );

    let all = s
        .zrange("z", ZRange::Rank { start: 0, stop: -1 }, false, None)
        .unwrap();
    let names: Vec<_> = all
        .iter()
        .map(|(m, _)| String::from_utf8(m.clone()).unwrap())
        .collect();
    assert_eq!(names, ["a", "c", "b", "new", "inf"]);
    assert_eq!(s.zrank("z", "b", false).unwrap(), Some(2));
    assert_eq!(s.zrank("z", "b", true).unwrap(), Some(2));
    assert_eq!(s.zrank("z", "inf", true).unwrap(), Some(0));
    let range = ZRange::Score {
        min: ScoreBound::Exclusive(2.0),
        max: ScoreBound::Inclusive(9.0),
    };
    let got = s.zrange("z", range, true, Some((1, Some(1)))).unwrap();
    assert_eq!(got, vec![(b("b"), 5.0)], "REV then LIMIT 1 1");
    assert_eq!(
        s.zcount(
            "z",
            ScoreBound::Inclusive(2.0),
            ScoreBound::Inclusive(f64::INFINITY)
        )
        .unwrap(),
        5
    );
    assert_eq!(s.zrem("z", &["a", "zz"]).unwrap(), 1);
}

#[test]
fn hashes_hold_json_documents_like_the_seeds_collections() {
    let (_d, s) = store();
    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Config {
        lang: String,
        channels: Vec<i64>,
    }
    let cfg = Config {
        lang: "zh".into(),
        channels: vec![-100123, 42],
    };
    s.hset(
        "user_configs",
        [("12345", serde_json::to_vec(&cfg).unwrap())],
    )
    .unwrap();
    let back: Config =
        serde_json::from_slice(&s.hget("user_configs", "12345").unwrap().unwrap()).unwrap();
    assert_eq!(back, cfg);
    assert_eq!(s.hincr_by_float("stats", "avg", 0.1).unwrap(), b("0.1"));
    s.hset("stats", [("text", "abc")]).unwrap();
    assert!(matches!(
        s.hincr_by("stats", "text", 1),
        Err(Error::HashNotInteger)
    ));
    assert!(matches!(
        s.hincr_by_float("stats", "text", 1.0),
        Err(Error::HashNotFloat)
    ));
    assert!(!s.hsetnx("stats", "text", "zzz").unwrap());
    assert_eq!(s.hstrlen("stats", "text").unwrap(), 3);
    assert_eq!(s.hdel("stats", &["avg", "text", "nope"]).unwrap(), 2);
    assert_eq!(s.exists(&["stats"]).unwrap(), 0);
}

#[test]
fn hscan_returns_every_field_of_a_large_hash() {
    let (_d, s) = store();
    let fields: Vec<(String, String)> = (0..5000).map(|i| (format!("f{i}"), "v".into())).collect();
    s.hset("h", fields.iter().map(|(a, b)| (a, b))).unwrap();
    let mut seen = HashSet::new();
    let mut cursor = 0;
    loop {
        let (next, pairs) = s.hscan("h", cursor, None, 100).unwrap();
        seen.extend(pairs.into_iter().map(|(f, _)| f));
        if next == 0 {
            break;
        }
        cursor = next;
    }
    assert_eq!(seen.len(), 5000);
    let (_, matched) = s.hscan("h", 0, Some(b"f1?"), 100_000).unwrap();
    assert_eq!(matched.len(), 10);
}

#[test]
fn scan_sees_every_key_present_throughout_despite_churn() {
    let (_d, s) = store();
    for i in 0..3000 {
        s.set(format!("stay:{i}"), "v").unwrap();
    }
    let opts = ScanOptions {
        prefix: Some(b"stay:".to_vec()),
        count: 50,
        ..ScanOptions::default()
    };
    let mut seen = HashSet::new();
    let mut cursor = 0;
    let mut step = 0;
    loop {
        let page = s.scan(cursor, &opts).unwrap();
        seen.extend(page.keys);
        // Churn between pages: new keys, deletions, and rewrites that move
        // records (and trigger compaction).
        for j in 0..30 {
            s.set(format!("churn:{step}:{j}"), "x").unwrap();
            s.del(&[format!("churn:{}:{j}", step.max(1) - 1)]).unwrap();
            s.set(
                format!("stay:{}", (step * 31 + j) % 3000),
                "rewritten value",
            )
            .unwrap();
        }
        step += 1;
        if page.cursor == 0 {
            break;
        }
        cursor = page.cursor;
    }
    assert_eq!(
        seen.len(),
        3000,
        "every key present for the whole scan was returned"
    );
    let strings_only = ScanOptions {
        key_type: Some(KeyType::Hash),
        count: 100_000,
        ..ScanOptions::default()
    };
    assert!(s.scan(0, &strings_only).unwrap().keys.is_empty());
}

#[test]
fn rename_moves_value_and_ttl() {
    let (_d, s) = store();
    s.zadd("src", &[(1.0, "m")], ZAddOptions::default())
        .unwrap();
    s.set("dst", "old").unwrap();
    s.rename("src", "dst").unwrap();
    assert_eq!(s.key_type("dst").unwrap(), Some(KeyType::ZSet));
    assert_eq!(s.exists(&["src"]).unwrap(), 0);
    assert!(matches!(s.rename("src", "x"), Err(Error::NoSuchKey)));
    s.set("other", "1").unwrap();
    assert!(!s.rename_nx("dst", "other").unwrap());
    assert!(s.rename_nx("dst", "fresh").unwrap());
    assert_eq!(
        s.get_value("fresh").unwrap().map(|(v, _)| v),
        Some(Value::ZSet(vec![(b("m"), 1.0)]))
    );
}

#[test]
fn batch_acknowledges_many_writes_at_once() {
    let (_d, s) = store();
    let n = s
        .batch(|| {
            for i in 0..1000 {
                s.set(format!("k{i}"), "v").unwrap();
            }
            s.dbsize().unwrap()
        })
        .unwrap();
    assert_eq!(n, 1000);
    assert!(s.synced_seq() <= s.last_seq());
    let stats = s.stats().unwrap();
    assert_eq!(
        stats.written_seq, stats.last_seq,
        "batch returned only once everything was written"
    );
}

#[test]
fn oversized_values_are_refused_cleanly() {
    let (_d, s) = store();
    let err = s.setrange("k", 600 << 20, "x").unwrap_err();
    assert_eq!(
        err.redis_message(),
        "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
    );
    assert_eq!(s.exists(&["k"]).unwrap(), 0);
}

#[test]
fn arbitrary_cursors_and_counts_never_panic() {
    let (_d, s) = store();
    for i in 0..3000 {
        s.set(format!("k{i}"), "v").unwrap();
    }
    let fields: Vec<(String, String)> = (0..3000).map(|i| (format!("f{i}"), "v".into())).collect();
    s.hset("h", fields.iter().map(|(a, b)| (a, b))).unwrap();
    let mut x = 0x1234_5678_9abc_def0u64;
    for _ in 0..5000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        for cursor in [
            x,
            x & 0xffff_ffff,
            x & 0x3ffff,
            (x & 0xf) << 48 | (x & 0x3ffff),
        ] {
            let _ = s.scan(cursor, &ScanOptions::default()).unwrap();
            let _ = s.hscan("h", cursor, None, 10).unwrap();
            let _ = s.hscan("h", cursor | 1 << 63, None, 10).unwrap();
        }
    }
    assert!(s.srandmember("h", i64::MIN).is_err());
    assert_eq!(
        s.lrange("nolist", i64::MIN, i64::MAX).unwrap(),
        Vec::<Vec<u8>>::new()
    );
    s.rpush("l", &["a"]).unwrap();
    assert_eq!(s.lrange("l", i64::MIN, i64::MAX).unwrap(), vec![b("a")]);
    assert_eq!(s.lindex("l", i64::MIN).unwrap(), None);
    assert_eq!(s.getrange("k1", i64::MIN, i64::MAX).unwrap(), b("v"));
}
