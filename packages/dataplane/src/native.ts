// The native addon (src/native/*.cc, built by `npm install` with node-gyp): the system calls Node
// lacks. Typed here; loaded once per thread.
import { createRequire } from "node:module";

export interface Addon {
  /** TUNSETIFF: IFF_TUN | IFF_NO_PI [| IFF_MULTI_QUEUE]; each call on a multi-queue device adds a queue. */
  openTun(name: string, multiQueue: boolean): { fd: number; name: string };
  /** A non-blocking IPv4 UDP socket bound to address:port, optionally in a SO_REUSEPORT group. */
  udpOpen(address: string, port: number, reusePort: boolean, bufferBytes: number): number;
  udpLocalPort(fd: number): number;
  /** Steers the SO_REUSEPORT group of fd by L2TP Tunnel ID (control) or Tunnel ID ^ Session ID (data), modulo groupSize. */
  udpSteer(fd: number, groupSize: number): void;
  /** recvmmsg: datagram i at buf[first + i*stride]; lens[i] (-1: truncated); addrs[2i], addrs[2i+1]: IPv4 (host order), port. */
  udpRecv(fd: number, buf: Uint8Array, first: number, stride: number, max: number, lens: Int32Array, addrs: Uint32Array): number;
  /** sendmmsg: returns how many were taken. */
  udpSend(fd: number, buf: Uint8Array, offsets: Int32Array, lens: Int32Array, addrs: Uint32Array, count: number): number;
  /** sendto: bytes sent, or -errno. */
  udpSendTo(fd: number, data: Uint8Array, address: number, port: number): number;
  /** read() until empty or max: packet i at buf[first + i*stride]. */
  tunRead(fd: number, buf: Uint8Array, first: number, stride: number, max: number, lens: Int32Array): number;
  /** write() each packet: returns how many were written. */
  tunWrite(fd: number, buf: Uint8Array, offsets: Int32Array, lens: Int32Array, count: number): number;
  /** poll() for input on up to three fds (-1: none): bit 1, 2, 4; 0 on timeout. */
  wait(fdA: number, fdB: number, wakeFd: number, timeoutMs: number): number;
  eventFd(): number;
  eventFdSignal(fd: number): void;
  setNonBlocking(fd: number): void;
  /** An eBPF program choosing a multi-queue TUN device's queue by destination (IPv4, or ipv6_prefix's IPv4 part); returns its fd. */
  tunSteer(fd: number): number;
  closeFd(fd: number): void;
  /** One datagram to a unix datagram socket (syslog's /dev/log); throws on error. */
  unixDgramSend(path: string, data: Uint8Array): void;
}

const require = createRequire(import.meta.url);
let addon: Addon | undefined;

/** The compiled addon (build/Release/lnsd_dataplane.node). */
export function loadAddon(): Addon {
  addon ??= require("../../build/Release/lnsd_dataplane.node") as Addon;
  return addon;
}
