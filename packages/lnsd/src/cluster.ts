// lnsd in a cluster (issue 14), around @lnsd/cluster's node: the L2TP socket's switch (the master
// handles what arrives; a slave passes it to the master), the replication of the record store's
// changes, the output commit's barrier, a slave's data plane fed from its replica (it forwards its
// sessions' traffic itself and reports the counters), and the takeover: the replica resumed
// exactly as a restarted lnsd resumes its journal. A node whose startup-config sets no
// cluster_address is a cluster of one and none of this runs. Control thread.
import type { StartupConfig, StartupSettings } from "@lnsd/config";
import { ClusterNode, interfaceAddress, UdpTcpTransport, type ClusterHost, type ClusterTransport, type Replica, type ReplicatedChange, type SessionCounters, type SnapshotSource } from "@lnsd/cluster";
import type { CounterDelta, DataPlane } from "@lnsd/dataplane";
import type { Clock, PeerAddress, UdpEndpoint } from "@lnsd/io";
import { decodeJsonBody, encodeJsonBody, type StoredRecord } from "@lnsd/journal";
import type { SessionRecord, TunnelRecord } from "@lnsd/l2tp";
import { decodeL2tpHeader, encodeL2tpDataMessage, formatIpv4, parseIpv4, pppHeaderLength, pppProtocolAt } from "@lnsd/wire";
import type { CliResult, CliSessionRow, CliTunnel } from "@lnsd/cli";
import { err, type ControlResponse } from "@lnsd/control";
import type { PluginHostControl } from "./control-backend.js";
import type { Logger } from "./log.js";
import type { SessionManager, Subscriber, SubscriberRecord } from "./sessions.js";
import { stateFromRecords, type RestoredState } from "./state.js";
import { changeBody, type RecordChange, type RecordKind, type RecordStore } from "./store.js";

/** Forwarded datagrams: 0 came to the L2TP socket, 1 to the DAE socket (RFC 5176). */
export const L2TP_CHANNEL = 0;
export const DAE_CHANNEL = 1;

/** l2tpns clusters on its defaults; lnsd only when the startup-config names a cluster_address. */
export function clusterConfigured(config: StartupConfig): boolean {
  return config.explicit.has("cluster_address");
}

/**
 * The L2TP socket as the daemon sees it in a cluster: while this node is the master, datagrams go
 * to the daemon and its sends leave; otherwise every datagram goes to `forward` (the master gets
 * it) and nothing is sent. The master's cluster node injects the datagrams slaves passed on.
 */
export class ClusterSwitch {
  master = false;
  private handler: ((packet: Buffer, from: PeerAddress) => void) | undefined;
  /** Datagrams passed to the master, answered here (LCP Echo), and sends refused while not the master. */
  readonly counters = { forwarded: 0, answered: 0, refusedSends: 0 };

  /**
   * `answer`: what a non-master answers itself (a keepalive), so that it is answered while the
   * master changes; undefined passes the datagram to the master.
   */
  constructor(
    private readonly forward: (packet: Buffer, from: PeerAddress) => void,
    private readonly answer?: (packet: Buffer) => Buffer | undefined,
  ) {}

  wrap(e: UdpEndpoint): UdpEndpoint {
    e.onMessage((packet, from) => {
      if (this.master) {
        this.handler?.(packet, from);
        return;
      }
      const reply = this.answer?.(packet);
      if (reply !== undefined) {
        this.counters.answered++;
        e.send(reply, from);
        return;
      }
      this.counters.forwarded++;
      this.forward(packet, from);
    });
    return {
      local: e.local,
      send: (packet, to) => {
        if (this.master) e.send(packet, to);
        else this.counters.refusedSends++;
      },
      onMessage: (h) => { this.handler = h; },
      close: () => { e.close(); },
    };
  }

  /** A datagram a slave received, as if it had arrived here. */
  inject(packet: Buffer, from: PeerAddress): void {
    if (this.master) this.handler?.(packet, from);
  }
}

function body(r: StoredRecord | undefined): object | undefined {
  if (r === undefined || r.format !== "json") return undefined;
  const d = decodeJsonBody(r.body);
  return d.ok && typeof d.value === "object" && d.value !== null ? d.value : undefined;
}

