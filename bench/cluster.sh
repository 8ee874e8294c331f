#!/bin/bash
# Cluster benchmark, l2tpns 2.4.1 and lnsd in the same rig. Three parts (BENCH_PARTS, default
# "failover setup resync"; any subset, in that order):
#   failover  what a LAC's sessions see when one node of the cluster dies (kill -9)
#   setup     session setups per second through the master with 0, 1 and 2 slaves: the cost of
#             lnsd's output commit (the master releases no output until every up-to-date slave
#             holds the state behind it); l2tpns has no such commit and is run in the same rig
#   resync    a master holding many established sessions (lnsd: 100,000), then a new slave: time
#             from the slave's start to its "Now uptodate with master." line, the records it
#             names, the master's "slave X is up to date" line and the master's resident memory
#
# Network namespaces this script creates (lnsclu-PID-...) and deletes at the end, also on failure:
#   lan    the cluster LAN: bridge br0 (multicast snooping off), one port per node and the LAC
#   n1..3  one LNS node each: "eth0" on the LAN (10.231.0.11..13/24, the cluster_interface), the
#          shared bind_address 10.232.0.1/32 on lo (also its TUN address), its TUN device tun0 with
#          the pool routed to it (failover: 10.233.0.0/20; setup and resync: a pool at 10.224.0.0
#          sized for the sessions), and its own FreeRADIUS on 127.0.0.1 (every user with the bench
#          password; accounting on)
#   lac    the LAC(s) at 10.231.0.100 (bench/cluster-lac.mjs, testkit LAC), the route to the bind
#          address via one node's LAN address: a survivor (failover), the master (setup, resync)
# Each node's startup-config: cluster_address 239.192.13.13, cluster_interface eth0,
# cluster_hb_interval 1, cluster_hb_timeout (per part), cluster_master_min_adv 1; lnsd also gets
# cluster_secret and state_directory (its journal, as docs/cluster.md recommends; resync: per case).
#
# failover: per implementation (BENCH_LNS), per N (BENCH_NODES: 2 3), per victim (BENCH_VICTIMS:
# master slave), on a fresh cluster: node 1 starts and becomes master, nodes 2 (and 3, 1.1 s later,
# so that node 2 is the older slave and wins the next election) start and catch up; S sessions
# (BENCH_SESSIONS, 200, over BENCH_TUNNELS tunnels, 4) log in; every session sends an LCP
# Echo-Request and an ICMP echo request to the TUN address every 100 ms through the tunnel, the
# LAC sends a HELLO after every second without a control message; then the victim's process group
# gets SIGKILL:
#   master: node 1; the LAC's route goes via node 2 for N=2 (it becomes master); for N=3 one case
#           via node 3 (it stays a slave: its data stays local, its control goes to the new
#           master) and one via node 2 (the new master), BENCH_VIA3 ("3 2")
#   slave:  node 2; the LAC's route goes via node 1 (the master)
# Measured: takeover (kill -> a survivor's "declaring myself the master" log line, polled every
# 20 ms; any later such line within 6 s, and survivors that exited, are listed too); per probe
# the longest time a session went without a reply from 1 s before the kill to 6 s after the
# takeover (or the kill, when no master has to take over), median and max over sessions, the
# sessions with a reply between 5 and 6 s after the takeover, and what the LAC got: StopCCN, CDN,
# tunnels it gave up on (unacknowledged control messages), retransmissions.
# With BENCH_DEFAULT_HB (default "2 master") one more l2tpns case runs with l2tpns's default
# cluster_hb_timeout 150 (15 s); "" skips it.
# lnsd is skipped, with a message, when its first node does not log "declaring myself the master"
# within 10 s (no cluster yet).
#
# setup: per implementation (BENCH_SETUP_LNS, default BENCH_LNS), per slave count
# (BENCH_SETUP_SLAVES, "0 1 2"), BENCH_SETUP_ROUNDS times (2), on a fresh cluster of 1 + slaves
# nodes (every slave up to date first), cluster_hb_timeout BENCH_SETUP_HB_TIMEOUT (15, 1.5 s: what
# l2tpns runs 5 as, and docs/cluster.md's advice for 1,000 sessions): BENCH_SETUP_TUNNELS (4) LAC
# processes started together, each with its own UDP socket and one tunnel (l2tpns mishandles many
# tunnels in setup from one address and port), log in BENCH_SETUP_SESSIONS (2000) sessions in all
# (CHAP through the master's FreeRADIUS, accounting on, IPCP; at most 100 calls per tunnel between
# ICRQ and ICRP) through the master, no probes. Measured: time to all online (from the first LAC's
# start, just before its SCCRQ, to the last session's IPCP up, over all LACs), sessions/s, the
# master's and the slaves' CPU time over it, and for lnsd the output commit (from its metrics:
# turns whose output waited for the slaves, their mean wait) and whether a slave was dropped or an
# election held. Ratios: lnsd / l2tpns per slave count (best round of each), and per LNS
# k slaves / 0 slaves.
#
# resync: per implementation (BENCH_RESYNC_LNS, default "lnsd"), node 1 alone becomes master
# (cluster_hb_timeout BENCH_RESYNC_HB_TIMEOUT, 100 = 10 s, docs/cluster.md's advice for 10,000
# sessions and more), BENCH_RESYNC_LACS (4) LAC processes with BENCH_RESYNC_TUNNELS (5) tunnels
# each log in sessions through it (lnsd: one case per BENCH_RESYNC_LNSD entry, SESSIONS/JOURNAL
# [/HEAP], default "100000/off 50000/on": JOURNAL on keeps state_directory as in the other parts,
# off runs without it, which a cluster allows; HEAP "default" (V8's own limit) or node's
# --max-old-space-size in MB; l2tpns: BENCH_RESYNC_L2TPNS_SESSIONS, 50000, below its
# 60,000-session table; one LAC process per tunnel, as in setup), for at most
# BENCH_RESYNC_LIMIT s (600); lnsd authenticates from a chap-secrets file (BENCH_RESYNC_AUTH=local,
# no RADIUS, so no accounting; "radius" for FreeRADIUS; l2tpns always uses FreeRADIUS),
# echo_timeout BENCH_RESYNC_ECHO (60).
# Then node 2 starts: the time from just before its start to its "Now uptodate with master." line
# and to the master's "slave ... is up to date" line (lnsd; polled every 50 ms, at most
# BENCH_RESYNC_WAIT s, 300), the records the slave's line names, the master's VmRSS before the
# slave, its peak while the slave syncs, and 10 s after; the slave's VmRSS; then 10 s more to see
# whether the slave stays up to date. When the LACs' sessions online fall by a tenth from their peak during the logins (the master lost them), the
# logins stop there, the case is recorded as such and no slave is started; when no new session
# has come up for BENCH_RESYNC_STALL s (60), the logins stop and the slave starts with what is up.
#
# Wall time is bounded: every wait above has its limit; no new case starts after
# BENCH_MAX_MINUTES (60) minutes from the start (the cases left are listed as not run). Here, all
# three parts with the defaults take about 15 minutes: failover 5 (l2tpns 3, lnsd 1.5), setup 5,
# resync 5 (lnsd 100,000 without journal: 105 s of logins, 28 s of resync; 50,000 with: 73 + 9 s);
# l2tpns's resync case adds about 3 (its logins stall near 9,000 sessions here).
#
# Usage: sudo bench/cluster.sh     (needs root, FreeRADIUS 3.2, Debian's l2tpns, npx tsc -b)
# Environment: BENCH_PARTS ("failover setup resync"), BENCH_LNS ("l2tpns lnsd"), BENCH_NODES
#   ("2 3"), BENCH_VICTIMS ("master slave"), BENCH_SESSIONS (200), BENCH_TUNNELS (4),
#   BENCH_HB_TIMEOUT (5), BENCH_DEFAULT_HB ("2 master"), BENCH_VIA3 ("3 2"); BENCH_SETUP_LNS,
#   BENCH_SETUP_SLAVES ("0 1 2"), BENCH_SETUP_SESSIONS (2000), BENCH_SETUP_TUNNELS (4),
#   BENCH_SETUP_ROUNDS (2), BENCH_SETUP_HB_TIMEOUT (15), BENCH_SETUP_TIMEOUT (120 s per case);
#   BENCH_RESYNC_LNS ("lnsd"), BENCH_RESYNC_LNSD ("100000/off 50000/on"), BENCH_RESYNC_L2TPNS_SESSIONS
#   (50000), BENCH_RESYNC_LACS (4), BENCH_RESYNC_TUNNELS (5 per LAC), BENCH_RESYNC_LIMIT (600),
#   BENCH_RESYNC_WAIT (300), BENCH_RESYNC_STALL (60), BENCH_RESYNC_HB_TIMEOUT (100),
#   BENCH_RESYNC_AUTH (local), BENCH_RESYNC_ECHO (60);
#   BENCH_MAX_MINUTES (60), BENCH_RESULTS, BENCH_KEEP=1 keeps the work directory with every log.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PARTS=${BENCH_PARTS:-failover setup resync}
LNSS=${BENCH_LNS:-l2tpns lnsd}
read -r -a NODE_COUNTS <<< "${BENCH_NODES:-2 3}"
read -r -a VICTIMS <<< "${BENCH_VICTIMS:-master slave}"
SESSIONS=${BENCH_SESSIONS:-200}
TUNNELS=${BENCH_TUNNELS:-4}
HB_TIMEOUT=${BENCH_HB_TIMEOUT:-5}
DEFAULT_HB_CASE=${BENCH_DEFAULT_HB-2 master}
VIA3=${BENCH_VIA3:-3 2}
SETUP_LNSS=${BENCH_SETUP_LNS:-$LNSS}
read -r -a SETUP_SLAVES <<< "${BENCH_SETUP_SLAVES:-0 1 2}"
SETUP_SESSIONS=${BENCH_SETUP_SESSIONS:-2000}
SETUP_TUNNELS=${BENCH_SETUP_TUNNELS:-4}
SETUP_ROUNDS=${BENCH_SETUP_ROUNDS:-2}
SETUP_HB=${BENCH_SETUP_HB_TIMEOUT:-15}
SETUP_TIMEOUT=${BENCH_SETUP_TIMEOUT:-120}
RESYNC_LNSS=${BENCH_RESYNC_LNS:-lnsd}
read -r -a RESYNC_LNSD <<< "${BENCH_RESYNC_LNSD:-100000/off 50000/on}"
RESYNC_L2TPNS_SESSIONS=${BENCH_RESYNC_L2TPNS_SESSIONS:-50000}
RESYNC_LACS=${BENCH_RESYNC_LACS:-4}
RESYNC_TUNNELS=${BENCH_RESYNC_TUNNELS:-5}
RESYNC_LIMIT=${BENCH_RESYNC_LIMIT:-600}
RESYNC_WAIT=${BENCH_RESYNC_WAIT:-300}
RESYNC_STALL=${BENCH_RESYNC_STALL:-60}
RESYNC_HB=${BENCH_RESYNC_HB_TIMEOUT:-100}
RESYNC_AUTH=${BENCH_RESYNC_AUTH:-local}
RESYNC_ECHO=${BENCH_RESYNC_ECHO:-60}
LNSD_NODE_OPTS=""   # node's options for lnsd: --max-old-space-size=MB in the resync cases that ask
MAX_MINUTES=${BENCH_MAX_MINUTES:-60}
PROBE_MS=100
HELLO_MS=1000
PREFIX=lnsclu-$$
NS_LAN=$PREFIX-lan
NS_LAC=$PREFIX-lac
WORK=$(mktemp -d "/tmp/$PREFIX.XXXXXX")
LAN=10.231.0
LAC_IP=$LAN.100
BIND=10.232.0.1
POOL=10.233.0.0/20
BIG_POOL_BASE=10.224.0.0   # setup and resync: up to a /14 (10.224.0.0-10.227.255.255)
MCAST=239.192.13.13
RADIUS_SECRET=bench-radius-secret
PASSWORD=bench
CLUSTER_SECRET=bench-cluster-secret
MASTER_LINE='declaring myself the master'
LNSD=$ROOT/packages/lnsd/dist/src/bin/lnsd.js
LAC=$ROOT/bench/cluster-lac.mjs
RESULTS=${BENCH_RESULTS:-$ROOT/bench/RESULTS.md}

