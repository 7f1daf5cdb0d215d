#!/usr/bin/env bash
# NODES shared-mode nodes ask `sidus serve` for their iPXE boot script at the same moment while the boot files of
# their image version are not built yet: the Sidus initramfs, and (shared mode) the erofs export with its dm-verity
# tree. Today the server builds them on the request threads (BootScripts.Answer waits for AgentInitramfs.Get and
# ErofsExports.GetOrBuild), so every waiting request holds a thread; a server that answers at once ("200, an iPXE
# script that sleeps and asks again, Retry-After: N") holds none. This bench measures either behaviour.
#
#   bench/boot-script-burst.sh HOME IMAGE [NODES] [RUNS]   (root; needs curl, iproute2, flock)
#   NODES default 50, RUNS default 3; env: LOAD_TIMEOUT=900 (seconds per run), MAX_REQUESTS=200 (per node and run),
#   SIDUS_BIN=path (default: the NativeAOT build ./sidus makes), KEEP=DIR (keeps each run's serve log, thread samples
#   and node results in DIR/run-N)
#
# HOME is a sidus home holding IMAGE, a Debian image with a kernel (e.g. the one `./sidus demo` builds). Its store is
# copied into a private work home (HOME is only read) where each run first makes a new version of IMAGE
# (`sidus image exec IMAGE -- touch /etc/sidus-burst-...`), so nothing of that version is cached anywhere.
# NODES nodes (burst001...) are in a group `burst` pinned to that version (IMAGE@ID) in mode local. A fresh
# `sidus serve --no-tftp --listen IP --http-port 8080 --nbd-port 10809` (DHCP off) runs in one network namespace, the
# nodes (bench/lib/script-burst-nodes.sh: one bash loop + curl per node) in a second one joined by a veth pair
# (bench/lib/netns-pair.sh), both made here and removed at the end (also on ^C).
#
# Keeping the boot-cache warmer out of the way: BootFilesWarmer builds the boot files of every version a ram or
# shared node boots, once when serve starts and then every 30 s. While the group is in mode local no node boots the
# agent, so the warmer's pass at start finds nothing to build. Once the nodes are waiting at their gate, the bench
# sets the group to mode shared, waits for the server's "Inventory reloaded" line (it polls every 1 s), checks that
# the log does not name the version yet, and releases every node at once: all within a few seconds of serve's start,
# long before the warmer's next pass (printed as "warmer due in"). When that pass comes during the burst it joins the
# build in progress (one build per version: the initramfs lock and the export's gate), it does not start another.
#
# Measured per run, from the release of the nodes:
#   last final   seconds until the last node got its final script (one with a `kernel` line booting the version)
#   first final  the same for the first node
#   threads      /proc/PID/status Threads of the server, sampled every 100 ms: baseline (last sample before the
#                release) and the maximum from the release to the last final script
#   requests     per node: min / median / max (1 each when the server answers only once the files are built)
# A node that follows a Retry-After sleeps that many seconds and asks again at the URL of the answer's `chain` line
# (else the same URL); an answer without `kernel` and without Retry-After is a failure (printed). With Retry-After the
# times include the sleeps: a node learns that its files are ready at its next ask. Medians at the end.
# What it relies on from the server: GET /boot/MAC-WITH-DASHES.ipxe (the first ask without a query, as DHCP hands it
# out), a final script with a line starting `kernel ` that holds sidus.image=VERSION-ID, Retry-After in whole seconds,
# GET /healthz, and the log line "Inventory reloaded" (the sign that the switch to shared mode is visible).
set -euo pipefail
home=${1:?usage: $0 HOME IMAGE [NODES] [RUNS]}
image=${2:?usage: $0 HOME IMAGE [NODES] [RUNS]}
NODES=${3:-50}
runs=${4:-3}
LOAD_TIMEOUT=${LOAD_TIMEOUT:-900}
MAX_REQUESTS=${MAX_REQUESTS:-200}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib/mass-boot-common.sh
. "$here/lib/mass-boot-common.sh"
mass_boot_need "apt-get install curl iproute2 util-linux" curl ip flock
[ -f "$home/store/refs/images/$image" ] || { echo "no image $image in $home" >&2; exit 1; }
if [ -z "${SIDUS_BIN:-}" ]; then
  "$repo/sidus" --help >/dev/null 2>&1 || true
  SIDUS_BIN=$repo/.sidus-build/aot/sidus
fi
mass_boot_begin bsb sidus-burst-bench
sidus() { timeout 600 "$SIDUS_BIN" --home "$work/home" "$@"; }

echo "== private copy of $home/store"
mkdir -p "$work/home"
cp -a "$home/store" "$work/home/store"
rm -f "$work/home/store/lock"

