// Reliable delivery of L2TP control messages (RFC 2661 5.8 and appendix A), one instance per
// control connection, on the control thread. It owns Ns/Nr, the send window, slow start and
// congestion avoidance, retransmission, reordering and the ZLB ack; the tunnel state machine above
// sees each message once, in order.
import type { Clock, TimerHandle } from "@lnsd/io";
import { seqDiff, seqInc } from "./seq.js";

export interface ReliableConfig {
  /** Our Receive Window Size: how many out-of-order messages we hold (RFC 2661 4.4.3). */
  readonly receiveWindow: number;
  /** First retransmission timeout (RFC 2661 5.8 recommends 1 s). */
  readonly retransmitInitialMs: number;
  /** Cap of the exponential back-off (RFC 2661 5.8: no less than 8 s). */
  readonly retransmitCapMs: number;
  /** Retransmissions of one message before the connection is declared dead (RFC 2661 5.8: 5). */
  readonly maxRetries: number;
  /** How long to wait for a message to carry an ack before sending a ZLB (RFC 2661 5.8). */
  readonly ackDelayMs: number;
}

export const DEFAULT_RELIABLE_CONFIG: ReliableConfig = {
  receiveWindow: 16,
  retransmitInitialMs: 1000,
  retransmitCapMs: 8000,
  maxRetries: 5,
  ackDelayMs: 100,
};

/** RFC 2661 4.4.3: a peer that sends no Receive Window Size AVP has a window of 4. */
export const DEFAULT_PEER_WINDOW = 4;

export interface ReliableIo<M> {
  /** Puts bytes on the wire (a UDP datagram to the peer). */
  transmit(packet: Buffer): void;
  /** Builds a ZLB (control header, no AVPs) with these Ns and Nr (RFC 2661 5.8). */
  buildZlb(ns: number, nr: number): Buffer;
  /** Hands a message up, once, in order. */
  deliver(msg: M): void;
  /** The peer stopped acknowledging: retries ran out. The caller tears the tunnel down. */
  failed(reason: string): void;
}

export interface ReliableCounters {
  sent: number;
  retransmitted: number;
  received: number;
  duplicates: number;
  outOfOrderHeld: number;
  outOfWindow: number;
  zlbSent: number;
  badNr: number;
}

interface Outgoing {
  readonly ns: number;
  readonly packet: Buffer;
  retries: number;
}

/**
 * A control message we numbered, as plain data: its bytes in hex (Nr is rewritten when sent).
 * A journal may keep the bytes apart (they do not change while the message waits for its ack):
 * packetHex is then absent here and put back before restore().
 */
export interface OutgoingRecord {
  readonly ns: number;
  readonly packetHex?: string;
  readonly retries: number;
}

/**
 * A control connection's reliable-delivery state as plain, JSON-serialisable data, enough to go on
 * in another process. Messages held out of order are not kept: they were never acknowledged (Nr
 * stops below them), so the peer retransmits them (RFC 2661 5.8).
 */
export interface ReliableRecord {
  /** Ns of the next message we send. */
  readonly ns: number;
  /** Ns we expect next from the peer: the Nr we send. */
  readonly nr: number;
  /** The Nr most recently put on the wire. */
  readonly sentNr: number;
  /** The peer's Receive Window Size (RFC 2661 4.4.3). */
  readonly peerWindow: number;
  /** Appendix A congestion state. */
  readonly cwnd: number;
  readonly ssthresh: number;
  readonly cwndAcks: number;
  /** Sent and not yet acknowledged, oldest first: retransmitted until acknowledged (RFC 2661 5.8). */
  readonly inFlight: readonly OutgoingRecord[];
  /** Numbered but held back by the window: not on the wire yet. */
  readonly waiting: readonly OutgoingRecord[];
  /**
   * Instead of inFlight and waiting, in a record made without the messages' bytes: their Ns are
   * consecutive (mod 2^16) from `first`, `inFlight` of them then `waiting`; `retries` are the
   * in-flight ones' from the oldest, trailing zeros left out. withMessages() expands it.
   */
  readonly span?: { readonly first: number; readonly inFlight: number; readonly waiting: number; readonly retries: readonly number[] };
  /** Wall-clock deadline (epoch ms) of the oldest message's retransmission; absent with none in flight. */
  readonly retransmitAt?: number;
  /** Wall-clock deadline (epoch ms) of a pending ZLB ack; absent when every ack went out. */
  readonly ackAt?: number;
  readonly counters: ReliableCounters;
}

/**
 * A record made without the messages' bytes (its span) with them put back from `packetHex`
 * (by Ns); the Ns of the first message it cannot find when one is missing.
 */
