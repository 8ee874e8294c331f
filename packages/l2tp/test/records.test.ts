// Tunnels and sessions as records (issue 13): snapshot an LNS at each point of a tunnel's and a
// session's life, restore it into a new node on the same address, and let the LAC carry on.
import t, { type Test } from "tap";
import fc from "fast-check";
import { AvpType, decodeControlMessage, L2tpMessageType } from "@lnsd/wire";
import { IdAllocator, L2tpNode, ReliableTransport, withMessages, type L2tpConfig, type L2tpNodeEvents, type L2tpSnapshot, type Session, type Tunnel } from "../src/index.js";
import { fakeRandom, LAC_ADDR, LNS_ADDR, rawControlMessage, rig, type Rig } from "./harness.js";

interface Restart {
  lns: L2tpNode;
  events: L2tpNodeEvents;
  restored: Tunnel[];
  up: Session[];
  snapshot: L2tpSnapshot;
  /** Index into r.net.sent where the new node took over. */
  sentAt: number;
}

/** Snapshots the LNS, drops it, and starts a new node on its address from the JSON of the snapshot. */
function restart(r: Rig, lnsConfig: Partial<L2tpConfig> = {}, gapMs = 0): Restart {
  const json = JSON.stringify(r.lns.snapshot());
  r.lns.close();
  r.clock.advance(gapMs);
  const snapshot = JSON.parse(json) as L2tpSnapshot;
  const restored: Tunnel[] = [];
  const up: Session[] = [];
  const events: L2tpNodeEvents = {
    tunnelRestored: (tu) => restored.push(tu),
    sessionUp: (_tu, s) => up.push(s),
  };
  const lns = new L2tpNode(r.net.endpoint(LNS_ADDR.address, LNS_ADDR.port), { clock: r.clock, random: fakeRandom(33), config: { hostName: "lns", ...lnsConfig }, events });
  const sentAt = r.net.sent.length;
  const res = lns.restore(snapshot);
  if (!res.ok) throw new Error(res.error);
  return { lns, events, restored, up, snapshot, sentAt };
}

interface Seen {
  /** Ns reused with other bytes (Nr aside: a retransmission carries the current Nr). */
  conflicts: string[];
  stopCcn: number;
  cdn: number;
  /** Assigned Tunnel IDs the LNS gave this LAC in SCCRP, and Assigned Session IDs in ICRP by LAC session. */
  tunnelIds: Set<number>;
  sessionIds: Map<number, Set<number>>;
  hello: number;
  /** Distinct control messages (by Ns) the LNS sent. */
  messages: number;
}

/** What the LAC was sent by the LNS (old and new node alike), from index `from` of the log on. */
function lacView(r: Rig, secret?: string, from = 0): Seen {
  const byNs = new Map<string, string>();
  const seen: Seen = { conflicts: [], stopCcn: 0, cdn: 0, tunnelIds: new Set(), sessionIds: new Map(), hello: 0, messages: 0 };
  for (const p of r.net.sent.slice(from)) {
    if (p.from.address !== LNS_ADDR.address || p.to.address !== LAC_ADDR.address) continue;
    if (((p.packet[0] ?? 0) & 0x80) === 0) continue;
    const d = decodeControlMessage(p.packet, secret === undefined ? {} : { secret });
    if (!d.ok || d.value.messageType === "ZLB") continue;
    const m = d.value;
    const key = `${String(m.tunnelId)}/${String(m.ns)}`;
    const body = Buffer.from(p.packet);
    body.writeUInt16BE(0, 10);
    const bytes = body.toString("hex");
    const before = byNs.get(key);
    if (before !== undefined) {
      if (before !== bytes) seen.conflicts.push(key);
      continue;
    }
    byNs.set(key, bytes);
    seen.messages++;
    switch (m.messageType) {
      case L2tpMessageType.StopCCN:
        seen.stopCcn++;
        break;
      case L2tpMessageType.CDN:
        seen.cdn++;
        break;
      case L2tpMessageType.HELLO:
        seen.hello++;
        break;
      case L2tpMessageType.SCCRP:
        seen.tunnelIds.add(m.avps[AvpType.AssignedTunnelId] ?? 0);
        break;
      case L2tpMessageType.ICRP: {
        const ids = seen.sessionIds.get(m.sessionId) ?? new Set<number>();
        ids.add(m.avps[AvpType.AssignedSessionId] ?? 0);
        seen.sessionIds.set(m.sessionId, ids);
        break;
      }
      default:
        break;
    }
  }
  return seen;
}

