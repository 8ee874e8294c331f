// IPv6 on a session, the l2tpns way (startup-config ipv6_prefix): every session's address is the
// prefix's first 64 bits, then its IPv4 address, then 32 zero bits; IPV6CP gives the subscriber
// that interface identifier, and a Router Advertisement (RFC 4861 4.2) gives it the prefix, so
// that stateless autoconfiguration (RFC 4862) makes the same address. Control thread.
import { l4ChecksumV6, parseIpv6, writeIpv6Header } from "@lnsd/wire";

const ICMPV6 = 58;
const ROUTER_SOLICITATION = 133;
const ROUTER_ADVERTISEMENT = 134;
/** RFC 4861 4.6.2 and 4.6.4. */
const OPTION_PREFIX_INFORMATION = 3;
const OPTION_MTU = 5;
const PREFIX_ON_LINK = 0x80;
const PREFIX_AUTONOMOUS = 0x40;
/** RFC 4861 6.2.1's defaults for AdvValidLifetime and AdvPreferredLifetime; router lifetime 3 x 600 s. */
const VALID_LIFETIME = 2_592_000;
const PREFERRED_LIFETIME = 604_800;
const ROUTER_LIFETIME = 1800;

/** The 8 bytes of ipv6_prefix that sessions' addresses start with, or undefined ("::" is off). */
export function ipv6PrefixBytes(prefix: string): Uint8Array | undefined {
  const a = parseIpv6(prefix);
  if (a === undefined || a.every((b) => b === 0)) return undefined;
  return a.subarray(0, 8);
}

/** The interface identifier IPV6CP gives a session: its IPv4 address, then 32 zero bits. */
export function interfaceIdFor(ipv4: number): Uint8Array {
  return Uint8Array.from([ipv4 >>> 24, (ipv4 >>> 16) & 0xff, (ipv4 >>> 8) & 0xff, ipv4 & 0xff, 0, 0, 0, 0]);
}

/** True for an ICMPv6 Router Solicitation (RFC 4861 4.1) in the IPv6 packet. */
export function isRouterSolicitation(packet: Uint8Array): boolean {
  // A Router Solicitation has no extension headers before it in practice; hop limit 255 (6.1.1).
  return packet.length >= 48 && (packet[0] ?? 0) >> 4 === 6 && packet[6] === ICMPV6 && packet[7] === 255 && packet[40] === ROUTER_SOLICITATION && packet[41] === 0;
}

/**
 * A Router Advertisement from fe80::localInterfaceId to all nodes (ff02::1), with the prefix (/64,
 * on-link and autonomous) and the link MTU (RFC 4861 4.6.4).
 */
export function buildRouterAdvertisement(localInterfaceId: Uint8Array, prefix: Uint8Array, mtu: number): Buffer {
  const icmpLength = 16 + 32 + 8;
  const b = Buffer.alloc(40 + icmpLength);
  const src = new Uint8Array(16);
  src[0] = 0xfe;
  src[1] = 0x80;
  src.set(localInterfaceId.subarray(0, 8), 8);
  const dst = parseIpv6("ff02::1") ?? new Uint8Array(16);
  // RFC 4861 6.1.2: hop limit 255, or the receiver discards it.
  writeIpv6Header(b, 0, { src, dst, nextHeader: ICMPV6, payloadLength: icmpLength, hopLimit: 255 });
  let p = 40;
  b[p] = ROUTER_ADVERTISEMENT;
  b[p + 4] = 64; // Cur Hop Limit
  b[p + 5] = 0; // M and O: no DHCPv6
  b.writeUInt16BE(ROUTER_LIFETIME, p + 6);
  // Reachable Time and Retrans Timer 0: unspecified.
  p += 16;
  b[p] = OPTION_PREFIX_INFORMATION;
  b[p + 1] = 4;
  b[p + 2] = 64;
  b[p + 3] = PREFIX_ON_LINK | PREFIX_AUTONOMOUS;
  b.writeUInt32BE(VALID_LIFETIME, p + 4);
  b.writeUInt32BE(PREFERRED_LIFETIME, p + 8);
  b.set(prefix.subarray(0, 8), p + 16);
  p += 32;
  b[p] = OPTION_MTU;
  b[p + 1] = 1;
  b.writeUInt32BE(mtu, p + 4);
  b.writeUInt16BE(l4ChecksumV6(b, 0, 40, b.length, ICMPV6), 42);
  return b;
}
