// LCP option policy (RFC 1661 6) for both roles: what we request (MRU, Authentication-Protocol,
// Magic-Number), what we accept from the peer, Magic-Number loop detection (6.4), and the check
// of proxy LCP from the LAC (RFC 2661 4.4.5, 18). Runs on the control thread.
import { ChapAlgorithm, type AuthProtocolValue, type LcpOption, type LcpOptionTable } from "@lnsd/wire";
import { type AuthProtocolName, DEFAULT_MRU, MIN_MRU, type RandomSource, randomMagic } from "./config.js";
import { CONTINUE, type OptionPolicy, type OptionVerdict, type PolicyOutcome } from "./negotiation.js";

const ACK: OptionVerdict<LcpOptionTable> = { kind: "ack" };
const REJECT: OptionVerdict<LcpOptionTable> = { kind: "reject" };

export interface LcpPolicyOptions {
  /** The MRU we ask for; none (the 1500 default applies) when undefined. */
  readonly mru: number | undefined;
  /** LNS: the authentication protocols we ask the peer for, in order; empty for a client. */
  readonly authRequest: readonly AuthProtocolName[];
  /** Client: the protocols we agree to authenticate with when the peer asks, preferred first. */
  readonly authAccept: readonly AuthProtocolName[];
  readonly random: RandomSource;
  /** Magic-Number clashes tolerated before the link is declared looped back. */
  readonly maxLoopSuspicions: number;
}

/** What was agreed in each direction. */
export interface LcpAgreed {
  /** The MRU the peer can receive (what we may send). */
  readonly peerMru: number;
  /** The peer's Magic-Number, 0 when it sent none. */
  readonly peerMagic: number;
  /** The peer's ACCM (meaningless over L2TP; kept for Set-Link-Info, RFC 2661 6.16). */
  readonly peerAccm: number | undefined;
  /** The peer accepted PFC / ACFC: we MAY compress what we send (lnsd never does). */
  readonly peerPfc: boolean;
  readonly peerAcfc: boolean;
  /** The authentication protocol the peer asked us to use (client role). */
  readonly peerAuth: AuthProtocolName | undefined;
  /** Our MRU as acknowledged (1500 when we did not ask). */
  readonly ourMru: number;
  /** Our Magic-Number as acknowledged, 0 when not negotiated. */
  readonly ourMagic: number;
  /** The authentication protocol the peer agreed to use with us (LNS role). */
  readonly ourAuth: AuthProtocolName | undefined;
}

export function authValue(name: AuthProtocolName): AuthProtocolValue {
  return name === "pap" ? { kind: "pap" } : { kind: "chap", algorithm: ChapAlgorithm.MD5 };
}

/** PAP, or CHAP with MD5: the only protocols lnsd speaks (RFC 1334, RFC 1994). */
export function authName(value: AuthProtocolValue): AuthProtocolName | undefined {
  if (value.kind === "pap") return "pap";
  if (value.kind === "chap" && value.algorithm === ChapAlgorithm.MD5) return "chap";
  return undefined;
}

export class LcpPolicy implements OptionPolicy<LcpOptionTable> {
  private mru: number | undefined;
  private magic: number;
  private sendMagic = true;
  private authIndex = 0;
  private auth: AuthProtocolName | undefined;
  private readonly triedAuth = new Set<AuthProtocolName>();
  /** The value of our last Magic-Number Nak, to recognise it coming back (RFC 1661 6.4). */
  private lastNakMagic: number | undefined;
  /** Magic-Number clashes seen (our own request or our own Nak coming back). */
  loopSuspicions = 0;
  agreed: LcpAgreed;

  constructor(private readonly opts: LcpPolicyOptions) {
    this.mru = opts.mru === DEFAULT_MRU ? undefined : opts.mru;
    this.magic = randomMagic(opts.random);
    this.auth = opts.authRequest[0];
    if (this.auth !== undefined) this.triedAuth.add(this.auth);
    this.agreed = {
      peerMru: DEFAULT_MRU,
      peerMagic: 0,
      peerAccm: undefined,
      peerPfc: false,
      peerAcfc: false,
      peerAuth: undefined,
      ourMru: DEFAULT_MRU,
      ourMagic: 0,
      ourAuth: undefined,
    };
  }

  /**
   * Rebuilds the policy of an Opened link from what was agreed (issue 13): a renegotiation asks
   * what was last acknowledged (our MRU, the authentication protocol, our Magic-Number).
   */
  restoreAgreed(agreed: LcpAgreed): void {
    this.agreed = { ...agreed };
    this.mru = agreed.ourMru === DEFAULT_MRU ? undefined : agreed.ourMru;
    this.sendMagic = agreed.ourMagic !== 0;
    if (agreed.ourMagic !== 0) this.magic = agreed.ourMagic;
    if (agreed.ourAuth !== undefined) {
      this.auth = agreed.ourAuth;
      const i = this.opts.authRequest.indexOf(agreed.ourAuth);
      this.authIndex = i < 0 ? 0 : i;
      for (const p of this.opts.authRequest.slice(0, this.authIndex + 1)) this.triedAuth.add(p);
    }
  }

