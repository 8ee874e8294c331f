// A real Linux client against lnsd: Debian's xl2tpd and pppd in a small VM (shared/tools/vm-lac)
// dial lnsd running in a network namespace of the test's own, log in with CHAP and then with PAP,
// get an address through IPCP, bring IPV6CP up, and ping across the session both ways; then once
// more with a tunnel secret (tunnel authentication and hidden AVPs against xl2tpd). The CHAP run
// also pings an "internet" host in a namespace beyond lnsd's (which forwards), and is pinged from it.
// During the PAP run lnsd is restarted twice under the client (issue 13): SIGTERM and started
// again, then kill -9 and started again, while the internet host pings the client's PPP address.
import t from "tap";
import { execFileSync, spawn, type ChildProcessByStdio } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { env, sleep, until } from "./lib/netns.js";
import { clientLogs, pingFrom } from "./lib/vm-guest.js";

const here = dirname(fileURLToPath(import.meta.url));
const entry = join(here, "..", "src", "bin", "lnsd.js");
// The repository's checkout sits beside shared/ (CI: a clone of main with shared/ beside it).
const vmLac = join(here, "..", "..", "..", "..", "..", "shared", "tools", "vm-lac", "run.sh");
const ns = `lnsdvm${process.pid}`;
const inetNs = `lnsdvmi${process.pid}`;
const INET = "203.0.113.2";
const root = process.getuid?.() === 0;
const skip = !root ? "needs root (CI runs as root): namespaces, TUN and the VM's tap" : !existsSync(vmLac) ? `no ${vmLac}` : false;

/** One lnsd process; its output also goes to the test's whole log. */
interface LnsdProcess {
  readonly proc: ChildProcessByStdio<null, Readable, Readable>;
  readonly exited: Promise<void>;
  log: string;
}

/** One restart of lnsd under the client: stopped, resumed by the new lnsd, and the traffic window after it (epoch ms). */
interface Restart {
  readonly how: "SIGTERM" | "kill -9";
  readonly stoppedAt: number;
  readonly resumedAt: number;
  readonly endedAt: number;
  readonly resumedLine: string;
}

