//! Hash commands (the reads are in [`Reads`](crate::Reads)). A hash is also
//! a *collection* of JSON documents (the seed's `user_configs`): one field
//! per document, changed one field at a time.

use super::Store;
use super::read::Reads;
use super::tx::{Keys, Tx};
use crate::error::{Error, Result};
use crate::mem::packed_map::PackedMap;
use crate::numbers::{format_float, parse_float, parse_int};
use crate::op::Op;

impl Tx<'_> {
    /// Runs `f` on the live hash at `key` (after deleting it if expired).
    fn with_hash<R>(&mut self, key: &[u8], f: impl FnOnce(Option<&PackedMap>) -> R) -> Result<R> {
        self.live_entry(key)?;
        self.view(key, |v| Ok(f(v.hash()?)))?
    }

    /// Sets fields (`HSET`); returns how many were new.
    pub fn hset<F: AsRef<[u8]>, V: AsRef<[u8]>>(
        &mut self,
        key: impl AsRef<[u8]>,
        pairs: impl IntoIterator<Item = (F, V)>,
    ) -> Result<u64> {
        let key = key.as_ref();
        let pairs: Vec<(F, V)> = pairs.into_iter().collect();
        let bytes: usize = pairs
            .iter()
            .map(|(f, v)| f.as_ref().len() + v.as_ref().len() + 16)
            .sum();
        self.with_hash(key, |m| match m {
            Some(m) if !m.has_room_for(bytes) => Err(Error::CollectionFull),
            _ => Ok(()),
        })??;
        let mut added = 0;
        for (f, v) in &pairs {
            let (field, value) = (f.as_ref(), v.as_ref());
            let is_new = self.with_hash(key, |m| m.is_none_or(|m| !m.contains(field)))?;
            self.emit(Op::HSet { key, field, value })?;
            added += u64::from(is_new);
        }
        Ok(added)
    }

    /// Sets a field only if it is absent (`HSETNX`).
    pub fn hsetnx(
        &mut self,
        key: impl AsRef<[u8]>,
        field: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
    ) -> Result<bool> {
        let (key, field, value) = (key.as_ref(), field.as_ref(), value.as_ref());
        if self.with_hash(key, |m| m.is_some_and(|m| m.contains(field)))? {
            return Ok(false);
        }
        self.emit(Op::HSet { key, field, value })?;
        Ok(true)
    }

    /// Deletes fields (`HDEL`); returns how many existed. An emptied hash is
    /// deleted.
    pub fn hdel<F: AsRef<[u8]>>(&mut self, key: impl AsRef<[u8]>, fields: &[F]) -> Result<u64> {
        let key = key.as_ref();
        let mut n = 0;
        for f in fields {
            let field = f.as_ref();
            if self.with_hash(key, |m| m.is_some_and(|m| m.contains(field)))? {
                self.emit(Op::HDel { key, field })?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Adds `by` to an integer field (`HINCRBY`).
    pub fn hincr_by(
        &mut self,
        key: impl AsRef<[u8]>,
        field: impl AsRef<[u8]>,
        by: i64,
    ) -> Result<i64> {
        let (key, field) = (key.as_ref(), field.as_ref());
        let cur = self.with_hash(key, |m| m.and_then(|m| m.get(field)).map(parse_int))?;
        let cur = match cur {
            Some(Some(v)) => v,
            Some(None) => return Err(Error::HashNotInteger),
            None => 0,
        };
        let new = cur.checked_add(by).ok_or(Error::Overflow)?;
        self.emit(Op::HSet {
            key,
            field,
            value: new.to_string().as_bytes(),
        })?;
        Ok(new)
    }

    /// Adds `by` to a float field (`HINCRBYFLOAT`); returns the stored text.
    pub fn hincr_by_float(
        &mut self,
        key: impl AsRef<[u8]>,
        field: impl AsRef<[u8]>,
        by: f64,
    ) -> Result<Vec<u8>> {
        let (key, field) = (key.as_ref(), field.as_ref());
        if !by.is_finite() {
            return Err(Error::NanOrInfinity);
        }
        let cur = self.with_hash(key, |m| m.and_then(|m| m.get(field)).map(parse_float))?;
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
        self.emit(Op::HSet {
            key,
            field,
            value: text.as_bytes(),
        })?;
        Ok(text.into_bytes())
    }
}

impl Store {
    /// Sets fields (`HSET`); returns how many were new.
    ///
    /// A hash is the natural home of a collection of JSON documents, one per
    /// field; changing one document journals only that field:
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let store = memkeep_engine::Store::open(memkeep_engine::Options::new(dir.path()))?;
    /// use memkeep_engine::Reads;
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
        self.transaction(Keys::Some(&[key]), |tx| tx.hset(key, pairs))
    }

    /// Sets a field only if it is absent (`HSETNX`).
    pub fn hsetnx(
        &self,
        key: impl AsRef<[u8]>,
        field: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
    ) -> Result<bool> {
        let key = key.as_ref();
        self.transaction(Keys::Some(&[key]), |tx| tx.hsetnx(key, field, value))
    }

    /// Deletes fields (`HDEL`); returns how many existed.
    pub fn hdel<F: AsRef<[u8]>>(&self, key: impl AsRef<[u8]>, fields: &[F]) -> Result<u64> {
        let key = key.as_ref();
        self.transaction(Keys::Some(&[key]), |tx| tx.hdel(key, fields))
    }

    /// Adds `by` to an integer field (`HINCRBY`).
    pub fn hincr_by(&self, key: impl AsRef<[u8]>, field: impl AsRef<[u8]>, by: i64) -> Result<i64> {
        let key = key.as_ref();
        self.transaction(Keys::Some(&[key]), |tx| tx.hincr_by(key, field, by))
    }

    /// Adds `by` to a float field (`HINCRBYFLOAT`).
    pub fn hincr_by_float(
        &self,
        key: impl AsRef<[u8]>,
        field: impl AsRef<[u8]>,
        by: f64,
    ) -> Result<Vec<u8>> {
        let key = key.as_ref();
        self.transaction(Keys::Some(&[key]), |tx| tx.hincr_by_float(key, field, by))
    }
}
