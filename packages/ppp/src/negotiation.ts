// One control protocol's negotiation (RFC 1661 5 for LCP; RFC 1332 2 and RFC 5072 2 reuse it for
// IPCP and IPV6CP): turns received packets into automaton events, carries out the automaton's
// actions by sending packets, and asks an option policy what to request and what to accept.
// Decoding and encoding are @lnsd/wire's; runs on the control thread.
import {
  type ConfigOption,
  type ControlPacket,
  type ControlProtocolSpec,
  type EchoPacket,
  type OptionTable,
  type PppCodeName,
  PPP_CONTROL_HEADER_LENGTH,
  PppCode,
  decodeControlPacket,
  encodeControlPacket,
  encodeOptions,
} from "@lnsd/wire";
import type { Clock } from "@lnsd/io";
import type { DisconnectReason } from "./cause.js";
import { type FsmActions, type FsmProtocolError, type FsmState, type FsmTimers, PppFsm } from "./fsm.js";

/** What a policy says about one option of the peer's Configure-Request (RFC 1661 5.2-5.4). */
export type OptionVerdict<T extends OptionTable> =
  | { readonly kind: "ack" }
  /** Acceptable in kind, not in value: Configure-Nak with this value instead. */
  | { readonly kind: "nak"; readonly option: ConfigOption<T> }
  /** Not negotiable here: Configure-Reject, the option echoed unchanged. */
  | { readonly kind: "reject" };

export type PolicyOutcome =
  | { readonly kind: "continue" }
  /** The negotiation cannot succeed (no authentication protocol left, a looped link...). */
  | { readonly kind: "fail"; readonly reason: DisconnectReason; readonly message: string };

export const CONTINUE: PolicyOutcome = { kind: "continue" };

/** The protocol-specific half of a negotiation: which options we want, which we accept. */
export interface OptionPolicy<T extends OptionTable> {
  /** The options of our next Configure-Request. */
  request(): ConfigOption<T>[];
  /** One option of the peer's Configure-Request. */
  check(option: ConfigOption<T>): OptionVerdict<T>;
  /**
   * RFC 1661 5.3: options the peer did not include but should (a Configure-Nak MAY carry them).
   * Asked only when nothing is to be rejected and Max-Failure is not reached.
   */
  solicit?(options: readonly ConfigOption<T>[]): ConfigOption<T>[];
  /** We are sending a Configure-Ack for these options of the peer (they are now in force). */
  peerAcked(options: readonly ConfigOption<T>[]): void;
  /** The peer acknowledged our last request. */
  ourAcked(options: readonly ConfigOption<T>[]): void;
  /** The peer Nak'd options of our request: adjust the next one, or give up. */
  nak(options: readonly ConfigOption<T>[]): PolicyOutcome;
  /** The peer rejected options of our request: leave them out, or give up. */
  reject(options: readonly ConfigOption<T>[]): PolicyOutcome;
  /**
   * LCP (RFC 1661 6.4): the request may be our own looped back; returns the Configure-Nak
   * options to answer with (a different Magic-Number) instead of judging it, or undefined.
   */
  looped?(options: readonly ConfigOption<T>[]): ConfigOption<T>[] | undefined;
  /** An option the peer keeps getting Nak'd for has been turned into a Reject (Max-Failure). */
  nakTurnedReject?(option: ConfigOption<T>): void;
}

/** What the protocol's layer does when the automaton says so (RFC 1661 4.4 tlu/tld/tls/tlf). */
export interface NegotiationLayer {
  up(): void;
  down(): void;
  started(): void;
  finished(): void;
  /** The negotiation cannot succeed; the layer decides how to end it. */
  failed(reason: DisconnectReason, message: string): void;
  /** LCP: the Magic-Number for Echo-Reply (0 when none was negotiated; RFC 1661 5.8). */
  magic?(): number;
  /** LCP: an Echo-Request, Echo-Reply or Discard-Request arrived. */
  echo?(packet: EchoPacket): void;
  /** LCP: a Protocol-Reject arrived; RXJ+ when the rejected protocol can be done without. */
  protocolRejected?(protocol: number): "RXJ+" | "RXJ-";
  /** A Terminate-Request arrived with this Data (often a reason in text). */
  terminateRequested?(data: Uint8Array): void;
}

