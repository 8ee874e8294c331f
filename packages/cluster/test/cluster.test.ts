import t from "tap";
import fc from "fast-check";
import { FakeClock, type Clock, type TimerHandle } from "@lnsd/io";
import { decodeEntry, encodeJsonBody, type JournalRecords } from "@lnsd/journal";
import {
  ClusterNode, FrameReader, MemoryClusterNetwork, Membership, Replica, Replication, decodeMessage, encodeMessage, entryOf, lengthPrefixed, open, seal,
  type ClusterHost, type ClusterMessage, type ReplicatedChange, type SessionCounters, type SlaveLink, type SnapshotSource,
} from "../src/index.js";

void t.test("messages: every kind round-trips; the decoder is total", (t) => {
  const msgs: ClusterMessage[] = [
    { node: "10.0.0.1", epoch: 3, body: { type: "ping", ping: { startedAtMs: 1_800_000_000_000, version: 42, uptodate: true, epoch: 3 } } },
    { node: "10.0.0.2", epoch: 3, body: { type: "heartbeat", heartbeat: { startedAtMs: 1, version: 2, port: 32792, uptodateSlaves: 1, tunnels: 4, sessions: 5 } } },
    { node: "10.0.0.1", epoch: 3, body: { type: "hello", startedAtMs: 7 } },
    { node: "10.0.0.2", epoch: 3, body: { type: "snapshot", version: 9, last: true, entries: [Buffer.from([1, 2, 3])], consistentAt: 12 } },
    { node: "10.0.0.2", epoch: 3, body: { type: "changes", entries: [Buffer.from([4]), Buffer.from([5, 6])] } },
    { node: "10.0.0.1", epoch: 3, body: { type: "ack", version: 10 } },
    { node: "10.0.0.1", epoch: 3, body: { type: "forward", address: "198.51.100.1", port: 1701, payload: Buffer.from("abc"), channel: 0 } },
    { node: "10.0.0.1", epoch: 3, body: { type: "counters", sessions: [{ id: "1/2", rxPackets: 1, txPackets: 2, rxOctets: 3, txOctets: 4 }] } },
    { node: "10.0.0.2", epoch: 3, body: { type: "resign", version: 11 } },
  ];
  for (const m of msgs) {
    const d = decodeMessage(encodeMessage(m));
    t.ok(d.ok, m.body.type);
    if (d.ok) t.same(JSON.parse(JSON.stringify(d.value)), JSON.parse(JSON.stringify(m)), `${m.body.type} round-trips`);
  }
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
    const d = decodeMessage(bytes);
    return typeof d.ok === "boolean";
  }), { numRuns: 5000 });
  t.end();
});

void t.test("frames: the HMAC takes the right secret only; a stream is cut back into frames", (t) => {
  const frame = seal("one", Buffer.from("hello"));
  const good = open("one", frame);
  t.ok(good.ok);
  if (good.ok) t.equal(good.message.toString(), "hello");
  t.same(open("two", frame), { ok: false, reason: "mac" }, "another secret: refused");
  const tampered = Buffer.from(frame);
  tampered.writeUInt8((tampered.at(-1) ?? 0) ^ 1, tampered.length - 1);
  t.same(open("one", tampered), { ok: false, reason: "mac" }, "a changed byte: refused");
  t.same(open("one", Buffer.from("LNSC")), { ok: false, reason: "short" });
  t.same(open("one", Buffer.alloc(64)), { ok: false, reason: "magic" });
  const r = new FrameReader();
  const stream = Buffer.concat([lengthPrefixed(Buffer.from("a")), lengthPrefixed(Buffer.from("bcd")), lengthPrefixed(Buffer.from("ef"))]);
  const got: string[] = [];
  for (let i = 0; i < stream.length; i += 3) {
    const f = r.push(stream.subarray(i, i + 3));
    if (f === "broken") throw new Error("broken");
    for (const x of f) got.push(x.toString());
  }
  t.same(got, ["a", "bcd", "ef"], "frames whatever the chunking");
  const huge = Buffer.alloc(4);
  huge.writeUInt32BE(0xffffffff, 0);
  t.equal(new FrameReader().push(huge), "broken", "an impossible length breaks the stream");
  t.end();
});

