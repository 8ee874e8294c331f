// PPP server links as records (issue 13): bring a link up against the test client, snapshot it,
// carry the record through JSON, restore it into a new server and let the client carry on:
// keepalive both ways, Terminate-Request, renegotiation, the echo failure that ends it.
import t, { type Test } from "tap";
import { PppProtocol, decodeLcp, decodePppFrame, encodeLcp, type LcpOption } from "@lnsd/wire";
import { type AuthProtocolName, type PppLinkRecord, type PppServerConfig } from "../src/index.js";
import { Rig, describe, frame, type Captured, type RigOptions } from "./harness.js";

/** Server: an Echo-Request every second whatever the traffic, 5 s of silence ends the link. */
const KEEPALIVE: Partial<PppServerConfig> = { echoIntervalMs: 1000, echoOnlyWhenIdle: false, idleEchoTimeoutMs: 5000 };

interface Variant {
  readonly auth: AuthProtocolName;
  readonly serverV6: boolean;
  readonly clientV6: boolean;
}

const VARIANTS: readonly Variant[] = [
  { auth: "chap", serverV6: false, clientV6: false },
  { auth: "pap", serverV6: false, clientV6: false },
  { auth: "chap", serverV6: true, clientV6: true },
  { auth: "pap", serverV6: true, clientV6: true },
  // IPV6CP configured, Protocol-Rejected by the client: established with IPCP alone.
  { auth: "chap", serverV6: true, clientV6: false },
];

function rigOptions(v: Variant, clientEchoMs = 700): RigOptions {
  return {
    server: { ...KEEPALIVE, authProtocols: [v.auth], ipv6: v.serverV6 },
    client: { ipv6: v.clientV6, echoIntervalMs: clientEchoMs, echoOnlyWhenIdle: false },
  };
}

async function established(v: Variant, clientEchoMs?: number): Promise<Rig> {
  const r = new Rig(rigOptions(v, clientEchoMs)).start();
  await r.run(300);
  if (r.serverUp.length !== 1 || r.server.snapshotRefusal() !== undefined) throw new Error(`not established: ${r.server.snapshotRefusal() ?? "no up event"}`);
  return r;
}

interface Lcp {
  readonly from: Captured["from"];
  readonly atMs: number;
  readonly kind: string;
  readonly identifier: number;
  readonly magic: number | undefined;
}

/** The LCP packets sent, decoded, from index `from` of the capture on. */
function lcpSent(r: Rig, from = 0): Lcp[] {
  const out: Lcp[] = [];
  for (const c of r.frames.slice(from)) {
    const f = decodePppFrame(c.frame);
    if (!f.ok || f.value.protocol !== PppProtocol.LCP) continue;
    const p = decodeLcp(f.value.info);
    if (!p.ok) continue;
    const v = p.value;
    out.push({ from: c.from, atMs: c.atMs, kind: v.kind, identifier: v.identifier, magic: "magic" in v ? v.magic : undefined });
  }
  return out;
}

/** Snapshot, JSON round trip, `gapMs` with no server at all, then a new server from the record. */
async function restart(r: Rig, gapMs = 0): Promise<{ record: PppLinkRecord; at: number; framesAt: number }> {
  const snap = r.server.snapshot();
  if (snap === undefined) throw new Error(r.server.snapshotRefusal());
  const json = JSON.stringify(snap);
  r.detachServer();
  if (gapMs > 0) await r.run(gapMs);
  const record = JSON.parse(json) as PppLinkRecord;
  const framesAt = r.frames.length;
  r.restoreServer(record);
  return { record, at: r.clock.now(), framesAt };
}

function checkRestoredNothingSent(t: Test, r: Rig, framesAt: number): void {
  t.equal(r.frames.length, framesAt, "restoring sends nothing (no Configure-Request)");
  t.equal(r.serverUp.length, 1, "no second up event");
  t.equal(r.server.status().lcp, "Opened");
  t.equal(r.server.status().phase, "network");
}