export interface NegotiationTimers extends FsmTimers {
  /** ppp_max_failure (default 5): Configure-Naks sent before they become Configure-Rejects. */
  readonly maxFailure: number;
}

export type LogLevel = "error" | "warn" | "info" | "debug";

/** What the negotiation needs from the session that owns it. */
export interface NegotiationHost {
  readonly clock: Clock;
  readonly timers: NegotiationTimers;
  /** Sends one packet of `protocol` (the session adds the PPP header). */
  send(protocol: number, packet: Buffer): void;
  /** The peer's MRU: Code-Reject and Protocol-Reject are cut to fit it (RFC 1661 5.6, 5.7). */
  peerMru(): number;
  count(counter: string): void;
  log(level: LogLevel, reason: string, message: string): void;
}

export interface NegotiationOptions {
  /** Reason given when the peer keeps Naking or Rejecting our requests without end. */
  readonly notConverging: DisconnectReason;
  /**
   * Resend our first Configure-Request as soon as the peer's first one arrives, when ours has
   * had no answer (see Negotiation.receive). LCP on the LNS side.
   */
  readonly resendOnFirstPeerRequest?: boolean;
}

const EMPTY = new Uint8Array(0);

interface PendingReply<T extends OptionTable> {
  readonly packet: Buffer;
  /** Set for a Configure-Ack: the options it acknowledges. */
  readonly acked?: readonly ConfigOption<T>[];
  readonly nak: boolean;
}

interface SentRequest {
  readonly identifier: number;
  readonly body: Buffer;
  readonly types: ReadonlySet<number>;
}

/**
 * An Opened negotiation as plain data (issue 13): what the automaton needs to go on answering.
 * Our last Configure-Request is kept so that a late Configure-Ack of it is recognised (RFC 1661
 * 4.1: RCA in Opened renegotiates) rather than dropped as stale.
 */
export interface NegotiationRecord {
  /** Identifier of our next packet of this protocol. */
  readonly nextIdentifier: number;
  readonly lastRequest?: { readonly identifier: number; readonly optionsHex: string; readonly types: readonly number[] };
  readonly requestsReceived: number;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

function lengthField(info: Uint8Array): number {
  return ((info[2] ?? 0) << 8) | (info[3] ?? 0);
}

export class Negotiation<T extends OptionTable> implements FsmActions {
  readonly fsm: PppFsm;
  /** Identifier of our next packet (Configure-Request, Terminate-Request, Code-Reject...). */
  private nextIdentifier = 1;
  private lastRequest: SentRequest | undefined;
  private reply: PendingReply<T> | undefined;
  /** Identifier of the packet being answered by sta. */
  private answerIdentifier = 0;
  private rejectedPacket: Uint8Array = EMPTY;
  private lastEcho: EchoPacket | undefined;
  private terminateData: Uint8Array = EMPTY;
  /** RFC 1661 4.6 Max-Failure: Configure-Naks sent since we last sent a Configure-Ack. */
  naksSent = 0;
  /** Configure-Naks and -Rejects received since the peer last acknowledged us. */
  naksReceived = 0;
  /** Configure-Requests received from the peer (any state). */
  requestsReceived = 0;
  /** Any valid reply to one of our Configure-Requests was received. */
  answered = false;

  constructor(
    readonly spec: ControlProtocolSpec<T, PppCodeName>,
    private readonly policy: OptionPolicy<T>,
    private readonly host: NegotiationHost,
    private readonly layer: NegotiationLayer,
    private readonly options: NegotiationOptions,
  ) {
    this.fsm = new PppFsm(spec.name, host.clock, host.timers, this, (e: FsmProtocolError) => {
      host.count(`${spec.name.toLowerCase()}-protocol-error`);
      host.log("info", "fsm-protocol-error", `${spec.name}: event ${e.event} not allowed in state ${e.state} (${e.reason})`);
    });
  }

  get state(): FsmState {
    return this.fsm.state;
  }

  /** The negotiation as a record; meaningful in Opened (the caller checks). */
  record(): NegotiationRecord {
    const last = this.lastRequest;
    return {
      nextIdentifier: this.nextIdentifier,
      ...(last === undefined ? {} : { lastRequest: { identifier: last.identifier, optionsHex: last.body.toString("hex"), types: [...last.types] } }),
      requestsReceived: this.requestsReceived,
    };
  }

