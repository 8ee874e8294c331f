// The test LAC's observation, shared by restart-child and cluster-lac-child (run in the LAC's
// namespace, on the child's one thread): tunnels x sessions logged in (CHAP), then, after go(), every
// session pings the target each intervalMs without pause (the sessions spread over the interval),
// sends an LCP Echo-Request each echoMs, and every tunnel a HELLO after helloMs without a control
// message from the LNS. What the LNS sends is watched on the wire (the simulator's socket, wrapped):
// HELLOs acknowledged, control messages by type, any CDN or StopCCN. Each child accounts for it.
import { openUdpEndpoint, type UdpEndpoint } from "@lnsd/io";
import { AvpType, buildIcmpEcho, decodeIpv4Header, decodeL2tpHeader, formatIpv4, L2tpMessageType, l2tpMessageTypeName, parseIpv4, peekControlAvp } from "@lnsd/wire";
import { LacSimulator, pppLogins, type LacCall, type PppLogins } from "@lnsd/testkit";
import { commands, emit, udpDrops, until } from "./child-io.js";

const PPP_IPV4 = 0x0021;
const ICMP = 1;
/** A ping unanswered this long after it was sent is lost; a reply this late was held on the way. */
export const LATE_MS = 500;

export type Spread = readonly [min: number, median: number, max: number];

/** min, median, max. */
export function spread(xs: readonly number[]): Spread {
  const s = [...xs].sort((a, b) => a - b);
  return [s[0] ?? 0, s[Math.floor(s.length / 2)] ?? 0, s[s.length - 1] ?? 0];
}