  /** Our Magic-Number for Echo packets: 0 unless it was negotiated (RFC 1661 5.8). */
  get magicInUse(): number {
    return this.agreed.ourMagic;
  }

  request(): LcpOption[] {
    const options: LcpOption[] = [];
    if (this.mru !== undefined) options.push({ name: "mru", value: this.mru });
    if (this.auth !== undefined) options.push({ name: "authProtocol", value: authValue(this.auth) });
    if (this.sendMagic) options.push({ name: "magicNumber", value: this.magic });
    return options;
  }

  check(option: LcpOption): OptionVerdict<LcpOptionTable> {
    switch (option.name) {
      case "mru":
        // RFC 1661 6.1: the peer may ask us to send smaller frames; below the IPv4 minimum it cannot work.
        return option.value >= MIN_MRU ? ACK : { kind: "nak", option: { name: "mru", value: MIN_MRU } };
      case "accm":
        // RFC 1662 7.1 applies to async HDLC links. Over L2TP frames are not HDLC-escaped; the LAC
        // does the async framing and learns the ACCM from Set-Link-Info (RFC 2661 6.16). Any value
        // is harmless here, so it is acknowledged (pppd always sends "asyncmap 0").
        return ACK;
      case "authProtocol":
        return this.checkAuth(option.value);
      case "qualityProtocol":
        // RFC 1661 6.3 / RFC 1989: link quality reports describe a physical link we do not have.
        return REJECT;
      case "magicNumber":
        return this.checkMagic(option.value);
      case "pfc":
      case "acfc":
        // RFC 1661 6.5, 6.6: the peer says it can receive compressed fields. Acknowledging only
        // allows us to compress, which lnsd never does; our decoders accept both forms anyway.
        return ACK;
      case "mrru":
      case "endpointDiscriminator":
        // RFC 1990: no multilink over L2TP here.
        return REJECT;
      case "unknown":
        // RFC 1661 5.4: rejected, echoed byte for byte.
        return REJECT;
    }
  }

  private checkAuth(value: AuthProtocolValue): OptionVerdict<LcpOptionTable> {
    // RFC 1661 6.2: the LNS does not authenticate itself to the subscriber: reject.
    if (this.opts.authAccept.length === 0) return REJECT;
    const name = authName(value);
    if (name !== undefined && this.opts.authAccept.includes(name)) return ACK;
    const preferred = this.opts.authAccept[0];
    return preferred === undefined ? REJECT : { kind: "nak", option: { name: "authProtocol", value: authValue(preferred) } };
  }

  private checkMagic(value: number): OptionVerdict<LcpOptionTable> {
    // RFC 1661 6.4: zero is illegal and MUST be Nak'd.
    if (value === 0) return { kind: "nak", option: { name: "magicNumber", value: randomMagic(this.opts.random) } };
    return ACK;
  }

  /**
   * RFC 1661 6.4: a request carrying our own Magic-Number may be our own looped back. It MUST be
   * Nak'd with a different number (whatever else it holds: judging our own options would only
   * reject our Authentication-Protocol), and we watch whether that Nak comes back to us too.
   */
  looped(options: readonly LcpOption[]): LcpOption[] | undefined {
    if (!this.sendMagic || !options.some((o) => o.name === "magicNumber" && o.value === this.magic)) return undefined;
    this.loopSuspicions++;
    this.lastNakMagic = randomMagic(this.opts.random);
    return [{ name: "magicNumber", value: this.lastNakMagic }];
  }

  solicit(): LcpOption[] {
    return [];
  }

  peerAcked(options: readonly LcpOption[]): void {
    let peerMru = DEFAULT_MRU;
    let peerMagic = 0;
    let peerAccm: number | undefined;
    let peerPfc = false;
    let peerAcfc = false;
    let peerAuth: AuthProtocolName | undefined;
    for (const o of options) {
      if (o.name === "mru") peerMru = o.value;
      else if (o.name === "magicNumber") peerMagic = o.value;
      else if (o.name === "accm") peerAccm = o.value;
      else if (o.name === "pfc") peerPfc = true;
      else if (o.name === "acfc") peerAcfc = true;
      else if (o.name === "authProtocol") peerAuth = authName(o.value);
    }
    this.agreed = { ...this.agreed, peerMru, peerMagic, peerAccm, peerPfc, peerAcfc, peerAuth };
  }

  ourAcked(options: readonly LcpOption[]): void {
    let ourMru = DEFAULT_MRU;
    let ourMagic = 0;
    let ourAuth: AuthProtocolName | undefined;
    for (const o of options) {
      if (o.name === "mru") ourMru = o.value;
      else if (o.name === "magicNumber") ourMagic = o.value;
      else if (o.name === "authProtocol") ourAuth = authName(o.value);
    }
    this.agreed = { ...this.agreed, ourMru, ourMagic, ourAuth };
  }

