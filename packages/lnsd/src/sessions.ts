// Subscriber sessions: the PPP layer on top of each established L2TP session, authentication
// (local chap-secrets or RADIUS), address assignment from the pool, Session-Timeout and
// Idle-Timeout, and the end of a session in both layers (CDN with the RFC 3145 PPP cause).
// Control thread.
import { randomBytes } from "node:crypto";
import { CdnResultCode, encodePppFrame, formatIpv4, L2tpErrorCode, parseIpv4, type L2tpDataHeader } from "@lnsd/wire";
import { epochMsOf, type Clock, type TimerHandle } from "@lnsd/io";
import type { L2tpNode, Session, Tunnel } from "@lnsd/l2tp";
import { PppServerSession, type PppLinkRecord, type PppServerOptions, type NcpChange, type AuthRequest, type AuthResult, type DisconnectCause, type DisconnectReason, type PppServerConfig, type PppServerUpInfo } from "@lnsd/ppp";
import type { DataPath } from "./data-path.js";
import type { Logger } from "./log.js";
import type { AddressPool } from "./pool.js";
import { buildRouterAdvertisement, interfaceIdFor, isRouterSolicitation } from "./router-advert.js";

/** What the call and the session tell an authenticator (RADIUS sends them; chap-secrets ignores them). */
export interface AuthContext {
  /** From the L2TP call (RFC 2661 4.4.5). */
  readonly callingNumber?: string;
  readonly calledNumber?: string;
  readonly txConnectSpeed?: number;
  readonly rxConnectSpeed?: number;
  /** NAS-Port: a number this session alone holds while it lasts. */
  readonly nasPort: number;
  /** Acct-Session-Id: unique per session. */
  readonly acctSessionId: string;
}

/** What an Access-Accept says about the session besides its address (RFC 2865 5, RFC 2869 5.16). */
export interface SessionPolicy {
  /** Every Class, echoed in accounting (RFC 2865 5.25). */
  readonly classes: readonly Uint8Array[];
  readonly sessionTimeoutSec?: number;
  readonly idleTimeoutSec?: number;
  readonly acctInterimIntervalSec?: number;
  /** Kept for the policy work (filters, throttling) that will act on them. */
  readonly filterIds: readonly string[];
  readonly ciscoAvPairs: readonly string[];
}

export const NO_POLICY: SessionPolicy = { classes: [], filterIds: [], ciscoAvPairs: [] };

export type AuthAnswer =
  | { ok: true; address?: number; primaryDns?: string; secondaryDns?: string; policy?: SessionPolicy }
  | { ok: false; message: string; error?: boolean };

/** Checks credentials; the answer may carry an address the user must get (Framed-IP-Address). */
export interface Authenticator {
  authenticate(req: AuthRequest, ctx: AuthContext): Promise<AuthAnswer>;
}

/** Told when a session comes online (IPCP opened) and when such a session ends: accounting. */
export interface SessionEvents {
  online(sub: Subscriber): void;
  offline(sub: Subscriber, cause: DisconnectCause): void;
  /** A session that was online before lnsd restarted is online again (no new Start). */
  restored?(sub: Subscriber): void;
}

/**
 * The plugin hooks around a session's life (plugins.ts adapts the plugin host to this), so that
 * the session manager does not know the host.
 */
export interface SessionPlugins {
  /** pre_auth: the request as the plugins left it (stripdomain renames the user), or a refusal. */
  preAuth(sub: Subscriber, req: AuthRequest): Promise<{ readonly ok: true; readonly req: AuthRequest } | { readonly ok: false; readonly message: string }>;
  /** post_auth, then radius_response for each Cisco-AVPair: the answer as the plugins left it. */
  postAuth(sub: Subscriber, req: AuthRequest, answer: AuthAnswer): Promise<AuthAnswer>;
  /** new_session: PPP is up. */
  newSession(sub: Subscriber): void;
  /** kill_session: a session that was up is ending. */
  killSession(sub: Subscriber): void;
  /** A CoA-Request (RFC 5176) for the session: radius_reset, then radius_response for each Cisco-AVPair it carries. */
  coa?(sub: Subscriber, ciscoAvPairs: readonly string[]): void;
}

export interface Subscriber {
  readonly tunnel: Tunnel;
  readonly l2tp: Session;
  readonly ppp: PppServerSession;
  username?: string;
  /** IPv4 address, as a number, once assigned. */
  address?: number;
  up?: PppServerUpInfo;
  /** Why the session cannot go on when PPP ends (the L2TP CDN to send). */
  refusal?: { readonly resultCode: number; readonly errorCode?: number; readonly message: string };
  readonly startedAt: number;
  readonly nasPort: number;
  readonly acctSessionId: string;
  /** From the Access-Accept; a CoA-Request may change it. */
  policy: SessionPolicy;
  /** When PPP reached the network phase (clock ms). */
  upAt?: number;
  rxPackets: number;
  txPackets: number;
  rxOctets: number;
  txOctets: number;
  /** Throttling in kbit/s each way (up: from the subscriber, l2tpns's "in"); unset: none. */
  throttle?: { readonly up: number; readonly down: number };
  /** Interception: copies of every packet to this IPv4 address (as a number) and UDP port. */
  snoop?: { readonly address: number; readonly port: number };
  /** Access lists by name: "in" for traffic from the subscriber, "out" for traffic to it. */
  filterIn?: string;
  filterOut?: string;
  /** Walled garden (the garden plugin): traffic only where the garden's list permits. */
  garden?: boolean;
}

