// The per-packet work of a data worker, as plain functions over a batch buffer so that tests can
// drive them without threads or devices. Upstream: L2TP data (RFC 2661 3.1) carrying PPP (RFC
// 1661 2) carrying IPv4, checked and stripped to the IP packet. Downstream: an IP packet from TUN,
// wrapped in PPP and L2TP in the headroom in front of it. Nothing here allocates, logs or awaits:
// what it cannot handle it reports to the caller by a return code.
import { clampTcpMss, L2TP_DATA_HEADER_MIN_LENGTH, L2TP_SEQUENCE_LENGTH, L2TP_VERSION, L2TP_VERSION_MASK, L2tpFlag } from "@lnsd/wire";
import { filterPermits } from "./filters.js";
import { C, COUNTER_WORDS, G, lookupAddress, lookupKey, PolicyFlag, R, RECORD_WORDS, RecordFlag, RecordState, T, TRAFFIC_WORDS, WorkerStat, type TableViews } from "./tables.js";

/** Bytes kept free in front of every packet read from TUN: L2TP (up to 10) + PPP (4). */
export const HEADROOM = 16;

// The L2TP header layout is wire's (RFC 2661 3.1); the workers read and write it in place.
const T_BIT = L2tpFlag.T;
const L_BIT = L2tpFlag.L;
const S_BIT = L2tpFlag.S;
const O_BIT = L2tpFlag.O;
const PPP_IPV4 = 0x0021;
const PPP_IPV6 = 0x0057;

/** What became of an upstream datagram. */
export const Up = {
  /** An IP packet at upOut.offset/length, to write to TUN. */
  ToTun: 0,
  /** For the control thread (control message, PPP control, a session not in the table). */
  ToControl: 1,
  /** Dropped; the reason has been counted. */
  Dropped: 2,
  /** Over the session's throttle rate: the worker queues it (upOut as for ToTun) until tokens come. */
  Shape: 3,
} as const;

/**
 * Where the last upstream IP packet is (set by upstream()), and where a copy of it goes when the
 * session is intercepted (snoopPort 0: not).
 */
export const upOut = { offset: 0, length: 0, snoopAddress: 0, snoopPort: 0, slot: 0 };

/** Where the last downstream datagram is and where it goes, and its IP packet's copy (set by downstream()). */
export const downOut = { offset: 0, length: 0, address: 0, port: 0, ipOffset: 0, ipLength: 0, snoopAddress: 0, snoopPort: 0, slot: 0 };

/** A session's policy words, read under the record's seqlock (module scope: no allocation). */
const pol = { rate: 0, snoopAddress: 0, snoopPort: 0, filter: 0, flags: 0 };

function readPolicy(rs: Int32Array, at: number, up: boolean): void {
  pol.rate = rs[at + (up ? R.RATE_UP : R.RATE_DOWN)] ?? 0;
  pol.snoopAddress = rs[at + R.SNOOP_ADDRESS] ?? 0;
  pol.snoopPort = rs[at + R.SNOOP_PORT] ?? 0;
  pol.filter = rs[at + (up ? R.FILTER_UP : R.FILTER_DOWN)] ?? 0;
  pol.flags = rs[at + R.POLICY] ?? 0;
}

/**
 * Packets each slot has waiting in this worker's shaper, per direction (set by the worker; empty
 * outside one). While a session has packets waiting, its new ones queue behind them (order).
 */
const shaped: { up: Int32Array; down: Int32Array } = { up: new Int32Array(0), down: new Int32Array(0) };

export function useShaperCounts(up: Int32Array, down: Int32Array): void {
  shaped.up = up;
  shaped.down = down;
}

const PASS = 0;
const DROP = 1;
const SHAPE = 2;

/**
 * The session's access list, the walled garden and its throttle, in that order, for the IP packet
 * at buf[ip, ip + ipLength) (the policy read into `pol`): PASS, DROP (counted), or SHAPE (over the
 * rate, or behind packets already waiting: to the shaper's queue).
 */
