// bin/lnsd as an operator runs it: a config file, the test LAC over real UDP on loopback, and the
// signals (HUP with a bad file keeps the running config, HUP moves listeners and RADIUS servers
// or is refused whole, TERM keeps sessions, QUIT tears down).
import t from "tap";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createSocket, type Socket } from "node:dgram";
import { connect, createServer } from "node:net";
import { StopCcnResultCode } from "@lnsd/wire";
import { nsctlRequest, requestFor } from "@lnsd/control";
import { Attr, Code, decodePacket, signResponse } from "@lnsd/radius";
import { LacSimulator, pppLogins } from "@lnsd/testkit";

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

void t.test("one lnsd per state directory: a second with the same startup-config is refused, naming the first; an unusable state_directory is logged and lnsd runs", async (t) => {
  const addr = "127.0.31.6";
  const state = mkdtempSync(join(tmpdir(), "lnsd-daemon-state-"));
  const lnsd = await startLnsd(config(addr, `set state_directory "${state}"\n`));
  t.teardown(() => {
    lnsd.proc.kill("SIGQUIT");
    rmSync(state, { recursive: true, force: true });
  });
  const file = lnsd.proc.spawnargs[3] ?? "";
  const second = spawn(process.execPath, [bin, "-c", file], { stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } });
  let out = "";
  second.stdout.on("data", (d: Buffer) => (out += d.toString()));
  second.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => second.on("exit", (c) => { resolve(c); }));
  t.equal(code, 1, "the second lnsd exits 1");
  t.match(out, new RegExp(`another lnsd \\(pid ${String(lnsd.proc.pid)}\\) runs with this startup-config and bind_address`), "naming the first one's pid");
  t.equal(lnsd.proc.exitCode, null, "the first runs on");

  const other = await startLnsd(config("127.0.31.7", 'set state_directory "/dev/null/lnsd"\n'));
  t.match(other.output(), /state_directory: cannot use \/dev\/null\/lnsd\/127\.0\.31\.7-[0-9a-f]{12} \(.*\): no state is kept, a restart drops every session/, "an unusable state_directory is said");
  t.ok(other.output().includes("listening for L2TP"), "and lnsd runs without it");
  other.proc.kill("SIGQUIT");
  t.equal(await other.exited, 0);
  lnsd.proc.kill("SIGQUIT");
  t.equal(await lnsd.exited, 0);
});

/** Sends SIGHUP and waits for the reload's outcome (applied or refused). */
async function reload(lnsd: Running, file: string, text: string): Promise<void> {
  const before = lnsd.output().length;
  writeFileSync(file, text);
  lnsd.proc.kill("SIGHUP");
  const done = (): boolean => /reloaded |reload refused/.test(lnsd.output().slice(before));
  for (let i = 0; i < 60 && !done(); i++) await new Promise((r) => setTimeout(r, 50));
}

/** Does nsctl answer `help` on this address and port? */
async function nsctlAnswers(host: string, port: number): Promise<boolean> {
  const r = await nsctlRequest(requestFor("help", []), { host, port, timeoutMs: 500 });
  return r.ok;
}

/** Does something accept TCP connections on this address and port? */
function tcpAnswers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect({ host, port }, () => { c.destroy(); resolve(true); });
    c.on("error", () => { resolve(false); });
  });
}

void t.test("SIGHUP: nsctl moves to its new port, the CLI to its new address; a setting the reload cannot apply is logged with its name; one it applies is not", async (t) => {
  const addr = "127.0.31.3";
  const lnsd = await startLnsd(config(addr, `set nsctl_address ${addr}\nset radius_interim 600\nset echo_timeout 10\n`));
  t.teardown(async () => {
    if (lnsd.proc.exitCode === null) lnsd.proc.kill("SIGKILL");
    await lnsd.exited;
  });
  t.ok(await nsctlAnswers(addr, 1702), "nsctl on 1702 at start");
  t.ok(await tcpAnswers("127.0.0.1", 23), "the CLI on every address at start");
  await reload(lnsd, lnsd.proc.spawnargs[3] ?? "", config(addr, `set nsctl_address ${addr}\nset radius_interim 300\nset echo_timeout 20\nset nsctl_port 1799\nset cli_bind_address ${addr}\n`));
  t.match(lnsd.output(), /reloaded /);
  t.match(lnsd.output(), /nsctl control port on 127\.0\.31\.3:1799/);
  t.ok(await nsctlAnswers(addr, 1799), "nsctl answers on the new port");
  t.notOk(await nsctlAnswers(addr, 1702), "and no longer on the old one");
  t.notMatch(lnsd.output(), /nsctl_port changed|cli_bind_address changed/, "nsctl_port and cli_bind_address are applied by the reload");
  for (let i = 0; i < 40 && !lnsd.output().includes(`CLI on telnet ${addr}:23`); i++) await new Promise((r) => setTimeout(r, 50));
  t.ok(await tcpAnswers(addr, 23), "the CLI on its new address");
  t.notOk(await tcpAnswers("127.0.0.1", 23), "and no longer on every address");
  t.match(lnsd.output(), /radius_interim changed: takes effect when lnsd is restarted/);
  t.notMatch(lnsd.output(), /echo_timeout changed/, "echo_timeout is applied by the reload");
  t.equal(lnsd.proc.exitCode, null, "still running");
});

