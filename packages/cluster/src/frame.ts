// Every cluster message is authenticated with cluster_secret: the magic "LNSC", an HMAC-SHA-256 of
// the message under the secret, then the message (schema.ts). A frame whose magic, length or HMAC
// is wrong is dropped by the caller, which counts it. Over TCP each frame is preceded by its length
// (u32, big-endian); FrameReader cuts a byte stream back into frames. Pure (node:crypto only).
import { createHmac, timingSafeEqual } from "node:crypto";

export const FRAME_MAGIC = Buffer.from("LNSC", "latin1");
const MAC_BYTES = 32;
const HEADER_BYTES = FRAME_MAGIC.length + MAC_BYTES;
/** The largest frame a stream accepts (a snapshot chunk is far smaller). */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;

function mac(secret: string, message: Uint8Array): Buffer {
  return createHmac("sha256", secret).update(message).digest();
}

export function seal(secret: string, message: Uint8Array): Buffer {
  return Buffer.concat([FRAME_MAGIC, mac(secret, message), message]);
}

export type Opened = { readonly ok: true; readonly message: Buffer } | { readonly ok: false; readonly reason: "short" | "magic" | "mac" };

/** The message inside a frame, when its HMAC is right. */
export function open(secret: string, frame: Buffer): Opened {
  if (frame.length < HEADER_BYTES) return { ok: false, reason: "short" };
  if (!frame.subarray(0, FRAME_MAGIC.length).equals(FRAME_MAGIC)) return { ok: false, reason: "magic" };
  const message = frame.subarray(HEADER_BYTES);
  const expected = mac(secret, message);
  if (!timingSafeEqual(expected, frame.subarray(FRAME_MAGIC.length, HEADER_BYTES))) return { ok: false, reason: "mac" };
  return { ok: true, message };
}

/** A frame with its length in front, for a stream. */
export function lengthPrefixed(frame: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(frame.length, 0);
  return Buffer.concat([head, frame]);
}

/** Cuts a TCP byte stream into frames; a length over MAX_FRAME_BYTES is a broken stream. */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  /** The whole frames received so far, or "broken" (the stream must be closed). */
  push(data: Buffer): Buffer[] | "broken" {
    this.chunks.push(data);
    this.buffered += data.length;
    const frames: Buffer[] = [];
    let all = this.chunks.length === 1 ? data : Buffer.concat(this.chunks, this.buffered);
    let at = 0;
    while (all.length - at >= 4) {
      const len = all.readUInt32BE(at);
      if (len > MAX_FRAME_BYTES) return "broken";
      if (all.length - at - 4 < len) break;
      frames.push(all.subarray(at + 4, at + 4 + len));
      at += 4 + len;
    }
    all = all.subarray(at);
    this.chunks = all.length === 0 ? [] : [all];
    this.buffered = all.length;
    return frames;
  }
}
