// A lossy, duplicating, reordering, delaying link between an L2TP node and its UDP socket, both
// directions, on real timers (netem in miniature, in the process). Runs on the thread of the node
// it wraps; decisions come from a seeded generator so a run's pattern of losses can be repeated.
import type { PeerAddress, UdpEndpoint } from "@lnsd/io";

export interface Impairment {
  /** Probability (0..1) that a datagram is lost, each way. */
  readonly loss: number;
  /** Probability (0..1) that a datagram is delivered twice. */
  readonly duplication: number;
  /** Probability (0..1) that a datagram is held back by reorderDelayMs, so later ones overtake it. */
  readonly reorder: number;
  /** Fixed one-way delay added to every datagram. */
  readonly delayMs: number;
  /** Uniform random extra delay in [0, jitterMs): also reorders datagrams closer than that. */
  readonly jitterMs: number;
  /** How much longer a datagram picked for reordering is held. */
  readonly reorderDelayMs: number;
}

export const NO_IMPAIRMENT: Impairment = { loss: 0, duplication: 0, reorder: 0, delayMs: 0, jitterMs: 0, reorderDelayMs: 20 };

/** What the link did, per direction: tx is node to network, rx network to node. */
export interface ImpairmentCounters {
  txPackets: number;
  rxPackets: number;
  txLost: number;
  rxLost: number;
  txDuplicated: number;
  rxDuplicated: number;
  txReordered: number;
  rxReordered: number;
}

/** xorshift32: a small, seedable generator of numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

export function checkImpairment(i: Impairment): string | undefined {
  for (const k of ["loss", "duplication", "reorder"] as const) {
    if (!(i[k] >= 0 && i[k] <= 1)) return `${k} must be a probability between 0 and 1, not ${i[k]}`;
  }
  for (const k of ["delayMs", "jitterMs", "reorderDelayMs"] as const) {
    if (!(i[k] >= 0 && Number.isFinite(i[k]))) return `${k} must be a number of milliseconds >= 0, not ${i[k]}`;
  }
  return undefined;
}

/** A UdpEndpoint that passes everything through `inner` with the impairment applied both ways. */
export class ImpairedEndpoint implements UdpEndpoint {
  readonly counters: ImpairmentCounters = { txPackets: 0, rxPackets: 0, txLost: 0, rxLost: 0, txDuplicated: 0, rxDuplicated: 0, txReordered: 0, rxReordered: 0 };
  readonly impairment: Impairment;
  private handler: (packet: Buffer, from: PeerAddress) => void = () => undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(
    private readonly inner: UdpEndpoint,
    impairment: Partial<Impairment>,
    private readonly random: () => number = Math.random,
  ) {
    this.impairment = { ...NO_IMPAIRMENT, ...impairment };
    const bad = checkImpairment(this.impairment);
    if (bad !== undefined) throw new RangeError(bad);
    inner.onMessage((packet, from) => {
      this.counters.rxPackets++;
      this.pass("rx", () => { this.handler(packet, from); });
    });
  }

  get local(): PeerAddress {
    return this.inner.local;
  }

  /** Datagrams held on a timer right now. */
  get inFlight(): number {
    return this.timers.size;
  }

  send(packet: Buffer, to: PeerAddress): void {
    if (this.closed) return;
    this.counters.txPackets++;
    // The reliable layer rewrites Nr in the buffers it keeps: a held datagram needs its own copy.
    const delayed = this.impairment.delayMs > 0 || this.impairment.jitterMs > 0 || this.impairment.reorder > 0;
    const bytes = delayed ? Buffer.from(packet) : packet;
    this.pass("tx", () => { this.inner.send(bytes, to); });
  }

  onMessage(handler: (packet: Buffer, from: PeerAddress) => void): void {
    this.handler = handler;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const h of this.timers) clearTimeout(h);
    this.timers.clear();
    this.inner.close();
  }

  private pass(dir: "tx" | "rx", deliver: () => void): void {
    const { loss, duplication, reorder, delayMs, jitterMs, reorderDelayMs } = this.impairment;
    const c = this.counters;
    if (loss > 0 && this.random() < loss) {
      if (dir === "tx") c.txLost++;
      else c.rxLost++;
      return;
    }
    let copies = 1;
    if (duplication > 0 && this.random() < duplication) {
      copies = 2;
      if (dir === "tx") c.txDuplicated++;
      else c.rxDuplicated++;
    }
    for (let i = 0; i < copies; i++) {
      let delay = delayMs + (jitterMs > 0 ? this.random() * jitterMs : 0);
      if (reorder > 0 && this.random() < reorder) {
        delay += reorderDelayMs;
        if (dir === "tx") c.txReordered++;
        else c.rxReordered++;
      }
      if (delay <= 0) {
        deliver();
        continue;
      }
      const h = setTimeout(() => {
        this.timers.delete(h);
        if (!this.closed) deliver();
      }, delay);
      this.timers.add(h);
    }
  }
}
