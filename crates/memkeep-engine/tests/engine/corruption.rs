//! Damaged files: a torn journal tail is cut at exactly the last complete
//! record; every other kind of damage stops the open with an error that
//! names the file, and `check` reports it without changing anything.

use std::fs;
use std::path::{Path, PathBuf};

use memkeep_engine::check::{Verdict, check_dir};
use memkeep_engine::journal::{Next, SegmentReader};
use memkeep_engine::{Error, Options, Reads, Recovery, Store};

use crate::util;

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            fs::copy(e.path(), target).unwrap();
        }
    }
}

fn files_in(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    v.sort();
    v
}

/// A closed store whose journal holds `n` records, one `SET k{i} v{i}` each,
/// all in one segment. Returns the segment and each record's start offset.
fn journal_with_records(dir: &Path, n: usize) -> (PathBuf, Vec<u64>) {
    let clock = util::clock();
    let store = Store::open(util::options(dir, &clock).segment_bytes(64 << 20)).unwrap();
    for i in 0..n {
        store.set(format!("k{i}"), format!("v{i}")).unwrap();
    }
    store.close().unwrap();
    let seg = files_in(&dir.join("journal"), "wal")
        .into_iter()
        .find(|p| fs::metadata(p).unwrap().len() > 48)
        .expect("a segment with records");
    let mut r = SegmentReader::open(&seg).unwrap();
    let mut starts = Vec::new();
    loop {
        let at = r.offset();
        match r.next_record().unwrap() {
            Next::Record => starts.push(at),
            Next::End => break,
            other => panic!("fresh journal reads clean, got {other:?}"),
        }
    }
    assert_eq!(starts.len(), n);
    (seg, starts)
}

fn open_plain(dir: &Path) -> Result<Store, Error> {
    Store::open(Options::new(dir).background(false).shards(16))
}

#[test]
fn a_torn_tail_is_cut_at_every_byte_offset_of_the_last_records() {
    let base = tempfile::tempdir().unwrap();
    let n = 40;
    let (seg, starts) = journal_with_records(base.path(), n);
    let len = fs::metadata(&seg).unwrap().len();
    let first_cut = starts[n - 4];
    for cut in first_cut..len {
        let work = tempfile::tempdir().unwrap();
        copy_dir(base.path(), work.path());
        let target = work.path().join("journal").join(seg.file_name().unwrap());
        let f = fs::OpenOptions::new().write(true).open(&target).unwrap();
        f.set_len(cut).unwrap();
        drop(f);

        let before = check_dir(work.path()).unwrap();
        let complete =
            starts.iter().filter(|&&s| s < cut).count() - usize::from(!starts.contains(&cut));
        let store =
            open_plain(work.path()).unwrap_or_else(|e| panic!("cut at {cut}: open failed: {e}"));
        for i in 0..n {
            let got = store.get(format!("k{i}")).unwrap();
            if i < complete {
                assert_eq!(
                    got,
                    Some(format!("v{i}").into_bytes()),
                    "cut at {cut}: record {i} lost"
                );
            } else {
                assert_eq!(got, None, "cut at {cut}: incomplete record {i} applied");
            }
        }
        let torn = starts.binary_search(&cut).is_err();
        assert_eq!(
            before.verdict,
            if torn {
                Verdict::TornTail
            } else {
                Verdict::Healthy
            },
            "cut at {cut}"
        );
        let report = store.open_report();
        assert_eq!(report.truncations.len(), usize::from(torn), "cut at {cut}");
        assert!(report.truncations.iter().all(|t| !t.data_lost));
        // The next writes continue the sequence after the cut.
        store.set("after", "x").unwrap();
        drop(store);
        let store = open_plain(work.path()).unwrap();
        assert_eq!(store.get("after").unwrap(), Some(b"x".to_vec()));
        assert_eq!(store.last_seq(), complete as u64 + 1);
    }
}

#[test]
fn a_flipped_byte_mid_journal_stops_the_open_and_names_the_file() {
    let base = tempfile::tempdir().unwrap();
    let n = 60;
    let (seg, starts) = journal_with_records(base.path(), n);
    let (from, to) = (starts[n / 2], starts[n / 2 + 1]);
    for at in from..to {
        let work = tempfile::tempdir().unwrap();
        copy_dir(base.path(), work.path());
        let target = work.path().join("journal").join(seg.file_name().unwrap());
        let mut bytes = fs::read(&target).unwrap();
        bytes[at as usize] ^= 0x5a;
        fs::write(&target, &bytes).unwrap();

        let checked = check_dir(work.path()).unwrap();
        assert_eq!(checked.verdict, Verdict::Damaged, "flip at {at}");
        assert_eq!(
            fs::read(&target).unwrap(),
            bytes,
            "check must not modify files"
        );

        match open_plain(work.path()) {
            Err(Error::Corrupt { file, offset, .. }) => {
                assert_eq!(file, target, "flip at {at}");
                assert_eq!(offset, from, "flip at {at}: the damaged record's offset");
            }
            Err(other) => panic!("flip at {at}: wrong error {other}"),
            Ok(_) => panic!("flip at {at}: damaged journal opened"),
        }
        assert_eq!(
            fs::read(&target).unwrap(),
            bytes,
            "a refused open must not modify files"
        );

        // With explicit permission, everything before the damage is kept.
        let store = Store::open(
            Options::new(work.path())
                .background(false)
                .shards(16)
                .recovery(Recovery::TruncateDamagedJournal),
        )
        .unwrap();
        assert_eq!(store.dbsize().unwrap(), (n / 2) as u64, "flip at {at}");
        assert!(store.open_report().truncations.iter().any(|t| t.data_lost));
    }
}

