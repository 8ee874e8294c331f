// IPv4 header (RFC 791 3.1): a total decoder with typed errors, a writer that fills in the header
// checksum, the IP protocol numbers we use and dotted-quad conversions. Addresses are u32 numbers.
import { type WireError, DROP, wireError } from "../errors.js";
import { type Result, err, ok } from "../result.js";
import { internetChecksum } from "./checksum.js";

/** IANA Assigned Internet Protocol Numbers used by lnsd. */
export const IpProtocol = {
  HopByHop: 0,
  ICMP: 1,
  TCP: 6,
  UDP: 17,
  IPv6Route: 43,
  IPv6Fragment: 44,
  ESP: 50,
  AH: 51,
  ICMPv6: 58,
  IPv6NoNext: 59,
  IPv6DestOpts: 60,
} as const;

export const IPV4_MIN_HEADER_LENGTH = 20;

export interface Ipv4Header {
  readonly version: 4;
  /** IHL * 4, in octets (20 to 60). */
  readonly headerLength: number;
  /** The whole second octet (DSCP and ECN, RFC 2474 / RFC 3168). */
  readonly tos: number;
  readonly totalLength: number;
  readonly identification: number;
  readonly dontFragment: boolean;
  readonly moreFragments: boolean;
  /** In units of 8 octets (RFC 791 3.1). */
  readonly fragmentOffset: number;
  readonly ttl: number;
  readonly protocol: number;
  readonly checksum: number;
  /** The header checksum verifies (RFC 791 3.1; RFC 1812 5.2.2 says routers drop it when not). */
  readonly checksumOk: boolean;
  readonly src: number;
  readonly dst: number;
}

function u16At(b: Uint8Array, at: number): number {
  return ((b[at] ?? 0) << 8) | (b[at + 1] ?? 0);
}

function u32At(b: Uint8Array, at: number): number {
  return ((b[at] ?? 0) * 0x1000000 + (((b[at + 1] ?? 0) << 16) | ((b[at + 2] ?? 0) << 8) | (b[at + 3] ?? 0)));
}

/**
 * Decodes the IPv4 header at buf[offset]. Errors: fewer than 20 octets or than IHL says
 * (truncated), version not 4 (bad-version), IHL below 5 (bad-header), Total Length below the
 * header or beyond the octets there (bad-length). A bad header checksum is reported, not an error.
 */
export function decodeIpv4Header(buf: Uint8Array, offset = 0): Result<Ipv4Header, WireError> {
  const available = buf.length - offset;
  if (available < IPV4_MIN_HEADER_LENGTH) {
    return err(wireError("truncated", "IPv4 packet shorter than 20 octets", DROP, Math.max(0, available)));
  }
  const b0 = buf[offset] ?? 0;
  const version = b0 >> 4;
  if (version !== 4) return err(wireError("bad-version", "IP version is not 4", DROP, version));
  const headerLength = (b0 & 0x0f) * 4;
  if (headerLength < IPV4_MIN_HEADER_LENGTH) return err(wireError("bad-header", "IPv4 IHL below 5", DROP, b0 & 0x0f));
  if (headerLength > available) return err(wireError("truncated", "IPv4 options cut short", DROP, headerLength));
  const totalLength = u16At(buf, offset + 2);
  if (totalLength < headerLength) {
    return err(wireError("bad-length", "IPv4 Total Length shorter than the header", DROP, totalLength));
  }
  if (totalLength > available) {
    return err(wireError("bad-length", "IPv4 Total Length beyond the octets received", DROP, totalLength));
  }
  const flagsFragment = u16At(buf, offset + 6);
  return ok({
    version: 4,
    headerLength,
    tos: buf[offset + 1] ?? 0,
    totalLength,
    identification: u16At(buf, offset + 4),
    dontFragment: (flagsFragment & 0x4000) !== 0,
    moreFragments: (flagsFragment & 0x2000) !== 0,
    fragmentOffset: flagsFragment & 0x1fff,
    ttl: buf[offset + 8] ?? 0,
    protocol: buf[offset + 9] ?? 0,
    checksum: u16At(buf, offset + 10),
    checksumOk: internetChecksum(buf, offset, offset + headerLength) === 0,
    src: u32At(buf, offset + 12),
    dst: u32At(buf, offset + 16),
  });
}

