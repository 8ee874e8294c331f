// Real traffic through lnsd's worker data plane (issue 5), across three network namespaces of the
// test's own: the test LAC in one, lnsd (2 data workers, its TUN device, FreeRADIUS on loopback)
// in a second that forwards, an "internet" host in a third that routes the pool back to lnsd.
// A subscriber's ping and iperf3 cross the tunnel both ways and the accounting Stop counts what the
// LAC side counted; 1,000 subscribers over 10 tunnels each reach the internet host and get their
// own reply only; one TCP flow each way arrives in order, and so do downloads to which the
// subscriber starts answering mid-burst. Loss in the bursts is reported, not failed on.
import t from "tap";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { attr, whyNoFreeRadius, type AcctRecord } from "./lib/freeradius.js";
import { env, link, namespaceLab, startLnsdIn, startRadiusChild, nsRun, nsRunAsync, sleep, spawnLineChild, until, type LineChild } from "./lib/netns.js";
import { CAPTURE_PY, SEND_PY, type OrderSummary } from "./lib/tcp-order.js";

const here = dirname(fileURLToPath(import.meta.url));
const entry = join(here, "..", "src", "bin", "lnsd.js");
const lib = (name: string): string => join(here, "lib", `${name}.js`);
const node = process.execPath;

const prefix = `lnsddp${process.pid}`;
const NS = { lac: `${prefix}l`, lns: `${prefix}s`, inet: `${prefix}i` } as const;
const ADDR = {
  lac: "10.99.1.2",
  lnsL2tp: "10.99.1.1",
  lnsInet: "10.99.2.1",
  inet: "10.99.2.2",
  /** Routed to the internet host, which does not own it: what is sent there is captured, not answered. */
  sink: "10.99.3.1",
  tun: "192.0.2.1",
  pool: "10.100.0.0/21",
} as const;
const SECRET = "dataplane test secret";
const PASSWORD = "dp pass";
const USERS = `DEFAULT Cleartext-Password := "${PASSWORD}"\n`;
/** iperf3's rate: what the userspace relay on the LAC side carries without loss. */
const IPERF_RATE = "40M";
const SEGMENTS = 3000;

const root = process.getuid?.() === 0;
const tool = (name: string): boolean => (process.env.PATH ?? "").split(":").some((d) => existsSync(join(d, name)));
/** iputils' ping, else busybox's. */
const ping: readonly [string, ...string[]] = tool("ping") ? ["ping"] : ["busybox", "ping"];
const skip = !root
  ? "needs root (CI runs as root): TUN and network namespaces"
  : (whyNoFreeRadius() ?? (!tool("iperf3") ? "iperf3 not installed" : !tool("python3") ? "python3 not installed" : undefined));

/** The TUN device's transmit drops (packets the kernel had for lnsd and could not queue). */
function tunTxDropped(): number {
  const [dev] = JSON.parse(nsRun(NS.lns, "ip", ["-s", "-j", "link", "show", "dev", "lnsddp0"])) as { stats64?: { tx?: { dropped?: number } } }[];
  return dev?.stats64?.tx?.dropped ?? 0;
}

interface RelayCounters {
  readonly up: { packets: number; bytes: number };
  readonly down: { packets: number; bytes: number };
  readonly upIgnored: number;
  readonly downOther: number;
  readonly tunWriteErrors: number;
  readonly udpDrops: number;
}

interface CrosstalkResult {
  readonly online: number;
  readonly onlineInTime: boolean;
  readonly onlineMs: number;
  readonly repliedMs: number;
  readonly tunnelsUp: number;
  readonly distinctAddresses: number;
  readonly sent: number;
  readonly ownOnce: number;
  readonly missing: number;
  readonly wrongCount: number;
  readonly wrong: readonly string[];
  readonly unexpected: number;
  readonly udpDrops: number;
}

