// The one store of records (issue 13). The control loop, the one writer of session state, marks
// what changed as it changes (a tunnel's control channel, an L2TP session, a subscriber); at the
// output commit point (commit(), called before any datagram or RADIUS request leaves lnsd) each
// mark becomes one typed change with the next version, upsert or delete, published to every
// listener in one batch: the state journal today, the cluster's replication next. A listener can
// ask for every live record (snapshot()) to start from. Control thread.
import { encodeJsonBody } from "@lnsd/journal";
import type { L2tpNode, Session, Tunnel } from "@lnsd/l2tp";
import type { Clock, TimerHandle } from "@lnsd/io";
import type { SessionManager, Subscriber } from "./sessions.js";

/**
 * The kinds of record: a tunnel (its control channel; sessions and queued messages apart), a
 * control message of a tunnel not yet acknowledged ("TUNNEL/NS": its bytes, written once), an
 * L2TP session, a subscriber.
 */
export type RecordKind = "tunnel" | "message" | "session" | "subscriber";

export type RecordChange =
  | { readonly version: number; readonly op: "upsert"; readonly kind: RecordKind; readonly id: string; readonly record: unknown }
  | { readonly version: number; readonly op: "delete"; readonly kind: RecordKind; readonly id: string };

const bodies = new WeakMap<RecordChange, Uint8Array>();

/**
 * An upsert's record as JSON bytes, encoded once however many listeners need it (the journal and
 * the cluster's replication write the same bytes).
 */
export function changeBody(c: RecordChange & { readonly op: "upsert" }): Uint8Array {
  let b = bodies.get(c);
  if (b === undefined) {
    b = encodeJsonBody(c.record);
    bodies.set(c, b);
  }
  return b;
}

/** Every live record as of `version`: kind -> id -> record. */
export interface StoreSnapshot {
  readonly version: number;
  readonly records: ReadonlyMap<RecordKind, ReadonlyMap<string, unknown>>;
}

export interface StoreListener {
  /** One commit's changes, in version order. Runs before the output they caused leaves. */
  changes(batch: readonly RecordChange[]): void;
}

/** How often online sessions whose counters moved are marked (a crash loses at most this much). */
export const COUNTERS_INTERVAL_MS = 10_000;

interface Pending {
  readonly kind: RecordKind;
  readonly id: string;
  live(): boolean;
  record(): unknown;
  /** A tunnel's: its queued control messages follow it. */
  readonly tunnel?: Tunnel;
}

/** A queued control message's record: its bytes. */
export interface MessageRecord {
  readonly packetHex: string;
}

export class RecordStore {
  private node: L2tpNode | undefined;
  private sessions: SessionManager | undefined;
  private versionNow = 0;
  private readonly marked = new Map<string, Pending>();
  /** Keys (kind/id) upserted and not deleted since: a delete is published only for these. */
  private readonly live = new Set<string>();
  private readonly listeners = new Set<StoreListener>();
  /** Per tunnel id: the Ns of its queued control messages as last published. */
  private readonly messages = new Map<string, Set<number>>();
  private countersTimer: TimerHandle | undefined;
  /** Packets in and out of each online session when it was last marked for its counters. */
  private readonly countedPackets = new WeakMap<Subscriber, number>();
  /** Changes published, by kind and op (metrics). */
  readonly published = new Map<string, number>();

  constructor(private readonly clock: Clock) {}

  get version(): number {
    return this.versionNow;
  }

  /** The number of live records. */
  get size(): number {
    return this.live.size;
  }

