// The Dynamic Authorization server of RFC 5176 (radius_dae_port, 3799): Disconnect-Request and
// CoA-Request from the RADIUS servers, matched to sessions through a handler the daemon provides,
// answered with ACK or NAK and an Error-Cause (RFC 5176 3.5). Requests that do not authenticate,
// or come from anyone but an allowed client, are silently discarded and counted. Runs on the
// control thread.
import { AcctTerminateCause, isAcctTerminateCause } from "@lnsd/wire";
import { peerKey, RatePerSource, systemClock, type Clock, type PeerAddress, type UdpEndpoint, type UdpEndpointFactory } from "@lnsd/io";
import { radiusUdp } from "./client.js";
import {
  Attr,
  Code,
  codeName,
  decodePacket,
  ErrorCause,
  integerAttr,
  ipv4ToBuffer,
  MAX_PACKET_LENGTH,
  packetLength,
  ipv6ToBuffer,
  attributeSpec,
  bufferToIpv4,
  signResponse,
  splitVendorSpecific,
  validValue,
  Vendor,
  VendorAttr,
  verifyRequest,
  type NasIdentity,
  type RadiusAttribute,
  type Secret,
} from "./codec/index.js";

/** The session identification of a request (RFC 5176 3): a session matches when all given agree. */
export interface DaeMatch {
  readonly userName?: string;
  readonly acctSessionId?: string;
  readonly framedIpAddress?: string;
  readonly nasPort?: number;
  readonly callingStationId?: string;
}

/** What a CoA-Request changes. */
export interface CoaChanges {
  readonly sessionTimeoutSec?: number;
  readonly idleTimeoutSec?: number;
  readonly filterIds: readonly string[];
  /** Cisco-AVPair values in order, for the plugin host (throttle=yes, ...). */
  readonly ciscoAvPairs: readonly string[];
}

export type DaeOutcome = { readonly ok: true } | { readonly ok: false; readonly errorCause: ErrorCause };

/** The daemon's side. Called on the control thread; may answer at once or with a promise. */
export interface DaeHandler<S> {
  findSessions(match: DaeMatch): readonly S[];
  /** Ends the session; the cause is the request's Acct-Terminate-Cause or Admin-Reset. */
  disconnect(session: S, cause: AcctTerminateCause): DaeOutcome | Promise<DaeOutcome>;
  coa(session: S, changes: CoaChanges): DaeOutcome | Promise<DaeOutcome>;
}

export type DaeDropReason =
  | "malformed"
  | "unknown-client"
  | "unexpected-code"
  | "bad-authenticator"
  | "missing-message-authenticator"
  | "bad-message-authenticator"
  | "stale-timestamp"
  | "rate";

export const DAE_DROP_REASONS: readonly DaeDropReason[] = [
  "rate",
  "malformed",
  "unknown-client",
  "unexpected-code",
  "bad-authenticator",
  "missing-message-authenticator",
  "bad-message-authenticator",
  "stale-timestamp",
];

export type DaeEvent =
  | { readonly kind: "drop"; readonly reason: DaeDropReason; readonly from: PeerAddress; readonly detail: string }
  | { readonly kind: "ack"; readonly request: "disconnect" | "coa"; readonly sessions: number; readonly from: PeerAddress }
  | { readonly kind: "nak"; readonly request: "disconnect" | "coa"; readonly errorCause: ErrorCause; readonly from: PeerAddress; readonly detail: string }
  | { readonly kind: "handler-error"; readonly detail: string };

export interface DaeCounters {
  disconnectRequests: number;
  coaRequests: number;
  acks: number;
  naks: number;
  /** Retransmitted requests answered again from the cache. */
  duplicates: number;
  naksByCause: Record<number, number>;
  dropped: Record<DaeDropReason, number>;
}