void t.test("election: longest uptime among the up-to-date, then highest address; epochs fence old masters", (t) => {
  const m = new Membership({ self: "10.0.0.2", startedAtMs: 2000, hbTimeoutMs: 500, nowMs: 0 });
  t.same(m.tick(100, false), { type: "none" }, "listens for a master first");
  t.same(m.heardHeartbeat("10.0.0.9", 4, { startedAtMs: 1, version: 0, port: 1, tunnels: 0, sessions: 0 }, 200), { type: "follow", master: "10.0.0.9", epoch: 4 });
  t.equal(m.role, "slave");
  m.heardPing("10.0.0.3", 4, { startedAtMs: 1000, version: 5, uptodate: false }, 300);
  m.heardPing("10.0.0.1", 4, { startedAtMs: 3000, version: 5, uptodate: true }, 300);
  t.same(m.tick(600, true), { type: "none" }, "the master was heard 400 ms ago");
  // 10.0.0.3 started first but is not up to date; 10.0.0.1 is up to date but younger than us.
  t.same(m.candidates(700, true).map((c) => c.address), ["10.0.0.9", "10.0.0.2", "10.0.0.1", "10.0.0.3"], "the master (until it times out) then us");
  const d = m.tick(700, true);
  t.same(d, { type: "take-over", epoch: 5, reason: "master 10.0.0.9 timed out" }, "we win: up to date and oldest of those");
  t.equal(m.role, "master");
  t.same(m.heardHeartbeat("10.0.0.9", 4, { startedAtMs: 1, version: 0, port: 1, tunnels: 0, sessions: 0 }, 800), { type: "none" }, "an older master's heartbeat: it steps down, not us");
  t.equal(m.heardHeartbeat("10.0.0.7", 6, { startedAtMs: 1, version: 0, port: 1, tunnels: 0, sessions: 0 }, 900).type, "step-down", "a newer epoch: we step down");

  /** Ticks every 100 ms up to `to` (a node that is not stopped); the last tick's decision. */
  const tickTo = (x: Membership, from: number, to: number, uptodate = false): ReturnType<Membership["tick"]> => {
    let d: ReturnType<Membership["tick"]> = { type: "none" };
    for (let at = from; at <= to; at += 100) {
      const e = x.tick(at, uptodate);
      if (e.type !== "none") return e;
      d = e;
    }
    return d;
  };
  const ties = new Membership({ self: "10.0.0.2", startedAtMs: 1000, hbTimeoutMs: 500, nowMs: 0 });
  ties.heardPing("10.0.0.3", 0, { startedAtMs: 1000, version: 0, uptodate: false }, 100);
  t.same(tickTo(ties, 100, 600), { type: "expect", master: "10.0.0.3", reason: "no master heard since start" }, "same uptime: the highest address");
  t.equal(tickTo(ties, 700, 1200).type, "take-over", "the one expected stays silent: elected again without it");

  const stalled = new Membership({ self: "10.0.0.2", startedAtMs: 1, hbTimeoutMs: 500, nowMs: 0 });
  t.equal(tickTo(stalled, 100, 600).type, "take-over");
  stalled.heardPing("10.0.0.3", 1, { startedAtMs: 5, version: 0, uptodate: true }, 650);
  t.same(stalled.tick(700, false), { type: "none" });
  t.equal(stalled.tick(5000, false).type, "fence", "stopped 4.3 s with a peer: it may have been replaced, output is held");
  t.equal(stalled.role, "master", "still the master until it hears otherwise");
  t.equal(stalled.heardHeartbeat("10.0.0.3", 2, { startedAtMs: 5, version: 0, port: 1, tunnels: 0, sessions: 0 }, 5010).type, "step-down", "a newer master heard: it steps down");
  const alone = new Membership({ self: "10.0.0.2", startedAtMs: 1, hbTimeoutMs: 500, nowMs: 0 });
  t.equal(tickTo(alone, 100, 600).type, "take-over");
  t.same(alone.tick(9000, false), { type: "none" }, "stopped with no peer: still the master");

  // A slave stopped past the timeout does not take the master's silence for its death.
  const slave = new Membership({ self: "10.0.0.2", startedAtMs: 1, hbTimeoutMs: 500, nowMs: 0 });
  slave.heardHeartbeat("10.0.0.1", 1, { startedAtMs: 5, version: 0, port: 1, tunnels: 0, sessions: 0 }, 100);
  t.same(slave.tick(2100, true), { type: "none" }, "woke 2 s later: waits to hear the master");
  slave.heardHeartbeat("10.0.0.1", 1, { startedAtMs: 5, version: 0, port: 1, tunnels: 0, sessions: 0 }, 2150);
  t.same(tickTo(slave, 2200, 2600, true), { type: "none" }, "the master was heard: still a slave");
  t.equal(tickTo(slave, 2700, 3300, true).type, "take-over", "and a master really silent for the timeout is replaced as before");
  t.end();
});

