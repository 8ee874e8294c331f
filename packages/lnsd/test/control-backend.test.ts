// nsctl against bin/lnsd: Debian's /usr/sbin/nsctl (l2tpns 2.4.1) and lnsd's own client, on the
// control port a startup-config puts on a loopback address of this test's own.
import t from "tap";
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { NSCTL_RES_ERR, NSCTL_RES_OK } from "@lnsd/control";
import { NO_PLUGIN_HOST, lnsdControlBackend, pluginNameProblem } from "../src/index.js";

const here = dirname(fileURLToPath(import.meta.url));
const lnsdBin = join(here, "..", "src", "bin", "lnsd.js");
const ourNsctl = join(here, "..", "..", "..", "control", "dist", "src", "bin", "nsctl.js");
const DEBIAN_NSCTL = "/usr/sbin/nsctl";

function run(file: string, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const [cmd, argv] = file.endsWith(".js") ? [process.execPath, [file, ...args]] : [file, [...args]];
  return new Promise((resolve) => {
    execFile(cmd, argv, { env: { PATH: process.env.PATH ?? "/usr/bin:/bin" }, timeout: 10_000 }, (e, stdout, stderr) => {
      resolve({ code: e === null ? 0 : typeof e.code === "number" ? e.code : -1, stdout, stderr });
    });
  });
}

void t.test("the backend without a plugin host", async (t) => {
  const b = lnsdControlBackend();
  t.same(await b.loadPlugin("garden"), { code: NSCTL_RES_ERR, lines: [`error loading plugin garden: ${NO_PLUGIN_HOST}`] });
  t.same(await b.unloadPlugin("garden"), { code: NSCTL_RES_ERR, lines: [`plugin not loaded: garden (${NO_PLUGIN_HOST})`] });
  t.same(await b.help(), []);
  t.same(await b.control(["show_sessions"]), { code: NSCTL_RES_ERR, lines: ["unhandled action"] });
  for (const bad of ["../../tmp/evil", "/etc/passwd", "a/b", "", ".hidden", "x".repeat(65)]) t.ok(pluginNameProblem(bad), `'${bad}' refused`);
  for (const good of ["garden", "autothrottle", "my-plugin_2"]) t.equal(pluginNameProblem(good), undefined);
  const host = lnsdControlBackend({
    load: () => ({ code: NSCTL_RES_OK, lines: [] }),
    unload: () => ({ code: NSCTL_RES_OK, lines: [] }),
    helpLines: () => ["snoop USER|SID IP PORT  Intercept user traffic"],
    control: (args) => ({ code: NSCTL_RES_OK, lines: [args.join(",")] }),
  });
  t.same(await host.loadPlugin("../x"), { code: NSCTL_RES_ERR, lines: ["error loading plugin: '../x' is not a plugin name"] }, "checked before the host sees it");
  t.same(await host.help(), ["snoop USER|SID IP PORT  Intercept user traffic"]);
  t.same(await host.control(["snoop", "bob"]), { code: NSCTL_RES_OK, lines: ["snoop,bob"] });
});

void t.test("Debian's nsctl and lnsd's nsctl against bin/lnsd; the log file reopened on SIGHUP", async (t) => {
  const addr = "127.0.34.11";
  const dir = mkdtempSync(join(tmpdir(), "lnsd-nsctl-"));
  writeFileSync(join(dir, "startup-config"), `set debug 3\nset bind_address ${addr}\nset disable_tun yes\nset nsctl_address ${addr}\nset log_file "${join(dir, "lnsd.log")}"\n`);
  const proc = spawn(process.execPath, [lnsdBin, "-c", join(dir, "startup-config")], { stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } });
  let out = "";
  proc.stdout.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => proc.on("exit", () => { r(); }));
  t.teardown(async () => {
    proc.kill("SIGTERM");
    await exited;
  });
  const log = (name = "lnsd.log"): string => {
    try {
      return readFileSync(join(dir, name), "utf8");
    } catch {
      return "";
    }
  };
  for (let i = 0; i < 100 && !log().includes("nsctl control port"); i++) await new Promise((r) => setTimeout(r, 50));
  t.match(log(), `nsctl control port on ${addr}:1702`);
  const clients = [{ name: "lnsd", file: ourNsctl }, ...(existsSync(DEBIAN_NSCTL) ? [{ name: "debian", file: DEBIAN_NSCTL }] : [])];
  t.equal(clients.length, 2, "Debian's nsctl is installed (package l2tpns)");
  for (const c of clients) {
    const h = ["-h", addr];
    const help = await run(c.file, [...h, "help"]);
    t.equal(help.code, 0, `${c.name} help`);
    t.match(help.stdout, /load_plugin[^\n]*\n[^\n]*unload_plugin[^\n]*\n[^\n]*help/);
    // A plugin that is nowhere to be found: the host says where it looked (plugins.test.ts loads real ones).
    const load = await run(c.file, [...h, "load_plugin", "no-such-plugin"]);
    t.same([load.code, load.stdout], [1, ""], `${c.name} load_plugin`);
    t.match(load.stderr, /^error loading plugin no-such-plugin: no no-such-plugin\.js, no-such-plugin\.mjs or no-such-plugin\/ in /);
    const unload = await run(c.file, [...h, "unload_plugin", "no-such-plugin"]);
    t.same([unload.code, unload.stderr], [1, "plugin not loaded: no-such-plugin\n"], `${c.name} unload_plugin`);
    const unknown = await run(c.file, [...h, "show_throttle", "bob"]);
    t.same([unknown.code, unknown.stderr], [1, "unhandled action\n"], `${c.name} unknown command`);
  }
  t.match(log(), /nsctl from 127\.0\.0\.1: load_plugin no-such-plugin: error: error loading plugin no-such-plugin/);
  t.match(log(), /nsctl from 127\.0\.0\.1: show_throttle bob: error: unhandled action/);
  // logrotate: move the file, HUP; the next lines go to a new file of the old name.
  renameSync(join(dir, "lnsd.log"), join(dir, "lnsd.log.1"));
  proc.kill("SIGHUP");
  for (let i = 0; i < 100 && !log().includes("reloaded"); i++) await new Promise((r) => setTimeout(r, 50));
  await run(ourNsctl, ["-h", addr, "after_rotation"]);
  t.match(log(), /reloaded[^]*nsctl from 127\.0\.0\.1: after_rotation: error: unhandled action/);
  t.notMatch(log("lnsd.log.1"), /after_rotation/);
  t.equal(out, "", "nothing on stderr: every line in the log file");
});
