// The shared-secret cryptography of RADIUS: Request and Response Authenticators (RFC 2865 3,
// RFC 2866 3, RFC 5176 2.3), Message-Authenticator (RFC 3579 3.2, RFC 5176 3.4) and User-Password
// hiding (RFC 2865 5.2). Pure functions over bytes: randomness comes in from the caller.
//
// lnsd puts Message-Authenticator FIRST in every packet it signs: the BlastRADIUS mitigation
// (CVE-2024-3596) that the FreeRADIUS and RADEXT authors recommend, so that a chosen-prefix MD5
// collision cannot be placed ahead of it.
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { Attr, Code, HEADER_LENGTH } from "./constants.js";
import { encodePacket, type RadiusAttribute } from "./packet.js";

export type Secret = string | Buffer;

function secretBytes(s: Secret): Buffer {
  return typeof s === "string" ? Buffer.from(s, "utf8") : s;
}

function md5(...parts: Buffer[]): Buffer {
  const h = createHash("md5");
  for (const p of parts) h.update(p);
  return h.digest();
}

function hmacMd5(key: Buffer, data: Buffer): Buffer {
  return createHmac("md5", key).update(data).digest();
}

const ZERO16 = Buffer.alloc(16);

/** Access-Request and Status-Server carry a random Request Authenticator; every other request an MD5 one. */
export function hasRandomAuthenticator(code: number): boolean {
  return code === Code.AccessRequest || code === Code.StatusServer;
}

function messageAuthenticatorAttr(): RadiusAttribute {
  return { type: Attr.MessageAuthenticator, value: Buffer.alloc(16) };
}

export interface RequestToSign {
  readonly code: number;
  readonly identifier: number;
  /** Without Message-Authenticator: it is added first. */
  readonly attributes: readonly RadiusAttribute[];
  readonly secret: Secret;
  /** The 16 random octets of an Access-Request or Status-Server; ignored for the other codes. */
  readonly randomAuthenticator?: Buffer;
  /** Default true: every lnsd request carries one (RFC 3579 3.2; BlastRADIUS). */
  readonly messageAuthenticator?: boolean;
}

/**
 * Signs a request. Access-Request: the Request Authenticator is random and the
 * Message-Authenticator is the HMAC-MD5 of the packet with it in place (RFC 3579 3.2).
 * Accounting-Request, Disconnect-Request, CoA-Request: the Message-Authenticator is computed with
 * the authenticator field zeroed, then the Request Authenticator is MD5(packet with zeroes there |
 * secret) over the packet that already holds the Message-Authenticator (RFC 2866 3, RFC 5176 2.3
 * and 3.4). The `radius` npm package gets this order backwards and FreeRADIUS rejects its
 * accounting packets; see docs/radius.md.
 */
export function signRequest(r: RequestToSign): Buffer {
  const secret = secretBytes(r.secret);
  const withMa = r.messageAuthenticator ?? true;
  const attributes = withMa ? [messageAuthenticatorAttr(), ...r.attributes] : r.attributes;
  const random = hasRandomAuthenticator(r.code);
  if (random && r.randomAuthenticator?.length !== 16) throw new RangeError("an Access-Request needs 16 random octets");
  const authenticator = random && r.randomAuthenticator !== undefined ? r.randomAuthenticator : ZERO16;
  const out = encodePacket({ code: r.code, identifier: r.identifier, authenticator, attributes });
  if (withMa) hmacMd5(secret, out).copy(out, HEADER_LENGTH + 2);
  if (!random) md5(out, secret).copy(out, 4);
  return out;
}

export interface ResponseToSign {
  readonly code: number;
  readonly identifier: number;
  readonly attributes: readonly RadiusAttribute[];
  readonly secret: Secret;
  /** The Request Authenticator of the request being answered. */
  readonly requestAuthenticator: Buffer;
  readonly messageAuthenticator?: boolean;
}

/**
 * Signs a response: Message-Authenticator over the packet holding the Request Authenticator
 * (RFC 3579 3.2, RFC 5176 3.4), then the Response Authenticator MD5(Code | Identifier | Length |
 * Request Authenticator | Attributes | secret) (RFC 2865 3).
 */
export function signResponse(r: ResponseToSign): Buffer {
  const secret = secretBytes(r.secret);
  const withMa = r.messageAuthenticator ?? true;
  const attributes = withMa ? [messageAuthenticatorAttr(), ...r.attributes] : r.attributes;
  const out = encodePacket({ code: r.code, identifier: r.identifier, authenticator: r.requestAuthenticator, attributes });
  if (withMa) hmacMd5(secret, out).copy(out, HEADER_LENGTH + 2);
  md5(out, secret).copy(out, 4);
  return out;
}

/** Offsets (of the type octet) of every attribute of a type in a packet decodePacket accepted. */
function attributeOffsets(raw: Buffer, type: number): number[] {
  const out: number[] = [];
  const length = raw.readUInt16BE(2);
  let at = HEADER_LENGTH;
  while (at + 2 <= length) {
    const len = raw.readUInt8(at + 1);
    if (len < 2) break;
    if (raw.readUInt8(at) === type) out.push(at);
    at += len;
  }
  return out;
}

