// RFC 5176 Disconnect-Request and CoA-Request against the daemon's sessions, in-process on a fake
// clock (docs/radius.md "Disconnect and CoA"): the DAE server, daeHandlerFor and the session
// manager, with the Stop encoded by the real accounting and decoded by the test's RADIUS server.
import t from "tap";
import { AcctTerminateCause } from "@lnsd/wire";
import { AcctStatusType, Attr, Code, ErrorCause, integerAttr, textAttr } from "@lnsd/radius";
import { attrInt, attrText, ciscoAvPair, Inproc } from "./lib/inproc.js";

void t.test("Disconnect-Request by User-Name: that session ends with a Stop saying Admin-Reset; the others stay", async (t) => {
  const lab = await Inproc.start();
  t.teardown(() => { lab.close(); });
  for (const u of ["alice", "bob"]) lab.radius.users.set(u, { password: "pw", reply: [] });
  const alice = await lab.online("alice", "pw");
  const bob = await lab.online("bob", "pw");
  const aliceSub = lab.subscriberOf(alice);

  lab.radius.sendDae(Code.DisconnectRequest, [textAttr(Attr.UserName, "alice")]);
  t.ok(await lab.until(() => lab.radius.daeReplies.length === 1, 2000), "an answer");
  t.equal(lab.radius.daeReplies[0]?.code, Code.DisconnectAck, "Disconnect-ACK");
  t.ok(await lab.until(() => lab.radius.records(AcctStatusType.Stop).length === 1, 2000), "a Stop");
  await lab.run(1000);
  const stops = lab.radius.records(AcctStatusType.Stop);
  t.equal(stops.length, 1, "one Stop");
  const stop = stops[0]?.packet;
  t.equal(stop === undefined ? undefined : attrText(stop, Attr.AcctSessionId), aliceSub.acctSessionId, "alice's");
  t.equal(stop === undefined ? undefined : attrInt(stop, Attr.AcctTerminateCause), AcctTerminateCause.AdminReset, "Acct-Terminate-Cause Admin-Reset");
  t.equal(alice.logins.stats.online.size, 0, "alice's PPP is down");
  t.equal(bob.logins.stats.online.size, 1, "bob's is not");
  t.same([...lab.daemon.sessions.all()].map((s) => s.username), ["bob"]);

  // No session of that name: NAK 503 (RFC 5176 3.5), nothing ends.
  lab.radius.sendDae(Code.DisconnectRequest, [textAttr(Attr.UserName, "carol")]);
  t.ok(await lab.until(() => lab.radius.daeReplies.length === 2, 2000));
  const nak = lab.radius.daeReplies[1];
  t.equal(nak?.code, Code.DisconnectNak, "Disconnect-NAK");
  t.equal(nak === undefined ? undefined : attrInt(nak, Attr.ErrorCause), ErrorCause.SessionContextNotFound, "Error-Cause 503");
  await lab.run(1000);
  t.equal(lab.radius.records(AcctStatusType.Stop).length, 1, "no other Stop");
  t.equal(lab.daemon.sessions.count, 1);
});

void t.test("Disconnect-Request by Acct-Session-Id with Acct-Terminate-Cause Session-Timeout: the Stop says so", async (t) => {
  const lab = await Inproc.start({ allowDuplicateUsers: true });
  t.teardown(() => { lab.close(); });
  lab.radius.users.set("twice", { password: "pw", reply: [] });
  const lac = await lab.online("twice", "pw", 2);
  const [one, two] = [...lac.logins.stats.online.keys()].map((c) => lab.subscriberOf(lac, c));
  if (one === undefined || two === undefined) throw new Error("two sessions expected");
  lab.radius.sendDae(Code.DisconnectRequest, [textAttr(Attr.AcctSessionId, two.acctSessionId), integerAttr(Attr.AcctTerminateCause, AcctTerminateCause.SessionTimeout)]);
  t.ok(await lab.until(() => lab.radius.records(AcctStatusType.Stop).length === 1, 2000), "a Stop");
  await lab.run(1000);
  t.equal(lab.radius.daeReplies[0]?.code, Code.DisconnectAck);
  const stops = lab.radius.records(AcctStatusType.Stop);
  t.equal(stops.length, 1, "one Stop");
  const stop = stops[0]?.packet;
  t.equal(stop === undefined ? undefined : attrText(stop, Attr.AcctSessionId), two.acctSessionId, "the session named");
  t.equal(stop === undefined ? undefined : attrInt(stop, Attr.AcctTerminateCause), AcctTerminateCause.SessionTimeout);
  t.same([...lab.daemon.sessions.all()], [one], "the other session of the user stays");
});

