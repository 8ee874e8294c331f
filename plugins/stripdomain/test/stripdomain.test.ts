// stripdomain against an in-memory API: the realm goes, the rest of the name stays.
import t from "tap";
import { PLUGIN_RET_OK, PLUGIN_RET_STOP, PPP_CHAP, TEST_TUNNEL, memoryApi, testSession, type PreAuthParams } from "@lnsd/plugin-api";
import { plugin } from "../src/index.js";

function params(username: string, continueAuth = true): PreAuthParams {
  return { tunnel: TEST_TUNNEL, session: testSession(7), username, password: undefined, protocol: PPP_CHAP, continueAuth };
}

void t.test("pre_auth strips from the first @", (t) => {
  const api = memoryApi();
  const pre = plugin.hooks.pre_auth;
  if (pre === undefined) throw new Error("no pre_auth");
  for (const [given, want] of [["user@realm", "user"], ["a@b@c", "a"], ["plain", "plain"], ["@realm", ""]] as const) {
    const p = params(given);
    t.equal(pre(p, api), PLUGIN_RET_OK);
    t.equal(p.username, want, `${given} -> ${want}`);
  }
  t.same(api.logs[0], { level: "info", message: 'Stripping off trailing domain name "@realm"', sessionId: 7 });
  t.equal(api.logs.length, 3, "one line per name stripped");
  const refused = params("user@realm", false);
  t.equal(pre(refused, api), PLUGIN_RET_STOP, "a refused login ends the chain");
  t.equal(refused.username, "user@realm");
  t.end();
});
