// The session state of issue 13 on disk: every tunnel, L2TP session and subscriber as a record in
// the journal (@lnsd/journal), so that lnsd started again (an upgrade, a crash) resumes them. The
// journal listens to the record store (store.ts): each commit, made before the next datagram or
// RADIUS request leaves lnsd, is one write(2); the journal is compacted into a snapshot when it has
// grown, and at SIGTERM. Also: the state directory's name, its lock, reading it back. Control thread.
import { createHash } from "node:crypto";
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeSync } from "node:fs";
import { join, resolve } from "node:path";
import { decodeJsonBody, encodeJsonBody, JournalWriter, readJournal, type JournalFs, type JournalRecords, type Snapshot, type StoredRecord } from "@lnsd/journal";
import { L2TP_SNAPSHOT_VERSION, withMessages, type L2tpSnapshot, type SessionRecord, type TunnelRecord } from "@lnsd/l2tp";
import type { Clock, TimerHandle } from "@lnsd/io";
import type { Logger } from "./log.js";
import type { SubscriberRecord } from "./sessions.js";
import { changeBody, type MessageRecord, type RecordChange, type RecordStore, type StoreListener, type StoreSnapshot } from "./store.js";

/** The journal's record kinds. */
const TUNNEL = "tunnel";
const MESSAGE = "message";
const SESSION = "session";
const SUBSCRIBER = "subscriber";

/** How often the journal notes that its state is still current (state_max_age counts from the last). */
const MARK_INTERVAL_MS = 2000;
/** How often a journal that could not be written is tried again. */
const REOPEN_MS = 60_000;
/** Compaction once the segment holds this many entries and at least twice the live records. */
const COMPACT_MIN_ENTRIES = 10_000;

export const LNSD_VERSION = "0.1.0";

/**
 * Where one lnsd keeps its state: a directory under state_directory named after its bind_address
 * and its startup-config's path, so that two lnsd on one machine never take each other's sessions.
 */
export function stateDirFor(stateDirectory: string, startupConfig: string, bindAddress: string): string {
  const hash = createHash("sha256").update(resolve(startupConfig)).digest("hex").slice(0, 12);
  return join(stateDirectory, `${bindAddress.replace(/[^0-9A-Za-z.:-]/g, "_")}-${hash}`);
}

/** What a restarted lnsd found: the L2TP node's snapshot and the subscribers by "tunnel/session". */
export interface RestoredState {
  readonly l2tp: L2tpSnapshot;
  readonly subscribers: ReadonlyMap<string, SubscriberRecord>;
  /** When the state was last known current (epoch ms). */
  readonly writtenAtMs: number;
  readonly version: number;
  readonly records: JournalRecords;
}

export type ReadStateResult = { readonly ok: true; readonly state: RestoredState } | { readonly ok: false; readonly code: "none" | "too-old" | "incompatible" | "corrupt"; readonly reason: string };

/** A record's JSON body; the journal's frames are CRC-checked and written by lnsd itself. */
function bodyOf(r: StoredRecord): unknown {
  if (r.format !== "json") return undefined;
  const d = decodeJsonBody(r.body);
  return d.ok && typeof d.value === "object" && d.value !== null ? d.value : undefined;
}

/** The journal of `dir` as the L2TP node and the session manager take it; never throws. */
export function readState(dir: string, maxAgeMs: number, wallClockMs: () => number = Date.now): ReadStateResult {
  const j = readJournal(dir, { maxAgeMs, wallClockMs });
  if (!j.ok) return j;
  return stateFromRecords(j.records, j.version, j.writtenAtMs, dir);
}

/**
 * Records (a journal's, or a cluster slave's replica of its master's) as the L2TP node and the
 * session manager take them; `where` names their origin in errors. Never throws.
 */
export function stateFromRecords(records: JournalRecords, version: number, writtenAtMs: number, where: string): ReadStateResult {
  const sessionsByTunnel = new Map<number, SessionRecord[]>();
  for (const [id, r] of records.get(SESSION) ?? []) {
    const body = bodyOf(r) as SessionRecord | undefined;
    const tid = Number(id.split("/")[0]);
    if (body === undefined || !Number.isInteger(tid)) return { ok: false, code: "corrupt", reason: `${where}: session record ${id} unreadable` };
    const list = sessionsByTunnel.get(tid) ?? [];
    list.push(body);
    sessionsByTunnel.set(tid, list);
  }
  const messages = new Map<string, string>();
  for (const [id, r] of records.get(MESSAGE) ?? []) {
    const body = bodyOf(r) as MessageRecord | undefined;
    if (body !== undefined) messages.set(id, body.packetHex);
  }
  const tunnels: TunnelRecord[] = [];
  for (const [id, r] of records.get(TUNNEL) ?? []) {
    const body = bodyOf(r) as TunnelRecord | undefined;
    if (body === undefined) return { ok: false, code: "corrupt", reason: `${where}: tunnel record ${id} unreadable` };
    // The queued control messages' bytes are records of their own: put back.
    const transport = withMessages(body.transport, (ns) => messages.get(`${id}/${String(ns)}`));
    if (!transport.ok) return { ok: false, code: "corrupt", reason: `${where}: tunnel ${id}: control message ${String(transport.missing)} missing` };
    tunnels.push({ ...body, transport: transport.record, sessions: sessionsByTunnel.get(body.localId) ?? [] });
  }
  const subscribers = new Map<string, SubscriberRecord>();
  for (const [id, r] of records.get(SUBSCRIBER) ?? []) {
    const body = bodyOf(r) as SubscriberRecord | undefined;
    if (body !== undefined) subscribers.set(id, body);
  }
  return { ok: true, state: { l2tp: { version: L2TP_SNAPSHOT_VERSION, takenAt: writtenAtMs, tunnels }, subscribers, writtenAtMs, version, records } };
}

