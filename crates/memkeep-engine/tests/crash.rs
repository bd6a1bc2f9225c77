//! Crash test with real processes: a child process writes with
//! `fsync=always` and prints every acknowledged write; the test kills it
//! with SIGKILL at a random moment, reopens the store, and checks that every
//! acknowledged write is there. Rounds share one data directory, so each
//! recovery also starts from the previous crash's state.
//!
//! This binary is its own child: with `MEMKEEP_CRASH_WRITER_DIR` set it runs
//! the writer instead of the tests. `MEMKEEP_CRASH_ROUNDS` sets the rounds
//! (default 50).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use libtest_mimic::{Arguments, Failed, Trial};
use memkeep_engine::{FsyncPolicy, Options, Reads, Store};

const WRITER_DIR: &str = "MEMKEEP_CRASH_WRITER_DIR";
const WRITER_ROUND: &str = "MEMKEEP_CRASH_WRITER_ROUND";
const THREADS: usize = 4;

fn options(dir: &Path) -> Options {
    // Small segments and frequent snapshots, so kills land in rotations and
    // snapshots too.
    Options::new(dir)
        .fsync(FsyncPolicy::Always)
        .segment_bytes(32 * 1024)
        .snapshot_after_bytes(128 * 1024)
        .shards(64)
}

fn main() {
    if let Ok(dir) = std::env::var(WRITER_DIR) {
        let round: u64 = std::env::var(WRITER_ROUND).unwrap().parse().unwrap();
        writer(Path::new(&dir), round);
        return;
    }
    let args = Arguments::from_args();
    let tests = vec![Trial::test(
        "acknowledged_writes_survive_kill_9",
        kill_9_rounds,
    )];
    libtest_mimic::run(&args, tests).exit();
}

/// The child: writes forever from several threads, printing each write
/// after it is acknowledged. Lines: `S key value`, `H key field value`,
/// `L key value` (an RPUSH).
fn writer(dir: &Path, round: u64) {
    let store = Store::open(options(dir)).expect("child opens the store");
    let out = Arc::new(std::sync::Mutex::new(std::io::stdout()));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let (store, out) = (store.clone(), Arc::clone(&out));
            std::thread::spawn(move || {
                for i in 0u64.. {
                    let line = match i % 3 {
                        0 => {
                            let (k, v) = (
                                format!("s:{round}:{t}:{i}"),
                                format!("v{i}-{}", "x".repeat((i % 50) as usize)),
                            );
                            store.set(&k, &v).expect("set");
                            format!("S {k} {v}")
                        }
                        1 => {
                            let (k, f, v) =
                                (format!("h:{round}:{t}"), format!("f{i}"), format!("{i}"));
                            store.hset(&k, [(&f, &v)]).expect("hset");
                            format!("H {k} {f} {v}")
                        }
                        _ => {
                            let (k, v) = (format!("l:{round}:{t}"), format!("{i}"));
                            store.rpush(&k, &[&v]).expect("rpush");
                            format!("L {k} {v}")
                        }
                    };
                    let mut o = out.lock().unwrap();
                    writeln!(o, "{line}").unwrap();
                    o.flush().unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

/// Everything acknowledged so far, over all rounds.
#[derive(Default)]
struct Acked {
    strings: HashMap<String, String>,
    fields: HashMap<(String, String), String>,
    lists: HashMap<String, Vec<String>>,
}

impl Acked {
    fn record(&mut self, line: &str) -> Result<(), Failed> {
        let parts: Vec<&str> = line.splitn(4, ' ').collect();
        match parts.as_slice() {
            ["S", k, v] => {
                self.strings.insert(k.to_string(), v.to_string());
            }
            ["H", k, f, v] => {
                self.fields
                    .insert((k.to_string(), f.to_string()), v.to_string());
            }
            ["L", k, v] => self
                .lists
                .entry(k.to_string())
                .or_default()
                .push(v.to_string()),
            _ => return Err(format!("child printed an unexpected line: {line:?}").into()),
        }
        Ok(())
    }

    fn verify(&self, store: &Store) -> Result<(), String> {
        for (k, v) in &self.strings {
            let got = store.get(k).map_err(|e| e.to_string())?;
            if got.as_deref() != Some(v.as_bytes()) {
                return Err(format!("acknowledged SET {k} lost: found {got:?}"));
            }
        }
        for ((k, f), v) in &self.fields {
            let got = store.hget(k, f).map_err(|e| e.to_string())?;
            if got.as_deref() != Some(v.as_bytes()) {
                return Err(format!("acknowledged HSET {k} {f} lost: found {got:?}"));
            }
        }
        for (k, pushed) in &self.lists {
            let got = store.lrange(k, 0, -1).map_err(|e| e.to_string())?;
            // Every acknowledged push is there, in order; at most the
            // writes in flight when the child died follow them.
            if got.len() < pushed.len() || got.iter().zip(pushed).any(|(g, p)| g != p.as_bytes()) {
                return Err(format!(
                    "acknowledged RPUSHes to {k} lost: {} acknowledged, list holds {}",
                    pushed.len(),
                    got.len()
                ));
            }
        }
        Ok(())
    }
}

fn kill_9_rounds() -> Result<(), Failed> {
    let rounds: u64 =
        std::env::var("MEMKEEP_CRASH_ROUNDS").map_or(50, |s| s.parse().expect("rounds"));
    let dir = tempfile::tempdir()?;
    let exe = std::env::current_exe()?;
    let mut acked = Acked::default();
    let mut total = 0usize;
    let mut seed = 0x9e37_79b9_7f4a_7c15u64 ^ u64::from(std::process::id());
    for round in 0..rounds {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let run_for = Duration::from_millis(30 + seed % 400);
        let mut child = Command::new(&exe)
            .env(WRITER_DIR, dir.path())
            .env(WRITER_ROUND, round.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = child.stdout.take().expect("piped");
        let reader = std::thread::spawn(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .collect::<Vec<String>>()
        });
        let started = Instant::now();
        std::thread::sleep(run_for);
        if let Some(status) = child.try_wait()? {
            return Err(format!("the writer exited by itself ({status}) in round {round}").into());
        }
        child.kill()?; // SIGKILL
        child.wait()?;
        let lines = reader.join().map_err(|_| "reader thread panicked")?;
        // A line cut by the kill was never completely printed: not acknowledged.
        for line in &lines {
            acked.record(line)?;
        }
        total += lines.len();
        let store = Store::open(options(dir.path()).background(false))
            .map_err(|e| format!("round {round}: reopen after kill -9 failed: {e}"))?;
        for t in &store.open_report().truncations {
            if t.data_lost {
                return Err(format!("round {round}: recovery dropped damaged data: {t:?}").into());
            }
        }
        acked
            .verify(&store)
            .map_err(|e| format!("round {round} (killed after {:?}): {e}", started.elapsed()))?;
        store.close()?;
    }
    if total < rounds as usize {
        return Err(format!(
            "only {total} writes were acknowledged in {rounds} rounds: the test proved little"
        )
        .into());
    }
    eprintln!("{rounds} kill -9 rounds, {total} acknowledged writes, all present after recovery");
    Ok(())
}