function policyPasses(t: TableViews, statBase: number, slot: number, c: number, buf: Uint8Array, ip: number, ipLength: number, ipv4: boolean, up: boolean, nowMs: number): number {
  const cs = t.counters;
  // Access lists and the garden are IPv4 (as l2tpns's); a gardened session gets no IPv6.
  if (pol.filter !== 0 && ipv4 && !filterPermits(t.filters, pol.filter - 1, buf, ip, ipLength)) {
    stat(t, statBase, WorkerStat.FILTERED);
    Atomics.add(cs, c + C.DROPS, 1);
    return DROP;
  }
  if ((pol.flags & PolicyFlag.Garden) !== 0) {
    const garden = t.globals[G.GARDEN_LIST] ?? 0;
    if (!ipv4 || garden === 0 || !filterPermits(t.filters, garden - 1, buf, ip, ipLength)) {
      stat(t, statBase, WorkerStat.GARDENED);
      Atomics.add(cs, c + C.DROPS, 1);
      return DROP;
    }
  }
  if (pol.rate > 0 && ((up ? shaped.up : shaped.down)[slot] ?? 0) > 0) return SHAPE;
  if (pol.rate > 0 && !takeTokens(cs, c + (up ? C.UP_TOKENS : C.DOWN_TOKENS), pol.rate, ipLength, nowMs)) return SHAPE;
  return PASS;
}

/** Bucket depth: this much of the rate, so that TCP keeps its pace (and at least a few full packets). */
const BURST_MS = 100;
const MIN_BURST_BYTES = 8 * 1500;

/**
 * A token bucket (tokens at word `at`, its last fill in ms at `at + 1`) at `kbps`: takes `bytes`
 * when they are there. Two workers may race on one session's bucket; the rate is then a little
 * loose, never stuck.
 */
export function takeTokens(cs: Int32Array, at: number, kbps: number, bytes: number, nowMs: number): boolean {
  const now = nowMs & 0x7fffffff;
  const bytesPerMs = kbps / 8;
  const depth = Math.max(MIN_BURST_BYTES, bytesPerMs * BURST_MS);
  const stamp = Atomics.load(cs, at + 1);
  let tokens = Atomics.load(cs, at);
  const elapsed = (now - stamp) & 0x7fffffff;
  if (elapsed > 0) {
    tokens = Math.min(depth, tokens + (elapsed > 60_000 ? depth : elapsed * bytesPerMs)) | 0;
    Atomics.store(cs, at + 1, now);
  }
  if (tokens < bytes) {
    Atomics.store(cs, at, tokens);
    return false;
  }
  Atomics.store(cs, at, tokens - bytes);
  return true;
}

/** Per-worker statistics: this worker alone writes its words, so a plain add will do. */
function stat(t: TableViews, statBase: number, which: number): void {
  const g = t.globals;
  g[statBase + which] = ((g[statBase + which] ?? 0) + 1) | 0;
}

/** This worker's traffic words of a slot (single writer: plain adds, no lock on the hot path). */
function count(t: TableViews, slot: number, packetsWord: number, bytes: number): void {
  const tr = t.traffic;
  const at = t.trafficBase + slot * TRAFFIC_WORDS + packetsWord;
  tr[at] = ((tr[at] ?? 0) + 1) | 0;
  tr[at + 1] = ((tr[at + 1] ?? 0) + bytes) | 0;
}

/**
 * One upstream datagram at buf[offset, offset + length) from address:port. Returns an Up code.
 * statBase: this worker's statistics in globals.
 */
