// The Network Control Protocols: IPCP (RFC 1332, RFC 1877 DNS/NBNS), IPV6CP (RFC 5072) and CCP
// (RFC 1962, options kept raw so they can be rejected). Each is an option table and a Code list
// over the generic packet codec in control.ts.
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

/** RFC 1332 2, RFC 5072 2: NCPs use Codes 1 to 7 only; others get a Code-Reject. */
export type NcpCodeName = "ConfReq" | "ConfAck" | "ConfNak" | "ConfRej" | "TermReq" | "TermAck" | "CodeRej";
const NCP_CODES: readonly NcpCodeName[] = ["ConfReq", "ConfAck", "ConfNak", "ConfRej", "TermReq", "TermAck", "CodeRej"];

export const IPCP_OPTIONS = {
  // RFC 1332 3.1: deprecated, kept raw so that it can be rejected.
  ipAddresses: { type: 1, label: "IP-Addresses", kind: "bytes", minLength: 10, maxLength: 10, rfc: "RFC 1332 3.1" },
  // RFC 1332 3.2: protocol (2 octets) and its data, kept raw so that it can be rejected.
  ipCompressionProtocol: {
    type: 2,
    label: "IP-Compression-Protocol",
    kind: "bytes",
    minLength: 4,
    maxLength: 255,
    rfc: "RFC 1332 3.2",
  },
  ipAddress: { type: 3, label: "IP-Address", kind: "ipv4", minLength: 6, maxLength: 6, rfc: "RFC 1332 3.3" },
  primaryDns: { type: 129, label: "Primary-DNS-Server-Address", kind: "ipv4", minLength: 6, maxLength: 6, rfc: "RFC 1877 1.1" },
  primaryNbns: { type: 130, label: "Primary-NBNS-Server-Address", kind: "ipv4", minLength: 6, maxLength: 6, rfc: "RFC 1877 1.2" },
  secondaryDns: {
    type: 131,
    label: "Secondary-DNS-Server-Address",
    kind: "ipv4",
    minLength: 6,
    maxLength: 6,
    rfc: "RFC 1877 1.3",
  },
  secondaryNbns: {
    type: 132,
    label: "Secondary-NBNS-Server-Address",
    kind: "ipv4",
    minLength: 6,
    maxLength: 6,
    rfc: "RFC 1877 1.4",
  },
} as const satisfies OptionTable;

export type IpcpOptionTable = typeof IPCP_OPTIONS;
export type IpcpOption = ConfigOption<IpcpOptionTable>;
export type IpcpPacket = ControlPacketOf<IpcpOptionTable, NcpCodeName>;

export const IPCP = defineControlProtocol<IpcpOptionTable, NcpCodeName>({
  name: "IPCP",
  protocol: PppProtocol.IPCP,
  codes: NCP_CODES,
  options: IPCP_OPTIONS,
});

export function decodeIpcp(buf: Uint8Array): Result<IpcpPacket, WireError> {
  return decodeControlPacket(IPCP, buf);
}

export function encodeIpcp(packet: IpcpPacket, opts?: ControlEncodeOptions): Buffer {
  return encodeControlPacket(IPCP, packet, opts);
}

export const IPV6CP_OPTIONS = {
  interfaceIdentifier: {
    type: 1,
    label: "Interface-Identifier",
    kind: "bytes",
    minLength: 10,
    maxLength: 10,
    rfc: "RFC 5072 4.1",
  },
  // RFC 5072 4.2: protocol (2 octets) and its data, kept raw so that it can be rejected.
  ipv6CompressionProtocol: {
    type: 2,
    label: "IPv6-Compression-Protocol",
    kind: "bytes",
    minLength: 4,
    maxLength: 255,
    rfc: "RFC 5072 4.2",
  },
} as const satisfies OptionTable;

export type Ipv6cpOptionTable = typeof IPV6CP_OPTIONS;
export type Ipv6cpOption = ConfigOption<Ipv6cpOptionTable>;
export type Ipv6cpPacket = ControlPacketOf<Ipv6cpOptionTable, NcpCodeName>;

export const IPV6CP = defineControlProtocol<Ipv6cpOptionTable, NcpCodeName>({
  name: "IPV6CP",
  protocol: PppProtocol.IPV6CP,
  codes: NCP_CODES,
  options: IPV6CP_OPTIONS,
});

export function decodeIpv6cp(buf: Uint8Array): Result<Ipv6cpPacket, WireError> {
  return decodeControlPacket(IPV6CP, buf);
}

export function encodeIpv6cp(packet: Ipv6cpPacket, opts?: ControlEncodeOptions): Buffer {
  return encodeControlPacket(IPV6CP, packet, opts);
}

/** RFC 1962: no option is understood; every one decodes as "unknown" and is rejected verbatim. */
export const CCP_OPTIONS = {} as const satisfies OptionTable;
export type CcpOptionTable = typeof CCP_OPTIONS;
export type CcpOption = ConfigOption<CcpOptionTable>;

/** RFC 1962 2.1: Codes 1 to 7 plus Reset-Request (14) and Reset-Ack (15). */
export type CcpCodeName = NcpCodeName | "ResetReq" | "ResetAck";
export type CcpPacket = ControlPacketOf<CcpOptionTable, CcpCodeName>;

export const CCP = defineControlProtocol<CcpOptionTable, CcpCodeName>({
  name: "CCP",
  protocol: PppProtocol.CCP,
  codes: [...NCP_CODES, "ResetReq", "ResetAck"],
  options: CCP_OPTIONS,
});

export function decodeCcp(buf: Uint8Array): Result<CcpPacket, WireError> {
  return decodeControlPacket(CCP, buf);
}

export function encodeCcp(packet: CcpPacket, opts?: ControlEncodeOptions): Buffer {
  return encodeControlPacket(CCP, packet, opts);
}
