//! Model-based property test: random command sequences run against the store
//! and against a plain in-memory model of Redis's semantics. Every answer
//! must agree; at every reopen (and at the end) the whole state must agree,
//! so the journal and snapshots reproduce exactly what was acknowledged.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

use memkeep_engine::{
    Error, ExpireCondition, Expiry, Reads, Store, Ttl, Value, ZAddOptions, ZAddResult, ZRange,
};
use proptest::prelude::*;

use crate::util;

#[derive(Clone, Debug)]
enum Cmd {
    Set(u8, Vec<u8>),
    SetEx(u8, Vec<u8>, u64),
    SetNx(u8, Vec<u8>),
    Get(u8),
    Del(Vec<u8>),
    Append(u8, Vec<u8>),
    IncrBy(u8, i64),
    Expire(u8, u64),
    Persist(u8),
    Rename(u8, u8),
    Ttl(u8),
    HSet(u8, Vec<u8>, Vec<u8>),
    HDel(u8, Vec<u8>),
    HIncrBy(u8, Vec<u8>, i64),
    HGetAll(u8),
    LPush(u8, Vec<Vec<u8>>),
    RPush(u8, Vec<Vec<u8>>),
    LPop(u8, usize),
    RPop(u8, usize),
    LSet(u8, i64, Vec<u8>),
    LRem(u8, i64, Vec<u8>),
    LTrim(u8, i64, i64),
    LInsert(u8, bool, Vec<u8>, Vec<u8>),
    LRange(u8, i64, i64),
    SAdd(u8, Vec<Vec<u8>>),
    SRem(u8, Vec<Vec<u8>>),
    SPop(u8, usize),
    SMembers(u8),
    ZAdd(u8, i8, Vec<u8>),
    ZRem(u8, Vec<u8>),
    ZIncrBy(u8, i8, Vec<u8>),
    ZRangeAll(u8),
    FlushAll,
    Advance(u64),
    Snapshot,
    Reopen,
    Sweep,
}

fn key_name(k: u8) -> Vec<u8> {
    format!("k{k}").into_bytes()
}

fn small() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        20 => prop::collection::vec(b'a'..b'd', 0..3),
        3 => Just(b"7".to_vec()),
        2 => prop::collection::vec(any::<u8>(), 30..90),
        1 => prop::collection::vec(any::<u8>(), 17_000..17_100),
    ]
}

