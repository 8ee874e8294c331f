// The batched UDP system calls of @lnsd/dataplane's native addon (src/native/io.cc) that the load
// tool uses, loaded straight from the addon file; any thread may load it (the addon is
// context-aware). LNSD_DATAPLANE_ADDON names another build of it.
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

export interface TrafficAddon {
  /** A non-blocking IPv4 UDP socket bound to address:port. */
  udpOpen(address: string, port: number, reusePort: boolean, bufferBytes: number): number;
  udpLocalPort(fd: number): number;
  /** recvmmsg: datagram i at buf[first + i*stride], lens[i] (-1: truncated), addrs[2i] address, addrs[2i+1] port. */
  udpRecv(fd: number, buf: Uint8Array, first: number, stride: number, max: number, lens: Int32Array, addrs: Uint32Array): number;
  /** sendmmsg of buf[offsets[i], +lens[i]) to addrs[2i]:addrs[2i+1]; how many the kernel took. */
  udpSend(fd: number, buf: Uint8Array, offsets: Int32Array, lens: Int32Array, addrs: Uint32Array, count: number): number;
  udpSendTo(fd: number, data: Uint8Array, address: number, port: number): number;
  /** read() until EAGAIN (here: to drain an eventfd). */
  tunRead(fd: number, buf: Uint8Array, first: number, stride: number, max: number, lens: Int32Array): number;
  /** poll for input: bit 1 fdA, 2 fdB, 4 wakeFd; 0 on timeout. */
  wait(fdA: number, fdB: number, wakeFd: number, timeoutMs: number): number;
  eventFd(): number;
  eventFdSignal(fd: number): void;
  closeFd(fd: number): void;
}

const require = createRequire(import.meta.url);
let addon: TrafficAddon | undefined;

/** The addon beside @lnsd/dataplane's package: build/Release/lnsd_dataplane.node. */
export function trafficAddonPath(): string {
  const fromEnv = process.env.LNSD_DATAPLANE_ADDON;
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  // The package's main is dist/src/index.js.
  return join(dirname(require.resolve("@lnsd/dataplane")), "..", "..", "build", "Release", "lnsd_dataplane.node");
}

export function loadTrafficAddon(): TrafficAddon {
  addon ??= require(trafficAddonPath()) as TrafficAddon;
  return addon;
}