log() { echo "[cluster $(date +%T)] $*" >&2; }
die() { echo "[cluster] ERROR: $*" >&2; exit 1; }
now_ms() { date +%s%3N; }
node_ns() { echo "$PREFIX-n$1"; }
node_ip() { echo "$LAN.1$1"; }
has_part() { case " $PARTS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
pool_for() { # pool_for COUNT: the smallest pool at BIG_POOL_BASE with COUNT addresses and a margin
  local pfx=24
  while [ "$pfx" -gt 14 ] && [ $(( (1 << (32 - pfx)) - 2 )) -lt $(( $1 + $1 / 20 + 16 )) ]; do pfx=$((pfx - 1)); done
  echo "$BIG_POOL_BASE/$pfx"
}

[ "$(id -u)" = 0 ] || die "needs root (network namespaces, TUN devices, l2tpns)"
command -v freeradius >/dev/null || die "freeradius not installed"
[ -f "$ROOT/packages/testkit/dist/src/index.js" ] || die "testkit not built: run 'npx tsc -b' in $ROOT first"
for p in $PARTS; do case $p in failover|setup|resync) ;; *) die "BENCH_PARTS: failover, setup, resync; not $p" ;; esac; done
if [ "$TUNNELS" -lt 1 ] || [ $((SESSIONS % TUNNELS)) != 0 ]; then die "BENCH_SESSIONS ($SESSIONS) must be a multiple of BENCH_TUNNELS ($TUNNELS)"; fi
if [ "$SETUP_TUNNELS" -lt 1 ] || [ $((SETUP_SESSIONS % SETUP_TUNNELS)) != 0 ]; then die "BENCH_SETUP_SESSIONS ($SETUP_SESSIONS) must be a multiple of BENCH_SETUP_TUNNELS ($SETUP_TUNNELS)"; fi
for c in "${RESYNC_LNSD[@]}"; do
  case $c in [0-9]*/on|[0-9]*/off|[0-9]*/on/default|[0-9]*/off/default|[0-9]*/on/[0-9]*|[0-9]*/off/[0-9]*) ;;
    *) die "BENCH_RESYNC_LNSD: SESSIONS/on|off[/default|HEAP_MB], not $c" ;; esac
done
for x in "${RESYNC_LNSD[@]%%/*}" "$RESYNC_L2TPNS_SESSIONS"; do
  if [ $((x % (RESYNC_LACS * RESYNC_TUNNELS))) != 0 ] || [ $((x / (RESYNC_LACS * RESYNC_TUNNELS))) -gt 65535 ]; then
    die "resync: $x sessions must be a multiple of BENCH_RESYNC_LACS x BENCH_RESYNC_TUNNELS ($RESYNC_LACS x $RESYNC_TUNNELS), at most 65,535 per tunnel"
  fi
done
[ "$RESYNC_L2TPNS_SESSIONS" -le 60000 ] || die "BENCH_RESYNC_L2TPNS_SESSIONS: l2tpns holds at most 60,000 sessions"
case $RESYNC_AUTH in local|radius) ;; *) die "BENCH_RESYNC_AUTH: local or radius" ;; esac
USED_LNSS=""
has_part failover && USED_LNSS="$USED_LNSS $LNSS"
has_part setup && USED_LNSS="$USED_LNSS $SETUP_LNSS"
has_part resync && USED_LNSS="$USED_LNSS $RESYNC_LNSS"
for l in $USED_LNSS; do
  case $l in
    l2tpns) [ -x /usr/sbin/l2tpns ] || die "l2tpns not installed" ;;
    lnsd) [ -f "$LNSD" ] || die "$LNSD missing: run 'npx tsc -b' in $ROOT first" ;;
    *) die "unknown LNS $l (BENCH_LNS: l2tpns, lnsd)" ;;
  esac
done
MAX_NODES=0
if has_part failover; then
  for n in "${NODE_COUNTS[@]}"; do
    case $n in 2|3) ;; *) die "BENCH_NODES: 2 or 3, not $n" ;; esac
    [ "$n" -gt "$MAX_NODES" ] && MAX_NODES=$n
  done
  [ -z "$DEFAULT_HB_CASE" ] || MAX_NODES=$(( MAX_NODES > ${DEFAULT_HB_CASE%% *} ? MAX_NODES : ${DEFAULT_HB_CASE%% *} ))
fi
if has_part setup; then
  for x in "${SETUP_SLAVES[@]}"; do
    case $x in 0|1|2) ;; *) die "BENCH_SETUP_SLAVES: 0, 1 or 2, not $x" ;; esac
    [ $((x + 1)) -gt "$MAX_NODES" ] && MAX_NODES=$((x + 1))
  done
fi
if has_part resync && [ "$MAX_NODES" -lt 2 ]; then MAX_NODES=2; fi
T_START=$(now_ms)
DEADLINE_MS=$(( T_START + MAX_MINUTES * 60000 ))
NOT_RUN=()
time_left() { # time_left LABEL: 0 while a new case may start; else notes LABEL as not run
  [ "$(now_ms)" -lt "$DEADLINE_MS" ] && return 0
  NOT_RUN+=("$1"); log "$1: not run (BENCH_MAX_MINUTES $MAX_MINUTES reached)"; return 1
}

