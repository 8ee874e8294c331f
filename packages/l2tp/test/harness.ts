// In-process rig for control-plane tests: an LNS node and a LAC node on an in-memory network driven by
// a FakeClock, with optional loss, duplication and reordering between them.
import { FakeClock, L2tpNode, type L2tpConfig, type L2tpNodeEvents, type PeerAddress, type UdpEndpoint } from "../src/index.js";

export interface Impairment {
  loss: number;
  dup: number;
  reorder: number;
}

export function lcg(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 1) / 0x80000000;
  };
}

/** A deterministic "random" source for nodes, so runs repeat exactly. */
export function fakeRandom(seed: number): (n: number) => Buffer {
  const r = lcg(seed);
  return (n) => Buffer.from(Array.from({ length: n }, () => Math.floor(r() * 256)));
}

export class ImpairedNet {
  private readonly handlers = new Map<string, (p: Buffer, from: PeerAddress) => void>();
  readonly sent: { from: PeerAddress; to: PeerAddress; packet: Buffer }[] = [];
  impairment: Impairment = { loss: 0, dup: 0, reorder: 0 };
  private readonly rand: () => number;
  record = false;

  constructor(
    private readonly clock: FakeClock,
    seed = 1,
  ) {
    this.rand = lcg(seed);
  }

  endpoint(address: string, port: number): UdpEndpoint {
    const local = { address, port };
    const key = `${address}:${port}`;
    return {
      local,
      send: (packet, to) => { this.transmit(local, to, packet); },
      onMessage: (h) => { this.handlers.set(key, h); },
      close: () => { this.handlers.delete(key); },
    };
  }

  /** Injects a datagram as if `from` had sent it. */
  inject(from: PeerAddress, to: PeerAddress, packet: Buffer): void {
    this.handlers.get(`${to.address}:${to.port}`)?.(packet, from);
  }

  private transmit(from: PeerAddress, to: PeerAddress, packet: Buffer): void {
    const copy = Buffer.from(packet);
    if (this.record) this.sent.push({ from, to, packet: copy });
    const { loss, dup, reorder } = this.impairment;
    if (this.rand() < loss) return;
    const delay = 5 + (this.rand() < reorder ? 20 + Math.floor(this.rand() * 80) : 0);
    const deliver = (): void => { this.handlers.get(`${to.address}:${to.port}`)?.(copy, from); };
    this.clock.setTimeout(deliver, delay);
    if (this.rand() < dup) this.clock.setTimeout(deliver, delay + 3);
  }
}

export const LNS_ADDR = { address: "192.0.2.1", port: 1701 };
export const LAC_ADDR = { address: "198.51.100.7", port: 1701 };

export function rig(opts: { lns?: Partial<L2tpConfig>; lac?: Partial<L2tpConfig>; seed?: number } = {}) {
  const clock = new FakeClock();
  const net = new ImpairedNet(clock, opts.seed ?? 1);
  const logs: string[] = [];
  // The nodes keep these objects: tests add handlers to them after construction.
  const lnsEvents: L2tpNodeEvents = { log: (level, reason, msg) => logs.push(`lns ${level} ${reason}: ${msg}`) };
  const lacEvents: L2tpNodeEvents = { log: (level, reason, msg) => logs.push(`lac ${level} ${reason}: ${msg}`) };
  const lns = new L2tpNode(net.endpoint(LNS_ADDR.address, LNS_ADDR.port), { clock, random: fakeRandom(11), config: { hostName: "lns", ...opts.lns }, events: lnsEvents });
  const lac = new L2tpNode(net.endpoint(LAC_ADDR.address, LAC_ADDR.port), { clock, random: fakeRandom(22), config: { hostName: "lac", ...opts.lac }, events: lacEvents });
  return { clock, net, lns, lac, logs, lnsEvents, lacEvents };
}
