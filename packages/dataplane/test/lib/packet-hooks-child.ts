// Runs inside dataplane.root.test's namespace: a DataPlane with two workers and a plugin with
// packet hooks loaded into them: packet_rx drops what ends in "X" (STOP), packet_tx rewrites the
// last byte of what goes to the subscriber. Prints one JSON line.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildIcmpEcho, decodeIpv4Header, encodeL2tpDataMessage, encodePppFrame } from "@lnsd/wire";
import { DataPlane, loadAddon } from "../../src/index.js";

const LOOP = 0x7f000001;
const SUB = 0xc6336405; // 198.51.100.5
const TUN_ADDRESS = 0xc0000201; // 192.0.2.1
const native = loadAddon();
const dir = mkdtempSync(join(tmpdir(), "lnsd-hooks-"));
writeFileSync(join(dir, "tagger.mjs"), `export const plugin = {
  apiVersion: 1,
  name: "tagger",
  hooks: {
    packet_rx: (p) => (p.buf[p.buf.length - 1] === 0x58 && p.sessionId === 77 && p.tunnelId === 5 ? 2 : 1),
    packet_tx: (p) => { p.buf[p.buf.length - 1] = 0x21; return 1; },
  },
};
`);

const logs: string[] = [];
const dp = await DataPlane.open({
  bindAddress: "127.0.0.1", port: 1701, workers: 2, tunName: "lnsdhk%d", mtu: 1460, tunAddress: "192.0.2.1/32", routes: ["198.51.100.0/24"],
  localAddress: "192.0.2.1", maxSessions: 100, mss: 1420, icmpRate: 0, packetLimit: 0, noSpoof: false,
  onEvent: (level, reason, message) => { logs.push(`${level} ${reason} ${message}`); },
});
const lac = native.udpOpen("127.0.0.1", 0, false, 1 << 20);
const lacPort = native.udpLocalPort(lac);
dp.table.publish({ localTunnelId: 5, localSessionId: 9, peerTunnelId: 50, peerSessionId: 90, peerAddress: LOOP, peerPort: lacPort, ipv4: SUB, routes: [], sequencing: false, ipv4Up: true, ipv6Up: false, sessionId: 77 });
dp.setPacketPlugins(["tagger"], [dir]);
// The workers pick the plugins up at their next wake-up (within a second).
await new Promise((r) => setTimeout(r, 1500));

const echo = (sequence: number, data: string): Buffer => encodeL2tpDataMessage({ tunnelId: 5, sessionId: 9 }, encodePppFrame(0x0021, buildIcmpEcho({ src: SUB, dst: TUN_ADDRESS, identifier: 4, sequence, data: Buffer.from(data) })));
native.udpSendTo(lac, echo(1, "lnsd"), LOOP, 1701);
native.udpSendTo(lac, echo(2, "dropX"), LOOP, 1701);
const buf = new Uint8Array(16 * 2048);
const lens = new Int32Array(16);
const addrs = new Uint32Array(32);
const replies: string[] = [];
const deadline = Date.now() + 2000;
while (Date.now() < deadline) {
  native.wait(lac, -1, -1, 100);
  const n = native.udpRecv(lac, buf, 0, 2048, 16, lens, addrs);
  for (let i = 0; i < n; i++) {
    const ip = Buffer.from(buf.subarray(i * 2048 + 10, i * 2048 + (lens[i] ?? 0)));
    const h = decodeIpv4Header(ip);
    if (h.ok && ip[h.value.headerLength] === 0) replies.push(`${ip.readUInt16BE(h.value.headerLength + 6)}:${ip.subarray(h.value.headerLength + 8).toString()}`);
  }
}
const stats = dp.stats();
await dp.close();
native.closeFd(lac);
process.stdout.write(JSON.stringify({ replies, dropped: stats.PLUGIN_DROPPED, logs }) + "\n");
process.exit(0);