#[test]
fn a_flipped_byte_anywhere_in_a_snapshot_stops_the_open_and_names_the_file() {
    let base = tempfile::tempdir().unwrap();
    let clock = util::clock();
    let store = Store::open(util::options(base.path(), &clock)).unwrap();
    for i in 0..30 {
        store.set(format!("s{i}"), "x".repeat(i)).unwrap();
    }
    store.hset("h", [("a", "1"), ("b", "2")]).unwrap();
    store.rpush("l", &["1", "2", "3"]).unwrap();
    store.sadd("set", &["a", "b"]).unwrap();
    store
        .zadd("z", &[(1.0, "a"), (2.5, "b")], Default::default())
        .unwrap();
    let info = store.snapshot().unwrap();
    store.close().unwrap();
    let len = fs::metadata(&info.path).unwrap().len();
    for at in 0..len {
        let work = tempfile::tempdir().unwrap();
        copy_dir(base.path(), work.path());
        let target = work
            .path()
            .join("snapshots")
            .join(info.path.file_name().unwrap());
        let mut bytes = fs::read(&target).unwrap();
        bytes[at as usize] ^= 0x01;
        fs::write(&target, &bytes).unwrap();
        match open_plain(work.path()) {
            Err(Error::Corrupt { file, .. }) => assert_eq!(file, target, "flip at {at}"),
            Err(other) => panic!("flip at {at}: wrong error {other}"),
            Ok(_) => panic!("flip at {at}: damaged snapshot opened"),
        }
        assert_eq!(
            check_dir(work.path()).unwrap().verdict,
            Verdict::Damaged,
            "flip at {at}"
        );
    }
}

#[test]
fn a_truncated_snapshot_is_damage_not_a_torn_tail() {
    let base = tempfile::tempdir().unwrap();
    let clock = util::clock();
    let store = Store::open(util::options(base.path(), &clock)).unwrap();
    store.set("a", "b").unwrap();
    let info = store.snapshot().unwrap();
    store.close().unwrap();
    let f = fs::OpenOptions::new().write(true).open(&info.path).unwrap();
    f.set_len(fs::metadata(&info.path).unwrap().len() - 1)
        .unwrap();
    assert!(matches!(
        open_plain(base.path()),
        Err(Error::Corrupt { .. })
    ));
}

#[test]
fn a_missing_segment_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let clock = util::clock();
    let store = Store::open(util::options(dir.path(), &clock).segment_bytes(4096)).unwrap();
    for i in 0..500 {
        store.set(format!("key{i}"), "some value bytes").unwrap();
    }
    store.close().unwrap();
    let segs = files_in(&dir.path().join("journal"), "wal");
    assert!(segs.len() > 3, "the test needs several segments");
    fs::remove_file(&segs[1]).unwrap();
    let err = open_plain(dir.path()).expect_err("a gap stops the open");
    assert!(err.to_string().contains("missing"), "{err}");
    let report = check_dir(dir.path()).unwrap();
    assert_eq!(report.verdict, Verdict::Damaged);
    assert!(
        report.problems.iter().any(|p| p.contains("missing")),
        "{:?}",
        report.problems
    );
}

#[test]
fn an_unknown_format_version_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let (seg, _) = journal_with_records(dir.path(), 3);
    let mut bytes = fs::read(&seg).unwrap();
    bytes[8] = 9; // version
    let crc = crc32c(&bytes[..44]);
    bytes[44..48].copy_from_slice(&crc.to_le_bytes());
    fs::write(&seg, &bytes).unwrap();
    let err = open_plain(dir.path()).expect_err("refused");
    assert!(err.to_string().contains("version 9"), "{err}");
    assert!(
        err.to_string().contains(&seg.display().to_string()),
        "{err}"
    );
}

/// CRC32C (Castagnoli), bitwise: the test's own, independent of the engine's.
fn crc32c(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0x82f6_3b78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn garbage_files_never_panic_the_open() {
    // Random bytes where a segment and a snapshot should be.
    let mut seed = 12345u64;
    let mut rand = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for round in 0..200 {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("journal")).unwrap();
        fs::create_dir_all(dir.path().join("snapshots")).unwrap();
        let len = (rand() % 300) as usize;
        let mut bytes: Vec<u8> = (0..len).map(|_| rand() as u8).collect();
        if round % 2 == 0 && len >= 8 {
            bytes[..8].copy_from_slice(b"MEMKEEPJ");
        }
        let name = if round % 3 == 0 {
            "snapshots/00000000000000000001.snap"
        } else {
            "journal/00000000000000000001.wal"
        };
        fs::write(dir.path().join(name), &bytes).unwrap();
        let result = std::panic::catch_unwind(|| open_plain(dir.path()).map(|_| ()));
        assert!(result.is_ok(), "round {round}: open panicked");
        let _ = check_dir(dir.path());
    }
}
