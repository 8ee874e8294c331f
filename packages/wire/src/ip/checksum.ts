// The Internet checksum (RFC 1071) over byte ranges, its incremental update (RFC 1624) and the
// TCP/UDP/ICMPv6 pseudo-header sums for IPv4 (RFC 793 3.1, RFC 768) and IPv6 (RFC 8200 8.1).
// Hot path: nothing here allocates.

function fold(sum: number): number {
  let s = sum;
  // `& 0xffff` keeps the low 16 bits exactly for any integer below 2^53.
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s;
}

/**
 * RFC 1071: the 16-bit one's complement sum of buf[start, end) taken as big-endian words (an odd
 * last octet is padded with zero), added to `initial`. Not complemented: use it to chain sums.
 */
export function onesComplementSum(buf: Uint8Array, start = 0, end = buf.length, initial = 0): number {
  let sum = initial;
  const last = end - 1;
  let i = start;
  // Up to 2^37 octets before the accumulator could lose precision: no folding inside the loop.
  for (; i < last; i += 2) sum += ((buf[i] ?? 0) << 8) | (buf[i + 1] ?? 0);
  if (i === last) sum += (buf[i] ?? 0) << 8;
  return fold(sum);
}

/** RFC 1071: the checksum to store, the one's complement of the sum. 0 when verifying a valid one. */
export function internetChecksum(buf: Uint8Array, start = 0, end = buf.length, initial = 0): number {
  return ~onesComplementSum(buf, start, end, initial) & 0xffff;
}

/**
 * RFC 1624 3, equation 3: HC' = ~(~HC + ~m + m'), the checksum after one 16-bit word of the
 * covered data changes from `oldWord` to `newWord`.
 */
export function updateChecksum16(checksum: number, oldWord: number, newWord: number): number {
  return ~fold((~checksum & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff)) & 0xffff;
}

/** As updateChecksum16 for a 32-bit field (two words), e.g. an IPv4 address. */
export function updateChecksum32(checksum: number, oldValue: number, newValue: number): number {
  const once = updateChecksum16(checksum, (oldValue >>> 16) & 0xffff, (newValue >>> 16) & 0xffff);
  return updateChecksum16(once, oldValue & 0xffff, newValue & 0xffff);
}

/**
 * RFC 793 3.1, RFC 768: the IPv4 pseudo-header sum (source, destination, zero, protocol, length)
 * with the addresses read from the IPv4 header at buf[ipOffset].
 */
export function pseudoHeaderSumV4(buf: Uint8Array, ipOffset: number, protocol: number, l4Length: number): number {
  return onesComplementSum(buf, ipOffset + 12, ipOffset + 20, protocol + l4Length);
}

/**
 * RFC 8200 8.1: the IPv6 pseudo-header sum (source, destination, upper-layer length, next header)
 * with the addresses read from the IPv6 header at buf[ipOffset].
 */
export function pseudoHeaderSumV6(buf: Uint8Array, ipOffset: number, nextHeader: number, l4Length: number): number {
  const lengthWords = (l4Length >>> 16) + (l4Length & 0xffff);
  return onesComplementSum(buf, ipOffset + 8, ipOffset + 40, nextHeader + lengthWords);
}

/**
 * The TCP/UDP checksum of the segment buf[l4Offset, l4End) inside the IPv4 packet at
 * buf[ipOffset]. Over a segment whose checksum field is zero it is the value to store; over one
 * holding a checksum it is 0 when that checksum is right.
 */
export function l4ChecksumV4(buf: Uint8Array, ipOffset: number, l4Offset: number, l4End: number, protocol: number): number {
  return internetChecksum(buf, l4Offset, l4End, pseudoHeaderSumV4(buf, ipOffset, protocol, l4End - l4Offset));
}

/** As l4ChecksumV4 for IPv6 (TCP, UDP, ICMPv6: RFC 8200 8.1, RFC 4443 2.3). */
export function l4ChecksumV6(buf: Uint8Array, ipOffset: number, l4Offset: number, l4End: number, nextHeader: number): number {
  return internetChecksum(buf, l4Offset, l4End, pseudoHeaderSumV6(buf, ipOffset, nextHeader, l4End - l4Offset));
}
