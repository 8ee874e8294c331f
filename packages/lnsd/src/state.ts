// The session state of issue 13 on disk: every tunnel, L2TP session and subscriber as a record in
// the journal (@lnsd/journal), so that lnsd started again (an upgrade, a crash) resumes them.
// Changes are marked as they happen and written in one write(2) before the next datagram leaves
// lnsd (the output commit: sendingAfter from @lnsd/io calls flush()); the journal is compacted into
// a snapshot when it has grown, and at SIGTERM. Control thread: the one writer of records.
import { createHash } from "node:crypto";
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeSync } from "node:fs";
import { join, resolve } from "node:path";
import { decodeJsonBody, emptySnapshot, encodeJsonBody, JournalWriter, readJournal, type JournalFs, type JournalRecords, type Snapshot, type StoredRecord } from "@lnsd/journal";
import { L2TP_SNAPSHOT_VERSION, type L2tpNode, type L2tpSnapshot, type Session, type SessionRecord, type Tunnel, type TunnelRecord } from "@lnsd/l2tp";
import type { Clock, TimerHandle } from "@lnsd/io";
import type { Logger } from "./log.js";
import type { SessionManager, Subscriber, SubscriberRecord } from "./sessions.js";

/** The journal's record kinds. */
const TUNNEL = "tunnel";
const SESSION = "session";
const SUBSCRIBER = "subscriber";

/** How often the journal notes that its state is still current (state_max_age counts from the last). */
const MARK_INTERVAL_MS = 2000;
/** How often online sessions whose counters moved are written again (a crash loses at most this much). */
const COUNTERS_INTERVAL_MS = 10_000;
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
  const sessionsByTunnel = new Map<number, SessionRecord[]>();
  for (const [id, r] of j.records.get(SESSION) ?? []) {
    const body = bodyOf(r) as SessionRecord | undefined;
    const tid = Number(id.split("/")[0]);
    if (body === undefined || !Number.isInteger(tid)) return { ok: false, code: "corrupt", reason: `${dir}: session record ${id} unreadable` };
    const list = sessionsByTunnel.get(tid) ?? [];
    list.push(body);
    sessionsByTunnel.set(tid, list);
  }
  const tunnels: TunnelRecord[] = [];
  for (const [id, r] of j.records.get(TUNNEL) ?? []) {
    const body = bodyOf(r) as TunnelRecord | undefined;
    if (body === undefined) return { ok: false, code: "corrupt", reason: `${dir}: tunnel record ${id} unreadable` };
    tunnels.push({ ...body, sessions: sessionsByTunnel.get(body.localId) ?? [] });
  }
  const subscribers = new Map<string, SubscriberRecord>();
  for (const [id, r] of j.records.get(SUBSCRIBER) ?? []) {
    const body = bodyOf(r) as SubscriberRecord | undefined;
    if (body !== undefined) subscribers.set(id, body);
  }
  return { ok: true, state: { l2tp: { version: L2TP_SNAPSHOT_VERSION, takenAt: j.writtenAtMs, tunnels }, subscribers, writtenAtMs: j.writtenAtMs, version: j.version, records: j.records } };
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

type Pending<T> = { readonly live: () => boolean; readonly record: () => T };

/**
 * The journal writer of a running lnsd. attach() gives it the node and the session manager; the
 * daemon then tells it of each change (tunnel(), session(), subscriber()), and flush() writes them.
 */
export class StateJournal {
  private writer: JournalWriter | undefined;
  private node: L2tpNode | undefined;
  private sessions: SessionManager | undefined;
  private version = 0;
  /** Dirty records by kind and id: how to tell whether each is live, and its record. */
  private readonly dirty = new Map<string, Pending<unknown>>();
  /** Ids written and not deleted, by kind/id key: a delete is written only for these. */
  private readonly written = new Set<string>();
  private entriesSinceCompaction = 0;
  private markTimer: TimerHandle | undefined;
  private countersTimer: TimerHandle | undefined;
  /** Packets in and out of each online session when its record was last marked for the counters. */
  private readonly countedPackets = new WeakMap<Subscriber, number>();
  private readonly wallClockMs: () => number;
  /** Bytes written, entries appended (metrics, bench). */
  entries = 0;

  constructor(private readonly o: StateJournalOptions) {
    this.wallClockMs = o.wallClockMs ?? Date.now;
  }

  get dir(): string {
    return this.o.dir;
  }

  get bytesWritten(): number {
    return this.writer?.bytesWritten ?? 0;
  }

  /**
   * Starts writing: the state now (what was restored, or nothing) becomes the journal's snapshot,
   * replacing whatever the directory held.
   */
  attach(node: L2tpNode, sessions: SessionManager, after: number): void {
    this.node = node;
    this.sessions = sessions;
    this.version = after;
    const snapshot = this.snapshot();
    for (const [kind, m] of snapshot.records) for (const id of m.keys()) this.written.add(`${kind}\u0000${id}`);
    this.writer = JournalWriter.open({ dir: this.o.dir, lnsdVersion: LNSD_VERSION, nodeStartedAtMs: this.o.startedAtMs ?? this.wallClockMs(), snapshot, wallClockMs: this.wallClockMs, ...(this.o.fs === undefined ? {} : { fs: this.o.fs }) });
    const tick = (): void => {
      this.markTimer = this.o.clock.setTimeout(tick, MARK_INTERVAL_MS);
      this.writer?.mark();
    };
    this.markTimer = this.o.clock.setTimeout(tick, MARK_INTERVAL_MS);
    const counters = (): void => {
      this.countersTimer = this.o.clock.setTimeout(counters, COUNTERS_INTERVAL_MS);
      this.checkpointCounters();
    };
    this.countersTimer = this.o.clock.setTimeout(counters, COUNTERS_INTERVAL_MS);
  }

