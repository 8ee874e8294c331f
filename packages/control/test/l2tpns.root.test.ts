// lnsd's nsctl against a real l2tpns 2.4.1 (Debian's /usr/sbin/l2tpns), run in a network namespace
// of the test's own (it binds UDP 1702 and 1701 on every address, and needs an eth0).
import t from "tap";
import { execFile, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ourNsctl = join(dirname(fileURLToPath(import.meta.url)), "..", "src", "bin", "nsctl.js");
const ns = `lnsdctl${process.pid}`;
const root = process.getuid?.() === 0;
const env = { PATH: process.env.PATH ?? "/usr/bin:/bin" };
const skip = !root ? "needs root: a network namespace" : !existsSync("/usr/sbin/l2tpns") ? "needs Debian's l2tpns" : false;

function nsctl(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile("ip", ["netns", "exec", ns, process.execPath, ourNsctl, ...args], { env, timeout: 10_000 }, (e, stdout, stderr) => {
      resolve({ code: e === null ? 0 : typeof e.code === "number" ? e.code : -1, stdout, stderr });
    });
  });
}

void t.test("lnsd's nsctl against l2tpns", { skip }, async (t) => {
  execFileSync("ip", ["netns", "add", ns]);
  t.teardown(() => { execFileSync("ip", ["netns", "del", ns]); });
  execFileSync("ip", ["-n", ns, "link", "set", "lo", "up"]);
  execFileSync("ip", ["-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", "v0"]);
  execFileSync("ip", ["-n", ns, "addr", "add", "10.34.0.1/24", "dev", "eth0"]);
  execFileSync("ip", ["-n", ns, "link", "set", "eth0", "up"]);
  execFileSync("ip", ["-n", ns, "link", "set", "v0", "up"]);
  const dir = mkdtempSync(join(tmpdir(), "lnsd-l2tpns-"));
  writeFileSync(join(dir, "startup-config"), `set debug 2\nset log_file "${join(dir, "log")}"\nset bind_address 10.34.0.1\nset primary_radius 10.34.0.2\nset radius_secret "x"\n`);
  // In a process group of its own: l2tpns signals its whole group (kill(0, SIGTERM)) when it
  // leaves its main loop, which in the test runner's group ends the runner and every test with it.
  const l2tpns = spawn("ip", ["netns", "exec", ns, "/usr/sbin/l2tpns", "-c", join(dir, "startup-config")], { stdio: "ignore", env, detached: true });
  const exited = new Promise<void>((r) => l2tpns.on("exit", () => { r(); }));
  t.teardown(async () => {
    // A throwaway in its own namespace: no graceful shutdown needed (SIGTERM waits for a cluster).
    // Its group goes with it (the CLI children it forks).
    try {
      if (l2tpns.pid !== undefined) process.kill(-l2tpns.pid, "SIGKILL");
    } catch {
      // Gone already.
    }
    await exited;
  });
  let help = await nsctl(["help"]);
  for (let i = 0; i < 50 && help.code !== 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
    help = await nsctl(["-t", "1", "help"]);
  }
  t.equal(help.code, 0, "l2tpns answers help");
  t.match(help.stdout, /^Available commands:\n {2}load_plugin PLUGIN/);
  t.same(await nsctl(["load_plugin", "throttlectl"]), { code: 0, stdout: "", stderr: "" });
  t.same(await nsctl(["load_plugin", "throttlectl"]), { code: 1, stdout: "", stderr: "plugin already loaded\n" });
  t.match((await nsctl(["help"])).stdout, /throttle USER\|SID/, "the plugin's commands");
  // throttlectl wants the cluster master: its answer comes back all the same.
  t.match(await nsctl(["throttle", "nobody"]), { code: 1, stderr: /^must be run on master/ });
  t.same(await nsctl(["no_such_command"]), { code: 1, stdout: "", stderr: "unhandled action\n" });
  t.same(await nsctl(["unload_plugin", "throttlectl"]), { code: 0, stdout: "", stderr: "" });
  t.same(await nsctl(["unload_plugin", "throttlectl"]), { code: 1, stdout: "", stderr: "plugin not loaded\n" });
  t.same(await nsctl(["load_plugin"]), { code: 1, stdout: "", stderr: "name of plugin required\n" });
  t.same(await nsctl(["load_plugin", "no_such_plugin"]), { code: 1, stdout: "", stderr: "error loading plugin\n" });
});
