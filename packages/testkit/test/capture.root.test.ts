// Needs root (capturing on lo): the 1,000-call run captured with dumpcap and dissected by tshark.
// Every datagram must dissect as L2TP, none malformed, no expert error, and each call's ICRQ, ICRP,
// ICCN and CDN must be on the wire exactly once (retransmissions aside).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import { isRoot, LacSimulator, startCapture, summarizeL2tpCapture } from "../src/index.js";
import { sleep, startLns, until } from "./lib/lns.js";

const notRoot = isRoot() ? false : "capturing on lo needs root (files named *.root.test.ts run as root in CI)";

void t.test("a capture of the 1,000-call run dissects cleanly in tshark", { skip: notRoot }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "lnsd-testkit-capture-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const lns = await startLns({ stopCcnHoldMs: 500 });
  t.teardown(() => { lns.close(); });
  const file = join(dir, "run.pcapng");
  const capture = await startCapture({ iface: "lo", filter: `udp port ${lns.address.port}`, file });
  let stopped = false;
  t.teardown(async () => {
    if (!stopped) await capture.stop();
  });

  const sim = new LacSimulator({ lns: lns.address, tunnels: 10, sessionsPerTunnel: 100, bindAddress: "127.0.0.1", config: { stopCcnHoldMs: 500 } });
  t.teardown(() => { sim.close(); });
  await sim.start();
  t.ok(await sim.waitForAllUp(20_000), "every call up");
  t.ok(await until(() => lns.node.sessionCount === 1000 && lns.node.sessionsInSetupCount === 0, 10_000), "on the LNS too");
  t.ok(await sim.clearAll(10_000));
  t.ok(await sim.stopAll(10_000));
  const report = sim.report();
  await sleep(300);
  const stats = await capture.stop();
  stopped = true;
  t.equal(stats.dropped, 0, "dumpcap lost nothing");

  const started = performance.now();
  const s = await summarizeL2tpCapture(file, lns.address.port);
  t.comment(`tshark: ${s.frames} frames dissected in ${Math.round(performance.now() - started)} ms; messages ${JSON.stringify(s.messages)}; ${s.expertWarnings.length} expert warnings`);
  t.equal(s.frames, Object.values(s.messages).reduce((a, b) => a + b, 0), "every frame is a control message");
  t.same(s.notL2tp, [], "every datagram dissects as L2TP over UDP");
  t.same(s.malformed, [], "none malformed");
  t.same(s.expertErrors, [], "no expert error");
  t.equal(s.dataMessages, 0, "control messages only");
  for (const type of ["SCCRQ", "SCCRP", "SCCCN", "StopCCN"]) t.equal(s.distinctMessages[type], 10, `10 ${type}`);
  for (const type of ["ICRQ", "ICRP", "ICCN", "CDN"]) t.equal(s.distinctMessages[type], 1000, `1,000 ${type}`);
  // Retransmissions carry the same Ns: on a quiet loopback there are none, but count them honestly.
  const copies = ["ICRQ", "ICRP", "ICCN"].reduce((n, type) => n + (s.messages[type] ?? 0) - 1000, 0);
  t.ok(copies <= report.reliable.retransmitted + lnsRetransmitted(lns.node.tunnels.values()), "extra copies are retransmissions");
});

function lnsRetransmitted(tunnels: Iterable<{ transport: { counters: { retransmitted: number } } }>): number {
  let n = 0;
  for (const x of tunnels) n += x.transport.counters.retransmitted;
  return n;
}
