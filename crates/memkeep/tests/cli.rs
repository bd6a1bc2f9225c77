//! The `memkeep` binary, run as a real process.

use std::path::Path;
use std::process::{Command, Output};

use memkeep_engine::{Options, Store};

fn memkeep(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_memkeep"))
        .args(args)
        .env_remove("MEMKEEP_DATA_DIR")
        .output()
        .expect("run memkeep")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn make_store(dir: &Path, n: usize) {
    let store = Store::open(Options::new(dir).background(false)).unwrap();
    for i in 0..n {
        store.set(format!("k{i}"), format!("v{i}")).unwrap();
    }
    store.close().unwrap();
}

fn newest_segment(dir: &Path) -> std::path::PathBuf {
    let mut segs: Vec<_> = std::fs::read_dir(dir.join("journal"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| std::fs::metadata(p).unwrap().len() > 48)
        .collect();
    segs.sort();
    segs.pop().unwrap()
}

#[test]
fn check_reports_a_healthy_store() {
    let dir = tempfile::tempdir().unwrap();
    make_store(dir.path(), 10);
    let out = memkeep(&["check", "--data-dir", dir.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("healthy: the store opens at record 10"),
        "{}",
        text(&out)
    );
}

#[test]
fn check_reports_a_torn_tail_as_recoverable_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    make_store(dir.path(), 10);
    let seg = newest_segment(dir.path());
    let bytes = std::fs::read(&seg).unwrap();
    std::fs::write(&seg, &bytes[..bytes.len() - 3]).unwrap();
    let out = memkeep(&[
        "check",
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verdict"], "torn_tail");
    assert_eq!(v["last_seq"], 9);
    assert_eq!(
        std::fs::read(&seg).unwrap(),
        &bytes[..bytes.len() - 3],
        "check never modifies"
    );
}

#[test]
fn check_names_the_damaged_file_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    make_store(dir.path(), 50);
    let seg = newest_segment(dir.path());
    let mut bytes = std::fs::read(&seg).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&seg, &bytes).unwrap();
    let out = memkeep(&["check", "--data-dir", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("DAMAGED"), "{t}");
    assert!(
        t.contains(seg.file_name().unwrap().to_str().unwrap()),
        "{t}"
    );
}

#[test]
fn check_of_a_missing_directory_is_a_clear_error() {
    let out = memkeep(&["check", "--data-dir", "/nonexistent/memkeep-data"]);
    assert_eq!(out.status.code(), Some(1));
    let t = text(&out);
    assert!(
        t.contains("memkeep: checking /nonexistent/memkeep-data"),
        "{t}"
    );
    assert!(t.contains("no such data directory"), "{t}");
}

#[test]
fn the_data_dir_comes_from_the_environment_too() {
    let dir = tempfile::tempdir().unwrap();
    make_store(dir.path(), 3);
    let out = Command::new(env!("CARGO_BIN_EXE_memkeep"))
        .arg("check")
        .env("MEMKEEP_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("record 3"));
}
