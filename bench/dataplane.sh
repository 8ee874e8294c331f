#!/bin/bash
# Data-plane benchmark: packets per second, Mbit/s and LNS CPU per forwarded packet, LAC to the
# internet and back through the LNS, lnsd (1 and 2 data workers) beside the reference l2tpns
# 2.4.1, same load, same run.
#
# Three network namespaces this script creates (lnsdp-PID-lac, -lns, -inet) and deletes at the end:
#   lac   198.19.1.2/24 on veth "lac0"    the load tool (packages/testkit, traffic-lac): N PPP
#                                          sessions over L2TP from one native UDP socket, then
#                                          test packets from every session's address
#   lns   198.19.1.1/24 on "eth0" (LAC side, the L2TP address), 198.19.2.1/24 on "inet0"
#         (internet side), the LNS's TUN device, FreeRADIUS on 127.0.0.1; IPv4 forwarding
#   inet  198.19.2.2/24 on "inet0", route to the pool 198.18.0.0/18 via the LNS; the reflector
#         (traffic-reflector) on UDP 198.19.2.2:7 sends every packet back to its sender
# One LNS at a time. For each LNS and each session count N, the LNS is started, N sessions come
# up (PPP: LCP, CHAP through RADIUS, IPCP), and for each packet size the load tool sends IPv4/UDP
# packets of that size (IP length) round-robin from every session to the reflector for a warm-up
# second and then a measuring window (BENCH_SECONDS), keeping at most BENCH_WINDOW packets in
# flight (the rate is what the path sustains) or at BENCH_RATE packets per second, and counts
# what comes back on each session.
#
# Measured per window: round trips per second (packets back at the LAC), Mbit/s each way (IP
# bytes), loss, replies per session, packets misrouted to another session, and the LNS process's
# CPU (utime+stime of all its threads, /proc/PID/stat) divided by the packets it forwarded
# (upstream: what the reflector received; downstream: what the LAC got back).
# Figures are printed and appended to bench/RESULTS.md.
#
# Usage: bench/dataplane.sh            (needs root and a built tree: npx tsc -b)
# Environment: BENCH_SESSIONS ("1 100 10000"), BENCH_SIZES ("64,512,1400"), BENCH_SECONDS (10),
#   BENCH_WARMUP (1), BENCH_WINDOW (512), BENCH_RATE (0: none), BENCH_WORKERS ("1 2": lnsd's
#   data_workers), BENCH_LNS ("lnsd l2tpns"), BENCH_MAX_IN_SETUP (500), BENCH_RESULTS,
#   BENCH_KEEP=1 keeps the work directory with every log.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
read -r -a NS_LIST <<< "${BENCH_SESSIONS:-1 100 10000}"
SIZES=${BENCH_SIZES:-64,512,1400}
SECONDS_PER_POINT=${BENCH_SECONDS:-10}
WARMUP=${BENCH_WARMUP:-1}
WINDOW=${BENCH_WINDOW:-512}
RATE=${BENCH_RATE:-0}
read -r -a WORKERS <<< "${BENCH_WORKERS:-1 2}"
LNSS=${BENCH_LNS:-lnsd l2tpns}
MAX_IN_SETUP=${BENCH_MAX_IN_SETUP:-500}
PREFIX=lnsdp-$$
NS_LAC=$PREFIX-lac
NS_LNS=$PREFIX-lns
NS_INET=$PREFIX-inet
WORK=$(mktemp -d "/tmp/$PREFIX.XXXXXX")
LAC_IP=198.19.1.2
LNS_IP=198.19.1.1
LNS_INET_IP=198.19.2.1
INET_IP=198.19.2.2
REFLECT_PORT=7
POOL=198.18.0.0/18
RADIUS_SECRET=bench-radius-secret
PASSWORD=bench
SETUP_TIMEOUT=300          # s for the sessions to come up
LNSD=$ROOT/packages/lnsd/dist/src/bin/lnsd.js
TRAFFIC_LAC=$ROOT/packages/testkit/dist/src/bin/traffic-lac.js
REFLECTOR=$ROOT/packages/testkit/dist/src/bin/traffic-reflector.js
RESULTS=${BENCH_RESULTS:-$ROOT/bench/RESULTS.md}

