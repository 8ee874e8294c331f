// Faults injected into each input handler of a running daemon (issue 11): an L2TP datagram whose
// handling throws, a timer that throws, RADIUS and DAE datagrams whose handler throws, a metrics
// scrape that throws. Each drops that one input, is counted by site and logged; the test LAC's
// tunnels and sessions stay up and keep answering; the control loop's lag is measured and a
// turn held up past 100 ms is logged with the handler that ran.
import t from "tap";
import { createSocket } from "node:dgram";
import { request } from "node:http";
import { defaultSettings } from "@lnsd/config";
import { epochMsOf, systemClock } from "@lnsd/io";
import { radiusUdp } from "@lnsd/radius";
import { LacSimulator } from "@lnsd/testkit";
import { AddressPool, Daemon, daemonSettingsFrom, LnsdMetrics, LocalAuthenticator, LocalSecrets, Logger, LoopWatch, serveMetrics, type Level, type LogSink } from "../src/index.js";

const ADDR = "127.0.37.1";

/** A logger that throws while armed: a fault deep inside whatever handler logs next. */
class TrapLogger extends Logger {
  armed = false;
  override log(level: Level, reason: string, message: string): void {
    if (this.armed && !reason.startsWith("handler-") && reason !== "control-loop-slow") {
      this.armed = false;
      throw new Error(`injected fault (${reason})`);
    }
    super.log(level, reason, message);
  }
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  for (let waited = 0; waited < ms && !cond(); waited += 20) await new Promise((r) => setTimeout(r, 20));
  return cond();
}

function sendUdp(to: { address: string; port: number }, packet: Buffer): Promise<void> {
  const s = createSocket("udp4");
  return new Promise((resolve) => {
    s.send(packet, to.port, to.address, () => {
      s.close();
      resolve();
    });
  });
}

void t.test("a fault in any handler drops that input only; sessions are untouched", async (t) => {
  const lines: string[] = [];
  const sink: LogSink = { write: (line) => { lines.push(line); } };
  const logger = new TrapLogger(sink, 4, Date.now, { burst: 1000, windowMs: 10_000 });
  const watch = new LoopWatch(logger);
  const metrics = new LnsdMetrics({ defaultMetrics: false });
  metrics.watchLoop(watch);
  watch.start();
  t.teardown(() => { watch.stop(); });

  const settings = daemonSettingsFrom({ ...defaultSettings(), bind_address: ADDR, l2tp_secret: "" });
  const daemon = await Daemon.start(settings, logger, {
    watch,
    pool: new AddressPool([]),
    auth: new LocalAuthenticator(new LocalSecrets({ entries: [] }, "lns")),
  });
  t.teardown(() => { daemon.stopKeepingSessions(); });
  const lac = new LacSimulator({ lns: { address: ADDR, port: 1701 }, bindAddress: "127.0.0.1", tunnels: 2, sessionsPerTunnel: 5, config: { helloIntervalMs: 200 } });
  t.teardown(() => { lac.close(); });
  await lac.start();
  t.ok(await lac.waitForAllUp(10_000), "10 sessions up");
  const before = lac.report();
  t.equal(before.sessions.established, 10);

  // L2TP: a datagram whose handling throws half-way (in the logger the node calls).
  logger.armed = true;
  await sendUdp({ address: ADDR, port: 1701 }, Buffer.from([0xc8, 0x02, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]));
  t.ok(await until(() => (watch.errors.get("l2tp") ?? 0) === 1, 3000), "the L2TP fault is counted under l2tp");
  logger.armed = false;

  // A timer that throws.
  watch.clock(systemClock).setTimeout(() => { throw new Error("injected timer fault"); }, 1);
  t.ok(await until(() => (watch.errors.get("timer") ?? 0) === 1, 3000), "the timer fault is counted under timer");

  // RADIUS replies and DAE requests: a handler that throws on the first datagram, then works.
  for (const site of ["radius", "dae"] as const) {
    const sock = await watch.udp(radiusUdp, site).bind("127.0.0.1", 0);
    let handled = 0;
    sock.onMessage(() => {
      handled++;
      if (handled === 1) throw new Error(`injected ${site} fault`);
    });
    await sendUdp(sock.local, Buffer.from("first"));
    await sendUdp(sock.local, Buffer.from("second"));
    t.ok(await until(() => handled === 2, 3000), `${site}: the next datagram is handled`);
    t.equal(watch.errors.get(site), 1, `${site}: the fault is counted`);
    sock.close();
  }

  // A rejected promise from a handler is contained as well.
  void watch.call("dae", () => Promise.reject(new Error("injected async fault")));
  t.ok(await until(() => watch.errors.get("dae") === 2, 3000), "an async fault is counted");

  // The metrics listener: a scrape whose collection throws gets a 500; the next one works.
  const http = await serveMetrics(metrics, "127.0.0.1", 0);
  t.teardown(() => http.close());
  let explode = true;
  metrics.attach({ sessions: () => { if (explode) { explode = false; throw new Error("injected scrape fault"); } return daemon.sessions.all(); } });
  const scrape = (): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port: http.port, path: "/metrics" }, (res) => {
        let body = "";
        res.on("data", (d: Buffer) => (body += d.toString()));
        res.on("end", () => { resolve({ status: res.statusCode ?? 0, body }); });
      });
      req.on("error", reject);
      req.end();
    });
  t.equal((await scrape()).status, 500, "the faulty scrape is answered 500");
  const ok = await scrape();
  t.equal(ok.status, 200, "the next scrape works");
  t.match(ok.body, /lnsd_handler_errors_total\{site="l2tp"\} 1/);
  t.match(ok.body, /lnsd_event_loop_lag_seconds_bucket/);

  // A turn held up for 150 ms is logged with what ran.
  watch.clock(systemClock).setTimeout(() => { const end = performance.now() + 150; while (performance.now() < end) { /* busy */ } }, 1);
  t.ok(await until(() => lines.some((l) => l.includes("control loop held up")), 3000), "the slow turn is logged");
  t.match(lines.find((l) => l.includes("control loop held up")) ?? "", /longest handler was timer, 1\d\d ms/);

  // Everything the LAC had is still there and still answering HELLO.
  await new Promise((r) => setTimeout(r, 700));
  const after = lac.report();
  t.equal(after.sessions.established, 10, "every session still up");
  t.equal(after.tunnels.established, 2, "every tunnel still up");
  t.match(lines.join("\n"), /l2tp: one input dropped after an internal error: injected fault/);
});

void t.test("the watched clock keeps the system clock's wall clock (records hold epoch times, not process time)", (t) => {
  const watch = new LoopWatch(new Logger({ write: () => undefined }, 0));
  const watched = watch.clock(systemClock);
  const epoch = epochMsOf(watched)();
  t.ok(Math.abs(epoch - Date.now()) < 1000, `epoch ${String(epoch)} is Date.now()`);
  t.ok(Math.abs(watched.now() - performance.now()) < 1000, "now() is still the monotonic clock");
  t.end();
});
