// The telnet CLI's view of the daemon (CliBackend of @lnsd/cli): sessions, tunnels, the pool and
// the counters read from the Daemon; drops, `set`, `write memory`, reload and shutdown done on it.
// A session's id in the CLI is its NAS-Port (Subscriber.nasPort), unique while it lasts.
// Runs on the control thread.
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { hostname as osHostname, loadavg } from "node:os";
import {
  findVariable,
  formatConfigError,
  formatSpecValue,
  parseSettingValue,
  parseStartupConfig,
  parseUsers,
  writeStartupConfig,
  type StartupConfig,
  type UsersFile,
} from "@lnsd/config";
import type { CliBackend, CliPoolEntry, CliResult, CliSessionRow, CliThrottleRow, CliTunnel } from "@lnsd/cli";
import type { Tunnel, TunnelState } from "@lnsd/l2tp";
import { formatIpv4, parseIpv4, StopCcnResultCode } from "@lnsd/wire";
import type { Daemon } from "./daemon.js";
import type { Logger } from "./log.js";
import type { ReplicaCliView } from "./cluster.js";
import type { AddressPool } from "./pool.js";
import type { PolicyChange, Subscriber } from "./sessions.js";

export interface LnsdCliOptions {
  readonly daemon: Daemon;
  readonly pool: AddressPool;
  readonly logger: Logger;
  /** The running config as loaded; `set` changes lnsd's copy, `write memory` saves it here. */
  readonly config: StartupConfig;
  readonly startupConfigPath: string;
  /** The users file (CLI logins, enable password); read at each connection. */
  readonly usersPath: string;
  /** -h on the command line. */
  readonly hostnameOverride?: string;
  readonly version?: string;
  /** Whether logins go to RADIUS (else local chap-secrets). */
  readonly radius?: boolean;
  /** `reload` and `shutdown`: by default the daemon's own signals, SIGHUP and SIGQUIT. */
  readonly reload?: () => void;
  readonly shutdown?: () => void;
  /** The RADIUS client's replies dropped, by reason, for `show counters` (RFC 3579 3.2 and the rest). */
  readonly radiusDrops?: () => Readonly<Record<string, number>>;
  /** The data workers' statistics (packets moved and dropped), for `show counters`. */
  readonly dataplane?: () => Readonly<Record<string, number>>;
  /** The plugin host: show plugins, load plugin, remove plugin. */
  readonly plugins?: { names(): readonly string[]; load(name: string): Promise<{ readonly ok: true } | { readonly ok: false; readonly error: string }>; remove(name: string): Promise<{ readonly ok: true } | { readonly ok: false; readonly error: string }> };
  /** The data plane's access lists: which are loaded, and their rules' hits. */
  readonly filters?: { indexOf(name: string): number; hits(name: string): number[] };
  /** `show cluster` (a node in a cluster). */
  readonly cluster?: () => readonly string[];
  /** A cluster slave shows the master's sessions and tunnels from its replica, and changes none. */
  readonly replica?: ReplicaCliView;
}

/** NAS-Port values stay below 2^31 (sessions.ts); L2TP Tunnel IDs are 16 bits. */
const MAX_SESSION_ID = 0x7fff_ffff;
const MAX_TUNNEL_ID = 0xffff;

const TUNNEL_STATE: Readonly<Record<TunnelState, string>> = {
  idle: "Opening",
  "wait-ctl-reply": "Opening",
  "wait-ctl-conn": "Opening",
  established: "Open",
  closing: "Closing",
  closed: "Free",
};

const capital = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** The CLI backend over a running daemon. */
export class LnsdCliBackend implements CliBackend {
  private config: StartupConfig;
  private readonly startedAtMs = Date.now();
  private lastReset = new Date();
  /** Counter values at the last `clear counters`. */
  private baseline = new Map<string, number>();
  /** Idle time: the upstream packet count last seen per session and when it last moved. */
  private readonly seen = new WeakMap<Subscriber, { packets: number; atMs: number }>();

  constructor(private readonly o: LnsdCliOptions) {
    this.config = o.config;
  }

  hostname(): string {
    return this.o.hostnameOverride ?? (this.config.settings.hostname === "" ? osHostname() : this.config.settings.hostname);
  }

