// Access-Accept (and -Reject, -Challenge) attributes to a typed reply: what the session manager
// applies (addresses, routes, timeouts, DNS), what accounting echoes (Class) and what plugins see
// (Cisco-AVPair, every raw attribute). Total: a malformed attribute is skipped and noted in
// `problems`, never fatal. Pure.
import { formatIpv4, parseIpv4 } from "@lnsd/wire";
import { Attr, Vendor, VendorAttr } from "./constants.js";
import { attributeName, attributeSpec, validValue } from "./dictionary.js";
import { bufferToIpv4, decodeIpv6Prefix, ipv6ToBuffer, maskIpv4, parseIpv6PrefixText, type Ipv6Prefix } from "./ip.js";
import { splitVendorSpecific, type RadiusAttribute } from "./packet.js";

/** RFC 2865 5.22. */
export interface FramedRoute {
  /** Network address, host bits cleared. */
  readonly prefix: string;
  readonly length: number;
  /** Absent when the route points at the user (no gateway, or 0.0.0.0). */
  readonly gateway?: string;
  readonly metric?: number;
  /** The attribute as received. */
  readonly text: string;
}

/** RFC 3162 2.5. */
export interface FramedIpv6Route {
  readonly prefix: string;
  readonly length: number;
  /** Absent when the route points at the user (no gateway, or "::"). */
  readonly gateway?: string;
  readonly metric?: number;
  readonly text: string;
}

export interface AuthReply {
  readonly framedIpAddress?: string;
  readonly framedIpNetmask?: string;
  readonly framedRoutes: readonly FramedRoute[];
  readonly framedIpv6Prefixes: readonly Ipv6Prefix[];
  readonly framedIpv6Routes: readonly FramedIpv6Route[];
  readonly delegatedIpv6Prefixes: readonly Ipv6Prefix[];
  /** RFC 3162 2.1: 8 octets. */
  readonly framedInterfaceId?: Buffer;
  readonly sessionTimeoutSec?: number;
  readonly idleTimeoutSec?: number;
  readonly acctInterimIntervalSec?: number;
  /** Every Class, in order: accounting echoes them (RFC 2865 5.25). */
  readonly classes: readonly Buffer[];
  readonly filterIds: readonly string[];
  /** Ascend-Client-Primary/Secondary-DNS (vendor 529, or the old non-vendor 135/136). */
  readonly ascendPrimaryDns?: string;
  readonly ascendSecondaryDns?: string;
  /** MS-Primary/Secondary-DNS-Server (RFC 2548 2.7). */
  readonly msPrimaryDns?: string;
  readonly msSecondaryDns?: string;
  /** DNS servers to offer in IPCP: Microsoft's if given, else Ascend's. */
  readonly primaryDns?: string;
  readonly secondaryDns?: string;
  /** Cisco-AVPair values in order, for the plugin host ("throttle=yes", "intercept=yes"...). */
  readonly ciscoAvPairs: readonly string[];
  readonly replyMessages: readonly string[];
  /** RFC 2865 5.24, for an Access-Challenge. */
  readonly state?: Buffer;
  /** Every attribute as received, Message-Authenticator included. */
  readonly attributes: readonly RadiusAttribute[];
  /** Attributes skipped because malformed, one line each. */
  readonly problems: readonly string[];
}

type MutableReply = { -readonly [K in keyof AuthReply]: AuthReply[K] };

