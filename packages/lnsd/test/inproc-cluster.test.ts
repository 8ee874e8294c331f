// The cluster in process (issue 14): two or three lnsd nodes (Daemon, record store, output gate,
// LnsdCluster) on a fake clock, an in-memory cluster network and one shared bind_address that
// delivers the LACs' datagrams to one chosen node (as a router does), with the testkit LAC logging
// subscribers in. The master is killed (kill -9: no timer fires again, nothing more leaves) at
// every commit point of a session's setup, and at random points with 500 sessions; each time every
// session comes up, or stays up, on the new master, and the LAC never sees one Ns with two
// different contents, an Nr that goes back or beyond what it sent, or a StopCCN or CDN.
import t from "tap";
import { FakeClock, MemoryUdpNetwork, OutputGate, type PeerAddress, type UdpEndpoint } from "@lnsd/io";
import { MemoryClusterNetwork } from "@lnsd/cluster";
import { Attr, Code, DaeServer, textAttr } from "@lnsd/radius";
import { decodeL2tpHeader, encodeL2tpDataMessage } from "@lnsd/wire";
import { defaultSettings, parseIpPool } from "@lnsd/config";
import { LacSimulator, pppLogins, type PppLogins } from "@lnsd/testkit";
import {
  AddressPool, ClusterSwitch, lcpEchoReply, LnsdMetrics, ReplicaCliView, DAE_CHANNEL, Daemon, daeHandlerFor, LnsdCluster, LocalAuthenticator, LocalSecrets, Logger, RecordStore, stateFromRecords,
  type DaemonSettings, type Subscriber,
} from "../src/index.js";
import { DAE_PORT, FakeRadius, MemoryDataPath, ProcessClock, RADIUS_ADDRESS, SECRET } from "./lib/inproc.js";

const LNS: PeerAddress = { address: "192.0.2.1", port: 1701 };

/**
 * The bind_address every node has: datagrams to it reach the node `route` names; what any live
 * node sends leaves from it. Every control message the LNS side sends is checked.
 */
class SharedAddress {
  route = "";
  private readonly handlers = new Map<string, (p: Buffer, from: PeerAddress) => void>();
  readonly dead = new Set<string>();
  /** Per LAC tunnel: Ns -> the message without its Nr; the highest Nr seen; the LAC's highest Ns. */
  private readonly sent = new Map<string, Map<number, string>>();
  private readonly nr = new Map<string, number>();
  private readonly lacNs = new Map<string, number>();
  readonly problems: string[] = [];
  stopCcnOrCdn = 0;

  constructor(private readonly socket: UdpEndpoint) {
    socket.onMessage((p, from) => {
      this.fromLac(p, from);
      if (!this.dead.has(this.route)) this.handlers.get(this.route)?.(p, from);
    });
  }

  endpoint(node: string): UdpEndpoint {
    return {
      local: this.socket.local,
      send: (p, to) => {
        if (this.dead.has(node)) return;
        this.toLac(p, to);
        this.socket.send(p, to);
      },
      onMessage: (h) => { this.handlers.set(node, h); },
      close: () => { this.handlers.delete(node); },
    };
  }

  private static control(p: Buffer): { tunnel: number; ns: number; nr: number } | undefined {
    // RFC 2661 3.1: a control message has T, L and S set; length, tunnel, session, Ns, Nr follow.
    if (p.length < 12 || (p.readUInt8(0) & 0xc8) !== 0xc8) return undefined;
    return { tunnel: p.readUInt16BE(4), ns: p.readUInt16BE(8), nr: p.readUInt16BE(10) };
  }

  private fromLac(p: Buffer, from: PeerAddress): void {
    const c = SharedAddress.control(p);
    if (c === undefined || p.length === 12) return;
    // The highest Ns each LAC (one tunnel per LAC address here) has sent.
    const key = `${from.address}:${String(from.port)}`;
    this.lacNs.set(key, Math.max(this.lacNs.get(key) ?? -1, c.ns));
  }

