// l2tpns's own test LAC against lnsd (issue 12): generateload (test/generateload.c in Debian's
// l2tpns source package, built and patched by scripts/generateload.sh) opens one tunnel and brings
// 1,000 PAP sessions up through Debian's FreeRADIUS as an l2tpns operator configures it (see
// lib/operator-rig.ts), lnsd reading an l2tpns startup-config. Three namespaces of the test's own:
// the LAC, lnsd, the RADIUS server. l2tpns 2.4.1 brings all 1,000 up on this rig in about a second.
import t from "tap";
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseExposition, value } from "./lib/exposition.js";
import { addNamespace, env, link, nsRunAsync, removeNamespace, sleep, startLnsdIn, type NsLnsd } from "./lib/netns.js";
import { l2tpnsStartupConfig, startStockFreeRadius, stockFreeRadiusConfig, whyNoOperatorRig } from "./lib/operator-rig.js";

const here = dirname(fileURLToPath(import.meta.url));
const entry = join(here, "..", "src", "bin", "lnsd.js");
const buildScript = join(here, "..", "..", "..", "..", "scripts", "generateload.sh");

const prefix = `lnsdgl${process.pid}`;
const NS = { lac: `${prefix}c`, lns: `${prefix}s`, radius: `${prefix}r` } as const;
const ADDR = { lac: "10.97.1.2", bind: "10.97.1.1", lnsRadius: "10.97.2.1", radius: "10.97.2.2", pool: "10.95.0.0/22" } as const;
const SESSIONS = 1000;
const RADIUS_SECRET = "loadradiussecret";
// generateload's users are BASE1..BASEn with "@optusnet.com.au" appended, all with one password.
const BASE = "load";
const PASSWORD = "loadpass";
const METRICS_PORT = 9123;

const skip = whyNoOperatorRig() ?? false;

