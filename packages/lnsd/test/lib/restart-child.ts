// The test LAC of the restart test (issue 13), in the LAC's namespace: tunnels x sessions logged in,
// then every session pings the target each INTERVAL_MS without pause, sends LCP Echo-Requests each
// ECHO_MS and every tunnel a HELLO after HELLO_MS without a control message from the LNS. What the
// LNS sends is watched on the wire (the simulator's socket, wrapped): HELLOs acknowledged, and any
// CDN or StopCCN. The test cuts the run in phases ("phase NAME" as it stops lnsd) and asks for each
// phase's account ("report NAME AFTER SETTLED", epoch ms: replies, losses, who answered again after
// AFTER, what was lost from SETTLED on). Commands: "go", "phase NAME", "report ...", "end" (pinging stops), "clear" (CDN on
// every call), "stop" (StopCCN on every tunnel, exit). Says {"online"}, {"phased"}, {"report"},
// {"ended"}, {"cleared"}, {"stopped"}.
// Arguments: LNS address, local address, target, tunnels, sessions per tunnel, password,
// INTERVAL_MS, ECHO_MS, HELLO_MS.
import { openUdpEndpoint, type UdpEndpoint } from "@lnsd/io";
import { AvpType, buildIcmpEcho, decodeIpv4Header, decodeL2tpHeader, formatIpv4, L2tpMessageType, l2tpMessageTypeName, parseIpv4, peekControlAvp } from "@lnsd/wire";
import { LacSimulator, pppLogins, type LacCall } from "@lnsd/testkit";
import { commands, emit, udpDrops, until } from "./child-io.js";

const [lnsAddr = "", bindAddr = "", target = "", tunnelsText = "1", perTunnelText = "1", password = "", intervalText = "100", echoText = "2000", helloText = "1000"] = process.argv.slice(2);
const tunnels = Number(tunnelsText);
const perTunnel = Number(perTunnelText);
const intervalMs = Number(intervalText);
const sessions = tunnels * perTunnel;
const PPP_IPV4 = 0x0021;
/** A reply this long after its request was held on the way. */
const LATE_MS = 500;
const ICMP = 1;
const startedAt = Date.now();

/** One session's pings and LCP echoes, by sequence number: when sent, when answered (NaN: not yet). */
interface Line {
  readonly index: number;
  readonly sentAt: number[];
  readonly repliedAt: number[];
  duplicates: number;
  wrong: number;
  echoReplies: number[];
  echoLost: number[];
  /** Times IPCP came up: 1 unless PPP started again. */
  ups: number;
}
const lines: Line[] = Array.from({ length: sessions }, (_, index) => ({ index, sentAt: [], repliedAt: [], duplicates: 0, wrong: 0, echoReplies: [], echoLost: [], ups: 0 }));
const lineOf = (call: LacCall): Line | undefined => lines[call.tunnelIndex * perTunnel + call.sessionIndex];
const payloadOf = (i: number, seq: number): string => `rst ${i}/${seq}`;
const wrongExamples: string[] = [];

/** HELLOs we sent, by "peer tunnel id/Ns": when sent and when first acknowledged. */
const hellos = new Map<string, { readonly tunnel: number; readonly ns: number; readonly sentAt: number; ackedAt?: number }>();
/** Control messages from the LNS by type name, with when each CDN or StopCCN arrived. */
const received = new Map<string, number>();
const teardowns: string[] = [];

/** The Message Type AVP's value (RFC 2661 4.4.1); undefined for a ZLB or when unreadable. */
function messageType(p: Buffer): number | undefined {
  const v = peekControlAvp(p, AvpType.MessageType);
  return v?.length === 2 ? ((v[0] ?? 0) << 8) | (v[1] ?? 0) : undefined;
}

/** RFC 2661 5.8: Nr acknowledges Ns when Ns comes before Nr, modulo 2^16. */
const acks = (nr: number, ns: number): boolean => ((nr - ns) & 0xffff) !== 0 && ((nr - ns) & 0xffff) < 0x8000;

/** The simulator, once made: its tunnels tell our tunnel ids from the LNS's. */
const lac: { sim?: LacSimulator } = {};

