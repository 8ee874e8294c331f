// The DAE server in-process: matching, ACK and NAK with each Error-Cause, the requests that are
// silently discarded (wrong secret, stranger, bad Message-Authenticator, stale timestamp),
// duplicates answered from the cache, Proxy-State echoed.
import t from "tap";
import { FakeClock, MemoryUdpNetwork, type UdpEndpoint } from "@lnsd/io";
import { AcctTerminateCause } from "@lnsd/wire";
import {
  Attr,
  Code,
  DaeServer,
  decodePacket,
  ErrorCause,
  integerAttr,
  signRequest,
  textAttr,
  Vendor,
  vendorAttr,
  VendorAttr,
  verifyResponse,
  type CoaChanges,
  type DaeEvent,
  type DaeHandler,
  type DaeMatch,
  type DaeOutcome,
  type DaeServerOptions,
  type RadiusAttribute,
  type RadiusPacket,
} from "../src/index.js";
import { flush } from "./lib/flush.js";

const SECRET = "daesecret";

interface Session {
  readonly id: number;
  readonly user: string;
  readonly acctSessionId: string;
  readonly ip: string;
}

const SESSIONS: Session[] = [
  { id: 1, user: "alice", acctSessionId: "a-1", ip: "10.0.0.1" },
  { id: 2, user: "bob", acctSessionId: "b-2", ip: "10.0.0.2" },
  { id: 3, user: "bob", acctSessionId: "b-3", ip: "10.0.0.3" },
];

function matches(s: Session, m: DaeMatch): boolean {
  return (
    (m.userName === undefined || m.userName === s.user) &&
    (m.acctSessionId === undefined || m.acctSessionId === s.acctSessionId) &&
    (m.framedIpAddress === undefined || m.framedIpAddress === s.ip) &&
    (m.nasPort === undefined || m.nasPort === s.id)
  );
}

interface Lab {
  clock: FakeClock;
  dae: DaeServer<Session>;
  radius: UdpEndpoint;
  stranger: UdpEndpoint;
  replies: RadiusPacket[];
  raw: Buffer[];
  disconnected: [number, number][];
  coas: [number, CoaChanges][];
  events: DaeEvent[];
  handler: { outcome: DaeOutcome; throws: boolean };
}

async function lab(opts: Partial<DaeServerOptions<Session>> = {}): Promise<Lab> {
  const clock = new FakeClock();
  const net = new MemoryUdpNetwork((fn, ms) => {
    clock.setTimeout(fn, ms);
  });
  const disconnected: [number, number][] = [];
  const coas: [number, CoaChanges][] = [];
  const control = { outcome: { ok: true } as DaeOutcome, throws: false };
  const handler: DaeHandler<Session> = {
    findSessions: (m) => SESSIONS.filter((s) => matches(s, m)),
    disconnect: (s, cause) => {
      if (control.throws) throw new Error("boom");
      disconnected.push([s.id, cause]);
      return control.outcome;
    },
    coa: (s, changes) => {
      coas.push([s.id, changes]);
      return Promise.resolve(control.outcome);
    },
  };
  const events: DaeEvent[] = [];
  const dae = await DaeServer.create<Session>({
    bindAddress: "127.0.0.1",
    port: 3799,
    secret: SECRET,
    allowedClients: ["127.0.0.5"],
    handler,
    nas: { ipAddress: "192.0.2.1", identifier: "lns1" },
    udp: net,
    clock,
    wallClockMs: () => 1_700_000_000_000,
    onEvent: (e) => events.push(e),
    ...opts,
  });
  const radius = await net.bind("127.0.0.5", 50000);
  const stranger = await net.bind("127.0.0.66", 50000);
  const replies: RadiusPacket[] = [];
  const raw: Buffer[] = [];
  radius.onMessage((p) => {
    raw.push(p);
    const d = decodePacket(p);
    if (d.ok) replies.push(d.value);
  });
  return { clock, dae, radius, stranger, replies, raw, disconnected, coas, events, handler: control };
}

interface SendOpts {
  secret?: string;
  messageAuthenticator?: boolean;
  from?: "radius" | "stranger";
  identifier?: number;
}