  version(): string {
    return this.o.version ?? "lnsd 0.1.0";
  }

  cluster(): readonly string[] | undefined {
    return this.o.cluster?.();
  }

  users(): UsersFile | undefined {
    let text: string;
    try {
      text = readFileSync(this.o.usersPath, "utf8");
    } catch (e) {
      if (e instanceof Error && "code" in e && e.code === "ENOENT") return undefined;
      this.o.logger.log("error", "cli-users", `${this.o.usersPath}: ${e instanceof Error ? e.message : String(e)}: no CLI logins`);
      return { users: [] };
    }
    const r = parseUsers(text, this.o.usersPath);
    if (!r.ok) {
      for (const e of r.errors) this.o.logger.log("error", "cli-users", `${formatConfigError(e)}: no CLI logins until it is fixed`);
      return { users: [] };
    }
    return r.value;
  }

  limits(): { maxSessionId: number; maxTunnelId: number } {
    return { maxSessionId: MAX_SESSION_ID, maxTunnelId: MAX_TUNNEL_ID };
  }

  private nowMs(): number {
    return this.o.daemon.l2tp.clock.now();
  }

  private idleSeconds(sub: Subscriber, nowMs: number): number {
    const s = this.seen.get(sub);
    if (s === undefined || s.packets !== sub.rxPackets) {
      const atMs = s === undefined ? (sub.upAt ?? sub.startedAt) : nowMs;
      this.seen.set(sub, { packets: sub.rxPackets, atMs });
      return Math.max(0, Math.floor((nowMs - atMs) / 1000));
    }
    return Math.max(0, Math.floor((nowMs - s.atMs) / 1000));
  }

  private row(sub: Subscriber, nowMs: number): CliSessionRow {
    const status = sub.ppp.status();
    const call = sub.l2tp.call;
    const timeout = sub.policy.sessionTimeoutSec;
    const remaining = timeout === undefined || timeout <= 0 || sub.upAt === undefined ? 0 : Math.max(0, Math.ceil(timeout - (nowMs - sub.upAt) / 1000));
    return {
      id: sub.nasPort,
      linkedTo: 0,
      tunnelId: sub.tunnel.localId,
      username: sub.username ?? "",
      address: sub.address === undefined ? undefined : formatIpv4(sub.address),
      intercepted: sub.snoop !== undefined,
      throttled: sub.throttle !== undefined,
      walledGarden: sub.garden === true,
      ipv6: sub.up?.ipv6 !== undefined,
      openedSeconds: Math.max(0, Math.floor((nowMs - sub.startedAt) / 1000)),
      idleSeconds: this.idleSeconds(sub, nowMs),
      remainingSeconds: remaining,
      txOctets: sub.txOctets,
      rxOctets: sub.rxOctets,
      txPackets: sub.txPackets,
      rxPackets: sub.rxPackets,
      lacAddress: sub.tunnel.address.address,
      callingNumber: call.callingNumber ?? "",
      calledNumber: call.calledNumber ?? "",
      pppPhase: capital(status.phase),
      ipcpState: status.ipcp ?? "Closed",
      ipv6cpState: status.ipv6cp ?? "Closed",
      // lnsd rejects CCP (Protocol-Reject): it never opens.
      ccpState: "Closed",
      mru: sub.up?.peerMru ?? 0,
      rxSpeed: call.rxConnectSpeed ?? 0,
      txSpeed: call.txConnectSpeed ?? 0,
    };
  }

  *sessions(): Iterable<CliSessionRow> {
    if (this.o.replica?.active === true) {
      yield* this.o.replica.sessions();
      return;
    }
    // The manager's map may change between chunks of output: a Map iterator copes with that.
    for (const sub of this.o.daemon.sessions.all()) yield this.row(sub, this.nowMs());
  }

  private subscriber(id: number): Subscriber | undefined {
    for (const sub of this.o.daemon.sessions.all()) if (sub.nasPort === id) return sub;
    return undefined;
  }

  session(id: number): CliSessionRow | undefined {
    if (this.o.replica?.active === true) return this.o.replica.session(id);
    const sub = this.subscriber(id);
    return sub === undefined ? undefined : this.row(sub, this.nowMs());
  }

