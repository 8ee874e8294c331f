// PAP packets (RFC 1334 2.2): Authenticate-Request with Peer-ID and Password, Authenticate-Ack
// and -Nak with a Message. Octet strings are returned as views of the input.
import { type WireError, DROP, wireError } from "../errors.js";
import { type Result, err, ok } from "../result.js";
import { PPP_CONTROL_HEADER_LENGTH, decodePacketHeader } from "./control.js";

export const PapCode = { AuthReq: 1, AuthAck: 2, AuthNak: 3 } as const;
export type PapCodeName = keyof typeof PapCode;

/** RFC 1334 2.2.1. */
export interface PapAuthReq {
  readonly kind: "AuthReq";
  readonly identifier: number;
  readonly peerId: Uint8Array;
  readonly password: Uint8Array;
}

/** RFC 1334 2.2.2. */
export interface PapAuthReply {
  readonly kind: "AuthAck" | "AuthNak";
  readonly identifier: number;
  readonly message: Uint8Array;
}

export type PapPacket = PapAuthReq | PapAuthReply;

const KIND_BY_CODE: ReadonlyMap<number, PapCodeName> = new Map([
  [1, "AuthReq"],
  [2, "AuthAck"],
  [3, "AuthNak"],
]);

export function decodePap(buf: Uint8Array): Result<PapPacket, WireError> {
  const header = decodePacketHeader(buf, "PAP");
  if (!header.ok) return header;
  const { code, identifier, length } = header.value;
  const kind = KIND_BY_CODE.get(code);
  // RFC 1334 defines no Code-Reject for PAP: an unknown Code is discarded.
  if (kind === undefined) return err(wireError("unknown-code", `PAP Code ${code} unknown`, DROP, code));
  const at = PPP_CONTROL_HEADER_LENGTH;
  if (kind === "AuthReq") {
    const peerIdLength = buf[at];
    if (peerIdLength === undefined || at + 1 > length) {
      return err(wireError("truncated", "PAP Authenticate-Request without Peer-ID Length (RFC 1334 2.2.1)", DROP, length));
    }
    const pwAt = at + 1 + peerIdLength;
    const passwordLength = buf[pwAt];
    if (passwordLength === undefined || pwAt + 1 > length) {
      return err(wireError("bad-length", "PAP Peer-ID Length runs past the packet (RFC 1334 2.2.1)", DROP, peerIdLength));
    }
    if (pwAt + 1 + passwordLength > length) {
      return err(wireError("bad-length", "PAP Passwd-Length runs past the packet (RFC 1334 2.2.1)", DROP, passwordLength));
    }
    return ok({
      kind,
      identifier,
      peerId: buf.subarray(at + 1, pwAt),
      password: buf.subarray(pwAt + 1, pwAt + 1 + passwordLength),
    });
  }
  // RFC 1334 2.2.2: Msg-Length then Message. Some peers send a bare 4-octet Ack; it carries no
  // message and is accepted as an empty one.
  if (length === at) return ok({ kind, identifier, message: buf.subarray(at, at) });
  const msgLength = buf[at] ?? 0;
  if (at + 1 + msgLength > length) {
    return err(wireError("bad-length", "PAP Msg-Length runs past the packet (RFC 1334 2.2.2)", DROP, msgLength));
  }
  return ok({ kind, identifier, message: buf.subarray(at + 1, at + 1 + msgLength) });
}

function lengthPrefixed(b: Uint8Array, what: string): Buffer {
  if (b.length > 255) throw new RangeError(`PAP ${what} longer than 255 octets`);
  const out = Buffer.allocUnsafe(1 + b.length);
  out[0] = b.length;
  out.set(b, 1);
  return out;
}

export function encodePap(packet: PapPacket): Buffer {
  const body =
    packet.kind === "AuthReq"
      ? Buffer.concat([lengthPrefixed(packet.peerId, "Peer-ID"), lengthPrefixed(packet.password, "Password")])
      : lengthPrefixed(packet.message, "Message");
  const out = Buffer.allocUnsafe(PPP_CONTROL_HEADER_LENGTH + body.length);
  out[0] = PapCode[packet.kind];
  out[1] = packet.identifier;
  out.writeUInt16BE(out.length, 2);
  out.set(body, PPP_CONTROL_HEADER_LENGTH);
  return out;
}
