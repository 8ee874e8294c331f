// The daemon's composition root: builds the running parts from the settings and owns their
// lifetime (start, reload, the two kinds of stop). Runs on the control thread.
import { hostname as osHostname } from "node:os";
import type { StartupSettings } from "@lnsd/config";
import { openUdpEndpoint, OutputGate, systemClock, type Clock, type UdpEndpoint } from "@lnsd/io";
import { L2tpNode, type L2tpConfig, type LogLevel } from "@lnsd/l2tp";
import type { PppServerConfig } from "@lnsd/ppp";
import type { AddressPool } from "./pool.js";
import type { DataPath } from "./data-path.js";
import { SessionManager, type Authenticator, type RestoreOutcome, type SessionEvents } from "./sessions.js";
import type { RestoredState, StateJournal } from "./state.js";
import type { RecordStore } from "./store.js";
import type { JournalRecords } from "@lnsd/journal";
import type { Level, Logger } from "./log.js";
import type { LoopWatch } from "./loop-watch.js";
import { ipv6PrefixBytes } from "./router-advert.js";

/** What the daemon takes from the startup-config (l2tpns names in comments). */
export interface DaemonSettings {
  /** hostname; -h overrides it; else the system's. */
  readonly hostname?: string;
  /** bind_address: where LACs send L2TP (UDP 1701). */
  readonly bindAddress: string;
  readonly l2tpPort: number;
  /** l2tp_secret. */
  readonly l2tpSecret?: string;
  /** l2tp_require_auth (lnsd extension). */
  readonly l2tpRequireAuth: boolean;
  /** disable_sending_hello. */
  readonly disableSendingHello: boolean;
  readonly maxTunnels: number;
  readonly maxSessions: number;
  readonly maxSessionsInSetup: number;
  /** PPP: ppp_restart_time, ppp_max_configure, ppp_max_failure, echo_timeout, idle_echo_timeout, ppp_keepalive, l2tp_mtu, radius_authtypes, DNS, our IPCP address. */
  readonly ppp: Partial<PppServerConfig>;
  /** allow_duplicate_users, guest_account. */
  readonly allowDuplicateUsers: boolean;
  readonly guestAccount?: string;
  /** ipv6_prefix: the first 64 bits of sessions' IPv6 addresses (8 bytes); unset ("::"): no IPv6. */
  readonly ipv6Prefix?: Uint8Array;
  /** throttle_speed: kbit/s each way for every session; 0: none. */
  readonly throttleSpeed: number;
}

/** What the daemon is given besides its settings: the address pool and how to check logins. */
export interface DaemonParts {
  readonly pool: AddressPool;
  readonly auth: Authenticator;
  /** The worker data plane: its control endpoint on port 1701 and the session table's side. */
  readonly dataPlane?: { readonly endpoint: UdpEndpoint; readonly path: DataPath };
  /** RADIUS accounting, when radius_accounting is set. */
  readonly events?: SessionEvents;
  /** L2TP datagrams and timers run under it (contained, timed); without it, bare. */
  readonly watch?: LoopWatch;
  /** In-process tests: a fake clock and an in-memory L2TP socket instead of the system's. */
  readonly clock?: Clock;
  readonly endpoint?: UdpEndpoint;
  /** The record store (issue 13): every change is committed before the output it causes leaves. */
  readonly store?: RecordStore;
  /** The state journal, a listener of the store. */
  readonly journal?: StateJournal;
  /** The output gate the store commits through (shared with the RADIUS client's sockets); made here when not given. */
  readonly gate?: OutputGate;
  /** What an earlier lnsd left (readState): resumed before the first datagram is read. */
  readonly restore?: RestoredState;
  /**
   * A cluster node that is not (yet) the master: the node and the session manager are built but
   * keep no records and resume nothing until resume() (the node becomes the master).
   */
  readonly standby?: boolean;
  /** Wraps the L2TP socket (under the output gate): the cluster passes a slave's datagrams to the master. */
  readonly wrapEndpoint?: (e: UdpEndpoint) => UdpEndpoint;
}

/** What resume() fills in as the node restores its tunnels. */
interface RestoreContext {
  restore: RestoredState | undefined;
  outcomes: Record<RestoreOutcome, number>;
  /** PPP of restored calls that was not online starts again once the journal has the state. */
  renegotiate: (() => void)[];
  /** Restored calls not online: their old subscriber records are not carried into the new journal. */
  notOnline: string[];
}

