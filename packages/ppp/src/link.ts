// One PPP link inside an L2TP session, the part both roles share: the phases of RFC 1661 3, LCP,
// the demultiplexing of received frames (Protocol-Reject, silent discards), LCP Echo keepalive,
// the NCP automatons' plumbing and the single end of the link with its cause. Subclasses add the
// role: PppServerSession (LNS) and PppClientSession (test LAC). Runs on the control thread.
import {
  LCP,
  PppProtocol,
  decodePppFrame,
  encodePppFrame,
  type EchoPacket,
  type IpcpOptionTable,
  type Ipv6cpOptionTable,
  type LcpOptionTable,
  type OptionTable,
  type ControlProtocolSpec,
  type PppCodeName,
} from "@lnsd/wire";
import { epochMsOf, type Clock, type TimerHandle } from "@lnsd/io";
import { type DisconnectCause, type DisconnectReason, type DisconnectSide, disconnectCause } from "./cause.js";
import type { PppCommonConfig, RandomSource } from "./config.js";
import type { FsmRecord, FsmState } from "./fsm.js";
import type { AuthProtocolName } from "./config.js";
import { LcpPolicy, type LcpPolicyOptions } from "./lcp.js";
import { type LogLevel, Negotiation, type NegotiationHost, type NegotiationLayer, type NegotiationRecord, type OptionPolicy } from "./negotiation.js";

/** RFC 1661 3: Link Dead, Establish, Authenticate, Network, Terminate. */
export type PppPhase = "dead" | "establish" | "authenticate" | "network" | "terminate";

export type NcpName = "ipcp" | "ipv6cp";

export interface PppLinkOptions {
  readonly clock: Clock;
  /** Random bytes: Magic-Numbers, CHAP Challenges, Interface-Identifiers. */
  readonly random: RandomSource;
  /** Sends one PPP frame (FF 03, two-octet Protocol, Information) inside the L2TP session. */
  send(frame: Buffer): void;
  log?(level: LogLevel, reason: string, message: string): void;
  /**
   * Wall-clock epoch ms, for the deadlines in records (snapshot, restore). Defaults to Date.now
   * with the system clock, and to the clock's own now() with another clock (a fake clock is its
   * own wall clock, so tests stay deterministic), as L2tpNode.
   */
  readonly wallClock?: () => number;
}

/** LCP of an Opened link as plain data (issue 13): what was agreed in each direction. */
export interface LcpLinkRecord {
  readonly ourMru: number;
  readonly peerMru: number;
  /** Magic-Numbers, 0 when not negotiated. */
  readonly ourMagic: number;
  readonly peerMagic: number;
  readonly peerAccm?: number;
  readonly peerPfc: boolean;
  readonly peerAcfc: boolean;
  /** The authentication protocol the peer agreed to use with us. */
  readonly ourAuth?: AuthProtocolName;
  readonly negotiation: NegotiationRecord;
  /** LCP packets received so far (tells lcp-silent from lcp-timeout at the end). */
  readonly packetsReceived: number;
}

/** The LCP Echo keepalive as plain data; times are wall-clock epoch ms. */
export interface EchoRecord {
  /** When the keepalive next looks at the link (sends an Echo-Request if due); absent when echo is off. */
  readonly nextAt?: number;
  /** Our Echo-Requests still unanswered, with when each went out. */
  readonly outstanding: readonly { readonly identifier: number; readonly sentAt: number }[];
  /** The last frame received from the peer (idle_echo_timeout counts from here). */
  readonly lastRxAt: number;
  /** Line quality so far; `lost` is how many requests were missed. */
  readonly stats: EchoStats;
}

/** The part of a link record both roles share. */
export interface PppLinkCoreRecord {
  readonly lcp: LcpLinkRecord;
  readonly echo: EchoRecord;
  /** NCPs the peer Protocol-Rejected (RFC 1661 5.7: never sent again). */
  readonly ncpRejected: readonly NcpName[];
}

