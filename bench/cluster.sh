#!/bin/bash
# Cluster failover benchmark: what a LAC's sessions see when one node of an LNS cluster dies
# (kill -9), l2tpns 2.4.1 and lnsd in the same rig.
#
# Network namespaces this script creates (lnsclu-PID-...) and deletes at the end, also on failure:
#   lan    the cluster LAN: bridge br0 (multicast snooping off), one port per node and the LAC
#   n1..3  one LNS node each: "eth0" on the LAN (10.231.0.11..13/24, the cluster_interface), the
#          shared bind_address 10.232.0.1/32 on lo (also its TUN address), its TUN device tun0 with
#          the pool 10.233.0.0/20 routed to it, and its own FreeRADIUS on 127.0.0.1 (every user
#          with the bench password; accounting on)
#   lac    the LAC (bench/cluster-lac.mjs, testkit LAC) at 10.231.0.100, its route to the bind
#          address via one node's LAN address, chosen per case among the nodes that survive
# Each node's startup-config: cluster_address 239.192.13.13, cluster_interface eth0,
# cluster_hb_interval 1, cluster_hb_timeout BENCH_HB_TIMEOUT (5), cluster_master_min_adv 1; lnsd
# also gets cluster_secret and state_directory.
#
# Per implementation (BENCH_LNS), per N (BENCH_NODES: 2 3), per victim (BENCH_VICTIMS: master
# slave), on a fresh cluster: node 1 starts and becomes master, nodes 2 (and 3, 1.1 s later, so
# that node 2 is the older slave and wins the next election) start and catch up; S sessions
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
# takeover (or the kill, when no master has to take over), median and max over sessions, the sessions with a reply between 5 and 6 s after the takeover, and what the LAC got:
# StopCCN, CDN, tunnels it gave up on (unacknowledged control messages), retransmissions.
# With BENCH_DEFAULT_HB (default "2 master") one more l2tpns case runs with l2tpns's default
# cluster_hb_timeout 150 (15 s); "" skips it.
# lnsd is skipped, with a message, when its first node does not log "declaring myself the master"
# within 10 s (no cluster yet).
#
# Usage: sudo bench/cluster.sh     (needs root, FreeRADIUS 3.2, Debian's l2tpns, npx tsc -b)
# Environment: BENCH_LNS ("l2tpns lnsd"), BENCH_NODES ("2 3"), BENCH_VICTIMS ("master slave"),
#   BENCH_SESSIONS (200), BENCH_TUNNELS (4), BENCH_HB_TIMEOUT (5), BENCH_DEFAULT_HB ("2 master"),
#   BENCH_VIA3 ("3 2"), BENCH_RESULTS, BENCH_KEEP=1 keeps the work directory with every log.
# A full run (both LNSs, 200 sessions) took about 5 minutes here, l2tpns's part about 3.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
LNSS=${BENCH_LNS:-l2tpns lnsd}
read -r -a NODE_COUNTS <<< "${BENCH_NODES:-2 3}"
read -r -a VICTIMS <<< "${BENCH_VICTIMS:-master slave}"
SESSIONS=${BENCH_SESSIONS:-200}
TUNNELS=${BENCH_TUNNELS:-4}
HB_TIMEOUT=${BENCH_HB_TIMEOUT:-5}
DEFAULT_HB_CASE=${BENCH_DEFAULT_HB-2 master}
VIA3=${BENCH_VIA3:-3 2}
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

[ "$(id -u)" = 0 ] || die "needs root (network namespaces, TUN devices, l2tpns)"
command -v freeradius >/dev/null || die "freeradius not installed"
[ -f "$ROOT/packages/testkit/dist/src/index.js" ] || die "testkit not built: run 'npx tsc -b' in $ROOT first"
if [ "$TUNNELS" -lt 1 ] || [ $((SESSIONS % TUNNELS)) != 0 ]; then die "BENCH_SESSIONS ($SESSIONS) must be a multiple of BENCH_TUNNELS ($TUNNELS)"; fi
for l in $LNSS; do
  case $l in
    l2tpns) [ -x /usr/sbin/l2tpns ] || die "l2tpns not installed" ;;
    lnsd) [ -f "$LNSD" ] || die "$LNSD missing: run 'npx tsc -b' in $ROOT first" ;;
    *) die "unknown LNS $l (BENCH_LNS: l2tpns, lnsd)" ;;
  esac
done
MAX_NODES=0
for n in "${NODE_COUNTS[@]}"; do
  case $n in 2|3) ;; *) die "BENCH_NODES: 2 or 3, not $n" ;; esac
  [ "$n" -gt "$MAX_NODES" ] && MAX_NODES=$n
done
[ -z "$DEFAULT_HB_CASE" ] || MAX_NODES=$(( MAX_NODES > ${DEFAULT_HB_CASE%% *} ? MAX_NODES : ${DEFAULT_HB_CASE%% *} ))

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
write_config() { # write_config LNS DIR NODE HB_TIMEOUT
  local lns=$1 d=$2 hb=$4
  mkdir -p "$d"
  # debug: l2tpns logs its cluster events at levels 0 and 1 (3 adds a line per busy loop); lnsd
  # logs "Now uptodate with master." as info, which needs 3
  local debug=2; [ "$lns" = lnsd ] && debug=3
  cat > "$d/startup-config" <<EOF
set debug $debug
set log_file "$d/lns.log"
set bind_address $BIND
set tundevicename tun0
set primary_radius 127.0.0.1
set radius_secret "$RADIUS_SECRET"
set radius_authtypes "chap,pap"
set radius_accounting yes
set cli_bind_address 127.0.0.1
set echo_timeout 10
set cluster_address $MCAST
set cluster_interface eth0
set cluster_hb_interval 1
set cluster_hb_timeout $hb
set cluster_master_min_adv 1
EOF
  case $lns in
    l2tpns) printf 'set pid_file "%s/l2tpns.pid"\nset lock_pages no\nset send_garp no\n' "$d" >> "$d/startup-config" ;;
    lnsd) printf 'set iftun_address %s\nset cluster_secret "%s"\nset state_directory "%s/state"\n' "$BIND" "$CLUSTER_SECRET" "$d" >> "$d/startup-config" ;;
  esac
  echo "$POOL" > "$d/ip_pool"
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
      ip netns exec "$ns" setsid node "$LNSD" -c "$d/startup-config" >"$d/stderr.log" 2>&1 </dev/null &
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
  ip -n "$ns" route replace "$POOL" dev tun0 2>/dev/null || log "$lns n$k: no tun0 yet"
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