/** Splits a reply's attributes into typed fields. */
export function parseAuthReply(attributes: readonly RadiusAttribute[]): AuthReply {
  const r: MutableReply = {
    framedRoutes: [],
    framedIpv6Prefixes: [],
    framedIpv6Routes: [],
    delegatedIpv6Prefixes: [],
    classes: [],
    filterIds: [],
    ciscoAvPairs: [],
    replyMessages: [],
    attributes,
    problems: [],
  };
  const routes: FramedRoute[] = [];
  const routes6: FramedIpv6Route[] = [];
  const prefixes6: Ipv6Prefix[] = [];
  const delegated: Ipv6Prefix[] = [];
  const classes: Buffer[] = [];
  const filters: string[] = [];
  const avpairs: string[] = [];
  const messages: string[] = [];
  const problems: string[] = [];
  const once = <K extends keyof MutableReply>(key: K, name: string, value: MutableReply[K]): void => {
    if (r[key] !== undefined) problems.push(`${name}: repeated; the first is kept`);
    else r[key] = value;
  };

  for (const a of attributes) {
    if (a.type === Attr.VendorSpecific) {
      const vsa = splitVendorSpecific(a.value);
      if (!vsa.ok) {
        problems.push(`Vendor-Specific: ${vsa.error.reason}`);
        continue;
      }
      for (const v of vsa.value) {
        const spec = attributeSpec(v.type, v.vendorId);
        if (spec === undefined) continue;
        if (!validValue(spec.kind, v.value)) {
          problems.push(`${spec.name}: malformed value ${v.value.toString("hex")}`);
          continue;
        }
        if (v.vendorId === Vendor.Cisco && v.type === VendorAttr.CiscoAvPair) avpairs.push(v.value.toString("utf8"));
        else if (v.vendorId === Vendor.Microsoft && v.type === VendorAttr.MsPrimaryDnsServer) once("msPrimaryDns", spec.name, bufferToIpv4(v.value));
        else if (v.vendorId === Vendor.Microsoft && v.type === VendorAttr.MsSecondaryDnsServer) once("msSecondaryDns", spec.name, bufferToIpv4(v.value));
        else if (v.vendorId === Vendor.Ascend && v.type === VendorAttr.AscendClientPrimaryDns) once("ascendPrimaryDns", spec.name, bufferToIpv4(v.value));
        else if (v.vendorId === Vendor.Ascend && v.type === VendorAttr.AscendClientSecondaryDns) once("ascendSecondaryDns", spec.name, bufferToIpv4(v.value));
      }
      continue;
    }
    const spec = attributeSpec(a.type);
    if (spec === undefined) continue;
    if (!validValue(spec.kind, a.value)) {
      problems.push(`${attributeName(a.type)}: malformed value ${a.value.toString("hex").slice(0, 64)}`);
      continue;
    }
    const text = (): string => a.value.toString("utf8");
    switch (a.type) {
      case Attr.FramedIpAddress:
        once("framedIpAddress", spec.name, bufferToIpv4(a.value));
        break;
      case Attr.FramedIpNetmask:
        once("framedIpNetmask", spec.name, bufferToIpv4(a.value));
        break;
      case Attr.FramedRoute: {
        const route = parseFramedRoute(text());
        if (route === undefined) problems.push(`Framed-Route: cannot parse "${text()}"`);
        else routes.push(route);
        break;
      }
      case Attr.FramedIpv6Route: {
        const route = parseFramedIpv6Route(text());
        if (route === undefined) problems.push(`Framed-IPv6-Route: cannot parse "${text()}"`);
        else routes6.push(route);
        break;
      }
      case Attr.FramedIpv6Prefix:
      case Attr.DelegatedIpv6Prefix: {
        const p = decodeIpv6Prefix(a.value);
        if (p !== undefined) (a.type === Attr.FramedIpv6Prefix ? prefixes6 : delegated).push(p);
        break;
      }
      case Attr.FramedInterfaceId:
        once("framedInterfaceId", spec.name, Buffer.from(a.value));
        break;
      case Attr.SessionTimeout:
        once("sessionTimeoutSec", spec.name, a.value.readUInt32BE(0));
        break;
      case Attr.IdleTimeout:
        once("idleTimeoutSec", spec.name, a.value.readUInt32BE(0));
        break;
      case Attr.AcctInterimInterval:
        once("acctInterimIntervalSec", spec.name, a.value.readUInt32BE(0));
        break;
      case Attr.Class:
        classes.push(Buffer.from(a.value));
        break;
      case Attr.FilterId:
        filters.push(text());
        break;
      case Attr.ReplyMessage:
        messages.push(text());
        break;
      case Attr.State:
        once("state", spec.name, Buffer.from(a.value));
        break;
      case Attr.LegacyAscendClientPrimaryDns:
        once("ascendPrimaryDns", spec.name, bufferToIpv4(a.value));
        break;
      case Attr.LegacyAscendClientSecondaryDns:
        once("ascendSecondaryDns", spec.name, bufferToIpv4(a.value));
        break;
      default:
        break;
    }
  }
  r.framedRoutes = routes;
  r.framedIpv6Routes = routes6;
  r.framedIpv6Prefixes = prefixes6;
  r.delegatedIpv6Prefixes = delegated;
  r.classes = classes;
  r.filterIds = filters;
  r.ciscoAvPairs = avpairs;
  r.replyMessages = messages;
  r.problems = problems;
  const primary = r.msPrimaryDns ?? r.ascendPrimaryDns;
  const secondary = r.msSecondaryDns ?? r.ascendSecondaryDns;
  if (primary !== undefined) r.primaryDns = primary;
  if (secondary !== undefined) r.secondaryDns = secondary;
  return r;
}