/** What the CLI, nsctl, plugins and CoA may change of a session's treatment in the data plane. */
export interface PolicyChange {
  readonly throttle?: { readonly up: number; readonly down: number } | null;
  readonly snoop?: { readonly address: number; readonly port: number } | null;
  readonly filterIn?: string | null;
  readonly filterOut?: string | null;
  readonly garden?: boolean;
}

/**
 * RADIUS Filter-Id (RFC 2865 5.11) as l2tpns reads it: "NAME.in" filters traffic from the
 * subscriber, "NAME.out" traffic to it; a value with neither suffix names the "in" list.
 */
export function filtersFromFilterIds(ids: readonly string[]): { filterIn?: string; filterOut?: string } {
  const out: { filterIn?: string; filterOut?: string } = {};
  for (const id of ids) {
    if (id.endsWith(".out")) out.filterOut = id.slice(0, -4);
    else out.filterIn = id.endsWith(".in") ? id.slice(0, -3) : id;
  }
  return out;
}

export interface SessionManagerOptions {
  readonly node: L2tpNode;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly pool: AddressPool;
  readonly auth: Authenticator;
  readonly ppp: Partial<PppServerConfig>;
  /** The worker data plane, when there is a TUN device: online sessions' traffic goes there. */
  readonly dataPath?: DataPath;
  readonly events?: SessionEvents;
  readonly random?: (n: number) => Uint8Array;
  /** Wall-clock ms, for Acct-Session-Id. */
  readonly wallClockMs?: () => number;
  /** allow_duplicate_users: a user may have several sessions; else a new login ends the older one. */
  readonly allowDuplicateUsers?: boolean;
  /** guest_account: a username that may always have several sessions. */
  readonly guestAccount?: string;
  /** throttle_speed: every session is throttled to this many kbit/s each way (0: not). */
  readonly throttleSpeed?: number;
  /** ipv6_prefix (8 bytes): sessions' IPv6 addresses are this, their IPv4 address, then zeros. */
  readonly ipv6Prefix?: Uint8Array;
  /** The plugins' hooks (issue 7); usePlugins() sets them on a running manager. */
  readonly plugins?: SessionPlugins;
  /** A subscriber's record changed (the journal): read it with record(); one not current() is gone. */
  readonly recordChanged?: (sub: Subscriber) => void;
}

/** The version of SubscriberRecord's layout; a record of another version is not restored. */
export const SUBSCRIBER_RECORD_VERSION = 1;

/**
 * A subscriber session beside its L2TP session, as plain data (issue 13): ids, user, address,
 * RADIUS policy, data-plane policy, counters and, once online, the PPP link's record. Times are
 * wall-clock epoch ms; byte strings hex.
 */
export interface SubscriberRecord {
  readonly version: number;
  readonly tunnelId: number;
  readonly sessionId: number;
  readonly username?: string;
  readonly address?: number;
  readonly nasPort: number;
  readonly acctSessionId: string;
  readonly startedAt: number;
  readonly upAt?: number;
  readonly policy: {
    readonly classesHex: readonly string[];
    readonly sessionTimeoutSec?: number;
    readonly idleTimeoutSec?: number;
    readonly acctInterimIntervalSec?: number;
    readonly filterIds: readonly string[];
    readonly ciscoAvPairs: readonly string[];
  };
  readonly counters: { readonly rxPackets: number; readonly txPackets: number; readonly rxOctets: number; readonly txOctets: number };
  readonly throttle?: { readonly up: number; readonly down: number };
  readonly snoop?: { readonly address: number; readonly port: number };
  readonly filterIn?: string;
  readonly filterOut?: string;
  readonly garden?: boolean;
  /** The PPP link once online (LCP, authentication, IPCP and IPV6CP negotiated). */
  readonly ppp?: PppLinkRecord;
}

/** How a session came back from its records (restore()). */
export type RestoreOutcome = "online" | "renegotiating" | "waiting";

/** The settings a reload changes in place (ppp_*, echo_timeout, radius_authtypes, DNS, allow_duplicate_users, guest_account). */
export interface SessionReloadable {
  readonly ppp: SessionManagerOptions["ppp"];
  readonly allowDuplicateUsers: boolean;
  readonly guestAccount?: string;
}

const PPP_IPV6 = 0x0057;
/** When the second and third unsolicited Router Advertisements follow the first. */
const INITIAL_ADVERTISEMENTS_MS = [1000, 4000];

/** Timers of one session: Session-Timeout and the Idle-Timeout check. */
interface SessionTimers {
  session: TimerHandle | undefined;
  idle: TimerHandle | undefined;
  /** rxPackets when the idle check last saw traffic, and when. */
  idleSeenPackets: number;
  idleSeenAt: number;
}

