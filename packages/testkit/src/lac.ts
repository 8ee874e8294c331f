// The LAC simulator: M tunnels of N calls each towards one LNS, built on the L2tpNode of
// @lnsd/l2tp in the LAC role (the same code that serves as the LNS), over its own UDP socket with an
// optional impairment in between. It paces tunnel and call setup, records what happened, and hands
// each established call to a LacCallHandler (where the PPP client plugs in). Runs on the thread
// that created it; everything happens in node callbacks and timers.
import {
  L2tpNode,
  type CallInfo,
  type L2tpConfig,
  type LogLevel,
  type PlaceCallOptions,
  type ProxyInfo,
  type ReliableConfig,
  type ReliableCounters,
  type Session,
  type SessionEnd,
  type Tunnel,
  type TunnelEnd,
} from "@lnsd/l2tp";
import { openUdpEndpoint, type Clock, type PeerAddress, type UdpEndpoint } from "@lnsd/io";
import { CdnResultCode, StopCcnResultCode } from "@lnsd/wire";
import { ImpairedEndpoint, seededRandom, type Impairment } from "./impairment.js";
import { countResults, timeStats, type LacReport } from "./report.js";

/** One established call, as a LacCallHandler sees it. */
export interface LacCall {
  readonly tunnelIndex: number;
  readonly sessionIndex: number;
  readonly tunnel: Tunnel;
  readonly session: Session;
  /**
   * Sends one PPP frame (from the address/control field or the protocol field on) to the LNS in an
   * L2TP data message (RFC 2661 3.1) on this call. False when the call is no longer established.
   */
  sendFrame(frame: Uint8Array): boolean;
}

/**
 * What runs inside each established call. The simulator stops at the L2TP control plane; a PPP
 * client (LCP, PAP/CHAP, IPCP) is one of these, talking over call.sendFrame.
 */
export interface LacCallHandler {
  /** The call is established (ICRP received, ICCN sent). */
  up(call: LacCall): void;
  /** A data message from the LNS on this call: the PPP frame, without the L2TP header. */
  frame(call: LacCall, frame: Buffer): void;
  /** The call went down (CDN either way, its tunnel closed, or the simulator closed). */
  down(call: LacCall): void;
}

export interface LacSimulatorOptions {
  /** The LNS: address and UDP port (1701 for a real one). Addresses only, no host names. */
  readonly lns: PeerAddress;
  readonly tunnels: number;
  readonly sessionsPerTunnel: number;
  /** Tunnel secret (RFC 2661 5.1.1): the LAC challenges the LNS and answers its Challenge. */
  readonly secret?: string;
  /** Local address of the simulator's socket; by default every address of the LNS's family. */
  readonly bindAddress?: string;
  /** Local port; by default an ephemeral one. */
  readonly bindPort?: number;
  /** A socket to use instead of opening one (bindAddress and bindPort then do not apply). */
  readonly endpoint?: UdpEndpoint;
  /** The LAC node's timers (retransmit, ZLB, HELLO); default the system's. In-process tests pass a fake one. */
  readonly clock?: Clock;
  /** Loss, duplication, reordering and delay between the LAC node and its socket, both ways. */
  readonly impairment?: Partial<Impairment>;
  /** Seed of the impairment's decisions (a run's pattern of losses can be repeated). */
  readonly seed?: number;
  /** Proxy LCP and proxy authentication AVPs sent in each ICCN (RFC 2661 4.4.5). */
  readonly proxy?: ProxyInfo | ((tunnelIndex: number, sessionIndex: number) => ProxyInfo | undefined);
  /** What each ICRQ and ICCN says about the call; by default a Calling Number naming the call. */
  readonly callInfo?: (tunnelIndex: number, sessionIndex: number) => CallInfo;
  /** Calls between ICRQ and ICRP at once, over all tunnels (default 100). */
  readonly maxCallsInSetup?: number;
  /** Tunnels between SCCRQ and SCCRP at once (default 32). */
  readonly maxTunnelsInSetup?: number;
  /** Anything else of the LAC node's configuration (host name, timers, hold time...). */
  readonly config?: Partial<L2tpConfig>;
  /** Runs inside each established call; without one the calls stay idle at the L2TP level. */
  readonly calls?: LacCallHandler;
  readonly log?: (level: LogLevel, reason: string, message: string) => void;
}