  /** Marks every online session whose counters moved since the last time. */
  private checkpointCounters(): void {
    for (const sub of this.sessions?.all() ?? []) {
      if (sub.upAt === undefined) continue;
      const packets = sub.rxPackets + sub.txPackets;
      if (this.countedPackets.get(sub) === packets) continue;
      this.countedPackets.set(sub, packets);
      this.subscriber(sub);
    }
  }

  tunnel(t: Tunnel): void {
    const node = this.node;
    if (node === undefined) return;
    this.dirty.set(`${TUNNEL}\u0000${String(t.localId)}`, { live: () => node.tunnels.get(t.localId) === t && t.state !== "closed", record: () => node.tunnelRecord(t) });
  }

  session(t: Tunnel, s: Session): void {
    const node = this.node;
    if (node === undefined) return;
    this.dirty.set(`${SESSION}\u0000${String(t.localId)}/${String(s.localId)}`, { live: () => node.tunnels.get(t.localId) === t && t.sessions.get(s.localId) === s, record: () => node.sessionRecord(t, s) });
  }

  subscriber(sub: Subscriber): void {
    const sessions = this.sessions;
    if (sessions === undefined) return;
    this.dirty.set(`${SUBSCRIBER}\u0000${String(sub.tunnel.localId)}/${String(sub.l2tp.localId)}`, { live: () => sessions.current(sub), record: () => sessions.record(sub) });
  }

  /** The output commit point: the changes marked so far reach the page cache (one write, no fsync). */
  flush(): void {
    const writer = this.writer;
    if (writer === undefined || this.dirty.size === 0) return;
    for (const [key, p] of this.dirty) {
      const sep = key.indexOf("\u0000");
      const kind = key.slice(0, sep);
      const id = key.slice(sep + 1);
      if (p.live()) {
        writer.append({ version: ++this.version, change: { op: "upsert", kind, id, format: "json", body: encodeJsonBody(p.record()) } });
        this.written.add(key);
      } else if (this.written.delete(key)) {
        writer.append({ version: ++this.version, change: { op: "delete", kind, id } });
      } else {
        continue;
      }
      this.entries++;
      this.entriesSinceCompaction++;
    }
    this.dirty.clear();
    writer.flush();
    if (this.entriesSinceCompaction >= Math.max(COMPACT_MIN_ENTRIES, 2 * this.written.size)) this.compact();
  }

  /** Rewrites the journal as one snapshot of the live state (with every counter as of now). */
  compact(): void {
    const writer = this.writer;
    if (writer === undefined) return;
    this.flush();
    const snapshot = this.snapshot();
    this.written.clear();
    for (const [kind, m] of snapshot.records) for (const id of m.keys()) this.written.add(`${kind}\u0000${id}`);
    writer.compact(snapshot);
    this.entriesSinceCompaction = 0;
  }

  /** SIGTERM: the state as of now, compacted, fsynced and closed; the next lnsd resumes it. */
  close(): void {
    if (this.writer === undefined) return;
    this.compact();
    this.markTimer?.cancel();
    this.countersTimer?.cancel();
    this.writer.close();
    this.writer = undefined;
  }

  /** SIGQUIT after the teardown, or a refused state: nothing is left to resume. */
  discard(): void {
    this.markTimer?.cancel();
    this.countersTimer?.cancel();
    this.writer?.close();
    this.writer = undefined;
    removeState(this.o.dir);
  }

  /** Every live record, at this.version. */
  private snapshot(): Snapshot {
    const node = this.node;
    const sessions = this.sessions;
    if (node === undefined || sessions === undefined) return emptySnapshot();
    const version = this.version;
    const records: JournalRecords = new Map([[TUNNEL, new Map<string, StoredRecord>()], [SESSION, new Map<string, StoredRecord>()], [SUBSCRIBER, new Map<string, StoredRecord>()]]);
    const put = (kind: string, id: string, value: unknown): void => {
      records.get(kind)?.set(id, { version, format: "json", body: encodeJsonBody(value) });
    };
    for (const t of node.tunnels.values()) {
      if (t.state === "closed") continue;
      put(TUNNEL, String(t.localId), node.tunnelRecord(t));
      for (const s of t.sessions.values()) put(SESSION, `${String(t.localId)}/${String(s.localId)}`, node.sessionRecord(t, s));
    }
    for (const sub of sessions.all()) put(SUBSCRIBER, `${String(sub.tunnel.localId)}/${String(sub.l2tp.localId)}`, sessions.record(sub));
    return { version, records };
  }
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
