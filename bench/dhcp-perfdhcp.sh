#!/usr/bin/env bash
# DHCPv4 load test: perfdhcp (kea-admin) against Sidus's DHCP server and against Kea (kea-dhcp4-server, memfile),
# same pool, same namespaces. perfdhcp talks to the server as a relay (unicast, giaddr set), which is how a relayed
# site reaches a DHCP server. Everything runs inside two network namespaces this script creates and removes.
# Usage: sudo bench/dhcp-perfdhcp.sh [RATE (exchanges/s, default 10000)] [SECONDS (default 20)] [CLIENTS (default 1000000)]
set -euo pipefail
rate="${1:-10000}"
seconds="${2:-20}"
clients="${3:-1000000}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
suffix="$(head -c4 /dev/urandom | od -An -tx1 | tr -d ' \n')"
srv="sbench-srv-$suffix"
cli="sbench-cli-$suffix"
work="$(mktemp -d /tmp/sidus-dhcp-bench.XXXXXX)"
server_pid=""

for tool in perfdhcp kea-dhcp4 ip; do
  command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install kea-admin kea-dhcp4-server iproute2" >&2; exit 1; }
done

cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; fi
  for ns in "$srv" "$cli"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

# A /10 so one subnet holds a pool far larger than the clients one run can create.
ip netns add "$srv"
ip netns add "$cli"
ip -n "$srv" link set lo up
ip -n "$cli" link set lo up
ip -n "$srv" link add s0 type veth peer name c0 netns "$cli"
ip -n "$srv" addr add 10.64.0.1/10 dev s0
ip -n "$cli" addr add 10.64.0.2/10 dev c0
ip -n "$srv" link set s0 up
ip -n "$cli" link set c0 up
pool_first=10.65.0.0
pool_last=10.79.255.254

echo "building Sidus.Bench.DhcpHost (Release)..." >&2
dotnet build "$root/bench/Sidus.Bench.DhcpHost" -c Release -o "$work/sidus" --nologo -v q >"$work/build.log" 2>&1 \
  || { cat "$work/build.log" >&2; exit 1; }

start_sidus() {
  ip netns exec "$srv" "$work/sidus/Sidus.Bench.DhcpHost" --interface s0 --address 10.64.0.1 --prefix 10 \
    --pool "$pool_first-$pool_last" --lease-file "$work/sidus.leases" --lease-seconds 3600 --log-level Warning \
    >"$work/server.log" 2>&1 &
  server_pid=$!
}

start_kea() {
  cat >"$work/kea.json" <<JSON
{ "Dhcp4": {
    "interfaces-config": { "interfaces": [ "s0" ], "dhcp-socket-type": "udp" },
    "lease-database": { "type": "memfile", "persist": true, "name": "$work/kea.leases", "lfc-interval": 0 },
    "valid-lifetime": 3600,
    "subnet4": [ { "subnet": "10.64.0.0/10", "pools": [ { "pool": "$pool_first - $pool_last" } ] } ],
    "loggers": [ { "name": "kea-dhcp4", "severity": "WARN", "output_options": [ { "output": "$work/kea.log" } ] } ]
} }
JSON
  KEA_LOCKFILE_DIR="$work" KEA_PIDFILE_DIR="$work" ip netns exec "$srv" kea-dhcp4 -c "$work/kea.json" >"$work/server.log" 2>&1 &
  server_pid=$!
}

wait_port() {
  for _ in $(seq 100); do
    if ip netns exec "$srv" ss -lun | grep -qE ':67\s'; then return 0; fi
    sleep 0.1
  done
  echo "server did not open port 67:" >&2; cat "$work/server.log" >&2; return 1
}

run() {
  local name="$1"
  "start_$name"
  wait_port
  sleep 1
  local out="$work/$name.perfdhcp"
  ip netns exec "$cli" perfdhcp -4 -r "$rate" -R "$clients" -p "$seconds" -u -l 10.64.0.2 10.64.0.1 >"$out" 2>&1 || true
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
  local sent recv drops rate_got nonunique
  sent=$(awk '/Statistics for: DISCOVER-OFFER/{f=1} f&&/sent packets:/{print $3; exit}' "$out")
  drops=$(awk '/Statistics for: DISCOVER-OFFER/{f=1} f&&/drops:/{print $2; exit}' "$out")
  recv=$(awk '/Statistics for: REQUEST-ACK/{f=1} f&&/received packets:/{print $3; exit}' "$out")
  local rdrops; rdrops=$(awk '/Statistics for: REQUEST-ACK/{f=1} f&&/drops:/{print $2; exit}' "$out")
  rate_got=$(awk '/^Rate:/{print $2; exit}' "$out")
  nonunique=$(grep -ho 'non unique addresses: [0-9]*\|addresses not unique: [0-9]*' "$out" | grep -o '[0-9]*$' | head -1)
  printf '%-6s rate %s 4-way/s; DISCOVER sent %s dropped %s; ACKs %s (REQUEST drops %s); non-unique %s\n' \
    "$name" "${rate_got:-?}" "${sent:-?}" "${drops:-?}" "${recv:-?}" "${rdrops:-?}" "${nonunique:-0}"
  if [[ -n "${KEEP_OUTPUT:-}" ]]; then cat "$out"; tail -5 "$work/server.log"; fi
}

echo "perfdhcp -4 -r $rate -R $clients -p $seconds -u -l 10.64.0.2 10.64.0.1  (relay mode, pool $pool_first-$pool_last)"
run sidus
[[ -n "${SIDUS_ONLY:-}" ]] || run kea