for (const v of VARIANTS) {
  const name = `${v.auth.toUpperCase()}${v.serverV6 ? (v.clientV6 ? " with IPV6CP" : ", IPV6CP Protocol-Rejected") : ""}`;
  void t.test(`${name}: restored link keeps the keepalive both ways and carries traffic`, async (t) => {
    const r = await established(v);
    const before = r.server.info();
    const { record, at, framesAt } = await restart(r);
    checkRestoredNothingSent(t, r, framesAt);

    // The record holds what was negotiated.
    t.equal(record.lcp.ourMru, 1462);
    t.equal(record.lcp.peerMru, 1500);
    t.not(record.lcp.ourMagic, 0);
    t.not(record.lcp.peerMagic, 0);
    t.not(record.lcp.ourMagic, record.lcp.peerMagic);
    t.equal(record.auth.protocol, v.auth);
    t.equal(record.auth.username, "alice");
    t.equal(record.ipcp.peerAddress, "10.231.100.1");
    t.equal(record.ipcp.localAddress, "10.231.0.1");
    t.equal(record.ipcp.primaryDns, "192.0.2.53");
    t.equal(record.ipv6cp !== undefined, v.serverV6 && v.clientV6, "IPV6CP recorded when it is Opened");
    if (record.ipv6cp !== undefined) {
      t.equal(record.ipv6cp.localInterfaceIdHex, "0000000000000001");
      t.equal(record.ipv6cp.peerInterfaceIdHex.length, 16);
    }
    t.same(record.ncpRejected, v.serverV6 && !v.clientV6 ? ["ipv6cp"] : []);
    t.same(r.server.info(), before, "info() as before: user, addresses, MRUs, magic numbers, interface ids");

    await r.run(3000, 50);
    const after = lcpSent(r, framesAt);
    // The client's Echo-Requests (every 700 ms) are answered with the server's original magic.
    const clientReqs = after.filter((p) => p.from === "client" && p.kind === "EchoReq");
    const serverReplies = after.filter((p) => p.from === "server" && p.kind === "EchoReply");
    t.equal(clientReqs.length, 4, "client Echo-Requests after the restore");
    t.equal(serverReplies.length, clientReqs.length, "each answered");
    t.same(serverReplies.map((p) => p.magic), clientReqs.map(() => record.lcp.ourMagic), "with our recorded Magic-Number");
    t.same(serverReplies.map((p) => p.identifier), clientReqs.map((p) => p.identifier));

    // The server's own Echo-Requests go on at the recorded deadline, then every second.
    const serverReqs = after.filter((p) => p.from === "server" && p.kind === "EchoReq");
    t.equal(serverReqs.length, 3, "server Echo-Requests in 3 s");
    t.equal(serverReqs[0]?.atMs, record.echo.nextAt, "the first at the recorded deadline");
    t.same(serverReqs.map((p) => p.atMs - (serverReqs[0]?.atMs ?? 0)), [0, 1000, 2000]);
    t.same(serverReqs.map((p) => p.magic), [record.lcp.ourMagic, record.lcp.ourMagic, record.lcp.ourMagic]);
    const clientReplies = after.filter((p) => p.from === "client" && p.kind === "EchoReply");
    t.equal(clientReplies.length, 3);
    t.same(clientReplies.map((p) => p.magic), [record.lcp.peerMagic, record.lcp.peerMagic, record.lcp.peerMagic], "the client's magic");
    t.equal(r.server.echoStats.replies, record.echo.stats.replies + 3, "the replies match our outstanding requests");
    t.equal(r.server.echoStats.lost, 0);
    t.equal(r.server.counter("echo-own-magic"), 0);
    t.equal(r.client?.counter("echo-own-magic"), 0);

    // Network-layer frames pass as before.
    r.inject(frame(PppProtocol.IPv4, Buffer.alloc(20, 0x45)));
    t.equal(r.server.counter("data-rx"), 1, "IPv4 passed on");
    r.inject(frame(PppProtocol.IPv6, Buffer.alloc(40, 0x60)));
    t.equal(r.server.counter("data-rx"), v.clientV6 ? 2 : 1, v.clientV6 ? "IPv6 passed on" : "IPv6 discarded without IPV6CP");

    t.equal(r.serverDown.length, 0);
    t.equal(r.clientDown.length, 0);
    t.equal(r.server.ended, undefined);
    t.ok(at > 0);
    t.end();
  });
}

