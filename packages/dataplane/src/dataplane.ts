// The data plane as the control thread sees it: the multi-queue TUN device, the SO_REUSEPORT
// group of UDP sockets on bind_address:1701 (one per worker, steered by session; one more for the
// control thread's own sends), the shared session table, and the worker threads.
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { PeerAddress, UdpEndpoint } from "@lnsd/io";
import { formatIpv4, parseIpv4, parseIpv6 } from "@lnsd/wire";
import { loadAddon } from "./native.js";
import { FilterWriter, type FilterList } from "./filters.js";
import { allocateTables, G, SessionTableWriter, STAT_WORDS, WorkerStat, type WorkerStatName } from "./tables.js";
import { configureTun, routeToTun, unrouteFromTun } from "./tun.js";
import type { PacketPluginsMessage, WorkerInit, WorkerMessage } from "./worker.js";

/** What the workers apply; changeable at run time (SIGHUP). */
export interface DataPlaneSettings {
  /** TCP MSS ceiling (l2tp_mtu - 40); 0: none. */
  readonly mss: number;
  /** icmp_rate: host unreachables per second; 0: none. */
  readonly icmpRate: number;
  /** packet_limit: downstream packets per session per 0.1 s; 0: no limit. */
  readonly packetLimit: number;
  /** disable_no_spoof. */
  readonly noSpoof: boolean;
}

export interface DataPlaneOptions extends DataPlaneSettings {
  /** bind_address (IPv4) and the L2TP port. */
  readonly bindAddress: string;
  readonly port: number;
  /** Worker threads; 0: one per core. */
  readonly workers: number;
  /** tundevicename, its MTU, its own address (CIDR), and the routes to it (CIDR). */
  readonly tunName: string;
  readonly mtu: number;
  readonly tunAddress?: string;
  readonly routes: readonly string[];
  /** The address ICMP errors come from. */
  readonly localAddress: string;
  /** ipv6_prefix (l2tpns): the /64 that sessions' IPv6 addresses are in, routed to the device. */
  readonly ipv6Prefix?: string;
  /** Sessions the table holds (max_sessions). */
  readonly maxSessions: number;
  readonly batch?: number;
  /** Per worker, datagrams per second handed to the control thread (beyond: dropped, counted). */
  readonly controlRate?: number;
  readonly onEvent?: (level: "error" | "warn" | "info" | "debug", reason: string, message: string) => void;
}

export type DataPlaneStats = Record<WorkerStatName, number>;

const SOCKET_BUFFER = 8 * 1024 * 1024;

export class DataPlane {
  private stopping = false;
  private handler: (packet: Buffer, from: PeerAddress) => void = () => undefined;
  /** The control thread's side of port 1701. */
  readonly endpoint: UdpEndpoint;
  /** The access lists the workers apply (ip access-list; sessions name them by index). */
  readonly filters: FilterWriter;
  private gardenList: string | undefined;
  private readonly exited: Promise<void>[];
  /** The ip_pool networks routed to the device (CIDR). */
  private poolRoutes: string[] = [];

