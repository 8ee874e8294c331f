// bin/lnsd with an l2tpns operator's config: `lnsd -t` checks it and exits; `lnsd -d` checks it
// before it detaches and never leaves the log with nowhere to go; the warnings of settings lnsd
// does not act on come at start and on every reload; a yescrypt users line logs in to the CLI.
import t from "tap";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const bin = join(dirname(fileURLToPath(import.meta.url)), "..", "src", "bin", "lnsd.js");
const env = { PATH: process.env.PATH ?? "/usr/bin:/bin" };
// Made by Debian 12's `mkpasswd -m yescrypt 'lnsd pässword'`.
const YESCRYPT = "$y$j9T$ynW18rvchjdOxw8B8PO6X/$OYxL5pyWRZgxORiMkWdP8t9Q77m7biYiKsIjLLmwgR3";

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  for (let waited = 0; waited < ms && !cond(); waited += 50) await new Promise((r) => setTimeout(r, 50));
  return cond();
}

function configDir(files: Readonly<Record<string, string>>): string {
  const dir = mkdtempSync(join(tmpdir(), "lnsd-check-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

async function run(args: readonly string[], timeoutMs = 20_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, [bin, ...args], { stdio: ["ignore", "pipe", "pipe"], env });
  let stdout = "";
  let stderr = "";
  proc.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  proc.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  const code = await new Promise<number | null>((r) => proc.on("close", (c) => { r(c); }));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** The processes whose command line names `dir` (the detached lnsd of a test's own temporary directory). */
function processesUsing(dir: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, "latin1").includes(dir)) found.push(Number(name));
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

/**
 * Stops the lnsd a test detached with its config in `dir`: found by its pid_file or by its command
 * line (a slow start may not have written the pid_file yet), SIGKILLed, waited for.
 */
async function stopDetached(dir: string, pidFile: string): Promise<void> {
  await until(() => existsSync(pidFile) || processesUsing(dir).length > 0, 3000);
  const pids = new Set(processesUsing(dir));
  if (existsSync(pidFile)) pids.add(Number(readFileSync(pidFile, "utf8").trim()));
  for (const pid of pids) {
    try {
      if (pid > 0) process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  await until(() => processesUsing(dir).length === 0, 5000);
}

const operatorConfig = (addr: string, extra = ""): string =>
  [
    "set debug 3",
    `set bind_address ${addr}`,
    `set cli_bind_address ${addr}`,
    "set disable_tun yes",
    "set nsctl_port 0",
    'set accounting_dir "/var/run/l2tpns/acct"',
    "set primary_ipv6_dns 2001:db8::53",
    "set dump_speed on",
    "load plugin sessionctl",
    "load plugin sessionctl",
    extra,
  ].join("\n");

void t.test("lnsd -t: a valid config with warnings exits 0 and prints every warning with file and line", async (t) => {
  const dir = configDir({
    "startup-config": operatorConfig("127.0.35.1"),
    ip_pool: "198.51.100.0/24\n",
    users: `admin:{crypt}${YESCRYPT}\nold:{crypt}$9$abc$def\n`,
    "chap-secrets": "* * secret *\n",
  });
  const sc = join(dir, "startup-config");
  const r = await run(["-t", "-c", sc]);
  t.equal(r.code, 0, "valid", { r });
  const out = r.stdout + r.stderr;
  for (const w of [
    `${sc}:6: accounting_dir: lnsd does not act on this setting yet: it is ignored`,
    `${sc}:7: primary_ipv6_dns: lnsd does not act on this setting yet: it is ignored`,
    `${sc}:8: dump_speed: 'on' is read as no, as l2tpns reads it (only yes, true and 1 mean yes)`,
    `${sc}:10: load plugin: 'sessionctl' is already loaded (line 9): this line does nothing`,
    `${join(dir, "users")}:2: old: '$9$abc$def' after {crypt} is not a hash the system's crypt(3) knows`,
  ]) {
    t.ok(out.includes(w), w, { out });
  }
  t.notOk(out.includes(`${join(dir, "users")}:1:`), "the yescrypt line is fine");
  t.match(r.stdout, /config is valid/);
});

void t.test("lnsd -t: an error in any of the files exits 1, naming file, line and problem", async (t) => {
  const bad = configDir({ "startup-config": operatorConfig("127.0.35.2", "set ppp_max_configure many"), ip_pool: "198.51.100.0/24\n" });
  const r1 = await run(["-t", "-c", join(bad, "startup-config")]);
  t.equal(r1.code, 1);
  t.ok(r1.stderr.includes(`${join(bad, "startup-config")}:11: ppp_max_configure: 'many' is not a number, and 0 is out of range (1 to 2147483647)`), r1.stderr);
  const pool = configDir({ "startup-config": operatorConfig("127.0.35.2"), ip_pool: "198.51.100.0/24\n10.1.2.300\n", "chap-secrets": "* * s *\n" });
  const r2 = await run(["-t", "-c", join(pool, "startup-config")]);
  t.equal(r2.code, 1);
  t.match(r2.stderr, new RegExp(`${join(pool, "ip_pool")}:2: `));
  const missing = await run(["-t", "-c", join(pool, "nope")]);
  t.equal(missing.code, 1);
  t.ok(missing.stderr.includes(`${join(pool, "nope")}: cannot read: no such file`), missing.stderr);
  // l2tp_require_auth with no l2tp_secret: refused by -t as by start and reload.
  const auth = configDir({ "startup-config": `set bind_address 127.0.35.2\nset l2tp_require_auth yes\n`, ip_pool: "198.51.100.0/24\n", "chap-secrets": "* * s *\n" });
  const r3 = await run(["-t", "-c", join(auth, "startup-config")]);
  t.equal(r3.code, 1);
  t.match(r3.stderr, /l2tp_require_auth/);
});

void t.test("lnsd -d checks the config before it detaches", async (t) => {
  const bad = configDir({ "startup-config": "set l2tp_mtu -5\n" });
  const pidFile = join(bad, "lnsd.pid");
  writeFileSync(join(bad, "startup-config"), `set pid_file ${pidFile}\nset l2tp_mtu -5\n`);
  const r = await run(["-d", "-c", join(bad, "startup-config")]);
  t.equal(r.code, 1, "exits 1");
  t.ok(r.stderr.includes(`${join(bad, "startup-config")}:2: l2tp_mtu: '-5' is out of range (0 to 65535)`), r.stderr);
  await new Promise((res) => setTimeout(res, 500));
  t.notOk(existsSync(pidFile), "nothing was left running");
});

void t.test("lnsd -d with a log_file: detaches, and the log (warnings included) goes to the file", async (t) => {
  const dir = configDir({ ip_pool: "198.51.100.0/24\n", "chap-secrets": "* * s *\n" });
  const pidFile = join(dir, "lnsd.pid");
  const logFile = join(dir, "lnsd.log");
  writeFileSync(join(dir, "startup-config"), operatorConfig("127.0.35.3", `set pid_file ${pidFile}\nset log_file ${logFile}\n`));
  t.teardown(() => stopDetached(dir, pidFile));
  const r = await run(["-d", "-c", join(dir, "startup-config")]);
  t.equal(r.code, 0, "the parent leaves at once", { r });
  t.ok(await until(() => existsSync(logFile) && readFileSync(logFile, "utf8").includes("listening for L2TP"), 15_000), "the detached lnsd runs and logs to log_file");
  t.ok(readFileSync(logFile, "utf8").includes("accounting_dir: lnsd does not act on this setting yet"), "with the config's warnings");
  t.ok(await until(() => existsSync(pidFile), 5000));
});

void t.test("lnsd -d with no log_file: syslog, or a refusal when there is none", async (t) => {
  const dir = configDir({ ip_pool: "198.51.100.0/24\n", "chap-secrets": "* * s *\n" });
  const pidFile = join(dir, "lnsd.pid");
  writeFileSync(join(dir, "startup-config"), operatorConfig("127.0.35.4", `set pid_file ${pidFile}\n`));
  t.teardown(() => stopDetached(dir, pidFile));
  const r = await run(["-d", "-c", join(dir, "startup-config")]);
  if (existsSync("/dev/log")) {
    t.equal(r.code, 0, "detached", { r });
    t.match(r.stderr, /no log_file: logging to syslog \(daemon\)/);
    t.ok(await until(() => existsSync(pidFile), 15_000), "running");
  } else {
    t.equal(r.code, 1, "refuses: the log would go nowhere", { r });
    t.match(r.stderr, /no log_file is set and no syslog is listening on \/dev\/log, so the log would go nowhere: set log_file/);
    await new Promise((res) => setTimeout(res, 500));
    t.notOk(existsSync(pidFile), "nothing was left running");
  }
});

async function startForeground(dir: string): Promise<{ proc: ChildProcess; output: () => string; exited: Promise<void> }> {
  const proc = spawn(process.execPath, [bin, "-c", join(dir, "startup-config")], { stdio: ["ignore", "pipe", "pipe"], env });
  let out = "";
  proc.stdout.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => proc.on("exit", () => { r(); }));
  if (!(await until(() => out.includes("CLI on telnet"), 15_000))) throw new Error(`lnsd did not start:\n${out}`);
  return { proc, output: () => out, exited };
}

void t.test("settings lnsd does not act on: one warning each at start and again on reload", async (t) => {
  const dir = configDir({ "startup-config": operatorConfig("127.0.35.5"), ip_pool: "198.51.100.0/24\n", "chap-secrets": "* * s *\n", users: "old:{crypt}$9$abc$def\n" });
  const lnsd = await startForeground(dir);
  t.teardown(async () => {
    lnsd.proc.kill("SIGKILL");
    await lnsd.exited;
  });
  const count = (s: string): number => lnsd.output().split(s).length - 1;
  const warning = `${join(dir, "startup-config")}:6: accounting_dir: lnsd does not act on this setting yet: it is ignored`;
  const usersWarning = `${join(dir, "users")}:1: old: '$9$abc$def'`;
  t.equal(count(warning), 1, "once at start", { out: lnsd.output() });
  t.equal(count(usersWarning), 1, "the users file's warning at start");
  lnsd.proc.kill("SIGHUP");
  t.ok(await until(() => lnsd.output().includes("reloaded"), 10_000), "reloaded");
  t.equal(count(warning), 2, "and again on reload");
  t.equal(count(usersWarning), 2, "the users file's too");
});

void t.test("a yescrypt password in users logs in to the CLI (as with l2tpns)", async (t) => {
  const addr = "127.0.35.6";
  const dir = configDir({
    "startup-config": operatorConfig(addr),
    ip_pool: "198.51.100.0/24\n",
    "chap-secrets": "* * s *\n",
    // `mkpasswd -m yescrypt 'operator pass'` and `mkpasswd -m sha512crypt 'enable pass'`.
    users: [
      "admin:{crypt}$y$j9T$h.pR.ue.w6GbxsSHf.ff50$FyM/BcpflhktOS1xqgAdpkTxtiTa.b9cDfgaZZHIzfA",
      "enable:{crypt}$6$i78oDh4E5DIZEOmb$AremKvM.If9Z3jJpTiwrOlDMrRRPSNMjFreSaAdA7nyFTpX7hmAdIMRkpZ3m03fFNDAH47eaTP793ehdCUCFf/",
      "",
    ].join("\n"),
  });
  const lnsd = await startForeground(dir);
  t.teardown(async () => {
    lnsd.proc.kill("SIGKILL");
    await lnsd.exited;
  });
  // From an address other than 127.0.0.1, so that a login is asked for.
  const socket = connect({ host: addr, port: 23, localAddress: "127.0.35.7" });
  let seen = "";
  socket.on("data", (d: Buffer) => (seen += d.toString("latin1")));
  const expect = async (text: string): Promise<boolean> => {
    const ok = await until(() => seen.includes(text), 10_000);
    seen = ok ? seen.slice(seen.indexOf(text) + text.length) : seen;
    return ok;
  };
  t.ok(await expect("Username: "));
  socket.write("admin\r\n");
  t.ok(await expect("Password: "));
  socket.write("operator pass\r\n");
  t.ok(await expect("> "), "logged in with the yescrypt password", { seen });
  socket.write("enable\r\n");
  t.ok(await expect("Password: "));
  socket.write("enable pass\r\n");
  t.ok(await expect("# "), "enable with the sha512crypt password", { seen });
  socket.destroy();
  t.match(lnsd.output(), /CLI login by admin/);
});