void t.test("SIGHUP: a new metrics port that is taken refuses the whole reload, with why; nsctl stays where it was", async (t) => {
  const addr = "127.0.31.4";
  const start = `set nsctl_address ${addr}\nset metrics_address ${addr}\nset metrics_port 9311\n`;
  const lnsd = await startLnsd(config(addr, start));
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(9312, addr, resolve));
  t.teardown(async () => {
    taken.close();
    if (lnsd.proc.exitCode === null) lnsd.proc.kill("SIGKILL");
    await lnsd.exited;
  });
  const file = lnsd.proc.spawnargs[3] ?? "";
  await reload(lnsd, file, config(addr, `set nsctl_address ${addr}\nset nsctl_port 1799\nset metrics_address ${addr}\nset metrics_port 9312\n`));
  t.match(lnsd.output(), /reload refused, running config kept: metrics: cannot listen on 127\.0\.31\.4:9312: .*EADDRINUSE/);
  t.notMatch(lnsd.output(), /reloaded /);
  t.ok(await nsctlAnswers(addr, 1702), "nsctl still on its old port");
  t.notOk(await nsctlAnswers(addr, 1799), "not on the one the refused file names");
  const scrape = await fetch(`http://${addr}:9311/metrics`);
  t.equal(scrape.status, 200, "metrics still on their old port");
});

interface FakeRadius {
  readonly port: number;
  readonly requests: string[];
  close(): void;
}

/** A RADIUS server on 127.0.0.1 that accepts everyone with Framed-IP-Address 192.0.2.9, signed with `secret`. */
async function fakeRadius(secret: string): Promise<FakeRadius> {
  const sock: Socket = createSocket("udp4");
  await new Promise<void>((resolve) => sock.bind(0, "127.0.0.1", resolve));
  const requests: string[] = [];
  sock.on("message", (raw, rinfo) => {
    const d = decodePacket(raw);
    if (!d.ok || d.value.code !== Code.AccessRequest) return;
    requests.push(d.value.attributes.find((a) => a.type === Attr.UserName)?.value.toString() ?? "");
    const address = { type: Attr.FramedIpAddress, value: Buffer.from([192, 0, 2, 9]) };
    sock.send(signResponse({ code: Code.AccessAccept, identifier: d.value.identifier, attributes: [address], secret, requestAuthenticator: d.value.authenticator }), rinfo.port, rinfo.address);
  });
  let open = true;
  const close = (): void => {
    if (open) sock.close();
    open = false;
  };
  return { port: sock.address().port, requests, close };
}

void t.test("SIGHUP: a new RADIUS server and radius_secret are used by the next login", async (t) => {
  const addr = "127.0.31.5";
  const [first, second] = await Promise.all([fakeRadius("first"), fakeRadius("second")]);
  const radius = (server: FakeRadius, secret: string): string => `set primary_radius 127.0.0.1\nset primary_radius_port ${server.port}\nset radius_secret "${secret}"\nset radius_dae_port 0\n`;
  const lnsd = await startLnsd(config(addr, radius(first, "first")));
  const lacs: LacSimulator[] = [];
  t.teardown(async () => {
    for (const lac of lacs) lac.close();
    first.close();
    second.close();
    if (lnsd.proc.exitCode === null) lnsd.proc.kill("SIGKILL");
    await lnsd.exited;
  });
  const login = async (username: string): Promise<boolean> => {
    const logins = pppLogins({ username, password: "pw", authProtocols: ["pap"] });
    const lac = new LacSimulator({ lns: { address: addr, port: 1701 }, bindAddress: "127.0.0.1", tunnels: 1, sessionsPerTunnel: 1, secret: "daemon-test", calls: logins.handler });
    lacs.push(lac);
    await lac.start();
    for (let i = 0; i < 200 && logins.stats.online.size === 0; i++) await new Promise((r) => setTimeout(r, 25));
    return logins.stats.online.size === 1;
  };
  t.ok(await login("before"), "logged in through the first server");
  t.same(first.requests, ["before"]);
  await reload(lnsd, lnsd.proc.spawnargs[3] ?? "", config(addr, radius(second, "second")));
  t.match(lnsd.output(), /reloaded /);
  t.notMatch(lnsd.output(), /radius_secret changed|primary_radius_port changed/);
  first.close(); // the old server gone: only the new one can let "after" in
  t.ok(await login("after"), "logged in through the second server, whose answer is signed with the new secret");
  t.same(second.requests, ["after"], "the login went to the new server");
  t.same(first.requests, ["before"], "and not to the old one");
});
