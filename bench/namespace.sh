# Shared by the benchmarks: the processes they start (stopped by PID, never by name) and their
# network namespace, removed at the end, also on failure or Ctrl-C. Sourced by the bench scripts
# after they set NS, WORK and log().

PIDS=()
stop_pid() { # stop_pid PID [SIGNAL]: signal, wait up to 20 s, then SIGKILL
  local p=$1 sig=${2:-TERM} i
  kill -0 "$p" 2>/dev/null || return 0
  kill -"$sig" "$p" 2>/dev/null || true
  for i in $(seq 200); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
}
cleanup() {
  local p
  for p in "${PIDS[@]}"; do stop_pid "$p"; done
  ip netns del "$NS" 2>/dev/null || true
  if [ "${BENCH_KEEP:-0}" = 1 ]; then log "work dir kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# make_namespace LNS_IP: the namespace NS with lo, a veth "eth0" (l2tpns wants an eth0, its
# cluster_interface; both ends inside the namespace) holding LNS_IP/24, forwarding on.
make_namespace() {
  ip netns add "$NS"
  ip -n "$NS" link set lo up
  ip -n "$NS" link add eth0 type veth peer name eth0-peer
  ip -n "$NS" addr add "$1/24" dev eth0
  ip -n "$NS" link set eth0 up
  ip -n "$NS" link set eth0-peer up
  ip netns exec "$NS" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
}
nsx() { ip netns exec "$NS" "$@"; }