/** A slave link that records what the master sends. */
function recordingLink(): SlaveLink & { sent: ClusterMessage["body"][]; closed: string | undefined } {
  const l = { sent: [] as ClusterMessage["body"][], closed: undefined as string | undefined, pendingBytes: 0, send(b: ClusterMessage["body"]) { l.sent.push(b); return l.closed === undefined; }, close(reason: string) { l.closed = reason; } };
  return l;
}

const upsert = (version: number, id: string, value: unknown): ReplicatedChange => ({ version, op: "upsert", kind: "tunnel", id, body: encodeJsonBody(value) });

/** A snapshot source over a records map, as it is when each chunk is made. */
function source(version: number, records: JournalRecords, versionNow: () => number = () => version): SnapshotSource {
  const keys: [string, string][] = [];
  for (const [kind, m] of records) for (const id of m.keys()) keys.push([kind, id]);
  return { version, keys, versionNow, body: (kind, id) => records.get(kind)?.get(id)?.body };
}

void t.test("replication: output waits for every up-to-date slave; a slave too slow is dropped", async (t) => {
  let now = 0;
  const deferred: (() => void)[] = [];
  const events: string[] = [];
  const r = new Replication({ ackTimeoutMs: 250, nowMs: () => now, defer: (fn) => deferred.push(fn), onUptodate: (a, u, why) => events.push(`${a} ${String(u)} ${why}`) });
  t.equal(r.barrier(5), undefined, "no slave: nothing to wait for");
  const a = recordingLink();
  const records: JournalRecords = new Map([["tunnel", new Map([["1", { version: 3, format: "json" as const, body: encodeJsonBody({ x: 1 }) }]])]]);
  r.addSlave("10.0.0.2", a, source(3, records));
  t.equal(a.sent[0]?.type, "snapshot", "the snapshot first");
  r.changes([upsert(4, "1", { x: 2 })], 0);
  t.equal(a.sent[1]?.type, "changes", "then changes");
  t.equal(r.barrier(4), undefined, "a slave not yet up to date holds nothing back");
  r.ack("10.0.0.2", 3);
  t.same(r.uptodate, ["10.0.0.2"]);
  let released = false;
  const wait = r.barrier(4);
  t.ok(wait, "now output waits for it");
  void wait?.then(() => { released = true; });
  r.ack("10.0.0.2", 4);
  await Promise.resolve();
  t.ok(released, "released by its acknowledgement");
  const b = recordingLink();
  r.addSlave("10.0.0.3", b, source(4, new Map()));
  r.ack("10.0.0.3", 4);
  r.changes([upsert(5, "1", { x: 3 })], 0);
  let released5 = false;
  void r.barrier(5)?.then(() => { released5 = true; });
  r.ack("10.0.0.2", 5);
  await Promise.resolve();
  t.notOk(released5, "one slave of two is not enough");
  now = 300;
  r.checkTimeouts();
  await Promise.resolve();
  t.ok(released5, "the silent one is dropped after the bound and output goes");
  t.match(b.closed ?? "", /did not acknowledge version 5 within 250 ms/);
  t.same(r.uptodate, ["10.0.0.2"]);
  t.equal(events.length, 3, "up to date twice, dropped once");
});

