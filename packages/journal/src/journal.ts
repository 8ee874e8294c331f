// JournalWriter and readJournal: the files of one state directory. The writer runs on the control
// loop (the one writer of records): append() buffers, flush() writes (page cache, no fsync) and is
// the output commit point; compact() writes a snapshot atomically and starts a new segment.
import { join } from "node:path";
import { encodeFileStart, encodeFrame, parseJournalFile } from "./file.js";
import { nodeJournalFs, type JournalFs } from "./fs.js";
import {
  JOURNAL_SCHEMA_VERSION, encodeEntry, encodeFileHeader,
  type BodyFormat, type Change, type FileHeader, type RecordKind,
} from "./schema.js";

export interface StoredRecord {
  version: number;
  format: BodyFormat;
  body: Uint8Array;
}

/** kind -> id -> record. */
export type JournalRecords = Map<RecordKind, Map<string, StoredRecord>>;

/** Every live record as of `version`. */
export interface Snapshot {
  version: number;
  records: JournalRecords;
}

export function emptySnapshot(): Snapshot {
  return { version: 0, records: new Map() };
}

const SNAPSHOT_PREFIX = "snapshot-";
const SEGMENT_PREFIX = "segment-";
const SUFFIX = ".lnsj";
const TMP_SUFFIX = ".tmp";

function fileName(prefix: string, version: number): string {
  return `${prefix}${String(version).padStart(16, "0")}${SUFFIX}`;
}

/** The version in a snapshot-/segment- file name, or null for any other name. */
function versionOf(name: string, prefix: string): number | null {
  if (!name.startsWith(prefix) || !name.endsWith(SUFFIX)) return null;
  const digits = name.slice(prefix.length, name.length - SUFFIX.length);
  if (!/^[0-9]{1,16}$/.test(digits)) return null;
  return Number(digits);
}

export interface JournalWriterOptions {
  dir: string;
  lnsdVersion: string;
  nodeStartedAtMs: number;
  /** The state to start from: what readJournal restored, or emptySnapshot(). */
  snapshot: Snapshot;
  wallClockMs?: () => number;
  fs?: JournalFs;
  /** Write what is buffered at the end of the event-loop turn if the caller did not flush. Default true. */
  autoFlush?: boolean;
}

export interface AppendEntry {
  version: number;
  change: Change;
}

export class JournalWriter {
  readonly dir: string;
  private readonly fs: JournalFs;
  private readonly wallClockMs: () => number;
  private readonly lnsdVersion: string;
  private readonly nodeStartedAtMs: number;
  private readonly autoFlush: boolean;
  private fd: number | null = null;
  private pending: Buffer[] = [];
  private immediate: NodeJS.Immediate | null = null;
  private lastVersion: number;
  /** Bytes handed to write(2) since open, all files. */
  bytesWritten = 0;

  private constructor(options: JournalWriterOptions) {
    this.dir = options.dir;
    this.fs = options.fs ?? nodeJournalFs;
    this.wallClockMs = options.wallClockMs ?? Date.now;
    this.lnsdVersion = options.lnsdVersion;
    this.nodeStartedAtMs = options.nodeStartedAtMs;
    this.autoFlush = options.autoFlush ?? true;
    this.lastVersion = options.snapshot.version;
  }

  /** Writes options.snapshot, starts a segment after it and removes every other journal file. */
  static open(options: JournalWriterOptions): JournalWriter {
    const writer = new JournalWriter(options);
    writer.fs.mkdirSync(writer.dir);
    writer.rotate(options.snapshot);
    return writer;
  }

  /** The version of the last change appended. */
  get version(): number {
    return this.lastVersion;
  }

  /** Buffers one change; it reaches the page cache at flush() or at the end of this event-loop turn. */
  append(entry: AppendEntry): void {
    if (this.fd === null) throw new Error("journal: append after close");
    if (!Number.isSafeInteger(entry.version) || entry.version <= this.lastVersion) {
      throw new RangeError(`journal: version ${entry.version} after ${this.lastVersion}`);
    }
    this.lastVersion = entry.version;
    this.push(encodeFrame(encodeEntry({ version: entry.version, timeMs: this.wallClockMs(), change: entry.change })));
  }

  /** Records that the state is current now (for state_max_age), without a change. */
  mark(): void {
    if (this.fd === null) throw new Error("journal: mark after close");
    this.push(encodeFrame(encodeEntry({ version: this.lastVersion, timeMs: this.wallClockMs(), change: null })));
  }

  /** The output commit point: one write(2) of what is buffered; no fsync. */
  flush(): void {
    if (this.immediate !== null) {
      clearImmediate(this.immediate);
      this.immediate = null;
    }
    if (this.pending.length === 0 || this.fd === null) return;
    const buf = this.pending.length === 1 ? this.pending[0] ?? Buffer.alloc(0) : Buffer.concat(this.pending);
    this.pending = [];
    this.fs.writeSync(this.fd, buf);
    this.bytesWritten += buf.length;
  }