void t.test("Disconnect-Request while the login waits for RADIUS: the login ends, the late Access-Accept changes nothing", async (t) => {
  const lab = await Inproc.start();
  t.teardown(() => { lab.close(); });
  lab.radius.users.set("slow", { password: "pw", reply: [] });
  lab.radius.hold = true;
  const lac = await lab.lac("slow", "pw");
  t.ok(await lab.until(() => lab.radius.access.length === 1, 5000), "the Access-Request is out");
  t.equal(lab.daemon.sessions.count, 1);
  lab.radius.sendDae(Code.DisconnectRequest, [textAttr(Attr.UserName, "slow")]);
  t.ok(await lab.until(() => lab.radius.daeReplies.length === 1, 2000), "an answer");
  t.equal(lab.radius.daeReplies[0]?.code, Code.DisconnectAck, "Disconnect-ACK: the session in setup matched");
  t.ok(await lab.until(() => lab.daemon.sessions.count === 0, 2000), "the session is gone");
  lab.radius.answerHeld();
  await lab.run(10_000, 50);
  t.equal(lac.logins.stats.online.size, 0, "never online");
  t.equal(lab.daemon.sessions.count, 0);
  t.equal(lab.pool.sizes().inUse, 0, "no address held");
  t.equal(lab.radius.accounting.length, 0, "no Start, no Stop");
});

void t.test("CoA-Request with Session-Timeout: counted from when the session came up; the session ends then", async (t) => {
  const lab = await Inproc.start();
  t.teardown(() => { lab.close(); });
  lab.radius.users.set("coa", { password: "pw", reply: [] });
  const lac = await lab.online("coa", "pw");
  const sub = lab.subscriberOf(lac);
  const upAt = sub.upAt ?? Number.NaN;
  await lab.run(30_000, 50);
  t.equal(lab.radius.records(AcctStatusType.Stop).length, 0);

  lab.radius.sendDae(Code.CoaRequest, [textAttr(Attr.UserName, "coa"), integerAttr(Attr.SessionTimeout, 90)]);
  t.ok(await lab.until(() => lab.radius.daeReplies.length === 1, 2000), "an answer");
  t.equal(lab.radius.daeReplies[0]?.code, Code.CoaAck, "CoA-ACK");
  t.equal(sub.policy.sessionTimeoutSec, 90, "the policy changed");

  await lab.run(upAt + 90_000 - 500 - lab.clock.now(), 50);
  t.equal(lac.logins.stats.online.size, 1, "online half a second before");
  t.ok(await lab.until(() => lab.radius.records(AcctStatusType.Stop).length === 1, 2000), "a Stop");
  const stop = lab.radius.records(AcctStatusType.Stop)[0];
  t.ok(stop !== undefined && stop.at >= upAt + 90_000 && stop.at <= upAt + 90_200, `at 90 s after up (${(stop?.at ?? 0) - upAt} ms)`);
  t.equal(stop === undefined ? undefined : attrInt(stop.packet, Attr.AcctTerminateCause), AcctTerminateCause.SessionTimeout, "Acct-Terminate-Cause Session-Timeout");
  t.equal(stop === undefined ? undefined : attrInt(stop.packet, Attr.AcctSessionTime), 90);
});

void t.test("CoA-Request with a Session-Timeout already passed ends the session at once", async (t) => {
  const lab = await Inproc.start();
  t.teardown(() => { lab.close(); });
  lab.radius.users.set("late", { password: "pw", reply: [integerAttr(Attr.SessionTimeout, 3600)] });
  const lac = await lab.online("late", "pw");
  await lab.run(20_000, 50);
  const sent = lab.clock.now();
  lab.radius.sendDae(Code.CoaRequest, [textAttr(Attr.UserName, "late"), integerAttr(Attr.SessionTimeout, 10)]);
  t.ok(await lab.until(() => lab.radius.records(AcctStatusType.Stop).length === 1, 2000), "a Stop");
  const stop = lab.radius.records(AcctStatusType.Stop)[0];
  t.ok(stop !== undefined && stop.at - sent < 200, `within 200 ms (${(stop?.at ?? 0) - sent} ms)`);
  t.equal(stop === undefined ? undefined : attrInt(stop.packet, Attr.AcctTerminateCause), AcctTerminateCause.SessionTimeout);
  t.ok(await lab.until(() => lab.radius.daeReplies.length === 1, 2000), "an answer");
  t.equal(lab.radius.daeReplies[0]?.code, Code.CoaAck, "CoA-ACK");
  t.ok(await lab.until(() => lac.logins.stats.online.size === 0, 2000));
});

