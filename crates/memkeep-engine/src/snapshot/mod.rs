//! Snapshots: the whole keyspace at one sequence number, in one file under
//! `DIR/snapshots/`.
//!
//! - `format`: header, frames, items, footer, trailer.
//! - `capture`: one shard into frames.
//! - `sink`: the file being written.
//! - `load`: verification and parallel loading.
//!
//! How a snapshot stays consistent without fork and without stopping
//! writers is explained in `store/snapshot.rs`.

pub(crate) mod capture;
pub(crate) mod format;
pub(crate) mod load;
pub(crate) mod sink;

use std::io;
use std::path::{Path, PathBuf};

pub use format::SnapshotHeader;

use crate::error::{Error, Result};

/// A snapshot file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotInfo {
    pub path: PathBuf,
    /// The snapshot holds exactly the effects of records `1..=seq`.
    pub seq: u64,
    pub created_ms: u64,
    pub keys: u64,
    pub bytes: u64,
}

/// The file name of the snapshot at `seq`.
pub(crate) fn file_name(seq: u64) -> String {
    format!("{seq:020}.{}", format::EXTENSION)
}

/// Snapshot files in `dir`, oldest first.
pub(crate) fn list(dir: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(Error::io(dir, e)),
    };
    let suffix = format!(".{}", format::EXTENSION);
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(stem) = name.strip_suffix(&suffix)
            && stem.len() == 20
            && let Ok(seq) = stem.parse::<u64>()
        {
            out.push((seq, entry.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// Verifies a snapshot file completely, building no state.
pub fn verify(path: &Path) -> Result<(SnapshotHeader, SnapshotInfo)> {
    let v = load::verify(path)?;
    Ok((
        v.header,
        SnapshotInfo {
            path: path.to_owned(),
            seq: v.header.seq,
            created_ms: v.header.created_ms,
            keys: v.footer.keys,
            bytes: v.bytes,
        },
    ))
}