export interface DaeServerOptions<S> {
  readonly bindAddress?: string;
  /** radius_dae_port; default 3799. 0 lets the system choose (tests). */
  readonly port?: number;
  readonly secret: Secret;
  /** Addresses allowed to send requests: the RADIUS servers, or a configured list. */
  readonly allowedClients: readonly string[];
  readonly handler: DaeHandler<S>;
  /** When a request names a NAS (NAS-IP-Address, NAS-Identifier), it must be this one (else 403). */
  readonly nas?: NasIdentity;
  /** Refuse requests without Message-Authenticator. Default false: radclient sends none unless told. */
  readonly requireMessageAuthenticator?: boolean;
  /** RFC 5176 replay protection: an Event-Timestamp further than this from now is discarded. Default 300 s; 0: no check. */
  readonly eventTimestampWindowSec?: number;
  readonly requireEventTimestamp?: boolean;
  readonly udp?: UdpEndpointFactory;
  readonly clock?: Clock;
  readonly wallClockMs?: () => number;
  readonly onEvent?: (e: DaeEvent) => void;
  /** Requests a second from one client, on average (bursts of twice this). Default 200. */
  readonly ratePerClient?: number;
}

type Role = "session" | "nas" | "change" | "cause" | "timestamp" | "proxy-state" | "authenticator" | "service";

/**
 * What each attribute does in a Disconnect-Request (D) or CoA-Request (C), after RFC 5176 3 and
 * its table of attributes. Anything else gets NAK 401 Unsupported Attribute (RFC 5176 3.5).
 */
const DAE_ATTRIBUTES: ReadonlyMap<number, { readonly role: Role; readonly in: "D" | "C" | "DC" }> = new Map([
  [Attr.UserName, { role: "session", in: "DC" }],
  [Attr.AcctSessionId, { role: "session", in: "DC" }],
  [Attr.FramedIpAddress, { role: "session", in: "DC" }],
  [Attr.NasPort, { role: "session", in: "DC" }],
  [Attr.CallingStationId, { role: "session", in: "DC" }],
  [Attr.NasIpAddress, { role: "nas", in: "DC" }],
  [Attr.NasIdentifier, { role: "nas", in: "DC" }],
  [Attr.NasIpv6Address, { role: "nas", in: "DC" }],
  [Attr.SessionTimeout, { role: "change", in: "C" }],
  [Attr.IdleTimeout, { role: "change", in: "C" }],
  [Attr.FilterId, { role: "change", in: "C" }],
  [Attr.VendorSpecific, { role: "change", in: "C" }],
  [Attr.AcctTerminateCause, { role: "cause", in: "D" }],
  [Attr.EventTimestamp, { role: "timestamp", in: "DC" }],
  [Attr.ProxyState, { role: "proxy-state", in: "DC" }],
  [Attr.MessageAuthenticator, { role: "authenticator", in: "DC" }],
  [Attr.ServiceType, { role: "service", in: "DC" }],
] as const);

interface Cached {
  readonly at: number;
  reply: Buffer | undefined;
}

type Verdict =
  | { readonly kind: "nak"; readonly errorCause: ErrorCause; readonly detail: string }
  | { readonly kind: "act"; readonly match: DaeMatch; readonly changes: CoaChanges; readonly cause: AcctTerminateCause };

const DUPLICATE_WINDOW_MS = 30_000;

function newCounters(): DaeCounters {
  const dropped = {} as Record<DaeDropReason, number>;
  for (const r of DAE_DROP_REASONS) dropped[r] = 0;
  return { disconnectRequests: 0, coaRequests: 0, acks: 0, naks: 0, duplicates: 0, naksByCause: {}, dropped };
}

export class DaeServer<S> {
  readonly counters: DaeCounters = newCounters();
  private readonly clock: Clock;
  private readonly wallClockMs: () => number;
  private readonly onEvent: (e: DaeEvent) => void;
  private readonly allowed: Set<string>;
  private secret: Secret;
  private readonly recent = new Map<string, Cached>();
  private closed = false;
  /** Requests per client (only allowed clients reach it: one bucket per RADIUS server). */
  private readonly rate: RatePerSource;

