#!/usr/bin/env node
// Entry point of the `lac` command: runs the LAC simulator against an LNS, keeps the calls up for
// a while, clears them (CDN) and the tunnels (StopCCN), and prints the report. Exit status 0 when
// every call came up, 1 when some did not, 2 on a usage error.
import { lookup } from "node:dns/promises";
import { buildIcmpEcho, decodeIpv4Header, parseIpv4 } from "@lnsd/wire";
import { formatReport, LAC_USAGE, LacSimulator, parseLacArgs, pppLogins, type LacCall, type LacCommand, type PppLogins } from "../index.js";

/** Echo replies per session, with the time each request went out. */
const pings = new Map<LacCall, { address: number; sentAt: number; replies: number; rttMs: number; others: number }>();

/** An IPv4 ICMP Echo Reply on a session (RFC 792): counted if it answers that session's address. */
function pingReply(call: LacCall, protocol: number, payload: Uint8Array): void {
  const p = pings.get(call);
  const h = decodeIpv4Header(payload);
  if (p === undefined || protocol !== 0x0021 || !h.ok || h.value.protocol !== 1 || payload[h.value.headerLength] !== 0) return;
  // A reply to another session's address on this one would be cross-talk.
  if (h.value.dst !== p.address) {
    p.others++;
    return;
  }
  p.replies++;
  p.rttMs = performance.now() - p.sentAt;
}