/** NAS-Port values are 32 bits (RFC 2865 5.5); kept below 2^31 for peers that read them signed. */
const MAX_NAS_PORT = 0x7fff_ffff;


export class SessionManager {
  /** By the L2TP session object. */
  private readonly subscribers = new Map<Session, Subscriber>();
  /** Downstream lookup: IPv4 address to its session (the newest one wins, as in l2tpns). */
  private readonly byAddress = new Map<number, Subscriber>();
  /** Sessions by username that passed authentication (allow_duplicate_users). */
  private readonly byUser = new Map<string, Set<Subscriber>>();
  private readonly random: (n: number) => Uint8Array;
  private readonly timers = new Map<Subscriber, SessionTimers>();
  private readonly nasPorts = new Set<number>();
  /** Network-layer frames that reached the control thread and were dropped (see upstream()). */
  controlPathDrops = 0;
  private nextNasPort = 1;
  private acctSerial = 0;
  /** Acct-Session-Id prefix: the start time, so that ids differ across restarts. */
  private readonly acctPrefix: string;
  /** Wall-clock epoch ms for records (a fake clock is its own wall clock, as in L2tpNode). */
  private readonly epochMs: () => number;
  private plugins: SessionPlugins | undefined;
  /** throttle_speed, for sessions that come up from now on (a reload changes it; l2tpns: the same). */
  throttleSpeed: number;
  /** What a reload may change, for sessions and logins from then on. */
  private reloadable: SessionReloadable;

  constructor(private readonly o: SessionManagerOptions) {
    this.plugins = o.plugins;
    this.throttleSpeed = o.throttleSpeed ?? 0;
    this.reloadable = { ppp: o.ppp, allowDuplicateUsers: o.allowDuplicateUsers ?? false, ...(o.guestAccount === undefined ? {} : { guestAccount: o.guestAccount }) };
    this.random = o.random ?? randomBytes;
    this.acctPrefix = Math.floor((o.wallClockMs ?? Date.now)() / 1000).toString(16).padStart(8, "0").toUpperCase();
    this.epochMs = o.wallClockMs ?? epochMsOf(o.clock);
  }

  get count(): number {
    return this.subscribers.size;
  }

  /** SIGHUP: the PPP settings and the duplicate-login rule apply to sessions and logins from now on. */
  reconfigure(r: SessionReloadable & { readonly throttleSpeed: number }): void {
    this.reloadable = { ppp: r.ppp, allowDuplicateUsers: r.allowDuplicateUsers, ...(r.guestAccount === undefined ? {} : { guestAccount: r.guestAccount }) };
    this.throttleSpeed = r.throttleSpeed;
  }

  /** The plugin host comes after the manager (it needs the manager to find sessions). */
  usePlugins(plugins: SessionPlugins | undefined): void {
    this.plugins = plugins;
  }

  /** Sessions whose PPP reached the network phase with an address. */
  get online(): number {
    return this.byAddress.size;
  }

  /** The subscriber of an L2TP session, if it has one. */
  of(l2tp: Session): Subscriber | undefined {
    return this.subscribers.get(l2tp);
  }

  all(): IterableIterator<Subscriber> {
    return this.subscribers.values();
  }

  /**
   * The L2TP session is established: start PPP over it (RFC 2661: the call now carries frames).
   * `kept`: the ids of a session restored after a restart whose PPP starts again.
   */
  sessionUp(tunnel: Tunnel, l2tp: Session, kept?: { readonly nasPort: number; readonly acctSessionId: string }): void {
    // The PPP callbacks run only after start(), by which time `ref.sub` is set.
    const ref: { sub?: Subscriber } = {};
    const ppp = new PppServerSession(this.pppOptions(tunnel, l2tp, ref));
    const sub: Subscriber = {
      tunnel,
      l2tp,
      ppp,
      startedAt: this.o.clock.now(),
      nasPort: kept !== undefined && this.claimNasPort(kept.nasPort) ? kept.nasPort : this.allocateNasPort(),
      acctSessionId: kept?.acctSessionId ?? this.newAcctSessionId(),
      policy: NO_POLICY,
      rxPackets: 0,
      txPackets: 0,
      rxOctets: 0,
      txOctets: 0,
    };
    ref.sub = sub;
    this.subscribers.set(l2tp, sub);
    this.changed(sub);
    ppp.start();
  }

  private pppOptions(tunnel: Tunnel, l2tp: Session, ref: { sub?: Subscriber }): PppServerOptions {
    return {
      clock: this.o.clock,
      random: this.random,
      config: this.reloadable.ppp,
      ...(l2tp.call.proxy === undefined ? {} : { proxy: l2tp.call.proxy }),
      send: (frame) => { if (ref.sub !== undefined) this.sendFrame(ref.sub, frame); },
      authenticate: (req) => (ref.sub === undefined ? Promise.resolve({ ok: false, error: true }) : this.authenticate(ref.sub, req)),
      log: (level, reason, message) => { this.o.logger.log(level, `ppp-${reason}`, `session ${tunnel.localId}/${l2tp.localId}: ${message}`); },
      events: {
        up: (info) => { if (ref.sub !== undefined) this.pppUp(ref.sub, info); },
        down: (cause) => { if (ref.sub !== undefined) this.pppDown(ref.sub, cause); },
        ncp: (change) => { if (ref.sub !== undefined) this.ncpChange(ref.sub, change); },
        data: (protocol, payload) => { if (ref.sub !== undefined) this.upstream(ref.sub, protocol, payload); },
      },
    };
  }

