// Against a real FreeRADIUS: PAP and CHAP accept and reject, every reply attribute of its users
// file parsed, accounting On, Start, Interim, Stop, Off in its detail file with the right
// counters and Acct-Terminate-Cause; FreeRADIUS requires Message-Authenticator from us and checks
// it on accounting too. Then the replies that must be refused: FreeRADIUS 3.2.1's own unsigned
// Access-Accept, and a tiny fake server on real UDP for a wrong authenticator and an unknown id.
import t from "tap";
import { systemClock } from "@lnsd/io";
import { AcctTerminateCause } from "@lnsd/wire";
import {
  AccountingSession,
  chapMd5Response,
  Code,
  RadiusClient,
  radiusUdp,
  type AccessRequestInput,
  clientEventLogLine,
  type RadiusClientEvent,
  type RadiusClientOptions,
} from "../src/index.js";
import { FakeRadiusServer } from "./lib/fake-server.js";
import { FreeRadius, freeradiusMissing, type DetailRecord } from "@lnsd/testkit";

const SECRET = "lnsd-test-secret";

const USERS = `papuser Cleartext-Password := "pappass"
chapuser Cleartext-Password := "chappass"
richuser Cleartext-Password := "richpass"
	Framed-IP-Address = 10.1.2.3,
	Framed-IP-Netmask = 255.255.255.255,
	Framed-Route = "192.168.10.0/24 10.1.2.3 5",
	Framed-Route = "192.168.20.0/24",
	Framed-IPv6-Prefix = 2001:db8:1::/64,
	Framed-IPv6-Route = "2001:db8:2::/48 :: 3",
	Delegated-IPv6-Prefix = 2001:db8:100::/56,
	Framed-Interface-Id = 0011:2233:4455:6677,
	Session-Timeout = 3600,
	Idle-Timeout = 600,
	Class = 0x636c6173732d31,
	Filter-Id = "std",
	Acct-Interim-Interval = 300,
	Cisco-AVPair = "throttle=yes",
	Cisco-AVPair = "intercept=no",
	Ascend-Client-Primary-DNS = 1.1.1.1,
	Ascend-Client-Secondary-DNS = 8.8.8.8,
	MS-Primary-DNS-Server = 9.9.9.9,
	MS-Secondary-DNS-Server = 149.112.112.112,
	Reply-Message = "hello"
`;

const missing = freeradiusMissing();

const call = (user: string): Omit<AccessRequestInput, "auth"> => ({
  userName: user,
  nasPort: 17,
  acctSessionId: `0000001${user.length}`,
  callingStationId: "01234567890",
  calledStationId: "lns.example",
  connectInfo: "100000000/20000000",
});
const pap = (user: string, password: string): AccessRequestInput => ({ ...call(user), auth: { kind: "pap", password: Buffer.from(password) } });
const chap = (user: string, password: string): AccessRequestInput => {
  const challenge = Buffer.from("0123456789abcdef0123");
  return { ...call(user), auth: { kind: "chap", identifier: 42, challenge, response: chapMd5Response(42, Buffer.from(password), challenge) } };
};

async function client(authPort: number, events: RadiusClientEvent[] = [], opts: Partial<RadiusClientOptions> = {}): Promise<RadiusClient> {
  return RadiusClient.create({
    servers: [{ address: "127.0.0.1", authPort, acctPort: authPort + 1 }],
    secret: SECRET,
    nas: { ipAddress: "192.0.2.1", identifier: "lns-test" },
    bindAddress: "127.0.0.1",
    timeoutMs: 700,
    tries: 2,
    onEvent: (e) => events.push(e),
    ...opts,
  });
}

