// Test-side IP packet builders (TCP SYNs with options, UDP) and a reference Internet checksum
// written differently from src/ip/checksum.ts (sum modulo 0xffff over explicit pseudo-headers),
// so the tests verify the codec's checksums independently.

/** The sum of big-endian 16-bit words (odd tail padded), unfolded. */
function wordSum(b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < b.length; i += 2) s += (b[i] ?? 0) * 256 + (b[i + 1] ?? 0);
  return s;
}

/**
 * The checksum to store over these bytes: one's complement of the sum taken modulo 0xffff. Every
 * part but the last must have an even length (pseudo-headers do).
 */
export function refChecksum(...parts: Uint8Array[]): number {
  const sum = parts.reduce((acc, p) => acc + wordSum(p), 0);
  const m = sum % 0xffff;
  const folded = m === 0 && sum > 0 ? 0xffff : m;
  return 0xffff - folded;
}

/** True when the bytes (checksum field included) sum to all ones: the checksum is right. */
export function refVerifies(...parts: Uint8Array[]): boolean {
  const sum = parts.reduce((acc, p) => acc + wordSum(p), 0);
  return sum > 0 && sum % 0xffff === 0;
}

export function pseudoV4(packet: Uint8Array, protocol: number, l4Length: number): Buffer {
  return Buffer.concat([packet.subarray(12, 20), Buffer.from([0, protocol, l4Length >> 8, l4Length & 0xff])]);
}

export function pseudoV6(packet: Uint8Array, nextHeader: number, l4Length: number): Buffer {
  const tail = Buffer.alloc(8);
  tail.writeUInt32BE(l4Length, 0);
  tail[7] = nextHeader;
  return Buffer.concat([packet.subarray(8, 40), tail]);
}

export const TcpFlag = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10 } as const;

export interface TcpInit {
  readonly flags: number;
  /** Raw option bytes; padded with EOL to a multiple of 4. */
  readonly options?: readonly number[];
  readonly payload?: Uint8Array;
  readonly srcPort?: number;
  readonly dstPort?: number;
}

/** A TCP segment with a zero checksum. */
export function tcpSegment(init: TcpInit): Buffer {
  const opts = [...(init.options ?? [])];
  while (opts.length % 4 !== 0) opts.push(0);
  const header = Buffer.alloc(20 + opts.length);
  header.writeUInt16BE(init.srcPort ?? 49152, 0);
  header.writeUInt16BE(init.dstPort ?? 443, 2);
  header.writeUInt32BE(0x11223344, 4);
  header.writeUInt32BE(init.flags & TcpFlag.ACK ? 0x55667788 : 0, 8);
  header[12] = ((20 + opts.length) / 4) << 4;
  header[13] = init.flags;
  header.writeUInt16BE(64240, 14);
  Buffer.from(opts).copy(header, 20);
  return Buffer.concat([header, init.payload ?? Buffer.alloc(0)]);
}

/** Options of a Linux SYN: MSS, SACK-permitted, Timestamps, NOP, Window scale. */
export function linuxSynOptions(mss: number): number[] {
  return [2, 4, mss >> 8, mss & 0xff, 4, 2, 8, 10, 0, 0, 0x12, 0x34, 0, 0, 0, 0, 1, 3, 3, 7];
}

export interface Ipv4Init {
  readonly src?: readonly number[];
  readonly dst?: readonly number[];
  readonly protocol: number;
  readonly flagsFragment?: number;
  readonly ipOptions?: readonly number[];
}

