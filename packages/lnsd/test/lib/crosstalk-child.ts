// Many subscribers at once, in the LAC's namespace: the test LAC logs tunnels x sessions in, each
// session sends one ICMP echo request naming itself to a host beyond lnsd, and every reply must come
// back on the session that asked, once, and nothing else. Prints {"result": {...}}.
// Arguments: LNS address, local address, target, tunnels, sessions per tunnel, password.
import { buildIcmpEcho, decodeIpv4Header, formatIpv4, parseIpv4 } from "@lnsd/wire";
import { LacSimulator, pppLogins, type LacCall } from "@lnsd/testkit";
import { emit, udpDrops, until } from "./child-io.js";

const [lnsAddr = "", bindAddr = "", target = "", tunnelsText = "1", perTunnelText = "1", password = ""] = process.argv.slice(2);
const tunnels = Number(tunnelsText);
const perTunnel = Number(perTunnelText);
const count = tunnels * perTunnel;
const startedAt = performance.now();

/** What came back on each call: "src>dst id=N text" for echo replies, "other ..." for the rest. */
const received = new Map<LacCall, string[]>();
const logins = pppLogins({
  username: (t, s) => `load-${t}-${s}`,
  password,
  authProtocols: ["chap"],
  onPacket: (call, protocol, payload) => {
    const h = decodeIpv4Header(payload);
    let what = `other protocol ${protocol.toString(16)}`;
    if (protocol === 0x0021 && h.ok) {
      const icmp = h.value.headerLength;
      const isReply = h.value.protocol === 1 && payload[icmp] === 0;
      const id = ((payload[icmp + 4] ?? 0) << 8) | (payload[icmp + 5] ?? 0);
      const text = Buffer.from(payload.subarray(icmp + 8, h.value.totalLength)).toString();
      what = isReply ? `${formatIpv4(h.value.src)}>${formatIpv4(h.value.dst)} id=${id} ${text}` : `other ${formatIpv4(h.value.src)}>${formatIpv4(h.value.dst)} proto ${h.value.protocol}`;
    }
    received.set(call, [...(received.get(call) ?? []), what]);
  },
});
const lac = new LacSimulator({ lns: { address: lnsAddr, port: 1701 }, bindAddress: bindAddr, tunnels, sessionsPerTunnel: perTunnel, calls: logins.handler });
await lac.start();
const online = await until(() => logins.stats.online.size === count, 40_000, 20);
const onlineMs = Math.round(performance.now() - startedAt);

const dst = parseIpv4(target) ?? 0;
const expected = new Map<LacCall, string>();
const calls = [...logins.stats.online];
const sentAt = performance.now();
// Paced a little (50 per 5 ms) so that the LAC's own socket keeps up with the replies.
for (let i = 0; i < calls.length; i++) {
  const entry = calls[i];
  if (entry === undefined) continue;
  const [call, info] = entry;
  const id = call.tunnelIndex * perTunnel + call.sessionIndex;
  const text = `session ${call.tunnelIndex}-${call.sessionIndex}`;
  expected.set(call, `${target}>${info.address} id=${id} ${text}`);
  logins.send(call, 0x0021, buildIcmpEcho({ src: parseIpv4(info.address) ?? 0, dst, identifier: id, sequence: 1, data: Buffer.from(text) }));
  if (i % 50 === 49) await new Promise((r) => setTimeout(r, 5));
}
await until(() => received.size >= expected.size, 5000, 20);
const repliedMs = Math.round(performance.now() - sentAt);
// Anything late or doubled would show in this time.
await new Promise((r) => setTimeout(r, 300));

let ownOnce = 0;
let missing = 0;
const wrong: string[] = [];
for (const [call, want] of expected) {
  const got = received.get(call) ?? [];
  if (got.length === 1 && got[0] === want) ownOnce++;
  else if (got.length === 0) missing++;
  else if (wrong.length < 20) wrong.push(`${call.tunnelIndex}-${call.sessionIndex} wanted [${want}] got ${JSON.stringify(got)}`);
}
const addresses = new Set([...logins.stats.online.values()].map((i) => i.address));
const result = {
  online: logins.stats.online.size,
  onlineInTime: online,
  onlineMs,
  repliedMs,
  tunnelsUp: lac.report().tunnels.up,
  distinctAddresses: addresses.size,
  sent: expected.size,
  ownOnce,
  missing,
  wrongCount: expected.size - ownOnce - missing,
  wrong,
  /** Frames on calls that never sent anything. */
  unexpected: [...received.keys()].filter((c) => !expected.has(c)).length,
  udpDrops: udpDrops(lac.local.port),
};
await lac.stopAll(5000);
lac.close();
emit("result", result);
process.exit(0);
