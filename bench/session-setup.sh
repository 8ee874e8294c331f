#!/bin/bash
# Session-setup benchmark: lnsd beside the reference l2tpns 2.4.1, same load.
#
# Everything runs inside one network namespace this script creates (named lnsbench-PID) and
# deletes at the end: a veth "eth0" carrying the LNS address 198.19.0.1 (RFC 2544 benchmark
# space), FreeRADIUS 3.2.1 on 127.0.0.1:1812/1813, the LNS under test with its own TUN device, and
# the test LAC (packages/testkit, `lac`). One LNS runs at a time, both against the same FreeRADIUS,
# the same pool (198.18.0.0/18, 16384 addresses), the same tunnel secret and the same LAC load: T
# tunnels x S calls, each call logging in with PPP (LCP, CHAP via RADIUS, IPCP) as its own user
# (bench-T-S; FreeRADIUS's users file has a DEFAULT Cleartext-Password entry), accounting on.
#
# Measured, for each LNS and each N:
#   setup time   from just before the LAC sends its first SCCRQ until the last of the N sessions
#                has IPCP up (the LAC's own clock); sessions/s = N / setup time
#   memory       the LNS process's VmRSS (/proc/PID/status) and Pss (/proc/PID/smaps_rollup)
#                before the load (idle, pool loaded) and with the N sessions up; per session =
#                (with - before) / N. For l2tpns also its shared-memory mappings (session,
#                tunnel, RADIUS tables, preallocated for its compile-time maximum).
# Figures are printed and appended to bench/RESULTS.md.
#
# Usage: bench/session-setup.sh [N...]        (default: 1000 10000; needs root, built lnsd)
# Environment: BENCH_PER_TUNNEL (calls per tunnel, default 500), BENCH_KEEP=1 keeps the work dir.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SIZES=("$@"); [ ${#SIZES[@]} -gt 0 ] || SIZES=(1000 10000)
PER_TUNNEL=${BENCH_PER_TUNNEL:-500}
PREFIX=lnsbench-$$
NS=$PREFIX
WORK=$(mktemp -d "/tmp/$PREFIX.XXXXXX")
LNS_IP=198.19.0.1
POOL=198.18.0.0/18
RADIUS_SECRET=bench-radius-secret
# No tunnel secret by default: l2tpns 2.4.1 refuses the testkit LAC's hidden AVPs (ICRQ: "Short
# hidden AVP", tunnel shut down with "Invalid mandatory AVP"); BENCH_TUNNEL_SECRET=S sets one.
TUNNEL_SECRET=${BENCH_TUNNEL_SECRET:-}
PASSWORD=bench
LAC_TIMEOUT=150           # s, for L2TP up and then again for PPP online
LNSD=$ROOT/packages/lnsd/dist/src/bin/lnsd.js
LAC=$ROOT/packages/testkit/dist/src/bin/lac.js
RESULTS=${BENCH_RESULTS:-$ROOT/bench/RESULTS.md}

