// L2TPv2 control messages (RFC 2661 3.2, 4.1, 4.3, 6): parse the AVP list into typed values,
// validate it against the tables of avp-table.ts, and encode messages (hidden AVPs included).
// Each error names what to send back: StopCCN for a tunnel message, CDN for a session message.
import { DROP, wireError, type WireAction, type WireError, type WireErrorCode } from "../errors.js";
import { err, ok, type Result } from "../result.js";
import {
  AVP_MAX_VALUE_LENGTH,
  AVP_TABLE,
  AVP_TYPES_ASCENDING,
  L2TP_MESSAGE_TABLE,
  avpName,
  isAvpAllowed,
  isKnownAvpType,
  type AvpValueMap,
  type AvpValues,
  type L2tpScope,
  type L2tpMessageSpec,
} from "./avp-table.js";
import { decodeAvpValue, encodeAvpValue } from "./avp-values.js";
import { AvpType, L2tpErrorCode, L2tpMessageType, StopCcnResultCode, isL2tpMessageType, l2tpMessageTypeName } from "./constants.js";
import { L2TP_CONTROL_FLAGS, L2TP_CONTROL_HEADER_LENGTH, decodeL2tpHeader } from "./header.js";
import { hideAvpValue, revealAvpValue, type L2tpSecret } from "./hidden.js";

const M_BIT = 0x8000;
const H_BIT = 0x4000;
const RESERVED_BITS = 0x3c00;
const LENGTH_MASK = 0x03ff;
const AVP_HEADER_LENGTH = 6;

/** Header fields every control message carries. */
export interface L2tpControlFields {
  readonly tunnelId: number;
  readonly sessionId: number;
  readonly ns: number;
  readonly nr: number;
}

/** RFC 2661 5.8: a Zero-Length Body message, an acknowledgement only. */
export interface L2tpZlb extends L2tpControlFields {
  readonly messageType: "ZLB";
}

/** An AVP the dictionary does not know (or with reserved bits set, RFC 2661 4.1), kept for logging. */
export interface L2tpUnknownAvp {
  readonly vendorId: number;
  readonly attributeType: number;
  readonly mandatory: boolean;
  readonly hidden: boolean;
  /** The value octets as received (still hidden when `hidden`). */
  readonly value: Uint8Array;
}

/** A known AVP as it appeared on the wire: its flags, in order. */
export interface L2tpReceivedAvp {
  readonly type: AvpType;
  readonly mandatory: boolean;
  readonly hidden: boolean;
}

/** What encodeControlMessage takes. */
export interface L2tpAvpMessageInit extends L2tpControlFields {
  readonly messageType: L2tpMessageType;
  /** Known AVP values; the Message Type is taken from `messageType`. */
  readonly avps: AvpValues;
  /** Opaque AVPs (vendor AVPs...) appended as they are. */
  readonly unknown?: readonly L2tpUnknownAvp[];
}

/** A known AVP with the M bit clear whose value was unusable (a wrong length): left out of `avps`. */
export interface L2tpIgnoredAvp {
  readonly type: AvpType;
  readonly reason: string;
}

/**
 * A decoded control message. `avps` holds the first occurrence of each known AVP, plus the table's
 * defaults for the AVPs listed in `missing` (required, absent, and ones lnsd can do without).
 */
export interface L2tpAvpMessage extends L2tpAvpMessageInit {
  readonly unknown: readonly L2tpUnknownAvp[];
  readonly received: readonly L2tpReceivedAvp[];
  readonly ignored: readonly L2tpIgnoredAvp[];
  readonly missing: readonly AvpType[];
}

export type L2tpControlMessage = L2tpAvpMessage | L2tpZlb;
export type L2tpControlMessageInit = L2tpAvpMessageInit | L2tpZlb;

export interface L2tpDecodeOptions {
  /** The tunnel's shared secret (RFC 2661 4.3); without it a hidden AVP is a `hidden-no-secret` error. */
  readonly secret?: L2tpSecret;
  /**
   * A known AVP with M set in a message RFC 2661 section 6 does not list it for: "error" (default)
   * treats it like an unknown mandatory AVP, "ignore" keeps it.
   */
  readonly unexpectedMandatory?: "error" | "ignore";
}

/** Typed access to one AVP value: getAvp(msg, AvpType.HostName) is a string or undefined. */
export function getAvp<K extends AvpType>(msg: L2tpControlMessage | L2tpControlMessageInit, type: K): AvpValueMap[K] | undefined {
  return msg.messageType === "ZLB" ? undefined : msg.avps[type];
}

