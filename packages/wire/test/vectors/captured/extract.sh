#!/usr/bin/env bash
# extract.sh: (re)writes <name>.json beside each <name>.pcap here: every packet's UDP payload and
# the fields tshark decodes from it (test/lib/tshark.ts summarize()). Needs tshark and a build.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../../../.." && pwd)
(cd "$ROOT" && npx tsc -b >/dev/null || true)   # emits even while other packages have errors
X="node $ROOT/packages/wire/dist/test/lib/captured.js"
$X "$HERE/secret-chap.pcap" --secret s3cr3t --user test --password test --description \
  "Tunnel secret s3cr3t on both ends (xl2tpd 'challenge = yes'), CHAP-MD5 (l2tpns's first choice), IPCP + IPv6CP + RA, pings both ways, then pppd TERM (LCP TermReq), CDN and StopCCN from the LAC."
$X "$HERE/plain-pap.pcap" --user test --password test --description \
  "No tunnel secret; pppd refuse-chap/-mschap/-mschap-v2/-eap so it Naks CHAP with PAP; PAP, IPCP + IPv6CP + RA, pings both ways, then LAC-initiated teardown."
$X "$HERE/plain-refuse-chap-md5.pcap" --user test --password test --description \
  "No tunnel secret; pppd refuse-chap only: it Naks CHAP-MD5 asking for MS-CHAPv2, l2tpns repeats CHAP-MD5 five times, pppd then Rejects auth and l2tpns sends CDN (LNS-initiated session teardown)."
$X "$HERE/secret-mismatch.pcap" --secret s3cr3t --user test --password test --description \
  "l2tpns secret s3cr3t, xl2tpd secret wrongsecret: xl2tpd finds the SCCRP's Challenge Response wrong, sends a ZLB then StopCCN (Result 2, Error 6, 'Invalid challenge authentication')."
