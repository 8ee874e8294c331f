// Subscribers log in through bin/lnsd: the test LAC speaks PPP (LCP, CHAP or PAP, IPCP) inside
// its calls; lnsd checks them against chap-secrets and gives each an address from ip_pool.
import t from "tap";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { LacSimulator, pppLogins } from "@lnsd/testkit";

const entry = join(dirname(fileURLToPath(import.meta.url)), "..", "src", "bin", "lnsd.js");

async function lnsd(addr: string, authtypes: string, extra = ""): Promise<{ stop: () => Promise<void>; output: () => string; dir: string; hup: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), "lnsd-login-"));
  writeFileSync(join(dir, "startup-config"), `set debug 3\nset bind_address ${addr}\nset radius_authtypes "${authtypes}"\nset primary_dns 192.0.2.53\nset disable_tun yes\n${extra}`);
  writeFileSync(join(dir, "ip_pool"), "198.51.100.0/24\n");
  // Any user with the right password; one user with a fixed address.
  writeFileSync(join(dir, "chap-secrets"), `fixed * fixedpass 198.51.100.200\n* * "right pass" *\n`);
  const proc = spawn(process.execPath, [entry, "-c", join(dir, "startup-config")], { stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } });
  let out = "";
  proc.stdout.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => proc.on("exit", () => { r(); }));
  for (let i = 0; i < 100 && !out.includes("listening for L2TP"); i++) await new Promise((r) => setTimeout(r, 50));
  if (!out.includes("listening for L2TP")) throw new Error(`lnsd did not start:\n${out}`);
  return {
    dir,
    hup: () => proc.kill("SIGHUP"),
    output: () => out,
    stop: async () => {
      proc.kill("SIGQUIT");
      await exited;
    },
  };
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  for (let waited = 0; waited < ms && !cond(); waited += 50) await new Promise((r) => setTimeout(r, 50));
  return cond();
}

for (const auth of ["chap", "pap"] as const) {
  void t.test(`200 subscribers log in with ${auth.toUpperCase()}, each with an address of its own`, async (t) => {
    const addr = auth === "chap" ? "127.0.32.1" : "127.0.32.2";
    const server = await lnsd(addr, auth);
    const logins = pppLogins({ username: (ti, si) => `user-${ti}-${si}`, password: "right pass", authProtocols: [auth] });
    const lac = new LacSimulator({ lns: { address: addr, port: 1701 }, bindAddress: "127.0.0.1", tunnels: 4, sessionsPerTunnel: 50, calls: logins.handler });
    await lac.start();
    t.ok(await lac.waitForAllUp(10_000), "L2TP up");
    t.ok(await until(() => logins.stats.online.size === 200, 15_000), `all 200 online (got ${logins.stats.online.size})`);
    const addresses = [...logins.stats.online.values()].map((i) => i.address);
    t.equal(new Set(addresses).size, 200, "distinct addresses");
    t.ok(addresses.every((a) => a.startsWith("198.51.100.")), "from ip_pool");
    t.ok([...logins.stats.online.values()].every((i) => i.primaryDns === "192.0.2.53"), "primary_dns given in IPCP");
    // lnsd first, so that the LAC is still there to acknowledge its StopCCNs.
    await server.stop();
    lac.close();
    t.match(server.output(), /online, address 198\.51\.100\.\d+ \((chap|pap)\)/);
  });
}

void t.test("a wrong password is refused; a fixed address from chap-secrets is given", async (t) => {
  const addr = "127.0.32.3";
  const server = await lnsd(addr, "chap,pap");
  const wrong = pppLogins({ username: "someone", password: "wrong" });
  const lac = new LacSimulator({ lns: { address: addr, port: 1701 }, bindAddress: "127.0.0.1", tunnels: 1, sessionsPerTunnel: 3, calls: wrong.handler });
  await lac.start();
  t.ok(await until(() => (wrong.stats.failures.get("auth-failed") ?? 0) + lac.report().sessions.down >= 3, 10_000), "all three refused");
  t.equal(wrong.stats.online.size, 0);
  await lac.stopAll();
  lac.close();
  const fixed = pppLogins({ username: "fixed", password: "fixedpass" });
  const lac2 = new LacSimulator({ lns: { address: addr, port: 1701 }, bindAddress: "127.0.0.1", tunnels: 1, sessionsPerTunnel: 1, calls: fixed.handler });
  await lac2.start();
  t.ok(await until(() => fixed.stats.online.size === 1, 10_000));
  t.same([...fixed.stats.online.values()].map((i) => i.address), ["198.51.100.200"]);
  await server.stop();
  lac2.close();
  t.match(server.output(), /offline: auth-failed/);
});

void t.test("SIGHUP reads chap-secrets again: a user added to the file can log in", async (t) => {
  const addr = "127.0.32.4";
  const server = await lnsd(addr, "chap");
  const first = pppLogins({ username: "late", password: "late pass" });
  const lac = new LacSimulator({ lns: { address: addr, port: 1701 }, bindAddress: "127.0.0.1", tunnels: 1, sessionsPerTunnel: 1, calls: first.handler });
  await lac.start();
  t.ok(await until(() => (first.stats.failures.size > 0 || lac.report().sessions.down > 0), 10_000), "refused before the file has the user");
  await lac.stopAll();
  lac.close();
  writeFileSync(join(server.dir, "chap-secrets"), `late * "late pass" *\n`);
  server.hup();
  t.ok(await until(() => server.output().includes("reloaded"), 5000), "reloaded");
  const second = pppLogins({ username: "late", password: "late pass" });
  const lac2 = new LacSimulator({ lns: { address: addr, port: 1701 }, bindAddress: "127.0.0.1", tunnels: 1, sessionsPerTunnel: 1, calls: second.handler });
  await lac2.start();
  t.ok(await until(() => second.stats.online.size === 1, 10_000), "online after the reload");
  await server.stop();
  lac2.close();
});

void t.test("allow_duplicate_users no: a second login ends the first; guest_account may log in twice", async (t) => {
  const addr = "127.0.32.5";
  const server = await lnsd(addr, "chap", `set guest_account "guest"\n`);
  const first = pppLogins({ username: "dup", password: "right pass" });
  const lac1 = new LacSimulator({ lns: { address: addr, port: 1701 }, bindAddress: "127.0.0.1", tunnels: 1, sessionsPerTunnel: 1, calls: first.handler });
  await lac1.start();
  t.ok(await until(() => first.stats.online.size === 1, 10_000), "first login online");
  const second = pppLogins({ username: "dup", password: "right pass" });
  const lac2 = new LacSimulator({ lns: { address: addr, port: 1701 }, bindAddress: "127.0.0.1", tunnels: 1, sessionsPerTunnel: 1, calls: second.handler });
  await lac2.start();
  t.ok(await until(() => second.stats.online.size === 1 && first.stats.online.size === 0, 10_000), "the second login is online and the first was ended");
  t.match(server.output(), /duplicate login of dup/);
  const guests = pppLogins({ username: "guest", password: "right pass" });
  const lac3 = new LacSimulator({ lns: { address: addr, port: 1701 }, bindAddress: "127.0.0.1", tunnels: 1, sessionsPerTunnel: 2, calls: guests.handler });
  await lac3.start();
  t.ok(await until(() => guests.stats.online.size === 2, 10_000), "two sessions of the guest account");
  await server.stop();
  for (const l of [lac1, lac2, lac3]) l.close();
});