/**
 * RFC 2661 4.1: an error in a session message tears the session down, else the tunnel. Result
 * Code 2 is "general error, see Error Code" in both StopCCN and CDN (RFC 2661 4.4.2).
 */
function teardown(scope: L2tpScope, errorCode: L2tpErrorCode | undefined, resultCode: number = StopCcnResultCode.GeneralError): WireAction {
  const kind = scope === "tunnel" ? "stopccn" : "cdn";
  return errorCode === undefined ? { kind, resultCode } : { kind, resultCode, errorCode };
}

function fail(code: WireErrorCode, reason: string, action: WireAction, value?: number): { ok: false; error: WireError } {
  return err(wireError(code, reason, action, value));
}

function u16(b: Uint8Array, at: number): number {
  return ((b[at] ?? 0) << 8) | (b[at + 1] ?? 0);
}

interface RawAvp {
  readonly flags: number;
  readonly vendorId: number;
  readonly attributeType: number;
  readonly value: Uint8Array;
  readonly next: number;
}

/** RFC 2661 4.1: an AVP header must fit, and its Length (at least 6) must stay inside the message. */
function readAvp(buf: Uint8Array, pos: number, end: number, scope: L2tpScope): Result<RawAvp, WireError> {
  // RFC 2661 4.4.2 general error 2: "Length is wrong".
  const action = teardown(scope, L2tpErrorCode.LengthWrong);
  if (end - pos < AVP_HEADER_LENGTH) return fail("bad-length", `${end - pos} trailing octets, too short for an AVP header`, action, end - pos);
  const word = u16(buf, pos);
  const length = word & LENGTH_MASK;
  if (length < AVP_HEADER_LENGTH) return fail("bad-length", `AVP Length ${length} below the 6-octet AVP header`, action, length);
  if (pos + length > end) return fail("bad-length", `AVP Length ${length} runs past the end of the message`, action, length);
  return ok({
    flags: word & ~LENGTH_MASK,
    vendorId: u16(buf, pos + 2),
    attributeType: u16(buf, pos + 4),
    value: buf.subarray(pos + AVP_HEADER_LENGTH, pos + length),
    next: pos + length,
  });
}

/** Decodes one known AVP and stores it in `avps` unless one of its type came earlier. */
function storeAvp<K extends AvpType>(avps: AvpValues, type: K, value: Uint8Array, scope: L2tpScope): Result<AvpValueMap[K], WireError> {
  const r = decodeAvpValue(type, value);
  if (!r.ok) {
    // RFC 2661 4.4.2 general errors 2 (length is wrong) and 3 (field value out of range).
    const errorCode = r.error.code === "bad-length" ? L2tpErrorCode.LengthWrong : L2tpErrorCode.FieldOutOfRange;
    return fail(r.error.code, r.error.reason, teardown(scope, errorCode), r.error.value);
  }
  if (avps[type] === undefined) avps[type] = r.value;
  return r;
}

/**
 * Parses a control message into typed AVPs without the RFC 2661 section 6 policy checks (see
 * validateControlMessage). The control plane uses this to read the Assigned Session ID of an ICRQ
 * it must answer with a CDN after decodeControlMessage failed.
 */