void t.test("FreeRADIUS: authentication and accounting", { skip: missing ?? false }, async (t) => {
  const fr = await FreeRadius.start({ secret: SECRET, users: USERS });
  t.teardown(() => fr.dispose());
  const c = await client(fr.authPort);
  t.teardown(() => {
    c.close();
  });
  t.teardown(() => {
    if (!t.passing()) console.error(fr.log.slice(-5000));
  });

  await t.test("PAP and CHAP, accepted and rejected", async (t) => {
    t.equal((await c.authenticate(pap("papuser", "pappass"))).kind, "accept", "PAP accept");
    t.equal((await c.authenticate(pap("papuser", "nope"))).kind, "reject", "PAP wrong password");
    t.equal((await c.authenticate(pap("nobody", "x"))).kind, "reject", "PAP unknown user");
    t.equal((await c.authenticate(chap("chapuser", "chappass"))).kind, "accept", "CHAP accept");
    t.equal((await c.authenticate(chap("chapuser", "nope"))).kind, "reject", "CHAP wrong password");
    t.equal((await c.authenticate(pap("long", "x".repeat(100)))).kind, "reject", "a long password is hidden right (several 16-octet blocks)");
    t.equal(c.counters.dropped["missing-message-authenticator"], 0);
  });

  await t.test("a FreeRADIUS that signs its replies: auto learns to require it from that server", async (t) => {
    const events: RadiusClientEvent[] = [];
    const c2 = await client(fr.authPort, events);
    t.teardown(() => {
      c2.close();
    });
    const auth = (): boolean | undefined => c2.stats().servers.find((s) => s.kind === "auth")?.requiresMessageAuthenticator;
    t.equal(auth(), false, "not required before the server has signed");
    t.equal((await c2.authenticate(pap("papuser", "pappass"))).kind, "accept");
    t.equal(auth(), true, "required from it now");
    t.ok(events.some((e) => e.kind === "message-authenticator-learned" && e.server === `127.0.0.1:${fr.authPort}`), "learned, for the log");
  });

  await t.test("the users file's attributes, parsed", async (t) => {
    const r = await c.authenticate(pap("richuser", "richpass"));
    t.equal(r.kind, "accept");
    if (r.kind !== "accept") return;
    const reply = r.reply;
    t.equal(reply.framedIpAddress, "10.1.2.3");
    t.equal(reply.framedIpNetmask, "255.255.255.255");
    t.match(reply.framedRoutes, [
      { prefix: "192.168.10.0", length: 24, gateway: "10.1.2.3", metric: 5 },
      { prefix: "192.168.20.0", length: 24 },
    ]);
    t.same(reply.framedIpv6Prefixes, [{ prefix: "2001:db8:1::", length: 64 }]);
    t.match(reply.framedIpv6Routes, [{ prefix: "2001:db8:2::", length: 48, metric: 3 }]);
    t.same(reply.delegatedIpv6Prefixes, [{ prefix: "2001:db8:100::", length: 56 }]);
    t.same(reply.framedInterfaceId, Buffer.from("0011223344556677", "hex"));
    t.equal(reply.sessionTimeoutSec, 3600);
    t.equal(reply.idleTimeoutSec, 600);
    t.equal(reply.acctInterimIntervalSec, 300);
    t.same(reply.classes, [Buffer.from("class-1")]);
    t.same(reply.filterIds, ["std"]);
    t.same(reply.ciscoAvPairs, ["throttle=yes", "intercept=no"]);
    t.equal(reply.ascendPrimaryDns, "1.1.1.1");
    t.equal(reply.ascendSecondaryDns, "8.8.8.8");
    t.equal(reply.msPrimaryDns, "9.9.9.9");
    t.equal(reply.msSecondaryDns, "149.112.112.112");
    t.same(reply.replyMessages, ["hello"]);
    t.same(reply.problems, []);
  });

  await t.test("accounting: On, Start, Interim, Stop, Off in the detail file", async (t) => {
    t.equal((await c.account({ status: "on", acctSessionId: "boot-1" })).kind, "ack", "Accounting-On acknowledged");
    let inOctets = 1000;
    const session = { ...call("richuser"), framedIpAddress: "10.1.2.3", classes: [Buffer.from("class-1")], delegatedIpv6Prefix: { prefix: "2001:db8:100::", length: 56 } };
    const acct = new AccountingSession(c, {
      session,
      interimSec: 1,
      counters: () => ({ inputOctets: (inOctets += 1000), outputOctets: 5000, inputPackets: 10, outputPackets: 20, sessionTimeSec: 1 }),
      clock: systemClock,
    });
    t.equal((await acct.start()).kind, "ack");
    const status = (s: string) => (r: DetailRecord): boolean => r.attrs.get("Acct-Status-Type")?.[0] === s;
    const interim = await fr.waitForDetail(status("Interim-Update"), 5000);
    t.equal(interim.attrs.get("Acct-Input-Octets")?.[0], "2000");
    const stop = await acct.stop(AcctTerminateCause.LostCarrier, { inputOctets: 2 * 2 ** 32 + 12345, outputOctets: 67890, inputPackets: 111, outputPackets: 222, sessionTimeSec: 61 });
    t.equal(stop.kind, "ack");
    t.equal((await c.account({ status: "off", acctSessionId: "boot-1", terminateCause: AcctTerminateCause.AdminReboot })).kind, "ack");

    const start = await fr.waitForDetail(status("Start"));
    const get = (r: DetailRecord, a: string): string | undefined => r.attrs.get(a)?.[0];
    t.equal(get(start, "User-Name"), "richuser");
    t.equal(get(start, "Acct-Session-Id"), session.acctSessionId);
    t.equal(get(start, "Class"), "0x636c6173732d31", "Class echoed");
    t.equal(get(start, "Framed-IP-Address"), "10.1.2.3");
    t.equal(get(start, "Delegated-IPv6-Prefix"), "2001:db8:100::/56");
    t.equal(get(start, "NAS-Port-Type"), "Virtual");
    t.equal(get(start, "NAS-Port"), "17");
    t.equal(get(start, "Service-Type"), "Framed-User");
    t.equal(get(start, "Framed-Protocol"), "PPP");
    t.equal(get(start, "Calling-Station-Id"), "01234567890");
    t.equal(get(start, "Called-Station-Id"), "lns.example");
    t.equal(get(start, "Connect-Info"), "100000000/20000000");
    t.equal(get(start, "NAS-IP-Address"), "192.0.2.1");
    t.equal(get(start, "NAS-Identifier"), "lns-test");
    t.equal(get(start, "Acct-Delay-Time"), "0");
    t.ok(start.attrs.has("Message-Authenticator"), "signed, and FreeRADIUS verified it");

    const s = await fr.waitForDetail(status("Stop"));
    t.equal(get(s, "Acct-Input-Octets"), "12345");
    t.equal(get(s, "Acct-Input-Gigawords"), "2");
    t.equal(get(s, "Acct-Output-Octets"), "67890");
    t.equal(get(s, "Acct-Output-Gigawords"), "0");
    t.equal(get(s, "Acct-Input-Packets"), "111");
    t.equal(get(s, "Acct-Output-Packets"), "222");
    t.equal(get(s, "Acct-Session-Time"), "61");
    t.equal(get(s, "Acct-Terminate-Cause"), "Lost-Carrier");
    t.equal(get(s, "Class"), "0x636c6173732d31");
    await fr.waitForDetail(status("Accounting-On"));
    const off = await fr.waitForDetail(status("Accounting-Off"));
    t.equal(get(off, "Acct-Terminate-Cause"), "Admin-Reboot");
    t.equal(c.stats().inFlight, 0);
  });
});

