//! Hash commands. A hash is also a *collection* of JSON documents (the
//! seed's `user_configs`): one field per document, changed one field at a time.

use super::Store;
use super::commit::{LockSet, WriteCtx};
use super::read::object_of;
use super::scan::{decode_map_cursor, encode_map_cursor};
use crate::error::{Error, Result};
use crate::glob::glob_match;
use crate::keyspace::{Object, Stored};
use crate::mem::packed_map::PackedMap;
use crate::numbers::{format_float, parse_float, parse_int};
use crate::op::Op;

type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

fn map(o: &Object) -> &PackedMap {
    match o {
        Object::Hash(m) => m,
        _ => unreachable!("kind checked"),
    }
}

/// The live hash at `key` (a clone-free view is not possible across the
/// emit that follows, so callers copy what they need).
fn with_hash<R>(
    ctx: &mut WriteCtx<'_>,
    key: &[u8],
    f: impl FnOnce(Option<&PackedMap>) -> R,
) -> Result<R> {
    let (shard, e) = ctx.get(key)?;
    match e {
        None => Ok(f(None)),
        Some(e) => Ok(f(Some(map(object_of(shard, &e, Stored::Hash)?)))),
    }
}

impl Store {
    fn read_hash<R>(&self, key: &[u8], f: impl FnOnce(Option<&PackedMap>) -> R) -> Result<R> {
        self.inner.read(key, |shard, e| match e {
            None => Ok(f(None)),
            Some(e) => Ok(f(Some(map(object_of(shard, &e, Stored::Hash)?)))),
        })
    }

