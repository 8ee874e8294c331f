// A session (a call) inside a tunnel: its state machine as a transition table (RFC 2661 7.4.1
// for the LAC's incoming call, 7.4.2 for the LNS's), and what the LAC told us about the call.
// Owned by its Tunnel, on the control thread.
import type { AccmValue, CallErrorsValue, PppDisconnectCauseValue } from "@lnsd/wire";
import { DataSequence } from "./data.js";

export type SessionRole = "lns" | "lac";

export type SessionState =
  | "idle"
  /** LAC: the call waits for its tunnel to be established. */
  | "wait-tunnel"
  /** LAC: ICRQ sent, waiting for ICRP. */
  | "wait-reply"
  /** LNS: ICRP sent, waiting for ICCN. */
  | "wait-connect"
  | "established"
  | "closed";

export type SessionEvent =
  | "place-call"
  | "tunnel-up"
  | "recv-ICRQ"
  | "recv-ICRP"
  | "recv-ICCN"
  | "recv-CDN"
  | "recv-WEN"
  | "recv-SLI"
  | "close"
  | "setup-timeout"
  | "tunnel-down";

/** RFC 2661 7.4: the states each event may be taken in, and where it leads. */
export const SESSION_TRANSITIONS: { readonly [S in SessionState]: { readonly [E in SessionEvent]?: SessionState } } = {
  idle: { "place-call": "wait-tunnel", "recv-ICRQ": "wait-connect" },
  "wait-tunnel": { "tunnel-up": "wait-reply", close: "closed", "tunnel-down": "closed", "setup-timeout": "closed" },
  "wait-reply": { "recv-ICRP": "established", "recv-CDN": "closed", close: "closed", "tunnel-down": "closed", "setup-timeout": "closed" },
  "wait-connect": { "recv-ICCN": "established", "recv-CDN": "closed", close: "closed", "tunnel-down": "closed", "setup-timeout": "closed" },
  established: { "recv-CDN": "closed", "recv-WEN": "established", "recv-SLI": "established", close: "closed", "tunnel-down": "closed" },
  closed: {},
};

/** The proxy LCP and proxy authentication AVPs of ICCN (RFC 2661 4.4.5), for the PPP layer. */
export interface ProxyInfo {
  readonly initialReceivedLcpConfreq?: Uint8Array;
  readonly lastSentLcpConfreq?: Uint8Array;
  readonly lastReceivedLcpConfreq?: Uint8Array;
  readonly authenType?: number;
  readonly authenName?: string;
  readonly authenChallenge?: Uint8Array;
  readonly authenId?: number;
  readonly authenResponse?: Uint8Array;
}

/** What the LAC told us about the call in ICRQ and ICCN (RFC 2661 6.10, 6.12). */
export interface CallInfo {
  callSerialNumber?: number;
  bearerType?: number;
  physicalChannelId?: number;
  calledNumber?: string;
  callingNumber?: string;
  subAddress?: string;
  txConnectSpeed?: number;
  rxConnectSpeed?: number;
  framingType?: number;
  privateGroupId?: Uint8Array;
  sequencingRequired?: boolean;
  proxy?: ProxyInfo;
  /** Last WEN (RFC 2661 6.15) and SLI (6.16) received. */
  callErrors?: CallErrorsValue;
  accm?: AccmValue;
}

/** Why a session ended, for logs, accounting (Acct-Terminate-Cause later) and `show session`. */
export interface SessionEnd {
  readonly by: "peer" | "local";
  readonly resultCode: number;
  readonly errorCode?: number;
  readonly message?: string;
  readonly pppCause?: PppDisconnectCauseValue;
}

export interface TransitionRecord {
  readonly from: SessionState;
  readonly event: SessionEvent;
  readonly to: SessionState;
  readonly reason: string;
}

