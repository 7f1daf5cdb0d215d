#!/usr/bin/env bash
# NODES simulated ram-mode nodes that each copy a whole NBD export at the same moment, with nbdcopy (libnbd's
# client, one connection, one thread), as a node copies its root into RAM. Run inside the client namespace.
# Usage: nbd-nodes.sh NODES URI SAMPLE SHA256 OUTDIR DEADLINE
#   the first SAMPLE nodes pipe the bytes through sha256sum and compare with SHA256 (a mismatch is a failure, not
#   retried); the others write to null:. A node tries at most 5 times, backing off 1, 2, 4, 8 s (+ jitter) like the
#   agent; every attempt is bounded by DEADLINE (epoch seconds).
# Writes OUTDIR/results: "NODE RC ATTEMPTS START END" per node (RC 0 ok, 9 checksum mismatch, else nbdcopy's), and
# OUTDIR/release: the epoch time all nodes were let go. Errors of failed attempts go to OUTDIR/NODE.err.
set -u
nodes=$1 uri=$2 sample=$3 want=$4 out=$5 deadline=$6
max_attempts=5
gate=$out/gate

node() {
  local i=$1 attempts=0 rc=1 delay=1 got left t0 t1
  : > "$out/$i.ready"
  flock -s "$gate" true
  t0=$EPOCHREALTIME
  while [ "$attempts" -lt "$max_attempts" ]; do
    attempts=$((attempts + 1))
    left=$(( deadline - ${EPOCHREALTIME%.*} ))
    [ "$left" -gt 0 ] || { rc=124; break; }
    if [ "$i" -le "$sample" ]; then
      got=$(set -o pipefail; timeout "$left" nbdcopy --connections=1 --threads=1 "$uri" - 2>> "$out/$i.err" | sha256sum) && rc=0 || rc=$?
      if [ "$rc" = 0 ] && [ "${got%% *}" != "$want" ]; then
        echo "sha256 ${got%% *} != $want" >> "$out/$i.err"; rc=9; break
      fi
    else
      timeout "$left" nbdcopy --connections=1 --threads=1 "$uri" null: 2>> "$out/$i.err" && rc=0 || rc=$?
    fi
    [ "$rc" = 0 ] && break
    [ "$attempts" -lt "$max_attempts" ] || break
    sleep "$delay.$((RANDOM % 1000))"
    delay=$((delay * 2))
  done
  t1=$EPOCHREALTIME
  echo "$i $rc $attempts $t0 $t1" >> "$out/results"
}

exec 8> "$gate"
flock -x 8
for i in $(seq "$nodes"); do node "$i" & done
# Let every node reach the gate (bounded), then open it for all at once.
for _ in $(seq 600); do
  [ "$(find "$out" -name '*.ready' | wc -l)" -ge "$nodes" ] && break
  sleep 0.1
done
sleep 0.5
echo "$EPOCHREALTIME" > "$out/release"
flock -u 8
wait
