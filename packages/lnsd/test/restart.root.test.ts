// lnsd restarted under 1,000 live sessions (issue 13), in network namespaces of the test's own: the
// test LAC (4 tunnels of 250 sessions, each pinging a host behind lnsd every 100 ms, sending LCP
// Echo-Requests and HELLOs), lnsd with its TUN device, 2 data workers and FreeRADIUS (accounting to
// its detail file) on its loopback, and the host that answers the pings. lnsd is stopped with
// SIGTERM and started again, then killed with SIGKILL and started again: each time it resumes every
// tunnel and session from its state_directory, every session is answered again, the LAC's HELLOs
// and Echo-Requests too, and the LAC never sees a CDN or StopCCN. When the LAC finally clears its
// calls, FreeRADIUS holds exactly one Start and one Stop for each Acct-Session-Id, each Stop with
// the session's whole life as its Acct-Session-Time. The restart gaps are printed (t.comment).
import t, { type Test } from "tap";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { whyNoFreeRadius } from "./lib/freeradius.js";
import { LATE_MS, type Spread, type Standing } from "./lib/lac-probe.js";
import { link, namespaceLab, nsRun, sleep, spawnLineChild, startLnsdIn, startRadiusChild, sysctl, until, type NsLnsd } from "./lib/netns.js";
import { acctRecords, bySession, ofStatus, sends, stopAgrees, waitForStatus } from "./lib/radius-acct.js";

const here = dirname(fileURLToPath(import.meta.url));
const entry = join(here, "..", "src", "bin", "lnsd.js");
const lib = (name: string): string => join(here, "lib", `${name}.js`);
const node = process.execPath;

const prefix = `lnsrst${process.pid}`;
const NS = { lac: `${prefix}l`, lns: `${prefix}s`, inet: `${prefix}i` } as const;
const ADDR = { lac: "10.93.1.2", lnsL2tp: "10.93.1.1", lnsInet: "10.93.2.1", inet: "10.93.2.2", tun: "192.0.2.1", pool: "10.94.0.0/21" } as const;
const TUN = "lnsrst0";
const SECRET = "restart test secret";
const PASSWORD = "rst pass";
const TUNNELS = 4;
const PER_TUNNEL = 250;
const SESSIONS = TUNNELS * PER_TUNNEL;
const PING_MS = 100;
/** The LAC's LCP Echo-Requests and HELLOs: often enough that each is seen after every restart. */
const ECHO_MS = 2000;
const HELLO_MS = 1000;
/** Traffic before the first restart, and after each resumption. */
const BEFORE_MS = 3000;
const AFTER_MS = 5000;
/**
 * What lnsd's socket takes in while lnsd starts is forwarded at once when the sessions are back: a
 * burst that can overflow the test LAC's socket (a JavaScript LAC reads far slower than a kernel
 * one). Pings sent from this long after lnsd logged its resumption must all be answered.
 */
const SETTLE_MS = 2000;

const root = process.getuid?.() === 0;
const skip = !root ? "needs root (CI runs as root): TUN and network namespaces" : whyNoFreeRadius();

/** restart-child's account of one phase (its report()). */
interface PhaseReport {
  readonly sent: number;
  readonly answered: number;
  readonly lost: number;
  readonly lostPerSession: Spread;
  readonly sessionsAnsweredAfter: number;
  /** Epoch ms of each session's first reply after lnsd was started again. */
  readonly firstReplyAfter: Spread;
  /** Unanswered pings sent between a session's first reply again and the settling time, and after it. */
  readonly lostSettling: number;
  readonly lostSettled: number;
  readonly lossy: readonly string[];
  /** Replies more than LATE_MS after their request, and the longest round trip. */
  readonly late: number;
  readonly maxRttMs: number;
  readonly echoLostInPhase: number;
  readonly sessionsEchoAnsweredAfter: number;
  readonly echoAnsweredAfter: Spread;
  readonly hellosSent: number;
  readonly hellosAcked: number;
  readonly tunnelsHelloAckedAfter: number;
  readonly hellos: readonly string[];
  /** Replies the kernel dropped at the LAC's socket (receive buffer full), and when. */
  readonly lacUdpDrops: number;
  readonly lacDropTimes: readonly string[];
}