/** What start() resumed of an earlier lnsd's state. */
export interface RestoreSummary {
  readonly tunnels: number;
  readonly sessions: number;
  readonly outcomes: Readonly<Record<RestoreOutcome, number>>;
  /** Why nothing was resumed, when the state was refused whole. */
  readonly refused?: string;
}

/**
 * The records a restore was made from, as the new journal's snapshot: the same, but for the
 * subscriber records of calls that did not come back online (their PPP starts again).
 */
function carried(records: JournalRecords, notOnline: readonly string[]): JournalRecords {
  if (notOnline.length === 0) return records;
  const subscribers = new Map(records.get("subscriber") ?? []);
  for (const id of notOnline) subscribers.delete(id);
  return new Map([...records, ["subscriber", subscribers]]);
}

/** RFC 2661 8.1: L2TP's UDP port. */
export const L2TP_PORT = 1701;

/** The daemon's settings from a parsed startup-config; -h overrides `hostname`. */
export function daemonSettingsFrom(s: StartupSettings, hostnameOverride?: string): DaemonSettings {
  const hostname = hostnameOverride ?? (s.hostname === "" ? undefined : s.hostname);
  return {
    ...(hostname === undefined ? {} : { hostname }),
    bindAddress: s.bind_address,
    l2tpPort: L2TP_PORT,
    ...(s.l2tp_secret === "" ? {} : { l2tpSecret: s.l2tp_secret }),
    l2tpRequireAuth: s.l2tp_require_auth,
    disableSendingHello: s.disable_sending_hello,
    maxTunnels: s.max_tunnels,
    maxSessions: s.max_sessions,
    maxSessionsInSetup: s.max_sessions_in_setup,
    ppp: pppConfigFrom(s, hostname),
    allowDuplicateUsers: s.allow_duplicate_users,
    ...(s.guest_account === "" ? {} : { guestAccount: s.guest_account }),
    ...ipv6PrefixSetting(s.ipv6_prefix),
    throttleSpeed: s.throttle_speed,
  };
}

function ipv6PrefixSetting(prefix: string): { ipv6Prefix?: Uint8Array } {
  const bytes = ipv6PrefixBytes(prefix);
  return bytes === undefined ? {} : { ipv6Prefix: bytes };
}

const NONE = "0.0.0.0";

/** The PPP settings, from seconds (startup-config) to milliseconds. */
export function pppConfigFrom(s: StartupSettings, hostname?: string): Partial<PppServerConfig> {
  // IPCP: l2tpns offers its own address (peer_address, else the tunnel's address).
  // A loopback bind_address (a lab or the demo) is no address to give a subscriber's PPP peer.
  const usable = (a: string): boolean => a !== NONE && !a.startsWith("127.");
  const local = usable(s.peer_address) ? s.peer_address : usable(s.iftun_address) ? s.iftun_address : usable(s.bind_address) ? s.bind_address : NONE;
  return {
    restartTimeMs: s.ppp_restart_time * 1000,
    maxConfigure: s.ppp_max_configure,
    maxFailure: s.ppp_max_failure,
    echoIntervalMs: s.echo_timeout * 1000,
    idleEchoTimeoutMs: s.idle_echo_timeout * 1000,
    echoOnlyWhenIdle: s.ppp_keepalive,
    l2tpMtu: s.l2tp_mtu,
    authProtocols: s.radius_authtypes,
    hostName: hostname ?? osHostname(),
    ...(local === NONE ? {} : { localAddress: local }),
    // IPV6CP runs when an IPv6 prefix is configured (l2tpns: ipv6_prefix).
    ipv6: s.ipv6_prefix !== "::",
    ...(s.primary_dns === NONE ? {} : { primaryDns: s.primary_dns }),
    ...(s.secondary_dns === NONE ? {} : { secondaryDns: s.secondary_dns }),
  };
}

const LOG_LEVEL: Readonly<Record<LogLevel, Level>> = { error: "error", warn: "warn", info: "info", debug: "debug" };

export function l2tpConfigFrom(s: DaemonSettings): Partial<L2tpConfig> {
  const host = s.hostname ?? osHostname();
  return {
    hostName: host,
    vendorName: "lnsd",
    ...(s.l2tpSecret === undefined || s.l2tpSecret === "" ? {} : { secret: s.l2tpSecret }),
    requireTunnelAuth: s.l2tpRequireAuth,
    disableSendingHello: s.disableSendingHello,
    maxTunnels: s.maxTunnels,
    maxSessions: s.maxSessions,
    maxSessionsInSetup: s.maxSessionsInSetup,
  };
}

