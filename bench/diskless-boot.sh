#!/usr/bin/env bash
# Power-on to "up" of a network-booted node (ram and shared mode) against the same kernel and
# the same image version booted from a local virtio disk, in the same QEMU setup (tcg, 2 vCPUs, 1536 MiB, virtio-net).
#
#   bench/diskless-boot.sh HOME IMAGE [RUNS]     (root; needs qemu-system-x86, ipxe-qemu, e2fsprogs, iproute2, jq)
#
# HOME is a sidus home holding IMAGE (a Debian image with a kernel and systemd, e.g. the one `./sidus demo` builds).
# Every mode boots RUNS times (default 3); the script prints each run and the medians, then the ratio network/local.
#
# What is measured, for every mode, from the QEMU process start (power-on):
#   multi-user  "Reached target multi-user.target" on the serial console (same signal for every mode: the ratio)
#   up          ram/shared only: the "up" stage `sidus node status` records (the booted system reports it)
#   in-ram      ram only: the agent's note that the root is in RAM and the node no longer needs the server
# The local baseline: the image version checked out (`sidus image checkout`) into an ext4 file system
# (mkfs.ext4 -d) on a virtio-blk disk; QEMU starts the image's own kernel (the file the Sidus initramfs is made for,
# `sidus image initramfs -k`) directly (-kernel, no firmware network boot) with the image's own initramfs
# (/boot/initrd.img-*, initramfs-tools) and root=/dev/vda. The network modes start from SeaBIOS + the iPXE ROM, so
# their time includes DHCP, the script and the kernel + initramfs downloads, which the baseline does not pay.
set -euo pipefail

home=${1:?usage: $0 HOME IMAGE [RUNS]}
image=${2:?usage: $0 HOME IMAGE [RUNS]}
runs=${3:-3}
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
sidus=${SIDUS:-$here/sidus}
modes=${MODES:-local ram shared}
limit=${LIMIT:-600}
for tool in qemu-system-x86_64 mkfs.ext4 ip jq; do
  command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install qemu-system-x86 e2fsprogs iproute2 jq" >&2; exit 1; }
done
[[ -f /usr/lib/ipxe/qemu/efi-virtio.rom ]] || { echo "missing the iPXE ROM: apt-get install ipxe-qemu" >&2; exit 1; }