void t.test("a gap of several seconds: the overdue Echo-Request goes out at once, then on schedule", async (t) => {
  const r = await established(VARIANTS[0] as Variant);
  const { record, at, framesAt } = await restart(r, 4000);
  checkRestoredNothingSent(t, r, framesAt);
  t.ok((record.echo.nextAt ?? Infinity) < at, "the deadline passed during the gap");
  await r.run(3000, 50);
  const after = lcpSent(r, framesAt);
  const serverReqs = after.filter((p) => p.from === "server" && p.kind === "EchoReq");
  // At once; the next when idle_echo_timeout would fall (4 s of the 5 s were silent), then every second.
  t.equal(serverReqs.length, 4);
  t.equal(serverReqs[0]?.atMs, at + 1, "at once (the clock's 1 ms minimum)");
  t.ok((serverReqs[1]?.atMs ?? 0) - at < 1000, "the next before the idle limit");
  t.same(serverReqs.slice(2).map((p, i) => p.atMs - (serverReqs[i + 1]?.atMs ?? 0)), [1000, 1000]);
  t.ok(serverReqs.every((p) => p.magic === record.lcp.ourMagic));
  const replies = after.filter((p) => p.from === "client" && p.kind === "EchoReply");
  t.equal(replies.length, 4);
  t.ok(replies.every((p) => p.magic === record.lcp.peerMagic), "the client's magic");
  t.equal(r.server.echoStats.lost, 0);
  const answered = after.filter((p) => p.from === "server" && p.kind === "EchoReply");
  t.equal(answered.length, 4);
  t.ok(answered.every((p) => p.magic === record.lcp.ourMagic));
  t.equal(r.serverDown.length, 0);
  t.equal(r.clientDown.length, 0);
  t.end();
});

/**
 * The client goes silent; returns how long after the last frame that reached the server the
 * link was ended, and how many Echo-Requests went out meanwhile.
 */
async function silence(r: Rig): Promise<{ downAfterMs: number; echoes: number }> {
  const lastHeard = (r.frames.filter((c) => c.from === "client").at(-1)?.atMs ?? 0) + 1;
  r.lose = (c) => c.from === "client";
  await r.run(20_000, 50);
  const downAt = r.frames.filter((c) => c.from === "server" && describe(c.frame).startsWith("LCP TermReq"))[0]?.atMs ?? -1;
  return { downAfterMs: downAt - lastHeard, echoes: r.frames.filter((c) => c.from === "server" && c.atMs > lastHeard && describe(c.frame).startsWith("LCP EchoReq")).length };
}

for (const gapMs of [0, 2000]) {
  void t.test(`the client stops answering (gap ${String(gapMs)} ms): ended by echo_timeout as an unrestored link`, async (t) => {
    const plain = await established(VARIANTS[0] as Variant, 0);
    await plain.run(gapMs, 50);
    const plainEnd = await silence(plain);
    const restored = await established(VARIANTS[0] as Variant, 0);
    await restart(restored, gapMs);
    const restoredEnd = await silence(restored);
    t.equal(plain.serverDown.length, 1);
    t.equal(restored.serverDown.length, 1, "one down event");
    t.equal(restored.serverDown[0]?.reason, "echo-timeout");
    t.same(restored.serverDown[0], plain.serverDown[0], "the same cause");
    t.equal(restoredEnd.downAfterMs, plainEnd.downAfterMs, "after the same silence (the gap counts as silence)");
    // During the gap no process sent the Echo-Requests due then (one a second).
    t.equal(restoredEnd.echoes, plainEnd.echoes - gapMs / 1000, "as many unanswered Echo-Requests, less the gap's");
    t.ok(restored.server.echoStats.lost >= 2, `missed echoes counted (${String(restored.server.echoStats.lost)})`);
    t.end();
  });
}