fn cmd() -> impl Strategy<Value = Cmd> {
    let k = 0u8..5;
    prop_oneof![
        4 => (k.clone(), small()).prop_map(|(k, v)| Cmd::Set(k, v)),
        2 => (k.clone(), small(), 1u64..3000).prop_map(|(k, v, t)| Cmd::SetEx(k, v, t)),
        1 => (k.clone(), small()).prop_map(|(k, v)| Cmd::SetNx(k, v)),
        3 => k.clone().prop_map(Cmd::Get),
        2 => prop::collection::vec(k.clone(), 1..3).prop_map(Cmd::Del),
        1 => (k.clone(), small()).prop_map(|(k, v)| Cmd::Append(k, v)),
        2 => (k.clone(), prop_oneof![-3i64..3, Just(i64::MAX), Just(i64::MIN)]).prop_map(|(k, n)| Cmd::IncrBy(k, n)),
        2 => (k.clone(), 0u64..3000).prop_map(|(k, t)| Cmd::Expire(k, t)),
        1 => k.clone().prop_map(Cmd::Persist),
        1 => (k.clone(), k.clone()).prop_map(|(a, b)| Cmd::Rename(a, b)),
        1 => k.clone().prop_map(Cmd::Ttl),
        4 => (k.clone(), small(), small()).prop_map(|(k, f, v)| Cmd::HSet(k, f, v)),
        2 => (k.clone(), small()).prop_map(|(k, f)| Cmd::HDel(k, f)),
        1 => (k.clone(), small(), -3i64..3).prop_map(|(k, f, n)| Cmd::HIncrBy(k, f, n)),
        1 => k.clone().prop_map(Cmd::HGetAll),
        3 => (k.clone(), prop::collection::vec(small(), 1..4)).prop_map(|(k, v)| Cmd::LPush(k, v)),
        3 => (k.clone(), prop::collection::vec(small(), 1..4)).prop_map(|(k, v)| Cmd::RPush(k, v)),
        2 => (k.clone(), 0usize..3).prop_map(|(k, n)| Cmd::LPop(k, n)),
        2 => (k.clone(), 0usize..3).prop_map(|(k, n)| Cmd::RPop(k, n)),
        1 => (k.clone(), -4i64..4, small()).prop_map(|(k, i, v)| Cmd::LSet(k, i, v)),
        1 => (k.clone(), -2i64..3, small()).prop_map(|(k, c, v)| Cmd::LRem(k, c, v)),
        1 => (k.clone(), -4i64..4, -4i64..4).prop_map(|(k, a, b)| Cmd::LTrim(k, a, b)),
        1 => (k.clone(), any::<bool>(), small(), small()).prop_map(|(k, b, p, v)| Cmd::LInsert(k, b, p, v)),
        1 => (k.clone(), -4i64..4, -4i64..4).prop_map(|(k, a, b)| Cmd::LRange(k, a, b)),
        3 => (k.clone(), prop::collection::vec(small(), 1..4)).prop_map(|(k, v)| Cmd::SAdd(k, v)),
        2 => (k.clone(), prop::collection::vec(small(), 1..3)).prop_map(|(k, v)| Cmd::SRem(k, v)),
        1 => (k.clone(), 0usize..3).prop_map(|(k, n)| Cmd::SPop(k, n)),
        1 => k.clone().prop_map(Cmd::SMembers),
        3 => (k.clone(), -3i8..3, small()).prop_map(|(k, s, m)| Cmd::ZAdd(k, s, m)),
        1 => (k.clone(), small()).prop_map(|(k, m)| Cmd::ZRem(k, m)),
        1 => (k.clone(), -3i8..3, small()).prop_map(|(k, s, m)| Cmd::ZIncrBy(k, s, m)),
        1 => k.clone().prop_map(Cmd::ZRangeAll),
        1 => Just(Cmd::FlushAll),
        3 => (0u64..2500).prop_map(Cmd::Advance),
        2 => Just(Cmd::Snapshot),
        3 => Just(Cmd::Reopen),
        1 => Just(Cmd::Sweep),
    ]
}

/// An answer, from either side.
#[derive(Debug, PartialEq)]
enum R {
    Unit,
    Int(i64),
    Bool(bool),
    Bytes(Option<Vec<u8>>),
    Many(Vec<Vec<u8>>),
    OptMany(Option<Vec<Vec<u8>>>),
    Pairs(Vec<(Vec<u8>, Vec<u8>)>),
    Scored(Vec<(Vec<u8>, f64)>),
    Ttl(Ttl),
    Err(&'static str),
}

fn err(e: Error) -> R {
    R::Err(match e {
        Error::WrongType => "WRONGTYPE",
        Error::NotInteger => "NOTINT",
        Error::HashNotInteger => "HASHNOTINT",
        Error::Overflow => "OVERFLOW",
        Error::NoSuchKey => "NOKEY",
        Error::IndexOutOfRange => "RANGE",
        other => panic!("unexpected error from the store: {other}"),
    })
}

fn r<T>(res: Result<T, Error>, f: impl FnOnce(T) -> R) -> R {
    res.map_or_else(err, f)
}

#[derive(Clone, Debug)]
enum MV {
    Str(Vec<u8>),
    Hash(BTreeMap<Vec<u8>, Vec<u8>>),
    List(VecDeque<Vec<u8>>),
    Set(BTreeSet<Vec<u8>>),
    ZSet(BTreeMap<Vec<u8>, f64>),
}

/// Redis's semantics, written as plainly as possible.
#[derive(Default)]
struct Model {
    keys: BTreeMap<Vec<u8>, (MV, Option<u64>)>,
    now: u64,
}

fn index(i: i64, len: usize) -> Option<usize> {
    let i = if i < 0 { len as i64 + i } else { i };
    (0..len as i64).contains(&i).then_some(i as usize)
}

fn range(a: i64, b: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let a = if a < 0 { (len + a).max(0) } else { a };
    let b = if b < 0 { len + b } else { b }.min(len - 1);
    (a <= b && a < len).then_some((a as usize, b as usize))
}

impl Model {
    /// Drops `k` if expired; its entry if live.
    fn live(&mut self, k: &[u8]) -> Option<&mut (MV, Option<u64>)> {
        if matches!(self.keys.get(k), Some((_, Some(t))) if *t <= self.now) {
            self.keys.remove(k);
        }
        self.keys.get_mut(k)
    }

