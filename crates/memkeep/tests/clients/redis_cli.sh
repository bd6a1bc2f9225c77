#!/usr/bin/env bash
# The real `redis-cli` (Debian's redis-tools) against `memkeep serve`: every
# command family, a transaction, stdin batches and --pipe mass insertion.
# Usage: redis_cli.sh PORT     (run by the `server` test target, clients.rs)
set -uo pipefail
PORT=${1:?usage: redis_cli.sh PORT}
failures=0
cli() { redis-cli -p "$PORT" "$@" 2>&1; }

# expect WANT CMD ARGS...: the raw-mode output of one command.
expect() {
  local want=$1; shift
  local got
  got=$(cli "$@")
  if [ "$got" != "$want" ]; then
    printf 'FAIL: %s\n  want: %q\n  got:  %q\n' "$*" "$want" "$got" >&2
    failures=$((failures + 1))
  fi
}

# expect_sh WANT SHELL-COMMAND: for replies whose order is unspecified.
expect_sh() {
  local want=$1 got
  got=$(bash -c "$2" 2>&1)
  if [ "$got" != "$want" ]; then
    printf 'FAIL: %s\n  want: %q\n  got:  %q\n' "$2" "$want" "$got" >&2
    failures=$((failures + 1))
  fi
}

cli FLUSHALL >/dev/null

# Connection and server.
expect PONG PING
expect hello ECHO hello
expect OK SELECT 0
expect "$(printf 'ERR DB index is out of range')" SELECT 1
expect 0 DBSIZE
expect OK CLIENT SETNAME cli-test

# Strings.
expect OK SET greeting "hello world"
expect "hello world" GET greeting
expect 11 STRLEN greeting
expect 18 APPEND greeting ", again"
expect "world" GETRANGE greeting 6 10
expect 18 SETRANGE greeting 0 J
expect "Jello world, again" GET greeting
expect OK SET counter 10
expect 11 INCR counter
expect 16 INCRBY counter 5
expect 15 DECR counter
expect 5 DECRBY counter 10
expect 6.5 INCRBYFLOAT counter 1.5
expect "ERR value is not an integer or out of range" INCR greeting
expect OK MSET a 1 b 2 c 3
expect "$(printf '1\n2\n\n3')" MGET a b missing c
expect 0 SETNX a 9
expect OK SETEX temp 100 v
expect 100 TTL temp
expect v GETDEL temp
expect "" GET temp
expect OK SET k v NX
expect "" SET k v2 NX
expect v SET k v3 GET
expect v3 GETEX k PX 50000

# Keys.
expect string TYPE k
expect 2 EXISTS a b
expect 1 EXPIRE a 100
expect 1 PERSIST a
expect -1 TTL a
expect -2 TTL nothing
expect 1 PEXPIRE b 100000
expect OK RENAME b b2
expect 1 DEL b2
expect 1 UNLINK c
expect_sh "$(printf 'a\ncounter')" "redis-cli -p $PORT KEYS '[ac]*' | sort"

# Hashes.
expect 2 HSET user:1 name Ada lang en
expect 0 HSETNX user:1 name Bob
expect Ada HGET user:1 name
expect "$(printf 'Ada\n\nen')" HMGET user:1 name nope lang
expect 2 HLEN user:1
expect 1 HEXISTS user:1 lang
expect 5 HINCRBY user:1 visits 5
expect 5.25 HINCRBYFLOAT user:1 visits 0.25
expect "$(printf 'name\nlang\nvisits')" HKEYS user:1
expect 1 HDEL user:1 visits
expect "$(printf 'name\nAda\nlang\nen')" HGETALL user:1
expect "$(printf '0\nname\nAda\nlang\nen')" HSCAN user:1 0

