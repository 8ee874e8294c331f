// Configuration Options (RFC 1661 6): Type, Length, Data. One generic codec for LCP, IPCP, IPV6CP
// and CCP, driven by per-protocol option tables (type, RFC name, value kind, valid lengths).
// Options not in the table are kept raw so that a Configure-Reject can echo them byte for byte.
import { type WireError, DROP, wireError } from "../errors.js";
import { type Result, err, ok } from "../result.js";
import { PppProtocol } from "./protocols.js";

export type OptionValueKind =
  | "empty"
  | "u16"
  | "u32"
  | "ipv4"
  | "bytes"
  | "auth-protocol"
  | "quality-protocol"
  | "endpoint-discriminator";

export interface OptionSpec {
  readonly type: number;
  /** The RFC's name for the option, for log lines. */
  readonly label: string;
  readonly kind: OptionValueKind;
  /** Valid values of the Length octet (which counts Type and Length). */
  readonly minLength: number;
  readonly maxLength: number;
  readonly rfc: string;
}

/** Option specs keyed by the name the decoded option carries. "unknown" is reserved. */
export type OptionTable = Readonly<Record<string, OptionSpec>>;

/** RFC 1994 3 / IANA: the Algorithm octet of the CHAP Authentication-Protocol option. */
export const ChapAlgorithm = { MD5: 5, MSCHAP: 0x80, MSCHAPv2: 0x81 } as const;

/** RFC 1661 6.2 Authentication-Protocol, with RFC 1334 2.1.1 (PAP) and RFC 1994 3 (CHAP). */
export type AuthProtocolValue =
  | { readonly kind: "pap" }
  | { readonly kind: "chap"; readonly algorithm: number }
  /** Any other protocol (EAP...), kept raw. */
  | { readonly kind: "other"; readonly protocol: number; readonly data: Uint8Array };

/** RFC 1661 6.3 Quality-Protocol: the protocol and its data (RFC 1989 LQR: Reporting-Period). */
export interface QualityProtocolValue {
  readonly protocol: number;
  readonly data: Uint8Array;
}

/** RFC 1990 5.1.3 Endpoint Discriminator. */
export interface EndpointDiscriminatorValue {
  readonly class: number;
  readonly address: Uint8Array;
}

export interface OptionValueTypes {
  readonly empty: undefined;
  readonly u16: number;
  readonly u32: number;
  /** An IPv4 address as an unsigned 32-bit number. */
  readonly ipv4: number;
  readonly bytes: Uint8Array;
  readonly "auth-protocol": AuthProtocolValue;
  readonly "quality-protocol": QualityProtocolValue;
  readonly "endpoint-discriminator": EndpointDiscriminatorValue;
}
export type OptionValue = OptionValueTypes[OptionValueKind];

/** One decoded option of a known type: its table name and a value of the table's kind. */
export type KnownOption<T extends OptionTable> = {
  [N in keyof T & string]: T[N]["kind"] extends "empty"
    ? { readonly name: N }
    : { readonly name: N; readonly value: OptionValueTypes[T[N]["kind"]] };
}[keyof T & string];

/** An option whose type is not in the table: kept as it came (RFC 1661 5.4 echoes it unchanged). */
export interface UnknownOption {
  readonly name: "unknown";
  readonly type: number;
  readonly data: Uint8Array;
}

export type ConfigOption<T extends OptionTable> = KnownOption<T> | UnknownOption;

/** A table with its reverse index, built once per protocol. */
export interface OptionCodec<T extends OptionTable> {
  readonly table: T;
  readonly byType: ReadonlyMap<number, { readonly name: keyof T & string; readonly spec: OptionSpec }>;
}

export function makeOptionCodec<T extends OptionTable>(table: T): OptionCodec<T> {
  const byType = new Map<number, { readonly name: keyof T & string; readonly spec: OptionSpec }>();
  for (const name of Object.keys(table)) {
    const spec = table[name];
    if (spec === undefined || name === "unknown" || byType.has(spec.type)) {
      throw new Error(`option table: bad or duplicate entry ${name}`);
    }
    byType.set(spec.type, { name, spec });
  }
  return { table, byType };
}

