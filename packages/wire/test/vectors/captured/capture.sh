#!/usr/bin/env bash
# capture.sh NAME [vm-lac run.sh options...]
# Starts the reference l2tpns 2.4.1 + FreeRADIUS (vm-lac `ref-lns up`) in namespace $NS, captures
# udp port 1701 on every interface of that namespace with dumpcap, dials one session from the
# vm-lac QEMU guest (xl2tpd + pppd) with the given options, stops everything and writes NAME.pcap
# (classic pcap, Linux cooked link type) here. Then run extract.sh to (re)write NAME.json.
# Needs root. Set REF_TUNNEL_SECRET to give l2tpns a tunnel secret (its default is "secret").
set -euo pipefail
NAME=${1:?usage: capture.sh NAME [run.sh options...]}; shift
HERE=$(cd "$(dirname "$0")" && pwd)
RUN=${VMLAC:-/work/shared/tools/vm-lac/run.sh}
NS=${NS:-lnsdcap}                  # our own namespace, not the tool's default vmlac-lns
LNS_ADDR=10.231.0.1                # run.sh's REF_LNS_IP
# A private cache dir keeps this run's ref-lns state (pids, logs) apart from other users of the
# tool; the guest image itself is shared through a symlink.
export VMLAC_CACHE=${VMLAC_CACHE:-/var/tmp/vm-lac-cap}
mkdir -p "$VMLAC_CACHE"
[ -e "$VMLAC_CACHE/guest" ] || ln -s /var/tmp/vm-lac/guest "$VMLAC_CACHE/guest"
WORK=$(mktemp -d)
DPID=""
cleanup() {
  if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then kill -INT "$DPID"; wait "$DPID" || true; fi
  "$RUN" ref-lns down "$NS" || true
  rm -rf "$WORK"
}
trap cleanup EXIT
"$RUN" ref-lns up "$NS"
# The guest's tap appears only once run.sh starts, so capture on "any" (Linux cooked headers).
# Each packet is seen once: the guest's packets arrive on the tap and are delivered locally to
# l2tpns on 10.231.0.1; l2tpns's replies leave through the tap.
ip netns exec "$NS" dumpcap -q -i any -f 'udp port 1701' -w "$WORK/raw.pcapng" 2>"$WORK/dumpcap.log" &
DPID=$!
sleep 2
rc=0
"$RUN" --netns "$NS" "$@" "$LNS_ADDR" > "$WORK/run.log" 2>&1 || rc=$?
sleep 1
kill -INT "$DPID"; wait "$DPID" || true; DPID=""
editcap -F pcap "$WORK/raw.pcapng" "$HERE/$NAME.pcap"
cp "$WORK/run.log" "/tmp/$NAME.run.log"
cp "$VMLAC_CACHE/ref-lns/l2tpns.log" "/tmp/$NAME.l2tpns.log" 2>/dev/null || true
grep -E '^(guest result|VM-LAC):' "$WORK/run.log" || true
echo "$HERE/$NAME.pcap: $(capinfos -c -M "$HERE/$NAME.pcap" | sed -n 's/^Number of packets: *//p') packets (run.sh exit $rc; logs in /tmp/$NAME.*.log)"