  /** Rebuilds an Opened negotiation from its record (the policy is restored by its owner). Sends nothing. */
  restoreOpened(r: NegotiationRecord, reason: string): boolean {
    if (!this.fsm.restoreOpened(reason)) return false;
    this.nextIdentifier = r.nextIdentifier & 0xff;
    const last = r.lastRequest;
    if (last !== undefined) this.lastRequest = { identifier: last.identifier, body: Buffer.from(last.optionsHex, "hex"), types: new Set(last.types) };
    this.requestsReceived = r.requestsReceived;
    this.answered = true;
    return true;
  }

  get opened(): boolean {
    return this.fsm.state === "Opened";
  }

  /** A fresh Identifier for a packet of ours outside the automaton (Echo-Request, Protocol-Reject). */
  takeIdentifier(): number {
    const id = this.nextIdentifier;
    this.nextIdentifier = (this.nextIdentifier + 1) & 0xff;
    return id;
  }

  open(reason: string): void {
    this.fsm.fire("Open", reason);
  }

  up(reason: string): void {
    this.fsm.fire("Up", reason);
  }

  down(reason: string): void {
    this.fsm.fire("Down", reason);
  }

  /** RFC 1661 4.3 Close; `data` goes into our Terminate-Requests (e.g. "Authentication failed"). */
  close(reason: string, data: Uint8Array = EMPTY): void {
    this.terminateData = data;
    this.fsm.fire("Close", reason);
  }

  /** Sends a packet of this protocol now (the owner's own packets: Echo-Request, Protocol-Reject). */
  send(packet: ControlPacket<T>): void {
    this.host.send(this.spec.protocol, encodeControlPacket(this.spec, packet, { mru: this.host.peerMru() }));
  }

  /** One packet of this protocol (the Information field of its PPP frame). Never throws on input. */
  receive(info: Uint8Array): void {
    const decoded = decodeControlPacket(this.spec, info);
    if (!decoded.ok) {
      if (decoded.error.action.kind === "code-reject") {
        // RFC 1661 5.6: an unknown Code is answered with a Code-Reject (RUC, scj).
        this.answerIdentifier = info[1] ?? 0;
        this.rejectedPacket = info.subarray(0, Math.min(info.length, lengthField(info)));
        this.host.count(`${this.name}-unknown-code`);
        this.fsm.fire("RUC", `unknown Code ${info[0] ?? -1}`);
      } else {
        this.host.count(`${this.name}-malformed`);
        this.host.log("debug", `${this.name}-malformed`, `${this.spec.name}: ${decoded.error.reason}`);
      }
      return;
    }
    const p = decoded.value;
    this.answerIdentifier = p.identifier;
    switch (p.kind) {
      case "ConfReq":
        this.onConfigureRequest(p.identifier, p.options);
        return;
      case "ConfAck":
        this.onConfigureAck(p.identifier, p.options, info);
        return;
      case "ConfNak":
      case "ConfRej":
        this.onConfigureNakOrReject(p.kind, p.identifier, p.options);
        return;
      case "TermReq":
        this.layer.terminateRequested?.(p.data);
        this.fsm.fire("RTR", "Terminate-Request received");
        return;
      case "TermAck":
        this.fsm.fire("RTA", "Terminate-Ack received");
        return;
      case "CodeRej": {
        // RFC 1661 4.3: rejecting one of the Codes every implementation needs (1-7) is catastrophic.
        const code = p.rejected[0] ?? 0;
        const fatal = code >= PppCode.ConfReq && code <= PppCode.CodeRej;
        this.host.count(`${this.name}-code-reject-received`);
        this.fsm.fire(fatal ? "RXJ-" : "RXJ+", `Code-Reject of Code ${code}`);
        return;
      }
      case "ProtRej": {
        this.host.count(`${this.name}-protocol-reject-received`);
        const verdict = this.layer.protocolRejected?.(p.protocol) ?? "RXJ+";
        this.fsm.fire(verdict, `Protocol-Reject of protocol 0x${p.protocol.toString(16).padStart(4, "0")}`);
        return;
      }
      case "EchoReq":
      case "EchoReply":
      case "DiscardReq":
        this.lastEcho = p;
        this.layer.echo?.(p);
        this.fsm.fire("RXR", `${p.kind} received`);
        this.lastEcho = undefined;
        return;
      case "ResetReq":
      case "ResetAck":
        // Only CCP has these, and lnsd never runs CCP (it is Protocol-Rejected).
        this.host.count(`${this.name}-unexpected-code`);
        return;
    }
  }

