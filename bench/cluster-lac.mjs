// The cluster failover benchmark's LAC (bench/cluster.sh): the testkit LAC with TUNNELS x PER_TUNNEL
// calls from one UDP socket, each logging in with PPP (CHAP, user bench-T-S), a HELLO on every
// tunnel after each second without a control message from the LNS, and two probes per session,
// each every PROBE_MS from the moment the session is online:
//   lcp   an LCP Echo-Request (the PPP client's keepalive, sent whatever the traffic); a reply
//         counts when it comes before the next request (the client forgets older ones)
//   ping  an ICMP echo request from the session's address to TARGET (the LNS's TUN address)
//         through the tunnel; every reply counts, however late
// The time of every reply is kept per session and probe. Commands on stdin:
//   "report FROM TO PASS_FROM PASS_TO"  (epoch ms) prints {"report": ...}: per probe, each
//        session's longest stretch without a reply inside [FROM, TO] (the window's edges count
//        as replies), the median and the maximum over sessions, and how many sessions had a reply
//        inside [PASS_FROM, PASS_TO]; plus what the LAC saw of the LNS: StopCCN (tunnels it
//        closed), CDN (calls it cleared on a tunnel that stayed up), tunnels the LAC gave up on
//        (no acknowledgement within the retransmission budget), control messages retransmitted,
//        tunnels with a message still unacknowledged, sessions online.
//   "quit"  exits at once (no StopCCN: the LNS nodes are killed by the script anyway).
// Prints {"online": {...}} once every call is up (or after ONLINE_TIMEOUT s): how many, ms from
// the start, and in epoch ms when the LAC started (just before its first SCCRQ) and when the last
// session's IPCP came up, so that several LAC processes can be put on one clock; with the L2TP
// calls' and PPP's failures, for the sessions that did not come up. With PROGRESS_MS,
// prints {"progress": {...}} (the same, so far) that often until then.
// Arguments: LNS address, local address, target, tunnels, calls per tunnel, password, probe
// interval in ms (0: no probes at all, for the setup and resync measurements), HELLO interval in
// ms, ONLINE_TIMEOUT in s (60), PROGRESS_MS (0: none), TUNNEL_BASE (0: the users are
// bench-(TUNNEL_BASE+T)-S, so that several LAC processes log in distinct users). Needs the
// repository built (npx tsc -b).
import { createInterface } from "node:readline";
import { LacSimulator, pppLogins } from "../packages/testkit/dist/src/index.js";
import { buildIcmpEcho, decodeIpv4Header, formatIpv4, parseIpv4 } from "../packages/wire/dist/src/index.js";

const [lns = "", local = "", target = "", tunnelsText = "1", perText = "1", password = "", probeText = "100", helloText = "1000", onlineTimeoutText = "60", progressText = "0", tunnelBaseText = "0"] = process.argv.slice(2);
const tunnels = Number(tunnelsText);
const per = Number(perText);
const probeMs = Number(probeText);
const helloMs = Number(helloText);
const onlineTimeoutMs = Number(onlineTimeoutText) * 1000;
const progressMs = Number(progressText);
const tunnelBase = Number(tunnelBaseText);
const total = tunnels * per;
const PPP_IPV4 = 0x0021;
const dst = parseIpv4(target) ?? 0;
const emit = (key, value) => { process.stdout.write(`${JSON.stringify({ [key]: value })}\n`); };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const indexOf = (call) => call.tunnelIndex * per + call.sessionIndex;

/** Per probe, per session index: epoch ms of every reply, in order. */
const replies = { lcp: new Map(), ping: new Map() };
const note = (probe, i) => {
  let a = replies[probe].get(i);
  if (a === undefined) replies[probe].set(i, (a = []));
  a.push(Date.now());
};
/** What the LNS did to the LAC's tunnels and calls, with when (epoch ms). */
const seen = { stopccn: [], cdn: [], givenUp: [] };
const tunnelSeen = new Set();
/** Epoch ms of the latest session's IPCP up. */
let lastUpAt = 0;

const logins = pppLogins({
  username: (t, s) => `bench-${tunnelBase + t}-${s}`,
  password,
  authProtocols: ["chap", "pap"],
  ...(probeMs > 0 ? { echo: { intervalMs: probeMs, onEcho: (call, sample) => { if (sample.kind === "reply") note("lcp", indexOf(call)); } } } : {}),
  onUp: () => { lastUpAt = Date.now(); },
  onPacket: (call, protocol, payload) => {
    const h = decodeIpv4Header(payload);
    if (protocol !== PPP_IPV4 || !h.ok || h.value.protocol !== 1 || formatIpv4(h.value.src) !== target) return;
    if (payload[h.value.headerLength] !== 0) return; // echo reply only
    note("ping", indexOf(call));
  },
});
// A CDN from the LNS on a tunnel that is still up (calls dropped with their tunnel are counted as
// the tunnel's StopCCN).
const calls = {
  up: (call) => { logins.handler.up(call); },
  frame: (call, frame) => { logins.handler.frame(call, frame); },
  down: (call) => {
    const end = call.session.end;
    if (end?.by === "peer" && call.tunnel.state === "established") seen.cdn.push({ at: Date.now(), call: indexOf(call), result: end.resultCode, message: end.message ?? "" });
    logins.handler.down(call);
  },
};
const lac = new LacSimulator({
  lns: { address: lns, port: 1701 },
  bindAddress: local,
  tunnels,
  sessionsPerTunnel: per,
  calls,
  maxCallsInSetup: 100,
  config: { helloIntervalMs: helloMs },
  log: (level, reason, message) => {
    if (level === "error" || level === "warn") process.stderr.write(`${new Date().toISOString()} lac ${level} ${reason}: ${message}\n`);
  },
});
const t0 = performance.now();
const startAt = Date.now();
await lac.start();

