//! List commands (the reads are in [`Reads`](crate::Reads)).

use super::Store;
use super::read::Reads;
use super::tx::{Keys, Tx};
use crate::error::{Error, Result};
use crate::mem::packed_list::PackedList;
use crate::op::Op;

/// Resolves a Redis list index (negative counts from the tail).
pub(crate) fn index(i: i64, len: usize) -> Option<usize> {
    let len = len as i64;
    let i = if i < 0 { len + i } else { i };
    (0..len).contains(&i).then_some(i as usize)
}

/// Resolves a Redis `start..=stop` range to in-bounds indexes, if non-empty.
pub(crate) fn range(start: i64, stop: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let start = if start < 0 {
        (len + start).max(0)
    } else {
        start
    };
    let stop = if stop < 0 { len + stop } else { stop }.min(len - 1);
    (start <= stop && start < len).then_some((start as usize, stop as usize))
}

impl Tx<'_> {
    /// Runs `f` on the live list at `key` (after deleting it if expired).
    fn with_list<R>(&mut self, key: &[u8], f: impl FnOnce(Option<&PackedList>) -> R) -> Result<R> {
        self.live_entry(key)?;
        self.view(key, |v| Ok(f(v.list()?)))?
    }

    /// Pushes each value in turn, to the head with `front` (`LPUSH`) or the
    /// tail (`RPUSH`); with `only_existing` only onto an existing list
    /// (`LPUSHX`, `RPUSHX`, which answer 0 otherwise). Returns the length.
    pub fn push<V: AsRef<[u8]>>(
        &mut self,
        key: impl AsRef<[u8]>,
        values: &[V],
        front: bool,
        only_existing: bool,
    ) -> Result<u64> {
        let key = key.as_ref();
        let len = self.with_list(key, |l| l.map(PackedList::len))?;
        if only_existing && len.is_none() {
            return Ok(0);
        }
        for v in values {
            let value = v.as_ref();
            self.emit(if front {
                Op::LPush { key, value }
            } else {
                Op::RPush { key, value }
            })?;
        }
        Ok((len.unwrap_or(0) + values.len()) as u64)
    }

    /// Pops up to `count` values from the head with `front` (`LPOP key
    /// count`) or the tail, last first (`RPOP`); `None` when the key is absent.
    pub fn pop(
        &mut self,
        key: impl AsRef<[u8]>,
        count: usize,
        front: bool,
    ) -> Result<Option<Vec<Vec<u8>>>> {
        let key = key.as_ref();
        let got = self.with_list(key, |l| {
            l.map(|l| {
                let n = count.min(l.len());
                let mut out: Vec<Vec<u8>> = if front {
                    l.iter().take(n).map(<[u8]>::to_vec).collect()
                } else {
                    l.range(l.len() - n, l.len().saturating_sub(1))
                        .map(<[u8]>::to_vec)
                        .collect()
                };
                if !front {
                    out.reverse();
                }
                out
            })
        })?;
        if let Some(items) = &got
            && !items.is_empty()
        {
            let count = items.len() as u64;
            self.emit(if front {
                Op::LPop { key, count }
            } else {
                Op::RPop { key, count }
            })?;
        }
        Ok(got)
    }

    /// Replaces element `i` (`LSET`).
    pub fn lset(&mut self, key: impl AsRef<[u8]>, i: i64, value: impl AsRef<[u8]>) -> Result<()> {
        let (key, value) = (key.as_ref(), value.as_ref());
        let len = self
            .with_list(key, |l| l.map(PackedList::len))?
            .ok_or(Error::NoSuchKey)?;
        let at = index(i, len).ok_or(Error::IndexOutOfRange)?;
        self.emit(Op::LSet {
            key,
            index: at as u64,
            value,
        })
    }

    /// Removes elements equal to `value` (`LREM`): `count > 0` from the
    /// head, `< 0` from the tail, `0` all. Returns how many went.
    pub fn lrem(
        &mut self,
        key: impl AsRef<[u8]>,
        count: i64,
        value: impl AsRef<[u8]>,
    ) -> Result<u64> {
        let (key, value) = (key.as_ref(), value.as_ref());
        let hits = self.with_list(key, |l| {
            l.map_or(0, |l| l.iter().filter(|x| *x == value).count())
        })?;
        let limit = if count == 0 {
            usize::MAX
        } else {
            count.unsigned_abs() as usize
        };
        let n = hits.min(limit);
        if n > 0 {
            self.emit(Op::LRem { key, count, value })?;
        }
        Ok(n as u64)
    }

    /// Keeps only `start..=stop` (`LTRIM`); an empty range deletes the key.
    pub fn ltrim(&mut self, key: impl AsRef<[u8]>, start: i64, stop: i64) -> Result<()> {
        let key = key.as_ref();
        let Some(len) = self.with_list(key, |l| l.map(PackedList::len))? else {
            return Ok(());
        };
        match range(start, stop, len) {
            None => self.emit(Op::Del { key }),
            Some((0, b)) if b + 1 == len => Ok(()),
            Some((a, b)) => self.emit(Op::LTrim {
                key,
                start: a as u64,
                stop: b as u64,
            }),
        }
    }

    /// Inserts `value` before or after the first `pivot` (`LINSERT`):
    /// the new length, -1 when `pivot` is absent, 0 when the key is.
    pub fn linsert(
        &mut self,
        key: impl AsRef<[u8]>,
        before: bool,
        pivot: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
    ) -> Result<i64> {
        let (key, pivot, value) = (key.as_ref(), pivot.as_ref(), value.as_ref());
        let Some((len, pos)) = self.with_list(key, |l| l.map(|l| (l.len(), l.position(pivot))))?
        else {
            return Ok(0);
        };
        let Some(pos) = pos else { return Ok(-1) };
        let index = if before { pos } else { pos + 1 } as u64;
        self.emit(Op::LInsert { key, index, value })?;
        Ok(len as i64 + 1)
    }
}