/**
 * A slave's data plane: every online session of the replica is published in the shared table, so
 * that the slave forwards the traffic the network sends it (as an l2tpns slave does), and its
 * counters go to the master every second.
 */
export class ReplicaDataPath {
  private readonly slots = new Map<string, number>();
  /** What each published entry holds but its policy, and its policy (JSON), to see what changed. */
  private readonly shapes = new Map<string, string>();
  private readonly policies = new Map<string, string>();
  private readonly pending = new Map<string, { rxPackets: number; txPackets: number; rxOctets: number; txOctets: number }>();
  private readonly delta: CounterDelta = { rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0, drops: 0 };

  constructor(private readonly plane: DataPlane, private readonly logger: Logger) {}

  get size(): number {
    return this.slots.size;
  }

  changed(replica: Replica, changed: readonly { kind: string; id: string; op: "upsert" | "delete" }[] | "all"): void {
    if (changed === "all") {
      const ids = replica.records.get("subscriber") ?? new Map<string, StoredRecord>();
      for (const id of [...this.slots.keys()]) if (!ids.has(id)) this.unpublish(id);
      for (const id of ids.keys()) this.publish(replica, id);
      return;
    }
    for (const c of changed) {
      if (c.kind !== "subscriber") continue;
      if (c.op === "delete") this.unpublish(c.id);
      else this.publish(replica, c.id);
    }
  }

  private publish(replica: Replica, id: string): void {
    const sub = body(replica.records.get("subscriber")?.get(id)) as SubscriberRecord | undefined;
    const [tid] = id.split("/");
    const tunnel = body(replica.records.get("tunnel")?.get(tid ?? "")) as TunnelRecord | undefined;
    const session = body(replica.records.get("session")?.get(id)) as SessionRecord | undefined;
    const peerAddress = tunnel === undefined ? undefined : parseIpv4(tunnel.address.address);
    if (sub?.address === undefined || sub.upAt === undefined || tunnel === undefined || session === undefined || peerAddress === undefined) {
      this.unpublish(id);
      return;
    }
    const list = (name: string | undefined): number | undefined => {
      if (name === undefined) return undefined;
      const i = this.plane.filters.indexOf(name);
      return i < 0 ? undefined : i;
    };
    const filterUp = list(sub.filterIn);
    const filterDown = list(sub.filterOut);
    const policy = {
      ...(sub.throttle === undefined ? {} : { rateUp: sub.throttle.up, rateDown: sub.throttle.down }),
      ...(sub.snoop === undefined ? {} : { snoop: sub.snoop }),
      ...(filterUp === undefined ? {} : { filterUp }),
      ...(filterDown === undefined ? {} : { filterDown }),
      ...(sub.garden === true ? { garden: true } : {}),
    };
    const entry = {
      localTunnelId: tunnel.localId,
      localSessionId: session.localId,
      peerTunnelId: tunnel.peerId,
      peerSessionId: session.peerId,
      peerAddress,
      peerPort: tunnel.address.port,
      ipv4: sub.address,
      routes: [],
      sequencing: session.call.sequencingRequired === true,
      ipv4Up: sub.ppp?.ipcp !== undefined,
      ipv6Up: sub.ppp?.ipv6cp !== undefined,
      sessionId: sub.nasPort,
    };
    // A record rewritten for its counters (every 10 s) or its policy changes nothing the workers
    // hold: the entry stays (its sequence numbers and token buckets with it).
    const shape = JSON.stringify(entry);
    const old = this.slots.get(id);
    if (old !== undefined && this.shapes.get(id) === shape) {
      const p = JSON.stringify(policy);
      if (this.policies.get(id) !== p) {
        this.plane.table.setPolicy(old, policy);
        this.policies.set(id, p);
      }
      return;
    }
    this.unpublish(id);
    const slot = this.plane.table.publish({ ...entry, policy });
    if (slot < 0) {
      this.logger.log("error", "dataplane-full", `replica session ${id}: the session table is full (max_sessions): this slave does not forward its traffic`);
      return;
    }
    this.slots.set(id, slot);
    this.shapes.set(id, shape);
    this.policies.set(id, JSON.stringify(policy));
  }