// Tunnels closing: by the LNS (StopCCN) or by the LAC (its retransmissions went unacknowledged).
setInterval(() => {
  for (const t of lac.node.tunnels.values()) {
    if (tunnelSeen.has(t) || (t.state !== "closing" && t.state !== "closed") || t.end === undefined) continue;
    tunnelSeen.add(t);
    const rec = { at: Date.now(), result: t.end.resultCode, message: t.end.message ?? "" };
    if (t.end.by === "peer") seen.stopccn.push(rec);
    else seen.givenUp.push(rec);
  }
}, 50).unref();

// Pings: every session online, every probeMs.
let seq = 0;
if (probeMs > 0) setInterval(() => {
  seq = (seq + 1) & 0xffff;
  for (const [call, info] of logins.stats.online) {
    logins.send(call, PPP_IPV4, buildIcmpEcho({ src: parseIpv4(info.address) ?? 0, dst, identifier: indexOf(call) & 0xffff, sequence: seq, data: Buffer.alloc(8) }));
  }
}, probeMs);

/** Sessions online, and what kept the others from coming up: L2TP calls (up, refused, failed, down) and PPP failures. */
function loginState() {
  const r = lac.report();
  return {
    online: logins.stats.online.size, of: total, at: Date.now(), startAt, lastUpAt,
    calls: { up: r.sessions.up, refused: r.sessions.refused, failed: r.sessions.failed, down: r.sessions.down },
    tunnelsUp: r.tunnels.up, pppFailures: Object.fromEntries(logins.stats.failures),
  };
}
const deadline = Date.now() + onlineTimeoutMs;
const progress = progressMs > 0 ? setInterval(() => { emit("progress", loginState()); }, progressMs) : undefined;
while (logins.stats.online.size < total && Date.now() < deadline) await sleep(50);
clearInterval(progress);
emit("online", { ...loginState(), ms: Math.round(performance.now() - t0) });

function median(xs) {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : Math.round((s[m - 1] + s[m]) / 2);
}

function probeReport(probe, from, to, passFrom, passTo) {
  const gaps = [];
  let passing = 0;
  let before = 0;
  for (let i = 0; i < total; i++) {
    const times = replies[probe].get(i) ?? [];
    let last = from;
    let gap = 0;
    let answeredBefore = false;
    let passed = false;
    for (const at of times) {
      if (at >= passFrom && at <= passTo) passed = true;
      if (at < from || at > to) continue;
      if (at < from + 1000) answeredBefore = true;
      gap = Math.max(gap, at - last);
      last = at;
    }
    gap = Math.max(gap, to - last);
    gaps.push(gap);
    if (passed) passing++;
    if (answeredBefore) before++;
  }
  gaps.sort((a, b) => a - b);
  return { answeredBefore: before, medianGapMs: median(gaps), maxGapMs: gaps.length === 0 ? null : gaps[gaps.length - 1], passing };
}

function report(from, to, passFrom, passTo) {
  let retransmitted = 0;
  let unacked = 0;
  let established = 0;
  for (const t of lac.node.tunnels.values()) {
    retransmitted += t.transport.counters.retransmitted;
    if (t.state === "established") {
      established++;
      if (!t.transport.idle) unacked++;
    }
  }
  const inWindow = (xs) => xs.filter((e) => e.at >= from);
  emit("report", {
    of: total,
    online: logins.stats.online.size,
    lcp: probeReport("lcp", from, to, passFrom, passTo),
    ping: probeReport("ping", from, to, passFrom, passTo),
    stopccn: inWindow(seen.stopccn),
    cdn: inWindow(seen.cdn).length,
    cdnFirst: inWindow(seen.cdn)[0] ?? null,
    givenUp: inWindow(seen.givenUp),
    tunnelsEstablished: established,
    tunnelsUnacked: unacked,
    retransmitted,
  });
}

for await (const line of createInterface({ input: process.stdin })) {
  const [cmd, ...args] = line.trim().split(/\s+/);
  if (cmd === "report") {
    const [from, to, passFrom, passTo] = args.map(Number);
    report(from, to, passFrom, passTo);
  }
  if (cmd === "quit") break;
}
lac.close();
process.exit(0);
