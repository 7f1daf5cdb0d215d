#!/usr/bin/env bash
# Installed-node updates (issue 9): `sidus-agent update --root DIR` against `sidus serve` vs an rsync daemon
# (`rsync -aHAX --delete rsync://...`), over the same veth link between two network namespaces this script creates
# and removes. Three cases, interleaved, RUNS times each:
#   install  version 1 into an empty directory
#   noop     the same again (the directory is at the version already)
#   update   version 1 -> version 2 (version 1 + python3, curl, vim-tiny, made with `sidus image exec`)
# Wall time and bytes on the wire (both directions, counted at the client's veth end) for each; then the median of
# each, the spread (min-max) and the ratios against the issue's goals.
# Each tool writes into a filesystem of its own, made fresh for every run as the issue's install is ("onto an empty
# filesystem"): ext4 on a loop device with direct I/O, so that a flush reaches the host's disk as a node's would.
# Sidus's time includes its flush (syncfs before it records the version); rsync does not flush, and the time a
# `sync` takes right after it is shown beside it.
#
#   bench/node-update.sh [RUNS] [RATE]   (default 3 runs, no rate limit; RATE shapes server -> node, e.g. 1gbit;
#                                         needs root, rsync, e2fsprogs; a bench home, see below)
#
# The bench home ($work/home, default /var/tmp/sidus-bench-update) must hold image e2e-debian @1 and @2. Made once by
# copying the shared E2E store (read-only: its packs and refs) and adding the packages:
#   mkdir -p $work/home/store && cp -a /var/tmp/sidus-e2e/home-v1/store/{FORMAT,packs,refs} $work/home/store/
#   ./sidus --home $work/home image exec e2e-debian -- sh -c "apt-get update && apt-get install -y \
#       --no-install-recommends python3 curl vim-tiny && apt-get clean && rm -rf /var/lib/apt/lists/*"
set -euo pipefail
runs=${1:-3}
rate=${2:-}
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work=${SIDUS_BENCH_WORK:-/var/tmp/sidus-bench-update}
home=$work/home
image=e2e-debian
sidus="$repo/sidus"
command -v rsync >/dev/null || { echo "missing rsync (apt-get install rsync)" >&2; exit 1; }
source "$repo/bench/lib/netns-pair.sh"
source "$repo/bench/lib/agent.sh"
source "$repo/bench/lib/measure.sh"

"$sidus" --help >/dev/null   # the AOT CLI, built once outside the timings
bench_agent "$repo" "$work/agent"

v1=$("$sidus" --home "$home" image log "$image" --json | python3 -c 'import json,sys; v=json.load(sys.stdin); print(next(x["id"] for x in v if x["version"]==1))')
v2=$("$sidus" --home "$home" image log "$image" --json | python3 -c 'import json,sys; v=json.load(sys.stdin); print(next(x["id"] for x in v if x["version"]==2))')
echo "version 1 $v1"; echo "version 2 $v2"
for n in 1 2; do
  [[ -d $work/tree-v$n ]] || "$sidus" --home "$home" image checkout "$image@$n" "$work/tree-v$n" -q
done
token_file=$work/admin.token
[[ -s $token_file ]] || "$sidus" --home "$home" token create "bench-$RANDOM" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])' > "$token_file"

netns_pair_names upd
pids=()
# A fresh ext4 for DIR (its image beside it): unmounted and remade at every call, detached by cleanup.
fresh_fs() {
  local dir=$1 dev
  drop_fs "$dir"
  truncate -s 3G "$dir.img"
  mkfs.ext4 -q -F "$dir.img"
  dev=$(losetup --direct-io=on --find --show "$dir.img")
  mkdir -p "$dir"
  mount "$dev" "$dir"
}
drop_fs() {
  local dir=$1 dev
  if mountpoint -q "$dir"; then dev=$(findmnt -n -o SOURCE "$dir"); umount "$dir"; losetup -d "$dev" 2>/dev/null || true; fi
  rm -f "$dir.img"
}
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true
  netns_pair_down; drop_fs "$work/node-sidus"; drop_fs "$work/node-rsync"
}
trap cleanup EXIT
netns_pair_up "$rate"
echo "link: ${rate:-no rate limit}"

cat > "$work/rsyncd.conf" <<CONF
uid = root
gid = root
use chroot = yes
read only = yes
[v1]
path = $work/tree-v1
[v2]
path = $work/tree-v2
CONF
ip netns exec "$srv" rsync --daemon --no-detach --config="$work/rsyncd.conf" --address="$sip" --port=873 &
pids+=($!)
ip netns exec "$srv" "$sidus" --home "$home" serve --no-tftp --listen "$sip" --http-port 8080 > "$work/serve.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do ip netns exec "$cli" curl -sf "http://$sip:8080/healthz" >/dev/null && break; sleep 0.2; done
ip netns exec "$cli" curl -sf "http://$sip:8080/healthz" >/dev/null || { cat "$work/serve.log" >&2; echo "sidus serve did not start" >&2; exit 1; }

