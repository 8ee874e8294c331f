// The data-plane load tool's packets and arithmetic, without I/O: the L2TP data messages a test
// subscriber sends (L2TP + PPP + IPv4 + UDP + a 16-byte test header naming the run and the
// session), the parser that recognises one coming back, and the per-window figures. Runs in the
// load tool's worker (hot path: nothing here allocates per packet) and in its main thread.
import { internetChecksum, parseIpv4, writeL2tpDataHeader } from "@lnsd/wire";

/** "LNSD" at the start of every test payload. */
export const TRAFFIC_MAGIC = 0x4c4e5344;
/** The test header in the UDP payload: magic, run id, session index, 4 bytes zero. */
export const TRAFFIC_HEADER_BYTES = 16;
const IPV4_HEADER_BYTES = 20;
const UDP_HEADER_BYTES = 8;
/** The smallest IP packet that holds the test header. */
export const TRAFFIC_MIN_IP_BYTES = IPV4_HEADER_BYTES + UDP_HEADER_BYTES + TRAFFIC_HEADER_BYTES;
/** Keeps L2TP (6) + PPP (4) + IPv4 + UDP (28) + the IP packet within a 1500-byte path MTU. */
export const TRAFFIC_MAX_IP_BYTES = 1460;
/** L2TP data header without Length, Ns/Nr or Offset (RFC 2661 3.1), as the tool sends it. */
export const TRAFFIC_L2TP_HEADER_BYTES = 6;
/** PPP address/control (0xff 0x03) and protocol 0x0021 (IPv4) in front of every IP packet. */
export const TRAFFIC_PPP_HEADER_BYTES = 4;
/** Bytes of an upstream datagram's UDP payload in front of the IP packet. */
export const TRAFFIC_ENCAP_BYTES = TRAFFIC_L2TP_HEADER_BYTES + TRAFFIC_PPP_HEADER_BYTES;

/** A dotted quad as a number, for the tool's command line: throws when it is not one. */
export function ipv4ToNumber(address: string): number {
  const n = parseIpv4(address);
  if (n === undefined) throw new RangeError(`not an IPv4 address: ${address}`);
  return n;
}

function put16(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >>> 8) & 0xff;
  b[at + 1] = v & 0xff;
}

function put32(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >>> 24) & 0xff;
  b[at + 1] = (v >>> 16) & 0xff;
  b[at + 2] = (v >>> 8) & 0xff;
  b[at + 3] = v & 0xff;
}

function get16(b: Uint8Array, at: number): number {
  return ((b[at] ?? 0) << 8) | (b[at + 1] ?? 0);
}

function get32(b: Uint8Array, at: number): number {
  return (((b[at] ?? 0) << 24) | ((b[at + 1] ?? 0) << 16) | ((b[at + 2] ?? 0) << 8) | (b[at + 3] ?? 0)) >>> 0;
}

/** One test subscriber as the worker sees it. */
export interface TrafficSession {
  /** Index of the session in the run (0..N-1): carried in every test packet. */
  readonly index: number;
  /** The LAC's own Tunnel ID and Session ID: what the LNS puts in the data it sends us. */
  readonly localTunnelId: number;
  readonly localSessionId: number;
  /** The LNS's Tunnel ID and Session ID: what we put in the data we send it. */
  readonly peerTunnelId: number;
  readonly peerSessionId: number;
  /** The subscriber's address from IPCP, host order. */
  readonly address: number;
}

export interface UpstreamPacket {
  readonly session: TrafficSession;
  /** The far end: the "internet" host and the reflector's port. */
  readonly dst: number;
  readonly dstPort: number;
  readonly srcPort: number;
  /** The IPv4 packet's total length (what the benchmark calls the packet size). */
  readonly ipBytes: number;
  readonly runId: number;
}

/**
 * Writes one upstream datagram's UDP payload at target[offset..]: an L2TP data message (RFC 2661
 * 3.1, no optional fields) carrying a PPP frame (RFC 1661 with RFC 1662 address/control) carrying
 * an IPv4/UDP packet of p.ipBytes (RFC 791, RFC 768; UDP checksum 0, "none") whose payload starts
 * with the test header. Returns the datagram's length.
 */