const PING_INTERVAL_S = 0.2;

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
  // The journal of issue 13 in the test's own directory (removed at the end), not /var/lib/lnsd.
  const startupConfig = (extra = ""): string =>
    `set debug 3\nset bind_address 0.0.0.0\nset tundevicename lnsdvm0\nset iftun_address 192.0.2.1\nset radius_authtypes "chap,pap"\nset ipv6_prefix 2001:db8:1::\nset primary_dns 192.0.2.53\nset state_directory "${join(dir, "state")}"\n${extra}`;
  writeFileSync(join(dir, "startup-config"), startupConfig());
  writeFileSync(join(dir, "ip_pool"), "198.51.100.0/28\n");
  writeFileSync(join(dir, "chap-secrets"), `vmuser * "vm.pass" *\n`);
  let out = "";
  const startLnsd = (): LnsdProcess => {
    const proc = spawn("ip", ["netns", "exec", ns, process.execPath, entry, "-c", join(dir, "startup-config")], { stdio: ["ignore", "pipe", "pipe"], env });
    const p: LnsdProcess = { proc, exited: new Promise<void>((r) => proc.on("exit", () => { r(); })), log: "" };
    const take = (d: Buffer): void => {
      p.log += d.toString();
      out += d.toString();
    };
    proc.stdout.on("data", take);
    proc.stderr.on("data", take);
    return p;
  };
  let lnsd = startLnsd();
  t.teardown(async () => {
    if (lnsd.proc.exitCode === null && lnsd.proc.signalCode === null) lnsd.proc.kill("SIGKILL");
    await lnsd.exited;
    rmSync(dir, { recursive: true, force: true });
  });
  await until(() => lnsd.log.includes("listening for L2TP"), 5000);
  t.match(out, /listening for L2TP/);

  const runs: [string, string[]][] = [
    ["chap", ["--ping", INET, "--host-ping-ns", inetNs]],
    // lnsd restarted twice under this one: the client's LCP keepalive as OpenWrt's default
    // (`keepalive 5 1`: an Echo-Request a second, the link dead after 5 unanswered), held long
    // enough for both restarts.
    ["pap", ["--pppd-opt", "refuse-chap", "--pppd-opt", "refuse-mschap", "--pppd-opt", "refuse-mschap-v2", "--pppd-opt", "refuse-eap", "--pppd-opt", "lcp-echo-interval 1", "--pppd-opt", "lcp-echo-failure 5", "--hold", "16"]],
    // Then with a tunnel secret (set by a SIGHUP reload): tunnel authentication both ways and
    // lnsd's hidden AVPs, against xl2tpd.
    ["chap", ["--tunnel-secret", "vm.secret"]],
  ];
  for (const [auth, extra] of runs) {
    if (extra.includes("--tunnel-secret")) {
      writeFileSync(join(dir, "startup-config"), startupConfig(`set l2tp_secret "vm.secret"\n`));
      lnsd.proc.kill("SIGHUP");
      await until(() => lnsd.log.includes("reloaded"), 5000);
      t.match(lnsd.log, /reloaded/, "the tunnel secret is set by a reload");
    }
    const restarting = extra.includes("--hold");
    // run.sh builds (and caches) the guest on first use; it says PASS or FAIL on its last line.
    // Asynchronously, so that lnsd's log keeps being read meanwhile.
    let log = "";
    const r = new Promise<{ status: number | null }>((resolve) => {
      const vm = spawn(vmLac, ["--netns", ns, "--user", "vmuser", "--password", "vm.pass", "--require-ipv6", "--ping", "192.0.2.1", ...extra, "10.231.255.1"], { stdio: ["ignore", "pipe", "pipe"], timeout: 300_000 });
      vm.stdout.on("data", (d: Buffer) => (log += d.toString()));
      vm.stderr.on("data", (d: Buffer) => (log += d.toString()));
      vm.on("exit", (status) => { resolve({ status }); });
    });
    const restarts = restarting ? await restartUnderClient(() => log) : undefined;
    const status = (await r).status;
    t.equal(status, 0, `${auth}: vm-lac passes${status === 0 ? "" : `\n${log.slice(-3000)}`}`);
    t.match(log, /guest result: PASS ipv4=198\.51\.100\.\d+ peer=192\.0\.2\.1 ping=ok ipv6cp=up/, `${auth}: address by IPCP, IPV6CP up, ping across`);
    t.match(log, /extra ping 192\.0\.2\.1 ok/);
    t.match(log, /host->guest ping: ok/, `${auth}: lnsd's side reaches the client`);
    if (extra.includes(INET)) {
      t.match(log, /extra ping 203\.0\.113\.2 ok/, `${auth}: the client reaches the internet host through lnsd`);
      t.match(log, new RegExp(`host \\(${inetNs}\\) -> guest ppp0 198\\.51\\.100\\.\\d+ ping: ok`), `${auth}: the internet host reaches the client through lnsd`);
    }
    t.match(out, new RegExp(`vmuser online, address 198\\.51\\.100\\.\\d+ \\(${auth}\\)`), `${auth}: lnsd saw a ${auth.toUpperCase()} login`);
    if (restarts !== undefined) await checkClientKeptTheSession(restarts, log);
  }
  lnsd.proc.kill("SIGQUIT");
  await lnsd.exited;

  /**
   * Once the client is online and done with its own pings, ping its PPP address from the internet
   * host every 0.2 s, and restart lnsd under it: SIGTERM, then kill -9, each time started again
   * with the same startup-config and given a few seconds of traffic. From the internet host, not
   * from lnsd's namespace: there the pool's route goes with the TUN device while no lnsd runs,
   * and busybox ping gives up at the first "Network is unreachable".
   */
  async function restartUnderClient(vmLog: () => string): Promise<{ session: string; address: string; replies: Map<number, number>; restarts: Restart[]; runDir: string }> {
    const online = /session (\d+\/\d+) vmuser online, address (198\.51\.100\.\d+) \(pap\)/;
    t.ok(await until(() => online.test(lnsd.log), 120_000), "pap: the client is online");
    const [, session = "", address = ""] = online.exec(lnsd.log) ?? [];
    const runDir = /run dir (\/\S+);/.exec(vmLog())?.[1] ?? "";
    const consoleSays = (s: string): boolean => existsSync(join(runDir, "console.log")) && readFileSync(join(runDir, "console.log"), "latin1").includes(s);
    t.ok(await until(() => consoleSays("extra ping 192.0.2.1"), 30_000), "pap: the guest's own pings are done");
    const ping = pingFrom(inetNs, address, PING_INTERVAL_S);
    const replies = ping.replies;
    t.teardown(() => ping.stop());
    await sleep(1500);
    const restarts: Restart[] = [];
    for (const how of ["SIGTERM", "kill -9"] as const) {
      const stoppedAt = Date.now();
      lnsd.proc.kill(how === "SIGTERM" ? "SIGTERM" : "SIGKILL");
      await lnsd.exited;
      lnsd = startLnsd();
      const resumed = /resumed \d+ tunnels and \d+ sessions from .*/;
      await until(() => resumed.test(lnsd.log) || lnsd.proc.exitCode !== null, 20_000);
      const resumedAt = Date.now();
      // The CHAP run's tunnel may still be there, closing after its StopCCN (RFC 2661 5.7).
      t.match(lnsd.log, /resumed [12] tunnels and 1 sessions from \S+ \(written [\d.]+ s ago\): 1 online, 0 starting PPP again, 0 in L2TP setup/, `after ${how}: lnsd resumed the tunnel and the online session`);
      await sleep(2500);
      restarts.push({ how, stoppedAt, resumedAt, endedAt: Date.now(), resumedLine: resumed.exec(lnsd.log)?.[0] ?? "(none)" });
    }
    await ping.stop();
    t.notOk(consoleSays("disconnecting: kill -TERM pppd"), "the client was still holding its session when the restarts were over (--hold long enough)");
    return { session, address, replies, restarts, runDir };
  }

  /**
   * The ping carried on after each restart, and the client saw none of it: pppd and xl2tpd logged no
   * termination before the client's own teardown at the end, which the resumed lnsd answered.
   */
  async function checkClientKeptTheSession(r: Awaited<ReturnType<typeof restartUnderClient>>, vmLog: string): Promise<void> {
    const { session, address, replies, restarts, runDir } = r;
    for (const x of restarts) {
      const before = [...replies].filter(([, at]) => at < x.stoppedAt).map(([seq]) => seq);
      const after = [...replies].filter(([, at]) => at >= x.resumedAt && at < x.endedAt);
      const lastBefore = Math.max(-1, ...before);
      const firstAfter = after.length === 0 ? lastBefore + 1 : Math.min(...after.map(([seq]) => seq));
      let lost = 0;
      for (let s = lastBefore + 1; s < firstAfter; s++) if (!replies.has(s)) lost++;
      const gapS = ((replies.get(firstAfter) ?? NaN) - (replies.get(lastBefore) ?? NaN)) / 1000;
      const firstS = ((replies.get(firstAfter) ?? NaN) - x.resumedAt) / 1000;
      t.comment(`${x.how}: ${x.resumedLine}; restart took ${((x.resumedAt - x.stoppedAt) / 1000).toFixed(1)} s; ping: ${lost} lost (${PING_INTERVAL_S} s apart), ${gapS.toFixed(1)} s without a reply, the first ${firstS.toFixed(2)} s after the resumed line, ${after.length} replies in the ${((x.endedAt - x.resumedAt) / 1000).toFixed(1)} s after`);
      t.ok(after.length >= 5, `after ${x.how}: the internet host still reaches the client's ${address} (${after.length} replies, ${lost} lost in the gap)`);
    }
    const seqs = [...replies.keys()];
    const lostInAll = Math.max(...seqs) + 1 - seqs.length;
    t.comment(`ping ${address}: ${seqs.length} replies to ${Math.max(...seqs) + 1} requests, ${lostInAll} lost`);

    const c = readFileSync(join(runDir, "console.txt"), "latin1");
    const { pppdSession, pppdTeardown, xl2tpdSession } = clientLogs(c);
    t.ok(pppdTeardown !== "", "pppd ran until the client's own teardown");
    t.notMatch(pppdSession, /TermReq|TermAck|[Hh]angup|No response to|appears to be disconnected|Connection terminated|LCP terminated|LCP down/, "pppd logged no termination or hang-up while lnsd restarted");
    t.same(pppdSession.match(/^local {2}IP address .*$/gm), [`local  IP address ${address}`], "pppd negotiated its address once: the same session throughout");
    const negotiated = Math.max(pppdSession.lastIndexOf("\nlocal  IP address"), pppdSession.lastIndexOf("\nremote LL address"));
    t.notMatch(pppdSession.slice(negotiated).split("\n").slice(1).join("\n"), /(sent|rcvd) \[(LCP|PAP|IPCP|IPV6CP) Conf/, "no LCP, PAP, IPCP or IPV6CP negotiation again once IPCP and IPV6CP were up");
    // OpenWrt's keepalive: every Echo-Request of the client answered but those in a restart's gap.
    const echoReqs = [...pppdSession.matchAll(/^sent \[LCP EchoReq id=(0x[0-9a-f]+)/gm)].map((m) => Number(m[1]));
    const echoReps = new Set([...pppdSession.matchAll(/^rcvd \[LCP EchoRep id=(0x[0-9a-f]+)/gm)].map((m) => Number(m[1])));
    const unanswered = echoReqs.filter((id) => !echoReps.has(id));
    t.comment(`pppd: ${echoReqs.length} LCP Echo-Requests a second apart, ${unanswered.length} unanswered (ids ${unanswered.join(", ") || "-"})`);
    const lastEchoReq = Math.max(...echoReqs);
    t.ok(echoReqs.length >= 10 && (echoReps.has(lastEchoReq) || echoReps.has(lastEchoReq - 1)), "the resumed lnsd answers pppd's LCP Echo-Requests");
    t.match(pppdTeardown, /rcvd \[LCP TermAck/, "the resumed lnsd acknowledged pppd's LCP Terminate-Request at the end");
    t.notMatch(xl2tpdSession, /Stop-Control-Connection-Notification|Call-Disconnect-Notify|Maximum retries|closed to|Disconnecting|call_close|result.code/i, "xl2tpd got no StopCCN or CDN and gave up nothing while lnsd restarted");
    t.match(vmLog, new RegExp(`guest result: PASS ipv4=${address.replace(/\./g, "\\.")} `), "the client's address is the one lnsd gave before the restarts");
    const offline = new RegExp(`session ${session} vmuser offline`);
    t.ok(await until(() => offline.test(lnsd.log), 5000), `the restarted lnsd ends the same session ${session} when the client hangs up`);
    t.match(lnsd.log, new RegExp(`tunnel ${session.split("/")[0] ?? ""} closing \\(StopCCN from the LAC\\)`), "and takes xl2tpd's StopCCN on the resumed control channel");
  }
});