export interface Ipv4HeaderInit {
  readonly tos?: number;
  readonly totalLength: number;
  readonly identification?: number;
  readonly dontFragment?: boolean;
  readonly ttl?: number;
  readonly protocol: number;
  readonly src: number;
  readonly dst: number;
}

/** Writes a 20-octet IPv4 header (no options) with its checksum at buf[offset]; returns 20. */
export function writeIpv4Header(buf: Uint8Array, offset: number, h: Ipv4HeaderInit): number {
  const w = (at: number, v: number): void => {
    buf[offset + at] = (v >>> 8) & 0xff;
    buf[offset + at + 1] = v & 0xff;
  };
  buf[offset] = 0x45;
  buf[offset + 1] = (h.tos ?? 0) & 0xff;
  w(2, h.totalLength);
  w(4, h.identification ?? 0);
  w(6, h.dontFragment === true ? 0x4000 : 0);
  buf[offset + 8] = (h.ttl ?? 64) & 0xff;
  buf[offset + 9] = h.protocol & 0xff;
  w(10, 0);
  w(12, h.src >>> 16);
  w(14, h.src & 0xffff);
  w(16, h.dst >>> 16);
  w(18, h.dst & 0xffff);
  w(10, internetChecksum(buf, offset, offset + IPV4_MIN_HEADER_LENGTH));
  return IPV4_MIN_HEADER_LENGTH;
}

/** "192.0.2.1" for 0xc0000201. */
export function formatIpv4(address: number): string {
  const a = address >>> 0;
  return `${a >>> 24}.${(a >>> 16) & 0xff}.${(a >>> 8) & 0xff}.${a & 0xff}`;
}

/**
 * What parseIpv4 accepts:
 * - "dotted" (the default): four decimal parts of one to three digits, each at most 255; "010" is 10.
 * - "strict": the same without leading zeros, as the config files and RADIUS text write addresses
 *   (node's net.isIPv4 agrees); "010.0.0.1" is refused rather than read as inet_addr would.
 * - "inet_addr": C's inet_addr(3), as l2tpns's plugins read their arguments: a, a.b, a.b.c or
 *   a.b.c.d, each part decimal, 0x hex or 0 octal, the last part filling the octets left.
 */
export type Ipv4Syntax = "dotted" | "strict" | "inet_addr";

export interface ParseIpv4Options {
  readonly syntax?: Ipv4Syntax;
}

const DOTTED_PART = /^\d{1,3}$/;
const STRICT_PART = /^(0|[1-9]\d{0,2})$/;
const INET_ADDR_PART = /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)$/;

/** The u32 of an IPv4 address in text, or undefined when it is not one (in the syntax asked for). */
export function parseIpv4(text: string, options: ParseIpv4Options = {}): number | undefined {
  const syntax = options.syntax ?? "dotted";
  const parts = text.split(".");
  if (syntax === "inet_addr") return inetAddrParts(parts);
  if (parts.length !== 4) return undefined;
  const part = syntax === "strict" ? STRICT_PART : DOTTED_PART;
  let n = 0;
  for (const p of parts) {
    if (!part.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

function inetAddrParts(parts: readonly string[]): number | undefined {
  if (parts.length > 4) return undefined;
  const values: number[] = [];
  for (const p of parts) {
    if (!INET_ADDR_PART.test(p)) return undefined;
    values.push(/^0[xX]/.test(p) ? Number.parseInt(p.slice(2), 16) : p.startsWith("0") ? Number.parseInt(p, 8) : Number.parseInt(p, 10));
  }
  const last = values.pop() ?? 0;
  if (values.some((v) => v > 255) || last >= 2 ** (8 * (4 - values.length))) return undefined;
  return values.reduce((a, v, i) => a + v * 2 ** (8 * (3 - i)), 0) + last;
}
