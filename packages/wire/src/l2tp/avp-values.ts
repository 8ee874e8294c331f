// Value codecs for the AVP value kinds of avp-table.ts: one decoder and one encoder per kind, picked
// by the table, so adding an AVP of an existing kind is a table row. Decoders see only the value
// octets (already un-hidden and length-checked against the table) and never throw.
import { err, ok, type Result } from "../result.js";
import { AVP_TABLE, type AvpKindValueMap, type AvpSpec, type AvpValueKind, type AvpValueMap } from "./avp-table.js";
import type { AvpType } from "./constants.js";

/** Why a value did not decode; the message layer turns it into a WireError with an action. */
export interface AvpValueError {
  readonly code: "bad-length" | "bad-value";
  readonly reason: string;
  readonly value?: number;
}

interface KindCodec<T> {
  decode(v: Uint8Array): Result<T, AvpValueError>;
  encode(x: T): Buffer;
}

type KindCodecs = { readonly [K in AvpValueKind]: KindCodec<AvpKindValueMap[K]> };

function view(v: Uint8Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

/** RFC 2661 octet strings are kept byte for byte: latin1 maps each octet to one UTF-16 unit. */
function octetsToString(v: Uint8Array): string {
  return view(v).toString("latin1");
}

/**
 * Strings the decoder produced (all code units <= 0xff) go back out byte for byte; a string with
 * wider characters is sent as UTF-8 (RFC 2661 4.4.2 asks for UTF-8 human-readable text).
 */
function stringToOctets(s: string): Buffer {
  // eslint-disable-next-line no-control-regex -- the range is the whole latin1 plane
  return /^[\u0000-\u00ff]*$/.test(s) ? Buffer.from(s, "latin1") : Buffer.from(s, "utf8");
}

function u16(v: Uint8Array, at: number): number {
  return ((v[at] ?? 0) << 8) | (v[at + 1] ?? 0);
}

function u32(v: Uint8Array, at: number): number {
  return (v[at] ?? 0) * 0x1000000 + (((v[at + 1] ?? 0) << 16) | ((v[at + 2] ?? 0) << 8) | (v[at + 3] ?? 0));
}

function fixed(bytes: number, write: (b: Buffer) => void): Buffer {
  const b = Buffer.alloc(bytes);
  write(b);
  return b;
}

const CODECS: KindCodecs = {
  "message-type": {
    decode: (v) => ok(u16(v, 0)),
    encode: (x) => fixed(2, (b) => b.writeUInt16BE(x, 0)),
  },
  // RFC 2661 4.4.2: Result Code (2), then optionally Error Code (2), then optionally Error Message.
  "result-code": {
    decode: (v) => {
      if (v.length === 3) return err({ code: "bad-length", reason: "Result Code AVP value of 3 octets (must be 2, 4 or more)", value: 3 });
      const resultCode = u16(v, 0);
      if (v.length === 2) return ok({ resultCode });
      const errorCode = u16(v, 2);
      if (v.length === 4) return ok({ resultCode, errorCode });
      return ok({ resultCode, errorCode, errorMessage: octetsToString(v.subarray(4)) });
    },
    encode: (x) => {
      if (x.errorCode === undefined) {
        if (x.errorMessage !== undefined) throw new RangeError("Result Code: an Error Message needs an Error Code (RFC 2661 4.4.2)");
        return fixed(2, (b) => b.writeUInt16BE(x.resultCode, 0));
      }
      const head = fixed(4, (b) => {
        b.writeUInt16BE(x.resultCode, 0);
        b.writeUInt16BE(x.errorCode ?? 0, 2);
      });
      return x.errorMessage === undefined ? head : Buffer.concat([head, stringToOctets(x.errorMessage)]);
    },
  },
  "protocol-version": {
    decode: (v) => ok({ version: v[0] ?? 0, revision: v[1] ?? 0 }),
    encode: (x) => Buffer.from([x.version, x.revision]),
  },
  u16: {
    decode: (v) => ok(u16(v, 0)),
    encode: (x) => fixed(2, (b) => b.writeUInt16BE(x, 0)),
  },
  u32: {
    decode: (v) => ok(u32(v, 0)),
    encode: (x) => fixed(4, (b) => b.writeUInt32BE(x, 0)),
  },
  // RFC 2661 4.4.3 defines 4 octets; a 2-octet value (l2tpns's test LAC) is read as its value.
  capabilities: {
    decode: (v) => (v.length === 2 ? ok(u16(v, 0)) : v.length === 4 ? ok(u32(v, 0)) : err({ code: "bad-length", reason: `capabilities of ${v.length} octets (must be 4, or 2)`, value: v.length })),
    encode: (x) => fixed(4, (b) => b.writeUInt32BE(x, 0)),
  },
  u64: {
    decode: (v) => ok(view(v).readBigUInt64BE(0)),
    encode: (x) => fixed(8, (b) => b.writeBigUInt64BE(x, 0)),
  },
  string: {
    decode: (v) => ok(octetsToString(v)),
    encode: (x) => stringToOctets(x),
  },
  bytes: {
    // A copy: the receive buffer is reused by the caller.
    decode: (v) => ok(Buffer.from(v)),
    encode: (x) => Buffer.from(x),
  },
  // RFC 2661 4.4.3: Cause Code (2), Cause Msg (1), optional Advisory Msg.
  q931: {
    decode: (v) => {
      const causeCode = u16(v, 0);
      const causeMsg = v[2] ?? 0;
      return v.length > 3 ? ok({ causeCode, causeMsg, advisory: octetsToString(v.subarray(3)) }) : ok({ causeCode, causeMsg });
    },
    encode: (x) => {
      const head = fixed(3, (b) => {
        b.writeUInt16BE(x.causeCode, 0);
        b.writeUInt8(x.causeMsg, 2);
      });
      return x.advisory === undefined ? head : Buffer.concat([head, stringToOctets(x.advisory)]);
    },
  },
  // RFC 2661 4.4.6: Reserved (2), then six 32-bit counters.
  "call-errors": {
    decode: (v) =>
      ok({
        crcErrors: u32(v, 2),
        framingErrors: u32(v, 6),
        hardwareOverruns: u32(v, 10),
        bufferOverruns: u32(v, 14),
        timeoutErrors: u32(v, 18),
        alignmentErrors: u32(v, 22),
      }),
    encode: (x) =>
      fixed(26, (b) => {
        b.writeUInt32BE(x.crcErrors, 2);
        b.writeUInt32BE(x.framingErrors, 6);
        b.writeUInt32BE(x.hardwareOverruns, 10);
        b.writeUInt32BE(x.bufferOverruns, 14);
        b.writeUInt32BE(x.timeoutErrors, 18);
        b.writeUInt32BE(x.alignmentErrors, 22);
      }),
  },
  // RFC 2661 4.4.6: Reserved (2), Send ACCM (4), Receive ACCM (4).
  accm: {
    decode: (v) => ok({ sendAccm: u32(v, 2), receiveAccm: u32(v, 6) }),
    encode: (x) =>
      fixed(10, (b) => {
        b.writeUInt32BE(x.sendAccm, 2);
        b.writeUInt32BE(x.receiveAccm, 6);
      }),
  },
  // RFC 3145 3.1: Disconnect Code (2), Control Protocol Number (2), Direction (1), optional Message.
  "ppp-disconnect-cause": {
    decode: (v) => {
      const base = { disconnectCode: u16(v, 0), controlProtocol: u16(v, 2), direction: v[4] ?? 0 };
      return v.length > 5 ? ok({ ...base, message: octetsToString(v.subarray(5)) }) : ok(base);
    },
    encode: (x) => {
      const head = fixed(5, (b) => {
        b.writeUInt16BE(x.disconnectCode, 0);
        b.writeUInt16BE(x.controlProtocol, 2);
        b.writeUInt8(x.direction, 4);
      });
      return x.message === undefined ? head : Buffer.concat([head, stringToOctets(x.message)]);
    },
  },
  empty: {
    decode: () => ok(true),
    encode: () => Buffer.alloc(0),
  },
};

/**
 * The codec for a known AVP type. AVP_TABLE ties each type to a kind and AvpValueMap is derived
 * from the same table, but TypeScript cannot follow that through a generic index: this is the one
 * type assertion of the L2TP codec.
 */
function codecFor<K extends AvpType>(type: K): KindCodec<AvpValueMap[K]> {
  return CODECS[AVP_TABLE[type].kind] as KindCodec<AvpValueMap[K]>;
}

/**
 * Decodes the value octets of a known AVP: checks the table's length range and non-zero rule, then
 * runs the kind's codec.
 */
export function decodeAvpValue<K extends AvpType>(type: K, v: Uint8Array): Result<AvpValueMap[K], AvpValueError> {
  const spec: AvpSpec = AVP_TABLE[type];
  if (v.length < spec.minLength || v.length > spec.maxLength) {
    const want = spec.minLength === spec.maxLength ? `${spec.minLength}` : `${spec.minLength}..${spec.maxLength}`;
    return err({ code: "bad-length", reason: `${spec.name} AVP value of ${v.length} octets (must be ${want})`, value: v.length });
  }
  const r = codecFor(type).decode(v);
  if (spec.nonZero === true && r.ok && r.value === 0) {
    return err({ code: "bad-value", reason: `${spec.name} of 0 (RFC 2661 5.3: 0 is never assigned)`, value: 0 });
  }
  return r;
}

/** Encodes the value octets of a known AVP; throws RangeError on a value the table does not allow. */
export function encodeAvpValue<K extends AvpType>(type: K, x: AvpValueMap[K]): Buffer {
  const spec: AvpSpec = AVP_TABLE[type];
  const out = codecFor(type).encode(x);
  if (out.length < spec.minLength || out.length > spec.maxLength) {
    throw new RangeError(`${spec.name} AVP value of ${out.length} octets (allowed ${spec.minLength}..${spec.maxLength})`);
  }
  return out;
}
