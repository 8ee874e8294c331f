// The TUN device: opened through the native addon (the TUNSETIFF ioctl), configured with
// iproute2, read and written as a file descriptor (one IP packet per read or write; TUN has no
// batch I/O). Control thread for now; the worker data plane takes the same device over later.
import { execFile } from "node:child_process";
import { close, read, write } from "node:fs";
import { writeFile } from "node:fs/promises";
import { promisify } from "node:util";
import { loadAddon } from "./native.js";

const run = promisify(execFile);

/** Packets the kernel queues for the device (per queue). */
const TX_QUEUE_LENGTH = 4000;

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

/** MTU, up, and the device's own address, with iproute2. */
export async function configureTun(name: string, opts: Omit<TunOptions, "name">): Promise<void> {
  // A longer queue than the default 500 packets: a burst from the internet waits for the workers
  // instead of being dropped before lnsd sees it.
  await run("ip", ["link", "set", "dev", name, "mtu", String(opts.mtu), "txqueuelen", String(TX_QUEUE_LENGTH), "up"]);
  if (opts.address !== undefined) await run("ip", ["addr", "add", opts.address, "dev", name]);
  // Traffic between two subscribers enters and leaves by the TUN device: the kernel would answer
  // each such packet with an ICMP redirect (RFC 1812 5.2.7.2) that no subscriber can act on. The
  // kernel sends them if this or conf/all/send_redirects is set; the latter is the operator's.
  // The ICMP host unreachables the workers write come from the device's own address: the kernel
  // takes such a packet in only with accept_local (else it is a martian source).
  for (const [key, value] of [["send_redirects", "0"], ["accept_local", "1"]] as const) {
    try {
      await writeFile(`/proc/sys/net/ipv4/conf/${name}/${key}`, `${value}\n`);
    } catch {
      // Not fatal: without them, redirects are noise and the unreachables are not delivered.
    }
  }
}

/** Routes to the device (the pools, with `ip route replace`). */
export async function routeToTun(name: string, routes: readonly string[]): Promise<void> {
  for (const r of routes) await run("ip", ["route", "replace", r, "dev", name]);
}

export async function openTun(opts: TunOptions): Promise<TunDevice> {
  const { fd, name } = loadAddon().openTun(opts.name, false);
  try {
    await configureTun(name, opts);
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
