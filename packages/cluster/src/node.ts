// One cluster node: pings or heartbeats every cluster_hb_interval, the election (membership.ts),
// the master's replication streams and output commit (replication.ts), a slave's replica, the
// datagrams a slave passes to the master and the counters it reports. What the records mean is the
// host's (lnsd): this module calls it when the node becomes the master (with the replica to resume
// from), steps down, follows a master, receives a forwarded datagram or a counter report.
// Control thread.
import type { Clock, TimerHandle } from "@lnsd/io";
import { open, seal } from "./frame.js";
import { Membership, type Decision, type PeerState, type Role } from "./membership.js";
import { Replica, Replication, type ReplicatedChange, type SlaveLink, type SnapshotSource } from "./replication.js";
import { decodeMessage, encodeMessage, type Body, type ClusterMessage, type SessionCounters } from "./schema.js";
import type { ClusterTransport, StreamLink } from "./transport.js";

export interface ClusterHost {
  /** The master, for a slave's snapshot: every live record's key now, each record's body when asked. */
  snapshot(): SnapshotSource;
  /** The newest committed version (the master's). */
  version(): number;
  /** For heartbeats and `show cluster`. */
  counts(): { tunnels: number; sessions: number };
  /**
   * This node is the master now. `replica`: the master's records this slave held (a takeover);
   * undefined when it held none (the cluster starts with this node).
   */
  becomeMaster(replica: Replica | undefined, epoch: number): void;
  /** This node was the master and another is: it must release nothing more. */
  stepDown(reason: string): void;
  /** A slave: the replica's records changed (the data plane follows). */
  replicaChanged?(replica: Replica, changed: readonly { kind: string; id: string; op: "upsert" | "delete" }[] | "all"): void;
  /** The master: a datagram a slave received. */
  forwarded(address: string, port: number, payload: Uint8Array, channel: number): void;
  /** The master: traffic a slave carried. */
  counters?(sessions: readonly SessionCounters[]): void;
  /** A slave: its traffic since the last report (every second). */
  takeCounters?(): SessionCounters[];
  /** The master: a slave asks it to act (an nsctl request that reached the slave). */
  request?(kind: string, body: Uint8Array): Promise<Uint8Array>;
}

/** "critical" is l2tpns's level 0: the lines it always logs (its cluster events), kept at that level for log watchers. */
export type LogLevel = "critical" | "error" | "warn" | "info" | "debug";

export interface ClusterNodeOptions {
  readonly transport: ClusterTransport;
  readonly host: ClusterHost;
  readonly clock: Clock;
  readonly secret: string;
  /** When this lnsd started (epoch ms): the longest uptime wins an election. */
  readonly startedAtMs: number;
  readonly hbIntervalMs: number;
  readonly hbTimeoutMs: number;
  /** How long the master waits for a slave's acknowledgement before dropping it (default: cluster_hb_timeout, at most 1 s). */
  readonly ackTimeoutMs?: number;
  readonly log: (level: LogLevel, reason: string, message: string) => void;
  readonly defer?: (fn: () => void) => void;
}

/** How long a slave waits for the master's answer to a request. */
const REQUEST_TIMEOUT_MS = 5000;

/** Datagrams a slave keeps while it has no master to pass them to, and for how long. */
const FORWARD_BUFFER = 10_000;
const FORWARD_BUFFER_MS = 3000;
const COUNTERS_MS = 1000;

interface Buffered {
  readonly body: Extract<Body, { type: "forward" }>;
  readonly atMs: number;
}

export class ClusterNode {
  readonly membership: Membership;
  private replication: Replication | undefined;
  readonly replica = new Replica();
  private masterLink: StreamLink | undefined;
  private tcpPort = 0;
  private timer: TimerHandle | undefined;
  private ackTimer: TimerHandle | undefined;
  private countersTimer: TimerHandle | undefined;
  private buffered: Buffered[] = [];
  private ackScheduled = false;
  /** The stream on which "Now uptodate with master." was said. */
  private saidUptodate: StreamLink | undefined;
  private lastHeartbeatMs = 0;
  /** Set while a master that stalled waits to learn whether it was replaced: output waits on it. */
  private fence: { readonly released: Promise<void>; readonly release: () => void; readonly timer: TimerHandle } | undefined;
  private closed = false;
  private nextRequest = 1;
  private readonly requests = new Map<number, { resolve: (body: Uint8Array | undefined) => void; timer: TimerHandle }>();
  private readonly defer: (fn: () => void) => void;
  /** Frames dropped, by reason (metrics); forwarded datagrams; resyncs. */
  readonly counters = { badFrames: new Map<string, number>(), forwarded: 0, forwardDropped: 0, received: 0, resyncs: 0, elections: 0 };