  private toLac(p: Buffer, to: PeerAddress): void {
    const c = SharedAddress.control(p);
    if (c === undefined) return;
    const key = `${to.address}:${String(to.port)}/${String(c.tunnel)}`;
    const peerKey = `${to.address}:${String(to.port)}`;
    if (p.length > 12) {
      const type = p.length >= 20 ? p.readUInt16BE(18) : 0;
      // RFC 2661 6.4 StopCCN (4), 6.14 CDN (14).
      if (type === 4 || type === 14) {
        this.stopCcnOrCdn++;
        this.problems.push(`${key}: message type ${String(type)} sent to the LAC`);
      }
      const body = Buffer.concat([p.subarray(0, 10), p.subarray(12)]).toString("hex");
      let m = this.sent.get(key);
      if (m === undefined) {
        m = new Map();
        this.sent.set(key, m);
      }
      const before = m.get(c.ns);
      if (before !== undefined && before !== body) this.problems.push(`${key}: Ns ${String(c.ns)} sent with two different contents`);
      m.set(c.ns, body);
    }
    const last = this.nr.get(key) ?? 0;
    if (c.nr < last) this.problems.push(`${key}: Nr went back from ${String(last)} to ${String(c.nr)}`);
    this.nr.set(key, Math.max(last, c.nr));
    // Nr acknowledges what the LAC sent: never beyond its highest Ns + 1 (any of its tunnels share
    // the address here; one tunnel per LAC in these tests).
    const lac = this.lacNs.get(peerKey) ?? -1;
    if (c.nr > lac + 1) this.problems.push(`${key}: Nr ${String(c.nr)} beyond the LAC's last Ns ${String(lac)}`);
  }
}

interface Node {
  readonly name: string;
  readonly clock: ProcessClock;
  readonly daemon: Daemon;
  readonly cluster: LnsdCluster;
  readonly store: RecordStore;
  commits: number;
  /** Set to kill this node right after its nth commit. */
  killAfterCommit: number | undefined;
}

class Rig {
  readonly nodes: Node[] = [];
  private constructor(
    readonly lines: string[],
    readonly clock: FakeClock,
    readonly net: MemoryUdpNetwork,
    readonly clusterNet: MemoryClusterNetwork,
    readonly shared: SharedAddress,
    /** The DAE port of the shared address (RFC 5176), and the RADIUS server that uses it. */
    readonly dae: SharedAddress,
    readonly radius: FakeRadius,
    readonly logger: Logger,
  ) {}

  static async create(n: number): Promise<Rig> {
    const clock = new FakeClock();
    const net = new MemoryUdpNetwork((fn, ms) => { clock.setTimeout(fn, ms); });
    const clusterNet = new MemoryClusterNetwork((fn) => { clock.setTimeout(fn, 0); });
    const lines: string[] = [];
    const logger = new Logger({ write: (_l, level, message) => { lines.push(`${String(clock.now())} ${level} ${message}`); } }, Number(process.env.INPROC_DEBUG ?? 3), () => clock.now(), { burst: Number.MAX_SAFE_INTEGER, windowMs: 1 });
    const radius = new FakeRadius(clock, await net.bind(RADIUS_ADDRESS, 1812), await net.bind(RADIUS_ADDRESS, 1813), await net.bind(RADIUS_ADDRESS, 0));
    const rig = new Rig(lines, clock, net, clusterNet, new SharedAddress(await net.bind(LNS.address, LNS.port)), new SharedAddress(await net.bind(LNS.address, DAE_PORT)), radius, logger);
    for (let i = 1; i <= n; i++) {
      await rig.addNode(`10.0.0.${String(i)}`);
      await rig.run(150);
    }
    // The first node hears no master for the timeout and declares itself; the others follow.
    await rig.run(1000);
    return rig;
  }