type CallState = "queued" | "setup" | "up" | "down" | "refused" | "failed" | "cancelled";

interface CallRecord {
  readonly tunnelIndex: number;
  readonly sessionIndex: number;
  state: CallState;
  session?: Session;
  call?: LacCall;
}

type TunnelRecordState = "queued" | "setup" | "up" | "failed" | "gone" | "cancelled";

interface TunnelRecord {
  readonly index: number;
  state: TunnelRecordState;
  tunnel?: Tunnel;
  openedAt: number;
  readonly calls: CallRecord[];
  /** Index in calls of the next one to place. */
  next: number;
}

interface Waiter {
  readonly check: () => boolean | undefined;
  readonly resolve: (v: boolean) => void;
  readonly timer: NodeJS.Timeout;
}

export const DEFAULT_MAX_CALLS_IN_SETUP = 100;
export const DEFAULT_MAX_TUNNELS_IN_SETUP = 32;

function emptyReliableCounters(): ReliableCounters {
  return { sent: 0, retransmitted: 0, received: 0, duplicates: 0, outOfOrderHeld: 0, outOfWindow: 0, zlbSent: 0, badNr: 0 };
}

function addReliable(into: ReliableCounters, c: ReliableCounters): void {
  into.sent += c.sent;
  into.retransmitted += c.retransmitted;
  into.received += c.received;
  into.duplicates += c.duplicates;
  into.outOfOrderHeld += c.outOfOrderHeld;
  into.outOfWindow += c.outOfWindow;
  into.zlbSent += c.zlbSent;
  into.badNr += c.badNr;
}

/** RFC 2661 5.8: how long a message is retransmitted before its tunnel is declared dead. */
export function retransmitBudgetMs(r: ReliableConfig): number {
  let total = 0;
  for (let i = 0; i <= r.maxRetries; i++) total += Math.min(r.retransmitInitialMs * 2 ** i, r.retransmitCapMs);
  return total;
}

function nonNegativeInteger(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0) throw new RangeError(`${name} must be an integer >= 0, not ${v}`);
}

export class LacSimulator {
  private readonly opts: LacSimulatorOptions;
  private readonly maxCallsInSetup: number;
  private readonly maxTunnelsInSetup: number;
  private nodeOrUndefined: L2tpNode | undefined;
  private impaired: ImpairedEndpoint | undefined;
  private readonly tunnelRecords: TunnelRecord[] = [];
  private readonly byTunnel = new Map<Tunnel, TunnelRecord>();
  private readonly bySession = new Map<Session, CallRecord>();
  /** Tunnels up and with calls left to place, visited round-robin. */
  private readonly placing: TunnelRecord[] = [];
  private placingCursor = 0;
  private nextTunnel = 0;
  private tunnelsInSetup = 0;
  private callsInSetup = 0;
  private callsEstablished = 0;
  private tunnelsEstablished = 0;
  private readonly tunnelSetupMs: number[] = [];
  private readonly callSetupMs: number[] = [];
  private readonly callPlacedAt = new Map<CallRecord, number>();
  private readonly tunnelEnds: TunnelEnd[] = [];
  private readonly refusals: SessionEnd[] = [];
  private readonly failures: SessionEnd[] = [];
  private readonly freedReliable = emptyReliableCounters();
  private readonly waiters = new Set<Waiter>();
  private reconcileTimer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  private allUpAt: number | undefined;
  private closed = false;
  private closedAt: number | undefined;

  constructor(opts: LacSimulatorOptions) {
    nonNegativeInteger("tunnels", opts.tunnels);
    nonNegativeInteger("sessionsPerTunnel", opts.sessionsPerTunnel);
    this.opts = opts;
    this.maxCallsInSetup = Math.max(1, opts.maxCallsInSetup ?? DEFAULT_MAX_CALLS_IN_SETUP);
    this.maxTunnelsInSetup = Math.max(1, opts.maxTunnelsInSetup ?? DEFAULT_MAX_TUNNELS_IN_SETUP);
  }