  private get name(): string {
    return this.spec.name.toLowerCase();
  }

  private onConfigureRequest(identifier: number, options: readonly ConfigOption<T>[]): void {
    this.requestsReceived++;
    if (
      this.options.resendOnFirstPeerRequest === true &&
      this.requestsReceived === 1 &&
      !this.answered &&
      this.fsm.state === "Req-Sent" &&
      this.fsm.restartCount > 0
    ) {
      // Our first Configure-Request most likely went out before the LAC had a PPP peer to give it
      // to (observed: l2tpns's is lost and it waits its 3 s Restart timer). Treat the peer's first
      // request as that timer expiring: TO+ in Req-Sent is scr (RFC 1661 4.1); the timer's value is
      // ours to choose (RFC 1661 4.6), so this is a legal path through the table, just taken early.
      this.host.count(`${this.name}-early-resend`);
      this.fsm.fire("TO+", "peer's first Configure-Request arrived before any answer to ours: resend at once");
    }
    const loop = this.policy.looped?.(options);
    if (loop !== undefined) {
      this.host.count(`${this.name}-loop-suspected`);
      this.reply = { packet: this.encode({ kind: "ConfNak", identifier, options: loop }), nak: true };
      this.fsm.fire("RCR-", `Configure-Request ${identifier} carries our own Magic-Number`);
      this.reply = undefined;
      return;
    }
    const rejects: ConfigOption<T>[] = [];
    const naks: ConfigOption<T>[] = [];
    const naking = this.naksSent < this.host.timers.maxFailure;
    for (const option of options) {
      const verdict = this.policy.check(option);
      if (verdict.kind === "reject") {
        rejects.push(option);
      } else if (verdict.kind === "nak") {
        if (naking) {
          naks.push(verdict.option);
        } else {
          // RFC 1661 4.6 Max-Failure: further Configure-Naks become Configure-Rejects.
          rejects.push(option);
          this.policy.nakTurnedReject?.(option);
        }
      }
    }
    if (rejects.length === 0 && naking && this.policy.solicit !== undefined) naks.push(...this.policy.solicit(options));
    let reply: PendingReply<T>;
    let event: "RCR+" | "RCR-";
    if (rejects.length > 0) {
      // RFC 1661 5.4: when some options are rejected, only those go back, in a Configure-Reject.
      reply = { packet: this.encode({ kind: "ConfRej", identifier, options: rejects }), nak: false };
      event = "RCR-";
    } else if (naks.length > 0) {
      reply = { packet: this.encode({ kind: "ConfNak", identifier, options: naks }), nak: true };
      event = "RCR-";
    } else {
      reply = { packet: this.encode({ kind: "ConfAck", identifier, options }), acked: options, nak: false };
      event = "RCR+";
    }
    this.reply = reply;
    this.fsm.fire(event, `Configure-Request ${identifier} with ${options.length} options: ${event === "RCR+" ? "acceptable" : reply.nak ? "Nak" : "Reject"}`);
    this.reply = undefined;
  }

  private matchesLastRequest(identifier: number, kind: string): SentRequest | undefined {
    const last = this.lastRequest;
    if (last?.identifier !== identifier) {
      // RFC 1661 5.2-5.4: a reply whose Identifier is not our last request's is discarded.
      this.host.count(`${this.name}-stale-reply`);
      this.host.log("debug", `${this.name}-stale-reply`, `${this.spec.name}: ${kind} ${identifier} does not answer our last request`);
      return undefined;
    }
    return last;
  }

  private onConfigureAck(identifier: number, options: readonly ConfigOption<T>[], info: Uint8Array): void {
    const last = this.matchesLastRequest(identifier, "Configure-Ack");
    if (last === undefined) return;
    // RFC 1661 5.2: the options of a Configure-Ack MUST exactly match those of our request.
    if (!bytesEqual(info.subarray(PPP_CONTROL_HEADER_LENGTH, lengthField(info)), last.body)) {
      this.host.count(`${this.name}-bad-ack`);
      return;
    }
    this.answered = true;
    this.naksReceived = 0;
    // Only where RCA leads to agreement (Req-Sent -> Ack-Rcvd, Ack-Sent -> Opened); elsewhere it
    // is ignored, answered with Terminate-Ack, or a crossed connection that renegotiates.
    if (this.fsm.state === "Req-Sent" || this.fsm.state === "Ack-Sent") this.policy.ourAcked(options);
    this.fsm.fire("RCA", `Configure-Ack ${identifier}`);
  }