export function upstream(t: TableViews, statBase: number, buf: Uint8Array, offset: number, length: number, address: number, port: number, nowMs = 0): number {
  if (length < L2TP_DATA_HEADER_MIN_LENGTH) return Up.ToControl;
  const flags = ((buf[offset] ?? 0) << 8) | (buf[offset + 1] ?? 0);
  // Control messages and anything not version 2 are the control thread's (RFC 2661 3.1, 4.3).
  if ((flags & T_BIT) !== 0 || (flags & L2TP_VERSION_MASK) !== L2TP_VERSION) return Up.ToControl;
  const end = offset + length;
  let p = offset + 2;
  if ((flags & L_BIT) !== 0) {
    const l = ((buf[p] ?? 0) << 8) | (buf[p + 1] ?? 0);
    // RFC 2661 3.1: Length is the whole message; a shorter datagram is broken.
    if (l > length || l < L2TP_DATA_HEADER_MIN_LENGTH) {
      stat(t, statBase, WorkerStat.BAD_HEADER);
      return Up.Dropped;
    }
    p += 2;
  }
  const key = ((buf[p] ?? 0) << 24) | ((buf[p + 1] ?? 0) << 16) | ((buf[p + 2] ?? 0) << 8) | (buf[p + 3] ?? 0);
  p += 4;
  let ns = -1;
  if ((flags & S_BIT) !== 0) {
    ns = ((buf[p] ?? 0) << 8) | (buf[p + 1] ?? 0);
    p += L2TP_SEQUENCE_LENGTH;
  }
  if ((flags & O_BIT) !== 0) p += 2 + (((buf[p] ?? 0) << 8) | (buf[p + 1] ?? 0));
  if (p + 2 > end) {
    stat(t, statBase, WorkerStat.BAD_HEADER);
    return Up.Dropped;
  }
  const slot = lookupKey(t, key);
  if (slot < 0) return Up.ToControl;
  // Seqlock read of what this packet needs from the record.
  const rs = t.records;
  const at = slot * RECORD_WORDS;
  let rFlags = 0;
  let rIpv4 = 0;
  for (;;) {
    const v1 = Atomics.load(rs, at + R.VERSION);
    if ((v1 & 1) !== 0) continue;
    // Between the two version reads (Atomics, ordered), the fields are read plainly.
    if (rs[at + R.STATE] !== RecordState.Online || rs[at + R.KEY] !== key) return Up.ToControl;
    const peerOk = rs[at + R.PEER_ADDRESS] === (address | 0) && rs[at + R.PEER_PORT] === port;
    rFlags = rs[at + R.FLAGS] ?? 0;
    rIpv4 = rs[at + R.IPV4] ?? 0;
    readPolicy(rs, at, true);
    if (Atomics.load(rs, at + R.VERSION) !== v1) continue;
    // RFC 2661 8.1 as the control plane has it: data only from the tunnel's peer.
    if (!peerOk) {
      stat(t, statBase, WorkerStat.WRONG_PEER);
      return Up.Dropped;
    }
    break;
  }
  const cs = t.counters;
  const c = slot * COUNTER_WORDS;
  if (ns >= 0) {
    // RFC 2661 5.4: drop what arrives behind the sequence; remember that the LAC sequences. The
    // first Ns seen since the entry was published sets the sequence: a session published again
    // (a restart, a cluster takeover) meets the LAC's Ns wherever it is, not at 0.
    if (Atomics.load(cs, c + C.PEER_SEQUENCES) === 0) Atomics.store(cs, c + C.PEER_SEQUENCES, 1);
    else {
      const expected = Atomics.load(cs, c + C.NS_UP);
      if (((ns - expected) & 0xffff) >= 0x8000) {
        stat(t, statBase, WorkerStat.OUT_OF_SEQUENCE);
        Atomics.add(cs, c + C.DROPS, 1);
        return Up.Dropped;
      }
    }
    Atomics.store(cs, c + C.NS_UP, (ns + 1) & 0xffff);
  }
  // PPP: Address and Control (FF 03) may be left out (RFC 1661 6.6), the protocol compressed (6.5).
  if (buf[p] === 0xff && buf[p + 1] === 0x03) p += 2;
  let protocol = buf[p] ?? 0;
  if ((protocol & 1) !== 0) p += 1;
  else {
    protocol = (protocol << 8) | (buf[p + 1] ?? 0);
    p += 2;
  }
  const ipLength = end - p;
  const g = t.globals;
  if (protocol === PPP_IPV6 && (rFlags & RecordFlag.Ipv6) !== 0) {
    // RFC 8200 3: version 6 and a whole fixed header.
    if (ipLength < 40 || (buf[p] ?? 0) >> 4 !== 6) {
      stat(t, statBase, WorkerStat.BAD_HEADER);
      return Up.Dropped;
    }
    // Link-local sources (Router Solicitations, RFC 4861 6.3.7) and multicast destinations are
    // the control thread's: it answers with Router Advertisements.
    if ((buf[p + 8] === 0xfe && ((buf[p + 9] ?? 0) & 0xc0) === 0x80) || buf[p + 24] === 0xff) return Up.ToControl;
    if (g[G.NO_SPOOF] === 0 && !isSessionIpv6(g, buf, p + 8, rIpv4)) {
      stat(t, statBase, WorkerStat.SPOOFED);
      Atomics.add(cs, c + C.DROPS, 1);
      return Up.Dropped;
    }
    const v6 = policyPasses(t, statBase, slot, c, buf, p, ipLength, false, true, nowMs);
    if (v6 === DROP) return Up.Dropped;
    // The IPv6 header is 20 bytes longer than IPv4's: the MSS that fits is 20 less.
    const r6 = toTun(t, statBase, slot, buf, p, ipLength, (g[G.MSS] ?? 0) - 20);
    return v6 === SHAPE ? Up.Shape : r6;
  }
  if (protocol !== PPP_IPV4 || (rFlags & RecordFlag.Ipv4) === 0) return Up.ToControl;
  if (ipLength < 20 || (buf[p] ?? 0) >> 4 !== 4) {
    stat(t, statBase, WorkerStat.BAD_HEADER);
    return Up.Dropped;
  }
  if (g[G.NO_SPOOF] === 0) {
    const src = ((buf[p + 12] ?? 0) << 24) | ((buf[p + 13] ?? 0) << 16) | ((buf[p + 14] ?? 0) << 8) | (buf[p + 15] ?? 0);
    if (src !== rIpv4 && ((rFlags & RecordFlag.Routes) === 0 || lookupAddress(t, src) !== slot)) {
      stat(t, statBase, WorkerStat.SPOOFED);
      Atomics.add(cs, c + C.DROPS, 1);
      return Up.Dropped;
    }
  }
  const v = policyPasses(t, statBase, slot, c, buf, p, ipLength, true, true, nowMs);
  if (v === DROP) return Up.Dropped;
  const r = toTun(t, statBase, slot, buf, p, ipLength, g[G.MSS] ?? 0);
  return v === SHAPE ? Up.Shape : r;
}