  private tunnelRow(t: Tunnel): CliTunnel {
    const ids: number[] = [];
    for (const sub of this.o.daemon.sessions.all()) if (sub.tunnel === t) ids.push(sub.nasPort);
    const c = t.transport.counters;
    return {
      id: t.localId,
      peerId: t.peerId,
      hostname: t.peer.hostName ?? "",
      address: t.address.address,
      port: t.address.port,
      state: TUNNEL_STATE[t.state],
      sessions: t.sessionCount,
      vendor: t.peer.vendorName ?? "",
      openedSeconds: Math.max(0, Math.floor((this.nowMs() - t.createdAt) / 1000)),
      controlSent: c.sent,
      controlRetransmitted: c.retransmitted,
      controlReceived: c.received,
      sessionIds: ids.sort((a, b) => a - b),
    };
  }

  *tunnels(all: boolean): Iterable<CliTunnel> {
    if (this.o.replica?.active === true) {
      yield* this.o.replica.tunnels();
      return;
    }
    const list = [...this.o.daemon.l2tp.tunnels.values()].sort((a, b) => a.localId - b.localId);
    for (const t of list) if (all || t.state !== "closed") yield this.tunnelRow(t);
  }

  tunnel(id: number): CliTunnel | undefined {
    if (this.o.replica?.active === true) return this.o.replica.tunnel(id);
    const t = this.o.daemon.l2tp.tunnels.get(id);
    return t === undefined ? undefined : this.tunnelRow(t);
  }

  pool(): { free: number; used: number; entries(all: boolean): Iterable<CliPoolEntry> } {
    const sizes = this.o.pool.sizes();
    const pool = this.o.pool;
    const sessions = this.o.daemon.sessions;
    const clockNow = (): number => Date.now();
    return {
      free: sizes.free,
      used: sizes.inUse + sizes.static + sizes.retired,
      *entries(all) {
        const byAddress = new Map<number, number>();
        for (const sub of sessions.all()) if (sub.address !== undefined) byAddress.set(sub.address, sub.nasPort);
        const now = clockNow();
        for (const e of pool.entries()) {
          const used = e.state !== "free";
          if (!used && !all) continue;
          yield {
            address: formatIpv4(e.address),
            used,
            sessionId: byAddress.get(e.address) ?? 0,
            user: e.user ?? "",
            ...(e.freedAtMs === undefined || used ? {} : { freeForSeconds: Math.max(0, Math.floor((now - e.freedAtMs) / 1000)) }),
          };
        }
      },
    };
  }

  radius(): { free: number; used: number; requests(): Iterable<never> } | undefined {
    return this.o.radius === true ? { free: 0, used: 0, requests: () => [] } : undefined;
  }

  private counter(name: string, value: number): number {
    return value - (this.baseline.get(name) ?? 0);
  }

