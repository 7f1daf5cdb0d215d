# The opening the mass-boot benches share (nbd-mass-boot.sh, ram-mass-boot.sh). Sourced, not run; the caller sets
# `here` (its own folder) first. In order:
#   mass_boot_defaults NODES SAMPLE LOAD_TIMEOUT   NODES from the command line (empty: 300); SAMPLE and LOAD_TIMEOUT
#                                                  are defaults the environment overrides; RATE, SOURCE_HOME, IMAGE too
#   mass_boot_begin PREFIX WORKNAME                namespace names (bench/lib/netns-pair.sh), a work directory
#                                                  /tmp/WORKNAME.XXXXXX, and the trap that stops every pid in `pids`,
#                                                  removes the namespaces and the work directory (also on ^C)
#   mass_boot_need HINT TOOL...                    fails naming HINT (the packages) when a tool is missing
#   mass_boot_source                               the e2e store's version of IMAGE in `version`; SIDUS_BIN (default:
#                                                  the NativeAOT build ./sidus makes)
#   mass_boot_home                                 a private copy of the store in $work/home (the e2e cache is only read)
# Then, once netns_pair_up has run: inc CMD... (in the client namespace, bounded by LOAD_TIMEOUT), stop PID,
# cpu_seconds PID.
repo=$(cd "$here/.." && pwd)
# shellcheck source=bench/lib/netns-pair.sh
. "$here/lib/netns-pair.sh"

mass_boot_defaults() {
  NODES=${1:-300}
  SAMPLE=${SAMPLE:-$2}
  LOAD_TIMEOUT=${LOAD_TIMEOUT:-$3}
  RATE=${RATE:-}
  SOURCE_HOME=${SOURCE_HOME:-/var/tmp/sidus-e2e/home-v1}
  IMAGE=${IMAGE:-e2e-debian}
}

mass_boot_begin() {
  netns_pair_names "$1"
  work=$(mktemp -d "/tmp/$2.XXXXXX")
  pids=()
  trap mass_boot_cleanup EXIT
  trap 'exit 130' INT TERM
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true   # NODES x a few connections on each side
}

mass_boot_cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  netns_pair_down
  rm -rf "$work"
}

mass_boot_need() {
  local hint=$1 tool; shift
  for tool in "$@"; do
    command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || { echo "missing $tool ($hint)" >&2; exit 1; }
  done
}

mass_boot_source() {
  [ -d "$SOURCE_HOME/store" ] || { echo "no store at $SOURCE_HOME (run the E2E tests once to build it)" >&2; exit 1; }
  version=$(tail -1 "$SOURCE_HOME/store/refs/images/$IMAGE")
  if [ -z "${SIDUS_BIN:-}" ]; then
    "$repo/sidus" --help >/dev/null 2>&1 || true
    SIDUS_BIN=$repo/.sidus-build/aot/sidus
  fi
}

mass_boot_home() {
  mkdir -p "$work/home"
  cp -a "$SOURCE_HOME/store" "$work/home/store"
  rm -f "$work/home/store/lock"
}

inc() { timeout "$((LOAD_TIMEOUT + 60))" ip netns exec "$cli" "$@"; }
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
cpu_seconds() { awk -v t="$(getconf CLK_TCK)" '{ print ($14 + $15) / t }' "/proc/$1/stat"; }