void t.test("resync of a big table: chunks made a turn at a time while the master changes records; the copy ends equal, and is complete only once caught up", (t) => {
  const turns: (() => void)[] = [];
  const r = new Replication({ ackTimeoutMs: 1000, nowMs: () => 0, defer: (fn) => turns.push(fn) });
  const records: JournalRecords = new Map([["tunnel", new Map<string, { version: number; format: "json"; body: Uint8Array }>()]]);
  const m = records.get("tunnel");
  if (m === undefined) throw new Error("map");
  let version = 5000;
  for (let i = 0; i < 5000; i++) m.set(String(i), { version: i + 1, format: "json", body: encodeJsonBody({ n: i }) });
  const link = recordingLink();
  r.addSlave("10.0.0.2", link, source(5000, records, () => version));
  t.equal(link.sent.length, 1, "one chunk in the first turn, not the whole table");
  // The master goes on between chunks: a record changed, one deleted, one added.
  const change = (c: ReplicatedChange): void => {
    version = c.version;
    if (c.op === "upsert") m.set(c.id, { version: c.version, format: "json", body: c.body });
    else m.delete(c.id);
    r.changes([c], 0);
  };
  change(upsert(5001, "4000", { n: "changed" }));
  change({ version: 5002, op: "delete", kind: "tunnel", id: "4500" });
  change(upsert(5003, "9999", { n: "new" }));
  while (turns.length > 0) turns.shift()?.();
  t.equal(link.sent.filter((b) => b.type === "snapshot").length, 3, "5,000 records in 3 chunks");
  const replica = new Replica();
  for (const b of link.sent) {
    if (b.type === "snapshot") replica.snapshotChunk(b.version, b.last, b.entries, b.consistentAt);
    else if (b.type === "changes") {
      t.ok(replica.received, "changes come after the whole snapshot");
      replica.apply(b.entries);
    }
  }
  t.ok(replica.complete, "complete once the changes up to the last chunk's version are in");
  t.equal(replica.version, 5003);
  const got = replica.records.get("tunnel");
  t.equal(got?.size, m.size, "as many records as the master");
  t.same(JSON.parse(Buffer.from(got?.get("4000")?.body ?? []).toString()), { n: "changed" });
  t.notOk(got?.has("4500"), "the deleted one is gone");
  t.ok(got?.has("9999"), "the added one is there");
  const early = new Replica();
  const last = link.sent.findLast((b) => b.type === "snapshot");
  for (const b of link.sent) if (b.type === "snapshot") early.snapshotChunk(b.version, b.last, b.entries, b.consistentAt);
  t.ok(last?.type === "snapshot" && last.consistentAt === 5003, "the last chunk says from which version the copy holds");
  t.notOk(early.complete, "the snapshot alone (records of different moments) is not a state to take over from");
  t.end();
});

void t.test("replica: a snapshot in chunks then changes, each once, in order", (t) => {
  const rep = new Replica();
  const e = (c: ReplicatedChange): Uint8Array => entryOf(c, 0);
  t.same(rep.snapshotChunk(2, false, [e(upsert(1, "1", { a: 1 }))]), { done: false });
  t.notOk(rep.complete, "not usable before the last chunk");
  t.same(rep.snapshotChunk(2, true, [e(upsert(2, "2", { a: 2 }))]), { done: true });
  t.equal(rep.size, 2);
  const r = rep.apply([e(upsert(3, "1", { a: 3 })), e({ version: 4, op: "delete", kind: "tunnel", id: "2" }), e(upsert(2, "9", { stale: true }))]);
  t.same(r.changed, [{ kind: "tunnel", id: "1", op: "upsert" }, { kind: "tunnel", id: "2", op: "delete" }], "a version already held is skipped");
  t.equal(rep.version, 4);
  t.same([...(rep.records.get("tunnel")?.keys() ?? [])], ["1"]);
  const body = rep.records.get("tunnel")?.get("1")?.body;
  t.same(JSON.parse(Buffer.from(body ?? []).toString()), { a: 3 });
  t.ok(rep.apply([Buffer.from([0xff, 0xff])]).error, "an undecodable entry is an error, not a crash");
  const d = decodeEntry(e(upsert(7, "x", 1)));
  t.ok(d.ok);
  t.end();
});

