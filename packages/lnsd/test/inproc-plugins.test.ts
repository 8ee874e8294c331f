// The plugin hooks around one session's life, in-process on a fake clock (docs/plugins.md "The
// hooks"): which hooks run, in which order, in load order across plugins, and that what
// radius_account pushes is in the encoded Start and Stop.
import t from "tap";
import { AcctStatusType, Attr, Code, textAttr, type RadiusPacket } from "@lnsd/radius";
import { ciscoAvPair, Inproc } from "./lib/inproc.js";

/** A single-file plugin that logs every session hook it gets and adds NAS-Port-Id to accounting. */
function recorder(name: string): string {
  const log = (hook: string, detail: string): string => `(p, api) => { api.log("info", "hook ${hook} " + ${detail}); return 1; }`;
  return `export const plugin = {
  apiVersion: 1,
  name: "${name}",
  hooks: {
    pre_auth: ${log("pre_auth", "p.username")},
    post_auth: ${log("post_auth", "p.authAllowed")},
    radius_response: ${log("radius_response", 'p.key + "=" + p.value')},
    new_session: ${log("new_session", "p.session.username")},
    new_session_master: ${log("new_session_master", "p.session.username")},
    radius_reset: ${log("radius_reset", "p.session.username")},
    kill_session: ${log("kill_session", "p.session.username")},
    radius_account: (p, api) => {
      api.log("info", "hook radius_account " + p.statusType);
      p.attributes.push({ type: ${Attr.NasPortId}, value: Buffer.from("${name}-" + p.statusType) });
      return 1;
    },
  },
};
`;
}

const PLUGIN_LINE = /plugin (order_[ab]): (?:session \d+: )?hook (.*)$/;

function hooks(lines: readonly string[]): string[] {
  const out: string[] = [];
  for (const l of lines) {
    const m = PLUGIN_LINE.exec(l);
    if (m !== null) out.push(`${m[1] ?? ""} ${m[2] ?? ""}`);
  }
  return out;
}

function nasPortIds(p: RadiusPacket | undefined): string[] {
  return (p?.attributes ?? []).filter((a) => a.type === Attr.NasPortId).map((a) => a.value.toString("utf8"));
}

/** Each plugin's line for one hook, first loaded first. */
const both = (hook: string): string[] => [`order_a ${hook}`, `order_b ${hook}`];

void t.test("a session's life: pre_auth, post_auth, radius_response, radius_account start, new_session, new_session_master, radius_reset on CoA, then radius_account stop and kill_session, each in load order", async (t) => {
  const lab = await Inproc.start({ plugins: ["order_a", "order_b"], pluginFiles: { order_a: recorder("order_a"), order_b: recorder("order_b") } });
  t.teardown(() => { lab.close(); });
  lab.radius.users.set("hooked", { password: "pw", reply: [ciscoAvPair("x=1")] });
  t.same(hooks(lab.lines), [], "nothing before a login");

  const lac = await lab.online("hooked", "pw");
  await lab.run(1000);
  t.same(hooks(lab.lines), [
    ...both("pre_auth hooked"),
    ...both("post_auth true"),
    ...both("radius_response x=1"),
    ...both("radius_account start"),
    ...both("new_session hooked"),
    ...both("new_session_master hooked"),
  ], "login: in this order");
  const start = lab.radius.records(AcctStatusType.Start);
  t.equal(start.length, 1, "one Start");
  t.same(nasPortIds(start[0]?.packet), ["order_a-start", "order_b-start"], "the Start carries what radius_account pushed");

  const before = hooks(lab.lines).length;
  lab.radius.sendDae(Code.CoaRequest, [textAttr(Attr.UserName, "hooked"), ciscoAvPair("y=2")]);
  t.ok(await lab.until(() => lab.radius.daeReplies.length === 1, 2000));
  await lab.run(500);
  t.same(hooks(lab.lines).slice(before), [...both("radius_reset hooked"), ...both("radius_response y=2")], "CoA: radius_reset, then radius_response");

  const beforeEnd = hooks(lab.lines).length;
  lab.radius.sendDae(Code.DisconnectRequest, [textAttr(Attr.UserName, "hooked")]);
  t.ok(await lab.until(() => lab.radius.records(AcctStatusType.Stop).length === 1, 2000), "a Stop");
  await lab.run(1000);
  t.equal(lac.logins.stats.online.size, 0);
  t.same(hooks(lab.lines).slice(beforeEnd), [...both("radius_account stop"), ...both("kill_session hooked")], "the end: radius_account stop, then kill_session");
  const stop = lab.radius.records(AcctStatusType.Stop);
  t.equal(stop.length, 1, "one Stop");
  t.same(nasPortIds(stop[0]?.packet), ["order_a-stop", "order_b-stop"], "the Stop carries what radius_account pushed");
});

void t.test("a refused login: pre_auth and post_auth only, no accounting", async (t) => {
  const lab = await Inproc.start({ plugins: ["order_a", "order_b"], pluginFiles: { order_a: recorder("order_a"), order_b: recorder("order_b") } });
  t.teardown(() => { lab.close(); });
  lab.radius.users.set("hooked", { password: "right", reply: [ciscoAvPair("x=1")] });
  const lac = await lab.lac("hooked", "wrong");
  t.ok(await lab.until(() => (lac.logins.stats.failures.size > 0 || lab.daemon.sessions.count === 0) && lab.radius.access.length > 0, 10_000), "refused");
  await lab.run(2000);
  t.equal(lac.logins.stats.online.size, 0);
  t.same(hooks(lab.lines), [...both("pre_auth hooked"), ...both("post_auth false")], "no radius_response, new_session, kill_session or radius_account");
  t.equal(lab.radius.accounting.length, 0, "no accounting");
});