  /**
   * Replaces the journal with `snapshot` (which must be the state at this.version): the snapshot
   * file is written to a temporary name, fsynced and renamed, a new segment starts after it, and the
   * older files are removed. A crash anywhere in between leaves a directory readJournal replays to
   * the same state.
   */
  compact(snapshot: Snapshot): void {
    if (this.fd === null) throw new Error("journal: compact after close");
    if (snapshot.version !== this.lastVersion) {
      throw new RangeError(`journal: snapshot at ${snapshot.version}, journal at ${this.lastVersion}`);
    }
    this.flush();
    this.fs.closeSync(this.fd);
    this.fd = null;
    this.rotate(snapshot);
  }

  /** Flush, mark the time, fsync and close (SIGTERM: the sessions are kept). */
  close(): void {
    if (this.fd === null) return;
    this.mark();
    this.flush();
    this.fs.fsyncSync(this.fd);
    this.fs.closeSync(this.fd);
    this.fd = null;
  }

  private push(frame: Buffer): void {
    this.pending.push(frame);
    if (this.autoFlush && this.immediate === null) {
      this.immediate = setImmediate(() => {
        this.immediate = null;
        this.flush();
      });
    }
  }

  private header(fileKind: FileHeader["fileKind"], baseVersion: number, recordCount: number): FileHeader {
    return {
      schemaVersion: JOURNAL_SCHEMA_VERSION,
      lnsdVersion: this.lnsdVersion,
      nodeStartedAtMs: this.nodeStartedAtMs,
      createdAtMs: this.wallClockMs(),
      fileKind,
      baseVersion,
      recordCount,
    };
  }

  private write(fd: number, buf: Buffer): void {
    this.fs.writeSync(fd, buf);
    this.bytesWritten += buf.length;
  }

  private fsyncDir(): void {
    const dirFd = this.fs.openSync(this.dir, "r");
    try {
      this.fs.fsyncSync(dirFd);
    } finally {
      this.fs.closeSync(dirFd);
    }
  }

  private rotate(snapshot: Snapshot): void {
    const v = snapshot.version;
    const snapshotName = fileName(SNAPSHOT_PREFIX, v);
    const segmentName = fileName(SEGMENT_PREFIX, v);
    const tmp = join(this.dir, snapshotName + TMP_SUFFIX);
    const frames: Buffer[] = [];
    const timeMs = this.wallClockMs();
    for (const [kind, byId] of snapshot.records) {
      for (const [id, r] of byId) {
        const change: Change = { op: "upsert", kind, id, format: r.format, body: r.body };
        frames.push(encodeFrame(encodeEntry({ version: r.version, timeMs, change })));
      }
    }
    const snapFd = this.fs.openSync(tmp, "w");
    try {
      this.write(snapFd, encodeFileStart(this.header("snapshot", v, frames.length), encodeFileHeader));
      this.write(snapFd, Buffer.concat(frames));
      this.fs.fsyncSync(snapFd);
    } finally {
      this.fs.closeSync(snapFd);
    }
    this.fs.renameSync(tmp, join(this.dir, snapshotName));
    this.fsyncDir();
    const fd = this.fs.openSync(join(this.dir, segmentName), "w");
    this.fd = fd;
    this.write(fd, encodeFileStart(this.header("segment", v, 0), encodeFileHeader));
    this.fsyncDir();
    for (const name of this.fs.readdirSync(this.dir)) {
      if (name === snapshotName || name === segmentName) continue;
      const ours = versionOf(name, SNAPSHOT_PREFIX) !== null || versionOf(name, SEGMENT_PREFIX) !== null ||
        (name.startsWith(SNAPSHOT_PREFIX) && name.endsWith(TMP_SUFFIX));
      if (ours) this.fs.unlinkSync(join(this.dir, name));
    }
  }
}

export interface ReadJournalOptions {
  /** state_max_age: state last current longer ago than this is refused. */
  maxAgeMs: number;
  /** Default: the header's schema version is JOURNAL_SCHEMA_VERSION. */
  compatible?: (header: FileHeader) => boolean;
  wallClockMs?: () => number;
  fs?: Pick<JournalFs, "readdirSync" | "readFileSync">;
}

export type JournalState =
  | {
      ok: true;
      records: JournalRecords;
      /** The last version applied. */
      version: number;
      /** When the state was last known current: the newest entry or mark, else the snapshot's creation. */
      writtenAtMs: number;
      /** The snapshot's header (lnsd version, node start). */
      header: FileHeader;
      /** Not fatal: a torn last record was ignored. */
      warnings: string[];
    }
  | { ok: false; code: "none" | "too-old" | "incompatible" | "corrupt"; reason: string };