export function parseControlMessage(buf: Uint8Array, opts: L2tpDecodeOptions = {}): Result<L2tpControlMessage, WireError> {
  const h = decodeL2tpHeader(buf);
  if (!h.ok) return h;
  const header = h.value;
  if (header.kind !== "control") return fail("bad-header", "data message given to the control message decoder", DROP);
  const fields: L2tpControlFields = { tunnelId: header.tunnelId, sessionId: header.sessionId, ns: header.ns, nr: header.nr };
  const end = header.payloadOffset + header.payloadLength;
  // RFC 2661 5.8: a control message with no AVPs is a ZLB acknowledgement.
  if (header.payloadLength === 0) return ok({ messageType: "ZLB", ...fields });

  // Until the Message Type is known, which of tunnel and session an error ends goes by the header.
  let scope: L2tpScope = header.sessionId === 0 ? "tunnel" : "session";
  const first = readAvp(buf, header.payloadOffset, end, scope);
  if (!first.ok) return first;
  const mt = first.value;
  // RFC 2661 4.1 / 4.4.1: the Message Type AVP MUST be first; it MUST NOT be hidden; its Length is 8.
  if (mt.vendorId !== 0 || mt.attributeType !== AvpType.MessageType || (mt.flags & RESERVED_BITS) !== 0) {
    return fail("missing-avp", `first AVP is ${mt.vendorId === 0 ? avpName(mt.attributeType) : `vendor ${mt.vendorId} AVP ${mt.attributeType}`}, not Message Type`, teardown(scope, L2tpErrorCode.FieldOutOfRange), mt.attributeType);
  }
  if ((mt.flags & H_BIT) !== 0) return fail("bad-value", "Message Type AVP is hidden", teardown(scope, L2tpErrorCode.FieldOutOfRange));
  if (mt.value.length !== 2) return fail("bad-length", `Message Type AVP value of ${mt.value.length} octets`, teardown(scope, L2tpErrorCode.LengthWrong), mt.value.length);
  const messageType = u16(mt.value, 0);
  if (!isL2tpMessageType(messageType)) {
    // RFC 2661 4.4.1: an unknown Message Type with M set clears the tunnel; without M it may be ignored.
    return (mt.flags & M_BIT) !== 0
      ? fail("unknown-message-type", `unknown Message Type ${messageType} with M set`, teardown("tunnel", L2tpErrorCode.FieldOutOfRange), messageType)
      : fail("unknown-message-type", `unknown Message Type ${messageType} without M, ignored`, DROP, messageType);
  }
  const spec: L2tpMessageSpec = L2TP_MESSAGE_TABLE[messageType];
  scope = spec.scope;

  const avps: AvpValues = { [AvpType.MessageType]: messageType };
  const received: L2tpReceivedAvp[] = [{ type: AvpType.MessageType, mandatory: (mt.flags & M_BIT) !== 0, hidden: false }];
  const unknown: L2tpUnknownAvp[] = [];
  const ignored: L2tpIgnoredAvp[] = [];
  // RFC 2661 4.3: a hidden AVP uses the Random Vector AVP most closely preceding it.
  let randomVector: Uint8Array | undefined;
  let pos = mt.next;
  while (pos < end) {
    const r = readAvp(buf, pos, end, scope);
    if (!r.ok) return r;
    const avp = r.value;
    pos = avp.next;
    const mandatory = (avp.flags & M_BIT) !== 0;
    const hidden = (avp.flags & H_BIT) !== 0;
    const type = avp.attributeType;
    // RFC 2661 4.1: reserved bits set make an AVP unrecognized; so does any vendor but 0.
    if (avp.vendorId !== 0 || (avp.flags & RESERVED_BITS) !== 0 || !isKnownAvpType(type)) {
      unknown.push({ vendorId: avp.vendorId, attributeType: type, mandatory, hidden, value: Buffer.from(avp.value) });
      continue;
    }
    let value = avp.value;
    if (hidden) {
      if (type === AvpType.RandomVector || type === AvpType.MessageType) {
        return fail("bad-value", `${avpName(type)} AVP is hidden (RFC 2661 4.4.1: MUST NOT be)`, teardown(scope, L2tpErrorCode.FieldOutOfRange), type);
      }
      // Other AVPs the table says MUST NOT be hidden are revealed anyway: being liberal here costs
      // nothing, and a peer that hides them still means the same value.
      if (opts.secret === undefined) {
        // RFC 2661 4.4.2: StopCCN result 4 refuses an SCCRQ from a peer we share no secret with;
        // later, a value we cannot read is general error 3.
        const action = messageType === L2tpMessageType.SCCRQ ? teardown("tunnel", undefined, StopCcnResultCode.NotAuthorized) : teardown(scope, L2tpErrorCode.FieldOutOfRange);
        return fail("hidden-no-secret", `hidden ${avpName(type)} AVP and no shared secret`, action, type);
      }
      if (randomVector === undefined) {
        return fail("missing-avp", `hidden ${avpName(type)} AVP with no Random Vector before it (RFC 2661 4.3)`, teardown(scope, L2tpErrorCode.FieldOutOfRange), AvpType.RandomVector);
      }
      const revealed = revealAvpValue(type, value, opts.secret, randomVector);
      if (!revealed.ok) {
        if (!mandatory) {
          ignored.push({ type, reason: revealed.error.reason });
          continue;
        }
        return fail("bad-length", revealed.error.reason, teardown(scope, L2tpErrorCode.LengthWrong), revealed.error.value);
      }
      value = revealed.value;
    }
    const stored = storeAvp(avps, type, value, scope);
    if (!stored.ok) {
      // RFC 2661 4.1 lets a receiver ignore what it cannot use in an AVP without M (l2tpns does):
      // a wrong length there is left out, and the control plane logs it.
      if (!mandatory && stored.error.code === "bad-length") {
        ignored.push({ type, reason: stored.error.reason });
        continue;
      }
      return stored;
    }
    if (type === AvpType.RandomVector) randomVector = value;
    received.push({ type, mandatory, hidden });
  }
  return ok({ messageType, ...fields, avps, unknown, received, ignored, missing: [] });
}