function equal(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export type AuthenticatorCheck =
  | "ok"
  | "bad-authenticator"
  | "missing-message-authenticator"
  | "bad-message-authenticator";

/**
 * Checks Message-Authenticator, when present or required: exactly one, 16 octets, and the
 * HMAC-MD5 of the packet with `authenticatorField` in the authenticator and zeroes in its place.
 */
function checkMessageAuthenticator(raw: Buffer, secret: Buffer, authenticatorField: Buffer, required: boolean): AuthenticatorCheck {
  const at = attributeOffsets(raw, Attr.MessageAuthenticator);
  if (at.length === 0) return required ? "missing-message-authenticator" : "ok";
  const first = at[0];
  if (at.length > 1 || first === undefined || raw.readUInt8(first + 1) !== 18) return "bad-message-authenticator";
  const copy = Buffer.from(raw);
  authenticatorField.copy(copy, 4);
  const got = Buffer.from(copy.subarray(first + 2, first + 18));
  copy.fill(0, first + 2, first + 18);
  return equal(hmacMd5(secret, copy), got) ? "ok" : "bad-message-authenticator";
}

/**
 * Verifies a response against the request it answers: the Response Authenticator (RFC 2865 3)
 * and the Message-Authenticator (RFC 3579 3.2), which `requireMessageAuthenticator` makes
 * mandatory (BlastRADIUS: every Access-Accept, -Reject and -Challenge). `raw` is the datagram as
 * received; decodePacket must have accepted it.
 */
export function verifyResponse(raw: Buffer, secret: Secret, requestAuthenticator: Buffer, requireMessageAuthenticator: boolean): AuthenticatorCheck {
  const s = secretBytes(secret);
  const pkt = raw.subarray(0, raw.readUInt16BE(2));
  const got = Buffer.from(pkt.subarray(4, 20));
  const copy = Buffer.from(pkt);
  requestAuthenticator.copy(copy, 4);
  if (!equal(md5(copy, s), got)) return "bad-authenticator";
  return checkMessageAuthenticator(pkt, s, requestAuthenticator, requireMessageAuthenticator);
}

/**
 * Verifies a request as its server would. Accounting-Request, Disconnect-Request, CoA-Request: the
 * Request Authenticator is MD5 over the packet with zeroes in its place and the secret (RFC 2866 3,
 * RFC 5176 2.3), and the Message-Authenticator, if any, was computed over zeroes there too.
 * Access-Request: only the Message-Authenticator can be checked, with the random authenticator.
 */
export function verifyRequest(raw: Buffer, secret: Secret, requireMessageAuthenticator: boolean): AuthenticatorCheck {
  const s = secretBytes(secret);
  const pkt = raw.subarray(0, raw.readUInt16BE(2));
  const code = pkt.readUInt8(0);
  if (hasRandomAuthenticator(code)) {
    return checkMessageAuthenticator(pkt, s, Buffer.from(pkt.subarray(4, 20)), requireMessageAuthenticator);
  }
  const got = Buffer.from(pkt.subarray(4, 20));
  const copy = Buffer.from(pkt);
  ZERO16.copy(copy, 4);
  if (!equal(md5(copy, s), got)) return "bad-authenticator";
  return checkMessageAuthenticator(pkt, s, ZERO16, requireMessageAuthenticator);
}

/**
 * RFC 2865 5.2: the password, padded with zeroes to a multiple of 16 octets, XORed with
 * b1 = MD5(secret | Request Authenticator), b2 = MD5(secret | c1), ...
 */
export function hidePassword(password: Buffer, secret: Secret, requestAuthenticator: Buffer): Buffer {
  const s = secretBytes(secret);
  const padded = Buffer.alloc(Math.max(16, Math.ceil(password.length / 16) * 16));
  password.copy(padded);
  const out = Buffer.alloc(padded.length);
  let prev = requestAuthenticator;
  for (let i = 0; i < padded.length; i += 16) {
    const b = md5(s, prev);
    for (let j = 0; j < 16; j++) out[i + j] = (padded[i + j] ?? 0) ^ (b[j] ?? 0);
    prev = out.subarray(i, i + 16);
  }
  return out;
}

/** The reverse of hidePassword, trailing zero padding removed; undefined if not a multiple of 16. */
export function revealPassword(hidden: Buffer, secret: Secret, requestAuthenticator: Buffer): Buffer | undefined {
  if (hidden.length === 0 || hidden.length % 16 !== 0 || hidden.length > 128) return undefined;
  const s = secretBytes(secret);
  const out = Buffer.alloc(hidden.length);
  let prev = requestAuthenticator;
  for (let i = 0; i < hidden.length; i += 16) {
    const b = md5(s, prev);
    for (let j = 0; j < 16; j++) out[i + j] = (hidden[i + j] ?? 0) ^ (b[j] ?? 0);
    prev = hidden.subarray(i, i + 16);
  }
  let end = out.length;
  while (end > 0 && out[end - 1] === 0) end--;
  return out.subarray(0, end);
}

/** RFC 1994 4.1 / RFC 2865 5.3: the MD5 CHAP response, MD5(Identifier | secret | Challenge). */
export function chapMd5Response(identifier: number, password: Buffer, challenge: Buffer): Buffer {
  return md5(Buffer.from([identifier & 0xff]), password, challenge);
}
