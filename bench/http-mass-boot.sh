#!/usr/bin/env bash
# 500 simulated nodes booting at once over HTTP on loopback: each fetches its iPXE script from `sidus serve`, then
# the kernel and initramfs the script names. The same load, on the same files at the same paths, then runs against
# nginx (static files) for comparison. Prints total time, aggregate MB/s (10^6 bytes/s), failures (must be 0) and
# the peak RSS of each server (VmHWM from /proc/PID/status, sampled while the load runs).
# Usage: bench/http-mass-boot.sh [CLIENTS]   (needs: dotnet, nginx, curl; root or any user)
set -euo pipefail
CLIENTS=${1:-500}
SAMPLE=20          # clients that also check SHA-256 of what they received
LOAD_TIMEOUT=600   # seconds for one whole load run
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib/nginx-static.sh
. "$here/lib/nginx-static.sh"
repo=$(cd "$here/.." && pwd)
work=$(mktemp -d /tmp/sidus-http-bench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

for tool in nginx curl dotnet ss; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || { echo "missing $tool (apt-get install nginx curl)" >&2; exit 1; }
done
nginx=$(command -v nginx || echo /usr/sbin/nginx)

dotnet build -c Release -v quiet -nologo "$here/Sidus.Bench.HttpLoad" -o "$work/load" >/dev/null
sidus() { timeout 300 "$repo/sidus" --home "$work/home" "$@"; }

# A small image holding a kernel and initramfs: the host's own if readable, else random files of typical size.
mkdir -p "$work/root/boot"
kernel=$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -1 || true)
if [ -n "$kernel" ] && [ -r "$kernel" ] && [ -r "/boot/initrd.img-${kernel#/boot/vmlinuz-}" ]; then
  kver=${kernel#/boot/vmlinuz-}
  cp "$kernel" "$work/root/boot/vmlinuz-$kver"; cp "/boot/initrd.img-$kver" "$work/root/boot/initrd.img-$kver"
else
  kver=6.1.0-bench-amd64
  head -c $((10 << 20)) /dev/urandom > "$work/root/boot/vmlinuz-$kver"
  head -c $((40 << 20)) /dev/urandom > "$work/root/boot/initrd.img-$kver"
fi
ln -s "boot/vmlinuz-$kver" "$work/root/vmlinuz"
ln -s "boot/initrd.img-$kver" "$work/root/initrd.img"
sidus image import bench "$work/root" -m "http bench" --quiet >/dev/null

for i in $(seq 1 "$CLIENTS"); do printf '52:54:00:be:%02x:%02x\n' $((i >> 8)) $((i & 255)); done > "$work/macs.txt"
# Install mode: the script names the image's own kernel and initrd, streamed from the store (what this bench
# measures). Ram and shared nodes would boot the Sidus initramfs, which this kernel-only image cannot make.
sidus node add --range "node[001-$(printf '%03d' "$CLIENTS")]" --mac-from "$work/macs.txt" --image bench --mode install >/dev/null

free_port() { while :; do p=$((20000 + RANDOM % 30000)); ! ss -Hltn "sport = :$p" | grep -q . && { echo "$p"; return; }; done; }
sidus_port=$(free_port)
# No interface is configured, so no DHCP runs (`--dhcp off` without `--interface` is refused by the CLI today).
"$repo/sidus" --home "$work/home" serve --no-tftp --listen 127.0.0.1 --http-port "$sidus_port" > "$work/serve.log" 2>&1 &
serve_pid=$!; pids+=("$serve_pid")
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$sidus_port/healthz" >/dev/null && break; sleep 0.2; done
curl -sf "http://127.0.0.1:$sidus_port/healthz" >/dev/null || { cat "$work/serve.log" >&2; echo "sidus serve did not start" >&2; exit 1; }

# The same URLs as static files for nginx: every script as Sidus rendered it, kernel and initrd at /images/ID/.
mkdir -p "$work/www/boot"
while read -r mac; do
  f="${mac//:/-}.ipxe"
  curl -sf --max-time 10 -o "$work/www/boot/$f" "http://127.0.0.1:$sidus_port/boot/$f"
done < "$work/macs.txt"
kpath=$(awk '$1 == "kernel" { print $2; exit }' "$work/www/boot/$(head -1 "$work/macs.txt" | tr : -).ipxe")
ipath=$(awk '$1 == "initrd" && $2 == "--name" { print $4; exit }' "$work/www/boot/$(head -1 "$work/macs.txt" | tr : -).ipxe")
kpath=/${kpath#http*://*/}; ipath=/${ipath#http*://*/}
mkdir -p "$work/www$(dirname "$kpath")" "$work/www$(dirname "$ipath")"
cp "$work/root/boot/vmlinuz-$kver" "$work/www$kpath"; cp "$work/root/boot/initrd.img-$kver" "$work/www$ipath"
chmod -R a+rX "$work/www"; chmod 755 "$work"
nginx_port=$(free_port)
nginx_static_conf "$work/nginx" "127.0.0.1:$nginx_port" "$work/www"
"$nginx" -p "$work/nginx" -c "$work/nginx/nginx.conf" &
nginx_pid=$!; pids+=("$nginx_pid")
for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$nginx_port$kpath" && break; sleep 0.2; done

# run NAME PORT PID -> prints the load client's line and the server's peak RSS.
run() {
  local name=$1 port=$2 pid=$3 peak=0 line rc=0
  ( while kill -0 "$pid" 2>/dev/null; do awk '/VmRSS|RssAnon/ { v[$1] = $2 } END { print v["VmRSS:"], v["RssAnon:"] }' "/proc/$pid/status" 2>/dev/null; sleep 0.2; done ) > "$work/rss-$name" &
  local sampler=$!
  line=$(timeout "$LOAD_TIMEOUT" "$work/load/Sidus.Bench.HttpLoad" --base "http://127.0.0.1:$port" --macs "$work/macs.txt" \
         --kernel "$work/root/boot/vmlinuz-$kver" --initrd "$work/root/boot/initrd.img-$kver" \
         --clients "$CLIENTS" --sample "$SAMPLE" --timeout "$LOAD_TIMEOUT") || rc=$?
  kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true
  peak=$(sort -n "$work/rss-$name" | tail -1 | cut -d' ' -f1)
  local anon; anon=$(cut -d' ' -f2 "$work/rss-$name" | sort -n | tail -1)
  local hwm; hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")
  echo "$name: $line peak_rss_sampled_MiB=$((peak / 1024)) peak_anon_MiB=$((anon / 1024)) VmHWM_MiB=$((hwm / 1024))"
  [ "$rc" = 0 ] || { echo "$name: load failed (exit $rc)" >&2; return 1; }
}

echo "files: kernel $(stat -c %s "$work/root/boot/vmlinuz-$kver") B, initrd $(stat -c %s "$work/root/boot/initrd.img-$kver") B; clients $CLIENTS"
echo "sidus idle RSS MiB: $(( $(awk '/VmRSS/ { print $2 }' "/proc/$serve_pid/status") / 1024 ))"
run sidus "$sidus_port" "$serve_pid"
run nginx "$nginx_port" "$nginx_pid"
# A second round on the warm server shows whether memory keeps growing with the load or stays put.
run sidus-again "$sidus_port" "$serve_pid"
# The same server restarted with its GC heap capped at 256 MiB: the load must still pass, showing the memory above
# is garbage the collector had no reason to return yet, not data the server needs per client.
kill "$serve_pid"; wait "$serve_pid" 2>/dev/null || true
DOTNET_GCHeapHardLimit=0x10000000 "$repo/sidus" --home "$work/home" serve --no-tftp --listen 127.0.0.1 --http-port "$sidus_port" > "$work/serve-capped.log" 2>&1 &
capped_pid=$!; pids+=("$capped_pid")
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$sidus_port/healthz" >/dev/null && break; sleep 0.2; done
run sidus-heap-256MiB "$sidus_port" "$capped_pid"
