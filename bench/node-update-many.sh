#!/usr/bin/env bash
# Many installed nodes at once against one `sidus serve` (issue 9): N NativeAOT agents in one client namespace
# each install version 1 into an empty directory, all at once, then each update it to version 2, all at once. For
# every N (a fresh server each time, so no N inherits another's caches): did every node succeed, the wall time, and
# the server's CPU time (utime + stime from /proc) and bytes read (rchar from /proc: its packs, page cache or disk)
# per node. Shared work (verification, decompressed frames, the contents compressed for the wire) is done once per
# server, so the per-node figures should fall as N grows.
#
#   bench/node-update-many.sh [COUNTS]   (default "1 5 20"; needs root; the bench home of bench/node-update.sh)
set -euo pipefail
counts=${1:-"1 5 20"}
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work=${SIDUS_BENCH_WORK:-/var/tmp/sidus-bench-update}
home=$work/home
image=e2e-debian
sidus="$repo/sidus"
source "$repo/bench/lib/netns-pair.sh"
source "$repo/bench/lib/measure.sh"
source "$repo/bench/lib/agent.sh"

"$sidus" --help >/dev/null
bench_agent "$repo" "$work/agent"
version() { "$sidus" --home "$home" image log "$image" --json | python3 -c "import json,sys; print(next(x['id'] for x in json.load(sys.stdin) if x['version']==$1))"; }
v1=$(version 1); v2=$(version 2)
token_file=$work/admin.token
[[ -s $token_file ]] || "$sidus" --home "$home" token create "bench-$RANDOM" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])' > "$token_file"

netns_pair_names many
serve_pid=""
cleanup() { [[ -z $serve_pid ]] || kill "$serve_pid" 2>/dev/null || true; wait 2>/dev/null || true; netns_pair_down; rm -rf "$work"/many-*; }
trap cleanup EXIT
netns_pair_up

# Every simulated node shares the client namespace's one address: the per-address connection limit (8, for a real
# boot network) is raised so that it counts nodes, not addresses.
cat > "$work/serve-many.toml" <<CONF
[limits]
http-connections-per-source = 1000
CONF
start_serve() {
  ip netns exec "$srv" "$sidus" --home "$home" serve --config "$work/serve-many.toml" --no-tftp --no-nbd --listen "$sip" --http-port 8080 \
    > "$work/serve-many.log" 2>&1 &
  serve_pid=$!
  for _ in $(seq 150); do ip netns exec "$cli" curl -sf "http://$sip:8080/healthz" >/dev/null && return; sleep 0.2; done
  cat "$work/serve-many.log" >&2; echo "sidus serve did not start" >&2; exit 1
}
stop_serve() { kill "$serve_pid"; wait "$serve_pid" 2>/dev/null || true; serve_pid=""; }
# The server's CPU seconds (user + system) and bytes read so far. `./sidus` execs the CLI, so the pid is the server's.
cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$serve_pid/stat"; }
rchar() { awk '/^rchar/ { print $2 }' "/proc/$serve_pid/io"; }

# phase N NAME VERSION: N agents at once, each on its own directory; prints one table row.
phase() {
  local n=$1 name=$2 to=$3 c0 r0 b0 s pids=() failed=0 i
  sync
  c0=$(cpu); r0=$(rchar); b0=$(wire); s=$(date +%s.%N)
  for i in $(seq "$n"); do
    ip netns exec "$cli" "$agent" update --root "$work/many-$i" --server "http://$sip:8080" --token-file "$token_file" --to "$to" \
      > "$work/many-$i.out" 2>&1 &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do wait "${pids[$i]}" || { failed=$((failed + 1)); tail -3 "$work/many-$((i + 1)).out" >&2; }; done
  local e c1 r1 b1
  e=$(date +%s.%N); c1=$(cpu); r1=$(rchar); b1=$(wire)
  printf '| %2d | %-7s | %2d of %2d | %7.2f s | %6.2f s | %8.1f MB | %8.1f MB |\n' "$n" "$name" "$((n - failed))" "$n" \
    "$(echo "$e - $s" | bc)" "$(echo "scale=3; ($c1 - $c0) / $n" | bc)" \
    "$(echo "scale=1; ($r1 - $r0) / $n / 1000000" | bc)" "$(echo "scale=1; ($b1 - $b0) / $n / 1000000" | bc)"
}

echo "version 1 $v1"; echo "version 2 $v2"
echo "| nodes | phase | succeeded | wall | server CPU per node | server bytes read per node | wire per node |"
echo "|---|---|---|---|---|---|---|"
for n in $counts; do
  rm -rf "$work"/many-*
  start_serve
  phase "$n" install "$v1"
  phase "$n" update "$v2"
  stop_serve
done