/** restart-child's "ended". */
interface Ended extends Standing {
  readonly stillOnline: number;
  readonly callsDown: number;
  readonly tunnelsEstablished: number;
  readonly pingsPerSession: Spread;
  readonly repliesPerSession: Spread;
  readonly retransmitted: number;
  readonly udpDrops: number;
}

/** One restart as the test saw it, times in epoch ms. */
interface Restart {
  readonly signal: "SIGTERM" | "SIGKILL";
  readonly killAt: number;
  readonly exitedAt: number;
  readonly spawnAt: number;
  readonly resumedAt: number;
  readonly oldLog: string;
  readonly newLog: string;
  /** lnsd's resumption line, or why there is none. */
  readonly resumed: string;
  /** Drops in lnsd's namespace up to the signal. */
  readonly drops: string;
}

const RESUMED = /resumed (\d+) tunnels and (\d+) sessions from (\S+) \(written ([\d.]+) s ago\): (\d+) online, (\d+) starting PPP again, (\d+) in L2TP setup/;
const ms = (x: number): string => `${Math.round(x)} ms`;

/** When lnsd logged its first line matching `pattern` (its lines begin with an ISO time). */
function loggedAt(log: string, pattern: RegExp): number {
  const line = log.split("\n").find((l) => pattern.test(l));
  return line === undefined ? Number.NaN : Date.parse(line.split(" ")[0] ?? "");
}