export function withMessages(r: ReliableRecord, packetHex: (ns: number) => string | undefined): { ok: true; record: ReliableRecord } | { ok: false; missing: number } {
  const span = r.span;
  if (span === undefined) return { ok: true, record: r };
  const make = (i: number): OutgoingRecord | number => {
    const ns = (span.first + i) & 0xffff;
    const hex = packetHex(ns);
    return hex === undefined ? ns : { ns, packetHex: hex, retries: i < span.inFlight ? (span.retries[i] ?? 0) : 0 };
  };
  const all: OutgoingRecord[] = [];
  for (let i = 0; i < span.inFlight + span.waiting; i++) {
    const o = make(i);
    if (typeof o === "number") return { ok: false, missing: o };
    all.push(o);
  }
  const { span: _span, ...rest } = r;
  return { ok: true, record: { ...rest, inFlight: all.slice(0, span.inFlight), waiting: all.slice(span.inFlight) } };
}

// Offset of Nr in a control message header (T, L, S set, O clear: RFC 2661 3.1).
const NR_OFFSET = 10;

export class ReliableTransport<M> {
  /** Ns of the next message we send (RFC 2661 5.8). */
  private nextNs = 0;
  /** Ns we expect next from the peer, i.e. the Nr we send. */
  private expectedNs = 0;
  /** The Nr most recently put on the wire, in a message or a ZLB. */
  private sentNr = 0;
  private peerWindow = DEFAULT_PEER_WINDOW;
  /** Appendix A congestion window, in messages; cwndAcks counts acks in congestion avoidance. */
  private cwnd = 1;
  private ssthresh = DEFAULT_PEER_WINDOW;
  private cwndAcks = 0;
  private readonly inFlight: Outgoing[] = [];
  private readonly waiting: Outgoing[] = [];
  private readonly held = new Map<number, M>();
  private retransmitTimer: TimerHandle | undefined;
  /** When the armed retransmit timer fires (clock time). */
  private retransmitDue = 0;
  private ackTimer: TimerHandle | undefined;
  private ackDue = 0;
  private closed = false;
  readonly counters: ReliableCounters = {
    sent: 0,
    retransmitted: 0,
    received: 0,
    duplicates: 0,
    outOfOrderHeld: 0,
    outOfWindow: 0,
    zlbSent: 0,
    badNr: 0,
  };

  constructor(
    private readonly clock: Clock,
    private readonly io: ReliableIo<M>,
    private readonly config: ReliableConfig = DEFAULT_RELIABLE_CONFIG,
  ) {}

  /** The peer's Receive Window Size, from its SCCRQ or SCCRP (RFC 2661 4.4.3). */
  setPeerWindow(window: number): void {
    this.peerWindow = Math.max(1, window);
    this.ssthresh = this.peerWindow;
    this.cwnd = Math.min(this.cwnd, this.peerWindow);
    this.pump();
  }

  get window(): { readonly cwnd: number; readonly ssthresh: number; readonly peer: number } {
    return { cwnd: this.cwnd, ssthresh: this.ssthresh, peer: this.peerWindow };
  }

  /** Nothing in flight and nothing waiting for the window. */
  get idle(): boolean {
    return this.inFlight.length === 0 && this.waiting.length === 0;
  }

  get ns(): number {
    return this.nextNs;
  }

  get nr(): number {
    return this.expectedNs;
  }

  /**
   * Queues a message. build(ns, nr) encodes it with its Ns; Nr is refreshed on every
   * transmission (RFC 2661 5.8: a retransmission carries the current Nr).
   */
  send(build: (ns: number, nr: number) => Buffer): void {
    if (this.closed) return;
    const ns = this.nextNs;
    this.nextNs = seqInc(ns);
    this.waiting.push({ ns, packet: build(ns, this.expectedNs), retries: 0 });
    this.pump();
  }

  /**
   * A control message or ZLB (msg undefined) from the peer, already decoded.
   * RFC 2661 5.8: Nr acknowledges everything before it; Ns orders delivery.
   */
  receive(ns: number, nr: number, msg: M | undefined): void {
    if (this.closed) return;
    this.acknowledge(nr);
    if (msg === undefined || this.isClosed()) return;
    this.counters.received++;
    const d = seqDiff(ns, this.expectedNs);
    if (d < 0) {
      // A duplicate: our ack was lost. Acknowledge again at once, drop the message.
      this.counters.duplicates++;
      this.sendZlb();
      return;
    }
    if (d >= this.config.receiveWindow) {
      this.counters.outOfWindow++;
      return;
    }
    if (d > 0) {
      if (!this.held.has(ns)) {
        this.held.set(ns, msg);
        this.counters.outOfOrderHeld++;
      }
      return;
    }
    this.expectedNs = seqInc(this.expectedNs);
    this.io.deliver(msg);
    for (;;) {
      if (this.isClosed()) return;
      const next = this.held.get(this.expectedNs);
      if (next === undefined) break;
      this.held.delete(this.expectedNs);
      this.expectedNs = seqInc(this.expectedNs);
      this.io.deliver(next);
    }
    // RFC 2661 5.8: a ZLB only when no message carried the ack, e.g. a reply sent from deliver().
    if (!this.isClosed() && this.sentNr !== this.expectedNs) this.scheduleAck();
  }

