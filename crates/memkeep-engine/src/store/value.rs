//! Whole values: reading a key's complete value, and walking the dataset
//! (for export and for tests that compare stores).

use super::Store;
use crate::keyspace::{Entry, KeyType, Object, Shard};

/// A key's complete value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    String(Vec<u8>),
    /// Field/value pairs, in storage order.
    Hash(Vec<(Vec<u8>, Vec<u8>)>),
    List(Vec<Vec<u8>>),
    /// Members, in storage order.
    Set(Vec<Vec<u8>>),
    /// Members with scores, ascending by score then member.
    ZSet(Vec<(Vec<u8>, f64)>),
}

impl Value {
    pub fn key_type(&self) -> KeyType {
        match self {
            Value::String(_) => KeyType::String,
            Value::Hash(_) => KeyType::Hash,
            Value::List(_) => KeyType::List,
            Value::Set(_) => KeyType::Set,
            Value::ZSet(_) => KeyType::ZSet,
        }
    }
}

pub(crate) fn value_of(shard: &Shard, e: &Entry<'_>) -> Value {
    if e.stored == crate::keyspace::Stored::Inline {
        return Value::String(e.inline.to_vec());
    }
    match shard.object(e.object) {
        Object::Str(v) => Value::String(v.clone()),
        Object::Hash(m) => Value::Hash(m.iter().map(|(k, v)| (k.to_vec(), v.to_vec())).collect()),
        Object::List(l) => Value::List(l.iter().map(<[u8]>::to_vec).collect()),
        Object::Set(m) => Value::Set(m.iter().map(|(k, _)| k.to_vec()).collect()),
        Object::ZSet(z) => Value::ZSet(z.iter().map(|(m, s)| (m.to_vec(), s)).collect()),
    }
}

impl Store {
    /// Calls `f` with every live key, its value and its expiry, one shard at
    /// a time (each shard is read at one moment; the whole walk is not).
    pub fn for_each_value(&self, mut f: impl FnMut(&[u8], Value, Option<u64>)) {
        for slot in self.inner.shards.iter() {
            let shard = slot.lock.read();
            let now = self.inner.now_ms();
            for e in shard.iter().filter(|e| !e.is_expired(now)) {
                f(e.key, value_of(&shard, &e), e.expire_at);
            }
        }
    }
}
