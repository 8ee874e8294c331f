// Named subscribers for the policy test, in the LAC's namespace: the test LAC logs each username in
// on one tunnel, and this process sends the IP packets the test gives it (hex) on a user's session
// and keeps, per user, every IP packet lnsd delivered to it. It answers ICMP echo requests to a
// session's address itself (as a subscriber's host would), and keeps those replies too, so that the
// test knows every byte that crossed each session both ways.
// Arguments: LNS address, local address, password, usernames separated by commas.
// Says {"up": {"online": {user: address}, "failures": {reason: n}}} once each login has ended one way
// or the other; "send USER HEX" answers {"sent": bool}; "take USER" answers {"taken": {received,
// replied}} (hex, since the last take); "stop" hangs up and says {"stopped": udpDrops}.
import { buildIcmpEcho, decodeIpv4Header, formatIpv4 } from "@lnsd/wire";
import { LacSimulator, pppLogins, type LacCall } from "@lnsd/testkit";
import { commands, emit, udpDrops, until } from "./child-io.js";

const [lnsAddr = "", bindAddr = "", password = "", usersText = ""] = process.argv.slice(2);
const users = usersText.split(",");
const PPP_IPV4 = 0x0021;

interface Seen {
  received: string[];
  replied: string[];
}
const seen = new Map<string, Seen>();
const seenBy = (user: string): Seen => {
  let s = seen.get(user);
  if (s === undefined) seen.set(user, (s = { received: [], replied: [] }));
  return s;
};

const logins = pppLogins({
  username: (_t, s) => users[s] ?? `unknown-${s}`,
  password,
  authProtocols: ["chap"],
  onPacket: (call, protocol, payload) => {
    const user = users[call.sessionIndex] ?? "";
    if (protocol !== PPP_IPV4) return;
    const s = seenBy(user);
    s.received.push(Buffer.from(payload).toString("hex"));
    const h = decodeIpv4Header(payload);
    const icmp = h.ok ? h.value.headerLength : 0;
    // RFC 792: an echo request (type 8) to this subscriber is answered with its identifier, sequence and data.
    if (!h.ok || h.value.protocol !== 1 || payload[icmp] !== 8 || formatIpv4(h.value.dst) !== logins.stats.online.get(call)?.address) return;
    const data = payload.subarray(icmp + 8, h.value.totalLength);
    const id = ((payload[icmp + 4] ?? 0) << 8) | (payload[icmp + 5] ?? 0);
    const seq = ((payload[icmp + 6] ?? 0) << 8) | (payload[icmp + 7] ?? 0);
    const reply = buildIcmpEcho({ src: h.value.dst, dst: h.value.src, identifier: id, sequence: seq, data, reply: true });
    if (logins.send(call, PPP_IPV4, reply)) s.replied.push(reply.toString("hex"));
  },
});
const lac = new LacSimulator({ lns: { address: lnsAddr, port: 1701 }, bindAddress: bindAddr, tunnels: 1, sessionsPerTunnel: users.length, calls: logins.handler });
await lac.start();
const ended = (): number => logins.stats.online.size + [...logins.stats.failures.values()].reduce((a, b) => a + b, 0);
await until(() => ended() >= users.length, 20_000, 20);
const online: Record<string, string> = {};
for (const [call, info] of logins.stats.online) online[users[call.sessionIndex] ?? ""] = info.address;
emit("up", { online, failures: Object.fromEntries(logins.stats.failures) });

const callOf = (user: string): LacCall | undefined => [...logins.stats.online.keys()].find((c) => users[c.sessionIndex] === user);
commands(async (words) => {
  switch (words[0]) {
    case "send": {
      const call = callOf(words[1] ?? "");
      emit("sent", call !== undefined && logins.send(call, PPP_IPV4, Buffer.from(words[2] ?? "", "hex")));
      return;
    }
    case "take": {
      const user = words[1] ?? "";
      emit("taken", seenBy(user));
      seen.delete(user);
      return;
    }
    case "stop":
    case "eof": {
      const drops = udpDrops(lac.local.port);
      await lac.stopAll(3000);
      emit("stopped", drops);
      lac.close();
      process.exit(0);
    }
  }
});
