// IP helpers: RFC 1071 checksum known answers, RFC 1624 incremental update against a full
// recompute, IPv4/IPv6 header decoding, TCP MSS clamping on v4 and v6 SYNs, ICMP/ICMPv6 builders
// (checksums verified by the independent reference in lib/ip-samples.ts).
import t from "tap";
import {
  IpProtocol,
  buildIcmpEcho,
  buildIcmpUnreachable,
  buildIcmpv6Echo,
  buildIcmpv6Unreachable,
  clampTcpMss,
  decodeIpv4Header,
  decodeIpv6Header,
  formatIpv4,
  formatIpv6,
  internetChecksum,
  l4ChecksumV4,
  l4ChecksumV6,
  onesComplementSum,
  parseIpv4,
  parseIpv6,
  updateChecksum16,
  updateChecksum32,
  writeIpv4Header,
} from "../src/index.js";
import {
  TcpFlag,
  linuxSynOptions,
  pseudoV4,
  pseudoV6,
  refChecksum,
  refVerifies,
  tcpChecksumOk,
  tcpV4,
  tcpV6,
  udpV4,
  udpV6,
} from "./lib/ip-samples.js";
import { failure, hex, unwrap } from "./lib/util.js";



let seed = 0x2545f491;
function rand(n: number): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) % n;
}

function randomBytes(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = rand(256);
  return b;
}

void t.test("RFC 1071 3 numerical example", (t) => {
  const b = hex("0001 f203 f4f5 f6f7");
  t.equal(onesComplementSum(b), 0xddf2);
  t.equal(internetChecksum(b), 0x220d);
  t.equal(refChecksum(b), 0x220d);
  // Odd length: the last octet is padded with zero. Ranges and initial sums chain.
  t.equal(onesComplementSum(hex("01")), 0x0100);
  t.equal(onesComplementSum(b, 2, 6, onesComplementSum(b, 0, 2)), onesComplementSum(b, 0, 6));
  t.equal(internetChecksum(Buffer.alloc(0)), 0xffff);
  t.end();
});

void t.test("a real IPv4 header checksum", (t) => {
  // 192.168.0.1 -> 192.168.0.199, UDP, Total Length 115, DF, TTL 64: checksum 0xb861.
  const header = hex("4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7");
  t.equal(internetChecksum(header), 0, "verifies");
  t.ok(refVerifies(header), "verifies by the reference");
  const zeroed = Buffer.from(header);
  zeroed.writeUInt16BE(0, 10);
  t.equal(internetChecksum(zeroed), 0xb861);
  t.equal(refChecksum(zeroed), 0xb861);
  const packet = Buffer.concat([header, Buffer.alloc(115 - 20)]);
  const h = unwrap(decodeIpv4Header(packet));
  t.same(h, {
    version: 4,
    headerLength: 20,
    tos: 0,
    totalLength: 115,
    identification: 0,
    dontFragment: true,
    moreFragments: false,
    fragmentOffset: 0,
    ttl: 64,
    protocol: IpProtocol.UDP,
    checksum: 0xb861,
    checksumOk: true,
    src: 0xc0a80001,
    dst: 0xc0a800c7,
  });
  t.equal(formatIpv4(h.dst), "192.168.0.199");
  const rebuilt = Buffer.alloc(20);
  writeIpv4Header(rebuilt, 0, { totalLength: 115, dontFragment: true, protocol: 17, src: h.src, dst: h.dst });
  t.equal(rebuilt.toString("hex"), header.toString("hex"));
  t.end();
});

void t.test("checksum over random buffers agrees with the reference", (t) => {
  for (let i = 0; i < 2000; i++) {
    const b = randomBytes(1 + rand(1600));
    if (internetChecksum(b) !== refChecksum(b)) t.fail(`mismatch on ${b.length} octets`);
  }
  // 64 KiB of 0xff: the largest sum a packet can produce.
  const ff = Buffer.alloc(65536, 0xff);
  t.equal(internetChecksum(ff), refChecksum(ff));
  t.pass("agreed");
  t.end();
});