/**
 * Checks a parsed message against the tables: unknown AVPs with M set (RFC 2661 4.1), known AVPs
 * with M set that RFC 2661 section 6 does not list for the message, required AVPs missing.
 *
 * RFC 2661 4.4.2 has no error code for a missing AVP. We send Result Code 2 (general error) with
 * error code 3 ("one of the field values was out of range"): the message's contents are invalid,
 * and error code 2 is about lengths, 4 would tell the peer to retry, 6 is vendor-specific. The
 * Error Message (from `reason`) names the missing AVP. RFC 2661 7.1 says malformed control
 * messages clear the control connection; we keep RFC 2661 4.1's split and end only the session
 * when the message is a session message (ICRQ...ICCN, CDN, WEN, SLI).
 */
export function validateControlMessage(msg: L2tpControlMessage, opts: L2tpDecodeOptions = {}): Result<L2tpControlMessage, WireError> {
  if (msg.messageType === "ZLB") return ok(msg);
  const spec: L2tpMessageSpec = L2TP_MESSAGE_TABLE[msg.messageType];
  for (const u of msg.unknown) {
    if (!u.mandatory) continue;
    // RFC 2661 4.1: StopCCN / CDN with Result Code 2 and error code 8 (unknown AVP with M set).
    const what = u.vendorId === 0 ? `AVP ${u.attributeType}` : `vendor ${u.vendorId} AVP ${u.attributeType}`;
    return fail("unknown-mandatory-avp", `unknown mandatory ${what} in ${spec.name}`, teardown(spec.scope, L2tpErrorCode.UnknownMandatoryAvp), u.attributeType);
  }
  if (opts.unexpectedMandatory !== "ignore") {
    for (const r of msg.received) {
      if (!r.mandatory || isAvpAllowed(msg.messageType, r.type)) continue;
      return fail("unexpected-avp", `mandatory ${avpName(r.type)} AVP is not defined for ${spec.name} (${spec.rfc})`, teardown(spec.scope, L2tpErrorCode.UnknownMandatoryAvp), r.type);
    }
  }
  const missing: AvpType[] = [];
  for (const type of spec.required) {
    if (msg.avps[type] !== undefined) continue;
    if (spec.mayBeMissing?.includes(type) === true) {
      missing.push(type);
      continue;
    }
    return fail("missing-avp", `${spec.name} without the ${avpName(type)} AVP (${spec.rfc})`, teardown(spec.scope, L2tpErrorCode.FieldOutOfRange), type);
  }
  if (missing.length === 0) return ok(msg);
  // Defaults are only for AVPs that may be missing: whatever the message carries comes first.
  return ok({ ...msg, avps: { ...spec.defaults, ...msg.avps }, missing });
}

/** Parse then validate: the decoder the control plane calls on every received control message. */
export function decodeControlMessage(buf: Uint8Array, opts: L2tpDecodeOptions = {}): Result<L2tpControlMessage, WireError> {
  const r = parseControlMessage(buf, opts);
  return r.ok ? validateControlMessage(r.value, opts) : r;
}

export interface L2tpHideOptions {
  readonly secret: L2tpSecret;
  /** RFC 2661 4.3: sent as a Random Vector AVP right after the Message Type. */
  readonly randomVector: Uint8Array;
  /** Which AVPs to hide; each must be one the table lets be hidden. */
  readonly types: Iterable<AvpType>;
  /** RFC 2661 4.3: octets appended to a value before hiding, to hide its length. */
  readonly padding?: { readonly [K in AvpType]?: Uint8Array };
}

export interface L2tpEncodeOptions {
  readonly hide?: L2tpHideOptions;
}

/** One AVP on the wire: the 6-octet header then the value (RFC 2661 4.1). */
export function encodeRawAvp(avp: L2tpUnknownAvp): Buffer {
  if (avp.value.length > AVP_MAX_VALUE_LENGTH) throw new RangeError(`AVP ${avp.attributeType} value of ${avp.value.length} octets does not fit the 10-bit Length`);
  const out = Buffer.alloc(AVP_HEADER_LENGTH + avp.value.length);
  out.writeUInt16BE((avp.mandatory ? M_BIT : 0) | (avp.hidden ? H_BIT : 0) | out.length, 0);
  out.writeUInt16BE(avp.vendorId, 2);
  out.writeUInt16BE(avp.attributeType, 4);
  out.set(avp.value, AVP_HEADER_LENGTH);
  return out;
}

