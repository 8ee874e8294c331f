// CHAP packets (RFC 1994 4): Challenge and Response (Value-Size, Value, Name), Success and
// Failure (Message). Octet strings are returned as views of the input.
import { type WireError, DROP, wireError } from "../errors.js";
import { type Result, err, ok } from "../result.js";
import { PPP_CONTROL_HEADER_LENGTH, decodePacketHeader } from "./control.js";

export const ChapCode = { Challenge: 1, Response: 2, Success: 3, Failure: 4 } as const;
export type ChapCodeName = keyof typeof ChapCode;

/** RFC 1994 4.1. */
export interface ChapChallenge {
  readonly kind: "Challenge" | "Response";
  readonly identifier: number;
  readonly value: Uint8Array;
  readonly name: Uint8Array;
}

/** RFC 1994 4.2. */
export interface ChapResult {
  readonly kind: "Success" | "Failure";
  readonly identifier: number;
  readonly message: Uint8Array;
}

export type ChapPacket = ChapChallenge | ChapResult;

const KIND_BY_CODE: ReadonlyMap<number, ChapCodeName> = new Map([
  [1, "Challenge"],
  [2, "Response"],
  [3, "Success"],
  [4, "Failure"],
]);

/** RFC 1994 2.3 / 4.1: an MD5 Response Value is 16 octets. */
export const CHAP_MD5_VALUE_SIZE = 16;

export function decodeChap(buf: Uint8Array): Result<ChapPacket, WireError> {
  const header = decodePacketHeader(buf, "CHAP");
  if (!header.ok) return header;
  const { code, identifier, length } = header.value;
  const kind = KIND_BY_CODE.get(code);
  // RFC 1994 defines no Code-Reject for CHAP: an unknown Code is discarded.
  if (kind === undefined) return err(wireError("unknown-code", `CHAP Code ${code} unknown`, DROP, code));
  const at = PPP_CONTROL_HEADER_LENGTH;
  if (kind === "Success" || kind === "Failure") return ok({ kind, identifier, message: buf.subarray(at, length) });
  const valueSize = buf[at];
  if (valueSize === undefined || at + 1 > length) {
    return err(wireError("truncated", `CHAP ${kind} without Value-Size (RFC 1994 4.1)`, DROP, length));
  }
  if (at + 1 + valueSize > length) {
    return err(wireError("bad-length", `CHAP Value-Size runs past the packet (RFC 1994 4.1)`, DROP, valueSize));
  }
  return ok({
    kind,
    identifier,
    value: buf.subarray(at + 1, at + 1 + valueSize),
    name: buf.subarray(at + 1 + valueSize, length),
  });
}

export function encodeChap(packet: ChapPacket): Buffer {
  let body: Buffer;
  switch (packet.kind) {
    case "Success":
    case "Failure":
      body = Buffer.from(packet.message);
      break;
    case "Challenge":
    case "Response":
      if (packet.value.length > 255) throw new RangeError("CHAP Value longer than 255 octets");
      body = Buffer.concat([Buffer.from([packet.value.length]), packet.value, packet.name]);
      break;
  }
  const length = PPP_CONTROL_HEADER_LENGTH + body.length;
  if (length > 0xffff) throw new RangeError("CHAP packet exceeds the Length field");
  const out = Buffer.allocUnsafe(length);
  out[0] = ChapCode[packet.kind];
  out[1] = packet.identifier;
  out.writeUInt16BE(length, 2);
  out.set(body, PPP_CONTROL_HEADER_LENGTH);
  return out;
}
