// The RADIUS packet (RFC 2865 3) and attribute (RFC 2865 5) framing: decode is total, encode
// builds bytes without signing them (crypto.ts signs). Vendor-Specific values are split into the
// RFC 2865 5.26 recommended sub-attribute form here too. No I/O, no clock.
import { Attr, HEADER_LENGTH, isKnownCode, MAX_ATTRIBUTES, MAX_ATTRIBUTE_VALUE, MAX_PACKET_LENGTH } from "./constants.js";
import { fail, ok, type Decoded } from "./result.js";

export interface RadiusAttribute {
  readonly type: number;
  readonly value: Buffer;
}

export interface RadiusPacket {
  readonly code: number;
  readonly identifier: number;
  /** Request or Response Authenticator, 16 octets. */
  readonly authenticator: Buffer;
  readonly attributes: readonly RadiusAttribute[];
}

/**
 * RFC 2865 3: a packet shorter than its Length field is discarded; octets past Length are padding
 * and ignored; Length is 20..4096. Every attribute must fit exactly (RFC 2865 5: Length >= 2), or
 * the whole packet is discarded. Unknown codes are refused too: nothing lnsd could do with them.
 * The returned buffers are copies, so the caller may reuse its receive buffer.
 */
export function decodePacket(buf: Uint8Array): Decoded<RadiusPacket> {
  if (buf.length < HEADER_LENGTH) return fail("truncated", "shorter than the RADIUS header", buf.length);
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const code = b.readUInt8(0);
  const length = b.readUInt16BE(2);
  if (length < HEADER_LENGTH || length > MAX_PACKET_LENGTH) return fail("bad-length", "Length field out of 20..4096", length);
  if (length > b.length) return fail("truncated", "shorter than its Length field", length);
  if (!isKnownCode(code)) return fail("unknown-code", "unknown packet code", code);
  const attrs = splitAttributes(b.subarray(HEADER_LENGTH, length));
  if (!attrs.ok) return attrs;
  return ok({
    code,
    identifier: b.readUInt8(1),
    authenticator: Buffer.from(b.subarray(4, 20)),
    attributes: attrs.value,
  });
}

function splitAttributes(b: Buffer): Decoded<RadiusAttribute[]> {
  const out: RadiusAttribute[] = [];
  let at = 0;
  while (at < b.length) {
    if (at + 2 > b.length) return fail("bad-attribute-length", "attribute header cut short", at);
    const type = b.readUInt8(at);
    const len = b.readUInt8(at + 1);
    if (len < 2) return fail("bad-attribute-length", `attribute ${type} with Length ${len}`, len);
    if (at + len > b.length) return fail("bad-attribute-length", `attribute ${type} runs past the packet`, len);
    if (out.length >= MAX_ATTRIBUTES) return fail("too-many-attributes", "attribute flood", out.length);
    out.push({ type, value: Buffer.from(b.subarray(at + 2, at + len)) });
    at += len;
  }
  return ok(out);
}

/** Bytes of a packet as given: the caller has put the final authenticator in already. */
export function encodePacket(p: RadiusPacket): Buffer {
  let length = HEADER_LENGTH;
  for (const a of p.attributes) length += 2 + a.value.length;
  if (length > MAX_PACKET_LENGTH) throw new RangeError(`RADIUS packet of ${length} octets (max ${MAX_PACKET_LENGTH})`);
  if (p.authenticator.length !== 16) throw new RangeError("authenticator must be 16 octets");
  const out = Buffer.alloc(length);
  out.writeUInt8(p.code, 0);
  out.writeUInt8(p.identifier & 0xff, 1);
  out.writeUInt16BE(length, 2);
  p.authenticator.copy(out, 4);
  let at = HEADER_LENGTH;
  for (const a of p.attributes) {
    if (a.value.length > MAX_ATTRIBUTE_VALUE) throw new RangeError(`attribute ${a.type} value of ${a.value.length} octets`);
    out.writeUInt8(a.type, at);
    out.writeUInt8(a.value.length + 2, at + 1);
    a.value.copy(out, at + 2);
    at += 2 + a.value.length;
  }
  return out;
}

/** Total length a packet with these attributes would have. */
export function packetLength(attributes: readonly RadiusAttribute[]): number {
  let length = HEADER_LENGTH;
  for (const a of attributes) length += 2 + a.value.length;
  return length;
}

// ---- Vendor-Specific (RFC 2865 5.26) ----

export interface VendorAttribute {
  readonly vendorId: number;
  readonly type: number;
  readonly value: Buffer;
}

/**
 * Splits one Vendor-Specific value into its sub-attributes (vendor type, vendor length, value: the
 * format RFC 2865 5.26 recommends and Cisco, Microsoft and Ascend use). A value that does not
 * follow that format is an error; the caller skips that attribute, not the packet.
 */
export function splitVendorSpecific(value: Buffer): Decoded<VendorAttribute[]> {
  if (value.length < 4) return fail("bad-value", "Vendor-Specific shorter than a vendor id", value.length);
  const vendorId = value.readUInt32BE(0);
  if (vendorId > 0xffffff) return fail("bad-value", "Vendor-Specific with a non-zero first octet", vendorId);
  const out: VendorAttribute[] = [];
  let at = 4;
  while (at < value.length) {
    if (at + 2 > value.length) return fail("bad-attribute-length", "vendor attribute header cut short", vendorId);
    const type = value.readUInt8(at);
    const len = value.readUInt8(at + 1);
    if (len < 2 || at + len > value.length) return fail("bad-attribute-length", `vendor ${vendorId} attribute ${type} with Length ${len}`, len);
    out.push({ vendorId, type, value: Buffer.from(value.subarray(at + 2, at + len)) });
    at += len;
  }
  return ok(out);
}

// ---- Builders. They throw RangeError on values the caller should have checked (too long). ----

export function octetsAttr(type: number, value: Buffer): RadiusAttribute {
  if (value.length > MAX_ATTRIBUTE_VALUE) throw new RangeError(`attribute ${type}: ${value.length} octets`);
  return { type, value };
}

/** RFC 2865 5: "text" is UTF-8. */
export function textAttr(type: number, value: string): RadiusAttribute {
  return octetsAttr(type, Buffer.from(value, "utf8"));
}

/** RFC 2865 5: "integer" is 32 bits, big-endian. */
export function integerAttr(type: number, value: number): RadiusAttribute {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(Math.max(0, Math.min(0xffffffff, Math.floor(value))) >>> 0);
  return { type, value: b };
}

export function vendorAttr(vendorId: number, type: number, value: Buffer): RadiusAttribute {
  if (value.length > MAX_ATTRIBUTE_VALUE - 6) throw new RangeError(`vendor ${vendorId} attribute ${type}: ${value.length} octets`);
  const b = Buffer.alloc(6 + value.length);
  b.writeUInt32BE(vendorId, 0);
  b.writeUInt8(type, 4);
  b.writeUInt8(2 + value.length, 5);
  value.copy(b, 6);
  return { type: Attr.VendorSpecific, value: b };
}

/** Byte length of a string as UTF-8: for checks against the 253-octet limit before building. */
export function utf8Length(s: string): number {
  return Buffer.byteLength(s, "utf8");
}