  /**
   * Brings every online session's counters up to date from the data plane (SIGTERM: the journal's
   * last snapshot then has them all).
   */
  syncCounters(): void {
    const path = this.o.dataPath;
    if (path === undefined) return;
    for (const sub of this.byAddress.values()) path.sync(sub);
  }

  /** Whether `sub` is the live session of its L2TP session (else its record is gone). */
  current(sub: Subscriber): boolean {
    return this.subscribers.get(sub.l2tp) === sub;
  }

  /** The subscriber as a record (issue 13); the PPP link's once online. */
  record(sub: Subscriber): SubscriberRecord {
    const offset = this.epochMs() - this.o.clock.now();
    const p = sub.policy;
    const ppp = sub.upAt === undefined ? undefined : sub.ppp.snapshot();
    return {
      version: SUBSCRIBER_RECORD_VERSION,
      tunnelId: sub.tunnel.localId,
      sessionId: sub.l2tp.localId,
      ...(sub.username === undefined ? {} : { username: sub.username }),
      ...(sub.address === undefined ? {} : { address: sub.address }),
      nasPort: sub.nasPort,
      acctSessionId: sub.acctSessionId,
      startedAt: sub.startedAt + offset,
      ...(sub.upAt === undefined ? {} : { upAt: sub.upAt + offset }),
      policy: {
        classesHex: p.classes.map((c) => Buffer.from(c).toString("hex")),
        ...(p.sessionTimeoutSec === undefined ? {} : { sessionTimeoutSec: p.sessionTimeoutSec }),
        ...(p.idleTimeoutSec === undefined ? {} : { idleTimeoutSec: p.idleTimeoutSec }),
        ...(p.acctInterimIntervalSec === undefined ? {} : { acctInterimIntervalSec: p.acctInterimIntervalSec }),
        filterIds: [...p.filterIds],
        ciscoAvPairs: [...p.ciscoAvPairs],
      },
      counters: { rxPackets: sub.rxPackets, txPackets: sub.txPackets, rxOctets: sub.rxOctets, txOctets: sub.txOctets },
      ...(sub.throttle === undefined ? {} : { throttle: { ...sub.throttle } }),
      ...(sub.snoop === undefined ? {} : { snoop: { ...sub.snoop } }),
      ...(sub.filterIn === undefined ? {} : { filterIn: sub.filterIn }),
      ...(sub.filterOut === undefined ? {} : { filterOut: sub.filterOut }),
      ...(sub.garden === undefined ? {} : { garden: sub.garden }),
      ...(ppp === undefined ? {} : { ppp }),
    };
  }

  /**
   * An L2TP session rebuilt from the journal after a restart (before any datagram is read; nothing
   * is sent). An online subscriber comes back as it was: its PPP link Opened (echo goes on), its
   * address, ids, policy and counters, its timers from their recorded deadlines, the data plane's
   * table entry, accounting without a new Start. One whose PPP was still negotiating (no record:
   * subscribers are recorded once online) or whose record cannot be used is "renegotiating":
   * restart() starts PPP again on the same call (RFC 1661 4.1: a Configure-Request restarts the
   * peer's negotiation), with the record's NAS-Port and Acct-Session-Id when there is one. A call
   * not yet established waits for its ICCN as any other.
   */
  restore(tunnel: Tunnel, l2tp: Session, r: SubscriberRecord | undefined): RestoreOutcome {
    if (l2tp.state !== "established") return "waiting";
    const kept = r === undefined || r.version !== SUBSCRIBER_RECORD_VERSION ? undefined : r;
    const online = kept === undefined ? undefined : this.restoreOnline(tunnel, l2tp, kept);
    return online === undefined ? "renegotiating" : "online";
  }

  /**
   * A restored call whose PPP was not online ("renegotiating"): PPP starts again, with the ids its
   * record kept. Called once the journal has the restored state (it sends).
   */
  restart(tunnel: Tunnel, l2tp: Session, r: SubscriberRecord | undefined): void {
    if (l2tp.state !== "established" || this.subscribers.has(l2tp)) return;
    this.sessionUp(tunnel, l2tp, r?.version === SUBSCRIBER_RECORD_VERSION ? r : undefined);
  }

