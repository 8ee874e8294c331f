// ICMP (RFC 792) and ICMPv6 (RFC 4443) builders: Destination Unreachable quoting the offending
// datagram, and Echo Request/Reply. Each returns a complete IP packet with both checksums set.
// The error builders refuse (RFC 1812 4.3.2.7, RFC 4443 2.4 (e)) where no error may be sent.
import { type WireError, DROP, wireError } from "../errors.js";
import { type Result, err, ok } from "../result.js";
import { internetChecksum, l4ChecksumV6 } from "./checksum.js";
import { IPV4_MIN_HEADER_LENGTH, IpProtocol, decodeIpv4Header, writeIpv4Header } from "./ipv4.js";
import { IPV6_HEADER_LENGTH, decodeIpv6Header, ipv6UpperLayer, writeIpv6Header } from "./ipv6.js";

export const IcmpType = {
  EchoReply: 0,
  DestUnreachable: 3,
  SourceQuench: 4,
  Redirect: 5,
  EchoRequest: 8,
  TimeExceeded: 11,
  ParameterProblem: 12,
} as const;

/** RFC 792, RFC 1812 5.2.7.1: Destination Unreachable codes. */
export const IcmpUnreachableCode = {
  Net: 0,
  Host: 1,
  Protocol: 2,
  Port: 3,
  FragmentationNeeded: 4,
  AdminProhibited: 13,
} as const;

export const Icmpv6Type = {
  DestUnreachable: 1,
  PacketTooBig: 2,
  TimeExceeded: 3,
  ParameterProblem: 4,
  EchoRequest: 128,
  EchoReply: 129,
} as const;

/** RFC 4443 3.1. */
export const Icmpv6UnreachableCode = {
  NoRoute: 0,
  AdminProhibited: 1,
  BeyondScope: 2,
  Address: 3,
  Port: 4,
} as const;

const ICMP_HEADER_LENGTH = 8;
/** RFC 1812 4.3.2.3: an ICMP error datagram SHOULD NOT exceed 576 octets. */
export const ICMP_ERROR_MAX_LENGTH = 576;
/** RFC 4443 2.4 (c): an ICMPv6 error MUST NOT exceed the minimum IPv6 MTU (RFC 8200 5). */
export const ICMPV6_ERROR_MAX_LENGTH = 1280;

/** RFC 1812 4.3.2.7: ICMP types that are errors (no error is sent about them). */
const ICMP_ERROR_TYPES: ReadonlySet<number> = new Set([3, 4, 5, 11, 12]);

export interface IcmpUnreachableOptions {
  /** Default 1, host unreachable. */
  readonly code?: number;
  /** RFC 1191: the next-hop MTU, for code 4 (fragmentation needed). */
  readonly nextHopMtu?: number;
  /** Total packet size ceiling; default 576 (RFC 1812 4.3.2.3), never below the RFC 792 minimum. */
  readonly maxLength?: number;
  readonly ttl?: number;
}

function refuse(reason: string, value?: number): { readonly ok: false; readonly error: WireError } {
  return err(wireError("bad-value", reason, DROP, value));
}

/** RFC 1812 4.3.2.7 / 5.3.7: a source that does not name one host. */
function isBadIpv4Source(a: number): boolean {
  const top = a >>> 24;
  return a === 0 || top === 127 || top >= 224;
}

/**
 * An IPv4 packet from `src` to the original's source: ICMP Destination Unreachable (RFC 792) with
 * the original IP header and as much of its data as fits in maxLength (RFC 1812 4.3.2.3; at least
 * the first 8 octets, RFC 792). Refused (bad-value, drop) where RFC 1812 4.3.2.7 forbids an
 * error: about an ICMP error, a non-initial fragment, a multicast or broadcast destination, or a
 * source that is not one host.
 */
