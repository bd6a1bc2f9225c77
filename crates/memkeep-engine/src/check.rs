//! Offline verification of a data directory: what `memkeep check` reports.
//!
//! Reads every snapshot and journal file, verifies every checksum, decodes
//! every record and item, and checks that the journal continues the newest
//! snapshot without gaps. Never modifies anything and takes no lock, so it
//! can run beside a live server (whose newest segment may then show a
//! record being written as a torn tail).

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::journal::segment::{self, Next, SegmentReader};
use crate::snapshot;
use crate::store::{JOURNAL_DIR, SNAPSHOT_DIR};

/// What kind of file a [`FileCheck`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Snapshot,
    Segment,
}

/// The state of one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileStatus {
    Ok,
    /// The last record is incomplete: opening the store cuts it off (it was
    /// never acknowledged).
    TornTail {
        offset: u64,
        reason: String,
    },
    /// Damage at `offset`: opening the store refuses.
    Damaged {
        offset: u64,
        reason: String,
    },
}

/// One file's report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileCheck {
    pub path: PathBuf,
    pub kind: FileKind,
    pub bytes: u64,
    pub status: FileStatus,
    /// Snapshot: its sequence number. Segment: the first record's number.
    pub first_seq: Option<u64>,
    /// Segment: the last complete record's number.
    pub last_seq: Option<u64>,
    /// Snapshot: keys. Segment: complete records.
    pub count: u64,
    /// True for files a newer snapshot supersedes (ignored when opening).
    pub superseded: bool,
}

/// The overall verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every file is whole.
    Healthy,
    /// Only a torn last record: the store opens and cuts it off.
    TornTail,
    /// The store will refuse to open (see the problems).
    Damaged,
}

/// Everything `check` found.
#[derive(Clone, Debug)]
pub struct CheckReport {
    pub dir: PathBuf,
    pub files: Vec<FileCheck>,
    /// Problems across files (gaps, store ids), in plain words.
    pub problems: Vec<String>,
    /// The last sequence number a store opened now would have.
    pub last_seq: u64,
    pub verdict: Verdict,
}

