// The cluster test's rig (issue 14), in network namespaces of the test's own: one LAN (a bridge in
// a namespace of its own, multicast snooping off) joining the lnsd nodes, the test LAC and
// FreeRADIUS. Each node: eth0 on the LAN (its cluster_interface), the shared bind_address on lo,
// multicast routed out of eth0, its own TUN device, state_directory, startup-config and ip_pool.
// The LAC reaches bind_address through one node's LAN address at a time (a static route the test
// moves: there is no BGP yet). FreeRADIUS takes requests from every node (lib/cluster-radius-child, read with lib/radius-acct;
// nftables DNAT from its LAN address to its loopback ports). Nodes are started, signalled and
// stopped by PID, each its own process; their logs are kept across restarts.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { env, ip, namespaceLab, nsRun, sleep, spawnLineChild, sysctl, until, type Cleanups, type LineChild } from "./netns.js";

export const NFT = ["/usr/sbin/nft", "/sbin/nft"].find((p) => existsSync(p));

/** The rig's addresses: the LAN, the shared ones, and the pool. */
export const CLUSTER_ADDR = {
  lan: "10.231.0",
  nodeHost: (i: number): string => `10.231.0.${String(10 + i)}`,
  lac: "10.231.0.100",
  radius: "10.231.0.200",
  bind: "10.232.0.1",
  tun: "10.233.0.1",
  pool: "10.234.0.0/22",
  group: "239.192.13.13",
} as const;

/** When a node logged a line: its ISO time at the line's start, in epoch ms. */
export interface LogLine {
  readonly line: string;
  readonly at: number;
}