void t.test("a Terminate-Request from the client ends the restored link cleanly", async (t) => {
  const plain = await established(VARIANTS[2] as Variant);
  plain.client?.close();
  await plain.run(10_000, 50);
  const r = await established(VARIANTS[2] as Variant);
  const { framesAt } = await restart(r);
  r.client?.close();
  await r.run(10_000, 50);
  const after = lcpSent(r, framesAt);
  t.equal(after.filter((p) => p.from === "client" && p.kind === "TermReq").length, 1);
  const acks = after.filter((p) => p.from === "server" && p.kind === "TermAck");
  t.equal(acks.length, 1, "Terminate-Ack sent");
  t.equal(acks[0]?.identifier, after.find((p) => p.kind === "TermReq")?.identifier);
  t.equal(r.serverDown.length, 1);
  t.equal(r.serverDown[0]?.reason, "user-request");
  t.same(r.serverDown[0], plain.serverDown[0], "the same cause as an unrestored link");
  t.equal(r.clientDown.length, 1);
  t.equal(r.server.counter("tx-after-end"), 0);
  t.end();
});

void t.test("a renegotiation from the client (Configure-Request in Opened): tld, scr, sca as the original", async (t) => {
  const confReq = (r: Rig): Buffer => {
    const options: LcpOption[] = [{ name: "magicNumber", value: r.server.info().peerMagic }];
    return frame(PppProtocol.LCP, encodeLcp({ kind: "ConfReq", identifier: 200, options }));
  };
  const plain = await established(VARIANTS[0] as Variant, 0);
  const plainFrom = plain.frames.length;
  plain.inject(confReq(plain));
  await plain.run(10_000, 50);
  const r = await established(VARIANTS[0] as Variant, 0);
  await restart(r);
  const from = r.frames.length;
  r.inject(confReq(r));
  await r.run(10_000, 50);
  const server = (x: Rig, i: number): string[] => x.frames.slice(i).filter((c) => c.from === "server").map((c) => c.frame.toString("hex"));
  const sentNow = r.frames.slice(from).filter((c) => c.from === "server").map((c) => describe(c.frame));
  t.match(sentNow[0], /^LCP ConfReq \d+ \[mru=1462 authProtocol=chap magicNumber\]$/, "scr: what was agreed");
  t.equal(sentNow[1], "LCP ConfAck 200 [magicNumber]", "sca");
  t.ok(server(r, from).length >= 3, `answers sent: ${sentNow.join(", ")}`);
  t.same(server(r, from), server(plain, plainFrom), "byte for byte what the unrestored link sends (identifiers, Magic-Number)");
  t.equal(r.serverDown.length, 1);
  t.equal(r.serverDown[0]?.reason, "lcp-renegotiation");
  t.same(r.serverDown[0], plain.serverDown[0]);
  t.end();
});

void t.test("a retransmitted CHAP Response after the restore gets the same Success", async (t) => {
  const r = await established(VARIANTS[0] as Variant);
  const response = r.frames.find((c) => c.from === "client" && describe(c.frame).startsWith("CHAP Response"));
  const success = r.frames.filter((c) => c.from === "server" && describe(c.frame).startsWith("CHAP Success"));
  const { framesAt } = await restart(r);
  t.ok(response !== undefined);
  if (response !== undefined) r.inject(response.frame);
  const again = r.frames.slice(framesAt).filter((c) => c.from === "server" && describe(c.frame).startsWith("CHAP"));
  t.equal(again.length, 1);
  t.same(again[0]?.frame, success[0]?.frame);
  t.equal(r.authRequests.length, 1, "not checked again");
  t.end();
});