# ---------------------------------------------------------------- cleanup: only our own processes
# PIDS: single processes (FreeRADIUS, the LAC). GROUPS: the LNS nodes, each started with setsid in
# a process group of its own (l2tpns signals its whole group when it leaves its main loop), stopped
# by group.
PIDS=()
GROUPS_=()
stop_pid() { # stop_pid PID [SIGNAL]: signal, wait up to 10 s, then SIGKILL
  local p=$1 sig=${2:-TERM}
  kill -0 "$p" 2>/dev/null || return 0
  kill -"$sig" "$p" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$p" 2>/dev/null; then kill -KILL "$p" 2>/dev/null || true; fi
  wait "$p" 2>/dev/null || true
}
is_our_group() { # is_our_group PGID: the process is alive and still leads the group we made
  [ -r "/proc/$1/stat" ] && [ "$(awk '{print $5}' "/proc/$1/stat" 2>/dev/null)" = "$1" ]
}
stop_group() { # stop_group PGID [SIGNAL]: signal the group, wait up to 5 s for its leader, then SIGKILL
  local g=$1 sig=${2:-KILL}
  is_our_group "$g" || { wait "$g" 2>/dev/null || true; return 0; }
  kill -"$sig" -- "-$g" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$g" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$g" 2>/dev/null || true
  wait "$g" 2>/dev/null || true
}
cleanup() {
  local p k
  for p in "${GROUPS_[@]}"; do stop_group "$p"; done
  for p in "${PIDS[@]}"; do stop_pid "$p"; done
  ip netns del "$NS_LAC" 2>/dev/null || true
  for k in 1 2 3; do ip netns del "$(node_ns "$k")" 2>/dev/null || true; done
  ip netns del "$NS_LAN" 2>/dev/null || true
  if [ "${BENCH_KEEP:-0}" = 1 ]; then log "work dir kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- namespaces
ip netns add "$NS_LAN"
ip -n "$NS_LAN" link set lo up
ip -n "$NS_LAN" link add br0 type bridge mcast_snooping 0
ip -n "$NS_LAN" link set br0 up
for k in $(seq "$MAX_NODES"); do
  ns=$(node_ns "$k")
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "$BIND/32" dev lo
  ip link add eth0 netns "$ns" type veth peer name "n$k" netns "$NS_LAN"
  ip -n "$ns" addr add "$(node_ip "$k")/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$NS_LAN" link set "n$k" master br0 up
  ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0
done
ip netns add "$NS_LAC"
ip -n "$NS_LAC" link set lo up
ip link add lac0 netns "$NS_LAC" type veth peer name lac netns "$NS_LAN"
ip -n "$NS_LAC" addr add "$LAC_IP/24" dev lac0
ip -n "$NS_LAC" link set lac0 up
ip -n "$NS_LAN" link set lac master br0 up

# ---------------------------------------------------------------- FreeRADIUS, one per node
# shellcheck source=bench/freeradius.sh
source "$ROOT/bench/freeradius.sh"
for k in $(seq "$MAX_NODES"); do
  mkdir -p "$WORK/radius-n$k"
  WORK=$WORK/radius-n$k start_freeradius "$(node_ns "$k")" "$BIND" 2
done
log "namespaces $NS_LAN (bridge), $PREFIX-n1..$MAX_NODES (LNS nodes, each with FreeRADIUS), $NS_LAC"

# ---------------------------------------------------------------- the nodes
# What the parts change in write_config: the pool (CFG_POOL), RADIUS or a chap-secrets file
# (CFG_AUTH, lnsd only), echo_timeout (CFG_ECHO), lnsd's metrics on 127.0.0.1:9101 (CFG_METRICS=1),
# lnsd's state_directory (CFG_JOURNAL=on) or none (off).
CFG_POOL=$POOL; CFG_AUTH=radius; CFG_ECHO=10; CFG_METRICS=0; CFG_JOURNAL=on
write_config() { # write_config LNS DIR NODE HB_TIMEOUT
  local lns=$1 d=$2 hb=$4
  mkdir -p "$d"
  # debug: l2tpns logs its cluster events at levels 0 and 1 (3 adds a line per busy loop); lnsd
  # logs "Now uptodate with master." as info, which needs 3
  local debug=2; [ "$lns" = lnsd ] && debug=3
  local auth
  if [ "$CFG_AUTH" = radius ]; then
    auth=$(printf 'set primary_radius 127.0.0.1\nset radius_secret "%s"\nset radius_authtypes "chap,pap"\nset radius_accounting yes' "$RADIUS_SECRET")
  else
    # lnsd with no RADIUS server reads chap-secrets beside the startup-config: any user, the bench
    # password, an address from the pool
    [ "$lns" = lnsd ] || die "local authentication is lnsd's only"
    auth='set radius_authtypes "chap,pap"'
    printf '* * "%s" *\n' "$PASSWORD" > "$d/chap-secrets"
  fi
  cat > "$d/startup-config" <<EOF
set debug $debug
set log_file "$d/lns.log"
set bind_address $BIND
set tundevicename tun0
$auth
set cli_bind_address 127.0.0.1
set echo_timeout $CFG_ECHO
set cluster_address $MCAST
set cluster_interface eth0
set cluster_hb_interval 1
set cluster_hb_timeout $hb
set cluster_master_min_adv 1
EOF
  case $lns in
    l2tpns) printf 'set pid_file "%s/l2tpns.pid"\nset lock_pages no\nset send_garp no\n' "$d" >> "$d/startup-config" ;;
    lnsd) printf 'set iftun_address %s\nset cluster_secret "%s"\nset state_directory "%s"\n' "$BIND" "$CLUSTER_SECRET" "$([ "$CFG_JOURNAL" = on ] && echo "$d/state")" >> "$d/startup-config"
      [ "$CFG_METRICS" = 1 ] && printf 'set metrics_address 127.0.0.1\nset metrics_port 9101\n' >> "$d/startup-config" ;;
  esac
  echo "$CFG_POOL" > "$d/ip_pool"
  : > "$d/users"
}

NODE_PGID=()   # by node number: the process group (= PID) of the node's LNS
start_node() { # start_node LNS DIR NODE: starts, waits for its TUN device, routes the pool to it
  local lns=$1 d=$2 k=$3 ns p
  ns=$(node_ns "$k")
  case $lns in
    l2tpns)
      # /etc/l2tpns (ip_pool, users: compiled in) is the node's directory, bind-mounted in a
      # private mount namespace; ip netns exec, unshare, sh and setsid all exec: $! is l2tpns
      ip netns exec "$ns" unshare -m sh -c "mount --bind '$d' /etc/l2tpns && exec setsid /usr/sbin/l2tpns -c /etc/l2tpns/startup-config" \
        >"$d/stderr.log" 2>&1 </dev/null &
      p=$! ;;
    lnsd)
      # shellcheck disable=SC2086 # LNSD_NODE_OPTS: zero or one word
      ip netns exec "$ns" setsid node $LNSD_NODE_OPTS "$LNSD" -c "$d/startup-config" >"$d/stderr.log" 2>&1 </dev/null &
      p=$! ;;
  esac
  # out of the job table: the shell still reaps it, without a "Killed" line for the kill -9
  disown "$p"
  GROUPS_+=("$p"); NODE_PGID[k]=$p
  for _ in $(seq 200); do
    is_our_group "$p" && ip -n "$ns" link show tun0 >/dev/null 2>&1 && break
    kill -0 "$p" 2>/dev/null || break
    sleep 0.05
  done
  is_our_group "$p" || { tail -5 "$d/stderr.log" "$d/lns.log" 2>/dev/null >&2; return 1; }
  ip -n "$ns" route replace "$CFG_POOL" dev tun0 2>/dev/null || log "$lns n$k: no tun0 yet"
}
wait_line() { # wait_line FILE PATTERN SECONDS [COUNT]: until FILE has more than COUNT lines matching
  local f=$1 pat=$2 s=$3 before=${4:-0} n
  for _ in $(seq $((s * 20))); do
    n=$(grep -c -- "$pat" "$f" 2>/dev/null || true)
    [ "${n:-0}" -gt "$before" ] && return 0
    sleep 0.05
  done
  return 1
}

# ---------------------------------------------------------------- the LAC
LAC_PID=""; LAC_FD=""
start_lac() { # start_lac DIR: starts the LAC, waits until its sessions are online; sets ONLINE
  local d=$1
  mkfifo "$d/lac.in"
  ip netns exec "$NS_LAC" node "$LAC" "$BIND" "$LAC_IP" "$BIND" "$TUNNELS" $((SESSIONS / TUNNELS)) "$PASSWORD" "$PROBE_MS" "$HELLO_MS" \
    <"$d/lac.in" >"$d/lac.out" 2>"$d/lac.err" &
  LAC_PID=$!; PIDS+=("$LAC_PID")
  exec {LAC_FD}>"$d/lac.in"
  for _ in $(seq 650); do grep -q '"online"' "$d/lac.out" 2>/dev/null && break; kill -0 "$LAC_PID" 2>/dev/null || break; sleep 0.1; done
  ONLINE=$(sed -n 's/.*"online":{"online":\([0-9]*\).*/\1/p' "$d/lac.out" | head -1)
  ONLINE=${ONLINE:-0}
}
stop_lac() {
  if [ -n "$LAC_FD" ]; then trap '' PIPE; { echo quit >&"$LAC_FD"; } 2>/dev/null || true; trap - PIPE; exec {LAC_FD}>&-; fi
  LAC_FD=""
  [ -n "$LAC_PID" ] && stop_pid "$LAC_PID"
  LAC_PID=""
}
lac_report() { # lac_report DIR FROM TO PASS_FROM PASS_TO: sets REPORT (the JSON)
  local d=$1 before
  before=$(grep -c '"report"' "$d/lac.out" || true)
  REPORT=""
  kill -0 "$LAC_PID" 2>/dev/null || return 0
  # a LAC that died in between makes the write fail (EPIPE) rather than end the script uncleaned
  trap '' PIPE
  { echo "report $2 $3 $4 $5" >&"$LAC_FD"; } 2>/dev/null || { trap - PIPE; return 0; }
  trap - PIPE
  for _ in $(seq 100); do [ "$(grep -c '"report"' "$d/lac.out" || true)" -gt "$before" ] && break; sleep 0.1; done
  REPORT=$(grep '"report"' "$d/lac.out" | tail -1)
}

