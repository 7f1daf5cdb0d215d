#!/usr/bin/env bash
# Side-by-side TFTP throughput on loopback: Sidus vs tftpd-hpa, 64 MiB file, atftp and curl at blksize 1468,
# and Sidus with windowsize 16 vs lock-step. Prints MB/s (10^6 bytes/s, best of RUNS) and the ratios.
# Usage: bench/tftp.sh [RUNS]   (needs: dotnet, tftpd-hpa, atftp, curl; run as root or any user)
set -euo pipefail
RUNS=${1:-3}
SIZE_MIB=64
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/sidus-tftp-bench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

for tool in in.tftpd atftp curl dotnet sha256sum; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install tftpd-hpa atftp curl)" >&2; exit 1; }
done

dotnet build -c Release -v quiet -nologo "$here/Sidus.Bench.TftpHost" -o "$work/host" >/dev/null
mkdir -p "$work/root" "$work/out"
head -c $((SIZE_MIB << 20)) /dev/urandom > "$work/root/big.img"
# tftpd-hpa drops privileges to nobody: let it read the root.
chmod 755 "$work" "$work/root"; chmod 644 "$work/root/big.img"
want=$(sha256sum < "$work/root/big.img" | cut -d' ' -f1)

free_port() { while :; do p=$((20000 + RANDOM % 30000)); ! ss -Hlun "sport = :$p" | grep -q . && { echo "$p"; return; }; done; }
hpa_port=$(free_port); sidus_port=$(free_port)
/usr/sbin/in.tftpd -L -s "$work/root" -a "127.0.0.1:$hpa_port" & pids+=($!)
"$work/host/Sidus.Bench.TftpHost" --root "$work/root" --address 127.0.0.1 --port "$sidus_port" --log-level Warning >/dev/null & pids+=($!)
sleep 1

# fetch PORT CLIENT... -> seconds of the best run; every download is checked byte-exact.
fetch() {
  local port=$1 client=$2 best=""
  for _ in $(seq "$RUNS"); do
    rm -f "$work/out/big.img"
    local t0 t1
    t0=$(date +%s.%N)
    case $client in
      atftp) atftp --get -r big.img -l "$work/out/big.img" --option "blksize 1468" --option "tsize 0" 127.0.0.1 "$port" >/dev/null 2>&1 ;;
      atftp-w16) atftp --get -r big.img -l "$work/out/big.img" --option "blksize 1468" --option "windowsize 16" --option "tsize 0" 127.0.0.1 "$port" >/dev/null 2>&1 ;;
      curl) curl -sS --fail -o "$work/out/big.img" --tftp-blksize 1468 "tftp://127.0.0.1:$port/big.img" ;;
    esac
    t1=$(date +%s.%N)
    got=$(sha256sum < "$work/out/big.img" | cut -d' ' -f1)
    [ "$got" = "$want" ] || { echo "corrupt download from port $port with $client" >&2; exit 1; }
    s=$(echo "$t1 - $t0" | bc -l)
    if [ -z "$best" ] || [ "$(echo "$s < $best" | bc -l)" = 1 ]; then best=$s; fi
  done
  echo "$best"
}
rate() { echo "scale=1; $SIZE_MIB * 1048576 / $1 / 1000000" | bc -l; }

hpa_atftp=$(fetch "$hpa_port" atftp);      sidus_atftp=$(fetch "$sidus_port" atftp)
hpa_curl=$(fetch "$hpa_port" curl);        sidus_curl=$(fetch "$sidus_port" curl)
sidus_w16=$(fetch "$sidus_port" atftp-w16)

printf '%-44s %10s\n' "64 MiB over loopback, best of $RUNS" "MB/s"
printf '%-44s %10s\n' "tftpd-hpa  atftp blksize 1468 (lock-step)" "$(rate "$hpa_atftp")"
printf '%-44s %10s\n' "Sidus      atftp blksize 1468 (lock-step)" "$(rate "$sidus_atftp")"
printf '%-44s %10s\n' "tftpd-hpa  curl  blksize 1468" "$(rate "$hpa_curl")"
printf '%-44s %10s\n' "Sidus      curl  blksize 1468" "$(rate "$sidus_curl")"
printf '%-44s %10s\n' "Sidus      atftp blksize 1468 windowsize 16" "$(rate "$sidus_w16")"
echo "ratio Sidus/tftpd-hpa atftp lock-step: $(echo "scale=2; $hpa_atftp / $sidus_atftp" | bc -l)"
echo "ratio Sidus/tftpd-hpa curl:            $(echo "scale=2; $hpa_curl / $sidus_curl" | bc -l)"
echo "ratio Sidus windowsize 16 / lock-step: $(echo "scale=2; $sidus_atftp / $sidus_w16" | bc -l)"
