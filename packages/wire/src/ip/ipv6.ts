// IPv6 header (RFC 8200 3): a total decoder with typed errors, a writer, the walk over extension
// headers to the upper-layer header (RFC 8200 4), and text conversions (RFC 4291 2.2, RFC 5952 4).
import { type WireError, DROP, wireError } from "../errors.js";
import { type Result, err, ok } from "../result.js";
import { IpProtocol } from "./ipv4.js";

export const IPV6_HEADER_LENGTH = 40;

export interface Ipv6Header {
  readonly version: 6;
  readonly trafficClass: number;
  readonly flowLabel: number;
  readonly payloadLength: number;
  readonly nextHeader: number;
  readonly hopLimit: number;
  /** 16 octets, a view of the input. */
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
}

/**
 * Decodes the IPv6 header at buf[offset]. Errors: fewer than 40 octets (truncated), version not 6
 * (bad-version), Payload Length beyond the octets received (bad-length). A zero Payload Length
 * (RFC 2675 jumbogram) is returned as it is.
 */
export function decodeIpv6Header(buf: Uint8Array, offset = 0): Result<Ipv6Header, WireError> {
  const available = buf.length - offset;
  if (available < IPV6_HEADER_LENGTH) {
    return err(wireError("truncated", "IPv6 packet shorter than 40 octets", DROP, Math.max(0, available)));
  }
  const b0 = buf[offset] ?? 0;
  const b1 = buf[offset + 1] ?? 0;
  const version = b0 >> 4;
  if (version !== 6) return err(wireError("bad-version", "IP version is not 6", DROP, version));
  const payloadLength = ((buf[offset + 4] ?? 0) << 8) | (buf[offset + 5] ?? 0);
  if (IPV6_HEADER_LENGTH + payloadLength > available) {
    return err(wireError("bad-length", "IPv6 Payload Length beyond the octets received", DROP, payloadLength));
  }
  return ok({
    version: 6,
    trafficClass: ((b0 & 0x0f) << 4) | (b1 >> 4),
    flowLabel: ((b1 & 0x0f) << 16) | ((buf[offset + 2] ?? 0) << 8) | (buf[offset + 3] ?? 0),
    payloadLength,
    nextHeader: buf[offset + 6] ?? 0,
    hopLimit: buf[offset + 7] ?? 0,
    src: buf.subarray(offset + 8, offset + 24),
    dst: buf.subarray(offset + 24, offset + 40),
  });
}

export interface Ipv6HeaderInit {
  readonly trafficClass?: number;
  readonly flowLabel?: number;
  readonly payloadLength: number;
  readonly nextHeader: number;
  readonly hopLimit?: number;
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
}

/** Writes a 40-octet IPv6 header at buf[offset]; returns 40. */
export function writeIpv6Header(buf: Uint8Array, offset: number, h: Ipv6HeaderInit): number {
  const tc = (h.trafficClass ?? 0) & 0xff;
  const fl = (h.flowLabel ?? 0) & 0xfffff;
  buf[offset] = 0x60 | (tc >> 4);
  buf[offset + 1] = ((tc & 0x0f) << 4) | (fl >> 16);
  buf[offset + 2] = (fl >> 8) & 0xff;
  buf[offset + 3] = fl & 0xff;
  buf[offset + 4] = (h.payloadLength >> 8) & 0xff;
  buf[offset + 5] = h.payloadLength & 0xff;
  buf[offset + 6] = h.nextHeader & 0xff;
  buf[offset + 7] = (h.hopLimit ?? 64) & 0xff;
  buf.set(h.src.subarray(0, 16), offset + 8);
  buf.set(h.dst.subarray(0, 16), offset + 24);
  return IPV6_HEADER_LENGTH;
}

/** RFC 8200 4.1: at most this many extension headers are walked before giving up. */
const MAX_EXTENSION_HEADERS = 8;

/**
 * Walks the extension headers (RFC 8200 4.3-4.6, AH RFC 4302 2.2) of the IPv6 packet at
 * buf[start, end) to the upper-layer header. Returns offset * 256 + protocol, or -1 when a header
 * is cut short, ESP / No Next Header hides the rest, or the packet is a non-first fragment.
 * Packed into one number so the hot path does not allocate.
 */
export function ipv6UpperLayer(buf: Uint8Array, start: number, end: number): number {
  let at = start + IPV6_HEADER_LENGTH;
  if (at > end) return -1;
  let next = buf[start + 6] ?? 0;
  for (let i = 0; i <= MAX_EXTENSION_HEADERS; i++) {
    switch (next) {
      case IpProtocol.HopByHop:
      case IpProtocol.IPv6Route:
      case IpProtocol.IPv6DestOpts: {
        if (at + 8 > end) return -1;
        const nextAt = at + ((buf[at + 1] ?? 0) + 1) * 8;
        next = buf[at] ?? 0;
        at = nextAt;
        break;
      }
      case IpProtocol.IPv6Fragment: {
        if (at + 8 > end) return -1;
        // RFC 8200 4.5: only the first fragment (offset 0) holds the upper-layer header.
        if (((((buf[at + 2] ?? 0) << 8) | (buf[at + 3] ?? 0)) & 0xfff8) !== 0) return -1;
        next = buf[at] ?? 0;
        at += 8;
        break;
      }
      case IpProtocol.AH: {
        if (at + 8 > end) return -1;
        const nextAt = at + ((buf[at + 1] ?? 0) + 2) * 4;
        next = buf[at] ?? 0;
        at = nextAt;
        break;
      }
      case IpProtocol.ESP:
      case IpProtocol.IPv6NoNext:
        return -1;
      default:
        return at <= end ? at * 256 + next : -1;
    }
  }
  return -1;
}

/** RFC 5952 4: lower case, leading zeros dropped, the longest run (2 or more) of zero words as "::". */
export function formatIpv6(address: Uint8Array): string {
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((address[i] ?? 0) << 8) | (address[i + 1] ?? 0));
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]): string => ws.map((w) => w.toString(16)).join(":");
  if (bestAt < 0) return hex(words);
  return `${hex(words.slice(0, bestAt))}::${hex(words.slice(bestAt + bestLen))}`;
}

/** 16 octets for an IPv6 address in text (RFC 4291 2.2, without the dotted-quad tail), or undefined. */
export function parseIpv6(text: string): Uint8Array | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const words = (s: string): number[] | undefined => {
    if (s === "") return [];
    const out: number[] = [];
    for (const p of s.split(":")) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return undefined;
      out.push(parseInt(p, 16));
    }
    return out;
  };
  const head = words(halves[0] ?? "");
  const tail = halves.length === 2 ? words(halves[1] ?? "") : [];
  if (head === undefined || tail === undefined) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...new Array<number>(missing).fill(0), ...tail];
  const out = new Uint8Array(16);
  all.forEach((w, i) => {
    out[i * 2] = w >> 8;
    out[i * 2 + 1] = w & 0xff;
  });
  return out;
}
