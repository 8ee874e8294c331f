// The daemon's RADIUS accounting in-process on a fake clock (docs/radius.md): Interim-Update every
// Acct-Interim-Interval (or radius_interim) with the session's counters, Class echoed, and the
// Stop's Acct-Terminate-Cause when the LAC ends the call (Lost-Carrier).
import t from "tap";
import { AcctTerminateCause } from "@lnsd/wire";
import { AcctStatusType, Attr, integerAttr, type RadiusPacket } from "@lnsd/radius";
import { attrInt, attrText, Inproc } from "./lib/inproc.js";

const classOf = (p: RadiusPacket | undefined): string[] => (p?.attributes ?? []).filter((a) => a.type === Attr.Class).map((a) => a.value.toString("utf8"));

void t.test("Acct-Interim-Interval: an Interim-Update every 120 s with the counters so far; Class echoed in each record", async (t) => {
  const lab = await Inproc.start({ interimSec: 300 });
  t.teardown(() => { lab.close(); });
  lab.radius.users.set("counted", { password: "pw", reply: [integerAttr(Attr.AcctInterimInterval, 120), { type: Attr.Class, value: Buffer.from("plan-a") }] });
  const lac = await lab.online("counted", "pw");
  const sub = lab.subscriberOf(lac);
  t.ok(await lab.until(() => lab.radius.records(AcctStatusType.Start).length === 1, 1000));
  const startAt = lab.radius.records(AcctStatusType.Start)[0]?.at ?? Number.NaN;
  lab.dataPath.traffic(sub, 7, 700);

  await lab.run(startAt + 365_000 - lab.clock.now(), 100);
  const interims = lab.radius.records(AcctStatusType.InterimUpdate);
  t.equal(interims.length, 3, "three Interim-Updates in 365 s (the reply's 120 s wins over radius_interim 300)");
  t.same(interims.map((r) => Math.round((r.at - startAt) / 1000)), [120, 240, 360], "at 120, 240 and 360 s");
  const first = interims[0]?.packet;
  t.equal(first === undefined ? undefined : attrText(first, Attr.AcctSessionId), sub.acctSessionId);
  t.equal(first === undefined ? undefined : attrInt(first, Attr.AcctInputPackets), 7, "Acct-Input-Packets");
  t.equal(first === undefined ? undefined : attrInt(first, Attr.AcctInputOctets), 700, "Acct-Input-Octets");
  t.equal(first === undefined ? undefined : attrInt(first, Attr.AcctSessionTime), 120, "Acct-Session-Time");
  for (const r of [...lab.radius.records(AcctStatusType.Start), ...interims]) t.same(classOf(r.packet), ["plan-a"], "Class echoed");
  t.equal(lab.radius.records(AcctStatusType.Stop).length, 0);
});

void t.test("the LAC clears the call: the Stop says Lost-Carrier, with the Class and the counters", async (t) => {
  const lab = await Inproc.start();
  t.teardown(() => { lab.close(); });
  lab.radius.users.set("hangup", { password: "pw", reply: [{ type: Attr.Class, value: Buffer.from("plan-b") }] });
  const lac = await lab.online("hangup", "pw");
  const sub = lab.subscriberOf(lac);
  lab.dataPath.traffic(sub, 5, 500);
  await lab.run(30_000, 100);
  void lac.sim.clearAll(1000);
  t.ok(await lab.until(() => lab.radius.records(AcctStatusType.Stop).length === 1, 5000), "a Stop");
  await lab.run(1000);
  const stops = lab.radius.records(AcctStatusType.Stop);
  t.equal(stops.length, 1, "one Stop");
  const stop = stops[0]?.packet;
  t.equal(stop === undefined ? undefined : attrInt(stop, Attr.AcctTerminateCause), AcctTerminateCause.LostCarrier, "Acct-Terminate-Cause Lost-Carrier");
  t.equal(stop === undefined ? undefined : attrInt(stop, Attr.AcctInputPackets), 5);
  t.equal(stop === undefined ? undefined : attrInt(stop, Attr.AcctSessionTime), 30);
  t.same(classOf(stop), ["plan-b"], "Class echoed");
  t.equal(lab.daemon.sessions.count, 0);
  t.equal(lab.accounting.open, 0, "no accounting left open");
});