export class Daemon {
  private constructor(
    readonly l2tp: L2tpNode,
    readonly sessions: SessionManager,
    private readonly logger: Logger,
    /** The record store, when the state is kept (state_directory). */
    readonly store: RecordStore | undefined,
    private readonly journal: StateJournal | undefined,
    private readonly gate: OutputGate | undefined,
    private readonly ctx: RestoreContext,
  ) {}

  private summary: RestoreSummary | undefined;
  private resumed = false;

  /** What resume() resumed (undefined: there was nothing to resume). */
  get restored(): RestoreSummary | undefined {
    return this.summary;
  }

  static async start(settings: DaemonSettings, logger: Logger, parts: DaemonParts): Promise<Daemon> {
    const socket = parts.dataPlane?.endpoint ?? parts.endpoint ?? (await openUdpEndpoint(settings.bindAddress, settings.l2tpPort));
    // The output commit: what changed is in the journal before the datagram it caused leaves.
    const store = parts.store;
    const gate = store === undefined ? undefined : (parts.gate ?? new OutputGate(() => {
      store.commit();
      return undefined;
    }));
    const wrapped = parts.wrapEndpoint?.(socket) ?? socket;
    const bare = gate === undefined ? wrapped : gate.endpoint(wrapped);
    const endpoint = parts.watch?.endpoint(bare) ?? bare;
    const ctx: RestoreContext = { restore: undefined, outcomes: { online: 0, renegotiating: 0, waiting: 0 }, renegotiate: [], notOnline: [] };
    const bareClock = parts.clock ?? systemClock;
    const clock = parts.watch?.clock(bareClock) ?? bareClock;
    // The session manager needs the node and the node's events need the manager: tie the knot
    // through `ref`, set before any datagram can arrive.
    const ref: { sessions?: SessionManager } = {};
    const node = new L2tpNode(endpoint, {
      clock,
      config: l2tpConfigFrom(settings),
      events: {
        data: (t, s, packet, header) => { ref.sessions?.data(t, s, packet, header); },
        recordChanged: (t, s) => {
          if (s === undefined) store?.tunnel(t);
          else store?.session(t, s);
        },
        tunnelRestored: (t) => {
          for (const s of t.sessions.values()) {
            const record = ctx.restore?.subscribers.get(`${String(t.localId)}/${String(s.localId)}`);
            const outcome = ref.sessions?.restore(t, s, record);
            if (outcome === undefined) continue;
            ctx.outcomes[outcome]++;
            if (outcome === "renegotiating") ctx.renegotiate.push(() => { ref.sessions?.restart(t, s, record); });
            if (outcome !== "online") ctx.notOnline.push(`${String(t.localId)}/${String(s.localId)}`);
          }
        },
        log: (level, reason, message) => { logger.log(LOG_LEVEL[level], reason, message); },
        tunnelUp: (t) => { logger.log("info", "tunnel-up", `tunnel ${t.localId} up: ${t.peer.hostName ?? "?"} at ${t.address.address}:${t.address.port}, peer id ${t.peerId}`); },
        tunnelClosing: (t) => {
          const e = t.end;
          logger.log("info", "tunnel-closing", `tunnel ${t.localId} closing (StopCCN ${e?.by === "peer" ? "from the LAC" : "sent"}): ${e?.message ?? `result ${e?.resultCode ?? 0}`}`);
        },
        tunnelDown: (t) => { logger.log("debug", "tunnel-down", `tunnel ${t.localId} freed`); },
        sessionUp: (t, s) => {
          logger.log("debug", "session-up", `session ${t.localId}/${s.localId} established (calling ${s.call.callingNumber ?? "-"})`);
          ref.sessions?.sessionUp(t, s);
        },
        sessionDown: (t, s) => {
          logger.log("debug", "session-down", `session ${t.localId}/${s.localId} closed: ${s.end?.message ?? `result ${s.end?.resultCode ?? 0}`}`);
          ref.sessions?.sessionDown(t, s);
        },
      },
    });
    const sessions = new SessionManager({ node, clock, logger, pool: parts.pool, auth: parts.auth, ppp: settings.ppp, allowDuplicateUsers: settings.allowDuplicateUsers, ...(settings.guestAccount === undefined ? {} : { guestAccount: settings.guestAccount }), ...(settings.ipv6Prefix === undefined ? {} : { ipv6Prefix: settings.ipv6Prefix }), throttleSpeed: settings.throttleSpeed, ...(parts.dataPlane === undefined ? {} : { dataPath: parts.dataPlane.path }), ...(parts.events === undefined ? {} : { events: parts.events }), ...(store === undefined ? {} : { recordChanged: (sub) => { store.subscriber(sub); } }) });
    ref.sessions = sessions;
    const daemon = new Daemon(node, sessions, logger, store, parts.journal, gate, ctx);
    if (parts.standby !== true) daemon.resume(parts.restore);
    logger.log("info", "start", `lnsd listening for L2TP on ${endpoint.local.address}:${endpoint.local.port}`);
    return daemon;
  }