export function buildIcmpUnreachable(original: Uint8Array, src: number, opts: IcmpUnreachableOptions = {}): Result<Buffer, WireError> {
  const decoded = decodeIpv4Header(original);
  if (!decoded.ok) return decoded;
  const h = decoded.value;
  if (h.fragmentOffset !== 0) return refuse("no ICMP error about a non-initial fragment (RFC 1812 4.3.2.7)", h.fragmentOffset);
  if (h.dst >>> 28 === 0xe || h.dst === 0xffffffff) {
    return refuse("no ICMP error about a multicast or broadcast datagram (RFC 1812 4.3.2.7)", h.dst >>> 24);
  }
  if (isBadIpv4Source(h.src)) return refuse("no ICMP error to a source that is not one host (RFC 1812 4.3.2.7)", h.src >>> 24);
  if (h.protocol === IpProtocol.ICMP) {
    const icmpType = original[h.headerLength];
    if (icmpType === undefined || h.totalLength <= h.headerLength || ICMP_ERROR_TYPES.has(icmpType)) {
      return refuse("no ICMP error about an ICMP error (RFC 1812 4.3.2.7)", icmpType);
    }
  }
  const minimum = IPV4_MIN_HEADER_LENGTH + ICMP_HEADER_LENGTH + h.headerLength + 8;
  const maxLength = Math.max(minimum, opts.maxLength ?? ICMP_ERROR_MAX_LENGTH);
  const quoted = Math.min(h.totalLength, maxLength - IPV4_MIN_HEADER_LENGTH - ICMP_HEADER_LENGTH);
  const total = IPV4_MIN_HEADER_LENGTH + ICMP_HEADER_LENGTH + quoted;
  const out = Buffer.alloc(total);
  // RFC 1812 4.3.2.5: ICMP errors SHOULD carry precedence 6 (internetwork control).
  writeIpv4Header(out, 0, { tos: 0xc0, totalLength: total, protocol: IpProtocol.ICMP, src, dst: h.src, ttl: opts.ttl ?? 64 });
  const icmp = IPV4_MIN_HEADER_LENGTH;
  out[icmp] = IcmpType.DestUnreachable;
  out[icmp + 1] = opts.code ?? IcmpUnreachableCode.Host;
  if (opts.nextHopMtu !== undefined) out.writeUInt16BE(opts.nextHopMtu & 0xffff, icmp + 6);
  out.set(original.subarray(0, quoted), icmp + ICMP_HEADER_LENGTH);
  out.writeUInt16BE(internetChecksum(out, icmp, total), icmp + 2);
  return ok(out);
}

export interface Icmpv6UnreachableOptions {
  /** Default 3, address unreachable. */
  readonly code?: number;
  /** Total packet size ceiling; default and maximum 1280 (RFC 4443 2.4 (c)). */
  readonly maxLength?: number;
  readonly hopLimit?: number;
}

/** RFC 4443 2.4 (e): the unspecified address, loopback or multicast do not name one node. */
function isBadIpv6Source(a: Uint8Array): boolean {
  if (a[0] === 0xff) return true;
  for (let i = 0; i < 15; i++) if (a[i] !== 0) return false;
  return a[15] === 0 || a[15] === 1;
}

/**
 * An IPv6 packet from `src` (16 octets) to the original's source: ICMPv6 Destination Unreachable
 * (RFC 4443 3.1) quoting as much of the original as fits in 1280 octets. Refused (bad-value, drop)
 * where RFC 4443 2.4 (e) forbids an error: about an ICMPv6 error, a multicast destination, or a
 * source that is not one node.
 */