export function writeUpstreamPacket(target: Uint8Array, offset: number, p: UpstreamPacket): number {
  if (!Number.isInteger(p.ipBytes) || p.ipBytes < TRAFFIC_MIN_IP_BYTES || p.ipBytes > TRAFFIC_MAX_IP_BYTES) {
    throw new RangeError(`packet size ${String(p.ipBytes)} outside ${String(TRAFFIC_MIN_IP_BYTES)}..${String(TRAFFIC_MAX_IP_BYTES)}`);
  }
  const total = TRAFFIC_ENCAP_BYTES + p.ipBytes;
  if (offset < 0 || offset + total > target.length) throw new RangeError(`no room for a ${String(total)}-byte datagram at ${String(offset)}`);
  writeL2tpDataHeader(target, offset, { tunnelId: p.session.peerTunnelId, sessionId: p.session.peerSessionId }, TRAFFIC_PPP_HEADER_BYTES + p.ipBytes);
  const ppp = offset + TRAFFIC_L2TP_HEADER_BYTES;
  target[ppp] = 0xff;
  target[ppp + 1] = 0x03;
  put16(target, ppp + 2, 0x0021);
  const ip = ppp + TRAFFIC_PPP_HEADER_BYTES;
  target.fill(0, ip, ip + p.ipBytes);
  target[ip] = 0x45;
  put16(target, ip + 2, p.ipBytes);
  put16(target, ip + 4, p.session.index & 0xffff);
  put16(target, ip + 6, 0x4000); // DF
  target[ip + 8] = 64;
  target[ip + 9] = 17;
  put32(target, ip + 12, p.session.address);
  put32(target, ip + 16, p.dst);
  put16(target, ip + 10, internetChecksum(target, ip, ip + IPV4_HEADER_BYTES));
  const udp = ip + IPV4_HEADER_BYTES;
  put16(target, udp, p.srcPort);
  put16(target, udp + 2, p.dstPort);
  put16(target, udp + 4, p.ipBytes - IPV4_HEADER_BYTES);
  const h = udp + UDP_HEADER_BYTES;
  put32(target, h, TRAFFIC_MAGIC);
  put32(target, h + 4, p.runId);
  put32(target, h + 8, p.session.index);
  return total;
}

/** What parseDownstream found; one object reused for every packet. */
export interface DownstreamParse {
  /** The L2TP header's Tunnel ID and Session ID: the LAC's own ids. */
  tunnelId: number;
  sessionId: number;
  runId: number;
  /** The session index the test header names. */
  sessionIndex: number;
  /** IPv4 destination (the subscriber) and total length. */
  dst: number;
  ipBytes: number;
}

export function newDownstreamParse(): DownstreamParse {
  return { tunnelId: 0, sessionId: 0, runId: 0, sessionIndex: 0, dst: 0, ipBytes: 0 };
}

/**
 * Recognises a reflected test packet in the UDP payload buf[start, start+length): an L2TP data
 * message (any of the optional Length, Ns/Nr, Offset fields, RFC 2661 3.1), a PPP frame with or
 * without address/control and with a full or compressed protocol field (RFC 1661 6.5, 6.6) of
 * IPv4, an IPv4/UDP packet from fromPort (the reflector's) whose payload starts with the magic. True fills out;
 * false (a control message, LCP, anything else) means the datagram is the control side's.
 */
export function parseDownstream(buf: Uint8Array, start: number, length: number, fromPort: number, out: DownstreamParse): boolean {
  const end = start + length;
  if (length < 6) return false;
  const flags = get16(buf, start);
  if ((flags & 0x8000) !== 0 || (flags & 0x000f) !== 2) return false;
  let p = start + 2;
  if ((flags & 0x4000) !== 0) p += 2;
  out.tunnelId = get16(buf, p);
  out.sessionId = get16(buf, p + 2);
  p += 4;
  if ((flags & 0x0800) !== 0) p += 4;
  if ((flags & 0x0200) !== 0) {
    if (p + 2 > end) return false;
    p += 2 + get16(buf, p);
  }
  if (p + 2 > end) return false;
  if (buf[p] === 0xff && buf[p + 1] === 0x03) p += 2;
  if (p >= end) return false;
  if (buf[p] === 0x21) p += 1;
  else if (buf[p] === 0x00 && buf[p + 1] === 0x21) p += 2;
  else return false;
  const ip = p;
  if (ip + TRAFFIC_MIN_IP_BYTES > end || buf[ip] !== 0x45 || buf[ip + 9] !== 17) return false;
  const udp = ip + IPV4_HEADER_BYTES;
  if (get16(buf, udp) !== fromPort) return false;
  const h = udp + UDP_HEADER_BYTES;
  if (get32(buf, h) !== TRAFFIC_MAGIC) return false;
  out.ipBytes = get16(buf, ip + 2);
  out.dst = get32(buf, ip + 16);
  out.runId = get32(buf, h + 4);
  out.sessionIndex = get32(buf, h + 8);
  return true;
}

// ---- counters --------------------------------------------------------------------------------

/** Totals the LAC worker keeps (Float64Array slots in a SharedArrayBuffer). */
export const TrafficTotal = {
  sentPackets: 0,
  sentBytes: 1,
  /** sendmmsg took fewer than offered (socket buffer full): not sent, not counted as sent. */
  sendShort: 2,
  receivedPackets: 3,
  receivedBytes: 4,
  /** Test packets of this run that came back on another session than the one they name. */
  misrouted: 5,
  /** Test packets of an earlier run (late arrivals), ignored. */
  stale: 6,
  /** Datagrams handed to the control side (L2TP control, LCP, IPCP...). */
  toControl: 7,
  /** Datagrams cut by the receive slot. */
  truncated: 8,
} as const;
export const TRAFFIC_TOTALS = 9;