/** Sends a request and returns the bytes sent (to resend them as a duplicate). */
async function send(l: Lab, code: number, attributes: RadiusAttribute[], o: SendOpts = {}): Promise<Buffer> {
  const pkt = signRequest({ code, identifier: o.identifier ?? 1, attributes, secret: o.secret ?? SECRET, messageAuthenticator: o.messageAuthenticator ?? false, randomAuthenticator: Buffer.alloc(16, 7) });
  await resend(l, pkt, o.from);
  return pkt;
}

async function resend(l: Lab, pkt: Buffer, from: "radius" | "stranger" = "radius"): Promise<void> {
  (from === "radius" ? l.radius : l.stranger).send(pkt, { address: "127.0.0.1", port: 3799 });
  for (let i = 0; i < 5; i++) {
    l.clock.advance(1);
    await flush();
  }
}

const errorCause = (p: RadiusPacket | undefined): number | undefined => p?.attributes.find((a) => a.type === Attr.ErrorCause)?.value.readUInt32BE(0);
const user = (u: string): RadiusAttribute => textAttr(Attr.UserName, u);

void t.test("Disconnect-Request: the matching sessions, and only they, are disconnected", async (t) => {
  const l = await lab();
  const req = await send(l, Code.DisconnectRequest, [user("bob")]);
  t.same(l.disconnected, [
    [2, AcctTerminateCause.AdminReset],
    [3, AcctTerminateCause.AdminReset],
  ]);
  const r = l.replies[0];
  t.equal(r?.code, Code.DisconnectAck);
  t.equal(verifyResponse(l.raw[0] ?? Buffer.alloc(0), SECRET, req.subarray(4, 20), true), "ok", "ACK signed, with Message-Authenticator");
  l.disconnected.length = 0;
  await send(l, Code.DisconnectRequest, [user("bob"), textAttr(Attr.AcctSessionId, "b-3"), integerAttr(Attr.AcctTerminateCause, AcctTerminateCause.SessionTimeout)], { identifier: 2 });
  t.same(l.disconnected, [[3, AcctTerminateCause.SessionTimeout]], "all given attributes must match; the cause is passed on");
  l.disconnected.length = 0;
  await send(l, Code.DisconnectRequest, [{ type: Attr.FramedIpAddress, value: Buffer.from([10, 0, 0, 1]) }], { identifier: 3 });
  await send(l, Code.DisconnectRequest, [integerAttr(Attr.NasPort, 2)], { identifier: 4 });
  t.same(l.disconnected.map(([id]) => id), [1, 2], "by Framed-IP-Address, by NAS-Port");
  t.equal(l.dae.counters.acks, 4);
});

void t.test("NAK with the RFC 5176 3.5 Error-Cause", async (t) => {
  const l = await lab();
  const cases: [string, number, RadiusAttribute[], number][] = [
    ["unknown session", Code.DisconnectRequest, [user("nobody")], ErrorCause.SessionContextNotFound],
    ["no identification", Code.DisconnectRequest, [textAttr(Attr.NasIdentifier, "lns1")], ErrorCause.MissingAttribute],
    ["another NAS's address", Code.DisconnectRequest, [user("bob"), { type: Attr.NasIpAddress, value: Buffer.from([192, 0, 2, 99]) }], ErrorCause.NasIdentificationMismatch],
    ["another NAS's name", Code.CoaRequest, [user("bob"), textAttr(Attr.NasIdentifier, "lns2")], ErrorCause.NasIdentificationMismatch],
    ["unsupported attribute", Code.CoaRequest, [user("bob"), integerAttr(Attr.FramedMtu, 1400)], ErrorCause.UnsupportedAttribute],
    ["CoA attribute in a Disconnect", Code.DisconnectRequest, [user("bob"), integerAttr(Attr.SessionTimeout, 5)], ErrorCause.UnsupportedAttribute],
    ["another vendor's attribute", Code.CoaRequest, [user("bob"), vendorAttr(Vendor.Microsoft, 28, Buffer.alloc(4))], ErrorCause.UnsupportedAttribute],
    ["Authorize Only", Code.CoaRequest, [user("bob"), integerAttr(Attr.ServiceType, 17)], ErrorCause.UnsupportedService],
    ["malformed value", Code.DisconnectRequest, [{ type: Attr.FramedIpAddress, value: Buffer.from([10, 0, 0]) }], ErrorCause.InvalidAttributeValue],
    ["unknown terminate cause", Code.DisconnectRequest, [user("bob"), integerAttr(Attr.AcctTerminateCause, 99)], ErrorCause.InvalidAttributeValue],
  ];
  let id = 10;
  for (const [name, code, attrs, cause] of cases) {
    l.replies.length = 0;
    await send(l, code, attrs, { identifier: id++ });
    const r = l.replies[0];
    t.equal(r?.code, code === Code.DisconnectRequest ? Code.DisconnectNak : Code.CoaNak, name);
    t.equal(errorCause(r), cause, `${name}: Error-Cause ${cause}`);
  }
  t.same(l.disconnected, [], "nothing disconnected");
  t.same(l.coas, []);
  t.equal(l.dae.counters.naksByCause[ErrorCause.SessionContextNotFound], 1);

  l.replies.length = 0;
  l.handler.outcome = { ok: false, errorCause: ErrorCause.SessionContextNotRemovable };
  await send(l, Code.DisconnectRequest, [user("alice")], { identifier: id++ });
  t.equal(errorCause(l.replies[0]), ErrorCause.SessionContextNotRemovable, "the handler's own cause");
  l.replies.length = 0;
  l.handler.throws = true;
  await send(l, Code.DisconnectRequest, [user("alice")], { identifier: id++ });
  t.equal(errorCause(l.replies[0]), ErrorCause.ResourcesUnavailable, "a handler that throws: 506");
  t.ok(l.events.some((e) => e.kind === "handler-error"));
});

