// The attributes of the requests an LNS sends: Access-Request for a PPP user (RFC 2865 4.1,
// 5.2, 5.3, 5.40) and Accounting-Request (RFC 2866 4.1, 5). Values that come from the network
// (user names, Calling Number) may be too long: that is an error result, never a throw. Pure.
import type { AcctTerminateCause } from "@lnsd/wire";
import { AcctAuthentic, AcctStatusType, Attr, FramedProtocol, MAX_ATTRIBUTE_VALUE, MAX_PACKET_LENGTH, MAX_PASSWORD_LENGTH, NasPortType, ServiceType } from "./constants.js";
import { hidePassword, type Secret } from "./crypto.js";
import { encodeIpv6Prefix, ipv4ToBuffer, type Ipv6Prefix } from "./ip.js";
import { integerAttr, packetLength, type RadiusAttribute } from "./packet.js";

/** RFC 2865 4.1: an Access-Request carries NAS-IP-Address or NAS-Identifier (or both). */
export interface NasIdentity {
  readonly ipAddress?: string;
  readonly identifier?: string;
}

export type PppAuth =
  | { readonly kind: "pap"; readonly password: Buffer }
  /** MD5 CHAP (RFC 1994): the 16-octet response to `challenge` for CHAP identifier `identifier`. */
  | { readonly kind: "chap"; readonly identifier: number; readonly challenge: Buffer; readonly response: Buffer };

/** What the session knows about the call, from L2TP (RFC 2661 4.4.5) and PPP. */
export interface CallInfo {
  readonly userName: string;
  /** NAS-Port: lnsd's session id. */
  readonly nasPort: number;
  readonly acctSessionId: string;
  /** From the L2TP Calling Number AVP. */
  readonly callingStationId?: string;
  /** From the L2TP Called Number AVP. */
  readonly calledStationId?: string;
  /** From the connect speeds: see connectInfo(). */
  readonly connectInfo?: string;
  /** Attributes a plugin adds, sent as given. */
  readonly extra?: readonly RadiusAttribute[];
}

export interface AccessRequestInput extends CallInfo {
  readonly auth: PppAuth;
  /** RFC 2865 5.24: State from an Access-Challenge, echoed. */
  readonly state?: Buffer;
}

export type Built = { readonly ok: true; readonly attributes: RadiusAttribute[] } | { readonly ok: false; readonly reason: string };

/** Collects attributes, remembering the first value that does not fit. */
class AttrList {
  readonly list: RadiusAttribute[] = [];
  error: string | undefined;

  octets(type: number, name: string, v: Buffer): void {
    if (v.length > MAX_ATTRIBUTE_VALUE) this.error ??= `${name} of ${v.length} octets (at most ${MAX_ATTRIBUTE_VALUE})`;
    else this.list.push({ type, value: v });
  }

  text(type: number, name: string, v: string | undefined): void {
    if (v === undefined || v === "") return;
    this.octets(type, name, Buffer.from(v, "utf8"));
  }

  int(type: number, v: number): void {
    this.list.push(integerAttr(type, v));
  }

  ipv4(type: number, name: string, v: string | undefined): void {
    if (v === undefined) return;
    const b = ipv4ToBuffer(v);
    if (b === undefined) this.error ??= `${name}: not an IPv4 address: ${v}`;
    else this.list.push({ type, value: b });
  }

  prefix6(type: number, name: string, v: Ipv6Prefix | undefined): void {
    if (v === undefined) return;
    const b = encodeIpv6Prefix(v);
    if (b === undefined) this.error ??= `${name}: not an IPv6 prefix: ${v.prefix}/${v.length}`;
    else this.list.push({ type, value: b });
  }

  done(): Built {
    if (this.error !== undefined) return { ok: false, reason: this.error };
    // Message-Authenticator (18 octets) is added when signing.
    const length = packetLength(this.list) + 18;
    if (length > MAX_PACKET_LENGTH) return { ok: false, reason: `request of ${length} octets (at most ${MAX_PACKET_LENGTH})` };
    return { ok: true, attributes: this.list };
  }
}