declare -A T B F

sidus_update() { echo "$agent" update --root "$work/node-sidus" --server "http://$sip:8080" --token-file "$token_file" --to "$1" --json; }
rsync_pull() { echo rsync -aHAX --delete "rsync://$sip/$1/" "$work/node-rsync/"; }
# rsync's data is still in the page cache when it ends: how long writing it out takes (not in rsync's time).
flush_after() { local s e; s=$(date +%s.%N); sync; e=$(date +%s.%N); F[$1]="${F[$1]:-} $(echo "$e - $s" | bc)"; }

for run in $(seq "$runs"); do
  fresh_fs "$work/node-sidus"; fresh_fs "$work/node-rsync"
  # Alternate who goes first, so neither always meets the colder cache.
  if (( run % 2 )); then order="sidus rsync"; else order="rsync sidus"; fi
  for tool in $order; do
    if [[ $tool == sidus ]]; then measure "$cli" sidus.install "$run" $(sidus_update "$v1"); else measure "$cli" rsync.install "$run" $(rsync_pull v1); flush_after rsync.install; fi
  done
  for tool in $order; do
    if [[ $tool == sidus ]]; then measure "$cli" sidus.noop "$run" $(sidus_update "$v1"); else measure "$cli" rsync.noop "$run" $(rsync_pull v1); flush_after rsync.noop; fi
  done
  for tool in $order; do
    if [[ $tool == sidus ]]; then measure "$cli" sidus.update "$run" $(sidus_update "$v2"); else measure "$cli" rsync.update "$run" $(rsync_pull v2); flush_after rsync.update; fi
  done
done

echo "== correctness: the updated directories against version 2 (rsync -naHAXc, expect nothing)"
# An update leaves the node's own paths alone (UpdateExcludes.Defaults: /var/log, /var/cache, /etc/hostname...).
excludes=$(printf -- '--exclude=%s ' /home /root /tmp /var/tmp /var/log /var/cache /var/spool /var/backups /var/lib/dhcp \
  /var/lib/systemd /etc/machine-id /var/lib/dbus/machine-id '/etc/ssh/ssh_host_*' /etc/fstab /etc/hostname /etc/adjtime \
  /boot/grub /boot/efi /lost+found /proc /sys /dev /run /mnt /media /etc/sidus /var/lib/sidus)
echo "sidus: $(rsync -naHAXc --delete -i $excludes "$work/tree-v2/" "$work/node-sidus/" | wc -l) differences (default excludes left out)"
echo "rsync: $(rsync -naHAXc --delete -i "$work/tree-v2/" "$work/node-rsync/" | wc -l) differences"

echo "== medians of $runs runs (spread min-max)"
for case in install noop update; do
  for tool in sidus rsync; do
    k=$tool.$case
    printf '%-16s %8.3f s (%s)  %12.0f bytes (%s)\n' "$k" "$(median <<< "${T[$k]}")" "$(spread <<< "${T[$k]}")" "$(median <<< "${B[$k]}")" "$(spread <<< "${B[$k]}")"
  done
done
for case in install noop update; do
  printf 'rsync.%-10s a sync after it: %.3f s median (%s)\n' "$case" "$(median <<< "${F[rsync.$case]}")" "$(spread <<< "${F[rsync.$case]}")"
done
echo "== ratios sidus/rsync (goal)"
echo "install time  $(ratio "$(median <<< "${T[sidus.install]}")" "$(median <<< "${T[rsync.install]}")")  (<= 1)"
echo "install bytes $(ratio "$(median <<< "${B[sidus.install]}")" "$(median <<< "${B[rsync.install]}")")"
echo "noop time     $(ratio "$(median <<< "${T[sidus.noop]}")" "$(median <<< "${T[rsync.noop]}")")  (<= 0.5)"
echo "noop bytes    $(ratio "$(median <<< "${B[sidus.noop]}")" "$(median <<< "${B[rsync.noop]}")")"
echo "update time   $(ratio "$(median <<< "${T[sidus.update]}")" "$(median <<< "${T[rsync.update]}")")  (<= 0.5)"
echo "update bytes  $(ratio "$(median <<< "${B[sidus.update]}")" "$(median <<< "${B[rsync.update]}")")  (<= 0.8)"
