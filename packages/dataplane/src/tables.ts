// The session table the workers forward with, in SharedArrayBuffers (ARCHITECTURE.md, "threads").
//
// - Records: one fixed-size record per slot (a slot is a session's index here; the control thread
//   hands slots out). Written only by the control thread, under a seqlock: the version word is odd
//   while a record is being written, and a reader that sees it odd, or changed across its read,
//   does not use what it read.
// - Counters: per slot, written by the workers with Atomics (packets and bytes each way, the L2TP
//   data sequence numbers, packet_limit's window); read by the control thread.
// - Key index: (local Tunnel ID, local Session ID) -> slot, for upstream packets (open addressing,
//   linear probing, tombstones reused).
// - Address index: (IPv4 network, prefix length) -> slot, for downstream packets: the session's
//   own address (/32) and its Framed-Routes; longest prefix first over the lengths in use.
// Workers validate what an index gives them against the record itself (its key, its address),
// so an index entry changing under them never sends a packet to the wrong session.
import { allocateFilters, viewFilters, type FilterBuffers, type FilterViews } from "./filters.js";

/** Record words (Int32). */
export const R = {
  VERSION: 0,
  /** RecordState. */
  STATE: 1,
  /** (local Tunnel ID << 16) | local Session ID. */
  KEY: 2,
  /** The LAC's IPv4 address (host order) and UDP port: where downstream packets go. */
  PEER_ADDRESS: 3,
  PEER_PORT: 4,
  /** (peer's Tunnel ID << 16) | peer's Session ID: what downstream headers carry. */
  PEER_IDS: 5,
  /** RecordFlag bits. */
  FLAGS: 6,
  /** The session's IPv4 address (host order). */
  IPV4: 7,
  /** Throttling (token buckets), kbit/s each way; 0: none. Up is from the subscriber. */
  RATE_UP: 8,
  RATE_DOWN: 9,
  /** Interception: where copies of the session's packets go (host-order IPv4, UDP port; 0: none). */
  SNOOP_ADDRESS: 10,
  SNOOP_PORT: 11,
  /** Access lists applied each way: the list's index + 1; 0: none. */
  FILTER_UP: 12,
  FILTER_DOWN: 13,
  /** PolicyFlag bits. */
  POLICY: 14,
  /** The session's id as plugins and the CLI know it (lnsd: its NAS-Port). */
  SESSION_ID: 15,
} as const;
export const RECORD_WORDS = 16;

export const PolicyFlag = {
  /** Walled garden: traffic passes only where G.GARDEN_LIST permits. */
  Garden: 1,
} as const;

export const RecordState = { Free: 0, Online: 1 } as const;

export const RecordFlag = {
  /** IPCP is open: IPv4 flows. */
  Ipv4: 1,
  /** The LAC asked for sequenced data (RFC 2661 4.4.4, Sequencing Required). */
  Sequencing: 2,
  /** The session has Framed-Routes: an upstream source may be in one of them. */
  Routes: 4,
  /** IPV6CP is open: IPv6 flows (addresses in ipv6_prefix, see G.IPV6_PREFIX_HI). */
  Ipv6: 8,
} as const;

/**
 * Traffic counters: per worker and slot, written by that worker alone with plain stores (no lock
 * on the hot path), summed by the control thread; they wrap at 2^32.
 */
export const T = {
  RX_PACKETS: 0,
  RX_BYTES: 1,
  TX_PACKETS: 2,
  TX_BYTES: 3,
} as const;
export const TRAFFIC_WORDS = 4;

/** Shared counter words (Int32, updated with Atomics: several workers may touch one session). */
export const C = {
  /** Next Ns to send downstream (RFC 2661 5.4), when sequencing. */
  NS_DOWN: 4,
  /** Next Ns expected upstream. */
  NS_UP: 5,
  /** 1 once the LAC sent a sequenced data message: send ours sequenced too. */
  PEER_SEQUENCES: 6,
  /** packet_limit: the tenth of a second being counted, and the packets in it. */
  LIMIT_TENTH: 7,
  LIMIT_COUNT: 8,
  /** Packets of this session dropped (spoofed source, packet_limit, out of sequence, policy). */
  DROPS: 9,
  /** Token buckets each way: bytes available, and when last filled (ms, 31 bits). */
  UP_TOKENS: 10,
  UP_STAMP: 11,
  DOWN_TOKENS: 12,
  DOWN_STAMP: 13,
} as const;
export const COUNTER_WORDS = 16;

