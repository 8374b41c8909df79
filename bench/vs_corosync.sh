#!/usr/bin/env bash
# Corosync 3 and raincore side by side in ONE run (on a shared machine only same-run ratios mean
# anything), N members each, every member a sender: Corosync's cpgperf (N instances in a private
# network namespace, knet, token 1000 ms) and `raincore bench multicast` (N member processes on UDP
# loopback). Prints one summary line each (msgs/s: the minimum over members; p50/p99: the maximum;
# one order hash must hold on all), and with --json FILE appends one JSON record per run.
#
#   bench/vs_corosync.sh flood 100 20000 [N]      N senders x 20,000 x 100 B, as fast as possible
#   bench/vs_corosync.sh flood 1000 5000 [N]      N senders x 5,000 x 1,000 B
#   bench/vs_corosync.sh paced 100 10000 [N]      N senders x 1,000 msgs/s x 10 s
#   RAINCORE_WARMUP=W bench/vs_corosync.sh …      raincore's senders first flood W unmeasured messages
#                                                 each (compiled code, grown heaps; Corosync is C)
#
# Needs root (network namespaces), `npm ci`, `npm run build` and once the peer set-up of this
# project's shared tooling (../shared/peers/setup-corosync.sh, which builds /tmp/csbuild/cpgperf).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PEERS=${RAINCORE_PEERS_DIR:-$ROOT/../shared/peers}
L="$PEERS/corosync/cs-loopback.sh"
json=""
if [ "${1:-}" = "--json" ]; then json=$2; shift 2; fi
mode=${1:-flood}; size=${2:-100}; count=${3:-20000}; n=${4:-4}; rate=0
[ "$mode" = paced ] && rate=1000
case "$mode" in flood|paced) ;; *) echo "mode must be flood or paced, got '$mode'" >&2; exit 2;; esac
[ -x /tmp/csbuild/cpgperf ] || bash "$PEERS/setup-corosync.sh" || exit 1
[ -f "$ROOT/dist/cli.js" ] || { echo "dist/ is missing: run npm run build first" >&2; exit 1; }

cs_out=$(mktemp); rc_out=$(mktemp); trap 'rm -f "$cs_out" "$rc_out" /tmp/vs-cs-*.out' EXIT
"$L" down >/dev/null 2>&1
"$L" up "$n" 1000 >/dev/null 2>&1 || { echo "corosync did not start" >&2; "$L" down >/dev/null 2>&1; exit 1; }
for i in $(seq 1 "$n"); do cp /tmp/csbuild/cpgperf "/tmp/cslo/n$i/tmp/cpgperf"; done
for i in $(seq 1 "$n"); do
  timeout 180 "$L" exec "$i" /tmp/cpgperf bench -m "$n" -n "$count" -s "$size" -r "$rate" -k "$n" -S \
    > "/tmp/vs-cs-$i.out" 2>&1 &
done
wait; "$L" down >/dev/null 2>&1
cat /tmp/vs-cs-*.out | grep '^{' > "$cs_out"

rargs=(--nodes "$n" --senders "$n" --size "$size" --count "$count")
[ "$rate" -gt 0 ] && rargs+=(--rate "$rate")
warmup=${RAINCORE_WARMUP:-0}
[ "$warmup" -gt 0 ] && rargs+=(--warmup "$warmup")
(cd "$ROOT" && timeout 180 node bin/raincore.js bench multicast "${rargs[@]}" 2>/dev/null) | grep '^{' > "$rc_out"

python3 - "$cs_out" "$rc_out" "$mode" "$size" "$count" "$n" "$json" "$warmup" <<'EOF'
import json, os, sys, time
cs_file, rc_file, mode, size, count, n, out, warmup = sys.argv[1:9]
n = int(n)
def summary(path):
    rows = [json.loads(l) for l in open(path) if l.startswith("{")]
    if len(rows) != n:
        return {"error": f"{len(rows)} result lines (want {n})"}
    return {
        "msgs_per_s": min(r["msgs_per_s"] for r in rows),
        "lat_ms_p50": max(r["lat_ms_p50"] for r in rows),
        "lat_ms_p99": max(r["lat_ms_p99"] for r in rows),
        "order_hashes": len({r.get("order_hash") for r in rows}),
    }
cs, rc = summary(cs_file), summary(rc_file)
print(f"{mode}, {n} senders x {count} x {size} B" + (" at 1000 msgs/s each" if mode == "paced" else "") +
      (f", raincore warmed up with {warmup} each" if warmup != "0" else "") +
      f" (load average {os.getloadavg()[0]:.2f})")
for name, s in (("corosync", cs), ("raincore", rc)):
    if "error" in s:
        print(f"  {name:9} {s['error']}")
    else:
        print(f"  {name:9} min {s['msgs_per_s']:9.0f} msgs/s  p50 {s['lat_ms_p50']:6.2f} ms  "
              f"p99 {s['lat_ms_p99']:6.2f} ms  order hashes {s['order_hashes']}")
if "error" not in cs and "error" not in rc:
    print(f"  ratio     {rc['msgs_per_s'] / cs['msgs_per_s']:.2f} (raincore / corosync, msgs/s)")
if out:
    with open(out, "a") as f:
        f.write(json.dumps({"at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "mode": mode,
                            "size": int(size), "count": int(count), "members": n, "raincore_warmup": int(warmup),
                            "load": os.getloadavg()[0], "corosync": cs, "raincore": rc}) + "\n")
EOF
