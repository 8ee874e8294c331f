// UDP behind a small interface (STYLE.md): the one endpoint that the L2TP control plane, the
// RADIUS client and the DAE server use, over node:dgram for the daemon and over an in-memory network
// for in-process tests. Runs on the thread that binds it (the control thread in the daemon).
import { createSocket, type Socket } from "node:dgram";

export interface PeerAddress {
  readonly address: string;
  readonly port: number;
}

/** A bound UDP socket. */
export interface UdpEndpoint {
  readonly local: PeerAddress;
  /** Dropped silently once closed (a timer may still fire after close()). */
  send(packet: Buffer, to: PeerAddress): void;
  /** One handler receives every datagram. */
  onMessage(handler: (packet: Buffer, from: PeerAddress) => void): void;
  close(): void;
}

/** Binds endpoints: the real one, or an in-memory network in tests. */
export interface UdpEndpointFactory {
  /** Port 0 lets the system choose. Rejects when the port cannot be had. */
  bind(address: string, port: number): Promise<UdpEndpoint>;
}

export function peerKey(p: PeerAddress): string {
  return `${p.address}:${p.port}`;
}

/** Kernel socket buffer sizes to ask for (net.core.rmem_max / wmem_max may cap them); unset: the default. */
export interface UdpSocketBuffers {
  readonly recvBufferBytes?: number;
  readonly sendBufferBytes?: number;
}

/** Large buffers: a LAC reboot brings thousands of ICRQs at once. */
export const LARGE_UDP_BUFFERS: UdpSocketBuffers = { recvBufferBytes: 4 * 1024 * 1024, sendBufferBytes: 4 * 1024 * 1024 };

/** A bound node:dgram socket (port 1701 for an LNS; any port for a LAC). */
export async function openUdpEndpoint(address: string, port: number, buffers: UdpSocketBuffers = LARGE_UDP_BUFFERS): Promise<UdpEndpoint> {
  const sock: Socket = createSocket({ type: address.includes(":") ? "udp6" : "udp4", reuseAddr: false });
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
  try {
    if (buffers.recvBufferBytes !== undefined) sock.setRecvBufferSize(buffers.recvBufferBytes);
    if (buffers.sendBufferBytes !== undefined) sock.setSendBufferSize(buffers.sendBufferBytes);
  } catch {
    // The kernel may cap these (net.core.rmem_max); the defaults still work.
  }
  const bound = sock.address();
  let handler: (packet: Buffer, from: PeerAddress) => void = () => undefined;
  let closed = false;
  sock.on("message", (msg, rinfo) => {
    handler(msg, { address: rinfo.address, port: rinfo.port });
  });
  // Errors such as ICMP port unreachable must not take the process down.
  sock.on("error", () => undefined);
  return {
    local: { address: bound.address, port: bound.port },
    send(packet, to) {
      // dgram would throw ERR_SOCKET_DGRAM_NOT_RUNNING after close().
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
}

/** Real sockets, each bound with these buffer sizes. */
export function nodeUdp(buffers: UdpSocketBuffers = LARGE_UDP_BUFFERS): UdpEndpointFactory {
  return { bind: (address, port) => openUdpEndpoint(address, port, buffers) };
}

/**
 * An in-memory UDP network for in-process tests. Delivery goes through `schedule` (a fake clock's
 * setTimeout, typically) so nothing re-enters synchronously; `filter` can drop datagrams.
 */
export class MemoryUdpNetwork implements UdpEndpointFactory {
  private readonly endpoints = new Map<string, (packet: Buffer, from: PeerAddress) => void>();
  private nextPort = 40000;
  /** Return false to drop a datagram. */
  filter: (packet: Buffer, from: PeerAddress, to: PeerAddress) => boolean = () => true;
  delivered = 0;

  constructor(
    private readonly schedule: (fn: () => void, delayMs: number) => void,
    private readonly delayMs = 1,
  ) {}

  bind(address: string, port: number): Promise<UdpEndpoint> {
    const addr = address === "0.0.0.0" ? "127.0.0.1" : address;
    let p = port;
    if (p === 0) {
      while (this.endpoints.has(`${addr}:${this.nextPort}`)) this.nextPort++;
      p = this.nextPort++;
    }
    const local = { address: addr, port: p };
    const key = peerKey(local);
    if (this.endpoints.has(key)) return Promise.reject(new Error(`EADDRINUSE ${key}`));
    this.endpoints.set(key, () => undefined);
    let closed = false;
    return Promise.resolve({
      local,
      send: (packet: Buffer, to: PeerAddress) => {
        if (closed || !this.filter(packet, local, to)) return;
        const copy = Buffer.from(packet);
        this.schedule(() => {
          const h = this.endpoints.get(peerKey(to));
          if (h === undefined) return;
          this.delivered++;
          h(copy, local);
        }, this.delayMs);
      },
      onMessage: (h: (packet: Buffer, from: PeerAddress) => void) => {
        if (!closed) this.endpoints.set(key, h);
      },
      close: () => {
        if (closed) return;
        closed = true;
        this.endpoints.delete(key);
      },
    });
  }
}

/**
 * The output commit of issue 13 for every socket of a process: datagrams sent through the gate's
 * endpoints wait until the end of the event-loop turn, when `commit` runs once (the journal's
 * changes reach the page cache in one write) and then they all leave, in the order they were sent.
 * One write per turn however many datagrams the turn produced. `commit` may return a promise (a
 * cluster master waits for its slaves to hold the changes, issue 14): the turn's datagrams then
 * leave when it resolves, never before those of an earlier turn, and never if it does not.
 */
export class OutputGate {
  private queue: { readonly endpoint: UdpEndpoint; readonly packet: Buffer; readonly to: PeerAddress }[] = [];
  private scheduled = false;
  /** The latest turn's datagrams still waiting for their commit. */
  private held: Promise<void> | undefined;

  constructor(
    private readonly commit: () => Promise<void> | undefined,
    private readonly defer: (fn: () => void) => void = (fn) => { setImmediate(fn); },
  ) {}

  /** The endpoint with its sends through the gate. */
  endpoint(e: UdpEndpoint): UdpEndpoint {
    return {
      local: e.local,
      send: (packet, to) => {
        this.queue.push({ endpoint: e, packet, to });
        if (!this.scheduled) {
          this.scheduled = true;
          this.defer(() => { this.flush(); });
        }
      },
      onMessage: (h) => { e.onMessage(h); },
      close: () => {
        this.flush();
        e.close();
      },
    };
  }

  /** Every endpoint a factory binds, through the gate. */
  factory(f: UdpEndpointFactory): UdpEndpointFactory {
    return { bind: async (address, port) => this.endpoint(await f.bind(address, port)) };
  }

  /** Commits, then sends what waits (at the end of each turn, and before an endpoint closes). */
  flush(): void {
    this.scheduled = false;
    if (this.queue.length === 0) return;
    const wait = this.commit();
    const q = this.queue;
    this.queue = [];
    const send = (): void => { for (const d of q) d.endpoint.send(d.packet, d.to); };
    const before = this.held;
    if (wait === undefined && before === undefined) {
      send();
      return;
    }
    const p = Promise.all([before, wait]).then(send);
    this.held = p;
    void p.finally(() => { if (this.held === p) this.held = undefined; });
  }
}