void t.test("RFC 1624 incremental update equals a full recompute", (t) => {
  for (let i = 0; i < 5000; i++) {
    const b = randomBytes(2 * (2 + rand(40)));
    const before = internetChecksum(b);
    const at = 2 * rand(b.length / 2);
    const oldWord = b.readUInt16BE(at);
    const newWord = rand(3) === 0 ? [0, 0xffff][rand(2)] ?? 0 : rand(0x10000);
    b.writeUInt16BE(newWord, at);
    const full = internetChecksum(b);
    const incremental = updateChecksum16(before, oldWord, newWord);
    // Only an all-zero buffer may differ, as +0 (0xffff) against -0 (0x0000).
    const allZero = b.every((x) => x === 0);
    if (incremental !== full && !(allZero && incremental === 0)) {
      t.fail(`16-bit: ${b.toString("hex")} at ${at}: ${incremental} != ${full}`);
    }
  }
  for (let i = 0; i < 2000; i++) {
    const b = randomBytes(4 * (1 + rand(16)));
    const before = internetChecksum(b);
    const at = 4 * rand(b.length / 4);
    const oldValue = b.readUInt32BE(at);
    const newValue = rand(0x10000) * 0x10000 + rand(0x10000);
    b.writeUInt32BE(newValue, at);
    const full = internetChecksum(b);
    if (updateChecksum32(before, oldValue, newValue) !== full && !b.every((x) => x === 0)) t.fail(`32-bit at ${at}`);
  }
  // RFC 1624 4: the example, a header checksum 0xdd2f after a word changes 0x5555 -> 0x3285.
  t.equal(updateChecksum16(0xdd2f, 0x5555, 0x3285), 0x0000);
  t.pass("agreed");
  t.end();
});

void t.test("TCP/UDP pseudo-header checksums, v4 and v6", (t) => {
  const u4 = udpV4(Buffer.from("hello"));
  t.ok(refVerifies(pseudoV4(u4, IpProtocol.UDP, u4.length - 20), u4.subarray(20)), "the reference agrees with itself");
  t.equal(l4ChecksumV4(u4, 0, 20, u4.length, IpProtocol.UDP), 0, "reference-built UDP/IPv4 verifies");
  const z4 = Buffer.from(u4);
  z4.writeUInt16BE(0, 26);
  t.equal(l4ChecksumV4(z4, 0, 20, z4.length, IpProtocol.UDP), u4.readUInt16BE(26));
  const u6 = udpV6(Buffer.from("hello, odd"));
  t.equal(l4ChecksumV6(u6, 0, 40, u6.length, IpProtocol.UDP), 0, "reference-built UDP/IPv6 verifies");
  const s6 = tcpV6({ flags: TcpFlag.SYN, options: linuxSynOptions(1440) });
  t.equal(l4ChecksumV6(s6, 0, 40, s6.length, IpProtocol.TCP), 0, "reference-built TCP/IPv6 verifies");
  t.end();
});

void t.test("IPv4 header errors", (t) => {
  const good = udpV4(Buffer.from("x"));
  const cases: [string, Buffer, string][] = [
    ["19 octets", good.subarray(0, 19), "truncated"],
    ["version 6", Buffer.concat([hex("65"), good.subarray(1)]), "bad-version"],
    ["IHL 4", Buffer.concat([hex("44"), good.subarray(1)]), "bad-header"],
    ["IHL 15 without the options", Buffer.concat([hex("4f"), good.subarray(1, 40)]), "truncated"],
    ["Total Length below the header", (() => { const b = Buffer.from(good); b.writeUInt16BE(19, 2); return b; })(), "bad-length"],
    ["Total Length past the octets", (() => { const b = Buffer.from(good); b.writeUInt16BE(good.length + 1, 2); return b; })(), "bad-length"],
  ];
  for (const [what, b, code] of cases) {
    const e = failure(decodeIpv4Header(b));
    t.equal(e.code, code, what);
    t.equal(e.action.kind, "drop", what);
  }
  const corrupt = Buffer.from(good);
  corrupt[8] = 1;
  t.equal(unwrap(decodeIpv4Header(corrupt)).checksumOk, false);
  const fragment = unwrap(decodeIpv4Header(udpV4(Buffer.from("x"), { flagsFragment: 0x2000 | 185 })));
  t.same([fragment.dontFragment, fragment.moreFragments, fragment.fragmentOffset], [false, true, 185]);
  // Trailing octets beyond Total Length and an offset into a bigger buffer.
  const framed = Buffer.concat([hex("ff03 0021"), good, hex("0000")]);
  t.equal(unwrap(decodeIpv4Header(framed, 4)).totalLength, good.length);
  t.end();
});