if (skip !== undefined) {
  t.plan(0, skip);
} else {
  /** Undone last first, in the file's teardown. */
  const cleanups = namespaceLab(t, [[NS.lac, false], [NS.lns, true], [NS.inet, false]] as const);
  link({ ns: NS.lac, dev: "eth0", address: `${ADDR.lac}/24`, mac: "02:00:0a:63:01:02" }, { ns: NS.lns, dev: "eth-lac", address: `${ADDR.lnsL2tp}/24`, mac: "02:00:0a:63:01:01" });
  link({ ns: NS.lns, dev: "eth-inet", address: `${ADDR.lnsInet}/24`, mac: "02:00:0a:63:02:01" }, { ns: NS.inet, dev: "eth0", address: `${ADDR.inet}/24`, mac: "02:00:0a:63:02:02" });
  nsRun(NS.lns, "ip", ["route", "add", `${ADDR.sink}/32`, "via", ADDR.inet]);
  nsRun(NS.inet, "ip", ["route", "add", ADDR.pool, "via", ADDR.lnsInet]);

  // FreeRADIUS in lnsd's namespace, on its loopback.
  const { child: radius, authPort } = await startRadiusChild(NS.lns, node, lib("radius-child"), SECRET, USERS, cleanups);
  const records = async (): Promise<AcctRecord[]> => {
    radius.send("records");
    return (await radius.next<[string, string[]][][]>("records", 5000)).map((r) => new Map(r));
  };
  const waitForRecord = async (pred: (r: AcctRecord) => boolean, timeoutMs: number): Promise<AcctRecord | undefined> => {
    for (let waited = 0; waited <= timeoutMs; waited += 100) {
      const r = (await records()).find(pred);
      if (r !== undefined) return r;
      await sleep(100);
    }
    return undefined;
  };

  const dir = mkdtempSync(join(tmpdir(), "lnsd-dataplane-"));
  cleanups.push(() => { rmSync(dir, { recursive: true, force: true }); });
  writeFileSync(
    join(dir, "startup-config"),
    [
      "set debug 3",
      "set data_workers 2",
      // lnsd sends RADIUS from bind_address when one is set; the test FreeRADIUS knows 127.0.0.0/8 only.
      "set bind_address 0.0.0.0",
      "set tundevicename lnsddp0",
      `set iftun_address ${ADDR.tun}`,
      'set radius_authtypes "chap,pap"',
      "set primary_radius 127.0.0.1",
      `set primary_radius_port ${authPort}`,
      `set radius_secret "${SECRET}"`,
      "set radius_accounting yes",
      "",
    ].join("\n"),
  );
  writeFileSync(join(dir, "ip_pool"), `${ADDR.pool}\n`);
  const lnsd = await startLnsdIn(NS.lns, entry, join(dir, "startup-config"), 200_000);
  cleanups.push(async () => {
    if (!t.passing()) t.comment(`lnsd's log, last lines:\n${lnsd.log().slice(-8000)}`);
    await lnsd.stop();
  });

  void t.test("lnsd is up with 2 data workers, its TUN device and FreeRADIUS", (t) => {
    t.match(lnsd.log(), /lnsddp0 up, mtu 1462, address 192\.0\.2\.1\/32, routes 10\.100\.0\.0\/21; 2 data workers on L2TP 0\.0\.0\.0:1701/, "the TUN device and 2 data workers");
    t.match(lnsd.log(), /RADIUS servers 127\.0\.0\.1:\d+ from .*; accounting on/, "FreeRADIUS on loopback, accounting on");
    t.end();
  });

  void t.test("a subscriber pings and runs iperf3 to the internet host both ways; the accounting Stop counts what the LAC side counted", async (t) => {
    const relay: LineChild = spawnLineChild(NS.lac, node, [lib("relay-child"), ADDR.lnsL2tp, ADDR.lac, "dprelay0", "dp-relay", PASSWORD, `${ADDR.inet}/32`]);
    cleanups.push(() => relay.kill());
    const { address } = await relay.next<{ address: string }>("up", 20_000);
    t.match(address, /^10\.100\.[0-7]\.\d+$/, `the session's address from ip_pool: ${address}`);

    const [pingCmd, ...pingArgs] = ping;
    const out1 = await nsRunAsync(NS.lac, pingCmd, [...pingArgs, "-c", "3", "-i", "0.2", "-W", "2", ADDR.inet]);
    t.equal(out1.code, 0, `ping subscriber -> internet host${out1.code === 0 ? "" : `: ${out1.out}${out1.err}`}`);
    t.match(out1.out, /3 (packets )?received/, "3 replies");
    const in1 = await nsRunAsync(NS.inet, pingCmd, [...pingArgs, "-c", "3", "-i", "0.2", "-W", "2", address]);
    t.equal(in1.code, 0, `ping internet host -> subscriber${in1.code === 0 ? "" : `: ${in1.out}${in1.err}`}`);
    t.match(in1.out, /3 (packets )?received/, "3 replies");

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
    for (const reverse of [false, true]) {
      const way = reverse ? "internet host -> subscriber (-R)" : "subscriber -> internet host";
      const r = await nsRunAsync(NS.lac, "iperf3", ["-c", ADDR.inet, "-p", "5201", "-t", "2", "-b", IPERF_RATE, "--connect-timeout", "3000", "-J", ...(reverse ? ["-R"] : [])], 20_000);
      t.equal(r.code, 0, `iperf3 ${way}${r.code === 0 ? "" : `: ${r.out.slice(-2000)}${r.err}`}`);
      const j = r.code === 0 ? (JSON.parse(r.out) as { end?: { sum_received?: { bytes?: number; bits_per_second?: number }; sum_sent?: { retransmits?: number } } }) : {};
      const bytes = j.end?.sum_received?.bytes ?? 0;
      t.ok(bytes > 1_000_000, `iperf3 ${way}: ${bytes} bytes received, ${((j.end?.sum_received?.bits_per_second ?? 0) / 1e6).toFixed(1)} Mbit/s, ${j.end?.sum_sent?.retransmits ?? "?"} retransmits`);
    }
    await stopServer();
    // The last ACKs and FINs settle, then the subscriber hangs up.
    await sleep(300);
    relay.send("stop");
    const c = await relay.next<RelayCounters>("stopped", 10_000);
    t.comment(`LAC side: up ${c.up.packets} packets ${c.up.bytes} bytes, down ${c.down.packets} packets ${c.down.bytes} bytes; not relayed ${c.upIgnored}; non-IPv4 frames ${c.downOther}; TUN write errors ${c.tunWriteErrors}; UDP drops at the LAC ${c.udpDrops}`);
    t.equal(c.udpDrops, 0, "the LAC's socket dropped nothing (else the counts cannot match)");
    t.ok(c.up.packets > 1000 && c.down.packets > 1000, "traffic both ways");
    const stop = await waitForRecord((r) => attr(r, "Acct-Status-Type") === "Stop" && attr(r, "User-Name") === "dp-relay", 5000);
    t.ok(stop, "accounting Stop for dp-relay");
    t.equal(attr(stop, "Framed-IP-Address"), address, "Framed-IP-Address");
    t.equal(Number(attr(stop, "Acct-Input-Packets")), c.up.packets, "Acct-Input-Packets: what the subscriber sent");
    t.equal(Number(attr(stop, "Acct-Input-Octets")), c.up.bytes, "Acct-Input-Octets: what the subscriber sent (IP bytes)");
    t.equal(Number(attr(stop, "Acct-Output-Packets")), c.down.packets, "Acct-Output-Packets: what the subscriber received");
    t.equal(Number(attr(stop, "Acct-Output-Octets")), c.down.bytes, "Acct-Output-Octets: what the subscriber received (IP bytes)");
    t.equal(Number(attr(stop, "Acct-Input-Gigawords") ?? 0) + Number(attr(stop, "Acct-Output-Gigawords") ?? 0), 0, "no gigawords");
    await relay.exited;
  });

  void t.test("1,000 subscribers over 10 tunnels each reach the internet host and get only their own reply", async (t) => {
    const child = spawnLineChild(NS.lac, node, [lib("crosstalk-child"), ADDR.lnsL2tp, ADDR.lac, ADDR.inet, "10", "100", PASSWORD]);
    cleanups.push(() => child.kill());
    const r = await child.next<CrosstalkResult>("result", 90_000);
    t.comment(`1,000 online in ${r.onlineMs} ms (FreeRADIUS CHAP); replies in ${r.repliedMs} ms; UDP drops at the LAC ${r.udpDrops}`);
    t.ok(r.onlineInTime, `all online (${r.online})`);
    t.equal(r.tunnelsUp, 10, "10 tunnels");
    t.equal(r.distinctAddresses, 1000, "1,000 distinct addresses");
    t.equal(r.ownOnce, 1000, `each got exactly its own reply (missing ${r.missing}, wrong ${r.wrongCount})`);
    t.equal(r.wrongCount, 0, `no cross-talk${r.wrong.length > 0 ? `:\n${r.wrong.join("\n")}` : ""}`);
    t.equal(r.unexpected, 0, "nothing on sessions that sent nothing");
    await child.exited;
  });

  void t.test("one TCP flow each way through 2 workers arrives in order", async (t) => {
    const child = spawnLineChild(NS.lac, node, [lib("order-child"), ADDR.lnsL2tp, ADDR.lac, "dp-order", PASSWORD]);
    cleanups.push(() => child.kill());
    const { address } = await child.next<{ address: string }>("up", 20_000);

    // Upstream: the subscriber sends; the internet host captures on its interface.
    const capture = spawnLineChild(NS.inet, "python3", ["-c", CAPTURE_PY, "eth0", ADDR.sink, "5001", String(SEGMENTS), "10"]);
    cleanups.push(() => capture.kill());
    await capture.next("ready", 10_000);
    child.send(`send ${SEGMENTS} ${ADDR.sink} 5001 40001`);
    const sent = await child.next<{ sent: number; ms: number }>("sent", 10_000);
    t.equal(sent.sent, SEGMENTS, `the LAC side sent ${SEGMENTS} segments in ${sent.ms} ms`);
    const up = await capture.next<OrderSummary>("summary", 20_000);
    t.comment(`upstream: ${up.received} received, ${up.distinct} distinct, lost ${SEGMENTS - up.distinct}`);
    t.equal(up.reordered, 0, `upstream: none reordered${up.examples.length > 0 ? ` (${up.examples.join(", ")})` : ""}`);
    t.equal(up.duplicates, 0, "upstream: no duplicates");
    // Loss is reported, not failed on; enough must arrive for the order to mean something.
    t.ok(up.distinct >= 500, `upstream: ${up.distinct} of ${SEGMENTS} arrived`);

    // Downstream: the internet host sends to the subscriber's address; the LAC side records.
    const tunDropsBefore = tunTxDropped();
    const send = await nsRunAsync(NS.inet, "python3", ["-c", SEND_PY, ADDR.inet, address, "5002", "40002", String(SEGMENTS), "1", "0"], 20_000);
    t.equal(send.code, 0, `the internet host sent ${SEGMENTS} segments${send.code === 0 ? "" : `: ${send.out}${send.err}`}`);
    child.send(`report 5002 1 40002 ${SEGMENTS}`);
    const down = await child.next<OrderSummary & { udpDrops: number }>("report", 20_000);
    t.comment(`downstream: ${down.received} received, ${down.distinct} distinct, lost ${SEGMENTS - down.distinct} (UDP drops at the LAC ${down.udpDrops})`);
    t.equal(down.reordered, 0, `downstream: none reordered${down.examples.length > 0 ? ` (${down.examples.join(", ")})` : ""}`);
    t.equal(down.duplicates, 0, "downstream: no duplicates");
    t.ok(down.distinct >= 500, `downstream: ${down.distinct} of ${SEGMENTS} arrived`);
    const tunDrops = tunTxDropped() - tunDropsBefore;
    child.send("stop");
    await child.next("stopped", 10_000);
    // Where the losses were: lnsd counts a packet when it takes it (upstream, from the LAC) or sends it (downstream).
    const stop = await waitForRecord((r) => attr(r, "Acct-Status-Type") === "Stop" && attr(r, "User-Name") === "dp-order", 5000);
    const lnsdIn = Number(attr(stop, "Acct-Input-Packets"));
    const lnsdOut = Number(attr(stop, "Acct-Output-Packets"));
    t.ok(stop, "accounting Stop for dp-order");
    t.comment(`loss upstream: before lnsd ${SEGMENTS - lnsdIn}, after lnsd took them ${lnsdIn - up.received}`);
    t.comment(`loss downstream: before lnsd ${SEGMENTS - lnsdOut} (TUN queue drops ${tunDrops}), after lnsd sent them ${lnsdOut - down.received} (at the LAC's socket ${down.udpDrops})`);
  });

  void t.test("downloads whose subscriber starts answering mid-burst (as TCP ACKs do) stay in order through 2 workers", async (t) => {
    // The kernel picks a multi-queue TUN device's queue for a packet by the flows it has seen
    // written to each queue, else by hash: a flow's first packet upstream mid-download must not
    // move the rest of the download to another worker ahead of what the first worker still holds.
    // One flow at a time (a busy queue of the other worker's own would hide it); 8 flows, of which
    // about half hash to the queue of the worker that does not carry the session's upstream.
    const child = spawnLineChild(NS.lac, node, [lib("order-child"), ADDR.lnsL2tp, ADDR.lac, "dp-order2", PASSWORD]);
    cleanups.push(() => child.kill());
    const { address } = await child.next<{ address: string }>("up", 20_000);
    const flows = 8;
    const perFlow = 5000;
    let answers = 0;
    const seconds: number[] = [];
    for (let f = 0; f < flows; f++) {
      // From the sink address, which no host owns: the subscriber's answers are dropped there.
      const sender = spawnLineChild(NS.inet, "python3", ["-c", SEND_PY, ADDR.sink, address, String(6000 + f), "40003", String(perFlow), "1", "500"]);
      cleanups.push(() => sender.kill());
      await sender.next("sending", 10_000);
      child.send(`nudge ${ADDR.sink} ${6000 + f} 1 40003 100`);
      seconds.push(await sender.next<number>("sentSeconds", 20_000));
      answers += (await child.next<{ sent: number }>("nudged", 10_000)).sent;
    }
    child.send(`report 6000 ${flows} 40003 ${flows * perFlow}`);
    const down = await child.next<OrderSummary & { udpDrops: number; reorderedByFlow: number[] }>("report", 20_000);
    t.comment(`the internet host sent ${flows} flows of ${perFlow} segments, one after the other, in ${seconds.join(", ")} s; the subscriber answered ${answers} times from the 500th segment of each on`);
    t.comment(`received ${down.received}, ${down.distinct} distinct, lost ${flows * perFlow - down.distinct} (UDP drops at the LAC ${down.udpDrops}); reordered by flow ${JSON.stringify(down.reorderedByFlow)}`);
    t.equal(down.reordered, 0, `none reordered${down.examples.length > 0 ? ` (${down.examples.join(", ")})` : ""}`);
    t.equal(down.duplicates, 0, "no duplicates");
    t.ok(down.distinct >= 500, `${down.distinct} of ${flows * perFlow} arrived`);
    child.send("stop");
    await child.next("stopped", 10_000);
  });
}