  /**
   * The state this lnsd carries on from (a restart's journal, a cluster slave's replica as it
   * takes over; none: it starts empty), then the records are kept from here on. Once.
   */
  resume(restore: RestoredState | undefined): RestoreSummary | undefined {
    if (this.resumed) return this.summary;
    this.resumed = true;
    const ctx = this.ctx;
    ctx.restore = restore;
    let summary: RestoreSummary | undefined;
    if (restore !== undefined) {
      // Before the first datagram: the node takes the tunnels, the session manager their subscribers.
      const r = this.l2tp.restore(restore.l2tp);
      summary = r.ok ? { tunnels: r.tunnels, sessions: r.sessions, outcomes: ctx.outcomes } : { tunnels: 0, sessions: 0, outcomes: ctx.outcomes, refused: r.error };
    }
    const store = this.store;
    store?.attach(this.l2tp, this.sessions, summary?.refused === undefined ? (restore?.version ?? 0) : 0);
    if (store !== undefined) this.journal?.attach(store, summary !== undefined && summary.refused === undefined && restore !== undefined ? carried(restore.records, ctx.notOnline) : undefined);
    for (const again of ctx.renegotiate) again();
    ctx.renegotiate = [];
    ctx.restore = undefined;
    this.summary = summary;
    return summary;
  }

  /**
   * SIGHUP with a config that parsed: the L2TP settings change in place. A new bind_address needs
   * a restart (the socket stays where it is); that is logged, not done.
   */
  reload(settings: DaemonSettings, previous: DaemonSettings): void {
    this.l2tp.reconfigure(l2tpConfigFrom(settings));
    this.sessions.reconfigure({ ppp: settings.ppp, allowDuplicateUsers: settings.allowDuplicateUsers, ...(settings.guestAccount === undefined ? {} : { guestAccount: settings.guestAccount }), throttleSpeed: settings.throttleSpeed });
    if (settings.bindAddress !== previous.bindAddress) {
      this.logger.log("warn", "reload", `bind_address changed to ${settings.bindAddress}: lnsd keeps ${previous.bindAddress} until restarted`);
    }
  }

  /** What this turn sent is committed and let go (a cluster master about to hand over). */
  flushOutput(): void {
    this.gate?.flush();
  }

  /** SIGTERM / SIGINT: stop without tearing sessions down, so that a cluster peer can carry on. */
  stopKeepingSessions(): void {
    this.logger.log("info", "stop", `stopping; ${this.l2tp.tunnels.size} tunnels and ${this.l2tp.sessionCount} sessions kept${this.journal === undefined ? "" : ` in ${this.journal.dir} for the next start`}`);
    this.sessions.syncCounters();
    // What this turn sent leaves first (after its commit), then the last snapshot.
    this.gate?.flush();
    this.journal?.close();
    this.store?.close();
    this.l2tp.endpoint.close();
  }

  /**
   * SIGQUIT: StopCCN every tunnel (its sessions go with it), wait until each StopCCN is
   * acknowledged or the wait runs out, then close.
   */
  async stopTearingDown(maxWaitMs = 10_000): Promise<void> {
    const open = [...this.l2tp.tunnels.values()].filter((t) => t.state !== "closing" && t.state !== "closed").length;
    this.logger.log("info", "stop", `shutting down ${open} tunnels and ${this.l2tp.sessionCount} sessions`);
    this.l2tp.shutdown();
    const deadline = Date.now() + maxWaitMs;
    while (Date.now() < deadline && ![...this.l2tp.tunnels.values()].every((t) => t.state === "closed" || t.transport.idle)) {
      await new Promise((r) => setTimeout(r, 50));
    }
    this.journal?.discard();
    this.store?.close();
    this.l2tp.endpoint.close();
  }
}