/** Shared settings and flags (Int32). */
export const G = {
  /** Set to 1 to make the workers leave. */
  STOP: 0,
  /** TCP MSS ceiling (from l2tp_mtu); 0: no clamping. */
  MSS: 1,
  /** packet_limit: downstream packets per session per 0.1 s; 0: no limit. */
  PACKET_LIMIT: 2,
  /** icmp_rate per worker, per second; 0: none sent. */
  ICMP_RATE: 3,
  /** 1: disable_no_spoof (upstream sources are not checked). */
  NO_SPOOF: 4,
  /** The address ICMP errors come from (host order). */
  LOCAL_ADDRESS: 5,
  /** Bit n set: some address index entry has prefix length n (n = 0..31); LENGTH_32 for /32. */
  LENGTHS: 6,
  LENGTH_32: 7,
  /**
   * l2tpns's ipv6_prefix: the first 64 bits of every session's IPv6 address (two words, network
   * order as read big-endian); the next 32 bits are the session's IPv4 address, the last 32 zero.
   * IPV6_ON is 0 when no prefix is set.
   */
  IPV6_ON: 8,
  IPV6_PREFIX_HI: 9,
  IPV6_PREFIX_LO: 10,
  /** The access list gardened sessions are held to (its index + 1); 0: they pass nothing. */
  GARDEN_LIST: 11,
  /** Bumped when the plugins with packet hooks change: each worker then loads the new set. */
  PLUGIN_GEN: 12,
  /** Per-worker statistics start here (WorkerStat words each). */
  STATS: 16,
} as const;

/** Per-worker statistics (Int32 words; wrap at 2^32). */
export const WorkerStat = {
  UDP_IN: 0,
  TUN_OUT: 1,
  TUN_IN: 2,
  UDP_OUT: 3,
  TO_CONTROL: 4,
  /** Datagrams the worker could not hand to the control thread fast enough. */
  CONTROL_OVERLOAD: 5,
  BAD_HEADER: 6,
  WRONG_PEER: 7,
  SPOOFED: 8,
  OUT_OF_SEQUENCE: 9,
  PACKET_LIMIT: 10,
  NO_SESSION: 11,
  ICMP_SENT: 12,
  SEND_FAILED: 13,
  TUN_WRITE_FAILED: 14,
  TRUNCATED: 15,
  BATCHES: 16,
  MSS_CLAMPED: 17,
  /** IPv6 multicast the kernel sends on the device itself (MLD, router solicitations): dropped. */
  MULTICAST: 18,
  /** Denied by the session's access list, held in the walled garden, over the throttle rate. */
  FILTERED: 19,
  GARDENED: 20,
  THROTTLED: 21,
  /** Copies sent to an interception target. */
  SNOOPED: 22,
  /** Packets a plugin's packet_rx / packet_tx answered STOP to (or failed on). */
  PLUGIN_DROPPED: 23,
} as const;
export const STAT_WORDS = 24;
export type WorkerStatName = keyof typeof WorkerStat;

/** The buffers behind a table, as passed to workers (workerData). */
export interface TableBuffers {
  readonly filters: FilterBuffers;
  readonly workers: number;
  /** workers x slots x TRAFFIC_WORDS. */
  readonly traffic: SharedArrayBuffer;
  readonly slots: number;
  readonly records: SharedArrayBuffer;
  readonly counters: SharedArrayBuffer;
  readonly keyIndex: SharedArrayBuffer;
  readonly addressIndex: SharedArrayBuffer;
  readonly globals: SharedArrayBuffer;
}

/** Typed views over TableBuffers: what the code on either side works with. */
export interface TableViews {
  readonly slots: number;
  readonly records: Int32Array;
  readonly counters: Int32Array;
  /** [key, slot + 1] pairs; key 0 is an empty entry, slot + 1 = 0 a tombstone. */
  readonly keyIndex: Int32Array;
  readonly keyMask: number;
  /** [network, prefix length + 1, slot + 1] triples; length 0 is an empty entry, slot + 1 = 0 a tombstone. */
  readonly addressIndex: Int32Array;
  readonly addressMask: number;
  readonly globals: Int32Array;
  readonly filters: FilterViews;
  readonly traffic: Int32Array;
  /** This worker's part of `traffic` (0 on the control thread). */
  readonly trafficBase: number;
}

