// The test LAC of the cluster test (issue 14), in the LAC's namespace: tunnels x sessions logged in
// (CHAP, user PREFIX-T-S), then, after "go", every session pings the target each INTERVAL_MS
// without pause (the sessions spread over the interval), sends an LCP Echo-Request each ECHO_MS,
// and every tunnel a HELLO after HELLO_MS without a control message from the LNS. What the LNS
// sends is watched on the wire (the simulator's socket, wrapped): HELLOs acknowledged, and any CDN
// or StopCCN. The test asks for windows of the run ("report FROM TO", epoch ms): per session the
// longest time between two ping replies, pings lost, LCP Echo-Requests lost, HELLOs unanswered;
// and for the LAC's standing ("state": sessions online, addresses, PPP restarts, teardowns).
// Commands: "go", "report FROM TO", "state", "end" (pinging stops), "clear" (CDN on every call),
// "stop" (StopCCN on every tunnel, exit). Says {"online"}, {"report"}, {"state"}, {"ended"},
// {"cleared"}, {"stopped"}.
// Arguments: LNS address, local address, target, tunnels, sessions per tunnel, user prefix,
// password, INTERVAL_MS, ECHO_MS, HELLO_MS.
import { openUdpEndpoint, type UdpEndpoint } from "@lnsd/io";
import { AvpType, buildIcmpEcho, decodeIpv4Header, decodeL2tpHeader, formatIpv4, L2tpMessageType, l2tpMessageTypeName, parseIpv4, peekControlAvp } from "@lnsd/wire";
import { LacSimulator, pppLogins, type LacCall } from "@lnsd/testkit";
import { commands, emit, udpDrops, until } from "./child-io.js";

const [lnsAddr = "", bindAddr = "", target = "", tunnelsText = "1", perTunnelText = "1", userPrefix = "cl", password = "", intervalText = "100", echoText = "1000", helloText = "1000"] = process.argv.slice(2);
const tunnels = Number(tunnelsText);
const perTunnel = Number(perTunnelText);
const intervalMs = Number(intervalText);
const helloMs = Number(helloText);
const sessions = tunnels * perTunnel;
const PPP_IPV4 = 0x0021;
const ICMP = 1;
/** A ping unanswered this long after it was sent is lost; a reply this late was held on the way. */
const LATE_MS = 500;
/** A HELLO unacknowledged this long after it was sent is unanswered (the LAC retransmits it after 1 s). */
const HELLO_ANSWER_MS = 2000;
const startedAt = Date.now();

/** One session's pings (by sequence number: when sent, when answered, NaN: not yet) and LCP echoes. */
interface Line {
  readonly index: number;
  readonly sentAt: number[];
  readonly repliedAt: number[];
  /** Every reply's arrival, in order. */
  readonly replies: number[];
  duplicates: number;
  wrong: number;
  readonly echoReplies: number[];
  readonly echoLost: number[];
  /** Times IPCP came up: 1 unless PPP started again. */
  ups: number;
}
const lines: Line[] = Array.from({ length: sessions }, (_, index) => ({ index, sentAt: [], repliedAt: [], replies: [], duplicates: 0, wrong: 0, echoReplies: [], echoLost: [], ups: 0 }));
const lineOf = (call: LacCall): Line | undefined => lines[call.tunnelIndex * perTunnel + call.sessionIndex];
const payloadOf = (i: number, seq: number): string => `cl ${i}/${seq}`;
const wrongExamples: string[] = [];

/** HELLOs sent, by "our tunnel id/Ns": when first sent and when first acknowledged. */
const hellos = new Map<string, { readonly tunnel: number; readonly ns: number; readonly sentAt: number; ackedAt?: number }>();
/** Control messages from the LNS by type name, and every CDN or StopCCN with when it came. */
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
  username: (t, s) => `${userPrefix}-${t}-${s}`,
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
    // The sequence number on the wire is 16 bits; the payload names the whole one.
    const full = Number(/\/(\d+)$/.exec(body)?.[1] ?? "-1");
    const fine = h.value.protocol === ICMP && payload[at] === 0 && formatIpv4(h.value.src) === target && id === (line.index & 0xffff) && (full & 0xffff) === seq && body === payloadOf(line.index, full) && full < line.sentAt.length;
    if (!fine) {
      line.wrong++;
      if (wrongExamples.length < 10) wrongExamples.push(`session ${line.index}: ${formatIpv4(h.value.src)} > ${formatIpv4(h.value.dst)} protocol ${h.value.protocol} type ${payload[at] ?? -1} id ${id} seq ${seq}`);
    } else if (Number.isNaN(line.repliedAt[full])) {
      const now = Date.now();
      line.repliedAt[full] = now;
      line.replies.push(now);
    } else line.duplicates++;
  },
});

