// Sessions' policy in lnsd's worker data plane, with real traffic (issue 7), across four network
// namespaces of the test's own: the test LAC, lnsd (2 data workers, its TUN device, FreeRADIUS and
// its CLI and nsctl on loopback), an "internet" host with two addresses, and a host that takes the
// interception copies. A throttled session's TCP runs at its rate each way; an intercepted session's
// packets arrive in copies byte for byte, both ways, until the interception stops; access lists from
// the startup-config, applied by the CLI and by RADIUS Filter-Id, pass what they permit, stop what
// they deny and count both; a gardened session reaches only what the list "garden" permits until it
// is let out; and 1,000 sessions lose no ping while nsctl loads and unloads plugins.
import t from "tap";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildIcmpEcho, buildIpv4Udp, parseIpv4 } from "@lnsd/wire";
import { whyNoFreeRadius } from "./lib/freeradius.js";
import { env, link, namespaceLab, startLnsdIn, startRadiusChild, nsRun, nsRunAsync, sleep, spawnLineChild, sysctl, until, type LineChild } from "./lib/netns.js";
import type { UdpRecord } from "./lib/udp-child.js";

const here = dirname(fileURLToPath(import.meta.url));
const entry = join(here, "..", "src", "bin", "lnsd.js");
const lib = (name: string): string => join(here, "lib", `${name}.js`);
const node = process.execPath;
const checkout = join(here, "..", "..", "..", "..");

const prefix = `lnspol${process.pid}`;
const NS = { lac: `${prefix}l`, lns: `${prefix}s`, inet: `${prefix}i`, tap: `${prefix}t` } as const;
const ADDR = {
  lac: "10.98.1.2",
  lnsL2tp: "10.98.1.1",
  lnsInet: "10.98.2.1",
  inet: "10.98.2.2",
  /** The internet host's second address: what the access lists and the garden deny. */
  inet2: "10.98.2.3",
  lnsTap: "10.98.4.1",
  tap: "10.98.4.2",
  tun: "192.0.2.1",
  pool: "10.101.0.0/21",
} as const;
const TUN = "lnspol0";
const SECRET = "policy test secret";
const PASSWORD = "pol pass";
/** The interception copies' destination port on the tap host. */
const SNOOP_PORT = 5555;
/** Ports of the internet host's UDP sink. */
const UDP_OK = 5001;
const UDP_DENIED = 5002;
const UDP_FROM = 5003;
/** The throttle: kbit/s each way (LNSD_TEST_THROTTLE_KBPS tries another rate, for tuning the bucket). */
const RATE_KBPS = Number(process.env.LNSD_TEST_THROTTLE_KBPS ?? "8000");
const IPERF_SECONDS = 3;
const STEADY = { tunnels: 10, perTunnel: 100, seconds: 6, intervalMs: 500 } as const;
const CYCLE_PLUGINS = ["stripdomain", "sessionctl", "example"] as const;
const CYCLES = 3;

/** The garden plugin is another engineer's, under way: used when it has been built. */
const gardenBuilt = existsSync(join(checkout, "plugins", "garden", "dist"));
const DEBIAN_NSCTL = "/usr/sbin/nsctl";

const USERS = [
  // RADIUS Filter-Id (RFC 2865 5.11) as l2tpns reads it: NAME.out filters traffic to the subscriber.
  `pol-radf Cleartext-Password := "${PASSWORD}"`,
  `\tFilter-Id = "polout.out"`,
  // Refused by RADIUS: the garden plugin lets it in, gardened.
  "pol-garden Auth-Type := Reject",
  `DEFAULT Cleartext-Password := "${PASSWORD}"`,
  "",
].join("\n");

const root = process.getuid?.() === 0;
const tool = (name: string): boolean => (process.env.PATH ?? "").split(":").some((d) => existsSync(join(d, name)));
/** iputils' ping, else busybox's. */
const ping: readonly [string, ...string[]] = tool("ping") ? ["ping"] : ["busybox", "ping"];
const skip = !root
  ? "needs root (CI runs as root): TUN and network namespaces"
  : (whyNoFreeRadius() ?? (!tool("iperf3") ? "iperf3 not installed" : !existsSync(DEBIAN_NSCTL) ? "Debian's nsctl (package l2tpns) not installed" : undefined));