  counters(): ReturnType<CliBackend["counters"]> {
    const node = this.o.daemon.l2tp;
    let sent = 0;
    let received = 0;
    let retransmitted = 0;
    for (const t of node.tunnels.values()) {
      sent += t.transport.counters.sent;
      received += t.transport.counters.received;
      retransmitted += t.transport.counters.retransmitted;
    }
    const drops = [...node.counters.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, v]) => [name.replace(/[-:]/g, "_"), this.counter(name, v)] as const);
    const sessions = this.o.daemon.sessions;
    const state: (readonly [string, number])[] = [
      ["tunnels", node.tunnels.size],
      ["sessions", sessions.count],
      ["sessions_online", sessions.online],
      ["sessions_in_setup", node.sessionsInSetupCount],
      // Network-layer frames that reached the control thread instead of the workers (dropped).
      ["control_path_drops", this.counter("sessions:control-path-drops", sessions.controlPathDrops)],
    ];
    const dp = this.o.dataplane?.();
    const dataplane = dp === undefined ? [] : Object.entries(dp).map(([name, v]) => [`data_${name.toLowerCase()}`, this.counter(`data:${name}`, v)] as const);
    const radiusDrops = Object.entries(this.o.radiusDrops?.() ?? {}).map(([reason, v]) => [`radius_drop_${reason.replace(/-/g, "_")}`, this.counter(`radius-drop:${reason}`, v)] as const);
    const groups = [state, ...(drops.length > 0 ? [drops] : []), ...(radiusDrops.length > 0 ? [radiusDrops] : []), ...(dataplane.length > 0 ? [dataplane] : [])];
    return {
      tunnel: { rxBytes: 0, rxPackets: received, rxErrors: 0, txBytes: 0, txPackets: sent, txErrors: 0, retries: retransmitted },
      groups,
      lastReset: this.lastReset,
    };
  }

  uptime(): ReturnType<CliBackend["uptime"]> {
    const [a = 0, b = 0, c = 0] = loadavg();
    return { upSeconds: Math.floor((Date.now() - this.startedAtMs) / 1000), users: this.o.daemon.sessions.online, loadAverage: [a, b, c] };
  }

  runningConfig(): StartupConfig {
    return this.config;
  }

  /** A reload (SIGHUP) read the startup-config again: that is the running config now. */
  adoptConfig(config: StartupConfig): void {
    this.config = config;
  }

  clearCounters(): void {
    this.baseline = new Map(this.o.daemon.l2tp.counters);
    for (const [name, v] of Object.entries(this.o.dataplane?.() ?? {})) this.baseline.set(`data:${name}`, v);
    for (const [reason, v] of Object.entries(this.o.radiusDrops?.() ?? {})) this.baseline.set(`radius-drop:${reason}`, v);
    this.baseline.set("sessions:control-path-drops", this.o.daemon.sessions.controlPathDrops);
    this.lastReset = new Date();
  }

  /** Throttle, snoop, filter: every session of the user. */
  private policy(username: string, change: PolicyChange, done: string): CliResult {
    if (this.o.filters === undefined) return { ok: false, error: "The data plane is not running (no tun device)" };
    const subs = this.o.daemon.sessions.byUsername(username);
    if (subs.length === 0) return { ok: false, error: `User ${username} is not connected` };
    for (const s of subs) this.o.daemon.sessions.setPolicy(s, change);
    this.o.logger.log("info", "cli-policy", `CLI: ${done} ${username}`);
    return { ok: true, message: `${done} ${username}` };
  }

  throttle(username: string, rateKbps?: number): CliResult {
    // l2tpns: without a rate, throttle_speed.
    const rate = rateKbps ?? this.config.settings.throttle_speed;
    if (!Number.isInteger(rate) || rate <= 0) return { ok: false, error: "Specify a rate in kbit/s (throttle_speed is 0)" };
    return this.policy(username, { throttle: { up: rate, down: rate } }, `Throttling to ${rate} kbit/s:`);
  }

  unthrottle(username: string): CliResult {
    return this.policy(username, { throttle: null }, "Not throttling");
  }

  snoop(username: string, address: string, port: number): CliResult {
    const a = parseIpv4(address);
    if (a === undefined || !Number.isInteger(port) || port < 1 || port > 65535) return { ok: false, error: "Specify a snoop address and a port (1-65535)" };
    return this.policy(username, { snoop: { address: a, port } }, `Snooping to ${address}:${port}:`);
  }

  unsnoop(username: string): CliResult {
    return this.policy(username, { snoop: null }, "Not snooping");
  }

  filter(username: string, direction: "in" | "out", list: string): CliResult {
    if ((this.o.filters?.indexOf(list) ?? -1) < 0) return { ok: false, error: `Access-list ${list} not defined` };
    return this.policy(username, direction === "in" ? { filterIn: list } : { filterOut: list }, `Filtering ${direction} with ${list}:`);
  }

  unfilter(username: string): CliResult {
    return this.policy(username, { filterIn: null, filterOut: null }, "Not filtering");
  }

  plugins(): readonly string[] {
    return this.o.plugins?.names() ?? [];
  }

  async loadPlugin(name: string): Promise<CliResult> {
    const host = this.o.plugins;
    if (host === undefined) return { ok: false, error: "Plugin support is not running" };
    const r = await host.load(name);
    this.o.logger.log("info", "cli-plugin", `CLI: load plugin ${name}: ${r.ok ? "loaded" : r.error}`);
    return r.ok ? { ok: true, message: `Loaded plugin ${name}` } : { ok: false, error: r.error };
  }

  async removePlugin(name: string): Promise<CliResult> {
    const host = this.o.plugins;
    if (host === undefined) return { ok: false, error: "Plugin support is not running" };
    const r = await host.remove(name);
    return r.ok ? { ok: true, message: `Removed plugin ${name}` } : { ok: false, error: r.error };
  }

  *throttled(): Iterable<CliThrottleRow> {
    for (const s of this.o.daemon.sessions.all()) {
      if (s.throttle !== undefined) yield { id: s.nasPort, tunnelId: s.tunnel.localId, username: s.username ?? "", rateIn: s.throttle.up, rateOut: s.throttle.down };
    }
  }

  accessListHits(name: string): readonly number[] {
    return this.o.filters?.hits(name) ?? [];
  }

  dropUser(username: string): CliResult {
    if (this.o.replica?.active === true) return this.o.replica.refusal();
    const subs = [...this.o.daemon.sessions.all()].filter((s) => s.username === username);
    if (subs.length === 0) return { ok: false, error: `User ${username} is not connected` };
    for (const s of subs) this.o.daemon.sessions.drop(s, "dropped from the CLI");
    this.o.logger.log("info", "cli-drop", `CLI: dropped user ${username} (${subs.length} session(s))`);
    return { ok: true, message: `Dropping user ${username}` };
  }

  dropSession(id: number): CliResult {
    if (this.o.replica?.active === true) return this.o.replica.refusal();
    const sub = this.subscriber(id);
    if (sub === undefined) return { ok: false, error: `Session ${id} does not exist` };
    this.o.daemon.sessions.drop(sub, "dropped from the CLI");
    this.o.logger.log("info", "cli-drop", `CLI: dropped session ${id} (${sub.username ?? "-"})`);
    return { ok: true, message: `Dropping session ${id}` };
  }

  dropTunnel(id: number): CliResult {
    if (this.o.replica?.active === true) return this.o.replica.refusal();
    const t = this.o.daemon.l2tp.tunnels.get(id);
    if (t === undefined || t.state === "closed" || t.state === "closing") return { ok: false, error: `Tunnel ${id} is not open` };
    // RFC 2661 4.4.2: result code 1, general request to clear the control connection.
    t.stop(StopCcnResultCode.GeneralRequestToClear, undefined, "dropped from the CLI");
    this.o.logger.log("info", "cli-drop", `CLI: dropped tunnel ${id}`);
    return { ok: true, message: `Dropping tunnel ${id}` };
  }

  setVariable(name: string, value: string): CliResult {
    const spec = findVariable(name);
    if (spec === undefined) return { ok: false, error: `Unknown variable "${name}"` };
    const parsed = parseSettingValue(name, value);
    if (!parsed.ok) return { ok: false, error: `${name}: ${parsed.error}` };
    // Through the writer and the parser again, so that the result is a StartupConfig like any other.
    const text = `${writeStartupConfig(this.config)}set ${name} ${formatSpecValue(spec, parsed.value)}\n`;
    const r = parseStartupConfig(text, "running-config");
    if (!r.ok) return { ok: false, error: r.errors.map((e) => e.message).join("; ") };
    this.config = r.value;
    if (name === "debug" && typeof parsed.value === "number") this.o.logger.debugLevel = parsed.value;
    this.o.logger.log("info", "cli-set", `CLI: set ${name} ${formatSpecValue(spec, parsed.value)}`);
    return { ok: true };
  }

  async writeMemory(): Promise<CliResult> {
    try {
      // As l2tpns: every variable is written.
      await writeFile(this.o.startupConfigPath, writeStartupConfig(this.config, { all: true }));
    } catch (e) {
      return { ok: false, error: `Cannot write ${this.o.startupConfigPath}: ${e instanceof Error ? e.message : String(e)}` };
    }
    this.o.logger.log("info", "cli-write", `CLI: running config written to ${this.o.startupConfigPath}`);
    return { ok: true, message: `Configuration written to ${this.o.startupConfigPath}` };
  }

  reload(): CliResult {
    (this.o.reload ?? (() => process.kill(process.pid, "SIGHUP")))();
    return { ok: true };
  }

  shutdown(): CliResult {
    (this.o.shutdown ?? (() => process.kill(process.pid, "SIGQUIT")))();
    return { ok: true };
  }
}
