// Runs inside dataplane.root.test's network namespace: a DataPlane with two workers on
// 127.0.0.1:1701 and a TUN device, one session published by hand, and a "LAC" socket that sends
// it L2TP. Prints one JSON line of what came back.
import { buildIcmpEcho, buildIcmpv6Echo, decodeIpv4Header, encodeL2tpDataMessage, encodePppFrame, parseIpv6 } from "@lnsd/wire";
import { DataPlane, loadAddon } from "../../src/index.js";

const LOOP = 0x7f000001;
const SUB = 0xc6336405; // 198.51.100.5
const TUN_ADDRESS = 0xc0000201; // 192.0.2.1
const native = loadAddon();

const dp = await DataPlane.open({
  bindAddress: "127.0.0.1",
  port: 1701,
  workers: 2,
  tunName: "lnsddp%d",
  mtu: 1460,
  tunAddress: "192.0.2.1/32",
  routes: ["198.51.100.0/24"],
  localAddress: "192.0.2.1",
  ipv6Prefix: "2001:db8:1:2::",
  maxSessions: 1000,
  mss: 1420,
  icmpRate: 100,
  packetLimit: 0,
  noSpoof: false,
});
const lac = native.udpOpen("127.0.0.1", 0, false, 1 << 20);
const lacPort = native.udpLocalPort(lac);
const control: string[] = [];
dp.endpoint.onMessage((packet, from) => { control.push(`${from.address}:${from.port} ${packet.toString("hex")}`); });
dp.table.publish({ localTunnelId: 5, localSessionId: 9, peerTunnelId: 50, peerSessionId: 90, peerAddress: LOOP, peerPort: lacPort, ipv4: SUB, routes: [], sequencing: false, ipv4Up: true, ipv6Up: true });

const up = (dst: number, sequence: number): Buffer => encodeL2tpDataMessage({ tunnelId: 5, sessionId: 9 }, encodePppFrame(0x0021, buildIcmpEcho({ src: SUB, dst, identifier: 3, sequence, data: Buffer.from("lnsd") })));
// An echo to the TUN's own address (the kernel answers), and one to a pool address with no
// session (the worker answers with host unreachable), and a control message.
native.udpSendTo(lac, up(TUN_ADDRESS, 1), LOOP, 1701);
native.udpSendTo(lac, up(0xc6336409, 2), LOOP, 1701);
native.udpSendTo(lac, Buffer.from("c802000c0005000000000000", "hex"), LOOP, 1701);
// IPv6: from ipv6_prefix + the session's IPv4 address to an address of the namespace's lo.
const echo6 = buildIcmpv6Echo({ src: parseIpv6("2001:db8:1:2:c633:6405::") ?? new Uint8Array(16), dst: parseIpv6("2001:db8:ffff::1") ?? new Uint8Array(16), identifier: 3, sequence: 3, data: Buffer.from("lnsd6") });
native.udpSendTo(lac, encodeL2tpDataMessage({ tunnelId: 5, sessionId: 9 }, encodePppFrame(0x0057, echo6)), LOOP, 1701);
dp.endpoint.send(Buffer.from("c802000c0032000000000000", "hex"), { address: "127.0.0.1", port: lacPort });

const buf = new Uint8Array(16 * 2048);
const lens = new Int32Array(16);
const addrs = new Uint32Array(32);
const got: { from: number; header: string; icmp: string }[] = [];
const deadline = Date.now() + 5000;
while (Date.now() < deadline && (got.length < 4 || control.length < 1)) {
  native.wait(lac, -1, -1, 100);
  const n = native.udpRecv(lac, buf, 0, 2048, 16, lens, addrs);
  for (let i = 0; i < n; i++) {
    const m = Buffer.from(buf.subarray(i * 2048, i * 2048 + (lens[i] ?? 0)));
    if ((m[0] ?? 0) & 0x80) {
      got.push({ from: addrs[2 * i + 1] ?? 0, header: m.subarray(0, 12).toString("hex"), icmp: "" });
      continue;
    }
    const ip = m.subarray(10);
    if (m.readUInt16BE(8) === 0x0057) {
      got.push({ from: addrs[2 * i + 1] ?? 0, header: m.subarray(0, 10).toString("hex"), icmp: `v6:${ip[40] ?? -1}/${ip[41] ?? -1}` });
      continue;
    }
    const h = decodeIpv4Header(ip);
    got.push({ from: addrs[2 * i + 1] ?? 0, header: m.subarray(0, 10).toString("hex"), icmp: h.ok ? `${ip[h.value.headerLength] ?? -1}/${ip[h.value.headerLength + 1] ?? -1}` : "bad" });
  }
  await new Promise((r) => setImmediate(r));
}
const stats = dp.stats();
const closing = Date.now();
await dp.close();
const closeMs = Date.now() - closing;
native.closeFd(lac);
process.stdout.write(JSON.stringify({ got, control, stats, closeMs }) + "\n");
process.exit(0);