/** Steps the clock a millisecond at a time until `reached` holds (or a minute passes). */
function until(r: Rig, reached: () => boolean): boolean {
  for (let i = 0; i < 60_000; i++) {
    if (reached()) return true;
    r.clock.advance(1);
  }
  return reached();
}

function lnsTunnel(node: L2tpNode): Tunnel | undefined {
  return [...node.tunnels.values()][0];
}

function states(tu: Tunnel | undefined): string[] {
  return [...(tu?.sessions.values() ?? [])].map((s) => s.state);
}

/** A LAC with `calls` calls placed at once, snapshot when `point` holds, then a minute more. */
function scenario(
  t: Test,
  name: string,
  point: (r: Rig) => boolean,
  opts: { calls?: number; lns?: Partial<L2tpConfig>; lac?: Partial<L2tpConfig>; secret?: string; before?: (r: Rig) => void; atPoint?: (r: Rig) => void; callsAfterRestore?: boolean } = {},
): { r: Rig; x: Restart; lac: Tunnel; seen: Seen } | undefined {
  const secret = opts.secret;
  const r = rig({ lns: { ...(secret === undefined ? {} : { secret }), ...opts.lns }, lac: { ...(secret === undefined ? {} : { secret }), ...opts.lac } });
  r.net.record = true;
  opts.before?.(r);
  const lac = r.lac.openTunnel(LNS_ADDR);
  if (lac === undefined) {
    t.fail("no LAC tunnel");
    return undefined;
  }
  const calls = opts.calls ?? 2;
  const place = (): void => {
    for (let i = 0; i < calls; i++) r.lac.placeCall(lac, { call: { callingNumber: `0700${String(i)}`, calledNumber: "isp", txConnectSpeed: 1_000_000 } });
  };
  if (opts.callsAfterRestore !== true) place();
  t.ok(until(r, () => point(r)), `${name}: the point is reached`);
  opts.atPoint?.(r);
  const x = restart(r, { ...(secret === undefined ? {} : { secret }), ...opts.lns });
  if (opts.callsAfterRestore === true) place();
  r.clock.advance(60_000);
  const seen = lacView(r, secret);
  return { r, x, lac, seen };
}

/** One consistent control channel, and both ends up with every call. */
function assertUp(t: Test, name: string, s: NonNullable<ReturnType<typeof scenario>>, calls = 2): void {
  const { r, x, lac, seen } = s;
  t.same(seen.conflicts, [], `${name}: no Ns reused with other contents`);
  t.equal(seen.stopCcn, 0, `${name}: no StopCCN`);
  t.equal(seen.cdn, 0, `${name}: no CDN`);
  t.equal(seen.tunnelIds.size, 1, `${name}: one Assigned Tunnel ID`);
  t.equal(seen.sessionIds.size, calls, `${name}: an ICRP for each call`);
  const lnsIds = [...seen.sessionIds.values()].flatMap((ids) => [...ids]);
  t.equal(new Set(lnsIds).size, lnsIds.length, `${name}: each call its own LNS session id, never two for one call`);
  t.equal(lac.state, "established", `${name}: LAC tunnel established`);
  t.same(states(lac), Array<string>(calls).fill("established"), `${name}: LAC sessions established`);
  t.equal(x.lns.tunnels.size, 1, `${name}: one tunnel at the new LNS`);
  const tu = lnsTunnel(x.lns);
  t.equal(tu?.state, "established", `${name}: LNS tunnel established`);
  t.same(states(tu), Array<string>(calls).fill("established"), `${name}: LNS sessions established`);
  t.equal(x.lns.sessionCount, calls, `${name}: session count`);
  t.equal(x.lns.sessionsInSetupCount, 0, `${name}: none left in setup`);
  t.equal(r.lac.counter("tunnel-retries-exhausted"), 0, `${name}: the LAC never gave up on the LNS`);
  t.same([...(tu?.sessions.values() ?? [])].map((s) => s.call.callingNumber).sort(), Array.from({ length: calls }, (_, i) => `0700${String(i)}`), `${name}: call details kept`);
}

const lnsState = (r: Rig): string | undefined => lnsTunnel(r.lns)?.state;
const lnsSessions = (r: Rig): string[] => states(lnsTunnel(r.lns));

