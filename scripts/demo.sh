#!/usr/bin/env bash
# The demo (npm run demo): installs what it needs, builds, then
#   1. decodes a real L2TP/PPP exchange (xl2tpd + pppd against l2tpns) with lnsd's own codecs;
#   2. starts lnsd with the default config (etc/startup-config: L2TP on 127.0.0.1:1701);
#   3. has the test LAC open 5 tunnels of 50 sessions that log in over PPP (CHAP), get addresses
#      and ping through their tunnels (as root: TUN device and data workers in the demo's namespace);
#   4. shows the sessions from lnsd's telnet CLI (a real telnet client, driven by expect);
#   5. clears everything down with SIGQUIT and shows lnsd's log.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
echo "== build"
npx tsc -b

echo
echo "== 1. A captured exchange (Linux xl2tpd/pppd LAC <-> l2tpns 2.4.1), decoded by lnsd's codecs"
node packages/lnsd/dist/src/bin/l2tp-trace.js packages/wire/test/vectors/captured/secret-chap.pcap s3cr3t | head -24
echo "   ... ($(node packages/lnsd/dist/src/bin/l2tp-trace.js packages/wire/test/vectors/captured/secret-chap.pcap | wc -l) packets in all)"

echo
echo "== 2. lnsd up with etc/startup-config (-v: debug level 3, information)"
log=$(mktemp /tmp/lnsd-demo.XXXXXX.log)
# As root, lnsd and the test LAC run in a network namespace of the demo's own, so that lnsd's TUN
# device and the pool's route stay out of the host's network; elsewhere they share the host.
in_ns=()
ns=""
if [ "$(id -u)" -eq 0 ]; then
  ns="lnsd-demo-$$"
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  in_ns=(ip netns exec "$ns")
fi
"${in_ns[@]}" bin/lnsd -v -c etc/startup-config >"$log" 2>&1 &
lnsd_pid=$!
lac_pid=""
# Everything the demo starts is stopped by its PID, however the demo ends (the test LAC too, should
# the demo be interrupted while it runs); the namespace goes with it.
cleanup() {
  for pid in $lac_pid $lnsd_pid; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ -n "$ns" ]; then ip netns del "$ns" 2>/dev/null || true; fi
}
trap cleanup EXIT
for _ in $(seq 1 50); do
  grep -q "listening for L2TP" "$log" && break
  kill -0 "$lnsd_pid" 2>/dev/null || { cat "$log"; echo "demo: lnsd exited"; exit 1; }
  sleep 0.1
done
cat "$log"

echo
echo "== 3. The test LAC: 5 tunnels x 50 sessions to 127.0.0.1:1701 (tunnel secret from etc/startup-config),"
echo "      each logging in over PPP as demo1 (etc/chap-secrets) and getting an address from etc/ip_pool"
secret=$(sed -nE 's/^set l2tp_secret "?([^"]*)"?/\1/p' etc/startup-config)
echo "      then every session pings lnsd's tun address (192.0.2.1) through its tunnel and the data workers"
lac_out=$(mktemp /tmp/lnsd-demo-lac.XXXXXX)
"${in_ns[@]}" node packages/testkit/dist/src/bin/lac.js --lns 127.0.0.1:1701 --tunnels 5 --sessions 50 --secret "$secret" --user demo1 --password demo1pass --ping 192.0.2.1 --hold 6 >"$lac_out" 2>&1 &
lac_pid=$!
for _ in $(seq 1 100); do
  grep -q "holding the calls" "$lac_out" && break
  kill -0 "$lac_pid" 2>/dev/null || break
  sleep 0.1
done
cat "$lac_out"

echo
echo "== 4. The CLI (telnet 127.0.0.1 23, libcli-style), while the sessions are up: show tunnels, show session, show counters"
# The workers' counters reach the sessions every second: let the pings' bytes show.
sleep 1.5
"${in_ns[@]}" expect -f scripts/demo-cli.exp | tr -d '\r' | awk '/show session/ { n = 1 } /show counters/ { n = 0 } n > 0 && n++ == 12 { print "   ... (250 sessions in all)" } n == 0 || n <= 12 { print }'
wait "$lac_pid" || true
lac_pid=""
sed -n '/holding the calls/,$p' "$lac_out" | tail -n +2
rm -f "$lac_out"

echo
echo "== 5. The LAC cleared its calls (CDN) and tunnels (StopCCN); SIGQUIT stops lnsd, tearing down anything left"
kill -QUIT "$lnsd_pid"
wait "$lnsd_pid" || true
cleanup
trap - EXIT
tail -n 14 "$log"
rm -f "$log"