/** One session's pings (by sequence number: when sent, when answered, NaN: not yet) and LCP echoes. */
export interface Line {
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

/** A HELLO the LAC sent (our record of "peer tunnel id/Ns"): when first sent and when first acknowledged. */
export interface Hello {
  readonly tunnel: number;
  readonly ns: number;
  readonly sentAt: number;
  ackedAt?: number;
}

/**
 * A test LAC child's arguments: LNS address, local address, target, tunnels, sessions per tunnel,
 * user prefix (user PREFIX-T-S), password, INTERVAL_MS, ECHO_MS, HELLO_MS. `tag` begins each ping's payload.
 */
export function lacProbeArgs(args: readonly string[], tag: string): LacProbeOptions {
  const [lnsAddr = "", bindAddr = "", target = "", tunnels = "1", perTunnel = "1", userPrefix = tag, password = "", intervalMs = "100", echoMs = "1000", helloMs = "1000"] = args;
  return {
    lnsAddr,
    bindAddr,
    target,
    tunnels: Number(tunnels),
    perTunnel: Number(perTunnel),
    username: (t, s) => `${userPrefix}-${String(t)}-${String(s)}`,
    password,
    intervalMs: Number(intervalMs),
    echoMs: Number(echoMs),
    helloMs: Number(helloMs),
    tag,
  };
}

export interface LacProbeOptions {
  readonly lnsAddr: string;
  readonly bindAddr: string;
  /** The host every session pings. */
  readonly target: string;
  readonly tunnels: number;
  readonly perTunnel: number;
  readonly username: (tunnelIndex: number, sessionIndex: number) => string;
  readonly password: string;
  readonly intervalMs: number;
  readonly echoMs: number;
  readonly helloMs: number;
  /** A ping's payload is "TAG SESSION/SEQ". */
  readonly tag: string;
}

export interface LacProbe {
  readonly sim: LacSimulator;
  readonly logins: PppLogins;
  readonly lines: readonly Line[];
  /** HELLOs sent, by "peer tunnel id/Ns". */
  readonly hellos: ReadonlyMap<string, Hello>;
  /** Control messages from the LNS by type name. */
  readonly received: ReadonlyMap<string, number>;
  /** Every CDN or StopCCN from the LNS, with when it came. */
  readonly teardowns: readonly string[];
  readonly wrongExamples: readonly string[];
  /** When the LAC's socket dropped replies (its receive buffer full): [epoch ms, how many]. */
  readonly dropTimes: readonly (readonly [number, number])[];
  /** Starts pinging. */
  go(): void;
  /** Stops pinging. */
  end(): void;
  /** What the whole run did to the sessions. */
  standing(): Standing;
  /**
   * The commands every test LAC takes: "go", "clear" (CDN on every call; says {"cleared"}), "stop"
   * or "eof" (StopCCN on every tunnel, says {"stopped"}, exits). Others go to `own` first; it
   * returns false for those it leaves to this.
   */
  serve(own: (words: readonly string[]) => Promise<boolean>): void;
}

export interface Standing {
  readonly pppRestarts: number;
  readonly pppFailures: Record<string, number>;
  readonly duplicates: number;
  readonly wrong: number;
  readonly wrongExamples: readonly string[];
  readonly received: Record<string, number>;
  readonly teardowns: readonly string[];
}

/** The Message Type AVP's value (RFC 2661 4.4.1); undefined for a ZLB or when unreadable. */
function messageType(p: Buffer): number | undefined {
  const v = peekControlAvp(p, AvpType.MessageType);
  return v?.length === 2 ? ((v[0] ?? 0) << 8) | (v[1] ?? 0) : undefined;
}

/** RFC 2661 5.8: Nr acknowledges Ns when Ns comes before Nr, modulo 2^16. */
const acks = (nr: number, ns: number): boolean => ((nr - ns) & 0xffff) !== 0 && ((nr - ns) & 0xffff) < 0x8000;

/** Logs every session in and says {"online"} (whether all came up in 60 s); then watches drops. */
export async function startLacProbe(o: LacProbeOptions): Promise<LacProbe> {
  const startedAt = Date.now();
  const sessions = o.tunnels * o.perTunnel;
  const lines: Line[] = Array.from({ length: sessions }, (_, index) => ({ index, sentAt: [], repliedAt: [], replies: [], duplicates: 0, wrong: 0, echoReplies: [], echoLost: [], ups: 0 }));
  const lineOf = (call: LacCall): Line | undefined => lines[call.tunnelIndex * o.perTunnel + call.sessionIndex];
  const payloadOf = (i: number, seq: number): string => `${o.tag} ${String(i)}/${String(seq)}`;
  const wrongExamples: string[] = [];
  const hellos = new Map<string, Hello>();
  const received = new Map<string, number>();
  const teardowns: string[] = [];
  /** The simulator, once made: its tunnels tell our tunnel ids from the LNS's. */
  const lac: { sim?: LacSimulator } = {};

  const outbound = (p: Buffer): void => {
    const h = decodeL2tpHeader(p);
    if (!h.ok || h.value.kind !== "control" || h.value.payloadLength === 0) return;
    if (messageType(p) !== L2tpMessageType.HELLO) return;
    const key = `${String(h.value.tunnelId)}/${String(h.value.ns)}`;
    // A retransmission keeps the first sending time.
    if (!hellos.has(key)) hellos.set(key, { tunnel: h.value.tunnelId, ns: h.value.ns, sentAt: Date.now() });
  };

  const inbound = (p: Buffer): void => {
    const h = decodeL2tpHeader(p);
    if (!h.ok || h.value.kind !== "control") return;
    const now = Date.now();
    // What we send carries the LNS's tunnel id; what it sends, ours.
    const peerId = lac.sim?.node.tunnels.get(h.value.tunnelId)?.peerId;
    for (const hello of hellos.values()) if (hello.ackedAt === undefined && hello.tunnel === peerId && acks(h.value.nr, hello.ns)) hello.ackedAt = now;
    const type = messageType(p);
    const name = h.value.payloadLength === 0 ? "ZLB" : type === undefined ? "unreadable" : l2tpMessageTypeName(type);
    received.set(name, (received.get(name) ?? 0) + 1);
    if (name === "CDN" || name === "StopCCN") teardowns.push(`${new Date(now).toISOString()} ${name} on tunnel ${String(h.value.tunnelId)} session ${String(h.value.sessionId)}`);
  };

  /** The simulator's socket, with both directions seen on the way. */
  const watched = (udp: UdpEndpoint): UdpEndpoint => ({
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
  });

  const logins = pppLogins({
    username: o.username,
    password: o.password,
    authProtocols: ["chap"],
    echo: {
      intervalMs: o.echoMs,
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
      // The identifier and sequence number on the wire are 16 bits; the payload names the whole ones.
      const full = Number(/\/(\d+)$/.exec(body)?.[1] ?? "-1");
      const fine = h.value.protocol === ICMP && payload[at] === 0 && formatIpv4(h.value.src) === o.target && id === (line.index & 0xffff) && (full & 0xffff) === seq && body === payloadOf(line.index, full) && full < line.sentAt.length;
      if (!fine) {
        line.wrong++;
        if (wrongExamples.length < 10) wrongExamples.push(`session ${String(line.index)}: ${formatIpv4(h.value.src)} > ${formatIpv4(h.value.dst)} protocol ${String(h.value.protocol)} type ${String(payload[at] ?? -1)} id ${String(id)} seq ${String(seq)}`);
      } else if (Number.isNaN(line.repliedAt[full])) {
        const now = Date.now();
        line.repliedAt[full] = now;
        line.replies.push(now);
      } else line.duplicates++;
    },
  });

  const sim = new LacSimulator({ lns: { address: o.lnsAddr, port: 1701 }, endpoint: watched(await openUdpEndpoint(o.bindAddr, 0)), tunnels: o.tunnels, sessionsPerTunnel: o.perTunnel, calls: logins.handler, config: { helloIntervalMs: o.helloMs } });
  lac.sim = sim;
  await sim.start();
  const allOnline = await until(() => logins.stats.online.size === sessions, 60_000, 20);
  emit("online", { online: logins.stats.online.size, allOnline, ms: Date.now() - startedAt, tunnelsUp: sim.report().tunnels.up, failures: Object.fromEntries(logins.stats.failures) });

  let pinging: NodeJS.Timeout | undefined;
  const dropTimes: [number, number][] = [];
  let dropsSeen = 0;
  const dropWatch = setInterval(() => {
    const d = udpDrops(sim.local.port);
    if (d > dropsSeen) dropTimes.push([Date.now(), d - dropsSeen]);
    dropsSeen = d;
  }, 20);

  /** Each session one echo request each intervalMs, the sessions spread evenly over the interval. */
  const go = (): void => {
    const calls = new Map<number, [LacCall, string]>();
    for (const [call, info] of logins.stats.online) calls.set(call.tunnelIndex * o.perTunnel + call.sessionIndex, [call, info.address]);
    const dst = parseIpv4(o.target) ?? 0;
    const t0 = performance.now();
    let done = 0;
    pinging = setInterval(() => {
      const due = Math.floor(((performance.now() - t0) * sessions) / o.intervalMs);
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
  };

  const standing = (): Standing => ({
    pppRestarts: lines.reduce((n, l) => n + Math.max(0, l.ups - 1), 0),
    pppFailures: Object.fromEntries(logins.stats.failures),
    duplicates: lines.reduce((n, l) => n + l.duplicates, 0),
    wrong: lines.reduce((n, l) => n + l.wrong, 0),
    wrongExamples,
    received: Object.fromEntries(received),
    teardowns,
  });

  return {
    sim,
    logins,
    lines,
    hellos,
    received,
    teardowns,
    wrongExamples,
    dropTimes,
    go,
    end: () => { clearInterval(pinging); },
    standing,
    serve: (own) => {
      commands(async (words) => {
        if (await own(words)) return;
        switch (words[0]) {
          case "go":
            go();
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
    },
  };
}