  private unpublish(id: string): void {
    const slot = this.slots.get(id);
    if (slot === undefined) return;
    this.harvest(id, slot);
    this.plane.table.unpublish(slot);
    this.slots.delete(id);
    this.shapes.delete(id);
    this.policies.delete(id);
  }

  private harvest(id: string, slot: number): void {
    const d = this.delta;
    this.plane.table.harvest(slot, d);
    if (d.rxPackets + d.txPackets === 0) return;
    const p = this.pending.get(id) ?? { rxPackets: 0, txPackets: 0, rxOctets: 0, txOctets: 0 };
    p.rxPackets += d.rxPackets;
    p.txPackets += d.txPackets;
    p.rxOctets += d.rxBytes;
    p.txOctets += d.txBytes;
    this.pending.set(id, p);
  }

  /** The traffic forwarded since the last call, per session. */
  take(): SessionCounters[] {
    for (const [id, slot] of this.slots) this.harvest(id, slot);
    const out = [...this.pending].map(([id, c]) => ({ id, ...c }));
    this.pending.clear();
    return out;
  }

  /**
   * This node becomes the master: its entries ("tunnel/session" -> slot) go to the data path that
   * the restored sessions publish through, which replaces each as its session comes back, so that
   * the traffic this node forwards goes on through the takeover.
   */
  handover(): Map<string, number> {
    for (const [id, slot] of this.slots) this.harvest(id, slot);
    const out = new Map(this.slots);
    this.slots.clear();
    this.shapes.clear();
    this.policies.clear();
    this.pending.clear();
    return out;
  }
}

export interface LnsdClusterOptions {
  readonly settings: StartupSettings;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly store: RecordStore;
  readonly startedAtMs: number;
  /** Tests: an in-memory transport instead of multicast and TCP on cluster_interface. */
  readonly transport?: ClusterTransport;
  readonly wallClockMs?: () => number;
}

/** What lnsd does when the cluster decides (set once the daemon exists). */
export interface ClusterActions {
  readonly sessions: SessionManager;
  /** The L2TP socket's switch (channel 0 of forwarded datagrams). */
  readonly switch: ClusterSwitch;
  /** The DAE socket's (channel 1): a Disconnect or CoA sent to a slave is the master's to answer. */
  readonly daeSwitch?: ClusterSwitch;
  /** Resume this state (a replica; undefined: the node's own, if any) as the master. */
  resume(state: RestoredState | undefined, takeover: boolean): void;
  /** Another node is the master (a stall): stop without touching its sessions. */
  stepDown(reason: string): void;
  /** A master was found at start: whatever state this node kept is stale. */
  following(): void;
  readonly dataPath?: ReplicaDataPath;
  /** The master's data path, that takes over the replica's table entries at a takeover. */
  readonly workerPath?: { adopt(slots: ReadonlyMap<string, number>): void; releaseAdopted(): void };
  /** The master: an nsctl control request that reached a slave (the plugins' control hooks). */
  readonly nsctlControl?: (args: readonly string[]) => Promise<ControlResponse>;
}

/** RFC 1661 5.8: LCP's Echo-Request and Echo-Reply codes; LCP's protocol number. */
const LCP_ECHO_REQUEST = 9;
const LCP_ECHO_REPLY = 10;
const PPP_LCP = 0xc021;

/**
 * A slave answers its sessions' LCP Echo-Requests itself (as l2tpns's slaves do), from the
 * replica: an Echo-Reply with the same Identifier and data and the session's own Magic-Number
 * (RFC 1661 5.8), so that keepalives pass while the master changes. Not for a LAC that sequences
 * data (the reply would need the master's Ns): those go to the master.
 */
