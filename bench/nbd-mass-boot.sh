#!/usr/bin/env bash
# A simulated mass reboot of ram-mode nodes over NBD: once up, a ram node copies the WHOLE erofs export of its
# version into RAM over one NBD connection. NODES simulated nodes (bench/lib/nbd-nodes.sh: nbdcopy, libnbd's client,
# one connection each, at most 5 attempts with backoff) copy the export at the same moment from `sidus serve`, over a
# veth pair between two network namespaces this script creates (optionally shaped to RATE with tc, the link limit).
# Then the same load runs against qemu-nbd and nbdkit serving the very file sidus serve serves.
# Prints per server: nodes done / failed, attempts retried, per-node time p50/p90/max, aggregate MB/s (10^6 bytes/s),
# server CPU seconds and peak RSS (VmHWM, reset after the warm-up); plus the page-cache read rate of the export file.
# Usage: bench/nbd-mass-boot.sh [NODES]    env: RATE=1gbit (tc shaping, default none) SAMPLE=10 (nodes that check
#        the SHA-256 of the bytes) LOAD_TIMEOUT=1500 SIDUS_BIN=path (default: the NativeAOT build ./sidus makes)
#        SKIP_QEMU=1 SKIP_NBDKIT=1
# Needs root (ip netns), nbdcopy + nbdinfo (libnbd-bin), qemu-nbd (qemu-utils), nbdkit (optional), curl, tc.
# The e2e store is copied, never written.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib/mass-boot-common.sh
. "$here/lib/mass-boot-common.sh"
mass_boot_defaults "${1:-}" 10 1500
mass_boot_begin nbm sidus-nbd-bench
mass_boot_need "apt-get install libnbd-bin curl iproute2" nbdcopy nbdinfo curl ip tc flock
[ -n "${SKIP_QEMU:-}" ] || command -v qemu-nbd >/dev/null || { echo "missing qemu-nbd (apt-get install qemu-utils, or SKIP_QEMU=1)" >&2; exit 1; }
[ -n "${SKIP_NBDKIT:-}" ] || command -v nbdkit >/dev/null || { echo "nbdkit not installed: skipped (apt-get install nbdkit)" >&2; SKIP_NBDKIT=1; }
mass_boot_source

# A private copy of the store (the shared e2e cache is only read); sidus serve builds the export into this home.
mass_boot_home
export_file=$work/home/exports/$version.erofs

netns_pair_up "$RATE"
wait_nbd() { # URI PID: until the server answers (bounded)
  for _ in $(seq 100); do
    kill -0 "$2" 2>/dev/null || return 1
    inc timeout 5 nbdinfo --size "$1" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  return 1
}