  private async addNode(name: string): Promise<void> {
    const clock = new ProcessClock(this.clock);
    const store = new RecordStore(clock);
    const settings = { ...defaultSettings(), cluster_hb_interval: 1, cluster_hb_timeout: 5, cluster_secret: "inproc" };
    const opened = await LnsdCluster.open({ settings, logger: this.logger, clock, store, startedAtMs: 1_800_000_000_000 + this.clock.now(), transport: this.clusterNet.transport(name), wallClockMs: () => 1_800_000_000_000 + this.clock.now() });
    if (!opened.ok) throw new Error(opened.error);
    const cluster = opened.cluster;
    const node: Node = { name, clock, daemon: undefined as unknown as Daemon, cluster, store, commits: 0, killAfterCommit: undefined };
    const gate = new OutputGate(() => {
      store.commit();
      return cluster.barrier(store.version);
    });
    store.subscribe({
      changes: () => {
        node.commits++;
        if (node.killAfterCommit === node.commits) this.kill(node);
      },
    });
    const sw = new ClusterSwitch((p, from) => { cluster.node.forward(from.address, from.port, p); });
    const pool = parseIpPool("10.20.0.0/22");
    if (!pool.ok) throw new Error("pool");
    const daemonSettings: DaemonSettings = {
      hostname: "lns", bindAddress: LNS.address, l2tpPort: LNS.port, l2tpRequireAuth: false, disableSendingHello: false,
      maxTunnels: 100, maxSessions: 100_000, maxSessionsInSetup: 1000,
      ppp: { authProtocols: ["pap"], hostName: "lns", localAddress: LNS.address },
      allowDuplicateUsers: true, throttleSpeed: 0,
    };
    const daemon = await Daemon.start(daemonSettings, this.logger, {
      clock,
      pool: new AddressPool(pool.value.ranges, clock),
      auth: new LocalAuthenticator(new LocalSecrets({ entries: [{ line: 1, client: "*", server: "*", secret: "pw" }] }, "lns")),
      dataPlane: { endpoint: this.shared.endpoint(name), path: new MemoryDataPath() },
      store,
      gate,
      standby: true,
      wrapEndpoint: (e) => sw.wrap(e),
    });
    (node as { daemon: Daemon }).daemon = daemon;
    // DAE as lnsd has it: answers through the gate; a slave passes requests to the master.
    const daeSwitch = new ClusterSwitch((p, from) => { cluster.node.forward(from.address, from.port, p, DAE_CHANNEL); });
    await DaeServer.create<Subscriber>({ bindAddress: LNS.address, port: DAE_PORT, secret: SECRET, allowedClients: [RADIUS_ADDRESS], udp: { bind: () => Promise.resolve(gate.endpoint(daeSwitch.wrap(this.dae.endpoint(name)))) }, nas: { ipAddress: LNS.address, identifier: "lns" }, handler: daeHandlerFor(daemon.sessions), clock, wallClockMs: () => 1_800_000_000_000 + this.clock.now() });
    await cluster.start({
      sessions: daemon.sessions,
      switch: sw,
      daeSwitch,
      resume: (state) => { daemon.resume(state); },
      following: () => undefined,
      stepDown: () => { this.kill(node); },
    });
    this.nodes.push(node);
  }

  /** kill -9: no timer of the node fires again, nothing more leaves it, its streams reset. */
  kill(node: Node): void {
    node.clock.killed = true;
    this.shared.dead.add(node.name);
    this.dae.dead.add(node.name);
    this.clusterNet.kill(node.name);
  }

  get master(): Node | undefined {
    return this.nodes.find((n) => !n.clock.killed && n.cluster.isMaster);
  }

  async run(ms: number, stepMs = 10): Promise<void> {
    const end = this.clock.now() + ms;
    while (this.clock.now() < end) {
      this.clock.advance(Math.min(stepMs, end - this.clock.now()));
      await new Promise((r) => setImmediate(r));
    }
  }