void t.test("after SCCRQ received (SCCRP on its way)", (t) => {
  const s = scenario(t, "sccrq", (r) => lnsState(r) === "wait-ctl-conn");
  if (s === undefined) return;
  t.equal(s.x.snapshot.tunnels.length, 1, "one tunnel in the snapshot");
  t.equal(s.x.snapshot.tunnels[0]?.state, "wait-ctl-conn");
  t.equal(s.x.restored.length, 1, "tunnelRestored once");
  assertUp(t, "sccrq", s);
  t.equal(s.x.up.length, 2, "both sessions come up at the new node, announced by sessionUp");
  t.end();
});

void t.test("after SCCRP sent, SCCCN on its way", (t) => {
  const s = scenario(t, "sccrp", (r) => lnsState(r) === "wait-ctl-conn" && [...r.lac.tunnels.values()][0]?.state === "established");
  if (s === undefined) return;
  t.equal(s.x.snapshot.tunnels[0]?.state, "wait-ctl-conn");
  assertUp(t, "sccrp", s);
  t.end();
});

void t.test("tunnel established, calls placed after the restore", (t) => {
  // The LAC sends its ICRQs in the same instant as SCCCN, so the calls come after the restore here.
  const s = scenario(t, "tunnel up", (r) => lnsState(r) === "established", { callsAfterRestore: true });
  if (s === undefined) return;
  t.equal(s.x.snapshot.tunnels[0]?.sessions.length, 0, "no session yet");
  t.type(s.x.snapshot.tunnels[0]?.helloAt, "number", "HELLO deadline recorded");
  assertUp(t, "tunnel up", s);
  t.end();
});

void t.test("after ICRQ received (ICRP on its way)", (t) => {
  const s = scenario(t, "icrq", (r) => lnsSessions(r).includes("wait-connect"));
  if (s === undefined) return;
  const sessions = s.x.snapshot.tunnels[0]?.sessions ?? [];
  t.ok(sessions.length >= 1, "a session in the snapshot");
  t.type(sessions[0]?.setupDeadline, "number", "its setup deadline recorded");
  assertUp(t, "icrq", s);
  t.end();
});

void t.test("after ICRP sent, ICCN on its way", (t) => {
  // A call the LAC considers up (ICCN sent) that the LNS still has in wait-connect.
  const s = scenario(t, "icrp", (r) => {
    const lacTunnel = [...r.lac.tunnels.values()][0];
    const lns = lnsTunnel(r.lns);
    return [...(lacTunnel?.sessions.values() ?? [])].some((ls) => ls.state === "established" && lns?.sessionFor(ls.peerId)?.state === "wait-connect");
  });
  if (s === undefined) return;
  const waiting = s.x.snapshot.tunnels[0]?.sessions.filter((x) => x.state === "wait-connect").length ?? 0;
  t.ok(waiting >= 1, "a session in wait-connect in the snapshot");
  assertUp(t, "icrp", s);
  const upBefore = s.x.snapshot.tunnels[0]?.sessions.filter((x) => x.state === "established").length ?? 0;
  t.equal(s.x.up.length, 2 - upBefore, "sessionUp at the new node for each call not up in the snapshot, none for the others");
  t.end();
});

void t.test("established sessions, with tunnel authentication and hidden AVPs; HELLO goes on; ids stay unique", (t) => {
  const secret = "s3cret";
  const s = scenario(t, "established", (r) => lnsSessions(r).length === 2 && lnsSessions(r).every((x) => x === "established") && r.lns.sessionsInSetupCount === 0, {
    secret,
    lns: { requireTunnelAuth: true },
    lac: { disableSendingHello: true },
    atPoint: (r) => { r.clock.advance(1000); },
  });
  if (s === undefined) return;
  const rec = s.x.snapshot.tunnels[0];
  t.equal(rec?.auth.peerProvedSecret, true, "tunnel auth outcome recorded");
  t.equal(rec?.peer.hostName, "lac", "peer host name recorded");
  t.equal(s.x.up.length, 0, "no sessionUp for sessions restored established");
  t.equal(s.x.restored[0]?.sessions.size, 2, "tunnelRestored carries the sessions");
  assertUp(t, "established", s);
  const { r, x, lac } = s;
  t.ok(lacView(r, secret, x.sentAt).hello >= 1, "the new LNS sends HELLO to a quiet LAC");
  // New calls and tunnels get ids not in use.
  const before = new Set(lnsTunnel(x.lns)?.sessions.keys());
  r.lac.placeCall(lac, { call: { callingNumber: "07002" } });
  const lac2 = r.lac.openTunnel(LNS_ADDR);
  r.clock.advance(5000);
  const tu = lnsTunnel(x.lns);
  t.equal(tu?.sessions.size, 3, "a third call comes up");
  const added = [...(tu?.sessions.keys() ?? [])].filter((id) => !before.has(id));
  t.equal(added.length, 1, "one new LNS session id");
  t.equal(lac2?.state, "established", "a second tunnel comes up");
  t.equal(x.lns.tunnels.size, 2);
  t.equal(new Set(x.lns.tunnels.keys()).size, 2, "with its own tunnel id");
  const hidden = r.net.sent.slice(x.sentAt).some((p) => {
    const d = decodeControlMessage(p.packet, { secret });
    return d.ok && d.value.messageType === L2tpMessageType.ICRP && d.value.received.some((a) => a.hidden);
  });
  t.ok(hidden, "the new node still hides AVPs to this peer");
  t.same(lacView(r, secret).conflicts, [], "still one consistent channel");
  t.end();
});