# run NAME URI PID: the load against one server, then one summary line.
run() {
  local name=$1 uri=$2 pid=$3 size want out=$work/load-$1 cpu0 cpu1 hwm rss0 rss_parts deadline ok bad corrupt reported retried last
  size=$(inc timeout 60 nbdinfo --size "$uri")
  want=$(head -c "$size" "$export_file" | sha256sum | cut -d' ' -f1)
  mkdir -p "$out"
  echo 5 > "/proc/$pid/clear_refs"   # resets VmHWM: the peak is the load's, not the export build's
  rss0=$(awk '/VmRSS/ { print $2 }' "/proc/$pid/status")
  cpu0=$(cpu_seconds "$pid")
  deadline=$(( $(date +%s) + LOAD_TIMEOUT ))
  inc "$here/lib/nbd-nodes.sh" "$NODES" "$uri" "$SAMPLE" "$want" "$out" "$deadline" || true
  cpu1=$(cpu_seconds "$pid")
  hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")
  rss_parts=$(awk '/RssAnon|RssFile/ { printf "%s %d MiB ", $1, $2 / 1024 }' "/proc/$pid/status")
  touch "$out/results"
  local counts times
  # ok failed checksum reported retried last-end
  counts=$(awk '{ n++; if ($2 == 0) { ok++; if ($5 > last) last = $5 } else bad++; if ($2 == 9) sum++; retried += $3 - 1 }
                END { printf "%d %d %d %d %d %.6f", ok, bad, sum, n, retried, last }' "$out/results")
  times=$(awk '$2 == 0 { print $5 - $4 }' "$out/results" | sort -n)
  read -r ok bad corrupt reported retried last <<< "$counts"
  awk -v name="$name" -v nodes="$NODES" -v ok="$ok" -v bad="$bad" -v corrupt="$corrupt" -v reported="$reported" \
      -v retried="$retried" -v size="$size" -v release="$(cat "$out/release")" -v last="$last" -v hwm="$hwm" -v rss0="$rss0" -v parts="${rss_parts% }" \
      -v cpu="$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { printf "%.1f", b - a }')" '
    NF { t[++k] = $1 }
    END {
      i50 = int((k + 1) / 2); i90 = int(k * 0.9); if (i50 < 1) i50 = 1; if (i90 < 1) i90 = 1
      rate = ok ? ok * size / (last - release) / 1e6 : 0
      printf "%s: nodes %d/%d done, %d failed (%d checksum), %d not reported; attempts retried %d; per node p50 %.1fs p90 %.1fs max %.1fs; aggregate %.0f MB/s over %.1fs; server cpu %ss, peak RSS %d MiB (%d MiB before the load; after: %s)\n",
        name, ok, nodes, bad, corrupt, nodes - reported, retried, t[i50], t[i90], t[k], rate, ok ? last - release : 0, cpu, hwm / 1024, rss0 / 1024, parts
    }' <<< "$times"
  local errs; errs=$(cat "$out"/*.err 2>/dev/null | sed -E 's/[0-9]+/N/g' | sort | uniq -c | sort -rn | head -3)
  [ -z "$errs" ] || echo "$name: errors of failed attempts (most frequent):"$'\n'"$errs" >&2
}

# sidus serve: HTTP + NBD on the veth address, no TFTP, DHCP off (its default).
nbd_port=10809
ip netns exec "$srv" "$SIDUS_BIN" --home "$work/home" serve --no-tftp --listen "$sip" --http-port 8080 --nbd-port "$nbd_port" \
  > "$work/serve.log" 2>&1 &
serve_pid=$!; pids+=("$serve_pid")
for _ in $(seq 150); do inc curl -sf --max-time 2 "http://$sip:8080/healthz" >/dev/null && break; sleep 0.2; done
# Warm-up: the first NBD_OPT_GO builds the export (not timed).
t0=$(date +%s.%N)
if ! inc timeout 900 nbdinfo --size "nbd://$sip:$nbd_port/$version" >/dev/null; then
  tail -20 "$work/serve.log" >&2; echo "sidus serve did not serve the export" >&2; exit 1
fi
build_s=$(awk -v a="$t0" -v z="$(date +%s.%N)" 'BEGIN { printf "%.1f", z - a }')
bytes=$(stat -c %s "$export_file")
cat "$export_file" > /dev/null
t0=$(date +%s.%N); cat "$export_file" > /dev/null; t1=$(date +%s.%N)
cache_rate=$(awk -v b="$bytes" -v a="$t0" -v z="$t1" 'BEGIN { printf "%.0f", b / (z - a) / 1e6 }')
echo "image $IMAGE version ${version:0:12}; export file $bytes bytes (built in ${build_s}s), page-cache read ${cache_rate} MB/s; nodes $NODES (sha256 checked on $SAMPLE); link ${RATE:-unshaped veth}; load $(cut -d' ' -f1-3 /proc/loadavg)"

run sidus "nbd://$sip:$nbd_port/$version" "$serve_pid"
stop "$serve_pid"

if [ -z "${SKIP_QEMU:-}" ]; then
  ip netns exec "$srv" qemu-nbd --read-only --persistent --shared=0 -f raw -x "$version" -b "$sip" -p 10810 "$export_file" \
    > "$work/qemu-nbd.log" 2>&1 &
  qemu_pid=$!; pids+=("$qemu_pid")
  if wait_nbd "nbd://$sip:10810/$version" "$qemu_pid"; then
    run qemu-nbd "nbd://$sip:10810/$version" "$qemu_pid"
  else
    cat "$work/qemu-nbd.log" >&2; echo "qemu-nbd did not start" >&2
  fi
  stop "$qemu_pid"
fi

if [ -z "${SKIP_NBDKIT:-}" ]; then
  # nbdkit's file plugin serves the file under any export name; -r read-only, default thread model (parallel).
  ip netns exec "$srv" nbdkit -f -r -i "$sip" -p 10811 file "$export_file" > "$work/nbdkit.log" 2>&1 &
  kit_pid=$!; pids+=("$kit_pid")
  if wait_nbd "nbd://$sip:10811/$version" "$kit_pid"; then
    run nbdkit "nbd://$sip:10811/$version" "$kit_pid"
  else
    cat "$work/nbdkit.log" >&2; echo "nbdkit did not start" >&2
  fi
  stop "$kit_pid"
fi
