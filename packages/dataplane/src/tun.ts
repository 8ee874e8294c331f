// The TUN device: opened through the native addon (the TUNSETIFF ioctl), configured with
// iproute2, read and written as a file descriptor (one IP packet per read or write; TUN has no
// batch I/O). Control thread for now; the worker data plane takes the same device over later.
import { execFile } from "node:child_process";
import { close, read, write } from "node:fs";
import { createRequire } from "node:module";
import { promisify } from "node:util";

interface Addon {
  openTun(name: string, multiQueue: boolean): { fd: number; name: string };
}

const require = createRequire(import.meta.url);
let addon: Addon | undefined;

/** The compiled addon (build/Release/lnsd_dataplane.node, built by `npm install`). */
export function loadAddon(): Addon {
  addon ??= require("../../build/Release/lnsd_dataplane.node") as Addon;
  return addon;
}

const run = promisify(execFile);

export interface TunOptions {
  /** tundevicename; the kernel picks tunN for "tun%d". */
  readonly name: string;
  readonly mtu: number;
  /** iftun_address (or bind_address): the device's own address, as CIDR (e.g. "192.0.2.1/32"). */
  readonly address?: string;
}

export interface TunDevice {
  readonly name: string;
  readonly fd: number;
  /** One packet into buf; resolves with its length (0 when the device is closed). */
  read(buf: Buffer): Promise<number>;
  write(packet: Uint8Array): Promise<void>;
  close(): void;
}

export async function openTun(opts: TunOptions): Promise<TunDevice> {
  const { fd, name } = loadAddon().openTun(opts.name, false);
  try {
    await run("ip", ["link", "set", "dev", name, "mtu", String(opts.mtu), "up"]);
    if (opts.address !== undefined) await run("ip", ["addr", "add", opts.address, "dev", name]);
  } catch (e) {
    close(fd);
    throw e;
  }
  let closed = false;
  return {
    name,
    fd,
    read: (buf) =>
      new Promise((resolve, reject) => {
        read(fd, buf, 0, buf.length, null, (e, n) => {
          if (e !== null) {
            if (closed) resolve(0);
            else reject(e);
          } else resolve(n);
        });
      }),
    write: (packet) =>
      new Promise((resolve, reject) => {
        write(fd, packet, 0, packet.length, null, (e) => {
          if (e !== null) reject(e);
          else resolve();
        });
      }),
    close: () => {
      if (closed) return;
      closed = true;
      close(fd);
    },
  };
}
