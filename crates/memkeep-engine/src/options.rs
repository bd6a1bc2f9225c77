//! How a [`Store`](crate::Store) is opened. Every default is named once, here.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use crate::clock::{Clock, SystemClock};

/// When the journal is forced to disk, as Redis's `appendfsync`.
///
/// Under every policy a write is handed to the operating system before it is
/// acknowledged, so acknowledged writes survive the *process* being killed
/// (`kill -9`, the OOM killer). The policy decides what survives the
/// *machine* losing power.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(u8)]
pub enum FsyncPolicy {
    /// fsync before acknowledging (group commit shares one fsync among
    /// concurrent writers): nothing acknowledged is ever lost.
    Always = 0,
    /// fsync in the background about once a second: a power loss loses at
    /// most about a second of acknowledged writes.
    #[default]
    EverySec = 1,
    /// Never fsync explicitly; the operating system flushes when it likes.
    No = 2,
}

impl FromStr for FsyncPolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "always" => Ok(FsyncPolicy::Always),
            "everysec" => Ok(FsyncPolicy::EverySec),
            "no" => Ok(FsyncPolicy::No),
            _ => Err(format!(
                "unknown fsync policy {s:?}: use always, everysec or no"
            )),
        }
    }
}

impl fmt::Display for FsyncPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FsyncPolicy::Always => "always",
            FsyncPolicy::EverySec => "everysec",
            FsyncPolicy::No => "no",
        })
    }
}

/// What recovery does with damage that is not a torn tail.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Recovery {
    /// Refuse to open and name the damaged file and offset. A torn tail (a
    /// last record cut short by a crash) is still cut off: it was never
    /// acknowledged.
    #[default]
    Strict,
    /// Keep everything before the first damaged journal record and drop the
    /// rest of the journal (reported in [`OpenReport`](crate::OpenReport)).
    /// A damaged snapshot still stops the open.
    TruncateDamagedJournal,
}

/// Options for [`Store::open`](crate::Store::open).
#[derive(Clone)]
pub struct Options {
    /// The data directory (created if missing).
    pub dir: PathBuf,
    /// Journal fsync policy. Default: [`FsyncPolicy::EverySec`].
    pub fsync: FsyncPolicy,
    /// A journal segment is sealed and a new one started past this size.
    /// Default: 64 MiB.
    pub segment_bytes: u64,
    /// Take a snapshot once this many journal bytes were written since the
    /// last one. Default: 64 MiB.
    pub snapshot_after_bytes: u64,
    /// Take a snapshot this long after the last one if anything was written.
    /// Default: one hour. `None` disables the timer.
    pub snapshot_interval: Option<Duration>,
    /// Recovery policy for damaged files. Default: [`Recovery::Strict`].
    pub recovery: Recovery,
    /// Number of keyspace shards, a power of two. Default: 256.
    pub shards: usize,
    /// Time source for expiry and journal timestamps. Default: the system clock.
    pub clock: Arc<dyn Clock>,
    /// Run the housekeeping thread (background fsync, expiry sweeps,
    /// snapshot triggers). Default: true. Tests turn it off and call
    /// [`Store::housekeep`](crate::Store::housekeep) themselves.
    pub background: bool,
    /// How often the housekeeping thread runs. Default: 100 ms.
    pub housekeeping_interval: Duration,
    /// Keys examined per shard and housekeeping pass when sweeping expired
    /// keys. Default: 64.
    pub expire_sweep_keys: usize,
    #[doc(hidden)]
    pub faults: Faults,
}

/// Fault injection for tests of the journal's failure handling.
#[doc(hidden)]
#[derive(Clone, Default, Debug)]
pub struct Faults {
    /// When set, the next journal fsync fails with an I/O error.
    pub fail_fsync: Arc<AtomicBool>,
}

impl Options {
    /// Default options for a data directory.
    pub fn new(dir: impl Into<PathBuf>) -> Options {
        Options {
            dir: dir.into(),
            fsync: FsyncPolicy::default(),
            segment_bytes: 64 << 20,
            snapshot_after_bytes: 64 << 20,
            snapshot_interval: Some(Duration::from_secs(3600)),
            recovery: Recovery::default(),
            shards: 256,
            clock: Arc::new(SystemClock),
            background: true,
            housekeeping_interval: Duration::from_millis(100),
            expire_sweep_keys: 64,
            faults: Faults::default(),
        }
    }

    pub fn fsync(mut self, policy: FsyncPolicy) -> Options {
        self.fsync = policy;
        self
    }

    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Options {
        self.clock = clock;
        self
    }

    pub fn background(mut self, on: bool) -> Options {
        self.background = on;
        self
    }

    pub fn recovery(mut self, recovery: Recovery) -> Options {
        self.recovery = recovery;
        self
    }

    pub fn segment_bytes(mut self, bytes: u64) -> Options {
        self.segment_bytes = bytes;
        self
    }

    pub fn snapshot_after_bytes(mut self, bytes: u64) -> Options {
        self.snapshot_after_bytes = bytes;
        self
    }

    pub fn snapshot_interval(mut self, every: Option<Duration>) -> Options {
        self.snapshot_interval = every;
        self
    }

    pub fn shards(mut self, shards: usize) -> Options {
        self.shards = shards;
        self
    }

    /// Checks the options for values the engine cannot work with.
    pub(crate) fn validate(&self) -> Result<(), String> {
        if !self.shards.is_power_of_two() || self.shards > 1 << 16 {
            return Err(format!(
                "shards must be a power of two up to 65536, not {}",
                self.shards
            ));
        }
        if self.segment_bytes < 4096 {
            return Err(format!(
                "segment_bytes must be at least 4096, not {}",
                self.segment_bytes
            ));
        }
        Ok(())
    }
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("dir", &self.dir)
            .field("fsync", &self.fsync)
            .field("segment_bytes", &self.segment_bytes)
            .field("snapshot_after_bytes", &self.snapshot_after_bytes)
            .field("snapshot_interval", &self.snapshot_interval)
            .field("recovery", &self.recovery)
            .field("shards", &self.shards)
            .field("background", &self.background)
            .finish_non_exhaustive()
    }
}
