// The "l2tpns operator" rig (issue 12): lnsd dropped in where l2tpns ran. Debian's FreeRADIUS from
// its stock files, changed only as l2tpns's documentation says (a client naming the LNS's interface
// address towards the server, a users entry), in a namespace of its own; lnsd with an l2tpns
// startup-config (Debian's, with its l2tp_secret) whose bind_address is not the address FreeRADIUS
// knows it by. A real Linux LAC (xl2tpd + pppd in a VM, shared/tools/vm-lac) dials in: with no
// tunnel secret (CHAP, then PAP), then with the tunnel secret (CHAP); each session comes up and
// pings across. Then lnsd with radius_require_message_authenticator yes against the same server,
// which does not sign its replies (3.2.1): the login fails and lnsd's log says why.
import t from "tap";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { addNamespace, ip, link, nsRunAsync, removeNamespace, startLnsdIn, type NsLnsd } from "./lib/netns.js";
import { l2tpnsStartupConfig, onlineLines, startStockFreeRadius, stockFreeRadiusConfig, whyNoOperatorRig } from "./lib/operator-rig.js";

const here = dirname(fileURLToPath(import.meta.url));
const entry = join(here, "..", "src", "bin", "lnsd.js");
const lacBin = join(here, "..", "..", "..", "testkit", "dist", "src", "bin", "lac.js");
// The repository's checkout sits beside shared/ (CI: a clone of main with shared/ beside it).
const vmLac = join(here, "..", "..", "..", "..", "..", "shared", "tools", "vm-lac", "run.sh");

const prefix = `lnsdop${process.pid}`;
const NS = { lns: `${prefix}s`, radius: `${prefix}r` } as const;
const ADDR = { bind: "10.96.1.1", lnsRadius: "10.96.2.1", radius: "10.96.2.2", pool: "10.99.0.0/28" } as const;
const RADIUS_SECRET = "opradiussecret";
const TUNNEL_SECRET = "op.secret";
const USER = "opuser";
const PASSWORD = "op.pass";

const skip = whyNoOperatorRig() ?? (!existsSync(vmLac) ? `no ${vmLac}` : false);

