// PPP frame header as carried inside L2TP (RFC 1662 3.1 address/control, RFC 1661 2 protocol
// field) with ACFC and PFC (RFC 1661 6.5, 6.6). The information field is returned as a view,
// never copied; the hot-path helpers below decode without allocating.
import { type WireError, DROP, wireError } from "../errors.js";
import { type Result, err, ok } from "../result.js";
import { PppProtocol, isValidPppProtocol } from "./protocols.js";

/** RFC 1662 3.1: All-Stations address and Unnumbered Information control. */
export const PPP_ADDRESS = 0xff;
export const PPP_CONTROL = 0x03;

export interface PppFrame {
  readonly protocol: number;
  /** Offset of the information field in the decoded buffer. */
  readonly offset: number;
  /** The information field (and any padding): a view of the input, not a copy. */
  readonly info: Uint8Array;
  /** FF 03 was present; false means the peer compressed it away (ACFC, RFC 1661 6.6). */
  readonly addressControl: boolean;
  /** The Protocol field was one octet (PFC, RFC 1661 6.5). */
  readonly protocolCompressed: boolean;
}

export interface PppFrameOptions {
  /** Send FF 03 (default true). RFC 1661 6.6: always sent on LCP packets whatever this says. */
  readonly addressControl?: boolean;
  /** Send a one-octet Protocol when it fits (default false). RFC 1661 6.5: never on LCP. */
  readonly compressProtocol?: boolean;
}

/**
 * Length of the address/control and protocol fields at buf[start], or -1 when they are truncated,
 * the control octet is wrong or the protocol number is invalid. No allocation (hot path).
 * An odd length means a one-octet (compressed) Protocol field.
 */
export function pppHeaderLength(buf: Uint8Array, start = 0, end = buf.length): number {
  let at = start;
  if (at < end && buf[at] === PPP_ADDRESS) {
    if (at + 1 >= end || buf[at + 1] !== PPP_CONTROL) return -1;
    at += 2;
  }
  if (at >= end) return -1;
  if (((buf[at] ?? 0) & 1) === 1) return at + 1 - start;
  if (at + 1 >= end) return -1;
  return ((buf[at + 1] ?? 0) & 1) === 1 ? at + 2 - start : -1;
}

/** The protocol number of the frame at buf[start], or -1 as for pppHeaderLength. No allocation. */
export function pppProtocolAt(buf: Uint8Array, start = 0, end = buf.length): number {
  const len = pppHeaderLength(buf, start, end);
  if (len < 0) return -1;
  const last = buf[start + len - 1] ?? 0;
  return (len & 1) === 1 ? last : ((buf[start + len - 2] ?? 0) << 8) | last;
}

export function decodePppFrame(buf: Uint8Array): Result<PppFrame, WireError> {
  if (buf.length === 0) return err(wireError("truncated", "empty PPP frame", DROP, 0));
  let at = 0;
  let addressControl = false;
  if (buf[0] === PPP_ADDRESS) {
    // 0x00ff is reserved (IANA PPP numbers: compression inefficient), so FF is the address.
    if (buf.length < 2) return err(wireError("truncated", "PPP frame ends after the address field", DROP, 1));
    // RFC 1662 3.1: frames with an unrecognised Control field SHOULD be silently discarded.
    if (buf[1] !== PPP_CONTROL) return err(wireError("bad-header", "PPP control field is not 0x03", DROP, buf[1]));
    at = 2;
    addressControl = true;
  }
  const first = buf[at];
  if (first === undefined) return err(wireError("truncated", "PPP frame has no protocol field", DROP, buf.length));
  let protocol: number;
  let protocolCompressed: boolean;
  if ((first & 1) === 1) {
    // RFC 1661 6.5: a one-octet Protocol field (odd first octet) stands for 0x00XX.
    protocol = first;
    protocolCompressed = true;
    at += 1;
  } else {
    const second = buf[at + 1];
    if (second === undefined) return err(wireError("truncated", "PPP protocol field cut short", DROP, buf.length));
    protocol = (first << 8) | second;
    protocolCompressed = false;
    at += 2;
    // RFC 1661 2: frames that break the protocol numbering rules are treated as an
    // unrecognised protocol, answered with a Protocol-Reject.
    if (!isValidPppProtocol(protocol)) {
      return err(wireError("bad-value", "invalid PPP protocol number", { kind: "protocol-reject", protocol }, protocol));
    }
  }
  return ok({ protocol, offset: at, info: buf.subarray(at), addressControl, protocolCompressed });
}

const DEFAULT_FRAME_OPTIONS: PppFrameOptions = {};

/** RFC 1661 6.6: never drop FF 03 on LCP. */
function sendsAddressControl(protocol: number, opts: PppFrameOptions): boolean {
  return protocol === PppProtocol.LCP || opts.addressControl !== false;
}

/** RFC 1661 6.5: only protocols 0x00XX compress, and never LCP (which is not one anyway). */
function compressesProtocol(protocol: number, opts: PppFrameOptions): boolean {
  return opts.compressProtocol === true && protocol <= 0xff;
}

/** Bytes that writePppHeader will write for this protocol and these options. No allocation. */
export function pppHeaderSize(protocol: number, opts: PppFrameOptions = DEFAULT_FRAME_OPTIONS): number {
  return (sendsAddressControl(protocol, opts) ? 2 : 0) + (compressesProtocol(protocol, opts) ? 1 : 2);
}

/**
 * Writes address/control (maybe) and protocol at buf[offset]; returns the bytes written. No
 * allocation: the data path prepends the header in place.
 */
export function writePppHeader(
  buf: Uint8Array,
  offset: number,
  protocol: number,
  opts: PppFrameOptions = DEFAULT_FRAME_OPTIONS,
): number {
  let at = offset;
  if (sendsAddressControl(protocol, opts)) {
    buf[at++] = PPP_ADDRESS;
    buf[at++] = PPP_CONTROL;
  }
  if (!compressesProtocol(protocol, opts)) buf[at++] = (protocol >> 8) & 0xff;
  buf[at++] = protocol & 0xff;
  return at - offset;
}

/** A complete PPP frame (without HDLC flags or FCS, as L2TP carries it). */
export function encodePppFrame(protocol: number, info: Uint8Array, opts: PppFrameOptions = DEFAULT_FRAME_OPTIONS): Buffer {
  const headerLength = pppHeaderSize(protocol, opts);
  const out = Buffer.allocUnsafe(headerLength + info.length);
  writePppHeader(out, 0, protocol, opts);
  out.set(info, headerLength);
  return out;
}
