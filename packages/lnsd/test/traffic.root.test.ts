// Traffic through lnsd, for real, in a network namespace of the test's own: lnsd with its TUN
// device, the test LAC logging subscribers in over PPP, each pinging lnsd's TUN address through
// its session; every reply must come back on the session that sent the request.
import t from "tap";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const entry = join(here, "..", "src", "bin", "lnsd.js");
const child = join(here, "lib", "ping-child.js");
const ns = `lnsdtr${process.pid}`;
const root = process.getuid?.() === 0;
const env = { PATH: process.env.PATH ?? "/usr/bin:/bin" };

void t.test("subscribers ping through their sessions and the TUN device", { skip: root ? false : "needs root (CI runs as root): TUN and network namespaces" }, async (t) => {
  execFileSync("ip", ["netns", "add", ns]);
  t.teardown(() => { execFileSync("ip", ["netns", "del", ns]); });
  execFileSync("ip", ["-n", ns, "link", "set", "lo", "up"]);
  // The IPv6 echo requests go to an address of the namespace's own; replies route to the TUN device.
  execFileSync("ip", ["-n", ns, "addr", "add", "2001:db8:ffff::1/128", "dev", "lo"]);
  const dir = mkdtempSync(join(tmpdir(), "lnsd-traffic-"));
  writeFileSync(join(dir, "startup-config"), `set debug 3\nset data_workers 2\nset bind_address 127.0.0.1\nset tundevicename lnsdtr0\nset iftun_address 192.0.2.1\nset radius_authtypes "chap"\nset ipv6_prefix 2001:db8:1:2::\nload plugin "pktlog"\n`);
  // A plugin with a packet hook: the data workers load it, and say so when it sees a packet.
  writeFileSync(join(dir, "pktlog.mjs"), `let seen = false;
let masterSessions = 0;
export const plugin = { apiVersion: 1, name: "pktlog", hooks: {
  packet_rx: (p, api) => {
    if (!seen) { seen = true; api.log("info", "first packet from session " + p.sessionId + " in tunnel " + p.tunnelId + ", " + p.buf.length + " bytes"); }
    return 1;
  },
  become_master: (p, api) => { api.log("info", "master since " + p.timeNow); return 1; },
  new_session_master: (p, api) => { if (++masterSessions === 5) api.log("info", "5 new sessions on the master"); return 1; },
} };
`);
  writeFileSync(join(dir, "ip_pool"), "198.51.100.0/28\n");
  writeFileSync(join(dir, "chap-secrets"), `* * traffic *\n`);
  const lnsd = spawn("ip", ["netns", "exec", ns, process.execPath, entry, "-c", join(dir, "startup-config")], { stdio: ["ignore", "pipe", "pipe"], env: { ...env, LNSD_PLUGIN_DIR: dir } });
  let out = "";
  lnsd.stdout.on("data", (d: Buffer) => (out += d.toString()));
  lnsd.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => lnsd.on("exit", () => { r(); }));
  t.teardown(async () => {
    if (lnsd.exitCode === null) lnsd.kill("SIGKILL");
    await exited;
  });
  for (let i = 0; i < 100 && !out.includes("listening for L2TP"); i++) await new Promise((r) => setTimeout(r, 50));
  t.match(out, /lnsdtr0 up, mtu 1462, address 192\.0\.2\.1\/32, routes 198\.51\.100\.0\/28; 2 data workers on L2TP 127\.0\.0\.1:1701/);
  const result = JSON.parse(execFileSync("ip", ["netns", "exec", ns, process.execPath, child, "127.0.0.1", "192.0.2.1", "5", "2001:db8:ffff::1"], { encoding: "utf8", timeout: 40_000, env }).trim()) as {
    onlineInTime: boolean;
    online: number;
    sessions: { address: string; replies: string[]; prefix: string; address6: string; replies6: string[] }[];
  };
  t.ok(result.onlineInTime, "5 subscribers online");
  t.equal(result.sessions.length, 5);
  for (const s of result.sessions) {
    t.same(s.replies, [`192.0.2.1>${s.address}`], `${s.address}: its own reply, once`);
    // l2tpns's scheme: ipv6_prefix, then the IPv4 address, then zeros (c633:64xx is 198.51.100.xx).
    const [, , c, d] = s.address.split(".").map(Number);
    const v4 = `c633:${(((c ?? 0) << 8) | (d ?? 0)).toString(16)}`;
    t.equal(s.prefix, "2001:db8:1:2::/64", `${s.address}: the Router Advertisement gave ipv6_prefix`);
    t.equal(s.address6, `2001:db8:1:2:${v4}::`, `${s.address}: its IPv6 address`);
    t.same(s.replies6, [`2001:db8:ffff::1>2001:db8:1:2:${v4}::`], `${s.address}: its own IPv6 reply, once`);
  }
  // The child ran synchronously: lnsd's log lines since are still in the pipe.
  const hook = /plugin pktlog \(data worker\): first packet from session \d+ in tunnel \d+, \d+ bytes/;
  for (let i = 0; i < 60 && !hook.test(out); i++) await new Promise((r) => setTimeout(r, 50));
  t.match(out, hook, "the packet hook ran in a data worker");
  t.match(out, /plugin pktlog: master since \d+/, "become_master: alone, lnsd is the master");
  t.match(out, /plugin pktlog: 5 new sessions on the master/, "new_session_master for each session");
  lnsd.kill("SIGQUIT");
  await exited;
});
