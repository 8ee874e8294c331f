import t from "tap";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import {
  JOURNAL_SCHEMA_VERSION, JournalWriter, decodeEntry, decodeFileHeader, decodeJsonBody, emptySnapshot, encodeEntry,
  encodeFileHeader, encodeFrame, nodeJournalFs, parseJournalFile, readJournal, upsertJson,
  type Entry, type FileHeader, type JournalFs, type JournalRecords, type Snapshot,
} from "../src/index.js";

const DAY_MS = 86_400_000;

function tempDir(t: { teardown(f: () => unknown): void }): string {
  const dir = fs.mkdtempSync(join(tmpdir(), "lnsd-journal-"));
  t.teardown(() => { fs.rmSync(dir, { recursive: true, force: true }); });
  return dir;
}

let now = 1_800_000_000_000;
const clock = (): number => now;

function open(dir: string, snapshot: Snapshot = emptySnapshot(), fsImpl: JournalFs = nodeJournalFs): JournalWriter {
  return JournalWriter.open({
    dir, lnsdVersion: "0.1.0-test", nodeStartedAtMs: now - 1000, snapshot, wallClockMs: clock, fs: fsImpl, autoFlush: false,
  });
}

/** kind -> id -> decoded JSON, for comparing states. */
function plain(records: JournalRecords): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [kind, byId] of records) {
    const o: Record<string, unknown> = {};
    for (const [id, r] of byId) {
      const d = decodeJsonBody(r.body);
      o[id] = d.ok ? d.value : "undecodable";
    }
    out[kind] = o;
  }
  return out;
}

function read(dir: string) {
  return readJournal(dir, { maxAgeMs: DAY_MS, wallClockMs: clock });
}

void t.test("an entry and a file header survive encode and decode", (t) => {
  const entries: Entry[] = [
    { version: 1, timeMs: now, change: upsertJson("tunnel", "17", { tid: 17, peer: "192.0.2.1", ns: 3 }) },
    { version: 2 ** 53 - 1, timeMs: now + 1, change: { op: "delete", kind: "session", id: "17/5" } },
    { version: 3, timeMs: 0, change: { op: "upsert", kind: "session", id: "x", format: "protobuf", body: new Uint8Array([0, 1, 255]) } },
    { version: 4, timeMs: now, change: null },
  ];
  for (const e of entries) {
    const d = decodeEntry(encodeEntry(e));
    t.ok(d.ok);
    if (d.ok) t.same({ ...d.value, change: d.value.change === null ? null : { ...d.value.change } }, e);
  }
  const h: FileHeader = {
    schemaVersion: JOURNAL_SCHEMA_VERSION, lnsdVersion: "1.2.3", nodeStartedAtMs: now - 5, createdAtMs: now,
    fileKind: "snapshot", baseVersion: 42, recordCount: 7,
  };
  t.same(decodeFileHeader(encodeFileHeader(h)), { ok: true, value: h });
  t.end();
});

void t.test("upserts, deletes and compaction replay to the same records", (t) => {
  const dir = tempDir(t);
  const w = open(dir);
  let v = 0;
  const expected: Record<string, Record<string, unknown>> = { tunnel: {}, session: {} };
  const upsert = (kind: "tunnel" | "session", id: string, value: unknown): void => {
    w.append({ version: ++v, change: upsertJson(kind, id, value) });
    (expected[kind] ??= {})[id] = value;
  };
  const del = (kind: "tunnel" | "session", id: string): void => {
    w.append({ version: ++v, change: { op: "delete", kind, id } });
    delete expected[kind]?.[id];
  };
  upsert("tunnel", "1", { tid: 1, ns: 0 });
  upsert("session", "1/1", { sid: 1, state: "lcp" });
  upsert("session", "1/2", { sid: 2, state: "lcp" });
  upsert("session", "1/1", { sid: 1, state: "online" });
  del("session", "1/2");
  w.flush();
  let r = read(dir);
  t.ok(r.ok);
  if (r.ok) {
    t.same(plain(r.records), { tunnel: expected.tunnel, session: expected.session });
    t.equal(r.version, 5);
    t.same(r.warnings, []);
  }

  // Compact with the state as the store would hold it, then keep going.
  if (!r.ok) return;
  w.compact({ version: r.version, records: r.records });
  t.same(fs.readdirSync(dir).sort(), ["segment-0000000000000005.lnsj", "snapshot-0000000000000005.lnsj"]);
  upsert("tunnel", "2", { tid: 2 });
  del("tunnel", "1");
  now += 1000;
  w.close();
  r = read(dir);
  t.ok(r.ok);
  if (r.ok) {
    t.same(plain(r.records), { tunnel: expected.tunnel, session: expected.session });
    t.equal(r.version, 7);
    t.equal(r.writtenAtMs, now, "close() marks the time");
    t.equal(r.records.get("session")?.get("1/1")?.version, 4, "each record keeps its own version");
  }

  // A restart: open from the restored state; the old files are replaced.
  if (!r.ok) return;
  const w2 = open(dir, { version: r.version, records: r.records });
  w2.append({ version: 8, change: upsertJson("session", "2/1", { sid: 1 }) });
  w2.flush();
  const r2 = read(dir);
  t.ok(r2.ok);
  if (r2.ok) t.same(Object.keys(plain(r2.records).session ?? {}).sort(), ["1/1", "2/1"]);
  t.same(fs.readdirSync(dir).sort(), ["segment-0000000000000007.lnsj", "snapshot-0000000000000007.lnsj"]);
  w2.close();
  t.end();
});

