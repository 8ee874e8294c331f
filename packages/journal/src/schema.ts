// The journal's protobuf schema, version 1 (protobufjs, parsed from the text below when the module
// loads, so it works from dist/ and from a Debian package with no .proto file to find). The cluster
// ships the same Entry messages. Pure: no fs, no clock; decoders are total (STYLE.md).
import protobuf from "protobufjs";

/** Bumped when a reader of the old schema could not read the new one. */
export const JOURNAL_SCHEMA_VERSION = 1;

/** The first four bytes of every journal file (snapshot and segment). */
export const JOURNAL_MAGIC = Buffer.from("LNSJ", "latin1");

export const JOURNAL_PROTO = `
syntax = "proto3";
package lnsd.journal.v1;

enum BodyFormat {
  BODY_FORMAT_UNSPECIFIED = 0;
  BODY_FORMAT_JSON = 1;      // UTF-8 JSON of the owner's record
  BODY_FORMAT_PROTOBUF = 2;  // reserved for a later protobuf record schema
}

enum FileKind {
  FILE_KIND_UNSPECIFIED = 0;
  FILE_KIND_SNAPSHOT = 1;    // every live record at base_version, record_count of them
  FILE_KIND_SEGMENT = 2;     // entries with versions after base_version
}

// After the magic, the first frame of every file.
message FileHeader {
  uint32 schema_version = 1;
  string lnsd_version = 2;
  uint64 node_started_at_ms = 3;
  uint64 created_at_ms = 4;
  FileKind file_kind = 5;
  uint64 base_version = 6;
  uint64 record_count = 7;
}

message Upsert {
  string kind = 1;           // "tunnel", "session", ...
  string id = 2;
  BodyFormat format = 3;
  bytes body = 4;
}

message Delete {
  string kind = 1;
  string id = 2;
}

// One change. An entry with no change is a mark: "the state was current at time_ms".
message Entry {
  uint64 version = 1;
  uint64 time_ms = 2;
  oneof change {
    Upsert upsert = 3;
    Delete delete = 4;
  }
}
`;

const root = protobuf.parse(JOURNAL_PROTO).root;
const FileHeaderType = root.lookupType("lnsd.journal.v1.FileHeader");
const EntryType = root.lookupType("lnsd.journal.v1.Entry");

export type BodyFormat = "json" | "protobuf";
export type FileKind = "snapshot" | "segment";

/** Record kinds lnsd writes today; the schema takes any string. */
export type RecordKind = "tunnel" | "session" | (string & {});

export interface FileHeader {
  schemaVersion: number;
  lnsdVersion: string;
  nodeStartedAtMs: number;
  createdAtMs: number;
  fileKind: FileKind;
  baseVersion: number;
  recordCount: number;
}

export type Change =
  | { op: "upsert"; kind: RecordKind; id: string; format: BodyFormat; body: Uint8Array }
  | { op: "delete"; kind: RecordKind; id: string };

export interface Entry {
  version: number;
  timeMs: number;
  /** null: a mark (the writer was alive and the state current at timeMs). */
  change: Change | null;
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; error: string };

const bodyFormatToWire: Record<BodyFormat, string> = { json: "BODY_FORMAT_JSON", protobuf: "BODY_FORMAT_PROTOBUF" };
const fileKindToWire: Record<FileKind, string> = { snapshot: "FILE_KIND_SNAPSHOT", segment: "FILE_KIND_SEGMENT" };

const toObjectOptions: protobuf.IConversionOptions = { longs: Number, enums: String, defaults: true, oneofs: true };

export function encodeFileHeader(h: FileHeader): Buffer {
  const msg = FileHeaderType.fromObject({ ...h, fileKind: fileKindToWire[h.fileKind] });
  return Buffer.from(FileHeaderType.encode(msg).finish());
}