void t.test("CoA-Request with Idle-Timeout: a quiet session ends that long after the CoA, with a Stop saying Idle-Timeout", async (t) => {
  const lab = await Inproc.start();
  t.teardown(() => { lab.close(); });
  lab.radius.users.set("idle", { password: "pw", reply: [] });
  const lac = await lab.online("idle", "pw");
  await lab.run(100_000, 100);
  t.equal(lac.logins.stats.online.size, 1, "no Idle-Timeout at login: still online after 100 s");
  const sent = lab.clock.now();
  lab.radius.sendDae(Code.CoaRequest, [textAttr(Attr.UserName, "idle"), integerAttr(Attr.IdleTimeout, 40)]);
  t.ok(await lab.until(() => lab.radius.records(AcctStatusType.Stop).length === 1, 60_000, 50), "a Stop");
  const stop = lab.radius.records(AcctStatusType.Stop)[0];
  // sessions.ts checks a quarter of the timeout at a time: between 1 and 1.25 times the timeout.
  t.ok(stop !== undefined && stop.at - sent >= 40_000 && stop.at - sent <= 50_200, `${(stop?.at ?? 0) - sent} ms after the CoA`);
  t.equal(stop === undefined ? undefined : attrInt(stop.packet, Attr.AcctTerminateCause), AcctTerminateCause.IdleTimeout, "Acct-Terminate-Cause Idle-Timeout");
  t.equal(lab.radius.daeReplies[0]?.code, Code.CoaAck);
});

void t.test("CoA-Request with Cisco-AVPair throttle=N: autothrottle throttles that session in the data plane", async (t) => {
  const lab = await Inproc.start({ plugins: ["autothrottle"] });
  t.teardown(() => { lab.close(); });
  for (const u of ["slow", "fast"]) lab.radius.users.set(u, { password: "pw", reply: [] });
  const slow = await lab.online("slow", "pw");
  const fast = await lab.online("fast", "pw");
  const slowSub = lab.subscriberOf(slow);
  const fastSub = lab.subscriberOf(fast);
  t.equal(slowSub.throttle, undefined, "not throttled at login");
  t.equal(lab.dataPath.policies.length, 0, "no policy change yet");

  lab.radius.sendDae(Code.CoaRequest, [textAttr(Attr.UserName, "slow"), ciscoAvPair("throttle=2000")]);
  t.ok(await lab.until(() => lab.radius.daeReplies.length === 1, 2000), "an answer");
  t.equal(lab.radius.daeReplies[0]?.code, Code.CoaAck, "CoA-ACK");
  await lab.run(100);
  t.same(slowSub.throttle, { up: 2000, down: 2000 }, "throttled to 2000 kbit/s each way");
  const told = lab.dataPath.policies.filter((p) => p.sub === slowSub);
  t.ok(told.length >= 1, "the data plane was told");
  t.same(told[told.length - 1]?.throttle, { up: 2000, down: 2000 }, "with the new rates");
  t.equal(fastSub.throttle, undefined, "the other session is not throttled");
  t.notOk(lab.dataPath.policies.some((p) => p.sub === fastSub));

  lab.radius.sendDae(Code.CoaRequest, [textAttr(Attr.UserName, "slow"), ciscoAvPair("throttle=no")]);
  t.ok(await lab.until(() => lab.radius.daeReplies.length === 2, 2000));
  await lab.run(100);
  t.equal(slowSub.throttle, undefined, "throttle=no lifts it");
  t.equal(lab.dataPath.policies.filter((p) => p.sub === slowSub).at(-1)?.throttle, undefined, "and the data plane was told");
  t.equal(lab.radius.records(AcctStatusType.Stop).length, 0, "no session ended");
});