export function lcpEchoReply(packet: Buffer, replica: Replica): Buffer | undefined {
  const h = decodeL2tpHeader(packet);
  if (!h.ok || h.value.kind !== "data" || h.value.ns !== undefined) return undefined;
  const ppp = packet.subarray(h.value.payloadOffset, h.value.payloadOffset + h.value.payloadLength);
  const hl = pppHeaderLength(ppp);
  if (hl < 0 || pppProtocolAt(ppp) !== PPP_LCP || ppp.length < hl + 8 || ppp[hl] !== LCP_ECHO_REQUEST) return undefined;
  const lcpLength = ppp.readUInt16BE(hl + 2);
  if (lcpLength < 8 || hl + lcpLength > ppp.length) return undefined;
  const id = `${String(h.value.tunnelId)}/${String(h.value.sessionId)}`;
  const sub = body(replica.records.get("subscriber")?.get(id)) as SubscriberRecord | undefined;
  const tunnel = body(replica.records.get("tunnel")?.get(String(h.value.tunnelId))) as TunnelRecord | undefined;
  const session = body(replica.records.get("session")?.get(id)) as SessionRecord | undefined;
  if (sub?.ppp === undefined || tunnel === undefined || session === undefined || session.call.sequencingRequired === true) return undefined;
  const lcp = Buffer.from(ppp.subarray(hl, hl + lcpLength));
  lcp.writeUInt8(LCP_ECHO_REPLY, 0);
  lcp.writeUInt32BE(sub.ppp.lcp.ourMagic >>> 0, 4);
  // LCP is always sent with the full PPP header (RFC 1661 6.5, 6.6).
  return encodeL2tpDataMessage({ tunnelId: tunnel.peerId, sessionId: session.peerId }, Buffer.concat([Buffer.from([0xff, 0x03, 0xc0, 0x21]), lcp]));
}

/** A slave's nsctl control request, relayed to the master (kind of the cluster's Request). */
export const NSCTL_CONTROL = "nsctl-control";

function isControlResponse(v: unknown): v is ControlResponse {
  if (typeof v !== "object" || v === null) return false;
  const r = v as { code?: unknown; lines?: unknown };
  return typeof r.code === "number" && Array.isArray(r.lines) && r.lines.every((l) => typeof l === "string");
}

/**
 * The nsctl plugin host as a cluster node offers it: a control request on a slave is the
 * master's (its plugins act on the cluster's sessions); loading and unloading stay each node's own.
 */
export function clusterControl(local: PluginHostControl, cluster: LnsdCluster): PluginHostControl {
  return {
    load: (name) => local.load(name),
    unload: (name) => local.unload(name),
    helpLines: () => local.helpLines(),
    control: async (args) => {
      if (cluster.isMaster) return await local.control(args);
      const answer = await cluster.node.request(NSCTL_CONTROL, encodeJsonBody(args));
      const d = answer === undefined ? undefined : decodeJsonBody(answer);
      if (d?.ok === true && isControlResponse(d.value)) return d.value;
      return err(`this node (${cluster.node.self}) is a cluster slave and the master did not answer: try again, or ask the master (show cluster)`);
    },
  };
}

export type ClusterOpen = { readonly ok: true; readonly cluster: LnsdCluster } | { readonly ok: false; readonly error: string };

export class LnsdCluster implements ClusterHost {
  readonly node: ClusterNode;
  private actions: ClusterActions | undefined;
  private everFollowed = false;
  private wasMaster = false;
  private readonly wallClockMs: () => number;

  private constructor(private readonly o: LnsdClusterOptions, transport: ClusterTransport) {
    this.wallClockMs = o.wallClockMs ?? Date.now;
    const s = o.settings;
    if (s.cluster_secret === "") o.logger.log("warn", "cluster-secret", "cluster_secret is not set: cluster messages are authenticated with an empty key, so anyone on the cluster network can forge them; set the same cluster_secret on every node");
    this.node = new ClusterNode({
      transport,
      host: this,
      clock: o.clock,
      secret: s.cluster_secret,
      startedAtMs: o.startedAtMs,
      hbIntervalMs: s.cluster_hb_interval * 100,
      hbTimeoutMs: s.cluster_hb_timeout * 100,
      log: (level, reason, message) => { o.logger.log(level, reason, message); },
    });
    // Every commit of the master's store goes to its slaves (a non-master's store commits nothing).
    o.store.subscribe({ changes: (batch) => { this.node.changes(batch.map(replicated), this.wallClockMs()); } });
  }