/** ProxyInfo as plain data: byte strings in hex. */
export interface ProxyRecord {
  readonly initialReceivedLcpConfreqHex?: string;
  readonly lastSentLcpConfreqHex?: string;
  readonly lastReceivedLcpConfreqHex?: string;
  readonly authenType?: number;
  readonly authenName?: string;
  readonly authenChallengeHex?: string;
  readonly authenId?: number;
  readonly authenResponseHex?: string;
}

/** CallInfo as plain data: byte strings in hex, everything else as it is. */
export interface CallRecord {
  readonly callSerialNumber?: number;
  readonly bearerType?: number;
  readonly physicalChannelId?: number;
  readonly calledNumber?: string;
  readonly callingNumber?: string;
  readonly subAddress?: string;
  readonly txConnectSpeed?: number;
  readonly rxConnectSpeed?: number;
  readonly framingType?: number;
  readonly privateGroupIdHex?: string;
  /**
   * RFC 2661 4.4.4 / 5.4: the LAC asked for sequenced data. This is the whole of the session's
   * DataSequence state: its Ns counter belongs to whoever attaches it (the data plane), which
   * attaches it again after a restore.
   */
  readonly sequencingRequired?: boolean;
  readonly proxy?: ProxyRecord;
  readonly callErrors?: CallErrorsValue;
  readonly accm?: AccmValue;
}

/**
 * A session as plain, JSON-serialisable data (issue 13): what it needs to go on in another process.
 * Times are wall-clock epoch ms.
 */
export interface SessionRecord {
  readonly role: SessionRole;
  readonly localId: number;
  readonly peerId: number;
  readonly state: SessionState;
  readonly createdAt: number;
  readonly call: CallRecord;
  readonly end?: SessionEnd;
  readonly history: readonly TransitionRecord[];
  readonly rxPackets: number;
  readonly txPackets: number;
  /** A session in setup is cleared with CDN result 10 at this time (epoch ms). */
  readonly setupDeadline?: number;
  /** LAC, waiting for ICRP: what its ICCN will carry (RFC 2661 4.4.5). */
  readonly pendingCall?: { readonly call?: CallRecord; readonly proxy?: ProxyRecord };
}

const hex = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : Buffer.from(b).toString("hex"));
const bytes = (h: string | undefined): Buffer | undefined => (h === undefined ? undefined : Buffer.from(h, "hex"));

/** Only the fields that are set: a record has no `undefined` values (JSON drops them anyway). */
function defined<T extends object>(o: { readonly [K in keyof T]-?: T[K] | undefined }): T {
  const out: Partial<T> = {};
  for (const k of Object.keys(o) as (keyof T)[]) {
    const v = o[k];
    if (v !== undefined) out[k] = v;
  }
  return out as T;
}

export function proxyRecord(p: ProxyInfo): ProxyRecord {
  return defined<ProxyRecord>({
    initialReceivedLcpConfreqHex: hex(p.initialReceivedLcpConfreq),
    lastSentLcpConfreqHex: hex(p.lastSentLcpConfreq),
    lastReceivedLcpConfreqHex: hex(p.lastReceivedLcpConfreq),
    authenType: p.authenType,
    authenName: p.authenName,
    authenChallengeHex: hex(p.authenChallenge),
    authenId: p.authenId,
    authenResponseHex: hex(p.authenResponse),
  });
}

export function proxyFromRecord(r: ProxyRecord): ProxyInfo {
  return defined<ProxyInfo>({
    initialReceivedLcpConfreq: bytes(r.initialReceivedLcpConfreqHex),
    lastSentLcpConfreq: bytes(r.lastSentLcpConfreqHex),
    lastReceivedLcpConfreq: bytes(r.lastReceivedLcpConfreqHex),
    authenType: r.authenType,
    authenName: r.authenName,
    authenChallenge: bytes(r.authenChallengeHex),
    authenId: r.authenId,
    authenResponse: bytes(r.authenResponseHex),
  });
}

