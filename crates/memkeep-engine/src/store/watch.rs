//! `WATCH`: optimistic locking. A [`Watch`] is marked changed when any write
//! changes one of its keys after it was taken, so a transaction can refuse
//! to run on stale reads (Redis's `WATCH` … `MULTI` … `EXEC`).
//!
//! Writes pay only an atomic load while nothing is watched.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};

use parking_lot::Mutex;

use super::{Inner, Store};
use crate::op::Op;

/// Watched keys and the flags of the watches on them.
#[derive(Default)]
pub(crate) struct Watches {
    /// Number of live watch registrations (key × watch).
    active: AtomicUsize,
    by_key: Mutex<HashMap<Vec<u8>, Vec<Weak<AtomicBool>>>>,
}

impl Watches {
    /// Marks the watches on the keys `op` changes (every watch for `FlushAll`).
    pub(crate) fn touch(&self, op: &Op<'_>) {
        if self.active.load(Ordering::Acquire) == 0 {
            return;
        }
        let map = self.by_key.lock();
        let mark = |flags: &Vec<Weak<AtomicBool>>| {
            for f in flags.iter().filter_map(Weak::upgrade) {
                f.store(true, Ordering::Release);
            }
        };
        match op.keys() {
            [None, None] => map.values().for_each(mark),
            keys => keys
                .iter()
                .flatten()
                .filter_map(|k| map.get(*k))
                .for_each(mark),
        }
    }

    fn add(&self, key: &[u8], flag: &Arc<AtomicBool>) {
        self.by_key
            .lock()
            .entry(key.to_vec())
            .or_default()
            .push(Arc::downgrade(flag));
        self.active.fetch_add(1, Ordering::AcqRel);
    }

    fn remove(&self, key: &[u8], flag: &Arc<AtomicBool>) {
        let mut map = self.by_key.lock();
        if let Some(flags) = map.get_mut(key) {
            let before = flags.len();
            flags.retain(|w| !std::ptr::eq(w.as_ptr(), Arc::as_ptr(flag)));
            self.active
                .fetch_sub(before - flags.len(), Ordering::AcqRel);
            if flags.is_empty() {
                map.remove(key);
            }
        }
    }
}

/// Keys being watched by one client. Dropping it stops watching.
pub struct Watch {
    inner: Arc<Inner>,
    flag: Arc<AtomicBool>,
    keys: Vec<Vec<u8>>,
}

impl Watch {
    /// Watches `key` too (a repeated `WATCH`).
    pub fn add(&mut self, key: impl AsRef<[u8]>) {
        let key = key.as_ref();
        if !self.keys.iter().any(|k| k == key) {
            self.inner.watches.add(key, &self.flag);
            self.keys.push(key.to_vec());
        }
    }

    /// Whether any watched key was changed since it was watched. Check it
    /// inside the transaction that depends on it: the transaction's locks
    /// keep it from changing between the check and the writes.
    pub fn changed(&self) -> bool {
        self.flag.load(Ordering::Acquire)
    }

    pub fn keys(&self) -> &[Vec<u8>] {
        &self.keys
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        for k in &self.keys {
            self.inner.watches.remove(k, &self.flag);
        }
    }
}

impl Store {
    /// Starts watching `keys` (`WATCH`).
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let store = memkeep_engine::Store::open(memkeep_engine::Options::new(dir.path()))?;
    /// use memkeep_engine::Keys;
    /// let watch = store.watch(["stock"]);
    /// store.set("stock", "9")?; // someone else changes it
    /// let ran = store.transaction(Keys::Some(&[b"stock"]), |tx| {
    ///     if watch.changed() {
    ///         return Ok(false); // EXEC answers nil
    ///     }
    ///     tx.incr_by("stock", -1)?;
    ///     Ok(true)
    /// })?;
    /// assert!(!ran);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn watch<K: AsRef<[u8]>>(&self, keys: impl IntoIterator<Item = K>) -> Watch {
        let mut w = Watch {
            inner: Arc::clone(&self.inner),
            flag: Arc::new(AtomicBool::new(false)),
            keys: Vec::new(),
        };
        for k in keys {
            w.add(k);
        }
        w
    }
}
