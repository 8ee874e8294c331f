// Session-Timeout and Idle-Timeout from the Access-Accept, in-process on a fake clock: the session
// ends when RFC 2865 5.27 / 5.28 (and sessions.ts's idle check) say, and its accounting Stop
// carries the matching Acct-Terminate-Cause and Acct-Session-Time.
import t from "tap";
import { AcctTerminateCause } from "@lnsd/wire";
import { AcctStatusType, Attr, integerAttr } from "@lnsd/radius";
import { attrInt, attrText, Inproc } from "./lib/inproc.js";

/** The LCP Terminate exchange and the Stop's trip take a few fake milliseconds. */
const SLACK_MS = 200;

void t.test("Session-Timeout: the session ends that many seconds after it came up; Stop says Session-Timeout", async (t) => {
  const lab = await Inproc.start();
  t.teardown(() => { lab.close(); });
  lab.radius.users.set("timed", { password: "pw", reply: [integerAttr(Attr.SessionTimeout, 120)] });
  lab.radius.users.set("other", { password: "pw", reply: [] });
  const lac = await lab.online("timed", "pw");
  const other = await lab.online("other", "pw");
  const sub = lab.subscriberOf(lac);
  t.equal(sub.policy.sessionTimeoutSec, 120, "the policy has the Access-Accept's Session-Timeout");
  const upAt = sub.upAt ?? Number.NaN;

  await lab.run(upAt + 120_000 - 500 - lab.clock.now(), 50);
  t.equal(lac.logins.stats.online.size, 1, "still online half a second before");
  t.equal(lab.radius.records(AcctStatusType.Stop).length, 0, "no Stop yet");

  t.ok(await lab.until(() => lab.radius.records(AcctStatusType.Stop).length > 0, 5000), "a Stop");
  const stops = lab.radius.records(AcctStatusType.Stop);
  t.equal(stops.length, 1, "one Stop");
  const stop = stops[0];
  t.ok(stop !== undefined && stop.at >= upAt + 120_000 && stop.at <= upAt + 120_000 + SLACK_MS, `sent on time (${(stop?.at ?? 0) - upAt} ms after up)`);
  t.equal(stop === undefined ? undefined : attrText(stop.packet, Attr.AcctSessionId), sub.acctSessionId);
  t.equal(stop === undefined ? undefined : attrInt(stop.packet, Attr.AcctTerminateCause), AcctTerminateCause.SessionTimeout, "Acct-Terminate-Cause Session-Timeout");
  t.equal(stop === undefined ? undefined : attrInt(stop.packet, Attr.AcctSessionTime), 120, "Acct-Session-Time 120");
  t.ok(await lab.until(() => lac.logins.stats.online.size === 0, 2000), "the subscriber's PPP went down");
  t.equal(other.logins.stats.online.size, 1, "a session without Session-Timeout stays");
  t.equal(lab.daemon.sessions.count, 1);
});

void t.test("Idle-Timeout: no upstream traffic ends the session after the timeout; traffic keeps it", async (t) => {
  const lab = await Inproc.start();
  t.teardown(() => { lab.close(); });
  lab.radius.users.set("quiet", { password: "pw", reply: [integerAttr(Attr.IdleTimeout, 60)] });
  lab.radius.users.set("busy", { password: "pw", reply: [integerAttr(Attr.IdleTimeout, 60)] });
  const quiet = await lab.online("quiet", "pw");
  const busy = await lab.online("busy", "pw");
  const quietSub = lab.subscriberOf(quiet);
  const busySub = lab.subscriberOf(busy);
  const quietUp = quietSub.upAt ?? Number.NaN;
  const busyUp = busySub.upAt ?? Number.NaN;

  // The busy one sends a packet every 10 s for 100 s (the data plane's counters, as a harvest adds them).
  for (let i = 0; i < 10; i++) {
    await lab.run(10_000, 50);
    lab.dataPath.traffic(busySub, 3);
  }
  const busyLast = lab.clock.now();
  t.equal(busy.logins.stats.online.size, 1, "traffic keeps the busy session");
  const quietStop = lab.radius.records(AcctStatusType.Stop).find((r) => attrText(r.packet, Attr.AcctSessionId) === quietSub.acctSessionId);
  t.ok(quietStop !== undefined, "the quiet session has ended");
  // sessions.ts checks a quarter of the timeout at a time: it ends between 1 and 1.25 times the timeout.
  t.ok(quietStop !== undefined && quietStop.at >= quietUp + 60_000 && quietStop.at <= quietUp + 75_000 + SLACK_MS, `quiet ended ${(quietStop?.at ?? 0) - quietUp} ms after up`);
  t.equal(quietStop === undefined ? undefined : attrInt(quietStop.packet, Attr.AcctTerminateCause), AcctTerminateCause.IdleTimeout, "Acct-Terminate-Cause Idle-Timeout");
  t.equal(quiet.logins.stats.online.size, 0);

  t.ok(await lab.until(() => lab.radius.records(AcctStatusType.Stop).length === 2, 100_000, 50), "the busy one ends once it is quiet");
  const busyStop = lab.radius.records(AcctStatusType.Stop).find((r) => attrText(r.packet, Attr.AcctSessionId) === busySub.acctSessionId);
  t.ok(busyStop !== undefined && busyStop.at >= busyLast + 60_000 && busyStop.at <= busyLast + 75_000 + SLACK_MS, `busy ended ${(busyStop?.at ?? 0) - busyLast} ms after its last packet`);
  t.equal(busyStop === undefined ? undefined : attrInt(busyStop.packet, Attr.AcctTerminateCause), AcctTerminateCause.IdleTimeout);
  t.equal(busyStop === undefined ? undefined : attrInt(busyStop.packet, Attr.AcctInputPackets), 30, "the Stop counts what the user sent");
  t.ok(busyStop !== undefined && busyStop.at - busyUp > 150_000, "the busy session lasted past its first minute");
  t.equal(lab.daemon.sessions.count, 0);
});