  private constructor(
    private readonly opts: DaeServerOptions<S>,
    private readonly sock: UdpEndpoint,
  ) {
    this.clock = opts.clock ?? systemClock;
    this.wallClockMs = opts.wallClockMs ?? Date.now;
    this.onEvent = opts.onEvent ?? (() => undefined);
    this.allowed = new Set(opts.allowedClients);
    this.rate = new RatePerSource(opts.ratePerClient ?? 200);
    this.secret = opts.secret;
    sock.onMessage((packet, from) => {
      if (this.closed) return;
      this.onMessage(packet, from).catch((e: unknown) => {
        this.onEvent({ kind: "handler-error", detail: e instanceof Error ? e.message : String(e) });
      });
    });
  }

  static async create<S>(opts: DaeServerOptions<S>): Promise<DaeServer<S>> {
    const sock = await (opts.udp ?? radiusUdp).bind(opts.bindAddress ?? "0.0.0.0", opts.port ?? 3799);
    return new DaeServer(opts, sock);
  }

  get local(): PeerAddress {
    return this.sock.local;
  }

  /** The allowed clients can change on reload. */
  setAllowedClients(addresses: readonly string[]): void {
    this.allowed.clear();
    for (const a of addresses) this.allowed.add(a);
  }

  /** The shared secret can change on reload: requests from then on are checked and answered with it. */
  setSecret(secret: Secret): void {
    this.secret = secret;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sock.close();
  }

  private drop(reason: DaeDropReason, from: PeerAddress, detail: string): void {
    this.counters.dropped[reason]++;
    this.onEvent({ kind: "drop", reason, from, detail });
  }

  private async onMessage(packet: Buffer, from: PeerAddress): Promise<void> {
    // RFC 5176 (security considerations): requests from anyone but a known client are silently
    // discarded, before any work is done on them.
    if (!this.allowed.has(from.address)) {
      this.drop("unknown-client", from, `${packet.length} octets`);
      return;
    }
    // Before any hashing: a flood with a forged client address costs a lookup, not an MD5 each.
    if (!this.rate.take(from.address, this.clock.now())) {
      this.drop("rate", from, `over ${this.rate.perSecond} requests a second`);
      return;
    }
    const d = decodePacket(packet);
    if (!d.ok) {
      this.drop("malformed", from, d.error.reason);
      return;
    }
    const pkt = d.value;
    if (pkt.code !== Code.DisconnectRequest && pkt.code !== Code.CoaRequest) {
      this.drop("unexpected-code", from, codeName(pkt.code));
      return;
    }
    // RFC 5176 2.3: the Request Authenticator is computed as for an Accounting-Request (RFC 2866
    // 3), and 3.4: an invalid Message-Authenticator; either way the request is silently discarded.
    // A NAK would have to be signed with a secret the sender does not share, and would tell a
    // stranger which sessions exist.
    const check = verifyRequest(packet, this.secret, this.opts.requireMessageAuthenticator ?? false);
    if (check !== "ok") {
      this.drop(check, from, `${codeName(pkt.code)} id ${pkt.identifier}`);
      return;
    }
    const request = pkt.code === Code.DisconnectRequest ? "disconnect" : "coa";
    const key = `${peerKey(from)}/${pkt.identifier}/${pkt.authenticator.toString("hex")}`;
    const now = this.clock.now();
    this.prune(now);
    const seen = this.recent.get(key);
    if (seen !== undefined) {
      // RFC 5176 2.3 / RFC 5080 2.2.2: a retransmission gets the same answer, not a second action.
      this.counters.duplicates++;
      if (seen.reply !== undefined) this.sock.send(seen.reply, from);
      return;
    }
    if (!this.timestampFresh(pkt.attributes, from)) return;
    const proxyStates = pkt.attributes.filter((a) => a.type === Attr.ProxyState);
    // The answer echoes every Proxy-State; if that cannot fit in a packet, nothing is done.
    if (packetLength(proxyStates) + 6 + 18 > MAX_PACKET_LENGTH) {
      this.drop("malformed", from, "Proxy-State too long to echo");
      return;
    }
    const cached: Cached = { at: now, reply: undefined };
    this.recent.set(key, cached);
    if (request === "disconnect") this.counters.disconnectRequests++;
    else this.counters.coaRequests++;

    const verdict = this.judge(pkt.attributes, request);
    let outcome: { ok: true; sessions: number } | { ok: false; errorCause: ErrorCause; detail: string };
    if (verdict.kind === "nak") outcome = { ok: false, errorCause: verdict.errorCause, detail: verdict.detail };
    else outcome = await this.act(request, verdict);

    const attributes: RadiusAttribute[] = [];
    if (!outcome.ok) attributes.push(integerAttr(Attr.ErrorCause, outcome.errorCause));
    // RFC 5176 3.1: Proxy-State attributes are copied unmodified, in order, into the response.
    attributes.push(...proxyStates);
    const code = outcome.ok ? (request === "disconnect" ? Code.DisconnectAck : Code.CoaAck) : request === "disconnect" ? Code.DisconnectNak : Code.CoaNak;
    const reply = signResponse({ code, identifier: pkt.identifier, attributes, secret: this.secret, requestAuthenticator: pkt.authenticator });
    cached.reply = reply;
    if (outcome.ok) {
      this.counters.acks++;
      this.onEvent({ kind: "ack", request, sessions: outcome.sessions, from });
    } else {
      this.counters.naks++;
      this.counters.naksByCause[outcome.errorCause] = (this.counters.naksByCause[outcome.errorCause] ?? 0) + 1;
      this.onEvent({ kind: "nak", request, errorCause: outcome.errorCause, from, detail: outcome.detail });
    }
    if (!this.closed) this.sock.send(reply, from);
  }

