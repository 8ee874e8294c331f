// The load tool's main-thread side. TrafficLac: one native UDP socket for a test LAC, offered to
// the LacSimulator as its UdpEndpoint (control messages go out with sendto from this thread; the
// worker receives everything and hands back what is not a test packet), and the blast worker's
// controls and counters. TrafficReflector: the internet host's echo socket and worker, with a
// unix-socket query of its counters. Both run on the thread that creates them.
import { readFile } from "node:fs/promises";
import { createConnection, createServer, type Server } from "node:net";
import { Worker } from "node:worker_threads";
import type { PeerAddress, UdpEndpoint } from "@lnsd/io";
import { formatIpv4 } from "@lnsd/wire";
import { loadTrafficAddon, type TrafficAddon } from "./traffic-addon.js";
import {
  encodeSessionTable,
  ipv4ToNumber,
  procStatCpuTicks,
  procStatMachineTicks,
  REFLECTOR_TOTALS,
  ReflectorTotal,
  TrafficCounters,
  type BlastParams,
  type ReflectorCounts,
  type TrafficSession,
} from "./traffic.js";

// Beside this file: the compiled worker, or its source when this runs from source (tests).
const WORKER_URL = new URL(import.meta.url.endsWith(".ts") ? "./traffic-worker.ts" : "./traffic-worker.js", import.meta.url);
const SOCKET_BUFFER_BYTES = 8 * 1024 * 1024;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null;
}

export interface TrafficLacOptions {
  /** Local IPv4 address of the LAC's socket ("0.0.0.0" for any). */
  readonly bindAddress: string;
  /** Where the test packets go: the LNS's L2TP address and port. */
  readonly lns: PeerAddress;
  /** Most sessions the counters hold. */
  readonly maxSessions: number;
}

/** The test LAC's socket and blast worker. */
export class TrafficLac {
  readonly endpoint: UdpEndpoint;
  readonly counters: TrafficCounters;
  private handler: (packet: Buffer, from: PeerAddress) => void = () => undefined;
  private closed = false;
  private stopWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  /** Why the worker died, if it did. */
  failure: Error | undefined;
  private readonly readyPromise: Promise<void>;
  private readyResolve: () => void = () => undefined;
  private lastAddress = "";
  private lastAddressNumber = 0;

  private constructor(
    private readonly addon: TrafficAddon,
    private readonly fd: number,
    private readonly wakeFd: number,
    private readonly worker: Worker,
    counters: TrafficCounters,
    local: PeerAddress,
  ) {
    this.counters = counters;
    this.readyPromise = new Promise((resolve) => {
      this.readyResolve = resolve;
    });
    this.endpoint = {
      local,
      send: (packet, to) => {
        if (this.closed) return;
        if (to.address !== this.lastAddress) {
          this.lastAddress = to.address;
          this.lastAddressNumber = ipv4ToNumber(to.address);
        }
        this.addon.udpSendTo(this.fd, packet, this.lastAddressNumber, to.port);
      },
      onMessage: (h) => {
        this.handler = h;
      },
      // The LacSimulator closes its endpoint; the socket itself goes with close() below.
      close: () => undefined,
    };
    worker.on("message", (m: unknown) => {
      this.onWorkerMessage(m);
    });
    worker.on("error", (e) => {
      this.failure = e;
      const w = this.stopWaiters;
      this.stopWaiters = [];
      for (const x of w) x.reject(e);
    });
  }

  static open(opts: TrafficLacOptions): TrafficLac {
    const addon = loadTrafficAddon();
    const fd = addon.udpOpen(opts.bindAddress, 0, false, SOCKET_BUFFER_BYTES);
    const wakeFd = addon.eventFd();
    const sab = new SharedArrayBuffer(TrafficCounters.bytes(opts.maxSessions));
    const worker = new Worker(WORKER_URL, {
      workerData: { role: "lac", fd, wakeFd, counters: sab, sessions: opts.maxSessions, lnsAddress: ipv4ToNumber(opts.lns.address), lnsPort: opts.lns.port },
    });
    const local = { address: opts.bindAddress, port: addon.udpLocalPort(fd) };
    return new TrafficLac(addon, fd, wakeFd, worker, new TrafficCounters(sab, opts.maxSessions), local);
  }

  /** Resolves once the worker runs (it receives from then on); rejects if it fails to start. */
  ready(): Promise<void> {
    return this.failure === undefined ? this.readyPromise : Promise.reject(this.failure);
  }

  /** The sessions to load, in index order (session i has index i). */
  setSessions(sessions: readonly TrafficSession[]): void {
    this.post({ type: "sessions", table: encodeSessionTable(sessions) });
  }

  blast(p: BlastParams): void {
    this.post({ type: "blast", ...p });
  }

  /** Stops sending; resolves once the worker has. */
  stop(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.failure !== undefined) {
        reject(this.failure);
        return;
      }
      this.stopWaiters.push({ resolve, reject });
      this.post({ type: "stop" });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.post({ type: "quit" });
    await this.worker.terminate();
    this.addon.closeFd(this.fd);
    this.addon.closeFd(this.wakeFd);
  }

  private post(m: object): void {
    this.worker.postMessage(m);
    this.addon.eventFdSignal(this.wakeFd);
  }

  private onWorkerMessage(m: unknown): void {
    if (!isRecord(m)) return;
    if (m.type === "ready") {
      this.readyResolve();
      return;
    }
    if (m.type === "stopped") {
      const w = this.stopWaiters;
      this.stopWaiters = [];
      for (const x of w) x.resolve();
      return;
    }
    if (m.type !== "control" || !Array.isArray(m.packets)) return;
    for (const p of m.packets as unknown[]) {
      if (!isRecord(p) || !(p.data instanceof Uint8Array) || typeof p.address !== "number" || typeof p.port !== "number") continue;
      this.handler(Buffer.from(p.data.buffer, p.data.byteOffset, p.data.byteLength), { address: formatIpv4(p.address), port: p.port });
    }
  }
}