const udp = watched(await openUdpEndpoint(bindAddr, 0));
const sim = new LacSimulator({ lns: { address: lnsAddr, port: 1701 }, endpoint: udp, tunnels, sessionsPerTunnel: perTunnel, calls: logins.handler, config: { helloIntervalMs: helloMs } });
lac.sim = sim;
await sim.start();
const allOnline = await until(() => logins.stats.online.size === sessions, 60_000, 20);
emit("online", { online: logins.stats.online.size, allOnline, ms: Date.now() - startedAt, tunnelsUp: sim.report().tunnels.up, failures: Object.fromEntries(logins.stats.failures) });

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
      logins.send(call[0], PPP_IPV4, buildIcmpEcho({ src: parseIpv4(call[1]) ?? 0, dst, identifier: line.index & 0xffff, sequence: seq & 0xffff, data: Buffer.from(payloadOf(line.index, seq)) }));
    }
  }, 4);
}

/** min, median, max. */
function spread(xs: readonly number[]): [number, number, number] {
  const s = [...xs].sort((a, b) => a - b);
  return [s[0] ?? 0, s[Math.floor(s.length / 2)] ?? 0, s[s.length - 1] ?? 0];
}

/**
 * The window [from, to] (epoch ms; to is cut at now). Per session, the longest time between two
 * ping replies (from the last reply before the window, or its start, to the window's end); pings
 * sent in the window and unanswered LATE_MS later; LCP Echo-Requests lost (unanswered when the next
 * one went); HELLOs sent in the window, acknowledged or not.
 */
