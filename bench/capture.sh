#!/usr/bin/env bash
# Capture of a golden client (issue 10): `sidus image capture NAME ssh://root@CLIENT` vs
# `rsync -aHAX --numeric-ids --delete -e ssh root@CLIENT:/ DIR` pulling the same tree, over the same veth link between
# two network namespaces this script creates and removes. The golden client is a real OpenSSH sshd in the "client"
# namespace, chrooted into a copy of a Debian tree; sidus and rsync run in the "server" namespace. Three
# cases, interleaved (the order of the two tools alternating), RUNS times each:
#   first      the client at version 1; sidus into an empty store (no state cache on the client), rsync into an
#              empty directory
#   recapture  the client changed to version 2 (v1 + python3, curl, vim-tiny); sidus's store holds v1 and the
#              walker's state cache matches v1, rsync's directory holds v1
#   unchanged  the same again (no goal in the issue: shows the fixed cost of each, ssh's login included)
# Wall time and bytes on the wire (both directions, at the client's veth end) for each; then the median of each, the
# spread (min-max) and the ratios against the issue's goals. Sidus's time includes its flush (the store syncs before it
# records the version); rsync does not flush, and the time a `sync` takes right after it is shown beside it. Both
# leave out the same paths: capture's defaults (src/Sidus.Store/Capture/CaptureExcludes.cs, read from the source so
# the lists never drift apart).
#
#   bench/capture.sh [RUNS] [RATE]   (default 3 runs, no rate limit; needs root, rsync, openssh-server/-client, bc)
# RATE (e.g. 1gbit) shapes the client -> server direction, which carries the tree, with tbf (a real link's limit).
# Its queue is kept short (5 ms): a 100 ms queue makes the round trip 100 ms, and ssh's 2 MB channel window then
# caps both tools near 20 MB/s whatever the rate (seen: rsync 17 s for 342 MB at "1gbit").
#
# The trees are the two versions of bench/node-update.sh (see its header for how they are made), copied once into
# the work dir ($SIDUS_BENCH_WORK, default /var/tmp/sidus-bench-capture) from $SIDUS_BENCH_TREES (default
# /var/tmp/sidus-bench-update). The client's root is a third copy, $work/client, set to v1 or v2 with rsync.
set -euo pipefail
runs=${1:-3}
rate=${2:-}
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work=${SIDUS_BENCH_WORK:-/var/tmp/sidus-bench-capture}
trees=${SIDUS_BENCH_TREES:-/var/tmp/sidus-bench-update}
sidus="$repo/sidus"
image=golden
for tool in rsync ssh ssh-keygen /usr/sbin/sshd bc; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install rsync openssh-client openssh-server bc)" >&2; exit 1; }
done
source "$repo/bench/lib/netns-pair.sh"
source "$repo/bench/lib/measure.sh"

"$sidus" --help >/dev/null   # the AOT CLI and its walker, built once outside the timings
# Timed runs call the binary itself: ./sidus's check of the sources for changes (a find over src/, ~0.1 s) is the
# development wrapper's cost, not the capture's.
sidus_aot="$repo/.sidus-build/aot/sidus"
mkdir -p "$work"
for n in 1 2; do
  [[ -d $work/tree-v$n ]] || cp -a "$trees/tree-v$n" "$work/tree-v$n"
done

