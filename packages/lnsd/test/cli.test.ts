// The telnet CLI of bin/lnsd, with live sessions from the test LAC: Debian's telnet client under
// expect logs in with the users file, reads show session / users / tunnels, and drops a session.
import t from "tap";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { LacSimulator, pppLogins } from "@lnsd/testkit";

const entry = join(dirname(fileURLToPath(import.meta.url)), "..", "src", "bin", "lnsd.js");
const ADDR = "127.0.33.10";
/** The telnet client's address: not 127.0.0.1, so it must log in. */
const CLIENT = "127.0.33.11";

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  for (let waited = 0; waited < ms && !cond(); waited += 50) await new Promise((r) => setTimeout(r, 50));
  return cond();
}

type Step = readonly [send: string, expect: string];

async function telnet(steps: readonly Step[]): Promise<{ code: number | null; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), "lnsd-cli-"));
  const tcl = (s: string): string =>
    `"${Array.from(s, (c) => (/[\\"$[\]]/.test(c) ? `\\${c}` : c.charCodeAt(0) < 0x20 ? `\\${c.charCodeAt(0).toString(8).padStart(3, "0")}` : c)).join("")}"`;
  const lines = [
    "set timeout 5",
    `spawn telnet -b ${CLIENT} ${ADDR} 23`,
    ...steps.flatMap(([send, want], i) => [
      ...(send === "" ? [] : [`send -- ${tcl(send)}`]),
      `expect -ex ${tcl(want)} {} timeout { puts "\\nSTEP ${i} TIMED OUT"; exit 1 } eof { puts "\\nSTEP ${i}: EOF"; exit 2 }`,
    ]),
    "exit 0",
  ];
  writeFileSync(join(dir, "cli.exp"), `${lines.join("\n")}\n`);
  const proc = spawn("/usr/bin/expect", ["-f", join(dir, "cli.exp")], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", TERM: "vt100" } });
  let output = "";
  proc.stdout.on("data", (d: Buffer) => (output += d.toString()));
  proc.stderr.on("data", (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number | null>((r) => proc.on("exit", (c) => { r(c); }));
  return { code, output: output.replace(/\r/g, "") };
}

void t.test("bin/lnsd's CLI: login from the users file, live sessions, drop session, write memory", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "lnsd-cli-daemon-"));
  const config = join(dir, "startup-config");
  writeFileSync(config, `set debug 3\nset hostname "lnstest"\nset bind_address ${ADDR}\nset cli_bind_address ${ADDR}\nset radius_authtypes "chap"\nset disable_tun yes\n`);
  writeFileSync(join(dir, "ip_pool"), "198.51.100.0/24\n");
  writeFileSync(join(dir, "chap-secrets"), `* * "right pass" *\n`);
  writeFileSync(join(dir, "users"), "admin:$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1\nenable:enpw\n");
  const proc = spawn(process.execPath, [entry, "-c", config], { stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } });
  let out = "";
  proc.stdout.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => proc.on("exit", () => { r(); }));
  t.teardown(async () => {
    if (proc.exitCode === null) proc.kill("SIGKILL");
    await exited;
  });
  t.ok(await until(() => out.includes("CLI on telnet"), 5000), "the CLI listens", { output: out });

  const logins = pppLogins({ username: (ti, si) => `cliuser-${ti}-${si}`, password: "right pass", authProtocols: ["chap"] });
  const lac = new LacSimulator({ lns: { address: ADDR, port: 1701 }, bindAddress: "127.0.0.1", tunnels: 1, sessionsPerTunnel: 3, calls: logins.handler });
  await lac.start();
  t.ok(await until(() => logins.stats.online.size === 3, 10_000), "three subscribers online");

  const r = await telnet([
    ["", "Username: "],
    ["admin\r", "Password: "],
    ["wrong\r", "Access denied"],
    ["admin\r", "Password: "],
    ["secret\r", "lnstest> "],
    ["show session\r", "LAC(L)/RLNS(R)/PPPOE(P) CLI"],
    ["", "lnstest> "],
    ["sh users\r", "cliuser-0-2"],
    ["", "lnstest> "],
    ["show tunnels\r", "Open      3 Tunnel To LAC"],
    ["", "lnstest> "],
    ["show session | include cliuser-0-1\r", "cliuser-0-1"],
    ["", "lnstest> "],
    ["enable\r", "Password: "],
    ["enpw\r", "lnstest# "],
    ["drop session 2\r", "Dropping session 2"],
    ["", "lnstest# "],
    ["configure terminal\r", "lnstest(config)# "],
    ["set primary_dns 192.0.2.53\r", "lnstest(config)# "],
    ["exit\r", "lnstest# "],
    ["write memory\r", "Configuration written to"],
    ["", "lnstest# "],
    ["quit\r", "Connection closed"],
  ]);
  t.equal(r.code, 0, "the whole dialogue ran", { output: r.output.slice(-1500) });
  t.match(r.output, /\n {4}1 {7}0 {4}\d+ cliuser-0-\d +198\.51\.100\.\d+ +N N N N +\d+ +\d+ +\d+ +\d+ +0 \(L\)127\.0\.0\.1 /, "a session row in l2tpns's columns");
  t.ok(await until(() => logins.stats.online.size === 2, 5000), "the dropped session is gone from the LAC's side too");
  t.match(readFileSync(config, "utf8"), /set primary_dns 192\.0\.2\.53/, "write memory saved the running config");
  t.match(out, /CLI login refused/, "the failed login is logged");

  proc.kill("SIGQUIT");
  await exited;
  lac.close();
});
