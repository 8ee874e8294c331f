// The test LAC of the restart test (issue 13), in the LAC's namespace: tunnels x sessions logged in,
// then every session pings the target each INTERVAL_MS without pause, sends LCP Echo-Requests each
// ECHO_MS and every tunnel a HELLO after HELLO_MS without a control message from the LNS; what the
// LNS sends is watched on the wire (lib/lac-probe.ts, shared with cluster-lac-child). The test cuts the run in phases ("phase NAME" as it stops lnsd) and asks for each
// phase's account ("report NAME AFTER SETTLED", epoch ms: replies, losses, who answered again after
// AFTER, what was lost from SETTLED on). Commands: "go", "phase NAME", "report ...", "end" (pinging stops), "clear" (CDN on
// every call), "stop" (StopCCN on every tunnel, exit). Says {"online"}, {"phased"}, {"report"},
// {"ended"}, {"cleared"}, {"stopped"}.
// Arguments: LNS address, local address, target, tunnels, sessions per tunnel, user prefix,
// password, INTERVAL_MS, ECHO_MS, HELLO_MS.
import { emit, udpDrops } from "./child-io.js";
import { lacProbeArgs, LATE_MS, spread, startLacProbe } from "./lac-probe.js";

const probe = await startLacProbe(lacProbeArgs(process.argv.slice(2), "rst"));
const { sim, lines, hellos, dropTimes } = probe;

/** Phases by name, each from its start (epoch ms) to the next one's. */
const phases: { readonly name: string; readonly from: number; readonly drops: number }[] = [];

/**
 * A phase's account. `after` (epoch ms): lnsd started again; what answered after it. Pings sent
 * from `settled` (epoch ms) on must all be answered; those sent between a session's first reply
 * and then may meet the burst of requests lnsd's socket held while it started (counted apart).
 */
function report(name: string, after: number, settled: number): unknown {
  const at = phases.findIndex((p) => p.name === name);
  const from = phases[at]?.from ?? 0;
  const to = phases[at + 1]?.from ?? Number.POSITIVE_INFINITY;
  const within = (t: number): boolean => t >= from && t < to;
  let sent = 0;
  let answered = 0;
  let lostSettling = 0;
  let lostSettled = 0;
  /** Replies to requests held for more than LATE_MS, and the longest round trip. */
  let late = 0;
  let maxRttMs = 0;
  const lostPerSession: number[] = [];
  const firstReplyAfter: number[] = [];
  const echoRepliedAfter: number[] = [];
  const lossy: string[] = [];
  for (const line of lines) {
    let lost = 0;
    let first = Number.POSITIVE_INFINITY;
    for (let seq = 0; seq < line.sentAt.length; seq++) {
      const s = line.sentAt[seq] ?? 0;
      const r = line.repliedAt[seq] ?? Number.NaN;
      if (!within(s)) continue;
      sent++;
      if (Number.isNaN(r)) {
        lost++;
        continue;
      }
      answered++;
      if (r >= after) first = Math.min(first, r);
      if (r - s > LATE_MS) late++;
      maxRttMs = Math.max(maxRttMs, r - s);
    }
    for (let seq = 0; seq < line.sentAt.length; seq++) {
      const s = line.sentAt[seq] ?? 0;
      if (!within(s) || !Number.isNaN(line.repliedAt[seq] ?? Number.NaN)) continue;
      if (s >= settled) {
        lostSettled++;
        if (lossy.length < 10) lossy.push(`session ${line.index} seq ${seq} sent ${s - settled} ms after the settling time`);
      } else if (s > first) lostSettling++;
    }
    lostPerSession.push(lost);
    if (Number.isFinite(first)) firstReplyAfter.push(first);
    const echoAfter = line.echoReplies.filter((t) => within(t) && t >= after);
    if (echoAfter.length > 0) echoRepliedAfter.push(Math.min(...echoAfter));
  }
  const hellosIn = [...hellos.values()].filter((h) => within(h.sentAt));
  const tunnelsAcked = new Set([...hellos.values()].filter((h) => h.ackedAt !== undefined && within(h.ackedAt) && h.ackedAt >= after).map((h) => h.tunnel));
  return {
    name,
    from,
    sent,
    answered,
    lost: sent - answered,
    lostPerSession: spread(lostPerSession),
    sessionsAnsweredAfter: firstReplyAfter.length,
    firstReplyAfter: spread(firstReplyAfter),
    lostSettling,
    lostSettled,
    lossy,
    late,
    maxRttMs,
    echoRepliesInPhase: lines.reduce((n, l) => n + l.echoReplies.filter(within).length, 0),
    echoLostInPhase: lines.reduce((n, l) => n + l.echoLost.filter(within).length, 0),
    sessionsEchoAnsweredAfter: echoRepliedAfter.length,
    echoAnsweredAfter: spread(echoRepliedAfter),
    hellosSent: hellosIn.length,
    hellosAcked: hellosIn.filter((h) => h.ackedAt !== undefined).length,
    tunnelsHelloAckedAfter: tunnelsAcked.size,
    hellos: hellosIn.map((h) => `${h.tunnel}/${h.ns} +${h.sentAt - from}${h.ackedAt === undefined ? "" : ` acked +${h.ackedAt - from}`}`),
    /** Replies the kernel dropped at the LAC's socket (its receive buffer full). */
    lacDropTimes: dropTimes.filter(([at]) => within(at)).map(([at, n]) => `+${at - from}:${n}`),
    lacUdpDrops: (phases[at + 1]?.drops ?? udpDrops(sim.local.port)) - (phases[at]?.drops ?? 0),
  };
}

probe.serve(async (words) => {
  switch (words[0]) {
    case "go":
      phases.push({ name: "before", from: Date.now(), drops: udpDrops(sim.local.port) });
      probe.go();
      return true;
    case "phase": {
      const from = Date.now();
      phases.push({ name: words[1] ?? "?", from, drops: udpDrops(sim.local.port) });
      emit("phased", from);
      return true;
    }
    case "report":
      emit("report", report(words[1] ?? "", Number(words[2] ?? "0"), Number(words[3] ?? "0")));
      return true;
    case "end": {
      probe.end();
      // The last requests' replies.
      await new Promise((r) => setTimeout(r, LATE_MS));
      phases.push({ name: "end", from: Date.now(), drops: udpDrops(sim.local.port) });
      const r = sim.report();
      emit("ended", {
        stillOnline: probe.logins.stats.online.size,
        callsDown: r.sessions.down,
        tunnelsUp: r.tunnels.up,
        tunnelsEstablished: r.tunnels.established,
        ...probe.standing(),
        pingsPerSession: spread(lines.map((l) => l.sentAt.length)),
        repliesPerSession: spread(lines.map((l) => l.repliedAt.filter((at) => !Number.isNaN(at)).length)),
        retransmitted: r.reliable.retransmitted,
        udpDrops: udpDrops(sim.local.port),
      });
      return true;
    }
    default:
      return false;
  }
});
