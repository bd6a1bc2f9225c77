//! A journal that cannot be made durable poisons the store: it refuses
//! every later write with a clear error instead of pretending, and nothing
//! acknowledged before is lost.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::Duration;

use memkeep_engine::{Error, FsyncPolicy, Options, Reads, Store};

use crate::util;

#[test]
fn a_failed_fsync_poisons_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let clock = util::clock();
    let opts = util::options(dir.path(), &clock).fsync(FsyncPolicy::Always);
    let faults = opts.faults.clone();
    let store = Store::open(opts.clone()).unwrap();
    store.set("before", "1").unwrap();

    faults.fail_fsync.store(true, Ordering::SeqCst);
    let err = store.set("during", "2").unwrap_err();
    assert!(matches!(err, Error::Poisoned(_)), "{err}");
    assert!(err.to_string().contains("fsync"), "{err}");
    // Every later write is refused with the same reason, even though the
    // disk would now accept an fsync again.
    let again = store.hset("h", [("f", "v")]).unwrap_err();
    assert_eq!(again.to_string(), err.to_string());
    assert!(store.stats().unwrap().poisoned.is_some());
    // Reads keep working.
    assert_eq!(store.get("before").unwrap(), Some(b"1".to_vec()));
    drop(store);

    let store = Store::open(opts).unwrap();
    assert_eq!(store.get("before").unwrap(), Some(b"1".to_vec()));
    store.set("after restart", "ok").unwrap();
}

#[test]
fn a_failed_background_fsync_poisons_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let clock = util::clock();
    let opts = util::options(dir.path(), &clock).fsync(FsyncPolicy::EverySec);
    let faults = opts.faults.clone();
    let store = Store::open(opts).unwrap();
    store.set("a", "1").unwrap();
    faults.fail_fsync.store(true, Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(1100)); // the everysec fsync is due
    let err = store.housekeep().unwrap_err();
    assert!(matches!(err, Error::Poisoned(_)));
    assert!(matches!(store.set("b", "2"), Err(Error::Poisoned(_))));
}

/// A tiny tmpfs, unmounted when dropped.
struct TinyDisk {
    path: PathBuf,
}

impl TinyDisk {
    fn mount(bytes: u64) -> TinyDisk {
        let path = tempfile::tempdir().unwrap().keep();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes}"), "tmpfs"])
            .arg(&path)
            .status()
            .expect("run mount");
        assert!(
            status.success(),
            "this test mounts a small tmpfs to fill a real disk: run it as root (CI does)"
        );
        TinyDisk { path }
    }
}

impl Drop for TinyDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.path).status();
        let _ = std::fs::remove_dir(&self.path);
    }
}

fn fill(dir: &Path, bytes: usize) -> PathBuf {
    let p = dir.join("filler");
    std::fs::write(&p, vec![0u8; bytes]).unwrap();
    p
}

#[test]
fn a_full_disk_poisons_the_store_and_loses_nothing_acknowledged() {
    let disk = TinyDisk::mount(1 << 20);
    let filler = fill(&disk.path, 700 << 10);
    let data = disk.path.join("data");
    let opts = Options::new(&data)
        .fsync(FsyncPolicy::Always)
        .background(false)
        .shards(4);
    let store = Store::open(opts.clone()).unwrap();
    let mut acked = Vec::new();
    let err = loop {
        let i = acked.len();
        match store.set(format!("key{i}"), vec![b'x'; 200]) {
            Ok(()) => acked.push(i),
            Err(e) => break e,
        }
        assert!(acked.len() < 100_000, "the disk never filled up");
    };
    assert!(matches!(err, Error::Poisoned(_)), "{err}");
    assert!(err.to_string().contains("No space left"), "{err}");
    assert!(matches!(store.set("more", "x"), Err(Error::Poisoned(_))));
    assert!(!acked.is_empty());
    drop(store);

    std::fs::remove_file(filler).unwrap();
    let store = Store::open(opts).unwrap();
    for i in &acked {
        assert_eq!(
            store.get(format!("key{i}")).unwrap(),
            Some(vec![b'x'; 200]),
            "key{i}"
        );
    }
}