  async until(cond: () => boolean, maxMs: number): Promise<boolean> {
    const end = this.clock.now() + maxMs;
    while (!cond()) {
      if (this.clock.now() >= end) return false;
      await this.run(10);
    }
    return true;
  }

  async lac(sessions: number, index = 1): Promise<{ sim: LacSimulator; logins: PppLogins }> {
    const endpoint = await this.net.bind(`198.51.100.${String(index)}`, 1701);
    const logins = pppLogins({ username: "u", password: "pw", authProtocols: ["pap"], clock: this.clock });
    const sim = new LacSimulator({ lns: LNS, tunnels: 1, sessionsPerTunnel: sessions, endpoint, clock: this.clock, calls: logins.handler });
    await sim.start();
    return { sim, logins };
  }

  /** Every live node's online sessions (the master's). */
  onlineOnMaster(): number {
    let n = 0;
    for (const sub of this.master?.daemon.sessions.all() ?? []) if (sub.upAt !== undefined) n++;
    return n;
  }
}

void t.test("two nodes: the master killed right after each commit of a session's setup; the session comes up on the new master", async (t) => {
  // How many commits one session's setup makes on a master, from SCCRQ to online.
  const probe = await Rig.create(2);
  t.equal(probe.master?.name, "10.0.0.1", "the first node is the master");
  probe.shared.route = "10.0.0.2";
  const master = probe.master;
  if (master === undefined) throw new Error("no master");
  const before = master.commits;
  const lac = await probe.lac(1);
  t.ok(await probe.until(() => lac.logins.stats.online.size === 1, 10_000), "online through the slave");
  await probe.run(500);
  const commits = master.commits - before;
  t.ok(commits >= 5, `a session's setup makes ${String(commits)} commits`);
  t.same(probe.shared.problems, []);
  let ok = 0;
  for (let k = 1; k <= commits; k++) {
    const rig = await Rig.create(2);
    rig.shared.route = "10.0.0.2";
    const m = rig.master;
    if (m === undefined) throw new Error("no master");
    m.killAfterCommit = m.commits + k;
    const l = await rig.lac(1);
    const up = await rig.until(() => rig.master?.name === "10.0.0.2" && l.logins.stats.online.size === 1 && rig.onlineOnMaster() === 1, 30_000);
    // And it stays up: HELLOs and LCP echoes answered for a while.
    await rig.run(3000, 50);
    const stays = l.logins.stats.online.size === 1 && rig.onlineOnMaster() === 1;
    if (up && stays && rig.shared.problems.length === 0) ok++;
    else t.fail(`killed after commit ${String(k)} of ${String(commits)}: online ${String(l.logins.stats.online.size)}, on the new master ${String(rig.onlineOnMaster())}, problems ${rig.shared.problems.join("; ")}`, { log: rig.lines.slice(-30) });
  }
  t.equal(ok, commits, `every one of the ${String(commits)} kill points`);
});

