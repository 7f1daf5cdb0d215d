# Timing and wire bytes for the side-by-side benches over a netns pair (bench/lib/netns-pair.sh). Sourced, not run.
#   wire                          bytes so far, both directions, at the client's veth end ($cli, $vcli)
#   measure NS KEY RUN COMMAND... runs COMMAND in namespace NS (its output in $work/KEY.out, errors in
#                                 $work/KEY.err); appends its wall seconds to T[KEY] and wire bytes to B[KEY]
#   median, spread [FORMAT]       of the numbers on standard input (blank-separated): the median; "min-max"
#   ratio A B                     A / B to 3 decimals
# The caller declares `declare -A T B` and sets $work.

wire() { ip netns exec "$cli" sh -c "echo \$(( \$(cat /sys/class/net/$vcli/statistics/rx_bytes) + \$(cat /sys/class/net/$vcli/statistics/tx_bytes) ))"; }

measure() {
  local ns=$1 key=$2 run=$3; shift 3
  sync
  local b0 s e b1 t
  b0=$(wire); s=$(date +%s.%N)
  if ! ip netns exec "$ns" "$@" > "$work/$key.out" 2> "$work/$key.err"; then cat "$work/$key.out" "$work/$key.err" >&2; echo "FAILED: $key run $run" >&2; exit 1; fi
  e=$(date +%s.%N); b1=$(wire)
  t=$(echo "$e - $s" | bc)
  T[$key]="${T[$key]:-} $t"; B[$key]="${B[$key]:-} $((b1 - b0))"
  printf '%-16s run %d  %8.3f s  %12d bytes\n' "$key" "$run" "$t" "$((b1 - b0))"
}

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

spread() { tr ' ' '\n' | grep -v '^$' | sort -g | awk -v f="${1:-%s}" 'NR == 1 { lo = $1 } { hi = $1 } END { printf f "-" f, lo, hi }'; }

ratio() { echo "scale=3; $1 / $2" | bc; }
