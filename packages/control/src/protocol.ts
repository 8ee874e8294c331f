// The nsctl datagram of l2tpns 2.4.1 (UDP 1702), as a pure codec: no socket, no clock.
// Layout (all one octet unless said): magic 0x9013 (two octets, network order), type, argc, then
// argc arguments each as a length octet and that many bytes, then the terminator 0xff. A datagram
// is at most 4096 octets; an argument at most 255 octets (its length is one octet; l2tpns's
// 511-octet argument buffer cannot be described by it, so longer ones are cut here).

export const NSCTL_PORT = 1702;
export const NSCTL_MAGIC = 0x9013;
export const NSCTL_MAX_PACKET = 4096;
export const NSCTL_MAX_ARG = 255;
export const NSCTL_MAX_ARGS = 255;
/** Marks the end of the argument list. */
export const NSCTL_TERMINATOR = 0xff;

/** Request types: bit 4 set. */
export const NSCTL_REQ_LOAD = 0x11;
export const NSCTL_REQ_UNLOAD = 0x12;
export const NSCTL_REQ_HELP = 0x13;
/** Anything else the operator typed: passed to the plugins' control hooks. */
export const NSCTL_REQ_CONTROL = 0x14;
/** Response types: bit 5 set. */
export const NSCTL_RES_OK = 0x21;
export const NSCTL_RES_ERR = 0x22;

export type NsctlRequestType = typeof NSCTL_REQ_LOAD | typeof NSCTL_REQ_UNLOAD | typeof NSCTL_REQ_HELP | typeof NSCTL_REQ_CONTROL;
export type NsctlResponseType = typeof NSCTL_RES_OK | typeof NSCTL_RES_ERR;
export type NsctlType = NsctlRequestType | NsctlResponseType;

const TYPE_NAMES: Readonly<Record<NsctlType, string>> = {
  [NSCTL_REQ_LOAD]: "load_plugin",
  [NSCTL_REQ_UNLOAD]: "unload_plugin",
  [NSCTL_REQ_HELP]: "help",
  [NSCTL_REQ_CONTROL]: "control",
  [NSCTL_RES_OK]: "ok",
  [NSCTL_RES_ERR]: "error",
};

export function isNsctlType(n: number): n is NsctlType {
  return Object.hasOwn(TYPE_NAMES, n);
}

export function isRequestType(t: NsctlType): t is NsctlRequestType {
  return (t & 0x10) !== 0;
}

export function nsctlTypeName(t: NsctlType): string {
  return TYPE_NAMES[t];
}

export interface NsctlMessage {
  readonly type: NsctlType;
  readonly args: readonly string[];
}

/** Why a datagram is not an nsctl message (the l2tpns unpack errors, by name). */
export type NsctlDecodeErrorCode = "short" | "long" | "magic" | "type";

export interface NsctlDecodeError {
  readonly code: NsctlDecodeErrorCode;
  readonly reason: string;
}

export type NsctlDecoded = { readonly ok: true; readonly value: NsctlMessage } | { readonly ok: false; readonly error: NsctlDecodeError };

function fail(code: NsctlDecodeErrorCode, reason: string): NsctlDecoded {
  return { ok: false, error: { code, reason } };
}

/**
 * An argument as l2tpns reads it: a C string, so it ends at its first NUL. Bytes that are not
 * UTF-8 become U+FFFD.
 */
function argText(bytes: Uint8Array): string {
  const nul = bytes.indexOf(0);
  return Buffer.from(bytes.buffer, bytes.byteOffset, nul < 0 ? bytes.byteLength : nul).toString("utf8");
}

/** Decodes one datagram. Total: never throws, whatever the bytes. */
export function decodeNsctl(buf: Uint8Array): NsctlDecoded {
  if (buf.length < 4) return fail("short", `${buf.length} octets, the header needs 4`);
  if (buf.length > NSCTL_MAX_PACKET) return fail("long", `${buf.length} octets, at most ${NSCTL_MAX_PACKET}`);
  const magic = ((buf[0] ?? 0) << 8) | (buf[1] ?? 0);
  if (magic !== NSCTL_MAGIC) return fail("magic", `magic 0x${magic.toString(16).padStart(4, "0")}`);
  const type = buf[2] ?? 0;
  if (!isNsctlType(type)) return fail("type", `type 0x${type.toString(16)}`);
  const argc = buf[3] ?? 0;
  const args: string[] = [];
  let at = 4;
  for (let i = 0; i < argc; i++) {
    const len = buf[at];
    if (len === undefined) return fail("short", `argument ${i + 1} of ${argc} missing`);
    at++;
    if (at + len > buf.length) return fail("short", `argument ${i + 1} says ${len} octets, ${buf.length - at} left`);
    args.push(argText(buf.subarray(at, at + len)));
    at += len;
  }
  if (at >= buf.length) return fail("short", "no terminator after the arguments");
  if (buf[at] !== NSCTL_TERMINATOR) return fail("short", `0x${(buf[at] ?? 0).toString(16)} where the terminator 0xff belongs`);
  at++;
  if (at !== buf.length) return fail("long", `${buf.length - at} octets after the terminator`);
  return { ok: true, value: { type, args } };
}

export interface NsctlEncoded {
  readonly packet: Buffer;
  /** Arguments cut to NSCTL_MAX_ARG octets. */
  readonly truncatedArgs: number;
  /** Arguments left out because the datagram was full. */
  readonly droppedArgs: number;
}

/**
 * Encodes a message. It always fits: an argument longer than 255 octets is cut, and arguments that
 * do not fit in 4096 octets (or beyond the 255th) are left out, which the result reports.
 */
export function encodeNsctl(msg: NsctlMessage): NsctlEncoded {
  const parts: Buffer[] = [];
  let size = 4 + 1; // header and terminator
  let truncatedArgs = 0;
  for (const arg of msg.args) {
    if (parts.length >= NSCTL_MAX_ARGS) break;
    let bytes = Buffer.from(arg, "utf8");
    if (bytes.length > NSCTL_MAX_ARG) {
      bytes = bytes.subarray(0, NSCTL_MAX_ARG);
      truncatedArgs++;
    }
    if (size + 1 + bytes.length > NSCTL_MAX_PACKET) break;
    parts.push(bytes);
    size += 1 + bytes.length;
  }
  const packet = Buffer.alloc(size);
  packet.writeUInt16BE(NSCTL_MAGIC, 0);
  packet[2] = msg.type;
  packet[3] = parts.length;
  let at = 4;
  for (const p of parts) {
    packet[at++] = p.length;
    p.copy(packet, at);
    at += p.length;
  }
  packet[at] = NSCTL_TERMINATOR;
  return { packet, truncatedArgs, droppedArgs: msg.args.length - parts.length };
}

/** One line for `nsctl -d` and debug logs: type and quoted arguments. */
export function describeNsctl(msg: NsctlMessage): string {
  return `${nsctlTypeName(msg.type)} (0x${msg.type.toString(16)}), ${msg.args.length} argument(s)${msg.args.length > 0 ? ": " + msg.args.map((a) => JSON.stringify(a)).join(", ") : ""}`;
}
