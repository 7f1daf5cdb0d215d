#!/usr/bin/env bash
# A simulated mass reboot of ram-mode nodes: NODES simulated nodes (bench/Sidus.Bench.RamLoad, the agent's own
# manifest parser, batching plan and backoff) fetch the e2e ram image from `sidus serve` all at once, over a veth
# pair between two network namespaces this script creates (optionally shaped to RATE with tc, the "link limit").
# Then the same load runs against nginx serving the same objects as plain files (one GET per file).
# Prints per server: nodes done / failed, requests that failed (and were retried), per-node time p50/p90/max,
# aggregate MB/s (10^6 bytes/s), server CPU seconds and peak RSS; plus the page-cache read rate of the packs.
# Usage: bench/ram-mass-boot.sh [NODES]    env: RATE=1gbit (tc shaping, default none) SAMPLE=20 (nodes that also
#        check SHA-256 of every file) LOAD_TIMEOUT=900 SIDUS_BIN=path (default: the NativeAOT build ./sidus makes)
#        BEFORE_BIN=path (an older sidus binary: run it too, for a before/after comparison) SKIP_NGINX=1
#        WARM=1 (a second round on the same sidus process)
# Needs root (ip netns), nginx, curl, tc (iproute2), dotnet. The e2e store is copied, never written.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib/nginx-static.sh
. "$here/lib/nginx-static.sh"
# shellcheck source=bench/lib/mass-boot-common.sh
. "$here/lib/mass-boot-common.sh"
mass_boot_defaults "${1:-}" 20 900
mass_boot_begin smb sidus-ram-bench
mass_boot_need "apt-get install nginx curl iproute2" nginx curl dotnet ip tc
nginx=$(command -v nginx || echo /usr/sbin/nginx)
mass_boot_source
dotnet build -c Release -v quiet -nologo "$here/Sidus.Bench.RamLoad" -o "$work/load" >/dev/null

# A private copy of the store (the shared e2e cache is only read).
mass_boot_home
pack_bytes=$(cat "$work/home/store/packs/"*.pack | wc -c)

netns_pair_up "$RATE"

# Page-cache read rate of the packs (read twice: the second read is from memory).
cat "$work/home/store/packs/"*.pack > /dev/null
t0=$(date +%s.%N); cat "$work/home/store/packs/"*.pack > /dev/null; t1=$(date +%s.%N)
cache_rate=$(awk -v b="$pack_bytes" -v a="$t0" -v z="$t1" 'BEGIN { printf "%.0f", b / (z - a) / 1e6 }')

port=8080
start_sidus() { # BIN LOG -> pid in $serve_pid
  ip netns exec "$srv" "$1" --home "$work/home" serve --no-tftp --listen "$sip" --http-port "$port" > "$2" 2>&1 &
  serve_pid=$!; pids+=("$serve_pid")
  for _ in $(seq 150); do inc curl -sf --max-time 2 "http://$sip:$port/healthz" >/dev/null && return 0; sleep 0.2; done
  cat "$2" >&2; echo "sidus serve did not start" >&2; return 1
}

# run NAME BASE PID [--files]
run() {
  local name=$1 base=$2 pid=$3; shift 3
  ( while kill -0 "$pid" 2>/dev/null; do awk '/VmRSS/ { print $2 }' "/proc/$pid/status" 2>/dev/null; sleep 0.2; done ) > "$work/rss-$name" &
  local sampler=$! rc=0 line cpu0 cpu1
  cpu0=$(cpu_seconds "$pid")
  line=$(inc env DOTNET_GCHeapHardLimit=0x40000000 "$work/load/Sidus.Bench.RamLoad" --server "$base" --version "$version" --nodes "$NODES" --sample "$SAMPLE" \
         --timeout "$LOAD_TIMEOUT" "$@" 2> "$work/load-$name.err") || rc=$?
  cpu1=$(cpu_seconds "$pid")
  kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true
  local peak; peak=$(sort -n "$work/rss-$name" | tail -1)
  echo "$name: $line server_cpu_s=$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { printf "%.1f", b - a }') peak_rss_MiB=$((peak / 1024))"
  head -5 "$work/load-$name.err" >&2 || true
  [ "$rc" = 0 ] || echo "$name: not every node finished (exit $rc)" >&2
}

echo "image $IMAGE version ${version:0:12}; packs $((pack_bytes / 1000000)) MB, page-cache read ${cache_rate} MB/s; nodes $NODES; link ${RATE:-unshaped veth}; load $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -n "${BEFORE_BIN:-}" ]; then
  start_sidus "$BEFORE_BIN" "$work/serve-before.log"
  run sidus-before "http://$sip:$port" "$serve_pid"
  stop "$serve_pid"
fi

start_sidus "$SIDUS_BIN" "$work/serve.log"
run sidus "http://$sip:$port" "$serve_pid"
[ -z "${WARM:-}" ] || run sidus-warm "http://$sip:$port" "$serve_pid"

if [ -z "${SKIP_NGINX:-}" ]; then
  # The same objects as plain files: the manifest at its API path, each content at /objects/ID.
  mkdir -p "$work/www"
  inc "$work/load/Sidus.Bench.RamLoad" --server "http://$sip:$port" --version "$version" --export "$work/www" >/dev/null
  stop "$serve_pid"
  chmod -R a+rX "$work/www"; chmod 755 "$work"
  nginx_static_conf "$work/nginx" "$sip:$port" "$work/www"
  ip netns exec "$srv" "$nginx" -p "$work/nginx" -c "$work/nginx/nginx.conf" &
  nginx_pid=$!; pids+=("$nginx_pid")
  for _ in $(seq 50); do inc curl -sf -o /dev/null "http://$sip:$port/api/versions/$version/manifest" && break; sleep 0.2; done
  cat "$work/www/objects/"* > /dev/null
  run nginx "http://$sip:$port" "$nginx_pid" --files
fi