log() { echo "[dataplane $(date +%T)] $*" >&2; }
die() { echo "[dataplane] ERROR: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (network namespaces, TUN devices, l2tpns)"
for f in "$LNSD" "$TRAFFIC_LAC" "$REFLECTOR"; do [ -f "$f" ] || die "$f missing: run 'npx tsc -b' in $ROOT first"; done
command -v freeradius >/dev/null || die "freeradius not installed"
case " $LNSS " in *" l2tpns "*) [ -x /usr/sbin/l2tpns ] || die "l2tpns not installed";; esac
HAVE_WORKERS=0
grep -q '"data_workers"' "$ROOT/packages/config/src/variables.ts" && HAVE_WORKERS=1

# ---------------------------------------------------------------- cleanup: only our own PIDs
PIDS=()
stop_pid() { # stop_pid PID [SIGNAL]: signal, wait up to 10 s, then SIGKILL
  local p=$1 sig=${2:-TERM} i
  kill -0 "$p" 2>/dev/null || return 0
  kill -"$sig" "$p" 2>/dev/null || true
  for i in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
}
cleanup() {
  local p
  for p in "${PIDS[@]}"; do stop_pid "$p"; done
  for p in "$NS_LAC" "$NS_LNS" "$NS_INET"; do ip netns del "$p" 2>/dev/null || true; done
  if [ "${BENCH_KEEP:-0}" = 1 ]; then log "work dir kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- namespaces
for n in "$NS_LAC" "$NS_LNS" "$NS_INET"; do ip netns add "$n"; ip -n "$n" link set lo up; done
# LAC <-> LNS; l2tpns wants an "eth0" (its cluster_interface): the LNS's LAC-side leg
ip link add lac0 netns "$NS_LAC" type veth peer name eth0 netns "$NS_LNS"
ip -n "$NS_LAC" addr add "$LAC_IP/24" dev lac0
ip -n "$NS_LNS" addr add "$LNS_IP/24" dev eth0
# LNS <-> internet host
ip link add inet0 netns "$NS_LNS" type veth peer name inet0 netns "$NS_INET"
ip -n "$NS_LNS" addr add "$LNS_INET_IP/24" dev inet0
ip -n "$NS_INET" addr add "$INET_IP/24" dev inet0
for l in "$NS_LAC lac0" "$NS_LNS eth0" "$NS_LNS inet0" "$NS_INET inet0"; do set -- $l; ip -n "$1" link set "$2" up; done
ip -n "$NS_INET" route add "$POOL" via "$LNS_INET_IP"
ip netns exec "$NS_LNS" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
for n in "$NS_LAC" "$NS_LNS" "$NS_INET"; do ip netns exec "$n" sysctl -qw net.core.rmem_max=16777216 net.core.wmem_max=16777216 2>/dev/null || true; done
# not for background jobs: $! must be the process itself (ip netns exec execs)
nsx() { local n=$1; shift; ip netns exec "$n" "$@"; }

# ---------------------------------------------------------------- FreeRADIUS in the LNS namespace
# shellcheck source=bench/freeradius.sh
source "$ROOT/bench/freeradius.sh"
start_freeradius "$NS_LNS" "$LNS_IP" 4

# ---------------------------------------------------------------- the reflector on the internet host
REFLECT_SOCK=$WORK/reflector.sock
ip netns exec "$NS_INET" node "$REFLECTOR" --bind "$INET_IP:$REFLECT_PORT" --control "$REFLECT_SOCK" >"$WORK/reflector.log" 2>&1 </dev/null &
PIDS+=("$!")
for _ in $(seq 100); do [ -S "$REFLECT_SOCK" ] && break; sleep 0.1; done
[ -S "$REFLECT_SOCK" ] || { cat "$WORK/reflector.log"; die "reflector did not start"; }
log "namespaces $NS_LAC / $NS_LNS / $NS_INET; FreeRADIUS and the reflector ($INET_IP:$REFLECT_PORT) up"

# ---------------------------------------------------------------- LNS configs
common_config() { # common_config LOGFILE
  cat <<EOF
set debug 1
set log_file "$1"
set bind_address $LNS_IP
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
start_lnsd() { # start_lnsd DIR WORKERS
  local d=$1 w=$2
  mkdir -p "$d"
  { common_config "$d/lnsd.log"; echo "set tundevicename tun0"; [ "$HAVE_WORKERS" = 1 ] && echo "set data_workers $w"; } > "$d/startup-config"
  echo "$POOL" > "$d/ip_pool"
  ip netns exec "$NS_LNS" node "$LNSD" -c "$d/startup-config" >"$d/stdout.log" 2>&1 </dev/null &
  LNS_PID=$!; PIDS+=("$LNS_PID")
  for _ in $(seq 100); do
    nsx "$NS_LNS" ss -Hlun "src $LNS_IP:1701" 2>/dev/null | grep -q . && nsx "$NS_LNS" ip link show tun0 >/dev/null 2>&1 && return 0
    kill -0 "$LNS_PID" 2>/dev/null || break
    sleep 0.1
  done
  tail -20 "$d/stdout.log" "$d/lnsd.log" 2>/dev/null; die "lnsd did not start"
}
start_l2tpns() { # start_l2tpns DIR
  # l2tpns reads ip_pool from /etc/l2tpns (compiled in): our directory is bind-mounted there in a
  # private mount namespace; $! is l2tpns's PID (ip netns exec, unshare, sh and setsid all exec).
  local d=$1
  mkdir -p "$d"
  { common_config "$d/l2tpns.log"; cat <<EOF
set pid_file "$d/l2tpns.pid"
set lock_pages no
set send_garp no
set cluster_interface eth0
set cluster_hb_timeout 31
EOF
  } > "$d/startup-config"
  echo "$POOL" > "$d/ip_pool"
  : > "$d/users"
  ip netns exec "$NS_LNS" unshare -m sh -c "mount --bind '$d' /etc/l2tpns && exec setsid /usr/sbin/l2tpns -c /etc/l2tpns/startup-config" \
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

# ---------------------------------------------------------------- one LNS, one N, every size
JSONL=$WORK/results.jsonl; : > "$JSONL"
run_point() { # run_point LABEL N
  local label=$1 n=$2 d per rc=0 bound
  d=$WORK/$label-$n; mkdir -p "$d"
  case $label in
    l2tpns) start_l2tpns "$d" ;;
    lnsd-w*) start_lnsd "$d" "${label#lnsd-w}" ;;
  esac
  # the pool through the TUN device, whichever way the LNS sets its routes
  nsx "$NS_LNS" ip route replace "$POOL" dev tun0 2>/dev/null || true
  per=1000; [ "$n" -lt "$per" ] && per=$n
  bound=$(( SETUP_TIMEOUT * 2 + 60 + (WARMUP + SECONDS_PER_POINT + 5) * $(echo "$SIZES" | tr ',' '\n' | wc -l) ))
  log "$label N=$n: LNS pid $LNS_PID; $(( n / per )) tunnels x $per sessions, sizes $SIZES, ${SECONDS_PER_POINT} s each"
  nsx "$NS_LAC" timeout "$bound" node "$TRAFFIC_LAC" --lns "$LNS_IP" --bind "$LAC_IP" --target "$INET_IP:$REFLECT_PORT" \
      --sessions "$n" --per-tunnel "$per" --user "bench-%t-%s" --password "$PASSWORD" --sizes "$SIZES" \
      --seconds "$SECONDS_PER_POINT" --warmup "$WARMUP" --window "$WINDOW" --rate "$RATE" --timeout "$SETUP_TIMEOUT" \
      --max-in-setup "$MAX_IN_SETUP" --lns-pid "$LNS_PID" --reflector "$REFLECT_SOCK" --label "$label" --json \
      >"$d/traffic.jsonl" 2>"$d/traffic.err" </dev/null || rc=$?
  sed 's/^/    /' "$d/traffic.err" | grep -v '^    *$' >&2 || true
  [ "$rc" = 0 ] || log "$label N=$n: traffic-lac exit status $rc"
  cat "$d/traffic.jsonl" >> "$JSONL"
  stop_pid "$LNS_PID" TERM
  case $label in l2tpns) cp "$d/l2tpns.log" "$d/lns.log" 2>/dev/null || true ;; esac
  sleep 1
}