  private prune(now: number): void {
    for (const [k, v] of this.recent) {
      if (now - v.at < DUPLICATE_WINDOW_MS) break;
      this.recent.delete(k);
    }
  }

  /** RFC 5176 replay protection: Event-Timestamp within the window of now, when present or required. */
  private timestampFresh(attributes: readonly RadiusAttribute[], from: PeerAddress): boolean {
    const window = this.opts.eventTimestampWindowSec ?? 300;
    const ts = attributes.find((a) => a.type === Attr.EventTimestamp);
    if (ts === undefined) {
      if (this.opts.requireEventTimestamp === true) {
        this.drop("stale-timestamp", from, "no Event-Timestamp");
        return false;
      }
      return true;
    }
    if (window <= 0 || ts.value.length !== 4) return true;
    const skew = Math.abs(this.wallClockMs() / 1000 - ts.value.readUInt32BE(0));
    if (skew > window) {
      this.drop("stale-timestamp", from, `Event-Timestamp ${Math.round(skew)} s off`);
      return false;
    }
    return true;
  }

  /** Checks the attributes against DAE_ATTRIBUTES and the NAS identity; collects match and changes. */
  private judge(attributes: readonly RadiusAttribute[], request: "disconnect" | "coa"): Verdict {
    const match: { -readonly [K in keyof DaeMatch]: DaeMatch[K] } = {};
    const filterIds: string[] = [];
    const ciscoAvPairs: string[] = [];
    let sessionTimeoutSec: number | undefined;
    let idleTimeoutSec: number | undefined;
    let cause: AcctTerminateCause = AcctTerminateCause.AdminReset;
    const nak = (errorCause: ErrorCause, detail: string): Verdict => ({ kind: "nak", errorCause, detail });
    const nas = this.opts.nas;
    const letter = request === "disconnect" ? "D" : "C";
    let identified = false;

    for (const a of attributes) {
      const rule = DAE_ATTRIBUTES.get(a.type);
      const spec = attributeSpec(a.type);
      const name = spec?.name ?? `Attr-${a.type}`;
      if (rule === undefined || spec === undefined || !rule.in.includes(letter)) return nak(ErrorCause.UnsupportedAttribute, `${name} in a ${codeName(request === "disconnect" ? Code.DisconnectRequest : Code.CoaRequest)}`);
      if (!validValue(spec.kind, a.value)) return nak(ErrorCause.InvalidAttributeValue, `${name} ${a.value.toString("hex").slice(0, 64)}`);
      const text = a.value.toString("utf8");
      switch (rule.role) {
        case "session":
          identified = true;
          if (a.type === Attr.UserName) match.userName = text;
          else if (a.type === Attr.AcctSessionId) match.acctSessionId = text;
          else if (a.type === Attr.FramedIpAddress) match.framedIpAddress = bufferToIpv4(a.value);
          else if (a.type === Attr.NasPort) match.nasPort = a.value.readUInt32BE(0);
          else match.callingStationId = text;
          break;
        case "nas":
          if (a.type === Attr.NasIpAddress && nas?.ipAddress !== undefined && !a.value.equals(ipv4ToBuffer(nas.ipAddress) ?? Buffer.alloc(0)))
            return nak(ErrorCause.NasIdentificationMismatch, `NAS-IP-Address ${bufferToIpv4(a.value)}`);
          if (a.type === Attr.NasIdentifier && nas?.identifier !== undefined && text !== nas.identifier) return nak(ErrorCause.NasIdentificationMismatch, `NAS-Identifier ${text}`);
          if (a.type === Attr.NasIpv6Address && nas?.ipAddress !== undefined && !a.value.equals(ipv6ToBuffer(nas.ipAddress) ?? Buffer.alloc(0)))
            return nak(ErrorCause.NasIdentificationMismatch, "NAS-IPv6-Address is not this NAS's");
          break;
        case "change":
          if (a.type === Attr.SessionTimeout) sessionTimeoutSec = a.value.readUInt32BE(0);
          else if (a.type === Attr.IdleTimeout) idleTimeoutSec = a.value.readUInt32BE(0);
          else if (a.type === Attr.FilterId) filterIds.push(text);
          else {
            const vsa = splitVendorSpecific(a.value);
            if (!vsa.ok) return nak(ErrorCause.InvalidAttributeValue, `Vendor-Specific: ${vsa.error.reason}`);
            for (const v of vsa.value) {
              if (v.vendorId !== Vendor.Cisco || v.type !== VendorAttr.CiscoAvPair) return nak(ErrorCause.UnsupportedAttribute, `vendor ${v.vendorId} attribute ${v.type}`);
              ciscoAvPairs.push(v.value.toString("utf8"));
            }
          }
          break;
        case "cause": {
          const n = a.value.readUInt32BE(0);
          if (!isAcctTerminateCause(n)) return nak(ErrorCause.InvalidAttributeValue, `Acct-Terminate-Cause ${n}`);
          cause = n;
          break;
        }
        case "service":
          // RFC 5176 3.2: Authorize Only would need an Access-Request on the NAS's part; lnsd has none to offer.
          return nak(ErrorCause.UnsupportedService, `Service-Type ${a.value.readUInt32BE(0)}`);
        case "timestamp":
        case "proxy-state":
        case "authenticator":
          break;
        default: {
          const never: never = rule.role;
          return never;
        }
      }
    }
    if (!identified) return nak(ErrorCause.MissingAttribute, "no session identification attribute");
    const changes: CoaChanges = {
      filterIds,
      ciscoAvPairs,
      ...(sessionTimeoutSec === undefined ? {} : { sessionTimeoutSec }),
      ...(idleTimeoutSec === undefined ? {} : { idleTimeoutSec }),
    };
    return { kind: "act", match, changes, cause };
  }

  private async act(
    request: "disconnect" | "coa",
    v: Extract<Verdict, { kind: "act" }>,
  ): Promise<{ ok: true; sessions: number } | { ok: false; errorCause: ErrorCause; detail: string }> {
    const h = this.opts.handler;
    try {
      const sessions = h.findSessions(v.match);
      if (sessions.length === 0) return { ok: false, errorCause: ErrorCause.SessionContextNotFound, detail: JSON.stringify(v.match) };
      for (const s of sessions) {
        const o = request === "disconnect" ? await h.disconnect(s, v.cause) : await h.coa(s, v.changes);
        if (!o.ok) return { ok: false, errorCause: o.errorCause, detail: JSON.stringify(v.match) };
      }
      return { ok: true, sessions: sessions.length };
    } catch (e) {
      this.onEvent({ kind: "handler-error", detail: e instanceof Error ? e.message : String(e) });
      return { ok: false, errorCause: ErrorCause.ResourcesUnavailable, detail: "handler failed" };
    }
  }
}
