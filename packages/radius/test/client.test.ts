// The client in-process (fake clock, in-memory UDP, scripted servers): replies believed only
// when authentic, retransmission, failover and back-off, accounting retries, many in flight.
import t from "tap";
import { FakeClock, MemoryUdpNetwork } from "@lnsd/io";
import { AcctTerminateCause } from "@lnsd/wire";
import {
  AccountingSession,
  Attr,
  chapMd5Response,
  Code,
  integerAttr,
  radiusServersFromSettings,
  RadiusClient,
  signResponse,
  textAttr,
  verifyRequest,
  type AccessRequestInput,
  type AcctResult,
  type AuthResult,
  type DropReason,
  type RadiusClientEvent,
  type RadiusClientOptions,
  type RadiusPacket,
} from "../src/index.js";
import { flush } from "./lib/flush.js";
import { acceptAll, FakeRadiusServer, type Answer, type Script } from "./lib/fake-server.js";

const SECRET = "testing123";

interface Lab {
  clock: FakeClock;
  net: MemoryUdpNetwork;
  client: RadiusClient;
  primary: FakeRadiusServer;
  primaryAcct: FakeRadiusServer;
  secondary: FakeRadiusServer;
  secondaryAcct: FakeRadiusServer;
  events: RadiusClientEvent[];
}

async function lab(script: Script, opts: Partial<RadiusClientOptions> = {}, secondaryScript: Script = acceptAll()): Promise<Lab> {
  const clock = new FakeClock();
  const net = new MemoryUdpNetwork((fn, ms) => {
    clock.setTimeout(fn, ms);
  });
  const primary = await FakeRadiusServer.start(net, "127.0.0.1", 1812, SECRET, script);
  const primaryAcct = await FakeRadiusServer.start(net, "127.0.0.1", 1813, SECRET, script);
  const secondary = await FakeRadiusServer.start(net, "127.0.0.2", 1812, SECRET, secondaryScript);
  const secondaryAcct = await FakeRadiusServer.start(net, "127.0.0.2", 1813, SECRET, secondaryScript);
  const events: RadiusClientEvent[] = [];
  const client = await RadiusClient.create({
    servers: [
      { address: "127.0.0.1", authPort: 1812, acctPort: 1813 },
      { address: "127.0.0.2", authPort: 1812, acctPort: 1813 },
    ],
    secret: SECRET,
    nas: { ipAddress: "192.0.2.1", identifier: "lns1" },
    clock,
    udp: net,
    timeoutMs: 100,
    tries: 2,
    deadTimeMs: 1000,
    wallClockMs: () => 1_700_000_000_000,
    onEvent: (e) => events.push(e),
    ...opts,
  });
  return { clock, net, client, primary, primaryAcct, secondary, secondaryAcct, events };
}

/** Advances the fake clock until the promise settles. */
async function settle<T>(clock: FakeClock, p: Promise<T>, stepMs = 10, maxMs = 600_000): Promise<T> {
  const state: { value?: T } = {};
  void p.then((v) => {
    state.value = v;
  });
  for (let t = 0; t < maxMs && !("value" in state); t += stepMs) {
    await flush();
    if ("value" in state) break;
    clock.advance(stepMs);
  }
  await flush();
  if (!("value" in state) || state.value === undefined) throw new Error("never settled");
  return state.value;
}

const pap = (user: string, password = "pw"): AccessRequestInput => ({
  userName: user,
  nasPort: 7,
  acctSessionId: `sess-${user}`,
  callingStationId: "0123456789",
  calledStationId: "lns",
  connectInfo: "1000000",
  auth: { kind: "pap", password: Buffer.from(password) },
});

const dropped = (l: Lab, reason: string): number => l.events.filter((e) => e.kind === "drop" && e.reason === reason).length;