void t.test("three nodes, 500 sessions: the master killed at random points during setup and once everything is up; every session up on the new master", async (t) => {
  // A fixed seed: the points are random but the same on every run.
  let seed = 12345;
  const random = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  // How many commits the 500 sessions' setup makes, undisturbed.
  const probe = await Rig.create(3);
  probe.shared.route = "10.0.0.3";
  const first = probe.master?.commits ?? 0;
  const pl = await probe.lac(500);
  t.ok(await probe.until(() => pl.logins.stats.online.size === 500, 60_000), "500 online undisturbed");
  const total = (probe.master?.commits ?? 0) - first;
  t.ok(total > 10, `${String(total)} commits`);
  for (let round = 0; round < 3; round++) {
    const rig = await Rig.create(3);
    rig.shared.route = "10.0.0.3";
    const m = rig.master;
    if (m === undefined) throw new Error("no master");
    t.equal(m.name, "10.0.0.1");
    const point = 1 + random(total);
    m.killAfterCommit = m.commits + point;
    const l = await rig.lac(500);
    const up = await rig.until(() => l.logins.stats.online.size === 500 && rig.onlineOnMaster() === 500, 60_000);
    t.ok(up, `round ${String(round)}: killed after commit ${String(point)}; ${String(l.logins.stats.online.size)} online at the LAC, ${String(rig.onlineOnMaster())} on ${rig.master?.name ?? "no master"}`);
    t.equal(rig.master?.name, "10.0.0.2", "the oldest slave took over", { log: rig.lines.filter((x) => x.includes("master") || x.includes("took over")) });
    // Then the new master dies too, with everything up: the last node carries on.
    const second = rig.master;
    if (second === undefined) continue;
    await rig.run(1000);
    rig.kill(second);
    await rig.run(3000, 20);
    t.equal(rig.master?.name, "10.0.0.3", "the last node took over");
    t.equal(rig.onlineOnMaster(), 500, "with every session");
    t.equal(l.logins.stats.online.size, 500, "none dropped at the LAC");
    t.same(rig.shared.problems, [], "no Ns reused with other contents, no Nr back or ahead, no StopCCN or CDN");
  }
});

void t.test("a slave's state is the master's: its replica resumes the same tunnels and sessions", async (t) => {
  const rig = await Rig.create(2);
  rig.shared.route = "10.0.0.1";
  const l = await rig.lac(20);
  t.ok(await rig.until(() => l.logins.stats.online.size === 20, 10_000));
  await rig.run(200);
  const slave = rig.nodes[1];
  const master = rig.master;
  if (slave === undefined || master === undefined) throw new Error("nodes");
  const replica = slave.cluster.node.replica;
  t.equal(replica.version, master.store.version, "the slave holds the master's latest version");
  const state = stateFromRecords(replica.records, replica.version, 0, "replica");
  t.ok(state.ok);
  if (state.ok) {
    t.equal(state.state.l2tp.tunnels.length, 1);
    t.equal(state.state.subscribers.size, 20);
  }
  // The slave's CLI shows the master's sessions from the replica.
  const view = new ReplicaCliView(slave.cluster, () => 1_800_000_000_000 + rig.clock.now());
  t.ok(view.active);
  const rows = [...view.sessions()];
  t.equal(rows.length, 20, "show session on the slave: 20 rows");
  const masterIds = [...master.daemon.sessions.all()].map((s) => s.nasPort).sort((a, b) => a - b);
  t.same(rows.map((r) => r.id).sort((a, b) => a - b), masterIds, "the master's session ids");
  t.ok(rows.every((r) => r.username === "u" && r.address?.startsWith("10.20.") === true && r.ipcpState === "Opened"));
  const tunnels = [...view.tunnels()];
  t.equal(tunnels.length, 1);
  t.equal(tunnels[0]?.sessions, 20);
  t.equal(tunnels[0]?.state, "Open");
  t.match(view.refusal(), { ok: false, error: /cluster slave: sessions are changed on the master \(10\.0\.0\.1\)/ });
  // The slave answers an LCP Echo-Request itself, from the replica (RFC 1661 5.8).
  const sub = [...master.daemon.sessions.all()][0];
  if (sub === undefined) throw new Error("no session");
  const record = master.daemon.sessions.record(sub);
  const request = encodeL2tpDataMessage({ tunnelId: sub.tunnel.localId, sessionId: sub.l2tp.localId }, Buffer.from([0xff, 0x03, 0xc0, 0x21, 9, 0x42, 0, 12, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4]));
  const reply = lcpEchoReply(request, replica);
  t.ok(reply, "answered");
  if (reply !== undefined) {
    const h = decodeL2tpHeader(reply);
    t.ok(h.ok && h.value.kind === "data" && h.value.tunnelId === sub.tunnel.peerId && h.value.sessionId === sub.l2tp.peerId, "to the LAC's tunnel and session ids");
    const lcp = h.ok ? reply.subarray(h.value.payloadOffset + 4) : Buffer.alloc(0);
    t.equal(lcp[0], 10, "Echo-Reply");
    t.equal(lcp[1], 0x42, "same Identifier");
    t.equal(lcp.readUInt32BE(4), (record.ppp?.lcp.ourMagic ?? -1) >>> 0, "the session's own Magic-Number");
    t.same([...lcp.subarray(8)], [1, 2, 3, 4], "the data echoed");
  }
  t.equal(lcpEchoReply(encodeL2tpDataMessage({ tunnelId: sub.tunnel.localId, sessionId: 999 }, Buffer.from([0xff, 0x03, 0xc0, 0x21, 9, 1, 0, 8, 0, 0, 0, 0])), replica), undefined, "an unknown session: passed to the master");
  t.equal(lcpEchoReply(encodeL2tpDataMessage({ tunnelId: sub.tunnel.localId, sessionId: sub.l2tp.localId }, Buffer.from([0xff, 0x03, 0xc0, 0x21, 1, 1, 0, 4])), replica), undefined, "a Configure-Request: the master's");
});

