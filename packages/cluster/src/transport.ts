// How cluster frames travel: multicast datagrams for pings and heartbeats (cluster_address,
// cluster_port, on cluster_interface with cluster_mcast_ttl, as l2tpns), and one TCP stream per
// slave to the master (same port number) for everything else. Behind interfaces, so that the
// in-process tests run several nodes over in-memory links with a fake clock.
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { createServer, connect, type Server, type Socket } from "node:net";
import { networkInterfaces } from "node:os";
import { FrameReader, lengthPrefixed } from "./frame.js";

export interface StreamLink {
  /** The other end's address. */
  readonly remote: string;
  /** Queues a frame; false when the stream is closed. */
  send(frame: Buffer): boolean;
  readonly pendingBytes: number;
  onFrame(h: (frame: Buffer) => void): void;
  /** Once, when the stream ends for any reason. */
  onClose(h: (why: string) => void): void;
  close(): void;
}

export interface ClusterTransport {
  /** This node's cluster address (cluster_interface's IPv4 address). */
  readonly self: string;
  multicast(frame: Buffer): void;
  onMulticast(h: (frame: Buffer, from: string) => void): void;
  /** Takes streams from slaves; resolves with the TCP port. */
  listen(onLink: (link: StreamLink) => void): Promise<number>;
  connect(address: string, port: number): StreamLink;
  close(): void;
}

/** The first IPv4 address of an interface, or why there is none. */
export function interfaceAddress(name: string): { ok: true; address: string } | { ok: false; error: string } {
  const list = networkInterfaces()[name];
  if (list === undefined) return { ok: false, error: `cluster_interface ${name}: no such interface` };
  const v4 = list.find((a) => a.family === "IPv4");
  return v4 === undefined ? { ok: false, error: `cluster_interface ${name} has no IPv4 address` } : { ok: true, address: v4.address };
}

export interface UdpTcpOptions {
  readonly group: string;
  readonly port: number;
  /** The interface's address: multicast goes out and is received there; TCP listens there. */
  readonly address: string;
  readonly ttl: number;
}

class TcpLink implements StreamLink {
  private readonly reader = new FrameReader();
  private frameHandler: (frame: Buffer) => void = () => undefined;
  private closeHandler: (why: string) => void = () => undefined;
  private closed = false;

  constructor(private readonly socket: Socket, readonly remote: string) {
    socket.setNoDelay(true);
    socket.on("data", (d: Buffer) => {
      const frames = this.reader.push(d);
      if (frames === "broken") {
        this.end("a frame longer than allowed");
        return;
      }
      for (const f of frames) {
        if (this.closed) return;
        this.frameHandler(f);
      }
    });
    socket.on("error", (e) => { this.end(e.message); });
    socket.on("close", () => { this.end("closed by the other end"); });
  }

  get pendingBytes(): number {
    return this.socket.writableLength;
  }

  send(frame: Buffer): boolean {
    if (this.closed) return false;
    this.socket.write(lengthPrefixed(frame));
    return true;
  }

  onFrame(h: (frame: Buffer) => void): void {
    this.frameHandler = h;
  }

  onClose(h: (why: string) => void): void {
    this.closeHandler = h;
  }

  close(): void {
    this.end("closed here");
  }

  private end(why: string): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.closeHandler(why);
  }
}

/** The real transport: UDP multicast and TCP on the cluster interface. */
export class UdpTcpTransport implements ClusterTransport {
  private server: Server | undefined;
  private constructor(
    private readonly o: UdpTcpOptions,
    private readonly udp: UdpSocket,
  ) {}

  get self(): string {
    return this.o.address;
  }

  static async open(o: UdpTcpOptions): Promise<UdpTcpTransport> {
    const udp = createSocket({ type: "udp4", reuseAddr: true });
    await new Promise<void>((resolve, reject) => {
      udp.once("error", reject);
      udp.bind(o.port, () => {
        udp.off("error", reject);
        resolve();
      });
    });
    udp.addMembership(o.group, o.address);
    udp.setMulticastInterface(o.address);
    udp.setMulticastTTL(o.ttl);
    udp.setMulticastLoopback(false);
    return new UdpTcpTransport(o, udp);
  }

  multicast(frame: Buffer): void {
    this.udp.send(frame, this.o.port, this.o.group);
  }

  onMulticast(h: (frame: Buffer, from: string) => void): void {
    this.udp.on("message", (msg, rinfo) => { h(msg, rinfo.address); });
  }

  async listen(onLink: (link: StreamLink) => void): Promise<number> {
    const server = createServer((s) => { onLink(new TcpLink(s, s.remoteAddress?.replace(/^::ffff:/, "") ?? "?")); });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.o.port, this.o.address, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const a = server.address();
    return typeof a === "object" && a !== null ? a.port : this.o.port;
  }

  connect(address: string, port: number): StreamLink {
    return new TcpLink(connect({ host: address, port, localAddress: this.o.address }), address);
  }

  close(): void {
    this.server?.close();
    this.udp.close();
  }
}