export function encodeEntry(e: Entry): Buffer {
  const c = e.change;
  let change: Record<string, unknown> = {};
  if (c !== null) {
    switch (c.op) {
      case "upsert":
        change = { upsert: { kind: c.kind, id: c.id, format: bodyFormatToWire[c.format], body: c.body } };
        break;
      case "delete":
        change = { delete: { kind: c.kind, id: c.id } };
        break;
      default: {
        const never: never = c;
        return never;
      }
    }
  }
  const msg = EntryType.fromObject({ version: e.version, timeMs: e.timeMs, ...change });
  return Buffer.from(EntryType.encode(msg).finish());
}

function decodeObject(type: protobuf.Type, bytes: Uint8Array): Decoded<Record<string, unknown>> {
  try {
    const obj: Record<string, unknown> = type.toObject(type.decode(bytes), toObjectOptions);
    return { ok: true, value: obj };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

function field<T>(obj: Record<string, unknown>, name: string, check: (v: unknown) => v is T): T | undefined {
  const v = obj[name];
  return check(v) ? v : undefined;
}
const isNumber = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
const isString = (v: unknown): v is string => typeof v === "string";
const isBytes = (v: unknown): v is Uint8Array => v instanceof Uint8Array;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;

export function decodeFileHeader(bytes: Uint8Array): Decoded<FileHeader> {
  const d = decodeObject(FileHeaderType, bytes);
  if (!d.ok) return d;
  const o = d.value;
  const schemaVersion = field(o, "schemaVersion", isNumber);
  const lnsdVersion = field(o, "lnsdVersion", isString);
  const nodeStartedAtMs = field(o, "nodeStartedAtMs", isNumber);
  const createdAtMs = field(o, "createdAtMs", isNumber);
  const baseVersion = field(o, "baseVersion", isNumber);
  const recordCount = field(o, "recordCount", isNumber);
  const kind = o.fileKind;
  const fileKind = kind === "FILE_KIND_SNAPSHOT" ? "snapshot" : kind === "FILE_KIND_SEGMENT" ? "segment" : undefined;
  if (schemaVersion === undefined || lnsdVersion === undefined || nodeStartedAtMs === undefined ||
      createdAtMs === undefined || baseVersion === undefined || recordCount === undefined || fileKind === undefined) {
    return { ok: false, error: "file header: a field is missing or out of range" };
  }
  return { ok: true, value: { schemaVersion, lnsdVersion, nodeStartedAtMs, createdAtMs, fileKind, baseVersion, recordCount } };
}

export function decodeEntry(bytes: Uint8Array): Decoded<Entry> {
  const d = decodeObject(EntryType, bytes);
  if (!d.ok) return d;
  const o = d.value;
  const version = field(o, "version", isNumber);
  const timeMs = field(o, "timeMs", isNumber);
  if (version === undefined || timeMs === undefined) return { ok: false, error: "entry: version or time out of range" };
  const which = o.change;
  if (which === undefined) return { ok: true, value: { version, timeMs, change: null } };
  const sub = which === "upsert" ? o.upsert : which === "delete" ? o.delete : undefined;
  if (!isObject(sub)) return { ok: false, error: "entry: unknown change" };
  const kind = field(sub, "kind", isString);
  const id = field(sub, "id", isString);
  if (kind === undefined || id === undefined || kind === "") return { ok: false, error: "entry: record key missing" };
  if (which === "delete") return { ok: true, value: { version, timeMs, change: { op: "delete", kind, id } } };
  const body = field(sub, "body", isBytes);
  const format = sub.format === "BODY_FORMAT_JSON" ? "json" : sub.format === "BODY_FORMAT_PROTOBUF" ? "protobuf" : undefined;
  if (body === undefined || format === undefined) return { ok: false, error: "entry: body or format missing" };
  return { ok: true, value: { version, timeMs, change: { op: "upsert", kind, id, format, body } } };
}

/** A JSON record body (the L2TP and PPP records are JSON-serialisable objects). */
export function encodeJsonBody(value: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(value), "utf8");
}

export function decodeJsonBody(body: Uint8Array): Decoded<unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8"));
    return { ok: true, value };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

export function upsertJson(kind: RecordKind, id: string, value: unknown): Change {
  return { op: "upsert", kind, id, format: "json", body: encodeJsonBody(value) };
}
