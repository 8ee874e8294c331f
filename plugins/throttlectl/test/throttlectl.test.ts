// throttlectl against an in-memory API: l2tpns 2.4.1's command forms and answers.
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

const sessions = () => [
  testSession(5, { username: "alice" }),
  testSession(9, { username: "bob", throttle: { in: 64, out: 128 } }),
  testSession(11, { username: "carol", online: false }),
];

void t.test("throttle: the rate forms", (t) => {
  const api = memoryApi(sessions(), { throttle_speed: 256 });
  t.match(run(["throttle", "alice"], api), { r: PLUGIN_RET_STOP, p: { response: "ok", additional: undefined } });
  t.match(run(["throttle", "5", "1000"], api), { p: { response: "ok" } });
  t.match(run(["throttle", "alice", "in", "100", "out", "200"], api), { p: { response: "ok" } });
  t.match(run(["throttle", "alice", "out", "300"], api), { p: { response: "ok" } }, "in is left alone");
  t.match(run(["throttle", "bob", "i", "32"], api), { p: { response: "ok" } }, "abbreviated; out kept at 128");
  t.same(api.actions, [
    { action: "throttle", id: 5, args: [256, 256] },
    { action: "throttle", id: 5, args: [1000, 1000] },
    { action: "throttle", id: 5, args: [100, 200] },
    { action: "throttle", id: 5, args: [0, 300] },
    { action: "throttle", id: 9, args: [32, 128] },
  ]);
  t.end();
});

void t.test("throttle and unthrottle: l2tpns's errors", (t) => {
  const api = memoryApi(sessions(), { throttle_speed: 0 });
  const error = (argv: string[]) => run(argv, api).p.additional;
  t.equal(error(["throttle"]), "requires username or session id and optional rate(s)");
  t.equal(error(["throttle", "a", "in", "1", "out", "2", "x"]), "requires username or session id and optional rate(s)");
  t.equal(error(["unthrottle"]), "requires username or session id");
  t.equal(error(["unthrottle", "bob", "now"]), "requires username or session id");
  t.equal(error(["throttle", "nobody", "10"]), "session not found");
  t.equal(error(["throttle", "42", "10"]), "session not found");
  t.equal(error(["throttle", "carol", "10"]), "session not found", "not online");
  t.equal(error(["throttle", "alice"]), "invalid rate", "throttle_speed 0");
  t.equal(error(["throttle", "alice", "fast"]), "invalid rate");
  t.equal(error(["throttle", "alice", "up", "10"]), "invalid rate");
  t.equal(error(["throttle", "alice", "in", "0"]), "invalid rate");
  t.equal(error(["throttle", "bob", "64", "128"]), "invalid rate", "64 is no direction");
  t.equal(error(["throttle", "bob", "in", "64", "out", "128"]), "already throttled");
  t.equal(error(["unthrottle", "alice"]), "not throttled");
  t.same(api.actions, []);
  t.match(run(["unthrottle", "9"], api), { r: PLUGIN_RET_STOP, p: { response: "ok", additional: undefined } });
  t.same(api.actions, [{ action: "throttle", id: 9, args: [0, 0] }]);
  t.end();
});

void t.test("other commands, the cluster, help", (t) => {
  t.match(run(["snoop", "alice"]), { r: PLUGIN_RET_OK, p: { response: undefined } }, "not ours");
  t.equal(run(["throttle", "alice"], memoryApi(), false).r, PLUGIN_RET_NOTMASTER);
  t.same(plugin.controlHelp, [
    "  throttle USER|SID [RATE|[in|out] RATE ...]  Throttle user traffic",
    "  unthrottle USER|SID                         Stop throttling user",
  ]);
  t.end();
});
