// A real Linux client on a two-node lnsd cluster (issue 14): Debian's xl2tpd and pppd in a small VM
// (shared/tools/vm-lac) dial the cluster's bind_address through the slave (the LAC's route goes
// there, as a router would send it), log in (PAP, OpenWrt's keepalive: an LCP Echo-Request a
// second), and while a host behind the slave pings the client every 0.2 s the master is killed
// (kill -9). The slave takes over from its replica: the client sees nothing (no LCP, PAP or IPCP
// again, no StopCCN or CDN, every Echo-Request but those in the gap answered), the pings go on, and
// the new master ends the same session when the client hangs up. No BGP yet (issue 15): the route
// is static, to the node that survives.
import t from "tap";
import { spawn, type ChildProcessByStdio } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { addNamespace, env, ip, removeNamespace, sleep, until } from "./lib/netns.js";
import { clientLogs, pingFrom } from "./lib/vm-guest.js";

const here = dirname(fileURLToPath(import.meta.url));
const entry = join(here, "..", "src", "bin", "lnsd.js");
const vmLac = join(here, "..", "..", "..", "..", "..", "shared", "tools", "vm-lac", "run.sh");
const root = process.getuid?.() === 0;
const skip = !root ? "needs root (CI runs as root): namespaces, TUN and the VM's tap" : !existsSync(vmLac) ? `no ${vmLac}` : false;
const P = `lnsvc${String(process.pid)}`;
const SW = `${P}-sw`;
const NODES = [`${P}-n1`, `${P}-n2`] as const;
const LAC = `${P}-lac`;
const BIND = "10.232.0.1";
const TUN = "10.233.0.1";
const PING_INTERVAL_S = 0.2;

interface Node {
  readonly proc: ChildProcessByStdio<null, Readable, Readable>;
  readonly exited: Promise<void>;
  log: string;
}