void t.test("a torn last record: every truncation inside it still reads all earlier records", (t) => {
  const dir = tempDir(t);
  const w = open(dir);
  for (let v = 1; v <= 3; v++) w.append({ version: v, change: upsertJson("session", String(v), { v }) });
  w.flush();
  const segment = join(dir, "segment-0000000000000000.lnsj");
  const before = fs.statSync(segment).size;
  w.append({ version: 4, change: upsertJson("session", "4", { v: 4, pad: "x".repeat(100) }) });
  w.close(); // also appends a mark: truncate inside the version-4 record, the mark goes with it
  const whole = fs.readFileSync(segment);
  const recordEnd = before + encodeFrame(encodeEntry({ version: 4, timeMs: now, change: upsertJson("session", "4", { v: 4, pad: "x".repeat(100) }) })).length;
  for (let cut = before; cut < recordEnd; cut++) {
    fs.writeFileSync(segment, whole.subarray(0, cut));
    const r = read(dir);
    if (!r.ok) {
      t.fail(`cut at ${cut}: ${r.reason}`);
      continue;
    }
    if (r.version !== 3 || r.records.get("session")?.size !== 3) t.fail(`cut at ${cut}: version ${r.version}`);
    if (cut > before && r.warnings.length !== 1) t.fail(`cut at ${cut}: no warning`);
  }
  // A garbled (not truncated) last record is torn too; a garbled earlier one is corruption.
  const garbled = Buffer.from(whole);
  garbled.writeUInt8(garbled.readUInt8(garbled.length - 2) ^ 0xff, garbled.length - 2);
  fs.writeFileSync(segment, garbled);
  const last = read(dir);
  t.ok(last.ok && last.version === 4 && last.warnings.length === 1, "garbled last frame: ignored with a warning");
  const early = Buffer.from(whole);
  early.writeUInt8(early.readUInt8(before + 10) ^ 0xff, before + 10);
  fs.writeFileSync(segment, early);
  const r = read(dir);
  t.same(r.ok ? "ok" : r.code, "corrupt", "garbled record before the last: refused");
  t.end();
});

void t.test("garbage bytes never throw", (t) => {
  const dir = tempDir(t);
  const w = open(dir);
  w.append({ version: 1, change: upsertJson("tunnel", "1", { a: 1 }) });
  w.close();
  const valid = fs.readFileSync(join(dir, "segment-0000000000000000.lnsj"));
  const anyHeader = (): boolean => true;
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
    const b = Buffer.from(bytes);
    decodeEntry(b);
    decodeFileHeader(b);
    decodeJsonBody(b);
    parseJournalFile(b, anyHeader);
    // Valid magic and header, garbage after: the interesting path.
    parseJournalFile(Buffer.concat([valid, b]), anyHeader);
  }), { numRuns: 5000 });
  fc.assert(fc.property(fc.nat(valid.length - 1), fc.nat(255), (at, x) => {
    const b = Buffer.from(valid);
    b[at] = x;
    parseJournalFile(b, anyHeader);
  }), { numRuns: 2000 });
  // And readJournal over garbage files.
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: 200 }), (s, g) => {
    fs.writeFileSync(join(dir, "snapshot-0000000000000000.lnsj"), s);
    fs.writeFileSync(join(dir, "segment-0000000000000000.lnsj"), g);
    const r = read(dir);
    return !r.ok || r.version === 0;
  }), { numRuns: 300 });
  t.end();
});

