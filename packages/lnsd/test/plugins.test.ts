// Plugins in bin/lnsd, driven as an operator would: Debian's nsctl loads stripdomain, a subscriber
// logs in as user@realm and chap-secrets is asked about "user", sessionctl (from the
// startup-config) drops the session by user, a plugin that throws is logged and the daemon carries
// on, and unloading takes the hooks away.
import t from "tap";
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { LacSimulator, pppLogins } from "@lnsd/testkit";
import { configValue, defaultPluginDirs, INSTALLED_PLUGIN_DIR, PLUGIN_DIR_ENV } from "../src/index.js";

const here = dirname(fileURLToPath(import.meta.url));
const lnsdBin = join(here, "..", "src", "bin", "lnsd.js");
/** The checkout's plugins/ (packages/lnsd/dist/test -> the repository root). */
const checkoutPlugins = join(here, "..", "..", "..", "..", "plugins");
const DEBIAN_NSCTL = "/usr/sbin/nsctl";

function nsctl(addr: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(DEBIAN_NSCTL, ["-h", addr, ...args], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin" }, timeout: 10_000 }, (e, stdout, stderr) => {
      resolve({ code: e === null ? 0 : typeof e.code === "number" ? e.code : -1, stdout, stderr });
    });
  });
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  for (let waited = 0; waited < ms && !cond(); waited += 50) await new Promise((r) => setTimeout(r, 50));
  return cond();
}

void t.test("the plugin directories", (t) => {
  t.same(defaultPluginDirs({ [PLUGIN_DIR_ENV]: "/a:/b::" }), ["/a", "/b"], "$LNSD_PLUGIN_DIR, ':'-separated");
  t.same(defaultPluginDirs({}), [checkoutPlugins, INSTALLED_PLUGIN_DIR], "a checkout's plugins/, then the installed directory");
  t.end();
});

void t.test("getConfig reads the startup-config's settings by name", (t) => {
  const settings = { bind_address: "192.0.2.1", debug: 3, allow_duplicate_users: true, radius_authtypes: ["chap", "pap"] };
  const read = (name: string): unknown => configValue(settings, name);
  t.equal(read("bind_address"), "192.0.2.1");
  t.equal(read("debug"), 3);
  t.equal(read("allow_duplicate_users"), true);
  t.same(read("radius_authtypes"), ["chap", "pap"]);
  t.equal(read("no_such_setting"), undefined);
  t.equal(read("toString"), undefined, "not the object's prototype");
  t.end();
});