  private restoreOnline(tunnel: Tunnel, l2tp: Session, r: SubscriberRecord): Subscriber | undefined {
    if (r.ppp === undefined || r.upAt === undefined || r.username === undefined || r.address === undefined) return undefined;
    const ref: { sub?: Subscriber } = {};
    const restored = PppServerSession.fromRecord(this.pppOptions(tunnel, l2tp, ref), r.ppp);
    const where = `session ${tunnel.localId}/${l2tp.localId}`;
    if (!restored.ok) {
      this.o.logger.log("warn", "restore-ppp", `${where}: PPP starts again: ${restored.error}`);
      return undefined;
    }
    // The address is taken back from the pool (Framed-IP-Address outside it is tracked as such).
    const a = this.o.pool.allocate(r.username, r.address, { remember: r.garden !== true });
    if (!a.ok) {
      restored.session.stop("lost-carrier", "restore refused");
      this.o.logger.log("warn", "restore-address", `${where}: PPP starts again: address ${formatIpv4(r.address)} is not free`);
      return undefined;
    }
    const offset = this.epochMs() - this.o.clock.now();
    const p = r.policy;
    const sub: Subscriber = {
      tunnel,
      l2tp,
      ppp: restored.session,
      username: r.username,
      address: r.address,
      startedAt: r.startedAt - offset,
      upAt: r.upAt - offset,
      nasPort: this.claimNasPort(r.nasPort) ? r.nasPort : this.allocateNasPort(),
      acctSessionId: r.acctSessionId,
      policy: {
        classes: p.classesHex.map((h) => Uint8Array.from(Buffer.from(h, "hex"))),
        ...(p.sessionTimeoutSec === undefined ? {} : { sessionTimeoutSec: p.sessionTimeoutSec }),
        ...(p.idleTimeoutSec === undefined ? {} : { idleTimeoutSec: p.idleTimeoutSec }),
        ...(p.acctInterimIntervalSec === undefined ? {} : { acctInterimIntervalSec: p.acctInterimIntervalSec }),
        filterIds: [...p.filterIds],
        ciscoAvPairs: [...p.ciscoAvPairs],
      },
      ...r.counters,
      ...(r.throttle === undefined ? {} : { throttle: { ...r.throttle } }),
      ...(r.snoop === undefined ? {} : { snoop: { ...r.snoop } }),
      ...(r.filterIn === undefined ? {} : { filterIn: r.filterIn }),
      ...(r.filterOut === undefined ? {} : { filterOut: r.filterOut }),
      ...(r.garden === undefined ? {} : { garden: r.garden }),
    };
    sub.up = restored.session.info();
    ref.sub = sub;
    this.subscribers.set(l2tp, sub);
    this.byAddress.set(r.address, sub);
    let mine = this.byUser.get(r.username);
    if (mine === undefined) {
      mine = new Set();
      this.byUser.set(r.username, mine);
    }
    mine.add(sub);
    this.armSessionTimeout(sub);
    this.armIdleTimeout(sub);
    this.o.dataPath?.online(sub);
    this.o.events?.restored?.(sub);
    this.changed(sub);
    return sub;
  }

  /** An L2TP data message for a session: its PPP frame goes to the PPP layer. */
  data(_tunnel: Tunnel, l2tp: Session, packet: Buffer, header: L2tpDataHeader): void {
    const sub = this.subscribers.get(l2tp);
    if (sub === undefined) return;
    sub.ppp.receive(packet.subarray(header.payloadOffset, header.payloadOffset + header.payloadLength));
  }

  /** The L2TP session ended (CDN, StopCCN, timeout): PPP goes with it. */
  sessionDown(_tunnel: Tunnel, l2tp: Session): void {
    const sub = this.subscribers.get(l2tp);
    if (sub === undefined) return;
    // RFC 2866 5.10: the LAC's side went (CDN, StopCCN, tunnel lost) is Lost-Carrier; our own
    // StopCCN (shutdown, drop tunnel) is NAS-Request.
    sub.ppp.stop(l2tp.end?.by === "local" ? "nas-request" : "lost-carrier");
    this.forget(sub);
  }

  /**
   * Ends a subscriber's session from our side (drop session, DAE, timeouts); the reason gives the
   * RFC 3145 cause of the CDN and the Acct-Terminate-Cause.
   */
  drop(sub: Subscriber, message: string, reason: DisconnectReason = "admin-reset"): void {
    sub.ppp.close(reason, message);
  }

  /** CoA (RFC 5176) or a plugin changes the session's policy; the timers follow. */
  updatePolicy(sub: Subscriber, changes: Partial<SessionPolicy>): void {
    sub.policy = { ...sub.policy, ...changes };
    this.changed(sub);
    if (sub.upAt === undefined || this.subscribers.get(sub.l2tp) !== sub) return;
    if ("sessionTimeoutSec" in changes) this.armSessionTimeout(sub);
    if ("idleTimeoutSec" in changes) this.armIdleTimeout(sub);
    // RFC 5176 CoA with Filter-Id: the session's access lists follow.
    if (changes.filterIds !== undefined) {
      const f = filtersFromFilterIds(changes.filterIds);
      this.setPolicy(sub, { filterIn: f.filterIn ?? null, filterOut: f.filterOut ?? null });
    }
    // Cisco-AVPairs (throttle=, intercept=) are the plugins' to act on, as at login (l2tpns).
    if (changes.ciscoAvPairs !== undefined) this.plugins?.coa?.(sub, changes.ciscoAvPairs);
  }

