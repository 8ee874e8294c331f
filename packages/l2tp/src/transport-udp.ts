// The UDP side of the control plane behind a small interface (STYLE.md), with the real one over
// node:dgram; in-process tests supply their own (test/harness.ts).
import { createSocket, type Socket } from "node:dgram";

export interface PeerAddress {
  readonly address: string;
  readonly port: number;
}

export interface UdpEndpoint {
  send(packet: Buffer, to: PeerAddress): void;
  /** Receives every datagram; one handler. */
  onMessage(handler: (packet: Buffer, from: PeerAddress) => void): void;
  readonly local: PeerAddress;
  close(): void;
}

export function peerKey(p: PeerAddress): string {
  return `${p.address}:${p.port}`;
}

/** A bound UDP socket (port 1701 for an LNS; any port for a LAC). */
export async function openUdpEndpoint(address: string, port: number): Promise<UdpEndpoint> {
  const type = address.includes(":") ? "udp6" : "udp4";
  const sock: Socket = createSocket({ type, reuseAddr: false });
  await new Promise<void>((resolve, reject) => {
    sock.once("error", reject);
    sock.bind(port, address, () => {
      sock.off("error", reject);
      resolve();
    });
  });
  // Large buffers: a LAC reboot brings thousands of ICRQs at once.
  try {
    sock.setRecvBufferSize(4 * 1024 * 1024);
    sock.setSendBufferSize(4 * 1024 * 1024);
  } catch {
    // The kernel may cap these (net.core.rmem_max); the defaults still work.
  }
  const bound = sock.address();
  let handler: (packet: Buffer, from: PeerAddress) => void = () => undefined;
  sock.on("message", (msg, rinfo) => {
    handler(msg, { address: rinfo.address, port: rinfo.port });
  });
  // Errors such as ICMP port unreachable must not take the process down.
  sock.on("error", () => undefined);
  let closed = false;
  return {
    local: { address: bound.address, port: bound.port },
    send(packet, to) {
      // A timer of a tunnel may still fire after close(): dgram would throw ERR_SOCKET_DGRAM_NOT_RUNNING.
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