void t.test("xl2tpd + pppd in a VM on a two-node cluster: the master is killed, the client notices nothing", { skip, timeout: 600_000 }, async (t) => {
  const cleanups: (() => unknown)[] = [];
  t.teardown(async () => {
    for (const c of cleanups.reverse()) await c();
  });
  for (const ns of [SW, ...NODES, LAC]) {
    addNamespace(ns, false);
    cleanups.push(() => { removeNamespace(ns); });
  }
  ip(["-n", SW, "link", "add", "br0", "type", "bridge"]);
  ip(["-n", SW, "link", "set", "br0", "up"]);
  const addresses = ["10.231.0.11", "10.231.0.12", "10.231.0.100"];
  [...NODES, LAC].forEach((ns, i) => {
    ip(["link", "add", `${P}v${String(i)}`, "netns", SW, "type", "veth", "peer", "name", "eth0", "netns", ns]);
    ip(["-n", SW, "link", "set", `${P}v${String(i)}`, "master", "br0", "up"]);
    ip(["-n", ns, "link", "set", "eth0", "up"]);
    ip(["-n", ns, "addr", "add", `${addresses[i] ?? ""}/24`, "dev", "eth0"]);
    if (ns !== LAC) {
      ip(["-n", ns, "addr", "add", `${BIND}/32`, "dev", "lo"]);
      ip(["-n", ns, "route", "add", "224.0.0.0/4", "dev", "eth0"]);
    }
  });
  // The LAC's way to the cluster: through the slave, which survives the master's death.
  ip(["-n", LAC, "route", "add", `${BIND}/32`, "via", "10.231.0.12"]);

  const dir = mkdtempSync(join(tmpdir(), "lnsd-vmcluster-"));
  cleanups.push(() => { rmSync(dir, { recursive: true, force: true }); });
  const nodes: Node[] = [];
  const start = (i: number): Node => {
    const d = join(dir, `n${String(i + 1)}`);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, "startup-config"), [
      "set debug 3",
      `set bind_address ${BIND}`,
      `set iftun_address ${TUN}`,
      `set tundevicename ${P.slice(0, 8)}t${String(i)}`,
      'set radius_authtypes "pap,chap"',
      "set nsctl_port 0",
      "set cluster_address 239.192.13.13",
      "set cluster_interface eth0",
      "set cluster_hb_interval 1",
      "set cluster_hb_timeout 5",
      "set cluster_secret vm.cluster",
      `set state_directory "${join(d, "state")}"`,
      "",
    ].join("\n"));
    writeFileSync(join(d, "ip_pool"), "198.51.100.0/28\n");
    writeFileSync(join(d, "chap-secrets"), `vmuser * "vm.pass" *\n`);
    const proc = spawn("ip", ["netns", "exec", NODES[i] ?? "", process.execPath, entry, "-c", join(d, "startup-config")], { stdio: ["ignore", "pipe", "pipe"], env });
    const n: Node = { proc, exited: new Promise<void>((r) => proc.on("exit", () => { r(); })), log: "" };
    proc.stdout.on("data", (x: Buffer) => (n.log += x.toString()));
    proc.stderr.on("data", (x: Buffer) => (n.log += x.toString()));
    cleanups.push(async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
      await n.exited;
    });
    return n;
  };
  const n1 = start(0);
  nodes.push(n1);
  t.ok(await until(() => n1.log.includes("I am declaring myself the master!"), 10_000), "n1 is the master");
  const n2 = start(1);
  nodes.push(n2);
  t.ok(await until(() => n2.log.includes("Now uptodate with master."), 10_000), "n2 is an up-to-date slave", { log: n2.log });

  let vmLog = "";
  const vm = new Promise<number | null>((resolve) => {
    const p = spawn(vmLac, ["--netns", LAC, "--nat", "--host-ping-ns", NODES[1], "--user", "vmuser", "--password", "vm.pass", "--no-ipv6", "--ping", TUN,
      "--pppd-opt", "refuse-chap", "--pppd-opt", "refuse-mschap", "--pppd-opt", "refuse-mschap-v2", "--pppd-opt", "refuse-eap",
      "--pppd-opt", "lcp-echo-interval 1", "--pppd-opt", "lcp-echo-failure 5", "--hold", "14", BIND], { stdio: ["ignore", "pipe", "pipe"], timeout: 300_000 });
    p.stdout.on("data", (d: Buffer) => (vmLog += d.toString()));
    p.stderr.on("data", (d: Buffer) => (vmLog += d.toString()));
    p.on("exit", (status) => { resolve(status); });
  });
  const online = /session (\d+\/\d+) vmuser online, address (198\.51\.100\.\d+) \(pap\)/;
  t.ok(await until(() => online.test(n1.log), 150_000), "the client is online on the master", { vm: vmLog.slice(-2000) });
  const [, session = "", address = ""] = online.exec(n1.log) ?? [];
  const runDir = /run dir (\/\S+);/.exec(vmLog)?.[1] ?? "";
  const consoleSays = (s: string): boolean => existsSync(join(runDir, "console.log")) && readFileSync(join(runDir, "console.log"), "latin1").includes(s);
  t.ok(await until(() => consoleSays(`extra ping ${TUN}`), 40_000), "the guest's own ping through the cluster is done");

  // A host behind the slave pings the client: the slave forwards for the session from its replica.
  const ping = pingFrom(NODES[1], address, PING_INTERVAL_S);
  const replies = ping.replies;
  cleanups.push(() => ping.stop());
  await sleep(1500);
  const killedAt = Date.now();
  n1.proc.kill("SIGKILL");
  await n1.exited;
  const took = /took over 1 tunnels and 1 sessions from the replica of the master's state: 1 online/;
  t.ok(await until(() => took.test(n2.log), 5000), "n2 took over the tunnel and the online session", { log: n2.log.slice(-2000) });
  const tookAt = Date.now();
  await sleep(4000);
  await ping.stop();
  const status = await vm;
  t.equal(status, 0, `vm-lac passes${status === 0 ? "" : `\n${vmLog.slice(-3000)}`}`);

  const seqs = [...replies.keys()].sort((a, b) => a - b);
  const times = seqs.map((s) => replies.get(s) ?? 0);
  let gapMs = 0;
  for (let i = 1; i < times.length; i++) gapMs = Math.max(gapMs, (times[i] ?? 0) - (times[i - 1] ?? 0));
  const after = times.filter((x) => x > tookAt).length;
  t.comment(`takeover ${String(tookAt - killedAt)} ms after the kill; ping ${address} from behind the slave: ${String(seqs.length)} replies, longest gap ${String(gapMs)} ms, ${String(after)} after the takeover`);
  t.ok(seqs.length >= 20, "the host reached the client before and after the kill");
  t.ok(gapMs < 1000, `no gap of a second in the client's traffic (longest ${String(gapMs)} ms)`);
  t.ok(after >= 10, "traffic after the takeover");

  const c = readFileSync(join(runDir, "console.txt"), "latin1");
  const { pppdSession, pppdTeardown, xl2tpdSession } = clientLogs(c);
  t.ok(pppdTeardown !== "", "pppd ran until the client's own teardown");
  t.notMatch(pppdSession, /TermReq|TermAck|[Hh]angup|No response to|appears to be disconnected|Connection terminated|LCP terminated|LCP down/, "pppd logged no termination while the master died");
  t.same(pppdSession.match(/^local {2}IP address .*$/gm), [`local  IP address ${address}`], "one address, one session throughout");
  const negotiated = pppdSession.lastIndexOf("\nlocal  IP address");
  t.notMatch(pppdSession.slice(negotiated).split("\n").slice(1).join("\n"), /(sent|rcvd) \[(LCP|PAP|IPCP) Conf/, "no negotiation again after IPCP was up");
  const echoReqs = [...pppdSession.matchAll(/^sent \[LCP EchoReq id=(0x[0-9a-f]+)/gm)].map((m) => Number(m[1]));
  const echoReps = new Set([...pppdSession.matchAll(/^rcvd \[LCP EchoRep id=(0x[0-9a-f]+)/gm)].map((m) => Number(m[1])));
  const unanswered = echoReqs.filter((id) => !echoReps.has(id));
  t.comment(`pppd: ${String(echoReqs.length)} LCP Echo-Requests, ${String(unanswered.length)} unanswered`);
  t.ok(echoReqs.length >= 8, "pppd sent its keepalives");
  t.ok(unanswered.length <= 1, "the new master answers pppd's LCP Echo-Requests (one may fall in the takeover)");
  t.match(pppdTeardown, /rcvd \[LCP TermAck/, "the new master acknowledged pppd's Terminate-Request at the end");
  t.notMatch(xl2tpdSession, /Stop-Control-Connection-Notification|Call-Disconnect-Notify|Maximum retries|closed to|Disconnecting|call_close|result.code/i, "xl2tpd got no StopCCN or CDN and gave up nothing");
  t.ok(await until(() => new RegExp(`session ${session} vmuser offline`).test(n2.log), 5000), `the new master ends the same session ${session} when the client hangs up`);
});
