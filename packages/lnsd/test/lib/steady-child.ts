// Many subscribers pinging steadily, in the LAC's namespace, for the policy test's "plugins loaded
// and unloaded under traffic": the test LAC logs tunnels x sessions in and says {"online": {...}};
// "go SECONDS INTERVAL_MS" makes every session send one ICMP echo request (naming the session in
// its identifier, sequence and data) to the target each INTERVAL_MS for SECONDS, staggered over the
// interval, then waits for the last replies and says {"result": {...}}: every request and reply
// counted, per session. "stop" hangs up.
// Arguments: LNS address, local address, target, tunnels, sessions per tunnel, password.
import { buildIcmpEcho, decodeIpv4Header, formatIpv4, parseIpv4 } from "@lnsd/wire";
import { LacSimulator, pppLogins, type LacCall } from "@lnsd/testkit";
import { commands, emit, udpDrops, until } from "./child-io.js";

const [lnsAddr = "", bindAddr = "", target = "", tunnelsText = "1", perTunnelText = "1", password = ""] = process.argv.slice(2);
const tunnels = Number(tunnelsText);
const perTunnel = Number(perTunnelText);
const count = tunnels * perTunnel;
const PPP_IPV4 = 0x0021;
const startedAt = performance.now();

interface Tally {
  sent: number;
  /** Replies by sequence number. */
  replies: Map<number, number>;
  wrong: number;
}
const tally = new Map<LacCall, Tally>();
const wrongExamples: string[] = [];
const indexOf = (call: LacCall): number => call.tunnelIndex * perTunnel + call.sessionIndex;
const text = (i: number, seq: number): string => `steady ${i} ${seq}`;

const logins = pppLogins({
  username: (t, s) => `steady-${t}-${s}`,
  password,
  authProtocols: ["chap"],
  onPacket: (call, protocol, payload) => {
    const h = decodeIpv4Header(payload);
    const mine = tally.get(call);
    if (protocol !== PPP_IPV4 || !h.ok || mine === undefined) return;
    const icmp = h.value.headerLength;
    const id = ((payload[icmp + 4] ?? 0) << 8) | (payload[icmp + 5] ?? 0);
    const seq = ((payload[icmp + 6] ?? 0) << 8) | (payload[icmp + 7] ?? 0);
    const data = Buffer.from(payload.subarray(icmp + 8, h.value.totalLength)).toString();
    const i = indexOf(call);
    if (h.value.protocol === 1 && payload[icmp] === 0 && formatIpv4(h.value.src) === target && id === i && data === text(i, seq)) {
      mine.replies.set(seq, (mine.replies.get(seq) ?? 0) + 1);
    } else {
      mine.wrong++;
      if (wrongExamples.length < 10) wrongExamples.push(`session ${i}: proto ${h.value.protocol} ${formatIpv4(h.value.src)}>${formatIpv4(h.value.dst)} type ${payload[icmp] ?? -1} id ${id} "${data.slice(0, 40)}"`);
    }
  },
});
const lac = new LacSimulator({ lns: { address: lnsAddr, port: 1701 }, bindAddress: bindAddr, tunnels, sessionsPerTunnel: perTunnel, calls: logins.handler });
await lac.start();
const allOnline = await until(() => logins.stats.online.size === count, 40_000, 20);
emit("online", { online: logins.stats.online.size, allOnline, ms: Math.round(performance.now() - startedAt), tunnelsUp: lac.report().tunnels.up });

const dst = parseIpv4(target) ?? 0;

async function run(seconds: number, intervalMs: number): Promise<void> {
  const calls = [...logins.stats.online];
  for (const [call] of calls) tally.set(call, { sent: 0, replies: new Map(), wrong: 0 });
  const rounds = Math.floor((seconds * 1000) / intervalMs);
  const total = rounds * calls.length;
  const perMs = calls.length / intervalMs;
  const t0 = performance.now();
  let next = 0;
  // Request n goes to session n % sessions, round n / sessions: due at t0 + n / perMs.
  while (next < total) {
    const due = Math.min(total, Math.floor((performance.now() - t0) * perMs) + 1);
    for (; next < due; next++) {
      const entry = calls[next % calls.length];
      if (entry === undefined) continue;
      const [call, info] = entry;
      const i = indexOf(call);
      const seq = Math.floor(next / calls.length);
      const mine = tally.get(call);
      if (mine === undefined) continue;
      if (logins.send(call, PPP_IPV4, buildIcmpEcho({ src: parseIpv4(info.address) ?? 0, dst, identifier: i, sequence: seq, data: Buffer.from(text(i, seq)) }))) mine.sent++;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  const sentMs = Math.round(performance.now() - t0);
  const received = (): number => [...tally.values()].reduce((a, m) => a + m.replies.size, 0);
  await until(() => received() >= total, 3000, 20);
  // Late or doubled replies would show in this time.
  await new Promise((r) => setTimeout(r, 200));
  let sent = 0;
  let answered = 0;
  let duplicates = 0;
  let wrong = 0;
  const lossy: string[] = [];
  let sessionsWithLoss = 0;
  for (const [call, m] of tally) {
    sent += m.sent;
    answered += m.replies.size;
    wrong += m.wrong;
    for (const n of m.replies.values()) duplicates += n - 1;
    if (m.replies.size < m.sent) {
      sessionsWithLoss++;
      if (lossy.length < 10) {
        const missing: number[] = [];
        for (let s = 0; s < m.sent; s++) if (!m.replies.has(s)) missing.push(s);
        lossy.push(`session ${indexOf(call)}: ${m.sent - m.replies.size} of ${m.sent} unanswered (seq ${missing.slice(0, 8).join(",")})`);
      }
    }
  }
  emit("result", { sessions: calls.length, stillOnline: logins.stats.online.size, rounds, sentMs, sent, answered, lost: sent - answered, sessionsWithLoss, lossy, duplicates, wrong, wrongExamples, udpDrops: udpDrops(lac.local.port) });
}

commands(async (words) => {
  switch (words[0]) {
    case "go":
      await run(Number(words[1] ?? "1"), Number(words[2] ?? "500"));
      return;
    case "stop":
    case "eof":
      await lac.stopAll(5000);
      emit("stopped", true);
      lac.close();
      process.exit(0);
  }
});