/** A host with its records in a map; what a test needs to see of a node. */
class TestHost implements ClusterHost {
  records = new Map<string, Map<string, { version: number; format: "json"; body: Uint8Array }>>([["tunnel", new Map()]]);
  ver = 0;
  masterOf: { replica: number | undefined; epoch: number }[] = [];
  steppedDown: string[] = [];
  forwardedIn: string[] = [];
  countersIn: SessionCounters[] = [];
  node: ClusterNode | undefined;
  snapshot(): SnapshotSource {
    return source(this.ver, this.records, () => this.ver);
  }
  version(): number {
    return this.ver;
  }
  counts(): { tunnels: number; sessions: number } {
    return { tunnels: this.records.get("tunnel")?.size ?? 0, sessions: 0 };
  }
  becomeMaster(replica: Replica | undefined, epoch: number): void {
    this.masterOf.push({ replica: replica?.version, epoch });
    if (replica !== undefined) {
      this.records = new Map([...replica.records].map(([k, m]) => [k, new Map([...m].map(([id, r]) => [id, { version: r.version, format: "json" as const, body: r.body }]))]));
      this.ver = replica.version;
    }
  }
  stepDown(reason: string): void {
    this.steppedDown.push(reason);
  }
  forwarded(address: string, port: number, payload: Uint8Array): void {
    this.forwardedIn.push(`${address}:${String(port)} ${Buffer.from(payload).toString()}`);
  }
  counters(sessions: readonly SessionCounters[]): void {
    this.countersIn.push(...sessions);
  }
  takeCounters(): SessionCounters[] {
    return [{ id: "1/1", rxPackets: 1, txPackets: 0, rxOctets: 100, txOctets: 0 }];
  }
  request(kind: string, body: Uint8Array): Promise<Uint8Array> {
    return Promise.resolve(Buffer.from(`${kind}: ${Buffer.from(body).toString()} done by the master`));
  }
  /** The master changes a record: what its store's commit would publish. */
  change(id: string, value: unknown): void {
    this.ver++;
    const body = encodeJsonBody(value);
    this.records.get("tunnel")?.set(id, { version: this.ver, format: "json", body });
    this.node?.changes([{ version: this.ver, op: "upsert", kind: "tunnel", id, body }], 0);
  }
}

/** One process's timers: held while it is stopped (SIGSTOP), run first when it continues. */
class StoppableClock implements Clock {
  stopped: (() => void)[] | undefined;
  constructor(private readonly clock: FakeClock) {}
  now(): number {
    return this.clock.now();
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    let cancelled = false;
    const h = this.clock.setTimeout(() => {
      if (cancelled) return;
      if (this.stopped === undefined) fn();
      else this.stopped.push(() => { if (!cancelled) fn(); });
    }, ms);
    return { cancel: () => { cancelled = true; h.cancel(); } };
  }
}

