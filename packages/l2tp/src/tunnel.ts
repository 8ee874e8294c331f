// A tunnel (control connection) and the sessions inside it, in the LNS or LAC role: the tunnel
// state machine of RFC 2661 7.2 as a transition table, tunnel authentication (5.1.1), HELLO (6.5),
// StopCCN (5.7), and the session messages (ICRQ/ICRP/ICCN, CDN, WEN, SLI; OCRQ refused).
// Runs on the control thread; reliable delivery is below it (reliable.ts).
import {
  AvpType,
  avpName,
  CdnResultCode,
  decodeControlMessage,
  parseControlMessage,
  peekControlAvp,
  encodeControlMessage,
  getAvp,
  L2tpErrorCode,
  L2tpMessageType,
  l2tpMessageTypeName,
  StopCcnResultCode,
  tunnelChallengeResponse,
  verifyTunnelChallengeResponse,
  FramingBits,
  BearerBits,
  type AvpValues,
  type L2tpControlHeader,
  type L2tpAvpMessage,
  type PppDisconnectCauseValue,
  type WireError,
} from "@lnsd/wire";
import type { Clock, PeerAddress, TimerHandle } from "@lnsd/io";
import type { L2tpConfig } from "./config.js";
import { IdAllocator } from "./ids.js";
import { ReliableTransport, DEFAULT_PEER_WINDOW, type ReliableRecord } from "./reliable.js";
import {
  Session,
  callFromRecord,
  callRecord,
  proxyFromRecord,
  proxyRecord,
  type CallInfo,
  type ProxyInfo,
  type SessionEnd,
  type SessionRecord,
} from "./session.js";

export type TunnelRole = "lns" | "lac";

export type TunnelState = "idle" | "wait-ctl-reply" | "wait-ctl-conn" | "established" | "closing" | "closed";

export type TunnelEvent =
  | "open"
  | "recv-SCCRQ"
  | "recv-SCCRP"
  | "recv-SCCCN"
  | "recv-StopCCN"
  | "send-StopCCN"
  | "transport-failed"
  | "hold-expired"
  | "replaced";

/** RFC 2661 7.2: control connection states, and where each event leads from each. */
export const TUNNEL_TRANSITIONS: { readonly [S in TunnelState]: { readonly [E in TunnelEvent]?: TunnelState } } = {
  idle: { open: "wait-ctl-reply", "recv-SCCRQ": "wait-ctl-conn", "send-StopCCN": "closing" },
  "wait-ctl-reply": { "recv-SCCRP": "established", "recv-StopCCN": "closing", "send-StopCCN": "closing", "transport-failed": "closed" },
  "wait-ctl-conn": { "recv-SCCCN": "established", "recv-StopCCN": "closing", "send-StopCCN": "closing", "transport-failed": "closed", replaced: "closed" },
  established: { "recv-StopCCN": "closing", "send-StopCCN": "closing", "transport-failed": "closed", replaced: "closed" },
  closing: { "hold-expired": "closed", "transport-failed": "closed", "recv-StopCCN": "closing", replaced: "closed" },
  closed: {},
};

/**
 * With a secret, these AVPs are sent hidden (RFC 2661 4.3): the subscriber's identity and
 * credentials. Only to a peer that answered our Challenge or hid AVPs itself: hiding needs the
 * secret at both ends, and a peer without it would read garbage.
 */
export const HIDDEN_WHEN_SECRET: readonly AvpType[] = [
  AvpType.AssignedSessionId,
  AvpType.CalledNumber,
  AvpType.CallingNumber,
  AvpType.SubAddress,
  AvpType.InitialReceivedLcpConfreq,
  AvpType.LastSentLcpConfreq,
  AvpType.LastReceivedLcpConfreq,
  AvpType.ProxyAuthenName,
  AvpType.ProxyAuthenChallenge,
  AvpType.ProxyAuthenId,
  AvpType.ProxyAuthenResponse,
];

export interface TunnelEnd {
  readonly by: "peer" | "local";
  readonly resultCode: number;
  readonly errorCode?: number;
  readonly message?: string;
}

export type LogLevel = "error" | "warn" | "info" | "debug";

/** What a tunnel needs from the node that owns it. */
export interface TunnelHost {
  /** The node's settings now (a reload may change them between calls). */
  config(): L2tpConfig;
  readonly clock: Clock;
  random(n: number): Buffer;
  /** A control message or ZLB of `tunnel` leaves (its Ns/Nr or queue changed: record it first). */
  transmit(packet: Buffer, to: PeerAddress, tunnel: Tunnel): void;
  /** Admission of a new incoming call (LNS): undefined to accept, or the CDN to refuse with. */
  admitSession(tunnel: Tunnel): { resultCode: number; errorCode?: number; message: string } | undefined;
  sessionAdded(tunnel: Tunnel, s: Session): void;
  sessionStateChanged(tunnel: Tunnel, s: Session): void;
  sessionRemoved(tunnel: Tunnel, s: Session): void;
  tunnelStateChanged(t: Tunnel): void;
  tunnelFreed(t: Tunnel): void;
  count(what: string): void;
  log(level: LogLevel, reason: string, message: string): void;
}

/** A message that failed validation, with what could still be read of it to address the answer. */
interface BadInbound {
  readonly ok: false;
  readonly error: WireError;
  /** Session ID of the header. */
  readonly sessionId: number;
  readonly messageType?: number;
  /** The peer's Assigned Session ID, when the message carries one we can read. */
  readonly peerSessionId?: number;
}

/** What a tunnel's transport carries up: a decoded message, or one that failed validation. */
type Inbound = { readonly ok: true; readonly msg: L2tpAvpMessage } | BadInbound;

export interface TunnelTransition {
  readonly from: TunnelState;
  readonly event: TunnelEvent;
  readonly to: TunnelState;
  readonly reason: string;
}

/** The peer's side of the control connection, from its SCCRQ or SCCRP. */
export interface TunnelPeerInfo {
  hostName?: string;
  vendorName?: string;
  firmwareRevision?: number;
  framingCapabilities?: number;
  bearerCapabilities?: number;
  receiveWindowSize?: number;
  tieBreaker?: bigint;
}

export interface PlaceCallOptions {
  readonly call?: CallInfo;
  /** Send the proxy LCP / proxy authentication AVPs in ICCN (RFC 2661 4.4.5). */
  readonly proxy?: ProxyInfo;
}

/** TunnelPeerInfo as plain data: the Tie Breaker (a 64-bit value) in hex. */
export interface TunnelPeerRecord {
  readonly hostName?: string;
  readonly vendorName?: string;
  readonly firmwareRevision?: number;
  readonly framingCapabilities?: number;
  readonly bearerCapabilities?: number;
  readonly receiveWindowSize?: number;
  readonly tieBreakerHex?: string;
}

