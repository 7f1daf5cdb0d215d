#!/usr/bin/env bash
# NODES simulated nodes that ask `sidus serve` for their iPXE boot script at the same moment, as iPXE does after
# DHCP (GET /boot/MAC-WITH-DASHES.ipxe, the first ask without a query). Run inside the client namespace.
# Usage: script-burst-nodes.sh MACS BASE VERSION OUTDIR DEADLINE MAX_REQUESTS
#   MACS: file of MACs (aa:bb:..), one node each; BASE: http://IP:PORT; VERSION: the version id the final script
#   must boot (sidus.image=VERSION). An answer with a Retry-After header (seconds) is slept on and asked again, at
#   the URL of the answer's `chain` line when it has one (the server's own retry URL, e.g. ?attempt=N), else at
#   the same URL. The final script is the first answer with a `kernel` line. Every node stops after MAX_REQUESTS
#   requests or at DEADLINE (epoch seconds), whichever comes first.
# Gate: every node waits on a lock; once all are ready the script writes OUTDIR/armed, waits (bounded) for the
# caller to create OUTDIR/go, writes the release time to OUTDIR/release and lets every node go at once.
# Writes OUTDIR/results: "NODE STATUS REQUESTS START END" per node; STATUS is ok (final script of VERSION),
# other-version, refused (no kernel and no Retry-After), curl-RC, deadline or too-many. Bodies of failures in OUTDIR/NODE.err.
set -u
macs=$1 base=$2 version=$3 out=$4 deadline=$5 max_requests=$6
gate=$out/gate

node() {
  local i=$1 mac=$2 url requests=0 status=too-many rc left code wait next t0 t1
  local body=$out/$i.body headers=$out/$i.headers
  url=/boot/${mac//:/-}.ipxe
  : > "$out/$i.ready"
  flock -s "$gate" true
  t0=$EPOCHREALTIME
  while [ "$requests" -lt "$max_requests" ]; do
    left=$(( deadline - ${EPOCHREALTIME%.*} ))
    [ "$left" -gt 0 ] || { status=deadline; break; }
    requests=$((requests + 1))
    code=$(curl -sS --max-time "$left" -o "$body" -D "$headers" -w '%{http_code}' "$base$url" 2>> "$out/$i.err") && rc=0 || rc=$?
    [ "$rc" = 0 ] || { status=curl-$rc; break; }
    if grep -q '^kernel ' "$body"; then
      if grep -q "sidus\.image=$version" "$body"; then status=ok; else status=other-version; cp "$body" "$out/$i.err"; fi
      break
    fi
    wait=$(tr -d '\r' < "$headers" | awk 'tolower($1) == "retry-after:" { print $2 }' | tail -1)
    case $wait in
      '' | *[!0-9]*) status=refused; { echo "HTTP $code, no kernel, no Retry-After:"; cat "$body"; } >> "$out/$i.err"; break ;;
    esac
    [ $(( ${EPOCHREALTIME%.*} + wait )) -lt "$deadline" ] || { status=deadline; break; }
    sleep "$wait"
    next=$(awk '$1 == "chain" { print $2; exit }' "$body")
    case $next in
      /*) url=$next ;;
      http://* | https://*) url=/${next#*://*/} ;;
    esac
  done
  t1=$EPOCHREALTIME
  echo "$i $status $requests $t0 $t1" >> "$out/results"
}

exec 8> "$gate"
flock -x 8
i=0
while read -r mac; do
  [ -n "$mac" ] || continue
  i=$((i + 1))
  node "$i" "$mac" &
done < "$macs"
# Let every node reach the gate (bounded), then wait for the caller's go (bounded) and open the gate for all at once.
for _ in $(seq 600); do
  [ "$(find "$out" -name '*.ready' | wc -l)" -ge "$i" ] && break
  sleep 0.1
done
sleep 0.3
: > "$out/armed"
for _ in $(seq 1200); do
  [ -e "$out/go" ] && break
  sleep 0.02
done
echo "$EPOCHREALTIME" > "$out/release"
flock -u 8
wait