width=$(( ${#NODES} > 3 ? ${#NODES} : 3 ))
for i in $(seq 1 "$NODES"); do printf '52:54:00:b5:%02x:%02x\n' $((i >> 8)) $((i & 255)); done > "$work/macs.txt"
sidus group add burst --image "$image" --mode local >/dev/null
sidus node add --range "burst[$(printf "%0${width}d" 1)-$(printf "%0${width}d" "$NODES")]" --mac-from "$work/macs.txt" --group burst >/dev/null
netns_pair_up
echo "nodes $NODES, server $sip (namespace $srv), clients $cip (namespace $cli), cores $(nproc), load $(cut -d' ' -f1-3 /proc/loadavg)"

port=8080
threads_of() { awk '/^Threads:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2]; else printf "%.2f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
lasts=() bases=() maxes=()

for run in $(seq 1 "$runs"); do
  out=$work/run-$run
  mkdir -p "$out"
  sidus group set burst --mode local >/dev/null
  t0=$(date +%s.%N)
  sidus image exec "$image" -m "boot-script burst bench, run $run" -- touch "/etc/sidus-burst-$run-$RANDOM" \
    > "$out/exec.log" 2>&1 || { cat "$out/exec.log" >&2; exit 1; }
  version=$(tail -1 "$work/home/store/refs/images/$image")
  short=${version:0:12}
  exec_s=$(awk -v a="$t0" -v z="$(date +%s.%N)" 'BEGIN { printf "%.1f", z - a }')
  sidus group set burst --image "$image@$short" >/dev/null

  log=$out/serve.log
  ip netns exec "$srv" "$SIDUS_BIN" --home "$work/home" serve --no-tftp --listen "$sip" --http-port "$port" --nbd-port 10809 > "$log" 2>&1 &
  serve_pid=$!; pids+=("$serve_pid")
  serve_start=$(date +%s.%N)
  for _ in $(seq 150); do inc curl -sf --max-time 2 "http://$sip:$port/healthz" >/dev/null && break; sleep 0.2; done
  inc curl -sf --max-time 2 "http://$sip:$port/healthz" >/dev/null || { cat "$log" >&2; echo "sidus serve did not start" >&2; exit 1; }
  [ "$(readlink "/proc/$serve_pid/exe")" = "$(readlink -f "$SIDUS_BIN")" ] || { echo "pid $serve_pid is not the server" >&2; exit 1; }
  ( while kill -0 "$serve_pid" 2>/dev/null; do echo "$EPOCHREALTIME $(threads_of "$serve_pid")"; sleep 0.1; done ) > "$out/threads" &
  sampler=$!; pids+=("$sampler")

  deadline=$(( $(date +%s) + LOAD_TIMEOUT ))
  inc "$here/lib/script-burst-nodes.sh" "$work/macs.txt" "http://$sip:$port" "$version" "$out" "$deadline" "$MAX_REQUESTS" &
  clients=$!; pids+=("$clients")
  for _ in $(seq 600); do [ -e "$out/armed" ] && break; sleep 0.1; done
  [ -e "$out/armed" ] || { echo "the nodes did not reach their gate" >&2; exit 1; }
  reloads=$(grep -c 'Inventory reloaded' "$log" || true)
  sidus group set burst --mode shared >/dev/null
  for _ in $(seq 200); do [ "$(grep -c 'Inventory reloaded' "$log" || true)" -gt "$reloads" ] && break; sleep 0.05; done
  [ "$(grep -c 'Inventory reloaded' "$log" || true)" -gt "$reloads" ] || { echo "sidus serve did not reload the inventory" >&2; exit 1; }
  if grep -q "$short" "$log"; then warm=yes; else warm=no; fi
  : > "$out/go"
  wait "$clients" || true
  stop "$sampler"

  release=$(cat "$out/release")
  touch "$out/results"
  read -r ok first last <<< "$(awk -v r="$release" '
    $2 == "ok" { ok++; t = $5 - r; if (!ok1++ || t < first) first = t; if (t > last) last = t }
    END { printf "%d %.2f %.2f", ok, first, last }' "$out/results")"
  read -r rmin rmed rmax <<< "$(awk '{ print $3 }' "$out/results" | sort -n | awk '{ a[NR] = $1 } END { print a[1] + 0, a[int((NR + 1) / 2)] + 0, a[NR] + 0 }')"
  end=$(awk -v r="$release" -v l="$last" 'BEGIN { printf "%.6f", r + l }')
  base=$(awk -v r="$release" '$1 < r && NF == 2 { v = $2 } END { print v + 0 }' "$out/threads")
  max=$(awk -v r="$release" -v e="$end" '$1 >= r && $1 <= e + 0.2 && NF == 2 && $2 > m { m = $2 } END { print m + 0 }' "$out/threads")
  since_start=$(awk -v a="$serve_start" -v r="$release" 'BEGIN { printf "%.1f", r - a }')
  built=$(grep -o "Erofs export of $short built in [0-9.]* s" "$log" | grep -o '[0-9.]* s' || echo "-")
  printf 'run %d: version %s (image exec %ss); nodes %d/%d final; last final %.2f s, first %.2f s; threads baseline %d, max %d; requests per node %d/%d/%d (min/median/max); export built in %s; released %ss after serve started (warmer due in %.0f s), version in the log before the release: %s\n' \
    "$run" "$short" "$exec_s" "$ok" "$NODES" "$last" "$first" "$base" "$max" "$rmin" "$rmed" "$rmax" "$built" "$since_start" \
    "$(awk -v s="$since_start" 'BEGIN { print 30 - s }')" "$warm"
  if [ "$ok" -lt "$NODES" ]; then
    awk '$2 != "ok" { print "  node " $1 ": " $2 " after " $3 " request(s)" }' "$out/results" | head -5 >&2
    cat "$out"/*.err 2>/dev/null | head -20 >&2 || true
  fi
  stop "$serve_pid"
  [ -z "${KEEP:-}" ] || { mkdir -p "$KEEP"; cp -r "$out" "$KEEP/"; }
  lasts+=("$last") bases+=("$base") maxes+=("$max")
done

echo "== medians of $runs runs: last final $(printf '%s\n' "${lasts[@]}" | median) s; threads baseline $(printf '%s\n' "${bases[@]}" | median), max $(printf '%s\n' "${maxes[@]}" | median)"