function nasAttributes(l: AttrList, nas: NasIdentity): void {
  l.ipv4(Attr.NasIpAddress, "NAS-IP-Address", nas.ipAddress);
  l.text(Attr.NasIdentifier, "NAS-Identifier", nas.identifier);
}

function callAttributes(l: AttrList, call: CallInfo): void {
  l.text(Attr.UserName, "User-Name", call.userName);
  l.int(Attr.NasPort, call.nasPort);
  l.int(Attr.NasPortType, NasPortType.Virtual);
  l.int(Attr.ServiceType, ServiceType.Framed);
  l.int(Attr.FramedProtocol, FramedProtocol.PPP);
  l.text(Attr.CallingStationId, "Calling-Station-Id", call.callingStationId);
  l.text(Attr.CalledStationId, "Called-Station-Id", call.calledStationId);
  l.text(Attr.ConnectInfo, "Connect-Info", call.connectInfo);
  l.text(Attr.AcctSessionId, "Acct-Session-Id", call.acctSessionId);
}

/**
 * Attributes of an Access-Request. The User-Password is hidden with the request's own random
 * authenticator (RFC 2865 5.2), so that is needed here. CHAP: CHAP-Password is the CHAP identifier
 * and the response (RFC 2865 5.3), CHAP-Challenge the challenge (RFC 2865 5.40), always sent as an
 * attribute rather than folded into the Request Authenticator.
 */
export function accessRequestAttributes(input: AccessRequestInput, nas: NasIdentity, secret: Secret, requestAuthenticator: Buffer): Built {
  const l = new AttrList();
  callAttributes(l, input);
  nasAttributes(l, nas);
  const auth = input.auth;
  switch (auth.kind) {
    case "pap":
      if (auth.password.length > MAX_PASSWORD_LENGTH) l.error ??= `password of ${auth.password.length} octets (RFC 2865 5.2: at most ${MAX_PASSWORD_LENGTH})`;
      else l.octets(Attr.UserPassword, "User-Password", hidePassword(auth.password, secret, requestAuthenticator));
      break;
    case "chap":
      if (auth.response.length !== 16) l.error ??= `CHAP response of ${auth.response.length} octets (MD5: 16)`;
      else if (auth.challenge.length === 0) l.error ??= "empty CHAP challenge";
      else {
        l.octets(Attr.ChapPassword, "CHAP-Password", Buffer.concat([Buffer.from([auth.identifier & 0xff]), auth.response]));
        l.octets(Attr.ChapChallenge, "CHAP-Challenge", auth.challenge);
      }
      break;
    default: {
      const never: never = auth;
      return never;
    }
  }
  if (input.state !== undefined) l.octets(Attr.State, "State", input.state);
  for (const a of input.extra ?? []) l.octets(a.type, `attribute ${a.type}`, a.value);
  return l.done();
}

/** Octet and packet counts of a session, from the user's point of view (RFC 2866 5.3, 5.4). */
export interface AcctCounters {
  /** Received from the user (upstream). */
  readonly inputOctets: number;
  /** Sent to the user (downstream). */
  readonly outputOctets: number;
  readonly inputPackets: number;
  readonly outputPackets: number;
  readonly sessionTimeSec: number;
}

export interface AcctSessionInfo extends CallInfo {
  readonly framedIpAddress?: string;
  readonly framedIpv6Prefix?: Ipv6Prefix;
  readonly delegatedIpv6Prefix?: Ipv6Prefix;
  /** Every Class of the Access-Accept, echoed (RFC 2865 5.25). */
  readonly classes?: readonly Buffer[];
}

