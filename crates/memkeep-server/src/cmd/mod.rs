//! Redis commands: the table, dispatch, and one module per family.
//!
//! Every command is written once, against a [`Db`]: the store itself for a
//! command on its own, or the open transaction inside `EXEC`. The `read!`
//! and `write!` macros give the command a reader or a transaction in both
//! cases, so reads inside `EXEC` see the transaction's own writes.

pub(crate) mod connection;
mod hashes;
mod keys;
mod lists;
mod server;
mod sets;
mod strings;
mod tx;
mod zsets;

use memkeep_engine::{Error, Store, Tx};

use crate::client::Client;
use crate::resp::reply::Out;
use crate::shared::Shared;

/// Where a command runs.
pub(crate) enum Db<'a, 'b> {
    Store(&'a Store),
    Tx(&'a mut Tx<'b>),
}

/// Everything a command can use.
pub(crate) struct Call<'a, 'b> {
    pub db: Db<'a, 'b>,
    pub out: &'a mut Out,
    pub client: &'a mut Client,
    pub shared: &'a Shared,
}

/// Why a command failed: an engine error, or a reply line of its own.
#[derive(Debug)]
pub(crate) enum Fail {
    Engine(Error),
    /// The error line without the leading `-` (`ERR syntax error`).
    Reply(String),
}

impl From<Error> for Fail {
    fn from(e: Error) -> Fail {
        Fail::Engine(e)
    }
}

pub(crate) type CmdResult = Result<(), Fail>;

pub(crate) fn err(msg: impl Into<String>) -> Fail {
    Fail::Reply(msg.into())
}

pub(crate) fn syntax() -> Fail {
    err("ERR syntax error")
}

pub(crate) fn not_integer() -> Fail {
    err("ERR value is not an integer or out of range")
}

/// A reader over the call's database: the store, or the transaction.
macro_rules! read {
    ($c:expr, |$r:ident| $body:expr) => {
        match &mut $c.db {
            $crate::cmd::Db::Store(s) => {
                let $r: &::memkeep_engine::Store = s;
                $body
            }
            $crate::cmd::Db::Tx(t) => {
                let $r: &::memkeep_engine::Tx<'_> = &**t;
                $body
            }
        }
    };
}

/// A transaction over the call's database: a new one locking `$keys`, or
/// the `EXEC` transaction already open.
macro_rules! write {
    ($c:expr, $keys:expr, |$tx:ident| $body:expr) => {
        match &mut $c.db {
            $crate::cmd::Db::Store(s) => s.transaction($keys, |$tx| $body),
            $crate::cmd::Db::Tx(t) => {
                let $tx: &mut ::memkeep_engine::Tx<'_> = &mut **t;
                $body
            }
        }
    };
}

pub(crate) use {read, write};

/// A command handler.
pub(crate) type Handler = fn(&mut Call<'_, '_>, &[&[u8]]) -> CmdResult;

/// Flags of a command.
pub(crate) mod flag {
    /// Changes data.
    pub const WRITE: u8 = 1;
    /// Allowed before `AUTH`.
    pub const NO_AUTH: u8 = 2;
    /// Runs immediately inside `MULTI` instead of being queued.
    pub const NO_QUEUE: u8 = 4;
    /// Administrative (reported by `COMMAND`).
    pub const ADMIN: u8 = 8;
    /// Refused inside `MULTI`: Redis's `no-multi` commands (`SAVE`,
    /// `SHUTDOWN`), and `INFO`, which reads every shard while `EXEC` holds
    /// them all.
    pub const NO_MULTI: u8 = 16;
}

/// One command of the table.
pub(crate) struct Spec {
    /// Lower case, as Redis names it in errors.
    pub name: &'static str,
    /// Redis's convention: `n` exactly n arguments (name included), `-n` at least n.
    pub arity: i32,
    pub flags: u8,
    /// Key positions: first, last (negative from the end), step.
    pub keys: (i32, i32, i32),
    pub run: Handler,
}

impl Spec {
    pub(crate) fn has(&self, f: u8) -> bool {
        self.flags & f != 0
    }