/** The LCP Echo keepalive as a line-quality probe (a FireBrick-style per-line view). */
export interface EchoStats {
  /** Echo-Requests sent. */
  sent: number;
  /** Echo-Replies that matched one of ours. */
  replies: number;
  /** Requests with no reply by the time the next one went out. */
  lost: number;
  /** Round trip of the latest matched reply, ms; undefined before the first. */
  lastRttMs: number | undefined;
  /** Fate of the latest 32 requests, newest in bit 0: 1 = lost. */
  recentLost: number;
  /** How many of those 32 bits are meaningful (up to 32). */
  recentCount: number;
}

/** A snapshot for `show session` and tests. */
export interface PppLinkStatus {
  readonly phase: PppPhase;
  readonly lcp: FsmState;
  readonly ipcp: FsmState | undefined;
  readonly ipv6cp: FsmState | undefined;
  readonly history: { readonly lcp: readonly FsmRecord[]; readonly ipcp: readonly FsmRecord[]; readonly ipv6cp: readonly FsmRecord[] };
  /** Undefined (state, event) pairs met by any of the automatons (RFC 1661 4.1 '-'). */
  readonly protocolErrors: number;
}

function text(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("utf8");
}

const NCP_PROTOCOLS: ReadonlyMap<number, NcpName> = new Map<number, NcpName>([
  [PppProtocol.IPCP, "ipcp"],
  [PppProtocol.IPV6CP, "ipv6cp"],
]);

export abstract class PppLink {
  phase: PppPhase = "dead";
  /** Drops, answers and oddities by name: `show counters`, metrics and tests read them. */
  readonly counters = new Map<string, number>();
  /** Set once, when the link has ended (the down event has been given). */
  ended: DisconnectCause | undefined;
  protected readonly lcp: Negotiation<LcpOptionTable>;
  protected readonly lcpPolicy: LcpPolicy;
  protected ipcp: Negotiation<IpcpOptionTable> | undefined;
  protected ipv6cp: Negotiation<Ipv6cpOptionTable> | undefined;
  /** NCPs the peer Protocol-Rejected. */
  protected readonly ncpRejected = new Set<NcpName>();
  /** The cause of an end already under way (Terminate-Request sent or received). */
  protected pendingCause: DisconnectCause | undefined;
  /** The first NCP reached Opened (the up event was given). */
  protected reportedUp = false;
  protected readonly host: NegotiationHost;
  /**
   * The clock the automatons, authentication and keepalive use: its timers run as entries into
   * the link (see enter()).
   */
  protected readonly clock: Clock;
  private depth = 0;
  private readonly outbox: Buffer[] = [];
  private lastRxMs = 0;
  private echoTimer: TimerHandle | undefined;
  /** When echoTimer fires, in clock time. */
  private echoDueMs = 0;
  private lcpPacketsReceived = 0;
  /** Line quality from the keepalive; metrics read it at scrape time. */
  readonly echoStats: EchoStats = { sent: 0, replies: 0, lost: 0, lastRttMs: undefined, recentLost: 0, recentCount: 0 };
  /** Our Echo-Requests still unanswered: Identifier to the time sent. */
  private readonly echoOutstanding = new Map<number, number>();

  protected constructor(
    protected readonly common: PppCommonConfig,
    protected readonly link: PppLinkOptions,
    lcpOptions: Omit<LcpPolicyOptions, "random" | "maxLoopSuspicions">,
    resendOnFirstPeerRequest: boolean,
  ) {
    this.clock = {
      now: () => link.clock.now(),
      setTimeout: (fn, ms) =>
        link.clock.setTimeout(() => {
          this.enter(fn);
        }, ms),
      epochMs: epochMsOf(link.clock),
    };
    this.host = {
      clock: this.clock,
      timers: common,
      send: (protocol, packet) => {
        this.sendPacket(protocol, packet);
      },
      peerMru: () => this.lcpPolicy.agreed.peerMru,
      count: (c) => {
        this.count(c);
      },
      log: (level, reason, message) => {
        this.log(level, reason, message);
      },
    };
    this.lcpPolicy = new LcpPolicy({ ...lcpOptions, random: link.random, maxLoopSuspicions: common.maxFailure });
    const layer: NegotiationLayer = {
      up: () => {
        this.lcpUp();
      },
      down: () => {
        this.lcpDown();
      },
      started: () => {
        this.count("lcp-started");
      },
      finished: () => {
        this.lcpFinished();
      },
      failed: (reason, message) => {
        this.close(reason, message, reason === "loopback" ? "local" : "peer");
      },
      magic: () => this.lcpPolicy.magicInUse,
      echo: (p) => {
        this.echoReceived(p);
      },
      protocolRejected: (protocol) => this.protocolRejected(protocol),
      terminateRequested: (data) => {
        if (this.pendingCause === undefined) this.pendingCause = disconnectCause("user-request", "peer", undefined, text(data));
      },
    };
    this.lcp = new Negotiation(LCP, this.lcpPolicy, this.host, layer, { notConverging: "lcp-timeout", resendOnFirstPeerRequest });
  }