/** An upstream IP packet that passed: MSS clamped, counted, and where it is (and its copy's target) in upOut. */
function toTun(t: TableViews, statBase: number, slot: number, buf: Uint8Array, ip: number, ipLength: number, mss: number): number {
  if (mss > 0 && clampTcpMss(buf, mss, ip, ip + ipLength)) stat(t, statBase, WorkerStat.MSS_CLAMPED);
  count(t, slot, T.RX_PACKETS, ipLength);
  upOut.offset = ip;
  upOut.length = ipLength;
  upOut.snoopAddress = pol.snoopAddress >>> 0;
  upOut.snoopPort = pol.snoopPort;
  upOut.slot = slot;
  return Up.ToTun;
}

function word(buf: Uint8Array, at: number): number {
  return ((buf[at] ?? 0) << 24) | ((buf[at + 1] ?? 0) << 16) | ((buf[at + 2] ?? 0) << 8) | (buf[at + 3] ?? 0);
}

/** The address at buf[at] is ipv6_prefix + the session's IPv4 address + 32 zero bits (l2tpns's scheme). */
function isSessionIpv6(g: Int32Array, buf: Uint8Array, at: number, ipv4: number): boolean {
  return g[G.IPV6_ON] !== 0 && word(buf, at) === g[G.IPV6_PREFIX_HI] && word(buf, at + 4) === g[G.IPV6_PREFIX_LO] && word(buf, at + 8) === ipv4 && word(buf, at + 12) === 0;
}

/** What became of a downstream packet. */
export const Down = {
  /** A datagram at downOut, to send to the LAC. */
  ToLac: 0,
  /** No session has the destination: an ICMP unreachable may be due. */
  NoSession: 1,
  Dropped: 2,
  /** Over the session's throttle rate: the worker queues the datagram (downOut as for ToLac). */
  Shape: 3,
} as const;

/**
 * One IP packet read from TUN at buf[offset, offset + length), with HEADROOM bytes free before
 * it. tenth: the current tenth of a second (packet_limit's window). Returns a Down code.
 */