  /**
   * The records are read from these from now on; `after` is the version the state restored at
   * start had (0 for none), so that versions keep growing across a restart.
   */
  attach(node: L2tpNode, sessions: SessionManager, after: number): void {
    this.node = node;
    this.sessions = sessions;
    this.versionNow = after;
    this.live.clear();
    this.messages.clear();
    // What a listener's snapshot would hold, without making the records.
    for (const t of node.tunnels.values()) {
      if (t.state === "closed") continue;
      this.live.add(`tunnel/${String(t.localId)}`);
      const ns = node.messageNumbers(t);
      this.messages.set(String(t.localId), new Set(ns));
      for (const n of ns) this.live.add(`message/${String(t.localId)}/${String(n)}`);
      for (const s of t.sessions.values()) this.live.add(`session/${String(t.localId)}/${String(s.localId)}`);
    }
    for (const sub of sessions.all()) if (sub.upAt !== undefined) this.live.add(`subscriber/${String(sub.tunnel.localId)}/${String(sub.l2tp.localId)}`);
    const counters = (): void => {
      this.countersTimer = this.clock.setTimeout(counters, COUNTERS_INTERVAL_MS);
      this.markCounters();
    };
    this.countersTimer = this.clock.setTimeout(counters, COUNTERS_INTERVAL_MS);
  }