work=$(mktemp -d /var/tmp/sidus-bench-boot.XXXXXX)
suffix=$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')
ns=sidus-bb-$suffix
tap=bbtap$suffix
mac=52:54:00:$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n' | sed 's/../&:/g;s/:$//')
serve_pid=
vm_pid=
cleanup() {
  [[ -n $vm_pid ]] && kill "$vm_pid" 2>/dev/null || true
  [[ -n $serve_pid ]] && kill "$serve_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  ip netns delete "$ns" 2>/dev/null || true
  [[ -n ${KEEP:-} ]] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

qemu_common=(-accel tcg -m 1536 -smp 2 -nographic -display none -monitor none -no-reboot -device virtio-rng-pci)
export SIDUS_DB=$work/inventory.db

echo "== boot files of $image"
"$sidus" --home "$home" image initramfs "$image" -o "$work/sidus-initrd" -k "$work/vmlinuz" >/dev/null
"$sidus" --home "$home" image checkout "$image" "$work/root" >/dev/null
own_initrd=$(ls "$work"/root/boot/initrd.img-* | sort -V | tail -1)
cp "$own_initrd" "$work/own-initrd"
size_mb=$(( $(du -sm "$work/root" | cut -f1) * 13 / 10 + 256 ))
mkfs.ext4 -q -F -L root -d "$work/root" "$work/disk.img" "${size_mb}M"
rm -rf "$work/root"
echo "kernel $(file -b "$work/vmlinuz" | grep -o 'version [^ ]*'), image's initramfs $(basename "$own_initrd"), disk ${size_mb} MiB ext4"

# Seconds since START until PATTERN shows in FILE (or "-" after the limit).
wait_serial() {
  local file=$1 pattern=$2 start=$3
  local end=$(( $(date +%s) + limit ))
  while (( $(date +%s) < end )); do
    if grep -aq "$pattern" "$file" 2>/dev/null; then
      echo "$(date +%s.%N) - $start" | bc
      return
    fi
    sleep 0.2
  done
  echo "-"
}

# Seconds since START until the node's events hold a detail starting with PREFIX (server side), or "-".
wait_note() {
  local start=$1 prefix=$2
  local end=$(( $(date +%s) + limit ))
  while (( $(date +%s) < end )); do
    if "$sidus" --home "$home" node status bench1 --json 2>/dev/null | jq -e --arg p "$prefix" '[.[0].stages[].detail // "" | startswith($p)] | any' >/dev/null; then
      echo "$(date +%s.%N) - $start" | bc
      return
    fi
    sleep 0.5
  done
  echo "-"
}

# Seconds since START until the node's status says up (server side), or "-".
wait_up() {
  local start=$1
  local end=$(( $(date +%s) + limit ))
  while (( $(date +%s) < end )); do
    if [[ $("$sidus" --home "$home" node status bench1 --json 2>/dev/null | jq -r '.[0].stage') == up ]]; then
      echo "$(date +%s.%N) - $start" | bc
      return
    fi
    sleep 0.5
  done
  echo "-"
}

start_network() {
  ip netns add "$ns"
  ip netns exec "$ns" ip link set lo up
  ip netns exec "$ns" ip link add br0 type bridge
  ip netns exec "$ns" ip addr add 10.214.0.1/24 dev br0
  ip netns exec "$ns" ip link set br0 up
  ip netns exec "$ns" ip tuntap add dev "$tap" mode tap
  ip netns exec "$ns" ip link set "$tap" master br0
  ip netns exec "$ns" ip link set "$tap" up
  "$sidus" --home "$home" node add bench1 --mac "$mac" --image "$image" --mode ram --kernel-args "console=ttyS0 panic=-1" >/dev/null
  ip netns exec "$ns" env SIDUS_DB="$SIDUS_DB" "$sidus" --home "$home" serve --interface br0 --dhcp full \
    --pool 10.214.0.100-10.214.0.150 >"$work/serve.log" 2>&1 &
  serve_pid=$!
  for _ in $(seq 1 120); do grep -q "HTTP listening on" "$work/serve.log" && return; sleep 0.5; done
  echo "sidus serve did not start:" >&2; cat "$work/serve.log" >&2; exit 1
}

declare -A multi up inram
# Runs interleave the modes (local, ram, local, ram, ...) so a change of load on the machine hits them alike.
for mode in $modes; do [[ $mode != local && -z $serve_pid ]] && start_network; done
for run in $(seq 1 "$runs"); do
  for mode in $modes; do
    [[ $mode != local ]] && "$sidus" --home "$home" node set bench1 --mode "$mode" >/dev/null
    serial=$work/serial-$mode-$run.log
    start=$(date +%s.%N)
    if [[ $mode == local ]]; then
      qemu-system-x86_64 "${qemu_common[@]}" -kernel "$work/vmlinuz" -initrd "$work/own-initrd" \
        -append "root=/dev/vda rw console=ttyS0 panic=-1" -drive "file=$work/disk.img,if=virtio,format=raw" \
        -netdev "user,id=n0,restrict=on" -device "virtio-net-pci,netdev=n0,mac=$mac" -serial "file:$serial" >/dev/null 2>&1 &
    else
      ip netns exec "$ns" qemu-system-x86_64 "${qemu_common[@]}" -boot n \
        -netdev "tap,id=n0,ifname=$tap,script=no,downscript=no" \
        -device "virtio-net-pci,netdev=n0,mac=$mac" -serial "file:$serial" >/dev/null 2>&1 &
    fi
    vm_pid=$!
    m=$(wait_serial "$serial" "Reached target.*Multi-User System" "$start")
    u=-
    [[ $mode != local ]] && u=$(wait_up "$start")
    r=-
    [[ $mode == ram ]] && r=$(wait_note "$start" "ram: the root is in RAM")
    kill "$vm_pid" 2>/dev/null || true; wait "$vm_pid" 2>/dev/null || true; vm_pid=
    multi[$mode]+="$m "; up[$mode]+="$u "; inram[$mode]+="$r "
    printf '%-6s run %d: multi-user %6s s   up %6s s   in-ram %6s s\n' "$mode" "$run" "$m" "$u" "$r"
  done
done

median() { tr ' ' '\n' | { grep -v '^-\?$' || true; } | sort -g | awk '{a[NR]=$1} END {if (NR==0) print "-"; else if (NR%2) print a[(NR+1)/2]; else printf "%.2f\n", (a[NR/2]+a[NR/2+1])/2}'; }
echo "== medians of $runs runs (seconds from power-on)"
for mode in $modes; do
  mm=$(echo "${multi[$mode]}" | median); mu=$(echo "${up[$mode]}" | median); mr=$(echo "${inram[$mode]}" | median)
  line=$(printf '%-6s multi-user %6s   up %6s   in-ram %6s' "$mode" "$mm" "$mu" "$mr")
  if [[ $mode != local && ${multi[local]+x} ]]; then
    ml=$(echo "${multi[local]}" | median)
    [[ $mm != - && $ml != - ]] && line+=$(printf '   multi-user ratio to local %.2fx' "$(echo "$mm / $ml" | bc -l)")
  fi
  echo "$line"
done
