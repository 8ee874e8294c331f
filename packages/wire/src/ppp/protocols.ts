// PPP protocol numbers (RFC 1661 2, IANA "PPP DLL Protocol Numbers") and the rule that says which
// 16-bit values are valid Protocol fields. Pure data, shared by the frame and packet codecs.

export const PppProtocol = {
  IPv4: 0x0021,
  IPv6: 0x0057,
  /** RFC 1990 Multilink PPP. */
  MP: 0x003d,
  /** RFC 1962 individual-link compressed datagram. */
  CompressedDatagram: 0x00fd,
  IPCP: 0x8021,
  IPV6CP: 0x8057,
  CCP: 0x80fd,
  LCP: 0xc021,
  PAP: 0xc023,
  LQR: 0xc025,
  CHAP: 0xc223,
  EAP: 0xc227,
} as const;
export type PppProtocolName = keyof typeof PppProtocol;

/**
 * RFC 1661 2: the least significant bit of the least significant octet is 1 and the least
 * significant bit of the most significant octet is 0. Other values are unrecognised protocols.
 */
export function isValidPppProtocol(protocol: number): boolean {
  return Number.isInteger(protocol) && protocol >= 0 && protocol <= 0xffff && (protocol & 0x0101) === 0x0001;
}

/** RFC 1661 2: 0x0xxx-0x3xxx network layer, 0x8xxx-0xbxxx their NCPs, 0xcxxx link layer control. */
export function isPppControlProtocol(protocol: number): boolean {
  return protocol >= 0x8000;
}

const NAMES = new Map<number, string>(Object.entries(PppProtocol).map(([name, protocol]) => [protocol, name]));

/** "LCP", "IPCP"... or the hex number for a log line. */
export function pppProtocolName(protocol: number): string {
  return NAMES.get(protocol) ?? `0x${protocol.toString(16).padStart(4, "0")}`;
}