LABELS=()
for w in $LNSS; do
  case $w in
    lnsd) for k in "${WORKERS[@]}"; do LABELS+=("lnsd-w$k"); done ;;
    l2tpns) LABELS+=(l2tpns) ;;
    *) die "unknown LNS $w" ;;
  esac
done
[ "$HAVE_WORKERS" = 1 ] || log "lnsd has no data_workers yet: the lnsd rows are its single-threaded path"
for n in "${NS_LIST[@]}"; do
  for label in "${LABELS[@]}"; do run_point "$label" "$n"; done
done

# ---------------------------------------------------------------- report
CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
MEM=$(awk '/^MemTotal:/{printf "%.1f GiB", $2/1048576}' /proc/meminfo)
LNSD_VER="lnsd $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?')$(cd "$ROOT" && [ -n "$(git status --porcelain 2>/dev/null)" ] && echo ' (+ uncommitted changes)')"
L2TPNS_VER="l2tpns $(dpkg-query -W -f='${Version}' l2tpns 2>/dev/null)"
{
  echo
  echo "## Data plane, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "Machine: $(nproc) CPUs ($CPU), $MEM RAM, $(uname -sr). Node $(node -v), $LNSD_VER, $L2TPNS_VER (Debian)."
  echo "Three namespaces on this machine (LAC, LNS with FreeRADIUS, internet host with the reflector), veth links; the load tool, the LNS and the reflector share the CPUs. One LNS at a time, each with its TUN device; lnsd-wK: data_workers K$([ "$HAVE_WORKERS" = 1 ] || echo " (not yet in this build: lnsd's single-threaded path)")."
  echo "Load: testkit traffic-lac brings N PPP sessions up (CHAP via RADIUS, IPCP) from one UDP socket, then sends IPv4/UDP packets of the given IP length round-robin from every session's address to the reflector, which sends each back; $([ "$RATE" = 0 ] && echo "at most $WINDOW packets in flight (the rate is what the path sustains)" || echo "offered at $RATE packets/s$([ "$WINDOW" = 0 ] || echo ", at most $WINDOW in flight")"); ${WARMUP} s warm-up, then a ${SECONDS_PER_POINT} s window per point."
  echo "Round trips/s: test packets back at the LAC per second (each crossed the LNS twice); Mbit/s: IP bytes each way at that rate; LNS CPU/pkt: utime+stime of the LNS process (all threads) over the window / packets it forwarded (reflector's received + LAC's received); machine busy: share of all $(nproc) CPUs busy over the window (/proc/stat), whoever used them ($(nproc) x the window = 100%; LNS + load tool + reflector below that = other work and unattributed softirq time)."
  echo
  node - "$JSONL" <<'EOF'
const fs = require("fs");
const rows = fs.readFileSync(process.argv[2], "utf8").split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l));
const f = (x, d = 1) => (x === undefined || x === null ? "n/a" : x.toFixed(d));
const k = (x) => (x === undefined || x === null ? "n/a" : (x / 1000).toFixed(1) + "k");
console.log("| sessions | size (B) | LNS | online | round trips/s | Mbit/s each way | loss | replies per session (min..max) | misrouted | LNS CPU/pkt (us) | LNS CPU (s) | load tool CPU (s) | reflector CPU (s) | machine busy |");
console.log("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
// by the sessions asked for: an LNS that brought fewer up is still compared at that N
const key = (r) => `${r.requested}/${r.ipBytes}`;
for (const r of rows) {
  console.log(`| ${r.requested} | ${r.ipBytes} | ${r.label} | ${r.online} | ${k(r.downPps)} | ${f(r.downMbps)} | ${f(r.loss * 100, 2)}% | ${r.sessionMin}..${r.sessionMax} | ${r.misrouted} | ${f(r.lnsCpuUsPerPacket, 2)} | ${f(r.lnsCpuSeconds, 2)} | ${f(r.lacCpuSeconds, 2)} | ${f(r.reflectorCpuSeconds, 2)} | ${r.machineBusy === undefined ? "n/a" : (r.machineBusy * 100).toFixed(0) + "%"} |`);
}
console.log("");
console.log("lnsd / l2tpns (rate: higher is better, goal >= 1; CPU per forwarded packet: lower is better, goal <= 0.75):");
console.log("");
const ref = new Map(rows.filter((r) => r.label === "l2tpns").map((r) => [key(r), r]));
for (const r of rows) {
  if (r.label === "l2tpns") continue;
  const b = ref.get(key(r));
  if (b === undefined) continue;
  const rate = b.downPps > 0 ? (r.downPps / b.downPps).toFixed(2) : "n/a";
  const cpu = r.lnsCpuUsPerPacket && b.lnsCpuUsPerPacket ? (r.lnsCpuUsPerPacket / b.lnsCpuUsPerPacket).toFixed(2) : "n/a";
  console.log(`- ${r.label}, ${r.requested} sessions${r.online === b.online ? "" : ` (online ${r.online} / ${b.online})`}, ${r.ipBytes} B: rate ${k(r.downPps)} / ${k(b.downPps)} = ${rate}; CPU per packet ${f(r.lnsCpuUsPerPacket, 2)} / ${f(b.lnsCpuUsPerPacket, 2)} us = ${cpu}`);
}
EOF
} > "$WORK/results.md"
cat "$WORK/results.md"
[ -f "$RESULTS" ] || printf '# Benchmark results\n\nAppended by the scripts in bench/ (see README.md).\n' > "$RESULTS"
cat "$WORK/results.md" >> "$RESULTS"
log "appended to $RESULTS"
