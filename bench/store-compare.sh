#!/usr/bin/env bash
# Side-by-side store benchmark: Sidus vs casync, OSTree (archive mode) and rsync on the same two trees.
#
#   bench/store-compare.sh V1_DIR V2_DIR [WORK_DIR]
#
# V1/V2: two versions of a root tree (e.g. debootstrap bookworm minbase + systemd + kernel + openssh, and the same
# after `apt-get install python3 curl vim-tiny`; bench/make-trees.sh makes them with sidus itself).
# Prints one line per measurement and the ratios the issue asks for. Needs root, casync, ostree, rsync.
set -euo pipefail
v1=$(realpath "$1"); v2=$(realpath "$2"); work=${3:-/var/tmp/sidus-bench}
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
sidus="$here/sidus"
for tool in casync ostree rsync; do command -v $tool >/dev/null || { echo "missing $tool (apt-get install $tool)" >&2; exit 1; }; done
"$sidus" --help >/dev/null   # build once, outside the timings

rm -rf "$work"; mkdir -p "$work"
now() { date +%s.%N; }
declare -A T
measure() { local key=$1; shift; local s; sync; s=$(now); "$@" >/dev/null 2>&1; T[$key]=$(echo "$(now) - $s" | bc); printf '%-28s %8.3f s\n' "$key" "${T[$key]}"; }
size() { du -sb "$1" | cut -f1; }

# OSTree refuses device nodes: it gets the trees without the contents of /dev (everyone else gets them whole).
rsync -aHAX --exclude='/dev/*' "$v1/" "$work/v1-nodev/"; rsync -aHAX --exclude='/dev/*' "$v2/" "$work/v2-nodev/"
sync

echo "== import v1 then v2"
measure sidus.import.v1 "$sidus" --home "$work/sidus" image import bench "$v1" -q
measure sidus.import.v2 "$sidus" --home "$work/sidus" image import bench "$v2" -q
mkdir -p "$work/casync"
measure casync.make.v1 casync make --store="$work/casync/store" "$work/casync/v1.caidx" "$v1"
measure casync.make.v2 casync make --store="$work/casync/store" "$work/casync/v2.caidx" "$v2"
ostree init --mode=archive --repo="$work/ostree" >/dev/null
measure ostree.commit.v1 ostree commit --repo="$work/ostree" --branch=v1 --no-xattrs "$work/v1-nodev"
measure ostree.commit.v2 ostree commit --repo="$work/ostree" --branch=v2 --no-xattrs "$work/v2-nodev"

sidus_store=$(size "$work/sidus/store/packs"); casync_store=$(size "$work/casync/store"); ostree_store=$(size "$work/ostree/objects")
echo "== store size for both versions"
printf 'sidus %d MB, casync %d MB, ostree-archive %d MB\n' $((sidus_store/1000000)) $((casync_store/1000000)) $((ostree_store/1000000))

echo "== checkout of v2 into an empty directory"
sync
measure sidus.checkout.empty "$sidus" --home "$work/sidus" image checkout bench "$work/out-sidus" -q
measure rsync.copy.empty rsync -aHAX "$v2/" "$work/out-rsync/"
measure casync.extract.empty casync extract --store="$work/casync/store" "$work/casync/v2.caidx" "$work/out-casync"
measure ostree.checkout.empty ostree checkout --repo="$work/ostree" v2 "$work/out-ostree"

echo "== the same again over the identical directory (nothing to do; best of 3 runs each)"
best() { local key=$1; shift; local b=""; for _ in 1 2 3; do measure "$key" "$@" >/dev/null; if [[ -z $b ]] || (( $(echo "${T[$key]} < $b" | bc) )); then b=${T[$key]}; fi; done; T[$key]=$b; printf '%-28s %8.3f s\n' "$key" "$b"; }
best sidus.checkout.noop "$sidus" --home "$work/sidus" image checkout bench "$work/out-sidus" -q
best rsync.noop rsync -aHAX "$v2/" "$work/out-rsync/"

echo "== correctness: sidus checkout vs the source (rsync -naHAXc, expect nothing)"
diffs=$(rsync -naHAXc --delete -i --numeric-ids "$v2/" "$work/out-sidus/" | wc -l)
echo "differences: $diffs"

echo "== ratios (goal)"
r() { echo "scale=3; $1" | bc; }
casync_import=$(r "${T[casync.make.v1]} + ${T[casync.make.v2]}")
sidus_import=$(r "${T[sidus.import.v1]} + ${T[sidus.import.v2]}")
smaller=$(( casync_store < ostree_store ? casync_store : ostree_store ))
echo "import time sidus/casync:        $(r "$sidus_import / $casync_import")  (<= 0.5)"
echo "store size sidus/min(peers):     $(r "$sidus_store / $smaller")  (<= 0.9)"
echo "checkout sidus/rsync copy:       $(r "${T[sidus.checkout.empty]} / ${T[rsync.copy.empty]}")  (<= 1.0)"
echo "no-op sidus/rsync:               $(r "${T[sidus.checkout.noop]} / ${T[rsync.noop]}")  (<= 0.5)"
[[ "$diffs" == 0 ]]
