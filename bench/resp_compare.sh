#!/usr/bin/env bash
# Side by side, same machine, same run: redis-benchmark against redis-server
# (appendonly yes, appendfsync everysec) and against `memkeep serve`
# (fsync everysec). Runs alternate (Redis, memkeep, Redis, …) ROUNDS times
# and the medians are compared, because this machine is shared and noisy.
#
# Usage: bench/resp_compare.sh     (ROUNDS=5 REQUESTS=200000 by default)
# Needs: redis-server, redis-benchmark, python3.
set -euo pipefail
ROUNDS=${ROUNDS:-5}
REQUESTS=${REQUESTS:-200000}
TESTS=${TESTS:-set,get,hset,lpush,incr,mset}
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."
for tool in redis-server redis-benchmark redis-cli python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install redis-server redis-tools)" >&2; exit 1; }
done
echo "== building memkeep (release)" >&2
cargo build --release -q -p memkeep
work=$(mktemp -d)
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

wait_port() {
  for _ in $(seq 200); do
    [ "$(redis-cli -p "$1" ping 2>/dev/null)" = PONG ] && return 0
    sleep 0.05
  done
  echo "server on port $1 did not start" >&2; exit 1
}

start() { # name port
  rm -rf "$work/data" && mkdir -p "$work/data"
  case $1 in
    redis) redis-server --port "$2" --save "" --appendonly yes --appendfsync everysec \
             --dir "$work/data" --logfile "$work/redis.log" & ;;
    memkeep) target/release/memkeep serve --data-dir "$work/data" --resp "127.0.0.1:$2" \
             --http 127.0.0.1:0 --fsync everysec 2>"$work/memkeep.log" & ;;
  esac
  server_pid=$!
  wait_port "$2"
}

stop() {
  redis-cli -p "$1" shutdown nosave >/dev/null 2>&1 || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

# CPU time (user + system, in clock ticks) the server process has used.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

results="$work/results.csv"
: > "$results"
for round in $(seq "$ROUNDS"); do
  for name in redis memkeep; do
    port=$([ "$name" = redis ] && echo 6391 || echo 6392)
    for pipeline in 1 16; do
      start "$name" "$port"
      n=$REQUESTS
      [ "$pipeline" = 16 ] && n=$((REQUESTS * 5))
      for test in ${TESTS//,/ }; do
        before=$(cpu_ticks "$server_pid")
        line=$(redis-benchmark -p "$port" -c 50 -n "$n" -P "$pipeline" -t "$test" --csv 2>/dev/null | tail -n 1)
        after=$(cpu_ticks "$server_pid")
        IFS=, read -r label rps _ <<<"$line"
        echo "$name,$pipeline,${label//\"/},${rps//\"/},$((after - before)),$n" >> "$results"
      done
      stop "$port"
    done
  done
  echo "== round $round of $ROUNDS done" >&2
done

python3 - "$results" "$ROUNDS" "$(getconf CLK_TCK)" <<'PY'
import csv, statistics, sys
rows = list(csv.reader(open(sys.argv[1])))
tick = 1.0 / float(sys.argv[3])
rps, cpu = {}, {}
for name, pipe, test, r, ticks, n in rows:
    key = (test, int(pipe), name)
    rps.setdefault(key, []).append(float(r))
    # Server CPU microseconds per request.
    cpu.setdefault(key, []).append(float(ticks) * tick * 1e6 / float(n))
tests = sorted({(t, p) for (t, p, _) in rps}, key=lambda x: (x[1], x[0]))
med = lambda d, k: statistics.median(d.get(k, [0]))
print("| command, 50 clients | pipeline | Redis req/s | memkeep req/s | memkeep / Redis (range over rounds) | server CPU µs/request, Redis | memkeep |")
print("|---|---|---|---|---|---|---|")
for t, p in tests:
    r, m = med(rps, (t, p, "redis")), med(rps, (t, p, "memkeep"))
    ratios = [b / a for a, b in zip(rps[(t, p, "redis")], rps[(t, p, "memkeep")]) if a]
    lo, hi = (min(ratios), max(ratios)) if ratios else (0, 0)
    cr, cm = med(cpu, (t, p, "redis")), med(cpu, (t, p, "memkeep"))
    print(f"| {t} | {p} | {r:,.0f} | {m:,.0f} | **{m / r if r else 0:.2f}** ({lo:.2f}–{hi:.2f}) | {cr:.2f} | {cm:.2f} |")
print(f"\n({sys.argv[2]} alternating rounds; medians; ranges are per-round ratios)")
PY
