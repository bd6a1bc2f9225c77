"""redis-py (PyPI `redis`) against `memkeep serve`: every command family,
transactions (MULTI/EXEC, WATCH conflicts), pipelines, RESP2 and RESP3,
and the error classes the library maps Redis's error texts to.

Usage: python3 redis_py.py PORT [TOKEN]   (run by the `server` test target)
"""

import sys
import threading

import redis

PORT = int(sys.argv[1])
TOKEN = sys.argv[2] if len(sys.argv) > 2 else None


def connect(**kw):
    return redis.Redis(host="127.0.0.1", port=PORT, password=TOKEN, decode_responses=True, **kw)


r = connect()
r.flushall()

# Connection.
assert r.ping() is True
assert r.echo("hi") == "hi"
r.client_setname("py-test")
assert r.client_getname() == "py-test"
assert isinstance(r.client_id(), int)
info = r.info()
assert info["redis_version"] and "used_memory" in info, info
assert r.dbsize() == 0

# Strings.
assert r.set("s", "v") is True
assert r.set("s", "other", nx=True) is None
assert r.set("s", "v2", xx=True, get=True) == "v"
assert r.set("ttl", "x", ex=100) and 99 <= r.ttl("ttl") <= 100
assert r.set("pttl", "x", px=100000) and r.pttl("pttl") > 90000
assert r.set("ttl", "y", keepttl=True) and r.ttl("ttl") > 0
assert r.setnx("s", "no") is False
assert r.setex("e", 50, "v") and r.ttl("e") == 50
assert r.mset({"m1": "1", "m2": "2"}) is True
assert r.mget("m1", "missing", "m2") == ["1", None, "2"]
assert r.getdel("m1") == "1" and r.get("m1") is None
assert r.getex("m2", ex=30) == "2" and r.ttl("m2") == 30
assert r.append("s", "!") == 3 and r.strlen("s") == 3
assert r.getrange("s", 0, 1) == "v2" and r.setrange("s", 1, "XY") == 3 and r.get("s") == "vXY"
assert r.incr("n") == 1 and r.incrby("n", 10) == 11 and r.decr("n") == 10 and r.decrby("n", 4) == 6
assert r.incrbyfloat("f", 2.5) == 2.5
try:
    r.incr("s")
    raise AssertionError("INCR of a non-number must fail")
except redis.ResponseError as e:
    assert str(e) == "value is not an integer or out of range", e

# Keys.
assert r.exists("s", "n", "nope") == 2
assert r.type("s") == "string"
assert r.expire("s", 100) and r.ttl("s") == 100 and r.persist("s") and r.ttl("s") == -1
assert r.pexpire("s", 100000) and r.expireat("n", 4102444800) and r.ttl("n") > 0
assert r.rename("s", "s2") is True and r.get("s2") == "vXY"
assert r.delete("s2", "nope") == 1 and r.unlink("n") == 1
assert sorted(r.keys("m*")) == ["m2"]
seen = set(r.scan_iter(match="*", count=2))
assert seen == set(r.keys("*")), (seen, r.keys("*"))
try:
    r.rename("nope", "x")
    raise AssertionError("RENAME of a missing key must fail")
except redis.ResponseError as e:
    assert str(e) == "no such key", e

# Hashes.
assert r.hset("h", mapping={"a": "1", "b": "2"}) == 2
assert not r.hsetnx("h", "a", "x")
assert r.hget("h", "a") == "1" and r.hmget("h", ["a", "z", "b"]) == ["1", None, "2"]
assert r.hgetall("h") == {"a": "1", "b": "2"}
assert r.hincrby("h", "a", 5) == 6 and r.hincrbyfloat("h", "f", 0.5) == 0.5
assert r.hexists("h", "f") and r.hlen("h") == 3
assert sorted(r.hkeys("h")) == ["a", "b", "f"] and sorted(r.hvals("h")) == ["0.5", "2", "6"]
assert r.hdel("h", "f", "zz") == 1
assert dict(r.hscan_iter("h")) == {"a": "6", "b": "2"}

# Lists.
assert r.rpush("l", "a", "b", "c") == 3 and r.lpush("l", "z") == 4
assert r.lrange("l", 0, -1) == ["z", "a", "b", "c"] and r.llen("l") == 4
assert r.lindex("l", -1) == "c" and r.lset("l", 0, "first")
assert r.lrem("l", 0, "a") == 1 and r.ltrim("l", 0, 1) and r.lrange("l", 0, -1) == ["first", "b"]
assert r.lpop("l") == "first" and r.rpop("l") == "b" and r.rpop("l") is None
assert r.rpush("l2", *range(10)) == 10 and r.lpop("l2", 3) == ["0", "1", "2"]