log() { echo "[bench $(date +%T)] $*" >&2; }
die() { echo "[bench] ERROR: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (network namespace, TUN devices, l2tpns)"
for f in "$LNSD" "$LAC"; do [ -f "$f" ] || die "$f missing: run 'npx tsc -b' in $ROOT first"; done
command -v freeradius >/dev/null || die "freeradius not installed"
[ -x /usr/sbin/l2tpns ] || die "l2tpns not installed"

# ---------------------------------------------------------------- our PIDs and namespace
# shellcheck source=bench/namespace.sh
source "$ROOT/bench/namespace.sh"
make_namespace "$LNS_IP"

# ---------------------------------------------------------------- FreeRADIUS (shared by both runs)
# shellcheck source=bench/freeradius.sh
source "$ROOT/bench/freeradius.sh"
start_freeradius "$NS" "$LNS_IP" 8
log "namespace $NS, FreeRADIUS pid $RADIUS_PID on 127.0.0.1:1812"

# ---------------------------------------------------------------- LNS configs
# The settings both understand, the same for both.
common_config() { # common_config LOGFILE
  cat <<EOF
set debug ${BENCH_DEBUG:-1}
set log_file "$1"
set bind_address $LNS_IP
$([ -n "$TUNNEL_SECRET" ] && echo "set l2tp_secret \"$TUNNEL_SECRET\"")
set primary_dns 198.19.0.53
set secondary_dns 198.19.0.54
set primary_radius 127.0.0.1
set radius_secret "$RADIUS_SECRET"
set radius_authtypes "chap,pap"
set radius_accounting yes
set cli_bind_address 127.0.0.1
set echo_timeout 10
EOF
}

LNS_PID=""
start_lnsd() {
  local d=$WORK/lnsd; mkdir -p "$d"
  { common_config "$d/lnsd.log"; echo "set tundevicename tun0"; } > "$d/startup-config"
  echo "$POOL" > "$d/ip_pool"
  rm -f "$d/lnsd.log"
  ip netns exec "$NS" node "$LNSD" -c "$d/startup-config" >"$d/stdout.log" 2>&1 </dev/null &
  LNS_PID=$!; PIDS+=("$LNS_PID")
  for _ in $(seq 100); do
    nsx ss -Hlun "src $LNS_IP:1701" 2>/dev/null | grep -q . && nsx ip link show tun0 >/dev/null 2>&1 && return 0
    kill -0 "$LNS_PID" 2>/dev/null || break
    sleep 0.1
  done
  tail -20 "$d/stdout.log" "$d/lnsd.log" 2>/dev/null; die "lnsd did not start"
}
start_l2tpns() {
  # l2tpns reads ip_pool and users from /etc/l2tpns (compiled in): bind-mount our directory there
  # inside a private mount namespace. ip netns exec, unshare, sh and setsid all exec: $! is
  # l2tpns's PID. setsid: l2tpns signals its whole process group when it shuts down.
  local d=$WORK/l2tpns; mkdir -p "$d"
  { common_config "$d/l2tpns.log"; cat <<EOF
set pid_file "$d/l2tpns.pid"
set lock_pages no
set send_garp no
set cluster_interface eth0
# l2tpns ignores L2TP until it has elected itself cluster master (cluster_hb_timeout, 3.1 s here)
set cluster_hb_timeout 31
EOF
  } > "$d/startup-config"
  echo "$POOL" > "$d/ip_pool"
  : > "$d/users"
  rm -f "$d/l2tpns.log"   # the readiness check below reads it
  ip netns exec "$NS" unshare -m sh -c "mount --bind '$d' /etc/l2tpns && exec setsid /usr/sbin/l2tpns -c /etc/l2tpns/startup-config" \
    >"$d/stderr.log" 2>&1 </dev/null &
  LNS_PID=$!; PIDS+=("$LNS_PID")
  for _ in $(seq 200); do
    grep -q 'declaring myself the master' "$d/l2tpns.log" 2>/dev/null && break
    kill -0 "$LNS_PID" 2>/dev/null || break
    sleep 0.1
  done
  grep -q 'declaring myself the master' "$d/l2tpns.log" 2>/dev/null || { tail -20 "$d/stderr.log" "$d/l2tpns.log"; die "l2tpns did not become master"; }
  [ "$(cat /proc/"$LNS_PID"/comm)" = l2tpns ] || die "PID $LNS_PID is $(cat /proc/"$LNS_PID"/comm), not l2tpns"
  sleep 0.5
}

# mem PID -> "VmRSS_kB Pss_kB RssShmem_kB SharedAnonSize_kB"
mem() {
  local p=$1 rss pss shm shsize
  rss=$(awk '/^VmRSS:/{print $2}' "/proc/$p/status")
  shm=$(awk '/^RssShmem:/{print $2}' "/proc/$p/status")
  pss=$(awk '/^Pss:/{print $2}' "/proc/$p/smaps_rollup")
  # size of the shared anonymous mappings (MAP_SHARED|MAP_ANONYMOUS show as /dev/zero (deleted))
  shsize=$(awk '/^[0-9a-f]+-[0-9a-f]+ /{ name=$6" "$7; shared=substr($2,4,1)=="s"; z=(name ~ /^\/dev\/zero/ || name ~ /SYSV/) }
                /^Size:/{ if (shared && z) s+=$2 } END{print s+0}' "/proc/$p/smaps")
  echo "$rss $pss $shm $shsize"
}

# ---------------------------------------------------------------- one run
declare -A R
run_one() { # run_one lnsd|l2tpns N
  local which=$1 n=$2 tunnels per d lacpid before after ms waited rc=0
  per=$PER_TUNNEL; [ "$n" -lt "$per" ] && per=$n
  tunnels=$(( (n + per - 1) / per ))
  [ $(( tunnels * per )) = "$n" ] || die "N=$n is not a multiple of $per calls per tunnel"
  d=$WORK/$which-$n; mkdir -p "$d"
  log "$which: starting"
  if [ "$which" = lnsd ]; then start_lnsd; else start_l2tpns; fi
  sleep 1
  before=$(mem "$LNS_PID")
  log "$which pid $LNS_PID idle: VmRSS/Pss/RssShmem/shared-anon kB: $before; load: $tunnels tunnels x $per calls"
  # One LAC process (one UDP socket) per tunnel, all started together: a wholesale network's LACs
  # are separate hosts, and l2tpns mishandles several tunnels in setup from one address:port.
  local k t0 lacpids=() lacerrs=() start_ms=() end_ms max_ms=0 online_sum=0 up_sum=0 st e
  t0=$(date +%s%3N)
  for k in $(seq 0 $(( tunnels - 1 ))); do
    start_ms+=("$(( $(date +%s%3N) - t0 ))")
    ip netns exec "$NS" timeout $(( 2 * LAC_TIMEOUT + 60 )) node "$LAC" --lns "$LNS_IP" --tunnels 1 --sessions "$per" \
        ${TUNNEL_SECRET:+--secret "$TUNNEL_SECRET"} --user "bench-$k-%s" --password "$PASSWORD" --timeout "$LAC_TIMEOUT" \
        --hold forever --json >"$d/lac-$k.json" 2>"$d/lac-$k.err" </dev/null &
    lacpids+=("$!"); PIDS+=("$!"); lacerrs+=("$d/lac-$k.err")
  done
  # each LAC says "holding the calls" once L2TP is up and PPP is all online (or given up on)
  for waited in $(seq $(( (2 * LAC_TIMEOUT + 30) * 5 ))); do
    local pending=0
    for k in "${!lacpids[@]}"; do
      grep -q 'holding the calls' "${lacerrs[$k]}" 2>/dev/null || { kill -0 "${lacpids[$k]}" 2>/dev/null && pending=$((pending + 1)); }
    done
    [ "$pending" = 0 ] && break
    sleep 0.2
  done
  sleep 2   # let accounting and the LNS's own bookkeeping settle
  kill -0 "$LNS_PID" 2>/dev/null || { tail -20 "${lacerrs[0]}"; die "$which died under load"; }
  after=$(mem "$LNS_PID")
  # all online = the last LAC's "PPP all online after" plus when it started, on one clock (t0)
  ms=""
  local all=1
  for k in "${!lacpids[@]}"; do
    e=$(sed -n 's/^lac: PPP all online after \([0-9.]*\) ms.*/\1/p' "${lacerrs[$k]}")
    st=${start_ms[$k]}
    if [ -z "$e" ]; then all=0; else end_ms=$(awk -v a="$e" -v b="$st" 'BEGIN{printf "%.1f", a + b}'); max_ms=$(awk -v a="$end_ms" -v b="$max_ms" 'BEGIN{print (a > b) ? a : b}'); fi
    online_sum=$(( online_sum + $(sed -n 's/^lac: PPP online: \([0-9]*\)\/.*/\1/p' "${lacerrs[$k]}" | head -1 | grep . || echo 0) ))
    up_sum=$(( up_sum + $(sed -n 's/^lac: \(all up\|not all up\): \([0-9]*\)\/.*/\2/p' "${lacerrs[$k]}" | head -1 | grep . || echo 0) ))
  done
  [ "$all" = 1 ] && ms=$max_ms
  grep -h '^lac: PPP all online' "${lacerrs[@]}" | head -2 | sed "s/^/    /" >&2
  echo "    lac x $tunnels: L2TP calls up $up_sum/$n, PPP online $online_sum/$n${ms:+, all online after $ms ms}" >&2
  for k in "${!lacpids[@]}"; do stop_pid "${lacpids[$k]}" TERM || rc=$?; done
  if [ "$which" = l2tpns ]; then cp "$WORK/l2tpns/l2tpns.log" "$d/" 2>/dev/null || true; else cp "$WORK/lnsd/lnsd.log" "$d/" 2>/dev/null || true; fi
  stop_pid "$LNS_PID" TERM
  sleep 1
  R[$which,$n,shape]="$tunnels x $per"
  R[$which,$n,ms]=${ms:-}
  R[$which,$n,before]=$before
  R[$which,$n,after]=$after
  R[$which,$n,online]="$online_sum/$n"
  R[$which,$n,l2tp]="calls up: $up_sum/$n"
  if [ -z "$ms" ]; then log "$which N=$n: NOT all sessions online: $online_sum/$n (calls up $up_sum/$n)"; fi
  return 0
}

LNSS=${BENCH_LNS:-lnsd l2tpns}
for n in "${SIZES[@]}"; do
  for w in $LNSS; do run_one "$w" "$n"; done
done

# ---------------------------------------------------------------- report
f1() { awk -v x="$1" 'BEGIN{printf "%.1f", x}'; }
rate() { [ -n "$2" ] && awk -v n="$1" -v ms="$2" 'BEGIN{printf "%.0f", n/(ms/1000)}' || echo "n/a"; }
perkb() { awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN{printf "%.2f", (b-a)/n}'; }
ratio() { { [ -n "$1" ] && [ -n "$2" ] && [ "$1" != n/a ] && [ "$2" != n/a ]; } && awk -v a="$1" -v b="$2" 'BEGIN{ if (b==0) print "n/a"; else printf "%.2f", a/b}' || echo "n/a"; }
field() { echo "$1" | awk -v i="$2" '{print $i}'; }

CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
MEM=$(awk '/^MemTotal:/{printf "%.1f GiB", $2/1048576}' /proc/meminfo)
LNSD_VER="lnsd $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?')$(cd "$ROOT" && [ -n "$(git status --porcelain 2>/dev/null)" ] && echo ' (+ uncommitted changes)')"
L2TPNS_VER="l2tpns $(dpkg-query -W -f='${Version}' l2tpns 2>/dev/null)"
FR_VER=$(freeradius -v 2>/dev/null | sed -n 's/^radiusd: FreeRADIUS Version \([^,]*\),.*/\1/p' | head -n1)
{
  echo
  echo "## Session setup, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "Machine: $(nproc) CPUs ($CPU), $MEM RAM, $(uname -sr). Node $(node -v), $LNSD_VER, $L2TPNS_VER (Debian), FreeRADIUS $FR_VER."
  echo "LAC, LNS and FreeRADIUS share the machine (one network namespace); one LNS at a time; each with its TUN device."
  echo
  echo "Load: T testkit LAC processes (one UDP socket each, started together) each open one tunnel of S calls to $LNS_IP ($([ -n "$TUNNEL_SECRET" ] && echo "tunnel secret" || echo "no tunnel secret"), at most 100 calls per tunnel between ICRQ and ICRP), each call logs in with PPP (CHAP, user bench-T-S) against FreeRADIUS (DEFAULT Cleartext-Password) and brings IPCP up; accounting on; pool $POOL."
  echo "Setup time: from just before the first SCCRQ until the last session's IPCP is up (LAC's clock). Memory: LNS process VmRSS (and Pss) idle before the load and with all N sessions up, 2 s after the last one."
  echo
  echo "| N | tunnels x calls | LNS | online | setup time | sessions/s | VmRSS idle -> loaded (kB) | RSS per session | Pss idle -> loaded (kB) | Pss per session |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  for n in "${SIZES[@]}"; do
    for w in lnsd l2tpns; do
      b=${R[$w,$n,before]}; a=${R[$w,$n,after]}; ms=${R[$w,$n,ms]}
      echo "| $n | ${R[$w,$n,shape]} | $w | ${R[$w,$n,online]:-?} | $([ -n "$ms" ] && echo "$(f1 "$(awk -v m="$ms" 'BEGIN{print m/1000}')") s" || echo "not all up") | $(rate "$n" "$ms") | $(field "$b" 1) -> $(field "$a" 1) | $(perkb "$(field "$b" 1)" "$(field "$a" 1)" "$n") kB | $(field "$b" 2) -> $(field "$a" 2) | $(perkb "$(field "$b" 2)" "$(field "$a" 2)" "$n") kB |"
    done
  done
  echo
  echo "lnsd / l2tpns:"
  echo
  for n in "${SIZES[@]}"; do
    rl=$(rate "$n" "${R[lnsd,$n,ms]}"); rr=$(rate "$n" "${R[l2tpns,$n,ms]}")
    ml=$(perkb "$(field "${R[lnsd,$n,before]}" 1)" "$(field "${R[lnsd,$n,after]}" 1)" "$n")
    mr=$(perkb "$(field "${R[l2tpns,$n,before]}" 1)" "$(field "${R[l2tpns,$n,after]}" 1)" "$n")
    ltot=$(field "${R[lnsd,$n,after]}" 1); rtot=$(field "${R[l2tpns,$n,after]}" 1)
    echo "- N=$n: sessions/s $rl / $rr = $(ratio "$rl" "$rr"); RSS growth per session $ml / $mr kB = $(ratio "$ml" "$mr"); whole RSS loaded $ltot / $rtot kB = $(ratio "$ltot" "$rtot")"
  done
  echo
  b=${R[l2tpns,${SIZES[0]},before]}
  echo "l2tpns preallocates its tables (60000 sessions, compile-time MAXSESSION) in shared anonymous memory: $(field "$b" 4) kB mapped, of which $(field "$b" 3) kB resident (RssShmem) already when idle (it touches every session slot on becoming cluster master), so its RSS grows little per session; its loaded RssShmem: $(for n in "${SIZES[@]}"; do echo -n "N=$n $(field "${R[l2tpns,$n,after]}" 3) kB; "; done)"
} > "$WORK/results.md"
cat "$WORK/results.md"
[ -f "$RESULTS" ] || printf '# Benchmark results\n\nAppended by the scripts in bench/ (see README.md).\n' > "$RESULTS"
cat "$WORK/results.md" >> "$RESULTS"
log "appended to $RESULTS"