  /**
   * The state as a record; deadlines in wall-clock time (epochOffsetMs: epoch ms minus clock time).
   */
  record(epochOffsetMs: number, withPackets = true): ReliableRecord {
    const out = (o: Outgoing): OutgoingRecord => ({ ns: o.ns, packetHex: o.packet.toString("hex"), retries: o.retries });
    const retries = this.inFlight.map((o) => o.retries);
    while (retries.length > 0 && retries[retries.length - 1] === 0) retries.pop();
    const queued = withPackets
      ? { inFlight: this.inFlight.map(out), waiting: this.waiting.map(out) }
      : { inFlight: [], waiting: [], span: { first: this.inFlight[0]?.ns ?? this.waiting[0]?.ns ?? this.nextNs, inFlight: this.inFlight.length, waiting: this.waiting.length, retries } };
    return {
      ns: this.nextNs,
      nr: this.expectedNs,
      sentNr: this.sentNr,
      peerWindow: this.peerWindow,
      cwnd: this.cwnd,
      ssthresh: this.ssthresh,
      cwndAcks: this.cwndAcks,
      ...queued,
      ...(this.retransmitTimer === undefined ? {} : { retransmitAt: this.retransmitDue + epochOffsetMs }),
      ...(this.ackTimer === undefined ? {} : { ackAt: this.ackDue + epochOffsetMs }),
      counters: { ...this.counters },
    };
  }

  /**
   * Takes over a recorded state, on a transport that has sent and received nothing. Timers are
   * armed at their recorded deadlines (at once if they passed): the oldest unacknowledged message
   * is retransmitted as it would have been (RFC 2661 5.8), a pending ack goes out as a ZLB.
   */
  restore(r: ReliableRecord, epochOffsetMs: number): void {
    const out = (o: OutgoingRecord): Outgoing => ({ ns: o.ns & 0xffff, packet: Buffer.from(o.packetHex ?? "", "hex"), retries: o.retries });
    this.nextNs = r.ns & 0xffff;
    this.expectedNs = r.nr & 0xffff;
    this.sentNr = r.sentNr & 0xffff;
    this.peerWindow = Math.max(1, r.peerWindow);
    this.cwnd = Math.max(1, r.cwnd);
    this.ssthresh = Math.max(1, r.ssthresh);
    this.cwndAcks = r.cwndAcks;
    this.inFlight.push(...r.inFlight.map(out));
    this.waiting.push(...r.waiting.map(out));
    Object.assign(this.counters, r.counters);
    const now = this.clock.now();
    if (this.inFlight.length > 0) {
      this.armRetransmit(r.retransmitAt === undefined ? undefined : Math.max(0, r.retransmitAt - epochOffsetMs - now));
    }
    if (r.ackAt !== undefined) this.armAck(Math.max(0, r.ackAt - epochOffsetMs - now));
    this.pump();
  }

  /** The Ns of every message sent and not acknowledged or waiting for the window, oldest first. */
  messageNumbers(): number[] {
    return [...this.inFlight.map((o) => o.ns), ...this.waiting.map((o) => o.ns)];
  }

  /** The bytes of the message numbered ns, while it is in flight or waiting. */
  messagePacket(ns: number): Buffer | undefined {
    return (this.inFlight.find((o) => o.ns === ns) ?? this.waiting.find((o) => o.ns === ns))?.packet;
  }

  /** Sends any pending ack now (e.g. before the connection goes away). */
  flushAck(): void {
    if (this.ackTimer !== undefined) this.sendZlb();
  }

  /** Stops every timer; nothing is sent or delivered afterwards. */
  close(): void {
    this.closed = true;
    this.retransmitTimer?.cancel();
    this.retransmitTimer = undefined;
    this.ackTimer?.cancel();
    this.ackTimer = undefined;
    this.inFlight.length = 0;
    this.waiting.length = 0;
    this.held.clear();
  }

  /** A method, not the field: deliver() may close us re-entrantly, which flow analysis cannot see. */
  private isClosed(): boolean {
    return this.closed;
  }

