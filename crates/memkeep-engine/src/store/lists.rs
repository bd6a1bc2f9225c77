//! List commands.

use super::Store;
use super::commit::{LockSet, WriteCtx};
use super::read::object_of;
use crate::error::{Error, Result};
use crate::keyspace::{Object, Stored};
use crate::mem::packed_list::PackedList;
use crate::op::Op;

fn list(o: &Object) -> &PackedList {
    match o {
        Object::List(l) => l,
        _ => unreachable!("kind checked"),
    }
}

fn with_list<R>(
    ctx: &mut WriteCtx<'_>,
    key: &[u8],
    f: impl FnOnce(Option<&PackedList>) -> R,
) -> Result<R> {
    let (shard, e) = ctx.get(key)?;
    match e {
        None => Ok(f(None)),
        Some(e) => Ok(f(Some(list(object_of(shard, &e, Stored::List)?)))),
    }
}

/// Resolves a Redis list index (negative counts from the tail).
fn index(i: i64, len: usize) -> Option<usize> {
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

impl Store {
    fn read_list<R>(&self, key: &[u8], f: impl FnOnce(Option<&PackedList>) -> R) -> Result<R> {
        self.inner.read(key, |shard, e| match e {
            None => Ok(f(None)),
            Some(e) => Ok(f(Some(list(object_of(shard, &e, Stored::List)?)))),
        })
    }

    fn push<V: AsRef<[u8]>>(
        &self,
        key: &[u8],
        values: &[V],
        front: bool,
        only_existing: bool,
    ) -> Result<u64> {
        self.inner.write(LockSet::Keys(&[key]), |ctx| {
            let len = with_list(ctx, key, |l| l.map(PackedList::len))?;
            if only_existing && len.is_none() {
                return Ok(0);
            }
            for v in values {
                let value = v.as_ref();
                ctx.emit(if front {
                    Op::LPush { key, value }
                } else {
                    Op::RPush { key, value }
                })?;
            }
            Ok((len.unwrap_or(0) + values.len()) as u64)
        })
    }

    /// Pushes to the head, each value in turn (`LPUSH`); returns the length.
    pub fn lpush<V: AsRef<[u8]>>(&self, key: impl AsRef<[u8]>, values: &[V]) -> Result<u64> {
        self.push(key.as_ref(), values, true, false)
    }

    /// Pushes to the tail (`RPUSH`); returns the length.
    pub fn rpush<V: AsRef<[u8]>>(&self, key: impl AsRef<[u8]>, values: &[V]) -> Result<u64> {
        self.push(key.as_ref(), values, false, false)
    }

    /// `LPUSHX`: pushes only onto an existing list (0 otherwise).
    pub fn lpushx<V: AsRef<[u8]>>(&self, key: impl AsRef<[u8]>, values: &[V]) -> Result<u64> {
        self.push(key.as_ref(), values, true, true)
    }

    /// `RPUSHX`: pushes only onto an existing list (0 otherwise).
    pub fn rpushx<V: AsRef<[u8]>>(&self, key: impl AsRef<[u8]>, values: &[V]) -> Result<u64> {
        self.push(key.as_ref(), values, false, true)
    }

    fn pop(&self, key: &[u8], count: usize, front: bool) -> Result<Option<Vec<Vec<u8>>>> {
        self.inner.write(LockSet::Keys(&[key]), |ctx| {
            let got = with_list(ctx, key, |l| {
                l.map(|l| {
                    let n = count.min(l.len());
                    if front {
                        l.iter().take(n).map(<[u8]>::to_vec).collect::<Vec<_>>()
                    } else {
                        let start = l.len() - n;
                        l.range(start, l.len() - 1).rev_collect()
                    }
                })
            })?;
            if let Some(items) = &got
                && !items.is_empty()
            {
                let count = items.len() as u64;
                ctx.emit(if front {
                    Op::LPop { key, count }
                } else {
                    Op::RPop { key, count }
                })?;
            }
            Ok(got)
        })
    }

    /// Pops up to `count` values from the head (`LPOP key count`); `None`
    /// when the key is absent.
    pub fn lpop(&self, key: impl AsRef<[u8]>, count: usize) -> Result<Option<Vec<Vec<u8>>>> {
        self.pop(key.as_ref(), count, true)
    }

    /// Pops up to `count` values from the tail, last first (`RPOP key count`).
    pub fn rpop(&self, key: impl AsRef<[u8]>, count: usize) -> Result<Option<Vec<Vec<u8>>>> {
        self.pop(key.as_ref(), count, false)
    }

    pub fn llen(&self, key: impl AsRef<[u8]>) -> Result<u64> {
        self.read_list(key.as_ref(), |l| l.map_or(0, |l| l.len() as u64))
    }

    /// Elements `start..=stop` with Redis's index rules (`LRANGE`).
    pub fn lrange(&self, key: impl AsRef<[u8]>, start: i64, stop: i64) -> Result<Vec<Vec<u8>>> {
        self.read_list(key.as_ref(), |l| {
            let Some(l) = l else { return Vec::new() };
            match range(start, stop, l.len()) {
                Some((a, b)) => l.range(a, b).map(<[u8]>::to_vec).collect(),
                None => Vec::new(),
            }
        })
    }

    pub fn lindex(&self, key: impl AsRef<[u8]>, i: i64) -> Result<Option<Vec<u8>>> {
        self.read_list(key.as_ref(), |l| {
            l.and_then(|l| index(i, l.len()).and_then(|i| l.get(i)).map(<[u8]>::to_vec))
        })
    }

    /// Replaces element `i` (`LSET`).
    pub fn lset(&self, key: impl AsRef<[u8]>, i: i64, value: impl AsRef<[u8]>) -> Result<()> {
        let (key, value) = (key.as_ref(), value.as_ref());
        self.inner.write(LockSet::Keys(&[key]), |ctx| {
            let len = with_list(ctx, key, |l| l.map(PackedList::len))?.ok_or(Error::NoSuchKey)?;
            let at = index(i, len).ok_or(Error::IndexOutOfRange)?;
            ctx.emit(Op::LSet {
                key,
                index: at as u64,
                value,
            })
        })
    }

    /// Removes elements equal to `value` (`LREM`): `count > 0` from the
    /// head, `< 0` from the tail, `0` all. Returns how many went.
    pub fn lrem(&self, key: impl AsRef<[u8]>, count: i64, value: impl AsRef<[u8]>) -> Result<u64> {
        let (key, value) = (key.as_ref(), value.as_ref());
        self.inner.write(LockSet::Keys(&[key]), |ctx| {
            let hits = with_list(ctx, key, |l| {
                l.map_or(0, |l| l.iter().filter(|x| *x == value).count())
            })?;
            let limit = if count == 0 {
                usize::MAX
            } else {
                count.unsigned_abs() as usize
            };
            let n = hits.min(limit);
            if n > 0 {
                ctx.emit(Op::LRem { key, count, value })?;
            }
            Ok(n as u64)
        })
    }

    /// Keeps only `start..=stop` (`LTRIM`); an empty range deletes the key.
    pub fn ltrim(&self, key: impl AsRef<[u8]>, start: i64, stop: i64) -> Result<()> {
        let key = key.as_ref();
        self.inner.write(LockSet::Keys(&[key]), |ctx| {
            let Some(len) = with_list(ctx, key, |l| l.map(PackedList::len))? else {
                return Ok(());
            };
            match range(start, stop, len) {
                None => ctx.emit(Op::Del { key }),
                Some((0, b)) if b + 1 == len => Ok(()),
                Some((a, b)) => ctx.emit(Op::LTrim {
                    key,
                    start: a as u64,
                    stop: b as u64,
                }),
            }
        })
    }

    /// Inserts `value` before or after the first `pivot` (`LINSERT`):
    /// the new length, -1 when `pivot` is absent, 0 when the key is.
    pub fn linsert(
        &self,
        key: impl AsRef<[u8]>,
        before: bool,
        pivot: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
    ) -> Result<i64> {
        let (key, pivot, value) = (key.as_ref(), pivot.as_ref(), value.as_ref());
        self.inner.write(LockSet::Keys(&[key]), |ctx| {
            let Some((len, pos)) =
                with_list(ctx, key, |l| l.map(|l| (l.len(), l.position(pivot))))?
            else {
                return Ok(0);
            };
            let Some(pos) = pos else { return Ok(-1) };
            let index = if before { pos } else { pos + 1 } as u64;
            ctx.emit(Op::LInsert { key, index, value })?;
            Ok(len as i64 + 1)
        })
    }
}

trait RevCollect<'a> {
    fn rev_collect(self) -> Vec<Vec<u8>>;
}

impl<'a, I: Iterator<Item = &'a [u8]>> RevCollect<'a> for I {
    fn rev_collect(self) -> Vec<Vec<u8>> {
        let mut v: Vec<Vec<u8>> = self.map(<[u8]>::to_vec).collect();
        v.reverse();
        v
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