void t.test("a CDN sent and not yet acknowledged", (t) => {
  let cleared: number | undefined;
  const s = scenario(t, "cdn", (r) => lnsSessions(r).length === 2 && lnsSessions(r).every((x) => x === "established"), {
    atPoint: (r) => {
      r.clock.advance(500);
      const tu = lnsTunnel(r.lns);
      const first = [...(tu?.sessions.values() ?? [])][0];
      if (tu === undefined || first === undefined) return;
      cleared = first.peerId;
      tu.clearSession(first, 3, undefined, "admin reset");
    },
  });
  if (s === undefined) return;
  const { r, x, lac, seen } = s;
  t.equal(s.x.snapshot.tunnels[0]?.transport.inFlight.length, 1, "the CDN is in flight in the snapshot");
  t.same(seen.conflicts, [], "no Ns reused with other contents");
  t.equal(seen.cdn, 1, "exactly the one CDN asked for");
  t.equal(seen.stopCcn, 0, "no StopCCN");
  t.equal(lac.state, "established");
  t.same(states(lac), ["established"], "the other call stays up at the LAC");
  t.notOk(lac.sessions.has(cleared ?? -1), "the cleared call is gone at the LAC");
  t.same(states(lnsTunnel(x.lns)), ["established"], "and at the LNS");
  t.equal(x.lns.sessionCount, 1);
  t.equal(lnsTunnel(x.lns)?.transport.idle, true, "the CDN was acknowledged by the new node's transport");
  t.equal(r.lac.counter("tunnel-retries-exhausted"), 0);
  t.end();
});

void t.test("a StopCCN sent and not yet acknowledged", (t) => {
  const s = scenario(t, "stopccn", (r) => lnsSessions(r).length === 2 && lnsSessions(r).every((x) => x === "established"), {
    atPoint: (r) => {
      r.clock.advance(500);
      r.lns.shutdown();
    },
  });
  if (s === undefined) return;
  const { x, lac, seen } = s;
  t.equal(x.snapshot.tunnels[0]?.state, "closing");
  t.type(x.snapshot.tunnels[0]?.holdUntil, "number", "the hold deadline is recorded");
  t.same(seen.conflicts, [], "no Ns reused with other contents");
  t.equal(seen.stopCcn, 1, "the one StopCCN asked for");
  t.equal(seen.cdn, 0, "no CDN");
  t.ok(lac.state === "closing" || lac.state === "closed", "the LAC closed the tunnel");
  t.equal(lac.end?.by, "peer", "because the LNS said so");
  t.equal(x.lns.tunnels.size, 0, "the new LNS freed the tunnel after the hold time");
  t.equal(x.lns.sessionCount, 0);
  t.end();
});

void t.test("an unacknowledged message outstanding and a lost datagram: resent by the new node", (t) => {
  let lost = 0;
  const s = scenario(t, "lost", (r) => lost > 0 && lnsSessions(r).includes("wait-connect"), {
    calls: 1,
    before: (r) => {
      r.net.dropIf = (from, _to, p) => {
        if (lost > 0 || from.address !== LNS_ADDR.address) return false;
        const d = decodeControlMessage(p);
        if (d.ok && d.value.messageType === L2tpMessageType.ICRP) {
          lost++;
          return true;
        }
        return false;
      };
    },
  });
  if (s === undefined) return;
  const { r, x } = s;
  const inFlight = x.snapshot.tunnels[0]?.transport.inFlight ?? [];
  t.equal(inFlight.length, 1, "the ICRP is unacknowledged in the snapshot");
  t.type(x.snapshot.tunnels[0]?.transport.retransmitAt, "number", "with its retransmission deadline");
  const resent = r.net.sent.slice(x.sentAt).filter((p) => {
    const d = decodeControlMessage(p.packet);
    return p.from.address === LNS_ADDR.address && d.ok && d.value.messageType === L2tpMessageType.ICRP;
  });
  t.equal(resent.length, 1, "the new node resent the lost ICRP once");
  t.equal(lost, 1);
  assertUp(t, "lost", s, 1);
  t.end();
});

