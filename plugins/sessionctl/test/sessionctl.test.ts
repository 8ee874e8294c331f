// sessionctl against an in-memory API: l2tpns's answers for each way of naming a session.
import t from "tap";
import { PLUGIN_RET_NOTMASTER, PLUGIN_RET_OK, PLUGIN_RET_STOP, memoryApi, testSession, type ControlParams } from "@lnsd/plugin-api";
import { plugin } from "../src/index.js";

function run(argv: string[], api = memoryApi(), iamMaster = true): { r: number; p: ControlParams } {
  const control = plugin.hooks.control;
  if (control === undefined) throw new Error("no control hook");
  const p: ControlParams = { iamMaster, argv, response: undefined, additional: undefined };
  const r = control(p, api);
  if (typeof r !== "number") throw new Error("control answered a promise");
  return { r, p };
}

void t.test("drop and kill by user and by session id", (t) => {
  const api = memoryApi([testSession(5, { username: "alice", address: "198.51.100.5" }), testSession(9, { username: "bob" }), testSession(11, { username: "carol", online: false })]);
  t.match(run(["drop", "alice"], api), { r: PLUGIN_RET_STOP, p: { response: "ok", additional: undefined } });
  t.match(run(["kill", "9", "too much traffic"], api), { r: PLUGIN_RET_STOP, p: { response: "ok" } });
  t.same(api.actions, [
    { action: "drop", id: 5, args: ["Requested by administrator."] },
    { action: "kill", id: 9, args: ["too much traffic"] },
  ]);
  t.match(run(["drop", "nobody"], api), { r: PLUGIN_RET_STOP, p: { response: "error", additional: "session not found" } });
  t.match(run(["drop", "42"], api), { r: PLUGIN_RET_STOP, p: { response: "error", additional: "session not found" } });
  t.match(run(["drop", "carol"], api), { p: { additional: "session not found" } }, "not online: not found, as l2tpns (no address)");
  t.match(run(["drop", "0"], api), { p: { additional: "session not found" } }, "0 is a username, as strtol gives 0");
  t.equal(api.actions.length, 2);
  t.end();
});

void t.test("usage, other commands, and the cluster", (t) => {
  t.match(run(["drop"]), { r: PLUGIN_RET_STOP, p: { response: "error", additional: "requires username or session id and optional reason" } });
  t.match(run(["kill", "a", "b", "c"]), { p: { additional: "requires username or session id and optional reason" } });
  t.match(run(["throttle", "alice"]), { r: PLUGIN_RET_OK, p: { response: undefined } }, "not ours: the next plugin may take it");
  t.equal(run(["drop", "alice"], memoryApi(), false).r, PLUGIN_RET_NOTMASTER);
  t.same(plugin.controlHelp, ["  drop USER|SID [REASON]                      Shutdown user session", "  kill USER|SID [REASON]                      Kill user session"]);
  t.end();
});