# ---------------------------------------------------------------- a cluster
# start_cluster LNS DIR N HB LABEL: node 1 until it is the master, then nodes 2..N each until it
# says it is up to date. 1 when node 1 did not become the master (START_FAIL says why; node 1 is
# stopped). A node alone takes over once its heartbeat timeout has passed. A slave that hears no
# heartbeat within cluster_hb_timeout of its start elects itself, and l2tpns then leaves when the
# older master's heartbeat arrives ("They're an older master than me so I'm gone!"): such a node is
# started again (twice at most), and START_NOTES says so. Node 3 starts 1.1 s after node 2, so
# that node 2 is the older slave and wins the next election (l2tpns: longest uptime).
START_FAIL=""
START_NOTES=()
start_cluster() {
  local lns=$1 cd=$2 n=$3 hb=$4 label=$5 master_wait k try slave_line='uptodate with master'
  START_FAIL=""
  START_NOTES=()
  master_wait=$(( hb / 10 + 5 )); [ "$lns" = lnsd ] && [ "$master_wait" -lt 10 ] && master_wait=10
  if ! start_node "$lns" "$cd/n1" 1 || ! wait_line "$cd/n1/lns.log" "$MASTER_LINE" "$master_wait"; then
    if ! grep -q "$MASTER_LINE" "$cd/n1/stderr.log" 2>/dev/null; then
      START_FAIL="its first node did not log \"$MASTER_LINE\" within $master_wait s of starting (no cluster yet). Last lines: $(tail -3 "$cd/n1/lns.log" "$cd/n1/stderr.log" 2>/dev/null | grep -v '^==>' | grep -v '^$' | tail -3 | tr '\n' ' ' | cut -c1-400)"
      tail -20 "$cd/n1/stderr.log" "$cd/n1/lns.log" >&2 2>/dev/null || true
      stop_group "${NODE_PGID[1]}"
      return 1
    fi
  fi
  for k in $(seq 2 "$n"); do
    [ "$k" -gt 2 ] && sleep 1.1
    for try in 1 2 3; do
      start_node "$lns" "$cd/n$k" "$k" || true
      wait_line "$cd/n$k/lns.log" "$slave_line" 10 && break
      if is_our_group "${NODE_PGID[k]}"; then log "$label: node $k logged no \"$slave_line\" within 10 s"; break; fi
      START_NOTES+=("$label: node $k left at its start (try $try): $(grep -E 'declaring|gone|exit' "$cd/n$k/lns.log" "$cd/n$k/stderr.log" 2>/dev/null | sed 's/^[^:]*://' | tail -2 | tr '\n' ' ' | cut -c1-240)")
      log "$label: node $k left at its start; starting it again"
      [ "$try" = 3 ] && die "$label: node $k did not start"
      mv "$cd/n$k/lns.log" "$cd/n$k/lns.log.try$try" 2>/dev/null || true
    done
  done
  return 0
}

