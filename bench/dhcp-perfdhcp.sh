#!/usr/bin/env bash
# DHCPv4 load test: perfdhcp (kea-admin) against `sidus serve` itself and against Kea (kea-dhcp4-server, memfile),
# same pool, same namespaces, ROUNDS rounds interleaved (sidus then Kea, then Kea then sidus, ...) so both see the
# same machine load. perfdhcp talks to the server as a relay (unicast, giaddr set), which is how a relayed site
# reaches a DHCP server; every client is a new MAC (up to CLIENTS of them) that no inventory knows.
# Sidus: the NativeAOT `sidus` that ./sidus builds, `sidus serve --dhcp full` with an empty inventory and a network
# whose policy for unknown machines is ignore (an address, nothing to boot), its default logging (Information).
# After each run the lease files are checked: no address may ever have been bound to two clients.
# Everything runs inside two network namespaces this script creates and removes.
# Usage: sudo bench/dhcp-perfdhcp.sh [RATE (exchanges/s, default 8000)] [SECONDS (default 20)] [ROUNDS (default 3)]
#        [CLIENTS (default 1000000)]
# BENCH_DIR=DIR puts the lease files there; PERF_RECORD=FILE also records a perf profile of sidus serve during its runs; KEEP_OUTPUT=1 prints perfdhcp's output.
set -euo pipefail
rate="${1:-8000}"
seconds="${2:-20}"
rounds="${3:-3}"
clients="${4:-1000000}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
suffix="$(head -c4 /dev/urandom | od -An -tx1 | tr -d ' \n')"
srv="sbench-srv-$suffix"
cli="sbench-cli-$suffix"
# BENCH_DIR: where the lease files go (default /tmp); /dev/shm (tmpfs, fsync costs nothing) shows what the disk costs.
work="$(mktemp -d "${BENCH_DIR:-/tmp}/sidus-dhcp-bench.XXXXXX")"
server_pid=""

for tool in perfdhcp kea-dhcp4 ip ss; do
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

echo "building sidus (NativeAOT, ./sidus)..." >&2
"$root/sidus" --help >/dev/null
sidus="$root/.sidus-build/aot/sidus"
home="$work/sidus-home"
"$sidus" --home "$home" network set bench --subnet 10.64.0.0/10 --unknown ignore >&2

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

start_sidus() {
  rm -f "$home/dhcp-leases-s0.journal"
  ip netns exec "$srv" "$sidus" --home "$home" serve --interface s0 --dhcp full --pool "$pool_first-$pool_last" \
    --lease-time 3600 --no-tftp --no-nbd --http-port 8080 >"$work/server.log" 2>&1 &
  server_pid=$!
}

start_kea() {
  rm -f "$work/kea.leases"*
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
  for _ in $(seq 200); do
    if ip netns exec "$srv" ss -Hlun 'sport = :67' | grep -q .; then return 0; fi
    sleep 0.1
  done
  echo "server did not open port 67:" >&2; cat "$work/server.log" >&2; return 1
}

# Addresses ever bound to two different clients, and addresses bound, from the server's lease file. Nothing expires
# or is released during a run, so any address seen with two MACs was given to two clients.
check_sidus_leases() {
  awk '$1 == "L1" && $4 == 1 { if (!(($2, $3) in seen)) { seen[$2, $3] = 1; macs[$2]++ } }
       END { twice = 0; for (a in macs) if (macs[a] > 1) twice++; printf "%d %d", length(macs), twice }' \
    "$home/dhcp-leases-s0.journal"
}

check_kea_leases() {
  awk -F, 'NR > 1 && $10 == 0 { if (!(($1, $2) in seen)) { seen[$1, $2] = 1; macs[$1]++ } }
       END { twice = 0; for (a in macs) if (macs[a] > 1) twice++; printf "%d %d", length(macs), twice }' \
    "$work/kea.leases"
}

# Datagrams the kernel dropped because a socket's receive buffer was full, in a namespace (cumulative).
rcvbuf_errors() {
  ip netns exec "$1" awk '/^Udp:/ { if (!n) { for (i = 1; i <= NF; i++) if ($i == "RcvbufErrors") c = i; n = 1 } else print $c }' /proc/net/snmp
}

field() { awk -v section="$2" -v key="$3" -v n="$4" '$0 ~ "Statistics for: " section {f=1} f && index($0, key) {print $n; exit}' "$1"; }
percent() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", 100 * a / b; else printf "?" }'; }

