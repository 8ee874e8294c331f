// Realistic PPP frames (FF 03, two-octet Protocol, Information) covering every LCP Code and option,
// PAP, CHAP, IPCP with the RFC 1877 options, IPV6CP, CCP and one IPv4 and one IPv6 data frame.
// Used by the round-trip tests here and fed to tshark as an independent decoder.
import { createHash } from "node:crypto";
import {
  ChapAlgorithm,
  PppCode,
  PppProtocol,
  buildIcmpEcho,
  buildIcmpv6Echo,
  encodeCcp,
  encodeChap,
  encodeIpcp,
  encodeIpv6cp,
  encodeLcp,
  encodePap,
  encodePppFrame,
  parseIpv4,
  parseIpv6,
  type CcpPacket,
  type ChapPacket,
  type IpcpPacket,
  type Ipv6cpPacket,
  type LcpPacket,
  type PapPacket,
} from "../../src/index.js";
import { hex } from "./util.js";

/** What a sample was encoded from, keyed by the name tshark gives the protocol's layer. */
export type PppSampleSource =
  | { readonly layer: "lcp"; readonly packet: LcpPacket }
  | { readonly layer: "ipcp"; readonly packet: IpcpPacket }
  | { readonly layer: "ipv6cp"; readonly packet: Ipv6cpPacket }
  | { readonly layer: "ccp"; readonly packet: CcpPacket }
  | { readonly layer: "pap"; readonly packet: PapPacket }
  | { readonly layer: "chap"; readonly packet: ChapPacket }
  /** An IPv4 or IPv6 datagram, carried as it is. */
  | { readonly layer: "ip" | "ipv6"; readonly packet: Buffer };

export interface PppSample {
  readonly name: string;
  /** The whole PPP frame: FF 03, Protocol, Information. */
  readonly bytes: Buffer;
  readonly protocol: number;
  /** The control packet's Code; absent for data frames. */
  readonly code?: number;
  /** The values the frame was encoded from, for tests that compare a decoder's view with them. */
  readonly source: PppSampleSource;
}

function v4(text: string): number {
  const a = parseIpv4(text);
  if (a === undefined) throw new Error(`bad address ${text}`);
  return a;
}

function v6(text: string): Uint8Array {
  const a = parseIpv6(text);
  if (a === undefined) throw new Error(`bad address ${text}`);
  return a;
}

const ascii = (s: string): Buffer => Buffer.from(s, "latin1");

function frame(name: string, protocol: number, info: Buffer, source: PppSampleSource): PppSample {
  const bytes = encodePppFrame(protocol, info);
  return protocol >= 0x8000 ? { name, bytes, protocol, code: info[0] ?? 0, source } : { name, bytes, protocol, source };
}

const lcp = (name: string, packet: LcpPacket): PppSample => frame(name, PppProtocol.LCP, encodeLcp(packet), { layer: "lcp", packet });
const ipcp = (name: string, packet: IpcpPacket): PppSample => frame(name, PppProtocol.IPCP, encodeIpcp(packet), { layer: "ipcp", packet });
const ipv6cp = (name: string, packet: Ipv6cpPacket): PppSample => frame(name, PppProtocol.IPV6CP, encodeIpv6cp(packet), { layer: "ipv6cp", packet });
const ccp = (name: string, packet: CcpPacket): PppSample => frame(name, PppProtocol.CCP, encodeCcp(packet), { layer: "ccp", packet });
const pap = (name: string, packet: PapPacket): PppSample => frame(name, PppProtocol.PAP, encodePap(packet), { layer: "pap", packet });
const chap = (name: string, packet: ChapPacket): PppSample => frame(name, PppProtocol.CHAP, encodeChap(packet), { layer: "chap", packet });

function ipData(name: string, protocol: typeof PppProtocol.IPv4 | typeof PppProtocol.IPv6, packet: Buffer): PppSample {
  return frame(name, protocol, packet, { layer: protocol === PppProtocol.IPv4 ? "ip" : "ipv6", packet });
}

