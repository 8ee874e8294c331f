// The packet format shared by LCP and the NCPs (RFC 1661 5; RFC 1332 2, RFC 5072 2, RFC 1962 2):
// Code, Identifier, Length, then a body whose shape depends on the Code. One generic codec,
// parametrised by a protocol spec (which Codes it allows, which option table it uses).
import { type WireError, DROP, wireError } from "../errors.js";
import { type Result, err, ok } from "../result.js";
import {
  type ConfigOption,
  type OptionCodec,
  type OptionTable,
  decodeOptions,
  encodeOptions,
  makeOptionCodec,
} from "./options.js";

/** RFC 1661 5 Code values; 14 and 15 are CCP's (RFC 1962 2.1). */
export const PppCode = {
  ConfReq: 1,
  ConfAck: 2,
  ConfNak: 3,
  ConfRej: 4,
  TermReq: 5,
  TermAck: 6,
  CodeRej: 7,
  ProtRej: 8,
  EchoReq: 9,
  EchoReply: 10,
  DiscardReq: 11,
  ResetReq: 14,
  ResetAck: 15,
} as const;
export type PppCodeName = keyof typeof PppCode;

/** RFC 1661 5.1-5.4. */
export interface ConfigurePacket<T extends OptionTable> {
  readonly kind: "ConfReq" | "ConfAck" | "ConfNak" | "ConfRej";
  readonly identifier: number;
  readonly options: readonly ConfigOption<T>[];
}

/** RFC 1661 5.5. */
export interface TerminatePacket {
  readonly kind: "TermReq" | "TermAck";
  readonly identifier: number;
  readonly data: Uint8Array;
}

/** RFC 1661 5.6: Rejected-Packet starts at the rejected packet's Information field. */
export interface CodeRejPacket {
  readonly kind: "CodeRej";
  readonly identifier: number;
  readonly rejected: Uint8Array;
}

/** RFC 1661 5.7 (LCP only). */
export interface ProtRejPacket {
  readonly kind: "ProtRej";
  readonly identifier: number;
  readonly protocol: number;
  readonly rejected: Uint8Array;
}

/** RFC 1661 5.8, 5.9 (LCP only): Magic-Number then Data. */
export interface EchoPacket {
  readonly kind: "EchoReq" | "EchoReply" | "DiscardReq";
  readonly identifier: number;
  readonly magic: number;
  readonly data: Uint8Array;
}

/** RFC 1962 2.1 (CCP only): Reset-Request and Reset-Ack carry opaque Data. */
export interface ResetPacket {
  readonly kind: "ResetReq" | "ResetAck";
  readonly identifier: number;
  readonly data: Uint8Array;
}

export type ControlPacket<T extends OptionTable> =
  | ConfigurePacket<T>
  | TerminatePacket
  | CodeRejPacket
  | ProtRejPacket
  | EchoPacket
  | ResetPacket;

/** The packets of a protocol that allows the Codes K. */
export type ControlPacketOf<T extends OptionTable, K extends PppCodeName> = Extract<ControlPacket<T>, { readonly kind: K }>;

/** RFC 1661 5: Code, Identifier and Length. */
export const PPP_CONTROL_HEADER_LENGTH = 4;

export interface ControlProtocolDef<T extends OptionTable, K extends PppCodeName> {
  /** "LCP", "IPCP"...: for log lines. */
  readonly name: string;
  readonly protocol: number;
  readonly codes: readonly K[];
  readonly options: T;
}

export interface ControlProtocolSpec<T extends OptionTable, K extends PppCodeName> extends ControlProtocolDef<T, K> {
  readonly optionCodec: OptionCodec<T>;
  readonly kindByCode: ReadonlyMap<number, K>;
}

export function defineControlProtocol<T extends OptionTable, K extends PppCodeName>(
  def: ControlProtocolDef<T, K>,
): ControlProtocolSpec<T, K> {
  return {
    ...def,
    optionCodec: makeOptionCodec(def.options),
    kindByCode: new Map(def.codes.map((k) => [PppCode[k], k])),
  };
}

export interface PacketHeader {
  readonly code: number;
  readonly identifier: number;
  /** The Length field; the packet is buf[0, length). */
  readonly length: number;
}

/**
 * RFC 1661 5 (and RFC 1334 2.2, RFC 1994 4 which share it): Code, Identifier, Length. Octets past
 * Length are padding and ignored; a Length below the header or past the received octets is
 * invalid and the packet is silently discarded.
 */
export function decodePacketHeader(buf: Uint8Array, protocolName: string): Result<PacketHeader, WireError> {
  if (buf.length < PPP_CONTROL_HEADER_LENGTH) {
    return err(wireError("truncated", `${protocolName} packet shorter than its 4-octet header`, DROP, buf.length));
  }
  const length = ((buf[2] ?? 0) << 8) | (buf[3] ?? 0);
  if (length < PPP_CONTROL_HEADER_LENGTH) {
    return err(wireError("bad-length", `${protocolName} Length ${length} below the 4-octet header`, DROP, length));
  }
  if (length > buf.length) {
    return err(wireError("bad-length", `${protocolName} Length ${length} exceeds the ${buf.length} octets received`, DROP, length));
  }
  return ok({ code: buf[0] ?? 0, identifier: buf[1] ?? 0, length });
}

