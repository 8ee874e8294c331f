// L2TPv2 header (RFC 2661 3.1): total decode of control and data headers, and the data-header
// encoders the data workers use to prepend headers in place. Runs on the data path: no copies, no
// allocation beyond the returned header object.
import { DROP, wireError, type WireError } from "../errors.js";
import { err, ok, type Result } from "../result.js";

/**
 * RFC 2661 3.1: the bits of the header's first word. T: control message; L: Length present;
 * S: Ns and Nr present; O: Offset Size present; P: priority (data only). The data workers frame
 * in place with these, so the layout is written down once, here.
 */
export const L2tpFlag = { T: 0x8000, L: 0x4000, S: 0x0800, O: 0x0200, P: 0x0100 } as const;
/** The Ver field: the low four bits of the first word. */
export const L2TP_VERSION_MASK = 0x000f;
/** RFC 2661 3.1: Ver MUST be 2 (1 is L2F, 3 is L2TPv3). */
export const L2TP_VERSION = 2;
/** A data header with neither L, S nor O: flags, Tunnel ID, Session ID. */
export const L2TP_DATA_HEADER_MIN_LENGTH = 6;
/** Ns and Nr, present when S is set (RFC 2661 3.1). */
export const L2TP_SEQUENCE_LENGTH = 4;

const T_BIT = L2tpFlag.T;
const L_BIT = L2tpFlag.L;
const S_BIT = L2tpFlag.S;
const O_BIT = L2tpFlag.O;
const P_BIT = L2tpFlag.P;
const VER_MASK = L2TP_VERSION_MASK;
/** A control header: flags, Length, Tunnel ID, Session ID, Ns, Nr. */
export const L2TP_CONTROL_HEADER_LENGTH = 12;
/** First word of every control message: T=1, L=1, S=1, O=0, P=0, Ver=2 (RFC 2661 3.1). */
export const L2TP_CONTROL_FLAGS = T_BIT | L_BIT | S_BIT | L2TP_VERSION;

export interface L2tpControlHeader {
  readonly kind: "control";
  readonly tunnelId: number;
  readonly sessionId: number;
  readonly ns: number;
  readonly nr: number;
  /** The Length field: the whole message, header included. Bytes past it are ignored. */
  readonly length: number;
  /** Where the AVPs start (always 12: O is 0 on control messages). */
  readonly payloadOffset: number;
  readonly payloadLength: number;
}

export interface L2tpDataHeader {
  readonly kind: "data";
  readonly tunnelId: number;
  readonly sessionId: number;
  /** L bit: a Length field is present. */
  readonly withLength: boolean;
  /** S bit: Ns is present. Nr is reserved in data messages and ignored (RFC 2661 3.1). */
  readonly ns?: number;
  /** O bit: the Offset Size field value (number of padding bytes after it). */
  readonly offsetSize?: number;
  /** P bit: preferential treatment asked for (RFC 2661 3.1, e.g. LCP echo). */
  readonly priority: boolean;
  /** Offset of the PPP frame in the buffer given to the decoder (no copy). */
  readonly payloadOffset: number;
  readonly payloadLength: number;
}

export type L2tpHeader = L2tpControlHeader | L2tpDataHeader;

function u16(b: Uint8Array, at: number): number {
  return ((b[at] ?? 0) << 8) | (b[at + 1] ?? 0);
}

function truncated(what: string, need: number, have: number): WireError {
  return wireError("truncated", `${what}: need ${need} bytes, have ${have}`, DROP, have);
}

/**
 * Decodes an L2TPv2 header. Errors are all "drop" (RFC 2661 3.1: an unknown Ver MUST be discarded;
 * a header that cannot be parsed cannot be answered). Reserved bits are ignored (RFC 2661 3.1).
 * When L is set the message ends at Length and trailing bytes are ignored; otherwise at the end of buf.
 */