/** RFC 1990 5.1.3: address length allowed for each Endpoint Discriminator class, [min, max]. */
const ENDPOINT_CLASS_LENGTHS: ReadonlyMap<number, readonly [number, number]> = new Map<number, readonly [number, number]>([
  [0, [0, 0]], // Null Class
  [1, [1, 20]], // Locally Assigned Address
  [2, [4, 4]], // Internet Protocol (IPv4) Address
  [3, [6, 6]], // IEEE 802.1 Globally Assigned MAC Address
  [4, [4, 20]], // PPP Magic-Number Block (a multiple of 4)
  [5, [1, 15]], // Public Switched Network Directory Number
]);

function u16At(b: Uint8Array, at: number): number {
  return ((b[at] ?? 0) << 8) | (b[at + 1] ?? 0);
}

function u32At(b: Uint8Array, at: number): number {
  return ((b[at] ?? 0) * 0x1000000 + (((b[at + 1] ?? 0) << 16) | ((b[at + 2] ?? 0) << 8) | (b[at + 3] ?? 0)));
}

function badOption(spec: OptionSpec, why: string, value: number): WireError {
  return wireError("bad-length", `${spec.label} option ${why} (${spec.rfc})`, DROP, value);
}

/** The value of one option; `data` excludes Type and Length and its length is already in range. */
function decodeValue(spec: OptionSpec, data: Uint8Array): Result<OptionValue, WireError> {
  switch (spec.kind) {
    case "empty":
      return ok(undefined);
    case "u16":
      return ok(u16At(data, 0));
    case "u32":
    case "ipv4":
      return ok(u32At(data, 0));
    case "bytes":
      return ok(data);
    case "auth-protocol": {
      const protocol = u16At(data, 0);
      const rest = data.subarray(2);
      // RFC 1334 2.1.1: the PAP option has Length 4; RFC 1994 3: the CHAP option has Length 5.
      if (protocol === PppProtocol.PAP) {
        return rest.length === 0 ? ok({ kind: "pap" }) : err(badOption(spec, "for PAP must have Length 4", data.length + 2));
      }
      if (protocol === PppProtocol.CHAP) {
        const algorithm = rest[0];
        return rest.length === 1 && algorithm !== undefined
          ? ok({ kind: "chap", algorithm })
          : err(badOption(spec, "for CHAP must have Length 5", data.length + 2));
      }
      return ok({ kind: "other", protocol, data: rest });
    }
    case "quality-protocol":
      return ok({ protocol: u16At(data, 0), data: data.subarray(2) });
    case "endpoint-discriminator": {
      const cls = data[0] ?? 0;
      const address = data.subarray(1);
      const range = ENDPOINT_CLASS_LENGTHS.get(cls);
      if (range !== undefined) {
        const [min, max] = range;
        if (address.length < min || address.length > max || (cls === 4 && address.length % 4 !== 0)) {
          return err(badOption(spec, `class ${cls} address of ${address.length} octets`, data.length + 2));
        }
      }
      return ok({ class: cls, address });
    }
  }
}

/**
 * Decodes the options in buf[start, end). Values are views of buf. An option shorter than 2,
 * running past `end`, or with a Length its type does not allow is an error (the caller treats
 * the whole packet as malformed).
 */
export function decodeOptions<T extends OptionTable>(
  codec: OptionCodec<T>,
  buf: Uint8Array,
  start: number,
  end: number,
): Result<ConfigOption<T>[], WireError> {
  const options: ConfigOption<T>[] = [];
  let at = start;
  while (at < end) {
    const type = buf[at] ?? 0;
    const length = buf[at + 1];
    if (length === undefined || at + 2 > end) {
      return err(wireError("truncated", `option ${type} has no Length octet (RFC 1661 6)`, DROP, type));
    }
    if (length < 2) return err(wireError("bad-length", `option ${type} Length ${length} below 2 (RFC 1661 6)`, DROP, length));
    if (at + length > end) {
      return err(wireError("bad-length", `option ${type} Length ${length} runs past the packet (RFC 1661 6)`, DROP, length));
    }
    const data = buf.subarray(at + 2, at + length);
    const entry = codec.byType.get(type);
    if (entry === undefined) {
      options.push({ name: "unknown", type, data });
    } else {
      const { name, spec } = entry;
      if (length < spec.minLength || length > spec.maxLength) {
        return err(badOption(spec, `Length ${length} not in ${spec.minLength}..${spec.maxLength}`, length));
      }
      const value = decodeValue(spec, data);
      if (!value.ok) return value;
      options.push(knownOption<T>(name, spec, value.value));
    }
    at += length;
  }
  return ok(options);
}