  constructor(private readonly o: ClusterNodeOptions) {
    this.defer = o.defer ?? ((fn) => { setImmediate(fn); });
    this.membership = new Membership({ self: o.transport.self, startedAtMs: o.startedAtMs, hbTimeoutMs: o.hbTimeoutMs, nowMs: o.clock.now() });
  }

  get role(): Role {
    return this.membership.role;
  }

  isMaster(): boolean {
    return this.membership.role === "master";
  }

  get self(): string {
    return this.o.transport.self;
  }

  get epoch(): number {
    return this.membership.epoch;
  }

  get peers(): readonly PeerState[] {
    return [...this.membership.peers.values()];
  }

  /** Peers heard within cluster_hb_timeout. */
  get livePeers(): PeerState[] {
    const now = this.o.clock.now();
    return this.peers.filter((p) => now - p.lastHeardMs <= this.o.hbTimeoutMs);
  }

  /** The master's newest committed version; a slave's replica's. */
  get version(): number {
    return this.membership.role === "master" ? this.o.host.version() : this.replica.version;
  }

  /** The master: the slaves and what each acknowledged. */
  get slaves(): Map<string, { acked: number; uptodate: boolean }> {
    return this.replication?.acked() ?? new Map<string, { acked: number; uptodate: boolean }>();
  }

  get uptodateSlaves(): number {
    return this.replication?.uptodate.length ?? 0;
  }

  /** A slave holds the master's state (its stream may have just closed: the master died). */
  get uptodate(): boolean {
    return this.membership.role === "slave" && this.replica.complete;
  }

  get lastHeartbeatAgeMs(): number {
    return this.o.clock.now() - this.lastHeartbeatMs;
  }

  get replicationCounters(): Replication["counters"] | undefined {
    return this.replication?.counters;
  }

  /** A slave silent this long while output waits for it is dropped: the timeout (a slave that stalls as long is replaced anyway), at most 1 s (the LAC's first retransmission). */
  private get ackTimeoutMs(): number {
    return this.o.ackTimeoutMs ?? Math.min(this.o.hbTimeoutMs, 1000);
  }

  takeCommitLatencies(): number[] {
    return this.replication?.takeLatencies() ?? [];
  }

  async start(): Promise<void> {
    this.o.transport.onMulticast((frame, from) => { this.receiveMulticast(frame, from); });
    this.tcpPort = await this.o.transport.listen((link) => { this.accept(link); });
    // The whole cluster_hb_timeout to hear a master counts from now, not from when lnsd began to start.
    this.membership.listenFrom(this.o.clock.now());
    this.lastHeartbeatMs = this.o.clock.now();
    const tick = (): void => {
      if (this.closed) return;
      this.timer = this.o.clock.setTimeout(tick, this.o.hbIntervalMs);
      this.tick();
    };
    this.timer = this.o.clock.setTimeout(tick, this.o.hbIntervalMs);
    const counters = (): void => {
      if (this.closed) return;
      this.countersTimer = this.o.clock.setTimeout(counters, COUNTERS_MS);
      this.reportCounters();
    };
    this.countersTimer = this.o.clock.setTimeout(counters, COUNTERS_MS);
    this.sendPing();
  }

  /** The master's store published a commit: to every slave. */
  changes(changes: readonly ReplicatedChange[], timeMs: number): void {
    this.replication?.changes(changes, timeMs);
  }