void t.test("state older than state_max_age, or from an incompatible schema, is refused with the reason", (t) => {
  const dir = tempDir(t);
  t.same(read(join(dir, "missing")).ok ? "ok" : "none", "none");
  const w = open(dir);
  w.append({ version: 1, change: upsertJson("tunnel", "1", {}) });
  w.close();
  const written = now;
  const atAge = (ageMs: number, maxAgeMs: number) => readJournal(dir, { maxAgeMs, wallClockMs: () => written + ageMs });
  t.ok(atAge(59_000, 60_000).ok);
  const old = atAge(61_000, 60_000);
  t.same(old.ok ? null : [old.code, old.reason], ["too-old", "state last written 61 s ago, state_max_age is 60 s"]);
  const other = readJournal(dir, { maxAgeMs: DAY_MS, wallClockMs: clock, compatible: (h) => h.schemaVersion === 2 });
  t.same(other.ok ? null : other.code, "incompatible");
  t.match(other.ok ? "" : other.reason, /schema 1 \(lnsd 0\.1\.0-test\)/);
  t.end();
});

void t.test("a crash between the snapshot's rename and the removal of the old files replays to the same state", (t) => {
  for (const crashAt of ["openSegment", "unlink"] as const) {
    const dir = tempDir(t);
    let crash = false;
    const crashing: JournalFs = {
      ...nodeJournalFs,
      openSync(path, flags) {
        if (crash && crashAt === "openSegment" && path.includes("segment-")) throw new Error("crash");
        return nodeJournalFs.openSync(path, flags);
      },
      unlinkSync(path) {
        if (crash && crashAt === "unlink") throw new Error("crash");
        nodeJournalFs.unlinkSync(path);
      },
    };
    const w = open(dir, emptySnapshot(), crashing);
    w.append({ version: 1, change: upsertJson("session", "a", { n: 1 }) });
    w.append({ version: 2, change: upsertJson("session", "b", { n: 2 }) });
    w.append({ version: 3, change: { op: "delete", kind: "session", id: "a" } });
    w.flush();
    const before = read(dir);
    t.ok(before.ok);
    if (!before.ok) return;
    crash = true;
    t.throws(() => { w.compact({ version: before.version, records: before.records }); }, /crash/);
    const files = fs.readdirSync(dir).sort();
    t.ok(files.includes("segment-0000000000000000.lnsj") && files.includes("snapshot-0000000000000003.lnsj"), `${crashAt}: both left: ${files.join(" ")}`);
    const after = read(dir);
    t.ok(after.ok);
    if (after.ok) {
      t.same(plain(after.records), plain(before.records), `${crashAt}: same records`);
      t.equal(after.version, 3);
    }
  }
  t.end();
});

void t.test("append and flush make no fsync; compact and close do", (t) => {
  const dir = tempDir(t);
  const calls = { fsync: 0, write: 0 };
  const counting: JournalFs = {
    ...nodeJournalFs,
    fsyncSync(fd) { calls.fsync++; nodeJournalFs.fsyncSync(fd); },
    writeSync(fd, buf) { calls.write++; nodeJournalFs.writeSync(fd, buf); },
  };
  const w = open(dir, emptySnapshot(), counting);
  calls.fsync = 0;
  calls.write = 0;
  for (let v = 1; v <= 1000; v++) {
    w.append({ version: v, change: upsertJson("session", String(v % 10), { v }) });
    if (v % 8 === 0) w.flush();
  }
  w.flush();
  t.equal(calls.fsync, 0, "no fsync for 1000 appends");
  t.equal(calls.write, 125, "one write per flush of 8 changes");
  w.compact({ version: 1000, records: new Map() });
  t.ok(calls.fsync > 0, "compact fsyncs");
  const atCompact = calls.fsync;
  w.close();
  t.equal(calls.fsync, atCompact + 1, "close fsyncs once");
  t.throws(() => { w.append({ version: 1001, change: upsertJson("tunnel", "1", {}) }); });
  t.end();
});

void t.test("without flush(), the end of the event-loop turn writes; versions must grow", async (t) => {
  const dir = tempDir(t);
  const w = JournalWriter.open({ dir, lnsdVersion: "x", nodeStartedAtMs: now, snapshot: emptySnapshot(), wallClockMs: clock });
  w.append({ version: 1, change: upsertJson("tunnel", "1", { a: 1 }) });
  t.throws(() => { w.append({ version: 1, change: upsertJson("tunnel", "1", {}) }); }, RangeError);
  const unflushed = read(dir);
  t.equal(unflushed.ok ? unflushed.version : -1, 0, "not written yet");
  await new Promise((resolve) => setImmediate(resolve));
  const r = read(dir);
  t.equal(r.ok ? r.version : -1, 1);
  w.close();
});
