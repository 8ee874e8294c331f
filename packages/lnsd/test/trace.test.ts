import t from "tap";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { decodePcap, udpInFrame } from "@lnsd/wire";
import { describeL2tp } from "../src/index.js";

const captured = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "wire", "test", "vectors", "captured");

void t.test("a real xl2tpd <-> l2tpns exchange, described packet by packet", (t) => {
  const pcap = decodePcap(readFileSync(join(captured, "secret-chap.pcap")));
  if (!pcap.ok) throw new Error(pcap.error.reason);
  const lines = pcap.value.records.map((r) => {
    const u = udpInFrame(pcap.value.linktype, r.data);
    return u.ok ? describeL2tp(u.value.payload, "s3cr3t") : "not udp";
  });
  t.match(lines[0] ?? "", /^SCCRQ tunnel 0 session 0 Ns 0 Nr 0: Protocol Version=\{version: 1, revision: 0\}.*Host Name="\(none\)".*Challenge=<[0-9a-f]{32}>/);
  t.match(lines[1] ?? "", /^SCCRP .*Challenge Response=<[0-9a-f]{32}>, Assigned Tunnel ID=2$/);
  t.match(lines[3] ?? "", /^ZLB /);
  t.ok(lines.some((l) => /LCP ConfReq id 1 mru=1462 authProtocol/.test(l)));
  t.ok(lines.some((l) => /CHAP \{kind: "Success"/.test(l)));
  t.ok(lines.some((l) => /IPCP ConfNak id 1 ipAddress=10\.231\.\d+\.\d+/.test(l)));
  t.ok(lines.some((l) => /^StopCCN /.test(l)));
  t.same(lines.filter((l) => l.includes("malformed") || l === "not udp"), []);
  t.match(describeL2tp(Buffer.from("c802", "hex")), /^malformed L2TP: /);
  t.end();
});
