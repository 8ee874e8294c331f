// Public face of the IP helpers: checksums (RFC 1071, RFC 1624), IPv4/IPv6 headers, TCP MSS
// clamping and ICMP/ICMPv6 builders.
export {
  internetChecksum,
  l4ChecksumV4,
  l4ChecksumV6,
  onesComplementSum,
  pseudoHeaderSumV4,
  pseudoHeaderSumV6,
  updateChecksum16,
  updateChecksum32,
} from "./checksum.js";
export {
  IPV4_MIN_HEADER_LENGTH,
  IpProtocol,
  type Ipv4Header,
  type Ipv4HeaderInit,
  type Ipv4Syntax,
  type ParseIpv4Options,
  decodeIpv4Header,
  formatIpv4,
  parseIpv4,
  writeIpv4Header,
} from "./ipv4.js";
export {
  IPV6_HEADER_LENGTH,
  type Ipv6Header,
  type Ipv6HeaderInit,
  decodeIpv6Header,
  formatIpv6,
  ipv6UpperLayer,
  parseIpv6,
  writeIpv6Header,
} from "./ipv6.js";
export { clampTcpMss } from "./mss.js";
export {
  ICMPV6_ERROR_MAX_LENGTH,
  ICMP_ERROR_MAX_LENGTH,
  IcmpType,
  IcmpUnreachableCode,
  Icmpv6Type,
  Icmpv6UnreachableCode,
  type IcmpEchoInit,
  type IcmpUnreachableOptions,
  type Icmpv6EchoInit,
  type Icmpv6UnreachableOptions,
  buildIcmpEcho,
  buildIcmpUnreachable,
  buildIcmpv6Echo,
  buildIcmpv6Unreachable,
} from "./icmp.js";