function pow2AtLeast(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

export function allocateTables(slots: number, workers: number): TableBuffers {
  // Index capacity is twice the entries it can hold, so probes stay short.
  const keyCap = pow2AtLeast(slots * 2);
  const addressCap = pow2AtLeast(slots * 4);
  return {
    slots,
    records: new SharedArrayBuffer(slots * RECORD_WORDS * 4),
    counters: new SharedArrayBuffer(slots * COUNTER_WORDS * 4),
    keyIndex: new SharedArrayBuffer(keyCap * 2 * 4),
    addressIndex: new SharedArrayBuffer(addressCap * 3 * 4),
    globals: new SharedArrayBuffer((G.STATS + workers * STAT_WORDS) * 4),
    filters: allocateFilters(),
    workers,
    traffic: new SharedArrayBuffer(workers * slots * TRAFFIC_WORDS * 4),
  };
}

export function viewTables(b: TableBuffers, worker = 0): TableViews {
  const keyIndex = new Int32Array(b.keyIndex);
  const addressIndex = new Int32Array(b.addressIndex);
  return {
    slots: b.slots,
    records: new Int32Array(b.records),
    counters: new Int32Array(b.counters),
    keyIndex,
    keyMask: keyIndex.length / 2 - 1,
    addressIndex,
    addressMask: addressIndex.length / 3 - 1,
    globals: new Int32Array(b.globals),
    filters: viewFilters(b.filters),
    traffic: new Int32Array(b.traffic),
    trafficBase: worker * b.slots * TRAFFIC_WORDS,
  };
}

export function sessionKey(localTunnelId: number, localSessionId: number): number {
  return ((localTunnelId << 16) | localSessionId) | 0;
}

function hashKey(key: number, mask: number): number {
  return (Math.imul(key, 0x9e3779b1) >>> 12) & mask;
}

function hashAddress(network: number, length: number, mask: number): number {
  return (Math.imul(network ^ Math.imul(length, 0x85ebca6b), 0x9e3779b1) >>> 11) & mask;
}

/** Key index lookup: the slot, or -1. Reader side (workers); the record must still be checked. */
export function lookupKey(t: TableViews, key: number): number {
  const idx = t.keyIndex;
  let i = hashKey(key, t.keyMask);
  for (let probes = 0; probes <= t.keyMask; probes++) {
    const k = (idx[i * 2] ?? 0);
    if (k === 0) return -1;
    if (k === key) {
      const v = (idx[i * 2 + 1] ?? 0);
      if (v !== 0) return v - 1;
    }
    i = (i + 1) & t.keyMask;
  }
  return -1;
}

function lookupAddressLength(t: TableViews, network: number, length: number): number {
  const idx = t.addressIndex;
  let i = hashAddress(network, length, t.addressMask);
  for (let probes = 0; probes <= t.addressMask; probes++) {
    const at = i * 3;
    const l = (idx[at + 1] ?? 0);
    if (l === 0) return -1;
    if (l === length + 1 && idx[at] === network) {
      const v = (idx[at + 2] ?? 0);
      if (v !== 0) return v - 1;
    }
    i = (i + 1) & t.addressMask;
  }
  return -1;
}

/** Longest-prefix match of an IPv4 address (host order, as int32): the slot, or -1. */
export function lookupAddress(t: TableViews, address: number): number {
  const g = t.globals;
  if (g[G.LENGTH_32] !== 0) {
    const s = lookupAddressLength(t, address | 0, 32);
    if (s >= 0) return s;
  }
  let lengths = g[G.LENGTHS] ?? 0;
  while (lengths !== 0) {
    const len = 31 - Math.clz32(lengths);
    lengths &= ~(1 << len);
    const network = len === 0 ? 0 : address & (-1 << (32 - len));
    const s = lookupAddressLength(t, network | 0, len);
    if (s >= 0) return s;
  }
  return -1;
}

/** What the control thread publishes for an online session. */
export interface SessionRecord {
  readonly localTunnelId: number;
  readonly localSessionId: number;
  readonly peerTunnelId: number;
  readonly peerSessionId: number;
  /** The LAC (host-order IPv4) and its port. */
  readonly peerAddress: number;
  readonly peerPort: number;
  readonly ipv4: number;
  /** Framed-Routes: routed to the session, and allowed as upstream sources. */
  readonly routes: readonly { readonly network: number; readonly prefixLength: number }[];
  readonly sequencing: boolean;
  /** IPCP is open (IPv4 forwarded); IPV6CP is open (IPv6 forwarded). */
  readonly ipv4Up: boolean;
  readonly ipv6Up: boolean;
  readonly policy?: RecordPolicy;
  /** The session's id for plugins (packet hooks). */
  readonly sessionId?: number;
}

/** Throttling, interception, filters and the walled garden of one session. */
export interface RecordPolicy {
  /** kbit/s; 0 or undefined: not throttled. */
  readonly rateUp?: number;
  readonly rateDown?: number;
  readonly snoop?: { readonly address: number; readonly port: number };
  /** Access-list indexes (FilterWriter.indexOf); -1 or undefined: none. */
  readonly filterUp?: number;
  readonly filterDown?: number;
  readonly garden?: boolean;
}

/** Counter values harvested from a slot (deltas since the last harvest). */
export interface CounterDelta {
  rxPackets: number;
  rxBytes: number;
  txPackets: number;
  txBytes: number;
  drops: number;
}

/**
 * The control thread's side: slots, records and indexes. The only writer of records and indexes.
 */
export class SessionTableWriter {
  readonly views: TableViews;
  /** Free slots, reused oldest first so that a freed slot is not reused while a worker may still hold it. */
  private readonly free: Int32Array;
  private freeHead = 0;
  private freeCount: number;
  /** Per slot: the key, address and routes it was published with (to unpublish), and the counters last harvested. */
  private readonly published = new Map<number, SessionRecord>();
  /** The traffic words as last harvested (same layout as views.traffic), and the drops. */
  private readonly lastSeen: Int32Array;
  private readonly lastDrops: Int32Array;
  private readonly lengthUse = new Int32Array(33);

  constructor(readonly buffers: TableBuffers) {
    this.views = viewTables(buffers);
    this.free = new Int32Array(buffers.slots);
    for (let i = 0; i < buffers.slots; i++) this.free[i] = i;
    this.freeCount = buffers.slots;
    this.lastSeen = new Int32Array(buffers.workers * buffers.slots * TRAFFIC_WORDS);
    this.lastDrops = new Int32Array(buffers.slots);
  }

  get size(): number {
    return this.published.size;
  }

  /** Publishes an online session; returns its slot, or -1 when the table is full. */
  publish(rec: SessionRecord): number {
    if (this.freeCount === 0) return -1;
    const slot = this.free[this.freeHead] ?? 0;
    this.freeHead = (this.freeHead + 1) % this.free.length;
    this.freeCount--;
    const c = slot * COUNTER_WORDS;
    const cs = this.views.counters;
    for (let i = 0; i < COUNTER_WORDS; i++) Atomics.store(cs, c + i, 0);
    this.lastDrops[slot] = 0;
    // The traffic words start again from where they are (a worker may still add to them).
    for (let w = 0; w < this.buffers.workers; w++) {
      const at = (w * this.buffers.slots + slot) * TRAFFIC_WORDS;
      for (let i = 0; i < TRAFFIC_WORDS; i++) this.lastSeen[at + i] = this.views.traffic[at + i] ?? 0;
    }
    this.writeRecord(slot, rec);
    this.published.set(slot, rec);
    this.insertKey(sessionKey(rec.localTunnelId, rec.localSessionId), slot);
    this.insertAddress(rec.ipv4, 32, slot);
    for (const r of rec.routes) this.insertAddress(r.network, r.prefixLength, slot);
    return slot;
  }

  /** Throttling, interception, filters or the garden changed: in place, same slot and counters. */
  setPolicy(slot: number, policy: RecordPolicy): void {
    const rec = this.published.get(slot);
    if (rec === undefined) return;
    const next = { ...rec, policy };
    this.published.set(slot, next);
    this.writeRecord(slot, next);
  }

  /** An NCP opened or closed: the record's flags change in place (same slot, same counters). */
  setUp(slot: number, ipv4Up: boolean, ipv6Up: boolean): void {
    const rec = this.published.get(slot);
    if (rec === undefined) return;
    const next = { ...rec, ipv4Up, ipv6Up };
    this.published.set(slot, next);
    this.writeRecord(slot, next);
  }

  /** The session is gone: its indexes first, then its record; the slot goes to the back of the free list. */
  unpublish(slot: number): void {
    const rec = this.published.get(slot);
    if (rec === undefined) return;
    this.published.delete(slot);
    this.removeKey(sessionKey(rec.localTunnelId, rec.localSessionId), slot);
    this.removeAddress(rec.ipv4, 32, slot);
    for (const r of rec.routes) this.removeAddress(r.network, r.prefixLength, slot);
    const v = this.views.records;
    const at = slot * RECORD_WORDS;
    Atomics.add(v, at + R.VERSION, 1);
    Atomics.store(v, at + R.STATE, RecordState.Free);
    Atomics.add(v, at + R.VERSION, 1);
    this.free[(this.freeHead + this.freeCount) % this.free.length] = slot;
    this.freeCount++;
  }

  /** Counter deltas of a published slot since its last harvest (wrap-safe for < 2^32 per interval and worker). */
  harvest(slot: number, out: CounterDelta): void {
    const tr = this.views.traffic;
    const seen = this.lastSeen;
    let rxPackets = 0;
    let rxBytes = 0;
    let txPackets = 0;
    let txBytes = 0;
    for (let w = 0; w < this.buffers.workers; w++) {
      const at = (w * this.buffers.slots + slot) * TRAFFIC_WORDS;
      const rp = tr[at + T.RX_PACKETS] ?? 0;
      const rb = tr[at + T.RX_BYTES] ?? 0;
      const tp = tr[at + T.TX_PACKETS] ?? 0;
      const tb = tr[at + T.TX_BYTES] ?? 0;
      rxPackets += (rp - (seen[at + T.RX_PACKETS] ?? 0)) >>> 0;
      rxBytes += (rb - (seen[at + T.RX_BYTES] ?? 0)) >>> 0;
      txPackets += (tp - (seen[at + T.TX_PACKETS] ?? 0)) >>> 0;
      txBytes += (tb - (seen[at + T.TX_BYTES] ?? 0)) >>> 0;
      seen[at + T.RX_PACKETS] = rp;
      seen[at + T.RX_BYTES] = rb;
      seen[at + T.TX_PACKETS] = tp;
      seen[at + T.TX_BYTES] = tb;
    }
    out.rxPackets = rxPackets;
    out.rxBytes = rxBytes;
    out.txPackets = txPackets;
    out.txBytes = txBytes;
    const drops = Atomics.load(this.views.counters, slot * COUNTER_WORDS + C.DROPS);
    out.drops = (drops - (this.lastDrops[slot] ?? 0)) >>> 0;
    this.lastDrops[slot] = drops;
  }

  /**
   * The slot's downstream data-channel Ns as the control thread's frames take it: @lnsd/l2tp's
   * DataSequence decides whether a frame is sequenced (RFC 2661 5.4), this is where the counter
   * the workers share lives while they forward the session.
   */
  dataSequence(slot: number): { peerSequences(): boolean; takeNs(): number } {
    const cs = this.views.counters;
    const c = slot * COUNTER_WORDS;
    return {
      peerSequences: () => Atomics.load(cs, c + C.PEER_SEQUENCES) !== 0,
      takeNs: () => Atomics.add(cs, c + C.NS_DOWN, 1) & 0xffff,
    };
  }

  private writeRecord(slot: number, rec: SessionRecord): void {
    const v = this.views.records;
    const at = slot * RECORD_WORDS;
    Atomics.add(v, at + R.VERSION, 1);
    Atomics.store(v, at + R.KEY, sessionKey(rec.localTunnelId, rec.localSessionId));
    Atomics.store(v, at + R.PEER_ADDRESS, rec.peerAddress | 0);
    Atomics.store(v, at + R.PEER_PORT, rec.peerPort);
    Atomics.store(v, at + R.PEER_IDS, ((rec.peerTunnelId << 16) | rec.peerSessionId) | 0);
    Atomics.store(v, at + R.FLAGS, (rec.ipv4Up ? RecordFlag.Ipv4 : 0) | (rec.ipv6Up ? RecordFlag.Ipv6 : 0) | (rec.sequencing ? RecordFlag.Sequencing : 0) | (rec.routes.length > 0 ? RecordFlag.Routes : 0));
    Atomics.store(v, at + R.IPV4, rec.ipv4 | 0);
    const p = rec.policy;
    Atomics.store(v, at + R.RATE_UP, Math.max(0, Math.floor(p?.rateUp ?? 0)));
    Atomics.store(v, at + R.RATE_DOWN, Math.max(0, Math.floor(p?.rateDown ?? 0)));
    Atomics.store(v, at + R.SNOOP_ADDRESS, (p?.snoop?.address ?? 0) | 0);
    Atomics.store(v, at + R.SNOOP_PORT, p?.snoop?.port ?? 0);
    Atomics.store(v, at + R.FILTER_UP, (p?.filterUp ?? -1) + 1);
    Atomics.store(v, at + R.FILTER_DOWN, (p?.filterDown ?? -1) + 1);
    Atomics.store(v, at + R.POLICY, p?.garden === true ? PolicyFlag.Garden : 0);
    Atomics.store(v, at + R.SESSION_ID, rec.sessionId ?? 0);
    Atomics.store(v, at + R.STATE, RecordState.Online);
    Atomics.add(v, at + R.VERSION, 1);
  }

  private insertKey(key: number, slot: number): void {
    const t = this.views;
    const idx = t.keyIndex;
    let i = hashKey(key, t.keyMask);
    let reuse = -1;
    for (let probes = 0; probes <= t.keyMask; probes++) {
      const k = idx[i * 2] ?? 0;
      if (k === 0) break;
      if (k === key) {
        // Same key again (a replaced session): point it at the new slot.
        Atomics.store(idx, i * 2 + 1, slot + 1);
        return;
      }
      if (reuse < 0 && idx[i * 2 + 1] === 0) reuse = i;
      i = (i + 1) & t.keyMask;
    }
    const at = reuse >= 0 ? reuse : i;
    // Key first, then the slot: a reader finding the key before its slot sees a tombstone (a miss).
    Atomics.store(idx, at * 2 + 1, 0);
    Atomics.store(idx, at * 2, key);
    Atomics.store(idx, at * 2 + 1, slot + 1);
  }

  private removeKey(key: number, slot: number): void {
    const t = this.views;
    const idx = t.keyIndex;
    let i = hashKey(key, t.keyMask);
    for (let probes = 0; probes <= t.keyMask; probes++) {
      const k = idx[i * 2] ?? 0;
      if (k === 0) return;
      if (k === key && idx[i * 2 + 1] === slot + 1) {
        Atomics.store(idx, i * 2 + 1, 0);
        return;
      }
      i = (i + 1) & t.keyMask;
    }
  }

  private insertAddress(network: number, length: number, slot: number): void {
    const t = this.views;
    const idx = t.addressIndex;
    const net = length === 0 ? 0 : (network & (-1 << (32 - length))) | 0;
    let i = hashAddress(net, length, t.addressMask);
    let reuse = -1;
    for (let probes = 0; probes <= t.addressMask; probes++) {
      const at = i * 3;
      const l = idx[at + 1] ?? 0;
      if (l === 0) break;
      if (l === length + 1 && idx[at] === net) {
        // l2tpns: the newest session with an address wins it.
        if (idx[at + 2] === 0) this.useLength(length, 1);
        Atomics.store(idx, at + 2, slot + 1);
        return;
      }
      if (reuse < 0 && idx[at + 2] === 0) reuse = i;
      i = (i + 1) & t.addressMask;
    }
    const at = (reuse >= 0 ? reuse : i) * 3;
    Atomics.store(idx, at + 2, 0);
    Atomics.store(idx, at, net);
    Atomics.store(idx, at + 1, length + 1);
    Atomics.store(idx, at + 2, slot + 1);
    this.useLength(length, 1);
  }

  private removeAddress(network: number, length: number, slot: number): void {
    const t = this.views;
    const idx = t.addressIndex;
    const net = length === 0 ? 0 : (network & (-1 << (32 - length))) | 0;
    let i = hashAddress(net, length, t.addressMask);
    for (let probes = 0; probes <= t.addressMask; probes++) {
      const at = i * 3;
      const l = idx[at + 1] ?? 0;
      if (l === 0) return;
      if (l === length + 1 && idx[at] === net) {
        // Only if it is still this slot's (a newer session may have taken the address).
        if (idx[at + 2] === slot + 1) {
          Atomics.store(idx, at + 2, 0);
          this.useLength(length, -1);
        }
        return;
      }
      i = (i + 1) & t.addressMask;
    }
  }

  private useLength(length: number, delta: number): void {
    const n = (this.lengthUse[length] ?? 0) + delta;
    this.lengthUse[length] = n;
    const g = this.views.globals;
    if (length === 32) {
      Atomics.store(g, G.LENGTH_32, n > 0 ? 1 : 0);
      return;
    }
    if (n > 0) Atomics.or(g, G.LENGTHS, 1 << length);
    else Atomics.and(g, G.LENGTHS, ~(1 << length));
  }
}
