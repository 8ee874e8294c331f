// Who is the master, as the l2tpns manual describes it: the master sends heartbeats, every other
// node pings; with no heartbeat for cluster_hb_timeout the nodes still heard elect one among
// themselves: an up-to-date node before one that is not, then the longest uptime, then the highest
// address. lnsd adds an epoch: each master takes one higher than any it has seen, a node never
// follows a master of an older epoch, and of two masters the one with the older epoch (or, equal,
// the lower address) steps down. A master that was stopped (SIGSTOP, a hung host, a starved CPU)
// for longer than the timeout while it had peers may have been replaced: it is fenced (it releases
// no output) until it hears a newer master (it steps down) or one timeout passes without one.
// Pure: the caller passes the time and acts on the decisions.

export type Role = "starting" | "slave" | "master";

export interface PeerState {
  readonly address: string;
  startedAtMs: number;
  version: number;
  uptodate: boolean;
  epoch: number;
  lastHeardMs: number;
  /** It sent a heartbeat last (it says it is the master). */
  master: boolean;
  /** Where it takes replication streams (heartbeats say). */
  port: number;
  tunnels: number;
  sessions: number;
}

export type Decision =
  | { readonly type: "none" }
  /** Follow this master (a new one, or the first one heard). */
  | { readonly type: "follow"; readonly master: string; readonly epoch: number }
  /** This node is the master now. */
  | { readonly type: "take-over"; readonly epoch: number; readonly reason: string }
  /** Another node should take over: its heartbeat is awaited for one more timeout. */
  | { readonly type: "expect"; readonly master: string; readonly reason: string }
  /** This node is the master but was stopped long enough to have been replaced: hold all output. */
  | { readonly type: "fence"; readonly reason: string }
  /** This node was the master and must not be any more. */
  | { readonly type: "step-down"; readonly reason: string };

export interface MembershipOptions {
  readonly self: string;
  readonly startedAtMs: number;
  readonly hbTimeoutMs: number;
  /** When the node started listening (monotonic ms). */
  readonly nowMs: number;
}

const NONE: Decision = { type: "none" };

/** IPv4 dotted quads (or any strings) compared as numbers where they are addresses. */
export function compareAddresses(a: string, b: string): number {
  const n = (s: string): number => s.split(".").reduce((acc, x) => acc * 256 + (Number(x) || 0), 0);
  return n(a) - n(b);
}

export class Membership {
  role: Role = "starting";
  /** The epoch of the master this node follows or is. */
  epoch = 0;
  /** The master's address (this node's own when it is the master). */
  master: string | undefined;
  readonly peers = new Map<string, PeerState>();
  private masterHeardMs: number;
  private lastTickMs: number;
  /** Nodes passed over in this election (dead master, elected but silent), until heard again. */
  private readonly excluded = new Map<string, number>();
  /** Why the next election happens (for the log line). */
  private waitingFor: string | undefined;

  constructor(private readonly o: MembershipOptions) {
    this.masterHeardMs = o.nowMs;
    this.lastTickMs = o.nowMs;
  }

  get self(): string {
    return this.o.self;
  }

  private peer(address: string, nowMs: number): PeerState {
    let p = this.peers.get(address);
    if (p === undefined) {
      p = { address, startedAtMs: 0, version: 0, uptodate: false, epoch: 0, lastHeardMs: nowMs, master: false, port: 0, tunnels: 0, sessions: 0 };
      this.peers.set(address, p);
    }
    const out = this.excluded.get(address);
    if (out !== undefined && nowMs > out) this.excluded.delete(address);
    p.lastHeardMs = nowMs;
    return p;
  }

  heardPing(from: string, epoch: number, ping: { startedAtMs: number; version: number; uptodate: boolean }, nowMs: number): Decision {
    if (from === this.o.self) return NONE;
    const p = this.peer(from, nowMs);
    p.startedAtMs = ping.startedAtMs;
    p.version = ping.version;
    p.uptodate = ping.uptodate;
    p.epoch = epoch;
    p.master = false;
    return NONE;
  }

  /** A heartbeat, by multicast or on the replication stream (either shows the master alive). */
  heardHeartbeat(from: string, epoch: number, hb: { startedAtMs: number; version: number; port: number; tunnels: number; sessions: number }, nowMs: number): Decision {
    if (from === this.o.self) return NONE;
    const p = this.peer(from, nowMs);
    p.startedAtMs = hb.startedAtMs;
    p.version = hb.version;
    p.epoch = epoch;
    p.master = true;
    p.port = hb.port;
    p.tunnels = hb.tunnels;
    p.sessions = hb.sessions;
    p.uptodate = true;
    if (this.role === "master") {
      if (epoch > this.epoch || (epoch === this.epoch && compareAddresses(from, this.o.self) > 0)) {
        return this.stepDown(`${from} is the master (epoch ${String(epoch)}; mine ${String(this.epoch)})`);
      }
      return NONE;
    }
    // A master of an older epoch is one the cluster has left (woken from a stall): not followed.
    if (epoch < this.epoch) return NONE;
    const changed = this.master !== from || this.epoch !== epoch || this.role === "starting";
    this.master = from;
    this.epoch = epoch;
    this.masterHeardMs = nowMs;
    this.role = "slave";
    this.waitingFor = undefined;
    this.excluded.delete(from);
    return changed ? { type: "follow", master: from, epoch } : NONE;
  }