export function decodeL2tpHeader(buf: Uint8Array): Result<L2tpHeader, WireError> {
  const have = buf.length;
  if (have < 2) return err(truncated("L2TP header", 2, have));
  const flags = u16(buf, 0);
  const version = flags & VER_MASK;
  if (version !== L2TP_VERSION) {
    return err(wireError("bad-version", `L2TP version ${version}, only 2 is supported`, DROP, version));
  }
  const control = (flags & T_BIT) !== 0;
  const hasLength = (flags & L_BIT) !== 0;
  const hasSequence = (flags & S_BIT) !== 0;
  const hasOffset = (flags & O_BIT) !== 0;
  // RFC 2661 3.1: control messages MUST have L=1, S=1 and O=0.
  if (control && (!hasLength || !hasSequence || hasOffset)) {
    return err(wireError("bad-header", `control message with flags 0x${flags.toString(16)} (needs L=1 S=1 O=0)`, DROP, flags));
  }
  let pos = 2;
  let length = -1;
  if (hasLength) {
    if (have < pos + 2) return err(truncated("L2TP Length field", pos + 2, have));
    length = u16(buf, pos);
    pos += 2;
  }
  if (have < pos + 4) return err(truncated("L2TP Tunnel/Session ID", pos + 4, have));
  const tunnelId = u16(buf, pos);
  const sessionId = u16(buf, pos + 2);
  pos += 4;
  let ns = -1;
  let nr = 0;
  if (hasSequence) {
    if (have < pos + 4) return err(truncated("L2TP Ns/Nr", pos + 4, have));
    ns = u16(buf, pos);
    nr = u16(buf, pos + 2);
    pos += 4;
  }
  let offsetSize = -1;
  if (hasOffset) {
    if (have < pos + 2) return err(truncated("L2TP Offset Size", pos + 2, have));
    offsetSize = u16(buf, pos);
    pos += 2;
  }
  let end = have;
  if (hasLength) {
    if (length > have) return err(wireError("bad-length", `Length ${length} exceeds the ${have} bytes received`, DROP, length));
    if (length < pos) return err(wireError("bad-length", `Length ${length} is shorter than the ${pos}-byte header`, DROP, length));
    end = length;
  }
  if (offsetSize > 0) {
    // RFC 2661 3.1: the header ends after the last octet of the offset padding.
    if (pos + offsetSize > end) {
      return err(wireError("bad-length", `Offset Size ${offsetSize} runs past the end of the message`, DROP, offsetSize));
    }
    pos += offsetSize;
  }
  if (control) {
    return ok({ kind: "control", tunnelId, sessionId, ns, nr, length, payloadOffset: pos, payloadLength: end - pos });
  }
  const priority = (flags & P_BIT) !== 0;
  const payloadOffset = pos;
  const payloadLength = end - pos;
  // exactOptionalPropertyTypes: absent fields are left out rather than set to undefined.
  if (ns >= 0) {
    return ok(
      offsetSize >= 0
        ? { kind: "data", tunnelId, sessionId, withLength: hasLength, ns, offsetSize, priority, payloadOffset, payloadLength }
        : { kind: "data", tunnelId, sessionId, withLength: hasLength, ns, priority, payloadOffset, payloadLength },
    );
  }
  return ok(
    offsetSize >= 0
      ? { kind: "data", tunnelId, sessionId, withLength: hasLength, offsetSize, priority, payloadOffset, payloadLength }
      : { kind: "data", tunnelId, sessionId, withLength: hasLength, priority, payloadOffset, payloadLength },
  );
}

/** What a data header is built from; an L2tpDataHeader from the decoder is one too. */
export interface L2tpDataHeaderInit {
  readonly tunnelId: number;
  readonly sessionId: number;
  readonly withLength?: boolean;
  readonly ns?: number;
  readonly offsetSize?: number;
  readonly priority?: boolean;
}

/** Bytes writeL2tpDataHeader will write for this header (so callers can reserve headroom). */
export function l2tpDataHeaderLength(h: L2tpDataHeaderInit): number {
  return L2TP_DATA_HEADER_MIN_LENGTH + (h.withLength === true ? 2 : 0) + (h.ns === undefined ? 0 : L2TP_SEQUENCE_LENGTH) + (h.offsetSize === undefined ? 0 : 2 + h.offsetSize);
}

function put16(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >>> 8) & 0xff;
  b[at + 1] = v & 0xff;
}

function check16(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new RangeError(`${name} ${v} is not a 16-bit value`);
}

/**
 * Writes a data header at target[offset..] for a payload of payloadLength bytes that follows it.
 * Reserved bits and Nr (reserved in data messages, RFC 2661 3.1) are written as 0, offset padding
 * as zeros. Returns the header length. Throws RangeError on a caller bug (value out of range,
 * target too small), never on data.
 */
export function writeL2tpDataHeader(target: Uint8Array, offset: number, h: L2tpDataHeaderInit, payloadLength: number): number {
  const len = l2tpDataHeaderLength(h);
  if (offset < 0 || offset + len > target.length) throw new RangeError(`no room for a ${len}-byte L2TP header at ${offset}`);
  check16("Tunnel ID", h.tunnelId);
  check16("Session ID", h.sessionId);
  let flags = L2TP_VERSION;
  let pos = offset + 2;
  if (h.withLength === true) {
    flags |= L_BIT;
    check16("Length", len + payloadLength);
    put16(target, pos, len + payloadLength);
    pos += 2;
  }
  put16(target, pos, h.tunnelId);
  put16(target, pos + 2, h.sessionId);
  pos += 4;
  if (h.ns !== undefined) {
    flags |= S_BIT;
    check16("Ns", h.ns);
    put16(target, pos, h.ns);
    put16(target, pos + 2, 0);
    pos += 4;
  }
  if (h.offsetSize !== undefined) {
    flags |= O_BIT;
    check16("Offset Size", h.offsetSize);
    put16(target, pos, h.offsetSize);
    target.fill(0, pos + 2, pos + 2 + h.offsetSize);
  }
  if (h.priority === true) flags |= P_BIT;
  put16(target, offset, flags);
  return len;
}

/** A new Buffer holding just the data header (the payload is the caller's to append). */
export function encodeL2tpDataHeader(h: L2tpDataHeaderInit, payloadLength: number): Buffer {
  const out = Buffer.alloc(l2tpDataHeaderLength(h));
  writeL2tpDataHeader(out, 0, h, payloadLength);
  return out;
}

/** A whole data message: header followed by the PPP frame. */
export function encodeL2tpDataMessage(h: L2tpDataHeaderInit, payload: Uint8Array): Buffer {
  const len = l2tpDataHeaderLength(h);
  const out = Buffer.alloc(len + payload.length);
  writeL2tpDataHeader(out, 0, h, payload.length);
  out.set(payload, len);
  return out;
}