void t.test("IPv6 header decode and errors", (t) => {
  const p = udpV6(Buffer.from("abc"));
  p[1] = 0xa3; // traffic class low nibble 0xa, flow label 0x3xxxx
  p[2] = 0x45;
  p[3] = 0x67;
  const h = unwrap(decodeIpv6Header(p));
  t.same(
    { ...h, src: formatIpv6(h.src), dst: formatIpv6(h.dst) },
    { version: 6, trafficClass: 0x0a, flowLabel: 0x34567, payloadLength: 11, nextHeader: 17, hopLimit: 64, src: "2001:db8:1::2", dst: "2001:db8::1" },
  );
  t.equal(failure(decodeIpv6Header(p.subarray(0, 39))).code, "truncated");
  t.equal(failure(decodeIpv6Header(Buffer.concat([hex("45"), p.subarray(1)]))).code, "bad-version");
  t.equal(failure(decodeIpv6Header(p.subarray(0, p.length - 1))).code, "bad-length");
  t.end();
});

void t.test("address text conversions", (t) => {
  for (const [text, canonical] of [
    ["2001:db8::1", "2001:db8::1"],
    ["::", "::"],
    ["::1", "::1"],
    ["1::", "1::"],
    ["2001:0db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    ["FE80::1:2:3:4", "fe80::1:2:3:4"],
  ] as const) {
    const b = parseIpv6(text);
    t.ok(b !== undefined, text);
    if (b !== undefined) t.equal(formatIpv6(b), canonical, text);
  }
  for (const bad of ["1:2:3", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "::g"]) t.equal(parseIpv6(bad), undefined, bad);
  t.equal(parseIpv4("10.0.0.256"), undefined);
  t.equal(parseIpv4("10.0.0"), undefined);
  t.equal(parseIpv4("255.255.255.255"), 0xffffffff);
  t.end();
});

void t.test("IPv4 text in the three syntaxes: dotted, strict (config, RADIUS), inet_addr (plugins)", (t) => {
  for (const [text, dotted, strict, inetAddr] of [
    ["192.0.2.1", 0xc0000201, 0xc0000201, 0xc0000201],
    ["0.0.0.0", 0, 0, 0],
    ["010.0.0.1", 0x0a000001, undefined, 0x08000001],
    ["0x7f.1", undefined, undefined, 0x7f000001],
    ["10.1", undefined, undefined, 0x0a000001],
    ["167772161", undefined, undefined, 0x0a000001],
    ["256.0.0.1", undefined, undefined, undefined],
    ["1.2.3.4.5", undefined, undefined, undefined],
    ["1.2.3.", undefined, undefined, undefined],
    [" 1.2.3.4", undefined, undefined, undefined],
    ["", undefined, undefined, undefined],
  ] as const) {
    t.equal(parseIpv4(text), dotted, `dotted ${text}`);
    t.equal(parseIpv4(text, { syntax: "strict" }), strict, `strict ${text}`);
    t.equal(parseIpv4(text, { syntax: "inet_addr" }), inetAddr, `inet_addr ${text}`);
  }
  t.end();
});

function mssOf(packet: Buffer, tcpOffset: number): number | undefined {
  const end = tcpOffset + ((packet[tcpOffset + 12] ?? 0) >> 4) * 4;
  let at = tcpOffset + 20;
  while (at < end) {
    const kind = packet[at] ?? 0;
    if (kind === 0) return undefined;
    if (kind === 1) {
      at++;
      continue;
    }
    if (kind === 2) return packet.readUInt16BE(at + 2);
    at += packet[at + 1] ?? 1;
  }
  return undefined;
}

void t.test("MSS clamp on IPv4 SYNs with options around the MSS", (t) => {
  const layouts: [string, number[]][] = [
    ["Linux: MSS, SACK-permitted, timestamps, NOP, window scale", linuxSynOptions(1460)],
    ["NOP then MSS (odd offset)", [1, 2, 4, 0x05, 0xb4, 1, 4, 2]],
    ["timestamps then MSS", [1, 1, 8, 10, 1, 2, 3, 4, 0, 0, 0, 0, 2, 4, 0x05, 0xb4]],
    ["NOP, SACK-permitted, NOP, MSS (odd offset)", [1, 4, 2, 2, 4, 0x23, 0x28, 1]],
    ["window scale, NOP, MSS with payload", [3, 3, 7, 2, 4, 0x05, 0xb4, 1]],
  ];
  for (const [what, options] of layouts) {
    for (const flags of [TcpFlag.SYN, TcpFlag.SYN | TcpFlag.ACK]) {
      const p = tcpV4({ flags, options, payload: Buffer.from("odd") });
      const before = mssOf(p, 20) ?? 0;
      t.ok(tcpChecksumOk(p, 20), `${what}: built valid`);
      const ipHeader = Buffer.from(p.subarray(0, 20));
      t.equal(clampTcpMss(p, 1400), true, what);
      t.equal(mssOf(p, 20), 1400, what);
      t.ok(tcpChecksumOk(p, 20), `${what}: checksum valid after clamp`);
      t.equal(l4ChecksumV4(p, 0, 20, p.length, IpProtocol.TCP), 0, `${what}: full recompute agrees`);
      t.ok(p.subarray(0, 20).equals(ipHeader), `${what}: IP header untouched`);
      t.ok(before > 1400);
      // A second pass changes nothing.
      t.equal(clampTcpMss(p, 1400), false, `${what}: idempotent`);
    }
  }
  // With IP options (IHL 6) and inside a bigger buffer at an odd offset.
  const withOptions = tcpV4({ flags: TcpFlag.SYN, options: linuxSynOptions(1460) }, { ipOptions: [1, 1, 1, 0] });
  const framed = Buffer.concat([hex("ff03002100"), withOptions, hex("eeee")]);
  t.equal(clampTcpMss(framed, 1380, 5, 5 + withOptions.length), true);
  const inner = framed.subarray(5, 5 + withOptions.length);
  t.equal(mssOf(inner, 24), 1380);
  t.ok(tcpChecksumOk(inner, 24));
  t.end();
});

void t.test("MSS clamp on IPv6 SYNs, with and without extension headers", (t) => {
  const cases: [string, Parameters<typeof tcpV6>[1], number][] = [
    ["plain", {}, 40],
    ["hop-by-hop PadN", { extensions: [[0, [0, 0, 1, 4, 0, 0, 0, 0]]] }, 48],
    ["destination options then first fragment", { extensions: [[60, [0, 0, 1, 4, 0, 0, 0, 0]], [44, [0, 0, 0, 1, 0, 0, 0, 7]]] }, 56],
  ];
  for (const [what, ip, tcpAt] of cases) {
    const p = tcpV6({ flags: TcpFlag.SYN, options: [1, 2, 4, 0x05, 0xa0, 4, 2, 0] }, ip);
    const exts = ip?.extensions !== undefined;
    if (!exts) t.ok(tcpChecksumOk(p, tcpAt), `${what}: built valid`);
    t.equal(clampTcpMss(p, 1220), true, what);
    t.equal(mssOf(p, tcpAt), 1220, what);
    const seg = p.subarray(tcpAt);
    t.ok(refVerifies(pseudoV6(p, IpProtocol.TCP, seg.length), seg), `${what}: checksum valid after clamp`);
  }
  t.end();
});

void t.test("MSS clamp leaves other packets alone", (t) => {
  const cases: [string, Buffer][] = [
    ["ACK", tcpV4({ flags: TcpFlag.ACK, options: linuxSynOptions(1460) })],
    ["MSS already smaller", tcpV4({ flags: TcpFlag.SYN, options: linuxSynOptions(1300) })],
    ["MSS equal", tcpV4({ flags: TcpFlag.SYN, options: linuxSynOptions(1400) })],
    ["no MSS option", tcpV4({ flags: TcpFlag.SYN, options: [4, 2, 1, 1] })],
    ["EOL before MSS", tcpV4({ flags: TcpFlag.SYN, options: [0, 1, 1, 1, 2, 4, 5, 0xb4] })],
    ["option Length 0 before MSS", tcpV4({ flags: TcpFlag.SYN, options: [8, 0, 1, 1, 2, 4, 5, 0xb4] })],
    ["option running past the header", tcpV4({ flags: TcpFlag.SYN, options: [1, 4, 9, 2, 4, 5, 0xb4, 1] })],
    ["MSS with Length 3", tcpV4({ flags: TcpFlag.SYN, options: [2, 3, 5, 1] })],
    ["UDP", udpV4(hex("0204 05b4"))],
    ["non-first fragment", tcpV4({ flags: TcpFlag.SYN, options: linuxSynOptions(1460) }, { flagsFragment: 0x0010 })],
    ["IPv6 non-first fragment", tcpV6({ flags: TcpFlag.SYN, options: linuxSynOptions(1460) }, { extensions: [[44, [0, 0, 0, 0x18, 0, 0, 0, 7]]] })],
    ["IPv6 behind ESP", tcpV6({ flags: TcpFlag.SYN, options: linuxSynOptions(1460) }, { extensions: [[50, [0, 0, 0, 0, 0, 0, 0, 0]]] })],
    ["IPv4 with Total Length past the buffer", (() => { const b = tcpV4({ flags: TcpFlag.SYN, options: linuxSynOptions(1460) }); b.writeUInt16BE(b.length + 4, 2); return b; })()],
    ["TCP header cut", tcpV4({ flags: TcpFlag.SYN, options: linuxSynOptions(1460) }).subarray(0, 30)],
    ["version 5", Buffer.concat([hex("55"), tcpV4({ flags: TcpFlag.SYN, options: linuxSynOptions(1460) }).subarray(1)])],
    ["empty", Buffer.alloc(0)],
  ];
  for (const [what, p] of cases) {
    const copy = Buffer.from(p);
    t.equal(clampTcpMss(p, 1400), false, what);
    t.ok(p.equals(copy), `${what}: untouched`);
  }
  const p = tcpV4({ flags: TcpFlag.SYN, options: linuxSynOptions(1460) });
  for (const bad of [-1, 70000, Number.NaN]) t.equal(clampTcpMss(p, bad), false, `mss ${bad}`);
  t.equal(clampTcpMss(p, 1400, 0, p.length + 10), false, "end past the buffer");
  t.end();
});

void t.test("MSS clamp on mutated SYNs never throws and keeps valid checksums valid", (t) => {
  const seeds = [
    tcpV4({ flags: TcpFlag.SYN, options: linuxSynOptions(1460) }),
    tcpV4({ flags: TcpFlag.SYN, options: [1, 2, 4, 0x05, 0xb4, 1, 4, 2] }),
    tcpV6({ flags: TcpFlag.SYN, options: linuxSynOptions(1440) }),
  ];
  let changed = 0;
  for (let i = 0; i < 20000; i++) {
    const p = Buffer.from(seeds[rand(seeds.length)] ?? Buffer.alloc(0));
    const flips = 1 + rand(3);
    for (let f = 0; f < flips; f++) p[rand(p.length)] = rand(256);
    const version = (p[0] ?? 0) >> 4;
    const tcpAt = version === 4 ? ((p[0] ?? 0) & 15) * 4 : 40;
    const plainV6 = version === 6 && p[6] === IpProtocol.TCP;
    const checkable = (version === 4 && p[9] === IpProtocol.TCP && tcpAt >= 20 && p.readUInt16BE(2) === p.length) || (plainV6 && p.readUInt16BE(4) === p.length - 40);
    const validBefore = checkable && tcpAt + 20 <= p.length && tcpChecksumOk(p, tcpAt);
    if (clampTcpMss(p, 1000)) {
      changed++;
      if (validBefore && !tcpChecksumOk(p, tcpAt)) t.fail(`checksum broken on ${p.toString("hex")}`);
    }
  }
  t.ok(changed > 1000, `clamped ${changed} mutated SYNs`);
  for (let i = 0; i < 20000; i++) clampTcpMss(randomBytes(rand(120)), rand(0x10000));
  t.pass("no throw");
  t.end();
});

void t.test("ICMP Destination Unreachable (RFC 792, RFC 1812 4.3.2.3)", (t) => {
  const lns = parseIpv4("198.51.100.1") ?? 0;
  const original = udpV4(Buffer.alloc(1400, 0x61), { src: [100, 64, 12, 34], dst: [203, 0, 113, 7] });
  const out = unwrap(buildIcmpUnreachable(original, lns));
  t.equal(out.length, 576, "as much as fits in 576 octets");
  const h = unwrap(decodeIpv4Header(out));
  t.equal(h.protocol, IpProtocol.ICMP);
  t.equal(h.src, lns);
  t.equal(formatIpv4(h.dst), "100.64.12.34");
  t.equal(h.totalLength, 576);
  t.ok(refVerifies(out.subarray(0, 20)), "IP header checksum (reference)");
  t.ok(refVerifies(out.subarray(20)), "ICMP checksum (reference)");
  t.same([out[20], out[21]], [3, 1]);
  t.equal(out.readUInt32BE(24), 0, "unused");
  t.ok(out.subarray(28).equals(original.subarray(0, 576 - 28)), "quotes the original from its IP header");

  const small = udpV4(Buffer.from("hi"));
  const outSmall = unwrap(buildIcmpUnreachable(small, lns, { code: 13 }));
  t.equal(outSmall.length, 28 + small.length, "a small datagram is quoted whole");
  t.equal(outSmall[21], 13);
  t.ok(refVerifies(outSmall.subarray(20)));

  const minimal = unwrap(buildIcmpUnreachable(original, lns, { maxLength: 0 }));
  t.equal(minimal.length, 20 + 8 + 20 + 8, "RFC 792: the IP header and the first 8 data octets");
  t.ok(refVerifies(minimal.subarray(20)));

  const mtu = unwrap(buildIcmpUnreachable(original, lns, { code: 4, nextHopMtu: 1452 }));
  t.equal(mtu.readUInt16BE(26), 1452, "RFC 1191 next-hop MTU");
  t.ok(refVerifies(mtu.subarray(20)));

  // A ping is not an error: it may be answered with one.
  t.ok(buildIcmpUnreachable(buildIcmpEcho({ src: 0x64400c22, dst: 0xcb007107, identifier: 1, sequence: 1 }), lns).ok);
  t.end();
});

void t.test("no ICMP error where RFC 1812 4.3.2.7 forbids one", (t) => {
  const lns = 0xc6336401;
  const icmpError = unwrap(buildIcmpUnreachable(udpV4(Buffer.from("x")), 0x0a000001));
  const cases: [string, Buffer][] = [
    ["about an ICMP error", icmpError],
    ["about a non-initial fragment", udpV4(Buffer.from("x"), { flagsFragment: 0x0004 })],
    ["to a multicast destination", udpV4(Buffer.from("x"), { dst: [239, 1, 2, 3] })],
    ["to the broadcast address", udpV4(Buffer.from("x"), { dst: [255, 255, 255, 255] })],
    ["from 0.0.0.0", udpV4(Buffer.from("x"), { src: [0, 0, 0, 0] })],
    ["from loopback", udpV4(Buffer.from("x"), { src: [127, 0, 0, 1] })],
    ["from class E", udpV4(Buffer.from("x"), { src: [240, 0, 0, 1] })],
  ];
  for (const [what, original] of cases) {
    const e = failure(buildIcmpUnreachable(original, lns));
    t.equal(e.code, "bad-value", what);
    t.equal(e.action.kind, "drop", what);
  }
  t.equal(failure(buildIcmpUnreachable(hex("4500"), lns)).code, "truncated");
  t.end();
});

void t.test("ICMPv6 Destination Unreachable (RFC 4443 3.1)", (t) => {
  const lns = parseIpv6("2001:db8:ffff::1") ?? new Uint8Array(16);
  const original = udpV6(Buffer.alloc(1400, 0x62));
  const out = unwrap(buildIcmpv6Unreachable(original, lns));
  t.equal(out.length, 1280, "as much as fits in the minimum MTU");
  const h = unwrap(decodeIpv6Header(out));
  t.equal(h.nextHeader, IpProtocol.ICMPv6);
  t.equal(formatIpv6(h.src), "2001:db8:ffff::1");
  t.equal(formatIpv6(h.dst), "2001:db8:1::2");
  t.same([out[40], out[41]], [1, 3], "type 1 code 3 (address unreachable)");
  const icmp = out.subarray(40);
  t.ok(refVerifies(pseudoV6(out, IpProtocol.ICMPv6, icmp.length), icmp), "ICMPv6 checksum (reference)");
  t.ok(out.subarray(48).equals(original.subarray(0, 1280 - 48)));

  const small = udpV6(Buffer.from("hi"));
  const outSmall = unwrap(buildIcmpv6Unreachable(small, lns, { code: 1 }));
  t.equal(outSmall.length, 48 + small.length);
  t.equal(outSmall[41], 1);
  t.ok(refVerifies(pseudoV6(outSmall, 58, outSmall.length - 40), outSmall.subarray(40)));

  // Refusals (RFC 4443 2.4 (e)).
  const anError = unwrap(buildIcmpv6Unreachable(small, lns));
  t.equal(failure(buildIcmpv6Unreachable(anError, lns)).code, "bad-value", "about an ICMPv6 error");
  const mcast = [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
  t.equal(failure(buildIcmpv6Unreachable(udpV6(Buffer.from("x"), { dst: mcast }), lns)).code, "bad-value", "to multicast");
  t.equal(failure(buildIcmpv6Unreachable(udpV6(Buffer.from("x"), { src: new Array<number>(16).fill(0) }), lns)).code, "bad-value", "from ::");
  // An echo request may get an error.
  const ping = buildIcmpv6Echo({ src: parseIpv6("2001:db8:1::2") ?? lns, dst: parseIpv6("2001:db8::99") ?? lns, identifier: 1, sequence: 2 });
  t.ok(buildIcmpv6Unreachable(ping, lns).ok);
  t.end();
});

void t.test("ICMP and ICMPv6 echo builders", (t) => {
  const e4 = buildIcmpEcho({ src: 0x0a000001, dst: 0x0a000002, identifier: 0x1234, sequence: 7, data: Buffer.from("ping!") });
  t.ok(refVerifies(e4.subarray(0, 20)));
  t.ok(refVerifies(e4.subarray(20)));
  t.same([e4[20], e4.readUInt16BE(24), e4.readUInt16BE(26)], [8, 0x1234, 7]);
  t.equal(unwrap(decodeIpv4Header(e4)).totalLength, e4.length);
  const r4 = buildIcmpEcho({ src: 0x0a000002, dst: 0x0a000001, identifier: 0x1234, sequence: 7, reply: true });
  t.equal(r4[20], 0);
  t.ok(refVerifies(r4.subarray(20)));
  const a = parseIpv6("2001:db8::1") ?? new Uint8Array(16);
  const b = parseIpv6("2001:db8::2") ?? new Uint8Array(16);
  const e6 = buildIcmpv6Echo({ src: a, dst: b, identifier: 9, sequence: 1, data: Buffer.from("odd") });
  t.equal(e6[40], 128);
  t.ok(refVerifies(pseudoV6(e6, 58, e6.length - 40), e6.subarray(40)));
  const r6 = buildIcmpv6Echo({ src: b, dst: a, identifier: 9, sequence: 1, reply: true });
  t.equal(r6[40], 129);
  t.equal(l4ChecksumV6(r6, 0, 40, r6.length, 58), 0);
  t.end();
});
