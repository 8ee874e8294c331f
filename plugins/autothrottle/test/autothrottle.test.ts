// autothrottle against an in-memory API: each AVPair form l2tpns 2.4.1 reads, and those it ignores.
import t from "tap";
import { PLUGIN_RET_OK, TEST_TUNNEL, memoryApi, testSession, type RadiusAccountParams, type SessionView } from "@lnsd/plugin-api";
import { plugin } from "../src/index.js";

function respond(pair: string, api = memoryApi([testSession(7)], { throttle_speed: 256 }), session: SessionView = testSession(7)): ReturnType<typeof memoryApi> {
  const hook = plugin.hooks.radius_response;
  if (hook === undefined) throw new Error("no radius_response hook");
  const at = pair.indexOf("=");
  const r = hook({ tunnel: TEST_TUNNEL, session, key: pair.slice(0, at), value: pair.slice(at + 1) }, api);
  if (r !== PLUGIN_RET_OK) throw new Error("radius_response did not answer OK");
  return api;
}

void t.test("throttle=yes|no|N", (t) => {
  t.same(respond("throttle=yes").actions, [{ action: "throttle", id: 7, args: [256, 256] }], "yes: throttle_speed both ways");
  t.same(respond("throttle=no").actions, [{ action: "throttle", id: 7, args: [0, 0] }], "no: unthrottled");
  t.same(respond("throttle=1024").actions, [{ action: "throttle", id: 7, args: [1024, 1024] }], "a number: that rate");
  t.same(respond("throttle=0").actions, [{ action: "throttle", id: 7, args: [0, 0] }]);
  t.match(respond("throttle=yes").logs, [{ level: "info", message: "Throttling user to 256kb/s", sessionId: 7 }]);
  t.match(respond("throttle=no").logs, [{ level: "info", message: "Not throttling user" }]);
  t.same(respond("throttle=maybe").actions, [], "anything else: ignored");
  t.same(respond("throttle=10k").actions, []);
  t.same(respond("throttle=-5").actions, []);
  const noSpeed = respond("throttle=yes", memoryApi([testSession(7)]));
  t.same(noSpeed.actions, []);
  t.match(noSpeed.logs, [{ level: "error", message: "Not throttling user (can't get throttle_speed)" }]);
  t.end();
});

void t.test("lcp:interface-config=service-policy input|output N: the policy name is the rate", (t) => {
  t.same(respond("lcp:interface-config=service-policy input 512").actions, [{ action: "throttle", id: 7, args: [512, 0] }]);
  t.same(respond("lcp:interface-config#2=service-policy output 2048").actions, [{ action: "throttle", id: 7, args: [0, 2048] }], "a #N suffix on the key");
  t.same(respond("lcp:interface-config=serv  o   64").actions, [{ action: "throttle", id: 7, args: [0, 64] }], "abbreviated, extra spaces");
  t.match(respond("lcp:interface-config=service-policy input 512").logs, [{ message: "Throttling user input to 512kb/s" }]);
  // The other direction is kept.
  const s = testSession(7, { throttle: { in: 100, out: 200 } });
  t.same(respond("lcp:interface-config=service-policy input 300", memoryApi([s]), s).actions, [{ action: "throttle", id: 7, args: [300, 200] }]);
  t.same(respond("lcp:interface-config=service-policy output 0", memoryApi([s]), s).actions, [{ action: "throttle", id: 7, args: [100, 0] }]);

  t.same(respond("lcp:interface-config=ip address 10.0.0.1 255.255.255.0").actions, [], "not a service-policy: ignored");
  t.same(respond("lcp:interface-config=ser input 512").actions, [], "under 4 letters is not service-policy");
  const badType = respond("lcp:interface-config=service-policy sideways 512");
  t.same(badType.actions, []);
  t.match(badType.logs, [{ message: "Not throttling user (invalid type sideways)" }]);
  const badRate = respond("lcp:interface-config=service-policy input gold");
  t.same(badRate.actions, []);
  t.match(badRate.logs, [{ message: "Not throttling user (invalid rate gold)" }]);
  t.same(respond("lcp:interface-config=service-policy input").actions, [], "no name");
  t.same(respond("intercept=192.0.2.9:5000").actions, [], "other keys are not ours");
  t.end();
});

void t.test("a CoA reset lifts the throttle; accounting records carry the rates", (t) => {
  const api = memoryApi([testSession(7)]);
  t.equal(plugin.hooks.radius_reset?.({ tunnel: TEST_TUNNEL, session: testSession(7) }, api), PLUGIN_RET_OK);
  t.same(api.actions, [{ action: "throttle", id: 7, args: [0, 0] }]);

  const account = (session: SessionView): string[] => {
    const p: RadiusAccountParams = { tunnel: TEST_TUNNEL, session, statusType: "interim", attributes: [] };
    t.equal(plugin.hooks.radius_account?.(p, api), PLUGIN_RET_OK);
    return p.attributes.map((a) => {
      const v = Buffer.from(a.value);
      t.equal(a.type, 26);
      t.equal(v.readUInt32BE(0), 9, "Cisco");
      t.equal(v[4], 1, "Cisco-AVPair");
      t.equal(v[5], v.length - 4);
      return v.subarray(6).toString();
    });
  };
  t.same(account(testSession(7, { throttle: { in: 64, out: 512 } })), ["lcp:interface-config#1=service-policy input 64", "lcp:interface-config#2=service-policy output 512"]);
  t.same(account(testSession(7, { throttle: { in: 0, out: 512 } })), ["lcp:interface-config#1=service-policy output 512"]);
  t.same(account(testSession(7)), []);
  t.end();
});
