// UDP behind a small interface (STYLE.md): the RADIUS client's sockets and the DAE server's one,
// over node:dgram for the daemon and over an in-memory network for in-process tests.
import { createSocket, type Socket } from "node:dgram";

export interface UdpPeer {
  readonly address: string;
  readonly port: number;
}

export interface UdpSocket {
  readonly local: UdpPeer;
  send(packet: Buffer, to: UdpPeer): void;
  /** One handler receives every datagram. */
  onMessage(handler: (packet: Buffer, from: UdpPeer) => void): void;
  close(): void;
}

export interface UdpSocketFactory {
  /** Binds a socket; port 0 lets the system choose. Rejects when the port cannot be had. */
  bind(address: string, port: number): Promise<UdpSocket>;
}

export function peerKey(p: UdpPeer): string {
  return `${p.address}:${p.port}`;
}

/** Real sockets. */
export const nodeUdp: UdpSocketFactory = {
  async bind(address, port) {
    const sock: Socket = createSocket({ type: address.includes(":") ? "udp6" : "udp4" });
    await new Promise<void>((resolve, reject) => {
      const onError = (e: Error): void => {
        sock.close();
        reject(e);
      };
      sock.once("error", onError);
      sock.bind(port, address, () => {
        sock.off("error", onError);
        resolve();
      });
    });
    // A burst of replies (a LAC reboot brings thousands of logins at once) must not overflow.
    try {
      sock.setRecvBufferSize(1 << 20);
    } catch {
      // Capped by net.core.rmem_max; the default still works.
    }
    const bound = sock.address();
    let handler: (packet: Buffer, from: UdpPeer) => void = () => undefined;
    let closed = false;
    sock.on("message", (msg, rinfo) => {
      handler(msg, { address: rinfo.address, port: rinfo.port });
    });
    // ICMP errors and the like must not take the process down.
    sock.on("error", () => undefined);
    return {
      local: { address: bound.address, port: bound.port },
      send(packet, to) {
        if (closed) return;
        sock.send(packet, to.port, to.address);
      },
      onMessage(h) {
        handler = h;
      },
      close() {
        if (closed) return;
        closed = true;
        sock.close();
      },
    };
  },
};

/**
 * An in-memory UDP network for in-process tests. Delivery goes through `schedule` (a fake clock's
 * setTimeout, typically) so nothing re-enters synchronously; `filter` can drop datagrams.
 */
export class MemoryUdpNetwork implements UdpSocketFactory {
  private readonly sockets = new Map<string, (packet: Buffer, from: UdpPeer) => void>();
  private nextPort = 40000;
  /** Return false to drop a datagram. */
  filter: (packet: Buffer, from: UdpPeer, to: UdpPeer) => boolean = () => true;
  delivered = 0;

  constructor(
    private readonly schedule: (fn: () => void, delayMs: number) => void,
    private readonly delayMs = 1,
  ) {}

  bind(address: string, port: number): Promise<UdpSocket> {
    const addr = address === "0.0.0.0" ? "127.0.0.1" : address;
    let p = port;
    if (p === 0) {
      while (this.sockets.has(`${addr}:${this.nextPort}`)) this.nextPort++;
      p = this.nextPort++;
    }
    const local = { address: addr, port: p };
    const key = peerKey(local);
    if (this.sockets.has(key)) return Promise.reject(new Error(`EADDRINUSE ${key}`));
    this.sockets.set(key, () => undefined);
    let closed = false;
    return Promise.resolve({
      local,
      send: (packet: Buffer, to: UdpPeer) => {
        if (closed || !this.filter(packet, local, to)) return;
        const copy = Buffer.from(packet);
        this.schedule(() => {
          const h = this.sockets.get(peerKey(to));
          if (h === undefined) return;
          this.delivered++;
          h(copy, local);
        }, this.delayMs);
      },
      onMessage: (h: (packet: Buffer, from: UdpPeer) => void) => {
        if (!closed) this.sockets.set(key, h);
      },
      close: () => {
        if (closed) return;
        closed = true;
        this.sockets.delete(key);
      },
    });
  }
}
