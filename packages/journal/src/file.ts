// Journal file layout: the magic "LNSJ", then frames; a frame is u32 LE payload length, u32 LE
// CRC-32 of the payload, the payload (a protobuf message). The first frame is the FileHeader, the
// rest Entries. Pure and total: parseJournalFile never throws on bytes read back from disk.
import { crc32 } from "node:zlib";
import { JOURNAL_MAGIC, decodeEntry, decodeFileHeader, type Entry, type FileHeader } from "./schema.js";

export const FRAME_HEADER_BYTES = 8;
/** Larger frames are not written; a length above it is damage. */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;

export function encodeFrame(payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  frame.writeUInt32LE(payload.length, 0);
  frame.writeUInt32LE(crc32(payload), 4);
  frame.set(payload, FRAME_HEADER_BYTES);
  return frame;
}

export function encodeFileStart(header: FileHeader, encodeHeader: (h: FileHeader) => Buffer): Buffer {
  return Buffer.concat([JOURNAL_MAGIC, encodeFrame(encodeHeader(header))]);
}

export type ParsedFile =
  | {
      ok: true;
      /** null when the file ends before its header is whole (a file created just before a crash). */
      header: FileHeader | null;
      entries: Entry[];
      /** Set when the last frame is incomplete or fails its checksum: it was being written. */
      tornAt: number | null;
    }
  | { ok: false; code: "corrupt" | "incompatible"; error: string };

type Frame = { kind: "frame"; payload: Buffer; end: number } | { kind: "torn" } | { kind: "corrupt"; error: string };

function readFrame(bytes: Buffer, at: number): Frame {
  const left = bytes.length - at;
  if (left < FRAME_HEADER_BYTES) return { kind: "torn" };
  const length = bytes.readUInt32LE(at);
  if (length > MAX_FRAME_BYTES) {
    return left >= FRAME_HEADER_BYTES + length ? { kind: "corrupt", error: `frame length ${length} at ${at}` } : { kind: "torn" };
  }
  const end = at + FRAME_HEADER_BYTES + length;
  if (end > bytes.length) return { kind: "torn" };
  const payload = bytes.subarray(at + FRAME_HEADER_BYTES, end);
  if (crc32(payload) !== bytes.readUInt32LE(at + 4)) {
    // The last frame of the file may have been half written; one before it was not.
    return end === bytes.length ? { kind: "torn" } : { kind: "corrupt", error: `checksum mismatch in frame at ${at}` };
  }
  return { kind: "frame", payload, end };
}

/** `compatible` sees the header before any entry is decoded. */
export function parseJournalFile(bytes: Buffer, compatible: (h: FileHeader) => boolean): ParsedFile {
  const magicLength = JOURNAL_MAGIC.length;
  if (bytes.length < magicLength) {
    return JOURNAL_MAGIC.subarray(0, bytes.length).equals(bytes)
      ? { ok: true, header: null, entries: [], tornAt: 0 }
      : { ok: false, code: "corrupt", error: "not a journal file (magic)" };
  }
  if (!bytes.subarray(0, magicLength).equals(JOURNAL_MAGIC)) {
    return { ok: false, code: "corrupt", error: "not a journal file (magic)" };
  }
  const first = readFrame(bytes, magicLength);
  if (first.kind === "torn") return { ok: true, header: null, entries: [], tornAt: magicLength };
  if (first.kind === "corrupt") return { ok: false, code: "corrupt", error: first.error };
  const header = decodeFileHeader(first.payload);
  if (!header.ok) return { ok: false, code: "corrupt", error: header.error };
  if (!compatible(header.value)) {
    const h = header.value;
    return { ok: false, code: "incompatible", error: `written by schema ${h.schemaVersion} (lnsd ${h.lnsdVersion})` };
  }
  const entries: Entry[] = [];
  let at = first.end;
  while (at < bytes.length) {
    const frame = readFrame(bytes, at);
    if (frame.kind === "torn") return { ok: true, header: header.value, entries, tornAt: at };
    if (frame.kind === "corrupt") return { ok: false, code: "corrupt", error: frame.error };
    const entry = decodeEntry(frame.payload);
    if (!entry.ok) return { ok: false, code: "corrupt", error: `entry at ${at}: ${entry.error}` };
    entries.push(entry.value);
    at = frame.end;
  }
  return { ok: true, header: header.value, entries, tornAt: null };
}