/** A copy of the counters at one instant. */
export interface TrafficSnapshot {
  readonly atMs: number;
  readonly totals: Float64Array;
  readonly sessionSent: Uint32Array;
  readonly sessionReceived: Uint32Array;
}

/** The worker's counters, shared with the main thread. */
export class TrafficCounters {
  readonly totals: Float64Array;
  readonly sessionSent: Uint32Array;
  readonly sessionReceived: Uint32Array;

  constructor(readonly buffer: SharedArrayBuffer | ArrayBuffer, readonly sessions: number) {
    this.totals = new Float64Array(buffer, 0, TRAFFIC_TOTALS);
    this.sessionSent = new Uint32Array(buffer, TRAFFIC_TOTALS * 8, sessions);
    this.sessionReceived = new Uint32Array(buffer, TRAFFIC_TOTALS * 8 + sessions * 4, sessions);
  }

  static bytes(sessions: number): number {
    return TRAFFIC_TOTALS * 8 + sessions * 8;
  }

  /** The totals and the first `sessions` sessions' counters (by default all). */
  snapshot(atMs: number, sessions = this.sessions): TrafficSnapshot {
    return { atMs, totals: this.totals.slice(), sessionSent: this.sessionSent.slice(0, sessions), sessionReceived: this.sessionReceived.slice(0, sessions) };
  }
}

/** Counters of the reflector on the internet host over a window, when it can be asked. */
export interface ReflectorCounts {
  readonly receivedPackets: number;
  readonly sentPackets: number;
  /** The reflector process's CPU time (all threads), seconds, when it says. */
  readonly cpuSeconds?: number;
}

/** CPU time (utime + stime) of the LNS process over the window, in seconds. */
export interface LnsCpu {
  readonly cpuSeconds: number;
}

export interface TrafficWindowResult {
  readonly ipBytes: number;
  readonly sessions: number;
  readonly seconds: number;
  readonly sentPackets: number;
  readonly receivedPackets: number;
  /** LAC -> internet as offered by the LAC, and as the reflector saw it when known. */
  readonly upPps: number;
  readonly upMbps: number;
  readonly reflectedPps: number | undefined;
  /** Back at the LAC: the round trip's rate. */
  readonly downPps: number;
  readonly downMbps: number;
  /** 1 - received / sent over the window. */
  readonly loss: number;
  readonly misrouted: number;
  readonly sendShort: number;
  /** Per-session replies in the window: the least, the most, and sessions that got none. */
  readonly sessionMin: number;
  readonly sessionMax: number;
  readonly sessionsSilent: number;
  /** The LNS's packets forwarded in the window: upstream (reflector's count, else what came back) + downstream. */
  readonly lnsForwarded: number;
  readonly lnsCpuSeconds: number | undefined;
  /** LNS CPU per forwarded packet, microseconds. */
  readonly lnsCpuUsPerPacket: number | undefined;
}

/** Mbit/s of IP packets of ipBytes at pps. */
export function mbps(pps: number, ipBytes: number): number {
  return (pps * ipBytes * 8) / 1e6;
}

/** The figures of one measuring window between two snapshots. */
export function summarizeWindow(a: TrafficSnapshot, b: TrafficSnapshot, ipBytes: number, reflector?: ReflectorCounts, lns?: LnsCpu): TrafficWindowResult {
  const seconds = (b.atMs - a.atMs) / 1000;
  const d = (slot: number): number => (b.totals[slot] ?? 0) - (a.totals[slot] ?? 0);
  const sent = d(TrafficTotal.sentPackets);
  const received = d(TrafficTotal.receivedPackets);
  let min = Infinity;
  let max = 0;
  let silent = 0;
  const n = a.sessionReceived.length;
  for (let i = 0; i < n; i++) {
    const r = ((b.sessionReceived[i] ?? 0) - (a.sessionReceived[i] ?? 0)) >>> 0;
    if (r < min) min = r;
    if (r > max) max = r;
    if (r === 0) silent++;
  }
  const upForwarded = reflector?.receivedPackets ?? received;
  const lnsForwarded = upForwarded + received;
  const perSecond = (x: number): number => (seconds > 0 ? x / seconds : 0);
  const cpu = lns?.cpuSeconds;
  return {
    ipBytes,
    sessions: n,
    seconds,
    sentPackets: sent,
    receivedPackets: received,
    upPps: perSecond(sent),
    upMbps: mbps(perSecond(sent), ipBytes),
    reflectedPps: reflector === undefined ? undefined : perSecond(reflector.receivedPackets),
    downPps: perSecond(received),
    downMbps: mbps(perSecond(received), ipBytes),
    loss: sent > 0 ? Math.max(0, 1 - received / sent) : 0,
    misrouted: d(TrafficTotal.misrouted),
    sendShort: d(TrafficTotal.sendShort),
    sessionMin: n === 0 ? 0 : min,
    sessionMax: max,
    sessionsSilent: silent,
    lnsForwarded,
    lnsCpuSeconds: cpu,
    lnsCpuUsPerPacket: cpu === undefined || lnsForwarded === 0 ? undefined : (cpu * 1e6) / lnsForwarded,
  };
}