# Sets.
assert r.sadd("s1", "a", "b", "c") == 3 and r.sadd("s2", "b", "c", "d") == 3
assert r.sismember("s1", "a") and not r.sismember("s1", "z") and r.scard("s1") == 3
assert r.smembers("s1") == {"a", "b", "c"}
assert r.sinter("s1", "s2") == {"b", "c"} and r.sunion("s1", "s2") == {"a", "b", "c", "d"}
assert r.sdiff("s1", "s2") == {"a"} and r.srem("s1", "a") == 1
assert set(r.sscan_iter("s1")) == {"b", "c"}
popped = r.spop("s2")
assert popped in {"b", "c", "d"} and r.scard("s2") == 2

# Sorted sets.
assert r.zadd("z", {"a": 1, "b": 2, "c": 3}) == 3
assert r.zadd("z", {"a": 5}, nx=True) == 0 and r.zscore("z", "a") == 1.0
assert r.zincrby("z", 2.5, "a") == 3.5 and r.zcard("z") == 3
assert r.zrange("z", 0, -1, withscores=True) == [("b", 2.0), ("c", 3.0), ("a", 3.5)]
assert r.zrange("z", 0, 0, desc=True) == ["a"]
assert r.zrange("z", 2, 3, byscore=True, offset=0, num=1) == ["b"]
assert r.zrangebyscore("z", "(2", "+inf") == ["c", "a"]
assert r.zrank("z", "a") == 2 and r.zcount("z", 2, 3) == 2 and r.zrem("z", "b") == 1
assert dict(r.zscan_iter("z")) == {"c": 3.0, "a": 3.5}

# Wrong types map to redis-py's error with Redis's text.
try:
    r.lpush("h", "x")
    raise AssertionError("LPUSH on a hash must fail")
except redis.ResponseError as e:
    assert str(e).startswith("WRONGTYPE"), e

# Pipelines: one round trip, replies in order, errors in place.
p = r.pipeline(transaction=False)
for i in range(1000):
    p.set(f"p:{i}", i)
p.get("p:999")
p.incr("h")  # wrong type: an error among the replies
results = p.execute(raise_on_error=False)
assert results[:1000] == [True] * 1000 and results[1000] == "999"
assert isinstance(results[1001], redis.ResponseError)

# Transactions: MULTI/EXEC through a transactional pipeline.
p = r.pipeline()
p.set("tx", 1).incr("tx").get("tx")
assert p.execute() == [True, 2, "2"]

# WATCH: a conflicting write aborts EXEC; redis-py raises WatchError.
def transfer(conn):
    with conn.pipeline() as p:
        p.watch("balance")
        balance = int(p.get("balance") or 0)
        other = connect()
        other.incr("balance", 100)  # someone else changes it meanwhile
        p.multi()
        p.set("balance", balance + 1)
        p.execute()

r.set("balance", 10)
try:
    transfer(r)
    raise AssertionError("EXEC after a conflicting write must abort")
except redis.WatchError:
    pass
assert r.get("balance") == "110"

# The classic retry loop succeeds under contention from threads.
r.set("hits", 0)
def incr_with_watch():
    c = connect()
    for _ in range(50):
        while True:
            with c.pipeline() as p:
                try:
                    p.watch("hits")
                    n = int(p.get("hits"))
                    p.multi()
                    p.set("hits", n + 1)
                    p.execute()
                    break
                except redis.WatchError:
                    continue
threads = [threading.Thread(target=incr_with_watch) for _ in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert r.get("hits") == "200", r.get("hits")

# EXEC with a queued command that fails at queue time: EXECABORT.
try:
    with r.pipeline() as p:
        p.set("a", 1)
        p.execute_command("GET")  # wrong arity
        p.execute()
    raise AssertionError("EXEC must abort")
except redis.ResponseError as e:
    assert "EXECABORT" in str(e) or "wrong number of arguments" in str(e), e

# RESP3.
r3 = connect(protocol=3)
assert r3.hgetall("h") == {"a": "6", "b": "2"}
assert r3.zscore("z", "a") == 3.5
assert r3.smembers("s1") == {"b", "c"}
assert r3.get("missing") is None

# Snapshots.
assert r.save() is True
assert r.lastsave() is not None
r.bgsave()

print("redis-py: all checks passed")
