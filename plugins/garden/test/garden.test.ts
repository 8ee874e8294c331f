// garden against an in-memory API: a refused login let in and gardened, nsctl garden / ungarden
// with l2tpns 2.4.1's answers, and the plugin's own state cleaned as sessions go.
import t from "tap";
import { PLUGIN_RET_NOTMASTER, PLUGIN_RET_OK, PLUGIN_RET_STOP, PPP_PAP, TEST_TUNNEL, memoryApi, testSession, type ControlParams, type MemoryApi, type PostAuthParams, type SessionView } from "@lnsd/plugin-api";
import { plugin } from "../src/index.js";

const h = plugin.hooks;

function control(argv: string[], api: MemoryApi, iamMaster = true): { r: number; p: ControlParams } {
  if (h.control === undefined) throw new Error("no control hook");
  const p: ControlParams = { iamMaster, argv, response: undefined, additional: undefined };
  const r = h.control(p, api);
  if (typeof r !== "number") throw new Error("control answered a promise");
  return { r, p };
}

function postAuth(session: SessionView, api: MemoryApi, authAllowed: boolean): PostAuthParams {
  const p: PostAuthParams = { tunnel: TEST_TUNNEL, session, username: session.username ?? "", authAllowed, protocol: PPP_PAP };
  if (h.post_auth?.(p, api) !== PLUGIN_RET_OK) throw new Error("post_auth did not answer OK");
  return p;
}

t.afterEach(() => plugin.done?.());

void t.test("a refused login is let in and held in the garden", (t) => {
  const coming = testSession(3, { username: "mallory", online: false });
  const api = memoryApi([coming]);
  const p = postAuth(coming, api, false);
  t.equal(p.authAllowed, true, "the reject is turned round");
  t.same(api.actions, [{ action: "garden", id: 3, args: [true] }], "gardened before it carries traffic");
  t.match(api.logs, [{ message: "Walled Garden allowing login", sessionId: 3 }]);

  // It comes up already gardened: nothing more to do.
  const up = testSession(3, { username: "mallory", address: "198.51.100.3", gardened: true });
  t.equal(h.new_session?.({ tunnel: TEST_TUNNEL, session: up }, api), PLUGIN_RET_OK);
  t.equal(api.actions.length, 1);
  t.match(api.logs.at(-1), { level: "warn", message: "Garden user mallory (198.51.100.3)" });
  // Had the host not applied it, new_session gardens it.
  t.equal(h.new_session?.({ tunnel: TEST_TUNNEL, session: { ...up, gardened: false } }, api), PLUGIN_RET_OK);
  t.same(api.actions.at(-1), { action: "garden", id: 3, args: [true] });

  t.equal(h.kill_session?.({ tunnel: TEST_TUNNEL, session: up }, api), PLUGIN_RET_OK);
  t.match(api.logs.at(-1), { message: "Un-Garden user mallory (198.51.100.3)" });
  const logs = api.logs.length;
  t.equal(h.kill_session?.({ tunnel: TEST_TUNNEL, session: up }, api), PLUGIN_RET_OK, "a second kill_session");
  t.equal(api.logs.length, logs, "finds nothing left to clean");
  t.end();
});

void t.test("an allowed login is left alone; marks do not outlive their session", (t) => {
  const api = memoryApi([testSession(4, { username: "alice", online: false })]);
  const p = postAuth(testSession(4, { username: "alice", online: false }), api, true);
  t.equal(p.authAllowed, true);
  t.same(api.actions, []);
  t.equal(h.new_session?.({ tunnel: TEST_TUNNEL, session: testSession(4, { username: "alice" }) }, api), PLUGIN_RET_OK);
  t.same(api.actions, [], "not gardened");

  // A refused login whose session never came up (no kill_session), then another on the same id.
  const failed = testSession(6, { username: "x", online: false, acctSessionId: "A" });
  api.sessionList.push(failed);
  postAuth(failed, api, false);
  t.same(api.actions, [{ action: "garden", id: 6, args: [true] }]);
  const bob = testSession(6, { username: "bob", acctSessionId: "B" });
  api.sessionList.splice(api.sessionList.indexOf(failed), 1, bob);
  t.equal(h.new_session?.({ tunnel: TEST_TUNNEL, session: bob }, api), PLUGIN_RET_OK);
  t.equal(api.actions.length, 1, "bob, a later session with the id, is not gardened");
  t.equal(h.timer?.({ timeNow: 0 }, api), PLUGIN_RET_OK);
  t.equal(h.new_session?.({ tunnel: TEST_TUNNEL, session: failed }, api), PLUGIN_RET_OK);
  t.equal(api.actions.length, 1, "the timer forgot the stale mark");
  t.end();
});

void t.test("nsctl garden and ungarden", (t) => {
  const api = memoryApi([
    testSession(5, { username: "alice", address: "198.51.100.5" }),
    testSession(7, { username: "bob", address: "198.51.100.7", gardened: true }),
    testSession(8, { username: "bob", address: "198.51.100.8" }),
    testSession(9, { username: "carol", online: false }),
  ]);
  t.match(control(["garden", "alice"], api), { r: PLUGIN_RET_STOP, p: { response: "ok", additional: undefined } });
  t.match(control(["ungarden", "7"], api), { r: PLUGIN_RET_STOP, p: { response: "ok", additional: undefined } });
  t.same(api.actions, [
    { action: "garden", id: 5, args: [true] },
    { action: "kill", id: 8, args: ["Duplicate session when user released from walled garden"] },
    { action: "garden", id: 7, args: [false] },
    { action: "radius", id: 7, args: ["start"] },
  ]);
  t.match(api.logs, [{ message: "Garden user alice (198.51.100.5)" }, { message: "Un-Garden user bob (198.51.100.7)" }]);

  const renamed = control(["ungarden", "7", "robert"], api);
  t.match(renamed, { p: { response: "ok" } }, "released");
  t.match(api.actions.filter((a) => a.action === "rename"), [{ id: 7, args: ["robert"] }], "and known as robert from now on");
  t.equal(api.findSession(7)?.username, "robert");
  t.end();
});

void t.test("nsctl garden and ungarden: l2tpns's errors", (t) => {
  const api = memoryApi([testSession(5, { username: "alice" }), testSession(7, { username: "bob", gardened: true }), testSession(9, { username: "carol", online: false })]);
  const error = (argv: string[]) => control(argv, api).p.additional;
  t.equal(error(["garden"]), "requires username or session id");
  t.equal(error(["garden", "alice", "x"]), "requires username or session id");
  t.equal(error(["ungarden"]), "requires session id and optional username");
  t.equal(error(["ungarden", "7", "bob", "x"]), "requires session id and optional username");
  t.equal(error(["ungarden", "bob"]), "session not found", "ungarden takes a session id only");
  t.equal(error(["garden", "nobody"]), "session not found");
  t.equal(error(["garden", "carol"]), "session not found", "not online");
  t.equal(error(["garden", "7"]), "already in walled garden");
  t.equal(error(["ungarden", "5"]), "not in walled garden");
  t.same(api.actions, []);
  t.match(control(["throttle", "alice"], api), { r: PLUGIN_RET_OK, p: { response: undefined } }, "not ours");
  t.equal(control(["garden", "alice"], api, false).r, PLUGIN_RET_NOTMASTER);
  t.same(plugin.controlHelp, [
    "  garden USER|SID                             Put user into the walled garden",
    "  ungarden SID [USER]                         Release session from garden",
  ]);
  t.end();
});
