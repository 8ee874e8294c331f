// Fuzzes the IP decoders and the functions that read untrusted packets: IPv4 and IPv6 header
// decoders, TCP MSS clamping (wrapped as a decoder that must not throw) and the ICMP/ICMPv6
// error builders, 100,000 inputs each, mutated from valid packets.
import t from "tap";
import {
  type Result,
  type WireError,
  buildIcmpEcho,
  buildIcmpUnreachable,
  buildIcmpv6Echo,
  buildIcmpv6Unreachable,
  clampTcpMss,
  decodeIpv4Header,
  decodeIpv6Header,
  ok,
  parseIpv6,
} from "../src/index.js";
import { fuzzDecoder } from "./lib/fuzz.js";
import { TcpFlag, linuxSynOptions, tcpV4, tcpV6, udpV4, udpV6 } from "./lib/ip-samples.js";

const RUNS = 100_000;
const lns6 = parseIpv6("2001:db8:ffff::1") ?? new Uint8Array(16);
const v6a = parseIpv6("2001:db8:1::2") ?? new Uint8Array(16);
const v6b = parseIpv6("2001:db8::1") ?? new Uint8Array(16);

const v4Seeds = [
  tcpV4({ flags: TcpFlag.SYN, options: linuxSynOptions(1460) }),
  tcpV4({ flags: TcpFlag.SYN | TcpFlag.ACK, options: [1, 2, 4, 5, 0xb4, 1, 4, 2] }, { ipOptions: [1, 1, 1, 0] }),
  tcpV4({ flags: TcpFlag.ACK, payload: Buffer.from("data") }),
  udpV4(Buffer.from("dns?")),
  buildIcmpEcho({ src: 0x64400c22, dst: 0xc0000201, identifier: 1, sequence: 1, data: Buffer.from("ping") }),
];
const v6Seeds = [
  tcpV6({ flags: TcpFlag.SYN, options: linuxSynOptions(1440) }),
  tcpV6({ flags: TcpFlag.SYN, options: [2, 4, 5, 0xa0] }, { extensions: [[0, [0, 0, 1, 4, 0, 0, 0, 0]], [44, [0, 0, 0, 1, 0, 0, 0, 9]]] }),
  udpV6(Buffer.from("dns?")),
  buildIcmpv6Echo({ src: v6a, dst: v6b, identifier: 1, sequence: 1, data: Buffer.from("ping") }),
];

function mssAsDecoder(b: Buffer): Result<boolean, WireError> {
  return ok(clampTcpMss(b, 1200));
}

const decoders: [string, (b: Buffer) => Result<unknown, WireError>, Buffer[]][] = [
  ["ipv4-header", (b) => decodeIpv4Header(b), v4Seeds],
  ["ipv6-header", (b) => decodeIpv6Header(b), v6Seeds],
  ["tcp-mss-clamp", mssAsDecoder, [...v4Seeds, ...v6Seeds]],
  ["icmp-unreachable", (b) => buildIcmpUnreachable(b, 0xc6336401), v4Seeds],
  ["icmpv6-unreachable", (b) => buildIcmpv6Unreachable(b, lns6), v6Seeds],
];

for (const [name, decode, seeds] of decoders) {
  void t.test(`fuzz ${name}`, (t) => {
    t.same(fuzzDecoder(name, decode, { seeds, runs: RUNS }), []);
    t.end();
  });
}
