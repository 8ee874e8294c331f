// LCP (RFC 1661 5, 6): the option table and the Codes LCP allows; the packet codec itself is the
// generic one in control.ts. Options from RFC 1661 6, RFC 1662 7.1 (ACCM), RFC 1990 5.1 (MP).
import type { WireError } from "../errors.js";
import type { Result } from "../result.js";
import {
  type ControlEncodeOptions,
  type ControlPacketOf,
  decodeControlPacket,
  defineControlProtocol,
  encodeControlPacket,
} from "./control.js";
import type { ConfigOption, OptionTable } from "./options.js";
import { PppProtocol } from "./protocols.js";

export const LCP_OPTIONS = {
  mru: { type: 1, label: "Maximum-Receive-Unit", kind: "u16", minLength: 4, maxLength: 4, rfc: "RFC 1661 6.1" },
  accm: { type: 2, label: "Async-Control-Character-Map", kind: "u32", minLength: 6, maxLength: 6, rfc: "RFC 1662 7.1" },
  authProtocol: {
    type: 3,
    label: "Authentication-Protocol",
    kind: "auth-protocol",
    minLength: 4,
    maxLength: 255,
    rfc: "RFC 1661 6.2",
  },
  qualityProtocol: {
    type: 4,
    label: "Quality-Protocol",
    kind: "quality-protocol",
    minLength: 4,
    maxLength: 255,
    rfc: "RFC 1661 6.3",
  },
  magicNumber: { type: 5, label: "Magic-Number", kind: "u32", minLength: 6, maxLength: 6, rfc: "RFC 1661 6.4" },
  pfc: { type: 7, label: "Protocol-Field-Compression", kind: "empty", minLength: 2, maxLength: 2, rfc: "RFC 1661 6.5" },
  acfc: {
    type: 8,
    label: "Address-and-Control-Field-Compression",
    kind: "empty",
    minLength: 2,
    maxLength: 2,
    rfc: "RFC 1661 6.6",
  },
  mrru: { type: 17, label: "Multilink-MRRU", kind: "u16", minLength: 4, maxLength: 4, rfc: "RFC 1990 5.1.1" },
  // RFC 1990 5.1.3: Length is 3 + the address, which is at most 20 octets (class 1 and 4).
  endpointDiscriminator: {
    type: 19,
    label: "Endpoint-Discriminator",
    kind: "endpoint-discriminator",
    minLength: 3,
    maxLength: 23,
    rfc: "RFC 1990 5.1.3",
  },
} as const satisfies OptionTable;

export type LcpOptionTable = typeof LCP_OPTIONS;
export type LcpOption = ConfigOption<LcpOptionTable>;

/** RFC 1661 5: LCP uses Codes 1 to 11. */
export type LcpCodeName =
  | "ConfReq"
  | "ConfAck"
  | "ConfNak"
  | "ConfRej"
  | "TermReq"
  | "TermAck"
  | "CodeRej"
  | "ProtRej"
  | "EchoReq"
  | "EchoReply"
  | "DiscardReq";

export type LcpPacket = ControlPacketOf<LcpOptionTable, LcpCodeName>;

export const LCP = defineControlProtocol<LcpOptionTable, LcpCodeName>({
  name: "LCP",
  protocol: PppProtocol.LCP,
  codes: ["ConfReq", "ConfAck", "ConfNak", "ConfRej", "TermReq", "TermAck", "CodeRej", "ProtRej", "EchoReq", "EchoReply", "DiscardReq"],
  options: LCP_OPTIONS,
});

/** Decodes an LCP packet (the Information field of a 0xC021 frame). */
export function decodeLcp(buf: Uint8Array): Result<LcpPacket, WireError> {
  return decodeControlPacket(LCP, buf);
}

export function encodeLcp(packet: LcpPacket, opts?: ControlEncodeOptions): Buffer {
  return encodeControlPacket(LCP, packet, opts);
}