void t.test("CoA-Request: Session-Timeout, Idle-Timeout, Filter-Id, Cisco-AVPair reach the handler", async (t) => {
  const l = await lab();
  await send(l, Code.CoaRequest, [
    textAttr(Attr.AcctSessionId, "a-1"),
    integerAttr(Attr.SessionTimeout, 600),
    integerAttr(Attr.IdleTimeout, 60),
    textAttr(Attr.FilterId, "garden"),
    vendorAttr(Vendor.Cisco, VendorAttr.CiscoAvPair, Buffer.from("throttle=yes")),
    vendorAttr(Vendor.Cisco, VendorAttr.CiscoAvPair, Buffer.from("lcp:interface-config=x")),
  ]);
  t.same(l.coas, [[1, { filterIds: ["garden"], ciscoAvPairs: ["throttle=yes", "lcp:interface-config=x"], sessionTimeoutSec: 600, idleTimeoutSec: 60 }]]);
  t.equal(l.replies[0]?.code, Code.CoaAck);
  t.equal(l.dae.counters.coaRequests, 1);
});

void t.test("silently discarded: wrong secret, strangers, bad Message-Authenticator, wrong codes, stale timestamps", async (t) => {
  const l = await lab({ requireMessageAuthenticator: false });
  await send(l, Code.DisconnectRequest, [user("alice")], { secret: "wrong" });
  await send(l, Code.DisconnectRequest, [user("alice")], { secret: "wrong", messageAuthenticator: true });
  await send(l, Code.DisconnectRequest, [user("alice")], { from: "stranger" });
  await send(l, Code.AccessRequest, [user("alice")]);
  l.radius.send(Buffer.from("\x28\x01\x00\x05"), { address: "127.0.0.1", port: 3799 });
  // A Message-Authenticator computed over the wrong Request Authenticator.
  const pkt = signRequest({ code: Code.DisconnectRequest, identifier: 9, attributes: [user("alice")], secret: SECRET });
  pkt[30] = (pkt[30] ?? 0) ^ 1;
  await resend(l, signAgain(pkt));
  await send(l, Code.DisconnectRequest, [user("alice"), integerAttr(Attr.EventTimestamp, 1_700_000_000 - 301)]);
  t.same(l.replies, [], "no answer to any");
  t.same(l.disconnected, []);
  const c = l.dae.counters.dropped;
  t.equal(c["bad-authenticator"], 2);
  t.equal(c["unknown-client"], 1);
  t.equal(c["unexpected-code"], 1);
  t.equal(c.malformed, 1);
  t.equal(c["bad-message-authenticator"], 1);
  t.equal(c["stale-timestamp"], 1);
  await send(l, Code.DisconnectRequest, [user("alice"), integerAttr(Attr.EventTimestamp, 1_700_000_000 - 5)], { identifier: 20 });
  t.equal(l.replies[0]?.code, Code.DisconnectAck, "a fresh Event-Timestamp is fine");

  const strict = await lab({ requireMessageAuthenticator: true, requireEventTimestamp: true });
  await send(strict, Code.DisconnectRequest, [user("alice"), integerAttr(Attr.EventTimestamp, 1_700_000_000)]);
  t.equal(strict.dae.counters.dropped["missing-message-authenticator"], 1);
  await send(strict, Code.DisconnectRequest, [user("alice")], { messageAuthenticator: true });
  t.equal(strict.dae.counters.dropped["stale-timestamp"], 1, "no Event-Timestamp when one is required");
  await send(strict, Code.DisconnectRequest, [user("alice"), integerAttr(Attr.EventTimestamp, 1_700_000_000)], { messageAuthenticator: true });
  t.equal(strict.replies[0]?.code, Code.DisconnectAck);
});