async function cluster(n: number, secrets: (i: number) => string = () => "s") {
  const clock = new FakeClock();
  const net = new MemoryClusterNetwork((fn) => { clock.setTimeout(fn, 0); });
  const logs: string[] = [];
  const nodes: { node: ClusterNode; host: TestHost; address: string; clock: StoppableClock }[] = [];
  for (let i = 1; i <= n; i++) {
    const address = `10.0.0.${String(i)}`;
    const host = new TestHost();
    const own = new StoppableClock(clock);
    const node = new ClusterNode({ transport: net.transport(address), host, clock: own, secret: secrets(i), startedAtMs: 1000 + i, hbIntervalMs: 100, hbTimeoutMs: 500, log: (_l, _r, m) => logs.push(`${address} ${m}`), defer: (fn) => { own.setTimeout(fn, 0); } });
    host.node = node;
    await node.start();
    nodes.push({ node, host, address, clock: own });
    clock.advance(50);
  }
  const run = async (ms: number): Promise<void> => {
    for (let x = 0; x < ms; x += 10) {
      clock.advance(10);
      await new Promise((r) => setImmediate(r));
    }
  };
  /** SIGSTOP: the node's timers and what arrives for it wait. */
  const stop = (i: number): void => {
    const x = nodes[i];
    if (x === undefined) return;
    x.clock.stopped = [];
    net.pause(x.address, true);
  };
  /** SIGCONT: its expired timers run first, then what arrived meanwhile (as Node's loop does). */
  const cont = (i: number): void => {
    const x = nodes[i];
    if (x === undefined) return;
    const timers = x.clock.stopped ?? [];
    x.clock.stopped = undefined;
    for (const fn of timers) fn();
    net.pause(x.address, false);
  };
  return { clock, net, nodes, logs, run, stop, cont };
}

void t.test("three nodes: the oldest becomes master, the others follow and hold every change; the master dies and the oldest up-to-date slave takes over with the newest state", async (t) => {
  const { net, nodes, logs, run } = await cluster(3);
  await run(1000);
  const [a, b, c] = nodes;
  if (a === undefined || b === undefined || c === undefined) throw new Error("nodes");
  t.equal(a.node.role, "master", "10.0.0.1 started first");
  t.equal(b.node.role, "slave");
  t.equal(c.node.role, "slave");
  t.equal(a.node.uptodateSlaves, 2, "both slaves up to date");
  a.host.change("1", { ns: 1 });
  a.host.change("2", { ns: 1 });
  let released = false;
  void a.node.barrier(a.host.ver)?.then(() => { released = true; });
  t.notOk(released, "output waits");
  await run(30);
  t.ok(released, "released once both acknowledged");
  t.equal(b.node.replica.version, 2);
  t.equal(c.node.replica.version, 2);
  // A datagram reaching a slave goes to the master.
  b.node.forward("198.51.100.7", 1701, Buffer.from("SCCRQ"));
  await run(20);
  t.same(a.host.forwardedIn, ["198.51.100.7:1701 SCCRQ"]);
  // A request a slave cannot answer itself (nsctl) is the master's.
  const answer = c.node.request("nsctl-control", Buffer.from("drop_session 5"));
  await run(30);
  t.equal(Buffer.from((await answer) ?? []).toString(), "nsctl-control: drop_session 5 done by the master");
  t.equal(await a.node.request("x", Buffer.alloc(0)), undefined, "the master asks no one");
  await run(1000);
  t.ok(a.host.countersIn.length >= 2, "slaves report their counters every second");
  net.kill(a.address);
  await run(1000);
  t.equal(b.node.role, "master", "10.0.0.2: up to date and the longest uptime left");
  t.same(b.host.masterOf, [{ replica: 2, epoch: 2 }], "took over with the replica at version 2");
  t.equal(c.node.role, "slave");
  t.equal(c.node.membership.master, "10.0.0.2");
  t.equal(b.node.uptodateSlaves, 1, "10.0.0.3 resynced from the new master");
  t.equal(c.node.replica.version, 2);
  t.ok(logs.some((l) => l.startsWith("10.0.0.2 I am declaring myself the master!")), "l2tpns's words");
  t.ok(logs.some((l) => l.startsWith("10.0.0.3 Now uptodate with master.")));
});

void t.test("resign (SIGTERM): a slave takes over at once, not after the timeout", async (t) => {
  const { nodes, run } = await cluster(2);
  await run(1000);
  const [a, b] = nodes;
  if (a === undefined || b === undefined) throw new Error("nodes");
  a.host.change("1", { ns: 5 });
  await run(30);
  await a.node.resign();
  await run(30);
  t.equal(b.node.role, "master", "within 30 ms of the resign");
  t.same(b.host.masterOf.map((m) => m.replica), [1]);
});