export interface StateJournalOptions {
  readonly dir: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly wallClockMs?: () => number;
  /** When this lnsd started (epoch ms), for the files' headers. */
  readonly startedAtMs?: number;
  /** Tests: a file system that can stop writing at a chosen moment (a crash). */
  readonly fs?: JournalFs;
}

/**
 * The state journal: a listener of the record store that appends every change to the journal
 * files (one write per commit, before the output it caused leaves), notes every 2 s that the
 * state is current, and compacts into a snapshot once the changes outnumber the records.
 */
export class StateJournal implements StoreListener {
  private writer: JournalWriter | undefined;
  private store: RecordStore | undefined;
  private unsubscribe: (() => void) | undefined;
  private entriesSinceCompaction = 0;
  private markTimer: TimerHandle | undefined;
  private reopenTimer: TimerHandle | undefined;
  private readonly wallClockMs: () => number;

  constructor(private readonly o: StateJournalOptions) {
    this.wallClockMs = o.wallClockMs ?? Date.now;
  }

  get dir(): string {
    return this.o.dir;
  }

  /** Bytes handed to write(2) since attach (metrics, bench). */
  get bytesWritten(): number {
    return this.writer?.bytesWritten ?? 0;
  }

  /**
   * Starts writing: the store's state now becomes the journal's snapshot, replacing whatever the
   * directory held; every change after it is appended. `restored`: the records the store's state
   * was just rebuilt from, written as they were read (no record made and encoded again; what the
   * restore changed is marked in the store and follows as changes).
   */
  attach(store: RecordStore, restored?: JournalRecords): void {
    this.store = store;
    const snapshot = restored === undefined ? journalSnapshot(store.snapshot()) : { version: store.version, records: restored };
    this.guard("open", () => { this.writer = JournalWriter.open({ dir: this.o.dir, lnsdVersion: LNSD_VERSION, nodeStartedAtMs: this.o.startedAtMs ?? this.wallClockMs(), snapshot, wallClockMs: this.wallClockMs, ...(this.o.fs === undefined ? {} : { fs: this.o.fs }) }); });
    if (this.writer === undefined) return;
    this.unsubscribe = store.subscribe(this);
    const tick = (): void => {
      this.markTimer = this.o.clock.setTimeout(tick, MARK_INTERVAL_MS);
      const w = this.writer;
      if (w !== undefined) {
        this.guard("mark", () => {
          w.mark();
          w.flush();
        });
      }
    };
    this.markTimer = this.o.clock.setTimeout(tick, MARK_INTERVAL_MS);
  }

  changes(batch: readonly RecordChange[]): void {
    const writer = this.writer;
    if (writer === undefined) return;
    this.guard("write", () => {
      for (const c of batch) {
        writer.append({ version: c.version, change: c.op === "upsert" ? { op: "upsert", kind: c.kind, id: c.id, format: "json", body: changeBody(c) } : { op: "delete", kind: c.kind, id: c.id } });
      }
      this.entriesSinceCompaction += batch.length;
      writer.flush();
    });
    if (this.entriesSinceCompaction >= Math.max(COMPACT_MIN_ENTRIES, 2 * (this.store?.size ?? 0))) this.compact();
  }

  /** Rewrites the journal as one snapshot of the live state (with every counter as of now). */
  compact(): void {
    const writer = this.writer;
    const store = this.store;
    if (writer === undefined || store === undefined) return;
    this.guard("compaction", () => { writer.compact(journalSnapshot(store.snapshot())); });
    this.entriesSinceCompaction = 0;
  }