  // --- public API -------------------------------------------------------------------------------

  /** The L2TP session is established: LCP Open and Up (RFC 1661 3.2). */
  start(): void {
    this.enter(() => {
      if (this.phase !== "dead" || this.ended !== undefined) {
        this.count("start-ignored");
        return;
      }
      this.phase = "establish";
      this.lastRxMs = this.link.clock.now();
      this.begin();
    });
  }

  /** How the link starts once the lower layer is up; the server overrides it for proxy LCP. */
  protected begin(): void {
    this.lcp.open("administrative Open: the L2TP session is established");
    this.lcp.up("lower layer up: the L2TP session carries PPP frames");
  }

  /** Proxy LCP (RFC 2661 18): LCP starts in Opened with what the LAC negotiated. */
  protected adoptOpenedLcp(reason: string): void {
    if (this.lcp.fsm.adoptOpened(reason)) this.lcpUp();
  }

  /** One PPP frame from the peer. Never throws. */
  receive(frame: Uint8Array): void {
    this.enter(() => {
      this.receiveFrame(frame);
    });
  }

  /**
   * Ends the link from our side: LCP Terminate-Request, then down once it is acknowledged or
   * Max-Terminate runs out (RFC 1661 3.7).
   */
  close(reason: DisconnectReason = "nas-request", message?: string, by: DisconnectSide = "local"): void {
    this.enter(() => {
      this.closeNow(reason, message, by);
    });
  }

  private closeNow(reason: DisconnectReason, message: string | undefined, by: DisconnectSide): void {
    if (this.ended !== undefined) return;
    this.pendingCause ??= disconnectCause(reason, by, message);
    if (this.phase === "dead") {
      this.finish();
      return;
    }
    this.phase = "terminate";
    this.stopAuth();
    this.stopEcho();
    this.lcp.close(`close: ${this.pendingCause.message}`, Buffer.from(this.pendingCause.message, "utf8").subarray(0, 200));
    // Closed, Initial: no tlf follows (RFC 1661 4.1), nothing is left to wait for.
    if (this.lcp.state === "Closed" || this.lcp.state === "Initial") this.finish();
  }

  /** The lower layer is gone (CDN, StopCCN, tunnel lost): ends at once, nothing sent. */
  stop(reason: DisconnectReason = "lost-carrier", message?: string): void {
    this.enter(() => {
      if (this.ended !== undefined) return;
      this.pendingCause ??= disconnectCause(reason, "lower-layer", message);
      if (this.phase !== "dead") {
        this.phase = "terminate";
        // RFC 1661 4.3: Down, then Close so that an automaton in Starting finishes (tlf).
        this.lcp.down("lower layer down");
        this.lcp.close("lower layer gone");
      }
      this.finish();
    });
  }

  /** Traffic seen by the data plane: the link is alive (keeps LCP Echo quiet when ppp_keepalive). */
  noteActivity(): void {
    this.lastRxMs = this.link.clock.now();
  }