void t.test("PAP: accepted, reply parsed, request carries the NAS and call attributes", async (t) => {
  const l = await lab((req) => {
    if (req.code !== Code.AccessRequest) return undefined;
    return l.primary.password(req) === "pw"
      ? { code: Code.AccessAccept, attributes: [integerAttr(Attr.SessionTimeout, 3600), textAttr(Attr.FilterId, "std")] }
      : { code: Code.AccessReject, attributes: [textAttr(Attr.ReplyMessage, "no")] };
  });
  const ok = await settle(l.clock, l.client.authenticate(pap("alice")));
  t.equal(ok.kind, "accept");
  if (ok.kind === "accept") {
    t.equal(ok.reply.sessionTimeoutSec, 3600);
    t.same(ok.reply.filterIds, ["std"]);
    t.equal(ok.server, "127.0.0.1:1812");
  }
  const req = l.primary.received[0];
  t.ok(req);
  if (req !== undefined) {
    const types = req.attributes.map((a) => a.type);
    t.equal(types[0], Attr.MessageAuthenticator, "Message-Authenticator first");
    for (const ty of [Attr.UserName, Attr.NasIpAddress, Attr.NasIdentifier, Attr.NasPort, Attr.NasPortType, Attr.ServiceType, Attr.FramedProtocol, Attr.CallingStationId, Attr.CalledStationId, Attr.ConnectInfo, Attr.AcctSessionId]) {
      t.ok(types.includes(ty), `attribute ${ty} sent`);
    }
  }
  const no = await settle(l.clock, l.client.authenticate(pap("alice", "wrong")));
  t.equal(no.kind, "reject");
  if (no.kind === "reject") t.same(no.reply.replyMessages, ["no"]);
  t.equal(l.client.counters.accessAccepts, 1);
  t.equal(l.client.counters.accessRejects, 1);
  t.equal(l.client.stats().inFlight, 0);
  const trips = l.events.filter((e) => e.kind === "round-trip");
  t.equal(trips.length, 2, "a round-trip event per answer");
  t.ok(trips.every((e) => e.request === "auth" && e.server === "127.0.0.1:1812" && e.rttMs >= 0 && e.rttMs < 100));
});

void t.test("CHAP: CHAP-Password and CHAP-Challenge", async (t) => {
  const challenge = Buffer.alloc(16, 0x5a);
  const l = await lab((req) => {
    const cp = req.attributes.find((a) => a.type === Attr.ChapPassword)?.value;
    const ch = req.attributes.find((a) => a.type === Attr.ChapChallenge)?.value;
    if (cp === undefined || ch === undefined) return { code: Code.AccessReject };
    const expect = chapMd5Response(cp[0] ?? 0, Buffer.from("chappass"), ch);
    return expect.equals(cp.subarray(1)) ? { code: Code.AccessAccept } : { code: Code.AccessReject };
  });
  const input = (password: string): AccessRequestInput => ({
    ...pap("bob"),
    auth: { kind: "chap", identifier: 17, challenge, response: chapMd5Response(17, Buffer.from(password), challenge) },
  });
  t.equal((await settle(l.clock, l.client.authenticate(input("chappass")))).kind, "accept");
  t.equal((await settle(l.clock, l.client.authenticate(input("nope")))).kind, "reject");
});

void t.test("replies that do not authenticate are dropped and counted (BlastRADIUS and friends)", async (t) => {
  const cases: [string, (req: RadiusPacket) => Answer, DropReason][] = [
    ["no Message-Authenticator", () => ({ code: Code.AccessAccept, noMessageAuthenticator: true }), "missing-message-authenticator"],
    ["wrong Message-Authenticator", () => ({ code: Code.AccessAccept, corruptMessageAuthenticator: true }), "bad-message-authenticator"],
    ["wrong Response Authenticator", () => ({ code: Code.AccessAccept, corruptAuthenticator: true }), "bad-authenticator"],
    ["wrong secret", () => ({ code: Code.AccessAccept, secret: "guess" }), "bad-authenticator"],
    ["another identifier", (req) => ({ code: Code.AccessAccept, identifier: (req.identifier + 1) & 0xff }), "unknown-identifier"],
  ];
  for (const [name, answer, reason] of cases) {
    // A missing Message-Authenticator is dropped when required: radius_require_message_authenticator yes here (auto: message-authenticator.test.ts).
    const l = await lab(answer, { servers: [{ address: "127.0.0.1", authPort: 1812, acctPort: 1813 }], requireMessageAuthenticator: "yes" });
    const r = await settle(l.clock, l.client.authenticate(pap("mallory")));
    t.equal(r.kind, "timeout", `${name}: never believed`);
    t.equal(l.client.counters.dropped[reason], 2, `${name}: both answers dropped as ${reason}`);
    t.equal(dropped(l, reason), 2, `${name}: reported for the log`);
    t.equal(l.client.counters.accessAccepts, 0);
  }
});