function fail(code: "none" | "too-old" | "incompatible" | "corrupt", reason: string): JournalState {
  return { ok: false, code, reason };
}

/** Snapshot + the segments after it, replayed. Never throws. */
export function readJournal(dir: string, options: ReadJournalOptions): JournalState {
  const fs = options.fs ?? nodeJournalFs;
  const compatible = options.compatible ?? ((h: FileHeader) => h.schemaVersion === JOURNAL_SCHEMA_VERSION);
  try {
    return replay(dir, fs, compatible, options.maxAgeMs, (options.wallClockMs ?? Date.now)());
  } catch (err) {
    if (err instanceof Error && "code" in err && err.code === "ENOENT" && err.message.includes(dir)) {
      return fail("none", `${dir}: no state directory`);
    }
    return fail("corrupt", `${dir}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function replay(
  dir: string,
  fs: Pick<JournalFs, "readdirSync" | "readFileSync">,
  compatible: (header: FileHeader) => boolean,
  maxAgeMs: number,
  nowMs: number,
): JournalState {
  const names = fs.readdirSync(dir);
  const snapshots: number[] = [];
  const segments: number[] = [];
  for (const name of names) {
    const s = versionOf(name, SNAPSHOT_PREFIX);
    if (s !== null) snapshots.push(s);
    const g = versionOf(name, SEGMENT_PREFIX);
    if (g !== null) segments.push(g);
  }
  if (snapshots.length === 0) {
    return segments.length === 0 ? fail("none", `${dir}: no state`) : fail("corrupt", `${dir}: segments without a snapshot`);
  }
  const base = Math.max(...snapshots);
  const snapshotName = fileName(SNAPSHOT_PREFIX, base);
  const snap = parseJournalFile(fs.readFileSync(join(dir, snapshotName)), compatible);
  if (!snap.ok) return fail(snap.code, `${snapshotName}: ${snap.error}`);
  const header = snap.header;
  if (header === null || snap.tornAt !== null) return fail("corrupt", `${snapshotName}: incomplete`);
  if (header.fileKind !== "snapshot" || header.baseVersion !== base || header.recordCount !== snap.entries.length) {
    return fail("corrupt", `${snapshotName}: header does not match its records`);
  }
  const records: JournalRecords = new Map();
  for (const e of snap.entries) {
    if (e.change?.op !== "upsert" || e.version > base) return fail("corrupt", `${snapshotName}: not a snapshot record`);
    const { kind, id, format, body } = e.change;
    let byId = records.get(kind);
    if (byId === undefined) records.set(kind, (byId = new Map<string, StoredRecord>()));
    byId.set(id, { version: e.version, format, body });
  }

  let version = base;
  let writtenAtMs = header.createdAtMs;
  const warnings: string[] = [];
  // Segments older than the snapshot are left over from a compaction cut short: it holds them.
  const after = segments.filter((g) => g >= base).sort((a, b) => a - b);
  for (const [i, g] of after.entries()) {
    const name = fileName(SEGMENT_PREFIX, g);
    const last = i === after.length - 1;
    const seg = parseJournalFile(fs.readFileSync(join(dir, name)), compatible);
    if (!seg.ok) return fail(seg.code, `${name}: ${seg.error}`);
    if (seg.tornAt !== null) {
      if (!last) return fail("corrupt", `${name}: torn at byte ${seg.tornAt}, and a later segment exists`);
      warnings.push(`${name}: torn last record at byte ${seg.tornAt} ignored`);
    }
    if (seg.header !== null && (seg.header.fileKind !== "segment" || seg.header.baseVersion !== g)) {
      return fail("corrupt", `${name}: header does not match its name`);
    }
    for (const e of seg.entries) {
      if (e.change === null) {
        if (e.version < version) return fail("corrupt", `${name}: mark at version ${e.version} after ${version}`);
      } else {
        if (e.version <= version) return fail("corrupt", `${name}: version ${e.version} after ${version}`);
        version = e.version;
        const c = e.change;
        switch (c.op) {
          case "upsert": {
            let byId = records.get(c.kind);
            if (byId === undefined) records.set(c.kind, (byId = new Map<string, StoredRecord>()));
            byId.set(c.id, { version: e.version, format: c.format, body: c.body });
            break;
          }
          case "delete": {
            const byId = records.get(c.kind);
            byId?.delete(c.id);
            if (byId?.size === 0) records.delete(c.kind);
            break;
          }
          default: {
            const never: never = c;
            return never;
          }
        }
      }
      writtenAtMs = Math.max(writtenAtMs, e.timeMs);
    }
  }
  const ageMs = nowMs - writtenAtMs;
  if (ageMs > maxAgeMs) {
    return fail("too-old", `state last written ${Math.round(ageMs / 1000)} s ago, state_max_age is ${Math.round(maxAgeMs / 1000)} s`);
  }
  return { ok: true, records, version, writtenAtMs, header, warnings };
}