function encodeKnownAvp<K extends AvpType>(type: K, value: AvpValueMap[K], hide: L2tpHideOptions | undefined, hideSet: ReadonlySet<AvpType>): Buffer {
  const spec = AVP_TABLE[type];
  let octets: Uint8Array = encodeAvpValue(type, value);
  const hidden = hide !== undefined && hideSet.has(type);
  if (hidden) {
    if (!spec.mayHide) throw new RangeError(`${spec.name} AVP MUST NOT be hidden (${spec.rfc})`);
    octets = hideAvpValue(type, octets, hide.secret, hide.randomVector, hide.padding?.[type]);
  }
  // RFC 2661 4.4: each AVP's M bit is fixed by its definition.
  return encodeRawAvp({ vendorId: 0, attributeType: type, mandatory: spec.mBit === "set", hidden, value: octets });
}

/**
 * Encodes a control message: header (T=1 L=1 S=1 Ver=2, RFC 2661 3.1), Message Type first
 * (RFC 2661 4.1), Random Vector next, other known AVPs in ascending type order, then `unknown`.
 * Throws RangeError on values the tables do not allow (caller bugs), never returns a message the
 * decoder would reject for framing.
 */
export function encodeControlMessage(msg: L2tpControlMessageInit, opts: L2tpEncodeOptions = {}): Buffer {
  const parts: Buffer[] = [Buffer.alloc(L2TP_CONTROL_HEADER_LENGTH)];
  if (msg.messageType !== "ZLB") {
    const { avps, messageType } = msg;
    const given = avps[AvpType.MessageType];
    if (given !== undefined && given !== messageType) throw new RangeError(`avps carry Message Type ${given} but messageType is ${l2tpMessageTypeName(messageType)}`);
    const hide = opts.hide;
    const hideSet: ReadonlySet<AvpType> = new Set(hide?.types ?? []);
    if (hideSet.has(AvpType.RandomVector) || hideSet.has(AvpType.MessageType)) throw new RangeError("Message Type and Random Vector MUST NOT be hidden (RFC 2661 4.4.1)");
    parts.push(encodeKnownAvp(AvpType.MessageType, messageType, undefined, hideSet));
    const rv = avps[AvpType.RandomVector];
    if (hide !== undefined && rv !== undefined && Buffer.compare(Buffer.from(rv), Buffer.from(hide.randomVector)) !== 0) {
      throw new RangeError("avps carry a Random Vector other than hide.randomVector");
    }
    const randomVector = hide?.randomVector ?? rv;
    if (randomVector !== undefined) parts.push(encodeKnownAvp(AvpType.RandomVector, randomVector, undefined, hideSet));
    for (const type of AVP_TYPES_ASCENDING) {
      if (type === AvpType.MessageType || type === AvpType.RandomVector) continue;
      const value = avps[type];
      if (value !== undefined) parts.push(encodeKnownAvp(type, value, hide, hideSet));
    }
    for (const u of msg.unknown ?? []) parts.push(encodeRawAvp(u));
  }
  const out = Buffer.concat(parts);
  if (out.length > 0xffff) throw new RangeError(`control message of ${out.length} octets does not fit the Length field`);
  out.writeUInt16BE(L2TP_CONTROL_FLAGS, 0);
  out.writeUInt16BE(out.length, 2);
  out.writeUInt16BE(msg.tunnelId, 4);
  out.writeUInt16BE(msg.sessionId, 6);
  out.writeUInt16BE(msg.ns, 8);
  out.writeUInt16BE(msg.nr, 10);
  return out;
}

/**
 * The value of the first unhidden vendor-0 AVP of this type in a control message, read without
 * validating the rest: lets the control plane address a StopCCN (RFC 2661 4.2) to a peer whose
 * SCCRQ failed validation. Total; undefined when absent or the framing is broken before it.
 */
export function peekControlAvp(buf: Uint8Array, attributeType: number): Uint8Array | undefined {
  const h = decodeL2tpHeader(buf);
  if (!h.ok || h.value.kind !== "control") return undefined;
  const end = h.value.payloadOffset + h.value.payloadLength;
  let at = h.value.payloadOffset;
  while (at + AVP_HEADER_LENGTH <= end) {
    const flags = u16(buf, at);
    const length = flags & LENGTH_MASK;
    if (length < AVP_HEADER_LENGTH || at + length > end) return undefined;
    if (u16(buf, at + 2) === 0 && u16(buf, at + 4) === attributeType && (flags & H_BIT) === 0) return buf.subarray(at + AVP_HEADER_LENGTH, at + length);
    at += length;
  }
  return undefined;
}
