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

  get inSetup(): boolean {
    return this.state === "wait-tunnel" || this.state === "wait-reply" || this.state === "wait-connect";
  }
}