  /**
   * The output commit: undefined when every up-to-date slave holds `version`, else a promise
   * resolved once they do (a slave too slow is dropped after the bound). Not the master: never.
   */
  barrier(version: number): Promise<void> | undefined {
    if (this.membership.role !== "master") return new Promise<void>(() => undefined);
    // A master that was stopped longer than the timeout learns it here before anything leaves.
    if (this.o.clock.now() - this.lastHeartbeatMs > this.o.hbTimeoutMs) {
      this.decide(this.membership.tick(this.o.clock.now(), false));
      if (!this.isMaster()) return new Promise<void>(() => undefined);
    }
    const r = this.replication;
    const wait = r?.barrier(version);
    if (wait !== undefined && this.ackTimer === undefined) this.armAckCheck();
    if (wait === undefined && this.fence === undefined) return undefined;
    // Whatever releases the wait (acknowledgements, a slave dropped), a fence raised meanwhile
    // holds the output too, and a node that stepped down never lets it go.
    return (wait ?? Promise.resolve()).then(async () => {
      while (this.fence !== undefined) await this.fence.released;
      if (!this.isMaster()) await new Promise<never>(() => undefined);
    });
  }

  /** Whether output is held because this master stalled (`show cluster`, tests). */
  get fenced(): boolean {
    return this.fence !== undefined;
  }

  private armAckCheck(): void {
    const ms = this.ackTimeoutMs;
    this.ackTimer = this.o.clock.setTimeout(() => {
      this.ackTimer = undefined;
      // A stall first: slaves silent because this node was stopped are not dropped while it does
      // not know whether it is still the master (fenced).
      if (this.o.clock.now() - this.lastHeartbeatMs > this.o.hbTimeoutMs) this.decide(this.membership.tick(this.o.clock.now(), false));
      if (this.fence !== undefined) {
        this.armAckCheck();
        return;
      }
      this.replication?.checkTimeouts();
      if (this.replication?.waiting === true) this.armAckCheck();
    }, ms);
  }

  /**
   * A datagram this node received while it is not the master: passed to the master (kept a few
   * seconds while there is none). Returns false when it was dropped.
   */
  forward(address: string, port: number, payload: Uint8Array, channel = 0): boolean {
    const body: Extract<Body, { type: "forward" }> = { type: "forward", address, port, payload: Buffer.from(payload), channel };
    // The master takes datagrams whatever this node's copy holds: only a stream is needed.
    if (this.masterLink !== undefined) {
      this.counters.forwarded++;
      return this.sendOn(this.masterLink, body);
    }
    const now = this.o.clock.now();
    while (this.buffered.length > 0 && (this.buffered.length >= FORWARD_BUFFER || now - (this.buffered[0]?.atMs ?? now) > FORWARD_BUFFER_MS)) {
      this.buffered.shift();
      this.counters.forwardDropped++;
    }
    this.buffered.push({ body, atMs: now });
    return true;
  }

  /**
   * A slave asks the master to act and waits for the answer; undefined when there is no master to
   * ask or it did not answer within 5 s.
   */
  request(kind: string, body: Uint8Array): Promise<Uint8Array | undefined> {
    const link = this.masterLink;
    if (link === undefined || this.membership.role !== "slave") return Promise.resolve(undefined);
    const id = this.nextRequest;
    this.nextRequest = (this.nextRequest % 0xffffffff) + 1;
    return new Promise((resolve) => {
      const timer = this.o.clock.setTimeout(() => {
        this.requests.delete(id);
        resolve(undefined);
      }, REQUEST_TIMEOUT_MS);
      this.requests.set(id, { resolve, timer });
      if (!this.sendOn(link, { type: "request", id, kind, body })) {
        timer.cancel();
        this.requests.delete(id);
        resolve(undefined);
      }
    });
  }

  /**
   * SIGTERM on the master: every change so far goes to the slaves, then "resign", so that one of
   * them takes over at once; resolves when the streams have taken it (or after `maxWaitMs`).
   */
  async resign(maxWaitMs = 1000): Promise<void> {
    const r = this.replication;
    if (this.membership.role !== "master" || r === undefined || r.uptodate.length === 0) return;
    const version = this.o.host.version();
    const wait = r.barrier(version);
    if (wait !== undefined) {
      await Promise.race([wait, new Promise<void>((res) => { this.o.clock.setTimeout(res, maxWaitMs); })]);
    }
    r.broadcast({ type: "resign", version });
    this.o.log("info", "cluster-resign", `handing over to the slaves at version ${String(version)}`);
  }

  close(): void {
    this.closed = true;
    this.timer?.cancel();
    this.ackTimer?.cancel();
    this.countersTimer?.cancel();
    this.replication?.close("this node stops");
    this.masterLink?.close();
    this.o.transport.close();
  }

  private message(body: Body): Buffer {
    return seal(this.o.secret, encodeMessage({ node: this.self, epoch: this.membership.epoch, body }));
  }