# ---------------------------------------------------------------- one case
ROWS=()
NOTES=()
LNSD_SKIPPED=""
run_case() { # run_case LNS N VICTIM HB_TIMEOUT VIA (the node the LAC's route goes through)
  local lns=$1 n=$2 victim=$3 hb=$4 via=$5 cd k vk kill_ms take_ms="" new_master="" t_ref master_wait
  local label="$lns N=$n $victim via n$via hb $hb"
  cd=$WORK/$lns-n$n-$victim-via$via-hb$hb; mkdir -p "$cd"
  NODE_PGID=()
  local t_case; t_case=$(now_ms)
  for k in $(seq "$n"); do write_config "$lns" "$cd/n$k" "$k" "$hb"; done
  # The first master: a node alone takes over once its heartbeat timeout has passed.
  master_wait=$(( hb / 10 + 5 )); [ "$lns" = lnsd ] && master_wait=10
  if ! start_node "$lns" "$cd/n1" 1 || ! wait_line "$cd/n1/lns.log" "$MASTER_LINE" "$master_wait"; then
    grep -q "$MASTER_LINE" "$cd/n1/stderr.log" 2>/dev/null || {
      if [ "$lns" = lnsd ]; then
        LNSD_SKIPPED="lnsd skipped: its first node did not log \"$MASTER_LINE\" within 10 s of starting (no cluster yet). Last lines: $(tail -3 "$cd/n1/lns.log" "$cd/n1/stderr.log" 2>/dev/null | grep -v '^==>' | grep -v '^$' | tail -3 | tr '\n' ' ' | cut -c1-400)"
        log "$LNSD_SKIPPED"
        stop_group "${NODE_PGID[1]}"
        return 1
      fi
      tail -20 "$cd/n1/stderr.log" "$cd/n1/lns.log" >&2; die "$label: node 1 did not become master"
    }
  fi
  # The slaves, each until it says it is up to date with the master. A slave that hears no
  # heartbeat within cluster_hb_timeout of its start elects itself, and l2tpns then leaves when the
  # older master's heartbeat arrives ("They're an older master than me so I'm gone!"): such a node
  # is started again (twice at most), and the case says so.
  local slave_line='uptodate with master' try
  for k in $(seq 2 "$n"); do
    [ "$k" -gt 2 ] && sleep 1.1   # node 2 the older slave: it wins the next election (l2tpns: longest uptime)
    for try in 1 2 3; do
      start_node "$lns" "$cd/n$k" "$k" || true
      wait_line "$cd/n$k/lns.log" "$slave_line" 10 && break
      if is_our_group "${NODE_PGID[k]}"; then log "$label: node $k logged no \"$slave_line\" within 10 s"; break; fi
      NOTES+=("$label: node $k left at its start (try $try): $(grep -E 'declaring|gone|exit' "$cd/n$k/lns.log" "$cd/n$k/stderr.log" 2>/dev/null | sed 's/^[^:]*://' | tail -2 | tr '\n' ' ' | cut -c1-240)")
      log "$label: node $k left at its start; starting it again"
      [ "$try" = 3 ] && die "$label: node $k did not start"
      mv "$cd/n$k/lns.log" "$cd/n$k/lns.log.try$try" 2>/dev/null || true
    done
  done
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
T_START=$(now_ms)
for lns in $LNSS; do
  for n in "${NODE_COUNTS[@]}"; do
    for victim in "${VICTIMS[@]}"; do
      for via in $(vias "$n" "$victim"); do
        [ -z "$LNSD_SKIPPED" ] || [ "$lns" != lnsd ] || continue
        run_case "$lns" "$n" "$victim" "$HB_TIMEOUT" "$via" || true
      done
    done
  done
  if [ "$lns" = l2tpns ] && [ -n "$DEFAULT_HB_CASE" ]; then
    read -r dn dv <<< "$DEFAULT_HB_CASE"
    run_case l2tpns "$dn" "$dv" 150 "$(vias "$dn" "$dv" | awk '{print $1}')" || true
  fi
done
log "all cases in $(( ($(now_ms) - T_START) / 1000 )) s"

# ---------------------------------------------------------------- report
{
  echo
  echo "## Cluster failover, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "Machine: $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), Linux $(uname -r), $(date -u '+%Y-%m-%d %H:%M UTC'). Node $(node --version), lnsd $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet 2>/dev/null || echo ' (+ uncommitted changes)'), l2tpns $(dpkg-query -W -f='${Version}' l2tpns 2>/dev/null || echo '?') (Debian)."
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
} > "$WORK/results.md"
cat "$WORK/results.md"
[ -f "$RESULTS" ] || printf '# Benchmark results\n\nAppended by the scripts in bench/ (see README.md).\n' > "$RESULTS"
cat "$WORK/results.md" >> "$RESULTS"
log "appended to $RESULTS"