    fn dump(&self) -> BTreeMap<Vec<u8>, (Value, Option<u64>)> {
        self.keys
            .iter()
            .filter(|(_, (_, t))| t.is_none_or(|t| t > self.now))
            .map(|(k, (v, t))| {
                let v = match v {
                    MV::Str(s) => Value::String(s.clone()),
                    MV::Hash(h) => {
                        Value::Hash(h.iter().map(|(a, b)| (a.clone(), b.clone())).collect())
                    }
                    MV::List(l) => Value::List(l.iter().cloned().collect()),
                    MV::Set(s) => Value::Set(s.iter().cloned().collect()),
                    MV::ZSet(z) => {
                        let mut v: Vec<(Vec<u8>, f64)> =
                            z.iter().map(|(m, s)| (m.clone(), *s)).collect();
                        v.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
                        Value::ZSet(v)
                    }
                };
                (k.clone(), (v, *t))
            })
            .collect()
    }

    /// The collection at `k` of the wanted kind, created if `create`.
    fn coll<'a, T>(
        &'a mut self,
        k: &[u8],
        create: Option<fn() -> MV>,
        pick: fn(&mut MV) -> Option<&mut T>,
    ) -> Result<Option<&'a mut T>, R> {
        if self.live(k).is_none() {
            match create {
                Some(c) => {
                    self.keys.insert(k.to_vec(), (c(), None));
                }
                None => return Ok(None),
            }
        }
        let (v, _) = self.keys.get_mut(k).expect("live");
        pick(v).map(Some).ok_or(R::Err("WRONGTYPE"))
    }

    fn drop_if_empty(&mut self, k: &[u8]) {
        let empty = match self.keys.get(k) {
            Some((MV::Hash(h), _)) => h.is_empty(),
            Some((MV::List(l), _)) => l.is_empty(),
            Some((MV::Set(s), _)) => s.is_empty(),
            Some((MV::ZSet(z), _)) => z.is_empty(),
            _ => false,
        };
        if empty {
            self.keys.remove(k);
        }
    }
}

fn hash(v: &mut MV) -> Option<&mut BTreeMap<Vec<u8>, Vec<u8>>> {
    if let MV::Hash(h) = v { Some(h) } else { None }
}
fn list(v: &mut MV) -> Option<&mut VecDeque<Vec<u8>>> {
    if let MV::List(l) = v { Some(l) } else { None }
}
fn set(v: &mut MV) -> Option<&mut BTreeSet<Vec<u8>>> {
    if let MV::Set(s) = v { Some(s) } else { None }
}
fn zset(v: &mut MV) -> Option<&mut BTreeMap<Vec<u8>, f64>> {
    if let MV::ZSet(z) = v { Some(z) } else { None }
}

fn parse_int(v: &[u8]) -> Option<i64> {
    memkeep_engine::numbers::parse_int(v)
}

macro_rules! tryr {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(r) => return r,
        }
    };
}