void t.test("a replayed reply, a reply from elsewhere, a wrong code, garbage: dropped", async (t) => {
  const l = await lab((req) => (req.code === Code.AccessRequest ? { code: Code.AccessAccept, twice: true } : undefined));
  t.equal((await settle(l.clock, l.client.authenticate(pap("a")))).kind, "accept");
  t.equal(l.client.counters.dropped["unknown-identifier"], 1, "the second copy finds no request");
  // Replay the captured reply against a new request that got the same identifier: it is signed
  // over another Request Authenticator.
  const captured = l.primary.sent[0];
  t.ok(captured);
  l.primary.script = () => undefined;
  const pending = l.client.authenticate(pap("b"));
  await flush();
  l.clock.advance(5);
  const req = l.primary.received[1];
  t.ok(req);
  if (captured !== undefined && req !== undefined) {
    const replay = Buffer.from(captured);
    replay[1] = req.identifier;
    const rogue = await l.net.bind("127.0.0.9", 1812);
    const port = l.client.localPorts()[0] ?? 0;
    const fromPrimary = await l.net.bind("127.0.0.1", 5555);
    l.primary.close();
    const primaryAgain = await l.net.bind("127.0.0.1", 1812);
    primaryAgain.send(replay, { address: "127.0.0.1", port });
    // A correctly signed answer, but from an address the request was not sent to.
    rogue.send(signResponse({ code: Code.AccessAccept, identifier: req.identifier, attributes: [], secret: SECRET, requestAuthenticator: req.authenticator }), { address: "127.0.0.1", port });
    // The right address but another port.
    fromPrimary.send(signResponse({ code: Code.AccessAccept, identifier: req.identifier, attributes: [], secret: SECRET, requestAuthenticator: req.authenticator }), { address: "127.0.0.1", port });
    // An Accounting-Response to an Access-Request.
    primaryAgain.send(signResponse({ code: Code.AccountingResponse, identifier: req.identifier, attributes: [], secret: SECRET, requestAuthenticator: req.authenticator }), { address: "127.0.0.1", port });
    primaryAgain.send(Buffer.from("garbage"), { address: "127.0.0.1", port });
    l.clock.advance(5);
    await flush();
    t.equal(l.client.counters.dropped["bad-authenticator"], 1, "replayed reply");
    t.equal(l.client.counters.dropped["unexpected-source"], 2, "wrong address, wrong port");
    t.equal(l.client.counters.dropped["unexpected-code"], 1);
    t.equal(l.client.counters.dropped.malformed, 1);
    // Now the genuine answer still works.
    primaryAgain.send(signResponse({ code: Code.AccessAccept, identifier: req.identifier, attributes: [], secret: SECRET, requestAuthenticator: req.authenticator }), { address: "127.0.0.1", port });
  }
  t.equal((await settle(l.clock, pending)).kind, "accept");
});

