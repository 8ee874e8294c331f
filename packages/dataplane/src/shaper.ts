// Throttling that TCP can live with: a session over its rate does not lose the packet, it waits in
// a queue of the worker that carries that session and direction (the steering keeps a session's
// direction on one worker) and goes out as the token bucket fills, as l2tpns's token bucket
// filters queue. Only a full queue drops. Memory is a fixed pool per worker and direction: queuing
// copies a packet into it, nothing is allocated per packet.
import { takeTokens } from "./forward.js";
import { C, COUNTER_WORDS, R, RECORD_WORDS, RecordState, type TableViews } from "./tables.js";

/** Packets the pool holds (per worker and direction), of at most `slotBytes` each. */
const POOL_PACKETS = 2048;
/** The most a session may have waiting: this much of its rate (and at least a few packets). */
const QUEUE_MS = 200;
const MIN_QUEUE_PACKETS = 8;

interface SessionQueue {
  head: number;
  tail: number;
  count: number;
}

export class Shaper {
  /** Per slot: packets waiting (forward.ts reads it: a session with a queue queues behind it). */
  readonly counts: Int32Array;
  private readonly buf: Uint8Array;
  private readonly lens: Int32Array;
  /** Bytes the bucket is charged (the IP packet's length; a downstream datagram has headers too). */
  private readonly charge: Int32Array;
  private readonly addrs: Uint32Array;
  private readonly next: Int32Array;
  private free = -1;
  private readonly queues = new Map<number, SessionQueue>();

  constructor(
    private readonly t: TableViews,
    private readonly up: boolean,
    private readonly slotBytes: number,
  ) {
    this.counts = new Int32Array(t.slots);
    this.buf = new Uint8Array(POOL_PACKETS * slotBytes);
    this.lens = new Int32Array(POOL_PACKETS);
    this.charge = new Int32Array(POOL_PACKETS);
    this.addrs = new Uint32Array(POOL_PACKETS * 2);
    this.next = new Int32Array(POOL_PACKETS);
    for (let i = POOL_PACKETS - 1; i >= 0; i--) {
      this.next[i] = this.free;
      this.free = i;
    }
  }

  get pending(): boolean {
    return this.queues.size > 0;
  }

  /** Queues buf[offset, +length) for slot (to address:port downstream); false when there is no room (drop it). */
  enqueue(slot: number, src: Uint8Array, offset: number, length: number, chargeBytes: number, address: number, port: number): boolean {
    const q = this.free;
    if (q < 0 || length > this.slotBytes) return false;
    const kbps = this.t.records[slot * RECORD_WORDS + (this.up ? R.RATE_UP : R.RATE_DOWN)] ?? 0;
    const limit = Math.max(MIN_QUEUE_PACKETS, Math.ceil((kbps / 8) * QUEUE_MS / Math.max(1, chargeBytes)));
    if ((this.counts[slot] ?? 0) >= limit) return false;
    this.free = this.next[q] ?? -1;
    this.buf.set(src.subarray(offset, offset + length), q * this.slotBytes);
    this.lens[q] = length;
    this.charge[q] = chargeBytes;
    this.addrs[2 * q] = address;
    this.addrs[2 * q + 1] = port;
    this.next[q] = -1;
    const s = this.queues.get(slot);
    if (s === undefined) this.queues.set(slot, { head: q, tail: q, count: 1 });
    else {
      this.next[s.tail] = q;
      s.tail = q;
      s.count++;
    }
    this.counts[slot] = (this.counts[slot] ?? 0) + 1;
    return true;
  }

  /**
   * Lets out what the buckets allow now, in order per session: emit(buf, offset, length, address,
   * port) for each (the caller sends them before the next enqueue). A session that ended, or whose
   * throttle was lifted, is let out (or dropped) at once. Returns how many were dropped.
   */
  drain(nowMs: number, emit: (buf: Uint8Array, offset: number, length: number, address: number, port: number) => void): number {
    let dropped = 0;
    for (const [slot, s] of this.queues) {
      const at = slot * RECORD_WORDS;
      const online = this.t.records[at + R.STATE] === RecordState.Online;
      const kbps = this.t.records[at + (this.up ? R.RATE_UP : R.RATE_DOWN)] ?? 0;
      const bucket = slot * COUNTER_WORDS + (this.up ? C.UP_TOKENS : C.DOWN_TOKENS);
      while (s.count > 0) {
        const q = s.head;
        if (online) {
          if (kbps > 0 && !takeTokens(this.t.counters, bucket, kbps, this.charge[q] ?? 0, nowMs)) break;
          emit(this.buf, q * this.slotBytes, this.lens[q] ?? 0, this.addrs[2 * q] ?? 0, this.addrs[2 * q + 1] ?? 0);
        } else {
          dropped++;
        }
        s.head = this.next[q] ?? -1;
        this.next[q] = this.free;
        this.free = q;
        s.count--;
        this.counts[slot] = (this.counts[slot] ?? 1) - 1;
      }
      if (s.count === 0) this.queues.delete(slot);
    }
    return dropped;
  }
}