impl Model {
    fn run(&mut self, c: &Cmd) -> R {
        match c {
            Cmd::Set(k, v) => {
                self.keys.insert(key_name(*k), (MV::Str(v.clone()), None));
                R::Unit
            }
            Cmd::SetEx(k, v, ms) => {
                self.keys
                    .insert(key_name(*k), (MV::Str(v.clone()), Some(self.now + ms)));
                R::Unit
            }
            Cmd::SetNx(k, v) => {
                let k = key_name(*k);
                if self.live(&k).is_some() {
                    return R::Bool(false);
                }
                self.keys.insert(k, (MV::Str(v.clone()), None));
                R::Bool(true)
            }
            Cmd::Get(k) => match self.live(&key_name(*k)) {
                None => R::Bytes(None),
                Some((MV::Str(s), _)) => R::Bytes(Some(s.clone())),
                Some(_) => R::Err("WRONGTYPE"),
            },
            Cmd::Del(ks) => {
                let mut n = 0;
                for k in ks {
                    let k = key_name(*k);
                    if self.live(&k).is_some() {
                        self.keys.remove(&k);
                        n += 1;
                    }
                }
                R::Int(n)
            }
            Cmd::Append(k, v) => {
                let k = key_name(*k);
                match self.live(&k) {
                    None => {
                        self.keys.insert(k, (MV::Str(v.clone()), None));
                        R::Int(v.len() as i64)
                    }
                    Some((MV::Str(s), _)) => {
                        s.extend_from_slice(v);
                        R::Int(s.len() as i64)
                    }
                    Some(_) => R::Err("WRONGTYPE"),
                }
            }
            Cmd::IncrBy(k, n) => {
                let k = key_name(*k);
                let (cur, ttl) = match self.live(&k) {
                    None => (0, None),
                    Some((MV::Str(s), t)) => match parse_int(s) {
                        Some(v) => (v, *t),
                        None => return R::Err("NOTINT"),
                    },
                    Some(_) => return R::Err("WRONGTYPE"),
                };
                let Some(new) = cur.checked_add(*n) else {
                    return R::Err("OVERFLOW");
                };
                self.keys
                    .insert(k, (MV::Str(new.to_string().into_bytes()), ttl));
                R::Int(new)
            }
            Cmd::Expire(k, ms) => {
                let k = key_name(*k);
                let now = self.now;
                match self.live(&k) {
                    None => R::Bool(false),
                    Some(_) if *ms == 0 => {
                        self.keys.remove(&k);
                        R::Bool(true)
                    }
                    Some((_, t)) => {
                        *t = Some(now + ms);
                        R::Bool(true)
                    }
                }
            }
            Cmd::Persist(k) => match self.live(&key_name(*k)) {
                Some((_, t)) if t.is_some() => {
                    *t = None;
                    R::Bool(true)
                }
                _ => R::Bool(false),
            },
            Cmd::Rename(a, b) => {
                let (a, b) = (key_name(*a), key_name(*b));
                if self.live(&a).is_none() {
                    return R::Err("NOKEY");
                }
                if a != b {
                    let v = self.keys.remove(&a).expect("live");
                    self.keys.insert(b, v);
                }
                R::Unit
            }
            Cmd::Ttl(k) => {
                let now = self.now;
                R::Ttl(match self.live(&key_name(*k)) {
                    None => Ttl::Missing,
                    Some((_, None)) => Ttl::Persistent,
                    Some((_, Some(t))) => Ttl::Ms(*t - now),
                })
            }
            Cmd::HSet(k, f, v) => {
                let h = tryr!(self.coll(&key_name(*k), Some(|| MV::Hash(BTreeMap::new())), hash))
                    .expect("created");
                R::Int(i64::from(h.insert(f.clone(), v.clone()).is_none()))
            }
            Cmd::HDel(k, f) => {
                let k = key_name(*k);
                let Some(h) = tryr!(self.coll(&k, None, hash)) else {
                    return R::Int(0);
                };
                let n = i64::from(h.remove(f).is_some());
                self.drop_if_empty(&k);
                R::Int(n)
            }
            Cmd::HIncrBy(k, f, n) => {
                let h = tryr!(self.coll(&key_name(*k), Some(|| MV::Hash(BTreeMap::new())), hash))
                    .expect("created");
                let cur = match h.get(f) {
                    None => 0,
                    Some(v) => match parse_int(v) {
                        Some(v) => v,
                        None => return R::Err("HASHNOTINT"),
                    },
                };
                let Some(new) = cur.checked_add(*n) else {
                    return R::Err("OVERFLOW");
                };
                h.insert(f.clone(), new.to_string().into_bytes());
                R::Int(new)
            }
            Cmd::HGetAll(k) => {
                let h = tryr!(self.coll(&key_name(*k), None, hash));
                R::Pairs(h.map_or_else(Vec::new, |h| {
                    h.iter().map(|(a, b)| (a.clone(), b.clone())).collect()
                }))
            }
            Cmd::LPush(k, vs) | Cmd::RPush(k, vs) => {
                let front = matches!(c, Cmd::LPush(..));
                let l = tryr!(self.coll(&key_name(*k), Some(|| MV::List(VecDeque::new())), list))
                    .expect("created");
                for v in vs {
                    if front {
                        l.push_front(v.clone())
                    } else {
                        l.push_back(v.clone())
                    }
                }
                R::Int(l.len() as i64)
            }
            Cmd::LPop(k, n) | Cmd::RPop(k, n) => {
                let front = matches!(c, Cmd::LPop(..));
                let k = key_name(*k);
                let Some(l) = tryr!(self.coll(&k, None, list)) else {
                    return R::OptMany(None);
                };
                let mut out = Vec::new();
                for _ in 0..*n {
                    match if front { l.pop_front() } else { l.pop_back() } {
                        Some(v) => out.push(v),
                        None => break,
                    }
                }
                self.drop_if_empty(&k);
                R::OptMany(Some(out))
            }
            Cmd::LSet(k, i, v) => {
                let Some(l) = tryr!(self.coll(&key_name(*k), None, list)) else {
                    return R::Err("NOKEY");
                };
                let Some(i) = index(*i, l.len()) else {
                    return R::Err("RANGE");
                };
                l[i] = v.clone();
                R::Unit
            }
            Cmd::LRem(k, count, v) => {
                let k = key_name(*k);
                let Some(l) = tryr!(self.coll(&k, None, list)) else {
                    return R::Int(0);
                };
                let limit = if *count == 0 {
                    usize::MAX
                } else {
                    count.unsigned_abs() as usize
                };
                let mut removed = 0;
                if *count >= 0 {
                    let mut i = 0;
                    while i < l.len() {
                        if removed < limit && l[i] == *v {
                            l.remove(i);
                            removed += 1;
                        } else {
                            i += 1;
                        }
                    }
                } else {
                    let mut i = l.len();
                    while i > 0 {
                        i -= 1;
                        if removed < limit && l[i] == *v {
                            l.remove(i);
                            removed += 1;
                        }
                    }
                }
                self.drop_if_empty(&k);
                R::Int(removed as i64)
            }
            Cmd::LTrim(k, a, b) => {
                let k = key_name(*k);
                let Some(l) = tryr!(self.coll(&k, None, list)) else {
                    return R::Unit;
                };
                match range(*a, *b, l.len()) {
                    None => l.clear(),
                    Some((a, b)) => *l = l.iter().skip(a).take(b - a + 1).cloned().collect(),
                }
                self.drop_if_empty(&k);
                R::Unit
            }
            Cmd::LInsert(k, before, pivot, v) => {
                let Some(l) = tryr!(self.coll(&key_name(*k), None, list)) else {
                    return R::Int(0);
                };
                let Some(p) = l.iter().position(|x| x == pivot) else {
                    return R::Int(-1);
                };
                l.insert(if *before { p } else { p + 1 }, v.clone());
                R::Int(l.len() as i64)
            }
            Cmd::LRange(k, a, b) => {
                let Some(l) = tryr!(self.coll(&key_name(*k), None, list)) else {
                    return R::Many(vec![]);
                };
                R::Many(match range(*a, *b, l.len()) {
                    None => vec![],
                    Some((a, b)) => l.iter().skip(a).take(b - a + 1).cloned().collect(),
                })
            }
            Cmd::SAdd(k, ms) => {
                let s = tryr!(self.coll(&key_name(*k), Some(|| MV::Set(BTreeSet::new())), set))
                    .expect("created");
                R::Int(ms.iter().filter(|m| s.insert((*m).clone())).count() as i64)
            }
            Cmd::SRem(k, ms) => {
                let k = key_name(*k);
                let Some(s) = tryr!(self.coll(&k, None, set)) else {
                    return R::Int(0);
                };
                let n = ms.iter().filter(|m| s.remove(*m)).count();
                self.drop_if_empty(&k);
                R::Int(n as i64)
            }
            Cmd::SPop(..) => unreachable!("random: checked by the runner"),
            Cmd::SMembers(k) => {
                let s = tryr!(self.coll(&key_name(*k), None, set));
                R::Many(s.map_or_else(Vec::new, |s| s.iter().cloned().collect()))
            }
            Cmd::ZAdd(k, score, m) => {
                let z = tryr!(self.coll(&key_name(*k), Some(|| MV::ZSet(BTreeMap::new())), zset))
                    .expect("created");
                R::Int(i64::from(z.insert(m.clone(), f64::from(*score)).is_none()))
            }
            Cmd::ZRem(k, m) => {
                let k = key_name(*k);
                let Some(z) = tryr!(self.coll(&k, None, zset)) else {
                    return R::Int(0);
                };
                let n = i64::from(z.remove(m).is_some());
                self.drop_if_empty(&k);
                R::Int(n)
            }
            Cmd::ZIncrBy(k, by, m) => {
                let z = tryr!(self.coll(&key_name(*k), Some(|| MV::ZSet(BTreeMap::new())), zset))
                    .expect("created");
                let s = z.entry(m.clone()).or_insert(0.0);
                *s += f64::from(*by);
                R::Scored(vec![(m.clone(), *s)])
            }
            Cmd::ZRangeAll(k) => {
                let z = tryr!(self.coll(&key_name(*k), None, zset));
                let mut v: Vec<(Vec<u8>, f64)> = z.map_or_else(Vec::new, |z| {
                    z.iter().map(|(m, s)| (m.clone(), *s)).collect()
                });
                v.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
                R::Scored(v)
            }
            Cmd::FlushAll => {
                self.keys.clear();
                R::Unit
            }
            Cmd::Advance(_) | Cmd::Snapshot | Cmd::Reopen | Cmd::Sweep => {
                unreachable!("handled by the runner")
            }
        }
    }
}

