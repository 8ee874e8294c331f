// TCP MSS clamping in place (RFC 879, RFC 6691): on a SYN inside an IPv4 or IPv6 packet, lower the
// Maximum Segment Size option to a ceiling and patch the TCP checksum incrementally (RFC 1624).
// Hot path: no allocation, never throws, leaves anything it does not understand untouched.
import { updateChecksum16 } from "./checksum.js";
import { IpProtocol } from "./ipv4.js";
import { ipv6UpperLayer } from "./ipv6.js";

const TCP_MIN_HEADER_LENGTH = 20;
const TCP_FLAG_SYN = 0x02;
/** RFC 793 3.1: End of Option List, No-Operation, Maximum Segment Size (Length 4). */
const TCPOPT_EOL = 0;
const TCPOPT_NOP = 1;
const TCPOPT_MSS = 2;

/**
 * Clamps the MSS of a TCP SYN (or SYN-ACK) in the IP packet at packet[start, end) to `mss`.
 * Returns true when it changed the packet. Non-TCP packets, non-SYN segments, non-first fragments,
 * truncated or malformed headers and options, and MSS values already at or below `mss` are left
 * alone.
 */
export function clampTcpMss(packet: Uint8Array, mss: number, start = 0, end = packet.length): boolean {
  if (!(mss >= 0 && mss <= 0xffff) || end > packet.length || start < 0 || start + 1 > end) return false;
  const version = (packet[start] ?? 0) >> 4;
  let tcp: number;
  let segmentEnd: number;
  if (version === 4) {
    if (start + 20 > end) return false;
    const ihl = ((packet[start] ?? 0) & 0x0f) * 4;
    const totalLength = ((packet[start + 2] ?? 0) << 8) | (packet[start + 3] ?? 0);
    if (ihl < 20 || totalLength < ihl || start + totalLength > end) return false;
    if ((packet[start + 9] ?? 0) !== IpProtocol.TCP) return false;
    // RFC 791 3.1: only the fragment at offset 0 carries the TCP header.
    if (((((packet[start + 6] ?? 0) << 8) | (packet[start + 7] ?? 0)) & 0x1fff) !== 0) return false;
    tcp = start + ihl;
    segmentEnd = start + totalLength;
  } else if (version === 6) {
    if (start + 40 > end) return false;
    const payloadLength = ((packet[start + 4] ?? 0) << 8) | (packet[start + 5] ?? 0);
    segmentEnd = start + 40 + payloadLength;
    if (segmentEnd > end) return false;
    const upper = ipv6UpperLayer(packet, start, segmentEnd);
    if (upper < 0 || upper % 256 !== IpProtocol.TCP) return false;
    tcp = Math.floor(upper / 256);
  } else {
    return false;
  }
  if (tcp + TCP_MIN_HEADER_LENGTH > segmentEnd) return false;
  if (((packet[tcp + 13] ?? 0) & TCP_FLAG_SYN) === 0) return false;
  const headerLength = ((packet[tcp + 12] ?? 0) >> 4) * 4;
  if (headerLength < TCP_MIN_HEADER_LENGTH || tcp + headerLength > segmentEnd) return false;
  const optionsEnd = tcp + headerLength;
  let at = tcp + TCP_MIN_HEADER_LENGTH;
  while (at < optionsEnd) {
    const kind = packet[at] ?? 0;
    if (kind === TCPOPT_EOL) return false;
    if (kind === TCPOPT_NOP) {
      at += 1;
      continue;
    }
    if (at + 1 >= optionsEnd) return false;
    const length = packet[at + 1] ?? 0;
    if (length < 2 || at + length > optionsEnd) return false;
    if (kind === TCPOPT_MSS && length === 4) return lowerMss(packet, tcp, at + 2, mss);
    at += length;
  }
  return false;
}

function lowerMss(packet: Uint8Array, tcp: number, valueAt: number, mss: number): boolean {
  const old = ((packet[valueAt] ?? 0) << 8) | (packet[valueAt + 1] ?? 0);
  const clamped = Math.floor(mss);
  if (old <= clamped) return false;
  packet[valueAt] = clamped >> 8;
  packet[valueAt + 1] = clamped & 0xff;
  // The checksum sums 16-bit words aligned on the start of the segment. A value at an odd offset
  // straddles two words; RFC 1071 2(B) (byte order independence) lets us update with both values
  // byte-swapped instead.
  const odd = ((valueAt - tcp) & 1) === 1;
  const before = odd ? ((old & 0xff) << 8) | (old >> 8) : old;
  const after = odd ? ((clamped & 0xff) << 8) | (clamped >> 8) : clamped;
  const checksumAt = tcp + 16;
  const checksum = ((packet[checksumAt] ?? 0) << 8) | (packet[checksumAt + 1] ?? 0);
  const updated = updateChecksum16(checksum, before, after);
  packet[checksumAt] = updated >> 8;
  packet[checksumAt + 1] = updated & 0xff;
  return true;
}