void t.test("an l2tpns operator's FreeRADIUS, startup-config and Linux LAC", { skip, timeout: 400_000 }, async (t) => {
  for (const n of Object.values(NS)) {
    // Teardown first: a namespace half set up (added, then a command in it failed) goes too.
    t.teardown(() => { removeNamespace(n); });
    addNamespace(n, false);
  }
  // bind_address on the LAC side (eth0, a veth whose peer stays in the namespace: there may be no
  // dummy driver); the server is reached through another interface.
  ip(["-n", NS.lns, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0-peer"]);
  ip(["-n", NS.lns, "addr", "add", `${ADDR.bind}/24`, "dev", "eth0"]);
  for (const dev of ["eth0", "eth0-peer"]) ip(["-n", NS.lns, "link", "set", dev, "up"]);
  link({ ns: NS.lns, dev: "eth-radius", address: `${ADDR.lnsRadius}/24`, mac: "02:00:0c:96:02:01" }, { ns: NS.radius, dev: "eth0", address: `${ADDR.radius}/24`, mac: "02:00:0c:96:02:02" });

  const raddb = stockFreeRadiusConfig(
    [{ name: "lns", ipaddr: ADDR.lnsRadius, secret: RADIUS_SECRET }],
    `${USER} Cleartext-Password := "${PASSWORD}"\n\tService-Type = Framed-User,\n\tFramed-Protocol = PPP\n`,
  );
  const radius = await startStockFreeRadius(NS.radius, raddb);
  t.teardown(() => radius.stop());

  const dir = mkdtempSync(join(tmpdir(), "lnsd-operator-"));
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }); });
  writeFileSync(join(dir, "ip_pool"), `${ADDR.pool}\n`);
  const config = (extra: readonly string[], l2tpSecret?: string): string => {
    const path = join(dir, "startup-config");
    writeFileSync(path, l2tpnsStartupConfig({ bindAddress: ADDR.bind, radiusServer: ADDR.radius, radiusSecret: RADIUS_SECRET, l2tpSecret, authtypes: "chap,pap", pidFile: join(dir, "lnsd.pid"), extra }));
    return path;
  };
  let lnsd: NsLnsd | undefined;
  t.teardown(async () => { await lnsd?.stop(); });

  await t.test("xl2tpd + pppd log in through FreeRADIUS: CHAP and PAP without a tunnel secret, CHAP with it", async (t) => {
    // Debian's startup-config sets l2tp_secret: a LAC without one must still get in (startup-config(5)).
    lnsd = await startLnsdIn(NS.lns, entry, config([], TUNNEL_SECRET));
    t.match(lnsd.log(), /listening for L2TP/, "lnsd is up");
    const runs: [string, "chap" | "pap", string[]][] = [
      ["CHAP, no tunnel secret", "chap", []],
      ["PAP, no tunnel secret", "pap", ["--pppd-opt", "refuse-chap", "--pppd-opt", "refuse-mschap", "--pppd-opt", "refuse-mschap-v2", "--pppd-opt", "refuse-eap"]],
      ["CHAP, with the tunnel secret", "chap", ["--tunnel-secret", TUNNEL_SECRET]],
    ];
    for (const [name, auth, extra] of runs) {
      const before = onlineLines(lnsd.log()).length;
      const r = await new Promise<{ status: number | null; log: string }>((resolve) => {
        const vm = spawn(vmLac, ["--netns", NS.lns, "--user", USER, "--password", PASSWORD, "--timeout", "90", ...extra, ADDR.bind], { stdio: ["ignore", "pipe", "pipe"], timeout: 200_000 });
        let log = "";
        vm.stdout.on("data", (d: Buffer) => (log += d.toString()));
        vm.stderr.on("data", (d: Buffer) => (log += d.toString()));
        vm.on("exit", (status) => { resolve({ status, log }); });
      });
      const online = onlineLines(lnsd.log()).slice(before);
      t.equal(online.length, 1, `${name}: one session came up in lnsd${online.length === 1 ? "" : `\n${lnsd.log().slice(-3000)}`}`);
      t.equal(r.status, 0, `${name}: vm-lac passes${r.status === 0 ? "" : `\n${r.log.slice(-3000)}`}`);
      t.match(r.log, /guest result: PASS ipv4=10\.99\.0\.\d+ /, `${name}: an address from ip_pool, and a ping across the session`);
      t.match(r.log, /host->guest ping: ok/, `${name}: lnsd's side reaches the client`);
      t.same(online.map((o) => [o.user, o.auth]), [[USER, auth]], `${name}: lnsd logged ${USER} in with ${auth.toUpperCase()}`);
    }
    await lnsd.stop();
    lnsd = undefined;
  });

  await t.test("radius_require_message_authenticator yes: FreeRADIUS 3.2.1 does not sign, so logins fail and the log says why", async (t) => {
    lnsd = await startLnsdIn(NS.lns, entry, config(["set radius_require_message_authenticator yes"]));
    t.match(lnsd.log(), /listening for L2TP/, "lnsd is up");
    const lac = await nsRunAsync(NS.lns, process.execPath, [lacBin, "--lns", ADDR.bind, "--tunnels", "1", "--sessions", "1", "--user", USER, "--password", PASSWORD, "--timeout", "6"], 30_000);
    const log = lnsd.log();
    t.equal(onlineLines(log).length, 0, "no session came up");
    t.match(lac.err, /PPP online: 0\/1 sessions/, `the LAC's one call was established and its login failed\n${lac.err.slice(-2000)}`);
    t.match(log, /Message-Authenticator/, "the log names the missing attribute");
    t.match(log, /radius_require_message_authenticator/, "and the setting that refused the reply");
    t.notMatch(log, /not answering/, "the server answered: lnsd does not say otherwise");
    await lnsd.stop();
    lnsd = undefined;
  });
});