    pub(crate) fn arity_ok(&self, argc: usize) -> bool {
        if self.arity >= 0 {
            argc == self.arity as usize
        } else {
            argc >= self.arity.unsigned_abs() as usize
        }
    }
}

/// Every command, sorted by name.
pub(crate) static TABLE: &[Spec] = &{
    use flag::*;
    const RO: u8 = 0;
    const W: u8 = WRITE;
    macro_rules! c {
        ($name:literal, $arity:expr, $flags:expr, $keys:expr, $run:expr) => {
            Spec {
                name: $name,
                arity: $arity,
                flags: $flags,
                keys: $keys,
                run: $run,
            }
        };
    }
    const NONE: (i32, i32, i32) = (0, 0, 0);
    const K1: (i32, i32, i32) = (1, 1, 1);
    const ALL: (i32, i32, i32) = (1, -1, 1);
    [
        c!("append", 3, W, K1, strings::append),
        c!("auth", -2, NO_AUTH, NONE, connection::auth),
        c!("bgsave", -1, ADMIN, NONE, server::bgsave),
        c!("client", -2, RO, NONE, connection::client),
        c!("command", -1, RO, NONE, server::command),
        c!("config", -2, ADMIN, NONE, server::config),
        c!("dbsize", 1, RO, NONE, server::dbsize),
        c!("decr", 2, W, K1, strings::decr),
        c!("decrby", 3, W, K1, strings::decrby),
        c!("del", -2, W, ALL, keys::del),
        c!("discard", 1, NO_QUEUE, NONE, tx::discard),
        c!("echo", 2, RO, NONE, connection::echo),
        c!("exec", 1, NO_QUEUE, NONE, tx::exec),
        c!("exists", -2, RO, ALL, keys::exists),
        c!("expire", -3, W, K1, keys::expire),
        c!("expireat", -3, W, K1, keys::expireat),
        c!("expiretime", 2, RO, K1, keys::expiretime),
        c!("flushall", -1, W, NONE, server::flushall),
        c!("flushdb", -1, W, NONE, server::flushall),
        c!("get", 2, RO, K1, strings::get),
        c!("getdel", 2, W, K1, strings::getdel),
        c!("getex", -2, W, K1, strings::getex),
        c!("getrange", 4, RO, K1, strings::getrange),
        c!("hdel", -3, W, K1, hashes::hdel),
        c!("hello", -1, NO_AUTH, NONE, connection::hello),
        c!("hexists", 3, RO, K1, hashes::hexists),
        c!("hget", 3, RO, K1, hashes::hget),
        c!("hgetall", 2, RO, K1, hashes::hgetall),
        c!("hincrby", 4, W, K1, hashes::hincrby),
        c!("hincrbyfloat", 4, W, K1, hashes::hincrbyfloat),
        c!("hkeys", 2, RO, K1, hashes::hkeys),
        c!("hlen", 2, RO, K1, hashes::hlen),
        c!("hmget", -3, RO, K1, hashes::hmget),
        c!("hmset", -4, W, K1, hashes::hmset),
        c!("hscan", -3, RO, K1, hashes::hscan),
        c!("hset", -4, W, K1, hashes::hset),
        c!("hsetnx", 4, W, K1, hashes::hsetnx),
        c!("hstrlen", 3, RO, K1, hashes::hstrlen),
        c!("hvals", 2, RO, K1, hashes::hvals),
        c!("incr", 2, W, K1, strings::incr),
        c!("incrby", 3, W, K1, strings::incrby),
        c!("incrbyfloat", 3, W, K1, strings::incrbyfloat),
        c!("info", -1, NO_MULTI, NONE, server::info),
        c!("keys", 2, RO, NONE, keys::keys),
        c!("lastsave", 1, RO, NONE, server::lastsave),
        c!("lindex", 3, RO, K1, lists::lindex),
        c!("linsert", 5, W, K1, lists::linsert),
        c!("llen", 2, RO, K1, lists::llen),
        c!("lpop", -2, W, K1, lists::lpop),
        c!("lpush", -3, W, K1, lists::lpush),
        c!("lpushx", -3, W, K1, lists::lpushx),
        c!("lrange", 4, RO, K1, lists::lrange),
        c!("lrem", 4, W, K1, lists::lrem),
        c!("lset", 4, W, K1, lists::lset),
        c!("ltrim", 4, W, K1, lists::ltrim),
        c!("mget", -2, RO, ALL, strings::mget),
        c!("mset", -3, W, (1, -1, 2), strings::mset),
        c!("msetnx", -3, W, (1, -1, 2), strings::msetnx),
        c!("multi", 1, NO_QUEUE, NONE, tx::multi),
        c!("persist", 2, W, K1, keys::persist),
        c!("pexpire", -3, W, K1, keys::pexpire),
        c!("pexpireat", -3, W, K1, keys::pexpireat),
        c!("pexpiretime", 2, RO, K1, keys::pexpiretime),
        c!("ping", -1, RO, NONE, connection::ping),
        c!("psetex", 4, W, K1, strings::psetex),
        c!("pttl", 2, RO, K1, keys::pttl),
        c!("quit", -1, NO_AUTH | NO_QUEUE, NONE, connection::quit),
        c!("randomkey", 1, RO, NONE, keys::randomkey),
        c!("rename", 3, W, (1, 2, 1), keys::rename),
        c!("renamenx", 3, W, (1, 2, 1), keys::renamenx),
        c!("rpop", -2, W, K1, lists::rpop),
        c!("rpush", -3, W, K1, lists::rpush),
        c!("rpushx", -3, W, K1, lists::rpushx),
        c!("sadd", -3, W, K1, sets::sadd),
        c!("save", 1, ADMIN | NO_MULTI, NONE, server::save),
        c!("scan", -2, RO, NONE, keys::scan),
        c!("scard", 2, RO, K1, sets::scard),
        c!("sdiff", -2, RO, ALL, sets::sdiff),
        c!("select", 2, RO, NONE, connection::select),
        c!("set", -3, W, K1, strings::set),
        c!("setex", 4, W, K1, strings::setex),
        c!("setnx", 3, W, K1, strings::setnx),
        c!("setrange", 4, W, K1, strings::setrange),
        c!("shutdown", -1, ADMIN | NO_MULTI, NONE, server::shutdown),
        c!("sinter", -2, RO, ALL, sets::sinter),
        c!("sismember", 3, RO, K1, sets::sismember),
        c!("smembers", 2, RO, K1, sets::smembers),
        c!("smismember", -3, RO, K1, sets::smismember),
        c!("spop", -2, W, K1, sets::spop),
        c!("srandmember", -2, RO, K1, sets::srandmember),
        c!("srem", -3, W, K1, sets::srem),
        c!("sscan", -3, RO, K1, sets::sscan),
        c!("strlen", 2, RO, K1, strings::strlen),
        c!("sunion", -2, RO, ALL, sets::sunion),
        c!("time", 1, RO, NONE, server::time),
        c!("ttl", 2, RO, K1, keys::ttl),
        c!("type", 2, RO, K1, keys::type_),
        c!("unlink", -2, W, ALL, keys::del),
        c!("unwatch", 1, NO_QUEUE, NONE, tx::unwatch),
        c!("watch", -2, NO_QUEUE, ALL, tx::watch),
        c!("zadd", -4, W, K1, zsets::zadd),
        c!("zcard", 2, RO, K1, zsets::zcard),
        c!("zcount", 4, RO, K1, zsets::zcount),
        c!("zincrby", 4, W, K1, zsets::zincrby),
        c!("zrange", -4, RO, K1, zsets::zrange),
        c!("zrangebyscore", -4, RO, K1, zsets::zrangebyscore),
        c!("zrank", 3, RO, K1, zsets::zrank),
        c!("zrem", -3, W, K1, zsets::zrem),
        c!("zrevrange", -4, RO, K1, zsets::zrevrange),
        c!("zrevrangebyscore", -4, RO, K1, zsets::zrevrangebyscore),
        c!("zrevrank", 3, RO, K1, zsets::zrevrank),
        c!("zscan", -3, RO, K1, zsets::zscan),
        c!("zscore", 3, RO, K1, zsets::zscore),
    ]
};

/// A command name (any case, at most 16 bytes) packed into an integer, so
/// finding a command costs a few integer comparisons per request, not a
/// few `memcmp`s.
fn name_key(name: &[u8]) -> Option<(u128, usize)> {
    if name.len() > 16 {
        return None;
    }
    let mut b = [0u8; 16];
    for (d, s) in b.iter_mut().zip(name) {
        *d = s.to_ascii_lowercase();
    }
    Some((u128::from_le_bytes(b), name.len()))
}

/// Slots in the command index: a power of two, several times the number
/// of commands, so almost every lookup finds its command in the first slot.
const INDEX_SLOTS: usize = 1024;

fn slot_of(key: (u128, usize)) -> usize {
    let (lo, hi) = (key.0 as u64, (key.0 >> 64) as u64);
    let h = (lo ^ hi.rotate_left(29) ^ key.1 as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (h >> (64 - INDEX_SLOTS.trailing_zeros())) as usize
}

/// The command called `name` (any case): one hash and usually one
/// comparison (open addressing, linear probing).
pub(crate) fn lookup(name: &[u8]) -> Option<&'static Spec> {
    type Slot = Option<((u128, usize), u16)>;
    static INDEX: std::sync::OnceLock<Vec<Slot>> = std::sync::OnceLock::new();
    let index = INDEX.get_or_init(|| {
        let mut slots: Vec<Slot> = vec![None; INDEX_SLOTS];
        for (i, spec) in TABLE.iter().enumerate() {
            let key = name_key(spec.name.as_bytes()).expect("names fit 16 bytes");
            let mut at = slot_of(key);
            while slots[at].is_some() {
                at = (at + 1) % INDEX_SLOTS;
            }
            slots[at] = Some((key, i as u16));
        }
        slots
    });
    let key = name_key(name)?;
    let mut at = slot_of(key);
    loop {
        match index[at] {
            Some((k, i)) if k == key => return Some(&TABLE[i as usize]),
            Some(_) => at = (at + 1) % INDEX_SLOTS,
            None => return None,
        }
    }
}

/// Redis's reply to an unknown command.
pub(crate) fn unknown_command(args: &[&[u8]]) -> String {
    let mut msg = format!(
        "ERR unknown command '{}', with args beginning with: ",
        printable(args[0], 128)
    );
    for a in args.iter().skip(1) {
        msg.push_str(&format!("'{}' ", printable(a, 128)));
        if msg.len() > 1024 {
            break;
        }
    }
    msg
}

pub(crate) fn wrong_arity(spec: &Spec) -> String {
    format!("ERR wrong number of arguments for '{}' command", spec.name)
}

/// Bytes as Redis prints them inside an error (`%.128s`, lossy).
pub(crate) fn printable(b: &[u8], max: usize) -> String {
    String::from_utf8_lossy(&b[..b.len().min(max)]).into_owned()
}

/// Runs a command whose name, arity and permission were checked.
pub(crate) fn run(call: &mut Call<'_, '_>, spec: &Spec, args: &[&[u8]]) {
    let result = (spec.run)(call, args);
    if let Err(f) = result {
        let line = match f {
            Fail::Reply(line) => line,
            Fail::Engine(e) => e.redis_message(),
        };
        call.out.error(&line);
    }
}

// Argument parsing shared by the families.

pub(crate) fn int_arg(a: &[u8]) -> Result<i64, Fail> {
    memkeep_engine::numbers::parse_int(a).ok_or_else(not_integer)
}

/// A float argument as Redis's `strtold`-based parsing accepts it.
pub(crate) fn float_arg(a: &[u8]) -> Result<f64, Fail> {
    parse_float_like_redis(a).ok_or_else(|| err("ERR value is not a valid float"))
}

/// `inf`, `+inf`, `-inf` (any case) and decimal/exponent forms; never NaN.
pub(crate) fn parse_float_like_redis(a: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(a).ok()?;
    if s.is_empty()
        || s.starts_with(|c: char| c.is_ascii_whitespace())
        || s.ends_with(|c: char| c.is_ascii_whitespace())
    {
        return None;
    }
    let v: f64 = match s.to_ascii_lowercase().as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => f64::INFINITY,
        "-inf" | "-infinity" => f64::NEG_INFINITY,
        other => other.parse().ok()?,
    };
    (!v.is_nan()).then_some(v)
}

pub(crate) fn eq(a: &[u8], word: &str) -> bool {
    a.eq_ignore_ascii_case(word.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_and_every_name_is_found() {
        for w in TABLE.windows(2) {
            assert!(w[0].name < w[1].name, "{} before {}", w[0].name, w[1].name);
        }
        for s in TABLE {
            assert_eq!(
                lookup(s.name.to_uppercase().as_bytes()).map(|x| x.name),
                Some(s.name)
            );
        }
        assert!(lookup(b"nosuchcommand").is_none());
        assert!(lookup(&[b'a'; 100]).is_none());
    }
}