void t.test("failover: a silent primary is marked dead, the secondary answers, the primary returns after the back-off", async (t) => {
  let primaryUp = false;
  const l = await lab((req) => (primaryUp && req.code === Code.AccessRequest ? { code: Code.AccessAccept } : undefined));
  const r1 = await settle(l.clock, l.client.authenticate(pap("a")));
  t.equal(r1.kind, "accept");
  if (r1.kind === "accept") t.equal(r1.server, "127.0.0.2:1812");
  t.equal(l.primary.received.length, 2, "two tries on the primary");
  t.ok(l.events.some((e) => e.kind === "server-dead" && e.server === "127.0.0.1:1812"));
  t.equal(l.client.counters.failovers, 1);
  const trip = l.events.find((e) => e.kind === "round-trip");
  t.ok(trip?.kind === "round-trip" && trip.server === "127.0.0.2:1812" && trip.rttMs < 100, "the round trip counts from the send that was answered");
  // While dead, requests go straight to the secondary.
  const r2 = await settle(l.clock, l.client.authenticate(pap("b")));
  t.equal(r2.kind === "accept" && r2.server, "127.0.0.2:1812");
  t.equal(l.primary.received.length, 2, "primary left alone");
  t.ok(l.client.stats().servers.find((s) => s.server === "127.0.0.1:1812")?.dead);
  // After the back-off it is tried again, and now answers.
  primaryUp = true;
  l.clock.advance(1000);
  const r3 = await settle(l.clock, l.client.authenticate(pap("c")));
  t.equal(r3.kind === "accept" && r3.server, "127.0.0.1:1812");
  t.ok(l.events.some((e) => e.kind === "server-alive" && e.server === "127.0.0.1:1812"));
  // Both silent: a timeout after every server's tries.
  primaryUp = false;
  l.secondary.script = () => undefined;
  const r4 = await settle(l.clock, l.client.authenticate(pap("d")));
  t.equal(r4.kind, "timeout");
  t.equal(l.client.counters.authTimeouts, 1);
});

void t.test("a server that answers others is not marked dead for ignoring one request", async (t) => {
  const l = await lab((req) => {
    const user = req.attributes.find((a) => a.type === Attr.UserName)?.value.toString();
    return user === "ignored" ? undefined : { code: Code.AccessAccept };
  });
  const ignored = l.client.authenticate(pap("ignored"));
  // Keep the primary talking while "ignored" is retried.
  const others = [l.client.authenticate(pap("x")), l.client.authenticate(pap("y"))];
  l.clock.advance(150);
  others.push(l.client.authenticate(pap("z")));
  const r = await settle(l.clock, ignored);
  await Promise.all(others.map((p) => settle(l.clock, p)));
  t.equal(r.kind === "accept" && r.server, "127.0.0.2:1812", "moved to the secondary");
  t.notOk(l.events.some((e) => e.kind === "server-dead"), "primary not dead");
});

void t.test("accounting: retransmitted with a new identifier and a growing Acct-Delay-Time until acknowledged", async (t) => {
  let seen = 0;
  const l = await lab((req) => (req.code === Code.AccountingRequest && ++seen >= 3 ? { code: Code.AccountingResponse } : undefined), {
    servers: [{ address: "127.0.0.1", authPort: 1812, acctPort: 1813 }],
    timeoutMs: 1000,
    tries: 5,
  });
  const session = { userName: "alice", nasPort: 7, acctSessionId: "s1", classes: [Buffer.from("cls")] };
  const r = await settle(l.clock, l.client.account({ status: "start", session }), 100);
  t.same(r, { kind: "ack", server: "127.0.0.1:1813" });
  const got = l.primaryAcct.received;
  t.equal(got.length, 3);
  const delays = got.map((p) => p.attributes.find((a) => a.type === Attr.AcctDelayTime)?.value.readUInt32BE(0));
  t.same(delays, [0, 1, 3], "Acct-Delay-Time counts the wait (1 s, then 2 s more)");
  t.equal(new Set(got.map((p) => p.identifier)).size, 3, "a new identifier each time (RFC 2866 5.2)");
  t.same(got[0]?.attributes.find((a) => a.type === Attr.Class)?.value, Buffer.from("cls"), "Class echoed");
  t.equal(l.client.counters.retransmits, 2);
});

