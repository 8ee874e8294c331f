// bin/lnsd as an operator runs it: a config file, the test LAC over real UDP on loopback, and the
// signals (HUP with a bad file keeps the running config, TERM keeps sessions, QUIT tears down).
import t from "tap";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { StopCcnResultCode } from "@lnsd/wire";
import { LacSimulator } from "@lnsd/testkit";

// The compiled entry that bin/lnsd runs (tap's process tracking cannot load the extensionless bin/ file).
const bin = join(dirname(fileURLToPath(import.meta.url)), "..", "src", "bin", "lnsd.js");

interface Running {
  readonly proc: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

async function startLnsd(config: string): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), "lnsd-daemon-"));
  const file = join(dir, "startup-config");
  writeFileSync(file, config);
  // A clean environment: tap's loaders (NODE_OPTIONS and friends) are not for the daemon.
  const proc = spawn(process.execPath, [bin, "-c", file], { stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } });
  let out = "";
  proc.stdout.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => { resolve(code); }));
  for (let i = 0; i < 100 && !out.includes("listening for L2TP"); i++) await new Promise((r) => setTimeout(r, 50));
  if (!out.includes("listening for L2TP")) throw new Error(`lnsd did not start:\n${out}`);
  return { proc, output: () => out, exited };
}

// Each test its own loopback address, so that nothing else on 1701 interferes.
const config = (addr: string, extra = ""): string => `set debug 3\nset bind_address ${addr}\nset l2tp_secret "daemon-test"\nset disable_tun yes\n${extra}`;

void t.test("sessions from the test LAC; SIGHUP with a bad file keeps running; SIGQUIT tears down", async (t) => {
  const addr = "127.0.31.1";
  const lnsd = await startLnsd(config(addr));
  const lac = new LacSimulator({ lns: { address: addr, port: 1701 }, bindAddress: "127.0.0.1", tunnels: 4, sessionsPerTunnel: 25, secret: "daemon-test" });
  await lac.start();
  t.ok(await lac.waitForAllUp(10_000), "100 sessions up");
  t.equal(lac.report().sessions.established, 100);

  // A reload with a broken file: the daemon says why and keeps going with what it has.
  const file = lnsd.proc.spawnargs[3] ?? "";
  writeFileSync(file, config(addr, "set l2tp_mtu -5\n"));
  lnsd.proc.kill("SIGHUP");
  for (let i = 0; i < 40 && !lnsd.output().includes("reload refused"); i++) await new Promise((r) => setTimeout(r, 50));
  t.match(lnsd.output(), /reload refused, running config kept: .*startup-config:5: l2tp_mtu: '-5' is out of range \(0 to 65535\)/);
  t.equal(lnsd.proc.exitCode, null, "still running");
  t.equal(lac.report().sessions.established, 100, "sessions untouched");

  lnsd.proc.kill("SIGQUIT");
  t.equal(await lnsd.exited, 0, "exits after tearing down");
  for (let i = 0; i < 40 && lac.report().tunnels.established > 0; i++) await new Promise((r) => setTimeout(r, 50));
  t.equal(lac.report().tunnels.established, 0, "every tunnel was stopped");
  const ends = [...lac.node.tunnels.values()].map((x) => x.end?.resultCode);
  t.ok(ends.length === 0 || ends.every((c) => c === StopCcnResultCode.ShuttingDown), "StopCCN result 6, shutting down");
  t.equal(lac.report().sessions.established, 0);
  lac.close();
});

void t.test("SIGTERM stops lnsd without tearing sessions down", async (t) => {
  const addr = "127.0.31.2";
  const lnsd = await startLnsd(config(addr));
  const lac = new LacSimulator({ lns: { address: addr, port: 1701 }, bindAddress: "127.0.0.1", tunnels: 2, sessionsPerTunnel: 5, secret: "daemon-test" });
  await lac.start();
  t.ok(await lac.waitForAllUp(10_000));
  lnsd.proc.kill("SIGTERM");
  t.equal(await lnsd.exited, 0);
  await new Promise((r) => setTimeout(r, 300));
  t.equal(lac.report().sessions.established, 10, "no CDN or StopCCN was sent");
  lac.close();
});

void t.test("SIGHUP: a setting the reload cannot apply is logged with its name; one it applies is not", async (t) => {
  const addr = "127.0.31.3";
  const lnsd = await startLnsd(config(addr, `set radius_secret "first"\nset echo_timeout 10\n`));
  t.teardown(async () => {
    if (lnsd.proc.exitCode === null) lnsd.proc.kill("SIGKILL");
    await lnsd.exited;
  });
  const file = lnsd.proc.spawnargs[3] ?? "";
  writeFileSync(file, config(addr, `set radius_secret "second"\nset echo_timeout 20\nset nsctl_port 1799\n`));
  lnsd.proc.kill("SIGHUP");
  for (let i = 0; i < 40 && !lnsd.output().includes("reloaded"); i++) await new Promise((r) => setTimeout(r, 50));
  t.match(lnsd.output(), /reloaded /);
  t.match(lnsd.output(), /radius_secret changed: takes effect when lnsd is restarted/);
  t.match(lnsd.output(), /nsctl_port changed: takes effect when lnsd is restarted/);
  t.notMatch(lnsd.output(), /echo_timeout changed/, "echo_timeout is applied by the reload");
  t.equal(lnsd.proc.exitCode, null, "still running");
});