async function pingAll(ppp: PppLogins, target: string): Promise<string> {
  const dst = parseIpv4(target) ?? 0;
  let seq = 0;
  for (const [call, info] of ppp.stats.online) {
    const src = parseIpv4(info.address) ?? 0;
    pings.set(call, { address: src, sentAt: performance.now(), replies: 0, rttMs: 0, others: 0 });
    ppp.send(call, 0x0021, buildIcmpEcho({ src, dst, identifier: 0x4c4e, sequence: ++seq, data: Buffer.from("lnsd demo ping") }));
  }
  const deadline = Date.now() + 3000;
  while (Date.now() < deadline && [...pings.values()].some((p) => p.replies === 0)) await sleep(20);
  const answered = [...pings.values()].filter((p) => p.replies > 0);
  const avg = answered.reduce((a, p) => a + p.rttMs, 0) / Math.max(1, answered.length);
  const others = [...pings.values()].reduce((a, p) => a + p.others, 0);
  return `lac: ping ${target}: ${answered.length}/${pings.size} sessions got their reply through the tunnel (average ${avg.toFixed(1)} ms)${others > 0 ? `; ${others} replies arrived on the wrong session` : ""}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves on SIGINT or SIGTERM (or after ms, when given). */
function interruptible(ms: number | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      process.off("SIGINT", done);
      process.off("SIGTERM", done);
      clearTimeout(timer);
      resolve();
    };
    const timer = ms === undefined ? undefined : setTimeout(done, ms);
    process.once("SIGINT", done);
    process.once("SIGTERM", done);
  });
}

async function run(cmd: LacCommand): Promise<number> {
  const { address } = await lookup(cmd.lns.host);
  // Times from just before the first SCCRQ goes out; lastPppUpMs: when the latest IPCP came up.
  let t0 = performance.now();
  let lastPppUpMs: number | undefined;
  const ppp = cmd.ppp === undefined ? undefined : pppLogins({
    username: (t, s) => cmd.ppp?.user.replace(/%t/g, String(t)).replace(/%s/g, String(s)) ?? "",
    password: cmd.ppp.password,
    onUp: () => { lastPppUpMs = performance.now() - t0; },
    onPacket: (call, protocol, payload) => { pingReply(call, protocol, payload); },
  });
  let pppAllOnlineMs: number | undefined;
  const sim = new LacSimulator({
    ...(ppp === undefined ? {} : { calls: ppp.handler }),
    lns: { address, port: cmd.lns.port },
    tunnels: cmd.tunnels,
    sessionsPerTunnel: cmd.sessions,
    ...(cmd.secret === undefined ? {} : { secret: cmd.secret }),
    ...(cmd.bindAddress === undefined ? {} : { bindAddress: cmd.bindAddress }),
    ...(cmd.maxCallsInSetup === undefined ? {} : { maxCallsInSetup: cmd.maxCallsInSetup }),
    ...(cmd.impairment === undefined ? {} : { impairment: cmd.impairment }),
    ...(cmd.seed === undefined ? {} : { seed: cmd.seed }),
    ...(cmd.verbose ? { log: (level: string, reason: string, message: string) => { console.error(`lac: ${level} ${reason}: ${message}`); } } : {}),
  });
  t0 = performance.now();
  await sim.start();
  console.error(`lac: ${cmd.tunnels} tunnels x ${cmd.sessions} calls from ${sim.local.address}:${sim.local.port} to ${address}:${cmd.lns.port}`);
  const allUp = await Promise.race([sim.waitForAllUp(cmd.timeoutMs), interruptible(undefined).then(() => false)]);
  const upReport = sim.report();
  console.error(`lac: ${allUp ? "all up" : "not all up"}: ${upReport.sessions.established}/${upReport.sessions.requested} calls, ${upReport.tunnels.established}/${upReport.tunnels.requested} tunnels`);
  if (allUp && ppp !== undefined) {
    // L2TP is up; now PPP: LCP, authentication, IPCP.
    const deadline = Date.now() + cmd.timeoutMs;
    while (Date.now() < deadline && ppp.stats.online.size + [...ppp.stats.failures.values()].reduce((a, b) => a + b, 0) < upReport.sessions.established) await sleep(50);
    const online = [...ppp.stats.online.values()];
    const addrs = online.map((i) => i.address);
    const failures = [...ppp.stats.failures].map(([k, v]) => `${k} ${v}`).join(", ");
    console.error(`lac: PPP online: ${online.length}/${upReport.sessions.established} sessions, ${new Set(addrs).size} distinct addresses${addrs.length > 0 ? ` (${addrs.slice(0, 3).join(", ")}${addrs.length > 3 ? ", ..." : ""})` : ""}${failures === "" ? "" : `; failed: ${failures}`}`);
    if (online.length === upReport.sessions.requested && lastPppUpMs !== undefined) {
      pppAllOnlineMs = lastPppUpMs;
      console.error(`lac: PPP all online after ${pppAllOnlineMs.toFixed(1)} ms: ${online.length} sessions, ${(online.length / (pppAllOnlineMs / 1000)).toFixed(1)} sessions/s`);
    }
    if (online[0] !== undefined) console.error(`lac: first session: address ${online[0].address}, DNS ${online[0].primaryDns ?? "-"} / ${online[0].secondaryDns ?? "-"}, LNS ${online[0].peerAddress ?? "-"}, MRU ${online[0].peerMru}`);
    if (cmd.ping !== undefined) console.error(await pingAll(ppp, cmd.ping));
  }
  if (allUp && cmd.holdMs !== 0) {
    console.error(cmd.holdMs === "forever" ? "lac: holding the calls until SIGINT" : `lac: holding the calls for ${cmd.holdMs / 1000} s`);
    await interruptible(cmd.holdMs === "forever" ? undefined : cmd.holdMs);
  }
  await sim.clearAll();
  await sim.stopAll();
  // Give the LNS's acknowledgements of the StopCCNs a moment, then go: RFC 2661 5.7's hold time
  // only matters to a LAC that stays around.
  await sleep(100);
  sim.close();
  const report = sim.report();
  const pppReport = ppp === undefined ? undefined : { allOnlineMs: pppAllOnlineMs, failures: Object.fromEntries(ppp.stats.failures) };
  console.log(cmd.json ? JSON.stringify(pppReport === undefined ? report : { ...report, ppp: pppReport }, null, 2) : formatReport(report));
  return allUp ? 0 : 1;
}

const parsed = parseLacArgs(process.argv.slice(2));
if (parsed.ok === "help") {
  console.log(LAC_USAGE);
} else if (!parsed.ok) {
  console.error(`lac: ${parsed.message}\n${LAC_USAGE}`);
  process.exitCode = 2;
} else {
  try {
    process.exitCode = await run(parsed.command);
  } catch (e) {
    console.error(`lac: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  }
}
