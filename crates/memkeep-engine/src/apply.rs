//! Applying an [`Op`] to the keyspace: the one place shards are mutated.
//!
//! The live write path and journal replay both come here, which is what
//! makes replay reproduce the acknowledged state exactly. Application is
//! "raw": it never looks at the clock (expiry decisions were resolved into
//! ops when the command ran).
//!
//! A live command validates before it emits an op, so an op that does not
//! apply means the journal does not belong to the snapshot it is replayed on.

use crate::keyspace::{KeyHasher, NewValue, Object, Shard, Stored, Taken};
use crate::mem::packed_list::PackedList;
use crate::mem::packed_map::PackedMap;
use crate::mem::zset::ZSet;
use crate::op::Op;

/// Why an op did not apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mismatch(pub(crate) &'static str);

/// Access to the shards an op may touch.
pub(crate) trait Shards {
    fn hasher(&self) -> KeyHasher;
    /// The shard that owns `hash` (it must be among those locked).
    fn shard(&mut self, hash: u64) -> &mut Shard;
    /// Every shard (for `FlushAll`; the caller holds all of them).
    fn for_each(&mut self, f: &mut dyn FnMut(&mut Shard));
}

/// Applies `op`.
pub(crate) fn apply(shards: &mut impl Shards, op: &Op<'_>) -> Result<(), Mismatch> {
    let hasher = shards.hasher();
    match *op {
        Op::FlushAll => {
            shards.for_each(&mut |s| s.clear());
            Ok(())
        }
        Op::Rename { from, to } => {
            if from == to {
                return Ok(());
            }
            let (taken, expire_at) = shards
                .shard(hasher.hash(from))
                .take(hasher.hash(from), from)
                .ok_or(Mismatch("rename of a missing key"))?;
            let h = hasher.hash(to);
            match taken {
                Taken::Str(v) => shards.shard(h).insert(h, to, NewValue::Str(&v), expire_at),
                Taken::Object(o) => shards
                    .shard(h)
                    .insert(h, to, NewValue::Object(o), expire_at),
            }
            Ok(())
        }
        _ => {
            let key = op.keys()[0].expect("single-key op");
            let h = hasher.hash(key);
            apply_to_key(shards.shard(h), h, key, op)
        }
    }
}

fn apply_to_key(s: &mut Shard, h: u64, key: &[u8], op: &Op<'_>) -> Result<(), Mismatch> {
    match *op {
        Op::Set {
            value, expire_at, ..
        } => s.insert(h, key, NewValue::Str(value), expire_at),
        Op::Del { .. } => {
            s.remove(h, key);
        }
        Op::Expire { at, .. } => {
            if !s.set_expiry(h, key, Some(at)) {
                return Err(Mismatch("expire of a missing key"));
            }
        }
        Op::Persist { .. } => {
            if !s.set_expiry(h, key, None) {
                return Err(Mismatch("persist of a missing key"));
            }
        }
        Op::Append { data, .. } => edit_string(s, h, key, |v| v.extend_from_slice(data))?,
        Op::SetRange { offset, data, .. } => edit_string(s, h, key, |v| {
            let end = offset as usize + data.len();
            if v.len() < end {
                v.resize(end, 0);
            }
            v[offset as usize..end].copy_from_slice(data);
        })?,
        Op::HSet { field, value, .. } => {
            let idx = collection(s, h, key, Stored::Hash, true)?.expect("created");
            s.with_object(idx, |o| match o {
                Object::Hash(m) => m.insert(field, value),
                _ => unreachable!("kind checked"),
            });
        }
        Op::HDel { field, .. } => remove_from(s, h, key, Stored::Hash, |o| match o {
            Object::Hash(m) => {
                m.remove(field);
            }
            _ => unreachable!("kind checked"),
        })?,
        Op::LPush { value, .. } | Op::RPush { value, .. } => {
            let front = matches!(op, Op::LPush { .. });
            let idx = collection(s, h, key, Stored::List, true)?.expect("created");
            s.with_object(idx, |o| match o {
                Object::List(l) if front => l.push_front(value),
                Object::List(l) => l.push_back(value),
                _ => unreachable!("kind checked"),
            });
        }
        Op::LPop { count, .. } | Op::RPop { count, .. } => {
            let front = matches!(op, Op::LPop { .. });
            remove_from(s, h, key, Stored::List, |o| match o {
                Object::List(l) => {
                    for _ in 0..count {
                        let popped = if front { l.pop_front() } else { l.pop_back() };
                        if popped.is_none() {
                            break;
                        }
                    }
                }
                _ => unreachable!("kind checked"),
            })?;
        }
        Op::LSet { index, value, .. } => {
            let ok = list_edit(s, h, key, |l| l.set(index as usize, value))?;
            if !ok {
                return Err(Mismatch("list index out of range"));
            }
        }
        Op::LInsert { index, value, .. } => {
            let ok = list_edit(s, h, key, |l| {
                let fits = (index as usize) <= l.len();
                if fits {
                    l.insert(index as usize, value);
                }
                fits
            })?;
            if !ok {
                return Err(Mismatch("list index out of range"));
            }
        }
        Op::LRem { count, value, .. } => remove_from(s, h, key, Stored::List, |o| match o {
            Object::List(l) => {
                l.remove_matching(count, value);
            }
            _ => unreachable!("kind checked"),
        })?,
        Op::LTrim { start, stop, .. } => remove_from(s, h, key, Stored::List, |o| match o {
            Object::List(l) => l.trim(start as usize, stop as usize),
            _ => unreachable!("kind checked"),
        })?,
        Op::SAdd { member, .. } => {
            let idx = collection(s, h, key, Stored::Set, true)?.expect("created");
            s.with_object(idx, |o| match o {
                Object::Set(m) => m.insert(member, b""),
                _ => unreachable!("kind checked"),
            });
        }
        Op::SRem { member, .. } => remove_from(s, h, key, Stored::Set, |o| match o {
            Object::Set(m) => {
                m.remove(member);
            }
            _ => unreachable!("kind checked"),
        })?,
        Op::ZAdd { score, member, .. } => {
            let idx = collection(s, h, key, Stored::ZSet, true)?.expect("created");
            s.with_object(idx, |o| match o {
                Object::ZSet(z) => z.insert(member, score),
                _ => unreachable!("kind checked"),
            });
        }
        Op::ZRem { member, .. } => remove_from(s, h, key, Stored::ZSet, |o| match o {
            Object::ZSet(z) => {
                z.remove(member);
            }
            _ => unreachable!("kind checked"),
        })?,
        Op::FlushAll | Op::Rename { .. } => unreachable!("handled by apply"),
    }
    Ok(())
}