  nak(options: readonly LcpOption[]): PolicyOutcome {
    for (const o of options) {
      switch (o.name) {
        case "mru":
          // RFC 1661 6.1: take the peer's suggestion when we can receive it, else stop asking.
          this.mru = o.value >= MIN_MRU && o.value <= DEFAULT_MRU ? o.value : undefined;
          if (this.mru === DEFAULT_MRU) this.mru = undefined;
          break;
        case "authProtocol": {
          const outcome = this.nextAuth(authName(o.value));
          if (outcome.kind === "fail") return outcome;
          break;
        }
        case "magicNumber":
          // RFC 1661 6.4: a Nak carrying the value we last Nak'd with is our own Nak looped back.
          if (this.lastNakMagic !== undefined && o.value === this.lastNakMagic) this.loopSuspicions++;
          // Either way a new Magic-Number MUST be chosen.
          this.magic = randomMagic(this.opts.random);
          break;
        default:
          // Options we did not ask for (RFC 1661 5.3 lets the peer suggest them): not wanted.
          break;
      }
    }
    if (this.loopSuspicions >= this.opts.maxLoopSuspicions) {
      return { kind: "fail", reason: "loopback", message: `${this.loopSuspicions} Magic-Number clashes` };
    }
    return CONTINUE;
  }

  /** Moves to the peer's suggestion if we offer it and have not tried it, else to our next one. */
  private nextAuth(suggested: AuthProtocolName | undefined): PolicyOutcome {
    const list = this.opts.authRequest;
    let next: AuthProtocolName | undefined;
    if (suggested !== undefined && list.includes(suggested) && !this.triedAuth.has(suggested)) {
      next = suggested;
    } else {
      for (let i = this.authIndex + 1; i < list.length; i++) {
        const candidate = list[i];
        if (candidate !== undefined && !this.triedAuth.has(candidate)) {
          next = candidate;
          break;
        }
      }
    }
    if (next === undefined) {
      return { kind: "fail", reason: "auth-protocol-refused", message: `peer refuses ${[...this.triedAuth].join(" and ")}` };
    }
    this.auth = next;
    this.authIndex = list.indexOf(next);
    this.triedAuth.add(next);
    return CONTINUE;
  }

  reject(options: readonly LcpOption[]): PolicyOutcome {
    for (const o of options) {
      switch (o.name) {
        case "mru":
          this.mru = undefined;
          break;
        case "authProtocol":
          // RFC 1661 6.2: without authentication there is no session for an LNS.
          return { kind: "fail", reason: "auth-protocol-refused", message: "peer rejects the Authentication-Protocol option" };
        case "magicNumber":
          this.sendMagic = false;
          break;
        default:
          break;
      }
    }
    return CONTINUE;
  }

  /**
   * Proxy LCP (RFC 2661 4.4.5): takes the LAC's negotiation as ours when every option is one we
   * would have agreed to. `lastSent` is what the LAC asked on our behalf (the peer acked it),
   * `lastReceived` what the peer asked (the LAC acked it). Returns why not, or undefined once adopted.
   */
  adoptProxy(lastSent: readonly LcpOption[], lastReceived: readonly LcpOption[]): string | undefined {
    let auth: AuthProtocolName | undefined;
    let magic = 0;
    for (const o of lastSent) {
      switch (o.name) {
        case "mru":
          if (o.value < MIN_MRU) return `Last Sent LCP CONFREQ has MRU ${o.value}`;
          break;
        case "authProtocol":
          auth = authName(o.value);
          if (auth === undefined || !this.opts.authRequest.includes(auth)) return "Last Sent LCP CONFREQ asks an authentication protocol we do not offer";
          break;
        case "magicNumber":
          if (o.value === 0) return "Last Sent LCP CONFREQ has Magic-Number 0";
          magic = o.value;
          break;
        case "accm":
        case "pfc":
        case "acfc":
          break;
        default:
          return `Last Sent LCP CONFREQ has an option we do not use (${o.name === "unknown" ? `type ${o.type}` : o.name})`;
      }
    }
    if (this.opts.authRequest.length > 0 && auth === undefined) return "Last Sent LCP CONFREQ negotiated no authentication";
    for (const o of lastReceived) {
      if (o.name === "magicNumber" && o.value !== 0 && o.value === magic) return "Magic-Numbers are equal";
      if (o.name === "authProtocol") return "Last Received LCP CONFREQ asks us to authenticate";
      if (o.name !== "magicNumber" && this.check(o).kind !== "ack") {
        return `Last Received LCP CONFREQ has an option we refuse (${o.name === "unknown" ? `type ${o.type}` : o.name})`;
      }
      if (o.name === "magicNumber" && o.value === 0) return "Last Received LCP CONFREQ has Magic-Number 0";
    }
    if (magic !== 0) this.magic = magic;
    this.auth = auth;
    this.ourAcked(lastSent);
    this.peerAcked(lastReceived);
    return undefined;
  }
}
