// The master's side of replication and the output commit, and the slave's replica. The master
// sends each slave a snapshot of every record, then every change in version order; a slave that
// has acknowledged its snapshot is up to date. barrier(V) says when every up-to-date slave holds
// version V: the master releases no output before that. A slave that leaves a barrier waiting
// longer than the bound is dropped from the up-to-date set (its stream closed; it resyncs).
// The replica is the journal's records (kind -> id -> stored record), so that a slave taking over
// resumes it exactly as a restarted lnsd resumes its journal. Pure but for the injected timers.
import { decodeEntry, encodeEntry, type Entry, type JournalRecords, type StoredRecord } from "@lnsd/journal";
import type { Body } from "./schema.js";

/** One slave's replication stream, as the master sees it. */
export interface SlaveLink {
  /** Queues a message; false when the stream is closed. */
  send(body: Body): boolean;
  /** Bytes queued and not yet taken by the kernel (flow control of snapshots). */
  readonly pendingBytes: number;
  close(reason: string): void;
}

/** Commit latencies kept until the metrics take them. */
const MAX_LATENCIES = 10_000;

/** Records per snapshot chunk. */
export const SNAPSHOT_CHUNK = 2000;
/** Stop queueing snapshot chunks while a slave's stream holds this many bytes. */
const SNAPSHOT_HIGH_WATER = 4 * 1024 * 1024;

interface Slave {
  readonly address: string;
  readonly link: SlaveLink;
  acked: number;
  uptodate: boolean;
  /** The snapshot's version while it is being sent (changes after it queue behind). */
  syncVersion: number;
  /** Changes not yet handed to the link while the snapshot goes out. */
  backlog: Body[] | undefined;
  /** The snapshot being sent: its keys and how far it got. */
  snapshot?: { readonly source: SnapshotSource; next: number };
  readonly since: number;
}

interface Wait {
  readonly version: number;
  readonly sinceMs: number;
  readonly resolve: () => void;
}

export interface ReplicationOptions {
  /** How long a barrier waits for an up-to-date slave before dropping it. */
  readonly ackTimeoutMs: number;
  readonly nowMs: () => number;
  /** Runs fn on a later turn (snapshot chunks are spread over turns). */
  readonly defer: (fn: () => void) => void;
  readonly onUptodate?: (address: string, uptodate: boolean, why: string) => void;
}

/** What a slave's snapshot is made from: every live record's key at `version`, each record's body as it is when its chunk is made. */
export interface SnapshotSource {
  readonly version: number;
  /** The master's newest version now (the last chunk says the copy is consistent from there). */
  versionNow(): number;
  readonly keys: readonly (readonly [kind: string, id: string])[];
  body(kind: string, id: string): Uint8Array | undefined;
}

/** A record change as the record store publishes it. */
export type ReplicatedChange =
  | { readonly version: number; readonly op: "upsert"; readonly kind: string; readonly id: string; readonly body: Uint8Array }
  | { readonly version: number; readonly op: "delete"; readonly kind: string; readonly id: string };

export function entryOf(c: ReplicatedChange, timeMs: number): Uint8Array {
  const e: Entry = { version: c.version, timeMs, change: c.op === "upsert" ? { op: "upsert", kind: c.kind, id: c.id, format: "json", body: c.body } : { op: "delete", kind: c.kind, id: c.id } };
  return encodeEntry(e);
}

export class Replication {
  private readonly slaves = new Map<string, Slave>();
  private waits: Wait[] = [];
  /** Changes sent, acknowledgements received (metrics). */
  readonly counters = { changes: 0, acks: 0, dropped: 0, snapshots: 0 };
  /** Commit latency samples since last read (ms). */
  private latencies: number[] = [];

  constructor(private readonly o: ReplicationOptions) {}

  get uptodate(): string[] {
    return [...this.slaves.values()].filter((s) => s.uptodate).map((s) => s.address);
  }

  get connected(): string[] {
    return [...this.slaves.keys()];
  }

  /** Per slave: the version it acknowledged (lag). */
  acked(): Map<string, { acked: number; uptodate: boolean }> {
    return new Map([...this.slaves.values()].map((s) => [s.address, { acked: s.acked, uptodate: s.uptodate }]));
  }

  /** Output is waiting for a slave. */
  get waiting(): boolean {
    return this.waits.length > 0;
  }

  takeLatencies(): number[] {
    const l = this.latencies;
    this.latencies = [];
    return l;
  }