/** utime + stime in clock ticks from the text of /proc/PID/stat (fields 14 and 15, man 5 proc). */
export function procStatCpuTicks(stat: string): number | undefined {
  const close = stat.lastIndexOf(")");
  if (close < 0) return undefined;
  // After "pid (comm) ": field 3 (state) is index 0.
  const f = stat.slice(close + 2).split(" ");
  const utime = Number(f[11]);
  const stime = Number(f[12]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? utime + stime : undefined;
}

/** Busy and total clock ticks of all CPUs from the text of /proc/stat (its "cpu" line, man 5 proc). */
export function procStatMachineTicks(stat: string): { busy: number; total: number } | undefined {
  const line = stat.split("\n").find((l) => l.startsWith("cpu "));
  if (line === undefined) return undefined;
  // user nice system idle iowait irq softirq steal (guest time is already in user)
  const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (v.length < 8 || v.some((x) => !Number.isFinite(x))) return undefined;
  const total = v.reduce((a, b) => a + b, 0);
  return { busy: total - (v[3] ?? 0) - (v[4] ?? 0), total };
}

/** One line of a window's figures for a terminal. */
export function formatWindow(label: string, r: TrafficWindowResult): string {
  const k = (x: number): string => (x / 1000).toFixed(1);
  return (
    `${label} ${String(r.ipBytes)} B x ${String(r.sessions)} sessions, ${r.seconds.toFixed(1)} s: ` +
    `up ${k(r.upPps)} kpps ${r.upMbps.toFixed(1)} Mbit/s${r.reflectedPps === undefined ? "" : ` (reflected ${k(r.reflectedPps)} kpps)`}, ` +
    `back ${k(r.downPps)} kpps ${r.downMbps.toFixed(1)} Mbit/s, loss ${(r.loss * 100).toFixed(2)}%, ` +
    `per session ${String(r.sessionMin)}..${String(r.sessionMax)} (${String(r.sessionsSilent)} silent), misrouted ${String(r.misrouted)}` +
    (r.lnsCpuUsPerPacket === undefined ? "" : `; LNS CPU ${(r.lnsCpuSeconds ?? 0).toFixed(2)} s = ${r.lnsCpuUsPerPacket.toFixed(2)} us/forwarded packet`)
  );
}

// ---- between the main thread and the worker -------------------------------------------------

/** Reflector counters (Float64Array slots). */
export const ReflectorTotal = { receivedPackets: 0, sentPackets: 1, sendShort: 2, truncated: 3 } as const;
export const REFLECTOR_TOTALS = 4;

/** Fields of a sessions table row (Uint32Array, SESSION_FIELDS per session). */
export const SESSION_FIELDS = 5;

export function encodeSessionTable(sessions: readonly TrafficSession[]): Uint32Array {
  const t = new Uint32Array(sessions.length * SESSION_FIELDS);
  sessions.forEach((s, i) => {
    t.set([s.localTunnelId, s.localSessionId, s.peerTunnelId, s.peerSessionId, s.address], i * SESSION_FIELDS);
  });
  return t;
}

export function decodeSessionTable(t: Uint32Array): TrafficSession[] {
  const out: TrafficSession[] = [];
  for (let i = 0; i + SESSION_FIELDS <= t.length; i += SESSION_FIELDS) {
    out.push({ index: i / SESSION_FIELDS, localTunnelId: t[i] ?? 0, localSessionId: t[i + 1] ?? 0, peerTunnelId: t[i + 2] ?? 0, peerSessionId: t[i + 3] ?? 0, address: t[i + 4] ?? 0 });
  }
  return out;
}

export interface BlastParams {
  readonly runId: number;
  /** IPv4 packet size. */
  readonly ipBytes: number;
  /** The reflector: internet host address (host order) and port. */
  readonly dst: number;
  readonly dstPort: number;
  /** The subscribers' UDP source port. */
  readonly srcPort: number;
  /** Packets per second offered; 0: no rate limit. */
  readonly ratePps: number;
  /** Packets in flight at most (sent, not back); 0: no window. */
  readonly window: number;
}