interface IperfJson {
  readonly end?: {
    readonly sum_received?: { readonly bytes?: number; readonly bits_per_second?: number; readonly seconds?: number };
    readonly sum_sent?: { readonly bytes?: number; readonly bits_per_second?: number; readonly retransmits?: number };
  };
}

interface Taken {
  readonly received: readonly string[];
  readonly replied: readonly string[];
}

interface SteadyResult {
  readonly sessions: number;
  readonly stillOnline: number;
  readonly rounds: number;
  readonly sentMs: number;
  readonly sent: number;
  readonly answered: number;
  readonly lost: number;
  readonly sessionsWithLoss: number;
  readonly lossy: readonly string[];
  readonly duplicates: number;
  readonly wrong: number;
  readonly wrongExamples: readonly string[];
  readonly udpDrops: number;
}

/** The TCP counters (nstat) that tell how a sender met the policer's drops. */
const TCP_STATS = ["TcpOutSegs", "TcpRetransSegs", "TcpExtTCPTimeouts", "TcpExtTCPLossProbes", "TcpExtTCPSackRecovery", "TcpExtTCPFastRetrans", "TcpExtTCPSlowStartRetrans"] as const;
function tcpStats(ns: string): Record<string, number> {
  try {
    return (JSON.parse(nsRun(ns, "nstat", ["-asz", "--json"])) as { kernel?: Record<string, number> }).kernel ?? {};
  } catch {
    return {};
  }
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
/** A pattern of n bytes, different for each `seed`. */
const pattern = (n: number, seed: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + seed * 31) & 0xff));