function outbound(p: Buffer): void {
  const h = decodeL2tpHeader(p);
  if (!h.ok || h.value.kind !== "control" || h.value.payloadLength === 0) return;
  if (messageType(p) !== L2tpMessageType.HELLO) return;
  const key = `${h.value.tunnelId}/${h.value.ns}`;
  // A retransmission keeps the first sending time.
  if (!hellos.has(key)) hellos.set(key, { tunnel: h.value.tunnelId, ns: h.value.ns, sentAt: Date.now() });
}

function inbound(p: Buffer): void {
  const h = decodeL2tpHeader(p);
  if (!h.ok || h.value.kind !== "control") return;
  const now = Date.now();
  // What we send carries the LNS's tunnel id; what it sends, ours.
  const peerId = lac.sim?.node.tunnels.get(h.value.tunnelId)?.peerId;
  for (const hello of hellos.values()) if (hello.ackedAt === undefined && hello.tunnel === peerId && acks(h.value.nr, hello.ns)) hello.ackedAt = now;
  const type = messageType(p);
  const name = h.value.payloadLength === 0 ? "ZLB" : type === undefined ? "unreadable" : l2tpMessageTypeName(type);
  received.set(name, (received.get(name) ?? 0) + 1);
  if (name === "CDN" || name === "StopCCN") teardowns.push(`${new Date(now).toISOString()} ${name} on tunnel ${h.value.tunnelId} session ${h.value.sessionId}`);
}

/** The simulator's socket, with both directions seen on the way. */
function watched(udp: UdpEndpoint): UdpEndpoint {
  return {
    get local() {
      return udp.local;
    },
    send: (packet, to) => {
      outbound(packet);
      udp.send(packet, to);
    },
    onMessage: (handler) => {
      udp.onMessage((packet, from) => {
        inbound(packet);
        handler(packet, from);
      });
    },
    close: () => { udp.close(); },
  };
}

const logins = pppLogins({
  username: (t, s) => `rst-${t}-${s}`,
  password,
  authProtocols: ["chap"],
  echo: {
    intervalMs: Number(echoText),
    onEcho: (call, sample) => {
      const line = lineOf(call);
      if (sample.kind === "reply") line?.echoReplies.push(Date.now());
      else line?.echoLost.push(Date.now());
    },
  },
  onUp: (call) => {
    const line = lineOf(call);
    if (line !== undefined) line.ups++;
  },
  onPacket: (call, protocol, payload) => {
    const line = lineOf(call);
    const h = decodeIpv4Header(payload);
    if (line === undefined || protocol !== PPP_IPV4 || !h.ok) return;
    const at = h.value.headerLength;
    const id = payload[at + 4] === undefined ? -1 : ((payload[at + 4] ?? 0) << 8) | (payload[at + 5] ?? 0);
    const seq = ((payload[at + 6] ?? 0) << 8) | (payload[at + 7] ?? 0);
    const body = Buffer.from(payload.subarray(at + 8, h.value.totalLength)).toString();
    const fine = h.value.protocol === ICMP && payload[at] === 0 && formatIpv4(h.value.src) === target && id === line.index && body === payloadOf(line.index, seq) && seq < line.sentAt.length;
    if (!fine) {
      line.wrong++;
      if (wrongExamples.length < 10) wrongExamples.push(`session ${line.index}: ${formatIpv4(h.value.src)} > ${formatIpv4(h.value.dst)} protocol ${h.value.protocol} type ${payload[at] ?? -1} id ${id} seq ${seq}`);
    } else if (Number.isNaN(line.repliedAt[seq])) line.repliedAt[seq] = Date.now();
    else line.duplicates++;
  },
});

const udp = watched(await openUdpEndpoint(bindAddr, 0));
const sim = new LacSimulator({ lns: { address: lnsAddr, port: 1701 }, endpoint: udp, tunnels, sessionsPerTunnel: perTunnel, calls: logins.handler, config: { helloIntervalMs: Number(helloText) } });
lac.sim = sim;
await sim.start();
const allOnline = await until(() => logins.stats.online.size === sessions, 60_000, 20);
emit("online", { online: logins.stats.online.size, allOnline, ms: Date.now() - startedAt, tunnelsUp: sim.report().tunnels.up, failures: Object.fromEntries(logins.stats.failures) });