/**
 * The natural (classful) mask of an address given without a length, as RADIUS servers have read
 * Framed-Route since Livingston; /32 when the address has bits past that mask (a host route).
 */
function naturalLength(addr: number): number {
  const first = addr >>> 24;
  const len = first < 128 ? 8 : first < 192 ? 16 : first < 224 ? 24 : 32;
  return maskIpv4(addr, len) === addr ? len : 32;
}

function parseMetric(s: string | undefined): number | undefined | null {
  if (s === undefined) return undefined;
  if (!/^-?\d{1,10}$/.test(s)) return null;
  const n = Number(s);
  return n < 0 ? undefined : n;
}

/**
 * RFC 2865 5.22: "destination prefix in dotted quad form optionally followed by a slash and a
 * decimal length specifier ... a space, a gateway address in dotted quad form, a space, and one or
 * more metrics separated by spaces". A gateway of 0.0.0.0 means the user's address. Only the first
 * metric is kept. Gateway and metrics may be absent.
 */
export function parseFramedRoute(text: string): FramedRoute | undefined {
  const parts = text.trim().split(/\s+/);
  const dest = parts[0] ?? "";
  const slash = dest.indexOf("/");
  const addrText = slash < 0 ? dest : dest.slice(0, slash);
  const addr = parseIpv4(addrText, { syntax: "strict" });
  if (addr === undefined) return undefined;
  let length: number;
  if (slash < 0) length = naturalLength(addr);
  else {
    const lenText = dest.slice(slash + 1);
    if (!/^\d{1,2}$/.test(lenText)) return undefined;
    length = Number(lenText);
    if (length > 32) return undefined;
  }
  let gateway: string | undefined;
  if (parts[1] !== undefined) {
    if (parseIpv4(parts[1], { syntax: "strict" }) === undefined) return undefined;
    if (parts[1] !== "0.0.0.0") gateway = parts[1];
  }
  const metric = parseMetric(parts[2]);
  if (metric === null) return undefined;
  return {
    prefix: formatIpv4(maskIpv4(addr, length)),
    length,
    ...(gateway === undefined ? {} : { gateway }),
    ...(metric === undefined ? {} : { metric }),
    text,
  };
}

/** RFC 3162 2.5: "prefix/length", then optionally a gateway ("::" for the user) and metrics. */
export function parseFramedIpv6Route(text: string): FramedIpv6Route | undefined {
  const parts = text.trim().split(/\s+/);
  const p = parseIpv6PrefixText(parts[0] ?? "");
  if (p === undefined) return undefined;
  let gateway: string | undefined;
  if (parts[1] !== undefined) {
    const g = ipv6ToBuffer(parts[1]);
    if (g === undefined) return undefined;
    if (!g.equals(Buffer.alloc(16))) gateway = parts[1];
  }
  const metric = parseMetric(parts[2]);
  if (metric === null) return undefined;
  return {
    prefix: p.prefix,
    length: p.length,
    ...(gateway === undefined ? {} : { gateway }),
    ...(metric === undefined ? {} : { metric }),
    text,
  };
}

/**
 * RFC 2869 5.16: the interim interval from the reply wins over the configured one
 * (radius_interim); it "SHOULD NOT be smaller than 60", so a smaller one from the server is raised
 * to 60. The operator's own setting is taken as given. 0 means no interim updates.
 */
export function interimIntervalSec(reply: AuthReply | undefined, configuredSec: number): number {
  const fromReply = reply?.acctInterimIntervalSec;
  if (fromReply !== undefined && fromReply > 0) return Math.max(60, fromReply);
  return Math.max(0, configuredSec);
}
