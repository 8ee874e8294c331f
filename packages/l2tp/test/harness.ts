// In-process rig for control-plane tests: an LNS node and a LAC node on an in-memory network driven by
// a FakeClock, with optional loss, duplication and reordering between them.
import { AvpType, decodeControlMessage, encodeRawAvp, L2TP_CONTROL_FLAGS, L2tpMessageType, type L2tpAvpMessage } from "@lnsd/wire";
import { FakeClock, type PeerAddress, type UdpEndpoint } from "@lnsd/io";
import { L2tpNode, type L2tpConfig, type L2tpNodeEvents } from "../src/index.js";

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
  /** Datagrams for which this says true are lost (a test's targeted loss). */
  dropIf: ((from: PeerAddress, to: PeerAddress, packet: Buffer) => boolean) | undefined;

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
    if (this.dropIf?.(from, to, copy) === true) return;
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

export type Rig = ReturnType<typeof rig>;

/** One AVP exactly as a test wants it on the wire: any flags, any length. */
export interface RawAvpSpec {
  readonly type: number;
  readonly mandatory?: boolean;
  readonly hidden?: boolean;
  readonly vendorId?: number;
  readonly value: Uint8Array;
}

export const u16 = (n: number): Buffer => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
export const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
};

/** A control message built AVP by AVP (Message Type first, M set), for peers that bend the RFC. */
export function rawControlMessage(fields: { tunnelId: number; sessionId: number; ns: number; nr: number }, messageType: number, avps: readonly RawAvpSpec[]): Buffer {
  const parts = [
    encodeRawAvp({ vendorId: 0, attributeType: AvpType.MessageType, mandatory: true, hidden: false, value: u16(messageType) }),
    ...avps.map((a) => encodeRawAvp({ vendorId: a.vendorId ?? 0, attributeType: a.type, mandatory: a.mandatory ?? false, hidden: a.hidden ?? false, value: a.value })),
  ];
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(12);
  head.writeUInt16BE(L2TP_CONTROL_FLAGS, 0);
  head.writeUInt16BE(12 + body.length, 2);
  head.writeUInt16BE(fields.tunnelId, 4);
  head.writeUInt16BE(fields.sessionId, 6);
  head.writeUInt16BE(fields.ns, 8);
  head.writeUInt16BE(fields.nr, 10);
  return Buffer.concat([head, body]);
}

/**
 * A scripted LAC on the rig's network, message by message: it sends what a test builds (odd
 * flags, lengths and omissions included) and reads what the LNS answers, keeping Ns and Nr.
 */
export class RawLac {
  ns = 0;
  nr = 0;
  /** The LNS's Tunnel ID, learnt from its SCCRP. */
  lnsTunnelId = 0;
  constructor(
    private readonly r: Rig,
    readonly address: PeerAddress = { address: "203.0.113.50", port: 1701 },
    private readonly secret?: string,
  ) {
    r.net.record = true;
  }

  send(messageType: number, sessionId: number, avps: readonly RawAvpSpec[]): void {
    this.replies();
    this.r.net.inject(this.address, LNS_ADDR, rawControlMessage({ tunnelId: this.lnsTunnelId, sessionId, ns: this.ns, nr: this.nr }, messageType, avps));
    this.ns = (this.ns + 1) & 0xffff;
    this.r.clock.advance(10);
  }

  /** Every non-ZLB control message the LNS sent this LAC so far, decoded; acknowledged by the next send. */
  replies(): L2tpAvpMessage[] {
    const out: L2tpAvpMessage[] = [];
    for (const p of this.r.net.sent) {
      if (p.to.address !== this.address.address || p.to.port !== this.address.port) continue;
      const d = decodeControlMessage(p.packet, this.secret === undefined ? {} : { secret: this.secret });
      if (!d.ok || d.value.messageType === "ZLB") continue;
      const m = d.value;
      this.nr = Math.max(this.nr, m.ns + 1);
      if (m.messageType === L2tpMessageType.SCCRP) this.lnsTunnelId = m.avps[AvpType.AssignedTunnelId] ?? 0;
      out.push(m);
    }
    return out;
  }

  last(messageType: number): L2tpAvpMessage | undefined {
    return this.replies().filter((m) => m.messageType === messageType).at(-1);
  }
}