void t.test("a Disconnect-Request sent to a slave is the master's to act on and answer", async (t) => {
  const rig = await Rig.create(2);
  rig.shared.route = "10.0.0.2";
  rig.dae.route = "10.0.0.2";
  const l = await rig.lac(2);
  t.ok(await rig.until(() => l.logins.stats.online.size === 2 && rig.onlineOnMaster() === 2, 10_000), "2 online through the slave");
  const master = rig.master;
  const target = [...(master?.daemon.sessions.all() ?? [])][0];
  if (master === undefined || target === undefined) throw new Error("no session");
  rig.radius.sendDae(Code.DisconnectRequest, [textAttr(Attr.AcctSessionId, target.acctSessionId)]);
  t.ok(await rig.until(() => rig.radius.daeReplies.length === 1, 5000), "answered");
  t.equal(rig.radius.daeReplies[0]?.code, Code.DisconnectAck, "Disconnect-ACK, from the master");
  t.ok(await rig.until(() => rig.onlineOnMaster() === 1 && l.logins.stats.online.size === 1, 5000), "that session ended, the other goes on");
  await rig.run(200);
  const slave = rig.nodes[1];
  t.equal(slave?.cluster.node.replica.records.get("subscriber")?.size, 1, "the slave's replica follows");
});

void t.test("the cluster's metrics: role, peers, up-to-date slaves, lag, commit latency", async (t) => {
  const rig = await Rig.create(2);
  rig.shared.route = "10.0.0.1";
  const [master, slave] = rig.nodes;
  if (master === undefined || slave === undefined) throw new Error("nodes");
  const m = new LnsdMetrics({ defaultMetrics: false });
  m.attach({ cluster: () => master.cluster.node });
  const s = new LnsdMetrics({ defaultMetrics: false });
  s.attach({ cluster: () => slave.cluster.node });
  const l = await rig.lac(5);
  t.ok(await rig.until(() => l.logins.stats.online.size === 5, 10_000));
  await rig.run(300);
  const text = await m.text();
  t.match(text, /lnsd_cluster_role\{role="master"\} 1/);
  t.match(text, /lnsd_cluster_role\{role="slave"\} 0/);
  t.match(text, /lnsd_cluster_peers 1/);
  t.match(text, /lnsd_cluster_uptodate_slaves 1/);
  t.match(text, /lnsd_cluster_replication_lag_versions\{slave="10\.0\.0\.2"\} 0/, "the slave holds everything");
  const commits = /lnsd_cluster_commit_latency_seconds_count (\d+)/.exec(text)?.[1];
  t.ok(Number(commits) > 0, `output waited for the slave ${commits ?? "?"} times`);
  t.match(await s.text(), /lnsd_cluster_role\{role="slave"\} 1/);
});