  /** The LAC's L2TP node (its tunnels, sessions and counters), once started. */
  get node(): L2tpNode {
    if (this.nodeOrUndefined === undefined) throw new Error("LacSimulator: not started");
    return this.nodeOrUndefined;
  }

  /** The simulator's own UDP address, once started. */
  get local(): PeerAddress {
    return this.node.endpoint.local;
  }

  /** Opens the socket and the tunnels, and places the calls as tunnels come up (paced). */
  async start(): Promise<void> {
    if (this.nodeOrUndefined !== undefined || this.closed) throw new Error("LacSimulator: start() once only");
    const { lns, impairment, seed } = this.opts;
    const bind = this.opts.bindAddress ?? (lns.address.includes(":") ? "::" : "0.0.0.0");
    const udp: UdpEndpoint = this.opts.endpoint ?? (await openUdpEndpoint(bind, this.opts.bindPort ?? 0));
    let endpoint = udp;
    if (impairment !== undefined) {
      this.impaired = new ImpairedEndpoint(udp, impairment, seed === undefined ? Math.random : seededRandom(seed));
      endpoint = this.impaired;
    }
    const config: Partial<L2tpConfig> = { hostName: "lnsd-testkit-lac", ...(this.opts.secret === undefined ? {} : { secret: this.opts.secret }), ...this.opts.config };
    const log = this.opts.log;
    this.nodeOrUndefined = new L2tpNode(endpoint, {
      ...(this.opts.clock === undefined ? {} : { clock: this.opts.clock }),
      config,
      events: {
        tunnelUp: (t) => { this.onTunnelUp(t); },
        tunnelDown: (t) => { this.onTunnelDown(t); },
        sessionUp: (_t, s) => { this.onSessionUp(s); },
        sessionDown: (_t, s) => { this.onSessionDown(s); },
        data: (_t, s, packet, header) => {
          const rec = this.bySession.get(s);
          if (rec?.call !== undefined) this.opts.calls?.frame(rec.call, packet.subarray(header.payloadOffset, header.payloadOffset + header.payloadLength));
        },
        ...(log === undefined ? {} : { log }),
      },
    });
    this.startedAt = performance.now();
    for (let i = 0; i < this.opts.tunnels; i++) {
      const calls: CallRecord[] = [];
      for (let j = 0; j < this.opts.sessionsPerTunnel; j++) calls.push({ tunnelIndex: i, sessionIndex: j, state: "queued" });
      this.tunnelRecords.push({ index: i, state: "queued", openedAt: 0, calls, next: 0 });
    }
    this.pump();
  }

  /**
   * Resolves true once every tunnel and every call is established; false as soon as that can no
   * longer happen (everything settled, something failed) or after timeoutMs.
   */
  waitForAllUp(timeoutMs: number): Promise<boolean> {
    return this.waitFor(timeoutMs, () => {
      if (this.allUp()) return true;
      return this.settled() ? false : undefined;
    });
  }

  /**
   * CDN on every call (result 3, administrative), calls not yet placed are dropped. Resolves true
   * once the LNS has acknowledged every CDN, false after timeoutMs (default: the retransmit budget).
   */
  clearAll(timeoutMs?: number): Promise<boolean> {
    const node = this.node;
    this.cancelQueuedCalls();
    for (const t of [...node.tunnels.values()]) {
      for (const s of [...t.sessions.values()]) t.clearSession(s, CdnResultCode.Administrative, undefined, "cleared by the LAC simulator");
    }
    return this.waitForAcks(timeoutMs);
  }

  /**
   * StopCCN on every tunnel (result 1, general request to clear); tunnels and calls not yet opened
   * are dropped. Resolves true once every StopCCN is acknowledged, false after timeoutMs. The
   * tunnels then stay in node.tunnels for the hold time (stopCcnHoldMs, RFC 2661 5.7).
   */
  stopAll(timeoutMs?: number): Promise<boolean> {
    const node = this.node;
    this.cancelQueuedCalls();
    for (const r of this.tunnelRecords) if (r.state === "queued") r.state = "cancelled";
    for (const t of [...node.tunnels.values()]) t.stop(StopCcnResultCode.GeneralRequestToClear, undefined, "stopped by the LAC simulator");
    return this.waitForAcks(timeoutMs);
  }