export type AccountingRecord =
  | { readonly status: "start"; readonly session: AcctSessionInfo }
  | { readonly status: "interim"; readonly session: AcctSessionInfo; readonly counters: AcctCounters }
  | { readonly status: "stop"; readonly session: AcctSessionInfo; readonly counters: AcctCounters; readonly terminateCause: AcctTerminateCause }
  /** Accounting-On / -Off (RFC 2866 5.1): the NAS starts, or stops in order. */
  | { readonly status: "on"; readonly acctSessionId: string }
  | { readonly status: "off"; readonly acctSessionId: string; readonly terminateCause?: AcctTerminateCause };

const GIGAWORD = 2 ** 32;

function statusType(r: AccountingRecord): AcctStatusType {
  switch (r.status) {
    case "start":
      return AcctStatusType.Start;
    case "interim":
      return AcctStatusType.InterimUpdate;
    case "stop":
      return AcctStatusType.Stop;
    case "on":
      return AcctStatusType.AccountingOn;
    case "off":
      return AcctStatusType.AccountingOff;
    default: {
      const never: never = r;
      return never;
    }
  }
}

/**
 * Attributes of an Accounting-Request. Octet counts beyond 32 bits carry the rest in
 * Acct-Input/Output-Gigawords (RFC 2869 5.1, 5.2). Acct-Delay-Time (RFC 2866 5.2) is how long the
 * record has waited; Event-Timestamp (RFC 2869 5.3) when the event happened, in Unix seconds.
 */
export function accountingAttributes(r: AccountingRecord, nas: NasIdentity, delaySec: number, eventTimestampSec: number): Built {
  const l = new AttrList();
  l.int(Attr.AcctStatusType, statusType(r));
  if (r.status === "on" || r.status === "off") {
    l.text(Attr.AcctSessionId, "Acct-Session-Id", r.acctSessionId);
    if (r.status === "off" && r.terminateCause !== undefined) l.int(Attr.AcctTerminateCause, r.terminateCause);
  } else {
    const s = r.session;
    callAttributes(l, s);
    l.int(Attr.AcctAuthentic, AcctAuthentic.RADIUS);
    l.ipv4(Attr.FramedIpAddress, "Framed-IP-Address", s.framedIpAddress);
    l.prefix6(Attr.FramedIpv6Prefix, "Framed-IPv6-Prefix", s.framedIpv6Prefix);
    l.prefix6(Attr.DelegatedIpv6Prefix, "Delegated-IPv6-Prefix", s.delegatedIpv6Prefix);
    for (const c of s.classes ?? []) l.octets(Attr.Class, "Class", c);
    if (r.status !== "start") {
      const c = r.counters;
      l.int(Attr.AcctSessionTime, c.sessionTimeSec);
      l.int(Attr.AcctInputOctets, c.inputOctets % GIGAWORD);
      l.int(Attr.AcctOutputOctets, c.outputOctets % GIGAWORD);
      l.int(Attr.AcctInputGigawords, Math.floor(c.inputOctets / GIGAWORD));
      l.int(Attr.AcctOutputGigawords, Math.floor(c.outputOctets / GIGAWORD));
      l.int(Attr.AcctInputPackets, c.inputPackets);
      l.int(Attr.AcctOutputPackets, c.outputPackets);
    }
    if (r.status === "stop") l.int(Attr.AcctTerminateCause, r.terminateCause);
    for (const a of s.extra ?? []) l.octets(a.type, `attribute ${a.type}`, a.value);
  }
  nasAttributes(l, nas);
  l.int(Attr.AcctDelayTime, delaySec);
  l.int(Attr.EventTimestamp, eventTimestampSec);
  return l.done();
}

/**
 * Connect-Info (RFC 2869 5.11) from the L2TP connect speeds (RFC 2661 4.4.5 Tx and Rx Connect
 * Speed, bits per second): "tx" when they agree or there is no Rx speed, else "tx/rx".
 */
export function connectInfo(txBps: number, rxBps?: number): string {
  return rxBps === undefined || rxBps === txBps ? `${txBps}` : `${txBps}/${rxBps}`;
}