  /** Throttling, interception, filters, garden: recorded on the session and applied by the data plane at once. */
  setPolicy(sub: Subscriber, change: PolicyChange): void {
    // undefined: unchanged; null: removed.
    if (change.throttle === null) delete sub.throttle;
    else if (change.throttle !== undefined) sub.throttle = change.throttle;
    if (change.snoop === null) delete sub.snoop;
    else if (change.snoop !== undefined) sub.snoop = change.snoop;
    if (change.filterIn === null) delete sub.filterIn;
    else if (change.filterIn !== undefined) sub.filterIn = change.filterIn;
    if (change.filterOut === null) delete sub.filterOut;
    else if (change.filterOut !== undefined) sub.filterOut = change.filterOut;
    if (change.garden !== undefined) sub.garden = change.garden;
    this.changed(sub);
    this.o.dataPath?.setPolicy(sub);
  }

  /** The session is known by another user name (the garden plugin's ungarden SID USER). */
  rename(sub: Subscriber, username: string): void {
    if (sub.username !== undefined) {
      const mine = this.byUser.get(sub.username);
      mine?.delete(sub);
      if (mine?.size === 0) this.byUser.delete(sub.username);
    }
    sub.username = username;
    let mine = this.byUser.get(username);
    if (mine === undefined) {
      mine = new Set();
      this.byUser.set(username, mine);
    }
    mine.add(sub);
    this.changed(sub);
  }

  /** Sessions of a user (CLI and plugins name sessions by user). */
  byUsername(username: string): readonly Subscriber[] {
    return [...(this.byUser.get(username) ?? [])].filter((s) => this.subscribers.get(s.l2tp) === s);
  }

  /**
   * RFC 2865 5.27: Session-Timeout is the most seconds of service, counted (as l2tpns does) from
   * when the session came up; a new value counts from there too, and one already passed ends it.
   */
  private armSessionTimeout(sub: Subscriber): void {
    const t = this.timersOf(sub);
    t.session?.cancel();
    t.session = undefined;
    const sec = sub.policy.sessionTimeoutSec;
    if (sec === undefined || sec <= 0 || sub.upAt === undefined) return;
    const leftMs = Math.max(0, sub.upAt + sec * 1000 - this.o.clock.now());
    t.session = this.o.clock.setTimeout(() => {
      t.session = undefined;
      this.drop(sub, `Session-Timeout of ${sec} s`, "session-timeout");
    }, leftMs);
  }

  /**
   * RFC 2865 5.28: Idle-Timeout, the most seconds without traffic from the user (upstream packets:
   * downstream traffic such as scans does not keep a session alive). Checked at a quarter of the
   * timeout, so a session ends between 1 and 1.25 times the timeout after its last packet.
   */
  private armIdleTimeout(sub: Subscriber): void {
    const t = this.timersOf(sub);
    t.idle?.cancel();
    t.idle = undefined;
    const sec = sub.policy.idleTimeoutSec;
    if (sec === undefined || sec <= 0) return;
    const idleMs = sec * 1000;
    t.idleSeenPackets = sub.rxPackets;
    t.idleSeenAt = this.o.clock.now();
    const check = (): void => {
      t.idle = undefined;
      const now = this.o.clock.now();
      if (sub.rxPackets !== t.idleSeenPackets) {
        t.idleSeenPackets = sub.rxPackets;
        t.idleSeenAt = now;
      }
      const leftMs = t.idleSeenAt + idleMs - now;
      if (leftMs <= 0) {
        this.drop(sub, `Idle-Timeout of ${sec} s`, "idle-timeout");
        return;
      }
      t.idle = this.o.clock.setTimeout(check, Math.min(leftMs, Math.max(1000, idleMs / 4)));
    };
    t.idle = this.o.clock.setTimeout(check, Math.min(idleMs, Math.max(1000, idleMs / 4)));
  }

  private timersOf(sub: Subscriber): SessionTimers {
    let t = this.timers.get(sub);
    if (t === undefined) {
      t = { session: undefined, idle: undefined, idleSeenPackets: 0, idleSeenAt: 0 };
      this.timers.set(sub, t);
    }
    return t;
  }

  /** A restored session's NAS-Port, unless another session holds it. */
  private claimNasPort(port: number): boolean {
    if (!Number.isInteger(port) || port < 1 || port > MAX_NAS_PORT || this.nasPorts.has(port)) return false;
    this.nasPorts.add(port);
    return true;
  }

  private changed(sub: Subscriber): void {
    this.o.recordChanged?.(sub);
  }

  private allocateNasPort(): number {
    for (;;) {
      const port = this.nextNasPort;
      this.nextNasPort = port >= MAX_NAS_PORT ? 1 : port + 1;
      if (!this.nasPorts.has(port)) {
        this.nasPorts.add(port);
        return port;
      }
    }
  }

  /** As l2tpns: hex digits, unique per session and across restarts (start time, then a serial). */
  private newAcctSessionId(): string {
    this.acctSerial = (this.acctSerial + 1) >>> 0;
    return `${this.acctPrefix}${this.acctSerial.toString(16).padStart(8, "0").toUpperCase()}`;
  }