  private sendOn(link: StreamLink | SlaveLink, body: Body): boolean {
    if ("remote" in link) return link.send(this.message(body));
    return link.send(body);
  }

  /** An authenticated, well-formed message, or undefined (counted). */
  private openFrame(frame: Buffer): ClusterMessage | undefined {
    const opened = open(this.o.secret, frame);
    if (!opened.ok) {
      this.bad(opened.reason === "mac" ? "bad-mac" : "malformed");
      return undefined;
    }
    const d = decodeMessage(opened.message);
    if (!d.ok) {
      this.bad("undecodable");
      return undefined;
    }
    this.counters.received++;
    return d.value;
  }

  private bad(reason: string): void {
    this.counters.badFrames.set(reason, (this.counters.badFrames.get(reason) ?? 0) + 1);
    this.o.log("warn", `cluster-${reason}`, `cluster message dropped (${reason === "bad-mac" ? "its HMAC does not match: check that every node has the same cluster_secret" : reason}); counted in lnsd_cluster_dropped_total`);
  }

  private receiveMulticast(frame: Buffer, _from: string): void {
    const m = this.openFrame(frame);
    if (m === undefined || m.node === this.self) return;
    const now = this.o.clock.now();
    const isNew = !this.membership.peers.has(m.node);
    if (m.body.type === "ping") this.decide(this.membership.heardPing(m.node, m.epoch, m.body.ping, now));
    else if (m.body.type === "heartbeat") this.heartbeat(m, m.body.heartbeat);
    if (isNew && this.membership.peers.has(m.node)) this.o.log("error", "cluster-peer", `Added ${m.node} as a new peer. Now ${String(this.membership.peers.size)} peers`);
  }

  private heartbeat(m: ClusterMessage, hb: Extract<Body, { type: "heartbeat" }>["heartbeat"]): void {
    if (this.membership.role === "master" && m.epoch >= this.membership.epoch) this.o.log("critical", "cluster-two-masters", `I just got a heartbeat from master ${m.node}, but _I_ am the master!`);
    this.decide(this.membership.heardHeartbeat(m.node, m.epoch, hb, this.o.clock.now()));
    // A slave without its stream to the master (or to an older master) connects.
    if (this.membership.role === "slave" && this.membership.master === m.node && (this.masterLink === undefined || this.masterLink.remote !== m.node)) this.connectMaster(m.node, hb.port);
  }

  private tick(): void {
    const now = this.o.clock.now();
    this.decide(this.membership.tick(now, this.uptodate));
    if (this.membership.role === "master") {
      this.lastHeartbeatMs = now;
      const { tunnels, sessions } = this.o.host.counts();
      const body: Body = { type: "heartbeat", heartbeat: { startedAtMs: this.o.startedAtMs, version: this.o.host.version(), port: this.tcpPort, uptodateSlaves: this.uptodateSlaves, tunnels, sessions } };
      this.o.transport.multicast(this.message(body));
      // On the streams too: a slave that still has its stream knows the master is alive even when
      // multicast is lost (a switch's IGMP snooping, a filter), and does not elect another.
      this.replication?.broadcast(body);
      this.replication?.checkTimeouts();
    } else {
      this.sendPing();
    }
  }

  private sendPing(): void {
    this.o.transport.multicast(this.message({ type: "ping", ping: { startedAtMs: this.o.startedAtMs, version: this.replica.version, uptodate: this.uptodate, epoch: this.membership.epoch } }));
  }