  static async open(o: LnsdClusterOptions): Promise<ClusterOpen> {
    let transport = o.transport;
    if (transport === undefined) {
      const s = o.settings;
      const addr = interfaceAddress(s.cluster_interface);
      if (!addr.ok) return { ok: false, error: `${addr.error} (set cluster_interface to the interface the nodes share)` };
      try {
        transport = await UdpTcpTransport.open({ group: s.cluster_address, port: s.cluster_port, address: addr.address, ttl: s.cluster_mcast_ttl });
      } catch (e) {
        return { ok: false, error: `cluster: cannot open ${s.cluster_address}:${String(s.cluster_port)} on ${s.cluster_interface}: ${e instanceof Error ? e.message : String(e)}` };
      }
    }
    return { ok: true, cluster: new LnsdCluster(o, transport) };
  }

  /** The daemon exists: the node starts listening and the election timer runs. */
  async start(actions: ClusterActions): Promise<void> {
    this.actions = actions;
    const s = this.o.settings;
    this.o.logger.log("info", "cluster", `cluster ${s.cluster_address}:${String(s.cluster_port)} on ${s.cluster_interface} (${this.node.self}): listening for a master for ${(s.cluster_hb_timeout / 10).toFixed(1)} s`);
    await this.node.start();
  }

  get isMaster(): boolean {
    return this.node.role === "master";
  }

  nowMs(): number {
    return this.o.clock.now();
  }

  /** The output commit: what the master's last commit changed is held by every up-to-date slave. */
  barrier(version: number): Promise<void> | undefined {
    // Before the first election nothing is sent; a node that stepped down never sends again.
    if (this.node.role !== "master" && !this.wasMaster) return undefined;
    return this.node.barrier(version);
  }

  // ClusterHost

  snapshot(): SnapshotSource {
    const store = this.o.store;
    const { version, keys } = store.keys();
    return {
      version,
      keys,
      // Chunks read records as they are, marks not yet committed included: committed first, so
      // that the version the copy is consistent from covers everything the chunks held.
      versionNow: () => {
        store.commit();
        return store.version;
      },
      body: (kind, id) => {
        const r = store.recordOf(kind as RecordKind, id);
        return r === undefined ? undefined : encodeJsonBody(r);
      },
    };
  }

  version(): number {
    return this.o.store.version;
  }

  counts(): { tunnels: number; sessions: number } {
    let sessions = 0;
    for (const sub of this.actions?.sessions.all() ?? []) if (sub.upAt !== undefined) sessions++;
    return { tunnels: this.o.store.size, sessions };
  }

  becomeMaster(replica: Replica | undefined, _epoch: number): void {
    const a = this.actions;
    if (a === undefined) return;
    this.wasMaster = true;
    const slots = a.dataPath?.handover();
    if (slots !== undefined) a.workerPath?.adopt(slots);
    a.switch.master = true;
    if (a.daeSwitch !== undefined) a.daeSwitch.master = true;
    const state = replica === undefined ? undefined : stateFromRecords(replica.records, replica.version, this.wallClockMs(), "the replica of the master's state");
    if (state !== undefined && !state.ok) this.o.logger.log("error", "cluster-takeover", `${state.reason}: taking over with no sessions`);
    if (replica === undefined) a.resume(undefined, this.everFollowed);
    else a.resume(state?.ok === true ? state.state : undefined, true);
    // Entries of sessions that did not come back online go.
    a.workerPath?.releaseAdopted();
  }

  stepDown(reason: string): void {
    this.actions?.stepDown(reason);
  }

  replicaChanged(replica: Replica, changed: readonly { kind: string; id: string; op: "upsert" | "delete" }[] | "all"): void {
    if (!this.everFollowed) {
      this.everFollowed = true;
      this.actions?.following();
    }
    this.actions?.dataPath?.changed(replica, changed);
  }

  forwarded(address: string, port: number, payload: Uint8Array, channel: number): void {
    const sw = channel === DAE_CHANNEL ? this.actions?.daeSwitch : this.actions?.switch;
    sw?.inject(Buffer.from(payload), { address, port });
  }

  counters(reports: readonly SessionCounters[]): void {
    const sessions = this.actions?.sessions;
    if (sessions === undefined || reports.length === 0) return;
    const byId = new Map<string, Subscriber>();
    for (const sub of sessions.all()) byId.set(`${String(sub.tunnel.localId)}/${String(sub.l2tp.localId)}`, sub);
    for (const r of reports) {
      const sub = byId.get(r.id);
      if (sub === undefined) continue;
      sub.rxPackets += r.rxPackets;
      sub.txPackets += r.txPackets;
      sub.rxOctets += r.rxOctets;
      sub.txOctets += r.txOctets;
      // Traffic through a slave keeps the session alive as traffic through the master does.
      if (r.rxPackets > 0) sub.ppp.noteActivity();
    }
  }

