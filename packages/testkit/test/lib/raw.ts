// A plain node:dgram socket on 127.0.0.1 that sends hand-made datagrams to the LNS and keeps what
// comes back, decoded: for tests that play a misbehaving or hand-driven peer.
import { createSocket, type Socket } from "node:dgram";
import { decodeControlMessage, encodeControlMessage, type L2tpAvpMessageInit, type L2tpControlMessage } from "@lnsd/wire";
import type { PeerAddress } from "@lnsd/io";

export interface Received {
  readonly packet: Buffer;
  /** Decoded with the peer's secret, when it decodes. */
  readonly msg?: L2tpControlMessage;
}

export class RawPeer {
  readonly received: Received[] = [];
  private waiters: { pred: (r: Received) => boolean; resolve: (r: Received | undefined) => void; from: number }[] = [];

  private constructor(
    private readonly sock: Socket,
    readonly local: PeerAddress,
    readonly to: PeerAddress,
    secret: string | undefined,
  ) {
    sock.on("message", (packet) => {
      const d = decodeControlMessage(packet, secret === undefined ? {} : { secret });
      const r: Received = d.ok ? { packet, msg: d.value } : { packet };
      this.received.push(r);
      for (const w of [...this.waiters]) {
        if (w.pred(r)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(r);
        }
      }
    });
    sock.on("error", () => undefined);
  }

  static async open(to: PeerAddress, secret?: string): Promise<RawPeer> {
    const sock = createSocket("udp4");
    await new Promise<void>((resolve) => sock.bind(0, "127.0.0.1", resolve));
    const a = sock.address();
    return new RawPeer(sock, { address: a.address, port: a.port }, to, secret);
  }

  send(packet: Uint8Array): Promise<void> {
    return new Promise((resolve) => {
      this.sock.send(packet, this.to.port, this.to.address, () => { resolve(); });
    });
  }

  sendControl(m: L2tpAvpMessageInit): Promise<void> {
    return this.send(encodeControlMessage(m));
  }

  /** The first datagram from now on (or already received, from index `since`) matching pred. */
  next(pred: (r: Received) => boolean, timeoutMs = 3000, since = this.received.length): Promise<Received | undefined> {
    const early = this.received.slice(since).find(pred);
    if (early !== undefined) return Promise.resolve(early);
    return new Promise((resolve) => {
      const w = { pred, resolve, from: since };
      this.waiters.push(w);
      setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) {
          this.waiters.splice(i, 1);
          resolve(undefined);
        }
      }, timeoutMs);
    });
  }

  /** The next control message (not a ZLB) of this type. */
  nextMessage(type: number, timeoutMs = 3000, since = this.received.length): Promise<L2tpControlMessage | undefined> {
    return this.next((r) => r.msg !== undefined && r.msg.messageType === type, timeoutMs, since).then((r) => r?.msg);
  }

  close(): void {
    this.sock.close();
  }
}
