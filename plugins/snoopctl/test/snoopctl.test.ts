// snoopctl against an in-memory API: l2tpns 2.4.1's command forms and answers.
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
  testSession(9, { username: "bob", snoop: { address: "192.0.2.7", port: 5000 } }),
  testSession(11, { username: "carol", online: false }),
];

void t.test("snoop and unsnoop", (t) => {
  const api = memoryApi(sessions());
  t.match(run(["snoop", "alice", "192.0.2.7", "5000"], api), { r: PLUGIN_RET_STOP, p: { response: "ok", additional: undefined } });
  t.match(run(["snoop", "9", "192.0.2.8", "5000"], api), { p: { response: "ok" } }, "a new target");
  t.match(run(["unsnoop", "bob"], api), { p: { response: "ok" } });
  t.same(api.actions, [
    { action: "snoop", id: 5, args: ["192.0.2.7", 5000] },
    { action: "snoop", id: 9, args: ["192.0.2.8", 5000] },
    { action: "snoop", id: 9, args: ["0.0.0.0", 0] },
  ]);
  t.end();
});

void t.test("l2tpns's errors", (t) => {
  const api = memoryApi(sessions());
  const error = (argv: string[]) => run(argv, api).p.additional;
  t.equal(error(["snoop", "alice"]), "requires username or session id and host, port");
  t.equal(error(["snoop", "alice", "192.0.2.7", "5000", "x"]), "requires username or session id and host, port");
  t.equal(error(["unsnoop"]), "requires username or session id");
  t.equal(error(["snoop", "nobody", "192.0.2.7", "5000"]), "session not found");
  t.equal(error(["snoop", "carol", "192.0.2.7", "5000"]), "session not found", "not online");
  t.equal(error(["snoop", "alice", "host.example", "5000"]), "invalid ip address");
  t.equal(error(["snoop", "alice", "0.0.0.0", "5000"]), "invalid ip address");
  t.equal(error(["snoop", "alice", "255.255.255.255", "5000"]), "invalid ip address");
  t.equal(error(["snoop", "alice", "192.0.2.7", "http"]), "invalid port");
  t.equal(error(["snoop", "alice", "192.0.2.7", "65536"]), "invalid port", "16 bits: 65536 is 0");
  t.equal(error(["snoop", "bob", "192.0.2.7", "5000"]), "already intercepted");
  t.equal(error(["unsnoop", "alice"]), "not intercepted");
  t.same(api.actions, []);
  t.end();
});

void t.test("other commands, the cluster, help", (t) => {
  t.match(run(["throttle", "alice"]), { r: PLUGIN_RET_OK, p: { response: undefined } }, "not ours");
  t.equal(run(["unsnoop", "alice"], memoryApi(), false).r, PLUGIN_RET_NOTMASTER);
  t.same(plugin.controlHelp, [
    "  snoop USER|SID IP PORT                      Intercept user traffic",
    "  unsnoop USER|SID                            Stop intercepting user",
  ]);
  t.end();
});