# The excludes of every capture, as rsync filters anchored at the client's root ("/dir/*" keeps the directory).
mapfile -t excludes < <(grep -oP '^\s*\("\K/[^"]+' "$repo/src/Sidus.Store/Capture/CaptureExcludes.cs")
(( ${#excludes[@]} > 10 )) || { echo "could not read the capture's default excludes" >&2; exit 1; }
rsync_excludes=()
for path in "${excludes[@]}"; do rsync_excludes+=("--exclude=$path"); done

# The client's root at version N; its state cache (/var/lib/sidus, excluded) is kept unless asked to go.
client_at() {
  rsync -aHAX --numeric-ids --delete --exclude=/var/lib/sidus "$work/tree-v$1/" "$work/client/"
}

netns_pair_names cap
sshd_pid=""
cleanup() {
  # sshd's mount namespace (tmpfs, bind mount, /proc) goes with its last process.
  [[ -z $sshd_pid ]] || { kill "$sshd_pid" 2>/dev/null || true; wait "$sshd_pid" 2>/dev/null || true; }
  netns_pair_down
  rm -rf "$work/ssh"
}
trap cleanup EXIT
netns_pair_up
[[ -z $rate ]] || ip netns exec "$cli" tc qdisc add dev "$vcli" root tbf rate "$rate" burst 1mb latency 5ms

# A real sshd serving $work/client as the golden client. ChrootDirectory needs root-owned path components that no
# group or other may write, so it runs in a mount namespace of its own with the tree bind-mounted under a fresh
# tmpfs on /mnt; /proc (the walker reads xattrs through it), /dev/shm (where the walker puts itself) and /run (where
# rsync's program and libraries are put, for the client tree has no rsync) are mounted inside the tree there only.
rm -rf "$work/ssh"; mkdir -p "$work/ssh" /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$work/ssh/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$work/ssh/client_key"
cp "$work/ssh/client_key.pub" "$work/ssh/authorized_keys"
echo "$cip $(cut -d' ' -f1,2 "$work/ssh/host_key.pub")" > "$work/ssh/known_hosts"
cat > "$work/ssh/sshd_config" <<CONF
Port 22
ListenAddress $cip
HostKey $work/ssh/host_key
PermitRootLogin prohibit-password
AuthorizedKeysFile $work/ssh/authorized_keys
StrictModes no
UsePAM no
PidFile none
ChrootDirectory /mnt/root
CONF
mkdir -p "$work/rsync-bin"
cp /usr/bin/rsync "$work/rsync-bin/"
ldd /usr/bin/rsync | grep -oP '=> \K/\S+' | xargs -I{} cp -L {} "$work/rsync-bin/"
rsync_path="env LD_LIBRARY_PATH=/run/rsync-bench /run/rsync-bench/rsync"

client_at 1
rm -rf "$work/client/var/lib/sidus"
ip netns exec "$cli" unshare -m --propagation private sh -c "
  set -e
  mount -t tmpfs -o mode=0755 none /mnt
  mkdir /mnt/root
  mount --bind '$work/client' /mnt/root
  mount -t proc proc /mnt/root/proc
  mount -t tmpfs -o mode=1777 shm /mnt/root/dev/shm
  mount -t tmpfs -o mode=0755 run /mnt/root/run
  mkdir /mnt/root/run/rsync-bench
  cp '$work/rsync-bin/'* /mnt/root/run/rsync-bench/
  exec /usr/sbin/sshd -D -e -f '$work/ssh/sshd_config'" > "$work/sshd.log" 2>&1 &
sshd_pid=$!
ssh_options=(-i "$work/ssh/client_key" -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes
             -o "UserKnownHostsFile=$work/ssh/known_hosts")
for _ in $(seq 50); do ip netns exec "$srv" ssh "${ssh_options[@]}" "root@$cip" true 2>/dev/null && break; sleep 0.2; done
ip netns exec "$srv" ssh "${ssh_options[@]}" "root@$cip" true || { cat "$work/sshd.log" >&2; echo "sshd did not start" >&2; exit 1; }

declare -A T B F

capture() {
  measure "$srv" "sidus.$1" "$2" "$sidus_aot" --home "$work/home" image capture "$image" "ssh://root@$cip" \
    -i "$work/ssh/client_key" -o "UserKnownHostsFile=$work/ssh/known_hosts" --json
}
pull() {
  measure "$srv" "rsync.$1" "$2" rsync -aHAX --numeric-ids --delete -e "ssh ${ssh_options[*]}" --rsync-path="$rsync_path" \
    "${rsync_excludes[@]}" "root@$cip:/" "$work/pulled/"
}
# A capture returns once its version is on disk (the store flushes before it records); rsync's copy is still in the
# page cache when it ends: how long writing it out takes, right after it (not in rsync's time).
flush_after() { local s e; s=$(date +%s.%N); sync; e=$(date +%s.%N); F[$1]="${F[$1]:-} $(echo "$e - $s" | bc)"; }

for run in $(seq "$runs"); do
  client_at 1
  rm -rf "$work/client/var/lib/sidus" "$work/home" "$work/pulled"; mkdir -p "$work/pulled"
  # Alternate who goes first, so neither always meets the colder cache.
  if (( run % 2 )); then order="sidus rsync"; else order="rsync sidus"; fi
  for tool in $order; do
    if [[ $tool == sidus ]]; then capture first "$run"; else pull first "$run"; flush_after rsync.first; fi
  done
  client_at 2
  for tool in $order; do
    if [[ $tool == sidus ]]; then capture recapture "$run"; else pull recapture "$run"; flush_after rsync.recapture; fi
  done
  for tool in $order; do
    if [[ $tool == sidus ]]; then capture unchanged "$run"; else pull unchanged "$run"; flush_after rsync.unchanged; fi
  done
done

# The last run's figures from sidus itself; "other" = what else crossed the link: the walker's upload (gzipped,
# about 1.1 MB), the request and wanted list, ssh's and TCP's overhead.
python3 - "$work" "${B[sidus.first]##* }" "${B[sidus.recapture]##* }" <<'PY'
import json, sys
work, wire = sys.argv[1], {"first": int(sys.argv[2]), "recapture": int(sys.argv[3])}
for case in ("first", "recapture"):
    c = json.load(open(f"{work}/sidus.{case}.out"))
    print(f"sidus.{case:10} {c['entries']} entries, {c['files']} files, {c['bytes']} bytes; {c['contents_sent']} "
          f"contents sent ({c['content_bytes']} bytes) in {c['wire_bytes']} bytes; other {wire[case] - c['wire_bytes']} bytes")
PY

echo "== correctness: the last capture's checkout against rsync's copy (rsync -naHAXc, expect nothing)"
rm -rf "$work/checkout"
"$sidus" --home "$work/home" image checkout "$image" "$work/checkout" -q > "$work/checkout.log" 2>&1 || { cat "$work/checkout.log" >&2; exit 1; }
echo "differences: $(rsync -naHAXc --numeric-ids --delete -i "$work/checkout/" "$work/pulled/" | wc -l)"

echo "== medians of $runs runs (spread min-max)"
for case in first recapture unchanged; do
  for tool in sidus rsync; do
    k=$tool.$case
    printf '%-16s %8.3f s (%s)  %12.0f bytes (%s)\n' "$k" "$(median <<< "${T[$k]}")" "$(spread %.3f <<< "${T[$k]}")" "$(median <<< "${B[$k]}")" "$(spread %.0f <<< "${B[$k]}")"
  done
done
# paired CASE: sidus's time over rsync's of each run (the two measured back to back), the load's drift cancelled.
paired() { paste <(tr ' ' '\n' <<< "${T[sidus.$1]}" | grep -v '^$') <(tr ' ' '\n' <<< "${T[rsync.$1]}" | grep -v '^$') | awk '{ printf "%.3f ", $1 / $2 }'; }
per_run() { printf 'per run %.3f (%s)' "$(median <<< "$(paired "$1")")" "$(spread %.3f <<< "$(paired "$1")")"; }
for case in first recapture unchanged; do
  printf 'rsync.%-10s a sync after it: %.3f s median (%s)\n' "$case" "$(median <<< "${F[rsync.$case]}")" "$(spread %.3f <<< "${F[rsync.$case]}")"
done
echo "== ratios sidus/rsync (goal): of the medians; the median (min-max) of each run's own ratio"
echo "first time       $(ratio "$(median <<< "${T[sidus.first]}")" "$(median <<< "${T[rsync.first]}")")  $(per_run first)  (<= 1)"
echo "first bytes      $(ratio "$(median <<< "${B[sidus.first]}")" "$(median <<< "${B[rsync.first]}")")"
echo "recapture time   $(ratio "$(median <<< "${T[sidus.recapture]}")" "$(median <<< "${T[rsync.recapture]}")")  $(per_run recapture)  (<= 0.5)"
echo "recapture bytes  $(ratio "$(median <<< "${B[sidus.recapture]}")" "$(median <<< "${B[rsync.recapture]}")")  (<= 1)"
echo "unchanged time   $(ratio "$(median <<< "${T[sidus.unchanged]}")" "$(median <<< "${T[rsync.unchanged]}")")  $(per_run unchanged)  (no goal: the fixed cost)"
# rsync's time with the sync after it: a copy as durable as sidus's version when each command returns.
durable() { paste <(tr ' ' '\n' <<< "${T[rsync.$1]}" | grep -v '^$') <(tr ' ' '\n' <<< "${F[rsync.$1]}" | grep -v '^$') | awk '{ printf "%.3f ", $1 + $2 }'; }
echo "== ratios sidus/(rsync + its sync): both on disk when they end (no goal; shown for what each promises)"
for case in first recapture; do
  printf '%-16s %s\n' "$case time" "$(ratio "$(median <<< "${T[sidus.$case]}")" "$(median <<< "$(durable "$case")")")"
done