void t.test(`l2tpns's generateload brings ${SESSIONS} sessions up through FreeRADIUS`, { skip, timeout: 400_000 }, async (t) => {
  const built = await new Promise<{ code: number; out: string; err: string }>((resolve) => {
    execFile("bash", [buildScript], { encoding: "utf8", timeout: 300_000, env }, (e, out, err) => {
      resolve({ code: e === null ? 0 : typeof e.code === "number" ? e.code : 1, out, err });
    });
  });
  t.equal(built.code, 0, `scripts/generateload.sh builds it${built.code === 0 ? "" : `\n${built.err.slice(-3000)}`}`);
  const generateload = built.out.trim().split("\n").pop() ?? "";
  if (built.code !== 0) return;

  for (const n of Object.values(NS)) {
    // Teardown first: a namespace half set up (added, then a command in it failed) goes too.
    t.teardown(() => { removeNamespace(n); });
    addNamespace(n, false);
  }
  link({ ns: NS.lac, dev: "eth0", address: `${ADDR.lac}/24`, mac: "02:00:0c:97:01:02" }, { ns: NS.lns, dev: "eth0", address: `${ADDR.bind}/24`, mac: "02:00:0c:97:01:01" });
  link({ ns: NS.lns, dev: "eth-radius", address: `${ADDR.lnsRadius}/24`, mac: "02:00:0c:97:02:01" }, { ns: NS.radius, dev: "eth0", address: `${ADDR.radius}/24`, mac: "02:00:0c:97:02:02" });

  const raddb = stockFreeRadiusConfig(
    [{ name: "lns", ipaddr: ADDR.lnsRadius, secret: RADIUS_SECRET }],
    `DEFAULT User-Name =~ "^${BASE}[0-9]+@optusnet\\.com\\.au$", Cleartext-Password := "${PASSWORD}"\n\tService-Type = Framed-User,\n\tFramed-Protocol = PPP\n`,
  );
  const radius = await startStockFreeRadius(NS.radius, raddb);
  t.teardown(() => radius.stop());

  const dir = mkdtempSync(join(tmpdir(), "lnsd-generateload-"));
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }); });
  writeFileSync(join(dir, "ip_pool"), `${ADDR.pool}\n`);
  // Debian's startup-config, l2tp_secret "secret" and all; generateload has no tunnel secret and does
  // PAP. The sessions are counted as the operator's Prometheus would (lnsd's log is rate-limited).
  const extra = [`set metrics_port ${String(METRICS_PORT)}`];
  writeFileSync(join(dir, "startup-config"), l2tpnsStartupConfig({ bindAddress: ADDR.bind, radiusServer: ADDR.radius, radiusSecret: RADIUS_SECRET, l2tpSecret: "secret", authtypes: "pap", pidFile: join(dir, "lnsd.pid"), extra }));
  const lnsd: NsLnsd = await startLnsdIn(NS.lns, entry, join(dir, "startup-config"));
  t.teardown(() => lnsd.stop());
  t.match(lnsd.log(), /listening for L2TP/, "lnsd is up");

  const online = async (): Promise<number> => {
    const r = await nsRunAsync(NS.lns, process.execPath, ["-e", `fetch("http://127.0.0.1:${String(METRICS_PORT)}/metrics").then((r) => r.text()).then((t) => { process.stdout.write(t); })`], 10_000);
    return value(parseExposition(r.out), "lnsd_sessions_online") ?? -1;
  };
  t.equal(await online(), 0, "lnsd's metrics answer: no session online yet");

  // Its own process group (the reader is a forked child): killed as a group, by its id. stdin stays
  // open and unwritten, so it waits at "Press enter to begin sending traffic" with the sessions up.
  // stdbuf: its "Session N: ADDRESS" lines (IPCP done, on its side) come as they are printed.
  const lac = spawn("ip", ["netns", "exec", NS.lac, "stdbuf", "-oL", generateload, "-s", String(SESSIONS), "-g", ADDR.bind, "-t", ADDR.bind, "-U", BASE, "-P", PASSWORD], { detached: true, stdio: ["pipe", "pipe", "pipe"], env });
  let lacOut = "";
  const lacSessions = new Map<number, string>();
  let partial = "";
  lac.stdout.on("data", (d: Buffer) => {
    const lines = (partial + d.toString()).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      const m = /^Session (\d+): (\d+\.\d+\.\d+\.\d+)$/.exec(line);
      if (m !== null) lacSessions.set(Number(m[1]), m[2] ?? "");
    }
    lacOut = (lacOut + d.toString()).slice(-20_000);
  });
  lac.stderr.on("data", (d: Buffer) => { lacOut = (lacOut + d.toString()).slice(-20_000); });
  const lacExited = new Promise<void>((r) => lac.once("exit", () => { r(); }));
  const killLac = (): void => {
    if (lac.pid !== undefined) {
      try {
        process.kill(-lac.pid, "SIGKILL");
      } catch {
        // Gone already.
      }
    }
  };
  process.once("exit", killLac);
  t.teardown(async () => {
    killLac();
    await lacExited;
    process.off("exit", killLac);
  });

  const started = Date.now();
  let up = 0;
  let last = -1;
  let since = Date.now();
  while (up < SESSIONS && Date.now() - started < 90_000) {
    await sleep(500);
    up = await online();
    if (up !== last) {
      last = up;
      since = Date.now();
    } else if (Date.now() - since > 15_000) {
      break; // Nothing new for 15 s: it has stalled.
    }
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  t.equal(up, SESSIONS, `${String(SESSIONS)} sessions online in lnsd (lnsd_sessions_online ${String(up)} after ${seconds} s)${up === SESSIONS ? "" : `\nlnsd:\n${lnsd.log().slice(-4000)}\ngenerateload:\n${lacOut.slice(-2000)}`}`);
  t.equal(lacSessions.size, SESSIONS, `and on generateload's side (IPCP gave ${String(lacSessions.size)} sessions an address)`);
  t.equal(new Set(lacSessions.values()).size, SESSIONS, "each its own address");
  t.ok([...lacSessions.values()].every((a) => a.startsWith("10.95.")), "from ip_pool");
  t.equal(lac.exitCode, null, "generateload is still running (it stops on a StopCCN)");
});
