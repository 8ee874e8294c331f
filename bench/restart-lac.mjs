// The restart benchmark's LAC (bench/restart.sh): the testkit LAC with TUNNELS x PER_TUNNEL calls
// from one UDP socket, each logging in with PPP (CHAP, user bench-T-S), then, on commands from
// stdin, probing every session with one ICMP echo request to TARGET through lnsd:
//   "watch EPOCH_MS"  from now on, every 100 ms, each session not yet answered since EPOCH_MS
//                     sends one echo request; prints {"watched": ...} once every session has had a
//                     reply to a request sent after EPOCH_MS (or after 120 s): when the first and
//                     the last session passed traffic again, in epoch ms.
//   "stop"            StopCCN on every tunnel, then exit.
// Prints {"online": {...}} once every call is up (or after 300 s). Arguments: LNS address, local
// address, target, tunnels, calls per tunnel, password. Needs the repository built (npx tsc -b).
import { createInterface } from "node:readline";
import { LacSimulator, pppLogins } from "../packages/testkit/dist/src/index.js";
import { buildIcmpEcho, decodeIpv4Header, formatIpv4, parseIpv4 } from "../packages/wire/dist/src/index.js";

const [lns = "", local = "", target = "", tunnelsText = "1", perText = "1", password = ""] = process.argv.slice(2);
const tunnels = Number(tunnelsText);
const per = Number(perText);
const total = tunnels * per;
const PPP_IPV4 = 0x0021;
const dst = parseIpv4(target) ?? 0;
const emit = (key, value) => { process.stdout.write(`${JSON.stringify({ [key]: value })}\n`); };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Per session index: the epoch ms of the first reply to a request sent after `since`. */
let since = Number.POSITIVE_INFINITY;
const answeredAt = new Map();
const indexOf = (call) => call.tunnelIndex * per + call.sessionIndex;

const logins = pppLogins({
  username: (t, s) => `bench-${t}-${s}`,
  password,
  authProtocols: ["chap", "pap"],
  onPacket: (call, protocol, payload) => {
    const h = decodeIpv4Header(payload);
    if (protocol !== PPP_IPV4 || !h.ok || h.value.protocol !== 1 || formatIpv4(h.value.src) !== target) return;
    const icmp = h.value.headerLength;
    if (payload[icmp] !== 0) return;
    // The request's send time (epoch ms, low 32 bits of seconds*1000 are enough here) rides in its data.
    const sentAt = Number(Buffer.from(payload.subarray(icmp + 8, h.value.totalLength)).toString());
    const i = indexOf(call);
    if (sentAt >= since && !answeredAt.has(i)) answeredAt.set(i, Date.now());
  },
});
const lac = new LacSimulator({ lns: { address: lns, port: 1701 }, bindAddress: local, tunnels, sessionsPerTunnel: per, calls: logins.handler, maxCallsInSetup: 100 });
const t0 = performance.now();
await lac.start();
const deadline = Date.now() + 300_000;
while (logins.stats.online.size < total && Date.now() < deadline) await sleep(50);
emit("online", { online: logins.stats.online.size, of: total, ms: Math.round(performance.now() - t0) });

async function watch(from) {
  since = from;
  answeredAt.clear();
  const stop = Date.now() + 120_000;
  let seq = 0;
  while (answeredAt.size < total && Date.now() < stop) {
    seq = (seq + 1) & 0xffff;
    for (const [call, info] of logins.stats.online) {
      const i = indexOf(call);
      if (answeredAt.has(i)) continue;
      logins.send(call, PPP_IPV4, buildIcmpEcho({ src: parseIpv4(info.address) ?? 0, dst, identifier: i & 0xffff, sequence: seq, data: Buffer.from(String(Date.now())) }));
    }
    await sleep(100);
  }
  const times = [...answeredAt.values()];
  emit("watched", { answered: answeredAt.size, of: total, stillOnline: logins.stats.online.size, first: times.reduce((a, b) => Math.min(a, b), Infinity), last: times.reduce((a, b) => Math.max(a, b), 0) });
}

for await (const line of createInterface({ input: process.stdin })) {
  const [cmd, arg] = line.trim().split(/\s+/);
  if (cmd === "watch") await watch(Number(arg));
  if (cmd === "stop") {
    await lac.stopAll(5000);
    lac.close();
    process.exit(0);
  }
}
lac.close();
process.exit(0);
