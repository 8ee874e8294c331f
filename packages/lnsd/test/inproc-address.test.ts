// A Framed-IP-Address held by an older session, in-process on a fake clock (docs/authentication.md:
// the newer login takes the address from the older, as l2tpns): afterwards exactly one session
// holds the address, and the pool has it in use, also once the older session has ended.
import t from "tap";
import { AcctTerminateCause, formatIpv4, parseIpv4 } from "@lnsd/wire";
import { AcctStatusType, Attr, type RadiusAttribute } from "@lnsd/radius";
import { attrInt, attrText, Inproc } from "./lib/inproc.js";

const FIXED = "10.20.0.50";

function framedIp(address: string): RadiusAttribute {
  return { type: Attr.FramedIpAddress, value: Buffer.from(address.split(".").map(Number)) };
}

function holders(lab: Inproc): number {
  return [...lab.daemon.sessions.all()].filter((s) => s.address !== undefined && formatIpv4(s.address) === FIXED).length;
}

void t.test("a user with a fixed address whose CPE died logs in again: the new session keeps the address after the old one ends", async (t) => {
  const lab = await Inproc.start({ allowDuplicateUsers: false });
  t.teardown(() => { lab.close(); });
  lab.radius.users.set("fixed", { password: "pw", reply: [framedIp(FIXED)] });
  const first = await lab.online("fixed", "pw");
  const older = lab.subscriberOf(first);
  t.equal([...first.logins.stats.online.values()][0]?.address, FIXED);
  // The CPE and its LAC vanish without a word: the LNS's LCP Terminate-Requests go unanswered.
  first.sim.close();

  const second = await lab.online("fixed", "pw");
  t.equal([...second.logins.stats.online.values()][0]?.address, FIXED, "the new login has the address");
  t.ok(await lab.until(() => lab.radius.records(AcctStatusType.Stop).length === 1, 60_000, 50), "the old session ends");
  await lab.run(10_000, 50);
  const stop = lab.radius.records(AcctStatusType.Stop)[0]?.packet;
  t.equal(stop === undefined ? undefined : attrText(stop, Attr.AcctSessionId), older.acctSessionId, "the Stop is the old session's");
  t.equal(stop === undefined ? undefined : attrInt(stop, Attr.AcctTerminateCause), AcctTerminateCause.AdminReset);
  t.equal(lab.daemon.sessions.count, 1, "one session left");
  t.equal(holders(lab), 1, "it holds the address");
  t.equal(lab.pool.entry(parseIpv4(FIXED) ?? 0)?.state, "in-use", "and the pool has the address in use");
});

void t.test("another user given an address in use: the newer login takes it, the older holder is ended", async (t) => {
  const lab = await Inproc.start({ allowDuplicateUsers: false });
  t.teardown(() => { lab.close(); });
  lab.radius.users.set("fixed", { password: "pw", reply: [framedIp(FIXED)] });
  lab.radius.users.set("other", { password: "pw", reply: [framedIp(FIXED)] });
  const first = await lab.online("fixed", "pw");
  const second = await lab.online("other", "pw");
  t.ok(await lab.until(() => first.logins.stats.online.size === 0 && lab.radius.records(AcctStatusType.Stop).length === 1, 10_000), "the older holder is ended");
  await lab.run(2000);
  t.equal([...second.logins.stats.online.values()][0]?.address, FIXED, "the newer login has the address");
  t.ok(lab.lines.some((l) => l.includes(`address ${FIXED} taken by a newer login of other`)));
  t.equal(holders(lab), 1, "one session holds it");
  t.equal(lab.pool.entry(parseIpv4(FIXED) ?? 0)?.state, "in-use", "the pool has it in use");

  // A third login given the address takes it again: still one holder.
  lab.radius.users.set("third", { password: "pw", reply: [framedIp(FIXED)] });
  const third = await lab.online("third", "pw");
  t.ok(await lab.until(() => second.logins.stats.online.size === 0, 10_000), "the second holder is ended");
  await lab.run(2000);
  t.equal([...third.logins.stats.online.values()][0]?.address, FIXED);
  t.equal(holders(lab), 1, "still one session holds it");
  t.equal(lab.pool.entry(parseIpv4(FIXED) ?? 0)?.state, "in-use");
});