void t.test("stripdomain and sessionctl through Debian's nsctl against bin/lnsd", { skip: existsSync(DEBIAN_NSCTL) ? false : "Debian's nsctl (package l2tpns) is not installed" }, async (t) => {
  const addr = "127.0.36.1";
  const dir = mkdtempSync(join(tmpdir(), "lnsd-plugins-"));
  // A plugin directory of the test's own, after the checkout's: a plugin that throws.
  const extra = join(dir, "plugins");
  mkdirSync(extra);
  writeFileSync(
    join(extra, "boom.mjs"),
    `export const plugin = { apiVersion: 1, name: "boom", controlHelp: ["  boom                                        Throw"], hooks: {\n` +
      `  pre_auth: () => { throw new Error("pre_auth went bang"); },\n` +
      `  control: (p) => { if (p.argv[0] === "boom") throw new Error("control went bang"); return 1; },\n} };\n`,
  );
  writeFileSync(
    join(dir, "startup-config"),
    [
      "set debug 3",
      `set bind_address ${addr}`,
      "set disable_tun yes",
      `set nsctl_address ${addr}`,
      `set log_file "${join(dir, "lnsd.log")}"`,
      `set radius_authtypes "chap"`,
      `load plugin "sessionctl"`,
      "",
    ].join("\n"),
  );
  writeFileSync(join(dir, "ip_pool"), "198.51.100.0/24\n");
  // Only "user": user@realm gets in when its realm is stripped.
  writeFileSync(join(dir, "chap-secrets"), `user * "right pass" *\n`);
  const proc = spawn(process.execPath, [lnsdBin, "-c", join(dir, "startup-config")], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", [PLUGIN_DIR_ENV]: `${checkoutPlugins}:${extra}` },
  });
  let out = "";
  proc.stdout.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => proc.on("exit", () => { r(); }));
  const lacs: LacSimulator[] = [];
  t.teardown(async () => {
    proc.kill("SIGQUIT");
    await exited;
    for (const l of lacs) l.close();
  });
  const log = (): string => {
    try {
      return readFileSync(join(dir, "lnsd.log"), "utf8");
    } catch {
      return "";
    }
  };
  t.ok(await until(() => log().includes("nsctl control port"), 10_000), `lnsd started:\n${log()}${out}`);
  t.match(log(), /Loaded plugin sessionctl \(control\)/, "sessionctl from the startup-config");

  const login = async (username: string): Promise<ReturnType<typeof pppLogins>> => {
    const logins = pppLogins({ username, password: "right pass", authProtocols: ["chap"] });
    const lac = new LacSimulator({ lns: { address: addr, port: 1701 }, bindAddress: "127.0.0.1", tunnels: 1, sessionsPerTunnel: 1, calls: logins.handler });
    lacs.push(lac);
    await lac.start();
    await until(() => logins.stats.online.size === 1 || logins.stats.failures.size > 0 || lac.report().sessions.down > 0, 10_000);
    return logins;
  };

  const help = await nsctl(addr, "help");
  t.equal(help.code, 0);
  t.match(help.stdout, /drop USER\|SID \[REASON\]\s+Shutdown user session\n.*kill USER\|SID \[REASON\]\s+Kill user session/);

  t.equal((await login("user@realm")).stats.online.size, 0, "user@realm is refused while no plugin strips the realm");

  const load = await nsctl(addr, "load_plugin", "stripdomain");
  t.same([load.code, load.stderr], [0, ""], "nsctl load_plugin stripdomain");
  t.same((await nsctl(addr, "load_plugin", "stripdomain")).stderr, "plugin already loaded\n");
  const missing = await nsctl(addr, "load_plugin", "nosuch");
  t.equal(missing.code, 1);
  t.match(missing.stderr, /^error loading plugin nosuch: no nosuch\.js, nosuch\.mjs or nosuch\/ in .*plugins/);
  t.match((await nsctl(addr, "load_plugin", "../etc")).stderr, "error loading plugin: '../etc' is not a plugin name");

  const user = await login("user@realm");
  t.equal(user.stats.online.size, 1, "user@realm is online: chap-secrets matched 'user'");
  t.match(log(), /plugin stripdomain: session \d+: Stripping off trailing domain name "@realm"/);

  const drop = await nsctl(addr, "drop", "user");
  t.same([drop.code, drop.stderr], [0, ""], "nsctl drop user");
  t.ok(await until(() => user.stats.online.size === 0, 10_000), "the session was dropped");
  t.match(log(), /plugin sessionctl: dropping session \d+ \(user\): Requested by administrator\./);
  t.match(log(), /user offline: admin-reset/);
  t.same((await nsctl(addr, "drop", "user")).stderr, "session not found\n");
  t.same((await nsctl(addr, "drop")).stderr, "requires username or session id and optional reason\n");
  t.same((await nsctl(addr, "no_such_command")).stderr, "unhandled action\n");

  // A plugin that throws: logged and counted, taken as ERROR; logins and nsctl carry on.
  t.same((await nsctl(addr, "load_plugin", "boom")).code, 0, "a plugin from the second directory");
  t.match((await nsctl(addr, "help")).stdout, /Kill user session\n.*boom\s+Throw/, "help lines in load order");
  t.same((await nsctl(addr, "boom")).stderr, "error returned by plugin\n");
  const again = await login("user@realm");
  t.equal(again.stats.online.size, 1, "pre_auth threw, and the login went on (l2tpns: only continue_auth refuses)");
  t.match(log(), /plugin boom: pre_auth threw: pre_auth went bang: taken as ERROR/);
  t.match(log(), /plugin boom: control threw: control went bang/);
  const kill = await nsctl(addr, "kill", "user", "testing kill");
  t.same([kill.code, kill.stderr], [0, ""], "nsctl kill user REASON");
  t.ok(await until(() => again.stats.online.size === 0, 10_000), "the session was killed");
  t.match(log(), /plugin sessionctl: killing session \d+ \(user\): testing kill/);

  for (const name of ["boom", "stripdomain"]) t.same((await nsctl(addr, "unload_plugin", name)).code, 0, `unload_plugin ${name}`);
  t.same((await nsctl(addr, "unload_plugin", "stripdomain")).stderr, "plugin not loaded: stripdomain\n");
  t.match(log(), /Removed plugin stripdomain/);
  t.equal((await login("user@realm")).stats.online.size, 0, "unloaded: the realm is no longer stripped");
  t.equal((await login("user")).stats.online.size, 1, "and the daemon carries on");
  t.equal(out, "", "nothing on stderr");
});