  /**
   * A slave connected: it gets the master's records as of `snapshot.version` in chunks, each chunk
   * made on its own turn of the event loop (a table of 250,000 sessions is never encoded in one
   * go), then every change after that version. A slave already connected from that address is
   * replaced.
   */
  addSlave(address: string, link: SlaveLink, snapshot: SnapshotSource): void {
    this.removeSlave(address, "it connected again");
    const version = snapshot.version;
    const slave: Slave = { address, link, acked: 0, uptodate: false, syncVersion: version, backlog: [], since: this.o.nowMs() };
    this.slaves.set(address, slave);
    this.counters.snapshots++;
    slave.snapshot = { source: snapshot, next: 0 };
    this.pump(slave);
  }

  /** Its snapshot is still going out (a method: the compiler cannot see chunk() end it). */
  private sending(slave: Slave): boolean {
    return slave.snapshot !== undefined;
  }

  /** The next chunk of a slave's snapshot: up to SNAPSHOT_CHUNK records as they are now. */
  private chunk(slave: Slave): Body | undefined {
    const s = slave.snapshot;
    if (s === undefined) return undefined;
    const entries: Uint8Array[] = [];
    const now = this.o.nowMs();
    const keys = s.source.keys;
    while (s.next < keys.length && entries.length < SNAPSHOT_CHUNK) {
      const key = keys[s.next++];
      if (key === undefined) continue;
      const [kind, id] = key;
      const body = s.source.body(kind, id);
      // Gone since the snapshot's version: its delete follows in the changes.
      if (body !== undefined) entries.push(encodeEntry({ version: s.source.version, timeMs: now, change: { op: "upsert", kind, id, format: "json", body } }));
    }
    const last = s.next >= keys.length;
    if (last) delete slave.snapshot;
    return { type: "snapshot", version: s.source.version, last, entries, consistentAt: last ? s.source.versionNow() : 0 };
  }

  /**
   * One turn of a slave's resync: the next snapshot chunk, made now, while the stream takes it;
   * once the snapshot is out, the changes that came meanwhile; then it is a slave like the others.
   */
  private pump(slave: Slave): void {
    const backlog = slave.backlog;
    if (backlog === undefined || this.slaves.get(slave.address) !== slave) return;
    if (slave.snapshot !== undefined) {
      if (slave.link.pendingBytes < SNAPSHOT_HIGH_WATER) {
        const c = this.chunk(slave);
        if (c !== undefined && !slave.link.send(c)) return;
      }
      if (this.sending(slave)) {
        this.o.defer(() => { this.pump(slave); });
        return;
      }
    }
    for (const next of backlog) if (!slave.link.send(next)) return;
    slave.backlog = undefined;
  }

  removeSlave(address: string, why: string): void {
    const s = this.slaves.get(address);
    if (s === undefined) return;
    this.slaves.delete(address);
    s.link.close(why);
    if (s.uptodate) this.o.onUptodate?.(address, false, why);
    this.release();
  }

  /** One commit's changes, to every slave. */
  changes(changes: readonly ReplicatedChange[], timeMs: number): void {
    if (changes.length === 0 || this.slaves.size === 0) return;
    const entries = changes.map((c) => entryOf(c, timeMs));
    this.counters.changes += entries.length;
    const body: Body = { type: "changes", entries };
    for (const s of this.slaves.values()) {
      if (s.backlog !== undefined) {
        // Only what is after its snapshot.
        const after = changes.findIndex((c) => c.version > s.syncVersion);
        if (after >= 0) s.backlog.push(after === 0 ? body : { type: "changes", entries: entries.slice(after) });
      } else if (!s.link.send(body)) {
        this.removeSlave(s.address, "its stream closed");
      }
    }
  }

  ack(address: string, version: number): void {
    const s = this.slaves.get(address);
    if (s === undefined) return;
    this.counters.acks++;
    if (version > s.acked) s.acked = version;
    if (!s.uptodate && s.acked >= s.syncVersion && s.backlog === undefined) {
      s.uptodate = true;
      this.o.onUptodate?.(address, true, `holds version ${String(s.acked)}`);
    }
    this.release();
  }

  /** The lowest version every up-to-date slave holds (Infinity with none). */
  private floor(): number {
    let min = Infinity;
    for (const s of this.slaves.values()) if (s.uptodate && s.acked < min) min = s.acked;
    return min;
  }

  /** Undefined when every up-to-date slave holds `version` already; else when they do. */
  barrier(version: number): Promise<void> | undefined {
    if (this.floor() >= version) return undefined;
    return new Promise<void>((resolve) => {
      this.waits.push({ version, sinceMs: this.o.nowMs(), resolve });
    });
  }