/** The internet host's reflector: every datagram to bind:port goes back to its sender. */
export class TrafficReflector {
  private readonly totals: Float64Array;
  private server: Server | undefined;

  private constructor(
    private readonly addon: TrafficAddon,
    private readonly fd: number,
    private readonly wakeFd: number,
    private readonly worker: Worker,
    sab: SharedArrayBuffer,
    /** The UDP port it reflects on (the kernel's pick for port 0). */
    readonly port: number,
  ) {
    this.totals = new Float64Array(sab, 0, REFLECTOR_TOTALS);
    this.readyPromise = new Promise((resolve, reject) => {
      worker.on("message", (m: unknown) => {
        if (isRecord(m) && m.type === "ready") resolve();
      });
      worker.once("error", reject);
    });
  }

  private readonly readyPromise: Promise<void>;

  /** Resolves once the worker reflects; rejects if it fails to start. */
  ready(): Promise<void> {
    return this.readyPromise;
  }

  static open(bindAddress: string, port: number): TrafficReflector {
    const addon = loadTrafficAddon();
    const fd = addon.udpOpen(bindAddress, port, false, SOCKET_BUFFER_BYTES);
    const wakeFd = addon.eventFd();
    const sab = new SharedArrayBuffer(REFLECTOR_TOTALS * 8);
    const worker = new Worker(WORKER_URL, { workerData: { role: "reflector", fd, wakeFd, counters: sab, sessions: 0, lnsAddress: 0, lnsPort: 0 } });
    return new TrafficReflector(addon, fd, wakeFd, worker, sab, addon.udpLocalPort(fd));
  }

  counts(): ReflectorCounts & { sendShort: number; truncated: number } {
    const t = this.totals;
    const cpu = process.cpuUsage();
    return {
      receivedPackets: t[ReflectorTotal.receivedPackets] ?? 0,
      sentPackets: t[ReflectorTotal.sentPackets] ?? 0,
      sendShort: t[ReflectorTotal.sendShort] ?? 0,
      truncated: t[ReflectorTotal.truncated] ?? 0,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
    };
  }

  /** Answers each line on the unix socket at path with the counters as one JSON line. */
  async serve(path: string): Promise<void> {
    const server = createServer((c) => {
      c.setEncoding("utf8");
      c.on("data", (chunk: string) => {
        for (let i = 0; i < chunk.split("\n").length - 1; i++) c.write(`${JSON.stringify(this.counts())}\n`);
      });
      c.on("error", () => undefined);
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(path, () => {
        server.off("error", reject);
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    this.server?.close();
    this.worker.postMessage({ type: "quit" });
    this.addon.eventFdSignal(this.wakeFd);
    await this.worker.terminate();
    this.addon.closeFd(this.fd);
    this.addon.closeFd(this.wakeFd);
  }
}

/** A connection to a reflector's counters (TrafficReflector.serve). */
export interface ReflectorQuery {
  counts(): Promise<ReflectorCounts>;
  close(): void;
}

export async function connectReflector(path: string): Promise<ReflectorQuery> {
  const c = createConnection(path);
  c.setEncoding("utf8");
  await new Promise<void>((resolve, reject) => {
    c.once("error", reject);
    c.once("connect", () => {
      c.off("error", reject);
      resolve();
    });
  });
  let buffered = "";
  const waiting: ((line: string) => void)[] = [];
  c.on("data", (chunk: string) => {
    buffered += chunk;
    for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      waiting.shift()?.(line);
    }
  });
  c.on("error", () => undefined);
  return {
    counts: () =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new Error("reflector: no answer"));
        }, 2000);
        waiting.push((line) => {
          clearTimeout(timer);
          const v: unknown = JSON.parse(line);
          if (!isRecord(v) || typeof v.receivedPackets !== "number" || typeof v.sentPackets !== "number") {
            reject(new Error(`reflector: bad answer ${line}`));
            return;
          }
          resolve({ receivedPackets: v.receivedPackets, sentPackets: v.sentPackets, ...(typeof v.cpuSeconds === "number" ? { cpuSeconds: v.cpuSeconds } : {}) });
        });
        c.write("stat\n");
      }),
    close: () => {
      c.end();
    },
  };
}

/** utime + stime of a process (all its threads) in seconds, from /proc/PID/stat. */
export async function processCpuSeconds(pid: number, ticksPerSecond = 100): Promise<number | undefined> {
  try {
    const ticks = procStatCpuTicks(await readFile(`/proc/${String(pid)}/stat`, "utf8"));
    return ticks === undefined ? undefined : ticks / ticksPerSecond;
  } catch {
    return undefined;
  }
}

/** Busy and total CPU ticks of the whole machine (/proc/stat), to see what else ran meanwhile. */
export async function machineCpuTicks(): Promise<{ busy: number; total: number } | undefined> {
  try {
    return procStatMachineTicks(await readFile("/proc/stat", "utf8"));
  } catch {
    return undefined;
  }
}
