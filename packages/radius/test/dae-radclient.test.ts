// The DAE server on a real socket, driven by FreeRADIUS's radclient: Disconnect and CoA reach
// the right session's callback and no other; an unknown session gets a NAK with Error-Cause 503;
// a wrong secret gets no answer at all; radclient's own Message-Authenticator verifies.
import t from "tap";
import { AcctTerminateCause } from "@lnsd/wire";
import { DaeServer, ErrorCause, radiusUdp, type CoaChanges, type DaeMatch } from "../src/index.js";
import { RADCLIENT, radclient } from "@lnsd/testkit";

const SECRET = "dae-test-secret";

interface Session {
  readonly id: number;
  readonly user: string;
  readonly acctSessionId: string;
  readonly ip: string;
}

const SESSIONS: Session[] = [
  { id: 1, user: "alice", acctSessionId: "0000a001", ip: "10.0.0.1" },
  { id: 2, user: "bob", acctSessionId: "0000b002", ip: "10.0.0.2" },
  { id: 3, user: "carol", acctSessionId: "0000c003", ip: "10.0.0.3" },
];

const matches = (s: Session, m: DaeMatch): boolean =>
  (m.userName === undefined || m.userName === s.user) &&
  (m.acctSessionId === undefined || m.acctSessionId === s.acctSessionId) &&
  (m.framedIpAddress === undefined || m.framedIpAddress === s.ip) &&
  (m.nasPort === undefined || m.nasPort === s.id);

void t.test("DAE with radclient", { skip: RADCLIENT === undefined ? "radclient is not installed (freeradius-utils)" : false }, async (t) => {
  const disconnected: [number, number][] = [];
  const coas: [number, CoaChanges][] = [];
  const dae = await DaeServer.create<Session>({
    bindAddress: "127.0.0.1",
    port: 0,
    secret: SECRET,
    allowedClients: ["127.0.0.1"],
    nas: { ipAddress: "192.0.2.1", identifier: "lns-test" },
    udp: radiusUdp,
    handler: {
      findSessions: (m) => SESSIONS.filter((s) => matches(s, m)),
      disconnect: (s, cause) => {
        disconnected.push([s.id, cause]);
        return { ok: true };
      },
      coa: (s, changes) => {
        coas.push([s.id, changes]);
        return { ok: true };
      },
    },
  });
  t.teardown(() => {
    dae.close();
  });
  const target = `127.0.0.1:${dae.local.port}`;
  const send = (command: "disconnect" | "coa", attrs: string, secret = SECRET): ReturnType<typeof radclient> =>
    radclient(["-x", "-t", "1", "-r", "1", target, command, secret], attrs);

  await t.test("Disconnect-Request by User-Name: only that session", async (t) => {
    const r = await send("disconnect", 'User-Name = "bob"\n');
    t.match(r.out, /Received Disconnect-ACK/);
    t.equal(r.code, 0);
    t.same(disconnected, [[2, AcctTerminateCause.AdminReset]]);
  });

  await t.test("Disconnect-Request by Acct-Session-Id and Framed-IP-Address, with a cause and Message-Authenticator", async (t) => {
    disconnected.length = 0;
    const r = await send("disconnect", 'Acct-Session-Id = "0000a001"\nFramed-IP-Address = 10.0.0.1\nAcct-Terminate-Cause = Session-Timeout\nNAS-IP-Address = 192.0.2.1\nMessage-Authenticator = 0x00\n');
    t.match(r.out, /Received Disconnect-ACK/);
    t.same(disconnected, [[1, AcctTerminateCause.SessionTimeout]]);
    t.equal(dae.counters.dropped["bad-message-authenticator"], 0, "radclient's Message-Authenticator verifies");
  });

  await t.test("CoA-Request: Session-Timeout, Filter-Id, Cisco-AVPair for the right session", async (t) => {
    const r = await send("coa", 'User-Name = "carol"\nSession-Timeout = 600\nFilter-Id = "garden"\nCisco-AVPair = "throttle=yes"\nMessage-Authenticator = 0x00\n');
    t.match(r.out, /Received CoA-ACK/);
    t.same(coas, [[3, { filterIds: ["garden"], ciscoAvPairs: ["throttle=yes"], sessionTimeoutSec: 600 }]]);
  });

  await t.test("an unknown session: NAK, Error-Cause 503", async (t) => {
    const before = [...disconnected];
    const r = await send("disconnect", 'User-Name = "mallory"\n');
    t.match(r.out, /Received Disconnect-NAK/);
    t.match(r.out, /Error-Cause = Session-Context-Not-Found/);
    t.same(disconnected, before, "nobody disconnected");
    const c = await send("coa", 'User-Name = "mallory"\nSession-Timeout = 5\n');
    t.match(c.out, /Received CoA-NAK/);
    t.equal(dae.counters.naksByCause[ErrorCause.SessionContextNotFound], 2);
  });

  await t.test("an unsupported attribute: NAK, Error-Cause 401", async (t) => {
    const r = await send("coa", 'User-Name = "carol"\nFramed-MTU = 1400\n');
    t.match(r.out, /Error-Cause = Unsupported-Attribute/);
  });

  await t.test("a wrong secret: no answer at all (silently discarded)", async (t) => {
    const before = dae.counters.dropped["bad-authenticator"];
    const disconnects = disconnected.length;
    const r = await send("disconnect", 'User-Name = "alice"\n', "not-the-secret");
    t.notMatch(r.out, /Received/, "no reply");
    t.not(r.code, 0, "radclient gives up");
    t.ok(dae.counters.dropped["bad-authenticator"] >= before + 1, "counted");
    t.equal(disconnected.length, disconnects, "alice untouched");
  });
});