function u32At(b: Uint8Array, at: number): number {
  return ((b[at] ?? 0) * 0x1000000 + (((b[at + 1] ?? 0) << 16) | ((b[at + 2] ?? 0) << 8) | (b[at + 3] ?? 0)));
}

/** Decodes one packet of the protocol `spec`. Values are views of buf, not copies. */
export function decodeControlPacket<T extends OptionTable, K extends PppCodeName>(
  spec: ControlProtocolSpec<T, K>,
  buf: Uint8Array,
): Result<ControlPacketOf<T, K>, WireError> {
  const header = decodePacketHeader(buf, spec.name);
  if (!header.ok) return header;
  const { code, identifier, length } = header.value;
  const allowed = spec.kindByCode.get(code);
  if (allowed === undefined) {
    // RFC 1661 5.6, RFC 1332 2, RFC 5072 2: an unknown Code is answered with a Code-Reject.
    return err(wireError("unknown-code", `${spec.name} Code ${code} unknown`, { kind: "code-reject" }, code));
  }
  const kind: PppCodeName = allowed;
  const body = buf.subarray(PPP_CONTROL_HEADER_LENGTH, length);
  let packet: ControlPacket<T>;
  switch (kind) {
    case "ConfReq":
    case "ConfAck":
    case "ConfNak":
    case "ConfRej": {
      const options = decodeOptions(spec.optionCodec, buf, PPP_CONTROL_HEADER_LENGTH, length);
      if (!options.ok) return options;
      packet = { kind, identifier, options: options.value };
      break;
    }
    case "TermReq":
    case "TermAck":
      packet = { kind, identifier, data: body };
      break;
    case "ResetReq":
    case "ResetAck":
      packet = { kind, identifier, data: body };
      break;
    case "CodeRej":
      packet = { kind, identifier, rejected: body };
      break;
    case "ProtRej":
      if (body.length < 2) {
        return err(wireError("bad-length", `${spec.name} Protocol-Reject without a Rejected-Protocol (RFC 1661 5.7)`, DROP, length));
      }
      packet = { kind, identifier, protocol: ((body[0] ?? 0) << 8) | (body[1] ?? 0), rejected: body.subarray(2) };
      break;
    case "EchoReq":
    case "EchoReply":
    case "DiscardReq":
      if (body.length < 4) {
        return err(wireError("bad-length", `${spec.name} ${kind} without a Magic-Number (RFC 1661 5.8)`, DROP, length));
      }
      packet = { kind, identifier, magic: u32At(body, 0), data: body.subarray(4) };
      break;
  }
  // kindByCode holds only the Codes K, so the packet built above is one of ControlPacketOf<T, K>.
  return ok(packet as ControlPacketOf<T, K>);
}

export interface ControlEncodeOptions {
  /**
   * RFC 1661 5.6, 5.7: the Rejected-Packet / Rejected-Information MUST be truncated to the peer's
   * MRU. When set, Code-Reject and Protocol-Reject are cut so the whole packet fits in this.
   */
  readonly mru?: number;
}

/** Encodes one packet (Code, Identifier, Length, body), without the PPP header. */
export function encodeControlPacket<T extends OptionTable, K extends PppCodeName>(
  spec: ControlProtocolSpec<T, K>,
  packet: ControlPacketOf<T, K>,
  opts: ControlEncodeOptions = {},
): Buffer {
  const p: ControlPacket<T> = packet;
  let body: Uint8Array;
  switch (p.kind) {
    case "ConfReq":
    case "ConfAck":
    case "ConfNak":
    case "ConfRej":
      body = encodeOptions(spec.optionCodec, p.options);
      break;
    case "TermReq":
    case "TermAck":
    case "ResetReq":
    case "ResetAck":
      body = p.data;
      break;
    case "CodeRej":
      body = truncate(p.rejected, opts.mru, PPP_CONTROL_HEADER_LENGTH);
      break;
    case "ProtRej": {
      const rejected = truncate(p.rejected, opts.mru, PPP_CONTROL_HEADER_LENGTH + 2);
      const b = Buffer.allocUnsafe(2 + rejected.length);
      b.writeUInt16BE(p.protocol, 0);
      b.set(rejected, 2);
      body = b;
      break;
    }
    case "EchoReq":
    case "EchoReply":
    case "DiscardReq": {
      const b = Buffer.allocUnsafe(4 + p.data.length);
      b.writeUInt32BE(p.magic < 0 ? p.magic >>> 0 : p.magic, 0);
      b.set(p.data, 4);
      body = b;
      break;
    }
  }
  const length = PPP_CONTROL_HEADER_LENGTH + body.length;
  if (length > 0xffff) throw new RangeError(`${spec.name} packet of ${length} octets exceeds the Length field`);
  const out = Buffer.allocUnsafe(length);
  out[0] = PppCode[p.kind];
  out[1] = p.identifier;
  out.writeUInt16BE(length, 2);
  out.set(body, PPP_CONTROL_HEADER_LENGTH);
  return out;
}

function truncate(rejected: Uint8Array, mru: number | undefined, overhead: number): Uint8Array {
  if (mru === undefined) return rejected;
  const room = Math.max(0, mru - overhead);
  return rejected.length > room ? rejected.subarray(0, room) : rejected;
}
