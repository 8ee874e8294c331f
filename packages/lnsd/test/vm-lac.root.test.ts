// A real Linux client against lnsd: Debian's xl2tpd and pppd in a small VM (shared/tools/vm-lac)
// dial lnsd running in a network namespace of the test's own, log in with CHAP and then with PAP,
// get an address through IPCP, bring IPV6CP up, and ping across the session both ways; then once
// more with a tunnel secret (tunnel authentication and hidden AVPs against xl2tpd). The CHAP run
// also pings an "internet" host in a namespace beyond lnsd's (which forwards), and is pinged from it.
import t from "tap";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const entry = join(here, "..", "src", "bin", "lnsd.js");
// The repository's checkout sits beside shared/ (CI: a clone of main with shared/ beside it).
const vmLac = join(here, "..", "..", "..", "..", "..", "shared", "tools", "vm-lac", "run.sh");
const ns = `lnsdvm${process.pid}`;
const inetNs = `lnsdvmi${process.pid}`;
const INET = "203.0.113.2";
const root = process.getuid?.() === 0;
const skip = !root ? "needs root (CI runs as root): namespaces, TUN and the VM's tap" : !existsSync(vmLac) ? `no ${vmLac}` : false;

void t.test("xl2tpd + pppd in a VM log in to lnsd (CHAP, then PAP) and ping through it", { skip, timeout: 600_000 }, async (t) => {
  execFileSync("ip", ["netns", "add", ns]);
  t.teardown(() => { execFileSync("ip", ["netns", "del", ns]); });
  execFileSync("ip", ["-n", ns, "link", "set", "lo", "up"]);
  // The internet host: a veth away from lnsd's namespace, routing the pool back to it.
  execFileSync("ip", ["netns", "add", inetNs]);
  t.teardown(() => { execFileSync("ip", ["netns", "del", inetNs]); });
  execFileSync("ip", ["netns", "exec", ns, "sysctl", "-qw", "net.ipv4.ip_forward=1"]);
  execFileSync("ip", ["-n", ns, "link", "add", "eth-inet", "type", "veth", "peer", "name", "eth0", "netns", inetNs]);
  for (const [n, dev, address] of [[ns, "eth-inet", "203.0.113.1/30"], [inetNs, "eth0", `${INET}/30`]] as const) {
    execFileSync("ip", ["-n", n, "addr", "add", address, "dev", dev]);
    execFileSync("ip", ["-n", n, "link", "set", dev, "up"]);
  }
  execFileSync("ip", ["-n", inetNs, "route", "add", "198.51.100.0/28", "via", "203.0.113.1"]);
  const dir = mkdtempSync(join(tmpdir(), "lnsd-vmlac-"));
  writeFileSync(
    join(dir, "startup-config"),
    `set debug 3\nset bind_address 0.0.0.0\nset tundevicename lnsdvm0\nset iftun_address 192.0.2.1\nset radius_authtypes "chap,pap"\nset ipv6_prefix 2001:db8:1::\nset primary_dns 192.0.2.53\n`,
  );
  writeFileSync(join(dir, "ip_pool"), "198.51.100.0/28\n");
  writeFileSync(join(dir, "chap-secrets"), `vmuser * "vm.pass" *\n`);
  const lnsd = spawn("ip", ["netns", "exec", ns, process.execPath, entry, "-c", join(dir, "startup-config")], { stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } });
  let out = "";
  lnsd.stdout.on("data", (d: Buffer) => (out += d.toString()));
  lnsd.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => lnsd.on("exit", () => { r(); }));
  t.teardown(async () => {
    if (lnsd.exitCode === null) lnsd.kill("SIGKILL");
    await exited;
  });
  for (let i = 0; i < 100 && !out.includes("listening for L2TP"); i++) await new Promise((r) => setTimeout(r, 50));
  t.match(out, /listening for L2TP/);

  const runs: [string, string[]][] = [
    ["chap", ["--ping", INET, "--host-ping-ns", inetNs]],
    ["pap", ["--pppd-opt", "refuse-chap", "--pppd-opt", "refuse-mschap", "--pppd-opt", "refuse-mschap-v2", "--pppd-opt", "refuse-eap"]],
    // Then with a tunnel secret (set by a SIGHUP reload): tunnel authentication both ways and
    // lnsd's hidden AVPs, against xl2tpd.
    ["chap", ["--tunnel-secret", "vm.secret"]],
  ];
  for (const [auth, extra] of runs) {
    if (extra.includes("--tunnel-secret")) {
      writeFileSync(join(dir, "startup-config"), `set debug 3\nset bind_address 0.0.0.0\nset tundevicename lnsdvm0\nset iftun_address 192.0.2.1\nset radius_authtypes "chap,pap"\nset ipv6_prefix 2001:db8:1::\nset primary_dns 192.0.2.53\nset l2tp_secret "vm.secret"\n`);
      lnsd.kill("SIGHUP");
      for (let i = 0; i < 100 && !out.includes("reloaded"); i++) await new Promise((r) => setTimeout(r, 50));
      t.match(out, /reloaded/, "the tunnel secret is set by a reload");
    }
    // run.sh builds (and caches) the guest on first use; it says PASS or FAIL on its last line.
    // Asynchronously, so that lnsd's log keeps being read meanwhile.
    const r = await new Promise<{ status: number | null; log: string }>((resolve) => {
      const vm = spawn(vmLac, ["--netns", ns, "--user", "vmuser", "--password", "vm.pass", "--require-ipv6", "--ping", "192.0.2.1", ...extra, "10.231.255.1"], { stdio: ["ignore", "pipe", "pipe"], timeout: 300_000 });
      let log = "";
      vm.stdout.on("data", (d: Buffer) => (log += d.toString()));
      vm.stderr.on("data", (d: Buffer) => (log += d.toString()));
      vm.on("exit", (status) => { resolve({ status, log }); });
    });
    const log = r.log;
    t.equal(r.status, 0, `${auth}: vm-lac passes${r.status === 0 ? "" : `\n${log.slice(-3000)}`}`);
    t.match(log, /guest result: PASS ipv4=198\.51\.100\.\d+ peer=192\.0\.2\.1 ping=ok ipv6cp=up/, `${auth}: address by IPCP, IPV6CP up, ping across`);
    t.match(log, /extra ping 192\.0\.2\.1 ok/);
    t.match(log, /host->guest ping: ok/, `${auth}: lnsd's side reaches the client`);
    if (extra.includes(INET)) {
      t.match(log, /extra ping 203\.0\.113\.2 ok/, `${auth}: the client reaches the internet host through lnsd`);
      t.match(log, new RegExp(`host \\(${inetNs}\\) -> guest ppp0 198\\.51\\.100\\.\\d+ ping: ok`), `${auth}: the internet host reaches the client through lnsd`);
    }
    t.match(out, new RegExp(`vmuser online, address 198\\.51\\.100\\.\\d+ \\(${auth}\\)`), `${auth}: lnsd saw a ${auth.toUpperCase()} login`);
  }
  lnsd.kill("SIGQUIT");
  await exited;
});