  private decide(d: Decision): void {
    switch (d.type) {
      case "none":
        return;
      case "follow": {
        const before = this.masterLink?.remote;
        if (before !== undefined && before !== d.master) this.o.log("critical", "cluster-master-changed", `My master just changed from ${before} to ${d.master}!`);
        else this.o.log("info", "cluster-follow", `following master ${d.master} (epoch ${String(d.epoch)})`);
        this.masterLink?.close();
        this.masterLink = undefined;
        // The replica stays until the new master's snapshot replaces it: its sessions' traffic
        // goes on through this node meanwhile. But it is the old master's state: not one to be
        // elected for or to take over from.
        if (before !== undefined && before !== d.master) this.replica.stale = true;
        return;
      }
      case "expect":
        if (d.reason.endsWith("resigned")) this.o.log("info", "cluster-election", `Holding election: ${d.reason}`);
        else this.o.log("critical", "cluster-election", `Master timed out! Holding election... (${d.reason})`);
        this.o.log("error", "cluster-election", `Expecting ${d.master} to become master`);
        return;
      case "take-over":
        this.takeOver(d.epoch, d.reason);
        return;
      case "fence": {
        if (this.fence !== undefined) return;
        this.o.log("warn", "cluster-fence", `${d.reason}: holding all output until the cluster shows whether another node took over (${String(this.o.hbTimeoutMs)} ms)`);
        let release = (): void => undefined;
        const released = new Promise<void>((res) => { release = res; });
        const timer = this.o.clock.setTimeout(() => {
          if (this.fence?.timer !== timer) return;
          this.fence = undefined;
          this.o.log("info", "cluster-fence", "no other master heard: this node is still the master, output released");
          release();
        }, this.o.hbTimeoutMs);
        this.fence = { released, release, timer };
        return;
      }
      case "step-down":
        // Whatever a stall held stays held: a master that is not one releases nothing.
        this.fence?.timer.cancel();
        this.fence = undefined;
        this.o.log("critical", "cluster-step-down", `${d.reason}, so I'm gone!`);
        this.replication?.close("this node is not the master any more");
        this.replication = undefined;
        this.o.host.stepDown(d.reason);
        return;
      default: {
        const never: never = d;
        return never;
      }
    }
  }

  private takeOver(epoch: number, reason: string): void {
    this.counters.elections++;
    if (reason.endsWith("resigned")) this.o.log("info", "cluster-election", `Holding election: ${reason}`);
    else if (reason !== "no master heard since start") this.o.log("critical", "cluster-election", `Master timed out! Holding election... (${reason})`);
    this.o.log("critical", "cluster-master", `I am declaring myself the master! (epoch ${String(epoch)})`);
    this.masterLink?.close();
    this.masterLink = undefined;
    this.replication = new Replication({
      ackTimeoutMs: this.ackTimeoutMs,
      nowMs: () => this.o.clock.now(),
      defer: this.defer,
      onUptodate: (address, uptodate, why) => {
        if (uptodate) this.o.log("info", "cluster-slave-uptodate", `slave ${address} is up to date (${why})`);
        else this.o.log("warn", "cluster-slave-dropped", `slave ${address} is no longer up to date: ${why}`);
      },
    });
    // Heartbeat at once (the others stop their election and connect), and again after the resume,
    // which takes about a millisecond per session and is no stall.
    this.tick();
    this.o.host.becomeMaster(this.replica.complete ? this.replica : undefined, epoch);
    this.replica.reset();
    this.membership.resumed(this.o.clock.now());
    this.lastHeartbeatMs = this.o.clock.now();
    this.tick();
    const now = this.o.clock.now();
    const buffered = this.buffered;
    this.buffered = [];
    for (const b of buffered) {
      if (now - b.atMs > FORWARD_BUFFER_MS) this.counters.forwardDropped++;
      else this.o.host.forwarded(b.body.address, b.body.port, b.body.payload, b.body.channel);
    }
  }

  private connectMaster(address: string, port: number): void {
    this.masterLink?.close();
    // A whole snapshot follows; until its last chunk the old replica stays usable.
    this.counters.resyncs++;
    const link = this.o.transport.connect(address, port);
    this.masterLink = link;
    link.onFrame((frame) => {
      const m = this.openFrame(frame);
      if (m !== undefined) this.fromMaster(link, m);
    });
    link.onClose((why) => {
      if (this.masterLink !== link) return;
      this.masterLink = undefined;
      // The replica stays: it is what this node resumes if the master is gone (and the data plane
      // keeps forwarding from it meanwhile); a master heard again sends a whole snapshot.
      this.o.log("warn", "cluster-stream", `replication stream to master ${address} closed (${why}): resyncing at its next heartbeat`);
    });
    this.sendOn(link, { type: "hello", startedAtMs: this.o.startedAtMs });
    // What came in while there was no stream goes now, oldest first; what waited too long is dropped.
    const now = this.o.clock.now();
    const buffered = this.buffered;
    this.buffered = [];
    for (const x of buffered) {
      if (now - x.atMs > FORWARD_BUFFER_MS) this.counters.forwardDropped++;
      else {
        this.counters.forwarded++;
        this.sendOn(link, x.body);
      }
    }
  }

