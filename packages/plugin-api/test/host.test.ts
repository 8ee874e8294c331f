// The plugin host with real modules written to a temporary plugin directory: load order, STOP and
// ERROR, plugins that throw or answer nonsense, every way a plugin can be refused, unload, counters.
import t from "tap";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  API_VERSION,
  PLUGIN_RET_ERROR,
  PLUGIN_RET_OK,
  PLUGIN_RET_STOP,
  PPP_PAP,
  PluginHost,
  TEST_TUNNEL,
  memoryApi,
  testSession,
  type MemoryApi,
  type PluginErrorCode,
  type PluginHostOptions,
  type PreAuthParams,
} from "../src/index.js";

/** A plugin directory holding the given files (NAME.js: source). */
function pluginDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "lnsd-plugins-"));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

/** A plugin module whose pre_auth appends its name to the username and answers `ret`. */
function appender(name: string, ret: string): string {
  return `export const plugin = { apiVersion: 1, name: ${JSON.stringify(name)}, hooks: { pre_auth: (p, api) => { api.log("info", "pre_auth"); p.username += ${JSON.stringify(name)}; return ${ret}; } } };\n`;
}

interface Harness {
  host: PluginHost;
  apis: Map<string, MemoryApi>;
  hostLog: string[];
  /** Which plugins' hooks ran, in order (from their api.log lines). */
  ran: () => string[];
}

function harness(dir: string, extra: Partial<PluginHostOptions> = {}): Harness {
  const apis = new Map<string, MemoryApi>();
  const order: string[] = [];
  const hostLog: string[] = [];
  const host = new PluginHost({
    pluginDirs: [dir],
    api: (name) => {
      const api = memoryApi([testSession(1, { username: "alice" })]);
      const log = api.log;
      const recording: MemoryApi = { ...api, log: (level, message, id) => { order.push(name); log(level, message, id); } };
      apis.set(name, recording);
      return recording;
    },
    log: (level, reason, message) => { hostLog.push(`${level} ${reason} ${message}`); },
    ...extra,
  });
  return { host, apis, hostLog, ran: () => order.splice(0) };
}

function preAuth(username = "u"): PreAuthParams {
  return { tunnel: TEST_TUNNEL, session: testSession(1), username, password: "pw", protocol: PPP_PAP, continueAuth: true };
}

void t.test("hooks run in load order, share their params, and STOP ends the chain", async (t) => {
  const dir = pluginDir({ "a.js": appender("a", "1"), "b.js": appender("b", "2"), "c.js": appender("c", "1") });
  const h = harness(dir);
  t.equal(h.host.has("pre_auth"), false);
  t.same(await h.host.call("pre_auth", preAuth()), { result: PLUGIN_RET_OK }, "no plugin: OK");
  for (const n of ["c", "a"]) t.match(await h.host.load(n), { ok: true, info: { name: n, hooks: ["pre_auth"], apiVersion: API_VERSION } });
  t.equal(h.host.has("pre_auth"), true);
  t.equal(h.host.has("timer"), false);
  const p = preAuth();
  t.same(await h.host.call("pre_auth", p), { result: PLUGIN_RET_OK });
  t.equal(p.username, "uca", "c then a, each seeing the other's change");
  t.same(h.ran(), ["c", "a"]);
  t.ok(await h.host.load("b"));
  const q = preAuth();
  t.same(await h.host.call("pre_auth", q), { result: PLUGIN_RET_STOP, by: "b" });
  t.equal(q.username, "ucab");
  t.same(h.ran(), ["c", "a", "b"]);
  t.same(h.host.names(), ["c", "a", "b"]);
  t.match(h.hostLog.join("\n"), /Loading plugin from .*c\.js\n.*Supports function "pre_auth"\n.*Loaded plugin c \(pre_auth\)/);
});