  private release(): void {
    if (this.waits.length === 0) return;
    const floor = this.floor();
    const now = this.o.nowMs();
    const keep: Wait[] = [];
    for (const w of this.waits) {
      if (w.version <= floor) {
        // Kept for the metrics' histogram; bounded when no one scrapes.
        if (this.latencies.length < MAX_LATENCIES) this.latencies.push(now - w.sinceMs);
        w.resolve();
      } else keep.push(w);
    }
    this.waits = keep;
  }

  /** Drops the up-to-date slaves that kept a barrier waiting longer than the bound. */
  checkTimeouts(): void {
    const oldest = this.waits[0];
    if (oldest === undefined) return;
    const waited = this.o.nowMs() - oldest.sinceMs;
    if (waited < this.o.ackTimeoutMs) return;
    for (const s of [...this.slaves.values()]) {
      if (s.uptodate && s.acked < oldest.version) {
        this.counters.dropped++;
        this.removeSlave(s.address, `it did not acknowledge version ${String(oldest.version)} within ${String(this.o.ackTimeoutMs)} ms`);
      }
    }
    this.release();
  }

  /** This node stops being the master: every stream closed, nothing released. */
  close(why: string): void {
    for (const a of [...this.slaves.keys()]) this.removeSlave(a, why);
    this.waits = [];
  }

  /** Sends a message to every slave (heartbeats on the streams, resign). */
  broadcast(body: Body): void {
    for (const s of this.slaves.values()) {
      if (s.backlog !== undefined) s.backlog.push(body);
      else s.link.send(body);
    }
  }
}

/** The slave's copy of the master's records. */
export class Replica {
  records: JournalRecords = new Map();
  version = 0;
  /** The snapshot being received (replaces records once its last chunk is in). */
  private incoming: JournalRecords | undefined;
  /** A whole snapshot is in: changes apply. */
  received = false;
  /** From this version on the copy is the master's state at one version. */
  private consistentAt = Infinity;

  /** The copy is an earlier master's: it still feeds the data plane, but is not complete. */
  stale = false;

  /** The copy is the master's state (usable for a takeover). */
  get complete(): boolean {
    return this.received && !this.stale && this.version >= this.consistentAt;
  }

  /** Drops everything (a new master, a resync). */
  reset(): void {
    this.records = new Map();
    this.version = 0;
    this.incoming = undefined;
    this.received = false;
    this.stale = false;
    this.consistentAt = Infinity;
  }

  /**
   * A chunk of the master's snapshot; done once the last is in (the whole replica is replaced; it
   * is complete once the changes up to `consistentAt` are applied too).
   */
  snapshotChunk(version: number, last: boolean, entries: readonly Uint8Array[], consistentAt = version): { error?: string; done: boolean } {
    const into = this.incoming ?? new Map<string, Map<string, StoredRecord>>();
    this.incoming = into;
    for (const bytes of entries) {
      const d = decodeEntry(bytes);
      if (!d.ok || d.value.change?.op !== "upsert") return { error: d.ok ? "a snapshot entry that is not an upsert" : d.error, done: false };
      const c = d.value.change;
      let m = into.get(c.kind);
      if (m === undefined) {
        m = new Map();
        into.set(c.kind, m);
      }
      m.set(c.id, { version: d.value.version, format: c.format, body: c.body });
    }
    if (!last) return { done: false };
    this.records = into;
    this.incoming = undefined;
    this.version = version;
    this.received = true;
    this.stale = false;
    this.consistentAt = Math.max(version, consistentAt);
    return { done: true };
  }

  /** Changes after the snapshot; each applied once, in order. Returns the keys changed. */
  apply(entries: readonly Uint8Array[]): { error?: string; changed: { kind: string; id: string; op: "upsert" | "delete" }[] } {
    const changed: { kind: string; id: string; op: "upsert" | "delete" }[] = [];
    for (const bytes of entries) {
      const d = decodeEntry(bytes);
      if (!d.ok) return { error: d.error, changed };
      const e = d.value;
      if (e.change === null || e.version <= this.version) continue;
      this.version = e.version;
      const c = e.change;
      let m = this.records.get(c.kind);
      if (m === undefined) {
        m = new Map();
        this.records.set(c.kind, m);
      }
      if (c.op === "upsert") m.set(c.id, { version: e.version, format: c.format, body: c.body });
      else m.delete(c.id);
      changed.push({ kind: c.kind, id: c.id, op: c.op });
    }
    return { changed };
  }

  get size(): number {
    let n = 0;
    for (const m of this.records.values()) n += m.size;
    return n;
  }
}
