// The TUN device's configuration with iproute2 and /proc (the native addon opens its queues, the
// data workers read and write them): MTU, queue length, address, routes, and the two per-device
// sysctls the data plane needs. Control thread.
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { promisify } from "node:util";

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

/** Takes routes to the device away (a pool gone at a reload); one already gone is no error. */
export async function unrouteFromTun(name: string, routes: readonly string[]): Promise<void> {
  for (const r of routes) {
    try {
      await run("ip", ["route", "del", r, "dev", name]);
    } catch {
      // Not there (removed by hand, or the device went): nothing to take away.
    }
  }
}