  private onConfigureNakOrReject(kind: "ConfNak" | "ConfRej", identifier: number, options: readonly ConfigOption<T>[]): void {
    const last = this.matchesLastRequest(identifier, kind);
    if (last === undefined) return;
    if (kind === "ConfRej" && options.some((o) => !last.types.has(this.typeOf(o)))) {
      // RFC 1661 5.4: a Configure-Reject may only hold options of our request.
      this.host.count(`${this.name}-bad-reject`);
      return;
    }
    this.answered = true;
    // Closing, Stopping, Closed and Stopped ignore or answer it without renegotiating.
    const negotiating = this.fsm.state === "Req-Sent" || this.fsm.state === "Ack-Rcvd" || this.fsm.state === "Ack-Sent" || this.fsm.state === "Opened";
    if (negotiating) {
      this.naksReceived++;
      const outcome = kind === "ConfNak" ? this.policy.nak(options) : this.policy.reject(options);
      if (outcome.kind === "fail") {
        this.layer.failed(outcome.reason, outcome.message);
        return;
      }
      if (this.naksReceived > this.host.timers.maxConfigure) {
        // RFC 1661 does not bound this (RCN restarts the counter), so a peer could Nak forever;
        // after Max-Configure answers without agreement we give up as if the timer had run out.
        this.layer.failed(this.options.notConverging, `${this.spec.name}: ${this.naksReceived} Configure-Naks/Rejects without agreement`);
        return;
      }
    }
    this.fsm.fire("RCN", `${kind === "ConfNak" ? "Configure-Nak" : "Configure-Reject"} ${identifier} of ${options.length} options`);
  }

  private typeOf(option: ConfigOption<T>): number {
    if ("type" in option) return option.type;
    return this.spec.options[option.name]?.type ?? -1;
  }

  private encode(packet: ControlPacket<T>): Buffer {
    return encodeControlPacket(this.spec, packet, { mru: this.host.peerMru() });
  }

  // --- RFC 1661 4.4 actions -------------------------------------------------------------------

  tlu(): void {
    this.layer.up();
  }

  tld(): void {
    this.layer.down();
  }

  tls(): void {
    this.layer.started();
  }

  tlf(): void {
    this.layer.finished();
  }

  scr(): void {
    const options = this.policy.request();
    const identifier = this.takeIdentifier();
    const body = encodeOptions(this.spec.optionCodec, options);
    this.lastRequest = { identifier, body, types: new Set(options.map((o) => this.typeOf(o))) };
    this.host.count(`${this.name}-confreq-sent`);
    this.send({ kind: "ConfReq", identifier, options });
  }

  sca(): void {
    const reply = this.reply;
    if (reply === undefined) return;
    this.naksSent = 0;
    if (reply.acked !== undefined) this.policy.peerAcked(reply.acked);
    this.host.send(this.spec.protocol, reply.packet);
  }

  scn(): void {
    const reply = this.reply;
    if (reply === undefined) return;
    if (reply.nak) this.naksSent++;
    this.host.send(this.spec.protocol, reply.packet);
  }

  str(): void {
    this.send({ kind: "TermReq", identifier: this.takeIdentifier(), data: this.terminateData });
  }

  sta(): void {
    this.send({ kind: "TermAck", identifier: this.answerIdentifier, data: EMPTY });
  }

  scj(): void {
    this.host.count(`${this.name}-code-reject-sent`);
    this.send({ kind: "CodeRej", identifier: this.takeIdentifier(), rejected: this.rejectedPacket });
  }

  ser(): void {
    const echo = this.lastEcho;
    if (echo?.kind !== "EchoReq") return;
    // RFC 1661 5.8: same Identifier and Data, our own Magic-Number.
    this.send({ kind: "EchoReply", identifier: echo.identifier, magic: this.layer.magic?.() ?? 0, data: echo.data });
  }
}