  async request(kind: string, body: Uint8Array): Promise<Uint8Array> {
    const control = this.actions?.nsctlControl;
    const d = decodeJsonBody(body);
    const args = d.ok && Array.isArray(d.value) && d.value.every((x) => typeof x === "string") ? d.value : undefined;
    if (kind !== NSCTL_CONTROL || control === undefined || args === undefined) return encodeJsonBody(err(`the master does not take '${kind}' requests`));
    return encodeJsonBody(await control(args));
  }

  takeCounters(): SessionCounters[] {
    return this.actions?.dataPath?.take() ?? [];
  }

  /** SIGTERM on the master: hand over to the slaves before the process goes. */
  async resign(): Promise<void> {
    await this.node.resign();
  }

  close(): void {
    this.node.close();
  }
}

function replicated(c: RecordChange): ReplicatedChange {
  return c.op === "upsert" ? { version: c.version, op: "upsert", kind: c.kind, id: c.id, body: changeBody(c) } : { version: c.version, op: "delete", kind: c.kind, id: c.id };
}

/** `show cluster`, with l2tpns's fields (and lnsd's: epoch, replication per slave). */
export function showCluster(c: LnsdCluster, settings: StartupSettings): string[] {
  const n = c.node;
  const master = n.role === "master";
  const lines = [
    `Cluster status   : ${master ? "Master" : n.role === "starting" ? "Starting (no master heard yet)" : "Slave"}`,
    `My address       : ${n.self}`,
    `VIP address      : ${settings.bind_address}`,
    `Multicast address: ${settings.cluster_address}`,
    `UDP port         : ${String(settings.cluster_port)}`,
    `Multicast i'face : ${settings.cluster_interface}`,
    `Master epoch     : ${String(n.epoch)}`,
  ];
  if (!master) {
    const m = n.membership.master;
    const age = m === undefined ? undefined : n.peers.find((p) => p.address === m);
    lines.push(`My master        : ${m ?? "Not defined"}${age === undefined ? "" : ` (last heartbeat ${((c.nowMs() - age.lastHeardMs) / 1000).toFixed(1)} seconds old)`}`);
    lines.push(`Uptodate         : ${n.uptodate ? "Yes" : "No"}`);
    lines.push(`Table version #  : ${String(n.replica.version)}`);
    lines.push(`Records held     : ${String(n.replica.size)}`);
  } else {
    lines.push(`Table version #  : ${String(c.version())}`);
    const slaves = n.slaves;
    lines.push(`Up-to-date slaves: ${String(n.uptodateSlaves)} of ${String(slaves.size)} connected`);
    for (const [addr, s] of slaves) lines.push(`  slave ${addr}: ${s.uptodate ? "up to date" : "syncing"}, holds version ${String(s.acked)} (${String(Math.max(0, c.version() - s.acked))} behind)`);
  }
  const peers = n.peers;
  lines.push(`${String(peers.length)} peers.`);
  if (peers.length > 0) lines.push(`${"Address".padStart(20)}  ${"Basetime".padStart(10)} ${"Age".padStart(8)}`);
  for (const p of peers) lines.push(`${p.address.padStart(20)}  ${String(Math.floor(p.startedAtMs / 1000)).padStart(10)} ${((c.nowMs() - p.lastHeardMs) / 1000).toFixed(1).padStart(8)}`);
  return lines;
}

/**
 * What a slave's CLI shows (`show session`, `show tunnels`): the replica of the master's records,
 * as l2tpns's slaves show their copy of the session table. Read-only: idle time is not known here.
 */
export class ReplicaCliView {
  constructor(private readonly cluster: LnsdCluster, private readonly wallClockMs: () => number = Date.now) {}

  /** True while this node is a slave holding a replica: the CLI reads from here. */
  get active(): boolean {
    return this.cluster.node.role === "slave" && this.cluster.node.replica.complete;
  }

  get master(): string {
    return this.cluster.node.membership.master ?? "unknown";
  }