void t.test("a link still negotiating or terminating has no record", async (t) => {
  const r = new Rig({ server: KEEPALIVE }).start();
  await r.run(0);
  t.equal(r.server.snapshot(), undefined, "LCP negotiating");
  t.match(r.server.snapshotRefusal(), /establish/);

  const pending = new Rig({ server: KEEPALIVE, authenticate: () => new Promise(() => undefined) }).start();
  await pending.run(100);
  t.equal(pending.server.status().lcp, "Opened");
  t.equal(pending.server.snapshot(), undefined, "authenticating");
  t.match(pending.server.snapshotRefusal(), /authenticate/);

  const ncp = new Rig({ server: KEEPALIVE });
  ncp.lose = (c) => c.from === "client" && describe(c.frame).startsWith("IPCP");
  ncp.start();
  await ncp.run(100);
  t.equal(ncp.server.snapshot(), undefined, "IPCP negotiating");
  t.match(ncp.server.snapshotRefusal(), /IPCP is/);

  const v6 = new Rig({ server: { ...KEEPALIVE, ipv6: true }, client: { ipv6: true } });
  v6.lose = (c) => c.from === "client" && describe(c.frame).startsWith("IPV6CP");
  v6.start();
  await v6.run(100);
  t.equal(v6.server.snapshot(), undefined, "IPV6CP negotiating");
  t.match(v6.server.snapshotRefusal(), /IPV6CP is/);

  const closing = await established(VARIANTS[0] as Variant);
  closing.lose = () => true;
  closing.server.close();
  t.equal(closing.server.snapshot(), undefined, "terminating");
  t.match(closing.server.snapshotRefusal(), /terminating/);
  t.equal(closing.server.counter("snapshot-refused"), 1);
  t.end();
});

void t.test("a record of another version is refused", async (t) => {
  const r = await established(VARIANTS[0] as Variant);
  const snap = r.server.snapshot();
  t.ok(snap !== undefined);
  if (snap === undefined) return;
  t.throws(() => r.restoreServer({ ...snap, version: 2 }), /version 2/);
  t.end();
});

void t.test("an Echo-Request outstanding at the snapshot: its reply reaches the new server and counts", async (t) => {
  const r = new Rig({ ...rigOptions(VARIANTS[0] as Variant, 0), latencyMs: 20 }).start();
  await r.run(1000, 10);
  // Up to just after the server's next Echo-Request.
  const n = r.frames.length;
  for (let i = 0; i < 200 && !r.frames.slice(n).some((c) => c.from === "server" && describe(c.frame).startsWith("LCP EchoReq")); i++) await r.run(1, 1);
  const record = r.server.snapshot();
  t.ok(record !== undefined);
  if (record === undefined) return;
  t.equal(record.echo.outstanding.length, 1, "one request outstanding");
  const replies = record.echo.stats.replies;
  r.restoreServer(JSON.parse(JSON.stringify(record)) as PppLinkRecord);
  await r.run(100, 10);
  t.equal(r.server.echoStats.replies, replies + 1, "the reply matched the recorded request");
  t.equal(r.server.echoStats.lost, 0);
  t.equal(r.server.echoStats.lastRttMs, 40, "round trip measured across the restore");
  t.end();
});

void t.test("an IPCP renegotiation from the client after the restore: as the unrestored link", async (t) => {
  const ipcpReq = frame(PppProtocol.IPCP, Buffer.from("0107000a03060ae76401", "hex"));
  const plain = await established(VARIANTS[0] as Variant, 0);
  const plainFrom = plain.frames.length;
  plain.inject(ipcpReq);
  await plain.run(2000, 50);
  const r = await established(VARIANTS[0] as Variant, 0);
  await restart(r);
  const from = r.frames.length;
  r.inject(ipcpReq);
  await r.run(2000, 50);
  const server = (x: Rig, i: number): string[] => x.frames.slice(i).filter((c) => c.from === "server").map((c) => describe(c.frame));
  t.ok(server(r, from).some((s) => s.startsWith("IPCP ConfReq")), `tld, scr, sca: ${server(r, from).join(", ")}`);
  t.same(server(r, from), server(plain, plainFrom));
  t.equal(r.server.status().ipcp, plain.server.status().ipcp);
  t.equal(r.server.status().ipcp, "Opened", "IPCP Opened again");
  t.equal(r.serverDown.length, 0);
  t.end();
});