function knownOption<T extends OptionTable>(name: keyof T & string, spec: OptionSpec, value: OptionValue): ConfigOption<T> {
  // decodeValue produced `value` from the kind of the table entry called `name`, which is exactly
  // what KnownOption<T> states; TypeScript cannot follow that correlation through a generic table.
  const option = spec.kind === "empty" ? { name } : { name, value };
  return option as ConfigOption<T>;
}

/** The shape every ConfigOption<T> has, used by the encoder's runtime dispatch. */
interface AnyOption {
  readonly name: string;
  readonly value?: OptionValue;
  readonly type?: number;
  readonly data?: Uint8Array;
}

function isAuthValue(v: OptionValue): v is AuthProtocolValue {
  return typeof v === "object" && !(v instanceof Uint8Array) && "kind" in v;
}

function isQualityValue(v: OptionValue): v is QualityProtocolValue {
  return typeof v === "object" && !(v instanceof Uint8Array) && "protocol" in v && !("kind" in v);
}

function isEndpointValue(v: OptionValue): v is EndpointDiscriminatorValue {
  return typeof v === "object" && !(v instanceof Uint8Array) && "class" in v;
}

function mismatch(name: string, kind: OptionValueKind): RangeError {
  return new RangeError(`option ${name}: value is not of kind ${kind}`);
}

function u16Bytes(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return b;
}

function u32Bytes(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v);
  return b;
}

function encodeAuth(v: AuthProtocolValue): Uint8Array {
  switch (v.kind) {
    case "pap":
      return u16Bytes(PppProtocol.PAP);
    case "chap":
      return Buffer.concat([u16Bytes(PppProtocol.CHAP), Buffer.from([v.algorithm])]);
    case "other":
      return Buffer.concat([u16Bytes(v.protocol), v.data]);
  }
}

/** The Data field (without Type and Length) of a known option. */
function encodeValue(name: string, kind: OptionValueKind, v: OptionValue): Uint8Array {
  switch (kind) {
    case "empty":
      return new Uint8Array(0);
    case "u16":
      if (typeof v !== "number") throw mismatch(name, kind);
      return u16Bytes(v);
    case "u32":
    case "ipv4":
      if (typeof v !== "number") throw mismatch(name, kind);
      // A negative int32 (from bit operations) is the same 32 bits.
      return u32Bytes(v < 0 ? v >>> 0 : v);
    case "bytes":
      if (!(v instanceof Uint8Array)) throw mismatch(name, kind);
      return v;
    case "auth-protocol":
      if (v === undefined || !isAuthValue(v)) throw mismatch(name, kind);
      return encodeAuth(v);
    case "quality-protocol":
      if (v === undefined || !isQualityValue(v)) throw mismatch(name, kind);
      return Buffer.concat([u16Bytes(v.protocol), v.data]);
    case "endpoint-discriminator":
      if (v === undefined || !isEndpointValue(v)) throw mismatch(name, kind);
      return Buffer.concat([Buffer.from([v.class]), v.address]);
  }
}

/** Type, Length, Data of one option. Throws RangeError on a value that cannot be encoded. */
export function encodeOption<T extends OptionTable>(codec: OptionCodec<T>, option: ConfigOption<T>): Buffer {
  const o: AnyOption = option;
  let type: number;
  let data: Uint8Array;
  if (o.name === "unknown") {
    if (o.type === undefined || o.data === undefined) throw new RangeError("unknown option without type or data");
    type = o.type;
    data = o.data;
  } else {
    const spec = codec.table[o.name];
    if (spec === undefined) throw new RangeError(`option ${o.name} not in the table`);
    type = spec.type;
    data = encodeValue(o.name, spec.kind, o.value);
  }
  if (data.length + 2 > 255) throw new RangeError(`option ${o.name} longer than 255 octets`);
  const out = Buffer.allocUnsafe(data.length + 2);
  out[0] = type;
  out[1] = data.length + 2;
  out.set(data, 2);
  return out;
}

export function encodeOptions<T extends OptionTable>(codec: OptionCodec<T>, options: readonly ConfigOption<T>[]): Buffer {
  return Buffer.concat(options.map((o) => encodeOption(codec, o)));
}

/** The RFC name of an option, for log lines ("Maximum-Receive-Unit", "unknown option 13"). */
export function optionLabel<T extends OptionTable>(codec: OptionCodec<T>, option: ConfigOption<T>): string {
  const o: AnyOption = option;
  if (o.name === "unknown") return `unknown option ${o.type ?? -1}`;
  return codec.table[o.name]?.label ?? o.name;
}
