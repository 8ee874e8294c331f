// Duplicate logins in-process (docs/authentication.md, docs/config.md allow_duplicate_users): with
// "no" a user's new login ends their older session (Stop with Admin-Reset), the guest_account
// excepted; with "yes" both stay. Fake clock, in-memory L2TP and RADIUS.
import t from "tap";
import { AcctTerminateCause } from "@lnsd/wire";
import { AcctStatusType, Attr } from "@lnsd/radius";
import { attrInt, attrText, Inproc } from "./lib/inproc.js";

void t.test("allow_duplicate_users no: the second login of a user ends the first", async (t) => {
  const lab = await Inproc.start({ allowDuplicateUsers: false, guestAccount: "guest" });
  t.teardown(() => { lab.close(); });
  lab.radius.users.set("dup", { password: "pw", reply: [] });
  const first = await lab.online("dup", "pw");
  const older = lab.subscriberOf(first);
  t.equal(lab.radius.records(AcctStatusType.Start).length, 1, "one Start");

  const second = await lab.online("dup", "pw");
  t.ok(await lab.until(() => first.logins.stats.online.size === 0), "the first login is ended");
  t.equal(second.logins.stats.online.size, 1, "the second is online");
  t.equal(lab.daemon.sessions.count, 1, "one session left on the LNS");
  t.equal(lab.daemon.sessions.byUsername("dup").length, 1);
  t.not(lab.subscriberOf(second), older, "the one left is the new one");
  t.ok(lab.lines.some((l) => l.includes("duplicate login of dup")), "logged as a duplicate login");

  await lab.until(() => lab.radius.records(AcctStatusType.Stop).length === 1);
  const stops = lab.radius.records(AcctStatusType.Stop);
  t.equal(stops.length, 1, "one Stop");
  const stop = stops[0]?.packet;
  t.equal(stop === undefined ? undefined : attrText(stop, Attr.AcctSessionId), older.acctSessionId, "for the older session");
  t.equal(stop === undefined ? undefined : attrInt(stop, Attr.AcctTerminateCause), AcctTerminateCause.AdminReset, "Acct-Terminate-Cause Admin-Reset");
  t.equal(lab.radius.records(AcctStatusType.Start).length, 2, "a Start for each login");
});

void t.test("allow_duplicate_users no: the guest_account may log in twice", async (t) => {
  const lab = await Inproc.start({ allowDuplicateUsers: false, guestAccount: "guest" });
  t.teardown(() => { lab.close(); });
  lab.radius.users.set("guest", { password: "pw", reply: [] });
  const a = await lab.online("guest", "pw");
  const b = await lab.online("guest", "pw");
  await lab.run(2000);
  t.equal(a.logins.stats.online.size + b.logins.stats.online.size, 2, "both online");
  t.equal(lab.daemon.sessions.byUsername("guest").length, 2);
  t.equal(lab.radius.records(AcctStatusType.Stop).length, 0, "no Stop");
});

void t.test("allow_duplicate_users yes: both logins stay, each with its own address", async (t) => {
  const lab = await Inproc.start({ allowDuplicateUsers: true });
  t.teardown(() => { lab.close(); });
  lab.radius.users.set("dup", { password: "pw", reply: [] });
  const first = await lab.online("dup", "pw");
  const second = await lab.online("dup", "pw", 2);
  await lab.run(2000);
  t.equal(first.logins.stats.online.size, 1, "the first is still online");
  t.equal(second.logins.stats.online.size, 2, "and the two later ones");
  t.equal(lab.daemon.sessions.byUsername("dup").length, 3);
  const addresses = new Set([...first.logins.stats.online.values(), ...second.logins.stats.online.values()].map((i) => i.address));
  t.equal(addresses.size, 3, "three addresses");
  t.equal(lab.radius.records(AcctStatusType.Start).length, 3);
  t.equal(lab.radius.records(AcctStatusType.Stop).length, 0, "no Stop");
  t.notOk(lab.lines.some((l) => l.includes("duplicate login")));
});