/** Phases by name, each from its start (epoch ms) to the next one's. */
const phases: { readonly name: string; readonly from: number; readonly drops: number }[] = [];
let pinging: NodeJS.Timeout | undefined;
/** When the LAC's socket dropped replies (its receive buffer full): [epoch ms, how many]. */
const dropTimes: [number, number][] = [];
let dropsSeen = 0;
const dropWatch = setInterval(() => {
  const d = udpDrops(sim.local.port);
  if (d > dropsSeen) dropTimes.push([Date.now(), d - dropsSeen]);
  dropsSeen = d;
}, 20);

/** Each session one echo request each intervalMs, the sessions spread evenly over the interval. */
function go(): void {
  const calls = new Map<number, [LacCall, string]>();
  for (const [call, info] of logins.stats.online) calls.set(call.tunnelIndex * perTunnel + call.sessionIndex, [call, info.address]);
  const dst = parseIpv4(target) ?? 0;
  const t0 = performance.now();
  let done = 0;
  pinging = setInterval(() => {
    const due = Math.floor(((performance.now() - t0) * sessions) / intervalMs);
    for (; done < due; done++) {
      const line = lines[done % sessions];
      const call = line === undefined ? undefined : calls.get(line.index);
      if (line === undefined || call === undefined) continue;
      const seq = line.sentAt.length;
      line.sentAt.push(Date.now());
      line.repliedAt.push(Number.NaN);
      logins.send(call[0], PPP_IPV4, buildIcmpEcho({ src: parseIpv4(call[1]) ?? 0, dst, identifier: line.index, sequence: seq & 0xffff, data: Buffer.from(payloadOf(line.index, seq)) }));
    }
  }, 4);
}

/** min, median, max. */
function spread(xs: readonly number[]): [number, number, number] {
  const s = [...xs].sort((a, b) => a - b);
  return [s[0] ?? 0, s[Math.floor(s.length / 2)] ?? 0, s[s.length - 1] ?? 0];
}

/**
 * A phase's account. `after` (epoch ms): lnsd started again; what answered after it. Pings sent
 * from `settled` (epoch ms) on must all be answered; those sent between a session's first reply
 * and then may meet the burst of requests lnsd's socket held while it started (counted apart).
 */