void t.test("accounting gives up after acctMaxTries sends, over both servers", async (t) => {
  const l = await lab(() => undefined, { acctMaxTries: 5, acctMaxTimeoutMs: 400 }, () => undefined);
  const r = await settle(l.clock, l.client.account({ status: "on", acctSessionId: "boot" }), 50);
  t.same(r, { kind: "timeout" });
  t.equal(l.primaryAcct.received.length + l.secondaryAcct.received.length, 5);
  t.ok(l.secondaryAcct.received.length > 0, "the secondary was tried");
  t.equal(l.client.counters.acctTimeouts, 1);
  t.ok(l.events.some((e) => e.kind === "gave-up" && e.request === "acct"));
});

void t.test("accounting packets verify as Accounting-Requests with Message-Authenticator", async (t) => {
  const raws: Buffer[] = [];
  const l = await lab((_req, _from, raw) => {
    raws.push(Buffer.from(raw));
    return { code: Code.AccountingResponse, noMessageAuthenticator: true };
  });
  const session = { userName: "alice", nasPort: 7, acctSessionId: "s1" };
  const r = await settle(l.clock, l.client.account({ status: "stop", session, counters: { inputOctets: 1, outputOctets: 2, inputPackets: 3, outputPackets: 4, sessionTimeSec: 5 }, terminateCause: AcctTerminateCause.UserRequest }));
  t.equal(r.kind, "ack", "an Accounting-Response needs no Message-Authenticator");
  t.equal(raws.length, 1);
  t.equal(verifyRequest(raws[0] ?? Buffer.alloc(0), SECRET, true), "ok");
});

void t.test("many in flight: more sockets as identifiers run out; a port range bounds them", async (t) => {
  const l = await lab(acceptAll());
  const all = Array.from({ length: 1000 }, (_, i) => l.client.authenticate(pap(`u${i}`)));
  const results = await settle(l.clock, Promise.all(all), 1);
  t.equal(results.filter((r) => r.kind === "accept").length, 1000);
  t.ok(l.client.stats().sockets >= 4, `${l.client.stats().sockets} sockets`);
  t.equal(l.client.stats().inFlight, 0);
  t.equal(l.client.counters.retransmits, 0);

  const ranged = await lab(acceptAll(), { bindPortMin: 50000, bindPortMax: 50001 });
  const many = Array.from({ length: 700 }, (_, i) => ranged.client.authenticate(pap(`r${i}`)));
  await flush();
  t.equal(ranged.client.stats().sockets, 2, "two ports in the range");
  t.equal(ranged.client.stats().queued, 700 - 512, "the rest wait for an identifier");
  t.same(ranged.client.localPorts().sort(), [50000, 50001]);
  const r2 = await settle(ranged.clock, Promise.all(many), 1);
  t.equal(r2.filter((r) => r.kind === "accept").length, 700);

  const tiny = await lab(() => undefined, { bindPortMin: 50010, bindPortMax: 50010, maxQueued: 10 });
  const flood = Array.from({ length: 270 }, (_, i) => tiny.client.authenticate(pap(`f${i}`)));
  await flush();
  tiny.client.close();
  const r3 = await settle(tiny.clock, Promise.all(flood), 1);
  t.equal(r3.filter((r) => r.kind === "error" && r.reason.includes("waiting")).length, 270 - 256 - 10, "beyond the queue: refused at once");
  t.equal(r3.filter((r) => r.kind === "error" && r.reason.includes("closed")).length, 266, "close() ends the rest");
});