/** An IPv4 packet around `l4` with both checksums computed by the reference. */
export function ipv4Packet(init: Ipv4Init, l4: Buffer, checksumAt?: number): Buffer {
  const opts = Buffer.from(init.ipOptions ?? []);
  const hl = 20 + opts.length;
  const ip = Buffer.alloc(hl);
  ip[0] = 0x40 | (hl / 4);
  ip.writeUInt16BE(hl + l4.length, 2);
  ip.writeUInt16BE(0xbeef, 4);
  ip.writeUInt16BE(init.flagsFragment ?? 0x4000, 6);
  ip[8] = 64;
  ip[9] = init.protocol;
  Buffer.from(init.src ?? [100, 64, 12, 34]).copy(ip, 12);
  Buffer.from(init.dst ?? [192, 0, 2, 1]).copy(ip, 16);
  opts.copy(ip, 20);
  ip.writeUInt16BE(refChecksum(ip), 10);
  const seg = Buffer.from(l4);
  if (checksumAt !== undefined) {
    seg.writeUInt16BE(0, checksumAt);
    seg.writeUInt16BE(refChecksum(pseudoV4(ip, init.protocol, seg.length), seg), checksumAt);
  }
  return Buffer.concat([ip, seg]);
}

export interface Ipv6Init {
  readonly src?: readonly number[];
  readonly dst?: readonly number[];
  /** Extension headers as [type, bytes]; each bytes' first octet is overwritten with the next header. */
  readonly extensions?: readonly (readonly [number, readonly number[]])[];
  readonly protocol: number;
}

const V6_SRC = [0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
const V6_DST = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];

/** An IPv6 packet around `l4` (after optional extension headers), checksum by the reference. */
export function ipv6Packet(init: Ipv6Init, l4: Buffer, checksumAt?: number): Buffer {
  const exts = init.extensions ?? [];
  const extBufs = exts.map(([, bytes], i) => {
    const b = Buffer.from(bytes);
    b[0] = exts[i + 1]?.[0] ?? init.protocol;
    return b;
  });
  const ext = Buffer.concat(extBufs);
  const ip = Buffer.alloc(40);
  ip[0] = 0x60;
  ip.writeUInt16BE(ext.length + l4.length, 4);
  ip[6] = exts[0]?.[0] ?? init.protocol;
  ip[7] = 64;
  Buffer.from(init.src ?? V6_SRC).copy(ip, 8);
  Buffer.from(init.dst ?? V6_DST).copy(ip, 24);
  const seg = Buffer.from(l4);
  if (checksumAt !== undefined) {
    seg.writeUInt16BE(0, checksumAt);
    seg.writeUInt16BE(refChecksum(pseudoV6(ip, init.protocol, seg.length), seg), checksumAt);
  }
  return Buffer.concat([ip, ext, seg]);
}

export function tcpV4(tcp: TcpInit, ip: Partial<Ipv4Init> = {}): Buffer {
  return ipv4Packet({ ...ip, protocol: 6 }, tcpSegment(tcp), 16);
}

export function tcpV6(tcp: TcpInit, ip: Partial<Ipv6Init> = {}): Buffer {
  return ipv6Packet({ ...ip, protocol: 6 }, tcpSegment(tcp), 16);
}

export function udpV4(payload: Uint8Array, ip: Partial<Ipv4Init> = {}): Buffer {
  const udp = Buffer.alloc(8 + payload.length);
  udp.writeUInt16BE(5353, 0);
  udp.writeUInt16BE(53, 2);
  udp.writeUInt16BE(udp.length, 4);
  Buffer.from(payload).copy(udp, 8);
  return ipv4Packet({ ...ip, protocol: 17 }, udp, 6);
}

export function udpV6(payload: Uint8Array, ip: Partial<Ipv6Init> = {}): Buffer {
  const udp = Buffer.alloc(8 + payload.length);
  udp.writeUInt16BE(5353, 0);
  udp.writeUInt16BE(53, 2);
  udp.writeUInt16BE(udp.length, 4);
  Buffer.from(payload).copy(udp, 8);
  return ipv6Packet({ ...ip, protocol: 17 }, udp, 6);
}

/** Does the TCP checksum of this v4/v6 packet (no v6 extension headers) verify? */
export function tcpChecksumOk(packet: Buffer, tcpOffset: number): boolean {
  const seg = packet.subarray(tcpOffset);
  const version = (packet[0] ?? 0) >> 4;
  const pseudo = version === 4 ? pseudoV4(packet, 6, seg.length) : pseudoV6(packet, 6, seg.length);
  return refVerifies(pseudo, seg);
}