# ---------------------------------------------------------------- failover: one case
ROWS=()
NOTES=()
LNSD_SKIPPED=""
run_case() { # run_case LNS N VICTIM HB_TIMEOUT VIA (the node the LAC's route goes through)
  local lns=$1 n=$2 victim=$3 hb=$4 via=$5 cd k vk kill_ms take_ms="" new_master="" t_ref
  local label="$lns N=$n $victim via n$via hb $hb"
  cd=$WORK/$lns-n$n-$victim-via$via-hb$hb; mkdir -p "$cd"
  NODE_PGID=()
  local t_case; t_case=$(now_ms)
  for k in $(seq "$n"); do write_config "$lns" "$cd/n$k" "$k" "$hb"; done
  if ! start_cluster "$lns" "$cd" "$n" "$hb" "$label"; then
    [ "$lns" = lnsd ] || die "$label: $START_FAIL"
    LNSD_SKIPPED="lnsd skipped: $START_FAIL"
    log "$LNSD_SKIPPED"
    return 1
  fi
  NOTES+=("${START_NOTES[@]}")
  # Route to the bind address via a survivor.
  if [ "$victim" = master ]; then vk=1; else vk=2; fi
  [ "$via" != "$vk" ] || die "$label: the LAC's route would go via the victim"
  ip -n "$NS_LAC" route replace "$BIND/32" via "$(node_ip "$via")"
  start_lac "$cd"
  [ "$ONLINE" -eq "$SESSIONS" ] || log "$label: only $ONLINE of $SESSIONS sessions online"
  if [ "$ONLINE" -eq 0 ]; then
    ROWS+=("| $lns | $n | $victim | n$via | $hb | not measured: no session online within 60 s | | | | | | | |")
    NOTES+=("$label: no session came online within 60 s$(early_masters "$cd" "$n")")
    stop_lac
    for k in $(seq "$n"); do stop_group "${NODE_PGID[k]}"; done
    log "$label: not measured (no session online)"
    return 0
  fi
  log "$label: $ONLINE sessions online via n$via; master n1; probing"
  sleep 3
  # The kill: the victim's whole process group, at once.
  local -A size_at_kill=()
  for k in $(seq "$n"); do size_at_kill[$k]=$(stat -c %s "$cd/n$k/lns.log" 2>/dev/null || echo 0); done
  local -A masters_before=()
  for k in $(seq "$n"); do masters_before[$k]=$(grep -c "$MASTER_LINE" "$cd/n$k/lns.log" 2>/dev/null || true); done
  local early; early=$(early_masters "$cd" "$n")
  [ -z "$early" ] || NOTES+=("$label: an election before the kill (node 1 was no longer the only master)$early")
  is_our_group "${NODE_PGID[vk]}" || die "$label: the victim n$vk (pid ${NODE_PGID[vk]}) is gone before the kill"
  kill_ms=$(now_ms)
  kill -KILL -- "-${NODE_PGID[vk]}"
  # Takeover: a survivor logs the master line (polled every 20 ms); every later one is recorded too,
  # until 6 s after the first (or after the kill when the master is not the victim).
  local -A seen=()
  for k in $(seq "$n"); do seen[$k]=${masters_before[$k]:-0}; done
  local deadline=$(( kill_ms + hb * 200 + 10000 )) later="" c t
  [ "$victim" = master ] || deadline=$(( kill_ms + 6200 ))
  while [ "$(now_ms)" -lt "$deadline" ]; do
    for k in $(seq "$n"); do
      [ "$k" = "$vk" ] && continue
      c=$(grep -c "$MASTER_LINE" "$cd/n$k/lns.log" 2>/dev/null || true)
      [ "${c:-0}" -gt "${seen[$k]}" ] || continue
      seen[$k]=$c; t=$(( $(now_ms) - kill_ms ))
      if [ -z "$take_ms" ]; then take_ms=$t; new_master=n$k; deadline=$(( kill_ms + t + 6200 ))
      else later="$later, then n$k at $t ms"; fi
    done
    sleep 0.02
  done
  local exited=""
  for k in $(seq "$n"); do [ "$k" = "$vk" ] || is_our_group "${NODE_PGID[k]}" || exited="$exited n$k"; done
  t_ref=$kill_ms; [ -n "$take_ms" ] && t_ref=$(( kill_ms + take_ms ))
  local end=$(( t_ref + 6000 ))
  while [ "$(now_ms)" -lt $(( end + 200 )) ]; do sleep 0.1; done
  local take_cell
  if [ -n "$take_ms" ]; then take_cell="$take_ms ms ($new_master)$later"
  elif [ "$victim" = master ]; then take_cell="none"
  else take_cell="n/a (master stays)"; fi
  [ -z "$exited" ] || take_cell="$take_cell; exited:$exited"
  lac_report "$cd" $(( kill_ms - 1000 )) "$end" $(( t_ref + 5000 )) "$end"
  # What the survivors logged after the kill (level 0-1 lines of interest), kept as evidence.
  for k in $(seq "$n"); do
    [ "$k" = "$vk" ] && continue
    tail -c +"$(( ${size_at_kill[$k]} + 1 ))" "$cd/n$k/lns.log" 2>/dev/null \
      | grep -E 'master|Master|election|pool|uninitiali|timed out|Expecting|undefined|late|peer|uptodate|exiting|stalled' \
      | head -20 | sed "s/^/    n$k: /" > "$cd/after-kill-n$k.txt" || true
  done
  stop_lac
  for k in $(seq "$n"); do [ "$k" = "$vk" ] || stop_group "${NODE_PGID[k]}"; done
  local pool_missing=0 k2
  for k2 in $(seq "$n"); do
    [ "$k2" = "$vk" ] && continue
    pool_missing=$(( pool_missing + $(tail -c +"$(( ${size_at_kill[$k2]} + 1 ))" "$cd/n$k2/lns.log" 2>/dev/null | grep -c "not found in the pool" || true) ))
  done
  [ -n "$REPORT" ] || { log "$label: no report from the LAC"; REPORT='{"report":{}}'; }
  # shellcheck disable=SC2016 # JavaScript, not shell
  ROW=$(node -e '
    const [lns, n, victim, hb, via, take, poolMissing, json, effHb] = process.argv.slice(1);
    const r = JSON.parse(json).report ?? {};
    const g = (p) => (p === undefined ? "n/a" : `${p.medianGapMs} / ${p.maxGapMs}`);
    const of = r.of ?? "?";
    const row = [
      lns, n, victim, `${via}`, hb === effHb ? hb : `${hb} (runs as ${effHb})`,
      take,
      `${r.ping?.answeredBefore ?? "?"} / ${r.lcp?.answeredBefore ?? "?"}`,
      g(r.ping), g(r.lcp),
      `${r.ping?.passing ?? "?"} / ${r.lcp?.passing ?? "?"} of ${of}`,
      `${(r.stopccn ?? []).length} / ${r.cdn ?? "?"} / ${(r.givenUp ?? []).length}`,
      `${r.retransmitted ?? "?"}, ${r.tunnelsUnacked ?? "?"} of ${r.tunnelsEstablished ?? "?"}`,
      poolMissing,
    ];
    process.stdout.write(`| ${row.join(" | ")} |`);
  ' "$lns" "$n" "$victim" "$hb" "n$via" "$take_cell" "$pool_missing" "$REPORT" "$(effective_hb "$cd" "$hb")")
  ROWS+=("$ROW")
  echo "$ROW" >&2
  cat "$cd"/after-kill-n*.txt >&2 2>/dev/null || true
  local ev; ev=$(cat "$cd"/after-kill-n*.txt 2>/dev/null | sed 's/^ *//' | grep -E 'pool|uninitiali' | head -1 | cut -c1-200 || true)
  [ -z "$ev" ] || NOTES+=("$label: $pool_missing lines like \"$ev\"")
  local stops; stops=$(node -e 'const r = JSON.parse(process.argv[1]).report ?? {}; const s = [...(r.stopccn ?? []), ...(r.givenUp ?? [])]; if (s.length || r.cdnFirst) process.stdout.write(JSON.stringify({ stopccn: r.stopccn, givenUp: r.givenUp, firstCdn: r.cdnFirst }))' "$REPORT")
  [ -z "$stops" ] || NOTES+=("$label: LAC saw $stops (kill at $kill_ms)")
  log "$label: done in $(( ($(now_ms) - t_case) / 1000 )) s"
  return 0
}
early_masters() { # early_masters DIR N: nodes other than node 1 that declared themselves master, with the line
  local k out=""
  for k in $(seq 2 "$2"); do
    grep -q "$MASTER_LINE" "$1/n$k/lns.log" 2>/dev/null && out="$out; n$k: $(grep "$MASTER_LINE" "$1/n$k/lns.log" | head -1 | cut -c1-120)"
  done
  echo "$out"
}
effective_hb() { # effective_hb DIR ASKED: the heartbeat timeout the nodes ran with (l2tpns raises a low one)
  local v
  v=$(grep -h -o 'Heartbeat timeout [0-9]* too low, adjusting to [0-9]*' "$1"/n*/lns.log 2>/dev/null | head -1 | awk '{print $NF}')
  echo "${v:-$2}"
}

vias() { # vias N VICTIM: the nodes the LAC's route goes through, one case each
  if [ "$2" = slave ]; then echo 1
  elif [ "$1" = 2 ]; then echo 2
  else echo "$VIA3"
  fi
}
# ---------------------------------------------------------------- setup and resync: LAC processes
# start_lacs DIR COUNT TUNNELS PER TIMEOUT_S PROGRESS_MS: COUNT LAC processes started together,
# each with its own UDP socket, TUNNELS tunnels of PER calls, no probes; their stdin is one FIFO
# this shell holds open (a LAC leaves when its stdin ends).
LACS=(); LACS_FD=""
start_lacs() {
  local d=$1 count=$2 tunnels=$3 per=$4 timeout=$5 progress=$6 i
  LACS=()
  mkfifo "$d/lacs.in"
  exec {LACS_FD}<>"$d/lacs.in"
  for i in $(seq "$count"); do
    ip netns exec "$NS_LAC" node "$LAC" "$BIND" "$LAC_IP" "$BIND" "$tunnels" "$per" "$PASSWORD" 0 "$HELLO_MS" "$timeout" "$progress" $(( (i - 1) * tunnels )) \
      <"$d/lacs.in" >"$d/lac$i.out" 2>"$d/lac$i.err" &
    LACS+=("$!"); PIDS+=("$!")
  done
}
# wait_lacs DIR SECONDS: until every LAC printed its "online" line (or died, or SECONDS passed);
# with PROGRESS_LOG=1 looks at the sessions online every 10 s, logs them every 30 s, and stops
# early when they fall by a tenth from their peak (COLLAPSE says so) or have not grown for
# RESYNC_STALL s (STALLED says so). Sets LACS_SUMMARY: "online of startAt lastUpAt" (the first
# start and the last IPCP up over all LACs, epoch ms), from each LAC's latest line.
COLLAPSE=""; STALLED=""; PEAK=0
wait_lacs() {
  local d=$1 secs=$2 i done_ last_log checks=0 peak=0 cur grew
  COLLAPSE=""; STALLED=""; PEAK=0
  grew=$(now_ms)
  last_log=$(now_ms)
  for _ in $(seq $((secs * 10))); do
    done_=0
    for i in "${!LACS[@]}"; do
      if grep -q '^{"online"' "$d/lac$((i + 1)).out" 2>/dev/null || ! kill -0 "${LACS[$i]}" 2>/dev/null; then done_=$((done_ + 1)); fi
    done
    [ "$done_" -eq "${#LACS[@]}" ] && break
    if [ "${PROGRESS_LOG:-0}" = 1 ] && [ $(( $(now_ms) - last_log )) -ge 10000 ]; then
      last_log=$(now_ms)
      cur=$(progress_of "$d")
      [ "$cur" -gt "$peak" ] && { peak=$cur; grew=$last_log; }
      checks=$((checks + 1))
      [ $((checks % 3)) = 0 ] && log "  $cur online; master VmRSS $(rss_kb "${NODE_PGID[1]}") kB"
      if [ "$peak" -ge 1000 ] && [ $((cur * 10)) -lt $((peak * 9)) ]; then
        PEAK=$peak
        COLLAPSE="the sessions online at the LACs fell from $peak to $cur at $(date -u +%T) UTC (master VmRSS $(rss_kb "${NODE_PGID[1]}") kB)"
        log "  $COLLAPSE: the logins stop here"
        break
      fi
      if [ $((last_log - grew)) -ge $((RESYNC_STALL * 1000)) ]; then
        STALLED="no new session online for $RESYNC_STALL s"
        log "  $cur online and $STALLED: the logins stop here"
        break
      fi
    fi
    sleep 0.1
  done
  # shellcheck disable=SC2016 # JavaScript, not shell
  LACS_SUMMARY=$(lacs_latest "$d" | node -e '
    let online = 0, of = 0, start = Infinity, last = 0;
    for (const line of require("fs").readFileSync(0, "utf8").split("\n")) {
      if (line === "") continue;
      const o = Object.values(JSON.parse(line))[0];
      online += o.online; of += o.of; start = Math.min(start, o.startAt); last = Math.max(last, o.lastUpAt);
    }
    process.stdout.write(`${online} ${of} ${start === Infinity ? 0 : start} ${last}`);
  ')
}
lacs_latest() { # lacs_latest DIR: each LAC's latest "online" or "progress" line
  local f
  for f in "$1"/lac*.out; do grep -E '^\{"(online|progress)"' "$f" 2>/dev/null | tail -1; done
}
lacs_failures() { # lacs_failures DIR: what the LACs' latest lines say of the sessions that did not come up
  # shellcheck disable=SC2016 # JavaScript, not shell
  lacs_latest "$1" | node -e '
    const sum = { up: 0, refused: 0, failed: 0, down: 0 }, ppp = {};
    let tunnels = 0;
    for (const line of require("fs").readFileSync(0, "utf8").split("\n")) {
      if (line === "") continue;
      const o = Object.values(JSON.parse(line))[0];
      for (const k of Object.keys(sum)) sum[k] += o.calls?.[k] ?? 0;
      tunnels += o.tunnelsUp ?? 0;
      for (const [k, v] of Object.entries(o.pppFailures ?? {})) ppp[k] = (ppp[k] ?? 0) + v;
    }
    process.stdout.write(`L2TP calls up ${sum.up} (of them down again ${sum.down}), refused ${sum.refused}, failed ${sum.failed}; tunnels up ${tunnels}; PPP failures ${JSON.stringify(ppp)}`);
  '
}
progress_of() { # progress_of DIR: the sessions online over the LACs' latest lines ("progress" or "online")
  local n sum=0
  while read -r n; do sum=$((sum + ${n:-0})); done < <(lacs_latest "$1" | sed -n 's/^{"[a-z]*":{"online":\([0-9]*\).*/\1/p')
  echo "$sum"
}
stop_lacs() {
  local p
  if [ -n "$LACS_FD" ]; then exec {LACS_FD}>&-; fi
  LACS_FD=""
  for p in "${LACS[@]}"; do stop_pid "$p"; done
  LACS=()
}
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
cpu_ticks() { # cpu_ticks PID: utime + stime of the whole process (all threads), in clock ticks
  local st; st=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
  st=${st##*) }
  awk '{print $12 + $13}' <<< "$st"
}
metric() { # metric NODE NAME: the value of an lnsd metric (metrics on 127.0.0.1:9101 in the node's namespace)
  ip netns exec "$(node_ns "$1")" curl -s --max-time 5 http://127.0.0.1:9101/metrics 2>/dev/null | awk -v m="$2" '$1 == m {print $2; exit}'
}
log_ms() { # log_ms LINE: the epoch ms of an lnsd log line (ISO time first), empty for others
  local t=${1%% *}
  case $t in 20*T*Z) date -d "$t" +%s%3N 2>/dev/null ;; esac
}

# ---------------------------------------------------------------- setup: one case
SETUP_ROWS=()
SETUP_NOTES=()
declare -A SETUP_BEST=()
run_setup() { # run_setup LNS SLAVES ROUND
  local lns=$1 s=$2 round=$3 n=$(( $2 + 1 )) cd k label size0
  label="setup $lns slaves=$s round $round"
  cd=$WORK/setup-$lns-s$s-r$round; mkdir -p "$cd"
  NODE_PGID=()
  for k in $(seq "$n"); do write_config "$lns" "$cd/n$k" "$k" "$SETUP_HB"; done
  if ! start_cluster "$lns" "$cd" "$n" "$SETUP_HB" "$label"; then
    SETUP_ROWS+=("| $lns | $s | $round | not measured: no master | | | | | | |")
    SETUP_NOTES+=("$label: $START_FAIL")
    return 0
  fi
  SETUP_NOTES+=("${START_NOTES[@]}")
  local synced=0
  for k in $(seq 2 "$n"); do grep -q 'uptodate with master' "$cd/n$k/lns.log" 2>/dev/null && synced=$((synced + 1)); done
  local early; early=$(early_masters "$cd" "$n")
  [ -z "$early" ] || SETUP_NOTES+=("$label: an election before the logins (node 1 was no longer the only master)$early")
  ip -n "$NS_LAC" route replace "$BIND/32" via "$(node_ip 1)"
  sleep 1
  local -A cpu0=() masters0=()
  for k in $(seq "$n"); do cpu0[$k]=$(cpu_ticks "${NODE_PGID[k]}"); masters0[$k]=$(grep -c "$MASTER_LINE" "$cd/n$k/lns.log" 2>/dev/null || true); done
  local w0=0 l0=0
  if [ "$lns" = lnsd ]; then w0=$(metric 1 lnsd_cluster_commit_latency_seconds_count); l0=$(metric 1 lnsd_cluster_commit_latency_seconds_sum); fi
  size0=$(stat -c %s "$cd/n1/lns.log" 2>/dev/null || echo 0)
  log "$label: $synced of $s slaves up to date; $SETUP_SESSIONS sessions from $SETUP_TUNNELS LACs via n1"
  start_lacs "$cd" "$SETUP_TUNNELS" 1 $((SETUP_SESSIONS / SETUP_TUNNELS)) "$SETUP_TIMEOUT" 0
  wait_lacs "$cd" $((SETUP_TIMEOUT + 15))
  case $LACS_SUMMARY in "$SETUP_SESSIONS $SETUP_SESSIONS "*) ;; *) SETUP_NOTES+=("$label: not all up within $SETUP_TIMEOUT s: $(lacs_failures "$cd")") ;; esac
  local cpu_m=0 cpu_s=0 t
  for k in $(seq "$n"); do
    t=$(( $(cpu_ticks "${NODE_PGID[k]}") - ${cpu0[$k]} ))
    if [ "$k" = 1 ]; then cpu_m=$t; else cpu_s=$((cpu_s + t)); fi
  done
  local w1=0 l1=0
  if [ "$lns" = lnsd ]; then w1=$(metric 1 lnsd_cluster_commit_latency_seconds_count); l1=$(metric 1 lnsd_cluster_commit_latency_seconds_sum); fi
  stop_lacs
  local dropped elections=0 c alive=""
  dropped=$(tail -c +"$((size0 + 1))" "$cd/n1/lns.log" 2>/dev/null | grep -c 'no longer up to date' || true)
  for k in $(seq "$n"); do
    c=$(grep -c "$MASTER_LINE" "$cd/n$k/lns.log" 2>/dev/null || true)
    elections=$((elections + ${c:-0} - ${masters0[$k]:-0}))
    is_our_group "${NODE_PGID[k]}" || alive="$alive n$k"
  done
  [ -z "$alive" ] || SETUP_NOTES+=("$label: exited during the logins:$alive")
  [ "${dropped:-0}" = 0 ] || SETUP_NOTES+=("$label: the master dropped a slave: $(tail -c +"$((size0 + 1))" "$cd/n1/lns.log" | grep 'no longer up to date' | head -2 | cut -c1-200 | tr '\n' ' ')")
  [ "$elections" = 0 ] || SETUP_NOTES+=("$label: $elections election(s) during the logins: $(grep -h "$MASTER_LINE" "$cd"/n*/lns.log | tail -2 | cut -c1-160 | tr '\n' ' ')")
  for k in $(seq "$n"); do stop_group "${NODE_PGID[k]}"; done
  local row rate
  # shellcheck disable=SC2016 # JavaScript, not shell
  row=$(node -e '
    const [lns, s, round, summary, cpuM, cpuS, hz, w0, w1, l0, l1, dropped, elections, synced] = process.argv.slice(1);
    const [online, of, start, last] = summary.split(" ").map(Number);
    const all = online === of && of > 0 && last > 0;
    const ms = last - start;
    const rate = all ? of / (ms / 1000) : 0;
    const waits = Number(w1 || 0) - Number(w0 || 0);
    const commit = lns === "lnsd" ? (waits > 0 ? `${waits}, ${((Number(l1) - Number(l0)) / waits * 1000).toFixed(2)} ms` : "0") : "n/a";
    const cells = [lns, `${s} (${synced} up to date)`, round, `${online}/${of}`, all ? `${(ms / 1000).toFixed(2)} s` : "not all up", all ? rate.toFixed(0) : "n/a",
      (Number(cpuM) / Number(hz)).toFixed(2), s === "0" ? "-" : (Number(cpuS) / Number(hz)).toFixed(2), commit, `${dropped} / ${elections}`];
    process.stdout.write(`${rate.toFixed(1)}\t| ${cells.join(" | ")} |`);
  ' "$lns" "$s" "$round" "$LACS_SUMMARY" "$cpu_m" "$cpu_s" "$(getconf CLK_TCK)" "${w0:-0}" "${w1:-0}" "${l0:-0}" "${l1:-0}" "${dropped:-0}" "$elections" "$synced")
  rate=${row%%$'\t'*}; row=${row#*$'\t'}
  SETUP_ROWS+=("$row")
  echo "$row" >&2
  if [ "$dropped" = 0 ] && [ "$elections" = 0 ] && [ -z "$alive" ] && [ "$synced" = "$s" ]; then
    if awk -v a="$rate" -v b="${SETUP_BEST[$lns-$s]:-0}" 'BEGIN {exit !(a > b)}'; then SETUP_BEST[$lns-$s]=$rate; fi
  fi
}

# ---------------------------------------------------------------- resync: one case
RESYNC_ROWS=()
RESYNC_NOTES=()
run_resync() { # run_resync LNS SESSIONS JOURNAL HEAP (lnsd: on|off, "default" or node's --max-old-space-size in MB)
  local lns=$1 want=$2 journal=$3 heap=$4 cd k label per size_m t0 auth=radius heap_cell="-"
  label="resync $lns $want sessions"
  cd=$WORK/resync-$lns; mkdir -p "$cd"
  LNSD_NODE_OPTS=""
  if [ "$lns" = lnsd ]; then
    label="$label journal $journal heap $heap"; cd=$WORK/resync-$lns-$want-journal-$journal-heap-$heap; mkdir -p "$cd"
    [ "$heap" = default ] || LNSD_NODE_OPTS="--max-old-space-size=$heap"
    # shellcheck disable=SC2086 # zero or one word
    heap_cell="journal $journal; V8 heap $(node $LNSD_NODE_OPTS -e 'process.stdout.write(String(Math.round(require("v8").getHeapStatistics().heap_size_limit / 1048576)))') MB ($heap)"
  fi
  NODE_PGID=()
  [ "$lns" = lnsd ] && auth=$RESYNC_AUTH
  CFG_POOL=$(pool_for "$want"); CFG_ECHO=$RESYNC_ECHO; CFG_AUTH=$auth; CFG_METRICS=1; CFG_JOURNAL=$journal
  for k in 1 2; do write_config "$lns" "$cd/n$k" "$k" "$RESYNC_HB"; done
  if ! start_cluster "$lns" "$cd" 1 "$RESYNC_HB" "$label"; then
    RESYNC_ROWS+=("| $lns | $heap_cell | $want | not measured: no master | | | | | | | | |")
    RESYNC_NOTES+=("$label: $START_FAIL")
    return 0
  fi
  ip -n "$NS_LAC" route replace "$BIND/32" via "$(node_ip 1)"
  per=$((want / (RESYNC_LACS * RESYNC_TUNNELS)))
  # l2tpns mishandles several tunnels in setup from one address and port: one LAC per tunnel
  local lacs=$RESYNC_LACS tunnels=$RESYNC_TUNNELS
  [ "$lns" = l2tpns ] && { lacs=$((RESYNC_LACS * RESYNC_TUNNELS)); tunnels=1; }
  log "$label: $lacs LACs x $tunnels tunnels x $per calls via n1 ($auth authentication, pool $CFG_POOL), at most $RESYNC_LIMIT s"
  local rss_idle; rss_idle=$(rss_kb "${NODE_PGID[1]}")
  start_lacs "$cd" "$lacs" "$tunnels" "$per" "$RESYNC_LIMIT" 10000
  PROGRESS_LOG=1 wait_lacs "$cd" $((RESYNC_LIMIT + 30))
  local online of start last
  read -r online of start last <<< "$LACS_SUMMARY"
  local took="$(( (last - start) / 1000 )) s"
  if [ -n "$COLLAPSE" ]; then
    RESYNC_ROWS+=("| $lns | $heap_cell | $want | $PEAK at the peak, $(progress_of "$cd") when stopped | master lost the sessions | $auth | not measured: no slave started | | | $((rss_idle / 1024)) / $(( $(rss_kb "${NODE_PGID[1]}") / 1024 )) / - / - | - | - |")
    RESYNC_NOTES+=("$label: $COLLAPSE; the master's last log lines: $(tail -2 "$cd/n1/lns.log" | cut -c1-160 | tr '\n' ' ')")
    log "$label: $COLLAPSE"
    stop_lacs
    stop_group "${NODE_PGID[1]}"
    return 0
  fi
  if [ "$online" != "$of" ]; then
    took="not all up: $online, the last $(( (last - start) / 1000 )) s after the start (then ${STALLED:-the limit})"
    RESYNC_NOTES+=("$label: not all up (${STALLED:-$RESYNC_LIMIT s}): $(lacs_failures "$cd")")
  fi
  log "$label: $online/$of online ($took)"
  if ! is_our_group "${NODE_PGID[1]}"; then
    RESYNC_ROWS+=("| $lns | $heap_cell | $want | $online/$of | $took | the master exited | | | | | | |")
    RESYNC_NOTES+=("$label: the master exited during the logins: $(tail -3 "$cd/n1/lns.log" "$cd/n1/stderr.log" 2>/dev/null | grep -v '^==>' | grep -v '^$' | tail -3 | tr '\n' ' ' | cut -c1-300)")
    stop_lacs
    return 0
  fi
  sleep 5
  local online_now rss_before
  online_now=$(progress_of "$cd")
  [ "$lns" = lnsd ] && online_now=$(metric 1 lnsd_sessions_online)
  rss_before=$(rss_kb "${NODE_PGID[1]}")
  size_m=$(stat -c %s "$cd/n1/lns.log" 2>/dev/null || echo 0)
  # The new slave: from just before its start to its line and the master's (polled every 50 ms;
  # lnsd's lines carry the time to the ms, which is used when there is one).
  local t_slave="" t_master="" slave_line="" master_line="" peak=$rss_before r i=0 deadline
  t0=$(now_ms)
  start_node "$lns" "$cd/n2" 2 || true
  deadline=$(( t0 + RESYNC_WAIT * 1000 ))
  while [ "$(now_ms)" -lt "$deadline" ]; do
    if [ -z "$t_slave" ]; then
      slave_line=$(grep -m1 'uptodate with master' "$cd/n2/lns.log" 2>/dev/null || true)
      if [ -n "$slave_line" ]; then t_slave=$(log_ms "$slave_line"); t_slave=${t_slave:-$(now_ms)}; fi
    fi
    if [ "$lns" = lnsd ] && [ -z "$t_master" ]; then
      master_line=$(tail -c +"$((size_m + 1))" "$cd/n1/lns.log" 2>/dev/null | grep -m1 'is up to date' || true)
      if [ -n "$master_line" ]; then t_master=$(log_ms "$master_line"); t_master=${t_master:-$(now_ms)}; fi
    fi
    if [ $((i % 10)) = 0 ]; then r=$(rss_kb "${NODE_PGID[1]}"); [ "${r:-0}" -gt "$peak" ] && peak=$r; fi
    i=$((i + 1))
    [ -n "$t_slave" ] && { [ "$lns" != lnsd ] || [ -n "$t_master" ]; } && break
    is_our_group "${NODE_PGID[2]}" || break
    is_our_group "${NODE_PGID[1]}" || break
    sleep 0.05
  done
  # 10 s more: memory settles, and does the slave stay up to date?
  for _ in $(seq 20); do r=$(rss_kb "${NODE_PGID[1]}"); [ "${r:-0}" -gt "$peak" ] && peak=$r; sleep 0.5; done
  local rss_after rss_slave records dropped elections exited=""
  rss_after=$(rss_kb "${NODE_PGID[1]}"); rss_slave=$(rss_kb "${NODE_PGID[2]}")
  records=$(sed -n 's/.*uptodate with master\. (.*, \([0-9]*\) records).*/\1/p' <<< "$slave_line")
  dropped=$(tail -c +"$((size_m + 1))" "$cd/n1/lns.log" 2>/dev/null | grep -c 'no longer up to date' || true)
  elections=$(grep -c "$MASTER_LINE" "$cd/n2/lns.log" 2>/dev/null || true)
  for k in 1 2; do is_our_group "${NODE_PGID[k]}" || exited="$exited n$k"; done
  [ -z "$exited" ] || RESYNC_NOTES+=("$label: exited during the resync:$exited")
  [ "${dropped:-0}" = 0 ] || RESYNC_NOTES+=("$label: the master dropped the slave: $(tail -c +"$((size_m + 1))" "$cd/n1/lns.log" | grep 'no longer up to date' | head -2 | cut -c1-200 | tr '\n' ' ')")
  [ "${elections:-0}" = 0 ] || RESYNC_NOTES+=("$label: the new slave declared itself master: $(grep -m1 "$MASTER_LINE" "$cd/n2/lns.log" | cut -c1-160)")
  # What the two nodes logged about the resync, kept as evidence.
  { grep -E 'cluster|uptodate|up to date|snapshot|slave|master|held up|stalled' "$cd/n2/lns.log" 2>/dev/null | head -20 | sed 's/^/    n2: /'
    tail -c +"$((size_m + 1))" "$cd/n1/lns.log" 2>/dev/null | grep -E 'cluster|up to date|snapshot|slave|held up|stalled' | head -20 | sed 's/^/    n1: /'; } > "$cd/resync-lines.txt" || true
  cat "$cd/resync-lines.txt" >&2
  stop_lacs
  for k in 1 2; do stop_group "${NODE_PGID[k]}"; done
  local cell_s="not within $RESYNC_WAIT s" cell_m="n/a (l2tpns logs none)"
  [ -z "$t_slave" ] || cell_s="$(awk -v d=$((t_slave - t0)) 'BEGIN {printf "%.2f s", d / 1000}')"
  if [ "$lns" = lnsd ]; then cell_m="not within $RESYNC_WAIT s"; [ -z "$t_master" ] || cell_m="$(awk -v d=$((t_master - t0)) 'BEGIN {printf "%.2f s", d / 1000}')"; fi
  local row
  row="| $lns | $heap_cell | $want | $online/$of, ${online_now:-?} at the slave's start | $took | $auth | $cell_s | ${records:-$([ "$lns" = l2tpns ] && echo "n/a (l2tpns names none)" || echo "?")} | $cell_m | $((rss_idle / 1024)) / $((rss_before / 1024)) / $((peak / 1024)) / $((rss_after / 1024)) | $((rss_slave / 1024)) | ${dropped:-0} / ${elections:-0} |"
  RESYNC_ROWS+=("$row")
  echo "$row" >&2
}

# ---------------------------------------------------------------- the parts
machine_line() {
  local dirty; dirty=$(git -C "$ROOT" diff --name-only HEAD -- packages 2>/dev/null | tr '\n' ' ' | sed 's/ $//')
  echo "Machine: $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), Linux $(uname -r), $(date -u '+%Y-%m-%d %H:%M UTC'). Node $(node --version), lnsd $(git -C "$ROOT" rev-parse --short HEAD)${dirty:+ (+ uncommitted changes in $dirty)}, l2tpns $(dpkg-query -W -f='${Version}' l2tpns 2>/dev/null || echo '?') (Debian), FreeRADIUS $(dpkg-query -W -f='${Version}' freeradius 2>/dev/null | cut -d+ -f1 || echo '?')."
}
: > "$WORK/results.md"

if has_part failover; then
  CFG_POOL=$POOL; CFG_AUTH=radius; CFG_ECHO=10; CFG_METRICS=0
  T_PART=$(now_ms)
  for lns in $LNSS; do
    for n in "${NODE_COUNTS[@]}"; do
      for victim in "${VICTIMS[@]}"; do
        for via in $(vias "$n" "$victim"); do
          [ -z "$LNSD_SKIPPED" ] || [ "$lns" != lnsd ] || continue
          time_left "failover $lns N=$n $victim via n$via" || continue
          run_case "$lns" "$n" "$victim" "$HB_TIMEOUT" "$via" || true
        done
      done
    done
    if [ "$lns" = l2tpns ] && [ -n "$DEFAULT_HB_CASE" ]; then
      read -r dn dv <<< "$DEFAULT_HB_CASE"
      time_left "failover l2tpns N=$dn $dv hb 150" && { run_case l2tpns "$dn" "$dv" 150 "$(vias "$dn" "$dv" | awk '{print $1}')" || true; }
    fi
  done
  log "failover: all cases in $(( ($(now_ms) - T_PART) / 1000 )) s"
  {
    echo
    echo "## Cluster failover, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    machine_line
    echo "Rig (bench/cluster.sh): N LNS nodes, each in its own namespace on one bridge (the cluster LAN, multicast $MCAST on eth0), the bind address $BIND on every node's lo, a FreeRADIUS per node; the LAC (testkit, $SESSIONS sessions over $TUNNELS tunnels, CHAP, IPCP) routes to the bind address via the node named in \"via\". cluster_hb_interval 1, cluster_master_min_adv 1. Probes, per session every ${PROBE_MS} ms through the tunnel: an ICMP echo request to the LNS's TUN address ($BIND; answered by the node the LAC's traffic reaches) and an LCP Echo-Request (answered by the master: an l2tpns slave forwards LCP to it; a reply counts only if it comes within ${PROBE_MS} ms); the LAC sends a HELLO after each second without a control message from the LNS."
    echo "Kill: SIGKILL to the victim's process group (master: node 1; slave: node 2), after 3 s of probing. Takeover: kill -> a survivor's \"$MASTER_LINE\" log line (polled every 20 ms; later such lines within 6 s and survivors that exited are listed after it). Gap: per session, the longest time without a reply, from 1 s before the kill to 6 s after the takeover (the kill when no takeover is due); median / max over sessions, in ms (a session that never answered again shows the whole window). Answering before the kill: sessions with a reply in the second before it. Passing: sessions with a reply between 5 and 6 s after the takeover (or the kill). StopCCN / CDN / given up: tunnels the LNS closed, calls it cleared on a tunnel that stayed up, tunnels the LAC gave up on (control messages unacknowledged through its retransmissions). Retransmitted: control messages the LAC sent again; unacked: established tunnels with a message still unacknowledged at the end. Pool: \"not found in the pool\" lines the survivors logged after the kill."
    echo
    echo "| LNS | N | victim | via | cluster_hb_timeout | takeover | answering before the kill (ping / LCP) | ping gap median / max (ms) | LCP gap median / max (ms) | passing 5 s after (ping / LCP) | StopCCN / CDN / given up | retransmitted, unacked tunnels | pool |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    for r in "${ROWS[@]}"; do echo "$r"; done
    if [ ${#NOTES[@]} -gt 0 ] || [ -n "$LNSD_SKIPPED" ]; then
      echo
      [ -z "$LNSD_SKIPPED" ] || echo "- $LNSD_SKIPPED"
      for x in "${NOTES[@]}"; do echo "- $x"; done
    fi
  } >> "$WORK/results.md"
fi

if has_part setup; then
  CFG_POOL=$(pool_for "$SETUP_SESSIONS"); CFG_AUTH=radius; CFG_ECHO=10; CFG_METRICS=1
  T_PART=$(now_ms)
  for round in $(seq "$SETUP_ROUNDS"); do
    for lns in $SETUP_LNSS; do
      for sl in "${SETUP_SLAVES[@]}"; do
        time_left "setup $lns slaves=$sl round $round" || continue
        run_setup "$lns" "$sl" "$round"
      done
    done
  done
  log "setup: all cases in $(( ($(now_ms) - T_PART) / 1000 )) s"
  {
    echo
    echo "## Cluster session setup, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    machine_line
    echo "Rig (bench/cluster.sh, BENCH_PARTS=setup): as for failover: LNS nodes in namespaces on one bridge, the bind address $BIND on each, a FreeRADIUS (2 threads) per node, cluster_hb_interval 1, cluster_hb_timeout $SETUP_HB ($(awk -v h="$SETUP_HB" 'BEGIN {print h / 10}') s; l2tpns raises anything lower than 15 to 15), cluster_master_min_adv 1, lnsd with cluster_secret and state_directory (its journal). A fresh cluster per case: node 1 the master, then the slaves, each until it logs \"Now uptodate with master.\"."
    echo "Load: $SETUP_TUNNELS LAC processes (testkit LAC, bench/cluster-lac.mjs without probes) started together, each with its own UDP socket and one tunnel of $((SETUP_SESSIONS / SETUP_TUNNELS)) calls (at most 100 between ICRQ and ICRP), $SETUP_SESSIONS sessions in all, routed to the master; each logs in with PPP (CHAP through the master's FreeRADIUS, accounting on, IPCP). Time: from the first LAC's start (just before its SCCRQ) to the last session's IPCP up, over all LACs (one clock). CPU: utime + stime of the LNS processes over the logins (master; slaves summed). Output commit (lnsd): from the master's lnsd_cluster_commit_latency_seconds, the turns whose output waited for the slaves during the logins and their mean wait. Dropped / elections: \"slave ... is no longer up to date\" lines on the master, \"declaring myself the master\" lines on any node, during the logins. $SETUP_ROUNDS rounds, each going through every LNS and slave count in turn."
    echo
    echo "| LNS | slaves | round | online | time to all online | sessions/s | master CPU (s) | slaves' CPU (s) | output commit: turns waited, mean wait | slaves dropped / elections |"
    echo "|---|---|---|---|---|---|---|---|---|---|"
    for r in "${SETUP_ROWS[@]}"; do echo "$r"; done
    echo
    echo "Best round of each (sessions/s; cases with a dropped slave, an election or a node that exited are left out):"
    echo
    for sl in "${SETUP_SLAVES[@]}"; do
      a=${SETUP_BEST[lnsd-$sl]:-}; b=${SETUP_BEST[l2tpns-$sl]:-}
      line="- $sl slave(s): lnsd ${a:-n/a}, l2tpns ${b:-n/a}"
      [ -n "$a" ] && [ -n "$b" ] && line="$line; lnsd / l2tpns = $(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.2f", a / b}')"
      for l in lnsd l2tpns; do
        x=${SETUP_BEST[$l-$sl]:-}; z=${SETUP_BEST[$l-0]:-}
        [ "$sl" != 0 ] && [ -n "$x" ] && [ -n "$z" ] && line="$line; $l with $sl / with 0 = $(awk -v a="$x" -v b="$z" 'BEGIN {printf "%.2f", a / b}')"
      done
      echo "$line"
    done
    if [ ${#SETUP_NOTES[@]} -gt 0 ]; then echo; for x in "${SETUP_NOTES[@]}"; do echo "- $x"; done; fi
  } >> "$WORK/results.md"
fi

if has_part resync; then
  T_PART=$(now_ms)
  for lns in $RESYNC_LNSS; do
    cases=("${RESYNC_LNSD[@]}")
    [ "$lns" = l2tpns ] && cases=("$RESYNC_L2TPNS_SESSIONS/-/-")
    for c in "${cases[@]}"; do
      IFS=/ read -r want journal heap <<< "$c"
      time_left "resync $lns $c" || continue
      run_resync "$lns" "$want" "$journal" "${heap:-default}"
    done
  done
  log "resync: all cases in $(( ($(now_ms) - T_PART) / 1000 )) s"
  {
    echo
    echo "## Cluster resync, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    machine_line
    echo "Rig (bench/cluster.sh, BENCH_PARTS=resync): two LNS nodes in namespaces on one bridge, as for failover; cluster_hb_interval 1, cluster_hb_timeout $RESYNC_HB ($(awk -v h="$RESYNC_HB" 'BEGIN {print h / 10}') s), echo_timeout $RESYNC_ECHO, lnsd with cluster_secret and metrics, and state_directory or not as the journal column says. Node 1 alone becomes the master; $RESYNC_LACS LAC processes (bench/cluster-lac.mjs without probes, one UDP socket each) with $RESYNC_TUNNELS tunnels each (at most 100 calls per tunnel between ICRQ and ICRP) log the sessions in through it (CHAP, IPCP), for at most $RESYNC_LIMIT s. Authentication: local = lnsd's chap-secrets beside its startup-config (no RADIUS server set, so no accounting); radius = FreeRADIUS, accounting on (l2tpns has no local authentication)."
    echo "Then node 2 starts. Slave up to date: from just before node 2's start to its \"Now uptodate with master.\" line (lnsd: the line's own time, to the ms; l2tpns: when the script saw it, polled every 50 ms); records: the count that line names (lnsd). Master's line: to the master's \"slave ... is up to date\" line (lnsd only; l2tpns logs none). VmRSS of the master (MB): idle before the logins / with the sessions up, before the slave / peak while the slave synced and 10 s after (sampled every 0.5 s) / 10 s after the slave's line; of the slave 10 s after. Dropped / elections: \"no longer up to date\" lines on the master and \"declaring myself the master\" lines on the slave, until 10 s after. Journal: lnsd's state_directory set (on, as in the other parts and as docs/cluster.md recommends) or not (off; a cluster keeps and replicates its records without it). V8 heap limit: lnsd's (node's heap_size_limit; \"default\" is V8's own choice on this machine, a number is node's --max-old-space-size for both nodes). A case stops at the logins, with no slave, when the sessions online at the LACs fall by a tenth from their peak (the master lost them)."
    echo
    echo "| LNS | lnsd: journal, V8 heap limit | sessions asked | online (LACs), online at the slave's start (LNS) | logins took | authentication | slave start -> \"Now uptodate with master.\" | records in that line | slave start -> master's \"slave ... is up to date\" | master VmRSS idle / loaded / peak / after (MB) | slave VmRSS (MB) | dropped / elections |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
    for r in "${RESYNC_ROWS[@]}"; do echo "$r"; done
    if [ ${#RESYNC_NOTES[@]} -gt 0 ]; then echo; for x in "${RESYNC_NOTES[@]}"; do echo "- $x"; done; fi
  } >> "$WORK/results.md"
fi
if [ ${#NOT_RUN[@]} -gt 0 ]; then
  { echo; echo "Not run (BENCH_MAX_MINUTES $MAX_MINUTES reached): ${NOT_RUN[*]}"; } >> "$WORK/results.md"
fi
log "all parts in $(( ($(now_ms) - T_START) / 1000 )) s"
cat "$WORK/results.md"
[ -f "$RESULTS" ] || printf '# Benchmark results\n\nAppended by the scripts in bench/ (see README.md).\n' > "$RESULTS"
cat "$WORK/results.md" >> "$RESULTS"
log "appended to $RESULTS"