    /// Sets fields (`HSET`); returns how many were new.
    ///
    /// A hash is the natural home of a collection of JSON documents, one per
    /// field; changing one document journals only that field:
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let store = memkeep_engine::Store::open(memkeep_engine::Options::new(dir.path()))?;
    /// store.hset("user_configs", [("12345", r#"{"lang":"zh"}"#), ("67890", r#"{"lang":"en"}"#)])?;
    /// assert_eq!(store.hset("user_configs", [("12345", r#"{"lang":"ja"}"#)])?, 0); // updated, not new
    /// assert_eq!(store.hlen("user_configs")?, 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn hset<F: AsRef<[u8]>, V: AsRef<[u8]>>(
        &self,
        key: impl AsRef<[u8]>,
        pairs: impl IntoIterator<Item = (F, V)>,
    ) -> Result<u64> {
        let key = key.as_ref();
        let pairs: Vec<(F, V)> = pairs.into_iter().collect();
        self.inner.write(LockSet::Keys(&[key]), |ctx| {
            let bytes: usize = pairs
                .iter()
                .map(|(f, v)| f.as_ref().len() + v.as_ref().len() + 16)
                .sum();
            with_hash(ctx, key, |m| match m {
                Some(m) if !m.has_room_for(bytes) => Err(Error::CollectionFull),
                _ => Ok(()),
            })??;
            let mut added = 0;
            for (f, v) in &pairs {
                let (f, v) = (f.as_ref(), v.as_ref());
                let is_new = with_hash(ctx, key, |m| m.is_none_or(|m| !m.contains(f)))?;
                ctx.emit(Op::HSet {
                    key,
                    field: f,
                    value: v,
                })?;
                added += u64::from(is_new);
            }
            Ok(added)
        })
    }

    /// Sets a field only if it is absent (`HSETNX`).
    pub fn hsetnx(
        &self,
        key: impl AsRef<[u8]>,
        field: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
    ) -> Result<bool> {
        let (key, field, value) = (key.as_ref(), field.as_ref(), value.as_ref());
        self.inner.write(LockSet::Keys(&[key]), |ctx| {
            if with_hash(ctx, key, |m| m.is_some_and(|m| m.contains(field)))? {
                return Ok(false);
            }
            ctx.emit(Op::HSet { key, field, value })?;
            Ok(true)
        })
    }

    pub fn hget(&self, key: impl AsRef<[u8]>, field: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>> {
        self.read_hash(key.as_ref(), |m| {
            m.and_then(|m| m.get(field.as_ref()).map(<[u8]>::to_vec))
        })
    }

    pub fn hmget<F: AsRef<[u8]>>(
        &self,
        key: impl AsRef<[u8]>,
        fields: &[F],
    ) -> Result<Vec<Option<Vec<u8>>>> {
        self.read_hash(key.as_ref(), |m| {
            fields
                .iter()
                .map(|f| m.and_then(|m| m.get(f.as_ref()).map(<[u8]>::to_vec)))
                .collect()
        })
    }

    pub fn hgetall(&self, key: impl AsRef<[u8]>) -> Result<Pairs> {
        self.read_hash(key.as_ref(), |m| {
            m.map_or_else(Vec::new, |m| {
                m.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect()
            })
        })
    }

    pub fn hkeys(&self, key: impl AsRef<[u8]>) -> Result<Vec<Vec<u8>>> {
        self.read_hash(key.as_ref(), |m| {
            m.map_or_else(Vec::new, |m| m.iter().map(|(f, _)| f.to_vec()).collect())
        })
    }

    pub fn hvals(&self, key: impl AsRef<[u8]>) -> Result<Vec<Vec<u8>>> {
        self.read_hash(key.as_ref(), |m| {
            m.map_or_else(Vec::new, |m| m.iter().map(|(_, v)| v.to_vec()).collect())
        })
    }

    pub fn hlen(&self, key: impl AsRef<[u8]>) -> Result<u64> {
        self.read_hash(key.as_ref(), |m| m.map_or(0, |m| m.len() as u64))
    }

    pub fn hexists(&self, key: impl AsRef<[u8]>, field: impl AsRef<[u8]>) -> Result<bool> {
        self.read_hash(key.as_ref(), |m| {
            m.is_some_and(|m| m.contains(field.as_ref()))
        })
    }

    pub fn hstrlen(&self, key: impl AsRef<[u8]>, field: impl AsRef<[u8]>) -> Result<u64> {
        self.read_hash(key.as_ref(), |m| {
            m.and_then(|m| m.get(field.as_ref()))
                .map_or(0, |v| v.len() as u64)
        })
    }

    /// Deletes fields (`HDEL`); returns how many existed. An emptied hash is
    /// deleted.
    pub fn hdel<F: AsRef<[u8]>>(&self, key: impl AsRef<[u8]>, fields: &[F]) -> Result<u64> {
        let key = key.as_ref();
        self.inner.write(LockSet::Keys(&[key]), |ctx| {
            let mut n = 0;
            for f in fields {
                let f = f.as_ref();
                if with_hash(ctx, key, |m| m.is_some_and(|m| m.contains(f)))? {
                    ctx.emit(Op::HDel { key, field: f })?;
                    n += 1;
                }
            }
            Ok(n)
        })
    }

    /// Adds `by` to an integer field (`HINCRBY`).
    pub fn hincr_by(&self, key: impl AsRef<[u8]>, field: impl AsRef<[u8]>, by: i64) -> Result<i64> {
        let (key, field) = (key.as_ref(), field.as_ref());
        self.inner.write(LockSet::Keys(&[key]), |ctx| {
            let cur = with_hash(ctx, key, |m| m.and_then(|m| m.get(field)).map(parse_int))?;
            let cur = match cur {
                Some(Some(v)) => v,
                Some(None) => return Err(Error::HashNotInteger),
                None => 0,
            };
            let new = cur.checked_add(by).ok_or(Error::Overflow)?;
            ctx.emit(Op::HSet {
                key,
                field,
                value: new.to_string().as_bytes(),
            })?;
            Ok(new)
        })
    }

    /// Adds `by` to a float field (`HINCRBYFLOAT`); returns the stored text.
    pub fn hincr_by_float(
        &self,
        key: impl AsRef<[u8]>,
        field: impl AsRef<[u8]>,
        by: f64,
    ) -> Result<Vec<u8>> {
        let (key, field) = (key.as_ref(), field.as_ref());
        if !by.is_finite() {
            return Err(Error::NanOrInfinity);
        }
        self.inner.write(LockSet::Keys(&[key]), |ctx| {
            let cur = with_hash(ctx, key, |m| m.and_then(|m| m.get(field)).map(parse_float))?;
            let cur = match cur {
                Some(Some(v)) => v,
                Some(None) => return Err(Error::HashNotFloat),
                None => 0.0,
            };
            let new = cur + by;
            if !new.is_finite() {
                return Err(Error::NanOrInfinity);
            }
            let text = format_float(new);
            ctx.emit(Op::HSet {
                key,
                field,
                value: text.as_bytes(),
            })?;
            Ok(text.into_bytes())
        })
    }

    /// Iterates a hash (`HSCAN`): pairs from `cursor` on (start with 0), and
    /// the cursor to continue with (0 when done). `count` is a hint of work.
    pub fn hscan(
        &self,
        key: impl AsRef<[u8]>,
        cursor: u64,
        pattern: Option<&[u8]>,
        count: usize,
    ) -> Result<(u64, Pairs)> {
        self.read_hash(key.as_ref(), |m| {
            let Some(m) = m else { return (0, Vec::new()) };
            let mut out = Vec::new();
            let next = m.scan(decode_map_cursor(cursor), count, |f, v| {
                if pattern.is_none_or(|p| glob_match(p, f)) {
                    out.push((f.to_vec(), v.to_vec()));
                }
            });
            (encode_map_cursor(next), out)
        })
    }
}
