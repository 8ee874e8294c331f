// Subscribers log in through bin/lnsd against a real FreeRADIUS: CHAP and PAP accepted and
// refused, Framed-IP-Address and DNS honoured, Session-Timeout enforced, accounting Start and Stop
// in the server's detail file, a radclient Disconnect-Request, and 1,000 logins at once.
import t from "tap";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { LacSimulator, pppLogins, type PppLogins } from "@lnsd/testkit";
import type { AuthProtocolName } from "@lnsd/ppp";
import { attr, freeUdpPorts, radclient, TestRadiusServer, whyNoFreeRadius, type AcctRecord } from "./lib/freeradius.js";

const entry = join(dirname(fileURLToPath(import.meta.url)), "..", "src", "bin", "lnsd.js");
const LNS = "127.0.33.1";
const SECRET = "lnsd test secret";

const USERS = `alice Cleartext-Password := "alice pass"
\tMS-Primary-DNS-Server = 192.0.2.1,
\tMS-Secondary-DNS-Server = 192.0.2.2,
\tClass = "alice-class"

fixed Cleartext-Password := "fixed pass"
\tFramed-IP-Address = 192.0.2.77

short Cleartext-Password := "short pass"
\tSession-Timeout = 2

DEFAULT User-Name =~ "^(dave|erin)$", Cleartext-Password := "de pass"

DEFAULT User-Name =~ "^load-", Cleartext-Password := "load pass"
`;

interface Lnsd {
  readonly daePort: number;
  output(): string;
  stop(): Promise<void>;
}

