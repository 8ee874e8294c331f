// l2tp-trace FILE.pcap [secret]: prints every L2TP packet of a capture, one line each, decoded by
// lnsd's own codecs (hidden AVPs revealed when the tunnel secret is given).
import { readFileSync } from "node:fs";
import { decodePcap, formatIpv4, udpInFrame } from "@lnsd/wire";
import { describeL2tp } from "../trace.js";

const [file, secret] = process.argv.slice(2);
if (file === undefined) {
  console.error("usage: l2tp-trace FILE.pcap [tunnel-secret]");
  process.exit(2);
}
const pcap = decodePcap(readFileSync(file));
if (!pcap.ok) {
  console.error(`l2tp-trace: ${file}: ${pcap.error.reason}`);
  process.exit(1);
}
const t0 = pcap.value.records[0]?.timestampUs ?? 0;
pcap.value.records.forEach((r, i) => {
  const udp = udpInFrame(pcap.value.linktype, r.data);
  const when = ((r.timestampUs - t0) / 1e6).toFixed(3).padStart(8);
  if (!udp.ok) {
    console.log(`${String(i + 1).padStart(4)} ${when} (not UDP: ${udp.error.reason})`);
    return;
  }
  const u = udp.value;
  console.log(`${String(i + 1).padStart(4)} ${when} ${formatIpv4(u.src)}:${u.srcPort} > ${formatIpv4(u.dst)}:${u.dstPort} ${describeL2tp(u.payload, secret)}`);
});