results="$work/results"
: >"$results"
run() {
  local name="$1" round="$2"
  "start_$name"
  wait_port
  sleep 1
  local out="$work/$name.perfdhcp" load
  load="$(cut -d' ' -f1 /proc/loadavg)"
  local perf_pid=""
  if [[ -n "${PERF_RECORD:-}" && "$name" == sidus ]]; then
    # Where the time goes: the AOT binary has symbols, so `perf report -i FILE` names the .NET methods.
    perf record -F 999 -g -o "$PERF_RECORD" -p "$server_pid" >/dev/null 2>&1 &
    perf_pid=$!
  fi
  local srv_overflows cli_overflows
  srv_overflows=$(rcvbuf_errors "$srv"); cli_overflows=$(rcvbuf_errors "$cli")
  ip netns exec "$cli" perfdhcp -4 -r "$rate" -R "$clients" -p "$seconds" -u -l 10.64.0.2 10.64.0.1 >"$out" 2>&1 || true
  srv_overflows=$(( $(rcvbuf_errors "$srv") - srv_overflows )); cli_overflows=$(( $(rcvbuf_errors "$cli") - cli_overflows ))
  if [[ -n "$perf_pid" ]]; then kill -INT "$perf_pid"; wait "$perf_pid" 2>/dev/null || true; fi
  # CPU the server used (user + system, all threads): on a shared machine a steadier figure than the rate.
  local cpu
  cpu=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%.1f", ($14 + $15) / hz }' "/proc/$server_pid/stat")
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
  local sent drops rsent rdrops acks rate_got nonunique leases bound twice
  sent=$(field "$out" DISCOVER-OFFER "sent packets:" 3)
  drops=$(field "$out" DISCOVER-OFFER "drops:" 2)
  rsent=$(field "$out" REQUEST-ACK "sent packets:" 3)
  rdrops=$(field "$out" REQUEST-ACK "drops:" 2)
  acks=$(field "$out" REQUEST-ACK "received packets:" 3)
  rate_got=$(awk '/^Rate:/{print $2; exit}' "$out")
  nonunique=$(grep -ho 'non unique addresses: [0-9]*\|addresses not unique: [0-9]*' "$out" | grep -o '[0-9]*$' | head -1 || true)
  leases="$("check_${name}_leases")"
  bound="${leases% *}"; twice="${leases#* }"
  printf 'round %s %-5s %6s 4-way/s | DISCOVER drops %s/%s (%s %%) | REQUEST drops %s/%s (%s %%) | ACKs %s | leases bound %s, to two clients %s | perfdhcp non-unique %s | server CPU %s s (%s us/ACK) | load %s\n' \
    "$round" "$name" "${rate_got:-?}" "${drops:-?}" "${sent:-?}" "$(percent "${drops:-0}" "${sent:-0}")" \
    "${rdrops:-?}" "${rsent:-?}" "$(percent "${rdrops:-0}" "${rsent:-0}")" "${acks:-?}" "$bound" "$twice" "${nonunique:-0}" \
    "$cpu" "$(awk -v c="$cpu" -v a="${acks:-0}" 'BEGIN { if (a > 0) printf "%.0f", 1e6 * c / a; else printf "?" }')" "$load"
  echo "$name ${rate_got:-0} $(percent "${drops:-0}" "${sent:-0}") $(percent "${rdrops:-0}" "${rsent:-0}") $twice" >>"$results"
  echo "        receive buffer overflows: server $srv_overflows, perfdhcp $cli_overflows$([[ "$name" == sidus ]] && echo "; sidus serve wrote $(wc -l <"$work/server.log") log lines")"
  if [[ -n "${KEEP_OUTPUT:-}" ]]; then cat "$out"; tail -5 "$work/server.log"; fi
}

echo "perfdhcp -4 -r $rate -R $clients -p $seconds -u -l 10.64.0.2 10.64.0.1  (relay mode, pool $pool_first-$pool_last), $rounds rounds"
echo "machine: $(nproc) cores, load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$rounds"); do
  if (( round % 2 )); then run sidus "$round"; run kea "$round"; else run kea "$round"; run sidus "$round"; fi
done

echo "summary (4-way exchanges/s: median, min-max; worst drop %; addresses given to two clients):"
for name in sidus kea; do
  awk -v n="$name" '$1 == n { r[++c] = $2; d = ($3 > $4 ? $3 : $4); if (d > worst) worst = d; twice += $5 }
    END {
      for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++) if (r[j] < r[i]) { t = r[i]; r[i] = r[j]; r[j] = t }
      median = (c % 2) ? r[(c + 1) / 2] : (r[c / 2] + r[c / 2 + 1]) / 2
      printf "  %-5s median %.0f, spread %.0f-%.0f (%d runs); worst drops %.2f %%; to two clients %d\n", n, median, r[1], r[c], c, worst, twice
    }' "$results"
done