// Debian 12's FreeRADIUS 3.2.1 as an l2tpns operator has it: it signs no Access-Accept or
// -Reject (nothing in its policy adds Message-Authenticator, and require_message_authenticator =
// yes in clients.conf does not make it sign). RFC 3579 3.2 leaves it optional without EAP.
void t.test("FreeRADIUS 3.2.1 that does not sign its replies", { skip: missing ?? false }, async (t) => {
  const fr = await FreeRadius.start({ secret: SECRET, users: USERS, signReplies: false });
  t.teardown(() => fr.dispose());
  t.teardown(() => {
    if (!t.passing()) console.error(fr.log.slice(-5000));
  });

  await t.test("radius_require_message_authenticator auto (the default): accepted and refused as the server says", async (t) => {
    const events: RadiusClientEvent[] = [];
    const c = await client(fr.authPort, events, {});
    t.teardown(() => {
      c.close();
    });
    t.equal((await c.authenticate(pap("papuser", "pappass"))).kind, "accept", "PAP accepted");
    t.equal((await c.authenticate(chap("chapuser", "nope"))).kind, "reject", "CHAP refused");
    t.same(
      Object.entries(c.counters.dropped).filter(([, n]) => n > 0),
      [],
      "nothing dropped",
    );
    t.notOk(events.some((e) => e.kind === "message-authenticator-learned"), "nothing learned: the server does not sign");
    // Accounting-Response carries no Message-Authenticator and needs none.
    t.equal((await c.account({ status: "on", acctSessionId: "x" })).kind, "ack");
  });

  await t.test("radius_require_message_authenticator yes: refused, and the log says why and what to do", async (t) => {
    const events: RadiusClientEvent[] = [];
    const c = await client(fr.authPort, events, { requireMessageAuthenticator: "yes" });
    t.teardown(() => {
      c.close();
    });
    const r = await c.authenticate(pap("papuser", "pappass"));
    t.equal(r.kind, "timeout", "never believed");
    t.equal(c.counters.dropped["missing-message-authenticator"], 2, "both answers dropped");
    const lines = events.map(clientEventLogLine).filter((l) => l !== undefined);
    const first = lines.filter((l) => l.reason === "radius-drop-first-missing-message-authenticator");
    t.equal(first.length, 1, "one level-1 line for the first drop from this server");
    t.equal(first[0]?.level, "error");
    t.match(first[0]?.message, /RFC 3579/);
    t.match(first[0]?.message, /CVE-2024-3596/);
    t.match(first[0]?.message, /Message-Authenticator := 0x00/);
    t.match(first[0]?.message, /radius_require_message_authenticator auto \(or no\)/);
    t.notOk(lines.some((l) => l.message.includes("not answering")), "never 'not answering': it answered");
    t.ok(lines.some((l) => l.reason === "radius-server-unusable" && l.message.includes("every answer was dropped (2 missing-message-authenticator")), "the server is said to answer unusably");
    t.match(lines.find((l) => l.reason === "radius-gave-up-auth")?.message, /answered but every answer was dropped/);
  });
});

