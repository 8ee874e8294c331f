// Run inside a test network namespace (ip netns exec): opens a TUN device, writes an ICMP echo
// request from a "subscriber" address to the device's own address, and reads the kernel's reply.
import { buildIcmpEcho, decodeIpv4Header, formatIpv4, parseIpv4 } from "@lnsd/wire";
import { openTun } from "../../src/index.js";

const dev = await openTun({ name: "lnsdtun%d", mtu: 1500, address: "192.0.2.1/24" });
const src = parseIpv4("192.0.2.77") ?? 0;
const dst = parseIpv4("192.0.2.1") ?? 0;
await dev.write(buildIcmpEcho({ src, dst, identifier: 4242, sequence: 1, data: Buffer.from("lnsd") }));
const buf = Buffer.alloc(2048);
const deadline = Date.now() + 3000;
let result = { name: dev.name, reply: false, from: "", to: "" };
while (Date.now() < deadline) {
  const n = await Promise.race([dev.read(buf), new Promise<number>((r) => setTimeout(() => { r(-1); }, 500))]);
  if (n <= 0) continue;
  const h = decodeIpv4Header(buf.subarray(0, n));
  // ICMP type 0 (echo reply) for our identifier.
  if (h.ok && h.value.protocol === 1 && buf[h.value.headerLength] === 0 && buf.readUInt16BE(h.value.headerLength + 4) === 4242) {
    result = { name: dev.name, reply: true, from: formatIpv4(h.value.src), to: formatIpv4(h.value.dst) };
    break;
  }
}
process.stdout.write(JSON.stringify(result) + "\n");
process.exit(0);