  status(): PppLinkStatus {
    return {
      phase: this.phase,
      lcp: this.lcp.state,
      ipcp: this.ipcp?.state,
      ipv6cp: this.ipv6cp?.state,
      history: { lcp: [...this.lcp.fsm.history], ipcp: [...(this.ipcp?.fsm.history ?? [])], ipv6cp: [...(this.ipv6cp?.fsm.history ?? [])] },
      protocolErrors: this.lcp.fsm.protocolErrors + (this.ipcp?.fsm.protocolErrors ?? 0) + (this.ipv6cp?.fsm.protocolErrors ?? 0),
    };
  }

  counter(name: string): number {
    return this.counters.get(name) ?? 0;
  }

  // --- records (issue 13) ------------------------------------------------------------------------

  /** Epoch ms minus clock time: turns the clock's deadlines into wall-clock ones and back. */
  protected epochOffset(): number {
    const clock = this.link.clock;
    const wall = this.link.wallClock ?? epochMsOf(clock);
    return wall() - clock.now();
  }

  /** Why the link is not established (LCP Opened, Network phase, no end under way); undefined when it is. */
  protected establishedRefusal(): string | undefined {
    if (this.ended !== undefined) return `the link has ended (${this.ended.reason})`;
    if (this.pendingCause !== undefined || this.phase === "terminate") return "the link is terminating";
    if (this.phase !== "network") return `the link is in the ${this.phase} phase`;
    if (!this.lcp.opened) return `LCP is ${this.lcp.state}`;
    return undefined;
  }

  /** LCP and the keepalive as a record; the caller has checked establishedRefusal(). */
  protected coreRecord(epochOffsetMs: number): PppLinkCoreRecord {
    const a = this.lcpPolicy.agreed;
    return {
      lcp: {
        ourMru: a.ourMru,
        peerMru: a.peerMru,
        ourMagic: a.ourMagic,
        peerMagic: a.peerMagic,
        ...(a.peerAccm === undefined ? {} : { peerAccm: a.peerAccm }),
        peerPfc: a.peerPfc,
        peerAcfc: a.peerAcfc,
        ...(a.ourAuth === undefined ? {} : { ourAuth: a.ourAuth }),
        negotiation: this.lcp.record(),
        packetsReceived: this.lcpPacketsReceived,
      },
      echo: {
        ...(this.echoTimer === undefined ? {} : { nextAt: this.echoDueMs + epochOffsetMs }),
        outstanding: [...this.echoOutstanding].map(([identifier, sentAt]) => ({ identifier, sentAt: sentAt + epochOffsetMs })),
        lastRxAt: this.lastRxMs + epochOffsetMs,
        stats: { ...this.echoStats },
      },
      ncpRejected: [...this.ncpRejected],
    };
  }

  /**
   * Rebuilds an established link's LCP and keepalive from a record: LCP Opened, the Network
   * phase, the Echo timer at its recorded deadline (at once when it has passed). Sends nothing
   * and gives no event. The role rebuilds authentication and the NCPs.
   */
  protected restoreCore(r: PppLinkCoreRecord, epochOffsetMs: number): boolean {
    if (this.phase !== "dead" || this.ended !== undefined) return false;
    this.lcpPolicy.restoreAgreed({
      ourMru: r.lcp.ourMru,
      peerMru: r.lcp.peerMru,
      ourMagic: r.lcp.ourMagic,
      peerMagic: r.lcp.peerMagic,
      peerAccm: r.lcp.peerAccm,
      peerPfc: r.lcp.peerPfc,
      peerAcfc: r.lcp.peerAcfc,
      peerAuth: undefined,
      ourAuth: r.lcp.ourAuth,
    });
    if (!this.lcp.restoreOpened(r.lcp.negotiation, "restored from a record: LCP Opened")) return false;
    this.lcpPacketsReceived = r.lcp.packetsReceived;
    for (const n of r.ncpRejected) this.ncpRejected.add(n);
    this.phase = "network";
    this.reportedUp = true;
    this.lastRxMs = r.echo.lastRxAt - epochOffsetMs;
    for (const o of r.echo.outstanding) this.echoOutstanding.set(o.identifier & 0xff, o.sentAt - epochOffsetMs);
    Object.assign(this.echoStats, r.echo.stats);
    if (this.common.echoIntervalMs > 0) {
      const now = this.link.clock.now();
      this.scheduleEcho(r.echo.nextAt === undefined ? this.common.echoIntervalMs : r.echo.nextAt - epochOffsetMs - now);
    }
    return true;
  }