export function callRecord(c: CallInfo): CallRecord {
  return defined<CallRecord>({
    callSerialNumber: c.callSerialNumber,
    bearerType: c.bearerType,
    physicalChannelId: c.physicalChannelId,
    calledNumber: c.calledNumber,
    callingNumber: c.callingNumber,
    subAddress: c.subAddress,
    txConnectSpeed: c.txConnectSpeed,
    rxConnectSpeed: c.rxConnectSpeed,
    framingType: c.framingType,
    privateGroupIdHex: hex(c.privateGroupId),
    sequencingRequired: c.sequencingRequired,
    proxy: c.proxy === undefined ? undefined : proxyRecord(c.proxy),
    callErrors: c.callErrors === undefined ? undefined : { ...c.callErrors },
    accm: c.accm === undefined ? undefined : { ...c.accm },
  });
}

export function callFromRecord(r: CallRecord): CallInfo {
  return defined<CallInfo>({
    callSerialNumber: r.callSerialNumber,
    bearerType: r.bearerType,
    physicalChannelId: r.physicalChannelId,
    calledNumber: r.calledNumber,
    callingNumber: r.callingNumber,
    subAddress: r.subAddress,
    txConnectSpeed: r.txConnectSpeed,
    rxConnectSpeed: r.rxConnectSpeed,
    framingType: r.framingType,
    privateGroupId: bytes(r.privateGroupIdHex),
    sequencingRequired: r.sequencingRequired,
    proxy: r.proxy === undefined ? undefined : proxyFromRecord(r.proxy),
    callErrors: r.callErrors,
    accm: r.accm,
  });
}

export class Session {
  state: SessionState = "idle";
  /** Our Session ID: the peer puts it in the header of what it sends us (RFC 2661 3.1). */
  readonly localId: number;
  /** The peer's Assigned Session ID: the header of what we send. 0 until known. */
  peerId = 0;
  readonly call: CallInfo = {};
  /** Whether and with which Ns our data messages go (RFC 2661 5.4); follows call.sequencingRequired. */
  readonly dataSequence = new DataSequence(this.call);
  end: SessionEnd | undefined;
  /** Recent transitions with their reasons (STYLE.md: `show session` can print them). */
  readonly history: TransitionRecord[] = [];
  /** Data packets seen by the control plane (before the data plane takes them over). */
  rxPackets = 0;
  txPackets = 0;

  constructor(
    readonly role: SessionRole,
    localId: number,
    readonly createdAt: number,
  ) {
    this.localId = localId;
  }

  /**
   * Takes an event: returns the new state, or undefined when the table has no such transition
   * in the current state (a protocol error for the caller to answer and log).
   */
  fire(event: SessionEvent, reason: string): SessionState | undefined {
    const to = SESSION_TRANSITIONS[this.state][event];
    if (to === undefined) return undefined;
    this.history.push({ from: this.state, event, to, reason });
    if (this.history.length > 16) this.history.shift();
    this.state = to;
    return to;
  }

  /** The session as a record (the tunnel adds its setup deadline and pending call). */
  record(epochOffsetMs: number): SessionRecord {
    return {
      role: this.role,
      localId: this.localId,
      peerId: this.peerId,
      state: this.state,
      createdAt: this.createdAt + epochOffsetMs,
      call: callRecord(this.call),
      ...(this.end === undefined ? {} : { end: this.end }),
      history: this.history.map((h) => ({ ...h })),
      rxPackets: this.rxPackets,
      txPackets: this.txPackets,
    };
  }

  /** A session rebuilt from its record, in the recorded state, with no event fired. */
  static fromRecord(r: SessionRecord, epochOffsetMs: number): Session {
    const s = new Session(r.role, r.localId, r.createdAt - epochOffsetMs);
    s.state = r.state;
    s.peerId = r.peerId;
    Object.assign(s.call, callFromRecord(r.call));
    if (r.end !== undefined) s.end = r.end;
    s.history.push(...r.history.map((h) => ({ ...h })));
    s.rxPackets = r.rxPackets;
    s.txPackets = r.txPackets;
    return s;
  }

  get inSetup(): boolean {
    return this.state === "wait-tunnel" || this.state === "wait-reply" || this.state === "wait-connect";
  }
}