  /** Closes the socket and forgets every tunnel at once (no StopCCN: call stopAll first for that). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.closedAt = performance.now();
    clearInterval(this.reconcileTimer);
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.resolve(false);
    }
    this.waiters.clear();
    this.nodeOrUndefined?.close();
  }

  report(): LacReport {
    this.reconcile();
    const now = this.nodeOrUndefined === undefined ? this.startedAt : (this.closedAt ?? performance.now());
    const reliable = emptyReliableCounters();
    addReliable(reliable, this.freedReliable);
    for (const t of this.nodeOrUndefined?.tunnels.values() ?? []) addReliable(reliable, t.transport.counters);
    let tunnelsUp = 0;
    let tunnelsFailed = 0;
    let placed = 0;
    let up = 0;
    let down = 0;
    let refused = 0;
    let failed = 0;
    for (const tr of this.tunnelRecords) {
      if (tr.state === "failed") tunnelsFailed++;
      else if (tr.state === "up" || tr.state === "gone") tunnelsUp++;
      for (const c of tr.calls) {
        if (c.session !== undefined) placed++;
        if (c.state === "up" || c.state === "down") up++;
        if (c.state === "down") down++;
        else if (c.state === "refused") refused++;
        else if (c.state === "failed") failed++;
      }
    }
    const requested = this.opts.tunnels * this.opts.sessionsPerTunnel;
    return {
      elapsedMs: now - this.startedAt,
      ...(this.allUpAt === undefined ? {} : { allUpMs: this.allUpAt - this.startedAt }),
      tunnels: {
        requested: this.opts.tunnels,
        up: tunnelsUp,
        failed: tunnelsFailed,
        established: [...(this.nodeOrUndefined?.tunnels.values() ?? [])].filter((t) => t.state === "established" && this.byTunnel.has(t)).length,
        failures: countResults(this.tunnelEnds),
        setup: timeStats(this.tunnelSetupMs),
      },
      sessions: {
        requested,
        placed,
        up,
        refused,
        failed,
        established: this.callsEstablished,
        down,
        refusals: countResults(this.refusals),
        failures: countResults(this.failures),
        setup: timeStats(this.callSetupMs),
      },
      reliable,
      drops: this.drops(reliable),
      ...(this.impaired === undefined ? {} : { impairment: { ...this.impaired.counters } }),
    };
  }

  /**
   * The node's counters, then the messages the reliable layer and the impairment threw away (a
   * stale Nr, counted in reliable.badNr, is ignored but its message is not dropped).
   */
  private drops(reliable: ReliableCounters): Record<string, number> {
    const out: Record<string, number> = Object.fromEntries(this.nodeOrUndefined?.counters ?? []);
    const put = (k: string, v: number): void => {
      if (v > 0) out[k] = v;
    };
    put("reliable:duplicate", reliable.duplicates);
    put("reliable:out-of-window", reliable.outOfWindow);
    const i = this.impaired?.counters;
    if (i !== undefined) {
      put("impairment:lost-out", i.txLost);
      put("impairment:lost-in", i.rxLost);
    }
    return out;
  }

  // ---- pacing -----------------------------------------------------------------------------

  /** Opens tunnels and places calls while the setup limits allow; then wakes whoever waits. */
  private pump(): void {
    if (this.closed) return;
    const node = this.node;
    while (this.tunnelsInSetup < this.maxTunnelsInSetup && this.nextTunnel < this.tunnelRecords.length) {
      const r = this.tunnelRecords[this.nextTunnel++];
      if (r === undefined || r.state !== "queued") continue;
      const t = node.openTunnel(this.opts.lns);
      if (t === undefined) {
        r.state = "failed";
        this.tunnelEnds.push({ by: "local", resultCode: StopCcnResultCode.GeneralError, message: "no tunnel id free on the LAC" });
        continue;
      }
      r.state = "setup";
      r.tunnel = t;
      r.openedAt = performance.now();
      this.byTunnel.set(t, r);
      this.tunnelsInSetup++;
    }
    while (this.callsInSetup < this.maxCallsInSetup && this.placing.length > 0) {
      this.placingCursor %= this.placing.length;
      const r = this.placing[this.placingCursor];
      if (r === undefined) break;
      const c = r.calls[r.next++];
      if (r.next >= r.calls.length) this.placing.splice(this.placingCursor, 1);
      else this.placingCursor++;
      if (c === undefined || c.state !== "queued" || r.tunnel === undefined) continue;
      this.place(r.tunnel, c);
    }
    this.wake();
  }