void t.test("a fake server on real UDP: wrong authenticator, no Message-Authenticator, unknown id", async (t) => {
  const behaviours = [
    { name: "wrong Response Authenticator", reason: "bad-authenticator", answer: { code: Code.AccessAccept, corruptAuthenticator: true } },
    { name: "no Message-Authenticator", reason: "missing-message-authenticator", answer: { code: Code.AccessAccept, noMessageAuthenticator: true } },
    { name: "wrong Message-Authenticator", reason: "bad-message-authenticator", answer: { code: Code.AccessAccept, corruptMessageAuthenticator: true } },
    { name: "unknown identifier", reason: "unknown-identifier", answer: undefined },
  ] as const;
  for (const b of behaviours) {
    const fake = await FakeRadiusServer.start(radiusUdp, "127.0.0.1", 0, SECRET, (req) => (b.answer === undefined ? { code: Code.AccessAccept, identifier: (req.identifier + 128) & 0xff } : b.answer));
    const c = await RadiusClient.create({
      servers: [{ address: "127.0.0.1", authPort: fake.local.port, acctPort: fake.local.port + 1 }],
      secret: SECRET,
      nas: { identifier: "lns-test" },
      bindAddress: "127.0.0.1",
      timeoutMs: 150,
      tries: 2,
      requireMessageAuthenticator: "yes",
    });
    const r = await c.authenticate(pap("mallory", "x"));
    t.equal(r.kind, "timeout", `${b.name}: not believed`);
    t.equal(c.counters.dropped[b.reason], 2, `${b.name}: dropped as ${b.reason}`);
    c.close();
    fake.close();
  }
  // And the fake's honest answer is believed, over the same real sockets.
  const honest = await FakeRadiusServer.start(radiusUdp, "127.0.0.1", 0, SECRET, () => ({ code: Code.AccessAccept }));
  const c = await RadiusClient.create({ servers: [{ address: "127.0.0.1", authPort: honest.local.port, acctPort: honest.local.port + 1 }], secret: SECRET, nas: { identifier: "x" }, bindAddress: "127.0.0.1", timeoutMs: 150 });
  t.equal((await c.authenticate(pap("alice", "x"))).kind, "accept");
  c.close();
  honest.close();
});
