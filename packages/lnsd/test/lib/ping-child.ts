// Runs inside the traffic test's network namespace: the test LAC logs N subscribers in to lnsd,
// each pings lnsd's TUN address through its session, and the replies are checked to come back on
// the session that asked. Prints one JSON line.
import { buildIcmpEcho, buildIcmpv6Echo, decodeIpv4Header, formatIpv4, formatIpv6, parseIpv4, parseIpv6 } from "@lnsd/wire";
import { LacSimulator, pppLogins, type LacCall } from "@lnsd/testkit";

const [lnsAddr = "127.0.0.1", target = "192.0.2.1", countText = "5", target6 = ""] = process.argv.slice(2);
const count = Number(countText);
const replies = new Map<LacCall, string[]>();
/** With an IPv6 target: the prefix each session's Router Advertisement gave, and the echo replies. */
const advertised = new Map<LacCall, string>();
const replies6 = new Map<LacCall, string[]>();
const logins = pppLogins({
  username: (t, s) => `sub-${t}-${s}`,
  password: "traffic",
  ipv6: target6 !== "",
  onPacket: (call, protocol, payload) => {
    if (protocol === 0x0057 && payload[6] === 58) {
      // RFC 4861 4.2: a Router Advertisement's Prefix Information option (type 3) at 56.
      if (payload[40] === 134 && payload[56] === 3) advertised.set(call, `${formatIpv6(Uint8Array.from([...payload.subarray(72, 80), 0, 0, 0, 0, 0, 0, 0, 0]))}/${payload[58] ?? 0}`);
      if (payload[40] === 129) replies6.set(call, [...(replies6.get(call) ?? []), `${formatIpv6(payload.subarray(8, 24))}>${formatIpv6(payload.subarray(24, 40))}`]);
      return;
    }
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
/** SLAAC (RFC 4862 5.5.3): the advertised /64 and the interface identifier IPV6CP agreed. */
const address6 = (call: LacCall): Uint8Array | undefined => {
  const prefix = parseIpv6(advertised.get(call)?.split("/")[0] ?? "");
  const id = logins.stats.online.get(call)?.ipv6?.localInterfaceId;
  if (prefix === undefined || id === undefined) return undefined;
  const a = Uint8Array.from(prefix);
  a.set(id, 8);
  return a;
};
if (target6 !== "") {
  await until(() => advertised.size === count && [...logins.stats.online.values()].every((i) => i.ipv6 !== undefined), 5000);
  const dst6 = parseIpv6(target6) ?? new Uint8Array(16);
  for (const call of logins.stats.online.keys()) {
    const src6 = address6(call);
    if (src6 !== undefined) logins.send(call, 0x0057, buildIcmpv6Echo({ src: src6, dst: dst6, identifier: 7, sequence: ++seq, data: Buffer.from("lnsd ping6") }));
  }
  await until(() => replies6.size === count, 5000);
}
const result = {
  online: logins.stats.online.size,
  sessions: [...logins.stats.online].map(([call, info]) => {
    const a6 = address6(call);
    return { address: info.address, replies: replies.get(call) ?? [], ...(target6 === "" ? {} : { prefix: advertised.get(call) ?? "", address6: a6 === undefined ? "" : formatIpv6(a6), replies6: replies6.get(call) ?? [] }) };
  }),
};
await lac.stopAll();
lac.close();
process.stdout.write(JSON.stringify({ onlineInTime: online, ...result }) + "\n");
process.exit(0);