export function pppSamples(): PppSample[] {
  const lnsMagic = 0x5a3c91e7;
  const peerMagic = 0x1d2e3f40;
  const challenge = hex("6f 1c 9a 2b 44 e0 13 7d 8c 55 a1 02 bb 3e 90 c4");
  const chapId = 0x2a;
  const md5 = createHash("md5")
    .update(Buffer.from([chapId]))
    .update(ascii("s3cret"))
    .update(challenge)
    .digest();
  // A CCP Configure-Request as Windows sends it: MPPE (18) and, from pppd, Deflate (26) and BSD (21).
  const ccpReqPacket: CcpPacket = {
    kind: "ConfReq",
    identifier: 1,
    options: [
      { name: "unknown", type: 18, data: hex("01000060") },
      { name: "unknown", type: 26, data: hex("7800") },
      { name: "unknown", type: 21, data: hex("2f") },
    ],
  };
  // RFC 1570 Identification (Code 12, Magic-Number, Message), which lnsd answers with Code-Reject.
  const identificationPacket = Buffer.concat([hex("0c 05 0012"), hex("1d2e3f40"), ascii("MSRASV5.20")]);

  const samples: PppSample[] = [
    // LCP (RFC 1661 5), every Code.
    lcp("lcp-confreq-lns", {
      kind: "ConfReq",
      identifier: 1,
      options: [
        { name: "mru", value: 1458 },
        { name: "authProtocol", value: { kind: "chap", algorithm: ChapAlgorithm.MD5 } },
        { name: "magicNumber", value: lnsMagic },
      ],
    }),
    lcp("lcp-confreq-peer", {
      kind: "ConfReq",
      identifier: 1,
      options: [
        { name: "accm", value: 0 },
        { name: "magicNumber", value: peerMagic },
        { name: "pfc" },
        { name: "acfc" },
      ],
    }),
    lcp("lcp-confreq-multilink", {
      kind: "ConfReq",
      identifier: 2,
      options: [
        { name: "mru", value: 1500 },
        { name: "magicNumber", value: peerMagic },
        { name: "mrru", value: 1614 },
        { name: "endpointDiscriminator", value: { class: 3, address: hex("02 00 5e 10 00 01") } },
        // RFC 1570 Callback, not in lnsd's table: kept raw.
        { name: "unknown", type: 13, data: hex("06") },
      ],
    }),
    lcp("lcp-confreq-pap", {
      kind: "ConfReq",
      identifier: 3,
      options: [
        { name: "authProtocol", value: { kind: "pap" } },
        // No Quality-Protocol here: Wireshark 4.0 reports the valid RFC 1989 2.5 LQR option
        // (Length 8, Reporting-Period) as malformed. ppp-lcp.test.ts covers it.
        { name: "magicNumber", value: lnsMagic },
      ],
    }),
    lcp("lcp-confack", {
      kind: "ConfAck",
      identifier: 1,
      options: [
        { name: "accm", value: 0 },
        { name: "magicNumber", value: peerMagic },
        { name: "pfc" },
        { name: "acfc" },
      ],
    }),
    lcp("lcp-confnak", {
      kind: "ConfNak",
      identifier: 1,
      options: [
        { name: "mru", value: 1400 },
        { name: "authProtocol", value: { kind: "pap" } },
      ],
    }),
    lcp("lcp-confrej", {
      kind: "ConfRej",
      identifier: 2,
      options: [
        { name: "mrru", value: 1614 },
        { name: "endpointDiscriminator", value: { class: 3, address: hex("02 00 5e 10 00 01") } },
        { name: "unknown", type: 13, data: hex("06") },
      ],
    }),
    lcp("lcp-termreq", { kind: "TermReq", identifier: 3, data: ascii("User request") }),
    lcp("lcp-termack", { kind: "TermAck", identifier: 3, data: Buffer.alloc(0) }),
    lcp("lcp-coderej", { kind: "CodeRej", identifier: 4, rejected: identificationPacket }),
    lcp("lcp-protrej", { kind: "ProtRej", identifier: 5, protocol: PppProtocol.CCP, rejected: encodeCcp(ccpReqPacket) }),
    lcp("lcp-echoreq", { kind: "EchoReq", identifier: 6, magic: lnsMagic, data: Buffer.alloc(0) }),
    lcp("lcp-echoreply", { kind: "EchoReply", identifier: 6, magic: peerMagic, data: Buffer.alloc(0) }),
    lcp("lcp-discardreq", { kind: "DiscardReq", identifier: 7, magic: peerMagic, data: ascii("discard me") }),

    // PAP (RFC 1334 2.2).
    pap("pap-authreq", { kind: "AuthReq", identifier: 1, peerId: ascii("alice@isp.example"), password: ascii("s3cret") }),
    pap("pap-authack", { kind: "AuthAck", identifier: 1, message: ascii("Login ok") }),
    pap("pap-authnak", { kind: "AuthNak", identifier: 2, message: ascii("Authentication failed") }),

    // CHAP (RFC 1994 4), MD5 response computed as RFC 1994 2.3 says.
    chap("chap-challenge", { kind: "Challenge", identifier: chapId, value: challenge, name: ascii("lnsd") }),
    chap("chap-response", { kind: "Response", identifier: chapId, value: md5, name: ascii("alice@isp.example") }),
    chap("chap-success", { kind: "Success", identifier: chapId, message: ascii("Access granted") }),
    chap("chap-failure", { kind: "Failure", identifier: chapId, message: ascii("Access denied") }),

    // IPCP (RFC 1332, RFC 1877).
    ipcp("ipcp-confreq-peer", {
      kind: "ConfReq",
      identifier: 1,
      options: [
        { name: "ipCompressionProtocol", value: hex("002d 0f 01") },
        { name: "ipAddress", value: 0 },
        { name: "primaryDns", value: 0 },
        { name: "primaryNbns", value: 0 },
        { name: "secondaryDns", value: 0 },
        { name: "secondaryNbns", value: 0 },
      ],
    }),
    ipcp("ipcp-confrej", {
      kind: "ConfRej",
      identifier: 1,
      options: [
        { name: "ipCompressionProtocol", value: hex("002d 0f 01") },
        { name: "primaryNbns", value: 0 },
        { name: "secondaryNbns", value: 0 },
      ],
    }),
    ipcp("ipcp-confnak", {
      kind: "ConfNak",
      identifier: 2,
      options: [
        { name: "ipAddress", value: v4("100.64.12.34") },
        { name: "primaryDns", value: v4("192.0.2.53") },
        { name: "secondaryDns", value: v4("198.51.100.53") },
      ],
    }),
    ipcp("ipcp-confreq-lns", { kind: "ConfReq", identifier: 1, options: [{ name: "ipAddress", value: v4("100.64.0.1") }] }),
    ipcp("ipcp-confack", {
      kind: "ConfAck",
      identifier: 3,
      options: [
        { name: "ipAddress", value: v4("100.64.12.34") },
        { name: "primaryDns", value: v4("192.0.2.53") },
        { name: "secondaryDns", value: v4("198.51.100.53") },
      ],
    }),
    ipcp("ipcp-confreq-ip-addresses", { kind: "ConfReq", identifier: 4, options: [{ name: "ipAddresses", value: hex("0a000002 0a000001") }] }),
    ipcp("ipcp-termreq", { kind: "TermReq", identifier: 5, data: Buffer.alloc(0) }),
    ipcp("ipcp-termack", { kind: "TermAck", identifier: 5, data: Buffer.alloc(0) }),
    ipcp("ipcp-coderej", { kind: "CodeRej", identifier: 6, rejected: hex("0e 07 0004") }),

    // IPV6CP (RFC 5072).
    ipv6cp("ipv6cp-confreq", { kind: "ConfReq", identifier: 1, options: [{ name: "interfaceIdentifier", value: hex("0211 22ff fe33 4455") }] }),
    ipv6cp("ipv6cp-confnak", { kind: "ConfNak", identifier: 1, options: [{ name: "interfaceIdentifier", value: hex("a1b2 c3d4 e5f6 0718") }] }),
    ipv6cp("ipv6cp-confack", { kind: "ConfAck", identifier: 2, options: [{ name: "interfaceIdentifier", value: hex("a1b2 c3d4 e5f6 0718") }] }),
    // RFC 2509 IPHC: TCP_SPACE 15, NON_TCP_SPACE 15, F_MAX_PERIOD 256, F_MAX_TIME 5, MAX_HEADER 168.
    ipv6cp("ipv6cp-confrej", {
      kind: "ConfRej",
      identifier: 3,
      options: [{ name: "ipv6CompressionProtocol", value: hex("004f 000f 000f 0100 0005 00a8") }],
    }),
    ipv6cp("ipv6cp-termreq", { kind: "TermReq", identifier: 4, data: Buffer.alloc(0) }),
    ipv6cp("ipv6cp-termack", { kind: "TermAck", identifier: 4, data: Buffer.alloc(0) }),
    ipv6cp("ipv6cp-coderej", { kind: "CodeRej", identifier: 5, rejected: hex("0c 01 0004") }),

    // CCP (RFC 1962): a request lnsd rejects whole, and the reject.
    ccp("ccp-confreq", ccpReqPacket),
    ccp("ccp-confrej", {
      kind: "ConfRej",
      identifier: 1,
      options: [
        { name: "unknown", type: 18, data: hex("01000060") },
        { name: "unknown", type: 26, data: hex("7800") },
        { name: "unknown", type: 21, data: hex("2f") },
      ],
    }),
    ccp("ccp-termack", { kind: "TermAck", identifier: 2, data: Buffer.alloc(0) }),

    // Data frames.
    ipData("ipv4-icmp-echo", PppProtocol.IPv4, buildIcmpEcho({ src: v4("100.64.12.34"), dst: v4("192.0.2.1"), identifier: 0x1234, sequence: 1, data: ascii("abcdefghijklmnopqrstuvwabcdefghi") })),
    ipData("ipv6-icmpv6-echo", PppProtocol.IPv6, buildIcmpv6Echo({ src: v6("2001:db8:1::2"), dst: v6("2001:db8::1"), identifier: 0x4321, sequence: 1, data: ascii("lnsd ping") })),
  ];
  return samples;
}

/** The Code of every LCP sample, for coverage checks. */
export const LCP_CODES: readonly number[] = [
  PppCode.ConfReq,
  PppCode.ConfAck,
  PppCode.ConfNak,
  PppCode.ConfRej,
  PppCode.TermReq,
  PppCode.TermAck,
  PppCode.CodeRej,
  PppCode.ProtRej,
  PppCode.EchoReq,
  PppCode.EchoReply,
  PppCode.DiscardReq,
];
