#!/usr/bin/env bash
# Side by side, same machine, same run: Redis 7 (Debian's redis-server) and
# memkeep's embedded engine on 1,000,000 string keys `user:%010d` with
# 64-byte values.
#
#   memory   Redis with appendonly/everysec: used_memory and RSS after loading
#            memkeep: RSS of a process holding an embedded store (bin mem_keys)
#   recovery Redis: RDB load time of the same data (from its log)
#            memkeep: reopen time from snapshot, snapshot+journal, journal (bin recovery)
#   fsync    memkeep fsync=always latency for 1/8/32 writers vs raw fdatasync
#
# Usage: bench/redis_compare.sh            (KEYS=1000000 RUNS=5 by default)
# Needs: redis-server, redis-cli, python3.
set -euo pipefail
KEYS=${KEYS:-1000000}
RUNS=${RUNS:-5}
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."
for tool in redis-server redis-cli python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install redis-server redis-tools python3)" >&2; exit 1; }
done

echo "== building release binaries" >&2
cargo build --release -q -p memkeep-bench --bins
bin=target/release

work=$(mktemp -d)
redis_pid=""
cleanup() {
  [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null && wait "$redis_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

start_redis() { # args: extra redis-server flags
  redis-server --port 0 --unixsocket "$work/redis.sock" --dir "$work" --save "" \
    --logfile "$work/redis.log" "$@" &
  redis_pid=$!
  # PONG only once any RDB is loaded (a loading server answers -LOADING).
  for _ in $(seq 600); do
    [ "$(redis-cli -s "$work/redis.sock" ping 2>/dev/null)" = PONG ] && return 0
    sleep 0.05
  done
  echo "redis-server did not start" >&2; cat "$work/redis.log" >&2; exit 1
}
stop_redis() {
  redis-cli -s "$work/redis.sock" shutdown nosave >/dev/null 2>&1 || true
  wait "$redis_pid" 2>/dev/null || true
  redis_pid=""
}
rss_of() { awk '/VmRSS/ {print $2 * 1024}' "/proc/$1/status"; }

echo "== redis: loading $KEYS keys (appendonly yes, appendfsync everysec)" >&2
python3 - "$KEYS" > "$work/load.resp" <<'PY'
import sys
n = int(sys.argv[1])
out = sys.stdout.buffer
for i in range(n):
    k = b"user:%010d" % i
    v = (b"%020d" % i) + b"v" * 44
    out.write(b"*3\r\n$3\r\nSET\r\n$15\r\n" + k + b"\r\n$64\r\n" + v + b"\r\n")
PY
start_redis --appendonly yes --appendfsync everysec
redis_version=$(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/')
redis-cli -s "$work/redis.sock" --pipe < "$work/load.resp" >/dev/null
sleep 2
redis_used=$(redis-cli -s "$work/redis.sock" info memory | awk -F: '/^used_memory:/ {print $2}' | tr -d '\r')
redis_rss=$(rss_of "$redis_pid")
redis-cli -s "$work/redis.sock" save >/dev/null
stop_redis

echo "== redis: RDB load time, $RUNS runs" >&2
redis_loads=()
for _ in $(seq "$RUNS"); do
  : > "$work/redis.log"
  start_redis --appendonly no
  stop_redis
  t=$(grep -o 'DB loaded from disk: [0-9.]* seconds' "$work/redis.log" | awk '{print $5}')
  redis_loads+=("$t")
done
redis_load=$(printf '%s\n' "${redis_loads[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
rdb_bytes=$(stat -c %s "$work/dump.rdb")

echo "== memkeep: memory" >&2
mem_json=$("$bin/mem_keys" "$KEYS")
echo "== memkeep: recovery, $RUNS runs each" >&2
rec_json=$("$bin/recovery" "$KEYS" "$RUNS")
echo "== memkeep: fsync=always latency" >&2
fsync_json=$("$bin/fsync_latency" 4000)

python3 - "$redis_version" "$redis_used" "$redis_rss" "$redis_load" "$rdb_bytes" "$mem_json" "$rec_json" "$fsync_json" <<'PY'
import json, sys
ver, used, rss, load, rdb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
mem, rec, fs = (json.loads(a) for a in sys.argv[6:9])
mb = lambda b: b / 1e6
print(f"| memory, {mem['keys']:,} keys | Redis {ver} | memkeep | memkeep / Redis |")
print("|---|---|---|---|")
print(f"| RSS | {mb(rss):.1f} MB | {mem['rss_loaded_mb']:.1f} MB | {mem['rss_loaded_mb'] / mb(rss):.2f} |")
print(f"| used_memory | {mb(used):.1f} MB | {mem['used_memory_mb']:.1f} MB | {mem['used_memory_mb'] / mb(used):.2f} |")
print(f"| bytes per key (RSS growth) | {(rss) / mem['keys']:.0f} | {mem['rss_bytes_per_key']:.0f} | |")
print()
print("| recovery, median of runs | time | vs Redis RDB load |")
print("|---|---|---|")
print(f"| Redis RDB load ({mb(rdb):.1f} MB file) | {load:.3f} s | 1.00 |")
for name, r in rec.items():
    print(f"| memkeep {name.replace('_', ' ')} ({r['data_dir_mb']:.1f} MB on disk, {r['records_replayed']:,} records replayed) | {r['median_open_seconds']:.3f} s | {r['median_open_seconds'] / load:.2f} |")
print()
print("| fsync=always | p50 | p99 | writes/s |")
print("|---|---|---|---|")
raw = fs['raw_fdatasync']
print(f"| raw 100-byte write + fdatasync | {raw['p50_us']:.0f} µs | {raw['p99_us']:.0f} µs | {1e6 / raw['p50_us']:.0f} |")
for t in (1, 8, 32):
    r = fs[f'always_{t}_writers']
    print(f"| memkeep SET, {t} writer(s) | {r['p50_us']:.0f} µs | {r['p99_us']:.0f} µs | {r['writes_per_second']:.0f} |")
PY