export function buildIcmpv6Unreachable(
  original: Uint8Array,
  src: Uint8Array,
  opts: Icmpv6UnreachableOptions = {},
): Result<Buffer, WireError> {
  const decoded = decodeIpv6Header(original);
  if (!decoded.ok) return decoded;
  const h = decoded.value;
  if (h.dst[0] === 0xff) return refuse("no ICMPv6 error about a multicast destination (RFC 4443 2.4 (e))", 0xff);
  if (isBadIpv6Source(h.src)) return refuse("no ICMPv6 error to a source that is not one node (RFC 4443 2.4 (e))");
  const originalLength = IPV6_HEADER_LENGTH + h.payloadLength;
  const upper = ipv6UpperLayer(original, 0, originalLength);
  if (upper >= 0 && upper % 256 === IpProtocol.ICMPv6) {
    const icmpType = original[Math.floor(upper / 256)];
    // RFC 4443 2.1: types 0 to 127 are errors.
    if (icmpType === undefined || icmpType < 128) return refuse("no ICMPv6 error about an ICMPv6 error (RFC 4443 2.4 (e))", icmpType);
  }
  const maxLength = Math.min(ICMPV6_ERROR_MAX_LENGTH, Math.max(IPV6_HEADER_LENGTH * 2 + ICMP_HEADER_LENGTH, opts.maxLength ?? ICMPV6_ERROR_MAX_LENGTH));
  const quoted = Math.min(originalLength, maxLength - IPV6_HEADER_LENGTH - ICMP_HEADER_LENGTH);
  const payloadLength = ICMP_HEADER_LENGTH + quoted;
  const out = Buffer.alloc(IPV6_HEADER_LENGTH + payloadLength);
  writeIpv6Header(out, 0, { payloadLength, nextHeader: IpProtocol.ICMPv6, hopLimit: opts.hopLimit ?? 64, src, dst: h.src });
  const icmp = IPV6_HEADER_LENGTH;
  out[icmp] = Icmpv6Type.DestUnreachable;
  out[icmp + 1] = opts.code ?? Icmpv6UnreachableCode.Address;
  out.set(original.subarray(0, quoted), icmp + ICMP_HEADER_LENGTH);
  out.writeUInt16BE(l4ChecksumV6(out, 0, icmp, out.length, IpProtocol.ICMPv6), icmp + 2);
  return ok(out);
}

export interface IcmpEchoInit {
  readonly src: number;
  readonly dst: number;
  readonly identifier: number;
  readonly sequence: number;
  readonly data?: Uint8Array;
  /** Build an Echo Reply instead of an Echo Request. */
  readonly reply?: boolean;
  readonly ttl?: number;
}

/** RFC 792: an IPv4 packet carrying an ICMP Echo Request (or Reply). */
export function buildIcmpEcho(init: IcmpEchoInit): Buffer {
  const data = init.data ?? new Uint8Array(0);
  const total = IPV4_MIN_HEADER_LENGTH + ICMP_HEADER_LENGTH + data.length;
  const out = Buffer.alloc(total);
  writeIpv4Header(out, 0, { totalLength: total, protocol: IpProtocol.ICMP, src: init.src, dst: init.dst, ttl: init.ttl ?? 64 });
  const icmp = IPV4_MIN_HEADER_LENGTH;
  out[icmp] = init.reply === true ? IcmpType.EchoReply : IcmpType.EchoRequest;
  out.writeUInt16BE(init.identifier & 0xffff, icmp + 4);
  out.writeUInt16BE(init.sequence & 0xffff, icmp + 6);
  out.set(data, icmp + ICMP_HEADER_LENGTH);
  out.writeUInt16BE(internetChecksum(out, icmp, total), icmp + 2);
  return out;
}

export interface Icmpv6EchoInit {
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
  readonly identifier: number;
  readonly sequence: number;
  readonly data?: Uint8Array;
  readonly reply?: boolean;
  readonly hopLimit?: number;
}

/** RFC 4443 4.1, 4.2: an IPv6 packet carrying an ICMPv6 Echo Request (or Reply). */
export function buildIcmpv6Echo(init: Icmpv6EchoInit): Buffer {
  const data = init.data ?? new Uint8Array(0);
  const payloadLength = ICMP_HEADER_LENGTH + data.length;
  const out = Buffer.alloc(IPV6_HEADER_LENGTH + payloadLength);
  writeIpv6Header(out, 0, { payloadLength, nextHeader: IpProtocol.ICMPv6, hopLimit: init.hopLimit ?? 64, src: init.src, dst: init.dst });
  const icmp = IPV6_HEADER_LENGTH;
  out[icmp] = init.reply === true ? Icmpv6Type.EchoReply : Icmpv6Type.EchoRequest;
  out.writeUInt16BE(init.identifier & 0xffff, icmp + 4);
  out.writeUInt16BE(init.sequence & 0xffff, icmp + 6);
  out.set(data, icmp + ICMP_HEADER_LENGTH);
  out.writeUInt16BE(l4ChecksumV6(out, 0, icmp, out.length, IpProtocol.ICMPv6), icmp + 2);
  return out;
}
