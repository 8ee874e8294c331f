// Address helpers for RADIUS values: IPv4 "address" (RFC 2865 5), IPv6 addresses and the
// RFC 3162 2.3 prefix encoding (Framed-IPv6-Prefix, Delegated-IPv6-Prefix). Pure functions.
import { isIPv6 } from "node:net";
import { parseIpv4 } from "@lnsd/wire";

/** The 4 octets of a dotted quad written without leading zeros, or undefined. */
export function ipv4ToBuffer(addr: string): Buffer | undefined {
  const n = parseIpv4(addr, { syntax: "strict" });
  if (n === undefined) return undefined;
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n, 0);
  return b;
}

export function bufferToIpv4(b: Buffer): string {
  return `${b[0] ?? 0}.${b[1] ?? 0}.${b[2] ?? 0}.${b[3] ?? 0}`;
}

/** 16 octets of an IPv6 address in text form (RFC 4291 2.2, with "::" and a dotted IPv4 tail). */
export function ipv6ToBuffer(addr: string): Buffer | undefined {
  if (!isIPv6(addr) || addr.includes("%")) return undefined;
  let text = addr;
  const lastColon = text.lastIndexOf(":");
  const last = text.slice(lastColon + 1);
  if (last.includes(".")) {
    // A dotted IPv4 tail stands for the last two groups.
    const v4 = ipv4ToBuffer(last);
    if (v4 === undefined) return undefined;
    text = `${text.slice(0, lastColon + 1)}${v4.readUInt16BE(0).toString(16)}:${v4.readUInt16BE(2).toString(16)}`;
  }
  const halves = text.split("::");
  const parse = (s: string): number[] => (s === "" ? [] : s.split(":").map((g) => parseInt(g, 16)));
  const head = parse(halves[0] ?? "");
  let groups = head;
  if (halves.length === 2) {
    const rest = parse(halves[1] ?? "");
    const fill = 8 - head.length - rest.length;
    if (fill < 1) return undefined;
    groups = [...head, ...new Array<number>(fill).fill(0), ...rest];
  }
  if (groups.length !== 8 || groups.some((g) => !Number.isInteger(g) || g < 0 || g > 0xffff)) return undefined;
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

/** RFC 5952 text form of 16 octets: lower case, longest run of zero groups (2 or more) as "::". */
export function bufferToIpv6(b: Buffer): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(((b[i * 2] ?? 0) << 8) | (b[i * 2 + 1] ?? 0));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLen < 2) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLen).join(":")}`;
}

export interface Ipv6Prefix {
  /** Text form of the prefix with the host bits cleared. */
  readonly prefix: string;
  readonly length: number;
}

/** Clears the bits past `length` (a copy). */
function maskBits(b: Buffer, length: number): Buffer {
  const out = Buffer.from(b);
  for (let i = 0; i < out.length; i++) {
    const keep = Math.max(0, Math.min(8, length - i * 8));
    out[i] = (out[i] ?? 0) & ((0xff << (8 - keep)) & 0xff);
  }
  return out;
}

/**
 * RFC 3162 2.3: Reserved (1 octet), Prefix-Length (0..128), then the prefix, as many octets as
 * needed (servers send 16, some only ceil(length/8)). Length of the value: 2 to 18.
 */
export function decodeIpv6Prefix(v: Buffer): Ipv6Prefix | undefined {
  if (v.length < 2 || v.length > 18) return undefined;
  const length = v.readUInt8(1);
  if (length > 128) return undefined;
  const octets = v.length - 2;
  if (octets * 8 < length) return undefined;
  const full = Buffer.alloc(16);
  v.copy(full, 0, 2);
  return { prefix: bufferToIpv6(maskBits(full, length)), length };
}

export function encodeIpv6Prefix(p: Ipv6Prefix): Buffer | undefined {
  const addr = ipv6ToBuffer(p.prefix);
  if (addr === undefined || !Number.isInteger(p.length) || p.length < 0 || p.length > 128) return undefined;
  const octets = Math.ceil(p.length / 8);
  const out = Buffer.alloc(2 + octets);
  out.writeUInt8(p.length, 1);
  maskBits(addr, p.length).copy(out, 2, 0, octets);
  return out;
}

/** "2001:db8::/48" to a prefix; undefined when malformed. Host bits are cleared. */
export function parseIpv6PrefixText(s: string): Ipv6Prefix | undefined {
  const slash = s.indexOf("/");
  if (slash < 0) return undefined;
  const addr = ipv6ToBuffer(s.slice(0, slash));
  const lenText = s.slice(slash + 1);
  if (addr === undefined || !/^\d{1,3}$/.test(lenText)) return undefined;
  const length = Number(lenText);
  if (length > 128) return undefined;
  return { prefix: bufferToIpv6(maskBits(addr, length)), length };
}

export function maskIpv4(addr: number, length: number): number {
  return length === 0 ? 0 : (addr & (0xffffffff << (32 - length))) >>> 0;
}