/// The object index of `key`'s collection of kind `kind`; with `create`, an
/// empty one is made when the key is absent.
fn collection(
    s: &mut Shard,
    h: u64,
    key: &[u8],
    kind: Stored,
    create: bool,
) -> Result<Option<u32>, Mismatch> {
    match s.get(h, key) {
        Some(e) if e.stored == kind => Ok(Some(e.object)),
        Some(_) => Err(Mismatch("op on a key of another type")),
        None if create => {
            let obj = match kind {
                Stored::Hash => Object::Hash(PackedMap::default()),
                Stored::Set => Object::Set(PackedMap::default()),
                Stored::List => Object::List(Box::<PackedList>::default()),
                Stored::ZSet => Object::ZSet(Box::<ZSet>::default()),
                Stored::Inline | Stored::BigString => unreachable!("not a collection"),
            };
            s.insert(h, key, NewValue::Object(obj), None);
            Ok(Some(s.get(h, key).expect("just inserted").object))
        }
        None => Ok(None),
    }
}

/// Runs a removal on `key`'s collection and deletes the key once empty
/// (Redis never keeps empty collections). Absent keys are left alone.
fn remove_from(
    s: &mut Shard,
    h: u64,
    key: &[u8],
    kind: Stored,
    f: impl FnOnce(&mut Object),
) -> Result<(), Mismatch> {
    let Some(idx) = collection(s, h, key, kind, false)? else {
        return Ok(());
    };
    if s.with_object(idx, |o| {
        f(o);
        o.is_empty_collection()
    }) {
        s.remove(h, key);
    }
    Ok(())
}

fn list_edit<R>(
    s: &mut Shard,
    h: u64,
    key: &[u8],
    f: impl FnOnce(&mut PackedList) -> R,
) -> Result<R, Mismatch> {
    let idx =
        collection(s, h, key, Stored::List, false)?.ok_or(Mismatch("list op on a missing key"))?;
    Ok(s.with_object(idx, |o| match o {
        Object::List(l) => f(l),
        _ => unreachable!("kind checked"),
    }))
}

/// Edits a string value in place (big strings) or by rewriting the record.
fn edit_string(
    s: &mut Shard,
    h: u64,
    key: &[u8],
    f: impl FnOnce(&mut Vec<u8>),
) -> Result<(), Mismatch> {
    match s.get(h, key) {
        None => {
            let mut v = Vec::new();
            f(&mut v);
            s.insert(h, key, NewValue::Str(&v), None);
        }
        Some(e) if e.stored == Stored::Inline => {
            let mut v = e.inline.to_vec();
            f(&mut v);
            s.replace_string(h, key, &v);
        }
        Some(e) if e.stored == Stored::BigString => {
            s.with_object(e.object, |o| match o {
                Object::Str(v) => f(v),
                _ => unreachable!("kind checked"),
            });
        }
        Some(_) => return Err(Mismatch("string op on a key of another type")),
    }
    Ok(())
}
