#!/bin/bash
# Restart benchmark (issue 13): how long lnsd takes to carry every session's traffic again after
# SIGTERM and after kill -9, what the state journal writes per session setup, and lnsd's memory
# per established session.
#
# Everything runs inside one network namespace this script creates (lnsrbench-PID) and deletes at
# the end: a veth "eth0" with the LNS address 198.19.0.1, FreeRADIUS 3.2 on 127.0.0.1 (accounting
# on), lnsd with its TUN device (address 198.19.1.1) and its state journal in the work directory,
# and P testkit LAC processes (bench/restart-lac.mjs), each with its own UDP socket and tunnels of
# 500 calls, every call logging in with PPP (CHAP through FreeRADIUS, IPCP).
#
# Measured, for each N:
#   memory      lnsd's VmRSS idle and with N sessions up: per session = growth / N
#   journal     lnsd_state_journal_bytes_total once the N sessions are up, / N (compactions included)
#   restart     for SIGTERM and then kill -9: from exec of the new lnsd until its "resumed" log line
#               (polled every 50 ms) and until the first and the last of the N sessions had a ping
#               (to the TUN address, through the tunnel, the worker data plane and the kernel)
#               answered again; each session pings every 100 ms until answered
# Figures are printed and appended to bench/RESULTS.md.
#
# Usage: bench/restart.sh [N...]    (default 1000 100000; needs root and the built repository)
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SIZES=("$@"); [ ${#SIZES[@]} -gt 0 ] || SIZES=(1000 100000)
PER_TUNNEL=${BENCH_PER_TUNNEL:-500}
PREFIX=lnsrbench-$$
NS=$PREFIX
WORK=$(mktemp -d "/tmp/$PREFIX.XXXXXX")
LNS_IP=198.19.0.1
TUN_IP=198.19.1.1
POOL=198.18.0.0/15
RADIUS_SECRET=bench-radius-secret
PASSWORD=bench
LNSD=$ROOT/packages/lnsd/dist/src/bin/lnsd.js
LAC=$ROOT/bench/restart-lac.mjs
RESULTS=${BENCH_RESULTS:-$ROOT/bench/RESULTS.md}

log() { echo "[bench $(date +%T)] $*" >&2; }
die() { echo "[bench] ERROR: $*" >&2; exit 1; }
now_ms() { date +%s%3N; }

[ "$(id -u)" = 0 ] || die "needs root (network namespace, TUN device)"
[ -f "$LNSD" ] || die "$LNSD missing: run 'npx tsc -b' in $ROOT first"
command -v freeradius >/dev/null || die "freeradius not installed"

# shellcheck source=bench/namespace.sh
source "$ROOT/bench/namespace.sh"
make_namespace "$LNS_IP"

# shellcheck source=bench/freeradius.sh
source "$ROOT/bench/freeradius.sh"
start_freeradius "$NS" "$LNS_IP" 8
log "namespace $NS, FreeRADIUS pid $RADIUS_PID"

D=$WORK/lnsd; mkdir -p "$D"
write_config() { # write_config MAX_SESSIONS
  cat > "$D/startup-config" <<EOF
set debug 3
set log_file "$D/lnsd.log"
set bind_address $LNS_IP
set iftun_address $TUN_IP
set tundevicename tun0
set primary_radius 127.0.0.1
set radius_secret "$RADIUS_SECRET"
set radius_authtypes "chap,pap"
set radius_accounting yes
set cli_bind_address 127.0.0.1
set metrics_address 127.0.0.1
set metrics_port 9101
set echo_timeout 30
set max_sessions $1
set state_directory "$WORK/state"
EOF
  # BENCH_NO_STATE=1: the same setup with no journal (setup rate and memory to compare; no restart).
  [ "${BENCH_NO_STATE:-0}" = 1 ] && echo 'set state_directory ""' >> "$D/startup-config"
  echo "$POOL" > "$D/ip_pool"
}

LNS_PID=""
spawn_lnsd() { # spawn_lnsd: sets LNS_PID, EXEC_MS (epoch ms just before the exec)
  EXEC_MS=$(now_ms)
  ip netns exec "$NS" node "$LNSD" -c "$D/startup-config" >>"$D/stdout.log" 2>&1 </dev/null &
  LNS_PID=$!; PIDS+=("$LNS_PID")
}
start_lnsd() { # start_lnsd: spawn_lnsd, then wait until L2TP and the TUN device are up
  spawn_lnsd
  wait_lnsd
}
wait_lnsd() {
  for _ in $(seq 1200); do
    nsx ss -Hlun "src $LNS_IP:1701" 2>/dev/null | grep -q . && nsx ip link show tun0 >/dev/null 2>&1 && return 0
    kill -0 "$LNS_PID" 2>/dev/null || break
    sleep 0.05
  done
  tail -20 "$D/stdout.log" "$D/lnsd.log" 2>/dev/null; die "lnsd did not start"
}
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
metric() { nsx node -e 'fetch("http://127.0.0.1:9101/metrics").then((r) => r.text()).then((t) => process.stdout.write(t))' | awk -v m="$1" '$1 == m {print $2}'; }

LACS=()      # PIDs
LAC_FDS=()   # write ends of their stdin FIFOs
start_lacs() { # start_lacs N: P processes of at most 25,000 calls each; waits for all online
  local n=$1 per_proc=25000 i=0 left=$1
  LACS=(); LAC_FDS=()
  while [ "$left" -gt 0 ]; do
    local k=$(( left < per_proc ? left : per_proc ))
    local t=$(( (k + PER_TUNNEL - 1) / PER_TUNNEL ))
    local c=$(( k / t ))
    mkfifo "$WORK/lac$i.in"
    ip netns exec "$NS" node "$LAC" "$LNS_IP" "$LNS_IP" "$TUN_IP" "$t" "$c" "$PASSWORD" <"$WORK/lac$i.in" >"$WORK/lac$i.out" 2>"$WORK/lac$i.err" &
    LACS+=("$!"); PIDS+=("$!")
    local fd; exec {fd}>"$WORK/lac$i.in"; LAC_FDS+=("$fd")
    left=$(( left - t * c )); i=$((i + 1))
  done
  local j
  for j in $(seq 0 $((i - 1))); do
    for _ in $(seq 6000); do grep -q '"online"' "$WORK/lac$j.out" 2>/dev/null && break; sleep 0.1; done
  done
  ONLINE=$(cat "$WORK"/lac*.out | sed -n 's/.*"online":{"online":\([0-9]*\).*/\1/p' | awk '{s+=$1} END {print s+0}')
}
watch_start() { # watch_start FROM_MS: every LAC probes its sessions until each has a reply
  local j
  for j in "${!LAC_FDS[@]}"; do echo "watch $1" >&"${LAC_FDS[$j]}"; done
}
watch_wait() { # watch_wait: sets FIRST, LAST, ANSWERED
  local j
  for j in "${!LAC_FDS[@]}"; do
    for _ in $(seq 1500); do [ "$(grep -c '"watched"' "$WORK/lac$j.out")" -ge "$WATCHES" ] && break; sleep 0.1; done
  done
  local lines; lines=$(for j in "${!LAC_FDS[@]}"; do grep '"watched"' "$WORK/lac$j.out" | tail -1; done)
  ANSWERED=$(echo "$lines" | sed -n 's/.*"answered":\([0-9]*\).*/\1/p' | awk '{s+=$1} END {print s+0}')
  FIRST=$(echo "$lines" | sed -n 's/.*"first":\([0-9]*\).*/\1/p' | sort -n | head -1)
  LAST=$(echo "$lines" | sed -n 's/.*"last":\([0-9]*\).*/\1/p' | sort -n | tail -1)
}
resumed_ms() { # resumed_ms BEFORE: from EXEC_MS until the log has more "resumed" lines than BEFORE
  local before=$1 n
  for _ in $(seq 2400); do
    n=$(grep -c 'resumed ' "$D/lnsd.log" 2>/dev/null || true)
    [ "${n:-0}" -gt "$before" ] && { echo $(( $(now_ms) - EXEC_MS )); return; }
    sleep 0.05
  done
  echo "n/a"
}

ROWS=()
for N in "${SIZES[@]}"; do
  log "N=$N"
  rm -rf "$WORK/state" "$D"/lnsd.log
  write_config $((N + 1000))
  start_lnsd
  sleep 1
  IDLE=$(rss_kb "$LNS_PID")
  T0=$(now_ms)
  start_lacs "$N"
  SETUP_MS=$(( $(now_ms) - T0 ))
  [ "$ONLINE" -eq "$N" ] || log "only $ONLINE of $N online"
  sleep 2
  LOADED=$(rss_kb "$LNS_PID")
  JBYTES=$(metric lnsd_state_journal_bytes_total)
  log "online $ONLINE/$N in $SETUP_MS ms; RSS $IDLE -> $LOADED kB; journal ${JBYTES:-?} bytes"
  WATCHES=0
  RESULT="| $N | $ONLINE/$N in $(awk -v m="$SETUP_MS" 'BEGIN {printf "%.1f s", m / 1000}') | $IDLE -> $LOADED | $(awk -v a="$IDLE" -v b="$LOADED" -v n="$N" 'BEGIN {printf "%.2f kB", (b - a) / n}') | $(awk -v j="${JBYTES:-0}" -v n="$N" 'BEGIN {printf "%.0f B", j / n}')"
  SIGNALS=(TERM KILL); [ "${BENCH_NO_STATE:-0}" = 1 ] && SIGNALS=()
  for SIG in "${SIGNALS[@]}"; do
    before=$(grep -c 'resumed ' "$D/lnsd.log" 2>/dev/null || true)
    stop_pid "$LNS_PID" "$SIG"
    spawn_lnsd
    WATCHES=$((WATCHES + 1))
    watch_start "$EXEC_MS"
    wait_lnsd
    RES=$(resumed_ms "${before:-0}")
    watch_wait
    log "SIG$SIG: resumed after $RES ms; first session forwarding after $((FIRST - EXEC_MS)) ms, last after $((LAST - EXEC_MS)) ms ($ANSWERED/$N answered)"
    RESULT="$RESULT | $RES ms | $((FIRST - EXEC_MS)) / $((LAST - EXEC_MS)) ms ($ANSWERED/$N)"
    grep 'resumed ' "$D/lnsd.log" | tail -1 >&2
  done
  ROWS+=("$RESULT |")
  for fd in "${LAC_FDS[@]}"; do echo stop >&"$fd"; done
  for p in "${LACS[@]}"; do stop_pid "$p"; done
  for fd in "${LAC_FDS[@]}"; do exec {fd}>&-; done
  stop_pid "$LNS_PID" QUIT
  rm -f "$WORK"/lac*.in "$WORK"/lac*.out
done

MACHINE="$(nproc) CPUs ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM, Linux $(uname -r). Node $(node --version), lnsd $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet || echo ' (+ uncommitted changes)'), FreeRADIUS $(freeradius -v 2>/dev/null | sed -n 's/.*Version \([0-9.]*\).*/\1/p' | head -1)."
{
  echo
  echo "## Restart, $(date -u '+%Y-%m-%d %H:%M') UTC"
  echo
  echo "Machine: $MACHINE"
  echo "LAC processes (500 calls per tunnel, at most 25,000 calls per process), lnsd and FreeRADIUS share the machine (one network namespace); echo_timeout 30; accounting on."
  echo "Restart: lnsd stopped (SIGTERM, then kill -9 in a second round) and started again with the same startup-config; times from the new process's exec. Forwarding: each session's first ping (sent every 100 ms until answered) to the TUN address answered after the exec."
  echo
  echo "| N | online, setup time | VmRSS idle -> loaded (kB) | RSS per session | journal bytes per setup | SIGTERM: resumed (log line) | SIGTERM: first / last session forwarding | kill -9: resumed | kill -9: first / last forwarding |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for r in "${ROWS[@]}"; do echo "$r"; done
} | tee -a "$RESULTS"