  private place(t: Tunnel, c: CallRecord): void {
    const { callInfo, proxy } = this.opts;
    const call: CallInfo = callInfo?.(c.tunnelIndex, c.sessionIndex) ?? { callingNumber: `testkit-${c.tunnelIndex}-${c.sessionIndex}` };
    const p = typeof proxy === "function" ? proxy(c.tunnelIndex, c.sessionIndex) : proxy;
    const options: PlaceCallOptions = p === undefined ? { call } : { call, proxy: p };
    const s = this.node.placeCall(t, options);
    if (s === undefined) {
      c.state = "failed";
      this.failures.push({ by: "local", resultCode: CdnResultCode.NoFacilitiesTemporary, message: "no session id free in the tunnel" });
      return;
    }
    c.state = "setup";
    c.session = s;
    this.bySession.set(s, c);
    this.callPlacedAt.set(c, performance.now());
    this.callsInSetup++;
  }

  private cancelQueuedCalls(): void {
    for (const r of this.tunnelRecords) {
      for (let i = r.next; i < r.calls.length; i++) {
        const c = r.calls[i];
        if (c?.state === "queued") c.state = "cancelled";
      }
      r.next = r.calls.length;
    }
    this.placing.length = 0;
  }

  // ---- node events --------------------------------------------------------------------------

  private onTunnelUp(t: Tunnel): void {
    const r = this.byTunnel.get(t);
    if (r?.state !== "setup") return;
    r.state = "up";
    this.tunnelsInSetup--;
    this.tunnelsEstablished++;
    this.tunnelSetupMs.push(performance.now() - r.openedAt);
    if (r.next < r.calls.length) this.placing.push(r);
    this.pump();
  }

  private onTunnelDown(t: Tunnel): void {
    addReliable(this.freedReliable, t.transport.counters);
    const r = this.byTunnel.get(t);
    if (r === undefined) return;
    this.byTunnel.delete(t);
    if (r.state === "setup") {
      this.tunnelsInSetup--;
      r.state = "failed";
      this.tunnelEnds.push(t.end ?? { by: "local", resultCode: StopCcnResultCode.GeneralError, message: "tunnel closed" });
    } else if (r.state === "up") {
      this.tunnelsEstablished--;
      r.state = "gone";
    }
    this.dropQueuedCalls(r);
    this.pump();
  }

  private onSessionUp(s: Session): void {
    const c = this.bySession.get(s);
    if (c?.state !== "setup") return;
    const r = this.tunnelRecords[c.tunnelIndex];
    const t = r?.tunnel;
    if (t === undefined) return;
    c.state = "up";
    this.callsInSetup--;
    this.callsEstablished++;
    this.callSetupMs.push(performance.now() - (this.callPlacedAt.get(c) ?? this.startedAt));
    this.callPlacedAt.delete(c);
    if (this.allUpAt === undefined && this.allUp()) this.allUpAt = performance.now();
    const handler = this.opts.calls;
    if (handler !== undefined) {
      const node = this.node;
      const call: LacCall = {
        tunnelIndex: c.tunnelIndex,
        sessionIndex: c.sessionIndex,
        tunnel: t,
        session: s,
        sendFrame: (frame) => {
          if (s.state !== "established" || t.state !== "established") return false;
          node.sendPppFrame(t, s, frame);
          s.txPackets++;
          return true;
        },
      };
      c.call = call;
      handler.up(call);
    }
    this.pump();
  }