  private constructor(
    readonly table: SessionTableWriter,
    readonly tunName: string,
    readonly workerCount: number,
    private readonly workers: readonly Worker[],
    private readonly fds: { readonly udp: readonly number[]; readonly tun: readonly number[]; readonly control: number; readonly wake: number },
    local: PeerAddress,
    private readonly onEvent: NonNullable<DataPlaneOptions["onEvent"]>,
  ) {
    const native = loadAddon();
    this.filters = new FilterWriter(table.buffers.filters);
    this.exited = workers.map((w, i) => new Promise<void>((resolve) => {
      w.on("message", (msg: WorkerMessage) => {
        if (msg.kind === "log") {
          this.onEvent(msg.level === "critical" || msg.level === "error" ? "error" : msg.level === "warn" ? "warn" : msg.level === "info" ? "info" : "debug", msg.reason, msg.message);
          return;
        }
        for (const m of msg.batch) {
          if (this.stopping) return;
          this.handler(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.length), { address: formatIpv4(m.address), port: m.port });
        }
      });
      w.on("error", (e) => { this.onEvent("error", "dataplane-worker", `data worker ${i}: ${e.message}`); });
      w.on("exit", (code) => {
        if (!this.stopping) this.onEvent("error", "dataplane-worker", `data worker ${i} exited (${code}): its sessions carry no traffic`);
        resolve();
      });
    }));
    this.endpoint = {
      local,
      send: (packet, to) => {
        if (this.stopping) return;
        const a = parseIpv4(to.address);
        if (a === undefined) return;
        native.udpSendTo(fds.control, packet, a, to.port);
      },
      onMessage: (h) => {
        this.handler = h;
      },
      close: () => {
        void this.close();
      },
    };
  }

  static async open(o: DataPlaneOptions): Promise<DataPlane> {
    const native = loadAddon();
    if (parseIpv4(o.bindAddress) === undefined) throw new Error(`the data plane needs an IPv4 bind_address (got ${o.bindAddress})`);
    const n = o.workers > 0 ? o.workers : availableParallelism();
    const onEvent = o.onEvent ?? (() => undefined);
    const opened: number[] = [];
    try {
      // The TUN device: one queue per worker; the first open names it.
      const first = native.openTun(o.tunName, true);
      opened.push(first.fd);
      const tun = [first.fd];
      for (let i = 1; i < n; i++) {
        const q = native.openTun(first.name, true);
        opened.push(q.fd);
        tun.push(q.fd);
      }
      for (const fd of tun) native.setNonBlocking(fd);
      // Per-flow order downstream: each packet's queue from its destination alone (not the
      // kernel's flow table, which moves a flow between queues when the other direction starts).
      try {
        // The device holds the program; our descriptor of it can go.
        native.closeFd(native.tunSteer(first.fd));
      } catch (e) {
        if (n > 1) onEvent("warn", "dataplane-steer", `${first.name}: no steering program (${e instanceof Error ? e.message : String(e)}): a flow may be reordered when it moves between workers`);
      }
      await configureTun(first.name, { mtu: o.mtu, ...(o.tunAddress === undefined ? {} : { address: o.tunAddress }) });
      const v6 = o.ipv6Prefix === undefined ? undefined : parseIpv6(o.ipv6Prefix);
      if (o.ipv6Prefix !== undefined && v6 === undefined) throw new Error(`ipv6_prefix ${o.ipv6Prefix} is not an IPv6 address`);
      await routeToTun(first.name, [...o.routes, ...(o.ipv6Prefix === undefined ? [] : [`${o.ipv6Prefix}/64`])]);
      // The UDP group: workers' sockets join first (indexes 0..n-1, which the steering program
      // picks from); the control thread's joins last and so never receives.
      const udp: number[] = [];
      for (let i = 0; i < n; i++) {
        const fd = native.udpOpen(o.bindAddress, o.port, true, SOCKET_BUFFER);
        opened.push(fd);
        udp.push(fd);
      }
      native.udpSteer(udp[0] ?? -1, n);
      const control = native.udpOpen(o.bindAddress, o.port, true, SOCKET_BUFFER);
      opened.push(control);
      const wake = native.eventFd();
      opened.push(wake);
      const buffers = allocateTables(o.maxSessions, n);
      const table = new SessionTableWriter(buffers);
      const workers: Worker[] = [];
      for (let i = 0; i < n; i++) {
        const init: WorkerInit = { index: i, buffers, udpFd: udp[i] ?? -1, tunFd: tun[i] ?? -1, wakeFd: wake, batch: o.batch ?? 64, controlRate: o.controlRate ?? 50_000 };
        workers.push(new Worker(new URL("./worker.js", import.meta.url), { workerData: init, name: `lnsd-data-${i}` }));
      }
      const dp = new DataPlane(table, first.name, n, workers, { udp, tun, control, wake }, { address: o.bindAddress, port: native.udpLocalPort(control) }, onEvent);
      dp.poolRoutes = [...o.routes];
      dp.update(o);
      const g = table.views.globals;
      Atomics.store(g, G.LOCAL_ADDRESS, (parseIpv4(o.localAddress) ?? 0) | 0);
      if (v6 !== undefined) {
        const view = new DataView(v6.buffer, v6.byteOffset, 16);
        Atomics.store(g, G.IPV6_PREFIX_HI, view.getInt32(0));
        Atomics.store(g, G.IPV6_PREFIX_LO, view.getInt32(4));
        Atomics.store(g, G.IPV6_ON, 1);
      }
      await Promise.all(workers.map((w) => new Promise<void>((resolve, reject) => {
        w.once("online", resolve);
        w.once("error", reject);
      })));
      onEvent("info", "dataplane", `${first.name} up, mtu ${o.mtu}${o.tunAddress === undefined ? "" : `, address ${o.tunAddress}`}, routes ${o.routes.join(" ") || "none"}; ${n} data worker${n === 1 ? "" : "s"} on L2TP ${o.bindAddress}:${o.port}`);
      return dp;
    } catch (e) {
      for (const fd of opened) native.closeFd(fd);
      throw e;
    }
  }

  /** New settings (SIGHUP): the workers read them from the next packet on. */
  update(s: DataPlaneSettings): void {
    const g = this.table.views.globals;
    Atomics.store(g, G.MSS, s.mss);
    Atomics.store(g, G.PACKET_LIMIT, s.packetLimit);
    Atomics.store(g, G.ICMP_RATE, s.icmpRate > 0 ? Math.max(1, Math.floor(s.icmpRate / this.workerCount)) : 0);
    Atomics.store(g, G.NO_SPOOF, s.noSpoof ? 1 : 0);
  }

  /**
   * New access lists (start, SIGHUP, the CLI's config mode); an error (too many) keeps the lists in
   * force. The garden's list is looked up again by name.
   */
  /**
   * The ip_pool networks routed to the device, after a reload (SIGHUP): new ones are added, ones
   * no longer in the pool taken away; the rest are left as they are (no gap in their traffic).
   */
  async setPoolRoutes(routes: readonly string[]): Promise<{ added: string[]; removed: string[] }> {
    const added = routes.filter((r) => !this.poolRoutes.includes(r));
    const removed = this.poolRoutes.filter((r) => !routes.includes(r));
    this.poolRoutes = [...routes];
    await routeToTun(this.tunName, added);
    await unrouteFromTun(this.tunName, removed);
    return { added, removed };
  }

  loadFilters(lists: readonly FilterList[]): string | undefined {
    const problem = this.filters.load(lists);
    if (problem === undefined) this.setGarden(this.gardenList);
    return problem;
  }

  /** The access list that gardened sessions are held to; undefined (or a missing list): they pass nothing. */
  setGarden(listName: string | undefined): void {
    this.gardenList = listName;
    const i = listName === undefined ? -1 : this.filters.indexOf(listName);
    Atomics.store(this.table.views.globals, G.GARDEN_LIST, i + 1);
  }

  /**
   * The plugins with packet hooks (packet_rx / packet_tx), in load order: each worker loads them
   * (a second instance of each, whose init runs there too) before its next batch.
   */
  setPacketPlugins(names: readonly string[], pluginDirs: readonly string[]): void {
    const m: PacketPluginsMessage = { kind: "plugins", names: [...names], pluginDirs: [...pluginDirs] };
    for (const w of this.workers) w.postMessage(m);
    Atomics.add(this.table.views.globals, G.PLUGIN_GEN, 1);
    // Workers asleep in poll() see it within a second (the wait's timeout).
  }

  /** The workers' statistics, summed (each wraps at 2^32). */
  stats(): DataPlaneStats {
    const g = this.table.views.globals;
    const out = {} as DataPlaneStats;
    for (const [name, word] of Object.entries(WorkerStat) as [WorkerStatName, number][]) {
      let sum = 0;
      for (let i = 0; i < this.workerCount; i++) sum += Atomics.load(g, G.STATS + i * STAT_WORDS + word) >>> 0;
      out[name] = sum;
    }
    return out;
  }

  /** Stops the workers (they leave their poll() at once) and closes the device and sockets. */
  async close(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const native = loadAddon();
    Atomics.store(this.table.views.globals, G.STOP, 1);
    native.eventFdSignal(this.fds.wake);
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, 2000).unref());
    await Promise.race([Promise.all(this.exited), timeout]);
    for (const w of this.workers) void w.terminate();
    for (const fd of [...this.fds.udp, ...this.fds.tun, this.fds.control, this.fds.wake]) native.closeFd(fd);
  }
}