/** Re-signs the Request Authenticator of a DAE request after its Message-Authenticator was damaged. */
function signAgain(pkt: Buffer): Buffer {
  const d = decodePacket(pkt);
  if (!d.ok) throw new Error("decode");
  return signRequest({ code: d.value.code, identifier: d.value.identifier, attributes: d.value.attributes, secret: SECRET, messageAuthenticator: false });
}

void t.test("a retransmitted request is answered again without acting twice; Proxy-State echoed", async (t) => {
  const l = await lab();
  const ps1 = { type: Attr.ProxyState, value: Buffer.from("one") };
  const ps2 = { type: Attr.ProxyState, value: Buffer.from("two") };
  const pkt = await send(l, Code.DisconnectRequest, [ps1, user("alice"), ps2]);
  await resend(l, pkt);
  t.equal(l.disconnected.length, 1, "one disconnect");
  t.equal(l.replies.length, 2, "two answers");
  t.same(l.raw[0], l.raw[1], "the same answer");
  t.equal(l.dae.counters.duplicates, 1);
  t.same(
    l.replies[0]?.attributes.filter((a) => a.type === Attr.ProxyState).map((a) => a.value.toString()),
    ["one", "two"],
  );
  // Proxy-State that could not be echoed within 4096 octets: dropped before acting.
  const big = [...new Array<RadiusAttribute>(15).fill({ type: Attr.ProxyState, value: Buffer.alloc(253, 1) }), { type: Attr.ProxyState, value: Buffer.alloc(229, 2) }];
  await send(l, Code.DisconnectRequest, [...big, user("bob")], { identifier: 77 });
  t.equal(l.dae.counters.dropped.malformed, 1, "Proxy-State too long to echo");
  t.equal(l.disconnected.length, 1, "bob untouched");
  // After the window, the same identifier and authenticator is a new request.
  l.clock.advance(31_000);
  await resend(l, pkt);
  t.equal(l.replies.length, 3);
  t.equal(errorCause(l.replies[2]), undefined);
});

void t.test("a client over its rate: the excess is dropped before any hashing, and counted; it recovers", async (t) => {
  const l = await lab({ ratePerClient: 5 });
  // A burst of twice the rate is taken; the rest of a same-instant flood is dropped.
  const pkt = signRequest({ code: Code.DisconnectRequest, identifier: 9, attributes: [user("nobody")], secret: SECRET, messageAuthenticator: false, randomAuthenticator: Buffer.alloc(16, 3) });
  for (let i = 0; i < 30; i++) l.radius.send(pkt, { address: "127.0.0.1", port: 3799 });
  for (let i = 0; i < 5; i++) {
    l.clock.advance(1);
    await flush();
  }
  t.equal(l.dae.counters.dropped.rate, 20, "30 sent, a burst of 10 taken, 20 dropped");
  t.ok(l.events.some((e) => e.kind === "drop" && e.reason === "rate"), "reported");
  // A second later the client is served again.
  l.clock.advance(1000);
  l.raw.length = 0;
  await send(l, Code.DisconnectRequest, [user("alice")], { identifier: 10 });
  t.equal(l.replies.at(-1)?.code, Code.DisconnectAck);
});
