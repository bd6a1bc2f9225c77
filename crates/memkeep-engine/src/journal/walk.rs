//! Walking the chain of segments in sequence order: the shared core of
//! recovery (which applies records) and `check` (which only verifies).
//!
//! The walk stops at the first thing that is not a clean record and says
//! exactly where; the caller decides what that means (cut a torn tail, stop
//! with an error, or report).

use std::path::{Path, PathBuf};

use super::record::RecordView;
use super::segment::{Next, SegmentReader};
use crate::error::{Error, Result};

/// How a walk ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WalkEnd {
    /// Every segment read to its end.
    Clean,
    /// A torn record at `offset` of `file`; `last` says whether `file` is the
    /// newest segment (the only place a crash can tear).
    Torn {
        file: PathBuf,
        offset: u64,
        reason: String,
        last: bool,
    },
    /// Damage at `offset` of `file`.
    Damaged {
        file: PathBuf,
        offset: u64,
        reason: String,
    },
}

/// What a walk saw.
#[derive(Debug)]
pub(crate) struct Walk {
    /// The sequence number after the last good record.
    pub(crate) next_seq: u64,
    /// Records passed to the visitor.
    pub(crate) visited: u64,
    /// Bytes of the segments read (headers and records).
    pub(crate) bytes: u64,
    pub(crate) end: WalkEnd,
}

/// Segments that hold records after `after`, and those wholly covered by it.
pub(crate) fn split_covered(
    segments: &[(u64, PathBuf)],
    after: u64,
) -> (Vec<(u64, PathBuf)>, Vec<PathBuf>) {
    let mut covered = Vec::new();
    let mut needed = Vec::new();
    for (i, (first, path)) in segments.iter().enumerate() {
        // Segment i ends just before the next one starts.
        let wholly_covered = segments
            .get(i + 1)
            .is_some_and(|(next, _)| *next <= after + 1);
        if wholly_covered {
            covered.push(path.clone());
        } else {
            needed.push((*first, path.clone()));
        }
    }
    (needed, covered)
}

/// Reads `segments` (sorted, none wholly at or before `after`) and calls
/// `visit` with every record whose sequence number is above `after`.
pub(crate) fn walk(
    segments: &[(u64, PathBuf)],
    after: u64,
    store_id: Option<u64>,
    mut visit: impl FnMut(&Path, u64, RecordView<'_>) -> Result<()>,
) -> Result<Walk> {
    let mut walk = Walk {
        next_seq: after + 1,
        visited: 0,
        bytes: 0,
        end: WalkEnd::Clean,
    };
    let Some((first, first_path)) = segments.first() else {
        return Ok(walk);
    };
    if *first > after + 1 {
        return Ok(damaged(
            walk,
            first_path,
            0,
            format!(
                "the journal starts at record {first} but the state before it ends at record {after}: \
                 records {}..{} are missing",
                after + 1,
                first - 1
            ),
        ));
    }
    let mut expected = *first;
    for (i, (name_seq, path)) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        let mut reader = match SegmentReader::open(path) {
            Ok(r) => r,
            Err(Error::Corrupt { reason, .. }) => return Ok(damaged(walk, path, 0, reason)),
            Err(e) => return Err(e),
        };
        let header = reader.header();
        if header.first_seq != *name_seq {
            return Ok(damaged(
                walk,
                path,
                0,
                "segment name and header disagree on its first record",
            ));
        }
        if let Some(id) = store_id
            && header.store_id != id
        {
            return Ok(damaged(
                walk,
                path,
                0,
                "segment belongs to another store (store id differs)",
            ));
        }
        if header.first_seq != expected {
            let reason = format!(
                "segment starts at record {} but record {expected} was expected: a segment is missing",
                header.first_seq
            );
            return Ok(damaged(walk, path, 0, reason));
        }
        loop {
            let at = reader.offset();
            match reader.next_record()? {
                Next::Record => {
                    let rec = reader.record()?;
                    if rec.seq != expected {
                        let reason = format!(
                            "record {} found where record {expected} was expected",
                            rec.seq
                        );
                        return Ok(damaged(walk, path, at, reason));
                    }
                    if rec.seq > after {
                        visit(path, at, rec)?;
                        walk.visited += 1;
                    }
                    expected += 1;
                    walk.next_seq = walk.next_seq.max(expected);
                }
                Next::End => break,
                Next::Torn { offset, reason } => {
                    walk.bytes += offset;
                    walk.end = WalkEnd::Torn {
                        file: path.clone(),
                        offset,
                        reason,
                        last,
                    };
                    return Ok(walk);
                }
                Next::Damaged { offset, reason } => return Ok(damaged(walk, path, offset, reason)),
            }
        }
        walk.bytes += reader.file_len();
    }
    Ok(walk)
}

fn damaged(mut walk: Walk, file: &Path, offset: u64, reason: impl Into<String>) -> Walk {
    walk.end = WalkEnd::Damaged {
        file: file.to_owned(),
        offset,
        reason: reason.into(),
    };
    walk
}

impl WalkEnd {
    /// The error strict recovery gives for this end, if it is not clean.
    pub(crate) fn as_error(&self) -> Option<Error> {
        match self {
            WalkEnd::Clean => None,
            WalkEnd::Torn {
                file,
                offset,
                reason,
                ..
            }
            | WalkEnd::Damaged {
                file,
                offset,
                reason,
            } => Some(Error::corrupt(file, *offset, reason.clone())),
        }
    }
}