fn run_store(s: &Store, c: &Cmd) -> R {
    use Cmd::*;
    let k = |k: &u8| key_name(*k);
    match c {
        Set(key, v) => r(s.set(k(key), v), |_| R::Unit),
        SetEx(key, v, ms) => {
            let opts = memkeep_engine::SetOptions {
                expiry: Some(Expiry::In(Duration::from_millis(*ms))),
                ..Default::default()
            };
            r(s.set_with(k(key), v, opts), |_| R::Unit)
        }
        SetNx(key, v) => r(s.setnx(k(key), v), R::Bool),
        Get(key) => r(s.get(k(key)), R::Bytes),
        Del(keys) => r(s.del(&keys.iter().map(k).collect::<Vec<_>>()), |n| {
            R::Int(n as i64)
        }),
        Append(key, v) => r(s.append(k(key), v), |n| R::Int(n as i64)),
        IncrBy(key, n) => r(s.incr_by(k(key), *n), R::Int),
        Expire(key, ms) => r(
            s.expire(
                k(key),
                Expiry::In(Duration::from_millis(*ms)),
                ExpireCondition::Always,
            ),
            R::Bool,
        ),
        Persist(key) => r(s.persist(k(key)), R::Bool),
        Rename(a, b) => r(s.rename(k(a), k(b)), |_| R::Unit),
        Ttl(key) => R::Ttl(s.ttl(k(key)).unwrap()),
        HSet(key, f, v) => r(s.hset(k(key), [(f, v)]), |n| R::Int(n as i64)),
        HDel(key, f) => r(s.hdel(k(key), &[f]), |n| R::Int(n as i64)),
        HIncrBy(key, f, n) => r(s.hincr_by(k(key), f, *n), R::Int),
        HGetAll(key) => r(s.hgetall(k(key)), |mut p| {
            p.sort();
            R::Pairs(p)
        }),
        LPush(key, vs) => r(s.lpush(k(key), vs), |n| R::Int(n as i64)),
        RPush(key, vs) => r(s.rpush(k(key), vs), |n| R::Int(n as i64)),
        LPop(key, n) => r(s.lpop(k(key), *n), R::OptMany),
        RPop(key, n) => r(s.rpop(k(key), *n), R::OptMany),
        LSet(key, i, v) => r(s.lset(k(key), *i, v), |_| R::Unit),
        LRem(key, c, v) => r(s.lrem(k(key), *c, v), |n| R::Int(n as i64)),
        LTrim(key, a, b) => r(s.ltrim(k(key), *a, *b), |_| R::Unit),
        LInsert(key, before, p, v) => r(s.linsert(k(key), *before, p, v), R::Int),
        LRange(key, a, b) => r(s.lrange(k(key), *a, *b), R::Many),
        SAdd(key, ms) => r(s.sadd(k(key), ms), |n| R::Int(n as i64)),
        SRem(key, ms) => r(s.srem(k(key), ms), |n| R::Int(n as i64)),
        SMembers(key) => r(s.smembers(k(key)), |mut m| {
            m.sort();
            R::Many(m)
        }),
        ZAdd(key, score, m) => r(
            s.zadd(k(key), &[(f64::from(*score), m)], ZAddOptions::default()),
            |x| match x {
                ZAddResult::Count(n) => R::Int(n as i64),
                ZAddResult::Score(_) => unreachable!("no INCR"),
            },
        ),
        ZRem(key, m) => r(s.zrem(k(key), &[m]), |n| R::Int(n as i64)),
        ZIncrBy(key, by, m) => r(s.zincr_by(k(key), f64::from(*by), m), |x| {
            R::Scored(vec![(m.clone(), x)])
        }),
        ZRangeAll(key) => r(
            s.zrange(k(key), ZRange::Rank { start: 0, stop: -1 }, false, None),
            R::Scored,
        ),
        SPop(..) | FlushAll | Advance(_) | Snapshot | Reopen | Sweep => {
            unreachable!("handled by the runner")
        }
    }
}