if (skip !== undefined) {
  t.plan(0, skip);
} else {
  /** Undone last first, in the file's teardown. */
  const cleanups = namespaceLab(t, [[NS.lac, false], [NS.lns, true], [NS.inet, false], [NS.tap, false]] as const);
  link({ ns: NS.lac, dev: "eth0", address: `${ADDR.lac}/24`, mac: "02:00:0a:62:01:02" }, { ns: NS.lns, dev: "eth-lac", address: `${ADDR.lnsL2tp}/24`, mac: "02:00:0a:62:01:01" });
  link({ ns: NS.lns, dev: "eth-inet", address: `${ADDR.lnsInet}/24`, mac: "02:00:0a:62:02:01" }, { ns: NS.inet, dev: "eth0", address: `${ADDR.inet}/24`, mac: "02:00:0a:62:02:02" });
  link({ ns: NS.lns, dev: "eth-tap", address: `${ADDR.lnsTap}/24`, mac: "02:00:0a:62:04:01" }, { ns: NS.tap, dev: "eth0", address: `${ADDR.tap}/24`, mac: "02:00:0a:62:04:02" });
  nsRun(NS.inet, "ip", ["addr", "add", `${ADDR.inet2}/24`, "dev", "eth0"]);
  nsRun(NS.lns, "ip", ["neigh", "replace", ADDR.inet2, "lladdr", "02:00:0a:62:02:02", "dev", "eth-inet", "nud", "permanent"]);
  nsRun(NS.inet, "ip", ["route", "add", ADDR.pool, "via", ADDR.lnsInet]);
  // Echo replies are not rate-limited (icmp_ratemask); nothing else of the internet host's ICMP may be either.
  sysctl(NS.inet, ["net.ipv4.icmp_ratelimit=0"]);

  // FreeRADIUS in lnsd's namespace, on its loopback.
  const { authPort } = await startRadiusChild(NS.lns, node, lib("radius-child"), SECRET, USERS, cleanups);

  const dir = mkdtempSync(join(tmpdir(), "lnsd-policy-"));
  cleanups.push(() => { rmSync(dir, { recursive: true, force: true }); });
  writeFileSync(
    join(dir, "startup-config"),
    [
      "set debug 3",
      "set hostname poltest",
      "set data_workers 2",
      // lnsd sends RADIUS from bind_address when one is set; the test FreeRADIUS knows 127.0.0.0/8 only.
      "set bind_address 0.0.0.0",
      `set tundevicename ${TUN}`,
      `set iftun_address ${ADDR.tun}`,
      'set radius_authtypes "chap,pap"',
      "set primary_radius 127.0.0.1",
      `set primary_radius_port ${authPort}`,
      `set radius_secret "${SECRET}"`,
      "set cli_bind_address 127.0.0.1",
      ...(gardenBuilt ? ['load plugin "garden"'] : []),
      // From the subscriber: UDP to one port of the internet host, and its IP (so ICMP) otherwise.
      "ip access-list extended polin",
      ` permit udp any host ${ADDR.inet} eq ${UDP_OK}`,
      " deny udp any any",
      ` permit ip any host ${ADDR.inet}`,
      // To the subscriber: not UDP port 6002.
      "ip access-list extended polout",
      " deny udp any any eq 6002",
      " permit ip any any",
      // The walled garden: the internet host's first address, both ways.
      "ip access-list extended garden",
      ` permit ip any host ${ADDR.inet}`,
      ` permit ip host ${ADDR.inet} any`,
      "",
    ].join("\n"),
  );
  writeFileSync(join(dir, "ip_pool"), `${ADDR.pool}\n`);
  const lnsd = await startLnsdIn(NS.lns, entry, join(dir, "startup-config"), 300_000);
  cleanups.push(async () => {
    if (!t.passing()) t.comment(`lnsd's log, last lines:\n${lnsd.log().slice(-8000)}`);
    await lnsd.stop();
  });

  // The CLI, from 127.0.0.1 in lnsd's namespace: no login; enable asks no password (no users file).
  const cli = spawnLineChild(NS.lns, node, [lib("cli-child")]);
  cleanups.push(() => cli.kill());
  const firstPrompt = await cli.next<string>("ready", 10_000);
  const command = async (line: string): Promise<string> => {
    cli.send(line);
    return cli.next<string>("out", 10_000);
  };
  await command("enable");
  const nsctl = (...args: string[]): Promise<{ code: number | null; out: string; err: string }> => nsRunAsync(NS.lns, DEBIAN_NSCTL, ["-h", "127.0.0.1", ...args], 10_000);

  /** The internet host's UDP sink (and sender), on both its addresses. */
  const sink = spawnLineChild(NS.inet, node, [lib("udp-child"), "0.0.0.0", `${UDP_OK},${UDP_DENIED},${UDP_FROM}`]);
  cleanups.push(() => sink.kill());
  await sink.next("ready", 10_000);
  const sinkTake = async (): Promise<UdpRecord[]> => {
    sink.send("take");
    return sink.next<UdpRecord[]>("taken", 5000);
  };

  void t.test("lnsd is up with 2 data workers, its TUN device, FreeRADIUS, the CLI and its access lists", (t) => {
    t.match(lnsd.log(), new RegExp(`${TUN} up, mtu 1462, address 192\\.0\\.2\\.1/32, routes 10\\.101\\.0\\.0/21; 2 data workers`), "the TUN device and 2 data workers");
    t.equal(firstPrompt, "poltest> ", "the CLI's prompt");
    t.notMatch(lnsd.log(), /access lists not loaded/, "the access lists loaded");
    t.comment(`the garden plugin ${gardenBuilt ? "is built: loaded from the startup-config" : "is not built (no plugins/garden/dist)"}`);
    t.end();
  });

  void t.test(`a session throttled to ${RATE_KBPS} kbit/s by the CLI carries TCP at that rate each way`, async (t) => {
    const relay: LineChild = spawnLineChild(NS.lac, node, [lib("relay-child"), ADDR.lnsL2tp, ADDR.lac, "polrelay0", "pol-thr", PASSWORD, `${ADDR.inet}/32`]);
    cleanups.push(() => relay.kill());
    await relay.next<{ address: string }>("up", 20_000);
    const server = spawn("ip", ["netns", "exec", NS.inet, "iperf3", "-s", "-B", ADDR.inet, "-p", "5201"], { stdio: "ignore", env });
    const reapServer = (): void => { server.kill("SIGKILL"); };
    process.once("exit", reapServer);
    const serverExited = new Promise<void>((r) =>
      server.on("exit", () => {
        process.off("exit", reapServer);
        r();
      }),
    );
    const stopServer = async (): Promise<void> => {
      if (server.exitCode === null && server.signalCode === null) server.kill("SIGKILL");
      await serverExited;
    };
    cleanups.push(stopServer);
    t.ok(await until(() => nsRun(NS.inet, "ss", ["-ltn"]).includes(`${ADDR.inet}:5201`), 5000, 50), "iperf3 server listening");
    /** iperf3 over the relay: kbit/s received, and how it went. */
    const iperf = async (reverse: boolean, seconds: number): Promise<{ kbps: number; detail: string }> => {
      const way = reverse ? "download (-R)" : "upload";
      // How the sender's TCP lost and recovered: its namespace's counters.
      const senderNs = reverse ? NS.inet : NS.lac;
      const before = tcpStats(senderNs);
      const r = await nsRunAsync(NS.lac, "iperf3", ["-c", ADDR.inet, "-p", "5201", "-t", String(seconds), "--connect-timeout", "3000", "-J", ...(reverse ? ["-R"] : [])], 20_000);
      t.equal(r.code, 0, `iperf3 ${way}${r.code === 0 ? "" : `: ${r.out.slice(-2000)}${r.err}`}`);
      const after = tcpStats(senderNs);
      const j = r.code === 0 ? (JSON.parse(r.out) as IperfJson) : {};
      const kbps = (j.end?.sum_received?.bits_per_second ?? 0) / 1000;
      const sentKbps = (j.end?.sum_sent?.bits_per_second ?? 0) / 1000;
      // TCP payload over the relay's 1400-byte MTU with timestamps: 1348 of every 1400 IP bytes the policer counts.
      const ipKbps = (kbps * 1400) / 1348;
      const tcp = TCP_STATS.map((k) => `${k.replace(/^Tcp(Ext)?/, "")} ${(after[k] ?? 0) - (before[k] ?? 0)}`).join(", ");
      return {
        kbps,
        detail: `${way}: ${kbps.toFixed(0)} kbit/s received (TCP payload; about ${ipKbps.toFixed(0)} kbit/s of IP), ${sentKbps.toFixed(0)} kbit/s sent, ${j.end?.sum_sent?.retransmits ?? "?"} retransmits, ${j.end?.sum_received?.bytes ?? 0} bytes in ${(j.end?.sum_received?.seconds ?? 0).toFixed(2)} s; the sender's TCP: ${tcp}`,
      };
    };
    // Unthrottled, the path carries far more than the rate: what the throttle leaves is the
    // throttle's. Best of up to three 2-second runs: this 2-core machine, shared by the whole
    // suite, has moments when one run falls short (once: 23.9 of the 24 Mbit/s asked).
    let free = await iperf(false, 2);
    for (let i = 0; i < 2 && free.kbps <= 3 * RATE_KBPS; i++) {
      const again = await iperf(false, 2);
      if (again.kbps > free.kbps) free = again;
    }
    t.ok(free.kbps > 3 * RATE_KBPS, `unthrottled, more than 3 x ${RATE_KBPS} kbit/s: ${free.detail}`);

    const said = await command(`throttle pol-thr ${RATE_KBPS}`);
    t.notMatch(said, /not running|error|invalid/i, `throttle pol-thr ${RATE_KBPS}: ${said.trim()}`);
    const shown = await command("show throttle");
    t.match(shown, new RegExp(`pol-thr\\s+${RATE_KBPS}\\s+${RATE_KBPS}`), "show throttle lists the session at its rate each way");
    t.match(await command("show users pol-thr"), /Throttled:\s+yes/, "show users: throttled");
    for (const reverse of [false, true]) {
      const r = await iperf(reverse, IPERF_SECONDS);
      t.ok(Math.abs(r.kbps / RATE_KBPS - 1) <= 0.1, `within 10% of ${RATE_KBPS} kbit/s: ${r.detail}`);
    }
    const counters = await command("show counters");
    t.comment(`lnsd's data-plane drops: ${counters.split("\n").filter((l) => /throttl|filter|garden|snoop/i.test(l)).map((l) => l.trim().replace(/\s+/g, " ")).join("; ")}`);
    await stopServer();
    t.notMatch(await command("no throttle pol-thr"), /not running|rror/, "no throttle pol-thr");
    t.notMatch(await command("show throttle"), /pol-thr/, "no longer in show throttle");
    relay.send("stop");
    await relay.next("stopped", 10_000);
    await relay.exited;
  });

  // The other sessions of the policy tests, on one tunnel.
  const policyUsers = ["pol-snoop", "pol-filt", "pol-radf", "pol-garden"] as const;
  let subs: LineChild | undefined;
  let online: Record<string, string> = {};
  const sub = (): LineChild => {
    if (subs === undefined) throw new Error("no policy sessions");
    return subs;
  };
  const sendUp = async (user: string, packet: Uint8Array): Promise<void> => {
    sub().send(`send ${user} ${hex(packet)}`);
    if (!(await sub().next<boolean>("sent", 5000))) throw new Error(`${user}: not sent (not online?)`);
  };
  const take = async (user: string): Promise<Taken> => {
    sub().send(`take ${user}`);
    return sub().next<Taken>("taken", 5000);
  };
  /** Takes what reached `user` until `enough` says so (or `ms` pass), then `settleMs` more. */
  const collect = async (user: string, enough: (received: readonly string[]) => boolean, ms: number, settleMs = 0): Promise<Taken> => {
    const received: string[] = [];
    const replied: string[] = [];
    const more = async (): Promise<void> => {
      const got = await take(user);
      received.push(...got.received);
      replied.push(...got.replied);
    };
    for (let waited = 0; waited < ms; waited += 50) {
      await more();
      if (enough(received)) break;
      await sleep(50);
    }
    if (settleMs > 0) {
      await sleep(settleMs);
      await more();
    }
    return { received, replied };
  };
  const echo = (user: string, dst: string, seq: number, size: number): Buffer =>
    buildIcmpEcho({ src: parseIpv4(online[user] ?? "") ?? 0, dst: parseIpv4(dst) ?? 0, identifier: 0x7000 + seq, sequence: seq, data: pattern(size, seq) });
  const udpUp = (user: string, dst: string, dstPort: number, seq: number): Buffer =>
    buildIpv4Udp({ src: online[user] ?? "", srcPort: 40000 + seq, dst, dstPort, payload: pattern(64, seq), id: seq });
  /** Echo replies (type 0) among IP packets in hex, from `src`. */
  const repliesFrom = (received: readonly string[], src: string): number =>
    received.filter((h) => {
      const b = Buffer.from(h, "hex");
      const ihl = ((b[0] ?? 0x45) & 0x0f) * 4;
      return b[9] === 1 && b[ihl] === 0 && b.readUInt32BE(12) === parseIpv4(src);
    }).length;

  void t.test("the policy sessions log in (pol-garden refused by RADIUS)", async (t) => {
    subs = spawnLineChild(NS.lac, node, [lib("policy-child"), ADDR.lnsL2tp, ADDR.lac, PASSWORD, policyUsers.join(",")]);
    const s = subs;
    cleanups.push(() => s.kill());
    const up = await s.next<{ online: Record<string, string>; failures: Record<string, number> }>("up", 30_000);
    online = up.online;
    t.comment(`online: ${JSON.stringify(up.online)}; failed: ${JSON.stringify(up.failures)}`);
    for (const u of ["pol-snoop", "pol-filt", "pol-radf"]) t.match(online[u], /^10\.101\./, `${u} online`);
    if (gardenBuilt) t.match(online["pol-garden"], /^10\.101\./, "pol-garden online: refused by RADIUS, let in by the garden plugin");
    else t.notOk(online["pol-garden"], "pol-garden refused (no garden plugin)");
  });

  void t.test("snoop copies every packet of the session, both ways, byte for byte, until no snoop", async (t) => {
    const tap = spawnLineChild(NS.tap, node, [lib("udp-child"), ADDR.tap, String(SNOOP_PORT)]);
    cleanups.push(() => tap.kill());
    await tap.next("ready", 10_000);
    const tapTake = async (): Promise<UdpRecord[]> => {
      tap.send("take");
      return tap.next<UdpRecord[]>("taken", 5000);
    };
    const said = await command(`snoop pol-snoop ${ADDR.tap} ${SNOOP_PORT}`);
    t.notMatch(said, /not running|rror|nvalid/, `snoop pol-snoop ${ADDR.tap} ${SNOOP_PORT}: ${said.trim()}`);
    t.match(await command("show users pol-snoop"), /Intercepted:\s+yes/, "show users: intercepted");

    // Upstream echo requests of three sizes, answered by the internet host's kernel.
    const requests = [echo("pol-snoop", ADDR.inet, 1, 56), echo("pol-snoop", ADDR.inet, 2, 300), echo("pol-snoop", ADDR.inet, 3, 1372)];
    const got: string[] = [];
    const replied: string[] = [];
    for (const r of requests) {
      await sendUp("pol-snoop", r);
      const back = await collect("pol-snoop", (rx) => rx.length >= 1, 2000);
      got.push(...back.received);
    }
    t.equal(repliesFrom(got, ADDR.inet), 3, "3 echo replies from the internet host");
    // Downstream echo requests with a payload pattern of their own, answered by the subscriber.
    const [pingCmd, ...pingArgs] = ping;
    const pinged = await nsRunAsync(NS.inet, pingCmd, [...pingArgs, "-c", "2", "-i", "0.2", "-W", "2", "-s", "100", "-p", "a5", online["pol-snoop"] ?? ""]);
    t.equal(pinged.code, 0, `the internet host pings the subscriber${pinged.code === 0 ? "" : `: ${pinged.out}${pinged.err}`}`);
    const back = await collect("pol-snoop", (rx) => rx.length >= 2, 2000, 200);
    got.push(...back.received);
    replied.push(...back.replied);
    t.equal(back.replied.length, 2, "the subscriber answered 2 echo requests");

    const expected = [...requests.map(hex), ...replied, ...got].sort();
    const copies: UdpRecord[] = [];
    for (let waited = 0; waited < 2000 && copies.length < expected.length; waited += 50) {
      copies.push(...(await tapTake()));
      if (copies.length < expected.length) await sleep(50);
    }
    await sleep(200);
    copies.push(...(await tapTake()));
    t.equal(copies.length, expected.length, `${expected.length} copies: 3 requests up, 3 replies down, 2 requests down, 2 replies up`);
    t.same(copies.map((c) => c.hex).sort(), expected, "the copies are the packets, byte for byte");
    t.ok(copies.every((c) => c.from.startsWith(`${ADDR.lnsTap}:`)), `from lnsd (${[...new Set(copies.map((c) => c.from))].join(", ")})`);

    const no = await command("no snoop pol-snoop");
    t.notMatch(no, /not running|rror|nvalid/, `no snoop pol-snoop: ${no.trim()}`);
    t.match(await command("show users pol-snoop"), /Intercepted:\s+no/, "show users: not intercepted");
    await sendUp("pol-snoop", echo("pol-snoop", ADDR.inet, 4, 56));
    const after = await collect("pol-snoop", (rx) => rx.length >= 1, 2000, 300);
    t.equal(repliesFrom(after.received, ADDR.inet), 1, "traffic still passes");
    t.same(await tapTake(), [], "no copies after no snoop");
    await tap.kill("SIGTERM");
  });

  void t.test("an access list applied by the CLI (filter USER in NAME) passes what it permits, drops what it denies, counts both", async (t) => {
    const user = "pol-filt";
    // Without a filter, everything passes.
    await sendUp(user, udpUp(user, ADDR.inet, UDP_DENIED, 1));
    await sendUp(user, echo(user, ADDR.inet2, 1, 32));
    const before = await collect(user, (rx) => rx.length >= 1, 2000, 100);
    t.equal(repliesFrom(before.received, ADDR.inet2), 1, `unfiltered: ${ADDR.inet2} answers`);
    t.equal((await sinkTake()).filter((r) => r.port === UDP_DENIED).length, 1, `unfiltered: UDP to port ${UDP_DENIED} arrives`);

    const said = await command(`filter ${user} in polin`);
    t.notMatch(said, /not running|rror|nvalid|not defined/, `filter ${user} in polin: ${said.trim()}`);
    const sentUdpOk = [1, 2, 3, 4].map((i) => udpUp(user, ADDR.inet, UDP_OK, 10 + i));
    for (const p of sentUdpOk) await sendUp(user, p);
    for (const i of [1, 2, 3]) await sendUp(user, udpUp(user, ADDR.inet, UDP_DENIED, 20 + i));
    for (const i of [1, 2]) await sendUp(user, echo(user, ADDR.inet, 30 + i, 32));
    for (const i of [1, 2]) await sendUp(user, echo(user, ADDR.inet2, 40 + i, 32));
    const back = await collect(user, (rx) => repliesFrom(rx, ADDR.inet) >= 2, 2000, 300);
    t.equal(repliesFrom(back.received, ADDR.inet), 2, `permitted: ICMP to ${ADDR.inet} (an ip rule) answered twice`);
    t.equal(repliesFrom(back.received, ADDR.inet2), 0, `denied: ICMP to ${ADDR.inet2} (no rule: the implicit deny)`);
    const arrived = await sinkTake();
    const ok = arrived.filter((r) => r.port === UDP_OK);
    t.equal(ok.length, 4, `permitted: 4 UDP datagrams to port ${UDP_OK}`);
    t.same(ok.map((r) => r.hex), sentUdpOk.map((p) => hex(p.subarray(28))), "their payloads as sent");
    t.equal(arrived.filter((r) => r.port === UDP_DENIED).length, 0, `denied: UDP to port ${UDP_DENIED}`);

    const shown = await command("show access-list polin");
    t.comment(shown);
    t.match(shown, new RegExp(`permit udp any host ${ADDR.inet.replace(/\./g, "\\.")} eq ${UDP_OK} \\(4 matches\\)`), "show access-list: the udp permit, 4 matches");
    t.match(shown, /deny udp any any \(3 matches\)/, "show access-list: the udp deny, 3 matches");
    t.match(shown, new RegExp(`permit ip any host ${ADDR.inet.replace(/\./g, "\\.")} \\(2 matches\\)`), "show access-list: the ip permit, 2 matches");

    t.notMatch(await command(`no filter ${user}`), /not running|rror/, `no filter ${user}`);
    await sendUp(user, echo(user, ADDR.inet2, 50, 32));
    const after = await collect(user, (rx) => rx.length >= 1, 2000, 100);
    t.equal(repliesFrom(after.received, ADDR.inet2), 1, `after no filter: ${ADDR.inet2} answers again`);
  });

  void t.test("an access list from RADIUS Filter-Id NAME.out filters traffic to the subscriber", async (t) => {
    const user = "pol-radf";
    const to = online[user] ?? "";
    const payloads = [1, 2, 3].map((i) => pattern(48, 60 + i));
    for (const p of payloads) {
      for (const port of [6001, 6002]) {
        sink.send(`send ${UDP_FROM} ${to} ${port} ${hex(p)}`);
        await sink.next("sent", 5000);
      }
    }
    await sendUp(user, echo(user, ADDR.inet, 70, 32));
    const back = await collect(user, (rx) => rx.length >= 4, 2000, 300);
    const udp = back.received.map((h) => Buffer.from(h, "hex")).filter((b) => b[9] === 17);
    const ports = udp.map((b) => b.readUInt16BE(22));
    t.same(ports, [6001, 6001, 6001], "the 3 datagrams to port 6001 arrive; the 3 to port 6002 do not");
    t.same(udp.map((b) => hex(b.subarray(28))), payloads.map(hex), "their payloads as sent");
    t.equal(repliesFrom(back.received, ADDR.inet), 1, "the echo reply (permit ip any any) arrives");
    const shown = await command("show access-list polout");
    t.comment(shown);
    t.match(shown, /deny udp any any eq 6002 \(3 matches\)/, "show access-list: the deny, 3 matches");
    t.match(shown, /permit ip any any \(4 matches\)/, "show access-list: the permit, 4 matches");
  });

  void t.test("the walled garden: a gardened session reaches what the list garden permits, and everything once ungardened", { skip: gardenBuilt ? false : "plugins/garden is not built yet (another engineer is writing it)" }, async (t) => {
    const user = "pol-garden";
    const details = await command(`show users ${user}`);
    t.match(details, /Walled Garden:\s+yes/, "show users: in the walled garden");
    const sid = /Session (\d+):/.exec(details)?.[1] ?? "";
    t.match(sid, /^\d+$/, `its session id: ${sid}`);
    const probe = async (label: string, want: { inet: number; inet2: number; udp: number }, seq: number): Promise<void> => {
      await sendUp(user, echo(user, ADDR.inet, seq, 32));
      await sendUp(user, echo(user, ADDR.inet2, seq + 1, 32));
      await sendUp(user, udpUp(user, ADDR.inet, UDP_OK, seq + 2));
      const back = await collect(user, (rx) => rx.length >= want.inet + want.inet2, 2000, 300);
      t.equal(repliesFrom(back.received, ADDR.inet), want.inet, `${label}: ${ADDR.inet} ${want.inet === 0 ? "does not answer" : "answers"}`);
      t.equal(repliesFrom(back.received, ADDR.inet2), want.inet2, `${label}: ${ADDR.inet2} ${want.inet2 === 0 ? "does not answer" : "answers"}`);
      t.equal((await sinkTake()).filter((r) => r.port === UDP_OK).length, want.udp, `${label}: UDP to ${ADDR.inet} ${want.udp === 0 ? "dropped" : "arrives"}`);
    };
    await probe("gardened", { inet: 1, inet2: 0, udp: 1 }, 100);
    const ungarden = await nsctl("ungarden", sid);
    t.equal(ungarden.code, 0, `nsctl ungarden ${sid}: ${ungarden.out}${ungarden.err}`);
    t.match(await command(`show users ${user}`), /Walled Garden:\s+no/, "show users: out of the garden");
    await probe("ungardened", { inet: 1, inet2: 1, udp: 1 }, 110);
    const garden = await nsctl("garden", user);
    t.equal(garden.code, 0, `nsctl garden ${user}: ${garden.out}${garden.err}`);
    await probe("gardened again", { inet: 1, inet2: 0, udp: 1 }, 120);
  });

  void t.test(`${STEADY.tunnels * STEADY.perTunnel} sessions ping steadily while nsctl loads and unloads ${CYCLE_PLUGINS.join(", ")}: no packet lost`, async (t) => {
    subs?.send("stop");
    await subs?.next("stopped", 10_000).catch(() => undefined);
    const child = spawnLineChild(NS.lac, node, [lib("steady-child"), ADDR.lnsL2tp, ADDR.lac, ADDR.inet, String(STEADY.tunnels), String(STEADY.perTunnel), PASSWORD]);
    cleanups.push(() => child.kill());
    const up = await child.next<{ online: number; allOnline: boolean; ms: number; tunnelsUp: number }>("online", 60_000);
    t.ok(up.allOnline, `${up.online} sessions online over ${up.tunnelsUp} tunnels in ${up.ms} ms`);
    child.send(`go ${STEADY.seconds} ${STEADY.intervalMs}`);
    // The plugins come and go while the pings run: cycles each loading all, then unloading all.
    const actions: string[] = [];
    const failures: string[] = [];
    const started = Date.now();
    await sleep(500);
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      for (const [verb, list] of [["load_plugin", CYCLE_PLUGINS], ["unload_plugin", [...CYCLE_PLUGINS].reverse()]] as const) {
        for (const p of list) {
          const r = await nsctl(verb, p);
          actions.push(`${((Date.now() - started) / 1000).toFixed(1)}s ${verb} ${p}`);
          if (r.code !== 0 || r.out.trim() !== "" || r.err.trim() !== "") failures.push(`${verb} ${p}: exit ${String(r.code)} ${r.out}${r.err}`);
        }
        if (verb === "load_plugin") {
          const logins = await nsctl("logins");
          if (logins.code !== 0 || !/^up \d+/m.test(logins.out)) failures.push(`logins (example loaded): exit ${String(logins.code)} ${logins.out}${logins.err}`);
        }
        // Spread over the pings' whole run.
        await sleep((STEADY.seconds * 1000 - 1000) / (2 * CYCLES));
      }
    }
    t.same(failures, [], `${actions.length} loads and unloads answered as they should`);
    t.comment(actions.join("; "));
    const r = await child.next<SteadyResult>("result", (STEADY.seconds + 15) * 1000);
    t.comment(`${r.sessions} sessions sent ${r.sent} echo requests in ${r.sentMs} ms, ${r.answered} answered; UDP drops at the LAC ${r.udpDrops}`);
    t.equal(r.sent, r.sessions * r.rounds, "every request sent");
    t.equal(r.lost, 0, `no request or reply lost${r.lossy.length > 0 ? `: ${r.lossy.join("; ")}` : ""} (sessions with loss: ${r.sessionsWithLoss})`);
    t.equal(r.duplicates, 0, "no duplicates");
    t.equal(r.wrong, 0, `nothing wrong${r.wrongExamples.length > 0 ? `: ${r.wrongExamples.join("; ")}` : ""}`);
    t.equal(r.stillOnline, r.sessions, "every session still online");
    t.match((await nsctl("help")).out, /load_plugin/, "nsctl help still answers");
    child.send("stop");
    await child.next("stopped", 15_000).catch(() => undefined);
  });
}