  private sendFrame(sub: Subscriber, frame: Buffer): void {
    const { tunnel, l2tp } = sub;
    if (l2tp.state !== "established") return;
    this.o.node.sendPppFrame(tunnel, l2tp, frame);
  }

  private async authenticate(sub: Subscriber, given: AuthRequest): Promise<AuthResult> {
    // Plugins' pre_auth may rename the user or refuse the login (l2tpns: continue_auth).
    const pre = this.plugins === undefined ? { ok: true as const, req: given } : await this.plugins.preAuth(sub, given);
    if (!pre.ok) return { ok: false, message: pre.message };
    const req = pre.req;
    sub.username = req.username;
    const call = sub.l2tp.call;
    const answer = await this.o.auth.authenticate(req, {
      ...(call.callingNumber === undefined ? {} : { callingNumber: call.callingNumber }),
      ...(call.calledNumber === undefined ? {} : { calledNumber: call.calledNumber }),
      ...(call.txConnectSpeed === undefined ? {} : { txConnectSpeed: call.txConnectSpeed }),
      ...(call.rxConnectSpeed === undefined ? {} : { rxConnectSpeed: call.rxConnectSpeed }),
      nasPort: sub.nasPort,
      acctSessionId: sub.acctSessionId,
    });
    // post_auth may turn the answer round (the garden plugin lets a refused user in).
    const r = this.plugins === undefined ? answer : await this.plugins.postAuth(sub, req, answer);
    if (!r.ok) return r.error === true ? { ok: false, message: r.message, error: true } : { ok: false, message: r.message };
    if (this.subscribers.get(sub.l2tp) !== sub) return { ok: false, message: "session gone" };
    sub.policy = r.policy ?? NO_POLICY;
    const filters = filtersFromFilterIds(sub.policy.filterIds);
    if (filters.filterIn !== undefined) sub.filterIn = filters.filterIn;
    if (filters.filterOut !== undefined) sub.filterOut = filters.filterOut;
    // A gardened login (refused, let in by the garden plugin) proved nothing: it must not end the
    // real user's sessions, and its address is not remembered for the name (as l2tpns).
    const gardened = sub.garden === true;
    if (!gardened) this.endDuplicates(sub, req.username);
    const a = this.o.pool.allocate(req.username, r.address, { remember: !gardened });
    if (!a.ok) {
      if (a.reason === "exhausted") {
        // No address to give: tell the LAC to try another LNS (RFC 2661 4.4.2, CDN 2/7).
        sub.refusal = { resultCode: CdnResultCode.GeneralError, errorCode: L2tpErrorCode.TryAnother, message: "address pool exhausted" };
        return { ok: false, message: "no address available" };
      }
      // The address is someone else's: as l2tpns, the newer login takes it from the older. The
      // older session no longer has it, so that its end does not give the newer one's address back.
      const holder = this.byAddress.get(a.address) ?? [...this.subscribers.values()].find((s) => s !== sub && s.address === a.address);
      if (holder !== undefined) {
        if (this.byAddress.get(a.address) === holder) this.byAddress.delete(a.address);
        delete holder.address;
        this.drop(holder, `address ${formatIpv4(a.address)} taken by a newer login of ${req.username}`);
      }
      this.o.pool.release(a.address);
      const again = this.o.pool.allocate(req.username, r.address, { remember: !gardened });
      if (!again.ok) return { ok: false, message: "address in use" };
      sub.address = again.address;
    } else {
      sub.address = a.address;
    }
    this.changed(sub);
    return {
      ok: true,
      address: formatIpv4(sub.address),
      // l2tpns: the subscriber's IPv6 interface identifier is its IPv4 address and 32 zero bits.
      ...(this.o.ipv6Prefix === undefined ? {} : { ipv6InterfaceId: interfaceIdFor(sub.address) }),
      ...(r.primaryDns === undefined ? {} : { primaryDns: r.primaryDns }),
      ...(r.secondaryDns === undefined ? {} : { secondaryDns: r.secondaryDns }),
    };
  }

  private pppUp(sub: Subscriber, info: PppServerUpInfo): void {
    sub.up = info;
    const addr = info.address === undefined ? sub.address : parseIpv4(info.address);
    if (addr !== undefined) {
      sub.address = addr;
      this.byAddress.set(addr, sub);
    }
    sub.upAt = this.o.clock.now();
    this.changed(sub);
    this.o.logger.log("info", "session-online", `session ${sub.tunnel.localId}/${sub.l2tp.localId} ${info.username} online, address ${sub.address === undefined ? "-" : formatIpv4(sub.address)} (${info.authProtocol})`);
    this.armSessionTimeout(sub);
    this.armIdleTimeout(sub);
    if (sub.throttle === undefined && this.throttleSpeed > 0) sub.throttle = { up: this.throttleSpeed, down: this.throttleSpeed };
    this.o.dataPath?.online(sub);
    this.startRouterAdvertisements(sub);
    this.o.events?.online(sub);
    this.plugins?.newSession(sub);
  }