  subscribe(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  tunnel(t: Tunnel): void {
    const node = this.node;
    if (node === undefined) return;
    this.mark({ kind: "tunnel", id: String(t.localId), tunnel: t, live: () => node.tunnels.get(t.localId) === t && t.state !== "closed", record: () => node.tunnelRecord(t, false) });
  }

  session(t: Tunnel, s: Session): void {
    const node = this.node;
    if (node === undefined) return;
    this.mark({ kind: "session", id: `${String(t.localId)}/${String(s.localId)}`, live: () => node.tunnels.get(t.localId) === t && t.sessions.get(s.localId) === s, record: () => node.sessionRecord(t, s) });
  }

  subscriber(sub: Subscriber): void {
    const sessions = this.sessions;
    if (sessions === undefined) return;
    // Recorded once online: before that a restart starts its PPP again, and nothing of it (no
    // accounting yet) needs its ids kept.
    this.mark({ kind: "subscriber", id: `${String(sub.tunnel.localId)}/${String(sub.l2tp.localId)}`, live: () => sessions.current(sub) && sub.upAt !== undefined, record: () => sessions.record(sub) });
  }

  /** The output commit point: every mark so far published as versioned changes. */
  commit(): void {
    if (this.marked.size === 0) return;
    const batch: RecordChange[] = [];
    for (const [key, p] of this.marked) {
      const live = p.live();
      if (live) {
        batch.push({ version: ++this.versionNow, op: "upsert", kind: p.kind, id: p.id, record: p.record() });
        this.live.add(key);
      } else if (this.live.delete(key)) {
        batch.push({ version: ++this.versionNow, op: "delete", kind: p.kind, id: p.id });
      }
      if (p.tunnel !== undefined) this.commitMessages(p.id, live ? p.tunnel : undefined, batch);
    }
    this.marked.clear();
    if (batch.length === 0) return;
    for (const c of batch) {
      const k = `${c.kind} ${c.op}`;
      this.published.set(k, (this.published.get(k) ?? 0) + 1);
    }
    for (const l of this.listeners) l.changes(batch);
  }

  /**
   * A tunnel's queued control messages: each new one published once with its bytes, each one
   * acknowledged (or of a tunnel gone) deleted.
   */
  private commitMessages(tunnelId: string, t: Tunnel | undefined, batch: RecordChange[]): void {
    const node = this.node;
    const before = this.messages.get(tunnelId) ?? new Set<number>();
    const now = t === undefined || node === undefined ? [] : node.messageNumbers(t);
    const after = new Set(now);
    for (const ns of before) {
      if (after.has(ns)) continue;
      const id = `${tunnelId}/${String(ns)}`;
      if (this.live.delete(`message/${id}`)) batch.push({ version: ++this.versionNow, op: "delete", kind: "message", id });
    }
    for (const ns of now) {
      if (before.has(ns) || t === undefined || node === undefined) continue;
      const id = `${tunnelId}/${String(ns)}`;
      const record: MessageRecord = { packetHex: node.messagePacketHex(t, ns) ?? "" };
      batch.push({ version: ++this.versionNow, op: "upsert", kind: "message", id, record });
      this.live.add(`message/${id}`);
    }
    if (after.size === 0) this.messages.delete(tunnelId);
    else this.messages.set(tunnelId, after);
  }

  /** Every live record now, at this.version (what is marked is committed first). */
  snapshot(): StoreSnapshot {
    if (this.marked.size > 0) this.commit();
    const records = new Map<RecordKind, Map<string, unknown>>([["tunnel", new Map()], ["message", new Map()], ["session", new Map()], ["subscriber", new Map()]]);
    const node = this.node;
    const sessions = this.sessions;
    if (node !== undefined && sessions !== undefined) {
      for (const t of node.tunnels.values()) {
        if (t.state === "closed") continue;
        records.get("tunnel")?.set(String(t.localId), node.tunnelRecord(t, false));
        for (const ns of node.messageNumbers(t)) {
          const record: MessageRecord = { packetHex: node.messagePacketHex(t, ns) ?? "" };
          records.get("message")?.set(`${String(t.localId)}/${String(ns)}`, record);
        }
        for (const s of t.sessions.values()) records.get("session")?.set(`${String(t.localId)}/${String(s.localId)}`, node.sessionRecord(t, s));
      }
      for (const sub of sessions.all()) if (sub.upAt !== undefined) records.get("subscriber")?.set(`${String(sub.tunnel.localId)}/${String(sub.l2tp.localId)}`, sessions.record(sub));
    }
    return { version: this.versionNow, records };
  }

  /**
   * Every live record's key as of this.version (what is marked is committed first): with
   * recordOf(), a snapshot taken a chunk at a time (a cluster slave's resync), each record as it
   * is when its chunk is made; the changes after this version, replayed on top, end at the same
   * state, since each change is a whole record or a delete.
   */
  keys(): { version: number; keys: [RecordKind, string][] } {
    if (this.marked.size > 0) this.commit();
    const keys: [RecordKind, string][] = [];
    for (const k of this.live) {
      const slash = k.indexOf("/");
      keys.push([k.slice(0, slash) as RecordKind, k.slice(slash + 1)]);
    }
    return { version: this.versionNow, keys };
  }

  /** One live record as it is now; undefined when it is gone. */
  recordOf(kind: RecordKind, id: string): unknown {
    const node = this.node;
    const sessions = this.sessions;
    if (node === undefined || sessions === undefined) return undefined;
    const [a = "", b] = id.split("/");
    const t = node.tunnels.get(Number(a));
    if (t === undefined || t.state === "closed") return undefined;
    switch (kind) {
      case "tunnel":
        return node.tunnelRecord(t, false);
      case "message": {
        const hex = node.messagePacketHex(t, Number(b));
        return hex === undefined ? undefined : ({ packetHex: hex } satisfies MessageRecord);
      }
      case "session": {
        const s = t.sessions.get(Number(b));
        return s === undefined ? undefined : node.sessionRecord(t, s);
      }
      case "subscriber": {
        const s = t.sessions.get(Number(b));
        const sub = s === undefined ? undefined : sessions.of(s);
        return sub?.upAt === undefined ? undefined : sessions.record(sub);
      }
      default: {
        const never: never = kind;
        return never;
      }
    }
  }

  /** Stops the counters' timer (the process is stopping). */
  close(): void {
    this.countersTimer?.cancel();
    this.countersTimer = undefined;
  }

  private mark(p: Pending): void {
    // The latest object under a key wins (a tunnel id freed and given again in one turn).
    this.marked.set(`${p.kind}/${p.id}`, p);
  }

  /** Marks every online session whose counters moved since it was last marked for them. */
  private markCounters(): void {
    for (const sub of this.sessions?.all() ?? []) {
      if (sub.upAt === undefined) continue;
      const packets = sub.rxPackets + sub.txPackets;
      if (this.countedPackets.get(sub) === packets) continue;
      this.countedPackets.set(sub, packets);
      this.subscriber(sub);
    }
  }
}