void t.test("ERROR ends the chain; a plugin that throws, rejects, times out or answers nonsense is counted as ERROR", async (t) => {
  const dir = pluginDir({
    "err.js": appender("err", "0"),
    "after.js": appender("after", "1"),
    "thrower.js": `export const plugin = { apiVersion: 1, name: "thrower", hooks: { pre_auth: () => { throw new Error("boom"); }, timer: async () => { throw new Error("async boom"); } } };\n`,
    "nonsense.js": `export const plugin = { apiVersion: 1, name: "nonsense", hooks: { pre_auth: () => undefined, timer: () => 7 } };\n`,
    "slow.js": `export const plugin = { apiVersion: 1, name: "slow", hooks: { timer: () => new Promise(() => {}), new_session: async () => 2 } };\n`,
  });
  const h = harness(dir, { callTimeoutMs: 100 });
  for (const n of ["err", "after"]) await h.host.load(n);
  t.same(await h.host.call("pre_auth", preAuth()), { result: PLUGIN_RET_ERROR, by: "err" });
  t.same(h.ran(), ["err"], "nothing after an ERROR");
  await h.host.unload("err");
  await h.host.load("thrower");
  t.same(await h.host.call("pre_auth", preAuth()), { result: PLUGIN_RET_ERROR, by: "thrower" }, "after, then thrower");
  t.same(h.ran(), ["after"]);
  await h.host.unload("after");
  t.same(await h.host.call("timer", { timeNow: 1 }), { result: PLUGIN_RET_ERROR, by: "thrower" }, "a rejected promise too");
  await h.host.unload("thrower");
  await h.host.load("nonsense");
  t.same(await h.host.call("pre_auth", preAuth()), { result: PLUGIN_RET_ERROR, by: "nonsense" }, "undefined is not OK");
  t.same(await h.host.call("timer", { timeNow: 1 }), { result: PLUGIN_RET_ERROR, by: "nonsense" });
  await h.host.unload("nonsense");
  await h.host.load("slow");
  const started = Date.now();
  t.same(await h.host.call("timer", { timeNow: 1 }), { result: PLUGIN_RET_ERROR, by: "slow" }, "a promise that never settles");
  t.ok(Date.now() - started < 2000);
  t.same(await h.host.call("new_session", { tunnel: TEST_TUNNEL, session: testSession(1) }), { result: PLUGIN_RET_STOP, by: "slow" }, "an async STOP");
  t.same(h.host.stats(), [{ name: "slow", hooks: { timer: { calls: 1, ok: 0, stop: 0, error: 1, notMaster: 0, thrown: 0, invalid: 0, timedOut: 1 }, new_session: { calls: 1, ok: 0, stop: 1, error: 0, notMaster: 0, thrown: 0, invalid: 0, timedOut: 0 } } }]);
  const lines = h.hostLog.join("\n");
  t.match(lines, /error plugin-thrower-pre_auth-threw plugin thrower: pre_auth threw: boom: taken as ERROR/);
  t.match(lines, /plugin thrower: timer threw: async boom/);
  t.match(lines, /plugin nonsense: pre_auth answered a undefined \(undefined\), not a plugin result/);
  t.match(lines, /plugin slow: timer did not answer within 100 ms/);
});

void t.test("counters per plugin and hook", async (t) => {
  const dir = pluginDir({ "mixed.js": `let n = 0; export const plugin = { apiVersion: 1, name: "mixed", hooks: { timer: () => [1, 2, 0, 3][n++ % 4] } };\n` });
  const h = harness(dir);
  await h.host.load("mixed");
  for (let i = 0; i < 8; i++) await h.host.call("timer", { timeNow: i });
  t.same(h.host.stats(), [{ name: "mixed", hooks: { timer: { calls: 8, ok: 2, stop: 2, error: 2, notMaster: 2, thrown: 0, invalid: 0, timedOut: 0 } } }]);
});