  private fromMaster(link: StreamLink, m: ClusterMessage): void {
    if (m.epoch < this.membership.epoch || this.membership.role !== "slave") {
      link.close();
      return;
    }
    const b = m.body;
    switch (b.type) {
      case "snapshot": {
        const r = this.replica.snapshotChunk(b.version, b.last, b.entries, b.consistentAt);
        if (r.error !== undefined) {
          this.o.log("error", "cluster-snapshot", `snapshot from ${m.node} unreadable (${r.error}): resyncing`);
          link.close();
          return;
        }
        if (r.done) {
          this.noteUptodate(m.node);
          this.o.host.replicaChanged?.(this.replica, "all");
          this.scheduleAck(link);
        }
        return;
      }
      case "changes": {
        if (!this.replica.received) return;
        const r = this.replica.apply(b.entries);
        if (r.error !== undefined) {
          this.o.log("error", "cluster-changes", `changes from ${m.node} unreadable (${r.error}): resyncing`);
          link.close();
          return;
        }
        this.noteUptodate(m.node);
        if (r.changed.length > 0) this.o.host.replicaChanged?.(this.replica, r.changed);
        this.scheduleAck(link);
        return;
      }
      case "heartbeat":
        this.decide(this.membership.heardHeartbeat(m.node, m.epoch, b.heartbeat, this.o.clock.now()));
        return;
      case "response": {
        const r = this.requests.get(b.id);
        if (r === undefined) return;
        this.requests.delete(b.id);
        r.timer.cancel();
        r.resolve(b.body);
        return;
      }
      case "resign":
        this.o.log("info", "cluster-resign", `master ${m.node} resigned at version ${String(b.version)} (this node holds ${String(this.replica.version)})`);
        this.decide(this.membership.masterResigned(m.node, this.o.clock.now(), this.uptodate));
        return;
      default:
        return;
    }
  }

  /** Logged once per stream, when the replica becomes the master's state (l2tpns's words). */
  private noteUptodate(master: string): void {
    if (!this.replica.complete || this.saidUptodate === this.masterLink) return;
    this.saidUptodate = this.masterLink;
    this.o.log("critical", "cluster-uptodate", `Now uptodate with master. (${master}, version ${String(this.replica.version)}, ${String(this.replica.size)} records)`);
  }

  /** One acknowledgement per turn, of the newest version held. */
  private scheduleAck(link: StreamLink): void {
    if (this.ackScheduled) return;
    this.ackScheduled = true;
    this.defer(() => {
      this.ackScheduled = false;
      if (this.masterLink === link) this.sendOn(link, { type: "ack", version: this.replica.version });
    });
  }

  /** A stream from a slave (this node should be the master). */
  private accept(link: StreamLink): void {
    link.onFrame((frame) => {
      const m = this.openFrame(frame);
      if (m === undefined) return;
      const r = this.replication;
      if (r === undefined || this.membership.role !== "master") {
        link.close();
        return;
      }
      const b = m.body;
      switch (b.type) {
        case "hello": {
          const snap = this.o.host.snapshot();
          const slaveLink: SlaveLink = { send: (body) => this.sendOn(link, body), get pendingBytes() { return link.pendingBytes; }, close: () => { link.close(); } };
          this.o.log("info", "cluster-slave", `slave ${m.node} connected: sending ${String(snap.keys.length)} records from version ${String(snap.version)}`);
          r.addSlave(m.node, slaveLink, snap);
          link.onClose((why) => { this.replication?.removeSlave(m.node, `its stream closed (${why})`); });
          return;
        }
        case "ack":
          r.ack(m.node, b.version);
          return;
        case "forward":
          this.o.host.forwarded(b.address, b.port, b.payload, b.channel);
          return;
        case "counters":
          this.o.host.counters?.(b.sessions);
          return;
        case "request": {
          const answer = this.o.host.request?.(b.kind, b.body);
          if (answer === undefined) return;
          void answer.then((body) => { this.sendOn(link, { type: "response", id: b.id, body }); });
          return;
        }
        default:
          return;
      }
    });
  }

  private reportCounters(): void {
    if (this.membership.role !== "slave" || this.masterLink === undefined) return;
    const sessions = this.o.host.takeCounters?.() ?? [];
    if (sessions.length > 0) this.sendOn(this.masterLink, { type: "counters", sessions });
  }
}