  private records(kind: string): [string, object][] {
    const out: [string, object][] = [];
    for (const [id, r] of this.cluster.node.replica.records.get(kind) ?? []) {
      const b = body(r);
      if (b !== undefined) out.push([id, b]);
    }
    return out;
  }

  private subscribers(): [string, SubscriberRecord][] {
    return this.records("subscriber") as [string, SubscriberRecord][];
  }

  *sessions(): Iterable<CliSessionRow> {
    const tunnels = new Map(this.records("tunnel") as [string, TunnelRecord][]);
    const calls = new Map(this.records("session") as [string, SessionRecord][]);
    const now = this.wallClockMs();
    for (const [id, sub] of this.subscribers()) {
      const tunnel = tunnels.get(String(sub.tunnelId));
      const call = calls.get(id)?.call;
      const timeout = sub.policy.sessionTimeoutSec;
      yield {
        id: sub.nasPort,
        linkedTo: 0,
        tunnelId: sub.tunnelId,
        username: sub.username ?? "",
        address: sub.address === undefined ? undefined : formatIpv4(sub.address),
        intercepted: sub.snoop !== undefined,
        throttled: sub.throttle !== undefined,
        walledGarden: sub.garden === true,
        ipv6: sub.ppp?.ipv6cp !== undefined,
        openedSeconds: Math.max(0, Math.floor((now - sub.startedAt) / 1000)),
        idleSeconds: 0,
        remainingSeconds: timeout === undefined || timeout <= 0 || sub.upAt === undefined ? 0 : Math.max(0, Math.ceil(timeout - (now - sub.upAt) / 1000)),
        txOctets: sub.counters.txOctets,
        rxOctets: sub.counters.rxOctets,
        txPackets: sub.counters.txPackets,
        rxPackets: sub.counters.rxPackets,
        lacAddress: tunnel?.address.address ?? "",
        callingNumber: call?.callingNumber ?? "",
        calledNumber: call?.calledNumber ?? "",
        pppPhase: "Network",
        ipcpState: sub.ppp?.ipcp === undefined ? "Closed" : "Opened",
        ipv6cpState: sub.ppp?.ipv6cp === undefined ? "Closed" : "Opened",
        ccpState: "Closed",
        mru: 0,
        rxSpeed: call?.rxConnectSpeed ?? 0,
        txSpeed: call?.txConnectSpeed ?? 0,
      };
    }
  }

  session(id: number): CliSessionRow | undefined {
    for (const s of this.sessions()) if (s.id === id) return s;
    return undefined;
  }

  *tunnels(): Iterable<CliTunnel> {
    const byTunnel = new Map<number, number[]>();
    for (const [, sub] of this.subscribers()) byTunnel.set(sub.tunnelId, [...(byTunnel.get(sub.tunnelId) ?? []), sub.nasPort]);
    const calls = new Map<string, number>();
    for (const [id] of this.records("session")) {
      const tid = id.split("/")[0] ?? "";
      calls.set(tid, (calls.get(tid) ?? 0) + 1);
    }
    const now = this.wallClockMs();
    const list = (this.records("tunnel") as [string, TunnelRecord][]).map(([, t]) => t).sort((a, b) => a.localId - b.localId);
    for (const t of list) {
      yield {
        id: t.localId,
        peerId: t.peerId,
        hostname: t.peer.hostName ?? "",
        address: t.address.address,
        port: t.address.port,
        state: t.state === "established" ? "Open" : t.state === "closing" ? "Closing" : t.state === "closed" ? "Free" : "Opening",
        sessions: calls.get(String(t.localId)) ?? 0,
        vendor: t.peer.vendorName ?? "",
        openedSeconds: Math.max(0, Math.floor((now - t.createdAt) / 1000)),
        controlSent: 0,
        controlRetransmitted: 0,
        controlReceived: 0,
        sessionIds: (byTunnel.get(t.localId) ?? []).sort((a, b) => a - b),
      };
    }
  }

  tunnel(id: number): CliTunnel | undefined {
    for (const t of this.tunnels()) if (t.id === id) return t;
    return undefined;
  }

  /** What a slave answers to a command that changes sessions. */
  refusal(): CliResult {
    return { ok: false, error: `this node is a cluster slave: sessions are changed on the master (${this.master}), or here with nsctl` };
  }
}