  private acknowledge(nr: number): void {
    const oldest = this.inFlight[0];
    if (oldest === undefined) {
      // Nothing outstanding: a valid Nr equals our next Ns (or lags behind waiting messages).
      return;
    }
    // Nr must lie in [oldest.ns, nextNs]; anything else is stale or bogus (counted, ignored).
    const acked = seqDiff(nr, oldest.ns);
    const firstUnsent = this.waiting[0]?.ns ?? this.nextNs;
    if (acked <= 0 || seqDiff(nr, firstUnsent) > 0) {
      if (acked < 0 || seqDiff(nr, firstUnsent) > 0) this.counters.badNr++;
      return;
    }
    this.inFlight.splice(0, acked);
    for (let i = 0; i < acked; i++) this.openWindow();
    this.retransmitTimer?.cancel();
    this.retransmitTimer = undefined;
    this.pump();
  }

  /** Appendix A: slow start below ssthresh, congestion avoidance above it. */
  private openWindow(): void {
    if (this.cwnd < this.ssthresh) {
      this.cwnd = Math.min(this.cwnd + 1, this.peerWindow);
      return;
    }
    this.cwndAcks++;
    if (this.cwndAcks >= this.cwnd) {
      this.cwndAcks = 0;
      this.cwnd = Math.min(this.cwnd + 1, this.peerWindow);
    }
  }

  /** Moves waiting messages into flight while the window allows, and arms the retransmit timer. */
  private pump(): void {
    const limit = Math.min(this.cwnd, this.peerWindow);
    while (this.inFlight.length < limit) {
      const out = this.waiting.shift();
      if (out === undefined) break;
      this.inFlight.push(out);
      this.transmit(out);
      this.counters.sent++;
    }
    if (this.inFlight.length > 0 && this.retransmitTimer === undefined) this.armRetransmit();
  }

  private transmit(out: Outgoing): void {
    out.packet.writeUInt16BE(this.expectedNs, NR_OFFSET);
    // The message carries the ack: no ZLB needed.
    this.sentNr = this.expectedNs;
    this.ackTimer?.cancel();
    this.ackTimer = undefined;
    this.io.transmit(out.packet);
  }

  private armRetransmit(timeoutMs?: number): void {
    const oldest = this.inFlight[0];
    if (oldest === undefined) return;
    const timeout = timeoutMs ?? Math.min(this.config.retransmitInitialMs * 2 ** oldest.retries, this.config.retransmitCapMs);
    this.retransmitDue = this.clock.now() + timeout;
    this.retransmitTimer = this.clock.setTimeout(() => {
      this.retransmitTimer = undefined;
      this.onRetransmitTimeout();
    }, timeout);
  }

  private onRetransmitTimeout(): void {
    const oldest = this.inFlight[0];
    if (oldest === undefined || this.closed) return;
    if (oldest.retries >= this.config.maxRetries) {
      const reason = `no acknowledgement for Ns ${oldest.ns} after ${oldest.retries} retransmissions`;
      this.close();
      this.io.failed(reason);
      return;
    }
    // Appendix A: on a timeout, halve ssthresh and restart from a window of one.
    this.ssthresh = Math.max(1, Math.floor(this.cwnd / 2));
    this.cwnd = 1;
    this.cwndAcks = 0;
    oldest.retries++;
    this.counters.retransmitted++;
    this.transmit(oldest);
    this.armRetransmit();
  }

  private scheduleAck(): void {
    // Half our window unacknowledged: the peer's sending window is nearly full, so acknowledge
    // now rather than stall it for the ack delay (RFC 2661 5.8 leaves the ack timing to us).
    if (seqDiff(this.expectedNs, this.sentNr) >= Math.max(1, this.config.receiveWindow >> 1)) {
      this.sendZlb();
      return;
    }
    if (this.ackTimer !== undefined) return;
    this.armAck(this.config.ackDelayMs);
  }

  private armAck(delayMs: number): void {
    this.ackDue = this.clock.now() + delayMs;
    this.ackTimer = this.clock.setTimeout(() => {
      this.ackTimer = undefined;
      if (!this.closed) this.sendZlb();
    }, delayMs);
  }

  private sendZlb(): void {
    this.ackTimer?.cancel();
    this.ackTimer = undefined;
    // RFC 2661 5.8: a ZLB carries the Ns of the next message to be sent and is not itself sequenced.
    this.counters.zlbSent++;
    this.sentNr = this.expectedNs;
    this.io.transmit(this.io.buildZlb(this.zlbNs(), this.expectedNs));
  }

  private zlbNs(): number {
    // The next Ns not yet transmitted: waiting messages have Ns numbers but are not on the wire.
    return this.waiting[0]?.ns ?? this.nextNs;
  }
}