/**
 * A tunnel (control connection) and its sessions as plain, JSON-serialisable data (issue 13):
 * enough for another process to continue the control channel. Byte strings are hex; times are
 * wall-clock epoch ms.
 */
export interface TunnelRecord {
  readonly role: TunnelRole;
  readonly localId: number;
  readonly peerId: number;
  readonly address: PeerAddress;
  readonly state: TunnelState;
  readonly createdAt: number;
  /** Last message from the peer: HELLO is sent after helloIntervalMs of quiet (RFC 2661 6.5). */
  readonly lastHeardAt: number;
  readonly peer: TunnelPeerRecord;
  /** Tunnel authentication (RFC 2661 5.1.1) and hiding (4.3). */
  readonly auth: {
    /** The Challenge we sent, while its response may still arrive. */
    readonly ourChallengeHex?: string;
    /** The peer answered our Challenge correctly. */
    readonly peerProvedSecret: boolean;
    /** The peer sent hidden AVPs; with peerProvedSecret, whether we hide AVPs to it. */
    readonly peerHides: boolean;
  };
  /** Ns/Nr, windows, unacknowledged messages and their retransmission deadline. */
  readonly transport: ReliableRecord;
  /** When the HELLO timer next looks at the tunnel (established only). */
  readonly helloAt?: number;
  /** When the StopCCN hold ends and the tunnel is freed (closing only, RFC 2661 5.7). */
  readonly holdUntil?: number;
  readonly end?: TunnelEnd;
  readonly refusal?: TunnelEnd;
  readonly history: readonly TunnelTransition[];
  /** LAC: the last Call Serial Number given out. */
  readonly callSerial: number;
  /** LNS: the SCCRQ that opened the tunnel, to recognise its retransmissions. */
  readonly openingSccrqHex?: string;
  readonly sessions: readonly SessionRecord[];
}

export class Tunnel {
  state: TunnelState = "idle";
  /** Our Tunnel ID: the peer puts it in the header of what it sends (RFC 2661 3.1). */
  readonly localId: number;
  /** The peer's Assigned Tunnel ID: the header of what we send. */
  peerId = 0;
  readonly peer: TunnelPeerInfo = {};
  readonly sessions = new Map<number, Session>();
  readonly history: TunnelTransition[] = [];
  end: TunnelEnd | undefined;
  readonly createdAt: number;
  readonly transport: ReliableTransport<Inbound>;
  private sessionIds = new IdAllocator();
  private ourChallenge: Buffer | undefined;
  /** RFC 2661 5.1.1: the peer answered our Challenge correctly. */
  private peerProvedSecret = false;
  /** RFC 2661 4.3: the peer sent hidden AVPs that our secret revealed. */
  private peerHides = false;
  /** What was logged once for this tunnel (an AVP missing or ignored, by message type). */
  private readonly loggedOnce = new Set<string>();
  private lastHeard: number;
  private helloTimer: TimerHandle | undefined;
  private helloDue = 0;
  private holdTimer: TimerHandle | undefined;
  private holdDue = 0;
  /** Session setup timers by Session ID, with when they fire (clock time). */
  private readonly setupTimers = new Map<number, { readonly handle: TimerHandle; readonly at: number }>();
  private readonly pendingCalls = new Map<number, PlaceCallOptions>();
  private callSerial = 0;
  /** LNS: the SCCRQ that opened this tunnel, to tell its retransmissions from a restarted LAC. */
  openingSccrq: Buffer | undefined;
  /** LNS admission: set before the SCCRQ is delivered to answer it with this StopCCN instead. */
  refusal: TunnelEnd | undefined;