void t.test("multicast cut but the stream up: no election (heartbeats on the stream); the stream cut too: the slave takes over and the old master steps down when it hears the newer epoch", async (t) => {
  const { net, nodes, run } = await cluster(2);
  await run(1000);
  const [a, b] = nodes;
  if (a === undefined || b === undefined) throw new Error("nodes");
  net.partition(a.address, b.address, true, "multicast");
  await run(2000);
  t.equal(b.node.role, "slave", "multicast lost for 2 s (4 timeouts): still a slave");
  t.equal(a.node.uptodateSlaves, 1, "and still up to date");
  net.partition(a.address, b.address, false, "multicast");
  net.partition(a.address, b.address, true);
  await run(1000);
  t.equal(b.node.role, "master", "a full partition: the slave takes over");
  t.equal(a.node.role, "master", "the old master does not know yet");
  net.partition(a.address, b.address, false);
  await run(300);
  t.equal(a.host.steppedDown.length, 1, "healed: the older epoch steps down");
  t.equal(b.node.role, "master");
});

void t.test("a node with another cluster_secret is not heard; its messages are dropped and counted", async (t) => {
  const { nodes, run } = await cluster(2, (i) => (i === 2 ? "wrong" : "right"));
  await run(1000);
  const [a, b] = nodes;
  if (a === undefined || b === undefined) throw new Error("nodes");
  t.equal(a.node.role, "master");
  t.equal(b.node.role, "master", "it never heard the other: a cluster of its own");
  t.ok((a.node.counters.badFrames.get("bad-mac") ?? 0) > 0, "counted");
  t.equal(a.node.peers.length, 0);
});

void t.test("SIGSTOP on the master: a slave takes over; the old master wakes fenced, hears the newer master and steps down, releasing nothing", async (t) => {
  const { nodes, run, stop, cont, logs } = await cluster(2);
  await run(1000);
  const [a, b] = nodes;
  if (a === undefined || b === undefined) throw new Error("nodes");
  t.equal(a.node.role, "master");
  stop(0);
  await run(1500);
  t.equal(b.node.role, "master", "the slave took over");
  cont(0);
  let released = false;
  a.host.change("9", { late: true });
  void a.node.barrier(a.host.ver)?.then(() => { released = true; });
  await run(1000);
  t.equal(a.host.steppedDown.length, 1, "stepped down");
  t.notOk(released, "its output after waking never left");
  t.ok(logs.some((l) => l.startsWith("10.0.0.1 stalled for")), "said why it held output");
});

void t.test("a master that stalled but was not replaced (its only slave died meanwhile) holds output one timeout, then goes on", async (t) => {
  const { net, nodes, run, stop, cont } = await cluster(2);
  await run(1000);
  const [a, b] = nodes;
  if (a === undefined || b === undefined) throw new Error("nodes");
  net.kill(b.address);
  stop(0);
  await run(1000);
  cont(0);
  let released = false;
  a.host.change("9", { x: 1 });
  void a.node.barrier(a.host.ver)?.then(() => { released = true; });
  await run(100);
  t.ok(a.node.fenced, "fenced after the stall");
  t.notOk(released, "held meanwhile");
  await run(600);
  t.notOk(a.node.fenced);
  t.ok(released, "released once no other master was heard for a timeout");
  t.equal(a.node.role, "master");
  t.equal(a.host.steppedDown.length, 0);
});

void t.test("SIGSTOP on a slave for 2 s: when it runs again it hears the master and stays a slave", async (t) => {
  const { nodes, run, stop, cont } = await cluster(2);
  await run(1000);
  const [a, b] = nodes;
  if (a === undefined || b === undefined) throw new Error("nodes");
  stop(1);
  await run(2000);
  cont(1);
  await run(1000);
  t.equal(a.node.role, "master", "the master is still the master");
  t.equal(b.node.role, "slave", "the slave did not elect itself");
  t.equal(b.host.masterOf.length, 0);
  t.equal(a.host.steppedDown.length, 0);
  t.equal(a.node.uptodateSlaves, 1, "and it is up to date again");
});