  /** IPV6CP (or IPCP) opened or closed after the session came up: forwarding follows. */
  private ncpChange(sub: Subscriber, change: NcpChange): void {
    if (this.subscribers.get(sub.l2tp) !== sub || sub.upAt === undefined) return;
    sub.up = change.info;
    this.changed(sub);
    this.o.dataPath?.update(sub);
    if (change.protocol === "ipv6cp" && change.up) this.startRouterAdvertisements(sub);
  }

  /**
   * RFC 4861 6.2.4: the first advertisements go out at once and soon after, since the subscriber's
   * IPV6CP may open a moment after ours and a frame before that is discarded (RFC 1661 3.6).
   */
  private startRouterAdvertisements(sub: Subscriber): void {
    if (this.o.ipv6Prefix === undefined || sub.up?.ipv6 === undefined) return;
    this.sendRouterAdvertisement(sub);
    for (const ms of INITIAL_ADVERTISEMENTS_MS) {
      this.o.clock.setTimeout(() => {
        if (this.subscribers.get(sub.l2tp) === sub) this.sendRouterAdvertisement(sub);
      }, ms);
    }
  }

  /** RFC 4861 6.2.4: the prefix, as soon as IPV6CP is open and whenever the subscriber asks. */
  private sendRouterAdvertisement(sub: Subscriber): void {
    const prefix = this.o.ipv6Prefix;
    const v6 = sub.up?.ipv6;
    if (prefix === undefined || v6 === undefined) return;
    this.sendFrame(sub, encodePppFrame(PPP_IPV6, buildRouterAdvertisement(v6.localInterfaceId, prefix, sub.up?.mru ?? 1500)));
  }

  private pppDown(sub: Subscriber, cause: DisconnectCause): void {
    this.o.logger.log("info", "session-offline", `session ${sub.tunnel.localId}/${sub.l2tp.localId} ${sub.username ?? "-"} offline: ${cause.reason} (${cause.message})`);
    if (sub.upAt !== undefined && this.subscribers.get(sub.l2tp) === sub) {
      // The accounting Stop carries the counters as of now.
      this.o.dataPath?.sync(sub);
      this.o.events?.offline(sub, cause);
    }
    const refusal = sub.refusal;
    // RFC 2661 5.7 / RFC 3145: the CDN says why PPP ended.
    if (sub.l2tp.state !== "closed") {
      if (refusal !== undefined) sub.tunnel.clearSession(sub.l2tp, refusal.resultCode, refusal.errorCode, refusal.message, cause.ppp);
      else sub.tunnel.clearSession(sub.l2tp, CdnResultCode.Administrative, undefined, cause.message, cause.ppp);
    }
    this.forget(sub);
  }

  /**
   * A network-layer frame that reached the control thread: the workers forward an online session's
   * IPv4, so this is traffic from before the session was in their table, or of a protocol whose
   * data path is not there yet (IPv6). Dropped, and counted as the session's.
   */
  private upstream(sub: Subscriber, protocol: number, payload: Uint8Array): void {
    // RFC 4861 6.2.6: a Router Solicitation is answered with an advertisement.
    if (protocol === PPP_IPV6 && isRouterSolicitation(payload)) {
      this.sendRouterAdvertisement(sub);
      return;
    }
    this.controlPathDrops++;
    this.o.logger.log("debug", "control-path-data", `session ${sub.tunnel.localId}/${sub.l2tp.localId}: dropped a ${payload.length}-byte frame of protocol 0x${protocol.toString(16).padStart(4, "0")} that reached the control thread`);
  }

  /**
   * l2tpns: unless allow_duplicate_users is set (or the user is the guest_account), a user who
   * logs in again ends their older sessions, so that a CPE that reconnects after a lost line
   * does not hold two addresses.
   */
  private endDuplicates(sub: Subscriber, username: string): void {
    let mine = this.byUser.get(username);
    if (mine === undefined) {
      mine = new Set();
      this.byUser.set(username, mine);
    }
    if (!this.reloadable.allowDuplicateUsers && username !== this.reloadable.guestAccount) {
      for (const older of [...mine]) {
        if (older === sub) continue;
        mine.delete(older);
        this.drop(older, `duplicate login of ${username}`);
      }
    }
    mine.add(sub);
  }

  private forget(sub: Subscriber): void {
    if (this.subscribers.get(sub.l2tp) !== sub) return;
    if (sub.upAt !== undefined) this.plugins?.killSession(sub);
    this.subscribers.delete(sub.l2tp);
    this.changed(sub);
    if (sub.username !== undefined) {
      const mine = this.byUser.get(sub.username);
      mine?.delete(sub);
      if (mine?.size === 0) this.byUser.delete(sub.username);
    }
    this.nasPorts.delete(sub.nasPort);
    const t = this.timers.get(sub);
    if (t !== undefined) {
      t.session?.cancel();
      t.idle?.cancel();
      this.timers.delete(sub);
    }
    this.o.dataPath?.offline(sub);
    if (sub.address !== undefined) {
      if (this.byAddress.get(sub.address) === sub) this.byAddress.delete(sub.address);
      this.o.pool.release(sub.address);
    }
  }
}