if (skip !== undefined) {
  t.plan(0, skip);
} else {
  const cleanups = namespaceLab(t, [[NS.lac, false], [NS.lns, true], [NS.inet, false]] as const);
  link({ ns: NS.lac, dev: "eth0", address: `${ADDR.lac}/24`, mac: "02:00:0a:5d:01:02" }, { ns: NS.lns, dev: "eth-lac", address: `${ADDR.lnsL2tp}/24`, mac: "02:00:0a:5d:01:01" });
  link({ ns: NS.lns, dev: "eth-inet", address: `${ADDR.lnsInet}/24`, mac: "02:00:0a:5d:02:01" }, { ns: NS.inet, dev: "eth0", address: `${ADDR.inet}/24`, mac: "02:00:0a:5d:02:02" });
  nsRun(NS.inet, "ip", ["route", "add", ADDR.pool, "via", ADDR.lnsInet]);
  sysctl(NS.inet, ["net.ipv4.icmp_ratelimit=0"]);

  // FreeRADIUS in lnsd's namespace, on its loopback, accounting to its detail file.
  const { child: radius, authPort } = await startRadiusChild(NS.lns, node, lib("radius-child"), SECRET, `DEFAULT Cleartext-Password := "${PASSWORD}"\n`, cleanups);

  const dir = mkdtempSync(join(tmpdir(), "lnsd-restart-"));
  cleanups.push(() => { rmSync(dir, { recursive: true, force: true }); });
  const stateDirectory = join(dir, "state");
  const config = join(dir, "startup-config");
  writeFileSync(
    config,
    [
      "set debug 3",
      "set hostname rsttest",
      "set data_workers 2",
      // lnsd sends RADIUS from bind_address when one is set; the test FreeRADIUS knows 127.0.0.0/8 only.
      "set bind_address 0.0.0.0",
      `set tundevicename ${TUN}`,
      `set iftun_address ${ADDR.tun}`,
      'set radius_authtypes "chap"',
      "set primary_radius 127.0.0.1",
      `set primary_radius_port ${authPort}`,
      `set radius_secret "${SECRET}"`,
      "set radius_accounting yes",
      "set cli_bind_address 127.0.0.1",
      `set state_directory "${stateDirectory}"`,
      "set state_max_age 60",
      "",
    ].join("\n"),
  );
  writeFileSync(join(dir, "ip_pool"), `${ADDR.pool}\n`);

  // As in production (no test-runner hooks in its NODE_OPTIONS): the restart gap is lnsd's own.
  const startLnsd = (): Promise<NsLnsd> => startLnsdIn(NS.lns, entry, config, 300_000, true);
  let lnsd = await startLnsd();
  const logs: string[] = [];
  cleanups.push(async () => {
    if (!t.passing()) t.comment(`lnsd's logs, last lines:\n${[...logs, lnsd.log()].map((l) => l.slice(-6000)).join("\n---- started again ----\n")}`);
    await lnsd.stop();
  });

  const lacStartedAt = Date.now();
  const lac = spawnLineChild(NS.lac, node, [lib("restart-child"), ADDR.lnsL2tp, ADDR.lac, ADDR.inet, String(TUNNELS), String(PER_TUNNEL), "rst", PASSWORD, String(PING_MS), String(ECHO_MS), String(HELLO_MS)]);
  cleanups.push(() => lac.kill("SIGTERM"));
  const report = (phase: string, after: number, settled: number): Promise<PhaseReport> => {
    lac.send(`report ${phase} ${after} ${settled}`);
    return lac.next<PhaseReport>("report", 10_000);
  };

  /** UDP receive-buffer drops in lnsd's namespace (/proc/net/snmp) and at its TUN device. */
  const lnsDrops = (): string => {
    const [names = [], values = []] = nsRun(NS.lns, "cat", ["/proc/net/snmp"]).split("\n").filter((l) => l.startsWith("Udp:")).map((l) => l.split(/\s+/));
    const rcvbuf = values[names.indexOf("RcvbufErrors")] ?? "?";
    let tun = "?";
    try {
      const [dev] = JSON.parse(nsRun(NS.lns, "ip", ["-j", "-s", "link", "show", "dev", TUN])) as { stats64?: { tx?: { dropped?: number } } }[];
      tun = String(dev?.stats64?.tx?.dropped ?? "?");
    } catch {
      // No TUN device (lnsd not running).
    }
    return `UDP receive-buffer drops ${rcvbuf} in the namespace so far, ${tun} packets dropped at this lnsd's TUN queue`;
  };

  /** Stops lnsd with `signal` and starts it again at once with the same startup-config. */
  const restart = async (signal: "SIGTERM" | "SIGKILL", phase: string): Promise<Restart> => {
    lac.send(`phase ${phase}`);
    await lac.next("phased", 5000);
    // What was sent before the phase began has had its answer.
    await sleep(100);
    const drops = lnsDrops();
    const killAt = Date.now();
    await lnsd.kill(signal);
    const exitedAt = Date.now();
    const oldLog = lnsd.log();
    logs.push(oldLog);
    const spawnAt = Date.now();
    lnsd = await startLnsd();
    await until(() => RESUMED.test(lnsd.log()) || lnsd.exited(), 20_000, 10);
    const resumedAt = Date.now();
    const newLog = lnsd.log();
    return { signal, killAt, exitedAt, spawnAt, resumedAt, oldLog, newLog, drops, resumed: RESUMED.exec(newLog)?.[0] ?? `no resumption line:\n${newLog.slice(-3000)}` };
  };

  /** A restart's assertions, and its gap for the issue's note. */
  const checkRestart = (t: Test, r: Restart, p: PhaseReport): void => {
    const m = RESUMED.exec(r.resumed);
    t.same(m === null ? r.resumed : [m[1], m[2], m[5], m[6], m[7]], [String(TUNNELS), String(SESSIONS), String(SESSIONS), "0", "0"], `lnsd logged: ${r.resumed}`);
    t.equal(m?.[3]?.startsWith(stateDirectory), true, "from a subdirectory of state_directory");
    t.equal(p.sessionsAnsweredAfter, SESSIONS, `every session's pings answered again (${p.sessionsAnsweredAfter} of ${SESSIONS})`);
    t.equal(p.lostSettled, 0, `from ${SETTLE_MS} ms after the resumption, no ping of any session lost${p.lossy.length > 0 ? `: ${p.lossy.join("; ")}` : ""}`);
    t.equal(p.sessionsEchoAnsweredAfter, SESSIONS, `every session's LCP Echo-Requests answered again (${p.sessionsEchoAnsweredAfter} of ${SESSIONS})`);
    t.equal(p.tunnelsHelloAckedAfter, TUNNELS, `every tunnel's HELLO acknowledged again (${p.tunnelsHelloAckedAfter} of ${TUNNELS}; ${p.hellosAcked} of ${p.hellosSent} HELLOs sent in the phase acknowledged)${p.tunnelsHelloAckedAfter === TUNNELS ? "" : `: ${p.hellos.join(", ")}`}`);
    const [first, , last] = p.firstReplyAfter;
    const [lostMin, lostMedian, lostMax] = p.lostPerSession;
    const since = (pattern: RegExp): string => ms(loggedAt(r.newLog, pattern) - r.spawnAt);
    t.comment(
      `${r.signal} restart gap: lnsd gone ${ms(r.exitedAt - r.killAt)} after the signal; from spawning the new lnsd: its first log line ${since(/^\S+Z /)}, TUN up ${since(/ up, mtu /)}, ` +
        `state resumed (listening) ${since(/listening for L2TP/)}; first session's ping answered again ${ms(first - r.spawnAt)}, last session's ${ms(last - r.spawnAt)} ` +
        `(from the signal ${ms(first - r.killAt)} and ${ms(last - r.killAt)}); every session's LCP echo answered again ${ms(p.echoAnsweredAfter[2] - r.spawnAt)}`,
    );
    t.comment(
      `${r.signal} pings lost per session (one each ${PING_MS} ms): min ${lostMin}, median ${lostMedian}, max ${lostMax} (${p.lost} of ${p.sent} in the phase, ${p.lostSettling} of them after the session's first reply again); ` +
        `${p.late} replies more than ${LATE_MS} ms after their request (held while lnsd started; longest ${ms(p.maxRttMs)}); ${p.lacUdpDrops} replies dropped at the test LAC's socket${p.lacDropTimes.length > 0 ? ` (ms from the phase's start, just before the signal: count ${p.lacDropTimes.slice(0, 12).join(", ")})` : ""}; ` +
        `in lnsd's namespace before the signal: ${r.drops}; ${p.echoLostInPhase} LCP Echo-Requests lost in the phase`,
    );
  };

  void t.test(`${SESSIONS} sessions survive lnsd's SIGTERM and SIGKILL, passing traffic; FreeRADIUS sees one Start and one Stop each`, { timeout: 180_000 }, async (t) => {
    const up = await lac.next<{ online: number; allOnline: boolean; ms: number; tunnelsUp: number; failures: Record<string, number> }>("online", 90_000);
    const onlineAt = Date.now();
    t.ok(up.allOnline, `${up.online} of ${SESSIONS} sessions online over ${up.tunnelsUp} tunnels in ${up.ms} ms${up.allOnline ? "" : `; failures ${JSON.stringify(up.failures)}`}`);
    if (!up.allOnline) return;
    t.ok(await waitForStatus(radius, "Start", SESSIONS, 20_000), `FreeRADIUS has ${SESSIONS} Starts`);

    lac.send("go");
    await sleep(BEFORE_MS);
    const sigterm = await restart("SIGTERM", "sigterm");
    t.match(sigterm.oldLog, new RegExp(`stopping; ${TUNNELS} tunnels and ${SESSIONS} sessions kept in ${stateDirectory}`), "SIGTERM: lnsd said it kept every tunnel and session");
    await sleep(AFTER_MS);
    const kill9 = await restart("SIGKILL", "sigkill");
    await sleep(AFTER_MS);
    lac.send("end");
    const ended = await lac.next<Ended>("ended", 10_000);

    const before = await report("before", 0, 0);
    t.equal(before.sessionsAnsweredAfter, SESSIONS, "before: every session answered");
    t.equal(before.lost, 0, `before: no ping lost (${before.sent} sent)`);
    t.equal(before.sessionsEchoAnsweredAfter, SESSIONS, "before: every session's LCP Echo-Requests answered");
    t.equal(before.tunnelsHelloAckedAfter, TUNNELS, `before: every tunnel's HELLOs acknowledged (${before.hellosAcked} of ${before.hellosSent})`);
    await t.test("after SIGTERM and a start", async (t) => { checkRestart(t, sigterm, await report("sigterm", sigterm.spawnAt, sigterm.resumedAt + SETTLE_MS)); });
    await t.test("after SIGKILL and a start", async (t) => { checkRestart(t, kill9, await report("sigkill", kill9.spawnAt, kill9.resumedAt + SETTLE_MS)); });

    t.comment(`the LAC received ${JSON.stringify(ended.received)}; it retransmitted ${ended.retransmitted} control messages`);
    t.same(ended.teardowns, [], "no CDN or StopCCN reached the LAC");
    t.equal(ended.stillOnline, SESSIONS, "every session still online at the LAC");
    t.equal(ended.callsDown, 0, "no call went down");
    t.equal(ended.tunnelsEstablished, TUNNELS, "every tunnel still established");
    t.equal(ended.pppRestarts, 0, `PPP never started again${Object.keys(ended.pppFailures).length > 0 ? `: ${JSON.stringify(ended.pppFailures)}` : ""}`);
    t.equal(ended.wrong, 0, `no stray packet${ended.wrongExamples.length > 0 ? `: ${ended.wrongExamples.join("; ")}` : ""}`);
    t.equal(ended.duplicates, 0, "no reply twice");

    const clearAt = Date.now();
    lac.send("clear");
    const cleared = await lac.next<{ acked: boolean; teardowns: readonly string[] }>("cleared", 20_000);
    const clearedAt = Date.now();
    t.ok(cleared.acked, "lnsd acknowledged every CDN of the LAC");
    t.same(cleared.teardowns, [], "still no CDN or StopCCN from lnsd");
    t.ok(await waitForStatus(radius, "Stop", SESSIONS, 20_000), `FreeRADIUS has ${SESSIONS} Stops`);
    await sleep(500);
    const all = await acctRecords(radius);
    const byId = bySession(all);
    const copies = [...byId.values()].reduce((n, e) => n + e.start.length + e.stop.length, 0) - 2 * byId.size;
    const odd = [...byId].filter(([, e]) => sends(e.start) !== 1 || sends(e.stop) !== 1).map(([id, e]) => `${id}: ${sends(e.start)} Start, ${sends(e.stop)} Stop (${e.start.length} and ${e.stop.length} records)`);
    t.equal(byId.size, SESSIONS, `${SESSIONS} distinct Acct-Session-Ids (${all.length} accounting records)`);
    t.same(odd.slice(0, 10), [], `exactly one Start and one Stop per Acct-Session-Id (${odd.length} not; ${copies} retransmitted copies)`);
    t.equal([...byId.values()].filter((e) => stopAgrees(e, "User-Name") && stopAgrees(e, "Framed-IP-Address") && stopAgrees(e, "NAS-Port")).length, SESSIONS, "each Stop names the Start's user, address and NAS-Port");
    t.equal(ofStatus(all, "Accounting-On").length, 1, "one Accounting-On: the first start's, none when sessions were resumed");
    // RFC 2866 5.7: Acct-Session-Time is how long the user has had service, across lnsd's restarts.
    const lived = { min: Math.floor((clearAt - onlineAt) / 1000) - 1, max: Math.ceil((clearedAt - lacStartedAt) / 1000) + 1 };
    const stopOf = (a: string): number[] => [...byId.values()].map((e) => Number(e.stop[0]?.get(a)?.[0] ?? "-1")).sort((x, y) => x - y);
    const sessionTime = stopOf("Acct-Session-Time");
    const outside = sessionTime.filter((s) => s < lived.min || s > lived.max).length;
    t.equal(outside, 0, `each Stop's Acct-Session-Time is the session's life, ${lived.min} to ${lived.max} s (${outside} not; they range from ${sessionTime[0] ?? "?"} to ${sessionTime[sessionTime.length - 1] ?? "?"} s)`);
    const range = (xs: readonly number[]): string => `${xs[0] ?? "?"} to ${xs[xs.length - 1] ?? "?"}`;
    t.comment(
      `counters across the restarts: each session sent ${ended.pingsPerSession[0]} to ${ended.pingsPerSession[2]} pings and had ${ended.repliesPerSession[0]} to ${ended.repliesPerSession[2]} replies; ` +
        `its Stop says Acct-Input-Packets ${range(stopOf("Acct-Input-Packets"))}, Acct-Output-Packets ${range(stopOf("Acct-Output-Packets"))}`,
    );

    lac.send("stop");
    await lac.next("stopped", 10_000).catch(() => undefined);
  });
}