  /** The master said it stops (SIGTERM): elect now rather than after the timeout. */
  masterResigned(from: string, nowMs: number, uptodate: boolean): Decision {
    if (this.role === "master" || from !== this.master) return NONE;
    this.excluded.set(from, nowMs);
    const p = this.peers.get(from);
    if (p !== undefined) p.master = false;
    return this.elect(nowMs, `${from} resigned`, uptodate);
  }

  /**
   * Called every heartbeat interval (and more often is fine) with this node's own standing.
   * `uptodate`: this node holds the master's state.
   */
  tick(nowMs: number, uptodate: boolean): Decision {
    const stalledMs = nowMs - this.lastTickMs;
    this.lastTickMs = nowMs;
    if (this.role === "master") {
      // Stopped for longer than the timeout with peers that saw it go quiet: they may have elected
      // another; their heartbeat, if so, makes this node step down.
      if (stalledMs > this.o.hbTimeoutMs && [...this.peers.values()].some((p) => nowMs - stalledMs - p.lastHeardMs <= this.o.hbTimeoutMs)) {
        return { type: "fence", reason: `stalled for ${(stalledMs / 1000).toFixed(1)} s, longer than cluster_hb_timeout` };
      }
      return NONE;
    }
    // This node was stopped itself (SIGSTOP, a starved CPU): the master's silence is its own
    // deafness. What arrived meanwhile is read next; the master gets a whole timeout to be heard.
    if (stalledMs > this.o.hbTimeoutMs) {
      this.masterHeardMs = nowMs;
      return NONE;
    }
    if (nowMs - this.masterHeardMs < this.o.hbTimeoutMs) return NONE;
    let why: string;
    if (this.role === "starting") why = "no master heard since start";
    else if (this.waitingFor !== undefined) {
      why = `${this.waitingFor} was elected but sent no heartbeat`;
      this.excluded.set(this.waitingFor, nowMs);
    } else {
      why = `master ${this.master ?? "?"} timed out`;
      if (this.master !== undefined) this.excluded.set(this.master, nowMs);
    }
    return this.elect(nowMs, why, uptodate);
  }

  /** The node starts listening now: the time it waits for a master counts from here. */
  listenFrom(nowMs: number): void {
    this.masterHeardMs = nowMs;
    this.lastTickMs = nowMs;
  }

  /** This node was busy on purpose until now (taking over): the time since its last tick is no stall. */
  resumed(nowMs: number): void {
    this.lastTickMs = nowMs;
  }

  /** The nodes alive that may be elected, best first. */
  candidates(nowMs: number, selfUptodate: boolean): { address: string; uptodate: boolean; startedAtMs: number }[] {
    const list = [{ address: this.o.self, uptodate: selfUptodate, startedAtMs: this.o.startedAtMs }];
    for (const p of this.peers.values()) {
      if (nowMs - p.lastHeardMs > this.o.hbTimeoutMs || this.excluded.has(p.address)) continue;
      list.push({ address: p.address, uptodate: p.uptodate, startedAtMs: p.startedAtMs });
    }
    return list.sort((a, b) => Number(b.uptodate) - Number(a.uptodate) || a.startedAtMs - b.startedAtMs || compareAddresses(b.address, a.address));
  }

  private elect(nowMs: number, why: string, selfUptodate: boolean): Decision {
    const best = this.candidates(nowMs, selfUptodate)[0];
    this.masterHeardMs = nowMs;
    if (best === undefined || best.address === this.o.self) {
      let epoch = this.epoch;
      for (const p of this.peers.values()) epoch = Math.max(epoch, p.epoch);
      this.epoch = epoch + 1;
      this.role = "master";
      this.master = this.o.self;
      this.waitingFor = undefined;
      return { type: "take-over", epoch: this.epoch, reason: why };
    }
    // Another node should take over: wait one timeout for its heartbeat.
    this.waitingFor = best.address;
    if (this.role !== "starting") this.role = "slave";
    this.master = undefined;
    return { type: "expect", master: best.address, reason: why };
  }

  private stepDown(reason: string): Decision {
    this.role = "slave";
    this.master = undefined;
    this.masterHeardMs = this.lastTickMs;
    return { type: "step-down", reason };
  }
}