# Lists.
expect 3 RPUSH queue a b c
expect 4 LPUSH queue z
expect "$(printf 'z\na\nb\nc')" LRANGE queue 0 -1
expect 4 LLEN queue
expect b LINDEX queue 2
expect OK LSET queue 0 first
expect 1 LREM queue 1 a
expect OK LTRIM queue 0 1
expect first LPOP queue
expect b RPOP queue
expect 0 LLEN queue

# Sets.
expect 3 SADD tags red green blue
expect 1 SADD other blue
expect 1 SISMEMBER tags red
expect 3 SCARD tags
expect_sh "$(printf 'blue\ngreen\nred')" "redis-cli -p $PORT SMEMBERS tags | sort"
expect blue SINTER tags other
expect_sh 3 "redis-cli -p $PORT SUNION tags other | wc -l"
expect_sh "$(printf 'green\nred')" "redis-cli -p $PORT SDIFF tags other | sort"
expect 1 SREM tags green
expect_sh 2 "redis-cli -p $PORT SSCAN tags 0 | tail -n +2 | wc -l"
expect_sh 1 "redis-cli -p $PORT SPOP other | wc -l"

# Sorted sets.
expect 3 ZADD board 10 ada 20 bob 15 cy
expect 20 ZSCORE board bob
expect 25 ZINCRBY board 5 bob
expect 3 ZCARD board
expect "$(printf 'ada\ncy\nbob')" ZRANGE board 0 -1
expect "$(printf 'bob\n25\ncy\n15')" ZRANGE board 0 1 REV WITHSCORES
expect "$(printf 'cy\nbob')" ZRANGE board 12 100 BYSCORE LIMIT 0 5
expect "$(printf 'ada\ncy')" ZRANGEBYSCORE board -inf 15
expect 1 ZRANK board cy
expect 2 ZCOUNT board 11 30
expect 1 ZREM board ada
expect "$(printf '0\ncy\n15\nbob\n25')" ZSCAN board 0

# Errors keep the connection usable; wrong types say WRONGTYPE.
expect "WRONGTYPE Operation against a key holding the wrong kind of value" LPUSH greeting x
expect "ERR wrong number of arguments for 'get' command" GET
expect "ERR unknown command 'FROB', with args beginning with: 'x' " FROB x

# A transaction and a batch on one connection (commands from stdin).
got=$(printf 'MULTI\nSET tx 1\nINCR tx\nEXEC\nGET tx\n' | redis-cli -p "$PORT")
want=$(printf 'OK\nQUEUED\nQUEUED\nOK\n2\n2')
[ "$got" = "$want" ] || { printf 'FAIL: MULTI/EXEC\n  want: %q\n  got:  %q\n' "$want" "$got" >&2; failures=$((failures + 1)); }
got=$(printf 'MULTI\nINCR tx\nDISCARD\nGET tx\n' | redis-cli -p "$PORT")
want=$(printf 'OK\nQUEUED\nOK\n2')
[ "$got" = "$want" ] || { printf 'FAIL: DISCARD\n  want: %q\n  got:  %q\n' "$want" "$got" >&2; failures=$((failures + 1)); }

# Mass insertion: --pipe sends 10,000 raw RESP commands in one stream.
out=$(for i in $(seq 1 10000); do printf '*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$1\r\nv\r\n' "${#i}" "$i"; done | redis-cli -p "$PORT" --pipe 2>&1)
case $out in
  *"errors: 0, replies: 10000"*) ;;
  *) printf 'FAIL: --pipe\n  got: %s\n' "$out" >&2; failures=$((failures + 1)) ;;
esac
expect v GET 5000

# Snapshots.
expect OK SAVE
expect "Background saving started" BGSAVE
lastsave=$(cli LASTSAVE)
[ "$lastsave" -gt 1700000000 ] 2>/dev/null || { echo "FAIL: LASTSAVE gave $lastsave" >&2; failures=$((failures + 1)); }

if [ "$failures" -gt 0 ]; then
  echo "$failures redis-cli checks failed" >&2
  exit 1
fi
echo "redis-cli: all checks passed"