  constructor(
    private readonly host: TunnelHost,
    readonly role: TunnelRole,
    localId: number,
    readonly address: PeerAddress,
    createdAt?: number,
  ) {
    this.localId = localId;
    this.createdAt = createdAt ?? host.clock.now();
    this.lastHeard = this.createdAt;
    this.transport = new ReliableTransport<Inbound>(
      host.clock,
      {
        transmit: (p) => { host.transmit(p, this.address, this); },
        buildZlb: (ns, nr) => encodeControlMessage({ messageType: "ZLB", tunnelId: this.peerId, sessionId: 0, ns, nr }),
        deliver: (m) => { this.deliver(m); },
        failed: (reason) => { this.onTransportFailed(reason); },
      },
      host.config().reliable,
    );
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  // ---- records ------------------------------------------------------------------------------

  /** The tunnel and its sessions as a record (epochOffsetMs: epoch ms minus clock time). */
  record(epochOffsetMs: number): TunnelRecord {
    return { ...this.headerRecord(epochOffsetMs), sessions: [...this.sessions.values()].map((s) => this.sessionRecord(s, epochOffsetMs)) };
  }

  /**
   * One session of this tunnel as a record (with its setup deadline and pending call): a journal
   * writes sessions apart from their tunnel, so that a change costs one session's bytes.
   */
  sessionRecord(s: Session, epochOffsetMs: number): SessionRecord {
    const setup = this.setupTimers.get(s.localId);
    const pending = this.pendingCalls.get(s.localId);
    return {
      ...s.record(epochOffsetMs),
      ...(setup === undefined ? {} : { setupDeadline: setup.at + epochOffsetMs }),
      ...(pending === undefined
        ? {}
        : {
            pendingCall: {
              ...(pending.call === undefined ? {} : { call: callRecord(pending.call) }),
              ...(pending.proxy === undefined ? {} : { proxy: proxyRecord(pending.proxy) }),
            },
          }),
    };
  }

  /**
   * The tunnel without its sessions (their list empty): see sessionRecord. withPackets false: the
   * queued control messages by Ns only (a journal keeps their bytes apart, see messagePacket).
   */
  headerRecord(epochOffsetMs: number, withPackets = true): TunnelRecord {
    const { tieBreaker, ...peerInfo } = this.peer;
    const peer: TunnelPeerRecord = { ...peerInfo, ...(tieBreaker === undefined ? {} : { tieBreakerHex: tieBreaker.toString(16).padStart(16, "0") }) };
    return {
      role: this.role,
      localId: this.localId,
      peerId: this.peerId,
      address: { address: this.address.address, port: this.address.port },
      state: this.state,
      createdAt: this.createdAt + epochOffsetMs,
      lastHeardAt: this.lastHeard + epochOffsetMs,
      peer,
      auth: {
        ...(this.ourChallenge === undefined ? {} : { ourChallengeHex: this.ourChallenge.toString("hex") }),
        peerProvedSecret: this.peerProvedSecret,
        peerHides: this.peerHides,
      },
      transport: this.transport.record(epochOffsetMs, withPackets),
      ...(this.helloTimer === undefined ? {} : { helloAt: this.helloDue + epochOffsetMs }),
      ...(this.holdTimer === undefined ? {} : { holdUntil: this.holdDue + epochOffsetMs }),
      ...(this.end === undefined ? {} : { end: this.end }),
      ...(this.refusal === undefined ? {} : { refusal: this.refusal }),
      history: this.history.map((h) => ({ ...h })),
      callSerial: this.callSerial,
      ...(this.openingSccrq === undefined ? {} : { openingSccrqHex: this.openingSccrq.toString("hex") }),
      sessions: [],
    };
  }

  /**
   * A tunnel rebuilt from its record, in the recorded state and without a word to the host (no
   * state-change callbacks): its transport resends what was unacknowledged when due, its timers
   * (HELLO, StopCCN hold, session setup) run to their recorded deadlines.
   */
  static fromRecord(host: TunnelHost, r: TunnelRecord, epochOffsetMs: number): Tunnel {
    const t = new Tunnel(host, r.role, r.localId, { address: r.address.address, port: r.address.port }, r.createdAt - epochOffsetMs);
    t.state = r.state;
    t.peerId = r.peerId;
    const { tieBreakerHex, ...peerInfo } = r.peer;
    Object.assign(t.peer, peerInfo, tieBreakerHex === undefined ? {} : { tieBreaker: BigInt(`0x${tieBreakerHex}`) });
    t.history.push(...r.history.map((h) => ({ ...h })));
    if (r.end !== undefined) t.end = r.end;
    if (r.refusal !== undefined) t.refusal = r.refusal;
    if (r.auth.ourChallengeHex !== undefined) t.ourChallenge = Buffer.from(r.auth.ourChallengeHex, "hex");
    t.peerProvedSecret = r.auth.peerProvedSecret;
    t.peerHides = r.auth.peerHides;
    t.lastHeard = r.lastHeardAt - epochOffsetMs;
    t.callSerial = r.callSerial;
    if (r.openingSccrqHex !== undefined) t.openingSccrq = Buffer.from(r.openingSccrqHex, "hex");
    const now = host.clock.now();
    const after = (at: number | undefined): number | undefined => (at === undefined ? undefined : Math.max(0, at - epochOffsetMs - now));
    for (const sr of r.sessions) {
      const s = Session.fromRecord(sr, epochOffsetMs);
      t.sessions.set(s.localId, s);
      if (sr.setupDeadline !== undefined) t.armSetupTimer(s, after(sr.setupDeadline));
      const pc = sr.pendingCall;
      if (pc !== undefined) {
        t.pendingCalls.set(s.localId, {
          ...(pc.call === undefined ? {} : { call: callFromRecord(pc.call) }),
          ...(pc.proxy === undefined ? {} : { proxy: proxyFromRecord(pc.proxy) }),
        });
      }
    }
    t.sessionIds = IdAllocator.withInUse(t.sessions.keys());
    t.transport.restore(r.transport, epochOffsetMs);
    if (t.state === "established") t.armHello(after(r.helloAt));
    if (t.state === "closing") t.startHold(after(r.holdUntil));
    return t;
  }

  // ---- events from the node -------------------------------------------------------------

  /** LAC: open the control connection with SCCRQ (RFC 2661 5.1). */
  open(): void {
    if (!this.fire("open", "opening control connection")) return;
    const config = this.host.config();
    const avps: AvpValues = {
      [AvpType.ProtocolVersion]: { version: 1, revision: 0 },
      [AvpType.HostName]: config.hostName,
      [AvpType.FramingCapabilities]: FramingBits.Sync | FramingBits.Async,
      [AvpType.BearerCapabilities]: BearerBits.Digital | BearerBits.Analog,
      [AvpType.AssignedTunnelId]: this.localId,
      [AvpType.ReceiveWindowSize]: config.reliable.receiveWindow,
      [AvpType.FirmwareRevision]: config.firmwareRevision,
      [AvpType.VendorName]: config.vendorName,
      [AvpType.TieBreaker]: this.host.random(8).readBigUInt64BE(0),
    };
    if (config.secret !== undefined) {
      this.ourChallenge = this.host.random(16);
      avps[AvpType.Challenge] = this.ourChallenge;
    }
    this.send(L2tpMessageType.SCCRQ, 0, avps);
  }

  /** A control message (or ZLB) for this tunnel, header already decoded by the node. */
  receive(packet: Buffer, header: L2tpControlHeader): void {
    if (this.state === "closed") return;
    this.lastHeard = this.host.clock.now();
    const secret = this.host.config().secret;
    const r = decodeControlMessage(packet, secret === undefined ? {} : { secret });
    if (!r.ok) {
      this.host.count(`bad-control:${r.error.code}`);
      this.transport.receive(header.ns, header.nr, badInbound(packet, header.sessionId, r.error, secret));
      return;
    }
    const msg = r.value;
    if (msg.messageType === "ZLB") {
      this.transport.receive(msg.ns, msg.nr, undefined);
      return;
    }
    if (msg.received.some((a) => a.hidden)) this.peerHides = true;
    this.transport.receive(msg.ns, msg.nr, { ok: true, msg });
  }

  /** LAC: place an incoming call (RFC 2661 5.2.1: ICRQ, ICRP, ICCN). */
  placeCall(opts: PlaceCallOptions = {}): Session | undefined {
    if (this.role !== "lac" || this.state === "closing" || this.state === "closed") return undefined;
    const id = this.sessionIds.allocate();
    if (id === undefined) return undefined;
    const s = new Session("lac", id, this.host.clock.now());
    Object.assign(s.call, opts.call ?? {});
    this.sessions.set(id, s);
    this.pendingCalls.set(id, opts);
    this.host.sessionAdded(this, s);
    s.fire("place-call", "call placed");
    this.armSetupTimer(s);
    if (this.state === "established") this.sendIcrq(s);
    return s;
  }

  /** Clears one session with CDN (RFC 2661 5.7 / 6.12). */
  clearSession(s: Session, resultCode: number, errorCode?: number, message?: string, pppCause?: PppDisconnectCauseValue): void {
    this.clearSessionOn("close", s, resultCode, errorCode, message, pppCause);
  }

  private clearSessionOn(event: "close" | "setup-timeout", s: Session, resultCode: number, errorCode?: number, message?: string, pppCause?: PppDisconnectCauseValue): void {
    if (this.sessions.get(s.localId) !== s || s.state === "closed") return;
    if (s.state !== "wait-tunnel" && this.state !== "closing") {
      const avps: AvpValues = {
        [AvpType.ResultCode]: resultValue(resultCode, errorCode, message),
        [AvpType.AssignedSessionId]: s.localId,
      };
      if (pppCause !== undefined) avps[AvpType.PppDisconnectCauseCode] = pppCause;
      this.send(L2tpMessageType.CDN, s.peerId, avps);
    }
    this.endSession(s, event, endOf("local", resultCode, errorCode, message, pppCause));
  }

  /** Tears the tunnel down with StopCCN (RFC 2661 5.7); its sessions go with it. */
  stop(resultCode: number, errorCode?: number, message?: string): void {
    if (this.state === "closing" || this.state === "closed") return;
    this.end = endOf("local", resultCode, errorCode, message);
    const canSend = this.peerId !== 0;
    if (!this.fire("send-StopCCN", `StopCCN sent: ${message ?? `result ${resultCode}`}`)) return;
    if (canSend) {
      this.send(L2tpMessageType.StopCCN, 0, {
        [AvpType.AssignedTunnelId]: this.localId,
        [AvpType.ResultCode]: resultValue(resultCode, errorCode, message),
      });
    }
    this.dropAllSessions(endOf("local", CdnResultCode.Administrative, undefined, "tunnel closed"));
    this.startHold();
  }

  /** The LAC restarted and opened a new tunnel in this one's place: free it without a word. */
  replace(): void {
    if (!this.fire("replaced", "peer restarted (new SCCRQ with the same Assigned Tunnel ID)")) return;
    this.end = endOf("peer", StopCcnResultCode.GeneralRequestToClear, undefined, "peer restarted");
    this.dropAllSessions(endOf("peer", CdnResultCode.LossOfCarrier, undefined, "peer restarted"));
    this.free();
  }

  /**
   * The node is closing: stop every timer and forget the tunnel and its sessions without sending
   * anything. Not a protocol event, so not in the transition table; stop() is the orderly way.
   */
  discard(): void {
    if (this.state === "closed") return;
    this.end ??= endOf("local", StopCcnResultCode.GeneralRequestToClear, undefined, "node closed");
    this.dropAllSessions(endOf("local", CdnResultCode.Administrative, undefined, "node closed"));
    this.free();
  }

  /** Data message for one of our sessions (control thread path; the data plane takes over later). */
  sessionFor(sessionId: number): Session | undefined {
    return this.sessions.get(sessionId);
  }

  // ---- what the transport delivers, in order -------------------------------------------

  private deliver(m: Inbound): void {
    if (this.state === "closed") return;
    if (!m.ok) {
      this.onBadMessage(m);
      return;
    }
    const msg = m.msg;
    const type = msg.messageType;
    this.noteLeniency(msg);
    switch (type) {
      case L2tpMessageType.SCCRQ:
        this.onSccrq(msg);
        return;
      case L2tpMessageType.SCCRP:
        this.onSccrp(msg);
        return;
      case L2tpMessageType.SCCCN:
        this.onScccn(msg);
        return;
      case L2tpMessageType.StopCCN:
        this.onStopCcn(msg);
        return;
      case L2tpMessageType.HELLO:
        // RFC 2661 6.5: nothing to do but acknowledge, which the transport does.
        return;
      case L2tpMessageType.ICRQ:
        this.onIcrq(msg);
        return;
      case L2tpMessageType.ICRP:
        this.onIcrp(msg);
        return;
      case L2tpMessageType.ICCN:
        this.onIccn(msg);
        return;
      case L2tpMessageType.CDN:
        this.onCdn(msg);
        return;
      case L2tpMessageType.WEN:
      case L2tpMessageType.SLI:
        this.onLinkInfo(msg);
        return;
      case L2tpMessageType.OCRQ:
        this.onOcrq(msg);
        return;
      case L2tpMessageType.OCRP:
      case L2tpMessageType.OCCN:
        // We never place outgoing calls, so these answer nothing of ours.
        this.host.count("unexpected-outgoing-call-reply");
        this.host.log("warn", "unexpected-ocrp", `tunnel ${this.localId}: ${l2tpMessageTypeName(type)} for a call we never placed`);
        return;
      default: {
        const never: never = type;
        return never;
      }
    }
  }

  /** RFC 2661 4.1: a message we cannot accept is answered at once, StopCCN or CDN as the error says. */
  private onBadMessage(m: BadInbound): void {
    const { error } = m;
    const a = error.action;
    this.host.log("warn", `bad-control:${error.code}`, `tunnel ${this.localId}: ${error.reason}`);
    if (a.kind === "stopccn") {
      this.stop(a.resultCode, a.errorCode, error.reason);
      return;
    }
    if (a.kind !== "cdn") return;
    if (m.messageType === L2tpMessageType.ICRQ || m.messageType === L2tpMessageType.OCRQ) {
      // No session exists yet: refuse the call, addressed to its Assigned Session ID if readable
      // (else Session ID 0: the LAC learns at least that its request failed, and why).
      this.refuseCall(m.peerSessionId ?? 0, a.resultCode, a.errorCode, error.reason);
      return;
    }
    const s = m.sessionId !== 0 ? this.sessions.get(m.sessionId) : [...this.sessions.values()].find((x) => m.peerSessionId !== undefined && x.peerId === m.peerSessionId);
    if (s === undefined) {
      this.host.count("bad-control-unknown-session");
      return;
    }
    if (m.messageType === L2tpMessageType.CDN) {
      // RFC 2661 5.7: the peer has cleared the call already; a CDN back would name a call it forgot.
      this.endSession(s, "recv-CDN", endOf("peer", 0, undefined, `CDN not understood: ${error.reason}`));
      return;
    }
    this.clearSession(s, a.resultCode, a.errorCode, error.reason);
  }

  /** RFC 2661 5.7: CDN for a call we never set up; our Assigned Session ID is borrowed for it. */
  private refuseCall(peerSessionId: number, resultCode: number, errorCode: number | undefined, message: string): void {
    const id = this.sessionIds.allocate();
    this.send(L2tpMessageType.CDN, peerSessionId, {
      [AvpType.ResultCode]: resultValue(resultCode, errorCode, message),
      [AvpType.AssignedSessionId]: id ?? 0xffff,
    });
    if (id !== undefined) this.sessionIds.release(id);
  }

  /** Required AVPs lnsd did without and AVPs it ignored: counted each time, logged once per tunnel. */
  private noteLeniency(msg: L2tpAvpMessage): void {
    const what = l2tpMessageTypeName(msg.messageType);
    for (const type of msg.missing) {
      this.host.count(`avp-missing:${avpName(type)}`);
      this.logOnce(`missing ${what} ${type}`, "avp-missing", `tunnel ${this.localId}: ${what} without the ${avpName(type)} AVP; going on without it`);
    }
    for (const i of msg.ignored) {
      this.host.count(`avp-ignored:${avpName(i.type)}`);
      this.logOnce(`ignored ${what} ${i.type}`, "avp-ignored", `tunnel ${this.localId}: ${what}: ${i.reason}; M bit clear, AVP ignored`);
    }
  }

  private logOnce(key: string, reason: string, message: string): void {
    if (this.loggedOnce.has(key)) return;
    this.loggedOnce.add(key);
    this.host.log("info", reason, message);
  }

  // ---- tunnel messages --------------------------------------------------------------------

  /** LNS: SCCRQ (RFC 2661 6.1), answered with SCCRP (6.2). */
  private onSccrq(msg: L2tpAvpMessage): void {
    if (this.state !== "idle") {
      this.fsmError("SCCRQ");
      return;
    }
    this.peerId = getAvp(msg, AvpType.AssignedTunnelId) ?? 0;
    this.notePeer(msg);
    this.fire("recv-SCCRQ", "SCCRQ received");
    if (this.refusal !== undefined) {
      this.stop(this.refusal.resultCode, this.refusal.errorCode, this.refusal.message);
      return;
    }
    const version = getAvp(msg, AvpType.ProtocolVersion);
    if (version === undefined || version.version !== 1 || version.revision !== 0) {
      // RFC 2661 4.4.2: result 5, the error code carries the highest version we support (1.0).
      this.stop(StopCcnResultCode.UnsupportedProtocolVersion, 0x0100, "only L2TP version 1.0 (RFC 2661) is supported");
      return;
    }
    const config = this.host.config();
    const { secret, requireTunnelAuth } = config;
    const avps: AvpValues = {
      [AvpType.ProtocolVersion]: { version: 1, revision: 0 },
      [AvpType.FramingCapabilities]: FramingBits.Sync | FramingBits.Async,
      [AvpType.BearerCapabilities]: BearerBits.Digital | BearerBits.Analog,
      [AvpType.FirmwareRevision]: config.firmwareRevision,
      [AvpType.HostName]: config.hostName,
      [AvpType.VendorName]: config.vendorName,
      [AvpType.AssignedTunnelId]: this.localId,
      [AvpType.ReceiveWindowSize]: config.reliable.receiveWindow,
    };
    const challenge = getAvp(msg, AvpType.Challenge);
    if (challenge !== undefined && secret === undefined) {
      // l2tpns answers without a Challenge Response and leaves the LAC to refuse; we say why.
      this.refuseAuth("tunnel-auth-no-secret", "the LAC sent a Challenge but no l2tp_secret is set");
      return;
    }
    if (requireTunnelAuth && secret === undefined) {
      this.refuseAuth("tunnel-auth-no-secret", "l2tp_require_auth is set but no l2tp_secret");
      return;
    }
    if (challenge !== undefined && secret !== undefined) {
      avps[AvpType.ChallengeResponse] = tunnelChallengeResponse(L2tpMessageType.SCCRP, secret, challenge);
    }
    // RFC 2661 5.1.1: we challenge a LAC that challenged us (authentication is then mutual), or
    // every LAC with l2tp_require_auth; a LAC without a secret is never asked what it cannot answer.
    if (secret !== undefined && (challenge !== undefined || requireTunnelAuth)) {
      this.ourChallenge = this.host.random(16);
      avps[AvpType.Challenge] = this.ourChallenge;
    }
    this.send(L2tpMessageType.SCCRP, 0, avps);
  }

  /** LAC: SCCRP (RFC 2661 6.2), answered with SCCCN (6.3). */
  private onSccrp(msg: L2tpAvpMessage): void {
    if (this.state !== "wait-ctl-reply") {
      this.fsmError("SCCRP");
      return;
    }
    this.peerId = getAvp(msg, AvpType.AssignedTunnelId) ?? 0;
    this.notePeer(msg);
    if (!this.checkChallengeResponse(msg, L2tpMessageType.SCCRP)) return;
    const avps: AvpValues = {};
    const challenge = getAvp(msg, AvpType.Challenge);
    const secret = this.host.config().secret;
    if (challenge !== undefined) {
      if (secret === undefined) {
        this.refuseAuth("tunnel-auth-no-secret", "the LNS sent a Challenge but no l2tp_secret is set");
        return;
      }
      avps[AvpType.ChallengeResponse] = tunnelChallengeResponse(L2tpMessageType.SCCCN, secret, challenge);
    }
    // SCCCN takes its Ns before the transition announces the tunnel: a call placed from the
    // tunnelUp event must not overtake it (the LNS would see ICRQ in wait-ctl-conn, RFC 2661 7.2).
    this.send(L2tpMessageType.SCCCN, 0, avps);
    this.fire("recv-SCCRP", "SCCRP received, SCCCN sent");
    this.established();
  }

  /** LNS: SCCCN (RFC 2661 6.3): the tunnel is up. */
  private onScccn(msg: L2tpAvpMessage): void {
    if (this.state !== "wait-ctl-conn") {
      this.fsmError("SCCCN");
      return;
    }
    if (!this.checkChallengeResponse(msg, L2tpMessageType.SCCCN)) return;
    this.fire("recv-SCCCN", "SCCCN received");
    this.established();
  }

  /** RFC 2661 5.1.1: once we sent a Challenge, the peer must answer it, and correctly. */
  private checkChallengeResponse(msg: L2tpAvpMessage, carrier: typeof L2tpMessageType.SCCRP | typeof L2tpMessageType.SCCCN): boolean {
    if (this.ourChallenge === undefined) return true;
    const { secret } = this.host.config();
    const response = getAvp(msg, AvpType.ChallengeResponse);
    if (response === undefined) {
      this.refuseAuth("tunnel-auth-missing", "no Challenge Response to our Challenge");
      return false;
    }
    // A reload may have removed the secret since the Challenge went out: nothing to check against.
    if (secret === undefined || !verifyTunnelChallengeResponse(carrier, secret, this.ourChallenge, response)) {
      this.refuseAuth("tunnel-auth-failed", "Challenge Response does not match (wrong l2tp_secret?)");
      return false;
    }
    this.peerProvedSecret = true;
    return true;
  }

  /** RFC 2661 4.4.2: StopCCN result 4, "requester is not authorized to establish a control channel". */
  private refuseAuth(counter: string, reason: string): void {
    this.host.count(counter);
    this.host.log("warn", counter, `tunnel ${this.localId} from ${this.address.address}: ${reason}`);
    this.stop(StopCcnResultCode.NotAuthorized, undefined, reason);
  }

  private notePeer(msg: L2tpAvpMessage): void {
    const p = this.peer;
    const set = <K extends keyof TunnelPeerInfo>(k: K, v: TunnelPeerInfo[K] | undefined): void => {
      put(p, k, v);
    };
    set("hostName", getAvp(msg, AvpType.HostName));
    set("vendorName", getAvp(msg, AvpType.VendorName));
    set("firmwareRevision", getAvp(msg, AvpType.FirmwareRevision));
    set("framingCapabilities", getAvp(msg, AvpType.FramingCapabilities));
    set("bearerCapabilities", getAvp(msg, AvpType.BearerCapabilities));
    set("tieBreaker", getAvp(msg, AvpType.TieBreaker));
    const rws = getAvp(msg, AvpType.ReceiveWindowSize);
    set("receiveWindowSize", rws);
    this.transport.setPeerWindow(rws ?? DEFAULT_PEER_WINDOW);
  }

  /** After the transition to established (which told the host): HELLO timer, waiting calls. */
  private established(): void {
    this.armHello();
    for (const s of this.sessions.values()) {
      if (s.state === "wait-tunnel") this.sendIcrq(s);
    }
  }

  /** RFC 2661 6.4: StopCCN from the peer: acknowledge at once, drop every session, hold a while. */
  private onStopCcn(msg: L2tpAvpMessage): void {
    if (this.state === "closing") {
      // Both ends stopped at once (RFC 2661 5.7): acknowledge theirs, keep holding ours.
      this.fire("recv-StopCCN", "StopCCN received while closing");
      this.transport.flushAck();
      return;
    }
    const rc = getAvp(msg, AvpType.ResultCode);
    this.end = endOf("peer", rc?.resultCode ?? 0, rc?.errorCode, rc?.errorMessage);
    this.fire("recv-StopCCN", `StopCCN received: ${rc?.errorMessage ?? `result ${rc?.resultCode ?? 0}`}`);
    this.transport.flushAck();
    this.dropAllSessions(endOf("peer", CdnResultCode.LossOfCarrier, undefined, "tunnel closed by peer"));
    this.startHold();
  }

  // ---- session messages -------------------------------------------------------------------

  /** LNS: ICRQ (RFC 2661 6.10), answered with ICRP (6.11) or a refusing CDN. */
  private onIcrq(msg: L2tpAvpMessage): void {
    if (this.state !== "established" || this.role !== "lns") {
      this.fsmError("ICRQ");
      return;
    }
    const peerSessionId = getAvp(msg, AvpType.AssignedSessionId) ?? 0;
    const id = this.sessionIds.allocate();
    const refusal = id === undefined ? { resultCode: CdnResultCode.NoFacilitiesTemporary, message: "no session id free in this tunnel" } : this.host.admitSession(this);
    if (id === undefined || refusal !== undefined) {
      this.host.count("icrq-refused");
      const rc = refusal ?? { resultCode: CdnResultCode.NoFacilitiesTemporary, message: "refused" };
      this.host.log("info", "icrq-refused", `tunnel ${this.localId}: call refused: ${rc.message}`);
      if (id !== undefined) this.sessionIds.release(id);
      this.refuseCall(peerSessionId, rc.resultCode, "errorCode" in rc ? rc.errorCode : undefined, rc.message);
      return;
    }
    const s = new Session("lns", id, this.host.clock.now());
    s.peerId = peerSessionId;
    noteCall(s.call, msg);
    this.sessions.set(id, s);
    this.host.sessionAdded(this, s);
    s.fire("recv-ICRQ", "ICRQ received, ICRP sent");
    this.armSetupTimer(s);
    this.send(L2tpMessageType.ICRP, s.peerId, { [AvpType.AssignedSessionId]: s.localId });
    this.host.sessionStateChanged(this, s);
  }

  /** LAC: ICRP (RFC 2661 6.11), answered with ICCN (6.12): the call is up. */
  private onIcrp(msg: L2tpAvpMessage): void {
    const s = this.sessionOf(msg, "ICRP");
    if (s === undefined) return;
    if (s.state !== "wait-reply") {
      this.sessionFsmError(s, "ICRP");
      return;
    }
    s.peerId = getAvp(msg, AvpType.AssignedSessionId) ?? 0;
    const opts = this.pendingCalls.get(s.localId) ?? {};
    this.pendingCalls.delete(s.localId);
    const call = opts.call ?? {};
    const avps: AvpValues = {
      [AvpType.TxConnectSpeed]: call.txConnectSpeed ?? 100_000_000,
      [AvpType.FramingType]: call.framingType ?? FramingBits.Sync,
    };
    if (call.rxConnectSpeed !== undefined) avps[AvpType.RxConnectSpeed] = call.rxConnectSpeed;
    if (call.privateGroupId !== undefined) avps[AvpType.PrivateGroupId] = call.privateGroupId;
    if (call.sequencingRequired === true) avps[AvpType.SequencingRequired] = true;
    const p = opts.proxy;
    if (p !== undefined) {
      if (p.initialReceivedLcpConfreq !== undefined) avps[AvpType.InitialReceivedLcpConfreq] = p.initialReceivedLcpConfreq;
      if (p.lastSentLcpConfreq !== undefined) avps[AvpType.LastSentLcpConfreq] = p.lastSentLcpConfreq;
      if (p.lastReceivedLcpConfreq !== undefined) avps[AvpType.LastReceivedLcpConfreq] = p.lastReceivedLcpConfreq;
      if (p.authenType !== undefined) avps[AvpType.ProxyAuthenType] = p.authenType;
      if (p.authenName !== undefined) avps[AvpType.ProxyAuthenName] = p.authenName;
      if (p.authenChallenge !== undefined) avps[AvpType.ProxyAuthenChallenge] = p.authenChallenge;
      if (p.authenId !== undefined) avps[AvpType.ProxyAuthenId] = p.authenId;
      if (p.authenResponse !== undefined) avps[AvpType.ProxyAuthenResponse] = p.authenResponse;
    }
    this.send(L2tpMessageType.ICCN, s.peerId, avps);
    s.fire("recv-ICRP", "ICRP received, ICCN sent");
    this.cancelSetupTimer(s);
    this.host.sessionStateChanged(this, s);
  }

  /** LNS: ICCN (RFC 2661 6.12): the call is up; keep what it says for PPP. */
  private onIccn(msg: L2tpAvpMessage): void {
    const s = this.sessionOf(msg, "ICCN");
    if (s === undefined) return;
    if (s.state !== "wait-connect") {
      this.sessionFsmError(s, "ICCN");
      return;
    }
    noteCall(s.call, msg);
    s.fire("recv-ICCN", "ICCN received");
    this.cancelSetupTimer(s);
    this.host.sessionStateChanged(this, s);
  }

  /** RFC 2661 6.14: CDN from the peer. */
  private onCdn(msg: L2tpAvpMessage): void {
    // RFC 2661 5.7: a CDN sent before the sender learnt our Session ID has 0 in the header; its
    // Assigned Session ID AVP names the call instead.
    const peerAssigned = getAvp(msg, AvpType.AssignedSessionId);
    const s = msg.sessionId !== 0 ? this.sessions.get(msg.sessionId) : [...this.sessions.values()].find((x) => x.peerId === peerAssigned);
    if (s === undefined) {
      // Already gone (both ends cleared at once): the transport has acknowledged it; nothing else.
      this.host.count("cdn-unknown-session");
      return;
    }
    const rc = getAvp(msg, AvpType.ResultCode);
    const cause = getAvp(msg, AvpType.PppDisconnectCauseCode);
    this.endSession(s, "recv-CDN", endOf("peer", rc?.resultCode ?? 0, rc?.errorCode, rc?.errorMessage, cause));
  }

  /** RFC 2661 6.15 WEN and 6.16 SLI: kept on the session. */
  private onLinkInfo(msg: L2tpAvpMessage): void {
    const s = this.sessionOf(msg, l2tpMessageTypeName(msg.messageType));
    if (s === undefined) return;
    const errors = getAvp(msg, AvpType.CallErrors);
    const accm = getAvp(msg, AvpType.Accm);
    if (errors !== undefined) s.call.callErrors = errors;
    if (accm !== undefined) s.call.accm = accm;
    if (s.state === "established") s.fire(msg.messageType === L2tpMessageType.WEN ? "recv-WEN" : "recv-SLI", `${l2tpMessageTypeName(msg.messageType)} received`);
  }

  /** RFC 2661 6.7: we are not a dial-out LNS; refuse with CDN result 5 (no facilities, permanent). */
  private onOcrq(msg: L2tpAvpMessage): void {
    this.host.count("ocrq-refused");
    this.refuseCall(getAvp(msg, AvpType.AssignedSessionId) ?? 0, CdnResultCode.NoFacilitiesPermanent, undefined, "outgoing calls are not supported");
  }

  private sessionOf(msg: L2tpAvpMessage, what: string): Session | undefined {
    const s = this.sessions.get(msg.sessionId);
    if (s === undefined) {
      this.host.count("session-message-unknown-session");
      this.host.log("debug", "unknown-session", `tunnel ${this.localId}: ${what} for unknown session ${msg.sessionId}`);
    }
    return s;
  }

  private sendIcrq(s: Session): void {
    const call = s.call;
    const avps: AvpValues = {
      [AvpType.AssignedSessionId]: s.localId,
      [AvpType.CallSerialNumber]: call.callSerialNumber ?? this.nextCallSerial(),
      [AvpType.BearerType]: call.bearerType ?? BearerBits.Digital,
    };
    if (call.physicalChannelId !== undefined) avps[AvpType.PhysicalChannelId] = call.physicalChannelId;
    if (call.calledNumber !== undefined) avps[AvpType.CalledNumber] = call.calledNumber;
    if (call.callingNumber !== undefined) avps[AvpType.CallingNumber] = call.callingNumber;
    if (call.subAddress !== undefined) avps[AvpType.SubAddress] = call.subAddress;
    s.fire("tunnel-up", "tunnel up, ICRQ sent");
    this.send(L2tpMessageType.ICRQ, 0, avps);
  }

  private nextCallSerial(): number {
    this.callSerial = (this.callSerial + 1) >>> 0;
    return this.callSerial;
  }

  // ---- errors -------------------------------------------------------------------------------

  /** RFC 2661 7.2: a tunnel message in the wrong state: StopCCN result 7 (FSM error). */
  private fsmError(what: string): void {
    this.host.count("fsm-error");
    this.stop(StopCcnResultCode.FsmError, undefined, `${what} not expected in state ${this.state}`);
  }

  /** A session message in the wrong state: clear that session only. */
  private sessionFsmError(s: Session, what: string): void {
    this.host.count("session-fsm-error");
    this.clearSession(s, CdnResultCode.GeneralError, L2tpErrorCode.NoGeneralError, `${what} not expected in state ${s.state}`);
  }

  private onTransportFailed(reason: string): void {
    this.host.count("tunnel-retries-exhausted");
    this.host.log("warn", "tunnel-timeout", `tunnel ${this.localId} to ${this.address.address}: ${reason}`);
    this.end ??= endOf("local", StopCcnResultCode.GeneralError, undefined, reason);
    if (this.state !== "closing") this.dropAllSessions(endOf("local", CdnResultCode.LossOfCarrier, undefined, "tunnel timed out"));
    this.fire("transport-failed", reason);
    this.free();
  }

  // ---- plumbing -----------------------------------------------------------------------------

  private send(type: L2tpMessageType, sessionId: number, avps: AvpValues): void {
    const { secret, hideAvps } = this.host.config();
    // RFC 2661 4.3: hiding needs the secret at both ends; only a peer that showed it has it gets hidden AVPs.
    const hiding = secret !== undefined && hideAvps && (this.peerProvedSecret || this.peerHides);
    const hideTypes = hiding ? HIDDEN_WHEN_SECRET.filter((t) => avps[t] !== undefined) : [];
    const hide = secret !== undefined && hideTypes.length > 0 ? { secret, randomVector: this.host.random(16), types: hideTypes } : undefined;
    this.transport.send((ns, nr) =>
      encodeControlMessage({ messageType: type, tunnelId: this.peerId, sessionId, ns, nr, avps }, hide === undefined ? {} : { hide }),
    );
  }

  private fire(event: TunnelEvent, reason: string): boolean {
    const to = TUNNEL_TRANSITIONS[this.state][event];
    if (to === undefined) {
      this.host.count("tunnel-fsm-undefined");
      this.host.log("warn", "tunnel-fsm", `tunnel ${this.localId}: no transition for ${event} in ${this.state}`);
      return false;
    }
    this.history.push({ from: this.state, event, to, reason });
    if (this.history.length > 16) this.history.shift();
    const changed = to !== this.state;
    this.state = to;
    if (changed) this.host.tunnelStateChanged(this);
    return true;
  }

  private endSession(s: Session, event: "close" | "setup-timeout" | "recv-CDN" | "tunnel-down", end: SessionEnd): void {
    s.end = end;
    s.fire(event, end.message ?? `result ${end.resultCode}`);
    s.state = "closed";
    this.cancelSetupTimer(s);
    this.pendingCalls.delete(s.localId);
    this.sessions.delete(s.localId);
    this.sessionIds.release(s.localId);
    this.host.sessionRemoved(this, s);
  }

  private dropAllSessions(end: SessionEnd): void {
    for (const s of [...this.sessions.values()]) this.endSession(s, "tunnel-down", end);
  }

  private armSetupTimer(s: Session, delayMs?: number): void {
    const ms = delayMs ?? this.host.config().sessionSetupTimeoutMs;
    const handle = this.host.clock.setTimeout(() => {
      this.setupTimers.delete(s.localId);
      if (this.sessions.get(s.localId) === s && s.inSetup) {
        this.host.count("session-setup-timeout");
        this.clearSessionOn("setup-timeout", s, CdnResultCode.NotEstablishedInTime, undefined, "call not established in time");
      }
    }, ms);
    this.setupTimers.set(s.localId, { handle, at: this.host.clock.now() + ms });
  }

  private cancelSetupTimer(s: Session): void {
    this.setupTimers.get(s.localId)?.handle.cancel();
    this.setupTimers.delete(s.localId);
  }

  private armHello(delayMs?: number): void {
    const { helloIntervalMs, disableSendingHello } = this.host.config();
    if (disableSendingHello) return;
    const quietFor = this.host.clock.now() - this.lastHeard;
    const ms = delayMs ?? Math.max(1, helloIntervalMs - quietFor);
    this.helloDue = this.host.clock.now() + ms;
    this.helloTimer = this.host.clock.setTimeout(() => {
      this.helloTimer = undefined;
      if (this.state !== "established") return;
      // RFC 2661 6.5: HELLO after a period with nothing from the peer, when nothing is outstanding.
      if (this.host.clock.now() - this.lastHeard >= helloIntervalMs) {
        if (this.transport.idle) this.send(L2tpMessageType.HELLO, 0, {});
        this.lastHeard = this.host.clock.now();
      }
      this.armHello();
    }, ms);
  }

  private startHold(delayMs?: number): void {
    this.helloTimer?.cancel();
    this.helloTimer = undefined;
    const ms = delayMs ?? this.host.config().stopCcnHoldMs;
    this.holdDue = this.host.clock.now() + ms;
    this.holdTimer = this.host.clock.setTimeout(() => {
      this.holdTimer = undefined;
      if (this.state === "closing") {
        this.fire("hold-expired", "StopCCN hold time over");
        this.free();
      }
    }, ms);
  }

  private free(): void {
    this.helloTimer?.cancel();
    this.holdTimer?.cancel();
    for (const t of this.setupTimers.values()) t.handle.cancel();
    this.setupTimers.clear();
    this.transport.close();
    this.state = "closed";
    this.host.tunnelFreed(this);
  }
}

function resultValue(resultCode: number, errorCode: number | undefined, message: string | undefined): { resultCode: number; errorCode?: number; errorMessage?: string } {
  if (message !== undefined) return { resultCode, errorCode: errorCode ?? 0, errorMessage: message };
  return errorCode === undefined ? { resultCode } : { resultCode, errorCode };
}

function endOf(by: "peer" | "local", resultCode: number, errorCode?: number, message?: string, pppCause?: PppDisconnectCauseValue): SessionEnd {
  return {
    by,
    resultCode,
    ...(errorCode === undefined ? {} : { errorCode }),
    ...(message === undefined ? {} : { message }),
    ...(pppCause === undefined ? {} : { pppCause }),
  };
}

function put<O extends object, K extends keyof O>(o: O, k: K, v: O[K] | undefined): void {
  if (v !== undefined) o[k] = v;
}

/** RFC 2661 6.10 / 6.12: the call's details from ICRQ and ICCN. */
function noteCall(call: CallInfo, msg: L2tpAvpMessage): void {
  put(call, "callSerialNumber", getAvp(msg, AvpType.CallSerialNumber));
  put(call, "bearerType", getAvp(msg, AvpType.BearerType));
  put(call, "physicalChannelId", getAvp(msg, AvpType.PhysicalChannelId));
  put(call, "calledNumber", getAvp(msg, AvpType.CalledNumber));
  put(call, "callingNumber", getAvp(msg, AvpType.CallingNumber));
  put(call, "subAddress", getAvp(msg, AvpType.SubAddress));
  put(call, "txConnectSpeed", getAvp(msg, AvpType.TxConnectSpeed));
  put(call, "rxConnectSpeed", getAvp(msg, AvpType.RxConnectSpeed));
  put(call, "framingType", getAvp(msg, AvpType.FramingType));
  put(call, "privateGroupId", getAvp(msg, AvpType.PrivateGroupId));
  if (getAvp(msg, AvpType.SequencingRequired) !== undefined) call.sequencingRequired = true;
  const proxy: { -readonly [K in keyof ProxyInfo]: ProxyInfo[K] } = {};
  put(proxy, "initialReceivedLcpConfreq", getAvp(msg, AvpType.InitialReceivedLcpConfreq));
  put(proxy, "lastSentLcpConfreq", getAvp(msg, AvpType.LastSentLcpConfreq));
  put(proxy, "lastReceivedLcpConfreq", getAvp(msg, AvpType.LastReceivedLcpConfreq));
  put(proxy, "authenType", getAvp(msg, AvpType.ProxyAuthenType));
  put(proxy, "authenName", getAvp(msg, AvpType.ProxyAuthenName));
  put(proxy, "authenChallenge", getAvp(msg, AvpType.ProxyAuthenChallenge));
  put(proxy, "authenId", getAvp(msg, AvpType.ProxyAuthenId));
  put(proxy, "authenResponse", getAvp(msg, AvpType.ProxyAuthenResponse));
  if (Object.keys(proxy).length > 0) call.proxy = proxy;
}

/**
 * What can still be read of a message that failed validation, to address the answer: its Message
 * Type and the peer's Assigned Session ID (parsed, or peeked when the framing is broken after it).
 */
function badInbound(packet: Buffer, sessionId: number, error: WireError, secret: string | undefined): BadInbound {
  const parsed = parseControlMessage(packet, secret === undefined ? {} : { secret });
  if (parsed.ok && parsed.value.messageType !== "ZLB") {
    const peerSessionId = parsed.value.avps[AvpType.AssignedSessionId];
    return { ok: false, error, sessionId, messageType: parsed.value.messageType, ...(peerSessionId === undefined ? {} : { peerSessionId }) };
  }
  const u16At = (b: Uint8Array | undefined): number | undefined => (b?.length === 2 ? ((b[0] ?? 0) << 8) | (b[1] ?? 0) : undefined);
  const messageType = u16At(peekControlAvp(packet, AvpType.MessageType));
  const peerSessionId = u16At(peekControlAvp(packet, AvpType.AssignedSessionId));
  return { ok: false, error, sessionId, ...(messageType === undefined ? {} : { messageType }), ...(peerSessionId === undefined || peerSessionId === 0 ? {} : { peerSessionId }) };
}