void t.test("a LAC that stops the tunnel after the restore is acknowledged by the new node", (t) => {
  const s = scenario(t, "lac-stop", (r) => lnsState(r) === "established" && lnsSessions(r).length === 2);
  if (s === undefined) return;
  const { r, x, lac } = s;
  lac.stop(1, undefined, "bye");
  r.clock.advance(40_000);
  t.equal(r.lac.tunnels.size, 0, "the LAC's tunnel is gone after its hold");
  t.equal(r.lac.counter("tunnel-retries-exhausted"), 0, "its StopCCN was acknowledged");
  t.equal(x.lns.tunnels.size, 0, "the LNS's too");
  t.equal(lacView(r).stopCcn, 0, "the LNS sent no StopCCN of its own");
  t.end();
});

void t.test("restore refuses a snapshot of another version or with ids used twice, changing nothing", (t) => {
  const r = rig();
  const lac = r.lac.openTunnel(LNS_ADDR);
  if (lac !== undefined) r.lac.placeCall(lac);
  r.clock.advance(2000);
  const snap = r.lns.snapshot();
  const node = new L2tpNode(r.net.endpoint("192.0.2.9", 1701), { clock: r.clock });
  t.same(node.restore({ ...snap, version: 99 }).ok, false);
  const one = snap.tunnels[0];
  if (one === undefined) return;
  t.same(node.restore({ ...snap, tunnels: [one, one] }).ok, false);
  t.equal(node.tunnels.size, 0);
  const ok = node.restore(snap);
  t.same(ok, { ok: true, tunnels: 1, sessions: 1 });
  t.same(node.restore(snap).ok, false, "not twice");
  t.same(JSON.parse(JSON.stringify(node.snapshot())), JSON.parse(JSON.stringify(snap)), "a restored node snapshots to the same records");
  node.close();
  t.end();
});

void t.test("property: a snapshot at any message index, with loss, ends in one consistent channel with every call up", (t) => {
  // A clean run puts about 20 datagrams on the wire with three calls: the index spans it and more.
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 1, max: 1000 }), fc.boolean(), (index, calls, gapMs, seed, lossy) => {
      const r = rig({ seed });
      r.net.record = true;
      if (lossy) r.net.impairment = { loss: 0.1, dup: 0.05, reorder: 0.1 };
      const lac = r.lac.openTunnel(LNS_ADDR);
      if (lac === undefined) return false;
      for (let i = 0; i < calls; i++) r.lac.placeCall(lac, { call: { callingNumber: `0700${String(i)}` } });
      until(r, () => r.net.sent.length >= index || (lac.state === "established" && states(lac).every((x) => x === "established") && r.lns.sessionsInSetupCount === 0 && lnsSessions(r).length === calls));
      const x = restart(r, {}, gapMs);
      r.net.impairment = { loss: 0, dup: 0, reorder: 0 };
      r.clock.advance(90_000);
      const seen = lacView(r);
      const tu = lnsTunnel(x.lns);
      const ok =
        seen.conflicts.length === 0 &&
        seen.stopCcn === 0 &&
        seen.cdn === 0 &&
        seen.tunnelIds.size === 1 &&
        lac.state === "established" &&
        states(lac).length === calls &&
        states(lac).every((s) => s === "established") &&
        x.lns.tunnels.size === 1 &&
        tu?.state === "established" &&
        states(tu).length === calls &&
        states(tu).every((s) => s === "established");
      if (!ok) t.comment(JSON.stringify({ index, calls, gapMs, seed, lossy, seen: { ...seen, tunnelIds: [...seen.tunnelIds], sessionIds: [...seen.sessionIds.keys()] }, lac: [lac.state, states(lac)], lns: [tu?.state, states(tu)] }));
      return ok;
    }),
    { numRuns: 60, seed: 13 },
  );
  t.pass("every run consistent");
  t.end();
});