void t.test("bad requests are refused, not thrown", async (t) => {
  const l = await lab(acceptAll());
  const r = await settle(l.clock, l.client.authenticate({ ...pap("x"), userName: "u".repeat(300) }));
  t.equal(r.kind, "error");
  const a: AcctResult = await settle(l.clock, l.client.account({ status: "start", session: { userName: "u", nasPort: 1, acctSessionId: "s", framedIpAddress: "bad" } }));
  t.equal(a.kind, "error");
  t.equal(l.client.counters.errors, 2);
  t.equal(l.client.stats().inFlight, 0);
  const none = await RadiusClient.create({ servers: [], secret: "x", nas: {}, udp: l.net, clock: l.clock });
  const n: AuthResult = await none.authenticate(pap("x"));
  t.equal(n.kind, "error");
});

void t.test("thousands of queued requests that fail at once do not recurse", async (t) => {
  const l = await lab(() => undefined, { bindPortMin: 50020, bindPortMax: 50020, servers: [{ address: "127.0.0.1", authPort: 1812, acctPort: 1813 }] });
  const hanging = Array.from({ length: 256 }, (_, i) => l.client.authenticate(pap(`h${i}`)));
  const bad = Array.from({ length: 20_000 }, () => l.client.authenticate({ ...pap("x"), userName: "u".repeat(300) }));
  await flush();
  t.equal(l.client.stats().queued, 20_000);
  const r = await settle(l.clock, Promise.all([...hanging, ...bad]), 50);
  t.equal(r.filter((x) => x.kind === "error").length, 20_000);
  t.equal(r.filter((x) => x.kind === "timeout").length, 256);
});

void t.test("AccountingSession: Start, Interim-Updates on the interval, Stop with the cause", async (t) => {
  const l = await lab(acceptAll());
  let octets = 0;
  const outcomes: string[] = [];
  const acct = new AccountingSession(l.client, {
    session: { userName: "alice", nasPort: 7, acctSessionId: "s9" },
    interimSec: 60,
    counters: () => ({ inputOctets: (octets += 1000), outputOctets: 2 * octets, inputPackets: 1, outputPackets: 2, sessionTimeSec: Math.floor(l.clock.now() / 1000) }),
    clock: l.clock,
    onResult: (status, r) => outcomes.push(`${status}:${r.kind}`),
  });
  t.equal((await settle(l.clock, acct.start())).kind, "ack");
  for (let i = 0; i < 181; i++) {
    l.clock.advance(1000);
    await flush();
  }
  const stop = await settle(l.clock, acct.stop(AcctTerminateCause.IdleTimeout));
  t.equal(stop.kind, "ack");
  const statuses = l.primaryAcct.received.map((p) => p.attributes.find((a) => a.type === Attr.AcctStatusType)?.value.readUInt32BE(0));
  t.same(statuses, [1, 3, 3, 3, 2]);
  const last = l.primaryAcct.received.at(-1);
  t.equal(last?.attributes.find((a) => a.type === Attr.AcctTerminateCause)?.value.readUInt32BE(0), AcctTerminateCause.IdleTimeout);
  t.equal(last?.attributes.find((a) => a.type === Attr.AcctInputOctets)?.value.readUInt32BE(0), 4000);
  t.same(outcomes, ["start:ack", "interim:ack", "interim:ack", "interim:ack", "stop:ack"]);
  const pendingTimers = l.clock.pending;
  l.clock.advance(600_000);
  t.equal(l.primaryAcct.received.length, 5, "no interim after Stop");
  t.ok(pendingTimers >= 0);

  // An unanswered interim is not stacked on by the next one.
  const quiet = await lab(() => undefined, { acctMaxTries: 20, acctMaxTimeoutMs: 400 }, () => undefined);
  const s2 = new AccountingSession(quiet.client, {
    session: { userName: "bob", nasPort: 8, acctSessionId: "s10" },
    interimSec: 1,
    counters: () => ({ inputOctets: 0, outputOctets: 0, inputPackets: 0, outputPackets: 0, sessionTimeSec: 0 }),
    clock: quiet.clock,
  });
  void s2.start();
  for (let i = 0; i < 35; i++) {
    quiet.clock.advance(100);
    await flush();
  }
  t.ok(s2.skippedInterims >= 1, `${s2.skippedInterims} skipped`);
  void s2.stop(AcctTerminateCause.AdminReset);
});