fn check_sequence(cmds: &[Cmd]) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let clock = util::clock();
    let opts = util::options(dir.path(), &clock);
    let mut store = Store::open(opts.clone()).unwrap();
    let mut model = Model {
        now: 1_700_000_000_000,
        ..Model::default()
    };
    for (i, c) in cmds.iter().enumerate() {
        match c {
            Cmd::Advance(ms) => {
                clock.advance(*ms);
                model.now += ms;
            }
            Cmd::Snapshot => {
                store.snapshot().unwrap();
            }
            Cmd::Sweep => {
                store.sweep_expired(1000).unwrap();
            }
            Cmd::Reopen => {
                drop(store);
                store = Store::open(opts.clone()).unwrap();
                prop_assert_eq!(
                    util::dump(&store),
                    model.dump(),
                    "state after reopen at step {}",
                    i
                );
            }
            Cmd::FlushAll => {
                store.flush_all().unwrap();
                model.keys.clear();
            }
            Cmd::SPop(key, n) => {
                let k = key_name(*key);
                let got = store.spop(&k, *n);
                match model.coll(&k, None, set) {
                    Err(want) => prop_assert_eq!(got.map_or_else(err, |_| R::Unit), want),
                    Ok(members) => {
                        let got = got.unwrap();
                        let members = members.map_or_else(BTreeSet::new, |m| m.clone());
                        prop_assert_eq!(got.len(), (*n).min(members.len()));
                        if let Some(s) = model.coll(&k, None, set).unwrap() {
                            for m in &got {
                                prop_assert!(s.remove(m), "spop returned a non-member");
                            }
                        }
                        model.drop_if_empty(&k);
                    }
                }
            }
            _ => {
                let want = model.run(c);
                let got = run_store(&store, c);
                prop_assert_eq!(got, want, "step {}: {:?}", i, c);
            }
        }
    }
    prop_assert_eq!(util::dump(&store), model.dump(), "state at the end");
    drop(store);
    let store = Store::open(opts).unwrap();
    prop_assert_eq!(
        util::dump(&store),
        model.dump(),
        "state after the final reopen"
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn store_agrees_with_the_model_across_reopens(cmds in prop::collection::vec(cmd(), 1..160)) {
        check_sequence(&cmds)?;
    }
}