void t.test("ids allocated from records: above the highest in use, then the gaps, never one in use", (t) => {
  const a = IdAllocator.withInUse([3, 5, 1]);
  t.equal(a.inUse, 3);
  t.same(a.inUseIds, [1, 3, 5]);
  const small = IdAllocator.withInUse([2, 4], 6);
  const got = [small.allocate(), small.allocate(), small.allocate(), small.allocate(), small.allocate()];
  t.same(got, [5, 6, 1, 3, undefined], "5 and 6 above, then the gaps 1 and 3, then none");
  small.release(2);
  t.equal(small.allocate(), 2, "a released id comes back");
  t.end();
});

void t.test("a transport record taken across the Ns wrap restores to the same Ns/Nr and resends the same bytes", (t) => {
  const r = rig();
  const sent: Buffer[] = [];
  const io = { transmit: (p: Buffer) => sent.push(Buffer.from(p)), buildZlb: () => Buffer.alloc(12), deliver: () => undefined, failed: () => undefined };
  const a = new ReliableTransport<string>(r.clock, io);
  a.restore({ ns: 0xfffe, nr: 0xffff, sentNr: 0xffff, peerWindow: 4, cwnd: 4, ssthresh: 4, cwndAcks: 0, inFlight: [], waiting: [], counters: { ...a.counters } }, 0);
  for (let i = 0; i < 3; i++) a.send((ns, nr) => rawControlMessage({ tunnelId: 1, sessionId: 0, ns, nr }, L2tpMessageType.HELLO, []));
  const rec = JSON.parse(JSON.stringify(a.record(0))) as ReturnType<typeof a.record>;
  t.same(rec.inFlight.map((o) => o.ns), [0xfffe, 0xffff, 0], "three in flight across the wrap");
  a.close();
  sent.length = 0;
  const b = new ReliableTransport<string>(r.clock, io);
  b.restore(rec, 0);
  t.equal(b.ns, 1);
  t.equal(b.nr, 0xffff);
  t.equal(sent.length, 0, "nothing sent before the retransmission is due");
  r.clock.advance(1000);
  t.equal(sent.length, 1, "the oldest resent when due");
  t.equal(sent[0]?.readUInt16BE(8), 0xfffe);
  t.equal(sent[0]?.toString("hex"), rec.inFlight[0]?.packetHex, "with the same bytes");
  b.receive(0, 1, undefined);
  t.ok(b.idle, "an Nr past the wrap acknowledges all three");
  b.close();
  t.end();
});

void t.test("a transport record without the messages' bytes (a span) expands to the same record with them", (t) => {
  const r = rig();
  const io = { transmit: () => undefined, buildZlb: () => Buffer.alloc(12), deliver: () => undefined, failed: () => undefined };
  const a = new ReliableTransport<string>(r.clock, io);
  // Window 2: two in flight, two waiting, across the Ns wrap; the oldest retransmitted once.
  a.restore({ ns: 0xfffe, nr: 5, sentNr: 5, peerWindow: 2, cwnd: 2, ssthresh: 2, cwndAcks: 0, inFlight: [], waiting: [], counters: { ...a.counters } }, 0);
  for (let i = 0; i < 4; i++) a.send((ns, nr) => rawControlMessage({ tunnelId: 1, sessionId: 0, ns, nr }, L2tpMessageType.HELLO, []));
  r.clock.advance(1000);
  const full = a.record(0);
  const bare = JSON.parse(JSON.stringify(a.record(0, false))) as ReturnType<typeof a.record>;
  t.same(bare.inFlight, [], "no messages in the bare record");
  t.same(bare.span, { first: 0xfffe, inFlight: 2, waiting: 2, retries: [1] }, "their span: first Ns, counts, the oldest's retries");
  t.notOk(JSON.stringify(bare).includes(full.inFlight[0]?.packetHex ?? "none"), "no bytes");
  const bytes = new Map([...full.inFlight, ...full.waiting].map((o) => [o.ns, o.packetHex]));
  const back = withMessages(bare, (ns) => bytes.get(ns));
  t.same(back, { ok: true, record: { ...full, counters: bare.counters } }, "expanded: the record with the bytes");
  t.same(withMessages(bare, (ns) => (ns === 0 ? undefined : bytes.get(ns))), { ok: false, missing: 0 }, "a missing message is named");
  a.close();
  t.end();
});
