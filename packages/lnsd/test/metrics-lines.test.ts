// LnsdMetrics over fake sources: the sums, the totals that never go down, the worst lines.
import t from "tap";
import type { EchoStats, PppPhase } from "@lnsd/ppp";
import { LnsdMetrics, Logger, WORST_LINES, type MetricsSession } from "../src/index.js";
import { parseExposition, value } from "./lib/exposition.js";

interface FakeSession {
  tunnel: { localId: number };
  l2tp: { localId: number };
  ppp: { phase: PppPhase; echoStats: EchoStats };
  username: string;
  address: number | undefined;
  rxPackets: number;
  txPackets: number;
  rxOctets: number;
  txOctets: number;
}

function session(i: number, rttMs: number | undefined, lostOf32: number, phase: PppPhase = "network"): FakeSession {
  const recentLost = lostOf32 === 0 ? 0 : (2 ** lostOf32 - 1) >>> 0;
  return {
    tunnel: { localId: 1 },
    l2tp: { localId: i },
    ppp: { phase, echoStats: { sent: 32, replies: 32 - lostOf32, lost: lostOf32, lastRttMs: rttMs, recentLost, recentCount: 32 } },
    username: `user${i}`,
    address: phase === "network" ? 0x0a000000 + i : undefined,
    rxPackets: 10,
    txPackets: 20,
    rxOctets: 1000,
    txOctets: 2000,
  };
}

void t.test("sessions by state, traffic totals that survive a session's end, worst lines", async (t) => {
  const m = new LnsdMetrics({ defaultMetrics: false });
  const sessions: FakeSession[] = Array.from({ length: 20 }, (_, i) => session(i + 1, 5 + i, i % 7));
  sessions.push(session(100, undefined, 0, "authenticate"));
  const tunnels = new Map([[1, { state: "established" }], [2, { state: "closing" }]]);
  m.attach({
    sessions: (): Iterable<MetricsSession> => sessions,
    l2tp: () => ({ tunnels, sessionsInSetupCount: 3, counters: new Map([["bad-header", 7]]) }),
  });
  let s = parseExposition(await m.text());
  t.equal(value(s, "lnsd_tunnels", { state: "established" }), 1);
  t.equal(value(s, "lnsd_tunnels", { state: "closing" }), 1);
  t.equal(value(s, "lnsd_sessions", { state: "network" }), 20);
  t.equal(value(s, "lnsd_sessions", { state: "authenticate" }), 1);
  t.equal(value(s, "lnsd_sessions", { state: "l2tp-setup" }), 3);
  t.equal(value(s, "lnsd_sessions_online"), 20);
  t.equal(value(s, "lnsd_subscriber_packets_total", { direction: "rx" }), 210);
  t.equal(value(s, "lnsd_subscriber_bytes_total", { direction: "tx" }), 42000);
  t.equal(value(s, "lnsd_l2tp_drops_total", { reason: "bad-header" }), 7);

  // Worst RTT: sessions 20, 19, ... (rtt 24, 23, ... ms).
  const rtt = s.filter((x) => x.name === "lnsd_line_worst_echo_rtt_seconds");
  t.equal(rtt.length, WORST_LINES, "exactly N series");
  t.same(rtt.map((x) => [x.labels.rank, x.labels.user, x.labels.session, x.value]), [
    ["1", "user20", "1/20", 0.024],
    ["2", "user19", "1/19", 0.023],
    ["3", "user18", "1/18", 0.022],
    ["4", "user17", "1/17", 0.021],
    ["5", "user16", "1/16", 0.02],
  ]);
  // Worst loss: i % 7 == 6 loses 6 of 32 (sessions 7 and 14), then 5 of 32 (6, 13, 20), ...
  const loss = s.filter((x) => x.name === "lnsd_line_worst_echo_loss_ratio");
  t.equal(loss.length, WORST_LINES);
  t.same(loss.slice(0, 2).map((x) => x.value), [6 / 32, 6 / 32]);
  t.same(new Set(loss.slice(0, 2).map((x) => x.labels.user)), new Set(["user7", "user14"]));
  t.equal(loss[2]?.value, 5 / 32);

  // A session ends unseen between scrapes, another through sessionEnded(): the totals stay.
  const gone = sessions.splice(0, 2);
  const [first] = gone;
  if (first !== undefined) m.sessionEnded(first);
  s = parseExposition(await m.text());
  t.equal(value(s, "lnsd_subscriber_packets_total", { direction: "rx" }), 210, "no session's packets lost from the total");
  s = parseExposition(await m.text());
  t.equal(value(s, "lnsd_subscriber_packets_total", { direction: "rx" }), 210, "and not counted twice");
  const [next] = sessions;
  if (next !== undefined) next.rxPackets += 5;
  s = parseExposition(await m.text());
  t.equal(value(s, "lnsd_subscriber_packets_total", { direction: "rx" }), 215);
});

void t.test("echo samples, RADIUS round trips, CLI sessions, log reasons with a bounded count", async (t) => {
  const m = new LnsdMetrics({ defaultMetrics: false });
  m.observeEcho({ kind: "reply", rttMs: 12 });
  m.observeEcho({ kind: "reply", rttMs: 800 });
  m.observeEcho({ kind: "lost" });
  m.radiusEvent({ kind: "round-trip", request: "auth", server: "192.0.2.1:1812", rttMs: 30 });
  m.radiusEvent({ kind: "server-alive", server: "192.0.2.1:1812", cause: "reply" });
  m.setCliSessions(3);
  const logger = new Logger({ write: () => undefined }, 0);
  m.observeLogger(logger);
  for (let i = 0; i < 300; i++) logger.log("warn", `reason-${i}`, "x");
  logger.log("debug", "not-a-problem", "y");
  const s = parseExposition(await m.text());
  t.equal(value(s, "lnsd_lcp_echo_total", { outcome: "reply" }), 2);
  t.equal(value(s, "lnsd_lcp_echo_total", { outcome: "lost" }), 1);
  t.equal(value(s, "lnsd_lcp_echo_rtt_seconds_count"), 2);
  t.equal(value(s, "lnsd_lcp_echo_rtt_seconds_bucket", { le: "0.02" }), 1);
  t.equal(value(s, "lnsd_radius_round_trip_seconds_count", { request: "auth", server: "192.0.2.1:1812" }), 1);
  t.equal(value(s, "lnsd_cli_sessions"), 3);
  const reasons = s.filter((x) => x.name === "lnsd_log_events_total");
  t.equal(reasons.length, 201, "200 reasons by name, then other");
  t.equal(value(s, "lnsd_log_events_total", { level: "warn", reason: "other" }), 100);
  t.equal(value(s, "lnsd_log_events_total", { reason: "not-a-problem" }), undefined, "debug calls are not problems");
});
