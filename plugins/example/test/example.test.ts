// The worked example of docs/plugins.md, driven through its hooks with an in-memory API.
import t from "tap";
import { PLUGIN_RET_OK, PLUGIN_RET_STOP, PPP_PAP, TEST_TUNNEL, memoryApi, testSession, type ControlParams } from "@lnsd/plugin-api";
import { plugin } from "../src/index.js";

void t.test("counts sessions, refuses empty usernames, answers 'logins'", async (t) => {
  const api = memoryApi();
  const h = plugin.hooks;
  if (h.pre_auth === undefined || h.new_session === undefined || h.kill_session === undefined || h.control === undefined) throw new Error("hooks missing");
  await plugin.init?.(api);
  const session = testSession(3, { username: "alice" });
  const pre = { tunnel: TEST_TUNNEL, session, username: "", password: "x", protocol: PPP_PAP, continueAuth: true } as const;
  const refused = { ...pre };
  t.equal(await h.pre_auth(refused, api), PLUGIN_RET_STOP);
  t.equal(refused.continueAuth, false);
  t.equal(await h.pre_auth({ ...pre, username: "alice" }, api), PLUGIN_RET_OK);
  t.equal(await h.new_session({ tunnel: TEST_TUNNEL, session }, api), PLUGIN_RET_OK);
  t.equal(await h.kill_session({ tunnel: TEST_TUNNEL, session }, api), PLUGIN_RET_OK);
  t.equal(await h.kill_session({ tunnel: TEST_TUNNEL, session }, api), PLUGIN_RET_OK, "a second kill_session is not counted");
  t.match(api.logs.at(-1), { level: "info", message: /^alice was online for \d+ s/, sessionId: 3 });
  const p: ControlParams = { iamMaster: true, argv: ["logins"], response: undefined, additional: undefined };
  t.equal(await h.control(p, api), PLUGIN_RET_STOP);
  t.same(p.additional, ["up 1", "down 1", "refused 1", "online 0"]);
  const other: ControlParams = { iamMaster: true, argv: ["drop", "alice"], response: undefined, additional: undefined };
  t.equal(await h.control(other, api), PLUGIN_RET_OK, "other commands are left to other plugins");
  t.equal(other.response, undefined);
});