  // --- role hooks ---------------------------------------------------------------------------------

  /** LCP reached Opened: authenticate, or go straight to the Network phase. */
  protected abstract authenticatePhase(): void;
  /** A PAP or CHAP packet during the Authenticate or Network phase. */
  protected abstract receiveAuth(protocol: number, info: Uint8Array): void;
  protected abstract stopAuth(): void;
  /** An NCP reached Opened / left it. */
  protected abstract ncpUp(name: NcpName): void;
  protected abstract ncpDown(name: NcpName): void;
  /** The NCPs this role runs at all (the others are Protocol-Rejected). */
  protected abstract runsNcp(name: NcpName): boolean;
  /** Why the session ends when no NCP is left (no-address for a refused address...). */
  protected abstract noNcpReason(): DisconnectReason;
  /** The down event, given once. */
  protected abstract emitDown(cause: DisconnectCause): void;
  /** An IPv4 or IPv6 packet that reached the control plane. */
  protected abstract dataReceived(protocol: number, payload: Uint8Array): void;

  // --- shared machinery ---------------------------------------------------------------------------

  protected count(name: string): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + 1);
  }

  protected log(level: LogLevel, reason: string, message: string): void {
    try {
      this.link.log?.(level, reason, message);
    } catch {
      this.count("log-callback-threw");
    }
  }

  /**
   * Runs one entry into the link (a received frame, a timer, an API call, an authentication
   * answer). Frames sent meanwhile wait in the outbox until the outermost entry is done, so a
   * `send` callback that hands the frame straight to a peer which answers at once re-enters a
   * link whose automatons have finished their transitions. Never throws.
   */
  protected enter(fn: () => void): void {
    this.depth++;
    try {
      fn();
    } catch (e) {
      this.count("internal-error");
      this.log("error", "internal-error", `PPP: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    } finally {
      this.depth--;
    }
    if (this.depth === 0) this.flush();
  }

  private flush(): void {
    for (let frame = this.outbox.shift(); frame !== undefined; frame = this.outbox.shift()) {
      try {
        this.link.send(frame);
      } catch (e) {
        this.count("send-callback-threw");
        this.log("error", "send-failed", `PPP send: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  protected sendPacket(protocol: number, packet: Buffer): void {
    if (this.ended !== undefined) {
      this.count("tx-after-end");
      return;
    }
    this.count("tx-frames");
    // Never ACFC or PFC on what we send (RFC 1661 6.5, 6.6: optional; l2tpns and pppd don't either).
    this.outbox.push(encodePppFrame(protocol, packet));
    if (this.depth === 0) this.flush();
  }

  /** A Negotiation for an NCP, wired to this link. */
  protected makeNcp<T extends OptionTable>(name: NcpName, spec: ControlProtocolSpec<T, PppCodeName>, policy: OptionPolicy<T>): Negotiation<T> {
    const layer: NegotiationLayer = {
      up: () => {
        this.ncpUp(name);
      },
      down: () => {
        this.ncpDown(name);
      },
      started: () => {
        this.count(`${name}-started`);
      },
      finished: () => {
        this.count(`${name}-finished`);
        this.checkNcps();
      },
      failed: (_reason, message) => {
        this.log("info", `${name}-failed`, message);
        this.ncpNegotiation(name)?.close(message);
      },
    };
    return new Negotiation(spec, policy, this.host, layer, { notConverging: "ncp-timeout" });
  }

  private ncpNegotiation(name: NcpName): Negotiation<IpcpOptionTable> | Negotiation<Ipv6cpOptionTable> | undefined {
    return name === "ipcp" ? this.ipcp : this.ipv6cp;
  }

  /**
   * Whether LCP leaving Opened in the Network phase (the peer renegotiates) starts the link over
   * rather than ending it. The server ends it (see lcpDown); a client does as pppd does.
   */
  protected renegotiatesLcp(): boolean {
    return false;
  }

  /** RFC 1661 3.5 -> 3.6: authentication done (or none asked): the NCPs start. */
  protected enterNetwork(): void {
    if (this.phase !== "authenticate" && this.phase !== "establish") return;
    this.phase = "network";
    for (const [name, n] of [["ipcp", this.ipcp], ["ipv6cp", this.ipv6cp]] as const) {
      // RFC 1661 5.7: a protocol the peer already Protocol-Rejected is not sent at all.
      if (n === undefined || this.ncpRejected.has(name)) continue;
      n.up("LCP opened and authentication done: Network phase");
      n.open("administrative Open");
    }
    this.checkNcps();
  }

  /** Ends the session when no NCP is negotiating or open any more (nothing left to carry). */
  private checkNcps(): void {
    if (this.phase !== "network" || this.ended !== undefined) return;
    const alive = [this.ipcp, this.ipv6cp].some((n) => n !== undefined && n.state !== "Initial" && n.state !== "Starting" && n.state !== "Closed" && n.state !== "Stopped");
    if (!alive) this.close(this.noNcpReason(), undefined, "peer");
  }

  private receiveFrame(frame: Uint8Array): void {
    if (this.ended !== undefined) {
      this.count("rx-after-end");
      return;
    }
    if (this.phase === "dead") {
      this.count("rx-before-start");
      return;
    }
    this.count("rx-frames");
    this.lastRxMs = this.link.clock.now();
    const f = decodePppFrame(frame);
    if (!f.ok) {
      const action = f.error.action;
      if (action.kind === "protocol-reject") this.unknownProtocol(action.protocol, frame.subarray(frame[0] === 0xff ? 4 : 2));
      else this.count("rx-malformed-frame");
      return;
    }
    const { protocol, info } = f.value;
    switch (protocol) {
      case PppProtocol.LCP:
        this.lcpPacketsReceived++;
        this.lcp.receive(info);
        return;
      case PppProtocol.PAP:
      case PppProtocol.CHAP:
        // RFC 1661 3.5: authentication packets belong to the Authenticate phase (answers to
        // retransmitted requests may come in the Network phase).
        if (this.phase === "authenticate" || this.phase === "network") this.receiveAuth(protocol, info);
        else this.count("auth-discarded");
        return;
      case PppProtocol.IPv4:
      case PppProtocol.IPv6:
        this.receiveData(protocol, info);
        return;
      default: {
        const ncp = NCP_PROTOCOLS.get(protocol);
        if (ncp !== undefined && this.runsNcp(ncp)) {
          // RFC 1661 3.4, 3.5: NCP packets before the Network phase are silently discarded.
          const n = this.phase === "network" ? this.ncpNegotiation(ncp) : undefined;
          if (n === undefined) this.count(`${ncp}-discarded`);
          else n.receive(info);
          return;
        }
        this.unknownProtocol(protocol, info);
      }
    }
  }

  private receiveData(protocol: number, payload: Uint8Array): void {
    const ncp = protocol === PppProtocol.IPv4 ? this.ipcp : this.ipv6cp;
    if (ncp === undefined && this.phase === "network" && !this.runsNcp(protocol === PppProtocol.IPv4 ? "ipcp" : "ipv6cp")) {
      this.unknownProtocol(protocol, payload);
      return;
    }
    // RFC 1661 3.6: network-layer packets flow only once their NCP is Opened.
    if (ncp?.opened !== true) {
      this.count("data-discarded");
      return;
    }
    this.count("data-rx");
    try {
      this.dataReceived(protocol, payload);
    } catch {
      this.count("data-callback-threw");
    }
  }

  /**
   * RFC 1661 5.7: a protocol we do not run is answered with an LCP Protocol-Reject, only in the
   * Network phase (3.4, 3.5: other packets before it are silently discarded).
   */
  private unknownProtocol(protocol: number, info: Uint8Array): void {
    if (this.phase !== "network" || !this.lcp.opened) {
      this.count("unknown-protocol-discarded");
      return;
    }
    this.count("protocol-reject-sent");
    this.lcp.send({ kind: "ProtRej", identifier: this.lcp.takeIdentifier(), protocol, rejected: info });
  }

  private protocolRejected(protocol: number): "RXJ+" | "RXJ-" {
    // RFC 1661 4.3: rejecting LCP itself is catastrophic.
    if (protocol === PppProtocol.LCP) {
      this.pendingCause ??= disconnectCause("peer-rejected-lcp", "peer", "Protocol-Reject of LCP");
      return "RXJ-";
    }
    const ncp = NCP_PROTOCOLS.get(protocol);
    if (ncp !== undefined) {
      // RFC 1661 5.7: stop sending that protocol at once: its automaton goes Down, silently.
      this.ncpRejected.add(ncp);
      this.ncpNegotiation(ncp)?.down(`Protocol-Rejected by the peer`);
      this.checkNcps();
      return "RXJ+";
    }
    if ((protocol === PppProtocol.PAP || protocol === PppProtocol.CHAP) && this.phase === "authenticate") {
      this.close("auth-protocol-refused", `peer Protocol-Rejected ${protocol === PppProtocol.PAP ? "PAP" : "CHAP"}`, "peer");
    }
    return "RXJ+";
  }

  private lcpUp(): void {
    this.count("lcp-opened");
    this.phase = "authenticate";
    this.startEcho();
    this.authenticatePhase();
  }

  private lcpDown(): void {
    this.stopEcho();
    this.stopAuth();
    // RFC 1661 3.7 / 4.4 tld: the NCPs lose their lower layer.
    for (const n of [this.ipcp, this.ipv6cp]) n?.down("LCP left Opened");
    if (this.pendingCause !== undefined) {
      this.phase = "terminate";
      return;
    }
    if (this.lcp.state === "Stopping") {
      // RXJ- in Opened: the peer rejected something LCP cannot do without.
      this.pendingCause = disconnectCause("peer-rejected-lcp", "peer");
      this.phase = "terminate";
      return;
    }
    if (this.phase === "network" && this.renegotiatesLcp()) {
      // RFC 1661 3.4: back to Link Establishment; authentication and the NCPs follow the next tlu.
      this.count("lcp-renegotiated");
      this.phase = "establish";
      return;
    }
    if (this.phase === "network") {
      // The peer renegotiates LCP on a running session (RCR/RCA/RCN/RTA in Opened). Going
      // through authentication and the NCPs again would change an accounted session under the
      // caller's feet; lnsd ends it instead (RFC 1661 leaves the choice to the implementation).
      this.close("lcp-renegotiation", undefined, "peer");
      return;
    }
    // During authentication: back to Link Establishment; authentication restarts at the next tlu.
    this.phase = "establish";
  }

  private lcpFinished(): void {
    if (this.pendingCause === undefined && this.lcp.fsm.history.at(-1)?.event === "RXJ-") {
      // tlf on RXJ-: the peer Code-Rejected a Code LCP cannot do without.
      this.pendingCause = disconnectCause("peer-rejected-lcp", "peer", this.lcp.fsm.history.at(-1)?.reason);
    }
    if (this.pendingCause === undefined) {
      const silent = this.lcpPacketsReceived === 0;
      this.pendingCause = disconnectCause(silent ? "lcp-silent" : "lcp-timeout", silent ? "local" : "peer", `LCP ${this.lcp.state}`);
    }
    this.finish();
  }

  /** The one end of the link: cancels every timer and gives the down event once. */
  protected finish(): void {
    if (this.ended !== undefined) return;
    const cause = this.pendingCause ?? disconnectCause("nas-error", "local", "ended without a cause");
    this.ended = cause;
    this.phase = "dead";
    this.stopEcho();
    this.stopAuth();
    this.lcp.fsm.halt();
    this.ipcp?.fsm.halt();
    this.ipv6cp?.fsm.halt();
    try {
      this.emitDown(cause);
    } catch (e) {
      this.count("down-callback-threw");
      this.log("error", "down-callback-threw", `down event: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  // --- LCP Echo keepalive -------------------------------------------------------------------------

  private startEcho(): void {
    if (this.common.echoIntervalMs <= 0) return;
    this.scheduleEcho(this.common.echoIntervalMs);
  }

  private stopEcho(): void {
    this.echoTimer?.cancel();
    this.echoTimer = undefined;
  }

  private scheduleEcho(delayMs: number): void {
    this.echoTimer?.cancel();
    this.echoDueMs = this.link.clock.now() + Math.max(1, delayMs);
    this.echoTimer = this.clock.setTimeout(() => {
      this.echoTimer = undefined;
      this.echoTick();
    }, Math.max(1, delayMs));
  }

  /**
   * echo_timeout / idle_echo_timeout / ppp_keepalive (startup-config(5)): with ppp_keepalive an
   * Echo-Request goes out only after echo_timeout without anything received from the peer, and
   * again every echo_timeout while it stays silent; idle_echo_timeout of silence ends the
   * session. (The manual says "since the last packet sent"; what proves the peer alive is what
   * it sends us, so silence is measured on the receive side, as the issue asks.)
   */
  private echoTick(): void {
    if (this.ended !== undefined || !this.lcp.opened || this.phase === "terminate") return;
    const now = this.link.clock.now();
    const silentMs = now - this.lastRxMs;
    const idleLimit = this.common.idleEchoTimeoutMs;
    if (idleLimit > 0 && silentMs >= idleLimit) {
      this.count("echo-timeout");
      this.close("echo-timeout", `nothing received for ${Math.round(silentMs / 1000)} s`, "peer");
      return;
    }
    const interval = this.common.echoIntervalMs;
    if (this.common.echoOnlyWhenIdle && silentMs < interval) {
      this.scheduleEcho(interval - silentMs);
      return;
    }
    // The previous request is still unanswered a whole interval later: lost.
    for (let i = 0; i < this.echoOutstanding.size; i++) this.echoOutcome(undefined);
    this.echoOutstanding.clear();
    this.count("echo-request-sent");
    const identifier = this.lcp.takeIdentifier();
    this.echoStats.sent++;
    this.echoOutstanding.set(identifier, now);
    this.lcp.send({ kind: "EchoReq", identifier, magic: this.lcpPolicy.magicInUse, data: new Uint8Array(0) });
    const untilDrop = idleLimit > 0 ? idleLimit - silentMs : interval;
    this.scheduleEcho(Math.min(interval, untilDrop));
  }

  private echoReceived(p: EchoPacket): void {
    const ours = this.lcpPolicy.magicInUse;
    // RFC 1661 5.8 / 6.4: our own Magic-Number coming back suggests a looped link.
    if (ours !== 0 && p.magic === ours) this.count("echo-own-magic");
    if (p.kind === "EchoReply") {
      this.count("echo-reply-received");
      const sentAt = this.echoOutstanding.get(p.identifier);
      if (sentAt !== undefined) {
        this.echoOutstanding.delete(p.identifier);
        this.echoOutcome(this.link.clock.now() - sentAt);
      }
    } else if (p.kind === "EchoReq") this.count("echo-request-received");
    else this.count("discard-request-received");
  }

  /** One request's fate: a round trip in ms, or undefined for lost. */
  private echoOutcome(rttMs: number | undefined): void {
    const st = this.echoStats;
    st.recentLost = ((st.recentLost << 1) | (rttMs === undefined ? 1 : 0)) >>> 0;
    st.recentCount = Math.min(32, st.recentCount + 1);
    if (rttMs === undefined) st.lost++;
    else {
      st.replies++;
      st.lastRttMs = rttMs;
    }
    const observe = this.common.onEcho;
    if (observe === undefined) return;
    try {
      observe(rttMs === undefined ? { kind: "lost" } : { kind: "reply", rttMs });
    } catch (e) {
      this.count("echo-callback-threw");
      this.log("error", "echo-callback-threw", `echo observer: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** The MRU the peer can receive (what we may send). */
  get peerMru(): number {
    return this.lcpPolicy.agreed.peerMru;
  }

  /** Our MRU as agreed (1500 when not negotiated). */
  get mru(): number {
    return this.lcpPolicy.agreed.ourMru;
  }
}