  /**
   * A journal that cannot be written (disk full, removed, read-only) must neither stop lnsd nor
   * its output, nor be resumed later as if current: one log line, the state removed, and lnsd
   * goes on without keeping it.
   */
  private guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.o.logger.log("error", "state-journal", `state journal in ${this.o.dir}: ${what} failed (${e instanceof Error ? e.message : String(e)}): not kept until it can be written again (tried every ${String(REOPEN_MS / 1000)} s); a restart meanwhile drops every session`);
      this.markTimer?.cancel();
      this.unsubscribe?.();
      const w = this.writer;
      this.writer = undefined;
      try {
        w?.close();
      } catch {
        // Already failing: nothing more to do with it.
      }
      removeState(this.o.dir);
      // Written afresh (a whole snapshot) once the disk takes it again.
      const store = this.store;
      if (store !== undefined && this.reopenTimer === undefined) {
        this.reopenTimer = this.o.clock.setTimeout(() => {
          this.reopenTimer = undefined;
          this.attach(store);
          if (this.writer !== undefined) this.o.logger.log("info", "state-journal", `state journal in ${this.o.dir} written again`);
        }, REOPEN_MS);
      }
    }
  }

  /** SIGTERM: the state as of now, compacted, fsynced and closed; the next lnsd resumes it. */
  close(): void {
    if (this.writer === undefined) return;
    this.store?.commit();
    this.compact();
    this.stop();
  }

  /** SIGQUIT after the teardown: nothing is left to resume. */
  discard(): void {
    this.stop();
    removeState(this.o.dir);
  }

  private stop(): void {
    this.markTimer?.cancel();
    this.reopenTimer?.cancel();
    this.reopenTimer = undefined;
    this.unsubscribe?.();
    const w = this.writer;
    this.writer = undefined;
    try {
      w?.close();
    } catch (e) {
      // A stop must finish (SIGTERM exits after it): the state then goes.
      this.o.logger.log("error", "state-journal", `state journal in ${this.o.dir}: closing failed (${e instanceof Error ? e.message : String(e)}): not resumed at the next start`);
      removeState(this.o.dir);
    }
  }
}

/** The store's records as the journal's snapshot (JSON bodies). */
function journalSnapshot(s: StoreSnapshot): Snapshot {
  const records: JournalRecords = new Map();
  for (const [kind, m] of s.records) {
    const out = new Map<string, StoredRecord>();
    for (const [id, r] of m) out.set(id, { version: s.version, format: "json", body: encodeJsonBody(r) });
    records.set(kind, out);
  }
  return { version: s.version, records };
}

/** The file naming the lnsd that writes a state directory. */
const LOCK_FILE = "lnsd.pid";

/** Whether `pid` is a running lnsd (not merely a process that took its number since). */
function lnsdRunning(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    return readFileSync(`/proc/${String(pid)}/cmdline`, "latin1").includes("lnsd");
  } catch {
    return false;
  }
}

/**
 * Makes this process the one writer of `dir`: refused (with the other's pid) while another lnsd
 * runs with the same startup-config and bind_address, whose sessions it would otherwise take. A
 * lock left by an lnsd that died (kill -9) is taken over.
 */
export function claimStateDir(dir: string, pid: number = process.pid): { ok: true; release: () => void } | { ok: false; pid: number } {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, `${String(pid)}\n`);
      closeSync(fd);
      return {
        ok: true,
        release: () => {
          try {
            if (Number(readFileSync(path, "latin1").trim()) === pid) unlinkSync(path);
          } catch {
            // Already gone.
          }
        },
      };
    } catch (e) {
      if (!(e instanceof Error && "code" in e && e.code === "EEXIST")) throw e;
      let holder = 0;
      try {
        holder = Number(readFileSync(path, "latin1").trim());
      } catch {
        // Removed meanwhile: try again.
      }
      if (holder !== pid && lnsdRunning(holder)) return { ok: false, pid: holder };
      rmSync(path, { force: true });
    }
  }
  return { ok: false, pid: 0 };
}

/** Removes a state directory's journal files (and the directory when nothing else is in it). */
export function removeState(dir: string): void {
  try {
    for (const name of readdirSync(dir)) if (name.endsWith(".lnsj") || name.endsWith(".tmp")) rmSync(join(dir, name), { force: true });
    // The lock of an lnsd no longer running goes too.
    const lock = join(dir, LOCK_FILE);
    let holder = 0;
    try {
      holder = Number(readFileSync(lock, "latin1").trim());
    } catch {
      // No lock.
    }
    if (holder !== 0 && !lnsdRunning(holder)) rmSync(lock, { force: true });
    if (readdirSync(dir).length === 0) rmSync(dir, { recursive: true, force: true });
  } catch {
    // Nothing there: nothing to remove.
  }
}

/**
 * Removes the state of other lnsd configurations under state_directory not written for
 * `olderThanMs` (their sessions are long gone): a machine that ran many configurations (a lab, the
 * tests) does not keep their journals for ever. Returns how many were removed.
 */
export function pruneStaleStates(stateDirectory: string, keep: string, olderThanMs: number, nowMs: number = Date.now()): number {
  let removed = 0;
  let names: string[];
  try {
    names = readdirSync(stateDirectory);
  } catch {
    return 0;
  }
  for (const name of names) {
    const dir = join(stateDirectory, name);
    if (dir === keep) continue;
    try {
      const files = readdirSync(dir).filter((f) => f.endsWith(".lnsj"));
      const newest = Math.max(0, ...files.map((f) => statSync(join(dir, f)).mtimeMs));
      if (nowMs - newest > olderThanMs) {
        removeState(dir);
        removed++;
      }
    } catch {
      // Not a state directory: left alone.
    }
  }
  return removed;
}