void t.test("each way a plugin is refused has its code and says what is wrong", async (t) => {
  const dir = pluginDir({
    "noexport.js": "export const something = 1;\n",
    "number.js": "export const plugin = 42;\n",
    "nohooks.js": `export const plugin = { apiVersion: 1, name: "nohooks" };\n`,
    "renamed.js": `export const plugin = { apiVersion: 1, name: "other", hooks: {} };\n`,
    "future.js": `export const plugin = { apiVersion: 2, name: "future", hooks: {} };\n`,
    "stringversion.js": `export const plugin = { apiVersion: "1", name: "stringversion", hooks: {} };\n`,
    "typo.js": `export const plugin = { apiVersion: 1, name: "typo", hooks: { preauth: () => 1 } };\n`,
    "strange.js": `export const plugin = { apiVersion: 1, name: "strange", hooks: { on_login: () => 1 } };\n`,
    "notfn.js": `export const plugin = { apiVersion: 1, name: "notfn", hooks: { timer: "every second" } };\n`,
    "packets.js": `export const plugin = { apiVersion: 1, name: "packets", hooks: { packet_rx: () => 1 } };\n`,
    "badhelp.js": `export const plugin = { apiVersion: 1, name: "badhelp", hooks: {}, controlHelp: "drop USER" };\n`,
    "badinit.js": `export const plugin = { apiVersion: 1, name: "badinit", hooks: {}, init: () => { throw new Error("no database"); } };\n`,
    "syntax.js": "export const plugin = {;\n",
    "missingdep.js": `import "no-such-package-anywhere"; export const plugin = {};\n`,
    "unbuilt/package.json": JSON.stringify({ name: "unbuilt", exports: { ".": { default: "./dist/src/index.js" } } }),
  });
  const h = harness(dir, { unsupportedHooks: { packet_rx: "packet hooks need the data plane's plugin support" } });
  const cases: [string, PluginErrorCode, RegExp][] = [
    ["../etc/passwd", "bad-name", /'\.\.\/etc\/passwd' is not a plugin name/],
    ["absent", "not-found", /no absent\.js, absent\.mjs or absent\/ in .*lnsd-plugins-/],
    ["noexport", "no-export", /noexport\.js exports no 'plugin'/],
    ["number", "bad-shape", /'plugin' is a number, not an object/],
    ["nohooks", "bad-shape", /plugin\.hooks is a undefined, not an object of hook functions/],
    ["renamed", "name-mismatch", /plugin\.name is 'other' but it was loaded as 'renamed'/],
    ["future", "api-version", /written for plugin API 2; this lnsd implements API 1/],
    ["stringversion", "api-version", /plugin\.apiVersion is a string, not an integer/],
    ["typo", "unknown-hook", /unknown hook 'preauth' \(did you mean 'pre_auth'\?\); hooks are pre_auth, post_auth, /],
    ["strange", "unknown-hook", /unknown hook 'on_login'; hooks are/],
    ["notfn", "hook-not-function", /hook 'timer' is a string, not a function/],
    ["packets", "unsupported-hook", /hook 'packet_rx' is not run by this lnsd: packet hooks need the data plane's plugin support/],
    ["badhelp", "bad-shape", /plugin\.controlHelp is a string, not an array of strings/],
    ["badinit", "init-failed", /init failed: no database/],
    ["syntax", "import-failed", /syntax\.js: Unexpected token/],
    ["missingdep", "import-failed", /no-such-package-anywhere/],
    ["unbuilt", "no-entry", /unbuilt has no dist\/src\/index\.js \(is the plugin built\?\)/],
  ];
  for (const [name, code, text] of cases) {
    const r = await h.host.load(name);
    t.match(r, { ok: false, code, message: text }, `${name}: ${code}`);
  }
  t.same(h.host.names(), [], "none of them loaded");
  t.equal(h.host.loadFailures, cases.length);
  t.match(h.hostLog.join("\n"), /error plugin-load Plugin load failed: typo: .*did you mean 'pre_auth'/);
});

void t.test("unload calls done, takes the hooks away, and a new load starts the plugin afresh", async (t) => {
  const dir = pluginDir({
    // ES modules (as a plugin package is): each load is a new module instance.
    "package.json": JSON.stringify({ type: "module" }),
    "counter.js": `let calls = 0;\nexport const plugin = { apiVersion: 1, name: "counter", controlHelp: ["  count   Count"], hooks: { control: (p, api) => { if (p.argv[0] !== "count") return 1; calls++; p.response = "ok"; p.additional = String(calls); return 2; } }, init: (api) => { api.log("info", "init"); }, done: () => { throw new Error("done went wrong"); } };\n`,
    "pkg/package.json": JSON.stringify({ name: "@x/pkg", exports: { ".": { types: "./x.d.ts", default: "./lib/main.js" } } }),
    "pkg/lib/main.js": `import { helper } from "./helper.js"; export const plugin = { apiVersion: 1, name: "pkg", controlHelp: ["  pkg     A packaged plugin"], hooks: { timer: helper } };\n`,
    "pkg/lib/helper.js": "export const helper = () => 1;\n",
  });
  const h = harness(dir);
  t.match(await h.host.load("counter"), { ok: true });
  t.same(h.ran(), ["counter"], "init ran, with its api");
  t.match(await h.host.load("counter"), { ok: false, code: "already-loaded", message: "plugin already loaded" });
  const count = async (): Promise<unknown> => {
    const p = { iamMaster: true, argv: ["count"], response: undefined, additional: undefined };
    await h.host.call("control", p);
    return p.additional;
  };
  t.equal(await count(), "1");
  t.equal(await count(), "2");
  t.match(await h.host.load("pkg"), { ok: true, info: { path: /pkg\/lib\/main\.js$/, hooks: ["timer"] } }, "a folder: its package.json's exports");
  t.same(h.host.helpLines(), ["  count   Count", "  pkg     A packaged plugin"]);
  t.same(await h.host.unload("counter"), { ok: true }, "done throwing does not stop the unload");
  t.match(h.hostLog.join("\n"), /plugin counter: done failed: done went wrong[^]*Removed plugin counter/);
  t.equal(h.host.has("control"), false);
  t.same(await h.host.unload("counter"), { ok: false, code: "not-loaded", message: "plugin not loaded" });
  t.same(h.host.names(), ["pkg"]);
  await h.host.load("counter");
  t.equal(await count(), "1", "a fresh module: its state starts again");
  t.same(h.host.names(), ["pkg", "counter"], "loaded again: last in the order");
  await h.host.unloadAll();
  t.same(h.host.names(), []);
});

void t.test("a plugin unloaded while a chain runs is skipped; loads of one name do not race", async (t) => {
  const dir = pluginDir({
    "first.js": `export const plugin = { apiVersion: 1, name: "first", hooks: { timer: (p, api) => new Promise((r) => setTimeout(() => r(1), 50)) } };\n`,
    "second.js": `export const plugin = { apiVersion: 1, name: "second", hooks: { timer: (p, api) => { api.log("info", "ran"); return 1; } } };\n`,
  });
  const h = harness(dir);
  const [a, b] = await Promise.all([h.host.load("first"), h.host.load("first")]);
  t.match([a, b], [{ ok: true }, { ok: false, code: "loading" }]);
  await h.host.load("second");
  const chain = h.host.call("timer", { timeNow: 0 });
  await h.host.unload("second");
  t.same(await chain, { result: PLUGIN_RET_OK });
  t.same(h.ran(), [], "second was gone by its turn");
});

void t.test("packet hooks run synchronously; a promise there is an invalid answer", async (t) => {
  const dir = pluginDir({
    "count.js": `let n = 0; export const plugin = { apiVersion: 1, name: "count", hooks: { packet_rx: (p) => (p.buf.length > 100 ? 2 : 1), packet_tx: async () => 1 } };\n`,
  });
  const h = harness(dir);
  await h.host.load("count");
  const params = (n: number): { tunnelId: number; sessionId: number; buf: Uint8Array } => ({ tunnelId: TEST_TUNNEL.id, sessionId: testSession(1).id, buf: new Uint8Array(n) });
  t.same(h.host.callPacket("packet_rx", params(60)), { result: PLUGIN_RET_OK });
  t.same(h.host.callPacket("packet_rx", params(1500)), { result: PLUGIN_RET_STOP, by: "count" });
  t.same(h.host.callPacket("packet_tx", params(60)), { result: PLUGIN_RET_ERROR, by: "count" });
  t.match(h.hostLog.join("\n"), /packet_tx answered an object/);
});