export function downstream(t: TableViews, statBase: number, buf: Uint8Array, offset: number, length: number, tenth: number, nowMs = tenth * 100): number {
  const version = (buf[offset] ?? 0) >> 4;
  const g = t.globals;
  let slot: number;
  let protocol: number;
  if (version === 4 && length >= 20) {
    slot = lookupAddress(t, word(buf, offset + 16));
    protocol = PPP_IPV4;
  } else if (version === 6 && length >= 40) {
    // ipv6_prefix:IPv4:0 belongs to the session with that IPv4 address.
    const dst = offset + 24;
    if (buf[dst] === 0xff) {
      stat(t, statBase, WorkerStat.MULTICAST);
      return Down.Dropped;
    }
    if (g[G.IPV6_ON] === 0 || word(buf, dst) !== g[G.IPV6_PREFIX_HI] || word(buf, dst + 4) !== g[G.IPV6_PREFIX_LO]) return Down.NoSession;
    slot = lookupAddress(t, word(buf, dst + 8));
    protocol = PPP_IPV6;
  } else {
    stat(t, statBase, WorkerStat.BAD_HEADER);
    return Down.Dropped;
  }
  if (slot < 0) return Down.NoSession;
  const rs = t.records;
  const at = slot * RECORD_WORDS;
  let peerAddress = 0;
  let peerPort = 0;
  let peerIds = 0;
  let rFlags = 0;
  for (;;) {
    const v1 = Atomics.load(rs, at + R.VERSION);
    if ((v1 & 1) !== 0) continue;
    if (rs[at + R.STATE] !== RecordState.Online) return Down.NoSession;
    peerAddress = rs[at + R.PEER_ADDRESS] ?? 0;
    peerPort = rs[at + R.PEER_PORT] ?? 0;
    peerIds = rs[at + R.PEER_IDS] ?? 0;
    rFlags = rs[at + R.FLAGS] ?? 0;
    readPolicy(rs, at, false);
    if (Atomics.load(rs, at + R.VERSION) === v1) break;
  }
  if ((rFlags & (protocol === PPP_IPV4 ? RecordFlag.Ipv4 : RecordFlag.Ipv6)) === 0) return Down.NoSession;
  const cs = t.counters;
  const c = slot * COUNTER_WORDS;
  const limit = g[G.PACKET_LIMIT] ?? 0;
  if (limit > 0) {
    // l2tpns packet_limit: at most `limit` downstream packets per session per tenth of a second.
    if (Atomics.load(cs, c + C.LIMIT_TENTH) !== tenth) {
      Atomics.store(cs, c + C.LIMIT_TENTH, tenth);
      Atomics.store(cs, c + C.LIMIT_COUNT, 0);
    }
    if (Atomics.add(cs, c + C.LIMIT_COUNT, 1) >= limit) {
      stat(t, statBase, WorkerStat.PACKET_LIMIT);
      Atomics.add(cs, c + C.DROPS, 1);
      return Down.Dropped;
    }
  }
  const verdict = policyPasses(t, statBase, slot, c, buf, offset, length, protocol === PPP_IPV4, false, nowMs);
  if (verdict === DROP) return Down.Dropped;
  const mss = (g[G.MSS] ?? 0) - (protocol === PPP_IPV6 ? 20 : 0);
  if (mss > 0 && clampTcpMss(buf, mss, offset, offset + length)) stat(t, statBase, WorkerStat.MSS_CLAMPED);
  // PPP header, then L2TP (RFC 2661 3.1): flags, Tunnel ID, Session ID [, Ns, Nr].
  let h = offset - 4;
  buf[h] = 0xff;
  buf[h + 1] = 0x03;
  buf[h + 2] = 0x00;
  buf[h + 3] = protocol;
  const sequenced = (rFlags & RecordFlag.Sequencing) !== 0 || cs[c + C.PEER_SEQUENCES] !== 0;
  if (sequenced) {
    const ns = Atomics.add(cs, c + C.NS_DOWN, 1) & 0xffff;
    h -= L2TP_SEQUENCE_LENGTH;
    buf[h] = ns >>> 8;
    buf[h + 1] = ns & 0xff;
    buf[h + 2] = 0;
    buf[h + 3] = 0;
  }
  h -= L2TP_DATA_HEADER_MIN_LENGTH;
  const flags = (sequenced ? S_BIT : 0) | L2TP_VERSION;
  buf[h] = flags >>> 8;
  buf[h + 1] = flags & 0xff;
  buf[h + 2] = (peerIds >>> 24) & 0xff;
  buf[h + 3] = (peerIds >>> 16) & 0xff;
  buf[h + 4] = (peerIds >>> 8) & 0xff;
  buf[h + 5] = peerIds & 0xff;
  count(t, slot, T.TX_PACKETS, length);
  downOut.offset = h;
  downOut.length = offset + length - h;
  downOut.address = peerAddress >>> 0;
  downOut.port = peerPort;
  downOut.ipOffset = offset;
  downOut.ipLength = length;
  downOut.snoopAddress = pol.snoopAddress >>> 0;
  downOut.snoopPort = pol.snoopPort;
  downOut.slot = slot;
  if (verdict === SHAPE) return Down.Shape;
  return Down.ToLac;
}