void t.test("reconfigure: a request in flight finishes against its server and secret; the next goes to the new ones, from the new bind address", async (t) => {
  // The primary ignores a request's first send and accepts its retransmission (checking the password with the old secret).
  const seen = new Set<string>();
  const l = await lab((req) => {
    const key = req.authenticator.toString("hex");
    if (!seen.has(key)) {
      seen.add(key);
      return undefined;
    }
    return l.primary.password(req) === "pw" ? { code: Code.AccessAccept, attributes: [] } : { code: Code.AccessReject, attributes: [] };
  });
  const sources: string[] = [];
  const next = await FakeRadiusServer.start(l.net, "127.0.0.3", 1812, "new secret", (req, from) => {
    sources.push(from.address);
    return next.password(req) === "pw" ? { code: Code.AccessAccept, attributes: [] } : { code: Code.AccessReject, attributes: [] };
  });
  const old = l.client.authenticate(pap("old"));
  await flush();
  l.clock.advance(1);
  await flush();
  t.equal(l.primary.received.length, 1, "the old request went out, unanswered yet");
  const prepared = await l.client.prepareReconfigure({ servers: [{ address: "127.0.0.3", authPort: 1812, acctPort: 1813 }], secret: "new secret", bindAddress: "127.0.0.9" });
  t.ok(prepared.ok, "the new bind address could be had");
  if (!prepared.ok) return;
  t.equal(l.client.stats().servers[0]?.server, "127.0.0.1:1812", "nothing changed before commit");
  prepared.commit();
  t.equal(l.client.stats().sockets, 2, "the old socket stays while its request is in flight");
  const r = await settle(l.clock, old);
  t.equal(r.kind, "accept", "the request in flight retransmitted to its server, with its secret");
  if (r.kind === "accept") t.equal(r.server, "127.0.0.1:1812");
  t.equal(l.client.stats().sockets, 1, "then the old socket is closed");
  const n = await settle(l.clock, l.client.authenticate(pap("new")));
  t.equal(n.kind, "accept", "the next request went to the new server with the new secret");
  if (n.kind === "accept") t.equal(n.server, "127.0.0.3:1812");
  t.same(sources, ["127.0.0.9"], "from the new bind address");
  t.same(l.client.stats().servers.map((s) => s.server), ["127.0.0.3:1812", "127.0.0.3:1813"]);
});

void t.test("reconfigure: a port range that cannot be had is refused and nothing changes", async (t) => {
  const l = await lab(acceptAll(), { bindPortMin: 40000, bindPortMax: 40000 });
  const taken = await l.net.bind("0.0.0.0", 40001);
  const refused = await l.client.prepareReconfigure({ servers: [{ address: "127.0.0.3", authPort: 1812, acctPort: 1813 }], secret: "x", bindPortMin: 40001, bindPortMax: 40001 });
  t.notOk(refused.ok);
  if (!refused.ok) t.match(refused.error, /no free port in 40001-40001/);
  taken.close();
  const r = await settle(l.clock, l.client.authenticate(pap("alice")));
  t.equal(r.kind, "accept");
  if (r.kind === "accept") t.equal(r.server, "127.0.0.1:1812", "still the old servers");
});

void t.test("l2tpns settings to servers: accounting on the next port, 0.0.0.0 means none", (t) => {
  t.same(radiusServersFromSettings({ primary: "10.0.0.1", secondary: "0.0.0.0", primaryPort: 1812, secondaryPort: 1812 }), [{ address: "10.0.0.1", authPort: 1812, acctPort: 1813 }]);
  t.same(radiusServersFromSettings({ primary: "10.0.0.1", secondary: "10.0.0.2", primaryPort: 1645, secondaryPort: 11812 }), [
    { address: "10.0.0.1", authPort: 1645, acctPort: 1646 },
    { address: "10.0.0.2", authPort: 11812, acctPort: 11813 },
  ]);
  t.end();
});
