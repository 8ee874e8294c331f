// Hidden AVPs (RFC 2661 4.3): the hidden subformat (original length, value, padding) XORed with an
// MD5 stream keyed by the attribute type, the tunnel's shared secret and the Random Vector. The
// padding and the Random Vector come from the caller, so the codec stays deterministic.
import { createHash } from "node:crypto";
import { err, ok, type Result } from "../result.js";

const BLOCK = 16;
const EMPTY = new Uint8Array(0);

/** A shared secret as configured (text, taken as UTF-8) or as raw octets. */
export type L2tpSecret = string | Uint8Array;

export function l2tpSecretBytes(secret: L2tpSecret): Uint8Array {
  return typeof secret === "string" ? Buffer.from(secret, "utf8") : secret;
}

function md5(...parts: Uint8Array[]): Buffer {
  const h = createHash("md5");
  for (const p of parts) h.update(p);
  return h.digest();
}

/**
 * RFC 2661 4.3: b1 = MD5(type || secret || RV), b(i) = MD5(secret || c(i-1)), c(i) = p(i) xor b(i),
 * over 16-octet chunks; a short last chunk is XORed with the first octets of its b(i) and the
 * length is not changed. `src` is the input, `out` receives the result (may be the same buffer);
 * `cipher` says which of the two holds the ciphertext that feeds the next block.
 */
function md5Stream(attributeType: number, secret: Uint8Array, randomVector: Uint8Array, src: Uint8Array, out: Uint8Array, cipher: "src" | "out"): void {
  const typeBytes = Buffer.from([(attributeType >>> 8) & 0xff, attributeType & 0xff]);
  let prev: Uint8Array = EMPTY;
  for (let at = 0; at < src.length; at += BLOCK) {
    const b = at === 0 ? md5(typeBytes, secret, randomVector) : md5(secret, prev);
    const end = Math.min(at + BLOCK, src.length);
    // Keep the ciphertext of this chunk before it can be overwritten (src and out may alias).
    const c = cipher === "src" ? Buffer.from(src.subarray(at, end)) : undefined;
    for (let i = at; i < end; i++) out[i] = (src[i] ?? 0) ^ (b[i - at] ?? 0);
    prev = c ?? out.subarray(at, end);
  }
}

/**
 * Hides one AVP value: returns the octets to put after the 6-byte AVP header (with H set).
 * `padding` (RFC 2661 4.3: random octets that hide the value's length) is appended before hiding.
 */
export function hideAvpValue(attributeType: number, value: Uint8Array, secret: L2tpSecret, randomVector: Uint8Array, padding: Uint8Array = EMPTY): Buffer {
  if (value.length > 0xffff) throw new RangeError(`hidden AVP value of ${value.length} octets`);
  const sub = Buffer.alloc(2 + value.length + padding.length);
  sub.writeUInt16BE(value.length, 0);
  sub.set(value, 2);
  sub.set(padding, 2 + value.length);
  md5Stream(attributeType, l2tpSecretBytes(secret), randomVector, sub, sub, "out");
  return sub;
}

export interface AvpRevealError {
  readonly code: "bad-length";
  readonly reason: string;
  readonly value: number;
}

/**
 * Reveals a hidden AVP value (the octets after the AVP header). A wrong secret or Random Vector
 * gives garbage, caught here only when the recovered Original Length does not fit.
 */
export function revealAvpValue(attributeType: number, hidden: Uint8Array, secret: L2tpSecret, randomVector: Uint8Array): Result<Buffer, AvpRevealError> {
  if (hidden.length < 2) {
    return err({ code: "bad-length", reason: `hidden AVP ${attributeType} of ${hidden.length} octets has no Original Length`, value: hidden.length });
  }
  const plain = Buffer.alloc(hidden.length);
  md5Stream(attributeType, l2tpSecretBytes(secret), randomVector, hidden, plain, "src");
  const originalLength = plain.readUInt16BE(0);
  if (originalLength > plain.length - 2) {
    return err({
      code: "bad-length",
      reason: `hidden AVP ${attributeType}: Original Length ${originalLength} exceeds the ${plain.length - 2} octets hidden (wrong secret?)`,
      value: originalLength,
    });
  }
  return ok(plain.subarray(2, 2 + originalLength));
}
