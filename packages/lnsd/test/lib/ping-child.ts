// Runs inside the traffic test's network namespace: the test LAC logs N subscribers in to lnsd,
// each pings lnsd's TUN address through its session, and the replies are checked to come back on
// the session that asked. Prints one JSON line.
import { buildIcmpEcho, decodeIpv4Header, formatIpv4, parseIpv4 } from "@lnsd/wire";
import { LacSimulator, pppLogins, type LacCall } from "@lnsd/testkit";

const [lnsAddr = "127.0.0.1", target = "192.0.2.1", countText = "5"] = process.argv.slice(2);
const count = Number(countText);
const replies = new Map<LacCall, string[]>();
const logins = pppLogins({
  username: (t, s) => `sub-${t}-${s}`,
  password: "traffic",
  onPacket: (call, protocol, payload) => {
    const h = decodeIpv4Header(payload);
    if (protocol !== 0x0021 || !h.ok || h.value.protocol !== 1 || payload[h.value.headerLength] !== 0) return;
    replies.set(call, [...(replies.get(call) ?? []), `${formatIpv4(h.value.src)}>${formatIpv4(h.value.dst)}`]);
  },
});
const lac = new LacSimulator({ lns: { address: lnsAddr, port: 1701 }, bindAddress: "127.0.0.1", tunnels: 1, sessionsPerTunnel: count, calls: logins.handler });
await lac.start();
const until = async (cond: () => boolean, ms: number): Promise<boolean> => {
  for (let t = 0; t < ms && !cond(); t += 50) await new Promise((r) => setTimeout(r, 50));
  return cond();
};
const online = await until(() => logins.stats.online.size === count, 15_000);
const dst = parseIpv4(target) ?? 0;
let seq = 0;
for (const [call, info] of logins.stats.online) {
  const src = parseIpv4(info.address) ?? 0;
  logins.send(call, 0x0021, buildIcmpEcho({ src, dst, identifier: 7, sequence: ++seq, data: Buffer.from("lnsd ping") }));
}
await until(() => replies.size === count, 5000);
const result = {
  online: logins.stats.online.size,
  sessions: [...logins.stats.online].map(([call, info]) => ({ address: info.address, replies: replies.get(call) ?? [] })),
};
await lac.stopAll();
lac.close();
process.stdout.write(JSON.stringify({ onlineInTime: online, ...result }) + "\n");
process.exit(0);