function report(from: number, toAsked: number): unknown {
  const now = Date.now();
  const to = Math.min(toAsked, now);
  const gaps: { index: number; gap: number; at: number }[] = [];
  let sent = 0;
  let lost = 0;
  let late = 0;
  let maxRttMs = 0;
  let answeredNearEnd = 0;
  let replied = 0;
  const echoGaps: number[] = [];
  for (const line of lines) {
    let prev = from;
    for (const r of line.replies) if (r <= from) prev = r;
    let gap = 0;
    let at = prev;
    let any = false;
    for (const r of line.replies) {
      if (r <= from || r > to) continue;
      any = true;
      if (r - prev > gap) {
        gap = r - prev;
        at = prev;
      }
      prev = r;
    }
    if (to - prev > gap) {
      gap = to - prev;
      at = prev;
    }
    gaps.push({ index: line.index, gap, at });
    if (any) replied++;
    if (line.replies.some((r) => r > to - 1000 && r <= to)) answeredNearEnd++;
    for (let seq = 0; seq < line.sentAt.length; seq++) {
      const s = line.sentAt[seq] ?? 0;
      if (s < from || s > to) continue;
      const r = line.repliedAt[seq] ?? Number.NaN;
      if (Number.isNaN(r)) {
        if (s < now - LATE_MS) {
          sent++;
          lost++;
        }
        continue;
      }
      sent++;
      if (r - s > LATE_MS) late++;
      maxRttMs = Math.max(maxRttMs, r - s);
    }
    let eprev = from;
    let egap = 0;
    for (const r of line.echoReplies) {
      if (r <= from) {
        eprev = r;
        continue;
      }
      if (r > to) break;
      egap = Math.max(egap, r - eprev);
      eprev = r;
    }
    echoGaps.push(Math.max(egap, to - eprev));
  }
  const sorted = [...gaps].sort((a, b) => b.gap - a.gap);
  const hellosIn = [...hellos.values()].filter((h) => h.sentAt >= from && h.sentAt <= to);
  const ackMs = hellosIn.filter((h) => h.ackedAt !== undefined).map((h) => (h.ackedAt ?? 0) - h.sentAt);
  const unanswered = hellosIn.filter((h) => h.ackedAt === undefined && now - h.sentAt > HELLO_ANSWER_MS);
  const slow = hellosIn.filter((h) => h.ackedAt !== undefined && h.ackedAt - h.sentAt > HELLO_ANSWER_MS);
  return {
    from,
    to,
    sessions: gaps.length,
    sessionsReplied: replied,
    sessionsAnsweredNearEnd: answeredNearEnd,
    gapMs: spread(gaps.map((g) => g.gap)),
    worst: sorted.slice(0, 3).map((g) => `session ${g.index}: ${Math.round(g.gap)} ms from +${g.at - from} ms`),
    pingsSent: sent,
    pingsLost: lost,
    late,
    maxRttMs,
    echoLost: lines.reduce((n, l) => n + l.echoLost.filter((t) => t >= from && t <= to).length, 0),
    echoReplies: lines.reduce((n, l) => n + l.echoReplies.filter((t) => t >= from && t <= to).length, 0),
    echoGapMs: spread(echoGaps),
    hellosSent: hellosIn.length,
    hellosAcked: ackMs.length,
    helloAckMs: spread(ackMs),
    hellosUnanswered: [...unanswered, ...slow].map((h) => `${h.tunnel}/${h.ns} sent +${h.sentAt - from} ms${h.ackedAt === undefined ? ", not acknowledged" : `, acknowledged after ${h.ackedAt - h.sentAt} ms`}`),
    hellosPending: hellosIn.length - ackMs.length - unanswered.length,
    lacDrops: dropTimes.filter(([at]) => at >= from && at <= to).map(([at, n]) => `+${at - from}:${n}`),
  };
}

function state(): unknown {
  const now = Date.now();
  const r = sim.report();
  const addresses = [...logins.stats.online.values()].map((i) => i.address);
  const seen = new Map<string, number>();
  for (const a of addresses) seen.set(a, (seen.get(a) ?? 0) + 1);
  let unacked = 0;
  for (const t of sim.node.tunnels.values()) if (t.state === "established" && !t.transport.idle) unacked++;
  return {
    online: logins.stats.online.size,
    addresses,
    sharedAddresses: [...seen].filter(([, n]) => n > 1).map(([a, n]) => `${a} x${n}`),
    callsDown: r.sessions.down,
    tunnelsEstablished: r.tunnels.established,
    tunnelsUnacked: unacked,
    pppRestarts: lines.reduce((n, l) => n + Math.max(0, l.ups - 1), 0),
    pppFailures: Object.fromEntries(logins.stats.failures),
    duplicates: lines.reduce((n, l) => n + l.duplicates, 0),
    wrong: lines.reduce((n, l) => n + l.wrong, 0),
    wrongExamples,
    received: Object.fromEntries(received),
    teardowns,
    hellosSent: hellos.size,
    // One sent less than HELLO_ANSWER_MS ago may still be answered.
    hellosUnacked: [...hellos.values()].filter((h) => h.ackedAt === undefined && now - h.sentAt > HELLO_ANSWER_MS).map((h) => `${h.tunnel}/${h.ns} sent ${new Date(h.sentAt).toISOString()}`),
    hellosPending: [...hellos.values()].filter((h) => h.ackedAt === undefined && now - h.sentAt <= HELLO_ANSWER_MS).length,
    retransmitted: r.reliable.retransmitted,
    udpDrops: udpDrops(sim.local.port),
  };
}

commands(async (words) => {
  switch (words[0]) {
    case "go":
      go();
      return;
    case "report":
      emit("report", report(Number(words[1] ?? "0"), Number(words[2] ?? "0")));
      return;
    case "state":
      emit("state", state());
      return;
    case "end":
      clearInterval(pinging);
      // The last requests' replies.
      await new Promise((r) => setTimeout(r, LATE_MS));
      emit("ended", state());
      return;
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