  private onSessionDown(s: Session): void {
    const c = this.bySession.get(s);
    if (c === undefined) return;
    this.bySession.delete(s);
    if (c.state === "up") {
      c.state = "down";
      this.callsEstablished--;
      if (c.call !== undefined) this.opts.calls?.down(c.call);
    } else if (c.state === "setup") {
      this.callsInSetup--;
      this.callPlacedAt.delete(c);
      const end = s.end ?? { by: "local", resultCode: CdnResultCode.GeneralError, message: "call ended" };
      if (end.by === "peer") {
        c.state = "refused";
        this.refusals.push(end);
      } else {
        c.state = "failed";
        this.failures.push(end);
      }
    }
    this.pump();
  }

  /**
   * A tunnel that sent or received StopCCN stays in the node for the hold time (RFC 2661 5.7) and
   * only then says tunnelDown; count it as failed or gone as soon as it is closing.
   */
  private reconcile(): void {
    let changed = false;
    for (const [t, r] of this.byTunnel) {
      if (t.state !== "closing" && t.state !== "closed") continue;
      if (r.state === "setup") {
        this.tunnelsInSetup--;
        r.state = "failed";
        this.tunnelEnds.push(t.end ?? { by: "local", resultCode: StopCcnResultCode.GeneralError, message: "tunnel closed" });
      } else if (r.state === "up") {
        this.tunnelsEstablished--;
        r.state = "gone";
      } else continue;
      this.dropQueuedCalls(r);
      changed = true;
    }
    if (changed) this.pump();
  }

  private dropQueuedCalls(r: TunnelRecord): void {
    for (let i = r.next; i < r.calls.length; i++) {
      const c = r.calls[i];
      if (c?.state === "queued") c.state = "cancelled";
    }
    r.next = r.calls.length;
    const at = this.placing.indexOf(r);
    if (at >= 0) this.placing.splice(at, 1);
  }

  // ---- waiting --------------------------------------------------------------------------------

  private allUp(): boolean {
    return this.tunnelsEstablished === this.opts.tunnels && this.callsEstablished === this.opts.tunnels * this.opts.sessionsPerTunnel;
  }

  /** Nothing left to open, place or wait for. */
  private settled(): boolean {
    return this.tunnelsInSetup === 0 && this.callsInSetup === 0 && this.placing.length === 0 && this.tunnelRecords.every((r) => r.state !== "queued");
  }

  /** Every control message of every tunnel acknowledged (or its tunnel gone). */
  private acked(): boolean {
    for (const t of this.node.tunnels.values()) {
      if (t.state !== "closed" && t.peerId !== 0 && !t.transport.idle) return false;
    }
    return true;
  }

  private waitForAcks(timeoutMs: number | undefined): Promise<boolean> {
    // Acks have no event of their own: look every few milliseconds.
    const budget = timeoutMs ?? retransmitBudgetMs(this.node.config.reliable);
    const deadline = performance.now() + budget;
    return new Promise((resolve) => {
      const look = (): void => {
        if (this.closed) resolve(false);
        else if (this.acked()) resolve(true);
        else if (performance.now() >= deadline) resolve(false);
        else setTimeout(look, 10);
      };
      look();
    });
  }

  private waitFor(timeoutMs: number, check: () => boolean | undefined): Promise<boolean> {
    if (this.nodeOrUndefined === undefined) return Promise.reject(new Error("LacSimulator: not started"));
    const first = check();
    if (first !== undefined) return Promise.resolve(first);
    if (this.closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const w: Waiter = {
        check,
        resolve,
        timer: setTimeout(() => {
          this.waiters.delete(w);
          resolve(false);
          this.wake();
        }, timeoutMs),
      };
      this.waiters.add(w);
      // Tunnels that start closing say nothing until their hold time is over: look now and then.
      this.reconcileTimer ??= setInterval(() => {
        this.reconcile();
        this.wake();
      }, 50);
    });
  }

  private wake(): void {
    for (const w of this.waiters) {
      const v = w.check();
      if (v === undefined) continue;
      clearTimeout(w.timer);
      this.waiters.delete(w);
      w.resolve(v);
    }
    if (this.waiters.size === 0 && this.reconcileTimer !== undefined) {
      clearInterval(this.reconcileTimer);
      this.reconcileTimer = undefined;
    }
  }
}
