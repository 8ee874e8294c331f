// radius_require_message_authenticator (RFC 3579 3.2, BlastRADIUS CVE-2024-3596) in-process:
// auto, yes and no; auto learning per server (a server that signed once must keep signing); a
// Message-Authenticator that is present always verifies; drops counted by reason and per server;
// the first drop of each reason per server logged at level 1 with what to do; "not answering"
// only when nothing came back.
import t from "tap";
import { FakeClock, MemoryUdpNetwork } from "@lnsd/io";
import {
  Code,
  clientEventLogLine,
  RadiusClient,
  type AccessRequestInput,
  type AuthResult,
  type MessageAuthenticatorPolicy,
  type RadiusClientEvent,
} from "../src/index.js";
import { flush } from "./lib/flush.js";
import { FakeRadiusServer, type Answer } from "./lib/fake-server.js";

const SECRET = "testing123";

interface Lab {
  clock: FakeClock;
  client: RadiusClient;
  primary: FakeRadiusServer;
  secondary: FakeRadiusServer;
  events: RadiusClientEvent[];
  /** What each server answers to the next Access-Requests. */
  answer: { primary: Answer | undefined; secondary: Answer | undefined };
}

const SIGNED: Answer = { code: Code.AccessAccept };
const UNSIGNED: Answer = { code: Code.AccessAccept, noMessageAuthenticator: true };
const BAD_MA: Answer = { code: Code.AccessAccept, corruptMessageAuthenticator: true };

async function lab(policy: MessageAuthenticatorPolicy | undefined): Promise<Lab> {
  const clock = new FakeClock();
  const net = new MemoryUdpNetwork((fn, ms) => {
    clock.setTimeout(fn, ms);
  });
  const answer: Lab["answer"] = { primary: SIGNED, secondary: SIGNED };
  const primary = await FakeRadiusServer.start(net, "127.0.0.1", 1812, SECRET, () => answer.primary);
  const secondary = await FakeRadiusServer.start(net, "127.0.0.2", 1812, SECRET, () => answer.secondary);
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
    onEvent: (e) => events.push(e),
    ...(policy === undefined ? {} : { requireMessageAuthenticator: policy }),
  });
  return { clock, client, primary, secondary, events, answer };
}

async function login(l: Lab): Promise<AuthResult> {
  const input: AccessRequestInput = { userName: "alice", nasPort: 1, acctSessionId: "s1", auth: { kind: "pap", password: Buffer.from("pw") } };
  const state: { value?: AuthResult } = {};
  void l.client.authenticate(input).then((v) => {
    state.value = v;
  });
  for (let i = 0; i < 10_000 && !("value" in state); i++) {
    await flush();
    if ("value" in state) break;
    l.clock.advance(10);
  }
  if (state.value === undefined) throw new Error("never settled");
  return state.value;
}

const serverOf = (r: AuthResult): string | undefined => ("server" in r ? r.server : undefined);
const authStatus = (l: Lab, server: string) => l.client.stats().servers.find((s) => s.kind === "auth" && s.server === server);
const drops = (l: Lab) => l.events.filter((e) => e.kind === "drop");

void t.test("auto (the default): an unsigned reply from a server that never signed is believed", async (t) => {
  const l = await lab(undefined);
  l.answer.primary = UNSIGNED;
  const r = await login(l);
  t.equal(r.kind, "accept");
  t.equal(serverOf(r), "127.0.0.1:1812");
  t.equal(l.client.counters.dropped["missing-message-authenticator"], 0);
  t.equal(authStatus(l, "127.0.0.1:1812")?.requiresMessageAuthenticator, false);
  t.same(drops(l), []);
});

void t.test("auto learns per server: once the primary signed, its unsigned reply is refused; the secondary is unaffected", async (t) => {
  const l = await lab("auto");
  t.equal((await login(l)).kind, "accept", "signed reply believed");
  t.equal(authStatus(l, "127.0.0.1:1812")?.requiresMessageAuthenticator, true, "required from the primary now");
  t.equal(authStatus(l, "127.0.0.2:1812")?.requiresMessageAuthenticator, false, "not from the secondary, which has sent nothing");
  t.equal(l.events.filter((e) => e.kind === "message-authenticator-learned").length, 1, "learned once");
  const learned = l.events.map(clientEventLogLine).find((x) => x?.reason === "radius-ma-learned");
  t.match(learned?.message, /127\.0\.0\.1:1812 signs its replies/);

  // The primary stops signing (a forgery, or a server swapped for one that does not sign): its
  // answers are dropped and the secondary, which never signed, answers unsigned and is believed.
  l.answer.primary = UNSIGNED;
  l.answer.secondary = UNSIGNED;
  const r = await login(l);
  t.equal(r.kind, "accept", "the secondary's unsigned reply is believed");
  t.equal(serverOf(r), "127.0.0.2:1812");
  t.equal(l.client.counters.dropped["missing-message-authenticator"], 2, "both of the primary's answers dropped");
  t.equal(authStatus(l, "127.0.0.1:1812")?.dropped["missing-message-authenticator"], 2, "counted against the primary");
  t.equal(authStatus(l, "127.0.0.2:1812")?.dropped["missing-message-authenticator"], 0);
  const d = drops(l);
  t.equal(d.length, 2);
  t.same(
    d.map((e) => [e.first, e.required]),
    [
      [true, "learned"],
      [false, "learned"],
    ],
    "the first drop is marked first; required because it was learned",
  );
  const line = clientEventLogLine(d[0] ?? l.events[0] ?? { kind: "socket-error", detail: "" });
  t.equal(line?.level, "error", "level 1");
  t.match(line?.message, /dropped a reply from 127\.0\.0\.1:1812: missing-message-authenticator/);
  t.match(line?.message, /signed its earlier replies/);
  t.match(line?.message, /RFC 3579 3\.2/);
  t.match(line?.message, /BlastRADIUS \(CVE-2024-3596\)/);
  t.match(line?.message, /radius_require_message_authenticator no/);
  t.equal(clientEventLogLine(d[1] ?? { kind: "socket-error", detail: "" })?.level, "warn", "later drops are warnings");

  // The primary signs again: believed once more.
  l.answer.primary = SIGNED;
  l.clock.advance(2000);
  const again = await login(l);
  t.equal(serverOf(again), "127.0.0.1:1812");
  t.equal(again.kind, "accept");
});