async function startLnsd(radiusPort: number): Promise<Lnsd> {
  const dir = mkdtempSync(join(tmpdir(), "lnsd-radius-test-"));
  const daePort = await freeUdpPorts(LNS);
  writeFileSync(
    join(dir, "startup-config"),
    [
      "set debug 3",
      `set bind_address ${LNS}`,
      "set disable_tun yes",
      'set radius_authtypes "chap,pap"',
      "set primary_radius 127.0.0.1",
      `set primary_radius_port ${radiusPort}`,
      `set radius_secret "${SECRET}"`,
      "set radius_accounting yes",
      `set radius_dae_port ${daePort}`,
      "set primary_dns 192.0.2.53",
      // CoA's Cisco-AVPairs go to the plugins (radius_reset, radius_response).
      'load plugin "autothrottle"',
      "",
    ].join("\n"),
  );
  // Documentation space first (the single-login tests expect it), then benchmark space for the load.
  writeFileSync(join(dir, "ip_pool"), "198.51.100.0/24\n198.18.0.0/22\n");
  const proc = spawn(process.execPath, [entry, "-c", join(dir, "startup-config")], { stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } });
  let out = "";
  proc.stdout.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => proc.on("exit", () => { r(); }));
  for (let i = 0; i < 100 && !out.includes("DAE (Disconnect, CoA) on"); i++) await new Promise((r) => setTimeout(r, 50));
  if (!out.includes("DAE (Disconnect, CoA) on")) throw new Error(`lnsd did not start:\n${out}`);
  return {
    daePort,
    output: () => out,
    stop: async () => {
      if (proc.exitCode === null) proc.kill("SIGQUIT");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  for (let waited = 0; waited < ms && !cond(); waited += 25) await new Promise((r) => setTimeout(r, 25));
  return cond();
}

/** A LAC with `sessions` calls logging in as `username` with `password`. */
async function login(username: string | ((ti: number, si: number) => string), password: string, sessions: number, authProtocols: readonly AuthProtocolName[] = ["chap", "pap"], tunnels = 1): Promise<{ lac: LacSimulator; logins: PppLogins; close: () => Promise<void> }> {
  const logins = pppLogins({ username, password, authProtocols });
  const lac = new LacSimulator({ lns: { address: LNS, port: 1701 }, bindAddress: "127.0.0.1", tunnels, sessionsPerTunnel: sessions / tunnels, calls: logins.handler });
  await lac.start();
  return {
    lac,
    logins,
    close: async () => {
      await lac.stopAll();
      lac.close();
    },
  };
}

const isStatus = (status: string, user: string) => (r: AcctRecord): boolean => attr(r, "Acct-Status-Type") === status && attr(r, "User-Name") === user;

const missing = whyNoFreeRadius();
if (missing !== undefined) {
  t.plan(0, `FreeRADIUS: ${missing}`);
} else {
  const radius = await TestRadiusServer.start(SECRET, USERS);
  const lnsd = await startLnsd(radius.authPort);
  t.teardown(async () => {
    await lnsd.stop();
    await radius.stop();
  });

  void t.test("Accounting-On when lnsd starts", async (t) => {
    t.ok(await radius.waitForRecord((r) => attr(r, "Acct-Status-Type") === "Accounting-On"), "Accounting-On recorded");
  });

  for (const proto of ["chap", "pap"] as const) {
    void t.test(`${proto.toUpperCase()}: accepted by FreeRADIUS with its DNS; a wrong password refused`, async (t) => {
      const ok = await login("alice", "alice pass", 1, [proto]);
      t.ok(await until(() => ok.logins.stats.online.size === 1, 10_000), "online");
      const info = [...ok.logins.stats.online.values()][0];
      t.match(info?.address, /^198\.51\.100\.\d+$/, "address from ip_pool");
      t.equal(info?.primaryDns, "192.0.2.1", "MS-Primary-DNS-Server in IPCP");
      t.equal(info?.secondaryDns, "192.0.2.2", "MS-Secondary-DNS-Server in IPCP");
      await ok.close();
      const bad = await login("alice", "wrong", 1, [proto]);
      t.ok(await until(() => (bad.logins.stats.failures.get("auth-refused-by-peer") ?? 0) + bad.lac.report().sessions.down >= 1, 10_000), "refused");
      t.equal(bad.logins.stats.online.size, 0);
      await bad.close();
    });
  }

  void t.test("Framed-IP-Address: the user gets exactly that address", async (t) => {
    const s = await login("fixed", "fixed pass", 1);
    t.ok(await until(() => s.logins.stats.online.size === 1, 10_000), "online");
    t.same([...s.logins.stats.online.values()].map((i) => i.address), ["192.0.2.77"]);
    await s.close();
  });

  void t.test("Session-Timeout ends the session on time; Start and Stop in the detail file", async (t) => {
    const s = await login("short", "short pass", 1);
    t.ok(await until(() => s.logins.stats.online.size === 1, 10_000), "online");
    const upAt = Date.now();
    t.ok(await until(() => s.logins.stats.online.size === 0, 5000), "ended");
    const lastedMs = Date.now() - upAt;
    t.ok(lastedMs >= 1800 && lastedMs < 3000, `ended after about 2 s (${lastedMs} ms)`);
    const start = await radius.waitForRecord(isStatus("Start", "short"));
    const id = attr(start, "Acct-Session-Id");
    t.ok(id !== undefined && id !== "", `Start with Acct-Session-Id ${id ?? "-"}`);
    t.match(attr(start, "Framed-IP-Address"), /^198\.51\.100\.\d+$/, "Start has the address");
    const stop = await radius.waitForRecord((r) => isStatus("Stop", "short")(r) && attr(r, "Acct-Session-Id") === id);
    t.equal(attr(stop, "Acct-Terminate-Cause"), "Session-Timeout");
    t.ok(Number(attr(stop, "Acct-Session-Time")) >= 1, "Acct-Session-Time");
    await s.close();
  });

  void t.test("Class of the Access-Accept is echoed; the LAC hanging up is Lost-Carrier", async (t) => {
    const s = await login("alice", "alice pass", 1);
    t.ok(await until(() => s.logins.stats.online.size === 1, 10_000), "online");
    const before = radius.records().length;
    await s.close();
    const stop = await radius.waitForRecord(isStatus("Stop", "alice"), 5000, before);
    t.equal(attr(stop, "Acct-Terminate-Cause"), "Lost-Carrier");
    t.match(attr(stop, "Class") ?? "", /alice-class|0x616c6963652d636c617373/, "Class echoed");
  });

  void t.test("radclient Disconnect-Request by User-Name drops exactly that session", async (t) => {
    const s = await login((_ti, si) => (si === 0 ? "dave" : "erin"), "de pass", 2);
    t.ok(await until(() => s.logins.stats.online.size === 2, 10_000), "both online");
    const r = await radclient(["-x", "-r", "1", "-t", "3", `${LNS}:${lnsd.daePort}`, "disconnect", SECRET], 'User-Name = "dave"\n');
    t.equal(r.code, 0, r.out);
    t.match(r.out, /Disconnect-ACK/);
    t.ok(await until(() => s.logins.stats.online.size === 1, 5000), "one left");
    t.ok(await until(() => s.lac.report().sessions.down >= 1, 5000), "dave's L2TP session closed");
    const stop = await radius.waitForRecord(isStatus("Stop", "dave"));
    t.equal(attr(stop, "Acct-Terminate-Cause"), "Admin-Reset");
    t.notOk(radius.records().some(isStatus("Stop", "erin")), "erin still up");
    const nak = await radclient(["-x", "-r", "1", "-t", "3", `${LNS}:${lnsd.daePort}`, "disconnect", SECRET], 'User-Name = "nobody"\n');
    t.match(nak.out, /Disconnect-NAK/, "no such session: NAK");
    await s.close();
  });

  void t.test("radclient CoA-Request with Cisco-AVPair throttle=N: autothrottle throttles that session", async (t) => {
    const s = await login(() => "dave", "de pass", 1);
    t.ok(await until(() => s.logins.stats.online.size === 1, 10_000), "online");
    const r = await radclient(["-x", "-r", "1", "-t", "3", `${LNS}:${lnsd.daePort}`, "coa", SECRET], 'User-Name = "dave"\nCisco-AVPair = "throttle=2000"\n');
    t.equal(r.code, 0, r.out);
    t.match(r.out, /CoA-ACK/);
    t.ok(await until(() => /plugin autothrottle: session \d+ \(dave\) throttled to 2000\/2000 kbit\/s/.test(lnsd.output()), 5000), "radius_reset, then radius_response: throttled");
    const before = radius.records().length;
    await s.close();
    // radius_account: autothrottle adds the session's rates to its Accounting-Request (the Stop).
    const stop = await radius.waitForRecord((rec) => isStatus("Stop", "dave")(rec) && (rec.get("Cisco-AVPair") ?? []).some((v) => v.includes("service-policy input 2000")), 5000, before);
    t.ok(stop !== undefined, "the Stop carries Cisco-AVPair lcp:interface-config#1=service-policy input 2000");
  });

  void t.test("1,000 sessions log in with CHAP through FreeRADIUS, each with an address of its own", async (t) => {
    const s = await login((ti, si) => `load-${ti}-${si}`, "load pass", 1000, ["chap"], 10);
    t.ok(await s.lac.waitForAllUp(20_000), "L2TP up");
    t.ok(await until(() => s.logins.stats.online.size === 1000, 30_000), `all 1,000 online (got ${s.logins.stats.online.size})`);
    const addresses = [...s.logins.stats.online.values()].map((i) => i.address);
    t.equal(new Set(addresses).size, 1000, "distinct addresses");
    t.ok(await until(() => radius.records().filter((r) => attr(r, "Acct-Status-Type") === "Start" && attr(r, "User-Name")?.startsWith("load-") === true).length === 1000, 20_000), "1,000 Starts");
    await s.close();
  });

  void t.test("SIGQUIT: Accounting-Off after the sessions' Stops", async (t) => {
    const s = await login("alice", "alice pass", 1);
    t.ok(await until(() => s.logins.stats.online.size === 1, 10_000), "online");
    await lnsd.stop();
    s.lac.close();
    const records = radius.records();
    const off = records.findIndex((r) => attr(r, "Acct-Status-Type") === "Accounting-Off");
    const lastStop = records.map((r, i) => (isStatus("Stop", "alice")(r) ? i : -1)).reduce((a, b) => Math.max(a, b), -1);
    t.ok(off >= 0, "Accounting-Off recorded");
    t.ok(lastStop >= 0 && lastStop < off, "after the Stop");
    t.equal(attr(records[lastStop], "Acct-Terminate-Cause"), "NAS-Request");
  });
}
