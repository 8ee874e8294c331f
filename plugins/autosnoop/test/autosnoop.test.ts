// autosnoop against an in-memory API: intercept=IP:PORT as l2tpns 2.4.1 reads it.
import t from "tap";
import { PLUGIN_RET_OK, TEST_TUNNEL, memoryApi, testSession, type RadiusAccountParams, type SessionView } from "@lnsd/plugin-api";
import { inetAddr } from "@lnsd/plugin-api";
import { plugin } from "../src/index.js";

function respond(pair: string, session: SessionView = testSession(4)): ReturnType<typeof memoryApi> {
  const api = memoryApi([session]);
  const at = pair.indexOf("=");
  const r = plugin.hooks.radius_response?.({ tunnel: TEST_TUNNEL, session, key: pair.slice(0, at), value: pair.slice(at + 1) }, api);
  if (r !== PLUGIN_RET_OK) throw new Error("radius_response did not answer OK");
  return api;
}

const snooped = testSession(4, { snoop: { address: "192.0.2.1", port: 9 } });

void t.test("intercept=IP:PORT", (t) => {
  const api = respond("intercept=192.0.2.9:5000");
  t.same(api.actions, [{ action: "snoop", id: 4, args: ["192.0.2.9", 5000] }]);
  t.match(api.logs, [{ level: "info", message: "Intercepting user to 192.0.2.9:5000", sessionId: 4 }]);
  t.same(respond("intercept=10.1:70000").actions, [{ action: "snoop", id: 4, args: ["10.0.0.1", 4464] }], "inet_addr's short forms; the port is 16 bits");
  t.same(respond("throttle=yes").actions, [], "other keys are not ours");
  t.end();
});

void t.test("an intercept pair without a usable target stops any interception", (t) => {
  t.same(respond("intercept=yes").actions, [], "nothing to stop");
  const bad = respond("intercept=yes", snooped);
  t.same(bad.actions, [{ action: "snoop", id: 4, args: ["0.0.0.0", 0] }]);
  t.match(bad.logs, [{ message: "Not Intercepting user (reply string should be intercept=ip:port)" }]);
  t.same(respond("intercept=nonsense:5000", snooped).actions, [{ action: "snoop", id: 4, args: ["0.0.0.0", 0] }], "a bad address is 0");
  t.same(respond("intercept=192.0.2.9:", snooped).actions, [{ action: "snoop", id: 4, args: ["0.0.0.0", 0] }], "no port");
  t.match(respond("intercept=:5000").logs, [{ message: "Intercepting user to 0.0.0.0:5000" }]);
  t.end();
});

void t.test("inet_addr", (t) => {
  t.equal(inetAddr("192.0.2.1"), 0xc0000201);
  t.equal(inetAddr("0x7f.1"), 0x7f000001);
  t.equal(inetAddr("010.0.0.1"), 0x08000001);
  t.equal(inetAddr("256.0.0.1"), 0xffffffff);
  t.equal(inetAddr("1.2.3.4.5"), 0xffffffff);
  t.equal(inetAddr(""), 0xffffffff);
  t.end();
});

void t.test("CoA reset and accounting", (t) => {
  const api = memoryApi([snooped]);
  t.equal(plugin.hooks.radius_reset?.({ tunnel: TEST_TUNNEL, session: snooped }, api), PLUGIN_RET_OK);
  t.same(api.actions, [{ action: "snoop", id: 4, args: ["0.0.0.0", 0] }]);
  const p: RadiusAccountParams = { tunnel: TEST_TUNNEL, session: snooped, statusType: "start", attributes: [] };
  t.equal(plugin.hooks.radius_account?.(p, api), PLUGIN_RET_OK);
  t.equal(p.attributes.length, 1);
  const v = Buffer.from(p.attributes[0]?.value ?? []);
  t.equal(p.attributes[0]?.type, 26);
  t.equal(v.readUInt32BE(0), 9);
  t.equal(v.subarray(6).toString(), "intercept=192.0.2.1:9");
  const none: RadiusAccountParams = { tunnel: TEST_TUNNEL, session: testSession(4), statusType: "stop", attributes: [] };
  t.equal(plugin.hooks.radius_account?.(none, api), PLUGIN_RET_OK);
  t.same(none.attributes, []);
  t.end();
});