function report(name: string, after: number, settled: number): unknown {
  const at = phases.findIndex((p) => p.name === name);
  const from = phases[at]?.from ?? 0;
  const to = phases[at + 1]?.from ?? Number.POSITIVE_INFINITY;
  const within = (t: number): boolean => t >= from && t < to;
  let sent = 0;
  let answered = 0;
  let lostSettling = 0;
  let lostSettled = 0;
  /** Replies to requests held for more than LATE_MS, and the longest round trip. */
  let late = 0;
  let maxRttMs = 0;
  const lostPerSession: number[] = [];
  const firstReplyAfter: number[] = [];
  const echoRepliedAfter: number[] = [];
  const lossy: string[] = [];
  for (const line of lines) {
    let lost = 0;
    let first = Number.POSITIVE_INFINITY;
    for (let seq = 0; seq < line.sentAt.length; seq++) {
      const s = line.sentAt[seq] ?? 0;
      const r = line.repliedAt[seq] ?? Number.NaN;
      if (!within(s)) continue;
      sent++;
      if (Number.isNaN(r)) {
        lost++;
        continue;
      }
      answered++;
      if (r >= after) first = Math.min(first, r);
      if (r - s > LATE_MS) late++;
      maxRttMs = Math.max(maxRttMs, r - s);
    }
    for (let seq = 0; seq < line.sentAt.length; seq++) {
      const s = line.sentAt[seq] ?? 0;
      if (!within(s) || !Number.isNaN(line.repliedAt[seq] ?? Number.NaN)) continue;
      if (s >= settled) {
        lostSettled++;
        if (lossy.length < 10) lossy.push(`session ${line.index} seq ${seq} sent ${s - settled} ms after the settling time`);
      } else if (s > first) lostSettling++;
    }
    lostPerSession.push(lost);
    if (Number.isFinite(first)) firstReplyAfter.push(first);
    const echoAfter = line.echoReplies.filter((t) => within(t) && t >= after);
    if (echoAfter.length > 0) echoRepliedAfter.push(Math.min(...echoAfter));
  }
  const hellosIn = [...hellos.values()].filter((h) => within(h.sentAt));
  const tunnelsAcked = new Set([...hellos.values()].filter((h) => h.ackedAt !== undefined && within(h.ackedAt) && h.ackedAt >= after).map((h) => h.tunnel));
  return {
    name,
    from,
    sent,
    answered,
    lost: sent - answered,
    lostPerSession: spread(lostPerSession),
    sessionsAnsweredAfter: firstReplyAfter.length,
    firstReplyAfter: spread(firstReplyAfter),
    lostSettling,
    lostSettled,
    lossy,
    late,
    maxRttMs,
    echoRepliesInPhase: lines.reduce((n, l) => n + l.echoReplies.filter(within).length, 0),
    echoLostInPhase: lines.reduce((n, l) => n + l.echoLost.filter(within).length, 0),
    sessionsEchoAnsweredAfter: echoRepliedAfter.length,
    echoAnsweredAfter: spread(echoRepliedAfter),
    hellosSent: hellosIn.length,
    hellosAcked: hellosIn.filter((h) => h.ackedAt !== undefined).length,
    tunnelsHelloAckedAfter: tunnelsAcked.size,
    hellos: hellosIn.map((h) => `${h.tunnel}/${h.ns} +${h.sentAt - from}${h.ackedAt === undefined ? "" : ` acked +${h.ackedAt - from}`}`),
    /** Replies the kernel dropped at the LAC's socket (its receive buffer full). */
    lacDropTimes: dropTimes.filter(([at]) => within(at)).map(([at, n]) => `+${at - from}:${n}`),
    lacUdpDrops: (phases[at + 1]?.drops ?? udpDrops(sim.local.port)) - (phases[at]?.drops ?? 0),
  };
}

commands(async (words) => {
  switch (words[0]) {
    case "go":
      phases.push({ name: "before", from: Date.now(), drops: udpDrops(sim.local.port) });
      go();
      return;
    case "phase": {
      const from = Date.now();
      phases.push({ name: words[1] ?? "?", from, drops: udpDrops(sim.local.port) });
      emit("phased", from);
      return;
    }
    case "report":
      emit("report", report(words[1] ?? "", Number(words[2] ?? "0"), Number(words[3] ?? "0")));
      return;
    case "end": {
      clearInterval(pinging);
      // The last requests' replies.
      await new Promise((r) => setTimeout(r, 500));
      phases.push({ name: "end", from: Date.now(), drops: udpDrops(sim.local.port) });
      const r = sim.report();
      emit("ended", {
        stillOnline: logins.stats.online.size,
        callsDown: r.sessions.down,
        tunnelsUp: r.tunnels.up,
        tunnelsEstablished: r.tunnels.established,
        pppRestarts: lines.reduce((n, l) => n + Math.max(0, l.ups - 1), 0),
        pppFailures: Object.fromEntries(logins.stats.failures),
        duplicates: lines.reduce((n, l) => n + l.duplicates, 0),
        wrong: lines.reduce((n, l) => n + l.wrong, 0),
        wrongExamples,
        received: Object.fromEntries(received),
        teardowns,
        pingsPerSession: spread(lines.map((l) => l.sentAt.length)),
        repliesPerSession: spread(lines.map((l) => l.repliedAt.filter((at) => !Number.isNaN(at)).length)),
        retransmitted: r.reliable.retransmitted,
        udpDrops: udpDrops(sim.local.port),
      });
      return;
    }
    case "clear":
      emit("cleared", { acked: await sim.clearAll(10_000), teardowns });
      return;
    case "stop":
    case "eof":
      clearInterval(pinging);
      clearInterval(dropWatch);
      await sim.stopAll(5000);
      emit("stopped", true);
      sim.close();
      process.exit(0);
  }
});