/** The first line at or after character `from` of `log` that matches `re`. */
export function findLine(log: string, re: RegExp, from = 0): LogLine | undefined {
  for (const line of log.slice(from).split("\n")) {
    if (re.test(line)) return { line, at: Date.parse(line.split(" ")[0] ?? "") };
  }
  return undefined;
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** One lnsd node of the rig: its namespace, files, and the process now running (if any). */
export class RigNode {
  private proc: ChildProcess | undefined;
  private exit: Promise<Exit> | undefined;
  private out = "";
  /** Earlier processes' logs, oldest first. */
  private readonly previous: string[] = [];
  /** When the running process was spawned (epoch ms): the longest uptime wins an election. */
  startedAt = 0;

  constructor(
    readonly index: number,
    readonly ns: string,
    readonly host: string,
    readonly dir: string,
    private readonly entry: string,
  ) {}

  get name(): string {
    return `n${String(this.index)} (${this.host})`;
  }

  get config(): string {
    return join(this.dir, "startup-config");
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  running(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** What the running (or last) process logged. */
  log(): string {
    return this.out;
  }

  /** Every process's log, for a failure's diagnostics. */
  allLogs(): string {
    return [...this.previous, this.out].join(`\n---- n${String(this.index)} started again ----\n`);
  }

  /** Spawns lnsd and waits until it listens for L2TP (or exits). */
  async start(): Promise<void> {
    if (this.running()) throw new Error(`${this.name} is running already`);
    if (this.proc !== undefined) this.previous.push(this.out);
    this.out = "";
    this.startedAt = Date.now();
    // `ip netns exec` execs lnsd: the PID signalled is lnsd's own.
    const proc = spawn("ip", ["netns", "exec", this.ns, process.execPath, this.entry, "-c", this.config], { stdio: ["ignore", "pipe", "pipe"], env });
    this.proc = proc;
    const keep = (d: Buffer): void => { this.out += d.toString(); };
    proc.stdout.on("data", keep);
    proc.stderr.on("data", keep);
    const reap = (): void => { proc.kill("SIGKILL"); };
    process.once("exit", reap);
    this.exit = new Promise<Exit>((resolve) =>
      proc.once("exit", (code, signal) => {
        process.off("exit", reap);
        resolve({ code, signal });
      }),
    );
    await until(() => this.out.includes("listening for L2TP") || !this.running(), 15_000);
  }

  /** A signal to the running process (SIGSTOP and SIGCONT too); nothing when it is not running. */
  signal(sig: NodeJS.Signals): void {
    if (this.running()) this.proc?.kill(sig);
  }

  /** How the process ended, or undefined if it still runs after timeoutMs. */
  async waitExit(timeoutMs: number): Promise<Exit | undefined> {
    const exit = this.exit;
    if (exit === undefined) return undefined;
    return Promise.race([exit, sleep(timeoutMs).then(() => undefined)]);
  }

  /** SIGKILL (after SIGCONT, should it be stopped) and waits for it. */
  async kill(): Promise<void> {
    if (!this.running()) return;
    this.proc?.kill("SIGKILL");
    this.proc?.kill("SIGCONT");
    await this.exit;
  }

  /** Waits for a line matching `re` at or after character `from` of the running process's log. */
  async waitFor(re: RegExp, from: number, timeoutMs: number): Promise<LogLine | undefined> {
    await until(() => findLine(this.out, re, from) !== undefined, timeoutMs, 10);
    return findLine(this.out, re, from);
  }
}

export interface ClusterRigOptions {
  /** Namespace names begin with it (unique per test process). */
  readonly prefix: string;
  readonly nodes: number;
  /** bin/lnsd.js. */
  readonly entry: string;
  readonly radiusChild: string;
  readonly radiusSecret: string;
  /** FreeRADIUS's users file. */
  readonly users: string;
  readonly clusterSecret: string;
  /** Startup-config lines after the rig's own. */
  readonly extra?: readonly string[];
}

export interface ClusterRig {
  readonly nodes: readonly RigNode[];
  readonly ns: { readonly lan: string; readonly lac: string; readonly radius: string };
  readonly cleanups: Cleanups;
  readonly radius: LineChild;
  /** The LAC's route to bind_address goes through this node from now on. */
  routeVia(node: RigNode): void;
  /** The node the LAC's route goes through. */
  readonly via: RigNode | undefined;
}

/**
 * Builds the rig (namespaces, links, FreeRADIUS, the nodes' files; no node started). Everything it
 * makes is undone in t's teardown, last first, even when a step fails.
 */
export async function clusterRig(t: { teardown(f: () => unknown): void; comment(message: string): void }, o: ClusterRigOptions): Promise<ClusterRig> {
  const ns = { lan: `${o.prefix}b`, lac: `${o.prefix}l`, radius: `${o.prefix}r` };
  const nodeNs = Array.from({ length: o.nodes }, (_, i) => `${o.prefix}n${String(i + 1)}`);
  const cleanups = namespaceLab(t, [[ns.lan, false], [ns.lac, false], [ns.radius, false], ...nodeNs.map((n) => [n, false] as const)]);
  ip(["-n", ns.lan, "link", "add", "br0", "type", "bridge", "mcast_snooping", "0"]);
  ip(["-n", ns.lan, "link", "set", "br0", "up"]);
  /** eth0 in `inner` on the LAN with `address`, its peer `port` in the bridge. */
  const attach = (inner: string, port: string, address: string): void => {
    ip(["-n", inner, "link", "add", "eth0", "type", "veth", "peer", "name", port, "netns", ns.lan]);
    ip(["-n", ns.lan, "link", "set", port, "master", "br0", "up"]);
    ip(["-n", inner, "addr", "add", `${address}/24`, "dev", "eth0"]);
    ip(["-n", inner, "link", "set", "eth0", "up"]);
  };
  attach(ns.lac, "lac", CLUSTER_ADDR.lac);
  attach(ns.radius, "radius", CLUSTER_ADDR.radius);

  const dir = mkdtempSync(join(tmpdir(), "lnsd-cluster-"));
  cleanups.push(() => { rmSync(dir, { recursive: true, force: true }); });

  // FreeRADIUS on the radius namespace's loopback; what reaches its LAN address on the two ports
  // goes there (route_localnet lets the kernel route to 127.0.0.1 from eth0).
  const radius = spawnLineChild(ns.radius, process.execPath, [o.radiusChild, o.radiusSecret, o.users, `${CLUSTER_ADDR.lan}.0/24`]);
  cleanups.push(async () => {
    radius.send("eof");
    await Promise.race([radius.exited, sleep(6000)]);
    await radius.kill("SIGTERM");
  });
  const { authPort } = await radius.next<{ authPort: number }>("ready", 20_000);
  sysctl(ns.radius, ["net.ipv4.conf.all.route_localnet=1", "net.ipv4.conf.eth0.route_localnet=1"]);
  nsRun(ns.radius, NFT ?? "nft", ["add table ip radius; add chain ip radius pre { type nat hook prerouting priority dstnat; }; " + `add rule ip radius pre iifname "eth0" udp dport { ${String(authPort)}, ${String(authPort + 1)} } dnat to 127.0.0.1`]);

  const nodes: RigNode[] = [];
  for (const [i, name] of nodeNs.entries()) {
    const index = i + 1;
    const host = CLUSTER_ADDR.nodeHost(index);
    attach(name, `n${String(index)}`, host);
    ip(["-n", name, "addr", "add", `${CLUSTER_ADDR.bind}/32`, "dev", "lo"]);
    ip(["-n", name, "route", "add", "224.0.0.0/4", "dev", "eth0"]);
    const nodeDir = join(dir, `n${String(index)}`);
    mkdirSync(nodeDir);
    writeFileSync(
      join(nodeDir, "startup-config"),
      [
        "set debug 3",
        `set hostname cl-n${String(index)}`,
        `set bind_address ${CLUSTER_ADDR.bind}`,
        `set iftun_address ${CLUSTER_ADDR.tun}`,
        `set primary_radius ${CLUSTER_ADDR.radius}`,
        `set primary_radius_port ${String(authPort)}`,
        `set radius_secret "${o.radiusSecret}"`,
        'set radius_authtypes "chap"',
        "set radius_accounting yes",
        "set cli_bind_address 127.0.0.1",
        `set cluster_address ${CLUSTER_ADDR.group}`,
        "set cluster_interface eth0",
        "set cluster_hb_interval 1",
        "set cluster_hb_timeout 5",
        `set cluster_secret "${o.clusterSecret}"`,
        `set state_directory "${join(nodeDir, "state")}"`,
        ...(o.extra ?? []),
        "",
      ].join("\n"),
    );
    writeFileSync(join(nodeDir, "ip_pool"), `${CLUSTER_ADDR.pool}\n`);
    const node = new RigNode(index, name, host, nodeDir, o.entry);
    // Before the namespaces go (cleanups run last first).
    cleanups.push(() => node.kill());
    nodes.push(node);
  }

  let via: RigNode | undefined;
  return {
    nodes,
    ns,
    cleanups,
    radius,
    routeVia: (node) => {
      ip(["-n", ns.lac, "route", "replace", `${CLUSTER_ADDR.bind}/32`, "via", node.host]);
      via = node;
    },
    get via() {
      return via;
    },
  };
}

/** Drops of UDP to the cluster group in `ns` (a table of its own, counted), both ways. */
export function cutMulticast(ns: string): void {
  nsRun(ns, NFT ?? "nft", [
    "add table ip cut; " +
      "add chain ip cut in { type filter hook input priority 0; }; add chain ip cut out { type filter hook output priority 0; }; " +
      `add rule ip cut in ip daddr ${CLUSTER_ADDR.group} ip protocol udp counter drop; add rule ip cut out ip daddr ${CLUSTER_ADDR.group} ip protocol udp counter drop`,
  ]);
}

/** Removes the cut; says how many packets it dropped each way. */
export function healMulticast(ns: string): { in: number; out: number } {
  const rules = nsRun(ns, NFT ?? "nft", ["list table ip cut"]);
  const count = (chain: string): number => Number(new RegExp(`chain ${chain} \\{[^}]*counter packets (\\d+)`).exec(rules)?.[1] ?? "-1");
  nsRun(ns, NFT ?? "nft", ["delete table ip cut"]);
  return { in: count("in"), out: count("out") };
}