/// Checks the data directory `dir`.
pub fn check_dir(dir: &Path) -> Result<CheckReport> {
    if !dir.is_dir() {
        return Err(Error::io(
            dir,
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such data directory"),
        ));
    }
    let mut files = Vec::new();
    let mut problems = Vec::new();

    let snaps = snapshot::list(&dir.join(SNAPSHOT_DIR))?;
    let mut base: Option<(u64, u64)> = None; // (seq, store id) of the newest good snapshot
    for (i, (_, path)) in snaps.iter().enumerate().rev() {
        let newest = i + 1 == snaps.len();
        let bytes = std::fs::metadata(path).map_or(0, |m| m.len());
        let (status, seq, keys) = match snapshot::verify(path) {
            Ok((h, info)) => {
                if newest {
                    base = Some((h.seq, h.store_id));
                }
                (FileStatus::Ok, Some(h.seq), info.keys)
            }
            Err(Error::Corrupt { offset, reason, .. }) => {
                if newest {
                    problems.push(format!("the newest snapshot {} is damaged", path.display()));
                }
                (FileStatus::Damaged { offset, reason }, None, 0)
            }
            Err(e) => return Err(e),
        };
        files.push(FileCheck {
            path: path.clone(),
            kind: FileKind::Snapshot,
            bytes,
            status,
            first_seq: seq,
            last_seq: None,
            count: keys,
            superseded: !newest,
        });
    }
    files.reverse();

    let after = base.map_or(0, |(s, _)| s);
    let segments = segment::list(&dir.join(JOURNAL_DIR))?;
    let mut expected: Option<u64> = None;
    let mut last_seq = after;
    let mut store_id = base.map(|(_, id)| id);
    for (i, (name_seq, path)) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        let next_first = segments.get(i + 1).map(|(s, _)| *s);
        let superseded = next_first.is_some_and(|n| n <= after + 1);
        let mut fc = check_segment(path, *name_seq)?;
        fc.superseded = superseded;
        if let (Some(first), false) = (fc.first_seq, superseded) {
            match expected {
                None if first > after + 1 => problems.push(format!(
                    "records {}..{} are missing: the journal resumes at {} in {}",
                    after + 1,
                    first - 1,
                    first,
                    path.display()
                )),
                Some(e) if first != e => problems.push(format!(
                    "{} starts at record {first}, but record {e} comes next: a segment is missing",
                    path.display()
                )),
                _ => {}
            }
            if let Some(id) = store_id.filter(|_| fc.status == FileStatus::Ok) {
                if SegmentReader::open(path).map(|r| r.header().store_id).ok() != Some(id) {
                    problems.push(format!(
                        "{} belongs to another store (store id differs)",
                        path.display()
                    ));
                }
            } else if store_id.is_none() {
                store_id = SegmentReader::open(path).ok().map(|r| r.header().store_id);
            }
            let end = fc.last_seq.map_or(first, |l| l + 1);
            expected = Some(end);
            last_seq = last_seq.max(end - 1);
        }
        if let FileStatus::TornTail { .. } = fc.status
            && !last
        {
            problems.push(format!(
                "{} ends in a torn record but is not the newest segment",
                path.display()
            ));
        }
        if let FileStatus::Damaged { offset, reason } = &fc.status
            && !superseded
        {
            problems.push(format!(
                "{} is damaged at byte {offset}: {reason}",
                path.display()
            ));
        }
        files.push(fc);
    }
    let torn = files
        .iter()
        .any(|f| matches!(f.status, FileStatus::TornTail { .. }) && !f.superseded);
    let verdict = if !problems.is_empty() {
        Verdict::Damaged
    } else if torn {
        Verdict::TornTail
    } else {
        Verdict::Healthy
    };
    Ok(CheckReport {
        dir: dir.to_owned(),
        files,
        problems,
        last_seq,
        verdict,
    })
}

fn check_segment(path: &Path, name_seq: u64) -> Result<FileCheck> {
    let bytes = std::fs::metadata(path).map_or(0, |m| m.len());
    let mut fc = FileCheck {
        path: path.to_owned(),
        kind: FileKind::Segment,
        bytes,
        status: FileStatus::Ok,
        first_seq: None,
        last_seq: None,
        count: 0,
        superseded: false,
    };
    let mut reader = match SegmentReader::open(path) {
        Ok(r) => r,
        Err(Error::Corrupt { offset, reason, .. }) => {
            fc.status = FileStatus::Damaged { offset, reason };
            return Ok(fc);
        }
        Err(e) => return Err(e),
    };
    let first = reader.header().first_seq;
    fc.first_seq = Some(first);
    if first != name_seq {
        fc.status = FileStatus::Damaged {
            offset: 0,
            reason: "segment name and header disagree on its first record".into(),
        };
        return Ok(fc);
    }
    let mut expected = first;
    loop {
        let at = reader.offset();
        match reader.next_record()? {
            Next::Record => {
                let rec = reader.record()?;
                if rec.seq != expected {
                    fc.status = FileStatus::Damaged {
                        offset: at,
                        reason: format!(
                            "record {} found where record {expected} was expected",
                            rec.seq
                        ),
                    };
                    break;
                }
                if let Err(e) = rec.ops() {
                    fc.status = FileStatus::Damaged {
                        offset: at,
                        reason: format!("record {}: {e}", rec.seq),
                    };
                    break;
                }
                fc.last_seq = Some(rec.seq);
                fc.count += 1;
                expected += 1;
            }
            Next::End => break,
            Next::Torn { offset, reason } => {
                fc.status = FileStatus::TornTail { offset, reason };
                break;
            }
            Next::Damaged { offset, reason } => {
                fc.status = FileStatus::Damaged { offset, reason };
                break;
            }
        }
    }
    Ok(fc)
}
