# Two network namespaces joined by a veth pair, for the benches that simulate many nodes against one server.
# Sourced, not run. Names carry a random suffix so parallel runs (and other worktrees) never collide.
#   netns_pair_names PREFIX   sets srv cli (namespaces), vsrv vcli (veth ends), sip cip (server/client addresses)
#   netns_pair_up [RATE]      creates them; RATE (e.g. 1gbit) shapes server -> clients with tbf (the link limit)
#   netns_pair_down           removes them (safe to call before netns_pair_up, and twice: for an EXIT trap)
# PREFIX: at most 4 characters (an interface name holds 15).

netns_pair_names() {
  local prefix=$1 suffix
  suffix=$(head -c 3 /dev/urandom | od -An -tx1 | tr -d ' \n')
  srv=$prefix-srv-$suffix; cli=$prefix-cli-$suffix
  vsrv=${prefix}s$suffix; vcli=${prefix}c$suffix
  local net=10.$((100 + RANDOM % 100)).$((RANDOM % 250))
  sip=$net.1; cip=$net.2
}

netns_pair_up() {
  local rate=${1:-}
  ip netns add "$srv"; ip netns add "$cli"
  ip link add "$vsrv" type veth peer name "$vcli"
  ip link set "$vsrv" netns "$srv"; ip link set "$vcli" netns "$cli"
  ip -n "$srv" addr add "$sip/24" dev "$vsrv"; ip -n "$cli" addr add "$cip/24" dev "$vcli"
  local ns
  for ns in "$srv" "$cli"; do ip -n "$ns" link set lo up; done
  ip -n "$srv" link set "$vsrv" up; ip -n "$cli" link set "$vcli" up
  if [ -n "$rate" ]; then
    # Server -> nodes is the direction that carries the image.
    ip netns exec "$srv" tc qdisc add dev "$vsrv" root tbf rate "$rate" burst 1mb latency 100ms
  fi
}

netns_pair_down() {
  # Deleting a namespace deletes the veth end inside it, and with it the peer.
  [ -z "${srv:-}" ] || ip netns del "$srv" 2>/dev/null || true
  [ -z "${cli:-}" ] || ip netns del "$cli" 2>/dev/null || true
}