impl Store {
    /// Pushes to the head, each value in turn (`LPUSH`); returns the length.
    pub fn lpush<V: AsRef<[u8]>>(&self, key: impl AsRef<[u8]>, values: &[V]) -> Result<u64> {
        let key = key.as_ref();
        self.transaction(Keys::Some(&[key]), |tx| tx.push(key, values, true, false))
    }

    /// Pushes to the tail (`RPUSH`); returns the length.
    pub fn rpush<V: AsRef<[u8]>>(&self, key: impl AsRef<[u8]>, values: &[V]) -> Result<u64> {
        let key = key.as_ref();
        self.transaction(Keys::Some(&[key]), |tx| tx.push(key, values, false, false))
    }

    /// `LPUSHX`: pushes only onto an existing list (0 otherwise).
    pub fn lpushx<V: AsRef<[u8]>>(&self, key: impl AsRef<[u8]>, values: &[V]) -> Result<u64> {
        let key = key.as_ref();
        self.transaction(Keys::Some(&[key]), |tx| tx.push(key, values, true, true))
    }

    /// `RPUSHX`: pushes only onto an existing list (0 otherwise).
    pub fn rpushx<V: AsRef<[u8]>>(&self, key: impl AsRef<[u8]>, values: &[V]) -> Result<u64> {
        let key = key.as_ref();
        self.transaction(Keys::Some(&[key]), |tx| tx.push(key, values, false, true))
    }

    /// Pops up to `count` values from the head (`LPOP key count`).
    pub fn lpop(&self, key: impl AsRef<[u8]>, count: usize) -> Result<Option<Vec<Vec<u8>>>> {
        let key = key.as_ref();
        self.transaction(Keys::Some(&[key]), |tx| tx.pop(key, count, true))
    }

    /// Pops up to `count` values from the tail, last first (`RPOP key count`).
    pub fn rpop(&self, key: impl AsRef<[u8]>, count: usize) -> Result<Option<Vec<Vec<u8>>>> {
        let key = key.as_ref();
        self.transaction(Keys::Some(&[key]), |tx| tx.pop(key, count, false))
    }

    /// Replaces element `i` (`LSET`).
    pub fn lset(&self, key: impl AsRef<[u8]>, i: i64, value: impl AsRef<[u8]>) -> Result<()> {
        let key = key.as_ref();
        self.transaction(Keys::Some(&[key]), |tx| tx.lset(key, i, value))
    }

    /// Removes elements equal to `value` (`LREM`).
    pub fn lrem(&self, key: impl AsRef<[u8]>, count: i64, value: impl AsRef<[u8]>) -> Result<u64> {
        let key = key.as_ref();
        self.transaction(Keys::Some(&[key]), |tx| tx.lrem(key, count, value))
    }

    /// Keeps only `start..=stop` (`LTRIM`).
    pub fn ltrim(&self, key: impl AsRef<[u8]>, start: i64, stop: i64) -> Result<()> {
        let key = key.as_ref();
        self.transaction(Keys::Some(&[key]), |tx| tx.ltrim(key, start, stop))
    }

    /// Inserts `value` before or after the first `pivot` (`LINSERT`).
    pub fn linsert(
        &self,
        key: impl AsRef<[u8]>,
        before: bool,
        pivot: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
    ) -> Result<i64> {
        let key = key.as_ref();
        self.transaction(Keys::Some(&[key]), |tx| {
            tx.linsert(key, before, pivot, value)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::range;

    #[test]
    fn ranges_follow_redis() {
        assert_eq!(range(0, -1, 5), Some((0, 4)));
        assert_eq!(range(-2, -1, 5), Some((3, 4)));
        assert_eq!(range(-100, 100, 5), Some((0, 4)));
        assert_eq!(range(3, 1, 5), None);
        assert_eq!(range(5, 10, 5), None);
        assert_eq!(range(0, -6, 5), None);
        assert_eq!(range(0, 0, 0), None);
    }
}