void t.test("yes: an unsigned reply is refused from every server, a signed one believed", async (t) => {
  const l = await lab("yes");
  t.equal(authStatus(l, "127.0.0.1:1812")?.requiresMessageAuthenticator, true);
  l.answer.primary = UNSIGNED;
  l.answer.secondary = UNSIGNED;
  t.equal((await login(l)).kind, "timeout");
  t.equal(l.client.counters.dropped["missing-message-authenticator"], 4);
  const firsts = drops(l).filter((e) => e.first);
  t.same(
    firsts.map((e) => `${e.from.address} ${e.required ?? ""}`),
    ["127.0.0.1 yes", "127.0.0.2 yes"],
    "one first drop per server",
  );
  const line = clientEventLogLine(firsts[0] ?? { kind: "socket-error", detail: "" });
  t.equal(line?.level, "error");
  t.equal(line?.reason, "radius-drop-first-missing-message-authenticator");
  t.match(line?.message, /radius_require_message_authenticator is yes/);
  t.match(line?.message, /FreeRADIUS 3\.2\.5 or later/);
  t.match(line?.message, /'update reply \{ Message-Authenticator := 0x00 \}' to post-auth/);
  t.match(line?.message, /set radius_require_message_authenticator auto \(or no\) in lnsd/);

  l.answer.primary = SIGNED;
  l.clock.advance(2000);
  t.equal((await login(l)).kind, "accept");
});

void t.test("no: an unsigned reply is believed even from a server that signed before", async (t) => {
  const l = await lab("no");
  t.equal((await login(l)).kind, "accept");
  t.equal(authStatus(l, "127.0.0.1:1812")?.requiresMessageAuthenticator, false);
  t.notOk(l.events.some((e) => e.kind === "message-authenticator-learned"), "no is not auto: nothing to learn");
  l.answer.primary = UNSIGNED;
  const r = await login(l);
  t.equal(r.kind, "accept");
  t.equal(serverOf(r), "127.0.0.1:1812");
  t.same(drops(l), []);
});

void t.test("whatever the setting, a Message-Authenticator that is present must verify", async (t) => {
  for (const policy of ["auto", "yes", "no"] as const) {
    const l = await lab(policy);
    l.answer.primary = BAD_MA;
    l.answer.secondary = BAD_MA;
    t.equal((await login(l)).kind, "timeout", `${policy}: not believed`);
    t.equal(l.client.counters.dropped["bad-message-authenticator"], 4, `${policy}: every answer dropped`);
    t.equal(authStatus(l, "127.0.0.1:1812")?.dropped["bad-message-authenticator"], 2, `${policy}: counted per server`);
    const first = drops(l).find((e) => e.first);
    t.match(clientEventLogLine(first ?? { kind: "socket-error", detail: "" })?.message, /RFC 3579 3\.2: the Message-Authenticator does not verify with radius_secret/, `${policy}: says what to check`);
    t.notOk(authStatus(l, "127.0.0.1:1812")?.requiresMessageAuthenticator === true && policy === "auto", "auto learns nothing from a bad one");
  }
});

void t.test("'not answering' only when nothing came back; replies that were all dropped are said to be", async (t) => {
  const l = await lab("yes");
  l.answer.primary = UNSIGNED;
  l.answer.secondary = undefined;
  t.equal((await login(l)).kind, "timeout");
  const dead = l.events.filter((e) => e.kind === "server-dead");
  t.equal(dead.length, 2);
  const lines = dead.map((e) => clientEventLogLine(e));
  t.equal(lines[0]?.reason, "radius-server-unusable");
  t.match(lines[0]?.message, /RADIUS server 127\.0\.0\.1:1812 answers, but every answer was dropped \(2 missing-message-authenticator/);
  t.notMatch(lines[0]?.message, /not answering/);
  t.equal(lines[1]?.reason, "radius-server-dead");
  t.match(lines[1]?.message, /RADIUS server 127\.0\.0\.2:1812 not answering/);
  const gaveUp = l.events.find((e) => e.kind === "gave-up");
  t.match(gaveUp?.kind === "gave-up" ? gaveUp.detail : "", /127\.0\.0\.1:1812 answered but every answer was dropped \(missing-message-authenticator x2\); no answer from 127\.0\.0\.2:1812/);
});
