// The plain data path between the TUN device and the sessions, on the control thread: upstream
// IP packets from PPP are written to TUN; packets read from TUN go to the session that owns their
// destination. The worker data plane (SharedArrayBuffer session table, batched I/O) replaces this
// class; it is kept small so that nothing else depends on how packets move.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { openTun, type TunDevice } from "@lnsd/dataplane";
import { formatIpv4 } from "@lnsd/wire";
import type { Logger } from "./log.js";
import type { PacketSink, SessionManager } from "./sessions.js";

const run = promisify(execFile);

export interface TunBridgeOptions {
  /** tundevicename. */
  readonly name: string;
  /** The PPP MRU: what a session can carry. */
  readonly mtu: number;
  /** iftun_address, else bind_address: the device's own address (host route). */
  readonly address?: string;
  /** The pool's networks, routed to the device. */
  readonly routes: readonly { readonly network: number; readonly prefixLength: number }[];
}

export class TunBridge implements PacketSink {
  /** Packets read from TUN for an address with no session (ICMP unreachable comes with the data plane). */
  noSession = 0;
  writeErrors = 0;
  private closed = false;

  private constructor(
    readonly device: TunDevice,
    private readonly logger: Logger,
  ) {}

  static async open(opts: TunBridgeOptions, logger: Logger): Promise<TunBridge> {
    const device = await openTun({ name: opts.name, mtu: opts.mtu, ...(opts.address === undefined ? {} : { address: `${opts.address}/32` }) });
    for (const r of opts.routes) {
      await run("ip", ["route", "replace", `${formatIpv4(r.network)}/${r.prefixLength}`, "dev", device.name]);
    }
    logger.log("info", "tun", `${device.name} up, mtu ${opts.mtu}${opts.address === undefined ? "" : `, address ${opts.address}`}, routes ${opts.routes.map((r) => `${formatIpv4(r.network)}/${r.prefixLength}`).join(" ") || "none"}`);
    return new TunBridge(device, logger);
  }

  toNetwork(packet: Uint8Array): void {
    this.device.write(packet).catch((e: unknown) => {
      this.writeErrors++;
      this.logger.log("warn", "tun-write", `${this.device.name}: ${e instanceof Error ? e.message : String(e)}`);
    });
  }

  /** Reads packets until closed, handing each to the session owning its IPv4 destination. */
  attach(sessions: SessionManager): void {
    const buf = Buffer.allocUnsafe(65_536);
    const loop = async (): Promise<void> => {
      while (!this.closed) {
        const n = await this.device.read(buf);
        if (n <= 0) break;
        // IPv4 only for now (IPv6 arrives with IPV6CP's data path): version nibble, destination.
        if (n < 20 || (buf[0] ?? 0) >> 4 !== 4) continue;
        if (!sessions.downstream(buf.subarray(0, n), buf.readUInt32BE(16))) this.noSession++;
      }
    };
    loop().catch((e: unknown) => {
      if (!this.closed) this.logger.log("error", "tun-read", `${this.device.name}: ${e instanceof Error ? e.message : String(e)}`);
    });
  }

  close(): void {
    this.closed = true;
    this.device.close();
  }
}
